"""Atomic output (leftbehind.io): failures and killed runs leave the previous output intact and
no debris; only our own stale temporaries are ever removed; unwritable folders are UsageErrors."""

from __future__ import annotations

import errno
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from leftbehind import io
from leftbehind.errors import UsageError
from leftbehind.io import MARKER, atomic_dir, atomic_path, write_text

SRC = Path(io.__file__).resolve().parents[1]

# A run that opens an atomic block, writes into it, reports its temporary path, then waits for
# a line on stdin (to finish normally) or to be killed.
CHILD = """
import sys
from pathlib import Path
from leftbehind.io import atomic_dir, atomic_path
kind, target = sys.argv[1], Path(sys.argv[2])
with (atomic_dir if kind == "dir" else atomic_path)(target) as tmp:
    if kind == "dir":
        (tmp / "big.bin").write_bytes(b"x" * 100_000)
    else:
        tmp.write_text("partial child output")
    print(tmp, flush=True)
    sys.stdin.readline()
print("done", flush=True)
"""

# A run killed in the middle of the swap: after the old folder was moved aside, before the new
# one is moved in.
CHILD_MID_SWAP = """
import os, sys, time
from pathlib import Path
from leftbehind.io import atomic_dir
target = Path(sys.argv[1])
real = os.replace
def replace(src, dst):
    real(src, dst)
    if Path(dst).name == "old":
        print(dst, flush=True)
        time.sleep(600)
os.replace = replace
with atomic_dir(target) as tmp:
    (tmp / "new.txt").write_text("new")
"""


def _spawn(script: str, *args: str) -> tuple[subprocess.Popen, Path]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    if not ready:
        proc.kill()
        pytest.fail(f"child did not start: {proc.stderr.read()}")
    line = proc.stdout.readline().strip()
    if not line:
        proc.wait()
        pytest.fail(f"child failed: {proc.stderr.read()}")
    return proc, Path(line)


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)  # no chance to clean up
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _decoys(folder: Path, name: str, suffix: str) -> dict[Path, str]:
    """Things named like our temporaries that are not ours: they must survive every clean-up."""
    plain = folder / f".{name}.abc{suffix}"  # an unmarked folder, e.g. someone else's
    plain.mkdir()
    (plain / "theirs.txt").write_text("theirs")
    foreign = folder / f".{name}.def{suffix}"  # a marker file that is not ours (no token), owner gone
    foreign.mkdir()
    (foreign / MARKER).write_text(json.dumps(io._identity() | {"token": "other-tool", "pid": 999999999}))
    garbage = folder / f".{name}.ghi{suffix}"  # an unreadable marker
    garbage.mkdir()
    (garbage / MARKER).write_text("{not json")
    afile = folder / f".{name}.jkl{suffix}"  # a plain file (e.g. an old-style temporary file)
    afile.write_text("a file")
    return {p: _snapshot(p) for p in (plain, foreign, garbage, afile)}


def _snapshot(p: Path) -> str:
    if p.is_file():
        return p.read_text()
    return json.dumps(sorted((q.name, q.read_text()) for q in p.iterdir()))


def _assert_intact(decoys: dict[Path, str]) -> None:
    for p, before in decoys.items():
        assert p.exists(), f"{p.name} (not ours) was removed"
        assert _snapshot(p) == before


def _marked(folder: Path, name: str, **changes) -> Path:
    """A work folder marked as if made by this process, with ``changes`` to its marker."""
    work = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".new", dir=folder))
    info = io._identity() | {"kind": "dir", "target": name, "created": time.time()} | changes
    (work / MARKER).write_text(json.dumps(info))
    (work / "new").mkdir()
    (work / "new" / "payload.txt").write_text("payload")
    return work


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ------------------------------------------------------------------ killed runs


def test_killed_atomic_dir_leaves_stale_work_that_the_next_run_removes(tmp_path):
    """SIGKILL inside atomic_dir leaves a marked work folder (real debris); the next atomic_dir on
    the same target removes it, keeps every unmarked look-alike, and swaps in its own output."""
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    proc, tmp = _spawn(CHILD, "dir", str(target))
    work = tmp.parent
    assert work.parent == tmp_path and work.name.startswith(".out.") and work.name.endswith(".new")
    assert (tmp / "big.bin").is_file() and (work / MARKER).is_file()
    _kill(proc)
    assert work.is_dir(), "the kill left the work folder behind"
    assert [p.name for p in target.iterdir()] == ["keep.txt"], "previous output intact after the kill"
    decoys = _decoys(tmp_path, "out", ".new")

    with atomic_dir(target) as new:
        (new / "new.txt").write_text("new")

    assert not work.exists(), "stale temporary of the killed run removed"
    _assert_intact(decoys)
    assert _hidden(tmp_path) == sorted(p.name for p in decoys)
    assert [p.name for p in target.iterdir()] == ["new.txt"]


