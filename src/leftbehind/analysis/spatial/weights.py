"""Contiguity weights for a unit, from the mirror's polygons.

* LSOA 2021 and MSOA 2021: queen contiguity (libpysal ``Graph.build_contiguity``) of their own
  boundary files (``boundaries_lsoa21``, ``boundaries_msoa21``).
* Wards 2017 and wards 2024 have no usable polygons in the mirror, so they are built from small
  areas the way their shapes are (report/geometry.py): two wards are neighbours when they hold
  LSOAs that touch, or share an LSOA (the OA route splits an LSOA between wards). That is the
  queen contiguity of the dissolved polygons, computed as ``A^T (W + I) A`` with ``A`` the
  LSOA-to-ward membership matrix, without dissolving anything.

Every area of the unit is kept: an area without polygon or without a touching neighbour is an
island, listed by the caller, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leftbehind.errors import DataError

if TYPE_CHECKING:
    from leftbehind.context import RunContext


@dataclass(frozen=True)
class Contiguity:
    """Binary symmetric contiguity ``W`` (scipy CSR, zero diagonal) over ``codes`` (in that order).

    ``no_polygon``: codes of the unit that no polygon (or no small area) represents.
    ``source``: how it was built, in words.
    """

    codes: np.ndarray
    W: object
    no_polygon: tuple[str, ...]
    source: str

    @property
    def islands(self) -> np.ndarray:
        deg = np.asarray(self.W.sum(axis=1)).ravel()
        return self.codes[deg == 0]


def read_polygons(ctx: RunContext, dataset: str, code_column: str):
    """The polygons of ``dataset`` as a GeoDataFrame (``code_column``, geometry), checked: a CRS
    is required, empty or missing geometries and duplicate codes are errors, invalid ones are
    repaired (``make_valid``)."""
    import geopandas as gpd
    import shapely

    res = ctx.resolve(dataset)
    path = str(res.path)
    src = f"/vsigzip/{path}" if path.endswith(".gz") else path
    try:
        g = gpd.read_file(src, engine="pyogrio")
    except Exception as exc:
        raise DataError(
            f"dataset {dataset} ({res.path}): not readable as GeoJSON ({type(exc).__name__}: {exc})",
            hint=f"restore the original file (`leftbehind data verify`, then `leftbehind data fetch {dataset}`)",
        ) from None
    return check_polygons(g, dataset, code_column, shapely)


def check_polygons(g, dataset: str, code_column: str, shapely=None):
    if shapely is None:
        import shapely
    if code_column not in g.columns:
        raise DataError(
            f"dataset {dataset}: no {code_column} column in the polygons (found {', '.join(map(str, g.columns))})",
            hint="restore the original boundary file",
        )
    if g.crs is None:
        raise DataError(
            f"dataset {dataset}: the polygons have no coordinate reference system",
            hint="add the CRS to the file (the mirror's boundary files are EPSG:4326 GeoJSON), "
            "e.g. with `ogr2ogr -a_srs EPSG:4326`",
        )
    geom = g.geometry.values
    bad = shapely.is_missing(geom) | shapely.is_empty(geom)
    if bad.any():
        codes = g.loc[bad, code_column].astype(str).tolist()
        raise DataError(
            f"dataset {dataset}: {int(bad.sum()):,} areas have an empty or missing geometry "
            f"(first {', '.join(codes[:5])})",
            hint="restore the original boundary file",
        )
    if g[code_column].duplicated().any():
        dup = g.loc[g[code_column].duplicated(), code_column].iloc[0]
        raise DataError(f"dataset {dataset}: area {dup} has two polygons", hint="restore the original boundary file")
    invalid = ~shapely.is_valid(geom)
    if invalid.any():
        g = g.copy()
        g.loc[invalid, "geometry"] = shapely.make_valid(geom[invalid])
    return g


def queen(g, code_column: str) -> tuple[np.ndarray, object]:
    """(codes, binary CSR) of the queen contiguity of the polygons of ``g``."""
    import warnings

    from libpysal.graph import Graph
    from scipy import sparse

    g = g.reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands are reported by the caller
        G = Graph.build_contiguity(g.set_index(code_column), rook=False)
    ids = np.asarray(G.unique_ids, dtype=object)
    S = sparse.csr_matrix(G.sparse)
    S.setdiag(0)
    S.eliminate_zeros()
    S = (S != 0).astype(np.int8).tocsr()
    S = ((S + S.T) > 0).astype(np.int8).tocsr()
    return ids, S


def aggregate(
    small_codes: np.ndarray, W_small, membership: pd.DataFrame, unit_codes: np.ndarray, source: str
) -> Contiguity:
    """Contiguity of ``unit_codes`` built from the small areas' ``W_small``.

    ``membership``: ``small, unit`` pairs (a small area may sit in several units). Two units
    are neighbours when they hold small areas that touch or share one."""
    from scipy import sparse

    si = pd.Index(small_codes).get_indexer(membership["small"])
    ui = pd.Index(unit_codes).get_indexer(membership["unit"])
    ok = (si >= 0) & (ui >= 0)
    A = sparse.csr_matrix(
        (np.ones(int(ok.sum()), dtype=np.int32), (si[ok], ui[ok])), shape=(len(small_codes), len(unit_codes))
    )
    A.data[:] = 1
    Wp = (W_small + sparse.identity(len(small_codes), dtype=np.int32, format="csr")).astype(np.int32)
    U = (A.T @ Wp @ A).tocsr()
    U.setdiag(0)
    U.eliminate_zeros()
    U = (U > 0).astype(np.int8).tocsr()
    covered = np.asarray(A.sum(axis=0)).ravel() > 0
    return Contiguity(
        codes=np.asarray(unit_codes, dtype=object),
        W=U,
        no_polygon=tuple(str(c) for c in np.asarray(unit_codes)[~covered]),
        source=source,
    )


def unit_contiguity(ctx: RunContext, unit: str, unit_codes: np.ndarray, *, lookup: str = "oa") -> Contiguity:
    """Contiguity weights over ``unit_codes`` for ``unit`` (``ward17``, ``lsoa21``, ``wards24``,
    ``msoa21``); ``lookup`` is the run's small-area route for wards 2017 (``oa`` or ``best_fit``)."""
    from scipy import sparse

    unit_codes = np.asarray(unit_codes, dtype=object)
    if unit in ("lsoa21", "msoa21"):
        col = f"{unit}_code"
        g = read_polygons(ctx, f"boundaries_{unit}", col)
        ids, S = queen(g, col)
        idx = pd.Index(ids).get_indexer(unit_codes)
        have = idx >= 0
        # re-index onto the unit's own codes; codes without a polygon become islands
        P = sparse.csr_matrix(
            (np.ones(int(have.sum()), dtype=np.int8), (np.flatnonzero(have), idx[have])),
            shape=(len(unit_codes), len(ids)),
        )
        W = (P @ S @ P.T).tocsr()
        W = (W > 0).astype(np.int8).tocsr()
        title = "LSOA 2021" if unit == "lsoa21" else "MSOA 2021"
        return Contiguity(
            codes=unit_codes,
            W=W,
            no_polygon=tuple(str(c) for c in unit_codes[~have]),
            source=f"queen contiguity of the {title} polygons (boundaries_{unit}, December 2021 BSC)",
        )
    if unit == "ward17":
        g = read_polygons(ctx, "boundaries_lsoa11", "lsoa11_code")
        ids, S = queen(g, "lsoa11_code")
        if lookup == "oa":
            from leftbehind.geography.wards import lsoa_ward_shares

            sh = lsoa_ward_shares("oa", ctx=ctx)
            mem = sh.loc[sh["share"] > 0, ["lsoa11cd", "wd17cd"]]
            how = "the OA route (an LSOA in every ward holding one of its OAs)"
        else:
            mem = ctx.load("lookup_lsoa11_wd17")[["lsoa11cd", "wd17cd"]]
            how = "the ONS LSOA 2011 -> ward 2017 best-fit lookup"
        mem = mem.set_axis(["small", "unit"], axis=1)
        return aggregate(
            ids,
            S,
            mem,
            unit_codes,
            f"wards 2017 from the queen contiguity of the LSOA 2011 polygons (boundaries_lsoa11) through {how}",
        )
    if unit == "wards24":
        g = read_polygons(ctx, "boundaries_lsoa21", "lsoa21_code")
        ids, S = queen(g, "lsoa21_code")
        mem = ctx.load("lookup_lsoa21_wd24")[["lsoa21cd", "wd24cd"]].set_axis(["small", "unit"], axis=1)
        return aggregate(
            ids,
            S,
            mem,
            unit_codes,
            "wards 2024 from the queen contiguity of the LSOA 2021 polygons (boundaries_lsoa21) through the ONS "
            "LSOA 2021 -> ward 2024 best-fit lookup",
        )
    raise ValueError(f"no contiguity for unit {unit!r}")  # the CLI checks the unit first
