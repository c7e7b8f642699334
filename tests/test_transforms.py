"""Unit and property tests of the index transformations (small synthetic inputs)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from leftbehind.indices.transforms import (
    deciles,
    exponential_transform,
    normal_scores,
    quantile_groups,
    rank_areas,
    weighted_sum,
)

floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def test_exponential_transform_published_anchor_points():
    n = 1000
    # R = (n + 1 - r)/n: the most deprived (r=1) gets R=1 -> 100; R = 0.9 -> 50.43 (IoD technical report)
    x = exponential_transform(np.array([1, 101, n]), n)
    assert x[0] == pytest.approx(100.0, abs=1e-9)
    assert x[1] == pytest.approx(50.43, abs=0.005)
    assert x[2] == pytest.approx(-23 * np.log(1 - (1 / n) * (1 - np.exp(-100 / 23))), rel=1e-12)
    assert 0 < x[2] < 0.05


def test_rank_one_is_highest_score_and_ties_break_by_code():
    scores = np.array([5.0, 9.0, 5.0, 1.0])
    codes = np.array(["E4", "E3", "E1", "E2"])
    r = rank_areas(scores, codes, ties="first")
    assert r.tolist() == [3, 1, 2, 4]  # E1 before E4 at the tie
    # the same areas in another row order get the same ranks
    perm = [2, 0, 3, 1]
    assert rank_areas(scores[perm], codes[perm]).tolist() == r[perm].tolist()
    assert rank_areas(scores, ties="min").tolist() == [2, 1, 2, 4]
    assert rank_areas(scores, ties="average").tolist() == [2.5, 1, 2.5, 4]
    assert rank_areas(scores, higher_is_worse=False).tolist() == [2, 4, 3, 1]


def test_rank_missing_scores_stay_missing():
    r = rank_areas(np.array([1.0, np.nan, 3.0]))
    assert r[0] == 2 and np.isnan(r[1]) and r[2] == 1


def test_unknown_tie_rule_is_refused():
    with pytest.raises(ValueError, match="unknown tie rule"):
        rank_areas([1.0, 2.0], ties="random")


def test_deciles_follow_the_iod_boundaries():
    # IoD2025: 33,755 LSOAs, decile 1 = ranks 1..3,375 and decile 2 = 3,376..6,751 (published)
    n = 33_755
    d = deciles(np.array([1, 3375, 3376, 6751, 6752, 30379, 30380, n]), n)
    assert d.tolist() == [1, 1, 2, 2, 3, 9, 10, 10]
    sizes = np.bincount(deciles(np.arange(1, n + 1), n))[1:]
    assert sizes.tolist() == [3375, 3376, 3375, 3376, 3375, 3376, 3375, 3376, 3375, 3376]


def test_normal_scores_are_blom_free_van_der_waerden():
    x = np.array([3.0, 1.0, 2.0, 2.0])
    y = normal_scores(x)
    r = np.array([4.0, 1.0, 2.5, 2.5])
    assert np.allclose(y, stats.norm.ppf(r / 5))
    assert np.allclose(normal_scores(x, higher_is_worse=False), -y)
    assert np.isnan(normal_scores(np.array([1.0, np.nan]))[1])


def test_weighted_sum():
    import pandas as pd

    df = pd.DataFrame({"a": [1.0, 2.0], "b": [10.0, 20.0]})
    assert weighted_sum(df, {"a": 0.5, "b": 0.25}).tolist() == [3.0, 6.0]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=2, max_value=5000), st.data())
def test_exponential_transform_is_monotone_and_bounded(n, data):
    ranks = np.sort(np.array(data.draw(st.lists(st.integers(1, n), min_size=2, max_size=50))))
    x = exponential_transform(ranks, n)
    assert np.all(np.diff(x) <= 0)  # a worse (smaller) rank never scores lower
    distinct = np.unique(ranks)
    assert np.all(np.diff(exponential_transform(distinct, n)) < 0)  # strictly, for distinct ranks
    assert np.all((x > 0) & (x <= 100 + 1e-9))


@settings(max_examples=200, deadline=None)
@given(st.lists(floats, min_size=1, max_size=300))
def test_ranks_are_a_permutation(values):
    x = np.array(values)
    codes = np.array([f"E{i:08d}" for i in range(len(x))])
    r = rank_areas(x, codes)
    assert sorted(r.astype(int).tolist()) == list(range(1, len(x) + 1))
    # higher score -> better (smaller) rank
    order = np.argsort(r)
    assert np.all(np.diff(x[order]) <= 0)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=20000), st.integers(min_value=2, max_value=20))
def test_groups_are_equal_count_within_one(n, groups):
    g = quantile_groups(np.arange(1, n + 1), n, groups)
    sizes = np.bincount(g, minlength=groups + 1)[1:]
    assert sizes.sum() == n
    assert sizes.max() - sizes.min() <= 1
    assert np.all(np.diff(g) >= 0)  # groups follow the rank order
    assert g.min() >= 1 and g.max() <= groups


@settings(max_examples=100, deadline=None)
@given(st.lists(floats, min_size=2, max_size=200))
def test_normal_scores_preserve_order(values):
    x = np.array(values)
    y = normal_scores(x)
    i, j = np.triu_indices(len(x), 1)
    assert np.all(np.sign(y[i] - y[j]) == np.sign(x[i] - x[j]))
