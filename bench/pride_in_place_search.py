"""The search behind the `pride-in-place` preset: which simple rule comes closest to the published
Pride in Place lists? Prints one row per rule (docs/targeting.md reports it).

    python bench/pride_in_place_search.py [--data DIR]

Every rule selects MSOAs 2021 by a composite of IMD and CNI 2023, in order of need, until 146 (Phase
2) are chosen, with a cap per local authority for geographic spread. Varied: the IMD (2019, in force
when Phase 2 was chosen; or 2025), the composite (mean of the two national ranks; sum of the two
z-scores), the cap (none; a fixed number per authority; one per so many residents, rounded up).
Cohort 3 (40, March 2026) is checked with the same rules after removing the Phase 2 areas.
"""

from __future__ import annotations

import argparse
import itertools

import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    from leftbehind.analysis.designations import match
    from leftbehind.analysis.targeting import Rule, fit, select, unit_table
    from leftbehind.context import RunContext

    ctx = RunContext(args.data)
    rows = []
    caps = [{}, {"per_lad": 1}, {"per_lad": 2}, {"per_lad": 3}, {"per_lad": 4}]
    caps += [{"per_lad_residents": r} for r in (150_000, 200_000, 250_000, 300_000, 400_000, 500_000)]
    for imd in ("imd2019", "iod2025"):
        t = unit_table(Rule(name="units", unit="msoa21", imd=imd, count=1), ctx)
        p2 = set(match(ctx.load("pride_in_place_phase2"), t, "msoa21")["area_code"].dropna())
        c3 = set(match(ctx.load("pride_in_place_cohort3"), t, "msoa21")["area_code"].dropna())
        for method, cap in itertools.product(("mean_rank", "sum_z"), caps):
            rule = Rule(name="search", unit="msoa21", imd=imd, index={"method": method}, caps=cap, count=146)
            f2 = fit(select(rule, t), p2)
            rule3 = rule.model_copy(update={"count": 40})
            f3 = fit(select(rule3, t[~t["area_code"].isin(p2)]), c3)
            rows.append(
                {
                    "imd": imd,
                    "composite": method,
                    "cap": ", ".join(f"{k} {v:,}" for k, v in cap.items()) or "none",
                    "phase2_matched": f2["matched"],
                    "phase2_f1": round(f2["f1"], 3),
                    "cohort3_matched": f3["matched"],
                    "cohort3_f1": round(f3["f1"], 3),
                }
            )
    out = pd.DataFrame(rows).sort_values(["phase2_f1", "imd"], ascending=[False, True])
    print(out.to_string(index=False))


if __name__ == "__main__":
    main()
