"""Interval estimates, vectorised.

* :func:`wilson` — Wilson score interval for a pooled proportion k/n;
* :func:`newcombe_difference` — Newcombe's hybrid score interval for p1 − p2 (method 10);
* :func:`bootstrap_ratios` — percentile bootstrap over clusters (wards) of ratio estimates
  Σ num / Σ den, for many indicators at once (resampling counts per cluster from one bincount,
  then a matrix product: no loop over wards).
"""

from __future__ import annotations

import numpy as np

Z95 = 1.959963984540054


def wilson(k, n, z: float = Z95):
    """(p, lower, upper) of the Wilson score interval; NaN where n = 0."""
    k = np.asarray(k, dtype="float64")
    n = np.asarray(n, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return p, centre - half, centre + half


def newcombe_difference(k1, n1, k2, n2, z: float = Z95):
    """(d, lower, upper) for d = p1 − p2 by Newcombe's hybrid score method."""
    p1, l1, u1 = wilson(k1, n1, z)
    p2, l2, u2 = wilson(k2, n2, z)
    d = p1 - p2
    lower = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lower, upper


def bootstrap_weights(m: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """(replicates × m) counts: how often each of m clusters is drawn in each resample."""
    draws = rng.integers(0, m, size=(replicates, m))  # m draws with replacement per resample
    flat = (np.arange(replicates)[:, None] * m + draws).ravel()
    return np.bincount(flat, minlength=replicates * m).reshape(replicates, m).astype("float64")


def bootstrap_ratios(num: np.ndarray, den: np.ndarray, replicates: int = 1000, seed: int = 20200901):
    """Bootstrap over clusters (rows) of Σnum/Σden for each column.

    ``num``, ``den``: (clusters × indicators). Returns (estimate, replicate estimates
    (replicates × indicators)); the caller takes percentiles or combines replicates of two
    groups (e.g. their difference). Fixed seed: results are reproducible.
    """
    num = np.nan_to_num(np.asarray(num, dtype="float64"))
    den = np.asarray(den, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        est = num.sum(axis=0) / den.sum(axis=0)
        if num.shape[0] == 0:
            return est, np.full((replicates, num.shape[1]), np.nan)
        w = bootstrap_weights(num.shape[0], replicates, np.random.default_rng(seed))
        reps = (w @ num) / (w @ den)
    return est, reps


def percentile_interval(reps: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap replicates along axis 0; NaN (no warning) where every
    replicate is NaN, e.g. for an empty group."""
    a = (1 - level) / 2
    reps = np.asarray(reps, dtype="float64")
    empty = np.all(np.isnan(reps), axis=0)
    if np.all(empty):
        nan = np.full(reps.shape[1:], np.nan)
        return (nan, nan.copy()) if reps.ndim > 1 else (float("nan"), float("nan"))
    safe = np.where(empty, 0.0, reps)  # columns with no finite replicate are set back to NaN below
    lo, hi = np.nanquantile(safe, a, axis=0), np.nanquantile(safe, 1 - a, axis=0)
    return np.where(empty, np.nan, lo), np.where(empty, np.nan, hi)
