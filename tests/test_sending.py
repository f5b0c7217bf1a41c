"""Sending under a second terminal and a bad line, against the real aiosmtpd: one
sender per file, a dropped line (reconnect; a message without an answer is *uncertain*,
never resent by itself), kill -9 and Ctrl-C at observed progress, a whole-exchange
deadline, UTF-8 passwords, and the throttle's estimate."""

import json
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time

import pytest
from conftest import TANET
from servers import free_port, use_server
from test_outbox import network, outbox

EVERYONE = ["amina@example.org", "orla@example.org", "oskar@example.org", "sean@example.org", "zoe@example.org"]


def deliveries(inbox):
    """How many copies each address received."""
    counts = {}
    for rcpt, _ in inbox.messages:
        counts[rcpt] = counts.get(rcpt, 0) + 1
    return counts


def sent_count(db):
    with sqlite3.connect(db) as c:
        return c.execute("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL").fetchone()[0]


def wait_for(condition, what, limit=120.0):
    """Wait for observed progress (a failure guard, not a timing)."""
    end = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.02)


def run(env, *args):
    return subprocess.run(TANET + [str(a) for a in args], env=env, capture_output=True, text=True, timeout=120)


def start(env, *args):
    return subprocess.Popen(TANET + [str(a) for a in args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


# One sender per database file ----------------------------------------------------------------

def test_a_second_sender_stops_at_once_naming_the_first_and_nobody_gets_two(tanet, tmp_path, smtp, cli_env):
    network(tanet, members=5)
    inbox, port = smtp(block_after=2)
    use_server(tanet, port)
    first = start(cli_env, "invite", "1", "--send", "-o", tmp_path / "i")
    assert inbox.blocked.wait(120), "the first sender never reached its third message"
    # The first holds its third message until released below: the second can only end by
    # refusing at once (waiting for the lock would run into run()'s failure guard).
    second = run(cli_env, "invite", "1", "--send", "-o", tmp_path / "i")
    assert not inbox.release.is_set()
    assert second.returncode == 1 and "Traceback" not in second.stderr
    [line] = second.stderr.strip().splitlines()
    assert line.startswith("Error: tanet invite --send (process ") and f"process {first.pid}," in line
    assert "already using" in line and "Wait for it to finish" in line
    inbox.release.set()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert "Sent to 5 members." in out
    assert deliveries(inbox) == {address: 1 for address in EVERYONE}


def test_every_sending_command_holds_the_same_lock(tanet, tmp_path, smtp, own_database, monkeypatch):
    from tanet.store.sendlock import sender_lock

    network(tanet)
    monkeypatch.chdir(tmp_path)
    tanet("invite", "1", "-o", tmp_path / "i", ok=True)
    inbox, port = smtp()
    use_server(tanet, port)
    with sender_lock(own_database, "invite --send"):
        for args in (("invite", "1", "--send"), ("remind", "1", "--send"), ("thanks", "1", "--send"),
                     ("report", "quarter", "2027Q1", "--send-to", "manager@council.example"),
                     ("organiser", "change", "--name", "Sam Lee", "--email", "sam@example.org", "--send")):
            r = tanet(*args, ok=False)
            assert "already using" in r.stderr and f"process {__import__('os').getpid()}" in r.stderr, args
    assert inbox.messages == []
    assert tanet("config", "get", "organiser.email", ok=True).stdout.strip() == "coordinator@example.org"
    # Writing without sending needs no lock; the lock is free again afterwards.
    with sender_lock(own_database, "invite --send"):
        tanet("remind", "1", "-o", tmp_path / "r", ok=True)
    assert "Sent to 3 members." in tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=True).stdout


# A bad line: reconnect, and an unanswered message is uncertain -------------------------------

def test_a_line_dropped_after_data_leaves_that_message_uncertain_and_the_rest_go(tanet, tmp_path, smtp):
    network(tanet, members=5)
    inbox, port = smtp(drop_after_data={2})  # the 2nd message is stored, then the line drops
    use_server(tanet, port)
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert deliveries(inbox) == {address: 1 for address in EVERYONE}
    [unsure] = [row for row in outbox(tanet, "--unsent")]
    assert unsure["state"] == "uncertain" and unsure["sent_at"] is None
    assert "Sent to 4 members." in r.stdout
    assert f"Not known: {unsure['email']}: the message went but the answer never came" in r.stderr
    assert f"--send --resend --only {unsure['email']}" in r.stderr
    assert "Error: 1 message may or may not have arrived (listed above); 4 went this time." in r.stderr
    assert "the rest went" not in r.stderr and "b'" not in r.stderr
    # Never sent again by itself...
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert "4 members already had this message" in r.stdout and f"Not known: {unsure['email']}" in r.stderr
    assert len(inbox.messages) == 5
    table = tanet("outbox", "list", "--unsent", ok=True)
    assert "uncertain" in table.stdout and "may or may not have arrived" in table.stderr
    assert "--resend --only" in table.stderr
    # ... only when the coordinator says so, to that member alone.
    r = tanet("invite", "1", "--send", "--resend", "--only", unsure["email"], "-o", tmp_path / "i", ok=True)
    assert "Sent to 1 member." in r.stdout
    assert deliveries(inbox) == {address: 2 if address == unsure["email"] else 1 for address in EVERYONE}
    assert outbox(tanet, "--unsent") == []
    r = tanet("invite", "1", "--send", "--only", "nobody@example.org", "-o", tmp_path / "i", ok=False)
    assert "nobody@example.org has no message in this run" in r.stderr
    assert "needs --send" in tanet("remind", "1", "--only", unsure["email"], ok=False).stderr


def test_a_server_that_drops_the_line_before_data_is_connected_again(tanet, tmp_path, smtp):
    network(tanet, members=5)
    inbox, port = smtp(drop_at_mail={2, 4})
    use_server(tanet, port)
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=True)
    assert "Sent to 5 members." in r.stdout and r.stderr == ""
    assert deliveries(inbox) == {address: 1 for address in EVERYONE}
    assert inbox.mail_count == 7


