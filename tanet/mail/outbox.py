"""The outbox: one row for every message tanet writes or sends, per recipient.

A message is recorded when its file is written, and its outcome is committed the
moment the mail server answers, each in its own transaction (the outbox pattern of
mail systems and job queues): a run that is killed or fails halfway resumes by
sending only what has no `sent_at`, so each member ends with exactly one copy.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from tanet.mail import outbox_files
from tanet.store.db import transaction
from tanet.store.journal import LightCommits

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
           letter: Letter, file: Path, message_id: str) -> list[int]:
    """Record a written letter, one row per recipient (inside the caller's transaction). A row
    for the same member, kind and version is brought up to date rather than doubled."""
    ids = []
    snapshot = json.dumps(letter.snapshot) if letter.snapshot else None
    for member_id, email in letter.recipients:
        row = conn.execute(
            f"""SELECT id FROM outbox WHERE meeting_id IS ? AND member_id IS ? AND email = ? COLLATE NOCASE
               AND kind = ? AND sequence IS ? AND NOT EXISTS
                   (SELECT 1 FROM outbox w WHERE w.meeting_id = outbox.meeting_id AND w.member_id = outbox.member_id
                    AND {kind_in(CALENDAR_KINDS, 'w.kind')} AND w.kind != outbox.kind AND w.id > outbox.id)
               ORDER BY id DESC LIMIT 1""",  # a copy withdrawn (or invited again) since is not reused
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
    with NewFolder(folder, owned=lambda name: str(folder / name) in recorded, what="messages",
                   owner=folder_owner(meeting_id, kinds), hint=hint) as out:
        for letter in letters:
            is_bytes = isinstance(letter.msg, bytes)
            out.write(letter.name, letter.msg if is_bytes else message_bytes(letter.msg))
            path = folder / letter.name
            if str(path) in recorded:
                current.add(str(path))
            message_id = letter.message_id if is_bytes else letter.msg["Message-ID"]
            written.row_ids += add_row(conn, meeting_id, sequence, method, letter, path, message_id)
            if letter.copy_to:
                copy = replace(letter, recipients=[(None, address) for address in letter.copy_to], snapshot=None)
                written.row_ids += add_row(conn, meeting_id, sequence, method, copy, path, message_id)
            written.counted(letter)
        out.commit()
    if meeting_id is not None and earlier:  # earlier files of this meeting that this run did not replace
        mine = set(written.row_ids)
        outbox_files.remove_files(conn, earlier, keep=current)
        # A row of an earlier version whose file name now holds this version has no file of its own.
        conn.executemany("UPDATE outbox SET file = NULL WHERE id = ?",
                         [(r["id"],) for r in earlier if r["file"] in current and r["id"] not in mine])
    return written


@dataclass
class Plan:
    """What one run sends: `rows`, and the rows it leaves alone."""
    rows: list[sqlite3.Row]
    already_sent: list[sqlite3.Row]
    uncertain: list[sqlite3.Row]


def to_send(conn: sqlite3.Connection, row_ids: list[int], resend: bool, only: list[str] | None = None) -> Plan:
    """The rows of this run to send: those not sent and not uncertain (an earlier try whose
    content went, answer unknown), or all of them with `resend`; only to `only` when given."""
    rows = []
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start:start + 500]
        rows += conn.execute(f"SELECT * FROM outbox WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    rows.sort(key=lambda r: r["id"])
    if only is not None:
        wanted = {a.lower() for a in only}
        rows = [r for r in rows if r["email"].lower() in wanted]
    if resend:
        return Plan(rows, [], [])
    return Plan([r for r in rows if not r["sent_at"] and not r["attempted_at"]],
                [r for r in rows if r["sent_at"]],
                [r for r in rows if not r["sent_at"] and r["attempted_at"]])


def addresses_of(conn: sqlite3.Connection, row_ids: list[int]) -> set[str]:
    """The addresses (in lower case) that the outbox rows `row_ids` are for."""
    found = set()
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start:start + 500]
        found |= {r[0].lower() for r in conn.execute(
            f"SELECT email FROM outbox WHERE id IN ({','.join('?' * len(chunk))})", chunk)}
    return found


@dataclass
class Tally:
    """How a run of sending went, kept up to date as it goes (so a stop can say what went)."""
    total: int
    sent: int = 0
    failures: list[str] = field(default_factory=list)  # "address: why", certainly not sent
    uncertain: list[tuple[str, str]] = field(default_factory=list)  # (address, why): may have arrived
    not_tried: int = 0
    stopped: str = ""  # why sending stopped before the end
    in_flight: list[str] = field(default_factory=list)  # addresses whose content is going now


def send_rows(conn: sqlite3.Connection, rows: list[sqlite3.Row], values: dict, progress=None,
            tally: Tally | None = None) -> Tally:
    """Send each row's file over SMTP. The attempt is committed just before a message's
    content goes, its outcome the moment the answer comes: a row whose content went without
    an answer (or whose run was killed then) stays *uncertain* and is never sent again by
    itself. One refused message never stops the rest; a line that cannot be made again does."""
    from tanet.mail.smtp import LineLost, Session

    tally = tally or Tally(len(rows))
    if not rows:
        return tally
    by_file: dict[str, list[sqlite3.Row]] = {}
    for row in rows:
        by_file.setdefault(row["file"], []).append(row)
    session = Session(values)
    if progress:
        session.on_wait = lambda seconds: progress(None, len(by_file), seconds)
    groups, finished = list(by_file.items()), False
    try:
        with LightCommits(conn) as commits:
            for i, (file, group) in enumerate(groups):
                try:
                    _deliver_one(conn, session, file, group, tally)
                    done = i + 1
                except LineLost as e:  # this message did not go either
                    tally.stopped, done = str(e), i
                tally.stopped = tally.stopped or session.stopped
                if tally.stopped:
                    tally.not_tried = sum(len(g) for _, g in groups[done:])
                    break
                commits.now_and_then()
                if progress:
                    progress(done, len(groups), 0)
        finished = True
    finally:
        session.close(politely=finished)  # after Ctrl-C, no QUIT to wait on a server holding a message
    return tally


def _deliver_one(conn: sqlite3.Connection, session, file: str, group: list[sqlite3.Row], tally: Tally) -> None:
    """Send one file to its rows' addresses and commit what became of each."""
    from tanet.mail.wire import prepare

    addresses = [r["email"] for r in group]
    try:
        # The draft marker is for e-mail programs, not for the recipient.
        message = prepare(Path(file).read_bytes(), drop=(b"x-unsent",))
    except (OSError, TypeError) as e:
        why = f"its file cannot be read ({getattr(e, 'strerror', e)}); write it again without --send"
        _commit(conn, group, {a.lower(): why for a in addresses}, "", tally)
        return
    if any("".join((r["message_id"] or "").split()) != message.message_id for r in group):
        # Written again since this run chose it (another version, or another program's file):
        # what the file holds now is not the message these rows record, so it is not sent as them.
        why = "its file was written again meanwhile (a newer version); run the same command again to send that"
        _commit(conn, group, {a.lower(): why for a in addresses}, "", tally)
        return

    def attempt(accepted: list[str]) -> None:
        wanted, stamp = {a.lower() for a in accepted}, now()
        _apply(conn, [("UPDATE outbox SET attempted_at = ? WHERE id = ?", [stamp, row["id"]])
                      for row in group if row["email"].lower() in wanted])
        tally.in_flight = accepted

    outcome = session.send(message, addresses, attempt)
    _commit(conn, group, outcome.refused, outcome.uncertain, tally)


def _commit(conn: sqlite3.Connection, group: list[sqlite3.Row], refused: dict[str, str], uncertain: str,
            tally: Tally) -> None:
    stamp, sent, failures, unsure, changes = now(), 0, [], [], []
    for row in group:
        problem = refused.get(row["email"].lower())
        if problem:  # certainly not delivered: an earlier attempt is as uncertain as before
            changes.append(("UPDATE outbox SET error = ?, attempted_at = ? WHERE id = ?",
                            [problem, row["attempted_at"], row["id"]]))
            failures.append(f"{row['email']}: {problem}")
        elif uncertain:
            changes.append(("UPDATE outbox SET error = ? WHERE id = ?", [uncertain, row["id"]]))
            unsure.append(row["email"])
        else:
            changes.append(("UPDATE outbox SET sent_at = ?, error = NULL, attempted_at = NULL WHERE id = ?",
                            [stamp, row["id"]]))
            sent += 1
    _apply(conn, changes)
    tally.sent += sent
    tally.failures += failures
    tally.uncertain += [(address, uncertain) for address in unsure]
    tally.in_flight = []


def _apply(conn: sqlite3.Connection, changes: list[tuple[str, list]]) -> None:
    """Commit these statements together. One alone is its own transaction (the connection
    commits each statement outside BEGIN): the same outcome, without BEGIN and COMMIT."""
    if len(changes) == 1:
        conn.execute(*changes[0])
        return
    with transaction(conn):
        for sql, params in changes:
            conn.execute(sql, params)


def refused_for_good(conn: sqlite3.Connection, row_ids: list[int]) -> tuple[int, int]:
    """Of these rows not sent: how many the server refused permanently (a 5xx to the address),
    and how many failed for a reason that may pass (a busy or unreachable server). A row whose
    content went without an answer may have arrived, so it is neither."""
    refused = waiting = 0
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start:start + 500]
        for error, attempted in conn.execute(
                f"SELECT error, attempted_at FROM outbox WHERE sent_at IS NULL AND id IN ({','.join('?' * len(chunk))})",
                chunk):
            if attempted:
                continue
            if error and error.startswith("refused (5"):
                refused += 1
            else:
                waiting += 1
    return refused, waiting


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
