"""Profiles of custom areas: a council's own neighbourhoods, as polygons or as lists of LSOAs 2021.

* **Areas**: a GeoJSON of polygons, each with a name (the ``name`` property, else the first text
  property), or a CSV of ``area_id, lsoa21_code``.
* **Polygons to LSOAs** (the stated rule): an LSOA 2021 belongs to the area whose polygon contains
  its population-weighted centroid (the ONS centroid of its LSOA 2011 where the LSOA is unchanged,
  the mean of its parents' where merged; the polygon's representative point for the split ones).
  LSOAs that the area's boundary splits (between 5% and 95% of the LSOA's area inside) are
  counted: their residents, as a share of the area's, are how much of the profile the rule leaves
  uncertain.
* **The profile** (Census 2021 population weights): residents; CNI 2023 (population-weighted
  domain scores and overall score) and IMD 2025 (average score, extent, share of LSOAs in
  decile 1) with national percentiles (the share of England's LSOAs with a lower value); the share
  of residents in left-behind LSOAs (CNI 2023 x IMD 2025); and the IoD2025 outcome indicators
  beside England, the area's region and a comparator (its local authority, unless one is named).

Bad input is one clear error: no CRS, an invalid or non-polygon geometry, duplicate ids, a
polygon outside England or covering no LSOA's point, codes that are not LSOA 2021 codes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leftbehind.errors import DataError, UsageError

if TYPE_CHECKING:
    from leftbehind.context import RunContext

BNG = "EPSG:27700"
SPLIT = (0.05, 0.95)  # generalised boundaries of different files disagree by a few percent at their edges
CNI_DOMAINS = ("civic_assets", "connectedness", "engaged_community")


def read_areas(path: Path, ctx: RunContext) -> pd.DataFrame:
    """``area_id, lsoa21cd, uncertain`` (uncertain: the LSOA is split by the area's boundary)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(
            f"areas file {path} not found", hint="pass a GeoJSON of polygons or a CSV of area_id, lsoa21_code"
        )
    if path.suffix.lower() in (".geojson", ".json"):
        return _from_polygons(path, ctx)
    if path.suffix.lower() == ".csv":
        return _from_csv(path, ctx)
    raise UsageError(f"areas file {path}: unknown type {path.suffix!r}", hint="use .geojson or .csv")


def _from_csv(path: Path, ctx: RunContext) -> pd.DataFrame:
    try:
        t = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001 - any parser failure is the same user problem
        raise DataError(
            f"areas file {path} could not be read ({type(exc).__name__})", hint="save it as UTF-8 CSV"
        ) from None
    cols = {c.lower().strip(): c for c in t.columns}
    if "area_id" not in cols or "lsoa21_code" not in cols:
        raise DataError(
            f"areas file {path} needs columns area_id and lsoa21_code (found {', '.join(t.columns)})",
            hint="one row per LSOA 2021 of each area",
        )
    t = t.rename(columns={cols["area_id"]: "area_id", cols["lsoa21_code"]: "lsoa21cd"})[["area_id", "lsoa21cd"]]
    t["lsoa21cd"] = t["lsoa21cd"].str.strip()
    known = set(ctx.load("cni2023_lsoa21")["lsoa21cd"])
    bad = t[~t["lsoa21cd"].isin(known)]
    if len(bad):
        raise DataError(
            f"areas file {path}, line {int(bad.index[0]) + 2}: {bad['lsoa21cd'].iloc[0]!r} is not an English LSOA 2021 "
            f"code ({len(bad)} such rows)",
            hint="use LSOA 2021 codes (E01...); convert LSOA 2011 codes with lookups/geographr_lookup_lsoa11_lsoa21",
        )
    dup = t[t.duplicated(["area_id", "lsoa21cd"])]
    if len(dup):
        raise DataError(
            f"areas file {path}: LSOA {dup['lsoa21cd'].iloc[0]} is listed twice for {dup['area_id'].iloc[0]}",
            hint="list each LSOA once per area",
        )
    return t.assign(uncertain=False).reset_index(drop=True)


