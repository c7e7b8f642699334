"""Benchmark: the uncertainty ensemble (10,000 replications) for the 2020 wards and the LSOAs 2021,
its peak memory, its speed-up over a naive per-replication loop, and the Sobol analysis.

Run: .venv/bin/python bench/bench_robustness.py [--data DIR] [--repeat N] [--naive-reps N]
     [--seed S] [--only wards|lsoa21|both]

Everything is warm: the data are loaded and the ensemble inputs built (``ward_inputs``,
``lsoa21_inputs``) outside the timed regions, and one untimed ``run_ensemble`` fills the
per-variant caches (the W matrices, the noise sds). Per unit it prints:

* the warm time of ``run_ensemble(inputs, spec, 10_000, seed)``: min and median of ``--repeat``
  runs, against the budget (5 s for wards, 10 s for LSOAs);
* the peak memory of one such run, from ``tracemalloc`` (numpy reports its buffers to it), and
  the process's ``ru_maxrss`` (its lifetime high-water mark, data loading included), against
  2 GB;
* a naive baseline over the first ``--naive-reps`` replications of the same draws: per
  replication, float64 scores in plain numpy with fresh noise, full ranks
  (``scipy.stats.rankdata``), a DataFrame classified by ``leftbehind.analysis.leftbehind.classify``
  with that replication's cut-offs; extrapolated to 10,000 replications and set beside the
  ensemble (the whole ensemble, and its score + classify core on the same replications), with
  the mean list size of both as a sanity check (the noise differs, so they agree only roughly);
* the Sobol analysis (``sobol_indices``; 1,024 base samples for wards, 512 for LSOAs): seconds
  and replications.

Budgets are printed as PASS/OVER; nothing is asserted (timings are not tests).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd
from scipy import stats

REPLICATIONS = 10_000
BUDGET_S = {"wd17": 5.0, "lsoa21": 10.0}
BUDGET_MB = 2048.0
SOBOL_N = {"wd17": 1024, "lsoa21": 512}
LABEL = {"wd17": "wards", "lsoa21": "LSOAs 2021"}


def verdict(value: float, budget: float) -> str:
    return "PASS" if value <= budget else "OVER"


def build_inputs(which: str, data):
    """{unit: EnsembleInputs}, built once (outside every timed region)."""
    from leftbehind.analysis.current import area_table
    from leftbehind.analysis.pipeline import build_wards
    from leftbehind.analysis.robustness.inputs import lsoa21_inputs, ward_inputs
    from leftbehind.analysis.robustness.spec import load_spec
    from leftbehind.context import RunContext
    from leftbehind.editions import edition
    from leftbehind.options import make_run_options

    ctx = RunContext(data_dir=data)
    spec = load_spec()
    out = {}
    if which in ("wards", "both"):
        t = time.perf_counter()
        opts = make_run_options()
        wards, _ = build_wards(opts, edition("2020"), ctx=ctx)
        out["wd17"] = ward_inputs(ctx, opts, wards, spec)
        print(f"inputs (wards): data loaded and ensemble inputs built in {time.perf_counter() - t:.2f} s")
    if which in ("lsoa21", "both"):
        t = time.perf_counter()
        cur = area_table(edition("2025"), 0.10, ctx=ctx)
        out["lsoa21"] = lsoa21_inputs(ctx, make_run_options(edition="2025"), cur, spec)
        print(f"inputs (LSOAs 2021): data loaded and ensemble inputs built in {time.perf_counter() - t:.2f} s")
    return spec, out


def naive_sizes(inputs, d, rank_sd: float, seed: int) -> np.ndarray:
    """List size of each replication of ``d``, the naive way: one replication at a time, float64
    scores, fresh noise, full ranks, a DataFrame classified by the per-table ``classify``."""
    from leftbehind.analysis.leftbehind import classify

    rng = np.random.default_rng(seed)
    n = inputs.n
    cni_sd = inputs.cni_sd(rank_sd).astype("float64") if d.noise else None
    sizes = np.empty(len(d), dtype=np.int64)
    for i in range(len(d)):
        cni = inputs.cni_base.copy()
        if d.vary_cni:
            cni = cni + (d.w_cni[i] - 1.0) @ inputs.cni_X.T
        if d.noise:
            cni = cni + rng.standard_normal(n) * cni_sd
        var = inputs.variants[d.variant[i]]
        imd = var.base.copy()
        if d.vary_imd and len(var.w0) > 1:
            imd = imd + (d.w_imd[i][: len(var.w0)] - var.w0) @ var.W().T
        if d.noise:
            imd = imd + rng.standard_normal(n) * var.sd(rank_sd).astype("float64")
        has = np.isfinite(imd)
        imd_rank = np.full(n, np.nan)
        imd_rank[has] = stats.rankdata(-imd[has], method="min")
        df = pd.DataFrame({"cni_rank": stats.rankdata(-cni, method="min"), "imd_rank": imd_rank})
        out = classify(df, inputs.threshold, n=n, k_cni=int(d.k_cni[i]), k_imd=int(d.k_imd[i]))
        sizes[i] = int((out["group"] == "left_behind").sum())
    return sizes


def bench_unit(unit: str, inputs, spec, args) -> None:
    from leftbehind.analysis.robustness.ensemble import NoisePool, classify_batch, draw, run_ensemble, scores
    from leftbehind.analysis.robustness.sensitivity import _groups, sobol_indices

    label = f"{LABEL[unit]} {inputs.n:,}"
    rank_sd = spec.sources.noise.rank_sd

    # 1. warm time of the full ensemble
    t = time.perf_counter()
    res = run_ensemble(inputs, spec, REPLICATIONS, args.seed)
    first = time.perf_counter() - t
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        run_ensemble(inputs, spec, REPLICATIONS, args.seed)
        times.append(time.perf_counter() - t)
    t_min, t_med = min(times), statistics.median(times)
    budget = BUDGET_S[unit]
    print(
        f"{label}: {REPLICATIONS:,} replications warm min {t_min:.2f} s median {t_med:.2f} s over {args.repeat} "
        f"runs (budget {budget:g} s: {verdict(t_med, budget)}); each run {', '.join(f'{x:.2f}' for x in times)} s; "
        f"first run, filling the caches, {first:.2f} s"
    )

    # 2. peak memory of one run
    tracemalloc.start()
    tracemalloc.reset_peak()
    run_ensemble(inputs, spec, REPLICATIONS, args.seed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mb = peak / 2**20
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(
        f"{label}: peak memory of one {REPLICATIONS:,}-replication run (tracemalloc) {peak_mb:,.0f} MB "
        f"(budget {BUDGET_MB:,.0f} MB: {verdict(peak_mb, BUDGET_MB)}); process ru_maxrss so far "
        f"{rss_mb:,.0f} MB (data loading included; {verdict(rss_mb, BUDGET_MB)})"
    )

    # 3. naive per-replication loop over the same draws
    d = draw(inputs, spec, REPLICATIONS, args.seed)
    m = min(args.naive_reps, REPLICATIONS)
    dd = d.rows(np.arange(m))
    t = time.perf_counter()
    naive = naive_sizes(inputs, dd, rank_sd, args.seed)
    t_naive = time.perf_counter() - t
    naive_10k = t_naive * REPLICATIONS / m
    pool = NoisePool(inputs.n, args.seed) if dd.noise else None
    t = time.perf_counter()
    lb, _ = classify_batch(inputs, dd, *scores(inputs, dd, pool, rank_sd))
    t_core = time.perf_counter() - t
    core_10k = t_core * REPLICATIONS / m
    vec = lb.sum(axis=1)
    same = np.array_equal(vec, res.list_size[:m])
    print(
        f"{label}: naive per-replication loop {t_naive:.2f} s for {m:,} replications -> {naive_10k:,.0f} s "
        f"for {REPLICATIONS:,} (extrapolated); vectorised ensemble {t_med:.2f} s (median): "
        f"{naive_10k / t_med:,.0f}x faster"
    )
    print(
        f"{label}: like for like (scores + classification only, same {m:,} replications, one batch, no "
        f"thread pool): vectorised {t_core * 1000:.0f} ms vs naive {t_naive * 1000:,.0f} ms, "
        f"{t_naive / t_core:,.0f}x faster (-> {core_10k:.2f} s per {REPLICATIONS:,})"
    )
    print(
        f"{label}: mean list size over those {m:,} replications: naive {naive.mean():.1f}, vectorised "
        f"{vec.mean():.1f} ({100 * (naive.mean() / vec.mean() - 1):+.1f}%; the noise differs); "
        f"vectorised batch = ensemble's list sizes: {'yes' if same else 'NO'}"
    )

    # 4. Sobol analysis
    n_base = SOBOL_N[unit]
    groups = _groups(inputs, spec)
    t = time.perf_counter()
    sob = sobol_indices(inputs, spec, n_base, args.seed)
    t_sob = time.perf_counter() - t
    reps = int(sob["replications"].iloc[0]) if len(sob) else 0
    print(
        f"{label}: Sobol indices, {n_base:,} base samples x ({len(groups)} groups + 2) = {reps:,} replications "
        f"in {t_sob:.2f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--naive-reps", type=int, default=100)
    ap.add_argument("--seed", type=int, default=20201)
    ap.add_argument("--only", choices=("wards", "lsoa21", "both"), default="both")
    args = ap.parse_args()
    t0 = time.perf_counter()
    spec, inputs = build_inputs(args.only, args.data)
    for unit, inp in inputs.items():
        bench_unit(unit, inp, spec, args)
    print(f"benchmark total (inputs included): {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
