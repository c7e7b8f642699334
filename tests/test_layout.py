"""tests/README.md names, for every source module, the test files that cover it."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def test_every_module_has_its_tests_listed():
    text = (ROOT / "tests" / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([^`]+\.py)` \| (.+) \|$", text, flags=re.M))
    src = ROOT / "src" / "leftbehind"
    modules = {
        p.relative_to(src).as_posix()
        for p in src.rglob("*.py")
        if p.name != "__init__.py" or p.parent.name in ("data", "editions", "robustness", "targeting")
    }
    modules -= {"analysis/robustness/__init__.py"}
    assert sorted(modules - set(rows)) == []
    for module, files in rows.items():
        assert (src / module).is_file(), module
        for f in re.findall(r"`([^`]+)`", files):
            assert (ROOT / "tests" / f).is_file(), (module, f)
