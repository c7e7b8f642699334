"""Build the ensemble's inputs from a run: the areas, their CNI domains and every IMD variant.

* 2020 research edition (December 2017 wards): one variant per ward-IMD construction of the spec
  (route x population base x weighted or unweighted mean), each a sparse matrix of the LSOA
  2011s' weights in each ward, built from the same lookups and populations as ``ward_imd``; the
  run's own construction keeps the run's ward-IMD scores as its base, so with every source off
  the ensemble is the run. IMD 2019 has its seven domains (File 2 ranks, exponentially
  transformed); IMD 2015 is in the mirror as one score only, so its domain weights cannot vary
  (said in ``notes``).
* Current edition (LSOA 2021): CNI 2023's three domains, and two IMD pairings: IMD 2025 (the
  edition's, published scores and domain ranks) and IMD 2019 moved to LSOA 2021 (each LSOA 2021
  takes the mean of its LSOA 2011 parents' domain scores, equal weights: U and S copy the parent,
  M and X average them, as the ONS best-fit lookup pairs them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from leftbehind.analysis.robustness.ensemble import CNI_DOMAINS, DOMAINS, EnsembleInputs, Variant
from leftbehind.errors import UsageError
from leftbehind.indices.transforms import exponential_transform, rankdata

if TYPE_CHECKING:
    from leftbehind.context import RunContext

N_LSOA11 = 32_844


def _weights0(spec_name: str) -> np.ndarray:
    from leftbehind.indices.spec import load_spec

    spec = load_spec(spec_name)
    by = {c.name: c.weight for c in spec.components}
    return np.array([by[d] for d in DOMAINS], dtype="float64")


def _tie_average(ranks: np.ndarray) -> np.ndarray:
    """Published ranks with ties (1234, 1234, 1236) -> the block's average rank (1234.5)."""
    return rankdata(np.asarray(ranks, dtype="float64"), method="average")


def lsoa11_domains(ctx: RunContext) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(LSOA 2011 codes, domain ranks (L x 7), transformed ranks, IMD 2019 score as the run uses it)."""
    from leftbehind.indices.values import small_area_values

    f2 = ctx.load("imd2019_file2").sort_values("lsoa11cd").reset_index(drop=True)
    ranks = f2[[f"{d}_rank" for d in DOMAINS]].to_numpy(dtype="float64")
    x = exponential_transform(ranks, N_LSOA11)
    score = small_area_values("imd2019", ctx=ctx).set_index("lsoa11cd")["score"].reindex(f2["lsoa11cd"])
    return f2["lsoa11cd"].to_numpy(), ranks, x, score.to_numpy(dtype="float64")


def construction_matrix(
    ctx: RunContext, route: str, population: str, measure: str, codes: np.ndarray, lsoa: np.ndarray, digest: str
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The row-normalised (wards ``codes`` x LSOAs ``lsoa``) weights of a ward-IMD construction and
    the rows that have a piece (``digest``: :func:`~leftbehind.data.sources.digest_of` of ``codes``
    and ``lsoa``). Memoised, and cached on disk across runs by the sha256 of the lookups and the
    population it is built from."""
    from leftbehind.data.sources import cached_arrays, memo
    from leftbehind.geography.population import BASES
    from leftbehind.geography.wards import OA_DATASETS

    params = (route, population, measure, digest)

    def make() -> dict:
        a, has = _construction(ctx, route, population, measure, codes, lsoa)
        a = a.tocsr()
        return {"data": a.data, "indices": a.indices, "indptr": a.indptr, "shape": np.array(a.shape), "has": has}

    datasets = ("lookup_lsoa11_wd17", *OA_DATASETS, *([BASES[population][1]] if population in BASES else []))
    z = memo(
        ctx, ("construction_matrix", params), lambda: cached_arrays(ctx, "ward_matrix", params, make, datasets=datasets)
    )
    a = sparse.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(int(x) for x in z["shape"]))
    return a, z["has"]


