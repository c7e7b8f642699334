"""Spatial statistics (``leftbehind.analysis.spatial.stats``) on lattices with known structure.

Rook lattices (``libpysal.weights.lat2W``, ids row-major) carry patterns whose join counts can be
counted by hand: a checkerboard (no black–black join), a solid block (2·5·4 joins), adjacent and
distant blocks for the co-location count, a gradient for Moran's I, a white hole in a black block.
The permutation p-values are checked against exact laws (the hypergeometric distribution of a
local join count under conditional permutation) and against esda.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from libpysal.weights import lat2W
from scipy.stats import hypergeom

from leftbehind.analysis.spatial.stats import (
    GlobalStat,
    LocalJoinCounts,
    bivariate_join_counts,
    check_weights,
    components,
    conditional_join_counts,
    global_join_counts,
    islands,
    local_join_counts,
    morans_i,
    surrounded,
)
from leftbehind.errors import DataError, UsageError

P = 199  # permutations where the test does not need more


def rook(rows: int, cols: int | None = None) -> sp.csr_matrix:
    return lat2W(rows, cols or rows, rook=True).sparse.astype(np.int8).tocsr()


def grid(rows: int, cols: int | None = None) -> np.ndarray:
    return np.zeros((rows, cols or rows), dtype=np.int8)


def with_island(W: sp.csr_matrix) -> sp.csr_matrix:
    """W plus one isolated area (the last row)."""
    return sp.block_diag([W, sp.csr_matrix((1, 1), dtype=W.dtype)], format="csr")


def rook_edges(W: sp.csr_matrix) -> list[tuple[int, int]]:
    c = sp.triu(W, k=1).tocoo()
    return list(zip(c.row.tolist(), c.col.tolist(), strict=True))


@pytest.fixture(scope="module")
def checkerboard():
    g = grid(10)
    r, c = np.indices(g.shape)
    g[(r + c) % 2 == 0] = 1
    return rook(10), g.ravel()


@pytest.fixture(scope="module")
def block():
    g = grid(20)
    g[5:10, 5:10] = 1
    return rook(20), g.ravel()


# ---------------------------------------------------------------- global join counts


def test_checkerboard_has_no_black_black_join_and_is_dispersed(checkerboard):
    W, y = checkerboard
    res = global_join_counts(W, y, permutations=P, seed=3)
    assert isinstance(res, GlobalStat)
    assert res.statistic == "join_count_bb"
    assert res.value == 0.0
    assert res.p >= 0.95
    assert res.z < -5
    assert res.permutations == P
    # exact expectation: 180 joins × 50·49 / (100·99)
    assert res.expected_analytic == pytest.approx(180 * 50 * 49 / (100 * 99))
    assert res.expected == pytest.approx(res.expected_analytic, rel=0.05)
    assert "no islands" in res.note


def test_block_join_count_is_forty_and_clustered(block):
    W, y = block
    res = global_join_counts(W, y, permutations=P, seed=1)
    assert res.value == 40.0  # 5 rows × 4 + 5 columns × 4
    assert res.p <= 0.01
    assert res.z > 3
    assert res.n == 400 and res.n_islands == 0


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # esda.Join_Counts under pandas 3
def test_join_count_engines_agree_with_esda(block):
    import esda
    import libpysal

    W, y = block
    ours = global_join_counts(W, y, permutations=P, seed=5)
    ref = global_join_counts(W, y, permutations=P, seed=5, engine="esda")
    assert ref.value == ours.value == esda.Join_Counts(y.astype(float), libpysal.weights.lat2W(20, 20), 0).bb
    assert ref.p == pytest.approx(ours.p, abs=0.02)
    assert ref.expected == pytest.approx(ours.expected, rel=0.15)
    # a random pattern: both p-values are Monte Carlo estimates of the same quantity
    yr = (np.random.default_rng(0).random(400) < 0.3).astype(int)
    a = global_join_counts(W, yr, permutations=999, seed=1)
    b = global_join_counts(W, yr, permutations=999, seed=1, engine="esda")
    assert a.value == b.value
    assert abs(a.p - b.p) < 0.1
    # the esda engine leaves numpy's global generator as it was
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    global_join_counts(W, y, permutations=9, engine="esda")
    assert np.random.random() == before


def test_constant_y_does_not_crash():
    W = rook(5)
    res = global_join_counts(W, np.zeros(25), permutations=P)
    assert res.value == 0 and res.p == 1.0 and np.isnan(res.z)
    with pytest.raises(UsageError, match="both values"):
        global_join_counts(W, np.zeros(25), permutations=P, engine="esda")
    with pytest.raises(UsageError, match="engine"):
        global_join_counts(W, np.zeros(25), engine="other")


# ---------------------------------------------------------------- bivariate join counts


def test_conditional_join_counts_separate_clustering_from_that_of_the_deprived():
    """A random 30% of a clustered 'deprived' block: clustered against all areas, not among the
    deprived; a compact sub-block of it: clustered both ways."""
    W = rook(30)
    within = grid(30)
    within[5:15, 5:15] = 1
    rng = np.random.default_rng(7)
    y = within.ravel() * (rng.random(900) < 0.3)
    assert global_join_counts(W, y, permutations=P, seed=1).p <= 0.01
    cond = conditional_join_counts(W, y, within.ravel(), permutations=P, seed=1)
    assert cond.p > 0.05 and abs(cond.z) < 2.5
    # the analytic expectation and the permutation mean agree
    assert cond.expected == pytest.approx(cond.expected_analytic, rel=0.1)
    compact = grid(30)
    compact[5:8, 5:15] = 1
    c2 = conditional_join_counts(W, compact.ravel(), within.ravel(), permutations=P, seed=1)
    assert c2.value == 3 * 9 + 2 * 10 and c2.p <= 0.01
    with pytest.raises(UsageError, match="not in the 'within' set"):
        conditional_join_counts(W, compact.ravel(), np.zeros(900), permutations=P)


def test_bivariate_adjacent_blocks_count_the_shared_edges():
    W = rook(20)
    gx, gz = grid(20), grid(20)
    gx[0:3, 0:3] = 1
    gz[0:4, 3:6] = 1  # shares the 3 vertical edges between columns 2 and 3, rows 0-2
    x, z = gx.ravel(), gz.ravel()
    hand = sum((x[i] and z[j]) or (x[j] and z[i]) for i, j in rook_edges(W))
    res = bivariate_join_counts(W, x, z, permutations=P)
    assert res.statistic == "bivariate_join_count_lb_other_deprived"
    assert res.value == hand == 3
    assert res.value == float(x @ W @ z)
    nx, nz, joins = 9, 12, W.nnz / 2
    assert res.expected_analytic == pytest.approx(2 * joins * nx * nz / (400 * 399))
    assert res.expected == pytest.approx(res.expected_analytic, rel=0.2)


def test_bivariate_interleaved_stripes_are_significant():
    W = rook(20)
    gx, gz = grid(20), grid(20)
    gx[0:10, 0:10:2] = 1
    gz[0:10, 1:10:2] = 1
    res = bivariate_join_counts(W, gx.ravel(), gz.ravel(), permutations=P, seed=2)
    assert res.value == 90  # 9 boundaries between stripes × 10 rows
    assert res.p == pytest.approx(1 / (P + 1))
    assert res.z > 10


def test_bivariate_distant_blocks_have_no_join():
    W = rook(20)
    gx, gz = grid(20), grid(20)
    gx[0:3, 0:3] = 1
    gz[15:18, 15:18] = 1
    res = bivariate_join_counts(W, gx.ravel(), gz.ravel(), permutations=P)
    assert res.value == 0
    assert res.p >= 0.5
    assert res.z < 0


def test_bivariate_rejects_overlapping_groups():
    W = rook(4)
    x = np.zeros(16, dtype=int)
    x[:3] = 1
    with pytest.raises(UsageError, match="disjoint"):
        bivariate_join_counts(W, x, x, permutations=P)


# ---------------------------------------------------------------- Moran's I


def test_morans_i_gradient_and_noise():
    W = rook(10)
    grad = np.repeat(np.arange(10.0), 10)  # value = row index
    res = morans_i(W, grad, permutations=P, name="morans_i_row")
    assert res.statistic == "morans_i_row"
    assert res.value > 0.9
    assert res.p <= 0.01
    assert res.expected == res.expected_analytic == pytest.approx(-1 / 99)
    assert "one-sided in the direction of the observed" in res.note
    noise = np.random.default_rng(42).normal(size=100)
    r2 = morans_i(W, noise, permutations=P)
    assert abs(r2.z) < 3
    assert abs(r2.value) < 0.2


def test_morans_i_drops_missing_values_and_says_so():
    import esda
    import libpysal

    W = rook(10)
    v = np.repeat(np.arange(10.0), 10) + np.random.default_rng(1).normal(size=100)
    v[[1, 10, 55]] = np.nan  # area 0 loses both its neighbours: an island of the restricted graph
    res = morans_i(W, v, permutations=P)
    assert res.n == 97
    assert "3 areas with a missing value dropped" in res.note
    assert res.n_islands == 1 and "1 island" in res.note
    keep = ~np.isnan(v)
    ws = libpysal.weights.WSP(W[keep][:, keep].astype(float).tocsr()).to_W(silence_warnings=True)
    assert res.value == pytest.approx(esda.Moran(v[keep], ws, transformation="r", permutations=0).I)
    np.random.seed(7)
    before = np.random.random()
    np.random.seed(7)
    morans_i(W, v, permutations=9)
    assert np.random.random() == before  # global generator restored


def test_morans_i_bad_values():
    W = rook(4)
    with pytest.raises(UsageError, match="constant"):
        morans_i(W, np.ones(16))
    with pytest.raises(UsageError, match="infinite"):
        morans_i(W, np.r_[np.inf, np.arange(15.0)])
    with pytest.raises(UsageError, match="16 areas"):
        morans_i(W, np.arange(15.0))


# ---------------------------------------------------------------- local join counts


def test_local_checkerboard_all_zero(checkerboard):
    W, y = checkerboard
    res = local_join_counts(W, y, permutations=P)
    assert isinstance(res, LocalJoinCounts)
    assert np.all(res.ljc == 0)
    assert not np.any(res.p_fdr < 0.05)
    assert np.all(res.p[y == 1] == 1.0)  # defined: no permutation has fewer than 0 joins
    assert np.all(np.isnan(res.p[y == 0]))


def test_local_block_interior_is_significant(block):
    W, y = block
    res = local_join_counts(W, y, permutations=999, seed=0)
    g = res.ljc.reshape(20, 20)
    assert np.all(g[6:9, 6:9] == 4)  # interior
    assert g[5, 5] == g[5, 9] == g[9, 5] == g[9, 9] == 2  # corners
    assert np.all(g[5, 6:9] == 3) and np.all(g[6:9, 9] == 3)  # edges
    assert res.ljc[y == 0].sum() == 0
    fdr = res.p_fdr.reshape(20, 20)
    assert np.all(fdr[6:9, 6:9] < 0.05)
    flagged = np.nan_to_num(res.p_fdr, nan=1.0) < 0.05
    assert not np.any(flagged & (y == 0))
    assert np.all(np.isnan(res.p[y == 0])) and np.all(np.isnan(res.p_fdr[y == 0]))
    assert res.n_neighbours.dtype.kind == "i" and res.n_neighbours[0] == 2 and res.n_neighbours[21] == 4
    assert res.permutations == 999


def test_local_p_matches_the_hypergeometric_law(block):
    """Under conditional permutation a y = 1 area's count is Hypergeometric(n - 1, n1 - 1, k)."""
    W, y = block
    perms = 19_999
    res = local_join_counts(W, y, permutations=perms, seed=4)
    t = y == 1
    exact = hypergeom.sf(res.ljc[t] - 1, 399, 24, res.n_neighbours[t])
    se = np.sqrt(exact * (1 - exact) / perms) + 1 / perms
    assert np.all(np.abs(res.p[t] - exact) < 5 * se + 1e-4)


