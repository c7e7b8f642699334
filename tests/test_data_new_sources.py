"""The 14 files added to the mirror in December 2026 (SOURCES.md, last section): each reads
through its declared reader from the real mirror, in place, and shows the facts SOURCES.md
states. Also the reader features they need: GeoJSON boundary files, composite keys, LSOA 2001
codes."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re

import numpy as np
import pandas as pd
import pytest

from leftbehind.data import load, load_catalogue, resolve
from leftbehind.data.readers import read_file
from leftbehind.data.schemas import SPECS
from leftbehind.errors import DataError

NEW = {
    "lookup_lsoa21_wd24": "lookups/geographr_lookup_lsoa21_ward24_ltla24.csv",
    "lookup_lad24_region24": "lookups/geographr_lookup_ltla24_region24.csv",
    "lookup_msoa11_msoa21": "lookups/geographr_lookup_msoa11_msoa21_ltla22.csv",
    "boundaries_lsoa21": "boundaries/LSOA_Dec2021_BSC_England_geographr.geojson.gz",
    "boundaries_msoa21": "boundaries/MSOA_Dec2021_BSC_England_geographr.geojson.gz",
    "boundaries_wards22": "boundaries/Wards_Dec2022_BSC_England_geographr.geojson.gz",
    "ruc21_msoa21": "indicators/ruc21_msoa21_rural_urban_classification.csv",
    "imd2010_domains": "imd2010/imd2010_england_lsoa01_domains.csv",
    "imd2010_subdomains": "imd2010/imd2010_england_lsoa01_subdomains.csv",
    "imd2007_lsoa01": "imd2010/imd2007_england_lsoa01.csv",
    "imd2004_lsoa01": "imd2010/imd2004_england_lsoa01.csv",
    "lookup_lsoa01_lsoa11": "lookups/geographr_lookup_lsoa01_lsoa11.csv",
    "pride_in_place_phase2": "programmes/pride_in_place_phase2_146_neighbourhoods_england_sep2025.csv",
    "pride_in_place_cohort3": "programmes/pride_in_place_cohort3_40_neighbourhoods_england_mar2026.csv",
}
#: rows each reader returns (the file's rows, or the declared England subset)
ROWS = {
    "lookup_lsoa21_wd24": 33_755,
    "lookup_lad24_region24": 296,
    "lookup_msoa11_msoa21": 7_201,
    "boundaries_lsoa21": 33_755,
    "boundaries_msoa21": 6_856,
    "boundaries_wards22": 6_904,
    "ruc21_msoa21": 7_264,
    "imd2010_domains": 32_482,
    "imd2010_subdomains": 32_482,
    "imd2007_lsoa01": 32_482,
    "imd2004_lsoa01": 32_482,
    "lookup_lsoa01_lsoa11": 34_917,
    "pride_in_place_phase2": 146,
    "pride_in_place_cohort3": 40,
}


def test_each_new_file_has_one_catalogue_entry_and_a_reader():
    cat = load_catalogue()
    for ds, file in NEW.items():
        entry = cat[ds]
        assert entry.file == file
        assert entry.download_url is None and entry.notes
        assert entry.is_open_data, ds  # ONS/DCLG/ODPM data and the gov.uk programme lists: OGL
        assert SPECS[ds].rows == ROWS[ds]
    assert cat["imd2010_domains"].vintage == "2001"
    assert "package author" in cat["imd2010_domains"].notes  # deciles are not published


@pytest.mark.parametrize("dataset", sorted(NEW))
def test_new_dataset_reads_with_its_declared_columns(shared_data, dataset):
    df = load(dataset, shared_data)
    spec = SPECS[dataset]
    assert len(df) == ROWS[dataset]
    assert list(df.columns) == [c.name for c in spec.all_columns]
    assert df.attrs["provenance"]["sha256"] == load_catalogue()[dataset].sha256


def test_lookup_lsoa21_wd24(shared_data):
    lk = load("lookup_lsoa21_wd24", shared_data)
    assert len(lk) == 33_755 and lk["lsoa21cd"].is_unique  # England rows of 35,672 (1,917 Welsh left out)
    assert lk["lsoa21cd"].str.match(r"^E01\d{6}$").all()
    assert lk["wd24cd"].str.match(r"^E05\d{6}$").all() and lk["wd24cd"].nunique() == 6_784
    assert lk["lad24cd"].nunique() == 296
    # the same LSOAs as IoD2025, and the same LAD 2024s as the region lookup
    assert set(lk["lsoa21cd"]) == set(load("iod2025_scores", shared_data)["lsoa21cd"])
    assert set(lk["lad24cd"]) == set(load("lookup_lad24_region24", shared_data)["lad24cd"])
    row = lk.set_index("lsoa21cd").loc["E01012049"]
    assert (row["lsoa21nm"], row["wd24nm"], row["lad24nm"]) == ("Middlesbrough 014A", "Ladgate", "Middlesbrough")


def test_lookup_lad24_region24(shared_data):
    r = load("lookup_lad24_region24", shared_data)
    assert len(r) == 296 and r["lad24cd"].is_unique
    assert r["rgn24cd"].nunique() == 9
    counts = r.groupby("rgn24nm").size()
    assert counts["London"] == 33 and counts["North East"] == 12 and counts["South East"] == 64


def test_lookup_msoa11_msoa21(shared_data):
    m = load("lookup_msoa11_msoa21", shared_data)
    assert len(m) == 7_201 and m["msoa11cd"].is_unique  # one row per MSOA 2011 (E&W)
    assert int(m["msoa21cd"].duplicated().sum()) == 19  # MSOA 2021s that receive two MSOA 2011s
    b = load("boundaries_msoa21", shared_data)
    english = set(m.loc[m["msoa21cd"].str.startswith("E"), "msoa21cd"])
    assert english <= set(b["msoa21cd"]) and len(set(b["msoa21cd"]) - english) == 81  # not every MSOA21


def test_boundaries_lsoa21(shared_data):
    b = load("boundaries_lsoa21", shared_data)
    assert len(b) == 33_755 and b["lsoa21cd"].is_unique
    lk = load("lookup_lsoa21_wd24", shared_data).set_index("lsoa21cd")
    assert (lk.loc[b["lsoa21cd"], "lsoa21nm"].to_numpy() == b["lsoa21nm"].to_numpy()).all()
    # SOURCES.md: an LSOA 2021's MSOA 2021 is the MSOA named like it without the final letter
    msoa_names = set(load("boundaries_msoa21", shared_data)["msoa21nm"])
    parents = b["lsoa21nm"].str[:-1]
    assert parents.isin(msoa_names).all() and parents.nunique() == 6_856


def test_boundaries_msoa21(shared_data):
    b = load("boundaries_msoa21", shared_data)
    assert len(b) == 6_856 and b["msoa21cd"].is_unique
    ruc = load("ruc21_msoa21", shared_data)
    assert set(b["msoa21cd"]) == set(ruc.loc[ruc["msoa21cd"].str.startswith("E"), "msoa21cd"])


def test_boundaries_wards22(shared_data):
    b = load("boundaries_wards22", shared_data)
    assert len(b) == 6_904 and b["wd22cd"].nunique() == 6_903
    dup = b.loc[b["wd22cd"].duplicated(keep=False)]
    assert set(dup["wd22cd"]) == {"E05014284"}
    assert set(dup["wd22nm"]) == {"Hunmanby & Sherburn (part Scarborough)"}
    # 2022 wards, not 2024: most, but not all, ward-2024 codes have a 2022 polygon
    wd24 = set(load("lookup_lsoa21_wd24", shared_data)["wd24cd"])
    assert len(wd24 & set(b["wd22cd"])) == 5_260


def test_boundary_geometries_are_polygons_in_wgs84(shared_data):
    """The reader checks every feature has a polygon; the geometry itself reads with geopandas."""
    path = resolve("boundaries_msoa21", shared_data).path
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    assert doc["crs"]["properties"]["name"] == "urn:ogc:def:crs:OGC:1.3:CRS84"
    assert {f["geometry"]["type"] for f in doc["features"]} == {"MultiPolygon"}
    lon, lat = np.array(doc["features"][0]["geometry"]["coordinates"][0][0]).T
    assert ((lon > -6.5) & (lon < 2) & (lat > 49.8) & (lat < 56)).all()


def test_ruc21_msoa21(shared_data):
    r = load("ruc21_msoa21", shared_data)
    assert len(r) == 7_264 and r["msoa21cd"].is_unique
    assert int(r["msoa21cd"].str.startswith("E").sum()) == 6_856
    assert set(r["ruc21cd"]) == {"UN1", "UF1", "RSN1", "RSF1", "RLN1", "RLF1"}
    assert ((r["urban_rural"] == "Urban") == r["ruc21cd"].str.startswith("U")).all()


def test_imd2010_domains(shared_data):
    d = load("imd2010_domains", shared_data)
    assert len(d) == 32_482 and d["lsoa01cd"].is_unique
    assert int(d["imd_rank"].duplicated().sum()) == 12  # tied IMD ranks in the source: read, not refused
    for m in ("imd", "income", "employment", "education", "health", "crime", "barriers", "living_env"):
        assert d[f"{m}_rank"].between(1, 32_482).all()
        # deciles: 10 equal groups (computed by the package author, not published)
        assert set(d[f"{m}_decile"].value_counts()) <= {3_247, 3_248, 3_249}
    assert d["imd_score"].corr(d["imd_rank"], method="spearman") < -0.999  # rank 1 = most deprived
    row = d.set_index("lsoa01cd").loc["E01000001"]
    assert (row["imd_score"], row["imd_rank"], row["imd_decile"]) == (6.16, 28_814, 9)
    assert row["barriers_score"] == 32.6 and row["living_env_score"] == 26.28  # Housing_and_Access, Environment


def test_imd2010_subdomains(shared_data):
    s = load("imd2010_subdomains", shared_data)
    assert len(s) == 32_482
    for m in ("cyp", "adult_skills", "geog_barriers", "wider_barriers", "indoors", "outdoors"):
        assert s[f"{m}_score"].between(0, 100).all()
        assert set(s[f"{m}_decile"].value_counts()) == {3_248, 3_249}
    assert set(s["lsoa01cd"]) == set(load("imd2010_domains", shared_data)["lsoa01cd"])


@pytest.mark.parametrize(("dataset", "yy"), [("imd2007_lsoa01", "07"), ("imd2004_lsoa01", "04")])
def test_imd2007_and_2004_old_lad_codes(shared_data, dataset, yy):
    d = load(dataset, shared_data)
    assert len(d) == 32_482 and d["lsoa01cd"].is_unique
    assert d[f"lad{yy}cd"].str.fullmatch(r"\d{2}[A-Z]{2}").all() and d[f"lad{yy}cd"].nunique() == 354
    first = d.iloc[0]
    assert (first["lsoa01cd"], first[f"lad{yy}cd"], first[f"lad{yy}nm"]) == ("E01000001", "00AA", "City of London")
    assert d["imd_score"].corr(d["imd_rank"], method="spearman") < -0.999


def test_imd2004_ranks_have_no_ties_but_2007_do(shared_data):
    assert load("imd2004_lsoa01", shared_data)["imd_rank"].is_unique  # declared unique_ranks
    assert int(load("imd2007_lsoa01", shared_data)["imd_rank"].duplicated().sum()) == 23


def test_lookup_lsoa01_lsoa11(shared_data):
    lk = load("lookup_lsoa01_lsoa11", shared_data)
    assert len(lk) == 34_917
    assert lk["change_code"].value_counts().to_dict() == {"U": 33_519, "S": 922, "M": 313, "X": 163}
    assert not lk.duplicated(["lsoa01cd", "lsoa11cd"]).any()
    eng = lk[lk["lsoa01cd"].str.startswith("E")]
    assert set(eng["lsoa01cd"]) == set(load("imd2010_domains", shared_data)["lsoa01cd"])
    lsoa11 = set(load("imd2015_scores", shared_data)["lsoa11cd"])
    assert set(eng["lsoa11cd"]) <= lsoa11
    assert lsoa11 - set(eng["lsoa11cd"]) == {"E01032522", "E01032540", "E01032608", "E01033730"}
    unchanged = lk[lk["change_code"] == "U"]
    assert (unchanged["lsoa01cd"] == unchanged["lsoa11cd"]).all()


def _norm(text: str) -> str:
    text = text.lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text).split())


def _hcl_names(shared_data) -> set[tuple[str, str]]:
    """(local authority, House of Commons Library MSOA name), normalised, for English MSOAs."""
    la = pd.read_csv(resolve("drkane_msoa_la", shared_data).path, dtype=str)
    la = la[la["MSOACD"].str.startswith("E02")]
    return set(zip(la["LADNM_ACTIVE"].map(_norm), la["MSOAHCLNM"].fillna("").map(_norm), strict=True))


def test_pride_in_place_lists(shared_data):
    p2 = load("pride_in_place_phase2", shared_data)
    p3 = load("pride_in_place_cohort3", shared_data)
    assert len(p2) == 146 and len(p3) == 40
    key = ["lad24nm", "neighbourhood_name"]
    assert p2.merge(p3, on=key).empty  # no cohort-3 neighbourhood is a Phase 2 one
    lad24 = set(load("lookup_lad24_region24", shared_data)["lad24nm"])
    assert set(p2["lad24nm"]) <= lad24 and set(p3["lad24nm"]) <= lad24
    hcl = _hcl_names(shared_data)
    # all 40 cohort-3 names are Commons Library MSOA names within their authority
    assert all((_norm(a), _norm(n)) in hcl for a, n in zip(p3["lad24nm"], p3["neighbourhood_name"], strict=True))
    # Phase 2 is spelled as in the source: a few need a reviewed near match
    misses = {
        (a, n) for a, n in zip(p2["lad24nm"], p2["neighbourhood_name"], strict=True) if (_norm(a), _norm(n)) not in hcl
    }
    assert misses == {
        ("Manchester", "Hapurhey South & Monsall"),
        ("North Northamptonshire", "Queensway (North Northamptonshire)"),
        ("Southampton", "Weston (Southampton)"),
        ("South Tyneside", "Biddick Hill"),
    }


# --- reader features the new files need (small synthetic files) ---


def _geojson(path, features, crs="urn:ogc:def:crs:OGC:1.3:CRS84"):
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump(doc, fh)
    return path


def _feature(code, name, geometry="default"):
    if geometry == "default":
        geometry = {"type": "MultiPolygon", "coordinates": [[[[-1, 52], [-1.1, 52], [-1.1, 52.1], [-1, 52]]]]}
    return {"type": "Feature", "properties": {"msoa21_name": name, "msoa21_code": code}, "geometry": geometry}


@pytest.fixture
def msoa_spec():
    return dataclasses.replace(SPECS["boundaries_msoa21"], rows=2)


def test_geojson_properties_read_and_checked(tmp_path, msoa_spec):
    path = _geojson(tmp_path / "m.geojson.gz", [_feature("E02000001", "A 001"), _feature("E02000002", "A 002")])
    df = read_file(path, msoa_spec)
    assert df.to_dict("list") == {"msoa21cd": ["E02000001", "E02000002"], "msoa21nm": ["A 001", "A 002"]}


@pytest.mark.parametrize(
    ("features", "crs", "message"),
    [
        ([_feature("E02000001", "A 001")], None, "expected 2 features, found 1"),
        ([_feature("E02000001", "A 001"), _feature("E02000001", "A 002")], None, "duplicated code 'E02000001'"),
        ([_feature("E02000001", "A 001"), _feature("E01000002", "A 002")], None, "malformed code 'E01000002'"),
        (
            [_feature("E02000001", "A 001"), _feature("E02000002", "A 002", None)],
            None,
            "no polygon geometry \\(feature 2\\)",
        ),
        (
            [
                _feature("E02000001", "A 001"),
                {"type": "Feature", "properties": {"code": "E02000002"}, "geometry": None},
            ],
            None,
            "no polygon geometry",
        ),
        ([_feature("E02000001", "A 001"), _feature("E02000002", "A 002")], "EPSG:27700", "not WGS84"),
        ([], None, "no features"),
    ],
)
def test_geojson_problems_are_data_errors(tmp_path, msoa_spec, features, crs, message):
    path = _geojson(tmp_path / "m.geojson.gz", features, crs=crs or "urn:ogc:def:crs:OGC:1.3:CRS84")
    with pytest.raises(DataError, match=message) as exc:
        read_file(path, msoa_spec)
    assert "dataset boundaries_msoa21" in str(exc.value)


def test_geojson_renamed_property_and_truncated_file(tmp_path, msoa_spec):
    feats = [_feature("E02000001", "A 001"), _feature("E02000002", "A 002")]
    for f in feats:
        f["properties"] = {"name": f["properties"]["msoa21_name"], "code": f["properties"]["msoa21_code"]}
    with pytest.raises(DataError, match=r"missing or renamed column\(s\): msoa21cd"):
        read_file(_geojson(tmp_path / "r.geojson.gz", feats), msoa_spec)
    good = _geojson(tmp_path / "g.geojson.gz", [_feature("E02000001", "A 001"), _feature("E02000002", "A 002")])
    cut = tmp_path / "cut.geojson.gz"
    cut.write_bytes(good.read_bytes()[:-20])
    with pytest.raises(DataError, match="truncated or not valid gzip"):
        read_file(cut, msoa_spec)
    half = tmp_path / "half.geojson"
    half.write_text(gzip.decompress(good.read_bytes()).decode()[:-30])
    with pytest.raises(DataError, match="not valid JSON"):
        read_file(half, msoa_spec)


def test_programme_key_must_be_unique(tmp_path):
    spec = dataclasses.replace(SPECS["pride_in_place_cohort3"], rows=3)
    path = tmp_path / "p.csv"
    path.write_text("local_authority_name,neighbourhood_name\nMedway,Chatham\nMedway,Gillingham\nMedway,Chatham\n")
    with pytest.raises(
        DataError, match=r"lad24nm='Medway', neighbourhood_name='Chatham' appears more than once \(lines 2, 4\)"
    ):
        read_file(path, spec)
    path.write_text("local_authority_name,neighbourhood_name\nMedway,Chatham\nMedway,Gillingham\nBrent,Chatham\n")
    assert len(read_file(path, spec)) == 3  # one authority may have several neighbourhoods


def test_lsoa2001_table_with_2011_codes_is_refused(tmp_path):
    spec = dataclasses.replace(SPECS["imd2004_lsoa01"], rows=2)
    path = tmp_path / "imd2004.csv"
    path.write_text(
        "lsoa01_code,lad04_code,lad04_name,IMD_score,IMD_rank,IMD_decile\n"
        "E01000001,00AA,City of London,6.52,1,1\nE01033000,00AB,Barking and Dagenham,5.14,2,10\n"
    )
    with pytest.raises(DataError, match="LSOA 2011 codes created in 2011 .*E01033000.* at line 3"):
        read_file(path, spec)
    path.write_text(
        "lsoa01_code,lad04_code,lad04_name,IMD_score,IMD_rank,IMD_decile\n"
        "E01000001,00AA,City of London,6.52,1,1\nE01000002,E09000002,Barking and Dagenham,5.14,2,10\n"
    )
    with pytest.raises(DataError, match="column lad04cd: malformed code 'E09000002'"):
        read_file(path, spec)
