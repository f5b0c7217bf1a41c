"""Only its own files, permissions only go down, files appear whole and
owner-only, text in and text out, honest encodings, one line for every mistake."""

import json
import os
import pty
import select
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, TANET, add_member, as_nobody, limit_file_size, wait_for_wal, wal_size


def run(env, *args, check=False, preexec_fn=None, **kw):
    return subprocess.run(TANET + [str(a) for a in args], env=env, capture_output=True, text=True,
                          check=check, preexec_fn=preexec_fn, **kw)


def one_line_error(r):
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.stderr


def mode(path):
    return stat.S_IMODE(Path(path).stat().st_mode)


# Only its own files --------------------------------------------------------------------

def test_another_programs_database_is_refused_untouched(tmp_path, tanet):
    other = tmp_path / "someone-elses.db"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE notes(x)")
        c.execute("INSERT INTO notes VALUES ('theirs')")
    os.chmod(other, 0o644)
    before = other.read_bytes()
    for command in (["info"], ["member", "list"], ["init"]):
        r = tanet("--db", other, *command, ok=False)
        assert "another program's SQLite database" in r.stderr
    assert other.read_bytes() == before
    assert mode(other) == 0o644
    assert not Path(f"{other}-wal").exists()
    with sqlite3.connect(other) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert [r[0] for r in c.execute("SELECT name FROM sqlite_master")] == ["notes"]


def test_a_file_that_is_not_sqlite_is_refused(tmp_path, tanet):
    letter = tmp_path / "letter.db"
    letter.write_text("Dear colleague, ...")
    assert "not an SQLite file" in tanet("--db", letter, "info", ok=False).stderr
    assert letter.read_text() == "Dear colleague, ..."


def test_mistyped_db_creates_nothing(tmp_path, tanet):
    typo = tmp_path / "tanet-typo.db"
    r = tanet("--db", typo, "member", "list", ok=False)
    assert "There is no tanet database" in r.stderr and "tanet init" in r.stderr
    assert not typo.exists()
    tanet("--db", typo, "init", ok=True)
    assert typo.exists()


def test_a_newer_tanets_file_is_read_but_never_written(own_database, tanet):
    add_member(tanet, "Ann Able", "ann@example.org")
    with sqlite3.connect(own_database) as c:
        c.execute("INSERT INTO _sqlite_migrations(migration_set, name, applied_at) VALUES ('tanet', '0099_future', 'x')")
    assert tanet("member", "list", "--format", "json", ok=True).json()[0]["name"] == "Ann Able"
    r = tanet("member", "add", "Bob", "--email", "bob@example.org", "--org", "O", "--area", "housing",
              "--sector", "public", "--role", "frontline", ok=False)
    assert "made by a newer tanet" in r.stderr
    assert tanet("report", "quarter", "--format", "json", ok=True).json()["membership"]["end"] == 1
    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] == 1


def test_a_file_tanet_may_not_change_refuses_every_write_but_the_summarys_own_tables(own_database, tanet):
    from tanet.store import db as dbmod

    add_member(tanet, "Ann Able", "ann@example.org")
    os.chmod(own_database, 0o400)
    conn = dbmod.open_db(own_database)
    for sql in ("DELETE FROM members", "UPDATE members SET name = 'x'", "CREATE TABLE t(x)", "DROP TABLE themes",
                "CREATE INDEX i ON members(name)", "PRAGMA journal_mode = DELETE", "PRAGMA user_version = 7",
                "ATTACH ':memory:' AS other", "ALTER TABLE members ADD COLUMN x"):
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            conn.execute(sql)
    conn.execute("CREATE TEMP TABLE scratch AS SELECT id FROM members")
    conn.execute("INSERT INTO temp.scratch VALUES (7)")
    assert conn.execute("SELECT count(*) FROM temp.scratch").fetchone()[0] == 2
    conn.close()
    os.chmod(own_database, 0o600)
    with sqlite3.connect(own_database) as c:
        assert [r[0] for r in c.execute("SELECT name FROM members")] == ["Ann Able"]


# Permissions only go down ------------------------------------------------------------------

