"""How sure is each left-behind area? The uncertainty ensemble, its sensitivity analysis and its tables.

* :mod:`.spec` — the ensemble spec (``default.yaml``): sources of uncertainty, ranges, reasons;
* :mod:`.inputs` — the areas, CNI domains and IMD variants of a run (wards 2017, LSOA 2021);
* :mod:`.ensemble` — the vectorised replications and :class:`~.ensemble.EnsembleResult`;
* :mod:`.sensitivity` — Sobol indices (SALib) and one-at-a-time runs.

The functions here turn a result into the output tables (declared in ``report/outputs.yaml``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leftbehind.analysis.robustness.ensemble import EnsembleResult, band


def areas_table(res: EnsembleResult) -> pd.DataFrame:
    """One row per area: nominal group, P(left behind), P(other deprived), band, rank quantiles."""
    i = res.inputs
    return pd.DataFrame(
        {
            "area_code": i.codes,
            "area_name": i.names,
            "lad_code": i.lad_codes,
            "lad_name": i.lad_names,
            "region_name": i.regions,
            "population": i.population,
            "nominal_group": i.nominal_group,
            "p_left_behind": res.p_left_behind,
            "p_other_deprived": res.p_other_deprived,
            "band": band(res.p_left_behind),
            "cni_rank_q05": res.cni_rank_q05,
            "cni_rank_q95": res.cni_rank_q95,
            "imd_rank_q05": res.imd_rank_q05,
            "imd_rank_q95": res.imd_rank_q95,
        }
    )


def _summ(x: np.ndarray) -> tuple[float, float, float]:
    return float(np.mean(x)), float(np.quantile(x, 0.05)), float(np.quantile(x, 0.95))


def counts_table(res: EnsembleResult) -> pd.DataFrame:
    """Probability-weighted counts of areas and residents (England, regions, local authorities)
    with 90% intervals, beside the nominal counts; the list size and its Jaccard with the nominal list."""
    i = res.inputs
    nominal = i.nominal_group == "left_behind"
    pop = np.nan_to_num(i.population)
    rows = []

    def add(level, code, name, measure, nom, draws):
        m, lo, hi = _summ(draws)
        rows.append(
            {
                "level": level,
                "area_code": code,
                "area_name": name,
                "measure": measure,
                "nominal": float(nom),
                "expected": m,
                "q05": lo,
                "q95": hi,
            }
        )

    add("england", "E92000001", "England", "areas", nominal.sum(), res.list_size.astype("float64"))
    add("england", "E92000001", "England", "residents", pop[nominal].sum(), res.region_residents.sum(axis=1))
    add("england", "E92000001", "England", "jaccard_with_nominal", 1.0, res.jaccard)
    for j, r in enumerate(res.regions):
        m = i.regions == r
        add("region", "", r, "areas", (nominal & m).sum(), res.region_areas[:, j])
        add("region", "", r, "residents", pop[nominal & m].sum(), res.region_residents[:, j])
    for j, (code, name) in enumerate(zip(res.lads, res.lad_names, strict=True)):
        m = i.lad_codes == code
        add("lad", code, name, "areas", (nominal & m).sum(), res.lad_areas[:, j])
        add("lad", code, name, "residents", pop[nominal & m].sum(), res.lad_residents[:, j])
    return pd.DataFrame(rows)


def list_size_table(res: EnsembleResult) -> pd.DataFrame:
    """The distribution of the list size: replications and share for each size."""
    sizes, n = np.unique(res.list_size, return_counts=True)
    return pd.DataFrame({"list_size": sizes, "replications": n, "share": n / res.replications})


def gap_table(res: EnsembleResult, outcome: pd.DataFrame, pooled_keys) -> pd.DataFrame:
    """For every outcome comparison: the nominal left-behind minus other-deprived gap with its
    bootstrap interval, its 5%-95% range across the ensemble, and the share of replications in
    which it keeps its sign."""
    d = outcome[outcome["group"] == "left_behind_minus_other_deprived"].set_index("indicator")
    rows = []
    for j, name in enumerate(res.gap_names):
        if name not in d.index:
            continue
        r = d.loc[name]
        g = res.gap[:, j] * (100.0 if name in pooled_keys else 1.0)
        g = g[np.isfinite(g)]
        nominal = float(r["estimate"])
        rows.append(
            {
                "indicator": name,
                "label": r["label"],
                "unit": r["unit"],
                "nominal_gap": nominal,
                "ci_low": float(r["ci_low"]),
                "ci_high": float(r["ci_high"]),
                "ensemble_q05": float(np.quantile(g, 0.05)) if len(g) else np.nan,
                "ensemble_q95": float(np.quantile(g, 0.95)) if len(g) else np.nan,
                "share_same_sign": float(np.mean(np.sign(g) == np.sign(nominal))) if len(g) else np.nan,
                "replications": len(g),
            }
        )
    return pd.DataFrame(rows)
