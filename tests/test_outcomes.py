"""Unit tests: outcomes by group (pooled rates, population-weighted means) on a hand-built fixture.

Ten LSOAs share their people among eight wards; LSOA B is split 0.3 / 0.7 between a left-behind
and an other-deprived ward. Expected values are computed by hand (literals) or by a plain loop
over the share rows, independent of the vectorised code under test.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from leftbehind.analysis.outcomes import GROUPS_OUT, POOLED, mean_specs, outcomes, ward_sums, ward_values

MEAN_COLS = [c for c, *_ in mean_specs()]
POOLED_KEYS = [p[0] for p in POOLED]
DIFF = "left_behind_minus_other_deprived"

# lsoa: (pop_total, income numerator, air quality value)
LSOAS = {
    "A": (1000, 200, 1.0),
    "B": (2000, 500, 2.0),
    "C": (1500, 300, 3.0),
    "D": (1200, 240, 4.0),
    "E": (800, 100, 5.0),
    "F": (1000, 50, 6.0),
    "G": (1100, 66, 7.0),
    "H": (900, 27, 8.0),
    "I": (1000, 10, 9.0),
    "J": (500, 5, 10.0),
}
SHARES = [
    ("A", "W1", 1.0),
    ("B", "W1", 0.3),
    ("B", "W3", 0.7),
    ("C", "W2", 1.0),
    ("D", "W3", 1.0),
    ("E", "W4", 1.0),
    ("F", "W5", 1.0),
    ("J", "W5", 1.0),
    ("G", "W6", 1.0),
    ("H", "W7", 1.0),
    ("I", "W8", 1.0),  # W8 has no group: England only
]
GROUPS = {
    "W1": "left_behind",
    "W2": "left_behind",
    "W3": "other_deprived",
    "W4": "other_deprived",
    "W5": "rest",
    "W6": "rest",
    "W7": "rest",
}
NAN_LSOA, NAN_COL = "C", "housing_affordability_indicator"


def make_lsoa(scale: float = 1.0) -> pd.DataFrame:
    """The columns :func:`lsoa_indicators` gives (counts multiplied by ``scale``)."""
    rows = []
    for i, (code, (pop, inc, air)) in enumerate(LSOAS.items()):
        pop, inc = pop * scale, inc * scale
        row = {
            "lsoa11cd": code,
            "pop_total": pop,
            "pop_working_age": 0.6 * pop,
            "pop_0_15": 0.2 * pop,
            "pop_60_plus": 0.25 * pop,
            "income_domain_numerator": inc,
            "employment_domain_numerator": 0.5 * inc,
            "income_deprivation_affecting_children_index_idaci_numerator": 0.3 * inc,
            "income_deprivation_affecting_older_people_index_idaopi_numerator": 0.4 * inc,
            "rural_people": pop if i % 3 == 0 else 0.0,
        }
        for j, col in enumerate(MEAN_COLS):
            row[col] = (i + 1) * (j + 1) + 0.5 * (i % 4)
        row["air_quality_indicator"] = air
        rows.append(row)
    t = pd.DataFrame(rows)
    t.loc[t["lsoa11cd"] == NAN_LSOA, NAN_COL] = np.nan
    return t


@pytest.fixture(scope="module")
def lsoa() -> pd.DataFrame:
    return make_lsoa()


@pytest.fixture(scope="module")
def shares() -> pd.DataFrame:
    return pd.DataFrame(SHARES, columns=["lsoa11cd", "wd17cd", "share"])


@pytest.fixture(scope="module")
def groups() -> pd.Series:
    return pd.Series(GROUPS)


@pytest.fixture(scope="module")
def out(shares, groups, lsoa) -> pd.DataFrame:
    return outcomes(shares, groups, lsoa, replicates=400, seed=7)


def row(out: pd.DataFrame, indicator: str, group: str) -> pd.Series:
    r = out[(out["indicator"] == indicator) & (out["group"] == group)]
    assert len(r) == 1, (indicator, group)
    return r.iloc[0]


def wards_of(group: str) -> set[str]:
    every = {w for _, w, _ in SHARES}
    return every if group == "england" else {w for w, g in GROUPS.items() if g == group}


def pooled_by_loop(lsoa: pd.DataFrame, num: str, den: str, group: str) -> tuple[float, float]:
    t = lsoa.set_index("lsoa11cd")
    k = n = 0.0
    for code, ward, share in SHARES:
        if ward in wards_of(group):
            k += t.at[code, num] * share
            n += t.at[code, den] * share
    return k, n


def mean_by_loop(lsoa: pd.DataFrame, col: str, group: str) -> float:
    t = lsoa.set_index("lsoa11cd")
    num = den = 0.0
    for code, ward, share in SHARES:
        x = t.at[code, col]
        if ward in wards_of(group) and not math.isnan(x):
            w = t.at[code, "pop_total"] * share
            num += x * w
            den += w
    return num / den


# ------------------------------------------------------------------ ward_sums / ward_values


def test_ward_sums_share_a_split_lsoa(shares, lsoa):
    s = ward_sums(shares, lsoa)
    assert list(s.wards) == [f"W{i}" for i in range(1, 9)]
    pop = dict(zip(s.wards, s.population, strict=True))
    assert pop["W1"] == pytest.approx(1000 + 0.3 * 2000)
    assert pop["W3"] == pytest.approx(0.7 * 2000 + 1200)
    assert pop["W5"] == pytest.approx(1000 + 500)
    assert s.population.sum() == pytest.approx(sum(p for p, _, _ in LSOAS.values()))  # people preserved
    j = POOLED_KEYS.index("income_deprived")
    assert s.pooled_num[0, j] == pytest.approx(200 + 0.3 * 500)
    assert s.pooled_den[0, j] == pytest.approx(1600)
    assert s.pooled_num.shape == (8, len(POOLED)) and s.mean_num.shape == (8, len(MEAN_COLS))


def test_ward_values_rates_and_means(shares, lsoa):
    v = ward_values(ward_sums(shares, lsoa)).set_index("ward_code")
    assert list(v.columns) == POOLED_KEYS + MEAN_COLS
    assert v.at["W1", "income_deprived"] == pytest.approx(100 * 350 / 1600)
    assert v.at["W3", "income_deprived"] == pytest.approx(100 * (350 + 240) / 2600)
    assert v.at["W1", "air_quality_indicator"] == pytest.approx((1.0 * 1000 + 2.0 * 600) / 1600)
    assert v.at["W3", "air_quality_indicator"] == pytest.approx((2.0 * 1400 + 4.0 * 1200) / 2600)
    # W2 is LSOA C alone, whose value is missing: no value rather than 0
    assert np.isnan(v.at["W2", NAN_COL])
    assert not v.drop(columns=NAN_COL).isna().any().any()


# ------------------------------------------------------------------ pooled rates


def test_table_shape(out):
    n_ind = len(POOLED) + len(MEAN_COLS)
    assert len(out) == n_ind * (len(GROUPS_OUT) + 1)
    assert set(out["group"]) == {*GROUPS_OUT, DIFF}
    assert out.groupby("indicator").size().eq(len(GROUPS_OUT) + 1).all()


def test_pooled_income_rate_by_hand(out):
    # LB: A + 0.3 B + C; OD: 0.7 B + D + E; rest: F + J + G + H; England: every ward (W8 too)
    assert row(out, "income_deprived", "left_behind")["estimate"] == pytest.approx(100 * 650 / 3100)
    assert row(out, "income_deprived", "other_deprived")["estimate"] == pytest.approx(100 * 690 / 3400)
    assert row(out, "income_deprived", "rest")["estimate"] == pytest.approx(100 * 148 / 3500)
    assert row(out, "income_deprived", "england")["estimate"] == pytest.approx(100 * 1498 / 11000)
    assert row(out, "income_deprived", DIFF)["estimate"] == pytest.approx(100 * (650 / 3100 - 690 / 3400))


@pytest.mark.parametrize("key,num,den", [(p[0], p[2], p[3]) for p in POOLED])
def test_every_pooled_rate_is_sum_of_numerators_over_sum_of_denominators(out, lsoa, key, num, den):
    for g in GROUPS_OUT:
        k, n = pooled_by_loop(lsoa, num, den, g)
        r = row(out, key, g)
        assert r["estimate"] == pytest.approx(100 * k / n)
        assert r["ci_low"] < r["estimate"] < r["ci_high"]
        assert r["unit"] == next(p[4] for p in POOLED if p[0] == key)
    d = row(out, key, DIFF)
    lb, od = row(out, key, "left_behind"), row(out, key, "other_deprived")
    assert d["estimate"] == pytest.approx(lb["estimate"] - od["estimate"])
    assert d["ci_low"] < d["estimate"] < d["ci_high"]
    assert d["unit"] == "percentage points"


def test_pooled_interval_is_a_ward_cluster_bootstrap(out):
    """Wards are the unit of classification: the pooled rate's interval resamples wards (the real-
    data test in test_run.py checks it is wider than a resident-level Wilson interval)."""
    r = row(out, "income_deprived", "left_behind")
    assert r["method"] == "pooled rate; ward-cluster bootstrap 95% CI (400)"
    assert r["ci_low"] <= r["estimate"] <= r["ci_high"]


def test_pooled_interval_depends_on_wards_not_on_head_counts(shares, groups, out):
    """100 times the people in the same wards: the same rates and the same ward-bootstrap
    intervals (a resident-level interval would shrink tenfold)."""
    big = outcomes(shares, groups, make_lsoa(scale=100.0), replicates=400, seed=7)
    for key in POOLED_KEYS:
        for g in (*GROUPS_OUT, DIFF):
            small_r, big_r = row(out, key, g), row(big, key, g)
            assert big_r["estimate"] == pytest.approx(small_r["estimate"])
            assert big_r["ci_low"] == pytest.approx(small_r["ci_low"], nan_ok=True)
            assert big_r["ci_high"] == pytest.approx(small_r["ci_high"], nan_ok=True)


def test_wards_and_population_columns(out):
    expect = {
        "left_behind": (2, 3100),
        "other_deprived": (2, 3400),
        "rest": (3, 3500),
        "england": (8, 11000),  # W8 (no group) counts for England
    }
    for key in ("income_deprived", "air_quality_indicator"):
        for g, (n, pop) in expect.items():
            r = row(out, key, g)
            assert r["wards"] == n and r["population"] == pytest.approx(pop)
        d = row(out, key, DIFF)
        assert d["wards"] is None or np.isnan(d["wards"])
        assert d["population"] is None or np.isnan(d["population"])


# ------------------------------------------------------------------ means


def test_population_weighted_mean_by_hand(out):
    # air quality: A=1, B=2, C=3 ...; LB holds A, 0.3 of B (600 people) and C
    assert row(out, "air_quality_indicator", "left_behind")["estimate"] == pytest.approx(
        (1.0 * 1000 + 2.0 * 600 + 3.0 * 1500) / 3100
    )
    assert row(out, "air_quality_indicator", "other_deprived")["estimate"] == pytest.approx(
        (2.0 * 1400 + 4.0 * 1200 + 5.0 * 800) / 3400
    )


@pytest.mark.parametrize("col", MEAN_COLS)
def test_every_mean_matches_the_loop(out, lsoa, col):
    for g in GROUPS_OUT:
        assert row(out, col, g)["estimate"] == pytest.approx(mean_by_loop(lsoa, col, g))
    d = row(out, col, DIFF)
    assert d["estimate"] == pytest.approx(
        mean_by_loop(lsoa, col, "left_behind") - mean_by_loop(lsoa, col, "other_deprived")
    )


def test_missing_values_are_left_out_of_the_weights(out, lsoa):
    # LSOA C (1,500 people, in W2) has no value: the left-behind mean is over A and 0.3 of B only
    t = lsoa.set_index("lsoa11cd")[NAN_COL]
    expect = (t["A"] * 1000 + t["B"] * 600) / 1600
    assert row(out, NAN_COL, "left_behind")["estimate"] == pytest.approx(expect)
    wrong = (t["A"] * 1000 + t["B"] * 600) / 3100  # C's people counted with value 0
    assert row(out, NAN_COL, "left_behind")["estimate"] != pytest.approx(wrong)
    assert not out["estimate"].isna().any()


def test_bootstrap_intervals_contain_the_estimate(out):
    means = out[out["indicator"].isin(MEAN_COLS)]
    assert (means["ci_low"] <= means["estimate"] + 1e-12).all()
    assert (means["estimate"] <= means["ci_high"] + 1e-12).all()
    eng = means[means["group"] == "england"]
    assert (eng["ci_low"] < eng["ci_high"]).all()  # 8 wards with different values: a real interval
    assert means["method"].str.contains("bootstrap").all()
    assert means.loc[means["group"] != DIFF, "method"].str.contains("(400)", regex=False).all()


def test_same_seed_same_table_other_seed_other_intervals(shares, groups, lsoa, out):
    again = outcomes(shares, groups, lsoa, replicates=400, seed=7)
    pd.testing.assert_frame_equal(out, again)
    other = outcomes(shares, groups, lsoa, replicates=400, seed=8)
    pd.testing.assert_series_equal(out["estimate"], other["estimate"])  # estimates do not depend on the seed
    for part in (out["indicator"].isin(POOLED_KEYS), ~out["indicator"].isin(POOLED_KEYS)):
        a, b = out.loc[part, ["ci_low", "ci_high"]], other.loc[part, ["ci_low", "ci_high"]]
        assert ((a != b) & a.notna()).any(axis=None)  # both pooled rates and means resample wards


def test_precomputed_sums_give_the_same_table(shares, groups, lsoa, out):
    s = ward_sums(shares, lsoa)
    pd.testing.assert_frame_equal(outcomes(shares, groups, None, replicates=400, seed=7, sums=s), out)


# ------------------------------------------------------------------ published figures


def test_published_values_only_where_given(shares, groups, lsoa):
    pub = {
        ("income_deprived", "left_behind"): (21.0, "Local Trust / OCSI (2020)", ""),
        ("air_quality_indicator", "england"): (4.5, "Another source", "a note on the method"),
    }
    o = outcomes(shares, groups, lsoa, replicates=20, seed=1, published=pub)
    keyed = pd.Series(list(zip(o["indicator"], o["group"], strict=True)), index=o.index)
    given = keyed.isin(list(pub))
    assert given.sum() == 2
    for (ind, g), (value, source, note) in pub.items():
        r = row(o, ind, g)
        assert r["published"] == value and r["published_source"] == source and r["note"] == note
        assert r["difference_from_published"] == pytest.approx(r["estimate"] - value)
    rest = o[~given]
    assert rest["published"].isna().all() and rest["difference_from_published"].isna().all()
    assert (rest["published_source"] == "").all() and (rest["note"] == "").all()


def test_no_published_dict_gives_empty_columns(out):
    assert out["published"].isna().all() and out["difference_from_published"].isna().all()
    assert (out["published_source"] == "").all() and (out["note"] == "").all()


# ------------------------------------------------------------------ empty group


def test_empty_group_gives_nan_without_warnings(shares, lsoa):
    no_od = pd.Series({w: ("rest" if g == "other_deprived" else g) for w, g in GROUPS.items()})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        o = outcomes(shares, no_od, lsoa, replicates=50, seed=3)
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not runtime, [str(w.message) for w in runtime]
    od = o[o["group"] == "other_deprived"]
    assert len(od) == len(POOLED) + len(MEAN_COLS)
    assert od[["estimate", "ci_low", "ci_high"]].isna().all().all()
    assert (od["wards"] == 0).all() and (od["population"] == 0).all()
    diff = o[o["group"] == DIFF]
    assert diff[["estimate", "ci_low", "ci_high"]].isna().all().all()
    others = o[o["group"].isin(["left_behind", "rest", "england"])]
    assert others["estimate"].notna().all() and others["ci_low"].notna().all()
