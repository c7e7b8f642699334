"""Atomic output: a failed run never leaves a half-written file or folder behind.

Files (:func:`atomic_path`) are written inside a temporary *work folder* next to the target and
moved into place with :func:`os.replace`. Folders (:func:`atomic_dir`) are built inside a work
folder next to the target; on success the old folder is moved aside (into the same work folder),
the new one moved in, and the old one deleted; on any failure, inside the block or during the
swap, the old folder is moved back, the work folder is removed and the previous contents are
untouched.

Work folders and their marker
-----------------------------
A work folder is a hidden sibling of the target, ``.NAME.XXXXXXXX.tmp`` (for a file) or
``.NAME.XXXXXXXX.new`` (for a folder), holding:

* ``.leftbehind-temporary``: the *marker*, a small JSON object written right after the folder is
  created: ``token`` (always ``leftbehind-temporary-v1``), the owner's ``pid``, ``host``
  (:func:`socket.gethostname`), ``boot`` (the kernel's boot id), ``pidns`` (its pid namespace),
  ``start`` (the process's start time in clock ticks since boot, from ``/proc/PID/stat``), the
  ``target``'s name, the ``kind`` (``file``/``dir``) and ``created`` (a Unix time);
* the payload the caller writes: a file named like the target (so tools that look at the suffix
  still see it), or the folder ``new``;
* during the swap only, ``old``: the previous folder, moved aside.

The marker is deleted last when a work folder is removed, so an interrupted removal is finished
by a later run.

Stale temporaries from killed runs
----------------------------------
A run killed without a chance to clean up (SIGKILL, power loss, out-of-memory killer) leaves
its work folder behind. Whenever :func:`atomic_path` or :func:`atomic_dir` starts writing to a
folder, it first removes the *stale* work folders in that folder. Only folders carrying a valid
marker with our token are ever considered: anything else, whatever its name, is left alone. A
marked work folder is stale when

* its owner released it (``"released": true``: it could not finish removing it itself), or
* it was made on this host (same host name) and

  - in an earlier boot of the machine (different boot id: every process of that boot is gone), or
  - in our pid namespace and its owner process is gone: ``pid`` is not running, is a zombie, or
    is now a different process (its start time differs from the marker's: the pid was reused).

Everything else is kept: a live owner's work (two concurrent runs never destroy each other's
temporaries; the owner may be this very process, e.g. another thread), and markers from other
hosts or other pid namespaces (containers sharing the folder), whose owners we cannot see. Host
names must therefore tell apart the machines that share an output folder. On Windows nothing is
ever judged stale. If a stale folder still holds ``old`` (the run was killed between the two
moves of a swap) and the target is missing, ``old`` is moved back to the target first, so even
a kill mid-swap never loses the previous output. The only unmarked debris a kill can leave is
the empty work folder of a run killed in the microseconds between creating it and writing its
marker.

Errors
------
A target whose folder does not exist, is a file, or cannot be written (permission denied,
read-only file system, disk full) raises :class:`~leftbehind.errors.UsageError` naming the
folder and how to fix it. For unwritable folders the error is :class:`OutputNotWritable`, which
is also an :class:`OSError`, so callers treating an unwritable cache as a mere slowdown
(``except OSError``) keep working.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import socket
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from leftbehind.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

MARKER = ".leftbehind-temporary"
TOKEN = "leftbehind-temporary-v1"
_SUFFIXES = (".tmp", ".new")  # work folders are named .NAME.XXXXXXXX.tmp / .new (the marker decides, not the name)
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
#: What a file system that holds no ordinary files (/proc, /sys) answers to creating one.
_REFUSED = {errno.ENOENT, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENODEV, errno.ENXIO}
#: File systems of the kernel's own (``/proc/self/mounts`` types): no place for output.
_VIRTUAL_FS = frozenset(
    {
        "proc", "sysfs", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs", "pstore", "bpf", "configfs",
        "fusectl", "mqueue", "devpts", "binfmt_misc", "efivarfs", "selinuxfs", "autofs", "hugetlbfs", "nsfs",
        "rpc_pipefs",
    }
)  # fmt: skip


class OutputNotWritable(UsageError, OSError):
    """The target's folder cannot be written (permissions, read-only file system, disk full)."""

    def __init__(self, message: str, *, hint: str | None = None, code: int = errno.EACCES):
        super().__init__(message, hint=hint)
        self.errno = code  # str() stays the message: strerror is left unset


