"""Weights and small-area shrinkage for composite indices (vectorised, no loops over areas).

* :func:`eb_shrink` — empirical-Bayes shrinkage of small-area rates towards their parent area:
  z* = w·z + (1 − w)·z̄ with w = (1/s²)/(1/s² + 1/t²), s² the sampling variance of the area's
  rate and t² the between-area variance inside the parent (IoD technical report).
* :func:`equal_weights`, :func:`pca_weights`, :func:`factor_weights` (single-factor maximum
  likelihood, EM algorithm; loadings rescaled to sum to 1, which reproduces the published IoD2025
  Health weights; or Bartlett score coefficients),
  :func:`least_squares_weights` (the weights that best reproduce a published score, for validation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def eb_shrink(numerator, denominator, parent) -> np.ndarray:
    """Shrink rates num/den towards the population-weighted rate of their ``parent`` area.

    s² = p̄(1 − p̄)/den (binomial variance at the parent rate) and t² = the variance of the areas'
    rates around the parent rate beyond sampling noise (method of moments, floored at a tiny
    positive value). Returns the shrunk rates; areas with den = 0 take the parent rate.
    """
    num = np.asarray(numerator, dtype="float64")
    den = np.asarray(denominator, dtype="float64")
    idx, _ = pd.factorize(np.asarray(parent))
    k = idx.max() + 1
    pbar = np.bincount(idx, num, k) / np.bincount(idx, den, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(den > 0, num / den, np.nan)
        s2 = pbar[idx] * (1 - pbar[idx]) / den
        dev2 = np.where(den > 0, (rate - pbar[idx]) ** 2 - s2, 0.0)
        n_areas = np.bincount(idx, den > 0, k)
        t2 = np.maximum(np.bincount(idx, np.nan_to_num(dev2), k) / np.maximum(n_areas, 1), 1e-12)
        w = shrinkage_weight(s2, t2[idx])
    return np.where(den > 0, w * rate + (1 - w) * pbar[idx], pbar[idx])


def shrinkage_weight(s2, t2) -> np.ndarray:
    """w = (1/s²)/(1/s² + 1/t²) = t²/(t² + s²): 1 for a precise area, → 0 for a very noisy one."""
    s2 = np.asarray(s2, dtype="float64")
    t2 = np.asarray(t2, dtype="float64")
    return t2 / (t2 + s2)


def equal_weights(k: int) -> np.ndarray:
    return np.full(k, 1.0 / k)


def _standardise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype="float64")
    return (x - np.nanmean(x, axis=0)) / np.nanstd(x, axis=0)


def pca_weights(x: np.ndarray) -> np.ndarray:
    """First principal component loadings of the correlation matrix, rescaled to sum to 1."""
    r = np.corrcoef(_standardise(x), rowvar=False)
    vals, vecs = np.linalg.eigh(r)
    v = vecs[:, -1]
    v = v if v.sum() >= 0 else -v
    return v / v.sum()


def factor_loadings(x: np.ndarray, iterations: int = 500, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Single-factor maximum-likelihood factor analysis of the correlation matrix (EM algorithm,
    Rubin & Thayer 1982). Returns (loadings λ, uniquenesses ψ)."""
    r = np.corrcoef(_standardise(x), rowvar=False)
    k = r.shape[0]
    vals, vecs = np.linalg.eigh(r)
    lam = np.abs(vecs[:, -1]) * np.sqrt(vals[-1])
    psi = np.clip(1 - lam**2, 0.005, None)
    for _ in range(iterations):
        # E step: E[f|x] = β x with β = λ'Σ⁻¹, Σ = λλ' + Ψ
        sigma = np.outer(lam, lam) + np.diag(psi)
        beta = np.linalg.solve(sigma, lam)
        ezz = 1 - beta @ lam + beta @ r @ beta
        new_lam = (r @ beta) / ezz
        new_psi = np.clip(np.diag(r) - new_lam * (r @ beta), 0.005, None)
        done = np.max(np.abs(new_lam - lam)) < tol
        lam, psi = new_lam, new_psi
        if done:
            break
    lam = lam if lam.sum() >= 0 else -lam
    return lam, psi[:k]


def factor_weights(x: np.ndarray, kind: str = "loadings") -> np.ndarray:
    """Weights from a single-factor ML factor analysis, rescaled to sum to 1.

    ``kind="loadings"`` (default): the loadings λ. On the IoD2025 Health indicators this gives
    0.2400 / 0.2936 / 0.2220 / 0.2444, the published weights to four decimals, so it is what the
    IoD calls its factor-analysis weights. ``kind="scores"``: the factor-score coefficients Ψ⁻¹λ
    (Bartlett), which put almost all weight on the indicator with the smallest uniqueness.
    """
    lam, psi = factor_loadings(x)
    w = lam if kind == "loadings" else lam / psi
    return w / w.sum()


def least_squares_weights(x: np.ndarray, target) -> np.ndarray:
    """Weights (no intercept) that best reproduce ``target`` from the columns of ``x``."""
    x = np.asarray(x, dtype="float64")
    y = np.asarray(target, dtype="float64")
    ok = ~np.isnan(x).any(axis=1) & ~np.isnan(y)
    w, *_ = np.linalg.lstsq(x[ok], y[ok], rcond=None)
    return w
