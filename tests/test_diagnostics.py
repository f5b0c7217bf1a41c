"""Something to diagnose with: --verbose tells what tanet does (the database, the files, the
talk with real SMTP and IMAP servers, never a password), --debug adds tracebacks, and an
error in tanet itself is one line and a private crash report."""

import base64
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES, TANET
from servers import running_dovecot, use_server
from test_outbox import network


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def log_lines(stderr: str, room: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in stderr.splitlines() if line.startswith(room + ": ")]


# --verbose -----------------------------------------------------------------------------------

def test_verbose_names_the_database_and_each_file_read_and_written(tanet, tmp_path, own_database):
    tanet("init", "--organiser-email", "c@example.org", ok=True)
    sheet = FIXTURES / "members-signup-form.csv"
    r = tanet("--verbose", "member", "import", sheet, ok=True)
    assert f"open database {own_database}" in log_lines(r.stderr, "store.db")
    assert f"read {sheet}" in log_lines(r.stderr, "store.files")
    assert not any(".py" in line or "site-packages" in line for line in r.stderr.splitlines())
    tanet("meeting", "add", "2027-02-09", "--location", "Leith Library", ok=True)
    r = tanet("-v", "invite", "1", "-o", tmp_path / "invites", ok=True)
    count = len(list((tmp_path / "invites").glob("*.eml")))
    # A folder written whole is one line (its temporary name is never shown).
    assert f"write folder {tmp_path / 'invites'} ({count + 1} files)" in log_lines(r.stderr, "store.files")
    assert ".tmp" not in r.stderr
    r = tanet("-v", "backup", tmp_path / "copy.db", ok=True)
    assert f"write {tmp_path / 'copy.db'}" in log_lines(r.stderr, "store.files")
    # Without the flag, the next command (in the same process) says nothing of the kind.
    r = tanet("member", "import", sheet, "--dry-run", ok=True)
    assert "store." not in r.stderr


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_verbose_shows_the_smtp_conversation_and_never_the_password(tanet, tmp_path, smtp, ca, monkeypatch,
                                                                     mechanism):
    network(tanet)
    inbox, port = smtp("starttls", password="p£ss-word", mechanisms=[mechanism])
    use_server(tanet, port, "starttls", user="coordinator", ca_file=ca[1])
    monkeypatch.setenv("TANET_SMTP_PASSWORD", "p£ss-word")
    r = tanet("--verbose", "invite", "1", "--send", "-o", tmp_path / "i", ok=True)
    assert len(inbox.messages) == 3
    said = log_lines(r.stderr, "mail.smtp")
    assert said[0] == f"connect 127.0.0.1:{port} (starttls)" and said[1].startswith("< 220 ")
    assert "> STARTTLS" in [line.upper() for line in said]
    assert "> mail FROM:<coordinator@example.org>" in said
    assert "> rcpt TO:<zoe@example.org>" in said and "> DATA" in said
    assert sum(line.startswith("> (the message: ") for line in said) == 3
    assert said.count("< 250 Message accepted for delivery") == 3
    assert any(line.startswith("< 235") for line in said)  # logged in
    hidden = [line for line in said if "(hidden)" in line]
    assert hidden == (["> AUTH PLAIN *** (hidden)"] if mechanism == "PLAIN" else ["> *** (hidden)"] * 2)
    for secret in ("p£ss-word", b64("p£ss-word"), b64("\0coordinator\0p£ss-word"), b64("coordinator")):
        assert secret not in r.stderr


