"""``leftbehind spatial``: do left-behind neighbourhoods cluster in space?

For the chosen edition and unit: the areas and their CNI x IMD groups (built exactly as ``run``
builds them), queen contiguity weights (:mod:`.weights`), global and local join counts, the
bivariate co-location count, Moran's I of the two scores, clusters of contiguous left-behind
areas, 'surrounded' areas and a map.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from leftbehind.context import RunContext

UNIT_TITLES = {
    "ward17": "wards 2017",
    "lsoa21": "LSOAs 2021",
    "wards24": "wards 2024",
    "msoa21": "MSOAs 2021",
}


def spatial_units(edition_id: str) -> tuple[str, ...]:
    """The units the spatial statistics can be computed for in an edition, its own unit first (from
    the edition's declared units; a current edition's ``custom`` areas have no fixed polygons)."""
    from leftbehind.editions import edition
    from leftbehind.geography.units import same

    ed = edition(edition_id)
    declared = [ed.unit.id, *(u for u in ed.units if u != ed.unit.id)]
    return tuple(k for d in declared for k in UNIT_TITLES if same(k, d))


@dataclass
class SpatialResult:
    """Tables by registry name, the summary (written as spatial/summary.json) and the map (PNG bytes)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    map_png: bytes = b""


def unit_areas(ctx: RunContext, edition: str, unit: str, opts=None) -> pd.DataFrame:
    """``area_code, area_name, lad_name, region_name, population, group, cni_score, imd_score`` of the
    classified areas of (edition, unit, run options) (:func:`leftbehind.analysis.areas.areas_frame`)."""
    from leftbehind.analysis.areas import areas_frame

    cols = ["area_code", "area_name", "lad_name", "region_name", "population", "group", "cni_score", "imd_score"]
    return areas_frame(ctx, edition, unit, opts)[cols]


def _plain(stat, unit_title: str, what: str) -> str:
    more = stat.value > stat.expected
    if stat.p < 0.05:
        verdict = "more clustered than chance" if more else "less clustered than chance"
        return (
            f"{what} {unit_title} are {verdict}: z = {stat.z:.1f}, p = {stat.p:.3f} ({stat.permutations} permutations)"
        )
    return (
        f"{what} {unit_title} are not more clustered than chance: z = {stat.z:.1f}, p = {stat.p:.3f} "
        f"({stat.permutations} permutations)"
    )