def test_local_join_counts_match_esda(block):
    import libpysal
    from esda import Join_Counts_Local

    W, y = block
    ref = Join_Counts_Local._statistic(y.astype(float), libpysal.weights.lat2W(20, 20), True)
    assert np.array_equal(local_join_counts(W, y, permutations=9).ljc, ref)


def test_local_esda_engine_islands_and_seed():
    """esda's numba engine (compiled once here, ~15 s): same seed, same p; islands get NaN; its
    p-values estimate the same law as the numpy engine's."""
    W = with_island(rook(20))
    g = grid(20)
    g[5:10, 5:10] = 1
    y = np.r_[g.ravel(), 1]  # the island is left behind too
    a = local_join_counts(W, y, permutations=999, seed=11, engine="esda")
    b = local_join_counts(W, y, permutations=999, seed=11, engine="esda")
    assert np.array_equal(a.p, b.p, equal_nan=True)
    assert np.isnan(a.p[400]) and a.ljc[400] == 0 and a.n_neighbours[400] == 0
    c = local_join_counts(W, y, permutations=999, seed=11)
    t = ~np.isnan(c.p)
    assert np.array_equal(t, ~np.isnan(a.p))
    assert np.all(np.abs(a.p[t] - c.p[t]) < 0.03)
    with pytest.raises(UsageError, match="engine"):
        local_join_counts(W, y, engine="other")


