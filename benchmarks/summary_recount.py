"""The summary's headline figures recounted in plain SQL, the peer of `tanet report`.

    python benchmarks/summary_recount.py DATABASE START END TODAY

Only the standard library's sqlite3, on the same file, for the same period (both ends
included, meetings held up to TODAY): meetings held; attendance total, mean, min, max and
how many meetings reached the target; unique attendees; membership at the start and end,
joined and left; participation; and by service area the active members at the end, how
many of them came and how often. Prints them as JSON in the shape of `tanet report
--format json`, so that run.py can check once that both give the same numbers.
"""

from __future__ import annotations

import json
import sqlite3
import sys

HELD = "SELECT id FROM meetings WHERE status = 'scheduled' AND date BETWEEN :s AND :e AND date <= :t"
DEFAULT_TARGET = 30  # tanet's attendance.target when the file does not set it
ACTIVE_ON = "joined_on <= {0} AND (left_on IS NULL OR left_on > {0})"


def rounded(x):
    return None if x is None else round(x, 2)


def share(part: int, whole: int):
    return rounded(part / whole) if whole else None


def attendance(conn: sqlite3.Connection, params: dict) -> tuple[int, dict]:
    """How many meetings were held, and the figures of the number present at each."""
    row = conn.execute("SELECT value FROM settings WHERE key = 'attendance.target'").fetchone()
    target = int(row[0]) if row else DEFAULT_TARGET
    present = [n for (n,) in conn.execute(
        f"""SELECT count(a.member_id) FROM ({HELD}) h
            LEFT JOIN attendance a ON a.meeting_id = h.id AND a.status = 'present' GROUP BY h.id""", params)]
    total = sum(present)
    return len(present), {
        "total": total,
        "mean": rounded(total / len(present)) if present else None,
        "min": min(present, default=None),
        "max": max(present, default=None),
        "target": target,
        "meetings_at_target": sum(n >= target for n in present),
    }


def membership(conn: sqlite3.Connection, params: dict) -> dict:
    start, end, joined, left = conn.execute(
        f"""SELECT sum({ACTIVE_ON.format(':s')}), sum({ACTIVE_ON.format(':e')}),
                   sum(joined_on BETWEEN :s AND :e), sum(left_on BETWEEN :s AND :e) FROM members""",
        params).fetchone()
    return {"start": start or 0, "end": end or 0, "joined": joined or 0, "left": left or 0}


def by_service_area(conn: sqlite3.Connection, params: dict) -> list[dict]:
    """Active members at the end, attendees and attendances per service area: the listed areas
    in name order, then any other area a member has."""
    rows = {area: (members, attendees, attendances) for area, members, attendees, attendances in conn.execute(
        f"""SELECT m.service_area, sum({ACTIVE_ON.format(':e')}), count(came.member_id), coalesce(sum(came.n), 0)
            FROM members m LEFT JOIN (SELECT a.member_id, count(*) AS n FROM attendance a
                                      WHERE a.status = 'present' AND a.meeting_id IN ({HELD})
                                      GROUP BY a.member_id) came ON came.member_id = m.id
            GROUP BY m.service_area""", params)}
    listed = [name for (name,) in conn.execute("SELECT name FROM service_areas ORDER BY name COLLATE NOCASE")]
    out = []
    for area in listed + sorted(set(rows) - set(listed)):
        members, attendees, attendances = rows.get(area, (0, 0, 0))
        out.append({"service_area": area, "members": members, "attendees": attendees,
                    "attendances": attendances, "rate": share(attendees, members)})
    return out


def recount(db: str, start: str, end: str, today: str) -> dict:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    params = {"s": start, "e": end, "t": today}
    held, figures = attendance(conn, params)
    unique = conn.execute(
        f"SELECT count(DISTINCT member_id) FROM attendance WHERE status = 'present' AND meeting_id IN ({HELD})",
        params).fetchone()[0]
    members = membership(conn, params)
    return {
        "meetings_held": held,
        "attendance": figures,
        "unique_attendees": unique,
        "membership": members,
        "participation_rate": share(unique, members["end"]),
        "by_service_area": by_service_area(conn, params),
    }


if __name__ == "__main__":
    json.dump(recount(*sys.argv[1:5]), sys.stdout, indent=2)
    print()
