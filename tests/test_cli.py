"""The command line: the main job's outputs, atomic writes, specs and help."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from leftbehind.cli import app
from leftbehind.errors import SpecError
from leftbehind.indices.spec import load_spec, parse_spec
from leftbehind.io import atomic_dir, write_text

runner = CliRunner()


def test_failed_run_leaves_previous_outputs_intact(shared_data, tmp_path, mirror_factory):
    from leftbehind.outdir import MARKER, OutputFolder

    out = tmp_path / "out"
    OutputFolder(out).prepare()  # a leftbehind output folder, holding a previous result
    (out / "summary.json").write_text('{"previous": true}')
    mirror = mirror_factory("cni/community-needs-index-england_ward17_225LBA_2020update.csv")
    f = mirror / "cni/community-needs-index-england_ward17_225LBA_2020update.csv"
    f.write_text(f.read_text().replace("Abbey", "Abbot", 1))
    res = runner.invoke(app, ["run", "--out", str(out), "--data", str(mirror)])
    assert res.exit_code != 0
    assert "checksum mismatch" in res.output
    assert json.loads((out / "summary.json").read_text()) == {"previous": True}
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "summary.json"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")], "temporary folders cleaned up"


def test_atomic_dir_keeps_old_contents_on_error(tmp_path):
    target = tmp_path / "d"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "new.txt").write_text("new")
        raise RuntimeError("boom")
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    with atomic_dir(target) as tmp:
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    write_text(target / "a.txt", "x")
    assert (target / "a.txt").read_text() == "x"
    assert oct((target / "a.txt").stat().st_mode & 0o777) != oct(0o600)


def test_index_build_writes_the_documented_columns(shared_data, tmp_path):
    out = tmp_path / "imd.csv"
    res = runner.invoke(app, ["index", "build", "imd2019", "--out", str(out), "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(out)
    assert list(t.columns[:4]) == ["area_code", "score", "rank", "decile"]
    assert {"income_input", "income_x", "living_env_x"} <= set(t.columns)
    assert len(t) == 32_844
    assert "imd2019_file2" in res.output and "sha256" in res.output  # says where the input came from
    assert "99.67" in res.output  # and how well it fits


def test_index_build_accepts_a_spec_file(shared_data, tmp_path):
    spec = tmp_path / "two.yaml"
    spec.write_text(
        "name: income_employment\ntitle: Income and employment only\nedition: IoD2019\ngeography: lsoa11\n"
        "source: imd2019_file2\narea: lsoa11cd\ncomponents:\n"
        "  - {name: income, column: income_rank, transform: exp_rank, weight: 0.5}\n"
        "  - {name: employment, column: employment_rank, transform: exp_rank, weight: 0.5}\n"
    )
    out = tmp_path / "ie.csv"
    res = runner.invoke(app, ["index", "build", str(spec), "--out", str(out), "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(out)) == 32_844


def test_index_list_names_the_shipped_specs():
    res = runner.invoke(app, ["index", "list"])
    assert res.exit_code == 0
    for name in ("imd2019", "iod2025_imd", "cni2019", "cni2023", "imd2019_living_env"):
        assert name in res.output


def test_spec_validation_messages():
    base = "name: x\ntitle: t\nedition: e\ngeography: lsoa11\nsource: imd2019_file2\narea: lsoa11cd\ncomponents:\n"
    with pytest.raises(SpecError, match="weights add up to 0.9"):
        parse_spec(base + "  - {name: a, column: income_rank, transform: exp_rank, weight: 0.9}\n", "s.yaml")
    with pytest.raises(SpecError, match="component 'a'.*transform"):
        parse_spec(base + "  - {name: a, column: income_rank, transform: cube, weight: 1}\n", "s.yaml")
    with pytest.raises(SpecError, match="not valid YAML"):
        parse_spec("name: [", "s.yaml")
    with pytest.raises(SpecError, match="no index spec named"):
        load_spec("imd2099")
    assert load_spec("cni2019").weight_total == 3


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from leftbehind.cli import app; "
        "heavy = [m for m in ('pandas', 'numpy', 'scipy', 'pandera', 'pooch', 'matplotlib', 'geopandas') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version():
    from leftbehind import __version__

    for flag in ("--version", "-V"):
        res = runner.invoke(app, [flag])
        assert res.exit_code == 0 and res.output.strip() == f"leftbehind {__version__}"


AGG_COLUMNS = [
    "area_code",
    "area_name",
    "population",
    "average_score",
    "average_rank",
    "extent",
    "local_concentration",
    "proportion",
    "rank_average_score",
    "rank_average_rank",
    "rank_extent",
    "rank_local_concentration",
    "rank_proportion",
]


@pytest.mark.parametrize(
    ("index", "to", "population", "areas"),
    [
        ("imd2019", "wd17", "mid2019", 7_427),
        ("imd2015", "lad19", "mid2015", 317),
        ("iod2025", "lad24", None, 296),
        ("cni2023", "region", None, 9),
        ("imd2019", "pcon17", "mid2020", 533),
        ("imd2019", "wd19", "census2011", 7_180),
    ],
)
def test_aggregate_command(shared_data, tmp_path, index, to, population, areas):
    out = tmp_path / "agg.csv"
    args = ["aggregate", "--index", index, "--to", to, "--out", str(out), "--data", str(shared_data)]
    res = runner.invoke(app, args + (["--population", population] if population else []))
    assert res.exit_code == 0, res.output
    t = pd.read_csv(out)
    assert list(t.columns[: len(AGG_COLUMNS)]) == AGG_COLUMNS
    assert len(t) == areas and t["area_code"].is_unique
    assert "population" in res.output and "rank_* 1 = most deprived" in res.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--index", "imd2099", "--to", "wd17"], "unknown index 'imd2099'"),
        (["--index", "imd2019", "--to", "msoa"], "unknown target geography 'msoa'"),
        (["--index", "iod2025", "--to", "wd17"], "unknown target geography 'wd17' for LSOA 2021"),
        (["--index", "iod2025", "--to", "lad24", "--population", "mid2019"], "is at LSOA11, but this index is"),
        (["--index", "imd2019", "--to", "wd17", "--population", "mid2099"], "unknown population base"),
        (["--index", "imd2019", "--to", "pcon17", "--split", "coin"], "unknown split rule"),
    ],
)
def test_aggregate_bad_arguments(shared_data, tmp_path, args, fragment):
    out = tmp_path / "agg.csv"
    res = runner.invoke(app, ["aggregate", *args, "--out", str(out), "--data", str(shared_data)])
    assert res.exit_code == 2
    assert fragment in res.output and "Traceback" not in res.output
    assert not out.exists()


# ---------------------------------------------------------------- bad places to write, a busy port (issue 19)


def _clean_exit_2(res, *fragments):
    assert res.exit_code == 2, res.output
    assert "internal error" not in res.output and "Traceback" not in res.output, res.output
    for f in fragments:
        assert f in res.output, (f, res.output)
    assert "How to fix:" in res.output


@pytest.mark.parametrize(
    "args", [["run", "--skip-indices"], ["target", "cwf"], ["robustness"]], ids=["run", "target", "robustness"]
)
def test_an_output_under_proc_is_exit_2(args, shared_data):
    res = runner.invoke(app, [*args, "--out", "/proc/leftbehind-test", "--data", str(shared_data)])
    _clean_exit_2(res, "cannot write /proc/leftbehind-test", "virtual file system proc", "choose another --out")


def test_a_full_disk_is_exit_2(shared_data, tmp_path):
    import os
    import shutil
    import tempfile
    from pathlib import Path

    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    where = Path(tempfile.mkdtemp(prefix="leftbehind-full-"))
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(where)], capture_output=True).returncode:
        where.rmdir()
        pytest.skip("cannot mount a tmpfs here")
    try:
        res = runner.invoke(app, ["target", "cwf", "--out", str(where / "t"), "--data", str(shared_data)])
        _clean_exit_2(res, "no space left in folder", str(where), "free some disk space")
        assert not list(where.rglob("*.csv")), "no half-written table is left behind"
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)  # a file still open: detach
        where.rmdir()


def test_serve_on_a_busy_port_is_exit_2(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for extra in ([], ["--workers", "2"], ["--host", "0.0.0.0"]):
            res = runner.invoke(app, ["serve", "--out", str(tmp_path), "--port", str(port), *extra])
            _clean_exit_2(res, f"--port {port}:", "is already in use by another program", "choose another --port")
            assert "serving" not in res.output


def test_serve_on_an_unknown_host_is_exit_2(tmp_path):
    res = runner.invoke(app, ["serve", "--out", str(tmp_path), "--host", "no-such-host.invalid", "--port", "8999"])
    _clean_exit_2(res, "--host no-such-host.invalid: not an address or a known name", "127.0.0.1")


def test_help_lists_the_commands_in_workflow_order_without_ragged_lines():
    from leftbehind.cli import WORKFLOW

    res = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    rows = [ln for ln in res.output.splitlines() if ln.startswith("│ ") and not ln.startswith("│  ")]
    names = [ln.split()[1] for ln in rows if ln.split()[1] in WORKFLOW]
    assert names == [n for n in WORKFLOW if n in names] and names[:3] == ["run", "report", "robustness"]
    # at 200 columns every command's first paragraph fits on few lines: no line breaks from the docstrings
    run_row = next(ln for ln in rows if ln.split()[1] == "run")
    assert "compare outcomes, explain the differences" in run_row
