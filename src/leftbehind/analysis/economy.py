"""Economy and COVID-19: claimant-count unemployment, furlough take-up and at-risk jobs by group.

* :func:`claimant_rates` — claimants as a share of residents aged 16-64 for a month, pooled by
  group (95% intervals from a bootstrap over wards), from the Nomis claimant count (NM_162_1) by LSOA. Offline runs
  use the local cache; when the month is not cached the table is empty and ``status`` says how
  to fetch it. The published May/June 2020 rates come from the edition (``editions/``).
* :func:`claimant_london` — the same from the mirror's London-only LSOA file (Oct 2019, Oct 2020).
* :func:`furlough_by_share` — HMRC CJRS take-up for constituencies and local authorities grouped
  by the share of their residents living in left-behind wards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leftbehind.analysis.stats import bootstrap_ratios, percentile_interval

if TYPE_CHECKING:
    from leftbehind.context import RunContext

BANDS = [
    (-np.inf, 0.0, "no left-behind residents"),
    (0.0, 0.10, "under 10% in left-behind wards"),
    (0.10, 0.25, "10% to 25%"),
    (0.25, np.inf, "25% or more"),
]
GROUPS = ("left_behind", "other_deprived", "rest", "england")
REPLICATES = 1000  # bootstrap resamples of wards (claimant rates) or areas (furlough take-up)
SEED = 20200601


def _pooled(
    k_by_ward: pd.Series,
    n_by_ward: pd.Series,
    groups: pd.Series,
    label: str,
    unit: str,
    source: str,
    published: dict | None = None,
) -> pd.DataFrame:
    grp = groups.reindex(k_by_ward.index)
    k_all, n_all = k_by_ward.to_numpy(dtype="float64"), n_by_ward.to_numpy(dtype="float64")
    rows, boot = [], {}
    for i, g in enumerate(GROUPS):
        m = np.ones(len(grp), bool) if g == "england" else (grp == g).to_numpy()
        # wards are the unit of classification: resample wards, not residents
        boot[g] = bootstrap_ratios(k_all[m, None], n_all[m, None], REPLICATES, SEED + i)
        est, reps = boot[g]
        lo, hi = percentile_interval(reps[:, 0])
        rows.append(
            {
                "measure": label,
                "group": g,
                "estimate": 100 * float(est[0]),
                "ci_low": 100 * float(lo),
                "ci_high": 100 * float(hi),
                "numerator": float(k_all[m].sum()),
                "denominator": float(n_all[m].sum()),
                "unit": unit,
                "source": source,
            }
        )
    lo, hi = percentile_interval(boot["left_behind"][1][:, 0] - boot["other_deprived"][1][:, 0])
    rows.append(
        {
            "measure": label,
            "group": "left_behind_minus_other_deprived",
            "estimate": 100 * float(boot["left_behind"][0][0] - boot["other_deprived"][0][0]),
            "ci_low": 100 * float(lo),
            "ci_high": 100 * float(hi),
            "numerator": np.nan,
            "denominator": np.nan,
            "unit": "percentage points",
            "source": source,
        }
    )
    out = pd.DataFrame(rows)
    pub = published or {}
    out["published"] = [pub.get(g, np.nan) for g in out["group"]]
    out["difference_from_published"] = out["estimate"] - out["published"]
    return out


def _by_ward(lsoa_values: pd.DataFrame, shares: pd.DataFrame, col: str) -> pd.Series:
    m = shares.merge(lsoa_values[["lsoa11cd", col]], on="lsoa11cd", how="inner")
    return (m[col] * m["share"]).groupby(m["wd17cd"]).sum()


def claimant_rates(
    month: str,
    wards: pd.DataFrame,
    shares: pd.DataFrame,
    *,
    ctx: RunContext,
    client=None,
    population: str = "mid2019",
    published: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Claimant rate by group for ``month``; (table, status). ``published``: group -> the published
    rate for that month (from the edition), shown beside ours."""
    from leftbehind.data.nomis import NomisClient, NomisError
    from leftbehind.geography.population import lsoa_population

    client = client or NomisClient(offline=True)
    try:
        cc = client.claimant_count(month, "lsoa11")
    except NomisError as exc:
        return pd.DataFrame(), {
            "available": False,
            "month": month,
            "message": exc.message,
            "how_to_fetch": f"leftbehind claimants fetch --month {month}",
        }
    pop = lsoa_population(population, ctx=ctx)[["lsoa11cd", "pop_working_age"]]
    lv = pop.merge(
        cc.rename(columns={"geography_code": "lsoa11cd"})[["lsoa11cd", "claimants"]], on="lsoa11cd", how="left"
    )
    missing = int(lv["claimants"].isna().sum())
    lv["claimants"] = lv["claimants"].fillna(0)
    groups = wards.set_index("ward_code")["group"]
    k = _by_ward(lv, shares, "claimants")
    n = _by_ward(lv, shares, "pop_working_age")
    table = _pooled(
        k,
        n,
        groups,
        f"Claimant count, {month}",
        "% of residents aged 16-64",
        f"ONS Nomis NM_162_1 claimant count {month}; ONS {population} population 16-64",
        published,
    )
    return table, {"available": True, "month": month, "lsoas_without_count": missing, "source": cc.attrs["source"]}


