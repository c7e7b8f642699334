"""A selection simulator: which areas would a funding rule choose, and where would the money go?

A rule (YAML, or a preset name: ``presets/*.yaml``) declares the unit, the IMD edition paired with
CNI 2023 (or CNI 2019 at wards 2017), the index, a population band, caps per local authority and
region, exclusions, the number to select and the money. :func:`select` ranks the eligible units by
the index and selects them greedily in order, skipping an area whose local authority (then region)
has reached its cap, until ``count`` areas are selected (``both_top`` selects every area in the top
share of both indices). Every candidate gets a reason.

Indices (higher score = more need; ``rank`` 1 = first in line):

* ``mean_rank`` — the mean of the unit's national IMD and CNI ranks (lower first);
* ``sum_z`` — the sum of the z-scores of the unit's IMD and CNI scores;
* ``both_top`` — in the top ``top`` share of both ranks (ordered by the larger of the two ranks);
* ``weighted`` — a weighted sum of z-scores of ``imd``, ``cni`` and the CNI domains
  (``civic_assets``, ``connectedness``, ``engaged_community``; from their ranks).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from leftbehind.errors import SpecError, UsageError

if TYPE_CHECKING:
    from leftbehind.context import RunContext

UNITS = ("lsoa21", "wards24", "msoa21", "wd17")
COMPONENTS = ("imd", "cni", "civic_assets", "connectedness", "engaged_community")


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Index(_M):
    method: Literal["mean_rank", "sum_z", "both_top", "weighted"] = "mean_rank"
    top: float = Field(0.10, gt=0, lt=1)
    weights: dict[str, float] = {}

    @model_validator(mode="after")
    def _weights(self):
        if self.method == "weighted":
            bad = sorted(set(self.weights) - set(COMPONENTS))
            if bad or not self.weights:
                raise ValueError(f"weighted index needs weights over {', '.join(COMPONENTS)} (got {bad or 'none'})")
        return self


class Band(_M):
    min: float | None = Field(None, ge=0)
    max: float | None = Field(None, gt=0)


class Caps(_M):
    per_lad: int | None = Field(None, ge=1)
    #: at most ceil(the local authority's residents / per_lad_residents) areas in it
    per_lad_residents: float | None = Field(None, gt=0)
    per_region: int | None = Field(None, ge=1)


class Exclusion(_M):
    designation: str  # a catalogue dataset id (e.g. pride_in_place_phase2) or a CSV file
    label: str | None = None


class Tier(_M):
    max_population: float
    amount: float = Field(ge=0)


class Money(_M):
    mode: Literal["per_area", "per_resident", "tiered"] = "per_area"
    amount: float | None = Field(None, ge=0)
    tiers: list[Tier] = []

    @model_validator(mode="after")
    def _complete(self):
        if self.mode in ("per_area", "per_resident") and self.amount is None:
            raise ValueError(f"money mode {self.mode} needs an amount")
        if self.mode == "tiered" and not self.tiers:
            raise ValueError("money mode tiered needs tiers")
        return self


class Rule(_M):
    name: str
    description: str = ""
    unit: Literal["lsoa21", "wards24", "msoa21", "wd17", "custom"]
    areas: str | None = None  # unit custom: a GeoJSON of polygons or a CSV of area_id, lsoa21_code
    imd: Literal["iod2025", "imd2019"] = "iod2025"
    index: Index = Index()
    population: Band = Band()
    caps: Caps = Caps()
    exclude: list[Exclusion] = []
    count: int | None = Field(None, ge=1)
    money: Money = Money(mode="per_area", amount=1_000_000)
    checks: list[str] = []

    @model_validator(mode="after")
    def _count(self):
        if self.index.method != "both_top" and self.count is None:
            raise ValueError(f"index {self.index.method} ranks every area: give count (the number to select)")
        if self.unit == "custom" and not self.areas:
            raise ValueError("unit custom needs areas: a GeoJSON of polygons or a CSV of area_id, lsoa21_code")
        if self.unit == "wd17" and self.imd != "imd2019":
            raise ValueError("wd17 (the 2020 wards) pairs CNI 2019 with IMD 2019: set imd: imd2019")
        return self


def presets() -> list[str]:
    root = resources.files("leftbehind.analysis.targeting").joinpath("presets")
    return sorted(p.name.removesuffix(".yaml") for p in root.iterdir() if p.name.endswith(".yaml"))


def load_rule(name_or_path: str) -> Rule:
    """A preset by name, or a YAML rule file; a bad rule is one SpecError naming the field."""
    if name_or_path in presets():
        text = resources.files("leftbehind.analysis.targeting").joinpath("presets", f"{name_or_path}.yaml").read_text()
        where = f"preset {name_or_path}"
    else:
        p = Path(name_or_path)
        if not p.is_file():
            raise UsageError(
                f"rule {name_or_path!r} is neither a preset nor a file",
                hint=f"use a preset ({', '.join(presets())}) or a YAML rule file",
            )
        text, where = p.read_text(encoding="utf-8"), str(p)
    try:
        raw = yaml.safe_load(text)
        return Rule.model_validate(raw)
    except yaml.YAMLError as exc:
        raise SpecError(f"rule {where} is not valid YAML: {exc}", hint="fix the YAML syntax") from None
    except ValidationError as exc:
        e = exc.errors()[0]
        raise SpecError(
            f"rule {where}: {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg'].removeprefix('Value error, ')}",
            hint="see the presets in src/leftbehind/analysis/targeting/presets/ for every field",
        ) from None


# ---------------------------------------------------------------- the units' tables


def unit_table(rule: Rule, ctx: RunContext, threshold: float = 0.10, edition_id: str | None = None) -> pd.DataFrame:
    """The candidate areas of the rule's unit: codes, names, LAD, region, population, IMD and CNI
    scores and national ranks, CNI domain ranks (memoised in the run context). ``edition_id``: the
    run's edition (a folder's), whose research or current edition has the unit; default the run's
    default edition."""
    key = ("target_units", rule.unit, rule.imd, threshold, rule.areas, edition_id)
    return ctx.memo(key, lambda: _unit_table(rule, ctx, threshold, edition_id)).copy()


def _unit_table(rule: Rule, ctx: RunContext, threshold: float, edition_id: str | None) -> pd.DataFrame:
    """The rule's unit from the one builder of classified areas (:mod:`leftbehind.analysis.areas`)."""
    from leftbehind.analysis.areas import areas_frame, research_wards
    from leftbehind.editions import current_for, research_of
    from leftbehind.geography.units import same
    from leftbehind.options import BY_NAME, make_run_options

    opts = make_run_options(threshold=threshold, skip_indices=True, ensemble=0)
    research = research_of(edition_id or str(BY_NAME["edition"].default))
    if same(rule.unit, research.unit.id):
        w, _ = research_wards(ctx, opts, research.id)
        return w.rename(columns={"ward_code": "area_code", "ward_name": "area_name"})
    imd = "imd2019" if rule.imd == "imd2019" else None
    return areas_frame(ctx, current_for(edition_id).id, rule.unit, opts, imd=imd, custom_areas=rule.areas)


