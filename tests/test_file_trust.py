"""A database file is data. Its schema must be tanet's own before it is
restored, opened or called healthy; a backup's mail settings are used only when asked; a
restore never loses a write made at the same moment; a killed copy leaves nothing behind;
permissions come back; messages name the real cause."""

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TANET, add_member, as_nobody, limit_file_size
from servers import use_server
from test_outbox import network
from test_trust import one_line_error, run

HOSTILE = {
    "trigger keep_deleted on members": """
        CREATE TABLE kept(name, email, phone, notes);
        CREATE TRIGGER keep_deleted BEFORE UPDATE ON members
        BEGIN INSERT INTO kept VALUES (old.name, old.email, old.phone, old.notes); END;""",
    "trigger redirect on outbox": """
        CREATE TRIGGER redirect AFTER INSERT ON outbox
        BEGIN UPDATE outbox SET email = 'attacker@evil.example' WHERE id = new.id; END;""",
    "view everyone": "CREATE VIEW everyone AS SELECT name, email FROM members",
    "column members.shadow": "ALTER TABLE members ADD COLUMN shadow TEXT",
    "index members_by_phone on members": "CREATE INDEX members_by_phone ON members(phone)",
}


def _members(path):
    with sqlite3.connect(path) as c:
        return [r[0] for r in c.execute("SELECT name FROM members ORDER BY id")]


def _a_backup_with(tanet, tmp_path, sql):
    add_member(tanet, "Zoe Hart", "zoe@example.org", "housing", "public", "frontline", "City Council",
               "--phone", "0131 496 0000")
    copy = tmp_path / "handed-back.db"
    tanet("backup", copy, ok=True)
    with sqlite3.connect(copy) as c:
        c.executescript(sql)
        c.execute("PRAGMA journal_mode = DELETE")
    return copy


@pytest.mark.parametrize("named", list(HOSTILE))
def test_a_foreign_object_is_refused_by_restore_and_open_and_named_by_check(named, tanet, tmp_path, own_database):
    copy = _a_backup_with(tanet, tmp_path, HOSTILE[named])
    add_member(tanet, "Ann Able", "ann@example.org")
    r = tanet("restore", copy, "--yes", ok=False)
    assert named in r.stderr and "not restored" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert _members(own_database) == ["Zoe Hart", "Ann Able"]
    before = copy.read_bytes()
    # Opened directly (a handover pack's tanet.db given with --db): refused before anything runs.
    r = tanet("--db", copy, "member", "forget", "Zoe", "--yes", ok=False)
    assert named in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert copy.read_bytes() == before and _members(copy) == ["Zoe Hart"]
    r = tanet("--db", copy, "check")
    assert r.exit_code == 1 and named in r.stderr and "damaged" not in r.stderr
    assert tanet("--db", copy, "check", "--format", "json").json()["foreign"] == [named] + (
        ["table kept"] if named.startswith("trigger keep") else [])
    assert "schema is tanet's own" in tanet("check", ok=True).stdout


def test_a_changed_definition_and_a_hostile_older_file_are_refused_before_any_upgrade(tmp_path, tanet):
    from sqlite_utils import Database

    from tanet.store.migrations import migrations
    from tanet.store.schema import MIGRATIONS

    changed = tmp_path / "changed.db"
    tanet("backup", changed, ok=True)
    with sqlite3.connect(changed) as c:
        c.executescript("DROP INDEX meetings_date; CREATE INDEX meetings_date ON meetings(title)")
    assert "index meetings_date on meetings (changed from tanet's)" in tanet("--db", changed, "info", ok=False).stderr
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as c:
        migrations.apply(Database(c), stop_before=MIGRATIONS[4])
        c.execute("CREATE TRIGGER t AFTER INSERT ON _sqlite_migrations BEGIN DELETE FROM members; END")
    assert "trigger t on _sqlite_migrations" in tanet("--db", old, "info", ok=False).stderr
    with sqlite3.connect(old) as c:
        assert c.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == 4


def test_the_expected_schema_constant_is_what_the_migrations_make():
    from tanet.store.schema import EXPECTED_SCHEMA
    from tanet.store.schema_check import generate

    assert generate() == EXPECTED_SCHEMA, "regenerate it: python -m tanet.store.schema_check (paste into schema.py)"


