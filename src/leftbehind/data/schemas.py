"""Declared readers: one :class:`TableSpec` per dataset the pipeline reads.

Canonical column names carry the geography vintage (``lsoa11cd``, ``lsoa21cd``, ``wd17cd``,
``lad19cd``...). IoD measures are ``{measure}_{score|rank|decile}`` with measures

===============  ==============================================================
imd              Index of Multiple Deprivation
income           Income Deprivation
employment       Employment Deprivation
education        Education, Skills and Training
health           Health Deprivation and Disability
crime            Crime
barriers         Barriers to Housing and Services
living_env       Living Environment
idaci / idaopi   Income Deprivation Affecting Children / Older People
cyp              Children and Young People sub-domain (Education)
adult_skills     Adult Skills sub-domain (Education)
geog_barriers    Geographical Barriers sub-domain (Barriers)
wider_barriers   Wider Barriers sub-domain (Barriers)
indoors          Indoors sub-domain (Living Environment)
outdoors         Outdoors sub-domain (Living Environment)
===============  ==============================================================

Each measure is found under the official gov.uk heading (``Income Rank (where 1 is most
deprived)``) or the mirror's converted one (``Income_rank``, ``income_rank``).

Numeric columns read only a blank cell as missing (suppressed). A dataset whose files use
another mark declares it (``TableSpec(missing=("*",))`` or per column ``Col(missing=...)``);
the IoD File 8 copies use blank cells only, so they declare none.

Boundary files (GeoJSON) are declared here too, with ``format="geojson"``: ``load`` returns
their feature properties (one row per feature), checked like any table; the geometry is read
with geopandas from the resolved path by the map code.
"""

from __future__ import annotations

from leftbehind.data.readers import PATTERNS, Col, TableSpec

N_LSOA11 = 32_844
N_LSOA21 = 33_755
N_LSOA11_EW = 34_753
N_CNI_WARDS = 7_433
N_LSOA01 = 32_482

#: canonical measure -> heading stems it appears under (normalised).
MEASURES: dict[str, tuple[str, ...]] = {
    "imd": ("index_of_multiple_deprivation_imd", "imd"),
    "income": ("income",),
    "employment": ("employment",),
    "education": ("education_skills_and_training", "education"),
    "health": ("health_deprivation_and_disability", "health"),
    "crime": ("crime",),
    "barriers": ("barriers_to_housing_and_services", "housing_and_services", "housing_and_access"),
    "living_env": ("living_environment", "environment"),
    "idaci": ("income_deprivation_affecting_children_index_idaci", "idaci"),
    "idaopi": ("income_deprivation_affecting_older_people_idaopi", "idaopi"),
    "cyp": ("children_and_young_people_sub_domain", "children_and_young_people", "children_young_people_sub_domain"),
    "adult_skills": ("adult_skills_sub_domain", "adult_skills", "skills_sub_domain"),  # IoD2010: "Skills"
    "geog_barriers": ("geographical_barriers_sub_domain", "geographical_barriers"),
    "wider_barriers": ("wider_barriers_sub_domain", "wider_barriers"),
    "indoors": ("indoors_sub_domain", "indoors"),
    "outdoors": ("outdoors_sub_domain", "outdoors"),
}
DOMAINS = ("income", "employment", "education", "health", "crime", "barriers", "living_env")
SUBDOMAINS = ("cyp", "adult_skills", "geog_barriers", "wider_barriers", "indoors", "outdoors")
_SUFFIX = {"score": ("score", "score_rate"), "rank": ("rank",), "decile": ("decile",)}


def measure(m: str, what: str, n: int, *, required: bool = True) -> Col:
    """The column for one IoD measure: score (float), rank (1..n) or decile (1..10)."""
    aliases = tuple(f"{stem}_{suf}" for stem in MEASURES[m] for suf in _SUFFIX[what])
    kind = {"score": "float", "rank": "rank", "decile": "decile"}[what]
    return Col(f"{m}_{what}", aliases, kind=kind, required=required, max=n if what == "rank" else None)


def measures(ms, whats, n: int) -> tuple[Col, ...]:
    return tuple(measure(m, w, n) for m in ms for w in whats)


def lsoa_code(vintage: str = "lsoa11", ew: bool = False) -> Col:
    yr = vintage[-2:]
    return Col(
        f"lsoa{yr}cd",
        (f"lsoa_code_20{yr}", f"lsoa{yr}_code", f"lsoa{yr}cd", "lsoa_code"),
        kind="code",
        pattern=PATTERNS["lsoa_ew" if ew else "lsoa"],
    )


def name(canonical: str, *aliases: str, required: bool = True) -> Col:
    return Col(canonical, aliases, kind="str", required=required)


def code(canonical: str, geo: str, *aliases: str, required: bool = True, nullable: bool = False) -> Col:
    return Col(canonical, aliases, kind="code", pattern=PATTERNS.get(geo), required=required, nullable=nullable)


LSOA11_NAME = name("lsoa11nm", "lsoa_name_2011", "lsoa11_name", required=False)
LAD19 = (
    code("lad19cd", "lad", "local_authority_district_code_2019", "lad19_code", required=False),
    name("lad19nm", "local_authority_district_name_2019", "lad19_name", required=False),
)

