"""Calendar replies (iMIP, RFC 6047) read from files, mailboxes or an IMAP folder.

Each message is parsed by the standard library's `email` and its calendar part by
`icalendar`; nothing here parses MIME or iCalendar by hand. A reply is matched to a
meeting by UID and to a member by the ATTENDEE address, else the From address. The
latest reply per member and meeting wins (SEQUENCE, then DTSTAMP); a message already
read (same Message-ID) changes nothing; everything not applied is listed with why.
"""

from __future__ import annotations

import html
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path

from tanet.errors import TanetError

ANSWERS = {"ACCEPTED": "accepted", "TENTATIVE": "tentative", "DECLINED": "declined"}
RSVP_KEYS = ("member_id", "name", "email", "response", "responded_at", "sequence")


@dataclass
class Result:
    applied: int = 0
    unchanged: int = 0
    not_applied: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"applied": self.applied, "unchanged": self.unchanged, "not_applied": self.not_applied}


def calendar_of(msg):
    """The first calendar in a message (the text/calendar alternative, else an .ics attachment)."""
    import icalendar

    for part in msg.walk():
        if part.is_multipart():
            continue
        name = (part.get_filename() or "").lower()
        if part.get_content_type() in ("text/calendar", "application/ics") or name.endswith(".ics"):
            data = part.get_payload(decode=True)
            if not data:
                continue
            try:
                return icalendar.Calendar.from_ical(data)
            except Exception:  # icalendar raises ValueError and friends on a broken calendar
                raise ValueError("its calendar part cannot be read") from None
    return None


def _address(value) -> str | None:
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip().lower() or None


def _stamp(event) -> str | None:
    prop = event.get("DTSTAMP")
    if prop is None:
        return None
    dt = prop.dt
    if isinstance(dt, datetime):
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.astimezone(timezone.utc).isoformat(timespec="seconds")
    return None


def _when(event) -> str:
    start = event.get("DTSTART")
    if start is None:
        return "another time"
    dt = start.dt
    return f"{dt:%a %d %b %Y %H:%M}" if isinstance(dt, datetime) else f"{dt:%a %d %b %Y}"


