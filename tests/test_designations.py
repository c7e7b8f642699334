"""Designations (``leftbehind.analysis.designations``): name normalisation, matching a programme's
list to a unit (code, name within the local authority, near match for review, unmatched), on a
hand-built unit table and on the two Pride in Place lists; and ``leftbehind designations match``."""

from __future__ import annotations

import difflib

import pandas as pd
import pytest
from typer.testing import CliRunner

from leftbehind.analysis.designations import MARGIN, NEAR, match, normalise
from leftbehind.cli import app
from leftbehind.errors import DataError

runner = CliRunner()

# ------------------------------------------------------------------ normalise


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("St. Helens", "St Helens"),
        ("St. Helens", "st helens"),
        ("A & B", "a and b"),
        ("A&B", "A and B"),
        ("Harpurhey South & Monsall", "harpurhey south and monsall"),
        ("  Hartlepool   North ", "hartlepool north"),
        ("Newcastle-upon-Tyne", "Newcastle upon Tyne"),
        ("Bournemouth, Christchurch and Poole", "Bournemouth Christchurch and Poole"),
        ("Kingston upon Hull, City of", "KINGSTON UPON HULL CITY OF"),
        ("West Howe.", "west howe"),
    ],
)
def test_normalise_equal(a, b):
    assert normalise(a) == normalise(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("East Ham", "Eastham"),  # spaces separate words
        ("Stanley", "St Anley"),
        ("Weston", "Weston (Southampton)"),  # the parenthesis is dropped by match, not by normalise
        ("Biddick Hill", "Biddick Hall"),
    ],
)
def test_normalise_different(a, b):
    assert normalise(a) != normalise(b)


def test_normalise_st_without_a_space():
    assert normalise("St.Helens") == normalise("St Helens")


def test_normalise_output_form():
    s = normalise("  St. Ann's  East & Central!! ")
    assert s == s.lower() == s.strip()
    assert "  " not in s and "&" not in s and "." not in s and "!" not in s
    assert s.startswith("st ann") and s.endswith("east and central")
    assert normalise(normalise("St. Ann's & X")) == normalise("St. Ann's & X")  # idempotent


# ------------------------------------------------------------------ match on a small unit table

UNIT = pd.DataFrame(
    [
        ("E02000101", "Northtown 001", "Harpurhey South & Monsall", "Manchester"),
        ("E02000102", "Northtown 002", "Moss Side West", "Manchester"),
        ("E02000103", "Northtown 003", "Ancoats & Beswick", "Manchester"),
        ("E02000201", "Southport 001", "Weston", "Southampton"),
        ("E02000202", "Southport 002", "Bitterne Park", "Southampton"),
        ("E02000301", "St Helens 001", "St Helens Central", "St. Helens"),
        ("E02000302", "St Helens 002", "Thatto Heath", "St. Helens"),
        ("E02000401", "Westshire 001", "Quarry Bank", "Dudley"),
        ("E02000501", "Leeds 001", "Park North", "Leeds"),
        ("E02000502", "Leeds 002", "Park South", "Leeds"),
        ("E02000503", "Leeds 003", "Parkside North", "Leeds"),
        ("E02000504", "Leeds 004", "Parkside South", "Leeds"),
    ],
    columns=["area_code", "area_name", "area_name_hcl", "lad_name"],
)


def _designation(rows):
    return pd.DataFrame(rows, columns=["local_authority_name", "neighbourhood_name"])


def test_match_by_name_within_the_local_authority():
    d = _designation(
        [
            ("Manchester", "Moss Side West"),
            ("manchester", "ANCOATS AND BESWICK"),  # case and & / and
            ("St Helens", "St. Helens Central"),  # 'St.' in both the LA and the name
            ("Dudley", "Westshire 001"),  # the ONS name works as well as the Commons Library one
        ]
    )
    m = match(d, UNIT, "msoa21")
    assert m["method"].tolist() == ["name"] * 4
    assert m["area_code"].tolist() == ["E02000102", "E02000103", "E02000301", "E02000401"]
    assert (m["score"] == 1.0).all()
    assert m["row"].tolist() == [2, 3, 4, 5]  # file lines (header = line 1)
    assert m["input_name"].tolist() == d["neighbourhood_name"].tolist()
    assert m["input_la"].tolist() == d["local_authority_name"].tolist()


def test_match_by_code_column_found_by_content():
    d = pd.DataFrame({"ref": ["E02000202", "E02000401", "E02000103"], "note": ["a", "b", "c"]})
    m = match(d, UNIT, "msoa21")
    assert m["method"].tolist() == ["code"] * 3
    assert m["area_code"].tolist() == ["E02000202", "E02000401", "E02000103"]
    assert m["area_name"].tolist() == ["Southport 002", "Westshire 001", "Northtown 003"]


