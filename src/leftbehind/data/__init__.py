"""The data layer: catalogue, sources (local mirror, shared folder, download cache), readers.

>>> from leftbehind.data import load
>>> f2 = load("imd2019_file2")          # tidy, validated; df.attrs["provenance"] says where from
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from leftbehind.data.catalogue import Catalogue, Dataset, load_catalogue
from leftbehind.data.sources import Resolved, resolve

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Catalogue", "Dataset", "Resolved", "load", "load_catalogue", "resolve"]

_FRAMES: dict[tuple[str, str, str], pd.DataFrame] = {}


def load(
    dataset_id: str,
    data_dir: str | Path | None = None,
    *,
    verify: bool = True,
    allow_download: bool = True,
) -> pd.DataFrame:
    """Locate, checksum, read and validate a catalogue dataset.

    Returns a copy of a memoised frame (keyed on the file's sha256), so repeated loads in
    one process cost nothing. ``df.attrs['provenance']`` records the dataset id, edition,
    file, origin and sha256.
    """
    from leftbehind.data.readers import read_file
    from leftbehind.data.schemas import spec_for

    spec = spec_for(dataset_id)
    res = resolve(dataset_id, data_dir, verify=verify, allow_download=allow_download)
    key = (dataset_id, str(res.path), res.sha256)
    if key not in _FRAMES:
        df = read_file(res.path, spec)
        df.attrs["provenance"] = res.provenance()
        _FRAMES[key] = df
    out = _FRAMES[key].copy()
    out.attrs = dict(_FRAMES[key].attrs)
    return out
