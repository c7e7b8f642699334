"""Spatial statistics of a binary designation on a contiguity graph, vectorised.

All functions take a binary symmetric contiguity matrix ``W`` (``scipy.sparse``, n × n, 0/1, zero
diagonal; rows with no neighbours — *islands* — are allowed) and numpy vectors aligned with its rows.
Nothing here reads files. ``esda`` and ``libpysal`` are imported inside the functions that need them.

* :func:`global_join_counts` — black–black join count of ``y`` (1 = left behind) with a permutation
  test for clustering.
* :func:`bivariate_join_counts` — joins between a left-behind area and an other-deprived area
  (co-location), permutation test by shuffling the area labels jointly.
* :func:`morans_i` — Moran's I of a continuous variable (``esda.Moran``, row-standardised weights).
* :func:`local_join_counts` — local join counts (as ``esda.Join_Counts_Local``) with conditional-
  permutation pseudo p-values (drawn from their exact law, or with esda's numba engine) and
  Benjamini–Hochberg adjusted p-values.
* :func:`components`, :func:`surrounded`, :func:`islands`, :func:`check_weights` — cluster ids, the
  "donut hole" rule, isolated areas, and validation of ``W``.

Permutation p-values are pseudo p-values ``(1 + #{simulated ≥ observed}) / (permutations + 1)``; every
function takes a ``seed`` and is deterministic for a given seed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from leftbehind.errors import DataError, UsageError

__all__ = [
    "GlobalStat",
    "LocalJoinCounts",
    "bivariate_join_counts",
    "check_weights",
    "components",
    "conditional_join_counts",
    "global_join_counts",
    "islands",
    "local_join_counts",
    "morans_i",
    "surrounded",
]

_CHUNK_CELLS = 4_000_000  # permuted labels held at once: (n areas) × (columns per chunk)


@dataclass(frozen=True)
class GlobalStat:
    """A global spatial statistic with its permutation test.

    Attributes
    ----------
    statistic : str
        Name of the statistic, e.g. ``"join_count_bb"``.
    value : float
        Observed value.
    expected : float
        Expected value under the null: the mean of the permutation distribution for join counts; the
        analytic ``E[I] = -1/(n-1)`` for Moran's I (as ``esda.Moran.EI``).
    z : float
        ``(value - mean of permutations) / sd of permutations``; NaN when the permutation
        distribution is degenerate (sd 0).
    p : float
        Pseudo p-value from the permutations (see each function for its sidedness).
    permutations : int
        Number of permutations.
    note : str
        Plain-language account of what was counted, dropped (missing values) and how many islands.
    expected_analytic : float
        Exact expectation under random relabelling (join counts) or ``E[I]`` (Moran's I).
    n : int
        Number of areas used.
    n_islands : int
        Number of those areas with no neighbour (among the areas used).
    """

    statistic: str
    value: float
    expected: float
    z: float
    p: float
    permutations: int
    note: str
    expected_analytic: float = math.nan
    n: int = 0
    n_islands: int = 0


@dataclass(frozen=True)
class LocalJoinCounts:
    """Local join counts with conditional-permutation pseudo p-values.

    Attributes
    ----------
    ljc : numpy.ndarray
        float, length n: for an area with ``y = 1``, the number of its neighbours with ``y = 1``;
        0 for areas with ``y = 0``.
    p : numpy.ndarray
        float, length n: one-sided pseudo p-value (more ``y = 1`` neighbours than chance) for areas
        with ``y = 1`` and at least one neighbour; NaN for ``y = 0`` and for islands.
    p_fdr : numpy.ndarray
        Benjamini–Hochberg adjusted ``p`` over the defined p-values only; NaN where ``p`` is NaN.
    n_neighbours : numpy.ndarray
        int, length n: number of neighbours of each area.
    permutations : int
        Number of conditional permutations.
    """

    ljc: np.ndarray
    p: np.ndarray
    p_fdr: np.ndarray
    n_neighbours: np.ndarray
    permutations: int


# --------------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------------


def check_weights(W, n: int) -> None:
    """Check that ``W`` is a binary symmetric n × n contiguity matrix with a zero diagonal.

    Parameters
    ----------
    W : scipy.sparse matrix or array
        Contiguity matrix. Rows with no neighbours (islands) are allowed.
    n : int
        Number of areas ``W`` must describe.

    Raises
    ------
    leftbehind.errors.DataError
        If ``W`` is not sparse, not n × n, not binary (0/1), has a non-zero diagonal or is not symmetric.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from libpysal.weights import lat2W
    >>> check_weights(lat2W(3, 3).sparse, 9)
    >>> check_weights(sp.csr_matrix([[0, 1], [0, 0]]), 2)
    Traceback (most recent call last):
    ...
    leftbehind.errors.DataError: the contiguity matrix W is not symmetric: 2 entries differ from their transpose
      How to fix: build W from a symmetric contiguity rule (queen/rook) or symmetrise it with (W + W.T) > 0
    """
    if not sp.issparse(W):
        raise DataError(
            f"the contiguity matrix W must be a scipy.sparse matrix, not {type(W).__name__}",
            hint="build it with scipy.sparse.csr_matrix(...) or libpysal.weights.W.sparse",
        )
    if W.ndim != 2 or W.shape != (n, n):
        raise DataError(
            f"the contiguity matrix W has shape {W.shape}, expected ({n}, {n}) for {n:,} areas",
            hint="build W on the same areas, in the same order, as the data vector",
        )
    A = sp.csr_matrix(W, copy=True)
    A.sum_duplicates()
    A.eliminate_zeros()
    bad = A.data != 1
    if bad.any():
        values = np.unique(A.data[bad])[:5]
        raise DataError(
            f"the contiguity matrix W is not binary: {int(bad.sum()):,} entries are not 0 or 1 "
            f"(e.g. {values.tolist()})",
            hint="pass the binary contiguity matrix (libpysal transform 'b'), not row-standardised weights",
        )
    diag = int(np.count_nonzero(A.diagonal()))
    if diag:
        raise DataError(
            f"the contiguity matrix W has {diag:,} non-zero diagonal entries (an area is its own neighbour)",
            hint="set the diagonal to zero: W.setdiag(0); W.eliminate_zeros()",
        )
    asym = int((A != A.T).nnz)
    if asym:
        raise DataError(
            f"the contiguity matrix W is not symmetric: {asym:,} entries differ from their transpose",
            hint="build W from a symmetric contiguity rule (queen/rook) or symmetrise it with (W + W.T) > 0",
        )


def _weights(W) -> sp.csr_matrix:
    """Validated canonical float64 CSR copy of ``W`` (square: its size is the number of areas)."""
    check_weights(W, W.shape[0] if sp.issparse(W) and W.ndim == 2 else -1)
    A = sp.csr_matrix(W, dtype=np.float64, copy=True)
    A.sum_duplicates()
    A.eliminate_zeros()
    A.sort_indices()
    return A


def _binary(v, n: int, name: str) -> np.ndarray:
    """``v`` as an int8 0/1 vector of length n, or UsageError."""
    a = np.asarray(v)
    if a.ndim != 1:
        raise UsageError(f"{name} must be a 1-d vector, got shape {a.shape}", hint=f"pass one value per area as {name}")
    if a.shape[0] != n:
        raise UsageError(
            f"{name} has {a.shape[0]:,} values but W describes {n:,} areas",
            hint=f"align {name} with the rows of W (same areas, same order)",
        )
    if a.dtype == bool:
        return a.astype(np.int8)
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise UsageError(f"{name} must be numeric 0/1 or boolean, got dtype {a.dtype}", hint=f"pass {name} as 0/1")
    ok = (a == 0) | (a == 1)
    if not ok.all():
        bad = np.unique(a[~ok])[:5]
        raise UsageError(
            f"{name} must be binary (0/1): {int((~ok).sum()):,} values are not, e.g. {bad.tolist()}",
            hint=f"code {name} as 1 = in the group, 0 = not (missing values are not allowed)",
        )
    return a.astype(np.int8)


def _check_permutations(permutations: int, seed: int) -> tuple[int, int]:
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer) or permutations < 1:
        raise UsageError(f"permutations must be a positive integer, got {permutations!r}", hint="e.g. permutations=999")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**32:
        raise UsageError(f"seed must be an integer in [0, 2**32), got {seed!r}", hint="e.g. seed=0")
    return int(permutations), int(seed)


def _degrees(A: sp.csr_matrix) -> np.ndarray:
    return np.diff(A.indptr).astype(np.int64)


def _islands_note(k: int, effect: str = "contribute no joins") -> str:
    if k == 0:
        return "no islands"
    return f"{k:,} island{'s' if k != 1 else ''} (areas with no neighbour: they {effect})"


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence libpysal/esda warnings (islands, disconnected graph, esda API deprecations): what they
    say is reported in each result's ``note`` instead."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        yield


@contextmanager
def _global_seed(seed: int) -> Iterator[None]:
    """Seed numpy's legacy global generator (esda's Moran and Join_Counts draw from it) and restore
    its state afterwards, so callers' random streams are untouched."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _to_libpysal(A: sp.csr_matrix):
    """libpysal ``W`` (ids 0..n-1 in row order) from a sparse matrix, without island warnings."""
    from libpysal.weights import WSP

    with _quiet():
        return WSP(A).to_W(silence_warnings=True)


