"""Invitations as mail programs read them: Subject lines that unfold to what was written, a
cancellation that asks for no answer, no empty folder left by a move, and the facilitators named."""

import email
from datetime import date, timedelta
from email import policy
from pathlib import Path

import icalendar
from conftest import add_member


def read(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def calendar_of(msg) -> icalendar.Event:
    part = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
    return icalendar.Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")[0]


def test_every_subject_of_a_demos_invitations_unfolds_with_single_spaces(tanet, tmp_path):
    # Every meeting of a three-year demo (its subjects are the same for every member, so a few
    # members will do): invitations, the updates of a moved meeting, and a cancellation.
    demo = tmp_path / "demo.db"
    tanet("demo", "--db", demo, "--members", "12", "--years", "3", "--quiet", ok=True)
    use_demo = {"TANET_DB": str(demo)}
    meetings = tanet("meeting", "list", "--format", "json", env=use_demo, ok=True).json()
    upcoming = tanet("meeting", "list", "--upcoming", "--format", "json", env=use_demo, ok=True).json()
    assert len(meetings) > 15 and len(upcoming) >= 3
    for m in meetings:  # a shorter title, with which the email package's folding went wrong most often
        if m["status"] == "scheduled":
            tanet("meeting", "edit", m["id"], "--title", "Lothian TIP Network meeting", env=use_demo, ok=True)
    tanet("invite", upcoming[0]["id"], "-o", tmp_path / "first", env=use_demo, ok=True)
    later = (date.fromisoformat(upcoming[0]["date"]) + timedelta(days=1)).isoformat()
    tanet("meeting", "move", upcoming[0]["id"], "--to", later, env=use_demo, ok=True)
    tanet("invite", upcoming[-1]["id"], "-o", tmp_path / "last", env=use_demo, ok=True)  # a cancellation needs it sent
    tanet("meeting", "cancel", upcoming[-1]["id"], "--reason", "Strike day", env=use_demo, ok=True)
    subjects = []
    for m in meetings:
        if m["status"] == "cancelled":  # the demo's own: nobody was sent them, so there is nothing to write
            continue
        tanet("invite", m["id"], "--force", "-o", tmp_path / f"m{m['id']}", env=use_demo, ok=True)
        for path in sorted((tmp_path / f"m{m['id']}").glob("*.eml")):
            msg = read(path)
            subjects.append(msg["Subject"])
            assert msg["Subject"] == " ".join(msg["Subject"].split()), (path.name, msg["Subject"])
    assert {s.split(":")[0] for s in subjects} == {"Invitation", "Updated", "Cancelled"}


def test_a_subject_of_any_day_and_title_unfolds_as_written(tanet):
    # Every day of a year, with titles of several lengths: where the email package folds the
    # line before the encoded time range, it must not leave a space at the end of the line.
    from tanet.mail import compose

    values = {"network": "Lothian TIP Network", "organiser.name": "Alex Morgan",
              "organiser.email": "alex@example.org"}
    day, broken = date(2027, 1, 1), []
    for offset in range(365):
        for title in ("Network meeting", "Lothian TIP Network meeting"):
            meeting = {"title": title, "date": (day + timedelta(days=offset)).isoformat(), "start": "15:45",
                       "end": "17:45", "timezone": "Europe/London", "status": "scheduled", "sequence": 0}
            msg = compose.message(meeting=meeting, sessions=[], values=values, method="", ics=None,
                               to=[("Ann Lee", "ann@example.org")], text="Hello\n")
            wanted = f"Invitation: {title}, {compose.when_in_words(meeting)}"
            raw = compose.message_bytes(msg)
            subject = email.message_from_bytes(raw, policy=policy.default)["Subject"]
            if subject != wanted or b" \r\n" in raw.split(b"\r\n\r\n")[0]:
                broken.append(subject)
    assert broken == []


def network(tanet):
    tanet("init", "--network", "Lothian TIP Network", "--organiser-name", "Alex Morgan",
          "--organiser-email", "alex@example.org", ok=True)
    add_member(tanet, "Ann Lee", "ann@example.org", "housing", "public")
    add_member(tanet, "Bo Chan", "bo@example.org", "education", "third")
    tanet("meeting", "add", "2027-02-09", "--location", "Leith Library", ok=True)


def test_a_cancellation_asks_for_no_answer(tanet, tmp_path):
    network(tanet)
    tanet("invite", "1", "-o", tmp_path / "request", ok=True)
    asked = calendar_of(read(tmp_path / "request" / "00001-ann-lee.eml"))["ATTENDEE"]
    assert (asked.params["RSVP"], asked.params["PARTSTAT"]) == ("TRUE", "NEEDS-ACTION")
    tanet("meeting", "cancel", "1", "--reason", "Strike day", ok=True)
    tanet("invite", "1", "-o", tmp_path / "cancel", ok=True)
    for path in (tmp_path / "cancel").glob("*.eml"):
        event = calendar_of(read(path))
        assert event["STATUS"] == "CANCELLED"
        attendee = event["ATTENDEE"]
        assert "RSVP" not in attendee.params and "PARTSTAT" not in attendee.params, attendee.params
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"


def test_moving_a_meeting_leaves_no_empty_folder(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet)
    tanet("invite", "1", ok=True)
    first = next((tmp_path / "invites").iterdir())
    for path in first.glob("*.eml"):  # sent from the mail program, then deleted there
        path.unlink()
    tanet("meeting", "move", "1", "--to", "2027-02-10", ok=True)
    tanet("invite", "1", ok=True)
    folders = [p.name for p in (tmp_path / "invites").iterdir()]
    assert len(folders) == 1 and folders[0].startswith("2027-02-10"), folders
    # Drafts still there go as before, with their folder.
    tanet("meeting", "move", "1", "--to", "2027-02-11", ok=True)
    tanet("invite", "1", ok=True)
    assert [p.name[:10] for p in (tmp_path / "invites").iterdir()] == ["2027-02-11"]


def test_invitations_name_the_facilitators(tanet, tmp_path):
    network(tanet)
    tanet("meeting", "facilitate", "1", "ann@example.org", "bo@example.org", ok=True)
    tanet("invite", "1", "-o", tmp_path / "i", ok=True)
    for path in (tmp_path / "i").glob("*.eml"):
        msg = read(path)
        assert "Facilitated by Ann Lee and Bo Chan." in msg.get_body(("plain",)).get_content()
        assert "Facilitated by Ann Lee and Bo Chan." in str(calendar_of(msg)["DESCRIPTION"])
