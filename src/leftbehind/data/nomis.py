"""A client for the ONS Nomis API: claimant count (dataset NM_162_1) by small area and month.

Request (documented Nomis API, CSV form)::

    {base}/dataset/NM_162_1.data.csv?geography=TYPE298&date=2020-05&gender=0&age=0&measure=1
        &measures=20100&select=date,date_name,geography_code,geography_name,obs_value,record_count
        &RecordOffset=0&RecordLimit=25000

``TYPE298`` = 2011 lower layer super output areas; ``gender=0`` all persons; ``age=0`` all ages
16+; ``measure=1`` the claimant count; ``measures=20100`` the value. Nomis returns at most
``RecordLimit`` rows a call and may cut an oversized answer short with HTTP 200, so every page's
``RECORD_COUNT`` (the rows matching the whole query) is checked and pages are requested until
that many rows have arrived. Pages are cached on disk (``LEFTBEHIND_CACHE/nomis``) keyed by
their URL, so a second request for the same month needs no network. Rates use the 16-64
resident population (ONS mid-year estimates), as the 2020 research did.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd

from leftbehind.errors import DataError

NOMIS_API = "https://www.nomisweb.co.uk/api/v01"
DATASET = "NM_162_1"
GEOGRAPHIES = {"lsoa11": "TYPE298", "msoa11": "TYPE297"}
COLUMNS = ["DATE", "DATE_NAME", "GEOGRAPHY_CODE", "GEOGRAPHY_NAME", "OBS_VALUE", "RECORD_COUNT"]
_MONTH = re.compile(r"^(19|20)\d\d-(0[1-9]|1[0-2])$")


class NomisError(DataError):
    """Nomis could not be reached, answered with an error, or sent something we cannot use."""


class NomisClient:
    def __init__(
        self,
        base_url: str = NOMIS_API,
        cache: str | Path | None = None,
        page_size: int = 25_000,
        timeout: float = 60.0,
        offline: bool = False,
    ):
        from leftbehind.data.sources import cache_dir

        self.base_url = base_url.rstrip("/")
        self.cache = Path(cache) if cache is not None else cache_dir() / "nomis"
        self.page_size = int(page_size)
        self.timeout = timeout
        self.offline = offline

    def url(self, month: str, geography: str = "lsoa11", offset: int = 0) -> str:
        check_month(month)
        if geography not in GEOGRAPHIES:
            raise NomisError(
                f"unknown geography {geography!r} for the claimant count", hint="use " + " or ".join(GEOGRAPHIES)
            )
        query = {
            "geography": GEOGRAPHIES[geography],
            "date": month,
            "gender": 0,
            "age": 0,
            "measure": 1,
            "measures": 20100,
            "select": ",".join(c.lower() for c in COLUMNS),
            "RecordOffset": offset,
            "RecordLimit": self.page_size,
        }
        return f"{self.base_url}/dataset/{DATASET}.data.csv?{urlencode(query)}"

    def _cache_path(self, url: str) -> Path:
        return self.cache / f"{hashlib.sha256(url.encode()).hexdigest()[:24]}.csv"

    def cached(self, month: str, geography: str = "lsoa11") -> bool:
        return self._cache_path(self.url(month, geography, 0)).is_file()

    def _get(self, url: str) -> str:
        path = self._cache_path(url)
        if path.is_file():
            return path.read_text(encoding="utf-8")
        if self.offline:
            raise NomisError(
                "the claimant count for this month is not in the local cache and the run is offline",
                hint="fetch it once with `leftbehind claimants fetch --month YYYY-MM`",
            )
        import requests

        try:
            r = requests.get(url, timeout=self.timeout)
        except requests.exceptions.RequestException as exc:
            raise NomisError(
                f"could not reach Nomis at {self.base_url} ({type(exc).__name__})",
                hint="check the network connection; cached months work offline",
            ) from None
        if r.status_code != 200:
            raise NomisError(
                f"Nomis answered HTTP {r.status_code} for {url}",
                hint="check the month (YYYY-MM, published months only) and try again later",
            )
        text = r.content.decode("utf-8-sig", errors="replace")
        if not text.strip():
            raise NomisError(f"Nomis sent an empty answer for {url}", hint="try again later")
        from leftbehind.io import write_text

        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, text)
        return text

    def claimant_count(self, month: str, geography: str = "lsoa11") -> pd.DataFrame:
        """``geography_code, geography_name, month, claimants`` for every area, all pages."""
        pages, got, total, offset = [], 0, None, 0
        while total is None or got < total:
            url = self.url(month, geography, offset)
            page = parse_page(self._get(url), url, month)
            if total is None:
                total = int(page["RECORD_COUNT"].iloc[0]) if len(page) else 0
            if len(page) == 0:
                if got < total:
                    raise NomisError(
                        f"Nomis promised {total:,} rows for {month} but sent {got:,}: the answer was cut short",
                        hint="try again later, or a smaller page size",
                    )
                break
            pages.append(page)
            got += len(page)
            offset += len(page)
        if not pages:
            raise NomisError(
                f"Nomis has no claimant count for {month}", hint="use a published month (from 2013) in YYYY-MM form"
            )
        df = pd.concat(pages, ignore_index=True)
        if df["GEOGRAPHY_CODE"].duplicated().any():
            dup = df.loc[df["GEOGRAPHY_CODE"].duplicated(), "GEOGRAPHY_CODE"].iloc[0]
            raise NomisError(f"Nomis sent area {dup} twice for {month}", hint="clear the cache folder and fetch again")
        out = pd.DataFrame(
            {
                "geography_code": df["GEOGRAPHY_CODE"].to_numpy(),
                "geography_name": df["GEOGRAPHY_NAME"].to_numpy(),
                "month": month,
                "claimants": df["OBS_VALUE"].to_numpy(dtype="int64"),
            }
        )
        out.attrs["source"] = f"ONS Nomis {DATASET} (claimant count), {month}"
        return out


def check_month(month: str) -> None:
    if not isinstance(month, str) or not _MONTH.match(month):
        raise NomisError(f"month must be YYYY-MM, got {month!r}", hint="e.g. --month 2020-05")


def parse_page(text: str, url: str, month: str) -> pd.DataFrame:
    """Parse one Nomis CSV page and validate it (columns, codes, month, counts)."""
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise NomisError(
            f"Nomis sent something that is not CSV for {url} ({exc})", hint="the service may be down; try again later"
        ) from None
    df.columns = [str(c).strip().upper() for c in df.columns]
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise NomisError(
            f"Nomis' answer lacks column(s) {', '.join(missing)} (got {', '.join(df.columns[:8])})",
            hint="the API may have changed; check the request URL",
        )
    if len(df) == 0:
        return df
    bad_date = df["DATE"] != month
    if bad_date.any():
        raise NomisError(f"Nomis sent month {df.loc[bad_date, 'DATE'].iloc[0]!r}, asked for {month}")
    bad_code = ~df["GEOGRAPHY_CODE"].str.match(r"^[EW]0[12]\d{6}$")
    if bad_code.any():
        raise NomisError(f"Nomis sent an unexpected area code {df.loc[bad_code, 'GEOGRAPHY_CODE'].iloc[0]!r}")
    values = pd.to_numeric(df["OBS_VALUE"], errors="coerce")
    if values.isna().any() or (values < 0).any():
        raise NomisError(
            f"Nomis sent a non-numeric or negative count {df.loc[values.isna() | (values < 0), 'OBS_VALUE'].iloc[0]!r}"
        )
    df["OBS_VALUE"] = values.astype("int64")
    return df
