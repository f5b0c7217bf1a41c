"""Reading the dates and times a person types, and the calendar arithmetic around them."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from tanet.errors import TanetError

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$", re.I)
_RELATIVE = re.compile(r"^(?:in\s+(\d{1,4})\s+(day|week|month|year)s?|(\d{1,4})\s+(day|week|month|year)s?\s+ago)$")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December")
FORMAT_HINT = "Write dates as YYYY-MM-DD or DD/MM/YYYY (day first), e.g. 2027-03-09 or 09/03/2027"
# A network's records span decades, not millennia: outside these years a date is a typo
# (and calendar arithmetic near year 9999 would overflow).
FIRST_YEAR, LAST_YEAR = 1900, 2199


def check_year(year: int, text: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise TanetError(f"'{text}' is out of range: give a year from {FIRST_YEAR} to {LAST_YEAR}.")


def _make(y: int, m: int, d: int, text: str) -> date:
    check_year(y, text)
    if not 1 <= m <= 12:
        extra = ""
        if _UK.match(text.strip()) and 1 <= d <= 12 and m <= 31:
            extra = f" Dates are read day first (UK order): did you mean {m:02d}/{d:02d}/{y}?"
        raise TanetError(f"'{text}' is not a date: there is no month {m}.{extra} {FORMAT_HINT}.")
    try:
        return date(y, m, d)
    except ValueError:
        raise TanetError(f"'{text}' is not a date: {_MONTHS[m - 1]} {y} has no day {d}. {FORMAT_HINT}.") from None


def parse_date(text: str, today: date) -> date:
    """YYYY-MM-DD, DD/MM/YYYY (never US order), `today`, `tomorrow`, `yesterday`,
    `in 3 weeks`, `10 days ago`, `25 months ago` or `in 1 year`."""
    t = " ".join(text.strip().lower().split())
    if m := _RELATIVE.match(t):
        count, unit = (int(m[1]), m[2]) if m[1] else (-int(m[3]), m[4])
        if unit in ("month", "year"):
            return add_months(today, count * (12 if unit == "year" else 1), text)
        day = today + timedelta(days=count * (7 if unit == "week" else 1))
        check_year(day.year, text)
        return day
    if t == "today":
        return today
    if t == "tomorrow":
        return today + timedelta(days=1)
    if t == "yesterday":
        return today - timedelta(days=1)
    if m := _ISO.match(t):
        return _make(int(m[1]), int(m[2]), int(m[3]), text)
    if m := _UK.match(t):
        return _make(int(m[3]), int(m[2]), int(m[1]), text)
    raise TanetError(f"'{text}' is not a date. {FORMAT_HINT}, or today / tomorrow / in 2 weeks.")


def add_months(day: date, months: int, text: str) -> date:
    """`day` moved by whole months (back with a negative count); the 31st of a shorter month
    becomes its last day (31 March less one month is 28 or 29 February)."""
    import calendar

    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    check_year(year, text)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def parse_time(text: str) -> str:
    """24-hour HH:MM (also 9:30, 9.30, 3pm); returns HH:MM."""
    m = _TIME.match(text.strip())
    if m:
        h, mins, ampm = int(m[1]), int(m[2] or 0), (m[3] or "").lower()
        if ampm:
            if not 1 <= h <= 12:
                h = 99
            elif ampm == "pm" and h != 12:
                h += 12
            elif ampm == "am" and h == 12:
                h = 0
        elif m[2] is None:
            h = 99  # a bare number is too ambiguous to guess
        if h < 24 and mins < 60:
            return f"{h:02d}:{mins:02d}"
    raise TanetError(f"'{text}' is not a time of day. Use the 24-hour clock, HH:MM, e.g. 09:30 or 15:45.")


def minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def hhmm(total: int) -> str:
    return f"{total // 60:02d}:{total % 60:02d}"


def end_time(start: str, duration: int) -> str:
    """The end of a meeting; it must finish the same day."""
    if duration <= 0:
        raise TanetError(f"A meeting must last at least one minute, not {duration}. Give --duration in minutes, e.g. 120.")
    end = minutes(start) + duration
    if end > 24 * 60 - 1:
        raise TanetError(
            f"A meeting starting at {start} and lasting {duration} minutes would run past midnight. "
            "Choose an earlier start or a shorter --duration."
        )
    return hhmm(end)


def zone(name: str):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TanetError(f"The time zone '{name}' in the settings is not known on this computer. "
                         "Set a known one with: tanet config set timezone Europe/London") from None


def check_wall_clock(day: date, hm: str, tz_name: str) -> None:
    """Refuse a local time that does not exist (clocks go forward) or happens twice (they go back)."""
    from datetime import timezone

    local = local_datetime(day, hm, tz_name)
    there_and_back = local.astimezone(timezone.utc).astimezone(local.tzinfo).replace(tzinfo=None)
    if there_and_back != local.replace(tzinfo=None):
        raise TanetError(f"{hm} on {day} does not exist in {tz_name}: the clocks go forward that night. "
                         "Choose another time or day.")
    if local.replace(fold=1).utcoffset() != local.replace(fold=0).utcoffset():
        raise TanetError(f"{hm} on {day} happens twice in {tz_name}: the clocks go back that night, so calendar "
                         "programs would disagree about when it is. Choose another time or day.")


def local_datetime(day: str | date, hm: str, tz_name: str) -> datetime:
    d = date.fromisoformat(day) if isinstance(day, str) else day
    h, m = hm.split(":")
    return datetime.combine(d, time(int(h), int(m)), tzinfo=zone(tz_name))


def in_words(day: date) -> str:
    """`Tuesday 30 March 2027`."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def scottish_holidays(years):
    """Public holidays in Scotland from the `holidays` package: {date: name}."""
    import holidays

    return dict(holidays.country_holidays("GB", subdiv="SCT", years=sorted(set(years))))


