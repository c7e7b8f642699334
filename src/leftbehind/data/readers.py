"""Readers: a dataset file -> a tidy, validated DataFrame with canonical columns.

Each reader is declared in :mod:`leftbehind.data.schemas` as a :class:`TableSpec`: the
canonical snake_case columns (carrying their geography vintage, e.g. ``lsoa11cd``), the
headings each may appear under (the official gov.uk heading and the converted heading of
the mirror both normalise to one of them), value kinds and ranges, the expected row count
and the code column's pattern and vintage.

Reading is defensive: UTF-8 BOM, gzip, thousands separators (``"29,199"``) and blank
(suppressed) cells are handled. A blank cell is the only missing value a numeric column
accepts unless the dataset (``TableSpec.missing``) or the column (``Col.missing``) declares
the suppression marks its files really use (``*``, ``..``, ``x``...): an undeclared mark such
as ``n/a`` is an error, never silently read as missing. Anything else that is wrong (missing
or renamed column, non-numeric value, out-of-range value, duplicate or malformed code, codes
of the wrong vintage, a truncated file, the wrong number of rows) raises one
:class:`~leftbehind.errors.DataError` naming the dataset, file, column and rows, and what
to do about it.

GeoJSON boundary files (``TableSpec(format="geojson")``) are read the same way: the feature
properties form the table (one row per feature, so ``rows`` is the feature count), and every
feature must have a polygon geometry. The geometry itself is not returned; maps read it with
geopandas from the resolved path.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from leftbehind.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

#: Marks that statistical publishers use for suppressed or unavailable values. None of them is
#: read as missing unless a dataset or column declares it (``missing=``); they are listed only
#: so that an undeclared one gets a message saying how to declare it.
KNOWN_MARKS = frozenset({"*", "..", ".", ":", "x", "X", "c", "-", "~", "NA", "N/A", "n/a", "NaN", "nan", "#N/A"})

#: GSS code patterns by geography.
PATTERNS = {
    "lsoa": r"^E01\d{6}$",
    "lsoa_ew": r"^[EW]01\d{6}$",
    "msoa": r"^E02\d{6}$",
    "oa": r"^E00\d{6}$",
    "ward": r"^E05\d{6}$",
    "lad": r"^E0[6789]\d{6}$",
    "region": r"^E12\d{6}$",
    "pcon": r"^E14\d{6}$",
    "lad_old": r"^\d{2}[A-Z]{2}$",  # pre-2009 4-character LAD codes (00AA City of London ... 46UF)
}

#: The last LSOA 2011 code; LSOA 2021 created new codes above it (E01033769…E01035762).
LAST_LSOA11 = 33768
#: Row counts of a whole LSOA 2011 table (England; England and Wales).
LSOA11_TABLE_ROWS = (32_844, 34_753)
#: The last English LSOA 2001 code; LSOA 2011 created new codes above it (E01032483…E01033768).
LAST_LSOA01 = 32482


def normalise_header(h: str) -> str:
    """Official and converted headings -> one snake_case key.

    ``'Income Rank (where 1 is most deprived)'`` -> ``'income_rank'``;
    ``'\\ufeffLSOA code (2011)'`` -> ``'lsoa_code_2011'``;
    ``'Road distance to a GP surgery indicator (km)'`` -> ``'road_distance_to_a_gp_surgery_indicator_km'``.
    """
    h = str(h).replace("\ufeff", "")
    h = re.sub(r"\(\s*where [^)]*\)", " ", h, flags=re.IGNORECASE)
    h = re.sub(r"[^0-9a-zA-Z]+", "_", h).strip("_").lower()
    return h


@dataclass(frozen=True)
class Col:
    """A canonical column and how it is read and checked.

    kind: ``str`` (text), ``code`` (GSS code, ``pattern``), ``int``, ``float``, ``percent`` (a
    number that may carry a "%" sign), ``rank`` (integer 1..n), ``decile`` (integer 1..10),
    ``bool`` (TRUE/FALSE).

    missing: the suppression marks (besides a blank cell) read as missing in this numeric
    column; ``None`` means the dataset's :attr:`TableSpec.missing`. A mark only makes a value
    missing; the column must still be ``nullable`` to accept it.
    """

    name: str
    aliases: tuple[str, ...] = ()
    kind: str = "float"
    required: bool = True
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    missing: tuple[str, ...] | None = None

    def heading_keys(self) -> tuple[str, ...]:
        return (normalise_header(self.name), *(normalise_header(a) for a in self.aliases))


@dataclass(frozen=True)
class TableSpec:
    """How to read and validate one dataset."""

    dataset: str
    code: Col  # the key column, unique
    vintage: str  # geography vintage of the code column, e.g. "lsoa11", "lsoa21", "wd17"
    columns: tuple[Col, ...] = ()
    rows: int | None = None  # exact expected number of data rows
    keep_extra: bool = False  # keep undeclared columns under their normalised names
    unique_ranks: tuple[str, ...] = ()  # rank columns that must be a permutation of 1..rows
    unique_code: bool = True  # False for many-to-many lookups keyed on several columns
    keep_prefix: str | None = None  # keep only rows whose code starts with this (UK lookups -> "E")
    post: Callable[[pd.DataFrame], pd.DataFrame] | None = field(default=None, compare=False)
    description: str = ""
    #: suppression marks (besides blank) read as missing in every numeric column; default none.
    #: Declare only the marks the dataset's real files use: any other non-number is an error.
    missing: tuple[str, ...] = ()
    #: with keep_extra: the kind of every undeclared column kept (e.g. "float": File 8's
    #: indicators), so those are converted and checked too; None keeps them as parsed.
    extra_kind: str | None = None
    #: columns that together identify a row, when the code alone does not (unique_code=False).
    unique_key: tuple[str, ...] = ()
    #: "csv" (optionally gzipped) or "geojson" (optionally gzipped; the feature properties).
    format: str = "csv"

    @property
    def all_columns(self) -> tuple[Col, ...]:
        return (self.code, *self.columns)

    def marks(self, col: Col) -> frozenset[str]:
        """The values read as missing in ``col``: a blank cell and the declared marks."""
        return frozenset({"", *(self.missing if col.missing is None else col.missing)})


def _fail(spec: TableSpec, path: Path, problem: str, hint: str) -> DataError:
    return DataError(f"dataset {spec.dataset} ({path}): {problem}", hint=hint)


def _unreadable(spec: TableSpec, path: Path, exc: BaseException) -> DataError:
    """The message for a file that could not be opened or decompressed (shared by every reader)."""
    if isinstance(exc, FileNotFoundError):
        return _fail(spec, path, "file not found", "check the path or run `leftbehind data list`")
    return _fail(
        spec,
        path,
        f"the file is truncated or not valid gzip ({exc})",
        "re-download or restore the file; `leftbehind data verify` checks every checksum",
    )


def _py(value):
    """A numpy scalar as the plain Python value, so messages show 99999, not np.int64(99999)."""
    return value.item() if isinstance(value, np.generic) else value


def _labels(mask: pd.Series) -> np.ndarray:
    """Row labels where ``mask`` is true. Labels are 0-based data rows of the file (a declared
    ``keep_prefix`` subset keeps the original labels), so a label + 2 is the file's line number."""
    return mask.index.to_numpy()[mask.to_numpy(dtype=bool)]


