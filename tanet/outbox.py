"""The outbox: one row for every message tanet writes or sends, per recipient.

A message is recorded when its file is written, and its outcome is committed the
moment the mail server answers, each in its own transaction (the outbox pattern of
mail systems and job queues): a run that is killed or fails halfway resumes by
sending only what has no `sent_at`, so each member ends with exactly one copy.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tanet.db import transaction

KINDS = ("invitation", "update", "cancellation", "reminder", "thanks", "summary")
CALENDAR_KINDS = ("invitation", "update", "cancellation")
OUTBOX_KEYS = ("id", "meeting_id", "member_id", "email", "kind", "method", "sequence", "message_id", "file",
               "written_at", "sent_at", "error")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Letter:
    """One message to write: its recipients (member id, address) share one file."""
    name: str  # file name in the folder
    msg: object  # an email.message.EmailMessage, or the message's bytes (with message_id)
    kind: str
    recipients: list[tuple[int | None, str]]
    snapshot: dict | None = None
    message_id: str | None = None


@dataclass
class Written:
    folder: Path
    method: str | None
    letters: list[Letter] = field(default_factory=list)
    row_ids: list[int] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(len(letter.recipients) for letter in self.letters if letter.kind == kind)


def earlier_versions(conn: sqlite3.Connection, meeting_id: int, sequence: int) -> dict[int, dict]:
    """Members sent (or written) an earlier version of a meeting's invitation, with the
    latest such version's details (for saying what changed)."""
    rows = conn.execute(
        f"""SELECT member_id, snapshot FROM outbox
            WHERE meeting_id = ? AND sequence < ? AND member_id IS NOT NULL
              AND kind IN ({','.join('?' * len(CALENDAR_KINDS))})
            ORDER BY sequence, id""", [meeting_id, sequence, *CALENDAR_KINDS])
    return {r["member_id"]: json.loads(r["snapshot"]) if r["snapshot"] else {} for r in rows}


def message_ids(conn: sqlite3.Connection, meeting_id: int, kind_in: tuple, sequence: int) -> dict[int, str]:
    """The Message-ID already given to each member's message of this version, so a file
    written again (and a resumed send) is the same message."""
    rows = conn.execute(
        f"""SELECT member_id, message_id FROM outbox WHERE meeting_id = ? AND sequence = ?
            AND kind IN ({','.join('?' * len(kind_in))}) ORDER BY id""", [meeting_id, sequence, *kind_in])
    return {r["member_id"]: r["message_id"] for r in rows}


def record(conn: sqlite3.Connection, meeting_id: int | None, sequence: int | None, method: str | None,
           letter: Letter, file: Path, message_id: str) -> list[int]:
    """Record a written letter, one row per recipient (inside the caller's transaction). A row
    for the same member, kind and version is brought up to date rather than doubled."""
    ids = []
    snapshot = json.dumps(letter.snapshot) if letter.snapshot else None
    for member_id, email in letter.recipients:
        row = conn.execute(
            """SELECT id FROM outbox WHERE meeting_id IS ? AND member_id IS ? AND email = ? COLLATE NOCASE
               AND kind = ? AND sequence IS ? ORDER BY id DESC LIMIT 1""",
            [meeting_id, member_id, email, letter.kind, sequence]).fetchone()
        if row:
            conn.execute("UPDATE outbox SET file = ?, message_id = ?, written_at = ?, method = ?, snapshot = ? "
                         "WHERE id = ?", [str(file), message_id, now(), method, snapshot, row["id"]])
            ids.append(row["id"])
        else:
            cur = conn.execute(
                """INSERT INTO outbox(meeting_id, member_id, email, kind, method, sequence, message_id, file,
                                      written_at, snapshot) VALUES (?,?,?,?,?,?,?,?,?,?)""",
                [meeting_id, member_id, email, letter.kind, method, sequence, message_id, str(file), now(), snapshot])
            ids.append(cur.lastrowid)
    return ids


