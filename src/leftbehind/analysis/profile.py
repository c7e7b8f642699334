"""Profiles of custom areas: a council's own neighbourhoods, as polygons or as lists of LSOAs 2021.

* **Areas**: a GeoJSON of polygons, each with a non-empty name (the ``name`` property, else the
  first text property), or a CSV of ``area_id, lsoa21_code``.
* **Polygons to LSOAs** (the stated rule, on the ONS LSOA 2021 polygons in British National Grid):

  1. *by area share*: an LSOA 2021 with at least 95% of its area inside a polygon belongs to it,
     wherever its point lies;
  2. *by point*, for the rest: an LSOA belongs to the polygon that contains its point, its
     population-weighted centroid (the ONS centroid of its LSOA 2011 where the LSOA is unchanged,
     the mean of its parents' where merged; the LSOA polygon's representative point for the split
     ones and wherever the centroid falls outside the generalised LSOA polygon). Where polygons
     overlap, an LSOA that rule 1 gave to one polygon also belongs to another that holds its
     point and more than 5% of its area;
  3. *official MSOAs*: a polygon that coincides with one or several whole MSOA 2021 polygons of
     the ONS file (each at least 95% inside it, their union within 1% of its area, and closer to
     it than the LSOAs of rules 1-2) takes exactly their LSOAs (the ONS LSOA-to-MSOA 2021 names).
     The LSOA and MSOA files are generalised separately, up to 100 m or more apart in towns, so
     no area rule on the LSOA polygons can reproduce an MSOA polygon exactly.

  An LSOA at least 95% inside several overlapping polygons belongs to each. Only the LSOAs a
  boundary truly splits (between 5% and 95% of the LSOA's area inside) are uncertain: their
  residents, as a share of the area's, are how much of the profile the rule leaves uncertain. A
  polygon drawn along LSOA 2021 boundaries gets exactly those LSOAs, 0% uncertain.
* **The profile** (Census 2021 population weights): residents; CNI 2023 (population-weighted
  domain scores and overall score) and IMD 2025 (average score, extent, share of LSOAs in
  decile 1) with national percentiles (the share of England's LSOAs with a lower value); the share
  of residents in left-behind LSOAs (CNI 2023 x IMD 2025); and the IoD2025 outcome indicators
  beside England, the area's region and a comparator (its local authority, unless one is named).
* **Pages**: one HTML page per area, named by :func:`page_names` (unique, filesystem-safe).

Bad input is one clear error: no CRS, a null or empty name, an invalid or non-polygon geometry,
duplicate names, polygons outside England or getting no LSOA (all of them in one error), codes that
are not LSOA 2021 codes.
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
SPLIT = (0.05, 0.95)  # an LSOA with 5-95% of its area inside a polygon is split by it (uncertain)
MSOA_MATCH = 0.01  # a polygon within 1% of its area of whole MSOA 2021 polygons is those MSOAs
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
    text = [c for c in g.columns if c != "geometry" and (g[c].dtype == object or pd.api.types.is_string_dtype(g[c]))]
    idcol = "name" if "name" in g.columns else (text[0] if text else None)
    if idcol is None:
        raise DataError(f"areas file {path}: the features have no name property", hint="give each polygon a 'name'")
    raw = g[idcol]
    ids = raw.astype(str).str.strip()
    missing = (raw.isna() | (ids == "")).to_numpy()
    if missing.any():
        nums = [int(i) + 1 for i in np.flatnonzero(missing)]
        which = ", ".join(map(str, nums[:10])) + (f" and {len(nums) - 10:,} more" if len(nums) > 10 else "")
        raise DataError(
            f"areas file {path}: feature{'s' if len(nums) > 1 else ''} {which} (counting from 1, in file order) "
            f"{'have' if len(nums) > 1 else 'has'} no name (the {idcol!r} property is null or empty)",
            hint=f"give every polygon a non-empty {idcol!r} (in QGIS: open the attribute table and fill it in)",
        )
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
    return assign_lsoas(areas, ctx, where=f"areas file {path}")


def _pairs(units, areas):
    """Every (unit, polygon) pair that intersects: positions ``i`` (unit) and ``j`` (polygon), the
    intersection's area and its share of the unit's area. Vectorised (STRtree, then GEOS)."""
    import shapely

    ug, ag = units.geometry.values, areas.geometry.values
    j, i = shapely.STRtree(ug).query(ag, predicate="intersects")
    inter = shapely.area(shapely.intersection(ug[i], ag[j]))
    return i, j, inter, inter / shapely.area(ug[i])


def _mismatch(j, unit_area, inter, area_a):
    """Per polygon: the area of its symmetric difference with the union of its units (which do
    not overlap), as a share of its own area."""
    n = len(area_a)
    u = np.bincount(j, weights=unit_area, minlength=n)
    both = np.bincount(j, weights=inter, minlength=n)
    return (area_a + u - 2.0 * both) / area_a


def assign_lsoas(areas, ctx: RunContext, where: str = "areas") -> pd.DataFrame:
    """``area_id, lsoa21cd, uncertain`` for polygons ``areas`` (a GeoDataFrame of ``area_id`` and
    geometry in British National Grid): the module's rule (area share, then point; whole official
    MSOAs 2021 where the polygon is one or several of them). One error for all the polygons that
    get no LSOA."""
    import shapely

    areas = areas.reset_index(drop=True)
    lsoa = lsoa_polygons(ctx)
    pts = ctx.memo("lsoa21_points", lambda: lsoa_points(ctx, lsoa))
    ag = areas.geometry.values
    area_a = shapely.area(ag)
    i, j, inter, share = _pairs(lsoa, areas)
    by_share = share >= SPLIT[1]
    settled = np.zeros(len(lsoa), dtype=bool)
    settled[i[by_share]] = True
    # by point: the rest, and, where polygons overlap, an LSOA 95% inside one is still split by another
    take = by_share | ((~settled[i] | (share > SPLIT[0])) & shapely.within(pts[i], ag[j]))
    split = (share > SPLIT[0]) & (share < SPLIT[1])
    mis_l = _mismatch(j[take], shapely.area(lsoa.geometry.values[i[take]]), inter[take], area_a)

    msoa, members = msoa_polygons(ctx)
    mi, mj, minter, mshare = _pairs(msoa, areas)
    whole = mshare >= SPLIT[1]
    mis_m = _mismatch(mj[whole], shapely.area(msoa.geometry.values[mi[whole]]), minter[whole], area_a)
    official = (mis_m <= MSOA_MATCH) & (mis_m < mis_l)  # the polygon is whole MSOAs: take their LSOAs

    keep = take & ~official[j]
    by_lsoa = pd.DataFrame({"j": j[keep], "row": i[keep], "uncertain": split[keep]})
    sel = whole & official[mj]
    by_msoa = pd.DataFrame({"j": mj[sel], "m": mi[sel]}).merge(members, on="m")[["j", "row"]]
    out = pd.concat([by_lsoa, by_msoa.assign(uncertain=False)], ignore_index=True)
    out = out.drop_duplicates(["j", "row"])

    got = np.zeros(len(areas), dtype=bool)
    got[out["j"].to_numpy()] = True
    if not got.all():
        touched = np.zeros(len(areas), dtype=bool)
        touched[j[inter > 0]] = True
        none = np.flatnonzero(~got)
        names = areas["area_id"].to_numpy()[none]
        outside = int((~touched[none]).sum())
        listed = ", ".join(repr(str(n)) for n in names[:5])
        listed += f" and {len(names) - 5:,} more" if len(names) > 5 else ""
        why = []
        if outside:
            why.append(f"{outside:,} cover{'s' if outside == 1 else ''} no English LSOA 2021 (outside England?)")
        if outside < len(none):
            k = len(none) - outside
            why.append(f"{k:,} hold{'s' if k == 1 else ''} no LSOA 95% inside nor any LSOA's point (empty overlap)")
        raise DataError(
            f"{where}: {len(none):,} of {len(areas):,} polygon{'s' if len(areas) > 1 else ''} "
            f"get{'s' if len(none) == 1 else ''} no LSOA 2021 "
            f"({listed}): {'; '.join(why)}",
            hint="check their coordinates and CRS; draw small ones larger, or list their LSOAs in a CSV of "
            "area_id, lsoa21_code",
        )
    res = pd.DataFrame(
        {
            "area_id": areas["area_id"].to_numpy()[out["j"].to_numpy()],
            "lsoa21cd": lsoa["lsoa21cd"].to_numpy()[out["row"].to_numpy()],
            "uncertain": out["uncertain"].to_numpy(dtype=bool),
        }
    )
    return res.sort_values(["area_id", "lsoa21cd"]).reset_index(drop=True)


def lsoa_points(ctx: RunContext, lsoa):
    """Each LSOA 2021's point: the ONS population-weighted centroid of its LSOA 2011 (unchanged
    LSOAs; the mean of the parents' for merged ones), else, and wherever that point is not inside
    the LSOA's own polygon (900 of them: the polygons are generalised), the polygon's
    representative point."""
    import geopandas as gpd
    import shapely

    xy = ctx.load("drkane_lsoa_latlong").rename(columns={"lsoacd": "lsoa11cd"})
    lk = ctx.load("lookup_lsoa11_lsoa21")[["lsoa11cd", "lsoa21cd", "change_code"]]
    known = lk[lk["change_code"].isin(["U", "M"])].merge(xy, on="lsoa11cd")
    c = known.groupby("lsoa21cd")[["latitude", "longitude"]].mean()
    c = c.reindex(lsoa["lsoa21cd"])
    pw = gpd.GeoSeries(gpd.points_from_xy(c["longitude"], c["latitude"]), crs=4326).to_crs(BNG).values
    poly = lsoa.geometry.values
    ok = c["latitude"].notna().to_numpy() & shapely.within(pw, poly)
    return np.where(ok, pw, shapely.point_on_surface(poly))


def lsoa_polygons(ctx: RunContext):
    """The LSOA 2021 polygons (British National Grid; ``lsoa21cd, lsoa21nm, geometry``), read once
    per context."""

    def make():
        import geopandas as gpd

        res = ctx.resolve("boundaries_lsoa21")
        g = gpd.read_file(f"/vsigzip/{res.path}", engine="pyogrio")
        g = g.rename(columns={"lsoa21_code": "lsoa21cd", "lsoa21_name": "lsoa21nm"})
        return g[["lsoa21cd", "lsoa21nm", "geometry"]].to_crs(BNG)

    return ctx.memo("lsoa21_polygons", make)


def msoa_polygons(ctx: RunContext):
    """The MSOA 2021 polygons (British National Grid; ``msoa21cd, msoa21nm, geometry``) and their
    LSOAs 2021 (``m, row``: positions in it and in :func:`lsoa_polygons`), read once per context.
    An LSOA 2021's MSOA 2021 is the one whose ONS name is the LSOA's less its final letter
    (``Hartlepool 009A`` -> ``Hartlepool 009``), true of every English LSOA 2021."""

    def make():
        import geopandas as gpd

        res = ctx.resolve("boundaries_msoa21")
        g = gpd.read_file(f"/vsigzip/{res.path}", engine="pyogrio")
        g = g.rename(columns={"msoa21_code": "msoa21cd", "msoa21_name": "msoa21nm"})
        g = g[["msoa21cd", "msoa21nm", "geometry"]].to_crs(BNG).reset_index(drop=True)
        lsoa = lsoa_polygons(ctx)
        m = pd.Series(np.arange(len(g)), index=g["msoa21nm"].to_numpy())
        of = m.reindex(lsoa["lsoa21nm"].str.slice(0, -1).to_numpy()).to_numpy()
        ok = ~np.isnan(of)
        members = pd.DataFrame({"m": of[ok].astype("int64"), "row": np.flatnonzero(ok)})
        return g, members

    return ctx.memo("msoa21_polygons", make)


def _pct(values: np.ndarray, x: float) -> float:
    """National percentile: the share of England's LSOAs with a lower value (0-100)."""
    v = np.asarray(values, dtype="float64")
    return float(100.0 * np.mean(v < x))


