"""The map of ``leftbehind spatial``: left-behind areas, significant local joins, 'surrounded' areas.

Wards (2017, 2024) are drawn as the small-area polygons they are built from, each coloured by its
ward (no dissolve needed: borders are not drawn). The PNG is written to spatial/map.png and
embedded in the report.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from leftbehind.context import RunContext

COLOURS = {
    "lb_sig": ("#7f0000", "left behind, significant local join (p_fdr < 0.05)"),
    "lb": ("#f08a4b", "left behind, not significant"),
    "surrounded": ("#2b6cb0", "surrounded (not left behind; most neighbours are)"),
    "od": ("#f6e3b4", "other deprived"),
    "rest": ("#e4e4e4", "other areas"),
}


def categories(local: pd.DataFrame) -> pd.Series:
    lb = local["group"] == "left_behind"
    cat = np.select(
        [
            lb & local["significant"].astype(bool),
            lb,
            local["surrounded"].astype(bool),
            local["group"] == "other_deprived",
        ],
        ["lb_sig", "lb", "surrounded", "od"],
        default="rest",
    )
    return pd.Series(cat, index=local["area_code"].to_numpy())


def _polygons(ctx: RunContext, unit: str, lookup: str):
    """GeoDataFrame of polygons with an ``area_code`` column (the unit's code)."""
    from leftbehind.analysis.spatial.weights import read_polygons

    if unit in ("lsoa21", "msoa21"):
        g = read_polygons(ctx, f"boundaries_{unit}", f"{unit}_code")
        return g.rename(columns={f"{unit}_code": "area_code"})
    if unit == "wards24":
        g = read_polygons(ctx, "boundaries_lsoa21", "lsoa21_code")
        lk = ctx.load("lookup_lsoa21_wd24")[["lsoa21cd", "wd24cd"]]
        g = g.merge(lk, left_on="lsoa21_code", right_on="lsoa21cd")
        return g.rename(columns={"wd24cd": "area_code"})
    g = read_polygons(ctx, "boundaries_lsoa11", "lsoa11_code")
    if lookup == "oa":
        from leftbehind.geography.wards import lsoa_ward_shares

        sh = lsoa_ward_shares("oa", ctx=ctx).sort_values(["lsoa11cd", "share"], ascending=[True, False])
        lk = sh.drop_duplicates("lsoa11cd")[["lsoa11cd", "wd17cd"]]
    else:
        lk = ctx.load("lookup_lsoa11_wd17")[["lsoa11cd", "wd17cd"]]
    g = g.merge(lk, left_on="lsoa11_code", right_on="lsoa11cd")
    return g.rename(columns={"wd17cd": "area_code"})


def cluster_map(ctx: RunContext, unit: str, local: pd.DataFrame, *, title: str, lookup: str = "oa") -> bytes:
    """PNG bytes of the map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    g = _polygons(ctx, unit, lookup).to_crs("EPSG:27700")
    cat = categories(local)
    g["cat"] = cat.reindex(g["area_code"]).fillna("rest").to_numpy()
    fig, ax = plt.subplots(figsize=(7.5, 9.0), dpi=110)
    for key in ("rest", "od", "surrounded", "lb", "lb_sig"):
        part = g[g["cat"] == key]
        if len(part):
            part.plot(ax=ax, color=COLOURS[key][0], linewidth=0)
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)
    counts = cat.value_counts()
    handles = [
        Patch(color=COLOURS[k][0], label=f"{COLOURS[k][1]} ({int(counts.get(k, 0)):,})")
        for k in ("lb_sig", "lb", "surrounded", "od")
    ]
    ax.legend(handles=handles, loc="upper left", fontsize=7.5, frameon=False)
    fig.text(
        0.01,
        0.01,
        "Community Needs Index, OCSI for Local Trust; IMD (MHCLG, OGL); boundaries ONS (OGL)",
        fontsize=7,
        color="#555",
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
