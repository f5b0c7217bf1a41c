"""The quarterly summary for management, computed in SQL.

Definitions: a member is active on day D when
joined_on <= D and (left_on is null or left_on > D) (the rule of tanet/register/membership.py,
whose SQL forms the figures use); a meeting is held when it
is not cancelled and its date is today or earlier; every figure covers the
period with both ends included.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from tanet import dates
from tanet.errors import TanetError
from tanet.register import membership, outreach, vocabulary
from tanet.store import settings
from tanet.summary.period_pass import PeriodPass, earlier_headline, explicit_slots, headline, memberships


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
    p_end = start - timedelta(days=1)
    if start.day == 1 and (end + timedelta(days=1)).day == 1:  # whole calendar months: as many before
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        first = start.year * 12 + start.month - 1 - months
        p_start = date(first // 12, first % 12 + 1, 1)
    else:  # as many days before
        p_start = p_end - timedelta(days=(end - start).days)
    return {"label": f"{p_start} to {p_end}", "start": p_start.isoformat(), "end": p_end.isoformat(), "fiscal": False}


def range_period(start: date, end: date) -> dict:
    if start > end:
        raise TanetError(f"--from {start} is after --to {end}; give the earlier date first.")
    return {"label": f"{start} to {end}", "start": start.isoformat(), "end": end.isoformat(), "fiscal": False}


def _diff(a, b):
    if isinstance(a, dict):
        return {k: _diff(a[k], b.get(k) if b else None) for k in a if k != "target"}
    if a is None or b is None:
        return None
    return r2(a - b) if isinstance(a, float) or isinstance(b, float) else a - b


GROUPS = (("service_area", 0), ("sector", 1), ("role", 2))


def _groups(shared: PeriodPass, orders: dict[str, list[str]]) -> tuple[dict, dict]:
    """Members, attendees and attendances by service area, sector and role, and attendances by
    start time and service area: members counted from their index alone, then the pass's `att`
    joined to theirs (a third less work than looking up every member in `att`)."""
    conn, slots = shared.conn, shared.slots
    counted = explicit_slots(slots)
    last = slots[-1] if slots and counted == len(slots) - 1 else None
    totals = {column: {} for column, _ in GROUPS}
    by_slot: dict[tuple[str, str], int] = {}
    rows = {tuple(r[:3]): [r[3], 0, 0] + [0] * counted for r in conn.execute(
        f"""SELECT service_area, sector, role, sum({membership.active_sql(":e")}) FROM members
            GROUP BY service_area, sector, role""", {"e": shared.end})}
    for r in conn.execute(
            f"""SELECT m.service_area, m.sector, m.role, count(*), sum(att.n){''.join(f', sum(att.s{i})'
                                                                                       for i in range(counted))}
                FROM {shared.att} att JOIN members m ON m.id = att.member_id
                GROUP BY m.service_area, m.sector, m.role"""):
        rows[tuple(r[:3])][1:] = r[3:]
    for r in ((*key, *values) for key, values in rows.items()):
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
                    JOIN {shared.held} h ON h.id = a.meeting_id JOIN members m ON m.id = a.member_id
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


def summary(conn: sqlite3.Connection, period: dict, today: date, known: dict | None = None) -> dict:
    """The summary of `period`. Summaries made together may share a `known` dict, in which the
    earlier periods' headlines are counted once (period_pass.earlier_headline)."""
    values = settings.get_all(conn)
    target = int(values["attendance.target"])
    fiscal_start = int(values["report.fiscal_year_start"])

    # The four periods up to this one (for `trend`): this one read once (the pass every
    # section receives), the three before it counted lightly.
    periods = [period]
    for _ in range(3):
        periods.insert(0, previous_period(periods[0], fiscal_start))
    counts = memberships(conn, periods, only_end=2, known=known)  # the trend needs no more
    m = counts[-1]
    if m["start"] == 0 and m["end"] == 0 and m["joined"] == 0:
        raise TanetError(f"Nobody was a member between {period['start']} and {period['end']}, so there is "
                         "nothing to report. Choose a period when the network had members.")
    shared = PeriodPass.read(conn, period, today)
    head = headline([r[0] if r[1] else None
                     for r in conn.execute(f"SELECT present, register FROM {shared.held} ORDER BY date, start")],
                    shared.count(shared.att), m, target)
    earlier = [earlier_headline(shared, p, membership, target, lapsed=p is periods[-2], known=known)
               for p, membership in zip(periods[:-1], counts)]
    heads = [h for h, _ in earlier] + [head]
    prev_head, lapsed = earlier[-1]
    trend = [{"label": p["label"], "meetings_held": h["meetings_held"], "attendance_mean": h["attendance"]["mean"],
              "unique_attendees": h["unique_attendees"], "participation_rate": h["participation_rate"]}
             for p, h in zip(periods, heads)]
    from tanet.summary import feedback as feedback_forms

    return {
        # A period not over yet says so; a past one keeps the keys it always had.
        "period": {**_public(period),
                   **({"in_progress": True} if period["start"] <= today.isoformat() <= period["end"] else {})},
        "generated_on": today.isoformat(),
        "network": values["network"],
        "meetings_held": head["meetings_held"],
        **_meetings(shared),
        "attendance": head["attendance"],
        "unique_attendees": head["unique_attendees"],
        "first_time_attendees": _first_time(shared),
        "lapsed": lapsed,
        "membership": head["membership"],
        "participation_rate": head["participation_rate"],
        **_breakdowns(shared, float(values["report.gap_threshold"]), head["meetings_held"]),
        "facilitation": _facilitation(shared),
        **_sessions(shared),
        "resources": _resources(conn, period),
        "themes": _themes(conn, period),
        "follow_ups": _follow_ups(conn, period),
        "rsvp": _rsvp(shared),
        "feedback": feedback_forms.period_figures(shared),
        "outreach": outreach.figures(conn, period["start"], period["end"]),
        "previous": _previous(conn, periods[-2], head, prev_head),
        "commentary": commentary(conn, period["label"]),
        "trend": trend,
    }


