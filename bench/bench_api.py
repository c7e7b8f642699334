"""Benchmark: the served API under load (``leftbehind serve`` on loopback, measured with wrk).

    python bench/bench_api.py [--out DIR] [--duration 10] [--connections 50] [--threads 2] [--workers N]

Starts ``leftbehind serve --out DIR`` on a free loopback port (DIR: a finished run; without --out,
/tmp/bench_run, made with ``leftbehind run --out /tmp/bench_run --skip-indices`` if it holds no
run), waits for /health, then runs ``wrk -t2 -c50 -d10s --latency`` on each endpoint and prints
requests per second and the median and 99th-percentile latency beside the targets:

* every endpoint at least 3,000 requests/s with p99 <= 50 ms;
* every data endpoint at least half the /health rate of the same run.

Endpoints with a path parameter are asked for many codes in turn (a wrk Lua script), not one,
and each endpoint gets a short warm-up first (not counted). Endpoints of the 2025 edition and
of the later commands are measured when the folder has their tables. The report page is
measured too (compressed, as a browser asks for it), for information: it is a 0.5 MB transfer,
not an API call, and the targets are not applied to it. The server is stopped at the end.

wrk is a Debian package (``apt-get install -y wrk``); without it the benchmark says so and stops.
Other processes on the machine lower the figures: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RPS = 3000
TARGET_P99_MS = 50.0
# the figures of issue 15 ("today", before this work), same machine, same wrk settings
BEFORE = {
    "/health": (1871, 60.0),
    "/api/wards/{code}": (343, 223.0),
    "/api/lads/{code}": (346, None),
    "/api/wards?limit=50": (1279, None),
    "/api/regions": (863, None),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (loopback only)
        return json.loads(r.read())


def ensure_run(out: Path | None) -> Path:
    if out is not None:
        if not (out / "summary.json").is_file():
            sys.exit(f"{out} holds no finished run (run `leftbehind run --out {out}` first)")
        return out
    out = Path("/tmp/bench_run")
    if not (out / "summary.json").is_file():
        print(f"no run in {out}: leftbehind run --out {out} --skip-indices", flush=True)
        subprocess.run(
            [sys.executable, "-m", "leftbehind.cli", "run", "--out", str(out), "--skip-indices"],
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
    return out


def start_server(out: Path, port: int, workers: int | None, log) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "leftbehind.cli", "serve", "--out", str(out), "--port", str(port)]
    if workers:
        cmd += ["--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            sys.exit(f"leftbehind serve exited ({proc.returncode}):\n{log.read().decode(errors='replace')}")
        try:
            get_json(f"http://127.0.0.1:{port}/health", timeout=2)
            return proc
        except (OSError, ValueError):
            time.sleep(0.3)
    proc.terminate()
    sys.exit("leftbehind serve did not answer /health within 180 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


LUA = """
local paths = {%s}
local i = 0
%s
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def lua_script(paths: list[str], headers: dict[str, str], folder: Path, name: str) -> Path:
    quoted = ", ".join(json.dumps(p) for p in paths)  # JSON strings are valid Lua strings here
    hdrs = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    path = folder / f"{re.sub(r'[^A-Za-z0-9]+', '_', name)}.lua"
    path.write_text(LUA % (quoted, hdrs), encoding="utf-8")
    return path


UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    return float(m.group(1)) * UNIT[m.group(2)] if m else float("nan")


def parse_wrk(output: str) -> dict:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    transfer = re.search(r"Transfer/sec:\s+(\S+)", output)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50_ms": _ms(p50.group(1)) if p50 else float("nan"),
        "p99_ms": _ms(p99.group(1)) if p99 else float("nan"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(0) if errors else "",
        "transfer": transfer.group(1) if transfer else "",
    }


def wrk(url: str, script: Path | None, args, seconds: float) -> dict:
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s", "--latency", "--timeout", "5s"]
    if script is not None:
        cmd += ["-s", str(script)]
    res = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60)
    return parse_wrk(res.stdout)