def test_killed_atomic_path_leaves_stale_work_that_the_next_write_removes(tmp_path):
    """SIGKILL inside atomic_path (e.g. a killed `report` writing into its output folder): the
    next atomic write into that folder removes the temporary; unmarked look-alikes stay."""
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "report.html").write_text("old report")
    proc, tmp = _spawn(CHILD, "file", str(folder / "report.html"))
    work = tmp.parent
    assert tmp.name == "report.html" and tmp.read_text() == "partial child output"
    assert work.parent == folder and work.name.startswith(".report.html.") and work.name.endswith(".tmp")
    _kill(proc)
    assert work.is_dir()
    decoys = _decoys(folder, "report.html", ".tmp")

    write_text(folder / "other.txt", "another file in the same folder")

    assert not work.exists(), "stale temporary of the killed run removed"
    _assert_intact(decoys)
    assert _hidden(folder) == sorted(p.name for p in decoys)
    assert (folder / "report.html").read_text() == "old report"
    write_text(folder / "report.html", "new report")
    assert (folder / "report.html").read_text() == "new report"


def test_run_killed_mid_swap_gets_its_previous_output_back(tmp_path):
    """Killed after moving the old folder aside but before moving the new one in: the target is
    missing; the next atomic write in that folder moves the previous output back."""
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    proc, old = _spawn(CHILD_MID_SWAP, str(target))
    _kill(proc)
    assert not target.exists() and (old / "keep.txt").read_text() == "old"

    write_text(tmp_path / "unrelated.txt", "x")

    assert (target / "keep.txt").read_text() == "old"
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("kind", ["dir", "file"])
def test_live_concurrent_owner_keeps_its_temporary(tmp_path, kind):
    """Two concurrent runs on the same target: ours cleans up, yet never touches the live
    other's temporary, which then finishes its own swap normally."""
    target = tmp_path / ("out" if kind == "dir" else "out.csv")
    proc, tmp = _spawn(CHILD, kind, str(target))
    try:
        if kind == "dir":
            with atomic_dir(target) as new:
                (new / "mine.txt").write_text("mine")
            assert [p.name for p in target.iterdir()] == ["mine.txt"]
            assert (tmp / "big.bin").is_file(), "live owner's work removed"
        else:
            write_text(target, "mine")
            assert target.read_text() == "mine"
            assert tmp.read_text() == "partial child output", "live owner's work removed"
        assert (tmp.parent / MARKER).is_file()
        out, err = proc.communicate("\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.strip() == "done"
    if kind == "dir":
        assert [p.name for p in target.iterdir()] == ["big.bin"]
    else:
        assert target.read_text() == "partial child output"
    assert _hidden(tmp_path) == []


def test_killed_but_unreaped_owner_is_stale(tmp_path):
    """A killed owner that its parent has not reaped yet (a zombie) will never write again."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        start = io._proc_stat(proc.pid)[1]
        proc.send_signal(signal.SIGKILL)
        for _ in range(500):
            if io._proc_stat(proc.pid)[0] == "Z":
                break
            time.sleep(0.01)
        assert io._proc_stat(proc.pid)[0] == "Z"
        work = _marked(tmp_path, "out", pid=proc.pid, start=start)
        write_text(tmp_path / "x.txt", "x")
        assert not work.exists()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(
    ("changes", "stale"),
    [
        pytest.param({}, False, id="live-owner-this-process"),
        pytest.param({"pid": "dead"}, True, id="owner-gone"),
        pytest.param({"pid": "dead", "host": "another-host"}, False, id="other-host"),
        pytest.param({"pid": "dead", "pidns": "pid:[1]"}, False, id="other-pid-namespace"),
        pytest.param({"start": "other"}, True, id="pid-reused-by-another-process"),
        pytest.param({"boot": "another-boot"}, True, id="made-before-a-reboot"),
        pytest.param({"released": True}, True, id="released-by-owner"),
        pytest.param({"pid": 0}, False, id="invalid-pid"),
        pytest.param({"pid": "dead", "token": "someone-else"}, False, id="not-our-token"),
    ],
)
def test_stale_rule(tmp_path, changes, stale):
    """Which marked work folders a clean-up removes: only those whose owner is certainly gone."""
    if changes.get("pid") == "dead":
        changes["pid"] = _dead_pid()
    if changes.get("start") == "other":
        changes["start"] = io._identity()["start"] - 1
    if changes.get("boot") and not io._identity()["boot"]:
        pytest.skip("no boot id on this system")
    work = _marked(tmp_path, "out", **changes)
    with atomic_dir(tmp_path / "out") as new:
        (new / "a.txt").write_text("a")
    assert work.exists() is not stale
    assert (tmp_path / "out" / "a.txt").is_file()


# ------------------------------------------------------------------ failures in this process


@pytest.mark.parametrize("existed", [True, False], ids=["previous-output", "no-previous-output"])
def test_failed_swap_restores_previous_and_leaves_no_debris(tmp_path, monkeypatch, existed):
    target = tmp_path / "out"
    if existed:
        target.mkdir()
        (target / "keep.txt").write_text("old")
    real = os.replace

    def replace(src, dst):
        if Path(src).name == "new" and Path(dst) == target:
            raise OSError(errno.EIO, "I/O error (simulated)")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="simulated"), atomic_dir(target) as new:
        (new / "new.txt").write_text("new")
    monkeypatch.undo()
    if existed:
        assert [p.name for p in target.iterdir()] == ["keep.txt"]
        assert (target / "keep.txt").read_text() == "old"
    else:
        assert not target.exists()
    assert _hidden(tmp_path) == [], "no .out.*.new debris"


def test_failed_move_aside_keeps_previous_and_leaves_no_debris(tmp_path, monkeypatch):
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    real = os.replace

    def replace(src, dst):
        if Path(src) == target:
            raise PermissionError(errno.EACCES, "Permission denied", str(src))
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(UsageError, match=f"folder {tmp_path} is not writable") as err, atomic_dir(target) as new:
        (new / "new.txt").write_text("new")
    monkeypatch.undo()
    assert "--out" in err.value.hint
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert _hidden(tmp_path) == []


def test_failed_swap_and_failed_restore_leave_previous_for_a_later_run(tmp_path, monkeypatch):
    """If even moving the old folder back fails, it is kept (released to later runs), never lost."""
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    real = os.replace

    def replace(src, dst):
        if Path(dst) == target:
            raise OSError(errno.EIO, "I/O error (simulated)")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="simulated") as err, atomic_dir(target) as new:
        (new / "new.txt").write_text("new")
    monkeypatch.undo()
    assert any("previous contents" in n for n in err.value.__notes__)
    assert not target.exists()
    (work,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert (work / "old" / "keep.txt").read_text() == "old"
    assert json.loads((work / MARKER).read_text())["released"] is True

    write_text(tmp_path / "x.txt", "x")  # any later atomic write in the folder
    assert (target / "keep.txt").read_text() == "old"
    assert _hidden(tmp_path) == []


def test_failure_inside_the_block_keeps_previous_contents(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(target) as new:
        (new / "new.txt").write_text("new")
        raise RuntimeError("boom")
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    (tmp_path / "f.csv").write_text("old csv")
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "f.csv") as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert (tmp_path / "f.csv").read_text() == "old csv"
    assert _hidden(tmp_path) == []


def test_success_behaviour_unchanged(tmp_path):
    """Normal permissions, the target's name on the temporary file, replaced contents, no debris."""
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "a.parquet") as tmp:
            assert tmp.name == "a.parquet" and tmp.is_file() and tmp.read_bytes() == b""
            tmp.write_text("x")
        with atomic_dir(tmp_path / "d") as new:
            (new / "f").write_text("f")
        with atomic_dir(tmp_path / "d") as new:
            (new / "g").write_text("g")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.parquet").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["g"]
    write_text(tmp_path / "a.parquet", "y")
    assert (tmp_path / "a.parquet").read_text() == "y"
    assert _hidden(tmp_path) == []


