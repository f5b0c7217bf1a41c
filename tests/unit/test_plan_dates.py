"""Plan dates: the cadence from the start, moves around blocked days, and a plan that
always finishes."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tanet.errors import TanetError
from tanet.meetings.planning import MAX_MOVE_DAYS, plan_dates, summarise_moves

START = date(2027, 1, 12)  # a Tuesday


def test_an_open_year_keeps_the_cadence_and_alternates_the_times():
    plan = plan_dates(START, 8, count=4, until=None, times=["10:00", "15:45"], blocked={})
    assert [(p.date, p.start, p.reason) for p in plan] == [
        (date(2027, 1, 12), "10:00", None), (date(2027, 3, 9), "15:45", None),
        (date(2027, 5, 4), "10:00", None), (date(2027, 6, 29), "15:45", None)]


def test_a_blocked_day_moves_to_the_next_free_working_day_and_the_cadence_carries_on():
    blocked = {date(2027, 3, 9): "Spring break (term.ics)", date(2027, 3, 10): "Spring break (term.ics)"}
    plan = plan_dates(START, 8, count=3, until=None, times=["10:00"], blocked=blocked)
    assert [p.date for p in plan] == [date(2027, 1, 12), date(2027, 3, 11), date(2027, 5, 4)]
    assert plan[1].original == date(2027, 3, 9)
    assert plan[1].reason == "Tue 09 Mar - Wed 10 Mar: Spring break (term.ics)"


def test_a_long_break_moves_the_date_earlier_and_no_free_day_at_all_skips_it():
    summer = {START + timedelta(weeks=8) + timedelta(days=k): "Summer" for k in range(-20, MAX_MOVE_DAYS + 3)}
    plan = plan_dates(START, 8, count=2, until=None, times=["10:00"], blocked=summer)
    assert plan[1].moved_earlier and plan[1].date < plan[1].original
    assert plan[1].date not in summer and plan[1].date.weekday() < 5
    # Earlier only as far as half the cadence after the meeting before (9 Feb): none free there either.
    everything = {START + timedelta(days=k): "Closed" for k in range(28, 120)}
    plan = plan_dates(START, 8, count=2, until=None, times=["10:00"], blocked=everything)
    assert plan[1].skipped and plan[1].date == plan[1].original


def test_summaries_name_each_run_of_days_once():
    reasons = [(date(2027, 12, 24), "Christmas (public holiday)"), (date(2027, 12, 27), "Boxing Day (public holiday)"),
               (date(2027, 12, 28), "Winter break (term.ics)")]
    assert summarise_moves(reasons) == "Fri 24 Dec - Tue 28 Dec: Winter break (term.ics), public holidays"
    assert summarise_moves([]) is None


@pytest.mark.parametrize("kw, says", [({"count": 0}, "--count must be at least 1"),
                                      ({"count": 501}, "more than one plan holds"),
                                      ({"count": None, "until": START - timedelta(days=1)}, "is before --start")])
def test_a_plan_that_cannot_be_made_says_why(kw, says):
    args = {"count": 3, "until": None, **kw}
    with pytest.raises(TanetError, match=says):
        plan_dates(START, 8, times=["10:00"], blocked={}, **args)


@given(start=st.dates(date(2026, 1, 1), date(2030, 12, 31)), every=st.integers(1, 12), count=st.integers(1, 30),
       blocked=st.sets(st.integers(0, 800), max_size=200))
@settings(deadline=None)  # a loaded machine is no failure
def test_every_meeting_is_on_a_free_working_day_near_its_place_in_the_cadence(start, every, count, blocked):
    closed = {start + timedelta(days=k): "Closed" for k in blocked}
    plan = plan_dates(start, every, count=count, until=None, times=["10:00", "15:45"], blocked=closed)
    assert len(plan) == count
    for i, p in enumerate(plan):
        assert p.original == start + timedelta(weeks=every * i)  # moves never shift the cadence
        assert p.start == ("10:00", "15:45")[i % 2]
        if p.skipped:
            continue
        assert p.date.weekday() < 5 and p.date not in closed
        assert abs((p.date - p.original).days) <= MAX_MOVE_DAYS
        assert (p.date < p.original) == p.moved_earlier
        passed_over = [p.original + timedelta(days=k) for k in range((p.date - p.original).days)]
        if p.reason is None:  # only a weekend was passed over
            assert all(day.weekday() >= 5 for day in passed_over)
