"""FastAPI app over the outputs of ``leftbehind run`` and the later commands (read-only).

Routes (``/openapi.json`` has them all, with their parameters):

* ``/`` the report, ``/health`` (which run is served), ``/api/summary`` (counts, options, cut-off,
  diagnostics, inputs by dataset id and checksum: never a local path);
* the 2020 run: ``/api/wards`` (search and filter) and ``/api/wards/{code}``, ``/api/lads`` and
  ``/api/lads/{code}``, ``/api/regions``, ``/api/certainty``;
* the current edition (``--edition 2025``): ``/api/current/regions``, ``/api/current/lads[/{code}]``,
  ``/api/units/{lsoa21|wards24|msoa21}[/{code}]``, ``/api/current/certainty``;
* later commands, when their outputs are in the folder: ``/api/robustness/*``, ``/api/selection*``
  (``leftbehind target``), ``/api/history/*``, ``/api/spatial/*``, and ``/api/{section}/summary``;
* every output table of the registry: ``/api/tables`` and ``/api/tables/{name}``.

Every list takes ``limit``, ``offset`` and ``format=json|csv``. Filters are validated: an unknown
value is a 422 naming the valid values, an empty value is the same as none, an unknown parameter
is a 422. An endpoint whose table is not in the folder is a 404 naming the command that writes it.
Numbers are as in the CSV files (:mod:`leftbehind.web.data`).

HTTP: HEAD wherever GET; 405 with ``Allow``; gzip when the client accepts it (the report is
compressed once, when the run is read); ``ETag`` and ``Cache-Control: no-cache`` on every 200, and
304 on ``If-None-Match``; no redirects (nothing is built from the Host header). Every response
carries the security headers below. A query parameter given twice is a 422 naming it.

DNS rebinding: with ``allowed_hosts`` (``leftbehind serve`` passes :func:`allowed_hosts` of the
address it listens on) a request whose ``Host`` header names another host is a 400, so a web page
on another site cannot read the API through a name that resolves to this machine.

Speed: the run is read once; the common responses (health, summary, the first page of every list,
every ward and local authority) are serialised with orjson into ready responses when it is read,
and every other GET answer is kept once computed (bounded). An ASGI layer in front of FastAPI
serves those without going through the framework; FastAPI builds the rest and the schema.

The run is read again when the served folder is re-run (its ``summary.json`` is replaced) or a
later command adds its outputs (the folder changes): every endpoint then serves the new run, and
while the folder is missing or unreadable every request is a 503 (never the old run as new).
"""

import gc
import inspect
import ipaddress
import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio
from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from leftbehind import __version__
from leftbehind.web import views
from leftbehind.web.data import SUMMARY_FIELDS, Entry, Run, json_entry, load_run, stamp
from leftbehind.web.views import UNITS, VIEWS, WARD_FIELDS, ApiError, View, edition_tag

if TYPE_CHECKING:
    from leftbehind.context import RunContext

__all__ = ["SECURITY_HEADERS", "SUMMARY_FIELDS", "WARD_FIELDS", "create_app"]

CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
ALLOW = "GET, HEAD"
RUN = "leftbehind.run"
ENTRY = "leftbehind.entry"
CACHEABLE = (200, 404, 422)
CACHE_MAX_ENTRIES = 20_000
CACHE_MAX_BYTES = 128 * 2**20
CACHE_MAX_ENTRY = 8 * 2**20
GZIP_IN_THREAD = 256 * 2**10  # bodies larger than this are compressed off the event loop
RETRY_FAILED_AFTER = 2.0  # s: a folder that could not be read is tried again after this long
_SECURITY = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
log = logging.getLogger("leftbehind.web")


class Unavailable(Exception):
    """The served folder is missing or unreadable: a 503."""


# ---------------------------------------------------------------- the served run, reloaded on change


