"""Where a dataset's file comes from, and whether it is intact.

Resolution order for a catalogue dataset (first hit wins):

1. an explicit mirror directory: ``--data DIR`` or the ``LEFTBEHIND_DATA`` environment
   variable, laid out like ``../shared/data``. When one is given it is the only local folder
   searched: a file missing from it is an error naming the file (never silently taken from
   ``../shared/data``);
2. otherwise ``../shared/data`` beside the project checkout (or beside the working directory),
   unless ``LEFTBEHIND_SEARCH_SHARED=0``;
3. the user cache (``LEFTBEHIND_CACHE``, else the platform cache dir), filled on demand
   by downloading the dataset's ``download_url`` with :mod:`pooch`, which checks the sha256
   and moves the file into place atomically.

A file found locally is checked against the catalogue's sha256 unless ``verify=False``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from leftbehind.data.catalogue import Catalogue, Dataset, load_catalogue
from leftbehind.errors import ChecksumError, DataError, DownloadError

ENV_DATA = "LEFTBEHIND_DATA"
ENV_CACHE = "LEFTBEHIND_CACHE"
ENV_SEARCH_SHARED = "LEFTBEHIND_SEARCH_SHARED"  # "0" turns off step 2 (used by tests)

_PROJECT_ROOT = Path(__file__).resolve().parents[3]
_HASHES: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class Resolved:
    """A dataset located on disk."""

    dataset: Dataset
    path: Path
    origin: str  # "mirror" (--data / LEFTBEHIND_DATA), "shared", or "cache"
    sha256: str
    verified: bool  # True when sha256 equals the catalogue's

    def provenance(self) -> dict[str, object]:
        return {
            "dataset": self.dataset.id,
            "title": self.dataset.title,
            "edition": self.dataset.edition,
            "file": str(self.path),
            "origin": self.origin,
            "sha256": self.sha256,
            "sha256_matches_catalogue": self.verified,
            "licence": self.dataset.licence,
        }


def sha256_of(path: Path) -> str:
    """sha256 of a file, memoised on (path, size, mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _HASHES[key] = h.hexdigest()
    return _HASHES[key]


def data_dirs(data_dir: str | Path | None = None) -> list[tuple[str, Path]]:
    """The local directories searched, in order, as (origin, path)."""
    dirs: list[tuple[str, Path]] = []
    explicit = data_dir if data_dir is not None else os.environ.get(ENV_DATA) or None
    if explicit is not None:
        p = Path(explicit).expanduser()
        if not p.is_dir():
            raise DataError(
                f"data directory {str(p)!r} does not exist or is not a directory",
                hint=f"pass --data with a folder laid out like ../shared/data, or unset {ENV_DATA}",
            )
        return [("mirror", p)]  # strict: an explicit folder is the only local one searched
    if os.environ.get(ENV_SEARCH_SHARED, "1") == "0":
        return dirs
    for base in (_PROJECT_ROOT, Path.cwd()):
        shared = base.parent / "shared" / "data"
        if shared.is_dir() and all(shared.resolve() != d.resolve() for _, d in dirs):
            dirs.append(("shared", shared))
    return dirs


def cache_dir() -> Path:
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("leftbehind"))


def _check(ds: Dataset, path: Path, origin: str, verify: bool) -> Resolved:
    actual = sha256_of(path)
    ok = ds.sha256 is not None and actual == ds.sha256
    if verify and ds.sha256 is not None and not ok:
        raise ChecksumError(
            f"dataset {ds.id}: checksum mismatch for {path} (sha256 {actual[:12]}…, "
            f"catalogue expects {ds.sha256[:12]}…): the file is corrupt, truncated or a "
            "different edition",
            hint="restore the original file (see `leftbehind data list` for its source), or pass "
            "--no-verify to read a deliberately different copy",
        )
    return Resolved(ds, path, origin, actual, ok)


