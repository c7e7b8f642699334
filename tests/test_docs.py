"""The user guide (mkdocs.yml, docs/): it builds with --strict, every navigation page exists, and
the built site loads nothing from the network (no web fonts, no CDN scripts or styles)."""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

DOCS = ROOT / "docs"


def _mkdocs() -> list[str]:
    """The venv's mkdocs (beside the test interpreter), else the same interpreter's module."""
    exe = Path(sys.executable).with_name("mkdocs")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "mkdocs"]


def _config() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def _nav_pages(nav) -> list[str]:
    """Every page named in the nav (nested sections, 'Title: page.md' or bare 'page.md')."""
    pages: list[str] = []
    for item in nav:
        values = item.values() if isinstance(item, dict) else [item]
        for v in values:
            if isinstance(v, list):
                pages += _nav_pages(v)
            elif isinstance(v, str) and not v.startswith(("http://", "https://")):
                pages.append(v)
    return pages


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [*_mkdocs(), "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return out, proc


def test_every_nav_page_exists():
    pages = _nav_pages(_config()["nav"])
    assert "index.md" in pages
    missing = [p for p in pages if not (DOCS / p).is_file()]
    assert missing == [], f"pages named in mkdocs.yml's nav but not in docs/: {missing}"
    assert len(pages) == len(set(pages)), "a page is listed twice in the nav"


def test_strict_build_passes_with_no_warnings(site):
    out, proc = site
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "WARNING" not in log, log
    for page in _nav_pages(_config()["nav"]):
        assert (out / Path(page).with_suffix(".html")).is_file(), page


class _Assets(HTMLParser):
    """The URLs a page loads: <link href>, <script src> (and <img src>, <iframe src>)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("href"):
            self.urls.append((tag, a["href"]))
        elif tag in ("script", "img", "iframe") and a.get("src"):
            self.urls.append((tag, a["src"]))


def test_built_site_is_offline(site):
    out, proc = site
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pages = sorted(out.rglob("*.html"))
    assert pages
    remote = []
    for page in pages:
        parser = _Assets()
        parser.feed(page.read_text(encoding="utf-8"))
        remote += [
            (page.name, tag, url) for tag, url in parser.urls if url.lower().startswith(("http://", "https://", "//"))
        ]
    assert remote == [], f"pages load assets from the network: {remote[:10]}"
    text = (out / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in text and "fonts.gstatic.com" not in text
    # search works from file:// (the offline plugin inlines the index; the worker shim is local)
    assert (out / "search" / "search_index.js").is_file()
    assert (out / "javascripts" / "iframe-worker-shim.js").is_file()


def test_config_is_offline_by_design():
    cfg = _config()
    assert cfg["theme"]["font"] is False
    plugins = [p if isinstance(p, str) else next(iter(p)) for p in cfg["plugins"]]
    assert "search" in plugins and "offline" in plugins
    assert cfg["use_directory_urls"] is False
    for script in cfg["extra"]["polyfills"]:
        assert not script.startswith(("http://", "https://", "//")), script
        assert (DOCS / script).is_file(), script
