"""Other outputs for documents and GIS: a static PNG map, an Excel workbook, wards.geojson."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leftbehind.analysis.leftbehind import GROUP_LABELS, GROUPS
from leftbehind.report.html import COLOURS


def png_map(wards: pd.DataFrame, shapes, path: Path, title: str) -> None:
    """A static map of the wards by group (matplotlib, Agg backend), for documents."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    g = shapes.merge(wards[["ward_code", "group"]], on="ward_code", how="inner")
    fig, ax = plt.subplots(figsize=(8, 9.5), dpi=150)
    for grp in ("rest", "no_imd", "other_deprived", "left_behind"):
        part = g[g["group"] == grp]
        if len(part):
            part.plot(ax=ax, color=COLOURS[grp], edgecolor="white" if grp == "rest" else COLOURS[grp], linewidth=0.05)
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)
    counts = wards["group"].value_counts()
    ax.legend(
        handles=[
            Patch(facecolor=COLOURS[k], edgecolor="#999", label=f"{GROUP_LABELS[k]} ({counts.get(k, 0):,})")
            for k in GROUPS
        ],
        loc="upper left",
        fontsize=8,
        frameon=False,
    )
    fig.text(
        0.01,
        0.01,
        "Community Needs Index (OCSI for Local Trust, not open data); IMD (MHCLG, OGL v3.0); "
        "contains OS data © Crown copyright and database right",
        fontsize=6,
        color="#555",
    )
    fig.savefig(path, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


def excel(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per table of the run, in registry order (xlsxwriter), after a README sheet that
    names each sheet's table, what it holds, and the sources and licences."""
    from leftbehind.report.registry import registry

    reg = {n: t for n, t in registry().items() if n in tables and not t.template}
    readme = pd.DataFrame(
        {
            "sheet": ["", "", "", *(t.sheet for t in reg.values())],
            "about": [
                "leftbehind output: one sheet per table; the same tables as the CSV files and the SQLite database.",
                "Community Needs Index values: OCSI for Local Trust, redistributed publicly, NOT open data: cite them.",
                "Indices of Deprivation, ONS geography and population: Open Government Licence v3.0.",
                *(f"{t.path}: {t.title}. {t.description}" for t in reg.values()),
            ],
        }
    )
    with pd.ExcelWriter(path, engine="xlsxwriter") as xl:
        readme.to_excel(xl, sheet_name="README", index=False)
        for name, spec in reg.items():
            t = tables[name].copy()
            for c in t.columns:
                if str(t[c].dtype) in ("Int64", "boolean") or isinstance(t[c].dtype, pd.StringDtype):
                    t[c] = t[c].astype(object).where(t[c].notna(), None)
            t.to_excel(xl, sheet_name=spec.sheet, index=False)


def geojson(wards: pd.DataFrame, shapes, path: Path) -> None:
    """wards.geojson: WGS84 polygons (coordinates to 5 dp) with the ward table's main columns."""
    import json

    import shapely

    g = shapes.merge(
        wards[
            [
                "ward_code",
                "ward_name",
                "lad_code",
                "lad_name",
                "region_name",
                "group",
                "population",
                "cni_rank",
                "imd_rank",
            ]
        ],
        on="ward_code",
        how="inner",
    ).to_crs(4326)
    g["geometry"] = shapely.set_precision(g.geometry.values, 1e-5)
    g["imd_rank"] = g["imd_rank"].astype("float64")
    data = json.loads(g.to_json(drop_id=True))
    data["name"] = "leftbehind wards (December 2017, CNI 2019)"
    Path(path).write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
