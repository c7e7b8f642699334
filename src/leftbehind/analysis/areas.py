"""The one builder of classified areas: ``(edition, unit, options) -> table``.

Every command that needs "the left-behind areas of unit U for edition E" asks
:func:`classified_areas` (``run``'s steps, ``robustness``, ``spatial``, ``target``, ``history``,
``profile`` and the report), so the same options always give the same areas. The result is
memoised in the run context: a command that asks twice builds once.

* the research edition's unit (CNI 2019 wards 2017): the ward IMD by the run's construction
  (``imd``, ``population``, ``ward_imd``, ``lookup``), residents by ``residents``, the 2020 rule at
  ``threshold`` (:func:`leftbehind.analysis.pipeline.build_wards`);
* the current edition's base unit (LSOA 2021): CNI 2023 x IMD 2025 at ``threshold``
  (:func:`leftbehind.analysis.current.area_table`); ``imd="imd2019"`` pairs CNI 2023 with IMD 2019
  moved onto LSOA 2021 instead;
* the current edition's larger units (wards 2024, MSOA 2021, custom areas): built from the base
  unit by the rule the edition declares (:func:`leftbehind.analysis.units.unit_table`).

:func:`classified_areas` returns each unit's own table (its code column named as the unit's
table has it). :func:`areas_frame` gives every unit the same leading columns: ``area_code,
area_name, lad_code, lad_name, region_name, population, cni_score, cni_rank, imd_score, imd_rank,
group`` and then the unit's own columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from leftbehind.analysis.units import UNIT_COLUMNS

if TYPE_CHECKING:
    from leftbehind.context import RunContext

#: the run options that change a research-edition (ward) table, and a current-edition one
WARD_OPTIONS = ("imd", "population", "ward_imd", "threshold", "lookup", "residents")
CURRENT_OPTIONS = ("threshold",)
COMMON = UNIT_COLUMNS  # the leading columns of every unit's table (analysis/units.py)


def _opts(opts):
    from leftbehind.options import make_run_options

    if opts is None:
        return make_run_options(skip_indices=True, ensemble=0)
    if isinstance(opts, dict):
        return make_run_options(**opts)
    return opts


def _edition_unit(edition_id: str, unit: str | None):
    """The edition and its key for ``unit`` (any spelling of the unit registry; default its own)."""
    from leftbehind.editions import edition
    from leftbehind.errors import UsageError
    from leftbehind.geography.units import same

    ed = edition(edition_id)
    if unit is None:
        return ed, ed.unit.id
    keys = [ed.unit.id, *(u for u in ed.units if u != ed.unit.id)]
    for k in keys:
        if same(k, unit):
            return ed, k
    raise UsageError(f"edition {edition_id} has no unit {unit!r}", hint="use one of: " + ", ".join(keys))


def research_wards(ctx: RunContext, opts=None, edition_id: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The research edition's classified wards and the small-area -> ward shares (memoised): of
    ``edition_id``, or of the edition the options' edition stands on."""
    from leftbehind.editions import edition, research_of

    o = _opts(opts)
    ed_id = research_of(edition_id or o.edition).id
    key = ("classified", ed_id, "wards+shares", tuple((k, getattr(o, k)) for k in WARD_OPTIONS))

    def make():
        from leftbehind.analysis.pipeline import build_wards

        return build_wards(o, edition(ed_id), ctx=ctx)

    wards, shares = ctx.memo(key, make)
    return _copy(wards), shares


def classified_areas(
    ctx: RunContext,
    edition_id: str,
    unit: str | None = None,
    opts=None,
    *,
    imd: str | None = None,
    custom_areas: str | None = None,
) -> pd.DataFrame:
    """The classified areas of ``unit`` (default: the edition's own) for ``edition_id`` under the run
    options ``opts`` (a RunOptions, a dict of options, or None for the defaults).

    ``imd``: for a current edition, ``"imd2019"`` pairs its CNI with IMD 2019 on LSOA 2021 instead of
    the edition's IMD. ``custom_areas``: for the unit ``custom``, the areas file of a targeting rule."""
    from leftbehind.editions import edition

    o = _opts(opts)
    if unit == "custom":
        ed = edition(edition_id)
    else:
        ed, unit = _edition_unit(edition_id, unit)
    if not ed.is_current:  # the research edition: wards
        return research_wards(ctx, o, ed.id)[0]
    key = ("classified", edition_id, unit, imd, custom_areas, tuple((k, getattr(o, k)) for k in CURRENT_OPTIONS))
    return _copy(ctx.memo(key, lambda: _build_current(ctx, ed, unit, o, imd, custom_areas)))


