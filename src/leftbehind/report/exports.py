"""Other outputs for documents and GIS: PNG maps, the Excel workbook and GeoJSON layers.

* **Maps and layers, per edition and unit.** Which exist is declared in ``report/outputs.yaml``
  (``files:`` entries with ``map`` or ``layer``): ``map.png`` / ``wards.geojson`` for the 2020
  wards (December 2017), and for ``--edition 2025`` runs ``current/map_<unit>.png`` /
  ``current/<unit>.geojson`` for LSOA 2021, wards 2024 and MSOA 2021. A layer's features carry
  the columns the declaration names (from the unit's table) and the unit's polygons, simplified
  with a topology-preserving coverage simplification (neighbours keep a common border), in WGS84
  longitude / latitude rounded to 5 decimals, exterior rings counter-clockwise (RFC 7946).
  Polygons: wards 2017 from :func:`leftbehind.report.geometry.ward_shapes`; LSOA and MSOA 2021
  from the ONS boundary files; wards 2024, which have no public polygons here, by dissolving the
  LSOA 2021 polygons through the ONS best-fit lookup. Unit shapes are cached like the ward shapes.
* **The workbook** (:func:`excel`): a README sheet (from :mod:`leftbehind.report.dictionary`),
  then one sheet per table given, in registry order, values typed by the registry. xlsxwriter
  writes the workbook's parts (styles, sheet names, header rows, filters, widths) with fixed
  document properties; the data rows are then written into each sheet's XML in one vectorised
  pass (xlsxwriter's own cell-by-cell writer needs about 4 µs a cell: 30 s for a full folder) and
  the parts re-zipped in order with xlsxwriter's fixed timestamps. The same tables give the same
  bytes.

Every writer here is deterministic: the same inputs give byte-identical files.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leftbehind.analysis.leftbehind import GROUP_LABELS, GROUPS
from leftbehind.report.html import COLOURS

if TYPE_CHECKING:
    from leftbehind.context import RunContext

BNG = "EPSG:27700"
#: coverage-simplification tolerance (metres) per unit; the source polygons are already generalised
TOLERANCE = {"lsoa21": 50.0, "wards24": 100.0, "msoa21": 100.0}
UNIT_TITLES = {
    "wards17": "wards (December 2017)",
    "lsoa21": "LSOAs 2021",
    "wards24": "wards (December 2024)",
    "msoa21": "MSOAs 2021",
}
ATTRIBUTION = (
    "Community Needs Index (OCSI for Local Trust, not open data); IMD (MHCLG, OGL v3.0);\n"
    "boundaries ONS (OGL v3.0), contains OS data © Crown copyright and database right"
)
XLSX_CREATED = datetime(2000, 1, 1)  # fixed document date: reruns give the same bytes
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CHARS = 32_767


@functools.cache
def code_digest() -> str:
    """Digest of this module's code: a change to how unit shapes are built invalidates their cache."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


# ---------------------------------------------------------------- unit shapes


def unit_shapes(ctx: RunContext, unit: str):
    """GeoDataFrame ``area_code, geometry`` (British National Grid) of a unit's polygons, simplified."""
    if unit == "wards17":
        from leftbehind.report.geometry import ward_shapes

        return ward_shapes(ctx).rename(columns={"ward_code": "area_code"})
    if unit not in TOLERANCE:
        raise ValueError(f"no polygons for unit {unit!r}")
    import geopandas as gpd

    from leftbehind.data.sources import cache_dir

    boundary = "boundaries_msoa21" if unit == "msoa21" else "boundaries_lsoa21"
    parts = [ctx.resolve(boundary, record=False).sha256]
    if unit == "wards24":
        parts.append(ctx.load("lookup_lsoa21_wd24").attrs.get("provenance", {}).get("sha256", ""))
    key = hashlib.sha256(f"{'|'.join(parts)}|{unit}|{TOLERANCE[unit]}|{code_digest()}".encode()).hexdigest()[:16]
    cached = cache_dir() / "geometry" / f"layer-{unit}-{key}.parquet"
    if cached.is_file():
        try:
            return gpd.read_parquet(cached)
        except Exception:
            cached.unlink(missing_ok=True)
    shapes = _build_unit_shapes(ctx, unit, boundary)
    from leftbehind.report.geometry import store_parquet

    store_parquet(shapes, cached)
    return shapes