# ------------------------------------------------------------------ public API


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; move it onto ``path`` on success."""
    path = Path(path)
    parent, target = _target(path)
    if _kind(target, path, parent) == "dir" and not target.is_symlink():
        raise UsageError(f"cannot write {path}: it is a folder", hint="choose another --out, a file name")
    _clean_stale(parent)
    work = _make_work(parent, target.name, ".tmp", "file", path)
    tmp = work / (target.name if target.name != MARKER else target.name + ".tmp")
    try:
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # normal permissions (umask)
        except OSError as exc:
            raise _write_error(exc, path, parent) from exc
        try:
            yield tmp
        except Exception as exc:  # the caller's writes: a full disk (also SQLite's), a virtual file system
            err = _write_error(exc, path, parent, inside=True)
            if err is exc:
                raise
            raise err from exc
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise _write_error(exc, path, parent) from exc
    finally:
        _discard(work)


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
    parent, target = _target(path)
    if _kind(target, path, parent) == "other":
        raise UsageError(f"output {path} exists and is not a folder", hint="choose another --out")
    _clean_stale(parent)
    work = _make_work(parent, target.name, ".new", "dir", path)
    new, old = work / "new", work / "old"
    try:
        os.mkdir(new)  # 0o777 minus the umask: normal permissions
    except OSError as exc:
        _discard(work)
        raise _write_error(exc, path, parent) from exc
    try:
        yield new
    except BaseException as exc:
        _discard(work)
        err = _write_error(exc, path, parent, inside=True) if isinstance(exc, Exception) else exc
        if err is exc:  # not a write error the user can act on: as it is
            raise
        raise err from exc  # the caller's writes: a full disk (also SQLite's), a virtual file system
    moved = False
    try:
        if os.path.lexists(target):
            os.replace(target, old)
            moved = True
        os.replace(new, target)
    except BaseException as exc:
        restored = not moved
        if moved:
            with contextlib.suppress(OSError):
                os.replace(old, target)
                restored = True
        if restored:
            _discard(work)
        else:  # keep the previous contents: a later run moves them back (see the module doc)
            _release(work)
            exc.add_note(f"the previous contents of {path} are kept in {old}")
        err = _write_error(exc, path, parent) if isinstance(exc, OSError) else exc
        if err is exc:
            raise
        if not restored:
            err.add_note(f"the previous contents of {path} are kept in {old}")
        raise err from exc
    _discard(work)


def check_writable(path: str | Path) -> None:
    """Fail early, before a long computation, if ``path`` cannot be written as a folder by
    :func:`atomic_dir`: its folder is missing, is a file or is not writable (a UsageError naming
    it). It makes and removes an empty marked work folder next to the target, nothing else."""
    path = Path(path)
    parent, target = _target(path)
    if _kind(target, path, parent) == "other":
        raise UsageError(f"output {path} exists and is not a folder", hint="choose another --out")
    _discard(_make_work(parent, target.name, ".new", "dir", path))


# ------------------------------------------------------------------ targets and errors


def _target(path: Path) -> tuple[Path, Path]:
    """The target's folder (resolved, checked to exist) and the target inside it."""
    if path.name in ("", ".."):  # "/", ".", "a/..": the folder itself
        path = path.resolve()
    shown = path
    parent = path.absolute().parent.resolve()
    kind = _kind(parent, shown, parent)
    if kind != "dir":
        anc = parent
        while kind is None and anc != anc.parent:
            anc = anc.parent
            kind = _kind(anc, shown, anc)
        if kind == "other":
            raise UsageError(f"cannot write {shown}: {anc} is a file, not a folder", hint="choose another --out")
        raise UsageError(f"cannot write {shown}: folder {parent} does not exist", hint="create it first")
    return parent, parent / path.name


def _kind(p: Path, shown: Path, folder: Path) -> str | None:
    """``"dir"``, ``"other"`` (a file...) or ``None`` (missing); an inaccessible path is a UsageError."""
    try:
        st = os.stat(p)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise _write_error(exc, shown, folder) from exc
    return "dir" if stat.S_ISDIR(st.st_mode) else "other"


