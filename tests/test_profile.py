"""`leftbehind profile`: custom areas as polygons or LSOA lists, on the real data; bad geometries."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from leftbehind.cli import app

MSOAS = ["Birmingham 050", "Hartlepool 009", "Manchester 012"]


@pytest.fixture(scope="module")
def msoa_polygons(shared_data):
    import geopandas as gpd

    g = gpd.read_file(f"/vsigzip/{shared_data / 'boundaries/MSOA_Dec2021_BSC_England_geographr.geojson.gz'}")
    return g[g["msoa21_name"].isin(MSOAS)].rename(columns={"msoa21_name": "name"})[["name", "geometry"]]


def _write(g, path):
    g.to_file(path, driver="GeoJSON")
    return path


def test_three_msoa_polygons_report_their_population(msoa_polygons, tmp_path, shared_data, ctx):
    """Each profile's population is the Census 2021 sum over the LSOAs it assigned, and the
    uncertainty it reports is the share of those residents in LSOAs the boundary splits."""
    areas = _write(msoa_polygons, tmp_path / "three.geojson")
    out = tmp_path / "p"
    res = CliRunner().invoke(app, ["profile", str(areas), "--out", str(out), "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    p = pd.read_csv(out / "profiles.csv").set_index("area")
    assert sorted(p.index) == sorted(MSOAS)
    from leftbehind.analysis.profile import read_areas

    a = read_areas(areas, ctx)
    pop = ctx.load("census21_disability_lsoa21").groupby("lsoa21cd")["total_residents"].first()
    for name in MSOAS:
        codes = a.loc[a["area_id"] == name, "lsoa21cd"]
        assert p.loc[name, "population"] == pytest.approx(pop.reindex(codes).sum(), abs=0.5)
        assert 0 <= p.loc[name, "population_uncertain_share"] <= 1
        assert 0 <= p.loc[name, "cni_national_percentile"] <= 100
    # Birmingham 050's polygon holds exactly its own six LSOAs (Birmingham 050A...)
    b = a[a["area_id"] == "Birmingham 050"]
    names = ctx.load("cni2023_lsoa21").set_index("lsoa21cd").loc[b["lsoa21cd"], "lsoa21nm"]
    assert names.str.startswith("Birmingham 050").all() and len(b) == 6
    html = (out / "profiles" / "birmingham-050.html").read_text()
    assert "Birmingham 050" in html and "http" not in html.split("<body>")[1].split("Made by")[0]


def test_csv_areas(tmp_path, shared_data):
    f = tmp_path / "a.csv"
    f.write_text("area_id,lsoa21_code\nEast,E01012019\nEast,E01012020\nWest,E01000001\n")
    res = CliRunner().invoke(
        app, ["profile", str(f), "--out", str(tmp_path / "o"), "--data", str(shared_data), "--comparator", "Leeds"]
    )
    assert res.exit_code == 0, res.output
    p = pd.read_csv(tmp_path / "o" / "profiles.csv").set_index("area")
    assert p.loc["East", "lsoas"] == 2 and p.loc["West", "population_uncertain_share"] == 0
    assert (p["comparator"] == "Leeds").all()


def _bad_geojson(tmp_path, features, crs=True):
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    p = tmp_path / "bad.geojson"
    p.write_text(json.dumps(doc))
    return p


def _poly(name, ring):
    return {"type": "Feature", "properties": {"name": name}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


SQUARE = [[-1.30, 54.68], [-1.20, 54.68], [-1.20, 54.72], [-1.30, 54.72], [-1.30, 54.68]]  # Hartlepool
BOWTIE = [[-1.30, 54.68], [-1.20, 54.72], [-1.20, 54.68], [-1.30, 54.72], [-1.30, 54.68]]
SEA = [[2.0, 54.0], [2.1, 54.0], [2.1, 54.1], [2.0, 54.1], [2.0, 54.0]]
TINY = [[-1.2500, 54.7000], [-1.2499, 54.7000], [-1.2499, 54.7001], [-1.2500, 54.7001], [-1.2500, 54.7000]]


@pytest.mark.parametrize(
    "features, fragment",
    [
        ([_poly("x", BOWTIE)], "is invalid"),
        ([_poly("x", SQUARE), _poly("x", SQUARE)], "used twice"),
        ([_poly("x", SEA)], "outside England"),
        ([_poly("x", TINY)], "empty overlap"),
        (
            [
                {
                    "type": "Feature",
                    "properties": {"name": "p"},
                    "geometry": {"type": "Point", "coordinates": [-1.2, 54.7]},
                }
            ],
            "not a polygon",
        ),
    ],
)
def test_bad_polygons_are_one_clear_error(features, fragment, tmp_path, shared_data):
    f = _bad_geojson(tmp_path, features)
    res = CliRunner().invoke(app, ["profile", str(f), "--out", str(tmp_path / "o"), "--data", str(shared_data)])
    assert res.exit_code == 2 and fragment in res.output, res.output
    assert "Traceback" not in res.output and not (tmp_path / "o").exists()


def test_other_bad_inputs(tmp_path, shared_data):
    run = lambda *a: CliRunner().invoke(app, ["profile", *a, "--out", str(tmp_path / "o"), "--data", str(shared_data)])  # noqa: E731
    res = run(str(tmp_path / "none.geojson"))
    assert res.exit_code == 2 and "not found" in res.output
    f = tmp_path / "a.csv"
    f.write_text("area_id,lsoa21_code\nA,E01999999\n")
    res = run(str(f))
    assert res.exit_code == 2 and "not an English LSOA 2021 code" in res.output
    f.write_text("id,code\nA,E01012019\n")
    res = run(str(f))
    assert res.exit_code == 2 and "needs columns area_id and lsoa21_code" in res.output
    g = tmp_path / "nocrs.json"
    g.write_text(json.dumps({"type": "FeatureCollection", "features": [_poly("x", SQUARE)]}))
    res = run(str(g))
    assert res.exit_code in (0, 2)  # GeoJSON without a crs member is WGS84 by RFC 7946
