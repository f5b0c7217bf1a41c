"""Meetings: planning the series, moving and cancelling, facilitators and the rota."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone

from tanet import dates
from tanet.register import members
from tanet.store import settings
from tanet.errors import TanetError
from tanet import text as text_rules

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
            title=text_rules.line(title, "title") or text_rules.line(settings.meeting_title(values), "title"),
            location=text_rules.line(location if location is not None else values["meeting.location"], "location") or "",
            url=settings.SETTINGS["meeting.url"].check(url) if url else values["meeting.url"],
        )


def check_times(conn, day: date, start: str, end: str) -> None:
    tz = settings.get(conn, "timezone")
    for hm in (start, end):
        dates.check_wall_clock(day, hm, tz)


def insert_meeting(conn, day: date, start: str, d: MeetingDefaults, uid: str | None = None) -> int:
    end = dates.end_time(start, d.duration)
    if uid is not None:
        uid = text_rules.line(uid, "UID")
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
        raise TanetError(f"Meeting #{row['id']} is cancelled; add a new meeting instead: tanet meeting add {to}")
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
    conn.execute("UPDATE meetings SET date = ?, start = ?, \"end\" = ?, sequence = sequence + 1 WHERE id = ?",
                 [to.isoformat(), start, end, row["id"]])
    return objects(conn, [get(conn, row["id"])])[0], warnings


def edit(conn: sqlite3.Connection, ref: str, *, title: str | None, location: str | None, url: str | None,
         duration: int | None, today: date) -> dict:
    """Change a meeting's title, place, link or length; calendars update in place."""
    row = find_meeting(conn, ref, today)
    changes = {}
    if title is not None:
        if not (text_rules.line(title, "title") or ""):
            raise TanetError("A meeting needs a title.")
        changes["title"] = " ".join(title.split())
    if location is not None:
        changes["location"] = text_rules.line(location, "location")
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
                 [text_rules.lines(reason, "reason"), row["id"]])
    return objects(conn, [get(conn, row["id"])])[0]


KEPT_RECORDS = (("attendance", "attendance"), ("checkins", "check-ins"), ("followups", "follow-ups"),
                ("responses", "replies"), ("feedback", "feedback responses"))


def delete(conn: sqlite3.Connection, ref: str, today: date, confirmed: bool) -> dict:
    """Delete a meeting added by mistake: only one that no message was ever written or sent
    for (members may have it in their calendars otherwise: cancel it) and that holds no
    record of people (attendance, check-ins, replies, feedback). Its agenda and facilitators
    go with it; resources and themes linked to it are kept, unlinked."""
    row = find_meeting(conn, ref, today, allow_cancelled=True)
    label = f"meeting #{row['id']} on {row['date']}"
    if conn.execute("SELECT 1 FROM outbox WHERE meeting_id = ? LIMIT 1", [row["id"]]).fetchone():
        raise TanetError(f"Messages were written or sent for {label}, so members may have it in their calendars; "
                         f"it cannot be deleted. Cancel it instead (they are told): tanet meeting cancel {row['id']}")
    held = [what for table, what in KEPT_RECORDS
            if conn.execute(f"SELECT 1 FROM {table} WHERE meeting_id = ? LIMIT 1", [row["id"]]).fetchone()]
    if held:
        raise TanetError(f"{label[0].upper()}{label[1:]} holds {', '.join(held)}, which deleting would lose; "
                         f"it was kept. Cancel it instead: tanet meeting cancel {row['id']}")
    meeting = objects(conn, [row])[0]
    if not confirmed:
        raise TanetError(f"This deletes {label} ({meeting['title']}) for good. To go ahead: "
                         f"tanet meeting delete {row['id']} --yes")
    for table in ("facilitators", "sessions", "feedback_files"):
        conn.execute(f"DELETE FROM {table} WHERE meeting_id = ?", [row["id"]])
    for table in ("themes", "resources"):
        conn.execute(f"UPDATE {table} SET meeting_id = NULL WHERE meeting_id = ?", [row["id"]])
    conn.execute("DELETE FROM meetings WHERE id = ?", [row["id"]])
    return meeting


