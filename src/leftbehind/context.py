"""The run context: built once by the CLI, handed to every step below it.

A :class:`RunContext` holds everything about *where data comes from* and *how far to trust
it*, so that no function in ``analysis/``, ``geography/``, ``indices/``, ``report/`` or
``web/`` takes a data-folder argument or reads module-level state for it:

* the data folder given with ``--data`` (strict: a file missing from it is an error; the
  download cache, checked by sha256, may still serve it), else ``../shared/data`` beside the
  project and the cache;
* the verify policy (``--no-verify`` reads a file whose sha256 differs from the catalogue's);
* the frame memo: each dataset is located, checksummed, parsed and validated once per context;
* the provenance of every input read (dataset id, edition, file, origin, sha256, licence).

>>> from leftbehind.context import RunContext
>>> ctx = RunContext()                      # ../shared/data, verified
>>> f2 = ctx.load("imd2019_file2")          # doctest: +SKIP
>>> sorted(ctx.provenance())                # doctest: +SKIP
['imd2019_file2']

It is safe to share between a worker thread that reads ahead and the main thread: loads of one
dataset are serialised by a per-dataset lock, so a file is parsed once.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from leftbehind.data.catalogue import Catalogue
    from leftbehind.data.sources import Resolved


@dataclass(eq=False)
class RunContext:
    """Where the data is, whether to verify it, what has been read (see the module docstring)."""

    data_dir: Path | None = None
    verify: bool = True
    allow_download: bool = True
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _used: dict[str, dict[str, object]] = field(default_factory=dict, repr=False)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)
    _locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _step: str | None = field(default=None, repr=False)
    reads: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.data_dir is not None:
            self.data_dir = Path(self.data_dir).expanduser()

    # ------------------------------------------------------------ datasets

    @property
    def catalogue(self) -> Catalogue:
        from leftbehind.data.catalogue import load_catalogue

        return load_catalogue()

    def resolve(self, dataset_id: str, *, record: bool = True) -> Resolved:
        """Locate and checksum a catalogue dataset (downloading it into the cache if allowed)."""
        from leftbehind.data.sources import resolve

        res = resolve(dataset_id, self.data_dir, verify=self.verify, allow_download=self.allow_download)
        if record:
            self._used[dataset_id] = res.provenance()
        return res

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _read(self, dataset_id: str) -> pd.DataFrame:
        with self._lock(dataset_id):
            if dataset_id not in self._frames:
                from leftbehind.data import read_resolved

                self._frames[dataset_id] = read_resolved(self.resolve(dataset_id, record=False))
        return self._frames[dataset_id]

    def load(self, dataset_id: str) -> pd.DataFrame:
        """A validated frame of a catalogue dataset (a copy: callers may modify it).

        ``df.attrs['provenance']`` records the dataset id, edition, file, origin and sha256. The
        read is recorded in the provenance, and under the step running (see :meth:`step`)."""
        base = self._read(dataset_id)
        self._used[dataset_id] = base.attrs["provenance"]
        if self._step is not None and threading.current_thread() is threading.main_thread():
            self.reads.setdefault(self._step, set()).add(dataset_id)
        out = base.copy()
        out.attrs = dict(base.attrs)
        return out

    def read_ahead(self, dataset_id: str) -> None:
        """Parse and validate a dataset into the memo without recording it as read (a worker
        thread does this for the later steps while the first ones run)."""
        self._read(dataset_id)

    @contextlib.contextmanager
    def step(self, name: str):
        """Within the block, reads are recorded under step ``name`` (:attr:`reads`)."""
        before, self._step = self._step, name
        try:
            yield
        finally:
            self._step = before

    def memo(self, key: Any, make):
        """A value derived from the data, computed once per context (``make()`` on first use)."""
        lock = self._lock(f"memo:{key!r}")
        with lock:
            if key not in self._memo:
                self._memo[key] = make()
            return self._memo[key]

    # ------------------------------------------------------------ provenance

    def provenance(self) -> dict[str, dict[str, object]]:
        """Provenance of every dataset read through this context, by dataset id."""
        return dict(self._used)

    def inputs(self) -> list[dict[str, object]]:
        """:meth:`provenance` as a list sorted by dataset id (as written to summary.json)."""
        used = self.provenance()
        return [used[k] for k in sorted(used)]

    def forget_provenance(self) -> None:
        """Start a new provenance record (frames stay memoised)."""
        self._used.clear()