def test_seed_determinism(block):
    W, y = block
    yr = (np.random.default_rng(3).random(400) < 0.3).astype(int)
    for fn in (local_join_counts, global_join_counts):
        r1, r2, r3 = fn(W, yr, permutations=P, seed=8), fn(W, yr, permutations=P, seed=8), fn(W, yr, P, seed=9)
        assert np.array_equal(np.atleast_1d(r1.p), np.atleast_1d(r2.p), equal_nan=True)
        assert not np.array_equal(np.atleast_1d(r1.p), np.atleast_1d(r3.p), equal_nan=True)
    z = ((1 - yr) * (np.random.default_rng(4).random(400) < 0.3)).astype(int)
    assert bivariate_join_counts(W, yr, z, P, seed=1) == bivariate_join_counts(W, yr, z, P, seed=1)
    assert morans_i(W, yr + np.arange(400.0) / 400, P, seed=2) == morans_i(W, yr + np.arange(400.0) / 400, P, seed=2)


# ---------------------------------------------------------------- clusters, donut holes, islands


def test_components_one_block_and_ordering_by_size(block):
    W, y = block
    comp = components(W, y)
    assert comp.dtype == np.int64
    assert np.all(comp[y == 1] == 1) and np.all(comp[y == 0] == 0)
    g = grid(20)
    g[0:2, 0:2] = 1  # 4 cells, first by index
    g[10:15, 10:15] = 1  # 25 cells
    g[0:2, 17:19] = 1  # 4 cells, tie with the first: later smallest index
    comp = components(W, g.ravel()).reshape(20, 20)
    assert np.all(comp[10:15, 10:15] == 1)
    assert np.all(comp[0:2, 0:2] == 2)
    assert np.all(comp[0:2, 17:19] == 3)
    assert np.count_nonzero(comp) == 33
    assert np.all(components(W, np.zeros(400)) == 0)


