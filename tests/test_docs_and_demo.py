"""The command reference stays true, every command explains itself, and the demo is a safe tour."""

import sqlite3
from pathlib import Path

from tanet.output import docs

ROOT = Path(__file__).parent.parent


def test_every_command_and_option_has_help():
    for full, cmd, _ in docs.walk():
        assert (cmd.help or "").strip(), f"{full} has no help text"
        for p in cmd.params:
            if p.param_type_name == "option" and p.name not in ("help",):
                assert p.help, f"{full} {p.opts} has no help text"


def test_command_reference_is_up_to_date():
    written = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    assert written == docs.reference(), "docs/commands.md is out of date: run make docs"
    for full, _, _ in docs.walk():
        assert f"`{full} " in written


def test_readme_keeps_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


def test_demo_builds_a_living_network(tanet, tmp_path):
    db = tmp_path / "demo.db"
    r = tanet("demo", "--db", db, ok=True)
    assert "summary for" in r.stdout and str(db) in r.stdout
    assert "Register of the last meeting" in r.stdout and "Best meeting slots" in r.stdout
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] == 140
        held = c.execute("SELECT count(*) FROM meetings WHERE status = 'scheduled' AND date <= '2026-11-25'").fetchone()[0]
        assert held >= 10
        per_meeting = [n for (n,) in c.execute(
            "SELECT count(*) FROM attendance WHERE status = 'present' GROUP BY meeting_id")]
        assert 25 <= sum(per_meeting) / len(per_meeting) <= 45
        assert c.execute("SELECT count(*) FROM meetings WHERE status = 'cancelled'").fetchone()[0] == 1
        assert c.execute("SELECT count(*) FROM sessions WHERE guest IS NOT NULL").fetchone()[0] >= 3
        assert c.execute("SELECT count(*) FROM members WHERE left_on IS NOT NULL").fetchone()[0] >= 3
        assert c.execute("SELECT count(*) FROM adoptions").fetchone()[0] >= 5
        assert c.execute("SELECT count(DISTINCT start) FROM meetings").fetchone()[0] == 2
        # Education comes more at 15:45 than at 10:00.
        by_slot = dict(c.execute(
            """SELECT mt.start, avg(n) FROM (SELECT a.meeting_id, count(*) AS n FROM attendance a
                 JOIN members m ON m.id = a.member_id WHERE m.service_area = 'education' AND a.status = 'present'
                 GROUP BY a.meeting_id) x JOIN meetings mt ON mt.id = x.meeting_id GROUP BY mt.start"""))
        assert by_slot["15:45"] > 2 * by_slot["10:00"]


def test_demo_is_deterministic_for_a_seed(tanet, tmp_path):
    def dump(db):
        with sqlite3.connect(db) as c:
            return (c.execute("SELECT name, email, joined_on, left_on FROM members ORDER BY id").fetchall(),
                    c.execute("SELECT meeting_id, member_id, status FROM attendance ORDER BY 1, 2").fetchall())
    tanet("demo", "--db", tmp_path / "a.db", "--seed", "3", "--quiet", ok=True)
    tanet("demo", "--db", tmp_path / "b.db", "--seed", "3", "--quiet", ok=True)
    tanet("demo", "--db", tmp_path / "c.db", "--seed", "4", "--quiet", ok=True)
    assert dump(tmp_path / "a.db") == dump(tmp_path / "b.db")
    assert dump(tmp_path / "a.db")[1] != dump(tmp_path / "c.db")[1]


def test_demo_never_touches_the_coordinators_file(tanet, own_database, tmp_path):
    tanet("member", "add", "Real Person", "--email", "real@example.org", "--org", "Org", "--area", "housing",
          "--sector", "public", "--role", "frontline", ok=True)
    r = tanet("demo", "--quiet", ok=True)
    path = Path(r.stdout.strip())
    assert path != own_database and path.exists()
    assert "already exists and is not empty" in tanet("demo", "--db", own_database, ok=False).stderr
    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] == 1


def test_larger_demo(tanet, tmp_path):
    tanet("demo", "--db", tmp_path / "big.db", "--members", "400", "--years", "3", "--quiet", ok=True)
    with sqlite3.connect(tmp_path / "big.db") as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] == 400
        assert c.execute("SELECT count(DISTINCT email) FROM members").fetchone()[0] == 400
