"""Calendar replies from every client, from files, mbox, Maildir and a real IMAP
server (Dovecot on 127.0.0.1, over TLS), into the register."""

import mailbox
import sqlite3
from pathlib import Path

import pytest
from conftest import FIXTURES, add_member
from servers import running_dovecot

REPLIES = FIXTURES / "replies"
UID = "0d1f6c9e-7a1b-4c55-9f0e-3b2a5d8e4c11@tanet"
PEOPLE = [
    ("Mhairi Robertson", "Mhairi.Robertson@LeithFamilyHub.example", "early years"),  # case differs from the reply
    ("Peadar Ó Súilleabháin", "peadar.osuilleabhain@edinburghyouthjustice.example", "justice"),
    ("Zoë Fraser", "zoe.fraser@pentlandprimary.example", "education"),
    ("Seònaid Campbell", "seonaid.campbell@forthvalleyhousing.example", "housing"),
    ("Niamh Buchanan", "niamh.buchanan@lothianperinatal.example", "mental health"),
    ("Tomasz Wiśniewski", "tomasz.wisniewski@grantoncmh.example", "mental health"),
    ("Morag Sutherland", "morag.sutherland@musselburgheyc.example", "early years"),
    ("Iain Maclennan", "iain.maclennan@lothianchildrenshouses.example", "residential services"),
    ("Ann Able", "ann.able@example.org", "housing"),
]


def network(tanet, tmp_path):
    tanet("init", "--network", "Lothian Trauma-Informed Practice Network", "--organiser-name", "Alex Morgan",
          "--organiser-email", "alex.morgan@council.example", ok=True)
    for name, address, area in PEOPLE:
        add_member(tanet, name, address, area, "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2027-01-19", "--time", "10:00", "--location", "Room 2.14, Council Offices, Edinburgh",
          "--uid", UID, ok=True)
    tanet("invite", "1", "-o", tmp_path / "invites", ok=True)


def answers(tanet):
    return {r["email"].lower(): r["response"] for r in tanet("rsvp", "list", "1", "--format", "json", ok=True).json()}


EXPECTED = {
    "mhairi.robertson@leithfamilyhub.example": "accepted",
    "peadar.osuilleabhain@edinburghyouthjustice.example": "declined",
    "zoe.fraser@pentlandprimary.example": "tentative",
    "seonaid.campbell@forthvalleyhousing.example": "declined",
    "niamh.buchanan@lothianperinatal.example": "accepted",
    "tomasz.wisniewski@grantoncmh.example": "declined",
    "morag.sutherland@musselburgheyc.example": "none",
    "iain.maclennan@lothianchildrenshouses.example": "none",
    "ann.able@example.org": "none",
}


def check_all_samples(tanet, result):
    assert result["applied"] == 6 and result["unchanged"] == 0
    reasons = {Path(n["source"].split("#")[0]).name if "#" not in n["source"] else n["from"]: n["reason"]
               for n in result["not_applied"]}
    assert len(result["not_applied"]) == 2
    assert any("no calendar answer" in r for r in reasons.values())
    assert any("proposes another time (Tue 26 Jan 2027 10:00)" in r for r in reasons.values())
    assert answers(tanet) == EXPECTED


