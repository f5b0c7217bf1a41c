"""The one rule for "a member on day D", in its three forms: the Python predicate, the SQL
condition and the summary's index-friendly count all agree on every day."""

import sqlite3
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tanet.register import membership

FIRST = date(2024, 1, 1)
day_in_2024 = st.integers(0, 40).map(lambda n: FIRST + timedelta(days=n))
member = st.tuples(day_in_2024, st.one_of(st.none(), day_in_2024)).filter(lambda m: m[1] is None or m[1] > m[0])


@given(st.lists(member, max_size=25), day_in_2024)
def test_the_predicate_the_condition_and_the_count_agree(members, day):
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.execute("CREATE TABLE members(id INTEGER PRIMARY KEY, joined_on TEXT NOT NULL, left_on TEXT)")
    conn.executemany("INSERT INTO members(joined_on, left_on) VALUES (?, ?)",
                     [(j.isoformat(), left and left.isoformat()) for j, left in members])
    rows = conn.execute("SELECT * FROM members").fetchall()
    by_python = sorted(r["id"] for r in rows if membership.is_active(r, day))
    by_condition = [r[0] for r in conn.execute(
        f"SELECT m.id FROM members m WHERE {membership.active_sql(':d', 'm')} ORDER BY m.id", {"d": day.isoformat()})]
    assert by_python == by_condition
    assert membership.count_active(conn, day) == len(by_python)
    assert membership.count_active(conn, day.isoformat()) == len(by_python)


def test_a_member_who_leaves_on_a_day_is_not_active_that_day():
    leaver = {"joined_on": "2024-01-01", "left_on": "2024-03-01"}
    assert membership.is_active(leaver, date(2024, 2, 29))
    assert not membership.is_active(leaver, date(2024, 3, 1)) and membership.has_left(leaver, "2024-03-01")
    assert membership.is_active({"joined_on": "2024-03-01", "left_on": None}, "2024-03-01")
    assert not membership.is_active({"joined_on": "2024-03-02", "left_on": None}, "2024-03-01")
