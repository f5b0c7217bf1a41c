"""Reading the whole database as it stood at one moment, and copying it meanwhile.

`one_snapshot` holds a command's reading in one read transaction. On a file tanet may
change it first takes SQLite's write lock for a moment (BEGIN IMMEDIATE on a connection of
its own, nothing written): while no other program can commit, this connection and every
`Alongside` connection start their read transactions, so all of them see the same data;
then the lock goes (`Snapshot.share`), and other programs write as usual while the work
goes on (in WAL mode a reader keeps its snapshot while others commit). The Alongside work
(copy the file, read figures) runs in a thread of its own: SQLite releases Python's lock
while it works, so the parts overlap on two cores. When the lock cannot be had within a
moment (another program is writing) or on a file tanet may not change, everything is read
on the one connection, one part after another, in its one read transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from tanet.store import db as dbmod

LOCK_WAIT_S = 1.0  # how long to wait for the moment's lock before reading on one connection instead


class Snapshot:
    """`shared` is True when Alongside connections can start on the same data; `share`
    starts them there and lets the lock go."""

    def __init__(self, lock: sqlite3.Connection | None):
        self.lock = lock
        self.shared = lock is not None

    def share(self, *alongside: "Alongside") -> None:
        """Wait until each Alongside has started its read, then let other programs write again."""
        try:
            for part in alongside:
                part.ready.wait()
        finally:
            self.release()

    def release(self) -> None:
        if self.lock is not None:
            lock, self.lock = self.lock, None
            try:
                lock.execute("ROLLBACK")
            finally:
                lock.close()


def _begin_read(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts at the first read


def _moment_lock(source: Path) -> sqlite3.Connection | None:
    """A connection holding the write lock, or None when it cannot be had within LOCK_WAIT_S."""
    from urllib.parse import quote

    try:
        lock = sqlite3.connect(f"file:{quote(str(Path(source).absolute()))}?mode=rw", uri=True,
                               timeout=LOCK_WAIT_S, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        lock.execute("BEGIN IMMEDIATE")
    except sqlite3.Error:  # busy with another program's write, or a file that refuses writes
        lock.close()
        return None
    return lock


@contextmanager
def one_snapshot(conn: dbmod.Connection, source: Path):
    """Yields a Snapshot: `conn` reads one moment of the database until the block ends."""
    lock = None if getattr(conn, "read_only_reason", None) else _moment_lock(source)
    snapshot = Snapshot(lock)
    try:
        _begin_read(conn)
        yield snapshot
    finally:
        snapshot.release()
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def reader(path: Path) -> dbmod.Connection:
    """A second connection that can only read `path` (its own temporary tables aside), with
    tanet's settings."""
    from urllib.parse import quote

    conn = sqlite3.connect(f"file:{quote(str(Path(path).absolute()))}?mode=ro", uri=True,
                           timeout=dbmod.BUSY_TIMEOUT_MS / 1000, isolation_level=None, factory=dbmod.Connection)
    conn.path = Path(path)
    conn.row_factory = sqlite3.Row
    dbmod.harden(conn)
    return conn


class Alongside:
    """`work(conn, stop=stop)` run in a thread of its own on a second connection that can only
    read `source`, in one read transaction, while the caller goes on; use it inside a
    `one_snapshot` whose Snapshot is `shared`, and call its `share` with it, so both read
    the same data. Leaving the block waits for the work (the thread never
    outlives it) and gives its `result`. On an error or Ctrl-C in the block, `stop` (a
    threading.Event) is set and the work's SQL interrupted, for it to end early; otherwise
    the work's own error, if any, is raised there."""

    def __init__(self, source: Path, work):
        self.source, self.work = source, work
        self.stop = threading.Event()
        self.conn: sqlite3.Connection | None = None
        self.result = self.error = None
        self.ready = threading.Event()  # set once its read has started (or it failed)
        self.thread = threading.Thread(target=self._run, name="alongside")

    def _run(self) -> None:
        try:
            self.conn = reader(self.source)
            try:
                _begin_read(self.conn)
                self.ready.set()
                self.result = self.work(self.conn, stop=self.stop)
            finally:
                self.conn.close()
        except BaseException as e:  # handed to the caller's thread
            self.error = e
        finally:
            self.ready.set()

    def __enter__(self):
        self.thread.start()
        return self

    def _stop(self) -> None:
        self.stop.set()
        if self.conn is not None:
            try:
                self.conn.interrupt()
            except sqlite3.ProgrammingError:  # already closed: the work is over
                pass

    def __exit__(self, kind, value, tb):
        if kind is not None:
            self._stop()
        interrupted = False
        while self.thread.is_alive():
            try:
                self.thread.join()
            except KeyboardInterrupt:  # Ctrl-C while waiting: stop the work, and still wait for it
                self._stop()
                interrupted = True
        if interrupted and kind is None:
            raise KeyboardInterrupt
        if kind is None and self.error is not None:
            raise self.error
        return False