def test_verbose_never_shows_an_oauth2_token_or_the_command_that_makes_it(tanet, tmp_path, smtp, ca):
    network(tanet)
    inbox, port = smtp("starttls", token="tok-123")
    use_server(tanet, port, "starttls", user="coordinator@example.org", ca_file=ca[1])
    tanet("config", "set", "smtp.auth", "xoauth2", ok=True)
    script = tmp_path / "token.sh"
    script.write_text("#!/bin/sh\necho tok-123\n")
    script.chmod(0o700)
    tanet("config", "set", "smtp.oauth2_token_command", f"{script} --secret-flag", ok=True)
    r = tanet("--verbose", "invite", "1", "--send", "-o", tmp_path / "i", ok=True)
    assert len(inbox.messages) == 3
    assert "> AUTH XOAUTH2 *** (hidden)" in log_lines(r.stderr, "mail.smtp")
    assert "run sh" in log_lines(r.stderr, "system") or f"run {script.name}" in log_lines(r.stderr, "system")
    token = "user=coordinator@example.org\x01auth=Bearer tok-123\x01\x01"
    for secret in ("tok-123", b64(token), "--secret-flag"):
        assert secret not in r.stderr


def test_verbose_shows_the_imap_conversation_and_never_the_password(tanet, tmp_path, monkeypatch):
    from test_replies import network as reply_network

    reply_network(tanet, tmp_path)
    password = "p£ss-word"
    replies = [p.read_bytes() for p in sorted((FIXTURES / "replies").glob("*.eml"))]
    with running_dovecot({"alex": password}, {"INBOX": replies}) as server:
        tanet("config", "set", "smtp.ca_file", server["ca"], ok=True)
        monkeypatch.setenv("TANET_IMAP_PASSWORD", password)
        r = tanet("--verbose", "rsvp", "import", f"imaps://alex@127.0.0.1:{server['port']}/INBOX", ok=True)
    said = log_lines(r.stderr, "mail.imap")
    assert said[0] == f"connect 127.0.0.1:{server['port']} (TLS)" and said[1].startswith("< * OK")
    sent = [line[2:] for line in said if line.startswith("> ")]
    assert any(line.split()[1:] == ["AUTHENTICATE", "PLAIN"] for line in sent)
    assert "*** (hidden)" in sent  # the answer to the server's challenge
    assert any(line.split()[1:3] == ["EXAMINE", '"INBOX"'] for line in sent)  # read-only
    assert any(line.startswith("< (") and line.endswith(" bytes)") for line in said)  # message bodies: sizes only
    for secret in (password, b64(f"\0alex\0{password}"), b64(f"alex\0alex\0{password}")):
        assert secret not in r.stderr


# An error in tanet itself --------------------------------------------------------------------

def a_meeting_edited_by_hand(tanet, own_database):
    """A real way to meet an error tanet does not expect: a start time changed to one that is no
    time at all by another program (a spreadsheet-like database browser), which the schema allows."""
    tanet("init", ok=True)
    tanet("meeting", "add", "2027-02-09", "--location", "Leith Library", ok=True)
    with sqlite3.connect(own_database) as c:
        c.execute("UPDATE meetings SET start = '25:99'")


def crash_reports(tmp_path) -> list[Path]:
    return sorted((tmp_path / "state" / "tanet" / "log").glob("crash-*.txt"))


def test_an_unexpected_error_is_one_line_and_a_private_crash_report(tanet, tmp_path, own_database):
    a_meeting_edited_by_hand(tanet, own_database)
    r = tanet("meeting", "list")
    assert r.exit_code == 1 and r.stdout == ""
    [line] = r.stderr.splitlines()
    [report] = crash_reports(tmp_path)
    assert line == ("Error: 'tanet meeting list' stopped on a fault in tanet itself, not in what you typed "
                    f"(ValueError: hour must be in 0..23). The details are in {report}: send that file to whoever "
                    "looks after tanet.")
    assert stat.S_IMODE(report.stat().st_mode) == 0o600 and stat.S_IMODE(report.parent.stat().st_mode) == 0o700
    text = report.read_text()
    from tanet import __version__

    assert f"tanet: {__version__}\n" in text and "Command: tanet meeting list\n" in text
    assert "Traceback (most recent call last):" in text and text.rstrip().endswith("ValueError: hour must be in 0..23")
    assert f"TANET_DB={own_database}" in text


