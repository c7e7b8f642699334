"""Geography lookups with their vintage in every column name.

Each function returns a tidy frame (England only) built from catalogue datasets:

* :func:`lsoa11_to_ward` — ONS best fit LSOA 2011 → ward (``wd17`` or ``wd19``)
* :func:`lsoa11_to_lsoa21` — ONS best fit with change codes (U, S, M, X)
* :func:`current_lad` — any LAD code 2016–2024 → its 2024 successor
* :func:`lad_to_region` — 2024 LAD → region
* :func:`ward_to_pcon` — ward → Westminster constituency, one row per piece
* :func:`lsoa_to_area` / :func:`lsoa21_to_area` — the mappings :func:`aggregate` takes
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from leftbehind.errors import UsageError

if TYPE_CHECKING:
    from leftbehind.context import RunContext

WardVintage = Literal["wd17", "wd19"]
SPLIT_RULES = ("best_fit", "apportion")
TARGETS_LSOA11 = ("wd17", "wd19", "lad19", "lad24", "region", "pcon17")
TARGETS_LSOA21 = ("lad24", "region")


def _check_ward(vintage: str) -> None:
    if vintage not in ("wd17", "wd19"):
        raise UsageError(f"unknown ward vintage {vintage!r}", hint="use wd17 or wd19")


def lsoa11_to_ward(vintage: WardVintage = "wd17", *, ctx: RunContext) -> pd.DataFrame:
    """``lsoa11cd, {vintage}cd, {vintage}nm, lad{yy}cd`` for the 32,844 English LSOAs (best fit)."""
    _check_ward(vintage)
    yy = vintage[-2:]
    df = ctx.load(f"lookup_lsoa11_{vintage}")
    df = df[df["lsoa11cd"].str.startswith("E")]
    return df[["lsoa11cd", f"{vintage}cd", f"{vintage}nm", f"lad{yy}cd"]].reset_index(drop=True)


def lsoa11_to_lsoa21(ctx: RunContext) -> pd.DataFrame:
    """``lsoa11cd, lsoa21cd, change_code, lad22cd`` (England): one row per 2011–2021 pair."""
    df = ctx.load("lookup_lsoa11_lsoa21")
    df = df[df["lsoa11cd"].str.startswith("E")]
    return df[["lsoa11cd", "lsoa21cd", "change_code", "lad22cd"]].reset_index(drop=True)


def _history(ctx: RunContext) -> pd.DataFrame:
    def make():
        df = ctx.load("lookup_lad16_lad24")
        return df[df["lad16cd"].str.startswith("E")].reset_index(drop=True)

    from leftbehind.data.sources import memo

    return memo(ctx, "lad_history", make)


def current_lad(codes, *, ctx: RunContext) -> pd.DataFrame:
    """Map LAD codes of any vintage 2016–2024 to the 2024 LAD: ``lad_code, lad24cd, lad24nm``.

    Unknown codes raise a :class:`UsageError` naming them (never a silent NaN).
    """
    h = _history(ctx)
    pairs = pd.concat(
        [
            h[[f"lad{y}cd", "lad24cd", "lad24nm"]].set_axis(["lad_code", "lad24cd", "lad24nm"], axis=1)
            for y in range(16, 25)
        ]
    ).drop_duplicates("lad_code")
    codes = pd.Series(np.asarray(codes, dtype=object), name="lad_code")
    out = codes.to_frame().merge(pairs, on="lad_code", how="left")
    if out["lad24cd"].isna().any():
        bad = sorted(set(out.loc[out["lad24cd"].isna(), "lad_code"]))
        raise UsageError(
            f"LAD code(s) not in the 2016-2024 code history: {', '.join(map(str, bad[:5]))}",
            hint="check the codes are English local authority districts (E06-E09)",
        )
    return out


def lad_to_region(ctx: RunContext) -> pd.DataFrame:
    """``lad24cd, lad24nm, rgn_cd, rgn_nm`` for the English 2024 LADs.

    Regions come from the 2019 LAD → region lookup through each 2024 LAD's 2019 predecessors
    (2019–2024 reorganisations merged whole districts within a region).
    """
    h = _history(ctx)
    reg = ctx.load("lookup_lad19_region19")[["lad19cd", "rgn19cd", "rgn19nm"]]
    m = h[["lad19cd", "lad24cd", "lad24nm"]].merge(reg, on="lad19cd", how="left")
    m = m.drop_duplicates(["lad24cd", "rgn19cd"])
    if m["lad24cd"].duplicated().any():  # pragma: no cover - would mean a LAD straddles regions
        raise UsageError("a 2024 LAD maps to two regions in the lookups")
    return m.rename(columns={"rgn19cd": "rgn_cd", "rgn19nm": "rgn_nm"})[["lad24cd", "lad24nm", "rgn_cd", "rgn_nm"]]


def ward_to_pcon(vintage: WardVintage = "wd17", *, ctx: RunContext) -> pd.DataFrame:
    """Ward → constituency pieces: ``{vintage}cd, pcon_cd, pcon_nm, n_pieces`` (one row per piece)."""
    _check_ward(vintage)
    yy = vintage[-2:]
    df = ctx.load(f"lookup_{vintage}_pcon{yy}")
    df = df.drop_duplicates([f"{vintage}cd", f"pcon{yy}cd"])  # St Ives South appears twice in the ONS file
    df = df.rename(columns={f"pcon{yy}cd": "pcon_cd", f"pcon{yy}nm": "pcon_nm"})
    df["n_pieces"] = df.groupby(f"{vintage}cd")["pcon_cd"].transform("size")
    return df[[f"{vintage}cd", "pcon_cd", "pcon_nm", "n_pieces"]].reset_index(drop=True)


def piece_shares(
    vintage: WardVintage = "wd17", population: pd.DataFrame | None = None, *, ctx: RunContext
) -> pd.DataFrame:
    """Estimated population share of each ward–constituency piece.

    No public lookup says where a split ward's people live, so each LSOA of a split ward
    (best fit) is given to the candidate constituency whose population-weighted LSOA centroid
    — computed from the wards that are not split — lies nearest to the LSOA's centroid. The
    share of a piece is its LSOAs' population over the ward's. Unsplit wards have share 1.
    Returns ``{vintage}cd, pcon_cd, pcon_nm, n_pieces, share``.
    """

    if population is None:
        from leftbehind.data.sources import memo

        return memo(ctx, ("piece_shares", vintage), lambda: _piece_shares(vintage, None, ctx)).copy()
    return _piece_shares(vintage, population, ctx)


def _piece_shares(vintage: str, population: pd.DataFrame | None, ctx: RunContext) -> pd.DataFrame:
    from leftbehind.geography.population import lsoa_population

    pieces = ward_to_pcon(vintage, ctx=ctx)
    pop = population if population is not None else lsoa_population("mid2019", ctx=ctx)
    lsoa = lsoa11_to_ward(vintage, ctx=ctx)[["lsoa11cd", f"{vintage}cd"]].merge(
        pop[["lsoa11cd", "pop_total"]], on="lsoa11cd", how="left"
    )
    xy = ctx.load("drkane_lsoa_latlong").rename(columns={"lsoacd": "lsoa11cd"})
    lsoa = lsoa.merge(xy, on="lsoa11cd", how="left")
    lsoa["x"] = lsoa["longitude"] * np.cos(np.radians(54.0))  # equirectangular, fine at this scale
    lsoa["y"] = lsoa["latitude"]
    single = pieces[pieces["n_pieces"] == 1][[f"{vintage}cd", "pcon_cd"]]
    anchored = lsoa.merge(single, on=f"{vintage}cd")
    wsum = anchored.groupby("pcon_cd")["pop_total"].sum()
    cx = (anchored["x"] * anchored["pop_total"]).groupby(anchored["pcon_cd"]).sum() / wsum
    cy = (anchored["y"] * anchored["pop_total"]).groupby(anchored["pcon_cd"]).sum() / wsum
    split = pieces[pieces["n_pieces"] > 1]
    cand = lsoa.merge(split[[f"{vintage}cd", "pcon_cd"]], on=f"{vintage}cd")
    cand["d2"] = (cand["x"] - cand["pcon_cd"].map(cx)) ** 2 + (cand["y"] - cand["pcon_cd"].map(cy)) ** 2
    cand["d2"] = cand["d2"].fillna(np.inf)  # a seat with no unsplit ward has no centroid: never nearest
    nearest = cand.sort_values(["lsoa11cd", "d2", "pcon_cd"]).drop_duplicates("lsoa11cd")
    got = nearest.groupby([f"{vintage}cd", "pcon_cd"])["pop_total"].sum()
    tot = got.groupby(level=0).sum()
    share = (got / tot).rename("share").reset_index()
    out = pieces.merge(share, on=[f"{vintage}cd", "pcon_cd"], how="left")
    out["share"] = np.where(out["n_pieces"] == 1, 1.0, out["share"].fillna(0.0))
    # a split ward with no best-fit LSOA at all: share its pieces equally
    no_lsoa = out.groupby(f"{vintage}cd")["share"].transform("sum") == 0
    out.loc[no_lsoa, "share"] = 1.0 / out.loc[no_lsoa, "n_pieces"]
    return out


def lsoa_to_area(
    to: str,
    *,
    ctx: RunContext,
    split: str = "best_fit",
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Mapping for :func:`aggregate` from the English LSOA 2011s: ``lsoa11cd, area_code, area_name, weight``.

    ``to``: ``wd17``, ``wd19`` (ONS best fit), ``lad19`` (exact: IoD2019 File 1), ``lad24``
    (2019 LADs through the code history), ``region``, ``pcon17`` (LSOA → WD17 → constituency;
    a ward split between constituencies goes whole to its largest piece with
    ``split="best_fit"`` or is shared by estimated population with ``split="apportion"``,
    see :func:`piece_shares`).
    """
    if to not in TARGETS_LSOA11:
        raise UsageError(
            f"unknown target geography {to!r} for LSOA 2011 data", hint="use one of: " + ", ".join(TARGETS_LSOA11)
        )
    if split not in SPLIT_RULES:
        raise UsageError(f"unknown split rule {split!r}", hint="use best_fit or apportion")
    if to in ("wd17", "wd19"):
        m = lsoa11_to_ward(to, ctx=ctx)
        return _mapping("lsoa11cd", m["lsoa11cd"], m[f"{to}cd"], m[f"{to}nm"])
    if to == "pcon17":
        m = lsoa11_to_ward("wd17", ctx=ctx)[["lsoa11cd", "wd17cd"]]
        shares = piece_shares("wd17", population, ctx=ctx)
        if split == "best_fit":
            shares = shares.sort_values(["wd17cd", "share", "pcon_cd"], ascending=[True, False, True])
            shares = shares.drop_duplicates("wd17cd").assign(share=1.0)
        m = m.merge(shares[["wd17cd", "pcon_cd", "pcon_nm", "share"]], on="wd17cd", how="left")
        m = m[m["share"] > 0]
        return pd.DataFrame(
            {
                "lsoa11cd": m["lsoa11cd"].to_numpy(),
                "area_code": m["pcon_cd"].to_numpy(),
                "area_name": m["pcon_nm"].to_numpy(),
                "weight": m["share"].to_numpy(),
            }
        )
    f1 = ctx.load("imd2019_file1")[["lsoa11cd", "lad19cd", "lad19nm"]]
    if to == "lad19":
        return _mapping("lsoa11cd", f1["lsoa11cd"], f1["lad19cd"], f1["lad19nm"])
    return _via_current_lad("lsoa11cd", f1["lsoa11cd"], f1["lad19cd"], to, ctx=ctx)


