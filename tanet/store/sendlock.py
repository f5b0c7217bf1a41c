"""One sender per database file: a lock the operating system holds for the running process.

Sending (invite, remind, thanks, the summary's --send-to, organiser change) and `restore`
hold it for their whole run. A second one stops at once and names the first; it never
waits silently and never sends. The lock is an OS file lock (flock, or msvcrt on Windows)
on a small file beside the database, so a process killed with -9 releases it with its
last breath: there is no stale lock to clear by hand. The file itself is never deleted
(deleting a lock file lets two processes each lock a different file).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from tanet.errors import TanetError


def lock_path(db_path: Path) -> Path:
    """Beside the real file: a database reached through a symbolic link, or another spelling
    of its path, shares one lock."""
    try:
        real = Path(db_path).resolve()
    except OSError:
        real = Path(db_path).absolute()
    return Path(f"{real}.lock")


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - the coordinator's other kind of computer
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(fd: int) -> str:
    """What the running holder wrote about itself: 'process 123, invite --send, since 09:41'."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 4096).decode("utf-8", errors="replace").strip()
    except OSError:
        text = ""
    parts = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    if not parts.get("pid"):
        return "another tanet"
    since = parts.get("started", "")
    try:
        since = datetime.fromisoformat(since).strftime("%d/%m/%Y %H:%M:%S")
    except ValueError:
        pass
    return f"tanet {parts.get('what', '')} (process {parts['pid']}, started {since})".replace("  ", " ")


@contextmanager
def sender_lock(db_path: Path, what: str):
    """Hold the one sender lock of `db_path` while the block runs; raise TanetError at once,
    naming the holder, when another process holds it. `what` names this run for the other."""
    path = lock_path(db_path)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as e:
        raise TanetError(f"tanet cannot make its lock file {path} ({e.strerror}), so nothing was sent or changed. "
                         f"Check that you can write to the folder {path.parent}.") from None
    try:
        if not _try_lock(fd):
            holder = _holder(fd)
            raise TanetError(f"{holder} is already using {db_path} to send or restore, so this command did "
                             "nothing. Wait for it to finish (or stop it), then run this again.")
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        record = f"pid={os.getpid()}\nwhat={' '.join(what.split())}\nstarted={stamp}\n".encode()
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, record)
        except OSError:
            pass  # the lock holds even when its note cannot be written (a full disk)
        yield
    finally:
        os.close(fd)  # closing releases the OS lock
