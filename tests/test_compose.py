"""Every message tanet writes is composed in one place: the summary sent with --send-to
carries the same headers, built the same way, as an invitation; calendars carry the same
agenda text as the e-mails; the write-then-send path is one public function."""

import email
from email import policy
from email.utils import getaddresses

import icalendar
from servers import use_server
from test_outbox import network, parse


def test_the_summary_is_addressed_as_every_other_message(tanet, tmp_path, smtp, monkeypatch):  # noqa: F811
    network(tanet)
    # A name as a mail program lists it, surname first: written bare, the comma would make two senders.
    tanet("config", "set", "organiser.name", "Morgan, Alex", ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TANET_TODAY", "2027-02-05")
    tanet("invite", "1", ok=True)
    [invitation] = [parse(p) for p in (tmp_path / "invites").rglob("*.eml")][:1]
    inbox, port = smtp()
    use_server(tanet, port)
    tanet("report", "quarter", "2027Q1", "--send-to", "manager@council.example", ok=True)
    [(_, sent)] = inbox.messages
    assert getaddresses([str(sent["From"])]) == [("Morgan, Alex", "coordinator@example.org")]
    [summary] = [parse(p) for p in (tmp_path / "summaries").rglob("*.eml")]
    assert str(summary["From"]) == str(invitation["From"])
    assert {"From", "To", "Subject", "Date", "Message-ID", "X-Unsent"} <= set(summary.keys())
    assert summary["Message-ID"].endswith("@example.org>") and invitation["Message-ID"].endswith("@example.org>")
    assert summary.get_body(("plain",))["Content-Transfer-Encoding"] == "quoted-printable"


def test_the_calendar_and_the_e_mail_give_the_same_agenda(tanet, tmp_path, monkeypatch):
    network(tanet)
    monkeypatch.chdir(tmp_path)
    tanet("session", "add", "1", "--kind", "guest", "--title", "Housing first",
          "--guest", "Dr Kim Lee", "--guest-org", "Shelter", ok=True)
    tanet("invite", "1", ok=True)
    [path] = sorted((tmp_path / "invites").rglob("*.eml"))[:1]
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    text = msg.get_body(("plain",)).get_content()
    [event] = icalendar.Calendar.from_ical(msg.get_body(("calendar",)).get_content()).walk("VEVENT")
    line = "Guest speaker: Housing first - Dr Kim Lee (Shelter)"
    assert f"  - {line}" in text.splitlines()
    assert str(event["DESCRIPTION"]).splitlines()[:2] == ["Agenda:", f"- {line}"]
    tanet("export", "ics", "-o", str(tmp_path / "feed.ics"), ok=True)
    [fed] = icalendar.Calendar.from_ical((tmp_path / "feed.ics").read_bytes()).walk("VEVENT")
    assert str(fed["DESCRIPTION"]) == str(event["DESCRIPTION"])


def test_every_kind_of_session_has_its_name_in_messages():
    from tanet.mail import compose
    from tanet.meetings import agenda

    assert set(compose.SESSION_NAMES) == set(agenda.SESSION_KINDS)
    assert compose.session_line({"kind": "training", "title": "Grounding", "presenter": "Ann Lee"}) == \
        "Training: Grounding - Ann Lee"


def test_a_line_beginning_from_arrives_as_written(tanet, tmp_path, smtp, monkeypatch):  # noqa: F811
    """mbox-style '>From ' quoting belongs to mailbox files, not to SMTP: the summary sent must
    read as the file kept in ./summaries/ does."""
    network(tanet)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TANET_TODAY", "2027-02-05")
    tanet("report", "note", "2027Q1", "From January we meet monthly.\nFrom the coordinator, thanks.", ok=True)
    inbox, port = smtp()
    use_server(tanet, port)
    tanet("report", "quarter", "2027Q1", "--send-to", "manager@council.example", ok=True)
    [(_, sent)] = inbox.messages
    plain = sent.get_body(("plain",)).get_content()
    assert "From January we meet monthly." in plain and ">From" not in plain
    [kept] = [parse(p) for p in (tmp_path / "summaries").rglob("*.eml")]
    assert kept.get_body(("plain",)).get_content().replace("\r\n", "\n") == plain.replace("\r\n", "\n")
