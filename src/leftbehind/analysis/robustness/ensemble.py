"""The uncertainty ensemble: how often is each area left behind when the list is rebuilt under
every defensible variation at once?

One *replication* draws, from the spec (``default.yaml``): a ward-IMD construction (or, for the
current edition, which IMD is paired with CNI 2023), the two cut-offs, the CNI and IMD domain
weights and the noise in the domain ranks; it then classifies every area with the 2020 rule
(top k of both indices). The ensemble reports, per area, the share of replications in which it
is left behind (``P``) and its rank quantiles; per region and local authority, probability-
weighted counts; overall, the distribution of the list size and its Jaccard with the nominal
list.

Everything is vectorised across replications (chunks of :data:`CHUNK` at a time):

* scores are linear in the domain scores, so a replication's area scores are a matrix product:
  ``base_v + W_v (w - w0)`` with ``W_v = A_v X`` (``A_v`` the sparse small-area -> area weights of
  variant ``v``, ``X`` the small areas' transformed domain ranks), plus noise whose variance is
  exact: ``Var = (A_v o A_v) S^2 w^2`` (``S`` the noise sd of each small area's domain score);
* the top-k cut of each replication is a partial sort (``np.partition`` at the largest k the
  spec allows, then a sort of those few values), not a full sort;
* rank quantiles are read from the first :data:`RANK_SAMPLE` replications (an argsort each).

With every source switched off a replication is the nominal classification exactly (the base
scores are the nominal ones, and the cut-off rule ``value >= k-th largest`` is ``rank <= k`` with
ties sharing the lower rank).

>>> from leftbehind.analysis.robustness.ensemble import topk_threshold
>>> import numpy as np
>>> topk_threshold(np.array([[5.0, 1.0, 3.0, 4.0]]), np.array([2]))
array([4.])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

if TYPE_CHECKING:
    from leftbehind.analysis.robustness.spec import EnsembleSpec

CHUNK = 500
RANK_SAMPLE = 1000
RANK_ELEMENTS = 20_000_000  # at most this many area-ranks are sorted for the rank quantiles
DOMAINS = ("income", "employment", "education", "health", "crime", "barriers", "living_env")
CNI_DOMAINS = ("civic_assets", "connectedness", "engaged_community")


# ---------------------------------------------------------------- inputs


@dataclass
class Variant:
    """One way of building the area IMD (a ward-IMD construction, or an IMD paired with CNI 2023)."""

    name: str
    base: np.ndarray  # (areas,) nominal score; NaN = no IMD for the area
    A: sparse.csr_matrix  # (areas x small areas), rows sum to 1 (empty rows: no IMD)
    X: np.ndarray  # (small areas x domains) transformed domain ranks
    ranks: np.ndarray  # (small areas x domains) domain ranks (1 = most deprived)
    n_small: int  # number of small areas ranked (for the transform's slope)
    w0: np.ndarray  # (domains,) official weights
    _cache: dict = field(default_factory=dict, repr=False)

    def W(self) -> np.ndarray:
        if "W" not in self._cache:
            self._cache["W"] = np.asarray(self.A @ self.X)
        return self._cache["W"]

    def WT(self, dtype) -> np.ndarray:
        key = ("WT", np.dtype(dtype).str)
        if key not in self._cache:
            self._cache[key] = np.ascontiguousarray(self.W().T, dtype=dtype)
        return self._cache[key]

    def base_inf(self, dtype) -> np.ndarray:
        key = ("base", np.dtype(dtype).str)
        if key not in self._cache:
            self._cache[key] = np.where(np.isfinite(self.base), self.base, -np.inf).astype(dtype)
        return self._cache[key]

    def sd(self, rank_sd: float) -> np.ndarray:
        """(areas,) the noise sd of each area's score at the official weights (float32)."""
        key = ("sd", rank_sd)
        if key not in self._cache:
            self._cache[key] = np.sqrt(self.V(rank_sd) @ (self.w0**2)).astype(np.float32)
        return self._cache[key]

    def V(self, rank_sd: float) -> np.ndarray:
        """(areas x domains): the variance each domain's noise adds to an area's score, per unit
        squared weight, for rank noise of sd ``rank_sd`` x the number of small areas."""
        key = ("V", rank_sd)
        if key not in self._cache:
            s2 = _secant_sd_cached(self.ranks, self.n_small, rank_sd, self.X) ** 2
            a2 = self.A.multiply(self.A).tocsr()
            self._cache[key] = np.asarray(a2 @ s2)
        return self._cache[key]


