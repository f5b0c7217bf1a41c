"""Meetings as iCalendar (RFC 5545) and iTIP messages (RFC 5546): VEVENT, VTIMEZONE, METHOD.

Only calendars: the texts that go in them (a meeting's agenda) and the e-mails that
carry them are written by tanet.mail.compose. Built with icalendar's own API; the
VTIMEZONE is written in the rule form Outlook understands (one STANDARD and one
DAYLIGHT block, each with a yearly RRULE), derived from zoneinfo, not the RDATE lists
of Timezone.from_tzinfo.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress

from tanet import __version__
from tanet.errors import TanetError
from tanet.text import flattened

PRODID = f"-//tanet//tanet {__version__}//EN"


# Time zone -----------------------------------------------------------------------

@lru_cache(maxsize=16)
def _transitions(tz_name: str, year: int) -> tuple[tuple[datetime, timedelta, timedelta], ...]:
    """(UTC instant, offset before, offset after) for each change of offset in `year`."""
    tz = ZoneInfo(tz_name)
    offset = lambda t: t.astimezone(tz).utcoffset()  # noqa: E731
    out = []
    day = datetime(year, 1, 1, tzinfo=timezone.utc)
    before = offset(day)
    while day.year == year:
        nxt = day + timedelta(days=1)
        after = offset(nxt)
        if after != before:
            lo, hi = day, nxt  # the change lies in (lo, hi]: narrow it to the minute
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if offset(mid) == before:
                    lo = mid
                else:
                    hi = mid
            hi = hi.replace(second=0, microsecond=0)
            out.append((hi, before, after))
            before = after
        day = nxt
    return tuple(out)


def _byday(day: date) -> str:
    last_week = (day + timedelta(days=7)).month != day.month
    n = -1 if last_week else (day.day - 1) // 7 + 1
    return f"{n}{('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU')[day.weekday()]}"


def _first_match(month: int, byday: str, local_time) -> datetime:
    """The 1970 date matching the rule, as the rule's DTSTART."""
    n, wd = int(byday[:-2]), ("MO", "TU", "WE", "TH", "FR", "SA", "SU").index(byday[-2:])
    days = [date(1970, month, d) for d in range(1, 32) if _valid(1970, month, d)]
    days = [d for d in days if d.weekday() == wd]
    return datetime.combine(days[n - 1] if n > 0 else days[n], local_time)


def _valid(y, m, d) -> bool:
    try:
        date(y, m, d)
        return True
    except ValueError:
        return False


def vtimezone(tz_name: str, year: int | None = None) -> Timezone:
    """A VTIMEZONE with yearly rules for `tz_name`, as the zone is now."""
    tz = ZoneInfo(tz_name)
    year = year or date.today().year
    comp = Timezone()
    comp.add("TZID", tz_name)
    changes = _transitions(tz_name, year)
    if len(changes) != 2:
        std = TimezoneStandard()
        offset = datetime(year, 1, 1, tzinfo=tz).utcoffset()
        std.add("DTSTART", datetime(1970, 1, 1))
        std.add("TZOFFSETFROM", offset)
        std.add("TZOFFSETTO", offset)
        std.add("TZNAME", datetime(year, 1, 1, tzinfo=tz).tzname())
        comp.add_component(std)
        return comp
    for instant, before, after in changes:
        local_before = (instant + before).replace(tzinfo=None)  # wall clock just before the change
        byday = _byday(local_before.date())
        sub = TimezoneDaylight() if after > before else TimezoneStandard()
        sub.add("DTSTART", _first_match(local_before.month, byday, local_before.time()))
        sub.add("TZOFFSETFROM", before)
        sub.add("TZOFFSETTO", after)
        sub.add("TZNAME", instant.astimezone(tz).tzname())
        sub.add("RRULE", {"FREQ": "YEARLY", "BYMONTH": local_before.month, "BYDAY": byday})
        comp.add_component(sub)
    return comp


# Events ------------------------------------------------------------------------

def display_name(name: str) -> str:
    """A name for a CN parameter. Parameter values have no escaping, and a backslash
    before a delimiter breaks parsers (icalendar's own included), so it becomes '/'.
    A double quote would need RFC 6868's ^' code, which libical-based programs show
    raw, so it becomes a single quote. Control characters (only a file from before
    0.2 can hold them) become spaces."""
    return flattened(name).replace("\\", "/").replace('"', "'")


def organizer(name: str, email: str) -> vCalAddress:
    return vCalAddress.new(email, cn=display_name(name) if name else None)


def attendee(name: str, email: str, asked: bool = True) -> vCalAddress:
    """An attendee; `asked` (a request, not a cancellation) adds that an answer is wanted."""
    if not asked:
        return vCalAddress.new(email, cn=display_name(name), role="REQ-PARTICIPANT")
    return vCalAddress.new(email, cn=display_name(name), role="REQ-PARTICIPANT", partstat="NEEDS-ACTION", rsvp=True)