def prepare(run: Run) -> None:
    """The ready responses of a run: health, summary, the first page of every list, every ward and LAD."""
    s = run.static
    s[("/health", b"")] = json_entry(run.health)
    s[("/api/summary", b"")] = json_entry(run.summary)
    s[("/api/tables", b"")] = views.tables_list(run)
    for v in VIEWS:
        if v.table in run.tables:
            s[(v.path, b"")] = views.render_list(run, v, {})
    for name, sec in run.sections.items():
        s[(f"/api/{name}/summary", b"")] = json_entry(sec)
    wards = run.tables["wards"]
    cols = [c for c in WARD_FIELDS if c in wards.columns]
    ind = run.table("ward_indicators")
    indicators = {}
    if ind is not None:
        for r in ind.rows():
            indicators[r.pop("ward_code")] = r
    for rec in wards.rows(None, cols):
        code = rec["ward_code"]
        rec["indicators"] = indicators.get(code)
        s[(f"/api/wards/{code}", b"")] = json_entry(rec)
    for code in run.tables["breakdown_lad"].values("area_code"):
        s[(f"/api/lads/{code}", b"")] = views.lad_detail(run, code)
    if "current_lad" in run.tables:
        for code in run.tables["current_lad"].values("area_code"):
            s[(f"/api/current/lads/{code}", b"")] = views.current_lad_detail(run, code)


class Served:
    """The run in ``out``, read again when the folder changes (see the module docstring)."""

    def __init__(self, out: Path, ctx: "RunContext", freeze_gc: bool = False):
        self.out, self.ctx, self.freeze_gc = out, ctx, freeze_gc
        self.lock = threading.Lock()
        self.failed: tuple | None = None  # (stamp, time) of a folder that could not be read
        self.run = self._load()
        self._report(self.run)  # compressed once, at load
        self._settle()

    def _load(self) -> Run:
        run = load_run(self.out)
        prepare(run)
        return run

    def _settle(self) -> None:
        """In a server process: the run's objects live until the next re-run, so they are moved out of
        the cyclic collector's way (a full collection over them is a pause of ~100 ms under load)."""
        if self.freeze_gc:
            gc.unfreeze()
            gc.collect()
            gc.freeze()

    def current(self) -> Run:
        cur = self.run
        try:
            st = stamp(self.out)
        except OSError:
            raise Unavailable(f"the run folder {self.out.name} is being replaced or was removed; retry") from None
        if st == cur.stamp:
            return cur
        with self.lock:
            if self.run.stamp == st:
                return self.run
            if self.failed and self.failed[0] == st and time.monotonic() - self.failed[1] < RETRY_FAILED_AFTER:
                raise Unavailable(f"the run folder {self.out.name} changed and could not be read; retry")
            try:
                run = self._load()
            except Exception:  # a folder mid-swap, or a broken re-run: never serve the old run as new
                self.failed = (st, time.monotonic())
                raise Unavailable(f"the run folder {self.out.name} changed and could not be read; retry") from None
            self.failed = None
            self._report(run)
            self.run = run
            self._settle()
            return run

    def _report(self, run: Run) -> Entry:
        """The report page: report.html (read again when it changes), or rendered when the folder has none."""
        path = self.out / "report.html"
        try:
            st = os.stat(path)
            key = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            key = None
        if run.report is not None and run.report_stamp == key:
            return run.report
        if key is not None:
            body = path.read_bytes()
        else:
            from leftbehind.report.geometry import cached_svg_paths
            from leftbehind.report.html import render_report
            from leftbehind.report.tables import read_results

            paths, vb = cached_svg_paths(self.ctx)
            body = render_report(read_results(self.out), paths, vb, ctx=self.ctx).encode("utf-8")
        ct = b"text/html; charset=utf-8"
        entry = Entry(200, [(b"content-type", ct)], body, ct)
        entry.gzip()
        run.report, run.report_stamp = entry, key
        return entry


# ---------------------------------------------------------------- HTTP: the Host header (DNS rebinding)

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD = ("", "0.0.0.0", "::")
ANY_IP = "*ip"  # in allowed hosts: any IP address (a server on every interface)


