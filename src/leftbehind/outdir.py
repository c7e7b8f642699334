"""The output folder as a model: a leftbehind folder, its marker and its sections.

Every command writes into an *output folder* (``--out``, default ``out``). A folder is
leftbehind's when it carries the marker file ``.leftbehind`` (or, for folders written before the
marker existed, a ``summary.json`` of a run). Writing into a non-empty folder without one is
refused (:class:`~leftbehind.errors.UsageError`, exit 2) unless ``--force`` is given, so a user's
files are never overwritten or deleted by accident.

An output folder holds **sections**, each written by one command and by no other:

========================  ==========================  =================================
section                   written by                  key
========================  ==========================  =================================
(the folder itself)       ``run`` (and ``report``)    the run's files, listed in the marker
``robustness/<edition>``  ``robustness``              edition id
``history``               ``history``                 (one per folder)
``spatial/<ed>-<unit>``   ``spatial``                 edition id and unit id
``target/<name>``         ``target``                  rule name (or ``A-vs-B``)
``profile/<name>``        ``profile``                 the areas file's stem (``--name``)
``designations/<name>``   ``designations match``      the list file's stem
``audit/<spec>``          ``index audit``             index spec name
========================  ==========================  =================================

* A section is written atomically (:func:`leftbehind.io.atomic_dir`): the old one stays whole
  until the new one is complete. Two editions or two units are two sections and never overwrite
  each other.
* ``run`` replaces only the entries it wrote the time before (listed in the marker) and the ones
  it writes now; it stages everything first and swaps each entry in, moving the previous ones
  back if a swap fails. The later sections are kept. With ``--clean`` they are removed (only
  sections carrying leftbehind's section record; nothing else).
* Each section's ``summary.json`` carries a ``section`` record: the command, edition, unit, the
  options it was made with, when, and ``based_on``, the key of the run it was made from
  (:func:`run_key`). A section is **stale** when the folder's run has another key now (re-run with
  other options, inputs or version): ``run`` lists the sections with their state in its
  ``summary.json`` and the report shows them.

>>> from leftbehind.outdir import section_path
>>> section_path("spatial", "2025-lsoa21")
'spatial/2025-lsoa21'
>>> section_path("history", None)
'history'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from leftbehind.errors import UsageError

MARKER = ".leftbehind"
FORMAT = "leftbehind-output-folder"
FORMAT_VERSION = 1

#: section kind -> (the command that writes it, whether it has a key: kind/<key>/)
SECTIONS: dict[str, tuple[str, bool]] = {
    "robustness": ("robustness", True),
    "history": ("history", False),
    "spatial": ("spatial", True),
    "target": ("target", True),
    "profile": ("profile", True),
    "designations": ("designations match", True),
    "audit": ("index audit", True),
}
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def section_path(kind: str, key: str | None) -> str:
    """The section's folder, relative to the output folder."""
    if kind not in SECTIONS:
        raise ValueError(f"unknown section kind {kind!r}")
    keyed = SECTIONS[kind][1]
    if keyed != (key is not None):
        raise ValueError(f"section {kind!r} {'needs' if keyed else 'takes no'} key")
    return kind if key is None else f"{kind}/{key}"


def section_key(name: str) -> str:
    """A file-safe section key from a user-supplied name (letters, digits, ``.``, ``_``, ``-``)."""
    key = re.sub(r"-+\.", ".", re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip())).strip("-.")[:80]
    if not key or not _KEY.match(key):
        raise UsageError(f"{name!r} cannot name a section", hint="use letters, digits, '-', '_' or '.'")
    return key


