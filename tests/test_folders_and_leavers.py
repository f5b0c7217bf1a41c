"""Issue 20: a folder per meeting, tanet removing only the files it wrote,
--single giving the organiser their copy, and leavers taken off what is ahead. Against
the real aiosmtpd server, real files, real subprocesses and libical."""

import asyncio
import hashlib
import json
import sqlite3
import subprocess
import threading
from pathlib import Path

import icalendar
import pytest
from conftest import TANET
from servers import Inbox, free_port, use_server
from test_calendar import libical_errors
from test_outbox import network, outbox, parse

EXAMPLES = Path(__file__).parent.parent / "examples"


def calendar_of(msg):
    return icalendar.Calendar.from_ical(msg.get_body(("calendar",)).get_payload(decode=True))


def uid_of(msg) -> str:
    return str(calendar_of(msg).walk("VEVENT")[0]["UID"])


def uids(tanet) -> dict[int, str]:
    return {m["id"]: m["uid"] for m in tanet("meeting", "list", "--format", "json", ok=True).json()}


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


class Gate(Inbox):
    """A server that stops inside the DATA of message `after` until the test lets it go,
    and says (an Event) when it got there: progress observed, never slept on."""

    def __init__(self, after: int):
        super().__init__()
        self.after, self.count = after, 0
        self.reached, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        if self.count == self.after:
            self.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def gated():
    from aiosmtpd.controller import Controller

    started = []

    def start(after):
        inbox, port = Gate(after), free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, auth_require_tls=False)
        controller.start()
        started.append((controller, inbox))
        return inbox, port

    yield start
    for controller, inbox in started:
        inbox.release.set()
        controller.stop()


# 1. A folder per meeting ---------------------------------------------------------------------

def test_meetings_on_one_day_with_titles_alike_never_share_a_folder(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet)  # meeting 1: 2027-02-09 10:00, the default title
    place = ("--location", "Leith Library")
    tanet("meeting", "add", "2027-02-09", "--time", "14:00", *place, ok=True)  # the default title again
    tanet("meeting", "add", "2027-02-09", "--time", "16:00", "--title", "Network meeting!", *place, ok=True)
    tanet("meeting", "add", "2027-02-09", "--time", "18:00", "--title", "network meeting?", *place, ok=True)
    for meeting in "1234":
        tanet("invite", meeting, ok=True)
    folders = sorted(p.name for p in (tmp_path / "invites").iterdir())
    assert folders == ["2027-02-09-1000-lothian-tip-network-meeting-1", "2027-02-09-1400-lothian-tip-network-meeting-2",
                       "2027-02-09-1600-network-meeting-3", "2027-02-09-1800-network-meeting-4"]
    # Every outbox row points at a file holding its own meeting's invitation.
    known = uids(tanet)
    rows = outbox(tanet)
    assert len(rows) == 12
    for row in rows:
        assert uid_of(parse(row["file"])) == known[row["meeting_id"]]
    # Re-running a meeting finds its folder again and replaces it whole.
    before = digest(tmp_path / "invites" / folders[0])
    r = tanet("invite", "1", ok=True)
    assert str(tmp_path / "invites" / folders[0]) in r.stdout
    assert sorted(digest(tmp_path / "invites" / folders[0])) == sorted(before)
    assert len(list((tmp_path / "invites").iterdir())) == 4


