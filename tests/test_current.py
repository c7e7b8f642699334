"""The current picture (CNI 2023 x IMD 2025, LSOA 2021) and the change since the 2020 list:
counts are printed and internally consistent; the index rebuilds match the published scores."""

from __future__ import annotations

import json

import pandas as pd
import pytest

COLUMNS = [
    "lsoa21_code",
    "lsoa21_name",
    "lad_code",
    "lad_name",
    "region_name",
    "cni_score",
    "cni_rank",
    "imd_score",
    "imd_rank",
    "group",
]


@pytest.fixture(scope="module")
def out(run_2025):
    return run_2025[0]


@pytest.fixture(scope="module")
def summary(out):
    return json.loads((out / "summary.json").read_text())["current"]


def test_lsoa21_table(out):
    t = pd.read_csv(out / "lsoa21.csv")
    assert list(t.columns[: len(COLUMNS)]) == COLUMNS
    assert len(t) == 33_755 and t["lsoa21_code"].is_unique
    assert set(t["group"]) <= {"left_behind", "other_deprived", "rest"}  # every LSOA in exactly one group
    k = 3_375  # floor(0.10 x 33,755)
    lb = t["group"] == "left_behind"
    assert (t.loc[lb, "cni_rank"] <= k).all() and (t.loc[lb, "imd_rank"] <= k).all()
    assert ((t["cni_rank"] <= k) & (t["imd_rank"] <= k)).sum() == lb.sum()
    od = t["group"] == "other_deprived"
    assert ((t["imd_rank"] <= k) & (t["cni_rank"] > k)).sum() == od.sum()
    assert lb.sum() + od.sum() == (t["imd_rank"] <= k).sum() == k  # IMD ranks are unique: exactly the top 3,375


def test_counts_are_consistent(out, summary, run_2025):
    t = pd.read_csv(out / "lsoa21.csv")
    g = summary["groups"]
    assert sum(v["lsoas"] for v in g.values()) == 33_755
    assert g["left_behind"]["lsoas"] == int((t["group"] == "left_behind").sum())
    assert sum(v["population"] for v in g.values()) == pytest.approx(t["population"].sum(), abs=5)
    region = pd.read_csv(out / "current" / "region.csv")
    lad = pd.read_csv(out / "current" / "lad.csv")
    assert len(region) == 9 and len(lad) == 296
    for table in (region, lad):
        assert table["lsoas_total"].sum() == 33_755
        assert table["lsoas_left_behind"].sum() == g["left_behind"]["lsoas"]
        assert table["population_total"].sum() == pytest.approx(t["population"].sum())
    assert f"{g['left_behind']['lsoas']:,} left-behind LSOAs" in run_2025[1]  # printed by the run


def test_transitions_are_consistent(out, summary):
    tr = summary["transitions"]
    t = pd.read_csv(out / "lsoa21.csv")
    lb = t[t["group"] == "left_behind"]
    assert tr["current_lb_lsoas_persistent"] + tr["current_lb_lsoas_new"] == len(lb)
    assert set(lb["status_since_2020"]) <= {"persistent", "new"}
    assert tr["wards_2020_still"] + tr["wards_2020_no_longer"] == 225
    w = pd.read_csv(out / "current" / "transitions_wards_2020.csv")
    assert len(w) == 225 and set(w["status_2025"]) <= {"still", "no_longer"}
    assert (w.loc[w["status_2025"] == "still", "current_lb_lsoas"] > 0).all()
    for level in ("region", "lad"):
        c = pd.read_csv(out / "current" / f"transitions_{level}.csv")
        assert c["lsoas_persistent"].sum() == tr["current_lb_lsoas_persistent"]
        assert c["lsoas_new"].sum() == tr["current_lb_lsoas_new"]
        assert c["wards_2020_still"].sum() == tr["wards_2020_still"]
        assert c["wards_2020_no_longer"].sum() == tr["wards_2020_no_longer"]
    # a persistent LSOA traces to at least one published 2020 left-behind ward
    pub = set(w["ward_code"])
    pers = lb[lb["status_since_2020"] == "persistent"]
    assert pers["wards_2020"].str.split(";").apply(lambda ws: bool(set(ws) & pub)).all()
    new = lb[lb["status_since_2020"] == "new"]
    assert not new["wards_2020"].str.split(";").apply(lambda ws: bool(set(ws) & pub)).any()


def test_current_outcomes_have_intervals(out):
    o = pd.read_csv(out / "current" / "outcomes.csv")
    assert set(o["group"]) == {"left_behind", "other_deprived", "rest", "england"}
    assert ((o["ci_low"] <= o["estimate"]) & (o["estimate"] <= o["ci_high"])).all()
    assert (o["edition"] == "IoD2025").all() and o["unit"].notna().all()


def test_both_index_rebuilds_match_their_published_scores(shared_data):
    """CNI 2023 to its 2-dp rounding and IMD 2025 to its 3-dp rounding (the foundation specs)."""
    import numpy as np

    from leftbehind.data import load
    from leftbehind.indices.build import build_index
    from leftbehind.indices.spec import load_spec

    for name, col, tol in (("cni2023", "cni_score", 0.005 + 2e-5), ("iod2025_imd", "imd_score", 0.001)):
        spec = load_spec(name)
        t = load(spec.source, shared_data)
        b = build_index(spec, t)
        pub = t.set_index("lsoa21cd").loc[b["area_code"], col].to_numpy()
        assert np.abs(b["score"].to_numpy() - pub).max() <= tol, name
