"""The claims ledger: every quantitative claim of the research, its published figure and source,
our figure, its interval across the uncertainty ensemble, and a verdict.

The claims themselves are data (``claims:`` in ``editions/*.yaml``); this module checks each by
its ``kind``. Verdicts:

* ``reproduced`` — our figure equals the published one within its rounding or a stated tolerance
  (counts: within 2%, or 1 for small counts, 5% for a figure published as "about"; rates: within
  0.15 percentage points, i.e. the published 1-dp rounding plus our noise);
* ``supported`` — the figure is not reproduced exactly, but the claim holds: the published count
  lies inside our ensemble's 5%-95% interval; or, for a comparison, the difference has the claimed
  sign, its bootstrap 95% interval excludes zero, and at least 95% of ensemble replications keep
  the sign;
* ``not supported`` — none of the above;
* ``not reproducible here`` — the data are not in the mirror (the row names them and what would
  fetch them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = [
    "claim_id",
    "edition",
    "claim",
    "source",
    "published",
    "unit",
    "ours",
    "interval_low",
    "interval_high",
    "interval",
    "verdict",
    "evidence",
    "missing_data",
    "how_to_fetch",
]
RATE_TOLERANCE = 0.15
SIGN_SHARE = 0.95


def _q(values, lo=0.05, hi=0.95) -> tuple[float, float]:
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    if not len(v):
        return float("nan"), float("nan")
    return float(np.quantile(v, lo)), float(np.quantile(v, hi))


def count_verdict(ours: float, published: float, lo: float, hi: float, approximate: bool) -> str:
    tol = 0.05 * published if approximate else max(1.0, 0.02 * published)
    if abs(ours - published) <= tol:
        return "reproduced"
    if np.isfinite(lo) and lo <= published <= hi:
        return "supported"
    return "not supported"


def gap_verdict(gap: float, ci_low: float, ci_high: float, sign_share: float, direction: str) -> str:
    want = 1.0 if direction == "higher" else -1.0
    ok_sign = np.sign(gap) == want
    excludes_zero = (ci_low > 0) if want > 0 else (ci_high < 0)
    holds = ok_sign and excludes_zero and (np.isnan(sign_share) or sign_share >= SIGN_SHARE)
    return "supported" if holds else "not supported"


def _row(claim, edition: str, cite, **kw) -> dict:
    base = {c: "" for c in COLUMNS}
    base.update(
        claim_id=claim.id,
        edition=edition,
        claim=claim.text,
        source=cite(claim.source),
        published=np.nan,
        ours=np.nan,
        interval_low=np.nan,
        interval_high=np.nan,
    )
    base.update(kw)
    return base


def ledger(st) -> pd.DataFrame:
    """The ledger for a run's state (``analysis.pipeline.RunState``)."""
    rows = []
    research = st.research
    for claim in research.claims:
        rows.append(_check(st, claim, research, research.id))
    if st.current is not None:
        for claim in st.current.claims:
            rows.append(_check(st, claim, st.current, st.current.id))
    return pd.DataFrame(rows, columns=COLUMNS)


def _interval_text(lo: float, hi: float, what: str) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    if max(abs(lo), abs(hi)) >= 100:
        return f"{lo:,.0f} to {hi:,.0f} ({what})"
    return f"{lo:.3g} to {hi:.3g} ({what})"


def _check(st, claim, ed, edition_id: str) -> dict:
    cite = ed.cite
    k = claim.kind
    if k == "missing":
        return _row(
            claim,
            edition_id,
            cite,
            published=claim.value,
            verdict="not reproducible here",
            evidence="the data are not in the mirror",
            missing_data=claim.missing,
            how_to_fetch=claim.fetch,
        )
    checker = CHECKS.get(k)
    if checker is not None:
        return checker(st, claim, ed, edition_id)
    raise ValueError(f"claim {claim.id}: unknown kind {k!r}")  # pragma: no cover - validated by the tests


# ---------------------------------------------------------------- counts


def _count(st, claim, ed, edition_id):
    pub = ed.published_value(claim.imd, claim.key)
    ens = st.ensembles.get(claim.imd)
    wards = st.wards if claim.imd == st.opts.imd else st.other_wards.get(claim.imd)
    if wards is None:
        return _row(
            claim,
            edition_id,
            ed.cite,
            published=pub.value,
            unit=pub.unit,
            verdict="not reproducible here",
            missing_data="the IMD pairing was not run",
            how_to_fetch=f"leftbehind run --imd {claim.imd}",
        )
    lb = wards["group"].to_numpy() == "left_behind"
    ours, lo, hi, what = _count_value(claim.key, pub, wards, lb, ens)
    verdict = count_verdict(ours, pub.value, lo, hi, pub.approximate)
    note = pub.display or ""
    if claim.key == "lbn_lads":
        note = "counted on the published (2019) local-authority codes"
    return _row(
        claim,
        edition_id,
        ed.cite,
        published=pub.value,
        unit=pub.unit,
        ours=ours,
        interval_low=lo,
        interval_high=hi,
        interval=_interval_text(lo, hi, what),
        verdict=verdict,
        evidence=note,
    )


