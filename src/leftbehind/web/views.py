"""What the API serves: one declaration per list endpoint (its table, filters, search and detail
route), and the functions that turn a request into a ready response (:class:`~.data.Entry`).

Filters are validated against the run: an unknown value is a 422 that lists the valid values
(or, for local authority codes, says where they are: ``/api/lads``). An empty value
(``?region=``) means the same as an absent one, on every parameter (the ASGI layer drops it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from leftbehind.analysis.leftbehind import GROUPS
from leftbehind.analysis.pipeline import WARD_COLUMNS
from leftbehind.web.data import Entry, Run, Table, absent_detail, csv_entry, json_entry

WARD_FIELDS = [*WARD_COLUMNS, "left_behind_published_2020", "note"]  # the ward fields of /api/wards
LAD_PATTERN = re.compile(r"^E0[6-9]\d{6}$")
LAD_HINT = "2024 LAD codes, see /api/lads"
MAX_LISTED = 40  # valid values listed in a 422 at most
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


class ApiError(Exception):
    """An error answered as JSON: ``{"detail": ..., **extra}``."""

    def __init__(self, status: int, detail: str, **extra):
        super().__init__(detail)
        self.status, self.detail, self.extra = status, detail, extra

    def entry(self) -> Entry:
        return json_entry({"detail": self.detail, **self.extra}, self.status)


def bad_value(param: str, value: str, valid: list[str] | None = None, hint: str | None = None) -> ApiError:
    msg = f"unknown {param} {value!r}"
    extra: dict = {"parameter": param}
    if valid is not None and len(valid) <= MAX_LISTED:
        msg += ": valid values are " + ", ".join(valid)
        extra["valid"] = valid
    elif hint:
        msg += f": {hint}"
    if hint and valid is not None and len(valid) <= MAX_LISTED:
        msg += f" ({hint})"  # e.g. regions: the names, and that codes work too
    return ApiError(422, msg, **extra)


@dataclass(frozen=True)
class Filter:
    """A query parameter that keeps the rows whose ``column`` has the given value.

    kind: ``enum`` (a value of the column, case-insensitive; ``known`` adds values that may be
    absent from this run), ``region`` (a region name or E12 code), ``lad`` (a 2024 LAD code known to
    the run), ``bool`` (true/false) or ``int``."""

    param: str
    column: str
    kind: str
    help: str
    known: tuple[str, ...] = ()


def group_filter(column: str = "group") -> Filter:
    return Filter("group", column, "enum", "Group: " + " | ".join(GROUPS), GROUPS)


REGION = Filter("region", "region_name", "region", "Region name (e.g. North East) or code (E12...), see /api/regions")
BAND = Filter("band", "band", "enum", "robust | likely | edge | unlikely")
LAD = Filter("lad", "lad_code", "lad", "2024 local authority district code (E06/E07/E08/E09...), see /api/lads")


@dataclass(frozen=True)
class View:
    """A list endpoint over one registry table, and optionally its detail endpoint ``path/{code}``."""

    path: str
    table: str
    summary: str
    filters: tuple[Filter, ...] = ()
    search: tuple[str, ...] = ()  # the columns the ``q`` parameter searches
    columns: tuple[str, ...] | None = None  # a subset of the table's columns, in this order
    limit: int = 100
    max_limit: int = 50_000
    max_offset: int = 1_000_000
    key: str | None = None  # detail endpoint path/{code}, by this column
    key_pattern: str = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
    key_help: str = "Area code"
    many: bool = False  # the key names several rows (a trajectory): the detail is a list
    what: str = "area"  # for 404s: "no {what} {code} in this run"
    tag: str = "data"

    @property
    def filename(self) -> str:
        return self.path.removeprefix("/api/").replace("/", "_") + ".csv"

    @property
    def params(self) -> tuple[str, ...]:
        return (*(("q",) if self.search else ()), *(f.param for f in self.filters), "limit", "offset", "format")


AREA = r"^E0[125]\d{6}$"
UNIT_SEARCH = ("area_code", "area_name", "area_name_hcl", "lad_name")
VIEWS: tuple[View, ...] = (
    # ---- the 2020 run (CNI 2019 x ward IMD, December 2017 wards)
    View(
        "/api/wards",
        "wards",
        "Search and filter the CNI wards",
        (group_filter(), REGION, LAD),
        ("ward_name", "ward_code", "lad_name"),
        columns=tuple(WARD_FIELDS),
        limit=50,
        max_limit=1000,
        max_offset=100_000,
        tag="research",
    ),
    View(
        "/api/regions", "breakdown_region", "Wards and residents by group for each region", limit=1000, tag="research"
    ),
    View(
        "/api/lads",
        "breakdown_lad",
        "Wards and residents by group for each local authority (2024 codes)",
        search=("area_name", "area_code"),
        limit=1000,
        tag="research",
    ),
    View(
        "/api/certainty",
        "certainty",
        "How sure is each ward? (the run's uncertainty ensemble)",
        (group_filter("nominal_group"), BAND, REGION, LAD),
        ("area_code", "area_name", "lad_name"),
        key="area_code",
        key_pattern=r"^E05\d{6}$",
        key_help="December 2017 ward code",
        what="ward",
        tag="research",
    ),
    # ---- the current edition (--edition 2025): CNI 2023 x IMD 2025
    View(
        "/api/current/regions",
        "current_region",
        "LSOAs and residents by group, by region (2025)",
        limit=1000,
        tag="current",
    ),
    View(
        "/api/current/lads",
        "current_lad",
        "LSOAs and residents by group, by local authority (2025)",
        search=("area_name", "area_code"),
        limit=1000,
        tag="current",
    ),
    View(
        "/api/units/lsoa21",
        "lsoa21",
        "LSOA 2021s: CNI 2023, IMD 2025 and group (2025)",
        (
            group_filter(),
            REGION,
            LAD,
            Filter("status", "status_since_2020", "enum", "Against the 2020 list: persistent | new | no_longer"),
        ),
        ("lsoa21_code", "lad_name"),
        key="lsoa21_code",
        key_pattern=r"^E01\d{6}$",
        key_help="LSOA 2021 code",
        what="LSOA 2021",
        tag="current",
    ),
    View(
        "/api/units/wards24",
        "wards24",
        "The current picture by ward (December 2024)",
        (group_filter(), REGION, LAD),
        UNIT_SEARCH,
        key="area_code",
        key_pattern=r"^E05\d{6}$",
        key_help="December 2024 ward code",
        what="ward 2024",
        tag="current",
    ),
    View(
        "/api/units/msoa21",
        "msoa21",
        "The current picture by MSOA 2021",
        (group_filter(), REGION, LAD),
        UNIT_SEARCH,
        key="area_code",
        key_pattern=r"^E02\d{6}$",
        key_help="MSOA 2021 code",
        what="MSOA 2021",
        tag="current",
    ),
    View(
        "/api/current/certainty",
        "certainty_lsoa21",
        "How sure is each LSOA 2021? (2025)",
        (group_filter("nominal_group"), BAND, REGION, LAD),
        ("area_code", "area_name", "lad_name"),
        key="area_code",
        key_pattern=r"^E01\d{6}$",
        key_help="LSOA 2021 code",
        what="LSOA 2021",
        tag="current",
    ),
    # ---- leftbehind robustness
    View(
        "/api/robustness/areas",
        "robustness_areas",
        "Uncertainty ensemble by area (`leftbehind robustness`)",
        (group_filter("nominal_group"), BAND, REGION, LAD),
        ("area_code", "area_name", "lad_name"),
        key="area_code",
        key_pattern=AREA,
        tag="robustness",
    ),
    View(
        "/api/robustness/counts",
        "robustness_counts",
        "Probability-weighted counts for England, regions and local authorities",
        (
            Filter("level", "level", "enum", "england | region | lad"),
            Filter("measure", "measure", "enum", "areas | residents | jaccard_with_nominal"),
        ),
        ("area_code", "area_name"),
        tag="robustness",
    ),
    View("/api/robustness/list_size", "robustness_list_size", "Distribution of the list size", tag="robustness"),
    View(
        "/api/robustness/sensitivity",
        "robustness_sensitivity",
        "Which source of uncertainty matters (Sobol, one at a time)",
        (Filter("method", "method", "enum", "sobol | one_at_a_time"),),
        tag="robustness",
    ),
    View("/api/robustness/outcomes", "robustness_outcomes", "Outcome differences in the ensemble", tag="robustness"),
    # ---- leftbehind target
    View(
        "/api/selection",
        "target_selection",
        "The stored selection (DIR/target/selection.csv, from `leftbehind target`)",
        (Filter("selected", "selected", "bool", "Only the selected (true) or the others (false)"), REGION, LAD),
        ("area_code", "area_name", "lad_name"),
        limit=1000,
        key="area_code",
        tag="target",
    ),
    View("/api/selection/by-region", "target_by_region", "The selection by region", limit=1000, tag="target"),
    View(
        "/api/selection/by-lad",
        "target_by_lad",
        "The selection by local authority",
        (REGION, LAD),
        ("lad_name", "lad_code"),
        limit=1000,
        tag="target",
    ),
    View(
        "/api/selection/comparison", "target_comparison", "Two rules side by side (--compare)", limit=1000, tag="target"
    ),
    View("/api/selection/money-moved", "target_money_moved", "Money moved between regions (--compare)", tag="target"),
    # ---- leftbehind history
    View(
        "/api/history/lsoa11",
        "history_lsoa11",
        "IMD 2004 to 2025 on LSOA 2011, persistence and the sequence typology (`leftbehind history`)",
        (
            Filter("typology", "typology_2010_2019", "enum", "Sequence type 2010-2019, see /api/history/typology"),
            Filter("typology_2004_2025", "typology_2004_2025", "enum", "Sequence type 2004-2025"),
            Filter("persistent", "decile1_2010_2015_2019", "bool", "In decile 1 of IMD 2010, 2015 and 2019"),
        ),
        ("lsoa11_code",),
        key="lsoa11_code",
        key_pattern=r"^E01\d{6}$",
        key_help="LSOA 2011 code",
        what="LSOA 2011",
        tag="history",
    ),
    View(
        "/api/history/wards17",
        "history_wards17",
        "Ward trajectories 2004-2025, December 2017 wards (one row per ward and edition)",
        (Filter("edition", "edition", "enum", "IMD 2004 | IMD 2007 | IMD 2010 | IMD 2015 | IMD 2019 | IMD 2025"),),
        ("ward_code", "ward_name"),
        key="ward_code",
        key_pattern=r"^E05\d{6}$",
        key_help="December 2017 ward code",
        many=True,
        what="ward",
        tag="history",
    ),
    View(
        "/api/history/wards24",
        "history_wards24",
        "Ward trajectories 2004-2025, December 2024 wards (one row per ward and edition)",
        (Filter("edition", "edition", "enum", "IMD 2004 | IMD 2007 | IMD 2010 | IMD 2015 | IMD 2019 | IMD 2025"),),
        ("ward_code", "ward_name"),
        key="ward_code",
        key_pattern=r"^E05\d{6}$",
        key_help="December 2024 ward code",
        many=True,
        what="ward 2024",
        tag="history",
    ),
    View(
        "/api/history/typology",
        "history_typology_clusters",
        "The six clusters of each sequence typology",
        (Filter("sequence", "sequence", "enum", "2010_2019 | 2004_2025"),),
        tag="history",
    ),
    # ---- leftbehind spatial
    View("/api/spatial/global", "spatial_global", "Global join counts and Moran's I (spatial)", tag="spatial"),
    View(
        "/api/spatial/clusters",
        "spatial_clusters",
        "Clusters of contiguous left-behind areas, largest first",
        search=("lads", "regions", "areas_named"),
        tag="spatial",
    ),
    View(
        "/api/spatial/local",
        "spatial_local",
        "Local join counts, clusters and 'surrounded' areas, one row per area",
        (
            group_filter(),
            REGION,
            Filter("significant", "significant", "bool", "Local join count significant (p_fdr < 0.05)"),
            Filter("surrounded", "surrounded", "bool", "Not left behind, surrounded by left-behind neighbours"),
            Filter("cluster", "cluster_id", "int", "Cluster number (see /api/spatial/clusters; 0: not left behind)"),
        ),
        ("area_code", "area_name", "lad_name"),
        key="area_code",
        tag="spatial",
    ),
)
VIEWS_BY_PATH = {v.path: v for v in VIEWS}
UNITS = ("lsoa21", "wards24", "msoa21")


def need(run: Run, name: str) -> Table:
    t = run.table(name)
    if t is None:
        from leftbehind.report.registry import table_def

        raise ApiError(404, absent_detail(table_def(name)), table=name)
    return t


def _mask(run: Run, t: Table, f: Filter, value: str) -> np.ndarray:
    if f.column not in t.columns:
        raise ApiError(422, f"{f.param} does not apply to {t.spec.path} (no column {f.column})", parameter=f.param)
    if f.kind == "enum":
        folded = t.folded(f.column)
        valid = sorted({v for v in t.values(f.column) if v} | set(f.known))
        want = value.casefold()
        if want not in {v.casefold() for v in valid}:
            many = f"the values of {f.column} in {t.spec.path}" if len(valid) > MAX_LISTED else None
            raise bad_value(f.param, value, valid, many)
        return folded == want
    if f.kind == "region":
        name = run.regions.get(value.casefold())
        if name is None:
            names = sorted({v for k, v in run.regions.items() if not k.startswith("e12")})
            raise bad_value(f.param, value, names, "a region name or E12 code, see /api/regions")
        return t.folded(f.column) == name.casefold()
    if f.kind == "lad":
        code = value.upper()
        if not LAD_PATTERN.match(code) or code not in run.lad_codes:
            raise bad_value(f.param, value, None, LAD_HINT)
        return t.values(f.column) == code
    if f.kind == "bool":
        v = value.casefold()
        if v not in TRUE + FALSE:
            raise bad_value(f.param, value, ["true", "false"])
        return t.values(f.column) == (v in TRUE)
    if f.kind == "int":
        try:
            n = int(value)
        except ValueError:
            raise bad_value(f.param, value, None, "a whole number") from None
        return t.values(f.column) == n
    raise AssertionError(f.kind)


def render_list(run: Run, view: View, params: dict) -> Entry:
    """The list endpoint ``view`` with ``params`` (validated: 404 if the table is absent, 422 on bad values)."""
    t = need(run, view.table)
    mask = None
    q = params.get("q")
    if q:
        mask = t.search(tuple(view.search), q)
    for f in view.filters:
        value = params.get(f.param)
        if value is None or value == "":
            continue
        m = _mask(run, t, f, value)
        mask = m if mask is None else (mask & m)
    limit, offset = params.get("limit", view.limit), params.get("offset", 0)
    if mask is None:
        total = len(t)
        page = np.arange(min(offset, total), min(offset + limit, total))
    else:
        idx = np.flatnonzero(mask)
        total = len(idx)
        page = idx[offset : offset + limit]
    cols = [c for c in view.columns if c in t.columns] if view.columns else None
    if params.get("format") == "csv":
        return csv_entry(t.csv(page, cols), view.filename)
    head = b'{"total":%d,"limit":%d,"offset":%d,"items":[' % (total, limit, offset)
    return json_entry(head + b",".join(t.json_rows(page, cols)) + b"]}")


def render_detail(run: Run, view: View, code: str, fmt: str = "json") -> Entry:
    t = need(run, view.table)
    rows = t.index(view.key).get(code)
    if not rows:
        raise ApiError(404, f"no {view.what} {code} in {t.spec.path}")
    if not view.many:
        return json_entry(t.json_rows(rows[:1])[0])
    if fmt == "csv":
        return csv_entry(t.csv(rows), f"{view.filename[:-4]}_{code}.csv")
    return json_entry({view.key: code, "total": len(rows), "items": t.rows(rows)})


# ---------------------------------------------------------------- the endpoints with more than one table


def ward_detail(run: Run, code: str) -> Entry:
    w = run.tables["wards"]
    rows = w.index("ward_code").get(code)
    if not rows:
        raise ApiError(404, f"no CNI ward with code {code}")
    rec = w.rows(rows[:1], [c for c in WARD_FIELDS if c in w.columns])[0]
    rec["indicators"] = _indicators(run, code)
    return json_entry(rec)


def _indicators(run: Run, code: str) -> dict | None:
    ind = run.table("ward_indicators")
    if ind is None:
        return None
    rows = ind.index("ward_code").get(code)
    if not rows:
        return None
    r = ind.rows(rows[:1])[0]
    r.pop("ward_code", None)
    return r


def lad_detail(run: Run, code: str) -> Entry:
    lads = run.tables["breakdown_lad"]
    rows = lads.index("area_code").get(code)
    if not rows:
        raise ApiError(404, f"no local authority with code {code} in this run")
    rec = lads.rows(rows[:1])[0]
    rec["area_code"] = code
    w = run.tables["wards"]
    rec["wards"] = w.rows(w.index("lad_code").get(code, []), ["ward_code", "ward_name", "group"])
    return json_entry(rec)


def current_lad_detail(run: Run, code: str) -> Entry:
    lads = need(run, "current_lad")
    rows = lads.index("area_code").get(code)
    if not rows:
        raise ApiError(404, f"no local authority with code {code} in current/lad.csv")
    rec = lads.rows(rows[:1])[0]
    lsoa = run.table("lsoa21")
    if lsoa is not None:
        cols = [c for c in ("lsoa21_code", "group", "status_since_2020") if c in lsoa.columns]
        rec["lsoas"] = lsoa.rows(lsoa.index("lad_code").get(code, []), cols)
    return json_entry(rec)


def cluster_detail(run: Run, cluster_id: int) -> Entry:
    clusters = need(run, "spatial_clusters")
    rows = clusters.index("cluster_id").get(cluster_id)
    if not rows:
        raise ApiError(404, f"no cluster {cluster_id} in spatial/clusters.csv (see /api/spatial/clusters)")
    rec = clusters.rows(rows[:1])[0]
    local = run.table("spatial_local")
    if local is not None and "cluster_id" in local.columns:
        want = ("area_code", "area_name", "lad_name", "group", "ljc", "p_fdr", "significant")
        cols = [c for c in want if c in local.columns]
        rec["areas"] = local.rows(local.index("cluster_id").get(cluster_id, []), cols)
    return json_entry(rec)


def edition_of(role: str, summary: dict | None = None) -> str:
    """The edition id a table of ``role`` (research, current, any) belongs to in a run (its summary):
    the research edition it stands on, or the run's current edition."""
    from leftbehind.editions import current_for, found, research_of
    from leftbehind.options import BY_NAME

    ed = str(((summary or {}).get("options") or {}).get("edition") or BY_NAME["edition"].default)
    if ed not in found():
        ed = str(BY_NAME["edition"].default)
    if role == "research":
        return research_of(ed).id
    if role == "current":
        return current_for(ed).id
    return role


