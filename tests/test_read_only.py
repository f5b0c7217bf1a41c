"""A file tanet may not change (chmod 400): every preview still shows what would change and
leaves the file as it was; every write is refused with the one read-only message."""

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from conftest import FIXTURES, add_member, as_nobody

TEAMS = FIXTURES / "teams-attendance-2024-05-14.csv"
SIGNUPS = FIXTURES / "members-signup-form.csv"
FORM = FIXTURES / "feedback-forms-2027-01-19.xlsx"
REPLIES = FIXTURES / "replies"
READ_ONLY = "is read-only (its permissions allow reading only), so nothing was changed"


def nobody_ids() -> tuple[int, int]:
    import pwd

    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


def contents(db: Path) -> list[str]:
    """Everything the file holds, read without any chance of writing to it."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return list(c.iterdump())


@pytest.fixture
def read_only_network(tanet, own_database):
    """Members (one who left long ago), a meeting held, two ahead; then the file made read-only."""
    tanet("member", "import", SIGNUPS, ok=True)
    with sqlite3.connect(own_database) as c:
        # Everyone may facilitate (an import makes ambassadors only when a column says so).
        c.execute("UPDATE members SET joined_on = '2020-01-01', consent_on = '2020-01-01', ambassador = 1")
    add_member(tanet, "Lena Long-Gone", "lena@example.org", "housing", "third", "manager", "Shelter",
               "--joined", "2020-01-01")
    tanet("member", "leave", "lena@example.org", "--on", "2021-01-01", ok=True)
    tanet("meeting", "add", "2024-05-14", ok=True)
    tanet("meeting", "plan", "--start", "2026-12-01", "--count", "2", ok=True)
    tanet("checkin", "record", "1", "1", "--note", "an old private note", ok=True)
    os.chmod(own_database, 0o400)
    before = contents(own_database)
    yield own_database
    assert contents(own_database) == before
    assert stat.S_IMODE(own_database.stat().st_mode) == 0o400
    os.chmod(own_database, 0o600)


def test_previews_show_what_would_change_on_a_read_only_file(tanet, read_only_network):
    rota = tanet("meeting", "rota", "--count", "2", "--format", "json", ok=True).json()
    assert len(rota) == 2 and all(len(p["facilitators"]) == 2 for p in rota)
    plan = tanet("meeting", "plan", "--start", "2027-01-05", "--count", "3", "--dry-run", "--format", "json",
                 ok=True).json()
    assert len(plan) == 3 and all(p["id"] is None for p in plan)
    review = tanet("privacy", "review", "--format", "json", ok=True).json()
    assert len(review["members_due"]) == 1 and review["notes_due"] == 1
    marked = tanet("attendance", "import", "1", TEAMS, "--dry-run", "--format", "json", ok=True).json()
    assert marked["dry_run"] and len(marked["matched"]) == 31
    assert "Dry run: 0 new, 0 updated, 48 skipped" in tanet("member", "import", SIGNUPS, "--dry-run", ok=True).stdout
    replies = tanet("rsvp", "import", REPLIES, "--dry-run", "--format", "json", ok=True).json()
    assert replies["not_applied"]  # read and matched against the file, none applied: nobody was invited


def test_a_dry_run_import_that_would_add_members_shows_them_on_a_read_only_file(tanet, read_only_network, tmp_path):
    sheet = tmp_path / "new.csv"
    sheet.write_text("Full name,E-mail address,Organisation,Service area,Sector,Role\n"
                     "Rhona Reid,rhona@example.org,Shelter,housing,third,manager\n", encoding="utf-8")
    r = tanet("member", "import", sheet, "--dry-run", "--map", "role:Boss=manager", ok=True)
    assert "Dry run: 1 new, 0 updated, 0 skipped. Nothing was saved." in r.stdout


@pytest.mark.parametrize("command", [
    ("attendance", "import", "1", TEAMS),
    ("member", "forget", "1", "--yes"),
    ("privacy", "review", "--apply"),
    ("meeting", "rota", "--apply"),
    ("meeting", "plan", "--start", "2027-01-05", "--count", "3"),
    ("member", "import", SIGNUPS),
], ids=lambda c: " ".join(str(part) for part in c[:2]))
def test_writes_on_a_read_only_file_give_the_read_only_message(tanet, read_only_network, command):
    r = tanet(*command, ok=False)
    assert READ_ONLY in r.stderr and "chmod u+w" in r.stderr, r
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "not authorized" not in r.stderr and "tanet check" not in r.stderr


def test_finishing_an_erasure_on_a_read_only_file_gives_the_read_only_message(tanet, own_database):
    add_member(tanet, "Lena Long-Gone", "lena@example.org")
    tanet("member", "forget", "1", "--yes", ok=True)
    os.chmod(own_database, 0o400)
    r = tanet("member", "forget", "1", "--yes", ok=False)
    assert READ_ONLY in r.stderr and "not authorized" not in r.stderr, r


def test_previews_work_for_an_ordinary_user_on_a_read_only_file(nobodys_folder, tanet):
    db = nobodys_folder / "t.db"
    add_member(tanet, "Bo Third", "bo@example.org", "housing", "third")
    tanet("meeting", "plan", "--start", "2026-12-01", "--count", "2", ok=True)
    for p in [nobodys_folder, *nobodys_folder.iterdir()]:
        os.chown(p, *nobody_ids())
    os.chmod(db, 0o400)
    before = contents(db)
    for command in (("meeting", "rota"), ("privacy", "review"),
                    ("meeting", "plan", "--start", "2027-01-05", "--count", "2", "--dry-run"),
                    ("member", "import", SIGNUPS, "--dry-run")):
        exit_code, stderr = as_nobody(tanet, *command)
        assert exit_code == 0, (command, stderr)
    exit_code, stderr = as_nobody(tanet, "privacy", "review", "--apply")
    assert exit_code == 1 and READ_ONLY in stderr, stderr
    assert contents(db) == before


def test_a_feedback_dry_run_reads_the_form_on_a_read_only_file(tanet, own_database, monkeypatch):
    monkeypatch.setenv("TANET_TODAY", "2027-01-25")
    tanet("meeting", "add", "2027-01-19", "--location", "x", ok=True)
    os.chmod(own_database, 0o400)
    before = contents(own_database)
    r = tanet("feedback", "import", "1", FORM, "--dry-run", "--format", "json", ok=True).json()
    assert r["added"] == 24
    assert contents(own_database) == before


def test_applying_a_privacy_review_with_nothing_due_gives_the_read_only_message(tanet, own_database):
    os.chmod(own_database, 0o400)
    r = tanet("privacy", "review", "--apply", ok=False)
    assert READ_ONLY in r.stderr and "not authorized" not in r.stderr, r
