"""CLI commands on a finished run: ``report``, ``serve`` and ``ward-imd-search``."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from leftbehind.cli import app
from leftbehind.outdir import MARKER

ROOT = Path(__file__).resolve().parents[1]
EXPORT_FILES = {"map.png", "leftbehind.xlsx", "wards.geojson", "report.html"}

runner = CliRunner()


@pytest.fixture
def run_copy(run_out, tmp_path) -> Path:
    """A private copy of the shared default run (the commands below write into it)."""
    dest = tmp_path / "run"
    shutil.copytree(run_out[0], dest)
    return dest


def _listing(folder: Path) -> dict[str, int]:
    """Every file and folder under ``folder`` (relative path -> size, -1 for folders)."""
    return {str(p.relative_to(folder)): (-1 if p.is_dir() else p.stat().st_size) for p in folder.rglob("*")}


def _leftovers(folder: Path) -> list[str]:
    """Temporary debris an atomic writer might leave: *.tmp files, hidden work folders, markers."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if (p.name.endswith((".tmp", ".new")) or p.name.startswith(".")) and p.name != MARKER
    )


# ---------------------------------------------------------------- report


def test_report_writes_every_export(run_copy, shared_data):
    before = _listing(run_copy)
    (run_copy / "report.html").unlink()  # it is rebuilt too
    res = runner.invoke(app, ["report", "--out", str(run_copy), "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    after = _listing(run_copy)
    assert set(after) - set(before) == EXPORT_FILES - {"report.html"}
    for f in EXPORT_FILES:
        assert (run_copy / f).is_file() and (run_copy / f).stat().st_size > 10_000, f
        assert f in res.output
    assert (run_copy / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run_copy / "leftbehind.xlsx").read_bytes()[:2] == b"PK"  # a zip container
    assert json.loads((run_copy / "wards.geojson").read_text(encoding="utf-8"))["type"] == "FeatureCollection"
    assert "<html" in (run_copy / "report.html").read_text(encoding="utf-8").lower()
    # the run's own tables are untouched
    assert {k: v for k, v in after.items() if k in before and k not in ("report.html", MARKER)} == {
        k: v for k, v in before.items() if k not in ("report.html", MARKER)
    }
    assert set(json.loads((run_copy / MARKER).read_text())["run_entries"]) >= EXPORT_FILES  # now the run's
    assert _leftovers(run_copy) == []
    assert not [p for p in run_copy.parent.iterdir() if p.name.startswith(".")], "no work folder beside it"


def test_report_only_xlsx_writes_only_that(run_copy, shared_data):
    before = {p: p.stat().st_mtime_ns for p in run_copy.rglob("*") if p.is_file() and p.name != MARKER}
    res = runner.invoke(app, ["report", "--out", str(run_copy), "--only", "xlsx", "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    new = {p for p in run_copy.rglob("*") if p.is_file() and p.name != MARKER} - set(before)
    assert new == {run_copy / "leftbehind.xlsx"}
    for p in ("map.png", "wards.geojson"):
        assert not (run_copy / p).exists()
    assert {p: p.stat().st_mtime_ns for p in before} == before  # report.html and the tables not rewritten
    assert _leftovers(run_copy) == []


def test_report_replaces_an_existing_export_atomically(run_copy, shared_data):
    """A second `report` replaces the file in place: the old inode is gone, nothing is left over."""
    (run_copy / "leftbehind.xlsx").write_bytes(b"old contents")
    old_inode = (run_copy / "leftbehind.xlsx").stat().st_ino
    res = runner.invoke(app, ["report", "--out", str(run_copy), "--only", "xlsx", "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    assert (run_copy / "leftbehind.xlsx").read_bytes()[:2] == b"PK"
    assert (run_copy / "leftbehind.xlsx").stat().st_ino != old_inode  # moved into place, not rewritten
    assert _leftovers(run_copy) == []


def test_report_that_fails_midway_keeps_the_previous_file(run_copy, shared_data, monkeypatch):
    """A writer that dies after writing half a file: the previous export is untouched and no
    partial file or work folder is left in the run folder."""
    import leftbehind.report.exports as exports

    (run_copy / "leftbehind.xlsx").write_bytes(b"previous workbook")

    def half_then_crash(tables, path):
        Path(path).write_bytes(b"PK half a workbook")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exports, "excel", half_then_crash)
    monkeypatch.delenv("LEFTBEHIND_DEBUG", raising=False)  # else the error is re-raised with its traceback
    before = _listing(run_copy)
    res = runner.invoke(app, ["report", "--out", str(run_copy), "--only", "xlsx", "--data", str(shared_data)])
    assert res.exit_code == 3, res.output  # an internal error, reported as such
    assert "disk on fire" in res.output and "Traceback" not in res.output
    assert (run_copy / "leftbehind.xlsx").read_bytes() == b"previous workbook"
    assert _listing(run_copy) == before
    assert _leftovers(run_copy) == []


def test_report_unknown_output_is_a_usage_error(run_copy):
    before = _listing(run_copy)
    res = runner.invoke(app, ["report", "--out", str(run_copy), "--only", "pdf"])
    assert res.exit_code == 2, res.output
    assert "'pdf'" in res.output and "html, png, xlsx or geojson" in res.output
    assert "Traceback" not in res.output
    assert _listing(run_copy) == before


def test_report_on_a_folder_with_no_run_names_it(tmp_path):
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    res = runner.invoke(app, ["report", "--out", str(empty)])
    assert res.exit_code == 2, res.output
    assert str(empty) in res.output and "no finished run" in res.output and "leftbehind run" in res.output
    assert list(empty.iterdir()) == []


# ---------------------------------------------------------------- serve


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (loopback only)
        return r.status, r.headers.get("content-type", ""), r.read()


def test_serve_answers_health_and_summary(run_out, tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    log = (tmp_path / "serve.log").open("w+b")
    proc = subprocess.Popen(
        [sys.executable, "-m", "leftbehind.cli", "serve", "--out", str(run_out[0]), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"serve exited early ({proc.returncode})"
            try:
                status, ctype, body = _get(base + "/health", timeout=2)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
                continue
            assert status == 200 and ctype.startswith("application/json")
            health = json.loads(body)
            break
        assert health is not None, "serve did not answer /health within 30 s"
        assert health["status"] == "ok"
        assert isinstance(health["run_id"], str) and len(health["run_id"]) == 16
        assert health["run_date"][:2] == "20" and "T" in health["run_date"]
        assert health["wards"] == 7_433 and health["edition"] == "2020"

        status, ctype, body = _get(base + "/api/summary")
        summary = json.loads(body)
        assert status == 200 and ctype.startswith("application/json")
        on_disk = json.loads((run_out[0] / "summary.json").read_text(encoding="utf-8"))
        assert summary["groups"] == on_disk["groups"] and summary["options"] == on_disk["options"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
            pytest.fail("serve did not stop within 15 s of SIGTERM")
        log.seek(0)
        output = log.read().decode(errors="replace")
        log.close()
    assert proc.returncode is not None
    assert "Traceback" not in output, output
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        _get(base + "/health", timeout=2)  # the port is closed again


def test_serve_on_an_empty_folder_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(app, ["serve", "--out", str(empty), "--port", str(_free_port())])
    assert res.exit_code == 2, res.output
    assert str(empty) in res.output and "no finished run" in res.output
    assert "Traceback" not in res.output


# ---------------------------------------------------------------- ward-imd-search


def test_ward_imd_search_finds_a_near_exact_construction(shared_data, tmp_path):
    from leftbehind.analysis.wardsearch import CUTOFFS, POPULATIONS, ROUTES
    from leftbehind.editions import edition
    from leftbehind.geography.wards import WARD_MEASURES

    published = edition("2020").pairing("2019").list.size
    assert published == 225  # Local Trust / OCSI's published list
    out = tmp_path / "search.csv"
    res = runner.invoke(app, ["ward-imd-search", "--out", str(out), "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(out)
    key = ["route", "population", "measure", "k_cni", "k_imd"]
    assert set(key + ["matched", "missed", "extra", "f1"]) <= set(t.columns)

    # one row per construction: every route x population x measure x cut-off pair, the unweighted
    # mean once per route (it does not depend on the population base)
    per_route = len(POPULATIONS) * (len(WARD_MEASURES) - 1) + 1
    assert len(t) == len(ROUTES) * per_route * len(CUTOFFS) ** 2
    assert not t.duplicated(key).any()
    assert set(t["route"]) == set(ROUTES) and set(t["measure"]) == set(WARD_MEASURES)

    # the scores are consistent with the published list: matched + missed is its size, and F1
    # follows from the counts
    assert (t["matched"] + t["missed"] == published).all()
    f1 = 2 * t["matched"] / (2 * t["matched"] + t["missed"] + t["extra"])
    assert (f1 - t["f1"]).abs().max() < 1e-6

    best = t.loc[t["f1"].idxmax()]
    assert t.iloc[0]["f1"] == best["f1"]  # sorted best first
    assert best["f1"] >= 0.98 and best["matched"] >= 220, best.to_dict()
    assert t["f1"].min() < best["f1"]  # the constructions differ: the search discriminates
    assert f"of {published}" in res.output and str(out) in res.output
    assert _leftovers(tmp_path) == []
