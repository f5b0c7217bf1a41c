"""The coordinator's second year, the rest: the README tour on any day, Teams imports that say what
they understood, members who are not all ambassadors, `member add` naming every missing option,
privacy review by name, and mail settings that say what was used."""

import os
import shlex
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from servers import Inbox, free_port, use_server
from test_friction import tour_commands
from test_outbox import network

ROOT = Path(__file__).resolve().parent.parent


def run_tour(tmp_path: Path, today: str | None) -> dict[str, str]:
    """Every tour command in order on a fresh database; the output of each, by its line."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANET_")}
    env.update(TANET_DB=str(tmp_path / "tour.db"), COLUMNS="100")
    if today:
        env["TANET_TODAY"] = today
    outputs = {}
    for line in tour_commands():
        args = shlex.split(line, comments=True)
        r = subprocess.run([sys.executable, "-m", "tanet", *args[1:]], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, f"{line}\n{r.stdout[-800:]}\n{r.stderr[-800:]}"
        outputs[line.split("#")[0].strip()] = r.stdout + r.stderr
    return outputs


def output_of(outputs: dict[str, str], start: str) -> str:
    """What a tour command printed, its lines joined (messages wrap to the terminal's width)."""
    return " ".join(next(text for line, text in outputs.items() if line.startswith(start)).split())


def test_the_tour_years_from_now_applies_its_examples(tmp_path):
    # A reader years after the examples were made: everything planned is ahead of them, and the
    # replies, the Teams report and the feedback all belong to the meeting held before tanet.
    later = (date.today() + timedelta(days=4 * 365 + 37)).isoformat()
    outputs = run_tour(tmp_path, later)
    assert "Applied 4 replies" in output_of(outputs, "tanet rsvp import examples/replies/")
    assert "0 not applied" in output_of(outputs, "tanet rsvp import examples/replies/")
    teams = output_of(outputs, "tanet attendance import last")
    assert "31 members present at meeting #1 on 2026-11-24" in teams
    feedback = output_of(outputs, "tanet feedback import last")
    assert "Added 24 responses" in feedback and "not a member" not in feedback
    moved = output_of(outputs, "tanet meeting move 3")
    planned_ahead = date.fromisoformat(later) + timedelta(weeks=10)
    assert f"Moved meeting #3 to {planned_ahead}" in moved
    rsvp = output_of(outputs, "tanet rsvp list last")
    for name in ("Mhairi Robertson", "Peadar", "Zoë Fraser", "Seònaid Campbell"):
        assert name in rsvp


def test_the_example_school_holidays_fall_every_year(tanet):
    # The example calendar repeats yearly, so a plan made in any year meets its holidays.
    for year in (2027, 2033):
        r = tanet("meeting", "plan", "--start", f"{year}-03-31", "--count", "1", "--no-holidays",
                  "--avoid", ROOT / "examples" / "school-holidays.ics", "--dry-run", "--format", "json", ok=True)
        assert r.json()[0]["moved"] and "Spring holiday" in r.json()[0]["reason"], r.json()


def test_dates_can_be_typed_relative_to_today(tanet):
    tanet("meeting", "add", "in 3 weeks", ok=True)
    tanet("meeting", "add", "10 days ago", ok=True)
    days = [m["date"] for m in tanet("meeting", "list", "--format", "json", ok=True).json()]
    assert days == ["2026-11-15", "2026-12-16"]  # the tests' today is 25 November 2026
    r = tanet("meeting", "add", "in 9999 weeks", ok=False)
    assert "out of range" in r.stderr


def test_imported_members_are_ambassadors_only_when_a_column_says_so(tanet, tmp_path):
    sheet = tmp_path / "signups.csv"
    sheet.write_text("Full name,Email,Ambassador\nAnn Lee,ann@example.org,yes\nBo Chan,bo@example.org,\n"
                     "Cy Dee,cy@example.org,no\n", encoding="utf-8")
    plain = tmp_path / "plain.csv"
    plain.write_text("Full name,Email\nDi Eve,di@example.org\n", encoding="utf-8")
    r = tanet("member", "import", plain, "--dry-run", ok=True)
    assert "1 new members are not marked as ambassadors" in r.stdout
    tanet("member", "import", sheet, ok=True)
    tanet("member", "import", plain, ok=True)
    found = {m["name"]: m["ambassador"] for m in tanet("member", "list", "--format", "json", ok=True).json()}
    assert found == {"Ann Lee": True, "Bo Chan": False, "Cy Dee": False, "Di Eve": False}


def test_member_add_names_every_missing_option_at_once(tanet):
    r = tanet("member", "add", "Ann Lee", "--org", "City Council", "--sector", "public", ok=False)
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1 and line.startswith("Error: Give --email, --area and --role:")
    assert tanet("member", "list", "--format", "json", ok=True).json() == []
    helptext = " ".join(tanet("member", "add", "--help", ok=True).stdout.split())
    entries = {e.split()[0]: e for e in helptext.split(" --")[1:]}  # each option with its help
    for option in ("email", "organisation", "area", "sector", "role"):
        assert entries[option].endswith("[required]"), entries[option]
    assert "[required]" not in entries["phone"]


def test_privacy_review_names_members_and_erasure_closes_their_follow_ups(tanet):
    from conftest import add_member

    add_member(tanet, "Ann Lee", "ann@example.org", "housing", "public", "frontline", "City Council",
               "--joined", "2020-01-06")
    add_member(tanet, "Bo Chan", "bo@example.org")
    tanet("followup", "add", "ann@example.org", "--about", "Chase supervision cover", ok=True)
    tanet("followup", "add", "bo@example.org", "--about", "Send the slides", ok=True)
    tanet("member", "leave", "ann@example.org", "--on", "2022-03-01", ok=True)
    r = tanet("privacy", "review", ok=True)
    assert "Ann Lee (#1, left 2022-03-01)" in r.stdout
    tanet("privacy", "review", "--apply", ok=True)
    still_open = tanet("followup", "list", "--open", "--format", "json", ok=True).json()
    assert [f["name"] for f in still_open] == ["Bo Chan"]
    closed = [f for f in tanet("followup", "list", "--format", "json", ok=True).json() if f["member_id"] == 1]
    assert closed[0]["closed_on"] == "2026-11-25" and closed[0]["about"] is None


@pytest.fixture
def relay():
    """A real SMTP server on a plain port that offers no login at all, as an internal relay does."""
    from aiosmtpd.controller import Controller

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)  # AUTH only over TLS, and there is none
    controller.start()
    yield inbox, port
    controller.handler.release.set()
    controller.stop()


