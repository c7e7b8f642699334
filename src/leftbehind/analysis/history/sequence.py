"""A typology of IMD decile sequences: optimal matching and weighted k-medoids.

Houlden, Robinson, Franklin, Rowe & Pike (2024, *The Geographical Journal* 190(4) e12583) cluster
the IMD decile sequences of England's LSOAs (states 1 … 10, one per edition): optimal-matching (OM)
distances with transition-rate substitution costs (TraMineR ``seqsubm(method="TRATE")``), PAM
k-medoids for k = 3 … 15 and the average silhouette width to choose k. The steps:

* :func:`unique_sequences` — ~32,840 sequences hold few distinct ones; everything after runs on
  the unique sequences with their frequencies as weights;
* :func:`transition_rate_costs` — the TRATE substitution costs (frequency-weighted);
* :func:`om_distances` — OM distances between all unique sequences: one dynamic programme whose
  cells are numpy arrays over all pairs (of prefixes, see the function), in blocks;
* :func:`weighted_pam` — k-medoids minimising Σ wᵢ d(i, medoid(i)) (FasterPAM, several starts);
* :func:`weighted_silhouette` — the average silhouette width of the expanded data;
* :func:`typology` — all of it for a range of k; :func:`label_clusters` names the clusters.

**Unique sequences with weights are exact.** Copies of one sequence are at distance 0 from each
other, so on the expanded data (each unique sequence repeated wᵢ times) every copy has the same
nearest medoid, a medoid set with two copies of one sequence is never better than one with a
different second medoid, and the k-medoids loss of a medoid set is Σ wᵢ d(i, medoid(i)). The
silhouette of a copy needs the sum of distances to each cluster, Σⱼ wⱼ dᵢⱼ, and the cluster sizes
in copies: :func:`weighted_silhouette` reproduces the expanded silhouette exactly.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

N_STATES = 10
BLOCK_BYTES = 256 * 2**20  # working memory of one block in om_distances and the matrix products


# --------------------------------------------------------------------------------------------
# checks


def _as_sequences(seqs, n_states: int | None = None) -> np.ndarray:
    """(n, T) int64 array of states 1 … n_states, or ValueError."""
    a = np.asarray(seqs)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"sequences must be a non-empty (n, T) array, got shape {a.shape}")
    whole = np.issubdtype(a.dtype, np.floating) and np.isfinite(a).all() and (a == np.round(a)).all()
    if not (np.issubdtype(a.dtype, np.integer) or whole):
        raise ValueError("sequences must hold whole-number states (drop rows with a missing state first)")
    a = a.astype(np.int64, copy=False)
    lo, hi = int(a.min()), int(a.max())
    if lo < 1 or (n_states is not None and hi > n_states):
        raise ValueError(f"states must lie in 1 … {n_states or 'S'}, found {lo} … {hi}")
    return a


def _as_weights(weights, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {w.shape}")
    if not np.isfinite(w).all() or (w <= 0).any():
        raise ValueError("weights must be finite and positive")
    return w


def _as_distances(D) -> np.ndarray:
    """Square, symmetric, finite, non-negative float32/float64 matrix (no copy when it already is)."""
    D = np.asarray(D)
    if D.dtype not in (np.float32, np.float64):
        D = D.astype(np.float64)
    if D.ndim != 2 or D.shape[0] != D.shape[1] or D.shape[0] == 0:
        raise ValueError(f"D must be a non-empty square matrix, got shape {D.shape}")
    n, tile = D.shape[0], 512
    for s, e in _row_blocks(n, n * D.itemsize * 3):
        blk = D[s:e]
        if not np.isfinite(blk).all() or (blk < 0).any():
            raise ValueError("D must be finite and non-negative")
    for i in range(0, n, tile):  # square tiles against their mirror: cache-friendly
        for j in range(i, n, tile):
            if not np.array_equal(D[i : i + tile, j : j + tile], D[j : j + tile, i : i + tile].T):
                raise ValueError("D must be symmetric")
    return D


def _row_blocks(n: int, bytes_per_row: float, budget: int = BLOCK_BYTES):
    step = max(1, int(budget // max(bytes_per_row, 1)))
    for s in range(0, n, step):
        yield s, min(s + step, n)


def _times(D: np.ndarray, M: np.ndarray) -> np.ndarray:
    """D @ M in float64, in blocks of rows (a float32 D is never upcast as a whole)."""
    M = np.asarray(M, dtype=np.float64)
    out = np.empty((D.shape[0],) + M.shape[1:])
    for s, e in _row_blocks(D.shape[0], D.shape[1] * 8):
        out[s:e] = D[s:e].astype(np.float64, copy=False) @ M
    return out


# --------------------------------------------------------------------------------------------
# sequences and costs


def unique_sequences(seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct sequences, how often each occurs, and which one each row is.

    Parameters
    ----------
    seqs : (n, T) int array
        States 1 … S, no missing values (drop such rows first).

    Returns
    -------
    uniq : (u, T) int64 array
        The distinct rows, in lexicographic order.
    weights : (u,) int64 array
        How many rows equal each distinct row (sums to n).
    inverse : (n,) int64 array
        ``uniq[inverse]`` is ``seqs``.

    Examples
    --------
    >>> uniq, w, inv = unique_sequences(np.array([[2, 2], [1, 3], [2, 2]]))
    >>> uniq.tolist(), w.tolist(), inv.tolist()
    ([[1, 3], [2, 2]], [1, 2], [1, 0, 1])
    """
    a = _as_sequences(seqs)
    uniq, inverse, counts = np.unique(a, axis=0, return_inverse=True, return_counts=True)
    return uniq, counts.astype(np.int64), inverse.reshape(-1).astype(np.int64)


