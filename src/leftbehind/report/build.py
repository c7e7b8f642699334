"""Build the report and its companions into a folder.

``report.html`` is made at the end of every ``leftbehind run`` (about a second). The PNG map,
the Excel workbook and ``wards.geojson`` take several seconds more, so they are made by
``leftbehind report`` (or ``leftbehind run --exports``), keeping the main job under its 10 s
budget.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

EXPORTS = ("html", "png", "xlsx", "geojson")
FILES = {"html": "report.html", "png": "map.png", "xlsx": "leftbehind.xlsx", "geojson": "wards.geojson"}


#: inputs of the outcome, breakdown, politics and economy steps (read ahead on a cold cache)
LATE_INPUTS = (
    "imd2019_file8",
    "imd2019_file6",
    "lookup_oa11_lsoa11",
    "jobs_at_risk_msoa11",
    "ruc11_lsoa11",
    "drkane_lsoa_latlong",
    "lookup_wd17_pcon17",
    "ge2017_results",
    "ge2019_results",
    "hanretty_leave_pcon_csv",
    "eu_referendum_results",
    "cjrs_pcon_2021",
    "cjrs_la_august2020",
    "claimant_count_london_lsoa11",
    "pcon19_names",
)


def prefetch_geometry(data=None):
    """Start building (or reading) the ward shapes and their SVG paths in a background thread.

    Shapely and GDAL release the GIL, so on a cold cache this overlaps with the analysis; the
    report then finds both in the cache. Returns the thread (join it before writing)."""
    import threading

    from leftbehind.report.geometry import cached_svg_paths

    def work():
        # any error is raised again, with its message, when the step that needs it runs
        with contextlib.suppress(Exception):
            cached_svg_paths(data)
        from leftbehind.data import load

        for dataset in LATE_INPUTS:  # parse what the later pipeline steps read, while the first ones run
            with contextlib.suppress(Exception):
                load(dataset, data)

    t = threading.Thread(target=work, name="leftbehind-geometry", daemon=True)
    t.start()
    return t


def write_report(results, folder: str | Path, exports=("html",), data=None, atomic: bool = False) -> list[str]:
    """Write the chosen outputs into ``folder``; returns the file names written.

    ``atomic=True`` writes each file through a temporary sibling (for a folder that is not
    itself being swapped in atomically).
    """
    from leftbehind.io import atomic_path
    from leftbehind.report.geometry import ward_shapes

    folder = Path(folder)
    shapes = ward_shapes(data) if set(exports) - {"html"} else None  # the HTML needs only the cached paths
    written = []
    for kind in exports:
        target = folder / FILES[kind]
        if atomic:
            with atomic_path(target) as tmp:
                _write(kind, results, shapes, tmp, data)
        else:
            _write(kind, results, shapes, target, data)
        written.append(FILES[kind])
    return written


def _write(kind: str, results, shapes, path: Path, data=None) -> None:
    if kind == "html":
        from leftbehind.report.geometry import cached_svg_paths
        from leftbehind.report.html import render_report

        paths, viewbox = cached_svg_paths(data)
        path.write_text(render_report(results, paths, viewbox, data), encoding="utf-8")
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