def test_every_client_from_a_folder_of_eml_files(tanet, tmp_path):
    network(tanet, tmp_path)
    result = tanet("rsvp", "import", REPLIES, "--format", "json", ok=True).json()
    check_all_samples(tanet, result)
    sources = {Path(n["source"]).name: n for n in result["not_applied"]}
    assert set(sources) == {"07-plain-text-apology.eml", "08-outlook-counter-proposal.eml"}
    assert sources["08-outlook-counter-proposal.eml"]["from"] == "Iain Maclennan <iain.maclennan@lothianchildrenshouses.example>"
    assert sources["07-plain-text-apology.eml"]["subject"].startswith("Re:")
    # Declines are apologies; the register, the summary and meeting show agree.
    register = {r["email"].lower(): r["status"]
                for r in tanet("attendance", "show", "1", "--register", "--format", "json", ok=True).json()}
    assert [e for e, s in register.items() if s == "apologies"] == [
        "peadar.osuilleabhain@edinburghyouthjustice.example", "seonaid.campbell@forthvalleyhousing.example",
        "tomasz.wisniewski@grantoncmh.example"] or sorted(e for e, s in register.items() if s == "apologies") == sorted([
            "peadar.osuilleabhain@edinburghyouthjustice.example", "seonaid.campbell@forthvalleyhousing.example",
            "tomasz.wisniewski@grantoncmh.example"])
    shown = tanet("meeting", "show", "1", "--format", "json", ok=True).json()
    assert shown["rsvp"] == {"accepted": 2, "tentative": 1, "declined": 3, "none": 3}
    assert "2 accepted, 1 tentative, 3 declined, 3 not yet" in tanet("meeting", "show", "1", ok=True).stdout
    # The same messages again change nothing; the ones not applied are listed again.
    again = tanet("rsvp", "import", REPLIES, "--format", "json", ok=True).json()
    assert (again["applied"], again["unchanged"], len(again["not_applied"])) == (0, 6, 2)


def test_comments_stay_private(tanet, tmp_path, own_database):
    network(tanet, tmp_path)
    tanet("rsvp", "import", REPLIES, ok=True)
    with sqlite3.connect(own_database) as c:
        comments = dict(c.execute("SELECT m.email, r.comment FROM responses r JOIN members m ON m.id = r.member_id"))
    assert comments["peadar.osuilleabhain@edinburghyouthjustice.example"] == (
        "Sorry, I'm in the Sheriff Court that morning. Could you send me the slides?")
    assert comments["seonaid.campbell@forthvalleyhousing.example"] == (
        "On leave that week, sorry! I'll catch up with Mhairi afterwards.")
    for args in (["report", "quarter", "2027Q1", "--format", "json"], ["report", "quarter", "2027Q1", "--format", "html"],
                 ["rsvp", "list", "1", "--format", "json"], ["meeting", "show", "1", "--format", "json"],
                 ["member", "export", "--format", "json"]):
        assert "Sheriff Court" not in tanet(*args, ok=True).stdout
    data = tanet("member", "data", "peadar.osuilleabhain@edinburghyouthjustice.example", ok=True).json()
    assert data["replies"][0]["comment"].startswith("Sorry, I'm in the Sheriff Court")


def test_mbox_and_maildir_give_the_same(tanet, tmp_path, monkeypatch):
    network(tanet, tmp_path)
    check_all_samples(tanet, tanet("rsvp", "import", FIXTURES / "replies.mbox", "--format", "json", ok=True).json())
    monkeypatch.setenv("TANET_DB", str(tmp_path / "second.db"))
    network(tanet, tmp_path / "second")
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for path in sorted(REPLIES.glob("*.eml")):
        box.add(path.read_bytes())
    check_all_samples(tanet, tanet("rsvp", "import", tmp_path / "Maildir", "--format", "json", ok=True).json())


REPLY = """From: Mhairi Robertson <mhairi.robertson@leithfamilyhub.example>
To: Alex Morgan <alex.morgan@council.example>
Subject: {subject}
Message-ID: <{mid}@example.org>
MIME-Version: 1.0
Content-Type: text/calendar; charset=UTF-8; method={method}

BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
METHOD:{method}\r
BEGIN:VEVENT\r
UID:{uid}\r
{sequence}DTSTAMP:{stamp}\r
DTSTART:20270119T100000Z\r
{attendee}END:VEVENT\r
END:VCALENDAR\r
"""


def reply(folder, name, *, partstat="DECLINED", stamp="20270110T090000Z", sequence=None, uid=UID, method="REPLY",
          attendee="mailto:MHAIRI.ROBERTSON@leithfamilyhub.example", mid=None, body=None):
    text = body or REPLY.format(subject=f"{partstat.title()}: meeting", mid=mid or name, method=method, uid=uid,
                                sequence=f"SEQUENCE:{sequence}\r\n" if sequence is not None else "", stamp=stamp,
                                attendee=f"ATTENDEE;PARTSTAT={partstat}:{attendee}\r\n" if attendee else "")
    path = Path(folder) / f"{name}.eml"
    path.write_text(text)
    return path