def test_connections_distrust_the_schema_and_opening_stays_light(own_database, tmp_path):
    from tanet.store.db import open_db

    conn = open_db(own_database)
    assert conn.execute("PRAGMA trusted_schema").fetchone()[0] == 0
    if hasattr(conn, "getconfig"):
        assert conn.getconfig(sqlite3.SQLITE_DBCONFIG_DEFENSIVE)
    conn.close()
    # Light: checking the schema of a file that matches never loads sqlite_utils (~110 ms to import).
    code = ("import sys; from pathlib import Path; from tanet.store.db import open_db; "
            f"open_db(Path({str(own_database)!r})).close(); print('sqlite_utils' in sys.modules)")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env=os.environ).stdout.strip()
    assert loaded == "False"


# Mail settings from a restored file -------------------------------------------------------------

def test_a_backups_mail_settings_are_kept_only_when_asked(tanet, tmp_path, smtp):  # noqa: F811
    network(tanet)
    inbox, port = smtp("none")
    use_server(tanet, port)
    copy = tmp_path / "handed-back.db"
    tanet("backup", copy, ok=True)
    pwned = tmp_path / "PWNED"
    hostile = {"smtp.host": "127.0.0.1", "smtp.user": "coordinator@example.org", "smtp.auth": "xoauth2",
               "smtp.oauth2_token_command": f"touch {pwned}; echo token", "organiser.email": "attacker@evil.example"}
    with sqlite3.connect(copy) as c:
        c.executemany("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", hostile.items())
    r = tanet("restore", copy, "--yes", ok=True)
    assert "NOT used" in r.stdout and "smtp.oauth2_token_command" in r.stdout and "--keep-mail-settings" in r.stdout
    assert tanet("config", "get", "smtp.auth", ok=True).stdout.strip() == "password"
    assert tanet("config", "get", "organiser.email", ok=True).stdout.strip() == "coordinator@example.org"
    assert "Sent to 3 members." in tanet("invite", "1", "--send", "-o", tmp_path / "i", ok=True).stdout
    assert not pwned.exists()
    assert len(inbox.messages) == 3 and {m["From"].addresses[0].addr_spec for _, m in inbox.messages} == {
        "coordinator@example.org"}
    tanet("restore", copy, "--yes", "--keep-mail-settings", ok=True)
    assert tanet("config", "get", "smtp.oauth2_token_command", ok=True).stdout.strip() == f"touch {pwned}; echo token"
    assert not pwned.exists()


# A restore while another command writes ----------------------------------------------------------

def _wait_until_writing(db, process, deadline=60):
    """Until `process` holds SQLite's write lock on `db` (observed, not guessed)."""
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            assert process.poll() is None, "the writer finished before it was seen writing"
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
            except sqlite3.OperationalError as e:
                assert "locked" in str(e)
                return
            time.sleep(0.005)  # between two looks, not instead of one
        pytest.fail("the writer never started writing")
    finally:
        probe.close()


