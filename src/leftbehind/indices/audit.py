"""Audit an index spec: what its indicators look like and how much each actually drives the result.

:func:`audit` returns tables: indicator summaries with missing data; the correlation matrix of the
transformed components; Cronbach's alpha; one-factor ML loadings and uniquenesses; the weights
used; and the **effective weights** — each component's share of the composite's variance,
wᵢ·cov(xᵢ, S)/var(S) (they add up to 1; a component with a large nominal weight but little
variance, or that runs against the others, drives the ranks less than its weight suggests) — with
each component's Spearman correlation with the composite. Missing values are filled with the
component's median for the audit only (the table reports how many). :func:`audit_html` renders them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import escape

from leftbehind.indices.build import build_index, component_weights, transform_component
from leftbehind.indices.spec import IndexSpec
from leftbehind.indices.weights import factor_loadings


def cronbach_alpha(x: np.ndarray) -> float:
    x = np.asarray(x, dtype="float64")
    k = x.shape[1]
    if k < 2:
        return float("nan")
    item_var = np.nanvar(x, axis=0, ddof=1).sum()
    total_var = np.nanvar(x.sum(axis=1), ddof=1)
    return float(k / (k - 1) * (1 - item_var / total_var))


def audit(spec: IndexSpec, table: pd.DataFrame, target=None) -> dict:
    from scipy import stats

    n = len(table)
    rows, xs = [], []
    for c in spec.components:
        v = pd.to_numeric(table[c.column], errors="coerce")
        rows.append(
            {
                "component": c.name,
                "column": c.column,
                "label": c.label or c.column,
                "n": int(v.notna().sum()),
                "missing": int(v.isna().sum()),
                "mean": v.mean(),
                "sd": v.std(),
                "min": v.min(),
                "median": v.median(),
                "max": v.max(),
                "transform": c.transform,
                "direction": c.direction,
            }
        )
        xs.append(transform_component(v.fillna(v.median()), c, n))
    x = np.column_stack(xs)
    w = component_weights(spec, x, target)
    s = x @ w
    cov = np.array([np.cov(x[:, j], s)[0, 1] for j in range(x.shape[1])])
    effective = w * cov / np.var(s, ddof=1)
    names = [c.name for c in spec.components]
    corr = pd.DataFrame(np.corrcoef(x, rowvar=False), index=names, columns=names)
    lam, psi = factor_loadings(x) if x.shape[1] > 1 else (np.array([1.0]), np.array([0.0]))
    weights = pd.DataFrame(
        {
            "component": names,
            "weight": w,
            "effective_weight": effective,
            "loading": lam,
            "uniqueness": psi,
            "spearman_with_composite": [float(stats.spearmanr(x[:, j], s).statistic) for j in range(x.shape[1])],
        }
    )
    built = build_index(
        spec,
        table.assign(
            **{
                c.column: pd.to_numeric(table[c.column], errors="coerce").fillna(
                    pd.to_numeric(table[c.column], errors="coerce").median()
                )
                for c in spec.components
            }
        ),
        target,
    )
    return {
        "spec": spec,
        "summary": pd.DataFrame(rows),
        "correlation": corr,
        "weights": weights,
        "alpha": cronbach_alpha(x),
        "areas": n,
        "built": built,
    }


def _table(df: pd.DataFrame, index: bool = False) -> str:
    d = df.reset_index() if index else df
    head = "".join(f"<th>{escape(c)}</th>" for c in d.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(f'{v:.4f}' if isinstance(v, float) else v)}</td>" for v in r) + "</tr>"
        for r in d.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def audit_html(result: dict) -> str:
    spec = result["spec"]
    style = (
        "body{font:14px system-ui,sans-serif;margin:24px;max-width:1100px}table{border-collapse:collapse;"
        "margin:8px 0 20px}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}"
        "th{background:#f3f5f7}td:first-child,th:first-child{text-align:left}"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>Audit: {escape(spec.title)}</title><style>{style}</style></head><body>"
        f"<h1>Audit: {escape(spec.title)}</h1><p>{escape(spec.name)} · {result['areas']:,} areas · weighting "
        f"{escape(spec.weighting)} · Cronbach's alpha {result['alpha']:.3f}</p>"
        "<h2>Indicators</h2>"
        + _table(result["summary"])
        + "<h2>Weights: nominal, effective (share of the composite's variance), factor loadings</h2>"
        + _table(result["weights"])
        + "<h2>Correlations of the transformed components</h2>"
        + _table(result["correlation"].round(4), index=True)
        + "</body></html>"
    )
