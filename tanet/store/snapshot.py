"""Reading the whole database as it stood at one moment, and copying it meanwhile.

`one_snapshot` holds a command's reading in one transaction. On a file tanet may change it
takes SQLite's write lock (BEGIN IMMEDIATE, nothing written, rolled back at the end): no
other program can commit until the command is done, so a second connection reads exactly
what this one reads, and `Alongside` can do part of the work (copy the file, read
figures) on such a second connection in a thread of its own: SQLite releases Python's lock
while it works, so the parts overlap on two cores. On a file tanet may not change it is a
plain read transaction: the same snapshot, read on the one connection.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from tanet.store import db as dbmod


@contextmanager
def one_snapshot(conn: dbmod.Connection):
    """Yields True when other programs' writes wait (busy timeout) until the block ends, so a
    second connection sees the same data; False when only this connection's reads are one
    snapshot (a file tanet may not change). A busy file gives the one busy message."""
    locked = not getattr(conn, "read_only_reason", None)
    if locked:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            if "readonly" not in str(e) and "read-only" not in str(e):
                raise dbmod.explain(e, conn.path) from None
            locked = False  # a file or folder that refuses writes although its permissions allow them
    if not locked:
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts at the first read
    try:
        yield locked
    finally:
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
    read `source`, while the caller goes on; use it inside a `one_snapshot` that yielded True,
    so both read the same data. Leaving the block waits for the work (the thread never
    outlives it) and gives its `result`. On an error or Ctrl-C in the block, `stop` (a
    threading.Event) is set and the work's SQL interrupted, for it to end early; otherwise
    the work's own error, if any, is raised there."""

    def __init__(self, source: Path, work):
        self.source, self.work = source, work
        self.stop = threading.Event()
        self.conn: sqlite3.Connection | None = None
        self.result = self.error = None
        self.thread = threading.Thread(target=self._run, name="alongside")

    def _run(self) -> None:
        try:
            self.conn = reader(self.source)
            try:
                self.result = self.work(self.conn, stop=self.stop)
            finally:
                self.conn.close()
        except BaseException as e:  # handed to the caller's thread
            self.error = e

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
