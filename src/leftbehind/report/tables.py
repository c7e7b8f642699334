"""Write the results of a run: CSV, Parquet, JSON and one SQLite database, atomically.

What is written, and where, comes from the output-table registry (``report/outputs.yaml``,
:mod:`leftbehind.report.registry`): every table of the results is written to its declared path
after its columns are checked against the declaration; ``wards`` also as Parquet; each rebuilt
index to ``indices/<index>.csv``; every table into ``leftbehind.sqlite``; the typed summary to
``summary.json``; the folder's description as a Frictionless Data Package to
``datapackage.json`` (:mod:`leftbehind.report.datapackage`). :func:`read_results` reads a
finished run back through the same registry (text columns as text, whatever they look like).

Floats are rounded to 6 decimals and rows kept in a fixed order: two runs on the same inputs
give byte-identical CSV files.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd

from leftbehind.io import atomic_dir, csv_to
from leftbehind.report.registry import registry, table_def


def _json_default(o):
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def summary_json(summary) -> str:
    return json.dumps(summary.model_dump(mode="python"), indent=2, default=_json_default) + "\n"


def write_tables(results, tmp: Path) -> list[str]:
    """Write every table of ``results`` into the folder ``tmp``; return the files written."""
    written: list[str] = []
    reg = registry()
    unknown = sorted(set(results.tables) - set(reg))
    if unknown:
        raise AssertionError(f"tables not declared in report/outputs.yaml: {unknown}")
    for name, spec in reg.items():
        if spec.template or name not in results.tables:
            continue
        table = results.tables[name]
        spec.check(table)
        (tmp / spec.path).parent.mkdir(parents=True, exist_ok=True)  # subfolders only when they get a file
        csv_to(table, tmp / spec.path)
        written.append(spec.path)
        if spec.parquet:
            parquet = str(Path(spec.path).with_suffix(".parquet"))
            table.to_parquet(tmp / parquet, index=False)
            written.append(parquet)
    index = table_def("index")
    for b in results.fits:
        index.check(b.built)
        rel = index.path.format(name=b.spec.name)
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        csv_to(b.built, tmp / rel)
        written.append(rel)
    with sqlite3.connect(tmp / "leftbehind.sqlite") as con:
        for name, table in results.tables.items():
            _sqlite_safe(table).to_sql(name, con, index=False, if_exists="replace")
    con.close()
    written.append("leftbehind.sqlite")
    return written


def write_results(results, out: str | Path, extra=None) -> list[str]:
    """Write every table of ``results`` under ``out`` (replaced atomically); return the files written.

    ``extra``: an optional callable ``f(tmp_folder)`` writing more files (e.g. the report) inside
    the same atomic swap.
    """
    from leftbehind.report.datapackage import NAME, write_datapackage

    if results.summary.run_date is None:
        from leftbehind.analysis.results import utc_now

        results.summary.run_date = utc_now()
    with atomic_dir(out) as tmp:
        written = write_tables(results, tmp) + ["summary.json", NAME]
        results.summary.files = sorted(written)
        text = summary_json(results.summary)
        (tmp / "summary.json").write_text(text, encoding="utf-8")
        write_datapackage(tmp, json.loads(text), atomic=False)
        if extra is not None:
            written += [f for f in (extra(tmp) or []) if f not in written]
    return sorted(written)


def _sqlite_safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if (
            isinstance(out[c].dtype, pd.StringDtype)
            or out[c].dtype == object
            or str(out[c].dtype) in ("Int64", "boolean")
        ):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


REQUIRED = ("wards", "outcomes", "breakdown_region", "breakdown_lad", "ward_indicators")


def read_table(path: Path, spec) -> pd.DataFrame:
    """A table's CSV file, its declared text columns read as text (``2020`` stays ``"2020"``)."""
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f), [])
    text = {c: str for c in header if (d := spec.column(c)) is not None and d.type == "str"}
    return pd.read_csv(path, keep_default_na=True, dtype=text, low_memory=False)


def read_index_tables(out: str | Path) -> dict[str, pd.DataFrame]:
    """The rebuilt indices of a run folder (``indices/<name>.csv``), by index name."""
    from leftbehind.report.registry import find

    spec = table_def("index")
    found = {}
    for p in sorted(Path(out).glob(spec.path.replace("{name}", "*"))):
        hit = find(p.relative_to(out).as_posix())
        if hit is not None and hit[0] is spec:
            found[hit[1]] = read_table(p, spec)
    return found


def read_results(out: str | Path):
    """Read the tables and summary of a finished run back (for ``report`` and ``serve``)."""
    from pydantic import ValidationError

    from leftbehind.analysis.results import Results, RunSummary
    from leftbehind.errors import UsageError
    from leftbehind.options import make_run_options

    out = Path(out)
    summary_path = out / "summary.json"
    if not summary_path.is_file() or not (out / "wards.parquet").is_file():
        raise UsageError(
            f"{out} holds no finished run (summary.json and wards.parquet are missing)",
            hint=f"run `leftbehind run --out {out}` first",
        )
    try:
        summary = RunSummary.model_validate(json.loads(summary_path.read_text(encoding="utf-8")))
        opts = make_run_options(**summary.options)
    except (ValueError, ValidationError, UsageError) as exc:
        raise UsageError(
            f"{summary_path} is not the summary of a run by this version of leftbehind ({str(exc).splitlines()[0]})",
            hint=f"re-run `leftbehind run --out {out}`",
        ) from None
    res = Results(opts, summary=summary, folder=out)
    for name, spec in registry().items():
        if spec.template:
            continue
        if spec.parquet and (out / spec.path).with_suffix(".parquet").is_file():
            res.tables[name] = pd.read_parquet((out / spec.path).with_suffix(".parquet"))
        elif (out / spec.path).is_file():
            res.tables[name] = read_table(out / spec.path, spec)
    for sub in ("history", "spatial"):
        f = out / sub / "summary.json"
        if f.is_file():
            try:
                res.sections[sub] = json.loads(f.read_text(encoding="utf-8"))
            except ValueError:
                raise UsageError(f"{f} is not valid JSON", hint=f"re-run `leftbehind {sub} --out {out}`") from None
    if (out / "spatial" / "map.png").is_file():
        res.attachments["spatial/map.png"] = (out / "spatial" / "map.png").read_bytes()
    missing = [n for n in REQUIRED if n not in res.tables]
    if missing:
        raise UsageError(f"{out} is missing {', '.join(missing)}", hint=f"re-run `leftbehind run --out {out}`")
    return res
