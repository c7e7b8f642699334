"""``leftbehind serve``: the app under uvicorn, in one or more worker processes.

This is an entry point beside ``cli.py``, not part of ``web/``: each worker process builds its own
:class:`~leftbehind.context.RunContext` from the data options, as the CLI does for a command.

With ``workers > 1`` uvicorn starts each worker by importing :func:`worker_app` (the folder and
data options travel in the ``LEFTBEHIND_SERVE`` environment variable); every worker reads the run
itself and follows re-runs of the folder on its own. The folder is checked once, before any
worker starts, so a folder with no finished run is the same clear error as with one worker.

Before anything starts, the address is tried: a port in use, a port below 1024 without the rights
to it, or a host that is not an address of this machine is one clear
:class:`~leftbehind.errors.UsageError` (exit 2), not uvicorn's log line. Requests whose ``Host``
header is not a name of the address listened on are refused (400; DNS-rebinding protection, see
:func:`leftbehind.web.app.allowed_hosts`); ``LEFTBEHIND_ALLOWED_HOSTS`` (comma-separated) adds
names, e.g. a reverse proxy's.

Sockets get ``TCP_NODELAY``: uvicorn's shared multi-worker socket is created without the TCP
protocol number, so asyncio does not set it, and a small response then waits for the client's
delayed ACK (about 40 ms on Linux). httptools and uvloop are used when installed (they are not
dependencies); uvicorn's h11 and asyncio otherwise.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from pathlib import Path

import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

ENV = "LEFTBEHIND_SERVE"
HOSTS_ENV = "LEFTBEHIND_ALLOWED_HOSTS"


def default_workers() -> int:
    """min(2, cores): the data are small and every worker holds them all."""
    return max(1, min(2, os.cpu_count() or 1))


def _nodelay(transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport) -> None:  # type: ignore[override]
        _nodelay(transport)
        super().connection_made(transport)


try:
    import httptools  # noqa: F401
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport) -> None:  # type: ignore[override]
            _nodelay(transport)
            super().connection_made(transport)

    HTTP_PROTOCOL: type = NoDelayHttpToolsProtocol
except ImportError:
    HTTP_PROTOCOL = NoDelayH11Protocol


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def _context(data: str | None, verify: bool):
    from leftbehind.context import RunContext

    return RunContext(Path(data) if data else None, verify=verify)


def worker_app():
    """The app of one worker process (uvicorn's factory, from the LEFTBEHIND_SERVE settings)."""
    from leftbehind.web.app import create_app

    cfg = orjson.loads(os.environ[ENV])
    return create_app(
        cfg["out"], ctx=_context(cfg["data"], cfg["verify"]), freeze_gc=True, allowed_hosts=cfg.get("allowed_hosts")
    )


def hosts_for(host: str) -> list[str]:
    """The Host names the server on ``host`` answers (with those of LEFTBEHIND_ALLOWED_HOSTS)."""
    from leftbehind.web.app import allowed_hosts

    return sorted(allowed_hosts(host, os.environ.get(HOSTS_ENV, "").split(",")))


def check_address(host: str, port: int) -> None:
    """Bind ``host:port`` as uvicorn will (SO_REUSEADDR) and let go: a UsageError naming the problem if
    the port is in use, needs privileges, or the host is not an address of this machine."""
    from leftbehind.errors import UsageError

    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(
            f"--host {host}: not an address or a known name ({getattr(exc, 'strerror', None) or exc})",
            hint="use 127.0.0.1 (this machine only, the default) or 0.0.0.0 (every interface)",
        ) from None
    for family, kind, proto, _, addr in dict.fromkeys(infos):
        try:
            with socket.socket(family, kind, proto) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"--port {port}: {where} is already in use by another program",
                    hint=f"choose another --port (e.g. --port {port + 1 if port < 65535 else 8000}), or stop the "
                    f"program listening on it (`ss -ltnp 'sport = :{port}'` shows which)",
                ) from None
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise UsageError(
                    f"--port {port}: not allowed to listen on {where} (permission denied)",
                    hint="ports below 1024 need administrator rights: use --port 1024 or above, e.g. --port 8000",
                ) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise UsageError(
                    f"--host {host}: not an address of this machine ({os.strerror(exc.errno)})",
                    hint="use 127.0.0.1 (this machine only, the default), 0.0.0.0 (every interface) or one of "
                    "this machine's addresses",
                ) from None
            raise


def serve(
    out: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    data: Path | None = None,
    verify: bool = True,
    announce=None,
) -> None:
    """Serve the run in ``out`` until interrupted (SIGINT or SIGTERM)."""
    import uvicorn

    check_address(host, port)  # a busy port is one clear error, before the run is read
    hosts = hosts_for(host)
    workers = workers or default_workers()
    common = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "server_header": False,
        "http": HTTP_PROTOCOL,
        "loop": _loop(),
        "timeout_graceful_shutdown": 5,
    }
    if workers == 1:
        from leftbehind.web.app import create_app

        application = create_app(
            out, ctx=_context(str(data) if data else None, verify), freeze_gc=True, allowed_hosts=hosts
        )
        if announce:
            announce(workers)
        uvicorn.run(application, **common)
        return
    from leftbehind.report.tables import read_results

    read_results(out)  # a folder with no finished run: the usual error, before any worker starts
    os.environ[ENV] = orjson.dumps(
        {"out": str(Path(out).resolve()), "data": str(data) if data else None, "verify": verify, "allowed_hosts": hosts}
    ).decode()
    if announce:
        announce(workers)
    uvicorn.run("leftbehind.serve:worker_app", factory=True, workers=workers, **common)
