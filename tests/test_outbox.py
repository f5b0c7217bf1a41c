"""The outbox, safe sending over a real SMTP server (aiosmtpd) with TLS from a
certificate made by the test, XOAUTH2, resuming after a kill, reminders and thanks."""

import email
import sqlite3
import subprocess
from email import policy
from pathlib import Path

import icalendar
import pytest
from conftest import add_member
from servers import free_port, use_server
from test_calendar import SYSTEM_PYTHON, libical_errors


def network(tanet, members=3):
    tanet("init", "--network", "Lothian TIP Network", "--organiser-name", "Alex Morgan",
          "--organiser-email", "coordinator@example.org", ok=True)
    people = [("Dr Amina Yusuf", "amina@example.org", "housing"), ("O'Brien, Zoë", "zoe@example.org", "education"),
              ("Seán Ó Briain", "sean@example.org", "justice"), ("Orla Quinn", "orla@example.org", "education"),
              ("Oskar Nowak", "oskar@example.org", "housing")]
    for name, address, area in people[:members]:
        add_member(tanet, name, address, area, "public", "frontline", "City Council", "--joined", "2025-01-01")
    tanet("meeting", "add", "2027-02-09", "--location", "Leith Library", "--url", "https://meet.example.org/tip",
          ok=True)


def parse(path):
    return email.message_from_bytes(Path(path).read_bytes(), policy=policy.default)


def outbox(tanet, *args):
    return tanet("outbox", "list", *args, "--format", "json", ok=True).json()


# The outbox and idempotent sending --------------------------------------------------------

def test_send_is_idempotent_and_the_outbox_records_it(tanet, tmp_path, smtp):
    network(tanet)
    inbox, port = smtp()
    use_server(tanet, port)
    r = tanet("invite", "1", "--area", "education", "--send", "-o", tmp_path / "a", ok=True)
    assert "Sent to 1 member." in r.stdout
    r = tanet("invite", "1", "--send", "-o", tmp_path / "a", ok=True)
    assert "1 member already had this message" in r.stdout and "Sent to 2 members." in r.stdout
    assert sorted(rcpt for rcpt, _ in inbox.messages) == ["amina@example.org", "sean@example.org", "zoe@example.org"]
    rows = outbox(tanet, "1")
    assert len(rows) == 3 and all(set(r) == {"id", "meeting_id", "member_id", "email", "kind", "method", "sequence",
                                                 "message_id", "file", "written_at", "sent_at", "error", "state"} for r in rows)
    assert {r["kind"] for r in rows} == {"invitation"} and all(r["sent_at"] and r["state"] == "sent" for r in rows)
    assert all(Path(r["file"]).is_absolute() and Path(r["file"]).exists() for r in rows)
    assert outbox(tanet, "--unsent") == []
    r = tanet("invite", "1", "--send", "--resend", "-o", tmp_path / "a", ok=True)
    assert "Sent to 3 members." in r.stdout and len(inbox.messages) == 6
    # Each copy of one member's message is the same message.
    assert len({m["Message-ID"] for m in inbox.to("zoe@example.org")}) == 1
    assert all(m["X-Unsent"] is None for _, m in inbox.messages)