def test_the_latest_reply_wins(tanet, tmp_path):
    network(tanet, tmp_path)
    tanet("rsvp", "import", REPLIES / "01-outlook-accept.eml", ok=True)  # accepted, 2026-12-14
    later = reply(tmp_path, "later", partstat="DECLINED", stamp="20270110T090000Z")
    earlier = reply(tmp_path, "earlier", partstat="TENTATIVE", stamp="20261201T090000Z")
    r = tanet("rsvp", "import", later, earlier, "--format", "json", ok=True).json()
    assert (r["applied"], r["unchanged"]) == (1, 1)
    assert answers(tanet)["mhairi.robertson@leithfamilyhub.example"] == "declined"
    register = {x["email"]: x["status"] for x in tanet("attendance", "show", "1", "--register", "--format", "json",
                                                       ok=True).json()}
    assert register["Mhairi.Robertson@LeithFamilyHub.example"] == "apologies"
    # A higher SEQUENCE (once tanet has sent that version) beats a later DTSTAMP; accepting again
    # lifts the reply's apologies.
    tanet("meeting", "edit", "1", "--location", "Room 3.02, Council Offices, Edinburgh", ok=True)
    tanet("invite", "1", "-o", tmp_path / "invites", ok=True)
    newer = reply(tmp_path, "newer", partstat="ACCEPTED", stamp="20261205T090000Z", sequence=1)
    assert tanet("rsvp", "import", newer, "--format", "json", ok=True).json()["applied"] == 1
    assert answers(tanet)["mhairi.robertson@leithfamilyhub.example"] == "accepted"
    register = {x["email"]: x["status"] for x in tanet("attendance", "show", "1", "--register", "--format", "json",
                                                       ok=True).json()}
    assert register["Mhairi.Robertson@LeithFamilyHub.example"] == "none"


def test_a_decline_never_overrides_presence(tanet, tmp_path):
    network(tanet, tmp_path)
    tanet("attendance", "mark", "1", "Mhairi", "--status", "apologies", ok=True)  # before the day: only apologies
    tanet("rsvp", "import", reply(tmp_path, "d", partstat="DECLINED"), ok=True)
    assert answers(tanet)["mhairi.robertson@leithfamilyhub.example"] == "declined"


def test_what_cannot_be_applied_is_listed_with_the_reason(tanet, tmp_path):
    network(tanet, tmp_path)
    tanet("meeting", "add", "2027-03-16", "--location", "x", "--uid", "other-uid@example.org", ok=True)
    tanet("meeting", "cancel", "2", ok=True)
    cases = {
        reply(tmp_path, "unknown-uid", uid="nobody@example.org"): "no meeting has the UID",
        reply(tmp_path, "cancelled", uid="other-uid@example.org"): "was cancelled",
        reply(tmp_path, "stranger", attendee="mailto:stranger@example.org",
              body=REPLY.replace("Mhairi Robertson <mhairi.robertson@leithfamilyhub.example>",
                                 "Stranger <stranger@example.org>").format(
                  subject="Declined", mid="s", method="REPLY", uid=UID, sequence="", stamp="20270110T090000Z",
                  attendee="ATTENDEE;PARTSTAT=DECLINED:mailto:stranger@example.org\r\n")): "not a member",
        reply(tmp_path, "no-attendee", attendee=None): "names no attendee",
        reply(tmp_path, "request", method="REQUEST"): "not a reply",
        reply(tmp_path, "needs-action", partstat="NEEDS-ACTION"): "is not accept, decline or tentative",
        reply(tmp_path, "broken", body="From: a@example.org\nSubject: x\nContent-Type: text/calendar\n\n"
                                       "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:notadate\n"): "cannot be read",
    }
    result = tanet("rsvp", "import", *cases, "--format", "json", ok=True).json()
    assert result["applied"] == 0
    got = {Path(n["source"]).name: n["reason"] for n in result["not_applied"]}
    for path, reason in cases.items():
        assert reason in got[path.name], (path.name, got[path.name])
    r = tanet("rsvp", "import", *cases, ok=True)
    assert "Not applied" in r.stdout and "7 not applied" in r.stdout


