"""The unit registry (``units.yaml`` beside this module): each unit of analysis declared once.

>>> from leftbehind.geography.units import unit, normalise
>>> normalise("wards24"), normalise("ward17"), normalise("msoa21")
('wd24', 'wd17', 'msoa21')
>>> unit("wd24").title
'Electoral wards (December 2024)'
"""

from __future__ import annotations

import functools
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict

from leftbehind.errors import UsageError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(_Strict):
    dataset: str
    code: str
    name: str


class BuiltFrom(_Strict):
    unit: str | None
    rule: str


class UnitDef(_Strict):
    id: str
    title: str
    noun: str
    code_pattern: str
    n_areas: int | None
    names: Names | None
    polygons: str | None
    built_from: BuiltFrom
    population: str
    aliases: tuple[str, ...] = ()


@functools.cache
def registry() -> dict[str, UnitDef]:
    """Every unit, by id."""
    raw = yaml.safe_load(resources.files("leftbehind.geography").joinpath("units.yaml").read_text("utf-8"))
    out = {k: UnitDef(id=k, **v) for k, v in raw["units"].items()}
    seen: dict[str, str] = {}
    for u in out.values():
        for name in (u.id, *u.aliases):
            if name in seen:
                raise AssertionError(f"unit spelling {name!r} is used by {seen[name]} and {u.id}")
            seen[name] = u.id
    return out


@functools.cache
def _spellings() -> dict[str, str]:
    return {name: u.id for u in registry().values() for name in (u.id, *u.aliases)}


def normalise(name: str) -> str:
    """The unit id of a spelling (an id or an alias); a UsageError naming the valid ids otherwise."""
    try:
        return _spellings()[name]
    except KeyError:
        raise UsageError(f"unknown unit {name!r}", hint="use one of: " + ", ".join(registry())) from None


def unit(name: str) -> UnitDef:
    """The unit of a spelling."""
    return registry()[normalise(name)]


def same(a: str, b: str) -> bool:
    """Whether two spellings name the same unit."""
    sp = _spellings()
    return sp.get(a, a) == sp.get(b, b)