def test_code_column_wins_over_a_wrong_name():
    d = pd.DataFrame({"msoa": ["E02000101"], "neighbourhood_name": ["Thatto Heath"], "la": ["St. Helens"]})
    m = match(d, UNIT, "msoa21")
    assert (m.loc[0, "method"], m.loc[0, "area_code"]) == ("code", "E02000101")


def test_one_letter_misspelling_is_a_near_match_for_review():
    d = _designation([("Manchester", "Hapurhey South & Monsall")])
    m = match(d, UNIT, "msoa21").iloc[0]
    assert m["method"] == "near"
    assert m["area_code"] == "E02000101" and m["area_name"] == "Harpurhey South & Monsall"
    expected = difflib.SequenceMatcher(None, normalise("Hapurhey South & Monsall"), normalise(m["area_name"])).ratio()
    assert m["score"] == pytest.approx(expected) and m["score"] >= NEAR
    assert "near match" in m["review"]
    assert "Hapurhey South & Monsall" in m["review"] and "Harpurhey South & Monsall" in m["review"]


def test_unrelated_name_is_unmatched_with_the_closest_names():
    d = _designation([("Manchester", "Zzyzx Quay")])
    m = match(d, UNIT, "msoa21").iloc[0]
    assert m["method"] == "unmatched"
    assert pd.isna(m["area_code"]) and pd.isna(m["area_name"])
    assert m["review"].startswith("unmatched; closest: ")
    # the closest names are the Manchester names, the most similar first
    key = normalise("Zzyzx Quay")
    mcr = UNIT[UNIT["lad_name"] == "Manchester"]
    names = list(mcr["area_name"]) + list(mcr["area_name_hcl"])
    best = max(names, key=lambda n: difflib.SequenceMatcher(None, key, normalise(n)).ratio())
    listed = m["review"].removeprefix("unmatched; closest: ")
    assert listed.split(" (")[0] == best
    assert listed.count("(") == 3
    assert "Weston" not in listed and "Thatto" not in listed  # other authorities' names are not offered
    assert m["score"] < NEAR


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalise(a), normalise(b)).ratio()


def test_a_fairly_similar_name_is_not_a_near_match():
    """'Moss Side' is a prefix of 'Moss Side West' (similarity 0.78 < NEAR): a person decides."""
    assert 0.5 < _ratio("Moss Side", "Moss Side West") < NEAR
    m = match(_designation([("Manchester", "Moss Side")]), UNIT, "msoa21").iloc[0]
    assert m["method"] == "unmatched" and pd.isna(m["area_code"])
    assert m["review"].startswith("unmatched; closest: Moss Side West (0.78)")


def test_a_near_match_must_be_clearly_better_than_the_runner_up():
    # equally similar to two areas: unmatched, both offered
    assert _ratio("Park Nouth", "Park North") == _ratio("Park Nouth", "Park South") >= NEAR
    m = match(_designation([("Leeds", "Park Nouth"), ("Leeds", "Parkside Nurth")]), UNIT, "msoa21")
    assert m.loc[0, "method"] == "unmatched" and pd.isna(m.loc[0, "area_code"])
    assert "Park North" in m.loc[0, "review"] and "Park South" in m.loc[0, "review"]
    # clearly better than the runner-up (by at least MARGIN): a near match
    assert _ratio("Parkside Nurth", "Parkside North") - _ratio("Parkside Nurth", "Parkside South") >= MARGIN
    assert (m.loc[1, "method"], m.loc[1, "area_code"]) == ("near", "E02000503")


def test_trailing_parenthesis_is_dropped():
    d = _designation([("Southampton", "Weston (Town)"), ("Southampton", "Weston (Southampton)")])
    m = match(d, UNIT, "msoa21")
    assert m["method"].tolist() == ["name", "name"]
    assert m["area_code"].tolist() == ["E02000201", "E02000201"]


def test_names_do_not_match_across_local_authorities():
    d = _designation([("Dudley", "Weston"), ("Southampton", "Moss Side West")])
    m = match(d, UNIT, "msoa21")
    assert "E02000201" not in set(m["area_code"].dropna())  # Weston is in Southampton, not Dudley
    assert "E02000102" not in set(m["area_code"].dropna())  # Moss Side West is in Manchester
    assert (m["method"] != "name").all()


