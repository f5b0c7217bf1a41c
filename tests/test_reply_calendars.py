"""A reply's calendar read by tanet (icalendar's content lines, only what is needed) says
what icalendar's whole-calendar parser says, for every client's sample and for the same
calendars with their parts in another order."""

import email
import re
from email import policy
from email.message import EmailMessage

import icalendar
import pytest
from conftest import FIXTURES

from tanet.mail import replies

SAMPLES = sorted((FIXTURES / "replies").glob("*.eml"))


def calendar_text(path) -> str | None:
    """The sample's calendar (its text/calendar part, else its .ics attachment)."""
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    parts = [p for p in msg.walk() if not p.is_multipart()]
    for part in [p for p in parts if p.get_content_type() == "text/calendar"] + [
            p for p in parts if (p.get_filename() or "").lower().endswith(".ics")]:
        return part.get_payload(decode=True).decode("utf-8")
    return None


def as_message(text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "someone@example.org"
    msg.add_attachment(text.encode("utf-8"), maintype="text", subtype="calendar", filename="reply.ics")
    return msg


def oracle(text: str) -> dict:
    """What icalendar's Calendar.from_ical reads: the METHOD and the first event's answer."""
    cal = icalendar.Calendar.from_ical(text)
    event = cal.walk("VEVENT")[0]
    found = event.get("ATTENDEE")
    found = found if isinstance(found, list) else [found] if found is not None else []
    comment = event.get("COMMENT")
    return {"method": str(cal.get("METHOD", "")).upper(), "uid": str(event.get("UID", "")),
            "sequence": int(event.get("SEQUENCE", 0)),
            "attendees": [(str(a).lower().removeprefix("mailto:"), str(a.params.get("PARTSTAT", "")).upper())
                          for a in found],
            "comment": (str(comment).strip() or None) if comment is not None else None}


def tanet_reads(text: str) -> dict:
    reply = replies.calendar_of(as_message(text))
    return {"method": reply.method, "uid": reply.uid, "sequence": reply.sequence,
            "attendees": [(address, str(params.get("PARTSTAT", "")).upper()) for params, address in reply.attendees],
            "comment": reply.comment}


def components_moved(text: str) -> str:
    """The same calendar with its METHOD after its components and its time zones after its
    events: unusual, but a calendar all the same (icalendar reads it alike)."""
    lines = text.replace("\r\n", "\n").split("\n")
    method = [line for line in lines if line.upper().startswith("METHOD")]
    lines = [line for line in lines if not line.upper().startswith("METHOD")]
    body = "\n".join(lines)
    zones = re.findall(r"^BEGIN:VTIMEZONE$.*?^END:VTIMEZONE$\n", body, flags=re.M | re.S)
    for zone in zones:
        body = body.replace(zone, "")
    end = body.rindex("END:VCALENDAR")
    return (body[:end] + "".join(zones) + "\n".join(method) + "\n" + body[end:]).replace("\n", "\r\n")


@pytest.mark.parametrize("path", [p for p in SAMPLES if calendar_text(p)], ids=lambda p: p.stem)
def test_each_sample_reads_as_icalendar_reads_it(path):
    text = calendar_text(path)
    assert tanet_reads(text) == oracle(text)
    assert oracle(text)["method"] in ("REPLY", "COUNTER")


@pytest.mark.parametrize("path", [p for p in SAMPLES if calendar_text(p)], ids=lambda p: p.stem)
def test_a_calendar_with_its_parts_in_another_order_reads_the_same(path):
    text = components_moved(calendar_text(path))
    assert text != calendar_text(path)
    assert tanet_reads(text) == oracle(text) == oracle(calendar_text(path))


@pytest.mark.parametrize("cut", ["END:VEVENT", "END:VCALENDAR"])
def test_a_calendar_cut_short_cannot_be_read(cut):
    text = calendar_text(SAMPLES[0])
    broken = text[:text.index(cut)]
    with pytest.raises(ValueError, match="cannot be read"):
        replies.calendar_of(as_message(broken))