def _public(period: dict) -> dict:
    return {k: v for k, v in period.items() if not k.startswith("_")}


def _meetings(shared: PeriodPass) -> dict:
    """The held meetings with their counts and sessions, and the cancelled ones."""
    conn = shared.conn
    meetings = [{**dict(r), "register": bool(r["register"])} for r in conn.execute(
        f"""SELECT id, date, start, title, present, apologies, checked_in, register FROM {shared.held}
            ORDER BY date, start""")]
    sessions_by_meeting: dict[int, list] = {}
    for r in conn.execute(f"""SELECT s.meeting_id, s.kind, s.title FROM sessions s JOIN {shared.held} h
                              ON h.id = s.meeting_id ORDER BY s.id"""):
        sessions_by_meeting.setdefault(r["meeting_id"], []).append({"kind": r["kind"], "title": r["title"]})
    for meeting in meetings:
        meeting["sessions"] = sessions_by_meeting.get(meeting["id"], [])
    cancelled = [dict(r) for r in conn.execute(
        """SELECT id, date, start, title, cancel_reason AS reason FROM meetings
           WHERE status = 'cancelled' AND date BETWEEN :s AND :e ORDER BY date, start""",
        {"s": shared.start, "e": shared.end})]
    return {"meetings_cancelled": len(cancelled), "meetings": meetings, "cancelled": cancelled,
            "meetings_without_register": sum(1 for meeting in meetings if not meeting["register"])}


def _breakdowns(shared: PeriodPass, threshold: float, held: int) -> dict:
    """By service area, sector, role and start time, and the areas below the gap threshold."""
    conn = shared.conn
    groups, by_slot = _groups(shared, {"service_area": vocabulary.area_names(conn),
                                       "sector": list(vocabulary.SECTORS), "role": list(vocabulary.ROLES)})
    by_area = groups["service_area"]
    # With no meeting held, nobody could come: that is no gap in anyone's engagement.
    gaps = [g for g in by_area if g["members"] and g["rate"] is not None and g["rate"] < threshold] if held else []
    by_start = []
    for r in conn.execute(f"""SELECT start, count(*) AS meetings, sum(present) AS attendances,
                                     sum(register) AS registers FROM {shared.held} GROUP BY start ORDER BY start"""):
        by_start.append({"start": r["start"], "meetings": r["meetings"], "attendances": r["attendances"],
                         "mean": ratio(r["attendances"], r["registers"]),
                         "by_service_area": [{"service_area": area, "attendances": n, "mean": ratio(n, r["meetings"])}
                                             for (start, area), n in sorted(by_slot.items()) if start == r["start"]]})
    return {"by_service_area": by_area, "by_sector": groups["sector"], "by_role": groups["role"],
            "engagement_gaps": gaps, "gap_threshold": threshold, "by_start_time": by_start}


