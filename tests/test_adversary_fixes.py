"""What an adversary found in the released code, each fixed and kept fixed."""

import os
import shutil
import signal
import sqlite3
import subprocess

import pytest
from conftest import add_member
from servers import free_port, use_server
from test_folders_and_leavers import leaver_network
from test_outbox import network as outbox_network
from test_replies import answers, network
from test_reply_trust import imported, reasons, reply


def test_a_stranger_at_a_public_webmail_domain_cannot_answer_as_a_delegate(tanet, tmp_path):
    network(tanet, tmp_path)
    add_member(tanet, "Chloe Wilson", "chloe.w@gmail.com", "housing", "public", "frontline", "Org",
               "--joined", "2025-01-01")
    forged = reply(tmp_path, "forged", sender="Stranger <stranger123@gmail.com>", attendee="chloe.w@gmail.com",
                   params=';SENT-BY="mailto:stranger123@gmail.com"', partstat="DECLINED")
    # The same delegate rule at an organisation's own domain is still believed.
    delegate = reply(tmp_path, "delegate", sender="Pat Assistant <pa@pentlandprimary.example>",
                     params=';SENT-BY="mailto:pa@pentlandprimary.example"', partstat="TENTATIVE")
    result = imported(tanet, forged, delegate)
    assert result["applied"] == 1
    assert list(reasons(result)) == ["forged.eml"]
    assert "not a public webmail service" in reasons(result)["forged.eml"]
    assert reasons(result)["forged.eml"].startswith("sent by stranger123@gmail.com for chloe.w@gmail.com")
    assert answers(tanet).get("chloe.w@gmail.com", "none") == "none"
    assert answers(tanet)["zoe.fraser@pentlandprimary.example"] == "tentative"


# A leaver whose address bounces is still forgotten ----------------------------------------

def member_email(tanet, ref):
    return tanet("member", "show", ref, "--format", "json", ok=True).json()["email"]


def test_forget_erases_a_leaver_whose_address_refuses_mail_for_good(tanet, tmp_path, smtp, monkeypatch):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    inbox, port = smtp(refuse=["zoe@example.org"])
    use_server(tanet, port)
    r = tanet("member", "forget", "zoe@example.org", "--yes", "--send", ok=True)
    assert "The cancellations could not be delivered: the mail server refused" in r.stderr
    assert "Member #2 has been forgotten." in r.stdout
    assert inbox.messages == [] and member_email(tanet, "2") is None


