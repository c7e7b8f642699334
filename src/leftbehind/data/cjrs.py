"""HMRC Coronavirus Job Retention Scheme (furlough) statistics: employments furloughed,
eligible employments and take-up rates by local authority or constituency.

HMRC publishes them as spreadsheets: a sheet per geography, a few title and note rows, then a
header row (an area code column, an area name column, 'furloughed' and 'eligible' columns, a
take-up rate) and one row per area. :func:`read_cjrs` finds that table by its header (not by
row numbers, which change between releases), parses counts (thousands separators, suppression
marks such as ``[x]``, ``[c]``, ``*``) and take-up as a percentage, and validates codes.
:func:`fetch_cjrs` downloads a release into the cache. The CSV extracts in the mirror
(``cjrs_*``) are read by the catalogue readers.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from leftbehind.errors import DataError

LEVELS = {"pcon": ("constituenc",), "lad": ("local authorit", "authority", "district")}
SUPPRESSION = {"[x]", "[c]", "[z]", "*", "x", "c", "..", "-", ""}


class CJRSError(DataError):
    """A CJRS spreadsheet could not be fetched or does not hold the expected table."""


def _norm(v) -> str:
    return re.sub(r"\s+", " ", str(v)).strip().lower() if v is not None and v == v else ""


def _find_table(raw: pd.DataFrame) -> tuple[int, dict[str, int]] | None:
    for i in range(min(len(raw), 40)):
        cells = [_norm(v) for v in raw.iloc[i].tolist()]
        code = next((j for j, c in enumerate(cells) if "code" in c), None)
        furl = next((j for j, c in enumerate(cells) if "furlough" in c and "cumulative" not in c), None)
        if code is None or furl is None:
            continue
        cols = {"code": code, "furloughed": furl}
        name = next((j for j, c in enumerate(cells) if "name" in c), None)
        elig = next((j for j, c in enumerate(cells) if "eligible" in c), None)
        take = next((j for j, c in enumerate(cells) if "take-up" in c or "take up" in c or "takeup" in c), None)
        for k, j in (("name", name), ("eligible", elig), ("take_up", take)):
            if j is not None:
                cols[k] = j
        return i, cols
    return None


def _numbers(s: pd.Series) -> pd.Series:
    t = s.astype(str).str.strip().str.replace(",", "", regex=False).str.replace("%", "", regex=False)
    t = t.where(~t.str.lower().isin(SUPPRESSION), None)
    return pd.to_numeric(t, errors="coerce")


def read_cjrs(source: str | Path | bytes, level: str = "pcon", name: str = "CJRS spreadsheet") -> pd.DataFrame:
    """``area_code, area_name, furloughed, eligible, take_up_pct`` from an HMRC CJRS spreadsheet."""
    if level not in LEVELS:
        raise CJRSError(f"unknown CJRS geography {level!r}", hint="use pcon or lad")
    buf = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        sheets = pd.read_excel(buf, sheet_name=None, header=None, dtype=object, engine="openpyxl")
    except ImportError:
        raise  # a broken installation, not a bad file: let it surface as such
    except Exception as exc:  # openpyxl raises many types for a file that is not xlsx
        raise CJRSError(
            f"{name} is not a readable .xlsx workbook ({type(exc).__name__}: {exc})",
            hint="download the HMRC CJRS statistics spreadsheet (.xlsx) again",
        ) from None
    keys = LEVELS[level]
    candidates = sorted(sheets, key=lambda s: not any(k in s.lower() for k in keys))
    for sheet in candidates:
        raw = sheets[sheet]
        found = _find_table(raw)
        if found is None:
            continue
        hdr, cols = found
        headers = " ".join(_norm(v) for v in raw.iloc[hdr].tolist())
        if not any(k in sheet.lower() or k in headers for k in keys):
            continue
        body = raw.iloc[hdr + 1 :]
        code = body.iloc[:, cols["code"]].astype(str).str.strip()
        body = body[code.str.match(r"^[EWSNK]\d{8}$")]
        if body.empty:
            continue
        out = pd.DataFrame(
            {
                "area_code": body.iloc[:, cols["code"]].astype(str).str.strip().to_numpy(),
                "area_name": body.iloc[:, cols["name"]].astype(str).str.strip().to_numpy() if "name" in cols else None,
                "furloughed": _numbers(body.iloc[:, cols["furloughed"]]).to_numpy(),
                "eligible": _numbers(body.iloc[:, cols["eligible"]]).to_numpy() if "eligible" in cols else np.nan,
                "take_up_pct": _numbers(body.iloc[:, cols["take_up"]]).to_numpy() if "take_up" in cols else np.nan,
            }
        )
        if out["take_up_pct"].notna().any() and out["take_up_pct"].max() <= 1.0:
            out["take_up_pct"] = out["take_up_pct"] * 100  # published as a fraction
        missing = out["take_up_pct"].isna() & out["eligible"].gt(0)
        out.loc[missing, "take_up_pct"] = 100 * out["furloughed"] / out["eligible"]
        out.attrs.update(sheet=sheet, source=name)
        return out.reset_index(drop=True)
    raise CJRSError(
        f"{name} has no {level} table with an area-code column and a furloughed column",
        hint="check it is the HMRC CJRS statistics workbook with the "
        + ("constituency" if level == "pcon" else "local authority")
        + " sheet",
    )


def fetch_cjrs(url: str, level: str = "pcon", cache: Path | None = None, timeout: float = 60.0) -> pd.DataFrame:
    """Download (or reuse from the cache) an HMRC CJRS workbook and read its ``level`` table."""
    import requests

    from leftbehind.data.sources import cache_dir

    cache = Path(cache) if cache is not None else cache_dir() / "cjrs"
    path = cache / f"{hashlib.sha256(url.encode()).hexdigest()[:24]}.xlsx"
    if not path.is_file():
        try:
            r = requests.get(url, timeout=timeout)
        except requests.exceptions.RequestException as exc:
            raise CJRSError(
                f"could not download {url} ({type(exc).__name__})",
                hint="check the network connection, or pass the downloaded file",
            ) from None
        if r.status_code != 200:
            raise CJRSError(f"{url} answered HTTP {r.status_code}", hint="check the release URL on gov.uk")
        if not r.content:
            raise CJRSError(f"{url} sent an empty file", hint="try again later")
        from leftbehind.io import atomic_path

        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_bytes(r.content)
    return read_cjrs(path.read_bytes(), level, name=url)