def run_key(summary: dict) -> str:
    """The key of a run: a digest of its options, its inputs' sha256 and the version.

    Equal keys mean the same run (a re-run with the same options on the same data keeps the later
    sections fresh); any difference makes the sections made from the earlier run stale."""
    basis = {
        "options": summary.get("options"),
        "inputs": sorted(str(i.get("sha256")) for i in summary.get("inputs") or [] if isinstance(i, dict)),
        "version": summary.get("leftbehind_version"),
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SectionInfo:
    """A section found in an output folder, with its record (see the module docstring)."""

    kind: str
    key: str | None
    path: str
    command: str
    edition: str | None
    unit: str | None
    options: dict
    made: str | None
    based_on: str | None
    stale: bool
    reason: str

    @property
    def label(self) -> str:
        bits = [b for b in (self.edition and f"edition {self.edition}", self.unit and f"unit {self.unit}") if b]
        return f"{self.path} ({', '.join(bits)})" if bits else self.path

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "command": self.command,
            "edition": self.edition,
            "unit": self.unit,
            "options": self.options,
            "made": self.made,
            "based_on": self.based_on,
            "stale": self.stale,
            "reason": self.reason,
        }


def section_record(
    kind: str,
    key: str | None,
    *,
    edition: str | None = None,
    unit: str | None = None,
    options: dict | None = None,
    based_on: str | None = None,
) -> dict:
    """The ``section`` record a command puts in its section's summary.json."""
    from leftbehind import __version__
    from leftbehind.analysis.results import utc_now

    return {
        "kind": kind,
        "key": key,
        "path": section_path(kind, key),
        "command": SECTIONS[kind][0],
        "edition": edition,
        "unit": unit,
        "options": options or {},
        "made": utc_now(),
        "based_on": based_on,
        "leftbehind_version": __version__,
    }


