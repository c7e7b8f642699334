"""Geography on the real files: lookup invariants, population preserved, ward IMD, published checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leftbehind.geography.aggregate import aggregate
from leftbehind.geography.lookups import (
    TARGETS_LSOA11,
    current_lad,
    lad_to_region,
    lsoa11_to_lsoa21,
    lsoa11_to_ward,
    lsoa21_to_area,
    lsoa_to_area,
    piece_shares,
    ward_to_pcon,
)
from leftbehind.geography.population import lsoa_population
from leftbehind.geography.wards import ward_imd
from leftbehind.indices.values import small_area_values


@pytest.fixture(scope="module")
def data(ctx):
    return ctx


@pytest.fixture(scope="module")
def imd19(data):
    vals = small_area_values("imd2019", ctx=data)
    pop = lsoa_population("mid2019", ctx=data)[["lsoa11cd", "pop_total"]]
    return vals.merge(pop, on="lsoa11cd").rename(columns={"pop_total": "population"})


def test_every_english_lsoa11_maps_to_exactly_one_wd17(data):
    m = lsoa11_to_ward("wd17", ctx=data)
    f1 = data.load("imd2019_file1")
    assert len(m) == 32_844 and m["lsoa11cd"].is_unique
    assert set(m["lsoa11cd"]) == set(f1["lsoa11cd"])
    assert m["wd17cd"].str.match(r"^E05\d{6}$").all()


def test_cni_wards_without_best_fit_lsoa(data):
    cni = data.load("cni2019_wards")
    reached = set(lsoa11_to_ward("wd17", ctx=data)["wd17cd"])
    assert len(set(cni["wd17cd"]) - reached) == 12  # METHOD.md / SOURCES.md
    assert len(reached - set(cni["wd17cd"])) == 6  # City of London and Isles of Scilly wards


@pytest.mark.parametrize("to", TARGETS_LSOA11)
def test_population_totals_are_preserved(imd19, data, to):
    out = aggregate(imd19, lsoa_to_area(to, ctx=data))
    assert out["population"].sum() == pytest.approx(imd19["population"].sum(), abs=1e-6)
    assert imd19["population"].sum() == 56_286_961  # England, mid-2019
    assert out["area_code"].is_unique


def test_population_preserved_when_apportioned(imd19, data):
    m = lsoa_to_area("pcon17", ctx=data, split="apportion")
    assert m.groupby("lsoa11cd")["weight"].sum().to_numpy() == pytest.approx(1.0)
    out = aggregate(imd19, m)
    assert out["population"].sum() == pytest.approx(imd19["population"].sum(), rel=1e-12)
    assert len(out) == 533


def test_533_english_constituencies(data):
    pieces = ward_to_pcon("wd17", ctx=data)
    assert pieces["pcon_cd"].nunique() == 533
    cni = data.load("cni2019_wards")
    split = pieces[pieces["n_pieces"] > 1]["wd17cd"].unique()
    assert len(set(split) & set(cni["wd17cd"])) == 236  # SOURCES.md
    shares = piece_shares("wd17", ctx=data)
    assert shares.groupby("wd17cd")["share"].sum().to_numpy() == pytest.approx(1.0)


def test_lad_codes_to_current(data):
    cni = data.load("cni2019_wards")
    cur = current_lad(cni["lad19cd"], ctx=data)
    assert cur["lad24cd"].notna().all()
    # Bournemouth and Poole (pre-2019 codes in the CNI file) are BCP Council in 2024
    bcp = cur.loc[cur["lad_code"].isin(["E06000028", "E06000029"]), "lad24cd"].unique()
    assert bcp.tolist() == ["E06000058"]
    regions = lad_to_region(data)
    assert len(regions) == 296 and regions["rgn_cd"].nunique() == 9
    # every CNI ward's 2024 LAD has a region
    assert set(cur["lad24cd"]) <= set(regions["lad24cd"])


def test_lsoa11_to_lsoa21_change_codes(data):
    lk = lsoa11_to_lsoa21(data)
    assert set(lk["change_code"]) == {"U", "S", "M", "X"}
    assert lk["lsoa11cd"].nunique() == 32_844 and lk["lsoa21cd"].nunique() == 33_755


def test_ward_imd_for_all_cni_wards(data):
    w = ward_imd("imd2019", "mid2019", ctx=data, route="best_fit")
    assert len(w) == 7_433 and w["ward_code"].is_unique
    no = w[w["note"] != ""]
    assert len(no) == 12 and no["average_score"].isna().all()
    assert "no LSOA 2011 is best-fitted" in no["note"].iloc[0]
    assert w["rank_average_score"].max() == 7_421
    w15 = ward_imd("imd2015", "mid2015", ctx=data, route="best_fit")
    assert len(w15) == 7_433 and int(w15["average_score"].notna().sum()) == 7_421
    # the OA route reaches all but 2 CNI wards (Frome Valley, Queen Thorne: SOURCES.md)
    oa = ward_imd("imd2019", "census2011", ctx=data, route="oa")
    assert oa.loc[oa["note"] != "", "ward_code"].tolist() == ["E05010593", "E05010599"]


def test_ward_imd_reproduces_the_published_list(data):
    """Against the published 2020 list (its size from the edition, its wards from the CNI file):
    the LSOA best-fit, mid-2019 weighted mean (METHOD.md section 5) recovers at least 95% of the
    published wards with a list within 2% of the published size, and the OA route with Census 2011
    weights (the default) fits the published list better still."""
    from leftbehind.analysis.leftbehind import classify, diagnostics
    from leftbehind.editions import edition

    published = edition("2020").pairing("2019").list
    cni = data.load("cni2019_wards").set_index("wd17cd")
    assert int(cni[published.column].sum()) == published.size

    def fit(route: str, population: str) -> dict:
        w = ward_imd("imd2019", population, ctx=data, route=route)
        t = w[["ward_code", "imd_rank"]].assign(cni_rank=cni.loc[w["ward_code"], "cni_rank"].to_numpy())
        return diagnostics(classify(t, 0.10, n=len(cni)), cni[published.column])[1]

    best_fit, oa = fit("best_fit", "mid2019"), fit("oa", "census2011")
    assert best_fit["recall"] >= 0.95 and abs(best_fit["ours"] - published.size) <= 0.02 * published.size
    assert oa["f1"] > best_fit["f1"] and oa["recall"] >= 0.98


def test_region_only_run_gives_the_national_ward_values(imd19, data):
    mapping = lsoa_to_area("wd17", ctx=data)
    national = aggregate(imd19, mapping).set_index("area_code")
    cni = data.load("cni2019_wards")
    region = lad_to_region(data).set_index("lad24cd")["rgn_cd"]
    in_ne = current_lad(cni["lad19cd"], ctx=data)["lad24cd"].map(region).eq("E12000001").to_numpy()
    ne_wards = cni.loc[in_ne, "wd17cd"]
    regional = aggregate(imd19, mapping, areas=ne_wards).set_index("area_code")
    cols = ["population", "average_score", "average_rank", "extent", "local_concentration", "proportion"]
    pd.testing.assert_frame_equal(regional[cols], national.loc[regional.index, cols])
    assert len(regional) > 300


def test_iod2025_proportion_by_lad24_is_exact(data):
    vals = small_area_values("iod2025", ctx=data)
    pop = lsoa_population("census2021", ctx=data)
    vals = vals.merge(pop, on="lsoa21cd").rename(columns={"pop_total": "population"})
    m = lsoa21_to_area("lad24", ctx=data)
    out = aggregate(vals, m, code="lsoa21cd").set_index("area_code")
    # independently: the share of each LAD's LSOAs whose published decile is 1
    pub = data.load("iod2025_scores")[["lsoa21cd", "imd_decile"]].merge(m, on="lsoa21cd")
    expected = (pub["imd_decile"] == 1).groupby(pub["area_code"]).mean()
    assert len(out) == 296
    assert np.array_equal(out.loc[expected.index, "proportion"].to_numpy(), expected.to_numpy())
    assert out["population"].sum() == pop["pop_total"].sum()


def test_iod2019_lad_summaries_match_published_values(data):
    """Published IoD2019 File 10 (LAD summaries, mid-2015 populations): Blackpool has the highest
    average score, 45.039; Middlesbrough the highest proportion of LSOAs in the most deprived 10%
    (42 of 86), Liverpool second (145 of 298)."""
    vals = small_area_values("imd2019", ctx=data)
    pop = lsoa_population("mid2015", ctx=data)[["lsoa11cd", "pop_total"]]
    vals = vals.merge(pop, on="lsoa11cd").rename(columns={"pop_total": "population"})
    out = aggregate(vals, lsoa_to_area("lad19", ctx=data)).set_index("area_name")
    assert out.loc["Blackpool", "average_score"] == pytest.approx(45.039, abs=0.0005)
    assert out.loc["Blackpool", "rank_average_score"] == 1
    assert out.loc["Middlesbrough", "proportion"] == pytest.approx(42 / 86)
    assert out.loc["Liverpool", "proportion"] == pytest.approx(145 / 298)
    assert out.loc["Middlesbrough", "rank_proportion"] == 1 and out.loc["Liverpool", "rank_proportion"] == 2


def test_domain_denominators(data):
    from leftbehind.geography.population import DENOMINATOR

    assert DENOMINATOR == {"employment": "pop_working_age", "idaci": "pop_0_15", "idaopi": "pop_60_plus"}
    p15 = lsoa_population("mid2015", ctx=data)
    assert int(p15["pop_total"].sum()) == 54_728_204
    p19 = lsoa_population("mid2019", ctx=data)
    assert (p19["pop_working_age"] < p19["pop_total"]).all()
    c11 = lsoa_population("census2011", ctx=data)
    assert int(c11["pop_total"].sum()) == 53_012_456 and len(c11) == 32_844
