"""The selection simulator (``leftbehind.analysis.targeting``) and ``leftbehind target``.

Synthetic tables check the selection against an independent greedy reference (plain Python, no
pandas), the caps, band and exclusions, the reasons, the money and the fit/compare arithmetic;
a few real-data tests check the presets and the command line.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from leftbehind.analysis.targeting import (
    SELECTION_COLUMNS,
    Rule,
    by_area,
    compare,
    fit,
    load_rule,
    money,
    presets,
    select,
    summary,
    unit_table,
)
from leftbehind.cli import app
from leftbehind.errors import SpecError, UsageError

runner = CliRunner()
REGIONS = ("North East", "Midlands", "South West")
N_LADS = 8
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------ synthetic candidates


def _rank_desc(x: np.ndarray) -> np.ndarray:
    """1 = the highest value; ties share the lowest rank (min)."""
    return pd.Series(x).rank(ascending=False, method="min").to_numpy(dtype="int64")


def make_table(seed: int, n: int = 120) -> pd.DataFrame:
    """``n`` areas in 8 local authorities (each in one of 3 regions), random scores and ranks."""
    rng = np.random.default_rng(seed)
    lad = rng.integers(0, N_LADS, n)
    imd = rng.normal(25, 10, n).round(3)
    cni = rng.normal(40, 15, n).round(3)
    t = pd.DataFrame(
        {
            "area_code": [f"E02{900000 + i:06d}" for i in rng.permutation(n)],
            "area_name": [f"Place {i:03d}" for i in range(n)],
            "lad_code": [f"E0800{k:04d}" for k in lad],
            "lad_name": [f"Council {chr(65 + k)}" for k in lad],
            "region_name": [REGIONS[k % len(REGIONS)] for k in lad],
            "population": rng.integers(2_000, 20_000, n).astype("float64"),
            "imd_score": imd,
            "imd_rank": _rank_desc(imd),
            "cni_score": cni,
            "cni_rank": _rank_desc(cni),
        }
    )
    for d in ("civic_assets", "connectedness", "engaged_community"):
        t[f"{d}_rank"] = rng.permutation(n) + 1
    return t


class FakeContext:
    """What ``select`` needs of a run context for exclusions: ``load(id)`` of a designation."""

    def __init__(self, frames: dict[str, pd.DataFrame]):
        self.frames = frames

    def load(self, dataset_id: str) -> pd.DataFrame:
        return self.frames[dataset_id].copy()


def designation_of(t: pd.DataFrame, codes) -> pd.DataFrame:
    """A designation file naming ``codes`` the way programme lists do (names + local authority)."""
    s = t[t["area_code"].isin(set(codes))]
    return pd.DataFrame({"local_authority_name": s["lad_name"], "neighbourhood_name": s["area_name"]})


# ------------------------------------------------------------------ an independent reference


def _z(values) -> list[float]:
    v = [float(x) for x in values]
    m, sd = statistics.fmean(v), statistics.pstdev(v)
    return [(x - m) / sd for x in v]


def reference_scores(rule: Rule, t: pd.DataFrame) -> list[float]:
    m = rule.index.method
    imd_r, cni_r = t["imd_rank"].tolist(), t["cni_rank"].tolist()
    if m == "mean_rank":
        return [-(a + b) / 2 for a, b in zip(imd_r, cni_r, strict=True)]
    if m == "both_top":
        return [-float(max(a, b)) for a, b in zip(imd_r, cni_r, strict=True)]
    comp = {"imd": _z(t["imd_score"]), "cni": _z(t["cni_score"])}
    for d in ("civic_assets", "connectedness", "engaged_community"):
        comp[d] = _z([-r for r in t[f"{d}_rank"]])
    if m == "sum_z":
        return [a + b for a, b in zip(comp["imd"], comp["cni"], strict=True)]
    return [sum(w * comp[k][i] for k, w in rule.index.weights.items()) for i in range(len(t))]


def lad_caps(rule: Rule, t: pd.DataFrame) -> dict[str, float]:
    pop = t.groupby("lad_code")["population"].sum()
    caps = {}
    for lad, p in pop.items():
        c = math.inf
        if rule.caps.per_lad:
            c = min(c, rule.caps.per_lad)
        if rule.caps.per_lad_residents:
            c = min(c, math.ceil(p / rule.caps.per_lad_residents))
        caps[lad] = c
    return caps


def eligibility(rule: Rule, t: pd.DataFrame, excluded: set[str]) -> dict[str, str]:
    """area code -> '' (eligible) or the first rule that removes it: outside, excluded, not top."""
    lo = rule.population.min or 0
    hi = rule.population.max or math.inf
    k = math.floor(rule.index.top * len(t) + 1e-9)
    out = {}
    for r in t.itertuples():
        if not lo <= r.population <= hi:
            out[r.area_code] = "outside"
        elif r.area_code in excluded:
            out[r.area_code] = "excluded"
        elif rule.index.method == "both_top" and not (r.imd_rank <= k and r.cni_rank <= k):
            out[r.area_code] = "not in the top"
        else:
            out[r.area_code] = ""
    return out


def reference_selection(rule: Rule, t: pd.DataFrame, order: list[str], excluded: set[str], count) -> list[str]:
    """Greedy, in line order: skip the ineligible and any area whose LAD or region is full."""
    elig = eligibility(rule, t, excluded)
    caps = lad_caps(rule, t)
    rows = t.set_index("area_code")
    in_lad, in_region, chosen = Counter(), Counter(), []
    for code in order:
        if count is not None and len(chosen) == count:
            break
        if elig[code]:
            continue
        lad, region = rows.at[code, "lad_code"], rows.at[code, "region_name"]
        if in_lad[lad] >= caps[lad]:
            continue
        if rule.caps.per_region and in_region[region] >= rule.caps.per_region:
            continue
        in_lad[lad] += 1
        in_region[region] += 1
        chosen.append(code)
    return chosen


def ordinal_number(text: str) -> int:
    return int(re.search(r"(\d+)(st|nd|rd|th)\b", text).group(1))


# ------------------------------------------------------------------ strategies

methods = st.sampled_from(["mean_rank", "sum_z", "both_top", "weighted"])
weights = st.dictionaries(
    st.sampled_from(["imd", "cni", "civic_assets", "connectedness", "engaged_community"]),
    st.floats(0.1, 3.0),
    min_size=1,
    max_size=5,
)


@st.composite
def rules(draw):
    method = draw(methods)
    index = {"method": method}
    if method == "weighted":
        index["weights"] = draw(weights)
    if method == "both_top":
        index["top"] = draw(st.sampled_from([0.1, 0.25, 0.4, 0.6]))
    lo = draw(st.one_of(st.none(), st.integers(2_000, 9_000)))
    hi = draw(st.one_of(st.none(), st.integers(10_000, 20_000)))
    caps = {}
    if draw(st.booleans()):
        caps["per_lad"] = draw(st.integers(1, 6))
    if draw(st.booleans()):
        caps["per_lad_residents"] = draw(st.sampled_from([20_000.0, 50_000.0, 120_000.0]))
    if draw(st.booleans()):
        caps["per_region"] = draw(st.integers(1, 15))
    count = draw(st.one_of(st.none(), st.integers(1, 150))) if method == "both_top" else draw(st.integers(1, 150))
    money_ = draw(
        st.sampled_from(
            [
                {"mode": "per_area", "amount": 1_000_000},
                {"mode": "per_resident", "amount": 12.5},
                {
                    "mode": "tiered",
                    "tiers": [
                        {"max_population": 15_000, "amount": 3_000},
                        {"max_population": 6_000, "amount": 1_000},
                        {"max_population": 10_000, "amount": 2_000},
                    ],
                },
            ]
        )
    )
    return Rule.model_validate(
        {
            "name": "r",
            "unit": "msoa21",
            "index": index,
            "population": {"min": lo, "max": hi},
            "caps": caps,
            "count": count,
            "money": money_,
        }
    )


# ------------------------------------------------------------------ selection properties


@SETTINGS
@given(rule=rules(), seed=st.integers(0, 10_000), n=st.integers(50, 200), share=st.floats(0, 0.3))
def test_selection_matches_an_independent_greedy_reference(rule, seed, n, share):
    t = make_table(seed, n)
    rng = np.random.default_rng(seed + 1)
    excluded = set(rng.choice(t["area_code"], size=int(share * n), replace=False))
    if excluded:
        rule = Rule.model_validate(
            {**rule.model_dump(), "exclude": [{"designation": "some_list", "label": "Some list"}]}
        )
    ctx = FakeContext({"some_list": designation_of(t, excluded)})
    out = select(rule, t, ctx)

    assert list(out.columns) == SELECTION_COLUMNS
    assert len(out) == len(t) and set(out["area_code"]) == set(t["area_code"])
    # the index: an independent computation (scores compared row by row)
    ref = dict(zip(t["area_code"], reference_scores(rule, t), strict=True))
    np.testing.assert_allclose(out["score"], out["area_code"].map(ref), rtol=1e-9, atol=1e-9)
    # the line: by score, best first, ties by code; ranks 1..N
    score = dict(zip(out["area_code"], out["score"], strict=True))
    line = sorted(score, key=lambda c: (-score[c], c))
    assert out["rank"].tolist() == list(range(1, n + 1))
    assert out["area_code"].tolist() == line
    # the selection: exactly the greedy reference
    chosen = reference_selection(rule, t, line, excluded, rule.count)
    got = out.loc[out["selected"], "area_code"].tolist()
    assert got == chosen

    sel = out[out["selected"]].merge(t[["area_code", "imd_rank", "cni_rank"]], on="area_code")
    # caps never exceeded
    caps = lad_caps(rule, t)
    for lad, k in sel["lad_code"].value_counts().items():
        assert k <= caps[lad]
    if rule.caps.per_region:
        assert (sel["region_name"].value_counts() <= rule.caps.per_region).all()
    # exclusions, band, top share
    assert not set(sel["area_code"]) & excluded
    assert (sel["population"] >= (rule.population.min or 0)).all()
    assert (sel["population"] <= (rule.population.max or np.inf)).all()
    if rule.index.method == "both_top":
        k = math.floor(rule.index.top * n + 1e-9)
        assert ((sel["imd_rank"] <= k) & (sel["cni_rank"] <= k)).all()
    # exactly count when enough areas could be taken, else every one that could
    possible = reference_selection(rule, t, line, excluded, None)
    expect = len(possible) if rule.count is None else min(rule.count, len(possible))
    assert len(got) == expect
    # money goes to the selected only
    assert (out.loc[~out["selected"], "amount_gbp"] == 0).all()
    check_reasons(rule, t, out, excluded)


def check_reasons(rule: Rule, t: pd.DataFrame, out: pd.DataFrame, excluded: set[str]) -> None:
    """Every reason agrees with ``selected``, the band, the exclusions, the top share and the caps."""
    assert out["reason"].map(lambda r: isinstance(r, str) and r.strip() != "").all()
    elig = eligibility(rule, t, excluded)
    caps = lad_caps(rule, t)
    o = out.sort_values("rank").reset_index(drop=True)
    assert (o["selected"] == o["reason"].str.startswith("selected: ")).all()
    # the selected: 1st, 2nd, ... in line, in rank order
    pos = [ordinal_number(r) for r in o.loc[o["selected"], "reason"]]
    assert pos == list(range(1, len(pos) + 1))
    last_selected = o.loc[o["selected"], "rank"].max() if o["selected"].any() else 0
    n_selected = int(o["selected"].sum())
    lad_ahead, region_ahead = Counter(), Counter()  # eligible areas seen, and those past the LAD cap
    for r in o.itertuples():
        why = elig[r.area_code]
        if why == "outside":
            assert r.reason.startswith("outside the "), r
        elif why == "excluded":
            assert r.reason == "excluded: Some list", r
        elif why == "not in the top":
            assert r.reason.startswith("not in the top "), r
        else:
            lad_ahead[r.lad_code] += 1
            nth_lad = lad_ahead[r.lad_code]
            if nth_lad > caps[r.lad_code]:
                assert r.reason == (
                    f"capped: {nth_lad}{_suffix(nth_lad)} in {r.lad_name} "
                    f"(cap {int(caps[r.lad_code])} for this local authority)"
                )
                continue
            region_ahead[r.region_name] += 1
            nth_reg = region_ahead[r.region_name]
            if rule.caps.per_region and nth_reg > rule.caps.per_region:
                assert r.reason == (
                    f"capped: {nth_reg}{_suffix(nth_reg)} in {r.region_name} (cap {rule.caps.per_region} per region)"
                )
                continue
            if not r.selected:
                assert r.reason.startswith("not reached: next in line after the "), r
                assert r.rank > last_selected and n_selected == rule.count


def _suffix(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


@SETTINGS
@given(rule=rules(), seed=st.integers(0, 10_000), perm_seed=st.integers(0, 10_000))
def test_selection_is_deterministic_and_independent_of_row_order(rule, seed, perm_seed):
    t = make_table(seed, 100)
    a = select(rule, t)
    pd.testing.assert_frame_equal(a, select(rule, t))
    shuffled = t.sample(frac=1.0, random_state=perm_seed).reset_index(drop=True)
    b = select(rule, shuffled)
    assert set(b.loc[b["selected"], "area_code"]) == set(a.loc[a["selected"], "area_code"])
    assert b["area_code"].tolist() == a["area_code"].tolist()
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
    assert t.equals(make_table(seed, 100)), "select must not modify its input"


def test_ties_are_broken_by_code_not_by_row_order():
    t = make_table(3, 60)
    t["imd_rank"] = 1  # everyone tied on both ranks
    t["cni_rank"] = 1
    rule = Rule(name="tie", unit="msoa21", count=10)
    out = select(rule, t)
    assert out.loc[out["selected"], "area_code"].tolist() == sorted(t["area_code"])[:10]
    out2 = select(rule, t.iloc[::-1])
    assert out2.loc[out2["selected"], "area_code"].tolist() == sorted(t["area_code"])[:10]


def test_fewer_selected_when_caps_leave_too_few():
    t = make_table(5, 90)
    rule = Rule.model_validate({"name": "c", "unit": "msoa21", "caps": {"per_lad": 1}, "count": 50})
    out = select(rule, t)
    # at most one per local authority, and every authority gets its best-placed area
    assert out["selected"].sum() == t["lad_code"].nunique()
    best = out.sort_values("rank").drop_duplicates("lad_code")["area_code"]
    assert set(out.loc[out["selected"], "area_code"]) == set(best)
    assert not out["reason"].str.startswith("not reached").any()


def test_population_band_is_inclusive_at_both_ends():
    t = make_table(6, 60)
    t.loc[:5, "population"] = [4_999.0, 5_000.0, 5_001.0, 14_999.0, 15_000.0, 15_001.0]
    rule = Rule.model_validate({"name": "b", "unit": "msoa21", "population": {"min": 5000, "max": 15000}, "count": 60})
    out = select(rule, t).set_index("area_code")
    codes = t["area_code"].iloc[:6]
    assert out.loc[codes, "selected"].tolist() == [False, True, True, True, True, False]
    assert out.loc[codes[[0, 5]], "reason"].str.startswith("outside the 5,000-15,000 residents band").all()


def test_per_lad_residents_cap_rounds_up():
    """ceil(residents / per_lad_residents): 600,000 residents at 300,000 a place = 2, 600,001 = 3."""
    rows = []
    for lad, pop in (("A", 60_000.0), ("B", 60_000.1)):
        for i in range(10):
            rows.append((f"E02{ord(lad):03d}{i:03d}", lad, pop))
    n = len(rows)
    t = pd.DataFrame(
        {
            "area_code": [r[0] for r in rows],
            "area_name": [r[0] for r in rows],
            "lad_code": [r[1] for r in rows],
            "lad_name": [r[1] for r in rows],
            "region_name": "R",
            "population": [r[2] for r in rows],
            "imd_rank": np.arange(1, n + 1),
            "cni_rank": np.arange(1, n + 1),
        }
    )
    rule = Rule.model_validate({"name": "c", "unit": "msoa21", "caps": {"per_lad_residents": 300_000}, "count": 20})
    out = select(rule, t)
    assert out[out["selected"]]["lad_code"].value_counts().to_dict() == {"A": 2, "B": 3}
    assert out.loc[~out["selected"], "reason"].str.startswith("capped: ").all()


def test_count_argument_overrides_the_rule():
    t = make_table(8, 80)
    rule = Rule(name="c", unit="msoa21", count=5)
    assert select(rule, t)["selected"].sum() == 5
    assert select(rule, t, count=17)["selected"].sum() == 17


def test_exclusion_from_a_csv_file(tmp_path):
    t = make_table(11, 80)
    rule0 = Rule(name="x", unit="msoa21", count=10)
    first = select(rule0, t)
    top3 = first.loc[first["selected"], "area_code"].tolist()[:3]
    path = tmp_path / "council_list.csv"
    designation_of(t, top3).to_csv(path, index=False)
    rule = Rule.model_validate({**rule0.model_dump(), "exclude": [{"designation": str(path)}]})
    out = select(rule, t, FakeContext({})).set_index("area_code")
    assert not out.loc[top3, "selected"].any()
    assert (out.loc[top3, "reason"] == f"excluded: {path}").all()
    assert out["selected"].sum() == 10
    # the next three in line take their places
    assert set(out.index[out["selected"]]) == set(first["area_code"].iloc[3:13])


def test_exclusion_from_a_catalogue_dataset():
    t = make_table(12, 60)
    rule = Rule.model_validate(
        {"name": "x", "unit": "msoa21", "count": 5, "exclude": [{"designation": "lst", "label": "L"}]}
    )
    best = select(rule, t).loc[lambda d: d["selected"], "area_code"].tolist()
    ctx = FakeContext({"lst": designation_of(t, best[:1])})
    out = select(rule, t, ctx)
    assert best[0] not in set(out.loc[out["selected"], "area_code"])


# ------------------------------------------------------------------ money


def _tier_amount(tiers, pop):
    for tr in sorted(tiers, key=lambda x: x["max_population"]):
        if pop <= tr["max_population"]:
            return tr["amount"]
    return sorted(tiers, key=lambda x: x["max_population"])[-1]["amount"]


@SETTINGS
@given(
    mode=st.sampled_from(["per_area", "per_resident", "tiered"]),
    seed=st.integers(0, 10_000),
    n=st.integers(1, 80),
    pence=st.integers(0, 10**12),
)
def test_money_with_a_budget_adds_up_to_the_penny(mode, seed, n, pence):
    rng = np.random.default_rng(seed)
    pop = rng.integers(1, 20_000, n).astype("float64")
    selected = rng.random(n) < 0.6
    spec = {
        "per_area": {"mode": "per_area", "amount": 5.0},
        "per_resident": {"mode": "per_resident", "amount": 3.0},
        "tiered": {
            "mode": "tiered",
            "tiers": [{"max_population": 5_000, "amount": 1.0}, {"max_population": 12_000, "amount": 2.0}],
        },
    }[mode]
    rule = Rule.model_validate({"name": "m", "unit": "msoa21", "count": 1, "money": spec})
    budget = pence / 100
    amounts = money(rule, pop, selected, budget)
    assert len(amounts) == n
    assert (amounts[~selected] == 0).all()
    cents = amounts * 100
    assert np.allclose(cents, np.round(cents), atol=1e-6), "whole pence"
    if not selected.any():
        assert amounts.sum() == 0
        return
    assert int(np.round(cents).sum()) == round(budget * 100) == pence
    # each area gets its exact share, rounded by less than a penny
    raw = money(rule, pop, selected)
    share = raw / raw.sum() * budget
    assert np.all(np.abs(amounts - share) < 0.01 + 1e-9)


def test_money_sub_penny_budget_still_adds_up_to_round_budget():
    rule = Rule(name="m", unit="msoa21", count=1)
    amounts = money(rule, np.ones(7), np.ones(7, dtype=bool), 0.125)
    assert round(amounts.sum() * 100) == round(0.125 * 100)


@SETTINGS
@given(seed=st.integers(0, 10_000), rate=st.floats(0.01, 500))
def test_per_resident_money_is_proportional_to_population(seed, rate):
    rng = np.random.default_rng(seed)
    pop = rng.integers(100, 20_000, 50).astype("float64")
    selected = rng.random(50) < 0.5
    rule = Rule.model_validate(
        {"name": "m", "unit": "msoa21", "count": 1, "money": {"mode": "per_resident", "amount": rate}}
    )
    a = money(rule, pop, selected)
    np.testing.assert_allclose(a[selected], pop[selected] * rate)
    assert (a[~selected] == 0).all()


def test_tiered_money_follows_the_tiers():
    tiers = [
        {"max_population": 12_000, "amount": 1_750_000},
        {"max_population": 8_000, "amount": 1_000_000},
        {"max_population": 15_000, "amount": 2_500_000},
    ]
    rule = Rule.model_validate({"name": "m", "unit": "msoa21", "count": 1, "money": {"mode": "tiered", "tiers": tiers}})
    pop = np.array([100, 7_999, 8_000, 8_001, 12_000, 12_001, 15_000, 30_000], dtype="float64")
    got = money(rule, pop, np.ones(len(pop), dtype=bool))
    assert got.tolist() == [_tier_amount(tiers, p) for p in pop]
    assert got.tolist() == [1e6, 1e6, 1e6, 1.75e6, 1.75e6, 2.5e6, 2.5e6, 2.5e6]
    none = money(rule, pop, np.zeros(len(pop), dtype=bool))
    assert (none == 0).all()


def test_per_area_money_in_the_selection():
    t = make_table(21, 70)
    rule = Rule.model_validate(
        {"name": "m", "unit": "msoa21", "count": 9, "money": {"mode": "per_area", "amount": 20_000_000}}
    )
    out = select(rule, t)
    assert set(out.loc[out["selected"], "amount_gbp"]) == {20_000_000}
    assert out["amount_gbp"].sum() == 9 * 20_000_000


# ------------------------------------------------------------------ summaries, fit, compare


def test_by_area_and_summary_add_up():
    t = make_table(31, 150)
    rule = Rule.model_validate(
        {
            "name": "s",
            "unit": "msoa21",
            "count": 40,
            "caps": {"per_lad": 7},
            "money": {"mode": "per_resident", "amount": 2},
        }
    )
    out = select(rule, t)
    s = out[out["selected"]]
    reg, lad = by_area(out, "region"), by_area(out, "lad")
    for g in (reg, lad):
        assert g["areas"].sum() == 40
        assert g["residents"].sum() == pytest.approx(s["population"].sum())
        assert g["amount_gbp"].sum() == pytest.approx(s["amount_gbp"].sum())
    assert reg.set_index("region_name")["areas"].to_dict() == s["region_name"].value_counts().to_dict()
    assert lad.set_index("lad_code")["areas"].to_dict() == s["lad_code"].value_counts().to_dict()
    summ = summary(rule, out, margin=3)
    assert summ["areas"] == 40 and summ["candidates"] == 150
    assert summ["residents"] == round(s["population"].sum())
    assert summ["gbp_per_resident"] == pytest.approx(2.0)
    # just in: the last three selected; just out: the first three not reached
    assert [r["rank"] for r in summ["just_in"]] == s["rank"].tail(3).tolist()
    nr = out[out["reason"].str.startswith("not reached")]
    assert [r["rank"] for r in summ["just_out"]] == nr["rank"].head(3).tolist()


def _sel(codes_selected, all_codes, pop=None, amount=None, region=None):
    return pd.DataFrame(
        {
            "area_code": all_codes,
            "area_name": all_codes,
            "lad_code": "L",
            "lad_name": "L",
            "region_name": region if region is not None else "R",
            "population": pop if pop is not None else 1000.0,
            "selected": [c in codes_selected for c in all_codes],
            "amount_gbp": amount if amount is not None else [100.0 if c in codes_selected else 0 for c in all_codes],
        }
    )


def test_fit_against_hand_counts():
    codes = list("ABCDEFG")
    f = fit(_sel({"A", "B", "C"}, codes), {"B", "C", "D", "X"})
    assert (f["selected"], f["published"], f["matched"]) == (3, 4, 2)
    assert f["precision"] == pytest.approx(2 / 3)
    assert f["recall"] == pytest.approx(2 / 4)
    p, r = 2 / 3, 1 / 2
    assert f["f1"] == pytest.approx(2 * p * r / (p + r)) == pytest.approx(4 / 7)
    perfect = fit(_sel({"A", "B"}, codes), {"A", "B"})
    assert perfect["precision"] == perfect["recall"] == perfect["f1"] == 1.0
    disjoint = fit(_sel({"A"}, codes), {"B"})
    assert disjoint["precision"] == disjoint["recall"] == disjoint["f1"] == 0.0
    nothing = fit(_sel(set(), codes), {"B"})
    assert math.isnan(nothing["precision"]) and nothing["recall"] == 0.0


@SETTINGS
@given(
    a=st.sets(st.sampled_from([f"C{i}" for i in range(30)])),
    b=st.sets(st.sampled_from([f"C{i}" for i in range(30)])),
)
def test_fit_and_compare_follow_set_arithmetic(a, b):
    codes = [f"C{i}" for i in range(30)]
    pop = [100.0 * (i + 1) for i in range(30)]
    region = [REGIONS[i % 3] for i in range(30)]
    amt_a = [7.0 * (i + 1) if c in a else 0.0 for i, c in enumerate(codes)]
    amt_b = [3.0 if c in b else 0.0 for c in codes]
    sa = _sel(a, codes, pop, amt_a, region)
    sb = _sel(b, codes, pop, amt_b, region)
    f = fit(sa, b)
    if a:
        assert f["precision"] == pytest.approx(len(a & b) / len(a))
    if b:
        assert f["recall"] == pytest.approx(len(a & b) / len(b))
    if a or b:
        assert f["f1"] == pytest.approx(2 * len(a & b) / (len(a) + len(b)))
    stats, moved = compare(sa, sb)
    popd = dict(zip(codes, pop, strict=True))
    assert stats["selected_a"] == len(a) and stats["selected_b"] == len(b)
    assert stats["overlap"] == len(a & b)
    assert stats["gained_by_b"] == len(b - a) and stats["lost_by_b"] == len(a - b)
    if a | b:
        assert stats["jaccard"] == pytest.approx(len(a & b) / len(a | b))
    else:
        assert math.isnan(stats["jaccard"])
    assert stats["residents_gained_by_b"] == round(sum(popd[c] for c in b - a))
    assert stats["residents_lost_by_b"] == round(sum(popd[c] for c in a - b))
    assert moved["moved_gbp"].sum() == pytest.approx(sum(amt_b) - sum(amt_a))
    for r in moved.itertuples():
        in_r = [i for i in range(30) if region[i] == r.region_name]
        assert r.amount_gbp_a == pytest.approx(sum(amt_a[i] for i in in_r))
        assert r.amount_gbp_b == pytest.approx(sum(amt_b[i] for i in in_r))
        assert r.moved_gbp == pytest.approx(r.amount_gbp_b - r.amount_gbp_a)


# ------------------------------------------------------------------ bad rules


def test_presets_are_listed_and_load():
    assert presets() == ["cwf", "lbn2020", "pride-in-place"]
    for p in presets():
        r = load_rule(p)
        assert r.name == p


def test_load_rule_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError) as e:
        load_rule(str(tmp_path / "nope.yaml"))
    assert "neither a preset nor a file" in e.value.message
    assert "pride-in-place" in e.value.hint


def _rule_file(tmp_path, text: str) -> str:
    p = tmp_path / "rule.yaml"
    p.write_text(text, encoding="utf-8")
    return str(p)


GOOD = "name: mine\nunit: msoa21\ncount: 10\n"


def test_load_rule_from_a_file(tmp_path):
    r = load_rule(_rule_file(tmp_path, GOOD + "caps: {per_lad: 2}\n"))
    assert (r.name, r.unit, r.count, r.caps.per_lad) == ("mine", "msoa21", 10, 2)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("name: [unclosed\n", ["not valid YAML"]),
        (GOOD + "colour: red\n", ["colour", "Extra inputs"]),
        (GOOD + "caps: {per_ward: 2}\n", ["caps.per_ward"]),
        ("name: w\nunit: msoa21\ncount: 3\nindex: {method: weighted}\n", ["index", "weighted index needs weights"]),
        (
            "name: w\nunit: msoa21\ncount: 3\nindex: {method: weighted, weights: {happiness: 1}}\n",
            ["weighted index needs weights", "happiness"],
        ),
        ("name: w\nunit: msoa21\nindex: {method: sum_z}\n", ["give count"]),
        ("name: w\nunit: msoa21\n", ["give count"]),  # mean_rank by default
        ("name: w\nunit: county\ncount: 3\n", ["unit"]),
        ("name: w\nunit: wd17\nindex: {method: both_top}\n", ["imd2019"]),
        (GOOD + "money: {mode: tiered}\n", ["money", "tiers"]),
        (GOOD + "money: {mode: per_resident}\n", ["money", "needs an amount"]),
        (GOOD + "population: {min: -5}\n", ["population.min"]),
    ],
)
def test_bad_rules_are_spec_errors_naming_the_field(tmp_path, text, fragments):
    with pytest.raises(SpecError) as e:
        load_rule(_rule_file(tmp_path, text))
    for frag in fragments:
        assert frag in e.value.message, e.value.message


def test_both_top_needs_no_count():
    r = Rule.model_validate({"name": "b", "unit": "msoa21", "index": {"method": "both_top"}})
    assert r.count is None


# ------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def pip_selection(ctx):
    rule = load_rule("pride-in-place")
    t = unit_table(rule, ctx)
    return rule, t, select(rule, t, ctx)


def test_pride_in_place_preset_selects_146(pip_selection):
    rule, t, sel = pip_selection
    assert rule.count == 146 and len(t) == 6_856
    assert sel["selected"].sum() == 146
    assert sel["amount_gbp"].sum() == 146 * 20_000_000
    # the cap: at most ceil(LA residents / 300,000) per local authority
    lad_pop = t.groupby("lad_code")["population"].sum()
    n = sel[sel["selected"]]["lad_code"].value_counts()
    assert (n <= np.ceil(lad_pop.reindex(n.index) / 300_000)).all()


def test_target_cli_pride_in_place(shared_data, tmp_path, ctx):
    from leftbehind.analysis.designations import match

    out = tmp_path / "t"
    res = runner.invoke(
        app, ["target", "pride-in-place", "--count", "146", "--out", str(out), "--data", str(shared_data)]
    )
    assert res.exit_code == 0, res.output
    sec = out / "target" / "pride-in-place"  # the section of the rule
    sel = pd.read_csv(sec / "selection.csv", dtype={"area_code": str})
    assert len(sel) == 6_856 and sel["selected"].sum() == 146
    ours = set(sel.loc[sel["selected"], "area_code"])
    summ = json.loads((sec / "summary.json").read_text())
    t = unit_table(load_rule("pride-in-place"), ctx)
    for ds in ("pride_in_place_phase2", "pride_in_place_cohort3"):
        pub = set(match(ctx.load(ds), t, "msoa21", ds)["area_code"].dropna())
        tp = len(ours & pub)
        p, r, f1 = tp / 146, tp / len(pub), 2 * tp / (146 + len(pub))
        line = next(x for x in res.output.splitlines() if x.startswith(f"against {ds} "))
        assert f"precision {p:.3f}, recall {r:.3f}, F1 {f1:.3f}" in line, line
        c = summ["checks"][ds]
        assert (c["matched"], c["published"], c["count"]) == (tp, len(pub), 146)
        assert len(pub) == {"pride_in_place_phase2": 146, "pride_in_place_cohort3": 40}[ds]
    for f in ("by_region.csv", "by_lad.csv"):
        g = pd.read_csv(sec / f)
        assert g["areas"].sum() == 146


def test_cwf_selects_within_the_band(ctx):
    rule = load_rule("cwf")
    t = unit_table(rule, ctx)
    sel = select(rule, t, ctx)
    s = sel[sel["selected"]].merge(t[["area_code", "imd_rank", "cni_rank"]], on="area_code")
    assert len(s) > 0
    assert s["population"].between(5_000, 15_000).all()
    k = math.floor(0.10 * len(t))
    assert ((s["imd_rank"] <= k) & (s["cni_rank"] <= k)).all()
    # every area in the band and the top 10% of both is selected (no count, no caps)
    both = t[(t["imd_rank"] <= k) & (t["cni_rank"] <= k) & t["population"].between(5_000, 15_000)]
    assert set(s["area_code"]) == set(both["area_code"])
    assert set(sel.loc[sel["selected"], "amount_gbp"]) <= {1_000_000, 1_750_000, 2_500_000}


def test_lbn2020_reproduces_the_run_classification(ctx):
    from leftbehind.analysis.pipeline import build_wards
    from leftbehind.editions import edition
    from leftbehind.options import make_run_options

    rule = load_rule("lbn2020")
    sel = select(rule, unit_table(rule, ctx), ctx)
    wards, _ = build_wards(make_run_options(), edition("2020"), ctx=ctx)
    lb = set(wards.loc[wards["group"] == "left_behind", "ward_code"])
    assert len(lb) > 0
    assert set(sel.loc[sel["selected"], "area_code"]) == lb


def test_target_compare_cli(shared_data, tmp_path):
    out = tmp_path / "cmp"
    res = runner.invoke(
        app, ["target", "cwf", "pride-in-place", "--compare", "--out", str(out), "--data", str(shared_data)]
    )
    assert res.exit_code == 0, res.output
    sec = out / "target" / "cwf-vs-pride-in-place"
    both = pd.read_csv(sec / "comparison.csv")
    moved = pd.read_csv(sec / "money_moved.csv")
    summ = json.loads((sec / "summary.json").read_text())
    assert (both["selected_a"] | both["selected_b"]).all()
    assert summ["selected_b"] == both["selected_b"].sum() == 146
    assert summ["overlap"] == (both["selected_a"] & both["selected_b"]).sum()
    total_a, total_b = both["amount_gbp_a"].sum(), both["amount_gbp_b"].sum()
    assert total_b == pytest.approx(146 * 20_000_000)
    assert moved["moved_gbp"].sum() == pytest.approx(total_b - total_a)
    assert moved["amount_gbp_a"].sum() == pytest.approx(total_a)


def test_target_two_rules_without_compare_is_a_usage_error(shared_data, tmp_path):
    out = tmp_path / "x"
    res = runner.invoke(app, ["target", "cwf", "pride-in-place", "--out", str(out), "--data", str(shared_data)])
    assert res.exit_code == 2, res.output
    assert "--compare" in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_target_unknown_preset_lists_the_presets(shared_data, tmp_path):
    out = tmp_path / "x"
    res = runner.invoke(app, ["target", "no-such-rule", "--out", str(out), "--data", str(shared_data)])
    assert res.exit_code == 2, res.output
    for p in ("cwf", "lbn2020", "pride-in-place"):
        assert p in res.output
    assert "no-such-rule" in res.output and not out.exists()


def test_target_budget_cli_adds_up_to_the_penny(shared_data, tmp_path):
    out = tmp_path / "b"
    budget = "123456789.01"
    res = runner.invoke(app, ["target", "cwf", "--budget", budget, "--out", str(out), "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    sel = pd.read_csv(out / "target" / "cwf" / "selection.csv")
    pence = np.round(sel["amount_gbp"].to_numpy() * 100)
    assert np.allclose(sel["amount_gbp"] * 100, pence, atol=1e-4)
    assert int(pence.sum()) == 12345678901
    assert (sel.loc[~sel["selected"], "amount_gbp"] == 0).all()
    # scaled, the tiers keep their proportions: 1m : 1.75m : 2.5m
    s = sel[sel["selected"]]
    tier = pd.cut(s["population"], [0, 8_000, 12_000, 15_000], labels=[1.0, 1.75, 2.5]).astype(float)
    np.testing.assert_allclose(s["amount_gbp"] / tier, (s["amount_gbp"] / tier).mean(), atol=1.0)
    assert json.loads((out / "target" / "cwf" / "summary.json").read_text())["amount_gbp"] == pytest.approx(
        float(budget)
    )


def test_target_wd17_rule_with_checks(shared_data, tmp_path):
    rule = tmp_path / "wd17.yaml"
    rule.write_text(
        "name: w\nunit: wd17\nimd: imd2019\nindex: {method: both_top}\nchecks: [pride_in_place_phase2]\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["target", str(rule), "--out", str(tmp_path / "o"), "--data", str(shared_data)])
    assert res.exit_code == 0, res.output


def test_a_rule_on_custom_areas(tmp_path, shared_data):
    """unit: custom with a CSV of area_id, lsoa21_code: the areas are the candidates, money adds up."""
    areas = tmp_path / "areas.csv"
    areas.write_text("area_id,lsoa21_code\nNorth,E01012019\nNorth,E01012020\nSouth,E01000001\nMiddle,E01005092\n")
    rule = tmp_path / "rule.yaml"
    rule.write_text(
        f"name: mine\nunit: custom\nareas: {areas}\nindex: {{method: sum_z}}\ncount: 2\n"
        "money: {mode: per_resident, amount: 10}\n"
    )
    out = tmp_path / "t"
    res = CliRunner().invoke(
        app, ["target", str(rule), "--out", str(out), "--budget", "50000", "--data", str(shared_data)]
    )
    assert res.exit_code == 0, res.output
    sel = pd.read_csv(out / "target" / "mine" / "selection.csv")
    assert sorted(sel["area_code"]) == ["Middle", "North", "South"] and int(sel["selected"].sum()) == 2
    assert round(sel["amount_gbp"].sum() * 100) == 5_000_000
    assert "South" not in set(sel.loc[sel["selected"], "area_code"])  # Westminster's E01000001 is least in need
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: mine\nunit: custom\ncount: 2\n")
    res = CliRunner().invoke(app, ["target", str(bad), "--out", str(tmp_path / "u"), "--data", str(shared_data)])
    assert res.exit_code == 2 and "unit custom needs areas" in res.output


# ------------------------------------------------------------------ a count the rule cannot fill; HCL names (issue 19)


def test_a_count_beyond_what_the_caps_leave_is_reported_in_the_summary():
    t = make_table(5, 90)
    rule = Rule.model_validate({"name": "c", "unit": "msoa21", "caps": {"per_lad": 1}, "count": 50})
    out = select(rule, t)
    got = t["lad_code"].nunique()
    assert out["selected"].sum() == got < 50
    summ = summary(rule, out)
    assert summ["requested"] == 50 and summ["areas"] == got
    (note,) = summ["notes"]
    assert note.startswith(f"count 50 (rule c): only {got} of the 50 areas requested could be selected: ")
    assert f"the 90 msoa21 candidates leave {got} after the rule's filters and caps" in note
    assert f"{90 - got} over a local authority or region cap" in note and f"ask for at most {got}" in note
    # the override names the flag; the reasons add up to the candidates
    band = Rule.model_validate(
        {
            "name": "b",
            "unit": "msoa21",
            "population": {"min": 8_000, "max": 12_000},
            "caps": {"per_region": 5},
            "count": 9,
        }
    )
    sel = select(band, t, count=60)
    (note,) = summary(band, sel)["notes"]
    k = int(sel["selected"].sum())
    assert note.startswith(f"--count 60: only {k} of the 60 areas requested could be selected")
    counts = [int(m.replace(",", "")) for m in re.findall(r"([\d,]+) (?:outside|over|excluded|not in)", note)]
    assert sum(counts) + k == len(t)


def test_a_count_beyond_the_candidates_and_a_count_that_is_met():
    t = make_table(9, 40)
    rule = Rule(name="all", unit="msoa21", count=10)
    assert summary(rule, select(rule, t))["notes"] == []
    (note,) = summary(rule, select(rule, t, count=100))["notes"]
    assert "--count 100: only 40 of the 100 areas requested could be selected: there are only the 40 msoa21" in note
    both = Rule.model_validate({"name": "bt", "unit": "msoa21", "index": {"method": "both_top", "top": 0.1}})
    assert summary(both, select(both, t))["notes"] == []  # no count: every area in the top share, no shortfall


def test_a_both_top_share_that_selects_no_area_is_a_spec_error():
    t = make_table(3, 40)
    rule = Rule.model_validate({"name": "tiny", "unit": "msoa21", "index": {"method": "both_top", "top": 0.01}})
    with pytest.raises(SpecError, match=r"rule tiny: index.top 0.01 selects no area: floor\(0.01 x 40\) is 0") as e:
        select(rule, t)
    assert "set index.top to 0.025 or more" in e.value.hint


def test_msoa_summaries_name_areas_by_their_house_of_commons_library_names():
    t = make_table(4, 60)
    t["area_name_hcl"] = [f"Neighbourhood {i}" for i in range(len(t))]
    t.loc[3, "area_name_hcl"] = None  # no HCL name: the ONS name
    rule = Rule(name="m", unit="msoa21", count=20)
    sel = select(rule, t)
    assert list(sel.columns) == SELECTION_COLUMNS  # the selection table keeps its declared columns
    names = t.set_index("area_code")
    summ = summary(rule, sel, margin=30)
    entries = summ["just_in"] + summ["just_out"]
    assert len(entries) == 50
    for r in entries:
        hcl = names.at[r["area_code"], "area_name_hcl"]
        assert r["area_name"] == (hcl if isinstance(hcl, str) else names.at[r["area_code"], "area_name"])
        assert r["area_name_ons"] == names.at[r["area_code"], "area_name"]
    assert any(r["area_code"] == t.at[3, "area_code"] for r in entries)
    # other units keep the one name
    w = Rule(name="w", unit="wards24", count=20)
    s = summary(w, select(w, t.drop(columns="area_name_hcl")))
    assert all(set(r) == {"area_code", "area_name", "lad_name", "rank"} for r in s["just_in"] + s["just_out"])


def test_target_cli_on_msoas_prints_hcl_names_and_the_shortfall(shared_data, tmp_path, ctx):
    rule = load_rule("cwf")
    t = unit_table(rule, ctx)
    summ = summary(rule, select(rule, t, ctx, count=500))
    k = summ["areas"]
    assert k < 500 and summ["requested"] == 500
    (note,) = summ["notes"]
    assert note.startswith(f"--count 500: only {k} of the 500 areas requested could be selected")
    assert "not in the top 10% of both indices" in note and "outside the population band" in note
    hcl = t.set_index("area_code")["area_name_hcl"]
    assert [r["area_name"] for r in summ["just_in"]] == [hcl[r["area_code"]] for r in summ["just_in"]]
    assert all(r["area_name"] != r["area_name_ons"] for r in summ["just_in"])
    res = runner.invoke(
        app, ["target", "cwf", "--count", "500", "--out", str(tmp_path / "t"), "--data", str(shared_data)]
    )
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.startswith("just in:"))
    for r in summ["just_in"]:
        assert f"{r['area_name']} ({r['lad_name']}, {r['rank']})" in line, line
