"""Build an index from a spec and an input table, and check it against published values.

:func:`build_index` returns one row per area with columns ``area_code, score, rank, decile``
followed by, for each component, ``{name}_input`` (the value read) and ``{name}_x`` (its
transformed value before weighting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leftbehind.errors import SpecError
from leftbehind.indices.spec import Component, IndexSpec
from leftbehind.indices.transforms import (
    deciles,
    exponential_transform,
    normal_scores,
    rank_areas,
)

if TYPE_CHECKING:
    from leftbehind.context import RunContext


def transform_component(values: pd.Series, comp: Component, n: int) -> np.ndarray:
    x = values.to_numpy(dtype="float64")
    if comp.direction == "lower_is_worse" and comp.transform != "exp_rank":
        x = -x
    if comp.transform == "exp_rank":
        if comp.ties == "average":
            # a tied block published as (k, k, k+2...) becomes the mean of its positions
            x = pd.Series(x).rank(method="average").to_numpy()
        return exponential_transform(x, n)
    if comp.transform == "exp_score":
        return exponential_transform(rank_areas(x, ties="average"), n)
    if comp.transform == "normal_score":
        return normal_scores(x)
    return x


def component_weights(spec: IndexSpec, x: np.ndarray, target=None) -> np.ndarray:
    """The weights of the transformed components ``x`` (areas × components) under ``spec.weighting``."""
    from leftbehind.indices import weights as wt

    k = x.shape[1]
    if spec.weighting == "fixed":
        return np.array([c.weight for c in spec.components], dtype="float64")
    if spec.weighting == "equal":
        return wt.equal_weights(k)
    if spec.weighting == "pca":
        return wt.pca_weights(x)
    if spec.weighting in ("factor", "factor_scores"):
        return wt.factor_weights(x, "loadings" if spec.weighting == "factor" else "scores")
    if target is None:
        raise SpecError(
            f"index {spec.name}: least-squares weights need the published score ({spec.check.score})",
            hint="pass the table holding it (check.dataset)",
        )
    return wt.least_squares_weights(x, target)


def build_index(spec: IndexSpec, table: pd.DataFrame, target=None) -> pd.DataFrame:
    """Apply ``spec`` to ``table`` (which holds ``spec.area`` and each component's column).

    ``target``: the published score aligned with ``table`` (only for ``weighting: least_squares``).
    The weights used are in ``out.attrs["weights"]``."""
    missing = [f"{c.column} (component {c.name})" for c in spec.components if c.column not in table.columns]
    missing += [
        f"{col} (shrinkage of component {c.name})"
        for c in spec.components
        if c.shrink
        for col in (c.shrink.denominator, c.shrink.parent)
        if col not in table.columns
    ]
    if spec.area not in table.columns:
        missing.insert(0, f"{spec.area} (the area code)")
    if missing:
        raise SpecError(
            f"index {spec.name}: the input table {spec.source} has no column {'; '.join(missing)}",
            hint=f"use one of the columns of {spec.source}: {', '.join(map(str, table.columns))}",
        )
    n = len(table)
    codes = table[spec.area].astype(str).to_numpy()
    out = pd.DataFrame({"area_code": codes})
    parts = {}
    xs = []
    for comp in spec.components:
        vals = table[comp.column]
        if vals.isna().any():
            first = table.loc[vals.isna(), spec.area].iloc[0]
            raise SpecError(
                f"index {spec.name}: component {comp.name} ({comp.column}) is missing for "
                f"{int(vals.isna().sum()):,} areas (first {first})",
                hint="fill or drop those areas before building the index (or impute them in your table)",
            )
        if not pd.api.types.is_numeric_dtype(vals):
            raise SpecError(
                f"index {spec.name}: component {comp.name} ({comp.column}) is not numeric",
                hint="indicator columns must hold numbers",
            )
        if comp.shrink is not None:  # rates of small counts, shrunk towards their parent area's rate
            from leftbehind.indices.weights import eb_shrink

            vals = pd.Series(
                eb_shrink(vals, table[comp.shrink.denominator], table[comp.shrink.parent]), index=table.index
            )
        x = transform_component(vals, comp, n)
        parts[f"{comp.name}_input"] = vals.to_numpy()
        parts[f"{comp.name}_x"] = x
        xs.append(x)
    x = np.column_stack(xs)
    w = component_weights(spec, x, target)
    out["score"] = x @ w
    out["rank"] = rank_areas(out["score"].to_numpy(), codes, ties=spec.rank_ties).astype("int64")
    out["decile"] = deciles(out["rank"], n)
    out = pd.concat([out, pd.DataFrame(parts)], axis=1)
    out.attrs["index"] = spec.name
    out.attrs["weights"] = {c.name: float(v) for c, v in zip(spec.components, w, strict=True)}
    return out


@dataclass
class Fit:
    """How a rebuilt index compares with the published one."""

    index: str
    n: int
    checks: list[tuple[str, str, bool]] = field(default_factory=list)  # (what, figure, passed)
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(ok for _, _, ok in self.checks)

    def as_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "n": self.n,
            "passed": self.passed,
            "figures": self.figures,
            "checks": [{"check": w, "result": f, "passed": ok} for w, f, ok in self.checks],
        }


def compare(spec: IndexSpec, built: pd.DataFrame, published: pd.DataFrame) -> Fit:
    """Compare ``built`` (from :func:`build_index`) with published columns in ``published``."""
    fit = Fit(spec.name, len(built))
    chk = spec.check
    if chk is None:
        return fit
    pub = published.set_index(spec.area if spec.area in published.columns else published.columns[0])
    pub = pub.reindex(built["area_code"].to_numpy())
    if pub.index.isna().any() or len(pub) != len(built):
        raise SpecError(f"index {spec.name}: the published table does not cover every area")
    if chk.score and chk.score_tolerance is not None:
        d = built["score"].to_numpy() - pub[chk.score].to_numpy(dtype="float64")
        mad = float(np.nanmax(np.abs(d)))
        fit.figures.update(score_max_abs_diff=mad, score_mean_abs_diff=float(np.nanmean(np.abs(d))))
        if chk.score_tolerance is not None:
            fit.checks.append(
                (
                    f"score within {chk.score_tolerance:g} of published {chk.score} for every area",
                    f"max |diff| {mad:.6f}",
                    mad <= chk.score_tolerance,
                )
            )
    if chk.rank and (chk.rank_exact_min is not None or chk.rank_max_diff is not None or chk.spearman_min is None):
        d = np.abs(built["rank"].to_numpy() - pub[chk.rank].to_numpy(dtype="float64"))
        exact = float(np.mean(d == 0))
        fit.figures.update(rank_exact_share=exact, rank_max_abs_diff=float(d.max()))
        if chk.rank_exact_min is not None:
            fit.checks.append(
                (
                    f"rank equals published {chk.rank} for >= {chk.rank_exact_min:.1%} of areas",
                    f"{exact:.4%} ({int((d == 0).sum()):,} of {len(d):,})",
                    exact >= chk.rank_exact_min,
                )
            )
        if chk.rank_max_diff is not None:
            fit.checks.append(
                (
                    f"rank never more than {chk.rank_max_diff:g} places off",
                    f"max {d.max():g}",
                    d.max() <= chk.rank_max_diff,
                )
            )
    if chk.spearman_min is not None:
        from scipy import stats

        ref = pub[chk.score].to_numpy(dtype="float64") if chk.score else -pub[chk.rank].to_numpy(dtype="float64")
        rho = float(stats.spearmanr(built["score"].to_numpy(), ref).statistic)
        fit.figures["spearman"] = rho
        fit.checks.append(
            (
                f"Spearman with published {chk.score or chk.rank} >= {chk.spearman_min:g}",
                f"{rho:.6f}",
                rho >= chk.spearman_min,
            )
        )
    if chk.decile:
        same = float(np.mean(built["decile"].to_numpy() == pub[chk.decile].to_numpy()))
        fit.figures["decile_exact_share"] = same
    for code, value in chk.spot_scores.items():
        row = built.loc[built["area_code"] == code, "score"]
        got = float(row.iloc[0]) if len(row) else float("nan")
        fit.checks.append(
            (
                f"{code} score = published {value:g} ± {chk.spot_tolerance:g}",
                f"{got:.4f}",
                abs(got - value) <= chk.spot_tolerance,
            )
        )
    return fit


def build_spec(spec_or_name, *, ctx: RunContext, table: pd.DataFrame | None = None):
    """Load a spec's inputs (or use ``table``), build it, compare it with its published values.

    Returns (spec, built, fit). The published values come from ``check.dataset`` (default: the
    source); least-squares weights are fitted to ``check.score`` there.
    """
    from leftbehind.indices.spec import IndexSpec, load_spec

    spec = spec_or_name if isinstance(spec_or_name, IndexSpec) else load_spec(spec_or_name)
    table = ctx.load(spec.source) if table is None else table
    pub = table
    if spec.check and spec.check.dataset and spec.check.dataset != spec.source:
        pub = ctx.load(spec.check.dataset)
    target = None
    if spec.weighting == "least_squares":
        target = pub.set_index(spec.area)[spec.check.score].reindex(table[spec.area]).to_numpy()
    built = build_index(spec, table, target)
    return spec, built, compare(spec, built, pub)


def build_shipped(name: str, *, ctx: RunContext):
    """:func:`build_spec` of a shipped spec, cached on disk across runs (keyed by the sha256 of its
    source and check datasets and the package's code, which holds the spec): (spec, built, fit)."""
    from leftbehind.data.sources import cached_frame
    from leftbehind.indices.spec import load_spec

    spec = load_spec(name)
    datasets = (spec.source, *([spec.check.dataset] if spec.check and spec.check.dataset else []))

    def make() -> pd.DataFrame:
        _, built, fit = build_spec(spec, ctx=ctx)
        out = built.copy(deep=False)
        checks = [[w, f, bool(ok), isinstance(ok, np.bool_)] for w, f, ok in fit.checks]  # JSON, types kept
        out.attrs = {**built.attrs, FIT: {"index": fit.index, "n": fit.n, "checks": checks, "figures": fit.figures}}
        return out

    built = cached_frame(ctx, "index_build", name, make, datasets=datasets)
    f = built.attrs.pop(FIT)
    checks = [(w, r, np.bool_(ok) if numpy_bool else ok) for w, r, ok, numpy_bool in f["checks"]]
    return spec, built, Fit(f["index"], f["n"], checks, dict(f["figures"]))


FIT = "__fit__"  # the fit, carried in the cached frame's attrs


GEOGRAPHY_PATTERNS = {
    "lsoa11": r"^[EW]01\d{6}$",
    "lsoa21": r"^[EW]01\d{6}$",
    "msoa11": r"^[EW]02\d{6}$",
    "wd17": r"^[EW]05\d{6}$",
    "ward": r"^[EW]05\d{6}$",
    "lad": r"^[EW]0[6-9]\d{6}$",
    "oa11": r"^[EW]00\d{6}$",
}


def read_indicator_table(path, spec: IndexSpec) -> pd.DataFrame:
    """A user's indicator table (CSV or Parquet) for ``spec``: one row per area, ``spec.area`` codes
    of ``spec.geography``. Problems stop with one message naming the file and what to fix."""
    from pathlib import Path

    from leftbehind.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"indicator table {path} not found", hint="pass --indicators with a CSV or Parquet file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            t = pd.read_parquet(path)
        else:
            t = pd.read_csv(path, encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001 - any parser failure is the same user problem
        raise DataError(
            f"indicator table {path} could not be read ({type(exc).__name__}: {exc})",
            hint="save it as UTF-8 CSV with a header row, or as Parquet",
        ) from None
    if spec.area not in t.columns:
        raise DataError(
            f"indicator table {path} has no area-code column {spec.area!r} (columns: "
            f"{', '.join(map(str, t.columns[:12]))})",
            hint=f"name the code column {spec.area!r} or change the spec's 'area'",
        )
    codes = t[spec.area].astype(str).str.strip()
    if codes.duplicated().any():
        raise DataError(
            f"indicator table {path}: area {codes[codes.duplicated()].iloc[0]} appears twice", hint="one row per area"
        )
    pattern = GEOGRAPHY_PATTERNS.get(spec.geography)
    if pattern is not None:
        bad = ~codes.str.match(pattern)
        if bad.any():
            raise DataError(
                f"indicator table {path}: code {codes[bad].iloc[0]!r} (line {int(bad.to_numpy().argmax()) + 2})"
                f" is not a {spec.geography} code, but the spec's geography is {spec.geography}",
                hint="use codes of the spec's geography, or change 'geography' in the spec",
            )
        if spec.geography == "lsoa11" and (codes.str.slice(3).astype(int) > 33768).any():
            raise DataError(
                f"indicator table {path} holds LSOA 2021 codes, but the spec is at LSOA 2011",
                hint="set geography: lsoa21 in the spec, or use 2011 codes",
            )
    missing = [c.column for c in spec.components if c.column not in t.columns]
    if missing:
        raise DataError(
            f"indicator table {path} has no column(s) {', '.join(missing)}",
            hint=f"columns available: {', '.join(map(str, t.columns[:20]))}",
        )
    return t.assign(**{spec.area: codes})
