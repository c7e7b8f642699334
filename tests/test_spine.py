"""The spine: run context, declared steps, the output registry, editions as data, options declared
once, and the error path (each reliability defect of issue 11 has a test here)."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from leftbehind.cli import app
from tests.conftest import ROOT, make_mirror

CNI19 = "cni/community-needs-index-england_ward17_225LBA_2020update.csv"
F2 = "imd2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"


# ---------------------------------------------------------------- run context


def test_context_memoises_and_records_provenance(ctx):
    a = ctx.load("imd2019_file2")
    a.iloc[0, 1] = "changed"  # callers get copies: the memo is never modified through them
    b = ctx.load("imd2019_file2")
    assert b.iloc[0, 1] != "changed"
    prov = ctx.provenance()["imd2019_file2"]
    assert prov["sha256_matches_catalogue"] and prov["dataset"] == "imd2019_file2"


def test_no_layer_below_the_cli_takes_a_data_folder():
    """No function of analysis/, geography/, indices/, report/ or web/ has a data-folder parameter,
    and none reads the data layer's module state (the context is passed instead)."""
    import ast

    offenders = []
    for layer in ("analysis", "geography", "indices", "report", "web"):
        for path in (ROOT / "src" / "leftbehind" / layer).glob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    names = [a.arg for a in [*node.args.args, *node.args.kwonlyargs]]
                    offenders += [f"{path.name}:{node.name}({n})" for n in names if n in ("data", "data_dir")]
                if isinstance(node, ast.ImportFrom) and node.module in ("leftbehind.data", "leftbehind.data.sources"):
                    bad = {a.name for a in node.names} & {"load", "resolve", "verify_default", "used_inputs"}
                    offenders += [f"{path.name} imports {b}" for b in bad]
    assert offenders == []


def test_reader_code_change_invalidates_the_frame_cache(monkeypatch):
    from leftbehind import data as data_layer
    from leftbehind.data.schemas import spec_for

    spec = spec_for("imd2019_file2")
    before = data_layer._spec_digest(spec)
    data_layer.reader_code_digest.cache_clear()
    monkeypatch.setattr(data_layer, "FRAME_CACHE_VERSION", "changed")
    assert data_layer._spec_digest(spec) != before
    data_layer.reader_code_digest.cache_clear()


# ---------------------------------------------------------------- steps and registry


def test_steps_read_only_what_they_declare_and_produce_registered_tables(shared_data):
    """Run the pipeline (2025 edition, every step) and compare what each step read and wrote with
    its declaration; every declared table is in the output registry."""
    from leftbehind.analysis.pipeline import STEPS, run_pipeline, steps_for
    from leftbehind.context import RunContext
    from leftbehind.options import make_run_options
    from leftbehind.report.registry import registry

    opts = make_run_options(edition="2025", replicates=100)
    ctx = RunContext(shared_data)
    results = run_pipeline(opts, ctx=ctx)
    reg = registry()
    for step in STEPS:
        assert set(step.produces) <= set(reg), step.name
    declared = {s.name: set(s.inputs(opts)) for s in steps_for(opts)}
    for step, read in ctx.reads.items():
        assert read <= declared[step], (step, read - declared[step])
    produced = set(results.tables) | ({"index"} if results.fits else set())
    assert produced <= {t for s in steps_for(opts) for t in s.produces}
    for name, table in results.tables.items():
        reg[name].check(table)
    # the summary is typed and its sources are the edition's
    assert results.summary.cut_off.cutoff_rank == 743
    assert results.summary.current.groups["left_behind"].lsoas > 0


def test_registry_columns_have_units_and_meanings():
    from leftbehind.report.registry import TYPES, registry

    reg = registry()
    assert len({t.path for t in reg.values()}) == len(reg)
    assert len({t.sheet for t in reg.values()}) == len(reg)
    for t in reg.values():
        assert t.edition in ("research", "current", "any") and t.title and t.description
        for c in t.columns:
            assert c.type in TYPES and len(c.description) > 10, (t.name, c.name)


def test_a_table_that_differs_from_its_declaration_is_refused():
    from leftbehind.report.registry import table_def

    t = table_def("published_checks")
    good = pd.DataFrame(columns=[c.name for c in t.columns])
    t.check(good)
    with pytest.raises(AssertionError, match="undeclared"):
        t.check(good.assign(extra=1))
    with pytest.raises(AssertionError, match="order"):
        t.check(good[list(reversed(good.columns))])


# ---------------------------------------------------------------- editions