def transition_rates(seqs: np.ndarray, weights: np.ndarray | None = None, n_states: int = N_STATES) -> np.ndarray:
    """Transition rates p(i → j) between consecutive positions (TraMineR ``seqtrate``).

    p(i → j) = Σ w · [state i at t and j at t + 1] / Σ w · [state i at t], over t = 1 … T − 1 (all
    consecutive pairs pooled). A state never observed at t < T has a row of zeros.

    Examples
    --------
    >>> transition_rates(np.array([[1, 1, 2], [2, 2, 2]]), n_states=2).tolist()
    [[0.5, 0.5], [0.0, 1.0]]
    """
    a = _as_sequences(seqs, n_states)
    n, T = a.shape
    w = _as_weights(weights, n)
    S = int(n_states)
    if T < 2:
        return np.zeros((S, S))
    pair = ((a[:, :-1] - 1) * S + (a[:, 1:] - 1)).ravel()
    counts = np.bincount(pair, weights=np.repeat(w, T - 1), minlength=S * S).reshape(S, S)
    origin = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, origin, out=np.zeros_like(counts), where=origin > 0)


def transition_rate_costs(
    seqs: np.ndarray, weights: np.ndarray | None = None, n_states: int = N_STATES, cval: float = 2.0
) -> np.ndarray:
    """Substitution costs from transition rates: TraMineR ``seqsubm(method="TRATE")``.

    cost(i, j) = cval − p(i → j) − p(j → i) for i ≠ j, cost(i, i) = 0, with p from
    :func:`transition_rates` (``weights``: frequencies of the rows, so the unique sequences with
    their counts give the costs of the full data). A state never observed as an origin
    contributes p = 0. Symmetric (S, S) float64 array.

    Examples
    --------
    >>> transition_rate_costs(np.array([[1, 1, 2], [2, 2, 2]]), n_states=2).tolist()
    [[0.0, 1.5], [1.5, 0.0]]
    """
    p = transition_rates(seqs, weights, n_states)
    costs = float(cval) - (p + p.T)  # p + p.T is symmetric bit for bit
    np.fill_diagonal(costs, 0.0)
    return costs


