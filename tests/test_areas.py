"""One builder of classified areas (leftbehind.analysis.areas) and the unit registry
(leftbehind.geography.units): every command gets the same areas for the same options."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from leftbehind.analysis.areas import COMMON, areas_frame, classified_areas, research_wards
from leftbehind.data.catalogue import load_catalogue
from leftbehind.editions import edition, edition_ids
from leftbehind.errors import UsageError
from leftbehind.geography.units import normalise, registry, same, unit
from leftbehind.options import make_run_options
from tests.conftest import ROOT

SRC = ROOT / "src" / "leftbehind"

# ---------------------------------------------------------------- the unit registry


def test_each_unit_is_declared_once_with_one_spelling():
    reg = registry()
    assert set(reg) == {"lsoa11", "wd17", "lsoa21", "wd24", "msoa21", "custom"}
    assert normalise("ward17") == normalise("wards17") == "wd17" and normalise("wards24") == "wd24"
    assert same("wards24", "wd24") and not same("wd17", "wd24")
    with pytest.raises(UsageError, match="unknown unit 'ward99'"):
        normalise("ward99")
    cat = set(load_catalogue().ids())
    for u in reg.values():
        for ds in (u.polygons, u.names.dataset if u.names else None):
            assert ds is None or ds in cat, (u.id, ds)
        assert u.built_from.unit is None or u.built_from.unit in reg
        if u.n_areas:
            assert re.compile(u.code_pattern)


def test_every_editions_unit_is_a_registered_unit():
    for e in edition_ids():
        ed = edition(e)
        assert normalise(ed.unit.id) == ed.unit.id
        assert unit(ed.unit.id).code_pattern == ed.unit.code_pattern
        assert unit(ed.unit.id).n_areas == ed.unit.n_areas
        for key in ed.units:
            normalise(key)  # every unit an edition declares is in the registry


# ---------------------------------------------------------------- the builder


def test_no_other_builder_of_classified_areas():
    """grep: build_wards, area_table and units.unit_table are called only by the builder."""
    calls = re.compile(r"\b(build_wards|area_table|unit_table as build_unit|units import unit_table)\b")
    offenders = []
    for p in SRC.rglob("*.py"):
        rel = p.relative_to(SRC).as_posix()
        if rel in ("analysis/areas.py",):
            continue
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if calls.search(line) and not line.lstrip().startswith(
                ("def ", "#", '"', "from leftbehind.analysis.units import UNIT")
            ):
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert offenders == []


@pytest.mark.realdata
def test_the_builder_is_memoised_and_returns_copies(ctx):
    a = classified_areas(ctx, "2025", "lsoa21", make_run_options(threshold=0.12))
    b = classified_areas(ctx, "2025", "lsoa21", {"threshold": 0.12})
    assert a is not b and a.equals(b)
    a.loc[0, "group"] = "changed"
    assert classified_areas(ctx, "2025", "lsoa21", {"threshold": 0.12}).loc[0, "group"] != "changed"
    keys = [k for k in ctx._memo if isinstance(k, tuple) and k[:3] == ("classified", "2025", "lsoa21")]
    assert len([k for k in keys if ("threshold", 0.12) in k[-1]]) == 1  # built once


@pytest.mark.realdata
@pytest.mark.parametrize(("ed", "unit_"), [("2020", None), ("2025", "lsoa21"), ("2025", "wd24"), ("2025", "msoa21")])
def test_every_unit_has_the_common_columns(ctx, ed, unit_):
    t = areas_frame(ctx, ed, unit_, {"threshold": 0.10})
    assert list(t.columns[: len(COMMON)]) == COMMON
    assert t["area_code"].is_unique and t["area_code"].is_monotonic_increasing
    assert set(t["group"]) <= {"left_behind", "other_deprived", "rest", "no_imd"}
    n = edition(ed).unit.n_areas if unit_ in (None, "lsoa21") else unit(unit_).n_areas
    assert len(t) == n
    k = int(t.attrs["cutoff"])
    lb = t["group"] == "left_behind"
    assert (t.loc[lb, "cni_rank"] <= k).all() and (t.loc[lb, "imd_rank"] <= k).all()


@pytest.mark.realdata
def test_threshold_and_construction_reach_every_unit(ctx):
    o = make_run_options(threshold=0.15, lookup="best_fit", skip_indices=True, ensemble=0)
    w, shares = research_wards(ctx, o)
    assert int(w.attrs["cutoff"]) == int(0.15 * 7433)
    assert (w["group"] == "left_behind").sum() > (areas_frame(ctx, "2020")["group"] == "left_behind").sum()
    assert isinstance(shares, pd.DataFrame)
    m = areas_frame(ctx, "2025", "msoa21", o)
    assert int(m.attrs["cutoff"]) == int(0.15 * len(m))
    with pytest.raises(UsageError, match="has no unit"):
        classified_areas(ctx, "2020", "msoa21")
