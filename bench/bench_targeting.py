"""Benchmark: evaluating a targeting rule, and profiling custom polygons (warm, in process).

    python bench/bench_targeting.py [--data DIR] [--repeat 5] [--polygons 100]

Budgets (issue 13): a rule at MSOA 2021 or ward 2024 in <= 1 s; 100 custom polygons in <= 5 s.
The unit tables and the LSOA polygons are built once, untimed (that is what "warm" means): the
timed part is what a funder or analyst repeats, rule after rule, area file after area file.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--polygons", type=int, default=100)
    args = ap.parse_args()
    from leftbehind.analysis.current import area_table
    from leftbehind.analysis.profile import lsoa_polygons, profiles, read_areas
    from leftbehind.analysis.targeting import load_rule, select, unit_table
    from leftbehind.context import RunContext
    from leftbehind.editions import edition

    ctx = RunContext(args.data)
    for name, unit in (("pride-in-place", "msoa21"), ("cwf", "msoa21"), ("cwf", "wards24")):
        rule = load_rule(name).model_copy(update={"unit": unit})
        t = unit_table(rule, ctx)
        select(rule, t, ctx)  # warm
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            sel = select(rule, unit_table(rule, ctx), ctx)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        print(
            f"rule {name} at {unit}: {len(sel):,} candidates, {int(sel['selected'].sum())} selected; warm median "
            f"{med * 1000:.0f} ms over {args.repeat} (budget 1 s: {'PASS' if med <= 1 else 'OVER'})"
        )
    import geopandas as gpd

    lsoa = area_table(edition("2025"), 0.10, ctx=ctx)
    polys = lsoa_polygons(ctx)
    msoa = gpd.read_file(f"/vsigzip/{ctx.resolve('boundaries_msoa21').path}", engine="pyogrio")
    pick = msoa.sample(args.polygons, random_state=1).rename(columns={"msoa21_name": "name"})[["name", "geometry"]]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "areas.geojson"
        pick.to_file(path, driver="GeoJSON")
        assert len(polys)
        read_areas(path, ctx)  # warm (points and polygons memoised)
        times = []
        for _ in range(max(1, args.repeat // 2)):
            t0 = time.perf_counter()
            a = read_areas(path, ctx)
            p = profiles(a, lsoa, ctx)
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(
        f"profile {args.polygons} polygons: {len(p)} profiles from {len(a):,} LSOA assignments; "
        f"warm median {med:.2f} s "
        f"(budget 5 s: {'PASS' if med <= 5 else 'OVER'})"
    )


if __name__ == "__main__":
    main()
