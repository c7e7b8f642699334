"""The data layer: catalogue, sources (local mirror, shared folder, download cache), readers.

>>> from leftbehind.data import load
>>> f2 = load("imd2019_file2")          # tidy, validated; df.attrs["provenance"] says where from

Validated frames are memoised in the process and cached across runs as Parquet in the
cache folder (``LEFTBEHIND_CACHE``), keyed by the source file's sha256 and the reader's
declaration, so a second run with unchanged inputs skips parsing and validation. Set
``LEFTBEHIND_NO_FRAME_CACHE=1`` to turn the on-disk cache off.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from leftbehind.data.catalogue import Catalogue, Dataset, load_catalogue
from leftbehind.data.sources import Resolved, resolve

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Catalogue", "Dataset", "Resolved", "load", "load_catalogue", "resolve", "used_inputs"]

_FRAMES: dict[tuple[str, str, str], pd.DataFrame] = {}
_USED: dict[str, dict[str, object]] = {}
FRAME_CACHE_VERSION = "1"


def used_inputs(reset: bool = False) -> dict[str, dict[str, object]]:
    """Provenance of every dataset loaded in this process (since the last reset)."""
    out = dict(_USED)
    if reset:
        _USED.clear()
    return out


def _spec_digest(spec) -> str:
    text = repr(
        (
            FRAME_CACHE_VERSION,
            spec.dataset,
            spec.code,
            spec.vintage,
            spec.columns,
            spec.rows,
            spec.keep_extra,
            spec.unique_code,
            spec.keep_prefix,
            getattr(spec.post, "__qualname__", None),
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _cached_read(res: Resolved, spec):
    import pandas as pd

    from leftbehind.data.readers import read_file
    from leftbehind.data.sources import cache_dir

    if os.environ.get("LEFTBEHIND_NO_FRAME_CACHE") == "1" or not res.verified:
        return read_file(res.path, spec)
    path = cache_dir() / "frames" / f"{spec.dataset}-{res.sha256[:16]}-{_spec_digest(spec)}.parquet"
    if path.is_file():
        try:
            return pd.read_parquet(path)
        except Exception:  # a damaged cache file is rebuilt, never trusted
            path.unlink(missing_ok=True)
    df = read_file(res.path, spec)
    try:
        from leftbehind.io import atomic_path

        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            df.to_parquet(tmp, index=False)
    except OSError:  # an unwritable cache only costs speed
        pass
    return df


def load(
    dataset_id: str,
    data_dir: str | Path | None = None,
    *,
    verify: bool | None = None,
    allow_download: bool = True,
) -> pd.DataFrame:
    """Locate, checksum, read and validate a catalogue dataset.

    Returns a copy of a memoised frame (keyed on the file's sha256), so repeated loads in
    one process cost nothing. ``df.attrs['provenance']`` records the dataset id, edition,
    file, origin and sha256.
    """
    from leftbehind.data.schemas import spec_for

    spec = spec_for(dataset_id)
    res = resolve(dataset_id, data_dir, verify=verify, allow_download=allow_download)
    key = (dataset_id, str(res.path), res.sha256)
    if key not in _FRAMES:
        df = _cached_read(res, spec)
        df.attrs = {"dataset": spec.dataset, "vintage": spec.vintage, "provenance": res.provenance()}
        _FRAMES[key] = df
    _USED[dataset_id] = res.provenance()
    out = _FRAMES[key].copy()
    out.attrs = dict(_FRAMES[key].attrs)
    return out
