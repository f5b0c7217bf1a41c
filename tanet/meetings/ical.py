"""Meetings as iCalendar (RFC 5545), iTIP messages (RFC 5546) and e-mail (RFC 5322).

Built with icalendar's own API; the VTIMEZONE is written in the rule form
Outlook understands (one STANDARD and one DAYLIGHT block, each with a yearly
RRULE), derived from zoneinfo, not the RDATE lists of Timezone.from_tzinfo.
"""

from __future__ import annotations

import re
import uuid
import sqlite3
import unicodedata
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress

from tanet import __version__
from tanet import dates
from tanet.errors import TanetError
from tanet.text import flat

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

def description(meeting: dict, sessions: list[dict]) -> str:
    lines = []
    if sessions:
        lines.append("Agenda:")
        for s in sessions:
            lines.append(f"- {_session_line(s)}")
        lines.append("")
    if meeting.get("facilitated_by") and meeting.get("status") != "cancelled":
        lines += [facilitated_by(meeting["facilitated_by"]), ""]
    if meeting.get("url"):
        lines.append(f"Join online: {meeting['url']}")
    if meeting.get("location"):
        lines.append(f"Place: {meeting['location']}")
    return "\n".join(lines).strip()


def facilitated_by(names: list[str]) -> str:
    return "Facilitated by " + " and ".join(names) + "."


def _session_line(s: dict) -> str:
    kind = {"spotlight": "Spotlight", "reflective": "Reflective practice", "training": "Training",
            "guest": "Guest speaker"}[s["kind"]]
    who = ""
    if s.get("guest"):
        who = f" - {s['guest']}" + (f" ({s['guest_org']})" if s.get("guest_org") else "")
    elif s.get("presenter"):
        who = f" - {s['presenter']}"
    return f"{kind}: {s['title']}{who}"


def display_name(name: str) -> str:
    """A name for a CN parameter. Parameter values have no escaping, and a backslash
    before a delimiter breaks parsers (icalendar's own included), so it becomes '/'.
    A double quote would need RFC 6868's ^' code, which libical-based programs show
    raw, so it becomes a single quote. Control characters (only a file from before
    0.2 can hold them) become spaces."""
    return flat(name).replace("\\", "/").replace('"', "'")


def organizer(name: str, email: str) -> vCalAddress:
    return vCalAddress.new(email, cn=display_name(name) if name else None)


def attendee(name: str, email: str, asked: bool = True) -> vCalAddress:
    """An attendee; `asked` (a request, not a cancellation) adds that an answer is wanted."""
    if not asked:
        return vCalAddress.new(email, cn=display_name(name), role="REQ-PARTICIPANT")
    return vCalAddress.new(email, cn=display_name(name), role="REQ-PARTICIPANT", partstat="NEEDS-ACTION", rsvp=True)


def event(meeting: dict, sessions: list[dict], org: vCalAddress, attendees: list[vCalAddress] = (),
          stamp: datetime | None = None, alarm_minutes: int = 0) -> Event:
    tz = ZoneInfo(meeting["timezone"])
    start = datetime.fromisoformat(f"{meeting['date']}T{meeting['start']}").replace(tzinfo=tz)
    end = datetime.fromisoformat(f"{meeting['date']}T{meeting['end']}").replace(tzinfo=tz)
    ev = Event.new(
        uid=meeting["uid"], start=start, end=end, summary=meeting["title"],
        location=meeting.get("location") or None, url=meeting.get("url") or None,
        description=description(meeting, sessions) or None, organizer=org,
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


# Loading meetings from the database ---------------------------------------------------

def organiser_of(values: dict) -> tuple[str, str]:
    email = values.get("organiser.email", "")
    if not email:
        raise TanetError("Invitations need an organiser: set one with "
                         "tanet init --organiser-name 'Your Name' --organiser-email you@example.org")
    return values.get("organiser.name") or email, email


def publish(conn: sqlite3.Connection, meetings: list[dict], values: dict) -> bytes:
    """One METHOD:PUBLISH calendar of these meetings: ORGANIZER, no ATTENDEE."""
    from tanet.meetings.schedule import list_sessions

    org = organizer(*organiser_of(values))
    events = [event(m, list_sessions(conn, m["id"]), org) for m in meetings]
    return to_bytes(calendar("PUBLISH", events, values["timezone"], name=values["network"]))


# Invitations ------------------------------------------------------------------------

def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if c.isascii())
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "meeting"