# --------------------------------------------------------------------------------------------------
# permutation engine for global join counts
# --------------------------------------------------------------------------------------------------


def _permuted_joins(A: sp.csr_matrix, codes: np.ndarray, a: int, b: int, permutations: int, seed: int) -> np.ndarray:
    """Join counts between category ``a`` and category ``b`` for ``permutations`` random relabellings
    of ``codes`` (each a uniform random permutation of the whole vector, so category counts are
    kept). Unordered pairs: for ``a == b`` each join is counted once.

    Labels are permuted a chunk of columns at a time, (n × chunk), and counted with one sparse
    product per chunk: no loop over permutations.
    """
    n = codes.shape[0]
    rng = np.random.default_rng(seed)
    chunk = max(1, min(permutations, _CHUNK_CELLS // max(n, 1)))
    A32 = A.astype(np.float32)
    out = np.empty(permutations, dtype=np.float64)
    for start in range(0, permutations, chunk):
        c = min(chunk, permutations - start)
        perm = rng.permuted(np.repeat(codes[:, None], c, axis=1), axis=0)
        xa = (perm == a).astype(np.float32)
        xb = xa if a == b else (perm == b).astype(np.float32)
        joins = (xa * (A32 @ xb)).sum(axis=0, dtype=np.float64)
        out[start : start + c] = joins / 2.0 if a == b else joins
    return out


def _summarise(observed: float, sims: np.ndarray) -> tuple[float, float, float]:
    """(mean, z, one-sided 'greater' pseudo p) of a permutation distribution."""
    mean = float(sims.mean())
    sd = float(sims.std())
    z = (observed - mean) / sd if sd > 0 else math.nan
    p = (1.0 + float(np.count_nonzero(sims >= observed))) / (sims.shape[0] + 1.0)
    return mean, z, p


# --------------------------------------------------------------------------------------------------
# global statistics
# --------------------------------------------------------------------------------------------------


def global_join_counts(
    W,
    y,
    permutations: int = 999,
    seed: int = 0,
    *,
    engine: Literal["numpy", "esda"] = "numpy",
) -> GlobalStat:
    """Black–black join count of a binary designation, with a permutation test for clustering.

    A *join* is a pair of neighbouring areas; a black–black (bb) join is one where both areas have
    ``y = 1``. Each join is counted once. The null hypothesis is spatial randomness: the ``y`` labels
    are randomly permuted over the areas (non-free sampling, so the number of ``y = 1`` areas is
    kept). Islands take part in the permutations but contribute no joins.

    Parameters
    ----------
    W : scipy.sparse matrix
        Binary symmetric contiguity matrix, n × n, zero diagonal (see :func:`check_weights`).
    y : array_like
        Binary (0/1 or boolean) vector of length n; 1 = left behind.
    permutations : int, default 999
        Number of random relabellings.
    seed : int, default 0
        Seed of the permutations; the same seed gives the same result.
    engine : {"numpy", "esda"}, default "numpy"
        ``"numpy"`` permutes the labels in blocks and counts joins with sparse products (under 1 s for
        999 permutations of 33,755 areas). ``"esda"`` runs ``esda.Join_Counts`` (a Python loop over
        permutations, about 8-10 ms per permutation at that size; its ``bb``, ``mean_bb`` and
        ``p_sim_bb`` are used), seeded through numpy's global generator, which is restored afterwards;
        esda redraws any permutation whose chi-square table has an empty expected cell, and needs both
        values of y. Both test the same null hypothesis; their p-values differ by Monte Carlo error.

    Returns
    -------
    GlobalStat
        ``value`` = bb; ``expected`` = mean of the permutation distribution; ``expected_analytic`` =
        ``J · n1 (n1 - 1) / (n (n - 1))`` with J joins and n1 areas with ``y = 1`` (exact under random
        relabelling); ``z`` = (bb - mean) / sd of the permutations; ``p`` = one-sided pseudo p-value,
        ``(1 + #{bb_perm ≥ bb}) / (permutations + 1)``: small when ``y = 1`` areas are more clustered
        than chance (``esda``'s ``p_sim_bb``). A strongly dispersed pattern has a p-value near 1 and a
        negative ``z``.

    Examples
    --------
    >>> import numpy as np
    >>> from libpysal.weights import lat2W
    >>> W = lat2W(4, 4).sparse
    >>> y = np.r_[np.zeros(8), np.ones(8)]  # bottom half black
    >>> res = global_join_counts(W, y, permutations=199, seed=1)
    >>> res.value, round(res.expected_analytic, 2)
    (10.0, 5.6)
    >>> res.p < 0.05
    True
    """
    permutations, seed = _check_permutations(permutations, seed)
    A = _weights(W)
    n = A.shape[0]
    yb = _binary(y, n, "y")
    deg = _degrees(A)
    n_isl = int(np.count_nonzero(deg == 0))
    n1 = int(yb.sum())
    joins = A.nnz / 2.0
    yf = yb.astype(np.float64)
    bb = float(yf @ (A @ yf)) / 2.0
    analytic = joins * n1 * (n1 - 1) / (n * (n - 1)) if n > 1 else math.nan

    if engine == "numpy":
        sims = _permuted_joins(A, yb, 1, 1, permutations, seed)
        mean, z, p = _summarise(bb, sims)
    elif engine == "esda":
        import esda

        if not 0 < n1 < n:
            raise UsageError(
                f"esda.Join_Counts needs both values of y, but all {n:,} areas have y = {int(yb[0]) if n else 0}",
                hint="use engine='numpy', which handles a constant y",
            )
        w = _to_libpysal(A)
        try:
            with _quiet(), _global_seed(seed):
                jc = esda.Join_Counts(yf, w, permutations=permutations)
        except ValueError as err:  # chi-square table with an empty margin
            raise UsageError(
                f"esda.Join_Counts failed on this y ({err})", hint="use engine='numpy', which has no chi-square step"
            ) from err
        sims = np.asarray(jc.sim_bb, dtype=np.float64)
        mean = float(jc.mean_bb)
        sd = float(sims.std())
        z = (bb - mean) / sd if sd > 0 else math.nan
        p = float(jc.p_sim_bb)
        bb = float(jc.bb)
    else:
        raise UsageError(f"engine must be 'numpy' or 'esda', got {engine!r}", hint="e.g. engine='numpy'")

    note = (
        f"{n:,} areas, {n1:,} with y = 1, {int(joins):,} joins; {_islands_note(n_isl)}. "
        f"p is one-sided (bb larger than under random relabelling: clustering), from {permutations:,} "
        f"permutations ({engine} engine)."
    )
    return GlobalStat(
        statistic="join_count_bb",
        value=bb,
        expected=mean,
        z=z,
        p=p,
        permutations=permutations,
        note=note,
        expected_analytic=analytic,
        n=n,
        n_islands=n_isl,
    )


def conditional_join_counts(W, y, within, permutations: int = 999, seed: int = 0) -> GlobalStat:
    """Black–black join count of ``y`` with the labels permuted only among the ``within`` areas.

    Deprivation itself clusters, so left-behind areas (a subset of the deprived) cluster against
    a null of all areas even if, among deprived areas, the CNI condition fell at random. This
    test keeps every area outside ``within`` fixed and shuffles the ``y`` labels among the
    ``within`` areas (left behind ∪ other deprived): small p means left-behind areas are more
    clustered than a random choice of the same number of deprived areas would be.

    Parameters
    ----------
    W : scipy.sparse matrix
        Binary symmetric contiguity matrix, n × n, zero diagonal.
    y : array_like
        Binary vector of length n (1 = left behind); every ``y = 1`` area must be ``within``.
    within : array_like
        Binary vector of length n: the areas among which labels are permuted.
    permutations, seed : int
        As :func:`global_join_counts`.

    Returns
    -------
    GlobalStat
        ``value`` = bb; ``expected`` = mean over permutations; ``expected_analytic`` = J_w · n1 (n1 - 1)
        / (m (m - 1)) with J_w the joins between two ``within`` areas and m of them; one-sided p.

    Examples
    --------
    >>> import numpy as np
    >>> from libpysal.weights import lat2W
    >>> W = lat2W(10, 10).sparse
    >>> within = np.zeros((10, 10)); within[:5] = 1      # the top half is 'deprived'
    >>> y = np.zeros((10, 10)); y[:2, :5] = 1            # a 2 x 5 block of it is 'left behind'
    >>> res = conditional_join_counts(W, y.ravel(), within.ravel(), permutations=199, seed=1)
    >>> res.value, round(res.expected_analytic, 2), res.p < 0.05
    (13.0, 3.12, True)
    """
    permutations, seed = _check_permutations(permutations, seed)
    A = _weights(W)
    n = A.shape[0]
    yb = _binary(y, n, "y")
    wb = _binary(within, n, "within")
    if np.any((yb == 1) & (wb == 0)):
        raise UsageError(
            "conditional join counts: some areas with y = 1 are not in the 'within' set",
            hint="'within' must contain every y = 1 area (e.g. left behind or other deprived)",
        )
    idx = np.flatnonzero(wb)
    m, n1 = idx.size, int(yb.sum())
    yf = yb.astype(np.float64)
    bb = float(yf @ (A @ yf)) / 2.0
    sub = A[idx][:, idx].tocsr()
    joins_w = sub.nnz / 2.0
    analytic = joins_w * n1 * (n1 - 1) / (m * (m - 1)) if m > 1 else math.nan
    # only joins between two 'within' areas can be black-black: permute on the induced subgraph
    sims = _permuted_joins(sub, yb[idx], 1, 1, permutations, seed)
    mean, z, p = _summarise(bb, sims)
    n_isl = int(np.count_nonzero(_degrees(A) == 0))
    note = (
        f"{n1:,} areas with y = 1 among {m:,} 'within' areas ({int(joins_w):,} joins between them; "
        f"{n:,} areas in all, {_islands_note(n_isl)}); labels permuted among the 'within' areas only. "
        f"p is one-sided (clustering beyond that of the 'within' areas), {permutations:,} permutations."
    )
    return GlobalStat(
        statistic="conditional_join_count",
        value=bb,
        expected=mean,
        z=z,
        p=p,
        permutations=permutations,
        note=note,
        expected_analytic=analytic,
        n=n,
        n_islands=n_isl,
    )


def bivariate_join_counts(W, x, z, permutations: int = 999, seed: int = 0) -> GlobalStat:
    """Co-location join count: joins between an x-area and a z-area, with a permutation test.

    ``J`` is the number of unordered neighbour pairs {i, j} with one area in group x and the other in
    group z; for a symmetric binary ``W`` and disjoint x, z this is ``x @ W @ z``. The null hypothesis
    is spatial randomness of the labels: the category vector (x / z / neither) is randomly permuted
    over all areas, so the sizes of both groups are kept.

    Parameters
    ----------
    W : scipy.sparse matrix
        Binary symmetric contiguity matrix, n × n, zero diagonal.
    x : array_like
        Binary vector of length n; 1 = left behind.
    z : array_like
        Binary vector of length n, disjoint from x; 1 = other deprived area.
    permutations : int, default 999
        Number of random relabellings (counted in blocks with sparse products, no loop over permutations).
    seed : int, default 0
        Seed of the permutations.

    Returns
    -------
    GlobalStat
        ``statistic`` = ``"bivariate_join_count_lb_other_deprived"``; ``value`` = J; ``expected`` = mean
        of the permutations; ``expected_analytic`` = ``2 J_all n_x n_z / (n (n - 1))`` with ``J_all``
        joins in W; ``z`` from the permutation sd; ``p`` = ``(1 + #{J_perm ≥ J}) / (permutations + 1)``,
        one-sided: small when x-areas border z-areas more often than chance.

    Raises
    ------
    leftbehind.errors.UsageError
        If x or z is not binary, has the wrong length, or the two overlap.

    Examples
    --------
    >>> import numpy as np
    >>> from libpysal.weights import lat2W
    >>> W = lat2W(1, 6).sparse  # a path of 6 areas
    >>> x = np.array([1, 1, 0, 0, 0, 0])
    >>> z = np.array([0, 0, 1, 0, 0, 0])
    >>> bivariate_join_counts(W, x, z, permutations=99).value
    1.0
    """
    permutations, seed = _check_permutations(permutations, seed)
    A = _weights(W)
    n = A.shape[0]
    xb = _binary(x, n, "x")
    zb = _binary(z, n, "z")
    both = int(np.count_nonzero(xb & zb))
    if both:
        raise UsageError(
            f"x and z must be disjoint, but {both:,} areas are in both",
            hint="code the other-deprived group z as deprived areas that are not left behind",
        )
    deg = _degrees(A)
    n_isl = int(np.count_nonzero(deg == 0))
    nx, nz = int(xb.sum()), int(zb.sum())
    joins = A.nnz / 2.0
    J = float(xb.astype(np.float64) @ (A @ zb.astype(np.float64)))
    codes = (xb + 2 * zb).astype(np.int8)  # 0 neither, 1 x, 2 z
    sims = _permuted_joins(A, codes, 1, 2, permutations, seed)
    mean, zscore, p = _summarise(J, sims)
    analytic = 2.0 * joins * nx * nz / (n * (n - 1)) if n > 1 else math.nan
    note = (
        f"{n:,} areas: {nx:,} in x (left behind), {nz:,} in z (other deprived), {int(joins):,} joins; "
        f"{_islands_note(n_isl)}. p is one-sided (more x–z joins than under joint random relabelling), "
        f"from {permutations:,} permutations."
    )
    return GlobalStat(
        statistic="bivariate_join_count_lb_other_deprived",
        value=J,
        expected=mean,
        z=zscore,
        p=p,
        permutations=permutations,
        note=note,
        expected_analytic=analytic,
        n=n,
        n_islands=n_isl,
    )


def morans_i(W, values, permutations: int = 999, seed: int = 0, name: str = "morans_i") -> GlobalStat:
    """Moran's I of a continuous variable with row-standardised weights (``esda.Moran``).

    Missing values (NaN) are dropped by restricting ``W`` to the areas with a value; the count dropped
    is stated in ``note``, as is the number of islands (areas with no neighbour with a value). With
    row-standardised weights an island's spatial lag is 0, so it adds to the variance but not to the
    cross-product, as in ``esda``.

    Parameters
    ----------
    W : scipy.sparse matrix
        Binary symmetric contiguity matrix, n × n, zero diagonal.
    values : array_like
        Float vector of length n; NaN = missing. Infinite values are an error.
    permutations : int, default 999
        Number of random permutations of the values (``esda.Moran``).
    seed : int, default 0
        Seed of numpy's global generator during the call; its previous state is restored.
    name : str, default "morans_i"
        ``statistic`` label of the result (e.g. ``"morans_i_imd_score"``).

    Returns
    -------
    GlobalStat
        ``value`` = I; ``expected`` = ``expected_analytic`` = ``E[I] = -1/(n - 1)``; ``z`` = esda's
        ``z_sim`` = (I - mean of permutations) / sd of permutations; ``p`` = esda's ``p_sim``, which is
        one-sided *in the direction of the observed I*: ``(1 + min(#{I_perm ≥ I}, #{I_perm < I})) /
        (permutations + 1)`` — a small p means clustering if I > E[I], dispersion if I < E[I]. Double it
        for a two-sided test.

    Raises
    ------
    leftbehind.errors.UsageError
        If values has the wrong length, infinite entries, fewer than 3 non-missing values, no
        variation, or no joins between non-missing areas.

    Examples
    --------
    >>> import numpy as np
    >>> from libpysal.weights import lat2W
    >>> W = lat2W(10, 10).sparse
    >>> gradient = np.repeat(np.arange(10.0), 10)  # value = row index
    >>> res = morans_i(W, gradient, permutations=99)
    >>> round(res.value, 2), res.p
    (0.96, 0.01)
    """
    import esda

    permutations, seed = _check_permutations(permutations, seed)
    A = _weights(W)
    n = A.shape[0]
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.shape[0] != n:
        raise UsageError(
            f"values has shape {v.shape} but W describes {n:,} areas",
            hint="align values with the rows of W (same areas, same order)",
        )
    if np.isinf(v).any():
        raise UsageError(f"values has {int(np.isinf(v).sum()):,} infinite entries", hint="set them to NaN to drop them")
    keep = ~np.isnan(v)
    dropped = int(n - keep.sum())
    if dropped:
        idx = np.flatnonzero(keep)
        A = A[idx][:, idx].tocsr()
        v = v[idx]
    m = v.shape[0]
    if m < 3:
        raise UsageError(f"Moran's I needs at least 3 non-missing values, got {m}", hint="check the variable")
    if np.ptp(v) == 0:
        raise UsageError("Moran's I is undefined for a constant variable", hint="check the variable")
    if A.nnz == 0:
        raise UsageError("no two non-missing areas are neighbours: Moran's I is undefined", hint="check W")
    n_isl = int(np.count_nonzero(_degrees(A) == 0))
    w = _to_libpysal(A)
    with _quiet(), _global_seed(seed):
        mi = esda.Moran(v, w, transformation="r", permutations=permutations)
    miss = f"{dropped:,} areas with a missing value dropped" if dropped else "no missing values"
    note = (
        f"{m:,} areas ({miss}); {_islands_note(n_isl, 'have a spatial lag of 0')}; row-standardised "
        f"weights. p is esda's p_sim: one-sided in the direction of the observed I (clustering if I > E[I]), "
        f"from {permutations:,} permutations (mean {float(mi.EI_sim):.4g}); double it for a two-sided test."
    )
    return GlobalStat(
        statistic=name,
        value=float(mi.I),
        expected=float(mi.EI),
        z=float(mi.z_sim),
        p=float(mi.p_sim),
        permutations=permutations,
        note=note,
        expected_analytic=float(mi.EI),
        n=m,
        n_islands=n_isl,
    )


# --------------------------------------------------------------------------------------------------
# local statistics and clusters
# --------------------------------------------------------------------------------------------------


def local_join_counts(
    W,
    y,
    permutations: int = 999,
    seed: int = 0,
    *,
    engine: Literal["numpy", "esda"] = "numpy",
) -> LocalJoinCounts:
    """Local join counts of a binary designation with conditional-permutation pseudo p-values.

    For an area with ``y = 1`` the local join count is the number of its neighbours with ``y = 1``
    (Anselin & Li 2019, as ``esda.Join_Counts_Local``). Its significance comes from conditional
    randomisation: the area's own value is held fixed and its k neighbours' values are drawn without
    replacement from the other n - 1 areas, ``permutations`` times.

    Parameters
    ----------
    W : scipy.sparse matrix
        Binary symmetric contiguity matrix, n × n, zero diagonal.
    y : array_like
        Binary vector of length n; 1 = left behind.
    permutations : int, default 999
        Number of conditional permutations.
    seed : int, default 0
        Seed of the conditional permutations; the same seed gives the same p-values.
    engine : {"numpy", "esda"}, default "numpy"
        ``"numpy"``: for binary y the number of ``y = 1`` areas among k values drawn without
        replacement from the other n - 1 areas is hypergeometric (n1 - 1 ones among n - 1), so each
        permutation's count is drawn directly from that law, independently for each area, vectorised
        (no compilation; about 0.1 s for 999 permutations of 33,755 areas). ``"esda"``: esda's numba
        conditional-randomisation engine (``esda.crand.crand`` with the ``_ljc_uni`` statistic of
        ``esda.Join_Counts_Local``, serial), which permutes area ids and reuses the same random
        neighbour sets for every area; the first call in a process compiles it (about 15 s). It is
        called directly rather than through ``Join_Counts_Local.fit``, which in esda 2.9 ignores
        ``seed`` (and the constructor's ``permutations``), uses the "directed" alternative (the lower
        tail when the observed count is below the median), raises IndexError when W has islands and,
        with ``drop_islands=False``, counts an island with ``y = 1`` as its own neighbour.

    Returns
    -------
    LocalJoinCounts
        ``p`` is one-sided, ``(1 + #{ljc_perm ≥ ljc}) / (permutations + 1)``, defined for areas with
        ``y = 1`` and at least one neighbour (an area with ``y = 1`` and no ``y = 1`` neighbour gets
        p = 1, where esda reports NaN; it stays in the multiple-testing family); NaN for ``y = 0`` and
        for islands. ``p_fdr`` is the Benjamini–Hochberg adjustment
        (``scipy.stats.false_discovery_control``) over the defined p-values.

    Examples
    --------
    >>> import numpy as np
    >>> from libpysal.weights import lat2W
    >>> W = lat2W(10, 10).sparse
    >>> y = np.zeros((10, 10)); y[:3, :3] = 1  # a 3 × 3 block in a corner
    >>> res = local_join_counts(W, y.ravel(), permutations=99)
    >>> res.ljc[:3].tolist(), res.n_neighbours[:3].tolist()
    ([2.0, 3.0, 2.0], [2, 3, 3])
    >>> float(res.p[11]) <= 0.05  # the block's interior cell: 4 of 4 neighbours
    True
    >>> bool(np.isnan(res.p[5]))  # y = 0
    True
    """
    from scipy.stats import false_discovery_control

    permutations, seed = _check_permutations(permutations, seed)
    A = _weights(W)
    n = A.shape[0]
    yb = _binary(y, n, "y")
    yf = yb.astype(np.float64)
    deg = _degrees(A)
    ljc = yf * (A @ yf)
    testable = (yb == 1) & (deg > 0)
    p = np.full(n, np.nan)
    if engine == "numpy":
        if testable.any():
            p[testable] = _local_p_numpy(ljc[testable], deg[testable], n, int(yb.sum()), permutations, seed)
    elif engine == "esda":
        if testable.any():
            p[testable] = _local_p_esda(A, yf, ljc, permutations, seed)[testable]
    else:
        raise UsageError(f"engine must be 'numpy' or 'esda', got {engine!r}", hint="e.g. engine='numpy'")
    p_fdr = np.full(n, np.nan)
    if testable.any():
        p_fdr[testable] = false_discovery_control(p[testable], method="bh")
    return LocalJoinCounts(ljc=ljc, p=p, p_fdr=p_fdr, n_neighbours=deg, permutations=permutations)


def _local_p_numpy(obs: np.ndarray, k: np.ndarray, n: int, n1: int, permutations: int, seed: int) -> np.ndarray:
    """Pseudo p-values for areas with y = 1 (observed counts ``obs``, ``k`` neighbours each): under
    conditional permutation the count is Hypergeometric(ngood = n1 - 1, nbad = n - n1, nsample = k).
    Drawn a block of areas at a time, (permutations × areas)."""
    rng = np.random.default_rng(seed)
    m = obs.shape[0]
    chunk = max(1, _CHUNK_CELLS // permutations)
    larger = np.empty(m, dtype=np.int64)
    for start in range(0, m, chunk):
        sl = slice(start, min(m, start + chunk))
        sims = rng.hypergeometric(n1 - 1, n - n1, k[sl], size=(permutations, sl.stop - sl.start))
        larger[sl] = np.count_nonzero(sims >= obs[sl], axis=0)
    return (larger + 1.0) / (permutations + 1.0)


def _local_p_esda(A: sp.csr_matrix, yf: np.ndarray, ljc: np.ndarray, permutations: int, seed: int) -> np.ndarray:
    """Pseudo p-values for every area from esda's numba conditional-randomisation engine (islands get
    a zero lag, so p = 1; callers mask them)."""
    from esda.crand import crand
    from esda.join_counts_local import _ljc_uni

    w = _to_libpysal(A)
    with _quiet():
        p_sim, _ = crand(
            z=yf,
            w=w,
            observed=ljc,
            permutations=permutations,
            keep=False,
            n_jobs=1,
            stat_func=_ljc_uni,
            seed=seed,
            island_weight=0,
            alternative="greater",
        )
    return np.asarray(p_sim, dtype=np.float64)


def components(W, y) -> np.ndarray:
    """Connected clusters of the areas with ``y = 1``.

    Parameters
    ----------
    W : scipy.sparse matrix
        Binary symmetric contiguity matrix, n × n, zero diagonal.
    y : array_like
        Binary vector of length n.

    Returns
    -------
    numpy.ndarray
        int64, length n: cluster id 1..K for areas with ``y = 1`` (connected components of the subgraph
        induced by them), numbered by descending size, ties by smallest member index; 0 for ``y = 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from libpysal.weights import lat2W
    >>> W = lat2W(1, 7).sparse  # a path
    >>> components(W, [1, 0, 1, 1, 0, 1, 0]).tolist()
    [2, 0, 1, 1, 0, 3, 0]
    """
    from scipy.sparse.csgraph import connected_components

    A = _weights(W)
    n = A.shape[0]
    yb = _binary(y, n, "y")
    out = np.zeros(n, dtype=np.int64)
    idx = np.flatnonzero(yb)
    if idx.size == 0:
        return out
    k, labels = connected_components(A[idx][:, idx], directed=False)
    sizes = np.bincount(labels, minlength=k)
    first = np.full(k, n, dtype=np.int64)
    np.minimum.at(first, labels, idx)
    order = np.lexsort((first, -sizes))  # by descending size, then smallest member
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(1, k + 1)
    out[idx] = rank[labels]
    return out


def surrounded(W, y, share: float = 0.85) -> np.ndarray:
    """Areas not designated but (almost) surrounded by designated areas: the "donut hole" rule.

    The US Climate and Economic Justice Screening Tool adds tracts surrounded by disadvantaged tracts
    (there: completely surrounded, i.e. ``share = 1``, together with an income condition); ``share``
    relaxes "completely".

    Parameters
    ----------
    W : scipy.sparse matrix
        Binary symmetric contiguity matrix, n × n, zero diagonal.
    y : array_like
        Binary vector of length n; 1 = designated.
    share : float, default 0.85
        Minimum share of neighbours with ``y = 1``, in (0, 1].

    Returns
    -------
    numpy.ndarray
        bool, length n: True where ``y = 0``, the area has at least one neighbour, and (neighbours with
        ``y = 1``) / (neighbours) ≥ ``share``.

    Raises
    ------
    leftbehind.errors.UsageError
        If share is not in (0, 1], or y is not a binary vector aligned with W.

    Examples
    --------
    >>> import numpy as np
    >>> from libpysal.weights import lat2W
    >>> W = lat2W(3, 3).sparse
    >>> y = np.ones(9); y[4] = 0  # white centre of a black 3 × 3 block
    >>> np.flatnonzero(surrounded(W, y, share=1.0)).tolist()
    [4]
    """
    if isinstance(share, bool) or not isinstance(share, int | float | np.number) or not 0 < share <= 1:
        raise UsageError(
            f"share must be in (0, 1], got {share!r}",
            hint="give the minimum share of neighbours that are designated, e.g. 0.85 (or 1.0 for 'completely')",
        )
    A = _weights(W)
    n = A.shape[0]
    yb = _binary(y, n, "y")
    deg = _degrees(A)
    nb1 = A @ yb.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(deg > 0, nb1 / np.maximum(deg, 1), 0.0)
    return (yb == 0) & (deg > 0) & (frac >= float(share))


def islands(W) -> np.ndarray:
    """Indices of the areas with no neighbour.

    Parameters
    ----------
    W : scipy.sparse matrix
        Binary symmetric contiguity matrix, n × n, zero diagonal.

    Returns
    -------
    numpy.ndarray
        int64, sorted row indices of W with no non-zero entry.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> W = sp.csr_matrix([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    >>> islands(W).tolist()
    [2]
    """
    A = _weights(W)
    return np.flatnonzero(_degrees(A) == 0).astype(np.int64)