def spatial(
    ctx: RunContext,
    *,
    edition: str | None = None,
    unit: str = "ward17",
    permutations: int = 999,
    seed: int = 12345,
    surrounded_share: float = 0.85,
    lookup: str = "oa",
    progress: Callable[[str], None] | None = None,
    draw_map: bool = True,
    opts=None,
) -> SpatialResult:
    """Spatial statistics of the classified areas of (edition, unit, run options ``opts``; default: the
    run's defaults with ``lookup``)."""
    from leftbehind.analysis.spatial import stats
    from leftbehind.analysis.spatial.weights import unit_contiguity
    from leftbehind.editions import is_current

    def say(what):
        if progress is not None:
            progress(what)

    t0 = time.perf_counter()
    if opts is None:
        from leftbehind.options import make_run_options

        opts = make_run_options(lookup=lookup, skip_indices=True, ensemble=0)
    lookup = opts.lookup
    edition = edition or opts.edition
    title = UNIT_TITLES[unit]
    say(f"areas and groups ({title})")
    areas = unit_areas(ctx, edition, unit, opts)
    say(f"contiguity weights ({title})")
    con = unit_contiguity(ctx, unit, areas["area_code"].to_numpy(), lookup=lookup)
    W = con.W
    y = (areas["group"] == "left_behind").to_numpy().astype("int64")
    od = (areas["group"] == "other_deprived").to_numpy().astype("int64")
    say(f"global statistics ({permutations} permutations)")
    g_lb = stats.global_join_counts(W, y, permutations=permutations, seed=seed)
    g_od = stats.global_join_counts(W, od, permutations=permutations, seed=seed + 1)
    g_bv = stats.bivariate_join_counts(W, y, od, permutations=permutations, seed=seed + 2)
    g_cd = _renamed(
        stats.conditional_join_counts(W, y, y + od, permutations=permutations, seed=seed + 6),
        "join_count_left_behind_among_deprived",
    )
    m_cni = stats.morans_i(
        W,
        areas["cni_score"].to_numpy(dtype="float64"),
        permutations=permutations,
        seed=seed + 3,
        name="morans_i_cni_score",
    )
    m_imd = stats.morans_i(
        W,
        areas["imd_score"].to_numpy(dtype="float64"),
        permutations=permutations,
        seed=seed + 4,
        name="morans_i_imd_score",
    )
    g_lb = _renamed(g_lb, "join_count_left_behind")
    g_od = _renamed(g_od, "join_count_other_deprived")
    glob = pd.DataFrame(
        [
            {
                "statistic": s.statistic,
                "value": float(s.value),
                "expected": float(s.expected),
                "z": float(s.z),
                "p": float(s.p),
                "permutations": int(s.permutations),
                "note": s.note,
            }
            for s in (g_lb, g_od, g_cd, g_bv, m_cni, m_imd)
        ]
    )
    say(f"local join counts ({permutations} permutations)")
    loc = stats.local_join_counts(W, y, permutations=permutations, seed=seed + 5)
    comp = stats.components(W, y)
    sur = stats.surrounded(W, y, share=surrounded_share)
    deg = np.asarray(W.sum(axis=1)).ravel().astype("int64")
    nopoly = set(con.no_polygon)
    note = np.where(
        areas["area_code"].isin(nopoly),
        "no polygon: no small area is assigned to it",
        np.where(deg == 0, "island: no neighbour", ""),
    )
    local = pd.DataFrame(
        {
            "area_code": areas["area_code"],
            "area_name": areas["area_name"],
            "lad_name": areas["lad_name"],
            "region_name": areas["region_name"],
            "population": areas["population"].to_numpy(dtype="float64"),
            "group": areas["group"],
            "n_neighbours": deg,
            "ljc": np.asarray(loc.ljc).astype("int64"),
            "p": loc.p,
            "p_fdr": loc.p_fdr,
            "significant": np.nan_to_num(loc.p_fdr, nan=1.0) < 0.05,
            "cluster_id": comp.astype("int64"),
            "surrounded": sur,
            "note": note,
        }
    )
    clusters = cluster_table(local)
    n_clusters = int(local.loc[local["cluster_id"] > 0, "cluster_id"].nunique())
    singles = n_clusters - len(clusters)
    isl = local.loc[local["n_neighbours"] == 0, "area_code"].tolist()
    notes = []
    if isl:
        notes.append(
            f"{len(isl)} of the {title} {'has' if len(isl) == 1 else 'have'} no neighbour (islands: kept, with a "
            "note and no local p): "
            + ", ".join(
                f"{r.area_code} {r.area_name} ({r.note.split(':')[0]})"
                for r in local[local["n_neighbours"] == 0].head(12).itertuples()
            )
        )
    lb = local[local["group"] == "left_behind"]
    statements = [
        _plain(g_lb, title, "Left-behind"),
        _plain(g_od, title, "Other deprived"),
        (
            f"Among the deprived {title} (the IMD top 10%), left-behind ones are "
            + (
                "more clustered than a random choice of the same number"
                if g_cd.p < 0.05
                else "no more clustered than a random choice of the same number"
            )
            + f": z = {g_cd.z:.1f}, p = {g_cd.p:.3f} (labels permuted among the deprived areas only)."
        ),
        f"Left-behind {title} border other-deprived ones {g_bv.value:,.0f} times against {g_bv.expected:,.0f} expected "
        f"by chance (z = {g_bv.z:.1f}, p = {g_bv.p:.3f}).",
        f"Moran's I of the CNI score {m_cni.value:.3f} (z = {m_cni.z:.1f}, p = {m_cni.p:.3f}); of the IMD score "
        f"{m_imd.value:.3f} (z = {m_imd.z:.1f}, p = {m_imd.p:.3f}).",
        f"{len(lb):,} left-behind {title} form {len(clusters):,} clusters of two or more contiguous areas and "
        f"{singles:,} single areas; {int(lb['significant'].sum()):,} have a significant local join count "
        f"(Benjamini-Hochberg p_fdr < 0.05); {int(local['surrounded'].sum()):,} other "
        f"{'area is' if int(local['surrounded'].sum()) == 1 else 'areas are'} 'surrounded' (not left behind, at least "
        f"{surrounded_share:.0%} of neighbours left behind).",
    ]
    if len(clusters):
        c = clusters.iloc[0]
        statements.append(
            f"The largest cluster: {int(c['areas'])} areas, {c['population']:,.0f} residents ({c['lads']})."
        )
    res = SpatialResult()
    res.tables = {"spatial_global": glob, "spatial_local": local, "spatial_clusters": clusters}
    res.summary = {
        "edition": edition,
        "unit": unit,
        "unit_title": title,
        "areas": len(local),
        "left_behind": int(y.sum()),
        "other_deprived": int(od.sum()),
        "weights": con.source,
        "mean_neighbours": round(float(deg.mean()), 2),
        "islands": isl,
        "no_polygon": list(con.no_polygon),
        "permutations": permutations,
        "seed": seed,
        "surrounded_share": surrounded_share,
        "lookup": None if is_current(edition) else lookup,
        "threshold": opts.threshold,
        "clusters": {"multi_area": len(clusters), "single_areas": singles},
        "statements": statements,
        "notes": notes,
        "citations": [
            "Community Needs Index, OCSI for Local Trust (not open data)",
            "English Indices of Deprivation (MHCLG), Open Government Licence v3.0",
            "Boundaries: Office for National Statistics, Open Government Licence v3.0",
        ],
    }
    if draw_map:
        say("drawing the map")
        from leftbehind.analysis.spatial.maps import cluster_map

        res.map_png = cluster_map(
            ctx, unit, local, title=f"Left-behind {title}: clusters and significant local joins", lookup=lookup
        )
    res.summary["seconds_total"] = round(time.perf_counter() - t0, 2)
    return res


