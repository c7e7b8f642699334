"""The sequence typology (``leftbehind.analysis.history.sequence``).

OM distances against a plain-Python dynamic programme; TRATE costs against hand-computed values;
weighted PAM against brute force and against unweighted FasterPAM on the expanded data (each
unique sequence repeated by its weight); the weighted silhouette against scikit-learn and
kmedoids on the expanded data; the whole typology on a synthetic Markov chain of deciles.
"""

from __future__ import annotations

import itertools

import kmedoids
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import silhouette_samples, silhouette_score

from leftbehind.analysis.history.sequence import (
    label_clusters,
    om_distances,
    transition_rate_costs,
    transition_rates,
    typology,
    unique_sequences,
    weighted_pam,
    weighted_silhouette,
    weighted_silhouette_samples,
)


def markov(n: int, t: int, seed: int = 0, stay: float = 0.7, neighbour: float = 0.12) -> np.ndarray:
    """Deciles 1 … 10: uniform start, then stay / ±1 / any other decile."""
    rng = np.random.default_rng(seed)
    p = np.zeros((10, 10))
    for i in range(10):
        p[i, i] = stay
        for j in (i - 1, i + 1):
            if 0 <= j < 10:
                p[i, j] = neighbour
        far = [j for j in range(10) if abs(j - i) > 1]
        p[i, far] += (1 - p[i].sum()) / len(far)
    cum = p.cumsum(axis=1)
    x = np.empty((n, t), dtype=np.int64)
    x[:, 0] = rng.integers(0, 10, n)
    for k in range(1, t):
        x[:, k] = (rng.random(n)[:, None] > cum[x[:, k - 1]]).sum(axis=1)
    return np.minimum(x, 9) + 1


def om_reference(x, y, costs, indel) -> float:
    """Textbook OM: D[i][j] = min(D[i-1][j-1] + sub, D[i-1][j] + indel, D[i][j-1] + indel)."""
    n, m = len(x), len(y)
    d = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        d[i][0] = d[i - 1][0] + indel
    for j in range(1, m + 1):
        d[0][j] = d[0][j - 1] + indel
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            sub = costs[x[i - 1] - 1][y[j - 1] - 1]
            d[i][j] = min(d[i - 1][j - 1] + sub, d[i - 1][j] + indel, d[i][j - 1] + indel)
    return d[n][m]


def om_reference_matrix(seqs, costs, indel) -> np.ndarray:
    c = np.asarray(costs).tolist()
    rows = [list(map(int, r)) for r in seqs]
    return np.array([[om_reference(a, b, c, indel) for b in rows] for a in rows])


def random_costs(rng, s: int) -> np.ndarray:
    c = rng.random((s, s)) * 2
    c = c + c.T
    np.fill_diagonal(c, 0.0)
    return c


def expand(D, weights, labels=None):
    rep = np.repeat(np.arange(len(weights)), weights)
    out = D[np.ix_(rep, rep)]
    return (out, rep) if labels is None else (out, np.asarray(labels)[rep], rep)


def brute_force(D, w, k) -> float:
    return min(float(w @ D[:, list(m)].min(axis=1)) for m in itertools.combinations(range(len(w)), k))


# -------------------------------------------------------------------------------------------- OM


def test_om_indels_beat_substitutions():
    costs = np.full((4, 4), 2.0)
    np.fill_diagonal(costs, 0.0)
    d = om_distances(np.array([[1, 2, 3], [2, 3, 4]]), costs, indel=0.5)
    assert d.tolist() == [[0.0, 1.0], [1.0, 0.0]]  # delete the 1, insert the 4
    d = om_distances(np.array([[1, 2, 3], [2, 3, 4]]), costs, indel=3.5)
    assert d[0, 1] == 6.0  # three substitutions: two indels would cost 7
    assert om_distances(np.array([[1, 2, 3], [2, 3, 4]]), costs)[0, 1] == 2.0  # auto: indel = max / 2 = 1


