"""Bad-input corpus: every case is a corrupted copy of a real file of the data mirror.

Each case builds a mirror in a temporary folder (the corrupted file is a real copy, every
other file a symlink to ../shared/data), runs the CLI and checks that it stops with ONE
clear message naming the dataset, the file, the column or line, and what to do - exit code
2 (a :class:`~leftbehind.errors.LeftbehindError`), never a traceback, never an "internal
error", and no output file.
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from leftbehind.cli import app

F2 = "imd2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
CNI19 = "cni/community-needs-index-england_ward17_225LBA_2020update.csv"
CNI23 = "cni/cni2023_england_lsoa21_raw.csv"
IOD25 = "iod2025/imd2025_england_lsoa21_scores_ranks_deciles.csv"

#: the spec that reads each file, and its dataset id
SPEC_OF = {
    F2: ("imd2019", "imd2019_file2"),
    CNI19: ("cni2019", "cni2019_wards"),
    CNI23: ("cni2023", "cni2023_lsoa21"),
    IOD25: ("iod2025_imd", "iod2025_scores"),
}

FIX = "How to fix:"
USER_ERROR = 2  # LeftbehindError.exit_code

runner = CliRunner()

# ------------------------------------------------------------------ corruption helpers


def read_bytes(path: Path) -> bytes:
    """The file's content, unzipped if its name ends in .gz."""
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.name.endswith(".gz") else raw


def write_bytes(path: Path, data: bytes) -> None:
    """Write content back, gzipped if the name ends in .gz."""
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)


def edit_lines(path: Path, edit: Callable[[list[str]], None]) -> None:
    """Edit the text as a list of lines (line 1 = header, BOM kept), keeping its line ending."""
    text = read_bytes(path).decode("utf-8")
    nl = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(nl)
    edit(lines)
    write_bytes(path, nl.join(lines).encode("utf-8"))


def _row(line: str) -> list[str]:
    return next(csv.reader([line]))


