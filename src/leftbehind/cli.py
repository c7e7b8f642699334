"""The ``leftbehind`` command line.

Heavy libraries (pandas, scipy, pandera, pooch) are imported inside the commands, so
``leftbehind --help`` stays instant.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from leftbehind import __version__
from leftbehind.api import ROBUSTNESS_OPTIONS
from leftbehind.errors import LeftbehindError

#: the commands in the order of a piece of work (``--help`` lists them so)
WORKFLOW = (
    "run",
    "report",
    "robustness",
    "history",
    "spatial",
    "target",
    "profile",
    "designations",
    "serve",
    "data",
    "claimants",
    "index",
    "aggregate",
    "ward-imd-search",
)


class _WorkflowGroup(typer.core.TyperGroup):
    """Lists the commands in workflow order (:data:`WORKFLOW`), the rest after."""

    def list_commands(self, ctx):
        names = list(self.commands)
        return sorted(names, key=lambda n: (WORKFLOW.index(n) if n in WORKFLOW else len(WORKFLOW), n))


app = typer.Typer(
    cls=_WorkflowGroup,
    name="leftbehind",
    help="Find England's 'left behind' neighbourhoods (Community Needs Index x IMD) and the evidence about them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="The datasets: list, verify and fetch.", no_args_is_help=True)
index_app = typer.Typer(help="Composite indices: list the shipped specs, build one.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(index_app, name="index")

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data",
        envvar="LEFTBEHIND_DATA",
        help="A data folder laid out like ../shared/data "
        "(default: ../shared/data beside the project, then the download cache).",
        show_default=False,
    ),
]
NoVerify = Annotated[
    bool, typer.Option("--no-verify", help="Read files even if their sha256 differs from the catalogue's.")
]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Write into a non-empty folder that is not a leftbehind output folder (nothing in it is deleted; "
        "files of the same name are replaced).",
    ),
]
OUT_HELP = (
    "Output folder (made if missing). A non-empty folder must be a leftbehind output folder (or use --force); "
    "this command writes only its own section of it."
)


def _folder(out: Path, force: bool = False):
    """The output folder, checked before any work (a user's non-empty folder is refused)."""
    from leftbehind.outdir import OutputFolder

    return OutputFolder(out, force=force).check()


def _context(data: Path | None, no_verify: bool = False):
    """The run context every command below the CLI takes: data folder, verify policy, memo, provenance."""
    from leftbehind.context import RunContext

    return RunContext(data, verify=not no_verify)


def _console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS") or 140)  # tables stay readable in logs
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def _fail(exc: LeftbehindError) -> None:
    from rich.markup import escape  # messages quote paths and file contents: '[/]' is not markup

    err = _console(stderr=True)
    err.print(f"[bold red]error:[/] {escape(exc.message)}", markup=True)
    if exc.hint:
        err.print(f"  [bold]How to fix:[/] {escape(exc.hint)}", markup=True)
    raise typer.Exit(exc.exit_code)


def guarded(fn):
    """Turn user-facing errors into one message and a non-zero exit, never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LeftbehindError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            _console(stderr=True).print("interrupted: nothing was written")
            raise typer.Exit(130) from None
        except MemoryError:
            _console(stderr=True).print("error: out of memory")
            raise typer.Exit(1) from None
        except typer.Exit:
            raise
        except Exception as exc:  # a bug, not bad input: say so plainly
            if os.environ.get("LEFTBEHIND_DEBUG"):
                raise
            _console(stderr=True).print(
                f"internal error ({type(exc).__name__}: {exc}). This is a bug in leftbehind; re-run with "
                "LEFTBEHIND_DEBUG=1 for the traceback and report it.",
                markup=False,
            )
            raise typer.Exit(3) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"leftbehind {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """leftbehind: reproducible 'left behind' neighbourhoods analysis."""


# ---------------------------------------------------------------- data


@data_app.command("list")
@guarded
def data_list(data: DataDir = None) -> None:
    """Show every catalogue dataset as present, missing or corrupt (checksum)."""
    from rich.markup import escape
    from rich.table import Table

    from leftbehind.data import load_catalogue
    from leftbehind.data.sources import status

    table = Table(title="leftbehind datasets (sha256 checked against the catalogue)")
    for col in ("id", "edition", "geography", "licence", "status", "where"):
        table.add_column(col, overflow="fold")
    counts: dict[str, int] = {}
    for ds in load_catalogue():
        st, found = status(ds, data)
        counts[st] = counts.get(st, 0) + 1
        colour = {"present": "green", "corrupt": "bold red", "missing": "yellow"}.get(st, "cyan")
        where = (
            escape(f"{found.origin}: {found.path}")
            if found
            else (f"download: {ds.download_url}" if ds.download_url else "no download source")
        )
        table.add_row(ds.id, ds.edition, f"{ds.geography} {ds.vintage}", ds.licence, f"[{colour}]{st}[/]", where)
    con = _console()
    con.print(table)
    con.print(", ".join(f"{v} {k}" for k, v in sorted(counts.items())))


@data_app.command("verify")
@guarded
def data_verify(
    data: DataDir = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Also fail on datasets that are missing but downloadable.")
    ] = False,
) -> None:
    """Check every local file's sha256; exit non-zero on any corrupt or missing file."""
    from rich.markup import escape

    from leftbehind.data import load_catalogue
    from leftbehind.data.sources import status

    con = _console()
    problems = 0
    for ds in load_catalogue():
        st, found = status(ds, data)
        if st == "corrupt":
            problems += 1
            path = escape(str(found.path))
            con.print(f"[bold red]CORRUPT[/] {ds.id}: {path} sha256 {found.sha256} != catalogue {ds.sha256}")
        elif st == "missing" and (ds.file and (not ds.download_url or all_)):
            problems += 1
            con.print(f"[yellow]MISSING[/] {ds.id}: {ds.file}")
        elif st == "missing":
            con.print(f"[dim]not local (downloadable)[/] {ds.id}")
    if problems:
        con.print(
            f"[bold red]{problems} problem(s)[/]: restore the files named above (see SOURCES.md), "
            "or pass --data with a complete mirror"
        )
        raise typer.Exit(1)
    con.print("[green]all local datasets verified[/]")


@data_app.command("cjrs")
@guarded
def data_cjrs(
    source: Annotated[str, typer.Argument(help="An HMRC CJRS statistics workbook (.xlsx): a file, or an https URL.")],
    out: Annotated[Path, typer.Option("--out", help="CSV to write: area_code, area_name, furloughed, eligible.")],
    level: Annotated[str, typer.Option("--level", help="pcon (constituencies) or lad (local authorities).")] = "pcon",
) -> None:
    """Read a newer HMRC furlough (CJRS) release into a tidy CSV (the table is found by its header, so
    layout changes between releases are tolerated); a URL is downloaded once into the cache."""
    from leftbehind.data.cjrs import fetch_cjrs, read_cjrs
    from leftbehind.errors import UsageError
    from leftbehind.io import write_csv

    if out.suffix.lower() != ".csv":
        raise UsageError(f"--out must be a .csv file, got {out}", hint="e.g. --out cjrs_pcon.csv")
    if source.startswith(("http://", "https://")):
        table = fetch_cjrs(source, level)
    else:
        path = Path(source)
        if not path.is_file():
            raise UsageError(f"CJRS workbook {path} not found", hint="pass the .xlsx file HMRC publishes, or its URL")
        table = read_cjrs(path, level, name=str(path))
    write_csv(table, out)
    _console().print(
        f"wrote {out}: {len(table):,} areas ({level}), {int(table['furloughed'].sum()):,} employments furloughed "
        "(HMRC CJRS statistics, Open Government Licence v3.0)"
    )


@data_app.command("fetch")
@guarded
def data_fetch(dataset: Annotated[str, typer.Argument(help="Catalogue dataset id.")], data: DataDir = None) -> None:
    """Make a dataset available locally, downloading it into the cache if needed."""
    from leftbehind.data import load_catalogue
    from leftbehind.data.sources import download, locate

    ds = load_catalogue()[dataset]
    found = locate(ds, data)
    if found is None:
        found = download(ds, progress=sys.stderr.isatty())
    _console().print(f"{ds.id}: {found.path} ({found.origin}, sha256 {found.sha256})")


# ---------------------------------------------------------------- index


@index_app.command("list")
@guarded
def index_list() -> None:
    """List the shipped index specifications."""
    from rich.table import Table

    from leftbehind.indices.spec import load_spec, shipped_specs

    t = Table(title="shipped index specs")
    for c in ("name", "edition", "geography", "source", "title"):
        t.add_column(c, overflow="fold", no_wrap=c == "name")
    for name in shipped_specs():
        s = load_spec(name)
        t.add_row(s.name, s.edition, s.geography, s.source, s.title)
    _console().print(t)


def _print_fit(con, spec, fit, res) -> None:
    from rich.table import Table

    t = Table(title=f"{spec.name}: rebuilt vs published ({spec.edition})", show_header=True)
    t.add_column("check")
    t.add_column("result")
    t.add_column("")
    for what, fig, ok in fit.checks:
        t.add_row(what, fig, "[green]pass[/]" if ok else "[bold red]FAIL[/]")
    if fit.checks:
        con.print(t)
    from rich.markup import escape

    con.print(
        escape(
            f"input: {res.dataset.id} ({res.dataset.edition}) {res.path} [{res.origin}] sha256 "
            f"{res.sha256[:16]}… {'(matches catalogue)' if res.verified else '(NOT the catalogue file)'}"
        )
    )
    if not res.dataset.is_open_data:
        con.print(f"licence: {res.dataset.licence}; cite: {res.dataset.attribution}")


@index_app.command("build")
@guarded
def index_build(
    spec: Annotated[str, typer.Argument(help="A shipped spec name (see `index list`) or a YAML spec file.")],
    out: Annotated[Path, typer.Option("--out", help="CSV to write: area_code, score, rank, decile, components.")],
    indicators: Annotated[
        Path | None,
        typer.Option(
            "--indicators", help="Your own indicator table (CSV or Parquet) instead of the spec's source dataset."
        ),
    ] = None,
    data: DataDir = None,
    no_verify: NoVerify = False,
) -> None:
    """Build an index from its spec and write one row per area."""
    from leftbehind.indices.build import build_index, build_spec, read_indicator_table
    from leftbehind.indices.spec import load_spec
    from leftbehind.io import write_csv

    if out.suffix.lower() != ".csv":
        from leftbehind.errors import UsageError

        raise UsageError(f"--out must be a .csv file, got {out}", hint="e.g. --out imd2019.csv")
    con = _console()
    ctx = _context(data, no_verify)
    if indicators is not None:
        s = load_spec(spec)
        table = read_indicator_table(indicators, s)
        s, built, fit = build_spec(s, ctx=ctx, table=table) if s.check else (s, build_index(s, table), None)
        write_csv(built, out)
        con.print(
            f"wrote {out}: {len(built):,} areas from {indicators} ({s.title}); weights: "
            + ", ".join(f"{k} {v:.4f}" for k, v in built.attrs["weights"].items())
        )
        if fit is not None:
            for what, fig, ok in fit.checks:
                con.print(f"  {what}: {fig} {'pass' if ok else 'FAIL'}")
        return
    s, built, fit = build_spec(spec, ctx=ctx)
    res = ctx.resolve(s.source)
    write_csv(built, out)
    con.print(
        f"wrote {out}: {len(built):,} areas ({s.geography}), columns area_code, score, rank, decile "
        f"+ {len(s.components)} components; score unit: index points ({s.title})"
    )
    _print_fit(con, s, fit, res)
    if s.weighting != "fixed":
        con.print(f"weights ({s.weighting}): " + ", ".join(f"{k} {v:.4f}" for k, v in built.attrs["weights"].items()))


@index_app.command("audit")
@guarded
def index_audit(
    spec: Annotated[str, typer.Argument(help="A shipped spec name or a YAML spec file.")],
    out: Annotated[Path, typer.Option("--out", help=OUT_HELP + " Writes DIR/audit/SPEC/.")] = Path("out"),
    force: Force = False,
    indicators: Annotated[Path | None, typer.Option("--indicators", help="Your own indicator table.")] = None,
    data: DataDir = None,
    no_verify: NoVerify = False,
) -> None:
    """Indicator summaries, missing data, correlations, Cronbach's alpha, factor loadings and effective weights
    (DIR/audit/SPEC/: audit.html, indicators.csv, weights.csv, correlation.csv)."""
    from rich.table import Table

    from leftbehind.indices.audit import audit, audit_html
    from leftbehind.indices.build import read_indicator_table
    from leftbehind.indices.spec import load_spec
    from leftbehind.outdir import section_key

    s = load_spec(spec)
    folder = _folder(out, force)
    key = section_key(s.name)
    ctx = _context(data, no_verify)
    table = read_indicator_table(indicators, s) if indicators is not None else ctx.load(s.source)
    target = None
    if s.weighting == "least_squares":
        pub = ctx.load(s.check.dataset or s.source)
        target = pub.set_index(s.area)[s.check.score].reindex(table[s.area]).to_numpy()
    res = audit(s, table, target)
    files = {
        "indicators.csv": res["summary"].to_csv(index=False).encode("utf-8"),
        "weights.csv": res["weights"].to_csv(index=False).encode("utf-8"),
        "correlation.csv": res["correlation"].to_csv().encode("utf-8"),
        "audit.html": audit_html(res).encode("utf-8"),
    }
    summary = {"spec": s.name, "areas": int(res["areas"]), "alpha": float(res["alpha"]), "weighting": s.weighting}
    record = _record("audit", key, spec=s.name, indicators=str(indicators) if indicators else None)
    _write_section(folder, "audit", key, {}, summary, record, files)
    con = _console()
    t = Table(title=f"{s.name}: {res['areas']:,} areas; Cronbach's alpha {res['alpha']:.3f}; weighting {s.weighting}")
    for c in ("component", "missing", "weight", "effective weight", "loading", "Spearman with composite"):
        t.add_column(c)
    miss = res["summary"].set_index("component")["missing"]
    for r in res["weights"].itertuples():
        t.add_row(
            r.component,
            f"{int(miss[r.component]):,}",
            f"{r.weight:.4f}",
            f"{r.effective_weight:.4f}",
            f"{r.loading:.4f}",
            f"{r.spearman_with_composite:.4f}",
        )
    con.print(t)
    con.print(f"wrote {out}/audit/{key}/ (audit.html, indicators.csv, weights.csv, correlation.csv)")


@index_app.command("cni-style")
@guarded
def index_cni_style(
    out: Annotated[Path, typer.Option("--out", help="CSV of the CNI-style ward index (one row per ward).")] = Path(
        "cni_style.csv"
    ),
    data: DataDir = None,
    no_verify: NoVerify = False,
) -> None:
    """A CNI-style ward index built from open indicators (three domains, normal scores, factor weights),
    compared with the published Community Needs Index 2019 (docs/index-engine.md)."""
    from rich.table import Table

    from leftbehind.analysis.cnistyle import build_cni_style
    from leftbehind.errors import UsageError
    from leftbehind.io import write_csv

    if out.suffix.lower() != ".csv":
        raise UsageError(f"--out must be a .csv file, got {out}", hint="e.g. --out cni_style.csv")
    con = _console()
    with con.status("building the CNI-style index from open indicators"):
        wards, comparison = build_cni_style(_context(data, no_verify))
    write_csv(wards, out)
    t = Table(title=f"CNI-style index from open indicators vs the published CNI 2019 ({len(wards):,} wards)")
    for c in ("domain", "Spearman with published rank", "top-10% overlap", "weights"):
        t.add_column(c)
    for r in comparison.itertuples():
        t.add_row(r.domain, f"{r.spearman_with_published_rank:.3f}", f"{r.top10pct_overlap:.1%}", r.weights)
    con.print(t)
    con.print(
        f"wrote {out}. An illustration of the method on open data, not the CNI: the published values are "
        "Community Needs Index, OCSI for Local Trust (not open data)"
    )


# ---------------------------------------------------------------- aggregate


@app.command("aggregate")
@guarded
def aggregate_cmd(
    index: Annotated[
        str, typer.Option("--index", help="imd2019 | imd2015 | iod2025 | cni2023 | imd2019_income | imd2019_employment")
    ],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="LSOA 2011 indices: wd17 | wd19 | lad19 | lad24 | region | pcon17; LSOA 2021 indices: lad24 | region",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="CSV to write, one row per area.")],
    population: Annotated[
        str | None,
        typer.Option(
            "--population",
            help="Weights: mid2015 | mid2019 | mid2020 | census2011 (LSOA 2011 indices, default "
            "mid2019); census2021 (LSOA 2021 indices, the default and only choice).",
        ),
    ] = None,
    split: Annotated[
        str,
        typer.Option(
            "--split",
            help="pcon17 only: a ward split between constituencies goes to "
            "its largest piece (best_fit) or is shared by population (apportion).",
        ),
    ] = "best_fit",
    data: DataDir = None,
    no_verify: NoVerify = False,
) -> None:
    """Aggregate an LSOA-level index to larger areas with the six IoD summary measures."""
    from leftbehind.errors import UsageError
    from leftbehind.geography.aggregate import aggregate
    from leftbehind.geography.lookups import lsoa21_to_area, lsoa_to_area
    from leftbehind.geography.population import BASES, DENOMINATOR, check_base, lsoa_population
    from leftbehind.indices.values import index_info, small_area_values
    from leftbehind.io import write_csv

    if out.suffix.lower() != ".csv":
        raise UsageError(f"--out must be a .csv file, got {out}", hint="e.g. --out wards.csv")
    info = index_info(index)
    base = population or ("mid2019" if info.geography == "lsoa11" else "census2021")
    check_base(base, info.geography)
    ctx = _context(data, no_verify)
    vals = small_area_values(index, ctx=ctx)
    pop = lsoa_population(base, ctx=ctx)
    pop_col = DENOMINATOR.get(info.measure, "pop_total")
    if pop_col not in pop.columns:
        raise UsageError(
            f"population base {base} has no {pop_col} (needed for {index})", hint="use mid2015, mid2019 or mid2020"
        )
    vals = vals.merge(pop[[info.code, pop_col]].rename(columns={pop_col: "population"}), on=info.code, how="left")
    if vals["population"].isna().any():
        miss = vals.loc[vals["population"].isna(), info.code]
        raise UsageError(f"{len(miss):,} LSOAs of {index} have no {base} population (first {miss.iloc[0]})")
    if info.geography == "lsoa11":
        mapping = lsoa_to_area(to, ctx=ctx, split=split, population=pop if base != "census2011" else None)
    else:
        mapping = lsoa21_to_area(to, ctx=ctx)
    result = aggregate(vals, mapping, code=info.code, count="count" if "count" in vals.columns else None)
    write_csv(result, out)
    con = _console()
    con.print(
        f"wrote {out}: {len(result):,} areas ({to}) from {len(vals):,} {info.geography.upper()} of {info.title} "
        f"({info.edition}); population {base} ({BASES[base][2]}, column {pop_col}), "
        f"total {result['population'].sum():,.0f} people"
    )
    con.print(
        f"measures: average_score ({info.score_unit}), average_rank (mean LSOA rank, most deprived = "
        f"{len(vals):,}), extent (share of people, 0-1), local_concentration (rank), proportion (share of LSOAs in "
        "the national most deprived 10%, 0-1)"
        + (", scale (people)" if "scale" in result.columns else "")
        + "; rank_* 1 = most deprived"
    )