# ---------------------------------------------------------------- selection


def scores(rule: Rule, t: pd.DataFrame) -> np.ndarray:
    """The index: higher = more need."""
    m = rule.index.method
    if m == "mean_rank":
        return -(t["imd_rank"].to_numpy(dtype="float64") + t["cni_rank"].to_numpy(dtype="float64")) / 2.0
    if m == "both_top":
        return -np.maximum(t["imd_rank"].to_numpy(dtype="float64"), t["cni_rank"].to_numpy(dtype="float64"))

    def z(x):
        x = np.asarray(x, dtype="float64")
        return (x - np.nanmean(x)) / np.nanstd(x)

    comp = {"imd": z(t["imd_score"]), "cni": z(t["cni_score"])}
    for d in ("civic_assets", "connectedness", "engaged_community"):
        comp[d] = z(-t[f"{d}_rank"].to_numpy(dtype="float64"))  # rank 1 = highest need
    if m == "sum_z":
        return comp["imd"] + comp["cni"]
    return sum(w * comp[k] for k, w in rule.index.weights.items())


def excluded_codes(rule: Rule, t: pd.DataFrame, ctx: RunContext) -> dict[str, str]:
    """area code -> the label of the exclusion list that removes it."""
    from leftbehind.analysis.designations import match

    out: dict[str, str] = {}
    for ex in rule.exclude:
        d = pd.read_csv(ex.designation) if Path(ex.designation).is_file() else ctx.load(ex.designation)
        m = match(d, t, rule.unit, ex.designation)
        label = ex.label or ex.designation
        for code in m["area_code"].dropna():
            out.setdefault(code, label)
    return out