def _build_unit_shapes(ctx: RunContext, unit: str, boundary: str):
    import shapely

    from leftbehind.analysis.spatial.weights import read_polygons

    code = "msoa21_code" if unit == "msoa21" else "lsoa21_code"
    g = read_polygons(ctx, boundary, code).to_crs(BNG)
    g["geometry"] = shapely.make_valid(g.geometry.values)
    if unit == "wards24":
        lk = ctx.load("lookup_lsoa21_wd24")[["lsoa21cd", "wd24cd"]]
        g = g.merge(lk, left_on=code, right_on="lsoa21cd", how="inner")
        g = g[["wd24cd", "geometry"]].dissolve(by="wd24cd", method="coverage").reset_index()
        code = "wd24cd"
    g = g.rename(columns={code: "area_code"})[["area_code", "geometry"]].sort_values("area_code")
    g["geometry"] = shapely.coverage_simplify(g.geometry.values, TOLERANCE[unit])
    return g.reset_index(drop=True)


# ---------------------------------------------------------------- PNG maps


def png_map(table: pd.DataFrame, shapes, path: Path, title: str, key: str = "ward_code") -> None:
    """A static map of a unit's areas by group (matplotlib, Agg backend), for documents.

    ``table``: the unit's table (``key`` and ``group``); ``shapes``: ``area_code`` (or ``key``)
    and geometry in metres. Areas are drawn as one collection of compound paths (holes kept),
    left-behind areas last, on top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Patch

    shapes = shapes.rename(columns={"area_code": key}) if key not in shapes.columns else shapes
    g = shapes.merge(table[[key, "group"]], on=key, how="inner")
    order = {grp: i for i, grp in enumerate(("rest", "no_imd", "other_deprived", "left_behind"))}
    g = g.assign(_o=g["group"].map(order)).sort_values(["_o", key], kind="stable")
    many = len(g) > 10_000  # small areas: borders would hide the colours
    face = np.array([to_rgba(COLOURS[grp]) for grp in g["group"]]).reshape(-1, 4)
    edge = face.copy()
    if not many:
        edge[(g["group"] == "rest").to_numpy()] = to_rgba("white")
    fig, ax = plt.subplots(figsize=(8, 9.5), dpi=150)
    ax.add_collection(_paths(g.geometry.values, face, edge, 0 if many else 0.05))
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=10.5)
    counts = table["group"].value_counts()
    shown = [k for k in GROUPS if counts.get(k, 0) or k != "no_imd"]
    ax.legend(
        handles=[
            Patch(facecolor=COLOURS[k], edgecolor="#999", label=f"{GROUP_LABELS[k]} ({counts.get(k, 0):,})")
            for k in shown
        ],
        loc="upper left",
        fontsize=8,
        frameon=False,
    )
    fig.text(0.01, 0.01, ATTRIBUTION, fontsize=6, color="#555")
    fig.savefig(path, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


def _paths(geoms, face, edge, linewidth: float):
    """One PathCollection: a compound path per area (every part and hole), built from the
    coordinate arrays at once (geopandas' plot makes a patch per polygon: 5 s for 33,755 LSOAs)."""
    import shapely
    from matplotlib.collections import PathCollection
    from matplotlib.path import Path as MPath

    geoms = shapely.orient_polygons(geoms, exterior_cw=False)  # holes the other way: the nonzero rule cuts them
    polys, area_of_poly = shapely.get_parts(geoms, return_index=True)
    rings, poly_of_ring = shapely.get_rings(polys, return_index=True)
    xy, ring_of_pt = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(xy), MPath.LINETO, dtype=np.uint8)
    start = np.r_[True, ring_of_pt[1:] != ring_of_pt[:-1]]
    end = np.r_[ring_of_pt[1:] != ring_of_pt[:-1], True]
    codes[start] = MPath.MOVETO
    codes[end] = MPath.CLOSEPOLY
    area = area_of_poly[poly_of_ring[ring_of_pt]]
    cuts = np.flatnonzero(np.r_[True, area[1:] != area[:-1]])[1:]
    paths = [MPath(v, c) for v, c in zip(np.split(xy, cuts), np.split(codes, cuts), strict=True)]
    areas = area[np.r_[0, cuts]] if len(area) else np.array([], dtype=int)
    return PathCollection(paths, facecolors=face[areas], edgecolors=edge[areas], linewidths=linewidth)


