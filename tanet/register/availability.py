"""When members usually cannot come, and which meeting slots bring in the services that are missing."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, timedelta

from tanet import dates
from tanet.errors import TanetError
from tanet.register import members as member_register
from tanet.register import membership, vocabulary
from tanet.store import settings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = {d: i for i, d in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
PATTERN_HINT = "Write it like 'mon-fri 08:45-15:30', 'tue,thu 13:00-17:00' or 'wed 09:00-12:30'."


def weekday(word: str) -> int:
    w = word.strip().lower().rstrip(".")
    if w in DAYS:
        return DAYS.index(w)
    if w in _FULL:
        return _FULL[w]
    for name, i in _FULL.items():
        if len(w) >= 3 and name.startswith(w):
            return i
    raise TanetError(f"'{word}' is not a day of the week. {PATTERN_HINT}")


def parse_days(text: str) -> list[int]:
    text = text.strip().lower()
    if text in ("weekdays", "weekday"):
        return [0, 1, 2, 3, 4]
    if text in ("daily", "everyday", "every-day", "all"):
        return list(range(7))
    out: list[int] = []
    for part in text.split(","):
        if not part.strip():
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            i, j = weekday(a), weekday(b)
            if j < i:
                raise TanetError(f"'{part.strip()}' runs backwards; write the earlier day first, e.g. mon-fri.")
            out += list(range(i, j + 1))
        else:
            out.append(weekday(part))
    if not out:
        raise TanetError(f"No days given. {PATTERN_HINT}")
    return sorted(set(out))


def parse_pattern(text: str) -> tuple[list[int], str, str, str]:
    """'mon-fri 08:45-15:30' -> ([0..4], '08:45', '15:30', normalised text)."""
    m = re.match(r"^\s*(.+?)\s+(\S+)\s*[-–]\s*(\S+)\s*$", text)
    if not m:
        raise TanetError(f"'{text}' is not a weekly pattern. {PATTERN_HINT}")
    days = parse_days(m[1])
    try:
        start, end = dates.parse_time(m[2]), dates.parse_time(m[3])
    except TanetError:
        raise TanetError(f"'{text}' has a time that is not HH:MM (24-hour). {PATTERN_HINT}") from None
    if dates.minutes(end) <= dates.minutes(start):
        raise TanetError(f"In '{text}' the end {end} is not after the start {start}.")
    return days, start, end, f"{describe_days(days)} {start}-{end}"


def describe_days(days: list[int]) -> str:
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{DAYS[days[0]]}-{DAYS[days[-1]]}"
    return ",".join(DAYS[d] for d in days)


def set_busy(conn: sqlite3.Connection, ref: str, patterns: list[str], today: date) -> tuple[sqlite3.Row, list[str]]:
    member = member_register.find_member(conn, ref)
    if not membership.is_active(member, today):
        raise TanetError(f"{member['name']} is not an active member"
                         + (f" (left on {member['left_on']})" if member["left_on"] else "") + ".")
    if not patterns:
        raise TanetError(f"Give at least one --busy pattern. {PATTERN_HINT}")
    parsed = [parse_pattern(p) for p in patterns]
    conn.execute("DELETE FROM availability WHERE member_id = ?", [member["id"]])
    conn.executemany("INSERT INTO availability(member_id, weekdays, start, \"end\", pattern) VALUES (?,?,?,?,?)",
                     [(member["id"], ",".join(map(str, d)), s, e, text) for d, s, e, text in parsed])
    return member, [p[3] for p in parsed]


def show(conn, ref: str) -> tuple[sqlite3.Row, list[str]]:
    member = member_register.find_member(conn, ref)
    return member, [r[0] for r in conn.execute("SELECT pattern FROM availability WHERE member_id = ? ORDER BY id",
                                               [member["id"]])]


def clear(conn, ref: str) -> sqlite3.Row:
    member = member_register.find_member(conn, ref)
    conn.execute("DELETE FROM availability WHERE member_id = ?", [member["id"]])
    return member


def low_participation_areas(conn, today: date) -> dict[str, float | None]:
    """Participation over the last four quarters (a year to today) per service area, below the threshold."""
    threshold = float(settings.get(conn, "report.gap_threshold"))
    start = (today - timedelta(days=365)).isoformat()
    rows = conn.execute(
        f"""WITH came AS (SELECT DISTINCT a.member_id FROM attendance a JOIN meetings mt ON mt.id = a.meeting_id
                         WHERE a.status = 'present' AND mt.status = 'scheduled' AND mt.date BETWEEN :s AND :t)
           SELECT m.service_area, count(*) AS members, count(came.member_id) AS attendees
           FROM members m LEFT JOIN came ON came.member_id = m.id
           WHERE {membership.active_sql(":t", "m")} GROUP BY m.service_area""",
        {"s": start, "t": today.isoformat()}).fetchall()
    return {r["service_area"]: round(r["attendees"] / r["members"], 2) for r in rows
            if r["members"] and r["attendees"] / r["members"] < threshold}


def suggest(conn: sqlite3.Connection, *, weekdays: list[int], times: list[str], duration: int,
            today: date, areas: list[str] = ()) -> dict:
    """Rank the candidate slots by how many active members (of `areas`, if given) can come."""
    if not weekdays or not times:
        raise TanetError("There are no candidate slots: give at least one day (--weekdays) and one time (--times).")
    for t in times:
        dates.end_time(t, duration)
    wanted = sorted({vocabulary.find_area(conn, a) for a in areas})
    in_areas = f" AND m.service_area IN ({','.join('?' * len(wanted))})" if wanted else ""
    active = membership.active_sql("?1", "m")
    members = conn.execute(f"SELECT id, service_area FROM members m WHERE {active}{in_areas}",
                           [today.isoformat(), *wanted]).fetchall()
    busy_rows = conn.execute(
        f"""SELECT av.member_id, av.weekdays, av.start, av."end" FROM availability av JOIN members m ON m.id = av.member_id
            WHERE {active}{in_areas}""", [today.isoformat(), *wanted]).fetchall()
    if not busy_rows and wanted:
        raise TanetError(f"Nobody in {' or '.join(wanted)} has recorded when they are busy, so there is nothing to "
                         "rank. Record it with: tanet availability set MEMBER --busy 'mon-fri 08:45-15:30'")
    if not busy_rows:
        raise TanetError("Nobody has recorded when they are busy, so every slot is unknown and there is nothing to rank. "
                         "Record it with: tanet availability set MEMBER --busy 'mon-fri 08:45-15:30'")
    patterns: dict[int, list] = {}
    for r in busy_rows:
        patterns.setdefault(r["member_id"], []).append(
            ({int(d) for d in r["weekdays"].split(",")}, dates.minutes(r["start"]), dates.minutes(r["end"])))
    low = low_participation_areas(conn, today)
    area_members: dict[str, int] = {}
    for m in members:
        area_members[m["service_area"]] = area_members.get(m["service_area"], 0) + 1
    slots = []
    for wd in weekdays:
        for t in times:
            s = dates.minutes(t)
            e = s + duration
            available = busy = unknown = 0
            by_area: dict[str, int] = {}
            for m in members:
                pats = patterns.get(m["id"])
                if pats is None:
                    unknown += 1
                elif any(wd in days and ps < e and s < pe for days, ps, pe in pats):
                    busy += 1
                else:
                    available += 1
                    by_area[m["service_area"]] = by_area.get(m["service_area"], 0) + 1
            slots.append({
                "weekday": DAYS[wd], "start": t, "available": available, "busy": busy, "unknown": unknown,
                "by_service_area": [{"service_area": a, "members": n, "available": by_area.get(a, 0),
                                     "low_participation": a in low}
                                    for a, n in sorted(area_members.items(), key=lambda x: x[0].casefold())],
            })
    low_gain = lambda sl: sum(x["available"] for x in sl["by_service_area"] if x["low_participation"])  # noqa: E731
    slots.sort(key=lambda sl: (-sl["available"], -low_gain(sl), sl["busy"], DAYS.index(sl["weekday"]), sl["start"]))
    return {"slots": slots, "low_participation": low}


def explain(result: dict, top: int = 3) -> list[str]:
    """For the top slots, which under-represented areas gain compared with the worst slot."""
    slots = result["slots"]
    low = result["low_participation"]
    if not low:
        return ["No service area is below the participation threshold over the last four quarters."]
    lines = []
    for sl in slots[:top]:
        gains = []
        for area in sorted(low):
            here = next(x for x in sl["by_service_area"] if x["service_area"] == area)
            worst = min(next(x for x in o["by_service_area"] if x["service_area"] == area)["available"] for o in slots)
            gains.append(f"{area} {here['available']} of {here['members']} can come"
                         + (f" (+{here['available'] - worst} on the worst slot)" if here["available"] > worst else ""))
        lines.append(f"{sl['weekday'].capitalize()} {sl['start']}: " + "; ".join(gains))
    return lines


def best_times(conn: sqlite3.Connection, spec: str, weekday_of: date, today: date) -> list[str]:
    """`best:N`: the N best start times on the weekday of the first planned meeting."""
    m = re.match(r"^best(?::(\d+))?$", spec.strip().lower())
    if not m:
        raise TanetError(f"'{spec}' is not understood; use best:2 for the two best slots, or times like 10:00,15:45.")
    n = int(m[1] or 1)
    if n < 1:
        raise TanetError("best:N needs N of at least 1.")
    duration = int(settings.get(conn, "meeting.duration"))
    candidates = [dates.hhmm(t) for t in range(9 * 60, 17 * 60 + 1, 15) if t + duration <= 19 * 60]
    result = suggest(conn, weekdays=[weekday_of.weekday()], times=candidates, duration=duration, today=today)
    chosen = []
    for sl in result["slots"]:
        # Distinct times that do not overlap, so the rotation offers real alternatives.
        s = dates.minutes(sl["start"])
        if all(abs(s - dates.minutes(c)) >= duration for c in chosen):
            chosen.append(sl["start"])
        if len(chosen) == n:
            break
    return sorted(chosen)
