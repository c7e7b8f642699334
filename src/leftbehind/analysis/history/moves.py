"""Move an IMD edition published on LSOA 2001 or LSOA 2021 onto LSOA 2011.

One rule covers every change type of the ONS lookups: **an LSOA 2011 takes the mean rank of
the LSOAs it is linked to**. Read per change type (docs/decisions.md, "IMD history"):

=========  ===========================================  ===========================================
change     from LSOA 2001 (IMD 2004, 2007, 2010)         from LSOA 2021 (IMD 2025)
=========  ===========================================  ===========================================
U          the rank of the same LSOA                     the rank of the same LSOA
S          each 2011 part copies its 2001 parent's rank  the 2011 LSOA takes the mean rank of its
                                                         2021 parts
M          the mean of the merged 2001 LSOAs' ranks      each 2011 LSOA copies the merged 2021 rank
X          one linked 2001 LSOA: its rank; several:      the mean rank of the linked 2021 LSOAs
           the mean of their ranks
=========  ===========================================  ===========================================

For U, S and M this is Houlden et al.'s (2024) rule. For an irregular LSOA 2011 with several
2001 parents (9 in England) they take the parent nearest by population-weighted centroid; the
mirror holds no 2001 centroids, so the mean is used and the LSOAs are flagged (``rule``).

The moved ranks keep the source edition's scale (1 … 32,482 for 2001 editions, 1 … 33,755 for
IMD 2025); :func:`common_rank` re-ranks them on LSOA 2011, from which deciles are recomputed
(a split copies one rank to several LSOAs, so the source deciles no longer hold 10% each).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leftbehind.errors import DataError

RULE_NAMES = {
    "U": "unchanged",
    "S": "split",
    "M": "merged",
    "X1": "irregular, one linked LSOA",
    "Xn": "irregular, mean of several linked LSOAs",
    "none": "not in the lookup",
}


def move_to_lsoa11(
    values: pd.DataFrame,
    lookup: pd.DataFrame,
    *,
    source: str,
    lsoa11: pd.Index,
    dataset: str,
) -> pd.DataFrame:
    """Move ``values`` (``code, rank``; code of the ``source`` geography) onto the ``lsoa11`` codes.

    ``lookup``: ``lsoa11cd``, the source code column (``lsoa01cd`` or ``lsoa21cd``) and
    ``change_code``. Returns ``lsoa11cd, rank, links, rule`` with one row per ``lsoa11`` code
    (in that order); an LSOA 2011 the lookup does not reach gets rank NaN and rule ``none``.

    Examples
    --------
    >>> import pandas as pd
    >>> lk = pd.DataFrame({"lsoa11cd": ["A", "B", "C", "C"], "lsoa01cd": ["p", "p", "q", "r"],
    ...                    "change_code": ["S", "S", "M", "M"]})
    >>> v = pd.DataFrame({"code": ["p", "q", "r"], "rank": [10.0, 4.0, 8.0]})
    >>> move_to_lsoa11(v, lk, source="lsoa01cd", lsoa11=pd.Index(["A", "B", "C", "D"]), dataset="x")
      lsoa11cd  rank  links  rule
    0        A  10.0      1     S
    1        B  10.0      1     S
    2        C   6.0      2     M
    3        D   NaN      0  none
    """
    lk = lookup[lookup["lsoa11cd"].isin(lsoa11)][["lsoa11cd", source, "change_code"]].drop_duplicates(
        ["lsoa11cd", source]
    )
    v = values.set_axis(["code", "rank"], axis=1)
    if v["code"].duplicated().any():
        dup = v.loc[v["code"].duplicated(), "code"].iloc[0]
        raise DataError(f"{dataset}: area {dup} appears twice", hint="restore the original file")
    m = lk.merge(v, left_on=source, right_on="code", how="left")
    lost = m["rank"].isna()
    if lost.any():
        raise DataError(
            f"{dataset}: {int(lost.sum()):,} {source[:6].upper()} codes of the lookup have no rank "
            f"(first {m.loc[lost, source].iloc[0]})",
            hint=f"check {dataset} is the complete England edition on {source[:6].upper()}",
        )
    g = m.groupby("lsoa11cd", sort=False)
    t = pd.DataFrame({"rank": g["rank"].mean(), "links": g.size(), "change": g["change_code"].first()})
    t = t.reindex(lsoa11)
    change = t["change"].astype(object).fillna("none").to_numpy()
    links = t["links"].fillna(0).to_numpy()
    rule = np.where(change == "X", np.where(links > 1, "Xn", "X1"), change)
    out = pd.DataFrame(
        {
            "lsoa11cd": np.asarray(lsoa11, dtype=object),
            "rank": t["rank"].to_numpy(dtype="float64"),
            "links": links.astype("int64"),
            "rule": rule.astype(object),
        }
    )
    return out


def common_rank(ranks: np.ndarray) -> np.ndarray:
    """Re-rank moved ranks among the LSOAs 2011 that have one (1 = most deprived; equal moved
    ranks share the lowest rank, so the LSOAs of one split parent stay in one decile)."""
    from scipy.stats import rankdata

    r = np.asarray(ranks, dtype="float64")
    out = np.full(r.shape, np.nan)
    ok = ~np.isnan(r)
    out[ok] = rankdata(r[ok], method="min")
    return out
