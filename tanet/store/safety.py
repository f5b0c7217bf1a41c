"""Backups, restoring one, and integrity checks.

A restore never replaces the file under another process: it holds the sender lock (no
send runs meanwhile) and SQLite's write lock, copies the current contents aside, then
copies the backup's rows into the live database in one transaction, so a command writing
at the same moment lands either before (and is in the copy set aside) or after (and is in
the restored file), never in neither. The backup is data: its schema must be tanet's own,
and its mail settings are used only when asked for (--keep-mail-settings).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path

from tanet.errors import TanetError


def default_backup_path(source: Path) -> Path:
    """A timestamped name beside `source` that is not taken yet (-2, -3... within one second)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    suffix = source.suffix or ".db"
    path, n = source.with_name(f"{source.stem}-backup-{stamp}{suffix}"), 1
    while path.exists() or Path(f"{path}-wal").exists():
        n += 1
        path = source.with_name(f"{source.stem}-backup-{stamp}-{n}{suffix}")
    return path


def backup(conn: sqlite3.Connection, source: Path, dest: Path | None) -> Path:
    """A consistent copy through SQLite's online backup, owner-only, that appears whole
    under its final name or not at all."""
    from tanet.store.files import cannot_write

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
        copy_whole(conn, dest, overwrite=False, db_path=source)
    except sqlite3.OperationalError as e:
        if "full" in str(e):
            raise TanetError(f"Cannot write {dest}: the disk is full. Free some space and try again; "
                             "the database itself is unharmed.") from None
        raise TanetError(f"Cannot write {dest} ({e}); the database itself is unharmed.") from None
    except OSError as e:
        raise cannot_write(dest, e) from None
    return dest


class CopyStopped(Exception):
    """A copy ended unfinished because the command it was made for stopped."""


STEP_PAGES = 4096  # a copy that may be stopped checks between steps of this many pages (16 MB)


def copy_whole(conn: sqlite3.Connection, dest: Path, *, overwrite: bool, db_path: Path | None = None,
               stop=None) -> None:
    """Copy a database through SQLite's backup API into a temporary file beside `dest`,
    flush it to disk, then rename it to `dest`: a kill or a full disk leaves nothing there
    (and a copy a kill -9 left is removed at the next start, recorded beside `db_path`).
    `stop` (a threading.Event) set by another thread ends the copy at its next step,
    removed, with CopyStopped."""
    from contextlib import nullcontext

    from tanet.store.unfinished import partial_copies

    with partial_copies(db_path, dest) if db_path else nullcontext():
        _copy_whole(conn, dest, overwrite, stop)


def _go_on(stop) -> None:
    if stop.is_set():
        raise CopyStopped("the copy was stopped")


def _copy_whole(conn: sqlite3.Connection, dest: Path, overwrite: bool, stop=None) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        target = sqlite3.connect(tmp)
        try:
            if stop is None:
                conn.backup(target)
            else:
                conn.backup(target, pages=STEP_PAGES, progress=lambda status, remaining, total: _go_on(stop))
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
        _remove_with_journal(tmp)
        raise


def _remove_with_journal(path) -> None:
    for leftover in (path, f"{path}-journal", f"{path}-wal", f"{path}-shm"):
        try:
            os.unlink(leftover)
        except OSError:
            pass


DAMAGE = ("malformed", "not a database", "corrupt", "disk image")


def check(conn: sqlite3.Connection) -> list[str]:
    """Problems found by integrity_check and foreign_key_check (empty when healthy)."""
    problems = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
        problems.append(f"{table} row {rowid} points to a missing {parent} row")
    return problems


def check_file(path: Path) -> dict[str, list[str]]:
    """Check a database file without changing it: `problems` (damage) and `foreign` (objects
    tanet never makes). A cause outside the file (a full disk, a read-only folder, a lock)
    raises the TanetError that names it: that is no reason to put back a backup."""
    from urllib.parse import quote

    from tanet.store import db as dbmod
    from tanet.store.schema import MIGRATIONS
    from tanet.store.schema_check import foreign_objects

    probe = None
    try:
        probe = dbmod.harden(sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True,
                                             timeout=dbmod.BUSY_TIMEOUT_MS / 1000))
        problems = check(probe)
        applied = dbmod.applied_migrations(probe)
        known = applied and all(name in MIGRATIONS for name in applied)
        foreign = foreign_objects(probe, len(applied)) if known and not problems else []
        newer = [name for name in applied if name not in MIGRATIONS]
    except sqlite3.DatabaseError as e:
        if not any(word in str(e).lower() for word in DAMAGE):
            raise dbmod.explain(e, path) from None
        return {"problems": [str(e)], "foreign": [], "newer": []}
    finally:
        if probe is not None:
            probe.close()
    return {"problems": problems, "foreign": foreign, "newer": newer}


