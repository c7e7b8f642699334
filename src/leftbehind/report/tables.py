"""Write the results of a run: CSV, Parquet, JSON and one SQLite database, atomically.

Layout of the output folder::

    wards.csv, wards.parquet         one row per CNI ward (7,433)
    outcomes.csv                     indicators by group with 95% intervals
    diagnostics.csv                  matched / missed / extra wards vs the published list
    published_checks.csv             our figures beside the published ones, with differences
    breakdowns/region.csv, lad.csv, constituency.csv
    indices/<index>.csv, index_fits.csv
    summary.json                     counts, options, inputs (dataset, file, sha256), version
    leftbehind.sqlite                every table above, for analysts who query

Floats are rounded to 6 decimals and rows kept in a fixed order: two runs on the same inputs
give byte-identical CSV files.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd

from leftbehind.io import atomic_dir, csv_to

FILES = {
    "wards": "wards.csv",
    "outcomes": "outcomes.csv",
    "diagnostics": "diagnostics.csv",
    "published_checks": "published_checks.csv",
    "breakdown_region": "breakdowns/region.csv",
    "breakdown_lad": "breakdowns/lad.csv",
    "breakdown_constituency": "breakdowns/constituency.csv",
    "index_fits": "indices/index_fits.csv",
    "ward_indicators": "ward_indicators.csv",
    "constituencies": "constituencies.csv",
    "politics_correlations": "politics/correlations.csv",
    "politics_lad": "politics/local_authorities.csv",
    "economy_claimants": "economy/claimants.csv",
    "economy_claimants_london": "economy/claimants_london.csv",
    "economy_furlough": "economy/furlough.csv",
    "lsoa21": "lsoa21.csv",
    "current_region": "current/region.csv",
    "current_lad": "current/lad.csv",
    "current_outcomes": "current/outcomes.csv",
    "transitions_wards_2020": "current/transitions_wards_2020.csv",
    "transitions_region": "current/transitions_region.csv",
    "transitions_lad": "current/transitions_lad.csv",
    "ward_layer_2025": "current/ward_layer_2025.csv",
}


def _json_default(o):
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    return str(o)


def write_results(results, out: str | Path, extra=None) -> list[str]:
    """Write every table of ``results`` under ``out`` (replaced atomically); return the files written.

    ``extra``: an optional callable ``f(tmp_folder)`` writing more files (e.g. the report) inside
    the same atomic swap.
    """
    written: list[str] = []
    with atomic_dir(out) as tmp:
        if results.fits:
            (tmp / "indices").mkdir()
        for name, rel in FILES.items():
            if name in results.tables:
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)  # subfolders only when they get a file
                csv_to(results.tables[name], tmp / rel)
                written.append(rel)
        results.tables["wards"].to_parquet(tmp / "wards.parquet", index=False)
        written.append("wards.parquet")
        for spec, built, _fit, _res in results.fits:
            csv_to(built, tmp / "indices" / f"{spec.name}.csv")
            written.append(f"indices/{spec.name}.csv")
        with sqlite3.connect(tmp / "leftbehind.sqlite") as con:
            for name, table in results.tables.items():
                _sqlite_safe(table).to_sql(name, con, index=False, if_exists="replace")
        con.close()
        written.append("leftbehind.sqlite")
        summary = dict(results.summary)
        summary["files"] = sorted(written + ["summary.json"])
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default) + "\n", encoding="utf-8")
        if extra is not None:
            written += list(extra(tmp) or [])
    return sorted(written + ["summary.json"])


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


def read_results(out: str | Path):
    """Read the tables and summary of a finished run back (for ``report`` and ``serve``)."""
    from leftbehind.analysis.pipeline import Options, Results
    from leftbehind.errors import UsageError

    out = Path(out)
    summary_path = out / "summary.json"
    if not summary_path.is_file() or not (out / "wards.parquet").is_file():
        raise UsageError(
            f"{out} holds no finished run (summary.json and wards.parquet are missing)",
            hint=f"run `leftbehind run --out {out}` first",
        )
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        opts = Options.model_validate(summary["options"])
    except (ValueError, KeyError) as exc:
        raise UsageError(
            f"{summary_path} is not a leftbehind summary ({exc})", hint=f"re-run `leftbehind run --out {out}`"
        ) from None
    res = Results(opts, summary=summary)
    res.tables["wards"] = pd.read_parquet(out / "wards.parquet")
    for name, rel in FILES.items():
        if name != "wards" and (out / rel).is_file():
            res.tables[name] = pd.read_csv(out / rel, keep_default_na=True)
    missing = [n for n in ("outcomes", "breakdown_region", "breakdown_lad", "ward_indicators") if n not in res.tables]
    if missing:
        raise UsageError(f"{out} is missing {', '.join(missing)}", hint=f"re-run `leftbehind run --out {out}`")
    return res