_SECANT: dict[tuple[int, int, float], tuple[np.ndarray, np.ndarray]] = {}


def _secant_sd_cached(ranks: np.ndarray, n: int, rank_sd: float, X: np.ndarray) -> np.ndarray:
    """:func:`secant_sd`, computed once per small-area table (the variants of a run share one)."""
    key = (id(ranks), id(X), rank_sd)
    hit = _SECANT.get(key)
    if hit is None or hit[0] is not ranks:
        _SECANT.clear()  # one table at a time: never keeps old arrays alive
        hit = _SECANT[key] = (ranks, secant_sd(ranks, n, rank_sd * n, X))
    return hit[1]


@dataclass
class EnsembleInputs:
    """Everything a replication needs, for one edition's areas (wards 2017 or LSOAs 2021)."""

    unit: str  # wd17 | lsoa21
    codes: np.ndarray
    names: np.ndarray
    lad_codes: np.ndarray
    lad_names: np.ndarray
    regions: np.ndarray
    population: np.ndarray
    nominal_group: np.ndarray  # the run's classification
    threshold: float
    cni_base: np.ndarray  # (areas,) nominal CNI score (higher = more need)
    cni_X: np.ndarray  # (areas x 3) transformed domain ranks
    cni_ranks: np.ndarray  # (areas x 3)
    variants: list[Variant]
    nominal_variant: int
    variant_source: str  # "construction" or "pairing": which spec source chooses the variant
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.codes)

    _cache: dict = field(default_factory=dict, repr=False)

    def cni_V(self, rank_sd: float) -> np.ndarray:
        key = ("V", rank_sd)
        if key not in self._cache:
            self._cache[key] = secant_sd(self.cni_ranks, self.n, rank_sd * self.n, self.cni_X) ** 2
        return self._cache[key]

    def cni_sd(self, rank_sd: float) -> np.ndarray:
        """(areas,) the noise sd of each area's CNI score at equal weights (float32)."""
        key = ("sd", rank_sd)
        if key not in self._cache:
            self._cache[key] = np.sqrt(self.cni_V(rank_sd).sum(axis=1)).astype(np.float32)
        return self._cache[key]

    def cni_XT(self, dtype) -> np.ndarray:
        key = ("XT", np.dtype(dtype).str)
        if key not in self._cache:
            self._cache[key] = np.ascontiguousarray(self.cni_X.T, dtype=dtype)
        return self._cache[key]


def secant_sd(ranks: np.ndarray, n: int, sd_places: float, X: np.ndarray) -> np.ndarray:
    """The sd of each small area's domain score when its rank has normal noise of ``sd_places``:
    half the change of the score between rank - sd and rank + sd (clipped to 1..n), read off the
    domain's own score-against-rank curve (the exponential transform for IoD and CNI domains; the
    published score for a single-column IMD). A zero sd gives zeros."""
    r = np.asarray(ranks, dtype="float64")
    x = np.asarray(X, dtype="float64")
    if sd_places <= 0:
        return np.zeros_like(x)
    out = np.empty_like(x)
    for j in range(x.shape[1]):  # a few domain columns, never a loop over areas
        order = np.argsort(r[:, j], kind="stable")
        rs, xs = r[order, j], x[order, j]
        hi = np.interp(np.clip(r[:, j] - sd_places, 1, n), rs, xs)
        lo = np.interp(np.clip(r[:, j] + sd_places, 1, n), rs, xs)
        out[:, j] = np.abs(hi - lo) / 2.0
    return out


