"""Days to avoid, read from someone else's calendar (e.g. a council's school holidays)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from tanet.errors import TanetError


def avoid_days(path: Path, first: date, last: date) -> dict[date, str]:
    """Every day between first and last covered by an event in the .ics file, with its summary.

    All-day events end the day before DTEND (RFC 5545: DTEND is exclusive);
    timed events cover each day they touch; recurring events are expanded.
    """
    import icalendar
    import recurring_ical_events

    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise TanetError(f"There is no file {path}. Check the name and folder of the calendar to avoid.") from None
    except OSError as e:
        raise TanetError(f"Cannot read {path}: {e.strerror}.") from None
    try:
        cal = icalendar.Calendar.from_ical(raw)
        for event in cal.walk("VEVENT"):
            _whole_days(event)
        events = recurring_ical_events.of(cal).between(first, last + timedelta(days=1))
    except Exception as e:  # icalendar raises ValueError and friends on non-iCalendar input
        raise TanetError(f"{path} is not an iCalendar (.ics) file ({str(e).splitlines()[0][:80]}). "
                         "Export the calendar as .ics and try again.") from None
    days: dict[date, str] = {}
    for event in events:
        summary = str(event.get("SUMMARY", "busy"))
        start = event["DTSTART"].dt
        end = event["DTEND"].dt if "DTEND" in event else None
        if isinstance(start, datetime):
            end = end or start
            d, stop = start.date(), (end - timedelta(microseconds=1)).date() if end > start else start.date()
        else:
            end = end or start + timedelta(days=1)
            d, stop = start, end - timedelta(days=1)
        while d <= stop:
            if first <= d <= last:
                days.setdefault(d, summary)
            d += timedelta(days=1)
    return days


_SUB_DAILY = ("SECONDLY", "MINUTELY", "HOURLY")


def _whole_days(event) -> None:
    """Only days matter here: a rule repeating within the day becomes a daily one, so a
    `FREQ=SECONDLY` rule with no end costs one occurrence a day, not 86,400."""
    rules = event.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        if str(rule.get("FREQ", [""])[0]).upper() in _SUB_DAILY:
            rule["FREQ"] = ["DAILY"]
            for part in ("INTERVAL", "BYHOUR", "BYMINUTE", "BYSECOND", "BYSETPOS"):
                rule.pop(part, None)