POP_FILE6 = (
    Col("pop_total", ("total_population_mid_2015_excluding_prisoners",), kind="int", min=0),
    Col("pop_0_15", ("dependent_children_aged_0_15_mid_2015_excluding_prisoners",), kind="int", min=0),
    Col("pop_16_59", ("population_aged_16_59_mid_2015_excluding_prisoners",), kind="int", min=0),
    Col("pop_60_plus", ("older_population_aged_60_and_over_mid_2015_excluding_prisoners",), kind="int", min=0),
    Col(
        "pop_working_age",
        ("working_age_population_18_59_64_for_use_with_employment_deprivation_domain_excluding_prisoners",),
        kind="int",
        min=0,
    ),
)


def _age_columns(df):
    """Single-year-of-age columns '0'..'90' -> age_0..age_90, plus standard bands."""

    ages = [c for c in df.columns if c.isdigit()]
    df = df.rename(columns={c: f"age_{c}" for c in ages})
    a = df[[f"age_{i}" for i in range(91)]].astype("int64")
    df[a.columns] = a
    df["pop_0_15"] = a.iloc[:, 0:16].sum(axis=1)
    df["pop_16_64"] = a.iloc[:, 16:65].sum(axis=1)
    df["pop_60_plus"] = a.iloc[:, 60:].sum(axis=1)
    return df


def _check_age_total(df):
    from leftbehind.errors import DataError

    df = _age_columns(df)
    ages = df[[f"age_{i}" for i in range(91)]].sum(axis=1)
    bad = ages != df["pop_total"]
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise DataError(
            f"dataset {df.attrs.get('dataset', 'population')}: ages 0-90 do not sum to the total "
            f"population at line {i + 2:,} ({int(ages.iloc[i])} vs {int(df['pop_total'].iloc[i])})",
            hint="restore the original file",
        )
    return df


_MIDYEAR_POP = dict(
    code=lsoa_code("lsoa11", ew=True),
    vintage="lsoa11",
    columns=(
        name("lsoa11nm", "lsoa11_name", required=False),
        Col("pop_total", ("total_population", "all_ages"), kind="int", min=0),
        *(Col(str(i), kind="int", min=0) for i in range(91)),
    ),
    rows=N_LSOA11_EW,
    post=_check_age_total,
)

_CNI19_DOMAINS = (
    ("civic_assets", "civic_assets"),
    ("connectedness", "connectedness"),
    ("engaged_community", "engaged_community"),
)