def test_surrounded_donut_hole():
    W = rook(7)
    g = grid(7)
    g[2:5, 2:5] = 1
    g[3, 3] = 0  # white centre: 4 of 4 neighbours black
    s = surrounded(W, g.ravel(), share=1.0).reshape(7, 7)
    assert s[3, 3] and s.sum() == 1
    # a white cell with 2 of its 4 neighbours black
    h = grid(5)
    h[1, 2] = h[2, 1] = 1
    s5 = surrounded(rook(5), h.ravel(), share=0.5).reshape(5, 5)
    assert s5[2, 2] and s5[1, 1]  # (1, 1) also has 2 of 4 black neighbours
    assert not surrounded(rook(5), h.ravel(), share=0.85).reshape(5, 5)[2, 2]
    assert not np.any(surrounded(rook(5), h.ravel(), share=0.5)[h.ravel() == 1])  # designated areas are not holes
    for bad in (0, 1.5, -0.1, float("nan")):
        with pytest.raises(UsageError, match="share"):
            surrounded(W, g.ravel(), share=bad)


def test_islands_are_reported_and_get_no_local_p():
    W = with_island(rook(4))
    y = np.zeros(17, dtype=int)
    y[[0, 1, 4, 5, 16]] = 1  # a 2 × 2 block and the island
    assert islands(W).tolist() == [16]
    assert islands(rook(4)).size == 0
    loc = local_join_counts(W, y, permutations=P)
    assert np.isnan(loc.p[16]) and np.isnan(loc.p_fdr[16]) and loc.ljc[16] == 0
    assert not np.isnan(loc.p[0])
    g = global_join_counts(W, y, permutations=P)
    assert g.value == 4 and g.n_islands == 1 and "1 island " in g.note
    assert global_join_counts(W, y, permutations=P, engine="esda").value == 4
    z = np.zeros(17, dtype=int)
    z[[2, 6]] = 1
    bv = bivariate_join_counts(W, y, z, permutations=P)
    assert bv.value == 2 and "1 island " in bv.note
    m = morans_i(W, np.arange(17.0), permutations=P)
    assert m.n_islands == 1 and "1 island " in m.note
    assert not surrounded(W, 1 - y, share=0.5)[16]
    assert components(W, y)[16] == 2