def folder_name(meeting: dict) -> str:
    """A meeting's own folder name: its date, time and title for a person to recognise,
    and its id, so that no other meeting (same day, a title that slugs alike, or both
    with the default title) ever shares it, and re-runs of this meeting find it again."""
    return f"{meeting['date']}-{meeting['start'].replace(':', '')}-{slug(meeting['title'])}-{meeting['id']}"


def when_in_words(meeting: dict) -> str:
    day = date.fromisoformat(meeting["date"])
    zone = "UK time" if meeting["timezone"] in ("Europe/London", "GB", "Europe/Belfast") else meeting["timezone"]
    return f"{dates.in_words(day)}, {meeting['start']}–{meeting['end']} {zone}"


def greeting(known_as: str | None) -> str:
    return f"Dear {known_as}," if known_as else "Hello,"


def body_text(meeting: dict, sessions: list[dict], values: dict, greet: str | None,
              changes: list[str] = (), single: bool = False, first: bool | None = None) -> str:
    """The plain-text part: an invitation, an update saying what changed, or a
    cancellation giving the reason."""
    network = values["network"]
    hello = "Dear colleagues," if single else greeting(greet)
    if meeting["status"] == "cancelled":
        lines = [hello, "", f"The {network} meeting on {when_in_words(meeting)} is cancelled."]
        if meeting.get("cancel_reason"):
            lines += ["", f"Why: {meeting['cancel_reason']}"]
        lines += ["", "Your calendar will remove it when you open the attached update.", "",
                  values.get("organiser.name") or network]
        return "\n".join(lines) + "\n"
    if changes:
        intro = ["The meeting below has changed:"] + [f"  {c}" for c in changes] + [
            "The attached invitation updates your calendar."]
    elif not (first if first is not None else meeting["sequence"] == 0):
        intro = ["The details of the meeting below have been updated; the attached invitation updates "
                 "your calendar."]
    else:
        intro = [f"You are invited to the next {network} meeting."]
    lines = [hello, ""] + intro + [""] + meeting_lines(meeting, sessions)
    if meeting.get("facilitated_by"):  # as reminders name them
        lines += ["", facilitated_by(meeting["facilitated_by"])]
    organiser_name, organiser_email = values.get("organiser.name"), values.get("organiser.email")
    answer = ("add it to your calendar with the attached file" if single else
              "please accept or decline with your calendar's buttons")
    lines += ["", f"To reply, {answer}. If you cannot come, reply to {organiser_email} to send your apologies.",
              "", organiser_name or network]
    return "\n".join(lines) + "\n"


def meeting_lines(meeting: dict, sessions: list[dict]) -> list[str]:
    """What, when, where, the link and the agenda, as the text of a message gives them."""
    lines = [f"What:  {meeting['title']}", f"When:  {when_in_words(meeting)}"]
    if meeting.get("location"):
        lines.append(f"Where: {meeting['location']}")
    if meeting.get("url"):
        lines.append(f"Join online: {meeting['url']}")
    if sessions:
        lines += ["", "Agenda:"] + [f"  - {_session_line(s)}" for s in sessions]
    return lines


def what_changed(before: dict | None, meeting: dict) -> list[str]:
    """`Date: Tuesday 9 March 2027 -> Wednesday 10 March 2027`, for what differs from the
    version a member was last sent."""
    if not before:
        return []
    out = []
    if before.get("date") != meeting["date"]:
        out.append(f"Date: {dates.in_words(date.fromisoformat(before['date']))} -> "
                   f"{dates.in_words(date.fromisoformat(meeting['date']))}")
    if (before.get("start"), before.get("end")) != (meeting["start"], meeting["end"]):
        out.append(f"Time: {before.get('start')}–{before.get('end')} -> {meeting['start']}–{meeting['end']}")
    for key, label in (("location", "Place"), ("url", "Link"), ("title", "Title"), ("organiser", "Organiser")):
        if key == "organiser" and key not in before:
            continue
        if (before.get(key) or None) != (meeting.get(key) or None):
            out.append(f"{label}: {before.get(key) or '(none)'} -> {meeting.get(key) or '(none)'}")
    return out