def mail_keys() -> list[str]:
    """Settings that run a command or decide where mail goes: a backup's are used only when asked."""
    from tanet.store.settings import SETTINGS

    return [key for key in SETTINGS if key.startswith("smtp.")] + ["organiser.email"]


def restore(current: Path, source: Path, *, forget, keep_mail_settings: bool = False) -> dict:
    """Put the backup `source` in place of the database `current`, after checking it and
    copying the current contents aside. Returns {"aside": where they went (or None),
    "mail": [(setting, backup's value, current value)] that differed, "kept": whose were kept}.
    `forget(conn, member ref, day)` forgets a member again (tanet.privacy.forget, which sits
    above the store: it reaches the outbox's files and every table with a person's details)."""
    from tanet.store.sendlock import sender_lock
    from tanet.store.unfinished import partial_copies

    if not source.is_file():
        raise TanetError(f"There is no backup file {source}. Check the name and folder.")
    if current.exists() and source.resolve() == current.resolve():
        raise TanetError("That is the database itself; give the backup file to put back.")
    with sender_lock(current, "restore"), partial_copies(current, current):
        staged = _stage(current, source)
        try:
            return _put_back(current, staged, keep_mail_settings, forget)
        finally:
            _remove_with_journal(staged)


def _stage(current: Path, source: Path) -> Path:
    """A checked copy of the backup beside the database, upgraded to this version's schema."""
    from urllib.parse import quote

    from tanet.store import db as dbmod
    from tanet.store.schema import MIGRATIONS

    try:
        recorded = dbmod.recorded_migrations(source)
    except dbmod.ForeignSchema as e:
        raise TanetError(f"{source} was not restored: it holds {', '.join(e.objects[:3])}, which tanet never makes, "
                         "so it could act behind your back. Nothing was changed; restore a backup tanet made."
                         ) from None
    except TanetError as e:
        raise TanetError(f"{source} cannot be restored: {e}") from None
    if not recorded:
        raise TanetError(f"{source} is not a tanet backup (it holds no tanet data), so nothing was changed.")
    if any(name not in MIGRATIONS for name in recorded):
        raise TanetError(f"{source} was made by a newer tanet; install the newer tanet to restore it. "
                         "Nothing was changed.")
    found = check_file(source)["problems"]
    if found:
        raise TanetError(f"{source} is damaged ({found[0]}), so it was not restored. Nothing was changed.")
    fd, tmp = tempfile.mkstemp(prefix=f".{current.name}.", suffix=".tmp", dir=current.parent)
    os.close(fd)
    try:
        src = dbmod.harden(sqlite3.connect(f"file:{quote(str(source.resolve()))}?mode=ro", uri=True))
        try:
            target = sqlite3.connect(tmp)
            src.backup(target)
            target.close()
        finally:
            src.close()
        dbmod.open_db(Path(tmp)).close()  # an older backup is upgraded, and its schema checked again
    except sqlite3.DatabaseError as e:
        _remove_with_journal(tmp)
        raise TanetError(f"Cannot copy {source} beside {current} ({e}); the database was not changed.") from None
    except BaseException:
        _remove_with_journal(tmp)
        raise
    return Path(tmp)


def _put_back(current: Path, staged: Path, keep_mail_settings: bool, forget) -> dict:
    from tanet.store import db as dbmod

    existed = current.exists()
    try:
        return _into_live(current, staged, keep_mail_settings, forget, None, set_aside=existed)
    except dbmod.UnusableFile:
        # Damaged, or changed outside tanet: the old file itself (and its journal) goes aside.
        aside = default_backup_path(current)
        for suffix in ("-wal", ""):
            if Path(f"{current}{suffix}").exists():
                os.replace(f"{current}{suffix}", f"{aside}{suffix}")
        _remove_with_journal(f"{current}-shm")
        return _into_live(current, staged, keep_mail_settings, forget, aside, set_aside=False)


def _into_live(current: Path, staged: Path, keep_mail_settings: bool, forget, aside: Path | None,
               set_aside: bool) -> dict:
    from tanet.store import db as dbmod

    live = dbmod.open_db(current, create=True)
    try:
        if live.read_only_reason:
            raise TanetError(live.read_only_reason)
        return _replace_rows(live, staged, keep_mail_settings, forget, aside, set_aside)
    except sqlite3.DatabaseError as e:
        raise dbmod.explain(e, current) from None
    finally:
        live.close()