def test_a_restore_during_an_import_never_loses_it(cli_env, tmp_path):
    run(cli_env, "init", check=True)
    run(cli_env, "member", "add", "Ann Able", "--email", "ann@example.org", "--org", "O", "--area", "housing",
        "--sector", "public", "--role", "frontline", check=True)
    copy = tmp_path / "b.db"
    run(cli_env, "backup", copy, check=True)
    big = tmp_path / "big.csv"
    rows = 100_000
    with open(big, "w") as f:
        f.write("Name,Email,Service area,Sector,Role\n")
        f.writelines(f"Person {i},p{i}@example.org,housing,public,frontline\n" for i in range(rows))
    importing = subprocess.Popen(TANET + ["member", "import", str(big)], env=cli_env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
    _wait_until_writing(cli_env["TANET_DB"], importing)
    restored = run(cli_env, "restore", copy, "--yes")
    out, err = importing.communicate(timeout=120)
    assert restored.returncode == 0, restored.stderr
    aside = Path(restored.stdout.split("copied aside to ")[1].split(".db")[0] + ".db")
    # The import held the write lock first: it finished, and the copy set aside holds it all.
    assert importing.returncode == 0 and f"{rows} new" in out, err
    assert len(_members(aside)) == rows + 1
    assert _members(cli_env["TANET_DB"]) == ["Ann Able"]
    assert run(cli_env, "check").returncode == 0


# Permissions come back, and messages name the real cause -------------------------------------------

def test_the_journal_follows_the_file_when_it_is_writable_again(nobodys_folder, tanet):
    db = nobodys_folder / "t.db"
    os.chmod(db, 0o400)
    assert as_nobody(tanet, "member", "list")[0] == 0
    os.chmod(db, 0o600)  # chmod u+w by its owner
    exit_code, stderr = as_nobody(tanet, "member", "add", "Bob", "--email", "bob@example.org", "--org", "O",
                                   "--area", "housing", "--sector", "public", "--role", "frontline")
    assert exit_code == 0, stderr
    for journal in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        if journal.exists():
            assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert _members(db) == ["Ann", "Bob"]


def test_check_in_a_read_only_folder_names_the_folder_and_never_advises_a_restore(nobodys_folder, tanet):
    db = nobodys_folder / "t.db"
    for journal in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        journal.unlink(missing_ok=True)
    os.chmod(nobodys_folder, 0o555)
    exit_code, stderr = as_nobody(tanet, "check")
    assert exit_code == 1 and len(stderr.strip().splitlines()) == 1, stderr
    assert "folder" in stderr and "read-only" in stderr and "restore" not in stderr and "damaged" not in stderr


def _big(cli_env, rows=2_000):
    run(cli_env, "init", check=True)
    c = sqlite3.connect(cli_env["TANET_DB"])
    with c:
        c.executemany("INSERT INTO members(name, email, service_area, sector, role, joined_on, notes) "
                      "VALUES (?, ?, 'housing', 'public', 'frontline', '2025-01-01', ?)",
                      [(f"Person {i}", f"p{i}@example.org", "x" * 2000) for i in range(rows)])
    c.close()  # the last connection gone: no -shm beside the file, so opening must make one


def test_a_full_disk_is_named_by_check_and_by_handover_without_advising_a_restore(cli_env, tmp_path):
    _big(cli_env)
    db = Path(cli_env["TANET_DB"])
    message = one_line_error(run(cli_env, "check", preexec_fn=limit_file_size(1024)))
    assert "full" in message and "restore" not in message and "damaged" not in message.replace("not damaged", "")
    target = tmp_path / "pack"
    message = one_line_error(run(cli_env, "handover", "-o", target, preexec_fn=limit_file_size(256 * 1024)))
    assert str(target) in message and "full" in message and f"holding {db}" not in message
    assert not target.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".pack")]
    assert run(cli_env, "check").returncode == 0


# Partial copies a kill -9 left behind -------------------------------------------------------------

BLOCK_AT = """
import os, re, sys, threading
pattern, mark = sys.argv[1], sys.argv[2]
real_fsync = os.fsync
def fsync(fd):
    if re.search(pattern, os.readlink(f"/proc/self/fd/{fd}")):
        open(mark, "w").close()
        threading.Event().wait()  # held here, a partial copy on disk, until the test kills it
    return real_fsync(fd)
os.fsync = fsync
import tanet.store.files as files  # a folder written whole is synced at once (syncfs), not file by file
real_sync_files = files.sync_files
def sync_files(folder):
    if any(re.search(pattern, str(p)) for p in folder.iterdir()):
        open(mark, "w").close()
        threading.Event().wait()
    return real_sync_files(folder)
files.sync_files = sync_files
from tanet.cli import main
sys.argv = ["tanet", *sys.argv[3:]]
main()
"""


def _kill_when_copying(cli_env, tmp_path, pattern, *args):
    mark = tmp_path / f"reached-{args[0]}"
    p = subprocess.Popen([sys.executable, "-c", BLOCK_AT, pattern, str(mark), *map(str, args)], env=cli_env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.monotonic() + 60
    while not mark.exists():
        assert p.poll() is None, p.stderr.read()
        assert time.monotonic() < end, "the copy never started"
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()


def _files_holding(folder, text):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and text in p.read_bytes())


def test_copies_left_by_a_killed_backup_or_handover_go_at_the_next_start(cli_env, tmp_path):
    run(cli_env, "init", "--organiser-name", "Alex", "--organiser-email", "alex@example.org", check=True)
    run(cli_env, "member", "add", "Zoe Hart", "--email", "zoe.hart@example.org", "--org", "O", "--area",
        "housing", "--sector", "public", "--role", "frontline", check=True)
    _kill_when_copying(cli_env, tmp_path, r"/\.copy\.db\.[^/]*\.tmp$", "backup", tmp_path / "copy.db")
    left = _files_holding(tmp_path, b"zoe.hart@example.org")
    assert [name for name in left if name.startswith(".copy.db.")], left
    _kill_when_copying(cli_env, tmp_path, r"/\.pack\.[^/]*\.tmp/tanet\.db$", "handover", "-o", tmp_path / "pack")
    left = _files_holding(tmp_path, b"zoe.hart@example.org")
    assert not [name for name in left if name.startswith(".copy.db.")], left  # the handover's start removed it
    assert {name.split("/")[1] for name in left if name.startswith(".pack.")} == {"tanet.db", "members.csv"}, left
    r = run(cli_env, "member", "forget", "Zoe", "--yes")
    assert r.returncode == 0, r.stderr
    assert _files_holding(tmp_path, b"zoe.hart@example.org") == []
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith((".copy.db", ".pack"))]
    assert not (tmp_path / "copy.db").exists() and not (tmp_path / "pack").exists()