# ------------------------------------------------------------------ folders that cannot be written


def test_missing_parent_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match=f"cannot write {tmp_path}/no/o.csv: folder {tmp_path}/no does not exist"):
        write_text(tmp_path / "no" / "o.csv", "x")
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("rel", ["o.csv", "sub/o.csv"])
def test_parent_that_is_a_file_is_a_usage_error(tmp_path, rel):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for write in (lambda p: write_text(p, "x"), lambda p: atomic_dir(p).__enter__()):
        with pytest.raises(UsageError, match=f"{afile} is a file, not a folder") as err:
            write(afile / rel)
        assert "--out" in err.value.hint
    assert afile.read_text() == "x"


def test_output_file_that_is_a_folder_is_a_usage_error(tmp_path):
    (tmp_path / "o.csv").mkdir()
    with pytest.raises(UsageError, match="it is a folder"):
        write_text(tmp_path / "o.csv", "x")
    (tmp_path / "d").write_text("x")
    with pytest.raises(UsageError, match="exists and is not a folder"), atomic_dir(tmp_path / "d"):
        pass
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.EACCES, "is not writable (permission denied)"),
        (errno.EROFS, "is not writable (it is on a read-only file system)"),
        (errno.ENOSPC, "no space left"),
    ],
)
@pytest.mark.parametrize("kind", ["dir", "file"])
def test_unwritable_folder_is_a_usage_error(tmp_path, monkeypatch, code, words, kind):
    """Works as root too: the failure of creating the temporary is simulated."""

    def mkdtemp(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(kwargs.get("dir")))

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    with pytest.raises(UsageError) as err:
        if kind == "dir":
            atomic_dir(tmp_path / "out").__enter__()
        else:
            write_text(tmp_path / "o.csv", "x")
    assert str(tmp_path) in err.value.message and words in err.value.message
    assert "--out" in err.value.hint
    assert isinstance(err.value, OSError) and err.value.errno == code  # `except OSError` callers still skip it
    assert "How to fix" in str(err.value) and "Errno" not in str(err.value)


