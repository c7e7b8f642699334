"""Outcomes by group: left-behind vs other deprived vs rest vs England.

Small-area data are LSOA-level; each LSOA's people are shared among wards by the ward route's
shares (:func:`leftbehind.geography.wards.lsoa_ward_shares`), and wards carry their group.

* **Pooled rates** (numerator and denominator exist: the IoD2019 income, employment, IDACI and
  IDAOPI numerators of File 8 over the File 6 mid-2015 denominators; people in rural LSOAs):
  Σ numerator / Σ denominator, with a 95% percentile interval from a bootstrap over wards (the
  unit of classification: residents of one ward are not independent draws, so a Wilson interval
  on pooled resident counts would be far too narrow); the left-behind minus other-deprived
  difference from the replicate-wise difference.
* **Means** (every other File 8 indicator; jobs in at-risk sectors): population-weighted mean
  (File 6 total population) with a 95% percentile bootstrap interval over wards (1,000
  resamples, fixed seed); the difference from the replicate-wise difference of the two groups.

One row per indicator × group (``left_behind``, ``other_deprived``, ``rest``, ``england``) and a
``left_behind_minus_other_deprived`` row; every row states its unit, method, source and edition,
and where the 2020 research published a figure, the published value and our difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leftbehind.analysis.stats import bootstrap_ratios, percentile_interval

if TYPE_CHECKING:
    from leftbehind.context import RunContext

SRC8 = "IoD2019 File 8 (MHCLG), File 6 mid-2015 population"
POOLED = [
    # key, label, numerator column, denominator column, unit, source
    (
        "income_deprived",
        "People income-deprived (Income Domain)",
        "income_domain_numerator",
        "pop_total",
        "% of all people",
        SRC8,
    ),
    (
        "employment_deprived",
        "Working-age people employment-deprived (Employment Domain)",
        "employment_domain_numerator",
        "pop_working_age",
        "% of working-age people (18-59/64)",
        SRC8,
    ),
    (
        "children_income_deprived",
        "Children in income-deprived families (IDACI)",
        "income_deprivation_affecting_children_index_idaci_numerator",
        "pop_0_15",
        "% of children aged 0-15",
        SRC8,
    ),
    (
        "older_income_deprived",
        "Older people income-deprived (IDAOPI)",
        "income_deprivation_affecting_older_people_index_idaopi_numerator",
        "pop_60_plus",
        "% of people aged 60+",
        SRC8,
    ),
    (
        "rural_population",
        "People living in rural LSOAs",
        "rural_people",
        "pop_total",
        "% of all people",
        "ONS/Defra Rural-Urban Classification 2011; File 6 population",
    ),
]
SCALE = "IoD2019 indicator scale as published (higher = more deprived)"
MEANS = [
    (
        "staying_on_in_education_post_16_indicator",
        "Not staying on in education after 16",
        "proportion of 16-21s (IoD2019 indicator)",
    ),
    ("entry_to_higher_education_indicator", "Entry to higher education (IoD2019 indicator)", SCALE),
    (
        "adult_skills_and_english_language_proficiency_indicator",
        "Adults with no or low qualifications or English proficiency",
        "proportion of working-age adults (IoD2019 indicator)",
    ),
    ("years_of_potential_life_lost_indicator", "Years of potential life lost", SCALE),
    ("comparative_illness_and_disability_ratio_indicator", "Comparative illness and disability ratio", SCALE),
    ("acute_morbidity_indicator", "Acute morbidity", SCALE),
    ("mood_and_anxiety_disorders_indicator", "Mood and anxiety disorders", SCALE),
    ("road_distance_to_a_post_office_indicator_km", "Road distance to a post office", "km"),
    ("road_distance_to_a_primary_school_indicator_km", "Road distance to a primary school", "km"),
    (
        "road_distance_to_general_store_or_supermarket_indicator_km",
        "Road distance to a general store or supermarket",
        "km",
    ),
    ("road_distance_to_a_gp_surgery_indicator_km", "Road distance to a GP surgery", "km"),
    ("household_overcrowding_indicator", "Household overcrowding", "proportion of households (IoD2019 indicator)"),
    ("homelessness_indicator_rate_per_1000_households", "Homelessness", "per 1,000 households"),
    ("housing_affordability_indicator", "Housing affordability", SCALE),
    ("housing_in_poor_condition_indicator", "Housing in poor condition", "proportion of dwellings (modelled)"),
    ("houses_without_central_heating_indicator", "Houses without central heating", "proportion of houses"),
    ("road_traffic_accidents_indicator", "Road traffic accidents involving injury", SCALE),
    ("air_quality_indicator", "Air quality (emissions of four pollutants)", SCALE),
]
JOBS = [
    ("jobs_at_risk_total", "Jobs in at-risk sectors (arts & recreation, hospitality, retail)"),
    ("jobs_arts_recreation_rate", "Jobs in arts, entertainment, recreation and other services"),
    ("jobs_hospitality_rate", "Jobs in accommodation and food services (hospitality)"),
    ("jobs_retail_rate", "Jobs in retail"),
]
JOBS_SOURCE = "OCSI jobs in at-risk sectors by MSOA (BRES 2018), licence unclear; File 6 population weights"

GROUPS_OUT = ("left_behind", "other_deprived", "rest", "england")


#: the datasets behind :func:`lsoa_indicators`
INDICATOR_DATASETS = ("imd2019_file6", "imd2019_file8", "lookup_oa11_lsoa11", "jobs_at_risk_msoa11", "ruc11_lsoa11")


def lsoa_indicators(ctx: RunContext) -> pd.DataFrame:
    """One row per English LSOA 2011: File 6 denominators, File 8 indicators, jobs at risk
    (the LSOA's MSOA rate) and ``rural_people`` (the population if the LSOA is rural, else 0).
    Cached on disk across runs by the sha256 of its five datasets."""
    from leftbehind.data.sources import cached_frame

    return cached_frame(ctx, "lsoa_indicators", 1, lambda: _lsoa_indicators(ctx), datasets=INDICATOR_DATASETS)


def _lsoa_indicators(ctx: RunContext) -> pd.DataFrame:
    f6 = ctx.load("imd2019_file6")[["lsoa11cd", "pop_total", "pop_working_age", "pop_0_15", "pop_60_plus"]]
    f8 = ctx.load("imd2019_file8")
    t = f6.merge(f8, on="lsoa11cd", how="left", validate="one_to_one")
    msoa = ctx.load("lookup_oa11_lsoa11")[["lsoa11cd", "msoa11cd"]].drop_duplicates("lsoa11cd")
    jobs = ctx.load("jobs_at_risk_msoa11")
    jobs = jobs.assign(
        jobs_at_risk_total=jobs[["jobs_arts_recreation_rate", "jobs_hospitality_rate", "jobs_retail_rate"]].sum(axis=1)
    )
    t = t.merge(msoa, on="lsoa11cd", how="left").merge(
        jobs[["msoa11cd", *(k for k, _ in JOBS)]], on="msoa11cd", how="left"
    )
    ruc = ctx.load("ruc11_lsoa11")[["lsoa11cd", "urban_rural"]]
    t = t.merge(ruc, on="lsoa11cd", how="left")
    t["rural_people"] = np.where(t["urban_rural"].eq("Rural"), t["pop_total"], 0.0)
    for num, _den in ((p[2], p[3]) for p in POOLED):
        t[num] = t[num].fillna(0.0)  # suppressed File 8 numerators are small counts
    return t


@dataclass
class WardSums:
    """Per-ward numerators and denominators of every indicator (rows: ``wards``)."""

    wards: np.ndarray
    population: np.ndarray
    pooled_num: np.ndarray  # wards x len(POOLED)
    pooled_den: np.ndarray
    mean_num: np.ndarray  # wards x len(mean_specs())
    mean_den: np.ndarray


def mean_specs() -> list[tuple[str, str, str, str]]:
    return [(c, lab, unit, SRC8.split(",")[0]) for c, lab, unit in MEANS] + [
        (c, lab, "% of jobs (OCSI rate)", JOBS_SOURCE) for c, lab in JOBS
    ]


def ward_sums(shares: pd.DataFrame, lsoa: pd.DataFrame) -> WardSums:
    """Share every LSOA's numerators, denominators and population-weighted values among wards."""
    s = shares.merge(lsoa, on="lsoa11cd", how="inner")
    ward_idx, wards = pd.factorize(s["wd17cd"], sort=True)
    k = len(wards)
    share = s["share"].to_numpy()
    pop = s["pop_total"].to_numpy(dtype="float64") * share

    def by_ward(values: np.ndarray) -> np.ndarray:
        return np.bincount(ward_idx, weights=values, minlength=k)

    pn = np.column_stack([by_ward(s[num].to_numpy(dtype="float64") * share) for _, _, num, _, _, _ in POOLED])
    pd_ = np.column_stack([by_ward(s[den].to_numpy(dtype="float64") * share) for _, _, _, den, _, _ in POOLED])
    x = s[[c for c, *_ in mean_specs()]].to_numpy(dtype="float64")
    ok = ~np.isnan(x)
    mn = np.column_stack([by_ward(np.where(ok[:, j], x[:, j], 0.0) * pop) for j in range(x.shape[1])])
    md = np.column_stack([by_ward(ok[:, j] * pop) for j in range(x.shape[1])])
    return WardSums(np.asarray(wards), by_ward(pop), pn, pd_, mn, md)


def ward_values(sums: WardSums) -> pd.DataFrame:
    """One row per ward: every indicator's value for the ward (rates in %, means in their unit)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = 100 * sums.pooled_num / sums.pooled_den
        means = sums.mean_num / sums.mean_den
    out = pd.DataFrame(rates, columns=[p[0] for p in POOLED])
    out[[c for c, *_ in mean_specs()]] = means
    out.insert(0, "ward_code", sums.wards)
    return out


def outcomes(
    shares: pd.DataFrame,
    ward_groups: pd.Series,
    lsoa: pd.DataFrame,
    *,
    replicates: int = 1000,
    seed: int = 20200901,
    sums: WardSums | None = None,
    published: dict[tuple[str, str], tuple[float, str, str]] | None = None,
) -> pd.DataFrame:
    """Outcome table (long): see the module docstring.

    ``shares``: ``lsoa11cd, wd17cd, share``; ``ward_groups``: group by ward code (wards not in
    it count for England only); ``lsoa``: :func:`lsoa_indicators`; ``published``: (indicator,
    group) -> (published value, source, note) from the edition (``editions/research2020.yaml``).
    The table is cached on disk across runs, keyed by a digest of the ward sums, the groups, the
    number of resamples, the seed and the published values (the bootstrap is most of its cost).
    """
    from leftbehind.data.sources import cached_frame, digest_of

    sums = ward_sums(shares, lsoa) if sums is None else sums
    grp = pd.Series(ward_groups).reindex(sums.wards).to_numpy()
    params = digest_of(sums, grp, replicates, seed, published)
    return cached_frame(None, "outcomes", params, lambda: _outcomes(sums, grp, replicates, seed, published))


def _outcomes(sums: WardSums, grp: np.ndarray, replicates: int, seed: int, published) -> pd.DataFrame:
    members = {g: grp == g for g in GROUPS_OUT if g != "england"}
    members["england"] = np.ones(len(sums.wards), dtype=bool)
    ward_pop = sums.population
    rows = []

    # pooled rates: Σ numerator / Σ denominator, with a ward-cluster bootstrap. The unit of the
    # classification is the ward, so wards (not residents) are the independent draws: a Wilson
    # interval on pooled resident counts treats each resident as independent and is far too narrow.
    pboot = {}
    for i, g in enumerate(GROUPS_OUT):
        m = members[g]
        pboot[g] = bootstrap_ratios(sums.pooled_num[m], sums.pooled_den[m], replicates, seed + 100 + i)
    for j, (key, label, _num, _den, unit, source) in enumerate(POOLED):
        for g in GROUPS_OUT:
            est, reps = pboot[g]
            lo, hi = percentile_interval(reps[:, j])
            rows.append(
                _row(
                    key,
                    label,
                    unit,
                    f"pooled rate; ward-cluster bootstrap 95% CI ({replicates:,})",
                    g,
                    100 * est[j],
                    100 * lo,
                    100 * hi,
                    members[g],
                    ward_pop,
                    source,
                )
            )
        diff = pboot["left_behind"][1][:, j] - pboot["other_deprived"][1][:, j]
        lo, hi = percentile_interval(diff)
        rows.append(
            _row(
                key,
                label,
                "percentage points",
                "difference of pooled rates; ward-cluster bootstrap 95% CI",
                "left_behind_minus_other_deprived",
                100 * (pboot["left_behind"][0][j] - pboot["other_deprived"][0][j]),
                100 * lo,
                100 * hi,
                None,
                ward_pop,
                source,
            )
        )

    # population-weighted means, bootstrap over wards
    specs = mean_specs()
    boot = {}
    for i, g in enumerate(GROUPS_OUT):
        m = members[g]
        boot[g] = bootstrap_ratios(sums.mean_num[m], sums.mean_den[m], replicates, seed + i)
    for j, (col, label, unit, source) in enumerate(specs):
        for g in GROUPS_OUT:
            est, reps = boot[g]
            lo, hi = percentile_interval(reps[:, j])
            rows.append(
                _row(
                    col,
                    label,
                    unit,
                    f"population-weighted mean; ward bootstrap 95% CI ({replicates:,})",
                    g,
                    est[j],
                    lo,
                    hi,
                    members[g],
                    ward_pop,
                    source,
                )
            )
        diff = boot["left_behind"][1][:, j] - boot["other_deprived"][1][:, j]
        lo, hi = percentile_interval(diff)
        rows.append(
            _row(
                col,
                label,
                unit,
                "difference of means; ward bootstrap 95% CI",
                "left_behind_minus_other_deprived",
                boot["left_behind"][0][j] - boot["other_deprived"][0][j],
                lo,
                hi,
                None,
                ward_pop,
                source,
            )
        )
    out = pd.DataFrame(rows)
    pub = [(published or {}).get(k, (np.nan, "", "")) for k in zip(out["indicator"], out["group"], strict=True)]
    out["published"] = [p[0] for p in pub]
    out["published_source"] = [p[1] for p in pub]
    out["difference_from_published"] = out["estimate"] - out["published"]
    out["note"] = [p[2] for p in pub]
    return out


def _row(key, label, unit, method, group, est, lo, hi, member, ward_pop, source) -> dict:
    return {
        "indicator": key,
        "label": label,
        "unit": unit,
        "group": group,
        "estimate": float(est),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "wards": int(member.sum()) if member is not None else None,
        "population": float(ward_pop[member].sum()) if member is not None else None,
        "method": method,
        "source": source,
        "edition": "IoD2019" if "IoD2019" in source else "",
    }