def test_a_second_meeting_written_while_the_first_is_sending_is_never_sent_as_it(cli_env, tmp_path, gated):
    inbox, port = gated(after=1)

    def run(*args):
        return subprocess.run(TANET + [str(a) for a in args], env=cli_env, cwd=tmp_path, capture_output=True,
                              text=True, check=True)

    run("init", "--organiser-name", "Alex Morgan", "--organiser-email", "coordinator@example.org")
    for i in range(4):
        run("member", "add", f"Person {i}", "--email", f"p{i}@example.org", "--org", "O", "--area", "housing",
            "--sector", "public", "--role", "frontline", "--joined", "2025-01-01")
    run("meeting", "add", "2027-02-09", "--location", "Leith Library")
    run("meeting", "add", "2027-02-09", "--time", "14:00", "--location", "Leith Library")  # same title
    for key, value in (("smtp.host", "127.0.0.1"), ("smtp.port", port), ("smtp.security", "none")):
        run("config", "set", key, value)
    sender = subprocess.Popen(TANET + ["invite", "1", "--send"], env=cli_env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert inbox.reached.wait(60), "the first message never reached the server"
        run("invite", "2")  # while meeting 1's run is inside its first message
    finally:
        inbox.release.set()
    out, err = sender.communicate(timeout=60)
    assert sender.returncode == 0, err
    meetings = {m["id"]: m["uid"] for m in json.loads(run("meeting", "list", "--format", "json").stdout)}
    assert sorted(rcpt for rcpt, _ in inbox.messages) == [f"p{i}@example.org" for i in range(4)]
    assert {uid_of(msg) for _, msg in inbox.messages} == {meetings[1]}


# 2. tanet removes only files it wrote ------------------------------------------------------

def test_a_folder_of_the_coordinators_own_files_is_left_alone(tanet, tmp_path):
    network(tanet)
    folder = tmp_path / "r"
    folder.mkdir()
    for source in [*sorted((EXAMPLES / "replies").glob("*.eml")), EXAMPLES / "school-holidays.ics"]:
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "family.ics").write_text("x\n")
    before = digest(folder)
    r = tanet("invite", "next", "-o", folder, ok=False)
    assert len(r.stderr.strip().splitlines()) == 1 and "deleted nothing" in r.stderr
    assert "holds other files (01-outlook-accept.eml, 02-outlook-decline-with-note.eml, " in r.stderr
    assert digest(folder) == before and len(before) == 6
    assert outbox(tanet) == []


def test_a_folder_holding_another_meetings_messages_is_left_alone(tanet, tmp_path):
    network(tanet)
    tanet("meeting", "add", "2027-02-09", "--time", "14:00", "--location", "Leith Library", ok=True)
    folder = tmp_path / "shared"
    tanet("invite", "1", "-o", folder, ok=True)
    before = digest(folder)
    r = tanet("invite", "2", "-o", folder, ok=False)
    assert "holds meeting #1's invitations, not meeting #2's" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert digest(folder) == before
    assert {row["meeting_id"] for row in outbox(tanet)} == {1}
    r = tanet("remind", "1", "-o", folder, ok=False)  # not even the same meeting's reminders
    assert "holds meeting #1's invitations, not meeting #1's reminders" in r.stderr and digest(folder) == before


def test_a_file_the_coordinator_put_in_place_of_a_draft_is_kept(tanet, tmp_path):
    network(tanet)
    tanet("invite", "1", "-o", tmp_path / "a", ok=True)
    amina = next((tmp_path / "a").glob("*amina*.eml"))
    amina.write_bytes(b"Subject: my own edited draft\r\n\r\nHello Amina, see you there.\r\n")
    tanet("meeting", "move", "1", "--to", "2027-02-10", ok=True)
    tanet("invite", "1", "-o", tmp_path / "b", ok=True)
    # tanet's own drafts in the old folder are gone; the coordinator's file is not.
    assert [p.name for p in (tmp_path / "a").iterdir() if not p.name.startswith(".")] == [amina.name]
    assert amina.read_bytes().startswith(b"Subject: my own edited draft")
    assert len(list((tmp_path / "b").glob("*.eml"))) == 3


def test_a_folder_written_by_a_run_whose_record_was_lost_is_still_tanets(tanet, tmp_path, own_database):
    """Killed after the folder was renamed into place but before the database committed:
    the folder's manifest still says whose it is, so the same command replaces it."""
    network(tanet)
    folder = tmp_path / "inv"
    tanet("invite", "1", "-o", folder, ok=True)
    with sqlite3.connect(own_database) as db:
        db.execute("DELETE FROM outbox")
    assert json.loads((folder / ".tanet-files").read_text())["owner"] == "meeting #1's invitations"
    tanet("invite", "1", "-o", folder, ok=True)
    assert len(list(folder.glob("*.eml"))) == 3 and len(outbox(tanet)) == 3
    (folder / "notes.txt").write_text("mine")
    assert "holds other files (notes.txt)" in tanet("invite", "1", "-o", folder, ok=False).stderr


