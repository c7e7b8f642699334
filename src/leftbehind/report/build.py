"""Build the report and its companions into a folder.

``report.html`` is made at the end of every ``leftbehind run`` (about a second). The PNG map,
the Excel workbook and ``wards.geojson`` take several seconds more, so they are made by
``leftbehind report`` (or ``leftbehind run --exports``), keeping the main job under its 10 s
budget.

:class:`ReadAhead` builds the ward shapes and parses the inputs the later steps declare, in a
worker thread, while the first steps run (shapely, GDAL and the CSV parser release the GIL). It
is always stopped and joined before the command returns, on success *and* on failure: a worker
still inside native code while the interpreter shuts down aborts the process or hangs it.
"""

from __future__ import annotations

import contextlib
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
        if self._geometry and not self._stop.is_set():
            from leftbehind.report.geometry import cached_svg_paths

            with contextlib.suppress(Exception):
                cached_svg_paths(self._ctx)
        for dataset in self._datasets:
            if self._stop.is_set():
                return
            with contextlib.suppress(Exception):
                self._ctx.read_ahead(dataset)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def write_report(results, folder: str | Path, exports=("html",), *, ctx: RunContext, atomic: bool = False) -> list[str]:
    """Write the chosen outputs into ``folder``; returns the file names written.

    ``atomic=True`` writes each file through a temporary sibling (for a folder that is not
    itself being swapped in atomically).
    """
    from leftbehind.io import atomic_path
    from leftbehind.report.geometry import ward_shapes

    folder = Path(folder)
    shapes = ward_shapes(ctx) if set(exports) - {"html"} else None  # the HTML needs only the cached paths
    written = []
    for kind in exports:
        target = folder / FILES[kind]
        if atomic:
            with atomic_path(target) as tmp:
                _write(kind, results, shapes, tmp, ctx=ctx)
        else:
            _write(kind, results, shapes, target, ctx=ctx)
        written.append(FILES[kind])
    return written


def _write(kind: str, results, shapes, path: Path, *, ctx: RunContext) -> None:
    if kind == "html":
        from leftbehind.report.geometry import cached_svg_paths
        from leftbehind.report.html import render_report

        paths, viewbox = cached_svg_paths(ctx)
        path.write_text(render_report(results, paths, viewbox, ctx=ctx), encoding="utf-8")
    elif kind == "png":
        from leftbehind.report.exports import png_map

        o = results.options
        png_map(
            results.tables["wards"],
            shapes,
            path,
            f"Left-behind neighbourhoods: CNI 2019 x IMD {o.imd} (top {o.threshold:.0%} of both)",
        )
    elif kind == "xlsx":
        from leftbehind.report.exports import excel

        excel(results.tables, path)
    else:
        from leftbehind.report.exports import geojson

        geojson(results.tables["wards"], shapes, path)
