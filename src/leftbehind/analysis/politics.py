"""Politics: the Brexit vote and the 'red wall' against the left-behind classification.

* :func:`constituency_table` — one row per English constituency (533): left-behind wards and
  residents (from the ward→constituency pieces), population-weighted CNI and ward-IMD means,
  Hanretty's estimated Leave share, the 2017 and 2019 winners and the red-wall flag.
* :func:`lad_leave` — Electoral Commission results (382 counting areas; the 326 English ones
  are 2016 LADs) summed to current (2024) LADs.
* :func:`correlations` — Pearson and Spearman with 95% intervals (Fisher z; Bonett–Wright
  standard error for Spearman) and n.
* :class:`RedWallRule` — seats won by one party in 2017 and another in 2019, in chosen regions
  (default Labour → Conservative in the North, the Midlands and Wales). There is no official list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy import stats

from leftbehind.options import NORTH_MIDLANDS_WALES

if TYPE_CHECKING:
    from leftbehind.context import RunContext


class RedWallRule(BaseModel):
    """Seats won by ``party_2017`` in 2017 and ``party_2019`` in 2019, in ``regions``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party_2017: str = "Lab"
    party_2019: str = "Con"
    regions: tuple[str, ...] = NORTH_MIDLANDS_WALES

    def describe(self) -> str:
        return (
            f"won by {self.party_2017} in the 2017 general election and by {self.party_2019} in 2019, in "
            + ", ".join(self.regions)
        )


def election_results(ctx: RunContext) -> pd.DataFrame:
    """``pcon_code, pcon_name, region_name, winner_2017, winner_2019`` for all 650 UK seats."""

    g17 = ctx.load("ge2017_results")
    g19 = ctx.load("ge2019_results")
    out = g19[["pcon_code", "pcon_name", "region_name", "first_party"]].rename(columns={"first_party": "winner_2019"})
    out = out.merge(
        g17[["pcon_code", "first_party"]].rename(columns={"first_party": "winner_2017"}),
        on="pcon_code",
        how="left",
        validate="one_to_one",
    )
    return out[["pcon_code", "pcon_name", "region_name", "winner_2017", "winner_2019"]]


def red_wall(results: pd.DataFrame, rule: RedWallRule) -> pd.Series:
    return (
        results["winner_2017"].eq(rule.party_2017)
        & results["winner_2019"].eq(rule.party_2019)
        & results["region_name"].isin(rule.regions)
    )