class OutputFolder:
    """An output folder (see the module docstring). Nothing is created until :meth:`prepare`."""

    def __init__(self, path: str | Path, *, force: bool = False):
        self.path = Path(path)
        self.force = force

    # ------------------------------------------------------------ what is there

    def marker(self) -> dict | None:
        """The marker's content, ``{}`` for a folder of a run made before the marker, else None."""
        f = self.path / MARKER
        if f.is_file():
            try:
                info = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                info = None
            if isinstance(info, dict) and info.get("format") == FORMAT:
                return info
            return None
        if self._legacy_run():
            return {}
        return None

    def _legacy_run(self) -> bool:
        try:
            info = json.loads((self.path / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(info, dict) and "leftbehind_version" in info and "options" in info

    def is_ours(self) -> bool:
        return self.marker() is not None

    def run_summary(self) -> dict | None:
        """The folder's run summary (summary.json at its root), or None if it holds no run."""
        if not self.is_ours():
            return None
        try:
            info = json.loads((self.path / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return info if isinstance(info, dict) and "options" in info and "leftbehind_version" in info else None

    def run_options(self) -> dict | None:
        s = self.run_summary()
        return dict(s["options"]) if s else None

    def current_run_key(self) -> str | None:
        s = self.run_summary()
        return run_key(s) if s else None

    def sections(self, against: str | None = None) -> list[SectionInfo]:
        """Every section in the folder carrying a section record, in path order; stale against the
        run key ``against`` (default: the folder's run now)."""
        found: list[SectionInfo] = []
        if not self.path.is_dir():
            return found
        now = against if against is not None else self.current_run_key()
        for kind, (_, keyed) in SECTIONS.items():
            base = self.path / kind
            if not base.is_dir():
                continue
            folders = sorted(p for p in base.iterdir() if p.is_dir()) if keyed else [base]
            for folder in folders:
                rec = _read_record(folder / "summary.json")
                if rec is None or rec.get("kind") != kind:
                    continue
                key = folder.name if keyed else None
                based = rec.get("based_on")
                if now is None:
                    stale, reason = False, "no run in the folder"
                elif based is None:
                    stale, reason = True, "made before the folder's run"
                elif based != now:
                    stale, reason = True, "made from an earlier run with other options, inputs or version"
                else:
                    stale, reason = False, "made from the folder's run"
                found.append(
                    SectionInfo(
                        kind=kind,
                        key=key,
                        path=section_path(kind, key),
                        command=str(rec.get("command", SECTIONS[kind][0])),
                        edition=rec.get("edition"),
                        unit=rec.get("unit"),
                        options=dict(rec.get("options") or {}),
                        made=rec.get("made"),
                        based_on=based,
                        stale=stale,
                        reason=reason,
                    )
                )
        return found

    # ------------------------------------------------------------ preparing

    def check(self) -> OutputFolder:
        """Fail early, before any work, if the folder may not be written (nothing is created).

        A missing folder needs an existing, writable parent. An empty folder, or one of ours, may be
        written. A non-empty folder without the marker is refused unless ``force``."""
        from leftbehind.io import check_writable

        p = self.path
        if p.exists() and not p.is_dir():
            raise UsageError(f"output {p} exists and is not a folder", hint="choose another --out")
        if p.is_dir():
            if not self.is_ours() and _non_empty(p) and not self.force:
                raise UsageError(
                    f"output folder {p} is not empty and is not a leftbehind output folder (it has no {MARKER} "
                    "marker), so nothing was written: leftbehind never writes among a user's files",
                    hint=f"choose a new or empty folder (e.g. --out {p / 'leftbehind'}), or pass --force to add "
                    "leftbehind's files to it (nothing already there is deleted; files of the same name are replaced)",
                )
            check_writable(p / ".leftbehind-write-check")  # a probe: makes and removes a marked work folder
        else:
            check_writable(p)
        return self

    def prepare(self) -> OutputFolder:
        """:meth:`check`, then create the folder if it is missing and write the marker."""
        self.check()
        p = self.path
        if not p.is_dir():
            try:
                p.mkdir()
            except FileExistsError:
                pass
            except OSError as exc:
                from leftbehind.io import _write_error

                raise _write_error(exc, p, p.parent) from exc
        if (p / MARKER).is_file() and self.marker() is not None:
            return self
        self._write_marker(self.marker() or {})
        return self

    def options_for(
        self, given: dict, *, command: str, names: tuple[str, ...] | None = None
    ) -> tuple[dict, str | None]:
        """The run options a later command uses: the folder's run's, where a flag was not given.

        ``given``: option name -> the value typed on the command line, or None if the flag was not
        given. A given value that contradicts the folder's run is refused (exit 2). Returns the
        options (names given or in the run) and the run key the section is based on (None if the
        folder holds no run)."""
        run = self.run_options()
        out = {k: v for k, v in given.items() if v is not None}
        if run is None:
            return out, None
        from leftbehind.options import BY_NAME

        for name in names if names is not None else tuple(given):
            if name not in run:
                continue
            if given.get(name) is None:
                out[name] = run[name]
            elif not _same(given[name], run[name]):
                flag = BY_NAME[name].flag if name in BY_NAME else f"--{name.replace('_', '-')}"
                raise UsageError(
                    f"{command}: {flag} {_show(given[name])} contradicts the run in {self.path}, which was made with "
                    f"{flag} {_show(run[name])}",
                    hint=f"leave {flag} out to use the run's value, re-run `leftbehind run --out {self.path} "
                    f"{flag} {_show(given[name])}` first, or write to another --out",
                )
        return out, self.current_run_key()

    def _write_marker(self, info: dict) -> None:
        from leftbehind.io import write_text

        body = {"format": FORMAT, "version": FORMAT_VERSION, **{k: v for k, v in info.items() if k != "format"}}
        body["version"] = FORMAT_VERSION
        body.setdefault(
            "about",
            "This folder was written by leftbehind. Each command writes only its own section; "
            "see summary.json and report.html.",
        )
        write_text(self.path / MARKER, json.dumps(body, indent=2, sort_keys=True) + "\n")

    # ------------------------------------------------------------ writing

    @contextlib.contextmanager
    def section(self, kind: str, key: str | None) -> Iterator[Path]:
        """Build a section's new contents in a temporary folder; swap it in whole on success."""
        from leftbehind.io import atomic_dir

        rel = section_path(kind, key)
        target = self.path / rel
        if SECTIONS[kind][1]:
            (self.path / kind).mkdir(exist_ok=True)
        with atomic_dir(target) as tmp:
            yield tmp

    def write_run(self, build: Callable[[Path], list[str]]) -> list[str]:
        """Write the run's own entries: ``build(folder)`` writes them into a staging folder; each
        top-level entry is then swapped in (the previous one moved back if any swap fails). Entries
        the previous run wrote and this one does not are removed; later sections are kept."""
        from leftbehind.io import _clean_stale, _discard, _make_work, _write_error

        root = self.path
        _clean_stale(root)
        work = _make_work(root, "leftbehind-run", ".new", "dir", root)
        new, prev = work / "new", work / "prev"
        moved_in: list[str] = []
        moved_out: list[str] = []
        try:
            os.mkdir(new)
            os.mkdir(prev)
            try:
                written = build(new)
            except Exception as exc:  # a full disk while staging is the user's to fix, not a bug
                err = _write_error(exc, root, root, inside=True)
                if err is exc:
                    raise
                raise err from exc
            top = sorted(os.listdir(new))
            clash = sorted(set(top) & (set(SECTIONS) | {MARKER}))
            if clash:
                raise RuntimeError(f"the run tried to write section folders {clash}")
            before = set((self.marker() or {}).get("run_entries") or [])
            gone = sorted(n for n in before - set(top) if n not in SECTIONS and n != MARKER)
            try:
                for name in [*top, *gone]:
                    if os.path.lexists(root / name):
                        os.replace(root / name, prev / name)
                        moved_out.append(name)
                    if name in top:
                        os.replace(new / name, root / name)
                        moved_in.append(name)
            except BaseException as exc:
                for name in reversed(moved_in):
                    with contextlib.suppress(OSError):
                        os.replace(root / name, new / name)
                for name in reversed(moved_out):
                    with contextlib.suppress(OSError):
                        os.replace(prev / name, root / name)
                if isinstance(exc, OSError):
                    raise _write_error(exc, root, root) from exc
                raise
            info = self.marker() or {}
            info["run_entries"] = top
            self._write_marker(info)
        finally:
            _discard(work)
        return written

    def add_run_entries(self, written: list[str]) -> None:
        """Record more top-level entries as the run's (``report`` adding the exports to a run folder)."""
        info = self.marker()
        if info is None:
            return
        names = {w.split("/", 1)[0] for w in written} - set(SECTIONS) - {MARKER}
        have = set(info.get("run_entries") or [])
        if names - have:
            info["run_entries"] = sorted(have | names)
            self._write_marker(info)

    def clean_sections(self) -> list[str]:
        """Remove every section carrying leftbehind's record (``run --clean``); return their paths."""
        import shutil

        removed = []
        for s in self.sections():
            shutil.rmtree(self.path / s.path, ignore_errors=True)
            removed.append(s.path)
            parent = (self.path / s.path).parent
            if parent != self.path:
                with contextlib.suppress(OSError):
                    parent.rmdir()  # only if now empty
        return removed


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return [str(x) for x in (a if isinstance(a, (list, tuple)) else str(a).split(","))] == [
            str(x) for x in (b if isinstance(b, (list, tuple)) else str(b).split(","))
        ]
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) < 1e-12
        except (TypeError, ValueError):
            return False
    return str(a) == str(b)


def _show(v) -> str:
    return ",".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)


def _read_record(f: Path) -> dict | None:
    try:
        info = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    rec = info.get("section") if isinstance(info, dict) else None
    return rec if isinstance(rec, dict) else None


def _non_empty(p: Path) -> bool:
    try:
        with os.scandir(p) as it:
            return any(True for _ in it)
    except OSError:
        return True