def _unrow(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    return buf.getvalue()


def set_cell(line_no: int, heading: str, value: str) -> Callable[[Path, Path], None]:
    """Set one cell: ``line_no`` counts the header as line 1; ``heading`` as in the file."""

    def corrupt(path: Path, shared: Path) -> None:
        def edit(lines: list[str]) -> None:
            col = _row(lines[0].lstrip("\ufeff")).index(heading)
            cells = _row(lines[line_no - 1])
            cells[col] = value
            lines[line_no - 1] = _unrow(cells)

        edit_lines(path, edit)

    return corrupt


def lines(edit: Callable[[list[str]], None]) -> Callable[[Path, Path], None]:
    return lambda path, shared: edit_lines(path, edit)


def read_frame(path: Path) -> pd.DataFrame:
    text = read_bytes(path).decode("utf-8-sig")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def write_frame(path: Path, df: pd.DataFrame) -> None:
    bom = "\ufeff" if read_bytes(path).startswith(b"\xef\xbb\xbf") else ""
    write_bytes(path, (bom + df.to_csv(index=False)).encode("utf-8"))


def frame(edit: Callable[[pd.DataFrame, Path], pd.DataFrame]) -> Callable[[Path, Path], None]:
    """Edit the table with pandas (all text); ``edit`` also gets the real mirror folder."""
    return lambda path, shared: write_frame(path, edit(read_frame(path), shared))


def codes_of(shared: Path, rel: str, heading: str) -> list[str]:
    return read_frame(shared / rel)[heading].tolist()


def lsoa21_codes_in_lsoa11_file(df: pd.DataFrame, shared: Path) -> pd.DataFrame:
    """File 2 keeps its 32,844 rows, but its codes are the last 32,844 codes of IoD2025 (LSOA 2021)."""
    codes = codes_of(shared, IOD25, "lsoa21_code")[-len(df) :]
    assert sum(int(c[3:]) > 33_768 for c in codes) > 1_000  # LSOA 2021-only codes are among them
    df["LSOA code (2011)"] = codes
    return df


def lsoa11_codes_in_lsoa21_file(code_heading: str):
    """An LSOA 2021 table cut to 32,844 rows carrying File 2's LSOA 2011 codes (the 2011-based edition)."""

    def edit(df: pd.DataFrame, shared: Path) -> pd.DataFrame:
        codes = codes_of(shared, F2, "LSOA code (2011)")
        df = df.head(len(codes)).copy()
        df[code_heading] = codes
        return df

    return edit


def duplicate_line(src: int, dst: int):
    """Line ``dst`` becomes a copy of line ``src``: the row count stays the same."""

    def edit(ls: list[str]) -> None:
        ls[dst - 1] = ls[src - 1]

    return edit


def replace_code(line_no: int, code: str):
    def edit(ls: list[str]) -> None:
        cells = _row(ls[line_no - 1])
        cells[0] = code
        ls[line_no - 1] = _unrow(cells)

    return edit


def keep_lines(n: int):
    def edit(ls: list[str]) -> None:
        del ls[n:]
        ls.append("")  # end with a newline

    return edit


def header_only(ls: list[str]) -> None:
    del ls[1:]


def extra_field(line_no: int):
    def edit(ls: list[str]) -> None:
        ls[line_no - 1] += ",42"

    return edit


def truncate_bytes(path: Path, shared: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def empty(path: Path, shared: Path) -> None:
    path.write_bytes(b"")


def utf16(path: Path, shared: Path) -> None:
    write_bytes(path, read_bytes(path).decode("utf-8").encode("utf-16"))


def binary_junk(path: Path, shared: Path) -> None:
    """Binary bytes under a .csv name: the (gzipped) IoD2019 File 2."""
    path.write_bytes((shared / F2).read_bytes())


def plain_text_under_gz_name(path: Path, shared: Path) -> None:
    path.write_bytes(read_bytes(path))


def latin1_byte_at_line(line_no: int):
    """One accented letter saved as Latin-1 (é = 0xE9) in the ward name of ``line_no``."""

    def corrupt(path: Path, shared: Path) -> None:
        raw = read_bytes(path)
        start = 0
        for _ in range(line_no - 1):
            start = raw.index(b"\n", start) + 1
        name_at = raw.index(b",", start) + 1  # the second field: the ward name
        write_bytes(path, raw[:name_at] + b"\xe9" + raw[name_at:])

    return corrupt


# ------------------------------------------------------------------ the corpus

# (file, corruption, fragments the message must contain). Every message must also name the
# dataset id and the file, and carry a "How to fix" hint: that is checked for every case.
CASES = [
    pytest.param(
        F2,
        frame(lambda df, shared: df.drop(columns=["Crime Rank (where 1 is most deprived)"])),
        ["missing or renamed column(s): crime_rank", "restore the original headings"],
        id="missing-column-crime-rank",
    ),
    pytest.param(
        CNI19,
        lines(lambda ls: ls.__setitem__(0, ls[0].replace("Connectedness rank", "Connectivity rank"))),
        ["missing or renamed column(s): connectedness_rank", "'Connectivity rank'"],
        id="renamed-column-connectedness-rank",
    ),
    pytest.param(
        CNI19,
        lines(lambda ls: ls.__setitem__(0, ls[0].replace("Connectedness rank", "Civic Assets rank"))),
        ["the heading 'Civic Assets rank' appears more than once", "remove the duplicate column"],
        id="duplicated-heading",
    ),
    pytest.param(
        F2,
        lines(duplicate_line(51, 101)),  # 32,844 rows still: line 101's area is gone, line 51's twice
        ["column lsoa11cd: duplicated code 'E01000053' at lines 51, 101", "each area must appear once"],
        id="duplicated-code",
    ),
    pytest.param(
        F2,
        lines(replace_code(201, "E0100001")),
        ["column lsoa11cd: malformed code 'E0100001' at line 201", "9-character GSS codes"],
        id="malformed-code-too-short",
    ),
    pytest.param(
        F2,
        lines(replace_code(201, "X01000001")),
        ["column lsoa11cd: malformed code 'X01000001' at line 201", "expected pattern ^E01"],
        id="malformed-code-wrong-prefix",
    ),
    pytest.param(
        F2,
        set_cell(7, "LSOA code (2011)", ""),
        ["column lsoa11cd: blank value at line 7", "restore the original"],
        id="blank-code",
    ),
    pytest.param(
        CNI19,
        lines(keep_lines(5_000)),
        ["expected 7,433 data rows, found 4,999", "truncated or filtered", "restore the complete file"],
        id="truncated-plain-csv",
    ),
    pytest.param(
        F2,
        truncate_bytes,
        ["the file is truncated or not valid gzip", "re-download or restore the file"],
        id="truncated-gzip",
    ),
    pytest.param(
        F2,
        frame(lsoa21_codes_in_lsoa11_file),
        [
            "column lsoa11cd: 1,945 codes are LSOA 2021 codes",
            "'E01033769' at lines 30,901",
            "this dataset is at LSOA 2011",
            "LSOA11->LSOA21 lookup",
        ],
        id="lsoa21-codes-in-lsoa11-dataset",
    ),
    pytest.param(
        IOD25,
        frame(lsoa11_codes_in_lsoa21_file("lsoa21_code")),
        [
            "column lsoa21cd: no LSOA 2021-only code",
            "these look like LSOA 2011 codes",
            "this dataset is at LSOA 2021",
            "use the 2021-based edition",
        ],
        id="lsoa11-codes-in-lsoa21-dataset-iod2025",
    ),
    pytest.param(
        CNI23,
        frame(lsoa11_codes_in_lsoa21_file("lsoa21_code")),
        ["column lsoa21cd: no LSOA 2021-only code", "these look like LSOA 2011 codes"],
        id="lsoa11-codes-in-lsoa21-dataset-cni2023",
    ),
    pytest.param(
        F2,
        set_cell(301, "Income Rank (where 1 is most deprived)", "n/a!"),
        ["column income_rank: non-numeric value 'n/a!' at line 301", "suppressed values must be blank"],
        id="non-numeric-rank",
    ),
    pytest.param(
        F2,
        set_cell(301, "Income Rank (where 1 is most deprived)", "[/]"),  # not read as rich markup
        ["column income_rank: non-numeric value '[/]' at line 301"],
        id="non-numeric-value-that-looks-like-markup",
    ),
    pytest.param(
        F2,
        set_cell(301, "Income Rank (where 1 is most deprived)", "123.5"),
        ["column income_rank: expected whole numbers, found 123.5 at line 301"],
        id="fractional-rank",
    ),
    pytest.param(
        F2,
        set_cell(301, "Income Rank (where 1 is most deprived)", "99999"),
        ["column income_rank: value 99999 outside [1, 32844] at line 301", "restore the original values"],
        id="out-of-range-rank",
    ),
    pytest.param(
        CNI19,
        set_cell(301, "Civic Assets rank", "4863"),  # the rank of line 302
        ["column civic_assets_rank: rank 4863 appears more than once (lines 301, 302)", "without ties"],
        id="tied-rank-in-unique-rank-column",
    ),
    pytest.param(
        CNI19,
        set_cell(301, "Community Needs Index score", ""),
        ["column cni_score: blank or suppressed value at line 301", "must be complete"],
        id="blank-cni-score",
    ),
    pytest.param(
        CNI19,
        set_cell(301, "Left Behind Area?", "maybe"),
        ["column left_behind_2020: expected TRUE/FALSE, found 'maybe' at line 301"],
        id="not-a-boolean-flag",
    ),
    pytest.param(
        F2,
        lines(extra_field(302)),
        ["the file is not a well-formed CSV", "Expected 20 fields in line 302, saw 21)"],
        id="row-with-extra-field",
    ),
    pytest.param(CNI19, empty, ["the file is empty", "restore the original file"], id="empty-file"),
    pytest.param(F2, empty, ["the file is empty"], id="empty-gz-file"),
    pytest.param(
        F2,
        lines(header_only),
        ["expected 32,844 data rows, found 0", "restore the complete file"],
        id="header-only",
    ),
    pytest.param(
        F2,
        utf16,
        [
            "the file is not UTF-8 text (invalid start byte at line 1, byte 0 of the unzipped text)",
            "save it as UTF-8 CSV",
        ],
        id="utf16-text",
    ),
    pytest.param(
        CNI19,
        latin1_byte_at_line(4_152),
        ["the file is not UTF-8 text (invalid continuation byte at line 4,152,"],
        id="latin1-byte-deep-in-file",
    ),
    pytest.param(
        CNI19,
        binary_junk,
        ["the file is not UTF-8 text (invalid start byte at line 1, byte 1)"],
        id="binary-junk",
    ),
    pytest.param(
        F2,
        plain_text_under_gz_name,
        ["the file is truncated or not valid gzip (Not a gzipped file"],
        id="not-gzipped",
    ),
]


def invoke(args: list[str]):
    res = runner.invoke(app, args)
    assert "Traceback" not in res.output, res.output
    assert "internal error" not in res.output, res.output
    # every failure is a clean exit, not an exception escaping the command
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res


def assert_clean_failure(res, out: Path, *fragments: str, code: int = USER_ERROR) -> None:
    assert res.exit_code == code, res.output
    for fragment in fragments:
        assert fragment in res.output, f"{fragment!r} not in:\n{res.output}"
    assert res.stderr.startswith("error: "), res.stderr  # the message goes to stderr
    stderr_lines = res.stderr.splitlines()
    assert sum(ln.startswith("error: ") for ln in stderr_lines) == 1, res.stderr  # one message...
    assert sum(ln.startswith(f"  {FIX}") for ln in stderr_lines) == 1, res.stderr  # ...with one hint
    assert not out.exists(), "the output file must not be written"
    assert not list(out.parent.glob(f".{out.name}.*")), "no temporary output may be left behind"


def build_args(spec: str, out: Path, mirror: Path, *, verify: bool = False) -> list[str]:
    return ["index", "build", spec, "--out", str(out), "--data", str(mirror), *([] if verify else ["--no-verify"])]


@pytest.mark.parametrize(("rel", "corrupt", "fragments"), CASES)
def test_corrupt_file_gives_one_clear_message(rel, corrupt, fragments, mirror_factory, shared_data, tmp_path):
    spec, dataset = SPEC_OF[rel]
    mirror = mirror_factory(rel)
    target = mirror / rel
    assert not target.is_symlink()
    corrupt(target, shared_data)
    out = tmp_path / "o.csv"
    res = invoke(build_args(spec, out, mirror))
    assert_clean_failure(res, out, f"dataset {dataset} ({target}): ", FIX, *fragments)


def test_missing_file_names_the_dataset_and_how_to_supply_it(mirror_factory, tmp_path):
    mirror = mirror_factory(F2)
    (mirror / F2).unlink()
    out = tmp_path / "o.csv"
    res = invoke(build_args("imd2019", out, mirror))
    assert_clean_failure(
        res,
        out,
        "dataset imd2019_file2 (English Indices of Deprivation 2019: File 2",
        "is not available locally",
        f"{FIX} place {F2} under a folder passed with --data",
    )


def test_one_changed_byte_is_a_checksum_mismatch(mirror_factory, tmp_path):
    mirror = mirror_factory(CNI19)
    # one digit of one score: the file still parses, only the checksum can tell
    set_cell(2, "Civic Assets score", "16.27958106994628")(mirror / CNI19, mirror)
    out = tmp_path / "o.csv"
    res = invoke(build_args("cni2019", out, mirror, verify=True))
    assert_clean_failure(
        res,
        out,
        f"dataset cni2019_wards: checksum mismatch for {mirror / CNI19}",
        "catalogue expects 0ad482264136",
        f"{FIX} restore the original file",
        "--no-verify",
    )


# ------------------------------------------------------------------ bad index specs


def _spec_file(tmp_path: Path, edit: Callable[[dict], None]) -> Path:
    spec = yaml.safe_load(resources.files("leftbehind.indices").joinpath("specs", "imd2019.yaml").read_text("utf-8"))
    edit(spec)
    path = tmp_path / "my_index.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _set_component(i: int, key: str, value) -> Callable[[dict], None]:
    return lambda spec: spec["components"][i].__setitem__(key, value)


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        pytest.param(
            _set_component(0, "weight", 0.5),
            ["is invalid", "weights add up to 1.274, not 0.999", "income=0.5", f"{FIX} see the shipped specs"],
            id="weights-do-not-add-up",
        ),
        pytest.param(
            _set_component(4, "transform", "log_rank"),
            ["is invalid", "component 'crime' (components.4.transform)", "'exp_rank', 'exp_score'"],
            id="unknown-transform",
        ),
        pytest.param(
            _set_component(1, "wieght", 0.225),
            ["component 'employment' (components.1.wieght): Extra inputs are not permitted"],
            id="misspelt-key",
        ),
        pytest.param(
            _set_component(4, "column", "crime_score"),
            [
                "index imd2019: the input table imd2019_file2 has no column crime_score (component crime)",
                f"{FIX} use one of the columns of imd2019_file2: lsoa11cd",
                "crime_rank",
            ],
            id="component-column-absent-from-dataset",
        ),
        pytest.param(
            lambda spec: spec.__setitem__("source", "imd2019_file99"),
            ["unknown dataset id 'imd2019_file99'", "imd2019_file2"],
            id="unknown-source-dataset",
        ),
    ],
)
def test_bad_spec_file_gives_one_clear_message(edit, fragments, mirror_factory, tmp_path):
    mirror = mirror_factory()
    spec = _spec_file(tmp_path, edit)
    out = tmp_path / "o.csv"
    res = invoke(build_args(str(spec), out, mirror))
    assert_clean_failure(res, out, *fragments)
    if "is invalid" in fragments:
        assert f"index spec {spec} is invalid" in res.output


