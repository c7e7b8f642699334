"""``leftbehind robustness``: the full ensemble for one edition, its sensitivity analysis and its tables.

:func:`robustness` runs the nominal steps it needs (the ward table and outcomes for the 2020
edition; the LSOA 2021 table for the current one), the ensemble, the Sobol and one-at-a-time
analyses, and returns the tables (named as in ``report/outputs.yaml``) and a summary.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from leftbehind.context import RunContext


@dataclass
class RobustnessResult:
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    ensemble: Any  # EnsembleResult


def robustness(
    opts,
    ctx: RunContext,
    *,
    replications: int = 10_000,
    seed: int = 20201,
    spec_path=None,
    sobol_n: int | None = None,
    oat_replications: int = 2000,
    progress=None,
) -> RobustnessResult:
    from leftbehind.analysis.outcomes import POOLED, mean_specs
    from leftbehind.analysis.pipeline import STEPS, RunState, ward_outcome_sums
    from leftbehind.analysis.results import Results
    from leftbehind.analysis.robustness import areas_table, counts_table, gap_table, list_size_table
    from leftbehind.analysis.robustness.ensemble import run_ensemble
    from leftbehind.analysis.robustness.inputs import lsoa21_inputs, ward_inputs
    from leftbehind.analysis.robustness.sensitivity import one_at_a_time, sobol_indices
    from leftbehind.analysis.robustness.spec import load_spec
    from leftbehind.editions import current_of, research_of

    start = time.perf_counter()
    spec = load_spec(spec_path)
    research = research_of(opts.edition)
    current = current_of(opts.edition)
    st = RunState(ctx=ctx, opts=opts, research=research, current=current, results=Results(opts))
    needed = {"wards", "outcomes"} | ({"current_groups"} if current is not None else set())
    for step in STEPS:
        if step.name in needed:
            if progress is not None:
                progress(step.label, None, None)
            step.run(st)
    tables: dict[str, pd.DataFrame] = {}

    def tick(done):
        if progress is not None:
            progress("ensemble", done, replications)

    t_inputs = time.perf_counter()
    if current is None:
        inputs = ward_inputs(ctx, opts, st.wards, spec)
        names = [p[0] for p in POOLED] + [m[0] for m in mean_specs()]
        num, den = ward_outcome_sums(st.sums, inputs.codes)
        t_ens = time.perf_counter()
        res = run_ensemble(inputs, spec, replications, seed, outcome_sums=(names, num, den), progress=tick)
        tables["robustness_outcomes"] = gap_table(res, st.outcome, st.pooled_keys)
    else:
        inputs = lsoa21_inputs(ctx, opts, st.current_table, spec)
        t_ens = time.perf_counter()
        res = run_ensemble(inputs, spec, replications, seed, progress=tick)
    seconds_ensemble = time.perf_counter() - t_ens
    seconds_inputs = t_ens - t_inputs
    if progress is not None:
        progress("sensitivity: Sobol indices and one source at a time", None, None)
    n_base = sobol_n or (1024 if inputs.n < 10_000 else 512)
    sob = sobol_indices(inputs, spec, n_base, seed).assign(method="sobol")
    oat = one_at_a_time(inputs, spec, oat_replications, seed).assign(method="one_at_a_time", output="")
    cols = [
        "method",
        "source",
        "output",
        "S1",
        "S1_low",
        "S1_high",
        "ST",
        "ST_low",
        "ST_high",
        "areas_that_change",
        "nominal_areas_that_can_drop",
        "other_areas_that_can_enter",
        "mean_areas_differing",
        "list_size_mean",
        "list_size_q05",
        "list_size_q95",
        "jaccard_mean",
        "replications",
    ]
    sens = pd.concat([sob, oat], ignore_index=True).reindex(columns=cols)
    for c in ("areas_that_change", "nominal_areas_that_can_drop", "other_areas_that_can_enter", "replications"):
        sens[c] = sens[c].astype("Int64")
    tables["robustness_areas"] = areas_table(res)
    tables["robustness_counts"] = counts_table(res)
    tables["robustness_list_size"] = list_size_table(res)
    tables["robustness_sensitivity"] = sens
    summary = _summary(opts, spec, res, seed, replications, start, seconds_ensemble, st, sob)
    summary["seconds_inputs"] = round(seconds_inputs, 2)
    return RobustnessResult(tables, summary, res)


def _summary(opts, spec, res, seed, replications, start, seconds_ensemble, st, sob) -> dict[str, Any]:
    from leftbehind.analysis.robustness.ensemble import band

    i = res.inputs
    b = pd.Series(band(res.p_left_behind)).value_counts()
    out: dict[str, Any] = {
        "edition": opts.edition,
        "unit": i.unit,
        "areas": int(i.n),
        "nominal": {
            k: v
            for k, v in opts.model_dump(mode="json").items()
            if k in ("edition", "imd", "lookup", "population", "ward_imd", "threshold")
        },
        "spec": spec.model_dump(mode="json"),
        "active_sources": spec.active(i.variant_source),
        "seed": seed,
        "replications": replications,
        "seconds_ensemble": round(seconds_ensemble, 2),
        "seconds_total": round(time.perf_counter() - start, 2),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "bands": {k: int(b.get(k, 0)) for k in ("robust", "likely", "edge", "unlikely")},
        "list_size": {
            "nominal": int((i.nominal_group == "left_behind").sum()),
            "mean": float(res.list_size.mean()),
            "q05": float(np.quantile(res.list_size, 0.05)),
            "q95": float(np.quantile(res.list_size, 0.95)),
        },
        "jaccard_with_nominal": {"mean": float(res.jaccard.mean()), "q05": float(np.quantile(res.jaccard, 0.05))},
        "notes": list(i.notes),
    }
    top = sob[sob["output"] == "jaccard"].sort_values("ST", ascending=False)
    if len(top):
        out["most_important_source"] = {"source": str(top.iloc[0]["source"]), "ST_jaccard": float(top.iloc[0]["ST"])}
    if i.unit == "wd17" and "left_behind_published_2020" in st.wards.columns and opts.imd == "2019":
        w = st.wards.set_index("ward_code")
        p = pd.Series(res.p_left_behind, index=i.codes)
        pub = w["left_behind_published_2020"].reindex(i.codes).fillna(False).astype(bool).to_numpy()
        nominal = i.nominal_group == "left_behind"
        differ = pub != nominal
        out["published_2020"] = {
            "wards": int(pub.sum()),
            "robust": int((p[pub] >= 0.95).sum()),
            "p_at_least_half": int((p[pub] >= 0.5).sum()),
            "share_p_at_least_half": float((p[pub] >= 0.5).mean()),
            "differences": {
                code: {"status": "missed" if pub[k] else "extra", "p_left_behind": float(p.iloc[k])}
                for k, code in enumerate(i.codes)
                if differ[k]
            },
        }
    return out