@app.command("ward-imd-search")
@guarded
def ward_imd_search(
    out: Annotated[Path, typer.Option("--out", help="CSV with every construction and its fit.")] = Path(
        "ward_imd_search.csv"
    ),
    top: Annotated[int, typer.Option("--top", min=1, help="Rows to print.")] = 15,
    data: DataDir = None,
    no_verify: NoVerify = False,
) -> None:
    """Score every ward-IMD construction (route, population, measure, cut-offs) against the published 2020 list."""
    from rich.table import Table

    from leftbehind.analysis.wardsearch import search
    from leftbehind.io import write_csv

    con = _console()
    ctx = _context(data, no_verify)
    with con.status("trying every construction (about 20 s)"):
        res = search(ctx)
    write_csv(res, out)
    from leftbehind.editions import research_of
    from leftbehind.options import BY_NAME

    published = research_of(str(BY_NAME["edition"].default)).pairing(str(BY_NAME["imd"].default)).list
    t = Table(title=f"Ward-IMD constructions vs the {published.name} of {published.size} (best {top} of {len(res)})")
    for c in ("route", "population", "measure", "k_cni", "k_imd", "matched", "missed", "extra", "f1"):
        t.add_column(c)
    for r in res.head(top).itertuples():
        t.add_row(
            r.route,
            r.population,
            r.measure,
            str(r.k_cni),
            str(r.k_imd),
            str(r.matched),
            str(r.missed),
            str(r.extra),
            f"{r.f1:.4f}",
        )
    con.print(t)
    con.print(f"wrote {out} ({len(res)} constructions)")


