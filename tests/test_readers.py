"""Readers: every declared dataset reads from the real mirror, and official gov.uk headings
(File 7, File 8 as published) read to the same canonical columns as the mirror's converted ones."""

from __future__ import annotations

import dataclasses
import gzip

import numpy as np
import pandas as pd
import pytest

from leftbehind.data import load, load_catalogue
from leftbehind.data.readers import Col, normalise_header, read_file
from leftbehind.data.schemas import DOMAINS, MEASURES, SPECS, SUBDOMAINS
from leftbehind.errors import DataError

#: England-only readers of UK lookups: English rows counted independently (pandas, code starts with E).
ENGLAND_ROWS = {
    "lookup_wd17_lad17": 7_463,
    "lookup_wd19_lad19_rgn19": 7_219,
    "lookup_wd17_pcon17": 7_708,
    "lookup_wd19_pcon19": 7_639,
    "lookup_oa11_lsoa11": 171_372,
    "pcon19_names": 533,
    "lookup_lsoa21_wd24": 33_755,
}


@pytest.mark.parametrize("dataset", sorted(set(SPECS) - {"imd2019_file7"}))
def test_every_reader_reads_the_real_file(shared_data, dataset):
    df = load(dataset, shared_data)
    spec = SPECS[dataset]
    # every row of the file (MANIFEST's count, via the catalogue), or the declared English subset
    assert len(df) == ENGLAND_ROWS.get(dataset, load_catalogue()[dataset].rows)
    assert df[spec.code.name].is_unique or not spec.unique_code
    assert df.columns[0] == spec.code.name
    for col in spec.all_columns:
        if col.required:
            assert col.name in df.columns or col.name.isdigit(), col.name
    assert all(c == normalise_header(c) for c in df.columns), "canonical columns are snake_case"


def test_file2_thousands_separators_and_bom(shared_data):
    f1 = load("imd2019_file1", shared_data)  # ranks like "29,199" and a UTF-8 BOM
    assert f1.columns[0] == "lsoa11cd"
    assert f1.loc[f1["lsoa11cd"] == "E01000001", "imd_rank"].item() == 29_199
    assert f1["imd_rank"].dtype == "int64"


def test_file6_population_totals(shared_data):
    f6 = load("imd2019_file6", shared_data)
    assert int(f6["pop_total"].sum()) == 54_728_204  # published mid-2015 total excluding prisoners


def test_mid2019_ages_sum_and_bands(shared_data):
    p = load("population_mid2019_lsoa11", shared_data)
    assert int(p["pop_total"].sum()) == 59_439_840
    ages = p[[f"age_{i}" for i in range(91)]].sum(axis=1)
    assert (ages == p["pop_total"]).all()
    assert (p["pop_16_64"] == p[[f"age_{i}" for i in range(16, 65)]].sum(axis=1)).all()


def test_file8_suppressed_numerators_are_missing_not_zero(shared_data):
    f8 = load("imd2019_file8", shared_data)
    # SOURCES.md: 31 blank income numerators, 119 employment, 4,553 IDACI, 1,035 IDAOPI
    assert int(f8["income_domain_numerator"].isna().sum()) == 31
    assert int(f8["employment_domain_numerator"].isna().sum()) == 119
    assert int(f8["income_deprivation_affecting_children_index_idaci_numerator"].isna().sum()) == 4_553


def test_cni2019_published_flags(shared_data):
    c = load("cni2019_wards", shared_data)
    assert int(c["left_behind_2020"].sum()) == 225
    assert c["left_behind_2020"].dtype == bool


OFFICIAL_FILE7 = {
    "lsoa11cd": "LSOA code (2011)",
    "lsoa11nm": "LSOA name (2011)",
    "lad19cd": "Local Authority District code (2019)",
    "lad19nm": "Local Authority District name (2019)",
}
OFFICIAL_STEM = {
    "imd": "Index of Multiple Deprivation (IMD)",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, Skills and Training",
    "health": "Health Deprivation and Disability",
    "crime": "Crime",
    "barriers": "Barriers to Housing and Services",
    "living_env": "Living Environment",
    "idaci": "Income Deprivation Affecting Children Index (IDACI)",
    "idaopi": "Income Deprivation Affecting Older People (IDAOPI)",
    "cyp": "Children and Young People Sub-domain",
    "adult_skills": "Adult Skills Sub-domain",
    "geog_barriers": "Geographical Barriers Sub-domain",
    "wider_barriers": "Wider Barriers Sub-domain",
    "indoors": "Indoors Sub-domain",
    "outdoors": "Outdoors Sub-domain",
}
POP_HEADINGS = {
    "pop_total": "Total population: mid 2015 (excluding prisoners)",
    "pop_0_15": "Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
    "pop_16_59": "Population aged 16-59: mid 2015 (excluding prisoners)",
    "pop_60_plus": "Older population aged 60 and over: mid 2015 (excluding prisoners)",
    "pop_working_age": "Working age population 18-59/64: for use with Employment Deprivation Domain "
    "(excluding prisoners)",
}