def test_every_published_figure_lives_in_the_editions():
    """No module below the CLI spells out a published count or rate; they come from editions/."""
    import re

    from leftbehind.editions import edition

    e = edition("2020")
    assert e.pairing("2019").list.size == 225 and e.pairing("2015").list.size == 206
    figures = {"225", "206", "2_400_000", "26.7", "25.9", "17.1", "10.6", "6.5"}
    hits = []
    for path in (ROOT / "src" / "leftbehind").rglob("*.py"):
        if path.name == "schemas.py" or path.parent.name == "editions":  # schema facts; the editions themselves
            continue
        text = path.read_text(encoding="utf-8")
        hits += [f"{path.name}: {f}" for f in figures if re.search(rf"(?<![\w.]){re.escape(f)}(?![\w.])", text)]
    assert hits == []


def test_editions_validate_their_citations(tmp_path):
    from leftbehind.editions import Edition, edition

    raw = edition("2025").model_dump()
    raw["run_citations"] = ("nowhere",)
    with pytest.raises(ValueError, match="no entry under citations"):
        Edition.model_validate(raw)


# ---------------------------------------------------------------- options declared once


def test_run_flags_come_from_the_one_declaration():
    from leftbehind.options import RUN_OPTIONS, run_options_model

    res = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "250"})
    assert res.exit_code == 0
    for o in RUN_OPTIONS:
        assert o.flag in res.output, o.flag
    assert list(run_options_model().model_fields) == [o.name for o in RUN_OPTIONS]
    defaults = run_options_model()()
    for o in RUN_OPTIONS:
        assert getattr(defaults, o.name) == o.default


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--red-wall", "Foo,Bar"], "unknown value 'Foo'; valid values: Con, Lab"),
        (["--red-wall", "lab,con"], "did you mean 'Lab'?"),
        (["--red-wall", "Lab"], "give two party codes"),
        (["--red-wall-regions", "Narnia"], "unknown value 'Narnia'; valid values: North East"),
        (["--month", "2020-13"], "--month"),
        (["--threshold", "1.5"], "--threshold"),
        (["--replicates", "5"], "--replicates"),
        (["--imd", "2017"], "'2017' is not one of"),
    ],
)
def test_bad_run_options_are_one_clear_error(args, fragment, tmp_path):
    res = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == 2 and fragment in res.output, res.output
    assert "Traceback" not in res.output and not (tmp_path / "o").exists()


# ---------------------------------------------------------------- reliability defects


def test_threshold_with_an_empty_group_is_a_complete_run(tmp_path, shared_data):
    """--threshold 0.001 leaves no ward left behind: a complete run, a note, no numpy/scipy warning."""
    out = tmp_path / "o"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = CliRunner().invoke(
            app,
            [
                "run",
                "--out",
                str(out),
                "--data",
                str(shared_data),
                "--threshold",
                "0.001",
                "--skip-indices",
                "--replicates",
                "100",
                "--edition",
                "2025",
            ],
        )
    assert res.exit_code == 0, res.output
    assert "no ward is left behind at --threshold 0.001" in res.output
    noisy = [w for w in caught if any(m in str(w.filename) for m in ("numpy", "scipy", "pandas", "leftbehind"))]
    assert noisy == [], [str(w.message) for w in noisy]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["groups"]["left_behind"]["wards"] == 0
    for rel in ("report.html", "outcomes.csv", "politics/correlations.csv", "lsoa21.csv", "current/outcomes.csv"):
        assert (out / rel).is_file(), rel


def test_unwritable_output_is_a_usage_error(tmp_path, shared_data):
    (tmp_path / "afile").write_text("x")
    res = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "afile" / "out"), "--data", str(shared_data)])
    assert res.exit_code == 2, res.output
    assert "is a file, not a folder" in res.output and "internal error" not in res.output


def test_explicit_data_folder_never_falls_back_to_the_shared_mirror(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("LEFTBEHIND_SEARCH_SHARED", "1")  # even with the shared folder searchable
    mirror = make_mirror(tmp_path / "m", shared_data)
    (mirror / F2).unlink()
    res = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "o"), "--data", str(mirror), "--skip-indices"])
    assert res.exit_code == 2, res.output
    assert "imd2019_file2" in res.output and F2 in res.output and "--data" in res.output
    (mirror / CNI19).unlink()
    (mirror / CNI19).mkdir()
    res = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "o"), "--data", str(mirror), "--skip-indices"])
    assert res.exit_code == 2 and "is not a file" in res.output, res.output
    assert not (tmp_path / "o").exists()


