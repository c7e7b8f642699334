"""The data dictionary: every output table and file of a run, generated from the registry.

One source, three renderings: :func:`markdown` is ``docs/outputs.md`` (the user guide's
reference page; a test fails when the committed file differs from it), :func:`readme_rows` is the
README sheet of ``leftbehind.xlsx`` and :mod:`leftbehind.report.datapackage` writes the same
titles, descriptions, units and licences into ``datapackage.json``. Everything comes from
``report/outputs.yaml`` (:mod:`leftbehind.report.registry`): to document a column, declare it there.

Regenerate the page after editing ``outputs.yaml``::

    python -m leftbehind.report.dictionary --out docs/outputs.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from leftbehind.report.registry import (
    ColumnDef,
    TableDef,
    editions,
    files,
    holds_cni,
    licences,
    registry,
    table_licences,
    vocabulary,
)

if TYPE_CHECKING:
    import pandas as pd

TYPE_WORDS = {
    "str": "text",
    "int": "whole number",
    "float": "number",
    "bool": "true / false",
    "date": "date (YYYY-MM-DD)",
}
SECTIONS = (
    ("research", "Tables of every run (2020 research edition)"),
    ("current", "Tables of the current edition (`--edition 2025`)"),
    ("any", "Tables of the later commands"),
)


def _cell(text: object) -> str:
    """Text for one Markdown table cell: one line, pipes and asterisks escaped."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("*", "\\*")


def licence_words(t: TableDef, name: str | None = None) -> str:
    """The licence line of a table (or of one file of a template)."""
    lic = licences()
    if t.template and name is None:
        return (
            f"{lic['ogl'].title}; the files of indices rebuilt from the Community Needs Index "
            f"(cni2019, cni2023) also hold CNI values: {lic['cni'].title}"
        )
    if holds_cni(t, name):
        return f"holds CNI values: {lic['cni'].title}; the other columns {lic['ogl'].title}"
    return f"{lic['ogl'].title} (no CNI values; any groups are derived from the CNI: cite it)"


def edition_words(t: TableDef) -> str:
    return editions()[t.edition]


def _columns_table(columns: list[ColumnDef]) -> list[str]:
    out = ["| column | type | unit | meaning |", "|---|---|---|---|"]
    for c in columns:
        out.append(f"| `{c.name}` | {TYPE_WORDS[c.type]} | {_cell(c.unit) or '—'} | {_cell(c.description)} |")
    return out


def markdown() -> str:
    """The data dictionary as Markdown (a single H1; no links outside the docs folder)."""
    reg = registry()
    lic = licences()
    lines = [
        "# Output tables and files",
        "",
        "Every file a `leftbehind` run folder can hold: each table's path, title, description and",
        "edition, and each column's name, type, unit and meaning. The same text is the README sheet of",
        "`leftbehind.xlsx` and the schema of `datapackage.json`.",
        "",
        "This page is generated from `src/leftbehind/report/outputs.yaml` by",
        "`python -m leftbehind.report.dictionary --out docs/outputs.md`; do not edit it by hand (a test",
        "fails when it is out of date).",
        "",
        "CSV files are UTF-8 with a header row; decimals are rounded to 6 places; booleans are written",
        "`true` / `false`; a blank cell is a missing value. Column names written `{any}` below are a",
        "family of columns named from the data (the meaning says where the names come from).",
        "",
        "## Terms",
        "",
        "| term | meaning |",
        "|---|---|",
        *(f"| `{term}` | {_cell(meaning)} |" for term, meaning in vocabulary()),
        "",
        "## Licences",
        "",
        f"- **{lic['cni'].title}.** {lic['cni'].text} Tables whose licence says *holds CNI values* carry these terms.",
        f"- **{lic['ogl'].title}.** {lic['ogl'].text}",
        "",
        "## Editions",
        "",
        "| edition | meaning |",
        "|---|---|",
        *(f"| `{k}` | {_cell(v)} |" for k, v in editions().items()),
        "",
    ]
    for edition, heading in SECTIONS:
        lines += [f"## {heading}", ""]
        for t in (t for t in reg.values() if t.edition == edition):
            lines += [
                f"### `{t.path}`: {t.title}",
                "",
                " ".join(t.description.split()),
                "",
                f"- Edition: {edition_words(t)}",
                f"- Licence: {licence_words(t)}",
                f"- Excel sheet: `{t.sheet}`" + (" (one per index)" if t.template else ""),
            ]
            if t.key:
                lines.append("- Key (unique, never blank): " + ", ".join(f"`{k}`" for k in t.key))
            lines += ["", *_columns_table(list(t.columns)), ""]
    lines += ["## Other files", ""]
    for f in files().values():
        lines += [f"### `{f.path}`: {f.title}", "", " ".join(f.description.split()), ""]
        lines.append(f"- Edition: {editions()[f.edition]}")
        if f.layer:
            t = reg[f.layer["table"]]
            cols = ", ".join(f"`{c}`" for c in f.layer["columns"])
            lines.append(f"- Feature properties: {cols}, as in `{t.path}` (see there)")
        if f.map:
            lines.append(f"- Drawn from: `{reg[f.map['table']].path}` (its `group` column)")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def readme_rows(sheets: list[tuple[TableDef, str | None, str, pd.DataFrame]]) -> dict[str, list[list]]:
    """The README sheet of the workbook for ``sheets`` (table, template name, sheet name, frame):
    ``about`` (lines of text), ``sheets`` (one row per sheet) and ``columns`` (one row per column
    of every sheet, with its type, unit and meaning), each list starting with its header."""
    lic = licences()
    cni_sheets = [sheet for t, name, sheet, _ in sheets if holds_cni(t, name)]
    about = [
        ["leftbehind output tables: one sheet per CSV file of the run folder, the same rows and columns."],
        ["Sheets and columns are described below (the same text as docs/outputs.md and datapackage.json)."],
        [f"Licence, Community Needs Index values: {lic['cni'].title}. {lic['cni'].text}"],
        ["Sheets holding CNI values: " + (", ".join(cni_sheets) if cni_sheets else "none") + "."],
        [f"Licence, everything else: {lic['ogl'].title}. {lic['ogl'].text}"],
        ["Blank cells are missing values; booleans are TRUE / FALSE; decimals are rounded to 6 places."],
    ]
    table_rows = [["sheet", "file", "title", "description", "edition", "licence", "holds CNI values", "rows"]]
    column_rows = [["sheet", "column", "type", "unit", "meaning"]]
    for t, name, sheet, df in sheets:
        table_rows.append(
            [
                sheet,
                t.concrete_path(name),
                t.title + (f" ({name})" if name else ""),
                " ".join(t.description.split()),
                edition_words(t),
                "; ".join(x.title for x in table_licences(t, name)),
                "yes" if holds_cni(t, name) else "no",
                len(df),
            ]
        )
        for c in t.describe(df):
            column_rows.append([sheet, c.name, TYPE_WORDS[c.type], c.unit, c.description])
    return {"about": about, "sheets": table_rows, "columns": column_rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write the data dictionary (Markdown) generated from outputs.yaml.")
    ap.add_argument("--out", type=Path, help="file to write (default: standard output)")
    args = ap.parse_args(argv)
    text = markdown()
    if args.out is None:
        sys.stdout.write(text)
    else:
        from leftbehind.io import write_text

        write_text(args.out, text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