def min_ranks(values: np.ndarray) -> np.ndarray:
    """Per row, ranks 1 = largest (-inf: ranked last), vectorised. Ties share the lower rank for
    float64 values (the unperturbed scores, where published ties exist); float32 values are
    perturbed by continuous noise or weights, where ties have probability zero, so their order is
    used as it is."""
    r, n = values.shape
    order = np.argsort(values, axis=1)  # ascending: position p holds rank n - p
    if values.dtype == np.float64:
        sv = np.take_along_axis(values, order, axis=1)[:, ::-1]  # descending
        pos = np.broadcast_to(np.arange(1, n + 1, dtype=np.int32), (r, n))
        new = np.concatenate([np.ones((r, 1), bool), sv[:, 1:] != sv[:, :-1]], axis=1)
        desc = np.maximum.accumulate(np.where(new, pos, 0), axis=1).astype(np.int32)
        start = desc[:, ::-1]
    else:
        start = np.broadcast_to(np.arange(n, 0, -1, dtype=np.int32), (r, n))
    ranks = np.empty((r, n), dtype=np.int32)
    ranks[np.arange(r)[:, None], order] = start
    return ranks


# ---------------------------------------------------------------- parameters of replications


@dataclass
class Draws:
    """The parameters of a batch of replications (one row each)."""

    variant: np.ndarray  # (R,) int
    k_cni: np.ndarray  # (R,) int
    k_imd: np.ndarray  # (R,) int
    w_cni: np.ndarray  # (R x 3), mean 1
    w_imd: np.ndarray  # (R x D), mean w0 (ignored for single-domain variants)
    noise: bool
    vary_cni: bool  # CNI weights vary (else the CNI scores are the base scores)
    vary_imd: bool
    noise_cni: np.ndarray | None = None  # (R,) offsets into the noise pool (see NoisePool)
    noise_imd: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.variant)

    def rows(self, idx) -> Draws:
        return Draws(
            self.variant[idx],
            self.k_cni[idx],
            self.k_imd[idx],
            self.w_cni[idx],
            self.w_imd[idx],
            self.noise,
            self.vary_cni,
            self.vary_imd,
            None if self.noise_cni is None else self.noise_cni[idx],
            None if self.noise_imd is None else self.noise_imd[idx],
        )


def _k(threshold, n: int) -> np.ndarray:
    return np.floor(np.asarray(threshold) * n + 1e-9).astype(np.int64)


def variant_choices(inputs: EnsembleInputs, spec: EnsembleSpec) -> list[int]:
    src = getattr(spec.sources, inputs.variant_source)
    if not src.enabled:
        return [inputs.nominal_variant]
    names = [v.name for v in inputs.variants]
    return [names.index(c) for c in src.choices]


#: one independent random stream per source (and one for the noise), so that switching a source
#: off, or giving it a zero range, leaves every other source's draws exactly as they were
STREAMS = ("variant", "cutoff_cni", "cutoff_imd", "cni_weights", "imd_weights", "noise")


def streams(seed: int) -> dict[str, np.random.SeedSequence]:
    return dict(zip(STREAMS, np.random.SeedSequence(seed).spawn(len(STREAMS)), strict=True))


def draw(inputs: EnsembleInputs, spec: EnsembleSpec, r: int, seed: int) -> Draws:
    """``r`` replications' parameters, drawn from the spec (each source from its own stream)."""
    s = spec.sources
    ss = streams(seed)
    gen = {k: np.random.default_rng(v) for k, v in ss.items()}
    n = inputs.n
    n_imd = int(np.sum(np.isfinite(inputs.variants[inputs.nominal_variant].base)))
    choices = np.asarray(variant_choices(inputs, spec))
    u = gen["variant"].random(r)
    variant = choices[np.minimum((u * len(choices)).astype(np.int64), len(choices) - 1)]
    k0 = int(_k(inputs.threshold, n))
    c, i = s.cutoff_cni, s.cutoff_imd
    k_cni = _k(gen["cutoff_cni"].uniform(c.low, c.high, r), n) if c.enabled else np.full(r, k0)
    k_imd = _k(gen["cutoff_imd"].uniform(i.low, i.high, r), n) if i.enabled else np.full(r, k0)
    k_imd = np.minimum(k_imd, n_imd)
    vary_cni = bool(s.cni_weights.enabled and s.cni_weights.concentration)
    if vary_cni:
        w_cni = 3.0 * gen["cni_weights"].dirichlet(np.full(3, s.cni_weights.concentration / 3.0), r)
    else:
        w_cni = np.ones((r, 3))
    w0 = inputs.variants[0].w0
    vary_imd = bool(s.imd_weights.enabled and s.imd_weights.concentration and len(w0) > 1)
    if vary_imd:
        w_imd = w0.sum() * gen["imd_weights"].dirichlet(s.imd_weights.concentration * w0 / w0.sum(), r)
    else:
        w_imd = np.tile(w0, (r, 1))
    noise = bool(s.noise.enabled and s.noise.rank_sd > 0)
    off_c = off_i = None
    if noise:
        span = NoisePool.length(n) - n
        off_c = gen["noise"].integers(0, span + 1, r)
        off_i = gen["noise"].integers(0, span + 1, r)
    return Draws(variant, k_cni, k_imd, w_cni, w_imd, noise, vary_cni, vary_imd, off_c, off_i)


