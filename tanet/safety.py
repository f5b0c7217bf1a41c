"""Backups, restoring one, and integrity checks."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path

from tanet.errors import TanetError


def default_backup_path(source: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return source.with_name(f"{source.stem}-backup-{stamp}{source.suffix or '.db'}")


def backup(conn: sqlite3.Connection, source: Path, dest: Path | None) -> Path:
    """A consistent copy through SQLite's online backup, owner-only, that appears whole
    under its final name or not at all."""
    from tanet.files import cannot_write

    if dest is None:
        dest = default_backup_path(source)
    elif dest.is_dir():
        dest = dest / default_backup_path(source).name
    if not dest.parent.is_dir():
        raise TanetError(f"The folder {dest.parent} does not exist. Create it first, or give a file in a folder "
                         "that exists.")
    if dest.exists():
        raise TanetError(f"{dest} already exists; choose another name so nothing is overwritten.")
    if dest.resolve() == source.resolve():
        raise TanetError("The backup cannot be the database itself; give another file name.")
    try:
        copy_whole(conn, dest, overwrite=False)
    except sqlite3.OperationalError as e:
        if "full" in str(e):
            raise TanetError(f"Cannot write {dest}: the disk is full. Free some space and try again; "
                             "the database itself is unharmed.") from None
        raise TanetError(f"Cannot write {dest} ({e}); the database itself is unharmed.") from None
    except OSError as e:
        raise cannot_write(dest, e) from None
    return dest


def copy_whole(conn: sqlite3.Connection, dest: Path, *, overwrite: bool) -> None:
    """Copy a database through SQLite's backup API into a temporary file beside `dest`,
    flush it to disk, then rename it to `dest`: a kill or a full disk leaves nothing there."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        target = sqlite3.connect(tmp)
        try:
            conn.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if not overwrite and dest.exists():
            raise FileExistsError(17, "it appeared while the copy was being made")
        os.replace(tmp, dest)
    except BaseException:
        for leftover in (tmp, f"{tmp}-journal", f"{tmp}-wal", f"{tmp}-shm"):
            try:
                os.unlink(leftover)
            except OSError:
                pass
        raise


def check(conn: sqlite3.Connection) -> list[str]:
    """Problems found by integrity_check and foreign_key_check (empty when healthy)."""
    problems = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
        problems.append(f"{table} row {rowid} points to a missing {parent} row")
    return problems


def check_file(path: Path) -> list[str]:
    """Check a database file without changing it: a damaged file gives its problems."""
    from urllib.parse import quote

    try:
        probe = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    except sqlite3.DatabaseError as e:
        return [str(e)]
    try:
        return check(probe)
    except sqlite3.DatabaseError as e:
        return [str(e)]
    finally:
        probe.close()


def restore(current: Path, source: Path) -> Path:
    """Put the backup `source` in place of the database `current`, after checking it and
    copying the current file aside; returns where the current file was copied."""
    from urllib.parse import quote

    from tanet import db as dbmod
    from tanet.schema import MIGRATIONS

    if not source.is_file():
        raise TanetError(f"There is no backup file {source}. Check the name and folder.")
    if source.resolve() == current.resolve():
        raise TanetError("That is the database itself; give the backup file to put back.")
    try:
        recorded = dbmod._whose(source)
    except TanetError as e:
        raise TanetError(f"{source} cannot be restored: {e}") from None
    if not recorded:
        raise TanetError(f"{source} is not a tanet backup (it holds no tanet data), so nothing was changed.")
    if any(name not in MIGRATIONS for name in recorded):
        raise TanetError(f"{source} was made by a newer tanet; install the newer tanet to restore it. "
                         "Nothing was changed.")
    problems = check_file(source)
    if problems:
        raise TanetError(f"{source} is damaged ({problems[0]}), so it was not restored. Nothing was changed.")
    aside = None
    if current.exists():
        conn = dbmod.open_db(current, migrate=False)
        try:
            aside = backup(conn, current, None)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    src = sqlite3.connect(f"file:{quote(str(source.resolve()))}?mode=ro", uri=True)
    try:
        copy_whole(src, current, overwrite=True)
    except (OSError, sqlite3.DatabaseError) as e:
        raise TanetError(f"Cannot put the backup in place of {current} ({e}); the database was not changed.") from None
    finally:
        src.close()
    # The old file's journal belongs to the old file: it must never be replayed onto this one.
    for suffix in ("-wal", "-shm"):
        try:
            os.unlink(f"{current}{suffix}")
        except FileNotFoundError:
            pass
    return aside