def select(rule: Rule, t: pd.DataFrame, ctx: RunContext | None = None, count: int | None = None) -> pd.DataFrame:
    """One row per candidate: ``SELECTION_COLUMNS`` (selected, amount_gbp, reason).

    The table's ``attrs`` carry what :func:`summary` reports beyond the columns: ``requested`` (the
    count asked for), ``notes`` (e.g. that fewer areas than requested could be selected, and why) and,
    for MSOAs, ``area_name_hcl`` (area code -> House of Commons Library name)."""
    asked = f"--count {count:,}" if count else f"count {rule.count:,} (rule {rule.name})" if rule.count else ""
    count = count or rule.count
    t = t.reset_index(drop=True)
    s = scores(rule, t)
    order = np.lexsort((t["area_code"].to_numpy(), -s))  # best first, ties by code
    rank = np.empty(len(t), dtype=np.int64)
    rank[order] = np.arange(1, len(t) + 1)
    reason = np.full(len(t), "", dtype=object)
    pop = t["population"].to_numpy(dtype="float64")
    eligible = np.ones(len(t), dtype=bool)
    lo, hi = rule.population.min, rule.population.max
    if lo is not None or hi is not None:
        band = (pop >= (lo or 0)) & (pop <= (hi or np.inf))
        text = f"outside the {lo or 0:,.0f}-{hi or np.inf:,.0f} residents band"
        reason[~band] = text
        eligible &= band
    if rule.exclude and ctx is not None:
        ex = excluded_codes(rule, t, ctx)
        hit = t["area_code"].map(ex)
        m = hit.notna().to_numpy() & eligible
        reason[m] = "excluded: " + hit[m].astype(str)
        eligible &= ~m
    if rule.index.method == "both_top":
        n = len(t)
        k = int(np.floor(rule.index.top * n + 1e-9))
        if n and k < 1:
            from leftbehind.options import smallest_threshold

            raise SpecError(
                f"rule {rule.name}: index.top {rule.index.top:g} selects no area: floor({rule.index.top:g} x {n:,}) "
                f"is 0 for the {n:,} {rule.unit} candidates",
                hint=f"set index.top to {smallest_threshold(n):g} or more (the smallest that selects one area)",
            )
        top = (t["imd_rank"].to_numpy(dtype="float64") <= k) & (t["cni_rank"].to_numpy(dtype="float64") <= k)
        reason[eligible & ~top] = f"not in the top {rule.index.top:.0%} of both indices (rank <= {k})"
        eligible &= top
    cand = pd.DataFrame({"i": np.arange(len(t)), "rank": rank, "lad": t["lad_code"], "region": t["region_name"]})
    cand = cand[eligible].sort_values("rank")
    if rule.caps.per_lad or rule.caps.per_lad_residents:
        cap = np.full(len(t), np.inf)
        if rule.caps.per_lad:
            cap = np.minimum(cap, rule.caps.per_lad)
        if rule.caps.per_lad_residents:
            lad_pop = t.groupby("lad_code")["population"].transform("sum").to_numpy(dtype="float64")
            cap = np.minimum(cap, np.ceil(lad_pop / rule.caps.per_lad_residents))
        n_in = cand.groupby("lad").cumcount() + 1
        limit = cap[cand["i"].to_numpy()]
        over = (n_in > limit).to_numpy()
        for i, nth, lim in zip(cand.loc[over, "i"], n_in[over], limit[over], strict=True):
            reason[i] = f"capped: {_ordinal(nth)} in {t.at[i, 'lad_name']} (cap {int(lim)} for this local authority)"
        cand = cand[~over]
    if rule.caps.per_region:
        n_in = cand.groupby("region").cumcount() + 1
        over = n_in > rule.caps.per_region
        for i, nth in zip(cand.loc[over, "i"], n_in[over], strict=True):
            reason[i] = f"capped: {_ordinal(nth)} in {t.at[i, 'region_name']} (cap {rule.caps.per_region} per region)"
        cand = cand[~over]
    chosen = cand["i"].to_numpy() if count is None else cand["i"].to_numpy()[:count]
    selected = np.zeros(len(t), dtype=bool)
    selected[chosen] = True
    position = np.zeros(len(t), dtype=np.int64)
    position[chosen] = np.arange(1, len(chosen) + 1)
    for i in cand["i"].to_numpy()[len(chosen) :]:
        reason[i] = f"not reached: next in line after the {len(chosen)} selected"
    for i in chosen:
        reason[i] = f"selected: {_ordinal(position[i])} in line"
    notes = []
    if count is not None and len(chosen) < count:
        notes.append(_short_note(rule, t, reason, asked, count, len(chosen)))
    out = pd.DataFrame(
        {
            "area_code": t["area_code"],
            "area_name": t["area_name"],
            "lad_code": t["lad_code"],
            "lad_name": t["lad_name"],
            "region_name": t["region_name"],
            "population": pop,
            "score": s,
            "rank": rank,
            "selected": selected,
            "amount_gbp": money(rule, pop, selected),
            "reason": reason,
        }
    )
    out = out[SELECTION_COLUMNS].sort_values(["rank"]).reset_index(drop=True)
    out.attrs = {"requested": count, "notes": notes}
    if "area_name_hcl" in t.columns:
        hcl = t["area_name_hcl"]
        ok = hcl.notna().to_numpy() & (hcl.astype(str).str.strip() != "").to_numpy()
        out.attrs["area_name_hcl"] = dict(zip(t.loc[ok, "area_code"], hcl[ok].astype(str), strict=True))
    return out


