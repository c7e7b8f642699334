"""The Python API: leftbehind's commands as functions, for notebooks and scripts.

As thin as the command line (:mod:`leftbehind.cli`), and shared with it: each function builds a
run context (:class:`~leftbehind.context.RunContext`), validates its options
(:func:`~leftbehind.options.make_run_options`), calls the analysis and returns typed results.

* :func:`run` — the main job; the typed :class:`~leftbehind.analysis.results.Results`.
* :func:`areas` — the classified areas of an edition at a unit (one DataFrame).
* :func:`robustness`, :func:`target`, :func:`profile` — a later command each; a
  :class:`SectionResult` (``.tables``, ``.summary``).
* :func:`open` — a finished output folder read back (the Results, with ``.section_list``).

**Nothing is written unless** ``out=`` names an output folder. Then a function writes exactly
what its command writes (:mod:`leftbehind.outdir`): ``run`` the run's own files (``force=``,
``clean=`` as ``--force``, ``--clean``), the others their own section, with the section record;
a non-empty folder that is not leftbehind's is refused unless ``force=True``; an option not
given is the folder's run's, and one that contradicts the folder's run is refused.

Every bad argument raises :class:`~leftbehind.errors.UsageError` (a bad input file
:class:`~leftbehind.errors.DataError`), with ``.message`` and ``.hint``.

``data=`` is a data folder laid out like ``../shared/data`` (the default finds it, then the
download cache), ``verify=False`` reads files whose sha256 differs from the catalogue's, and
``ctx=`` reuses a :class:`~leftbehind.context.RunContext` across calls (its memo: a second call
that needs the same tables builds nothing again).

>>> import leftbehind as lb
>>> wards = lb.areas("2020")
>>> len(wards), int((wards["group"] == "left_behind").sum())
(7433, 226)
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leftbehind.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from leftbehind.analysis.results import Results
    from leftbehind.analysis.targeting import Rule
    from leftbehind.context import RunContext
    from leftbehind.outdir import OutputFolder

__all__ = ["SectionResult", "areas", "open", "profile", "robustness", "run", "target"]

#: the run options ``robustness`` takes (the nominal construction; the rest are fixed)
ROBUSTNESS_OPTIONS = ("edition", "imd", "population", "ward_imd", "threshold", "lookup", "residents")


@dataclass(frozen=True, repr=False)
class SectionResult:
    """What :func:`robustness`, :func:`target` and :func:`profile` return.

    ``tables``: the section's tables, keyed by their name in the output-table registry
    (``report/outputs.yaml``); ``summary``: what its ``summary.json`` says (without the section
    record); ``files``: any other files of the section (name -> bytes, e.g. the profile pages);
    ``path``: the section's folder when ``out=`` was given, else None; ``written``: what was
    written, relative to ``out`` (the section, and ``report.html`` when it was updated);
    ``detail``: the analysis' own result (robustness: the ensemble), for further work."""

    kind: str
    key: str | None
    unit: str | None
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    path: Path | None = None
    written: tuple[str, ...] = ()
    detail: Any = None

    def __repr__(self) -> str:  # a notebook shows this: names and sizes, not every row
        tables = ", ".join(f"{n} ({len(t):,} rows)" for n, t in self.tables.items())
        where = f", path={str(self.path)!r}" if self.path is not None else ""
        return f"SectionResult(kind={self.kind!r}, key={self.key!r}, unit={self.unit!r}, tables=[{tables}]{where})"


# ---------------------------------------------------------------- shared by the API and the CLI


def section_record_for(
    kind: str, key: str | None, *, opts=None, based_on=None, edition=None, unit=None, **extra
) -> dict:
    """The section record of a later command (:func:`leftbehind.outdir.section_record`): the run
    options ``opts`` (if any) and the command's own ``extra`` options."""
    from leftbehind.outdir import section_record

    options = opts.model_dump(mode="json") if opts is not None else {}
    options.update(extra)
    ed = edition if edition is not None else (opts.edition if opts is not None else None)
    return section_record(kind, key, edition=ed, unit=unit, options=options, based_on=based_on)