def test_a_line_that_cannot_be_made_again_says_exactly_what_went(tanet, tmp_path, smtp):
    network(tanet, members=5)
    inbox, port = smtp(drop_after_data={2}, drop_at_mail=set(range(3, 100)))
    use_server(tanet, port)
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert len(inbox.messages) == 2 and "Sent to 1 member." in r.stdout
    assert "Stopped: The line to the mail server 127.0.0.1" in r.stderr and "kept dropping" in r.stderr
    assert "421 4.3.2 Going away" in r.stderr
    assert ("Error: 1 message may or may not have arrived, 3 messages not tried (listed above); 1 went this time. "
            "Run the same command again to send those not sent.") in r.stderr
    states = sorted(row["state"] for row in outbox(tanet))
    assert states == ["sent", "uncertain", "written", "written", "written"]
    inbox.drop_at_mail.clear()
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)  # one is still uncertain
    assert "Sent to 3 members." in r.stdout
    assert deliveries(inbox) == {address: 1 for address in EVERYONE}


# Killed with -9 at observed progress ----------------------------------------------------------

def test_kill_9_duplicates_nothing_and_leaves_at_most_the_message_in_flight_uncertain(tanet, tmp_path, smtp,
                                                                                      cli_env, own_database):
    network(tanet, members=5)
    use_server(tanet, free_port())
    with sqlite3.connect(own_database) as c:
        for i in range(7):
            c.execute("INSERT INTO members(name, email, organisation, service_area, sector, role, joined_on) "
                      "VALUES (?, ?, 'O', 'housing', 'public', 'frontline', '2025-01-01')",
                      [f"Person {i}", f"p{i}@example.org"])
    with sqlite3.connect(own_database) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    everyone = EVERYONE + [f"p{i}@example.org" for i in range(7)]
    for k in (0, 4, 11):
        db = tmp_path / f"trial{k}.db"
        shutil.copy(own_database, db)
        env = {**cli_env, "TANET_DB": str(db)}
        inbox, port = smtp(block_after=k)
        assert run(env, "config", "set", "smtp.port", port).returncode == 0
        p = start(env, "invite", "1", "--send", "-o", tmp_path / f"i{k}")
        assert inbox.blocked.wait(120), f"trial {k}: never reached message {k + 1}"
        p.send_signal(signal.SIGKILL)
        p.wait(120)
        inbox.release.set()  # the server kept the message whose answer the killed run never read
        again = run(env, "invite", "1", "--send", "-o", tmp_path / f"i{k}")
        assert again.returncode == 1 and "Not known:" in again.stderr and "Traceback" not in again.stderr
        assert deliveries(inbox) == {address: 1 for address in everyone}, f"trial {k}"
        rows = json.loads(run(env, "outbox", "list", "--unsent", "--format", "json").stdout)
        assert [row["state"] for row in rows] == ["uncertain"], f"trial {k}"