def test_updates_and_cancellations_reach_everyone_invited_before(tanet, tmp_path, own_database, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a leaver's cancellation goes to ./cancellations/
    network(tanet, members=5)
    tanet("invite", "1", "--area", "education", "-o", tmp_path / "a", ok=True)
    tanet("member", "leave", "zoe@example.org", "--on", "2027-01-31", ok=True)
    tanet("meeting", "move", "1", "--to", "2027-02-10", "--time", "15:45", ok=True)
    tanet("meeting", "edit", "1", "--location", "Leith Academy", ok=True)
    r = tanet("invite", "1", "--area", "housing", "-o", tmp_path / "b", ok=True)
    assert "Wrote 2 invitations and 1 update (REQUEST)" in r.stdout
    # Orla was outside the later --area: she still gets the update. Zoë left and was sent
    # a withdrawal instead (a leaver gets no later updates).
    names = sorted(p.name for p in (tmp_path / "b").glob("*.eml"))
    assert len(names) == 3 and not any("zoe" in n for n in names) and any("orla" in n for n in names)
    orla = parse(next((tmp_path / "b").glob("*orla*.eml")))
    body = orla.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith("Dear Orla,\n")
    assert "Date: Tuesday 9 February 2027 -> Wednesday 10 February 2027" in body
    assert "Time: 10:00–12:00 -> 15:45–17:45" in body and "Place: Leith Library -> Leith Academy" in body
    assert orla["Subject"].startswith("Updated:") and orla["X-Unsent"] == "1"
    amina = parse(next((tmp_path / "b").glob("*amina*.eml")))
    assert amina.get_body(("plain",)).get_content().replace("\r\n", "\n").startswith("Dear Amina,\n")
    assert "You are invited" in amina.get_body(("plain",)).get_content().replace("\r\n", "\n")
    # The earlier folder's files are gone now that a newer version exists.
    assert list((tmp_path / "a").glob("*.eml")) == []
    tanet("meeting", "cancel", "1", "--reason", "Storm warning: the library is closed", ok=True)
    r = tanet("invite", "1", "-o", tmp_path / "c", ok=True)
    assert "Wrote 4 cancellations (CANCEL)" in r.stdout
    msg = parse(next((tmp_path / "c").glob("*orla*.eml")))
    assert "Why: Storm warning: the library is closed" in msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    cal = icalendar.Calendar.from_ical(msg.get_body(("calendar",)).get_content())
    assert str(cal.walk("VEVENT")[0]["COMMENT"]) == "Storm warning: the library is closed"
    kinds = {(r["email"], r["sequence"]): r["kind"] for r in outbox(tanet, "1")}
    assert kinds[("orla@example.org", 0)] == "invitation" and kinds[("orla@example.org", 2)] == "update"
    assert kinds[("zoe@example.org", 3)] == "cancellation" and kinds[("amina@example.org", 2)] == "invitation"


def test_a_rerun_at_the_same_version_keeps_exactly_the_current_files(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a leaver's cancellation goes to ./cancellations/
    network(tanet, members=5)
    folder = tmp_path / "inv"
    tanet("invite", "1", "-o", folder, ok=True)
    assert len(list(folder.glob("*.eml"))) == 5
    tanet("member", "leave", "oskar@example.org", "--on", "2027-01-01", ok=True)
    tanet("invite", "1", "-o", folder, ok=True)
    assert len(list(folder.glob("*.eml"))) == 4 and not list(folder.glob("*oskar*"))
    assert [r["file"] for r in outbox(tanet, "1") if r["email"] == "oskar@example.org"
            and r["kind"] == "invitation"] == [None]
    # ... and an update no longer reaches Oskar, who left.
    tanet("meeting", "move", "1", "--to", "2027-02-11", ok=True)
    tanet("invite", "1", "-o", folder, ok=True)
    assert len(list(folder.glob("*.eml"))) == 4
    (tmp_path / "mine.txt").write_text("my own notes")
    (folder / "mine.txt").write_text("my own notes")
    assert "holds other files" in tanet("invite", "1", "-o", folder, ok=False).stderr


def test_known_as_greets_by_the_right_name(tanet, tmp_path):
    network(tanet)
    members = {m["email"]: m for m in tanet("member", "list", "--format", "json", ok=True).json()}
    assert members["amina@example.org"]["known_as"] == "Amina"
    assert members["zoe@example.org"]["known_as"] == "Zoë"
    tanet("member", "edit", "sean@example.org", "--known-as", "Shaun", ok=True)
    tanet("member", "add", "Dr", "--email", "dr@example.org", "--org", "O", "--area", "housing", "--sector", "public",
          "--role", "frontline", "--joined", "2025-01-01", ok=True)
    tanet("invite", "1", "-o", tmp_path / "i", ok=True)
    greetings = {parse(p)["To"].addresses[0].addr_spec: parse(p).get_body(("plain",)).get_content().replace("\r\n", "\n").splitlines()[0]
                 for p in (tmp_path / "i").glob("*.eml")}
    assert greetings == {"amina@example.org": "Dear Amina,", "zoe@example.org": "Dear Zoë,",
                         "sean@example.org": "Dear Shaun,", "dr@example.org": "Hello,"}
    out = tmp_path / "m.csv"
    tanet("member", "export", "-o", out, ok=True)
    assert "known_as" in out.read_text(encoding="utf-8-sig").splitlines()[0]


def test_single_never_shows_an_address_and_its_bcc_parses_back(tanet, tmp_path):
    tanet("init", "--organiser-name", "Alex Morgan", "--organiser-email", "coordinator@example.org", ok=True)
    addresses = []
    for i in range(129):  # long names with accents: the folding that once swallowed an address
        address = f"person.number{i}@organisation{i % 7}.example.org"
        addresses.append(address)
        add_member(tanet, f"Órla Ní Bhriain-Ó Súilleabháin {i}", address, "housing", "public", "frontline", "Org",
                   "--joined", "2025-01-01")
    tanet("meeting", "add", "2027-02-09", "--location", "Leith Library", ok=True)
    tanet("invite", "1", "--single", "-o", tmp_path / "s", ok=True)
    (path,) = (tmp_path / "s").glob("*.eml")
    msg = parse(path)
    assert sorted(a.addr_spec for a in msg["Bcc"].addresses) == sorted(addresses)
    assert [a.addr_spec for a in msg["To"].addresses] == ["coordinator@example.org"]
    cal_bytes = msg.get_body(("calendar",)).get_payload(decode=True)
    assert not any(a.encode() in cal_bytes for a in addresses)
    cal = icalendar.Calendar.from_ical(cal_bytes)
    assert cal["METHOD"] == "PUBLISH" and cal.walk("VEVENT")[0].get("ATTENDEE") is None
    (tmp_path / "single.ics").write_bytes(cal_bytes)
    assert libical_errors(tmp_path / "single.ics") == {str(tmp_path / "single.ics"): []}
    rows = outbox(tanet, "1")  # one row per member, and the organiser's own copy
    assert len(rows) == 130 and [r["email"] for r in rows if r["member_id"] is None] == ["coordinator@example.org"]


def test_every_message_passes_libical_and_carries_an_alarm(tanet, tmp_path):
    network(tanet)
    tanet("config", "set", "invite.alarm_minutes", "90", ok=True)
    tanet("invite", "1", "-o", tmp_path / "i", ok=True)
    for i, path in enumerate((tmp_path / "i").glob("*.eml")):
        ics = parse(path).get_body(("calendar",)).get_payload(decode=True)
        (tmp_path / f"{i}.ics").write_bytes(ics)
        alarm = icalendar.Calendar.from_ical(ics).walk("VALARM")[0]
        assert alarm["ACTION"] == "DISPLAY" and alarm["TRIGGER"].dt.total_seconds() == -90 * 60
    assert all(v == [] for v in libical_errors(*tmp_path.glob("*.ics")).values())
    tanet("config", "set", "invite.alarm_minutes", "0", ok=True)
    tanet("invite", "1", "-o", tmp_path / "j", ok=True)
    assert b"VALARM" not in parse(next((tmp_path / "j").glob("*.eml"))).get_body(("calendar",)).get_payload(decode=True)


def test_a_name_with_quotes_reads_the_same_everywhere(tanet, tmp_path):
    tanet("init", "--organiser-name", 'Alex "Sandy" Morgan', "--organiser-email", "coordinator@example.org", ok=True)
    add_member(tanet, 'Mary "Molly" Brown', "molly@example.org", "housing", "public", "frontline", "Org",
               "--joined", "2025-01-01")
    tanet("meeting", "add", "2027-02-09", "--location", "x", ok=True)
    tanet("invite", "1", "-o", tmp_path / "i", ok=True)
    msg = parse(next((tmp_path / "i").glob("*.eml")))
    assert msg["To"].addresses[0].display_name == 'Mary "Molly" Brown'
    assert msg["From"].addresses[0].display_name == 'Alex "Sandy" Morgan'
    ics = msg.get_body(("calendar",)).get_payload(decode=True)
    assert b"^'" not in ics
    ev = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert ev["ATTENDEE"].params["CN"] == "Mary 'Molly' Brown"
    assert ev["ORGANIZER"].params["CN"] == "Alex 'Sandy' Morgan"
    (tmp_path / "q.ics").write_bytes(ics)
    assert libical_errors(tmp_path / "q.ics") == {str(tmp_path / "q.ics"): []}
    read_by_libical = subprocess.run([SYSTEM_PYTHON, "-c", """
import sys, gi
gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib
comp = ICalGLib.Component.new_from_string(open(sys.argv[1], encoding="utf-8", newline="").read())
event = comp.get_first_component(ICalGLib.ComponentKind.VEVENT_COMPONENT)
for kind in (ICalGLib.PropertyKind.ATTENDEE_PROPERTY, ICalGLib.PropertyKind.ORGANIZER_PROPERTY):
    print(event.get_first_property(kind).get_parameter_as_string("CN"))
""", str(tmp_path / "q.ics")], capture_output=True, text=True, check=True).stdout
    assert read_by_libical.splitlines() == ["Mary 'Molly' Brown", "Alex 'Sandy' Morgan"]


# Real TLS, verified ------------------------------------------------------------------------

def test_starttls_refuses_an_untrusted_certificate_until_ca_file_names_it(tanet, tmp_path, smtp, ca,
                                                                          monkeypatch):
    network(tanet)
    inbox, port = smtp("starttls", password="right")
    monkeypatch.setenv("TANET_SMTP_PASSWORD", "right")
    use_server(tanet, port, "starttls", user="coordinator")
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert "certificate this computer does not trust" in r.stderr and "smtp.ca_file" in r.stderr
    assert inbox.messages == []
    assert len(outbox(tanet, "--unsent")) == 3
    tanet("config", "set", "smtp.ca_file", ca[1], ok=True)
    assert "Sent to 3 members." in tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=True).stdout
    assert len(inbox.messages) == 3


def test_a_certificate_for_another_host_never_gets_the_password(tanet, tmp_path, smtp, monkeypatch):
    network(tanet)
    inbox, port = smtp("starttls", password="right", trusted=False)
    monkeypatch.setenv("TANET_SMTP_PASSWORD", "right")
    use_server(tanet, port, "starttls", user="coordinator")
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert "does not trust" in r.stderr and "smtp.starttls false" not in r.stderr
    assert inbox.messages == []


def test_implicit_tls(tanet, tmp_path, smtp, ca, monkeypatch):
    network(tanet)
    inbox, port = smtp("tls", password="right")
    monkeypatch.setenv("TANET_SMTP_PASSWORD", "right")
    use_server(tanet, port, "tls", user="coordinator", ca_file=ca[1])
    assert "Sent to 3 members." in tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=True).stdout
    assert sorted(r for r, _ in inbox.messages) == ["amina@example.org", "sean@example.org", "zoe@example.org"]


