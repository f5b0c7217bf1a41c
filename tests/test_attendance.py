"""Check-ins, attendance, Teams reports, registers and follow-ups."""

import codecs
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import FIXTURES, TANET, add_member


def _signup_members(tanet, own_database, joined="2020-01-01"):
    tanet("member", "import", FIXTURES / "members-signup-form.csv", ok=True)
    with sqlite3.connect(own_database) as c:
        c.execute("UPDATE members SET joined_on = ?, consent_on = ?", [joined, joined])


def test_teams_2024_layout(tanet, own_database):
    _signup_members(tanet, own_database)
    tanet("meeting", "add", "2024-05-14", ok=True)
    r = tanet("attendance", "import", "2024-05-14", FIXTURES / "teams-attendance-2024-05-14.csv",
              "--format", "json", ok=True).json()
    assert r["layout"] == "teams" and r["report_date"] == "2024-05-14"
    assert len(r["matched"]) == 31 and r["changed"] == 31
    assert {x["matched_by"] for x in r["matched"]} == {"e-mail"}
    assert r["organisers"] == [{"name": "Network Coordinator", "email": "coordinator@citycouncil.org.uk"}]
    assert r["not_members"] == [{"name": "Dr Harriet Vale", "email": "h.vale@selfharmnetwork.example",
                                 "why": "no member has the e-mail h.vale@selfharmnetwork.example, and no member "
                                        "has this name"}]
    assert tanet("meeting", "show", "1", "--format", "json", ok=True).json()["present"] == 31
    # Re-importing the same report changes nothing.
    again = tanet("attendance", "import", "1", FIXTURES / "teams-attendance-2024-05-14.csv", "--format", "json", ok=True).json()
    assert again["changed"] == 0 and len(again["matched"]) == 31
    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT count(*) FROM attendance").fetchone()[0] == 31


def test_teams_legacy_layout_with_us_dates(tanet, own_database):
    _signup_members(tanet, own_database)
    tanet("meeting", "add", "2021-03-09", "--time", "14:00", ok=True)
    r = tanet("attendance", "import", "1", FIXTURES / "teams-attendance-2021-03-09.csv", "--format", "json", ok=True).json()
    assert (r["layout"], r["report_date"]) == ("teams-legacy", "2021-03-09")
    assert len(r["matched"]) == 22 and len(r["organisers"]) == 1 and r["not_members"] == []


def test_report_for_another_meeting_is_refused(tanet, own_database):
    _signup_members(tanet, own_database)
    tanet("meeting", "add", "2024-05-21", ok=True)
    r = tanet("attendance", "import", "1", FIXTURES / "teams-attendance-2024-05-14.csv", ok=False)
    assert "is the report of a meeting on 2024-05-14" in r.stderr and "--force" in r.stderr
    tanet("attendance", "import", "1", FIXTURES / "teams-attendance-2024-05-14.csv", "--force", ok=True)
    # The 2021 report on 9 March must not be read as 3 September.
    tanet("meeting", "add", "2021-09-03", ok=True)
    assert "2021-03-09" in tanet("attendance", "import", "2", FIXTURES / "teams-attendance-2021-03-09.csv", ok=False).stderr


def test_plain_csv_matches_by_email_then_exact_name(tanet, own_database, tmp_path):
    _signup_members(tanet, own_database)
    tanet("meeting", "add", "2026-11-03", ok=True)
    path = tmp_path / "attendees.csv"
    text = "Name,Email\nNiamh Bell,NIAMH.BELL@nhslothian.org.uk\nOskar Mensah,\nSomeone New,new.person@example.org\nNo Email Person,\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    r = tanet("attendance", "import", "1", path, "--format", "json", ok=True).json()
    assert [(x["name"], x["matched_by"]) for x in r["matched"]] == [("Niamh Bell", "e-mail"), ("Oskar Mensah", "name")]
    assert [x["name"] for x in r["not_members"]] == ["Someone New", "No Email Person"]
    r = tanet("attendance", "import", "1", path, "--add-unknown", "--format", "json", ok=True).json()
    assert [x["name"] for x in r["added"]] == ["Someone New"]
    new = tanet("member", "show", "new.person@example.org", "--format", "json", ok=True).json()
    assert (new["service_area"], new["sector"], new["role"], new["joined_on"]) == ("other", "other", "other", "2026-11-03")
    assert tanet("meeting", "show", "1", "--format", "json", ok=True).json()["present"] == 3