# Facilitators and the rota ---------------------------------------------------------

def facilitators(conn: sqlite3.Connection, meeting_id: int) -> list[dict]:
    return [members.member_object(r) for r in conn.execute(
        "SELECT mb.* FROM facilitators f JOIN members mb ON mb.id = f.member_id WHERE f.meeting_id = ? ORDER BY mb.name",
        [meeting_id])]


def set_facilitators(conn: sqlite3.Connection, ref: str, member_refs: list[str], today: date) -> tuple[dict, list[dict]]:
    meeting = find_meeting(conn, ref, today)
    if meeting["status"] == "cancelled":
        raise TanetError(f"Meeting #{meeting['id']} is cancelled.")
    chosen = []
    for r in member_refs:
        m = members.find_member(conn, r)
        if not members.is_active(m, meeting["date"]):
            raise TanetError(f"{m['name']} is not a member on {meeting['date']} (joined {m['joined_on']}"
                             + (f", left {m['left_on']}" if m["left_on"] else "") + ").")
        if m["id"] not in [c["id"] for c in chosen]:
            chosen.append(m)
    conn.execute("DELETE FROM facilitators WHERE meeting_id = ?", [meeting["id"]])
    conn.executemany("INSERT INTO facilitators(meeting_id, member_id) VALUES (?, ?)",
                     [(meeting["id"], m["id"]) for m in chosen])
    return objects(conn, [meeting])[0], facilitators(conn, meeting["id"])


def off_rotas(conn: sqlite3.Connection, member_id: int, from_day: date) -> list[dict]:
    """Take a member off the facilitators of every meeting on or after `from_day` (a leaver);
    returns those meetings, which now need someone in their place."""
    rows = conn.execute(SELECT + """ WHERE m.date >= ? AND m.status = 'scheduled' AND m.id IN
                        (SELECT meeting_id FROM facilitators WHERE member_id = ?) ORDER BY m.date, m.start""",
                        [from_day.isoformat(), member_id]).fetchall()
    conn.executemany("DELETE FROM facilitators WHERE meeting_id = ? AND member_id = ?",
                     [(r["id"], member_id) for r in rows])
    return objects(conn, rows)


def pick_pair(candidates: list, used: dict, last: dict, day: str) -> tuple:
    """Two facilitators: the least used first, then the least used from another
    sector (else another service area)."""
    if len(candidates) < 2:
        raise TanetError(f"Fewer than two active ambassadors are free on {day} (by their recorded availability): "
                         "mark more members as ambassadors (tanet member edit ID --ambassador).")
    ordered = sorted(candidates, key=lambda r: (used.get(r["id"], 0), last.get(r["id"], ""), r["id"]))
    for first in ordered:
        for rule in ("sector", "service_area"):
            second = next((c for c in ordered if c["id"] != first["id"] and c[rule] != first[rule]), None)
            if second is not None:
                return first, second
    raise TanetError("Every active ambassador is in the same sector and service area; "
                     "a pair across sectors is impossible. Mark more members as ambassadors.")