class NoisePool:
    """Standard normal noise for every replication, read from one long iid sequence.

    A replication's noise field over the n areas is the window ``pool[o : o + n]`` at its own
    random offset ``o`` (CNI and IMD at independent offsets). Within a replication the areas get
    distinct, independent draws; across replications an area's draws are independent unless two
    replications happen to share an offset (probability 1/len(pool) a pair, about 6 pairs in
    10,000 replications over LSOAs). Reading a window is a memory copy, about ten times cheaper
    than drawing fresh normals, and the pool is drawn once per run from the seed."""

    FACTOR = 256

    @classmethod
    def length(cls, n: int) -> int:
        return n * (cls.FACTOR + 1)

    def __init__(self, n: int, seed: int):
        rng = np.random.default_rng(streams(seed)["noise"].spawn(1)[0])
        self.n = n
        self.pool = rng.standard_normal(self.length(n), dtype=np.float32)
        self.windows = np.lib.stride_tricks.sliding_window_view(self.pool, n)

    def take(self, offsets: np.ndarray) -> np.ndarray:
        return self.windows[offsets]  # (R x n) copy


# ---------------------------------------------------------------- one batch of replications


def scores(inputs: EnsembleInputs, d: Draws, pool: NoisePool | None, rank_sd: float):
    """(CNI, IMD) scores of every area in every replication of ``d``: (R x areas) each, -inf where
    an area has no IMD.

    Without perturbation (no weights, no noise) the scores are the base scores, exactly (float64).
    With perturbation they are float32 (continuous perturbations leave no ties to resolve), built
    in place with as few passes over the (R x areas) arrays as possible. The noise sd of each area
    is its exact sd at the official weights (``sqrt(V @ w0**2)``)."""
    r, n = len(d), inputs.n
    perturb = d.noise or d.vary_cni or d.vary_imd
    dtype = np.float32 if perturb else np.float64
    cni = np.empty((r, n), dtype=dtype)
    if d.vary_cni:
        np.matmul((d.w_cni - 1.0).astype(dtype), inputs.cni_XT(dtype), out=cni)
        cni += inputs.cni_base.astype(dtype)
    else:
        cni[:] = inputs.cni_base.astype(dtype)
    if d.noise:
        z = pool.take(d.noise_cni)
        z *= inputs.cni_sd(rank_sd)
        cni += z
    variants = np.unique(d.variant)
    imd = np.empty((r, n), dtype=dtype)
    for v in variants:  # one variant per chunk in the ensemble; a handful at most, never per replication
        rows = np.flatnonzero(d.variant == v)
        var = inputs.variants[v]
        block = imd if len(variants) == 1 else np.empty((len(rows), n), dtype=dtype)
        if d.vary_imd and len(var.w0) > 1:
            np.matmul((d.w_imd[rows][:, : len(var.w0)] - var.w0).astype(dtype), var.WT(dtype), out=block)
            block += var.base_inf(dtype)
        else:
            block[:] = var.base_inf(dtype)
        if d.noise:
            z = pool.take(d.noise_imd[rows])
            z *= var.sd(rank_sd)
            block += z
        if block is not imd:
            imd[rows] = block
    return cni, imd


