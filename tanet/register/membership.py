"""The one rule for who is a member on a given day, in Python and in SQL.

A member is active on day D when they joined on or before D and have not left by D: one who
leaves on D is no longer a member that day. Dates are ISO text, so they compare as text."""

from __future__ import annotations

import sqlite3
from datetime import date


def iso(day: date | str) -> str:
    return day.isoformat() if isinstance(day, date) else day


def is_active(member, day: date | str) -> bool:
    """Whether `member` (a row or dict with joined_on and left_on) is a member on `day`."""
    d = iso(day)
    return member["joined_on"] <= d and not has_left(member, d)


def has_left(member, day: date | str) -> bool:
    """Whether `member` had left by `day` (leaving on the day itself counts)."""
    return member["left_on"] is not None and member["left_on"] <= iso(day)


def active_sql(day: str = ":d", table: str = "") -> str:
    """The rule as an SQL condition on the members table (named `table` in the query, if it has
    an alias), with the day given by the parameter `day` (e.g. ':d')."""
    p = f"{table}." if table else ""
    return f"({p}joined_on <= {day} AND {not_left_sql(day, table)})"


def not_left_sql(day: str = ":d", table: str = "") -> str:
    """The SQL condition for members who had not left by `day` (those yet to join included)."""
    p = f"{table}." if table else ""
    return f"({p}left_on IS NULL OR {p}left_on > {day})"


def active_count_sql(day: str, everyone: str = ":everyone") -> str:
    """How many members are active on `day`, as an SQL expression that reads only the joining-
    and leaving-date indexes: everyone (the parameter `everyone`, the number of members) less
    those who joined after the day, less those who joined and left by it. It always equals
    count(*) of the members for which `active_sql(day)` holds."""
    return (f"({everyone} - (SELECT count(*) FROM members WHERE joined_on > {day})"
            f" - (SELECT count(*) FROM members WHERE left_on <= {day} AND joined_on <= {day}))")


def everyone(conn: sqlite3.Connection) -> int:
    """The number of members ever recorded (the `everyone` of `active_count_sql`)."""
    return conn.execute("SELECT count(*) FROM members").fetchone()[0]


def count_active(conn: sqlite3.Connection, day: date | str) -> int:
    """How many members are active on `day`."""
    return conn.execute(f"SELECT {active_count_sql(':d')}", {"d": iso(day), "everyone": everyone(conn)}).fetchone()[0]