def test_no_password_in_clear_except_to_this_computer(tanet, tmp_path, monkeypatch):
    network(tanet)
    monkeypatch.setenv("TANET_SMTP_PASSWORD", "secret")
    tanet("config", "set", "smtp.host", "mail.example.org", ok=True)
    tanet("config", "set", "smtp.security", "none", ok=True)
    tanet("config", "set", "smtp.user", "coordinator", ok=True)
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert "unencrypted" in r.stderr


def test_xoauth2_login_with_a_token_command(tanet, tmp_path, smtp, ca):
    network(tanet)
    inbox, port = smtp("starttls", token="tok-123")
    use_server(tanet, port, "starttls", user="coordinator@example.org", ca_file=ca[1])
    tanet("config", "set", "smtp.auth", "xoauth2", ok=True)
    script = tmp_path / "token.sh"
    script.write_text("#!/bin/sh\necho tok-123\n")
    script.chmod(0o700)
    tanet("config", "set", "smtp.oauth2_token_command", str(script), ok=True)
    assert "Sent to 3 members." in tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=True).stdout
    assert len(inbox.messages) == 3
    # A token command that fails, or prints nothing, is one line.
    tanet("config", "set", "smtp.oauth2_token_command", "sh -c 'echo expired >&2; exit 3'", ok=True)
    assert "expired" in tanet("invite", "1", "--send", "--resend", "-o", tmp_path / "i", ok=False).stderr
    tanet("config", "set", "smtp.oauth2_token_command", "true", ok=True)
    assert "printed nothing" in tanet("invite", "1", "--send", "--resend", "-o", tmp_path / "i", ok=False).stderr
    script.write_text("#!/bin/sh\necho wrong-token\n")
    tanet("config", "set", "smtp.oauth2_token_command", str(script), ok=True)
    assert "refused the login" in tanet("invite", "1", "--send", "--resend", "-o", tmp_path / "i", ok=False).stderr
    assert len(inbox.messages) == 3


