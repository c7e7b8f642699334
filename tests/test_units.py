"""The current edition at larger units (``leftbehind.analysis.units``), on the real files: MSOAs 2021
and wards 2024 rebuilt from the LSOAs 2021, every check an independent recomputation from the
published LSOA files (pandas group-bys on the raw datasets, not the module's code path)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from leftbehind.analysis.units import imd2019_lsoa21, unit_mapping, unit_table, wards_2020_in_units
from leftbehind.editions import edition
from leftbehind.errors import DataError

N_LSOA21 = 33_755
N_MSOA21 = 6_856
DOMAINS = ("civic_assets", "connectedness", "engaged_community")


@pytest.fixture(scope="module")
def ed():
    return edition("2025")


@pytest.fixture(scope="module")
def lsoa(ctx, ed):
    from leftbehind.analysis.current import area_table

    return area_table(ed, 0.10, ctx=ctx)


@pytest.fixture(scope="module")
def msoa(ctx, ed, lsoa):
    return unit_table(ed, "msoa21", lsoa, 0.10, ctx=ctx)


@pytest.fixture(scope="module")
def wards(ctx, ed, lsoa):
    return unit_table(ed, "wards24", lsoa, 0.10, ctx=ctx)


def msoa21_names(ctx) -> pd.DataFrame:
    """England's MSOA 2021 rows of the UK names file (msoacd equal to its MSOA21CD), renamed."""
    t = ctx.load("drkane_msoa_la")
    t = t[(t["msoacd"] == t["msoa21cd_col"]).fillna(False).astype(bool) & t["msoacd"].str.startswith("E02")]
    return t.rename(columns={"msoacd": "msoa21cd", "msoanm": "msoa21nm", "msoahclnm": "msoa21hclnm"})


@pytest.fixture(scope="module")
def msoa_of_lsoa(ctx) -> pd.DataFrame:
    """LSOA 2021 -> MSOA 2021 code, built here from the names: 'Hartlepool 009A' is in 'Hartlepool 009'."""
    nm = ctx.load("cni2023_lsoa21")[["lsoa21cd", "lsoa21nm"]]
    names = msoa21_names(ctx)[["msoa21cd", "msoa21nm"]]
    m = nm.assign(msoa21nm=nm["lsoa21nm"].str[:-1]).merge(names, on="msoa21nm", how="left", validate="many_to_one")
    assert m["msoa21cd"].notna().all()
    return m.rename(columns={"msoa21cd": "area_code"})[["lsoa21cd", "area_code"]]


@pytest.fixture(scope="module")
def ward_of_lsoa(ctx) -> pd.DataFrame:
    lk = ctx.load("lookup_lsoa21_wd24")
    return lk.rename(columns={"wd24cd": "area_code"})[["lsoa21cd", "area_code"]]


def _joined(lsoa: pd.DataFrame, mapping: pd.DataFrame) -> pd.DataFrame:
    return lsoa[["lsoa21_code", "population"]].merge(mapping, left_on="lsoa21_code", right_on="lsoa21cd")


def _weighted_mean(df: pd.DataFrame, col: str) -> pd.Series:
    num = (df[col] * df["population"]).groupby(df["area_code"]).sum()
    return num / df.groupby("area_code")["population"].sum()


# ------------------------------------------------------------------ shape and totals


def test_msoa_table_shape_and_totals(msoa, lsoa, msoa_of_lsoa, ctx):
    assert len(lsoa) == N_LSOA21
    assert len(msoa) == N_MSOA21
    assert msoa["area_code"].is_unique and msoa["area_code"].str.match(r"^E02\d{6}$").all()
    assert msoa["n_lsoas"].sum() == N_LSOA21
    assert msoa["population"].sum() == pytest.approx(lsoa["population"].sum(), rel=1e-12)
    j = _joined(lsoa, msoa_of_lsoa)
    m = msoa.set_index("area_code")
    pop = j.groupby("area_code")["population"].sum()
    np.testing.assert_allclose(m.loc[pop.index, "population"], pop)
    assert (m.loc[pop.index, "n_lsoas"] == j.groupby("area_code").size()).all()
    # names: the ONS name and the House of Commons Library name
    assert "area_name_hcl" in msoa.columns and msoa["area_name_hcl"].notna().all()
    names = msoa21_names(ctx).set_index("msoa21cd")
    assert (m["area_name"] == names.loc[m.index, "msoa21nm"]).all()
    assert (m["area_name_hcl"] == names.loc[m.index, "msoa21hclnm"]).all()