def test_permissions_are_taken_away_never_added(own_database, tanet):
    os.chmod(own_database, 0o640)
    tanet("member", "list", ok=True)
    assert mode(own_database) == 0o600
    os.chmod(own_database, 0o400)
    tanet("member", "list", ok=True)
    assert mode(own_database) == 0o400
    r = tanet("member", "add", "Bob", "--email", "bob@example.org", "--org", "O", "--area", "housing",
              "--sector", "public", "--role", "frontline", ok=False)
    assert "read-only" in r.stderr and "chmod u+w" in r.stderr
    assert mode(own_database) == 0o400
    os.chmod(own_database, 0o600)
    assert tanet("member", "list", "--format", "json", ok=True).json() == []


ADD_BOB = ("member", "add", "Bob", "--email", "bob@example.org", "--org", "O", "--area", "housing",
           "--sector", "public", "--role", "frontline")


def test_a_read_only_file_stays_read_only_for_an_ordinary_user(nobodys_folder, tanet):
    db = nobodys_folder / "t.db"
    os.chmod(db, 0o400)
    exit_code, stderr = as_nobody(tanet, *ADD_BOB)
    assert exit_code == 1 and "read-only (its permissions" in stderr and len(stderr.strip().splitlines()) == 1
    assert as_nobody(tanet, "report", "quarter", "--format", "json")[0] == 0  # reading still works
    assert mode(db) == 0o400
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] == 1


def test_a_read_only_folder_is_named_as_the_problem(nobodys_folder, tanet):
    db = nobodys_folder / "t.db"
    with sqlite3.connect(db) as c:  # as a copy from elsewhere would arrive: no journal beside it
        c.execute("PRAGMA journal_mode = DELETE")
    os.chmod(nobodys_folder, 0o555)
    exit_code, stderr = as_nobody(tanet, *ADD_BOB)
    assert exit_code == 1 and len(stderr.strip().splitlines()) == 1, stderr
    assert "folder" in stderr and "read-only" in stderr
    assert "is not a tanet database" not in stderr


def test_explain_names_the_folder_for_a_read_only_folder(tmp_path):
    from tanet.store.db import explain

    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "t.db").write_bytes(b"")
    os.chmod(folder, 0o500)
    try:
        message = str(explain(sqlite3.OperationalError("attempt to write a readonly database"), folder / "t.db"))
    finally:
        os.chmod(folder, 0o700)
    assert ("folder" in message and "read-only" in message) or "read-only (its permissions" in message


# Files that name a person: 0600, new folders 0700, whatever the umask -------------------

def test_files_naming_people_are_owner_only_whatever_the_umask(tmp_path, cli_env):
    env = dict(cli_env)
    run(env, "init", "--organiser-name", "Coordinator", "--organiser-email", "coord@example.org", check=True)
    run(env, "member", "import", FIXTURES / "members-signup-form.csv", check=True)
    run(env, "meeting", "add", "2027-02-09", "--location", "Leith Library", check=True)
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        run(env, "member", "export", "-o", out / "new" / "members.csv", check=True)
        run(env, "member", "export", "--format", "json", "-o", out / "members.json", check=True)
        run(env, "member", "data", "1", "-o", out / "member-1.json", check=True)
        run(env, "report", "quarter", "2027Q1", "--format", "html", "-o", out / "summary.html", check=True)
        run(env, "export", "ics", "-o", out / "calendar.ics", check=True)
        run(env, "invite", "1", "-o", out / "invites", check=True)
        run(env, "backup", out / "copy.db", check=True)
    finally:
        os.umask(old)
    for p in [out, out / "new", out / "invites"]:
        assert mode(p) == 0o700, p
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 10
    for p in files:
        assert mode(p) == 0o600, p
    # (.tanet-files is a folder's list of the files tanet wrote there, not a temporary file)
    assert not [p for p in out.rglob(".*") if p.name != ".tanet-files"], "no temporary files are left behind"


# Crash-safe files ------------------------------------------------------------------------

def _big_database(env, tmp_path, rows=40_000):
    run(env, "init", check=True)
    with sqlite3.connect(env["TANET_DB"]) as c:
        c.executemany("INSERT INTO members(name, email, service_area, sector, role, joined_on, notes) "
                      "VALUES (?, ?, 'housing', 'public', 'frontline', '2025-01-01', ?)",
                      [(f"Person {i}", f"p{i}@example.org", "x" * 2000) for i in range(rows)])
    return rows


