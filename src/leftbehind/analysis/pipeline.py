"""The main job: from the data mirror to every table of ``leftbehind run``.

:func:`run_pipeline` returns a :class:`Results` (tables and a summary); writing them is
:mod:`leftbehind.report.tables`' job. Steps: rebuild and check the shipped indices; ward IMD
for the CNI wards (route, population base, measure); classify; diagnostics against the
published list; outcomes by group; breakdowns by region, local authority and constituency;
published figures beside ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from leftbehind import __version__
from leftbehind.analysis.breakdowns import breakdown, constituency_breakdown
from leftbehind.analysis.leftbehind import GROUPS, classify, diagnostics
from leftbehind.analysis.outcomes import lsoa_indicators, outcomes, ward_sums, ward_values
from leftbehind.analysis.regions import NORTH_MIDLANDS_WALES

WARD_COLUMNS = [
    "ward_code",
    "ward_name",
    "lad_code",
    "lad_name",
    "region_name",
    "population",
    "cni_score",
    "cni_rank",
    "civic_assets_rank",
    "connectedness_rank",
    "engaged_community_rank",
    "imd_score",
    "imd_rank",
    "group",
]
#: published checks (Local Trust / OCSI 2020; METHOD.md §5): what, value, unit
PUBLISHED_2020 = {
    "left-behind wards": (225, "wards"),
    "left-behind wards, North East": (56, "wards"),
    "left-behind wards, North West": (54, "wards"),
    "left-behind wards, Yorkshire and The Humber": (28, "wards"),
    "left-behind wards, North (NE + NW + Y&H)": (138, "wards"),
    "residents of left-behind wards": (2_400_000, "people (about)"),
    "local authorities with a left-behind ward": (82, "local authorities"),
    "left-behind wards, County Durham": (16, "wards"),
    "left-behind wards, Birmingham": (9, "wards"),
}
PUBLISHED_2019 = {"left-behind wards": (206, "wards")}


class Options(BaseModel):
    """Options of a run (all recorded in summary.json)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    imd: Literal["2019", "2015"] = "2019"
    population: Literal["mid2015", "mid2019", "mid2020", "census2011"] = "census2011"
    ward_imd: Literal["pop_mean", "mean", "avg_rank", "proportion", "extent", "local_concentration"] = "pop_mean"
    threshold: float = Field(0.10, gt=0, lt=1)
    lookup: Literal["oa", "best_fit"] = "oa"
    residents: Literal["mid2019", "mid2020", "mid2015", "census2011"] = "mid2019"
    replicates: int = Field(1000, ge=100, le=100_000)
    indices: bool = True
    claimant_month: str = Field("2020-05", pattern=r"^(19|20)\d\d-(0[1-9]|1[0-2])$")
    edition: Literal["2020", "2025"] = "2020"
    red_wall_2017: str = "Lab"
    red_wall_2019: str = "Con"
    red_wall_regions: tuple[str, ...] = NORTH_MIDLANDS_WALES


@dataclass
class Results:
    options: Options
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    fits: list = field(default_factory=list)  # (spec, built, fit, resolved) of the rebuilt indices


def _step(progress: Callable[[str], None] | None, what: str) -> None:
    if progress is not None:
        progress(what)


