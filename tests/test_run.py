"""The main job on the real data: outputs, published figures, diagnostics, determinism."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest
from typer.testing import CliRunner

from leftbehind.cli import app
from leftbehind.context import RunContext
from tests.conftest import run_cli

runner = CliRunner()
WARD_COLUMNS = [
    "ward_code",
    "ward_name",
    "lad_code",
    "lad_name",
    "region_name",
    "population",
    "cni_score",
    "cni_rank",
    "civic_assets_rank",
    "connectedness_rank",
    "engaged_community_rank",
    "imd_score",
    "imd_rank",
    "group",
]


@pytest.fixture(scope="module")
def wards(run_out):
    return pd.read_csv(run_out[0] / "wards.csv")


@pytest.fixture(scope="module")
def summary(run_out):
    return json.loads((run_out[0] / "summary.json").read_text())


def test_wards_table(wards, run_out):
    assert list(wards.columns[: len(WARD_COLUMNS)]) == WARD_COLUMNS
    assert len(wards) == 7_433 and wards["ward_code"].is_unique
    assert set(wards["group"]) == {"left_behind", "other_deprived", "rest", "no_imd"}
    assert wards["ward_code"].is_monotonic_increasing
    parquet = pd.read_parquet(run_out[0] / "wards.parquet")
    assert len(parquet) == 7_433 and list(parquet.columns) == list(wards.columns)


def test_lad_codes_are_current(wards, shared_data):
    from leftbehind.geography.lookups import lad_to_region

    current = set(lad_to_region(RunContext(shared_data))["lad24cd"])
    assert set(wards["lad_code"]) <= current
    # the 268 wards with pre-2019 codes in the CNI file are mapped (e.g. Bournemouth/Poole -> BCP)
    old = wards[wards["lad_code_published"].isin(["E06000028", "E06000029"])]
    assert len(old) > 0 and set(old["lad_code"]) == {"E06000058"}
    assert wards["region_name"].notna().all()


def test_acceptance_against_the_published_list(summary, run_out):
    d = summary["diagnostics"]
    assert d["published"] == 225
    assert d["matched"] >= 219 and d["extra"] <= 7 and d["f1"] >= 0.97
    diag = pd.read_csv(run_out[0] / "diagnostics.csv")
    assert (diag["status"] == "missed").sum() == d["missed"]
    assert (diag["status"] == "extra").sum() == d["extra"]
    assert (diag["status"] == "matched").sum() == d["matched"]
    differences = diag[diag["status"] != "matched"]
    assert differences["reason"].str.len().gt(20).all()  # each difference explained
    assert {"cni_rank", "imd_rank", "cni_margin", "imd_margin", "cutoff"} <= set(diag.columns)


def test_published_regional_counts_and_residents(wards):
    lb = wards[wards["group"] == "left_behind"]
    by_region = lb["region_name"].value_counts()
    assert abs(by_region["North East"] - 56) <= 2
    assert abs(by_region["North West"] - 54) <= 2
    assert abs(by_region["Yorkshire and The Humber"] - 28) <= 2
    assert abs(lb["population"].sum() - 2_400_000) <= 100_000


def test_published_outcome_figures(run_out):
    o = pd.read_csv(run_out[0] / "outcomes.csv").set_index(["indicator", "group"])
    assert abs(o.loc[("income_deprived", "left_behind"), "estimate"] - 26.7) <= 0.3
    assert abs(o.loc[("income_deprived", "other_deprived"), "estimate"] - 25.9) <= 0.3
    assert abs(o.loc[("children_income_deprived", "left_behind"), "estimate"] - 34.0) <= 1.0
    # every published figure is shown beside ours with the difference
    pub = o[o["published"].notna()]
    assert len(pub) == 4
    assert (pub["difference_from_published"] - (pub["estimate"] - pub["published"])).abs().max() < 1e-9


def test_outcomes_table_is_complete(run_out):
    o = pd.read_csv(run_out[0] / "outcomes.csv")
    assert set(o["group"]) == {"left_behind", "other_deprived", "rest", "england", "left_behind_minus_other_deprived"}
    assert o["unit"].notna().all() and o["source"].notna().all() and o["method"].notna().all()
    est = o[o["group"] != "left_behind_minus_other_deprived"]
    assert ((est["ci_low"] <= est["estimate"]) & (est["estimate"] <= est["ci_high"])).all()
    needed = {
        "income_deprived",
        "employment_deprived",
        "children_income_deprived",
        "older_income_deprived",
        "staying_on_in_education_post_16_indicator",
        "entry_to_higher_education_indicator",
        "adult_skills_and_english_language_proficiency_indicator",
        "years_of_potential_life_lost_indicator",
        "comparative_illness_and_disability_ratio_indicator",
        "acute_morbidity_indicator",
        "mood_and_anxiety_disorders_indicator",
        "road_distance_to_a_gp_surgery_indicator_km",
        "household_overcrowding_indicator",
        "housing_affordability_indicator",
        "housing_in_poor_condition_indicator",
        "air_quality_indicator",
        "jobs_at_risk_total",
        "rural_population",
    }
    assert needed <= set(o["indicator"])
    # left-behind areas are more deprived than England on income (a sanity direction check)
    e = o.set_index(["indicator", "group"])["estimate"]
    assert e[("income_deprived", "left_behind")] > 2 * e[("income_deprived", "england")]


def test_breakdowns(run_out, wards):
    out = run_out[0]
    region = pd.read_csv(out / "breakdowns" / "region.csv")
    lad = pd.read_csv(out / "breakdowns" / "lad.csv")
    pcon = pd.read_csv(out / "breakdowns" / "constituency.csv")
    assert len(region) == 9 and region["wards_total"].sum() == 7_433
    assert lad["wards_total"].sum() == 7_433
    assert len(pcon) == 533 and pcon["wards_total"].sum() == 7_433
    n_lb = int((wards["group"] == "left_behind").sum())
    for t in (region, lad, pcon):
        assert t["wards_left_behind"].sum() == n_lb
        assert t["population_total"].sum() == pytest.approx(wards["population"].sum(), rel=1e-9)


def test_summary_and_sqlite(summary, run_out):
    assert summary["options"]["imd"] == "2019" and summary["options"]["lookup"] == "oa"
    assert summary["cut_off"]["cutoff_rank"] == 743
    assert sum(g["wards"] for g in summary["groups"].values()) == 7_433
    assert len(summary["by_region"]) == 9 and len(summary["by_lad"]) > 290
    ids = {i["dataset"] for i in summary["inputs"]}
    assert {"cni2019_wards", "imd2019_file2", "lookup_oa11_wd17_derived", "census2011_oa11_residents"} <= ids
    assert all(len(i["sha256"]) == 64 for i in summary["inputs"])
    assert summary["leftbehind_version"]
    with sqlite3.connect(run_out[0] / "leftbehind.sqlite") as con:
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        assert {
            "wards",
            "outcomes",
            "diagnostics",
            "breakdown_region",
            "breakdown_lad",
            "breakdown_constituency",
            "published_checks",
        } <= tables
        n = con.execute("select count(*) from wards where \"group\" = 'left_behind'").fetchone()[0]
    assert n == summary["groups"]["left_behind"]["wards"]


def test_run_is_deterministic(run_out, shared_data, tmp_path):
    out2 = tmp_path / "again"
    run_cli(out2, shared_data, "--skip-indices")
    for f in ("wards.csv", "outcomes.csv", "diagnostics.csv", "breakdowns/constituency.csv"):
        assert (out2 / f).read_bytes() == (run_out[0] / f).read_bytes(), f


def test_run_with_imd2015_and_other_options(shared_data, tmp_path):
    out = tmp_path / "o15"
    run_cli(out, shared_data, "--imd", "2015", "--skip-indices", "--replicates", "200")
    s = json.loads((out / "summary.json").read_text())
    assert s["options"]["imd"] == "2015"
    n = s["groups"]["left_behind"]["wards"]
    assert 196 <= n <= 216  # published 2019 list: 206 wards
    assert s["diagnostics"] is None  # the published 2019 list is not in the repository
    out = tmp_path / "bf"
    run_cli(
        out, shared_data, "--lookup", "best_fit", "--population", "mid2019", "--skip-indices", "--replicates", "200"
    )
    s = json.loads((out / "summary.json").read_text())
    assert s["groups"]["no_imd"]["wards"] == 12  # the best-fit lookup reaches 7,421 CNI wards
    assert s["diagnostics"]["matched"] == 218  # SOURCES.md's sanity check: 218 of the published 225


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--imd", "2010"], "--imd"),
        (["--ward-imd", "median"], "--ward-imd"),
        (["--threshold", "1.5"], "--threshold"),
        (["--lookup", "nearest"], "--lookup"),
        (["--population", "mid2099"], "--population"),
    ],
)
def test_bad_run_options(shared_data, tmp_path, args, fragment):
    res = runner.invoke(app, ["run", "--out", str(tmp_path / "o"), "--data", str(shared_data), *args])
    assert res.exit_code == 2
    assert fragment in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_run_rebuilds_and_checks_every_index(summary, run_out):
    out, output = run_out
    assert set(summary["indices"]) >= {"imd2019", "iod2025_imd", "cni2019", "cni2023", "imd2019_education"}
    for name, info in summary["indices"].items():
        assert info["fit"]["passed"], name
        t = pd.read_csv(out / "indices" / f"{name}.csv")
        assert list(t.columns[:4]) == ["area_code", "score", "rank", "decile"]
        assert len(t) == info["areas"] and t["area_code"].is_unique
    assert summary["indices"]["cni2019"]["areas"] == 7_433
    ids = {i["dataset"] for i in summary["inputs"]}
    assert {"cni2023_lsoa21", "iod2025_scores", "imd2019_file4"} <= ids
    assert "Community Needs Index, OCSI for Local Trust" in output  # cited, not presented as open data