def rota(conn: sqlite3.Connection, count: int, today: date, apply: bool) -> list[dict]:
    """Facilitator pairs for the next upcoming meetings that have none yet.

    Each pair spans two sectors (else two service areas); the members who have
    facilitated least go first, and nobody goes twice while others wait.
    """
    if count < 1:
        raise TanetError("--count must be at least 1.")
    meetings = conn.execute(
        SELECT + """ WHERE m.status = 'scheduled' AND m.date >= ?
                     AND NOT EXISTS (SELECT 1 FROM facilitators f WHERE f.meeting_id = m.id)
                     ORDER BY m.date, m.start LIMIT ?""", [today.isoformat(), count]).fetchall()
    if not meetings:
        raise TanetError("No upcoming meeting is waiting for facilitators. Plan meetings with: tanet meeting plan")
    pool = conn.execute(
        """SELECT mb.*, (SELECT count(*) FROM facilitators f WHERE f.member_id = mb.id) AS times,
                  (SELECT max(mt.date) FROM facilitators f JOIN meetings mt ON mt.id = f.meeting_id
                   WHERE f.member_id = mb.id) AS last_time
           FROM members mb WHERE mb.ambassador = 1 AND mb.forgotten_on IS NULL""").fetchall()
    used = {r["id"]: r["times"] for r in pool}
    last = {r["id"]: r["last_time"] or "" for r in pool}
    busy: dict[int, list] = {}
    for r in conn.execute('SELECT member_id, weekdays, start, "end" FROM availability'):
        busy.setdefault(r["member_id"], []).append(
            ({int(d) for d in r["weekdays"].split(",")}, dates.minutes(r["start"]), dates.minutes(r["end"])))

    def free(member, meeting) -> bool:
        """Not busy then by the weekly pattern the member recorded (tanet availability set)."""
        day = date.fromisoformat(meeting["date"]).weekday()
        s, e = dates.minutes(meeting["start"]), dates.minutes(meeting["end"])
        return not any(day in days and ps < e and s < pe for days, ps, pe in busy.get(member["id"], []))

    tz = settings.get(conn, "timezone")
    proposals = []
    for meeting in meetings:
        pair = pick_pair([r for r in pool if members.is_active(r, meeting["date"]) and free(r, meeting)], used, last,
                         meeting["date"])
        for m in pair:
            used[m["id"]] += 1
            last[m["id"]] = meeting["date"]
        if apply:
            conn.executemany("INSERT INTO facilitators(meeting_id, member_id) VALUES (?, ?)",
                             [(meeting["id"], m["id"]) for m in pair])
        proposals.append({"meeting": meeting_object(meeting, tz),
                          "facilitators": [members.member_object(m) for m in pair]})
    return proposals


# Agenda ------------------------------------------------------------------------------

SESSION_KINDS = ("spotlight", "reflective", "training", "guest")
SESSION_SELECT = """SELECT s.id, s.meeting_id, s.kind, s.title, mb.name AS presenter, s.presenter_id,
                           s.guest, s.guest_org
                    FROM sessions s LEFT JOIN members mb ON mb.id = s.presenter_id"""


def _kind(value: str, allowed, what: str) -> str:
    v = value.strip().lower().replace(" ", "-").replace("_", "-")
    exact = [k for k in allowed if k == v]
    matches = exact or ([k for k in allowed if k.startswith(v)] if v else [])
    if len(matches) == 1:
        return matches[0]
    raise TanetError(f"'{value}' is not a {what}. Use one of: {', '.join(allowed)}.")


def add_session(conn, ref: str, kind: str, title: str, presenter: str | None, guest: str | None,
                guest_org: str | None, today: date) -> dict:
    meeting = find_meeting(conn, ref, today)
    kind = _kind(kind, SESSION_KINDS, "session kind")
    title = " ".join((text_rules.line(title, "session title") or "").split())
    guest, guest_org = text_rules.line(guest, "guest's name"), text_rules.line(guest_org, "guest's organisation")
    if not title:
        raise TanetError("A session needs a --title.")
    if presenter and guest:
        raise TanetError("Give either --presenter (a member) or --guest (someone from outside), not both.")
    if guest_org and not guest:
        raise TanetError("--guest-org goes with --guest NAME.")
    presenter_id = None
    if presenter:
        m = members.find_member(conn, presenter)
        if not members.is_active(m, meeting["date"]):
            raise TanetError(f"{m['name']} is not a member on {meeting['date']}"
                             + (f" (left {m['left_on']})" if m["left_on"] else "") + "; choose another presenter.")
        presenter_id = m["id"]
    if kind == "guest" and not guest:
        raise TanetError("A guest session needs --guest NAME (and --guest-org ORG).")
    cur = conn.execute("INSERT INTO sessions(meeting_id, kind, title, presenter_id, guest, guest_org) VALUES (?,?,?,?,?,?)",
                       [meeting["id"], kind, title, presenter_id, guest, guest_org])
    return session_object(conn.execute(SESSION_SELECT + " WHERE s.id = ?", [cur.lastrowid]).fetchone())