def write_section(
    folder: OutputFolder,
    kind: str,
    key: str | None,
    tables: dict,
    summary: dict,
    record: dict,
    files: dict | None = None,
) -> Path:
    """Write registered tables (by registry name), summary.json (with its section record) and any
    extra files (name -> bytes) into the folder's section, atomically; return the section's folder."""
    import json

    from leftbehind.io import csv_to
    from leftbehind.outdir import section_path
    from leftbehind.report.registry import registry

    reg = registry()
    folder.prepare()
    with folder.section(kind, key) as tmp:
        for name, table in tables.items():
            t = reg[name]
            t.check(table)
            csv_to(table, tmp / Path(t.path).name)
        for fname, data in (files or {}).items():
            (tmp / fname).parent.mkdir(parents=True, exist_ok=True)
            (tmp / fname).write_bytes(data)
        body = {**summary, "section": record}
        (tmp / "summary.json").write_text(json.dumps(body, indent=2, default=str) + "\n", encoding="utf-8")
    return folder.path / section_path(kind, key)


def refresh_report(out: str | Path, ctx: RunContext) -> bool:
    """Rebuild ``report.html`` of a finished run in ``out`` (to show a new section); False if
    ``out`` holds no finished run."""
    out = Path(out)
    if not ((out / "summary.json").is_file() and (out / "wards.parquet").is_file()):
        return False
    from leftbehind.report.build import write_report
    from leftbehind.report.tables import read_results

    write_report(read_results(out), out, ("html",), ctx=ctx, atomic=True)
    return True