def host_name(value: str) -> str:
    """A Host header (or an address) without its port, lower case, IPv6 without brackets and compressed:
    ``[::1]:8000`` -> ``::1``, ``LocalHost.:8000`` -> ``localhost``."""
    v = value.strip().lower()
    if v.startswith("["):
        v = v[1:].partition("]")[0]
    elif v.count(":") == 1:
        v = v.partition(":")[0]
    v = v.rstrip(".")
    try:
        return ipaddress.ip_address(v).compressed
    except ValueError:
        return v


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def allowed_hosts(host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The Host names a server listening on ``host`` answers: the address itself; on loopback also
    localhost, 127.0.0.1 and ::1; on every interface (0.0.0.0, ::) also this machine's names (IP
    addresses are always accepted then: a browser sends a name, never an address, when rebinding).
    ``extra``: more names (e.g. a reverse proxy's)."""
    h = host_name(host)
    names = {h, *(host_name(e) for e in extra if e.strip())}
    loopback = h == "localhost" or h.endswith(".localhost") or (_is_ip(h) and ipaddress.ip_address(h).is_loopback)
    if loopback or h in WILDCARD:
        names |= set(LOOPBACK_NAMES)
    if h in WILDCARD:
        import socket

        names |= {host_name(socket.gethostname()), host_name(socket.getfqdn()), ANY_IP}
    names.discard("")
    return frozenset(names)


def host_allowed(value: bytes | None, allowed: frozenset[str]) -> bool:
    if value is None:  # HTTP/1.0 without Host: not a browser
        return True
    name = host_name(value.decode("latin-1"))
    return name in allowed or (ANY_IP in allowed and _is_ip(name))


def _bad_host(value: bytes, allowed: frozenset[str]) -> Entry:
    shown = value.decode("latin-1")[:200]
    names = sorted(n for n in allowed if n != ANY_IP)
    what = ", ".join(f"[{n}]" if ":" in n else n for n in names) + (" or an IP address" if ANY_IP in allowed else "")
    return json_entry(
        {
            "detail": f"Host header {shown!r} is not a name of this server: it answers to {what} "
            "(a protection against DNS rebinding); open the server by one of those names, or start it with "
            "LEFTBEHIND_ALLOWED_HOSTS=name to allow another",
            "parameter": "Host",
            "valid": names,
        },
        400,
    )


# ---------------------------------------------------------------- HTTP: request preferences, wire format


def normalise_query(qs: bytes) -> bytes:
    """The query string without empty parameters (``?region=`` is the same as no region)."""
    if not qs:
        return b""
    kept = [p for p in qs.split(b"&") if p and b"=" in p and not p.endswith(b"=")]
    return b"&".join(kept)


def _accepts_gzip(value: bytes) -> bool:
    for part in value.split(b","):
        token, _, params = part.partition(b";")
        if token.strip().lower() in (b"gzip", b"x-gzip", b"*"):
            for p in params.split(b";"):
                k, _, v = p.strip().partition(b"=")
                if k.strip().lower() == b"q":
                    try:
                        return float(v) > 0
                    except ValueError:
                        return False
            return True
    return False


def _prefs(headers) -> tuple[bool, bytes | None]:
    gz, inm = False, None
    for k, v in headers:
        if k == b"accept-encoding":
            gz = gz or _accepts_gzip(v)
        elif k == b"if-none-match":
            inm = v
    return gz, inm


def _matches(inm: bytes, etag: bytes) -> bool:
    if inm.strip() == b"*":
        return True
    return any(t.strip().removeprefix(b"W/") == etag for t in inm.split(b","))


def _wire(entry: Entry, gz: bool) -> tuple[list, bytes | None, bytes]:
    """The headers (memoised on the entry), ETag and body of ``entry`` as sent, gzipped or not."""
    hit = entry._sent.get(gz)
    if hit is not None:
        return hit
    body = entry.gzip() if gz else entry.body
    headers = [*entry.headers, (b"content-length", str(len(body)).encode())]
    etag = None
    if gz:
        headers.append((b"content-encoding", b"gzip"))
    if entry.gzippable or entry.content_type.startswith((b"application/json", b"text/")):
        headers.append((b"vary", b"Accept-Encoding"))
    if entry.etag is not None:
        etag = entry.etag[:-1] + b'-gz"' if gz else entry.etag
        headers += [(b"etag", etag), (b"cache-control", b"no-cache")]
    else:
        headers.append((b"cache-control", b"no-store"))
    headers += _SECURITY
    entry._sent[gz] = (headers, etag, body)
    return entry._sent[gz]


async def send_entry(send, entry: Entry, head: bool, gz: bool, inm: bytes | None) -> None:
    gz = gz and entry.gzippable
    if gz and entry._gzip is None and len(entry.body) > GZIP_IN_THREAD:
        await anyio.to_thread.run_sync(entry.gzip)
    headers, etag, body = _wire(entry, gz)
    if etag is not None and inm is not None and _matches(inm, etag):
        keep = [h for h in headers if h[0] not in (b"content-length", b"content-type", b"content-disposition")]
        await send({"type": "http.response.start", "status": 304, "headers": keep})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


class EntryResponse(Response):
    """A ready :class:`Entry` as a Starlette response (the ASGI layer reuses the entry itself)."""

    def __init__(self, entry: Entry):
        super().__init__(content=entry.body, status_code=entry.status)
        self.entry = entry
        self.raw_headers = [*entry.headers, (b"content-length", str(len(entry.body)).encode())]

    async def __call__(self, scope, receive, send) -> None:
        scope[ENTRY] = self.entry
        await super().__call__(scope, receive, send)


def _remember(run: Run, key: tuple, entry: Entry) -> None:
    """Keep a computed answer, within CACHE_MAX_ENTRIES and CACHE_MAX_BYTES (of bodies; their gzip
    forms, made on demand, are smaller); the oldest go first."""
    size = len(entry.body)
    if size > CACHE_MAX_ENTRY:
        return
    cache = run.cache
    while cache and (len(cache) >= CACHE_MAX_ENTRIES or run.cache_bytes + size > CACHE_MAX_BYTES):
        old = cache.pop(next(iter(cache)))
        run.cache_bytes -= len(old.body)
    cache[key] = entry
    run.cache_bytes += size


class LeftbehindAPI(FastAPI):
    """FastAPI with a fast path in front: ready and remembered responses, HEAD, gzip, ETag, headers."""

    served: Served
    allowed_hosts: frozenset[str] | None = None  # None: any Host (the test client's 'testserver')

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        method = scope["method"]
        head = method == "HEAD"
        qs = normalise_query(scope.get("query_string", b""))
        gz, inm = _prefs(scope.get("headers", ()))
        if self.allowed_hosts is not None:
            host = next((v for k, v in scope.get("headers", ()) if k == b"host"), None)
            if not host_allowed(host, self.allowed_hosts):
                await send_entry(send, _bad_host(host, self.allowed_hosts), head, gz, None)
                return
        try:
            run = self.served.current()
        except Unavailable as exc:
            e = json_entry({"detail": str(exc)}, 503, [(b"retry-after", b"1")])
            await send_entry(send, e, head, gz, None)
            return
        if head or method == "GET":
            path = scope["path"]
            if path == "/":
                entry = self.served._report(run)
            else:
                key = (path, qs)
                entry = run.static.get(key) or run.cache.get(key)
                if entry is None:
                    entry, keep = await self._inner(scope, receive, run, qs, "GET")
                    if keep and entry.status in CACHEABLE:
                        _remember(run, key, entry)
        else:
            entry, _ = await self._inner(scope, receive, run, qs, method)
        await send_entry(send, entry, head, gz, inm)

    async def _inner(self, scope, receive, run: Run, qs: bytes, method: str) -> tuple[Entry, bool]:
        """The framework's answer, as an Entry (and whether it may be kept)."""
        inner = dict(scope)
        inner.update({"method": method, "query_string": qs, RUN: run})
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await super().__call__(inner, receive, capture)
        except Exception:  # never leak a traceback or a bare 500 page
            log.exception("error answering %s %s", method, scope.get("path"))
            return json_entry({"detail": "internal error"}, 500), False
        ready = inner.get(ENTRY)
        if ready is not None and start.get("status") == ready.status:
            return ready, True
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        ct = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        return Entry(start.get("status", 500), headers, b"".join(chunks), ct), True


# ---------------------------------------------------------------- routes


def _run(request: Request) -> Run:
    return request.scope[RUN]


Limit = Annotated[int, Query(ge=1, le=50_000, description="Rows to return")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Rows to skip")]
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]


def _query_names(endpoint) -> frozenset[str]:
    """The query parameters an endpoint declares (from its signature's Query annotations)."""
    from fastapi import params

    names = set()
    for p in inspect.signature(endpoint).parameters.values():
        meta = getattr(p.annotation, "__metadata__", ())
        for m in meta:
            if isinstance(m, params.Query):
                names.add(m.alias or p.name)
    return frozenset(names)


def _strict(allowed: dict):
    async def strict(request: Request) -> None:
        """An unknown query parameter is a 422 naming the ones the endpoint takes."""
        route = request.scope.get("route")
        names = allowed.get(getattr(route, "path", None))
        if names is None:
            return
        seen: dict[str, int] = {}
        for k, _ in request.query_params.multi_items():
            seen[k] = seen.get(k, 0) + 1
        for k, n in seen.items():
            if n > 1 and k in names:
                raise ApiError(
                    422,
                    f"parameter {k!r} is given {n} times: give it once (one value per parameter)",
                    parameter=k,
                )
        for k in request.query_params:
            if k not in names:
                valid = sorted(names)
                takes = ", ".join(valid) if valid else "no parameters"
                raise ApiError(422, f"unknown parameter {k!r}: this endpoint takes {takes}", parameter=k, valid=valid)

    return strict


def _list_endpoint(view: View):
    async def endpoint(request: Request, **params: Any) -> Response:
        return EntryResponse(views.render_list(_run(request), view, params))

    sig = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]

    def add(name, annotation, default):
        sig.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default))

    if view.search:
        add(
            "q",
            Annotated[str | None, Query(max_length=100, description="Text in " + ", ".join(view.search))],
            None,
        )
    for f in view.filters:
        add(f.param, Annotated[str | None, Query(max_length=100, description=f.help)], None)
    add("limit", Annotated[int, Query(ge=1, le=view.max_limit, description="Rows to return")], view.limit)
    add("offset", Annotated[int, Query(ge=0, le=view.max_offset, description="Rows to skip")], 0)
    add("format", Format, "json")
    endpoint.__signature__ = inspect.Signature(sig)
    endpoint.__name__ = "list_" + view.path.removeprefix("/api/").replace("/", "_").replace("-", "_")
    return endpoint