def session_object(r) -> dict:
    return {k: r[k] for k in ("id", "meeting_id", "kind", "title", "presenter", "guest", "guest_org")}


def list_sessions(conn, meeting_id: int | None) -> list[dict]:
    if meeting_id is None:
        rows = conn.execute(SESSION_SELECT + " JOIN meetings mt ON mt.id = s.meeting_id ORDER BY mt.date, s.id")
    else:
        rows = conn.execute(SESSION_SELECT + " WHERE s.meeting_id = ? ORDER BY s.id", [meeting_id])
    return [session_object(r) for r in rows]


def remove_session(conn, session_id: int) -> dict:
    row = conn.execute(SESSION_SELECT + " WHERE s.id = ?", [session_id]).fetchone()
    if row is None:
        raise TanetError(f"There is no session #{session_id}. See them with: tanet session list")
    conn.execute("DELETE FROM sessions WHERE id = ?", [session_id])
    return session_object(row)


# Themes: the network's collective voice -------------------------------------------

THEME_KINDS = ("pain-point", "solution", "policy")
THEME_STATUSES = ("open", "raised", "resolved")


def theme_object(r) -> dict:
    return {k: r[k] for k in ("id", "text", "kind", "status", "meeting_id", "note")}


def add_theme(conn, text: str, kind: str, meeting_ref: str | None, today: date) -> dict:
    text = text_rules.lines(text, "theme") or ""
    if not text:
        raise TanetError("Say what the theme is, e.g. tanet theme add \"Waiting lists for CAMHS\" --kind pain-point")
    kind = _kind(kind, THEME_KINDS, "theme kind")
    meeting_id = find_meeting(conn, meeting_ref, today)["id"] if meeting_ref else None
    cur = conn.execute("INSERT INTO themes(text, kind, meeting_id, created_on) VALUES (?,?,?,?)",
                       [text, kind, meeting_id, today.isoformat()])
    return theme_object(conn.execute("SELECT * FROM themes WHERE id = ?", [cur.lastrowid]).fetchone())


def list_themes(conn, kind: str | None, status: str | None) -> list[dict]:
    where, params = [], []
    if kind:
        where.append("kind = ?")
        params.append(_kind(kind, THEME_KINDS, "theme kind"))
    if status:
        where.append("status = ?")
        params.append(_kind(status, THEME_STATUSES, "theme status"))
    sql = "SELECT * FROM themes" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    return [theme_object(r) for r in conn.execute(sql, params)]


def set_theme_status(conn, theme_id: int, status: str, note: str | None, today: date) -> dict:
    row = conn.execute("SELECT * FROM themes WHERE id = ?", [theme_id]).fetchone()
    if row is None:
        raise TanetError(f"There is no theme #{theme_id}. See them with: tanet theme list")
    status = _kind(status, THEME_STATUSES, "theme status")
    d = today.isoformat()
    conn.execute(
        """UPDATE themes SET status = :s, note = coalesce(:note, note),
               raised_on = CASE WHEN :s = 'raised' THEN coalesce(raised_on, :d) ELSE raised_on END,
               resolved_on = CASE WHEN :s = 'resolved' THEN :d ELSE NULL END
           WHERE id = :id""",
        {"s": status, "note": text_rules.lines(note, "note"), "d": d, "id": theme_id})
    return theme_object(conn.execute("SELECT * FROM themes WHERE id = ?", [theme_id]).fetchone())


def attendance_counts(conn, meeting_id: int) -> dict:
    counts = {"present": 0, "apologies": 0, "absent": 0}
    for status, n in conn.execute("SELECT status, count(*) FROM attendance WHERE meeting_id = ? GROUP BY status",
                                  [meeting_id]):
        counts[status] = n
    counts["checked_in"] = conn.execute("SELECT count(*) FROM checkins WHERE meeting_id = ?", [meeting_id]).fetchone()[0]
    return counts
