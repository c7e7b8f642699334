"""Pure, vectorised transformations used by the Indices of Deprivation and the CNI.

Conventions (see docs/decisions.md):

* **Rank 1 = most deprived / highest need** = highest score.
* **Ties** in :func:`rank_areas` are broken deterministically: ``ties="first"`` orders tied
  scores by area code (ascending), so a rank is a permutation of 1..n and does not depend on
  row order; ``"min"`` gives tied areas the same (lowest) rank and skips the next, as
  published CNI ranks do; ``"average"`` gives the mean of the tied positions.
* **Deciles** are equal-count groups of the rank order: decile = ceil(10·rank/n), the rule
  that reproduces every published IoD2019 and IoD2025 decile; decile 1 is the most deprived
  10% and group sizes differ by at most one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

#: e^(-100/23): the IoD exponential transformation's constant.
_EXP_C = 1.0 - np.exp(-100.0 / 23.0)


def _as_float(values) -> np.ndarray:
    return np.asarray(values, dtype="float64")


def rank_areas(scores, codes=None, *, ties: str = "first", higher_is_worse: bool = True) -> np.ndarray:
    """Rank areas, 1 = most deprived (highest score when ``higher_is_worse``).

    ``ties``: ``"first"`` (deterministic, by ``codes`` ascending, else by position),
    ``"min"`` or ``"average"``. Missing scores get rank NaN and are not counted.
    """
    x = _as_float(scores)
    key = -x if higher_is_worse else x
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    if ties == "first":
        idx = np.flatnonzero(ok)
        tie_key = np.asarray(codes)[idx] if codes is not None else idx
        order = idx[np.lexsort((tie_key, key[idx]))]
        out[order] = np.arange(1, order.size + 1)
    elif ties in ("min", "average", "max", "dense"):
        out[ok] = rankdata(key[ok], method=ties)
    else:
        raise ValueError(f"unknown tie rule {ties!r}: use 'first', 'min' or 'average'")
    return out


def rankdata(values, method: str = "average") -> np.ndarray:
    """``scipy.stats.rankdata`` of a 1-d array (1 = smallest), the same algorithm step for step and
    so the same numbers and dtype (float64 for ``average``, int64 otherwise), without importing
    ``scipy.stats`` (half a second) on the way of every run. An array with NaN goes to scipy."""
    x = np.asarray(values)
    if x.ndim != 1 or method not in ("average", "min", "max", "dense") or (x.dtype.kind == "f" and np.isnan(x).any()):
        from scipy import stats

        return stats.rankdata(x, method=method)
    n = x.shape[0]
    dtype = np.float64 if method == "average" else np.int64
    if n == 0:
        return np.empty(0, dtype=dtype)
    j = np.argsort(x, kind="stable")
    y = x[j]
    first = np.concatenate([np.ones(1, dtype=bool), y[:-1] != y[1:]])
    idx = np.flatnonzero(first)
    counts = np.diff(idx, append=n)
    ordinal = np.arange(1, n + 1, dtype=dtype)
    if method == "min":
        ranks = ordinal[first]
    elif method == "max":
        ranks = ordinal[first] + counts - 1
    elif method == "average":
        ranks = ordinal[first] + (counts.astype(dtype) - 1) / 2
    else:  # dense
        ranks = np.cumsum(first.astype(dtype))[first]
    out = np.empty(n, dtype=dtype)
    out[j] = np.repeat(ranks, counts)
    return out


def quantile_groups(ranks, n: int | None = None, groups: int = 10) -> np.ndarray:
    """Equal-count groups of a rank order (1 = most deprived): ceil(rank·groups/n).

    This is the IoD rule: group k holds ranks floor((k-1)·n/groups)+1 … floor(k·n/groups), so
    sizes differ by at most one (IoD2025: 3,375 or 3,376 LSOAs per decile). Integer array
    when every rank is present, else float with NaN where the rank is missing.
    """
    r = _as_float(ranks)
    n = int(np.nanmax(r)) if n is None else int(n)
    g = np.ceil(r * groups / n - 1e-9)
    return g if np.isnan(g).any() else g.astype("int64")


def deciles(ranks, n: int | None = None) -> np.ndarray:
    """Equal-count deciles; decile 1 = the most deprived 10%."""
    return quantile_groups(ranks, n, 10)


def exponential_transform(ranks, n: int | None = None) -> np.ndarray:
    """The IoD exponential transformation of a rank (1 = most deprived).

    R = (n + 1 - rank)/n, X = -23·ln(1 - R·(1 - e^(-100/23))): 100 for the most deprived,
    about 0 for the least; R = 0.9 gives 50.43. Fractional (average) ranks are allowed.
    """
    r = _as_float(ranks)
    n = int(np.nanmax(r)) if n is None else n
    big_r = (n + 1.0 - r) / n
    return -23.0 * np.log1p(-big_r * _EXP_C)


def normal_scores(values, *, higher_is_worse: bool = True) -> np.ndarray:
    """Rank-based normal scores Φ⁻¹(r/(n+1)), r the average rank (ties averaged).

    r ranks ascending in deprivation (the most deprived gets the largest score); missing
    values stay missing.
    """
    x = _as_float(values)
    x = x if higher_is_worse else -x
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    n = int(ok.sum())
    from scipy import special

    out[ok] = special.ndtri(rankdata(x[ok], method="average") / (n + 1.0))
    return out


def weighted_sum(frame: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    """Σ wᵢ·columnᵢ over the named columns (NaN if any component is NaN)."""
    total = np.zeros(len(frame))
    for col, w in weights.items():
        total = total + w * _as_float(frame[col])
    return total