# Failures: each reported, the rest sent, the outbox says which --------------------------------

def test_a_refused_address_is_reported_and_retried_alone(tanet, tmp_path, smtp):
    network(tanet)
    inbox, port = smtp(refuse={"sean@example.org"})
    use_server(tanet, port)
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert "Not sent: sean@example.org: refused (550" in r.stderr and "Sent to 2 members." in r.stdout
    [failed] = outbox(tanet, "--unsent")
    assert failed["email"] == "sean@example.org" and failed["error"].startswith("refused (550")
    inbox.refuse.clear()
    assert "Sent to 1 member." in tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=True).stdout
    assert sorted(r for r, _ in inbox.messages) == ["amina@example.org", "sean@example.org", "zoe@example.org"]


def test_sending_problems_are_one_line_each(tanet, tmp_path, smtp):
    network(tanet)
    assert "No mail server" in tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False).stderr
    assert len(outbox(tanet, "--unsent")) == 3  # the files are written and recorded, ready to send
    use_server(tanet, free_port())
    assert "Cannot reach the mail server" in tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False).stderr
    inbox, port = smtp(refuse={"amina@example.org", "zoe@example.org", "sean@example.org"})
    use_server(tanet, port)
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert "3 messages could not be sent" in r.stderr and inbox.messages == []
    tanet("init", "--organiser-email", "", ok=True)
    assert "organiser" in tanet("invite", "1", "--send", "-o", tmp_path / "j", ok=False).stderr