def partial_copy_size(folder: Path, name: str) -> int:
    """How much of a backup's temporary file (.NAME.XXXX.tmp, beside the final name) is written."""
    sizes = [p.stat().st_size for p in folder.glob(f".{name}.*.tmp") if p.exists()]
    return max(sizes, default=-1)


@pytest.mark.parametrize("written", [0, 8_000_000, 40_000_000])
def test_sigkill_during_a_backup_leaves_nothing_under_the_final_name(cli_env, tmp_path, written):
    rows = _big_database(cli_env, tmp_path)
    dest = tmp_path / "copy.db"
    p = subprocess.Popen(TANET + ["backup", str(dest)], env=cli_env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120  # only a guard against a hang
    while partial_copy_size(tmp_path, dest.name) < written and p.poll() is None:  # the copy observed growing
        assert time.monotonic() < deadline, "the backup never got under way"
        time.sleep(0.002)
    p.send_signal(signal.SIGKILL)
    p.wait()
    if dest.exists():  # it finished before the kill: then it is whole
        with sqlite3.connect(dest) as c:
            assert c.execute("SELECT count(*) FROM members").fetchone()[0] == rows
    else:
        assert p.returncode == -signal.SIGKILL


def test_a_full_disk_during_backup_blames_the_backup_and_leaves_nothing(cli_env, tmp_path):
    _big_database(cli_env, tmp_path, rows=2_000)
    dest = tmp_path / "copy.db"
    r = run(cli_env, "backup", dest, preexec_fn=limit_file_size(256 * 1024))
    message = one_line_error(r)
    assert str(dest) in message and "full" in message
    assert not dest.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".copy.db")] == []
    assert run(cli_env, "check").returncode == 0


def test_a_full_disk_during_invite_leaves_no_folder(cli_env, tmp_path):
    run(cli_env, "init", "--organiser-name", "C", "--organiser-email", "c@example.org", check=True)
    run(cli_env, "member", "import", FIXTURES / "members-signup-form.csv", check=True)
    run(cli_env, "meeting", "add", "2027-02-09", "--location", "Leith Library", check=True)
    folder = tmp_path / "invites"
    r = run(cli_env, "invite", "1", "-o", folder, preexec_fn=limit_file_size(4096))
    message = one_line_error(r)
    assert "full" in message
    assert not folder.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".invites")] == []


def test_backup_refuses_a_folder_that_does_not_exist(tmp_path, tanet):
    r = tanet("backup", tmp_path / "nonexistent" / "dir" / "x.db", ok=False)
    assert "does not exist" in r.stderr
    assert not (tmp_path / "nonexistent").exists()


def test_restore_checks_the_backup_keeps_the_current_file_and_puts_it_back(own_database, tmp_path, tanet):
    add_member(tanet, "Ann Able", "ann@example.org")
    copy = tmp_path / "monday.db"
    tanet("backup", copy, ok=True)
    add_member(tanet, "Bob Brown", "bob@example.org")
    assert "--yes" in tanet("restore", copy, ok=False).stderr
    r = tanet("restore", copy, "--yes", ok=True)
    aside = Path(r.stdout.split("copied aside to ")[1].split(".db")[0] + ".db")
    assert aside.exists() and mode(aside) == 0o600
    assert [m["name"] for m in tanet("member", "list", "--format", "json", ok=True).json()] == ["Ann Able"]
    with sqlite3.connect(aside) as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] == 2
    assert tanet("check", ok=True).exit_code == 0
    # A damaged backup, or somebody else's file, is refused and nothing changes.
    broken = tmp_path / "broken.db"
    data = bytearray(copy.read_bytes())
    data[4096:8192] = b"\x00" * 4096
    broken.write_bytes(bytes(data))
    assert "not restored" in tanet("restore", broken, "--yes", ok=False).stderr
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE x(a)")
    assert "not a tanet backup" in tanet("restore", other, "--yes", ok=False).stderr
    assert [m["name"] for m in tanet("member", "list", "--format", "json", ok=True).json()] == ["Ann Able"]


