"""One read of a period's attendance, shared by every section of the summary.

`PeriodPass.read` reads the period once into two temporary tables and returns the object
that names them; each section that needs them receives that object, so no section depends
on a table it did not see being made:

- `held` (temp.held): the held meetings with their present/apologies/check-in counts
  (read index-only);
- `att` (temp.att): one row per member present at any of them, with how many times (n)
  and, for each of the period's start times, how many times at that time (s0, s1, ...).

tests/test_report_oracle.py recounts every figure from the raw rows in Python and guards
this pass, both join orders and the fallback for very many start times.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

from tanet.register import membership

# A meeting has a register when anyone's attendance (present, apologies or absent) was recorded.
HAS_REGISTER = "EXISTS (SELECT 1 FROM attendance a WHERE a.meeting_id = m.id)"

SLOT_COLUMNS = 60  # start times counted per member in one pass; more than this are counted apart


def explicit_slots(slots: list[str]) -> int:
    """How many start times get a column in temp.att: all but the last, whose count is what
    the others leave of n (a column fewer to sum), unless there are too many for one pass."""
    return max(len(slots) - 1, 0) if len(slots) <= SLOT_COLUMNS else SLOT_COLUMNS


@dataclass(frozen=True)
class PeriodPass:
    """The period's held meetings (`held`) and who came (`att`), read once."""

    conn: sqlite3.Connection
    start: str
    end: str
    today: date
    slots: list[str]  # the period's start times, in the column order of temp.att
    held: str = "temp.held"
    att: str = "temp.att"

    @classmethod
    def read(cls, conn: sqlite3.Connection, period: dict, today: date) -> PeriodPass:
        conn.execute("DROP TABLE IF EXISTS temp.held")
        conn.execute("DROP TABLE IF EXISTS temp.att")
        conn.execute("""CREATE TEMP TABLE held (id INTEGER PRIMARY KEY, date TEXT, start TEXT, title TEXT,
                                               present INTEGER, apologies INTEGER, checked_in INTEGER,
                                               register INTEGER)""")
        conn.execute(
            f"""INSERT INTO temp.held
               SELECT id, date, start, title,
                      (SELECT count(*) FROM attendance a WHERE a.meeting_id = m.id AND a.status = 'present'),
                      (SELECT count(*) FROM attendance a WHERE a.meeting_id = m.id AND a.status = 'apologies'),
                      (SELECT count(*) FROM checkins c WHERE c.meeting_id = m.id),
                      {HAS_REGISTER}
               FROM meetings m WHERE status = 'scheduled' AND date BETWEEN :s AND :e AND date <= :t""",
            {"s": period["start"], "e": period["end"], "t": today.isoformat()})
        slots = [r[0] for r in conn.execute("SELECT DISTINCT start FROM temp.held ORDER BY start")]
        counted = slots[:explicit_slots(slots)]
        conn.execute(f"""CREATE TEMP TABLE att (member_id INTEGER PRIMARY KEY, n INTEGER NOT NULL
                         {''.join(f', s{i} INTEGER NOT NULL' for i in range(len(counted)))})""")
        held = conn.execute("SELECT count(*) FROM temp.held").fetchone()[0]
        conn.execute(
            f"""INSERT INTO temp.att SELECT a.member_id, count(*){''.join(', sum(h.start = ?)' for _ in counted)}
                FROM {present_attendance(conn, "temp.held", held, today)} GROUP BY a.member_id""", counted)
        return cls(conn, period["start"], period["end"], today, slots)

    def count(self, table: str) -> int:
        return self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def present_attendance(conn: sqlite3.Connection, meetings: str, count: int, today: date) -> str:
    """FROM and WHERE for the present attendance at `meetings` (held ones, as h), in the order
    that reads least: most of the history is read in member order and filtered; a few
    meetings are read meeting by meeting. CROSS JOIN fixes which table leads
    (tests/test_report_oracle.py checks both orders against a recount)."""
    all_held = conn.execute("SELECT count(*) FROM meetings WHERE status = 'scheduled' AND date <= ?",
                            [today.isoformat()]).fetchone()[0]
    if count * 4 >= all_held:
        return f"attendance a CROSS JOIN {meetings} h ON a.meeting_id = h.id AND a.status = 'present'"
    return f"{meetings} h CROSS JOIN attendance a ON a.meeting_id = h.id AND a.status = 'present'"