def event(meeting: dict, description: str, org: vCalAddress, attendees: list[vCalAddress] = (),
          stamp: datetime | None = None, alarm_minutes: int = 0) -> Event:
    """The meeting's VEVENT; `description` is its text (the agenda, place and link)."""
    tz = ZoneInfo(meeting["timezone"])
    start = datetime.fromisoformat(f"{meeting['date']}T{meeting['start']}").replace(tzinfo=tz)
    end = datetime.fromisoformat(f"{meeting['date']}T{meeting['end']}").replace(tzinfo=tz)
    ev = Event.new(
        uid=meeting["uid"], start=start, end=end, summary=meeting["title"],
        location=meeting.get("location") or None, url=meeting.get("url") or None,
        description=description or None, organizer=org,
        sequence=meeting["sequence"], stamp=stamp or datetime.now(timezone.utc),
        status="CANCELLED" if meeting["status"] == "cancelled" else "CONFIRMED",
        attendees=list(attendees) or None, transparency="OPAQUE",
    )
    if meeting["status"] == "cancelled" and meeting.get("cancel_reason"):
        ev.add("COMMENT", meeting["cancel_reason"])
    if alarm_minutes and meeting["status"] != "cancelled":
        from icalendar import Alarm

        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", f"Reminder: {meeting['title']}")
        alarm.add("TRIGGER", timedelta(minutes=-alarm_minutes))
        ev.add_component(alarm)
    return ev


def calendar(method: str, events: list[Event], tz_name: str, name: str | None = None) -> Calendar:
    # A stable calendar UID: the same feed or invitation written again is the same calendar.
    seed = name or ",".join(str(ev["UID"]) for ev in events) or tz_name
    cal_uid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"tanet:{seed}"))
    cal = Calendar.new(prodid=PRODID, method=method, name=name, uid=cal_uid)
    if events:
        cal.add_component(vtimezone(tz_name))
    for ev in events:
        cal.add_component(ev)
    missing = cal.get_missing_tzids()
    if missing:  # every TZID used must have its VTIMEZONE, or Outlook shifts the hour
        raise AssertionError(f"VTIMEZONE missing for {missing}")
    return cal


def to_bytes(cal: Calendar) -> bytes:
    return cal.to_ical()



def organiser_of(values: dict) -> tuple[str, str]:
    """The organiser's name and address from the settings, which every ORGANIZER needs."""
    email = values.get("organiser.email", "")
    if not email:
        raise TanetError("Invitations need an organiser: set one with "
                         "tanet init --organiser-name 'Your Name' --organiser-email you@example.org")
    return values.get("organiser.name") or email, email


# iTIP messages -------------------------------------------------------------------------

def publish(meetings: list[dict], descriptions: list[str], values: dict) -> bytes:
    """One METHOD:PUBLISH calendar of these meetings (each with its description): ORGANIZER,
    no ATTENDEE."""
    org = organizer(*organiser_of(values))
    events = [event(m, text, org) for m, text in zip(meetings, descriptions, strict=True)]
    return to_bytes(calendar("PUBLISH", events, values["timezone"], name=values["network"]))


def invitation(meeting: dict, description: str, values: dict, people: list[tuple[str, str]],
               stamp: datetime | None = None) -> tuple[str, bytes]:
    """The iTIP message for these attendees: REQUEST while scheduled, CANCEL once cancelled;
    with no attendees (one message for everyone), PUBLISH, which names nobody."""
    method = ("PUBLISH" if not people else "CANCEL" if meeting["status"] == "cancelled" else "REQUEST")
    org = organizer(*organiser_of(values))
    alarm = int(values.get("invite.alarm_minutes") or 0)
    asked = meeting["status"] != "cancelled"  # a cancellation asks for no answer
    ev = event(meeting, description, org, [attendee(n, e, asked) for n, e in people], stamp=stamp, alarm_minutes=alarm)
    return method, to_bytes(calendar(method, [ev], meeting["timezone"]))


def withdrawal(meeting: dict, description: str, values: dict, name: str, email: str, sequence: int) -> bytes:
    """The iTIP message that takes one attendee off a meeting that goes ahead (RFC 5546
    §3.2.5): METHOD:CANCEL naming only them, the meeting's UID and a raised SEQUENCE.
    No STATUS: the meeting itself is not cancelled."""
    org = organizer(*organiser_of(values))
    person = vCalAddress.new(email, cn=display_name(name), role="REQ-PARTICIPANT")
    ev = event({**meeting, "sequence": sequence, "status": "scheduled"}, description, org, [person])
    del ev["STATUS"]
    del ev["TRANSP"]
    return to_bytes(calendar("CANCEL", [ev], meeting["timezone"]))