def _detail_endpoint(view: View):
    code_t = Annotated[str, PathParam(pattern=view.key_pattern, description=view.key_help)]
    if view.many:

        async def endpoint(request: Request, code: code_t, format: Format = "json") -> Response:  # noqa: A002
            return EntryResponse(views.render_detail(_run(request), view, code, format))
    else:

        async def endpoint(request: Request, code: code_t) -> Response:
            return EntryResponse(views.render_detail(_run(request), view, code))

    endpoint.__name__ = "detail_" + view.path.removeprefix("/api/").replace("/", "_").replace("-", "_")
    return endpoint


def create_app(
    out: str | Path, *, ctx: "RunContext", freeze_gc: bool = False, allowed_hosts: Iterable[str] | None = None
) -> FastAPI:
    """The app for the run in ``out`` (see the module docstring for how a re-run is picked up).

    ``freeze_gc``: for a server process (``leftbehind serve``), keep the loaded run out of the
    cyclic garbage collector (``gc.freeze``) so that collections do not pause the answers.
    ``allowed_hosts``: the Host names answered (from :func:`allowed_hosts`); any other is a 400.
    None (the default, as in tests): any Host."""
    out = Path(out)
    allowed: dict[str, frozenset[str]] = {}
    app = LeftbehindAPI(
        title="leftbehind",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,  # a redirect would be built from the Host header
        dependencies=[Depends(_strict(allowed))],
        description="Read-only API over a leftbehind run: England's left-behind neighbourhoods "
        "(Community Needs Index, OCSI for Local Trust - not open data - x IMD). Every list takes limit, offset "
        "and format=json|csv; an unknown filter value is a 422 naming the valid ones.",
    )
    app.served = Served(out, ctx, freeze_gc)
    app.allowed_hosts = (
        None if allowed_hosts is None else frozenset(h if h == ANY_IP else host_name(h) for h in allowed_hosts)
    )

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return EntryResponse(exc.entry())

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        errs = exc.errors()
        msgs = []
        for e in errs[:3]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path"))
            msgs.append(f"{where}: {e.get('msg')}")
        return EntryResponse(json_entry({"detail": "; ".join(msgs), "errors": len(errs)}, 422))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        path = request.scope.get("path", "")
        headers = []
        detail = exc.detail
        if exc.status_code == 405:
            headers.append((b"allow", ALLOW.encode()))
            detail = f"method {request.scope.get('method')} not allowed: use {ALLOW}"
        elif exc.status_code == 404:
            detail = f"no route {path} (see /openapi.json)"
            if len(path) > 1 and path.endswith("/"):
                detail = f"no route {path}: without the trailing slash, {path.rstrip('/') or '/'}"
        return EntryResponse(json_entry({"detail": detail}, exc.status_code, headers))

    def route(path: str, endpoint, summary: str, tag: str, schema: bool = True) -> None:
        app.add_api_route(
            path,
            endpoint,
            methods=["GET"],
            summary=summary,
            tags=[edition_tag(tag)],
            response_model=None,
            include_in_schema=schema,
        )
        if path.startswith(("/api", "/health")):
            allowed[path] = _query_names(endpoint)

    async def index(request: Request) -> Response:
        return EntryResponse(app.served._report(_run(request)))

    async def favicon() -> Response:
        return Response(status_code=204)

    async def health(request: Request) -> Response:
        return EntryResponse(_run(request).static[("/health", b"")])

    async def api_summary(request: Request) -> Response:
        return EntryResponse(_run(request).static[("/api/summary", b"")])

    route("/", index, "The report", "report")
    route("/favicon.ico", favicon, "No icon", "report", schema=False)
    route("/health", health, "Liveness and which run is served", "run")
    route("/api/summary", api_summary, "Counts by group, options, cut-off, diagnostics, checks, inputs", "run")

    async def api_tables(request: Request, format: Format = "json") -> Response:  # noqa: A002
        return EntryResponse(views.tables_list(_run(request), format))

    async def api_table(
        request: Request,
        name: Annotated[str, PathParam(pattern=r"^[a-z0-9_]{1,40}$", description="Table name, see /api/tables")],
        limit: Annotated[int, Query(ge=1, le=50_000)] = 1000,
        offset: Offset = 0,
        format: Format = "json",  # noqa: A002
    ) -> Response:
        return EntryResponse(views.table_rows(_run(request), name, limit, offset, format))

    route("/api/tables", api_tables, "Every output table of the run: path, edition, columns with units", "tables")
    route("/api/tables/{name}", api_table, "The rows of one output table (JSON or CSV)", "tables")

    for v in VIEWS:  # every list before any {code}: /api/selection/by-lad is not a code
        route(v.path, _list_endpoint(v), v.summary, v.tag)

    async def api_ward(
        request: Request,
        code: Annotated[str, PathParam(pattern=r"^E05\d{6}$", description="December 2017 ward code")],
    ) -> Response:
        return EntryResponse(views.ward_detail(_run(request), code))

    async def api_lad(
        request: Request, code: Annotated[str, PathParam(pattern=r"^E0[6-9]\d{6}$", description="2024 LAD code")]
    ) -> Response:
        return EntryResponse(views.lad_detail(_run(request), code))

    async def api_current_lad(
        request: Request, code: Annotated[str, PathParam(pattern=r"^E0[6-9]\d{6}$", description="2024 LAD code")]
    ) -> Response:
        return EntryResponse(views.current_lad_detail(_run(request), code))

    async def api_cluster(
        request: Request, cluster_id: Annotated[int, PathParam(ge=1, le=1_000_000, description="Cluster number")]
    ) -> Response:
        return EntryResponse(views.cluster_detail(_run(request), cluster_id))

    route("/api/wards/{code}", api_ward, "One ward, with its indicators", "research")
    route("/api/lads/{code}", api_lad, "One local authority: wards and residents by group, and its wards", "research")
    route("/api/current/lads/{code}", api_current_lad, "One local authority (2025), with its LSOA 2021s", "current")
    route("/api/spatial/clusters/{cluster_id}", api_cluster, "One cluster, with its areas", "spatial")
    for v in VIEWS:
        if v.key:
            route(v.path + "/{code}", _detail_endpoint(v), f"One row of {v.path} by {v.key}", v.tag)

    async def api_section(
        request: Request,
        section: Annotated[Literal["robustness", "target", "history", "spatial"], PathParam(description="Command")],
    ) -> Response:
        run = _run(request)
        if section not in run.sections:
            from leftbehind.web.data import COMMANDS

            raise ApiError(404, f"this run has no {section}/summary.json: {COMMANDS[section]} writes it")
        return EntryResponse(json_entry(run.sections[section]))

    route("/api/{section}/summary", api_section, "The summary.json of a later command", "run")

    async def unknown_unit(request: Request, unit: str) -> Response:
        raise views.bad_value("unit", unit, list(UNITS))

    async def unknown_unit_code(request: Request, unit: str, code: str) -> Response:
        raise views.bad_value("unit", unit, list(UNITS))

    route("/api/units/{unit}", unknown_unit, "Unknown unit", "current", schema=False)
    route("/api/units/{unit}/{code}", unknown_unit_code, "Unknown unit", "current", schema=False)
    return app
