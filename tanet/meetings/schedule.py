"""Meetings: finding them, adding, moving, editing, cancelling and deleting them, and their counts."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone

from tanet import dates
from tanet import text as text_rules
from tanet.errors import TanetError
from tanet.store import settings

MEETING_KEYS = ("id", "uid", "title", "date", "start", "end", "starts_at", "ends_at", "timezone",
                "location", "url", "status", "sequence", "present")


def meeting_object(row: sqlite3.Row, tz: str, present: int | None = None) -> dict:
    starts = dates.local_datetime(row["date"], row["start"], tz)
    ends = dates.local_datetime(row["date"], row["end"], tz)
    return {
        "id": row["id"], "uid": row["uid"], "title": row["title"], "date": row["date"],
        "start": row["start"], "end": row["end"], "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(), "timezone": tz, "location": row["location"] or None,
        "url": row["url"] or None, "status": row["status"], "sequence": row["sequence"],
        "present": present if present is not None else _present(row),
    }


def _present(row) -> int:
    try:
        return row["present"]
    except IndexError:
        return 0


SELECT = """SELECT m.*, (SELECT count(*) FROM attendance a
                       WHERE a.meeting_id = m.id AND a.status = 'present') AS present
            FROM meetings m"""


def objects(conn: sqlite3.Connection, rows) -> list[dict]:
    tz = settings.get(conn, "timezone")
    return [meeting_object(r, tz) for r in rows]


def get(conn: sqlite3.Connection, meeting_id: int) -> sqlite3.Row:
    return conn.execute(SELECT + " WHERE m.id = ?", [meeting_id]).fetchone()


def _label(r) -> str:
    cancelled = " (cancelled)" if r["status"] == "cancelled" else ""
    return f"#{r['id']} {r['date']} {r['start']} {r['title']}{cancelled}"


def find_meeting(conn: sqlite3.Connection, ref: str, today: date, allow_cancelled: bool = False) -> sqlite3.Row:
    """A meeting by id, date (the one non-cancelled that day), `next` or `last`. With
    `allow_cancelled`, a date whose only meeting was cancelled finds that meeting (for
    commands that make sense on one: show, invite)."""
    text = str(ref).strip().lower()
    if text.lstrip("#").isdigit():
        row = get(conn, int(text.lstrip("#")))
        if row is None:
            raise TanetError(f"There is no meeting #{text.lstrip('#')}. See them with: tanet meeting list")
        return row
    if text in ("next", "last"):
        if text == "next":
            sql = SELECT + " WHERE m.status = 'scheduled' AND m.date >= ? ORDER BY m.date, m.start LIMIT 1"
        else:
            sql = SELECT + " WHERE m.status = 'scheduled' AND m.date <= ? ORDER BY m.date DESC, m.start DESC LIMIT 1"
        row = conn.execute(sql, [today.isoformat()]).fetchone()
        if row is None:
            which = "upcoming" if text == "next" else "past"
            raise TanetError(f"There is no {which} meeting. Plan some with: tanet meeting plan --start DATE")
        return row
    try:
        day = dates.parse_date(text, today)
    except TanetError:
        raise TanetError(f"'{ref}' is not a meeting. Give its id, its date (YYYY-MM-DD), next or last.") from None
    rows = conn.execute(SELECT + " WHERE m.date = ? ORDER BY m.start", [day.isoformat()]).fetchall()
    live = [r for r in rows if r["status"] == "scheduled"]
    if len(live) == 1:
        return live[0]
    if len(live) > 1:
        raise TanetError(f"There are {len(live)} meetings on {day}: " + "; ".join(_label(r) for r in live)
                         + ". Use the id instead.")
    if len(rows) == 1 and allow_cancelled:
        return rows[0]
    if rows:
        raise TanetError(f"The meeting on {day} was cancelled ({_label(rows[0])}). Use its id to refer to it.")
    raise TanetError(f"There is no meeting on {day}. See them with: tanet meeting list")


def new_uid() -> str:
    """Made once per meeting and never changed, so calendars update instead of duplicating."""
    return f"{uuid.uuid4()}@tanet"


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class MeetingDefaults:
    start: str
    duration: int
    title: str
    location: str
    url: str

    @classmethod
    def from_settings(cls, conn, *, time=None, duration=None, title=None, location=None, url=None):
        values = settings.get_all(conn)
        if duration is not None and duration <= 0:
            raise TanetError(f"A meeting must last at least one minute, not {duration}. Give --duration in minutes, e.g. 120.")
        return cls(
            start=dates.parse_time(time) if time else values["meeting.time"],
            duration=duration if duration is not None else int(values["meeting.duration"]),
            title=text_rules.one_line(title, "title") or text_rules.one_line(settings.meeting_title(values), "title"),
            location=text_rules.one_line(location if location is not None else values["meeting.location"], "location") or "",
            url=settings.SETTINGS["meeting.url"].check(url) if url else values["meeting.url"],
        )


def check_times(conn, day: date, start: str, end: str) -> None:
    tz = settings.get(conn, "timezone")
    for hm in (start, end):
        dates.check_wall_clock(day, hm, tz)


def insert_meeting(conn, day: date, start: str, d: MeetingDefaults, uid: str | None = None) -> int:
    end = dates.end_time(start, d.duration)
    if uid is not None:
        uid = text_rules.one_line(uid, "UID")
        if not uid or len(uid) > 255:
            raise TanetError("Give the event's UID as it appears in the calendar file (one line, up to 255 characters).")
        if other := conn.execute("SELECT id, date FROM meetings WHERE uid = ?", [uid]).fetchone():
            raise TanetError(f"Meeting #{other['id']} on {other['date']} already has the UID {uid}.")
    check_times(conn, day, start, end)
    twin = conn.execute("SELECT id FROM meetings WHERE date = ? AND start = ? AND status = 'scheduled'",
                        [day.isoformat(), start]).fetchone()
    if twin:  # most likely the same plan run twice
        raise TanetError(f"There is already meeting #{twin[0]} on {day} at {start}; nothing was added. "
                         "See them with: tanet meeting list (a second meeting that day needs another time).")
    cur = conn.execute(
        "INSERT INTO meetings(uid, title, date, start, \"end\", location, url, created_at) VALUES (?,?,?,?,?,?,?,?)",
        [uid or new_uid(), d.title, day.isoformat(), start, end, d.location or None, d.url or None, now_utc()])
    return cur.lastrowid


def every_meeting(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every meeting, cancelled ones included, in date order."""
    return conn.execute(SELECT + " ORDER BY m.date, m.start").fetchall()