@app.command("report")
@guarded
def report_cmd(
    out: Annotated[Path, typer.Option("--out", help="The folder of a finished `leftbehind run`.")] = Path("out"),
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Make only these: html, png, xlsx, geojson (repeatable).")
    ] = None,
    data: DataDir = None,
    no_verify: NoVerify = False,
) -> None:
    """(Re)build report.html, the maps (map.png), leftbehind.xlsx (every table, with a README sheet) and the GIS
    layers (wards.geojson) from a finished run in DIR; with --edition 2025 also a map and a layer per current unit
    (current/map_lsoa21.png, current/lsoa21.geojson ... wards24, msoa21). Refreshes datapackage.json."""
    import time

    from leftbehind.errors import UsageError
    from leftbehind.report.build import EXPORTS, FILES, write_report
    from leftbehind.report.tables import read_results

    kinds = tuple(dict.fromkeys(only)) if only else EXPORTS
    bad = [k for k in kinds if k not in EXPORTS]
    if bad:
        raise UsageError(f"--only: unknown output {bad[0]!r}", hint="use html, png, xlsx or geojson")
    results = read_results(out)
    con = _console()
    start = time.perf_counter()
    with con.status("building the report"):
        written = write_report(results, out, kinds, ctx=_context(data, no_verify), atomic=True)
    from leftbehind.outdir import OutputFolder

    OutputFolder(out).add_run_entries(written)

    def size(f: str) -> str:
        n = (out / f).stat().st_size
        return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"

    sizes = ", ".join(f"{f} ({size(f)})" for f in written)
    con.print(f"wrote {sizes} in {out}/ ({time.perf_counter() - start:.1f} s)")
    con.print(
        "the report works offline: open report.html in a browser or attach it to an e-mail "
        f"({FILES['html']} holds all data, scripts and the map)"
    )