def test_every_file_the_outbox_points_at_holds_that_rows_message(tanet, tmp_path):
    network(tanet)
    folder = tmp_path / "inv"
    tanet("invite", "1", "-o", folder, ok=True)
    tanet("meeting", "edit", "1", "--location", "Leith Academy", ok=True)  # a new version, the same file names
    tanet("invite", "1", "-o", folder, ok=True)
    rows = outbox(tanet, "1")
    assert [r["file"] for r in rows if r["sequence"] == 0] == [None, None, None]
    assert all(parse(r["file"])["Message-ID"] == r["message_id"] for r in rows if r["sequence"] == 1)


def test_an_old_folder_left_empty_by_a_move_is_tidied_away(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet)
    tanet("invite", "1", ok=True)
    tanet("meeting", "move", "1", "--to", "2027-02-10", ok=True)
    tanet("invite", "1", ok=True)
    assert [p.name for p in (tmp_path / "invites").iterdir()] == ["2027-02-10-1000-lothian-tip-network-meeting-1"]


# 3. --single: the organiser's copy, and organiser change keeps the mode --------------------------

def test_single_sends_the_organiser_their_copy_and_organiser_change_keeps_it_single(tanet, tmp_path, smtp,
                                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet, members=5)
    inbox, port = smtp()
    use_server(tanet, port)
    r = tanet("invite", "1", "--single", "--area", "education", "--send", ok=True)
    assert "Sent to 2 members, and your own copy." in r.stdout  # the organiser is not counted as a member
    assert sorted(rcpt for rcpt, _ in inbox.messages) == ["coordinator@example.org", "orla@example.org",
                                                         "zoe@example.org"]
    (copy,) = inbox.to("coordinator@example.org")
    assert copy["Bcc"] is None and [a.addr_spec for a in copy["To"].addresses] == ["coordinator@example.org"]
    assert calendar_of(copy)["METHOD"] == "PUBLISH"
    assert tanet("invite", "1", "--single", "--area", "education", "--send", ok=True)  # nothing new
    assert len(inbox.messages) == 3

    r = tanet("organiser", "change", "--name", "Sam Reid", "--email", "sam@example.org", "--send", ok=True)
    assert "Wrote 1 message (PUBLISH) for 2 members" in r.stdout
    new = inbox.messages[3:]
    assert sorted(rcpt for rcpt, _ in new) == ["orla@example.org", "sam@example.org", "zoe@example.org"]
    assert len({m["Message-ID"] for _, m in new}) == 1  # one message, the same Bcc list
    msg = new[0][1]
    cal = calendar_of(msg)
    event = cal.walk("VEVENT")[0]
    assert cal["METHOD"] == "PUBLISH" and event.get("ATTENDEE") is None and int(event["SEQUENCE"]) == 1
    assert str(event["ORGANIZER"]).lower() == "mailto:sam@example.org"


def test_organiser_change_of_a_per_member_meeting_stays_per_member(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet, members=5)
    tanet("meeting", "add", "2027-04-06", "--location", "Leith Library", ok=True)
    tanet("invite", "1", "--area", "education", ok=True)
    tanet("invite", "2", "--area", "justice", ok=True)  # Seán alone, who then leaves
    tanet("member", "leave", "sean@example.org", ok=True)
    r = tanet("organiser", "change", "--name", "Sam Reid", "--email", "sam@example.org", ok=True)
    assert "Meeting #2" not in r.stdout  # nobody left to tell: no update, and its version stays
    rows = [r for r in outbox(tanet) if r["sequence"] == 1 and r["kind"] != "cancellation"]
    assert sorted(r["email"] for r in rows) == ["orla@example.org", "zoe@example.org"]  # those invited, no one new
    assert {r["method"] for r in rows} == {"REQUEST"} and {r["kind"] for r in rows} == {"update"}
    assert {m["id"]: m["sequence"] for m in tanet("meeting", "list", "--format", "json", ok=True).json()} == {1: 1, 2: 0}


# 4. Leavers -----------------------------------------------------------------------------

