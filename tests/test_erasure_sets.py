"""Forgetting many members at once, in one statement per table, leaves the same database
(and the same files) as forgetting them one by one."""

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from tanet import privacy
from tanet.demo import build as demo
from tanet.store import db as dbmod

TODAY = date(2026, 11, 25)
ROOT = "<root>"  # where the messages' files are; each copy of the file has its own folder


def add_traces(conn: sqlite3.Connection) -> list[int]:
    """Everything erasure touches, for a third of the members: named feedback naming
    themselves and others, outbox rows with files and errors quoting addresses and names,
    reply comments, check-in and follow-up notes. Returns the members to forget."""
    people = conn.execute("SELECT id, name, email FROM members ORDER BY id").fetchall()
    meetings = [r[0] for r in conn.execute("SELECT id FROM meetings ORDER BY date LIMIT 6")]
    chosen = [p["id"] for p in people[::3]][:25]
    for n, person in enumerate(people[:60]):
        other = people[(n + 1) % len(people)]
        meeting = meetings[n % len(meetings)]
        first = person["name"].split()[0]
        conn.execute("""INSERT INTO feedback (meeting_id, response_key, member_id, anonymous, usefulness,
                        take_back, next_topic, submitted_at) VALUES (?, ?, ?, 0, 4, ?, ?, '2026-01-01')""",
                     [meeting, f"r{n}", person["id"], f"{first} will share this with {other['name']}",
                      f"Ask {person['email']} about it" if n % 2 else None])
        message_id = f"<m{n}@example.org>"
        conn.execute("""INSERT INTO outbox (meeting_id, member_id, email, kind, method, sequence, message_id,
                        file, written_at, sent_at, error) VALUES (?, ?, ?, 'invitation', 'REQUEST', 0, ?, ?,
                        '2026-01-01T10:00:00', NULL, ?)""",
                     [meeting, person["id"], person["email"], message_id, f"{ROOT}/meeting-{meeting}/{n}.eml",
                      f"550 <{person['email']}>: unknown; also {other['email']}" if n % 4 == 0 else None])
        conn.execute("""INSERT OR REPLACE INTO responses (meeting_id, member_id, response, comment, message_id)
                        VALUES (?, ?, 'accepted', ?, ?)""", [meeting, person["id"], f"From {first}", message_id])
        conn.execute("UPDATE checkins SET note = 'private' WHERE member_id = ?", [person["id"]])
        conn.execute("""INSERT INTO followups (meeting_id, member_id, raised_on, note, about)
                        VALUES (?, ?, '2026-01-01', 'call back', ?)""", [meeting, person["id"], other["name"]])
        conn.execute("""INSERT INTO availability (member_id, weekdays, start, "end", pattern)
                        VALUES (?, 'Tue', '10:00', '12:00', 'Tue 10:00-12:00')""", [person["id"]])
    return chosen


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> tuple[Path, list[int]]:
    path = tmp_path_factory.mktemp("original") / "tanet.db"
    demo.build(path, members=90, years=4, seed=7, today=TODAY)
    conn = dbmod.open_db(path)
    with dbmod.transaction(conn):
        chosen = add_traces(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path, chosen


def copy_of(original: Path, folder: Path) -> sqlite3.Connection:
    """The original file with its messages' files in `folder`, written as tanet writes them."""
    folder.mkdir()
    shutil.copy(original, folder / "tanet.db")
    conn = dbmod.open_db(folder / "tanet.db")
    with dbmod.transaction(conn):
        conn.execute("UPDATE outbox SET file = replace(file, ?, ?)", [ROOT, str(folder)])
    for file, message_id in conn.execute("SELECT file, message_id FROM outbox WHERE file IS NOT NULL"):
        Path(file).parent.mkdir(exist_ok=True)
        Path(file).write_bytes(f"Message-ID: {message_id}\r\nSubject: Invitation\r\n\r\nHello\r\n".encode())
    return conn


def everything(conn: sqlite3.Connection, folder: Path) -> dict:
    """Every row of every table, in order, with the folder's own name taken out; and the
    files left."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    rows = {t: sorted((tuple(str(v).replace(str(folder), ROOT) if isinstance(v, str) else v for v in row)
                       for row in conn.execute(f'SELECT * FROM "{t}"')), key=repr) for t in tables}
    rows["files on disk"] = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.eml"))
    return rows


def test_forgetting_a_set_leaves_the_same_file_as_forgetting_one_by_one(original, tmp_path):
    path, chosen = original
    at_once, one_by_one = copy_of(path, tmp_path / "at-once"), copy_of(path, tmp_path / "one-by-one")
    before = everything(at_once, tmp_path / "at-once")
    with dbmod.transaction(at_once):
        privacy.forget_members(at_once, chosen, TODAY)
    for member_id in chosen:
        with dbmod.transaction(one_by_one):
            privacy.forget(one_by_one, str(member_id), TODAY)
    after = everything(at_once, tmp_path / "at-once")
    assert after == everything(one_by_one, tmp_path / "one-by-one")
    # ... and the erasure did happen: names, addresses, notes and files of those forgotten are gone.
    assert after != before
    forgotten = [dict(r) for r in at_once.execute(
        f"SELECT * FROM members WHERE id IN ({','.join('?' * len(chosen))})", chosen)]
    assert all(m["email"] is None and m["name"] == f"Former member #{m['id']}" and m["forgotten_on"] for m in forgotten)
    errors = " ".join(e for (e,) in at_once.execute("SELECT error FROM outbox WHERE error IS NOT NULL"))
    assert "[erased]" in errors
    for person in (p for p in before["members"] if p[0] in chosen):
        assert person[2] not in errors  # a server's refusal quoting a forgotten address loses it
    assert at_once.execute(f"""SELECT count(*) FROM outbox WHERE member_id IN ({','.join('?' * len(chosen))})
                               AND (file IS NOT NULL OR email IS NOT NULL)""", chosen).fetchone()[0] == 0
    assert len(after["files on disk"]) == len(before["files on disk"]) - len(
        [p for p in chosen if p in [row[0] for row in before["members"][:60]]])


def test_privacy_review_apply_forgets_the_set_and_erases_old_notes_like_one_by_one(original, tmp_path):
    """`privacy review --apply`'s work, set-based, against the members forgotten one by one
    and each old note erased by its own statement."""
    path, _ = original
    at_once, one_by_one = copy_of(path, tmp_path / "at-once"), copy_of(path, tmp_path / "one-by-one")
    due = privacy.review(at_once, TODAY)
    assert due["members_due"] and due["notes_due"]
    with dbmod.transaction(at_once):
        done = privacy.apply(at_once, due, TODAY)
    with dbmod.transaction(one_by_one):
        for member_id in due["members_due"]:
            privacy.forget(one_by_one, str(member_id), TODAY)
        erased = 0
        for table, column, sql in privacy.NOTES:
            for (rowid,) in one_by_one.execute(sql, [due["_notes_before"]]).fetchall():
                one_by_one.execute(f"UPDATE {table} SET {column} = NULL WHERE rowid = ?", [rowid])
                erased += 1
    assert done == {"members_forgotten": len(due["members_due"]), "notes_erased": erased}
    assert everything(at_once, tmp_path / "at-once") == everything(one_by_one, tmp_path / "one-by-one")
    assert privacy.review(at_once, TODAY)["notes_due"] == 0


def test_only_members_with_something_ahead_are_taken_off_it_one_by_one(original, tmp_path):
    """privacy review --apply takes off what is ahead (a rota, an invitation) member by
    member; it finds in one query who has anything ahead, and leaves out the others."""
    path, _ = original
    conn = copy_of(path, tmp_path / "copy")
    due = privacy.review(conn, TODAY)["members_due"]
    ahead = conn.execute("SELECT id FROM meetings WHERE date >= ? ORDER BY date LIMIT 2", [TODAY.isoformat()]).fetchall()
    past = conn.execute("SELECT id FROM meetings WHERE date < ? ORDER BY date DESC LIMIT 1", [TODAY.isoformat()]).fetchone()
    with dbmod.transaction(conn):
        conn.execute("DELETE FROM facilitators WHERE member_id IN (%s)" % ",".join("?" * len(due)), due)
        conn.execute("DELETE FROM outbox WHERE member_id IN (%s)" % ",".join("?" * len(due)), due)
        conn.execute("INSERT INTO facilitators (meeting_id, member_id) VALUES (?, ?)", [ahead[0][0], due[0]])
        conn.execute("INSERT INTO facilitators (meeting_id, member_id) VALUES (?, ?)", [past[0], due[1]])
        conn.execute("""INSERT INTO outbox (meeting_id, member_id, email, kind, message_id, written_at)
                        VALUES (?, ?, 'x@example.org', 'invitation', '<a@b>', '2026-11-01')""", [ahead[1][0], due[2]])
    assert privacy.with_something_ahead(conn, due, TODAY) == [due[0], due[2]]
