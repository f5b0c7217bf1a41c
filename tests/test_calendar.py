"""Calendars and invitations, read back by parsers nobody here wrote."""

import email
import email.policy
import json
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
import vobject
from conftest import add_member

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin")


def libical_errors(*paths):
    """libical's iTIP restrictions, through Debian's gir1.2-ical-3.0 (installed by make test)."""
    probe = subprocess.run([SYSTEM_PYTHON or "python3", "-c", "import gi; gi.require_version('ICalGLib', '3.0')"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("libical (gir1.2-ical-3.0) is not installed; run make test to install it")
    out = subprocess.run([SYSTEM_PYTHON, str(HERE / "libical_check.py"), *map(str, paths)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def byte_checks(data: bytes):
    data.decode("utf-8")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.endswith(b"\r\n")
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line


def normalise(data: bytes) -> str:
    text = data.decode()
    text = re.sub(r"DTSTAMP:\d{8}T\d{6}Z", "DTSTAMP:<stamp>", text)
    text = re.sub(r"UID:[0-9a-f-]{36}(@tanet)?\r\n", "UID:<uid>\r\n", text)
    return text


def setup_network(tanet, location="Room 1, Leith Library; \"Main hall\" 🙂"):
    tanet("init", "--network", "Lothian TIP Network", "--organiser-name", "Alex Morgan",
          "--organiser-email", "coordinator@example.org", ok=True)
    add_member(tanet, "Zoë O'Brien, Jr.", "zoe@example.org", "education", "public", "frontline", "Leith Academy",
               "--joined", "2025-01-01")
    add_member(tanet, "Seán Ó Súilleabháin", "sean@example.org", "housing", "third", "manager", "Harbour Trust",
               "--joined", "2025-01-01")
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "City Council",
               "--joined", "2025-01-01")
    tanet("meeting", "plan", "--start", "2027-02-09", "--count", "3", "--times", "10:00,15:45",
          "--location", location, "--url", "https://meet.example.org/tip", ok=True)
    tanet("session", "add", "1", "--kind", "guest", "--title", "Self-harm: what helps, and why",
          "--guest", "Dr Harriet Vale", "--guest-org", "Self-Harm Network", ok=True)


def parse_eml(path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def calendar_part(msg):
    part = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
    return part, part.get_payload(decode=True)


def test_feed_publish(tanet, tmp_path):
    setup_network(tanet)
    tanet("meeting", "cancel", "3", "--reason", "Strike day", ok=True)
    feed = tmp_path / "feed.ics"
    tanet("export", "ics", "-o", feed, ok=True)
    data = feed.read_bytes()
    byte_checks(data)
    assert libical_errors(feed) == {str(feed): []}
    cal = icalendar.Calendar.from_ical(data)
    assert (cal["METHOD"], cal["X-WR-CALNAME"]) == ("PUBLISH", "Lothian TIP Network")
    events = cal.walk("VEVENT")
    assert len(events) == 3
    assert all("ATTENDEE" not in e for e in events)
    assert all(str(e["ORGANIZER"]) == "mailto:coordinator@example.org" for e in events)
    assert [str(e["STATUS"]) for e in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    # Same UIDs every time, so re-importing updates instead of duplicating.
    again = icalendar.Calendar.from_ical(tanet("export", "ics", ok=True).stdout.encode())
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == [str(e["UID"]) for e in events]
    assert str(again["UID"]) == str(cal["UID"])
    # Stdout is the calendar alone.
    assert tanet("export", "ics", ok=True).stdout.startswith("BEGIN:VCALENDAR")


def test_vtimezone_is_in_yearly_rule_form(tanet, tmp_path):
    setup_network(tanet)
    cal = icalendar.Calendar.from_ical(tanet("export", "ics", ok=True).stdout.encode())
    (tz,) = cal.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "Europe/London"
    daylight, standard = tz.walk("DAYLIGHT"), tz.walk("STANDARD")
    assert len(daylight) == 1 and len(standard) == 1
    assert "RDATE" not in daylight[0] and "RDATE" not in standard[0]
    assert daylight[0]["RRULE"]["BYMONTH"] == [3] and daylight[0]["RRULE"]["BYDAY"] == ["-1SU"]
    assert standard[0]["RRULE"]["BYMONTH"] == [10] and standard[0]["RRULE"]["BYDAY"] == ["-1SU"]
    assert daylight[0]["DTSTART"].dt == datetime(1970, 3, 29, 1, 0)
    assert standard[0]["DTSTART"].dt == datetime(1970, 10, 25, 2, 0)
    assert cal.get_missing_tzids() == set()


def test_times_right_on_both_sides_of_clock_changes(tanet, tmp_path):
    tanet("init", "--organiser-email", "coordinator@example.org", ok=True)
    tanet("meeting", "plan", "--start", "2027-02-09", "--count", "6", "--time", "10:00", "--no-holidays",
          "--url", "https://meet.example.org/tip", ok=True)
    feed = tmp_path / "series.ics"
    tanet("export", "ics", "-o", feed, ok=True)
    data = feed.read_bytes()
    expected_utc = [datetime(2027, 2, 9, 10), datetime(2027, 4, 6, 9), datetime(2027, 6, 1, 9),
                    datetime(2027, 7, 27, 9), datetime(2027, 9, 21, 9), datetime(2027, 11, 16, 10)]
    # icalendar
    cal = icalendar.Calendar.from_ical(data)
    got = [e["DTSTART"].dt.astimezone(timezone.utc).replace(tzinfo=None) for e in cal.walk("VEVENT")]
    assert got == expected_utc
    # vobject, validating
    vcal = vobject.readOne(data.decode(), validate=True)
    got = [ev.dtstart.value.astimezone(timezone.utc).replace(tzinfo=None) for ev in vcal.vevent_list]
    assert got == expected_utc
    # vobject applying our VTIMEZONE's rules, not its own zone database
    vtz = vcal.vtimezone.gettzinfo()
    for ev, utc in zip(vcal.vevent_list, expected_utc):
        naive = ev.dtstart.value.replace(tzinfo=None)
        assert (naive - naive.replace(tzinfo=vtz).utcoffset()) == utc
    # recurring-ical-events over the whole series
    found = recurring_ical_events.of(cal).between(datetime(2027, 1, 1), datetime(2028, 1, 1))
    assert sorted(e["DTSTART"].dt.astimezone(timezone.utc).replace(tzinfo=None) for e in found) == expected_utc
    assert libical_errors(feed) == {str(feed): []}


def test_invite_one_message_per_member(tanet, tmp_path):
    setup_network(tanet)
    out = tmp_path / "out"
    r = tanet("invite", "1", "-o", out, ok=True)
    assert "Wrote 3 invitations (REQUEST)" in r.stdout and str(out) in r.stdout
    files = sorted(out.glob("*.eml"))
    assert len(files) == 3
    addresses = {"zoe@example.org", "sean@example.org", "ann@example.org"}
    for path in files:
        raw = path.read_bytes()
        msg = parse_eml(path)
        (to,) = msg["To"].addresses
        others = addresses - {to.addr_spec}
        assert not any(o.encode() in raw for o in others), "another member's address leaked"
        assert msg.get_content_type() == "multipart/mixed"
        alt, attachment = msg.get_payload()
        assert alt.get_content_type() == "multipart/alternative"
        plain, cal_part = alt.get_payload()
        assert plain.get_content_type() == "text/plain"
        assert cal_part.get_content_type() == "text/calendar"
        assert cal_part.get_param("method") == "REQUEST" and cal_part.get_content_charset() == "utf-8"
        assert attachment.get_filename() == "invite.ics"
        assert attachment.get_content() == cal_part.get_payload(decode=True)
        body = plain.get_content()
        assert "Tuesday 9 February 2027, 10:00–12:00 UK time" in body
        assert "https://meet.example.org/tip" in body and "Dr Harriet Vale (Self-Harm Network)" in body
        assert "apologies" in body
        ics = cal_part.get_payload(decode=True)
        byte_checks(ics)
        cal = icalendar.Calendar.from_ical(ics)
        (ev,) = cal.walk("VEVENT")
        assert cal["METHOD"] == "REQUEST"
        att = ev["ATTENDEE"]
        assert str(att) == f"mailto:{to.addr_spec}"
        assert att.params["CN"] == to.display_name
        assert (att.params["ROLE"], att.params["PARTSTAT"], att.params["RSVP"]) == ("REQ-PARTICIPANT", "NEEDS-ACTION", "TRUE")
        assert ev["ORGANIZER"].params["CN"] == "Alex Morgan"
        assert str(ev["LOCATION"]) == 'Room 1, Leith Library; "Main hall" 🙂'
        vobject.readOne(ics.decode(), validate=True)
        (tmp_path / f"{path.stem}.ics").write_bytes(ics)
    assert all(v == [] for v in libical_errors(*tmp_path.glob("*.ics")).values())


def test_move_then_cancel(tanet, tmp_path):
    setup_network(tanet)
    tanet("invite", "1", "-o", tmp_path / "a", ok=True)
    first = icalendar.Calendar.from_ical(calendar_part(parse_eml(next((tmp_path / "a").glob("*.eml"))))[1])
    tanet("meeting", "move", "1", "--to", "2027-02-10", ok=True)
    r = tanet("invite", "1", "-o", tmp_path / "b", ok=True)
    assert "updates (REQUEST)" in r.stdout
    msg = parse_eml(next((tmp_path / "b").glob("*.eml")))
    assert msg["Subject"].startswith("Updated:")
    moved = icalendar.Calendar.from_ical(calendar_part(msg)[1])
    (ev0,), (ev1,) = first.walk("VEVENT"), moved.walk("VEVENT")
    assert ev1["UID"] == ev0["UID"] and ev1["SEQUENCE"] == ev0["SEQUENCE"] + 1 == 1
    assert moved["METHOD"] == "REQUEST"
    tanet("meeting", "cancel", "1", ok=True)
    r = tanet("invite", "1", "-o", tmp_path / "c", ok=True)
    assert "cancellations (CANCEL)" in r.stdout
    msg = parse_eml(next((tmp_path / "c").glob("*.eml")))
    part, ics = calendar_part(msg)
    assert part.get_param("method") == "CANCEL" and msg["Subject"].startswith("Cancelled:")
    cancelled = icalendar.Calendar.from_ical(ics)
    (ev2,) = cancelled.walk("VEVENT")
    assert cancelled["METHOD"] == "CANCEL" and ev2["STATUS"] == "CANCELLED"
    assert ev2["UID"] == ev0["UID"] and ev2["SEQUENCE"] == 2
    (tmp_path / "cancel.ics").write_bytes(ics)
    assert libical_errors(tmp_path / "cancel.ics") == {str(tmp_path / "cancel.ics"): []}


def test_single_message_with_bcc_after_warning(tanet, tmp_path):
    setup_network(tanet)
    r = tanet("invite", "1", "--single", "-o", tmp_path / "s", ok=True)
    assert "Warning" in r.stderr
    (path,) = (tmp_path / "s").glob("*.eml")
    msg = parse_eml(path)
    assert [a.addr_spec for a in msg["To"].addresses] == ["coordinator@example.org"]
    assert sorted(a.addr_spec for a in msg["Bcc"].addresses) == ["ann@example.org", "sean@example.org", "zoe@example.org"]
    cal = icalendar.Calendar.from_ical(calendar_part(msg)[1])
    assert cal["METHOD"] == "PUBLISH" and cal.walk("VEVENT")[0].get("ATTENDEE") is None
    assert not any(a.encode() in calendar_part(msg)[1] for a in ("ann@", "sean@", "zoe@"))


def test_area_selection(tanet, tmp_path):
    setup_network(tanet)
    r = tanet("invite", "1", "--area", "Education", "-o", tmp_path / "e", ok=True)
    assert "Wrote 1 invitation" in r.stdout
    tanet("invite", "1", "--area", "educaton", ok=False)


def test_golden_files(tanet, tmp_path):
    setup_network(tanet)
    tanet("meeting", "cancel", "3", ok=True)
    feed = tmp_path / "feed.ics"
    tanet("export", "ics", "-o", feed, ok=True)
    tanet("invite", "1", "--area", "education", "-o", tmp_path / "inv", ok=True)
    invite = calendar_part(parse_eml(next((tmp_path / "inv").glob("*.eml"))))[1]
    for name, data in (("feed.ics", feed.read_bytes()), ("invite-request.ics", invite)):
        golden = GOLDEN / name
        if not golden.exists():  # write once, then review and commit
            golden.write_bytes(normalise(data).encode())
        assert normalise(data) == golden.read_bytes().decode(), name


def test_bad_input(tanet, tmp_path):
    tanet("meeting", "add", "2027-02-09", "--url", "https://meet.example.org/x", ok=True)
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    assert "--organiser-email" in tanet("invite", "1", ok=False).stderr
    assert "--organiser-email" in tanet("export", "ics", ok=False).stderr
    tanet("init", "--organiser-email", "coordinator@example.org", ok=True)
    tanet("meeting", "add", "2027-03-09", ok=True)
    assert "neither a place nor a link" in tanet("invite", "2", ok=False).stderr
    tanet("meeting", "edit", "2", "--location", "Leith Library", ok=True)
    tanet("meeting", "add", "2026-10-06", "--location", "Leith Library", ok=True)
    assert "in the past" in tanet("invite", "3", "-o", tmp_path / "p", ok=False).stderr
    tanet("invite", "3", "--force", "-o", tmp_path / "p", ok=True)
    blocked = tmp_path / "file"
    blocked.write_text("x")
    assert "file is a file, not a folder" in tanet("invite", "1", "-o", blocked / "sub", ok=False).stderr
    assert "--from 2027-03-01 is after --to" in tanet("export", "ics", "--from", "2027-03-01", "--to", "2027-01-01", ok=False).stderr