def official_heading(measure: str, what: str) -> str:
    stem = OFFICIAL_STEM[measure]
    if what == "score":
        rate = measure in ("income", "employment", "idaci", "idaopi")
        return f"{stem} Score (rate)" if rate else f"{stem} Score"
    if what == "rank":
        return f"{stem} Rank (where 1 is most deprived)"
    return f"{stem} Decile (where 1 is most deprived 10% of LSOAs)"


def test_official_file7_headings_read(shared_data, tmp_path):
    """File 7 is not in the mirror: build a File 7-shaped CSV with the official gov.uk headings
    from real values (File 2 ranks, File 4 sub-domain ranks, File 6 populations), gzip it with a
    BOM and thousands separators as gov.uk writes them, and read it with the File 7 reader."""
    f2 = load("imd2019_file2", shared_data)
    f4 = load("imd2019_file4", shared_data).set_index("lsoa11cd")
    f6 = load("imd2019_file6", shared_data).set_index("lsoa11cd")
    out = pd.DataFrame({OFFICIAL_FILE7[c]: f2[c] for c in OFFICIAL_FILE7})
    rng = np.random.default_rng(1)
    for m in ("imd", *DOMAINS, "idaci", "idaopi", *SUBDOMAINS):
        src = f2.set_index("lsoa11cd") if f"{m}_rank" in f2.columns else f4
        ranks = (
            src.loc[f2["lsoa11cd"], f"{m}_rank"].to_numpy()
            if f"{m}_rank" in src.columns
            else (rng.permutation(len(f2)) + 1)
        )
        out[official_heading(m, "score")] = np.round(rng.random(len(f2)), 3)
        out[official_heading(m, "rank")] = [f"{r:,}" for r in ranks]
        out[official_heading(m, "decile")] = np.ceil(ranks * 10 / len(f2)).astype(int)
    for c, h in POP_HEADINGS.items():
        out[h] = [f"{v:,}" for v in f6.loc[f2["lsoa11cd"], c]]
    path = tmp_path / "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8-sig", newline="") as fh:
        out.to_csv(fh, index=False)
    df = read_file(path, SPECS["imd2019_file7"])
    assert len(df) == 32_844
    for m in ("imd", *DOMAINS, *SUBDOMAINS):
        assert {f"{m}_score", f"{m}_rank", f"{m}_decile"} <= set(df.columns)
    assert (df["income_rank"].to_numpy() == f2["income_rank"].to_numpy()).all()
    assert int(df["pop_total"].sum()) == 54_728_204
    assert df["lsoa11cd"].iloc[0] == "E01000001"


def test_official_file8_headings_normalise_to_the_mirror_names(shared_data, tmp_path):
    """The mirror's File 8 headings are the official ones in snake_case; official ones read too."""
    mirror = load("imd2019_file8", shared_data)
    official = {
        "lsoa11cd": "LSOA code (2011)",
        "income_domain_numerator": "Income Domain numerator",
        "income_deprivation_affecting_children_index_idaci_numerator": (
            "Income Deprivation Affecting Children Index (IDACI) numerator"
        ),
        "income_deprivation_affecting_older_people_index_idaopi_numerator": (
            "Income Deprivation Affecting Older People Index (IDAOPI) numerator"
        ),
        "employment_domain_numerator": "Employment Domain numerator",
        "road_distance_to_a_gp_surgery_indicator_km": "Road distance to a GP surgery indicator (km)",
    }
    t = mirror[list(official)].rename(columns=official)
    path = tmp_path / "File_8.csv"
    t.to_csv(path, index=False, encoding="utf-8-sig")
    df = read_file(path, SPECS["imd2019_file8"])
    assert set(df.columns) == set(official)
    pd.testing.assert_series_equal(df["employment_domain_numerator"], mirror["employment_domain_numerator"])


F8_HEAD = (
    "LSOA code (2011),Income Domain numerator,Employment Domain numerator,"
    "Income Deprivation Affecting Children Index (IDACI) numerator,"
    "Income Deprivation Affecting Older People Index (IDAOPI) numerator,"
    "Road distance to a GP surgery indicator (km)\n"
)


def _small_f8(tmp_path, employment: str, gp: str = "1.5", **changes):
    """A 2-row File 8 with the official headings; ``employment`` is the cell of LSOA E01000001."""
    path = tmp_path / "f8.csv"
    path.write_text(
        F8_HEAD + f'E01000001,"1,234",{employment},5,5,{gp}\nE01000002,5,10,10,,2.25\n',
        encoding="utf-8-sig",
    )
    return path, dataclasses.replace(SPECS["imd2019_file8"], rows=2, **changes)


def test_file8_blank_cells_are_missing(tmp_path):
    path, spec = _small_f8(tmp_path, "")
    df = read_file(path, spec)
    assert df["income_domain_numerator"].tolist() == [1234.0, 5.0]
    assert np.isnan(df["employment_domain_numerator"].iloc[0])
    assert np.isnan(df["income_deprivation_affecting_older_people_index_idaopi_numerator"].iloc[1])
    assert df["road_distance_to_a_gp_surgery_indicator_km"].tolist() == [1.5, 2.25]


