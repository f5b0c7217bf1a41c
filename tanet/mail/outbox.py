"""The outbox: one row for every message tanet writes or sends, per recipient.

A message is recorded when its file is written, and its outcome is committed the
moment the mail server answers, each in its own transaction (the outbox pattern of
mail systems and job queues): a run that is killed or fails halfway resumes by
sending only what has no `sent_at`, so each member ends with exactly one copy. The
sending itself is in tanet.mail.outbox_send.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from tanet.mail import outbox_files

KINDS = ("invitation", "update", "cancellation", "reminder", "thanks", "summary")
CALENDAR_KINDS = ("invitation", "update", "cancellation")  # the messages that carry the meeting's calendar
INVITING_KINDS = ("invitation", "update")  # those of them that put the meeting in a calendar
OUTBOX_KEYS = ("id", "meeting_id", "member_id", "email", "kind", "method", "sequence", "message_id", "file",
               "written_at", "sent_at", "error")


def kind_in(kinds: tuple, column: str = "kind") -> str:
    """`kind IN ('invitation', 'update')`: a condition on the kinds above, for SQL that
    names them (they are this module's constants, never a user's text)."""
    if not set(kinds) <= set(KINDS):
        raise ValueError(f"not kinds of message: {kinds}")
    return f"{column} IN ({', '.join(repr(k) for k in kinds)})"


def now() -> str:
    """The time in UTC to the second, as ISO 8601 text: made once a second, not once a row."""
    second = int(time.time())
    if second != _STAMP[0]:
        _STAMP[:] = [second, datetime.fromtimestamp(second, timezone.utc).isoformat()]
    return _STAMP[1]


_STAMP: list = [None, ""]  # the last second asked for, and its text


@dataclass
class Letter:
    """One message to write: its recipients (member id, address) share one file."""
    name: str  # file name in the folder
    msg: object  # an email.message.EmailMessage, or the message's bytes (with message_id)
    kind: str
    recipients: list[tuple[int | None, str]]
    snapshot: dict | None = None
    message_id: str | None = None
    copy_to: tuple[str, ...] = ()  # also an envelope recipient of the same file (the organiser's copy)


@dataclass
class Written:
    """What a run wrote: its outbox rows, and how many recipients of each kind. The letters
    themselves are kept only when given (a leaver's few); written ones are counted and let go."""
    folder: Path
    method: str | None
    letters: list[Letter] = field(default_factory=list)
    row_ids: list[int] = field(default_factory=list)
    meeting_id: int | None = None  # the one meeting they are about, if there is one
    recipients: dict[str, int] = field(default_factory=dict)  # kind: how many

    def __post_init__(self):
        for letter in self.letters:
            self.counted(letter)

    def counted(self, letter: Letter) -> None:
        self.recipients[letter.kind] = self.recipients.get(letter.kind, 0) + len(letter.recipients)

    def count(self, kind: str) -> int:
        return self.recipients.get(kind, 0)


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


def add_row(conn: sqlite3.Connection, meeting_id: int | None, sequence: int | None, method: str | None,
           letter: Letter, file: Path | str, message_id: str) -> list[int]:
    """Record a written letter, one row per recipient (inside the caller's transaction). A row
    for the same member, kind and version is brought up to date rather than doubled."""
    return Recorder(conn, meeting_id, sequence, method, fresh=False).add(letter, str(file), message_id)


class Recorder:
    """Records one run's letters of a meeting's version. What is the same for every letter is
    done once: the snapshot's JSON, and whether the version has any row yet. When it has none,
    a member's first letter of the run has no row to bring up to date, so none is looked for,
    and its row is inserted with others, many to a statement (`finish` inserts the last ones)."""

    BATCH = 99  # rows to an INSERT: 990 parameters, within every SQLite's limit (999 before 3.32)

    def __init__(self, conn: sqlite3.Connection, meeting_id: int | None, sequence: int | None,
                 method: str | None, fresh: bool | None = None):
        self.conn, self.meeting_id, self.sequence, self.method = conn, meeting_id, sequence, method
        self.fresh = fresh if fresh is not None else conn.execute(
            "SELECT 1 FROM outbox WHERE meeting_id IS ? AND sequence IS ? LIMIT 1", [meeting_id, sequence]
        ).fetchone() is None
        self.seen = bytearray()  # a bit for each member given a row in this run
        self.shot, self.shot_json = None, None
        self.pending: list = []  # the values of rows still to insert, one after another
        self.row_ids: list[int] = []  # every row recorded, in the order recorded

    def first_row_of(self, member_id: int | None) -> bool:
        """Whether this member certainly has no row of this version yet (and now has one)."""
        if not self.fresh or member_id is None or not 0 <= member_id < 1 << 24:
            return False  # looked for, as in a version that has rows
        byte, bit = divmod(member_id, 8)
        if byte >= len(self.seen):
            self.seen.extend(bytes(byte + 1 - len(self.seen)))
        had = self.seen[byte] >> bit & 1
        self.seen[byte] |= 1 << bit
        return not had

    def add(self, letter: Letter, file: str, message_id: str) -> list[int]:
        """Record the letter; the ids of its rows, but for those still to insert (in row_ids
        once `finish` has inserted them)."""
        meeting_id, sequence, method = self.meeting_id, self.sequence, self.method
        ids, stamp, snapshot = [], now(), None
        if letter.snapshot:  # every letter of a run has the same meeting's details
            if letter.snapshot != self.shot:
                self.shot, self.shot_json = dict(letter.snapshot), json.dumps(letter.snapshot)
            snapshot = self.shot_json
        for member_id, email in letter.recipients:
            values = (meeting_id, member_id, email, letter.kind, method, sequence, message_id, file, stamp, snapshot)
            if self.first_row_of(member_id):
                self.pending += values
                if len(self.pending) >= 10 * self.BATCH:
                    self._insert_pending()
            else:
                ids.append(self._record_now(values))
        return ids

    def _record_now(self, values: tuple) -> int:
        """A row brought up to date, or inserted, at once (after those still to insert)."""
        conn = self.conn
        meeting_id, member_id, email, kind, method, sequence, message_id, file, stamp, snapshot = values
        self._insert_pending()
        row = conn.execute(
            f"""SELECT id FROM outbox WHERE meeting_id IS ? AND member_id IS ? AND email = ? COLLATE NOCASE
               AND kind = ? AND sequence IS ? AND NOT EXISTS
                   (SELECT 1 FROM outbox w WHERE w.meeting_id = outbox.meeting_id
                    AND w.member_id = outbox.member_id AND {kind_in(CALENDAR_KINDS, 'w.kind')}
                    AND w.kind != outbox.kind AND w.id > outbox.id)
               ORDER BY id DESC LIMIT 1""",  # a copy withdrawn (or invited again) since is not reused
            [meeting_id, member_id, email, kind, sequence]).fetchone()
        if row:
            conn.execute("UPDATE outbox SET file = ?, message_id = ?, written_at = ?, method = ?, snapshot = ? "
                         "WHERE id = ?", [file, message_id, stamp, method, snapshot, row["id"]])
            row_id = row["id"]
        else:
            row_id = conn.execute(_INSERT + _ROW, values).lastrowid
        self.row_ids.append(row_id)
        return row_id

    def _insert_pending(self) -> None:
        """The rows still to insert, inserted many to a statement. RETURNING gives their ids in no
        set order; each row's id is above those inserted before it, so sorted they are in order."""
        values = self.pending
        if sqlite3.sqlite_version_info < (3, 35):  # no RETURNING: a statement a row
            for start in range(0, len(values), 10):
                self.row_ids.append(self.conn.execute(_INSERT + _ROW, values[start:start + 10]).lastrowid)
            self.pending = []
            return
        for start in range(0, len(values), 10 * self.BATCH):
            chunk = values[start:start + 10 * self.BATCH]
            sql = _INSERT + ",".join([_ROW] * (len(chunk) // 10)) + " RETURNING id"
            self.row_ids += sorted(row[0] for row in self.conn.execute(sql, chunk))
        self.pending = []

    def finish(self) -> list[int]:
        """Insert what is left to insert; the ids of every row recorded, in order."""
        self._insert_pending()
        return self.row_ids


_INSERT = ("INSERT INTO outbox(meeting_id, member_id, email, kind, method, sequence, message_id, file, "
           "written_at, snapshot) VALUES ")
_ROW = "(?,?,?,?,?,?,?,?,?,?)"


NOUNS = {"invitation": "invitations", "reminder": "reminders", "thanks": "thank-you messages",
         "summary": "summaries", "cancellation": "cancellations"}


def folder_owner(meeting_id: int | None, kinds: tuple) -> str:
    """Whose folder this is, as its manifest names it: "meeting #21's invitations"."""
    noun = NOUNS.get(kinds[0], "messages")
    return f"meeting #{meeting_id}'s {noun}" if meeting_id is not None else f"tanet's {noun}"


def write(conn: sqlite3.Connection, folder: Path, meeting_id: int | None, sequence: int | None,
          method: str | None, letters, kinds: tuple) -> Written:
    """Write the letters (any iterable: each is written and let go before the next is made)
    as the whole content of `folder` and record them (inside the caller's transaction). The
    folder is this meeting's alone: one holding anything else is refused, untouched. Then
    the files of this meeting's earlier letters of these kinds that are no longer current
    are deleted."""
    from tanet.mail.compose import message_bytes
    from tanet.store.files import NewFolder

    folder = folder.absolute()
    written = Written(folder, method, meeting_id=meeting_id)
    kind_marks = ",".join("?" * len(kinds))
    earlier = conn.execute(
        f"SELECT id, file, message_id, kind FROM outbox WHERE meeting_id IS ? AND kind IN ({kind_marks}) "
        "AND file IS NOT NULL", [meeting_id, *kinds]).fetchall()
    recorded = {r["file"] for r in earlier}
    if meeting_id is not None and conn.execute("SELECT status FROM meetings WHERE id = ?",
                                               [meeting_id]).fetchone()[0] == "scheduled":
        # A leaver's withdrawal (in its own folder) stays theirs; a reinstated meeting's cancellations go.
        earlier = [r for r in earlier if r["kind"] != "cancellation" or Path(r["file"]).parent == folder]
    hint = ("Choose another folder with -o DIR (or leave out -o: each meeting has its own)." if meeting_id
            is not None else "Move those files out of it, then run the same command again.")
    current = set()  # the files this run wrote that an earlier row also names
    inside = os.path.join(str(folder), "")  # the folder's path and a separator: a file's path is this and its name
    recorder = Recorder(conn, meeting_id, sequence, method)
    with NewFolder(folder, owned=lambda name: inside + name in recorded, what="messages",
                   owner=folder_owner(meeting_id, kinds), hint=hint) as out:
        for letter in letters:
            is_bytes = isinstance(letter.msg, bytes)
            out.put(letter.name, letter.msg if is_bytes else message_bytes(letter.msg))
            path = inside + letter.name
            if path in recorded:
                current.add(path)
            message_id = letter.message_id if is_bytes else letter.msg["Message-ID"]
            recorder.add(letter, path, message_id)
            if letter.copy_to:
                copy = replace(letter, recipients=[(None, address) for address in letter.copy_to], snapshot=None)
                recorder.add(copy, path, message_id)
            written.counted(letter)
        written.row_ids = recorder.finish()
        out.commit()
    if meeting_id is not None and earlier:  # earlier files of this meeting that this run did not replace
        mine = set(written.row_ids)
        outbox_files.remove_files(conn, earlier, keep=current)
        # A row of an earlier version whose file name now holds this version has no file of its own.
        conn.executemany("UPDATE outbox SET file = NULL WHERE id = ?",
                         [(r["id"],) for r in earlier if r["file"] in current and r["id"] not in mine])
    return written


def state(row) -> str:
    """sent, uncertain (its content went, the answer never came; a resend of one sent before
    too), failed, or written."""
    if row["attempted_at"] and (not row["sent_at"] or row["attempted_at"] >= row["sent_at"]):
        return "uncertain"
    if row["sent_at"]:
        return "sent"
    return "failed" if row["error"] else "written"


def list_rows(conn: sqlite3.Connection, meeting_id: int | None, unsent: bool) -> list[dict]:
    """The outbox rows (the documented keys), each with its `state`."""
    where, params = [], []
    if meeting_id is not None:
        where.append("meeting_id = ?")
        params.append(meeting_id)
    if unsent:
        # Still to do: not sent, to an address still known (a forgotten member's has none),
        # and not an older version of a meeting's message that a newer one replaces.
        where.append(f"""(sent_at IS NULL OR attempted_at >= sent_at) AND email IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM outbox AS newer WHERE newer.meeting_id = outbox.meeting_id
              AND newer.member_id IS outbox.member_id AND newer.email = outbox.email COLLATE NOCASE
              AND newer.sequence > outbox.sequence
              AND {kind_in(CALENDAR_KINDS, "outbox.kind")} AND {kind_in(CALENDAR_KINDS, "newer.kind")})""")
    sql = "SELECT * FROM outbox" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    return [{**{k: r[k] for k in OUTBOX_KEYS}, "state": state(r)} for r in conn.execute(sql, params)]