def _route_table(ctx: RunContext, route: str) -> dict:
    """The small-area -> ward rows of a route with integer codes (memoised): best fit, one row per
    LSOA 2011; OA, one row per Output Area with its Census 2011 residents and its share of its LSOA's."""
    from leftbehind.data.sources import memo

    def make() -> dict:
        from leftbehind.geography.wards import _oa_table, lsoa_ward_shares

        t = lsoa_ward_shares("best_fit", ctx=ctx) if route == "best_fit" else _oa_table(ctx)
        ls_i, ls_u = pd.factorize(t["lsoa11cd"], sort=True)
        wd_i, wd_u = pd.factorize(t["wd17cd"], sort=True)
        out = {"lsoa_i": ls_i, "lsoa_u": np.asarray(ls_u), "wd_i": wd_i, "wd_u": np.asarray(wd_u), "n": len(t)}
        if route != "best_fit":
            out["residents"] = t["residents"]
            out["share"] = t["residents"] / t["residents"].groupby(ls_i).transform("sum")
        return out

    return memo(ctx, ("route_table", route), make)


def _construction(ctx: RunContext, route: str, population: str, measure: str, codes: np.ndarray, lsoa: np.ndarray):
    """Each LSOA's weight in each ward (summed over the route's rows of a ward and an LSOA, in order),
    as a row-normalised matrix: what grouping the long table by ward and LSOA and placing the sums
    would give, on integer codes instead of text."""
    from leftbehind.geography.population import lsoa_population

    t = _route_table(ctx, route)
    if measure == "mean":
        w = np.ones(t["n"])
    elif route != "best_fit" and population == "census2011":
        w = t["residents"].to_numpy(dtype="float64")
    else:
        pop = lsoa_population(population, ctx=ctx).set_index("lsoa11cd")["pop_total"]
        per_row = pop.reindex(t["lsoa_u"]).to_numpy()[t["lsoa_i"]]  # = mapping each row's LSOA code
        w = per_row.astype("float64") if route == "best_fit" else (t["share"] * per_row).to_numpy(dtype="float64")
    ok = (t["wd_i"] >= 0) & (t["lsoa_i"] >= 0)  # rows with a missing code are in no group
    n_ls = len(t["lsoa_u"])
    key = t["wd_i"][ok].astype(np.int64) * n_ls + t["lsoa_i"][ok]
    sums = pd.Series(w[ok]).groupby(key, sort=True).sum()  # groups in (ward, LSOA) code order
    gk = sums.index.to_numpy()
    r = pd.Index(codes).get_indexer(t["wd_u"])[gk // n_ls]
    c = pd.Index(lsoa).get_indexer(t["lsoa_u"])[gk % n_ls]
    pieces = pd.DataFrame({"r": r, "c": c, "weight": sums.to_numpy()})
    return _matrix(pieces, None, None, "r", "c", "weight", shape=(len(codes), len(lsoa)))


def _matrix(pieces: pd.DataFrame, rows, cols, row_col: str, col_col: str, w: str, shape=None):
    """Row-normalised sparse (len(rows) x len(cols)) from a long table; rows with no piece stay empty.
    ``rows``/``cols`` None: the columns already hold positions (-1: none) and ``shape`` is given."""
    r = pieces[row_col].to_numpy() if rows is None else pd.Index(rows).get_indexer(pieces[row_col])
    c = pieces[col_col].to_numpy() if cols is None else pd.Index(cols).get_indexer(pieces[col_col])
    keep = (r >= 0) & (c >= 0)
    shape = (len(rows), len(cols)) if shape is None else shape
    m = sparse.csr_matrix((pieces[w].to_numpy()[keep], (r[keep], c[keep])), shape=shape)
    tot = np.asarray(m.sum(axis=1)).ravel()
    with np.errstate(divide="ignore"):
        inv = np.where(tot > 0, 1.0 / tot, 0.0)
    return sparse.diags(inv) @ m, tot > 0


def ward_inputs(ctx: RunContext, opts, wards: pd.DataFrame, spec) -> EnsembleInputs:
    """Inputs for the 2020 edition's 7,433 wards; ``wards``: the run's ward table."""
    from leftbehind.data.sources import digest_of

    if opts.ward_imd not in ("pop_mean", "mean"):
        raise UsageError(
            f"the ensemble varies mean-score ward IMDs; --ward-imd {opts.ward_imd} is not one",
            hint="use --ward-imd pop_mean (the default) or mean",
        )
    w = wards.sort_values("ward_code").reset_index(drop=True)
    codes = w["ward_code"].to_numpy()
    nominal = f"{opts.lookup}/{opts.population}/{opts.ward_imd}"
    names = list(dict.fromkeys([nominal, *spec.sources.construction.choices]))
    notes = []
    if opts.imd == "2019":
        lsoa, ranks, x, score = lsoa11_domains(ctx)
        w0 = _weights0("imd2019")
    else:
        t = ctx.load("imd2015_scores").sort_values("lsoa11cd").reset_index(drop=True)
        lsoa = t["lsoa11cd"].to_numpy()
        score = t["imd_score"].to_numpy(dtype="float64")
        ranks = t[["imd_rank"]].to_numpy(dtype="float64")
        x = score[:, None]
        w0 = np.array([1.0])
        notes.append("IMD 2015 is held as one score (no domains): its domain weights cannot vary here")
    digest = digest_of(codes, lsoa)
    variants = []
    for name in names:
        route, population, measure = name.split("/")
        population = population if measure == "pop_mean" else "census2011"
        a, has = construction_matrix(ctx, route, population, measure, codes, lsoa, digest)
        # the run's own ward-IMD scores for its construction: with every source off, the ensemble is the run
        base = w["imd_score"].to_numpy(dtype="float64") if name == nominal else np.where(has, a @ score, np.nan)
        variants.append(Variant(name, base, a, x, ranks, len(lsoa), w0))
    return EnsembleInputs(
        unit="wd17",
        codes=codes,
        names=w["ward_name"].to_numpy(),
        lad_codes=w["lad_code"].to_numpy(),
        lad_names=w["lad_name"].to_numpy(),
        regions=w["region_name"].to_numpy(),
        population=w["population"].to_numpy(dtype="float64"),
        nominal_group=w["group"].to_numpy(),
        threshold=opts.threshold,
        cni_base=w["cni_score"].to_numpy(dtype="float64"),
        cni_X=w[[f"{d}_score" for d in CNI_DOMAINS]].to_numpy(dtype="float64"),
        cni_ranks=w[[f"{d}_rank" for d in CNI_DOMAINS]].to_numpy(dtype="float64"),
        variants=variants,
        nominal_variant=0,
        variant_source="construction",
        notes=notes,
    )


def lsoa21_inputs(ctx: RunContext, opts, current: pd.DataFrame, spec) -> EnsembleInputs:
    """Inputs for the current edition's 33,755 LSOAs 2021; ``current``: the run's lsoa21 table."""
    from leftbehind.editions import current_for

    ed = current_for(opts.edition)
    cur = current.sort_values("lsoa21_code").reset_index(drop=True)
    codes = cur["lsoa21_code"].to_numpy()
    n = len(codes)
    cni = ctx.load(ed.cni.dataset).set_index("lsoa21cd").reindex(codes)
    cni_ranks = cni[[f"{d}_rank" for d in CNI_DOMAINS]].to_numpy(dtype="float64")
    cni_x = exponential_transform(np.column_stack([_tie_average(c) for c in cni_ranks.T]), n)
    imd = ctx.load(ed.imd.dataset).set_index("lsoa21cd").reindex(codes)
    r25 = imd[[f"{d}_rank" for d in DOMAINS]].to_numpy(dtype="float64")
    w0 = _weights0("iod2025_imd")
    v25 = Variant(
        "iod2025",
        imd[ed.imd.score_column].to_numpy(dtype="float64"),
        sparse.identity(n, format="csr"),
        exponential_transform(r25, n),
        r25,
        n,
        w0,
    )
    lsoa11, ranks11, x11, score11 = lsoa11_domains(ctx)
    lk = ctx.load("lookup_lsoa11_lsoa21")[["lsoa11cd", "lsoa21cd"]].drop_duplicates().assign(weight=1.0)
    m, has = _matrix(lk, codes, lsoa11, "lsoa21cd", "lsoa11cd", "weight")
    v19 = Variant("imd2019_lsoa21", np.where(has, m @ score11, np.nan), m.tocsr(), x11, ranks11, len(lsoa11), w0)
    return EnsembleInputs(
        unit="lsoa21",
        codes=codes,
        names=cni["lsoa21nm"].to_numpy(),
        lad_codes=cur["lad_code"].to_numpy(),
        lad_names=cur["lad_name"].to_numpy(),
        regions=cur["region_name"].to_numpy(),
        population=cur["population"].to_numpy(dtype="float64"),
        nominal_group=cur["group"].to_numpy(),
        threshold=opts.threshold,
        cni_base=cni[ed.cni.score_column].to_numpy(dtype="float64"),
        cni_X=cni_x,
        cni_ranks=cni_ranks,
        variants=[v25, v19],
        nominal_variant=0,
        variant_source="pairing",
        notes=[],
    )