SPECS: dict[str, TableSpec] = {
    s.dataset: s
    for s in [
        TableSpec(
            "imd2019_file1",
            lsoa_code(),
            "lsoa11",
            rows=N_LSOA11,
            columns=(LSOA11_NAME, *LAD19, measure("imd", "rank", N_LSOA11), measure("imd", "decile", N_LSOA11)),
            description="IoD2019 File 1: IMD rank and decile",
        ),
        TableSpec(
            "imd2019_file2",
            lsoa_code(),
            "lsoa11",
            rows=N_LSOA11,
            columns=(LSOA11_NAME, *LAD19, *measures(("imd", *DOMAINS), ("rank", "decile"), N_LSOA11)),
            description="IoD2019 File 2: ranks and deciles of the IMD and its 7 domains",
        ),
        TableSpec(
            "imd2019_file4",
            lsoa_code(),
            "lsoa11",
            rows=N_LSOA11,
            columns=(
                LSOA11_NAME,
                *LAD19,
                *measures(("education", "barriers", "living_env", *SUBDOMAINS), ("rank", "decile"), N_LSOA11),
            ),
            description="IoD2019 File 4: sub-domain ranks and deciles",
        ),
        TableSpec(
            "imd2019_file6",
            lsoa_code(),
            "lsoa11",
            rows=N_LSOA11,
            columns=(LSOA11_NAME, *LAD19, *POP_FILE6),
            description="IoD2019 File 6: mid-2015 population denominators",
        ),
        TableSpec(
            "imd2019_file7",
            lsoa_code(),
            "lsoa11",
            rows=N_LSOA11,
            columns=(
                LSOA11_NAME,
                *LAD19,
                *measures(("imd", *DOMAINS, "idaci", "idaopi", *SUBDOMAINS), ("score", "rank", "decile"), N_LSOA11),
                *POP_FILE6,
            ),
            description="IoD2019 File 7: all scores, ranks, deciles and population denominators",
        ),
        TableSpec(
            "imd2019_file8",
            lsoa_code(),
            "lsoa11",
            rows=N_LSOA11,
            keep_extra=True,
            extra_kind="float",  # every other column is a numeric indicator, checked as such
            missing=(),  # suppressed values are blank cells; nothing else reads as missing
            columns=(
                LSOA11_NAME,
                *LAD19,
                *(
                    Col(c, kind="float", nullable=True, min=0)
                    for c in (
                        "income_domain_numerator",
                        "employment_domain_numerator",
                        "income_deprivation_affecting_children_index_idaci_numerator",
                        "income_deprivation_affecting_older_people_index_idaopi_numerator",
                    )
                ),
            ),
            description="IoD2019 File 8: underlying indicators (numerators blank where suppressed)",
        ),
        TableSpec(
            "imd2015_scores",
            lsoa_code(),
            "lsoa11",
            rows=N_LSOA11,
            columns=(
                LSOA11_NAME,
                code("lad13cd", "lad", "lad13_code", "local_authority_district_code_2013", required=False),
                name("lad13nm", "lad13_name", "local_authority_district_name_2013", required=False),
                *measures(("imd",), ("score", "rank", "decile"), N_LSOA11),
            ),
            description="IoD2015: IMD score, rank and decile",
        ),
        TableSpec(
            "imd2015_subdomains",
            lsoa_code(),
            "lsoa11",
            rows=N_LSOA11,
            columns=measures(SUBDOMAINS, ("score", "rank", "decile"), N_LSOA11),
            description="IoD2015: sub-domain scores, ranks and deciles",
        ),
        TableSpec(
            "iod2025_scores",
            lsoa_code("lsoa21"),
            "lsoa21",
            rows=N_LSOA21,
            columns=measures(("imd", *DOMAINS), ("score", "rank", "decile"), N_LSOA21),
            description="IoD2025: IMD and domain scores, ranks and deciles",
        ),
        TableSpec(
            "iod2025_subdomains",
            lsoa_code("lsoa21"),
            "lsoa21",
            rows=N_LSOA21,
            columns=measures(SUBDOMAINS, ("score", "rank", "decile"), N_LSOA21),
            description="IoD2025: sub-domain scores, ranks and deciles",
        ),
        TableSpec(
            "iod2025_file8",
            lsoa_code("lsoa21"),
            "lsoa21",
            rows=N_LSOA21,
            keep_extra=True,
            extra_kind="float",  # every other column is a numeric indicator, checked as such
            missing=(),  # suppressed values are blank cells; nothing else reads as missing
            columns=(
                name("lsoa21nm", "lsoa_name_2021", "lsoa21_name", required=False),
                code("lad24cd", "lad", "local_authority_district_code_2024", "lad24_code", required=False),
                name("lad24nm", "local_authority_district_name_2024", "lad24_name", required=False),
                *(
                    Col(c, kind="float", nullable=True, min=0)
                    for c in ("income_domain_numerator", "employment_domain_numerator")
                ),
            ),
            description="IoD2025 File 8: underlying indicators (numerators blank where suppressed)",
        ),
        TableSpec(
            "cni2019_wards",
            code("wd17cd", "ward", "ward17_code", "wd17_code"),
            "wd17",
            rows=N_CNI_WARDS,
            unique_ranks=("civic_assets_rank", "connectedness_rank"),
            columns=(
                name("wd17nm", "ward17_name", "wd17_name"),
                code("lad19cd", "lad", "lad19_code"),
                name("lad19nm", "lad19_name"),
                *(
                    c
                    for m, h in _CNI19_DOMAINS
                    for c in (
                        Col(f"{m}_score", (f"{h}_score",), min=0, max=100),
                        Col(f"{m}_rank", (f"{h}_rank",), kind="rank"),
                    )
                ),
                Col("cni_score", ("community_needs_index_score",), min=0, max=300),
                Col("cni_rank", ("community_needs_index_rank",), kind="rank"),
                Col("left_behind_2020", ("left_behind_area",), kind="bool"),
            ),
            description="Community Needs Index 2019 (OCSI for Local Trust), WD17 wards, with the published "
            "2020 left-behind flags",
        ),
        TableSpec(
            "cni2023_lsoa21",
            lsoa_code("lsoa21"),
            "lsoa21",
            rows=N_LSOA21,
            columns=(
                name("lsoa21nm", "lsoa21_name", required=False),
                Col("cni_score", ("community_needs_index_2023_score",), min=0, max=300),
                Col("cni_rank", ("community_needs_index_2023_rank",), kind="rank"),
                *(
                    c
                    for m, h in (
                        ("civic_assets", "civic_assets_domain"),
                        ("connectedness", "connectedness_domain"),
                        ("engaged_community", "active_and_engaged_community_domain"),
                    )
                    for c in (Col(f"{m}_score_raw", (f"{h}_score",)), Col(f"{m}_rank", (f"{h}_rank",), kind="rank"))
                ),
                Col("left_behind_unofficial", ("left_behind_area",), kind="bool", required=False),
            ),
            description="Community Needs Index 2023 (OCSI), LSOA 2021; domain scores are pre-transformation; "
            "'Left Behind Area?' was computed by a third party, not OCSI",
        ),
        TableSpec(
            "population_mid2019_lsoa11",
            **_MIDYEAR_POP,
            description="ONS mid-2019 LSOA 2011 population by single year of age (E&W)",
        ),
        TableSpec(
            "population_mid2020_lsoa11",
            **_MIDYEAR_POP,
            description="ONS mid-2020 LSOA 2011 population by single year of age (E&W)",
        ),
        TableSpec(
            "lookup_lsoa11_wd17",
            lsoa_code("lsoa11", ew=True),
            "lsoa11",
            rows=N_LSOA11_EW,
            columns=(
                name("lsoa11nm", "lsoa11nm", required=False),
                Col("wd17cd", (), kind="code", pattern=r"^[EW]05\d{6}$"),
                name("wd17nm"),
                Col("lad17cd", (), kind="code", pattern=r"^[EW]0[6789]\d{6}$"),
                name("lad17nm"),
            ),
            description="ONS LSOA 2011 -> ward Dec 2017 best-fit lookup (E&W)",
        ),
        TableSpec(
            "lookup_lsoa11_wd19",
            lsoa_code("lsoa11", ew=True),
            "lsoa11",
            rows=N_LSOA11_EW,
            columns=(
                name("lsoa11nm", "lsoa11nm", required=False),
                Col("wd19cd", (), kind="code", pattern=r"^[EW]05\d{6}$"),
                name("wd19nm"),
                Col("lad19cd", (), kind="code", pattern=r"^[EW]0[6789]\d{6}$"),
                name("lad19nm"),
            ),
            description="ONS LSOA 2011 -> ward Dec 2019 best-fit lookup (E&W)",
        ),
    ]
}