def _current_edition(ed, imd: str | None):
    if imd in (None, ed.imd.index):
        return ed
    if imd == "imd2019":
        return ed.model_copy(update={"imd": ed.imd.model_copy(update={"edition": "IMD 2019 (on LSOA 2021)"})})
    from leftbehind.errors import UsageError

    raise UsageError(f"unknown IMD pairing {imd!r} for edition {ed.id}", hint="use imd2019 or leave it out")


def _build_current(ctx: RunContext, ed, unit: str, o, imd: str | None, custom_areas: str | None) -> pd.DataFrame:
    from leftbehind.analysis.current import area_table
    from leftbehind.analysis.units import imd2019_lsoa21, unit_table

    frame = imd2019_lsoa21(ctx) if imd == "imd2019" else None
    e = _current_edition(ed, imd)
    if unit == ed.unit.id:
        return check_codes(area_table(e, o.threshold, ctx=ctx, imd_frame=frame), ed, "lsoa21_code")
    base = classified_areas(ctx, ed.id, ed.unit.id, o, imd=imd)
    if unit == "custom":
        from leftbehind.editions import UnitEntry

        entry = UnitEntry(title="custom areas", table="custom", rule="areas", names=custom_areas)
        e = e.model_copy(update={"units": {**e.units, "custom": entry}})
    return unit_table(e, unit, base, o.threshold, ctx=ctx, imd_frame=frame)


def areas_frame(
    ctx: RunContext,
    edition_id: str,
    unit: str | None = None,
    opts=None,
    *,
    imd: str | None = None,
    custom_areas: str | None = None,
) -> pd.DataFrame:
    """:func:`classified_areas` with the common leading columns (:data:`COMMON`), sorted by code."""
    from leftbehind.editions import edition

    t = classified_areas(ctx, edition_id, unit, opts, imd=imd, custom_areas=custom_areas)
    ed = edition(edition_id)
    if not ed.is_current:
        t = t.rename(columns={"ward_code": "area_code", "ward_name": "area_name"})
    elif "lsoa21_code" in t.columns and "area_code" not in t.columns:
        t = t.rename(columns={"lsoa21_code": "area_code", "lsoa21_name": "area_name"})
    rest = [c for c in t.columns if c not in COMMON]
    out = t[[*COMMON, *rest]].sort_values("area_code", kind="stable").reset_index(drop=True)
    out.attrs.update(t.attrs)
    return out


def check_codes(t: pd.DataFrame, ed, column: str) -> pd.DataFrame:
    """The edition's base-unit codes all match its ``unit.code_pattern`` (a DataError otherwise)."""
    codes = t[column].astype("string")
    bad = ~codes.str.fullmatch(ed.unit.code_pattern.removeprefix("^").removesuffix("$")).fillna(False)
    if bad.any():
        from leftbehind.errors import DataError

        examples = ", ".join(map(str, codes[bad].head(3)))
        raise DataError(
            f"edition {ed.id}: {int(bad.sum()):,} of the {len(t):,} {ed.unit.title} codes do not match the "
            f"edition's code pattern {ed.unit.code_pattern} (e.g. {examples})",
            hint=f"check the inputs are the {ed.unit.title} editions the edition names ({ed.cni.dataset}, "
            f"{ed.imd.dataset if ed.imd else ''})",
        )
    return t


def _copy(t: pd.DataFrame) -> pd.DataFrame:
    out = t.copy()
    out.attrs = dict(t.attrs)
    return out
