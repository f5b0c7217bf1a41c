"""The summary's attendance figures against a plain recount from the raw rows.

The summary reads attendance once per period through indexes and shares that pass
between its sections; here every figure it derives that way is counted again the slow,
obvious way in Python, on a demo network with leavers, cancellations and three start
times, for quarters (read meeting by meeting) and long ranges (read member by member).
"""

from datetime import date

import pytest
from conftest import TODAY

from tanet.store import db
from tanet.summary import period_pass, report

PERIODS = [("quarter", f"{y}Q{q}") for y in (2025, 2026) for q in (1, 2, 3, 4)] + [
    ("range", "2023-01-01", TODAY), ("range", "2025-03-14", "2026-06-02"), ("range", "2026-10-01", "2026-10-31")]


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    from typer.testing import CliRunner

    from tanet.cli import app

    path = tmp_path_factory.mktemp("oracle") / "demo.db"
    env = {"TANET_DB": str(path), "TANET_TODAY": TODAY}
    run = CliRunner().invoke
    assert run(app, ["demo", "--db", str(path), "--members", "400", "--years", "3", "--quiet"], env=env).exit_code == 0
    # A third start time, with people at it, so the by-start-time breakdown has three columns.
    assert run(app, ["meeting", "add", "2026-08-20", "--time", "18:30", "--location", "Online"], env=env).exit_code == 0
    conn = db.open_db(path)
    evening = conn.execute("SELECT id FROM meetings WHERE date = '2026-08-20' AND start = '18:30'").fetchone()[0]
    ids = [r[0] for r in conn.execute((
            "SELECT id FROM members WHERE joined_on <= '2026-08-20' AND (left_on IS NULL OR "
            "left_on > '2026-08-20') ORDER BY id LIMIT 25"
        ))]
    conn.close()
    assert run(app, ["attendance", "mark", str(evening), *map(str, ids)], env=env).exit_code == 0
    return path


def recount(conn, start: str, end: str, today: str) -> dict:
    members = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM members")}
    meetings = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM meetings")}
    present = [(r[0], r[1]) for r in conn.execute("SELECT meeting_id, member_id FROM attendance WHERE status = 'present'")]

    def active(m, d):
        return m["joined_on"] <= d and (m["left_on"] is None or m["left_on"] > d)

    def held(mid, s, e):
        m = meetings[mid]
        return m["status"] == "scheduled" and s <= m["date"] <= e and m["date"] <= today

    came = [(mt, mb) for mt, mb in present if held(mt, start, end)]
    who = {mb for _, mb in came}
    before = {mb for mt, mb in present if meetings[mt]["status"] == "scheduled" and meetings[mt]["date"] < start}
    out = {"unique_attendees": len(who), "first_time_attendees": len(who - before),
           "per_meeting": sorted((meetings[mt]["date"], meetings[mt]["start"], sum(1 for x, _ in came if x == mt))
                                 for mt in {mt for mt in meetings if held(mt, start, end)}),
           "membership_end": sum(active(m, end) for m in members.values())}
    for column in ("service_area", "sector", "role"):
        groups = {}
        for m in members.values():
            g = groups.setdefault(m[column], {"members": 0, "attendees": 0, "attendances": 0})
            g["members"] += active(m, end)
            g["attendees"] += m["id"] in who
            g["attendances"] += sum(1 for _, mb in came if mb == m["id"])
        out[column] = groups
    slots = {}
    for mt, mb in came:
        key = (meetings[mt]["start"], members[mb]["service_area"])
        slots[key] = slots.get(key, 0) + 1
    out["slots"] = slots
    out["who"] = who
    return out


def period_of(kind, *args):
    today = date.fromisoformat(TODAY)
    if kind == "quarter":
        return report.period_of_quarter(args[0], False, 4, today)
    return report.range_period(date.fromisoformat(args[0]), date.fromisoformat(args[1]))


@pytest.mark.parametrize("kind,args", [(p[0], p[1:]) for p in PERIODS], ids=["-".join(p[1:]) for p in PERIODS])
def test_every_attendance_figure_matches_a_plain_recount(network, kind, args, monkeypatch):
    conn = db.open_db(network)
    today = date.fromisoformat(TODAY)
    period = period_of(kind, *args)
    data = report.summary(conn, period, today)
    want = recount(conn, period["start"], period["end"], TODAY)

    assert data["unique_attendees"] == want["unique_attendees"]
    assert data["first_time_attendees"] == want["first_time_attendees"]
    assert [(m["date"], m["start"], m["present"]) for m in data["meetings"]] == want["per_meeting"]
    assert data["attendance"]["total"] == sum(n for *_, n in want["per_meeting"])
    assert data["membership"]["end"] == want["membership_end"]
    for key, column in (("by_service_area", "service_area"), ("by_sector", "sector"), ("by_role", "role")):
        got = {g[column]: {k: g[k] for k in ("members", "attendees", "attendances")} for g in data[key]}
        assert {k: v for k, v in got.items() if any(v.values())} == \
            {k: v for k, v in want[column].items() if any(v.values())}
    assert {(s["start"], a["service_area"]): a["attendances"]
            for s in data["by_start_time"] for a in s["by_service_area"]} == want["slots"]

    prev = report.previous_period(period, 4)
    before = recount(conn, prev["start"], prev["end"], TODAY)
    assert data["lapsed"] == len(before["who"] - want["who"])
    p = period
    for entry in reversed(data["trend"]):
        assert entry["label"] == p["label"]
        assert entry["unique_attendees"] == recount(conn, p["start"], p["end"], TODAY)["unique_attendees"]
        p = report.previous_period(p, 4)

    # More start times than one pass counts per member: the rest are counted apart, the same.
    for columns in (1, 2):
        monkeypatch.setattr(period_pass, "SLOT_COLUMNS", columns)
        assert report.summary(conn, period, today) == data


def test_the_demo_has_what_the_recount_needs(network):
    conn = db.open_db(network)
    assert conn.execute("SELECT count(DISTINCT start) FROM meetings").fetchone()[0] == 3
    assert conn.execute("SELECT count(*) FROM members WHERE left_on IS NOT NULL").fetchone()[0] > 0
    assert conn.execute("SELECT count(*) FROM meetings WHERE status = 'cancelled'").fetchone()[0] > 0


def test_summaries_made_together_are_the_summaries_made_alone(network):
    """The handover's quarters share what they count in common (`known`): the same figures
    as each summary made by itself, whatever the order they are made in."""
    conn = db.open_db(network)
    today = date.fromisoformat(TODAY)
    quarters = [report.period_of_quarter(q, False, 4, today) for q in ("2025Q4", "2026Q1", "2026Q2", "2026Q3")]
    alone = [report.summary(conn, p, today) for p in quarters]
    known: dict = {}
    assert [report.summary(conn, p, today, known) for p in quarters] == alone
    assert any(key[0] == "active" for key in known) and len(known) > 4
    assert [report.summary(conn, p, today, known) for p in reversed(quarters)] == alone[::-1]