def execute_run(
    opts,
    ctx: RunContext,
    *,
    out: str | Path | None = None,
    force: bool = False,
    clean: bool = False,
    exports: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[Results, list[str]]:
    """The main job on validated options: the Results and, with ``out``, the files written there
    (the run's tables, summary.json, the report; with ``exports`` also the maps, the workbook and
    the GIS layers). The datasets the later steps need are read ahead in a worker thread."""
    from leftbehind.analysis.pipeline import declared_inputs, run_pipeline
    from leftbehind.report.build import EXPORTS, ReadAhead, write_report
    from leftbehind.report.tables import write_results

    files: list[str] = []
    with ReadAhead(ctx, declared_inputs(opts), geometry=out is not None) as ahead:
        results = run_pipeline(opts, ctx=ctx, progress=progress)
        ahead.close()
        if out is not None:
            if progress is not None:
                progress(f"writing {out} and the report")
            kinds = EXPORTS if exports else ("html",)
            files = write_results(
                results, out, extra=lambda tmp: write_report(results, tmp, kinds, ctx=ctx), force=force, clean=clean
            )
    return results, files


# ---------------------------------------------------------------- argument checks


def _context(ctx: RunContext | None, data: str | Path | None, verify: bool) -> RunContext:
    if ctx is not None:
        if data is not None or verify is not True:
            raise UsageError(
                "give ctx= or data=/verify=, not both", hint="the run context already says where the data is"
            )
        return ctx
    from leftbehind.context import RunContext

    return RunContext(Path(data) if data is not None else None, verify=verify)


def _folder(out: str | Path | None, force: bool) -> OutputFolder | None:
    """The output folder, checked before any work (a user's non-empty folder is refused); None
    when nothing is to be written."""
    if out is None:
        if force:
            raise UsageError(
                "force=True applies only with out=", hint="give out= (an output folder) or leave force out"
            )
        return None
    from leftbehind.outdir import OutputFolder

    return OutputFolder(out, force=force).check()


def _check_names(given: dict, allowed, where: str) -> None:
    import difflib

    for name in given:
        if name not in allowed:
            near = difflib.get_close_matches(name, list(allowed), n=1)
            raise UsageError(
                f"{where}: unknown option {name!r}" + (f" (did you mean {near[0]!r}?)" if near else ""),
                hint="options: " + ", ".join(allowed),
            )


def _keywords(text: str | None) -> str | None:
    """A message about a command-line flag (``--threshold 0.5``, ``--edition:``) in the words of
    the API (``threshold=0.5``, ``edition:``)."""
    if not text:
        return text
    from leftbehind.options import BY_NAME

    flags = {o.flag: o.name for o in BY_NAME.values()}

    def sub(m: re.Match) -> str:
        name = flags.get(m.group(1))
        if name is None:
            return m.group(0)
        return f"{name}:" if m.group(2) == ":" else f"{name}="

    return re.sub(r"(--[a-z][a-z-]*)(:| (?=[-+\d.]))", sub, text)


_COMMAND_LINE = contextvars.ContextVar("leftbehind_command_line", default=False)


@contextlib.contextmanager
def command_line():
    """Inside this block, messages name command-line flags (``--threshold``), as the CLI's do;
    outside it, the API's keywords (``threshold=``)."""
    token = _COMMAND_LINE.set(True)
    try:
        yield
    finally:
        _COMMAND_LINE.reset(token)


def _options(command: str, **values):
    """Validated run options, from Python values (``edition=2025`` is ``"2025"``)."""
    from leftbehind.options import BY_NAME, make_run_options

    _check_names(values, BY_NAME, command)
    values = {
        k: str(v) if BY_NAME[k].kind == "choice" and isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in values.items()
    }
    try:
        return make_run_options(**values)
    except UsageError as exc:
        if _COMMAND_LINE.get():
            raise
        raise UsageError(_keywords(exc.message), hint=_keywords(exc.hint)) from None


def _int(name: str, value, low: int | None = None, high: int | None = None, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name}= must be a whole number (got {value!r})", hint=f"e.g. {name}={low or 1}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"at least {low:,}" if high is None else f"between {low:,} and {high:,}"
        raise UsageError(f"{name}={value:,} is out of range", hint=f"give {name}= {bounds}")


def _default_edition() -> str:
    from leftbehind.options import BY_NAME

    return str(BY_NAME["edition"].default)


def _run_edition(folder: OutputFolder | None) -> str | None:
    """The edition of the folder's run (None without a folder or a run)."""
    run = folder.run_options() if folder is not None else None
    return str(run["edition"]) if run and run.get("edition") else None


def _threshold(folder: OutputFolder | None, given, command: str) -> tuple[float, str | None]:
    """The threshold of a later command: the given one, else the folder's run's, else the default;
    and the run key the section is based on."""
    from leftbehind.options import BY_NAME

    if given is not None:
        _options(command, threshold=given)
    if folder is None:
        return float(given if given is not None else BY_NAME["threshold"].default), None
    eff, based_on = folder.options_for({"threshold": given}, command=command)
    return float(eff.get("threshold", BY_NAME["threshold"].default)), based_on


def _rule(rule) -> Rule:
    from leftbehind.analysis.targeting import Rule, load_rule

    if isinstance(rule, Rule):
        return rule
    if isinstance(rule, (str, Path)):
        return load_rule(str(rule))
    raise UsageError(
        f"a rule is a preset name, a YAML file or a Rule (got {type(rule).__name__})",
        hint="e.g. target('pride-in-place') or target('my_rule.yaml')",
    )


# ---------------------------------------------------------------- the API


def run(
    edition: str | None = None,
    *,
    out: str | Path | None = None,
    force: bool = False,
    clean: bool = False,
    exports: bool = False,
    data: str | Path | None = None,
    verify: bool = True,
    ctx: RunContext | None = None,
    progress: Callable[[str], None] | None = None,
    **options,
) -> Results:
    """The main job (``leftbehind run``): classify every CNI 2019 ward, compare outcomes, explain
    the differences from the published list; with ``edition="2025"`` also the current picture.

    ``options``: any run option of ``leftbehind run --help``, by its Python name (``threshold``,
    ``imd``, ``population``, ``ward_imd``, ``lookup``, ``residents``, ``replicates``, ``month``,
    ``red_wall``, ``red_wall_regions``, ``skip_indices``, ``ensemble``, ``seed``); the defaults are
    the command's. ``ensemble=0, skip_indices=True`` is the quick run (no uncertainty ensemble, no
    rebuilt indices: a few seconds).

    Returns the typed :class:`~leftbehind.analysis.results.Results`: ``.tables`` (DataFrames by
    registry name: ``wards``, ``outcomes``, ``breakdown_region`` ...), ``.summary`` (the pydantic
    RunSummary: ``.summary.cut_off.cutoff_rank``), ``.fits`` (the rebuilt indices). Nothing is
    written unless ``out=`` names a folder; then it is written exactly as ``leftbehind run --out``
    writes it (the later sections kept, or removed with ``clean=True``; ``exports=True`` also the
    maps, the workbook and the GIS layers). ``progress``: called with each step's label.

    >>> import leftbehind as lb
    >>> res = lb.run(edition="2020", threshold=0.1, ensemble=0, skip_indices=True)
    >>> res.summary.cut_off.cutoff_rank, res.summary.groups["left_behind"].wards
    (743, 226)
    >>> w = res.tables["wards"]
    >>> by_region = w[w["group"] == "left_behind"].groupby("region_name").size()
    >>> by_region[["North East", "North West", "London"]].tolist()
    [55, 55, 2]
    """
    if out is None and (clean or exports):
        raise UsageError(
            f"{'clean' if clean else 'exports'}=True applies only with out=",
            hint="give out= (an output folder), or leave it out",
        )
    opts = _options("run", edition=edition or _default_edition(), **options)
    _folder(out, force)
    results, _ = execute_run(
        opts, _context(ctx, data, verify), out=out, force=force, clean=clean, exports=exports, progress=progress
    )
    if out is not None:
        results.folder = Path(out)
    return results


def areas(
    edition: str | None = None,
    unit: str | None = None,
    *,
    data: str | Path | None = None,
    verify: bool = True,
    ctx: RunContext | None = None,
    **options,
) -> pd.DataFrame:
    """The classified areas of ``edition`` at ``unit`` (default the edition's own: wards 2017 for
    2020, LSOA 2021 for 2025; 2025 also ``wards24``, ``msoa21``), under the run ``options``
    (``threshold``, and for 2020 the ward-IMD construction: ``imd``, ``population``, ``ward_imd``,
    ``lookup``, ``residents``). The same builder every command uses
    (:func:`leftbehind.analysis.areas.areas_frame`): one row per area, leading columns
    ``area_code, area_name, lad_code, lad_name, region_name, population, cni_score, cni_rank,
    imd_score, imd_rank, group``, then the unit's own. Nothing is written.

    >>> import leftbehind as lb
    >>> msoas = lb.areas("2025", unit="msoa21")
    >>> len(msoas), list(msoas.columns[:4])
    (6856, ['area_code', 'area_name', 'lad_code', 'lad_name'])
    >>> int((msoas["group"] == "left_behind").sum())
    233
    >>> int((lb.areas("2020", threshold=0.2)["group"] == "left_behind").sum()) > 226
    True
    """
    from leftbehind.analysis.areas import areas_frame

    opts = _options(
        "areas", **{"skip_indices": True, "ensemble": 0, **options, "edition": edition or _default_edition()}
    )
    return areas_frame(_context(ctx, data, verify), opts.edition, unit, opts)


def robustness(
    edition: str | None = None,
    *,
    replications: int = 10_000,
    seed: int = 20201,
    spec: str | Path | None = None,
    sobol_n: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
    data: str | Path | None = None,
    verify: bool = True,
    ctx: RunContext | None = None,
    progress: Callable[[str, int | None, int | None], None] | None = None,
    **options,
) -> SectionResult:
    """How sure is each left-behind area (``leftbehind robustness``): an uncertainty ensemble of
    ``replications`` (100 to 200,000) over the ward-IMD construction, the cut-offs, the weights and
    noise in the domain ranks, with Sobol (``sobol_n`` base samples, 64 to 65,536) and
    one-at-a-time sensitivity. ``spec``: an ensemble spec (YAML; default the shipped one).

    ``edition`` and ``options`` (the nominal construction: ``imd``, ``population``, ``ward_imd``,
    ``threshold``, ``lookup``, ``residents``): not given, the folder's run's when ``out=`` holds a
    run, else the defaults (edition 2020). With ``out=`` it writes ``robustness/<edition>/`` and
    updates the run's ``report.html``. ``.tables``: ``robustness_areas`` (P(left behind) of every
    area), ``robustness_counts``, ``robustness_list_size``, ``robustness_sensitivity`` (and
    ``robustness_outcomes`` for 2020); ``.detail``: the ensemble. ``progress``: called with
    ``(what, done, total)``.

    >>> import leftbehind as lb
    >>> rob = lb.robustness("2020", replications=200, sobol_n=64)  # doctest: +SKIP
    >>> rob.summary["bands"]  # doctest: +SKIP
    {'robust': ..., 'likely': ..., 'edge': ..., 'unlikely': ...}
    """
    from leftbehind.analysis.robustness.run import robustness as run_robustness
    from leftbehind.analysis.robustness.spec import load_spec

    names = ROBUSTNESS_OPTIONS[1:]
    _check_names(options, names, "robustness")
    _int("replications", replications, 100, 200_000)
    _int("seed", seed, 0)
    _int("sobol_n", sobol_n, 64, 65_536, optional=True)
    folder = _folder(out, force)
    given = {n: options.get(n) for n in names}
    ed = str(edition) if edition is not None else (_run_edition(folder) or _default_edition())
    if folder is not None:
        eff, based_on = folder.options_for(given, command="robustness")
    else:
        eff, based_on = {k: v for k, v in given.items() if v is not None}, None
    opts = _options("robustness", **eff, edition=ed, skip_indices=True, ensemble=0)
    load_spec(spec)  # a bad spec stops here, before any work
    ctx = _context(ctx, data, verify)
    res = run_robustness(
        opts, ctx, replications=replications, seed=seed, spec_path=spec, sobol_n=sobol_n, progress=progress
    )
    unit = res.summary.get("unit")
    path, written = None, ()
    if folder is not None:
        record = section_record_for("robustness", opts.edition, opts=opts, based_on=based_on, unit=unit)
        path = write_section(folder, "robustness", opts.edition, res.tables, res.summary, record)
        written = (f"robustness/{opts.edition}",) + (("report.html",) if refresh_report(folder.path, ctx) else ())
    return SectionResult(
        "robustness", opts.edition, unit, res.tables, res.summary, path=path, written=written, detail=res.ensemble
    )


def target(
    rule: str | Path | Rule,
    count: int | None = None,
    budget: float | None = None,
    threshold: float | None = None,
    *,
    compare: str | Path | Rule | None = None,
    name: str | None = None,
    out: str | Path | None = None,
    force: bool = False,
    data: str | Path | None = None,
    verify: bool = True,
    ctx: RunContext | None = None,
) -> SectionResult:
    """Simulate a funding selection (``leftbehind target``): which areas ``rule`` picks, why each
    candidate is in or out, and where the money goes.

    ``rule``: a preset (``lbn2020``, ``cwf``, ``pride-in-place``), a YAML rule file, or a
    :class:`~leftbehind.analysis.targeting.Rule`. ``count``: areas to select (overrides the rule);
    ``budget``: total pounds (amounts scaled to add up to it); ``threshold``: the top share that
    makes an area left behind (default the folder's run's with ``out=``, else 0.10). ``.tables``:
    ``target_selection`` (every candidate: score, rank, selected, amount_gbp, reason),
    ``target_by_region``, ``target_by_lad``; ``.summary``: areas, residents, money, the areas just
    in and just out, and ``checks``, the fit to each published list the rule names; ``.detail``:
    each of those lists matched to the unit's codes (dataset id -> the rows of ``leftbehind
    designations match``: ``input_name, input_la, area_code, method`` ...).

    ``compare``: a second rule on the same unit; then ``.tables`` are ``target_comparison`` and
    ``target_money_moved`` and ``.summary`` the overlap, Jaccard, gains and losses. With ``out=`` it
    writes ``target/<name>/`` (default the rule's name, or ``A-vs-B``).

    >>> import leftbehind as lb
    >>> pip = lb.target("pride-in-place")
    >>> pip.summary["areas"], pip.summary["checks"]["pride_in_place_phase2"]["matched"]
    (146, 95)
    >>> both = lb.target("cwf", compare="pride-in-place")
    >>> both.summary["selected_a"], both.summary["selected_b"], both.summary["overlap"] > 0
    (233, 146, True)
    """
    from leftbehind.analysis.designations import match
    from leftbehind.analysis.targeting import by_area, fit, money, select, summary, unit_table
    from leftbehind.analysis.targeting import compare as compare_rules
    from leftbehind.outdir import section_key

    _int("count", count, 1, optional=True)
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget < 0):
        raise UsageError(f"budget={budget!r} is not an amount of money", hint="give pounds, e.g. budget=50_000_000")
    loaded = [_rule(r) for r in (rule, compare) if r is not None]
    if len(loaded) == 2 and loaded[0].unit != loaded[1].unit:
        ra, rb = loaded
        raise UsageError(
            f"rules {ra.name} and {rb.name} select different units ({ra.unit}, {rb.unit})",
            hint="compare rules on the same unit",
        )
    folder = _folder(out, force)
    key = section_key(name or "-vs-".join(r.name for r in loaded))
    threshold, based_on = _threshold(folder, threshold, "target")
    ctx = _context(ctx, data, verify)
    sels: list[tuple[Any, pd.DataFrame, pd.DataFrame]] = []
    for r in loaded:
        t = unit_table(r, ctx, threshold, _run_edition(folder))
        sel = select(r, t, ctx, count=count)
        if budget is not None:
            sel["amount_gbp"] = money(r, sel["population"].to_numpy(), sel["selected"].to_numpy(), budget)
        sels.append((r, t, sel))
    matches: dict[str, pd.DataFrame] = {}  # the published lists a rule checks against, matched to its unit
    if compare is not None:
        (ra, _, a), (rb, _, b) = sels
        stats, moved = compare_rules(a, b)
        both = a[["area_code", "area_name", "lad_name", "region_name", "population", "selected", "amount_gbp"]].merge(
            b[["area_code", "selected", "amount_gbp"]], on="area_code", suffixes=("_a", "_b")
        )
        both = both[both["selected_a"] | both["selected_b"]].sort_values("area_code").reset_index(drop=True)
        tables = {"target_comparison": both, "target_money_moved": moved}
        summ = {"rule_a": ra.name, "rule_b": rb.name, **stats}
        extra = {"rules": [ra.name, rb.name], "threshold": threshold}
        unit = ra.unit
    else:
        r, t, sel = sels[0]
        summ = summary(r, sel)
        checks = {}
        for dataset in r.checks:
            m = matches[dataset] = match(ctx.load(dataset), t, r.unit, dataset)
            pub = set(m["area_code"].dropna())
            checks[dataset] = {
                **fit(sel, pub),
                "unmatched_rows": int((m["method"] == "unmatched").sum()),
                "near_matches": int((m["method"] == "near").sum()),
                "count": r.count if count is None else count,
            }
        summ["checks"] = checks
        summ["description"] = r.description
        tables = {
            "target_selection": sel,
            "target_by_region": by_area(sel, "region"),
            "target_by_lad": by_area(sel, "lad"),
        }
        extra = {"rules": [r.name], "threshold": threshold, "count": count}
        unit = r.unit
    path, written = None, ()
    if folder is not None:
        record = section_record_for("target", key, based_on=based_on, unit=unit, **extra)
        path = write_section(folder, "target", key, tables, summ, record)
        written = (f"target/{key}",)
    return SectionResult("target", key, unit, tables, summ, path=path, written=written, detail=matches)