def constituency_table(
    wards: pd.DataFrame, shares: pd.DataFrame, rule: RedWallRule, *, ctx: RunContext
) -> pd.DataFrame:
    """The constituency table (columns as documented in the module), 533 English seats.

    ``wards``: the classified ward table; ``shares``: ward→constituency piece shares
    (``wd17cd, pcon_cd, share``). Residents of a split ward are shared by the piece shares; a
    left-behind ward is counted in the constituency of its largest piece.
    """

    s = shares.rename(columns={"wd17cd": "ward_code"})
    w = wards[["ward_code", "group", "population", "cni_score", "imd_score"]]
    pieces = s.merge(w, on="ward_code")
    pieces["pop"] = pieces["population"] * pieces["share"]
    pieces["lb"] = pieces["group"].eq("left_behind")
    best = s.sort_values(["ward_code", "share", "pcon_cd"], ascending=[True, False, True]).drop_duplicates("ward_code")
    lbn_wards = best.merge(w[w["group"] == "left_behind"][["ward_code"]], on="ward_code").groupby("pcon_cd").size()
    g = pieces.groupby("pcon_cd")
    pop = g["pop"].sum()
    lbn_pop = pieces[pieces["lb"]].groupby("pcon_cd")["pop"].sum()
    has_imd = pieces["imd_score"].notna()

    def wmean(col: str, mask=None) -> pd.Series:
        p = pieces if mask is None else pieces[mask]
        return (p[col] * p["pop"]).groupby(p["pcon_cd"]).sum() / p.groupby("pcon_cd")["pop"].sum()

    leave = ctx.load("hanretty_leave_pcon_csv").set_index("pcon_code")["leave_share"]
    res = election_results(ctx).set_index("pcon_code")
    codes = ctx.load("pcon19_names")["pcon19cd"]
    out = pd.DataFrame({"pcon_code": codes.to_numpy()})
    out["pcon_name"] = res.reindex(out["pcon_code"])["pcon_name"].to_numpy()
    out["region_name"] = res.reindex(out["pcon_code"])["region_name"].to_numpy()
    out["lbn_wards"] = lbn_wards.reindex(out["pcon_code"]).fillna(0).astype("int64").to_numpy()
    out["lbn_population"] = lbn_pop.reindex(out["pcon_code"]).fillna(0.0).to_numpy()
    out["population"] = pop.reindex(out["pcon_code"]).to_numpy()
    out["lbn_share"] = out["lbn_population"] / out["population"]
    out["cni_score_mean"] = wmean("cni_score").reindex(out["pcon_code"]).to_numpy()
    out["imd_score_mean"] = wmean("imd_score", has_imd).reindex(out["pcon_code"]).to_numpy()
    out["leave_share_est"] = leave.reindex(out["pcon_code"]).to_numpy()
    out["winner_2017"] = res.reindex(out["pcon_code"])["winner_2017"].to_numpy()
    out["winner_2019"] = res.reindex(out["pcon_code"])["winner_2019"].to_numpy()
    out["red_wall"] = red_wall(res.reindex(out["pcon_code"]).reset_index(), rule).to_numpy()
    return out.sort_values("pcon_code").reset_index(drop=True)


def lad_leave(ctx: RunContext) -> pd.DataFrame:
    """Leave share by current LAD: ``lad24cd, leave_votes, valid_votes, leave_share, counting_areas``.

    The 326 English counting areas are 2016 LADs; each goes to its 2024 successor and the votes
    are summed (mergers such as Bournemouth + Poole + Christchurch → BCP).
    """
    from leftbehind.geography.lookups import current_lad

    eu = ctx.load("eu_referendum_results")
    eng = eu[eu["area_code"].str.match(r"^E0[6-9]\d{6}$")].reset_index(drop=True)
    cur = current_lad(eng["area_code"], ctx=ctx)
    eng = eng.assign(lad24cd=cur["lad24cd"].to_numpy())
    g = (
        eng.groupby("lad24cd")
        .agg(leave_votes=("leave", "sum"), valid_votes=("valid_votes", "sum"), counting_areas=("area_code", "size"))
        .reset_index()
    )
    g["leave_share"] = g["leave_votes"] / g["valid_votes"]
    return g


def correlations(frame: pd.DataFrame, y: str, xs: list[str], level: str) -> pd.DataFrame:
    """Pearson and Spearman correlations of ``y`` with each of ``xs``, with 95% CIs and n."""
    rows = []
    for x in xs:
        d = frame[[x, y]].dropna()
        n = len(d)
        for method in ("pearson", "spearman"):
            if n < 4 or d[x].nunique() < 2 or d[y].nunique() < 2:  # undefined (e.g. no left-behind ward at all)
                rows.append(
                    {
                        "level": level,
                        "y": y,
                        "x": x,
                        "method": method,
                        "r": np.nan,
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "n": n,
                    }
                )
                continue
            if method == "pearson":
                r = float(stats.pearsonr(d[x], d[y]).statistic)
                se = 1 / np.sqrt(n - 3)
            else:
                r = float(stats.spearmanr(d[x], d[y]).statistic)
                se = np.sqrt((1 + r**2 / 2) / (n - 3))  # Bonett & Wright (2000)
            z = np.arctanh(r)
            lo, hi = np.tanh(z - 1.959963984540054 * se), np.tanh(z + 1.959963984540054 * se)
            rows.append(
                {
                    "level": level,
                    "y": y,
                    "x": x,
                    "method": method,
                    "r": r,
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                    "n": n,
                }
            )
    return pd.DataFrame(rows)
