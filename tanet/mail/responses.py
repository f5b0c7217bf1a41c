"""The answers recorded from replies: a meeting's RSVP list and its counts."""

from __future__ import annotations

import sqlite3

from tanet.mail import outbox

RSVP_KEYS = ("member_id", "name", "email", "response", "responded_at", "sequence")


def rsvp_list(conn: sqlite3.Connection, meeting_id: int) -> list[dict]:
    """Every member invited to the meeting (or who answered), with their answer."""
    rows = conn.execute(
        f"""SELECT m.id AS member_id, m.name, m.email, coalesce(r.response, 'none') AS response,
                  r.responded_at, r.sequence
           FROM members m LEFT JOIN responses r ON r.member_id = m.id AND r.meeting_id = :m
           WHERE m.id IN (SELECT member_id FROM outbox WHERE meeting_id = :m AND member_id IS NOT NULL
                          AND {outbox.kind_in(outbox.CALENDAR_KINDS)})
              OR r.member_id IS NOT NULL
           ORDER BY CASE coalesce(r.response, 'none') WHEN 'accepted' THEN 0 WHEN 'tentative' THEN 1
                    WHEN 'declined' THEN 2 ELSE 3 END, m.name COLLATE NOCASE, m.id""", {"m": meeting_id})
    return [{k: r[k] for k in RSVP_KEYS} for r in rows]


def response_counts(conn: sqlite3.Connection, meeting_id: int) -> dict:
    """Replies to the invitation: accepted, tentative, declined, and invited with no reply."""
    counts = {"accepted": 0, "tentative": 0, "declined": 0}
    for r in conn.execute("SELECT response, count(*) FROM responses WHERE meeting_id = ? GROUP BY response",
                          [meeting_id]):
        counts[r[0]] = r[1]
    invited = conn.execute(
        f"""SELECT count(DISTINCT member_id) FROM outbox WHERE meeting_id = ? AND member_id IS NOT NULL
           AND {outbox.kind_in(outbox.CALENDAR_KINDS)}
           AND member_id NOT IN (SELECT member_id FROM responses WHERE meeting_id = ?)""",
        [meeting_id, meeting_id]).fetchone()[0]
    return {**counts, "none": invited}
