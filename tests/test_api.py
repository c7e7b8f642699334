"""The Python API (leftbehind.api): its doctests, each function on the real data, what it writes
(nothing without out=; with out= what the command writes), and bad arguments (UsageError)."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import leftbehind as lb
from leftbehind.errors import UsageError
from tests.conftest import run_cli

QUICK = {"ensemble": 0, "skip_indices": True}


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _section(path: Path) -> tuple[dict, dict]:
    """A section's summary.json: (the summary, its section record less the time it was made)."""
    body = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    record = body.pop("section")
    record.pop("made")
    return body, record


# ---------------------------------------------------------------- the package


def test_import_leftbehind_stays_light():
    code = (
        "import sys, leftbehind; "
        "print([m for m in ('pandas', 'numpy', 'pydantic', 'typer', 'leftbehind.api') if m in sys.modules]); "
        "leftbehind.run; print('pandas' in sys.modules, 'leftbehind.api' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "False True"], out.stdout


def test_the_api_is_offered_at_the_top_level():
    import leftbehind.api as api

    for name in api.__all__:
        assert getattr(lb, name) is getattr(api, name), name
        assert api.__dict__[name].__doc__ and ">>>" in api.__dict__[name].__doc__ or name == "SectionResult"
    assert set(api.__all__) <= set(dir(lb))
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        lb.no_such_thing  # noqa: B018


@pytest.mark.realdata
def test_doctests(shared_data):
    import leftbehind.api as api

    res = doctest.testmod(api, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0, res
    assert res.attempted >= 30


# ---------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: lb.run(thresold=0.1), "run: unknown option 'thresold' (did you mean 'threshold'?)"),
        (lambda: lb.areas(edition="2020", wards=1), "areas: unknown option 'wards'"),
        (lambda: lb.run(threshold=1.5), "threshold: Input should be less than 1"),
        (lambda: lb.run(threshold=1e-6), "threshold=1e-06 selects no area"),
        (lambda: lb.run(edition="2030"), "edition: unknown edition '2030'; valid values: 2020, 2025"),
        (lambda: lb.run(exports=True), "exports=True applies only with out="),
        (lambda: lb.run(data="/nowhere", ctx=object()), "give ctx= or data=/verify=, not both"),
        (lambda: lb.areas("2020", unit="msoa21"), "edition 2020 has no unit 'msoa21'"),
        (lambda: lb.robustness(replications=10), "replications=10 is out of range"),
        (lambda: lb.robustness(sobol_n=1.5), "sobol_n= must be a whole number"),
        (lambda: lb.robustness(month="2020-05"), "robustness: unknown option 'month'"),
        (lambda: lb.robustness(ward_imd="median"), "ward_imd: Input should be"),
        (lambda: lb.target("no-such-rule"), "rule 'no-such-rule' is neither a preset nor a file"),
        (lambda: lb.target(42), "a rule is a preset name, a YAML file or a Rule"),
        (lambda: lb.target("cwf", count=0), "count=0 is out of range"),
        (lambda: lb.target("cwf", budget=-1), "budget=-1 is not an amount of money"),
        (lambda: lb.target("cwf", threshold=2), "threshold: Input should be less than 1"),
        (lambda: lb.target("cwf", compare="lbn2020"), "rules cwf and lbn2020 select different units"),
        (lambda: lb.target("cwf", force=True), "force=True applies only with out="),
        (lambda: lb.profile("/nowhere/areas.csv"), "areas file /nowhere/areas.csv not found"),
        (lambda: lb.open("/nowhere"), "/nowhere is not a folder"),
    ],
)
def test_bad_arguments_are_one_usage_error(call, fragment):
    with pytest.raises(UsageError) as exc:
        call()
    assert fragment in exc.value.message, exc.value.message
    assert exc.value.hint