def list_meetings(conn: sqlite3.Connection, when: str, today: date) -> list[dict]:
    where = {"upcoming": " WHERE m.status = 'scheduled' AND m.date >= :d",
             "past": " WHERE m.date < :d", "all": ""}[when]
    order = " ORDER BY m.date DESC, m.start DESC" if when == "past" else " ORDER BY m.date, m.start"
    return objects(conn, conn.execute(SELECT + where + order, {"d": today.isoformat()}))


def holiday_name(day: date) -> str | None:
    return dates.scottish_holidays([day.year]).get(day)


def move(conn: sqlite3.Connection, ref: str, to: date, time: str | None, today: date) -> tuple[dict, list[str]]:
    row = find_meeting(conn, ref, today)
    if row["status"] == "cancelled":
        raise TanetError(f"Meeting #{row['id']} is cancelled. Bring it back first with: tanet meeting reinstate "
                         f"{row['id']} (then move it), or add a new meeting: tanet meeting add {to}")
    start = dates.parse_time(time) if time else row["start"]
    duration = dates.minutes(row["end"]) - dates.minutes(row["start"])
    end = dates.end_time(start, duration)
    check_times(conn, to, start, end)
    if to.isoformat() == row["date"] and start == row["start"]:
        raise TanetError(f"Meeting #{row['id']} is already on {to} at {start}.")
    warnings = []
    if name := holiday_name(to):
        warnings.append(f"Warning: {to} is a public holiday in Scotland ({name}).")
    if to.weekday() >= 5:
        warnings.append(f"Warning: {to} is a {to:%A}.")
    for other in conn.execute("""SELECT id, title, start, "end" FROM meetings WHERE date = ? AND id != ?
                                 AND status = 'scheduled' AND start < ? AND "end" > ? ORDER BY start, id""",
                              [to.isoformat(), row["id"], end, start]):
        warnings.append(f"Warning: meeting #{other['id']} ({other['title']}) is already on {to} at "
                        f"{other['start']}-{other['end']}; both now take that time.")
    conn.execute("UPDATE meetings SET date = ?, start = ?, \"end\" = ?, sequence = sequence + 1 WHERE id = ?",
                 [to.isoformat(), start, end, row["id"]])
    return objects(conn, [get(conn, row["id"])])[0], warnings


def edit(conn: sqlite3.Connection, ref: str, *, title: str | None, location: str | None, url: str | None,
         duration: int | None, today: date) -> dict:
    """Change a meeting's title, place, link or length; calendars update in place."""
    row = find_meeting(conn, ref, today)
    changes = {}
    if title is not None:
        if not (text_rules.one_line(title, "title") or ""):
            raise TanetError("A meeting needs a title.")
        changes["title"] = " ".join(title.split())
    if location is not None:
        changes["location"] = text_rules.one_line(location, "location")
    if url is not None:
        changes["url"] = settings.SETTINGS["meeting.url"].check(url.strip()) or None
    if duration is not None:
        changes["end"] = dates.end_time(row["start"], duration)
    if not changes:
        raise TanetError("Nothing to change: give --title, --location, --url or --duration.")
    sets = ", ".join(f'"{k}" = :{k}' for k in changes)
    conn.execute(f"UPDATE meetings SET {sets}, sequence = sequence + 1 WHERE id = :id", {**changes, "id": row["id"]})
    return objects(conn, [get(conn, row["id"])])[0]


