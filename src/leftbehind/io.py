"""Atomic output: a failed run never leaves a half-written file or folder behind.

Files are written to a temporary sibling and moved into place with :func:`os.replace`.
Folders are built in a temporary sibling; on success the old folder is moved aside, the new
one moved in, and the old one deleted; on failure the temporary folder is removed and the
previous contents are untouched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from leftbehind.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _parent(path: Path) -> Path:
    parent = path.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: folder {parent} does not exist", hint="create it first")
    return parent


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; move it onto ``path`` on success."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=_parent(path))
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def csv_to(df: pd.DataFrame, path: str | Path, decimals: int = 6) -> None:
    """Write ``df`` as CSV quickly and deterministically (pyarrow's C++ writer).

    Floats are rounded to ``decimals`` places and written in their shortest form; strings are
    quoted only when needed; missing values are empty cells.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    out = df.copy()
    floats = out.select_dtypes("floating").columns
    out[floats] = out[floats].round(decimals)
    table = pa.Table.from_pandas(out, preserve_index=False)
    pacsv.write_csv(table, str(path), pacsv.WriteOptions(quoting_style="needed"))


def write_csv(df: pd.DataFrame, path: str | Path, decimals: int = 6) -> None:
    """:func:`csv_to`, atomically."""
    with atomic_path(path) as tmp:
        csv_to(df, tmp, decimals)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Build a folder's new contents in a temporary sibling, then swap it in."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"output {path} exists and is not a folder", hint="choose another --out")
    parent = _parent(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".new", dir=parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=parent))
        os.rmdir(old)
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
