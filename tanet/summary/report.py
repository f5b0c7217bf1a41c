"""The quarterly summary for management, computed in SQL.

Definitions: a member is active on day D when
joined_on <= D and (left_on is null or left_on > D); a meeting is held when it
is not cancelled and its date is today or earlier; every figure covers the
period with both ends included.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from tanet import dates
from tanet.register import members as member_register
from tanet.store import settings
from tanet.register import outreach
from tanet.errors import TanetError


def r2(x):
    return None if x is None else round(x, 2)


def ratio(a, b):
    return r2(a / b) if b else None


def period_of_quarter(text: str | None, fiscal: bool, fiscal_start: int, today: date) -> dict:
    word = (text or "").strip().lower()
    if word in ("", "this"):
        year, q = dates.quarter_of(today, fiscal, fiscal_start)
    elif word == "last":  # the latest complete quarter
        year, q = dates.previous_quarter(*dates.quarter_of(today, fiscal, fiscal_start))
    else:
        year, q = dates.parse_period(text)
    start, end = dates.quarter_bounds(year, q, fiscal, fiscal_start)
    label = dates.quarter_label(year, q, fiscal, fiscal_start)
    return {"label": label, "start": start.isoformat(), "end": end.isoformat(), "fiscal": fiscal,
            "_quarter": (year, q)}


def previous_period(period: dict, fiscal_start: int) -> dict:
    if "_quarter" in period:
        year, q = dates.previous_quarter(*period["_quarter"])
        start, end = dates.quarter_bounds(year, q, period["fiscal"], fiscal_start)
        label = dates.quarter_label(year, q, period["fiscal"], fiscal_start)
        return {"label": label, "start": start.isoformat(), "end": end.isoformat(), "fiscal": period["fiscal"],
                "_quarter": (year, q)}
    start, end = date.fromisoformat(period["start"]), date.fromisoformat(period["end"])
    length = (end - start).days + 1
    p_end = start - timedelta(days=1)
    p_start = p_end - timedelta(days=length - 1)
    return {"label": f"{p_start} to {p_end}", "start": p_start.isoformat(), "end": p_end.isoformat(), "fiscal": False}


def range_period(start: date, end: date) -> dict:
    if start > end:
        raise TanetError(f"--from {start} is after --to {end}; give the earlier date first.")
    return {"label": f"{start} to {end}", "start": start.isoformat(), "end": end.isoformat(), "fiscal": False}


SLOT_COLUMNS = 60  # start times counted per member in one pass; more than this are counted apart


def _explicit(slots: list[str]) -> int:
    """How many start times get a column in temp.att: all but the last, whose count is what
    the others leave of n (a column fewer to sum), unless there are too many for one pass."""
    return max(len(slots) - 1, 0) if len(slots) <= SLOT_COLUMNS else SLOT_COLUMNS


def _pass(conn, p: dict, today: date) -> list[str]:
    """One pass over the period's attendance, shared by every section.

    temp.held: the held meetings with their present/apologies/check-in counts (index-only);
    temp.att: one row per member present at any of them, with how many times (n) and, for
    each of the period's start times, how many times at that time (s0, s1, ...). Returns
    the start times in column order."""
    conn.execute("DROP TABLE IF EXISTS temp.held")
    conn.execute("DROP TABLE IF EXISTS temp.att")
    conn.execute("""CREATE TEMP TABLE held (id INTEGER PRIMARY KEY, date TEXT, start TEXT, title TEXT,
                                           present INTEGER, apologies INTEGER, checked_in INTEGER)""")
    conn.execute(
        """INSERT INTO temp.held
           SELECT id, date, start, title,
                  (SELECT count(*) FROM attendance a WHERE a.meeting_id = m.id AND a.status = 'present') AS present,
                  (SELECT count(*) FROM attendance a WHERE a.meeting_id = m.id AND a.status = 'apologies') AS apologies,
                  (SELECT count(*) FROM checkins c WHERE c.meeting_id = m.id) AS checked_in
           FROM meetings m WHERE status = 'scheduled' AND date BETWEEN :s AND :e AND date <= :t""",
        {"s": p["start"], "e": p["end"], "t": today.isoformat()})
    slots = [r[0] for r in conn.execute("SELECT DISTINCT start FROM temp.held ORDER BY start")]
    counted = slots[:_explicit(slots)]
    conn.execute(f"""CREATE TEMP TABLE att (member_id INTEGER PRIMARY KEY, n INTEGER NOT NULL
                     {''.join(f', s{i} INTEGER NOT NULL' for i in range(len(counted)))})""")
    held = conn.execute("SELECT count(*) FROM temp.held").fetchone()[0]
    conn.execute(
        f"""INSERT INTO temp.att SELECT a.member_id, count(*){''.join(', sum(h.start = ?)' for _ in counted)}
            FROM {_present(conn, "temp.held", held, today)} GROUP BY a.member_id""", counted)
    return slots


def _present(conn, meetings: str, count: int, today: date) -> str:
    """FROM and WHERE for the present attendance at `meetings` (held ones, as h), in the order
    that reads least: most of the history is read in member order and filtered; a few
    meetings are read meeting by meeting. CROSS JOIN fixes which table leads."""
    all_held = conn.execute("SELECT count(*) FROM meetings WHERE status = 'scheduled' AND date <= ?",
                            [today.isoformat()]).fetchone()[0]
    if count * 4 >= all_held:
        return f"attendance a CROSS JOIN {meetings} h ON a.meeting_id = h.id AND a.status = 'present'"
    return f"{meetings} h CROSS JOIN attendance a ON a.meeting_id = h.id AND a.status = 'present'"


def _earlier(conn, p: dict, today: date, membership: dict, target: int) -> tuple[dict, int]:
    """The headline of an earlier period (for `previous` and `trend`), and how many who came
    then did not come in this period (temp.att)."""
    params = {"s": p["start"], "e": p["end"], "t": today.isoformat()}
    per_meeting = [r[0] for r in conn.execute(
        """SELECT (SELECT count(*) FROM attendance a WHERE a.meeting_id = m.id AND a.status = 'present')
           FROM meetings m WHERE status = 'scheduled' AND date BETWEEN :s AND :e AND date <= :t
           ORDER BY date, start""", params)]
    held = "(SELECT id FROM meetings WHERE status = 'scheduled' AND date BETWEEN :s AND :e AND date <= :t)"
    unique, lapsed = conn.execute(
        f"""SELECT count(*), coalesce(sum(member_id NOT IN (SELECT member_id FROM temp.att)), 0) FROM
            (SELECT a.member_id FROM {_present(conn, held, len(per_meeting), today)} GROUP BY a.member_id)""",
        params).fetchone()
    return _headline(per_meeting, unique, membership, target), lapsed


def _headline(per_meeting: list[int], unique: int, membership: dict, target: int) -> dict:
    """Meetings held, attendance, unique attendees, membership and participation of a period."""
    total = sum(per_meeting)
    return {
        "meetings_held": len(per_meeting),
        "attendance": {"total": total, "mean": r2(total / len(per_meeting)) if per_meeting else None,
                       "min": min(per_meeting) if per_meeting else None,
                       "max": max(per_meeting) if per_meeting else None,
                       "target": target, "meetings_at_target": sum(1 for n in per_meeting if n >= target)},
        "unique_attendees": unique,
        "membership": membership,
        "participation_rate": ratio(unique, membership["end"]),
    }


def _memberships(conn, periods: list[dict], only_end: int = 0) -> list[dict]:
    """Members active on the first and last day, joined and left, for several periods (the
    first `only_end` of them: active on the last day only).

    Active on day D = all members - those who joined after D - those who joined and left by
    D: the two small sets are read from the joining- and leaving-date indexes."""
    active = ("(:everyone - (SELECT count(*) FROM members WHERE joined_on > :{0})"
              " - (SELECT count(*) FROM members WHERE left_on <= :{0} AND joined_on <= :{0}))")
    counts, keys = [], []
    params = {"everyone": conn.execute("SELECT count(*) FROM members").fetchone()[0]}
    for i, p in enumerate(periods):
        s, e = f"s{i}", f"e{i}"
        params[s], params[e] = p["start"], p["end"]
        if i < only_end:
            counts.append(active.format(e))
            keys.append(("end",))
            continue
        counts += [active.format(s), active.format(e),
                   f"(SELECT count(*) FROM members WHERE joined_on BETWEEN :{s} AND :{e})",
                   f"(SELECT count(*) FROM members WHERE left_on BETWEEN :{s} AND :{e})"]
        keys.append(("start", "end", "joined", "left"))
    values = iter(conn.execute(f"SELECT {', '.join(counts)}", params).fetchone())
    return [{k: next(values) for k in names} for names in keys]


def _diff(a, b):
    if isinstance(a, dict):
        return {k: _diff(a[k], b.get(k) if b else None) for k in a if k != "target"}
    if a is None or b is None:
        return None
    return r2(a - b) if isinstance(a, float) or isinstance(b, float) else a - b


GROUPS = (("service_area", 0), ("sector", 1), ("role", 2))


def _groups(conn, p: dict, slots: list[str], orders: dict[str, list[str]]) -> tuple[dict, dict]:
    """Members, attendees and attendances by service area, sector and role, and attendances by
    start time and service area, from one scan of members against temp.att."""
    counted = _explicit(slots)
    columns = "".join(f", coalesce(sum(att.s{i}), 0)" for i in range(counted))
    last = slots[-1] if slots and counted == len(slots) - 1 else None
    totals = {column: {} for column, _ in GROUPS}
    by_slot: dict[tuple[str, str], int] = {}
    for r in conn.execute(
            f"""SELECT m.service_area, m.sector, m.role,
                       sum(m.joined_on <= :e AND (m.left_on IS NULL OR m.left_on > :e)),
                       count(att.member_id), coalesce(sum(att.n), 0){columns}
                FROM members m LEFT JOIN temp.att att ON att.member_id = m.id
                GROUP BY m.service_area, m.sector, m.role""", {"e": p["end"]}):
        for column, i in GROUPS:
            t = totals[column].setdefault(r[i], [0, 0, 0])
            for k in range(3):
                t[k] += r[3 + k]
        per_slot = [(slots[k], r[6 + k]) for k in range(counted)]
        if last is not None:
            per_slot.append((last, r[5] - sum(r[6:])))
        for start, n in per_slot:
            if n:
                by_slot[start, r[0]] = by_slot.get((start, r[0]), 0) + n
    if len(slots) > counted + (last is not None):  # a period with very many start times: the rest counted apart
        for start, area, n in conn.execute(
                f"""SELECT h.start, m.service_area, count(*) FROM attendance a
                    JOIN temp.held h ON h.id = a.meeting_id JOIN members m ON m.id = a.member_id
                    WHERE a.status = 'present' AND h.start IN ({', '.join('?' * (len(slots) - counted))})
                    GROUP BY h.start, m.service_area""", slots[counted:]):
            by_slot[start, area] = n
    out = {}
    for column, _ in GROUPS:
        rows = totals[column]
        out[column] = []
        for v in orders[column] + sorted(set(rows) - set(orders[column])):
            members, attendees, attendances = rows.get(v, (0, 0, 0))
            out[column].append({column: v, "members": members, "attendees": attendees,
                                "attendances": attendances, "rate": ratio(attendees, members)})
    return out, by_slot


def summary(conn: sqlite3.Connection, period: dict, today: date) -> dict:
    values = settings.get_all(conn)
    target = int(values["attendance.target"])
    threshold = float(values["report.gap_threshold"])
    fiscal_start = int(values["report.fiscal_year_start"])
    s, e = period["start"], period["end"]
    params = {"s": s, "e": e, "t": today.isoformat()}

    # The four periods up to this one (for `trend`): this one read once into temp.held and
    # temp.att for every section, the three before it counted lightly.
    periods = [period]
    for _ in range(3):
        periods.insert(0, previous_period(periods[0], fiscal_start))
    memberships = _memberships(conn, periods, only_end=2)  # the trend needs no more
    m = memberships[-1]
    if m["start"] == 0 and m["end"] == 0 and m["joined"] == 0:
        raise TanetError(f"Nobody was a member between {s} and {e}, so there is nothing to report. "
                         "Choose a period when the network had members.")
    slots = _pass(conn, period, today)
    head = _headline([r[0] for r in conn.execute("SELECT present FROM temp.held ORDER BY date, start")],
                     conn.execute("SELECT count(*) FROM temp.att").fetchone()[0], m, target)
    earlier = [_earlier(conn, p, today, membership, target) for p, membership in zip(periods[:-1], memberships)]
    heads = [h for h, _ in earlier] + [head]
    prev_head, lapsed = earlier[-1]
    trend = [{"label": p["label"], "meetings_held": h["meetings_held"], "attendance_mean": h["attendance"]["mean"],
              "unique_attendees": h["unique_attendees"], "participation_rate": h["participation_rate"]}
             for p, h in zip(periods, heads)]

    meetings = [dict(r) for r in conn.execute(
        "SELECT id, date, start, title, present, apologies, checked_in FROM temp.held ORDER BY date, start")]
    sessions_by_meeting: dict[int, list] = {}
    for r in conn.execute("""SELECT s.meeting_id, s.kind, s.title FROM sessions s JOIN temp.held h
                             ON h.id = s.meeting_id ORDER BY s.id"""):
        sessions_by_meeting.setdefault(r["meeting_id"], []).append({"kind": r["kind"], "title": r["title"]})
    for mt in meetings:
        mt["sessions"] = sessions_by_meeting.get(mt["id"], [])
    cancelled = [dict(r) for r in conn.execute(
        """SELECT id, date, start, title, cancel_reason AS reason FROM meetings
           WHERE status = 'cancelled' AND date BETWEEN :s AND :e ORDER BY date, start""", params)]

    groups, by_slot = _groups(conn, period, slots, {"service_area": member_register.area_names(conn), "sector": list(member_register.SECTORS),
                                                    "role": list(member_register.ROLES)})
    by_area, by_sector, by_role = groups["service_area"], groups["sector"], groups["role"]
    # With no meeting held, nobody could come: that is no gap in anyone's engagement.
    gaps = [g for g in by_area if g["members"] and g["rate"] is not None and g["rate"] < threshold] \
        if head["meetings_held"] else []

    by_start = []
    for r in conn.execute("""SELECT start, count(*) AS meetings, sum(present) AS attendances
                             FROM temp.held GROUP BY start ORDER BY start"""):
        by_start.append({"start": r["start"], "meetings": r["meetings"], "attendances": r["attendances"],
                         "mean": ratio(r["attendances"], r["meetings"]),
                         "by_service_area": [{"service_area": area, "attendances": n, "mean": ratio(n, r["meetings"])}
                                             for (start, area), n in sorted(by_slot.items()) if start == r["start"]]})

    fac = conn.execute(
        """WITH f AS (SELECT f.meeting_id, m.sector FROM facilitators f JOIN temp.held h ON h.id = f.meeting_id
                      JOIN members m ON m.id = f.member_id)
           SELECT (SELECT count(DISTINCT meeting_id) FROM f),
                  (SELECT count(*) FROM (SELECT meeting_id FROM f GROUP BY meeting_id HAVING count(DISTINCT sector) > 1)),
                  (SELECT group_concat(sector) FROM (SELECT DISTINCT sector FROM f ORDER BY sector))""").fetchone()
    facilitators = conn.execute("""SELECT count(DISTINCT f.member_id) FROM facilitators f
                                   JOIN temp.held h ON h.id = f.meeting_id""").fetchone()[0]
    facilitation = {"meetings_with_facilitators": fac[0], "cross_sector_meetings": fac[1],
                    "meetings_without_facilitators": len(meetings) - fac[0],
                    "sectors": fac[2].split(",") if fac[2] else [], "facilitators": facilitators}

    kinds = {k: 0 for k in ("spotlight", "reflective", "training", "guest")}
    for kind, n in conn.execute("""SELECT s.kind, count(*) FROM sessions s JOIN temp.held h ON h.id = s.meeting_id
                                   GROUP BY s.kind"""):
        kinds[kind] = n
    guests = [dict(r) for r in conn.execute(
        """SELECT s.guest, s.guest_org, s.title, h.id AS meeting_id, h.date FROM sessions s
           JOIN temp.held h ON h.id = s.meeting_id WHERE s.guest IS NOT NULL ORDER BY h.date, s.id""")]

    shared = [dict(r) for r in conn.execute(
        "SELECT id, title, kind, created_on FROM resources WHERE created_on BETWEEN :s AND :e ORDER BY created_on, id", params)]
    adoptions = [dict(r) for r in conn.execute(
        """SELECT r.id AS resource_id, r.title, a.organisation, a.adopted_on FROM adoptions a
           JOIN resources r ON r.id = a.resource_id WHERE a.adopted_on BETWEEN :s AND :e
           ORDER BY a.adopted_on, r.id""", params)]
    total_adoptions = conn.execute("SELECT count(*) FROM adoptions WHERE adopted_on <= :e", params).fetchone()[0]
    themes = conn.execute(
        """SELECT sum(created_on BETWEEN :s AND :e), sum(resolved_on BETWEEN :s AND :e),
                  sum(created_on <= :e AND (resolved_on IS NULL OR resolved_on > :e))
           FROM themes""", params).fetchone()
    # The network's voice in its own words: themes recorded, raised or resolved in the period.
    theme_items = [dict(r) for r in conn.execute(
        """SELECT id, text, kind, status FROM themes WHERE created_on BETWEEN :s AND :e
           OR raised_on BETWEEN :s AND :e OR resolved_on BETWEEN :s AND :e ORDER BY created_on, id""", params)]
    follow = conn.execute(
        """SELECT sum(raised_on BETWEEN :s AND :e), sum(raised_on BETWEEN :s AND :e AND closed_on IS NULL)
           FROM followups""", params).fetchone()

    # First ever attendance in the period: present now, never present at a held meeting before.
    # One look back per member who came (by the attendance_present index), and none at all
    # when no meeting was held before the period.
    first_time = conn.execute("SELECT count(*) FROM temp.att").fetchone()[0]
    if conn.execute("SELECT 1 FROM meetings WHERE status = 'scheduled' AND date < :s LIMIT 1", params).fetchone():
        first_time = conn.execute(
            """SELECT count(*) FROM temp.att x
               WHERE NOT EXISTS (SELECT 1 FROM attendance b JOIN meetings mt ON mt.id = b.meeting_id
                                 WHERE b.member_id = x.member_id AND b.status = 'present'
                                   AND mt.status = 'scheduled' AND mt.date < :s)""", params).fetchone()[0]

    rsvp = _rsvp(conn)  # while temp.held still holds this period's meetings
    from tanet.summary import feedback as feedback_forms

    feedback = feedback_forms.period_figures(conn)
    prev = periods[-2]
    first_record = conn.execute("SELECT min(d) FROM (SELECT min(joined_on) AS d FROM members "
                                "UNION ALL SELECT min(date) FROM meetings)").fetchone()[0]
    previous = None
    if first_record and first_record <= prev["end"]:
        prev_public = {k: v for k, v in prev.items() if not k.startswith("_")}
        previous = {"period": prev_public, **prev_head, "change": _diff(head, prev_head)}

    return {
        "period": {k: v for k, v in period.items() if not k.startswith("_")},
        "generated_on": today.isoformat(),
        "network": values["network"],
        "meetings_held": head["meetings_held"],
        "meetings_cancelled": len(cancelled),
        "meetings": meetings,
        "cancelled": cancelled,
        "attendance": head["attendance"],
        "unique_attendees": head["unique_attendees"],
        "first_time_attendees": first_time,
        "lapsed": lapsed,
        "membership": head["membership"],
        "participation_rate": head["participation_rate"],
        "by_service_area": by_area,
        "by_sector": by_sector,
        "by_role": by_role,
        "engagement_gaps": gaps,
        "gap_threshold": threshold,
        "by_start_time": by_start,
        "facilitation": facilitation,
        "sessions": {**kinds, "total": sum(kinds.values())},
        "guest_speakers": guests,
        "resources": {"shared": len(shared), "adoptions": len(adoptions), "adoptions_to_date": total_adoptions,
                      "items": shared, "adopted": adoptions},
        "themes": {"raised": themes[0] or 0, "resolved": themes[1] or 0, "open_at_end": themes[2] or 0,
                   "items": theme_items},
        "follow_ups": {"raised": follow[0] or 0, "open": follow[1] or 0},
        "rsvp": rsvp,
        "feedback": feedback,
        "outreach": outreach.figures(conn, s, e),
        "previous": previous,
        "commentary": commentary(conn, period["label"]),
        "trend": trend,
    }


def commentary(conn: sqlite3.Connection, label: str) -> str | None:
    row = conn.execute("SELECT text FROM report_notes WHERE label = ?", [label]).fetchone()
    return row[0] if row else None


def set_commentary(conn: sqlite3.Connection, label: str, text: str | None) -> None:
    from tanet.text import lines

    clean = lines(text, "commentary")
    if clean is None:
        conn.execute("DELETE FROM report_notes WHERE label = ?", [label])
    else:
        conn.execute("INSERT INTO report_notes(label, text) VALUES (?, ?) ON CONFLICT(label) DO UPDATE SET "
                     "text = excluded.text", [label, clean])


def _rsvp(conn: sqlite3.Connection) -> dict:
    """Answers to the invitations of the held meetings in temp.held, counted per member and
    meeting: invited (in the outbox), responded, each answer, and whether who accepted came."""
    from tanet.mail import outbox

    invited = conn.execute(
        f"""SELECT count(*) FROM (SELECT DISTINCT o.meeting_id, o.member_id FROM outbox o
           JOIN temp.held h ON h.id = o.meeting_id WHERE o.member_id IS NOT NULL
           AND {outbox.kind_in(outbox.CALENDAR_KINDS, 'o.kind')})""").fetchone()[0]
    row = conn.execute(
        """SELECT count(*) AS responded,
                  coalesce(sum(r.response = 'accepted'), 0) AS accepted,
                  coalesce(sum(r.response = 'tentative'), 0) AS tentative,
                  coalesce(sum(r.response = 'declined'), 0) AS declined,
                  coalesce(sum(r.response = 'accepted' AND a.status = 'present'), 0) AS accepted_and_came,
                  coalesce(sum(r.response = 'accepted' AND coalesce(a.status, '') != 'present'), 0) AS accepted_not_came
           FROM responses r JOIN temp.held h ON h.id = r.meeting_id
           LEFT JOIN attendance a ON a.meeting_id = r.meeting_id AND a.member_id = r.member_id""").fetchone()
    return {"invited": invited, **dict(row)}