def _robustness_signature(fn):
    """``robustness`` takes the nominal construction options of ``run``, declared once."""
    import enum
    import inspect

    from leftbehind.options import BY_NAME

    params = [
        p
        for p in inspect.signature(fn, eval_str=True).parameters.values()
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    for name in ROBUSTNESS_OPTIONS:
        o = BY_NAME[name]
        kw = {"metavar": "[" + "|".join(o.choices) + "]"} if o.name == "edition" else {}
        if o.name == "edition":  # the editions found when the options are checked (LEFTBEHIND_EDITIONS)
            typ = str
        else:
            typ = enum.Enum(o.name, {c: c for c in o.choices}, type=str) if o.kind == "choice" else float
        params.append(
            inspect.Parameter(
                o.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,  # not given: the folder's run's value, else the run's default
                annotation=Annotated[
                    typ | None,
                    typer.Option(
                        o.flag,
                        help=f"{o.help} Default: the folder's run's, else {o.cli_default()}.",
                        show_default=False,
                        **kw,
                    ),
                ],
            )
        )
    fn.__signature__ = inspect.Signature(params)
    return fn


@app.command("robustness")
@guarded
@_robustness_signature
def robustness_cmd(
    out: Annotated[Path, typer.Option("--out", help=OUT_HELP + " Writes DIR/robustness/EDITION/.")] = Path("out"),
    force: Force = False,
    replications: Annotated[
        int, typer.Option("--replications", min=100, max=200_000, help="Replications of the ensemble.")
    ] = 10_000,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Seed: the same seed gives byte-identical outputs.")
    ] = 20201,
    spec: Annotated[
        Path | None,
        typer.Option("--spec", help="Ensemble spec (YAML); default: the shipped analysis/robustness/default.yaml."),
    ] = None,
    sobol_n: Annotated[
        int | None, typer.Option("--sobol-n", min=64, max=65_536, help="Base samples of the Sobol design (2^k).")
    ] = None,
    data: DataDir = None,
    no_verify: NoVerify = False,
    **options,
) -> None:
    """How sure is each left-behind area? An uncertainty ensemble over the ward-IMD construction, the
    cut-offs, the CNI and IMD weights, noise in the domain ranks and (2025) the IMD paired with CNI 2023;
    Sobol and one-at-a-time sensitivity. Writes DIR/robustness/EDITION/: areas.csv, counts.csv, list_size.csv,
    sensitivity.csv, outcomes.csv (2020), summary.json."""

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from leftbehind.api import command_line, robustness

    given = {k: getattr(v, "value", v) for k, v in options.items()}
    ctx = _context(data, no_verify)
    con = _console()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=con,
        transient=True,
    ) as bar:
        task = bar.add_task("preparing", total=None)

        def progress(what, done, total):
            bar.update(task, description=what, completed=done or 0, total=total)

        with command_line():
            res = robustness(
                given.pop("edition"),
                replications=replications,
                seed=seed,
                spec=spec,
                sobol_n=sobol_n,
                out=out,
                force=force,
                ctx=ctx,
                progress=progress,
                **given,
            )
    s = res.summary
    con.print(
        f"{s['areas']:,} areas ({s['unit']}), {s['replications']:,} replications (seed {s['seed']}) in "
        f"{s['seconds_ensemble']:.1f} s, {s['seconds_total']:.1f} s with the sensitivity analysis; peak memory "
        f"{s['peak_memory_mb']:,.0f} MB"
    )
    b, ls = s["bands"], s["list_size"]
    con.print(
        f"left behind: robust (P >= 0.95) {b['robust']:,}, likely {b['likely']:,}, edge {b['edge']:,}, unlikely "
        f"{b['unlikely']:,}; list size nominal {ls['nominal']:,}, ensemble mean {ls['mean']:,.1f} "
        f"(90% {ls['q05']:,.0f} to {ls['q95']:,.0f}); Jaccard with the nominal list "
        f"{s['jaccard_with_nominal']['mean']:.3f}"
    )
    if "published_2020" in s:
        p = s["published_2020"]
        con.print(
            f"published 2020 list ({p['wards']}): {p['robust']} robust, {p['p_at_least_half']} with P >= 0.5 "
            f"({p['share_p_at_least_half']:.1%}); the wards where ours and the published list differ: "
            + ", ".join(f"{c} ({d['status']}, P {d['p_left_behind']:.2f})" for c, d in p["differences"].items())
        )
    if "most_important_source" in s:
        m = s["most_important_source"]
        con.print(f"most important source (total Sobol index of the Jaccard): {m['source']} (ST {m['ST_jaccard']:.2f})")
    for note in s["notes"]:
        con.print(f"note: {note}")
    con.print(
        f"wrote {out}/robustness/{res.key}/ (areas.csv, counts.csv, list_size.csv, sensitivity.csv, summary.json)"
    )
    if "report.html" in res.written:
        con.print(f"updated {out}/report.html with the sensitivity analysis")


def _record(kind: str, key: str | None, **kw) -> dict:
    """The section record of a later command (leftbehind.api.section_record_for)."""
    from leftbehind.api import section_record_for

    return section_record_for(kind, key, **kw)


def _write_section(
    folder, kind: str, key: str | None, tables: dict, summary: dict, record: dict, files: dict | None = None
) -> None:
    """Write a later command's section, atomically (leftbehind.api.write_section)."""
    from leftbehind.api import write_section

    write_section(folder, kind, key, tables, summary, record, files)