def test_wards_table_shape_and_totals(wards, lsoa, ward_of_lsoa, ctx):
    lk = ctx.load("lookup_lsoa21_wd24")
    assert set(wards["area_code"]) == set(lk["wd24cd"])
    assert wards["area_code"].is_unique
    assert wards["n_lsoas"].sum() == N_LSOA21
    assert wards["population"].sum() == pytest.approx(lsoa["population"].sum(), rel=1e-12)
    j = _joined(lsoa, ward_of_lsoa)
    w = wards.set_index("area_code")
    pop = j.groupby("area_code")["population"].sum()
    np.testing.assert_allclose(w.loc[pop.index, "population"], pop)
    names = lk.drop_duplicates("wd24cd").set_index("wd24cd")["wd24nm"]
    assert (w["area_name"] == names.loc[w.index]).all()
    # the unit's local authority: the ward's own (best-fit wards lie in one authority)
    lad = lk.drop_duplicates("wd24cd").set_index("wd24cd")["lad24cd"]
    assert (w["lad_code"] == lad.loc[w.index]).all()


# ------------------------------------------------------------------ the CNI rule


def _independent_cni(lsoa, mapping, ctx):
    """Per unit: the population-weighted mean of each domain's raw LSOA score (rounded to 1e-9, so
    that mathematically equal means tie), and the CNI score: each domain ranked (1 = highest need,
    ties averaged), exponentially transformed over the number of units, summed."""
    cni = ctx.load("cni2023_lsoa21")
    j = _joined(lsoa, mapping).merge(cni, on="lsoa21cd")
    means = pd.DataFrame({d: _weighted_mean(j, f"{d}_score_raw") for d in DOMAINS}).sort_index().round(9)
    k = len(means)
    c = 1 - math.exp(-100 / 23)
    score = sum(-23 * np.log(1 - (k + 1 - stats.rankdata(-means[d], method="average")) / k * c) for d in DOMAINS)
    return means, pd.Series(score, index=means.index)


def _tied(means: pd.DataFrame) -> pd.Series:
    """Units sharing a (rounded) weighted mean with another unit on some domain."""
    return pd.concat([means[d].duplicated(keep=False) for d in DOMAINS], axis=1).any(axis=1)