def edition_tag(role: str) -> str:
    """The OpenAPI tag of an endpoint of ``role``: the edition id (``research`` -> 2020)."""
    return edition_of(role) if role in ("research", "current") else role


def tables_list(run: Run, fmt: str = "json") -> Entry:
    items = []
    for name, t in run.tables.items():
        spec = t.spec
        items.append(
            {
                "name": name,
                "path": spec.path,
                "title": spec.title,
                "description": spec.description,
                "edition": edition_of(spec.edition, run.summary),
                "rows": len(t),
                "columns": [_column(spec, n) for n in t.columns],
            }
        )
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        wr = csv.writer(buf, lineterminator="\n")
        wr.writerow(["name", "path", "title", "edition", "rows", "columns"])
        for i in items:
            wr.writerow([i["name"], i["path"], i["title"], i["edition"], i["rows"], len(i["columns"])])
        return csv_entry(buf.getvalue().encode(), "tables.csv")
    return json_entry({"total": len(items), "items": items})


def _column(spec, name: str) -> dict:
    d = spec.column(name)
    if d is None:  # not declared (a table written by an older version): typed as text
        return {"name": name, "type": "str", "unit": "", "description": "(not declared in report/outputs.yaml)"}
    return {"name": name, "type": d.type, "unit": d.unit, "description": d.description}


def table_rows(run: Run, name: str, limit: int, offset: int, fmt: str) -> Entry:
    from leftbehind.report.registry import registry

    reg = registry()
    if name not in reg or reg[name].template:
        raise ApiError(404, f"no output table {name!r} (see /api/tables)")
    t = need(run, name)
    page = np.arange(min(offset, len(t)), min(offset + limit, len(t)))
    if fmt == "csv":
        return csv_entry(t.csv(page), f"{name}.csv")
    return json_entry({"total": len(t), "limit": limit, "offset": offset, "items": t.rows(page)})