def test_a_crash_in_a_real_process_prints_no_traceback_unless_debug(cli_env, tmp_path, own_database, tanet):
    a_meeting_edited_by_hand(tanet, own_database)
    cli_env["XDG_STATE_HOME"] = str(tmp_path / "state")
    r = subprocess.run(TANET + ["meeting", "list"], env=cli_env, capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.splitlines()) == 1 and "fault in tanet itself" in r.stderr
    r = subprocess.run(TANET + ["--debug", "meeting", "list"], env=cli_env, capture_output=True, text=True)
    assert r.returncode == 1
    assert "Traceback (most recent call last):" in r.stderr and "ValueError: hour must be in 0..23" in r.stderr
    assert "store.db: open database " in r.stderr  # --debug says what --verbose says, too
    last = r.stderr.splitlines()[-1]
    assert last.startswith("Error: 'tanet --debug meeting list' stopped on a fault in tanet itself")
    assert len(crash_reports(tmp_path)) == 2


def test_debug_shows_the_traceback_of_a_users_mistake_too(tanet):
    r = tanet("--debug", "member", "show", "nobody@example.org")
    assert r.exit_code == 1
    assert "Traceback (most recent call last):" in r.stderr and "TanetError" in r.stderr
    assert r.stderr.splitlines()[-1].startswith("Error: ")
    r = tanet("member", "show", "nobody@example.org", ok=False)  # and without it, one line again
    assert len(r.stderr.splitlines()) == 1


def test_usage_errors_and_ctrl_c_are_not_crashes(tanet, tmp_path):
    r = tanet("meeting", "lisst")
    assert r.exit_code == 2 and "fault in tanet" not in r.stderr
    assert tanet("--version", ok=True).stdout.startswith("tanet ")
    assert crash_reports(tmp_path) == []


def test_the_crash_report_holds_no_secret_from_the_command_line(tmp_path, monkeypatch):
    from tanet.output import diagnostics

    monkeypatch.setenv("TANET_SMTP_PASSWORD", "hunter2-smtp")
    args = ["rsvp", "import", "imaps://alex:hunter2@mail.example.org/INBOX", "--db", "x.db"]
    try:
        {}["missing"]
    except KeyError as e:
        error = e
    report = diagnostics.write_crash_report(error, args)
    text = report.read_text()
    assert "Command: tanet rsvp import imaps://alex:***@mail.example.org/INBOX --db x.db\n" in text
    assert "hunter2" not in text and "TANET_SMTP_PASSWORD=(set)" in text
    assert "KeyError: 'missing'" in text
    assert report.parent == tmp_path / "state" / "tanet" / "log"


@pytest.mark.parametrize("args, shown", [
    (["config", "set", "smtp.oauth2_token_command", "pass show mail"],
     ["config", "set", "smtp.oauth2_token_command", "***"]),
    (["--password=abc", "--org=Passmore Trust"], ["--password=***", "--org=Passmore Trust"]),
    (["imaps://a%40b:p%C3%A4ss@host:993/Box"], ["imaps://a%40b:***@host:993/Box"]),
    (["member", "add", "Zoë", "--email", "zoe@example.org"], ["member", "add", "Zoë", "--email", "zoe@example.org"]),
])
def test_secrets_are_taken_out_of_a_command_line(args, shown):
    from tanet.output.diagnostics import without_secrets

    assert without_secrets(args) == shown


def test_without_a_crash_folder_the_line_says_how_to_see_the_details(tmp_path, monkeypatch, capsys):
    from tanet.output import diagnostics

    blocker = tmp_path / "state"
    blocker.write_text("a file where the folder would go")
    try:
        int("x")
    except ValueError as e:
        diagnostics.crash(e, ["report", "quarter"])
    err = capsys.readouterr().err
    assert err == ("Error: 'tanet report quarter' stopped on a fault in tanet itself, not in what you typed "
                   "(ValueError: invalid literal for int() with base 10: 'x'). No crash report could be written; "
                   "run the command again with --debug to see it.\n")
    assert os.path.isfile(blocker)
