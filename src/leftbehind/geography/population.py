"""Small-area populations, the weights of every aggregation.

======================  =====================================================  ==========
base                    source                                                 geography
======================  =====================================================  ==========
``mid2015``             IoD2019 File 6 (mid-2015, excluding prisoners)         LSOA 2011
``mid2019``             ONS SAPE mid-2019 single year of age                   LSOA 2011
``mid2020``             ONS SAPE mid-2020 single year of age                   LSOA 2011
``census2011``          Census 2011 KS101EW usual residents, OAs summed        LSOA 2011
``census2021``          Census 2021 TS038 total residents                      LSOA 2021
======================  =====================================================  ==========

Every frame has the code column (``lsoa11cd`` or ``lsoa21cd``, England only) and
``pop_total``; the LSOA 2011 mid-year bases also have ``pop_0_15`` (children, the IDACI
denominator), ``pop_60_plus`` (older people, IDAOPI) and ``pop_working_age`` (Employment):
18-59/64 in File 6 as the IoD defines it, 16-64 in the ONS estimates (the nearest band they
allow; the claimant-count denominator).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from leftbehind.errors import UsageError

if TYPE_CHECKING:
    from leftbehind.context import RunContext

BASES = {
    "mid2015": ("lsoa11", "imd2019_file6", "IoD2019 File 6, mid-2015 (excluding prisoners)"),
    "mid2019": ("lsoa11", "population_mid2019_lsoa11", "ONS mid-2019 LSOA population estimates"),
    "mid2020": ("lsoa11", "population_mid2020_lsoa11", "ONS mid-2020 LSOA population estimates"),
    "census2011": ("lsoa11", "census2011_oa11_residents", "Census 2011 usual residents (KS101EW)"),
    "census2021": ("lsoa21", "census21_disability_lsoa21", "Census 2021 usual residents (TS038 total)"),
}

#: which population column weights which measure (IoD Appendix N)
DENOMINATOR = {
    "employment": "pop_working_age",
    "idaci": "pop_0_15",
    "idaopi": "pop_60_plus",
}


def check_base(base: str, geography: str | None = None) -> None:
    if base not in BASES:
        raise UsageError(f"unknown population base {base!r}", hint="use one of: " + ", ".join(BASES))
    if geography is not None and BASES[base][0] != geography:
        fits = [b for b, (g, *_rest) in BASES.items() if g == geography]
        raise UsageError(
            f"population base {base!r} is at {BASES[base][0].upper()}, but this index is at {geography.upper()}",
            hint="use one of: " + ", ".join(fits),
        )


def lsoa_population(base: str = "mid2019", *, ctx: RunContext) -> pd.DataFrame:
    """England's small-area populations for ``base`` (see the module table); memoised in the run
    context (callers get a copy)."""
    from leftbehind.data.sources import memo

    check_base(base)
    out = memo(ctx, ("lsoa_population", base), lambda: _lsoa_population(base, ctx))
    res = out.copy()
    res.attrs = dict(out.attrs)
    return res


def _lsoa_population(base: str, ctx: RunContext) -> pd.DataFrame:
    geo, dataset, _title = BASES[base]
    df = ctx.load(dataset)
    if base == "mid2015":
        out = df[["lsoa11cd", "pop_total", "pop_0_15", "pop_60_plus", "pop_working_age"]]
    elif base in ("mid2019", "mid2020"):
        df = df[df["lsoa11cd"].str.startswith("E")]
        out = df[["lsoa11cd", "pop_total", "pop_0_15", "pop_60_plus"]].assign(pop_working_age=df["pop_16_64"])
    elif base == "census2011":
        oa = ctx.load("lookup_oa11_wd17_derived")[["oa11cd", "lsoa11cd"]]
        res = df.merge(oa, on="oa11cd", how="inner")
        out = res.groupby("lsoa11cd", as_index=False)["usual_residents_2011"].sum()
        out = out.rename(columns={"usual_residents_2011": "pop_total"})
    else:  # census2021
        df = df[df["lsoa21cd"].str.startswith("E")]
        out = df.drop_duplicates("lsoa21cd")[["lsoa21cd", "total_residents"]]
        out = out.rename(columns={"total_residents": "pop_total"})
    out = out.reset_index(drop=True)
    out.attrs["population_base"] = base
    out.attrs["population_source"] = BASES[base][2]
    return out
