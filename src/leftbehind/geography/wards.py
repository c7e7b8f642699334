"""Ward-level IMD for the Community Needs Index wards (December 2017 wards, WD17).

:func:`ward_imd` aggregates an LSOA-level IMD to the 7,433 CNI 2019 wards through the ONS
LSOA11→WD17 best-fit lookup and returns one row per CNI ward — including the 12 wards that
no LSOA is best-fitted to, which get no IMD and say why in ``note``. Ranks are among the CNI
wards that have a value (1 = most deprived).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leftbehind.geography.aggregate import MEASURES, aggregate
from leftbehind.geography.lookups import lsoa11_to_ward
from leftbehind.geography.population import lsoa_population
from leftbehind.indices.transforms import deciles, rank_areas
from leftbehind.indices.values import index_info, small_area_values

NO_LSOA_NOTE = "no LSOA 2011 is best-fitted to this ward in the ONS LSOA11->WD17 lookup, so it has no IMD"


def ward_imd(index: str = "imd2019", population: str = "mid2019", data=None) -> pd.DataFrame:
    """``ward_code, ward_name, population, <measures>, rank_<measures>, n_lsoa, note`` for the CNI wards."""
    from leftbehind.data import load

    info = index_info(index)
    if info.geography != "lsoa11":
        from leftbehind.errors import UsageError

        raise UsageError(
            f"ward IMD needs an LSOA 2011 index (CNI wards are WD17); {index} is at LSOA 2021",
            hint="use imd2019 or imd2015",
        )
    cni = load("cni2019_wards", data)[["wd17cd", "wd17nm"]]
    vals = small_area_values(index, data)
    pop = lsoa_population(population, data)
    vals = vals.merge(pop[["lsoa11cd", "pop_total"]], on="lsoa11cd", how="left").rename(
        columns={"pop_total": "population"}
    )
    m = lsoa11_to_ward("wd17", data)
    mapping = pd.DataFrame({"lsoa11cd": m["lsoa11cd"], "area_code": m["wd17cd"], "area_name": m["wd17nm"]})
    agg = aggregate(vals, mapping, areas=cni["wd17cd"])
    out = cni.rename(columns={"wd17cd": "ward_code", "wd17nm": "ward_name"}).merge(
        agg.drop(columns=["area_name"]).rename(columns={"area_code": "ward_code", "n_small_areas": "n_lsoa"}),
        on="ward_code",
        how="left",
    )
    out["n_lsoa"] = out["n_lsoa"].fillna(0).astype("int64")
    out["note"] = np.where(out["n_lsoa"] == 0, NO_LSOA_NOTE, "")
    n = int(out["average_score"].notna().sum())
    for mname in MEASURES:  # ranks among the CNI wards with a value
        r = rank_areas(out[mname].to_numpy(), out["ward_code"].to_numpy(), ties="min")
        out[f"rank_{mname}"] = pd.array(r, dtype="Int64")
        out[f"decile_{mname}"] = pd.array(deciles(r, n), dtype="Int64")
    out.attrs.update(index=index, population=population, edition=info.edition)
    return out
