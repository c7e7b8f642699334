"""The main job as declared steps: from the data mirror to every table of ``leftbehind run``.

Each :class:`Step` names the catalogue datasets it reads (:attr:`Step.inputs`, a function of the
run options), the output tables it produces (names in the output-table registry,
``report/outputs.yaml``) and when it runs. :func:`run_pipeline` runs the steps in order on a
:class:`RunState` and returns typed :class:`~leftbehind.analysis.results.Results`; writing
them is :mod:`leftbehind.report.tables`' job. :func:`declared_inputs` is what the CLI reads ahead
in a worker thread while the first steps run.

The steps of the 2020 research edition run in every run; those of the current edition run
with ``--edition 2025``. The editions themselves (units, indices, published figures) are data:
:mod:`leftbehind.editions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leftbehind import __version__
from leftbehind.analysis.breakdowns import breakdown, constituency_breakdown
from leftbehind.analysis.leftbehind import GROUPS, classify, diagnostics
from leftbehind.analysis.outcomes import lsoa_indicators, outcomes, ward_sums, ward_values
from leftbehind.analysis.results import (
    ClaimantStatus,
    CurrentSummary,
    CutOff,
    Diagnostics,
    EconomySummary,
    GroupCount,
    IndexBuild,
    IndexSummary,
    InputRecord,
    LadCounts,
    PoliticsSummary,
    PublishedCheck,
    Results,
    RunSummary,
    Transitions,
)
from leftbehind.editions import Edition, current_for, current_of, is_current, research_of

if TYPE_CHECKING:
    from leftbehind.context import RunContext

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
CUT_OFF_RULE = (
    "rank <= floor(threshold x number of CNI wards), on the CNI rank and on the ward-IMD rank; "
    "rank 1 = most deprived; equal values share the lower rank"
)

# ---------------------------------------------------------------- the state steps work on


@dataclass
class RunState:
    """What the steps read and write: the context, the options, the editions, intermediate frames."""

    ctx: RunContext
    opts: Any  # RunOptions
    research: Edition
    current: Edition | None
    results: Results
    wards: pd.DataFrame | None = None
    shares: pd.DataFrame | None = None
    metrics: Diagnostics | None = None
    outcome: pd.DataFrame | None = None
    lad: pd.DataFrame | None = None
    constituencies: pd.DataFrame | None = None
    politics: PoliticsSummary | None = None
    claimants: ClaimantStatus | None = None
    current_table: pd.DataFrame | None = None
    current_summary: CurrentSummary | None = None
    sums: Any = None  # WardSums of the outcomes step
    ensembles: dict[str, Any] = field(default_factory=dict)  # IMD pairing ("2019"/"2015"/"lsoa21") -> EnsembleResult
    other_wards: dict[str, pd.DataFrame] = field(default_factory=dict)  # the ward table with the other IMD
    persistence: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)
    pooled_keys: frozenset[str] = frozenset()
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def put(self, name: str, table: pd.DataFrame) -> None:
        self.tables[name] = table


@dataclass(frozen=True)
class Step:
    """One step: ``run(state)``, reading ``inputs(options)`` and producing ``produces``."""

    name: str
    label: str
    inputs: Callable[[Any], tuple[str, ...]]
    produces: tuple[str, ...]
    run: Callable[[RunState], None]
    when: Callable[[Any], bool] = lambda opts: True


# ---------------------------------------------------------------- population datasets


def _population_inputs(base: str) -> tuple[str, ...]:
    from leftbehind.geography.population import BASES

    geo, dataset, _ = BASES[base]
    return (dataset, "lookup_oa11_wd17_derived") if base == "census2011" else (dataset,)


def _index_sources(opts) -> tuple[str, ...]:
    from leftbehind.indices.spec import load_spec

    if opts.skip_indices:
        return ()
    out: list[str] = []
    for name in _main_job_specs():
        s = load_spec(name)
        out += [s.source] + ([s.check.dataset] if s.check and s.check.dataset else [])
    return tuple(dict.fromkeys(out))


def _main_job_specs() -> list[str]:
    from leftbehind.indices.spec import load_spec, shipped_specs

    return [n for n in shipped_specs() if load_spec(n).main_job]


def _imd_inputs(imd: str) -> tuple[str, ...]:
    return ("imd2019_file2",) if imd == "2019" else ("imd2015_scores",)


# ---------------------------------------------------------------- 2020 research edition


def step_indices(st: RunState) -> None:
    from leftbehind.indices.build import build_shipped

    for name in _main_job_specs():
        spec, built, fit = build_shipped(name, ctx=st.ctx)
        st.results.fits.append(IndexBuild(spec, built, fit, st.ctx.resolve(spec.source, record=False)))
    st.put(
        "index_fits",
        pd.DataFrame(
            [
                {
                    "index": b.spec.name,
                    "edition": b.spec.edition,
                    "geography": b.spec.geography,
                    "areas": len(b.built),
                    "passed": b.fit.passed,
                    **dict(b.fit.figures.items()),
                }
                for b in st.results.fits
            ]
        ),
    )


def step_wards(st: RunState) -> None:
    from leftbehind.analysis.areas import research_wards

    st.wards, st.shares = research_wards(st.ctx, st.opts)
    st.put("wards", st.wards)


def build_wards(opts, research: Edition, *, ctx: RunContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The classified ward table (``WARD_COLUMNS`` then extras) and the LSOA→ward shares."""
    from leftbehind.geography.lookups import current_lad, lad_to_region
    from leftbehind.geography.population import lsoa_population
    from leftbehind.geography.wards import lsoa_ward_shares, ward_imd

    pairing = research.pairing(opts.imd)
    cni = ctx.load(research.cni.dataset)
    w = ward_imd(pairing.imd_index, opts.population, ctx=ctx, route=opts.lookup, measure=opts.ward_imd)
    shares = lsoa_ward_shares(opts.lookup, ctx=ctx)
    res = lsoa_population(opts.residents, ctx=ctx)[["lsoa11cd", "pop_total"]]
    sp = shares.merge(res, on="lsoa11cd", how="left")
    ward_pop = (sp["share"] * sp["pop_total"]).groupby(sp["wd17cd"]).sum()
    cur = current_lad(cni["lad19cd"], ctx=ctx)
    reg = lad_to_region(ctx).set_index("lad24cd")
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
    from leftbehind.geography.wards import WARD_MEASURES

    extra = pd.DataFrame(
        {
            "lad_code_published": cni["lad19cd"].to_numpy(),
            "region_code": reg.loc[cur["lad24cd"], "rgn_cd"].to_numpy(),
            "civic_assets_score": cni["civic_assets_score"].to_numpy(),
            "connectedness_score": cni["connectedness_score"].to_numpy(),
            "engaged_community_score": cni["engaged_community_score"].to_numpy(),
            "imd_decile": pd.array(
                wi.loc[t["ward_code"], f"decile_{WARD_MEASURES[opts.ward_imd]}"].to_numpy(), dtype="Int64"
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


def step_diagnostics(st: RunState) -> None:
    lst = st.research.pairing(st.opts.imd).list
    diag, metrics = diagnostics(st.wards, st.wards.set_index("ward_code")[_published_flag(lst.column)])
    st.metrics = Diagnostics(**metrics)
    st.put("diagnostics", diag)


def _published_flag(column: str) -> str:
    # the CNI file's published-list column, as carried into the ward table
    return {"left_behind_2020": "left_behind_published_2020"}[column]


def step_outcomes(st: RunState) -> None:
    from leftbehind.analysis.outcomes import POOLED

    sums = ward_sums(st.shares, lsoa_indicators(st.ctx))
    st.sums = sums
    st.pooled_keys = frozenset(p[0] for p in POOLED)
    published = {
        (r.indicator, r.group): r for r in st.research.pairing(st.opts.imd).rates if r.indicator != "claimant_count"
    }
    st.outcome = outcomes(
        st.shares,
        st.wards.set_index("ward_code")["group"],
        None,
        replicates=st.opts.replicates,
        sums=sums,
        published={k: (r.value, st.research.cite(r.source), r.note) for k, r in published.items()},
    )
    vals = ward_values(sums)
    st.put("outcomes", st.outcome)
    st.put("ward_indicators", vals[vals["ward_code"].isin(st.wards["ward_code"])].reset_index(drop=True))


def step_breakdowns(st: RunState) -> None:
    from leftbehind.geography.lookups import piece_shares

    st.put("breakdown_region", breakdown(st.wards, "region_code", "region_name"))
    st.lad = breakdown(st.wards, "lad_code", "lad_name")
    st.put("breakdown_lad", st.lad)
    st.put("breakdown_constituency", constituency_breakdown(st.wards, piece_shares("wd17", ctx=st.ctx)))


def step_politics(st: RunState) -> None:
    from leftbehind.analysis.politics import (
        RedWallRule,
        constituency_table,
        correlations,
        election_results,
        lad_leave,
        red_wall,
    )
    from leftbehind.geography.lookups import piece_shares

    opts, wards, ctx = st.opts, st.wards, st.ctx
    rule = RedWallRule(party_2017=opts.red_wall[0], party_2019=opts.red_wall[1], regions=opts.red_wall_regions)
    pcon = constituency_table(wards, piece_shares("wd17", ctx=ctx), rule, ctx=ctx)
    w = wards[wards["imd_score"].notna()]
    lad_means = pd.DataFrame(
        {
            "cni_score_mean": (w["cni_score"] * w["population"]).groupby(w["lad_code"]).sum()
            / w.groupby("lad_code")["population"].sum(),
            "imd_score_mean": (w["imd_score"] * w["population"]).groupby(w["lad_code"]).sum()
            / w.groupby("lad_code")["population"].sum(),
        }
    )
    lt = st.lad.rename(columns={"area_code": "lad_code", "area_name": "lad_name"})
    with np.errstate(invalid="ignore", divide="ignore"):
        lt = lt.assign(lbn_share=lt["population_left_behind"] / lt["population_total"])
    lt = lt.merge(lad_means, left_on="lad_code", right_index=True, how="left")
    lt = lt.merge(lad_leave(ctx).rename(columns={"lad24cd": "lad_code"}), on="lad_code", how="left")
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
    xs = ["lbn_share", "cni_score_mean", "imd_score_mean"]
    corr = pd.concat(
        [
            correlations(pcon, "leave_share_est", xs, "constituency"),
            correlations(lad_table, "leave_share", xs, "local authority"),
        ],
        ignore_index=True,
    )
    uk = election_results(ctx)
    rw = pcon["red_wall"]
    st.constituencies = pcon
    st.put("constituencies", pcon)
    st.put("politics_correlations", corr)
    st.put("politics_lad", lad_table)
    st.politics = PoliticsSummary(
        red_wall_rule=rule.describe(),
        red_wall_seats_uk=int(red_wall(uk, rule).sum()),
        red_wall_seats_england=int(rw.sum()),
        lbn_wards_in_red_wall_seats=int(pcon.loc[rw, "lbn_wards"].sum()),
        lbn_residents_in_red_wall_seats=round(float(pcon.loc[rw, "lbn_population"].sum())),
        lbn_wards_in_other_seats=int(pcon.loc[~rw, "lbn_wards"].sum()),
        lbn_residents_in_other_seats=round(float(pcon.loc[~rw, "lbn_population"].sum())),
        constituencies=len(pcon),
        leave_source="Hanretty (2017) constituency estimates ('Figure to use'); Electoral Commission results "
        "by counting area for local authorities",
    )


def step_economy(st: RunState) -> None:
    from leftbehind.analysis.economy import claimant_london, claimant_rates, furlough_by_share

    month = st.opts.month
    published = {
        r.group: r.value
        for r in st.research.pairing(st.opts.imd).rates
        if r.indicator == "claimant_count" and month in (r.months or ())
    }
    claim, status = claimant_rates(month, st.wards, st.shares, ctx=st.ctx, published=published or None)
    st.claimants = ClaimantStatus(**status)
    if len(claim):
        st.put("economy_claimants", claim)
    st.put("economy_claimants_london", claimant_london(st.wards, st.shares, ctx=st.ctx))
    st.put("economy_furlough", furlough_by_share(st.constituencies, st.lad, ctx=st.ctx))


def published_checks(research: Edition, imd: str, wards: pd.DataFrame, outcome: pd.DataFrame) -> pd.DataFrame:
    """Our counts beside every published count of the pairing, then the published rates."""
    pairing = research.pairing(imd)
    lb = wards[wards["group"] == "left_behind"]
    by_region = lb["region_name"].value_counts()
    by_lad = lb["lad_name"].value_counts()
    rows = []
    for c in pairing.published:
        note = ""
        if c.region:
            ours = int(by_region.get(c.region, 0))
        elif c.regions:
            ours = int(by_region.reindex(list(c.regions)).fillna(0).sum())
        elif c.lad:
            ours = int(by_lad.get(c.lad, 0))
        elif c.key == "lbn_residents":
            ours = round(float(lb["population"].sum()))
        elif c.key == "lbn_lads":
            ours = int(lb["lad_code_published"].nunique())  # like with like: the published (2019) LAD codes
            note = (
                f"both sides on the published 2019 local-authority codes; on 2024 codes (after the 2019-2023 "
                f"mergers) ours is {int(lb['lad_code'].nunique())}"
            )
        elif c.key == "lbn_wards":
            ours = len(lb)
        else:  # pragma: no cover - a new published count needs a rule here
            raise KeyError(f"no rule to count published figure {c.key!r}")
        rows.append(
            {
                "check": c.check,
                "ours": float(ours),
                "published": float(c.value),
                "difference": float(ours) - c.value,
                "unit": c.unit,
                "source": research.cite(c.source),
                "note": note,
            }
        )
    for r in outcome[outcome["published"].notna()].itertuples():
        rows.append(
            {
                "check": f"{r.label} ({r.group})",
                "ours": r.estimate,
                "published": r.published,
                "difference": r.difference_from_published,
                "unit": r.unit,
                "source": r.published_source,
                "note": r.note,
            }
        )
    return pd.DataFrame(rows)


def step_published_checks(st: RunState) -> None:
    st.put("published_checks", published_checks(st.research, st.opts.imd, st.wards, st.outcome))


# ---------------------------------------------------------------- how sure: the ensemble, the claims


def _ensemble_inputs(opts) -> tuple[str, ...]:
    from leftbehind.analysis.robustness.spec import load_spec

    spec = load_spec()
    pops = {c.split("/")[1] for c in spec.sources.construction.choices} | {opts.population}
    out = [
        "cni2019_wards",  # the ward table with the other IMD (the published 2019 list)
        "lookup_lad16_lad24",
        "lookup_lad19_region19",
        "imd2019_file2",
        "imd2015_scores",
        "lookup_oa11_wd17_derived",
        "census2011_oa11_residents",
        "lookup_lsoa11_wd17",
    ]
    for p in sorted(pops):
        out += list(_population_inputs(p))
    ed = current_of(opts.edition)
    if ed is not None:
        out += [ed.cni.dataset, ed.imd.dataset, "lookup_lsoa11_lsoa21"]
    return tuple(dict.fromkeys(out))


def step_certainty(st: RunState) -> None:
    """The uncertainty ensemble (``--ensemble`` replications of the default spec) for the run's
    own list and, for the 2020 edition, for the other IMD pairing (the published 2019 list)."""
    from leftbehind.analysis.outcomes import POOLED, mean_specs
    from leftbehind.analysis.robustness import areas_table, gap_table
    from leftbehind.analysis.robustness.ensemble import cached_ensemble
    from leftbehind.analysis.robustness.inputs import lsoa21_inputs, ward_inputs
    from leftbehind.analysis.robustness.spec import load_spec

    spec = load_spec()
    opts, reps = st.opts, st.opts.ensemble
    names = [p[0] for p in POOLED] + [m[0] for m in mean_specs()]
    num, den = ward_outcome_sums(st.sums, st.wards["ward_code"].sort_values().to_numpy())
    inputs = ward_inputs(st.ctx, opts, st.wards, spec)
    res = cached_ensemble(inputs, spec, reps, opts.seed, outcome_sums=(names, num, den), ctx=st.ctx)
    st.ensembles[opts.imd] = res
    st.put("certainty", areas_table(res))
    st.put("outcome_robustness", gap_table(res, st.outcome, st.pooled_keys))
    other = "2015" if opts.imd == "2019" else "2019"
    o2 = opts.model_copy(update={"imd": other})
    from leftbehind.analysis.areas import research_wards

    w2, _ = research_wards(st.ctx, o2)
    st.other_wards[other] = w2
    st.ensembles[other] = cached_ensemble(ward_inputs(st.ctx, o2, w2, spec), spec, reps, opts.seed, ctx=st.ctx)
    if st.current is not None:
        res21 = cached_ensemble(lsoa21_inputs(st.ctx, opts, st.current_table, spec), spec, reps, opts.seed, ctx=st.ctx)
        st.ensembles["lsoa21"] = res21
        st.put("certainty_lsoa21", areas_table(res21))


def ward_outcome_sums(sums, ward_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(numerators, denominators) of every outcome (pooled rates, then means), rows = ``ward_codes``."""
    idx = pd.Index(sums.wards).get_indexer(ward_codes)
    ok = idx >= 0
    allnum = np.hstack([sums.pooled_num, sums.mean_num])
    allden = np.hstack([sums.pooled_den, sums.mean_den])
    num = np.zeros((len(idx), allnum.shape[1]))
    den = np.zeros((len(idx), allden.shape[1]))
    num[ok], den[ok] = allnum[idx[ok]], allden[idx[ok]]
    return num, den


def step_claims(st: RunState) -> None:
    from leftbehind.analysis.claims import ledger

    if st.current is not None:
        st.persistence = _persistence(st.ctx)
    st.put("claims", ledger(st))


def _persistence(ctx: RunContext) -> dict[tuple[str, str], tuple[float, int]]:
    """Share of decile-1 LSOAs of a later IMD that were decile 1 in the earlier one (%, LSOAs)."""
    f2 = ctx.load("imd2019_file2")[["lsoa11cd", "imd_decile"]]
    i15 = ctx.load("imd2015_scores")[["lsoa11cd", "imd_decile"]]
    t = f2.merge(i15, on="lsoa11cd", suffixes=("_19", "_15"))
    d1 = t["imd_decile_19"] == 1
    out = {("imd2015", "imd2019"): (100 * float((t.loc[d1, "imd_decile_15"] == 1).mean()), int(d1.sum()))}
    lk = ctx.load("lookup_lsoa11_lsoa21")
    same = lk[lk["change_code"] == "U"][["lsoa11cd", "lsoa21cd"]]
    i25 = ctx.load("iod2025_scores")[["lsoa21cd", "imd_decile"]]
    u = same.merge(f2, on="lsoa11cd").merge(i25, on="lsoa21cd", suffixes=("_19", "_25"))
    d1 = u["imd_decile_25"] == 1
    out[("imd2019", "iod2025")] = (100 * float((u.loc[d1, "imd_decile_19"] == 1).mean()), int(d1.sum()))
    return out


# ---------------------------------------------------------------- current edition


def step_current_groups(st: RunState) -> None:
    from leftbehind.analysis.areas import classified_areas

    cur = classified_areas(st.ctx, st.current.id, st.current.unit.id, st.opts)
    st.current_table = cur
    st.put("lsoa21", cur[[*_current_columns(st.current), "population"]])
    st.put("current_region", breakdown(cur, "region_code", "region_name", unit=st.current.unit.noun))
    st.put("current_lad", breakdown(cur, "lad_code", "lad_name", unit=st.current.unit.noun))
    k = int(cur.attrs["cutoff"])
    st.current_summary = CurrentSummary(
        edition=st.current.label,
        cutoff_rank=k,
        rule=f"{st.current.cni.edition} rank <= {k} and {st.current.imd.edition} rank <= {k} "
        f"(floor({st.opts.threshold:.2f} x {len(cur):,}))",
        population_base=st.current.population.label,
        groups={
            g: {
                "lsoas": int((cur["group"] == g).sum()),
                "population": round(float(cur.loc[cur["group"] == g, "population"].sum())),
            }
            for g in GROUPS
        },
    )


def _current_columns(ed: Edition) -> list[str]:
    from leftbehind.analysis.current import LSOA21_COLUMNS

    return LSOA21_COLUMNS


def step_current_outcomes(st: RunState) -> None:
    from leftbehind.analysis.current import outcomes_2025

    st.put("current_outcomes", outcomes_2025(st.current_table, st.current, ctx=st.ctx, replicates=st.opts.replicates))


def step_current_transitions(st: RunState) -> None:
    from leftbehind.analysis.current import transition_counts, transitions, ward_layer

    cur_t, w2020 = transitions(st.current_table, st.wards, ctx=st.ctx)
    st.put(
        "lsoa21",
        cur_t[[*_current_columns(st.current), "population", "status_since_2020", "change_code", "wards_2020"]],
    )
    st.put("transitions_wards_2020", w2020)
    st.put("transitions_region", transition_counts(cur_t, w2020, "region_name"))
    st.put("transitions_lad", transition_counts(cur_t, w2020, "lad_name"))
    st.put("ward_layer_2025", ward_layer(cur_t, w2020, st.wards))
    lb = cur_t[cur_t["group"] == "left_behind"]
    st.current_summary.transitions = Transitions(
        current_lb_lsoas_persistent=int((lb["status_since_2020"] == "persistent").sum()),
        current_lb_lsoas_new=int((lb["status_since_2020"] == "new").sum()),
        wards_2020_still=int((w2020["status_2025"] == "still").sum()),
        wards_2020_no_longer=int((w2020["status_2025"] == "no_longer").sum()),
        rule="persistent = traces (LSOA21 -> LSOA11 parents -> ONS best-fit WD17) to a published 2020 "
        "left-behind ward; a 2020 ward is 'still' if any current left-behind LSOA traces to it",
    )


def step_current_units(st: RunState) -> None:
    """The current edition at every unit the edition declares beyond its base (wards 2024, MSOA 2021)."""
    from leftbehind.analysis.areas import classified_areas
    from leftbehind.analysis.results import UnitSummary
    from leftbehind.analysis.units import unit_mapping, wards_2020_in_units

    for name, entry in st.current.units.items():
        if entry.rule == "base":
            continue
        t = classified_areas(st.ctx, st.current.id, name, st.opts)
        st.put(entry.table, t)
        hit, pub = wards_2020_in_units(t, unit_mapping(entry, st.current_table, st.ctx), st.wards, st.ctx)
        lb = t["group"] == "left_behind"
        st.current_summary.units[name] = UnitSummary(
            title=entry.title,
            areas=len(t),
            cutoff_rank=int(t.attrs["cutoff"]),
            left_behind=int(lb.sum()),
            left_behind_population=round(float(t.loc[lb, "population"].sum())),
            other_deprived=int((t["group"] == "other_deprived").sum()),
            wards_2020_in_left_behind_units=hit,
            wards_2020_published=pub,
        )


def step_designations(st: RunState) -> None:
    """The designations side by side on LSOA 2021 sets: the 2020 list, today's lists at each unit,
    the Pride in Place lists (matched to MSOAs 2021 by name)."""
    from leftbehind.analysis.designations import comparator, lsoa_sets, match
    from leftbehind.analysis.units import unit_mapping
    from leftbehind.geography.lookups import lsoa11_to_lsoa21, lsoa11_to_ward

    cur = st.current_table
    pop = cur.set_index("lsoa21_code")["population"]
    sets, units = {}, {}
    chain = lsoa11_to_lsoa21(st.ctx)[["lsoa11cd", "lsoa21cd"]].merge(
        lsoa11_to_ward("wd17", ctx=st.ctx)[["lsoa11cd", "wd17cd"]], on="lsoa11cd"
    )
    pub = set(st.wards.loc[st.wards["left_behind_published_2020"].astype(bool), "ward_code"])
    sets["published 2020 list (wards 2017)"] = set(chain.loc[chain["wd17cd"].isin(pub), "lsoa21cd"])
    units["published 2020 list (wards 2017)"] = len(pub)
    lb = set(cur.loc[cur["group"] == "left_behind", "lsoa21_code"])
    sets["left behind today (LSOA 2021)"], units["left behind today (LSOA 2021)"] = lb, len(lb)
    maps = {}
    for name, entry in st.current.units.items():
        if entry.rule == "base" or entry.table not in st.tables:
            continue
        t = st.tables[entry.table]
        maps[name] = unit_mapping(entry, cur, st.ctx)
        codes = set(t.loc[t["group"] == "left_behind", "area_code"])
        label = f"left behind today ({entry.title})"
        sets[label], units[label] = lsoa_sets(maps[name], codes), len(codes)
    if "msoa21" in maps:
        for dataset, label in (
            ("pride_in_place_phase2", "Pride in Place Phase 2 (MSOA 2021)"),
            ("pride_in_place_cohort3", "Pride in Place cohort 3 (MSOA 2021)"),
        ):
            m = match(st.ctx.load(dataset), st.tables["msoa21"], "msoa21", dataset)
            codes = set(m["area_code"].dropna())
            sets[label], units[label] = lsoa_sets(maps["msoa21"], codes), len(codes)
    st.put("designations_comparator", comparator(sets, pop, units))


def _unit_inputs(opts) -> tuple[str, ...]:
    ed = current_for(opts.edition)
    out = [ed.cni.dataset, ed.imd.dataset, "lookup_lsoa11_lsoa21", "lookup_lsoa11_wd17"]
    for u in ed.units.values():
        out += [d for d in (u.lookup, u.names) if d]
    return tuple(dict.fromkeys(out))


def _current_inputs(opts) -> tuple[str, ...]:
    ed = current_for(opts.edition)
    return (
        ed.cni.dataset,
        ed.imd.dataset,
        "lookup_lsoa11_lsoa21",
        "lookup_lad16_lad24",
        "lookup_lad19_region19",
        *_population_inputs(ed.population.base),
    )


def _is_current(opts) -> bool:
    return is_current(opts.edition)


STEPS: tuple[Step, ...] = (
    Step(
        "indices",
        "rebuilding the shipped indices",
        _index_sources,
        ("index_fits", "index"),
        step_indices,
        when=lambda o: not o.skip_indices,
    ),
    Step(
        "wards",
        "ward IMD and groups",
        lambda o: (
            "cni2019_wards",
            *_imd_inputs(o.imd),
            *_population_inputs(o.population),
            *_population_inputs(o.residents),
            *(
                ("lookup_oa11_wd17_derived", "census2011_oa11_residents")
                if o.lookup == "oa"
                else ("lookup_lsoa11_wd17",)
            ),
            "lookup_lad16_lad24",
            "lookup_lad19_region19",
        ),
        ("wards",),
        step_wards,
    ),
    Step(
        "diagnostics",
        "differences from the published list",
        lambda o: (),
        ("diagnostics",),
        step_diagnostics,
        when=lambda o: research_of(o.edition).pairing(o.imd).list.column is not None,
    ),
    Step(
        "outcomes",
        "outcomes by group",
        lambda o: (
            "imd2019_file6",
            "imd2019_file8",
            "lookup_oa11_lsoa11",
            "jobs_at_risk_msoa11",
            "ruc11_lsoa11",
        ),
        ("outcomes", "ward_indicators"),
        step_outcomes,
    ),
    Step(
        "breakdowns",
        "breakdowns by region, local authority and constituency",
        lambda o: ("lookup_wd17_pcon17", "lookup_lsoa11_wd17", "drkane_lsoa_latlong", *_population_inputs("mid2019")),
        ("breakdown_region", "breakdown_lad", "breakdown_constituency"),
        step_breakdowns,
    ),
    Step(
        "politics",
        "politics: constituencies, the Leave vote, the red wall",
        lambda o: (
            "ge2017_results",
            "ge2019_results",
            "hanretty_leave_pcon_csv",
            "pcon19_names",
            "eu_referendum_results",
        ),
        ("constituencies", "politics_correlations", "politics_lad"),
        step_politics,
    ),
    Step(
        "economy",
        "economy: claimant count and furlough",
        lambda o: (
            "claimant_count_london_lsoa11",
            "cjrs_pcon_2021",
            "cjrs_la_august2020",
            *_population_inputs("mid2019"),
        ),
        ("economy_claimants", "economy_claimants_london", "economy_furlough"),
        step_economy,
    ),
    Step(
        "published_checks", "published figures beside ours", lambda o: (), ("published_checks",), step_published_checks
    ),
    Step(
        "current_groups",
        "current picture: CNI 2023 x IMD 2025 (LSOA 2021)",
        _current_inputs,
        ("lsoa21", "current_region", "current_lad"),
        step_current_groups,
        when=_is_current,
    ),
    Step(
        "current_outcomes",
        "current picture: IoD2025 outcomes by group",
        lambda o: (current_for(o.edition).outcomes.dataset,),
        ("current_outcomes",),
        step_current_outcomes,
        when=_is_current,
    ),
    Step(
        "current_transitions",
        "current picture: change since the 2020 list",
        lambda o: ("lookup_lsoa11_lsoa21", "lookup_lsoa11_wd17"),
        ("lsoa21", "transitions_wards_2020", "transitions_region", "transitions_lad", "ward_layer_2025"),
        step_current_transitions,
        when=_is_current,
    ),
    Step(
        "current_units",
        "current picture at wards 2024 and MSOAs 2021",
        _unit_inputs,
        ("wards24", "msoa21"),
        step_current_units,
        when=_is_current,
    ),
    Step(
        "designations",
        "designations side by side",
        lambda o: (
            "pride_in_place_phase2",
            "pride_in_place_cohort3",
            "lookup_lsoa11_lsoa21",
            "lookup_lsoa11_wd17",
            *_unit_inputs(o),
        ),
        ("designations_comparator",),
        step_designations,
        when=_is_current,
    ),
    Step(
        "certainty",
        "how sure: the uncertainty ensemble",
        _ensemble_inputs,
        ("certainty", "outcome_robustness", "certainty_lsoa21"),
        step_certainty,
        when=lambda o: o.ensemble > 0,
    ),
    Step(
        "claims",
        "the claims ledger",
        lambda o: (
            ("imd2019_file2", "imd2015_scores", current_for(o.edition).imd.dataset, "lookup_lsoa11_lsoa21")
            if is_current(o.edition)
            else ()
        ),
        ("claims",),
        step_claims,
    ),
)


def steps_for(opts) -> list[Step]:
    return [s for s in STEPS if s.when(opts)]


def declared_inputs(opts, after_first: bool = True) -> tuple[str, ...]:
    """Every dataset the run's steps declare, in step order (those of the first step left out:
    it is running while a worker thread reads the rest ahead)."""
    steps = steps_for(opts)
    return tuple(dict.fromkeys(d for s in steps[1 if after_first else 0 :] for d in s.inputs(opts)))


# ---------------------------------------------------------------- the run


def group_summary(wards: pd.DataFrame) -> dict[str, GroupCount]:
    g = wards.groupby("group")
    counts = g.size().reindex(list(GROUPS), fill_value=0)
    pops = g["population"].sum().reindex(list(GROUPS), fill_value=0.0)
    return {grp: GroupCount(wards=int(counts[grp]), population=round(float(pops[grp]))) for grp in GROUPS}


def run_pipeline(opts, *, ctx: RunContext, progress: Callable[[str], None] | None = None) -> Results:
    """Run every step of the run's editions; return typed results (nothing is written)."""
    research = research_of(opts.edition)
    current = current_of(opts.edition)
    st = RunState(ctx=ctx, opts=opts, research=research, current=current, results=Results(opts))
    ctx.forget_provenance()
    for step in steps_for(opts):
        if progress is not None:
            progress(step.label)
        with ctx.step(step.name):
            step.run(st)
    results = st.results
    results.tables = st.tables
    results.summary = _summary(st)
    return results


def _summary(st: RunState) -> RunSummary:
    wards = st.wards
    region = st.tables["breakdown_region"]
    fits = st.results.fits
    citations = sorted({t for e in (st.research, st.current) if e is not None for t in e.citation_texts()})
    return RunSummary(
        leftbehind_version=__version__,
        options=st.opts.model_dump(mode="json"),
        cut_off=CutOff(rule=CUT_OFF_RULE, wards=int(wards.attrs["n_wards"]), cutoff_rank=int(wards.attrs["cutoff"])),
        groups=group_summary(wards),
        by_region={
            r["area_name"]: {
                g: GroupCount(wards=int(r[f"wards_{g}"]), population=round(r[f"population_{g}"])) for g in GROUPS
            }
            for r in region.to_dict("records")
        },
        by_lad={
            r["area_code"]: LadCounts(
                name=r["area_name"],
                **{g: GroupCount(wards=int(r[f"wards_{g}"]), population=round(r[f"population_{g}"])) for g in GROUPS},
            )
            for r in st.lad.to_dict("records")
        },
        diagnostics=st.metrics,
        politics=st.politics,
        economy=EconomySummary(claimant_count=st.claimants),
        current=st.current_summary,
        published_checks=[PublishedCheck(**r) for r in st.tables["published_checks"].to_dict("records")],
        indices={
            b.spec.name: IndexSummary(edition=b.spec.edition, areas=len(b.built), fit=b.fit.as_dict()) for b in fits
        },
        inputs=[InputRecord(**i) for i in st.ctx.inputs()],
        citations=citations,
    )
