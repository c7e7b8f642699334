"""Benchmark: spatial statistics of the designation on an LSOA-sized contiguity graph (warm, in process).

    python bench/bench_spatial.py [--n 33755] [--permutations 999] [--repeat 3] [--esda-global]

Budget: local join counts with 999 permutations over 33,755 areas (LSOA 2021-like planar graph, about
6 neighbours each) in <= 10 s on 2 cores, warm (esda's numba engine compiled beforehand, untimed).
The graph is the Delaunay triangulation of random points (closer to polygon contiguity than a
lattice); about 4% of areas are marked left behind in spatially clustered blobs, about 6% other
deprived, many of them around the blobs. ``--esda-global`` also times
``global_join_counts(engine="esda")`` once (a Python loop over permutations, about 10 s).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import scipy.sparse as sp


def delaunay_graph(n: int, rng: np.random.Generator) -> tuple[sp.csr_matrix, np.ndarray]:
    from scipy.spatial import Delaunay

    pts = rng.random((n, 2))
    s = Delaunay(pts).simplices
    i = np.concatenate([s[:, 0], s[:, 1], s[:, 2]])
    j = np.concatenate([s[:, 1], s[:, 2], s[:, 0]])
    W = sp.coo_matrix((np.ones(i.size, dtype=np.int8), (i, j)), shape=(n, n)).tocsr()
    return ((W + W.T) > 0).astype(np.int8).tocsr(), pts


def designations(pts: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(left behind, other deprived) 0/1 vectors: about 4% left behind in blobs (80% of the 30 areas
    nearest each of ~50 random centres, plus 0.3% scattered singletons); other deprived: half of the
    next ring (areas 31-90 nearest) around each blob, plus 2% scattered, never left behind."""
    from scipy.spatial import cKDTree

    n = pts.shape[0]
    centres = rng.random((round(0.045 * n / 30), 2))
    _, idx = cKDTree(pts).query(centres, k=90)
    y = np.zeros(n, dtype=np.int8)
    core = idx[:, :30].ravel()
    y[core[rng.random(core.size) < 0.8]] = 1
    y[rng.random(n) < 0.003] = 1
    od = np.zeros(n, dtype=np.int8)
    ring = idx[:, 30:].ravel()
    od[ring[rng.random(ring.size) < 0.5]] = 1
    od[rng.random(n) < 0.02] = 1
    od[y == 1] = 0
    return y, od


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=33_755)
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--esda-global", action="store_true")
    args = ap.parse_args()
    from leftbehind.analysis.spatial.stats import (
        bivariate_join_counts,
        components,
        global_join_counts,
        local_join_counts,
        morans_i,
        surrounded,
    )

    rng = np.random.default_rng(20250101)
    t0 = time.perf_counter()
    W, pts = delaunay_graph(args.n, rng)
    y, od = designations(pts, rng)
    field = np.exp(-((pts - 0.3) ** 2).sum(axis=1) / 0.05) + rng.normal(scale=0.3, size=args.n)
    field[rng.random(args.n) < 0.001] = np.nan
    n, P = args.n, args.permutations
    print(
        f"graph: {n:,} areas, {W.nnz // 2:,} joins, {W.nnz / n:.2f} neighbours on average; "
        f"{int(y.sum()):,} left behind ({y.mean():.1%}), {int(od.sum()):,} other deprived "
        f"(built in {time.perf_counter() - t0:.2f} s, untimed)"
    )

    t0 = time.perf_counter()
    local_join_counts(W[:200, :200], np.arange(200) % 2, permutations=9, engine="esda")  # compile esda's numba engine
    print(f"warm-up: esda numba compilation {time.perf_counter() - t0:.1f} s (once per process, untimed)")

    for engine in ("esda", "numpy"):
        med, loc = timed(lambda e=engine: local_join_counts(W, y, permutations=P, seed=1, engine=e), args.repeat)
        sig = int(np.count_nonzero(np.nan_to_num(loc.p_fdr, nan=1.0) < 0.05))
        print(
            f"local join counts ({engine} engine): {n:,} areas, {P} permutations, "
            f"{int(np.count_nonzero(~np.isnan(loc.p))):,} tested, {sig:,} significant after FDR; warm median "
            f"{med:.2f} s over {args.repeat} (budget 10 s: {'PASS' if med <= 10 else 'OVER'})"
        )

    for label, fn in (
        ("global join count bb", lambda: global_join_counts(W, y, permutations=P, seed=2)),
        ("bivariate join count", lambda: bivariate_join_counts(W, y, od, permutations=P, seed=3)),
        ("Moran's I (esda)", lambda: morans_i(W, field, permutations=P, seed=4)),
    ):
        med, res = timed(fn, args.repeat)
        print(
            f"{label}: {n:,} areas, {P} permutations, value {res.value:,.3f} (expected {res.expected:,.3f}, "
            f"z {res.z:.1f}, p {res.p:.3f}); warm median {med:.2f} s over {args.repeat}"
        )
    if args.esda_global:
        med, res = timed(lambda: global_join_counts(W, y, permutations=P, seed=2, engine="esda"), 1)
        print(f"global join count bb (esda engine): value {res.value:,.0f}, p {res.p:.3f}; {med:.2f} s (one run)")

    med, comp = timed(lambda: components(W, y), args.repeat)
    print(f"components: {int(comp.max()):,} clusters of left-behind areas; warm median {med * 1000:.0f} ms")
    med, sur = timed(lambda: surrounded(W, y, share=0.85), args.repeat)
    print(f"surrounded (share 0.85): {int(sur.sum()):,} areas; warm median {med * 1000:.0f} ms")


if __name__ == "__main__":
    main()