def test_dry_run_saves_nothing(tanet, own_database):
    _signup_members(tanet, own_database)
    tanet("meeting", "add", "2024-05-14", ok=True)
    r = tanet("attendance", "import", "1", FIXTURES / "teams-attendance-2024-05-14.csv", "--dry-run", ok=True)
    assert "Dry run" in r.stdout
    assert tanet("meeting", "show", "1", "--format", "json", ok=True).json()["present"] == 0


def test_unreadable_reports(tanet, tmp_path):
    tanet("meeting", "add", "2026-11-03", ok=True)
    odd = tmp_path / "odd.csv"
    odd.write_text("Date,Topic\n2026-11-03,Network\n")
    assert "Name and Email" in tanet("attendance", "import", "1", odd, ok=False).stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "is empty" in tanet("attendance", "import", "1", empty, ok=False).stderr
    binary = tmp_path / "report.xlsx"
    binary.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 10)
    assert "not a text file" in tanet("attendance", "import", "1", binary, ok=False).stderr
    assert "There is no file" in tanet("attendance", "import", "1", tmp_path / "missing.csv", ok=False).stderr


def test_mark_rules(tanet):
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    add_member(tanet, "Gone Person", "gone@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("member", "leave", "Gone", "--on", "2026-03-01", ok=True)
    tanet("meeting", "add", "2026-11-03", ok=True)
    tanet("meeting", "add", "2027-01-12", ok=True)
    tanet("meeting", "add", "2026-09-08", ok=True)
    tanet("meeting", "cancel", "3", ok=True)
    tanet("attendance", "mark", "1", "Ann", ok=True)
    assert "left the network on 2026-03-01" in tanet("attendance", "mark", "1", "Gone", ok=False).stderr
    assert "No member" in tanet("attendance", "mark", "1", "Nobody", ok=False).stderr
    assert "in the future" in tanet("attendance", "mark", "2", "Ann", ok=False).stderr
    tanet("attendance", "mark", "2", "Ann", "--status", "apologies", ok=True)
    assert "cancelled" in tanet("attendance", "mark", "3", "Ann", ok=False).stderr
    rows = tanet("attendance", "show", "2", "--format", "json", ok=True).json()
    assert rows == [{"member_id": 1, "name": "Ann Able", "email": "ann@example.org", "service_area": "housing",
                     "sector": "public", "status": "apologies", "checked_in": False}]
    assert tanet("attendance", "mark", "1", "Ann", "--status", "late").exit_code == 2


def test_register_lists_everyone_active(tanet):
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    add_member(tanet, "Ben Bold", "ben@example.org", "education", "third", "frontline", "Org", "--joined", "2025-01-01")
    add_member(tanet, "Cat Late", "cat@example.org", "education", "third", "frontline", "Org", "--joined", "2026-11-20")
    tanet("meeting", "add", "2026-11-03", ok=True)
    tanet("checkin", "record", "1", "Ann", "--note", "Tired after a hard week", ok=True)
    reg = tanet("attendance", "show", "1", "--register", "--format", "json", ok=True).json()
    assert [(r["name"], r["status"], r["checked_in"]) for r in reg] == [("Ann Able", "present", True),
                                                                         ("Ben Bold", "none", False)]
    csv_out = tanet("attendance", "show", "1", "--register", "--format", "csv", ok=True).stdout
    assert csv_out.splitlines()[0] == "member_id,name,email,service_area,sector,status,checked_in"


def test_checkins_and_followups(tanet):
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2026-11-03", ok=True)
    tanet("checkin", "record", "last", "ann@example.org", "--note", "Struggling with caseload", "--follow-up", ok=True)
    rows = tanet("checkin", "list", "1", "--format", "json", ok=True).json()
    assert (rows[0]["note"], rows[0]["follow_up"]) == ("Struggling with caseload", True)
    assert tanet("meeting", "show", "1", "--format", "json", ok=True).json()["present"] == 1
    f = tanet("followup", "list", "--open", "--format", "json", ok=True).json()
    assert f == [{"id": 1, "meeting_id": 1, "member_id": 1, "name": "Ann Able", "raised_on": "2026-11-25",
                  "closed_on": None, "note": None, "about": None, "owner": None, "due_on": None}]
    tanet("followup", "close", "1", "--note", "Called, linked with supervisor", ok=True)
    assert tanet("followup", "list", "--open", "--format", "json", ok=True).json() == []
    assert tanet("followup", "list", "--format", "json", ok=True).json()[0]["closed_on"] == "2026-11-25"
    tanet("followup", "close", "1", ok=False)
    # Check-in notes never leave through the member export.
    assert "Struggling" not in tanet("member", "export", ok=True).stdout
    shown = tanet("member", "show", "Ann", "--format", "json", ok=True).json()
    assert shown["checkins"][0]["note"] == "Struggling with caseload"
    tanet("member", "forget", "Ann", "--yes", ok=True)
    assert tanet("checkin", "list", "1", "--format", "json", ok=True).json()[0]["note"] is None


def test_round_refuses_without_a_terminal(tanet):
    tanet("meeting", "add", "2026-11-03", ok=True)
    r = tanet("checkin", "round", "1", input="y\n", ok=False)
    assert "needs a terminal" in r.stderr and "checkin record" in r.stderr


class Screen:
    """What the program wrote to the pseudo-terminal; waits consume it in order."""

    def __init__(self, fd):
        self.fd, self.buf, self.pos = fd, b"", 0

    def wait_for(self, text, timeout=60):
        """Until the screen shows `text` (the timeout is only a guard against a hang)."""
        want = text.encode()
        end = time.monotonic() + timeout
        while (i := self.buf.find(want, self.pos)) < 0:
            if time.monotonic() > end:
                raise AssertionError(f"did not see {text!r} in {self.buf[self.pos:].decode(errors='replace')!r}")
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    self.buf += os.read(self.fd, 4096)
                except OSError:
                    time.sleep(0.05)
        seen = self.buf[self.pos:i + len(want)].decode(errors="replace")
        self.pos = i + len(want)
        return seen


def wait_until_reading(pid, timeout=60):
    """Wait until the process sleeps waiting for input. A Ctrl-C that lands just before
    readline starts waiting is only acted on at the next key (CPython's readline checks for
    signals when its wait is interrupted), so the test types it only once the wait began."""
    end = time.monotonic() + timeout
    while True:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        wchan = Path(f"/proc/{pid}/wchan").read_text()
        if state == "S" and any(w in wchan for w in ("poll", "select", "tty_read", "wait_woken")):
            return
        assert time.monotonic() < end, f"process {pid} never waited for input ({state}, {wchan})"
        time.sleep(0.01)


def _spawn_round(cli_env):
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(sys.executable, TANET + ["checkin", "round", "1"], {**cli_env, "NO_COLOR": "1", "COLUMNS": "200"})
    return pid, fd


def _setup_round(cli_env):
    run = lambda *a: subprocess.run(TANET + list(a), env=cli_env, check=True, capture_output=True)  # noqa: E731
    for i, name in enumerate(["Ann Able", "Ben Bold", "Cat Crane", "Dan Dune"]):
        run("member", "add", name, "--email", f"m{i}@example.org", "--org", "Org", "--area", "housing",
            "--sector", "public", "--role", "frontline", "--joined", "2025-01-01")
    run("meeting", "add", "2026-11-03")
    run("attendance", "mark", "1", "Dan", "--status", "apologies", "--")


def test_round_in_a_terminal_saves_each_answer_and_survives_ctrl_c(cli_env):
    _setup_round(cli_env)
    pid, fd = _spawn_round(cli_env)
    screen = Screen(fd)
    screen.wait_for("3 to go")
    screen.wait_for("Ann Able")
    os.write(fd, b"y\n")
    screen.wait_for("Note")
    os.write(fd, "Better this month, café helped\n".encode())
    screen.wait_for("Follow-up")
    os.write(fd, b"y\n")
    screen.wait_for("What about")
    os.write(fd, "Chase supervision cover, café staff\n".encode())
    screen.wait_for("Ben Bold")
    os.write(fd, b"a\n")
    screen.wait_for("Cat Crane")
    wait_until_reading(pid)
    os.write(fd, b"\x03")  # Ctrl-C in the middle of the round
    out = screen.wait_for("Stopped")
    out += screen.wait_for("saved")
    os.waitpid(pid, 0)
    assert "saved" in out
    with sqlite3.connect(cli_env["TANET_DB"]) as c:
        rows = c.execute("SELECT mb.name, a.status FROM attendance a JOIN members mb ON mb.id = a.member_id "
                         "ORDER BY mb.name").fetchall()
        assert rows == [("Ann Able", "present"), ("Ben Bold", "apologies"), ("Dan Dune", "apologies")]
        assert c.execute("SELECT note FROM checkins").fetchall() == [("Better this month, café helped",)]
        assert c.execute("SELECT about FROM followups").fetchall() == [("Chase supervision cover, café staff",)]
    # Running the round again carries on with who is left.
    pid, fd = _spawn_round(cli_env)
    screen = Screen(fd)
    screen.wait_for("1 to go")
    screen.wait_for("Cat Crane")
    os.write(fd, b"n\n")
    screen.wait_for("Round finished")
    os.waitpid(pid, 0)


def test_report_counts_members_whose_sign_up_date_is_later(tanet):
    # The sign-up sheet's dates are later than the 2024 meeting: the report is the evidence.
    tanet("member", "import", FIXTURES / "members-signup-form.csv", ok=True)
    tanet("member", "leave", "niamh.bell@nhslothian.org.uk", "--on", "2025-06-01", ok=True)
    tanet("meeting", "add", "2024-05-14", ok=True)
    r = tanet("attendance", "import", "1", FIXTURES / "teams-attendance-2024-05-14.csv", "--format", "json", ok=True).json()
    assert len(r["matched"]) == 31  # Niamh Bell left in 2025, after this meeting: she counts
    assert r["not_active"] == [] and len(r["backdated"]) == 31
    oskar = next(b for b in r["backdated"] if b["name"] == "Oskar Mensah")
    assert (oskar["joined_on_was"], oskar["joined_on"]) == ("2024-11-06", "2024-05-14")
    assert tanet("member", "show", "Oskar Mensah", "--format", "json", ok=True).json()["joined_on"] == "2024-05-14"
    assert tanet("member", "show", "Oskar Mensah", "--format", "json", ok=True).json()["consent_on"] == "2024-11-06"


def test_report_does_not_count_members_who_had_left(tanet, own_database):
    _signup_members(tanet, own_database)
    tanet("member", "leave", "oskar.mensah@policescotland.org.uk", "--on", "2024-05-01", ok=True)
    tanet("meeting", "add", "2024-05-14", ok=True)
    r = tanet("attendance", "import", "1", FIXTURES / "teams-attendance-2024-05-14.csv", "--format", "json", ok=True).json()
    assert len(r["matched"]) == 30
    assert [(x["name"], x["left_on"]) for x in r["not_active"]] == [("Oskar Mensah", "2024-05-01")]