def _try_as_nobody(fn) -> str:
    """Run ``fn`` in a forked child with an unprivileged uid (permission bits then apply as root
    too); return the child's outcome as text."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                fn()
                out = "ok"
            except UsageError as exc:
                out = f"UsageError: {exc}"
            except BaseException as exc:
                out = f"{type(exc).__name__}: {exc}"
            os.write(w, out.encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        out = f.read()
    os.waitpid(pid, 0)
    return out


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("kind", ["dir", "file"])
def test_real_permission_denied_is_a_usage_error(kind):
    """A real EACCES: a read-only folder (as root, tried by an unprivileged child)."""
    base = Path(tempfile.mkdtemp())  # not under pytest's root-only tmp folder: the child must reach it
    try:
        base.chmod(0o755)
        ro = base / "readonly"
        ro.mkdir()
        (ro / "keep.txt").write_text("old")
        ro.chmod(0o555)

        def write():
            if kind == "dir":
                with atomic_dir(ro / "out") as new:
                    (new / "x").write_text("x")
            else:
                write_text(ro / "o.csv", "x")

        out = _try_as_nobody(write) if os.geteuid() == 0 else _outcome(write)
        assert out.startswith("UsageError: "), out
        assert f"folder {ro} is not writable (permission denied)" in out and "--out" in out
        assert sorted(p.name for p in ro.iterdir()) == ["keep.txt"]
    finally:
        (base / "readonly").chmod(0o755)
        shutil.rmtree(base)


def _outcome(fn) -> str:
    try:
        fn()
    except UsageError as exc:
        return f"UsageError: {exc}"
    return "ok"


# ------------------------------------------------------------------ errors of the caller's writes (issue 19)


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
        OSError("Error writing bytes to file. Detail: [errno 28] No space left on device"),  # pyarrow's, no errno
        OSError(errno.EDQUOT, os.strerror(errno.EDQUOT)),
    ],
    ids=["enospc", "pyarrow-without-errno", "edquot"],
)
@pytest.mark.parametrize("kind", ["dir", "file"])
def test_a_full_disk_inside_the_block_is_a_usage_error(tmp_path, error, kind):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("old")
    (tmp_path / "o.csv").write_text("old csv")
    with pytest.raises(UsageError) as err:
        if kind == "dir":
            with atomic_dir(tmp_path / "out") as new:
                (new / "half.csv").write_text("x")
                raise error
        else:
            with atomic_path(tmp_path / "o.csv") as tmp:
                tmp.write_text("half")
                raise error
    assert "no space left in folder" in err.value.message and str(tmp_path) in err.value.message
    assert "free some disk space" in err.value.hint and isinstance(err.value, OSError)
    assert err.value.__cause__ is error
    assert (tmp_path / "out" / "keep.txt").read_text() == "old" and (tmp_path / "o.csv").read_text() == "old csv"
    assert _hidden(tmp_path) == []


def test_a_missing_file_inside_the_block_on_an_ordinary_disk_stays_a_bug(tmp_path):
    """Writing into a sub-folder never made is the caller's bug: not dressed up as bad input."""
    with pytest.raises(FileNotFoundError) as err, atomic_dir(tmp_path / "out") as new:
        (new / "no" / "f.txt").write_text("x")
    assert not isinstance(err.value, UsageError)
    assert _hidden(tmp_path) == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize("code", [errno.EINVAL, errno.ENOENT, errno.EOPNOTSUPP])
