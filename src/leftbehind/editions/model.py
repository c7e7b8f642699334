"""The pydantic models of an edition file (see :mod:`leftbehind.editions`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from leftbehind.errors import UsageError


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
    help: str | None = None  # what --edition ID does, in the run's --help
    short: str | None = None  # the edition in a few words (the report's options)
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

    @property
    def is_current(self) -> bool:
        """A current edition builds on a research edition (its list is compared with the research one's)."""
        return self.builds_on is not None
