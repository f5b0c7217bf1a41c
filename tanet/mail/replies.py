"""Calendar replies (iMIP, RFC 6047) read from files, mailboxes or an IMAP folder.

Each message is parsed by the standard library's `email` and its calendar part by
`icalendar`'s content-line parser; nothing here parses MIME or iCalendar by hand. A
reply is matched to a meeting by UID and to a member by the ATTENDEE address, and
believed only when its From (or Sender) is that attendee or a delegate the ATTENDEE names
(SENT-BY), and only up to the latest version of the meeting sent. The latest reply per
member and meeting wins (SEQUENCE, then DTSTAMP); a message already read (same
Message-ID) changes nothing; everything not applied, including a message that cannot be
read at all, is one line of the listing saying why.

Why not icalendar's Calendar.from_ical: it builds every component, a time zone's whole
history included. Measured on the eight sample replies (tests/fixtures/replies; CPU
time, best of 7 runs): 4.1 ms a reply on average, 21.7 ms for Thunderbird's, against
0.62 ms (2.1 ms) for following the components by their BEGIN and END lines and parsing
only the properties a reply is decided by, and 0.45 ms for the e-mail parser. For the
benchmark's 10,000 replies that is some 37 s more, about 5 times the time of reading the
mailbox alone, where the goal is under 2. tests/test_reply_calendars.py checks that
both read the same METHOD, UID, SEQUENCE, attendees' answers and comment.
"""

from __future__ import annotations

import html
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.errors import MessageError
from email.message import Message
from email.parser import BytesFeedParser, BytesHeaderParser
from functools import cached_property

from tanet.mail import outbox, reply_senders
from tanet.mail.mailboxes import Unread

ANSWERS = {"ACCEPTED": "accepted", "TENTATIVE": "tentative", "DECLINED": "declined"}
MAX_CALENDAR_BYTES = 2 * 1024 * 1024  # a reply's calendar is a few kilobytes, even with a zone's history
# What a message from outside can raise while it is read: it is then one line of the listing.
UNREADABLE = (ValueError, LookupError, TypeError, AttributeError, RecursionError, OverflowError, MessageError)


class _CalendarOnly(Message):
    """A message part that keeps its payload only if it may be the calendar: a large
    attachment is dropped as it is parsed, so it is never held twice in memory."""

    def set_payload(self, payload, charset=None):
        if isinstance(payload, str) and len(payload) > 4096 and not _is_calendar(self):
            payload = ""
        super().set_payload(payload, charset)


def _is_calendar(part) -> bool:
    kind = part.get_content_type()
    return kind in ("text/calendar", "application/ics") or (
        kind in ("application/octet-stream", "text/plain") and (part.get_filename() or "").lower().endswith(".ics"))


def parse_message(raw: bytes):
    """A message parsed by the standard library's (compat32) parser, fed in pieces."""
    parser = BytesFeedParser(_factory=_CalendarOnly)
    for i in range(0, len(raw), 65536):
        parser.feed(raw[i:i + 65536])
    return parser.close()


class Listing:
    """The lines of the messages not applied, in the order read, kept in a temporary file as
    they come (a region's morning can leave tens of thousands) and read back one at a time."""

    def __init__(self):
        self.file, self.count = None, 0

    def append(self, line: dict) -> None:
        import json
        import tempfile

        if self.file is None:
            self.file = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.file.seek(0, 2)
        self.file.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        import json

        if self.file is None:
            return
        self.file.seek(0)
        for text in self.file:
            yield json.loads(text)


@dataclass
class Result:
    applied: int = 0
    unchanged: int = 0
    not_applied: Listing = field(default_factory=Listing)

    def as_json(self) -> dict:
        return {"applied": self.applied, "unchanged": self.unchanged, "not_applied": list(self.not_applied)}


class Reply:
    """What a reply's calendar says: its METHOD and the first event's properties, each
    parsed (by icalendar) only when asked for, since most replies are decided by one or two."""

    def __init__(self, method: str, lines: dict):
        self.method, self._lines = method, lines  # name -> [Contentline]

    def _parts(self, name: str) -> list:
        return [line.parts() for line in self._lines.get(name, [])]

    def _value(self, name: str):
        found = self._parts(name)
        return found[0][2] if found else None

    @cached_property
    def uid(self) -> str:
        return str(self._value("UID") or "")

    @cached_property
    def sequence(self) -> int:
        value = int(self._value("SEQUENCE") or 0)
        if value < 0:
            raise ValueError("a version number below zero")
        return value

    @cached_property
    def stamp(self) -> str | None:
        from icalendar import vDDDTypes

        raw = self._value("DTSTAMP")
        dt = vDDDTypes.from_ical(raw) if raw else None
        if not isinstance(dt, datetime):
            return None
        dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
        # A time stamp far in the future (DTSTAMP:99991231...) would make every later answer
        # look older for ever: one more than a year ahead of the moment it is read orders as
        # the oldest (calendars' clocks and rehearsals with TANET_TODAY are well within that).
        if dt > datetime.now(timezone.utc) + timedelta(days=365):
            return None
        return dt.astimezone(timezone.utc).isoformat(timespec="seconds")

    @cached_property
    def attendees(self) -> list:
        return [(params, reply_senders.address_of(value)) for _, params, value in self._parts("ATTENDEE")]

    @cached_property
    def comment(self) -> str | None:
        from icalendar import vText

        raw = self._value("COMMENT")
        return (str(vText.from_ical(raw)).strip() or None) if raw else None

    @cached_property
    def start(self) -> str:
        from icalendar import vDDDTypes

        raw = self._value("DTSTART")
        if not raw:
            return "another time"
        dt = vDDDTypes.from_ical(raw)
        return f"{dt:%a %d %b %Y %H:%M}" if isinstance(dt, datetime) else f"{dt:%a %d %b %Y}"


