"""Functions of the current-edition steps: CNI 2023 × IMD 2025 at LSOA 2021, and change since 2020.

The steps themselves are declared in :mod:`leftbehind.analysis.pipeline`; the edition (datasets,
unit, population base, outcome source) is data: ``editions/current2025.yaml``.

* **Groups** of the 33,755 LSOA 2021s with the same rule as the 2020 list: left behind = CNI 2023
  rank and IMD 2025 rank both ≤ floor(0.10 × 33,755) = 3,375; other deprived = IMD only.
* **Population**: Census 2021 usual residents (TS038 total), the only LSOA 2021 base available
  here (IoD2025's own denominators were not collected).
* **Change since 2020** uses the *published* 2020 list (the one everyone quotes). Each LSOA 2021
  is traced to its LSOA 2011 parent(s) with the ONS best-fit lookup (change codes U unchanged,
  S split, M merged, X irregular) and each parent to its December 2017 ward (ONS best fit). A
  current left-behind LSOA is **persistent** if any parent lay in a 2020 left-behind ward, else
  **new**; a split 2011 LSOA passes its ward to every 2021 piece; a merged 2021 LSOA inherits
  every parent's ward. A 2020 ward is **still** left behind if any current left-behind LSOA traces
  to it, else **no longer**.
* **Outcomes** from IoD2025 File 8: income and employment deprivation pooled (numerator ÷ Census
  2021 residents; the denominators differ in date by about a year, so read them as approximate
  rates), and every other indicator as a population-weighted mean, each with a bootstrap over
  local authorities (clusters of LSOAs: one authority's LSOAs are not independent draws).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leftbehind.analysis.leftbehind import classify
from leftbehind.analysis.stats import bootstrap_ratios, percentile_interval

if TYPE_CHECKING:
    from leftbehind.context import RunContext
    from leftbehind.editions import Edition

N_LSOA21 = 33_755
LSOA21_COLUMNS = [
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
POOLED_2025 = [
    (
        "income_deprived",
        "People income-deprived (IoD2025 numerator / Census 2021 residents)",
        "income_domain_numerator",
    ),
    (
        "employment_deprived",
        "Employment-deprived people (IoD2025 numerator / Census 2021 residents)",
        "employment_domain_numerator",
    ),
]
SCALE = "IoD2025 indicator scale as published (higher = more deprived)"
MEANS_2025 = [
    (
        "adult_skills_and_english_language_proficiency_indicator",
        "Adults with low skills or English proficiency",
        "proportion of working-age adults",
    ),
    ("entry_to_higher_education_indicator", "Entry to higher education", SCALE),
    ("years_of_potential_life_lost_indicator", "Years of potential life lost", SCALE),
    ("comparative_illness_and_disability_ratio_indicator", "Comparative illness and disability ratio", SCALE),
    ("acute_morbidity_indicator", "Acute morbidity", SCALE),
    ("mental_health_indicator", "Mental health", SCALE),
    ("violence_with_injury_rate_per_1_000_at_risk_population", "Violence with injury", "per 1,000 at-risk population"),
    ("burglary_rate_per_1_000_at_risk_properties", "Burglary", "per 1,000 at-risk properties"),
    (
        "anti_social_behaviour_rate_per_1_000_at_risk_population",
        "Anti-social behaviour",
        "per 1,000 at-risk population",
    ),
    ("connectivity_score", "Connectivity (access to services)", SCALE),
    ("housing_affordability_indicator", "Housing affordability", SCALE),
    ("digital_connectivity_broadband_download_and_upload_speeds", "Digital connectivity", SCALE),
    ("core_homelessness_rate_percent_of_households", "Core homelessness", "% of households"),
    ("patient_to_gp_ratio", "Patients per GP", "patients per GP"),
    ("household_overcrowding_indicator_rooms", "Household overcrowding (rooms)", "proportion of households"),
]


def area_table(
    ed: Edition, threshold: float = 0.10, *, ctx: RunContext, imd_frame: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per area of the edition's base unit (``LSOA21_COLUMNS`` then ``population``,
    ``region_code``, ``cni_top``, ``imd_top``), classified with the 2020 rule at ``threshold``.
    ``imd_frame``: another IMD on LSOA 2021 (e.g. :func:`leftbehind.analysis.units.imd2019_lsoa21`)."""
    from leftbehind.geography.lookups import lad_to_region, lsoa21_to_area
    from leftbehind.geography.population import lsoa_population

    cni_ref, imd_ref = ed.cni, ed.imd
    imd = (ctx.load(imd_ref.dataset) if imd_frame is None else imd_frame)[
        ["lsoa21cd", imd_ref.score_column, imd_ref.rank_column]
    ]
    imd = imd.set_axis(["lsoa21cd", "imd_score", "imd_rank"], axis=1)
    cni = ctx.load(cni_ref.dataset)[["lsoa21cd", cni_ref.score_column, cni_ref.rank_column]]
    cni = cni.set_axis(["lsoa21cd", "cni_score", "cni_rank"], axis=1)
    lad = lsoa21_to_area("lad24", ctx=ctx)
    reg = lad_to_region(ctx).set_index("lad24cd")
    pop = lsoa_population(ed.population.base, ctx=ctx)
    try:
        t = imd.merge(cni, on="lsoa21cd", how="outer", validate="one_to_one")
    except pd.errors.MergeError:
        from leftbehind.errors import DataError

        raise DataError(
            f"{imd_ref.dataset} or {cni_ref.dataset} lists an LSOA 2021 code twice",
            hint="restore the original files (`leftbehind data verify`)",
        ) from None
    names = ctx.load("lookup_lsoa11_lsoa21")[["lsoa21cd", "lsoa21nm"]].drop_duplicates("lsoa21cd")
    t = t.merge(lad, on="lsoa21cd", how="left").merge(pop, on="lsoa21cd", how="left")
    t = t.merge(names, on="lsoa21cd", how="left")
    if (
        t[["cni_rank", "imd_rank", "area_code", "pop_total", "lsoa21nm"]].isna().any().any()
        or len(t) != ed.unit.n_areas
    ):
        from leftbehind.errors import DataError

        raise DataError(
            f"{cni_ref.edition} ({cni_ref.dataset}), {imd_ref.edition} ({imd_ref.dataset}), the LSOA 2021 lookup "
            f"and the {ed.population.label} do not cover the same {ed.unit.n_areas:,} areas ({len(t):,} found)",
            hint="check the four files are the England LSOA 2021 editions",
        )
    out = pd.DataFrame(
        {
            "lsoa21_code": t["lsoa21cd"].to_numpy(),
            "lsoa21_name": t["lsoa21nm"].to_numpy(),
            "lad_code": t["area_code"].to_numpy(),
            "lad_name": t["area_name"].to_numpy(),
            "region_name": reg.loc[t["area_code"], "rgn_nm"].to_numpy(),
            "cni_score": t["cni_score"].to_numpy(),
            "cni_rank": t["cni_rank"].to_numpy(),
            "imd_score": t["imd_score"].to_numpy(),
            "imd_rank": t["imd_rank"].to_numpy(),
            "population": t["pop_total"].to_numpy(dtype="float64"),
            "region_code": reg.loc[t["area_code"], "rgn_cd"].to_numpy(),
        }
    )
    c = classify(out, threshold, n=len(out))
    cols = [*LSOA21_COLUMNS, "population", "region_code", "cni_top", "imd_top"]
    res = c[cols].sort_values("lsoa21_code").reset_index(drop=True)
    res.attrs.update(c.attrs)
    return res


