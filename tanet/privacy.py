"""Keeping only what is needed (UK GDPR's storage limitation): members long gone are
forgotten, and private notes are erased once they are old; a member asking is forgotten
at once, or shown everything held about them.

Forgetting reaches every table that can hold a person's details (the register, the
outbox and its files, replies, check-ins and feedback), so it sits above all of them."""

from __future__ import annotations

import sqlite3
from datetime import date

from dateutil.relativedelta import relativedelta

from tanet.errors import TanetError
from tanet.mail import outbox
from tanet.register import members
from tanet.register import vocabulary
from tanet.store import settings

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
    retain = int(settings.get(conn, "privacy.retain_months"))
    notes = int(settings.get(conn, "privacy.notes_months"))
    left_before = (today - relativedelta(months=retain)).isoformat()
    notes_before = (today - relativedelta(months=notes)).isoformat()
    gone = [dict(r) for r in conn.execute(
        "SELECT id, name, left_on FROM members WHERE forgotten_on IS NULL AND left_on IS NOT NULL AND left_on < ? "
        "ORDER BY id", [left_before])]
    notes_due = sum(len(conn.execute(sql, [notes_before]).fetchall()) for _, _, sql in NOTES)
    return {"retain_months": retain, "notes_months": notes, "members_due": [m["id"] for m in gone],
            "members": gone, "notes_due": notes_due, "_notes_before": notes_before}


def named(members_due: list[dict]) -> str:
    """'Ann Lee (#17, left 2024-03-01), ...': who they are, not bare ids."""
    return ", ".join(f"{m['name']} (#{m['id']}, left {m['left_on']})" for m in members_due) or "none"


def apply(conn: sqlite3.Connection, due: dict, today: date) -> dict:
    """Forget the members and erase the notes that are due (inside the caller's transaction)."""
    for member_id in due["members_due"]:
        forget(conn, str(member_id), today)
    erased = 0
    for table, column, sql in NOTES:
        ids = [r[0] for r in conn.execute(sql, [due["_notes_before"]])]
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            conn.execute(f"UPDATE {table} SET {column} = NULL WHERE rowid IN ({','.join('?' * len(chunk))})", chunk)
        erased += len(ids)
    return {"members_forgotten": len(due["members_due"]), "notes_erased": erased}


def forget(conn: sqlite3.Connection, ref: str, today: date) -> int:
    """Erase a member's personal data; their anonymous attendance stays counted."""
    row = members.find_member(conn, ref)
    mid = row["id"]
    if row["forgotten_on"]:
        raise TanetError(f"Member #{mid} has already been forgotten.")
    erase_traces(conn, row, today)  # in outbox errors and feedback, while her address is still known
    conn.execute(
        """UPDATE members SET name = 'Former member #' || id, email = NULL, phone = NULL,
                  notes = NULL, known_as = NULL, forgotten_on = :today,
                  left_on = CASE WHEN left_on IS NOT NULL AND left_on <= :today THEN left_on
                                 WHEN joined_on < :today THEN :today ELSE joined_on END
           WHERE id = :id""",
        {"id": mid, "today": today.isoformat()},
    )
    # Their messages: the files go, and the outbox keeps only that something was sent.
    outbox.forget_files(conn, "member_id = ?", [mid])
    conn.execute("UPDATE outbox SET email = NULL WHERE member_id = ?", [mid])
    conn.execute("UPDATE checkins SET note = NULL WHERE member_id = ?", [mid])
    conn.execute("UPDATE responses SET comment = NULL, message_id = NULL WHERE member_id = ?", [mid])
    conn.execute("UPDATE followups SET note = NULL, about = NULL WHERE member_id = ?", [mid])
    conn.execute("DELETE FROM availability WHERE member_id = ?", [mid])
    return mid


def erase_traces(conn: sqlite3.Connection, member: sqlite3.Row, today: date) -> None:
    """What `member forget` erases beyond the member's own rows (inside its transaction).
    Their named feedback becomes anonymous (the answers still count, as no one's), with
    their address and names taken out of the answers; a mail server's refusal quoting their
    address or name ("550 <zoe@...>: unknown") loses them, in any outbox row; a follow-up
    still open is closed today (no one can follow up a person who is forgotten)."""
    conn.execute("UPDATE followups SET closed_on = ? WHERE member_id = ? AND closed_on IS NULL",
                 [today.isoformat(), member["id"]])
    # As written, and as a server may write them: without accents, the address's name part.
    local = (member["email"] or "").partition("@")[0]
    seen = [member["email"], member["name"], vocabulary.fold(member["name"] or ""), local if len(local) > 3 else None]
    full = _pattern(seen)
    own = _pattern([*seen, members.known_as(member)])
    for row in conn.execute("SELECT id, take_back, next_topic FROM feedback WHERE member_id = ?",
                            [member["id"]]).fetchall():
        conn.execute("UPDATE feedback SET member_id = NULL, anonymous = 1, take_back = ?, next_topic = ? WHERE id = ?",
                     [_erased(own, row["take_back"]), _erased(own, row["next_topic"]), row["id"]])
    for row_id, error in conn.execute("SELECT id, error FROM outbox WHERE error IS NOT NULL").fetchall():
        scrubbed = _erased(full, error)
        if scrubbed != error:
            conn.execute("UPDATE outbox SET error = ? WHERE id = ?", [scrubbed, row_id])


def _pattern(words: list):
    import re

    # Whole words only: a first name is taken out of "Grounding with Peadar", not "Peadarson".
    words = sorted({w for w in words if w and len(w) > 1}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)


def _erased(pattern, text: str | None) -> str | None:
    return pattern.sub("[erased]", text) if pattern and text else text


def subject_access(conn: sqlite3.Connection, ref: str) -> dict:
    """Everything held about one member (a subject access request): their details and
    activity, their named feedback, and their messages in the outbox."""
    row = members.find_member(conn, ref)
    member = members.member_object(row, members.EXPORT_KEYS)
    member["forgotten_on"] = row["forgotten_on"]
    q = lambda sql: [dict(r) for r in conn.execute(sql, [row["id"]])]  # noqa: E731
    return {"member": member, **members.activity(conn, row["id"]),
            "feedback": q("""SELECT f.meeting_id, m.date, f.usefulness, f.will_use, f.take_back, f.next_topic,
                                    f.service_area, f.submitted_at FROM feedback f
                             JOIN meetings m ON m.id = f.meeting_id WHERE f.member_id = ? ORDER BY m.date, f.id"""),
            "outbox": q("""SELECT id, meeting_id, kind, email, method, sequence, written_at, sent_at, error
                           FROM outbox WHERE member_id = ? ORDER BY id""")}
