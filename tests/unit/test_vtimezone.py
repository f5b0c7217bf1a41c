"""The VTIMEZONE every calendar carries: yearly rules that give the same clock changes as
the time-zone database, in both hemispheres."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tanet.meetings.ical import vtimezone

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def one(value):
    """An RRULE part as icalendar holds it: a value, or a list of one."""
    return value[0] if isinstance(value, list) else value


def rule_day(year: int, month: int, byday: str) -> date:
    """The day a yearly BYMONTH/BYDAY rule (e.g. -1SU, 2SU) falls on in `year`."""
    n, weekday = int(byday[:-2]), WEEKDAYS.index(byday[-2:])
    days = [date(year, month, 1) + timedelta(days=k) for k in range(31)]
    days = [d for d in days if d.month == month and d.weekday() == weekday]
    return days[n - 1] if n > 0 else days[n]


def test_london_changes_on_the_last_sundays_of_march_and_october():
    tz = vtimezone("Europe/London", 2027)
    [summer] = tz.walk("DAYLIGHT")
    [winter] = tz.walk("STANDARD")
    assert one(summer["RRULE"]["BYMONTH"]) == 3 and one(summer["RRULE"]["BYDAY"]) == "-1SU"
    assert summer["DTSTART"].dt == datetime(1970, 3, 29, 1, 0)
    assert (summer["TZOFFSETFROM"].td, summer["TZOFFSETTO"].td) == (timedelta(0), timedelta(hours=1))
    assert summer["TZNAME"] == "BST" and winter["TZNAME"] == "GMT"
    assert one(winter["RRULE"]["BYMONTH"]) == 10 and winter["DTSTART"].dt == datetime(1970, 10, 25, 2, 0)


def test_a_zone_without_clock_changes_has_one_standard_offset():
    tz = vtimezone("Asia/Tokyo", 2027)
    assert tz.walk("DAYLIGHT") == []
    [only] = tz.walk("STANDARD")
    assert only["TZOFFSETFROM"].td == only["TZOFFSETTO"].td == timedelta(hours=9)


# Zones whose rules have held since 2008 (the United States changed theirs in 2007).
@pytest.mark.parametrize("zone", ["Europe/London", "Europe/Berlin", "America/New_York", "Australia/Sydney"])
@given(year=st.integers(2008, 2037))
@settings(deadline=None)  # a loaded machine is no failure
def test_the_rules_give_the_clock_changes_of_the_time_zone_database(zone, year):
    """Each rule, applied to `year`, lands on a real change: the offset before and after it is
    the rule's own (rules are built from this year's changes, and must hold in others)."""
    rules = vtimezone(zone, 2027)
    tz = ZoneInfo(zone)
    for part in [*rules.walk("DAYLIGHT"), *rules.walk("STANDARD")]:
        day = rule_day(year, one(part["RRULE"]["BYMONTH"]), one(part["RRULE"]["BYDAY"]))
        wall = datetime.combine(day, part["DTSTART"].dt.time())  # local time just before the change
        before = (wall - part["TZOFFSETFROM"].td).replace(tzinfo=ZoneInfo("UTC"))
        assert (before - timedelta(minutes=1)).astimezone(tz).utcoffset() == part["TZOFFSETFROM"].td, (zone, day)
        assert (before + timedelta(minutes=1)).astimezone(tz).utcoffset() == part["TZOFFSETTO"].td, (zone, day)