def topk_threshold(values: np.ndarray, k: np.ndarray, k_max: int | None = None) -> np.ndarray:
    """Per row, the k-th largest value (``values >= threshold`` is the top k, ties kept whole).

    ``values``: (rows x areas), -inf (or NaN) = not ranked; ``k``: (rows,). One partial sort at
    the largest k, then a sort of those values only."""
    v = np.where(np.isnan(values), -np.inf, values) if np.issubdtype(values.dtype, np.floating) else values
    n = v.shape[1]
    k = np.asarray(k, dtype=np.int64)
    k_max = int(k.max()) if k_max is None else int(k_max)
    top = np.sort(np.partition(v, n - k_max, axis=1)[:, n - k_max :], axis=1)  # ascending: largest last
    return top[np.arange(len(v)), k_max - k]


def classify_batch(inputs: EnsembleInputs, d: Draws, cni: np.ndarray, imd: np.ndarray):
    """(left behind, other deprived) flags (R x areas) with each replication's own cut-offs."""
    k_max = int(max(d.k_cni.max(), d.k_imd.max()))
    cni_top = cni >= topk_threshold(cni, d.k_cni, k_max)[:, None]
    imd_top = imd >= topk_threshold(imd, d.k_imd, k_max)[:, None]  # -inf (no IMD) is never top
    lb = cni_top & imd_top
    return lb, imd_top ^ lb


# ---------------------------------------------------------------- the ensemble


@dataclass
class EnsembleResult:
    """What the ensemble found (see the module docstring)."""

    inputs: EnsembleInputs
    spec: EnsembleSpec
    replications: int
    seed: int
    p_left_behind: np.ndarray
    p_other_deprived: np.ndarray
    cni_rank_q05: np.ndarray
    cni_rank_q95: np.ndarray
    imd_rank_q05: np.ndarray
    imd_rank_q95: np.ndarray
    list_size: np.ndarray  # (R,)
    jaccard: np.ndarray  # (R,) with the nominal list
    region_areas: np.ndarray  # (R x regions)
    region_residents: np.ndarray
    lad_areas: np.ndarray  # (R x LADs)
    lad_residents: np.ndarray
    regions: np.ndarray
    lads: np.ndarray  # LAD codes
    lad_names: np.ndarray
    draws: Draws
    gap: np.ndarray | None = None  # (R x indicators) left behind minus other deprived
    gap_names: list[str] = field(default_factory=list)


