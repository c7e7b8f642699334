"""Unit tests: the current edition (LSOA 2021) on hand-built lookups, read through a fake run context.

(``tests/test_current.py`` runs the same functions on the real files.)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from leftbehind.analysis.current import (
    LSOA21_COLUMNS,
    MEANS_2025,
    area_table,
    outcomes_2025,
    transition_counts,
    transitions,
    ward_layer,
)
from leftbehind.editions import edition
from leftbehind.errors import DataError


class FakeContext:
    """Just enough of :class:`leftbehind.context.RunContext`: ``load`` and ``memo``."""

    def __init__(self, frames: dict[str, pd.DataFrame]):
        self.frames = frames
        self.loaded: list[str] = []

    def load(self, dataset_id: str) -> pd.DataFrame:
        self.loaded.append(dataset_id)
        return self.frames[dataset_id].copy()

    def memo(self, key, make):
        return make()


# ------------------------------------------------------------------ transitions since 2020

# LSOA 2011 -> LSOA 2021 (ONS best fit): b is split, d and e merge
LOOKUP_11_21 = pd.DataFrame(
    [
        ("E11a", "E21a", "U", "LAD1"),
        ("E11a2", "E21a2", "U", "LAD1"),
        ("E11b", "E21bx", "S", "LAD1"),
        ("E11b", "E21by", "S", "LAD1"),
        ("E11c", "E21c", "U", "LAD2"),
        ("E11d", "E21m", "M", "LAD2"),
        ("E11e", "E21m", "M", "LAD2"),
        ("E11f", "E21f", "U", "LAD1"),
        ("E11h", "E21h", "U", "LAD3"),
        ("E11i", "E21i", "U", "LAD4"),
    ],
    columns=["lsoa11cd", "lsoa21cd", "change_code", "lad22cd"],
)
LSOA11_WARD = {
    "E11a": "WA",
    "E11a2": "WA",
    "E11b": "WB",
    "E11c": "WC",
    "E11d": "WD",
    "E11e": "WE",
    "E11f": "WF",
    "E11h": "WH",
    "E11i": "WI",
}
LOOKUP_11_WD17 = pd.DataFrame(
    {
        "lsoa11cd": list(LSOA11_WARD),
        "wd17cd": list(LSOA11_WARD.values()),
        "wd17nm": [f"Ward {w}" for w in LSOA11_WARD.values()],
        "lad17cd": "E06000001",
    }
)
REGION = {"LAD1": "North", "LAD2": "South", "LAD3": "East", "LAD4": "West"}
# ward, lad, published 2020 left-behind flag
WARDS_2020 = [
    ("WA", "LAD1", True),
    ("WB", "LAD1", True),
    ("WC", "LAD2", False),
    ("WD", "LAD2", True),
    ("WE", "LAD2", False),
    ("WF", "LAD1", True),
    ("WG", "LAD1", False),  # no LSOA traces to it
    ("WH", "LAD3", True),
    ("WI", "LAD4", False),
]
WARDS = pd.DataFrame(
    {
        "ward_code": [w for w, _, _ in WARDS_2020],
        "ward_name": [f"Ward {w}" for w, _, _ in WARDS_2020],
        "lad_code": [lad for _, lad, _ in WARDS_2020],
        "lad_name": [f"Council {lad}" for _, lad, _ in WARDS_2020],
        "region_name": [REGION[lad] for _, lad, _ in WARDS_2020],
        "left_behind_published_2020": [flag for _, _, flag in WARDS_2020],
    }
)
# LSOA 2021, LAD, group now
CURRENT = [
    ("E21a", "LAD1", "left_behind"),
    ("E21a2", "LAD1", "left_behind"),
    ("E21bx", "LAD1", "left_behind"),
    ("E21by", "LAD1", "rest"),
    ("E21c", "LAD2", "left_behind"),
    ("E21m", "LAD2", "left_behind"),
    ("E21f", "LAD1", "other_deprived"),
    ("E21h", "LAD3", "rest"),
    ("E21i", "LAD4", "left_behind"),
]


def current_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lsoa21_code": [c for c, _, _ in CURRENT],
            "lad_code": [lad for _, lad, _ in CURRENT],
            "lad_name": [f"Council {lad}" for _, lad, _ in CURRENT],
            "region_name": [REGION[lad] for _, lad, _ in CURRENT],
            "group": [g for _, _, g in CURRENT],
            "population": 1500.0,
        }
    )


@pytest.fixture(scope="module")
def traced():
    ctx = FakeContext({"lookup_lsoa11_lsoa21": LOOKUP_11_21, "lookup_lsoa11_wd17": LOOKUP_11_WD17})
    cur_t, w2020 = transitions(current_table(), WARDS, ctx=ctx)
    assert set(ctx.loaded) == {"lookup_lsoa11_lsoa21", "lookup_lsoa11_wd17"}
    return cur_t, w2020


def test_status_since_2020(traced):
    cur_t, _ = traced
    status = cur_t.set_index("lsoa21_code")["status_since_2020"].to_dict()
    assert status == {
        "E21a": "persistent",  # parent in left-behind ward WA, left behind now
        "E21a2": "persistent",
        "E21bx": "persistent",  # piece of split E11b (WB)
        "E21by": "no_longer",  # the other piece of E11b, not left behind now
        "E21c": "new",  # parent in WC, not a 2020 left-behind ward
        "E21m": "persistent",  # merged: one parent (E11d) in WD
        "E21f": "no_longer",  # WF was left behind; E21f is other deprived now
        "E21h": "no_longer",
        "E21i": "new",
    }
    assert len(cur_t) == len(CURRENT)
    assert list(cur_t["lsoa21_code"]) == [c for c, _, _ in CURRENT]  # the current table's rows, in order


def test_split_and_merged_lsoas_inherit_wards(traced):
    cur_t, _ = traced
    t = cur_t.set_index("lsoa21_code")
    assert t.at["E21bx", "wards_2020"] == "WB" and t.at["E21by", "wards_2020"] == "WB"  # split: every piece
    assert t.at["E21m", "wards_2020"] == "WD;WE"  # merged: every parent's ward
    assert t.at["E21bx", "change_code"] == "S" and t.at["E21m", "change_code"] == "M"
    assert t.at["E21a", "change_code"] == "U" and t.at["E21a", "wards_2020"] == "WA"
    assert bool(t.at["E21m", "in_lb_ward_2020"]) and not bool(t.at["E21c", "in_lb_ward_2020"])


def test_2020_wards_still_or_no_longer(traced):
    _, w2020 = traced
    assert list(w2020.columns) == [
        "ward_code",
        "ward_name",
        "lad_code",
        "lad_name",
        "region_name",
        "current_lb_lsoas",
        "status_2025",
    ]
    w = w2020.set_index("ward_code")
    assert list(w.index) == ["WA", "WB", "WD", "WF", "WH"]  # only the published 2020 wards, sorted
    assert w["status_2025"].to_dict() == {
        "WA": "still",
        "WB": "still",  # one of its two 2021 pieces is left behind
        "WD": "still",  # through the merged E21m
        "WF": "no_longer",
        "WH": "no_longer",
    }
    assert w["current_lb_lsoas"].to_dict() == {"WA": 2, "WB": 1, "WD": 1, "WF": 0, "WH": 0}
    assert w2020["current_lb_lsoas"].dtype == np.int64


def test_transition_counts_by_region(traced):
    cur_t, w2020 = traced
    c = transition_counts(cur_t, w2020, "region_name")
    assert list(c.columns) == [
        "area_name",
        "lsoas_persistent",
        "lsoas_new",
        "wards_2020_still",
        "wards_2020_no_longer",
        "lsoas_left_behind_2025",
        "wards_left_behind_2020",
    ]
    assert list(c["area_name"]) == ["East", "North", "South", "West"]
    got = c.set_index("area_name").drop(columns=["lsoas_left_behind_2025", "wards_left_behind_2020"])
    assert got.loc["North"].tolist() == [3, 0, 2, 1]
    assert got.loc["South"].tolist() == [1, 1, 1, 0]
    assert got.loc["East"].tolist() == [0, 0, 0, 1]  # only a 2020 ward, no left-behind LSOA now
    assert got.loc["West"].tolist() == [0, 1, 0, 0]  # only a new left-behind LSOA
    assert (c["lsoas_left_behind_2025"] == c["lsoas_persistent"] + c["lsoas_new"]).all()
    assert (c["wards_left_behind_2020"] == c["wards_2020_still"] + c["wards_2020_no_longer"]).all()
    assert c["lsoas_left_behind_2025"].sum() == (cur_t["group"] == "left_behind").sum()
    assert c["wards_left_behind_2020"].sum() == len(w2020)
    assert all(c[col].dtype == np.int64 for col in c.columns[1:])


def test_transition_counts_by_lad(traced):
    cur_t, w2020 = traced
    c = transition_counts(cur_t, w2020, "lad_name").set_index("area_name")
    assert c.loc["Council LAD1", ["lsoas_persistent", "wards_2020_still", "wards_2020_no_longer"]].tolist() == [3, 2, 1]
    assert c["lsoas_left_behind_2025"].sum() == 6


def test_ward_layer(traced):
    cur_t, w2020 = traced
    layer = ward_layer(cur_t, w2020, WARDS)
    assert list(layer.columns) == ["ward_code", "ward_name", "layer_2025"]
    assert layer["ward_name"].tolist() == WARDS["ward_name"].tolist()
    assert layer.set_index("ward_code")["layer_2025"].to_dict() == {
        "WA": "lb2020_still",
        "WB": "lb2020_still",
        "WC": "new_lb_area",  # holds new left-behind E21c
        "WD": "lb2020_still",
        "WE": "other",  # a parent of persistent E21m, but not a 2020 ward and holds no new LSOA
        "WF": "lb2020_no_longer",
        "WG": "other",
        "WH": "lb2020_no_longer",
        "WI": "new_lb_area",
    }


# ------------------------------------------------------------------ area_table

N = 25
CODES = [f"E01{i:06d}" for i in range(1, N + 1)]


def lad22(i: int) -> str:
    return "E06000001" if i <= 10 else ("E07000001" if i <= 18 else "E07000002")


def cni_rank(i: int) -> int:
    return {1: 2, 2: 3, 3: 1}.get(i, i)


def area_frames(ed) -> dict[str, pd.DataFrame]:
    idx = range(1, N + 1)
    imd = pd.DataFrame(
        {"lsoa21cd": CODES, ed.imd.score_column: [100.0 - i for i in idx], ed.imd.rank_column: list(idx)}
    ).iloc[::-1]  # input order must not matter
    cni = pd.DataFrame(
        {
            "lsoa21cd": CODES,
            ed.cni.score_column: [50.0 - cni_rank(i) for i in idx],
            ed.cni.rank_column: [cni_rank(i) for i in idx],
        }
    ).sample(frac=1.0, random_state=0)
    lookup = pd.DataFrame(
        {
            "lsoa11cd": [f"E0111{i:04d}" for i in idx],
            "lsoa21cd": CODES,
            "lsoa21nm": [f"Alpha {i:03d}A" for i in idx],
            "change_code": "U",
            "lad22cd": [lad22(i) for i in idx],
        }
    )
    years = range(16, 25)
    hist = pd.DataFrame(
        [
            {**{f"lad{y}cd": "E06000001" for y in years}, "lad24nm": "Alpha"},
            {**{f"lad{y}cd": ("E07000001" if y < 23 else "E06000099") for y in years}, "lad24nm": "Gamma"},
            {**{f"lad{y}cd": ("E07000002" if y < 23 else "E06000099") for y in years}, "lad24nm": "Gamma"},
        ]
    )
    region = pd.DataFrame(
        {
            "lad19cd": ["E06000001", "E07000001", "E07000002"],
            "rgn19cd": ["E12000001", "E12000002", "E12000002"],
            "rgn19nm": ["North East", "North West", "North West"],
        }
    )
    pop = pd.DataFrame({"lsoa21cd": CODES, "total_residents": [1000 + 10 * i for i in idx]})
    return {
        ed.imd.dataset: imd,
        ed.cni.dataset: cni,
        "lookup_lsoa11_lsoa21": lookup,
        "lookup_lad16_lad24": hist,
        "lookup_lad19_region19": region,
        "census21_disability_lsoa21": pop,
    }


@pytest.fixture(scope="module")
def ed():
    e = edition("2025")
    return e.model_copy(update={"unit": e.unit.model_copy(update={"n_areas": N})})


@pytest.fixture(scope="module")
def areas(ed):
    ctx = FakeContext(area_frames(ed))
    t = area_table(ed, 0.10, ctx=ctx)
    assert {ed.imd.dataset, ed.cni.dataset, "census21_disability_lsoa21"} <= set(ctx.loaded)
    return t


def test_area_table_columns_and_rows(areas):
    assert list(areas.columns) == [*LSOA21_COLUMNS, "population", "region_code", "cni_top", "imd_top"]
    assert list(areas["lsoa21_code"]) == CODES  # sorted by code
    t = areas.set_index("lsoa21_code")
    assert t["imd_rank"].tolist() == list(range(1, N + 1))  # merged on code, not on row order
    assert t["cni_rank"].tolist() == [cni_rank(i) for i in range(1, N + 1)]
    assert t["population"].tolist() == [1000.0 + 10 * i for i in range(1, N + 1)]


def test_area_table_lad_and_region_through_code_history(areas):
    t = areas.set_index("lsoa21_code")
    assert t.at[CODES[0], "lad_code"] == "E06000001" and t.at[CODES[0], "lad_name"] == "Alpha"
    assert t.at[CODES[0], "region_name"] == "North East" and t.at[CODES[0], "region_code"] == "E12000001"
    for i in (11, 18, 19, 25):  # 2022 LADs E07000001 / E07000002 merged into E06000099 in 2023
        c = CODES[i - 1]
        assert (t.at[c, "lad_code"], t.at[c, "lad_name"]) == ("E06000099", "Gamma")
        assert (t.at[c, "region_code"], t.at[c, "region_name"]) == ("E12000002", "North West")


def test_area_table_cut_off_is_floor_of_threshold_times_n(areas):
    k = math.floor(0.10 * N)  # 2 (not 3)
    assert areas.attrs["cutoff"] == k
    t = areas.set_index("lsoa21_code")
    assert t["cni_top"].to_dict() == {c: cni_rank(i) <= k for i, c in enumerate(CODES, 1)}
    assert t["imd_top"].to_dict() == {c: i <= k for i, c in enumerate(CODES, 1)}
    assert t.index[t["group"] == "left_behind"].tolist() == [CODES[0]]  # CNI 2, IMD 1
    assert t.index[t["group"] == "other_deprived"].tolist() == [CODES[1]]  # CNI 3 is outside the top 2
    assert (t["group"].drop(CODES[:2]) == "rest").all()  # incl. CNI rank 1 without the IMD
    assert bool(t.at[CODES[2], "cni_top"]) and t.at[CODES[2], "group"] == "rest"


def test_area_table_other_threshold(ed):
    t = area_table(ed, 0.12, ctx=FakeContext(area_frames(ed)))  # floor(3.0) = 3
    assert t.attrs["cutoff"] == 3
    assert t.loc[t["group"] == "left_behind", "lsoa21_code"].tolist() == CODES[:3]
    assert not (t["group"] == "other_deprived").any()


@pytest.mark.parametrize("which", ["imd", "cni", "lookup"])
def test_area_table_refuses_an_lsoa_missing_from_an_input(ed, which):
    frames = area_frames(ed)
    dataset = {"imd": ed.imd.dataset, "cni": ed.cni.dataset, "lookup": "lookup_lsoa11_lsoa21"}[which]
    frames[dataset] = frames[dataset][frames[dataset]["lsoa21cd"] != CODES[4]]
    with pytest.raises(DataError, match="do not cover the same 25 areas"):
        area_table(ed, 0.10, ctx=FakeContext(frames))


def test_area_table_refuses_the_wrong_number_of_areas(ed):
    small = ed.model_copy(update={"unit": ed.unit.model_copy(update={"n_areas": N + 1})})
    with pytest.raises(DataError, match=r"26 areas \(25 found\)"):
        area_table(small, 0.10, ctx=FakeContext(area_frames(ed)))


# ------------------------------------------------------------------ outcomes_2025

# LSOA, LAD, group, population, income numerator, employment numerator, two indicators
OUT_ROWS = [
    ("E01a", "L1", "left_behind", 1000.0, 300.0, 120.0, 1.0, 10.0),
    ("E01b", "L1", "left_behind", 1500.0, 330.0, 150.0, 2.0, np.nan),
    ("E01c", "L2", "left_behind", 1200.0, 240.0, 96.0, 3.0, 30.0),
    ("E01d", "L3", "left_behind", 800.0, np.nan, 80.0, 4.0, 40.0),  # suppressed numerator: 0
    ("E01e", "L2", "other_deprived", 1600.0, 320.0, 128.0, 5.0, 50.0),
    ("E01f", "L3", "other_deprived", 1400.0, 210.0, 112.0, 6.0, 60.0),
    ("E01g", "L4", "other_deprived", 1100.0, 198.0, 99.0, 7.0, 70.0),
    ("E01h", "L1", "rest", 1300.0, 65.0, 39.0, 8.0, 80.0),
    ("E01i", "L2", "rest", 1700.0, 85.0, 51.0, 9.0, 90.0),
    ("E01j", "L3", "rest", 900.0, 27.0, 18.0, 10.0, 100.0),
    ("E01k", "L4", "rest", 2000.0, 100.0, 60.0, 11.0, 110.0),
    ("E01l", "L5", "rest", 1000.0, 40.0, 30.0, 12.0, 120.0),
]
MEAN_A, MEAN_B = MEANS_2025[1][0], MEANS_2025[5][0]  # entry to HE, mental health


def outcome_inputs(rows=OUT_ROWS):
    cur = pd.DataFrame(
        {
            "lsoa21_code": [r[0] for r in rows],
            "lad_code": [r[1] for r in rows],
            "group": [r[2] for r in rows],
            "population": [r[3] for r in rows],
        }
    )
    f8 = pd.DataFrame(
        {
            "lsoa21cd": [r[0] for r in rows] + ["E01zz"],  # an LSOA not in the table: ignored
            "income_domain_numerator": [r[4] for r in rows] + [9999.0],
            "employment_domain_numerator": [r[5] for r in rows] + [9999.0],
            MEAN_A: [r[6] for r in rows] + [999.0],
            MEAN_B: [r[7] for r in rows] + [999.0],
        }
    )
    return cur, f8


@pytest.fixture(scope="module")
def out25():
    e = edition("2025")
    cur, f8 = outcome_inputs()
    return outcomes_2025(cur, e, ctx=FakeContext({e.outcomes.dataset: f8}), replicates=300)


def members(group: str):
    return [r for r in OUT_ROWS if group == "england" or r[2] == group]


def get(out, indicator, group):
    r = out[(out["indicator"] == indicator) & (out["group"] == group)]
    assert len(r) == 1
    return r.iloc[0]


def test_outcomes_2025_rows(out25):
    groups = ["left_behind", "other_deprived", "rest", "england"]
    assert len(out25) == 4 * 4  # 2 pooled + the 2 indicators File 8 has, by 4 groups
    assert list(out25["indicator"].unique()) == ["income_deprived", "employment_deprived", MEAN_A, MEAN_B]
    assert out25.groupby("indicator")["group"].apply(list).map(lambda g: g == groups).all()
    e = edition("2025")
    assert (out25["source"] == e.outcomes.source).all() and (out25["edition"] == e.outcomes.edition).all()
    lsoas = out25.drop_duplicates("group").set_index("group")["lsoas"].to_dict()
    assert lsoas == {"left_behind": 4, "other_deprived": 3, "rest": 5, "england": 12}


@pytest.mark.parametrize("key,col", [("income_deprived", 4), ("employment_deprived", 5)])
def test_outcomes_2025_pooled_rate_is_numerator_over_census_population(out25, key, col):
    for g in ("left_behind", "other_deprived", "rest", "england"):
        rows = members(g)
        k = sum(0.0 if math.isnan(r[col]) else r[col] for r in rows)
        n = sum(r[3] for r in rows)
        r = get(out25, key, g)
        assert r["estimate"] == pytest.approx(100 * k / n)
        assert r["ci_low"] < r["estimate"] < r["ci_high"]
        assert r["unit"] == "% of residents"
    # by hand: left behind = (300 + 330 + 240 + 0) / (1000 + 1500 + 1200 + 800)
    assert get(out25, "income_deprived", "left_behind")["estimate"] == pytest.approx(100 * 870 / 4500)


def test_outcomes_2025_means_are_population_weighted(out25):
    for col, j in ((MEAN_A, 6), (MEAN_B, 7)):
        for g in ("left_behind", "other_deprived", "rest", "england"):
            rows = [r for r in members(g) if not math.isnan(r[j])]
            expect = sum(r[j] * r[3] for r in rows) / sum(r[3] for r in rows)
            r = get(out25, col, g)
            assert r["estimate"] == pytest.approx(expect)
            assert r["ci_low"] <= r["estimate"] <= r["ci_high"]
            assert "bootstrap over local authorities" in r["method"]
    # E01b has no mental-health value: left out of the weights, not counted as 0
    assert get(out25, MEAN_B, "left_behind")["estimate"] == pytest.approx((10 * 1000 + 30 * 1200 + 40 * 800) / 3000)


def test_outcomes_2025_reproducible():
    e = edition("2025")
    cur, f8 = outcome_inputs()
    a = outcomes_2025(cur, e, ctx=FakeContext({e.outcomes.dataset: f8}), replicates=100, seed=5)
    b = outcomes_2025(cur, e, ctx=FakeContext({e.outcomes.dataset: f8}), replicates=100, seed=5)
    pd.testing.assert_frame_equal(a, b)


def test_outcomes_2025_empty_group_without_warnings():
    e = edition("2025")
    rows = [r[:2] + (("rest",) if r[2] == "other_deprived" else (r[2],)) + r[3:] for r in OUT_ROWS]
    cur, f8 = outcome_inputs(rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        o = outcomes_2025(cur, e, ctx=FakeContext({e.outcomes.dataset: f8}), replicates=50)
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not runtime, [str(w.message) for w in runtime]
    od = o[o["group"] == "other_deprived"]
    assert len(od) == 4 and (od["lsoas"] == 0).all()
    assert od[["estimate", "ci_low", "ci_high"]].isna().all().all()
