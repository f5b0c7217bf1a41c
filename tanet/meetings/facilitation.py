"""Who facilitates: the facilitators of a meeting, and the rota that pairs ambassadors across sectors."""

from __future__ import annotations

import sqlite3
from datetime import date

from tanet import dates
from tanet.errors import TanetError
from tanet.meetings import schedule
from tanet.register import members, membership
from tanet.store import settings


def facilitators(conn: sqlite3.Connection, meeting_id: int) -> list[dict]:
    return [members.member_object(r) for r in conn.execute(
        "SELECT mb.* FROM facilitators f JOIN members mb ON mb.id = f.member_id WHERE f.meeting_id = ? ORDER BY mb.name",
        [meeting_id])]


def set_facilitators(conn: sqlite3.Connection, ref: str, member_refs: list[str], today: date) -> tuple[dict, list[dict]]:
    meeting = schedule.find_meeting(conn, ref, today)
    if meeting["status"] == "cancelled":
        raise TanetError(f"Meeting #{meeting['id']} is cancelled.")
    chosen = []
    for r in member_refs:
        m = members.find_member(conn, r)
        if not membership.is_active(m, meeting["date"]):
            raise TanetError(f"{m['name']} is not a member on {meeting['date']} (joined {m['joined_on']}"
                             + (f", left {m['left_on']}" if m["left_on"] else "") + ").")
        if m["id"] not in [c["id"] for c in chosen]:
            chosen.append(m)
    conn.execute("DELETE FROM facilitators WHERE meeting_id = ?", [meeting["id"]])
    conn.executemany("INSERT INTO facilitators(meeting_id, member_id) VALUES (?, ?)",
                     [(meeting["id"], m["id"]) for m in chosen])
    return schedule.objects(conn, [meeting])[0], facilitators(conn, meeting["id"])


def off_rotas(conn: sqlite3.Connection, member_id: int, from_day: date) -> list[dict]:
    """Take a member off the facilitators of every meeting on or after `from_day` (a leaver);
    returns those meetings, which now need someone in their place."""
    rows = conn.execute(schedule.SELECT + """ WHERE m.date >= ? AND m.status = 'scheduled' AND m.id IN
                        (SELECT meeting_id FROM facilitators WHERE member_id = ?) ORDER BY m.date, m.start""",
                        [from_day.isoformat(), member_id]).fetchall()
    conn.executemany("DELETE FROM facilitators WHERE meeting_id = ? AND member_id = ?",
                     [(r["id"], member_id) for r in rows])
    return schedule.objects(conn, rows)


def pick_pair(candidates: list, used: dict, last: dict, day: str) -> tuple:
    """Two facilitators: the least used first, then the least used from another
    sector (else another service area)."""
    if len(candidates) < 2:
        raise TanetError(f"Fewer than two active ambassadors are free on {day} (by their recorded availability): "
                         "mark more members as ambassadors (tanet member edit ID --ambassador).")
    ordered = sorted(candidates, key=lambda r: (used.get(r["id"], 0), last.get(r["id"], ""), r["id"]))
    for first in ordered:
        for rule in ("sector", "service_area"):
            second = next((c for c in ordered if c["id"] != first["id"] and c[rule] != first[rule]), None)
            if second is not None:
                return first, second
    raise TanetError("Every active ambassador is in the same sector and service area; "
                     "a pair across sectors is impossible. Mark more members as ambassadors.")


def rota(conn: sqlite3.Connection, count: int, today: date, apply: bool) -> list[dict]:
    """Facilitator pairs for the next upcoming meetings that have none yet.

    Each pair spans two sectors (else two service areas); the members who have
    facilitated least go first, and nobody goes twice while others wait.
    """
    if count < 1:
        raise TanetError("--count must be at least 1.")
    meetings = conn.execute(
        schedule.SELECT + """ WHERE m.status = 'scheduled' AND m.date >= ?
                     AND NOT EXISTS (SELECT 1 FROM facilitators f WHERE f.meeting_id = m.id)
                     ORDER BY m.date, m.start LIMIT ?""", [today.isoformat(), count]).fetchall()
    if not meetings:
        raise TanetError("No upcoming meeting is waiting for facilitators. Plan meetings with: tanet meeting plan")
    pool = conn.execute(
        """SELECT mb.*, (SELECT count(*) FROM facilitators f WHERE f.member_id = mb.id) AS times,
                  (SELECT max(mt.date) FROM facilitators f JOIN meetings mt ON mt.id = f.meeting_id
                   WHERE f.member_id = mb.id) AS last_time
           FROM members mb WHERE mb.ambassador = 1 AND mb.forgotten_on IS NULL""").fetchall()
    used = {r["id"]: r["times"] for r in pool}
    last = {r["id"]: r["last_time"] or "" for r in pool}
    busy: dict[int, list] = {}
    for r in conn.execute('SELECT member_id, weekdays, start, "end" FROM availability'):
        busy.setdefault(r["member_id"], []).append(
            ({int(d) for d in r["weekdays"].split(",")}, dates.minutes(r["start"]), dates.minutes(r["end"])))

    def free(member, meeting) -> bool:
        """Not busy then by the weekly pattern the member recorded (tanet availability set)."""
        day = date.fromisoformat(meeting["date"]).weekday()
        s, e = dates.minutes(meeting["start"]), dates.minutes(meeting["end"])
        return not any(day in days and ps < e and s < pe for days, ps, pe in busy.get(member["id"], []))

    tz = settings.get(conn, "timezone")
    proposals = []
    for meeting in meetings:
        pair = pick_pair([r for r in pool if membership.is_active(r, meeting["date"]) and free(r, meeting)], used, last,
                         meeting["date"])
        for m in pair:
            used[m["id"]] += 1
            last[m["id"]] = meeting["date"]
        if apply:
            conn.executemany("INSERT INTO facilitators(meeting_id, member_id) VALUES (?, ?)",
                             [(meeting["id"], m["id"]) for m in pair])
        proposals.append({"meeting": schedule.meeting_object(meeting, tz),
                          "facilitators": [members.member_object(m) for m in pair]})
    return proposals
