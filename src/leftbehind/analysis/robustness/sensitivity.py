"""Which source of uncertainty drives the flips?

* **Sobol indices** (SALib, Saltelli/Jansen estimators): each active source is a *group* of
  uniform variables (the construction or pairing: one; each cut-off: one; CNI weights: three;
  IMD weights: seven; noise: two, the offsets of the CNI and IMD noise fields). A Sobol design of
  ``n`` base samples gives ``n x (groups + 2)`` replications, evaluated by the same vectorised
  engine as the ensemble; first-order and total indices of the **list size** and of the
  **Jaccard with the nominal list**, with bootstrap 95% intervals.
* **One at a time**: each source alone (the spec with every other source off), and what it moves:
  the areas that change class in at least one replication, the mean number of areas that differ
  from the nominal list per replication, the list size's 5%-95% range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from leftbehind.analysis.robustness.ensemble import (
    Draws,
    EnsembleInputs,
    NoisePool,
    _k,
    evaluate,
    run_ensemble,
    variant_choices,
)
from leftbehind.analysis.robustness.spec import EnsembleSpec

OUTPUTS = ("list_size", "jaccard")


def _groups(inputs: EnsembleInputs, spec: EnsembleSpec) -> list[tuple[str, int]]:
    """(source, number of uniform variables) for every active source."""
    active = set(spec.active(inputs.variant_source))
    w0 = inputs.variants[0].w0
    out = []
    if inputs.variant_source in active:
        out.append((inputs.variant_source, 1))
    for name in ("cutoff_cni", "cutoff_imd"):
        if name in active:
            out.append((name, 1))
    if "cni_weights" in active:
        out.append(("cni_weights", 3))
    if "imd_weights" in active and len(w0) > 1:
        out.append(("imd_weights", len(w0)))
    if "noise" in active:
        out.append(("noise", 2))
    return out


def draws_from_unit(inputs: EnsembleInputs, spec: EnsembleSpec, u: np.ndarray, groups) -> Draws:
    """Map a (rows x variables) matrix of uniforms to replication parameters, source by source."""
    s = spec.sources
    r, n = len(u), inputs.n
    col = 0
    cols = {}
    for name, k in groups:
        cols[name] = u[:, col : col + k]
        col += k
    k0 = int(_k(inputs.threshold, n))
    n_imd = int(np.sum(np.isfinite(inputs.variants[inputs.nominal_variant].base)))
    choices = np.asarray(variant_choices(inputs, spec))
    if inputs.variant_source in cols:
        x = cols[inputs.variant_source][:, 0]
        variant = choices[np.minimum((x * len(choices)).astype(np.int64), len(choices) - 1)]
    else:
        variant = np.full(r, inputs.nominal_variant)

    def cut(name, c):
        return _k(c.low + cols[name][:, 0] * (c.high - c.low), n) if name in cols else np.full(r, k0)

    k_cni = cut("cutoff_cni", s.cutoff_cni)
    k_imd = np.minimum(cut("cutoff_imd", s.cutoff_imd), n_imd)
    eps = 1e-12
    if "cni_weights" in cols:
        g = stats.gamma.ppf(np.clip(cols["cni_weights"], eps, 1 - eps), s.cni_weights.concentration / 3.0)
        w_cni = 3.0 * g / g.sum(axis=1, keepdims=True)
    else:
        w_cni = np.ones((r, 3))
    w0 = inputs.variants[0].w0
    if "imd_weights" in cols:
        a = s.imd_weights.concentration * w0 / w0.sum()
        g = stats.gamma.ppf(np.clip(cols["imd_weights"], eps, 1 - eps), a[None, :])
        w_imd = w0.sum() * g / g.sum(axis=1, keepdims=True)
    else:
        w_imd = np.tile(w0, (r, 1))
    noise = "noise" in cols
    off_c = off_i = None
    if noise:
        span = NoisePool.length(n) - n
        off_c = np.minimum((cols["noise"][:, 0] * (span + 1)).astype(np.int64), span)
        off_i = np.minimum((cols["noise"][:, 1] * (span + 1)).astype(np.int64), span)
    return Draws(
        variant,
        k_cni,
        k_imd,
        w_cni,
        w_imd,
        noise,
        "cni_weights" in cols,
        "imd_weights" in cols,
        off_c,
        off_i,
    )


def sobol_indices(inputs: EnsembleInputs, spec: EnsembleSpec, n_base: int, seed: int) -> pd.DataFrame:
    """First-order and total Sobol indices of the list size and the Jaccard, by source."""
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    groups = _groups(inputs, spec)
    if len(groups) < 2:  # one source (or none): it explains everything, nothing to apportion
        return pd.DataFrame(
            [
                {
                    "output": o,
                    "source": g,
                    "S1": 1.0,
                    "S1_low": 1.0,
                    "S1_high": 1.0,
                    "ST": 1.0,
                    "ST_low": 1.0,
                    "ST_high": 1.0,
                    "replications": 0,
                }
                for o in OUTPUTS
                for g, _ in groups
            ]
        )
    names = [f"{g}_{i}" for g, k in groups for i in range(k)]
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[0.0, 1.0]] * len(names),
        "groups": [g for g, k in groups for _ in range(k)],
    }
    u = sobol_sample.sample(problem, n_base, calc_second_order=False, scramble=True, seed=seed)
    d = draws_from_unit(inputs, spec, u, groups)
    out = evaluate(inputs, d, spec.sources.noise.rank_sd, seed, rank_sample=0)
    rows = []
    for o, y in (("list_size", out["size"].astype("float64")), ("jaccard", out["jaccard"])):
        if np.var(y) == 0:
            res = {
                "S1": np.zeros(len(groups)),
                "ST": np.zeros(len(groups)),
                "S1_conf": np.zeros(len(groups)),
                "ST_conf": np.zeros(len(groups)),
            }
        else:
            res = sobol_analyze.analyze(
                problem, y, calc_second_order=False, num_resamples=200, conf_level=0.95, seed=seed
            )
        for j, (g, _) in enumerate(groups):
            rows.append(
                {
                    "output": o,
                    "source": g,
                    "S1": float(res["S1"][j]),
                    "S1_low": float(res["S1"][j] - res["S1_conf"][j]),
                    "S1_high": float(res["S1"][j] + res["S1_conf"][j]),
                    "ST": float(res["ST"][j]),
                    "ST_low": float(res["ST"][j] - res["ST_conf"][j]),
                    "ST_high": float(res["ST"][j] + res["ST_conf"][j]),
                    "replications": len(u),
                }
            )
    return pd.DataFrame(rows)


def one_at_a_time(inputs: EnsembleInputs, spec: EnsembleSpec, replications: int, seed: int) -> pd.DataFrame:
    """Each active source alone: how many areas it moves, and how far the list changes."""
    nominal = inputs.nominal_group == "left_behind"
    rows = []
    for source in spec.active(inputs.variant_source):
        res = run_ensemble(inputs, spec.only(source), replications, seed)
        p = res.p_left_behind
        changed = (p > 0) & (p < 1)
        # mean areas per replication that differ from the nominal list: E|symmetric difference|
        sym = float(np.sum(np.where(nominal, 1 - p, p)))
        rows.append(
            {
                "source": source,
                "areas_that_change": int(changed.sum()),
                "nominal_areas_that_can_drop": int((changed & nominal).sum()),
                "other_areas_that_can_enter": int((changed & ~nominal).sum()),
                "mean_areas_differing": sym,
                "list_size_mean": float(res.list_size.mean()),
                "list_size_q05": float(np.quantile(res.list_size, 0.05)),
                "list_size_q95": float(np.quantile(res.list_size, 0.95)),
                "jaccard_mean": float(res.jaccard.mean()),
                "replications": replications,
            }
        )
    return pd.DataFrame(rows)