def _facilitation(shared: PeriodPass) -> dict:
    conn = shared.conn
    fac = conn.execute(
        f"""WITH f AS (SELECT f.meeting_id, m.sector FROM facilitators f JOIN {shared.held} h ON h.id = f.meeting_id
                       JOIN members m ON m.id = f.member_id)
            SELECT (SELECT count(DISTINCT meeting_id) FROM f),
                   (SELECT count(*) FROM (SELECT meeting_id FROM f GROUP BY meeting_id
                                          HAVING count(DISTINCT sector) > 1)),
                   (SELECT group_concat(sector) FROM (SELECT DISTINCT sector FROM f ORDER BY sector))""").fetchone()
    facilitators = conn.execute(f"""SELECT count(DISTINCT f.member_id) FROM facilitators f
                                    JOIN {shared.held} h ON h.id = f.meeting_id""").fetchone()[0]
    return {"meetings_with_facilitators": fac[0], "cross_sector_meetings": fac[1],
            "meetings_without_facilitators": shared.count(shared.held) - fac[0],
            "sectors": fac[2].split(",") if fac[2] else [], "facilitators": facilitators}


def _sessions(shared: PeriodPass) -> dict:
    conn = shared.conn
    kinds = {k: 0 for k in ("spotlight", "reflective", "training", "guest")}
    for kind, n in conn.execute(f"""SELECT s.kind, count(*) FROM sessions s JOIN {shared.held} h
                                    ON h.id = s.meeting_id GROUP BY s.kind"""):
        kinds[kind] = n
    guests = [dict(r) for r in conn.execute(
        f"""SELECT s.guest, s.guest_org, s.title, h.id AS meeting_id, h.date FROM sessions s
            JOIN {shared.held} h ON h.id = s.meeting_id WHERE s.guest IS NOT NULL ORDER BY h.date, s.id""")]
    return {"sessions": {**kinds, "total": sum(kinds.values())}, "guest_speakers": guests}


def _resources(conn: sqlite3.Connection, period: dict) -> dict:
    params = {"s": period["start"], "e": period["end"]}
    shared = [dict(r) for r in conn.execute(
        "SELECT id, title, kind, created_on FROM resources WHERE created_on BETWEEN :s AND :e ORDER BY created_on, id",
        params)]
    adoptions = [dict(r) for r in conn.execute(
        """SELECT r.id AS resource_id, r.title, a.organisation, a.adopted_on FROM adoptions a
           JOIN resources r ON r.id = a.resource_id WHERE a.adopted_on BETWEEN :s AND :e
           ORDER BY a.adopted_on, r.id""", params)]
    total = conn.execute("SELECT count(*) FROM adoptions WHERE adopted_on <= :e", params).fetchone()[0]
    return {"shared": len(shared), "adoptions": len(adoptions), "adoptions_to_date": total,
            "items": shared, "adopted": adoptions}


def _themes(conn: sqlite3.Connection, period: dict) -> dict:
    params = {"s": period["start"], "e": period["end"]}
    counts = conn.execute(
        """SELECT sum(created_on BETWEEN :s AND :e), sum(resolved_on BETWEEN :s AND :e),
                  sum(created_on <= :e AND (resolved_on IS NULL OR resolved_on > :e))
           FROM themes""", params).fetchone()
    # The network's voice in its own words: themes recorded, raised or resolved in the period.
    items = [dict(r) for r in conn.execute(
        """SELECT id, text, kind, status FROM themes WHERE created_on BETWEEN :s AND :e
           OR raised_on BETWEEN :s AND :e OR resolved_on BETWEEN :s AND :e ORDER BY created_on, id""", params)]
    return {"raised": counts[0] or 0, "resolved": counts[1] or 0, "open_at_end": counts[2] or 0, "items": items}