@settings(max_examples=60, deadline=None)
@given(
    t=st.integers(1, 5),
    s=st.integers(2, 5),
    n=st.integers(1, 9),
    seed=st.integers(0, 2**32 - 1),
    indel=st.one_of(st.just("auto"), st.floats(0.05, 3.0)),
)
def test_om_equals_reference(t, s, n, seed, indel):
    rng = np.random.default_rng(seed)
    seqs = rng.integers(1, s + 1, (n, t))  # unsorted, may repeat
    costs = random_costs(rng, s)
    e = costs.max() / 2 if indel == "auto" else indel
    ref = om_reference_matrix(seqs, costs, e)
    got = om_distances(seqs, costs, indel)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    uniq = np.unique(seqs, axis=0)  # the sorted path, in tiny blocks (one column each)
    np.testing.assert_allclose(
        om_distances(uniq, costs, indel, block_bytes=1), om_reference_matrix(uniq, costs, e), rtol=0, atol=1e-12
    )


def test_om_blocks_float32_and_symmetry():
    rng = np.random.default_rng(3)
    uniq, _, _ = unique_sequences(rng.integers(1, 7, (400, 4)))
    costs = random_costs(rng, 6)
    whole = om_distances(uniq, costs)
    blocks = om_distances(uniq, costs, block_bytes=200_000)  # many blocks of columns
    assert np.array_equal(whole, blocks)
    assert np.array_equal(whole, whole.T) and not whole.diagonal().any()
    pick = rng.choice(len(uniq), 25, replace=False)
    np.testing.assert_allclose(whole[np.ix_(pick, pick)], om_reference_matrix(uniq[pick], costs, costs.max() / 2))
    f32 = om_distances(uniq, costs, dtype=np.float32)
    assert f32.dtype == np.float32
    np.testing.assert_allclose(f32, whole, rtol=1e-5, atol=1e-5)


def test_om_rejects_bad_input():
    costs = np.ones((3, 3)) - np.eye(3)
    with pytest.raises(ValueError, match="states"):
        om_distances(np.array([[1, 4]]), costs)
    with pytest.raises(ValueError, match="whole-number"):
        om_distances(np.array([[1.0, np.nan]]), costs)
    bad = costs.copy()
    bad[0, 1] = 0.5
    with pytest.raises(ValueError, match="symmetric"):
        om_distances(np.array([[1, 2]]), bad)


# ----------------------------------------------------------------------------------- sequences


def test_unique_sequences_round_trip():
    seqs = markov(2000, 3, seed=5)
    uniq, w, inv = unique_sequences(seqs)
    assert np.array_equal(uniq[inv], seqs) and w.sum() == len(seqs)
    assert np.array_equal(np.bincount(inv), w)
    assert len(np.unique(uniq, axis=0)) == len(uniq)
    assert np.array_equal(np.lexsort(uniq.T[::-1]), np.arange(len(uniq)))  # lexicographic: om_distances' fast path


def test_trate_hand_computed():
    # transitions (weight): 1→2, 2→3 (2); 1→1, 1→2 (1); 3→3, 3→3 (1); state 4 never occurs
    seqs = np.array([[1, 2, 3], [1, 1, 2], [3, 3, 3]])
    w = np.array([2, 1, 1])
    p = transition_rates(seqs, w, n_states=4)
    assert p[0].tolist() == [0.25, 0.75, 0.0, 0.0]  # from 1: 1→1 once, 1→2 three times
    assert p[1].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert p[2].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert p[3].tolist() == [0.0, 0.0, 0.0, 0.0]  # never an origin
    c = transition_rate_costs(seqs, w, n_states=4)
    expected = np.array(
        [
            [0.0, 2 - 0.75, 2.0, 2.0],
            [2 - 0.75, 0.0, 2 - 1.0, 2.0],
            [2.0, 2 - 1.0, 0.0, 2.0],
            [2.0, 2.0, 2.0, 0.0],
        ]
    )
    np.testing.assert_allclose(c, expected, rtol=0, atol=1e-15)
    assert np.array_equal(c, c.T) and not c.diagonal().any()
    np.testing.assert_allclose(transition_rate_costs(seqs, w, 4, cval=4.0), np.where(c > 0, c + 2, 0))
    # weights are frequencies: the expanded rows give the same costs
    assert np.array_equal(transition_rate_costs(np.repeat(seqs, w, axis=0), n_states=4), c)


def test_trate_on_unique_equals_full_data():
    seqs = markov(5000, 4, seed=2)
    uniq, w, _ = unique_sequences(seqs)
    full = transition_rate_costs(seqs)
    np.testing.assert_allclose(transition_rate_costs(uniq, w), full, rtol=0, atol=1e-14)
    assert full.shape == (10, 10) and (full[~np.eye(10, dtype=bool)] <= 2).all()


