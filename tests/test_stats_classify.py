"""Unit tests: interval estimates and the left-behind classification (small fixtures)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leftbehind.analysis.leftbehind import classify, cutoff, diagnostics
from leftbehind.analysis.stats import bootstrap_ratios, percentile_interval
from leftbehind.errors import UsageError


def test_bootstrap_ratios_are_reproducible_and_cover_the_estimate():
    rng = np.random.default_rng(0)
    num = rng.random((50, 2)) * 10
    den = np.ones((50, 2)) * 10
    est, reps = bootstrap_ratios(num, den, replicates=500, seed=1)
    est2, reps2 = bootstrap_ratios(num, den, replicates=500, seed=1)
    assert np.array_equal(reps, reps2)
    lo, hi = percentile_interval(reps)
    assert np.all(lo < est) and np.all(est < hi)
    assert est == pytest.approx(num.sum(axis=0) / den.sum(axis=0))


def wards(cni, imd):
    return pd.DataFrame({"ward_code": [f"W{i}" for i in range(len(cni))], "cni_rank": cni, "imd_rank": imd})


def test_cut_off_rule():
    assert cutoff(7_433, 0.10) == 743
    assert cutoff(7_421, 0.10) == 742
    assert cutoff(100, 0.10) == 10
    with pytest.raises(UsageError, match="between 0 and 1"):
        cutoff(100, 1.5)


def test_groups_ties_and_missing_imd():
    # 20 wards, cut-off floor(0.1 * 20) = 2
    cni = [1, 2, 3, 2, 5, 1, *range(7, 21)]
    imd = [1, 2, 2, 3, np.nan, 9, *range(7, 21)]
    c = classify(wards(cni, imd), 0.10)
    assert c.attrs["cutoff"] == 2
    assert c["group"].tolist()[:6] == ["left_behind", "left_behind", "other_deprived", "rest", "no_imd", "rest"]
    # two wards tied at IMD rank 2 are both inside the cut-off
    assert c.loc[[1, 2], "imd_top"].all()
    assert set(c["group"]) <= {"left_behind", "other_deprived", "rest", "no_imd"}


def test_diagnostics_lists_every_difference():
    c = classify(wards([1, 2, 1, 9, 9, 9, 9, 9, 9, 9], [1, 1, 9, 1, 9, 9, 9, 9, 9, 9]), 0.2)
    published = pd.Series(
        [True, False, True, False, False, False, False, False, False, False], index=[f"W{i}" for i in range(10)]
    )
    d, m = diagnostics(c, published)
    assert dict(zip(d["ward_code"], d["status"], strict=True)) == {"W0": "matched", "W1": "extra", "W2": "missed"}
    assert m["matched"] == 1 and m["missed"] == 1 and m["extra"] == 1
    assert m["f1"] == pytest.approx(0.5)
    missed = d.set_index("ward_code").loc["W2"]
    assert missed["imd_margin"] == 2 - 9 and "outside the top 2" in missed["reason"]