def build_wards(opts: Options, data=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The classified ward table (``WARD_COLUMNS`` then extras) and the LSOA→ward shares."""
    from leftbehind.data import load
    from leftbehind.geography.lookups import current_lad, lad_to_region
    from leftbehind.geography.population import lsoa_population
    from leftbehind.geography.wards import lsoa_ward_shares, ward_imd

    index = f"imd{opts.imd}"
    cni = load("cni2019_wards", data)
    w = ward_imd(index, opts.population, data, route=opts.lookup, measure=opts.ward_imd)
    shares = lsoa_ward_shares(opts.lookup, data)
    res = lsoa_population(opts.residents, data)[["lsoa11cd", "pop_total"]]
    sp = shares.merge(res, on="lsoa11cd", how="left")
    ward_pop = (sp["share"] * sp["pop_total"]).groupby(sp["wd17cd"]).sum()
    cur = current_lad(cni["lad19cd"], data)
    reg = lad_to_region(data).set_index("lad24cd")
    t = pd.DataFrame(
        {
            "ward_code": cni["wd17cd"].to_numpy(),
            "ward_name": cni["wd17nm"].to_numpy(),
            "lad_code": cur["lad24cd"].to_numpy(),
            "lad_name": cur["lad24nm"].to_numpy(),
            "region_name": reg.loc[cur["lad24cd"], "rgn_nm"].to_numpy(),
            "population": ward_pop.reindex(cni["wd17cd"]).fillna(0.0).round(6).to_numpy(),
            "cni_score": cni["cni_score"].to_numpy(),
            "cni_rank": cni["cni_rank"].to_numpy(),
            "civic_assets_rank": cni["civic_assets_rank"].to_numpy(),
            "connectedness_rank": cni["connectedness_rank"].to_numpy(),
            "engaged_community_rank": cni["engaged_community_rank"].to_numpy(),
        }
    )
    wi = w.set_index("ward_code")
    t["imd_score"] = wi.loc[t["ward_code"], "imd_score"].to_numpy()
    t["imd_rank"] = pd.array(wi.loc[t["ward_code"], "imd_rank"].to_numpy(), dtype="Int64")
    t = classify(t, opts.threshold, n=len(cni))
    k = t.attrs["cutoff"]
    extra = pd.DataFrame(
        {
            "lad_code_published": cni["lad19cd"].to_numpy(),
            "region_code": reg.loc[cur["lad24cd"], "rgn_cd"].to_numpy(),
            "civic_assets_score": cni["civic_assets_score"].to_numpy(),
            "connectedness_score": cni["connectedness_score"].to_numpy(),
            "engaged_community_score": cni["engaged_community_score"].to_numpy(),
            "imd_decile": pd.array(
                wi.loc[t["ward_code"], f"decile_{_measure_col(opts.ward_imd)}"].to_numpy(), dtype="Int64"
            ),
            "cni_top": t["cni_top"].to_numpy(),
            "imd_top": t["imd_top"].to_numpy(),
            "cutoff": k,
            "left_behind_published_2020": cni["left_behind_2020"].to_numpy(),
            "n_small_areas": wi.loc[t["ward_code"], "n_small_areas"].to_numpy(),
            "note": wi.loc[t["ward_code"], "note"].to_numpy(),
        }
    )
    out = pd.concat([t[WARD_COLUMNS].reset_index(drop=True), extra], axis=1)
    out = out.sort_values("ward_code", kind="stable").reset_index(drop=True)
    out.attrs.update(t.attrs)
    return out, shares


def _measure_col(measure: str) -> str:
    from leftbehind.geography.wards import WARD_MEASURES

    return WARD_MEASURES[measure]


def group_summary(wards: pd.DataFrame) -> dict:
    g = wards.groupby("group")
    counts = g.size().reindex(list(GROUPS), fill_value=0)
    pops = g["population"].sum().reindex(list(GROUPS), fill_value=0.0)
    return {grp: {"wards": int(counts[grp]), "population": round(float(pops[grp]))} for grp in GROUPS}


def published_checks(opts: Options, wards: pd.DataFrame, outcome: pd.DataFrame) -> pd.DataFrame:
    lb = wards[wards["group"] == "left_behind"]
    by_region = lb["region_name"].value_counts()
    by_lad = lb["lad_name"].value_counts()
    ours = {
        "left-behind wards": len(lb),
        "left-behind wards, North East": int(by_region.get("North East", 0)),
        "left-behind wards, North West": int(by_region.get("North West", 0)),
        "left-behind wards, Yorkshire and The Humber": int(by_region.get("Yorkshire and The Humber", 0)),
        "left-behind wards, North (NE + NW + Y&H)": int(
            by_region.reindex(["North East", "North West", "Yorkshire and The Humber"]).fillna(0).sum()
        ),
        "residents of left-behind wards": round(float(lb["population"].sum())),
        "local authorities with a left-behind ward": int(lb["lad_code"].nunique()),
        "left-behind wards, County Durham": int(by_lad.get("County Durham", 0)),
        "left-behind wards, Birmingham": int(by_lad.get("Birmingham", 0)),
    }
    published = PUBLISHED_2020 if opts.imd == "2019" else PUBLISHED_2019
    rows = []
    source = (
        "Local Trust / OCSI (2020 update, IMD 2019)" if opts.imd == "2019" else "Local Trust / OCSI (2019, IMD 2015)"
    )
    for what, (value, unit) in published.items():
        rows.append(
            {
                "check": what,
                "ours": float(ours[what]),
                "published": float(value),
                "difference": float(ours[what]) - value,
                "unit": unit,
                "source": source,
            }
        )
    if opts.imd == "2019":
        sel = outcome[outcome["published"].notna()]
        for r in sel.itertuples():
            rows.append(
                {
                    "check": f"{r.label} ({r.group})",
                    "ours": r.estimate,
                    "published": r.published,
                    "difference": r.difference_from_published,
                    "unit": r.unit,
                    "source": r.published_source,
                }
            )
    return pd.DataFrame(rows)


def run_pipeline(opts: Options, data=None, progress: Callable[[str], None] | None = None) -> Results:
    from leftbehind.data import used_inputs
    from leftbehind.geography.lookups import piece_shares

    used_inputs(reset=True)
    results = Results(opts)
    if opts.indices:
        from leftbehind.indices.spec import load_spec, shipped_specs

        for name in (n for n in shipped_specs() if load_spec(n).main_job):
            _step(progress, f"rebuilding {name}")
            results.fits.append(_build_index(name, data))
    _step(progress, f"ward IMD {opts.imd} ({opts.lookup} route, {opts.population} weights) and groups")
    wards, shares = build_wards(opts, data)
    diag, metrics = None, None
    if opts.imd == "2019":
        diag, metrics = diagnostics(wards, wards.set_index("ward_code")["left_behind_published_2020"])
    _step(progress, "outcomes by group")
    sums = ward_sums(shares, lsoa_indicators(data))
    outcome = outcomes(shares, wards.set_index("ward_code")["group"], None, replicates=opts.replicates, sums=sums)
    ward_vals = ward_values(sums)
    ward_vals = ward_vals[ward_vals["ward_code"].isin(wards["ward_code"])].reset_index(drop=True)
    _step(progress, "breakdowns")
    region = breakdown(wards, "region_code", "region_name")
    lad = breakdown(wards, "lad_code", "lad_name")
    pcon = constituency_breakdown(wards, piece_shares("wd17", data=data))
    _step(progress, "politics and economy")
    politics, economy = politics_and_economy(opts, wards, shares, lad, data)
    checks = published_checks(opts, wards, outcome)
    results.tables = {
        "wards": wards,
        "outcomes": outcome,
        "breakdown_region": region,
        "breakdown_lad": lad,
        "breakdown_constituency": pcon,
        "published_checks": checks,
        "ward_indicators": ward_vals,
    }
    if opts.edition == "2025":
        from leftbehind.analysis.current import current_picture

        _step(progress, "current picture: CNI 2023 x IMD 2025 (LSOA 2021) and change since 2020")
        current = current_picture(data, opts.threshold, wards, replicates=opts.replicates)
        results.tables.update(current["tables"])
    results.tables.update(politics["tables"])
    results.tables.update(economy["tables"])
    if diag is not None:
        results.tables["diagnostics"] = diag
    if results.fits:
        results.tables["index_fits"] = pd.DataFrame(
            [
                {
                    "index": s.name,
                    "edition": s.edition,
                    "geography": s.geography,
                    "areas": len(b),
                    "passed": f.passed,
                    **{k: v for k, v in f.figures.items()},
                }
                for s, b, f, _ in results.fits
            ]
        )
    results.summary = {
        "leftbehind_version": __version__,
        "options": opts.model_dump(),
        "cut_off": {
            "rule": "rank <= floor(threshold x number of CNI wards), on the CNI rank and on the ward-IMD rank; "
            "rank 1 = most deprived; equal values share the lower rank",
            "wards": int(wards.attrs["n_wards"]),
            "cutoff_rank": int(wards.attrs["cutoff"]),
        },
        "groups": group_summary(wards),
        "by_region": {
            r["area_name"]: {
                g: {"wards": int(r[f"wards_{g}"]), "population": round(r[f"population_{g}"])} for g in GROUPS
            }
            for r in region.to_dict("records")
        },
        "by_lad": {
            r["area_code"]: {
                "name": r["area_name"],
                **{g: {"wards": int(r[f"wards_{g}"]), "population": round(r[f"population_{g}"])} for g in GROUPS},
            }
            for r in lad.to_dict("records")
        },
        "diagnostics": metrics,
        "politics": politics["summary"],
        "economy": economy["summary"],
        "current": current["summary"] if opts.edition == "2025" else None,
        "published_checks": checks.to_dict("records"),
        "indices": {s.name: {"edition": s.edition, "areas": len(b), "fit": f.as_dict()} for s, b, f, _ in results.fits},
        "inputs": [used_inputs()[k] for k in sorted(used_inputs())],
        "citations": sorted(
            {
                "Community Needs Index, OCSI for Local Trust (2019): not open data, used with attribution",
                "English Indices of Deprivation 2019 (MHCLG), Open Government Licence v3.0",
                "ONS geography and population data, Open Government Licence v3.0",
            }
        ),
    }
    return results


def politics_and_economy(opts: Options, wards: pd.DataFrame, shares: pd.DataFrame, lad: pd.DataFrame, data=None):
    """The constituency table, correlations with the Leave vote, the red wall; claimant count, furlough."""
    from leftbehind.analysis.economy import claimant_london, claimant_rates, furlough_by_share
    from leftbehind.analysis.politics import (
        RedWallRule,
        constituency_table,
        correlations,
        election_results,
        lad_leave,
        red_wall,
    )
    from leftbehind.geography.lookups import piece_shares

    rule = RedWallRule(party_2017=opts.red_wall_2017, party_2019=opts.red_wall_2019, regions=opts.red_wall_regions)
    pcon = constituency_table(wards, piece_shares("wd17", data=data), rule, data)
    w = wards[wards["imd_score"].notna()]
    lad_means = pd.DataFrame(
        {
            "cni_score_mean": (w["cni_score"] * w["population"]).groupby(w["lad_code"]).sum()
            / w.groupby("lad_code")["population"].sum(),
            "imd_score_mean": (w["imd_score"] * w["population"]).groupby(w["lad_code"]).sum()
            / w.groupby("lad_code")["population"].sum(),
        }
    )
    lt = lad.rename(columns={"area_code": "lad_code", "area_name": "lad_name"})
    lt = lt.assign(lbn_share=lt["population_left_behind"] / lt["population_total"])
    lt = lt.merge(lad_means, left_on="lad_code", right_index=True, how="left")
    lt = lt.merge(lad_leave(data).rename(columns={"lad24cd": "lad_code"}), on="lad_code", how="left")
    lad_table = lt[
        [
            "lad_code",
            "lad_name",
            "wards_left_behind",
            "population_left_behind",
            "population_total",
            "lbn_share",
            "cni_score_mean",
            "imd_score_mean",
            "leave_votes",
            "valid_votes",
            "leave_share",
            "counting_areas",
        ]
    ]
    corr = pd.concat(
        [
            correlations(pcon, "leave_share_est", ["lbn_share", "cni_score_mean", "imd_score_mean"], "constituency"),
            correlations(
                lad_table, "leave_share", ["lbn_share", "cni_score_mean", "imd_score_mean"], "local authority"
            ),
        ],
        ignore_index=True,
    )
    uk = election_results(data)
    rw = pcon["red_wall"]
    politics = {
        "tables": {"constituencies": pcon, "politics_correlations": corr, "politics_lad": lad_table},
        "summary": {
            "red_wall_rule": rule.describe(),
            "red_wall_seats_uk": int(red_wall(uk, rule).sum()),
            "red_wall_seats_england": int(rw.sum()),
            "lbn_wards_in_red_wall_seats": int(pcon.loc[rw, "lbn_wards"].sum()),
            "lbn_residents_in_red_wall_seats": round(float(pcon.loc[rw, "lbn_population"].sum())),
            "lbn_wards_in_other_seats": int(pcon.loc[~rw, "lbn_wards"].sum()),
            "lbn_residents_in_other_seats": round(float(pcon.loc[~rw, "lbn_population"].sum())),
            "constituencies": len(pcon),
            "leave_source": "Hanretty (2017) constituency estimates ('Figure to use'); Electoral Commission results "
            "by counting area for local authorities",
        },
    }
    claim, status = claimant_rates(opts.claimant_month, wards, shares, data)
    london = claimant_london(wards, shares, data)
    furlough = furlough_by_share(pcon, lad, data)
    economy = {
        "tables": {"economy_claimants_london": london, "economy_furlough": furlough},
        "summary": {"claimant_count": status},
    }
    if len(claim):
        economy["tables"]["economy_claimants"] = claim
    return politics, economy


def _build_index(name: str, data):
    from leftbehind.data.sources import resolve
    from leftbehind.indices.build import build_spec

    spec, built, fit = build_spec(name, data)
    return spec, built, fit, resolve(spec.source, data)
