"""IMD history on LSOA 2011 (analysis/history/moves.py, build.py, run.py) and `leftbehind history`.

Real-data checks recompute what they check from the source files directly (plain pandas, not the
module's functions); the move rule is also tested on a small fixture.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leftbehind.analysis.history.moves import common_rank, move_to_lsoa11
from leftbehind.cli import app
from leftbehind.errors import DataError

runner = CliRunner()
MISSING_2001 = {"E01032522", "E01032540", "E01032608", "E01033730"}


# ---------------------------------------------------------------- the move rule on a fixture


def _lookup():
    return pd.DataFrame(
        {
            "lsoa11cd": ["A", "B1", "B2", "C", "C", "D", "D"],
            "lsoa01cd": ["a", "b", "b", "c1", "c2", "d1", "d2"],
            "change_code": ["U", "S", "S", "M", "M", "X", "X"],
        }
    )


def test_move_rule_per_change_type():
    v = pd.DataFrame({"lsoa01cd": ["a", "b", "c1", "c2", "d1", "d2"], "rank": [5.0, 9.0, 2.0, 7.0, 1.0, 4.0]})
    m = move_to_lsoa11(v, _lookup(), source="lsoa01cd", lsoa11=pd.Index(["A", "B1", "B2", "C", "D", "E"]), dataset="t")
    got = dict(zip(m["lsoa11cd"], m["rank"], strict=True))
    assert got["A"] == 5.0  # unchanged
    assert got["B1"] == got["B2"] == 9.0  # split: each part copies the parent
    assert got["C"] == 4.5  # merged: mean of the parents
    assert got["D"] == 2.5  # irregular with two parents: mean (flagged Xn)
    assert np.isnan(got["E"])  # not in the lookup: kept, blank
    assert m["rule"].tolist() == ["U", "S", "S", "M", "Xn", "none"]
    assert m["links"].tolist() == [1, 1, 1, 2, 2, 0]


def test_move_refuses_a_lookup_code_without_rank_and_duplicates():
    v = pd.DataFrame({"lsoa01cd": ["a", "b"], "rank": [1.0, 2.0]})
    with pytest.raises(DataError, match="have no rank"):
        move_to_lsoa11(v, _lookup(), source="lsoa01cd", lsoa11=pd.Index(["A", "C"]), dataset="t")
    v = pd.DataFrame({"lsoa01cd": ["a", "a"], "rank": [1.0, 2.0]})
    with pytest.raises(DataError, match="appears twice"):
        move_to_lsoa11(v, _lookup(), source="lsoa01cd", lsoa11=pd.Index(["A"]), dataset="t")


def test_common_rank_keeps_ties_together():
    r = common_rank(np.array([3.0, 1.0, 3.0, np.nan, 2.0]))
    assert r[[1, 4, 0, 2]].tolist() == [1, 2, 3, 3]
    assert np.isnan(r[3])


# ---------------------------------------------------------------- the history table on the real data


@pytest.fixture(scope="module")
def hist(ctx):
    from leftbehind.analysis.history.build import lsoa11_history

    return lsoa11_history(ctx)


def test_one_row_per_lsoa11(hist, shared_data):
    f2 = pd.read_csv(shared_data / "imd2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz", usecols=[0])
    assert len(hist) == 32_844
    assert hist["lsoa11_code"].is_unique
    assert set(hist["lsoa11_code"]) == set(f2.iloc[:, 0])


def test_2015_and_2019_deciles_are_the_published_ones(hist, shared_data):
    f2 = pd.read_csv(shared_data / "imd2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz")
    code, dec19 = f2.columns[0], [c for c in f2.columns if "Decile" in c and "Multiple" in c][0]
    h = hist.set_index("lsoa11_code")
    assert (h.loc[f2[code], "imd2019_decile"].to_numpy() == f2[dec19].to_numpy()).all()
    t15 = pd.read_csv(shared_data / "imd2015/imd2015_lsoa11_england_score_rank_decile.csv")
    assert (h.loc[t15["lsoa11_code"], "imd2015_decile"].to_numpy() == t15["IMD_decile"].to_numpy()).all()
    assert (h.loc[t15["lsoa11_code"], "imd2015_rank"].to_numpy() == t15["IMD_rank"].to_numpy()).all()


def test_2001_editions_move_by_the_stated_rules(hist, shared_data):
    lk = pd.read_csv(shared_data / "lookups/geographr_lookup_lsoa01_lsoa11.csv")
    lk = lk[lk["lsoa11_code"].str.startswith("E")]
    i10 = pd.read_csv(shared_data / "imd2010/imd2010_england_lsoa01_domains.csv").set_index("lsoa01_code")["IMD_rank"]
    parents = lk.groupby("lsoa11_code")["lsoa01_code"].apply(list)
    h = hist.set_index("lsoa11_code")
    # every LSOA 2011 reached by the lookup: the mean of its parents' ranks, computed here in plain Python
    expected = {c: sum(i10[p] for p in ps) / len(ps) for c, ps in parents.items()}
    got = h.loc[list(expected), "imd2010_rank"]
    assert np.allclose(got.to_numpy(), np.array(list(expected.values())))
    # the four LSOAs 2011 the 2001 lookup does not reach are kept, blank, and flagged
    miss = h[h["imd2010_rank"].isna()]
    assert set(miss.index) == MISSING_2001
    assert (miss["lsoa01_rule"] == "none").all() and (miss["editions_with_data"] == 3).all()
    assert miss["typology_2010_2019"].isna().all() if "typology_2010_2019" in miss else True
    # rule counts are the lookup's: 9 irregular LSOAs 2011 with two 2001 parents
    n_par = parents.str.len()
    x = set(lk.loc[lk["change_code"] == "X", "lsoa11_code"])
    assert int((h["lsoa01_rule"] == "Xn").sum()) == sum(1 for c in x if n_par[c] > 1) == 9
    # deciles recomputed on LSOA 2011: ten groups of 3,284 (32,840 / 10), decile 1 = lowest moved ranks
    counts = h["imd2010_decile"].value_counts().sort_index()
    assert counts.tolist() == [3284] * 10
    d1 = h.loc[h["imd2010_decile"] == 1, "imd2010_rank"].max()
    assert (h.loc[h["imd2010_decile"] == 2, "imd2010_rank"] >= d1).all()


def test_2025_moves_from_lsoa21(hist, shared_data):
    lk = pd.read_csv(shared_data / "lookups/geographr_lookup_lsoa11_lsoa21_ltla22.csv")
    lk = lk[lk["lsoa11_code"].str.startswith("E")]
    i25 = pd.read_csv(shared_data / "iod2025/imd2025_england_lsoa21_scores_ranks_deciles.csv")
    rank = i25.set_index("lsoa21_code")["IMD_rank"]
    exp = lk.assign(r=rank.reindex(lk["lsoa21_code"]).to_numpy()).groupby("lsoa11_code")["r"].mean()
    got = hist.set_index("lsoa11_code").loc[exp.index, "imd2025_rank"]
    assert np.allclose(got.to_numpy(), exp.to_numpy())
    assert hist["imd2025_rank"].notna().all()


def test_persistence_matches_the_published_release(hist):
    """MHCLG: 88% of IMD 2019 decile-1 LSOAs were in decile 1 of IMD 2015; 82% of IMD 2025's
    were in decile 1 of IMD 2019 (the latter on LSOAs unchanged 2011-2021; ours on all, moved)."""
    from leftbehind.analysis.history.build import persistence_counts

    s = persistence_counts(hist)
    assert abs(s["share_imd2019_d1_in_imd2015_d1_pct"] - 88.0) <= 1.0
    assert abs(s["share_imd2025_d1_in_imd2019_d1_pct"] - 82.0) <= 1.0
    d = hist[["imd2010_decile", "imd2015_decile", "imd2019_decile"]]
    assert s["decile1_2010_2015_2019"] == int((d == 1).all(axis=1).sum()) == 2_491
    assert s["lsoas_with_2010"] == 32_840


def test_ward_trajectories_add_up(hist, ctx):
    from leftbehind.analysis.history.build import ward_trajectories

    for unit in ("wd17", "wd24"):
        w = ward_trajectories(hist, unit, ctx=ctx)
        shares = w[[f"share_d{i}" for i in range(1, 11)]].sum(axis=1)
        ok = w["population"] > 0
        assert np.allclose(shares[ok], 1.0)
        assert w.groupby("ward_code").size().eq(6).all()
        assert w["mean_decile"][ok].between(1, 10).all()
    w17 = ward_trajectories(hist, "wd17", ctx=ctx)
    assert w17["ward_code"].nunique() > 7_000


# ---------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def history_out(shared_data, tmp_path_factory, run_out):
    """`leftbehind history` and `leftbehind spatial` on a copy of a finished run (so the report gains
    both sections)."""
    import shutil

    out = tmp_path_factory.mktemp("history") / "out"
    shutil.copytree(run_out[0], out)
    res = runner.invoke(app, ["history", "--out", str(out), "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    sp = runner.invoke(app, ["spatial", "--out", str(out), "--data", str(shared_data), "--permutations", "199"])
    assert sp.exit_code == 0, sp.output
    return out, res.output


def test_report_gains_the_history_and_spatial_sections(history_out):
    out, _ = history_out
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="history"' in html and "were in the most deprived decile of IMD 2010, 2015 and 2019" in html.replace(
        "\n", " "
    )
    assert "entrenched deprivation" in html
    assert "Left-behind wards 2017 are more clustered than chance" in html
    assert 'src="data:image/png;base64,' in html
    assert "history-clusters-table" in html and "spatial-clusters-table" in html
    assert "http://" not in html.split("<body", 1)[1].replace("http://www.w3.org", "")


def test_history_command_writes_every_declared_table(history_out):
    from leftbehind.report.registry import registry

    out, text = history_out
    reg = {n: t for n, t in registry().items() if t.path.startswith("history/")}
    assert len(reg) == 6
    for t in reg.values():
        df = pd.read_csv(out / t.path, low_memory=False)
        t.check(df)
        assert len(df) > 0
    h = pd.read_csv(out / "history/lsoa11.csv", low_memory=False)
    assert len(h) == 32_844
    assert h["typology_2010_2019"].dropna().nunique() == 6
    assert h["typology_2004_2025"].dropna().nunique() == 6
    assert h["typology_2010_2019"].isna().sum() == 4
    assert "entrenched deprivation" in set(h["typology_2010_2019"])
    # entrenched: its LSOAs are, on average, the most deprived of the six
    m = h.groupby("typology_2010_2019")["imd2019_decile"].mean()
    assert m.idxmin() == "entrenched deprivation"
    s = pd.read_csv(out / "history/typology_silhouettes.csv")
    for seq in ("2010_2019", "2004_2025"):
        part = s[s["sequence"] == seq]
        assert part["k"].tolist() == list(range(3, 16))
        assert part["chosen_by_silhouette"].sum() == 1 and part["exported"].sum() == 1
        assert part.loc[part["chosen_by_silhouette"], "silhouette"].iloc[0] == part["silhouette"].max()
    summary = json.loads((out / "history/summary.json").read_text())
    assert summary["lsoa11"]["decile1_2010_2015_2019"] == int(h["decile1_2010_2015_2019"].fillna(False).sum())
    assert "2,491" in text


def test_crosstab_accounts_for_every_lsoa(history_out):
    out, _ = history_out
    ct = pd.read_csv(out / "history/typology_crosstab.csv")
    for (_seq, _cls), t in ct.groupby(["sequence", "classification"]):
        assert t["lsoas"].sum() == 32_844
    pub = ct[(ct["classification"].str.contains("published")) & (ct["sequence"] == "2010_2019")]
    assert set(pub["group"]) == {"left_behind", "rest"}


def test_history_bad_input_exit_2(mirror_factory, tmp_path):
    mirror = mirror_factory("imd2010/imd2010_england_lsoa01_domains.csv")
    f = mirror / "imd2010/imd2010_england_lsoa01_domains.csv"
    lines = f.read_text().splitlines()
    f.write_text("\n".join(lines[: len(lines) // 2]) + "\n")  # half the rows: a silently shorter edition
    res = runner.invoke(app, ["history", "--out", str(tmp_path / "o"), "--data", str(mirror), "--no-verify"])
    assert res.exit_code == 2, res.output
    assert "imd2010" in res.output and "How to fix" in res.output
    assert not (tmp_path / "o" / "history").exists()
