"""FastAPI app over the outputs of ``leftbehind run`` (read-only).

Routes: ``/`` (the report), ``/health``, ``/api/summary``, ``/api/wards`` (search and filter,
JSON or CSV), ``/api/wards/{code}``, ``/api/lads/{code}``, ``/api/regions``, ``/api/tables``
(every output table of the registry, with its columns, units and meanings) and
``/api/tables/{name}`` (its rows, JSON or CSV), ``/openapi.json``.
Unknown codes give 404 JSON, bad parameters 422 JSON with a message; no route serves files by
path, so there is nothing to traverse. Every response carries a Content-Security-Policy,
``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer``.
The interactive docs page is off (it would load assets from a CDN); the schema is at
``/openapi.json``.

The run is read once at start-up and read again when the served folder is re-run (its
``summary.json`` is replaced): every endpoint, the report and the API alike, then serves the new
run. ``/health`` names the run it serves (``run_id``: a digest of its summary.json; ``run_date``;
``inputs_sha256``: a digest of the input files' checksums).
"""

from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
import pandas as pd
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from leftbehind import __version__
from leftbehind.analysis.pipeline import WARD_COLUMNS

if TYPE_CHECKING:
    from leftbehind.context import RunContext

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
WARD_FIELDS = [*WARD_COLUMNS, "left_behind_published_2020", "note"]
SUMMARY_FIELDS = {
    "leftbehind_version",
    "options",
    "cut_off",
    "groups",
    "diagnostics",
    "published_checks",
    "inputs",
    "citations",
}
Group = Literal["left_behind", "other_deprived", "rest", "no_imd"]


def _clean(v):
    if v is None or v is pd.NA:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: _clean(v) for k, v in r.items()} for r in df.to_dict("records")]


def _csv(df: pd.DataFrame, filename: str) -> Response:
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@dataclass
class Loaded:
    """A finished run, read once and held ready for the endpoints."""

    results: object
    wards: pd.DataFrame
    records: list[dict]
    col_group: np.ndarray
    col_region: np.ndarray
    col_lad: np.ndarray
    texts: list[tuple[str, str, str]]  # lower-case ward name, code, LAD name
    indicators: pd.DataFrame
    lads: pd.DataFrame
    regions: pd.DataFrame
    summary: dict
    health: dict
    stamp: tuple
    report: dict[str, str] = field(default_factory=dict)


def _stamp(out: Path) -> tuple:
    """What identifies the run in ``out``: summary.json's inode, size and mtime (a re-run replaces it)."""
    st = (out / "summary.json").stat()
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _load(out: Path) -> Loaded:
    import hashlib
    from datetime import UTC, datetime

    from leftbehind.report.tables import read_results

    results = read_results(out)  # a folder with no finished run is a UsageError naming it
    stamp = _stamp(out)
    raw = (out / "summary.json").read_bytes()
    wards = results.tables["wards"]
    wards = wards[[c for c in WARD_FIELDS if c in wards.columns]].copy()
    # searched field by field: a query never matches across the boundary of two fields
    search_text = zip(*(wards[c].str.lower() for c in ("ward_name", "ward_code", "lad_name")), strict=True)
    inputs = hashlib.sha256("".join(sorted(i.sha256 for i in results.summary.inputs)).encode()).hexdigest()
    health = {
        "status": "ok",
        "version": __version__,
        "wards": len(wards),
        "run": out.name,
        "run_id": hashlib.sha256(raw).hexdigest()[:16],
        "run_date": datetime.fromtimestamp(stamp[2] / 1e9, tz=UTC).isoformat(timespec="seconds"),
        "inputs_sha256": inputs[:16],
        "edition": results.options.edition,
    }
    # precomputed once: filters are vectorised masks, responses slices of ready-made records
    return Loaded(
        results=results,
        wards=wards,
        records=_records(wards),
        col_group=wards["group"].to_numpy(),
        col_region=wards["region_name"].str.lower().to_numpy(),
        col_lad=wards["lad_code"].to_numpy(),
        texts=list(search_text),
        indicators=results.tables["ward_indicators"].set_index("ward_code"),
        lads=results.tables["breakdown_lad"].set_index("area_code"),
        regions=results.tables["breakdown_region"],
        summary=results.summary.model_dump(mode="json", include=SUMMARY_FIELDS),
        health=health,
        stamp=stamp,
    )


