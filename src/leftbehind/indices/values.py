"""Small-area values of an index, ready to aggregate: one row per LSOA with score and national rank.

==================  =========  ==============================================================
index               geography  score / rank
==================  =========  ==============================================================
imd2019             LSOA 2011  score rebuilt from File 2 domain ranks (spec ``imd2019``),
                               rounded to 3 dp as File 7 publishes it; published IMD rank
imd2015             LSOA 2011  published IMD 2015 score and rank
iod2025             LSOA 2021  published IMD 2025 score and rank
cni2023             LSOA 2021  published CNI 2023 score and rank (higher = more need)
imd2019_income      LSOA 2011  File 8 income numerator / File 6 total population (approx.
                               ±0.002: numerators are rounded to 5), published domain rank;
                               count = numerator (the income scale)
imd2019_employment  LSOA 2011  File 8 employment numerator / File 6 working-age population;
                               published domain rank; count = numerator
==================  =========  ==============================================================

Suppressed File 8 numerators (blank: small counts) are taken as 0 for the rate and the scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leftbehind.errors import UsageError

if TYPE_CHECKING:
    from leftbehind.context import RunContext


@dataclass(frozen=True)
class IndexInfo:
    name: str
    title: str
    edition: str
    geography: str  # lsoa11 | lsoa21
    code: str  # code column
    measure: str  # imd | income | employment | cni (selects the population denominator)
    score_unit: str = "index points"


INDICES = {
    "imd2019": IndexInfo("imd2019", "Index of Multiple Deprivation 2019", "IoD2019", "lsoa11", "lsoa11cd", "imd"),
    "imd2015": IndexInfo("imd2015", "Index of Multiple Deprivation 2015", "IoD2015", "lsoa11", "lsoa11cd", "imd"),
    "iod2025": IndexInfo("iod2025", "Index of Multiple Deprivation 2025", "IoD2025", "lsoa21", "lsoa21cd", "imd"),
    "cni2023": IndexInfo(
        "cni2023", "Community Needs Index 2023 (OCSI for Local Trust)", "CNI2023", "lsoa21", "lsoa21cd", "cni"
    ),
    "imd2019_income": IndexInfo(
        "imd2019_income",
        "IoD2019 Income Deprivation (rate approximated from File 8)",
        "IoD2019",
        "lsoa11",
        "lsoa11cd",
        "income",
        "share of all people, 0-1",
    ),
    "imd2019_employment": IndexInfo(
        "imd2019_employment",
        "IoD2019 Employment Deprivation (rate approximated from File 8)",
        "IoD2019",
        "lsoa11",
        "lsoa11cd",
        "employment",
        "share of working-age people, 0-1",
    ),
}


def index_info(index: str) -> IndexInfo:
    try:
        return INDICES[index]
    except KeyError:
        raise UsageError(f"unknown index {index!r}", hint="use one of: " + ", ".join(INDICES)) from None


def small_area_values(index: str, *, ctx: RunContext) -> pd.DataFrame:
    """``<code>, score, rank`` (and ``count`` for the domain scales), national coverage."""

    info = index_info(index)
    if index == "imd2019":
        from leftbehind.indices.build import build_index
        from leftbehind.indices.spec import load_spec

        spec = load_spec("imd2019")
        f2 = ctx.load(spec.source)
        built = build_index(spec, f2)
        out = pd.DataFrame(
            {
                "lsoa11cd": built["area_code"],
                "score": np.round(built["score"].to_numpy(), 3),
                "rank": f2.set_index("lsoa11cd").loc[built["area_code"], "imd_rank"].to_numpy(),
            }
        )
    elif index == "imd2015":
        t = ctx.load("imd2015_scores")
        out = t[["lsoa11cd", "imd_score", "imd_rank"]].set_axis(["lsoa11cd", "score", "rank"], axis=1)
    elif index == "iod2025":
        t = ctx.load("iod2025_scores")
        out = t[["lsoa21cd", "imd_score", "imd_rank"]].set_axis(["lsoa21cd", "score", "rank"], axis=1)
    elif index == "cni2023":
        t = ctx.load("cni2023_lsoa21")
        out = t[["lsoa21cd", "cni_score", "cni_rank"]].set_axis(["lsoa21cd", "score", "rank"], axis=1)
    else:
        domain = info.measure
        f8 = ctx.load("imd2019_file8").set_index("lsoa11cd")
        f6 = ctx.load("imd2019_file6").set_index("lsoa11cd")
        f2 = ctx.load("imd2019_file2")
        codes = f2["lsoa11cd"].to_numpy()
        num = f8.loc[codes, f"{domain}_domain_numerator"].fillna(0.0).to_numpy()
        den = f6.loc[codes, "pop_total" if domain == "income" else "pop_working_age"].to_numpy(dtype="float64")
        out = pd.DataFrame(
            {"lsoa11cd": codes, "score": num / den, "rank": f2[f"{domain}_rank"].to_numpy(), "count": num}
        )
    out = out.reset_index(drop=True)
    out.attrs.update(index=info.name, title=info.title, edition=info.edition, geography=info.geography)
    return out
