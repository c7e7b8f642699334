"""Weights from polygons, the `spatial` step and command (analysis/spatial/weights.py, run.py, maps.py).

The statistics themselves are tested on lattices with known answers in test_spatial_stats.py.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from shapely.geometry import Polygon, box
from typer.testing import CliRunner

from leftbehind.analysis.spatial.weights import aggregate, check_polygons, queen
from leftbehind.cli import app
from leftbehind.errors import DataError

runner = CliRunner()


def _grid(nx: int, ny: int) -> gpd.GeoDataFrame:
    cells = [box(i, j, i + 1, j + 1) for j in range(ny) for i in range(nx)]
    return gpd.GeoDataFrame({"code": [f"c{k:02d}" for k in range(nx * ny)]}, geometry=cells, crs="EPSG:27700")


def test_queen_on_a_grid():
    ids, W = queen(_grid(3, 3), "code")
    deg = dict(zip(ids, np.asarray(W.sum(axis=1)).ravel(), strict=True))
    assert deg["c04"] == 8 and deg["c00"] == 3 and deg["c01"] == 5  # centre, corner, edge
    assert (W != W.T).nnz == 0 and W.diagonal().sum() == 0


def test_aggregated_contiguity_is_that_of_the_dissolved_units():
    # a 4 x 1 strip of small areas: a = {c00, c01}, b = {c02}, c = {c03}; d holds no small area
    ids, W = queen(_grid(4, 1), "code")
    mem = pd.DataFrame({"small": ["c00", "c01", "c02", "c03"], "unit": ["a", "a", "b", "c"]})
    con = aggregate(ids, W, mem, np.array(["a", "b", "c", "d"], dtype=object), "test")
    A = con.W.toarray()
    assert A.tolist() == [[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    assert con.no_polygon == ("d",)
    assert list(con.islands) == ["d"]
    # a small area shared by two units (the OA route) makes them neighbours even without a touching pair
    mem2 = pd.DataFrame({"small": ["c00", "c00", "c03"], "unit": ["a", "b", "c"]})
    con2 = aggregate(ids, W, mem2, np.array(["a", "b", "c"], dtype=object), "test")
    assert con2.W[0, 1] == 1 and con2.W[0, 2] == 0


def test_polygons_without_crs_empty_or_invalid():
    g = _grid(2, 1).set_crs(None, allow_override=True)
    with pytest.raises(DataError, match="no coordinate reference system") as e:
        check_polygons(g, "boundaries_x", "code")
    assert "EPSG" in e.value.hint
    g = _grid(2, 1)
    g.loc[1, "geometry"] = Polygon()
    with pytest.raises(DataError, match="empty or missing geometry.*c01"):
        check_polygons(g, "boundaries_x", "code")
    bow = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # a self-intersecting bow-tie: repaired
    g = gpd.GeoDataFrame({"code": ["x"]}, geometry=[bow], crs="EPSG:27700")
    assert check_polygons(g, "boundaries_x", "code").geometry.is_valid.all()
    with pytest.raises(DataError, match="no lsoa21_code column"):
        check_polygons(_grid(1, 1), "boundaries_x", "lsoa21_code")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--unit", "lsoa99"], "unknown --unit 'lsoa99'"),
        (["--unit", "lsoa21"], "a unit of --edition 2025"),
        (["--edition", "2019"], "unknown --edition"),
        (["--surrounded-share", "1.5"], "not in (0, 1]"),
        (["--surrounded-share", "0"], "not in (0, 1]"),
        (["--lookup", "centroid"], "unknown --lookup"),
    ],
)
def test_bad_arguments_exit_2(args, words, tmp_path):
    res = runner.invoke(app, ["spatial", "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == 2, res.output
    assert words in res.output and "How to fix" in res.output
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def wards_result(ctx):
    from leftbehind.analysis.spatial.run import spatial

    return spatial(ctx, edition="2020", unit="ward17", permutations=199, draw_map=False)


def test_ward17_every_ward_kept_and_islands_reported(wards_result):
    loc = wards_result.tables["spatial_local"]
    assert len(loc) == 7_433 and loc["area_code"].is_unique
    isl = loc[loc["n_neighbours"] == 0]
    assert set(wards_result.summary["islands"]) == set(isl["area_code"])
    assert (isl["note"] != "").all() and isl["p"].isna().all()
    assert "E05009103" in set(isl["area_code"])  # Berwick North: its LSOAs touch only each other (the Tweed)
    assert any("no neighbour (islands" in n for n in wards_result.summary["notes"])


def test_ward17_statistics_recomputed_independently(wards_result, ctx):
    from leftbehind.analysis.spatial.weights import unit_contiguity

    loc = wards_result.tables["spatial_local"]
    con = unit_contiguity(ctx, "ward17", loc["area_code"].to_numpy(), lookup="oa")
    y = (loc["group"] == "left_behind").to_numpy(dtype=float)
    bb = float(y @ (con.W @ y)) / 2
    g = wards_result.tables["spatial_global"].set_index("statistic")
    assert g.loc["join_count_left_behind", "value"] == bb
    assert set(g.index) == {
        "join_count_left_behind",
        "join_count_other_deprived",
        "join_count_left_behind_among_deprived",
        "bivariate_join_count_lb_other_deprived",
        "morans_i_cni_score",
        "morans_i_imd_score",
    }
    assert (g["permutations"] == 199).all() and g["p"].between(0, 1).all()
    # local join count = left-behind neighbours of a left-behind ward
    lb = y == 1
    ljc = np.asarray(con.W @ y).ravel()
    assert (loc.loc[lb, "ljc"].to_numpy() == ljc[lb]).all() and (loc.loc[~lb, "ljc"] == 0).all()
    # clusters: connected components of left-behind wards; sizes in clusters.csv agree with local.csv
    cl = wards_result.tables["spatial_clusters"]
    sizes = loc[loc["cluster_id"] > 0].groupby("cluster_id").size()
    assert cl.set_index("cluster_id")["areas"].to_dict() == sizes[sizes >= 2].to_dict()
    assert (loc.loc[loc["cluster_id"] > 0, "group"] == "left_behind").all()
    assert ((loc["cluster_id"] > 0) == lb).all()
    # surrounded: not left behind, >= 85% of its neighbours left behind
    deg = np.asarray(con.W.sum(axis=1)).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(deg > 0, ljc / deg, 0)
    assert (loc["surrounded"].to_numpy() == ((~lb) & (deg > 0) & (share >= 0.85))).all()


def test_spatial_command_lsoa21_writes_outputs(shared_data, tmp_path):
    out = tmp_path / "o"
    res = runner.invoke(
        app,
        [
            "spatial",
            "--out",
            str(out),
            "--data",
            str(shared_data),
            "--edition",
            "2025",
            "--unit",
            "lsoa21",
            "--permutations",
            "199",
            "--surrounded-share",
            "0.75",
        ],
    )
    assert res.exit_code == 0, res.output
    from leftbehind.report.registry import registry

    for name in ("spatial_global", "spatial_local", "spatial_clusters"):
        t = registry()[name]
        t.check(pd.read_csv(out / "spatial" / "2025-lsoa21" / t.path.split("/", 1)[1]))
    loc = pd.read_csv(out / "spatial/2025-lsoa21/local.csv")
    assert len(loc) == 33_755
    s = json.loads((out / "spatial/2025-lsoa21/summary.json").read_text())
    assert s["islands"] == ["E01019077"]  # Isles of Scilly 001A
    assert s["surrounded_share"] == 0.75
    assert (out / "spatial/2025-lsoa21/map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "clustered than chance" in res.output


def test_spatial_sparse_weights_are_symmetric_binary(ctx):
    from leftbehind.analysis.spatial.weights import unit_contiguity

    codes = ctx.load("lookup_lsoa21_wd24")["wd24cd"].drop_duplicates().sort_values().to_numpy()
    con = unit_contiguity(ctx, "wards24", codes)
    W = sparse.csr_matrix(con.W)
    assert (W != W.T).nnz == 0 and set(np.unique(W.data)) == {1} and W.diagonal().sum() == 0
    assert 4 < W.sum() / W.shape[0] < 8
