"""aggregate(): each IoD summary measure on a small hand-computed fixture."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leftbehind.geography.aggregate import (
    OUTPUT_COLUMNS,
    AggregationError,
    aggregate,
    extent_weight,
    national_percentile,
)

N = 100  # national small areas: rank r has percentile r and score 101 - r


def national() -> pd.DataFrame:
    rank = np.arange(1, N + 1)
    pop = np.full(N, 10.0)
    special = {10: 100, 11: 200, 30: 300, 31: 400, 5: 60, 20: 100, 50: 840}
    for r, p in special.items():
        pop[r - 1] = p
    return pd.DataFrame(
        {"lsoa11cd": [f"E01{r:06d}" for r in rank], "score": 101.0 - rank, "rank": rank, "population": pop}
    )


def mapping() -> pd.DataFrame:
    area = np.full(N, "C", dtype=object)
    area[[9, 10, 29, 30]] = "A"  # ranks 10, 11, 30, 31
    area[[4, 19, 49]] = "B"  # ranks 5, 20, 50
    return pd.DataFrame(
        {
            "lsoa11cd": [f"E01{r:06d}" for r in range(1, N + 1)],
            "area_code": area,
            "area_name": np.char.add("Area ", area.astype(str)),
        }
    )


@pytest.fixture
def result() -> pd.DataFrame:
    return aggregate(national(), mapping()).set_index("area_code")


def test_extent_weights_at_the_boundaries():
    w = extent_weight([1, 10, 11, 12, 30, 31, 100])
    assert w.tolist() == pytest.approx([1.0, 1.0, 0.95, 0.95 - 0.9 / 19, 0.05, 0.0, 0.0])
    assert national_percentile([1, 10, 11, 100], 100).tolist() == [1, 10, 11, 100]
    assert national_percentile([1, 328, 329, 32_844], 32_844).tolist() == [1, 1, 2, 100]


def test_average_score_and_rank(result):
    # A: ranks 10, 11, 30, 31 with 100, 200, 300, 400 people; scores = reversed ranks = 91, 90, 71, 70
    assert result.loc["A", "population"] == 1000
    assert result.loc["A", "average_score"] == pytest.approx((100 * 91 + 200 * 90 + 300 * 71 + 400 * 70) / 1000)
    assert result.loc["A", "average_rank"] == pytest.approx(76.4)  # most deprived has the highest number


def test_extent_sliding_scale(result):
    # 10th percentile counts fully, 11th at 0.95, 30th at 0.05, 31st not at all
    assert result.loc["A", "extent"] == pytest.approx((100 * 1 + 200 * 0.95 + 300 * 0.05 + 400 * 0) / 1000)
    assert result.loc["A", "extent"] == pytest.approx(0.305)
    # B: 5th percentile (60 people) fully, 20th (100 people) at 0.95 - 9 * 0.9/19
    assert result.loc["B", "extent"] == pytest.approx((60 + 100 * (0.95 - 9 * 0.9 / 19)) / 1000)


def test_local_concentration_counts_the_crossing_lsoa_in_part(result):
    # A: 10% of 1,000 people = exactly the 100 people of its most deprived LSOA (reversed rank 91)
    assert result.loc["A", "local_concentration"] == pytest.approx(91.0)
    # B: 10% = 100 people: all 60 of rank 5 (reversed 96) and 40 of the 100 of rank 20 (reversed 81)
    assert result.loc["B", "local_concentration"] == pytest.approx((60 * 96 + 40 * 81) / 100)


def test_proportion_counts_lsoas_not_people(result):
    assert result.loc["A", "proportion"] == pytest.approx(1 / 4)  # rank 10 is in decile 1, rank 11 is not
    assert result.loc["B", "proportion"] == pytest.approx(1 / 3)
    assert result.loc["C", "proportion"] == pytest.approx(8 / 93)


def test_ranks_among_areas_and_columns(result):
    out = result.reset_index()
    assert list(out.columns[: len(OUTPUT_COLUMNS)]) == list(OUTPUT_COLUMNS)
    # A has the highest average score; C holds the nationally most deprived LSOAs and so the highest local
    # concentration: 930 people, 10% = 93 = ranks 1-4 and 6-9 (80 people), rank 12 (10) and 3 of rank 13
    assert result["rank_average_score"].to_dict() == {"A": 1, "B": 2, "C": 3}
    c_top = [100, 99, 98, 97, 95, 94, 93, 92]  # reversed ranks of ranks 1-4 and 6-9, 10 people each
    assert result.loc["C", "local_concentration"] == pytest.approx((10 * sum(c_top) + 10 * 89 + 3 * 88) / 93)
    assert result["rank_local_concentration"].to_dict() == {"C": 1, "A": 2, "B": 3}
    assert result["rank_proportion"].to_dict() == {"B": 1, "A": 2, "C": 3}
    assert result.loc["A", "area_name"] == "Area A"


def test_population_is_preserved(result):
    assert result["population"].sum() == national()["population"].sum()


def test_subsetting_output_keeps_national_values(result):
    only_b = aggregate(national(), mapping(), areas=["B"]).set_index("area_code")
    cols = ["population", "average_score", "average_rank", "extent", "local_concentration", "proportion"]
    pd.testing.assert_series_equal(only_b.loc["B", cols], result.loc["B", cols], check_names=False)
    assert only_b.loc["B", "rank_average_score"] == 1  # ranked among the areas returned


def test_apportioned_small_area_is_shared():
    vals = pd.DataFrame(
        {
            "lsoa11cd": ["E01000001", "E01000002"],
            "score": [50.0, 10.0],
            "rank": [1, 2],
            "population": [100.0, 300.0],
            "count": [40.0, 10.0],
        }
    )
    m = pd.DataFrame(
        {"lsoa11cd": ["E01000001", "E01000001", "E01000002"], "area_code": ["X", "Y", "Y"], "weight": [0.25, 0.75, 1.0]}
    )
    out = aggregate(vals, m, count="count").set_index("area_code")
    assert out.loc["X", "population"] == pytest.approx(25.0)
    assert out.loc["Y", "population"] == pytest.approx(375.0)
    assert out.loc["Y", "average_score"] == pytest.approx((75 * 50 + 300 * 10) / 375)
    assert out.loc["X", "scale"] == pytest.approx(10.0) and out.loc["Y", "scale"] == pytest.approx(40.0)
    assert out["population"].sum() == pytest.approx(400.0)


def test_ranks_are_computed_from_scores_when_absent():
    vals = national().drop(columns="rank")
    a = aggregate(vals, mapping(), rank=None).set_index("area_code")
    b = aggregate(national(), mapping()).set_index("area_code")
    pd.testing.assert_frame_equal(a, b)


def test_mismatched_inputs_are_refused():
    m = mapping()
    m.loc[0, "lsoa11cd"] = "E01999999"
    with pytest.raises(AggregationError, match="have no value"):
        aggregate(national(), m)
    with pytest.raises(AggregationError, match="no column 'population'"):
        aggregate(national().drop(columns="population"), mapping())
    dup = pd.concat([national(), national().head(1)])
    with pytest.raises(AggregationError, match="appears twice"):
        aggregate(dup, mapping())