def test_the_throttle_keeps_to_the_limit_a_minute():
    from tanet.mail.smtp import Session

    now = [0.0]
    slept = []
    session = Session.__new__(Session)
    session.per_minute, session.clock = 3, lambda: now[0]
    session.sleep = lambda s: (slept.append(s), now.__setitem__(0, now[0] + s))
    from collections import deque

    session.sent_times, session.on_wait = deque(), None
    for _ in range(7):
        session.wait_turn()
        now[0] += 1.0
    assert slept == [57.0, 57.0]  # messages 4 and 7 wait until a minute after messages 1 and 4


# Reminders and thanks ------------------------------------------------------------------------

def test_remind_everyone_invited_who_has_not_sent_apologies(tanet, tmp_path, smtp):
    network(tanet, members=4)
    tanet("meeting", "facilitate", "1", "amina@example.org", "sean@example.org", ok=True)
    tanet("session", "add", "1", "--kind", "guest", "--title", "Self-harm: what helps", "--guest",
          "Dr Harriet Vale", "--guest-org", "Self-Harm Network", ok=True)
    assert "Nobody has an invitation" in tanet("remind", "1", ok=False).stderr
    tanet("invite", "1", "--area", "housing", "--area", "education", "-o", tmp_path / "i", ok=True)
    tanet("attendance", "mark", "1", "orla@example.org", "--status", "apologies", ok=True)
    inbox, port = smtp()
    use_server(tanet, port)
    r = tanet("remind", "1", "-o", tmp_path / "r", "--send", ok=True)
    assert "Wrote 2 reminders" in r.stdout and "Sent to 2 members." in r.stdout
    assert sorted(r for r, _ in inbox.messages) == ["amina@example.org", "zoe@example.org"]
    body = inbox.to("zoe@example.org")[0].get_body(("plain",)).get_content().replace("\r\n", "\n")
    for text in ("Dear Zoë,", "Tuesday 9 February 2027, 10:00–12:00 UK time", "Leith Library",
                 "https://meet.example.org/tip", "Dr Harriet Vale (Self-Harm Network)",
                 "Facilitated by Dr Amina Yusuf and Seán Ó Briain."):
        assert text in body
    assert "Sent to 0" not in tanet("remind", "1", "-o", tmp_path / "r", "--send", ok=True).stdout
    assert len(inbox.messages) == 2
    assert {r["kind"] for r in outbox(tanet, "1")} == {"invitation", "reminder"}
    tanet("meeting", "cancel", "1", ok=True)
    assert "cancelled" in tanet("remind", "1", ok=False).stderr


def test_thanks_after_a_held_meeting(tanet, tmp_path):
    tanet("init", "--organiser-name", "Alex Morgan", "--organiser-email", "coordinator@example.org", ok=True)
    add_member(tanet, "Dr Amina Yusuf", "amina@example.org", "housing", "public", "frontline", "O",
               "--joined", "2025-01-01")
    add_member(tanet, "Zoë O'Brien", "zoe@example.org", "education", "public", "frontline", "O",
               "--joined", "2025-01-01")
    tanet("meeting", "add", "2026-11-17", "--location", "Leith Library", ok=True)
    tanet("meeting", "add", "2026-12-15", "--location", "Leith Library", ok=True)
    tanet("session", "add", "1", "--kind", "spotlight", "--title", "Trauma and housing", "--presenter",
          "amina@example.org", ok=True)
    tanet("resource", "add", "Risk assessment model", "--meeting", "1", "--description", "A one-page model", ok=True)
    tanet("config", "set", "feedback.form_url", "https://forms.example.org/tip", ok=True)
    tanet("attendance", "mark", "1", "zoe@example.org", ok=True)
    assert "not been held" in tanet("thanks", "2", ok=False).stderr
    r = tanet("thanks", "1", "-o", tmp_path / "t", ok=True)
    assert "Wrote 1 thank-you message" in r.stdout
    body = parse(next((tmp_path / "t").glob("*.eml"))).get_body(("plain",)).get_content().replace("\r\n", "\n")
    for text in ("Dear Zoë,", "Trauma and housing", "Risk assessment model: A one-page model",
                 "https://forms.example.org/tip"):
        assert text in body
    tanet("meeting", "cancel", "2", ok=True)
    assert "cancelled" in tanet("thanks", "2", ok=False).stderr


