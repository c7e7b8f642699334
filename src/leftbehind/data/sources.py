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

import contextlib
import functools
import hashlib
import itertools
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


# ---------------------------------------------------------------- derived values, cached across runs
#
# Some values derived from the data are costly (the ward IMD of every construction, the index
# rebuilds, the uncertainty ensemble) and depend only on their inputs and the code. They are
# cached in ``<cache>/derived``, keyed by
#
# * what is computed (``kind`` and its parameters: options, or a digest of in-memory inputs),
# * the sha256 of every catalogue dataset the computation is declared to depend on,
# * a digest of the package's code and declarations (every .py and .yaml file but those of the
#   layers that only present results: the report, the web API, the command line) and the versions
#   of the numerical libraries: any change to either misses every entry.
#
# A hit records the provenance of the datasets the computation read when it was made, exactly as
# reading them would, so the run's ``summary.json`` does not depend on the cache. The cache is off
# with ``LEFTBEHIND_NO_FRAME_CACHE=1``; an unwritable or damaged entry only costs speed.

DERIVED_CACHE_VERSION = "1"
_READS = "__leftbehind_reads__"
_LIBRARIES = ("numpy", "pandas", "scipy", "pyarrow")


#: what only presents or serves results (nothing that computes a value imports it): left out of the digest
_PRESENTATION = ("report/", "web/", "cli.py", "serve.py", "outdir.py", "api.py")


