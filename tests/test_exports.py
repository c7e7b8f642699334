"""The document and GIS exports of a finished run: the maps, leftbehind.xlsx and the GeoJSON layers.

They are built once per run (``write_report`` with every export but the HTML, atomically) from the
shared default run and the shared ``--edition 2025`` run read back with ``read_results``, and checked
against the runs' own CSV files, the output registry and the ONS LSOA -> ward best-fit lookup (an
independent source of which wards can have a shape at all).
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pandas as pd
import pytest

from leftbehind.report.build import FILES
from leftbehind.report.registry import registry

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CNI_WARDS = 7_433
WARDS_WITH_SHAPES = 7_421  # wards with at least one best-fitted LSOA 2011
WARDS_WITHOUT_SHAPES = 12
# England (and its islands) in WGS84, with a little slack: lon -6.5 .. 1.8, lat 49.8 .. 55.9
ENGLAND_BOUNDS = (-6.6, 49.8, 1.9, 55.9)


@pytest.fixture(scope="module")
def results(run_out):
    from leftbehind.report.tables import read_results

    return read_results(run_out[0])


@pytest.fixture(scope="module")
def shapes(ctx):
    from leftbehind.report.geometry import ward_shapes

    return ward_shapes(ctx)


@pytest.fixture(scope="module")
def wards_csv(run_out) -> pd.DataFrame:
    """wards.csv as written by the run (not the Parquet copy read_results prefers)."""
    return pd.read_csv(run_out[0] / "wards.csv")


@pytest.fixture(scope="module")
def shaped_codes(ctx, wards_csv) -> set[str]:
    """CNI wards that some LSOA 2011 is best-fitted to, from the ONS lookup itself."""
    lk = ctx.load("lookup_lsoa11_wd17")
    return set(wards_csv["ward_code"]) & set(lk["wd17cd"])


@pytest.fixture(scope="module")
def exported(results, ctx, tmp_path_factory):
    """The three exports written by write_report into an empty folder: (folder, names written)."""
    from leftbehind.report.build import write_report

    folder = tmp_path_factory.mktemp("exports")
    written = write_report(results, folder, ("png", "xlsx", "geojson"), ctx=ctx, atomic=True)
    return folder, written


def _csv_header(path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


def test_the_lookup_agrees_on_which_wards_have_shapes(shapes, shaped_codes, wards_csv):
    """The facts the GeoJSON test relies on: 7,421 wards have LSOA shapes, 12 CNI wards have none."""
    assert len(wards_csv) == CNI_WARDS
    assert len(shaped_codes) == WARDS_WITH_SHAPES
    assert len(set(wards_csv["ward_code"]) - shaped_codes) == WARDS_WITHOUT_SHAPES
    assert shapes["ward_code"].is_unique
    assert set(shapes["ward_code"]) & set(wards_csv["ward_code"]) == shaped_codes


def test_write_report_writes_exactly_the_requested_files(exported):
    folder, written = exported
    assert written == [FILES["png"], FILES["xlsx"], FILES["geojson"]]
    # atomic writes leave nothing else behind: no .tmp files, no hidden work folders
    assert sorted(p.name for p in folder.iterdir()) == sorted(written)
    assert all((folder / f).stat().st_size > 10_000 for f in written)


def test_write_report_html_only_needs_no_shapes(results, ctx, tmp_path, monkeypatch):
    """``exports=("html",)`` (what every run does) must not build the ward shapes."""
    import leftbehind.report.geometry as geometry
    from leftbehind.report.build import write_report

    geometry.cached_svg_paths(ctx)  # the HTML's own (cached) input, made before the guard below

    def boom(*a, **k):
        raise AssertionError("ward_shapes called for an HTML-only report")

    monkeypatch.setattr(geometry, "ward_shapes", boom)
    assert write_report(results, tmp_path, ("html",), ctx=ctx) == ["report.html"]
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and 'id="map"' in html
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# ---------------------------------------------------------------- PNG


def test_png_is_a_real_png_of_sensible_size(exported):
    from PIL import Image

    path = exported[0] / FILES["png"]
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as im:
        im.verify()  # checksums of every chunk
    with Image.open(path) as im:
        assert im.format == "PNG"
        w, h = im.size
        info = dict(im.info)
    # 8 x 9.5 in at 150 dpi (1200 x 1425 px) before the tight crop: portrait, never a thumbnail
    assert 800 <= w <= 1200 and 1000 <= h <= 1425 and h > w, (w, h)
    assert "Software" not in info  # no tool version stamped in: reruns give the same bytes


def test_png_draws_every_group_in_its_colour(exported, wards_csv):
    """The map is drawn, not blank: each group with shaped wards shows in its own colour, and the
    left-behind red covers far more than its legend swatch."""
    from PIL import Image

    from leftbehind.report.html import COLOURS

    with Image.open(exported[0] / FILES["png"]) as im:
        a = np.asarray(im.convert("RGB")).astype(int)

    def pixels(hex_colour: str) -> int:
        c = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(a - c).max(axis=2) <= 6).sum())

    assert pixels(COLOURS["rest"]) > 100_000  # most of England
    assert pixels(COLOURS["other_deprived"]) > 1_000
    assert pixels(COLOURS["left_behind"]) > 1_000  # a legend swatch is a few hundred pixels
    assert pixels(COLOURS["rest"]) > 20 * pixels(COLOURS["left_behind"])  # ~3% of wards are left behind


# ---------------------------------------------------------------- Excel

SMALL_SHEET = 60_000  # cells: sheets up to this size are compared cell by cell through openpyxl


@pytest.fixture(scope="module")
def workbook(exported):
    import openpyxl

    wb = openpyxl.load_workbook(exported[0] / FILES["xlsx"], read_only=True)
    yield wb
    wb.close()


def _run_csvs(folder) -> dict[str, tuple]:
    """Every CSV file of a run folder -> (table, template name), through the registry."""
    from leftbehind.report.registry import find

    out = {}
    for p in sorted(folder.rglob("*.csv")):
        rel = p.relative_to(folder).as_posix()
        hit = find(rel)
        assert hit is not None, f"{rel} is not a registered table"
        out[rel] = hit
    return out


def _expected_sheets(folder) -> list[tuple[str, str]]:
    """(sheet, file) for every CSV of the folder, in registry order (a template's files by name)."""
    order = {n: i for i, n in enumerate(registry())}
    files = sorted(_run_csvs(folder).items(), key=lambda kv: (order[kv[1][0].name], kv[1][1] or ""))
    return [(t.concrete_sheet(name), rel) for rel, (t, name) in files]


def _readme(wb) -> dict[str, list[tuple]]:
    """The README sheet's blocks: about (lines), sheets and columns (rows after their header)."""
    rows = list(wb["README"].iter_rows(values_only=True))
    starts = [i for i, r in enumerate(rows) if r and r[0] == "sheet"]
    assert len(starts) == 2, starts
    about = [r[0] for r in rows[1 : starts[0]] if r and r[0]]
    sheets = [r for r in rows[starts[0] + 1 : starts[1]] if r and r[0]]
    columns = [r for r in rows[starts[1] + 1 :] if r and r[0]]
    return {"about": about, "sheets": sheets, "columns": columns, "headers": [rows[i] for i in starts]}


def _sheet_xml(path) -> dict[str, str]:
    """Sheet name -> its XML part inside the workbook (workbook.xml and its relationships)."""
    import xml.etree.ElementTree as ET
    import zipfile

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    with zipfile.ZipFile(path) as z:
        wb = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = {r.get("Id"): r.get("Target") for r in rels}
        return {s.get("name"): "xl/" + target[s.get(rid)] for s in wb.find("m:sheets", ns)}


def _same(cell, text: str, typ: str) -> bool:
    if text == "":
        return cell is None
    if typ == "bool":
        return cell is (text == "true")
    if typ in ("int", "float"):
        if text in ("inf", "-inf"):
            return cell == text
        return isinstance(cell, int | float) and math.isclose(cell, float(text), rel_tol=1e-12, abs_tol=1e-12)
    return cell == text


def test_workbook_has_a_readme_then_a_sheet_per_csv_of_the_run(workbook, run_out):
    """Every CSV file of the run folder is a sheet, in registry order: the constituencies, politics,
    economy and rebuilt indices included."""
    expected = _expected_sheets(run_out[0])
    assert workbook.sheetnames == ["README", *(s for s, _ in expected)]
    assert len(set(workbook.sheetnames)) == len(workbook.sheetnames)
    assert all(len(s) <= 31 for s in workbook.sheetnames)  # Excel's limit
    files = {f for _, f in expected}
    for rel in ("constituencies.csv", "politics/correlations.csv", "economy/furlough.csv", "indices/cni2019.csv"):
        assert rel in files, rel


def test_readme_describes_every_sheet_and_every_column(workbook, run_out):
    from leftbehind.report.registry import holds_cni, licences

    readme = _readme(workbook)
    assert readme["headers"][0][:6] == ("sheet", "file", "title", "description", "edition", "licence")
    assert readme["headers"][1][:5] == ("sheet", "column", "type", "unit", "meaning")
    csvs = _run_csvs(run_out[0])
    expected = _expected_sheets(run_out[0])
    assert [(r[0], r[1]) for r in readme["sheets"]] == expected
    lic = licences()
    for _, rel, title, description, edition, licence, cni, rows in (r[:8] for r in readme["sheets"]):
        t, name = csvs[rel]
        assert title.startswith(t.title) and description and edition
        assert cni == ("yes" if holds_cni(t, name) else "no"), rel
        assert (lic["cni"].title in licence) == holds_cni(t, name) and lic["ogl"].title in licence, rel
        assert rows == len(pd.read_csv(run_out[0] / rel, usecols=[0])), rel
    listed = [(r[0], r[1]) for r in readme["columns"]]
    assert listed == [(s, c) for s, rel in expected for c in _csv_header(run_out[0] / rel)]
    sheet_table = {s: csvs[rel][0] for s, rel in expected}
    for sheet, column, typ, unit, meaning in (r[:5] for r in readme["columns"]):
        d = sheet_table[sheet].column(column)
        assert typ and meaning == d.description and (unit or "") == d.unit, (sheet, column)
    about = " ".join(readme["about"])
    assert lic["cni"].title in about and "not open data" in about and lic["ogl"].title in about
    cni_sheets = [s for s, rel in expected if holds_cni(*csvs[rel])]
    assert "wards" in cni_sheets and all(s in about for s in cni_sheets)


def test_each_sheet_matches_its_csv(workbook, exported, run_out):
    """Same header and rows as the CSV file; small sheets cell by cell (typed by the registry: text
    stays text, integers are integers, booleans booleans, blanks blank), large ones on their first
    rows, their row count read from the sheet's XML."""
    import zipfile

    parts = _sheet_xml(exported[0] / FILES["xlsx"])
    csvs = _run_csvs(run_out[0])
    with zipfile.ZipFile(exported[0] / FILES["xlsx"]) as z:
        for sheet, rel in _expected_sheets(run_out[0]):
            t, _ = csvs[rel]
            with open(run_out[0] / rel, newline="", encoding="utf-8") as f:
                text = list(csv.reader(f))
            cells = len(text) * len(text[0])
            limit = None if cells <= SMALL_SHEET else 200
            got = list(workbook[sheet].iter_rows(values_only=True, max_row=limit))
            assert list(got[0]) == text[0], sheet
            if limit is None:
                assert len(got) == len(text), (sheet, len(got), len(text))
            else:
                assert z.read(parts[sheet]).count(b"<row ") == len(text), sheet
            types = [t.column(c).type for c in text[0]]
            for i, (row, want) in enumerate(zip(got[1:], text[1:], strict=False), start=2):
                assert len(row) == len(want), (sheet, i)
                for cell, w, typ, col in zip(row, want, types, text[0], strict=True):
                    assert _same(cell, w, typ), (sheet, i, col, cell, w)


def test_wards_sheet_carries_the_groups(workbook, wards_csv):
    rows = list(workbook["wards"].iter_rows(values_only=True))
    cols = {c: i for i, c in enumerate(rows[0])}
    got = {r[cols["ward_code"]]: r[cols["group"]] for r in rows[1:]}
    assert got == dict(zip(wards_csv["ward_code"], wards_csv["group"], strict=True))


def test_workbook_is_byte_reproducible(results, exported, tmp_path):
    """Two writes of the same tables give the same bytes; the zip entries carry one fixed date."""
    import zipfile

    from leftbehind.report.build import workbook_tables
    from leftbehind.report.exports import excel

    excel(workbook_tables(results), tmp_path / "again.xlsx")
    assert (tmp_path / "again.xlsx").read_bytes() == (exported[0] / FILES["xlsx"]).read_bytes()
    with zipfile.ZipFile(tmp_path / "again.xlsx") as z:
        assert len({i.date_time for i in z.infolist()}) == 1
        assert b"<dcterms:created" in z.read("docProps/core.xml")


def test_workbook_from_memory_equals_workbook_from_csv(results, tmp_path):
    """`run --exports` writes the workbook from the tables in memory, `report` from the CSV files:
    the same bytes (floats rounded as the CSV rounds them, integers with blanks still integers,
    text that looks like a number still text)."""
    from leftbehind.io import csv_to
    from leftbehind.report.exports import excel
    from leftbehind.report.tables import read_table

    memory, back = {}, {}
    for name in ("wards", "outcomes", "claims", "index_fits"):
        t = results.tables[name].copy()
        floats = t.select_dtypes("floating").columns
        t[floats] = t[floats] + 1e-9  # more decimals than the CSV keeps
        memory[name] = t
        csv_to(t, tmp_path / f"{name}.csv")
        back[name] = read_table(tmp_path / f"{name}.csv", registry()[name])
    excel(memory, tmp_path / "memory.xlsx")
    excel(back, tmp_path / "back.xlsx")
    assert (tmp_path / "memory.xlsx").read_bytes() == (tmp_path / "back.xlsx").read_bytes()


def test_excel_writes_only_the_tables_it_is_given(results, tmp_path):
    """One sheet per table *present*: a subset of tables gives exactly those sheets, in registry order."""
    import openpyxl

    from leftbehind.report.exports import excel

    subset = {k: results.tables[k] for k in ("published_checks", "wards")}
    excel(subset, tmp_path / "x.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "x.xlsx", read_only=True)
    try:
        reg = registry()
        assert wb.sheetnames == ["README", reg["wards"].sheet, reg["published_checks"].sheet]
        assert [r[0] for r in _readme(wb)["sheets"]] == [reg["wards"].sheet, reg["published_checks"].sheet]
    finally:
        wb.close()


def _typed(c, n: int):
    values = {
        "str": ["a & <b>", " padded "],
        "int": [1, None],
        "float": [0.25, float("nan")],
        "bool": [True, False],
        "date": ["2020-05-01", "2020-06-01"],
    }[c.type]
    return (values * n)[:n]


def test_excel_takes_the_tables_of_later_commands(tmp_path):
    """The tables of robustness, history, spatial and target (edition "any") get their declared
    sheets, with typed cells: escaped and space-preserving text, integers, blanks, booleans."""
    import openpyxl

    from leftbehind.report.exports import excel

    later = {n: t for n, t in registry().items() if t.edition == "any" and not t.template}
    frames = {n: pd.DataFrame({c.name: _typed(c, 2) for c in t.columns if not c.is_family}) for n, t in later.items()}
    excel(frames, tmp_path / "later.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "later.xlsx", read_only=True)
    try:
        assert wb.sheetnames == ["README", *(t.sheet for t in later.values())]
        for n, t in later.items():
            rows = list(wb[t.sheet].iter_rows(values_only=True))
            assert list(rows[0]) == list(frames[n].columns) and len(rows) == 3
            for j, col in enumerate(frames[n].columns):
                want = frames[n][col].tolist()
                got = [r[j] for r in rows[1:]]
                if t.column(col).type == "float":
                    assert got == [0.25, None], (n, col)
                else:
                    assert got == [None if pd.isna(w) else w for w in want], (n, col, got)
    finally:
        wb.close()


# ---------------------------------------------------------------- GeoJSON


@pytest.fixture(scope="module")
def features(exported) -> dict:
    data = json.loads((exported[0] / FILES["geojson"]).read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    return data


def test_geojson_is_valid_with_one_feature_per_shaped_ward(features, shaped_codes):
    import shapely.geometry

    feats = features["features"]
    assert all(f["type"] == "Feature" for f in feats)
    codes = [f["properties"]["ward_code"] for f in feats]
    assert len(codes) == len(set(codes)) == WARDS_WITH_SHAPES
    assert set(codes) == shaped_codes  # none of the 12 unshaped wards, no non-CNI ward
    minx, miny, maxx, maxy = ENGLAND_BOUNDS
    for f in feats:
        geom = f["geometry"]
        assert geom["type"] in ("Polygon", "MultiPolygon"), f["properties"]["ward_code"]
        shp = shapely.geometry.shape(geom)
        assert not shp.is_empty and shp.area > 0, f["properties"]["ward_code"]
        x0, y0, x1, y1 = shp.bounds  # WGS84 longitude / latitude, not British National Grid metres
        assert minx <= x0 <= x1 <= maxx and miny <= y0 <= y1 <= maxy, (f["properties"]["ward_code"], shp.bounds)


def test_geojson_coordinates_have_at_most_five_decimals(features):
    coords = np.concatenate(
        [np.asarray(_flatten(f["geometry"]["coordinates"]), dtype=float) for f in features["features"]]
    )
    assert len(coords) > 100_000
    assert np.array_equal(np.round(coords, 5), coords)
    assert not np.array_equal(np.round(coords, 4), coords)  # 5 dp (about a metre), not coarser


def _flatten(c) -> list[float]:
    if isinstance(c, int | float):
        return [c]
    return [x for part in c for x in _flatten(part)]


def test_geojson_properties_carry_the_ward_table(features, wards_csv, shaped_codes):
    w = wards_csv.set_index("ward_code")
    props = pd.DataFrame([f["properties"] for f in features["features"]]).set_index("ward_code")
    assert {"ward_name", "lad_code", "lad_name", "region_name", "group", "population", "cni_rank", "imd_rank"} <= set(
        props.columns
    )
    assert props["group"].to_dict() == w.loc[props.index, "group"].to_dict()
    assert props["ward_name"].to_dict() == w.loc[props.index, "ward_name"].to_dict()
    assert props["lad_code"].to_dict() == w.loc[props.index, "lad_code"].to_dict()
    assert (props["cni_rank"] == w.loc[props.index, "cni_rank"]).all()
    # left-behind features: exactly the left-behind wards that have a shape
    lb = set(w.index[w["group"] == "left_behind"])
    assert set(props.index[props["group"] == "left_behind"]) == lb & shaped_codes
    assert (props["group"] == "left_behind").sum() == len(lb & shaped_codes) > 200


# ---------------------------------------------------------------- the current edition (--edition 2025)


@pytest.fixture(scope="module")
def results_2025(run_2025):
    from leftbehind.report.tables import read_results

    return read_results(run_2025[0])


@pytest.fixture(scope="module")
def exported_2025(results_2025, ctx, tmp_path_factory):
    """Maps, layers and the workbook of the 2025 run, written by write_report into an empty folder."""
    from leftbehind.report.build import write_report

    folder = tmp_path_factory.mktemp("exports2025")
    written = write_report(results_2025, folder, ("png", "geojson", "xlsx"), ctx=ctx, atomic=True)
    return folder, written


def _declared(kind: str, tables) -> list:
    from leftbehind.report.registry import files

    return [f for f in files().values() if getattr(f, kind) and getattr(f, kind)["table"] in tables]


def test_2025_writes_a_map_and_a_layer_per_edition_and_unit(exported_2025, results_2025):
    folder, written = exported_2025
    maps = [f.path for f in _declared("map", results_2025.tables)]
    layers = [f.path for f in _declared("layer", results_2025.tables)]
    assert written == [*maps, *layers, FILES["xlsx"]]  # in the order asked: png, geojson, xlsx
    assert {"map.png", "current/map_lsoa21.png", "current/map_wards24.png", "current/map_msoa21.png"} <= set(maps)
    assert {"wards.geojson", "current/lsoa21.geojson", "current/wards24.geojson", "current/msoa21.geojson"} <= set(
        layers
    )
    leftovers = [p for p in folder.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp")]
    assert leftovers == []


@pytest.mark.parametrize("unit", ["lsoa21", "wards24", "msoa21"])
def test_unit_layer_is_valid_geojson_with_the_unit_table(exported_2025, results_2025, unit):
    """geopandas reads it; one feature per row of the unit's table, with the declared columns (group,
    ranks, names, population) as properties, in WGS84 to 5 decimals, within England."""
    import geopandas as gpd
    import shapely

    from leftbehind.report.registry import files, registry

    f = files()[f"{unit}_geojson"]
    t = registry()[f.layer["table"]]
    table = results_2025.tables[t.name]
    key = t.key[0]
    g = gpd.read_file(exported_2025[0] / f.path)
    assert g.crs is not None and g.crs.to_epsg() == 4326
    assert len(g) == len(table) and g[key].is_unique
    assert set(g[key]) == set(table[key])
    assert list(g.columns[:-1]) == f.layer["columns"] and {"group", "population", "cni_rank", "imd_rank"} <= set(
        g.columns
    )
    tab = table.set_index(key)
    assert (g.set_index(key)["group"] == tab.loc[g[key], "group"]).all()
    assert (g.set_index(key)["cni_rank"] == tab.loc[g[key], "cni_rank"]).all()
    name = next(c for c in f.layer["columns"] if c.endswith("_name"))
    assert g[name].notna().all()
    assert not shapely.is_empty(g.geometry.values).any() and (shapely.area(g.geometry.values) > 0).all()
    x0, y0, x1, y1 = g.total_bounds
    minx, miny, maxx, maxy = ENGLAND_BOUNDS
    assert minx <= x0 < x1 <= maxx and miny <= y0 < y1 <= maxy
    xy = shapely.get_coordinates(g.geometry.values[:500])
    assert np.array_equal(np.round(xy, 5), xy)


def test_layers_are_deterministic(exported_2025, results_2025, ctx, tmp_path):
    """The same table and shapes give the same bytes (the MSOA layer, the quickest to write again)."""
    from leftbehind.report.build import _layer, _Shapes
    from leftbehind.report.registry import files, registry

    f = files()["msoa21_geojson"]
    _layer(results_2025, registry()[f.layer["table"]], f, tmp_path / "again.geojson", _Shapes(ctx))
    assert (tmp_path / "again.geojson").read_bytes() == (exported_2025[0] / f.path).read_bytes()


def test_maps_differ_between_editions_and_units(exported, exported_2025, results_2025):
    """Each edition and unit has its own picture (the 2020 wards, LSOA 2021, wards 2024, MSOA 2021),
    each a valid PNG titled with its edition and unit."""
    from PIL import Image

    from leftbehind.report.build import _edition_title
    from leftbehind.report.exports import UNIT_TITLES

    maps = {f.path: f.map["unit"] for f in _declared("map", results_2025.tables)}
    pngs = {rel: (exported_2025[0] / rel).read_bytes() for rel in maps}
    for rel, data in pngs.items():
        assert data[:8] == PNG_SIGNATURE, rel
        with Image.open(exported_2025[0] / rel) as im:
            im.verify()
    assert len(set(pngs.values())) == len(pngs)  # four different pictures
    assert (exported[0] / FILES["png"]).read_bytes() != pngs["current/map_lsoa21.png"]
    for unit in maps.values():
        title = _edition_title(results_2025, unit)
        assert UNIT_TITLES[unit] in title and ("2020 edition" if unit == "wards17" else "2025 edition") in title


def test_2025_workbook_has_a_sheet_per_csv(exported_2025, run_2025):
    import openpyxl

    wb = openpyxl.load_workbook(exported_2025[0] / FILES["xlsx"], read_only=True)
    try:
        expected = _expected_sheets(run_2025[0])
        assert wb.sheetnames == ["README", *(s for s, _ in expected)]
        files = {f for _, f in expected}
        assert {"lsoa21.csv", "current/outcomes.csv", "current/wards24.csv", "current/msoa21.csv"} <= files
        assert [r[1] for r in _readme(wb)["sheets"]] == [f for _, f in expected]
        rows = list(wb["lsoa21"].iter_rows(values_only=True, max_row=3))
        assert rows[0][:2] == ("lsoa21_code", "lsoa21_name") and all(isinstance(r[1], str) for r in rows[1:])
    finally:
        wb.close()
