"""Interval estimates, vectorised.

* :func:`bootstrap_ratios` — percentile bootstrap over clusters (wards) of ratio estimates
  Σ num / Σ den, for many indicators at once (resampling counts per cluster from one bincount,
  then a matrix product: no loop over wards). Every interval of the outcome tables resamples
  the unit of classification (wards; local authorities for LSOA 2021; areas for furlough):
  intervals that treat each resident as an independent draw (Wilson on pooled counts) are far
  too narrow and were removed.
"""

from __future__ import annotations

import numpy as np


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