@functools.cache
def package_digest() -> str:
    """sha256 (16 hex) of the package's code and declarations (:data:`_PRESENTATION` left out) and
    the numerical libraries' versions."""
    import importlib

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(DERIVED_CACHE_VERSION.encode())
    for lib in _LIBRARIES:
        h.update(f"{lib}={getattr(importlib.import_module(lib), '__version__', '?')};".encode())
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        keep = p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts and not rel.startswith(_PRESENTATION)
        if keep and p.is_file():
            h.update(rel.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def digest_of(*values) -> str:
    """sha256 (24 hex) of in-memory values: arrays by dtype, shape and bytes (text element by
    element), sparse matrices by their arrays, frames by columns, dtypes, index and values,
    dataclasses and pydantic models field by field (private fields left out), containers element
    by element. An array met twice (the same object) is digested once."""
    h = hashlib.sha256()
    seen: dict[int, int] = {}
    for v in values:
        _feed(h, v, seen)
    return h.hexdigest()[:24]


def _feed(h, v, seen: dict[int, int]) -> None:
    import dataclasses

    import numpy as np
    import pandas as pd

    if isinstance(v, np.ndarray):
        if id(v) in seen:
            h.update(f"same{seen[id(v)]}".encode())
            return
        seen[id(v)] = len(seen)
        h.update(f"nd{v.dtype.str}{v.shape}".encode())
        if v.dtype.kind in "OUS":
            h.update("\x1f".join("\x00" if x is None else f"{type(x).__name__}:{x}" for x in v.ravel()).encode())
        else:
            h.update(np.ascontiguousarray(v).tobytes())
    elif hasattr(v, "tocsr") and hasattr(v, "nnz"):  # a scipy sparse matrix
        m = v.tocsr()
        h.update(f"sparse{type(v).__name__}{m.shape}".encode())
        for a in (m.data, m.indices, m.indptr):
            _feed(h, a, seen)
    elif isinstance(v, pd.DataFrame):
        h.update(b"frame")
        _feed(h, [str(c) for c in v.columns], seen)
        _feed(h, v.index.to_numpy(), seen)
        for c in v.columns:
            s = v[c]
            h.update(str(s.dtype).encode())
            _feed(h, s.isna().to_numpy(), seen)
            _feed(h, s.to_numpy(dtype=object) if s.dtype.kind not in "biuf" else s.to_numpy(), seen)
    elif isinstance(v, pd.Series):
        _feed(h, v.to_frame(), seen)
    elif isinstance(v, dict):
        h.update(f"dict{len(v)}".encode())
        for k in sorted(v, key=repr):
            _feed(h, k, seen)
            _feed(h, v[k], seen)
    elif isinstance(v, (list, tuple)):
        h.update(f"seq{len(v)}".encode())
        for x in v:
            _feed(h, x, seen)
    elif dataclasses.is_dataclass(v) and not isinstance(v, type):
        h.update(type(v).__qualname__.encode())
        for f in dataclasses.fields(v):
            if not f.name.startswith("_"):
                _feed(h, f.name, seen)
                _feed(h, getattr(v, f.name), seen)
    elif hasattr(v, "model_dump_json"):  # a pydantic model
        h.update(type(v).__qualname__.encode() + v.model_dump_json().encode())
    elif v is None or isinstance(v, (str, int, float, bool, np.generic)):
        h.update(f"{type(v).__name__}:{v!r}".encode())
    else:
        raise TypeError(f"digest_of: no digest for a {type(v).__name__}")


def cached_frame(ctx, kind: str, params, make, *, datasets=()):
    """``make()`` (a DataFrame, its ``attrs`` JSON-able), cached on disk (Parquet) across runs."""
    return _derived(ctx, kind, params, datasets, make, ".parquet", _dump_frame, _load_frame)


def cached_arrays(ctx, kind: str, params, make, *, datasets=()):
    """``make()`` (a dict of numpy arrays, text arrays included, and JSON-able values), cached on disk
    (``.npz``, read without pickle) across runs."""
    return _derived(ctx, kind, params, datasets, make, ".npz", _dump_arrays, _load_arrays)


def _derived(ctx, kind, params, datasets, make, suffix, dump, load):
    path = _derived_path(ctx, kind, params, datasets, suffix)
    if path is None:
        return make()
    if path.is_file():
        try:
            value, reads = load(path)
        except Exception:  # a damaged cache file is rebuilt, never trusted
            path.unlink(missing_ok=True)
        else:
            _replay(ctx, reads)
            return value
    with _capture(ctx) as reads:
        value = make()
    if reads <= set(datasets):  # a read not declared would not be in the key: such a value is not kept
        _store(path, value, sorted(reads), dump)
    return value


def _derived_path(ctx, kind: str, params, datasets, suffix: str) -> Path | None:
    import threading

    if os.environ.get("LEFTBEHIND_NO_FRAME_CACHE") == "1" or (ctx is None and datasets):
        return None
    if threading.current_thread() is not threading.main_thread():  # reads are recorded on the main thread only
        return None
    try:
        # the whole provenance (file, origin, sha256): a value never carries another file's path
        shas = [tuple(sorted(ctx.resolve(d, record=False).provenance().items())) for d in sorted(set(datasets))]
    except Exception:  # a dataset missing or corrupt: computing says what is wrong
        return None
    key = hashlib.sha256(repr((kind, params, shas)).encode()).hexdigest()[:24]
    return cache_dir() / "derived" / f"{kind}-{package_digest()}-{key}{suffix}"


def memo(ctx, key, make):
    """``ctx.memo(key, make)`` that remembers the datasets ``make()`` read: a value being made for
    the disk cache that uses the memoised one counts them among its own reads (its cache entry then
    records them on a hit, as reading them would). Outside such a value nothing more is recorded."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return ctx.memo(("memo:thread", key), make)

    def made():
        with _capture(ctx) as reads:
            value = make()
        return value, frozenset(reads)

    value, reads = ctx.memo(("memo:reads", key), made)
    step = getattr(ctx, "_step", None)
    if reads and isinstance(step, str) and step.startswith(_CAPTURE):  # a value being made for the disk cache
        ctx.reads.setdefault(step, set()).update(reads)
    return value


@contextlib.contextmanager
def _capture(ctx):
    """Collect the datasets read (``ctx.load``) inside the block; they stay recorded under the
    step running."""
    reads: set[str] = set()
    if ctx is None or not hasattr(ctx, "step"):  # in-memory inputs (or a bare context): no reads recorded
        yield reads
        return
    outer = getattr(ctx, "_step", None)
    name = f"{_CAPTURE}{next(_CAPTURES)}"
    try:
        with ctx.step(name):
            yield reads
    finally:
        reads |= ctx.reads.pop(name, set())
        if outer is not None and reads:
            ctx.reads.setdefault(outer, set()).update(reads)


_CAPTURES = itertools.count()
_CAPTURE = "\0derived-"  # the name of the pseudo-step that collects a value's reads


def _replay(ctx, reads) -> None:
    """Record the datasets a cached value was made from, as reading them would have."""
    if ctx is None:
        return
    for d in sorted(reads):
        ctx.resolve(d)
    step = getattr(ctx, "_step", None)
    if step is not None and reads:
        ctx.reads.setdefault(step, set()).update(reads)


def _store(path: Path, value, reads: list[str], dump) -> None:
    try:
        from leftbehind.io import atomic_path

        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            dump(value, tmp, reads)
        kind_version = path.name.rsplit("-", 1)[0]
        kind = kind_version.rsplit("-", 1)[0]
        for old in path.parent.glob(f"{kind}-*{path.suffix}"):  # entries made by other code
            if old.name.rsplit("-", 1)[0] != kind_version and old.name.rsplit("-", 2)[0] == kind:
                old.unlink(missing_ok=True)
    except Exception:  # an unwritable cache, or a value that cannot be stored, only costs speed
        pass


def _dump_frame(df, path: Path, reads: list[str]) -> None:
    text = [c for c in df.columns if df[c].dtype == object]  # Parquet reads text back as str: cast back
    for c in text:
        if not all(isinstance(x, str) for x in df[c]):
            raise TypeError(f"column {c}: only text object columns are stored")
    out = df.copy(deep=False)
    out.attrs = {**df.attrs, _READS: {"reads": reads, "object": text}}
    out.to_parquet(path)


def _load_frame(path: Path):
    import pandas as pd

    df = pd.read_parquet(path)
    meta = df.attrs.pop(_READS)
    for c in meta["object"]:
        df[c] = df[c].astype(object)
    return df, set(meta["reads"])


def _dump_arrays(value: dict, path: Path, reads: list[str]) -> None:
    import json

    import numpy as np

    arrays, meta = {}, {"reads": reads, "text": [], "json": {}}
    for k, v in value.items():
        if isinstance(v, np.ndarray) and v.dtype == object:
            if not all(isinstance(x, str) for x in v.ravel()):
                raise TypeError(f"array {k}: only text object arrays are stored")
            arrays[k] = v.astype(str)
            meta["text"].append(k)
        elif isinstance(v, np.ndarray):
            arrays[k] = v
        else:
            meta["json"][k] = v
    arrays[_READS] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _load_arrays(path: Path):
    import json

    import numpy as np

    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(z[_READS].tobytes().decode())
        out = {k: z[k] for k in z.files if k != _READS}
    for k in meta["text"]:
        out[k] = out[k].astype(object)
    out.update(meta["json"])
    return out, set(meta["reads"])
