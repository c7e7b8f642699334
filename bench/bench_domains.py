"""Benchmark: rebuild every IoD2025 domain or sub-domain available from File 8 (target under 2 s).

Run: .venv/bin/python bench/bench_domains.py [--data DIR] [--repeat N]

Times each shipped File 8 spec (normal scores, weights estimated where the spec says so,
combination, ranks, deciles, comparison with the published values) with the input already
loaded, and the total. Prints seconds; no thresholds.
"""

from __future__ import annotations

import argparse
import statistics
import time

from leftbehind.indices.build import build_spec
from leftbehind.indices.spec import load_spec, shipped_specs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=None)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    names = [n for n in shipped_specs() if load_spec(n).source == "iod2025_file8"]
    t = time.perf_counter()
    from leftbehind.context import RunContext

    ctx = RunContext(args.data)
    ctx.load("iod2025_file8"), ctx.load("iod2025_scores"), ctx.load("iod2025_subdomains")
    print(f"inputs loaded: {time.perf_counter() - t:.2f} s")
    total = 0.0
    for name in names:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            spec, built, fit = build_spec(name, ctx=ctx)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        total += med
        figs = ", ".join(f"{k} {v:.6f}" for k, v in fit.figures.items() if k in ("spearman", "score_max_abs_diff"))
        print(f"{name:24s} {med * 1000:7.1f} ms  ({spec.weighting} weights; {figs})")
    print(f"all {len(names)} IoD2025 File 8 rebuilds: {total:.2f} s (median per spec, summed)")


if __name__ == "__main__":
    main()
