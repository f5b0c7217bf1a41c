"""Reading the dates and times a person types, and quarters."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tanet import dates
from tanet.errors import TanetError

TODAY = date(2026, 11, 25)
DAYS = st.dates(min_value=date(dates.FIRST_YEAR, 1, 1), max_value=date(dates.LAST_YEAR, 12, 31))


@given(DAYS)
def test_iso_and_uk_day_first_read_back_the_same_day(day):
    assert dates.parse_date(day.isoformat(), TODAY) == day
    assert dates.parse_date(f"{day.day:02d}/{day.month:02d}/{day.year}", TODAY) == day
    assert dates.parse_date(f"{day.day}.{day.month}.{day.year}", TODAY) == day


def test_words_for_days_are_relative_to_today():
    assert dates.parse_date(" Today ", TODAY) == TODAY
    assert dates.parse_date("tomorrow", TODAY) == TODAY + timedelta(days=1)
    assert dates.parse_date("yesterday", TODAY) == TODAY - timedelta(days=1)


@pytest.mark.parametrize("text, says", [
    ("03/13/2027", "there is no month 13. Dates are read day first (UK order): did you mean 13/03/2027?"),
    ("2027-02-30", "February 2027 has no day 30"),
    ("3000-01-01", "give a year from 1900 to 2199"),
    ("next week", "is not a date"),
])
def test_a_date_that_is_not_one_says_why(text, says):
    with pytest.raises(TanetError, ) as e:
        dates.parse_date(text, TODAY)
    assert says in str(e.value)


@given(st.integers(0, 23), st.integers(0, 59))
def test_any_24_hour_time_reads_back_as_hh_mm(hour, minute):
    expected = f"{hour:02d}:{minute:02d}"
    assert dates.parse_time(f"{hour}:{minute:02d}") == expected
    assert dates.parse_time(f"{hour}.{minute:02d}") == expected
    assert dates.hhmm(dates.minutes(expected)) == expected


@pytest.mark.parametrize("text, expected", [("3pm", "15:00"), ("12am", "00:00"), ("12pm", "12:00"),
                                            ("9:30 am", "09:30"), ("11.15PM", "23:15")])
def test_am_and_pm(text, expected):
    assert dates.parse_time(text) == expected


@pytest.mark.parametrize("text", ["9", "24:00", "13pm", "0am", "9:60", "half nine"])
def test_times_that_are_not_clear_are_refused(text):
    with pytest.raises(TanetError, match="is not a time of day"):
        dates.parse_time(text)


def test_a_meeting_ends_the_same_day():
    assert dates.end_time("10:00", 120) == "12:00"
    assert dates.end_time("21:59", 120) == "23:59"
    with pytest.raises(TanetError, match="past midnight"):
        dates.end_time("22:00", 120)
    with pytest.raises(TanetError, match="at least one minute"):
        dates.end_time("10:00", 0)


def test_clock_changes_in_london():
    with pytest.raises(TanetError, match="does not exist"):
        dates.check_wall_clock(date(2027, 3, 28), "01:30", "Europe/London")
    with pytest.raises(TanetError, match="happens twice"):
        dates.check_wall_clock(date(2027, 10, 31), "01:30", "Europe/London")
    dates.check_wall_clock(date(2027, 3, 28), "10:00", "Europe/London")
    assert dates.local_datetime("2027-07-01", "10:00", "Europe/London").utcoffset() == timedelta(hours=1)


@given(DAYS, st.booleans(), st.integers(1, 12))
def test_a_day_lies_in_the_quarter_said_to_hold_it(day, fiscal, fiscal_start):
    year, q = dates.quarter_of(day, fiscal, fiscal_start)
    first, last = dates.quarter_bounds(year, q, fiscal, fiscal_start)
    assert first <= day <= last
    assert 89 <= (last - first).days + 1 <= 92
    # The quarter before ends the day before this one starts.
    _, end_before = dates.quarter_bounds(*dates.previous_quarter(year, q), fiscal, fiscal_start)
    assert end_before == first - timedelta(days=1)


@given(st.integers(dates.FIRST_YEAR, dates.LAST_YEAR), st.integers(1, 4))
def test_quarter_labels_read_back(year, q):
    assert dates.parse_period(dates.quarter_label(year, q, False, 4)) == (year, q)
    assert dates.parse_period(dates.quarter_label(year, q, True, 4)) == (year, q)


def test_a_fiscal_label_names_the_years_it_spans():
    assert dates.quarter_label(2026, 3, True, 4) == "2026/27 Q3"
    assert dates.quarter_bounds(2026, 3, True, 4) == (date(2026, 10, 1), date(2026, 12, 31))
    assert dates.quarter_bounds(2026, 4, True, 4) == (date(2027, 1, 1), date(2027, 3, 31))
    with pytest.raises(TanetError, match="the year after 2026 ends in 27"):
        dates.parse_period("2026/28 Q1")