def forget_files(conn: sqlite3.Connection, where: str, params: list, keep: set[str] = frozenset()) -> int:
    """Delete the files of these outbox rows (unless in `keep`) and clear their `file`."""
    removed = 0
    for row in conn.execute(f"SELECT id, file FROM outbox WHERE file IS NOT NULL AND {where}", params).fetchall():
        if row["file"] in keep:
            continue
        path = Path(row["file"])
        if path.suffix == ".eml" and path.is_file():
            path.unlink()
            removed += 1
        conn.execute("UPDATE outbox SET file = NULL WHERE file = ?", [row["file"]])  # a shared file too
    return removed


def write(conn: sqlite3.Connection, folder: Path, meeting_id: int | None, sequence: int | None,
          method: str | None, letters: list[Letter], kinds: tuple) -> Written:
    """Write the letters as the whole content of `folder` and record them (inside the
    caller's transaction); files of this meeting's earlier letters of these kinds that
    are no longer current are deleted."""
    from tanet.files import NewFolder
    from tanet.ical import message_bytes

    folder = folder.absolute()
    written = Written(folder, method, letters)
    with NewFolder(folder, owned=lambda name: name.endswith((".eml", ".ics")), what="messages") as out:
        current = {str(folder / letter.name) for letter in letters}
        if meeting_id is not None:  # earlier files of this meeting that this run does not replace
            forget_files(conn, f"meeting_id = ? AND kind IN ({','.join('?' * len(kinds))})",
                         [meeting_id, *kinds], keep=current)
        for letter in letters:
            is_bytes = isinstance(letter.msg, bytes)
            out.write(letter.name, letter.msg if is_bytes else message_bytes(letter.msg))
            path = folder / letter.name
            message_id = letter.message_id if is_bytes else letter.msg["Message-ID"]
            written.row_ids += record(conn, meeting_id, sequence, method, letter, path, message_id)
        out.commit()
    return written


def to_send(conn: sqlite3.Connection, row_ids: list[int], resend: bool) -> list[sqlite3.Row]:
    if not row_ids:
        return []
    marks = ",".join("?" * len(row_ids))
    sql = f"SELECT * FROM outbox WHERE id IN ({marks})" + ("" if resend else " AND sent_at IS NULL")
    return conn.execute(sql + " ORDER BY id", row_ids).fetchall()


def deliver(conn: sqlite3.Connection, rows: list[sqlite3.Row], values: dict, progress=None) -> tuple[int, list[str]]:
    """Send each row's file over SMTP, committing each outcome as it comes. Returns the
    number of recipients reached and the problems; one failure never stops the rest."""
    from email import message_from_bytes, policy

    from tanet.mail import Session

    if not rows:
        return 0, []
    by_file: dict[str, list[sqlite3.Row]] = {}
    for row in rows:
        by_file.setdefault(row["file"], []).append(row)
    session = Session(values)
    sent, failures = 0, []
    try:
        for i, (file, group) in enumerate(by_file.items(), 1):
            addresses = [r["email"] for r in group]
            try:
                msg = message_from_bytes(Path(file).read_bytes(), policy=policy.SMTP)
            except (OSError, TypeError) as e:
                why = f"its file cannot be read ({getattr(e, 'strerror', e)}); write it again without --send"
                problems = {a.lower(): why for a in addresses}
            else:
                del msg["X-Unsent"]  # a draft marker for e-mail programs, not for the recipient
                problems = session.send(msg, addresses)
            stamp = now()
            with transaction(conn):
                for row in group:
                    problem = problems.get(row["email"].lower())
                    if problem:
                        conn.execute("UPDATE outbox SET error = ? WHERE id = ?", [problem, row["id"]])
                        failures.append(f"{row['email']}: {problem}")
                    else:
                        conn.execute("UPDATE outbox SET sent_at = ?, error = NULL WHERE id = ?", [stamp, row["id"]])
                        sent += 1
            if progress:
                progress(i, len(by_file))
    finally:
        session.close()
    return sent, failures


def list_rows(conn: sqlite3.Connection, meeting_id: int | None, unsent: bool) -> list[dict]:
    where, params = [], []
    if meeting_id is not None:
        where.append("meeting_id = ?")
        params.append(meeting_id)
    if unsent:
        where.append("sent_at IS NULL")
    sql = "SELECT * FROM outbox" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    return [{k: r[k] for k in OUTBOX_KEYS} for r in conn.execute(sql, params)]
