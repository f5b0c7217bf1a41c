"""The handover pack is read from one moment of the database: a write from another program
while it is made goes ahead and is not seen in the pack, so tanet.db and members.csv agree,
whether the copy is made alongside on a second connection or (a busy or read-only file) on
the one connection; Ctrl-C leaves no pack; members.csv is `member export`'s bytes for any
cell."""

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_large_registers import register

from tanet import text as text_rules
from tanet.errors import TanetError
from tanet.register import export_lines, member_files, members
from tanet.store import db as dbmod
from tanet.store import settings as settings_store
from tanet.summary import handover

TODAY = date(2026, 11, 25)
NEWCOMER = ("INSERT INTO members (name, email, service_area, sector, role, joined_on) "
            "VALUES ('Nia Newcomer', 'nia@example.org', 'housing', 'public', 'frontline', '2026-11-01')")


def network(db, count: int):
    """`count` members (test_large_registers.register) and an organiser, as the calendar needs."""
    conn = register(db, count)
    with dbmod.transaction(conn):
        settings_store.set_value(conn, "organiser.name", "Alex Morgan")
        settings_store.set_value(conn, "organiser.email", "alex@example.org")
    return conn


def emails_in_copy(pack) -> list[str]:
    with sqlite3.connect(f"file:{pack / 'tanet.db'}?mode=ro", uri=True) as c:
        return [r[0] for r in c.execute("SELECT email FROM members WHERE forgotten_on IS NULL ORDER BY id")]


def emails_in_csv(pack) -> list[str]:
    with open(pack / "members.csv", encoding="utf-8-sig", newline="") as f:
        return [row["email"] for row in csv.DictReader(f)]


def write_while_the_pack_is_made(monkeypatch, db, outcomes: list):
    """Another program adds a member as members.csv is about to be written (the database
    copy may be made already, or still under way)."""
    real = handover.write_members_csv

    def with_a_write_meanwhile(out, conn, target):
        other = sqlite3.connect(db, timeout=0)
        try:
            other.execute(NEWCOMER)
            other.commit()
            outcomes.append("written")
        except sqlite3.OperationalError as e:
            outcomes.append(str(e))
        finally:
            other.close()
        real(out, conn, target)

    monkeypatch.setattr(handover, "write_members_csv", with_a_write_meanwhile)


def copies_made_on(monkeypatch) -> list:
    """The name of the thread each database copy of the pack is made on."""
    import threading

    threads, real = [], handover.copy_database

    def recorded(conn, dest, target, stop=None):
        threads.append(threading.current_thread().name)
        return real(conn, dest, target, stop)

    monkeypatch.setattr(handover, "copy_database", recorded)
    return threads


def test_a_write_from_another_program_goes_ahead_and_the_pack_keeps_its_moment(tmp_path, monkeypatch):
    """The copy is made alongside, on a second connection that started on the pack's moment:
    the other program's write, made while members.csv is written, is in neither."""
    db = tmp_path / "tanet.db"
    conn = network(db, 300)
    outcomes, threads = [], copies_made_on(monkeypatch)
    write_while_the_pack_is_made(monkeypatch, db, outcomes)
    pack = handover.write_pack(conn, db, tmp_path / "pack", TODAY)
    assert outcomes == ["written"] and threads == ["alongside"]
    assert emails_in_copy(pack) == emails_in_csv(pack)
    assert "nia@example.org" not in emails_in_csv(pack) and len(emails_in_csv(pack)) > 250
    assert not conn.in_transaction


def test_a_read_only_file_gives_a_pack_of_one_moment(tmp_path, monkeypatch):
    """tanet holds no lock on a file it may not change: the other program's write lands, and
    the pack, read in one read transaction, holds neither it nor half of it."""
    db = tmp_path / "tanet.db"
    network(db, 300).close()
    os.chmod(db, 0o400)
    conn = dbmod.open_db(db)
    assert conn.read_only_reason
    os.chmod(db, 0o600)  # for the other program (tanet already took the file as read-only)
    outcomes = []
    write_while_the_pack_is_made(monkeypatch, db, outcomes)
    pack = handover.write_pack(conn, db, tmp_path / "pack", TODAY)
    assert outcomes == ["written"]
    assert emails_in_copy(pack) == emails_in_csv(pack)
    assert "nia@example.org" not in emails_in_csv(pack)
    assert {p.name for p in pack.iterdir()} == {"tanet.db", "members.csv", "calendar.ics", "summaries", "index.html"}


def test_a_file_another_program_is_writing_is_read_on_one_connection_without_waiting(tmp_path, monkeypatch):
    """The moment's lock is not to be had: the pack does not wait for the other program, and
    is read on the one connection, one part after another, from one moment still."""
    from tanet.store import snapshot

    db = tmp_path / "tanet.db"
    conn = network(db, 200)
    monkeypatch.setattr(snapshot, "LOCK_WAIT_S", 0.05)
    threads = copies_made_on(monkeypatch)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute(NEWCOMER)  # not yet committed: not in the pack
    try:
        pack = handover.write_pack(conn, db, tmp_path / "pack", TODAY)
    finally:
        other.execute("COMMIT")
        other.close()
    assert threads == ["MainThread"]
    assert emails_in_copy(pack) == emails_in_csv(pack) and "nia@example.org" not in emails_in_csv(pack)
    assert not conn.in_transaction


