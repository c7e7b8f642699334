"""The served run, read once and held ready: typed tables, indexes and ready-made responses.

Tables are read from the run folder through the registry (``report/outputs.yaml``) with the
declared column types, so what the API returns is what the files say: ``int`` columns are JSON
integers, ``bool`` columns booleans, ``str`` columns strings (a code such as ``2020`` stays a
string), and ``float`` columns numbers rounded to 6 decimals, as :func:`leftbehind.io.csv_to`
writes them; a float with a whole value is written as an integer, as in the CSV (``226``, not
``226.0``). An empty unquoted cell is ``null``; a quoted empty string stays ``""``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

if TYPE_CHECKING:
    from leftbehind.report.registry import TableDef

ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string(), "date": pa.string()}
# the later commands that write into the run folder, by the table path's first folder
COMMANDS = {
    "robustness": "`leftbehind robustness --out DIR`",
    "target": "`leftbehind target RULE --out DIR`",
    "history": "`leftbehind history --out DIR`",
    "spatial": "`leftbehind spatial --out DIR`",
    "designations": "`leftbehind designations match LIST --out DIR`",
    "profiles": "`leftbehind profile AREAS --out DIR`",
}
SUBFOLDERS = tuple(COMMANDS)
COMPRESSIBLE = (b"application/json", b"text/", b"application/javascript", b"image/svg+xml")
MIN_GZIP = 512  # bytes: smaller bodies are sent as they are
MAX_FLOAT_INT = 2**53
ALL_ROWS_AT_ONCE = 10_000


def writer_of(spec: TableDef) -> str:
    """The command that writes a table, in words (for 404s of tables absent from the folder)."""
    top = spec.path.split("/", 1)[0]
    if top in COMMANDS and "/" in spec.path:
        return COMMANDS[top]
    if spec.edition == "current":
        from leftbehind.editions import current_for

        return f"`leftbehind run --edition {current_for().id} --out DIR`"
    return "`leftbehind run --out DIR`"


def absent_detail(spec: TableDef) -> str:
    return f"this run has no table {spec.name} ({spec.path}, {spec.title}): {writer_of(spec)} writes it"


# ---------------------------------------------------------------- typed tables


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return next(csv.reader(f), [])


def read_typed(path: Path, spec: TableDef) -> pa.Table:
    """A registry table read with its declared column types (see the module docstring)."""
    names = _header(path)
    declared = {c: spec.column(c) for c in names}
    types = {c: ARROW_TYPES[d.type] for c, d in declared.items() if d is not None}

    def read(column_types):
        conv = pacsv.ConvertOptions(
            column_types=column_types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["true", "True", "TRUE"],
            false_values=["false", "False", "FALSE"],
        )
        return pacsv.read_csv(path, convert_options=conv)

    try:
        table = read(types)
    except pa.ArrowInvalid:  # a column that does not hold its declared type: numbers as floats, the rest as text
        loose = {c: (pa.float64() if t in (pa.int64(), pa.bool_()) else t) for c, t in types.items()}
        try:
            table = read(loose)
        except pa.ArrowInvalid:
            table = read({c: pa.string() for c in names})
    return _rounded(table)


def _rounded(table: pa.Table) -> pa.Table:
    """Floats rounded to 6 decimals (as the CSV writer does), NaN and infinities as missing."""
    for i, f in enumerate(table.schema):
        if pa.types.is_floating(f.type):
            col = pc.round(table.column(i), 6)
            col = pc.if_else(pc.is_finite(col), col, pa.scalar(None, f.type))
            table = table.set_column(i, f, col)
    return table


def _num(v):
    """A float as the CSV writes it: a whole value as an integer (226, not 226.0)."""
    if v is not None and v.is_integer() and -MAX_FLOAT_INT < v < MAX_FLOAT_INT:
        return int(v)
    return v


def csv_header(names: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(names)
    return buf.getvalue().encode()


@dataclass
class Table:
    """One output table of the run, typed, with lazily built indexes."""

    name: str
    spec: Any  # TableDef
    arrow: pa.Table
    _index: dict = field(default_factory=dict, repr=False)
    _cols: dict = field(default_factory=dict, repr=False)

    @property
    def columns(self) -> list[str]:
        return self.arrow.column_names

    def __len__(self) -> int:
        return self.arrow.num_rows

    @property
    def float_columns(self) -> list[str]:
        if "_floats" not in self._cols:
            self._cols["_floats"] = [f.name for f in self.arrow.schema if pa.types.is_floating(f.type)]
        return self._cols["_floats"]

    def rows(self, idx=None, columns: list[str] | None = None) -> list[dict]:
        """Rows ``idx`` (all when None) as JSON-ready dicts, in the data contract above."""
        t = self.arrow if columns is None else self.arrow.select(columns)
        if idx is not None:
            t = t.take(pa.array(np.asarray(idx, dtype=np.int64)))
        out = t.to_pylist()
        floats = [c for c in self.float_columns if c in t.column_names]
        if floats:
            for r in out:
                for c in floats:
                    r[c] = _num(r[c])
        return out

    def json_rows(self, idx, columns: list[str] | None = None) -> list[bytes]:
        """Rows ``idx`` serialised (orjson). A table of up to ALL_ROWS_AT_ONCE rows is serialised
        whole on first use and sliced after; a larger one row by row as asked (answers are kept)."""
        key = ("j", tuple(columns) if columns is not None else None)
        whole = self._cols.get(key)
        if whole is None and len(self) <= ALL_ROWS_AT_ONCE:
            whole = self._cols[key] = [orjson.dumps(r) for r in self.rows(None, columns)]
        if whole is not None:
            return [whole[i] for i in idx]
        return [orjson.dumps(r) for r in self.rows(idx, columns)]

    def csv(self, idx=None, columns: list[str] | None = None) -> bytes:
        """Rows ``idx`` as CSV, written as the file is (pyarrow's writer; the header unquoted)."""
        t = self.arrow if columns is None else self.arrow.select(columns)
        if idx is not None:
            t = t.take(pa.array(np.asarray(idx, dtype=np.int64)))
        buf = io.BytesIO()
        buf.write(csv_header(t.column_names))
        pacsv.write_csv(t, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        return buf.getvalue()

    def values(self, column: str) -> np.ndarray:
        """A column as a NumPy array (object for text; None for missing text)."""
        key = ("v", column)
        if key not in self._cols:
            col = self.arrow.column(column)
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                arr = np.array(col.to_pylist(), dtype=object)
            else:
                arr = col.to_numpy(zero_copy_only=False)
            self._cols[key] = arr
        return self._cols[key]

    def folded(self, column: str) -> np.ndarray:
        """A text column case-folded (missing as ''), for case-insensitive filters."""
        key = ("f", column)
        if key not in self._cols:
            self._cols[key] = np.array([(v or "").casefold() for v in self.values(column)], dtype=object)
        return self._cols[key]

    def search(self, columns: tuple[str, ...], text: str) -> np.ndarray:
        """Rows where one of ``columns`` contains ``text`` literally, ignoring case (str.casefold); a
        match never spans two fields."""
        needle = text.casefold()
        mask = np.zeros(len(self), dtype=bool)
        for c in columns:
            if c not in self.columns:
                continue
            key = ("a", c)
            if key not in self._cols:
                self._cols[key] = pa.array(self.folded(c).tolist(), type=pa.string())
            mask |= pc.match_substring(self._cols[key], needle).to_numpy(zero_copy_only=False)
        return mask

    def index(self, column: str) -> dict:
        """Row positions by the value of ``column`` (a list of positions per value)."""
        if column not in self._index:
            ix: dict = {}
            for i, v in enumerate(self.arrow.column(column).to_pylist()):
                ix.setdefault(v, []).append(i)
            self._index[column] = ix
        return self._index[column]


# ---------------------------------------------------------------- ready-made responses


def etag_of(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


def compressible(content_type: bytes) -> bool:
    return content_type.startswith(COMPRESSIBLE)


class Entry:
    """One response, ready to send: status, headers (without length), body, its gzip form on demand."""

    __slots__ = ("status", "headers", "body", "content_type", "etag", "_gzip", "_sent")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, content_type: bytes = b""):
        self.status = status
        self.headers = headers
        self.body = body
        self.content_type = content_type
        self.etag = etag_of(body) if status == 200 else None
        self._gzip: bytes | None = None
        self._sent: dict = {}

    @property
    def gzippable(self) -> bool:
        return len(self.body) >= MIN_GZIP and compressible(self.content_type)

    def gzip(self) -> bytes:
        if self._gzip is None:
            self._gzip = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzip


def json_entry(obj, status: int = 200, headers: list | None = None) -> Entry:
    body = obj if isinstance(obj, bytes) else orjson.dumps(obj)
    ct = b"application/json"
    return Entry(status, [(b"content-type", ct), *(headers or [])], body, ct)


def csv_entry(body: bytes, filename: str) -> Entry:
    ct = b"text/csv; charset=utf-8"
    disp = f'attachment; filename="{filename}"'.encode()
    return Entry(200, [(b"content-type", ct), (b"content-disposition", disp)], body, ct)


# ---------------------------------------------------------------- the run


def stamp(out: Path) -> tuple:
    """What identifies the run in ``out``: summary.json's inode, size and mtime (a re-run replaces it),
    the folder's own inode and mtime, and those of its section folders (a later command swapping in
    DIR/spatial/2025-lsoa21/ etc. changes them)."""
    from leftbehind.outdir import SECTIONS

    st = os.stat(out / "summary.json")
    d = os.stat(out)
    kinds = []
    for kind in SECTIONS:  # a section swapped in below DIR/KIND/ changes DIR/KIND's mtime
        try:
            k = os.stat(out / kind)
        except OSError:
            continue
        kinds.append((kind, k.st_ino, k.st_mtime_ns))
    return (st.st_ino, st.st_size, st.st_mtime_ns, d.st_ino, d.st_mtime_ns, tuple(kinds))


def _public_inputs(inputs: list[dict]) -> list[dict]:
    """The inputs without local paths: dataset id, file name, checksums, licence."""
    out = []
    for i in inputs:
        rec = {k: v for k, v in i.items() if k != "file"}
        rec["file_name"] = Path(str(i.get("file", ""))).name
        out.append(rec)
    return out


SUMMARY_FIELDS = {
    "leftbehind_version",
    "options",
    "cut_off",
    "groups",
    "diagnostics",
    "published_checks",
    "inputs",
    "citations",
    "current",
}


@dataclass
class Run:
    """A finished run in ``out``, read once: typed tables, summary, health and known codes."""

    out: Path
    stamp: tuple
    tables: dict[str, Table]
    summary: dict
    health: dict
    sections: dict[str, dict]
    lad_codes: frozenset
    regions: dict[str, str]  # case-folded name or code -> region name
    static: dict[tuple, Entry] = field(default_factory=dict)  # (path, query) -> ready response, built at load
    cache: dict[tuple, Entry] = field(default_factory=dict)  # (path, query) -> response, filled as asked
    cache_bytes: int = 0
    report: Entry | None = None
    report_stamp: tuple | None = None

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)


def load_run(out: Path) -> Run:
    """Read the run in ``out`` (a folder with no finished run is a UsageError naming it)."""
    from leftbehind import __version__
    from leftbehind.report.registry import registry
    from leftbehind.report.tables import read_results

    st = stamp(out) if (out / "summary.json").is_file() else None  # taken first: a change while reading shows next time
    results = read_results(out)  # validates the folder and its summary
    raw = (out / "summary.json").read_bytes()
    summary_mtime = (out / "summary.json").stat().st_mtime
    tables: dict[str, Table] = {}
    from leftbehind.report.tables import section_file

    for name, spec in registry().items():
        if spec.template:
            continue
        rel = section_file(spec.path, results.section_paths)  # a later section's table: the instance shown
        if rel is not None and (out / rel).is_file():
            tables[name] = Table(name, spec, read_typed(out / rel, spec))
    summary = results.summary.model_dump(mode="json", include=SUMMARY_FIELDS)
    summary["inputs"] = _public_inputs(summary.get("inputs", []))
    if summary.get("current") is None:
        summary.pop("current", None)
    inputs = hashlib.sha256("".join(sorted(i.sha256 for i in results.summary.inputs)).encode()).hexdigest()
    health = {
        "status": "ok",
        "version": __version__,
        "wards": len(tables["wards"]),
        "run": out.name,
        "run_id": hashlib.sha256(raw).hexdigest()[:16],
        "run_date": datetime.fromtimestamp(summary_mtime, tz=UTC).isoformat(timespec="seconds"),
        "inputs_sha256": inputs[:16],
        "edition": results.options.edition,
    }
    lads: set[str] = set()
    for t in tables.values():
        for c in ("lad_code",):
            if c in t.columns:
                lads.update(v for v in t.values(c) if v)
    for n in ("breakdown_lad", "current_lad"):
        if n in tables:
            lads.update(v for v in tables[n].values("area_code") if v)
    regions: dict[str, str] = {}
    for n in ("breakdown_region", "current_region"):
        if n in tables:
            for code, name in zip(tables[n].values("area_code"), tables[n].values("area_name"), strict=True):
                if name:
                    regions[name.casefold()] = name
                    if code:
                        regions[code.casefold()] = name
    sections = dict(results.sections)  # the later sections shown (robustness, history, spatial, target)
    return Run(
        out=out,
        stamp=st,
        tables=tables,
        summary=summary,
        health=health,
        sections=sections,
        lad_codes=frozenset(lads),
        regions=regions,
    )