@app.command("target")
@guarded
def target_cmd(
    rules: Annotated[
        list[str],
        typer.Argument(help="A preset (lbn2020, cwf, pride-in-place) or a YAML rule file; two with --compare."),
    ],
    out: Annotated[Path, typer.Option("--out", help=OUT_HELP + " Writes DIR/target/NAME/.")] = Path("out"),
    name: Annotated[
        str | None,
        typer.Option("--name", help="The section's name (default: the rule's name, or A-vs-B with --compare)."),
    ] = None,
    force: Force = False,
    count: Annotated[int | None, typer.Option("--count", min=1, help="Areas to select (overrides the rule).")] = None,
    budget: Annotated[
        float | None, typer.Option("--budget", min=0, help="Total money in pounds: amounts are scaled to add up to it.")
    ] = None,
    compare: Annotated[bool, typer.Option("--compare", help="Put two rules side by side.")] = False,
    data: DataDir = None,
    no_verify: NoVerify = False,
) -> None:
    """Simulate a funding selection: which areas a rule picks, why each candidate is in or out, and where the
    money goes (DIR/target/NAME/: selection.csv, by_region.csv, by_lad.csv, summary.json)."""
    from leftbehind.api import command_line, target
    from leftbehind.errors import UsageError

    if compare != (len(rules) == 2) or len(rules) > 2:
        raise UsageError(
            "give one rule, or two rules with --compare", hint="e.g. leftbehind target cwf pride-in-place --compare"
        )
    ctx = _context(data, no_verify)
    con = _console()
    with con.status("selecting"), command_line():
        res = target(
            rules[0], count, budget, compare=rules[1] if compare else None, name=name, out=out, force=force, ctx=ctx
        )
    key = res.key
    if compare:
        stats, moved = res.summary, res.tables["target_money_moved"]
        a, b = stats["rule_a"], stats["rule_b"]
        con.print(
            f"{a} vs {b} ({res.unit}): {stats['selected_a']} and {stats['selected_b']} areas, overlap "
            f"{stats['overlap']} (Jaccard {stats['jaccard']:.3f}); {b} gains {stats['gained_by_b']} areas "
            f"({stats['residents_gained_by_b']:,} residents) and loses {stats['lost_by_b']} "
            f"({stats['residents_lost_by_b']:,})"
        )
        for r in moved.itertuples():
            con.print(f"  {r.region_name}: {r.amount_gbp_a:,.0f} -> {r.amount_gbp_b:,.0f} pounds ({r.moved_gbp:+,.0f})")
        con.print(f"wrote {out}/target/{key}/ (comparison.csv, money_moved.csv, summary.json)")
        return
    summ = res.summary
    checks = summ["checks"]
    con.print(
        f"{summ['rule']} ({summ['unit']}, {summ['imd']}): {summ['areas']:,} of {summ['candidates']:,} areas, "
        f"{summ['residents']:,} residents, {summ['amount_gbp']:,.0f} pounds "
        f"({summ['gbp_per_resident'] or 0:,.2f} a resident)"
    )
    for note in summ.get("notes", []):
        con.print(f"note: {note}")
    if summ["just_in"]:
        con.print("just in:  " + "; ".join(f"{r['area_name']} ({r['lad_name']}, {r['rank']})" for r in summ["just_in"]))
    if summ["just_out"]:
        con.print(
            "just out: " + "; ".join(f"{r['area_name']} ({r['lad_name']}, {r['rank']})" for r in summ["just_out"])
        )
    for dataset, c in checks.items():
        con.print(
            f"against {dataset} ({c['published']} areas matched from the list): {c['matched']} selected; precision "
            f"{c['precision']:.3f}, recall {c['recall']:.3f}, F1 {c['f1']:.3f}"
        )
    con.print(f"wrote {out}/target/{key}/ (selection.csv, by_region.csv, by_lad.csv, summary.json)")


@app.command("profile")
@guarded
def profile_cmd(
    areas: Annotated[
        Path, typer.Argument(help="GeoJSON of polygons (each with a name), or CSV of area_id, lsoa21_code.")
    ],
    out: Annotated[Path, typer.Option("--out", help=OUT_HELP + " Writes DIR/profile/NAME/.")] = Path("out"),
    name: Annotated[
        str | None,
        typer.Option("--name", help="The section's name (default: the areas file's name, less .geojson/.csv)."),
    ] = None,
    force: Force = False,
    comparator: Annotated[
        str | None,
        typer.Option("--comparator", help="A 2024 local authority to compare with (default: the area's own)."),
    ] = None,
    data: DataDir = None,
    no_verify: NoVerify = False,
) -> None:
    """Profile your own areas: residents, CNI 2023 and IMD 2025 with national percentiles, the share in
    left-behind LSOAs, IoD2025 indicators beside England, the region and a comparator (DIR/profile/NAME/:
    profiles.csv, and a one-page HTML profile per area)."""
    from leftbehind.api import command_line, profile

    ctx = _context(data, no_verify)
    con = _console()
    with con.status("profiling"), command_line():
        res = profile(areas, comparator, name=name, out=out, force=force, ctx=ctx)
    t, key = res.tables["profiles"], res.key
    for r in t.itertuples():
        con.print(
            f"{r.area}: {r.population:,.0f} residents in {r.lsoas} LSOAs ({100 * r.population_uncertain_share:.0f}% "
            f"uncertain), CNI 2023 percentile {r.cni_national_percentile:.0f}, IMD 2025 percentile "
            f"{r.imd_national_percentile:.0f}, {100 * r.share_in_left_behind_lsoas:.0f}% in left-behind LSOAs"
        )
    con.print(f"wrote {out}/profile/{key}/profiles.csv and {len(t)} profiles in {out}/profile/{key}/profiles/")


def _refresh_report(out: Path, ctx, con, what: str) -> None:
    from leftbehind.api import refresh_report

    if refresh_report(out, ctx):  # a finished run: add the section
        con.print(f"updated {out}/report.html with {what}")