def _count_value(key, pub, wards, lb, ens):
    """(ours, ensemble 5%, 95%, what the interval is) of a published count."""
    what = f"5%-95% of {ens.replications:,} ensemble replications" if ens is not None else ""
    if key == "lbn_wards":
        lo, hi = _q(ens.list_size) if ens is not None else (np.nan, np.nan)
        return float(lb.sum()), lo, hi, what
    if key == "lbn_residents":
        ours = float(wards.loc[lb, "population"].sum())
        lo, hi = _q(ens.region_residents.sum(axis=1)) if ens is not None else (np.nan, np.nan)
        return round(ours), lo, hi, what
    if pub.region or pub.regions:
        regions = [pub.region] if pub.region else list(pub.regions)
        ours = float(np.isin(wards.loc[lb, "region_name"], regions).sum())
        if ens is None:
            return ours, np.nan, np.nan, what
        cols = np.isin(ens.regions, regions)
        lo, hi = _q(ens.region_areas[:, cols].sum(axis=1))
        return ours, lo, hi, what
    if pub.lad:
        ours = float((wards.loc[lb, "lad_name"] == pub.lad).sum())
        if ens is None:
            return ours, np.nan, np.nan, what
        cols = ens.lad_names == pub.lad
        lo, hi = _q(ens.lad_areas[:, cols].sum(axis=1))
        return ours, lo, hi, what
    if key == "lbn_lads":
        ours = float(wards.loc[lb, "lad_code_published"].nunique())
        return ours, np.nan, np.nan, ""
    raise KeyError(key)  # pragma: no cover


# ---------------------------------------------------------------- rates and gaps


def _rate(st, claim, ed, edition_id):
    r = next(x for x in ed.rates("2019", claim.indicator) if x.group == claim.group)
    o = st.outcome
    row = o[(o["indicator"] == claim.indicator) & (o["group"] == claim.group)].iloc[0]
    ours, lo, hi = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
    if claim.missing:
        verdict = "reproduced" if abs(ours - r.value) <= RATE_TOLERANCE else "not reproducible here"
    else:
        verdict = (
            "reproduced"
            if abs(ours - r.value) <= RATE_TOLERANCE
            else ("supported" if lo <= r.value <= hi else "not supported")
        )
    return _row(
        claim,
        edition_id,
        ed.cite,
        published=r.value,
        unit=row["unit"],
        ours=ours,
        interval_low=lo,
        interval_high=hi,
        interval=_interval_text(lo, hi, "ward-cluster bootstrap 95% CI"),
        verdict=verdict,
        evidence=r.note,
        missing_data=claim.missing or "",
        how_to_fetch=claim.fetch or "",
    )


def _gap(st, claim, ed, edition_id):
    cite = ed.cite
    o = st.outcome
    row = o[(o["indicator"] == claim.indicator) & (o["group"] == "left_behind_minus_other_deprived")].iloc[0]
    gap, lo, hi = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
    share, elo, ehi = np.nan, np.nan, np.nan
    ens = st.ensembles.get(st.opts.imd)
    if ens is not None and ens.gap is not None and claim.indicator in ens.gap_names:
        g = ens.gap[:, ens.gap_names.index(claim.indicator)]
        scale = 100.0 if claim.indicator in st.pooled_keys else 1.0
        g = g[np.isfinite(g)] * scale
        share = float(np.mean(np.sign(g) == np.sign(gap))) if len(g) else np.nan
        elo, ehi = _q(g)
    verdict = gap_verdict(gap, lo, hi, share, claim.direction)
    evidence = f"left behind minus other deprived = {gap:+.3g} {row['unit']} (bootstrap 95% CI {lo:+.3g} to {hi:+.3g})"
    if np.isfinite(share):
        evidence += f"; the sign holds in {share:.1%} of {ens.replications:,} ensemble replications"
    return _row(
        claim,
        edition_id,
        cite,
        unit=row["unit"],
        ours=gap,
        interval_low=elo,
        interval_high=ehi,
        interval=_interval_text(elo, ehi, "5%-95% of the ensemble's differences"),
        verdict=verdict,
        evidence=evidence,
    )


# ---------------------------------------------------------------- economy and politics