def claimant_london(wards: pd.DataFrame, shares: pd.DataFrame, *, ctx: RunContext) -> pd.DataFrame:
    """Claimant rates in London by group, October 2019 and October 2020 (mirror file, London only)."""

    cc = ctx.load("claimant_count_london_lsoa11")
    groups = wards.set_index("ward_code")["group"]
    sh = shares[shares["lsoa11cd"].isin(set(cc["lsoa11cd"]))]
    n = _by_ward(cc, sh, "pop_16_64")
    tables = []
    for month, col in (("2019-10", "claimants_2019_10"), ("2020-10", "claimants_2020_10")):
        t = _pooled(
            _by_ward(cc, sh, col),
            n,
            groups,
            f"Claimant count, {month}, London only",
            "% of residents aged 16-64",
            "ONS Nomis NM_162_1 via WPI Economics (London LSOAs); ONS mid-2019 population 16-64",
        )
        t.loc[t["group"] == "england", "group"] = "all_london"
        tables.append(t)
    return pd.concat(tables, ignore_index=True)


def _band(share: pd.Series) -> pd.Series:
    out = pd.Series("", index=share.index, dtype=object)
    for lo, hi, label in BANDS:
        out[(share > lo) & (share <= hi) if np.isfinite(lo) else share <= hi] = label
    return out


def furlough_by_share(constituencies: pd.DataFrame, lad_breakdown: pd.DataFrame, *, ctx: RunContext) -> pd.DataFrame:
    """Pooled furlough take-up (furloughed / eligible employments) by left-behind-share band, for
    constituencies (HMRC 2021 release) and local authorities (HMRC August 2020 release, to 30 June 2020)."""
    from leftbehind.geography.lookups import current_lad

    rows = []
    pc = ctx.load("cjrs_pcon_2021").merge(constituencies[["pcon_code", "lbn_share"]], on="pcon_code")
    la = ctx.load("cjrs_la_august2020")
    la = la[la["area_code"].str.match(r"^E0[6-9]\d{6}$")]
    # Westminster and City of London, Cornwall and Isles of Scilly carry the same combined figures
    la = la.assign(area_code=la["area_code"].replace({"E09000001": "E09000033", "E06000053": "E06000052"}))
    la = la.drop_duplicates("area_code")
    la = la.assign(lad24cd=current_lad(la["area_code"], ctx=ctx)["lad24cd"].to_numpy())
    la = la.groupby("lad24cd", as_index=False)[["furloughed", "eligible"]].sum()
    b = lad_breakdown.rename(columns={"area_code": "lad24cd"})
    la = la.merge(b[["lad24cd", "population_left_behind", "population_total"]], on="lad24cd", how="inner")
    la["lbn_share"] = la["population_left_behind"] / la["population_total"]
    for level, t, source in (
        ("constituency", pc, "HMRC CJRS statistics by constituency, 2021 release (point-in-time)"),
        ("local authority", la, "HMRC CJRS statistics, August 2020 release (claims to 30 June 2020)"),
    ):
        t = t.assign(band=_band(t["lbn_share"]))
        for label in [b_[2] for b_ in BANDS] + ["all"]:
            s = t if label == "all" else t[t["band"] == label]
            k, n = float(s["furloughed"].sum()), float(s["eligible"].sum())
            # areas (constituencies, authorities) are the units: resample them, not employments
            est, reps = bootstrap_ratios(
                s[["furloughed"]].to_numpy(dtype="float64"),
                s[["eligible"]].to_numpy(dtype="float64"),
                REPLICATES,
                SEED,
            )
            p = float(est[0])
            lo, hi = (float(v) for v in percentile_interval(reps[:, 0]))
            rows.append(
                {
                    "level": level,
                    "band": label,
                    "areas": len(s),
                    "furloughed": k,
                    "eligible": n,
                    "take_up_pct": 100 * p,
                    "ci_low": 100 * lo,
                    "ci_high": 100 * hi,
                    "source": source,
                }
            )
    return pd.DataFrame(rows)
