"""Index engine from raw indicators: shrinkage, weights, and the IoD domains rebuilt from File 8."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leftbehind.context import RunContext
from leftbehind.errors import SpecError
from leftbehind.indices.build import build_spec
from leftbehind.indices.spec import parse_spec
from leftbehind.indices.weights import (
    eb_shrink,
    equal_weights,
    factor_loadings,
    factor_weights,
    least_squares_weights,
    pca_weights,
    shrinkage_weight,
)


def test_shrinkage_weight_formula():
    s2, t2 = np.array([0.01, 1.0, 100.0]), 1.0
    w = shrinkage_weight(s2, t2)
    assert w == pytest.approx((1 / s2) / (1 / s2 + 1 / t2))
    assert w[0] > 0.99 and w[2] < 0.01


def test_large_area_keeps_its_rate_small_area_moves_to_parent():
    # parent A: rates 0.10 (huge area), 0.30 (tiny area); parent B: two mid-size areas
    num = np.array([10_000.0, 3.0, 100.0, 300.0])
    den = np.array([100_000.0, 10.0, 1_000.0, 1_000.0])
    parent = np.array(["A", "A", "B", "B"])
    z = eb_shrink(num, den, parent)
    pbar_a = 10_003 / 100_010
    assert z[0] == pytest.approx(0.10, abs=1e-3)  # precise: keeps its rate
    assert abs(z[1] - pbar_a) < abs(0.30 - pbar_a)  # noisy: pulled towards the parent
    assert min(0.10, 0.30) <= z[1] <= 0.30
    assert np.all((z[2:] >= 0.1) & (z[2:] <= 0.3))
    # an area with no denominator takes its parent's rate
    assert eb_shrink([0.0, 5.0], [0.0, 50.0], ["P", "P"])[0] == pytest.approx(0.1)


def test_a_spec_can_shrink_a_count_indicator_before_its_transform():
    """`shrink:` in a component: the numerator's rates are shrunk towards the parent's rate first
    (the IoD's treatment of small-area counts): a noisy small area moves, a precise one does not."""
    import pandas as pd

    from leftbehind.indices.build import build_index

    table = pd.DataFrame(
        {
            "code": [f"E01{i:06d}" for i in range(6)],
            "cases": [10.0, 100.0, 3.0, 12.0, 120.0, 2.0],
            "people": [100.0, 1000.0, 10.0, 100.0, 1000.0, 10.0],
            "lad": ["A", "A", "A", "B", "B", "B"],
        }
    )
    text = """
name: shrunk
title: a shrunk rate
edition: test
geography: lsoa11
source: none
area: code
weighting: fixed
components:
  - {name: rate, column: cases, transform: identity, weight: 1.0, shrink: {denominator: people, parent: lad}}
"""
    spec = parse_spec(text, "test")
    built = build_index(spec, table)
    expected = eb_shrink(table["cases"], table["people"], table["lad"])
    assert np.allclose(built["rate_x"], expected)
    parent_a = 113 / 1110
    assert abs(built["rate_x"][2] - parent_a) < abs(0.30 - parent_a)  # 3 of 10: pulled towards its LAD
    assert built["rate_x"][1] == pytest.approx(0.10, abs=1e-3)  # 100 of 1,000: keeps its rate
    with pytest.raises(SpecError, match="people"):
        build_index(spec, table.drop(columns=["people"]))


def one_factor(n=20_000, loadings=(0.9, 0.8, 0.6), seed=1):
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(n)
    lam = np.array(loadings)
    return f[:, None] * lam + rng.standard_normal((n, len(lam))) * np.sqrt(1 - lam**2), lam


def test_factor_analysis_recovers_loadings():
    x, lam = one_factor()
    got, psi = factor_loadings(x)
    assert got == pytest.approx(lam, abs=0.02)
    assert psi == pytest.approx(1 - lam**2, abs=0.03)
    assert factor_weights(x) == pytest.approx(lam / lam.sum(), abs=0.01)
    assert factor_weights(x, "scores").sum() == pytest.approx(1.0)


def test_other_weights():
    x, _ = one_factor()
    assert equal_weights(4).tolist() == [0.25] * 4
    assert pca_weights(x).sum() == pytest.approx(1.0) and (pca_weights(x) > 0).all()
    w = np.array([0.2, 0.5, 0.3])
    assert least_squares_weights(x, x @ w) == pytest.approx(w)


def test_iod2025_health_with_published_and_estimated_weights(shared_data):
    spec, built, fit = build_spec("iod2025_health", ctx=RunContext(shared_data))
    assert fit.passed and fit.figures["score_max_abs_diff"] <= 0.005
    # least-squares weights estimated from the data
    ls = parse_spec((spec.model_dump_json()), "x")  # a copy we can change
    ls = ls.model_copy(update={"weighting": "least_squares", "name": "iod2025_health_ls"})
    _, b, _ = build_spec(ls, ctx=RunContext(shared_data))
    assert list(b.attrs["weights"].values()) == pytest.approx([0.2400, 0.2936, 0.2220, 0.2444], abs=0.002)
    # maximum-likelihood factor analysis: reported beside the published weights (they agree here)
    _, fa, _ = build_spec("iod2025_health_fa", ctx=RunContext(shared_data))
    print("FA weights", fa.attrs["weights"], "published 0.2400 / 0.2936 / 0.2220 / 0.2444")
    assert sum(fa.attrs["weights"].values()) == pytest.approx(1.0)


def test_iod2025_crime_from_eight_rates(shared_data):
    _, built, fit = build_spec("iod2025_crime", ctx=RunContext(shared_data))
    assert fit.figures["spearman"] >= 0.9999
    assert len(built.attrs["weights"]) == 8


@pytest.mark.parametrize(
    "name",
    [
        "imd2019_indoors",
        "imd2019_outdoors",
        "imd2019_geog_barriers",
        "imd2019_wider_barriers",
        "iod2025_geog_barriers",
        "iod2025_wider_barriers",
    ],
)
def test_subdomains_from_file8(shared_data, name):
    spec, built, fit = build_spec(name, ctx=RunContext(shared_data))
    assert fit.figures["spearman"] >= 0.999, (name, fit.figures)
    assert fit.passed


def test_spec_weighting_errors():
    base = (
        "name: x\ntitle: t\nedition: e\ngeography: lsoa11\nsource: imd2019_file8\narea: lsoa11cd\n"
        "components:\n  - {name: a, column: air_quality_indicator, transform: normal_score}\n"
    )
    with pytest.raises(SpecError, match="have no weight"):
        parse_spec(base, "s.yaml")
    with pytest.raises(SpecError, match="least_squares needs check.score"):
        parse_spec(base + "weighting: least_squares\n", "s.yaml")
    with pytest.raises(SpecError, match="weighting"):
        parse_spec(base + "weighting: magic\n", "s.yaml")
    assert parse_spec(base + "weighting: equal\n", "s.yaml").weighting == "equal"


def test_user_indicator_table(shared_data, tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from leftbehind.cli import app

    spec = tmp_path / "mine.yaml"
    spec.write_text(
        "name: mine\ntitle: My index\nedition: test\ngeography: lsoa11\nsource: imd2019_file8\n"
        "area: lsoa11cd\ncomponents:\n  - {name: a, column: a, transform: normal_score}\n"
        "  - {name: b, column: b, transform: normal_score, direction: lower_is_worse}\n"
        "weighting: equal\n"
    )
    good = pd.DataFrame(
        {"lsoa11cd": ["E01000001", "E01000002", "E01000003"], "a": [1.0, 2.0, 3.0], "b": [3.0, 2.0, 1.0]}
    )
    good.to_csv(tmp_path / "good.csv", index=False)
    out = tmp_path / "o.csv"
    runner = CliRunner()
    res = runner.invoke(
        app, ["index", "build", str(spec), "--indicators", str(tmp_path / "good.csv"), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out).sort_values("rank")["area_code"].tolist() == ["E01000003", "E01000002", "E01000001"]
    cases = {
        "missing.csv": (good.assign(a=[1.0, None, 3.0]), "missing for 1 areas"),
        "wrongcode.csv": (good.assign(lsoa11cd=["E05000001", "E01000002", "E01000003"]), "is not a lsoa11 code"),
        "lsoa21.csv": (good.assign(lsoa11cd=["E01033800", "E01000002", "E01000003"]), "LSOA 2021 codes"),
        "nocol.csv": (good.rename(columns={"lsoa11cd": "code"}), "no area-code column"),
        "dup.csv": (good.assign(lsoa11cd=["E01000001", "E01000001", "E01000003"]), "appears twice"),
    }
    for fname, (frame, fragment) in cases.items():
        frame.to_csv(tmp_path / fname, index=False)
        res = runner.invoke(
            app, ["index", "build", str(spec), "--indicators", str(tmp_path / fname), "--out", str(out)]
        )
        assert res.exit_code == 2 and fragment in res.output and "Traceback" not in res.output, (fname, res.output)


def test_cni_style_worked_example(shared_data, tmp_path):
    """`leftbehind index cni-style`: the worked example end to end. Built from open indicators it
    is not the CNI, but its overall rank must agree with the published one well beyond chance
    (measured: Spearman 0.26, top-10% overlap 20% against the 10% of a random ranking)."""
    from typer.testing import CliRunner

    from leftbehind.cli import app

    out = tmp_path / "cni_style.csv"
    res = CliRunner().invoke(app, ["index", "cni-style", "--out", str(out), "--data", str(shared_data)])
    assert res.exit_code == 0, res.output
    wards = pd.read_csv(out)
    assert len(wards) > 7_400 and wards["ward_code"].is_unique
    assert sorted(wards["rank"]) == list(range(1, len(wards) + 1))
    from leftbehind.analysis.cnistyle import build_cni_style

    _, comparison = build_cni_style(RunContext(shared_data))
    c = comparison.set_index("domain")
    assert set(c.index) == {"civic_assets", "connectedness", "engaged_community", "cni"}
    assert c.loc["cni", "spearman_with_published_rank"] > 0.2  # a random ranking gives 0 +/- 0.02
    assert c.loc["cni", "top10pct_overlap"] > 0.15  # a random ranking shares 10% +/- 1%
    assert c.loc["engaged_community", "spearman_with_published_rank"] > 0.5
    assert "not open data" in res.output


def test_audit_tables(shared_data, tmp_path):
    from typer.testing import CliRunner

    from leftbehind.cli import app

    res = CliRunner().invoke(
        app, ["index", "audit", "iod2025_health", "--out", str(tmp_path / "a"), "--data", str(shared_data)]
    )
    assert res.exit_code == 0, res.output
    import pandas as pd

    w = pd.read_csv(tmp_path / "a" / "audit" / "iod2025_health" / "weights.csv")
    assert w["effective_weight"].sum() == pytest.approx(1.0)
    assert w["weight"].tolist() == pytest.approx([0.2400, 0.2936, 0.2220, 0.2444])
    html = (tmp_path / "a" / "audit" / "iod2025_health" / "audit.html").read_text()
    assert "Cronbach" in html and "http://" not in html and "https://" not in html