def _renamed(stat, name: str):
    import dataclasses

    return dataclasses.replace(stat, statistic=name)


def cluster_table(local: pd.DataFrame) -> pd.DataFrame:
    """Clusters of two or more contiguous left-behind areas, largest first."""
    t = local[local["cluster_id"] > 0]
    size = t.groupby("cluster_id")["area_code"].transform("size")
    t = t[size >= 2]
    cols = ["cluster_id", "areas", "population", "significant_areas", "lads", "regions", "areas_named"]
    if t.empty:
        return pd.DataFrame(
            {
                c: pd.Series(
                    dtype="int64"
                    if c in ("cluster_id", "areas", "significant_areas")
                    else "float64"
                    if c == "population"
                    else object
                )
                for c in cols
            }
        )

    def counted(s: pd.Series) -> str:
        v = s.value_counts()
        return "; ".join(f"{k} ({n})" for k, n in v.items())

    g = t.groupby("cluster_id", sort=True)
    out = pd.DataFrame(
        {
            "cluster_id": g.size().index.to_numpy(dtype="int64"),
            "areas": g.size().to_numpy(dtype="int64"),
            "population": g["population"].sum().to_numpy(dtype="float64"),
            "significant_areas": g["significant"].sum().to_numpy(dtype="int64"),
            "lads": g["lad_name"].agg(counted).to_numpy(),
            "regions": g["region_name"].agg(lambda s: "; ".join(sorted(set(s)))).to_numpy(),
            "areas_named": g["area_name"].agg(lambda s: "; ".join(map(str, list(s)[:10]))).to_numpy(),
        }
    )
    return out.sort_values(["areas", "population", "cluster_id"], ascending=[False, False, True]).reset_index(drop=True)
