"""The self-contained HTML report (``report.html``): works offline and by e-mail.

Everything is inlined: CSS, JavaScript (our own, no libraries), the data as JSON and the ward
map as SVG paths. A Content-Security-Policy meta tag forbids any network fetch. Names are
escaped by Jinja2's autoescaping in the markup and inserted with ``textContent`` by the script;
the JSON is made safe for a ``<script>`` element (``<``, ``>``, ``&`` escaped).
"""

from __future__ import annotations

import json
import math
import re
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from leftbehind.analysis.leftbehind import GROUP_LABELS, GROUPS
from leftbehind.analysis.pipeline import WARD_COLUMNS

if TYPE_CHECKING:
    from leftbehind.context import RunContext

COLOURS = {
    "left_behind": "#b2182b",
    "other_deprived": "#ef8a62",
    "rest": "#dcdcdc",
    "no_imd": "#ffffff",
    "england": "#2166ac",
}
#: the ward fields the page's script reads (by name: the order only sets the table's sort keys)
WARD_COLS = [*WARD_COLUMNS, "published", "p_left_behind"]
#: bins of P(left behind) for the certainty map: (upper bound, colour, legend label)
P_BINS = [
    (0.05, "#f0f0f0", "unlikely (P < 0.05)"),
    (0.5, "#fcae91", "edge (0.05 to 0.5)"),
    (0.95, "#fb6a4a", "likely (0.5 to 0.95)"),
    (1.01, "#a50f15", "robust (P >= 0.95)"),
]
#: codes that reach a table cell, in words (anything else snake_case loses its underscores)
WORDS = {
    "left_behind": "Left behind",
    "other_deprived": "Other deprived",
    "rest": "Rest of England",
    "no_imd": "No ward IMD",
    "england": "England",
    "left_behind_minus_other_deprived": "Left behind minus other deprived",
    "all_london": "All London",
    "lbn_share": "share of residents in left-behind wards",
    "cni_score_mean": "mean CNI 2019 score",
    "imd_score_mean": "mean ward IMD score",
    "pearson": "Pearson",
    "spearman": "Spearman",
    "all": "all areas",
}
#: option values in words (the flag column of the options table shows them as typed)
VALUE_WORDS = {
    "pop_mean": "population-weighted mean of LSOA scores",
    "mean": "unweighted mean of small-area scores",
    "avg_rank": "population-weighted average rank",
    "proportion": "share of residents in the most deprived 10% of LSOAs",
    "extent": "extent (IoD summary measure)",
    "local_concentration": "local concentration (IoD summary measure)",
    "oa": "Output Areas 2011 (derived OA→ward 2017 lookup)",
    "best_fit": "LSOAs 2011 (ONS best-fit LSOA→ward 2017 lookup)",
    "census2011": "Census 2011",
    "mid2015": "mid-2015 estimates",
    "mid2019": "mid-2019 estimates",
    "mid2020": "mid-2020 estimates",
}
OPTION_LABELS = {
    "edition": "Edition",
    "imd": "IMD edition of the ward IMD",
    "population": "Population weights of the ward IMD",
    "ward_imd": "Ward IMD measure",
    "threshold": "Top share on both indices",
    "lookup": "Small areas to wards",
    "residents": "Residents reported",
    "replicates": "Bootstrap resamples",
    "month": "Claimant-count month",
    "red_wall": "Red wall: winning parties 2017 and 2019",
    "red_wall_regions": "Red wall: regions",
    "skip_indices": "Skip rebuilding the indices",
    "ensemble": "Replications of the uncertainty ensemble",
    "seed": "Seed",
}
MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
PROFILE_INDICATORS = [
    "income_deprived",
    "employment_deprived",
    "children_income_deprived",
    "older_income_deprived",
    "staying_on_in_education_post_16_indicator",
    "adult_skills_and_english_language_proficiency_indicator",
    "years_of_potential_life_lost_indicator",
    "comparative_illness_and_disability_ratio_indicator",
    "road_distance_to_a_gp_surgery_indicator_km",
    "household_overcrowding_indicator",
    "jobs_at_risk_total",
    "rural_population",
]


def _static(name: str) -> str:
    return resources.files("leftbehind.report").joinpath("static", name).read_text("utf-8")


def words(v) -> str:
    """A code in words: known codes by :data:`WORDS`, other snake_case codes without underscores."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    text = str(v)
    if text in WORDS:
        return WORDS[text]
    if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", text):
        return text.replace("_", " ")
    return text


def value_words(name: str, v) -> str:
    """An option's value in words: lists joined, booleans Yes/No, whole numbers as integers."""
    if isinstance(v, bool):
        return "Yes" if v else "No"
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    if isinstance(v, float) and name == "threshold":
        return f"{v:g} (top {v:.0%})"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int):
        return f"{v:,}" if name != "seed" else str(v)
    if name == "month" and isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}", v):
        return f"{MONTHS[int(v[5:]) - 1]} {v[:4]}"
    if name == "edition":
        from leftbehind.editions import found

        e = found().get(str(v))
        return f"{v} ({e.short})" if e is not None and e.short else str(v)
    return VALUE_WORDS.get(str(v), str(v))


def _flag(name: str, v) -> str:
    """The option as typed on the command line."""
    from leftbehind.options import BY_NAME

    opt = BY_NAME.get(name)
    flag = opt.flag if opt else "--" + name.replace("_", "-")
    if isinstance(v, bool):
        return flag if v else ""
    if isinstance(v, (list, tuple)):
        v = ",".join(str(x) for x in v)
        return f'{flag} "{v}"' if " " in v else f"{flag} {v}"
    return f"{flag} {v}"


def option_rows(options: dict) -> list[dict]:
    return [
        {"label": OPTION_LABELS.get(k, words(k)), "flag": _flag(k, v), "value": value_words(k, v)}
        for k, v in options.items()
    ]


def _run_date(s) -> str:
    """The run's UTC date-time (``RunSummary.run_date``) for people, or a note that it is not recorded."""
    from datetime import UTC, datetime

    raw = getattr(s, "run_date", None)
    if not raw:
        return "date not recorded"
    try:
        d = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return str(raw)
    if d.tzinfo is not None:
        d = d.astimezone(UTC)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}, {d:%H:%M} UTC"