# ---------------------------------------------------------------- GeoJSON layers


def _json_values(s: pd.Series, typ: str) -> list:
    """A column as JSON-ready Python values of its declared type (None for missing)."""
    missing = s.isna().to_numpy()
    if typ == "int":
        vals = pd.to_numeric(s, errors="coerce").round().astype("Int64").astype(object)
    elif typ == "float":
        num = pd.to_numeric(s, errors="coerce").astype("float64").round(6)
        missing = missing | ~np.isfinite(num.to_numpy())  # JSON has no NaN or infinity
        vals = num.astype(object)
    elif typ == "bool":
        vals = s.astype("boolean").astype(object)
    else:
        vals = s.astype(object).where(~missing, None).map(lambda x: x if x is None else str(x))
        missing = missing | (vals == "").to_numpy()
    out = np.array(vals.to_numpy(dtype=object), dtype=object)
    out[missing] = None
    return out.tolist()


def geojson_layer(table: pd.DataFrame, tdef, columns: list[str], shapes, path: Path, name: str) -> int:
    """Write a GeoJSON FeatureCollection: one feature per row of ``table`` with a polygon in
    ``shapes`` (``area_code``, metres), its ``columns`` as properties; returns the feature count."""
    import shapely

    key = tdef.key[0]
    cols = [c for c in columns if c in table.columns]
    g = shapes.rename(columns={"area_code": key}).merge(table[cols], on=key, how="inner").sort_values(key)
    g = g.to_crs(4326)
    geom = shapely.set_precision(g.geometry.values, 1e-5)
    geom = shapely.transform(geom, lambda xy: np.round(xy, 5))  # exact 5-dp decimals in the text
    geom = shapely.orient_polygons(geom, exterior_cw=False)
    props = {c: _json_values(g[c], tdef.column(c).type) for c in cols}
    rows = [dict(zip(cols, vals, strict=True)) for vals in zip(*props.values(), strict=True)]
    geoms = shapely.to_geojson(geom)
    features = [
        '{"type":"Feature","properties":' + json.dumps(p, ensure_ascii=False, separators=(",", ":")) + ',"geometry":'
        for p in rows
    ]
    body = ",".join(f + gj + "}" for f, gj in zip(features, geoms, strict=True))
    head = json.dumps({"type": "FeatureCollection", "name": name}, ensure_ascii=False, separators=(",", ":"))[:-1]
    Path(path).write_text(head + ',"features":[' + body + "]}", encoding="utf-8")
    return len(rows)


# ---------------------------------------------------------------- Excel


