"""A reply is data, never an instruction. Only the attendee (or the
delegate their calendar names) can answer for them, never beyond the version sent; one bad
message is one line and the rest are read; reading stays within 100 MiB whatever comes in."""

import mailbox
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import TANET
from scripted_imap import ScriptedIMAP
from servers import running_dovecot
from test_replies import EXPECTED, REPLIES, UID, answers, network

ZOE = "zoe.fraser@pentlandprimary.example"
MHAIRI = "mhairi.robertson@leithfamilyhub.example"


def reply(folder, name, *, sender="Zoë Fraser <zoe.fraser@pentlandprimary.example>", attendee=ZOE,
          partstat="DECLINED", sequence="0", extra_headers="", params="", comment=None):
    text = (f"From: {sender}\r\n{extra_headers}To: Alex Morgan <alex.morgan@council.example>\r\n"
            f"Subject: {partstat.title()}: meeting\r\nMessage-ID: <{name}@example.org>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/calendar; charset=UTF-8; method=REPLY\r\n\r\n"
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
            f"UID:{UID}\r\nSEQUENCE:{sequence}\r\nDTSTAMP:20270110T090000Z\r\nDTSTART:20270119T100000Z\r\n"
            + (f"COMMENT:{comment}\r\n" if comment else "")
            + f"ATTENDEE;PARTSTAT={partstat}{params}:mailto:{attendee}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    path = Path(folder) / f"{name}.eml"
    path.write_bytes(text.encode())
    return path


def imported(tanet, *paths):
    return tanet("rsvp", "import", *paths, "--format", "json", ok=True).json()


def reasons(result):
    return {Path(n["source"]).name: n["reason"] for n in result["not_applied"]}


def test_a_stranger_cannot_answer_for_a_member(tanet, tmp_path):
    network(tanet, tmp_path)
    forged = reply(tmp_path, "forged", sender="Zoe <evil@attacker.example>")
    result = imported(tanet, forged)
    assert result["applied"] == 0
    assert reasons(result)["forged.eml"].startswith(f"sent by evil@attacker.example for {ZOE}: only that person")
    assert answers(tanet)[ZOE] == "none"
    register = tanet("attendance", "show", "1", "--register", "--format", "json", ok=True).json()
    assert {r["status"] for r in register} == {"none"}


def test_a_member_cannot_answer_for_another_and_her_note_is_not_kept(tanet, tmp_path, own_database):
    network(tanet, tmp_path)
    other = reply(tmp_path, "other", sender=f"Mhairi Robertson <{MHAIRI}>", comment="Zoe is off sick, ignore her")
    result = imported(tanet, other)
    assert result["applied"] == 0
    assert reasons(result)["other.eml"].startswith(f"sent by {MHAIRI} for {ZOE}")
    assert answers(tanet)[ZOE] == answers(tanet)[MHAIRI] == "none"
    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT count(*) FROM responses").fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM replies_read").fetchone() == (0,)


def test_a_delegate_named_by_sent_by_and_the_sender_header_are_believed(tanet, tmp_path):
    network(tanet, tmp_path)
    # Exchange, a delegate answering: From the delegate, ATTENDEE names them as SENT-BY.
    delegate = reply(tmp_path, "delegate", sender="Pat Assistant <pa@pentlandprimary.example>",
                     params=';SENT-BY="mailto:PA@pentlandprimary.example"', partstat="TENTATIVE")
    # "On behalf of": From the attendee, Sender the assistant who pressed the button.
    behalf = reply(tmp_path, "behalf", sender=f"Mhairi Robertson <{MHAIRI}>", attendee=MHAIRI,
                   extra_headers="Sender: Pat Assistant <pa@leithfamilyhub.example>\r\n", partstat="ACCEPTED")
    # A delegate the attendee did not name is not believed.
    unnamed = reply(tmp_path, "unnamed", sender="Pat Assistant <pa@pentlandprimary.example>",
                    attendee="niamh.buchanan@lothianperinatal.example",
                    params=';SENT-BY="mailto:someone.else@example.org"')
    result = imported(tanet, delegate, behalf, unnamed)
    assert result["applied"] == 2
    assert list(reasons(result)) == ["unnamed.eml"]
    assert answers(tanet)[ZOE] == "tentative" and answers(tanet)[MHAIRI] == "accepted"