def _write_error(exc: BaseException, shown: Path, folder: Path, *, inside: bool = False) -> BaseException:
    """A UsageError for what the user can fix (permissions, read-only, full disk, a folder on a
    virtual file system such as /proc, a name too long); else ``exc``.

    ``inside``: ``exc`` came from the caller's writes inside an :func:`atomic_dir` or
    :func:`atomic_path` block. There a missing file or an invalid argument may be a bug, so those
    are translated only when the folder is on a virtual file system or is gone. A full disk is
    recognised from OSError's errno, from the text of writers that set none (pyarrow) and from
    SQLite's "database or disk is full"; any other exception is returned as it is."""
    if isinstance(exc, OutputNotWritable):
        return exc
    if isinstance(exc, OSError):
        code = exc.errno
        if code is None and "No space left on device" in str(exc):  # some writers (pyarrow) may not set errno
            code = errno.ENOSPC
    elif _sqlite_full(exc):
        code = errno.ENOSPC
    else:
        return exc
    if code in _NOT_WRITABLE:
        why = "it is on a read-only file system" if code == errno.EROFS else "permission denied"
        return OutputNotWritable(
            f"cannot write {shown}: folder {folder} is not writable ({why})",
            hint="choose another --out, or fix the folder's permissions (e.g. chmod u+w, or run as its owner)",
            code=code,
        )
    if code in _NO_SPACE:
        return OutputNotWritable(
            f"cannot write {shown}: no space left in folder {folder} ({os.strerror(code)})",
            hint="free some disk space, or choose another --out on another disk",
            code=code,
        )
    if code == errno.EFBIG:
        return OutputNotWritable(
            f"cannot write {shown}: a file is too large for the file system of folder {folder} ({os.strerror(code)})",
            hint="choose another --out, on a file system that takes large files",
            code=code,
        )
    if code == errno.ENAMETOOLONG:
        return OutputNotWritable(
            f"cannot write {shown}: the name is too long for the file system ({os.strerror(code)})",
            hint="choose a shorter --out",
            code=code,
        )
    if code in _REFUSED:
        fs = _fs_type(folder)
        if fs in _VIRTUAL_FS:
            return OutputNotWritable(
                f"cannot write {shown}: folder {folder} is on the kernel's virtual file system {fs}, which holds "
                f"no ordinary files or folders ({os.strerror(code)})",
                hint="choose another --out, a folder on a disk (e.g. under your home folder or /tmp)",
                code=code,
            )
        if not os.path.isdir(folder):
            return OutputNotWritable(
                f"cannot write {shown}: folder {folder} no longer exists (it was removed or renamed while writing)",
                hint="create it again, or choose another --out",
                code=code,
            )
        if not inside:
            return OutputNotWritable(
                f"cannot write {shown}: the file system of folder {folder} refused to create it ({os.strerror(code)})",
                hint="choose another --out, a folder on an ordinary disk",
                code=code,
            )
    return exc


def _sqlite_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL ("database or disk is full"), without importing sqlite3."""
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is None or not isinstance(exc, sqlite3.OperationalError):
        return False
    return getattr(exc, "sqlite_errorcode", None) == 13 or "database or disk is full" in str(exc)


def _fs_type(folder: Path) -> str | None:
    """The type of the file system holding ``folder`` (from ``/proc/self/mounts``), or None."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    where = os.path.realpath(folder)
    best, kind = None, None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mnt = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), parts[1])  # \040 is a space
        inside = where == mnt or where.startswith(mnt.rstrip("/") + "/")
        if inside and (best is None or len(mnt) >= len(best)):  # the deepest; the last mounted on a tie
            best, kind = mnt, parts[2]
    return kind


# ------------------------------------------------------------------ work folders and markers