def _from_polygons(path: Path, ctx: RunContext) -> pd.DataFrame:
    import geopandas as gpd
    import shapely

    try:
        g = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001
        raise DataError(
            f"areas file {path} is not readable GeoJSON ({type(exc).__name__}: {exc})",
            hint="export the polygons as GeoJSON (RFC 7946)",
        ) from None
    if g.crs is None:
        raise DataError(
            f"areas file {path} has no coordinate reference system",
            hint="set it (EPSG:4326 for longitude/latitude, EPSG:27700 for British National Grid)",
        )
    if len(g) == 0:
        raise DataError(f"areas file {path} holds no features", hint="add at least one polygon")
    text = [c for c in g.columns if c != "geometry" and g[c].dtype == object]
    idcol = "name" if "name" in g.columns else (text[0] if text else None)
    if idcol is None:
        raise DataError(f"areas file {path}: the features have no name property", hint="give each polygon a 'name'")
    ids = g[idcol].astype(str)
    if ids.duplicated().any():
        raise DataError(
            f"areas file {path}: the name {ids[ids.duplicated()].iloc[0]!r} is used twice",
            hint="give each polygon its own name",
        )
    geom = g.geometry.values
    kinds = shapely.get_type_id(geom)
    bad = ~np.isin(kinds, (3, 6))  # Polygon, MultiPolygon
    if bad.any():
        raise DataError(f"areas file {path}: feature {ids[bad].iloc[0]!r} is not a polygon", hint="keep polygons only")
    invalid = ~shapely.is_valid(geom)
    if invalid.any():
        why = shapely.is_valid_reason(geom[invalid][0])
        raise DataError(
            f"areas file {path}: polygon {ids[invalid].iloc[0]!r} is invalid ({why})",
            hint="repair it (e.g. QGIS 'Fix geometries' or shapely.make_valid)",
        )
    areas = gpd.GeoDataFrame({"area_id": ids.to_numpy()}, geometry=geom, crs=g.crs).to_crs(BNG)
    lsoa = lsoa_polygons(ctx)
    near = gpd.sjoin(lsoa[["lsoa21cd", "geometry"]], areas, predicate="intersects", how="inner")
    pairs = near[["lsoa21cd", "area_id"]].reset_index(drop=True)
    lg = lsoa.set_index("lsoa21cd").geometry.reindex(pairs["lsoa21cd"]).values
    ag = areas.set_index("area_id").geometry.reindex(pairs["area_id"]).values
    inter = shapely.area(shapely.intersection(lg, ag))  # vectorised over the candidate pairs only
    over = pairs.assign(share=inter / shapely.area(lg))
    pts = gpd.GeoDataFrame({"lsoa21cd": lsoa["lsoa21cd"]}, geometry=lsoa_points(ctx, lsoa), crs=BNG)
    inside = gpd.sjoin(pts, areas, predicate="within", how="inner")[["lsoa21cd", "area_id"]]
    touched = set(over.loc[over["share"] > 0, "area_id"])
    for a in areas["area_id"]:
        if a not in touched:
            raise DataError(
                f"areas file {path}: polygon {a!r} covers no English LSOA 2021 (outside England?)",
                hint="check its coordinates and CRS",
            )
    empty = sorted(set(areas["area_id"]) - set(inside["area_id"]))
    if empty:
        raise DataError(
            f"areas file {path}: polygon {empty[0]!r} contains no LSOA 2021's centroid (empty overlap)",
            hint="draw it larger, or list its LSOAs in a CSV of area_id, lsoa21_code",
        )
    split = over[(over["share"] > SPLIT[0]) & (over["share"] < SPLIT[1])][["lsoa21cd", "area_id"]]
    key = set(zip(split["lsoa21cd"], split["area_id"], strict=True))
    inside["uncertain"] = [(c, a) in key for c, a in zip(inside["lsoa21cd"], inside["area_id"], strict=True)]
    return inside.sort_values(["area_id", "lsoa21cd"]).reset_index(drop=True)


def lsoa_points(ctx: RunContext, lsoa):
    """Each LSOA 2021's point: the ONS population-weighted centroid of its LSOA 2011 (unchanged
    LSOAs; the mean of the parents' for merged ones), else the polygon's representative point."""
    import geopandas as gpd

    xy = ctx.load("drkane_lsoa_latlong").rename(columns={"lsoacd": "lsoa11cd"})
    lk = ctx.load("lookup_lsoa11_lsoa21")[["lsoa11cd", "lsoa21cd", "change_code"]]
    known = lk[lk["change_code"].isin(["U", "M"])].merge(xy, on="lsoa11cd")
    c = known.groupby("lsoa21cd")[["latitude", "longitude"]].mean()
    c = c.reindex(lsoa["lsoa21cd"])
    pw = gpd.GeoSeries(gpd.points_from_xy(c["longitude"], c["latitude"]), crs=4326).to_crs(BNG)
    rep = lsoa.geometry.representative_point().reset_index(drop=True)
    return np.where(c["latitude"].notna().to_numpy(), pw.values, rep.values)


