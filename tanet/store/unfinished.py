"""Hidden partial copies left by a killed run are removed at the next start.

A backup or a handover pack is written under a hidden temporary name (`.NAME.XXXX.tmp`)
and renamed when whole. A kill -9 leaves that temporary copy behind, and it holds the
members, notes included, even after they are forgotten. So before making one, tanet writes
a line "process id, final name" to `DATABASE.unfinished` (beside the database); when the
run ends the line goes (the file stays, empty). Every open of the database removes the temporary copies of lines
whose process is gone, then the lines themselves.
"""

from __future__ import annotations

import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path


def record_path(db_path: Path) -> Path:
    return Path(f"{db_path}.unfinished")


def _rewrite(record: Path, keep) -> list[tuple[int, str]]:
    """Keep the lines for which `keep(pid, target)` holds, under an OS lock; return the others."""
    try:
        fd = os.open(record, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return []
    dropped = []
    try:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        with os.fdopen(os.dup(fd), "r+", encoding="utf-8", errors="replace") as f:
            kept = []
            for line in f.read().splitlines():
                pid, _, target = line.partition("\t")
                if not pid.isdigit() or not target:
                    continue
                (kept if keep(int(pid), target) else dropped).append((int(pid), target))
            f.seek(0)
            f.truncate()
            f.write("".join(f"{pid}\t{target}\n" for pid, target in kept))
    except OSError:
        pass
    finally:
        os.close(fd)
    return dropped


@contextmanager
def partial_copies(db_path: Path, target: Path):
    """Record, before any is made, that this process writes hidden temporary copies for `target`."""
    record = record_path(db_path)
    me, name = os.getpid(), str(Path(target).absolute())
    line = f"{me}\t{name}\n"
    try:
        fd = os.open(record, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass  # a folder we cannot write to: the copy itself will fail and say so
    try:
        yield
    finally:
        if not leftovers(Path(target)):  # else (a clearing cut short) the next start removes them
            _rewrite(record, lambda pid, t: (pid, t) != (me, name))


def _alive(pid: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - os.kill(pid, 0) would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def leftovers(target: Path) -> list[Path]:
    """The hidden temporary copies made for `target` (files with their journals, or folders)."""
    target = Path(target)
    try:
        return sorted(target.parent.glob(f".{target.name}.*.tmp*"))
    except OSError:
        return []


def sweep(db_path: Path) -> None:
    """Remove what killed runs left; cheap when nothing was left (one stat)."""
    record = record_path(db_path)
    try:
        if record.stat().st_size == 0:
            return
    except OSError:
        return
    live = set()

    def keep(pid: int, target: str) -> bool:
        if _alive(pid):
            live.add(target)
            return True
        return False

    for _, target in _rewrite(record, keep):
        if target in live:  # another running tanet writes the same name: leave its copies alone
            continue
        for path in leftovers(Path(target)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    path.unlink()
                except OSError:
                    pass
