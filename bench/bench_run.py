"""Benchmark: the whole `leftbehind run`, warm and cold, and `leftbehind --help`, each in fresh
processes; optionally the ward-IMD step against a naive pandas groupby-apply.

Run: .venv/bin/python bench/bench_run.py [--data DIR] [--repeat 3] [--edition 2025] [--src DIR] [--ward-step]

Budgets (issue 19, item 9), for the default run (its certainty columns included):

* warm <= 4 s: a fresh process with the cache folder a previous run left (``LEFTBEHIND_CACHE``:
  validated frames, ward and index builds, the ensemble's results);
* cold <= 10 s: a fresh process with an empty cache folder (every file parsed and validated,
  every derived value computed, the ward shapes built);
* ``leftbehind --help`` <= 0.2 s.

Each is timed ``--repeat`` times (every cold run gets its own empty folder); min and median
wall-clock seconds are printed with the peak resident memory of the run's process (ru_maxrss
from ``wait4``), and PASS/OVER against the budget of the median. ``--src`` times another
checkout's ``src`` (e.g. a ``git worktree`` of the base commit) with this interpreter, for a
before/after on one machine. Timings on a shared machine are noisy: compare medians of several
runs; nothing is asserted (timings are not tests).

``--ward-step``: for IMD 2019 and IMD 2015, leftbehind's vectorised aggregation (population-
weighted mean score of Output Areas per ward, plus the other five measures) vs a naive
``groupby().apply()`` computing only the weighted mean, in one process, inputs loaded.
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

ROOT = Path(__file__).resolve().parents[1]
BUDGET = {"warm": 4.0, "cold": 10.0, "help": 0.2}


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak resident MiB) of one fresh process; a failure stops the benchmark."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{tail}")
    return wall, usage.ru_maxrss / 1024  # Linux: KiB


def report(label: str, runs: list[tuple[float, float]], budget: float) -> None:
    times = [t for t, _ in runs]
    med = statistics.median(times)
    print(
        f"{label}: min {min(times):.2f} s, median {med:.2f} s over {len(times)} runs "
        f"(budget {budget:g} s: {'PASS' if med <= budget else 'OVER'}); "
        f"peak memory {max(m for _, m in runs):,.0f} MiB; "
        f"each run {', '.join(f'{t:.2f}' for t in times)} s"
    )


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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="data folder (default: ../shared/data)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each kind (default 3)")
    ap.add_argument("--edition", default=None, help="also pass --edition (e.g. 2025)")
    ap.add_argument("--src", default=None, help="time this checkout's src folder instead of the installed package")
    ap.add_argument("--ward-step", action="store_true", help="also time the ward-IMD step against a naive groupby")
    args = ap.parse_args()
    extra = [*(["--data", args.data] if args.data else []), *(["--edition", args.edition] if args.edition else [])]
    base_env = dict(os.environ, COLUMNS="200")
    base_env.pop("LEFTBEHIND_NO_FRAME_CACHE", None)
    if args.src:
        base_env["PYTHONPATH"] = str(Path(args.src).resolve())
    script = Path(sys.executable).with_name("leftbehind")  # the console script users run
    cli = [str(script)] if script.is_file() and not args.src else [sys.executable, "-m", "leftbehind.cli"]
    what = f"leftbehind run{' ' + ' '.join(extra) if extra else ''}" + (f" (src {args.src})" if args.src else "")
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        tmp = Path(tmp)
        out = ["--out", str(tmp / "out"), *extra]
        report(
            "leftbehind --help",
            [timed([*cli, "--help"], dict(base_env, LEFTBEHIND_CACHE=str(tmp / "help"))) for _ in range(args.repeat)],
            BUDGET["help"],
        )
        cold = []
        for i in range(args.repeat):  # each cold run in its own empty cache folder
            cold.append(timed([*cli, "run", *out], dict(base_env, LEFTBEHIND_CACHE=str(tmp / f"cache-{i}"))))
        warm_env = dict(base_env, LEFTBEHIND_CACHE=str(tmp / "cache-0"))  # filled by the first cold run
        warm = [timed([*cli, "run", *out], warm_env) for _ in range(args.repeat)]
        report(f"{what}, cold (empty cache folder, fresh process)", cold, BUDGET["cold"])
        report(f"{what}, warm (cache left by a run, fresh process)", warm, BUDGET["warm"])
    if args.ward_step:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        ward_step(args.data, 5)


if __name__ == "__main__":
    main()
