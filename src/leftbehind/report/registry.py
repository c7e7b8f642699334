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

>>> from leftbehind.report.registry import registry
>>> registry()["wards"].path
'wards.csv'
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

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
    edition: str  # "2020", "2025" or "any"
    sheet: str
    columns: tuple[ColumnDef, ...]
    parquet: bool = False
    template: bool = False  # path has {name} (one file per index)

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
    import yaml

    text = resources.files("leftbehind.report").joinpath("outputs.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)["tables"]
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
        )
    return out


def table_def(name: str) -> TableDef:
    try:
        return registry()[name]
    except KeyError:
        raise KeyError(f"output table {name!r} is not declared in report/outputs.yaml") from None