# ------------------------------------------------------------------------------------------ PAM


def small_instances(count: int, seed: int = 0):
    """(D, weights, k): OM distances of random sequences or Euclidean points, u ≤ 10, k ≤ 3."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        u = int(rng.integers(4, 11))
        k = int(rng.integers(1, min(3, u - 1) + 1))
        w = rng.integers(1, 6, u)
        if i % 2:
            x = rng.random((u, 2))
            D = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
        else:
            seqs = np.unique(rng.integers(1, 6, (3 * u, 3)), axis=0)[:u]
            u = len(seqs)
            w = w[:u]
            k = min(k, u - 1)
            D = om_distances(seqs, random_costs(rng, 5))
        yield D, w, k


def test_weighted_pam_equals_brute_force_and_expanded_fasterpam():
    for D, w, k in small_instances(40):
        res = weighted_pam(D, w, k)
        best = brute_force(D, w, k)
        assert res.loss == pytest.approx(best, rel=1e-12, abs=1e-12)
        # the loss is Σ w_i d(i, medoid(label_i)) and labels follow the medoid order
        assert res.loss == pytest.approx(float(w @ D[np.arange(len(w)), res.medoids[res.labels]]), rel=1e-12)
        assert np.array_equal(res.labels[res.medoids], np.arange(k))
        ex, _ = expand(D, w)
        starts = [kmedoids.fasterpam(ex, k, init="build")]
        starts += [kmedoids.fasterpam(ex, k, init="random", random_state=s, n_cpu=1) for s in range(10)]
        assert res.loss == pytest.approx(min(r.loss for r in starts), rel=1e-9, abs=1e-12)


def test_weights_move_the_medoid():
    # points 0, 1, 2, 10: a heavy 2 pulls the first medoid onto it
    x = np.array([0.0, 1.0, 2.0, 10.0])
    D = np.abs(np.subtract.outer(x, x))
    assert weighted_pam(D, np.array([1, 1, 1, 1]), 2).medoids.tolist() == [1, 3]
    assert weighted_pam(D, np.array([1, 1, 9, 1]), 2).medoids.tolist() == [2, 3]
    assert weighted_pam(D, np.array([9, 1, 1, 1]), 1).medoids.tolist() == [0]  # k = 1 (own path)
    assert weighted_pam(D, np.array([9, 1, 1, 1]), 1).loss == pytest.approx(1 + 2 + 10)


def test_weighted_pam_deterministic_and_ordered():
    seqs = markov(3000, 3, seed=7)
    uniq, w, _ = unique_sequences(seqs)
    D = om_distances(uniq, transition_rate_costs(uniq, w))
    a = weighted_pam(D, w, 6, seed=11, sequences=uniq)
    b = weighted_pam(D, w, 6, seed=11, sequences=uniq)
    assert np.array_equal(a.medoids, b.medoids) and np.array_equal(a.labels, b.labels) and a.loss == b.loss
    means = uniq[a.medoids].mean(axis=1)
    assert (np.diff(means) >= 0).all()  # cluster order: mean decile of the medoid
    assert set(a.labels.tolist()) == set(range(6))
    # the same solution from the float32 matrix, up to rounding
    c = weighted_pam(D.astype(np.float32), w, 6, seed=11, sequences=uniq)
    assert c.loss == pytest.approx(a.loss, rel=1e-5)
    with pytest.raises(ValueError, match="symmetric"):
        weighted_pam(np.triu(D), w, 3)
    with pytest.raises(ValueError, match="k must"):
        weighted_pam(D, w, len(w) + 1)


# ----------------------------------------------------------------------------------- silhouette


def test_weighted_silhouette_equals_expanded():
    rng = np.random.default_rng(4)
    for i in range(30):
        u = int(rng.integers(4, 14))
        x = rng.random((u, 2))
        D = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
        w = rng.integers(1, 5, u)
        if i % 3 == 0:
            w[0] = 1  # a singleton cluster of one copy: s = 0
            labels = np.concatenate([[0], rng.integers(1, 4, u - 1)])
        else:
            labels = rng.integers(0, 4, u)
        if len(np.unique(labels)) < 2:
            labels[:2] = [0, 1]
        ex, ex_labels, rep = expand(D, w, labels)
        got = weighted_silhouette(D, w, labels)
        assert got == pytest.approx(silhouette_score(ex, ex_labels, metric="precomputed"), abs=1e-10)
        assert got == pytest.approx(kmedoids.silhouette(ex, ex_labels, n_cpu=1)[0], abs=1e-10)
        per_copy = silhouette_samples(ex, ex_labels, metric="precomputed")
        first = np.searchsorted(rep, np.arange(u))
        np.testing.assert_allclose(weighted_silhouette_samples(D, w, labels), per_copy[first], rtol=0, atol=1e-10)


def test_weighted_silhouette_om_and_errors():
    seqs = markov(400, 3, seed=9)
    uniq, w, inv = unique_sequences(seqs)
    D = om_distances(uniq, transition_rate_costs(uniq, w))
    res = weighted_pam(D, w, 4)
    full = D[np.ix_(inv, inv)]
    assert weighted_silhouette(D, w, res.labels) == pytest.approx(
        silhouette_score(full, res.labels[inv], metric="precomputed"), abs=1e-10
    )
    with pytest.raises(ValueError, match="two clusters"):
        weighted_silhouette(D, w, np.zeros(len(w), dtype=int))


# ------------------------------------------------------------------------------------- typology


def test_typology_on_synthetic_deciles():
    seqs = markov(32_840, 3, seed=1)
    t = typology(seqs)
    assert sorted(t.silhouettes) == list(range(3, 16)) and sorted(t.solutions) == list(range(3, 16))
    assert 3 <= t.best_k <= 15
    assert t.silhouettes[t.best_k] == max(t.silhouettes.values())
    lab = t.labels_for(6)
    assert lab.shape == (len(seqs),) and len(np.unique(lab)) == 6
    assert np.array_equal(t.labels_for(), lab)
    med = t.medoid_sequences(6)
    assert med.shape == (6, 3)
    assert np.array_equal(t.uniq[t.inverse], seqs)
    assert np.allclose(t.costs, transition_rate_costs(seqs)) and t.indel == pytest.approx(t.costs.max() / 2)
    # the loss is the loss of the full data: Σ over rows of d(row, its medoid)
    sol = t.solutions[6]
    per_row = t.distances[t.inverse, sol.medoids[lab]]
    assert sol.loss == pytest.approx(per_row.sum(), rel=1e-12)
    names = t.names(6)
    assert len(set(names)) == 6 and names[0] == "entrenched deprivation"
    assert set(t.timings) == {"costs", "distances", "pam", "silhouette", "total"}


def test_typology_silhouette_equals_full_data_and_t6_path():
    seqs = markov(300, 3, seed=8, stay=0.5)
    t = typology(seqs, ks=(3, 4), k_export=5)
    assert sorted(t.silhouettes) == [3, 4, 5]  # k_export is always solved
    full = t.distances[np.ix_(t.inverse, t.inverse)]
    for k in (3, 4, 5):
        assert t.silhouettes[k] == pytest.approx(
            silhouette_score(full, t.labels_for(k), metric="precomputed"), abs=1e-10
        )
    seqs6 = markov(3000, 6, seed=2)
    t6 = typology(seqs6, ks=(6,), dtype=np.float32, n_init=2)
    assert t6.distances.dtype == np.float32 and list(t6.silhouettes) == [6] and t6.best_k == 6
    assert len(np.unique(t6.labels_for(6))) == 6 and t6.medoid_sequences().shape == (6, 6)
    with pytest.raises(ValueError, match="every k"):
        typology(seqs, ks=(1, 3))


# ------------------------------------------------------------------------------------------ names


def test_label_clusters():
    names = label_clusters(np.array([[5, 5, 5], [1, 1, 1], [1, 2, 4], [9, 8, 6], [8, 8, 9], [2, 2, 3], [4, 5, 4]]))
    assert names == [
        "stable middle (5-5-5)",
        "entrenched deprivation",
        "deprived, improving",
        "affluent, worsening",
        "stable affluent",
        "persistently deprived",
        "stable middle (4-5-4)",
    ]
    assert len(set(label_clusters(np.array([[1, 1, 1], [1, 1, 1], [2, 2, 2], [2, 2, 2]])))) == 4
    assert label_clusters(np.array([[3, 3, 3, 3, 3, 3]])) == ["entrenched deprivation"]
