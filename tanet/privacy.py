"""Keeping only what is needed (UK GDPR's storage limitation): members long gone are
forgotten, and private notes are erased once they are old."""

from __future__ import annotations

import sqlite3
from datetime import date

from dateutil.relativedelta import relativedelta

from tanet import members as M
from tanet import settings as S

# Private notes and the date each belongs to: the meeting's.
NOTES = (
    ("checkins", "note", "SELECT c.rowid FROM checkins c JOIN meetings m ON m.id = c.meeting_id "
                         "WHERE c.note IS NOT NULL AND m.date < ?"),
    ("responses", "comment", "SELECT r.rowid FROM responses r JOIN meetings m ON m.id = r.meeting_id "
                             "WHERE r.comment IS NOT NULL AND m.date < ?"),
    ("followups", "note", "SELECT f.rowid FROM followups f LEFT JOIN meetings m ON m.id = f.meeting_id "
                          "WHERE f.note IS NOT NULL AND coalesce(m.date, f.raised_on) < ?"),
    ("followups", "about", "SELECT f.rowid FROM followups f LEFT JOIN meetings m ON m.id = f.meeting_id "
                           "WHERE f.about IS NOT NULL AND coalesce(m.date, f.raised_on) < ?"),
)


def review(conn: sqlite3.Connection, today: date) -> dict:
    """What is due: members who left more than retain_months ago, and the number of notes
    older than notes_months."""
    retain = int(S.get(conn, "privacy.retain_months"))
    notes = int(S.get(conn, "privacy.notes_months"))
    left_before = (today - relativedelta(months=retain)).isoformat()
    notes_before = (today - relativedelta(months=notes)).isoformat()
    members_due = [r[0] for r in conn.execute(
        "SELECT id FROM members WHERE forgotten_on IS NULL AND left_on IS NOT NULL AND left_on < ? ORDER BY id",
        [left_before])]
    notes_due = sum(len(conn.execute(sql, [notes_before]).fetchall()) for _, _, sql in NOTES)
    return {"retain_months": retain, "notes_months": notes, "members_due": members_due, "notes_due": notes_due,
            "_notes_before": notes_before}


def apply(conn: sqlite3.Connection, due: dict, today: date) -> dict:
    """Forget the members and erase the notes that are due (inside the caller's transaction)."""
    for member_id in due["members_due"]:
        M.forget(conn, str(member_id), today)
    erased = 0
    for table, column, sql in NOTES:
        ids = [r[0] for r in conn.execute(sql, [due["_notes_before"]])]
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            conn.execute(f"UPDATE {table} SET {column} = NULL WHERE rowid IN ({','.join('?' * len(chunk))})", chunk)
        erased += len(ids)
    return {"members_forgotten": len(due["members_due"]), "notes_erased": erased}
