"""Build the report and its companions into a folder.

``report.html`` is made at the end of every ``leftbehind run`` (about a second). The PNG maps,
the Excel workbook and the GeoJSON layers take several seconds more, so they are made by
``leftbehind report`` (or ``leftbehind run --exports``), keeping the main job under its 10 s
budget. ``png`` and ``geojson`` write one map and one layer per edition and unit the run has
(declared in ``report/outputs.yaml``: ``map.png`` and ``wards.geojson``, and with
``--edition 2025`` ``current/map_<unit>.png`` and ``current/<unit>.geojson`` for LSOA 2021, wards
2024 and MSOA 2021). Whenever the folder holds a finished run, ``datapackage.json`` is refreshed
too (rewritten only if what it describes changed), so the tables of later commands join it.

:class:`ReadAhead` parses the inputs the later steps declare, then builds the ward shapes, in a
worker thread while the first steps run (shapely, GDAL and the CSV parser release the GIL); a
dataset whose validated frame is already in the frame cache is left to the step that reads it
(reading Parquet back is quick, and many steps find their own results cached). It is always
stopped and joined before the command returns, on success *and* on failure: a worker still
inside native code while the interpreter shuts down aborts the process or hangs it.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leftbehind.context import RunContext

EXPORTS = ("html", "png", "xlsx", "geojson")
FILES = {"html": "report.html", "png": "map.png", "xlsx": "leftbehind.xlsx", "geojson": "wards.geojson"}


class ReadAhead:
    """Read ahead in a worker thread; stop it with :meth:`close` (waits for the item in hand).

    Errors in the worker are swallowed: the step that needs the data reads it again and raises
    the error, with its message, in the main thread.
    """

    def __init__(self, ctx: RunContext, datasets: tuple[str, ...], geometry: bool = True):
        self._stop = threading.Event()
        self._ctx = ctx
        self._datasets = datasets
        self._geometry = geometry
        self._thread = threading.Thread(target=self._work, name="leftbehind-read-ahead", daemon=True)

    def __enter__(self) -> ReadAhead:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _work(self) -> None:
        for dataset in self._datasets:  # first what the steps wait for, then what only the report needs
            if self._stop.is_set():
                return
            with contextlib.suppress(Exception):
                if not _frame_cached(self._ctx, dataset):  # a cached frame is read on demand in a moment
                    self._ctx.read_ahead(dataset)
        if self._geometry and not self._stop.is_set():
            from leftbehind.report.geometry import cached_svg_paths

            with contextlib.suppress(Exception):
                cached_svg_paths(self._ctx)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _frame_cached(ctx: RunContext, dataset: str) -> bool:
    """Whether the dataset's validated frame is in the on-disk frame cache (its sha256 checked here,
    in the worker). Reading it back when a step needs it takes milliseconds; reading it ahead would
    only take the CPU from the steps, many of which find their results cached anyway. The name is
    the frame cache's own (:func:`leftbehind.data._cached_read`); if that changes, frames are read
    ahead as before."""
    import os

    from leftbehind.data import _spec_digest
    from leftbehind.data.schemas import spec_for
    from leftbehind.data.sources import cache_dir

    if os.environ.get("LEFTBEHIND_NO_FRAME_CACHE") == "1":
        return False
    res = ctx.resolve(dataset, record=False)
    if not res.verified:
        return False
    spec = spec_for(dataset)
    return (cache_dir() / "frames" / f"{spec.dataset}-{res.sha256[:16]}-{_spec_digest(spec)}.parquet").is_file()


def write_report(results, folder: str | Path, exports=("html",), *, ctx: RunContext, atomic: bool = False) -> list[str]:
    """Write the chosen outputs into ``folder``; returns the file names written (relative paths).

    ``atomic=True`` writes each file through a temporary sibling (for a folder that is not
    itself being swapped in atomically).
    """
    from leftbehind.io import atomic_path

    folder = Path(folder)
    shapes = _Shapes(ctx)  # built on first use: the HTML needs only the cached SVG paths
    written = []
    for kind in exports:
        for rel, job in _jobs(kind, results):
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if atomic:
                with atomic_path(target) as tmp:
                    job(tmp, shapes)
            else:
                job(target, shapes)
            written.append(rel)
    if (folder / "summary.json").is_file() and (folder / "wards.csv").is_file():
        from leftbehind.report.datapackage import NAME, write_datapackage

        if write_datapackage(folder, _summary_dict(results), atomic=atomic):
            written.append(NAME)
    return written


class _Shapes:
    """The polygons of each unit, made once per report on first use."""

    def __init__(self, ctx: RunContext):
        self.ctx = ctx
        self._units: dict = {}

    def __getitem__(self, unit: str):
        if unit not in self._units:
            from leftbehind.report.exports import unit_shapes

            self._units[unit] = unit_shapes(self.ctx, unit)
        return self._units[unit]


def _summary_dict(results) -> dict | None:
    """The summary as summary.json holds it (None: read the folder's own file)."""
    import json

    from leftbehind.report.tables import summary_json

    return None if results.summary is None else json.loads(summary_json(results.summary))


def _jobs(kind: str, results) -> list[tuple[str, object]]:
    """(relative path, writer(path, shapes)) for every file an export kind makes for these results."""
    from leftbehind.report.registry import files, registry

    if kind == "html":
        return [(FILES["html"], lambda path, shapes: _html(results, path, shapes.ctx))]
    if kind == "xlsx":
        return [(FILES["xlsx"], lambda path, shapes: _xlsx(results, path))]
    reg = registry()
    out = []
    for f in files().values():
        spec = f.layer if kind == "geojson" else f.map if kind == "png" else None
        if spec is None or spec["table"] not in results.tables:
            continue
        t = reg[spec["table"]]
        if kind == "geojson":
            out.append((f.path, functools.partial(_layer, results, t, f)))
        else:
            out.append((f.path, functools.partial(_map, results, t, spec["unit"])))
    return out


def _html(results, path: Path, ctx: RunContext) -> None:
    from leftbehind.report.geometry import cached_svg_paths
    from leftbehind.report.html import render_report

    paths, viewbox = cached_svg_paths(ctx)
    path.write_text(render_report(results, paths, viewbox, ctx=ctx), encoding="utf-8")


def _xlsx(results, path: Path) -> None:
    from leftbehind.report.exports import excel

    excel(workbook_tables(results), path)


def workbook_tables(results) -> dict:
    """Every table of the results, and each rebuilt index as ``index:<name>`` (from the run's
    fits, or read back from the folder the results came from)."""
    tables = dict(results.tables)
    if results.fits:
        tables.update({f"index:{b.spec.name}": b.built for b in results.fits})
    elif getattr(results, "folder", None) is not None:
        from leftbehind.report.tables import read_index_tables

        tables.update({f"index:{k}": v for k, v in read_index_tables(results.folder).items()})
    return tables


def _edition_label(results, unit: str) -> str:
    from leftbehind.editions import current_for, research_of

    if unit == "wards17":
        ed = research_of(results.options.edition)
        return f"{ed.id} edition: {ed.cni.edition} x IMD {results.options.imd}"
    ed = current_for(results.options.edition)
    return f"{ed.id} edition: {ed.cni.edition} x {ed.imd.edition}"


def _edition_title(results, unit: str) -> str:
    """A map's title: the edition and the unit."""
    from leftbehind.report.exports import UNIT_TITLES

    return (
        f"Left-behind neighbourhoods, {_edition_label(results, unit)}\n"
        f"{UNIT_TITLES[unit]}, top {results.options.threshold:.0%} of both indices"
    )


def _map(results, t, unit: str, path: Path, shapes) -> None:
    from leftbehind.report.exports import png_map

    png_map(results.tables[t.name], shapes[unit], path, _edition_title(results, unit), key=t.key[0])


def _layer(results, t, f, path: Path, shapes) -> None:
    from leftbehind.report.exports import UNIT_TITLES, geojson_layer

    unit = f.layer["unit"]
    name = f"leftbehind {UNIT_TITLES[unit]}, {_edition_label(results, unit)}"
    geojson_layer(results.tables[t.name], t, f.layer["columns"], shapes[unit], path, name)
