"""A worked example: a CNI-style index from open indicators, compared with the published CNI.

The Community Needs Index's own indicators (asset counts from OS AddressBase, grant funding,
turnout...) are not open, so this builds a *CNI-style* index from what the mirror holds, with
the CNI's structure: three domains, each the exponential transformation of the rank of a
normal-score composite (factor-analysis weights), summed with equal weights. Ward values are
population-weighted means of LSOA (or MSOA/LAD) values through the OA route's LSOA→ward shares.

The comparison with the published CNI domain ranks is an honest figure, not a target: the
proxies are weak for Civic Assets and for Active and Engaged Community.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leftbehind.indices.spec import IndexSpec

if TYPE_CHECKING:
    from leftbehind.context import RunContext

DOMAINS = {
    "civic_assets": (
        "Civic Assets (proxy: jobs in leisure, hospitality and retail nearby)",
        [
            ("arts_jobs", "jobs_arts_recreation_rate", "lower_is_worse"),
            ("hospitality_jobs", "jobs_hospitality_rate", "lower_is_worse"),
            ("retail_jobs", "jobs_retail_rate", "lower_is_worse"),
        ],
    ),
    "connectedness": (
        "Connectedness (road distances to services, broadband, health access, rurality)",
        [
            ("dist_gp", "road_distance_to_a_gp_surgery_indicator_km", "higher_is_worse"),
            ("dist_post_office", "road_distance_to_a_post_office_indicator_km", "higher_is_worse"),
            ("dist_school", "road_distance_to_a_primary_school_indicator_km", "higher_is_worse"),
            ("dist_store", "road_distance_to_general_store_or_supermarket_indicator_km", "higher_is_worse"),
            ("broadband", "broadband_comp_national", "higher_is_worse"),
            ("health_access", "health_access_comp_national", "higher_is_worse"),
            ("rural", "rural_share", "higher_is_worse"),
        ],
    ),
    "engaged_community": (
        "Active and Engaged Community (proxy: charities per 1,000 people, LAD)",
        [
            ("charity_density", "charity_density", "lower_is_worse"),
        ],
    ),
}


def ward_indicator_table(ctx: RunContext) -> pd.DataFrame:
    """One row per December 2017 ward (``wd17cd``) with the open indicators used here."""
    from leftbehind.geography.population import lsoa_population
    from leftbehind.geography.wards import lsoa_ward_shares

    f8 = ctx.load("imd2019_file8")
    deri = ctx.load("deri_components_lsoa11")
    msoa = ctx.load("lookup_oa11_lsoa11")[["lsoa11cd", "msoa11cd"]].drop_duplicates("lsoa11cd")
    jobs = ctx.load("jobs_at_risk_msoa11")
    ruc = ctx.load("ruc11_lsoa11")[["lsoa11cd", "urban_rural"]]
    lad = ctx.load("imd2019_file1")[["lsoa11cd", "lad19cd"]]
    charity = ctx.load("charity_density_lad19")[["lad19cd", "charity_density"]]
    pop = lsoa_population("mid2019", ctx=ctx)[["lsoa11cd", "pop_total"]]
    cols = [c for _, comps in DOMAINS.values() for _, c, _ in comps]
    t = (
        pop.merge(f8, on="lsoa11cd", how="left")
        .merge(deri, on="lsoa11cd", how="left")
        .merge(msoa, on="lsoa11cd", how="left")
        .merge(jobs, on="msoa11cd", how="left")
        .merge(ruc, on="lsoa11cd", how="left")
        .merge(lad, on="lsoa11cd", how="left")
        .merge(charity, on="lad19cd", how="left")
    )
    t["rural_share"] = t["urban_rural"].eq("Rural").astype("float64")
    s = lsoa_ward_shares("oa", ctx=ctx).merge(t[["lsoa11cd", "pop_total", *cols]], on="lsoa11cd", how="inner")
    w = s["share"] * s["pop_total"]
    out = pd.DataFrame(index=pd.Index(sorted(s["wd17cd"].unique()), name="wd17cd"))
    for c in cols:
        ok = s[c].notna()
        out[c] = (s[c].where(ok, 0) * w).groupby(s["wd17cd"]).sum() / (w * ok).groupby(s["wd17cd"]).sum()
    return out.reset_index()


def domain_spec(key: str) -> IndexSpec:
    title, comps = DOMAINS[key]
    return IndexSpec(
        name=f"cni_style_{key}",
        title=title,
        edition="example",
        geography="wd17",
        source="cni2019_wards",
        area="wd17cd",
        weighting="factor" if len(comps) > 1 else "equal",
        components=[{"name": n, "column": c, "transform": "normal_score", "direction": d} for n, c, d in comps],
    )


def build_cni_style(ctx: RunContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ward table with each domain's score and rank and the CNI-style score and rank, comparison table)."""
    from scipy import stats

    from leftbehind.indices.build import build_index
    from leftbehind.indices.transforms import exponential_transform, rank_areas

    cni = ctx.load("cni2019_wards")
    table = cni[["wd17cd"]].merge(ward_indicator_table(ctx), on="wd17cd", how="inner")
    table = table.dropna().reset_index(drop=True)
    n = len(table)
    out = pd.DataFrame({"ward_code": table["wd17cd"]})
    total = np.zeros(n)
    weights = {}
    for key in DOMAINS:
        b = build_index(domain_spec(key), table)
        out[f"{key}_rank"] = b["rank"].to_numpy()
        x = exponential_transform(b["rank"].to_numpy(), n)
        out[f"{key}_score"] = x
        total += x
        weights[key] = b.attrs["weights"]
    out["score"] = total
    out["rank"] = rank_areas(total, out["ward_code"].to_numpy()).astype("int64")
    pub = cni.set_index("wd17cd").loc[out["ward_code"]]
    rows = []
    for key, pub_col in (
        ("civic_assets", "civic_assets_rank"),
        ("connectedness", "connectedness_rank"),
        ("engaged_community", "engaged_community_rank"),
        ("cni", "cni_rank"),
    ):
        ours = out["rank"] if key == "cni" else out[f"{key}_rank"]
        rho = float(stats.spearmanr(ours, pub[pub_col]).statistic)
        top = set(out.loc[ours <= n // 10, "ward_code"]) & set(pub.index[pub[pub_col].to_numpy() <= 743])
        rows.append(
            {
                "domain": key,
                "spearman_with_published_rank": rho,
                "wards": n,
                "top10pct_overlap": len(top) / (n // 10),
                "weights": "; ".join(f"{k} {v:.3f}" for k, v in weights.get(key, {}).items()),
            }
        )
    return out, pd.DataFrame(rows)