def test_a_refused_login_is_one_line(tanet, tmp_path, smtp, ca, monkeypatch):
    network(tanet)
    inbox, port = smtp("starttls", password="right")
    monkeypatch.setenv("TANET_SMTP_PASSWORD", "wrong")
    use_server(tanet, port, "starttls", user="coordinator", ca_file=ca[1])
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert "refused the login for coordinator" in r.stderr and inbox.messages == []
    monkeypatch.delenv("TANET_SMTP_PASSWORD")
    assert "TANET_SMTP_PASSWORD" in tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False).stderr


def meeting_with_a_guest(tanet, own_database):
    """The network's first meeting with a guest session: an open connection, the meeting as
    letters take it, its sessions and the settings."""
    from datetime import date

    from tanet.meetings import agenda, schedule
    from tanet.store import db as dbmod
    from tanet.store import settings

    network(tanet)
    tanet("session", "add", "1", "--kind", "guest", "--title", "Self-harm: what helps", "--guest", "Dr Harriet Vale",
          ok=True)
    conn = dbmod.open_db(own_database)
    row = schedule.find_meeting(conn, "1", date(2026, 11, 25))
    meeting = {**schedule.objects(conn, [row])[0], "cancel_reason": None}
    return conn, meeting, agenda.list_sessions(conn, 1), settings.get_all(conn)


def test_personalised_copies_are_byte_for_byte_the_messages_built_in_full(tanet, own_database):
    """Each member's copy, made by joining the template's pieces and encoding only their part of
    the calendar, is byte for byte the message the email and icalendar packages build for them,
    but for what differs between any two builds: the MIME boundaries (random) and the time (the
    Date header and DTSTAMP, to the second: both builds are made again if they straddle one).
    Names of every length put the attendee's line ending at every place of a base64 line.
    Two shapes are left out, where copies have always been written otherwise than the full
    build (both valid): a To line of 75 to 77 characters after "To: " (the copy folds before
    the address, the email package moves it whole to the next line), and a greeting needing
    quoted-printable that is longer than 76 characters (cut at 76, not 78)."""
    import base64
    import re

    from tanet.mail.letters import Template

    conn, meeting, sessions, values = meeting_with_a_guest(tanet, own_database)
    people = [("Zoë O'Brien, \"Jr\"", "zoe@example.org", "Zoë"), ("A" * 90, "a@example.org", None),
              ("Łukasz Żółć-Ćwierć Ślęzak-Główczewski Ą", "l@example.org", "Łukasz"),
              ("Ann Lee", "ann.lee@example.org", "Ann"), ("Jean-Luc St. Clair_2", "jl@example.org", "Jean-Luc"),
              ("=?utf-8?b?QmNjOiB4QGV2aWwub3Jn?=", "victim@example.org", None), ("李小龍", "li@example.org", "小龍"),
              ("Back\\slash; Semi: Colon", "odd+tag@sub.example.org", "Back"),
              ("Dr. Zoë O'Brien, MBChB, MRCPsych, Consultant Psychiatrist", "zoe@example.org", "Zoë"),
              ("Team Lead: Ann-Sofie Ørsted, Housing; Children & Families", "as@example.org", None)]
    # every place in a line of 57 bytes, the To lines all shorter than 75 or longer than 77
    people += [("Ann " + "x" * n, f"a{n}@example.org", "Ann") for n in range(50)]
    people += [("Ann " + "x" * n, f"a{n:02d}." + "x" * 56 + "@example.org", "Ann") for n in range(57)]
    people += [("Zoë " + "é" * n, f"z{n:02d}@example.org", "Zoë") for n in range(0, 60, 7)]

    def normalised(data: bytes) -> tuple[bytes, set]:
        """The message with its boundaries numbered in order of appearance, its Date left out,
        and the DTSTAMPs of its calendars (to compare separately)."""
        boundaries = list(dict.fromkeys(re.findall(rb"=+\d+==", data)))
        for i, b in enumerate(boundaries):
            data = data.replace(b, b"BOUNDARY%d" % i)
        data = re.sub(rb"\r\nDate: [^\r]*", b"", data)
        stamps = {re.search(rb"DTSTAMP:\w+", base64.b64decode(block)).group()
                  for block in re.findall(rb"\r\n\r\n([A-Za-z0-9+/=\r\n]{200,})", data)}
        return data, stamps

    for status, method, changes, first in (("scheduled", "REQUEST", ["Date: a -> b"], False),
                                           ("scheduled", "REQUEST", [], True), ("cancelled", "CANCEL", [], False)):
        args = ({**meeting, "status": status}, sessions, values, method, changes, first)
        fast, full = Template(*args), Template(*args)
        for name, address, greet in people:
            while True:
                full.ok = False
                assert fast.ok
                (a, a_stamps), (b, b_stamps) = (normalised(t.letter(name, address, greet, "<x@example.org>")[0])
                                                for t in (fast, full))
                if a_stamps == b_stamps and len(a_stamps) == 1:  # built in the same second
                    break
                fast, full = Template(*args), Template(*args)
            assert a == b, name
    conn.close()