def _onehot(labels: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    idx, uniq = pd.factorize(pd.Series(labels), sort=True)
    m = sparse.csr_matrix((np.ones(len(idx), np.float32), (np.arange(len(idx)), idx)), shape=(len(idx), len(uniq)))
    return m, np.asarray(uniq)


def chunk_rows(n_areas: int) -> int:
    """Replications per chunk: about 4 million area-values per array (memory stays bounded)."""
    return int(max(50, min(1000, 4_000_000 // max(n_areas, 1))))


def evaluate(
    inputs: EnsembleInputs,
    d: Draws,
    rank_sd: float,
    seed: int,
    outcome_sums=None,
    rank_sample: int | None = None,
    progress=None,
    workers: int | None = None,
) -> dict[str, np.ndarray]:
    """Evaluate every replication of ``d`` (in chunks, on up to ``workers`` threads: numpy releases
    the GIL). Every random number is fixed before the chunks run (the draws and the noise pool),
    so the result does not depend on the number of threads or their timing."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    n, R = inputs.n, len(d)
    step = chunk_rows(n)
    pool = NoisePool(n, seed) if d.noise else None
    if rank_sample is None:  # 1,000 replications for wards, fewer for LSOAs (sorting is n log n)
        rank_sample = int(min(RANK_SAMPLE, max(200, RANK_ELEMENTS // n)))
    # chunks hold one IMD variant each (so a chunk's IMD scores are one matrix product), and
    # replication indices in order within it; results are stored by replication index
    chunks = [
        idx[i : i + step]
        for v in np.unique(d.variant)
        for idx in [np.flatnonzero(d.variant == v)]
        for i in range(0, len(idx), step)
    ]
    nominal_lb = (inputs.nominal_group == "left_behind").astype(np.float32)
    n_nominal = float(nominal_lb.sum())
    reg_m, _ = _onehot(inputs.regions)
    lad_m, _ = _onehot(inputs.lad_codes)
    lad_t = lad_m.T.tocsr()  # (LADs x areas)
    # every LAD lies in one region: region counts are sums of LAD counts (LAD x region, 0/1)
    lad_region = ((lad_t @ reg_m) > 0).astype(np.float64).toarray()
    pop = np.nan_to_num(inputs.population).astype(np.float32)
    out = {
        "p_lb": np.zeros(n),
        "p_oda": np.zeros(n),
        "size": np.zeros(R, np.int64),
        "jaccard": np.zeros(R),
        "lad_a": np.zeros((R, lad_m.shape[1])),
        "lad_p": np.zeros((R, lad_m.shape[1])),
        "cni_ranks": [],
        "imd_ranks": [],
        "lad_region": lad_region,
    }
    if outcome_sums is not None:
        names, num, den = outcome_sums
        num, den = num.astype(np.float64), den.astype(np.float64)
        out["gap"] = np.zeros((R, num.shape[1]))

    def one(ci: int):
        rows = chunks[ci]
        dd = d.rows(rows)
        cni, imd = scores(inputs, dd, pool, rank_sd)
        lb, oda = classify_batch(inputs, dd, cni, imd)
        lbf = lb.astype(np.float32)
        lbt = np.ascontiguousarray(lbf.T)  # (areas x R): sparse products read it row by row
        res = {
            "rows": rows,
            "p_lb": lb.sum(axis=0),
            "p_oda": oda.sum(axis=0),
            "size": lb.sum(axis=1),
            "inter": lbf @ nominal_lb,
            "lad_a": (lad_t @ lbt).T,
            "lad_p": (lad_t @ (lbt * pop[:, None])).T,
        }
        if outcome_sums is not None:
            odaf = oda.astype(np.float64)
            lb64 = lbf.astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                res["gap"] = (lb64 @ num) / (lb64 @ den) - (odaf @ num) / (odaf @ den)
        take = rows < rank_sample
        if take.any():
            res["ranks"] = (min_ranks(cni[take]), min_ranks(imd[take]))
        return res

    workers = workers or min(2, os.cpu_count() or 1)
    done = 0
    with _one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as executor:
        for res in executor.map(one, range(len(chunks))):
            rows = res["rows"]
            out["p_lb"] += res["p_lb"]
            out["p_oda"] += res["p_oda"]
            out["size"][rows] = res["size"]
            out["jaccard"][rows] = res["inter"] / np.maximum(res["size"] + n_nominal - res["inter"], 1)
            for key in ("lad_a", "lad_p"):
                out[key][rows] = np.asarray(res[key])
            if "gap" in res:
                out["gap"][rows] = res["gap"]
            if "ranks" in res:
                out["cni_ranks"].append(res["ranks"][0])
                out["imd_ranks"].append(res["ranks"][1])
            done += len(rows)
            if progress is not None:
                progress(done)
    return out


def _one_blas_thread():
    """One BLAS thread per worker while the chunks run: the products here are small, and BLAS
    threads of their own on top of the workers only compete for the cores (OpenBLAS splits a
    product's rows and columns among its threads, never a sum, so the numbers are the same).
    Without threadpoolctl (a dependency of scikit-learn) nothing is limited."""
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _rank_quantiles(ranks: list[np.ndarray], base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """5% (lower) and 95% (higher) order statistics of each area's rank over the rank sample."""
    r = np.ascontiguousarray(np.concatenate(ranks).T)  # (areas x sample): partition along rows
    m = r.shape[1]
    i_lo, i_hi = int(np.floor(0.05 * (m - 1))), int(np.ceil(0.95 * (m - 1)))
    part = np.partition(r, (i_lo, i_hi), axis=1)
    lo, hi = part[:, i_lo].astype("float64"), part[:, i_hi].astype("float64")
    unranked = ~np.isfinite(base)
    return np.where(unranked, np.nan, lo), np.where(unranked, np.nan, hi)


def run_ensemble(
    inputs: EnsembleInputs,
    spec: EnsembleSpec,
    replications: int = 10_000,
    seed: int = 20201,
    outcome_sums=None,
    progress=None,
    workers: int | None = None,
) -> EnsembleResult:
    """Run ``replications`` replications; the same seed gives the same result.

    ``outcome_sums``: optional (names, num (areas x K), den (areas x K)) to carry the left-behind
    minus other-deprived gap of K ratio outcomes through every replication. ``progress(done)``
    is called after each chunk."""
    d = draw(inputs, spec, replications, seed)
    out = evaluate(inputs, d, spec.sources.noise.rank_sd, seed, outcome_sums, progress=progress, workers=workers)
    _, regions = _onehot(inputs.regions)
    _, lads = _onehot(inputs.lad_codes)
    lad_name = pd.Series(inputs.lad_names, index=inputs.lad_codes).groupby(level=0).first().reindex(lads).to_numpy()
    imd_base = inputs.variants[inputs.nominal_variant].base
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as executor:  # the two selections side by side (numpy frees the GIL)
        cni_q = executor.submit(_rank_quantiles, out["cni_ranks"], inputs.cni_base)
        i05, i95 = _rank_quantiles(out["imd_ranks"], imd_base)
        c05, c95 = cni_q.result()
    return EnsembleResult(
        inputs=inputs,
        spec=spec,
        replications=replications,
        seed=seed,
        p_left_behind=out["p_lb"] / replications,
        p_other_deprived=out["p_oda"] / replications,
        cni_rank_q05=c05,
        cni_rank_q95=c95,
        imd_rank_q05=i05,
        imd_rank_q95=i95,
        list_size=out["size"],
        jaccard=out["jaccard"],
        region_areas=out["lad_a"] @ out["lad_region"],
        region_residents=out["lad_p"] @ out["lad_region"],
        lad_areas=out["lad_a"],
        lad_residents=out["lad_p"],
        regions=regions,
        lads=lads,
        lad_names=lad_name,
        draws=d,
        gap=out.get("gap"),
        gap_names=list(outcome_sums[0]) if outcome_sums is not None else [],
    )


#: the arrays of an :class:`EnsembleResult` kept by :func:`cached_ensemble`
_RESULT_ARRAYS = (
    "p_left_behind",
    "p_other_deprived",
    "cni_rank_q05",
    "cni_rank_q95",
    "imd_rank_q05",
    "imd_rank_q95",
    "list_size",
    "jaccard",
    "region_areas",
    "region_residents",
    "lad_areas",
    "lad_residents",
    "regions",
    "lads",
    "lad_names",
)


def cached_ensemble(
    inputs: EnsembleInputs,
    spec: EnsembleSpec,
    replications: int = 10_000,
    seed: int = 20201,
    outcome_sums=None,
    *,
    ctx=None,
) -> EnsembleResult:
    """:func:`run_ensemble`, cached on disk across runs (``<cache>/derived``), keyed by a digest of
    every input (areas, CNI domains, each variant's matrix and domains, the spec, the number of
    replications, the seed, the outcome sums) and of the package's code: a hit is the result the
    run would compute, array for array."""
    from leftbehind.data.sources import cached_arrays, digest_of

    params = digest_of(inputs, spec, replications, seed, outcome_sums)

    def make() -> dict:
        res = run_ensemble(inputs, spec, replications, seed, outcome_sums)
        out = {k: getattr(res, k) for k in _RESULT_ARRAYS}
        if res.gap is not None:
            out["gap"] = res.gap
        return out

    z = cached_arrays(ctx, "ensemble", params, make)
    return EnsembleResult(
        inputs=inputs,
        spec=spec,
        replications=replications,
        seed=seed,
        **{k: z[k] for k in _RESULT_ARRAYS},
        draws=draw(inputs, spec, replications, seed),
        gap=z.get("gap"),
        gap_names=list(outcome_sums[0]) if outcome_sums is not None else [],
    )


BANDS = ((0.95, "robust"), (0.5, "likely"), (0.05, "edge"))


def band(p: np.ndarray) -> np.ndarray:
    """robust (P >= 0.95), likely (0.5 <= P < 0.95), edge (0.05 <= P < 0.5), unlikely (P < 0.05)."""
    p = np.asarray(p)
    return np.select([p >= 0.95, p >= 0.5, p >= 0.05], ["robust", "likely", "edge"], default="unlikely")