def test_spec_file_that_is_not_yaml(mirror_factory, tmp_path):
    mirror = mirror_factory()
    spec = tmp_path / "broken.yaml"
    spec.write_text("name: [imd2019\ncomponents: {\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    res = invoke(build_args(str(spec), out, mirror))
    assert res.exit_code == USER_ERROR
    assert f"error: index spec {spec} is not valid YAML" in res.stderr
    assert "line 1" in res.stderr  # where in the YAML
    assert not out.exists()


# ------------------------------------------------------------------ bad command-line arguments


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param(
            lambda m, t: ["index", "build", "imd2091", "--out", str(t / "o.csv"), "--data", str(m)],
            ["no index spec named 'imd2091' and no such file", f"{FIX} use one of: cni2019", "imd2019"],
            id="unknown-spec-name",
        ),
        pytest.param(
            lambda m, t: ["index", "build", "imd2019", "--out", str(t / "o.txt"), "--data", str(m)],
            ["--out must be a .csv file, got {t}/o.txt", f"{FIX} e.g. --out imd2019.csv"],
            id="out-not-csv",
        ),
        pytest.param(
            lambda m, t: ["index", "build", "imd2019", "--out", str(t / "o.csv"), "--data", str(t / "nowhere")],
            ["data directory '{t}/nowhere' does not exist or is not a directory", f"{FIX} pass --data with a folder"],
            id="data-folder-does-not-exist",
        ),
        pytest.param(
            lambda m, t: ["index", "build", "imd2019", "--out", str(t / "no" / "o.csv"), "--data", str(m)],
            ["cannot write {t}/no/o.csv: folder {t}/no does not exist", f"{FIX} create it first"],
            id="out-folder-does-not-exist",
        ),
        pytest.param(
            lambda m, t: ["data", "fetch", "imd2091_file2", "--data", str(m)],
            ["unknown dataset id 'imd2091_file2'", f"{FIX} use one of the catalogue's ids", "imd2019_file2"],
            id="fetch-unknown-dataset-id",
        ),
        pytest.param(
            lambda m, t: ["data", "verify", "--data", str(t / "nowhere")],
            ["data directory '{t}/nowhere' does not exist"],
            id="verify-data-folder-does-not-exist",
        ),
    ],
)
def test_bad_argument_gives_one_clear_message(args, fragments, mirror_factory, tmp_path):
    mirror = mirror_factory()
    res = invoke(args(mirror, tmp_path))
    out = tmp_path / "o.csv"
    assert_clean_failure(res, out, *(f.replace("{t}", str(tmp_path)) for f in fragments))
    assert not (tmp_path / "o.txt").exists()


