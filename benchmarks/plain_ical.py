"""What the two calendar peers (ics_writer.py, invite_floor.py) share: tanet's defaults
for settings a file does not hold, its agenda lines and its VTIMEZONE, written plainly."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

DEFAULTS = {"network": "Trauma-Informed Practice Network", "timezone": "Europe/London", "organiser.name": "",
            "invite.alarm_minutes": "1440"}
KINDS = {"spotlight": "Spotlight", "reflective": "Reflective practice", "training": "Training",
         "guest": "Guest speaker"}
SESSIONS = """SELECT s.meeting_id, s.kind, s.title, p.name, s.guest, s.guest_org FROM sessions s
              LEFT JOIN members p ON p.id = s.presenter_id"""


def settings(conn) -> dict:
    return {**DEFAULTS, **dict(conn.execute("SELECT key, value FROM settings"))}


def session_line(kind: str, title: str, presenter: str | None, guest: str | None, guest_org: str | None) -> str:
    """`- Spotlight: title - who`, as tanet writes an agenda line."""
    if guest:
        who = f" - {guest}" + (f" ({guest_org})" if guest_org else "")
    else:
        who = f" - {presenter}" if presenter else ""
    return f"- {KINDS[kind]}: {title}{who}"


def london(tz_name: str) -> Timezone:
    """The VTIMEZONE in the rule form Outlook reads (one DAYLIGHT, one STANDARD), as tanet
    writes it: far shorter than Timezone.from_tzinfo's list of every change since 1970."""
    if tz_name != "Europe/London":
        raise SystemExit("the benchmark's peers write the Europe/London VTIMEZONE only")
    zone = Timezone()
    zone.add("TZID", tz_name)
    for part, name, month, day, hour, before, after in ((TimezoneDaylight(), "BST", 3, 29, 1, 0, 1),
                                                         (TimezoneStandard(), "GMT", 10, 25, 2, 1, 0)):
        part.add("DTSTART", datetime(1970, month, day, hour))
        part.add("RRULE", {"FREQ": "YEARLY", "BYDAY": "-1SU", "BYMONTH": month})
        part.add("TZNAME", name)
        part.add("TZOFFSETFROM", timedelta(hours=before))
        part.add("TZOFFSETTO", timedelta(hours=after))
        zone.add_component(part)
    return zone
