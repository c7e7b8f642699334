"""Benchmark: the whole `leftbehind run`, cold and warm, and the ward-IMD step against a naive
pandas groupby-apply of the same computation.

Run: .venv/bin/python bench/bench_run.py [--data DIR]

* cold: a fresh process with an empty cache folder (every file parsed and validated);
* warm: a fresh process with the cache left by the cold run (validated frames read from Parquet);
* ward IMD: for IMD 2019 and IMD 2015, leftbehind's vectorised aggregation (population-weighted
  mean score of Output Areas per ward, plus the other five measures) vs a naive
  ``groupby().apply()`` computing only the weighted mean, in one process, inputs loaded.
Prints seconds and the speed-up; no thresholds (timings are not tests).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_run(args: list[str], env: dict[str, str]) -> float:
    exe = Path(sys.executable).with_name("leftbehind")
    t = time.perf_counter()
    subprocess.run([str(exe), "run", *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - t


def ward_step(data, repeat: int) -> None:
    import numpy as np

    from leftbehind.context import RunContext

    ctx = RunContext(data)

    from bench_aggregate import naive  # same folder: the reference implementation
    from leftbehind.geography.aggregate import MEASURES, aggregate
    from leftbehind.geography.wards import small_areas_for_wards

    for imd in ("imd2019", "imd2015"):
        vals, mapping, code = small_areas_for_wards(imd, "oa", "census2011", ctx=ctx)
        ours = []
        for _ in range(repeat):
            t = time.perf_counter()
            res = aggregate(vals, mapping, code=code, n=32_844)
            ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        ref = naive(vals, mapping, 32_844, code=code)
        t_naive = time.perf_counter() - t
        got = res.set_index("area_code").loc[ref.index]
        diff = max(float(np.nanmax(np.abs(got[c].to_numpy() - ref[c].to_numpy()))) for c in MEASURES)
        med = statistics.median(ours)
        print(
            f"ward IMD {imd} ({len(vals):,} Output Areas -> {len(res):,} wards, six measures): leftbehind "
            f"{med * 1000:.1f} ms (median of {repeat}); naive groupby-apply {t_naive:.2f} s; "
            f"{t_naive / med:.0f}x faster; max |difference| {diff:.1e}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    extra = ["--data", args.data] if args.data else []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LEFTBEHIND_CACHE=str(Path(tmp) / "cache"))
        out = ["--out", str(Path(tmp) / "out"), *extra]
        cold = timed_run(out, env)
        warm = [timed_run(out, env) for _ in range(args.repeat)]
    print(f"leftbehind run, cold (empty cache, fresh process): {cold:.2f} s")
    print(
        f"leftbehind run, warm (cached validated frames, fresh process): median {statistics.median(warm):.2f} s "
        f"over {args.repeat} runs"
    )
    ward_step(args.data, 5)


if __name__ == "__main__":
    main()