# Ctrl-C says exactly what went -----------------------------------------------------------------

def test_ctrl_c_with_a_message_in_flight_says_what_went(tanet, tmp_path, smtp, cli_env):
    network(tanet, members=5)
    inbox, port = smtp(block_after=3)
    use_server(tanet, port)
    p = start(cli_env, "invite", "1", "--send", "-o", tmp_path / "i")
    assert inbox.blocked.wait(120)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    inbox.release.set()
    assert p.returncode == 130 and "Traceback" not in err
    assert "changed nothing" not in err and len(inbox.messages) == 4
    in_flight = inbox.messages[3][0]
    assert err.strip() == (f"Stopped after sending 3 of 5; the same command sends the rest. The message to {in_flight} "
                           "was going as you stopped: it may have arrived, so it is not sent again by itself "
                           "(see: tanet outbox list --unsent).")
    r = run(cli_env, "invite", "1", "--send", "-o", tmp_path / "i")
    assert "Sent to 1 member." in r.stdout and deliveries(inbox) == {address: 1 for address in EVERYONE}


def test_ctrl_c_while_throttled_says_what_went_after_the_estimate(tanet, tmp_path, smtp, cli_env, own_database):
    network(tanet, members=3)
    inbox, port = smtp()
    use_server(tanet, port)
    tanet("config", "set", "smtp.per_minute", "2", ok=True)
    p = start(cli_env, "invite", "1", "--send", "-o", tmp_path / "i")
    wait_for(lambda: sent_count(own_database) == 2, "two messages sent")  # the third waits a minute
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130 and len(inbox.messages) == 2
    assert "3 messages at 2 a minute: about 2 minutes." in out
    assert err.strip() == "Stopped after sending 2 of 3; the same command sends the rest."
    tanet("config", "set", "smtp.per_minute", "30", ok=True)
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=True)
    assert "a minute" not in r.stdout and "Sent to 1 member." in r.stdout
    assert len(inbox.messages) == 3 and len(set(deliveries(inbox))) == 3


# A whole-exchange deadline ---------------------------------------------------------------------