def cancel(conn: sqlite3.Connection, ref: str, reason: str | None, today: date) -> dict:
    row = find_meeting(conn, ref, today)
    if row["status"] == "cancelled":
        raise TanetError(f"Meeting #{row['id']} on {row['date']} is already cancelled.")
    conn.execute("UPDATE meetings SET status = 'cancelled', sequence = sequence + 1, cancel_reason = ? WHERE id = ?",
                 [text_rules.some_lines(reason, "reason"), row["id"]])
    return objects(conn, [get(conn, row["id"])])[0]


def reinstate(conn: sqlite3.Connection, ref: str, today: date) -> dict:
    """Undo a cancellation: the meeting is scheduled again with the same UID and its SEQUENCE
    raised, so the invitations written next replace the cancellation in members' calendars."""
    row = find_meeting(conn, ref, today, allow_cancelled=True)
    if row["status"] != "cancelled":
        raise TanetError(f"Meeting #{row['id']} on {row['date']} is not cancelled; nothing was changed.")
    conn.execute("UPDATE meetings SET status = 'scheduled', sequence = sequence + 1, cancel_reason = NULL "
                 "WHERE id = ?", [row["id"]])
    return objects(conn, [get(conn, row["id"])])[0]


KEPT_RECORDS = (("attendance", "attendance"), ("checkins", "check-ins"), ("followups", "follow-ups"),
                ("responses", "replies"), ("feedback", "feedback responses"))


def delete(conn: sqlite3.Connection, ref: str, today: date, confirmed: bool, drop_drafts=None) -> dict:
    """Delete a meeting added by mistake: only one that no message was ever written or sent
    for (members may have it in their calendars otherwise: cancel it) and that holds no
    record of people (attendance, check-ins, replies, feedback). Its agenda and facilitators
    go with it; resources and themes linked to it are kept, unlinked. `drop_drafts(meeting_id)`
    removes its never-sent cancellation drafts (files and rows) first."""
    row = find_meeting(conn, ref, today, allow_cancelled=True)
    label = f"meeting #{row['id']} on {row['date']}"
    # Cancellation drafts of a meeting nobody was ever sent put it in no one's calendar.
    if conn.execute("""SELECT 1 FROM outbox WHERE meeting_id = ? AND (kind != 'cancellation' OR sent_at IS NOT NULL
                       OR attempted_at IS NOT NULL) LIMIT 1""", [row["id"]]).fetchone():
        instead = ("It stays in the record as cancelled." if row["status"] == "cancelled" else
                   f"Cancel it instead (they are told): tanet meeting cancel {row['id']}")
        raise TanetError(f"Messages were written or sent for {label}, so members may have it in their calendars; "
                         f"it cannot be deleted. {instead}")
    held = [what for table, what in KEPT_RECORDS
            if conn.execute(f"SELECT 1 FROM {table} WHERE meeting_id = ? LIMIT 1", [row["id"]]).fetchone()]
    if held:
        raise TanetError(f"{label[0].upper()}{label[1:]} holds {', '.join(held)}, which deleting would lose; "
                         f"it was kept. Cancel it instead: tanet meeting cancel {row['id']}")
    meeting = objects(conn, [row])[0]
    if not confirmed:
        raise TanetError(f"This deletes {label} ({meeting['title']}) for good. To go ahead: "
                         f"tanet meeting delete {row['id']} --yes")
    if drop_drafts is not None:
        drop_drafts(row["id"])
    for table in ("facilitators", "sessions", "feedback_files"):
        conn.execute(f"DELETE FROM {table} WHERE meeting_id = ?", [row["id"]])
    for table in ("themes", "resources"):
        conn.execute(f"UPDATE {table} SET meeting_id = NULL WHERE meeting_id = ?", [row["id"]])
    conn.execute("DELETE FROM meetings WHERE id = ?", [row["id"]])
    return meeting


# Facilitators and the rota ---------------------------------------------------------


# Agenda ------------------------------------------------------------------------------


# Themes: the network's collective voice -------------------------------------------


def attendance_counts(conn, meeting_id: int) -> dict:
    counts = {"present": 0, "apologies": 0, "absent": 0}
    for status, n in conn.execute("SELECT status, count(*) FROM attendance WHERE meeting_id = ? GROUP BY status",
                                  [meeting_id]):
        counts[status] = n
    counts["checked_in"] = conn.execute("SELECT count(*) FROM checkins WHERE meeting_id = ?", [meeting_id]).fetchone()[0]
    return counts