# ---------------------------------------------------------------- bad inputs


def test_bad_y_is_a_usage_error():
    W = rook(4)
    with pytest.raises(UsageError, match="binary"):
        global_join_counts(W, np.r_[0.5, np.zeros(15)])
    with pytest.raises(UsageError, match="binary"):
        local_join_counts(W, np.r_[np.nan, np.zeros(15)])
    with pytest.raises(UsageError, match="15 values but W describes 16"):
        local_join_counts(W, np.zeros(15))
    with pytest.raises(UsageError, match="numeric"):
        components(W, np.array(["a"] * 16))
    with pytest.raises(UsageError, match="1-d"):
        surrounded(W, np.zeros((4, 4)))
    with pytest.raises(UsageError, match="permutations"):
        global_join_counts(W, np.zeros(16), permutations=0)
    with pytest.raises(UsageError, match="seed"):
        local_join_counts(W, np.zeros(16), seed=-1)
    assert np.all(components(W, np.zeros(16, dtype=bool)) == 0)  # booleans are fine


def test_bad_weights_are_a_data_error():
    W = rook(4)
    check_weights(W, 16)
    asym = W.tolil()
    asym[0, 5] = 1
    with pytest.raises(DataError, match="not symmetric"):
        global_join_counts(asym.tocsr(), np.zeros(16))
    with pytest.raises(DataError, match="not symmetric"):
        check_weights(asym.tocsr(), 16)
    with pytest.raises(DataError, match="not binary"):
        check_weights(lat2W(4, 4, rook=True).sparse / 2, 16)
    diag = W.tolil()
    diag[3, 3] = 1
    with pytest.raises(DataError, match="diagonal"):
        check_weights(diag.tocsr(), 16)
    with pytest.raises(DataError, match=r"shape \(16, 16\), expected \(17, 17\)"):
        check_weights(W, 17)
    with pytest.raises(DataError, match="shape"):
        islands(W[:, :15])
    with pytest.raises(DataError, match="scipy.sparse"):
        islands(W.toarray())