@pytest.fixture
def trickling_greeter():
    """A server that greets one byte every half second, for as long as it is let."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                for byte in b"220 slow.example.org ESMTP, one byte at a time, for ever\r\n":
                    if stop.wait(0.5):
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()


def test_a_server_that_trickles_its_greeting_ends_at_the_deadline(tanet, tmp_path, trickling_greeter):
    network(tanet)
    use_server(tanet, trickling_greeter)
    tanet("config", "set", "smtp.deadline_seconds", "2", ok=True)
    # The greeting alone would take 28 s, each byte within any read timeout: only the deadline
    # for the whole exchange gives this error.
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert r.stderr.strip().splitlines() == [
        f"Error: The mail server 127.0.0.1:{trickling_greeter} took longer than 2 seconds (smtp.deadline_seconds) "
        "to answer, so tanet stopped; nothing was sent. Try again later, or ask its administrator."]


def test_a_server_that_trickles_its_answer_leaves_that_message_uncertain_and_stops(tanet, tmp_path, smtp):
    network(tanet)
    inbox, port = smtp(trickle=0.5)
    use_server(tanet, port)
    tanet("config", "set", "smtp.deadline_seconds", "2", ok=True)
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert "Sent to 0 members." in r.stdout
    assert "the message went but no answer came within 2 seconds" in r.stderr
    assert "took longer than 2 seconds (smtp.deadline_seconds)" in r.stderr
    assert "1 message may or may not have arrived, 2 messages not tried (listed above); none went" in r.stderr
    assert sorted(row["state"] for row in outbox(tanet)) == ["uncertain", "written", "written"]


def test_the_deadline_is_a_setting():
    from tanet.store.settings import SETTINGS

    assert SETTINGS["smtp.deadline_seconds"].default == "300"


# Any UTF-8 secret ------------------------------------------------------------------------------

@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_a_utf8_password_logs_in(tanet, tmp_path, smtp, ca, monkeypatch, mechanism):
    network(tanet)
    inbox, port = smtp("starttls", password="p£ss-word", mechanisms=[mechanism])
    use_server(tanet, port, "starttls", user="coordinator", ca_file=ca[1])
    monkeypatch.setenv("TANET_SMTP_PASSWORD", "p£ss-word")
    assert "Sent to 3 members." in tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=True).stdout
    assert len(inbox.messages) == 3
    monkeypatch.setenv("TANET_SMTP_PASSWORD", "p£ss-wörd")
    r = tanet("invite", "1", "--send", "--resend", "-o", tmp_path / "i", ok=False)
    assert r.stderr.startswith("Error: The mail server refused the login for coordinator (535 5.7.8 ")
    assert "b'" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_on_a_terminal_the_bar_moves_with_each_message_and_says_when_it_waits(tanet, tmp_path, smtp, cli_env,
                                                                              own_database):
    import os
    import pty
    import re

    network(tanet, members=5)
    inbox, port = smtp()
    use_server(tanet, port)
    tanet("config", "set", "smtp.per_minute", "4", ok=True)
    main, side = pty.openpty()
    p = subprocess.Popen(TANET + ["invite", "1", "--send", "-o", str(tmp_path / "i")], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=side, env={**cli_env, "TERM": "xterm", "COLUMNS": "100"})
    os.close(side)
    seen = b""
    end = time.monotonic() + 120  # only a guard against a hang
    while b"Waiting" not in seen:  # the fifth message waits for the minute of the first
        assert time.monotonic() < end and p.poll() is None, seen
        seen += os.read(main, 4096)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=60)
    os.close(main)
    screen = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", seen).decode(errors="replace")
    assert "Sending" in screen and re.search(r"Waiting \d+ s \(limit a minute\)", screen)
    assert re.search(r"\b80%", screen)  # 4 of 5 done as it waits
    assert p.returncode == 130 and len(inbox.messages) == 4


def test_a_file_written_again_while_a_sender_waits_is_not_sent_as_the_older_version(tanet, tmp_path, smtp, cli_env,
                                                                                  own_database):
    network(tanet, members=5)
    inbox, port = smtp(block_after=2)
    use_server(tanet, port)
    first = start(cli_env, "invite", "1", "--send", "-o", tmp_path / "i")
    assert inbox.blocked.wait(120), "the first sender never reached its third message"
    # Meanwhile the place changes and the update is written over the same files (writing takes no lock).
    assert run(cli_env, "meeting", "edit", "1", "--location", "Granton Hub").returncode == 0
    written = run(cli_env, "invite", "1", "-o", tmp_path / "i")
    assert written.returncode == 0, written.stderr
    inbox.release.set()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 1 and "written again meanwhile" in err, (out, err)
    # Nothing of the newer version went out recorded as the older one.
    assert [sequence(m) for _, m in inbox.messages] == [0, 0, 0]
    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT count(*) FROM outbox WHERE sequence = 0 AND sent_at IS NOT NULL").fetchone()[0] == 3
    again = run(cli_env, "invite", "1", "--send", "-o", tmp_path / "i")
    assert again.returncode == 0, again.stderr
    assert sorted(deliveries(inbox).values()) == [1, 1, 2, 2, 2]  # the update to the three who had the first
    assert [sequence(m) for _, m in inbox.messages[3:]] == [1, 1, 1, 1, 1]


def sequence(msg) -> int:
    """The SEQUENCE of the calendar a delivered message carries."""
    import re

    calendar = next(p for p in msg.walk() if p.get_content_type() == "text/calendar").get_content()
    return int(re.search(r"^SEQUENCE:(\d+)\r?$", calendar, re.M)[1])


def test_a_database_reached_through_a_link_shares_the_one_lock(tanet, tmp_path, smtp, cli_env, own_database):
    network(tanet, members=5)
    inbox, port = smtp(block_after=2)
    use_server(tanet, port)
    link = tmp_path / "link.db"
    link.symlink_to(own_database)
    first = start(cli_env, "invite", "1", "--send", "-o", tmp_path / "i")
    assert inbox.blocked.wait(120), "the first sender never reached its third message"
    second = run({**cli_env, "TANET_DB": str(link)}, "invite", "1", "--send", "-o", tmp_path / "i")
    assert second.returncode == 1 and "already using" in second.stderr, second.stderr
    inbox.release.set()
    first.communicate(timeout=60)
    assert deliveries(inbox) == {address: 1 for address in EVERYONE}