def test_personalised_copies_are_the_messages_built_in_full(tanet, own_database):
    """tanet.mail.letters swaps parts into a message built once; each copy must read exactly like
    the message the email and icalendar packages build for that member on their own."""

    from tanet.mail.letters import Template

    conn, meeting, sessions, values = meeting_with_a_guest(tanet, own_database)
    args = (meeting, sessions, values, "REQUEST", ["Date: a -> b"], False)
    fast, full = Template(*args), Template(*args)
    full.ok = False
    assert fast.ok
    for name, address, greet in (("Zoë O'Brien, \"Jr\"", "zoe@example.org", "Zoë"), ("A" * 90, "a@example.org", None),
                                 ("Łukasz Żółć-Ćwierć Ślęzak-Główczewski Ą", "l@example.org", "Łukasz" * 12),
                                 # plain names, which take the quicker paths: unquoted, and quoted for a space
                                 ("Ann Lee", "ann.lee@example.org", "Ann"), ("Ann", "ann@example.org", "Ann"),
                                 ("Jean-Luc St. Clair_2", "jl@example.org", "Jean-Luc"),
                                 ("Zoë Müller", "zoe.m@example.org", "Zoë"), ("B" * 70, "b@example.org", "B" * 80),
                                 # a name written as an encoded word ("Bcc: x@evil.org"): shown as written
                                 ("=?utf-8?b?QmNjOiB4QGV2aWwub3Jn?=", "victim@example.org", None),
                                 # long names beyond ASCII with commas, colons, brackets: one person each
                                 ("Dr. Zoë O'Brien, MBChB, MRCPsych, Consultant Psychiatrist", "zoe@example.org", "Zoë"),
                                 ("Müller-Lüdenscheidt, Jürgen (Dr.) [Education]", "juergen@example.org", None),
                                 ("Team Lead: Ann-Sofie Ørsted, Housing; Children & Families", "as@example.org", None)):
        a, b = (email.message_from_bytes(t.letter(name, address, greet, "<x@example.org>")[0], policy=policy.default)
                for t in (fast, full))
        def heads(m):
            return [(k, str(v)) for k, v in m.items() if k not in ("Date", "Content-Type")] + [m.get_content_type()]
        assert heads(a) == heads(b)
        assert [x.addr_spec for x in a["To"].addresses] == [address] and "Bcc" not in a
        assert "evil" not in str(a["To"])
        import re

        def same_second(text):  # the two builds may straddle a second: DTSTAMP is the build's time
            text = text.decode() if isinstance(text, bytes) else text
            return re.sub(r"DTSTAMP:\d{8}T\d{6}Z", "DTSTAMP:<stamp>", text)

        for kind in ("plain", "calendar"):
            assert same_second(a.get_body((kind,)).get_content()) == same_second(b.get_body((kind,)).get_content())
        assert same_second(list(a.iter_attachments())[0].get_content()) == \
            same_second(list(b.iter_attachments())[0].get_content())
    conn.close()