def _make_work(parent: Path, name: str, suffix: str, kind: str, shown: Path) -> Path:
    """A new marked work folder in ``parent`` for the target ``name``."""
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{name[:200]}.", suffix=suffix, dir=parent))
    except OSError as exc:
        raise _write_error(exc, shown, parent) from exc
    try:
        info = _identity() | {"kind": kind, "target": name, "created": time.time()}
        fd = os.open(work / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            os.write(fd, json.dumps(info).encode())  # one small write: never seen half-written
        finally:
            os.close(fd)
    except BaseException as exc:
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _write_error(exc, shown, parent) from exc
        raise
    return work


def _identity() -> dict:
    """What identifies this process in a marker."""
    stat_ = _proc_stat(os.getpid())
    return {
        "token": TOKEN,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "boot": _read("/proc/sys/kernel/random/boot_id"),
        "pidns": _pidns(),
        "start": stat_[1] if stat_ else None,
    }


def _read(name: str) -> str:
    try:
        with open(name, encoding="ascii") as f:
            return f.read().strip()
    except (OSError, ValueError):
        return ""


def _pidns() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """A process's state letter and start time (clock ticks since boot), or None without /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        fields = data[data.rindex(b")") + 2 :].split()  # the command name (in parentheses) may hold spaces
        return fields[0].decode(), int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def _read_marker(work: Path) -> dict | None:
    """The marker of a work folder, or None if it has none (then it is not ours)."""
    try:
        with open(work / MARKER, "rb") as f:
            info = json.loads(f.read(65536))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("token") != TOKEN:
        return None
    return info


def _is_stale(info: dict) -> bool:
    """Whether a marked work folder's owner is certainly gone (the rule is in the module doc)."""
    if info.get("released") is True:
        return True
    if os.name == "nt" or info.get("host") != socket.gethostname():
        return False
    boot = _read("/proc/sys/kernel/random/boot_id")
    if info.get("boot") and boot and info["boot"] != boot:
        return True
    if info.get("pidns", "") != _pidns():
        return False
    pid = info.get("pid")
    if type(pid) is not int or pid <= 0:
        return False
    return not _alive(pid, info.get("start"))


def _alive(pid: int, start) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, under another user
        pass
    st = _proc_stat(pid)
    if st is None:  # no /proc (or it just exited): trust kill()
        return True
    state, started = st
    if state in ("Z", "X"):  # killed, not yet reaped: it will never write again
        return False
    return not (type(start) is int and started != start)  # a different start time: the pid was reused


def _clean_stale(parent: Path) -> None:
    """Remove the stale work folders in ``parent``; never fails."""
    try:
        with os.scandir(parent) as it:
            entries = [e for e in it if e.name.startswith(".") and e.name.endswith(_SUFFIXES)]
    except OSError:
        return
    for e in entries:
        try:
            if not e.is_dir(follow_symlinks=False):
                continue
        except OSError:
            continue
        work = Path(e.path)
        info = _read_marker(work)
        if info is None or not _is_stale(info):
            continue
        _recover(work, info, parent)
        _remove(work)


def _recover(work: Path, info: dict, parent: Path) -> None:
    """Move back a previous folder left in ``work`` by a run killed mid-swap, if its target is missing."""
    name = info.get("target")
    old = work / "old"
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or os.sep in name:
        return
    if os.path.lexists(old) and not os.path.lexists(parent / name):
        with contextlib.suppress(OSError):
            os.rename(old, parent / name)


def _remove(work: Path) -> bool:
    """Delete a work folder, its marker last; return whether it is gone."""
    try:
        with os.scandir(work) as it:
            entries = [e for e in it if e.name != MARKER]
    except FileNotFoundError:
        return True
    except OSError:
        return False
    ok = True
    for e in entries:
        try:
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(e.path)
            else:
                os.unlink(e.path)
        except FileNotFoundError:
            pass
        except OSError:
            ok = False
    if not ok:
        return False
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(work / MARKER)
        os.rmdir(work)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


def _release(work: Path) -> None:
    """Mark ``work`` as given up by its owner, so that any later run may clean it up."""
    info = _read_marker(work)
    if info is None:
        return
    info["released"] = True
    tmp = work / (MARKER + ".released")
    with contextlib.suppress(OSError):
        tmp.write_bytes(json.dumps(info).encode())
        os.replace(tmp, work / MARKER)


def _discard(work: Path) -> None:
    """Remove our own work folder; if that fails, release it to a later run."""
    if not _remove(work):
        _release(work)
