"""``leftbehind history``: the history table, the sequence typology, ward trajectories and the
cross-tabulation of the typology with the CNI x IMD groups.

The typology follows Houlden et al. (2024): decile sequences 2010-2015-2019, optimal-matching
distances with transition-rate substitution costs, weighted k-medoids for k = 3 ... 15 chosen by
average silhouette, six clusters exported (their k). The same is done for 2004-2025.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from leftbehind.context import RunContext

K_EXPORT = 6  # the published study's number of clusters
KS = tuple(range(3, 16))


@dataclass
class HistoryResult:
    """Tables by registry name, and the summary written as history/summary.json."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)


def _sequences(h: pd.DataFrame, keys: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    d = h[[f"{k}_decile" for k in keys]]
    ok = d.notna().all(axis=1).to_numpy()
    return d[ok].to_numpy(dtype="int64"), ok


def run_typology(h: pd.DataFrame, name: str, keys: tuple[str, ...], ks, seed: int):
    from leftbehind.analysis.history.sequence import label_clusters, typology

    seqs, ok = _sequences(h, keys)
    t0 = time.perf_counter()
    typ = typology(seqs, ks=ks, k_export=K_EXPORT, seed=seed)
    seconds = time.perf_counter() - t0
    med = typ.medoid_sequences(K_EXPORT)
    names = label_clusters(med)
    lab = typ.labels_for(K_EXPORT)
    ids = np.full(len(h), -1, dtype="int64")
    ids[ok] = lab + 1
    label = np.full(len(h), None, dtype=object)
    label[ok] = np.asarray(names, dtype=object)[lab]
    sil = pd.DataFrame(
        {
            "sequence": name,
            "k": list(typ.silhouettes),
            "silhouette": [float(v) for v in typ.silhouettes.values()],
            "loss": [float(typ.solutions[k].loss) for k in typ.silhouettes],
            "chosen_by_silhouette": [k == typ.best_k for k in typ.silhouettes],
            "exported": [k == K_EXPORT for k in typ.silhouettes],
        }
    )
    return typ, ids, label, names, med, sil, seconds


def _cluster_table(h: pd.DataFrame, name: str, keys, ids, names, med, pop: np.ndarray) -> pd.DataFrame:
    rows = []
    for j, nm in enumerate(names, start=1):
        sel = ids == j
        r = {
            "sequence": name,
            "cluster_id": j,
            "typology": nm,
            "medoid": "-".join(str(int(v)) for v in med[j - 1]),
            "lsoas": int(sel.sum()),
            "share": float(sel.sum()) / float((ids > 0).sum()),
            "population": float(pop[sel].sum()),
        }
        for k in ("imd2004", "imd2007", "imd2010", "imd2015", "imd2019", "imd2025"):
            col = h[f"{k}_decile"].to_numpy(dtype="float64", na_value=np.nan)[sel]
            r[f"mean_decile_{k}"] = float(np.nanmean(col)) if np.isfinite(col).any() else np.nan
        rows.append(r)
    return pd.DataFrame(rows)


def _groups_lsoa11(h: pd.DataFrame, ctx: RunContext, opts=None) -> dict[str, pd.Series]:
    """The CNI x IMD group of each LSOA 2011, by classification.

    * ``2020``: the 2020 rule with the run's options ``opts`` (default: the run's defaults; CNI 2019
      x ward IMD 2019, wards 2017), each LSOA 2011 in its best-fit ward; ``2020 published``:
      left_behind if its ward is on the published list, else rest.
    * ``2025``: CNI 2023 x IMD 2025 on LSOA 2021 (at the run's threshold), each LSOA 2011 taking the
      group of its most populous LSOA 2021 part (one part for 31,810 of 32,844)."""
    from leftbehind.analysis.areas import classified_areas, research_wards
    from leftbehind.editions import current_for
    from leftbehind.geography.lookups import lsoa11_to_lsoa21, lsoa11_to_ward

    wards, _ = research_wards(ctx, opts)
    lk = lsoa11_to_ward("wd17", ctx=ctx)[["lsoa11cd", "wd17cd"]]
    w = lk.merge(wards[["ward_code", "group", "left_behind_published_2020"]], left_on="wd17cd", right_on="ward_code")
    w = w.set_index("lsoa11cd").reindex(h["lsoa11_code"])
    g2020 = w["group"].fillna("no_cni_ward")
    pub = np.where(w["left_behind_published_2020"].fillna(False).astype(bool), "left_behind", "rest")
    current = current_for(getattr(opts, "edition", None)).id
    cur = classified_areas(ctx, current, None, opts)[["lsoa21_code", "group", "population"]]
    c = lsoa11_to_lsoa21(ctx)[["lsoa11cd", "lsoa21cd"]].merge(cur, left_on="lsoa21cd", right_on="lsoa21_code")
    c = c.sort_values(["lsoa11cd", "population", "lsoa21cd"], ascending=[True, False, True]).drop_duplicates("lsoa11cd")
    g2025 = c.set_index("lsoa11cd")["group"].reindex(h["lsoa11_code"]).fillna("no_lsoa21")
    return {
        "2020 (CNI 2019 x IMD 2019, wards 2017, this toolkit's list)": pd.Series(g2020.to_numpy(), index=h.index),
        f"2020 published list ({int(np.sum(wards['left_behind_published_2020'].astype(bool)))} wards)": pd.Series(
            pub, index=h.index
        ),
        "2025 (CNI 2023 x IMD 2025, LSOA 2021)": pd.Series(g2025.to_numpy(), index=h.index),
    }


def crosstab(h: pd.DataFrame, column: str, groups: dict[str, pd.Series], pop: np.ndarray) -> pd.DataFrame:
    """``classification, group, typology, lsoas, population, share_of_group, share_of_typology``."""
    frames = []
    typ = h[column].fillna("no typology (no 2010 rank)")
    for cls, g in groups.items():
        t = pd.DataFrame({"group": g.to_numpy(), "typology": typ.to_numpy(), "population": pop})
        ct = t.groupby(["group", "typology"], as_index=False).agg(
            lsoas=("population", "size"), population=("population", "sum")
        )
        ct["share_of_group"] = ct["lsoas"] / ct.groupby("group")["lsoas"].transform("sum")
        ct["share_of_typology"] = ct["lsoas"] / ct.groupby("typology")["lsoas"].transform("sum")
        ct.insert(0, "classification", cls)
        frames.append(ct)
    return pd.concat(frames, ignore_index=True)


def history(
    ctx: RunContext, *, ks=KS, seed: int = 2024, progress: Callable[[str], None] | None = None, opts=None
) -> HistoryResult:
    from leftbehind.analysis.history.build import (
        history_spec,
        lsoa11_history,
        persistence_counts,
        ward_trajectories,
    )
    from leftbehind.geography.population import lsoa_population

    def say(what):
        if progress is not None:
            progress(what)

    spec = history_spec()
    t0 = time.perf_counter()
    say("moving IMD 2004-2025 onto LSOA 2011")
    h = lsoa11_history(ctx)
    t_table = time.perf_counter() - t0
    pop = (
        lsoa_population("mid2019", ctx=ctx)
        .set_index("lsoa11cd")["pop_total"]
        .reindex(h["lsoa11_code"])
        .to_numpy(dtype="float64")
    )
    res = HistoryResult()
    sil_frames, cluster_frames, typ_summary = [], [], {}
    for name, keys in spec.sequences.items():
        say(f"sequence typology {name.replace('_', '-')} (k = {ks[0]}...{ks[-1]})")
        typ, ids, label, names, med, sil, secs = run_typology(h, name, keys, ks, seed)
        h[f"typology_{name}"] = label
        h[f"typology_{name}_id"] = pd.array(np.where(ids > 0, ids, pd.NA), dtype="Int64")
        sil_frames.append(sil)
        cluster_frames.append(_cluster_table(h, name, keys, ids, names, med, pop))
        typ_summary[name] = {
            "editions": list(keys),
            "lsoas": int((ids > 0).sum()),
            "unique_sequences": int(len(typ.weights)),
            "indel": float(typ.indel),
            "best_k_by_silhouette": int(typ.best_k),
            "silhouette_best": float(typ.silhouettes[typ.best_k]),
            "silhouette_k6": float(typ.silhouettes.get(K_EXPORT, np.nan)),
            "clusters_k6": {nm: int((ids == j).sum()) for j, nm in enumerate(names, start=1)},
            "seconds": round(secs, 2),
        }
    say("ward trajectories and the CNI x IMD cross-tabulation")
    groups = _groups_lsoa11(h, ctx, opts)
    ct = pd.concat(
        [crosstab(h, f"typology_{name}", groups, pop).assign(sequence=name) for name in spec.sequences],
        ignore_index=True,
    )
    res.tables["history_lsoa11"] = h
    res.tables["history_wards17"] = ward_trajectories(h, "wd17", ctx=ctx)
    res.tables["history_wards24"] = ward_trajectories(h, "wd24", ctx=ctx)
    res.tables["history_typology_silhouettes"] = pd.concat(sil_frames, ignore_index=True)
    res.tables["history_typology_clusters"] = pd.concat(cluster_frames, ignore_index=True)
    cols = [
        "sequence",
        "classification",
        "group",
        "typology",
        "lsoas",
        "population",
        "share_of_group",
        "share_of_typology",
    ]
    res.tables["history_typology_crosstab"] = ct[cols]
    res.summary = {
        "lsoa11": persistence_counts(h),
        "typology": typ_summary,
        "entrenched_vs_left_behind": entrenched_summary(ct),
        "seconds_table": round(t_table, 2),
        "seconds_total": round(time.perf_counter() - t0, 2),
        "seed": seed,
        "citations": [e.citation for e in spec.editions]
        + [
            "Houlden, Robinson, Franklin, Rowe & Pike (2024) 'Left behind' neighbourhoods in England: where they are "
            "and why they matter, The Geographical Journal 190(4) e12583 (method)",
            "Community Needs Index, OCSI for Local Trust (CNI 2019 and CNI 2023; not open data)",
        ],
    }
    return res


ENTRENCHED = "entrenched deprivation"


def entrenched_summary(ct: pd.DataFrame) -> dict:
    """For each sequence and classification: left-behind LSOAs, how many are 'entrenched', and how
    many entrenched LSOAs are not left behind."""
    out = {}
    for (seq, cls), t in ct.groupby(["sequence", "classification"], sort=False):
        lb = t[t["group"] == "left_behind"]
        ent = t[t["typology"] == ENTRENCHED]
        out.setdefault(seq, {})[cls] = {
            "left_behind_lsoas": int(lb["lsoas"].sum()),
            "left_behind_entrenched": int(lb.loc[lb["typology"] == ENTRENCHED, "lsoas"].sum()),
            "entrenched_lsoas": int(ent["lsoas"].sum()),
            "entrenched_not_left_behind": int(ent.loc[ent["group"] != "left_behind", "lsoas"].sum()),
            "entrenched_other_deprived": int(ent.loc[ent["group"] == "other_deprived", "lsoas"].sum()),
        }
    return out