def test_a_sequence_beyond_the_one_sent_cannot_block_a_genuine_reply(tanet, tmp_path, own_database):
    network(tanet, tmp_path)
    blocking = reply(tmp_path, "blocking", sequence="999999999", partstat="DECLINED")
    huge = reply(tmp_path, "huge", sequence="99999999999999999999999", partstat="DECLINED")
    below = reply(tmp_path, "below", sequence="-99999999999999999999999", partstat="DECLINED")
    result = imported(tanet, blocking, huge, below)
    assert result["applied"] == 0
    got = reasons(result)
    assert got["below.eml"] == "its calendar part cannot be read"
    assert got["blocking.eml"].startswith("it answers version 999999999 of meeting #1, but the latest version "
                                          "sent is 0")
    assert got["huge.eml"].startswith("it answers version 99999999999999999999999 of meeting #1")
    with sqlite3.connect(own_database) as c:  # nothing of them is kept, not even as read
        assert c.execute("SELECT count(*) FROM replies_read").fetchone() == (0,)
    genuine = reply(tmp_path, "genuine", sequence="0", partstat="ACCEPTED")
    assert imported(tanet, genuine)["applied"] == 1
    assert answers(tanet)[ZOE] == "accepted"


# One bad message among good ones ----------------------------------------------------------------

def deeply_nested(levels=10_000) -> bytes:
    parts = [f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(levels)]
    ends = [f"--b{i}--\r\n" for i in range(levels, -1, -1)]
    return ("From: Zoë Fraser <zoe.fraser@pentlandprimary.example>\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b0\r\n\r\n" + "".join(parts)
            + f"--b{levels}\r\nContent-Type: text/plain\r\n\r\nhi\r\n" + "".join(ends)).encode()