# Quarters -------------------------------------------------------------------

_PERIOD = re.compile(r"^(?:FY\s*)?(\d{4})(?:/(\d{2}))?\s*-?\s*[qQ]([1-4])$", re.IGNORECASE)


def quarter_bounds(year: int, q: int, fiscal: bool, fiscal_start: int) -> tuple[date, date]:
    """First and last day of quarter q; fiscal year Y starts in month fiscal_start of Y."""
    first_month = (fiscal_start if fiscal else 1) + 3 * (q - 1)
    y = year + (first_month - 1) // 12
    m = (first_month - 1) % 12 + 1
    start = date(y, m, 1)
    nm = m + 3
    end = date(y + (nm - 1) // 12, (nm - 1) % 12 + 1, 1) - timedelta(days=1)
    return start, end


def parse_period(text: str) -> tuple[int, int]:
    m = _PERIOD.match(text.strip())
    if not m:
        raise TanetError((
                f"'{text}' is not a quarter. Write it as YEAR and quarter 1-4, e.g. 2027Q1 or "
                f"2027-Q1 (with --fiscal also 2026/27 Q3), or say last (the latest complete "
                f"quarter) or this."
            ))
    check_year(int(m[1]), text)
    if m[2] is not None and int(m[2]) != (int(m[1]) + 1) % 100:
        raise TanetError(f"'{text}' is not a fiscal year: the year after {m[1]} ends in {(int(m[1]) + 1) % 100:02d}, "
                         f"e.g. {m[1]}/{(int(m[1]) + 1) % 100:02d} Q{m[3]}.")
    return int(m[1]), int(m[3])


def quarter_label(year: int, q: int, fiscal: bool, fiscal_start: int) -> str:
    """`2027Q1` for a calendar quarter; `2026/27 Q3` for a fiscal one (the years it spans)."""
    if not fiscal:
        return f"{year}Q{q}"
    return f"{year} Q{q}" if fiscal_start == 1 else f"{year}/{(year + 1) % 100:02d} Q{q}"


def quarter_of(day: date, fiscal: bool, fiscal_start: int) -> tuple[int, int]:
    """The (year, quarter) holding `day`."""
    start = fiscal_start if fiscal else 1
    offset = (day.month - start) % 12
    year = day.year if day.month >= start else day.year - 1
    return year, offset // 3 + 1


def previous_quarter(year: int, q: int) -> tuple[int, int]:
    return (year, q - 1) if q > 1 else (year - 1, 4)
