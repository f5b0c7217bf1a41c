"""Backups and integrity checks."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from tanet.errors import TanetError


def backup(conn: sqlite3.Connection, source: Path, dest: Path | None) -> Path:
    """A consistent copy through SQLite's online backup; readable by the owner only."""
    if dest is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        dest = source.with_name(f"{source.stem}-backup-{stamp}{source.suffix or '.db'}")
    elif dest.is_dir():
        dest = dest / f"{source.stem}-backup-{datetime.now():%Y%m%d-%H%M%S}{source.suffix or '.db'}"
    if dest.exists():
        raise TanetError(f"{dest} already exists; choose another name so nothing is overwritten.")
    if dest.resolve() == source.resolve():
        raise TanetError("The backup cannot be the database itself; give another file name.")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.touch(mode=0o600)
        target = sqlite3.connect(dest)
    except OSError as e:
        raise TanetError(f"Cannot write {dest}: {e.strerror}. Choose a folder you can write to.") from None
    try:
        conn.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
    finally:
        target.close()
    dest.chmod(0o600)
    return dest


def check(conn: sqlite3.Connection) -> list[str]:
    """Problems found by integrity_check and foreign_key_check (empty when healthy)."""
    problems = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
        problems.append(f"{table} row {rowid} points to a missing {parent} row")
    return problems