def _calendar_part(msg) -> bytes | None:
    for part in msg.walk():
        if not part.is_multipart() and _is_calendar(part):
            data = part.get_payload(decode=True)
            if data and len(data) > MAX_CALENDAR_BYTES:
                raise ValueError(f"its calendar part is larger than {MAX_CALENDAR_BYTES // (1024 * 1024)} MB, "
                                 "far more than any reply")
            if data:
                return data
    return None


_WANTED = ("UID", "SEQUENCE", "DTSTAMP", "DTSTART", "ATTENDEE", "COMMENT")


def calendar_of(msg) -> Reply | None:
    """The first calendar in a message (the text/calendar alternative, else an .ics
    attachment): its METHOD and its first event's properties."""
    data = _calendar_part(msg)
    if data is None:
        return None
    try:
        reply = _first_event(data.decode("utf-8", errors="replace"))
        reply.uid  # noqa: B018 - a line that cannot be parsed fails here, not later
        return reply
    except (ValueError, IndexError, TypeError):
        raise ValueError("its calendar part cannot be read") from None


def _first_event(text: str) -> Reply:
    """The calendar's METHOD and its first VEVENT's wanted properties, from icalendar's
    content lines (see the module's docstring for why not Calendar.from_ical)."""
    from icalendar.parser import Contentlines

    path: list[str] = []  # the components we are inside, outermost first
    method, event, done = "", {}, False
    for line in Contentlines.from_ical(text):
        upper = line[:9].upper()
        if upper.startswith(("BEGIN:", "END:")):  # no parameters: the value is all after the colon
            begins = upper.startswith("BEGIN:")
            value = line[6 if begins else 4:].strip().upper()
            if begins:
                path.append(value)
            elif not path or path[-1] != value:
                raise ValueError(f"END:{value} does not close {path[-1] if path else 'anything'}")
            else:
                done = done or path == ["VCALENDAR", "VEVENT"]
                path.pop()
                if not path:
                    break
        elif path == ["VCALENDAR"] and upper.startswith("METHOD"):
            method = line.parts()[2].strip().upper()
        elif path == ["VCALENDAR", "VEVENT"] and not done and upper.startswith(_WANTED):
            event.setdefault(next(w for w in _WANTED if upper.startswith(w)), []).append(line)
    if not done:
        raise ValueError("an event is cut short" if "VEVENT" in path else "not a whole calendar")
    if path:
        raise ValueError("not a whole calendar")
    return Reply(method, event)


def _headers_only(head: bytes):
    try:
        return BytesHeaderParser().parsebytes(head)
    except UNREADABLE:
        return None


def _header(msg, name: str) -> str:
    from email.header import decode_header, make_header

    value = msg.get(name) if msg is not None else None
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except UNREADABLE:
        return str(value)


