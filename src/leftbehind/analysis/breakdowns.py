"""Wards and residents in each group, by region, local authority and constituency.

``breakdown(wards, by)`` counts wards and sums residents per group for each area of ``by``
(a column of ``wards``). Constituencies: a ward split between constituencies is counted in
the constituency holding its largest estimated piece, and its residents are shared among
its constituencies by the estimated piece shares (:func:`leftbehind.geography.lookups.piece_shares`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leftbehind.analysis.leftbehind import GROUPS


def _pivot(frame: pd.DataFrame, key: str, name: str, value: str, prefix: str) -> pd.DataFrame:
    t = frame.pivot_table(index=[key, name], columns="group", values=value, aggfunc="sum", fill_value=0, observed=True)
    t = t.reindex(columns=list(GROUPS), fill_value=0)
    t.columns = [f"{prefix}_{g}" for g in t.columns]
    return t


def breakdown(wards: pd.DataFrame, code: str, name: str, unit: str = "wards") -> pd.DataFrame:
    """``area_code, area_name, {unit}_<group>..., {unit}_total, population_<group>..., population_total,
    share_population_left_behind`` for every value of ``code`` (``unit``: what a row of ``wards`` is)."""
    w = wards.assign(one=1, pop=wards["population"].fillna(0.0))
    counts = _pivot(w, code, name, "one", unit)
    pops = _pivot(w, code, name, "pop", "population")
    return _finish(counts, pops, unit)


def _finish(counts: pd.DataFrame, pops: pd.DataFrame, unit: str = "wards") -> pd.DataFrame:
    out = counts.join(pops, how="outer").fillna(0)
    out[f"{unit}_total"] = out[[c for c in out.columns if c.startswith(f"{unit}_")]].sum(axis=1)
    out["population_total"] = out[[f"population_{g}" for g in GROUPS]].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_population_left_behind"] = out["population_left_behind"] / out["population_total"]
    out = out.reset_index()
    out.columns = ["area_code", "area_name", *out.columns[2:]]
    ward_cols = [f"{unit}_{g}" for g in GROUPS] + [f"{unit}_total"]
    out[ward_cols] = out[ward_cols].astype("int64")
    order = [
        "area_code",
        "area_name",
        *ward_cols,
        *(f"population_{g}" for g in GROUPS),
        "population_total",
        "share_population_left_behind",
    ]
    return out[order].sort_values("area_code").reset_index(drop=True)


def constituency_breakdown(wards: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """By constituency: ``shares`` from :func:`piece_shares` (``wd17cd, pcon_cd, pcon_nm, share``)."""
    s = shares.rename(columns={"wd17cd": "ward_code"})
    best = s.sort_values(["ward_code", "share", "pcon_cd"], ascending=[True, False, True]).drop_duplicates("ward_code")
    w = wards[["ward_code", "group", "population"]]
    counts = _pivot(w.merge(best, on="ward_code").assign(one=1), "pcon_cd", "pcon_nm", "one", "wards")
    pieces = w.merge(s, on="ward_code").assign(pop=lambda d: d["population"].fillna(0.0) * d["share"])
    pops = _pivot(pieces, "pcon_cd", "pcon_nm", "pop", "population")
    return _finish(counts, pops)
