"""Benchmark: all six IoD summary measures of IMD 2019 for wards, LADs and constituencies.

Run: .venv/bin/python bench/bench_aggregate.py [--data DIR] [--repeat N]

Times :func:`leftbehind.geography.aggregate.aggregate` warm (inputs loaded, the same call
repeated) beside a naive pandas ``groupby().apply()`` of the same measures, and checks the two
agree. Prints seconds; no thresholds (timings are not tests).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from leftbehind.geography.aggregate import MEASURES, aggregate, extent_weight, national_percentile
from leftbehind.geography.lookups import lsoa_to_area
from leftbehind.geography.population import lsoa_population
from leftbehind.indices.values import small_area_values


def naive(vals: pd.DataFrame, mapping: pd.DataFrame, n: int, code: str = "lsoa11cd") -> pd.DataFrame:
    """The six measures by a plain groupby-apply: the reference leftbehind is checked and timed against."""
    if "weight" not in mapping.columns:
        mapping = mapping.assign(weight=1.0)
    df = mapping.merge(vals, on=code)

    def one(g: pd.DataFrame) -> pd.Series:
        g = g.sort_values("rank", kind="stable")
        w = g["population"] * g["weight"]
        rev = n + 1 - g["rank"]
        target = 0.1 * w.sum()
        before = w.cumsum() - w
        counted = np.minimum(np.maximum(target - before, 0), w)
        return pd.Series(
            {
                "average_score": (w * g["score"]).sum() / w.sum(),
                "average_rank": (w * rev).sum() / w.sum(),
                "extent": (w * extent_weight(national_percentile(g["rank"], n))).sum() / w.sum(),
                "local_concentration": (counted * rev).sum() / target,
                "proportion": (g["weight"] * (np.ceil(10 * g["rank"] / n) == 1)).sum() / g["weight"].sum(),
            }
        )

    return df.groupby("area_code").apply(one, include_groups=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=None)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    t0 = time.perf_counter()
    from leftbehind.context import RunContext

    ctx = RunContext(args.data)
    vals = small_area_values("imd2019", ctx=ctx)
    pop = lsoa_population("mid2019", ctx=ctx)[["lsoa11cd", "pop_total"]]
    vals = vals.merge(pop, on="lsoa11cd").rename(columns={"pop_total": "population"})
    maps = {to: lsoa_to_area(to, ctx=ctx) for to in ("wd17", "lad19", "pcon17")}
    print(f"inputs loaded (IMD 2019, mid-2019 populations, 3 lookups): {time.perf_counter() - t0:.2f} s")
    total_ours = 0.0
    for to, m in maps.items():
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            ours = aggregate(vals, m)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        ref = naive(vals, m, len(vals))
        t_naive = time.perf_counter() - t
        ours_i = ours.set_index("area_code").loc[ref.index]
        diffs = {c: float(np.nanmax(np.abs(ours_i[c].to_numpy() - ref[c].to_numpy()))) for c in MEASURES}
        diff = max(diffs.values())
        med = statistics.median(times)
        total_ours += med
        print(
            f"{to:7s} {len(ours):5,} areas: leftbehind {med * 1000:7.1f} ms (median of {args.repeat}), "
            f"naive groupby-apply {t_naive * 1000:8.1f} ms, {t_naive / med:5.1f}x faster; "
            f"max |difference| {diff:.2e}"
        )
    print(f"all six measures to wards, LADs and constituencies (warm): {total_ours * 1000:.1f} ms")


if __name__ == "__main__":
    main()