def workbook_sheets(tables: dict[str, pd.DataFrame]) -> list[tuple]:
    """(table, template name, sheet name, frame) for each table given, in registry order. Keys are
    registry names; a template's files (rebuilt indices) are keyed ``index:<name>``."""
    from leftbehind.report.registry import registry

    reg = registry()
    unknown = [k for k in tables if k.split(":", 1)[0] not in reg]
    if unknown:
        raise AssertionError(f"tables not declared in report/outputs.yaml: {unknown}")
    out = []
    for name, t in reg.items():
        if t.template:
            for k in sorted(k for k in tables if k.startswith(f"{name}:")):
                sub = k.split(":", 1)[1]
                out.append((t, sub, t.concrete_sheet(sub), tables[k]))
        elif name in tables:
            out.append((t, None, t.sheet, tables[name]))
    sheets = [s[2] for s in out]
    if len(set(sheets)) != len(sheets) or "README" in sheets:
        raise AssertionError(f"sheet names are not unique: {sheets}")
    return out


def excel(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per table given, in registry order, after a README sheet that describes every
    sheet (file, title, description, edition, licence) and every column (type, unit, meaning)."""
    import xlsxwriter

    from leftbehind.report.dictionary import readme_rows

    sheets = workbook_sheets(tables)
    for t, _, sheet, df in sheets:
        if len(df) + 1 > EXCEL_MAX_ROWS:
            from leftbehind.errors import UsageError

            raise UsageError(f"table {t.path} has {len(df):,} rows: more than an Excel sheet holds ({sheet})")
    readme = readme_rows(sheets)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    wb.set_properties(
        {
            "title": "leftbehind output tables",
            "subject": "Left-behind neighbourhoods: Community Needs Index x Index of Multiple Deprivation",
            "author": "leftbehind",
            "company": "",
            "comments": "Generated by leftbehind; see the README sheet for sources and licences",
            "created": XLSX_CREATED,
        }
    )
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "bg_color": "#eeeeee", "bottom": 1})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    _readme_sheet(wb.add_worksheet("README"), readme, bold, head, wrap)
    parts = {}
    for i, (t, _, sheet, df) in enumerate(sheets, start=2):
        ws = wb.add_worksheet(sheet)
        cols = [str(c) for c in df.columns]
        ws.write_row(0, 0, cols, head)
        ws.freeze_panes(1, 0)
        if cols:
            ws.autofilter(0, 0, max(len(df), 1), len(cols) - 1)
        for j, c in enumerate(cols):
            d = t.column(c)
            ws.set_column(j, j, _width(c, df[c], d.type if d else "str"))
        parts[f"xl/worksheets/sheet{i}.xml"] = (t, df)
    wb.close()
    _splice(buf.getvalue(), parts, Path(path))


def _readme_sheet(ws, readme: dict, bold, head, wrap) -> None:
    row = 0
    ws.write(row, 0, "README", bold)
    row += 1
    for line in readme["about"]:
        ws.write_row(row, 0, line)
        row += 1
    for block in ("sheets", "columns"):
        row += 1
        ws.write_row(row, 0, readme[block][0], head)
        for r in readme[block][1:]:
            row += 1
            ws.write_row(row, 0, r, wrap if block == "sheets" else None)
        row += 1
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 2, 28)
    ws.set_column(3, 3, 70)
    ws.set_column(4, 4, 60)
    ws.set_column(5, 5, 40)


def _width(name: str, s: pd.Series, typ: str) -> float:
    """A column's width from its name and first values, as typed (the same from memory or from CSV)."""
    longest = max([len(name), *(len(str(x)) for x in _json_values(s.head(200), typ) if x is not None)])
    return float(min(max(longest + 2, 8), 50))


def _col_letter(j: int) -> str:
    s, j = "", j + 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"  # not allowed in XML


def _arrow(s: pd.Series, typ: str):
    """A column as an Arrow array of its declared type (nulls for missing values, blank text included)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if typ in ("int", "float") and s.dtype.kind not in "iufb":
        s = pd.to_numeric(s, errors="coerce")
    if typ == "int":
        return pa.array(s.round().astype("Int64"), from_pandas=True)
    if typ == "float":
        return pa.array(s.astype("float64").round(6), from_pandas=True)
    if typ == "bool":
        return pa.array(s.astype("boolean"), from_pandas=True)
    v = s.astype(object)
    arr = pa.array(
        v.where(v.notna(), None).map(lambda x: x if x is None or isinstance(x, str) else str(x)), pa.string()
    )
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _text(arr):
    """Arrow strings as XML text: escaped, at most Excel's 32,767 characters."""
    import pyarrow.compute as pc

    arr = pc.utf8_slice_codeunits(arr, 0, EXCEL_MAX_CHARS)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        arr = pc.replace_substring(arr, a, b)
    if pc.any(pc.match_substring_regex(arr, _CONTROL)).as_py():  # Excel's own escape, as xlsxwriter writes it
        import pyarrow as pa

        pat = re.compile(_CONTROL)
        arr = pa.array(
            [x if x is None else pat.sub(lambda m: f"_x{ord(m.group(0)):04X}_", x) for x in arr.to_pylist()],
            pa.string(),
        )
    return arr


def _cells(letter: str, rows, arr, typ: str):
    """The XML of one column's cells (``""`` for blanks), from its typed Arrow array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    join = pc.binary_join_element_wise
    ref = join('<c r="' + letter, rows, "")
    if typ in ("int", "float", "bool"):
        values = pc.cast(pc.cast(arr, pa.int8()) if typ == "bool" else arr, pa.string())
        kind = '" t="b"><v>' if typ == "bool" else '"><v>'
        cell = join(ref, kind, values, "</v></c>", "")
        if typ == "float":  # inf, -inf: text, as written in the CSV
            text = join(ref, '" t="inlineStr"><is><t>', values, "</t></is></c>", "")
            cell = pc.if_else(pc.is_finite(arr), cell, text)
    else:
        text = _text(arr)
        space = pc.match_substring_regex(text, r"^\s|\s$")
        tag = pc.if_else(space, '<t xml:space="preserve">', "<t>")
        cell = join(ref, '" t="inlineStr"><is>', tag, text, "</t></is></c>", "")
    return pc.fill_null(cell, "")


def _sheet_rows(t, df: pd.DataFrame) -> bytes:
    """``<row>`` elements for the data rows (row 2 on) of a sheet, as UTF-8."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(df)
    if n == 0:
        return b""
    rows = pc.cast(pa.array(np.arange(2, n + 2, dtype=np.int64)), pa.string())
    cells = []
    for j, c in enumerate(df.columns):
        d = t.column(str(c))
        typ = d.type if d else "str"
        cells.append(_cells(_col_letter(j), rows, _arrow(df[c].reset_index(drop=True), typ), typ))
    row = pc.binary_join_element_wise(pc.binary_join_element_wise('<row r="', rows, '">', ""), *cells, "</row>", "")
    out = []
    for chunk in pa.chunked_array([row]).chunks:  # the strings' bytes, back to back in the data buffer
        _, offsets, data = chunk.buffers()
        o = np.frombuffer(offsets, dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
        out.append(memoryview(data)[o[0] : o[-1]].tobytes())
    return b"".join(out)


def _splice(skeleton: bytes, parts: dict, path: Path) -> None:
    """Write the workbook: xlsxwriter's parts, with each data sheet's rows spliced in."""
    with zipfile.ZipFile(io.BytesIO(skeleton)) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            raw = zin.read(info)
            if info.filename in parts:
                t, df = parts[info.filename]
                xml = raw.decode("utf-8")
                end = f"{_col_letter(max(len(df.columns), 1) - 1)}{len(df) + 1}"
                xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{end}"/>', xml, count=1)
                k = xml.index("</sheetData>")
                raw = xml[:k].encode("utf-8") + _sheet_rows(t, df) + xml[k:].encode("utf-8")
            zout.writestr(info, raw, compress_type=zipfile.ZIP_DEFLATED, compresslevel=3)
