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

from leftbehind.io import csv_to
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
        # the file is staged and swapped in whole: no fsync per table, no journal file (same bytes)
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA journal_mode=MEMORY")
        for name, table in results.tables.items():
            _sqlite_safe(table).to_sql(name, con, index=False, if_exists="replace")
    con.close()
    written.append("leftbehind.sqlite")
    return written


def write_results(results, out: str | Path, extra=None, *, force: bool = False, clean: bool = False) -> list[str]:
    """Write every table of ``results`` into the output folder ``out``; return the files written.

    The run's own entries are staged and swapped in (:meth:`leftbehind.outdir.OutputFolder.write_run`):
    the later sections of the folder are kept (removed first with ``clean``) and listed, with their
    state, in ``summary.json``. ``extra``: an optional callable ``f(staging_folder)`` writing more
    files (e.g. the report) in the same swap.
    """
    from leftbehind.analysis.results import SectionState
    from leftbehind.outdir import OutputFolder, run_key
    from leftbehind.report.datapackage import NAME, write_datapackage

    folder = OutputFolder(out, force=force).prepare()
    if clean:
        folder.clean_sections()
    if results.summary.run_date is None:
        from leftbehind.analysis.results import utc_now

        results.summary.run_date = utc_now()
    results.summary.run_key = run_key(json.loads(summary_json(results.summary)))
    found = folder.sections(against=results.summary.run_key)
    results.summary.sections = [SectionState(**s.as_dict()) for s in found]
    results.section_list = found

    def build(tmp: Path) -> list[str]:
        written = write_tables(results, tmp) + ["summary.json", NAME]
        results.summary.files = sorted(written)
        text = summary_json(results.summary)
        (tmp / "summary.json").write_text(text, encoding="utf-8")
        write_datapackage(tmp, json.loads(text), atomic=False)
        if extra is not None:
            written += [f for f in (extra(tmp) or []) if f not in written]
        return sorted(written)

    return folder.write_run(build)


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


#: the units a spatial section of each edition is shown for first (the edition's own unit first)
_SPATIAL_FIRST = ("ward17", "wd17", "lsoa21", "wards24", "wd24", "msoa21")


def _read_sections(res, out: Path) -> None:
    """Find the folder's later sections; choose the one of each kind the report and the API show:
    robustness of the run's edition; spatial of the run's edition (its own unit first); the history;
    the most recent target selection. Every section stays listed in ``res.section_list``."""
    from leftbehind.errors import UsageError
    from leftbehind.outdir import OutputFolder

    found = OutputFolder(out).sections()
    res.section_list = found
    edition = res.options.edition
    chosen: dict[str, object] = {}
    for s in found:
        if s.kind == "robustness" and s.edition == edition:
            chosen["robustness"] = s
        elif s.kind == "history":
            chosen["history"] = s
    spatial = [s for s in found if s.kind == "spatial" and s.edition == edition]
    spatial.sort(key=lambda s: _SPATIAL_FIRST.index(s.unit) if s.unit in _SPATIAL_FIRST else 99)
    if spatial:
        chosen["spatial"] = spatial[0]
    targets = sorted((s for s in found if s.kind == "target"), key=lambda s: (s.made or "", s.path))
    if targets:
        chosen["target"] = targets[-1]
    res.section_paths = {k: s.path for k, s in chosen.items()}
    for kind, s in chosen.items():
        f = out / s.path / "summary.json"
        try:
            res.sections[kind] = json.loads(f.read_text(encoding="utf-8"))
        except ValueError:
            raise UsageError(f"{f} is not valid JSON", hint=f"re-run `leftbehind {s.command} --out {out}`") from None
    if "spatial" in chosen and (out / chosen["spatial"].path / "map.png").is_file():
        res.attachments["spatial/map.png"] = (out / chosen["spatial"].path / "map.png").read_bytes()


def section_file(path: str, chosen: dict[str, str]) -> str | None:
    """A registry path in the folder: a later section's table inside the instance shown, None if the folder
    has none; the run's own tables as declared."""
    from leftbehind.outdir import SECTIONS

    first, _, rest = path.partition("/")
    if first not in SECTIONS:
        return path
    if first not in chosen:
        return None
    return f"{chosen[first]}/{rest}"


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
    _read_sections(res, out)
    for name, spec in registry().items():
        if spec.template:
            continue
        path = section_file(spec.path, res.section_paths)
        if path is None:
            continue
        if spec.parquet and (out / path).with_suffix(".parquet").is_file():
            res.tables[name] = pd.read_parquet((out / path).with_suffix(".parquet"))
        elif (out / path).is_file():
            res.tables[name] = read_table(out / path, spec)
    missing = [n for n in REQUIRED if n not in res.tables]
    if missing:
        raise UsageError(f"{out} is missing {', '.join(missing)}", hint=f"re-run `leftbehind run --out {out}`")
    return res