def lsoa_polygons(ctx: RunContext):
    """The LSOA 2021 polygons (British National Grid), read once per context."""

    def make():
        import geopandas as gpd

        res = ctx.resolve("boundaries_lsoa21")
        g = gpd.read_file(f"/vsigzip/{res.path}", engine="pyogrio")
        return g.rename(columns={"lsoa21_code": "lsoa21cd"})[["lsoa21cd", "geometry"]].to_crs(BNG)

    return ctx.memo("lsoa21_polygons", make)


def _pct(values: np.ndarray, x: float) -> float:
    """National percentile: the share of England's LSOAs with a lower value (0-100)."""
    v = np.asarray(values, dtype="float64")
    return float(100.0 * np.mean(v < x))


def profiles(areas: pd.DataFrame, lsoa: pd.DataFrame, ctx: RunContext, comparator: str | None = None) -> pd.DataFrame:
    """One row per area (first column ``area``); ``lsoa``: the run's LSOA 2021 table (with group)."""
    from leftbehind.analysis.current import MEANS_2025, POOLED_2025
    from leftbehind.editions import edition

    ed = edition("2025")
    cni = ctx.load(ed.cni.dataset).set_index("lsoa21cd")
    imd = ctx.load(ed.imd.dataset).set_index("lsoa21cd")
    f8 = ctx.load(ed.outcomes.dataset).set_index("lsoa21cd")
    base = lsoa.set_index("lsoa21_code")
    pop = base["population"]
    nat_cni = cni["cni_score"].to_numpy()
    nat_imd = imd[ed.imd.score_column].to_numpy()
    indicators = [(num, label, "% of residents") for _, label, num in POOLED_2025] + [
        (c, label, unit) for c, label, unit in MEANS_2025 if c in f8.columns
    ]

    pooled = {p[2] for p in POOLED_2025}
    cols = [c for c, _, _ in indicators]
    x_all = f8.reindex(base.index)[cols].to_numpy(dtype="float64")
    w_all = pop.to_numpy(dtype="float64")
    row_of = pd.Series(np.arange(len(base)), index=base.index)
    is_pooled = np.array([c in pooled for c in cols])

    def values(rows: np.ndarray) -> np.ndarray:
        """Every indicator for a set of LSOAs at once (pooled rates in %, others weighted means)."""
        x, w = x_all[rows], w_all[rows][:, None]
        ok = ~np.isnan(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(x * w, axis=0) / np.sum(ok * w, axis=0)
            rate = 100.0 * np.nansum(x, axis=0) / w.sum()
        return np.where(is_pooled, rate, mean)

    cache: dict[tuple[str, str | None], np.ndarray] = {}

    def of_group(kind: str, key: str | None) -> np.ndarray:
        if (kind, key) not in cache:
            if kind == "england":
                rows = np.arange(len(base))
            else:
                col = "region_name" if kind == "region" else "lad_name"
                rows = np.flatnonzero((base[col] == key).to_numpy())
                if not len(rows):
                    raise UsageError(
                        f"--comparator: no local authority named {key!r}", hint="use a 2024 local authority name"
                    )
            cache[(kind, key)] = values(rows)
        return cache[(kind, key)]

    rows = []
    for area_id, part in areas.groupby("area_id", sort=True):
        codes = list(part["lsoa21cd"])
        w = pop.reindex(codes).to_numpy(dtype="float64")
        total = float(w.sum())
        lads = base.loc[codes, "lad_name"]
        lad = lads.groupby(lads).size().idxmax()
        region = base.loc[codes, "region_name"].mode().iloc[0]
        comp = comparator or lad
        r = {
            "area": area_id,
            "lsoas": len(codes),
            "population": total,
            "population_uncertain_share": float(w[part["uncertain"].to_numpy()].sum() / total) if total else np.nan,
            "lad_name": lad,
            "region_name": region,
            "comparator": comp,
        }
        cs = float(np.sum(cni.loc[codes, "cni_score"].to_numpy() * w) / total)
        r["cni_score"] = cs
        r["cni_national_percentile"] = _pct(nat_cni, cs)
        for d in CNI_DOMAINS:
            raw = cni.loc[codes, f"{d}_score_raw"].to_numpy(dtype="float64")
            r[f"{d}_score"] = float(np.sum(raw * w) / total)
            r[f"{d}_national_percentile"] = _pct(cni[f"{d}_score_raw"].to_numpy(), r[f"{d}_score"])
        isc = float(np.sum(imd.loc[codes, ed.imd.score_column].to_numpy() * w) / total)
        r["imd_score"] = isc
        r["imd_national_percentile"] = _pct(nat_imd, isc)
        r["imd_proportion_decile_1"] = float(np.mean(imd.loc[codes, "imd_decile"].to_numpy() == 1))
        r["share_in_left_behind_lsoas"] = float(w[(base.loc[codes, "group"] == "left_behind").to_numpy()].sum() / total)
        own = values(row_of.reindex(codes).to_numpy())
        eng, reg, cmp_ = of_group("england", None), of_group("region", region), of_group("lad", comp)
        for j, col in enumerate(cols):
            r[col] = float(own[j])
            r[f"{col}_england"] = float(eng[j])
            r[f"{col}_region"] = float(reg[j])
            r[f"{col}_comparator"] = float(cmp_[j])
        rows.append(r)
    return pd.DataFrame(rows)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") or "area"


def profile_html(row: dict, indicators: list[tuple[str, str, str]]) -> str:
    """A one-page, self-contained HTML profile (prints on one page)."""
    from markupsafe import escape

    def f(x, d=1):
        return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:,.{d}f}"

    rows = "".join(
        f"<tr><td>{escape(label)}</td><td>{escape(unit)}</td><td class=n>{f(row[col], 2)}</td>"
        f"<td class=n>{f(row[col + '_comparator'], 2)}</td><td class=n>{f(row[col + '_region'], 2)}</td>"
        f"<td class=n>{f(row[col + '_england'], 2)}</td></tr>"
        for col, label, unit in indicators
    )
    summary = [
        (
            "Community Needs Index 2023 (population-weighted LSOA score; higher = more need)",
            f(row["cni_score"], 2),
            f(row["cni_national_percentile"]),
        ),
        ("IMD 2025 average score (higher = more deprived)", f(row["imd_score"], 2), f(row["imd_national_percentile"])),
        ("Share of LSOAs in the most deprived IMD 2025 decile", f(100 * row["imd_proportion_decile_1"]) + "%", ""),
        (
            "Residents in left-behind LSOAs (CNI 2023 x IMD 2025, top 10% of both)",
            f(100 * row["share_in_left_behind_lsoas"]) + "%",
            "",
        ),
    ]
    summary_rows = "".join(
        f"<tr><td>{escape(a)}</td><td class=n>{b}</td><td class=n>{c}</td></tr>" for a, b, c in summary
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(row["area"])}: profile</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:60em}}table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left}}.n{{text-align:right}}h1{{margin-bottom:0}}
.muted{{color:#555}}@media print{{body{{margin:0;font-size:11px}}}}</style></head><body>
<h1>{escape(row["area"])}</h1><p class="muted">{escape(row["lad_name"])}, {escape(row["region_name"])} ·
{row["lsoas"]} LSOAs 2021 · {f(row["population"], 0)} residents (Census 2021); the polygon-to-LSOA rule leaves
{f(100 * row["population_uncertain_share"])}% of them uncertain (LSOAs split by the boundary).</p>
<table><tr><th>Measure</th><th class=n>Area</th><th class=n>National percentile</th></tr>{summary_rows}
</table><h2>IoD2025 indicators</h2><table><tr><th>Indicator</th><th>Unit</th><th class=n>Area</th>
<th class=n>{escape(row["comparator"])}</th><th class=n>{escape(row["region_name"])}</th>
<th class=n>England</th></tr>{rows}</table>
<p class="muted">Community Needs Index, OCSI for Local Trust (not open data); English Indices of Deprivation 2025
(MHCLG) and Census 2021 (ONS), Open Government Licence v3.0. Made by leftbehind.</p></body></html>
"""