def profile(
    areas_path: str | Path,
    comparator: str | None = None,
    *,
    name: str | None = None,
    threshold: float | None = None,
    out: str | Path | None = None,
    force: bool = False,
    data: str | Path | None = None,
    verify: bool = True,
    ctx: RunContext | None = None,
) -> SectionResult:
    """Profile your own areas (``leftbehind profile``): residents, CNI 2023 and IMD 2025 with national
    percentiles, the share in left-behind LSOAs, the IoD2025 indicators beside England, the region
    and ``comparator`` (a 2024 local authority; default each area's own).

    ``areas_path``: a GeoJSON of polygons (each with a name) or a CSV of ``area_id, lsoa21_code``.
    ``threshold``: as in :func:`target`. ``.tables["profiles"]``: one row per area; ``.files``: a
    one-page HTML profile per area (``profiles/<name>.html``). With ``out=`` it writes
    ``profile/<name>/`` (default the file's name, less its suffix).

    >>> import tempfile, leftbehind as lb
    >>> from pathlib import Path
    >>> tmp = tempfile.TemporaryDirectory()
    >>> f = Path(tmp.name) / "estates.csv"
    >>> _ = f.write_text("area_id,lsoa21_code\\nEast,E01012019\\nEast,E01012020\\nWest,E01000001\\n")
    >>> p = lb.profile(f, comparator="Leeds")
    >>> p.tables["profiles"][["area", "lsoas", "comparator"]]
       area  lsoas comparator
    0  East      2      Leeds
    1  West      1      Leeds
    >>> sorted(p.files)
    ['profiles/east.html', 'profiles/west.html']
    >>> tmp.cleanup()
    """
    from leftbehind.analysis.areas import classified_areas
    from leftbehind.analysis.current import MEANS_2025, POOLED_2025
    from leftbehind.analysis.profile import profile_pages, profiles, read_areas
    from leftbehind.editions import current_for
    from leftbehind.outdir import section_key

    areas_path = Path(areas_path)
    folder = _folder(out, force)
    current = current_for(_run_edition(folder)).id
    key = section_key(name or areas_path.stem)
    threshold, based_on = _threshold(folder, threshold, "profile")
    ctx = _context(ctx, data, verify)
    a = read_areas(areas_path, ctx)
    lsoa = classified_areas(ctx, current, None, _options("profile", threshold=threshold, skip_indices=True, ensemble=0))
    t = profiles(a, lsoa, ctx, comparator, current)
    f8 = ctx.load(current_for(current).outcomes.dataset).columns
    indicators = [(num, label, "% of residents") for _, label, num in POOLED_2025] + [
        (c, label, unit) for c, label, unit in MEANS_2025 if c in f8
    ]
    pages = {f"profiles/{fn}": html.encode("utf-8") for fn, html in profile_pages(t, indicators).items()}
    summ = {"areas_file": areas_path.name, "areas": len(t), "threshold": threshold}
    tables = {"profiles": t}
    path, written = None, ()
    if folder is not None:
        record = section_record_for(
            "profile",
            key,
            based_on=based_on,
            edition=current,
            unit="custom",
            threshold=threshold,
            comparator=comparator,
            areas_file=areas_path.name,
        )
        path = write_section(folder, "profile", key, tables, summ, record, pages)
        written = (f"profile/{key}",)
    return SectionResult("profile", key, "custom", tables, summ, files=pages, path=path, written=written)