@app.command("history")
@guarded
def history_cmd(
    out: Annotated[Path, typer.Option("--out", help=OUT_HELP + " Writes DIR/history/.")] = Path("out"),
    force: Force = False,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the k-medoids starts.")] = 2024,
    data: DataDir = None,
    no_verify: NoVerify = False,
) -> None:
    """How long have these places been deprived? IMD 2004, 2007, 2010, 2015, 2019 and 2025 on LSOA 2011,
    persistence in the most deprived decile, a sequence typology (optimal matching, weighted k-medoids,
    Houlden et al. 2024) and ward trajectories. Writes DIR/history/: lsoa11.csv, wards17.csv, wards24.csv,
    typology_silhouettes.csv, typology_clusters.csv, typology_crosstab.csv, summary.json."""
    from leftbehind.analysis.areas import WARD_OPTIONS
    from leftbehind.analysis.history.build import history_spec
    from leftbehind.analysis.history.run import history
    from leftbehind.options import make_run_options
    from leftbehind.report.build import ReadAhead

    folder = _folder(out, force)
    eff, based_on = folder.options_for({name: None for name in WARD_OPTIONS}, command="history")
    opts = make_run_options(**eff, skip_indices=True, ensemble=0)
    ctx = _context(data, no_verify)
    con = _console()
    extra = ("lookup_lsoa11_wd17", "lookup_lsoa21_wd24", "lookup_lsoa11_lsoa21", "cni2019_wards", "cni2023_lsoa21")
    with (
        con.status("history") as status,
        ReadAhead(ctx, (*history_spec().datasets(), *extra), geometry=False) as ahead,
    ):
        res = history(ctx, progress=lambda what: status.update(what), seed=seed, opts=opts)
        ahead.close()
    record = _record("history", None, opts=opts, based_on=based_on, edition=None, seed=seed)
    _write_section(folder, "history", None, res.tables, res.summary, record)
    s, ty = res.summary["lsoa11"], res.summary["typology"]
    con.print(
        f"{s['lsoas']:,} LSOAs 2011 ({s['lsoas_with_2010']:,} with IMD 2004-2010); in the most deprived decile in all "
        f"of 2010, 2015 and 2019: {s['decile1_2010_2015_2019']:,}; in all six editions: {s['decile1_all_six']:,}"
    )
    con.print(
        "decile 1 of one edition that was decile 1 of the previous: "
        + ", ".join(f"{k.split('_')[1]} {v:.1f}%" for k, v in s.items() if k.startswith("share_"))
    )
    for name, t in ty.items():
        con.print(
            f"typology {name.replace('_', '-')}: {t['lsoas']:,} LSOAs, {t['unique_sequences']:,} distinct sequences; "
            f"best k by silhouette {t['best_k_by_silhouette']} ({t['silhouette_best']:.3f}); k = 6 exported "
            f"(silhouette {t['silhouette_k6']:.3f}): " + "; ".join(f"{k} {v:,}" for k, v in t["clusters_k6"].items())
        )
    for seq, by in res.summary["entrenched_vs_left_behind"].items():
        for cls, e in by.items():
            con.print(
                f"{seq.replace('_', '-')} x {cls}: {e['left_behind_entrenched']:,} of {e['left_behind_lsoas']:,} "
                f"left-behind LSOAs are entrenched; {e['entrenched_not_left_behind']:,} of "
                f"{e['entrenched_lsoas']:,} entrenched LSOAs are not left behind"
            )
    con.print(f"{res.summary['seconds_total']:.1f} s; wrote {out}/history/")
    _refresh_report(out, ctx, con, "the history section")


@app.command("spatial")
@guarded
def spatial_cmd(
    out: Annotated[Path, typer.Option("--out", help=OUT_HELP + " Writes DIR/spatial/EDITION-UNIT/.")] = Path("out"),
    force: Force = False,
    edition: Annotated[
        str | None,
        typer.Option(
            "--edition",
            help="2020 (CNI 2019, wards 2017) or 2025 (CNI 2023 x IMD 2025); default: the folder's run's, else 2020.",
        ),
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="2020: ward17; 2025: lsoa21 (default), wards24 or msoa21."),
    ] = None,
    permutations: Annotated[int, typer.Option("--permutations", min=99, max=99_999, help="Permutations.")] = 999,
    surrounded_share: Annotated[
        float,
        typer.Option(
            "--surrounded-share",
            help="An area not left behind is 'surrounded' when at least this share "
            "of its neighbours are (0-1; CEJST uses 0.85).",
        ),
    ] = 0.85,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the permutations.")] = 12345,
    lookup: Annotated[
        str | None,
        typer.Option(
            "--lookup",
            help="Wards 2017: small areas to wards by oa or best_fit (default: the folder's run's, else oa).",
        ),
    ] = None,
    data: DataDir = None,
    no_verify: NoVerify = False,
) -> None:
    """Do left-behind neighbourhoods cluster? Contiguity weights from the unit's polygons, global and local join
    counts with permutation inference (Benjamini-Hochberg), Moran's I of the CNI and IMD scores, clusters of
    contiguous left-behind areas and 'surrounded' areas. Writes DIR/spatial/EDITION-UNIT/: global.csv, local.csv,
    clusters.csv, map.png, summary.json."""
    from leftbehind.analysis.spatial.run import spatial_units
    from leftbehind.editions import edition_ids
    from leftbehind.errors import UsageError
    from leftbehind.geography.units import same
    from leftbehind.options import BY_NAME, make_run_options

    folder = _folder(out, force)
    edition = edition or (folder.run_options() or {}).get("edition") or str(BY_NAME["edition"].default)
    if edition not in edition_ids():
        raise UsageError(f"unknown --edition {edition!r}", hint="use one of: " + ", ".join(edition_ids()))
    units = spatial_units(edition)
    chosen = next((u for u in units if same(u, unit)), None) if unit else units[0]
    if chosen is None:
        other = [e for e in edition_ids() if any(same(u, unit) for u in spatial_units(e))]
        raise UsageError(
            f"unknown --unit {unit!r} for --edition {edition}"
            + (f" (it is a unit of --edition {other[0]})" if other else ""),
            hint="use one of: " + ", ".join(units),
        )
    unit = chosen
    if not 0 < surrounded_share <= 1:
        raise UsageError(f"--surrounded-share {surrounded_share} is not in (0, 1]", hint="e.g. --surrounded-share 0.85")
    if lookup not in (None, "oa", "best_fit"):
        raise UsageError(f"unknown --lookup {lookup!r}", hint="use oa or best_fit")
    from leftbehind.analysis.areas import WARD_OPTIONS
    from leftbehind.analysis.spatial.run import spatial

    given = {name: None for name in WARD_OPTIONS} | {"lookup": lookup}
    eff, based_on = folder.options_for(given, command="spatial")
    opts = make_run_options(**eff, edition=edition, skip_indices=True, ensemble=0)
    ctx = _context(data, no_verify)
    con = _console()
    with con.status("spatial") as status:
        res = spatial(
            ctx,
            edition=edition,
            unit=unit,
            permutations=permutations,
            seed=seed,
            surrounded_share=surrounded_share,
            progress=lambda what: status.update(what),
            opts=opts,
        )
    key = f"{edition}-{unit}"
    record = _record(
        "spatial",
        key,
        opts=opts,
        based_on=based_on,
        unit=unit,
        permutations=permutations,
        seed=seed,
        surrounded_share=surrounded_share,
    )
    _write_section(folder, "spatial", key, res.tables, res.summary, record, {"map.png": res.map_png})
    for line in res.summary["statements"]:
        con.print(line)
    for note in res.summary["notes"]:
        con.print(f"note: {note}")
    con.print(
        f"{res.summary['seconds_total']:.1f} s; wrote {out}/spatial/{key}/ "
        "(global.csv, local.csv, clusters.csv, map.png)"
    )
    _refresh_report(out, ctx, con, "the spatial section")


designations_app = typer.Typer(help="Lists of areas named by programmes: match them to a unit.", no_args_is_help=True)
app.add_typer(designations_app, name="designations")