@pytest.mark.parametrize("token", ["n/a", "*", "..", "x", "NA", "nan", "inf", "12a"])
def test_file8_undeclared_mark_is_an_error_not_missing(tmp_path, token):
    """The real File 8 copies mark suppression with blank cells only: any other non-number
    (``n/a``, ``*``, even ``NaN``) is an error naming dataset, column, line and value."""
    path, spec = _small_f8(tmp_path, token)
    with pytest.raises(DataError) as exc:
        read_file(path, spec)
    msg = str(exc.value)
    assert "dataset imd2019_file8" in msg and "column employment_domain_numerator" in msg
    assert f"non-numeric value {token!r} at line 2" in msg
    assert "a blank cell only" in msg
    assert "How to fix:" in msg
    if token in ("n/a", "*", "..", "x", "NA", "nan"):  # a known mark: the hint says how to declare it
        assert f"missing=({token!r},)" in exc.value.hint


def test_file8_undeclared_mark_in_an_indicator_column_is_an_error(tmp_path):
    """File 8's other (undeclared, kept) columns are numeric too: ``n/a`` there is no longer kept as text."""
    path, spec = _small_f8(tmp_path, "", gp="n/a")
    with pytest.raises(DataError, match=r"column road_distance_to_a_gp_surgery_indicator_km: non-numeric value 'n/a'"):
        read_file(path, spec)


def test_declared_marks_are_missing_and_nothing_else(tmp_path):
    # a dataset that declares "*" and "..": those read as missing in every numeric column ...
    path, spec = _small_f8(tmp_path, "*", missing=("*", ".."))
    df = read_file(path, spec)
    assert np.isnan(df["employment_domain_numerator"].iloc[0])
    assert df["employment_domain_numerator"].iloc[1] == 10.0
    path, spec = _small_f8(tmp_path, "..", missing=("*", ".."))
    assert np.isnan(read_file(path, spec)["employment_domain_numerator"].iloc[0])
    # ... but n/a is still an error, and the message lists what is declared
    path, spec = _small_f8(tmp_path, "n/a", missing=("*", ".."))
    with pytest.raises(DataError, match=r"non-numeric value 'n/a' at line 2; .* a blank cell or '\*', '\.\.'"):
        read_file(path, spec)


def test_a_column_can_declare_its_own_marks(tmp_path):
    spec = SPECS["imd2019_file8"]
    cols = tuple(
        dataclasses.replace(c, missing=("x",)) if c.name == "employment_domain_numerator" else c for c in spec.columns
    )
    path, small = _small_f8(tmp_path, "x", columns=cols)
    assert np.isnan(read_file(path, small)["employment_domain_numerator"].iloc[0])
    # the column's declaration does not reach other columns
    path.write_text(F8_HEAD + "E01000001,x,5,5,5,1\nE01000002,5,10,10,,2\n", encoding="utf-8-sig")
    with pytest.raises(DataError, match="column income_domain_numerator: non-numeric value 'x'"):
        read_file(path, small)


def test_a_declared_mark_in_a_complete_column_is_still_an_error(tmp_path):
    """A mark makes a value missing; a column that must be complete still refuses it."""
    path = tmp_path / "t.csv"
    path.write_text("lsoa11cd,value\nE01000001,*\nE01000002,2\n")
    spec = SPECS["imd2019_file8"]
    t = dataclasses.replace(
        spec, rows=2, keep_extra=False, extra_kind=None, columns=(Col("value", min=0),), missing=("*",)
    )
    with pytest.raises(DataError, match="column value: blank or suppressed value at line 2"):
        read_file(path, t)


def test_real_file8_copies_use_blank_cells_only(shared_data):
    """The declared marks are the ones the real files use: none besides blank (both editions read)."""
    for ds in ("imd2019_file8", "iod2025_file8"):
        assert SPECS[ds].missing == ()
        df = load(ds, shared_data)
        num = df.drop(columns=[SPECS[ds].code.name])
        assert all(str(t) == "float64" for t in num.dtypes), ds  # every indicator converted and checked
    f25 = load("iod2025_file8", shared_data)
    assert int(f25["income_domain_numerator"].isna().sum()) == 5  # blank in the file
    assert int(f25["employment_domain_numerator"].isna().sum()) == 21


def test_header_normalisation():
    assert normalise_header("\ufeffLSOA code (2011)") == "lsoa_code_2011"
    assert normalise_header("Income Rank (where 1 is most deprived)") == "income_rank"
    assert normalise_header("Education_rank") == "education_rank"
    assert normalise_header("Living Environment Decile (where 1 is most deprived 10% of LSOAs)") == (
        "living_environment_decile"
    )
    assert set(MEASURES) >= set(DOMAINS) | set(SUBDOMAINS)