def test_a_users_folder_is_refused_before_any_work(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    for call in (
        lambda: lb.run(out=tmp_path, **QUICK),
        lambda: lb.target("cwf", out=tmp_path),
        lambda: lb.robustness(out=tmp_path),
        lambda: lb.profile(tmp_path / "notes.txt", out=tmp_path),
    ):
        with pytest.raises(UsageError, match="is not a leftbehind output folder"):
            call()
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    with pytest.raises(UsageError, match="holds no finished run"):
        lb.open(tmp_path)


# ---------------------------------------------------------------- on the real data


@pytest.fixture(scope="module")
def folder(shared_data, tmp_path_factory):
    """A quick run at threshold 0.2 written by the API (a fresh context: its inputs are the run's own)."""
    out = tmp_path_factory.mktemp("api") / "out"
    res = lb.run(threshold=0.2, out=out, data=shared_data, **QUICK)
    return out, res


@pytest.mark.realdata
def test_run_returns_typed_results_and_writes_nothing(shared_data, tmp_path, monkeypatch):
    from leftbehind.analysis.results import Results, RunSummary

    monkeypatch.chdir(tmp_path)
    res = lb.run(edition=2025, threshold=0.1, data=shared_data, **QUICK)
    assert isinstance(res, Results) and isinstance(res.summary, RunSummary)
    assert res.options.edition == "2025" and res.summary.current is not None
    assert res.summary.cut_off.cutoff_rank == 743 and res.summary.groups["left_behind"].wards == 226
    assert {"wards", "outcomes", "breakdown_region", "lsoa21", "current_outcomes"} <= set(res.tables)
    assert all(isinstance(t, pd.DataFrame) for t in res.tables.values())
    assert list(tmp_path.iterdir()) == [] and res.folder is None and res.section_list == []
    text = repr(res)
    assert text.startswith("Results(edition='2025', threshold=0.1, left_behind=226, tables=[") and len(text) < 1000


@pytest.mark.realdata
def test_run_out_writes_as_the_command_does(folder, shared_data, tmp_path):
    out, res = folder
    assert res.folder == out and res.summary.options["threshold"] == 0.2
    run_cli(tmp_path / "cli", shared_data, "--threshold", "0.2", "--ensemble", "0", "--skip-indices")
    assert _files(out) == _files(tmp_path / "cli")
    for name in ("wards.csv", "outcomes.csv", "diagnostics.csv", "breakdowns/region.csv", "leftbehind.sqlite"):
        if (out / name).is_file():
            assert (out / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    ours, theirs = (json.loads((d / "summary.json").read_text()) for d in (out, tmp_path / "cli"))
    assert ours["run_key"] == theirs["run_key"] == res.summary.run_key
    assert (out / "report.html").is_file() and (out / ".leftbehind").is_file()


@pytest.mark.realdata
def test_areas_is_the_one_builder(ctx):
    from leftbehind.analysis.areas import COMMON

    w = lb.areas("2020", ctx=ctx)
    assert list(w.columns[: len(COMMON)]) == COMMON and len(w) == 7433
    assert int((w["group"] == "left_behind").sum()) == 226
    wider = lb.areas("2020", ctx=ctx, threshold=0.2, population="mid2019")
    assert int((wider["group"] == "left_behind").sum()) > 226
    w24 = lb.areas("2025", "wards24", ctx=ctx)
    assert len(w24) == 6784 and int((w24["group"] == "left_behind").sum()) == 215


@pytest.mark.realdata
def test_target_without_out_writes_nothing_and_with_out_as_the_command(ctx, shared_data, tmp_path, monkeypatch):
    from leftbehind.cli import app

    monkeypatch.chdir(tmp_path)
    res = lb.target("pride-in-place", ctx=ctx)
    assert list(tmp_path.iterdir()) == [] and res.path is None and res.written == ()
    assert (res.kind, res.key, res.unit) == ("target", "pride-in-place", "msoa21")
    assert res.summary["areas"] == 146 and int(res.tables["target_selection"]["selected"].sum()) == 146
    assert res.summary["checks"]["pride_in_place_phase2"]["matched"] == 95
    assert set(res.tables) == {"target_selection", "target_by_region", "target_by_lad"}
    assert "target_selection (6,856 rows)" in repr(res)

    written = lb.target("pride-in-place", budget=50_000_000, out=tmp_path / "api", ctx=ctx)
    assert written.path == tmp_path / "api" / "target" / "pride-in-place"
    assert written.written == ("target/pride-in-place",)
    args = ["target", "pride-in-place", "--budget", "50000000", "--out", str(tmp_path / "cli")]
    cli = CliRunner().invoke(app, [*args, "--data", str(shared_data)])
    assert cli.exit_code == 0, cli.output
    theirs = tmp_path / "cli" / "target" / "pride-in-place"
    assert _files(written.path) == _files(theirs)
    for f in ("selection.csv", "by_region.csv", "by_lad.csv"):
        assert (written.path / f).read_bytes() == (theirs / f).read_bytes(), f
    (summary, record), (summary_cli, record_cli) = _section(written.path), _section(theirs)
    assert summary == summary_cli and record == record_cli
    assert record["options"] == {"rules": ["pride-in-place"], "threshold": 0.1, "count": None}


@pytest.mark.realdata
def test_target_compare(ctx):
    res = lb.target("cwf", compare="pride-in-place", ctx=ctx)
    assert res.key == "cwf-vs-pride-in-place" and set(res.tables) == {"target_comparison", "target_money_moved"}
    s = res.summary
    assert (s["rule_a"], s["rule_b"], s["selected_a"], s["selected_b"]) == ("cwf", "pride-in-place", 233, 146)


@pytest.mark.realdata
def test_later_sections_follow_the_folders_run(folder, ctx):
    out, res = folder
    t = lb.target("lbn2020", out=out, ctx=ctx)
    _, record = _section(t.path)
    assert record["options"]["threshold"] == 0.2 and record["based_on"] == res.summary.run_key
    with pytest.raises(UsageError, match="contradicts the run in"):
        lb.target("lbn2020", threshold=0.1, out=out, ctx=ctx)
    with pytest.raises(UsageError, match="contradicts the run in"):
        lb.robustness(threshold=0.1, replications=100, out=out, ctx=ctx)
    opened = lb.open(out)
    assert opened.summary.run_key == res.summary.run_key
    assert ("target/lbn2020", False) in [(s.path, s.stale) for s in opened.section_list]
    assert opened.sections["target"]["rule"] == "lbn2020"
    pd.testing.assert_frame_equal(
        opened.tables["wards"][["ward_code", "group"]], res.tables["wards"][["ward_code", "group"]]
    )


@pytest.mark.realdata
def test_robustness(folder, ctx):
    out, res = folder
    rob = lb.robustness(replications=100, sobol_n=64, seed=7, out=out, ctx=ctx)
    assert (rob.kind, rob.key, rob.unit) == ("robustness", "2020", "wd17")
    assert rob.written == ("robustness/2020", "report.html") and rob.path == out / "robustness" / "2020"
    assert len(rob.tables["robustness_areas"]) == 7433 and rob.summary["replications"] == 100
    assert rob.detail is not None
    _, record = _section(rob.path)
    assert record["options"]["threshold"] == 0.2 and record["options"]["edition"] == "2020"
    assert record["based_on"] == res.summary.run_key and record["unit"] == "wd17"
    opened = lb.open(out)
    assert ("robustness/2020", False) in [(s.path, s.stale) for s in opened.section_list]
    assert "robustness_areas" in opened.tables


@pytest.mark.realdata
def test_profile(ctx, tmp_path):
    f = tmp_path / "estates.csv"
    f.write_text("area_id,lsoa21_code\nEast,E01012019\nEast,E01012020\nWest,E01000001\n")
    res = lb.profile(f, ctx=ctx)
    assert res.path is None and not (tmp_path / "out").exists()
    t = res.tables["profiles"].set_index("area")
    assert t.loc["East", "lsoas"] == 2 and t.loc["West", "lsoas"] == 1
    assert sorted(res.files) == ["profiles/east.html", "profiles/west.html"]
    w = lb.profile(f, "Leeds", name="my estates", out=tmp_path / "out", ctx=ctx)
    assert w.key == "my-estates" and w.written == ("profile/my-estates",)
    assert sorted(_files(w.path)) == ["profiles.csv", "profiles/east.html", "profiles/west.html", "summary.json"]
    summary, record = _section(w.path)
    assert summary == {"areas_file": "estates.csv", "areas": 2, "threshold": 0.1}
    assert record["options"] == {"threshold": 0.1, "comparator": "Leeds", "areas_file": "estates.csv"}
    assert (record["edition"], record["unit"], record["command"]) == ("2025", "custom", "profile")