def test_forget_stopped_by_an_unreachable_server_says_the_member_was_not_forgotten(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    use_server(tanet, free_port())  # nothing listens there
    r = tanet("member", "forget", "zoe@example.org", "--yes", "--send", ok=False)
    (error,) = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert error.startswith("Error: Member #2 was NOT forgotten: ")
    assert error.endswith("Run the same command again when the mail server answers, or without --send "
                                      "to erase now (the cancellations are then written, not sent).")
    assert member_email(tanet, "2") == "zoe@example.org"
    tanet("member", "forget", "zoe@example.org", "--yes", ok=True)
    assert member_email(tanet, "2") is None


def test_privacy_review_erases_a_leaver_whose_address_refuses_mail_for_good(tanet, tmp_path, smtp, monkeypatch,
                                                                             own_database):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    with sqlite3.connect(own_database) as db:
        db.execute("UPDATE members SET left_on = '2024-01-01' WHERE email = 'zoe@example.org'")
    inbox, port = smtp(refuse=["zoe@example.org"])
    use_server(tanet, port)
    r = tanet("privacy", "review", "--apply", "--send", "--format", "json", ok=True)
    assert r.json()["members_forgotten"] == 1 and "could not be delivered" in r.stderr
    assert inbox.messages == [] and member_email(tanet, "2") is None


# A small CSV of mixed encodings is refused as a large one is --------------------------------

def test_a_small_csv_mixing_utf8_with_other_bytes_is_refused_not_garbled(tanet, tmp_path):
    tanet("init", "--network", "Net", "--organiser-name", "Alex Morgan", "--organiser-email", "alex@example.org",
          ok=True)
    sheet = tmp_path / "members.csv"
    sheet.write_bytes("name,email,org,area,sector,role\n".encode()
                      + "Zoë Fraser ".encode() + b"\xff\xfe,zoe@example.org,Org,housing,public,frontline\n")
    r = tanet("member", "import", sheet, ok=False)
    assert r.stderr.strip() == (f"Error: {sheet} is mostly UTF-8, but line 2 is in another encoding. Save the whole "
                                "file from the spreadsheet as 'CSV UTF-8' and try again.")
    assert tanet("member", "list", "--format", "json", ok=True).json() == []
    # A file wholly in Windows-1252 is still read as such.
    sheet.write_bytes(b"name,email,org,area,sector,role\nZo\xeb Fraser,zoe@example.org,Org,housing,public,frontline\n")
    tanet("member", "import", sheet, ok=True)
    assert [m["name"] for m in tanet("member", "list", "--format", "json", ok=True).json()] == ["Zoë Fraser"]


# Erasure takes the member's name out of every text that can quote it -------------------------

def test_forget_takes_the_name_out_of_outreach_sessions_themes_and_others_feedback(tanet, own_database):
    tanet("init", "--network", "Net", "--organiser-name", "Alex Morgan", "--organiser-email", "alex@example.org",
          ok=True)
    add_member(tanet, "Zoë Fraser", "zoe.fraser@example.org", "housing", "public", "frontline", "Org",
               "--known-as", "Zed")
    add_member(tanet, "Amina Diallo", "amina@example.org")
    tanet("meeting", "add", "2027-01-19", "--time", "10:00", "--location", "Leith Library", ok=True)
    with sqlite3.connect(own_database) as db:
        db.execute("""INSERT INTO outreach (organisation, service_area, contact, "on", how, outcome)
                      VALUES ('Leith Hub', 'housing', 'Zoe Fraser', '2026-01-01', 'e-mail',
                              'Zed (zoe.fraser@example.org) will come; Zoëlle too')""")
        db.execute("""INSERT INTO sessions (meeting_id, kind, title, guest) VALUES
                      (1, 'guest', 'Zoë Fraser on tenancy', 'Zoë Fraser')""")
        db.execute("""INSERT INTO themes (text, kind, created_on) VALUES ('Raised by Zoë Fraser', 'policy', '2026-01-01')""")
        for member, text in ((1, "Zoë will share it; so will Fraser's team"), (2, "Ask Zoë Fraser and Zed")):
            db.execute("""INSERT INTO feedback (meeting_id, response_key, member_id, anonymous, take_back,
                          submitted_at) VALUES (1, ?, ?, 0, ?, '2026-01-01')""", [f"r{member}", member, text])
        db.execute("""INSERT INTO followups (meeting_id, member_id, raised_on, about, note)
                      VALUES (1, 2, '2026-01-01', 'Zoë Fraser', 'ask zoe.fraser')""")
    tanet("member", "forget", "1", "--yes", ok=True)
    with sqlite3.connect(own_database) as db:
        assert db.execute('SELECT contact, outcome FROM outreach').fetchall() == [
            ("[erased]", "[erased] ([erased]) will come; Zoëlle too")]
        assert db.execute("SELECT title, guest FROM sessions").fetchall() == [("[erased] on tenancy", "[erased]")]
        assert db.execute("SELECT text FROM themes").fetchall() == [("Raised by [erased]",)]
        # Her own feedback loses her first name and surname; another's, only her full name and chosen name.
        assert db.execute("SELECT member_id, take_back FROM feedback ORDER BY id").fetchall() == [
            (None, "[erased] will share it; so will [erased]'s team"), (2, "Ask [erased] and [erased]")]
        assert db.execute("SELECT about, note FROM followups").fetchall() == [("[erased]", "ask [erased]")]


def test_forget_takes_the_member_out_of_the_crash_reports(tanet, tmp_path):
    from tanet.output import diagnostics

    tanet("init", "--network", "Net", "--organiser-name", "Alex Morgan", "--organiser-email", "alex@example.org",
          ok=True)
    add_member(tanet, "Zoë Fraser", "zoe.fraser@example.org")
    add_member(tanet, "Amina Diallo", "amina@example.org")
    report = diagnostics.write_crash_report(ValueError("boom"), ["member", "edit", "zoe.fraser@example.org",
                                                                 "--notes", "Zoë Fraser and Amina Diallo"])
    report = report.rename(report.with_name("crash-20260101-000000-1.txt"))  # two in one second share a name
    other = diagnostics.write_crash_report(ValueError("boom"), ["member", "show", "amina@example.org"])
    assert report.parent == tmp_path / "state" / "tanet" / "log"
    other_text = other.read_text()
    tanet("member", "forget", "zoe.fraser@example.org", "--yes", ok=True)
    text = report.read_text()
    assert "Command: tanet member edit [erased] --notes [erased] and Amina Diallo\n" in text
    assert "zoe" not in text.lower() and other.read_text() == other_text
    assert oct(report.stat().st_mode & 0o777) == "0o600"


# A file the system will not let anyone change, whatever its permission bits --------------------

@pytest.fixture
def locked_database(tanet, own_database):
    """The database made immutable (chattr +i): mode 0600, yet no write reaches it."""
    tanet("init", "--network", "Net", "--organiser-name", "Alex Morgan", "--organiser-email", "alex@example.org",
          ok=True)
    add_member(tanet, "Amina Diallo", "amina@example.org")
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", own_database]).returncode != 0:
        if os.environ.get("CI"):
            pytest.fail("chattr +i must work on CI (it runs as root with chattr installed)")
        pytest.skip("this system cannot make a file immutable here (chattr +i)")
    try:
        yield own_database
    finally:
        subprocess.run(["chattr", "-i", own_database], check=True)


def test_a_dry_run_on_a_file_that_refuses_writes_works_on_a_copy(tanet, tmp_path, locked_database):
    assert oct(os.stat(locked_database).st_mode & 0o777) == "0o600"
    sheet = tmp_path / "members.csv"
    sheet.write_text("name,email,org,area,sector,role\nZoe Fraser,zoe@example.org,Org,housing,public,frontline\n")
    r = tanet("member", "import", sheet, "--dry-run", ok=True)
    assert "Dry run: 1 new, 0 updated, 0 skipped. Nothing was saved." in r.stdout
    r = tanet("member", "import", sheet, ok=False)
    assert r.stderr.strip() == (
        f"Error: {locked_database} cannot be written, although its permissions allow it: the file or its folder "
        "refuses changes (it may be on a disk mounted read-only, or locked against changes). Nothing was changed. "
        "Copy the file to a folder you can write to and use that copy with --db, or ask whoever manages the "
        "computer.")
    assert "chmod" not in r.stderr
    assert [m["email"] for m in tanet("member", "list", "--format", "json", ok=True).json()] == ["amina@example.org"]


# Sending: untrusted settings refused first; a token command's words never quoted whole -------------

def test_untrusted_mail_settings_are_refused_before_any_estimate(tanet, tmp_path, smtp):
    outbox_network(tanet)
    inbox, port = smtp()
    use_server(tanet, port)
    tanet("config", "set", "smtp.per_minute", "1", ok=True)
    (tmp_path / "config" / "tanet" / "trusted-mail-settings").unlink()  # as if the file came from elsewhere
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert "were not set on this computer" in r.stderr and "a minute" not in r.stdout + r.stderr
    assert inbox.messages == []


def test_a_failing_token_command_shows_its_status_and_first_line_with_the_token_hidden(tanet, tmp_path, smtp, ca):
    outbox_network(tanet)
    inbox, port = smtp("starttls", token="tok-123")
    use_server(tanet, port, "starttls", user="coordinator@example.org", ca_file=ca[1])
    tanet("config", "set", "smtp.auth", "xoauth2", ok=True)
    tanet("config", "set", "smtp.oauth2_token_command",
          "sh -c 'echo refresh failed for ya29.a0AfH6SMBxQ8s7vLwK2 >&2; echo second line secret-XYZ >&2; exit 3'",
          ok=True)
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert r.stderr.strip() == ("Error: The token command failed (exit status 3: refresh failed for ***), so nothing "
                                "was sent. Check smtp.oauth2_token_command, or run it yourself to see why.")
    assert inbox.messages == []


# Ctrl-C during a resend: the message going shows as uncertain where the stop message points ----

def test_ctrl_c_during_a_resend_leaves_the_message_in_flight_listed_as_uncertain(tanet, tmp_path, smtp, cli_env):
    from test_sending import start

    outbox_network(tanet)
    first, port = smtp()
    use_server(tanet, port)
    tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=True)
    assert tanet("outbox", "list", "--unsent", "--format", "json", ok=True).json() == []
    inbox, port = smtp(block_after=1)
    use_server(tanet, port)
    p = start(cli_env, "invite", "1", "--send", "--resend", "-o", tmp_path / "i")
    assert inbox.blocked.wait(120)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    inbox.release.set()
    assert p.returncode == 130 and "(see: tanet outbox list --unsent)" in err
    in_flight = inbox.messages[1][0]
    rows = tanet("outbox", "list", "--unsent", "--format", "json", ok=True).json()
    assert [(row["email"], row["state"]) for row in rows] == [(in_flight, "uncertain")]


@pytest.fixture
def full_disk(tmp_path):
    """A small disk of its own (tmpfs), filled but for a little room."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", disk], capture_output=True).returncode:
        if os.environ.get("CI"):
            pytest.fail("mounting a tmpfs must work on CI (it runs as root)")
        pytest.skip("this system cannot mount a small disk here")
    try:
        with open(disk / "filler", "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"x" * 512)
            except OSError:
                pass
        yield disk
    finally:
        subprocess.run(["umount", disk], check=True)


def test_an_invite_that_cannot_write_its_files_leaves_no_empty_folder(tanet, full_disk):
    outbox_network(tanet)
    where = full_disk / "letters" / "spring"
    r = tanet("invite", "1", "-o", where / "meeting-1", ok=False)
    assert r.stderr.startswith(f"Error: Cannot write {where / 'meeting-1'}")
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]
    assert tanet("outbox", "list", "--format", "json", ok=True).json() == []