def transitions(current: pd.DataFrame, wards: pd.DataFrame, *, ctx: RunContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(LSOA 2021 table with ``status_since_2020`` and ``wards_2020``, ward table with ``status_2025``).

    ``wards``: the CNI ward table with ``ward_code, ward_name, lad_name, region_name`` and the
    published flag ``left_behind_published_2020``.
    """
    from leftbehind.geography.lookups import lsoa11_to_lsoa21, lsoa11_to_ward

    lk = lsoa11_to_lsoa21(ctx)[["lsoa11cd", "lsoa21cd", "change_code"]]
    w11 = lsoa11_to_ward("wd17", ctx=ctx)[["lsoa11cd", "wd17cd"]]
    chain = lk.merge(w11, on="lsoa11cd", how="left")
    pub = set(wards.loc[wards["left_behind_published_2020"].astype(bool), "ward_code"])
    chain["lb2020"] = chain["wd17cd"].isin(pub)
    # one row per LSOA 2021: any parent in a 2020 left-behind ward; change code(s); the 2020 ward(s)
    codes = chain[["lsoa21cd", "change_code"]].drop_duplicates().sort_values(["lsoa21cd", "change_code"])
    wards21 = chain[["lsoa21cd", "wd17cd"]].dropna().drop_duplicates().sort_values(["lsoa21cd", "wd17cd"])
    per21 = pd.DataFrame(
        {
            "in_lb_ward_2020": chain.groupby("lsoa21cd")["lb2020"].any(),
            "change_code": codes.groupby("lsoa21cd")["change_code"].agg("".join),
            "wards_2020": wards21.groupby("lsoa21cd")["wd17cd"].agg(";".join),
        }
    )
    cur = current.merge(per21, left_on="lsoa21_code", right_index=True, how="left")
    cur["in_lb_ward_2020"] = cur["in_lb_ward_2020"].astype("boolean").fillna(False).astype(bool)  # untraced: not
    lb = cur["group"] == "left_behind"
    cur["status_since_2020"] = np.select(
        [lb & cur["in_lb_ward_2020"], lb & ~cur["in_lb_ward_2020"], ~lb & cur["in_lb_ward_2020"]],
        ["persistent", "new", "no_longer"],
        default="",
    )
    now_lb = set(cur.loc[lb, "lsoa21_code"])
    reached = chain[chain["lsoa21cd"].isin(now_lb)]
    still = reached.groupby("wd17cd")["lsoa21cd"].nunique()
    w = wards[wards["left_behind_published_2020"].astype(bool)][
        ["ward_code", "ward_name", "lad_code", "lad_name", "region_name"]
    ].copy()
    w["current_lb_lsoas"] = still.reindex(w["ward_code"]).fillna(0).astype("int64").to_numpy()
    w["status_2025"] = np.where(w["current_lb_lsoas"] > 0, "still", "no_longer")
    return cur, w.sort_values("ward_code").reset_index(drop=True)


def transition_counts(cur: pd.DataFrame, w2020: pd.DataFrame, by: str) -> pd.DataFrame:
    """Persistent / new current left-behind LSOAs and still / no-longer 2020 wards by ``by``
    (``region_name`` or ``lad_name``)."""
    a = cur[cur["group"] == "left_behind"].pivot_table(
        index=by, columns="status_since_2020", values="lsoa21_code", aggfunc="count", fill_value=0
    )
    a = a.reindex(columns=["persistent", "new"], fill_value=0).add_prefix("lsoas_")
    b = w2020.pivot_table(index=by, columns="status_2025", values="ward_code", aggfunc="count", fill_value=0)
    b = b.reindex(columns=["still", "no_longer"], fill_value=0).add_prefix("wards_2020_")
    out = a.join(b, how="outer").fillna(0).astype("int64").reset_index().rename(columns={by: "area_name"})
    out["lsoas_left_behind_2025"] = out["lsoas_persistent"] + out["lsoas_new"]
    out["wards_left_behind_2020"] = out["wards_2020_still"] + out["wards_2020_no_longer"]
    return out.sort_values("area_name").reset_index(drop=True)


def outcomes_2025(
    current: pd.DataFrame, ed: Edition, *, ctx: RunContext, replicates: int = 1000, seed: int = 20251030
) -> pd.DataFrame:
    """The edition's outcome indicators by group: pooled rates and population-weighted means, each
    with a bootstrap over local authorities (clusters of LSOAs)."""
    f8 = ctx.load(ed.outcomes.dataset)
    source, edition_label = ed.outcomes.source, ed.outcomes.edition
    t = current[["lsoa21_code", "group", "population"]].merge(f8, left_on="lsoa21_code", right_on="lsoa21cd")
    groups = ("left_behind", "other_deprived", "rest", "england")
    members = {g: (t["group"] == g).to_numpy() for g in groups[:3]}
    members["england"] = np.ones(len(t), dtype=bool)
    pop = t["population"].to_numpy(dtype="float64")
    rows = []
    lad = pd.factorize(current.set_index("lsoa21_code").loc[t["lsoa21_code"], "lad_code"])[0]

    def by_lad(m: np.ndarray, values: np.ndarray) -> np.ndarray:
        # clusters = local authorities: LSOAs of one authority are not independent draws
        cl = pd.factorize(lad[m])[0]
        k = int(cl.max()) + 1 if len(cl) else 0
        return np.stack([np.bincount(cl, weights=values[m][:, j], minlength=k) for j in range(values.shape[1])], axis=1)

    pk = np.column_stack([t[num].fillna(0.0).to_numpy(dtype="float64") for _, _, num in POOLED_2025])
    pn = np.repeat(pop[:, None], len(POOLED_2025), axis=1)
    for i, g in enumerate(groups):
        m = members[g]
        est, reps = bootstrap_ratios(by_lad(m, pk), by_lad(m, pn), replicates, seed + 100 + i)
        lo, hi = percentile_interval(reps)
        for j, (key, label, _num) in enumerate(POOLED_2025):
            rows.append(
                {
                    "indicator": key,
                    "label": label,
                    "unit": "% of residents",
                    "group": g,
                    "estimate": 100 * float(est[j]),
                    "ci_low": 100 * float(lo[j]),
                    "ci_high": 100 * float(hi[j]),
                    "lsoas": int(m.sum()),
                    "method": f"pooled rate; bootstrap over local authorities, 95% CI ({replicates:,})",
                    "source": source,
                    "edition": edition_label,
                }
            )
    cols = [c for c, *_ in MEANS_2025 if c in t.columns]
    x = t[cols].to_numpy(dtype="float64")
    ok = ~np.isnan(x)
    num = np.where(ok, x, 0.0) * pop[:, None]
    den = ok * pop[:, None]
    for i, g in enumerate(groups):
        m = members[g]
        est, reps = bootstrap_ratios(by_lad(m, num), by_lad(m, den), replicates, seed + i)
        lo, hi = percentile_interval(reps)
        for j, (c, label, unit) in enumerate([s for s in MEANS_2025 if s[0] in cols]):
            rows.append(
                {
                    "indicator": c,
                    "label": label,
                    "unit": unit,
                    "group": g,
                    "estimate": float(est[j]),
                    "ci_low": float(lo[j]),
                    "ci_high": float(hi[j]),
                    "lsoas": int(m.sum()),
                    "method": f"population-weighted mean; bootstrap over local authorities, 95% CI ({replicates:,})",
                    "source": source,
                    "edition": edition_label,
                }
            )
    return pd.DataFrame(rows)


def ward_layer(cur_t: pd.DataFrame, w2020: pd.DataFrame, wards: pd.DataFrame) -> pd.DataFrame:
    """The 2025 map layer over the 2020 wards: ``ward_code, ward_name, layer_2025`` (lb2020_still,
    lb2020_no_longer, new_lb_area: holds a new left-behind LSOA, other)."""
    lb = cur_t[cur_t["group"] == "left_behind"]
    new_wards = set(lb.loc[lb["status_since_2020"] == "new", "wards_2020"].str.split(";").explode().dropna())
    layer = pd.DataFrame({"ward_code": wards["ward_code"].to_numpy(), "ward_name": wards["ward_name"].to_numpy()})
    status = layer["ward_code"].map(w2020.set_index("ward_code")["status_2025"])
    layer["layer_2025"] = np.select(
        [status.eq("still"), status.eq("no_longer"), layer["ward_code"].isin(new_wards)],
        ["lb2020_still", "lb2020_no_longer", "new_lb_area"],
        default="other",
    )
    return layer
