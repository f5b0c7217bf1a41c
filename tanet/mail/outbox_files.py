"""The message files the outbox wrote: a file is deleted only while it still holds the
message its row records, so tanet removes what it wrote and nothing else."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def holds_message(path: Path, message_id: str | None) -> bool:
    """Whether `path` is still the file tanet wrote: a plain file whose Message-ID is the
    one recorded. A file the coordinator put in its place is not tanet's to delete."""
    from email.parser import BytesHeaderParser

    try:
        if path.is_symlink() or not path.is_file():
            return False
        with open(path, "rb") as f:
            head = f.read(65536).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    except OSError:
        return False
    found = BytesHeaderParser().parsebytes(head + b"\r\n\r\n").get("Message-ID")
    return bool(message_id) and found is not None and "".join(found.split()) == "".join(message_id.split())


def forget_files(conn: sqlite3.Connection, where: str, params: list, keep: set[str] = frozenset()) -> int:
    """Delete the files of these outbox rows (unless in `keep`) and clear their `file`.
    Only a file that still holds the row's message is deleted: tanet removes what it
    wrote, never a file by its name or extension."""
    rows = conn.execute(f"SELECT id, file, message_id FROM outbox WHERE file IS NOT NULL AND {where}", params)
    return remove_files(conn, rows.fetchall(), keep)


def drop_meeting_drafts(conn: sqlite3.Connection, meeting_id: int) -> None:
    """A meeting about to be deleted: its outbox rows (never-sent cancellation drafts, the only
    ones such a meeting can have) and their files go (inside the caller's transaction)."""
    forget_files(conn, "meeting_id = ?", [meeting_id])
    conn.execute("DELETE FROM outbox WHERE meeting_id = ?", [meeting_id])


def remove_files(conn: sqlite3.Connection, rows: list, keep: set[str] = frozenset()) -> int:
    """forget_files for rows already read: (file, message_id) of each."""
    from tanet.store.files import drop_from_manifest, tidy_folder

    removed, folders, cleared = 0, {}, set()
    for row in rows:
        if row["file"] in keep:
            continue
        path = Path(row["file"])
        if holds_message(path, row["message_id"]):
            try:
                path.unlink()
                removed += 1
                folders.setdefault(path.parent, set()).add(path.name)
            except OSError:
                pass
        elif not path.exists():  # deleted by hand (sent from a mail program): its folder may be left empty
            folders.setdefault(path.parent, set()).add(path.name)
        cleared.add(row["file"])
    clear_files(conn, cleared)
    for folder, names in folders.items():
        drop_from_manifest(folder, names)
        tidy_folder(folder)
    return removed


def clear_files(conn: sqlite3.Connection, files: set[str]) -> None:
    """Clear `file` in every outbox row naming one of these files (a shared file too): one
    pass over the outbox for all of them, not one per file."""
    if not files:
        return
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS cleared_files (file TEXT PRIMARY KEY)")
    conn.executemany("INSERT OR IGNORE INTO temp.cleared_files (file) VALUES (?)", ((f,) for f in files))
    try:
        conn.execute("UPDATE outbox SET file = NULL WHERE file IN (SELECT file FROM temp.cleared_files)")
    finally:
        conn.execute("DELETE FROM temp.cleared_files")
