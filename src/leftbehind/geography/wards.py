"""Ward-level IMD for the Community Needs Index wards (December 2017 wards, WD17).

No publisher states how the ward IMD behind the 'left behind' list was built, so the route
from small areas to wards is a choice (see docs/ward-imd.md for the search):

``route="oa"`` (default)
    every 2011 Output Area takes its LSOA's IMD score and rank and is weighted by its own
    population; OAs go to wards by the derived OA→WD17 lookup (centroid in polygon). With the
    ``census2011`` base the weight is the OA's Census 2011 residents; with another base the
    LSOA's population is shared among its OAs in proportion to their 2011 residents.
``route="best_fit"``
    every LSOA goes whole to its ONS best-fit WD17 ward.

``measure`` picks the ward value that is ranked: ``pop_mean`` (population-weighted mean
score), ``mean`` (unweighted mean over the small areas), ``avg_rank``, ``extent``,
``local_concentration`` or ``proportion`` (the IoD summary measures). Every CNI ward gets a
row; wards that the route gives no small area keep a row with no value and a ``note``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leftbehind.errors import UsageError
from leftbehind.geography.aggregate import MEASURES, aggregate
from leftbehind.geography.population import check_base, lsoa_population
from leftbehind.indices.transforms import deciles, rank_areas
from leftbehind.indices.values import index_info, small_area_values

if TYPE_CHECKING:
    from leftbehind.context import RunContext

ROUTES = ("oa", "best_fit")
WARD_MEASURES = {
    "pop_mean": "average_score",
    "mean": "average_score",
    "avg_rank": "average_rank",
    "extent": "extent",
    "local_concentration": "local_concentration",
    "proportion": "proportion",
}
NOTES = {
    "best_fit": "no LSOA 2011 is best-fitted to this ward in the ONS LSOA11->WD17 lookup, so it has no IMD",
    "oa": "no 2011 Output Area is assigned to this ward by the derived OA11->WD17 lookup, so it has no IMD",
}
NO_LSOA_NOTE = NOTES["best_fit"]


def check_options(route: str, measure: str) -> None:
    if route not in ROUTES:
        raise UsageError(f"unknown ward lookup route {route!r}", hint="use oa or best_fit")
    if measure not in WARD_MEASURES:
        raise UsageError(f"unknown ward IMD measure {measure!r}", hint="use one of: " + ", ".join(WARD_MEASURES))


def lsoa_ward_shares(route: str = "oa", *, ctx: RunContext) -> pd.DataFrame:
    """``lsoa11cd, wd17cd, share``: the share of each LSOA's people in each ward (Census 2011 OA
    residents for the OA route; 1 for the best-fit route). Shares of an LSOA add up to 1. The OA
    route's are memoised in the run context and cached on disk across runs."""

    if route == "best_fit":
        lk = ctx.load("lookup_lsoa11_wd17")
        lk = lk[lk["lsoa11cd"].str.startswith("E")]
        return pd.DataFrame({"lsoa11cd": lk["lsoa11cd"].to_numpy(), "wd17cd": lk["wd17cd"].to_numpy(), "share": 1.0})
    from leftbehind.data.sources import memo

    return memo(ctx, ("lsoa_ward_shares", route), lambda: _oa_shares(ctx)).copy()


def _oa_shares(ctx: RunContext) -> pd.DataFrame:
    from leftbehind.data.sources import cached_frame

    def make():
        oa = _oa_table(ctx)
        g = oa.groupby(["lsoa11cd", "wd17cd"], sort=True)["residents"].sum().reset_index()
        g["share"] = g["residents"] / g.groupby("lsoa11cd")["residents"].transform("sum")
        return g[["lsoa11cd", "wd17cd", "share"]]

    return cached_frame(ctx, "lsoa_ward_shares", "oa", make, datasets=OA_DATASETS)


#: the datasets behind the Output Area route (the derived OA -> WD17 lookup and the OAs' residents)
OA_DATASETS = ("lookup_oa11_wd17_derived", "census2011_oa11_residents")


def _oa_table(ctx: RunContext) -> pd.DataFrame:
    """``oa11cd, lsoa11cd, wd17cd, residents`` for every English OA (memoised: callers get a copy)."""
    from leftbehind.data.sources import memo

    return memo(ctx, "oa_table", lambda: _make_oa_table(ctx)).copy()


def _make_oa_table(ctx: RunContext) -> pd.DataFrame:
    oa = ctx.load("lookup_oa11_wd17_derived")[["oa11cd", "lsoa11cd", "wd17cd"]]
    res = ctx.load("census2011_oa11_residents")
    oa = oa.merge(res, on="oa11cd", how="left", validate="one_to_one")
    if oa["usual_residents_2011"].isna().any():  # pragma: no cover - the mirror is complete
        raise UsageError("some English OAs have no Census 2011 population")
    return oa.rename(columns={"usual_residents_2011": "residents"})


