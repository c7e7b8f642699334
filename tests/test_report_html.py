"""The report's words for codes, options and dates (report/html.py), without a browser."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from leftbehind.report.html import _run_date, html_table, option_rows, value_words, words


def test_codes_read_as_words():
    assert words("left_behind") == "Left behind"
    assert words("all_london") == "All London"
    assert words("lbn_share") == "share of residents in left-behind wards"
    assert words("left_behind_minus_other_deprived") == "Left behind minus other deprived"
    assert words("some_new_code") == "some new code"  # any other snake_case code loses its underscores
    assert words("St Matthew's & Co") == "St Matthew's & Co" and words("E05003984") == "E05003984"
    assert words(None) == "" and words(float("nan")) == ""


def test_option_values_in_words():
    assert value_words("red_wall", ("Lab", "Con")) == "Lab, Con"
    assert value_words("skip_indices", True) == "Yes" and value_words("skip_indices", False) == "No"
    assert value_words("replicates", 1000) == "1,000" and value_words("ensemble", 1000.0) == "1,000"
    assert value_words("seed", 20201) == "20201"
    assert value_words("threshold", 0.1) == "0.1 (top 10%)"
    assert value_words("month", "2020-05") == "May 2020"
    assert value_words("ward_imd", "pop_mean") == "population-weighted mean of LSOA scores"
    rows = {r["label"]: r for r in option_rows({"ward_imd": "pop_mean", "skip_indices": False, "red_wall": ["Lab"]})}
    assert rows["Ward IMD measure"]["flag"] == "--ward-imd pop_mean"
    assert rows["Skip rebuilding the indices"]["flag"] == ""
    assert rows["Red wall: winning parties 2017 and 2019"]["flag"] == "--red-wall Lab"


def test_run_date_before_and_after_the_field_exists():
    assert _run_date(SimpleNamespace()) == "date not recorded"
    assert _run_date(SimpleNamespace(run_date="2025-03-04T05:06:07Z")) == "4 March 2025, 05:06 UTC"
    assert _run_date(SimpleNamespace(run_date="2025-03-04T06:06:07+01:00")) == "4 March 2025, 05:06 UTC"
    assert _run_date(SimpleNamespace(run_date="not a date")) == "not a date"


def test_table_cells_in_words_and_escaped():
    df = pd.DataFrame({"group": ["left_behind", "<b>x</b>"], "n": [3.0, None]})
    html = str(html_table(df, [("group", "Group", ""), ("n", "Wards", "int")], "t"))
    assert "Left behind" in html and "left_behind" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and '<th scope="col"' in html and ">3<" in html and ">–<" in html