@pytest.mark.parametrize("unit", ["msoa21", "wards24"])
def test_cni_rebuilt_from_population_weighted_domain_scores(unit, request, lsoa, ctx):
    table = request.getfixturevalue("msoa" if unit == "msoa21" else "wards")
    mapping = request.getfixturevalue("msoa_of_lsoa" if unit == "msoa21" else "ward_of_lsoa")
    t = table.set_index("area_code").sort_index()
    means, score = _independent_cni(lsoa, mapping, ctx)
    assert list(means.index) == list(t.index)
    # a few units by hand: higher raw civic-assets need = a better (lower) rank
    sample = means["civic_assets"].sort_values().index[[10, len(means) // 2, -10]]
    by_hand = {}
    cni = ctx.load("cni2023_lsoa21").set_index("lsoa21cd")
    pop = lsoa.set_index("lsoa21_code")["population"]
    for code in sample:
        ls = mapping.loc[mapping["area_code"] == code, "lsoa21cd"]
        w = pop.loc[ls].to_numpy()
        by_hand[code] = float((cni.loc[ls, "civic_assets_score_raw"].to_numpy() * w).sum() / w.sum())
        assert by_hand[code] == pytest.approx(means.at[code, "civic_assets"])
    lo, mid, hi = sample
    assert by_hand[lo] < by_hand[mid] < by_hand[hi]
    assert t.at[lo, "civic_assets_rank"] > t.at[mid, "civic_assets_rank"] > t.at[hi, "civic_assets_rank"]
    # every unit: each domain rank is the rank of the weighted mean (1 = highest need). Units whose
    # means are equal to 1e-9 (e.g. a one-LSOA ward and a ward of equal LSOAs) may take any rank
    # of their tie block here (the test below checks they now tie exactly); the others are exact.
    for d in DOMAINS:
        key = -means[d]
        lo_r, hi_r = stats.rankdata(key, method="min"), stats.rankdata(key, method="max")
        r = t[f"{d}_rank"].to_numpy()
        assert ((lo_r <= r) & (r <= hi_r)).all(), d
        assert (r == lo_r).mean() > 0.99, d
    # the CNI score: the exponentially transformed domain ranks, summed (exact for untied units)
    tied = _tied(means)
    assert tied.mean() < 0.10
    np.testing.assert_allclose(t.loc[~tied, "cni_score"], score[~tied], rtol=1e-9)
    np.testing.assert_allclose(t["cni_score"], score, atol=0.1)
    assert t["cni_score"].between(0, 300).all()


def test_equal_weighted_means_share_their_rank(wards, lsoa, ward_of_lsoa, ctx):
    means, score = _independent_cni(lsoa, ward_of_lsoa, ctx)
    t = wards.set_index("area_code").sort_index()
    for d in DOMAINS:
        assert (t[f"{d}_rank"].to_numpy() == stats.rankdata(-means[d], method="min")).all(), d
    np.testing.assert_allclose(t["cni_score"], score, rtol=1e-9)


@pytest.mark.parametrize("name", ["msoa", "wards"])
def test_ranks_and_groups(name, request):
    t = request.getfixturevalue(name)
    n = len(t)
    for col, score in (("cni_rank", "cni_score"), ("imd_rank", "imd_score")):
        r = t[col].to_numpy()
        assert r.min() == 1 and r.max() <= n
        expect = stats.rankdata(-t[score].to_numpy(), method="min")
        assert (r == expect).all(), col
    k = math.floor(0.10 * n)
    lb = (t["cni_rank"] <= k) & (t["imd_rank"] <= k)
    assert ((t["group"] == "left_behind") == lb).all()
    assert ((t["group"] == "other_deprived") == (~lb & (t["imd_rank"] <= k))).all()
    assert set(t["group"]) <= {"left_behind", "other_deprived", "rest"}
    assert 0 < lb.sum() <= k
    assert t.attrs["cutoff"] == k


# ------------------------------------------------------------------ the IMD rule


def test_imd_summary_measures_recomputed(msoa, lsoa, msoa_of_lsoa, ctx):
    imd = ctx.load("iod2025_scores")[["lsoa21cd", "imd_score", "imd_decile"]]
    j = _joined(lsoa, msoa_of_lsoa).merge(imd, on="lsoa21cd")
    avg = _weighted_mean(j, "imd_score")
    share_d1 = (j["imd_decile"] == 1).groupby(j["area_code"]).mean()
    m = msoa.set_index("area_code")
    np.testing.assert_allclose(m.loc[avg.index, "imd_score"], avg, rtol=1e-9)
    np.testing.assert_allclose(m.loc[share_d1.index, "imd_proportion_decile_1"], share_d1, atol=1e-12)
    # a few by hand
    for code in (avg.idxmax(), avg.idxmin(), share_d1.index[share_d1.between(0.01, 0.99)][0]):
        rows = j[j["area_code"] == code]
        w = rows["population"].to_numpy()
        assert m.at[code, "imd_score"] == pytest.approx((rows["imd_score"].to_numpy() * w).sum() / w.sum())
        assert m.at[code, "imd_proportion_decile_1"] == pytest.approx((rows["imd_decile"] == 1).mean())
    assert m.loc[avg.idxmax(), "imd_rank"] == 1
    assert m["imd_extent"].between(0, 1).all()


# ------------------------------------------------------------------ IMD 2019 on LSOA 2021


def test_imd2019_on_lsoa21(ctx):
    from leftbehind.indices.values import small_area_values

    t = imd2019_lsoa21(ctx)
    assert len(t) == N_LSOA21 and t["lsoa21cd"].is_unique
    assert list(t.columns) == ["lsoa21cd", "imd_score", "imd_rank"]
    r = t["imd_rank"].to_numpy()
    assert r.min() == 1 and r.max() <= N_LSOA21
    assert (r == stats.rankdata(-t["imd_score"].to_numpy(), method="min")).all()
    v = small_area_values("imd2019", ctx=ctx).set_index("lsoa11cd")["score"]
    lk = ctx.load("lookup_lsoa11_lsoa21")
    u = lk[(lk["change_code"] == "U") & lk["lsoa21cd"].str.startswith("E")]
    assert len(u) > 30_000
    got = t.set_index("lsoa21cd").loc[u["lsoa21cd"], "imd_score"].to_numpy()
    np.testing.assert_allclose(got, v.loc[u["lsoa11cd"]].to_numpy())
    # a merged LSOA 2021 takes the mean of its parents
    merged = lk[lk["change_code"] == "M"].groupby("lsoa21cd")["lsoa11cd"].apply(list)
    code, parents = next(iter(merged.items()))
    assert t.set_index("lsoa21cd").at[code, "imd_score"] == pytest.approx(v.loc[parents].mean())
    assert len(parents) >= 2


# ------------------------------------------------------------------ the 2020 wards and errors


def test_wards_2020_in_units(ctx, msoa, lsoa):
    from leftbehind.analysis.pipeline import build_wards
    from leftbehind.options import make_run_options

    w2020, _ = build_wards(make_run_options(), edition("2020"), ctx=ctx)
    mapping = unit_mapping(edition("2025").units["msoa21"], lsoa, ctx)
    hit, pub = wards_2020_in_units(msoa, mapping, w2020, ctx)
    published = set(w2020.loc[w2020["left_behind_published_2020"].astype(bool), "ward_code"])
    assert pub == len(published) > 0
    assert 0 < hit <= pub
    # independently: LSOA 2011 -> ward 2017 and LSOA 2011 -> LSOA 2021 -> MSOA 2021
    l11w = ctx.load("lookup_lsoa11_wd17")[["lsoa11cd", "wd17cd"]]
    l11l21 = ctx.load("lookup_lsoa11_lsoa21")[["lsoa11cd", "lsoa21cd"]]
    chain = l11w.merge(l11l21, on="lsoa11cd").merge(mapping[["lsoa21cd", "area_code"]], on="lsoa21cd")
    lb = set(msoa.loc[msoa["group"] == "left_behind", "area_code"])
    assert hit == chain.loc[chain["area_code"].isin(lb) & chain["wd17cd"].isin(published), "wd17cd"].nunique()


def test_unknown_unit_rule_is_a_data_error(ctx, lsoa):
    entry = edition("2025").units["msoa21"].model_copy(update={"rule": "nope"})
    with pytest.raises(DataError) as e:
        unit_mapping(entry, lsoa, ctx)
    assert "nope" in e.value.message


def test_mapping_covers_every_lsoa(ctx, lsoa, msoa_of_lsoa):
    m = unit_mapping(edition("2025").units["msoa21"], lsoa, ctx)
    assert len(m) == N_LSOA21 and m["lsoa21cd"].is_unique
    mine = msoa_of_lsoa.set_index("lsoa21cd")["area_code"]
    assert (m.set_index("lsoa21cd")["area_code"] == mine.loc[m["lsoa21cd"]].to_numpy()).all()
    # a mapping that leaves LSOAs out is an error naming them
    short = lsoa.assign(lsoa21_code=lsoa["lsoa21_code"].where(lsoa.index > 0, "E01999999"))
    with pytest.raises(DataError) as e:
        unit_mapping(edition("2025").units["wards24"], short, ctx)
    assert "E01999999" in e.value.message
