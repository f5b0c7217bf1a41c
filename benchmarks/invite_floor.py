"""The floor for `tanet invite`: the same messages built with the same libraries in the
simplest way, one member at a time.

    python benchmarks/invite_floor.py DATABASE FOLDER

For each member active on the next meeting's day: a new icalendar Calendar with its
VTIMEZONE and the event naming that member, serialised; one EmailMessage with the text
part, the calendar alternative and the .ics attachment; as_bytes; written to a file.
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import date, datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress


def main(db: str, folder: str) -> None:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    settings = {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM settings")}
    tz_name = settings.get("timezone", "Europe/London")
    tz = ZoneInfo(tz_name)
    m = conn.execute("SELECT * FROM meetings WHERE status = 'scheduled' AND date >= ? ORDER BY date, start LIMIT 1",
                     [date.today().isoformat()]).fetchone()
    people = conn.execute("SELECT * FROM members WHERE email IS NOT NULL AND joined_on <= :d "
                          "AND (left_on IS NULL OR left_on > :d) ORDER BY name", {"d": m["date"]}).fetchall()
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    start = datetime.fromisoformat(f"{m['date']}T{m['start']}").replace(tzinfo=tz)
    end = datetime.fromisoformat(f"{m['date']}T{m['end']}").replace(tzinfo=tz)
    organiser = settings.get("organiser.email", "coordinator@example.org")
    for p in people:
        cal = Calendar()
        cal.add("PRODID", "-//floor//EN")
        cal.add("VERSION", "2.0")
        cal.add("METHOD", "REQUEST")
        cal.add_component(Timezone.from_tzinfo(tz))
        ev = Event()
        ev.add("UID", m["uid"])
        ev.add("DTSTAMP", datetime.now(timezone.utc))
        ev.add("DTSTART", start)
        ev.add("DTEND", end)
        ev.add("SUMMARY", m["title"])
        ev.add("LOCATION", m["location"] or "")
        ev.add("SEQUENCE", m["sequence"])
        ev.add("ORGANIZER", vCalAddress(f"mailto:{organiser}"))
        attendee = vCalAddress(f"mailto:{p['email']}")
        attendee.params["CN"] = p["name"]
        attendee.params["RSVP"] = "TRUE"
        ev.add("ATTENDEE", attendee)
        cal.add_component(ev)
        ics = cal.to_ical()
        msg = EmailMessage()
        msg["Subject"] = f"Invitation: {m['title']}"
        msg["From"] = organiser
        msg["To"] = f"{p['name']} <{p['email']}>"
        msg["Date"] = format_datetime(datetime.now(timezone.utc))
        msg["Message-ID"] = make_msgid()
        msg.set_content(f"Dear {p['name']},\n\nYou are invited to {m['title']} on {m['date']} at {m['start']}.\n")
        msg.add_alternative(ics, maintype="text", subtype="calendar", params={"method": "REQUEST"})
        msg.make_mixed()
        msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
        (out / f"{p['id']:05d}.eml").write_bytes(msg.as_bytes())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