def profiles(
    areas: pd.DataFrame,
    lsoa: pd.DataFrame,
    ctx: RunContext,
    comparator: str | None = None,
    edition_id: str | None = None,
) -> pd.DataFrame:
    """One row per area (first column ``area``); ``lsoa``: the run's LSOA 2021 table (with group);
    ``edition_id``: the current edition (default the first found)."""
    from leftbehind.analysis.current import MEANS_2025, POOLED_2025
    from leftbehind.editions import current_for

    ed = current_for(edition_id)
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


_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def slug(name: str) -> str:
    """A filesystem-safe stem for a name: lower-case ASCII letters, digits and hyphens, at most 80
    characters, never empty nor a Windows device name. Two names can share one: see :func:`page_names`."""
    s = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")[:80].strip("-") or "area"
    return f"{s}-area" if s in _RESERVED else s


def page_names(names: list[str]) -> list[str]:
    """Unique, filesystem-safe page stems for ``names``, in their order: each name's :func:`slug`, the
    first name with a slug keeping it and the later ones taking -2, -3, ... (skipping any stem
    another name has), so ``["Ward A", "ward a", "WARD-A"]`` -> ``["ward-a", "ward-a-2", "ward-a-3"]``."""
    base = [slug(n) for n in names]
    used = set(base)
    seen: set[str] = set()
    out = []
    for s in base:
        stem = s
        if s in seen:
            k = 2
            while f"{s}-{k}" in used:
                k += 1
            stem = f"{s}-{k}"
            used.add(stem)
        seen.add(s)
        out.append(stem)
    return out


def profile_pages(t: pd.DataFrame, indicators: list[tuple[str, str, str]]) -> dict[str, str]:
    """The one-page HTML profiles of ``t`` (the :func:`profiles` table), by file name
    (``{stem}.html``, the stems of :func:`page_names` of the areas in row order), in row order."""
    rows = t.to_dict("records")
    stems = page_names([str(r["area"]) for r in rows])
    return {f"{stem}.html": profile_html(row, indicators) for stem, row in zip(stems, rows, strict=True)}


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
