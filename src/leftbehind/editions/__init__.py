"""Editions as data: each edition of the left-behind analysis is one YAML file in this folder.

An edition declares its unit of analysis (with the number of areas and the code pattern), the
Community Needs Index and IMD it crosses, its population base, the datasets and index specs it
stands on, and its **published references**: the published lists, counts and rates the run is
compared with, each with its source, and the citations. Every published figure lives here and
nowhere else in the code.

* ``research2020.yaml`` — CNI 2019 x IMD 2019 (the 2020 update, 225 wards) and x IMD 2015 (the
  2019 list, 206 wards) at December 2017 wards;
* ``current2025.yaml`` — CNI 2023 x IoD2025 at LSOA 2021, built on the 2020 edition (change since
  2020). Larger units are entries under ``units``.

Editions are found, by their ``id``, in this folder and in the folders named by the environment
variable ``LEFTBEHIND_EDITIONS`` (separated by ``:``). An edition with ``builds_on`` is a *current*
edition: it adds its picture to the research edition it builds on. The code asks for an
edition's role (:func:`is_current`, :func:`research_of`), never for an id, so a new edition is one
YAML file (plus its datasets in the catalogue).

This module is light (no pydantic at import, so ``leftbehind --help`` lists the editions
instantly); the models are in :mod:`leftbehind.editions.model`.

>>> from leftbehind.editions import edition
>>> e = edition("2020")
>>> e.pairing("2019").list.size
225
>>> e.published_value("2019", "lbn_lads").value
82.0
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from leftbehind.errors import SpecError, UsageError

if TYPE_CHECKING:
    from leftbehind.editions.model import Edition

ENV = "LEFTBEHIND_EDITIONS"
_MODEL_NAMES = (
    "Citation",
    "Claim",
    "Edition",
    "IndexRef",
    "Outcomes",
    "Pairing",
    "Population",
    "PublishedCount",
    "PublishedList",
    "PublishedRate",
    "Unit",
    "UnitEntry",
)


def __getattr__(name: str):
    if name in _MODEL_NAMES:
        from leftbehind.editions import model

        return getattr(model, name)
    raise AttributeError(name)


@dataclass(frozen=True)
class Found:
    """An edition file found on disk, read only for its top-level ``id``, ``help`` and ``builds_on``."""

    id: str
    path: Path
    help: str
    short: str | None
    builds_on: str | None


def _top(text: str, key: str) -> str | None:
    m = re.search(rf"^{key}:[ \t]*(.*?)[ \t]*(?:#.*)?$", text, re.M)
    if m is None:
        return None
    v = m.group(1)
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        v = v[1:-1]
    return v or None


def _text(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def folders() -> list[Path]:
    """The folders editions are found in: the package's, then those of ``LEFTBEHIND_EDITIONS``."""
    out = [Path(__file__).parent]
    for part in (os.environ.get(ENV) or "").split(os.pathsep):
        if not part.strip():
            continue
        folder = Path(part).expanduser()
        if not folder.is_dir():
            raise UsageError(
                f"{ENV}={part}: no such folder",
                hint=f"point {ENV} at a folder holding edition YAML files, or unset it",
            )
        out.append(folder)
    return out


def _files() -> tuple[tuple[Path, int], ...]:
    """Every edition file with its modification time (the key of the cache of what was found)."""
    out = []
    for folder in folders():
        for path in sorted(folder.glob("*.yaml")):
            try:
                out.append((path, path.stat().st_mtime_ns))
            except OSError:
                continue
    return tuple(out)


@functools.lru_cache(maxsize=8)
def _found(files: tuple[tuple[Path, int], ...]) -> dict[str, Found]:
    found: dict[str, Found] = {}
    by_folder: dict[Path, list[Path]] = {}
    for path, _ in files:
        by_folder.setdefault(path.parent, []).append(path)
    for paths in by_folder.values():
        for path in sorted(paths, key=lambda p: (_top(_text(p), "id") or "", p.name)):
            try:
                text = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise SpecError(f"edition file {path}: cannot be read ({exc})", hint="fix or remove the file") from None
            eid = _top(text, "id")
            if eid is None:
                raise SpecError(
                    f"edition file {path}: no top-level id",
                    hint='give the edition an id on a line of its own, e.g. id: "2026"',
                )
            if eid in found:
                raise SpecError(
                    f"edition {eid!r} is declared twice: in {found[eid].path} and in {path}",
                    hint="give the copy another id",
                )
            found[eid] = Found(
                eid,
                path,
                _top(text, "help") or _top(text, "title") or eid,
                _top(text, "short"),
                _top(text, "builds_on"),
            )
    return found


def found() -> dict[str, Found]:
    """Every edition found, by id (package editions first)."""
    return _found(_files())


def edition_ids() -> tuple[str, ...]:
    """The ids of every edition found, e.g. ``("2020", "2025")``."""
    return tuple(found())


def edition(edition_id: str) -> Edition:
    """An edition by its id (validated; a bad file is a :class:`SpecError`).

    >>> edition("2025").builds_on
    '2020'
    """
    got = found().get(str(edition_id))
    if got is None:
        raise UsageError(f"unknown edition {edition_id!r}", hint="use one of: " + ", ".join(found()))
    return _load(str(got.path))


def _load(path: str) -> Edition:
    return _load_file(path, Path(path).stat().st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _load_file(path: str, mtime: int) -> Edition:
    import yaml
    from pydantic import ValidationError

    from leftbehind.editions.model import Edition

    try:
        return Edition.model_validate(yaml.safe_load(Path(path).read_text("utf-8")))
    except yaml.YAMLError as exc:
        raise SpecError(f"edition file {path}: not valid YAML ({exc})", hint="fix the edition's YAML") from None
    except ValidationError as exc:
        e = exc.errors()[0]
        raise SpecError(
            f"edition file {path}: {'.'.join(map(str, e['loc']))}: {e['msg']}",
            hint="fix the edition's YAML (see src/leftbehind/editions/model.py for the fields)",
        ) from None


def is_current(edition_id: str) -> bool:
    """Whether the edition is a current one (it builds on a research edition)."""
    return edition(edition_id).is_current


def research_of(edition_id: str) -> Edition:
    """The research edition a run of ``edition_id`` stands on: the edition itself, or the one it
    builds on (followed to its root)."""
    e = edition(edition_id)
    seen = {e.id}
    while e.builds_on:
        if e.builds_on in seen:
            raise SpecError(f"edition {edition_id}: builds_on goes round in a circle", hint="fix builds_on")
        e = edition(e.builds_on)
        seen.add(e.id)
    return e


def current_of(edition_id: str) -> Edition | None:
    """The current edition of a run of ``edition_id``, or None for a research-only run."""
    e = edition(edition_id)
    return e if e.is_current else None


def current_for(edition_id: str | None = None) -> Edition:
    """The current edition a command works on: ``edition_id`` if it is a current edition (a folder's
    run, say), else the first current edition found (the package's first)."""
    if edition_id is not None and is_current(edition_id):
        return edition(edition_id)
    for eid in found():
        if is_current(eid):
            return edition(eid)
    raise UsageError("no current edition found", hint=f"restore the package's editions, or check {ENV}")


def editions_for_run(edition_id: str) -> list[Edition]:
    """The editions a run of ``--edition`` covers, base first (2025 builds on 2020)."""
    e = edition(edition_id)
    return [*(editions_for_run(e.builds_on) if e.builds_on else []), e]
