"""Ward shapes for maps: LSOA 2011 boundaries dissolved through the ONS best-fit lookup.

The super-generalised LSOA 2011 polygons (``boundaries_lsoa11``) are projected to the British
National Grid, dissolved to December 2017 wards with a coverage union (adjacent polygons share
edges exactly, so this is fast and gap-free) and simplified with a topology-preserving
*coverage* simplification, so neighbouring wards keep a common border. CNI wards that no LSOA
is best-fitted to (12) have no shape and are listed as such. The result is cached (Parquet,
keyed by the input files' sha256, the tolerance and a digest of this module's code).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from leftbehind.context import RunContext

BNG = "EPSG:27700"


@functools.cache
def code_digest() -> str:
    """Digest of this module's code: a change to how shapes are built invalidates their cache."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def ward_shapes(ctx: RunContext, tolerance: float = 150.0):
    """GeoDataFrame ``ward_code, geometry`` (British National Grid metres), one row per ward with LSOAs."""
    import geopandas as gpd
    import shapely

    from leftbehind.data.sources import cache_dir

    res = ctx.resolve("boundaries_lsoa11", record=False)
    lk = ctx.load("lookup_lsoa11_wd17")
    key = hashlib.sha256(
        f"{res.sha256}|{lk.attrs['provenance']['sha256']}|{tolerance}|{code_digest()}".encode()
    ).hexdigest()[:16]
    cached = cache_dir() / "geometry" / f"wards-{key}.parquet"
    if cached.is_file():
        try:
            return gpd.read_parquet(cached)
        except Exception:
            cached.unlink(missing_ok=True)
    g = gpd.read_file(f"/vsigzip/{res.path}", engine="pyogrio")
    if "lsoa11_code" not in g.columns or len(g) != 32_844:
        from leftbehind.errors import DataError

        raise DataError(
            f"dataset boundaries_lsoa11 ({res.path}): expected 32,844 LSOA polygons with lsoa11_code, "
            f"found {len(g):,} and columns {list(g.columns)}",
            hint="restore the original file",
        )
    g = g.merge(lk[["lsoa11cd", "wd17cd"]], left_on="lsoa11_code", right_on="lsoa11cd", how="inner")
    g = g.to_crs(BNG)
    bad = ~shapely.is_valid(g.geometry.values)
    if bad.any():  # SOURCES.md: every polygon is valid (one was repaired upstream); repair only if needed
        g.loc[bad, "geometry"] = shapely.make_valid(g.geometry.values[bad])
    wards = g[["wd17cd", "geometry"]].dissolve(by="wd17cd", method="coverage").reset_index()
    wards["geometry"] = shapely.coverage_simplify(wards.geometry.values, tolerance)
    wards = wards.rename(columns={"wd17cd": "ward_code"})
    store_parquet(wards, cached)
    return wards


def store_parquet(frame, path: Path, **kwargs) -> None:
    """Write a cache file atomically; an unwritable cache only costs speed, so OSError is ignored."""
    try:
        from leftbehind.io import atomic_path

        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, **kwargs)
    except OSError:
        pass


_PATHS: dict[tuple[int, float], tuple[pd.DataFrame, tuple[int, int, int, int]]] = {}


def cached_svg_paths(ctx: RunContext, unit: float = 100.0) -> tuple[pd.DataFrame, tuple[int, int, int, int]]:
    """:func:`svg_paths` of :func:`ward_shapes`, cached on disk next to the shapes."""
    import json

    from leftbehind.data.sources import cache_dir

    res = ctx.resolve("boundaries_lsoa11", record=False)
    key = hashlib.sha256(f"{res.sha256}|{unit}|paths|{code_digest()}".encode()).hexdigest()[:16]
    path = cache_dir() / "geometry" / f"paths-{key}.parquet"
    if path.is_file():
        try:
            t = pd.read_parquet(path)
            return t[["ward_code", "d"]], tuple(json.loads(t.attrs.get("viewbox", "null")) or _viewbox(t))
        except Exception:
            path.unlink(missing_ok=True)
    paths, vb = svg_paths(ward_shapes(ctx), unit)
    _store_paths(path, paths, vb)
    return paths, vb


def _store_paths(path, paths: pd.DataFrame, vb) -> None:
    """Cache SVG paths and their viewBox as Parquet (an unwritable cache only costs speed)."""
    store_parquet(paths.assign(vb0=vb[0], vb1=vb[1], vb2=vb[2], vb3=vb[3]), path, index=False)


def _viewbox(t: pd.DataFrame) -> tuple[int, int, int, int]:
    return tuple(int(t[c].iloc[0]) for c in ("vb0", "vb1", "vb2", "vb3"))


