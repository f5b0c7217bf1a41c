"""The file itself: where it lives, its permissions, migrations, safety."""

import os
import signal
import sqlite3
import stat
import subprocess
import sys

import pytest
from conftest import TANET, wait_for_wal, wal_size

from tanet.store import db as dbmod
from tanet.store.schema import MIGRATIONS

EXPECTED_TABLES = {
    "_sqlite_migrations", "settings", "service_areas", "members", "meetings", "facilitators",
    "sessions", "themes", "attendance", "checkins", "followups", "resources", "resource_authors",
    "adoptions", "availability", "outbox", "responses", "replies_read", "outreach", "aliases", "report_notes",
    "feedback", "feedback_files",
}


def tables(path):
    with sqlite3.connect(path) as c:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_resolution_order(tmp_path, monkeypatch):
    monkeypatch.setenv("TANET_DB", str(tmp_path / "env.db"))
    assert dbmod.resolve_path(tmp_path / "opt.db") == tmp_path / "opt.db"
    assert dbmod.resolve_path(None) == tmp_path / "env.db"
    monkeypatch.delenv("TANET_DB")
    import platformdirs

    assert dbmod.resolve_path(None) == platformdirs.user_data_path("tanet") / "tanet.db"


def test_new_file_and_folder_are_private(tmp_path, tanet):
    path = tmp_path / "new" / "folder" / "net.db"
    tanet("--db", path, "init", ok=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert tables(path) == EXPECTED_TABLES


def test_mode_is_restored_to_owner_only(own_database, tanet):
    tanet("init", ok=True)
    os.chmod(own_database, 0o644)
    tanet("member", "list", ok=True)
    assert stat.S_IMODE(own_database.stat().st_mode) == 0o600


def test_info_reports_path_version_counts(own_database, tanet):
    r = tanet("info", "--format", "json", ok=True)
    data = r.json()
    assert data["path"] == str(own_database)
    assert data["schema_version"] == len(MIGRATIONS)
    assert data["counts"]["members"] == 0


def test_migrations_from_empty_file_reach_current_schema(tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()  # an existing, empty SQLite file
    conn = dbmod.open_db(path)
    assert dbmod.applied_migrations(conn) == list(MIGRATIONS)
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()
    assert tables(path) == EXPECTED_TABLES
    # What the summary reads instead of the tables (see report.py).
    assert {"attendance_meeting_status", "attendance_present", "members_groups", "members_joined",
            "members_left"} <= indexes


def test_file_at_first_migration_is_upgraded_keeping_rows(tmp_path):
    from sqlite_utils import Database

    from tanet.store.migrations import migrations

    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before=MIGRATIONS[1])
    assert "resources" not in old.table_names()
    old.execute("INSERT INTO members(name, email, service_area, sector, role, joined_on) "
                "VALUES ('Ada', 'ada@example.org', 'housing', 'public', 'frontline', '2024-01-01')")
    old.conn.commit()
    old.close()

    conn = dbmod.open_db(path)
    assert dbmod.applied_migrations(conn) == list(MIGRATIONS)
    assert conn.execute("SELECT name FROM members").fetchall()[0][0] == "Ada"
    schema_before = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    conn.close()
    # Opening again applies nothing and changes nothing.
    conn = dbmod.open_db(path)
    assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema_before
    assert conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == len(MIGRATIONS)
    conn.close()


def test_member_columns_are_what_the_spec_names(tmp_path):
    conn = dbmod.open_db(tmp_path / "x.db", create=True)
    cols = [r["name"] for r in conn.execute("PRAGMA table_info(members)")]
    assert cols == ["id", "name", "email", "phone", "organisation", "service_area", "sector", "role",
                    "ambassador", "joined_on", "left_on", "consent_on", "notes", "forgotten_on", "known_as"]


def test_not_a_database(tmp_path, tanet):
    bad = tmp_path / "notes.db"
    bad.write_text("this is a shopping list, not a database\n" * 200)
    r = tanet("--db", bad, "member", "list", ok=False)
    assert "is not a tanet database" in r.stderr
    assert bad.read_text().startswith("this is a shopping list")


def test_path_that_cannot_be_created(tmp_path, tanet):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    r = tanet("--db", blocker / "sub" / "tanet.db", "init", ok=False)
    assert "Cannot create the database" in r.stderr


def test_folder_given_as_database(tmp_path, tanet):
    r = tanet("--db", tmp_path, "info", ok=False)
    assert "is a folder" in r.stderr


def test_backup_and_check(own_database, tanet, tmp_path):
    tanet("member", "add", "Ada Lovelace", "--email", "ada@example.org", "--org", "City Council",
          "--area", "housing", "--sector", "public", "--role", "manager", ok=True)
    dest = tmp_path / "copy.db"
    r = tanet("backup", dest, ok=True)
    assert str(dest) in r.stdout
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    with sqlite3.connect(dest) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("SELECT name FROM members").fetchone()[0] == "Ada Lovelace"
    tanet("backup", dest, ok=False)  # never overwrites
    r = tanet("backup", ok=True)
    assert "tanet-backup-" in r.stdout
    assert "integrity ok" in tanet("check", ok=True).stdout


def test_check_reports_broken_links(own_database, tanet):
    tanet("init", ok=True)
    with sqlite3.connect(own_database) as c:
        c.execute("PRAGMA foreign_keys = OFF")
        c.execute("INSERT INTO attendance VALUES (99, 98, 'present', NULL, '2026-01-01')")
    r = tanet("check")
    assert r.exit_code == 1
    assert "attendance row" in r.stderr


def test_cli_import_stays_light():
    code = ("import sys, tanet.cli; "
            "print(sorted(m for m in ('icalendar','sqlite_utils','rich','holidays','dateutil','pydantic',"
            "'recurring_ical_events','platformdirs') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_member_list_on_current_file_does_not_load_sqlite_utils(cli_env):
    subprocess.run(TANET + ["init"], env=cli_env, check=True, capture_output=True)
    code = ("import sys; sys.argv=['tanet','member','list','--format','json']\n"
            "from tanet.cli import app\n"
            "try:\n    app(prog_name='tanet')\nexcept SystemExit:\n    pass\n"
            "print('LOADED', sorted(m for m in ('sqlite_utils','icalendar','holidays','rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], env=cli_env, capture_output=True, text=True).stdout
    assert "LOADED []" in out


def test_two_writers_at_once_do_not_fail(cli_env):
    subprocess.run(TANET + ["init"], env=cli_env, check=True, capture_output=True)
    procs = [
        subprocess.Popen(TANET + ["member", "add", f"Person {i}", "--email", f"p{i}@example.org",
                                  "--org", "Org", "--area", "housing", "--sector", "public",
                                  "--role", "frontline"], env=cli_env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for i in range(6)
    ]
    results = [p.communicate() + (p.returncode,) for p in procs]
    assert all(rc == 0 for _, _, rc in results), results
    assert not any("locked" in err for _, err, _ in results)
    with sqlite3.connect(cli_env["TANET_DB"]) as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] == 6


def _big_csv(path, n):
    with open(path, "w", encoding="utf-8") as f:
        f.write("Name,Email,Organisation,Service area,Sector,Role,Date joined\n")
        for i in range(n):
            f.write(f"Member {i},m{i}@example.org,Org {i % 40},housing,public,frontline,01/02/2024\n")


@pytest.mark.parametrize("written", [0, 1_000_000, 2_000_000])
def test_sigkill_during_import_leaves_all_or_nothing(cli_env, tmp_path, written):
    subprocess.run(TANET + ["init"], env=cli_env, check=True, capture_output=True)
    csv_path = tmp_path / "big.csv"
    _big_csv(csv_path, 20_000)
    before = wal_size(cli_env["TANET_DB"])
    p = subprocess.Popen(TANET + ["member", "import", str(csv_path)], env=cli_env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for_wal(p, cli_env["TANET_DB"], before + written)  # the transaction is under way
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL  # the kill landed while it ran
    with sqlite3.connect(cli_env["TANET_DB"]) as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] in (0, 20_000)
    check = subprocess.run(TANET + ["check"], env=cli_env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_ctrl_c_during_import_rolls_back(own_database, tmp_path, monkeypatch):
    from tanet.cli.common import connection, state
    from tanet.register import member_files

    csv_path = tmp_path / "big.csv"
    _big_csv(csv_path, 3000)
    state.db_option = None
    conn = connection()
    plan = member_files.plan_import(conn, csv_path, __import__("datetime").date(2026, 11, 25), False)

    def interrupt(n):
        if n >= 2000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with dbmod.transaction(conn):
            member_files.apply_import(conn, plan, interrupt)
    assert conn.execute("SELECT count(*) FROM members").fetchone()[0] == 0
    conn.close()
    state.conn = None




def test_ctrl_c_during_import_says_nothing_changed(cli_env, tmp_path):
    subprocess.run(TANET + ["init"], env=cli_env, check=True, capture_output=True)
    csv_path = tmp_path / "big.csv"
    _big_csv(csv_path, 80_000)
    before = wal_size(cli_env["TANET_DB"])
    p = subprocess.Popen(TANET + ["member", "import", str(csv_path)], env=cli_env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Ctrl-C once the import is observed writing (its pages spill into the WAL), whatever the load.
    assert wait_for_wal(p, cli_env["TANET_DB"], before + 1_000_000)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate()
    assert p.returncode == 130, (out, err)
    assert err.strip() == "Stopped: this command changed nothing."
    with sqlite3.connect(cli_env["TANET_DB"]) as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] == 0
