"""datapackage.json, the data dictionary (docs/outputs.md) and the registry's coverage of a run folder.

The shared runs (``run_out``: default; ``run_2025``: ``--edition 2025``) are validated as written by
``leftbehind run`` with frictionless itself; the tests that tamper with files work on small copies.
Nothing here hard-codes a table or a column: the expectations come from the folders' own files, the
registry (``report/outputs.yaml``) and the runs' summaries.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from leftbehind.report.registry import files, find, holds_cni, licences, registry
from tests.conftest import ROOT

TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "date": "date"}


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


def _csvs(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.csv")}


@pytest.fixture(scope="module", params=["run_out", "run_2025"])
def run_folder(request) -> Path:
    return request.getfixturevalue(request.param)[0]


@pytest.fixture(scope="module")
def package(run_folder) -> dict:
    return json.loads((run_folder / "datapackage.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- coverage of the run folder


def test_every_file_of_a_run_folder_is_declared(run_folder):
    """Each file `leftbehind run` writes is a registered table (every column declared) or a
    registered other file: nothing in the folder goes undocumented."""
    others = {f.path for f in files().values()}
    for p in sorted(run_folder.rglob("*")):
        if p.is_dir():
            continue
        rel = p.relative_to(run_folder).as_posix()
        hit = find(rel)
        if hit is None:
            assert rel in others, f"{rel} is neither a table nor a file of report/outputs.yaml"
            continue
        t, _ = hit
        undeclared = [c for c in _header(p) if t.column(c) is None]
        assert not undeclared, (rel, undeclared)


def test_summary_has_the_version_and_an_iso_utc_run_date(run_folder):
    from leftbehind import __version__

    s = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))
    assert s["leftbehind_version"] == __version__
    assert list(s)[:2] == ["leftbehind_version", "run_date"]
    when = datetime.strptime(s["run_date"], "%Y-%m-%dT%H:%M:%SZ")
    assert 2024 <= when.year <= datetime.now().year + 1
    assert "datapackage.json" in s["files"]


# ---------------------------------------------------------------- the package


def test_frictionless_validates_the_package(run_folder):
    """Types, blanks, booleans, primary keys, sizes and sha256 of every resource, as frictionless
    itself checks them."""
    from frictionless import validate

    report = validate(run_folder / "datapackage.json")
    errors = [e for task in report.tasks for e in task.errors][:10] + list(report.errors)[:10]
    assert report.valid, [getattr(e, "message", str(e)) for e in errors]


def test_one_resource_per_csv_with_the_registry_schema(run_folder, package):
    assert package["profile"] == "tabular-data-package"
    res = package["resources"]
    assert {r["path"] for r in res} == _csvs(run_folder)
    assert len({r["name"] for r in res}) == len(res)
    for r in res:
        t, name = find(r["path"])
        assert r["profile"] == "tabular-data-resource" and r["format"] == "csv" and r["encoding"] == "utf-8"
        assert not Path(r["path"]).is_absolute()
        fields = r["schema"]["fields"]
        assert [f["name"] for f in fields] == _header(run_folder / r["path"])
        for f in fields:
            c = t.column(f["name"])
            assert f["type"] == TYPES[c.type], (r["path"], f["name"])
            assert " ".join(c.description.split()) in f["description"]
            if c.unit:
                assert f"Unit: {c.unit}." in f["description"]
        assert r["schema"]["missingValues"] == [""]
        if t.key:
            assert r["schema"]["primaryKey"] == list(t.key)
        assert r["bytes"] == (run_folder / r["path"]).stat().st_size


def test_licences_name_ocsi_for_cni_tables_and_ogl_for_the_rest(package):
    lic = licences()
    cni_tables = 0
    for r in package["resources"]:
        t, name = find(r["path"])
        names = [x["name"] for x in r["licenses"]]
        if holds_cni(t, name):
            cni_tables += 1
            assert names == [lic["cni"].name, lic["ogl"].name], r["path"]
            cni = r["licenses"][0]
            assert "OCSI" in cni["title"] and "Local Trust" in cni["title"] and "not open data" in cni["title"]
        else:
            assert names == [lic["ogl"].name], r["path"]
            assert r["licenses"][0]["path"].startswith(
                "https://www.nationalarchives.gov.uk/doc/open-government-licence"
            )
    assert cni_tables >= 3  # at least the wards, the diagnostics and the CNI 2019 index


def test_sources_are_the_runs_inputs_and_created_is_the_run_date(run_folder, package):
    s = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))
    assert package["created"] == s["run_date"]
    assert len(package["sources"]) == len(s["inputs"])
    for src, i in zip(package["sources"], s["inputs"], strict=True):
        assert src["title"].startswith(i["title"]) and i["sha256"][:12] in src["title"]


@pytest.fixture
def small_run(run_out, tmp_path) -> Path:
    """A copy of part of the default run: its summary and three tables (safe to tamper with)."""
    src, dest = run_out[0], tmp_path / "run"
    for rel in ("summary.json", "wards.csv", "claims.csv", "indices/cni2019.csv"):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, dest / rel)
    return dest


def test_a_wrong_type_or_a_changed_file_is_caught(small_run):
    """The validation is real: a decimal in an integer column, a word in a boolean one, and a file
    changed after the package was written all fail."""
    from frictionless import validate

    from leftbehind.report.datapackage import write_datapackage

    assert write_datapackage(small_run)
    assert validate(small_run / "datapackage.json").valid
    path = small_run / "wards.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rank, flag = rows[0].index("cni_rank"), rows[0].index("cni_top")
    rows[1][rank], rows[1][flag] = "12.5", "maybe"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    report = validate(small_run / "datapackage.json")
    assert not report.valid
    kinds = {e.type for task in report.tasks for e in task.errors}
    assert "hash-count" in kinds or "byte-count" in kinds  # changed since the package was written
    assert write_datapackage(small_run)  # re-described: now only the types are wrong
    report = validate(small_run / "datapackage.json")
    errors = [e for task in report.tasks for e in task.errors]
    assert {e.type for e in errors} == {"type-error"}
    assert {e.field_name for e in errors} == {"cni_rank", "cni_top"}


def test_refresh_rewrites_only_when_the_folder_changed(small_run):
    import pandas as pd

    from leftbehind.io import csv_to
    from leftbehind.report.datapackage import write_datapackage
    from leftbehind.report.registry import table_def

    assert write_datapackage(small_run)
    before = (small_run / "datapackage.json").stat().st_mtime_ns
    assert not write_datapackage(small_run)  # nothing changed: not rewritten
    assert (small_run / "datapackage.json").stat().st_mtime_ns == before
    t = table_def("target_by_region")  # a later command's table appears once its file is there
    (small_run / "target").mkdir()
    csv_to(pd.DataFrame({c.name: [] for c in t.columns}), small_run / t.path)
    assert write_datapackage(small_run)
    pkg = json.loads((small_run / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["path"] for r in pkg["resources"]] == ["wards.csv", "indices/cni2019.csv", "claims.csv", t.path]


def test_report_refreshes_the_package_of_a_run_folder(small_run, run_out, ctx):
    """write_report on a finished run folder keeps datapackage.json in step with its CSV files."""
    from leftbehind.report.build import write_report
    from leftbehind.report.tables import read_results

    res = read_results(run_out[0])
    written = write_report(res, small_run, (), ctx=ctx, atomic=True)
    assert written == ["datapackage.json"]
    pkg = json.loads((small_run / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["path"] for r in pkg["resources"]} == _csvs(small_run)
    assert write_report(res, small_run, (), ctx=ctx, atomic=True) == []  # unchanged: left alone


# ---------------------------------------------------------------- the data dictionary


def test_docs_outputs_md_is_what_the_registry_generates():
    """docs/outputs.md is generated: regenerate it with
    `python -m leftbehind.report.dictionary --out docs/outputs.md` after editing outputs.yaml."""
    from leftbehind.report.dictionary import markdown

    committed = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert committed == markdown(), "stale: run python -m leftbehind.report.dictionary --out docs/outputs.md"


def test_the_dictionary_documents_every_table_column_and_file():
    from leftbehind.report.dictionary import markdown

    text = markdown()
    assert len(re.findall(r"^# ", text, flags=re.M)) == 1 and text.startswith("# ")
    assert not re.search(r"\]\((?!#)", text), "links leave the page (the docs site links it from docs/)"
    for t in registry().values():
        section = text.split(f"### `{t.path}`: {t.title}\n", 1)
        assert len(section) == 2, t.path
        body = section[1].split("\n### ", 1)[0]
        for c in t.columns:
            assert f"| `{c.name}` |" in body, (t.path, c.name)
    for f in files().values():
        assert f"### `{f.path}`: {f.title}" in text


def test_the_dictionary_module_writes_the_page(tmp_path):
    from leftbehind.report.dictionary import main, markdown

    assert main(["--out", str(tmp_path / "outputs.md")]) == 0
    assert (tmp_path / "outputs.md").read_text(encoding="utf-8") == markdown()


# ---------------------------------------------------------------- what the run prints


def test_the_run_prints_counts_as_integers_and_labels_in_words(run_out, run_2025):
    """The console summary: counts (wards, people, local authorities) carry no decimals, and no
    option code or group key stands in for words."""
    from leftbehind.options import BY_NAME

    for _, output in (run_out, run_2025):
        rows = [[c.strip() for c in line.split("│")[1:-1]] for line in output.splitlines() if line.count("│") >= 6]
        counted = [r for r in rows if r[-1].startswith(("wards", "people", "local authorities"))]
        assert len(counted) >= 5, output
        for r in counted:
            for cell in r[1:4]:
                assert re.fullmatch(r"[+-]?\d{1,3}(,\d{3})*", cell), r
        codes = [*BY_NAME["population"].choices, *BY_NAME["residents"].choices, *BY_NAME["ward_imd"].choices]
        for code in (c for c in codes if re.search(r"[\d_]", c)):  # the codes that are not words
            assert not re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", output.split("cite:")[0]), code
        assert not re.search(r"\((left_behind|other_deprived|england|rest)\)", output)


def test_a_csv_changed_by_hand_is_a_clear_error(small_run):
    """A column the registry does not know (someone edited the file) stops the refresh with one
    message naming the file, not a traceback."""
    from leftbehind.errors import UsageError
    from leftbehind.report.datapackage import write_datapackage

    path = small_run / "claims.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",my_note", *(x + "," for x in lines[1:])]) + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"claims.csv: column 'my_note' .* changed after the run"):
        write_datapackage(small_run)
    assert not (small_run / "datapackage.json").exists()