def _gss(name: str, prefix: str | None = None) -> Col:
    """A GSS code column: any UK code (letter + 8 digits), or ``prefix`` (3 characters) + 6 digits."""
    return Col(name, (), kind="code", pattern=rf"^{prefix}\d{{6}}$" if prefix else r"^[EWSN]\d{8}$")


def _nm(name: str, required: bool = True, nullable: bool = False) -> Col:
    return Col(name, (), kind="str", required=required, nullable=nullable)


LOOKUPS = [
    TableSpec(
        "lookup_wd17_lad17",
        _gss("wd17cd", "E05"),
        "wd17",
        rows=7_463,
        keep_prefix="E",
        columns=(_nm("wd17nm"), _gss("lad17cd", "E0[6789]"), _nm("lad17nm")),
        description="ONS ward (Dec 2017) -> LAD (2017); England rows of the UK file",
    ),
    TableSpec(
        "lookup_wd19_lad19_rgn19",
        _gss("wd19cd", "E05"),
        "wd19",
        rows=7_219,
        keep_prefix="E",
        columns=(
            _nm("wd19nm"),
            _gss("lad19cd", "E0[6789]"),
            _nm("lad19nm"),
            _gss("rgn19cd", "E12"),
            _nm("rgn19nm"),
            _gss("ctry19cd", "E92"),
            _nm("ctry19nm"),
        ),
        description="ONS ward (Dec 2019) -> LAD, county, region, country; England rows of the UK file",
    ),
    TableSpec(
        "lookup_msoa11_wd17",
        Col("msoa11cd", (), kind="code", pattern=r"^[EW]02\d{6}$"),
        "msoa11",
        rows=7_201,
        columns=(_nm("msoa11nm"), _gss("wd17cd"), _nm("wd17nm"), _gss("lad17cd"), _nm("lad17nm")),
        description="ONS MSOA 2011 -> ward (Dec 2017) best fit (E&W)",
    ),
    TableSpec(
        "lookup_msoa11_wd19",
        Col("msoa11cd", (), kind="code", pattern=r"^[EW]02\d{6}$"),
        "msoa11",
        rows=7_201,
        columns=(_nm("msoa11nm"), _gss("wd19cd"), _nm("wd19nm"), _gss("lad19cd"), _nm("lad19nm")),
        description="ONS MSOA 2011 -> ward (Dec 2019) best fit (E&W)",
    ),
    TableSpec(
        "lookup_lad16_lad24",
        Col("lad16cd", ("ltla16_code",), kind="code", pattern=r"^[EWSN]\d{8}$"),
        "lad16",
        rows=393,
        columns=tuple(
            c
            for y in range(16, 25)
            for c in (
                Col(f"lad{y}cd", (f"ltla{y}_code",), kind="code", pattern=r"^[EWSN]\d{8}$"),
                Col(f"lad{y}nm", (f"ltla{y}_name",), kind="str"),
            )
            if y != 16 or c.name != "lad16cd"
        ),
        unique_code=False,
        description="LAD code history 2016 -> 2024 (one row per 2016 LAD and successor; later codes repeat "
        "after mergers; two Scottish 2016 codes have two successors after the 2018 Fife/Perth boundary change)",
    ),
    TableSpec(
        "lookup_lad19_region19",
        Col("lad19cd", ("ltla19_code",), kind="code", pattern=PATTERNS["lad"]),
        "lad19",
        rows=317,
        columns=(
            Col("lad19nm", ("ltla19_name",), kind="str"),
            Col("rgn19cd", ("region19_code",), kind="code", pattern=PATTERNS["region"]),
            Col("rgn19nm", ("region19_name",), kind="str"),
        ),
        description="LAD 2019 -> region (England)",
    ),
    TableSpec(
        "lookup_wd17_pcon17",
        _gss("wd17cd", "E05"),
        "wd17",
        rows=7_708,
        unique_code=False,
        keep_prefix="E",
        columns=(
            _nm("wd17nm"),
            _gss("pcon17cd", "E14"),
            _nm("pcon17nm"),
            _gss("lad17cd", "E0[6789]"),
            _nm("lad17nm"),
            _gss("utla17cd"),
            _nm("utla17nm"),
        ),
        description="ONS ward (Dec 2017) -> Westminster constituency: one row per ward-constituency piece; "
        "England rows of the UK file",
    ),
    TableSpec(
        "lookup_wd19_pcon19",
        _gss("wd19cd", "E05"),
        "wd19",
        rows=7_639,
        unique_code=False,
        keep_prefix="E",
        columns=(
            _nm("wd19nm"),
            _gss("pcon19cd", "E14"),
            _nm("pcon19nm"),
            _gss("lad19cd", "E0[6789]"),
            _nm("lad19nm"),
            _gss("utla19cd"),
            _nm("utla19nm"),
        ),
        description="ONS ward (Dec 2019) -> Westminster constituency: one row per ward-constituency piece; "
        "England rows of the UK file",
    ),
    TableSpec(
        "lookup_lsoa11_lsoa21",
        lsoa_code("lsoa11", ew=True),
        "lsoa11",
        rows=35_795,
        unique_code=False,
        columns=(
            name("lsoa11nm", "lsoa11_name"),
            Col("change_code", (), kind="code", pattern=r"^[USMX]$"),
            Col("lsoa21cd", ("lsoa21_code",), kind="code", pattern=PATTERNS["lsoa_ew"]),
            name("lsoa21nm", "lsoa21_name"),
            Col("lad22cd", ("ltla22_code",), kind="code", pattern=r"^[EW]0[6789]\d{6}$"),
            name("lad22nm", "ltla22_name"),
        ),
        description="ONS LSOA 2011 -> LSOA 2021 best-fit lookup with change codes (U unchanged, S split, "
        "M merged, X irregular) and LAD 2022 (E&W)",
    ),
    TableSpec(
        "census21_disability_lsoa21",
        Col("lsoa21cd", ("lsoa21_code",), kind="code", pattern=PATTERNS["lsoa_ew"]),
        "lsoa21",
        rows=71_344,
        unique_code=False,
        columns=(
            name("disability"),
            Col("n", (), kind="int", min=0),
            Col("total_residents", (), kind="int", min=0),
            Col("prop", (), min=0, max=1),
        ),
        description="Census 2021 TS038 disability by LSOA 2021 (long format; total residents repeated)",
    ),
    TableSpec(
        "pcon19_names",
        _gss("pcon19cd", "E14"),
        "pcon19",
        rows=533,
        keep_prefix="E",
        columns=(_nm("pcon19nm"),),
        description="Westminster constituency names and codes (2010-2024 boundaries); the 533 English seats",
    ),
    TableSpec(
        "lookup_oa11_wd17_derived",
        Col("oa11cd", (), kind="code", pattern=PATTERNS["oa"]),
        "oa11",
        rows=171_372,
        columns=(
            lsoa_code(),
            _gss("wd17cd", "E05"),
            _nm("wd17nm"),
            _gss("lad17cd", "E0[6789]"),
            _nm("method"),
            _nm("ward_polygon_vintage", nullable=True),
        ),
        description="OA 2011 -> ward Dec 2017, derived by centroid-in-polygon (not the ONS file)",
    ),
    TableSpec(
        "census2011_oa11_residents",
        Col("oa11cd", (), kind="code", pattern=r"^[EW]00\d{6}$"),
        "oa11",
        rows=181_408,
        columns=(Col("usual_residents_2011", (), kind="int", min=0),),
        description="Census 2011 KS101EW usual residents by OA (E&W)",
    ),
    TableSpec(
        "drkane_lsoa_latlong",
        Col("lsoacd", (), kind="code"),
        "lsoa11+21",
        rows=48_424,
        columns=(Col("latitude", (), min=49, max=61), Col("longitude", (), min=-9, max=2.5)),
        description="LSOA 2011 and 2021 centroids (UK)",
    ),
]
INDICATORS = [
    TableSpec(
        "deri_components_lsoa11",
        lsoa_code(),
        "lsoa11",
        rows=N_LSOA11,
        columns=tuple(
            Col(c, (), min=0, max=10)
            for c in (
                "broadband_comp_national",
                "demography_comp_national",
                "deprivation_comp_national",
                "deri_score_national",
                "health_access_comp_national",
                "depahri_score_national",
            )
        ),
        description="Digital Exclusion Risk Index components (GMCA, via BRC DEPAHRI), 0-10, higher = more risk",
    ),
    TableSpec(
        "charity_density_lad19",
        Col("lad19cd", (), kind="code", pattern=r"^[EW]0[6-9]\d{6}$"),
        "lad19",
        rows=339,
        columns=(
            Col("charities", ("number_of_charities",), kind="int", min=0),
            Col("charity_density", ("charity_density_per_1_000_people",), min=0),
        ),
        description="General charities per 1,000 people by LAD 2019 (NCVO Almanac 2020, derived by BRC)",
    ),
    TableSpec(
        "lookup_oa11_lsoa11",
        Col("oa11cd", (), kind="code", pattern=PATTERNS["oa"]),
        "oa11",
        rows=171_372,
        keep_prefix="E00",
        columns=(
            lsoa_code(),
            Col("msoa11cd", (), kind="code", pattern=PATTERNS["msoa"]),
            Col("lad17cd", (), kind="code", pattern=PATTERNS["lad"]),
            Col("oac11cd", (), kind="str"),
            Col("oac11nm", (), kind="str"),
            Col("rgn11cd", (), kind="code", pattern=PATTERNS["region"]),
            Col("rgn11nm", (), kind="str"),
        ),
        description="ONS OA 2011 -> LSOA -> MSOA -> LAD (Dec 2017) with 2011 area classifications; England rows "
        "of the GB file",
    ),
    TableSpec(
        "jobs_at_risk_msoa11",
        Col("msoa11cd", ("msoa_code",), kind="code", pattern=PATTERNS["msoa"]),
        "msoa11",
        rows=6_791,
        columns=(
            Col("msoa11nm", ("msoa_name",), kind="str"),
            Col("msoa_hcl_name", ("msoa_new_name",), kind="str", required=False),
            Col(
                "jobs_arts_recreation_rate",
                ("jobs_in_arts_entertainment_recreation_and_other_services_rate",),
                min=0,
                max=100,
            ),
            Col("jobs_hospitality_rate", ("jobs_in_accommodation_and_food_services_hospitality_rate",), min=0, max=100),
            Col("jobs_retail_rate", ("jobs_in_retail_rate",), min=0, max=100),
        ),
        description="OCSI: share of jobs (%) in arts & recreation, hospitality and retail by MSOA (BRES 2018)",
    ),
    TableSpec(
        "ruc11_lsoa11",
        lsoa_code("lsoa11", ew=True),
        "lsoa11",
        rows=34_753,
        columns=(
            Col("ruc11cd", ("ruc11_code",), kind="code", pattern=r"^[A-E][12]$"),
            Col("urban_rural", ("ruc",), kind="str"),
            Col("ruc11nm", ("classification",), kind="str"),
        ),
        description="ONS/Defra 2011 rural-urban classification of LSOAs (E&W)",
    ),
]
_PCON = r"^[EWSN]\d{8}$"
ECONOMY_POLITICS = [
    *(
        TableSpec(
            ds,
            Col("pcon_code", ("ons_id",), kind="code", pattern=_PCON),
            "pcon",
            rows=650,
            columns=(
                Col("pcon_name", ("constituency_name",), kind="str"),
                Col("region_name", (), kind="str"),
                Col("country_name", (), kind="str"),
                Col("first_party", (), kind="str"),
                Col("second_party", (), kind="str"),
                Col("electorate", (), kind="int", min=0),
                Col("valid_votes", (), kind="int", min=0),
                Col("con", (), kind="int", min=0),
                Col("lab", (), kind="int", min=0),
            ),
            description=f"House of Commons Library: {year} general election results by constituency",
        )
        for ds, year in (("ge2017_results", 2017), ("ge2019_results", 2019))
    ),
    TableSpec(
        "hanretty_leave_pcon_csv",
        Col("pcon_code", ("pcon11cd",), kind="code", pattern=r"^[EWS]\d{8}$"),
        "pcon",
        rows=632,
        columns=(
            Col("pcon_name", ("constituency_name",), kind="str"),
            Col("leave_share_modelled", ("estimated_leave_vote_share",), min=0, max=1),
            Col("leave_share_known", ("known_leave_vote_share",), min=0, max=1, nullable=True),
            Col("leave_source", ("how_do_we_know",), kind="str", nullable=True),
            Col("leave_share", ("figure_to_use",), min=0, max=1),
        ),
        description="Hanretty (2017) constituency Leave shares (GB): 'Figure to use' = known result where one "
        "exists, else the estimate",
    ),
    TableSpec(
        "eu_referendum_results",
        Col("area_code", (), kind="code", pattern=r"^([EWSN]\d{8}|GI)$"),
        "lad16",
        rows=382,
        columns=(
            Col("region_code", (), kind="code", pattern=r"^[EWSN]\d{8}$"),
            Col("region", (), kind="str"),
            Col("area", (), kind="str"),
            Col("electorate", (), kind="int", min=0),
            Col("valid_votes", (), kind="int", min=0),
            Col("remain", (), kind="int", min=0),
            Col("leave", (), kind="int", min=0),
            Col("pct_leave", (), min=0, max=100),
        ),
        description="Electoral Commission: EU referendum results by counting area (2016 LADs in England)",
    ),
    TableSpec(
        "cjrs_pcon_2021",
        Col("pcon_code", ("code",), kind="code", pattern=_PCON),
        "pcon",
        rows=650,
        columns=(
            Col("pcon_name", ("constituency",), kind="str"),
            Col("nation", (), kind="str"),
            Col("region", (), kind="str"),
            Col("eligible", ("totaleligible",), kind="int", min=0),
            Col("furloughed", ("totalfurloughed",), kind="int", min=0),
            Col("take_up_pct", ("totaltakeup",), kind="percent", min=0, max=100),
            Col("cumulative_furloughed", ("cumulativefurloughed",), kind="int", min=0),
        ),
        description="HMRC CJRS statistics by Westminster constituency (2021 release, point-in-time)",
    ),
    TableSpec(
        "cjrs_la_august2020",
        Col("area_code", ("ons_code",), kind="code", pattern=r"^[EWSNK]\d{8}$"),
        "lad20",
        rows=423,
        unique_code=False,
        columns=(
            Col("area_name", ("authority_name",), kind="str"),
            Col("furloughed", ("total_number_of_employments_furloughed",), kind="int", min=0),
            Col("eligible", ("employments_eligible",), kind="int", min=0),
            Col("take_up_pct", ("take_up_rate",), kind="percent", min=0, max=100),
        ),
        description="HMRC CJRS statistics August 2020: furloughed and eligible employments by LA (to 30 June 2020)",
    ),
    TableSpec(
        "claimant_count_london_lsoa11",
        lsoa_code(),
        "lsoa11",
        rows=4_642,
        columns=(
            name("lsoa11nm", "lsoa11nm"),
            name("lad_name", "lad_name"),
            Col("claimants_2019_10", ("claimant_count_2019_10",), kind="int", min=0),
            Col("claimants_2020_10", ("claimant_count_2020_10",), kind="int", min=0),
            Col("pop_16_64", (), kind="int", min=0),
        ),
        description="Claimant count by LSOA, London only, October 2019 and October 2020 (Nomis NM_162_1 via WPI)",
    ),
]


