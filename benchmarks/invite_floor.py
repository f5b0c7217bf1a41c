"""The floor for `tanet invite`: the same messages built with the same libraries, as a
careful programmer would write it without tanet's template.

    python benchmarks/invite_floor.py DATABASE FOLDER TODAY [--sync]

Everything that is the same for every member is made once: the settings and the meeting
read once; the VTIMEZONE (in tanet's rule form), the organiser, the time stamp and the
agenda built once. Then for each member active on the next meeting's day (from TODAY on),
one message with the same parts as tanet's: a calendar (METHOD:REQUEST, the shared
VTIMEZONE, the event naming that member as ATTENDEE, the reminder) serialised by
icalendar; an EmailMessage with the quoted-printable text, the base64 text/calendar
alternative and the .ics attachment; as_bytes with the SMTP policy; written to a file.
Unlike tanet it records nothing in the database, and only with --sync does it make sure
each file is on disk (fsync) before going on, as tanet does.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vCalAddress
from plain_ical import SESSIONS, london, session_line
from plain_ical import settings as read_settings


def read(db: str, today: str) -> tuple[dict, sqlite3.Row, list[str], list[sqlite3.Row]]:
    """The settings, the next meeting, its agenda lines and the members to invite."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    settings = read_settings(conn)
    m = conn.execute("SELECT * FROM meetings WHERE status = 'scheduled' AND date >= ? ORDER BY date, start LIMIT 1",
                     [today]).fetchone()
    agenda = [session_line(*r[1:]) for r in conn.execute(SESSIONS + " WHERE s.meeting_id = ? ORDER BY s.id",
                                                         [m["id"]])]
    people = conn.execute("""SELECT * FROM members WHERE email IS NOT NULL AND joined_on <= :d
                             AND (left_on IS NULL OR left_on > :d) ORDER BY name COLLATE NOCASE, id""",
                          {"d": m["date"]}).fetchall()
    return settings, m, agenda, people


def body(greeting: str, details: list[str], settings: dict) -> str:
    return "\n".join([greeting, "", f"You are invited to the next {settings['network']} meeting.", "", *details, "",
                      "To reply, please accept or decline with your calendar's buttons. If you cannot come, reply to "
                      f"{settings['organiser.email']} to send your apologies.", "",
                      settings["organiser.name"] or settings["network"]]) + "\n"


def write(path: Path, data: bytes, sync: bool) -> None:
    with open(path, "wb") as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())


class Shared:
    """What is the same in every member's message, made once."""

    def __init__(self, settings: dict, m: sqlite3.Row, agenda: list[str]):
        self.settings, self.m = settings, m
        tz = ZoneInfo(settings["timezone"])
        self.vtimezone = london(settings["timezone"])  # added to every member's calendar
        self.email = settings["organiser.email"]
        self.organiser = vCalAddress(f"mailto:{self.email}")
        self.organiser.params["CN"] = settings["organiser.name"] or self.email
        self.sender = Address(display_name=settings["organiser.name"] or self.email, addr_spec=self.email)
        self.now = datetime.now(timezone.utc)
        self.start = datetime.fromisoformat(f"{m['date']}T{m['start']}").replace(tzinfo=tz)
        self.end = datetime.fromisoformat(f"{m['date']}T{m['end']}").replace(tzinfo=tz)
        day = date.fromisoformat(m["date"])
        self.when = f"{day:%A} {day.day} {day:%B %Y}, {m['start']}–{m['end']} UK time"
        self.details = [f"What:  {m['title']}", f"When:  {self.when}", f"Where: {m['location']}",
                        f"Join online: {m['url']}"]
        self.details += ["", "Agenda:", *(f"  {line}" for line in agenda)] if agenda else []
        self.alarm_minutes = int(settings["invite.alarm_minutes"] or 0)
        self.description = "\n".join((["Agenda:", *agenda, ""] if agenda else [])
                                     + [f"Join online: {m['url']}", f"Place: {m['location']}"])
        self.calendar_uid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"floor:{m['uid']}"))

    def calendar(self, p: sqlite3.Row) -> bytes:
        m = self.m
        attendee = vCalAddress(f"mailto:{p['email']}")
        attendee.params.update({"CN": p["name"], "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION",
                                "RSVP": "TRUE"})
        ev = Event()
        for name, value in (("SUMMARY", m["title"]), ("DTSTART", self.start), ("DTEND", self.end),
                            ("DTSTAMP", self.now), ("UID", m["uid"]), ("SEQUENCE", m["sequence"]),
                            ("DESCRIPTION", self.description), ("LOCATION", m["location"]),
                            ("ORGANIZER", self.organiser), ("ATTENDEE", attendee), ("STATUS", "CONFIRMED"),
                            ("TRANSP", "OPAQUE"), ("URL", m["url"])):
            ev.add(name, value)
        if self.alarm_minutes:
            alarm = Alarm()
            alarm.add("ACTION", "DISPLAY")
            alarm.add("DESCRIPTION", f"Reminder: {m['title']}")
            alarm.add("TRIGGER", timedelta(minutes=-self.alarm_minutes))
            ev.add_component(alarm)
        cal = Calendar()
        cal.add("PRODID", "-//floor//EN")
        cal.add("VERSION", "2.0")
        cal.add("METHOD", "REQUEST")
        cal.add("UID", self.calendar_uid)
        cal.add_component(self.vtimezone)
        cal.add_component(ev)
        return cal.to_ical()

    def message(self, p: sqlite3.Row, ics: bytes) -> bytes:
        msg = EmailMessage()
        msg["Subject"] = f"Invitation: {self.m['title']}, {self.when}"
        msg["From"] = self.sender
        msg["To"] = Address(display_name=p["name"], addr_spec=p["email"])
        msg["Date"] = format_datetime(self.now)
        msg["Message-ID"] = make_msgid(domain=self.email.split("@")[-1])
        msg["X-Unsent"] = "1"
        greeting = f"Dear {p['known_as'] or p['name'].split()[0]},"
        msg.set_content(body(greeting, self.details, self.settings), cte="quoted-printable")
        msg.add_alternative(ics, maintype="text", subtype="calendar", cte="base64",
                            params={"charset": "UTF-8", "method": "REQUEST"})
        msg.make_mixed()
        msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
        return msg.as_bytes(policy=policy.SMTP)


def main(db: str, folder: str, today: str, sync: bool = False) -> None:
    settings, meeting, agenda, people = read(db, today)
    shared = Shared(settings, meeting, agenda)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for p in people:  # one message per member, each built whole
        write(out / f"{p['id']:05d}.eml", shared.message(p, shared.calendar(p)), sync)


if __name__ == "__main__":
    main(*sys.argv[1:4], sync="--sync" in sys.argv[4:])