def leaver_network(tanet):
    """Zoë was sent meetings 1 and 2 (ahead) and 3 (held); she facilitates 1 and 3."""
    network(tanet)
    tanet("meeting", "add", "2027-04-06", "--location", "Leith Library", ok=True)
    tanet("meeting", "add", "2026-10-06", "--location", "Leith Library", ok=True)
    for meeting in ("1", "2"):
        tanet("invite", meeting, ok=True)
    tanet("invite", "3", "--force", ok=True)
    tanet("meeting", "facilitate", "1", "zoe@example.org", "amina@example.org", ok=True)
    tanet("meeting", "facilitate", "3", "zoe@example.org", "sean@example.org", ok=True)


def facilitators(tanet, meeting):
    return sorted(f["email"] for f in tanet("meeting", "show", meeting, "--format", "json", ok=True).json()["facilitators"])


def test_a_leaver_is_sent_a_cancel_of_each_meeting_ahead_and_taken_off_the_rota(tanet, tmp_path, smtp,
                                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    inbox, port = smtp()
    use_server(tanet, port)
    r = tanet("member", "leave", "zoe@example.org", "--send", ok=True)
    assert ("Taken off the rota; now needing a facilitator in place of O'Brien, Zoë: meeting #1 on 2027-02-09."
            in r.stdout)
    assert {rcpt for rcpt, _ in inbox.messages} == {"zoe@example.org"} and len(inbox.messages) == 2
    known = uids(tanet)
    for meeting, (_, msg) in enumerate(inbox.messages):
        assert [a.addr_spec for a in msg["To"].addresses] == ["zoe@example.org"] and msg["Bcc"] is None
        assert msg["Subject"].startswith("Invitation withdrawn:")
        ics = msg.get_body(("calendar",)).get_payload(decode=True)
        cal = icalendar.Calendar.from_ical(ics)
        event = cal.walk("VEVENT")[0]
        assert cal["METHOD"] == "CANCEL" and str(event["UID"]) in known.values()
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert [str(a).lower() for a in attendees] == ["mailto:zoe@example.org"]
        assert int(event["SEQUENCE"]) == 1 and event.get("STATUS") is None  # raised; the meeting goes ahead
        path = tmp_path / f"{meeting}.ics"
        path.write_bytes(ics)
        assert libical_errors(path) == {str(path): []}
    assert facilitators(tanet, "1") == ["amina@example.org"]
    assert facilitators(tanet, "3") == ["sean@example.org", "zoe@example.org"]  # held: untouched
    rows = [r for r in outbox(tanet) if r["email"] == "zoe@example.org"]
    assert {(r["meeting_id"], r["kind"], r["method"], r["sequence"]) for r in rows if r["kind"] == "cancellation"} \
        == {(1, "cancellation", "CANCEL", 1), (2, "cancellation", "CANCEL", 1)}
    assert all(r["sent_at"] for r in rows if r["kind"] == "cancellation")
    # Later updates no longer go to her; the rest are not sent anything new by her leaving.
    tanet("meeting", "move", "1", "--to", "2027-02-10", ok=True)
    r = tanet("invite", "1", "--send", ok=True)
    assert "Wrote 2 updates (REQUEST)" in r.stdout
    assert sorted(rcpt for rcpt, _ in inbox.messages[2:]) == ["amina@example.org", "sean@example.org"]
    tanet("invite", "2", "--send", ok=True)  # the drafts written before she left: never hers
    assert sorted(rcpt for rcpt, _ in inbox.messages[4:]) == ["amina@example.org", "sean@example.org"]
    tanet("remind", "2", "--send", ok=True)
    assert sorted(rcpt for rcpt, _ in inbox.messages[6:]) == ["amina@example.org", "sean@example.org"]


def test_leave_without_send_writes_the_cancels_and_a_failed_send_can_be_retried(tanet, tmp_path, smtp,
                                                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    inbox, port = smtp(refuse=["zoe@example.org"])
    r = tanet("member", "leave", "zoe@example.org", "--on", "2027-03-01", ok=True)
    # Meeting 1 (2027-02-09) comes before she leaves: only meeting 2 is withdrawn.
    assert "Wrote 1 cancellation (CANCEL)" in r.stdout and "Taken off the rota" not in r.stdout
    (path,) = (tmp_path / "cancellations" / "member-2").glob("*.eml")
    assert path.name == "2027-04-06-1000-lothian-tip-network-meeting-2.eml"
    msg = parse(path)
    assert msg["X-Unsent"] == "1" and calendar_of(msg)["METHOD"] == "CANCEL"
    assert facilitators(tanet, "1") == ["amina@example.org", "zoe@example.org"]
    use_server(tanet, port)
    r = tanet("member", "leave", "zoe@example.org", "--send", ok=False)  # the server refuses her address
    assert "could not be sent" in r.stderr and inbox.messages == []
    inbox.refuse.clear()
    r = tanet("member", "leave", "zoe@example.org", "--send", ok=True)  # the same command sends what did not go
    assert [rcpt for rcpt, _ in inbox.messages] == ["zoe@example.org"]
    assert "already left" in tanet("member", "leave", "zoe@example.org", "--send", ok=False).stderr


def test_a_leave_that_cannot_write_its_cancels_changes_nothing(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    mine = tmp_path / "cancellations" / "member-2" / "mine.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("my own notes")
    r = tanet("member", "leave", "zoe@example.org", ok=False)
    assert "holds other files (mine.txt)" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert tanet("member", "show", "zoe@example.org", "--format", "json", ok=True).json()["left_on"] is None
    assert facilitators(tanet, "1") == ["amina@example.org", "zoe@example.org"]
    assert mine.read_text() == "my own notes" and [p.name for p in mine.parent.iterdir()] == ["mine.txt"]


def address_anywhere(folder: Path, address: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.name != "tanet.db" and address in p.read_bytes()]


def test_forget_sends_the_cancels_first_then_erases_them(tanet, tmp_path, smtp, monkeypatch, own_database):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    inbox, port = smtp()
    use_server(tanet, port)
    tanet("member", "forget", "zoe@example.org", "--yes", "--send", ok=True)
    assert sorted(uid_of(m) for m in inbox.to("zoe@example.org")) == sorted([uids(tanet)[1], uids(tanet)[2]])
    assert len(inbox.messages) == 2
    assert address_anywhere(tmp_path, b"zoe@example.org") == []
    with sqlite3.connect(own_database) as db:
        rows = db.execute("SELECT email, file FROM outbox WHERE member_id = 2 AND kind = 'cancellation'").fetchall()
    assert rows == [(None, None), (None, None)]
    assert facilitators(tanet, "1") == ["amina@example.org"]


def test_forget_with_a_cancel_refused_for_good_still_forgets(tanet, tmp_path, smtp, monkeypatch):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    inbox, port = smtp(refuse=["zoe@example.org"])
    use_server(tanet, port)
    tanet("member", "forget", "zoe@example.org", "--yes", "--send", ok=True)  # 550: the address takes no mail
    assert tanet("member", "show", "2", "--format", "json", ok=True).json()["email"] is None


def test_privacy_review_sends_the_cancels_before_forgetting(tanet, tmp_path, smtp, monkeypatch, own_database):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    with sqlite3.connect(own_database) as db:  # left under 0.2, long ago, with meetings still in her calendar
        db.execute("UPDATE members SET left_on = '2024-01-01' WHERE email = 'zoe@example.org'")
    inbox, port = smtp()
    use_server(tanet, port)
    done = tanet("privacy", "review", "--apply", "--send", "--format", "json", ok=True).json()
    assert done["members_due"] == [2] and done["members_forgotten"] == 1
    assert len(inbox.to("zoe@example.org")) == 2 and len(inbox.messages) == 2
    assert address_anywhere(tmp_path, b"zoe@example.org") == []


def test_forget_asks_to_send_the_cancellations_first(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    asked = tanet("member", "forget", "zoe@example.org", ok=False).stderr
    assert "--yes --send" in asked and "cannot be sent once their address is erased" in asked
    r = tanet("member", "forget", "zoe@example.org", "--yes", ok=True)
    assert "Not sent" in r.stderr  # written without --send, and erased with the rest
    assert tanet("member", "show", "2", "--format", "json", ok=True).json()["email"] is None


def test_a_leavers_unsent_invitation_drafts_go(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    drafts = lambda: sorted(p.name for p in tmp_path.glob("invites/*/*.eml") if "zo" in p.name)  # noqa: E731
    assert len(drafts()) == 3  # Zoë's invitations were written: two meetings ahead, one held
    tanet("member", "leave", "zoe@example.org", ok=True)
    assert len(drafts()) == 1  # the held meeting's is untouched