def test_forget_deletes_the_members_files_and_address_from_the_outbox(tanet, tmp_path, own_database, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the cancellation of the meeting ahead is written to ./cancellations/ first
    network(tanet, members=4)
    tanet("invite", "1", "-o", tmp_path / "a", ok=True)
    zoe = next((tmp_path / "a").glob("*zoe*.eml"))
    tanet("member", "forget", "zoe@example.org", "--yes", ok=True)
    assert not zoe.exists() and len(list((tmp_path / "a").glob("*.eml"))) == 3
    assert all(r["email"] != "zoe@example.org" for r in outbox(tanet))
    tanet("meeting", "cancel", "1", ok=True)
    tanet("invite", "1", "-o", tmp_path / "c", ok=True)
    assert len(list((tmp_path / "c").glob("*.eml"))) == 3
    assert list((tmp_path / "a").glob("*.eml")) == []  # superseded by the cancellation
    tanet("invite", "1", "--single", "-o", tmp_path / "s", ok=True)
    assert list((tmp_path / "c").glob("*.eml")) == []
    tanet("member", "forget", "orla@example.org", "--yes", ok=True)
    assert not (tmp_path / "s" / "invite-all.eml").exists()  # it named her in Bcc
    with sqlite3.connect(own_database) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert b"zoe@example.org" not in own_database.read_bytes()
    assert b"orla@example.org" not in own_database.read_bytes()


def test_the_summary_goes_through_the_outbox(tanet, tmp_path, smtp, monkeypatch):
    network(tanet)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TANET_TODAY", "2027-02-10")
    tanet("attendance", "mark", "1", "amina@example.org", ok=True)
    inbox, port = smtp()
    use_server(tanet, port)
    r = tanet("report", "quarter", "2027Q1", "--send-to", "manager@council.example", ok=True)
    assert "Wrote 1 summary" in r.stdout and "Sent to 1 recipient." in r.stdout
    [(rcpt, msg)] = inbox.messages
    assert rcpt == "manager@council.example" and msg["Subject"].startswith("Lothian TIP Network: summary for 2027Q1")
    assert msg.get_body(("html",)).get_content().startswith("<!DOCTYPE html>")
    assert "Headlines" in msg.get_body(("plain",)).get_content()
    [row] = [r for r in outbox(tanet) if r["kind"] == "summary"]
    assert row["meeting_id"] is None and row["member_id"] is None and row["sent_at"]
    assert "not a valid e-mail" in tanet("report", "quarter", "2027Q1", "--send-to", "nope", ok=False).stderr
    inbox.messages.clear()
    tanet("report", "quarter", "2027Q1", "--send-to", "chair@council.example; lead@nhs.example",
          "--send-to", "CHAIR@council.example", ok=True)
    assert sorted(rcpt for rcpt, _ in inbox.messages) == ["chair@council.example", "lead@nhs.example"]
    # The next quarter's summary reaches the same reader: every summary asked for goes.
    inbox.messages.clear()
    monkeypatch.setenv("TANET_TODAY", "2027-08-10")
    r = tanet("report", "quarter", "2027Q2", "--send-to", "manager@council.example", ok=True)
    assert "one per address" in r.stdout and "Sent to 1 recipient." in r.stdout
    [(rcpt, msg)] = inbox.messages
    assert rcpt == "manager@council.example" and "2027Q2" in msg["Subject"]


def test_send_to_takes_addresses_pasted_with_names(tanet, tmp_path, smtp, monkeypatch):
    network(tanet)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TANET_TODAY", "2027-02-10")
    inbox, port = smtp()
    use_server(tanet, port)
    tanet("report", "quarter", "2027Q1", "--send-to",
          'Fiona Head <fiona.head@council.example>; "Smith, Jo" <jo.smith@nhs.example>', ok=True)
    assert sorted(rcpt for rcpt, _ in inbox.messages) == ["fiona.head@council.example", "jo.smith@nhs.example"]
    assert "Nothing waiting: everything written has been sent." in tanet("outbox", "list", "--unsent", ok=True).stdout


@pytest.mark.parametrize("sqlite_version", [None, (3, 31, 1)])
def test_rows_inserted_many_to_a_statement_keep_their_ids_in_the_order_recorded(tanet, own_database, monkeypatch,
                                                                                 sqlite_version):
    """A fresh version's rows are inserted a hundred to a statement; the ids the run reports are
    every row's, in the order the letters were recorded, across statements and with a row
    recorded at once (the organiser's copy, which has no member) between them. An SQLite older
    than 3.35 (no RETURNING) is given a statement a row, with the same result."""
    from tanet.mail import outbox
    from tanet.store import db as dbmod

    if sqlite_version:
        monkeypatch.setattr(sqlite3, "sqlite_version_info", sqlite_version)

    network(tanet, members=1)
    conn = dbmod.open_db(own_database)
    conn.execute("PRAGMA foreign_keys = OFF")  # members 1 to 250 need not exist for the outbox's rows
    with dbmod.transaction(conn):
        recorder = outbox.Recorder(conn, 1, 7, "REQUEST")
        assert recorder.fresh
        for n in range(1, 251):
            recipients = [(None, "coordinator@example.org")] if n == 120 else [(n, f"m{n}@example.org")]
            recorder.add(outbox.Letter(f"{n:05d}.eml", b"", "update", recipients, {"date": "2027-02-09"}),
                         f"/x/{n:05d}.eml", f"<{n}@example.org>")
        ids = recorder.finish()
    rows = {r["id"]: r["file"] for r in conn.execute("SELECT id, file FROM outbox WHERE sequence = 7")}
    assert len(ids) == len(set(ids)) == len(rows) == 250
    assert [rows[i] for i in ids] == [f"/x/{n:05d}.eml" for n in range(1, 251)]
    conn.close()
