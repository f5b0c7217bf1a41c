"""Shared resources the network produced, and the organisations that adopted them."""

from __future__ import annotations

import sqlite3
from datetime import date

from tanet import text as text_rules
from tanet.errors import TanetError
from tanet.register import members, vocabulary

RESOURCE_KEYS = ("id", "title", "kind", "description", "created_on", "adoptions")
SELECT = """SELECT r.*, (SELECT count(*) FROM adoptions a WHERE a.resource_id = r.id) AS adoptions
            FROM resources r"""


def resource_object(row) -> dict:
    return {k: row[k] for k in RESOURCE_KEYS}


def find_resource(conn: sqlite3.Connection, ref: str) -> sqlite3.Row:
    text = " ".join(str(ref).split())
    if text.lstrip("#").isdigit():
        row = conn.execute(SELECT + " WHERE r.id = ?", [int(text.lstrip("#"))]).fetchone()
        if row is None:
            raise TanetError(f"There is no resource #{text.lstrip('#')}. See them with: tanet resource list")
        return row
    rows = conn.execute(SELECT + " WHERE r.title LIKE ? ORDER BY r.id", [f"%{text}%"]).fetchall()
    exact = [r for r in rows if r["title"].casefold() == text.casefold()]
    if len(exact) == 1 or len(rows) == 1:
        return (exact or rows)[0]
    if not rows:
        raise TanetError(f"No resource's title contains '{text}'. See them with: tanet resource list")
    raise TanetError(f"'{text}' matches {len(rows)} resources: "
                     + "; ".join(f"#{r['id']} {r['title']}" for r in rows[:10]) + ". Use the id instead.")


def add(conn, title: str, *, kind: str | None, description: str | None, meeting_id: int | None,
        authors: list[str], on: date | None, today: date) -> dict:
    title = " ".join((text_rules.one_line(title, "title") or "").split())
    if not title:
        raise TanetError("A resource needs a title.")
    kind, description = text_rules.one_line(kind, "kind"), text_rules.some_lines(description, "description")
    people = [members.find_member(conn, a) for a in authors]
    cur = conn.execute("INSERT INTO resources(title, kind, description, meeting_id, created_on) VALUES (?,?,?,?,?)",
                       [title, kind, description, meeting_id,
                        (on or today).isoformat()])
    conn.executemany("INSERT OR IGNORE INTO resource_authors(resource_id, member_id) VALUES (?, ?)",
                     [(cur.lastrowid, p["id"]) for p in people])
    return resource_object(conn.execute(SELECT + " WHERE r.id = ?", [cur.lastrowid]).fetchone())


def org_key(name: str) -> str:
    """An organisation's name as it is compared: no case, accents, punctuation or spaces
    ("barnardos scotland" is "Barnardo's Scotland")."""
    import re

    return re.sub(r"[\W_]", "", vocabulary.fold(name))


def known_organisation(conn, typed: str) -> tuple[str, bool]:
    """The spelling already known (members, adoptions, outreach) of the organisation typed,
    and whether it differs from what was typed; what was typed when none is known."""
    org = " ".join((text_rules.one_line(typed, "organisation") or "").split())
    if not org:
        raise TanetError("Name the organisation: --org 'City Council'")
    key = org_key(org)
    for (name,) in conn.execute(
            """SELECT organisation FROM adoptions UNION ALL SELECT organisation FROM members
               WHERE organisation IS NOT NULL UNION ALL SELECT organisation FROM outreach"""):
        if name and org_key(name) == key:
            return name, name != org
    return org, False


def _adoption(conn, resource_id: int, org: str):
    key = org_key(org)
    return next((r for r in conn.execute("SELECT id, adopted_on, organisation FROM adoptions WHERE resource_id = ?",
                                         [resource_id]) if org_key(r["organisation"]) == key), None)


def adopt(conn, ref: str, organisation: str, on: date, today: date) -> dict:
    row = find_resource(conn, ref)
    org, _ = known_organisation(conn, organisation)
    existing = _adoption(conn, row["id"], org)
    if existing:
        raise TanetError(f"{existing['organisation']} already adopted '{row['title']}' on {existing['adopted_on']}.")
    if on > today:
        raise TanetError(f"{on} is in the future; record an adoption once it has happened.")
    if on.isoformat() < row["created_on"]:
        raise TanetError(f"'{row['title']}' was only shared on {row['created_on']}; the adoption date must be later.")
    conn.execute("INSERT INTO adoptions(resource_id, organisation, adopted_on) VALUES (?,?,?)",
                 [row["id"], org, on.isoformat()])
    return show(conn, str(row["id"]))


def unadopt(conn, ref: str, organisation: str) -> tuple[dict, str]:
    """Take back an adoption recorded by mistake; returns the resource and the organisation
    as it was recorded."""
    row = find_resource(conn, ref)
    org = " ".join((text_rules.one_line(organisation, "organisation") or "").split())
    existing = _adoption(conn, row["id"], org) if org else None
    if existing is None:
        adopters = [r[0] for r in conn.execute("SELECT organisation FROM adoptions WHERE resource_id = ? "
                                               "ORDER BY organisation", [row["id"]])]
        raise TanetError(f"'{row['title']}' has no adoption by '{org}'. "
                         + (f"It was adopted by: {', '.join(adopters)}." if adopters else "Nobody has adopted it."))
    conn.execute("DELETE FROM adoptions WHERE id = ?", [existing["id"]])
    return show(conn, str(row["id"])), existing["organisation"]


def list_resources(conn) -> list[dict]:
    return [resource_object(r) for r in conn.execute(SELECT + " ORDER BY r.created_on, r.id")]


def show(conn, ref: str) -> dict:
    row = find_resource(conn, ref)
    data = resource_object(row)
    data["meeting_id"] = row["meeting_id"]
    data["authors"] = [r[0] for r in conn.execute(
        "SELECT mb.name FROM resource_authors ra JOIN members mb ON mb.id = ra.member_id WHERE ra.resource_id = ? "
        "ORDER BY mb.name", [row["id"]])]
    data["adopted_by"] = [dict(r) for r in conn.execute(
        "SELECT organisation, adopted_on FROM adoptions WHERE resource_id = ? ORDER BY adopted_on, organisation",
        [row["id"]])]
    return data