def create_app(out: str | Path, *, ctx: RunContext) -> FastAPI:
    """The app for the run in ``out`` (see the module docstring for how a re-run is picked up)."""
    from leftbehind.report.registry import registry

    out = Path(out)
    holder = {"run": _load(out)}
    lock = threading.Lock()

    def state() -> Loaded:
        cur = holder["run"]
        try:
            stamp = _stamp(out)
        except OSError:
            raise HTTPException(503, f"the run folder {out.name} is being replaced or was removed; retry") from None
        if stamp != cur.stamp:
            with lock:
                if holder["run"].stamp != stamp:
                    try:
                        holder["run"] = _load(out)
                    except Exception:  # a folder mid-swap, or a broken re-run: never serve the old run as new
                        raise HTTPException(503, f"the run folder {out.name} changed and could not be read") from None
            cur = holder["run"]
        return cur

    app = FastAPI(
        title="leftbehind",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        description="Read-only API over a leftbehind run: England's left-behind neighbourhoods "
        "(Community Needs Index, OCSI for Local Trust - not open data - x IMD).",
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        try:
            response = await call_next(request)
        except Exception:  # never leak a traceback or a bare 500 page
            response = JSONResponse({"detail": "internal error"}, status_code=500)
        for k, v in SECURITY_HEADERS.items():
            response.headers[k] = v
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        errs = exc.errors()
        msgs = []
        for e in errs[:3]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path"))
            msgs.append(f"{where}: {e.get('msg')}")
        return JSONResponse({"detail": "; ".join(msgs), "errors": len(errs)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.get("/", response_class=HTMLResponse, summary="The report")
    def index() -> HTMLResponse:
        run = state()
        report_path = out / "report.html"
        try:
            st = report_path.stat()
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        if run.report.get("stamp") != stamp:  # `leftbehind report` rebuilt it: serve the new page
            run.report.clear()
        if "html" not in run.report:
            run.report["stamp"] = stamp
            if stamp is not None:
                run.report["html"] = report_path.read_text(encoding="utf-8")
            else:
                from leftbehind.report.geometry import cached_svg_paths
                from leftbehind.report.html import render_report

                paths, vb = cached_svg_paths(ctx)
                run.report["html"] = render_report(run.results, paths, vb, ctx=ctx)
        return HTMLResponse(run.report["html"])

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/health", summary="Liveness and which run is served")
    def health() -> dict:
        return state().health

    @app.get("/api/summary", summary="Counts by group, options, cut-off, diagnostics, published checks, inputs")
    def api_summary() -> dict:
        return state().summary

    @app.get("/api/regions", summary="Wards and residents by group for each region")
    def api_regions() -> dict:
        return {"items": _records(state().regions)}

    @app.get("/api/tables", summary="Every output table of the run: path, edition, columns with units")
    def api_tables() -> dict:
        run = state()
        items = []
        for name, t in registry().items():
            if t.template or name not in run.results.tables:
                continue
            df = run.results.tables[name]
            items.append(
                {
                    "name": name,
                    "path": t.path,
                    "title": t.title,
                    "description": t.description,
                    "edition": t.edition,
                    "rows": len(df),
                    "columns": [
                        {"name": c.name, "type": c.type, "unit": c.unit, "description": c.description}
                        for c in t.describe(df)
                    ],
                }
            )
        return {"items": items}

    @app.get("/api/tables/{name}", summary="The rows of one output table (JSON or CSV)", response_model=None)
    def api_table(
        name: Annotated[str, PathParam(pattern=r"^[a-z0-9_]{1,40}$", description="Table name, see /api/tables")],
        limit: Annotated[int, Query(ge=1, le=50_000)] = 1000,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        format: Annotated[Literal["json", "csv"], Query()] = "json",
    ):
        run = state()
        reg = registry()
        if name not in reg or reg[name].template or name not in run.results.tables:
            raise HTTPException(404, f"no output table {name!r} in this run (see /api/tables)")
        df = run.results.tables[name]
        page = df.iloc[offset : offset + limit]
        if format == "csv":
            return _csv(page, f"{name}.csv")
        return JSONResponse({"total": len(df), "limit": limit, "offset": offset, "items": _records(page)})

    @app.get("/api/units/{unit}", summary="The current edition at a unit (--edition 2025 runs)", response_model=None)
    def api_units(
        unit: Annotated[Literal["lsoa21", "wards24", "msoa21"], PathParam(description="lsoa21 | wards24 | msoa21")],
        group: Annotated[Group | None, Query()] = None,
        region: Annotated[str | None, Query(max_length=60)] = None,
        lad: Annotated[str | None, Query(pattern=r"^E0[6-9]\d{6}$", description="2024 LAD code")] = None,
        limit: Annotated[int, Query(ge=1, le=50_000)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        format: Annotated[Literal["json", "csv"], Query()] = "json",
    ):
        run = state()
        if unit not in run.results.tables:
            raise HTTPException(404, f"this run has no {unit} table: run `leftbehind run --edition 2025`")
        df = run.results.tables[unit]
        mask = np.ones(len(df), dtype=bool)
        if group:
            mask &= (df["group"] == group).to_numpy()
        if region:
            mask &= (df["region_name"].str.lower() == region.lower()).to_numpy()
        if lad:
            mask &= (df["lad_code"] == lad).to_numpy()
        page = df[mask].iloc[offset : offset + limit]
        if format == "csv":
            return _csv(page, f"{unit}.csv")
        return JSONResponse({"total": int(mask.sum()), "limit": limit, "offset": offset, "items": _records(page)})

    @app.get("/api/units/{unit}/{code}", summary="One area of a unit")
    def api_unit(
        unit: Annotated[Literal["lsoa21", "wards24", "msoa21"], PathParam()],
        code: Annotated[str, PathParam(pattern=r"^E0[125]\d{6}$")],
    ) -> dict:
        run = state()
        df = run.results.tables.get(unit)
        key = "lsoa21_code" if unit == "lsoa21" else "area_code"
        if df is None or code not in set(df[key]):
            raise HTTPException(404, f"no {unit} area {code} in this run")
        return _records(df[df[key] == code])[0]

    @app.get("/api/selection", summary="The stored selection (DIR/target/selection.csv, from `leftbehind target`)")
    def api_selection(
        selected: Annotated[bool | None, Query(description="Only the selected (true) or the others (false)")] = None,
        limit: Annotated[int, Query(ge=1, le=50_000)] = 1000,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        format: Annotated[Literal["json", "csv"], Query()] = "json",
    ):
        run = state()
        df = run.results.tables.get("target_selection")
        if df is None:
            raise HTTPException(404, "no stored selection: run `leftbehind target RULE --out DIR/target`")
        if selected is not None:
            df = df[df["selected"].astype(bool) == selected]
        page = df.iloc[offset : offset + limit]
        if format == "csv":
            return _csv(page, "selection.csv")
        return JSONResponse({"total": len(df), "limit": limit, "offset": offset, "items": _records(page)})

    @app.get("/api/wards", summary="Search and filter the CNI wards", response_model=None)
    def api_wards(
        q: Annotated[str | None, Query(max_length=100, description="Text in the ward name, code or LAD name")] = None,
        group: Annotated[Group | None, Query()] = None,
        region: Annotated[str | None, Query(max_length=60, description="Region name, e.g. North East")] = None,
        lad: Annotated[str | None, Query(pattern=r"^E0[6-9]\d{6}$", description="2024 LAD code")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
        format: Annotated[Literal["json", "csv"], Query()] = "json",
    ):
        run = state()
        mask = np.ones(len(run.records), dtype=bool)
        if q:
            needle = q.lower()
            mask &= np.fromiter((any(needle in f for f in t) for t in run.texts), dtype=bool, count=len(run.texts))
        if group:
            mask &= run.col_group == group
        if region:
            mask &= run.col_region == region.lower()
        if lad:
            mask &= run.col_lad == lad
        idx = np.flatnonzero(mask)
        page = idx[offset : offset + limit]
        if format == "csv":
            return _csv(run.wards.iloc[page], "wards.csv")
        return JSONResponse(
            {"total": int(len(idx)), "limit": limit, "offset": offset, "items": [run.records[i] for i in page]}
        )

    @app.get("/api/wards/{code}", summary="One ward, with its indicators")
    def api_ward(code: Annotated[str, PathParam(pattern=r"^E05\d{6}$", description="December 2017 ward code")]) -> dict:
        run = state()
        row = run.wards[run.wards["ward_code"] == code]
        if row.empty:
            raise HTTPException(404, f"no CNI ward with code {code}")
        out_ = _records(row)[0]
        ind = run.indicators
        out_["indicators"] = {k: _clean(v) for k, v in ind.loc[code].items()} if code in ind.index else None
        return out_

    @app.get("/api/lads/{code}", summary="One local authority: wards and residents by group, and its wards")
    def api_lad(code: Annotated[str, PathParam(pattern=r"^E0[6-9]\d{6}$", description="2024 LAD code")]) -> dict:
        run = state()
        if code not in run.lads.index:
            raise HTTPException(404, f"no local authority with code {code} in this run")
        rec = {k: _clean(v) for k, v in run.lads.loc[code].items()}
        rec["area_code"] = code
        w = run.wards
        rec["wards"] = _records(w.loc[w["lad_code"] == code, ["ward_code", "ward_name", "group"]])
        return rec

    return app