class Reader:
    """Applies replies to the database (inside the caller's transaction)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.result = Result()
        self.meetings = {r["uid"]: r for r in conn.execute("SELECT id, uid, status, date, sequence FROM meetings")}
        # The latest version of each meeting sent (or written): a reply to a later one was never asked for.
        self.sent = dict(conn.execute(
            f"""SELECT meeting_id, max(sequence) FROM outbox WHERE {outbox.kind_in(outbox.CALENDAR_KINDS)}
               AND sequence IS NOT NULL GROUP BY meeting_id""").fetchall())
        # Each reply asks for its member by address: an indexed table of the addresses (a
        # temporary one, gone with the connection) rather than every member held in memory.
        conn.create_function("tanet_lower", 1, str.lower, deterministic=True)
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS reply_addresses (email TEXT PRIMARY KEY, member_id INTEGER)")
        conn.execute("DELETE FROM temp.reply_addresses")
        conn.execute("""INSERT OR REPLACE INTO temp.reply_addresses SELECT tanet_lower(email), id FROM members
                        WHERE email IS NOT NULL ORDER BY id""")

    def member_id(self, address: str) -> int | None:
        found = self.conn.execute("SELECT member_id FROM temp.reply_addresses WHERE email = ?", [address]).fetchone()
        return found[0] if found else None

    def already_read(self, message_id: str | None) -> bool:
        return message_id is not None and self.conn.execute(
            "SELECT 1 FROM replies_read WHERE message_id = ?", [message_id]).fetchone() is not None

    def answer(self, meeting_id: int, member_id: int) -> tuple | None:
        """(sequence, time stamp) of the answer recorded, if any."""
        found = self.conn.execute("SELECT sequence, responded_at FROM responses WHERE meeting_id = ? AND member_id = ?",
                                  [meeting_id, member_id]).fetchone()
        return (found[0], found[1] or "") if found else None

    def skip(self, source: str, msg, reason: str) -> None:
        line = {"source": source, "from": _header(msg, "From"), "subject": _header(msg, "Subject"), "reason": reason}
        # Bytes that were not text arrive as lone surrogates, which no terminal or JSON file can hold.
        self.result.not_applied.append({k: v.encode("utf-8", "replace").decode("utf-8") for k, v in line.items()})

    def read(self, source: str, raw: bytes | Unread) -> None:
        """One message: applied, unchanged, or one line of the listing, whatever it holds."""
        if isinstance(raw, Unread):
            return self.skip(source, _headers_only(raw.head), raw.reason)
        try:
            msg = parse_message(raw)
        except UNREADABLE as e:
            deep = isinstance(e, RecursionError)
            return self.skip(source, _headers_only(raw[:65536]), "its parts are nested too deeply to read"
                             if deep else "it is not a readable e-mail message")
        try:
            self.read_message(source, msg)
        except UNREADABLE:  # a property of the event, or a header, that cannot be read
            self.skip(source, msg, "its calendar part cannot be read")

    def read_message(self, source: str, msg) -> None:
        message_id = str(msg.get("Message-ID", "") or "").strip() or None
        if self.already_read(message_id):
            self.result.unchanged += 1
            return
        try:
            reply = calendar_of(msg)
        except ValueError as e:
            return self.skip(source, msg, str(e))
        if reply is None:
            return self.skip(source, msg, "no calendar answer in it (a reply written by hand?): read it and record "
                                          "it yourself, e.g. tanet attendance mark MEETING MEMBER --status apologies")
        self.decide(source, msg, reply, message_id)

    def decide(self, source: str, msg, reply: Reply, message_id: str | None) -> None:
        if reply.method == "COUNTER":
            return self.skip(source, msg, f"proposes another time ({reply.start}); this is not an answer - reply "
                                          "to them yourself")
        if reply.method != "REPLY":
            return self.skip(source, msg, f"not a reply to an invitation (METHOD:{reply.method or 'none'})")
        meeting = self.meetings.get(reply.uid)
        if meeting is None:
            return self.skip(source, msg, f"no meeting has the UID {reply.uid} (a reply to another invitation?)")
        if meeting["status"] == "cancelled":
            return self.skip(source, msg, f"meeting #{meeting['id']} on {meeting['date']} was cancelled")
        if not reply.attendees:
            return self.skip(source, msg, "the reply names no attendee")
        senders = reply_senders.senders_of(msg)
        attendee, address = reply_senders.vouched_attendee(reply.attendees, senders)
        if attendee is None:
            return self.skip(source, msg, reply_senders.not_theirs(senders, reply.attendees))
        member_id = self.member_id(address)
        if member_id is None:
            return self.skip(source, msg, f"{address} is not a member's e-mail address")
        # A meeting taken over from another program (--uid) and not sent by tanet: the version it knows.
        sent = self.sent.get(meeting["id"], meeting["sequence"])
        if reply.sequence > sent:
            latest = f"the latest version sent is {sent}" if meeting["id"] in self.sent else \
                f"tanet has not sent it and knows version {sent}"
            return self.skip(source, msg, f"it answers version {reply.sequence} of meeting #{meeting['id']}, but "
                                          f"{latest}; if it is genuine, record the answer yourself")
        partstat = str(attendee.get("PARTSTAT", "")).upper()
        answer = ANSWERS.get(partstat)
        if answer is None:
            return self.skip(source, msg, f"the answer {partstat or '(none)'} is not accept, decline or tentative")
        comment = reply.comment or html.unescape(str(attendee.get("X-RESPONSE-COMMENT", "") or "")).strip() or None
        self.apply(meeting["id"], member_id, answer, reply.sequence, reply.stamp, comment, message_id)

    def apply(self, meeting_id, member_id, answer, sequence, stamp, comment, message_id) -> None:
        old = self.answer(meeting_id, member_id)
        newer = old is None or (sequence, stamp or "") > old
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


def import_replies(conn: sqlite3.Connection, sources: list[str], values: dict) -> Result:
    """Read every message of every source (inside the caller's transaction): files, folders
    and mailboxes on this computer, or imaps://USER@HOST[:PORT]/FOLDER (read-only)."""
    from tanet.mail import imap, mailboxes

    reader = Reader(conn)
    for source in sources:
        found = imap.messages(source, values) if source.lower().startswith("imaps://") else mailboxes.messages(source)
        for label, raw in found:
            reader.read(label, raw)
    return reader.result