def test_writes_refused_by_a_virtual_file_system_are_a_usage_error(tmp_path, monkeypatch, code):
    monkeypatch.setattr(io, "_fs_type", lambda folder: "proc")
    with (
        pytest.raises(UsageError, match="virtual file system proc, which holds no ordinary files") as err,
        atomic_dir(tmp_path / "out"),
    ):
        raise OSError(code, os.strerror(code))
    assert "--out" in err.value.hint and err.value.errno == code


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("target", ["/proc/leftbehind-test-out", "/proc/self/leftbehind-test-out"])
def test_an_output_under_proc_is_a_usage_error(target):
    for write in (
        lambda: atomic_dir(target).__enter__(),
        lambda: write_text(target + ".csv", "x"),
        lambda: io.check_writable(target),
    ):
        with pytest.raises(UsageError) as err:
            write()
        assert f"cannot write {target}" in err.value.message
        assert "virtual file system proc" in err.value.message and "--out" in err.value.hint


def test_fs_type_finds_the_deepest_mount(tmp_path):
    assert io._fs_type(Path("/proc/self")) == "proc"
    assert io._fs_type(tmp_path) not in io._VIRTUAL_FS


@pytest.fixture
def full_disk():
    """A 256 kB tmpfs, mounted for the test (root only; skipped where mounting is not allowed)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    where = Path(tempfile.mkdtemp(prefix="leftbehind-full-"))
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)], capture_output=True).returncode:
        where.rmdir()
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)  # a file still open: detach
        where.rmdir()


def test_a_real_full_disk_is_a_usage_error(full_disk):
    import pandas as pd

    from leftbehind.io import csv_to

    big = pd.DataFrame({"x": range(200_000), "y": ["some text in every row"] * 200_000})
    (full_disk / "out").mkdir()
    (full_disk / "out" / "keep.txt").write_text("old")
    with pytest.raises(UsageError) as err, atomic_dir(full_disk / "out") as new:
        csv_to(big, new / "big.csv")
    assert f"no space left in folder {full_disk}" in err.value.message
    with pytest.raises(UsageError, match="no space left"):
        io.write_csv(big, full_disk / "big.csv")
    assert sorted(p.name for p in full_disk.iterdir()) == ["out"]
    assert [p.name for p in (full_disk / "out").iterdir()] == ["keep.txt"]


def test_sqlite_full_inside_the_block_is_a_usage_error(tmp_path):
    import sqlite3

    with pytest.raises(UsageError, match="no space left in folder") as err, atomic_dir(tmp_path / "out"):
        raise sqlite3.OperationalError("database or disk is full")
    assert isinstance(err.value.__cause__, sqlite3.OperationalError)
    with pytest.raises(sqlite3.OperationalError, match="no such table"), atomic_dir(tmp_path / "out"):
        raise sqlite3.OperationalError("no such table: wards")  # a bug, not a full disk: as it is
    assert _hidden(tmp_path) == [] and not (tmp_path / "out").exists()


def test_a_real_full_disk_under_sqlite_is_a_usage_error(full_disk):
    import sqlite3

    with pytest.raises(UsageError, match=f"no space left in folder {full_disk}"), atomic_dir(full_disk / "db") as new:
        con = sqlite3.connect(new / "x.sqlite")
        try:
            with con:
                con.execute("create table t (x text)")
                con.executemany("insert into t values (?)", (("x" * 1000,) for _ in range(2_000)))
        finally:
            con.close()
    assert list(full_disk.iterdir()) == []