def test_no_verify_reads_a_regzipped_file(tmp_path, shared_data):
    """Acceptance: `run --no-verify --data MIRROR` works when File 2 was re-gzipped (same content,
    another checksum); without --no-verify the checksum stops the run."""
    mirror = make_mirror(tmp_path / "m", shared_data)
    (mirror / F2).unlink()
    with gzip.open(shared_data / F2, "rb") as src, gzip.GzipFile(mirror / F2, "wb", mtime=1, compresslevel=1) as dst:
        shutil.copyfileobj(src, dst)
    args = ["run", "--out", str(tmp_path / "o"), "--data", str(mirror), "--skip-indices", "--replicates", "100"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "checksum mismatch" in res.output, res.output
    res = CliRunner().invoke(app, [*args, "--no-verify"])
    assert res.exit_code == 0, res.output
    inputs = {i["dataset"]: i for i in json.loads((tmp_path / "o" / "summary.json").read_text())["inputs"]}
    assert inputs["imd2019_file2"]["sha256_matches_catalogue"] is False
    assert inputs["imd2019_file2"]["origin"] == "mirror"


def test_no_verify_reaches_every_data_command(tmp_path, shared_data):
    for cmd in (
        ["run"],
        ["ward-imd-search"],
        ["report"],
        ["serve"],
        ["aggregate"],
        ["index", "build"],
        ["index", "audit"],
    ):
        res = CliRunner().invoke(app, [*cmd, "--help"], env={"COLUMNS": "200"})
        assert "--no-verify" in res.output, cmd


def test_published_lad_count_compares_like_with_like(run_out):
    out, _ = run_out
    checks = pd.read_csv(out / "published_checks.csv", keep_default_na=False).set_index("check")
    row = checks.loc["local authorities with a left-behind ward"]
    wards = pd.read_csv(out / "wards.csv")
    lb = wards[wards["group"] == "left_behind"]
    assert row["ours"] == lb["lad_code_published"].nunique() and row["published"] == 82
    assert "2019" in row["note"] and f"ours is {lb['lad_code'].nunique()}" in row["note"]


# ---------------------------------------------------------------- failed runs exit promptly


def _corrupt_cases():
    def truncate(p: Path):
        lines = p.read_bytes().splitlines(keepends=True)
        p.write_bytes(b"".join(lines[: len(lines) // 3]))

    def delete_column(p: Path):
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        df.drop(columns=[df.columns[3]]).to_csv(p, index=False)

    def rename_heading(p: Path):
        text = p.read_text(encoding="utf-8")
        first, rest = text.split("\n", 1)
        p.write_text(first.replace("Civic", "Civik", 1) + "\n" + rest, encoding="utf-8")

    def crlf(p: Path):
        p.write_bytes(p.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    return {"truncated": truncate, "deleted column": delete_column, "renamed heading": rename_heading, "crlf": crlf}


@pytest.mark.parametrize(
    "case, mode",
    [(c, m) for c in _corrupt_cases() for m in ("checksum", "no-verify") if (c, m) != ("crlf", "no-verify")],
)  # CRLF line endings with --no-verify are the same table, and read as such
def test_bad_data_runs_always_exit_2_promptly(case, mode, tmp_path, shared_data):
    """A new user saw bad-data runs abort (rc 134) or hang after the right message. Each case is run
    twice, in a fresh process on a fresh mirror copy with an empty cache, so the read-ahead thread
    is busy building the map when the main thread fails: the run must exit 2 within a minute, with
    the message and nothing else."""
    corrupt = _corrupt_cases()[case]
    for i in range(2):
        mirror = make_mirror(tmp_path / f"m{i}", shared_data, [CNI19])
        corrupt(mirror / CNI19)
        env = {
            **os.environ,
            "LEFTBEHIND_CACHE": str(tmp_path / f"cache{i}"),
            "LEFTBEHIND_SEARCH_SHARED": "0",
            "PYTHONPATH": str(ROOT / "src"),
        }
        cmd = [sys.executable, "-m", "leftbehind.cli", "run", "--data", str(mirror), "--out", str(tmp_path / "o")]
        if mode == "no-verify":
            cmd.append("--no-verify")
        start = time.monotonic()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        took = time.monotonic() - start
        assert proc.returncode == 2, (case, mode, proc.returncode, proc.stderr[-2000:])
        assert "error:" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
        assert "terminate called" not in proc.stderr
        assert took < 60
        assert not (tmp_path / "o").exists()
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".o.")]
        assert leftovers == []
