"""Benchmark: load every IoD2019 file and rebuild the IMD, cold (fresh process) and warm.

Run: .venv/bin/python bench/bench_load_and_rebuild.py [--data DIR] [--repeat N]

'cold' = a fresh Python process with an empty cache folder: imports, checksums, parsing and
validation, build.
'warm' = the same process again: checksums and frames are memoised, so only the build and
the copies of the memoised frames are timed. Prints seconds; no thresholds (timings are
not tests).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

IOD2019 = ["imd2019_file1", "imd2019_file2", "imd2019_file4", "imd2019_file6", "imd2019_file8"]

CHILD = """
import json, sys, time
t0 = time.perf_counter()
from leftbehind.context import RunContext
from leftbehind.indices.build import build_index
from leftbehind.indices.spec import load_spec
t_import = time.perf_counter() - t0
data = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None
ctx = RunContext(data)  # one run context: warm loads come from its memo
ids = %r
def once():
    t = time.perf_counter()
    frames = {i: ctx.load(i) for i in ids}
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    spec = load_spec("imd2019")
    built = build_index(spec, frames[spec.source])
    t_build = time.perf_counter() - t
    return t_load, t_build, sum(len(f) for f in frames.values()), len(built)
cold = once()
warm = [once() for _ in range(%d)]
print(json.dumps({"import": t_import, "cold": cold, "warm": warm}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default="")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--processes", type=int, default=3, help="fresh processes for the cold figure")
    args = ap.parse_args()
    colds, warms, imports = [], [], []
    for _ in range(args.processes):
        out = subprocess.run(
            [sys.executable, "-c", CHILD % (IOD2019, args.repeat), args.data],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout)
        imports.append(r["import"])
        colds.append(r["cold"])
        warms += r["warm"]
    rows, built = colds[0][2], colds[0][3]
    print(f"IoD2019 files loaded: {len(IOD2019)} ({rows:,} rows in all); IMD 2019 rebuilt for {built:,} LSOAs")
    print(f"import leftbehind + pandas:         median {statistics.median(imports):.3f} s")
    print(
        f"cold load (checksum+parse+validate): median {statistics.median(c[0] for c in colds):.3f} s "
        f"over {len(colds)} fresh processes"
    )
    print(f"cold IMD rebuild:                    median {statistics.median(c[1] for c in colds):.4f} s")
    print(
        f"warm load (memoised):                median {statistics.median(w[0] for w in warms):.4f} s "
        f"over {len(warms)} repeats"
    )
    print(f"warm IMD rebuild:                    median {statistics.median(w[1] for w in warms):.4f} s")
    print(f"total cold (load + rebuild):         median {statistics.median(c[0] + c[1] for c in colds):.3f} s")
    print(f"total warm (load + rebuild):         median {statistics.median(w[0] + w[1] for w in warms):.4f} s")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"(benchmark wall time {time.perf_counter() - t:.1f} s)")
