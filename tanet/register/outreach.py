"""The outreach log: contacts with organisations in under-engaged services, and whether
they led to anyone joining or coming."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from tanet import text
from tanet.errors import TanetError
from tanet.register import vocabulary

HOW = ("email", "visit", "talk", "event", "other")
OUTREACH_KEYS = ("id", "organisation", "service_area", "contact", "on", "how", "outcome")
WINDOW_DAYS = 180


def _how(value: str) -> str:
    v = (value or "").strip().lower().replace("e-mail", "email")
    if v in HOW:
        return v
    matches = [h for h in HOW if h.startswith(v)] if v else []
    if len(matches) == 1:
        return matches[0]
    raise TanetError(f"'{value}' is not a way of making contact. Use one of: {', '.join(HOW)}.")


def add(conn: sqlite3.Connection, organisation: str, area: str, contact: str | None, on: date, how: str,
        outcome: str | None, today: date) -> dict:
    org = " ".join((text.one_line(organisation, "organisation") or "").split())
    if not org:
        raise TanetError("Name the organisation you contacted, e.g. tanet outreach add 'Leith Academy' --area education")
    if on > today:
        raise TanetError(f"{on} is in the future; record a contact once it has happened.")
    cur = conn.execute('INSERT INTO outreach(organisation, service_area, contact, "on", how, outcome) VALUES (?,?,?,?,?,?)',
                       [org, vocabulary.find_area(conn, area), text.one_line(contact, "contact's name"), on.isoformat(), _how(how),
                        text.some_lines(outcome, "outcome")])
    return get(conn, cur.lastrowid)


def get(conn: sqlite3.Connection, outreach_id: int) -> dict:
    r = conn.execute("SELECT * FROM outreach WHERE id = ?", [outreach_id]).fetchone()
    return {k: r[k] for k in OUTREACH_KEYS}


def list_contacts(conn: sqlite3.Connection, area: str | None) -> list[dict]:
    sql, params = "SELECT * FROM outreach", []
    if area:
        sql += " WHERE service_area = ?"
        params.append(vocabulary.find_area(conn, area))
    return [{k: r[k] for k in OUTREACH_KEYS} for r in conn.execute(sql + ' ORDER BY "on", id', params)]


def figures(conn: sqlite3.Connection, start: str, end: str) -> list[dict]:
    """Per service area with contacts in the period: the contacts, the organisations, and
    members of those organisations (name matched without regard to case) who joined, or
    first attended, within 180 days after the organisation was first contacted."""
    out = []
    for area in [r[0] for r in conn.execute(
            'SELECT DISTINCT service_area FROM outreach WHERE "on" BETWEEN ? AND ? ORDER BY service_area COLLATE NOCASE',
            [start, end])]:
        contacts, orgs = conn.execute(
            'SELECT count(*), count(DISTINCT lower(organisation)) FROM outreach '
            'WHERE service_area = ? AND "on" BETWEEN ? AND ?', [area, start, end]).fetchone()
        joined, came = set(), set()
        for (org,) in conn.execute('SELECT DISTINCT lower(organisation) FROM outreach '
                                   'WHERE service_area = ? AND "on" BETWEEN ? AND ?', [area, start, end]):
            first = conn.execute('SELECT min("on") FROM outreach WHERE lower(organisation) = ?', [org]).fetchone()[0]
            until = (date.fromisoformat(first) + timedelta(days=WINDOW_DAYS)).isoformat()
            joined |= {r[0] for r in conn.execute(
                "SELECT id FROM members WHERE lower(organisation) = ? AND joined_on BETWEEN ? AND ?",
                [org, first, until])}
            came |= {r[0] for r in conn.execute(
                """SELECT mb.id FROM members mb JOIN attendance a ON a.member_id = mb.id AND a.status = 'present'
                   JOIN meetings mt ON mt.id = a.meeting_id AND mt.status = 'scheduled'
                   WHERE lower(mb.organisation) = ? GROUP BY mb.id HAVING min(mt.date) BETWEEN ? AND ?""",
                [org, first, until])}
        out.append({"service_area": area, "contacts": contacts, "organisations": orgs,
                    "joined_after": len(joined), "came_after": len(came)})
    return out