def test_a_folder_made_at_the_target_meanwhile_is_left_alone_and_no_pack_is_put_there(tmp_path, monkeypatch):
    db = tmp_path / "tanet.db"
    conn = network(db, 20)
    target, real = tmp_path / "pack", handover.write_calendar

    def someone_makes_the_folder(out, conn):
        target.mkdir()
        (target / "notes.txt").write_text("mine")
        real(out, conn)

    monkeypatch.setattr(handover, "write_calendar", someone_makes_the_folder)
    try:
        handover.write_pack(conn, db, target, TODAY)
        raise AssertionError("the pack was put into a folder made meanwhile")
    except TanetError as e:
        assert "appeared while" in str(e) and "\n" not in str(e)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".pack")) == []


HOLD_THE_PAGES = """
import sys
from pathlib import Path
from tanet.summary import handover
mark, real_pages = Path(sys.argv[1]), handover.pages
def pages(conn, today, stop=None):
    mark.touch()
    stop.wait()  # the pages' thread is held here until the command stops it
    return real_pages(conn, today, stop)
handover.pages = pages
from tanet.cli import main
sys.argv = ["tanet", *sys.argv[2:]]
main()
"""


def test_ctrl_c_while_the_pack_is_made_stops_its_threads_and_leaves_no_pack(cli_env, tmp_path):
    db = tmp_path / "tanet.db"
    network(db, 200).close()
    mark, target = tmp_path / "reached", tmp_path / "pack"
    p = subprocess.Popen([sys.executable, "-c", HOLD_THE_PAGES, str(mark), "handover", "-o", str(target)],
                         env={**cli_env, "TANET_DB": str(db)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    end = time.monotonic() + 60
    while not mark.exists():
        assert p.poll() is None, p.stderr.read()
        assert time.monotonic() < end, "the pages were never started"
        time.sleep(0.01)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)  # the process ends only once its threads have
    assert p.returncode == 130 and "Stopped" in err and "Traceback" not in err, err
    assert not target.exists() and [q.name for q in tmp_path.iterdir() if q.name.startswith(".pack")] == []
    with sqlite3.connect(db, timeout=0) as other:  # and no lock is left behind
        other.execute(NEWCOMER)


# members.csv: the same bytes as `member export`, whatever the cells ---------------------------------

AWKWARD = st.one_of(
    st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.text(st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "\n", ",", '"', "\x1f", " ", "a", "Z", "0", "é",
                             "中", "\xa0", "."]), max_size=6))
NAMES = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=16),
    st.lists(st.sampled_from(["Dr", "dr.", "Mrs", "MISS", "Former", "Former member #3", "Barr,", "Seonaid", "Zoë",
                              "O'Neill", "=cmd", "'quoted", "Jo,hn", "José", "ſir", "Miß", "Aoife", " ", "\t"]),
             min_size=1, max_size=4).map(" ".join),
)
MEMBER = st.fixed_dictionaries({
    "name": NAMES, "email": AWKWARD, "phone": AWKWARD, "organisation": AWKWARD, "service_area": AWKWARD.filter(lambda v: v is not None),
    "sector": st.sampled_from(["public", "third", "private", "other"]),
    "role": st.sampled_from(["frontline", "supervisor", "manager", "senior-leader", "other"]),
    "ambassador": st.one_of(st.booleans(), st.integers(-2, 2), st.sampled_from([0.0, 0.5, "", "x"])),
    "joined_on": AWKWARD.filter(lambda v: v is not None), "left_on": AWKWARD, "known_as": AWKWARD,
    "consent_on": AWKWARD, "notes": AWKWARD, "forgotten_on": st.sampled_from([None, None, "2026-01-01"])})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(MEMBER, max_size=8), ids=st.lists(st.integers(-50, 10**9), min_size=8, max_size=8, unique=True))
def test_members_csv_is_member_exports_bytes_for_any_cell(tmp_path, rows, ids):
    db = tmp_path / "awkward.db"
    if not db.exists():
        dbmod.open_db(db, create=True).close()
    raw = sqlite3.connect(db, isolation_level=None)  # no tanet checks: any value a changed file could hold
    raw.execute("DELETE FROM members")
    for member_id, row in zip(ids, rows):
        raw.execute(f"INSERT OR IGNORE INTO members (id, {', '.join(row)}) VALUES (?{', ?' * len(row)})",
                    [member_id, *row.values()])
    raw.close()
    conn = dbmod.open_db(db)
    out = io.StringIO()
    export_lines.write_csv(out, conn)
    assert out.getvalue() == member_files.to_csv(member_files.export_rows(conn))
    conn.close()


@given(NAMES)
def test_the_quick_greeting_is_the_usual_one(name):
    said = members.default_known_as(name)
    assert export_lines.greeting_cell(name) == ("" if said is None else text_rules.csv_out(said))


def test_the_cells_guard_every_character_csv_out_guards():
    """export_lines reads csv_out's characters from the ASCII range: none lies beyond it."""
    beyond = [c for c in map(chr, range(128, 0x30000)) if not 0xD800 <= ord(c) < 0xE000 and text_rules.csv_out(c) != c]
    assert beyond == []