def _claimant(st, claim, ed, edition_id):
    cc = st.claimants
    rates = {r.group: r for r in ed.rates("2019", "claimant_count")}
    pub = rates["left_behind"]
    if not cc.available:
        return _row(
            claim,
            edition_id,
            ed.cite,
            published=pub.value,
            unit=pub.unit,
            verdict="not reproducible here",
            evidence=f"published: left behind {pub.value}, England {rates['england'].value}",
            missing_data=f"ONS claimant count by LSOA 2011 for {cc.month} (Nomis NM_162_1), not cached on this machine",
            how_to_fetch=cc.how_to_fetch,
        )
    t = st.tables["economy_claimants"].set_index("group")
    ours = float(t.loc["left_behind", "estimate"])
    lo, hi = float(t.loc["left_behind", "ci_low"]), float(t.loc["left_behind", "ci_high"])
    eng = float(t.loc["england", "estimate"])
    ok = abs(ours - pub.value) <= 0.3 and abs(eng - rates["england"].value) <= 0.3
    verdict = "reproduced" if ok else ("supported" if ours > eng else "not supported")
    return _row(
        claim,
        edition_id,
        ed.cite,
        published=pub.value,
        unit=pub.unit,
        ours=ours,
        interval_low=lo,
        interval_high=hi,
        interval=_interval_text(lo, hi, "ward-cluster bootstrap 95% CI"),
        verdict=verdict,
        evidence=f"England {eng:.1f} (published {rates['england'].value}), month {cc.month}",
    )


def _furlough(st, claim, ed, edition_id):
    cite = ed.cite
    f = st.tables["economy_furlough"]
    r = f[(f["level"] == "local authority") & (f["band"] == "25% or more")]
    if r.empty:
        r = f[(f["level"] == "constituency") & (f["band"] == "25% or more")]
    r = r.iloc[0]
    ours, lo, hi = float(r["take_up_pct"]), float(r["ci_low"]), float(r["ci_high"])
    verdict = "reproduced" if abs(ours - claim.value) <= claim.tolerance else "not supported"
    return _row(
        claim,
        edition_id,
        cite,
        published=claim.value,
        unit="% of eligible employments furloughed",
        ours=ours,
        interval_low=lo,
        interval_high=hi,
        interval=_interval_text(lo, hi, "bootstrap over areas, 95% CI"),
        verdict=verdict,
        evidence=f"take-up in {r['level']} areas with 25% or more of residents in left-behind wards "
        f"({int(r['areas'])} areas; {r['source']}); 'about 1 in 4' read as {claim.value:g} +/- {claim.tolerance:g}",
    )


def _correlation(st, claim, ed, edition_id):
    cite = ed.cite
    c = st.tables["politics_correlations"]
    r = c[(c["level"] == claim.level) & (c["x"] == claim.x) & (c["y"] == claim.y) & (c["method"] == "pearson")]
    r = r.iloc[0]
    rr, lo, hi = float(r["r"]), float(r["ci_low"]), float(r["ci_high"])
    verdict = "supported" if (rr > 0 and lo > 0) else "not supported"
    return _row(
        claim,
        edition_id,
        cite,
        unit="Pearson r",
        ours=rr,
        interval_low=lo,
        interval_high=hi,
        interval=_interval_text(lo, hi, "Fisher-z 95% CI") if abs(lo) >= 0.05 else f"{lo:.2f} to {hi:.2f} (95% CI)",
        verdict=verdict,
        evidence=f"{claim.level} level, n = {int(r['n'])}: CNI score (population-weighted mean of wards) against "
        "Hanretty's Leave estimate",
    )


def _red_wall(st, claim, ed, edition_id):
    cite = ed.cite
    p = st.politics
    seats_rw = p.red_wall_seats_england
    seats_other = p.constituencies - seats_rw
    per_rw = p.lbn_wards_in_red_wall_seats / max(seats_rw, 1)
    per_other = p.lbn_wards_in_other_seats / max(seats_other, 1)
    ratio = per_rw / per_other if per_other else np.inf
    verdict = "supported" if ratio > 1 else "not supported"
    return _row(
        claim,
        edition_id,
        cite,
        unit="left-behind wards per seat, red wall / other seats",
        ours=float(ratio),
        verdict=verdict,
        evidence=f"{p.lbn_wards_in_red_wall_seats} left-behind wards in {seats_rw} red-wall seats "
        f"({per_rw:.2f} a seat) vs {p.lbn_wards_in_other_seats} in {seats_other} other English seats "
        f"({per_other:.2f}); rule: {p.red_wall_rule}",
    )


def _persistence(st, claim, ed, edition_id):
    cite = ed.cite
    ours, n = st.persistence[(claim.x, claim.y)]
    verdict = "reproduced" if abs(ours - claim.value) <= claim.tolerance else "not supported"
    return _row(
        claim,
        edition_id,
        cite,
        published=claim.value,
        unit="% of decile-1 LSOAs",
        ours=ours,
        verdict=verdict,
        evidence=f"{n:,} LSOAs in the most deprived decile of the later edition compared",
    )


#: the checker of each claim kind (``kind:`` in the editions' claims), by name
CHECKS = {
    "count": _count,
    "rate": _rate,
    "gap": _gap,
    "claimant": _claimant,
    "furlough": _furlough,
    "correlation": _correlation,
    "red_wall": _red_wall,
    "persistence": _persistence,
}
