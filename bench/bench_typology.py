"""Benchmark: the IMD decile sequence typology (OM distances, weighted PAM, silhouettes).

    python bench/bench_typology.py [--data DIR] [--rows 32840] [--n-init 10] [--skip-t6]
                                   [--t6-stay 0.7] [--t6-neighbour 0.12] [--dtype6 float32] [--n-cpu6 1]

Budget (the typology brief): T = 3 on ~32,840 rows, k = 3 … 15, in <= 30 s on 2 cores (ideally a
few seconds); T = 6 with ks = (6,) within memory. Two length-3 sets: a Markov chain on the ten
deciles with strong persistence (stay 0.7, each neighbour 0.12) and, when the mirror has them,
the real IMD 2015 and 2019 deciles with a third edition made from 2019 by a random step of at
most one decile (IMD 2010 on LSOA 2011 comes from ``leftbehind history``). Then T = 6 from the
same chain (lower ``--t6-stay`` gives more unique sequences: stay 0.35, neighbour 0.2 give ~24,000).
Each step is timed on its own, then the whole :func:`typology`; peak memory is the process's.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def markov(n: int, t: int, seed: int = 0, stay: float = 0.7, neighbour: float = 0.12, states: int = 10):
    """n sequences of length t: uniform first decile, then stay / ±1 / any other decile."""
    rng = np.random.default_rng(seed)
    p = np.zeros((states, states))
    for i in range(states):
        p[i, i] = stay
        for j in (i - 1, i + 1):
            if 0 <= j < states:
                p[i, j] = neighbour
        far = [j for j in range(states) if abs(j - i) > 1]
        p[i, far] += (1 - p[i].sum()) / len(far)
    cum = p.cumsum(axis=1)
    x = np.empty((n, t), dtype=np.int64)
    x[:, 0] = rng.integers(0, states, n)
    for k in range(1, t):
        x[:, k] = (rng.random(n)[:, None] > cum[x[:, k - 1]]).sum(axis=1)
    return np.minimum(x, states - 1) + 1


def real_deciles(data: Path, seed: int = 0):
    """(IMD 2015, IMD 2019, IMD 2019 ± a random step) deciles per LSOA 2011, or None."""
    import pandas as pd

    f15 = data / "imd2015" / "imd2015_lsoa11_england_score_rank_decile.csv"
    f19 = data / "imd2019" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
    if not (f15.is_file() and f19.is_file()):
        return None
    a = pd.read_csv(f15, usecols=["lsoa11_code", "IMD_decile"]).set_axis(["code", "d15"], axis=1)
    b = pd.read_csv(f19, encoding="utf-8-sig").iloc[:, [0, -1]].set_axis(["code", "d19"], axis=1)
    m = a.merge(b, on="code").dropna()
    rng = np.random.default_rng(seed)
    step = rng.choice([-1, 0, 1], size=len(m), p=[0.15, 0.7, 0.15])
    d3 = np.clip(m["d19"].to_numpy() + step, 1, 10)
    return np.column_stack([m["d15"].to_numpy(), m["d19"].to_numpy(), d3]).astype(np.int64)


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KB on Linux


def steps(name: str, seqs: np.ndarray, ks, dtype=np.float64, n_init: int = 10, n_cpu: int = 1) -> None:
    from leftbehind.analysis.history.sequence import (
        om_distances,
        transition_rate_costs,
        typology,
        unique_sequences,
        weighted_pam,
        weighted_silhouette,
    )

    t0 = time.perf_counter()
    uniq, w, _ = unique_sequences(seqs)
    costs = transition_rate_costs(uniq, w)
    t1 = time.perf_counter()
    d = om_distances(uniq, costs, dtype=dtype)
    t2 = time.perf_counter()
    sols = {k: weighted_pam(d, w, k, n_init=n_init, sequences=uniq, n_cpu=n_cpu) for k in ks}
    t3 = time.perf_counter()
    for k in ks:
        weighted_silhouette(d, w, sols[k].labels)
    t4 = time.perf_counter()
    u = len(uniq)
    print(
        f"{name}: {len(seqs):,} rows × T = {seqs.shape[1]}, u = {u:,} unique sequences "
        f"(distances {d.nbytes / 2**30:.2f} GiB {np.dtype(dtype).name})"
    )
    print(
        f"  unique + costs {t1 - t0:.3f} s; OM {t2 - t1:.2f} s; PAM k = {min(ks)}…{max(ks)} "
        f"({len(ks)} k, {n_init} random starts + BUILD each, {n_cpu} thread(s)) "
        f"{t3 - t2:.2f} s; silhouettes {t4 - t3:.2f} s; "
        f"sum {t4 - t0:.2f} s"
    )
    del d
    t = typology(seqs, ks=ks, k_export=6 if 6 in ks else min(ks), dtype=dtype, n_init=n_init, n_cpu=n_cpu)
    tm = t.timings
    print(
        f"  typology(): total {tm['total']:.2f} s (OM {tm['distances']:.2f} s, PAM {tm['pam']:.2f} s, "
        f"silhouettes {tm['silhouette']:.2f} s); best k = {t.best_k} "
        f"(ASW {t.silhouettes[t.best_k]:.3f}); peak RSS so far {peak_gb():.2f} GiB"
    )
    print("  ASW by k: " + ", ".join(f"{k}: {s:.3f}" for k, s in t.silhouettes.items()))
    k6 = 6 if 6 in ks else t.best_k
    print(f"  k = {k6}: " + "; ".join(t.names(k6)))
    verdict = "PASS" if tm["total"] <= 30 else "OVER"
    if seqs.shape[1] == 3:
        print(f"  budget 30 s for T = 3: {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--rows", type=int, default=32_840)
    ap.add_argument("--t6-stay", type=float, default=0.7)
    ap.add_argument("--t6-neighbour", type=float, default=0.12)
    ap.add_argument("--dtype6", default="float32", choices=["float32", "float64"])
    ap.add_argument("--n-init", type=int, default=10)
    ap.add_argument("--n-cpu6", type=int, default=1, help="FasterPAM threads for T = 6 (1: reproducible)")
    ap.add_argument("--skip-t6", action="store_true")
    args = ap.parse_args()
    ks = tuple(range(3, 16))
    steps("Markov chain, T = 3", markov(args.rows, 3), ks, n_init=args.n_init)
    real = real_deciles(Path(args.data))
    if real is None:
        print(f"real deciles: not found under {args.data} (skipped)")
    else:
        steps("IMD 2015, 2019, 2019 ± 1 (real, third edition synthetic), T = 3", real, ks, n_init=args.n_init)
    if not args.skip_t6:
        seqs = markov(args.rows, 6, stay=args.t6_stay, neighbour=args.t6_neighbour)
        name = f"Markov chain (stay {args.t6_stay}, neighbour {args.t6_neighbour}), T = 6"
        steps(name, seqs, (6,), dtype=np.dtype(args.dtype6).type, n_init=args.n_init, n_cpu=args.n_cpu6)


if __name__ == "__main__":
    main()