def _rows_list(idx: np.ndarray | list[int], limit: int = 5, spec: TableSpec | None = None) -> str:
    """``'lines 3, 7'`` (CSV: label + 2, the header is line 1) or ``'features 1, 5'`` (GeoJSON:
    label + 1, counted from 1)."""
    geo = spec is not None and spec.format == "geojson"
    unit, off = ("feature", 1) if geo else ("line", 2)
    lines = [f"{int(i) + off:,}" for i in list(idx)[:limit]]
    more = f" and {len(idx) - limit:,} more" if len(idx) > limit else ""
    return f"{unit} " + ", ".join(lines) + more if len(lines) == 1 else f"{unit}s " + ", ".join(lines) + more


def _first_non_utf8(path: Path) -> str | None:
    """Where the file's first non-UTF-8 byte is, as 'reason at line N, byte M' (None if not found)."""
    import gzip

    gz = path.name.lower().endswith(".gz")
    try:
        with (gzip.open if gz else open)(path, "rb") as fh:
            data = fh.read()
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return f"{exc.reason} at line {line:,}, byte {exc.start:,}" + (" of the unzipped text" if gz else "")
    except (OSError, EOFError):
        return None
    return None


def read_raw(path: Path, spec: TableSpec) -> pd.DataFrame:
    """Read a CSV (optionally gzipped), BOM stripped; only empty cells are missing.

    Clean numeric columns are parsed by pandas' C parser; anything else stays text and is
    converted (thousands separators, suppression marks) column by column in :func:`parse_table`.
    """
    import pandas as pd

    try:
        df = pd.read_csv(
            path,
            keep_default_na=False,
            na_values=[""],
            low_memory=False,
            encoding="utf-8-sig",
            compression="infer",
            skip_blank_lines=True,
        )
    except (EOFError, zlib.error, OSError) as exc:
        raise _unreadable(spec, path, exc) from None
    except UnicodeDecodeError as exc:
        where = _first_non_utf8(path) or exc.reason  # exc.start is an offset in pandas' buffer, not the file
        raise _fail(spec, path, f"the file is not UTF-8 text ({where})", "save it as UTF-8 CSV") from None
    except pd.errors.EmptyDataError:
        raise _fail(spec, path, "the file is empty", "restore the original file") from None
    except pd.errors.ParserError as exc:
        raise _fail(
            spec,
            path,
            f"the file is not a well-formed CSV ({str(exc).strip()})",
            "restore the original file, or check it was saved as CSV",
        ) from None
    if any(re.search(r"\.\d+$", str(c)) for c in df.columns):  # pandas renames a repeated heading 'x' to 'x.1'
        first = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        heads = [str(h).strip() for h in first.iloc[0]]
        dups = sorted({h for h in heads if heads.count(h) > 1})
        if dups:
            raise _fail(spec, path, f"the heading {dups[0]!r} appears more than once", "remove the duplicate column")
    return df


