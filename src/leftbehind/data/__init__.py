"""The data layer: catalogue, sources (local mirror, shared folder, download cache), readers.

>>> from leftbehind.context import RunContext
>>> f2 = RunContext().load("imd2019_file2")   # tidy, validated; df.attrs["provenance"] says where from

The steps of the pipeline read data only through a :class:`~leftbehind.context.RunContext`,
which memoises frames for the run and records their provenance. :func:`load` is a convenience
for a one-off read (tests, notebooks): it builds a context of its own.

Validated frames are cached across runs as Parquet in the cache folder (``LEFTBEHIND_CACHE``),
keyed by the source file's sha256, the reader's declaration and a digest of the reader code
(``readers.py``, ``schemas.py``, ``catalogue.yaml``), so a second run with unchanged inputs
skips parsing and validation, and a change to a reader invalidates what it had cached. Set
``LEFTBEHIND_NO_FRAME_CACHE=1`` to turn the on-disk cache off.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from leftbehind.data.catalogue import Catalogue, Dataset, load_catalogue
from leftbehind.data.sources import Resolved, resolve

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Catalogue", "Dataset", "Resolved", "load", "load_catalogue", "read_resolved", "resolve"]

FRAME_CACHE_VERSION = "2"


@functools.cache
def reader_code_digest() -> str:
    """sha256 (12 hex) of the code and declarations that turn a file into a validated frame."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256(FRAME_CACHE_VERSION.encode())
    for name in ("readers.py", "schemas.py", "catalogue.py", "catalogue.yaml"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:12]


def _spec_digest(spec) -> str:
    text = repr(
        (
            reader_code_digest(),
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


def read_resolved(res: Resolved) -> pd.DataFrame:
    """Read and validate a located dataset (through the on-disk frame cache)."""
    from leftbehind.data.schemas import spec_for

    spec = spec_for(res.dataset.id)
    df = _cached_read(res, spec)
    df.attrs = {"dataset": spec.dataset, "vintage": spec.vintage, "provenance": res.provenance()}
    return df


def load(
    dataset_id: str,
    data_dir: str | Path | None = None,
    *,
    verify: bool = True,
    allow_download: bool = True,
) -> pd.DataFrame:
    """Locate, checksum, read and validate one dataset, outside any run (tests, notebooks)."""
    from leftbehind.context import RunContext

    return RunContext(data_dir, verify=verify, allow_download=allow_download).load(dataset_id)
