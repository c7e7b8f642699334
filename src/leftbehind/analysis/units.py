"""The current edition at the units funders use: wards 2024 and MSOAs 2021, built from LSOAs 2021.

A unit is an entry of the edition (``units:`` in ``editions/current2025.yaml``) with a rule that
maps each LSOA 2021 to it:

* ``lookup`` — a best-fit lookup dataset (ONS LSOA 2021 -> ward 2024);
* ``lsoa_name_prefix`` — an LSOA 2021's MSOA 2021 is the MSOA whose name is the LSOA's name less
  its final letter (``Hartlepool 009A`` -> ``Hartlepool 009``); the names dataset gives the codes
  and the House of Commons Library names.

Each unit is then rebuilt the way the indices themselves are built:

* **CNI 2023** — each domain's LSOA scores (the published, pre-transformation domain scores;
  higher = more need) averaged with Census 2021 population weights, the units ranked on each
  domain (1 = highest need), each rank exponentially transformed over the number of units, and
  the three summed: the unit's CNI score, ranked. Averaging the overall LSOA score instead would
  mix transformed scores whose scale depends on the number of LSOAs.
* **IMD 2025** — the IoD summary measures of the LSOAs' IMD scores (:func:`aggregate`): the
  population-weighted average score (the unit's ``imd_score``, ranked), extent, and the share of
  LSOAs in the national most deprived decile.
* **Groups** — the 2020 rule on the units: top ``threshold`` of units on both ranks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leftbehind.analysis.leftbehind import classify
from leftbehind.errors import DataError
from leftbehind.indices.transforms import exponential_transform, rank_areas

if TYPE_CHECKING:
    from leftbehind.context import RunContext
    from leftbehind.editions import Edition, UnitEntry

CNI_DOMAINS = ("civic_assets", "connectedness", "engaged_community")
UNIT_COLUMNS = [
    "area_code",
    "area_name",
    "lad_code",
    "lad_name",
    "region_name",
    "population",
    "cni_score",
    "cni_rank",
    "imd_score",
    "imd_rank",
    "group",
]


def unit_mapping(entry: UnitEntry, lsoa: pd.DataFrame, ctx: RunContext) -> pd.DataFrame:
    """``lsoa21cd, area_code, area_name`` (+ ``area_name_2``): each LSOA 2021's unit."""
    if entry.rule == "lookup":
        lk = ctx.load(entry.lookup)[["lsoa21cd", entry.code, entry.name]]
        m = lk.set_axis(["lsoa21cd", "area_code", "area_name"], axis=1)
    elif entry.rule == "areas":  # a user's own areas: a GeoJSON of polygons or a CSV of area_id, lsoa21_code
        from leftbehind.analysis.profile import read_areas

        a = read_areas(entry.names, ctx)
        m = a.assign(area_code=a["area_id"], area_name=a["area_id"])[["lsoa21cd", "area_code", "area_name"]]
        m = m.drop_duplicates("lsoa21cd")  # an LSOA in two areas counts for the first (by name)
        return m.reset_index(drop=True)
    elif entry.rule == "lsoa_name_prefix":
        names = ctx.load(entry.names)
        if "msoa21cd_col" in names.columns:  # the UK file mixes vintages: keep England's MSOA 2021 rows
            same = (names[entry.code] == names["msoa21cd_col"]).fillna(False).astype(bool)
            names = names[same & names[entry.code].str.startswith("E02").astype(bool)]
        cols = [entry.code, entry.name] + ([entry.extra_name] if entry.extra_name else [])
        by_name = names[cols].set_axis(
            ["area_code", "area_name", *(["area_name_2"] if entry.extra_name else [])], axis=1
        )
        nm = ctx.load("cni2023_lsoa21")[["lsoa21cd", "lsoa21nm"]]
        nm = nm.assign(msoa_name=nm["lsoa21nm"].str.slice(0, -1))
        m = nm.merge(by_name, left_on="msoa_name", right_on="area_name", how="left")
        m = m[["lsoa21cd", "area_code", "area_name", *(["area_name_2"] if entry.extra_name else [])]]
    else:
        raise DataError(f"unit {entry.table}: unknown rule {entry.rule!r}", hint="use lookup or lsoa_name_prefix")
    m = m[m["lsoa21cd"].isin(lsoa["lsoa21_code"])]
    missing = sorted(set(lsoa["lsoa21_code"]) - set(m.dropna(subset=["area_code"])["lsoa21cd"]))
    if missing:
        raise DataError(
            f"unit {entry.table}: {len(missing):,} LSOAs 2021 have no {entry.table} (first {missing[0]})",
            hint=f"check the {entry.lookup or entry.names} file is the England 2021 edition",
        )
    return m.reset_index(drop=True)


def imd2019_lsoa21(ctx: RunContext) -> pd.DataFrame:
    """IMD 2019 moved to LSOA 2021: ``lsoa21cd, imd_score, imd_rank``. Each LSOA 2021 takes the mean
    score of its LSOA 2011 parents in the ONS best-fit lookup (U and S copy the parent, M and X
    average them), and the LSOAs 2021 are ranked on it (1 = most deprived)."""
    from leftbehind.indices.values import small_area_values

    def make():
        v = small_area_values("imd2019", ctx=ctx)[["lsoa11cd", "score"]]
        lk = ctx.load("lookup_lsoa11_lsoa21")[["lsoa11cd", "lsoa21cd"]].drop_duplicates()
        t = lk.merge(v, on="lsoa11cd").groupby("lsoa21cd", as_index=False)["score"].mean()
        t = t[t["lsoa21cd"].str.startswith("E")].sort_values("lsoa21cd").reset_index(drop=True)
        r = rank_areas(t["score"].to_numpy(), t["lsoa21cd"].to_numpy(), ties="min").astype("int64")
        return pd.DataFrame({"lsoa21cd": t["lsoa21cd"], "imd_score": t["score"], "imd_rank": r})

    return ctx.memo("imd2019_lsoa21", make).copy()