def endpoints(base: str) -> list[tuple[str, list[str], dict, str]]:
    """(name, paths, request headers, kind) for what the served folder holds; kind: health, data or page."""
    tables = {t["name"]: t for t in get_json(base + "/api/tables")["items"]}
    lads = [i["area_code"] for i in get_json(base + "/api/lads?limit=1000")["items"]]
    wards = [i["ward_code"] for i in get_json(base + "/api/wards?limit=1000&offset=2000")["items"]][:500]
    names = sorted({i["ward_name"] for i in get_json(base + "/api/wards?limit=1000")["items"]})[:200]
    out = [
        ("/health", ["/health"], {}, "health"),
        ("/api/summary", ["/api/summary"], {}, "data"),
        ("/api/regions", ["/api/regions"], {}, "data"),
        ("/api/lads", ["/api/lads"], {}, "data"),
        (f"/api/lads/{{code}} ({len(lads)} codes)", [f"/api/lads/{c}" for c in lads], {}, "data"),
        ("/api/wards?limit=50", ["/api/wards?limit=50"], {}, "data"),
        ("/api/wards?limit=50 (gzip)", ["/api/wards?limit=50"], {"Accept-Encoding": "gzip"}, "data"),
        (f"/api/wards/{{code}} ({len(wards)} codes)", [f"/api/wards/{c}" for c in wards], {}, "data"),
        (
            f"/api/wards?q=... ({len(names)} searches)",
            [f"/api/wards?q={urllib.parse.quote(n)}" for n in names],
            {},
            "data",
        ),
        (
            "/api/wards?region=&group= (filters)",
            ["/api/wards?region=North%20East&group=left_behind&limit=100"],
            {},
            "data",
        ),
        ("/api/wards?format=csv&limit=1000", ["/api/wards?format=csv&limit=1000"], {}, "data"),
        ("/api/tables", ["/api/tables"], {}, "data"),
        ("/api/tables/wards?limit=100", ["/api/tables/wards?limit=100"], {}, "data"),
    ]
    if "lsoa21" in tables:
        codes = [i["lsoa21_code"] for i in get_json(base + "/api/units/lsoa21?limit=500")["items"]]
        out += [
            ("/api/units/lsoa21?limit=50", ["/api/units/lsoa21?limit=50"], {}, "data"),
            (f"/api/units/lsoa21/{{code}} ({len(codes)} codes)", [f"/api/units/lsoa21/{c}" for c in codes], {}, "data"),
            ("/api/current/lads/{code}", [f"/api/current/lads/{c}" for c in lads[:100]], {}, "data"),
        ]
    for name, path in (
        ("robustness_areas", "/api/robustness/areas?limit=50"),
        ("target_selection", "/api/selection?selected=true"),
        ("history_lsoa11", "/api/history/lsoa11?limit=50"),
        ("spatial_clusters", "/api/spatial/clusters"),
    ):
        if name in tables:
            out.append((path, [path], {}, "data"))
    out.append(("/ (the report page, gzip)", ["/"], {"Accept-Encoding": "gzip"}, "page"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="A finished run folder (default: /tmp/bench_run, made if needed).")
    ap.add_argument("--duration", type=float, default=10.0, help="Seconds of load per endpoint.")
    ap.add_argument("--warmup", type=float, default=1.0, help="Seconds of warm-up per endpoint (not counted).")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, help="leftbehind serve --workers (default: its own, min(2, cores)).")
    ap.add_argument("--only", help="Measure only the endpoints whose name contains this text.")
    ap.add_argument("--json", type=Path, help="Also write the figures to this JSON file.")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print(
            "wrk is not installed: this benchmark drives the server with wrk.\n"
            "Install it (Debian: apt-get install -y wrk) and run again.",
            file=sys.stderr,
        )
        sys.exit(2)
    out = ensure_run(args.out)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_api_") as tmp, open(Path(tmp) / "serve.log", "w+b") as log:
        proc = start_server(out, port, args.workers, log)
        try:
            eps = endpoints(base)
            if args.only:
                eps = [e for e in eps if args.only in e[0] or e[3] == "health"]
            load = os.getloadavg()
            print(
                f"leftbehind serve --out {out} ({get_json(base + '/health')['edition']} run), "
                f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency, "
                f"{os.cpu_count()} cores, load average {load[0]:.2f} before",
                flush=True,
            )
            for name, paths, headers, kind in eps:
                script = lua_script(paths, headers, Path(tmp), name) if len(paths) > 1 or headers else None
                url = base + paths[0]
                if args.warmup > 0:
                    wrk(url, script, args, args.warmup)
                r = wrk(url, script, args, args.duration)
                results.append({"endpoint": name, "kind": kind, **r})
                line = f"{r['rps']:,.0f} req/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms"
                print(f"  {name}: {line}", flush=True)
        finally:
            stop_server(proc)
        log.seek(0)
        server_log = log.read().decode(errors="replace")
    report(results, args)
    if "Traceback" in server_log:
        print("\nthe server logged an error:\n" + server_log[-3000:])
    if args.json:
        args.json.write_text(json.dumps({"load_average": os.getloadavg(), "results": results}, indent=2) + "\n")


def report(results: list[dict], args) -> None:
    health = next((r["rps"] for r in results if r["kind"] == "health"), 0.0)
    half = health / 2
    print()
    print(f"targets: >= {TARGET_RPS:,} req/s and p99 <= {TARGET_P99_MS:g} ms everywhere; data endpoints >= half the")
    print(f"/health rate of this run ({half:,.0f} req/s). 'before': the figures of issue 15 (same wrk settings).")
    print()
    head = f"{'endpoint':<46} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'before':>14}  verdict"
    print(head)
    print("-" * len(head))
    failed = 0
    for r in results:
        before = next((b for k, b in BEFORE.items() if r["endpoint"].startswith(k)), None)
        if r["endpoint"].endswith("(gzip)"):
            before = None
        b = f"{before[0]:,} req/s" if before else ""
        problems = []
        if r["kind"] != "page":
            if r["rps"] < TARGET_RPS:
                problems.append(f"< {TARGET_RPS:,} req/s")
            if not r["p99_ms"] <= TARGET_P99_MS:
                problems.append(f"p99 > {TARGET_P99_MS:g} ms")
            if r["kind"] == "data" and r["rps"] < half:
                problems.append("< half /health")
        if r["non_2xx"]:
            problems.append(f"{r['non_2xx']} non-2xx")
        if r["socket_errors"]:
            problems.append(r["socket_errors"])
        verdict = "ok" if not problems else "MISSED: " + ", ".join(problems)
        if r["kind"] == "page":
            verdict = f"(information: {r['transfer']}/s) " + ("" if not problems else verdict)
        failed += bool(problems) and r["kind"] != "page"
        print(f"{r['endpoint']:<46} {r['rps']:>8,.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {b:>14}  {verdict}")
    print()
    print("all targets met" if not failed else f"{failed} endpoint(s) missed a target")


if __name__ == "__main__":
    main()
