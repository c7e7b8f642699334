"""The 'left behind' classification and its diagnostics against the published list.

**Cut-off rule.** With N CNI wards (7,433) and a threshold t (0.10), a ward is in the top
t of an index when its rank is at most k = floor(t·N) (743): rank 1 = most deprived / highest
need, and wards with equal values share the lower rank, so a tie at the line is kept whole.
The same k applies to the CNI rank (as published) and to the ward-IMD rank (among the wards
that have one).

**Groups.** ``left_behind``: in the top t of both; ``other_deprived``: in the top t of the
ward IMD but not of the CNI (the comparison group of the research); ``rest``: every other
ward with an IMD; ``no_imd``: wards the small-area route gives no IMD.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

GROUPS = ("left_behind", "other_deprived", "rest", "no_imd")
GROUP_LABELS = {
    "left_behind": "Left-behind neighbourhoods",
    "other_deprived": "Other deprived areas",
    "rest": "Rest of England",
    "no_imd": "No ward IMD",
}


def cutoff(n: int, threshold: float) -> int:
    """floor(threshold·n): the number of places in the top ``threshold`` of ``n`` wards."""
    if not 0 < threshold < 1:
        from leftbehind.errors import UsageError

        raise UsageError(f"--threshold must be between 0 and 1, got {threshold}", hint="e.g. --threshold 0.10")
    return int(math.floor(threshold * n + 1e-9))


def classify(
    wards: pd.DataFrame,
    threshold: float = 0.10,
    n: int | None = None,
    *,
    k_cni: int | None = None,
    k_imd: int | None = None,
) -> pd.DataFrame:
    """Add ``cni_top, imd_top, group`` to a table with ``cni_rank`` and ``imd_rank`` (NaN = no IMD).

    The cut-off is floor(threshold·n) on both ranks unless ``k_cni`` / ``k_imd`` set one explicitly
    (used by the construction search).
    """
    n = len(wards) if n is None else n
    k = cutoff(n, threshold)
    k_cni = k if k_cni is None else int(k_cni)
    k_imd = k if k_imd is None else int(k_imd)
    cni_top = wards["cni_rank"].to_numpy(dtype="float64") <= k_cni
    imd = wards["imd_rank"].to_numpy(dtype="float64")
    has_imd = ~np.isnan(imd)
    imd_top = has_imd & (np.nan_to_num(imd, nan=np.inf) <= k_imd)
    group = np.select(
        [~has_imd, cni_top & imd_top, imd_top], ["no_imd", "left_behind", "other_deprived"], default="rest"
    )
    out = wards.copy()
    out["cni_top"] = cni_top
    out["imd_top"] = imd_top
    out["group"] = group
    out.attrs.update(wards.attrs, cutoff=k_imd, cutoff_cni=k_cni, threshold=threshold, n_wards=n)
    return out


def diagnostics(classified: pd.DataFrame, published: pd.Series) -> tuple[pd.DataFrame, dict[str, float]]:
    """Compare the left-behind group with a published list (``published``: bool by ward code).

    Returns (one row per matched, missed or extra ward, metrics). Rows carry the CNI and
    ward-IMD ranks, the cut-off, the margin to each cut-off (cut-off − rank: ≥ 0 inside) and a
    plain-language reason for every difference.
    """
    k = int(classified.attrs["cutoff"])
    c = classified.set_index("ward_code")
    pub = published.reindex(c.index).fillna(False).astype(bool)
    ours = c["group"] == "left_behind"
    status = np.select([ours & pub, pub & ~ours, ours & ~pub], ["matched", "missed", "extra"], default="")
    d = c.assign(status=status)[status != ""].copy()
    d["cutoff"] = k
    d["cni_margin"] = k - d["cni_rank"]
    d["imd_margin"] = k - d["imd_rank"].astype("float64")
    reasons = []
    for st, cm, im in zip(d["status"], d["cni_margin"], d["imd_margin"], strict=True):
        if st == "matched":
            reasons.append("")
        elif st == "missed":
            if np.isnan(im):
                reasons.append("published as left behind; this ward has no ward IMD on this route")
            elif im < 0:
                reasons.append(f"published as left behind; our ward-IMD rank is {int(-im)} places outside the top {k}")
            else:
                reasons.append(f"published as left behind; our CNI rank is {int(-cm)} places outside the top {k}")
        else:
            reasons.append(
                f"not in the published list, though inside both cut-offs here (CNI margin {int(cm)}, ward-IMD "
                f"margin {int(im)}): a construction difference, or the published list used other ranks"
            )
    d["reason"] = reasons
    tp = int((d["status"] == "matched").sum())
    fp = int((d["status"] == "extra").sum())
    fn = int((d["status"] == "missed").sum())
    metrics = {
        "published": int(pub.sum()),
        "ours": int(ours.sum()),
        "matched": tp,
        "missed": fn,
        "extra": fp,
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
    }
    order = {"missed": 0, "extra": 1, "matched": 2}
    d = d.reset_index().sort_values(["status", "ward_code"], key=lambda s: s.map(order) if s.name == "status" else s)
    cols = [
        "ward_code",
        "ward_name",
        "lad_name",
        "region_name",
        "status",
        "cni_rank",
        "imd_rank",
        "cutoff",
        "cni_margin",
        "imd_margin",
        "imd_score",
        "reason",
    ]
    return d[[c for c in cols if c in d.columns]].reset_index(drop=True), metrics