# Restore in the other situations it meets ---------------------------------------------------------

def test_restore_replaces_a_damaged_or_hostile_file_and_upgrades_an_older_backup(own_database, tmp_path, tanet):
    from sqlite_utils import Database

    from tanet.store.migrations import migrations
    from tanet.store.schema import MIGRATIONS

    old = tmp_path / "old.db"  # a backup from a tanet that had four migrations
    with sqlite3.connect(old) as c:
        migrations.apply(Database(c), stop_before=MIGRATIONS[4])
        c.execute("INSERT INTO members(name, email, service_area, sector, role, joined_on) "
                  "VALUES ('Old Member', 'old@example.org', 'housing', 'public', 'frontline', '2024-01-01')")
    add_member(tanet, "Ann Able", "ann@example.org")
    with sqlite3.connect(own_database) as c:  # the current file was changed outside tanet
        c.execute("CREATE TRIGGER t AFTER INSERT ON members BEGIN DELETE FROM members; END")
    r = tanet("restore", old, "--yes", ok=True)
    aside = Path(r.stdout.split("copied aside to ")[1].split(".db")[0] + ".db")
    assert _members(aside) == ["Ann Able"]
    assert [m["name"] for m in tanet("member", "list", "--format", "json", ok=True).json()] == ["Old Member"]
    assert "schema is tanet's own" in tanet("check", ok=True).stdout
    # A damaged current file: set aside as it is, and the backup put in its place.
    copy = tmp_path / "good.db"
    tanet("backup", copy, ok=True)
    with sqlite3.connect(own_database) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    own_database.write_bytes(own_database.read_bytes()[:4096] + os.urandom(8192))
    assert tanet("check").exit_code == 1
    r = tanet("restore", copy, "--yes", ok=True)
    assert "copied aside" in r.stdout
    assert [m["name"] for m in tanet("member", "list", "--format", "json", ok=True).json()] == ["Old Member"]
    # No current file at all: the backup becomes it.
    for p in own_database.parent.glob("tanet.db*"):
        p.unlink()
    r = tanet("restore", copy, "--yes", ok=True)
    assert "copied aside" not in r.stdout and _members(own_database) == ["Old Member"]


def test_restore_waits_for_no_sender_and_names_the_one_running(own_database, tmp_path, tanet):
    from tanet.store.sendlock import sender_lock

    copy = tmp_path / "b.db"
    tanet("backup", copy, ok=True)
    add_member(tanet, "Ann Able", "ann@example.org")
    with sender_lock(own_database, "invite next --send"):
        r = tanet("restore", copy, "--yes", ok=False)
    assert "invite next --send" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert _members(own_database) == ["Ann Able"]


def test_a_view_sqlite_cannot_describe_is_still_named(tmp_path, tanet):
    copy = tmp_path / "broken-view.db"
    tanet("backup", copy, ok=True)
    with sqlite3.connect(copy) as c:
        c.executescript("CREATE TABLE gone(a); CREATE VIEW dangling AS SELECT a FROM gone; DROP TABLE gone;")
    r = tanet("--db", copy, "member", "list", ok=False)
    assert "view dangling" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_check_never_vouches_for_a_file_that_names_a_newer_tanet(tanet, own_database):
    # Found by an adversary: a future migration name plus a trigger read as "schema is tanet's own".
    with sqlite3.connect(own_database) as c:
        c.execute("INSERT INTO _sqlite_migrations(migration_set, name, applied_at) "
                  "SELECT migration_set, '9999_future', applied_at FROM _sqlite_migrations LIMIT 1")
        c.execute("CREATE TABLE loot(x)")
        c.execute("CREATE TRIGGER keep AFTER DELETE ON members BEGIN INSERT INTO loot VALUES (old.email); END")
    out = tanet("check", ok=True).stdout
    assert "schema is tanet's own" not in out and "made by a newer tanet" in out and "could not check" in out
