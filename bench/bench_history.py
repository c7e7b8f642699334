"""Benchmark on the real data: `leftbehind history` and `leftbehind spatial`, step by step.

    python bench/bench_history.py [--data DIR] [--repeat 3] [--skip-esda]

Budgets (issue 14): history in <= 10 s warm (the table on LSOA 2011, the ward trajectories and
the cross-tabulation's groups); the typology for k = 3 ... 15 in <= 30 s; local join counts with
999 permutations over the 33,755 LSOAs 2021 in <= 10 s. "Warm" = the parsed-file cache filled by
a first, untimed call; each figure is the median of --repeat calls in one process.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, repeat: int):
    out, secs = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        secs.append(time.perf_counter() - t0)
    return out, statistics.median(secs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-esda", action="store_true", help="skip the esda (numba) engine of the local join counts")
    a = ap.parse_args()

    from leftbehind.analysis.history.build import history_spec, lsoa11_history, ward_trajectories
    from leftbehind.analysis.history.run import _groups_lsoa11, run_typology
    from leftbehind.context import RunContext

    def fresh():
        return RunContext(a.data)

    lsoa11_history(fresh())  # fill the parsed-file cache (untimed)

    def table():
        ctx = fresh()  # a new context each time: no in-memory memo, the on-disk frame cache only
        h = lsoa11_history(ctx)
        ward_trajectories(h, "wd17", ctx=ctx)
        ward_trajectories(h, "wd24", ctx=ctx)
        _groups_lsoa11(h, ctx)
        return h

    h, s_table = timed(table, a.repeat)
    ok = "PASS" if s_table <= 10 else "FAIL"
    print(
        f"history (IMD 2004-2025 on {len(h):,} LSOAs 2011, ward trajectories 2017 and 2024, the groups of the "
        f"cross-tabulation), warm: median {s_table:.2f} s over {a.repeat} (budget 10 s: {ok})"
    )
    total_typ = 0.0
    for name, keys in history_spec().sequences.items():
        (typ, ids, *_rest), s = timed(lambda keys=keys, name=name: run_typology(h, name, keys, range(3, 16), 2024), 1)
        total_typ += s
        print(
            f"typology {name}: {int((ids > 0).sum()):,} LSOAs, {len(typ.weights):,} distinct sequences, "
            f"k = 3...15 (10 k-medoids starts each): {s:.2f} s (OM {typ.timings['distances']:.2f} s, "
            f"PAM {typ.timings['pam']:.2f} s, "
            f"silhouettes {typ.timings['silhouette']:.2f} s); best k {typ.best_k}"
        )
    print(f"typology, both sequences: {total_typ:.2f} s (budget 30 s: {'PASS' if total_typ <= 30 else 'FAIL'})")

    import numpy as np

    from leftbehind.analysis.spatial import stats
    from leftbehind.analysis.spatial.run import spatial, unit_areas
    from leftbehind.analysis.spatial.weights import unit_contiguity

    ctx = fresh()
    areas = unit_areas(ctx, "2025", "lsoa21")
    con, s_w = timed(lambda: unit_contiguity(ctx, "lsoa21", areas["area_code"].to_numpy()), a.repeat)
    print(f"contiguity weights, {len(areas):,} LSOAs 2021 (queen, from the polygons): median {s_w:.2f} s")
    y = (areas["group"] == "left_behind").to_numpy().astype("int64")
    engines = ["numpy"] + ([] if a.skip_esda else ["esda"])
    for engine in engines:
        if engine == "esda":
            t0 = time.perf_counter()
            stats.local_join_counts(con.W, y, permutations=99, seed=1, engine="esda")
            print(
                f"  esda numba compilation (first call in the process, untimed below): {time.perf_counter() - t0:.1f} s"
            )
        res, s = timed(lambda engine=engine: stats.local_join_counts(con.W, y, 999, 1, engine=engine), a.repeat)
        sig = int(np.nansum(res.p_fdr < 0.05))
        ok = "PASS" if s <= 10 else "FAIL"
        print(
            f"local join counts ({engine} engine): {len(y):,} LSOAs, {int(y.sum()):,} left behind, 999 permutations, "
            f"{sig:,} significant after FDR: median {s:.2f} s (budget 10 s: {ok})"
        )
    _, s_all = timed(lambda: spatial(fresh(), edition="2025", unit="lsoa21", draw_map=False), 1)
    _, s_map = timed(lambda: spatial(fresh(), edition="2025", unit="lsoa21", draw_map=True), 1)
    _, s_w17 = timed(lambda: spatial(fresh(), edition="2020", unit="ward17", draw_map=True), 1)
    print(
        f"spatial, whole step at LSOA 2021 (areas, weights, five global statistics, local, clusters): {s_all:.2f} s; "
        f"with the map {s_map:.2f} s; wards 2017 with the map {s_w17:.2f} s"
    )


if __name__ == "__main__":
    main()