def test_check_reports_a_damaged_file_and_points_to_restore(own_database, tanet):
    for i in range(300):
        add_member(tanet, f"Person {i}", f"p{i}@example.org")
    tanet("backup", own_database.with_name("safe.db"), ok=True)
    with sqlite3.connect(own_database) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = own_database.stat().st_size
    with open(own_database, "r+b") as f:
        f.seek(size // 2)
        f.write(os.urandom(8192))
    r = tanet("check")
    assert r.exit_code == 1 and "Traceback" not in r.stderr
    assert "tanet restore" in r.stderr
    assert "check the file with: tanet check" not in r.stderr.lower()
    # A truncated file: check still runs and says so.
    with open(own_database, "r+b") as f:
        f.truncate(size // 3)
    r = tanet("check")
    assert r.exit_code == 1 and "tanet restore" in r.stderr and "Traceback" not in r.stderr


# Text in, text out -------------------------------------------------------------------------

NASTY_NAMES = ["[/] Mallory", "[link=https://evil.example]Bob[/link]", "Ann [bold]Lee[/bold]", ":smile: Sam"]


def _with_meeting(tanet):
    tanet("init", "--organiser-name", "C", "--organiser-email", "c@example.org", ok=True)
    tanet("meeting", "add", "2026-11-17", "--location", "Leith Library", ok=True)


@pytest.mark.parametrize("name", NASTY_NAMES)
def test_names_that_look_like_markup_print_as_themselves(tanet, name, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # wide enough that no cell wraps
    _with_meeting(tanet)
    add_member(tanet, name, "x@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("checkin", "record", "1", "1", "--note", "[red]fine[/red]", "--follow-up", ok=True)
    for args in (["member", "list"], ["member", "show", "1"], ["attendance", "show", "1"],
                 ["checkin", "list", "1"], ["followup", "list"]):
        out = tanet(*args, ok=True).stdout
        assert name in out, (args, out)
    assert "[red]fine[/red]" in tanet("checkin", "list", "1", ok=True).stdout


def test_markup_in_titles_areas_and_reasons_prints_as_itself(tanet):
    _with_meeting(tanet)
    tanet("area", "add", "[/] odd area", ok=True)
    tanet("meeting", "edit", "1", "--title", "[bold]Big[/] day", ok=True)
    tanet("meeting", "add", "2027-01-12", "--title", "[/]", "--location", "x", ok=True)
    tanet("meeting", "cancel", "2", "--reason", "snow [/] again", ok=True)
    assert "[bold]Big[/] day" in tanet("meeting", "list", ok=True).stdout
    assert "[/] odd area" in tanet("area", "list", ok=True).stdout
    assert "[/]" in tanet("meeting", "show", "2", ok=True).stdout


def _pty_output(env, *args):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.clear()
        os.environ.update({**env, "COLUMNS": "200"})
        os.execv(sys.executable, TANET + [str(a) for a in args])
    out = b""
    while True:
        try:
            ready, _, _ = select.select([fd], [], [], 10)
            if not ready:
                break
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return out


def test_escape_sequences_in_data_never_reach_the_terminal(cli_env, tmp_path):
    run(cli_env, "init", check=True)
    # Only an old file or another program could hold these: put them in directly.
    with sqlite3.connect(cli_env["TANET_DB"]) as c:
        c.execute("INSERT INTO members(name, email, organisation, service_area, sector, role, joined_on, notes) "
                  "VALUES (?, ?, ?, 'housing', 'public', 'frontline', '2025-01-01', ?)",
                  ["Eve \x1b[31mRed\x1b[0m", "eve\x7f@example.org", "Org\x9b2J\x1b]8;;https://evil.example\x07x",
                   "note \x1b[2J"])
    for args in (["member", "list"], ["member", "show", "1"], ["member", "list", "--format", "csv"]):
        raw = _pty_output(cli_env, *args)
        assert b"\x1b[31m" not in raw and b"\x1b]8;" not in raw and b"\x1b[2J" not in raw, raw
        assert b"\x7f" not in raw and "\x9b".encode() not in raw
        assert b"\\x1b[31mRed" in raw, raw


def test_control_characters_are_refused_in_single_line_fields(tanet):
    _with_meeting(tanet)
    bad = {"name": "Ann\x1b[31m", "email": "ann\x7f@example.org", "org": "Or\x85g"}
    base = {"name": "Ann", "email": "ann@example.org", "org": "Org"}
    for field, value in bad.items():
        values = {**base, field: value}
        r = tanet("member", "add", values["name"], "--email", values["email"], "--org", values["org"],
                  "--area", "housing", "--sector", "public", "--role", "frontline", ok=False)
        assert len(r.stderr.strip().splitlines()) == 1
    assert "title" in tanet("meeting", "add", "2027-01-12", "--title", "Line\r\nbreak", ok=False).stderr
    assert "line break" in tanet("config", "set", "network", "Net\nwork", ok=False).stderr
    assert "line break" in tanet("init", "--organiser-name", "A\rB", ok=False).stderr
    assert tanet("config", "set", "meeting.url", "https://meet.example.org/x\n", ok=True).stdout.strip() \
        == "meeting.url = https://meet.example.org/x"
    assert "tab" in tanet("area", "add", "odd\tarea", ok=False).stderr
    # Multi-line fields keep line breaks, and only those.
    add_member(tanet, "Ann", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("checkin", "record", "1", "1", "--note", "line one\r\nline two", ok=True)
    assert tanet("checkin", "list", "1", "--format", "json", ok=True).json()[0]["note"] == "line one\nline two"
    assert "escape" in tanet("checkin", "record", "1", "1", "--note", "x\x1b[2J", ok=False).stderr


def test_member_import_refuses_control_characters_with_line_numbers(tmp_path, tanet):
    f = tmp_path / "m.csv"
    f.write_text("Name,Email,Organisation\nAnn,ann@example.org,Org\nBob,bob@example.org,\"Org\x1b[31m\"\n",
                 encoding="utf-8")
    r = tanet("member", "import", f, ok=False)
    assert "line 3" in r.stderr and "escape character" in r.stderr
    assert tanet("member", "list", "--format", "json", ok=True).json() == []


def test_email_addresses_outside_ascii(tanet):
    _with_meeting(tanet)
    assert "plain" in tanet("member", "add", "José", "--email", "josé@example.org", "--org", "O", "--area",
                            "housing", "--sector", "public", "--role", "frontline", ok=False).stderr
    add_member(tanet, "Kim", "kim@exämple.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    assert tanet("member", "show", "1", "--format", "json", ok=True).json()["email"] == "kim@xn--exmple-cua.org"


FORMULAS = ["=HYPERLINK(\"https://evil.example\",\"x\")", "=cmd|' /C calc'!A0", "@SUM(1+1)", "+44 131 000",
            "-2+3", "\tTabbed"]


def test_csv_exports_defuse_formulas_and_import_restores_them(tmp_path, tanet, monkeypatch):
    for i, org in enumerate(FORMULAS):
        # a tab cannot be typed into a single-line field; the others are ordinary text
        org = org if not org.startswith("\t") else "Tabbed"
        add_member(tanet, f"P{i}", f"p{i}@example.org", "housing", "public", "frontline", org)
    out = tmp_path / "m.csv"
    tanet("member", "export", "-o", out, ok=True)
    text = out.read_text(encoding="utf-8-sig")
    for org in FORMULAS[:5]:
        assert "'" + org.replace('"', '""') in text or "'" + org in text, org
    listed = tanet("member", "list", "--format", "csv", ok=True).stdout
    assert "'=cmd|' /C calc'!A0" in listed
    before = tanet("member", "export", "--format", "json", ok=True).json()
    monkeypatch.setenv("TANET_DB", str(tmp_path / "second.db"))
    tanet("init", ok=True)
    tanet("member", "import", out, ok=True)
    after = tanet("member", "export", "--format", "json", ok=True).json()
    assert [m["organisation"] for m in after] == [m["organisation"] for m in before]


def test_markdown_and_html_reports_escape_data(tmp_path, tanet):
    _with_meeting(tanet)
    tanet("meeting", "edit", "1", "--title", "<img src=x onerror=alert(1)> [x](javascript:alert(1))", ok=True)
    add_member(tanet, "Ann", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("attendance", "mark", "1", "1", ok=True)
    md = tanet("report", "quarter", "2026Q4", "--format", "markdown", ok=True).stdout
    import re

    assert not re.search(r"(?<!\\)<img", md) and not re.search(r"(?<!\\)\]\(javascript:", md)
    assert "\\<img src=x onerror=alert(1)\\>" in md
    page = tanet("report", "quarter", "2026Q4", "--format", "html", ok=True).stdout
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


# Encodings and headers ---------------------------------------------------------------------

def test_a_utf8_file_with_one_cp1252_line_is_refused_naming_it(tmp_path, tanet):
    f = tmp_path / "mixed.csv"
    f.write_bytes("Name,Email\nZoë Ferreira,zoe@example.org\n".encode("utf-8")
                  + "Renée Blanc,renee@example.org\n".encode("cp1252")
                  + "Łukasz Munro,lukasz@example.org\n".encode("utf-8"))
    r = tanet("member", "import", f, ok=False)
    assert "line 3" in r.stderr and "UTF-8" in r.stderr
    assert tanet("member", "list", "--format", "json", ok=True).json() == []
    # A whole cp1252 file is still read as cp1252.
    g = tmp_path / "excel.csv"
    g.write_bytes("Name,Email\nRenée Blanc,renee@example.org\n".encode("cp1252"))
    tanet("member", "import", g, ok=True)
    assert tanet("member", "list", "--format", "json", ok=True).json()[0]["name"] == "Renée Blanc"


def test_duplicate_column_headers_are_refused(tmp_path, tanet):
    f = tmp_path / "two.csv"
    f.write_text("Name,Email,Name,Email\nAnn,ann@example.org,Bob,bob@example.org\n")
    assert "two columns headed 'Name'" in tanet("member", "import", f, ok=False).stderr


def test_a_teams_report_cut_short_is_refused_unless_forced(tmp_path, tanet):
    tanet("member", "import", FIXTURES / "members-signup-form.csv", ok=True)
    tanet("meeting", "add", "2024-05-14", "--time", "10:00", ok=True)
    text = (FIXTURES / "teams-attendance-2024-05-14.csv").read_bytes().decode("utf-16")
    lines = text.splitlines(keepends=True)
    cut = tmp_path / "cut.csv"
    cut.write_bytes("".join(lines[:len(lines) // 2]).encode("utf-16"))
    r = tanet("attendance", "import", "1", cut, ok=False)
    assert "cut short" in r.stderr and "33" in r.stderr
    tanet("attendance", "import", "1", cut, "--force", ok=True)


def test_over_long_fields_and_deep_json_are_one_line(tmp_path, tanet):
    f = tmp_path / "long.csv"
    f.write_text("Name,Email,Notes\nAnn,ann@example.org,\"" + "x" * 131_073 + "\"\n")
    assert "too long" in tanet("member", "import", f, ok=False).stderr
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    tanet("member", "import", deep, ok=False)


# Every mistake is one line, never a traceback or a hang ------------------------------------

def test_numbers_and_years_out_of_range(tanet):
    _with_meeting(tanet)
    for args in (["member", "show", "99999999999999999999"], ["meeting", "show", "99999999999999999999"],
                 ["followup", "close", "99999999999999999999"], ["report", "quarter", "9999Q4"],
                 ["meeting", "plan", "--start", "9999-11-01"], ["meeting", "add", "0001-01-01"]):
        tanet(*args, ok=False)
    assert "500" in tanet("meeting", "plan", "--start", "2027-01-05", "--count", "1000", ok=False).stderr
    assert "500" in tanet("meeting", "plan", "--start", "2027-01-05", "--every", "1",
                          "--until", "2039-01-01", ok=False).stderr


def test_an_unknown_time_zone_in_the_settings_is_one_line(own_database, tanet):
    _with_meeting(tanet)
    with sqlite3.connect(own_database) as c:
        c.execute("UPDATE settings SET value = 'Europe/Atlantis' WHERE key = 'timezone'")
        if not c.total_changes:
            c.execute("INSERT INTO settings(key, value) VALUES ('timezone', 'Europe/Atlantis')")
    for args in (["meeting", "list"], ["export", "ics"], ["meeting", "add", "2027-03-09"]):
        assert "Europe/Atlantis" in tanet(*args, ok=False).stderr


def test_a_secondly_rule_in_an_avoid_calendar_finishes_quickly(tmp_path, cli_env):
    run(cli_env, "init", check=True)
    ics = tmp_path / "secondly.ics"
    ics.write_text("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20270301T000000Z\r\nRRULE:FREQ=SECONDLY\r\n"
                   "END:VEVENT\r\nEND:VCALENDAR\r\n")
    # Expanding the rule itself would take for ever: the timeout is only a guard against that.
    r = run(cli_env, "meeting", "plan", "--start", "2027-01-05", "--count", "1", "--avoid", ics, "--dry-run",
            "--format", "json", timeout=120)
    assert r.returncode == 0, r.stderr
    assert [m["date"] for m in json.loads(r.stdout)] == ["2027-01-05"]
    # From 1 March every day is busy: the first date moves to the free Friday before, the second
    # has no free day either way and is skipped, and the plan says so (it always finishes).
    r = run(cli_env, "meeting", "plan", "--start", "2027-03-02", "--count", "2", "--avoid", ics, "--dry-run",
            "--format", "json", timeout=120)
    assert r.returncode == 0, r.stderr
    assert [m["date"] for m in json.loads(r.stdout)] == ["2027-02-26"]
    assert r.stderr.startswith("Skipped Tue 27 Apr 2027") and len(r.stderr.splitlines()) == 1


def test_moves_over_christmas_are_summarised(tanet):
    r = tanet("meeting", "plan", "--start", "2026-12-22", "--count", "1", "--avoid",
              FIXTURES / "school-holidays-2026-27.ics", "--dry-run", "--format", "json", ok=True).json()
    assert r[0]["date"] == "2027-01-05"
    assert r[0]["reason"] == ("Tue 22 Dec - Mon 04 Jan: Christmas holiday (school-holidays-2026-27.ics), "
                              "public holidays")


def test_local_times_that_do_not_exist_or_happen_twice_are_refused(tanet):
    assert "does not exist" in tanet("meeting", "add", "2027-03-28", "--time", "01:30", ok=False).stderr
    assert "happens twice" in tanet("meeting", "add", "2027-10-31", "--time", "01:30", ok=False).stderr
    tanet("meeting", "add", "2027-03-30", "--time", "01:30", "--duration", "60", ok=True)
    assert "does not exist" in tanet("meeting", "move", "1", "--to", "2027-03-28", ok=False).stderr
    assert "happens twice" in tanet("meeting", "move", "1", "--to", "2027-10-31", "--time", "01:15",
                                    ok=False).stderr
    # A meeting that would end in the missing hour is refused too.
    assert "does not exist" in tanet("meeting", "add", "2027-03-28", "--time", "00:30", "--duration", "60",
                                     ok=False).stderr


def test_a_member_added_during_a_large_import_does_not_break_it(cli_env, tmp_path):
    run(cli_env, "init", check=True)
    big = tmp_path / "big.csv"
    with open(big, "w") as f:
        f.write("Name,Email,Service area,Sector,Role\n")
        for i in range(30_000):
            f.write(f"Person {i},p{i}@example.org,housing,public,frontline\n")
    before = wal_size(cli_env["TANET_DB"])
    p = subprocess.Popen(TANET + ["member", "import", str(big)], env=cli_env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    wait_for_wal(p, cli_env["TANET_DB"], before)  # the import is writing (or already done)
    r = run(cli_env, "member", "add", "Late Person", "--email", "p29999@example.org", "--org", "O",
            "--area", "housing", "--sector", "public", "--role", "frontline")
    out, err = p.communicate()
    assert p.returncode == 0, err
    assert "UNIQUE" not in err and "UNIQUE" not in r.stderr
    with sqlite3.connect(cli_env["TANET_DB"]) as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] == 30_000
    assert r.returncode in (0, 1)


# Any text, in any field: refused with one line, or the same everywhere it goes ---------------

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


class _Cells(__import__("html.parser").parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.cells, self._in = [], False

    def handle_starttag(self, tag, attrs):
        if tag == "td":
            self._in, self._text = True, ""

    def handle_endtag(self, tag):
        if tag == "td" and self._in:
            self.cells.append(self._text)
            self._in = False

    def handle_data(self, data):
        if self._in:
            self._text += data


ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=int(os.environ.get("TANET_EXAMPLES", 40)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=ANY_TEXT)
@example(value="'=")  # found by this test: a quote already before a formula character
def test_any_text_is_refused_in_one_line_or_comes_back_the_same(value, tanet, tmp_path_factory, monkeypatch):
    import icalendar

    folder = tmp_path_factory.mktemp("any")
    monkeypatch.setenv("TANET_DB", str(folder / "t.db"))
    monkeypatch.setenv("COLUMNS", "400")
    from tanet.output import render

    render.reset()
    tanet("init", "--organiser-name", "C", "--organiser-email", "c@example.org", ok=True)
    r = tanet("member", "add", "--email", "a@example.org", "--org", value, "--area", "housing",
              "--sector", "public", "--role", "frontline", "--joined", "2025-01-01", "--", value)
    if r.exit_code != 0:
        assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
        tanet("member", "add", "Plain Person", "--email", "p@example.org", "--org", "O", "--area", "housing",
              "--sector", "public", "--role", "frontline", "--joined", "2025-01-01", ok=True)
    else:
        member = tanet("member", "show", "1", "--format", "json", ok=True).json()
        name, org = member["name"], member["organisation"]
        assert name == " ".join(value.split()) and org == value.strip()  # names fold runs of spaces
        assert name in tanet("member", "list", ok=True).stdout
        exported = folder / "m.csv"
        tanet("member", "export", "-o", exported, ok=True)
        monkeypatch.setenv("TANET_DB", str(folder / "second.db"))
        tanet("init", "--organiser-name", "C", "--organiser-email", "c@example.org", ok=True)
        tanet("member", "import", exported, ok=True)
        again = tanet("member", "show", "1", "--format", "json", ok=True).json()
        assert (again["name"], again["organisation"]) == (name, org)
    r = tanet("meeting", "add", "2026-11-17", "--title", value, "--location", value)
    if r.exit_code != 0:
        assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
        return
    meeting = tanet("meeting", "show", "1", "--format", "json", ok=True).json()
    title, location = meeting["title"], meeting["location"]
    assert location == (value.strip() or None)
    event = icalendar.Calendar.from_ical(tanet("export", "ics", ok=True).stdout.encode()).walk("VEVENT")[0]
    assert (str(event["SUMMARY"]), str(event.get("LOCATION")) if location else None) == (title, location)
    page = _Cells()
    page.feed(tanet("report", "quarter", "2026Q4", "--format", "html", ok=True).stdout)
    assert title in page.cells
    assert title in tanet("meeting", "list", ok=True).stdout


# Streaming: big files in little memory, the same text and the same all-or-nothing ------------

def test_streamed_json_is_the_same_text_as_the_whole_list(capsys):
    from tanet.output import render

    items = [{"id": i, "name": f"Zoë {i}", "notes": "a\nb\x85"} for i in range(3)]
    render.print_json_stream(iter(items))
    streamed = capsys.readouterr().out
    render.print_json(items)
    assert streamed == capsys.readouterr().out
    assert json.loads(streamed) == items
    render.print_json_stream(iter([]))
    assert capsys.readouterr().out == "[]\n"


def test_a_bad_last_row_of_a_big_file_imports_nothing(tmp_path, tanet):
    f = tmp_path / "big.csv"
    lines = ["Name,Email,Service area"] + [f"P {i},p{i}@example.org,housing" for i in range(5000)]
    lines.append("Last Person,not-an-address,housing")
    f.write_text("\n".join(lines) + "\n")
    r = tanet("member", "import", f, ok=False)
    assert "line 5002" in r.stderr and "1 problem " in r.stderr
    assert tanet("member", "list", "--format", "json", ok=True).json() == []
    r = tanet("member", "import", f, "--dry-run", ok=False)
    f.write_text("\n".join(lines[:-1]) + "\n")
    assert "5000 new" in tanet("member", "import", f, "--dry-run", ok=True).stdout
    assert tanet("member", "list", "--format", "json", ok=True).json() == []
    tanet("member", "import", f, ok=True)
    r = tanet("member", "import", f, ok=True)
    assert "5000 skipped" in r.stdout and "4995 more" in r.stderr and len(r.stderr.splitlines()) == 6


def test_line_breaks_left_in_an_old_file_do_not_break_invitations(own_database, tmp_path, tanet):
    import email
    from email import policy

    _with_meeting(tanet)
    add_member(tanet, "Ann", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    with sqlite3.connect(own_database) as c:  # as release 0.1 allowed
        c.execute("UPDATE settings SET value = 'Al\r\nex' WHERE key = 'organiser.name'")
        c.execute("UPDATE meetings SET title = 'Ti\r\ntle', date = '2027-02-09'")
        c.execute("UPDATE members SET name = 'A\x7fnn'")
    tanet("invite", "1", "-o", tmp_path / "inv", ok=True)
    [eml] = (tmp_path / "inv").glob("*.eml")
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["Subject"].startswith("Invitation: Ti tle, ")
    assert str(msg["From"]) == "Al ex <c@example.org>" and str(msg["To"]) == "A nn <ann@example.org>"
    assert "ORGANIZER;CN=\"Al ex\"" in tanet("export", "ics", ok=True).stdout