def message(*, meeting: dict, sessions: list[dict], values: dict, method: str, ics: bytes | None,
            to: list[tuple[str, str]], bcc: list[tuple[str, str]] = (), greet: str | None = None,
            changes: list[str] = (), subject: str | None = None, text: str | None = None,
            message_id: str | None = None, first: bool | None = None):
    """An RFC 5322 message ready to send (marked `X-Unsent: 1`, so Outlook opens the file as
    a draft): multipart/mixed(alternative(text/plain, text/calendar), .ics attachment), or
    plain text alone when there is no calendar (reminders, thanks)."""
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    def addresses(pairs):
        return [Address(display_name=flat(n or ""), addr_spec=e) for n, e in pairs]

    org_name, org_email = organiser_of(values)
    msg = EmailMessage()
    if subject is None:
        first = first if first is not None else meeting["sequence"] == 0
        prefix = ("Cancelled" if meeting["status"] == "cancelled" else "Invitation" if first else "Updated")
        subject = f"{prefix}: {meeting['title']}, {when_in_words(meeting)}"
    msg.set_raw("Subject", folded_subject(flat(subject)))
    msg["From"] = addresses([(org_name, org_email)])
    msg["To"] = addresses(to)
    if bcc:
        # Bare addresses: long Bcc lists with encoded names fold badly, swallowing an
        # address into the name before it; the names are of no use to anyone here.
        msg["Bcc"] = ", ".join(e for _, e in bcc)
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = message_id or make_msgid(domain=org_email.split("@")[-1])
    msg["X-Unsent"] = "1"
    # Quoted-printable: readable in the file, safe through any mail server, and the same
    # for every member but the greeting line (see tanet.letters).
    msg.set_content(text if text is not None else
                    body_text(meeting, sessions, values, greet, changes, single=bool(bcc), first=first),
                    cte="quoted-printable")
    if ics is None:
        return msg
    # Added as bytes so the calendar keeps its CRLF line ends exactly.
    msg.add_alternative(ics, maintype="text", subtype="calendar", cte="base64",
                        params={"charset": "UTF-8", "method": method})
    msg.make_mixed()
    msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    return msg


def folded_subject(subject: str) -> str:
    """The Subject folded as the email package folds it, less the space it leaves at the end of a
    line before an encoded word: unfolded, that space and the next line's made two ("2027,  15:45")."""
    import re
    from email import policy

    folded = policy.SMTP.fold("Subject", policy.SMTP.header_factory("Subject", subject))
    return re.sub(r"[ \t]+\r\n", "\r\n", folded)[len("Subject: "):].rstrip("\r\n")


def invitation(meeting: dict, sessions: list[dict], values: dict, people: list[tuple[str, str]],
               stamp: datetime | None = None) -> tuple[str, bytes]:
    """The iTIP message for these attendees: REQUEST while scheduled, CANCEL once cancelled;
    with no attendees (one message for everyone), PUBLISH, which names nobody."""
    method = ("PUBLISH" if not people else "CANCEL" if meeting["status"] == "cancelled" else "REQUEST")
    org = organizer(*organiser_of(values))
    alarm = int(values.get("invite.alarm_minutes") or 0)
    asked = meeting["status"] != "cancelled"  # a cancellation asks for no answer
    ev = event(meeting, sessions, org, [attendee(n, e, asked) for n, e in people], stamp=stamp, alarm_minutes=alarm)
    return method, to_bytes(calendar(method, [ev], meeting["timezone"]))


def message_bytes(msg) -> bytes:
    """A message as it goes into a file and over SMTP (CRLF line ends)."""
    from email import policy

    try:
        return msg.as_bytes(policy=policy.SMTP)
    except (ValueError, UnicodeError) as e:
        raise TanetError(f"A message could not be written ({e}). Check the names and e-mail addresses "
                         "with: tanet member list; nothing was written.") from None


def withdrawal(meeting: dict, values: dict, name: str, email: str, sequence: int) -> bytes:
    """The iTIP message that takes one attendee off a meeting that goes ahead (RFC 5546
    §3.2.5): METHOD:CANCEL naming only them, the meeting's UID and a raised SEQUENCE.
    No STATUS: the meeting itself is not cancelled."""
    org = organizer(*organiser_of(values))
    person = vCalAddress.new(email, cn=display_name(name), role="REQ-PARTICIPANT")
    ev = event({**meeting, "sequence": sequence, "status": "scheduled"}, [], org, [person])
    del ev["STATUS"]
    del ev["TRANSP"]
    return to_bytes(calendar("CANCEL", [ev], meeting["timezone"]))