def test_dry_run_changes_nothing_and_bad_sources_are_one_line(tanet, tmp_path):
    network(tanet, tmp_path)
    r = tanet("rsvp", "import", REPLIES, "--dry-run", ok=True)
    assert "Dry run: would apply 6 replies" in r.stdout
    assert set(answers(tanet).values()) == {"none"}
    assert "There is no file or folder" in tanet("rsvp", "import", tmp_path / "missing.mbox", ok=False).stderr
    assert "not a mailbox address" in tanet("rsvp", "import", "imaps://nobody", ok=False).stderr


def test_the_round_asks_those_who_accepted_first(tanet, tmp_path, own_database):
    from tanet.meetings import attendance
    from tanet.store import db as dbmod

    network(tanet, tmp_path)
    tanet("rsvp", "import", REPLIES, ok=True)
    conn = dbmod.open_db(own_database)
    meeting = conn.execute("SELECT * FROM meetings WHERE id = 1").fetchone()
    order = [m["name"] for m in attendance.expected(conn, meeting)]
    conn.close()
    assert order[:3] == ["Mhairi Robertson", "Niamh Buchanan", "Zoë Fraser"]  # accepted, then tentative
    assert "Peadar Ó Súilleabháin" not in order  # declined: apologies


def test_meeting_uid_must_be_unique(tanet):
    tanet("meeting", "add", "2027-01-19", "--uid", UID, ok=True)
    assert "already has the UID" in tanet("meeting", "add", "2027-01-26", "--uid", UID, ok=False).stderr


# A real IMAP server: Dovecot on 127.0.0.1, over TLS ---------------------------------------------

@pytest.fixture
def dovecot():
    with running_dovecot({"alex": "right-password"},
                         {"INBOX": [p.read_bytes() for p in sorted(REPLIES.glob("*.eml"))]}) as server:
        yield server


def test_imap_reads_every_reply_and_leaves_the_mailbox_as_it_was(tanet, tmp_path, dovecot, monkeypatch):
    network(tanet, tmp_path)
    url = f"imaps://alex@127.0.0.1:{dovecot['port']}/INBOX"
    monkeypatch.setenv("TANET_IMAP_PASSWORD", "right-password")
    before = sorted(p.name for p in dovecot["maildir"].rglob("*") if p.is_file() and p.parent.name in ("new", "cur"))
    r = tanet("rsvp", "import", url, ok=False)
    assert "does not trust" in r.stderr and "smtp.ca_file" in r.stderr
    tanet("config", "set", "smtp.ca_file", dovecot["ca"], ok=True)
    check_all_samples(tanet, tanet("rsvp", "import", url, "--format", "json", ok=True).json())
    after = sorted(p.name for p in dovecot["maildir"].rglob("*") if p.is_file() and p.parent.name in ("new", "cur"))
    assert len(after) == len(before) == 8
    assert not [n for n in after if ":2," in n and "S" in n.split(":2,")[1]], "a message was marked read"
    assert "no folder 'Archive'" in tanet("rsvp", "import", url.replace("INBOX", "Archive"), ok=False).stderr
    monkeypatch.setenv("TANET_IMAP_PASSWORD", "wrong")
    assert "refused the login for alex" in tanet("rsvp", "import", url, ok=False).stderr
    monkeypatch.delenv("TANET_IMAP_PASSWORD")
    assert "TANET_IMAP_PASSWORD" in tanet("rsvp", "import", url, ok=False).stderr


def test_the_summary_counts_replies(tanet, tmp_path, monkeypatch):
    network(tanet, tmp_path)
    tanet("rsvp", "import", REPLIES, ok=True)
    monkeypatch.setenv("TANET_TODAY", "2027-01-20")
    tanet("attendance", "mark", "1", "Mhairi", "Zoë Fraser", ok=True)
    data = tanet("report", "quarter", "2027Q1", "--format", "json", ok=True).json()
    assert data["rsvp"] == {"invited": 9, "responded": 6, "accepted": 2, "tentative": 1, "declined": 3,
                            "accepted_and_came": 1, "accepted_not_came": 1}
    assert "Replies to invitations" in tanet("report", "quarter", "2027Q1", "--format", "markdown", ok=True).stdout