def _replace_rows(live, staged: Path, keep_mail_settings: bool, forget, aside: Path | None, set_aside: bool) -> dict:
    """In one write transaction: copy the current rows aside, then the backup's rows in."""
    live.execute("ATTACH DATABASE ? AS restored", [str(staged)])
    try:
        live.execute("BEGIN IMMEDIATE")  # waits for a command writing now to finish
        try:
            if set_aside:  # through a second connection: the writer may not be a backup's source
                from tanet.store.db import connect

                reader = connect(live.path)
                try:
                    aside = backup(reader, live.path, None)
                finally:
                    reader.close()
            mail = _mail_differences(live)
            world = _what_happened(live)
            live.execute("PRAGMA defer_foreign_keys = ON")
            tables = [r[0] for r in live.execute(
                "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%'")]
            for table in tables:
                live.execute(f'DELETE FROM main."{table}"')
            for table in tables:
                live.execute(f'INSERT INTO main."{table}" SELECT * FROM restored."{table}"')
            if not keep_mail_settings:
                for key, _, value in mail:
                    live.execute("DELETE FROM main.settings WHERE key = ?", [key])
                    if value is not None:
                        live.execute("INSERT INTO main.settings(key, value) VALUES (?, ?)", [key, value])
            kept = _keep_what_happened(live, world, forget)
            live.execute("COMMIT")
        except BaseException:
            if live.in_transaction:
                live.execute("ROLLBACK")
            raise
    finally:
        live.execute("DETACH DATABASE restored")
    erased = True
    if kept["forgotten"]:
        from tanet.store.journal import clear_old_copies

        erased = clear_old_copies(live)  # the backup's copies of them leave the journal too
    return {"aside": aside, "mail": mail, "kept": "backup" if keep_mail_settings else "current", **kept,
            "erased": erased}


def _what_happened(live) -> dict:
    """What the current file knows happened in the world, which no backup can undo: the
    members forgotten (with what identifies their row), and the messages sent or attempted."""
    return {"forgotten": live.execute("SELECT id, joined_on, service_area, left_on, forgotten_on FROM main.members "
                                      "WHERE forgotten_on IS NOT NULL").fetchall(),
            "sent": live.execute("SELECT * FROM main.outbox WHERE sent_at IS NOT NULL OR attempted_at IS NOT NULL"
                                 ).fetchall()}


def _keep_what_happened(live, world: dict, forget) -> dict:
    """After the backup's rows are in: forget again whoever was forgotten since it was made
    (the same row: id, joining date and service area), and keep every message sent since as
    sent, so a restore never brings back an erased person nor sends a message twice."""
    from datetime import date

    live.execute("PRAGMA secure_delete = ON")
    forgotten = 0
    for row in world["forgotten"]:
        back = live.execute("SELECT forgotten_on FROM main.members WHERE id = ? AND joined_on = ? AND service_area = ?",
                            [row["id"], row["joined_on"], row["service_area"]]).fetchone()
        if back is not None and back["forgotten_on"] is None:
            forget(live, str(row["id"]), date.fromisoformat(row["forgotten_on"]))
            live.execute("UPDATE main.members SET left_on = ? WHERE id = ?", [row["left_on"], row["id"]])
            forgotten += 1
    sent = 0
    columns = [c for c in world["sent"][0].keys() if c != "id"] if world["sent"] else []
    for row in world["sent"]:
        same = live.execute("SELECT id, sent_at FROM main.outbox WHERE message_id IS ? AND member_id IS ? "
                            "AND kind = ? AND sequence IS ?",
                            [row["message_id"], row["member_id"], row["kind"], row["sequence"]]).fetchone()
        if same is not None:
            if same["sent_at"] is None:
                live.execute("UPDATE main.outbox SET sent_at = ?, attempted_at = ?, error = ? WHERE id = ?",
                             [row["sent_at"], row["attempted_at"], row["error"], same["id"]])
                sent += 1
            continue
        known = all(live.execute(f"SELECT 1 FROM main.{table} WHERE id = ?", [row[key]]).fetchone()
                    for key, table in (("meeting_id", "meetings"), ("member_id", "members")) if row[key] is not None)
        if known:
            live.execute(f"INSERT INTO main.outbox({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                         [row[c] for c in columns])
            sent += 1
    return {"forgotten": forgotten, "sent_kept": sent}


def _mail_differences(live) -> list[tuple[str, str | None, str | None]]:
    keys = mail_keys()
    marks = ", ".join("?" * len(keys))
    now = dict(live.execute(f"SELECT key, value FROM main.settings WHERE key IN ({marks})", keys).fetchall())
    then = dict(live.execute(f"SELECT key, value FROM restored.settings WHERE key IN ({marks})", keys).fetchall())
    return [(key, then.get(key), now.get(key)) for key in keys if then.get(key) != now.get(key)]