class Reader:
    """Applies replies to the database (inside the caller's transaction)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.result = Result()
        self.meetings = {r["uid"]: r for r in conn.execute("SELECT id, uid, status, date FROM meetings")}
        self.members = {r["email"].lower(): r for r in conn.execute(
            "SELECT id, name, email FROM members WHERE email IS NOT NULL")}

    def skip(self, source: str, msg, reason: str) -> None:
        self.result.not_applied.append({"source": source, "from": str(msg.get("From", "") or ""),
                                        "subject": str(msg.get("Subject", "") or ""), "reason": reason})

    def read(self, source: str, raw: bytes) -> None:
        try:
            msg = BytesParser(policy=policy.default).parsebytes(raw)
        except Exception as e:  # the email package is lenient; this is for the truly broken
            self.result.not_applied.append({"source": source, "from": "", "subject": "",
                                            "reason": f"not an e-mail message ({e})"})
            return
        message_id = str(msg.get("Message-ID", "") or "").strip() or None
        if message_id and self.conn.execute("SELECT 1 FROM replies_read WHERE message_id = ?",
                                            [message_id]).fetchone():
            self.result.unchanged += 1
            return
        try:
            cal = calendar_of(msg)
        except ValueError as e:
            return self.skip(source, msg, str(e))
        if cal is None:
            return self.skip(source, msg, "no calendar answer in it (a reply written by hand?): read it and record "
                                          "it yourself, e.g. tanet attendance mark MEETING MEMBER --status apologies")
        method = str(cal.get("METHOD", "")).upper()
        events = cal.walk("VEVENT")
        if not events:
            return self.skip(source, msg, "its calendar has no event")
        event = events[0]
        if method == "COUNTER":
            return self.skip(source, msg, f"proposes another time ({_when(event)}); this is not an answer - reply "
                                          "to them yourself")
        if method != "REPLY":
            return self.skip(source, msg, f"not a reply to an invitation (METHOD:{method or 'none'})")
        meeting = self.meetings.get(str(event.get("UID", "")))
        if meeting is None:
            return self.skip(source, msg, f"no meeting has the UID {event.get('UID')} (a reply to another "
                                          "invitation?)")
        if meeting["status"] == "cancelled":
            return self.skip(source, msg, f"meeting #{meeting['id']} on {meeting['date']} was cancelled")
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [attendees] if attendees is not None else []
        senders = [a for _, a in getaddresses([str(msg.get("From", "") or ""), str(msg.get("Sender", "") or "")])]
        member = attendee = None
        for a in attendees:
            member = self.members.get(_address(a))
            if member:
                attendee = a
                break
        if member is None:
            for address in senders:
                member = self.members.get(address.lower())
                if member:
                    attendee = attendees[0] if len(attendees) == 1 else None
                    break
        if member is None:
            who = _address(attendees[0]) if attendees else (senders[0] if senders else "nobody")
            return self.skip(source, msg, f"{who} is not a member's e-mail address")
        if attendee is None:
            return self.skip(source, msg, "the reply names no attendee")
        partstat = str(attendee.params.get("PARTSTAT", "")).upper()
        answer = ANSWERS.get(partstat)
        if answer is None:
            return self.skip(source, msg, f"the answer {partstat or '(none)'} is not accept, decline or tentative")
        comment = str(event.get("COMMENT", "") or "").strip() or html.unescape(
            str(attendee.params.get("X-RESPONSE-COMMENT", "") or "")).strip() or None
        self.apply(meeting["id"], member["id"], answer, int(event.get("SEQUENCE", 0) or 0), _stamp(event),
                   comment, message_id)

    def apply(self, meeting_id, member_id, answer, sequence, stamp, comment, message_id) -> None:
        old = self.conn.execute("SELECT * FROM responses WHERE meeting_id = ? AND member_id = ?",
                                [meeting_id, member_id]).fetchone()
        newer = old is None or (sequence, stamp or "") > (old["sequence"], old["responded_at"] or "")
        if message_id:
            self.conn.execute("INSERT OR IGNORE INTO replies_read(message_id, read_on) VALUES (?, ?)",
                              [message_id, datetime.now(timezone.utc).isoformat(timespec="seconds")])
        if not newer:
            self.result.unchanged += 1
            return
        self.conn.execute(
            """INSERT INTO responses(meeting_id, member_id, response, responded_at, sequence, comment, message_id)
               VALUES (?,?,?,?,?,?,?) ON CONFLICT(meeting_id, member_id) DO UPDATE SET
               response = excluded.response, responded_at = excluded.responded_at, sequence = excluded.sequence,
               comment = excluded.comment, message_id = excluded.message_id""",
            [meeting_id, member_id, answer, stamp, sequence, comment, message_id])
        status = self.conn.execute("SELECT status, source FROM attendance WHERE meeting_id = ? AND member_id = ?",
                                   [meeting_id, member_id]).fetchone()
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        if answer == "declined" and (status is None or status["status"] not in ("present", "apologies")):
            self.conn.execute(
                """INSERT INTO attendance(meeting_id, member_id, status, source, recorded_at) VALUES (?,?,?,?,?)
                   ON CONFLICT(meeting_id, member_id) DO UPDATE SET status = excluded.status,
                   source = excluded.source, recorded_at = excluded.recorded_at""",
                [meeting_id, member_id, "apologies", "reply", now])
        elif answer != "declined" and status is not None and status["source"] == "reply":
            # They declined by reply and have now accepted: the apologies were only the reply's.
            self.conn.execute("DELETE FROM attendance WHERE meeting_id = ? AND member_id = ?", [meeting_id, member_id])
        self.result.applied += 1


def messages(source: str, values: dict):
    """(label, raw bytes) for each message of a source: an .eml file, a folder of them, an
    mbox, a Maildir, or imaps://USER@HOST[:PORT]/FOLDER (read-only)."""
    if source.lower().startswith("imaps://"):
        from tanet.imap import messages as imap_messages

        yield from imap_messages(source, values)
        return
    path = Path(source).expanduser()
    if not path.exists():
        raise TanetError(f"There is no file or folder {path}. Check the name.")
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            yield from _mailbox(path, "maildir")
            return
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        for p in files:
            yield from messages(str(p), values)
        return
    try:
        with open(path, "rb") as f:
            head = f.read(5)
    except OSError as e:
        raise TanetError(f"Cannot read {path}: {e.strerror}.") from None
    if head == b"From ":
        yield from _mailbox(path, "mbox")
    else:
        yield str(path), path.read_bytes()


def _mailbox(path: Path, kind: str):
    import mailbox

    try:
        box = mailbox.Maildir(path, factory=None, create=False) if kind == "maildir" else \
            mailbox.mbox(path, factory=None, create=False)
        keys = box.iterkeys()
        for key in keys:
            yield f"{path}#{key}", box.get_bytes(key)
    except (mailbox.Error, OSError, ValueError) as e:
        raise TanetError(f"{path} cannot be read as a {kind} mailbox ({e}); nothing was imported.") from None


def import_replies(conn: sqlite3.Connection, sources: list[str], values: dict) -> Result:
    """Read every message of every source (inside the caller's transaction)."""
    reader = Reader(conn)
    for source in sources:
        for label, raw in messages(source, values):
            reader.read(label, raw)
    return reader.result


def rsvp_list(conn: sqlite3.Connection, meeting_id: int) -> list[dict]:
    """Every member invited to the meeting (or who answered), with their answer."""
    rows = conn.execute(
        """SELECT m.id AS member_id, m.name, m.email, coalesce(r.response, 'none') AS response,
                  r.responded_at, r.sequence
           FROM members m LEFT JOIN responses r ON r.member_id = m.id AND r.meeting_id = :m
           WHERE m.id IN (SELECT member_id FROM outbox WHERE meeting_id = :m AND member_id IS NOT NULL
                          AND kind IN ('invitation', 'update', 'cancellation'))
              OR r.member_id IS NOT NULL
           ORDER BY CASE coalesce(r.response, 'none') WHEN 'accepted' THEN 0 WHEN 'tentative' THEN 1
                    WHEN 'declined' THEN 3 ELSE 2 END, m.name COLLATE NOCASE, m.id""", {"m": meeting_id})
    return [{k: r[k] for k in RSVP_KEYS} for r in rows]