def locate(ds: Dataset, data_dir: str | Path | None = None, *, verify: bool = True) -> Resolved | None:
    """Find a dataset locally (mirror or shared folder, then the cache); None if absent everywhere.

    A file in the download cache is served only when its sha256 matches the catalogue's (the
    cache is never a place for deliberately different copies)."""
    candidates: list[tuple[str, Path]] = []
    if ds.file:
        candidates += [(origin, d / ds.file) for origin, d in data_dirs(data_dir)]
    candidates.append(("cache", cache_dir() / ds.id / ds.filename))
    for origin, path in candidates:
        if origin == "cache":
            if path.is_file():
                return _check(ds, path, origin, True)
        elif path.exists() and not path.is_file():
            raise DataError(
                f"dataset {ds.id}: {path} is not a file (found a {'folder' if path.is_dir() else 'special file'})",
                hint=f"put the file {ds.file} there (source: {ds.url or ds.mirror_source})",
            )
        elif path.is_file():
            return _check(ds, path, origin, verify)
    return None


def download(ds: Dataset, *, progress: bool = False) -> Resolved:
    """Download a dataset from its ``download_url`` into the cache (atomic, sha256-checked)."""
    if not ds.download_url:
        raise DataError(
            f"dataset {ds.id} ({ds.title}) is not available locally and has no download URL",
            hint=f"place {ds.file} under a folder passed with --data (source: {ds.url or ds.mirror_source})",
        )
    import pooch
    import requests

    target = cache_dir() / ds.id
    known = f"sha256:{ds.sha256}" if ds.sha256 else None
    try:
        fname = pooch.retrieve(
            ds.download_url,
            known_hash=known,
            fname=ds.filename,
            path=target,
            progressbar=progress,
        )
    except ValueError as exc:
        if "does not match the known hash" not in str(exc):
            raise
        got = str(exc).split("but got ")[-1].split(".")[0]
        raise ChecksumError(
            f"dataset {ds.id}: the file downloaded from {ds.download_url} has sha256 {got}, but the "
            f"catalogue expects {ds.sha256}; the download was discarded",
            hint="the publisher may have replaced the file; check the source and update the catalogue",
        ) from None
    except requests.exceptions.HTTPError as exc:
        raise DownloadError(
            f"dataset {ds.id}: download from {ds.download_url} failed: HTTP "
            f"{exc.response.status_code if exc.response is not None else '?'}",
            hint="check the URL in the catalogue, or place the file under --data",
        ) from None
    except (requests.exceptions.RequestException, OSError) as exc:
        raise DownloadError(
            f"dataset {ds.id}: could not download {ds.download_url}: {type(exc).__name__}",
            hint="check your network connection, or place the file under --data",
        ) from None
    path = Path(fname)
    return Resolved(ds, path, "cache", sha256_of(path), ds.sha256 is not None)


def resolve(
    dataset: str | Dataset,
    data_dir: str | Path | None = None,
    *,
    verify: bool = True,
    allow_download: bool = True,
    catalogue: Catalogue | None = None,
) -> Resolved:
    """Locate a dataset, downloading it when it is nowhere local."""
    ds = dataset if isinstance(dataset, Dataset) else (catalogue or load_catalogue())[dataset]
    found = locate(ds, data_dir, verify=verify)
    if found is not None:
        return found
    explicit = data_dir if data_dir is not None else os.environ.get(ENV_DATA) or None
    if explicit is not None and not ds.download_url:
        raise DataError(
            f"dataset {ds.id} ({ds.title}) is not available locally: {ds.file} is missing from the data folder "
            f"{explicit} given with --data (and it is not in the download cache {cache_dir()})",
            hint=f"place {ds.file} under a folder passed with --data (here {explicit}); source: "
            f"{ds.url or ds.mirror_source}. Or leave out --data to use ../shared/data",
        )
    if not allow_download:
        searched = ", ".join(str(d) for _, d in data_dirs(data_dir)) or "no local data folder"
        raise DataError(
            f"dataset {ds.id}: file {ds.file or ds.filename} not found (searched {searched} and "
            f"the cache {cache_dir()})",
            hint=f"pass --data with a folder laid out like ../shared/data, or run `leftbehind data fetch {ds.id}`",
        )
    return download(ds)


def status(ds: Dataset, data_dir: str | Path | None = None) -> tuple[str, Resolved | None]:
    """'present', 'corrupt' or 'missing' (with the located file, if any)."""
    try:
        found = locate(ds, data_dir, verify=False)
    except DataError:
        raise
    if found is None:
        return "missing", None
    if ds.sha256 is None:
        return "present (unpinned)", found
    return ("present" if found.verified else "corrupt"), found