def _mapping(code_col: str, codes, area_codes, area_names) -> pd.DataFrame:
    """A one-to-one mapping frame for :func:`aggregate` (weight 1)."""
    return pd.DataFrame(
        {
            code_col: np.asarray(codes),
            "area_code": np.asarray(area_codes),
            "area_name": np.asarray(area_names),
            "weight": 1.0,
        }
    )


def _via_current_lad(code_col: str, codes, lad_codes, to: str, *, ctx: RunContext) -> pd.DataFrame:
    """Small areas → their LAD's 2024 successor (``lad24``) or its region (``region``)."""
    cur = current_lad(lad_codes, ctx=ctx)
    if to == "lad24":
        return _mapping(code_col, codes, cur["lad24cd"], cur["lad24nm"])
    reg = cur.merge(lad_to_region(ctx)[["lad24cd", "rgn_cd", "rgn_nm"]], on="lad24cd", how="left")
    return _mapping(code_col, codes, reg["rgn_cd"], reg["rgn_nm"])


def lsoa21_to_area(to: str, *, ctx: RunContext) -> pd.DataFrame:
    """Mapping from the English LSOA 2021s: ``lsoa21cd, area_code, area_name, weight``.

    LSOA 2021s nest in 2022 LADs (the LAD code in the ONS LSOA11→LSOA21 lookup); each 2022
    LAD is taken to its 2024 successor through the LAD code history (the 2023 reorganisations
    of Cumbria, North Yorkshire and Somerset merged whole districts), then to its region.
    """
    if to not in TARGETS_LSOA21:
        raise UsageError(
            f"unknown target geography {to!r} for LSOA 2021 data", hint="use one of: " + ", ".join(TARGETS_LSOA21)
        )
    lk = lsoa11_to_lsoa21(ctx).drop_duplicates("lsoa21cd")[["lsoa21cd", "lad22cd"]].reset_index(drop=True)
    return _via_current_lad("lsoa21cd", lk["lsoa21cd"], lk["lad22cd"], to, ctx=ctx)
