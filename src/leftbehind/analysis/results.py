"""Typed results of a run: what the steps hand to the report, the web app and the CLI.

:class:`Results` holds the options, the output tables (keyed by their name in the output-table
registry, ``report/outputs.yaml``), the rebuilt indices and a :class:`RunSummary`. The summary is
a pydantic model: ``summary.json`` is its dump, :func:`RunSummary.model_validate` reads it back,
and every layer reads it by attribute (``results.summary.cut_off.cutoff_rank``), never by
string keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, model_serializer

if TYPE_CHECKING:
    import pandas as pd


def utc_now() -> str:
    """The current UTC date and time, ISO 8601 to the second (``2025-12-01T12:05:33Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CutOff(_Model):
    rule: str
    wards: int
    cutoff_rank: int


class GroupCount(_Model):
    wards: int
    population: int


class LsoaGroupCount(_Model):
    lsoas: int
    population: int


class LadCounts(_Model):
    name: str
    left_behind: GroupCount
    other_deprived: GroupCount
    rest: GroupCount
    no_imd: GroupCount


class Diagnostics(_Model):
    """Our left-behind list against a published one."""

    published: int
    ours: int
    matched: int
    missed: int
    extra: int
    precision: float
    recall: float
    f1: float


class PoliticsSummary(_Model):
    red_wall_rule: str
    red_wall_seats_uk: int
    red_wall_seats_england: int
    lbn_wards_in_red_wall_seats: int
    lbn_residents_in_red_wall_seats: int
    lbn_wards_in_other_seats: int
    lbn_residents_in_other_seats: int
    constituencies: int
    leave_source: str


class ClaimantStatus(_Model):
    """Whether the claimant count for the month was available (offline runs use the cache)."""

    available: bool
    month: str
    message: str | None = None
    how_to_fetch: str | None = None
    lsoas_without_count: int | None = None
    source: str | None = None

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler):  # only the keys that apply to the case (available or not)
        return {k: v for k, v in handler(self).items() if v is not None}


class EconomySummary(_Model):
    claimant_count: ClaimantStatus


class Transitions(_Model):
    current_lb_lsoas_persistent: int
    current_lb_lsoas_new: int
    wards_2020_still: int
    wards_2020_no_longer: int
    rule: str


class UnitSummary(_Model):
    """The current edition at one unit (ward 2024, MSOA 2021)."""

    title: str
    areas: int
    cutoff_rank: int
    left_behind: int
    left_behind_population: int
    other_deprived: int
    wards_2020_in_left_behind_units: int
    wards_2020_published: int


class CurrentSummary(_Model):
    edition: str
    cutoff_rank: int
    rule: str
    population_base: str
    groups: dict[str, LsoaGroupCount]
    transitions: Transitions | None = None
    units: dict[str, UnitSummary] = {}


class PublishedCheck(_Model):
    check: str
    ours: float
    published: float
    difference: float
    unit: str
    source: str
    note: str = ""


class IndexSummary(_Model):
    edition: str
    areas: int
    fit: dict[str, Any]


class InputRecord(_Model):
    dataset: str
    title: str
    edition: str
    file: str
    origin: str
    sha256: str
    sha256_matches_catalogue: bool
    licence: str


class SectionState(_Model):
    """A later section of a run folder (robustness, history, spatial, target, profile ...)."""

    path: str
    command: str
    edition: str | None = None
    unit: str | None = None
    options: dict[str, Any] = {}
    made: str | None = None
    based_on: str | None = None
    stale: bool = False
    reason: str = ""


class RunSummary(_Model):
    """Everything ``summary.json`` says (field order = file order)."""

    leftbehind_version: str
    run_date: str | None = None  # when the run was written (UTC, ISO 8601: utc_now()); None in older summaries
    options: dict[str, Any]
    cut_off: CutOff
    groups: dict[str, GroupCount]
    by_region: dict[str, dict[str, GroupCount]]
    by_lad: dict[str, LadCounts]
    diagnostics: Diagnostics | None
    politics: PoliticsSummary
    economy: EconomySummary
    current: CurrentSummary | None
    published_checks: list[PublishedCheck]
    indices: dict[str, IndexSummary]
    inputs: list[InputRecord]
    citations: list[str]
    files: list[str] = []
    # the key of this run (leftbehind.outdir.run_key) and the later sections of its folder as found when
    # it was written, each with its state ("stale": made from another run); the report re-reads them
    run_key: str | None = None
    sections: list[SectionState] = []


@dataclass
class IndexBuild:
    """One shipped index rebuilt and compared with its published values."""

    spec: Any  # leftbehind.indices.spec.IndexSpec
    built: pd.DataFrame
    fit: Any  # leftbehind.indices.build.Fit
    resolved: Any  # leftbehind.data.sources.Resolved


@dataclass
class Results:
    options: Any  # RunOptions (leftbehind.options)
    summary: RunSummary | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    fits: list[IndexBuild] = field(default_factory=list)
    # summaries of the later commands run on the folder (history, spatial: DIR/<name>/summary.json)
    sections: dict[str, dict] = field(default_factory=dict)
    # every later section of the folder (leftbehind.outdir.SectionInfo), and the one of each kind shown
    section_list: list[Any] = field(default_factory=list)
    section_paths: dict[str, str] = field(default_factory=dict)  # kind -> path of the instance shown
    attachments: dict[str, bytes] = field(default_factory=dict)  # e.g. spatial/map.png
    folder: Path | None = None  # the run folder the results were read from (read_results), else None

    def __repr__(self) -> str:  # a notebook shows this: the run in one line, not every table
        o = self.options
        s = self.summary
        lb = f", left_behind={s.groups['left_behind'].wards}" if s is not None and "left_behind" in s.groups else ""
        where = f", folder={str(self.folder)!r}" if self.folder is not None else ""
        sections = f", sections={[x.path for x in self.section_list]}" if self.section_list else ""
        return (
            f"Results(edition={getattr(o, 'edition', None)!r}, threshold={getattr(o, 'threshold', None)!r}{lb}, "
            f"tables={sorted(self.tables)}{sections}{where})"
        )