#: How each reason for leaving a candidate out is counted in the note on a short selection.
_LEFT_OUT = (
    ("outside the ", "outside the population band"),
    ("excluded: ", "excluded"),
    ("not in the top ", "not in the top {top:.0%} of both indices"),
    ("capped: ", "over a local authority or region cap"),
)


def _short_note(rule: Rule, t: pd.DataFrame, reason: np.ndarray, asked: str, count: int, got: int) -> str:
    """Why only ``got`` of the ``count`` areas requested could be selected: what the rule's filters and
    caps leave of the candidates."""
    r = pd.Series(reason, dtype=object).astype(str)
    parts = []
    for prefix, words in _LEFT_OUT:
        n = int(r.str.startswith(prefix).sum())
        if n:
            parts.append(f"{n:,} {words.format(top=rule.index.top)}")
    pool = f"the {len(t):,} {rule.unit} candidates"
    why = (
        f"{pool} leave {got:,} after the rule's filters and caps ({'; '.join(parts)})"
        if parts
        else f"there are only {pool}"
    )
    return (
        f"{asked}: only {got:,} of the {count:,} areas requested could be selected: {why}; "
        f"ask for at most {got:,}, or widen the rule (population band, exclusions, caps, index.top)"
    )


def _ordinal(n: int) -> str:
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def money(rule: Rule, pop: np.ndarray, selected: np.ndarray, budget: float | None = None) -> np.ndarray:
    """Amounts in pounds for the selected areas (0 for the others). With a budget, the amounts are
    scaled to add up to it exactly (to the penny, largest remainders)."""
    m = rule.money
    if m.mode == "per_area":
        raw = np.full(len(pop), float(m.amount))
    elif m.mode == "per_resident":
        raw = pop * float(m.amount)
    else:
        tiers = sorted(m.tiers, key=lambda x: x.max_population)
        edges = np.array([x.max_population for x in tiers])
        amounts = np.array([x.amount for x in tiers])
        idx = np.minimum(np.searchsorted(edges, pop, side="left"), len(tiers) - 1)
        raw = amounts[idx]
    raw = np.where(selected, raw, 0.0)
    if budget is None or raw.sum() == 0:
        return raw
    pence = raw / raw.sum() * round(budget * 100)
    floor = np.floor(pence)
    short = int(round(round(budget * 100) - floor.sum()))
    frac_order = np.argsort(-(pence - floor), kind="stable")
    floor[frac_order[:short]] += 1
    return floor / 100.0


SELECTION_COLUMNS = [
    "area_code",
    "area_name",
    "lad_code",
    "lad_name",
    "region_name",
    "population",
    "score",
    "rank",
    "selected",
    "amount_gbp",
    "reason",
]


