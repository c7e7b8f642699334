"""The one registry of output tables.

Every table a run writes is declared once in ``outputs.yaml``: its name, path in the output
folder, title, description, the edition it belongs to and each column's name, type, unit and
meaning. That declaration drives the CSV and Parquet writers, the SQLite database, the Excel
workbook, :func:`~leftbehind.report.tables.read_results`, the report and the API's table
endpoints: a new table appears everywhere by being declared once.

Column names may hold one placeholder:

* ``{group}`` — expanded to each classification group (``left_behind``, ``other_deprived``,
  ``rest``, ``no_imd``), with ``{group_label}`` in the description;
* ``{any}`` — a family of columns whose names come from the data (an index's components, the
  indicators of ``outcomes.csv``); the description says where their names are defined.

A table whose columns differ from its declaration is a bug, caught when it is written.

The same file declares the other files of a run folder (:func:`files`: the summary, the
database, the maps and GIS layers...), the licences (:func:`licences`: a table with ``cni: true``
holds Community Needs Index values, not open data), the editions' labels and the vocabulary;
the data dictionary (:mod:`leftbehind.report.dictionary`), the Excel README sheet and
``datapackage.json`` (:mod:`leftbehind.report.datapackage`) are generated from them.

>>> from leftbehind.report.registry import registry
>>> registry()["wards"].path
'wards.csv'
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

GROUP_LABELS = {
    "left_behind": "left behind",
    "other_deprived": "other deprived",
    "rest": "rest of England",
    "no_imd": "no ward IMD",
}
TYPES = ("str", "int", "float", "bool", "date")


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: str
    unit: str
    description: str

    @property
    def is_family(self) -> bool:
        return "{any}" in self.name

    def matches(self, column: str) -> bool:
        if not self.is_family:
            return column == self.name
        pattern = re.escape(self.name).replace(re.escape("{any}"), r"\w+")
        return re.fullmatch(pattern, column) is not None


@dataclass(frozen=True)
class TableDef:
    name: str
    path: str
    title: str
    description: str
    edition: str  # the role of the edition that writes it: "research", "current" or "any"
    sheet: str
    columns: tuple[ColumnDef, ...]
    parquet: bool = False
    template: bool = False  # path has {name} (one file per index)
    cni: bool = False  # holds Community Needs Index values (OCSI for Local Trust, not open data)
    key: tuple[str, ...] = ()  # the column(s) naming a row: unique, never blank

    def concrete_path(self, name: str | None = None) -> str:
        """The file's path; for a template (``indices/{name}.csv``) the path of one of its files."""
        if self.template:
            if not name:
                raise ValueError(f"output table {self.name} is a template: give the file's name")
            return self.path.format(name=name)
        return self.path

    def concrete_sheet(self, name: str | None = None) -> str:
        return (self.sheet.format(name=name) if self.template else self.sheet)[:31]

    def match(self, rel: str) -> str | None:
        """For a file path inside a run folder: ``""`` when it is this table's file, the ``{name}``
        part when it is one of this template's files, else None."""
        if not self.template:
            return "" if rel == self.path else None
        pattern = re.escape(self.path).replace(re.escape("{name}"), r"([a-z][a-z0-9_]*)")
        m = re.fullmatch(pattern, rel)
        return m.group(1) if m else None

    def column(self, name: str) -> ColumnDef | None:
        return next((c for c in self.columns if c.matches(name)), None)

    def check(self, df) -> None:
        """Raise AssertionError if ``df`` has a column that is not declared, or its declared columns
        come in another order. A declared column may be absent (e.g. an index fit figure that only
        some indices have)."""
        cols = list(df.columns)
        fixed = [c.name for c in self.columns if not c.is_family]
        undeclared = [c for c in cols if self.column(c) is None]
        order = [c for c in cols if c in fixed]
        if undeclared or order != [c for c in fixed if c in cols]:
            raise AssertionError(
                f"output table {self.name} ({self.path}) does not match its declaration in outputs.yaml: "
                f"undeclared columns {undeclared}, order {order} vs {fixed}"
            )

    def describe(self, df) -> list[ColumnDef]:
        """The concrete columns of ``df`` with their declared type, unit and meaning."""
        out = []
        for c in df.columns:
            d = self.column(c)
            out.append(ColumnDef(c, d.type, d.unit, d.description))
        return out


def _expand(raw: list) -> list[ColumnDef]:
    out = []
    for entry in raw:
        name, typ, unit, desc = entry
        if typ not in TYPES:
            raise ValueError(f"column {name}: unknown type {typ!r} (use {', '.join(TYPES)})")
        if "{group}" in name:
            for g, label in GROUP_LABELS.items():
                out.append(ColumnDef(name.format(group=g), typ, unit, desc.replace("{group_label}", label)))
        else:
            out.append(ColumnDef(name, typ, unit, desc))
    return out


