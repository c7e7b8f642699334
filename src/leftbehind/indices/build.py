"""Build an index from a spec and an input table, and check it against published values.

:func:`build_index` returns one row per area with columns ``area_code, score, rank, decile``
followed by, for each component, ``{name}_input`` (the value read) and ``{name}_x`` (its
transformed value before weighting).
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


def build_index(spec: IndexSpec, table: pd.DataFrame) -> pd.DataFrame:
    """Apply ``spec`` to ``table`` (which holds ``spec.area`` and each component's column)."""
    missing = [f"{c.column} (component {c.name})" for c in spec.components if c.column not in table.columns]
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
    score = np.zeros(n)
    parts = {}
    for comp in spec.components:
        vals = table[comp.column]
        if vals.isna().any():
            first = table.loc[vals.isna(), spec.area].iloc[0]
            raise SpecError(
                f"index {spec.name}: component {comp.name} ({comp.column}) is missing for "
                f"{int(vals.isna().sum()):,} areas (first {first})",
                hint="fill or drop those areas before building the index",
            )
        x = transform_component(vals, comp, n)
        parts[f"{comp.name}_input"] = vals.to_numpy()
        parts[f"{comp.name}_x"] = x
        score = score + comp.weight * x
    out["score"] = score
    out["rank"] = rank_areas(score, codes, ties=spec.rank_ties).astype("int64")
    out["decile"] = deciles(out["rank"], n)
    out = pd.concat([out, pd.DataFrame(parts)], axis=1)
    out.attrs["index"] = spec.name
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
    if chk.score:
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
    if chk.rank:
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
