"""Which ward-IMD construction reproduces the published left-behind list best?

:func:`search` scores every combination the data allow — small-area route (Output Areas or
ONS LSOA best fit), population base, summary measure, and the cut-off on each index — by
matched / missed / extra wards against the published list and F1. ``leftbehind ward-imd-search``
prints and writes the table; docs/ward-imd.md reports it.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pandas as pd

from leftbehind.analysis.leftbehind import classify
from leftbehind.geography.wards import WARD_MEASURES, ward_imd

if TYPE_CHECKING:
    from leftbehind.context import RunContext

POPULATIONS = ("census2011", "mid2015", "mid2019", "mid2020")
ROUTES = ("oa", "best_fit")
CUTOFFS = (742, 743, 744)


def search(
    ctx: RunContext, imd: str = "2019", cutoffs=CUTOFFS, routes=ROUTES, populations=POPULATIONS, measures=None
) -> pd.DataFrame:
    """One row per construction: route, population, measure, k_cni, k_imd, matched, missed, extra,
    precision, recall, f1, left_behind; sorted best first (F1, then fewer extra wards)."""

    cni = ctx.load("cni2019_wards").set_index("wd17cd")
    pub = cni["left_behind_2020"]
    rows = []
    for route, pop in itertools.product(routes, populations):
        for measure in measures or WARD_MEASURES:
            if measure == "mean" and pop != populations[0]:
                continue  # an unweighted mean does not depend on the population base
            w = ward_imd(f"imd{imd}", pop, ctx=ctx, route=route, measure=measure).set_index("ward_code")
            base = pd.DataFrame(
                {
                    "ward_code": cni.index,
                    "cni_rank": cni["cni_rank"].to_numpy(),
                    "imd_rank": w.loc[cni.index, "imd_rank"].to_numpy(dtype="float64"),
                }
            )
            for k_cni, k_imd in itertools.product(cutoffs, cutoffs):
                c = classify(base, 0.10, n=7_433, k_cni=k_cni, k_imd=k_imd)
                ours = (c["group"] == "left_behind").to_numpy()
                p = pub.reindex(c["ward_code"]).to_numpy()
                tp, fp, fn = int((ours & p).sum()), int((ours & ~p).sum()), int((~ours & p).sum())
                rows.append(
                    {
                        "route": route,
                        "population": "none (unweighted)" if measure == "mean" else pop,
                        "measure": measure,
                        "k_cni": k_cni,
                        "k_imd": k_imd,
                        "matched": tp,
                        "missed": fn,
                        "extra": fp,
                        "precision": tp / (tp + fp) if tp + fp else 0.0,
                        "recall": tp / (tp + fn) if tp + fn else 0.0,
                        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
                        "left_behind": int(ours.sum()),
                    }
                )
    out = pd.DataFrame(rows)
    return out.sort_values(
        ["f1", "extra", "route", "population", "measure", "k_cni", "k_imd"],
        ascending=[False, True, True, True, True, True, True],
    ).reset_index(drop=True)