def earlier_headline(shared: PeriodPass, p: dict, counts: dict, target: int, lapsed: bool = True,
                     known: dict | None = None) -> tuple[dict, int | None]:
    """The headline of an earlier period (for `previous` and `trend`), and (when `lapsed`) how
    many who came then did not come in the period of `shared`. `known` keeps what a period's
    headline counted, for summaries made together (the handover's four quarters share three)."""
    conn = shared.conn
    params = {"s": p["start"], "e": p["end"], "t": shared.today.isoformat()}
    key = (p["start"], p["end"], params["t"])
    if known is not None and key in known and not lapsed:
        per_meeting, unique = known[key]
        return headline(per_meeting, unique, counts, target), None
    per_meeting = [r[0] if r[1] else None for r in conn.execute(
        f"""SELECT (SELECT count(*) FROM attendance a WHERE a.meeting_id = m.id AND a.status = 'present'),
                  {HAS_REGISTER} FROM meetings m WHERE status = 'scheduled' AND date BETWEEN :s AND :e AND date <= :t
           ORDER BY date, start""", params)]
    held = "(SELECT id FROM meetings WHERE status = 'scheduled' AND date BETWEEN :s AND :e AND date <= :t)"
    gone = f"coalesce(sum(member_id NOT IN (SELECT member_id FROM {shared.att})), 0)" if lapsed else "NULL"
    unique, gone = conn.execute(
        f"""SELECT count(*), {gone} FROM
            (SELECT a.member_id FROM {present_attendance(conn, held, len(per_meeting), shared.today)}
             GROUP BY a.member_id)""",
        params).fetchone()
    if known is not None:
        known[key] = (per_meeting, unique)
    return headline(per_meeting, unique, counts, target), gone


def headline(held: list[int | None], unique: int, counts: dict, target: int) -> dict:
    """Meetings held, attendance, unique attendees, membership and participation of a period.
    `held` has one count a held meeting, None where no register was taken: those are held but
    left out of the mean, the least, the most and the target."""
    per_meeting = [n for n in held if n is not None]
    total = sum(per_meeting)
    return {
        "meetings_held": len(held),
        "attendance": {"total": total, "mean": round(total / len(per_meeting), 2) if per_meeting else None,
                       "min": min(per_meeting) if per_meeting else None,
                       "max": max(per_meeting) if per_meeting else None,
                       "target": target, "meetings_at_target": sum(1 for n in per_meeting if n >= target)},
        "unique_attendees": unique,
        "membership": counts,
        "participation_rate": round(unique / counts["end"], 2) if counts["end"] else None,
    }


def memberships(conn: sqlite3.Connection, periods: list[dict], only_end: int = 0,
                known: dict | None = None) -> list[dict]:
    """Members active on the first and last day, joined and left, for several periods (the
    first `only_end` of them: active on the last day only).

    All in one statement, by the one membership rule (tanet/register/membership.py). A
    figure already in `known` (summaries made together: keyed by what it counts) is not
    counted again."""
    layout = []
    for i, p in enumerate(periods):
        s, e = p["start"], p["end"]
        layout.append({"end": ("active", e)} if i < only_end else
                      {"start": ("active", s), "end": ("active", e), "joined": ("joined", s, e), "left": ("left", s, e)})
    known = {} if known is None else known
    missing = list(dict.fromkeys(key for figures in layout for key in figures.values() if key not in known))
    counts, params = [], {}
    for n, (kind, *days) in enumerate(missing):
        if kind == "active":
            params[f"d{n}"] = days[0]
            counts.append(membership.active_count_sql(f":d{n}"))
        else:
            params[f"s{n}"], params[f"e{n}"] = days
            counts.append(f"(SELECT count(*) FROM members WHERE {kind}_on BETWEEN :s{n} AND :e{n})")
    if missing:
        known.update(zip(missing, conn.execute(f"SELECT {', '.join(counts)}", params).fetchone()))
    return [{name: known[key] for name, key in figures.items()} for figures in layout]
