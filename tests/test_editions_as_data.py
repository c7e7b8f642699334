"""Editions are data: a copy of the current edition's YAML under a new id, dropped in a folder named
by LEFTBEHIND_EDITIONS, runs every command end to end with no code change, and gives the 2025
tables (the edition id aside). Also: no module outside editions/ and options.py spells an edition id.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leftbehind.cli import app

SRC = Path(__file__).resolve().parents[1] / "src" / "leftbehind"
COPY = "2099"
runner = CliRunner()


def _invoke(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def _later_commands(out: Path, data: Path, areas: Path) -> None:
    """robustness, spatial, history, target and profile on the folder's run (its edition)."""
    d = ("--data", str(data))
    _invoke("robustness", "--out", str(out), "--replications", "200", "--sobol-n", "64", *d)
    _invoke("spatial", "--out", str(out), "--permutations", "99", *d)
    _invoke("history", "--out", str(out), *d)
    _invoke("target", "pride-in-place", "--out", str(out), *d)
    _invoke("profile", str(areas), "--out", str(out), *d)


def _tables(folder: Path) -> dict[str, bytes]:
    """Every CSV under the folder, by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.csv"))}


@pytest.mark.slow
@pytest.mark.realdata
def test_a_copied_edition_runs_every_command_and_gives_the_2025_tables(run_2025, shared_data, tmp_path):
    base_run, _ = run_2025
    eds = tmp_path / "editions"
    eds.mkdir()
    text = (SRC / "editions" / "current2025.yaml").read_text("utf-8")
    assert text.count('\nid: "2025"\n') == 1
    (eds / "copy.yaml").write_text(text.replace('\nid: "2025"\n', f'\nid: "{COPY}"\n'), "utf-8")
    areas = tmp_path / "estates.csv"
    areas.write_text("area_id,lsoa21_code\nEast,E01012019\nEast,E01012020\nWest,E01000001\n", "utf-8")

    base = tmp_path / "base"
    shutil.copytree(base_run, base)  # the session's 2025 run, left untouched for the other tests
    _later_commands(base, shared_data, areas)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEFTBEHIND_EDITIONS", str(eds))
        out = tmp_path / "copy"
        # the same options as the session's run_2025 (tests/conftest.py)
        d = ("--data", str(shared_data))
        _invoke("run", "--out", str(out), *d, "--edition", COPY, "--skip-indices", "--replicates", "200")
        _later_commands(out, shared_data, areas)
        sections = {p.parent.relative_to(out).as_posix() for p in out.rglob("summary.json") if p.parent != out}

    assert {f"robustness/{COPY}", f"spatial/{COPY}-lsoa21", "history", "target/pride-in-place"} <= sections
    assert "profile/estates" in sections
    want = {
        k.replace("robustness/2025/", f"robustness/{COPY}/").replace("spatial/2025-", f"spatial/{COPY}-"): v
        for k, v in _tables(base).items()
    }
    got = _tables(out)
    assert set(got) == set(want)
    assert len(got) > 40
    differ = [k for k in got if got[k].replace(COPY.encode(), b"2025") != want[k].replace(COPY.encode(), b"2025")]
    assert differ == [], f"tables that differ beyond the edition id: {differ}"


def _constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text("utf-8"))
    docs = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    return [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
    ]


def test_no_module_outside_editions_and_options_spells_an_edition_id():
    from leftbehind.editions import edition_ids

    ids = set(edition_ids())
    assert {"2020", "2025"} <= ids
    hits = []
    for p in sorted(SRC.rglob("*.py")):
        rel = p.relative_to(SRC).as_posix()
        if rel.startswith("editions/") or rel == "options.py":
            continue
        hits += [f"{rel}:{line}: {v!r}" for line, v in _constants(p) if v in ids]
    assert hits == [], "edition ids spelled in code (ask leftbehind.editions for a role instead):\n" + "\n".join(hits)


def test_the_scan_finds_a_spelled_id(tmp_path):
    """The scan above can fail: a module comparing with an id is found, a docstring is not."""
    p = tmp_path / "m.py"
    p.write_text('"""Edition "2025" in words."""\n\ndef f(o):\n    """2025"""\n    return o.edition == "2025"\n')
    assert _constants(p) == [(5, "2025")]


def test_editions_folder_errors(tmp_path, monkeypatch):
    from leftbehind.editions import edition, edition_ids
    from leftbehind.errors import SpecError, UsageError

    monkeypatch.setenv("LEFTBEHIND_EDITIONS", str(tmp_path / "missing"))
    with pytest.raises(UsageError, match="LEFTBEHIND_EDITIONS=.*no such folder"):
        edition_ids()
    (tmp_path / "eds").mkdir()
    dup = (SRC / "editions" / "current2025.yaml").read_text("utf-8")
    (tmp_path / "eds" / "dup.yaml").write_text(dup, "utf-8")
    monkeypatch.setenv("LEFTBEHIND_EDITIONS", str(tmp_path / "eds"))
    with pytest.raises(SpecError, match="edition '2025' is declared twice"):
        edition_ids()
    (tmp_path / "eds" / "dup.yaml").write_text(dup.replace('\nid: "2025"\n', '\nid: "x"\n') + "bogus_field: 1\n")
    assert "x" in edition_ids()
    with pytest.raises(SpecError, match="bogus_field"):
        edition("x")
    (tmp_path / "eds" / "dup.yaml").write_text("title: no id\n")
    with pytest.raises(SpecError, match="no top-level id"):
        edition_ids()


def test_an_editions_datasets_and_specs_are_what_its_run_reads_and_rebuilds():
    """The edition's `datasets` are all read by a run of it (declared by its steps), and the specs
    the editions name are the index specs `run` rebuilds (main_job)."""
    from leftbehind.analysis.pipeline import _main_job_specs, declared_inputs
    from leftbehind.editions import edition, edition_ids, editions_for_run
    from leftbehind.options import make_run_options

    specs: set[str] = set()
    for eid in edition_ids():
        read = set(declared_inputs(make_run_options(edition=eid), after_first=False))
        for ed in editions_for_run(eid):
            assert set(ed.datasets) <= read, f"edition {ed.id}: datasets no step reads: {set(ed.datasets) - read}"
        specs |= set(edition(eid).specs)
    assert specs == set(_main_job_specs())