def unit_table(
    ed: Edition,
    unit: str,
    lsoa: pd.DataFrame,
    threshold: float,
    *,
    ctx: RunContext,
    imd_frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per unit: ``UNIT_COLUMNS``, the CNI domain ranks, the IMD summary measures, n_lsoas.

    ``lsoa``: the run's LSOA 2021 table (``lsoa21_code``, ``lad_code``, ``lad_name``,
    ``region_name``, ``population``)."""
    from leftbehind.geography.aggregate import aggregate

    entry = ed.units[unit]
    m = unit_mapping(entry, lsoa, ctx)
    t = lsoa[["lsoa21_code", "lad_code", "lad_name", "region_name", "population"]].merge(
        m, left_on="lsoa21_code", right_on="lsoa21cd"
    )
    cni = ctx.load(ed.cni.dataset).set_index("lsoa21cd")
    pop = t["population"].to_numpy(dtype="float64")
    idx, codes = pd.factorize(t["area_code"], sort=True)
    k = len(codes)
    wsum = np.bincount(idx, weights=pop, minlength=k)
    out = pd.DataFrame({"area_code": np.asarray(codes)})
    first = t.groupby("area_code", sort=True)
    out["area_name"] = first["area_name"].first().to_numpy()
    if "area_name_2" in t.columns:
        out["area_name_hcl"] = first["area_name_2"].first().to_numpy()
    # a unit's local authority: the one holding most of its residents (best-fit units lie in one)
    lad = t.groupby(["area_code", "lad_code", "lad_name", "region_name"], sort=True)["population"].sum().reset_index()
    lad = lad.sort_values(["area_code", "population"], ascending=[True, False]).drop_duplicates("area_code")
    lad = lad.set_index("area_code").loc[out["area_code"]]
    out["lad_code"] = lad["lad_code"].to_numpy()
    out["lad_name"] = lad["lad_name"].to_numpy()
    out["region_name"] = lad["region_name"].to_numpy()
    out["population"] = wsum
    total = np.zeros(k)
    for d in CNI_DOMAINS:
        raw = cni.loc[t["lsoa21_code"], f"{d}_score_raw"].to_numpy(dtype="float64")
        # rounded so that equal means (e.g. units of one LSOA each with equal scores) tie exactly
        mean = np.round(np.bincount(idx, weights=raw * pop, minlength=k) / wsum, 9)
        r = rank_areas(mean, out["area_code"].to_numpy(), ties="min")
        out[f"{d}_score"] = mean
        out[f"{d}_rank"] = r.astype("int64")
        total += exponential_transform(stats_average_ranks(mean), k)
    out["cni_score"] = total
    out["cni_rank"] = rank_areas(total, out["area_code"].to_numpy(), ties="min").astype("int64")
    imd = (ctx.load(ed.imd.dataset) if imd_frame is None else imd_frame)[
        ["lsoa21cd", ed.imd.score_column, ed.imd.rank_column]
    ]
    vals = imd.set_axis(["lsoa21cd", "score", "rank"], axis=1).merge(
        lsoa[["lsoa21_code", "population"]].rename(columns={"lsoa21_code": "lsoa21cd"}), on="lsoa21cd"
    )
    agg = aggregate(vals, m[["lsoa21cd", "area_code"]], code="lsoa21cd", n=len(vals)).set_index("area_code")
    agg = agg.loc[out["area_code"]]
    out["imd_score"] = agg["average_score"].to_numpy()
    out["imd_rank"] = agg["rank_average_score"].to_numpy(dtype="int64")
    out["imd_extent"] = agg["extent"].to_numpy()
    out["imd_proportion_decile_1"] = agg["proportion"].to_numpy()
    out["n_lsoas"] = np.bincount(idx, minlength=k)
    c = classify(out, threshold, n=k)
    out["group"] = c["group"].to_numpy()
    order = [*UNIT_COLUMNS, *(f"{d}_rank" for d in CNI_DOMAINS), "imd_extent", "imd_proportion_decile_1", "n_lsoas"]
    if "area_name_hcl" in out.columns:
        order.insert(2, "area_name_hcl")
    res = out[order].reset_index(drop=True)
    res.attrs.update(c.attrs)
    return res


def stats_average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1 = highest value, tied values sharing their average rank (as the CNI's scores do)."""
    from scipy import stats

    return stats.rankdata(-np.asarray(values, dtype="float64"), method="average")


def wards_2020_in_units(unit: pd.DataFrame, mapping_lsoa21: pd.DataFrame, wards: pd.DataFrame, ctx: RunContext):
    """How many of the published 2020 left-behind wards lie (by any of their LSOAs, traced LSOA 2011 ->
    LSOA 2021) in a unit that is left behind today: (count, published list size)."""
    from leftbehind.geography.lookups import lsoa11_to_lsoa21, lsoa11_to_ward

    chain = lsoa11_to_lsoa21(ctx)[["lsoa11cd", "lsoa21cd"]].merge(
        lsoa11_to_ward("wd17", ctx=ctx)[["lsoa11cd", "wd17cd"]], on="lsoa11cd"
    )
    chain = chain.merge(mapping_lsoa21[["lsoa21cd", "area_code"]], on="lsoa21cd")
    lb_units = set(unit.loc[unit["group"] == "left_behind", "area_code"])
    pub = set(wards.loc[wards["left_behind_published_2020"].astype(bool), "ward_code"])
    hit = set(chain.loc[chain["area_code"].isin(lb_units) & chain["wd17cd"].isin(pub), "wd17cd"])
    return len(hit), len(pub)