@functools.cache
def registry() -> dict[str, TableDef]:
    """Every output table, in the order they are written and listed."""
    raw = _raw()["tables"]
    out = {}
    for name, t in raw.items():
        out[name] = TableDef(
            name=name,
            path=t["path"],
            title=t["title"],
            description=t["description"],
            edition=str(t.get("edition", "any")),
            sheet=t.get("sheet", name)[:31],
            columns=tuple(_expand(t["columns"])),
            parquet=bool(t.get("parquet", False)),
            template="{name}" in t["path"],
            cni=bool(t.get("cni", False)),
            key=tuple(t.get("key", ())),
        )
        missing = [k for k in out[name].key if not any(c.name == k for c in out[name].columns)]
        if missing:
            raise ValueError(f"output table {name}: key column(s) {missing} are not declared")
    return out


@functools.cache
def _raw() -> dict:
    import yaml

    return yaml.safe_load(resources.files("leftbehind.report").joinpath("outputs.yaml").read_text("utf-8"))


@dataclass(frozen=True)
class FileDef:
    """A file of a run folder that is not a table: its path, what it holds and, for a GIS layer or
    a map, the table (and for a layer the columns) it is drawn from."""

    name: str
    path: str
    title: str
    description: str
    edition: str
    layer: dict | None = None  # {table, unit, columns}
    map: dict | None = None  # {table, unit}


@functools.cache
def files() -> dict[str, FileDef]:
    """Every other file a run folder may hold, in the order they are listed."""
    tables = registry()
    out = {}
    for name, f in _raw()["files"].items():
        d = FileDef(
            name=name,
            path=f["path"],
            title=f["title"],
            description=f["description"],
            edition=str(f.get("edition", "any")),
            layer=f.get("layer"),
            map=f.get("map"),
        )
        for spec in (d.layer, d.map):
            if spec is not None and spec["table"] not in tables:
                raise ValueError(f"file {name}: table {spec['table']!r} is not declared")
            if spec is not None and not tables[spec["table"]].key:
                raise ValueError(f"file {name}: table {spec['table']!r} has no key to join its shapes on")
        if d.layer:
            t = tables[d.layer["table"]]
            bad = [c for c in d.layer["columns"] if t.column(c) is None]
            if bad:
                raise ValueError(f"file {name}: columns {bad} are not columns of {t.name}")
        out[name] = d
    return out


@dataclass(frozen=True)
class Licence:
    name: str
    title: str
    path: str
    text: str


@functools.cache
def licences() -> dict[str, Licence]:
    """``cni`` (Community Needs Index values, not open data) and ``ogl`` (Open Government Licence v3.0)."""
    return {k: Licence(**v) for k, v in _raw()["licences"].items()}


def table_licences(t: TableDef, name: str | None = None) -> list[Licence]:
    """The licences of a table's file: CNI-bearing tables carry the CNI terms and the OGL, others the
    OGL. A rebuilt index (``indices/{name}.csv``) holds CNI values when its source is OCSI's."""
    lic = licences()
    return [lic["cni"], lic["ogl"]] if holds_cni(t, name) else [lic["ogl"]]


def holds_cni(t: TableDef, name: str | None = None) -> bool:
    if not t.template:
        return t.cni
    return _index_holds_cni(name)


@functools.cache
def _index_holds_cni(name: str | None) -> bool:
    """Whether a shipped index spec's source table is OCSI's (the spec's YAML is read as data: the
    indices package itself is heavy to import)."""
    import yaml

    try:
        from leftbehind.data.catalogue import load_catalogue

        specs = Path(__file__).resolve().parents[1] / "indices" / "specs"  # not resources.files: no package import
        spec = (specs / f"{name}.yaml").read_text("utf-8")
        source = yaml.safe_load(spec)["source"]
        entry = next(d for d in load_catalogue().datasets if d.id == source)
    except Exception:  # an index this version does not ship: assume the worst
        return True
    return entry.publisher.startswith("OCSI")


def editions() -> dict[str, str]:
    """What each table ``edition`` (research, current, any) means, in words."""
    return {str(k): v for k, v in _raw()["editions"].items()}


def vocabulary() -> list[tuple[str, str]]:
    """The terms used throughout the tables, with their meaning."""
    return [(a, b) for a, b in _raw()["vocabulary"]]


def find(rel: str) -> tuple[TableDef, str | None] | None:
    """The table a file path inside a run folder belongs to, with its ``{name}`` for a template
    (a table's own path wins over a template's pattern: indices/index_fits.csv is not an index)."""
    tables = sorted(registry().values(), key=lambda t: t.template)
    for t in tables:
        m = t.match(rel)
        if m is not None:
            return t, (m or None)
    return None


def table_def(name: str) -> TableDef:
    try:
        return registry()[name]
    except KeyError:
        raise KeyError(f"output table {name!r} is not declared in report/outputs.yaml") from None