@designations_app.command("match")
@guarded
def designations_match(
    file: Annotated[Path, typer.Argument(help="CSV of area codes, or names with their local authority.")],
    unit: Annotated[str, typer.Option("--unit", help="msoa21 | wards24 | lsoa21")] = "msoa21",
    out: Annotated[Path, typer.Option("--out", help=OUT_HELP + " Writes DIR/designations/NAME/.")] = Path("out"),
    name: Annotated[
        str | None, typer.Option("--name", help="The section's name (default: the list file's name, less .csv).")
    ] = None,
    force: Force = False,
    data: DataDir = None,
    no_verify: NoVerify = False,
) -> None:
    """Match a list of areas (names + local authority, or codes) to a unit; every near match is listed for
    review and every unmatched row is kept (matches.csv, summary.json)."""
    import pandas as pd

    from leftbehind.analysis.designations import match
    from leftbehind.analysis.targeting import Rule, unit_table
    from leftbehind.errors import DataError, UsageError

    if unit not in ("msoa21", "wards24", "lsoa21"):
        raise UsageError(f"--unit: unknown unit {unit!r}", hint="use msoa21, wards24 or lsoa21")
    if not file.is_file():
        raise UsageError(f"designation file {file} not found", hint="pass a CSV file")
    try:
        d = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001 - any parser failure is the same user problem
        raise DataError(
            f"designation file {file} could not be read ({type(exc).__name__})",
            hint="save it as UTF-8 CSV with a header row",
        ) from None
    from leftbehind.outdir import section_key

    folder = _folder(out, force)
    key = section_key(name or file.stem)
    ctx = _context(data, no_verify)
    t = unit_table(Rule(name="units", unit=unit, count=1), ctx)
    m = match(d, t, unit, str(file))
    counts = m["method"].value_counts().to_dict()
    _write_section(
        folder,
        "designations",
        key,
        {"designation_matches": m},
        {"file": file.name, "unit": unit, "rows": len(m), **counts},
        _record("designations", key, unit=unit, file=file.name),
    )
    con = _console()
    con.print(
        f"{len(m):,} rows of {file.name} against {len(t):,} {unit}: "
        + ", ".join(f"{v} by {k}" for k, v in counts.items())
    )
    for r in m[m["method"].isin(["near", "unmatched"])].itertuples():
        con.print(f"  row {r.row}: {r.review}", markup=False)
    con.print(f"wrote {out}/designations/{key}/matches.csv")


@app.command("serve")
@guarded
def serve(
    out: Annotated[Path, typer.Option("--out", help="The folder of a finished `leftbehind run`.")] = Path("out"),
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, max=64, help="Worker processes (default: min(2, cores)); each holds the run."),
    ] = None,
    data: DataDir = None,
    no_verify: NoVerify = False,
) -> None:
    """Serve the report and a read-only JSON/CSV API over the run and the later commands' outputs (/api/wards,
    /api/lads, /api/regions, /api/units/..., /api/robustness/..., /api/selection, /api/history/...,
    /api/spatial/..., /api/tables, /health; every route in /openapi.json)."""
    from leftbehind.serve import serve as serve_app

    def announce(n: int) -> None:
        _console().print(
            f"serving {out} at http://{host}:{port}/ with {n} worker{'s' if n > 1 else ''} "
            "(API: /api/wards, schema: /openapi.json); Ctrl+C stops"
        )

    serve_app(out, host=host, port=port, workers=workers, data=data, verify=not no_verify, announce=announce)


claimants_app = typer.Typer(
    help="The ONS claimant count (Nomis NM_162_1): fetch months into the cache.", no_args_is_help=True
)
app.add_typer(claimants_app, name="claimants")


@claimants_app.command("fetch")
@guarded
def claimants_fetch(
    month: Annotated[str, typer.Option("--month", help="Month as YYYY-MM, e.g. 2020-05.")],
    base_url: Annotated[str, typer.Option("--base-url", help="Nomis API root.")] = "https://www.nomisweb.co.uk/api/v01",
) -> None:
    """Download the claimant count by LSOA 2011 for a month (paged, cached); `run` then uses it offline."""
    from leftbehind.data.nomis import NomisClient

    client = NomisClient(base_url=base_url)
    with _console().status(f"fetching the claimant count for {month} from Nomis"):
        cc = client.claimant_count(month, "lsoa11")
    _console().print(
        f"{len(cc):,} LSOAs, {int(cc['claimants'].sum()):,} claimants in {month} ({cc.attrs['source']}); "
        f"cached in {client.cache}"
    )


# ---------------------------------------------------------------- run


def _print_run_table(con, fits) -> None:
    from rich.table import Table

    t = Table(title="Indices rebuilt from published components, compared with the published values")
    for c in ("index", "edition", "areas", "score max |diff| (index points)", "rank = published", "checks"):
        t.add_column(c)
    for b in fits:
        f = b.fit.figures
        t.add_row(
            b.spec.name,
            b.spec.edition,
            f"{len(b.built):,} {b.spec.geography}",
            f"{f['score_max_abs_diff']:.6f}" if "score_max_abs_diff" in f else "n/a (no published score)",
            f"{f['rank_exact_share']:.2%} (max {f['rank_max_abs_diff']:g} off)"
            if "rank_exact_share" in f
            else (f"Spearman {f['spearman']:.5f}" if "spearman" in f else ""),
            "[green]pass[/]" if b.fit.passed else "[bold red]FAIL[/]",
        )
    con.print(t)


