"""Shared fixtures. Real-data tests read ../shared/data in place (never copied into the repo)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEFTBEHIND_TEST_DATA", ROOT.parent / "shared" / "data"))
_SESSION_CACHE: list[str] = []


def pytest_configure(config):
    """Hermetic real-data tests: the session gets its own, empty cache folder (frames, geometry,
    downloads), so every reader and every cache writer runs in every test session, and nothing a
    developer has cached (by hand, or with older reader code) can make a test pass."""
    tmp = tempfile.mkdtemp(prefix="leftbehind-test-cache-")
    _SESSION_CACHE.append(tmp)
    os.environ["LEFTBEHIND_CACHE"] = tmp
    os.environ.pop("LEFTBEHIND_DATA", None)
    os.environ.pop("LEFTBEHIND_NO_FRAME_CACHE", None)


def pytest_unconfigure(config):
    for tmp in _SESSION_CACHE:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data mirror. Its absence is a failure, not a skip: CI always has it."""
    if not (SHARED / "MANIFEST.csv").is_file():
        pytest.fail(f"the real data mirror is missing: expected {SHARED} (set LEFTBEHIND_TEST_DATA)")
    return SHARED


@pytest.fixture(scope="session")
def ctx(shared_data):
    """A run context on the real mirror, shared by the tests that call library functions."""
    from leftbehind.context import RunContext

    return RunContext(shared_data)


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """No fallback to ../shared/data, an empty download cache, no LEFTBEHIND_DATA."""
    monkeypatch.setenv("LEFTBEHIND_SEARCH_SHARED", "0")
    monkeypatch.setenv("LEFTBEHIND_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LEFTBEHIND_DATA", raising=False)
    return tmp_path


def make_mirror(dest: Path, shared: Path, copy: list[str] = (), link_rest: bool = True) -> Path:
    """A mirror folder laid out like ../shared/data: ``copy`` files are real copies (safe to
    corrupt); every other file is a symlink to the original (read-only)."""
    for src in shared.rglob("*"):
        if src.is_dir():
            continue
        rel = src.relative_to(shared)
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if str(rel) in copy:
            shutil.copyfile(src, out)
            out.chmod(0o644)
        elif link_rest:
            out.symlink_to(src)
    return dest


@pytest.fixture
def mirror_factory(tmp_path, shared_data, isolated_env):
    def factory(*copy: str) -> Path:
        return make_mirror(tmp_path / "mirror", shared_data, list(copy))

    return factory


def run_cli(out: Path, data: Path, *extra: str):
    """`leftbehind run --out OUT --data DATA EXTRA...` in process; asserts it succeeded."""
    from typer.testing import CliRunner

    from leftbehind.cli import app

    res = CliRunner().invoke(app, ["run", "--out", str(out), "--data", str(data), *extra])
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="session")
def run_out(shared_data, tmp_path_factory):
    """One default `leftbehind run` on the real data, shared by the tests that read its outputs."""
    out = tmp_path_factory.mktemp("run") / "out"
    return out, run_cli(out, shared_data).output


@pytest.fixture(scope="session")
def run_2025(shared_data, tmp_path_factory):
    """A `leftbehind run --edition 2025` (the current picture on top of the 2020 analysis)."""
    out = tmp_path_factory.mktemp("run2025") / "out"
    return out, run_cli(out, shared_data, "--edition", "2025", "--skip-indices", "--replicates", "200").output


CHROMIUM = os.environ.get("LEFTBEHIND_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser). CI installs it (.ci/run)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium) "
            "or set LEFTBEHIND_CHROMIUM"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()