def test_missing_required_option_is_a_usage_error(mirror_factory):
    res = invoke(["index", "build", "imd2019", "--data", str(mirror_factory())])
    assert res.exit_code == 2
    assert "Missing option '--out'" in res.stderr
    assert "Traceback" not in res.stderr


# ------------------------------------------------------------------ the real console script


def _entry_points() -> list:
    script = Path(sys.executable).with_name("leftbehind")  # the venv's console script
    if not script.is_file():
        found = shutil.which("leftbehind")
        script = Path(found) if found else None
    return [
        pytest.param([str(script)] if script else None, id="console-script"),
        pytest.param([sys.executable, "-m", "leftbehind.cli"], id="python-m"),
    ]


@pytest.mark.parametrize("command", _entry_points())
def test_real_console_script_reports_on_stderr(command, mirror_factory, tmp_path):
    assert command is not None, "the leftbehind console script is not installed (pip install -e .)"
    mirror = mirror_factory(F2)
    set_cell(301, "Income Rank (where 1 is most deprived)", "n/a!")(mirror / F2, mirror)
    out = tmp_path / "o.csv"
    proc = subprocess.run([*command, *build_args("imd2019", out, mirror)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == USER_ERROR, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert proc.stderr.startswith(f"error: dataset imd2019_file2 ({mirror / F2}): "), proc.stderr
    assert "column income_rank: non-numeric value 'n/a!' at line 301" in proc.stderr
    assert f"{FIX} fix or restore those rows" in proc.stderr
    assert "\x1b[" not in proc.stderr  # no colour codes when not on a terminal
    assert proc.stdout == ""
    assert not out.exists()


# ------------------------------------------------------------------ data verify


def test_verify_passes_on_an_untouched_mirror(mirror_factory, isolated_env):
    mirror = mirror_factory()  # every file a symlink to the original
    res = invoke(["data", "verify", "--data", str(mirror)])
    assert res.exit_code == 0, res.output
    assert "all local datasets verified" in res.output
    assert "CORRUPT" not in res.output and "MISSING" not in res.output


@pytest.mark.parametrize(
    ("rel", "corrupt", "line"),
    [
        pytest.param(
            CNI19,
            set_cell(2, "Civic Assets score", "16.27958106994628"),
            "CORRUPT cni2019_wards: {path} sha256",
            id="one-changed-byte",
        ),
        pytest.param(F2, truncate_bytes, "CORRUPT imd2019_file2: {path} sha256", id="truncated-gzip"),
        pytest.param(CNI23, empty, "CORRUPT cni2023_lsoa21: {path} sha256", id="empty-file"),
        pytest.param(F2, lambda p, s: p.unlink(), f"MISSING imd2019_file2: {F2}", id="missing-file"),
    ],
)
def test_verify_names_the_bad_file_and_fails(rel, corrupt, line, mirror_factory, isolated_env, shared_data):
    mirror = mirror_factory(rel)
    corrupt(mirror / rel, shared_data)
    res = invoke(["data", "verify", "--data", str(mirror)])
    assert res.exit_code == 1, res.output
    assert line.format(path=mirror / rel) in res.output, res.output
    assert "1 problem(s): restore the files named above" in res.output
    assert "all local datasets verified" not in res.output


def test_verify_shows_a_folder_name_with_brackets_intact(mirror_factory, isolated_env, shared_data):
    mirror = mirror_factory(CNI19)
    mirror = mirror.rename(mirror.with_name("mirror [old copy]"))  # symlinks are absolute: still valid
    set_cell(2, "Civic Assets score", "16.27958106994628")(mirror / CNI19, shared_data)
    res = invoke(["data", "verify", "--data", str(mirror)])
    assert res.exit_code == 1, res.output
    assert f"CORRUPT cni2019_wards: {mirror / CNI19} sha256" in res.output


# ------------------------------------------------------------------ a threshold that selects no area (issue 19)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param(
            ["run", "--threshold", "0.0001"],
            ["--threshold 0.0001 selects no area", "floor(0.0001 x 7,433) is 0", "7,433 wards of edition 2020"],
            id="run-2020",
        ),
        pytest.param(
            ["run", "--edition", "2025", "--threshold", "0.00013"],
            ["--threshold 0.00013 selects no area", "7,433 wards of edition 2020"],
            id="run-2025",
        ),
        pytest.param(["robustness", "--threshold", "0.0001"], ["--threshold 0.0001 selects no area"], id="robustness"),
    ],
)
def test_a_threshold_that_selects_no_area_is_refused(args, fragments, tmp_path):
    out = tmp_path / "o"
    res = invoke([args[0], "--out", str(out), *args[1:]])
    assert_clean_failure(res, out, *fragments, f"{FIX} use --threshold 0.000135 or more")
    assert "smallest that selects one of the 7,433 wards" in res.output