#: Geometry types a boundary feature may have.
POLYGONS = frozenset({"Polygon", "MultiPolygon"})
#: Ways a GeoJSON file may name WGS84 longitude/latitude (RFC 7946's only CRS; the default).
WGS84_NAMES = frozenset({"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "EPSG:4326"})


def read_geojson(path: Path, spec: TableSpec) -> pd.DataFrame:
    """A GeoJSON FeatureCollection (optionally gzipped) -> its feature properties, one row per
    feature in file order. Every feature must carry a (Multi)Polygon geometry, in WGS84."""
    import gzip
    import json

    import pandas as pd

    gz = path.name.lower().endswith(".gz")
    unzipped = " of the unzipped text" if gz else ""
    try:
        with (gzip.open if gz else open)(path, "rb") as fh:
            doc = json.load(fh)
    except (EOFError, zlib.error, OSError) as exc:
        raise _unreadable(spec, path, exc) from None
    except UnicodeDecodeError as exc:
        raise _fail(spec, path, f"the file is not UTF-8 text ({exc.reason})", "restore the original file") from None
    except json.JSONDecodeError as exc:
        raise _fail(
            spec,
            path,
            f"the file is not valid JSON ({exc.msg} at line {exc.lineno:,}, column {exc.colno:,}{unzipped})",
            "restore the original file; a cut-off file is usually a truncated copy",
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise _fail(spec, path, "the file is not a GeoJSON FeatureCollection", "restore the original file")
    crs_member = doc.get("crs")  # absent in RFC 7946 files: WGS84
    crs = (crs_member.get("properties") or {}).get("name") if isinstance(crs_member, dict) else None
    if crs is not None and crs not in WGS84_NAMES:
        raise _fail(
            spec,
            path,
            f"the coordinates are in {crs}, not WGS84 longitude/latitude",
            "restore the original file (boundaries are stored in WGS84)",
        )
    features = doc["features"]
    if not features:
        raise _fail(spec, path, "the file has no features", "restore the original file")
    props: list[dict] = []
    no_shape: list[int] = []
    for i, feat in enumerate(features):
        feat = feat if isinstance(feat, dict) else {}
        p, g = feat.get("properties"), feat.get("geometry")
        props.append(p if isinstance(p, dict) else {})
        if not isinstance(g, dict) or g.get("type") not in POLYGONS or not g.get("coordinates"):
            no_shape.append(i)
    if no_shape:
        raise _fail(
            spec,
            path,
            f"{len(no_shape):,} feature(s) have no polygon geometry ({_rows_list(no_shape, spec=spec)})",
            "restore the original file",
        )
    return pd.DataFrame.from_records(props)


def _extra_columns(df: pd.DataFrame, spec: TableSpec) -> tuple[Col, ...]:
    """Declarations for the undeclared columns a ``keep_extra`` spec keeps (``extra_kind``)."""
    if not (spec.keep_extra and spec.extra_kind):
        return ()
    declared = {c.name for c in spec.all_columns}
    return tuple(Col(c, kind=spec.extra_kind, nullable=True) for c in df.columns if c not in declared)


def _map_columns(df: pd.DataFrame, spec: TableSpec, path: Path) -> pd.DataFrame:
    norm = {c: normalise_header(c) for c in df.columns}
    by_key: dict[str, str] = {}
    for orig, key in norm.items():
        if key in by_key:
            raise _fail(spec, path, f"two columns have the same heading {orig!r}", "remove the duplicate column")
        by_key[key] = orig
    rename: dict[str, str] = {}
    missing: list[Col] = []
    for col in spec.all_columns:
        hit = next((by_key[k] for k in col.heading_keys() if k in by_key), None)
        if hit is None:
            if col.required:
                missing.append(col)
            continue
        rename[hit] = col.name
    if missing:
        names = "; ".join(f"{c.name} (heading like {c.aliases[0] if c.aliases else c.name!r})" for c in missing)
        found = ", ".join(repr(c) for c in list(df.columns)[:12])
        raise _fail(
            spec,
            path,
            f"missing or renamed column(s): {names}. Found headings: {found}" + (" …" if len(df.columns) > 12 else ""),
            "restore the original headings (official gov.uk or the mirror's converted ones)",
        )
    out = df.rename(columns=rename)
    declared = [c.name for c in spec.all_columns if c.name in set(rename.values())]
    extra = [c for c in out.columns if c not in declared]
    if spec.keep_extra:
        out = out.rename(columns={c: normalise_header(c) for c in extra})
        return out[declared + [normalise_header(c) for c in extra]]
    return out[declared]


def _to_number(s: pd.Series, col: Col, spec: TableSpec, path: Path) -> pd.Series:
    import pandas as pd

    if pd.api.types.is_bool_dtype(s):
        raise _fail(
            spec,
            path,
            f"column {col.name}: expected numbers, found TRUE/FALSE values",
            "check the column order and headings",
        )
    marks = spec.marks(col)
    if pd.api.types.is_numeric_dtype(s):  # fast path: the parser already read clean numbers
        num = s.astype("float64")
        blank = num.isna()  # only empty cells are read as NaN (read_raw)
    else:
        text = s.astype("string").fillna("").str.strip()
        blank = text.isin(marks)
        cleaned = text.str.replace(",", "", regex=False).where(~blank, None)
        if col.kind == "percent":  # "13%" -> 13
            cleaned = cleaned.str.replace("%", "", regex=False).str.strip()
        num = pd.to_numeric(cleaned, errors="coerce")
    bad = (num.isna() | np.isinf(num)) & ~blank
    if bad.any():
        raise _not_a_number(s, bad, col, spec, path, marks)
    if blank.any() and not col.nullable:
        idx = _labels(blank)
        raise _fail(
            spec,
            path,
            f"column {col.name}: blank or suppressed value at {_rows_list(idx, spec=spec)} "
            "(this column must be complete)",
            "the file may be truncated or edited; restore the original",
        )
    if col.kind in ("int", "rank", "decile"):
        frac = num.notna() & (num != np.floor(num.fillna(0)))
        if frac.any():
            idx = _labels(frac)
            raise _fail(
                spec,
                path,
                f"column {col.name}: expected whole numbers, found {_py(s.loc[idx[0]])!r} "
                f"at {_rows_list(idx, spec=spec)}",
                "restore the original values",
            )
        return num.astype("Int64") if col.nullable else num.astype("int64")
    return num.astype("float64")


def _not_a_number(s: pd.Series, bad: pd.Series, col: Col, spec: TableSpec, path: Path, marks) -> DataError:
    """The error for non-numbers in a numeric column: the values, where, and the declared marks."""
    idx = _labels(bad)
    values = list(dict.fromkeys(str(_py(v)).strip() for v in s.loc[idx]))
    shown = ", ".join(repr(v) for v in values[:3]) + (f" and {len(values) - 3} other values" if len(values) > 3 else "")
    declared = sorted(m for m in marks if m)
    allowed = "a blank cell" + (" or " + ", ".join(repr(m) for m in declared) if declared else " only")
    problem = (
        f"column {col.name}: non-numeric value {shown} at {_rows_list(idx, spec=spec)}; "
        f"the values this dataset reads as missing are {allowed}"
    )
    marks_found = [v for v in values if v in KNOWN_MARKS]
    if marks_found:
        mark = marks_found[0]
        hint = (
            f"if {mark!r} really marks a suppressed value in this file, declare it in leftbehind/data/schemas.py: "
            f"missing=({mark!r},) on TableSpec {spec.dataset!r} (the whole dataset) or on Col {col.name!r} "
            "(this column only), which must also be nullable; otherwise restore the original rows. "
            "An undeclared mark is never read as missing"
        )
    else:
        hint = "fix or restore those rows; suppressed values must be blank" + (
            " or one of the declared marks" if declared else ""
        )
    return _fail(spec, path, problem, hint)


def _bounds(col: Col, spec: TableSpec, n: int) -> tuple[float | None, float | None]:
    lo, hi = col.min, col.max
    if col.kind == "rank":
        lo, hi = 1 if lo is None else lo, (spec.rows or n) if hi is None else hi
    elif col.kind == "decile":
        lo, hi = 1, 10
    return lo, hi


def _schema(spec: TableSpec, n: int):
    """The spec as a pandera schema (types are converted before; this checks values)."""
    import pandera.pandas as pa

    cols = {}
    for col in spec.all_columns:
        checks = []
        if col.kind in ("str", "code"):
            if col.pattern:
                checks.append(pa.Check.str_matches(col.pattern, error=f"pattern {col.pattern}"))
        elif col.kind != "bool":
            lo, hi = _bounds(col, spec, n)
            if lo is not None and hi is not None:
                checks.append(pa.Check.in_range(lo, hi, error=f"outside [{lo:g}, {hi:g}]"))
            elif lo is not None:
                checks.append(pa.Check.ge(lo, error=f"below {lo:g}"))
            elif hi is not None:
                checks.append(pa.Check.le(hi, error=f"above {hi:g}"))
        cols[col.name] = pa.Column(
            None,
            checks,
            nullable=col.nullable or col.kind not in ("str", "code"),
            unique=col is spec.code and spec.unique_code,
            required=col.required,
        )
    return pa.DataFrameSchema(cols, strict=False, coerce=False)


def _validate(df: pd.DataFrame, spec: TableSpec, path: Path) -> None:
    import pandera.pandas as pa

    try:
        _schema(spec, len(df)).validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()] if fc["index"].notna().any() else fc
        first = fc.iloc[0]
        col, check = first["column"], str(first["check"])
        sub = fc[(fc["column"] == col) & (fc["check"].astype(str) == check)]
        idx = sorted({int(i) for i in sub["index"].dropna()})
        where = _rows_list(idx, spec=spec) if idx else "(whole column)"
        value = _py(first["failure_case"])
        if check == "field_uniqueness":
            problem = f"column {col}: duplicated code {value!r} at {where}"
            hint = "each area must appear once; remove the duplicated rows"
        elif check.startswith("pattern"):
            problem = f"column {col}: malformed code {value!r} at {where} (expected {check})"
            hint = "codes must be 9-character GSS codes of the right type; restore the original column"
        elif check == "not_nullable":
            problem = f"column {col}: blank value at {where}"
            hint = "the file may be truncated or edited; restore the original"
        else:
            problem = f"column {col}: value {value!r} {check} at {where}"
            hint = "restore the original values"
        others = fc[["column", "check"]].astype(str).drop_duplicates()
        if len(others) > 1:
            problem += f" (and {len(others) - 1} other failed check(s))"
        raise _fail(spec, path, problem, hint) from None


def _check_vintage(df: pd.DataFrame, spec: TableSpec, path: Path) -> None:
    col = spec.code
    codes = df[col.name]
    if spec.vintage == "lsoa01":
        later = (codes.str.slice(3).astype("int64") > LAST_LSOA01) & codes.str.startswith("E01")
        if later.any():
            idx = _labels(later)
            raise _fail(
                spec,
                path,
                f"column {col.name}: {int(later.sum()):,} codes are LSOA 2011 codes created in 2011 "
                f"(e.g. {codes.loc[idx[0]]!r} at {_rows_list(idx, spec=spec)}), but this dataset is at LSOA 2001",
                "use the 2001-based edition of the file, or convert it with the LSOA01->LSOA11 lookup "
                "(lookup_lsoa01_lsoa11)",
            )
    if spec.vintage in ("lsoa11", "lsoa21"):
        num = codes.str.slice(3).astype("int64")
        is_e = codes.str.startswith("E01")
        newer = (num > LAST_LSOA11) & is_e
        if spec.vintage == "lsoa11" and newer.any():
            idx = _labels(newer)
            raise _fail(
                spec,
                path,
                f"column {col.name}: {int(newer.sum()):,} codes are LSOA 2021 codes "
                f"(e.g. {codes.loc[idx[0]]!r} at {_rows_list(idx, spec=spec)}), but this dataset is at "
                "LSOA 2011",
                "use the 2011-based edition of the file, or convert it with the "
                "LSOA11->LSOA21 lookup (lookup_lsoa11_lsoa21)",
            )
        if spec.vintage == "lsoa21" and spec.rows and len(codes) >= 1000 and not newer.any():
            raise _fail(
                spec,
                path,
                f"column {col.name}: no LSOA 2021-only code (above E01033768) "
                "appears: these look like LSOA 2011 codes, but this dataset is at LSOA 2021",
                "use the 2021-based edition of the file",
            )


def _check_vintage_of_whole_table(df: pd.DataFrame, spec: TableSpec, path: Path) -> None:
    """On a row-count mismatch, a table of the other LSOA vintage is reported as such, not as truncated."""
    if spec.vintage not in ("lsoa11", "lsoa21") or spec.code.name not in df.columns:
        return
    codes = df[spec.code.name].astype("string").str.strip()
    if len(codes) < 1000 or not codes.str.fullmatch(PATTERNS["lsoa_ew"]).fillna(False).all():
        return  # too few rows, or malformed codes: the row count is the clearer message
    if spec.vintage == "lsoa11" or len(codes) in LSOA11_TABLE_ROWS:
        _check_vintage(df.assign(**{spec.code.name: codes}), spec, path)


def _check_unique_ranks(df: pd.DataFrame, spec: TableSpec, path: Path) -> None:
    n = len(df)
    for name in spec.unique_ranks:
        r = df[name]
        dup = r.duplicated(keep=False)
        if dup.any():
            idx = _labels(dup)
            raise _fail(
                spec,
                path,
                f"column {name}: rank {r.loc[idx[0]]} appears more than once "
                f"({_rows_list(idx, spec=spec)}); ranks must run 1..{n:,} without ties",
                "restore the original values",
            )


def _check_unique_key(df: pd.DataFrame, spec: TableSpec, path: Path) -> None:
    if not spec.unique_key:
        return
    key = list(spec.unique_key)
    dup = df.duplicated(key, keep=False)
    if dup.any():
        idx = _labels(dup)
        first = ", ".join(f"{k}={df.loc[idx[0], k]!r}" for k in key)
        raise _fail(
            spec,
            path,
            f"the row {first} appears more than once ({_rows_list(idx, spec=spec)}); "
            f"({', '.join(key)}) must identify a row",
            "remove the duplicated rows",
        )


def parse_table(df: pd.DataFrame, spec: TableSpec, path: Path) -> pd.DataFrame:
    """Map headings, convert types, validate. ``df`` is as from :func:`read_raw` (or
    :func:`read_geojson`): clean numeric columns parsed, everything else text."""
    df = _map_columns(df, spec, path)
    if spec.keep_prefix is not None:  # declared subset (e.g. England of a UK lookup); rows are then counted
        key = df[spec.code.name].astype("string").fillna("").str.strip()
        df = df[key.str.startswith(spec.keep_prefix)]
    if spec.rows is not None and len(df) != spec.rows:
        _check_vintage_of_whole_table(df, spec, path)
        kind = "truncated or filtered" if len(df) < spec.rows else "padded with extra rows"
        unit = "features" if spec.format == "geojson" else "data rows"
        raise _fail(
            spec,
            path,
            f"expected {spec.rows:,} {unit}, found {len(df):,}: the file looks {kind}",
            "restore the complete file (`leftbehind data verify` checks it)",
        )
    for col in (*spec.all_columns, *_extra_columns(df, spec)):
        if col.name not in df.columns:
            continue
        s = df[col.name]
        if col.kind in ("str", "code"):
            s = s.astype("string").fillna("").str.strip()
            if not col.nullable:
                blank = s == ""
                if blank.any():
                    idx = _labels(blank)
                    raise _fail(
                        spec,
                        path,
                        f"column {col.name}: blank value at {_rows_list(idx, spec=spec)}",
                        "the file may be truncated or edited; restore the original",
                    )
            df[col.name] = s.where(s != "", None)
        elif col.kind == "bool":
            up = s.astype("string").fillna("").str.strip().str.upper()
            bad = ~up.isin({"TRUE", "FALSE", "1", "0"})
            if bad.any():
                idx = _labels(bad)
                raise _fail(
                    spec,
                    path,
                    f"column {col.name}: expected TRUE/FALSE, found {s.loc[idx[0]]!r} at {_rows_list(idx, spec=spec)}",
                    "restore the original values",
                )
            df[col.name] = up.isin({"TRUE", "1"})
        else:
            df[col.name] = _to_number(s, col, spec, path)
    _validate(df, spec, path)
    _check_vintage(df, spec, path)
    _check_unique_ranks(df, spec, path)
    _check_unique_key(df, spec, path)
    if spec.post is not None:
        df = spec.post(df)
    df.attrs["dataset"] = spec.dataset
    df.attrs["vintage"] = spec.vintage
    return df.reset_index(drop=True)


def read_file(path: str | Path, spec: TableSpec) -> pd.DataFrame:
    """Read and validate a file against a spec (no catalogue, no checksum)."""
    path = Path(path)
    if not path.is_file():
        raise _fail(spec, path, "file not found", "check the path, or pass --data with the mirror folder")
    if spec.format == "geojson":
        return parse_table(read_geojson(path, spec), spec, path)
    return parse_table(read_raw(path, spec), spec, path)
