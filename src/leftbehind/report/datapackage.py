"""``datapackage.json``: the run folder as a Frictionless Data Package (v1).

One tabular data resource per CSV file present in the folder (the run's tables and those of the
later commands: robustness/, history/, spatial/, target/ ...), each with

* its path (relative, ``/``-separated), ``format: csv``, ``encoding: utf-8``, its size and sha256;
* a Table Schema from the output registry (``report/outputs.yaml``): every column of the file's
  header with its type (str -> string, int -> integer, float -> number, bool -> boolean,
  date -> date) and its meaning and unit as the description, ``missingValues: [""]`` (a blank
  cell is a missing value) and the table's key as ``primaryKey``;
* its licences: Community Needs Index values are OCSI's for Local Trust, not open data (a custom
  licence entry); everything else is under the Open Government Licence v3.0.

The package lists the run's inputs as ``sources`` and its run date as ``created``. It is written
by ``leftbehind run`` and refreshed (only when its content changes) whenever the report of a
finished run is rebuilt, so a later command's tables join it. Check it with::

    frictionless validate DIR/datapackage.json
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from leftbehind.report.registry import TableDef, find, licences, registry, table_licences

NAME = "datapackage.json"
TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "date": "date"}


def _licence(lic) -> dict:
    return {"name": lic.name, "path": lic.path, "title": lic.title}


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return next(csv.reader(f), [])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def csv_files(folder: Path) -> list[tuple[str, TableDef, str | None]]:
    """The registered CSV files in ``folder``: (relative path, table, template name), in registry
    order (a template's files by name). Files the registry does not know are left out."""
    order = {name: i for i, name in enumerate(registry())}
    found = []
    for p in folder.rglob("*.csv"):
        rel = p.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in p.relative_to(folder).parts):
            continue  # an atomic writer's work folder
        hit = find(rel)
        if hit is not None:
            found.append((rel, *hit))
    return sorted(found, key=lambda x: (order[x[1].name], x[2] or "", x[0]))


def field(t: TableDef, column: str, rel: str = "") -> dict:
    c = t.column(column)
    if c is None:
        from leftbehind.errors import UsageError

        raise UsageError(
            f"{rel or t.path}: column {column!r} is not a column of {t.name} (report/outputs.yaml): "
            "the file was changed after the run",
            hint="re-run the command that wrote it (or remove the file), then `leftbehind report`",
        )
    desc = " ".join(c.description.split())
    if c.unit:
        desc += f" Unit: {c.unit}."
    out = {"name": column, "type": TYPES[c.type], "description": desc}
    if c.type == "date":
        out["format"] = "%Y-%m-%d"
    return out


def resource(folder: Path, rel: str, t: TableDef, name: str | None) -> dict:
    path = folder / rel
    try:
        columns = _header(path)
    except (UnicodeDecodeError, csv.Error) as exc:
        from leftbehind.errors import UsageError

        raise UsageError(
            f"{path} is not a UTF-8 CSV file ({type(exc).__name__}): it was changed after the run",
            hint="re-run the command that wrote it (or remove the file), then `leftbehind report`",
        ) from None
    schema: dict = {"fields": [field(t, c, rel) for c in columns], "missingValues": [""]}
    if t.key and all(k in columns for k in t.key):
        schema["primaryKey"] = list(t.key)
    return {
        "name": t.name if name is None else f"{t.name}_{name}",
        "path": rel,
        "profile": "tabular-data-resource",
        "title": t.title + (f" ({name})" if name else ""),
        "description": " ".join(t.description.split()),
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": path.stat().st_size,
        "hash": "sha256:" + _sha256(path),
        "dialect": {"delimiter": ",", "doubleQuote": True, "header": True, "quoteChar": '"'},
        "schema": schema,
        "licenses": [_licence(x) for x in table_licences(t, name)],
    }


def _sources(summary: dict) -> list[dict]:
    """One source per input file of the run (dataset title, edition and licence; the publisher's page)."""
    from leftbehind.data.catalogue import load_catalogue

    urls = {d.id: d.url for d in load_catalogue().datasets}
    out = []
    for i in summary.get("inputs", []):
        s = {"title": f"{i['title']} ({i['edition']}; {i['licence']}; sha256 {i['sha256'][:12]})"}
        if urls.get(i["dataset"]):
            s["path"] = urls[i["dataset"]]
        out.append(s)
    return out


def descriptor(folder: str | Path, summary: dict | None = None) -> dict:
    """The Data Package descriptor of a run folder (``summary``: its summary.json, read if not given)."""
    folder = Path(folder)
    if summary is None:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    opts = summary.get("options", {})
    from leftbehind.editions import current_of
    from leftbehind.options import BY_NAME

    edition = str(opts.get("edition", BY_NAME["edition"].default))
    current = current_of(edition)
    lic = licences()
    pkg = {
        "profile": "tabular-data-package",
        "name": f"leftbehind-run-{edition}",
        "title": "Left-behind neighbourhoods: the output tables of a leftbehind run"
        + (f" (with the current edition, {current.cni.edition} x {current.imd.edition})" if current else ""),
        "description": (
            "Community Needs Index x Index of Multiple Deprivation: every CSV table of one "
            f"`leftbehind run` folder (leftbehind {summary.get('leftbehind_version', '?')}; options: "
            + ", ".join(f"{k}={v}" for k, v in opts.items())
            + "). Column meanings and units are in each field's description; docs/outputs.md of the "
            "leftbehind project is the same dictionary. Tables holding Community Needs Index values are "
            "not open data (see each resource's licences)."
        ),
        "keywords": ["left behind neighbourhoods", "Community Needs Index", "Index of Multiple Deprivation", "England"],
        "licenses": [_licence(lic["cni"]), _licence(lic["ogl"])],
        "sources": _sources(summary),
        "resources": [resource(folder, rel, t, name) for rel, t, name in csv_files(folder)],
    }
    if summary.get("run_date"):
        pkg["created"] = summary["run_date"]
    return pkg


def text(folder: str | Path, summary: dict | None = None) -> str:
    return json.dumps(descriptor(folder, summary), indent=2, ensure_ascii=False) + "\n"


def write_datapackage(folder: str | Path, summary: dict | None = None, *, atomic: bool = True) -> bool:
    """Write ``folder/datapackage.json`` if its content changed; return whether it was written."""
    from leftbehind.io import atomic_path

    folder = Path(folder)
    new = text(folder, summary)
    target = folder / NAME
    if target.is_file() and target.read_text(encoding="utf-8") == new:
        return False
    if atomic:
        with atomic_path(target) as tmp:
            tmp.write_text(new, encoding="utf-8")
    else:
        target.write_text(new, encoding="utf-8")
    return True