def test_a_server_without_logins_is_named_instead_of_blaming_the_password(tanet, tmp_path, relay, monkeypatch):
    network(tanet)
    inbox, port = relay
    use_server(tanet, port, "none", user="coordinator")
    monkeypatch.setenv("TANET_SMTP_PASSWORD", "secret")
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert "does not take a login" in r.stderr and "password" not in r.stderr.lower(), r.stderr
    assert "tanet config set smtp.user ''" in r.stderr and inbox.messages == []
    tanet("config", "set", "smtp.user", "", ok=True)
    assert "Sent to 3 members." in tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=True).stdout


def test_a_refused_login_names_the_secret_that_was_used(tanet, tmp_path, smtp, ca, monkeypatch):
    network(tanet)
    _, port = smtp("starttls", password="right")
    use_server(tanet, port, "starttls", user="coordinator", ca_file=ca[1])
    monkeypatch.setenv("TANET_SMTP_PASSWORD", "wrong")
    r = tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=False)
    assert "refused the login for coordinator" in r.stderr and "Check smtp.user and TANET_SMTP_PASSWORD." in r.stderr


def test_a_teams_import_says_what_it_understood_before_writing(tanet, tmp_path):
    tanet("member", "import", ROOT / "examples" / "signups.csv", ok=True)
    tanet("meeting", "add", "2026-11-24", "--location", "Leith Library", ok=True)
    report = ROOT / "examples" / "teams-attendance.csv"
    r = tanet("attendance", "import", "last", report, "--dry-run", ok=True)
    lines = [" ".join(line.split()) for line in r.stdout.splitlines()]
    assert lines[:8] == ["Reading teams-attendance.csv as a Teams attendance report, of a meeting on 2026-11-24:",
                         "name <- 'Name'", "e-mail <- 'Email'", "e-mail, where that is empty <- 'Participant ID (UPN)'",
                         "joined at <- 'First join'", "time in the meeting <- 'In-meeting duration'",
                         "role (organiser or not) <- 'Role'", "not used: 'Last leave'"]
    assert ("not matched: Dr Harriet Vale <h.vale@selfharmnetwork.example>: no member has the e-mail "
            "h.vale@selfharmnetwork.example, and no member has this name") in lines
    assert lines[-1] == "Dry run: nothing was saved."
    assert tanet("attendance", "show", "last", "--format", "json", ok=True).json() == []
    done = tanet("attendance", "import", "last", report, "--format", "json", ok=True).json()
    assert done["columns"]["duration"] == "In-meeting duration" and done["unused_columns"] == ["Last leave"]
    assert next(p for p in done["matched"] if p["name"] == "Niamh Bell")["duration"] == "1h 54m 0s"


def test_a_teams_import_says_why_a_row_was_not_matched(tanet, tmp_path):
    from conftest import add_member

    add_member(tanet, "Sam Reid", "sam.reid@example.org")
    add_member(tanet, "Sam Reid", "sam.reid2@example.org")
    tanet("meeting", "add", "2026-11-24", "--location", "Leith Library", ok=True)
    attendees = tmp_path / "attendees.csv"
    attendees.write_text("Name,Email\nSam Reid,\nAnn Other,\n", encoding="utf-8")
    r = tanet("attendance", "import", "last", attendees, "--dry-run", ok=True)
    assert r.stdout.startswith("Reading attendees.csv as a list of attendees, with no date:")
    assert ("not matched: Sam Reid <no e-mail>: the report gives no e-mail, and 2 members have this name "
            "(mark the right one with: tanet attendance mark)") in r.stdout
    assert "not matched: Ann Other <no e-mail>: the report gives no e-mail, and no member has this name" in r.stdout