def small_areas_for_wards(
    index: str, route: str, population: str, *, ctx: RunContext
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(values, mapping, code column) for :func:`aggregate` on the chosen route."""
    info = index_info(index)
    if info.geography != "lsoa11":
        raise UsageError(
            f"ward IMD needs an LSOA 2011 index (CNI wards are WD17); {index} is at LSOA 2021",
            hint="use imd2019 or imd2015",
        )
    check_base(population, "lsoa11")
    vals = small_area_values(index, ctx=ctx)
    if route == "best_fit":
        pop = lsoa_population(population, ctx=ctx)[["lsoa11cd", "pop_total"]]
        v = vals.merge(pop, on="lsoa11cd", how="left").rename(columns={"pop_total": "population"})
        m = lsoa_ward_shares("best_fit", ctx=ctx).rename(columns={"wd17cd": "area_code", "share": "weight"})
        return v, m, "lsoa11cd"
    oa = _oa_table(ctx).merge(vals, on="lsoa11cd", how="left")
    if population == "census2011":
        oa["population"] = oa["residents"].astype("float64")
    else:
        pop = lsoa_population(population, ctx=ctx).set_index("lsoa11cd")["pop_total"]
        share = oa["residents"] / oa.groupby("lsoa11cd")["residents"].transform("sum")
        oa["population"] = share * oa["lsoa11cd"].map(pop)
    v = oa[["oa11cd", "score", "rank", "population"]]
    m = oa[["oa11cd", "wd17cd"]].rename(columns={"wd17cd": "area_code"})
    return v, m, "oa11cd"


def ward_imd(
    index: str = "imd2019",
    population: str = "census2011",
    *,
    ctx: RunContext,
    route: str = "oa",
    measure: str = "pop_mean",
) -> pd.DataFrame:
    """One row per CNI ward: ``ward_code, ward_name, imd_score, imd_rank, population`` then every
    summary measure with its rank, ``n_small_areas`` and ``note``.

    ``imd_score`` is the chosen measure's value and ``imd_rank`` its rank among the CNI wards
    that have one (1 = most deprived, equal values share the lower rank). The table is cached on
    disk across runs (:func:`leftbehind.data.sources.cached_frame`), keyed by the options and the
    sha256 of the CNI, IMD, lookup and population files it is built from.
    """

    check_options(route, measure)
    from leftbehind.data.sources import cached_frame
    from leftbehind.geography.population import BASES

    datasets = ("cni2019_wards", "imd2019_file2", "imd2015_scores", "lookup_lsoa11_wd17", *OA_DATASETS)
    if population in BASES:
        datasets += (BASES[population][1],)
    params = (index, population, route, measure)
    return cached_frame(
        ctx, "ward_imd", params, lambda: _ward_imd(index, population, ctx, route, measure), datasets=datasets
    )


def _ward_imd(index: str, population: str, ctx: RunContext, route: str, measure: str) -> pd.DataFrame:
    info = index_info(index)
    cni = ctx.load("cni2019_wards")[["wd17cd", "wd17nm"]]
    vals, mapping, code = small_areas_for_wards(index, route, population, ctx=ctx)
    n = len(small_area_values(index, ctx=ctx))
    if measure == "mean":
        vals = vals.assign(population=1.0)
    agg = aggregate(vals, mapping, code=code, n=n, areas=cni["wd17cd"])
    out = cni.rename(columns={"wd17cd": "ward_code", "wd17nm": "ward_name"}).merge(
        agg.drop(columns=["area_name"]).rename(columns={"area_code": "ward_code"}), on="ward_code", how="left"
    )
    out["n_small_areas"] = out["n_small_areas"].fillna(0).astype("int64")
    out["note"] = np.where(out["n_small_areas"] == 0, NOTES[route], "")
    n_wards = int(out["average_score"].notna().sum())
    for mname in MEASURES:  # ranks among the CNI wards with a value
        r = rank_areas(out[mname].to_numpy(), out["ward_code"].to_numpy(), ties="min")
        out[f"rank_{mname}"] = pd.array(r, dtype="Int64")
        out[f"decile_{mname}"] = pd.array(deciles(r, n_wards), dtype="Int64")
    col = WARD_MEASURES[measure]
    out.insert(2, "imd_score", out[col])
    out.insert(3, "imd_rank", out[f"rank_{col}"])
    if measure == "mean":
        out = out.drop(columns=["population"])
    out.attrs.update(index=index, population=population, route=route, measure=measure, edition=info.edition)
    return out
