"""The write-ahead journal: commits without a sync each while sending, and emptying it into
the file so that erased details are left nowhere."""

from __future__ import annotations

import sqlite3

from tanet.store import db


def clear_old_copies(conn: sqlite3.Connection) -> bool:
    """Copy the write-ahead log into the file and empty it, so erased details are left
    nowhere; False when another program holds an older view of the file open, which keeps
    those copies until it closes. Waits a few seconds for a reader that is just finishing."""
    conn.execute("PRAGMA busy_timeout = 3000")
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.execute(f"PRAGMA busy_timeout = {db.BUSY_TIMEOUT_MS}")
    return not busy


class LightCommits:
    """For sending, where each message's outcome is its own small commit: commits without an
    fsync each (the WAL journal with synchronous=NORMAL, durable when tanet is killed), the
    journal synced to disk at most `every` seconds apart and at the end, so a power cut can
    lose the outcomes of about the last second only. The connection's setting is put back after."""

    def __init__(self, conn: sqlite3.Connection, every: float = 1.0, clock=None):
        import time

        self.conn, self.every, self.clock = conn, every, clock or time.monotonic
        self.old = None

    def __enter__(self):
        if self.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            self.old = self.conn.execute("PRAGMA synchronous").fetchone()[0]
            self.conn.execute("PRAGMA synchronous = NORMAL")
        self.last = self.clock()
        return self

    def now_and_then(self) -> None:
        """Sync the journal if the last sync was `every` seconds ago or more (between commits)."""
        if self.old is not None and self.clock() - self.last >= self.every:
            self.sync()

    def sync(self) -> None:
        # A checkpoint syncs the journal first: every commit so far is then on disk.
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self.last = self.clock()

    def __exit__(self, *exc):
        if self.old is None:
            return False
        try:
            if not self.conn.in_transaction:
                self.sync()
        finally:
            self.conn.execute(f"PRAGMA synchronous = {int(self.old)}")
        return False