def _clean(v):
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else round(float(v), 4)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if v is pd.NA:
        return None
    return v


class RawJSON(str):
    """Text that is already JSON (from pandas' C encoder), spliced into :func:`safe_json` as is."""


def safe_json(obj) -> str:
    """JSON that cannot close its <script> element (``<``, ``>``, ``&`` escaped everywhere)."""
    raws: list[str] = []

    def default(o):
        if isinstance(o, RawJSON):
            raws.append(str(o))
            return f"@@RAW{len(raws) - 1}@@"
        raise TypeError(type(o).__name__)

    def walk(o):
        if isinstance(o, RawJSON):
            return default(o)
        if isinstance(o, dict):
            return {k: walk(v) for k, v in o.items()}
        if isinstance(o, list):
            return [walk(v) for v in o]
        return o

    text = json.dumps(walk(obj), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for i, raw in enumerate(raws):
        text = text.replace(f'"@@RAW{i}@@"', raw, 1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def html_table(df: pd.DataFrame, columns: list[tuple[str, str, str]], table_id: str) -> Markup:
    """A sortable table: ``columns`` = (column, heading, format) with format '' (text), 'int', 'pct', 'f1', 'f2'."""
    head = "".join(f'<th scope="col" class="{"n" if f else ""}">{escape(h)}</th>' for _, h, f in columns)
    body = []
    for row in df[[c for c, _, _ in columns]].itertuples(index=False):
        cells = []
        for v, (_, _, f) in zip(row, columns, strict=True):
            if f == "":
                cells.append(f"<td>{escape(words(v))}</td>")
                continue
            x = None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else float(v)
            text = (
                "–"
                if x is None
                else {
                    "int": f"{x:,.0f}",
                    "pct": f"{100 * x:.1f}%",
                    "f1": f"{x:,.1f}",
                    "f2": f"{x:,.2f}",
                    "f3": f"{x:,.3f}",
                }[f]
            )
            cells.append(f'<td class="n" data-v="{"" if x is None else x}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return Markup(
        f'<table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead><tbody>'
        + "".join(body)
        + "</tbody></table>"
    )


def build_context(results, paths: pd.DataFrame, viewbox, *, ctx: RunContext) -> dict:
    from leftbehind.editions import research_of

    research = research_of(results.options.edition)
    pairing = research.pairing(results.options.imd)
    t = results.tables
    wards = t["wards"]
    opts = results.options
    s = results.summary
    k = int(s.cut_off.cutoff_rank)
    w = wards.rename(columns={"left_behind_published_2020": "published"})
    cert = t.get("certainty")
    if cert is not None:
        w = w.merge(
            cert[["area_code", "p_left_behind"]].rename(columns={"area_code": "ward_code"}), on="ward_code", how="left"
        )
    else:
        w = w.assign(p_left_behind=np.nan)
    wj = w[WARD_COLS].copy()
    for c in wj.select_dtypes("floating").columns:
        wj[c] = wj[c].round(4)
    records = RawJSON(wj.to_json(orient="values", double_precision=4))
    outcome = t["outcomes"]
    out_rows = [
        {c: _clean(r[c]) for c in ("indicator", "label", "unit", "group", "estimate", "ci_low", "ci_high")}
        for r in outcome.to_dict("records")
    ]
    wi = t["ward_indicators"].set_index("ward_code")
    labels = outcome.drop_duplicates("indicator").set_index("indicator")
    cols = [c for c in PROFILE_INDICATORS if c in wi.columns]
    est = outcome.pivot_table(index="indicator", columns="group", values="estimate", aggfunc="first", dropna=False)
    est = est.reindex(columns=["left_behind", "other_deprived", "england"])
    ind = {
        "cols": [{"key": c, "label": labels.loc[c, "label"], "unit": labels.loc[c, "unit"]} for c in cols],
        "codes": list(wi.index),
        "rows": RawJSON(wi[cols].astype("float64").round(4).to_json(orient="values", double_precision=4)),
        "groups": {c: {g: _clean(est.loc[c, g]) for g in ("left_behind", "other_deprived", "england")} for c in cols},
    }
    lb = wards[wards["group"] == "left_behind"]
    imd_top = wards[wards["imd_top"]]
    cni_top = wards[wards["cni_top"]]
    data = {
        "wardCols": WARD_COLS,
        "wards": records,
        "groups": {g: {"label": GROUP_LABELS.get(g, "England"), "colour": COLOURS[g]} for g in (*GROUPS, "england")},
        "outcomes": out_rows,
        "ind": ind,
        "cutoff": k,
        "cutImd": _clean(imd_top["imd_score"].min()) if opts.ward_imd in ("pop_mean", "mean") else None,
        "cutCni": _clean(cni_top["cni_score"].min()),
        "nWards": len(wards),
        "threshold": opts.threshold,
        "thresholdPct": f"{opts.threshold:.0%}",
        "imdLabel": f"Ward IMD {opts.imd}",
        "pBins": [[hi, colour] for hi, colour, _ in P_BINS],
        "ensembleReps": int(opts.ensemble),
        "rankRanges": _rank_ranges(cert),
        "imdAxis": f"Ward IMD {opts.imd} score ({VALUE_WORDS.get(opts.ward_imd, opts.ward_imd)}; "
        "higher = more deprived)",
    }
    group_paths = paths.merge(wards[["ward_code", "group"]], on="ward_code", how="inner")
    no_shape = wards[~wards["ward_code"].isin(group_paths["ward_code"])]
    d = s.diagnostics
    diag = t.get("diagnostics")
    cards = [
        {
            "value": f"{len(lb):,}",
            "label": "left-behind wards",
            "published": f"{pairing.list.name}: {pairing.list.size}",
        },
        {
            "value": f"{lb['population'].sum() / 1e6:.2f} m",
            "label": f"residents ({VALUE_WORDS.get(opts.residents, opts.residents)})",
            "published": _published_display(research.published_value(opts.imd, "lbn_residents")),
        },
        {
            "value": f"{int((wards['group'] == 'other_deprived').sum()):,}",
            "label": "other deprived wards",
            "published": "",
        },
    ]
    if d:
        cards.append(
            {
                "value": f"{d.matched} of {d.published}",
                "label": "published wards found",
                "published": f"{d.extra} extra, {d.missed} missed; F1 {d.f1:.3f}",
            }
        )
    for r in s.published_checks:
        if r.check.startswith("left-behind wards, North") and "(" not in r.check:
            cards.append({"value": f"{r.ours:,.0f}", "label": r.check, "published": f"published {r.published:,.0f}"})
    for r in outcome[outcome["published"].notna() & (outcome["group"] != "england")].itertuples():
        cards.append(
            {
                "value": f"{r.estimate:.1f}%",
                "label": f"{r.label} — {GROUP_LABELS[r.group]}",
                "published": f"published {r.published:.1f}%",
            }
        )
    region = t["breakdown_region"].copy()
    lad = t["breakdown_lad"].copy()
    bcols = [
        ("area_name", "Area", ""),
        ("area_code", "Code", ""),
        ("wards_left_behind", "Left-behind wards", "int"),
        ("population_left_behind", "Residents in left-behind wards", "int"),
        ("wards_other_deprived", "Other deprived wards", "int"),
        ("wards_total", "All wards", "int"),
        ("population_total", "Residents", "int"),
        ("share_population_left_behind", "Share of residents in left-behind wards", "pct"),
    ]
    dcols = [
        ("ward_name", "Ward", ""),
        ("lad_name", "Local authority", ""),
        ("status", "Status", ""),
        ("cni_rank", "CNI rank", "int"),
        ("imd_rank", "Ward IMD rank", "int"),
        ("cni_margin", "CNI margin", "int"),
        ("imd_margin", "IMD margin", "int"),
        ("reason", "Reason", ""),
    ]
    inputs = [
        {"dataset": i.dataset, "edition": i.edition, "sha": i.sha256[:16] + "…", "licence": i.licence} for i in s.inputs
    ]
    method = [
        "Community Needs Index 2019 (OCSI for Local Trust): 7,433 December 2017 wards; score = sum of the "
        "exponentially transformed ranks of Civic Assets, Connectedness and Active and Engaged Community.",
        f"Ward IMD {opts.imd}: LSOA IMD scores taken to wards through "
        f"{VALUE_WORDS.get(opts.lookup, opts.lookup)} with {VALUE_WORDS.get(opts.population, opts.population)} "
        f"population weights, as the {VALUE_WORDS.get(opts.ward_imd, opts.ward_imd)} (docs/ward-imd.md explains "
        "the choice).",
        f"Left behind = top {opts.threshold:.0%} on both: rank ≤ floor({opts.threshold} × 7,433) = {k} on the CNI "
        "and on the ward IMD; other deprived = top on the IMD only.",
        "Outcomes: IoD2019 File 8 indicators and File 6 denominators shared to wards by the same route; pooled rates "
        "with Wilson intervals, means with a ward bootstrap.",
        f"Residents: ONS small-area population ({VALUE_WORDS.get(opts.residents, opts.residents)}) shared to wards "
        "by the same route.",
    ]
    ctx_extra = _economy_politics_context(results, data_extra := {}, ctx=ctx)
    ctx_extra.update(_current_context(results, data_extra, research.pairing("2019").list.size, opts.threshold))
    data.update(data_extra)
    research_name = f"CNI 2019 × IMD {opts.imd}"
    research_counts = f"{len(lb):,} left-behind wards, {lb['population'].sum() / 1e6:.2f} million residents"
    research_line = f"{research_name} at December 2017 wards: {research_counts}"
    cur = s.current if ctx_extra.get("has_current") else None
    if cur is not None:
        n_lsoas = sum(gc.lsoas for gc in cur.groups.values())
        cur_name = cur.edition.replace(" x ", " × ")
        lb_now = cur.groups["left_behind"]
        subtitle = (
            f"The current picture, {cur_name}: {lb_now.lsoas:,} left-behind LSOAs, "
            f"{lb_now.population / 1e6:.2f} million residents. Below it, the 2020 analysis: {research_line}."
        )
        edition_facts = [
            ("Edition", f"2025: {cur_name}, with the 2020 analysis ({research_name})"),
            (
                "Unit",
                f"LSOAs 2021 ({n_lsoas:,}) for the current picture; December 2017 wards ({len(wards):,}) "
                "for the 2020 analysis",
            ),
        ]
    else:
        subtitle = f"Community Needs Index 2019 × Index of Multiple Deprivation {opts.imd}: {research_counts}"
        edition_facts = [
            ("Edition", f"2020: {research_name} (the published analysis)"),
            ("Unit", f"December 2017 wards ({len(wards):,})"),
        ]
    edition_facts += [("Run", _run_date(s)), ("Package", f"leftbehind {s.leftbehind_version}")]
    return {
        **ctx_extra,
        "title": "England's left-behind neighbourhoods",
        "subtitle": subtitle,
        "edition_facts": edition_facts,
        "research_name": research_name,
        "css": _static("report.css"),
        "js": _static("report.js"),
        "data_json": safe_json(data),
        "cards": cards,
        "headline_note": Markup(
            "Counts and rates from this run, with the published figure beside each where one exists "
            "(<code>published_checks.csv</code> has every difference)."
        ),
        "paths": [{"d": p.d, "code": p.ward_code, "group": p.group} for p in group_paths.itertuples()],
        "viewbox": " ".join(str(int(v)) for v in viewbox),
        "n_wards_drawn": len(group_paths),
        "n_no_shape": len(no_shape),
        "no_shape_note": _no_shape_note(no_shape),
        "map_legend": [
            {"code": g, "label": GROUP_LABELS[g], "colour": COLOURS[g], "wards": f"{int(n):,}"}
            for g in GROUPS
            if (n := (group_paths["group"] == g).sum())
        ],
        "groups": [
            {
                "code": g,
                "label": GROUP_LABELS[g],
                "colour": COLOURS[g],
                "wards": f"{int((wards['group'] == g).sum()):,}",
            }
            for g in GROUPS
        ],
        "outcome_groups": [
            {"label": GROUP_LABELS.get(g, "England"), "colour": COLOURS[g]}
            for g in ("left_behind", "other_deprived", "england")
        ],
        "threshold_pct": f"{opts.threshold:.0%}",
        "k": {c: i for i, c in enumerate(WARD_COLS)},
        "cutoff": k,
        "region_table": html_table(region, bcols, "region-table"),
        "lad_table": html_table(lad, bcols, "lad-table"),
        "diag_table": html_table(diag[diag["status"] != "matched"], dcols, "diag-table")
        if diag is not None
        else Markup("<p>No published list to compare with for this edition.</p>"),
        "diag_note": (
            f"Against the {pairing.list.name}: matched {d.matched}, missed {d.missed}, extra "
            f"{d.extra} (precision {d.precision:.3f}, recall {d.recall:.3f}, F1 {d.f1:.3f}). "
            "Margins are cut-off minus rank (negative = outside)."
        )
        if d
        else "",
        "method": method,
        "options": option_rows(s.options),
        "inputs": inputs,
        "citations": s.citations,
        "output_files": _output_files(results),
        **_certainty_context(results),
        **_sections_context(results),
        **_targeting_context(results, ctx=ctx),
        **_history_context(results),
        **_spatial_context(results),
        "version": s.leftbehind_version,
        "footer": "Community Needs Index © OCSI for Local Trust, not open data. Contains public sector information "
        "licensed under the Open Government Licence v3.0; contains OS data © Crown copyright and database right.",
    }


NOT_DRAWN_GROUP = {
    "left_behind": "left behind",
    "other_deprived": "other deprived",
    "rest": "in the rest of England",
    "no_imd": "with no ward IMD",
}


def _no_shape_note(no_shape: pd.DataFrame) -> str:
    """Which wards the map cannot draw, and why (said once, above the map; the legend counts drawn wards)."""
    if not len(no_shape):
        return "Every CNI ward is drawn."
    parts = []
    for g, rows in no_shape.groupby("group", sort=False):
        names = ", ".join(f"{n} ({lad})" for n, lad in zip(rows["ward_name"], rows["lad_name"], strict=True))
        parts.append(f"{NOT_DRAWN_GROUP.get(g, words(g))}: {names}")
    why = (
        f"{len(no_shape)} CNI wards are not drawn: no LSOA 2011 is best-fit to them, so dissolving LSOAs gives them "
        "no shape (" + "; ".join(parts) + ")."
    )
    if (no_shape["group"] == "no_imd").any():
        why += (
            " The wards with no ward IMD also hold no 2011 Output Area by the derived OA→ward lookup, so they have "
            "no IMD score and no residents; they are in the ward table but in no group's count on the map."
        )
    return why


LAYER = {
    "lb2020_still": ("#67001f", "2020 left-behind ward, still holds a current left-behind area"),
    "lb2020_no_longer": ("#f4a582", "2020 left-behind ward, no longer"),
    "new_lb_area": ("#5e3c99", "holds a new left-behind area (2025)"),
    "other": ("#dcdcdc", "other wards"),
}


def _current_context(results, page: dict, published_2020: int, threshold: float = 0.1) -> dict:
    t = results.tables
    cur = results.summary.current
    if not cur or "lsoa21" not in t:
        return {"has_current": False}
    layer = t.get("ward_layer_2025")
    counts = layer["layer_2025"].value_counts() if layer is not None else {}
    if layer is not None:
        page["layer2025"] = dict(zip(layer["ward_code"], layer["layer_2025"], strict=True))
    g, tr = cur.groups, cur.transitions
    n = "lsoas"
    bcols = [
        ("area_name", "Area", ""),
        (f"{n}_left_behind", "Left-behind LSOAs", "int"),
        ("population_left_behind", "Residents in left-behind LSOAs", "int"),
        (f"{n}_other_deprived", "Other deprived LSOAs", "int"),
        (f"{n}_total", "All LSOAs", "int"),
        ("population_total", "Residents (Census 2021)", "int"),
        ("share_population_left_behind", "Share of residents in left-behind LSOAs", "pct"),
    ]
    tcols = [
        ("area_name", "Region", ""),
        ("lsoas_left_behind_2025", "Left-behind LSOAs 2025", "int"),
        ("lsoas_persistent", "Persistent (in a 2020 ward)", "int"),
        ("lsoas_new", "New", "int"),
        ("wards_left_behind_2020", "2020 wards", "int"),
        ("wards_2020_still", "Still", "int"),
        ("wards_2020_no_longer", "No longer", "int"),
    ]
    ocols = [
        ("label", "Indicator", ""),
        ("unit", "Unit", ""),
        ("group", "Group", ""),
        ("estimate", "Estimate", "f2"),
        ("ci_low", "95% CI low", "f2"),
        ("ci_high", "95% CI high", "f2"),
    ]
    return {
        "has_current": True,
        "current_edition": cur.edition.replace(" x ", " × "),
        "current_text": f"{cur.rule}. Population: {cur.population_base}. Change since 2020: "
        f"{tr.rule if tr else ''}. IoD scores are not a time series: compare groups, not scores.",
        "current_cards": [
            {"value": f"{g['left_behind'].lsoas:,}", "label": "left-behind LSOAs 2021 (CNI 2023 × IMD 2025)"},
            {"value": f"{g['left_behind'].population / 1e6:.2f} m", "label": "residents (Census 2021)"},
            {
                "value": f"rank ≤ {cur.cutoff_rank:,}",
                "label": f"cut-off on both indices: the top {threshold:.0%} of "
                f"{sum(x.lsoas for x in g.values()):,} LSOAs 2021",
            },
            {
                "value": f"{tr.current_lb_lsoas_persistent if tr else 0:,}",
                "label": "persistent: in a 2020 left-behind ward",
            },
            {"value": f"{tr.current_lb_lsoas_new if tr else 0:,}", "label": "new since 2020"},
            {
                "value": f"{tr.wards_2020_still if tr else 0} of {published_2020}",
                "label": "2020 wards still holding one",
            },
        ],
        "transitions_region_table": html_table(t["transitions_region"], tcols, "transitions-table"),
        "current_region_table": html_table(t["current_region"], bcols, "current-region-table"),
        "current_lad_table": html_table(
            t["current_lad"].sort_values("lsoas_left_behind", ascending=False), bcols, "current-lad-table"
        ),
        "current_outcome_table": html_table(t["current_outcomes"], ocols, "current-outcome-table"),
        "layer_legend": [
            {"colour": c, "label": lab, "n": f"{int(counts.get(k, 0)):,}"} for k, (c, lab) in LAYER.items()
        ],
    }


HEX_BINS = [
    (0.0, "#f2f2f2", "none"),
    (0.10, "#fcbba1", "under 10%"),
    (0.25, "#fb6a4a", "10% to 25%"),
    (1.01, "#a50f15", "25% or more"),
]


def _hex_map(ctx: RunContext):
    """:func:`leftbehind.report.geometry.hex_map`, cached on disk across runs (keyed by the sha256 of
    the shapefile's four parts and the geometry module's code): reading the shapefile takes about a
    tenth of a second and imports GDAL, in every run otherwise."""
    from leftbehind.data.sources import cached_frame
    from leftbehind.report.geometry import code_digest, hex_map

    def make() -> pd.DataFrame:
        hexes, vb = hex_map(ctx)
        out = hexes.copy()
        out.attrs = {"viewbox": [int(v) for v in vb]}
        return out

    parts = ("hexmap_west_shp", "hexmap_west_shx", "hexmap_west_dbf", "hexmap_west_prj")
    t = cached_frame(ctx, "hex_map", code_digest(), make, datasets=parts)
    return t, tuple(t.attrs.pop("viewbox"))


def _economy_politics_context(results, page: dict, *, ctx: RunContext) -> dict:
    t = results.tables
    s = results.summary
    out: dict = {}
    pol = s.politics
    pcon = t.get("constituencies")
    if pcon is not None:
        page["pcon"] = [
            [r.pcon_name, _clean(r.lbn_share), _clean(r.leave_share_est), bool(r.red_wall)] for r in pcon.itertuples()
        ]
        hexes, vb = _hex_map(ctx)
        by = pcon.set_index("pcon_code")
        items = []
        for h in hexes.itertuples():
            if h.pcon_code in by.index:
                share = float(by.loc[h.pcon_code, "lbn_share"])
                fill = next(c for lim, c, _ in HEX_BINS if share <= lim or lim >= 1) if share > 0 else HEX_BINS[0][1]
                title = f"{by.loc[h.pcon_code, 'pcon_name']}: {share:.0%} of residents in left-behind wards"
            else:
                fill, title = "#d9d9d9", "outside England"
            items.append({"d": h.d, "fill": fill, "code": h.pcon_code, "title": title})
        out.update(
            hexes=items,
            hex_viewbox=" ".join(map(str, vb)),
            hex_legend=[{"fill": c, "label": lab} for _, c, lab in HEX_BINS]
            + [{"fill": "#d9d9d9", "label": "outside England"}],
        )
        out["red_wall_text"] = (
            f"Red wall: seats {pol.red_wall_rule} — {pol.red_wall_seats_uk} in the UK, "
            f"{pol.red_wall_seats_england} in England. They hold {pol.lbn_wards_in_red_wall_seats} "
            f"left-behind wards ({pol.lbn_residents_in_red_wall_seats:,} residents); the other English seats "
            f"hold {pol.lbn_wards_in_other_seats} ({pol.lbn_residents_in_other_seats:,})."
        )
    corr = t.get("politics_correlations")
    out["correlation_table"] = (
        html_table(
            corr,
            [
                ("level", "Level", ""),
                ("x", "Against", ""),
                ("method", "Method", ""),
                ("r", "r", "f2"),
                ("ci_low", "95% CI low", "f2"),
                ("ci_high", "95% CI high", "f2"),
                ("n", "n", "int"),
            ],
            "corr-table",
        )
        if corr is not None
        else Markup("")
    )
    pooled = [
        ("measure", "Measure", ""),
        ("group", "Group", ""),
        ("estimate", "%", "f2"),
        ("ci_low", "95% CI low", "f2"),
        ("ci_high", "95% CI high", "f2"),
        ("published", "Published", "f2"),
        ("denominator", "Residents 16-64", "int"),
    ]
    claim = t.get("economy_claimants")
    out["claimant_table"] = html_table(claim, pooled, "claimant-table") if claim is not None else None
    cc = s.economy.claimant_count
    out["claimant_note"] = (
        f"The claimant count for {cc.month} is not available offline ({cc.message}). "
        f"Fetch it once with `{cc.how_to_fetch}` and run again. The 2020 research reported "
        + _published_claimants(results.options.edition)
        if not cc.available
        else ""
    )
    lon = t.get("economy_claimants_london")
    out["claimant_london_table"] = html_table(lon, pooled, "claimant-london-table") if lon is not None else Markup("")
    fur = t.get("economy_furlough")
    out["furlough_table"] = (
        html_table(
            fur,
            [
                ("level", "Level", ""),
                ("band", "Residents in left-behind wards", ""),
                ("areas", "Areas", "int"),
                ("furloughed", "Furloughed", "int"),
                ("eligible", "Eligible", "int"),
                ("take_up_pct", "Take-up %", "f1"),
                ("ci_low", "95% CI low", "f2"),
                ("ci_high", "95% CI high", "f2"),
                ("source", "Source", ""),
            ],
            "furlough-table",
        )
        if fur is not None
        else Markup("")
    )
    return out


def _rank_ranges(cert) -> dict | None:
    if cert is None:
        return None
    c = cert.set_index("area_code")[["cni_rank_q05", "cni_rank_q95", "imd_rank_q05", "imd_rank_q95"]]
    return {"codes": list(c.index), "rows": RawJSON(c.to_json(orient="values", double_precision=0))}


def _stale_reason(results, rec: dict) -> str:
    for s in results.section_list:
        if s.path == rec.get("path") and s.stale:
            return s.reason
    return ""


VERDICT_CLASS = {
    "reproduced": "v-ok",
    "supported": "v-ok",
    "not supported": "v-no",
    "not reproducible here": "v-na",
}


def _certainty_context(results) -> dict:
    """The 'how sure' section: bands, the sensitivity chart (after `leftbehind robustness`), the ledger."""
    t = results.tables
    cert = t.get("certainty")
    out: dict = {"has_certainty": cert is not None, "p_legend": [{"colour": c, "label": lab} for _, c, lab in P_BINS]}
    if cert is not None:
        bands = cert["band"].value_counts()
        nominal = cert["nominal_group"] == "left_behind"
        out["certainty_title"] = (
            f"Wards 2017, 2020 edition (CNI 2019 x IMD {results.options.imd}): this run's "
            f"{results.options.ensemble:,}-replication ensemble"
        )
        out["certainty_cards"] = [
            {"value": f"{int(bands.get(b, 0)):,}", "label": f"wards {b}"} for b in ("robust", "likely", "edge")
        ] + [
            {
                "value": f"{int((cert.loc[nominal, 'band'] == 'robust').sum()):,} of {int(nominal.sum()):,}",
                "label": "of our left-behind wards are robust (P >= 0.95)",
            }
        ]
        out["certainty_note"] = (
            f"P(left behind) is the share of {results.options.ensemble:,} replications of the uncertainty ensemble "
            "(spec analysis/robustness/default.yaml: ward-IMD construction, both cut-offs between 9% and 11%, CNI and "
            "IMD domain weights, noise in the domain ranks) in which a ward is left behind; "
            + Markup("<code>leftbehind robustness</code> runs 10,000 with the sensitivity analysis.")
        )
    rob = results.sections.get("robustness")
    if rob is not None:
        rec = rob.get("section") or {}
        b, ls = rob.get("bands", {}), rob.get("list_size", {})
        unit = rob.get("unit_title") or rob.get("unit") or ""
        out["robustness_label"] = f"edition {rec.get('edition', results.options.edition)}, {unit}".rstrip(", ")
        out["robustness_title"] = (
            f"leftbehind robustness: {out['robustness_label']}, {int(rob.get('replications', 0)):,} replications"
        )
        out["robustness_cards"] = [
            {"value": f"{int(b.get(k, 0)):,}", "label": f"{rob.get('unit', 'areas')} {k} (P(left behind) {lab})"}
            for k, lab in (("robust", ">= 0.95"), ("likely", "0.5 to 0.95"), ("edge", "0.05 to 0.5"))
        ]
        if ls:
            out["robustness_cards"].append(
                {
                    "value": f"{int(ls.get('nominal', 0)):,}",
                    "label": f"nominal list; ensemble 90% range {ls.get('q05', 0):,.0f} to {ls.get('q95', 0):,.0f}",
                }
            )
        out["robustness_note"] = (
            f"From robustness/{rec.get('key', results.options.edition)}/ (made {rec.get('made', '')}, seed "
            f"{rob.get('seed', '')}). " + ("Stale: " + s_reason if (s_reason := _stale_reason(results, rec)) else "")
        )
    sens = t.get("robustness_sensitivity")
    if sens is not None:
        s = sens[(sens["method"] == "sobol") & (sens["output"] == "jaccard")].sort_values("ST", ascending=False)
        bars = []
        for i, r in enumerate(s.itertuples()):
            st_, s1 = max(float(r.ST), 0.0), max(float(r.S1), 0.0)
            bars.append(
                {
                    "y": 22 * i + 4,
                    "label": r.source.replace("_", " "),
                    "w_st": round(300 * min(st_, 1.0), 1),
                    "w_s1": round(300 * min(s1, 1.0), 1),
                    "text": f"total {st_:.2f}, first-order {s1:.2f}",
                }
            )
        out["sensitivity_bars"] = bars
        out["sensitivity_height"] = 22 * len(bars) + 8
    claims = t.get("claims")
    if claims is not None:
        rows = []
        for r in claims.to_dict("records"):
            pub, ours = r["published"], r["ours"]
            rows.append(
                {
                    "claim": r["claim"],
                    "source": r["source"],
                    "published": _figure(pub),
                    "ours": _figure(ours),
                    "interval": r["interval"] if isinstance(r["interval"], str) else "",
                    "verdict": r["verdict"],
                    "vclass": VERDICT_CLASS.get(r["verdict"], ""),
                    "note": " ".join(
                        x
                        for x in (r.get("evidence"), r.get("missing_data"), r.get("how_to_fetch"))
                        if isinstance(x, str) and x
                    ),
                }
            )
        out["claims"] = rows
        out["claims_counts"] = claims["verdict"].value_counts().to_dict()
    return out


#: the options that decide which areas are classified, shown for each section
_SHOWN_OPTIONS = ("imd", "population", "ward_imd", "threshold", "lookup", "residents")


def describe_options(options: dict) -> str:
    """The options that decide the areas, as flags (``--threshold 0.1, --imd 2019 ...``), then the
    section's own (seed, permutations, rules ...)."""
    from leftbehind.options import BY_NAME, RUN_OPTIONS

    run_names = {o.name for o in RUN_OPTIONS}
    bits = [f"{BY_NAME[k].flag} {_flat(options[k])}" for k in _SHOWN_OPTIONS if k in options]
    bits += [
        f"--{k.replace('_', '-')} {_flat(v)}" for k, v in options.items() if k not in run_names and v not in (None, "")
    ]
    return ", ".join(bits)


def _flat(v) -> str:
    return ",".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)


def _sections_context(results) -> dict:
    """The folder's later sections (each with its edition, unit, options, date and state) and the run's label."""
    o = results.options
    shown = set(results.section_paths.values())
    rows = []
    for s in results.section_list:
        rows.append(
            {
                "path": s.path,
                "command": s.command,
                "edition": s.edition or "",
                "unit": s.unit or "",
                "options": describe_options(s.options),
                "made": (s.made or "").replace("T", " ").rstrip("Z"),
                "stale": s.stale,
                "reason": s.reason,
                "shown": s.path in shown,
            }
        )
    return {
        "folder_sections": rows,
        "run_label": f"--edition {o.edition}, " + describe_options(o.model_dump(mode="json")),
    }


def _targeting_context(results, *, ctx: RunContext) -> dict:
    """The targeting section (``--edition 2025``): units, the MSOA map, designations, a selection."""
    from leftbehind.analysis.designations import match

    t = results.tables
    if "msoa21" not in t or results.summary.current is None:
        return {"has_targeting": False}
    msoa = t["msoa21"]
    units = results.summary.current.units
    cards = []
    short = {"wards24": "ward 2024", "msoa21": "MSOA 2021"}
    for key, u in units.items():
        cards.append({"value": f"{u.left_behind:,}", "label": f"{u.title}: left behind ({u.areas:,} units)"})
        cards.append(
            {
                "value": f"{u.wards_2020_in_left_behind_units} of {u.wards_2020_published}",
                "label": f"2020 left-behind wards in a {short.get(key, key)} that is left behind today",
            }
        )
    pip = set(match(ctx.load("pride_in_place_phase2"), msoa, "msoa21")["area_code"].dropna())
    sel = t.get("target_selection")
    has_sel = sel is not None and sel["area_code"].astype(str).str.startswith("E02").all()
    chosen = set(sel.loc[sel["selected"].astype(bool), "area_code"]) if has_sel else set()
    from leftbehind.report.geometry import cached_unit_paths

    paths, vb = cached_unit_paths(ctx, "msoa21")
    info = msoa.set_index("area_code")
    items = []
    for p in paths.itertuples():
        if p.area_code not in info.index:
            continue
        r = info.loc[p.area_code]
        cls = f"g-{r['group']}" + (" pip" if p.area_code in pip else "") + (" sel" if p.area_code in chosen else "")
        name = r["area_name_hcl"] if isinstance(r.get("area_name_hcl"), str) else r["area_name"]
        items.append({"d": p.d, "cls": cls, "title": f"{name} ({r['lad_name']}): {words(r['group'])}"})
    ward24 = []
    w24vb = (0, 0, 1, 1)
    if "wards24" in t:
        wp, w24vb = cached_unit_paths(ctx, "wards24")
        wi = t["wards24"].set_index("area_code")
        for p in wp.itertuples():
            if p.area_code in wi.index:
                r = wi.loc[p.area_code]
                ward24.append(
                    {
                        "d": p.d,
                        "cls": f"g-{r['group']}",
                        "title": f"{r['area_name']} ({r['lad_name']}): {words(r['group'])}",
                    }
                )
    d = t.get("designations_comparator")
    dtable = Markup("")
    if d is not None:
        piv = d.pivot_table(index="designation", columns="compared_with", values="jaccard", sort=False)
        piv = piv.reset_index()
        cols = [("designation", "Designation", "")] + [(c, c, "f2") for c in piv.columns[1:]]
        dtable = html_table(piv, cols, "designations-table")
    out = {
        "has_targeting": True,
        "targeting_text": "The current edition rebuilt at wards 2024 and MSOAs 2021: CNI 2023 from population-weighted "
        "domain scores, re-ranked and re-combined; IMD 2025 by the IoD summary measures; the 2020 rule on the units "
        "(current/wards24.csv, current/msoa21.csv). The map shows MSOAs; Pride in Place names are matched to them by "
        + Markup("<code>leftbehind designations match</code>."),
        "unit_cards": cards,
        "msoa_paths": items,
        "msoa_viewbox": " ".join(str(int(v)) for v in vb),
        "designations_table": dtable,
        "has_selection": bool(has_sel),
        "ward24_paths": ward24,
        "ward24_viewbox": " ".join(str(int(v)) for v in w24vb),
    }
    if has_sel:
        s = sel[sel["selected"].astype(bool)]
        out["selection_name"] = "the stored selection (target/selection.csv)"
        total, res = float(s["amount_gbp"].sum()), float(s["population"].sum())
        out["selection_text"] = (
            f"{len(s):,} areas, {res:,.0f} residents, {total:,.0f} pounds "
            f"({total / res if res else 0:,.2f} a resident)."
        )
        reg = s.groupby("region_name", as_index=False).agg(
            areas=("area_code", "size"), residents=("population", "sum"), amount_gbp=("amount_gbp", "sum")
        )
        out["selection_region_table"] = html_table(
            reg,
            [
                ("region_name", "Region", ""),
                ("areas", "Areas", "int"),
                ("residents", "Residents", "int"),
                ("amount_gbp", "Pounds", "int"),
            ],
            "selection-region-table",
        )
        line = sel[sel["reason"].astype(str).str.startswith(("selected", "not reached"))].sort_values("rank")
        margin = pd.concat([line[line["selected"].astype(bool)].tail(5), line[~line["selected"].astype(bool)].head(5)])
        out["selection_margin_table"] = html_table(
            margin,
            [
                ("area_name", "Area", ""),
                ("lad_name", "Local authority", ""),
                ("rank", "Place in line", "int"),
                ("population", "Residents", "int"),
                ("reason", "Why", ""),
            ],
            "selection-margin-table",
        )
    return out


def _history_context(results) -> dict:
    """The 'how long' section (after `leftbehind history`): persistence, the typology and the groups."""
    t = results.tables
    sec = results.sections.get("history")
    if sec is None or "history_typology_clusters" not in t:
        return {"has_history": False}
    s = sec["lsoa11"]
    chain = [
        {"edition": k.split("_")[1].replace("imd", "IMD "), "value": f"{v:.1f}%"}
        for k, v in s.items()
        if k.startswith("share_")
    ]
    cl = t["history_typology_clusters"]
    cl = cl[cl["sequence"] == "2010_2019"]
    typ = sec["typology"]["2010_2019"]
    ent = sec["entrenched_vs_left_behind"]["2010_2019"]
    lines = [
        f"{e['left_behind_entrenched']:,} of the {e['left_behind_lsoas']:,} LSOAs in left-behind areas ({cls}) are in "
        f"the 'entrenched deprivation' cluster; {e['entrenched_not_left_behind']:,} of the {e['entrenched_lsoas']:,} "
        "entrenched LSOAs are not in left-behind areas"
        # a published list names left-behind wards only: it has no other-deprived group to count
        + (f" ({e['entrenched_other_deprived']:,} of them other deprived)." if "published" not in cls else ".")
        for cls, e in ent.items()
    ]
    traj = None
    if "history_wards17" in t and "wards" in t:
        w = t["wards"][["ward_code", "group"]]
        h = t["history_wards17"].merge(w, on="ward_code")
        h = h.assign(d1=h["share_d1"] * h["population"])
        g = h.groupby(["edition", "group"], sort=False)[["d1", "population"]].sum()
        g = (g["d1"] / g["population"]).unstack("group")
        rows = []
        for ed in g.index:
            r = {"edition": ed}
            for grp in ("left_behind", "other_deprived", "rest"):
                r[grp] = 100 * float(g.loc[ed, grp]) if grp in g.columns else np.nan
            rows.append(r)
        traj = html_table(
            pd.DataFrame(rows),
            [
                ("edition", "Edition", ""),
                ("left_behind", "Left-behind wards (2020 rule, %)", "f1"),
                ("other_deprived", "Other deprived wards (%)", "f1"),
                ("rest", "Other wards (%)", "f1"),
            ],
            "history-trajectory-table",
        )
    return {
        "has_history": True,
        "history_text": (
            f"{s['decile1_2010_2015_2019']:,} of England's {s['lsoas']:,} LSOAs 2011 were in the most deprived "
            f"decile of IMD 2010, 2015 and 2019; {s['decile1_all_six']:,} in every edition from 2004 to 2025. "
            "IMD 2004-2010 moved from LSOA 2001 and IMD 2025 from LSOA 2021 "
            "(history/lsoa11.csv; rules in docs/decisions.md)."
        ),
        "history_chain": chain,
        "history_typology_text": (
            f"Sequences of deciles 2010-2015-2019 ({typ['unique_sequences']:,} distinct sequences over "
            f"{typ['lsoas']:,} LSOAs), optimal-matching distances with transition-rate substitution costs, weighted "
            f"k-medoids (Houlden et al. 2024). The silhouette prefers k = {typ['best_k_by_silhouette']} "
            f"({typ['silhouette_best']:.3f}); the six-cluster solution of the study is shown (silhouette "
            f"{typ['silhouette_k6']:.3f}). Cluster names are ours, from each medoid."
        ),
        "history_clusters_table": html_table(
            cl,
            [
                ("typology", "Cluster", ""),
                ("medoid", "Medoid deciles", ""),
                ("lsoas", "LSOAs", "int"),
                ("population", "Residents (mid-2019)", "int"),
            ],
            "history-clusters-table",
        ),
        "history_crosstab_lines": lines,
        "history_trajectory_table": traj,
    }


SPATIAL_STATISTICS = {
    "join_count_left_behind": "Joins between two left-behind areas",
    "join_count_other_deprived": "Joins between two other-deprived areas",
    "join_count_left_behind_among_deprived": "Left-behind joins, labels shuffled among deprived areas",
    "bivariate_join_count_lb_other_deprived": "Joins between a left-behind and an other-deprived area",
    "morans_i_cni_score": "Moran's I of the CNI score",
    "morans_i_imd_score": "Moran's I of the IMD score",
}


def _spatial_global_display(g: pd.DataFrame) -> pd.DataFrame:
    """The global statistics in words: join counts as whole numbers, Moran's I to 3 decimals."""
    moran = g["statistic"].str.startswith("morans_i")

    def fmt(x, m):
        return f"{x:.3f}" if m else (f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}")

    return g.assign(
        statistic=g["statistic"].map(SPATIAL_STATISTICS).fillna(g["statistic"].str.replace("_", " ")),
        value=[fmt(v, m) for v, m in zip(g["value"], moran, strict=True)],
        expected=[f"{v:.4f}" if m else f"{v:,.1f}" for v, m in zip(g["expected"], moran, strict=True)],
    )


def _spatial_context(results) -> dict:
    """The 'where' section (after `leftbehind spatial`): the global statements, the map, the clusters."""
    import base64

    t = results.tables
    sec = results.sections.get("spatial")
    if sec is None or "spatial_global" not in t:
        return {"has_spatial": False}
    png = results.attachments.get("spatial/map.png")
    cl = t.get("spatial_clusters")
    return {
        "has_spatial": True,
        "spatial_unit": sec.get("unit_title", sec.get("unit")),
        "spatial_statements": sec.get("statements", []),
        "spatial_notes": sec.get("notes", []),
        "spatial_weights": sec.get("weights", ""),
        "spatial_map": ("data:image/png;base64," + base64.b64encode(png).decode("ascii")) if png else None,
        "spatial_global_table": html_table(
            _spatial_global_display(t["spatial_global"]),
            [
                ("statistic", "Statistic", ""),
                ("value", "Observed", ""),
                ("expected", "Expected by chance", ""),
                ("z", "z", "f2"),
                ("p", "p", "f3"),
                ("permutations", "Permutations", "int"),
            ],
            "spatial-global-table",
        ),
        "spatial_clusters_table": html_table(
            cl.head(10),
            [
                ("cluster_id", "Cluster", "int"),
                ("areas", "Areas", "int"),
                ("population", "Residents", "int"),
                ("significant_areas", "Significant", "int"),
                ("lads", "Local authorities", ""),
            ],
            "spatial-clusters-table",
        )
        if cl is not None and len(cl)
        else None,
    }


def _figure(x) -> str:
    """A figure in words: whole numbers with separators, others to 3 significant figures."""
    if x is None or pd.isna(x):
        return ""
    x = float(x)
    if abs(x) >= 100 or x.is_integer():
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _output_files(results) -> list[dict]:
    """The run's tables as the output-table registry declares them (path, title, meaning, rows)."""
    from leftbehind.report.registry import registry

    return [
        {"path": t.path, "title": t.title, "description": t.description, "rows": f"{len(results.tables[n]):,}"}
        for n, t in registry().items()
        if n in results.tables and not t.template
    ]


def _published_display(c) -> str:
    if c is None:
        return ""
    return f"published: {c.display}" if c.display else f"published: {c.value:,.0f}"


def _published_claimants(edition_id: str) -> str:
    from leftbehind.editions import research_of
    from leftbehind.options import BY_NAME

    research = research_of(edition_id)
    rates = {r.group: r for r in research.rates(str(BY_NAME["imd"].default), "claimant_count")}
    lb, en = rates["left_behind"], rates["england"]
    return (
        f"{lb.value:.1f}% in left-behind neighbourhoods vs {en.value:.1f}% in England "
        f"({'/'.join(m for m in (lb.months or ()))}; {research.cite(lb.source)})."
    )


def render_report(results, paths: pd.DataFrame, viewbox, *, ctx: RunContext) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("leftbehind.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(),
    )
    return env.get_template("report.html.j2").render(**build_context(results, paths, viewbox, ctx=ctx))


def _bytecode_cache():
    """The compiled template, kept in the cache folder (``<cache>/templates``): compiling it takes
    about 50 ms a run. Jinja keys it by the template's source (an edit compiles it again) and
    writes it atomically; without a writable cache folder the template is compiled each time."""
    import os

    from jinja2 import FileSystemBytecodeCache

    from leftbehind.data.sources import cache_dir

    if os.environ.get("LEFTBEHIND_NO_FRAME_CACHE") == "1":
        return None
    try:
        folder = cache_dir() / "templates"
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder))