def test_unknown_local_authority_is_unmatched_and_said_so():
    d = _designation([("Atlantis", "Moss Side West")])
    m = match(d, UNIT, "msoa21").iloc[0]
    assert m["method"] == "unmatched" and pd.isna(m["area_code"])
    assert "Atlantis" in m["review"]


def test_no_row_is_ever_dropped():
    rows = [
        ("Manchester", "Moss Side West"),
        ("Manchester", "Hapurhey South & Monsall"),
        ("Manchester", "Nowhere at all"),
        ("Atlantis", "Weston"),
        ("Southampton", "Weston (Town)"),
        ("Southampton", "Weston"),  # the same area twice: both rows kept
        ("Dudley", ""),
    ]
    d = _designation(rows)
    m = match(d, UNIT, "msoa21")
    assert len(m) == len(d)
    assert m["row"].tolist() == list(range(2, len(d) + 2))
    assert set(m["method"]) <= {"code", "name", "near", "unmatched"}
    assert m["area_code"].notna().tolist() == [m_ != "unmatched" for m_ in m["method"]]


def test_neither_codes_nor_names_is_a_data_error():
    d = pd.DataFrame({"colour": ["red", "blue"], "size": [1, 2]})
    with pytest.raises(DataError) as e:
        match(d, UNIT, "msoa21", "my_list.csv")
    assert "my_list.csv" in e.value.message and "colour" in e.value.message


# ------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def msoa_units(ctx):
    from leftbehind.analysis.targeting import Rule, unit_table

    return unit_table(Rule(name="u", unit="msoa21", count=1), ctx)


def test_pride_in_place_phase2_all_matched(ctx, msoa_units):
    d = ctx.load("pride_in_place_phase2")
    assert len(d) == 146
    m = match(d, msoa_units, "msoa21", "pride_in_place_phase2")
    assert len(m) == 146
    assert set(m["method"]) <= {"name", "near"}
    assert m["area_code"].notna().all()
    near = m[m["method"] == "near"]
    pairs = dict(zip(near["input_name"], near["area_name"], strict=True))
    assert pairs.get("Hapurhey South & Monsall") == "Harpurhey South & Monsall"
    assert (near["review"].str.len() > 0).all()
    # a matched area lies in the local authority given for it
    lad = msoa_units.set_index("area_code")["lad_name"]
    assert (lad.loc[m["area_code"]].map(normalise).to_numpy() == m["input_la"].map(normalise).to_numpy()).all()
    # 146 neighbourhoods, 146 different MSOAs
    assert m["area_code"].nunique() == 146


def test_pride_in_place_cohort3_all_by_name(ctx, msoa_units):
    d = ctx.load("pride_in_place_cohort3")
    assert len(d) == 40
    m = match(d, msoa_units, "msoa21", "pride_in_place_cohort3")
    assert (m["method"] == "name").all(), m[m["method"] != "name"]
    assert m["area_code"].nunique() == 40
    # none is a Phase 2 neighbourhood (catalogue notes)
    p2 = match(ctx.load("pride_in_place_phase2"), msoa_units, "msoa21")
    assert not set(m["area_code"]) & set(p2["area_code"])


def test_cli_designations_match(shared_data, tmp_path):
    f = shared_data / "programmes" / "pride_in_place_phase2_146_neighbourhoods_england_sep2025.csv"
    out = tmp_path / "d"
    res = runner.invoke(
        app, ["designations", "match", str(f), "--unit", "msoa21", "--out", str(out), "--data", str(shared_data)]
    )
    assert res.exit_code == 0, res.output
    sec = out / "designations" / "pride_in_place_phase2_146_neighbourhoods_england_sep2025"
    m = pd.read_csv(sec / "matches.csv")
    assert len(m) == 146
    assert set(m["method"]) <= {"name", "near"}
    assert "Hapurhey South & Monsall" in res.output  # the near matches are printed for review


def test_cli_designations_bad_unit(shared_data, tmp_path):
    f = shared_data / "programmes" / "pride_in_place_phase2_146_neighbourhoods_england_sep2025.csv"
    out = tmp_path / "d"
    res = runner.invoke(
        app, ["designations", "match", str(f), "--unit", "nowhere", "--out", str(out), "--data", str(shared_data)]
    )
    assert res.exit_code == 2, res.output
    assert "nowhere" in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_cli_designations_missing_file(shared_data, tmp_path):
    out = tmp_path / "d"
    res = runner.invoke(
        app, ["designations", "match", str(tmp_path / "absent.csv"), "--out", str(out), "--data", str(shared_data)]
    )
    assert res.exit_code == 2, res.output
    assert "absent.csv" in res.output and "Traceback" not in res.output
    assert not out.exists()
