"""The document and GIS exports of a finished run: map.png, leftbehind.xlsx and wards.geojson.

They are built once (``write_report`` with every export but the HTML, atomically) from the shared
default run read back with ``read_results``, and checked against the run's own CSV files, the
output registry and the ONS LSOA -> ward best-fit lookup (an independent source of which wards
can have a shape at all).
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


@pytest.fixture(scope="module")
def workbook(exported):
    import openpyxl

    wb = openpyxl.load_workbook(exported[0] / FILES["xlsx"], read_only=True)
    yield wb
    wb.close()


def _sheets_of(tables) -> dict[str, object]:
    return {n: t for n, t in registry().items() if n in tables and not t.template}


def test_workbook_has_a_readme_and_one_sheet_per_table(workbook, results, run_out):
    reg = _sheets_of(results.tables)
    # every table of the run is a registry table with a CSV file in the run folder
    assert {n for n, t in registry().items() if not t.template and (run_out[0] / t.path).is_file()} == set(reg)
    assert workbook.sheetnames == ["README", *(t.sheet for t in reg.values())]  # registry order
    assert len(set(workbook.sheetnames)) == len(workbook.sheetnames)
    assert all(len(s) <= 31 for s in workbook.sheetnames)  # Excel's limit

    rows = list(workbook["README"].iter_rows(values_only=True))
    assert rows[0] == ("sheet", "about")
    listed = [r for r in rows[1:] if r[0]]
    assert [r[0] for r in listed] == [t.sheet for t in reg.values()]
    for (_, about), t in zip(listed, reg.values(), strict=True):
        assert about.startswith(f"{t.path}: {t.title}")
    preamble = " ".join(r[1] for r in rows[1:] if not r[0])
    assert "NOT open data" in preamble and "Open Government Licence v3.0" in preamble


def test_each_sheet_matches_its_csv(workbook, results, run_out):
    """Same header, same number of rows, same empty cells per column and same first column as
    the CSV file of the table."""
    for name, t in _sheets_of(results.tables).items():
        path = run_out[0] / t.path
        header = _csv_header(path)
        df = pd.read_csv(path)
        rows = list(workbook[t.sheet].iter_rows(values_only=True))
        assert list(rows[0]) == header, name
        body = rows[1:]
        assert len(body) == len(df), (name, len(body), len(df))
        assert all(len(r) == len(header) for r in body), name
        blanks = [sum(1 for r in body if r[i] is None or r[i] == "") for i in range(len(header))]
        assert blanks == df.isna().sum().tolist(), name
        first = [r[0] for r in body]
        expect = df.iloc[:, 0].tolist()
        if df.iloc[:, 0].dtype.kind == "f":
            assert all(
                (isinstance(e, float) and math.isnan(e) and f is None) or f == pytest.approx(e)
                for f, e in zip(first, expect, strict=True)
            ), name
        else:
            assert [None if f is None else str(f) for f in first] == [None if pd.isna(e) else str(e) for e in expect], (
                name
            )


def test_wards_sheet_carries_the_groups(workbook, wards_csv):
    rows = list(workbook["wards"].iter_rows(values_only=True))
    cols = {c: i for i, c in enumerate(rows[0])}
    got = {r[cols["ward_code"]]: r[cols["group"]] for r in rows[1:]}
    assert got == dict(zip(wards_csv["ward_code"], wards_csv["group"], strict=True))


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
        readme = [r[0] for r in wb["README"].iter_rows(min_row=2, values_only=True) if r[0]]
        assert readme == [reg["wards"].sheet, reg["published_checks"].sheet]
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
