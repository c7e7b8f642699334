"""FastAPI app over the outputs of ``leftbehind run`` (read-only).

Routes: ``/`` (the report), ``/health``, ``/api/summary``, ``/api/wards`` (search and filter,
JSON or CSV), ``/api/wards/{code}``, ``/api/lads/{code}``, ``/api/regions``, ``/openapi.json``.
Unknown codes give 404 JSON, bad parameters 422 JSON with a message; no route serves files by
path, so there is nothing to traverse. Every response carries a Content-Security-Policy,
``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer``.
The interactive docs page is off (it would load assets from a CDN); the schema is at
``/openapi.json``.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from leftbehind import __version__
from leftbehind.analysis.pipeline import WARD_COLUMNS

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


def create_app(out: str | Path, data=None) -> FastAPI:
    """The app for the run in ``out`` (read once at start-up)."""
    from leftbehind.report.tables import read_results

    out = Path(out)
    results = read_results(out)
    wards = results.tables["wards"]
    wards = wards[[c for c in WARD_FIELDS if c in wards.columns]].copy()
    search_text = (wards["ward_name"] + " " + wards["ward_code"] + " " + wards["lad_name"]).str.lower()
    # precomputed once: filters are vectorised masks, responses slices of ready-made records
    records = _records(wards)
    col_group = wards["group"].to_numpy()
    col_region = wards["region_name"].str.lower().to_numpy()
    col_lad = wards["lad_code"].to_numpy()
    texts = search_text.to_numpy()
    indicators = results.tables["ward_indicators"].set_index("ward_code")
    lads = results.tables["breakdown_lad"].set_index("area_code")
    regions = results.tables["breakdown_region"]
    summary = {
        k: results.summary.get(k)
        for k in (
            "leftbehind_version",
            "options",
            "cut_off",
            "groups",
            "diagnostics",
            "published_checks",
            "inputs",
            "citations",
        )
    }
    report_path = out / "report.html"
    report_cache: dict[str, str] = {}

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
        if "html" not in report_cache:
            if report_path.is_file():
                report_cache["html"] = report_path.read_text(encoding="utf-8")
            else:
                from leftbehind.report.geometry import svg_paths, ward_shapes
                from leftbehind.report.html import render_report

                paths, vb = svg_paths(ward_shapes(data))
                report_cache["html"] = render_report(results, paths, vb, data)
        return HTMLResponse(report_cache["html"])

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/health", summary="Liveness and what is loaded")
    def health() -> dict:
        return {"status": "ok", "version": __version__, "wards": len(wards), "run": out.name}

    @app.get("/api/summary", summary="Counts by group, options, cut-off, diagnostics, published checks, inputs")
    def api_summary() -> dict:
        return summary

    @app.get("/api/regions", summary="Wards and residents by group for each region")
    def api_regions() -> dict:
        return {"items": _records(regions)}

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
        mask = np.ones(len(records), dtype=bool)
        if q:
            needle = q.lower()
            mask &= np.fromiter((needle in t for t in texts), dtype=bool, count=len(texts))
        if group:
            mask &= col_group == group
        if region:
            mask &= col_region == region.lower()
        if lad:
            mask &= col_lad == lad
        idx = np.flatnonzero(mask)
        page = idx[offset : offset + limit]
        if format == "csv":
            buf = io.StringIO()
            wards.iloc[page].to_csv(buf, index=False)
            return Response(
                buf.getvalue(),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="wards.csv"'},
            )
        return JSONResponse(
            {"total": int(len(idx)), "limit": limit, "offset": offset, "items": [records[i] for i in page]}
        )

    @app.get("/api/wards/{code}", summary="One ward, with its indicators")
    def api_ward(code: Annotated[str, PathParam(pattern=r"^E05\d{6}$", description="December 2017 ward code")]) -> dict:
        row = wards[wards["ward_code"] == code]
        if row.empty:
            raise HTTPException(404, f"no CNI ward with code {code}")
        out_ = _records(row)[0]
        out_["indicators"] = (
            {k: _clean(v) for k, v in indicators.loc[code].items()} if code in indicators.index else None
        )
        return out_

    @app.get("/api/lads/{code}", summary="One local authority: wards and residents by group, and its wards")
    def api_lad(code: Annotated[str, PathParam(pattern=r"^E0[6-9]\d{6}$", description="2024 LAD code")]) -> dict:
        if code not in lads.index:
            raise HTTPException(404, f"no local authority with code {code} in this run")
        rec = {k: _clean(v) for k, v in lads.loc[code].items()}
        rec["area_code"] = code
        rec["wards"] = _records(wards.loc[wards["lad_code"] == code, ["ward_code", "ward_name", "group"]])
        return rec

    return app
