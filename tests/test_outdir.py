"""The output folder as a model (leftbehind.outdir): a user's files are never overwritten or deleted,
every command writes only its own section, a re-run keeps the later sections and marks them stale,
and later commands read the run's options from the folder."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from leftbehind.cli import app
from leftbehind.errors import UsageError
from leftbehind.outdir import MARKER, OutputFolder, run_key, section_key, section_path, section_record

runner = CliRunner()
FAST = ("--ensemble", "0", "--skip-indices", "--replicates", "100")


def invoke(*args: str):
    return runner.invoke(app, [*args])


# ---------------------------------------------------------------- the model on synthetic folders


def test_a_users_non_empty_folder_is_refused_and_untouched(tmp_path):
    user = tmp_path / "thesis"
    (user / "chapters").mkdir(parents=True)
    (user / "thesis.docx").write_text("my work")
    with pytest.raises(UsageError, match="not a leftbehind output folder"):
        OutputFolder(user).check()
    with pytest.raises(UsageError, match="--force"):
        OutputFolder(user).prepare()
    assert sorted(p.name for p in user.iterdir()) == ["chapters", "thesis.docx"]
    # --force adds the marker and nothing else; the user's files stay
    OutputFolder(user, force=True).prepare()
    assert sorted(p.name for p in user.iterdir()) == [MARKER, "chapters", "thesis.docx"]
    assert OutputFolder(user).is_ours()


def test_empty_and_missing_folders_are_used_and_marked(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    OutputFolder(empty).prepare()
    assert (empty / MARKER).is_file()
    new = tmp_path / "new"
    OutputFolder(new).prepare()
    info = json.loads((new / MARKER).read_text())
    assert info["format"] == "leftbehind-output-folder" and info["version"] == 1
    with pytest.raises(UsageError, match="does not exist"):
        OutputFolder(tmp_path / "no" / "such").check()
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(UsageError, match="not a folder"):
        OutputFolder(f).check()


def test_a_folder_of_an_older_run_is_recognised(tmp_path):
    out = tmp_path / "old"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps({"leftbehind_version": "0.1.0", "options": {"threshold": 0.1}}))
    assert OutputFolder(out).is_ours() and OutputFolder(out).run_options() == {"threshold": 0.1}
    (out / "summary.json").write_text('{"previous": true}')  # any other summary.json is a user's file
    assert not OutputFolder(out).is_ours()


def _fake_run(folder: OutputFolder, files: dict[str, str]) -> list[str]:
    def build(tmp):
        for rel, text in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text)
        return sorted(files)

    return folder.write_run(build)


def test_write_run_replaces_only_the_runs_own_entries(tmp_path):
    out = tmp_path / "out"
    folder = OutputFolder(out).prepare()
    _fake_run(folder, {"wards.csv": "a", "breakdowns/x.csv": "b", "old.csv": "c"})
    (out / "spatial" / "2020-wd17").mkdir(parents=True)
    (out / "notes.txt").write_text("a user's note, added with --force")
    _fake_run(folder, {"wards.csv": "A", "breakdowns/y.csv": "B"})
    assert (out / "wards.csv").read_text() == "A"
    assert sorted(p.name for p in (out / "breakdowns").iterdir()) == ["y.csv"]  # the folder is the run's: replaced
    assert not (out / "old.csv").exists()  # written by the previous run, not by this one: removed
    assert (out / "notes.txt").read_text().startswith("a user's")  # never the run's: kept
    assert (out / "spatial" / "2020-wd17").is_dir()  # a section: kept
    assert json.loads((out / MARKER).read_text())["run_entries"] == ["breakdowns", "wards.csv"]
    assert not [p for p in out.iterdir() if p.name.endswith(".new")], "no work folder left"


def test_write_run_never_writes_a_section(tmp_path):
    folder = OutputFolder(tmp_path / "out").prepare()
    with pytest.raises(RuntimeError, match="section folders"):
        _fake_run(folder, {"robustness/areas.csv": "x"})
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [MARKER]


def test_a_failed_swap_moves_the_previous_entries_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    folder = OutputFolder(out).prepare()
    _fake_run(folder, {"a.csv": "old a", "b.csv": "old b"})
    real = os.replace
    calls = {"n": 0}

    def flaky(src, dst):  # the first move of a new b.csv into the folder fails
        calls["n"] += 1
        if str(dst) == str(out / "b.csv") and "/new/" in str(src) and not calls.get("failed"):
            calls["failed"] = True
            raise OSError(5, "I/O error")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError):
        _fake_run(folder, {"a.csv": "new a", "b.csv": "new b"})
    monkeypatch.setattr(os, "replace", real)
    assert (out / "a.csv").read_text() == "old a" and (out / "b.csv").read_text() == "old b"
    assert calls["n"] > 2


def test_sections_stale_against_the_run(tmp_path):
    out = tmp_path / "out"
    folder = OutputFolder(out).prepare()
    summary = {"leftbehind_version": "0.1.0", "options": {"threshold": 0.1}, "inputs": [{"sha256": "ab"}]}
    _fake_run(folder, {"summary.json": json.dumps(summary)})
    key = run_key(summary)
    assert folder.current_run_key() == key
    with folder.section("spatial", "2020-wd17") as tmp:
        rec = section_record("spatial", "2020-wd17", edition="2020", unit="wd17", based_on=key)
        (tmp / "summary.json").write_text(json.dumps({"section": rec}))
    with folder.section("history", None) as tmp:
        (tmp / "summary.json").write_text(json.dumps({"section": section_record("history", None)}))
    (out / "spatial" / "by-hand").mkdir()  # no section record: not a section, never removed
    s = {x.path: x for x in folder.sections()}
    assert set(s) == {"spatial/2020-wd17", "history"}
    assert not s["spatial/2020-wd17"].stale and s["history"].stale  # history was made with no run to base on
    other = dict(summary, options={"threshold": 0.15})
    assert run_key(other) != key
    assert all(x.stale for x in folder.sections(against=run_key(other)))
    assert sorted(folder.clean_sections()) == ["history", "spatial/2020-wd17"]
    assert sorted(p.name for p in (out / "spatial").iterdir()) == ["by-hand"]


def test_options_for_reads_the_run_and_refuses_a_contradiction(tmp_path):
    out = tmp_path / "out"
    folder = OutputFolder(out).prepare()
    summary = {"leftbehind_version": "0.1.0", "options": {"threshold": 0.15, "lookup": "oa"}}
    _fake_run(folder, {"summary.json": json.dumps(summary)})
    eff, based = folder.options_for({"threshold": None, "lookup": None}, command="spatial")
    assert eff == {"threshold": 0.15, "lookup": "oa"} and based == run_key(summary)
    eff, _ = folder.options_for({"threshold": 0.15, "lookup": None}, command="spatial")  # agreeing is fine
    assert eff["threshold"] == 0.15
    with pytest.raises(UsageError, match="--threshold 0.1 contradicts the run") as e:
        folder.options_for({"threshold": 0.1}, command="spatial")
    assert "another --out" in e.value.hint
    empty = OutputFolder(tmp_path / "empty").prepare()  # no run: the flags as given
    assert empty.options_for({"threshold": 0.2, "lookup": None}, command="x") == ({"threshold": 0.2}, None)


def test_section_names():
    assert section_path("robustness", "2025") == "robustness/2025"
    assert section_key("My areas (v2).geojson") == "My-areas-v2.geojson"
    with pytest.raises(UsageError):
        section_key("///")
    with pytest.raises(ValueError):
        section_path("history", "x")


# ---------------------------------------------------------------- the commands on the real data


@pytest.fixture(scope="module")
def finished(shared_data, tmp_path_factory):
    """A finished fast run (2020 edition), copied by each test that changes it."""
    out = tmp_path_factory.mktemp("outdir") / "run"
    res = invoke("run", "--out", str(out), "--data", str(shared_data), *FAST)
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.realdata
def test_run_refuses_a_users_folder_and_the_current_folder(shared_data, tmp_path, monkeypatch):
    user = tmp_path / "user"
    (user / "sub").mkdir(parents=True)
    (user / "thesis.docx").write_text("my work")
    for args in (
        ("run", "--out", str(user), *FAST),
        ("target", "cwf", "--out", str(user)),
        ("spatial", "--out", str(user)),
        ("history", "--out", str(user)),
        ("robustness", "--out", str(user), "--replications", "100"),
        ("designations", "match", str(user / "thesis.docx"), "--out", str(user)),
    ):
        res = invoke(*args, "--data", str(shared_data))
        assert res.exit_code == 2, (args, res.output)
        assert "not a leftbehind output folder" in res.output, args
    assert sorted(p.name for p in user.iterdir()) == ["sub", "thesis.docx"]
    monkeypatch.chdir(user)
    res = invoke("run", "--out", ".", "--data", str(shared_data), *FAST)
    assert res.exit_code == 2 and "not a leftbehind output folder" in res.output
    assert sorted(p.name for p in user.iterdir()) == ["sub", "thesis.docx"]


@pytest.mark.realdata
def test_later_sections_survive_a_rerun_and_are_marked_stale(shared_data, finished, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(finished, out, symlinks=True)
    before = set(os.listdir(out))
    res = invoke("target", "cwf", "--out", str(out), "--data", str(shared_data))
    assert res.exit_code == 0, res.output
    res = invoke("target", "pride-in-place", "--out", str(out), "--data", str(shared_data))
    assert res.exit_code == 0, res.output
    assert before <= set(os.listdir(out))  # the run is untouched by a later command
    assert {p.name for p in (out / "target").iterdir()} == {"cwf", "pride-in-place"}
    # the same run again: the sections are kept and still current
    res = invoke("run", "--out", str(out), "--data", str(shared_data), *FAST)
    assert res.exit_code == 0, res.output
    s = json.loads((out / "summary.json").read_text())
    assert [x["path"] for x in s["sections"]] == ["target/cwf", "target/pride-in-place"]
    assert not any(x["stale"] for x in s["sections"])
    # another threshold: kept, and stale in summary.json, the report and the CLI
    res = invoke("run", "--out", str(out), "--data", str(shared_data), *FAST, "--threshold", "0.12")
    assert res.exit_code == 0, res.output
    assert "kept" in res.output and "stale" in res.output
    s = json.loads((out / "summary.json").read_text())
    assert all(x["stale"] for x in s["sections"]) and (out / "target" / "cwf" / "selection.csv").is_file()
    html = (out / "report.html").read_text()
    assert "target/cwf/" in html and "stale" in html
    # --clean removes them (and nothing else)
    res = invoke("run", "--out", str(out), "--data", str(shared_data), *FAST, "--threshold", "0.12", "--clean")
    assert res.exit_code == 0, res.output
    assert not (out / "target").exists() and (out / "wards.csv").is_file()
    assert json.loads((out / "summary.json").read_text())["sections"] == []


@pytest.mark.realdata
def test_spatial_takes_the_runs_threshold_and_units_sit_side_by_side(shared_data, tmp_path):
    out = tmp_path / "run"
    res = invoke("run", "--out", str(out), "--data", str(shared_data), *FAST, "--threshold", "0.15")
    assert res.exit_code == 0, res.output
    wards = pd.read_csv(out / "wards.csv")
    res = invoke("spatial", "--out", str(out), "--permutations", "99", "--data", str(shared_data))
    assert res.exit_code == 0, res.output
    s = json.loads((out / "spatial" / "2020-ward17" / "summary.json").read_text())
    assert s["threshold"] == 0.15 and s["section"]["options"]["threshold"] == 0.15
    assert s["left_behind"] == int((wards["group"] == "left_behind").sum())  # the run's areas, not 10%
    # an explicit flag contradicting the run is refused, and nothing is written
    res = invoke("spatial", "--out", str(out), "--lookup", "best_fit", "--data", str(shared_data))
    assert res.exit_code == 2 and "contradicts the run" in res.output
    # another edition and unit: its own section beside the first
    res = invoke(
        "spatial", "--out", str(out), "--edition", "2025", "--unit", "msoa21", "--permutations", "99",
        "--data", str(shared_data),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (out / "spatial").iterdir()) == ["2020-ward17", "2025-msoa21"]
    s25 = json.loads((out / "spatial" / "2025-msoa21" / "summary.json").read_text())
    assert s25["section"]["edition"] == "2025" and s25["threshold"] == 0.15
    assert (out / "spatial" / "2020-ward17" / "global.csv").is_file()