def with_attachment(sample: Path, size: int) -> bytes:
    """A real client's reply with a base64 attachment of about `size` bytes added."""
    raw = sample.read_bytes()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    start = next(i for i, line in enumerate(lines) if line.lower().startswith(b"content-type:"))
    end = start + 1
    while end < len(lines) and lines[end][:1] in (b" ", b"\t"):
        end += 1
    inner = b"\r\n".join(lines[start:end])
    outer = lines[:start] + [b"Content-Type: multipart/mixed; boundary=ATT"] + lines[end:]
    blob = (b"QUJD" * 19 + b"\r\n") * (size // 78)
    return (b"\r\n".join(outer) + b"\r\n\r\n--ATT\r\n" + inner + b"\r\n\r\n" + body
            + b"\r\n--ATT\r\nContent-Type: application/pdf; name=slides.pdf\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n" + blob + b"\r\n--ATT--\r\n")


def bad_messages(folder) -> dict[str, tuple[bytes, str]]:
    """Name -> (message, the start of the reason it is listed with)."""
    folder = Path(folder)
    broken = reply(folder, "broken").read_bytes().replace(b"END:VEVENT\r\n", b"")
    undecodable = (b"From: \xff\xfe Zo\xeb <zoe.fraser@pentlandprimary.example>\r\nSubject: \xff\xfe\xfd\r\n"
                   b"Content-Type: text/calendar; method=REPLY\r\n\r\n\xff\xfe\x00B\x00E\x00G\x00\xff\r\n")
    return {
        "deep.eml": (deeply_nested(), "its parts are nested too deeply to read"),
        "hugeseq.eml": (reply(folder, "hugeseq", sequence="99999999999999999999999").read_bytes(),
                        "it answers version 99999999999999999999999"),
        "broken.eml": (broken, "its calendar part cannot be read"),
        "undecodable.eml": (undecodable, "its calendar part cannot be read"),
        "large.eml": (with_attachment(REPLIES / "03-outlook-desktop-tentative.eml", 11_000_000),
                      "it is 11 MB, larger than the 10 MB a reply can be"),
    }


def good_and_bad(tmp_path) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """The eight client samples with a bad message after every second one, and the bad
    messages' reasons."""
    made = tmp_path / "made"
    made.mkdir(exist_ok=True)
    bad = bad_messages(made)
    waiting = list(bad.items())
    mixed = []
    for i, path in enumerate(sorted(REPLIES.glob("*.eml"))):
        mixed.append((path.name, path.read_bytes()))
        if i % 2 == 1 and waiting:
            name, (raw, _) = waiting.pop(0)
            mixed.append((name, raw))
    mixed += [(name, raw) for name, (raw, _) in waiting]
    return mixed, {name: reason for name, (_, reason) in bad.items()}


def check_good_and_bad(tanet, result, name_of, bad: dict[str, str]) -> dict[str, dict]:
    assert result["applied"] == 6 and result["unchanged"] == 0
    assert answers(tanet) == EXPECTED
    listed = {name_of(n): n for n in result["not_applied"]}
    assert len(listed) == len(result["not_applied"]) == 7  # five bad ones, the hand-written one, the counter-proposal
    for name, reason in bad.items():
        assert listed[name]["reason"].startswith(reason), (name, listed[name])
    return listed


def test_one_bad_message_in_a_folder_is_one_line(tanet, tmp_path):
    network(tanet, tmp_path)
    folder = tmp_path / "replies"
    folder.mkdir()
    order, bad = good_and_bad(tmp_path)
    for name, raw in order:
        (folder / name).write_bytes(raw)
    listed = check_good_and_bad(tanet, imported(tanet, folder), lambda n: Path(n["source"]).name, bad)
    assert listed["deep.eml"]["source"] == str(folder / "deep.eml")
    assert listed["large.eml"]["from"] == "Zoë Fraser <zoe.fraser@pentlandprimary.example>"
    assert "\ufffd" in listed["undecodable.eml"]["from"]  # shown, with what could not be read marked
    table = tanet("rsvp", "import", folder, ok=True).stdout
    assert "7 not applied" in table and "deep.eml" in table


def test_one_bad_message_in_an_mbox_is_one_line_naming_its_position(tanet, tmp_path):
    network(tanet, tmp_path)
    box = mailbox.mbox(tmp_path / "replies.mbox", create=True)
    order, bad = good_and_bad(tmp_path)
    for _, raw in order:
        box.add(raw)
    box.flush()
    box.close()
    position = {f"{tmp_path / 'replies.mbox'}, message {i}": name for i, (name, _) in enumerate(order, 1)}
    check_good_and_bad(tanet, imported(tanet, tmp_path / "replies.mbox"), lambda n: position[n["source"]], bad)


# Memory: a child process, measured by the kernel -------------------------------------------------

def peak_mib(args, env) -> tuple[float, subprocess.CompletedProcess]:
    """Run tanet in a child of a small Python process and read the child's peak memory."""
    probe = ("import resource, subprocess, sys\n"
             "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
             "sys.stdout.write(p.stdout); sys.stderr.write(p.stderr); sys.exit(p.returncode)\n")
    r = subprocess.run([sys.executable, "-c", probe, *TANET, *args], capture_output=True, text=True, env=env,
                       timeout=300)
    peak, _, stdout = r.stdout.partition("\n")
    return int(peak) / 1024, subprocess.CompletedProcess(r.args, r.returncode, stdout, r.stderr)


def test_a_50_mb_reply_is_skipped_and_a_10_mb_one_read_within_100_mib(tanet, tmp_path, cli_env):
    import json

    network(tanet, tmp_path)
    sample = REPLIES / "06-thunderbird-decline.eml"
    (tmp_path / "big.eml").write_bytes(with_attachment(sample, 50_000_000))
    peak, r = peak_mib(["rsvp", "import", tmp_path / "big.eml", "--format", "json"], cli_env)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["applied"] == 0 and result["not_applied"][0]["reason"].startswith("it is 50 MB, larger than")
    print(f"peak {peak:.1f} MiB")
    assert peak < 100, f"peak {peak:.0f} MiB"
    # The same inside an mbox, before a good reply: listed by its position, the good one read.
    box = mailbox.mbox(tmp_path / "big.mbox", create=True)
    box.add((tmp_path / "big.eml").read_bytes())
    box.add((REPLIES / "01-outlook-accept.eml").read_bytes())
    box.close()
    peak, r = peak_mib(["rsvp", "import", tmp_path / "big.mbox", "--format", "json"], cli_env)
    result = json.loads(r.stdout)
    assert result["applied"] == 1 and [n["source"] for n in result["not_applied"]] == [f"{tmp_path}/big.mbox, message 1"]
    print(f"peak {peak:.1f} MiB")
    assert peak < 100, f"peak {peak:.0f} MiB"
    # A message that is one line of 150 MB (no mail program writes that) between two good ones.
    with open(tmp_path / "line.mbox", "wb") as f:
        f.write(b"From MAILER-DAEMON Thu Jan  7 09:00:00 2027\n" + (REPLIES / "01-outlook-accept.eml").read_bytes())
        f.write(b"\nFrom MAILER-DAEMON Thu Jan  7 09:00:00 2027\nSubject: one line\n\n")
        for _ in range(150):
            f.write(b"A" * 1_000_000)
        f.write(b"\n\nFrom MAILER-DAEMON Thu Jan  7 09:00:00 2027\n" + (REPLIES / "05-apple-accept.eml").read_bytes()
                + b"\n")
    peak, r = peak_mib(["rsvp", "import", tmp_path / "line.mbox", "--format", "json"], cli_env)
    result = json.loads(r.stdout)
    assert result["unchanged"] == 1 and result["applied"] == 1, result
    assert [(n["source"], n["subject"]) for n in result["not_applied"]] == [(f"{tmp_path}/line.mbox, message 2",
                                                                              "one line")]
    print(f"peak {peak:.1f} MiB")
    assert peak < 100, f"peak {peak:.0f} MiB"
    # Just under the limit: read whole, the attachment dropped as it is parsed.
    (tmp_path / "under.eml").write_bytes(with_attachment(sample, 10_300_000))
    assert 10_000_000 < (tmp_path / "under.eml").stat().st_size < 10 * 1024 * 1024
    peak, r = peak_mib(["rsvp", "import", tmp_path / "under.eml", "--format", "json"], cli_env)
    assert json.loads(r.stdout)["applied"] == 1, r.stdout + r.stderr
    assert answers(tanet)["tomasz.wisniewski@grantoncmh.example"] == "declined"
    print(f"peak {peak:.1f} MiB")
    assert peak < 100, f"peak {peak:.0f} MiB"


# IMAP: the real Dovecot ---------------------------------------------------------------------------

def imap_url(server, folder="INBOX", user="alex"):
    return f"imaps://{user}@127.0.0.1:{server['port']}/{folder}"


def test_imap_takes_a_utf8_password_and_a_folder_named_reponses(tanet, tmp_path, monkeypatch):
    network(tanet, tmp_path)
    sample = (REPLIES / "06-thunderbird-decline.eml").read_bytes()
    with running_dovecot({"alex": "p£ss-word"}, {"INBOX": [], "Réponses": [sample]}) as server:
        tanet("config", "set", "smtp.ca_file", server["ca"], ok=True)
        monkeypatch.setenv("TANET_IMAP_PASSWORD", "p£ss-word")
        result = imported(tanet, imap_url(server, "Réponses"))
        assert (result["applied"], result["not_applied"]) == (1, [])
        assert answers(tanet)["tomasz.wisniewski@grantoncmh.example"] == "declined"
        typed_encoded = imported(tanet, imap_url(server, "R%C3%A9ponses"))  # as a browser copies it
        assert (typed_encoded["applied"], typed_encoded["unchanged"]) == (0, 1)
        assert "no folder 'Répons'" in tanet("rsvp", "import", imap_url(server, "Répons"), ok=False).stderr
        monkeypatch.setenv("TANET_IMAP_PASSWORD", "p£ss-wörd")
        refused = tanet("rsvp", "import", imap_url(server, "Réponses"), ok=False).stderr
        assert refused.startswith(f"Error: The mail server 127.0.0.1:{server['port']} refused the login for alex: "
                                  "[AUTHENTICATIONFAILED] Authentication failed.")
        assert "b'" not in refused and len(refused.strip().splitlines()) == 1


def test_imap_forged_and_bad_messages_are_one_line_each_with_their_uid(tanet, tmp_path, monkeypatch, cli_env):
    import json

    network(tanet, tmp_path)
    order, bad = good_and_bad(tmp_path)
    forged = reply(tmp_path, "forged", sender="Zoe <evil@attacker.example>", sequence="999999999").read_bytes()
    order.append(("forged.eml", forged))
    with running_dovecot({"alex": "right-password"}, {"INBOX": [raw for _, raw in order]}) as server:
        tanet("config", "set", "smtp.ca_file", server["ca"], ok=True)
        cli_env["TANET_IMAP_PASSWORD"] = "right-password"
        peak, r = peak_mib(["rsvp", "import", imap_url(server), "--format", "json"], cli_env)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    # Dovecot numbers the messages 1, 2, ... in the order they were delivered.
    uid = {f"imaps://127.0.0.1/INBOX, UID {i}": name for i, (name, _) in enumerate(order, 1)}
    listed = {uid[n["source"]]: n for n in result["not_applied"]}
    assert result["applied"] == 6 and len(listed) == len(result["not_applied"]) == 8
    for name, reason in bad.items():
        assert listed[name]["reason"].startswith(reason), (name, listed[name])
    assert listed["forged.eml"]["reason"].startswith("sent by evil@attacker.example for zoe.fraser@")
    assert listed["large.eml"]["from"] == "Zoë Fraser <zoe.fraser@pentlandprimary.example>"
    assert answers(tanet) == EXPECTED
    assert peak < 100, f"peak {peak:.0f} MiB"


# IMAP: a tiny scripted server that stops answering where a test says --------------------------

def against(tanet, tmp_path, monkeypatch, server, folder="INBOX", ok=False):
    server.ca.cert_pem.write_to_path(str(tmp_path / "scripted-ca.pem"))
    tanet("config", "set", "smtp.ca_file", tmp_path / "scripted-ca.pem", ok=True)
    tanet("config", "set", "imap.timeout_seconds", "2", ok=True)
    monkeypatch.setenv("TANET_IMAP_PASSWORD", "p£ss-word")
    return tanet("rsvp", "import", f"imaps://alex@127.0.0.1:{server.port}/{folder}", "--format", "json", ok=ok)


def test_an_imap_server_that_stops_answering_ends_with_one_line(tanet, tmp_path, monkeypatch):
    network(tanet, tmp_path)
    for stop_at, step in [("connect", "at the connection"), ("login", "at the login"),
                          ("fetch", "while fetching messages"), ("trickle", "while fetching messages")]:
        server = ScriptedIMAP(stop_at)
        try:
            r = against(tanet, tmp_path, monkeypatch, server)  # only the deadline ends a trickle
        finally:
            server.close()
        assert server.reached.is_set(), stop_at
        assert r.stderr == (f"Error: The mail server 127.0.0.1:{server.port} did not answer within 2 seconds {step}; "
                            "nothing was read. Try again later; if it is only slow: tanet config set "
                            "imap.timeout_seconds 300\n"), r
    assert set(answers(tanet).values()) == {"none"}


def test_an_imap_server_that_sends_more_than_it_announced_is_stopped(tanet, tmp_path, monkeypatch):
    network(tanet, tmp_path)
    server = ScriptedIMAP("liar")
    try:
        r = against(tanet, tmp_path, monkeypatch, server)
    finally:
        server.close()
    assert server.reached.is_set()
    assert r.stderr == (f"Error: The mail server 127.0.0.1:{server.port} began to send 600,000,000 bytes, more than "
                        "it announced and more than any reply; nothing was read. Its mailbox may be damaged: ask "
                        "its administrator.\n"), r


def test_imap_sends_the_password_as_utf8_and_the_folder_as_utf8_when_the_server_takes_it(tanet, tmp_path,
                                                                                       monkeypatch):
    network(tanet, tmp_path)
    server = ScriptedIMAP(None, capabilities_after_login="IMAP4rev1 ENABLE UTF8=ACCEPT")
    try:
        r = against(tanet, tmp_path, monkeypatch, server, folder="R%C3%A9ponses", ok=True)
    finally:
        server.close()
    assert r.json() == {"applied": 0, "unchanged": 0, "not_applied": []}
    import base64

    sent = server.lines
    after = next(i for i, line in enumerate(sent) if line.endswith(b" AUTHENTICATE PLAIN\r\n")) + 1
    assert base64.b64decode(sent[after].strip()) == b"\0alex\0p\xc2\xa3ss-word"  # RFC 4616: UTF-8
    assert any(line.endswith(b' ENABLE UTF8=ACCEPT\r\n') for line in sent)
    assert any(line.endswith(' EXAMINE "Réponses"\r\n'.encode()) for line in sent), sent


def test_a_folder_whose_percent_codes_are_not_utf8_is_one_line(tanet):
    r = tanet("rsvp", "import", "imaps://alex@127.0.0.1:1/R%E9ponses", ok=False)
    assert r.stderr == ("Error: The %-codes in 'imaps://alex@127.0.0.1:1/R%E9ponses' are not UTF-8 text; write the "
                        "folder's name as it is, e.g. imaps://alex@mail.example.org/Réponses\n")


def test_a_meeting_tanet_has_not_sent_takes_replies_up_to_the_version_it_knows(tanet, tmp_path):
    network(tanet, tmp_path)
    tanet("meeting", "add", "2027-03-16", "--location", "x", "--uid", "taken-over@outlook.example", ok=True)
    ahead = reply(tmp_path, "ahead", sequence="1")
    ahead.write_bytes(ahead.read_bytes().replace(UID.encode(), b"taken-over@outlook.example"))
    now = reply(tmp_path, "now", sequence="0")
    now.write_bytes(now.read_bytes().replace(UID.encode(), b"taken-over@outlook.example"))
    result = imported(tanet, ahead, now)
    assert result["applied"] == 1
    assert reasons(result)["ahead.eml"].startswith("it answers version 1 of meeting #2, but tanet has not sent it "
                                                   "and knows version 0")


def test_a_stranger_naming_themselves_as_sent_by_is_not_believed(tanet, tmp_path):
    # Found by an adversary: the SENT-BY comes in the same untrusted message.
    network(tanet, tmp_path)
    forged = reply(tmp_path, "forged", sender="Evil <evil@attacker.example>",
                   params=';SENT-BY="mailto:evil@attacker.example"', comment="I hate this network")
    result = imported(tanet, forged)
    assert result["applied"] == 0 and reasons(result)["forged.eml"].startswith("sent by evil@attacker.example")
    assert ZOE not in answers(tanet) or answers(tanet)[ZOE] == "none"


def test_a_time_stamp_from_the_far_future_cannot_lock_an_answer(tanet, tmp_path):
    network(tanet, tmp_path)
    future = reply(tmp_path, "future", partstat="DECLINED")
    future.write_bytes(future.read_bytes().replace(b"DTSTAMP:20270110T090000Z", b"DTSTAMP:99991231T235959Z"))
    imported(tanet, future)
    genuine = reply(tmp_path, "genuine", partstat="ACCEPTED")
    genuine.write_bytes(genuine.read_bytes().replace(b"DTSTAMP:20270110T090000Z", b"DTSTAMP:20270301T090000Z"))
    assert imported(tanet, genuine)["applied"] == 1
    assert answers(tanet)[ZOE] == "accepted"