def open(path: str | Path = "out") -> Results:  # lb.open(folder), as a file is opened
    """Read a finished output folder back (what ``leftbehind report`` and ``serve`` read): the typed
    :class:`~leftbehind.analysis.results.Results` of its run (``.tables``, ``.summary``), the
    later sections' summaries (``.sections``, the one of each kind the report shows) and
    ``.section_list``: every later section of the folder
    (:class:`~leftbehind.outdir.SectionInfo`: path, command, edition, unit, options, stale and
    why), stale or not.

    >>> import tempfile, leftbehind as lb
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = f"{tmp.name}/out"
    >>> _ = lb.run(ensemble=0, skip_indices=True, out=folder)
    >>> _ = lb.target("lbn2020", out=folder)
    >>> res = lb.open(folder)
    >>> len(res.tables["wards"]), res.summary.groups["left_behind"].wards
    (7433, 226)
    >>> [(s.path, s.stale) for s in res.section_list]
    [('target/lbn2020', False)]
    >>> _ = lb.run(ensemble=0, skip_indices=True, threshold=0.2, out=folder)
    >>> [(s.path, s.stale) for s in lb.open(folder).section_list]
    [('target/lbn2020', True)]
    >>> tmp.cleanup()
    """
    from leftbehind.report.tables import read_results

    p = Path(path)
    if not p.is_dir():
        raise UsageError(f"{p} is not a folder", hint="give the folder of a finished run (leftbehind run --out DIR)")
    return read_results(p)
