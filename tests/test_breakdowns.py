"""Unit tests: ward counts and residents by group per area, and by constituency (hand-built wards)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leftbehind.analysis.breakdowns import breakdown, constituency_breakdown
from leftbehind.analysis.leftbehind import GROUPS

WARDS = pd.DataFrame(
    [
        # ward_code, group, population, region_code, region_name
        ("W01", "left_behind", 1000.0, "R2", "North"),
        ("W02", "left_behind", 2000.0, "R2", "North"),
        ("W03", "other_deprived", 1500.0, "R2", "North"),
        ("W04", "rest", 4000.0, "R2", "North"),
        ("W05", "left_behind", 500.0, "R1", "South"),
        ("W06", "rest", 3000.0, "R1", "South"),
        ("W07", "no_imd", np.nan, "R1", "South"),  # missing population counts as 0
        ("W08", "rest", 2500.0, "R3", "East"),
        ("W09", "rest", 1500.0, "R3", "East"),
    ],
    columns=["ward_code", "group", "population", "region_code", "region_name"],
)


def columns(unit: str) -> list[str]:
    return [
        "area_code",
        "area_name",
        *(f"{unit}_{g}" for g in GROUPS),
        f"{unit}_total",
        *(f"population_{g}" for g in GROUPS),
        "population_total",
        "share_population_left_behind",
    ]


@pytest.fixture(scope="module")
def by_region() -> pd.DataFrame:
    return breakdown(WARDS, "region_code", "region_name")


def test_columns_order_and_rows_sorted(by_region):
    assert list(by_region.columns) == columns("wards")
    assert list(by_region["area_code"]) == ["R1", "R2", "R3"]  # sorted by code, not input order
    assert list(by_region["area_name"]) == ["South", "North", "East"]
    assert by_region.index.tolist() == [0, 1, 2]


def test_counts_and_populations_by_group(by_region):
    r = by_region.set_index("area_code")
    assert r.loc["R2", ["wards_left_behind", "wards_other_deprived", "wards_rest", "wards_no_imd"]].tolist() == [
        2,
        1,
        1,
        0,
    ]
    assert r.loc["R1", ["wards_left_behind", "wards_other_deprived", "wards_rest", "wards_no_imd"]].tolist() == [
        1,
        0,
        1,
        1,
    ]
    assert r.loc["R2", "population_left_behind"] == 3000
    assert r.loc["R2", "population_other_deprived"] == 1500
    assert r.loc["R2", "population_rest"] == 4000
    assert r.loc["R1", "population_no_imd"] == 0  # NaN population -> 0, the ward still counted
    assert r.loc["R1", "wards_no_imd"] == 1


def test_totals_and_share(by_region):
    r = by_region.set_index("area_code")
    assert r["wards_total"].tolist() == [3, 4, 2]
    assert r["population_total"].tolist() == pytest.approx([3500, 8500, 4000])
    assert r.loc["R2", "share_population_left_behind"] == pytest.approx(3000 / 8500)
    assert r.loc["R1", "share_population_left_behind"] == pytest.approx(500 / 3500)
    assert r.loc["R3", "share_population_left_behind"] == 0
    assert by_region["wards_total"].sum() == len(WARDS)
    assert by_region["population_total"].sum() == pytest.approx(WARDS["population"].sum())
    counts = [f"wards_{g}" for g in GROUPS]
    assert (by_region[counts].sum(axis=1) == by_region["wards_total"]).all()


def test_count_columns_are_integers(by_region):
    for c in [f"wards_{g}" for g in GROUPS] + ["wards_total"]:
        assert by_region[c].dtype == np.int64, c
    for c in [f"population_{g}" for g in GROUPS] + ["population_total", "share_population_left_behind"]:
        assert by_region[c].dtype == np.float64, c


def test_absent_group_columns_are_present():
    only_rest = WARDS[WARDS["group"] == "rest"]
    b = breakdown(only_rest, "region_code", "region_name")
    assert list(b.columns) == columns("wards")
    for g in ("left_behind", "other_deprived", "no_imd"):
        assert (b[f"wards_{g}"] == 0).all() and (b[f"population_{g}"] == 0).all()
    assert (b["share_population_left_behind"] == 0).all()
    assert b["wards_left_behind"].dtype == np.int64


def test_area_with_no_people_has_no_share():
    w = pd.DataFrame(
        {"ward_code": ["X1"], "group": ["rest"], "population": [np.nan], "lad_code": ["L1"], "lad_name": ["Nowhere"]}
    )
    b = breakdown(w, "lad_code", "lad_name")
    assert b.loc[0, "wards_total"] == 1 and b.loc[0, "population_total"] == 0
    assert np.isnan(b.loc[0, "share_population_left_behind"])


def test_unit_renames_count_columns():
    lsoas = WARDS.rename(columns={"ward_code": "lsoa21_code"})
    b = breakdown(lsoas, "region_code", "region_name", unit="lsoas")
    assert list(b.columns) == columns("lsoas")
    assert not any(c.startswith("wards_") for c in b.columns)
    assert b["lsoas_total"].tolist() == [3, 4, 2]
    assert b["lsoas_left_behind"].dtype == np.int64
    same = breakdown(WARDS, "region_code", "region_name")
    assert b.drop(columns=columns("lsoas")[2:7]).equals(same.drop(columns=columns("wards")[2:7]))


# ------------------------------------------------------------------ constituencies

CWARDS = pd.DataFrame(
    [
        ("S1", "left_behind", 1000.0),  # split 0.25 P1 / 0.75 P2: counted in P2
        ("S2", "other_deprived", 800.0),  # split 0.5 P3 / 0.5 P2: a tie, counted in P2 (lower code)
        ("U1", "rest", 2000.0),  # whole in P3
        ("U2", "left_behind", 600.0),  # whole in P3
        ("U3", "rest", 900.0),  # whole in P2
    ],
    columns=["ward_code", "group", "population"],
)
PIECES = pd.DataFrame(
    [
        ("S1", "E14000001", "Alpha", 0.25),
        ("S1", "E14000002", "Beta", 0.75),
        ("S2", "E14000003", "Gamma", 0.5),
        ("S2", "E14000002", "Beta", 0.5),
        ("U1", "E14000003", "Gamma", 1.0),
        ("U2", "E14000003", "Gamma", 1.0),
        ("U3", "E14000002", "Beta", 1.0),
    ],
    columns=["wd17cd", "pcon_cd", "pcon_nm", "share"],
)


@pytest.fixture(scope="module")
def by_pcon() -> pd.DataFrame:
    return constituency_breakdown(CWARDS, PIECES)


def test_constituency_columns_and_order(by_pcon):
    assert list(by_pcon.columns) == columns("wards")
    assert list(by_pcon["area_code"]) == ["E14000001", "E14000002", "E14000003"]
    assert list(by_pcon["area_name"]) == ["Alpha", "Beta", "Gamma"]


def test_split_ward_counted_once_in_its_largest_piece(by_pcon):
    p = by_pcon.set_index("area_code")
    # S1 (LB) goes to P2 (0.75); S2 (OD) ties 0.5/0.5 and goes to the lower code, P2 rather than P3
    assert p.loc["E14000002", ["wards_left_behind", "wards_other_deprived", "wards_rest"]].tolist() == [1, 1, 1]
    assert p.loc["E14000003", ["wards_left_behind", "wards_other_deprived", "wards_rest"]].tolist() == [1, 0, 1]
    # P1 holds only a minority piece: no ward counted, but a row with its people
    assert p.loc["E14000001", "wards_total"] == 0
    assert by_pcon["wards_total"].sum() == len(CWARDS)  # every ward counted exactly once
    for c in [f"wards_{g}" for g in GROUPS] + ["wards_total"]:
        assert by_pcon[c].dtype == np.int64, c


def test_split_ward_population_shared_by_pieces(by_pcon):
    p = by_pcon.set_index("area_code")
    assert p.loc["E14000001", "population_left_behind"] == pytest.approx(250)
    assert p.loc["E14000002", "population_left_behind"] == pytest.approx(750)
    assert p.loc["E14000002", "population_other_deprived"] == pytest.approx(400)
    assert p.loc["E14000003", "population_other_deprived"] == pytest.approx(400)
    assert p.loc["E14000003", "population_left_behind"] == pytest.approx(600)
    assert p["population_total"].tolist() == pytest.approx([250, 750 + 400 + 900, 400 + 2000 + 600])
    assert by_pcon["population_total"].sum() == pytest.approx(CWARDS["population"].sum())  # people preserved
    assert p.loc["E14000001", "share_population_left_behind"] == pytest.approx(1.0)
    assert p.loc["E14000003", "share_population_left_behind"] == pytest.approx(600 / 3000)


def test_tie_break_does_not_depend_on_row_order():
    shuffled = PIECES.iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(constituency_breakdown(CWARDS, shuffled), constituency_breakdown(CWARDS, PIECES))
