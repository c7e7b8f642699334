"""`leftbehind profile`: custom areas as polygons or LSOA lists, on the real data; bad geometries."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from leftbehind.analysis.profile import page_names, profile_pages, read_areas
from leftbehind.cli import app
from leftbehind.errors import DataError

MSOAS = ["Birmingham 050", "Hartlepool 009", "Manchester 012"]


@pytest.fixture(scope="module")
def msoa_polygons(shared_data):
    import geopandas as gpd

    g = gpd.read_file(f"/vsigzip/{shared_data / 'boundaries/MSOA_Dec2021_BSC_England_geographr.geojson.gz'}")
    return g[g["msoa21_name"].isin(MSOAS)].rename(columns={"msoa21_name": "name"})[["name", "geometry"]]


def _write(g, path):
    g.to_file(path, driver="GeoJSON")
    return path


def _one(out, name):
    """The one file called ``name`` under ``out`` (DIR/profiles.csv, or DIR/profile/KEY/profiles.csv
    in the sectioned output folder)."""
    found = sorted(out.rglob(name))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.realdata
def test_three_msoa_polygons_report_their_population(msoa_polygons, tmp_path, shared_data, ctx):
    """Each profile's population is the Census 2021 sum over the LSOAs it assigned, and the
    uncertainty it reports is the share of those residents in LSOAs the boundary splits."""
    areas = _write(msoa_polygons, tmp_path / "three.geojson")
    out = tmp_path / "p"
    res = CliRunner().invoke(app, ["profile", str(areas), "--out", str(out), "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    p = pd.read_csv(_one(out, "profiles.csv")).set_index("area")
    assert sorted(p.index) == sorted(MSOAS)
    a = read_areas(areas, ctx)
    pop = ctx.load("census21_disability_lsoa21").groupby("lsoa21cd")["total_residents"].first()
    for name in MSOAS:
        codes = a.loc[a["area_id"] == name, "lsoa21cd"]
        assert p.loc[name, "population"] == pytest.approx(pop.reindex(codes).sum(), abs=0.5)
        assert p.loc[name, "population_uncertain_share"] == 0  # official MSOA polygons: exactly their LSOAs
        assert 0 <= p.loc[name, "cni_national_percentile"] <= 100
    # Birmingham 050's polygon holds exactly its own six LSOAs (Birmingham 050A...)
    b = a[a["area_id"] == "Birmingham 050"]
    names = ctx.load("cni2023_lsoa21").set_index("lsoa21cd").loc[b["lsoa21cd"], "lsoa21nm"]
    assert names.str.startswith("Birmingham 050").all() and len(b) == 6
    html = _one(out, "birmingham-050.html").read_text()
    assert "Birmingham 050" in html and "http" not in html.split("<body>")[1].split("Made by")[0]


@pytest.mark.realdata
def test_csv_areas(tmp_path, shared_data):
    f = tmp_path / "a.csv"
    f.write_text("area_id,lsoa21_code\nEast,E01012019\nEast,E01012020\nWest,E01000001\n")
    res = CliRunner().invoke(
        app, ["profile", str(f), "--out", str(tmp_path / "o"), "--data", str(shared_data), "--comparator", "Leeds"]
    )
    assert res.exit_code == 0, res.output
    p = pd.read_csv(_one(tmp_path / "o", "profiles.csv")).set_index("area")
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


@pytest.mark.realdata
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


@pytest.mark.realdata
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


# ---------------------------------------------------------------- exact boundaries (issue 19, item 12)


def _official_lookup(ctx) -> pd.Series:
    """LSOA 2021 -> MSOA 2021 name, from the ONS LSOA names (``Bolton 026A`` is in ``Bolton 026``)."""
    nm = ctx.load("cni2023_lsoa21")[["lsoa21cd", "lsoa21nm"]]
    return pd.Series(nm["lsoa21nm"].str.slice(0, -1).to_numpy(), index=nm["lsoa21cd"].to_numpy())


@pytest.mark.realdata
def test_polygons_along_lsoa_boundaries_get_exactly_those_lsoas(tmp_path, ctx):
    """Polygons dissolved from real LSOA 2021 polygons (crossing MSOA lines) get exactly their LSOAs,
    0% uncertain, after a round trip through a WGS 84 GeoJSON."""
    import geopandas as gpd

    from leftbehind.analysis.current import area_table
    from leftbehind.analysis.profile import lsoa_polygons, profiles
    from leftbehind.editions import edition

    lsoa = lsoa_polygons(ctx).set_index("lsoa21cd")
    seed = lsoa.loc[["E01011969", "E01004830"]]  # Hartlepool (De Bruce), Bolton 026
    want = {}
    for code, geom in seed.geometry.items():
        touching = lsoa.index[lsoa.geometry.intersects(geom.buffer(1))]  # it and its neighbours
        want[f"around {code}"] = set(touching)
        assert 5 <= len(touching) <= 15
    g = gpd.GeoDataFrame(
        {"name": list(want)}, geometry=[lsoa.loc[sorted(v)].geometry.union_all() for v in want.values()], crs=lsoa.crs
    )
    a = read_areas(_write(g.to_crs(4326), tmp_path / "dissolved.geojson"), ctx)
    for name, codes in want.items():
        assert set(a.loc[a["area_id"] == name, "lsoa21cd"]) == codes
    assert not a["uncertain"].any()
    p = profiles(a, area_table(edition("2025"), 0.10, ctx=ctx), ctx)
    assert (p["population_uncertain_share"] == 0).all() and sorted(p["area"]) == sorted(want)


@pytest.mark.realdata
def test_official_msoa_polygons_get_exactly_their_lsoas(tmp_path, shared_data, ctx):
    """300 official MSOA 2021 polygons (fixed seed, with Bolton 026, which took a fifth LSOA by the
    centroid rule) get exactly their LSOAs per the ONS names. All 6,856 at once do too (by hand)."""
    import geopandas as gpd

    g = gpd.read_file(f"/vsigzip/{shared_data / 'boundaries/MSOA_Dec2021_BSC_England_geographr.geojson.gz'}")
    g = g.rename(columns={"msoa21_name": "name"})[["name", "geometry"]]
    pick = pd.concat([g[g["name"] == "Bolton 026"], g[g["name"] != "Bolton 026"].sample(299, random_state=19)])
    a = read_areas(_write(pick, tmp_path / "msoas.geojson"), ctx)
    lk = _official_lookup(ctx)
    want = lk[lk.isin(pick["name"])]
    got = a.set_index("lsoa21cd")["area_id"]
    assert not got.index.duplicated().any() and not a["uncertain"].any()
    assert got.sort_index().equals(want.sort_index().rename("area_id").rename_axis("lsoa21cd"))
    assert len(got[got == "Bolton 026"]) == 4


def test_a_null_or_empty_name_is_one_error(tmp_path):
    """Names are checked before any data is read: one error naming the features (counted from 1)."""
    f = _bad_geojson(tmp_path, [_poly("ok", SQUARE), _poly(None, SQUARE), _poly("  ", SQUARE)])
    with pytest.raises(DataError, match=r"features 2, 3 \(counting from 1.*no name") as e:
        read_areas(f, None)
    assert "non-empty 'name'" in e.value.hint
    f = _bad_geojson(tmp_path, [_poly(None, SQUARE)])
    with pytest.raises(DataError, match="feature 1 "):
        read_areas(f, None)


def test_names_with_the_same_slug_get_distinct_pages():
    names = ["Ward A", "ward a", "WARD-A", "ward-a-2", "Ward A!", "con", "", "é" * 3]
    stems = page_names(names)
    assert stems == ["ward-a", "ward-a-3", "ward-a-4", "ward-a-2", "ward-a-5", "con-area", "area", "area-2"]
    assert page_names(["B", "A", "b"]) == ["b", "a", "b-2"]  # in order: the first keeps its slug
    row = {
        "area": "x",
        "lad_name": "L",
        "region_name": "R",
        "comparator": "L",
        "lsoas": 1,
        "population": 1.0,
        "population_uncertain_share": 0.0,
        "cni_score": 1.0,
        "cni_national_percentile": 1.0,
        "imd_score": 1.0,
        "imd_national_percentile": 1.0,
        "imd_proportion_decile_1": 0.0,
        "share_in_left_behind_lsoas": 0.0,
    }
    t = pd.DataFrame([{**row, "area": n} for n in ["Ward A", "ward a", "Ward A!"]])
    pages = profile_pages(t, [])
    assert list(pages) == ["ward-a.html", "ward-a-2.html", "ward-a-3.html"]
    assert "<h1>ward a</h1>" in pages["ward-a-2.html"]


@pytest.mark.realdata
def test_polygons_with_no_lsoa_are_counted_in_one_error(tmp_path, shared_data):
    far = [[x + 1.0, y] for x, y in SEA]
    tiny2 = [[x + 0.01, y] for x, y in TINY]
    feats = [_poly("sea", SEA), _poly("Hartlepool", SQUARE), _poly("far sea", far), _poly("tiny", TINY)]
    f = _bad_geojson(tmp_path, [*feats, _poly("tiny 2", tiny2)])
    res = CliRunner().invoke(app, ["profile", str(f), "--out", str(tmp_path / "o"), "--data", str(shared_data)])
    assert res.exit_code == 2, res.output
    out = " ".join(res.output.split())
    assert "4 of 5 polygons get no LSOA 2021" in out and "'sea', 'far sea', 'tiny', 'tiny 2'" in out
    assert "2 cover no English LSOA 2021 (outside England?)" in out and "2 hold no LSOA" in out
    assert "Hartlepool" not in out.split("get no LSOA")[1] and not (tmp_path / "o").exists()