# Added December 2026 (SOURCES.md, last section): current geographies, IMD history on 2001
# LSOAs, programme area lists.
def _lad_old(yy: str) -> tuple[Col, Col]:
    """A pre-2009 LAD: 4-character code (``00AA``) and name."""
    return code(f"lad{yy}cd", "lad_old", f"lad{yy}_code"), name(f"lad{yy}nm", f"lad{yy}_name")


def _programme(dataset: str, rows: int, description: str) -> TableSpec:
    """A programme's area list: local authority (2024 LAD name) and neighbourhood name."""
    return TableSpec(
        dataset,
        Col("lad24nm", ("local_authority_name",), kind="str"),
        "lad24",
        rows=rows,
        unique_code=False,  # several neighbourhoods per authority
        unique_key=("lad24nm", "neighbourhood_name"),
        columns=(Col("neighbourhood_name", (), kind="str"),),
        description=description,
    )


_MSOA_EW = r"^[EW]02\d{6}$"
_LAD_EW = r"^[EW]0[6789]\d{6}$"
CURRENT_GEOGRAPHIES = [
    TableSpec(
        "lookup_lsoa21_wd24",
        lsoa_code("lsoa21"),
        "lsoa21",
        rows=N_LSOA21,
        keep_prefix="E",
        columns=(
            name("lsoa21nm", "lsoa21_name"),
            code("wd24cd", "ward", "ward24_code"),
            name("wd24nm", "ward24_name"),
            code("lad24cd", "lad", "ltla24_code"),
            name("lad24nm", "ltla24_name"),
        ),
        description="ONS LSOA 2021 -> ward (Dec 2024) -> LAD 2024 best fit; England rows of the E&W file",
    ),
    TableSpec(
        "drkane_msoa_la",
        Col("msoacd", ("msoacd",), kind="code", pattern=r"^[A-Z0-9]{8,9}$"),
        "msoa21",
        rows=10_404,
        columns=(
            name("msoanm", "msoanm"),
            Col("msoahclnm", ("msoahclnm",), kind="str", nullable=True),
            Col("msoa21cd_col", ("msoa21cd",), kind="str", nullable=True),
            Col("ladcd_active", ("ladcd_active",), kind="str", nullable=True),
            Col("ladnm_active", ("ladnm_active",), kind="str", nullable=True),
        ),
        description="MSOA 2011 and 2021 codes with ONS and House of Commons Library names (UK file; an MSOA 2021 "
        "row has msoacd == msoa21cd_col)",
    ),
    TableSpec(
        "lookup_lad24_region24",
        code("lad24cd", "lad", "ltla24_code"),
        "lad24",
        rows=296,
        columns=(
            name("lad24nm", "ltla24_name"),
            code("rgn24cd", "region", "region24_code"),
            name("rgn24nm", "region24_name"),
        ),
        description="LAD 2024 -> region (England)",
    ),
    TableSpec(
        "lookup_msoa11_msoa21",
        Col("msoa11cd", ("msoa11_code",), kind="code", pattern=_MSOA_EW),
        "msoa11",
        rows=7_201,
        columns=(
            name("msoa11nm", "msoa11_name"),
            Col("msoa21cd", ("msoa21_code",), kind="code", pattern=_MSOA_EW),
            name("msoa21nm", "msoa21_name"),
            Col("lad22cd", ("ltla22_code",), kind="code", pattern=_LAD_EW),
            name("lad22nm", "ltla22_name"),
        ),
        description="ONS MSOA 2011 -> MSOA 2021 (one row per MSOA 2011) with LAD 2022 (E&W)",
    ),
    TableSpec(
        "ruc21_msoa21",
        Col("msoa21cd", ("msoa21_code",), kind="code", pattern=_MSOA_EW),
        "msoa21",
        rows=7_264,
        columns=(
            Col("ruc21cd", ("ruc21_code",), kind="code", pattern=r"^(UN1|UF1|RSN1|RSF1|RLN1|RLF1)$"),
            Col("ruc21nm", ("classification",), kind="str"),
            Col("urban_rural", ("ruc",), kind="str", pattern=r"^(Urban|Rural)$"),
        ),
        description="ONS 2021 rural-urban classification of MSOAs 2021 (E&W)",
    ),
    TableSpec(
        "boundaries_lsoa21",
        lsoa_code("lsoa21"),
        "lsoa21",
        rows=N_LSOA21,
        format="geojson",
        columns=(name("lsoa21nm", "lsoa21_name"),),
        description="ONS LSOA (Dec 2021) BSC boundaries, England: feature properties (geometry via geopandas)",
    ),
    TableSpec(
        "boundaries_msoa21",
        code("msoa21cd", "msoa", "msoa21_code"),
        "msoa21",
        rows=6_856,
        format="geojson",
        columns=(name("msoa21nm", "msoa21_name"),),
        description="ONS MSOA (Dec 2021) BSC boundaries, England: feature properties (geometry via geopandas)",
    ),
    TableSpec(
        "boundaries_wards22",
        code("wd22cd", "ward", "ward22_code"),
        "wd22",
        rows=6_904,
        format="geojson",
        unique_code=False,  # E05014284 (Hunmanby & Sherburn, part Scarborough) is two features
        columns=(name("wd22nm", "ward22_name"),),
        description="ONS ward (Dec 2022) BSC boundaries, England: feature properties (geometry via geopandas); "
        "6,904 features for 6,903 wards",
    ),
]
IMD_HISTORY = [
    TableSpec(
        "imd2010_domains",
        lsoa_code("lsoa01"),
        "lsoa01",
        rows=N_LSOA01,
        # ranks are NOT checked for uniqueness: the source has tied ranks (12 in the IMD)
        columns=measures(("imd", *DOMAINS), ("score", "rank", "decile"), N_LSOA01),
        description="IoD2010 (DCLG), LSOA 2001: IMD and domain scores and ranks; deciles computed by the "
        "package author, not published",
    ),
    TableSpec(
        "imd2010_subdomains",
        lsoa_code("lsoa01"),
        "lsoa01",
        rows=N_LSOA01,
        columns=measures(SUBDOMAINS, ("score", "rank", "decile"), N_LSOA01),
        description="IoD2010 (DCLG), LSOA 2001: sub-domain scores, ranks and deciles",
    ),
    TableSpec(
        "imd2007_lsoa01",
        lsoa_code("lsoa01"),
        "lsoa01",
        rows=N_LSOA01,
        columns=(*_lad_old("07"), *measures(("imd",), ("score", "rank", "decile"), N_LSOA01)),
        description="IMD 2007 (DCLG), LSOA 2001: score, rank and decile, with 4-character 2007 LAD codes",
    ),
    TableSpec(
        "imd2004_lsoa01",
        lsoa_code("lsoa01"),
        "lsoa01",
        rows=N_LSOA01,
        unique_ranks=("imd_rank",),
        columns=(*_lad_old("04"), *measures(("imd",), ("score", "rank", "decile"), N_LSOA01)),
        description="IMD 2004 (ODPM), LSOA 2001: score, rank and decile, with 4-character 2004 LAD codes",
    ),
    TableSpec(
        "lookup_lsoa01_lsoa11",
        lsoa_code("lsoa01", ew=True),
        "lsoa01",
        rows=34_917,
        unique_code=False,
        unique_key=("lsoa01cd", "lsoa11cd"),
        columns=(
            name("lsoa01nm", "lsoa01_name"),
            Col("change_code", (), kind="code", pattern=r"^[USMX]$"),
            Col("lsoa11cd", ("lsoa11_code",), kind="code", pattern=PATTERNS["lsoa_ew"]),
            name("lsoa11nm", "lsoa11_name"),
        ),
        description="ONS LSOA 2001 -> LSOA 2011 lookup with change codes (U unchanged, S split, M merged, "
        "X irregular) (E&W)",
    ),
]
PROGRAMMES = [
    _programme(
        "pride_in_place_phase2",
        146,
        "Pride in Place Phase 2 (Sep 2025): the 146 neighbourhoods in England (House of Commons Library "
        "MSOA names, spelled as in the source)",
    ),
    _programme(
        "pride_in_place_cohort3",
        40,
        "Pride in Place cohort 3 (Mar 2026): the 40 further neighbourhoods in England (House of Commons "
        "Library MSOA names)",
    ),
]
SPECS.update(
    {s.dataset: s for s in LOOKUPS + INDICATORS + ECONOMY_POLITICS + CURRENT_GEOGRAPHIES + IMD_HISTORY + PROGRAMMES}
)


def spec_for(dataset_id: str) -> TableSpec:
    from leftbehind.errors import DataError

    try:
        return SPECS[dataset_id]
    except KeyError:
        raise DataError(
            f"no reader is declared for dataset {dataset_id!r}",
            hint="readable datasets: " + ", ".join(sorted(SPECS)),
        ) from None
