"""A member who leaves is taken off what is ahead: each future meeting they were sent is
withdrawn from their calendar by an iTIP CANCEL naming them alone (RFC 5546 §3.2.5, an
attendee removed), and later updates no longer go to them (see tanet.mail.invites).

A withdrawal carries the meeting's UID and its SEQUENCE raised by one, as Outlook
raises it for a removed attendee, without raising the meeting's own SEQUENCE: the
members still invited hold the current version and are not sent it again.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from tanet.mail import compose, outbox, outbox_files
from tanet.meetings import schedule
from tanet.register import members
from tanet.store import settings

_AHEAD = f"""
    SELECT m.* FROM meetings m
     WHERE m.status = 'scheduled' AND m.date >= :from_day
       AND EXISTS (SELECT 1 FROM outbox o WHERE o.meeting_id = m.id AND o.member_id = :mid
                   AND {outbox.kind_in(outbox.INVITING_KINDS, 'o.kind')})
       AND NOT EXISTS (SELECT 1 FROM outbox c WHERE c.meeting_id = m.id AND c.member_id = :mid
                   AND c.kind = 'cancellation' AND (:written OR c.sent_at IS NOT NULL)
                   AND c.id > (SELECT max(o.id) FROM outbox o WHERE o.meeting_id = m.id
                                     AND o.member_id = :mid AND {outbox.kind_in(outbox.INVITING_KINDS, 'o.kind')}))
     ORDER BY m.date, m.start, m.id"""


def meetings_ahead(conn: sqlite3.Connection, member_id: int, from_day: date, *, written_counts: bool) -> list[dict]:
    """Meetings still to come (on or after `from_day`) that the member was sent and not yet
    withdrawn from: with `written_counts`, a withdrawal written but not sent counts as done."""
    rows = conn.execute(_AHEAD, {"mid": member_id, "from_day": from_day.isoformat(),
                                 "written": int(written_counts)}).fetchall()
    return schedule.objects(conn, rows)


def folder_of(member_id: int) -> Path:
    """Named by the member's number only, so the folder's name never keeps a forgotten name."""
    return Path("cancellations") / f"member-{member_id}"


def _body(meeting: dict, values: dict, known_as: str | None) -> str:
    network = values["network"]
    return "\n".join([
        compose.greeting(known_as), "",
        f"As you have left the {network}, this meeting has been taken out of your calendar "
        "(the attached update removes it):", "", *compose.meeting_lines(meeting, []), "",
        f"If this is a mistake, reply to {values['organiser.email']}.", "",
        values.get("organiser.name") or network]) + "\n"


def withdraw(conn: sqlite3.Connection, member: sqlite3.Row, meetings: list[dict],
             folder: Path | None = None) -> outbox.Written | None:
    """Write a CANCEL to the member alone for each of these meetings and record it in the
    outbox (inside the caller's transaction); None when there is nothing to withdraw."""
    if not meetings or not member["email"]:
        return None
    values = settings.get_all(conn)
    letters, sequences = [], {}
    again = set(invited_since_withdrawn(conn, member["id"]))
    for meeting in meetings:
        sequence = meeting["sequence"] + 1
        known = outbox.message_ids(conn, meeting["id"], ("cancellation",), sequence).get(member["id"])
        if meeting["id"] in again:  # invited again since that withdrawal: this one is a new message
            known = None
        ics = compose.withdrawal(meeting, values, member["name"], member["email"], sequence)
        msg = compose.message(meeting=meeting, sessions=[], values=values, method="CANCEL", ics=ics,
                              to=[(member["name"], member["email"])], message_id=known,
                              subject=f"Invitation withdrawn: {meeting['title']}, {compose.when_in_words(meeting)}",
                              text=_body(meeting, values, members.known_as(member)))
        letters.append(outbox.Letter(f"{compose.folder_name(meeting)}.eml", msg, "cancellation",
                                     [(member["id"], member["email"])]))
        sequences[letters[-1].name] = (meeting["id"], sequence)
    return _write(conn, (folder or folder_of(member["id"])).absolute(), member["id"], letters, sequences)


def _write(conn: sqlite3.Connection, folder: Path, member_id: int, letters: list[outbox.Letter],
           sequences: dict) -> outbox.Written:
    from tanet.store.files import NewFolder

    written = outbox.Written(folder, "CANCEL", letters)
    recorded = {r[0] for r in conn.execute(
        "SELECT file FROM outbox WHERE member_id = ? AND kind = 'cancellation' AND file IS NOT NULL", [member_id])}
    with NewFolder(folder, owned=lambda name: str(folder / name) in recorded, what="messages",
                   owner=f"member #{member_id}'s cancellations",
                   hint="Move those files out of it, then run the same command again.") as out:
        for letter in letters:
            out.write(letter.name, compose.message_bytes(letter.msg))
            meeting_id, sequence = sequences[letter.name]
            written.row_ids += outbox.add_row(conn, meeting_id, sequence, "CANCEL", letter, folder / letter.name,
                                             letter.msg["Message-ID"])
        out.commit()
    current = {str(folder / letter.name) for letter in letters}
    outbox_files.forget_files(conn, "member_id = ? AND kind = 'cancellation' AND file LIKE ?",
                        [member_id, f"{folder}/%"], keep=current)
    return written


def remove_drafts(conn: sqlite3.Connection, member_id: int, from_day: date) -> int:
    """A leaver's invitation drafts still waiting in the folders of meetings ahead: sent from
    an e-mail program, they would invite a leaver again (inside the caller's transaction)."""
    return outbox_files.forget_files(conn, f"""member_id = ? AND sent_at IS NULL AND {outbox.kind_in(outbox.INVITING_KINDS)}
                               AND meeting_id IN (SELECT id FROM meetings WHERE date >= ?)""",
                               [member_id, from_day.isoformat()])


def remove_unsent(conn: sqlite3.Connection, member_id: int, from_day: date) -> int:
    """A rejoiner's withdrawals of meetings ahead that were written but never sent (nor tried):
    their files and rows go, so nothing can take those meetings out of their calendar
    (inside the caller's transaction). Returns how many."""
    where = """member_id = ? AND kind = 'cancellation' AND sent_at IS NULL AND attempted_at IS NULL
               AND meeting_id IN (SELECT id FROM meetings WHERE status = 'scheduled' AND date >= ?)"""
    params = [member_id, from_day.isoformat()]
    outbox_files.forget_files(conn, where, params)
    return conn.execute(f"DELETE FROM outbox WHERE {where}", params).rowcount


def to_invite_again(conn: sqlite3.Connection, member_id: int, from_day: date) -> list[int]:
    """Meetings still to come whose copy this member was sent or written and then had withdrawn
    (when they left): the meetings a rejoiner should be invited to again."""
    rows = conn.execute(f"""
        SELECT m.id FROM meetings m WHERE m.status = 'scheduled' AND m.date >= :from_day
           AND EXISTS (SELECT 1 FROM outbox c WHERE c.meeting_id = m.id AND c.member_id = :mid
                       AND c.kind = 'cancellation' AND c.id > (SELECT max(o.id) FROM outbox o
                       WHERE o.meeting_id = m.id AND o.member_id = :mid
                       AND {outbox.kind_in(outbox.INVITING_KINDS, 'o.kind')}))
         ORDER BY m.date, m.start, m.id""", {"mid": member_id, "from_day": from_day.isoformat()})
    return [r["id"] for r in rows]


def invited_since_withdrawn(conn: sqlite3.Connection, member_id: int) -> list[int]:
    """Meetings this member was withdrawn from and then invited to again (they rejoined)."""
    return [r[0] for r in conn.execute(f"""
        SELECT DISTINCT c.meeting_id FROM outbox c JOIN outbox o ON o.meeting_id = c.meeting_id
         WHERE c.member_id = ? AND o.member_id = c.member_id AND c.kind = 'cancellation'
           AND {outbox.kind_in(outbox.INVITING_KINDS, 'o.kind')} AND o.id > c.id""", [member_id])]


def rejoin(conn: sqlite3.Connection, ref: str, today: date) -> tuple[sqlite3.Row, int, list[int]]:
    """Bring a leaver back (inside the caller's transaction): their withdrawals of meetings
    ahead written but never sent are removed, and the meetings ahead whose withdrawal went
    are returned, to invite them again. Returns (member, drafts removed, meeting ids)."""
    row = members.rejoin(conn, ref)
    removed = remove_unsent(conn, row["id"], today)
    return row, removed, to_invite_again(conn, row["id"], today)
