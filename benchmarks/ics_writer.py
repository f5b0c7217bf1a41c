"""The peer of `tanet export ics`: icalendar writing the same calendar, plainly.

    python benchmarks/ics_writer.py DATABASE FILE

Reads the meetings, their sessions and the settings with sqlite3, builds one METHOD:PUBLISH
calendar with icalendar's API (one VTIMEZONE, in tanet's rule form, then one VEVENT per
meeting with the same properties tanet writes) and serialises it to FILE.
"""

from __future__ import annotations

import sqlite3
import sys
import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress
from plain_ical import SESSIONS, london, session_line
from plain_ical import settings as read_settings


def agenda(conn: sqlite3.Connection) -> dict[int, list[str]]:
    """Each meeting's agenda lines, from one query."""
    lines: dict[int, list[str]] = {}
    for meeting_id, *session in conn.execute(SESSIONS + " ORDER BY s.id"):
        lines.setdefault(meeting_id, []).append(session_line(*session))
    return lines


def description(m: sqlite3.Row, sessions: list[str]) -> str:
    lines = ["Agenda:", *sessions, ""] if sessions else []
    if m["url"]:
        lines.append(f"Join online: {m['url']}")
    if m["location"]:
        lines.append(f"Place: {m['location']}")
    return "\n".join(lines).strip()


def main(db: str, path: str) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    settings = read_settings(conn)
    tz = ZoneInfo(settings["timezone"])
    email = settings["organiser.email"]
    organiser = vCalAddress(f"mailto:{email}")
    organiser.params["CN"] = settings["organiser.name"] or email
    stamp = datetime.now(timezone.utc)
    sessions = agenda(conn)

    cal = Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", "-//peer//EN")
    cal.add("METHOD", "PUBLISH")
    cal.add("NAME", settings["network"])
    cal.add("X-WR-CALNAME", settings["network"])
    cal.add("UID", str(uuid.uuid5(uuid.NAMESPACE_URL, f"peer:{settings['network']}")))
    cal.add_component(london(settings["timezone"]))
    for m in conn.execute("SELECT * FROM meetings ORDER BY date, start"):
        ev = Event()
        ev.add("SUMMARY", m["title"])
        ev.add("DTSTART", datetime.fromisoformat(f"{m['date']}T{m['start']}").replace(tzinfo=tz))
        ev.add("DTEND", datetime.fromisoformat(f"{m['date']}T{m['end']}").replace(tzinfo=tz))
        ev.add("DTSTAMP", stamp)
        ev.add("UID", m["uid"])
        ev.add("SEQUENCE", m["sequence"])
        text = description(m, sessions.get(m["id"], []))
        if text:
            ev.add("DESCRIPTION", text)
        if m["location"]:
            ev.add("LOCATION", m["location"])
        ev.add("ORGANIZER", organiser)
        ev.add("STATUS", "CANCELLED" if m["status"] == "cancelled" else "CONFIRMED")
        ev.add("TRANSP", "OPAQUE")
        if m["url"]:
            ev.add("URL", m["url"])
        if m["status"] == "cancelled" and m["cancel_reason"]:
            ev.add("COMMENT", m["cancel_reason"])
        cal.add_component(ev)
    with open(path, "wb") as f:
        f.write(cal.to_ical())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