def _follow_ups(conn: sqlite3.Connection, period: dict) -> dict:
    raised, still_open = conn.execute(
        """SELECT sum(raised_on BETWEEN :s AND :e), sum(raised_on BETWEEN :s AND :e AND closed_on IS NULL)
           FROM followups""", {"s": period["start"], "e": period["end"]}).fetchone()
    return {"raised": raised or 0, "open": still_open or 0}


def _first_time(shared: PeriodPass) -> int:
    """First ever attendance in the period: present now, never present at a held meeting
    before. One look back per member who came (by the attendance_present index), and none
    at all when no meeting was held before the period."""
    conn = shared.conn
    if not conn.execute("SELECT 1 FROM meetings WHERE status = 'scheduled' AND date < ? LIMIT 1",
                        [shared.start]).fetchone():
        return shared.count(shared.att)
    return conn.execute(
        f"""SELECT count(*) FROM {shared.att} x
            WHERE NOT EXISTS (SELECT 1 FROM attendance b JOIN meetings mt ON mt.id = b.meeting_id
                              WHERE b.member_id = x.member_id AND b.status = 'present'
                                AND mt.status = 'scheduled' AND mt.date < ?)""", [shared.start]).fetchone()[0]


def _previous(conn: sqlite3.Connection, prev: dict, head: dict, prev_head: dict) -> dict | None:
    """The previous period and the change from it; none before the network's first record."""
    first_record = conn.execute("SELECT min(d) FROM (SELECT min(joined_on) AS d FROM members "
                                "UNION ALL SELECT min(date) FROM meetings)").fetchone()[0]
    if not first_record or first_record > prev["end"]:
        return None
    return {"period": _public(prev), **prev_head, "change": _diff(head, prev_head)}


def commentary(conn: sqlite3.Connection, label: str) -> str | None:
    row = conn.execute("SELECT text FROM report_notes WHERE label = ?", [label]).fetchone()
    return row[0] if row else None


def set_commentary(conn: sqlite3.Connection, label: str, text: str | None) -> None:
    from tanet.text import some_lines

    clean = some_lines(text, "commentary")
    if clean is None:
        conn.execute("DELETE FROM report_notes WHERE label = ?", [label])
    else:
        conn.execute("INSERT INTO report_notes(label, text) VALUES (?, ?) ON CONFLICT(label) DO UPDATE SET "
                     "text = excluded.text", [label, clean])


def _rsvp(shared: PeriodPass) -> dict:
    """Answers to the invitations of the period's held meetings, counted per member and
    meeting: invited (in the outbox), responded, each answer, and whether who accepted came."""
    from tanet.mail import outbox

    conn = shared.conn
    invited = conn.execute(
        f"""SELECT count(*) FROM (SELECT DISTINCT o.meeting_id, o.member_id FROM outbox o
           JOIN {shared.held} h ON h.id = o.meeting_id WHERE o.member_id IS NOT NULL
           AND {outbox.kind_in(outbox.CALENDAR_KINDS, 'o.kind')})""").fetchone()[0]
    row = conn.execute(
        f"""SELECT count(*) AS responded,
                  coalesce(sum(r.response = 'accepted'), 0) AS accepted,
                  coalesce(sum(r.response = 'tentative'), 0) AS tentative,
                  coalesce(sum(r.response = 'declined'), 0) AS declined,
                  coalesce(sum(r.response = 'accepted' AND a.status = 'present'), 0) AS accepted_and_came,
                  coalesce(sum(r.response = 'accepted' AND coalesce(a.status, '') != 'present'), 0) AS accepted_not_came
           FROM responses r JOIN {shared.held} h ON h.id = r.meeting_id
           LEFT JOIN attendance a ON a.meeting_id = r.meeting_id AND a.member_id = r.member_id""").fetchone()
    return {"invited": invited, **dict(row)}