def _print_results(con, results, out: Path) -> None:
    import re

    from rich.table import Table

    from leftbehind.analysis.leftbehind import GROUP_LABELS
    from leftbehind.editions import research_of

    s = results.summary
    o = results.options
    research = research_of(o.edition)
    bases = {
        "census2011": "Census 2011",
        "mid2015": "ONS mid-2015 estimates",
        "mid2019": "ONS mid-2019 estimates",
        "mid2020": "ONS mid-2020 estimates",
    }
    measures = {
        "pop_mean": "population-weighted mean score",
        "mean": "mean score",
        "avg_rank": "average rank",
        "proportion": "share of LSOAs in the most deprived 10%",
        "extent": "extent",
        "local_concentration": "local concentration",
    }
    routes = {"oa": "Output Areas 2011", "best_fit": "LSOAs 2011 (ONS best fit)"}
    groups = {
        "left_behind": "left behind",
        "other_deprived": "other deprived",
        "rest": "rest of England",
        "no_imd": "no ward IMD",
        "england": "England",
    }
    counted = ("wards", "people", "local authorities", "LSOAs", "areas", "seats", "constituencies", "residents")

    def figure(x: float, unit: str, signed: bool = False) -> str:
        """Counts (and whole numbers) as integers, other figures to one decimal place."""
        if x != x:  # NaN
            return "n/a"
        whole = unit.startswith(counted) or (float(x).is_integer() and "%" not in unit and "point" not in unit)
        text = f"{round(x):,}" if whole else f"{x:,.1f}"
        return ("+" if signed and x > 0 else "") + text

    def words(text: str) -> str:
        return re.sub(r"\((" + "|".join(groups) + r")\)", lambda m: f"({groups[m.group(1)]})", text)

    t = Table(
        title=f"CNI 2019 wards by group: ward IMD {o.imd} as the {measures.get(o.ward_imd, o.ward_imd)} of "
        f"{routes.get(o.lookup, o.lookup)}, {bases.get(o.population, o.population)} weights; top "
        f"{o.threshold:.1%} = rank <= {s.cut_off.cutoff_rank:,}"
    )
    t.add_column("group")
    t.add_column("wards", justify="right")
    t.add_column(f"residents ({bases.get(o.residents, o.residents)})", justify="right")
    for g, v in s.groups.items():
        t.add_row(GROUP_LABELS[g], f"{int(v.wards):,}", f"{int(v.population):,}")
    con.print(t)
    if s.groups["left_behind"].wards == 0:
        con.print(
            f"[bold]no ward is left behind at --threshold {o.threshold:g}[/]: the cut-off rank is "
            f"{s.cut_off.cutoff_rank}; every table is written, with the left-behind group empty"
        )
    if s.diagnostics:
        d = s.diagnostics
        con.print(
            f"against the {research.pairing(o.imd).list.name} ({d.published} wards): matched {d.matched}, missed "
            f"{d.missed}, extra {d.extra}; precision {d.precision:.3f}, recall {d.recall:.3f}, "
            f"F1 {d.f1:.3f} (every difference in {out}/diagnostics.csv)"
        )
    pc = Table(title="Our figures beside the published ones")
    for c in ("check", "ours", "published", "difference", "unit"):
        pc.add_column(c)
    for r in s.published_checks:
        pc.add_row(
            words(r.check),
            figure(r.ours, r.unit),
            figure(r.published, r.unit),
            figure(r.difference, r.unit, signed=True),
            r.unit,
        )
    con.print(pc)
    pol = s.politics
    other = pol.constituencies - pol.red_wall_seats_england
    con.print(
        f"red wall ({pol.red_wall_rule}): {pol.red_wall_seats_uk} seats in the UK, "
        f"{pol.red_wall_seats_england} in England; left-behind wards in them: "
        f"{pol.lbn_wards_in_red_wall_seats} ({pol.lbn_residents_in_red_wall_seats:,} residents) vs "
        f"{pol.lbn_wards_in_other_seats} ({pol.lbn_residents_in_other_seats:,}) in the other {other} "
        "English seats (constituencies.csv, politics/correlations.csv)"
    )
    cur = s.current
    if cur:
        g, tr = cur.groups, cur.transitions
        con.print(
            f"current picture ({cur.edition}; {cur.rule}): {g['left_behind'].lsoas:,} left-behind LSOAs "
            f"({g['left_behind'].population:,} residents, {cur.population_base}), "
            f"{g['other_deprived'].lsoas:,} other deprived; since 2020: {tr.current_lb_lsoas_persistent} "
            f"persistent and {tr.current_lb_lsoas_new} new left-behind LSOAs; of the "
            f"{research.pairing('2019').list.size} published 2020 wards {tr.wards_2020_still} still contain one, "
            f"{tr.wards_2020_no_longer} no longer (lsoa21.csv, current/)"
        )
    cc = s.economy.claimant_count
    if not cc.available:
        con.print(
            f"claimant count {cc.month}: not available offline ({cc.message}); fetch it with "
            f"`{cc.how_to_fetch}`. London-only rates for Oct 2019 and Oct 2020 are in economy/."
        )
    else:
        t = results.tables["economy_claimants"].set_index("group")
        pub = t["published"]
        published = ", ".join(f"{g.replace('_', ' ')} {v:.1f}" for g, v in pub.dropna().items())
        con.print(
            f"claimant count {cc.month} (% of residents 16-64): left behind {t.loc['left_behind', 'estimate']:.1f}, "
            f"other deprived {t.loc['other_deprived', 'estimate']:.1f}, England {t.loc['england', 'estimate']:.1f}"
            + (f" (published: {published})" if published else "")
        )
    con.print("cite: " + "; ".join(s.citations))


def _run_signature(fn):
    """Give ``run`` one keyword parameter per declared run option (leftbehind.options.RUN_OPTIONS)."""
    import enum
    import inspect

    from leftbehind.options import RUN_OPTIONS

    params = list(inspect.signature(fn, eval_str=True).parameters.values())
    params = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    for o in RUN_OPTIONS:
        kw: dict = {"help": o.help}
        default = o.cli_default()
        if o.name == "edition":  # the editions found when the options are checked (LEFTBEHIND_EDITIONS)
            typ = str
            kw["metavar"] = "[" + "|".join(o.choices) + "]"
        elif o.kind == "choice":  # typer offers an Enum's values as the flag's choices
            typ = enum.Enum(o.name, {c: c for c in o.choices}, type=str)
            default = typ(default)
        elif o.kind == "bool":
            typ = bool
        elif o.kind == "float":
            typ = float
        elif o.kind == "int":
            typ = int
        else:
            typ = str
        params.append(
            inspect.Parameter(
                o.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=default,
                annotation=Annotated[typ, typer.Option(o.flag, **kw)],
            )
        )
    fn.__signature__ = inspect.Signature(params)
    return fn


@app.command("run")
@guarded
@_run_signature
def run(
    out: Annotated[Path, typer.Option("--out", help=OUT_HELP + " The run's own files are replaced atomically.")] = Path(
        "out"
    ),
    clean: Annotated[
        bool,
        typer.Option(
            "--clean",
            help="Also remove the folder's later sections (robustness, history, spatial, target, profile ...); by "
            "default they are kept and marked stale if this run differs from the one they were made from.",
        ),
    ] = False,
    force: Force = False,
    exports: Annotated[
        bool,
        typer.Option(
            "--exports",
            help="Also write the maps (PNG), leftbehind.xlsx (one sheet per table) and the GeoJSON layers of "
            "every edition and unit (several seconds more; `leftbehind report` makes them later).",
        ),
    ] = False,
    data: DataDir = None,
    no_verify: NoVerify = False,
    **options,
) -> None:
    """The main job: classify every CNI 2019 ward, compare outcomes, explain the differences from the published
    list, and write DIR (wards, outcomes, diagnostics, breakdowns, summary.json, SQLite)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from leftbehind.api import execute_run
    from leftbehind.options import make_run_options

    opts = make_run_options(**{k: getattr(v, "value", v) for k, v in options.items()})
    _folder(out, force)
    ctx = _context(data, no_verify)
    con = _console()
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=con, transient=True
    ) as bar:
        task = bar.add_task("loading", total=None)
        results, files = execute_run(
            opts,
            ctx,
            out=out,
            force=force,
            clean=clean,
            exports=exports,
            progress=lambda what: bar.update(task, description=what),
        )
    if results.fits:
        _print_run_table(con, results.fits)
    _print_results(con, results, out)
    for sec in results.section_list:
        state = f"stale ({sec.reason})" if sec.stale else "current"
        con.print(f"kept {out}/{sec.path}/ ({sec.command}): {state}")
    if any(sec.stale for sec in results.section_list):
        con.print(
            "the stale sections were made from another run: re-run their commands, or `leftbehind run --clean` "
            "to remove them"
        )
    con.print(
        f"wrote {len(files)} files to {out}/ (report.html, wards.csv, outcomes.csv, diagnostics.csv, breakdowns/, "
        "summary.json, leftbehind.sqlite ...)"
    )
    failed = [b.spec.name for b in results.fits if not b.fit.passed]
    if failed:
        con.print(
            f"[bold red]{len(failed)} index rebuild(s) did not match the published values:[/] {', '.join(failed)}"
        )
        raise typer.Exit(1)


def _unwrap_help(typer_app: typer.Typer) -> None:
    """Docstrings are wrapped at 120 columns in the source; rich keeps their line breaks, which showed as
    ragged lines in ``--help``. Each paragraph becomes one line (rich wraps it to the terminal)."""
    import inspect

    for info in typer_app.registered_commands:
        doc = info.help or inspect.getdoc(info.callback) or ""
        info.help = "\n\n".join(" ".join(p.split()) for p in doc.split("\n\n"))
    for group in typer_app.registered_groups:
        _unwrap_help(group.typer_instance)


_unwrap_help(app)


if __name__ == "__main__":  # pragma: no cover
    app()
