"""Planning a series of meetings on the cadence, around public holidays and school
calendars: dates move to the next free working day (or, after a long break, the nearest
free day before), and the cadence carries on from the original dates."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from tanet import dates
from tanet.errors import TanetError
from tanet.meetings.schedule import MeetingDefaults, check_times, insert_meeting
from tanet.store import settings


@dataclass
class PlannedDate:
    original: date
    date: date
    start: str
    reason: str | None = None
    moved_earlier: bool = False
    skipped: bool = False
    near: str | None = None  # skipped for a meeting already there: which


PLAN_LIMIT = 500
MAX_MOVE_DAYS = 31


def summarise_moves(reasons: list[tuple[date, str]]) -> str | None:
    """`Tue 22 Dec - Mon 04 Jan: Christmas holiday (term.ics), public holidays`: one entry
    per run of blocked days (weekends passed over), each reason named once."""
    runs: list[list] = []
    for day, why in reasons:
        if runs and (day - runs[-1][1]).days <= 3:
            runs[-1][1] = day
            runs[-1][2].append(why)
        else:
            runs.append([day, day, [why]])
    parts = []
    for a, b, whys in runs:
        holidays = [w for w in whys if w.endswith("(public holiday)")]
        named = list(dict.fromkeys(w for w in whys if w not in holidays))
        if len(set(holidays)) > 1:
            named.append("public holidays")
        elif holidays:
            named.append(holidays[0])
        span = f"{a:%a %d %b}" if a == b else f"{a:%a %d %b} - {b:%a %d %b}"
        parts.append(f"{span}: {', '.join(named)}")
    return "; ".join(parts) or None


def _free_day(original: date, blocked: dict[date, str], step: int, stop: date | None):
    """The nearest working day from `original` in direction `step` (+1 later, -1 earlier) that
    is not blocked, within MAX_MOVE_DAYS and never on or beyond `stop`; with the blocked days
    passed over on the way."""
    day, reasons = original, []
    while day.weekday() >= 5 or day in blocked:
        if day in blocked:
            reasons.append((day, blocked[day]))
        day += timedelta(days=step)
        if abs((day - original).days) > MAX_MOVE_DAYS or (stop is not None and (day - stop).days * step >= 0):
            return None, reasons
    return day, reasons


def plan_dates(start: date, every_weeks: int, *, count: int | None, until: date | None,
               times: list[str], blocked: dict[date, str], skip_blocked: bool = False) -> list[PlannedDate]:
    """The series on its cadence; a blocked date moves to the next free working day, or,
    when there is none within MAX_MOVE_DAYS (a long summer break), to the nearest free
    working day before it; when there is none either (or with `skip_blocked`), the date is
    skipped (a PlannedDate with `skipped` set). A plan always finishes.

    Moves never shift the cadence: each date is counted from the start, not from
    the moved date before it.
    """
    if every_weeks < 1:
        raise TanetError(f"--every must be at least 1 week, not {every_weeks}.")
    if count is None and until is None:
        count = 6
    if count is not None and count < 1:
        raise TanetError(f"--count must be at least 1, not {count}.")
    if count is not None and count > PLAN_LIMIT:
        raise TanetError(f"--count {count} is more than one plan holds ({PLAN_LIMIT} meetings). "
                         "Plan fewer at a time, e.g. a year or two ahead.")
    if until is not None and until < start:
        raise TanetError(f"--until {until} is before --start {start}.")
    out: list[PlannedDate] = []
    i = 0
    while count is None or i < count:
        original = start + timedelta(weeks=every_weeks * i)
        if until is not None and original > until:
            break
        if len(out) == PLAN_LIMIT:
            raise TanetError(f"Up to --until {until} that is more than one plan holds ({PLAN_LIMIT} meetings). "
                             "Choose an earlier --until.")
        time = times[i % len(times)]
        i += 1
        day, reasons = _free_day(original, blocked, +1, None)
        if day is not None:
            out.append(PlannedDate(original, day, time, summarise_moves(reasons)))
            continue
        why = summarise_moves(reasons)
        # Earlier, but not crowding the meeting before: more than half the cadence after it.
        earlier = [p.date for p in out if not p.skipped]
        stop = earlier[-1] + timedelta(days=every_weeks * 7 // 2) if earlier else None
        day, _ = (None, []) if skip_blocked else _free_day(original, blocked, -1, stop)
        if day is not None:
            out.append(PlannedDate(original, day, time, f"moved earlier: no free working day in the {MAX_MOVE_DAYS} days after it "
                                                        f"({why})", moved_earlier=True))
        else:
            out.append(PlannedDate(original, original, time, why, skipped=True))
    return out


def blocked_days(first: date, last: date, *, holidays: bool, avoid_files: list) -> dict[date, str]:
    """Days no meeting should fall on, with the reason."""
    blocked: dict[date, str] = {}
    if holidays:
        for d, name in dates.scottish_holidays(range(first.year, last.year + 1)).items():
            blocked[d] = f"{name} (public holiday)"
    for path in avoid_files:
        from tanet.meetings.avoid import avoid_days

        for d, name in avoid_days(path, first, last).items():
            blocked.setdefault(d, f"{name} ({path.name})")
    return blocked


NEAR_DAYS = 14  # a planned date this close to a meeting already there is not proposed


def meetings_near(conn: sqlite3.Connection, planned: list[PlannedDate], today: date) -> list[sqlite3.Row]:
    """The scheduled meetings not yet held already in the plan's span (give or take NEAR_DAYS);
    each planned date closer than NEAR_DAYS to one of them is marked skipped, saying which.
    A meeting already held does not hold the next series back."""
    dates_planned = [p.date for p in planned if not p.skipped]
    if not dates_planned:
        return []
    existing = conn.execute(
        """SELECT id, date, start, title FROM meetings WHERE status = 'scheduled' AND date BETWEEN ? AND ?
           ORDER BY date, start, id""",
        [max(min(dates_planned) - timedelta(days=NEAR_DAYS - 1), today).isoformat(),
         (max(dates_planned) + timedelta(days=NEAR_DAYS - 1)).isoformat()]).fetchall()
    for p in planned:
        near = [m for m in existing if abs((date.fromisoformat(m["date"]) - p.date).days) < NEAR_DAYS]
        if near and not p.skipped:
            p.skipped, p.near = True, f"meeting #{near[0]['id']} is on {near[0]['date']}"
    return existing


def plan(conn: sqlite3.Connection, *, start: date, count: int | None, until: date | None,
         every: int | None, times: list[str], defaults: MeetingDefaults, holidays: bool,
         avoid_files: list, dry_run: bool, today: date, skip_blocked: bool = False) -> tuple[list[dict], list[PlannedDate], list]:
    """Plan (or with `dry_run` only show) a series; returns the meetings, the dates skipped
    (off the holidays, or within NEAR_DAYS of a meeting already there) and those meetings."""
    if count is not None and until is not None:
        raise TanetError("Give either --count or --until, not both.")
    every = every if every is not None else int(settings.get(conn, "meeting.cadence_weeks"))
    times = times or [defaults.start]
    for t in times:
        dates.end_time(t, defaults.duration)
    horizon = until or (start + timedelta(weeks=(every if every > 0 else 1) * ((count or 6) + 1)))
    blocked = blocked_days(start - timedelta(days=MAX_MOVE_DAYS + 7), horizon + timedelta(days=MAX_MOVE_DAYS + 7),
                           holidays=holidays, avoid_files=avoid_files)
    planned = plan_dates(start, every, count=count, until=until, times=times, blocked=blocked,
                         skip_blocked=skip_blocked)
    existing = meetings_near(conn, planned, today)
    if planned and all(p.skipped for p in planned) and existing:
        raise TanetError(f"Every date of this plan is within {NEAR_DAYS // 7} weeks of a meeting already planned "
                         f"(meeting #{existing[0]['id']} on {existing[0]['date']} first); nothing was added. "
                         "See them with: tanet meeting list --upcoming")
    skipped = [p for p in planned if p.skipped]
    planned = [p for p in planned if not p.skipped]
    tz = settings.get(conn, "timezone")
    out = []
    for p in planned:
        check_times(conn, p.date, p.start, dates.end_time(p.start, defaults.duration))
        item = {"id": None, "date": p.date.isoformat(), "weekday": f"{p.date:%A}", "start": p.start,
                "end": dates.end_time(p.start, defaults.duration), "title": defaults.title,
                "original_date": p.original.isoformat(), "moved": p.date != p.original, "reason": p.reason,
                "starts_at": dates.local_datetime(p.date, p.start, tz).isoformat()}
        if not dry_run:
            item["id"] = insert_meeting(conn, p.date, p.start, defaults)
        out.append(item)
    return out, skipped, existing