def test_the_smallest_threshold_selects_one_area_and_is_accepted():
    import math

    from leftbehind.options import make_run_options, smallest_threshold

    for n in (1, 2, 3, 7, 100, 6_856, 7_433, 33_755, 99_999):
        t = smallest_threshold(n)
        assert math.floor(t * n + 1e-9) >= 1, n
        assert n == 1 or math.floor(round(t - 10 ** math.floor(math.log10(t) - 2), 12) * n + 1e-9) == 0, n
    assert make_run_options(threshold=smallest_threshold(7_433)).threshold == 0.000135
    assert make_run_options(edition="2025", threshold=0.000135).threshold == 0.000135


def test_check_threshold_names_the_areas_and_the_smallest_threshold():
    """The rule behind the --threshold check; the cut-off itself still allows 0 (a unit of a few custom
    areas at the default threshold has an empty group, not an error)."""
    from leftbehind.analysis.leftbehind import cutoff
    from leftbehind.errors import UsageError
    from leftbehind.options import check_threshold

    with pytest.raises(UsageError, match=r"--threshold 0.0001 selects no area: .*floor\(0.0001 x 6,856\) is 0") as e:
        check_threshold(0.0001, 6_856, "msoas")
    assert "for the 6,856 msoas" in e.value.message and "--threshold 0.000146 or more" in e.value.hint
    check_threshold(0.000146, 6_856)
    check_threshold(0.1, 0)  # no areas: nothing to refuse
    assert cutoff(3, 0.1) == 0
