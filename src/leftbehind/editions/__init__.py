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

>>> from leftbehind.editions import edition
>>> e = edition("2020")
>>> e.pairing("2019").list.size
225
>>> e.published_value("2019", "lbn_lads").value
82.0
"""

from __future__ import annotations

import functools
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from leftbehind.errors import SpecError, UsageError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Strict):
    text: str
    long: str | None = None


class Unit(_Strict):
    id: str
    title: str
    noun: str
    n_areas: int = Field(gt=0)
    code_pattern: str


class IndexRef(_Strict):
    dataset: str
    index: str
    edition: str
    citation: str
    score_column: str | None = None
    rank_column: str | None = None


class PublishedList(_Strict):
    name: str
    size: int
    dataset: str | None
    column: str | None
    source: str


class PublishedCount(_Strict):
    """A published count (wards, residents, local authorities) and what it counts."""

    key: str
    check: str
    value: float
    unit: str
    source: str
    approximate: bool = False
    display: str | None = None
    region: str | None = None
    regions: tuple[str, ...] | None = None
    lad: str | None = None
    codes: str | None = None  # the area codes the published count is on, e.g. lad19


class PublishedRate(_Strict):
    """A published rate of an outcome indicator for one group."""

    indicator: str
    group: str
    value: float
    unit: str
    source: str
    note: str = ""
    months: tuple[str, ...] | None = None


class Claim(_Strict):
    """A quantitative claim of the research, checked by the claims ledger (``analysis/claims.py``)."""

    id: str
    kind: str  # count | rate | gap | correlation | red_wall | furlough | claimant | persistence | missing
    text: str
    source: str
    key: str | None = None  # count: a published count of the pairing
    imd: str | None = None
    indicator: str | None = None
    group: str | None = None
    direction: str | None = None  # gap, correlation: "higher" in left-behind areas / positive
    x: str | None = None
    y: str | None = None
    level: str | None = None
    value: float | None = None
    tolerance: float | None = None
    missing: str | None = None  # data the mirror does not hold
    fetch: str | None = None  # the command (or source) that would fetch it


class Pairing(_Strict):
    imd_index: str
    imd_edition: str
    list: PublishedList
    published: tuple[PublishedCount, ...]
    rates: tuple[PublishedRate, ...] = ()


class Population(_Strict):
    base: str
    label: str


class Outcomes(_Strict):
    dataset: str
    edition: str
    source: str


class UnitEntry(_Strict):
    """A unit of the edition: the base unit, or one built from it by ``rule``."""

    title: str
    table: str
    rule: str  # base | lookup (a best-fit lookup) | lsoa_name_prefix (MSOA 2021 from LSOA names)
    lookup: str | None = None  # rule lookup: the dataset mapping base areas to units
    names: str | None = None  # rule lsoa_name_prefix: the dataset naming the units
    code: str | None = None  # the unit's code column in that dataset
    name: str | None = None  # the unit's name column
    extra_name: str | None = None  # another name (e.g. House of Commons Library MSOA names)


class Edition(_Strict):
    id: str
    title: str
    unit: Unit
    cni: IndexRef
    datasets: tuple[str, ...]
    specs: tuple[str, ...]
    citations: dict[str, Citation]
    run_citations: tuple[str, ...]
    population_base: str | None = None
    pairings: dict[str, Pairing] = {}
    builds_on: str | None = None
    imd: IndexRef | None = None
    population: Population | None = None
    outcomes: Outcomes | None = None
    label: str | None = None
    units: dict[str, UnitEntry] = {}
    published: tuple[PublishedCount, ...] = ()
    claims: tuple[Claim, ...] = ()

    @model_validator(mode="after")
    def _sources_are_cited(self):
        used = {self.cni.citation, *self.run_citations}
        if self.imd is not None:
            used.add(self.imd.citation)
        for p in self.pairings.values():
            used |= {p.list.source, *(c.source for c in p.published), *(r.source for r in p.rates)}
        used |= {c.source for c in self.published}
        used |= {c.source for c in self.claims}
        missing = sorted(used - set(self.citations))
        if missing:
            raise ValueError(f"sources {', '.join(missing)} have no entry under citations")
        return self

    def pairing(self, imd: str) -> Pairing:
        try:
            return self.pairings[imd]
        except KeyError:
            raise UsageError(
                f"edition {self.id} has no IMD {imd} pairing", hint="use one of: " + ", ".join(self.pairings)
            ) from None

    def cite(self, key: str) -> str:
        return self.citations[key].text

    def published_value(self, imd: str, key: str) -> PublishedCount | None:
        return next((c for c in self.pairing(imd).published if c.key == key), None)

    def rates(self, imd: str, indicator: str | None = None) -> list[PublishedRate]:
        return [r for r in self.pairing(imd).rates if indicator is None or r.indicator == indicator]

    def citation_texts(self) -> list[str]:
        return sorted(self.cite(k) for k in self.run_citations)


FILES = {"2020": "research2020.yaml", "2025": "current2025.yaml"}


@functools.cache
def edition(edition_id: str) -> Edition:
    """The edition ``"2020"`` or ``"2025"`` (validated; a bad file is a :class:`SpecError`)."""
    if edition_id not in FILES:
        raise UsageError(f"unknown edition {edition_id!r}", hint="use one of: " + ", ".join(FILES))
    text = resources.files("leftbehind.editions").joinpath(FILES[edition_id]).read_text("utf-8")
    try:
        return Edition.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        e = exc.errors()[0]
        raise SpecError(
            f"edition file {FILES[edition_id]}: {'.'.join(map(str, e['loc']))}: {e['msg']}",
            hint="fix the edition's YAML (see src/leftbehind/editions/__init__.py for the fields)",
        ) from None


def editions_for_run(edition_id: str) -> list[Edition]:
    """The editions a run of ``--edition`` covers, base first (2025 builds on 2020)."""
    e = edition(edition_id)
    return [*(editions_for_run(e.builds_on) if e.builds_on else []), e]
