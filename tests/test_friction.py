"""What a new coordinator tripped over in a first year: the help, the screen, finding
people, free-text sign-up sheets, guests, follow-ups, addresses, the round."""

import os
import pty
import sqlite3
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import FIXTURES, TANET, add_member

from tanet.output.table import width

ROOT = Path(__file__).resolve().parent.parent


def test_help_names_values_in_peoples_words(tanet):
    out = tanet("member", "add", "--help", ok=True).stdout
    assert "Usage: tanet member add [OPTIONS] NAME" in out
    assert "--email ADDRESS" in out and "--joined DATE" in out and "<str>" not in out and "{NAME}" not in out
    plan = tanet("meeting", "plan", "--help", ok=True).stdout
    assert "--start DATE" in plan and "--count N" in plan and "--time HH:MM" in plan
    assert "table or json" in tanet("attendance", "import", "--help", ok=True).stdout


@pytest.mark.parametrize("columns", [80, 100])
def test_lists_fit_the_terminal_and_never_break_dates_or_addresses(tanet, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    tanet("init", "--network", "Lothian Trauma-Informed Practice Network", ok=True)
    tanet("member", "import", ROOT / "examples" / "members.csv", ok=True)
    tanet("meeting", "plan", "--start", "2027-01-12", "--count", "4", "--location",
          "Community Room, Leith Library, 28 Ferry Road", ok=True)
    members = tanet("member", "list", "--format", "json", ok=True).json()
    for args in (["member", "list"], ["meeting", "list"]):
        out = tanet(*args, ok=True).stdout
        assert max(width(line) for line in out.splitlines()) <= columns, args
    out = tanet("member", "list", ok=True).stdout
    assert all(m["email"] in out for m in members)
    meetings = tanet("meeting", "list", ok=True).stdout
    assert "Every meeting's title: Lothian Trauma-Informed Practice Network meeting" in meetings
    assert all(d in meetings for d in ("2027-01-12", "2027-03-09"))


def test_names_are_found_without_accents_or_case(tanet):
    add_member(tanet, "Zoë Ferreira", "zoe@example.org")
    add_member(tanet, "Jamila García", "jamila@example.org")
    add_member(tanet, "Łukasz Munro", "lukasz@example.org")
    for typed, name in (("zoe ferreira", "Zoë Ferreira"), ("Jamila Garcia", "Jamila García"),
                        ("Lukasz Munro", "Łukasz Munro"), ("ZOË", "Zoë Ferreira")):
        assert tanet("member", "show", typed, "--format", "json", ok=True).json()["name"] == name


def test_a_date_with_only_a_cancelled_meeting_finds_it_for_show_and_invite(tanet, tmp_path):
    tanet("init", "--organiser-email", "c@example.org", ok=True)
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2027-05-04", "--location", "x", ok=True)
    tanet("invite", "2027-05-04", "-o", tmp_path / "i", ok=True)  # a cancellation is for those who had it
    tanet("meeting", "cancel", "2027-05-04", "--reason", "Strike day", ok=True)
    assert tanet("meeting", "show", "2027-05-04", "--format", "json", ok=True).json()["status"] == "cancelled"
    assert "cancellation" in tanet("invite", "2027-05-04", "-o", tmp_path / "c", ok=True).stdout


def test_sign_up_sheets_in_their_own_words(tanet, tmp_path):
    sheet = tmp_path / "signups.csv"
    sheet.write_text("Name,Email,Service area,Sector,Role\n"
                     "Ann Able,ann@example.org,Schools,Public,Teacher\n"
                     "Ben Bold,ben@example.org,Youth work,Third,Youth worker\n"
                     "Cat Crane,cat@example.org,Primary school,Public,Head teacher\n")
    r = tanet("member", "import", sheet, ok=False)
    assert "'Youth work' is not a service area" in r.stderr and "tanet area alias" in r.stderr
    tanet("area", "alias", "Youth work", "social work", ok=True)
    tanet("member", "import", sheet, ok=True)
    got = {m["name"]: (m["service_area"], m["role"]) for m in tanet("member", "list", "--format", "json", ok=True).json()}
    assert got == {"Ann Able": ("education", "frontline"), "Ben Bold": ("social work", "frontline"),
                   "Cat Crane": ("education", "senior-leader")}
    other = tmp_path / "more.csv"
    other.write_text("Name,Email,Service area,Role\nDan Dune,dan@example.org,housing,Caretaker\n")
    assert "--map role:" in tanet("member", "import", other, ok=False).stderr
    tanet("member", "import", other, "--map", "role:Caretaker=other", ok=True)
    assert tanet("member", "show", "Dan Dune", "--format", "json", ok=True).json()["role"] == "other"
    assert "KIND:WORD=VALUE" in tanet("member", "import", other, "--map", "nonsense", ok=False).stderr


def test_a_guest_speaker_in_the_teams_report_is_a_guest(tanet):
    tanet("member", "import", FIXTURES / "members-signup-form.csv", ok=True)
    tanet("meeting", "add", "2024-05-14", "--time", "10:00", ok=True)
    names = [line.split("\t")[0] for line in
             (FIXTURES / "teams-attendance-2024-05-14.csv").read_bytes().decode("utf-16").splitlines()]
    guest = next(n for n in names if "(Guest)" in n or "(External)" in n or "(Unverified)" in n)
    clean = guest.split(" (")[0]
    tanet("session", "add", "1", "--kind", "guest", "--title", "Talk", "--guest", clean.upper(), ok=True)
    r = tanet("attendance", "import", "1", FIXTURES / "teams-attendance-2024-05-14.csv", "--format", "json", ok=True)
    assert [g["name"] for g in r.json()["guests"]] == [clean]
    assert clean not in [n["name"] for n in r.json()["not_members"]]


def test_follow_ups_outside_a_check_in(tanet):
    add_member(tanet, "Ann Able", "ann@example.org")
    add_member(tanet, "Ben Bold", "ben@example.org")
    tanet("followup", "add", "Ann", "--about", "Call about the referral", "--owner", "Ben", "--due", "2026-12-01",
          ok=True)
    [f] = tanet("followup", "list", "--open", "--format", "json", ok=True).json()
    assert (f["name"], f["about"], f["owner"], f["due_on"], f["meeting_id"]) == (
        "Ann Able", "Call about the referral", "Ben Bold", "2026-12-01", None)
    assert "Call about the referral" in tanet("followup", "list", ok=True).stdout
    assert "passed" in tanet("followup", "add", "Ann", "--about", "x", "--due", "2026-01-01", ok=False).stderr


def test_the_handover_page_says_who_has_each_open_follow_up_and_by_when(tanet, tmp_path):
    add_member(tanet, "Ann Able", "ann@example.org")
    add_member(tanet, "Ben Bold", "ben@example.org")
    tanet("followup", "add", "Ann", "--about", "Call about the referral", "--owner", "Ben", "--due", "2026-12-01",
          ok=True)
    tanet("config", "set", "organiser.name", "Alex Morgan", ok=True)
    tanet("config", "set", "organiser.email", "alex@example.org", ok=True)
    tanet("handover", "-o", tmp_path / "pack", ok=True)
    page = (tmp_path / "pack" / "index.html").read_text(encoding="utf-8")
    section = page[page.index('id="follow-ups"'):]
    section = section[:section.index("</section>")]
    assert "Who has it" in section and "Due by" in section
    row = section[section.index("Ann Able"):]
    row = row[:row.index("</tr>")]
    assert "Ben Bold" in row and "2026-12-01" in row
    assert "Call about the referral" not in page  # what it is about stays in tanet.db, as the notes do


def test_addresses_to_paste_into_bcc(tanet):
    add_member(tanet, "Ann Able", "ann@example.org", "education")
    add_member(tanet, "O'Brien, Zoë", "zoe@example.org", "housing")
    r = tanet("member", "export", "--format", "addresses", ok=True)
    assert r.stdout.strip() == 'Ann Able <ann@example.org>; "O\'Brien, Zoë" <zoe@example.org>'
    assert "Bcc" in r.stderr
    assert tanet("member", "export", "--format", "addresses", "--area", "education", ok=True).stdout.strip() == \
        "Ann Able <ann@example.org>"


def test_english_not_parentheses(tanet):
    add_member(tanet, "Ann Able", "ann@example.org")
    tanet("resource", "add", "Risk model", ok=True)
    assert "adopted by 1 organisation." in tanet("resource", "adopt", "1", "--org", "City Council", ok=True).stdout


def test_a_round_skips_on_enter_and_jumps_to_a_name(cli_env):
    run = lambda *a: subprocess.run(TANET + list(a), env=cli_env, check=True, capture_output=True)  # noqa: E731
    run("init")
    for i, name in enumerate(["Ann Able", "Ben Bold", "Cat Crane"]):
        run("member", "add", name, "--email", f"m{i}@example.org", "--org", "Org", "--area", "housing",
            "--sector", "public", "--role", "frontline", "--joined", "2025-01-01")
    run("meeting", "add", "2026-11-03")
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.clear()
        os.environ.update(cli_env)
        os.execv(sys.executable, TANET + ["checkin", "round", "1"])
    from test_attendance import Screen

    screen = Screen(fd)
    screen.wait_for("Ann Able")
    os.write(fd, b"\n")  # a stray Enter: skipped, nothing recorded
    screen.wait_for("Ben Bold")
    os.write(fd, b"crane\n")  # jump to Cat
    screen.wait_for("Cat Crane")
    os.write(fd, b"y\n")
    screen.wait_for("Note")
    os.write(fd, b"\n")
    screen.wait_for("Follow-up")
    os.write(fd, b"n\n")
    screen.wait_for("Ben Bold")
    os.write(fd, b"q\n")
    screen.wait_for("Round finished")
    os.waitpid(pid, 0)
    with sqlite3.connect(cli_env["TANET_DB"]) as c:
        rows = c.execute("SELECT mb.name, a.status FROM attendance a JOIN members mb ON mb.id = a.member_id").fetchall()
    assert rows == [("Cat Crane", "present")]


def test_present_before_the_day_says_how(tanet):
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2027-01-12", ok=True)
    assert "tanet attendance mark 1 MEMBER --status apologies" in tanet("attendance", "mark", "1", "Ann",
                                                                        ok=False).stderr


def test_the_rota_respects_recorded_availability(tanet):
    people = [("Tess Teacher", "tess@example.org", "education", "public"),
              ("Hal Housing", "hal@example.org", "housing", "third"),
              ("Jo Justice", "jo@example.org", "justice", "public"),
              ("Sam Social", "sam@example.org", "social work", "third")]
    for name, address, area, sector in people:
        add_member(tanet, name, address, area, sector, "frontline", "Org", "--joined", "2025-01-01")
    tanet("availability", "set", "Tess", "--busy", "mon-fri 09:00-16:00", ok=True)
    tanet("meeting", "add", "2027-01-12", "--time", "10:00", ok=True)  # a Tuesday morning
    tanet("meeting", "add", "2027-03-09", "--time", "16:15", ok=True)  # after school
    rota = tanet("meeting", "rota", "--count", "2", "--format", "json", ok=True).json()
    first = {f["name"] for f in rota[0]["facilitators"]}
    assert "Tess Teacher" not in first
    assert "Tess Teacher" in {f["name"] for f in rota[1]["facilitators"]}  # free after school, used least


@pytest.mark.registry
def test_the_install_line_builds_without_deprecation_and_puts_tanet_on_path(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    r = subprocess.run([str(env_dir / "bin" / "pip"), "install", str(clone)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Deprecat" not in r.stdout + r.stderr, (r.stdout + r.stderr)[-3000:]
    assert subprocess.run([str(env_dir / "bin" / "tanet"), "--version"], capture_output=True, text=True,
                          check=True).stdout.startswith("tanet ")


def test_the_demo_prints_next_commands_that_work_in_this_shell(tmp_path, cli_env):
    tanet_script = Path(sys.executable).parent / "tanet"
    env = {k: v for k, v in cli_env.items() if k != "TANET_DB"}
    env["PATH"] = "/usr/bin:/bin"  # a fresh shell: the project's venv is not on PATH
    r = subprocess.run([os.path.relpath(tanet_script, ROOT), "demo", "--db", str(tmp_path / "demo.db")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    tries = [line.strip() for line in r.stdout.splitlines() if "--db" in line and "member list" in line]
    assert tries, r.stdout[-500:]
    program = tries[0].split(" --db ")[0]
    assert (ROOT / program).exists() or Path(program).exists(), program
    check = subprocess.run(tries[0].split(), cwd=ROOT, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def tour_commands() -> list[str]:
    """Every `tanet` command of the README's tour, in order, continuation lines joined."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = text[text.index("## A tour for the coordinator"):text.index("## Data protection")]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", tour, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip()
            if not line.startswith("tanet "):
                continue
            if any(mark in line for mark in ("needs your mail server", "needs your mailbox", "in a terminal")):
                continue
            commands.append(line)
    return commands


def test_the_readme_tour_runs_as_written(tmp_path):
    import shlex

    shutil_copy = __import__("shutil").copytree
    shutil_copy(ROOT / "examples", tmp_path / "examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANET_")}
    env.update(TANET_DB=str(tmp_path / "tour.db"), COLUMNS="100")  # on the day the test runs
    commands = tour_commands()
    assert len(commands) > 30
    for line in commands:
        args = shlex.split(line, comments=True)
        r = subprocess.run([sys.executable, "-m", "tanet", *args[1:]], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, f"{line}\n{r.stdout[-800:]}\n{r.stderr[-800:]}"
    assert (tmp_path / "network-handover" / "index.html").exists()
    assert (tmp_path / "summary.html").exists() and (tmp_path / "network.ics").exists()
