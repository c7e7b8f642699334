"""Summary measures of a small-area index for larger areas (IoD technical report, Appendix N).

:func:`aggregate` takes the **national** small-area table (one row per LSOA: code, score,
national rank, population) and a mapping from small areas to larger areas, and returns one
row per larger area with

``average_score``
    population-weighted mean of the LSOA scores;
``average_rank``
    population-weighted mean of the LSOA ranks, with LSOAs ranked so that the most deprived
    has the highest number (n + 1 − rank), as the IoD does;
``extent``
    share of the population living in the nationally most deprived 30% of LSOAs, on a
    sliding scale: national percentile p = ceil(100·rank/n); weight 1 for p ≤ 10, then
    0.95 at p = 11 falling by 0.9/19 per percentile to 0.05 at p = 30, and 0 beyond;
``local_concentration``
    population-weighted mean of the (reversed) ranks of the area's most deprived LSOAs that
    together hold exactly 10% of its population, the last LSOA counted in part;
``proportion``
    share of the area's LSOAs in the national most deprived decile (no population needed);
``scale``
    the sum of a count column (e.g. income-deprived people), when one is given.

Each measure is then ranked among the larger areas (1 = most deprived; areas with equal
values share the lower rank) and given a decile. Percentiles and deciles are national: they
come from the national ranks in the input, so restricting the output to some areas (``areas=``)
leaves every area's values unchanged. Everything is vectorised (numpy bincount / lexsort);
there is no loop over areas.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from leftbehind.errors import LeftbehindError
from leftbehind.indices.transforms import deciles, rank_areas

MEASURES = ("average_score", "average_rank", "extent", "local_concentration", "proportion")
OUTPUT_COLUMNS = (
    "area_code",
    "area_name",
    "population",
    *MEASURES,
    *(f"rank_{m}" for m in MEASURES),
)


class AggregationError(LeftbehindError):
    """The small-area table and the mapping do not fit together."""


def extent_weight(percentile) -> np.ndarray:
    """The IoD extent weight of a national percentile (1 = most deprived percentile)."""
    p = np.asarray(percentile, dtype="float64")
    slide = 0.95 - (p - 11.0) * (0.9 / 19.0)
    return np.where(p <= 10, 1.0, np.where(p <= 30, slide, 0.0))


def national_percentile(rank, n: int) -> np.ndarray:
    """ceil(100·rank/n): 1 for the most deprived 1% of small areas (same rule as the deciles)."""
    return np.ceil(np.asarray(rank, dtype="float64") * 100.0 / n - 1e-9)


def _group_sum(idx: np.ndarray, k: int, w: np.ndarray) -> np.ndarray:
    return np.bincount(idx, weights=w, minlength=k)


def aggregate(
    values: pd.DataFrame,
    mapping: pd.DataFrame,
    *,
    code: str = "lsoa11cd",
    score: str = "score",
    rank: str | None = "rank",
    population: str = "population",
    count: str | None = None,
    n: int | None = None,
    areas: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Aggregate small-area ``values`` to the larger areas of ``mapping``.

    ``values``: one row per small area, national coverage: ``code``, ``score`` (higher = more
    deprived), ``rank`` (national, 1 = most deprived; computed from the score when None) and
    ``population`` (the weight: total, working age... as fits the measure).
    ``mapping``: ``code``, ``area_code``, optional ``area_name`` and ``weight`` (the share of the
    small area in the larger area; 1 when each small area lies in one area).
    ``n``: the national number of small areas (default: ``len(values)``).
    ``areas``: restrict the output to these area codes (values are computed nationally first).

    Returns :data:`OUTPUT_COLUMNS`, then ``n_small_areas``, ``scale`` (when ``count``) and
    ``decile_<measure>`` (when there are at least ten areas), one row per area, sorted by code.
    """
    for col in (code, score, population, *([rank] if rank else []), *([count] if count else [])):
        if col not in values.columns:
            raise AggregationError(f"aggregate: the small-area table has no column {col!r}")
    for col in (code, "area_code"):
        if col not in mapping.columns:
            raise AggregationError(f"aggregate: the mapping has no column {col!r}")
    if values[code].duplicated().any():
        dup = values.loc[values[code].duplicated(), code].iloc[0]
        raise AggregationError(f"aggregate: small area {dup} appears twice in the values")
    n = len(values) if n is None else int(n)
    v = values.set_index(code)
    nat_rank = v[rank].to_numpy(dtype="float64") if rank else rank_areas(v[score], v.index.to_numpy())
    pos = v.index.get_indexer(mapping[code])
    if (pos < 0).any():
        missing = mapping.loc[pos < 0, code]
        raise AggregationError(
            f"aggregate: {len(missing):,} small areas in the mapping have no value (first {missing.iloc[0]})",
            hint="use a mapping of the same geography vintage as the values (e.g. LSOA 2011 for IMD 2019)",
        )
    weight = mapping["weight"].to_numpy(dtype="float64") if "weight" in mapping.columns else np.ones(len(pos))
    pop_lsoa = v[population].to_numpy(dtype="float64")[pos]
    sc = v[score].to_numpy(dtype="float64")[pos]
    rk = nat_rank[pos]
    if np.isnan(sc).any() or np.isnan(rk).any() or np.isnan(pop_lsoa).any():
        raise AggregationError("aggregate: missing score, rank or population for some small areas")

    area_idx, area_codes = pd.factorize(mapping["area_code"], sort=True)
    k = len(area_codes)
    w = weight * pop_lsoa  # people of each small area counted in each larger area
    pop = _group_sum(area_idx, k, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        rev = n + 1.0 - rk
        avg_score = _group_sum(area_idx, k, w * sc) / pop
        avg_rank = _group_sum(area_idx, k, w * rev) / pop
        extent = _group_sum(area_idx, k, w * extent_weight(national_percentile(rk, n))) / pop
        n_small = _group_sum(area_idx, k, weight)
        proportion = _group_sum(area_idx, k, weight * (deciles(rk, n) == 1)) / n_small

        # local concentration: walk each area's LSOAs from the most deprived, counting people up
        # to exactly 10% of the area's population; the LSOA that crosses the line counts in part
        order = np.lexsort((rk, area_idx))
        a_s, w_s, rev_s = area_idx[order], w[order], rev[order]
        cum = np.cumsum(w_s)
        group_start = np.r_[0.0, cum][np.searchsorted(a_s, np.arange(k))]  # people before each area
        before = cum - w_s - group_start[a_s]
        target = 0.1 * pop
        counted = np.clip(target[a_s] - before, 0.0, w_s)
        local = _group_sum(a_s, k, counted * rev_s) / target

    out = pd.DataFrame({"area_code": np.asarray(area_codes, dtype=object)})
    names = mapping.drop_duplicates("area_code").set_index("area_code")
    out["area_name"] = names["area_name"].reindex(out["area_code"]).to_numpy() if "area_name" in names else None
    out["population"] = pop
    out["average_score"] = avg_score
    out["average_rank"] = avg_rank
    out["extent"] = extent
    out["local_concentration"] = local
    out["proportion"] = proportion
    out["n_small_areas"] = n_small
    if count:
        cnt = v[count].to_numpy(dtype="float64")[pos]
        out["scale"] = _group_sum(area_idx, k, weight * np.nan_to_num(cnt))
    if areas is not None:
        out = out[out["area_code"].isin(set(areas))].reset_index(drop=True)
    for m in MEASURES:
        r = rank_areas(out[m].to_numpy(), out["area_code"].to_numpy(), ties="min")
        out[f"rank_{m}"] = pd.array(r, dtype="Int64") if np.isnan(r).any() else r.astype("int64")
    n_areas = int(out["area_code"].size)
    if n_areas >= 10:  # deciles of fewer than ten areas (e.g. the nine regions) would be meaningless
        for m in MEASURES:
            out[f"decile_{m}"] = deciles(out[f"rank_{m}"].to_numpy(dtype="float64"), n_areas)
    for col in ("population", "n_small_areas", "scale"):  # whole numbers stay whole (no apportioning)
        if col in out.columns and np.all(np.mod(out[col].to_numpy(dtype="float64"), 1) == 0):
            out[col] = out[col].astype("int64")
    front = [c for c in OUTPUT_COLUMNS if c in out.columns]
    return out[front + [c for c in out.columns if c not in front]]