def resolve_indel(costs: np.ndarray, indel: float | str = "auto") -> float:
    """The indel cost: ``"auto"`` is max(costs) / 2 (TraMineR ≥ 2.0 for a given ``sm``), a number as is."""
    if isinstance(indel, str):
        if indel != "auto":
            raise ValueError(f'indel must be "auto" or a number, got {indel!r}')
        return float(np.max(costs)) / 2.0
    e = float(indel)
    if not np.isfinite(e) or e < 0:
        raise ValueError(f"indel must be finite and non-negative, got {indel}")
    return e


# --------------------------------------------------------------------------------------------
# optimal matching


def _is_strictly_sorted(a: np.ndarray) -> bool:
    """Rows strictly increasing in lexicographic order (so also unique)."""
    if len(a) < 2:
        return True
    diff = a[1:] != a[:-1]
    if not diff.any(axis=1).all():
        return False
    first = diff.argmax(axis=1)
    r = np.arange(len(a) - 1)
    return bool((a[1:][r, first] > a[:-1][r, first]).all())


def _prefix_levels(rows: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The prefix trie of lexicographically sorted rows.

    For each length j = 1 … T: (parent, last) over the distinct prefixes of length j, in order:
    ``parent`` indexes the distinct prefixes of length j − 1 (length 0: the one empty prefix),
    ``last`` is the prefix's last state − 1. Sorted rows put equal prefixes next to each other.
    """
    m, T = rows.shape
    ids = np.zeros(m, dtype=np.intp)
    changed = np.zeros(max(m - 1, 0), dtype=bool)
    out = []
    for j in range(T):
        changed |= rows[1:, j] != rows[:-1, j]
        starts = np.concatenate(([True], changed))
        first = np.flatnonzero(starts)
        out.append((ids[first], rows[first, j] - 1))
        ids = np.cumsum(starts) - 1
    return out


def _om_block(X: np.ndarray, Y: np.ndarray, costs: np.ndarray, indel: float, dtype) -> np.ndarray:
    """OM distances (len(X), len(Y)) between sorted unique rows X and sorted unique rows Y.

    The dynamic programme D[i][j] = min(D[i−1][j−1] + sub(xᵢ, yⱼ), D[i−1][j] + indel,
    D[i][j−1] + indel) for all pairs at once, where D[i][j] is an array over the pairs of
    distinct length-i prefixes of X and length-j prefixes of Y: it only depends on the prefixes,
    and there are far fewer distinct short prefixes than sequences.
    """
    T = X.shape[1]
    lx, ly = _prefix_levels(X), _prefix_levels(Y)
    c = costs.astype(dtype)
    e = dtype(indel)
    edge = [dtype(0)]
    for _ in range(T):
        edge.append(dtype(edge[-1] + e))  # repeated addition, as the textbook recurrence
    ny = [1] + [len(p) for p, _ in ly]
    prev = [np.full((1, ny[j]), edge[j], dtype=dtype) for j in range(T + 1)]
    for i in range(1, T + 1):
        px, sx = lx[i - 1]
        crow = c[sx]  # (Px, S): substitution costs from each prefix's last state
        cur = [np.full((len(px), 1), edge[i], dtype=dtype)]
        for j in range(1, T + 1):
            py, sy = ly[j - 1]
            d = prev[j][px]  # deletion: D[i-1][j]
            np.minimum(d, cur[j - 1][:, py], out=d)  # insertion: D[i][j-1]
            d += e  # min(a, b) + e == min(a + e, b + e) exactly (rounding is monotone)
            sub = prev[j - 1][np.ix_(px, py)]
            sub += crow[:, sy]
            np.minimum(d, sub, out=d)
            cur.append(d)
        prev = cur
    return prev[T]


def om_distances(
    uniq: np.ndarray,
    costs: np.ndarray,
    indel: float | str = "auto",
    dtype=np.float64,
    block_bytes: int = BLOCK_BYTES,
) -> np.ndarray:
    """Optimal-matching distances between every pair of equal-length sequences.

    OM (Needleman–Wunsch / Levenshtein with a substitution matrix): the cheapest edit of one
    sequence into the other by substitutions (``costs[a-1, b-1]``) and insertions/deletions
    (``indel`` each), as TraMineR ``seqdist(method="OM", sm=costs, indel=...)`` without
    normalisation.

    Vectorised: the (T+1) × (T+1) dynamic programme runs once per block of columns, every cell
    a numpy array over the pairs of distinct *prefixes* (cell (i, j) only depends on the first i
    and j states, and sorted sequences share prefixes), so the work is dominated by the last few
    cells. Only the blocks on and below the diagonal are computed and then mirrored (OM with
    symmetric costs is symmetric, bit for bit); ``block_bytes`` bounds a block's working memory.
    Measured (2 cores, one used): T = 3, u = 641: 0.01 s; T = 4, u = 4,473: 0.3 s (float32) /
    0.7 s (float64); T = 6, u = 24,063: ~10 s / ~14–22 s, the matrix 2.2 / 4.3 GiB.

    Parameters
    ----------
    uniq : (u, T) int array
        States 1 … S. Typically the output of :func:`unique_sequences`; duplicated or unsorted
        rows are handled (through the distinct rows).
    costs : (S, S) array
        Symmetric substitution costs, e.g. :func:`transition_rate_costs`.
    indel : "auto" or float
        ``"auto"``: max(costs) / 2 (TraMineR ≥ 2.0 default for a given ``sm``).
    dtype : np.float64 or np.float32
        Of the computation and the result; float32 halves memory and time (u = 25,000: 2.5 GB
        instead of 5 GB) at a relative rounding of ~1e-7.

    Returns
    -------
    (u, u) array of ``dtype``, symmetric; zero diagonal when ``costs`` has one.

    Examples
    --------
    >>> costs = 2.0 - np.eye(4) * 2.0  # every substitution costs 2
    >>> om_distances(np.array([[1, 2, 3], [2, 3, 4]]), costs, indel=0.5).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    dtype = np.dtype(dtype).type
    if dtype not in (np.float64, np.float32):
        raise ValueError("dtype must be np.float64 or np.float32")
    costs = np.asarray(costs, dtype=np.float64)
    if costs.ndim != 2 or costs.shape[0] != costs.shape[1]:
        raise ValueError(f"costs must be a square matrix, got shape {costs.shape}")
    if not np.isfinite(costs).all() or (costs < 0).any():
        raise ValueError("costs must be finite and non-negative")
    if not np.array_equal(costs, costs.T):
        raise ValueError("costs must be symmetric")
    e = resolve_indel(costs, indel)
    a = _as_sequences(uniq, costs.shape[0])
    if not _is_strictly_sorted(a):
        distinct, inv = np.unique(a, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        return om_distances(distinct, costs, e, dtype, block_bytes)[np.ix_(inv, inv)]
    u, T = a.shape
    itemsize = np.dtype(dtype).itemsize
    prefixes = 1 + sum(len(p) for p, _ in _prefix_levels(a))
    # two rows of cells (each ≤ prefixes × block columns) and two temporaries of u × block columns
    step = max(1, int(block_bytes // (itemsize * (2 * prefixes + 2 * u))))
    out = np.empty((u, u), dtype=dtype)
    for s in range(0, u, step):
        t = min(s + step, u)
        # the long side (every later sequence) as rows: its prefix gathers copy whole rows, which
        # is about twice as fast as gathering columns
        blk = _om_block(a[s:], a[s:t], costs, e, dtype)
        out[s:, s:t] = blk
        out[s:t, s:] = blk.T
    return out


# --------------------------------------------------------------------------------------------
# weighted k-medoids


@dataclass(frozen=True, eq=False)
class PamResult:
    """A weighted k-medoids solution on the unique sequences.

    ``medoids``: indices into ``uniq``, in cluster order: by the medoid sequence's mean state, then
    lexicographically (when :func:`weighted_pam` is given the sequences; else by index, which is
    lexicographic for :func:`unique_sequences`). ``labels`` (u,): cluster 0 … k−1 in that order,
    each sequence's nearest medoid (ties: the first in that order; a medoid is in its own
    cluster). ``loss``: Σ wᵢ d(i, medoid(i)), the loss of the expanded data. ``n_iter``: FasterPAM
    iterations of the best start.
    """

    k: int
    medoids: np.ndarray
    labels: np.ndarray
    loss: float
    n_iter: int


def _medoid_order(meds: np.ndarray, sequences: np.ndarray | None) -> np.ndarray:
    if sequences is None:
        return np.argsort(meds, kind="stable")
    s = np.asarray(sequences)[meds]
    keys = tuple(s[:, c] for c in range(s.shape[1] - 1, -1, -1)) + (s.sum(axis=1),)
    return np.lexsort(keys)  # equal length: mean order is sum order


def _assign(D: np.ndarray, w: np.ndarray, meds: np.ndarray) -> tuple[np.ndarray, float]:
    dm = D[:, meds].astype(np.float64)
    labels = dm.argmin(axis=1)
    labels[meds] = np.arange(len(meds))
    return labels, float(w @ dm[np.arange(len(w)), labels])


def weighted_pam(
    D: np.ndarray,
    weights: np.ndarray,
    k: int,
    seed: int = 0,
    n_init: int = 10,
    max_iter: int = 100,
    sequences: np.ndarray | None = None,
    n_cpu: int = 1,
    build: bool = True,
) -> PamResult:
    """Weighted k-medoids: the k medoids minimising Σᵢ wᵢ · d(i, nearest medoid).

    FasterPAM (``kmedoids.fasterpam``, Schubert & Rousseeuw 2021) on the row-scaled matrix
    W[o, m] = w_o · d(o, m). kmedoids 0.5.5 (rust-kmedoids since "unify use of d(x,m)", 2023)
    reads the matrix only as ``mat.get(o, m)``, object o as the row and (candidate) medoid m as
    the column — in PAM BUILD, the initial assignment, the swap search and the swap — and a
    positive factor on row o does not change which medoid is nearest to o, so BUILD and FasterPAM
    on W optimise exactly the weighted loss (the tests check it against brute force and against
    the expanded data). Its k = 1 shortcut reads medoid rows, so k = 1 is solved here directly
    (argmin of D @ w). W is the transpose of the C-ordered ``D * w[None, :]`` (D is symmetric):
    Fortran order, so each medoid's column is contiguous (about 2.5 times faster than C order).

    Starts: one PAM BUILD (``build``; it costs about one FasterPAM run) and ``n_init`` random
    medoid sets with a shuffled processing order, their seeds drawn from ``seed``; the lowest loss
    wins (the first on ties). Loss and labels are recomputed in float64 from D. Deterministic for
    a given seed with ``n_cpu=1`` (the parallel FasterPAM adds partial losses in thread order).

    Parameters
    ----------
    D : (u, u) float array
        Symmetric dissimilarities (float32 is used as is).
    weights : (u,) array
        Positive frequencies of the unique sequences.
    k : int
        Number of clusters, 1 ≤ k ≤ u.
    n_init : int
        Random starts (besides BUILD).
    sequences : (u, T) array, optional
        Orders the clusters by their medoid sequence (mean state, then lexicographic).
    n_cpu : int
        Threads of FasterPAM for the random starts (1: deterministic).
    build : bool
        Add a PAM BUILD start.

    Examples
    --------
    >>> D = np.abs(np.subtract.outer([0.0, 1.0, 10.0, 11.0], [0.0, 1.0, 10.0, 11.0]))
    >>> r = weighted_pam(D, np.array([5, 1, 1, 5]), 2)
    >>> r.medoids.tolist(), r.labels.tolist(), r.loss
    ([0, 3], [0, 0, 1, 1], 2.0)
    """
    D = _as_distances(D)
    w = _as_weights(weights, D.shape[0])
    return _weighted_pam(D, w, k, seed, n_init, max_iter, sequences, n_cpu, build)


def _row_scaled(D: np.ndarray, w: np.ndarray) -> np.ndarray:
    """W[o, m] = w_o d(o, m) as the transpose of C-ordered D * w[None, :] (D is symmetric): Fortran
    order, so reading the column of one (candidate) medoid over all objects is contiguous."""
    return (D * w[None, :].astype(D.dtype)).T


def _weighted_pam(D, w, k, seed, n_init, max_iter, sequences, n_cpu, build, W=None) -> PamResult:
    import kmedoids

    u = D.shape[0]
    k = int(k)
    if not 1 <= k <= u:
        raise ValueError(f"k must lie in 1 … {u} (the number of unique sequences), got {k}")
    if k == 1:  # kmedoids' k = 1 shortcut reads medoid rows: solve it directly
        meds = np.array([int(np.argmin(_times(D, w)))])
        labels, loss = _assign(D, w, meds)
        return PamResult(1, meds, labels, loss, 1)
    W = _row_scaled(D, w) if W is None else W
    runs = []
    if build:
        runs.append(kmedoids.fasterpam(W, kmedoids.pam_build(W, k).medoids, max_iter=max_iter, n_cpu=1))
    seeds = np.random.SeedSequence(int(seed)).generate_state(max(int(n_init), 0)) % (2**31 - 1)
    for s in seeds:
        runs.append(kmedoids.fasterpam(W, k, max_iter=max_iter, init="random", random_state=int(s), n_cpu=int(n_cpu)))
    if not runs:
        raise ValueError("no start: give n_init ≥ 1 or build=True")
    best = None
    for r in runs:
        meds = np.sort(np.asarray(r.medoids, dtype=np.int64))
        labels, loss = _assign(D, w, meds)
        if best is None or loss < best[0]:
            best = (loss, meds, int(r.n_iter))
    loss, meds, n_iter = best
    meds = meds[_medoid_order(meds, sequences)]
    labels, loss = _assign(D, w, meds)
    return PamResult(k, meds, labels, loss, n_iter)


# --------------------------------------------------------------------------------------------
# silhouette


def weighted_silhouette_samples(D: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Silhouette width of each unique sequence as a member of the expanded data.

    For unique sequence i in cluster c (wᵢ copies; W_c copies in c): a(i) = Σⱼ∈c wⱼ dᵢⱼ / (W_c − 1)
    (its own wᵢ − 1 other copies are at distance 0 and count in the denominator), b(i) = the least
    over other clusters c′ of Σⱼ∈c′ wⱼ dᵢⱼ / W_c′, s(i) = (b − a) / max(a, b); s = 0 when
    W_c = 1 (Rousseeuw's singleton rule) or a = b = 0. Needs two non-empty clusters.

    Examples
    --------
    >>> D = np.abs(np.subtract.outer([0.0, 1.0, 10.0], [0.0, 1.0, 10.0]))
    >>> weighted_silhouette_samples(D, np.array([1, 1, 1]), np.array([0, 0, 1])).tolist()
    [0.9, 0.8888888888888888, 0.0]
    """
    D = _as_distances(D)
    return _silhouette_samples(D, _as_weights(weights, D.shape[0]), labels)


def _silhouette_samples(D: np.ndarray, w: np.ndarray, labels) -> np.ndarray:
    u = D.shape[0]
    lab = np.asarray(labels)
    if lab.shape != (u,) or not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"labels must be ({u},) integers")
    _, lab = np.unique(lab, return_inverse=True)
    lab = lab.reshape(-1)
    k = int(lab.max()) + 1
    if k < 2:
        raise ValueError("the silhouette needs at least two clusters")
    member = np.zeros((u, k))
    member[np.arange(u), lab] = w
    sums = _times(D, member)  # (u, k): Σⱼ∈c wⱼ dᵢⱼ
    size = member.sum(axis=0)
    r = np.arange(u)
    own = size[lab]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(own > 1, sums[r, lab] / (own - 1), 0.0)
        mean = sums / size
    mean[r, lab] = np.inf
    b = mean.min(axis=1)
    top = np.maximum(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(top > 0, (b - a) / top, 0.0)
    s[own <= 1] = 0.0
    return s


def weighted_silhouette(D: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> float:
    """Average silhouette width of the expanded data: Σ wᵢ s(i) / Σ wᵢ (see
    :func:`weighted_silhouette_samples`); equals ``sklearn.metrics.silhouette_score`` on the
    expanded distance matrix.

    Examples
    --------
    >>> D = np.abs(np.subtract.outer([0.0, 1.0, 10.0], [0.0, 1.0, 10.0]))
    >>> round(weighted_silhouette(D, np.array([2, 1, 1]), np.array([0, 0, 1])), 6)
    0.697222
    """
    w = np.asarray(weights, dtype=np.float64)
    return float(w @ weighted_silhouette_samples(D, weights, labels) / w.sum())


# --------------------------------------------------------------------------------------------
# the typology


def label_clusters(medoid_seqs: np.ndarray) -> list[str]:
    """Names for clusters from their medoid sequences (our rule, not the paper's).

    For each medoid sequence, m = its mean decile and Δ = last − first (decile 1 = most deprived):

    1. the cluster whose medoid has the lowest m (the first of equals) is "entrenched deprivation";
    2. otherwise, if |Δ| ≥ 2: "<band>, improving" (Δ > 0) or "<band>, worsening" (Δ < 0), with
       band "deprived" (m ≤ 3), "middle" (3 < m ≤ 7) or "affluent" (m > 7);
    3. otherwise by level: "persistently deprived" (m ≤ 3), "stable middle" (3 < m ≤ 7),
       "stable affluent" (m > 7).

    A name given to several clusters gets each medoid sequence appended, e.g.
    "stable middle (5-5-6)".

    Examples
    --------
    >>> label_clusters(np.array([[1, 1, 1], [5, 5, 6], [5, 6, 5], [3, 5, 6], [9, 9, 10]]))[1:4]
    ['stable middle (5-5-6)', 'stable middle (5-6-5)', 'middle, improving']
    """
    s = np.asarray(medoid_seqs)
    if s.ndim != 2 or s.shape[0] == 0:
        raise ValueError(f"medoid_seqs must be a non-empty (k, T) array, got shape {s.shape}")
    mean = s.mean(axis=1)
    change = s[:, -1] - s[:, 0]
    lowest = int(np.argmin(mean))

    def band(m: float, words: tuple[str, str, str]) -> str:
        return words[0] if m <= 3 else words[1] if m <= 7 else words[2]

    names = []
    for c, (m, d) in enumerate(zip(mean, change, strict=True)):
        if c == lowest:
            names.append("entrenched deprivation")
        elif abs(d) >= 2:
            names.append(f"{band(m, ('deprived', 'middle', 'affluent'))}, {'improving' if d > 0 else 'worsening'}")
        else:
            names.append(band(m, ("persistently deprived", "stable middle", "stable affluent")))
    seen = {n: names.count(n) for n in names}
    names = [
        f"{n} ({'-'.join(f'{x:g}' for x in row.tolist())})" if seen[n] > 1 else n
        for n, row in zip(names, s, strict=True)
    ]
    if len(set(names)) < len(names):  # identical medoid sequences: number them
        names = [f"{n} #{c + 1}" if names.count(n) > 1 else n for c, n in enumerate(names)]
    return names


@dataclass(frozen=True, eq=False)
class Typology:
    """A sequence typology for a range of k (the output of :func:`typology`).

    ``uniq`` (u, T), ``weights`` (u,), ``inverse`` (n,): :func:`unique_sequences`; ``costs``
    (S, S) and ``indel``: the OM costs; ``distances`` (u, u): OM between unique sequences;
    ``solutions[k]``: :class:`PamResult`; ``silhouettes[k]``: average silhouette width (of the
    expanded data); ``best_k``: the k with the largest silhouette (the smallest of equals);
    ``k_export``: the k exported (six clusters published); ``timings``: seconds per step.
    """

    uniq: np.ndarray
    weights: np.ndarray
    inverse: np.ndarray
    costs: np.ndarray
    indel: float
    distances: np.ndarray
    solutions: dict[int, PamResult]
    silhouettes: dict[int, float]
    best_k: int
    k_export: int
    timings: dict[str, float] = field(default_factory=dict)

    def labels_for(self, k: int | None = None) -> np.ndarray:
        """(n,) cluster of every original row for ``k`` (default ``k_export``)."""
        return self.solutions[self.k_export if k is None else k].labels[self.inverse]

    def medoid_sequences(self, k: int | None = None) -> np.ndarray:
        """(k, T) the medoid sequences, in cluster order (default ``k_export``)."""
        return self.uniq[self.solutions[self.k_export if k is None else k].medoids]

    def names(self, k: int | None = None) -> list[str]:
        """:func:`label_clusters` of the medoid sequences for ``k`` (default ``k_export``)."""
        return label_clusters(self.medoid_sequences(k))


def typology(
    seqs: np.ndarray,
    ks: Iterable[int] = range(3, 16),
    k_export: int = 6,
    seed: int = 0,
    indel: float | str = "auto",
    n_states: int = N_STATES,
    cval: float = 2.0,
    dtype=np.float64,
    n_init: int = 10,
    n_cpu: int = 1,
) -> Typology:
    """Houlden et al.'s typology: TRATE costs, OM distances, weighted PAM for each k, silhouettes.

    Runs on the unique sequences weighted by their frequency, which gives the same costs, loss and
    silhouette as the full data (module docstring). ``k_export`` is always solved (added to ``ks``
    when missing). ``dtype=np.float32`` halves the memory of the distance matrix (for T = 6);
    ``n_init`` and ``n_cpu`` are passed to :func:`weighted_pam`. Cost: T = 3 (u ≲ 1,000) takes
    about a second for k = 3 … 15; T = 6 with u ≈ 24,000 about 70 s for one k (OM ~10 s,
    each of the 11 PAM starts ~5 s; ``n_cpu=2`` saved ~10%, and is not bit-for-bit reproducible).

    Parameters
    ----------
    seqs : (n, T) int array
        Deciles 1 … ``n_states`` per row (rows with a missing edition dropped by the caller).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> seqs = np.clip(rng.integers(1, 11, (200, 1)) + rng.integers(-1, 2, (200, 3)), 1, 10)
    >>> t = typology(seqs, ks=(3, 4), k_export=3)
    >>> sorted(t.silhouettes) == [3, 4], t.labels_for(3).shape
    (True, (200,))
    """
    t0 = time.perf_counter()
    a = _as_sequences(seqs, n_states)
    uniq, weights, inverse = unique_sequences(a)
    costs = transition_rate_costs(uniq, weights, n_states, cval)
    e = resolve_indel(costs, indel)
    t1 = time.perf_counter()
    D = om_distances(uniq, costs, e, dtype=dtype)
    t2 = time.perf_counter()
    ks = sorted({int(k) for k in ks} | {int(k_export)})
    if ks[0] < 2 or ks[-1] > len(uniq):
        raise ValueError(f"every k must lie in 2 … {len(uniq)} (the number of unique sequences), got {ks}")
    w = weights.astype(np.float64)
    W = _row_scaled(D, w)  # once for every k
    t_pam, t_sil = time.perf_counter() - t2, 0.0
    solutions, silhouettes = {}, {}
    for k in ks:
        s0 = time.perf_counter()
        solutions[k] = _weighted_pam(D, w, k, seed, n_init, 100, uniq, n_cpu, True, W)
        s1 = time.perf_counter()
        silhouettes[k] = float(w @ _silhouette_samples(D, w, solutions[k].labels) / w.sum())
        t_pam += s1 - s0
        t_sil += time.perf_counter() - s1
    best_k = max(ks, key=lambda k: (silhouettes[k], -k))
    timings = {"costs": t1 - t0, "distances": t2 - t1, "pam": t_pam, "silhouette": t_sil}
    timings["total"] = time.perf_counter() - t0
    return Typology(uniq, weights, inverse, costs, e, D, solutions, silhouettes, best_k, int(k_export), timings)
