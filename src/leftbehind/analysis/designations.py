"""Designations: lists of areas named by a programme (Pride in Place, a council's own list), matched
to a unit, and compared with each other.

Matching (:func:`match`), row by row, never dropping one:

1. by code, when the row carries a code of the unit (``E02…`` for MSOA 2021);
2. by name within the row's local authority, after normalising both sides: case, punctuation,
   "&" and "and", "St." and "St", runs of spaces; a trailing parenthesis ("Weston (Southampton)")
   is dropped when the name does not match with it;
3. otherwise a **near match**: the most similar name in the same local authority, when its
   similarity (difflib ratio of the normalised names) is at least :data:`NEAR` and clearly better
   than the runner-up; listed for review with its score ("Hapurhey" -> "Harpurhey");
4. otherwise **unmatched**, listed with the closest names to help a person decide.

Names are the unit's ONS names and, for MSOAs, the House of Commons Library names.
"""

from __future__ import annotations

import difflib
import re

import numpy as np
import pandas as pd

from leftbehind.errors import DataError

NEAR = 0.85
MARGIN = 0.05
CODE_PATTERNS = {
    "msoa21": r"^E02\d{6}$",
    "wards24": r"^E05\d{6}$",
    "lsoa21": r"^E01\d{6}$",
    "wd17": r"^E05\d{6}$",
    "custom": r"^$",  # custom areas are matched by name
}


def normalise(name) -> str:
    """Lower case, '&' -> 'and', 'St.' -> 'St', punctuation removed, spaces collapsed."""
    s = str(name).lower().strip()
    s = s.replace("&", " and ")
    s = re.sub(r"[^\w\s]", " ", s)  # punctuation to spaces: "St." and "St", "St.Helens" and "St Helens"
    return re.sub(r"\s+", " ", s).strip()


def _candidates(unit: pd.DataFrame) -> pd.DataFrame:
    """(area_code, name, la) rows: every name a unit can be called by, normalised."""
    names = [unit[["area_code", "area_name", "lad_name"]].rename(columns={"area_name": "name"})]
    if "area_name_hcl" in unit.columns:
        names.append(unit[["area_code", "area_name_hcl", "lad_name"]].rename(columns={"area_name_hcl": "name"}))
    c = pd.concat(names, ignore_index=True).dropna(subset=["name"])
    return c.assign(key=c["name"].map(normalise), la=c["lad_name"].map(normalise))


def find_columns(df: pd.DataFrame, unit: str) -> tuple[str | None, str | None, str | None]:
    """(code column, name column, local-authority column) of a designation file, by content and name."""
    pattern = CODE_PATTERNS[unit]
    code = next((c for c in df.columns if df[c].astype(str).str.match(pattern).mean() > 0.9), None)
    lower = {c.lower(): c for c in df.columns}
    la = next(
        (lower[k] for k in lower if k in ("lad24nm", "local_authority_name", "local_authority", "la", "lad_name")), None
    )
    name = next(
        (lower[k] for k in lower if k in ("neighbourhood_name", "name", "area_name", "neighbourhood", "ward_name")),
        None,
    )
    return code, name, la


def match(designation: pd.DataFrame, unit: pd.DataFrame, unit_name: str, label: str = "designation") -> pd.DataFrame:
    """One row per row of ``designation``: ``row, input_name, input_la, area_code, area_name, method,
    score, review``. ``method``: code | name | near | unmatched."""
    code_col, name_col, la_col = find_columns(designation, unit_name)
    if code_col is None and name_col is None:
        raise DataError(
            f"{label}: no column of {unit_name} codes and no name column (columns: {', '.join(designation.columns)})",
            hint="give a column of codes, or neighbourhood_name and local_authority_name columns",
        )
    cand = _candidates(unit)
    by_code = unit.set_index("area_code")["area_name"]
    by_key = cand.drop_duplicates(["la", "key"]).set_index(["la", "key"])["area_code"]
    rows = []
    for i, r in enumerate(designation.to_dict("records")):
        name = r.get(name_col) if name_col else None
        la = r.get(la_col) if la_col else None
        out = {
            "row": i + 2,
            "input_name": name,
            "input_la": la,
            "area_code": None,
            "area_name": None,
            "method": "unmatched",
            "score": np.nan,
            "review": "",
        }
        code = str(r.get(code_col, "")).strip() if code_col else ""
        if code and code in by_code.index:
            out.update(area_code=code, area_name=by_code[code], method="code", score=1.0)
        elif name is not None:
            key, lak = normalise(name), normalise(la) if la is not None else None
            bare = normalise(re.sub(r"\s*\([^)]*\)\s*$", "", str(name)))  # "Weston (Southampton)" -> "weston"
            if lak is not None and (lak, key) not in by_key.index and (lak, bare) in by_key.index:
                key = bare
            if lak is not None and (lak, key) in by_key.index:
                hit = by_key[(lak, key)]
                out.update(area_code=hit, area_name=by_code[hit], method="name", score=1.0)
            else:
                pool = cand[cand["la"] == lak] if lak is not None else cand
                if pool.empty and lak is not None:
                    out["review"] = f"no {unit_name} in a local authority called {la!r}"
                else:
                    scores = np.array([difflib.SequenceMatcher(None, key, k).ratio() for k in pool["key"]])
                    order = np.argsort(-scores, kind="stable")
                    best = scores[order[0]]
                    second = next(
                        (scores[j] for j in order[1:] if pool["area_code"].iloc[j] != pool["area_code"].iloc[order[0]]),
                        0.0,
                    )
                    top = pool.iloc[order[0]]
                    if best >= NEAR and best - second >= MARGIN:
                        out.update(
                            area_code=top["area_code"],
                            area_name=top["name"],
                            method="near",
                            score=float(best),
                            review=f"near match: {name!r} taken as {top['name']!r} (similarity {best:.2f})",
                        )
                    else:
                        close = ", ".join(f"{pool['name'].iloc[j]} ({scores[j]:.2f})" for j in order[:3])
                        out.update(score=float(best), review=f"unmatched; closest: {close}")
        rows.append(out)
    return pd.DataFrame(rows)


def lsoa_sets(unit_to_lsoa: pd.DataFrame, codes) -> set[str]:
    """The LSOAs 2021 of a set of unit codes (``unit_to_lsoa``: area_code, lsoa21cd)."""
    return set(unit_to_lsoa.loc[unit_to_lsoa["area_code"].isin(set(codes)), "lsoa21cd"])


def comparator(designations: dict[str, set[str]], population: pd.Series, units: dict[str, int]) -> pd.DataFrame:
    """Designations side by side on their LSOAs 2021: one row per pair (a designation with itself
    first): its areas, LSOAs and residents, and for the other the residents in both and the Jaccard
    of the two LSOA sets. ``population``: Census 2021 residents by LSOA 2021."""
    rows = []

    def residents(codes) -> float:
        return float(population.reindex(list(codes)).fillna(0).sum())

    for a, sa in designations.items():
        for b, sb in designations.items():
            inter, union = sa & sb, sa | sb
            rows.append(
                {
                    "designation": a,
                    "areas": units.get(a, 0),
                    "lsoas": len(sa),
                    "residents": residents(sa),
                    "compared_with": b,
                    "lsoas_in_both": len(inter),
                    "residents_in_both": residents(inter),
                    "jaccard": len(inter) / len(union) if union else np.nan,
                }
            )
    return pd.DataFrame(rows)