def svg_paths(shapes, unit: float = 100.0) -> tuple[pd.DataFrame, tuple[int, int, int, int]]:
    """SVG path strings in integer units of ``unit`` metres (y flipped), relative moves.

    Vectorised over every coordinate of every ring (shapely ``get_parts`` / ``get_rings`` /
    ``get_coordinates`` with indices); rings that collapse below three points are dropped.
    Returns (``ward_code, d`` frame, viewBox (x, y, width, height)).
    """
    import shapely

    minx, miny, maxx, maxy = shapes.total_bounds
    x0, y1 = np.floor(minx / unit), np.ceil(maxy / unit)
    polys, ward_of_poly = shapely.get_parts(shapes.geometry.values, return_index=True)
    rings, poly_of_ring = shapely.get_rings(polys, return_index=True)
    xy, ring_of_pt = shapely.get_coordinates(rings, return_index=True)
    pts = np.column_stack([np.round(xy[:, 0] / unit - x0), np.round(y1 - xy[:, 1] / unit)]).astype(np.int64)
    # drop each ring's closing point and points that repeat the previous one after rounding
    last = np.r_[ring_of_pt[1:] != ring_of_pt[:-1], True]
    first = np.r_[True, ring_of_pt[1:] != ring_of_pt[:-1]]
    same = np.r_[False, np.all(pts[1:] == pts[:-1], axis=1)] & ~first
    keep = ~last & ~same
    pts, ring = pts[keep], ring_of_pt[keep]
    counts = np.bincount(ring, minlength=len(rings))
    ok = counts[ring] >= 3
    pts, ring = pts[ok], ring[ok]
    first = np.r_[True, ring[1:] != ring[:-1]]
    end = np.r_[ring[1:] != ring[:-1], True]
    delta = np.diff(pts, axis=0, prepend=pts[:1])
    absolute = pd.Series("M" + pts[:, 0].astype(str) + " " + pts[:, 1].astype(str) + "l")
    relative = pd.Series(delta[:, 0].astype(str) + " " + delta[:, 1].astype(str))
    token = absolute.where(first, relative) + np.where(end, "z", "")
    ward = ward_of_poly[poly_of_ring[ring]]
    d = token.groupby(ward, sort=True).agg(" ".join)
    out = pd.DataFrame({"ward_code": shapes["ward_code"].to_numpy()[d.index.to_numpy()], "d": d.to_numpy()})
    width = int(np.ceil(maxx / unit - x0)) + 1
    height = int(np.ceil(y1 - miny / unit)) + 1
    return out, (0, 0, width, height)


def hex_map(ctx: RunContext) -> tuple[pd.DataFrame, tuple[int, int, int, int]]:
    """The constituency hex cartogram (parlitools, one hexagon per seat) as SVG paths:
    ``pcon_code, d`` and a viewBox. Longitude is scaled by cos(54°) so hexagons keep their shape."""
    import pyogrio

    shp = ctx.resolve("hexmap_west_shp", record=False)
    for part in ("hexmap_west_shx", "hexmap_west_dbf", "hexmap_west_prj"):
        ctx.resolve(part, record=False)  # present and checksummed beside the .shp
    g = pyogrio.read_dataframe(shp.path)
    import shapely

    xy, idx = shapely.get_coordinates(shapely.get_exterior_ring(g.geometry.values), return_index=True)
    x = xy[:, 0] * np.cos(np.radians(54.0)) * 1000
    y = -xy[:, 1] * 1000
    x0, y0 = x.min(), y.min()
    pts = pd.DataFrame({"i": idx, "x": np.round(x - x0).astype(int), "y": np.round(y - y0).astype(int)})
    tok = pts["x"].astype(str) + "," + pts["y"].astype(str)
    d = "M" + tok.groupby(pts["i"]).agg(" L".join) + "Z"
    out = pd.DataFrame({"pcon_code": g["CODE"].to_numpy()[d.index.to_numpy()], "d": d.to_numpy()})
    return out, (0, 0, int(pts["x"].max()) + 1, int(pts["y"].max()) + 1)


def cached_unit_paths(ctx: RunContext, unit: str = "msoa21", unit_m: float = 100.0):
    """SVG paths of a unit's polygons (``area_code, d``, viewBox), simplified to about 150 m and cached
    like the ward paths: MSOA 2021 from its boundary file; wards 2024 (no public polygons) by
    dissolving the LSOA 2021 polygons through the ONS best-fit lookup."""
    import json

    import geopandas as gpd
    import shapely

    from leftbehind.data.sources import cache_dir

    if unit not in ("msoa21", "wards24"):
        raise ValueError(f"no polygons for unit {unit!r}")
    res = ctx.resolve("boundaries_msoa21" if unit == "msoa21" else "boundaries_lsoa21", record=False)
    key = hashlib.sha256(f"{res.sha256}|{unit}|{unit_m}|units|{code_digest()}".encode()).hexdigest()[:16]
    path = cache_dir() / "geometry" / f"{unit}-{key}.parquet"
    if path.is_file():
        try:
            t = pd.read_parquet(path)
            return t[["area_code", "d"]], tuple(json.loads(t.attrs.get("viewbox", "null")) or _viewbox(t))
        except Exception:
            path.unlink(missing_ok=True)
    g = gpd.read_file(f"/vsigzip/{res.path}", engine="pyogrio").to_crs(BNG)
    if unit == "wards24":  # no public ward 2024 polygons: dissolve the LSOAs 2021 by the best-fit lookup
        lk = ctx.load("lookup_lsoa21_wd24")[["lsoa21cd", "wd24cd"]]
        g = g.merge(lk, left_on="lsoa21_code", right_on="lsoa21cd", how="inner")
        g["geometry"] = shapely.make_valid(g.geometry.values)
        g = g[["wd24cd", "geometry"]].dissolve(by="wd24cd", method="coverage").reset_index()
        g = g.rename(columns={"wd24cd": "msoa21_code"})
    g["geometry"] = shapely.coverage_simplify(shapely.make_valid(g.geometry.values), 150.0)
    shapes = g.rename(columns={"msoa21_code": "ward_code"})[["ward_code", "geometry"]]
    paths, vb = svg_paths(shapes, unit_m)
    paths = paths.rename(columns={"ward_code": "area_code"})
    _store_paths(path, paths, vb)
    return paths, vb
