"""IMD 2004 … 2025 on LSOA 2011: the history table, persistence and ward trajectories.

:func:`lsoa11_history` is the table ``leftbehind history`` writes as ``history/lsoa11.csv``
(before the typology columns are added). Editions are data (``editions.yaml``); the rule that
moves them onto LSOA 2011 is in :mod:`leftbehind.analysis.history.moves`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leftbehind.analysis.history.moves import common_rank, move_to_lsoa11
from leftbehind.errors import DataError

if TYPE_CHECKING:
    from leftbehind.context import RunContext

N_LSOA11 = 32_844
PERSISTENCE = ("imd2010", "imd2015", "imd2019")


@dataclass(frozen=True)
class HistoryEdition:
    key: str
    label: str
    dataset: str
    geography: str
    citation: str

    @property
    def year(self) -> int:
        return int(self.key[-4:])


@dataclass(frozen=True)
class HistorySpec:
    editions: tuple[HistoryEdition, ...]
    sequences: dict[str, tuple[str, ...]]
    lookups: dict[str, str]

    def by_key(self, key: str) -> HistoryEdition:
        return next(e for e in self.editions if e.key == key)

    def datasets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*(e.dataset for e in self.editions), *self.lookups.values()]))


@functools.cache
def history_spec() -> HistorySpec:
    import yaml

    raw = yaml.safe_load((Path(__file__).with_name("editions.yaml")).read_text(encoding="utf-8"))
    eds = tuple(HistoryEdition(**e) for e in raw["editions"])
    keys = {e.key for e in eds}
    seqs = {name: tuple(v) for name, v in raw["sequences"].items()}
    for name, v in seqs.items():
        if not set(v) <= keys:  # pragma: no cover - a broken shipped file
            raise ValueError(f"sequence {name} names unknown editions {sorted(set(v) - keys)}")
    return HistorySpec(editions=eds, sequences=seqs, lookups=dict(raw["lookups"]))


def _source_ranks(ctx: RunContext, ed: HistoryEdition) -> pd.DataFrame:
    df = ctx.load(ed.dataset)
    code = {"lsoa01": "lsoa01cd", "lsoa11": "lsoa11cd", "lsoa21": "lsoa21cd"}[ed.geography]
    if ed.geography != "lsoa11":
        df = df[df[code].str.startswith("E")]
    cols = [code, "imd_rank"] + (["imd_decile"] if "imd_decile" in df.columns else [])
    return df[cols].reset_index(drop=True)


def lsoa11_history(ctx: RunContext) -> pd.DataFrame:
    """One row per LSOA 2011 (32,844, sorted by code): for each edition ``{key}_rank`` (its own
    scale: published for 2015/2019, moved for the others), ``{key}_decile`` (published for
    2015/2019; recomputed on LSOA 2011 for the moved editions), ``{key}_percentile`` (of the
    LSOA 2011 rank, 0-100, low = most deprived), for moved editions ``{key}_decile_source``
    (the moved rank read against the source edition's own deciles) and the move rule, then the
    persistence columns."""
    from leftbehind.indices.transforms import deciles

    spec = history_spec()
    base = ctx.load("imd2019_file2")[["lsoa11cd"]]
    codes = pd.Index(sorted(base["lsoa11cd"]), name="lsoa11cd")
    if len(codes) != N_LSOA11 or codes.has_duplicates:
        raise DataError(
            f"imd2019_file2: expected {N_LSOA11:,} distinct LSOA 2011 codes, found {codes.nunique():,}",
            hint="restore the original IoD2019 File 2",
        )
    out = pd.DataFrame({"lsoa11_code": np.asarray(codes, dtype=object)})
    lookups = {}
    for ed in spec.editions:
        src = _source_ranks(ctx, ed)
        if ed.geography == "lsoa11":
            t = pd.DataFrame({"lsoa11cd": codes}).merge(src, on="lsoa11cd", how="left")
            if t["imd_rank"].isna().any():
                raise DataError(
                    f"{ed.dataset}: {int(t['imd_rank'].isna().sum()):,} LSOAs 2011 have no IMD rank",
                    hint=f"restore the original {ed.label} file",
                )
            out[f"{ed.key}_rank"] = t["imd_rank"].to_numpy(dtype="float64")
            out[f"{ed.key}_decile"] = t["imd_decile"].to_numpy(dtype="int64")
            out[f"{ed.key}_percentile"] = 100.0 * t["imd_rank"].to_numpy(dtype="float64") / len(t)
            continue
        code = "lsoa01cd" if ed.geography == "lsoa01" else "lsoa21cd"
        if ed.geography not in lookups:
            lk = ctx.load(spec.lookups[ed.geography])
            lookups[ed.geography] = lk[lk["lsoa11cd"].str.startswith("E")]
        moved = move_to_lsoa11(
            src[[code, "imd_rank"]], lookups[ed.geography], source=code, lsoa11=codes, dataset=ed.dataset
        )
        n_src = len(src)
        r = common_rank(moved["rank"].to_numpy())
        n_ok = int((~np.isnan(r)).sum())
        out[f"{ed.key}_rank"] = moved["rank"].to_numpy()
        out[f"{ed.key}_decile"] = pd.array(deciles(r, n_ok), dtype="Int64")
        out[f"{ed.key}_percentile"] = 100.0 * r / n_ok
        out[f"{ed.key}_decile_source"] = pd.array(deciles(moved["rank"].to_numpy(), n_src), dtype="Int64")
        out[f"{ed.geography}_rule"] = moved["rule"].to_numpy()
    d1 = pd.DataFrame({e.key: out[f"{e.key}_decile"].astype("Int64") == 1 for e in spec.editions})
    have = pd.DataFrame({e.key: out[f"{e.key}_decile"].notna() for e in spec.editions})
    persist = d1[list(PERSISTENCE)]
    out["decile1_2010_2015_2019"] = persist.all(axis=1).astype("boolean").where(have[list(PERSISTENCE)].all(axis=1))
    out["editions_in_decile1"] = d1.fillna(False).sum(axis=1).astype("int64")
    out["editions_with_data"] = have.sum(axis=1).astype("int64")
    rules = ["lsoa01_rule", "lsoa21_rule"]
    return out[
        [c for c in out.columns if c not in rules and not c.startswith(("decile1_", "editions_"))]
        + rules
        + ["decile1_2010_2015_2019", "editions_in_decile1", "editions_with_data"]
    ]


def persistence_counts(h: pd.DataFrame) -> dict[str, object]:
    """Headline figures of the history table (LSOAs 2011, counts and %)."""
    spec = history_spec()
    res: dict[str, object] = {
        "lsoas": len(h),
        "lsoas_with_2010": int(h["imd2010_decile"].notna().sum()),
        "decile1_2010_2015_2019": int(h["decile1_2010_2015_2019"].fillna(False).sum()),
        "decile1_all_six": int((h["editions_in_decile1"] == len(spec.editions)).sum()),
        "decile1_ever": int((h["editions_in_decile1"] > 0).sum()),
    }
    for a, b in zip(spec.editions, spec.editions[1:], strict=False):
        later = h[f"{b.key}_decile"] == 1
        both = later & (h[f"{a.key}_decile"] == 1)
        ok = later & h[f"{a.key}_decile"].notna()
        res[f"share_{b.key}_d1_in_{a.key}_d1_pct"] = round(100.0 * float(both.sum()) / max(int(ok.sum()), 1), 1)
    res["moves"] = {
        geo: h[f"{geo}_rule"].value_counts().sort_index().astype(int).to_dict() for geo in ("lsoa01", "lsoa21")
    }
    res["deciles_recomputed_differ_from_source"] = {
        e.key: int((h[f"{e.key}_decile"] != h[f"{e.key}_decile_source"]).fillna(False).sum())
        for e in spec.editions
        if f"{e.key}_decile_source" in h.columns
    }
    return res


def ward_trajectories(h: pd.DataFrame, unit: str, *, ctx: RunContext) -> pd.DataFrame:
    """Population shares by IMD decile, edition by edition, for wards 2017 (``wd17``: LSOA 2011 →
    ward best fit, mid-2019 residents) or wards 2024 (``wd24``: the history moved to LSOA 2021 —
    each LSOA 2021 takes the decile of the mean LSOA 2011 rank of its 2011 parents, IMD 2025 its
    own — then the LSOA 2021 → ward 2024 best fit, Census 2021 residents).

    One row per ward and edition: ``ward_code, ward_name, edition, population, share_d1 …
    share_d10`` (shares of the ward's residents, 0-1) and ``mean_decile`` (population-weighted).
    """
    from leftbehind.geography.lookups import lsoa11_to_ward
    from leftbehind.geography.population import lsoa_population
    from leftbehind.indices.transforms import deciles

    spec = history_spec()
    if unit == "wd17":
        lk = lsoa11_to_ward("wd17", ctx=ctx)[["lsoa11cd", "wd17cd", "wd17nm"]]
        pop = lsoa_population("mid2019", ctx=ctx)[["lsoa11cd", "pop_total"]]
        t = h.rename(columns={"lsoa11_code": "lsoa11cd"}).merge(lk, on="lsoa11cd").merge(pop, on="lsoa11cd")
        t = t.rename(columns={"wd17cd": "ward_code", "wd17nm": "ward_name"})
        dec = {e.key: t[f"{e.key}_decile"] for e in spec.editions}
    elif unit == "wd24":
        l1121 = ctx.load("lookup_lsoa11_lsoa21")[["lsoa11cd", "lsoa21cd"]]
        l1121 = l1121[l1121["lsoa21cd"].str.startswith("E")].drop_duplicates()
        cols = ["lsoa11cd"]
        pct = {}
        for e in spec.editions:
            if e.key == "imd2025":
                continue
            c = f"{e.key}_p"
            pct[e.key] = c
            cols.append(c)
        src = h.rename(columns={"lsoa11_code": "lsoa11cd"})
        src = src.assign(**{pct[k]: src[f"{k}_percentile"] for k in pct})[cols]
        m = l1121.merge(src, on="lsoa11cd").groupby("lsoa21cd", as_index=False)[list(pct.values())].mean()
        i25 = ctx.load("iod2025_scores")[["lsoa21cd", "imd_decile"]]
        wd = ctx.load("lookup_lsoa21_wd24")[["lsoa21cd", "wd24cd", "wd24nm"]]
        pop = lsoa_population("census2021", ctx=ctx)
        t = i25.merge(m, on="lsoa21cd", how="left").merge(wd, on="lsoa21cd").merge(pop, on="lsoa21cd")
        t = t.rename(columns={"wd24cd": "ward_code", "wd24nm": "ward_name"})
        dec = {}
        for k, c in pct.items():
            # a percentile averaged over parents, read back as a decile of the LSOA 2011 scale
            p = t[c].to_numpy(dtype="float64")
            dec[k] = pd.Series(pd.array(deciles(p, 100.0), dtype="Int64"), index=t.index)
        dec["imd2025"] = t["imd_decile"]
    else:
        from leftbehind.errors import UsageError

        raise UsageError(f"unknown ward vintage {unit!r}", hint="use wd17 or wd24")
    pop_v = t["pop_total"].to_numpy(dtype="float64")
    idx, wards = pd.factorize(t["ward_code"], sort=True)
    names = t.groupby("ward_code", sort=True)["ward_name"].first().to_numpy()
    frames = []
    for e in spec.editions:
        d = dec[e.key].to_numpy(dtype="float64", na_value=np.nan)
        ok = ~np.isnan(d)
        tot = np.bincount(idx[ok], weights=pop_v[ok], minlength=len(wards))
        shares = np.zeros((len(wards), 10))
        np.add.at(shares, (idx[ok], d[ok].astype(int) - 1), pop_v[ok])
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = shares / tot[:, None]
            mean = (shares * np.arange(1, 11)).sum(axis=1)
        f = pd.DataFrame({"ward_code": np.asarray(wards), "ward_name": names, "edition": e.label, "population": tot})
        for j in range(10):
            f[f"share_d{j + 1}"] = shares[:, j]
        f["mean_decile"] = mean
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out["_o"] = out["edition"].map({e.label: i for i, e in enumerate(spec.editions)})
    return out.sort_values(["ward_code", "_o"]).drop(columns="_o").reset_index(drop=True)
