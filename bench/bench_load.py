"""Load test of `leftbehind serve` on loopback: concurrent clients against /api/wards.

Run: .venv/bin/python bench/bench_load.py [--out DIR] [--clients 50] [--seconds 20]

Starts the server in a subprocess on a free 127.0.0.1 port (building a run in a temporary
folder first if --out has none), then runs N concurrent clients (httpx, asyncio) for a bounded
time and a bounded number of requests, cycling through searches, filters and pages. Prints
throughput, p50/p90/p99 latency and the error count. Traffic never leaves the loopback address.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERIES = [
    "/api/wards?q=sid",
    "/api/wards?group=left_behind&limit=100",
    "/api/wards?region=North%20East",
    "/api/wards?offset=500&limit=50",
    "/api/wards?q=ab&group=rest",
    "/api/wards?lad=E06000047",
    "/api/wards?format=csv&limit=20",
    "/api/wards/E05003984",
]
MAX_REQUESTS = 200_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def client(base: str, stop: float, lat: list[float], errors: list[str], i: int) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=10) as c:
        k = i
        while time.perf_counter() < stop and len(lat) < MAX_REQUESTS:
            url = QUERIES[k % len(QUERIES)]
            k += 1
            t = time.perf_counter()
            try:
                r = await c.get(url)
                if r.status_code != 200:
                    errors.append(f"{url}: HTTP {r.status_code}")
            except httpx.HTTPError as exc:
                errors.append(f"{url}: {type(exc).__name__}")
            lat.append(time.perf_counter() - t)


async def load(base: str, clients: int, seconds: float) -> tuple[list[float], list[str], float]:
    lat: list[float] = []
    errors: list[str] = []
    start = time.perf_counter()
    await asyncio.gather(*(client(base, start + seconds, lat, errors, i) for i in range(clients)))
    return lat, errors, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=None, help="a finished run (default: build one in a temporary folder)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    exe = str(Path(sys.executable).with_name("leftbehind"))
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out
        if out is None or not (Path(out) / "summary.json").is_file():
            out = str(Path(tmp) / "out")
            subprocess.run([exe, "run", "--out", out, "--skip-indices"], check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen(
            [exe, "serve", "--out", out, "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=dict(os.environ),
        )
        base = f"http://127.0.0.1:{port}"
        try:
            import httpx

            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                raise SystemExit("the server did not start")
            lat, errors, elapsed = asyncio.run(load(base, args.clients, args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=10)
    lat_ms = sorted(x * 1000 for x in lat)
    q = statistics.quantiles(lat_ms, n=100)
    print(
        f"{args.clients} concurrent clients for {elapsed:.1f} s against {len(QUERIES)} /api/wards queries on loopback"
    )
    print(f"requests: {len(lat):,}; throughput {len(lat) / elapsed:,.0f} requests/s")
    print(f"latency: p50 {q[49]:.1f} ms, p90 {q[89]:.1f} ms, p99 {q[98]:.1f} ms, max {lat_ms[-1]:.1f} ms")
    print(f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))


if __name__ == "__main__":
    main()
