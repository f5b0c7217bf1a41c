"""Finding the database file, opening it safely, and one transaction per command."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from tanet.errors import TanetError
from tanet.schema import MIGRATION_SET, MIGRATIONS

BUSY_TIMEOUT_MS = 30_000


def resolve_path(option: str | os.PathLike | None = None) -> Path:
    """`--db` beats `TANET_DB`, which beats the per-user data folder."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get("TANET_DB")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_data_path("tanet") / "tanet.db"


def _create_file(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    except OSError as e:
        raise TanetError(
            f"Cannot create the database at {path}: {e.strerror}. "
            "Choose a folder you can write to with --db PATH or TANET_DB."
        ) from None


def _owner_only(path: Path) -> None:
    # The file holds people's contact details: readable by its owner only.
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if p.stat().st_mode & 0o777 != 0o600:
                p.chmod(0o600)
        except OSError:
            pass


def connect(path: Path) -> sqlite3.Connection:
    """Open an SQLite connection with tanet's settings; no schema work."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.DatabaseError as e:
        conn.close()
        raise TanetError(
            f"{path} is not a tanet database ({e}). "
            "Check the path given with --db or TANET_DB."
        ) from None
    return conn


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
    ).fetchone()
    if not has_table:
        return []
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
            [MIGRATION_SET],
        )
    ]


def open_db(path: Path, *, migrate: bool = True) -> sqlite3.Connection:
    """Open (creating if needed) and upgrade the database at `path`."""
    if path.is_dir():
        raise TanetError(f"{path} is a folder, not a database file. Give a file name, e.g. {path / 'tanet.db'}.")
    if not path.exists():
        _create_file(path)
    conn = connect(path)
    _owner_only(path)
    if migrate:
        try:
            pending = set(MIGRATIONS) - set(applied_migrations(conn))
        except sqlite3.DatabaseError as e:
            conn.close()
            raise TanetError(
                f"{path} is not a tanet database ({e}). "
                "Check the path given with --db or TANET_DB."
            ) from None
        if pending:
            _migrate(conn)
            _owner_only(path)
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    from tanet import migrations

    # Hold the write lock while checking and applying, so two commands
    # started at once on a new file do not both create the tables.
    conn.execute("BEGIN IMMEDIATE")
    try:
        migrations.apply(conn)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: sqlite3.Connection) -> int:
    return len(applied_migrations(conn))


@contextmanager
def transaction(conn: sqlite3.Connection):
    """One write transaction: all of it lands, or none (errors, Ctrl-C, kill)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