def by_area(sel: pd.DataFrame, level: str) -> pd.DataFrame:
    """Selected areas, residents and money by region or local authority."""
    key = ["region_name"] if level == "region" else ["lad_code", "lad_name", "region_name"]
    s = sel[sel["selected"]]
    g = s.groupby(key, as_index=False).agg(
        areas=("area_code", "size"), residents=("population", "sum"), amount_gbp=("amount_gbp", "sum")
    )
    return g.sort_values(key).reset_index(drop=True)


def fit(selection: pd.DataFrame, published_codes: set[str]) -> dict[str, float]:
    """Precision, recall and F1 of the selected codes against a published list."""
    ours = set(selection.loc[selection["selected"], "area_code"])
    tp = len(ours & published_codes)
    p = tp / len(ours) if ours else float("nan")
    r = tp / len(published_codes) if published_codes else float("nan")
    f1 = 2 * tp / (len(ours) + len(published_codes)) if ours or published_codes else float("nan")
    return {
        "selected": len(ours),
        "published": len(published_codes),
        "matched": tp,
        "precision": p,
        "recall": r,
        "f1": f1,
    }


def summary(rule: Rule, sel: pd.DataFrame, margin: int = 5) -> dict:
    s = sel[sel["selected"]]
    line = sel[sel["reason"].str.startswith(("selected", "not reached"))].sort_values("rank")
    inside = line[line["selected"]].tail(margin)
    outside = line[~line["selected"]].head(margin)
    res = float(s["population"].sum())
    total = float(s["amount_gbp"].sum())
    return {
        "rule": rule.name,
        "unit": rule.unit,
        "imd": rule.imd,
        "candidates": len(sel),
        "requested": sel.attrs.get("requested"),
        "areas": len(s),
        "residents": round(res),
        "amount_gbp": round(total, 2),
        "gbp_per_resident": round(total / res, 2) if res else None,
        "just_in": _line_entries(rule, inside, sel.attrs.get("area_name_hcl")),
        "just_out": _line_entries(rule, outside, sel.attrs.get("area_name_hcl")),
        "notes": list(sel.attrs.get("notes", [])),
    }


def _line_entries(rule: Rule, rows: pd.DataFrame, hcl: dict | None) -> list[dict]:
    """The areas either side of the line. For MSOAs ``area_name`` is the House of Commons Library
    name (the names programmes such as Pride in Place use; the ONS name when it has none), and
    ``area_name_ons`` the ONS name."""
    out = rows[["area_code", "area_name", "lad_name", "rank"]].to_dict("records")
    if rule.unit != "msoa21":
        return out
    names = hcl or {}
    return [
        {
            "area_code": r["area_code"],
            "area_name": names.get(r["area_code"], r["area_name"]),
            "area_name_ons": r["area_name"],
            "lad_name": r["lad_name"],
            "rank": r["rank"],
        }
        for r in out
    ]


def compare(a: pd.DataFrame, b: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """Two selections side by side (same unit): overlap, Jaccard, gained and lost, money by region."""
    sa = set(a.loc[a["selected"], "area_code"])
    sb = set(b.loc[b["selected"], "area_code"])
    pop = pd.concat([a, b]).drop_duplicates("area_code").set_index("area_code")["population"]
    both, union = sa & sb, sa | sb
    stats = {
        "selected_a": len(sa),
        "selected_b": len(sb),
        "overlap": len(both),
        "jaccard": len(both) / len(union) if union else float("nan"),
        "gained_by_b": len(sb - sa),
        "lost_by_b": len(sa - sb),
        "residents_gained_by_b": round(float(pop.reindex(list(sb - sa)).sum())),
        "residents_lost_by_b": round(float(pop.reindex(list(sa - sb)).sum())),
    }
    ra = by_area(a, "region").set_index("region_name")["amount_gbp"]
    rb = by_area(b, "region").set_index("region_name")["amount_gbp"]
    money_moved = pd.DataFrame({"amount_gbp_a": ra, "amount_gbp_b": rb}).fillna(0.0)
    money_moved["moved_gbp"] = money_moved["amount_gbp_b"] - money_moved["amount_gbp_a"]
    return stats, money_moved.reset_index().rename(columns={"index": "region_name"})
