"""Reminders before a meeting and thanks after it, written through the outbox."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from tanet import dates
from tanet.errors import TanetError
from tanet.mail import compose, outbox
from tanet.meetings import agenda, facilitation, schedule
from tanet.register import members, membership
from tanet.store import settings


def _declined(conn: sqlite3.Connection, meeting_id: int) -> set[int]:
    """Members who sent apologies, or declined the invitation (once replies are read)."""
    out = {r[0] for r in conn.execute(
        "SELECT member_id FROM attendance WHERE meeting_id = ? AND status = 'apologies'", [meeting_id])}
    has_replies = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'responses'").fetchone()
    if has_replies:
        out |= {r[0] for r in conn.execute(
            "SELECT member_id FROM responses WHERE meeting_id = ? AND response = 'declined'", [meeting_id])}
    return out


def _meeting_lines(meeting: dict, sessions: list[dict], facilitators: list[dict]) -> list[str]:
    lines = compose.meeting_lines(meeting, sessions)
    if facilitators:
        lines += ["", "Facilitated by " + " and ".join(f["name"] for f in facilitators) + "."]
    return lines


def _letters(people, kind: str, subject: str, body, values: dict, meeting: dict, ids: dict) -> list[outbox.Letter]:
    """One plain-text message per member, greeting each by the name they go by."""
    return [outbox.Letter(compose.member_file_name(p),
                          compose.message(meeting=meeting, sessions=[], values=values, method="", ics=None,
                                          to=[(p["name"], p["email"])], subject=subject,
                                          text=body(members.known_as(p)), message_id=ids.get(p["id"])),
                          kind, [(p["id"], p["email"])])
            for p in people]


def write_reminders(conn: sqlite3.Connection, ref: str, folder: Path | None, today: date) -> tuple[dict, outbox.Written]:
    """A reminder to everyone with an invitation to the meeting who has not declined or
    sent apologies (inside the caller's transaction)."""
    values = settings.get_all(conn)
    row = schedule.find_meeting(conn, ref, today, allow_cancelled=True)
    meeting = schedule.objects(conn, [row])[0]
    if meeting["status"] == "cancelled":
        raise TanetError(f"Meeting #{row['id']} on {row['date']} is cancelled: there is nothing to remind anyone "
                         f"of. Its cancellation goes with: tanet invite {row['id']}")
    if row["date"] < today.isoformat():
        raise TanetError(f"Meeting #{row['id']} was on {row['date']}, in the past; a reminder is for a meeting "
                         "still to come.")
    invited = [r[0] for r in conn.execute(
        f"""SELECT DISTINCT member_id FROM outbox WHERE meeting_id = ? AND member_id IS NOT NULL
            AND kind IN ({','.join('?' * len(outbox.CALENDAR_KINDS))})""", [row["id"], *outbox.CALENDAR_KINDS])]
    if not invited:
        raise TanetError(f"Nobody has an invitation to meeting #{row['id']} yet, so there is nobody to remind. "
                         f"Write the invitations first: tanet invite {row['id']}")
    skip = _declined(conn, row["id"])
    marks = ",".join("?" * len(invited))
    people = [p for p in conn.execute(f"SELECT * FROM members WHERE id IN ({marks}) AND email IS NOT NULL "
                                      "ORDER BY name COLLATE NOCASE, id", invited)
              if p["id"] not in skip and membership.is_active(p, row["date"])]  # a leaver was taken off it
    if not people:
        raise TanetError("Everyone invited has declined or sent apologies: there is nobody to remind.")
    sessions = agenda.list_sessions(conn, row["id"])
    facilitators = facilitation.facilitators(conn, row["id"])
    details = _meeting_lines(meeting, sessions, facilitators)

    def body(greet):
        return "\n".join([compose.greeting(greet), "", f"A reminder of the next {values['network']} meeting:", "",
                          *details, "", f"If you can no longer come, reply to {values['organiser.email']} to "
                          "send your apologies.", "", values.get("organiser.name") or values["network"]]) + "\n"

    ids = outbox.message_ids(conn, row["id"], ("reminder",), meeting["sequence"])
    letters = _letters(people, "reminder", f"Reminder: {meeting['title']}, {compose.when_in_words(meeting)}", body,
                       values, meeting, ids)
    folder = folder or Path("reminders") / compose.folder_name(meeting)
    return meeting, outbox.write(conn, folder, row["id"], meeting["sequence"], None, letters, ("reminder",))


def write_thanks(conn: sqlite3.Connection, ref: str, folder: Path | None, today: date) -> tuple[dict, outbox.Written]:
    """Thanks to everyone present at a held meeting, with its sessions, its resources and
    the feedback form (inside the caller's transaction)."""
    values = settings.get_all(conn)
    row = schedule.find_meeting(conn, ref, today, allow_cancelled=True)
    meeting = schedule.objects(conn, [row])[0]
    if meeting["status"] == "cancelled":
        raise TanetError(f"Meeting #{row['id']} on {row['date']} was cancelled: nobody came to be thanked.")
    if row["date"] > today.isoformat():
        raise TanetError(f"Meeting #{row['id']} on {row['date']} has not been held yet; thank people after it.")
    people = conn.execute(
        """SELECT m.* FROM attendance a JOIN members m ON m.id = a.member_id
           WHERE a.meeting_id = ? AND a.status = 'present' AND m.email IS NOT NULL
           ORDER BY m.name COLLATE NOCASE, m.id""", [row["id"]]).fetchall()
    if not people:
        raise TanetError(f"Nobody is recorded present at meeting #{row['id']}. Record who came first, e.g. "
                         f"tanet attendance import {row['id']} REPORT.csv")
    sessions = agenda.list_sessions(conn, row["id"])
    resources = conn.execute("SELECT title, description FROM resources WHERE meeting_id = ? ORDER BY id",
                             [row["id"]]).fetchall()
    lines = [f"Thank you for coming to the {values['network']} meeting on "
             f"{dates.in_words(date.fromisoformat(meeting['date']))}."]
    if sessions:
        lines += ["", "We heard:"] + [f"  - {compose.session_line(s)}" for s in sessions]
    if resources:
        lines += ["", "Shared at the meeting:"] + [
            f"  - {r['title']}" + (f": {r['description']}" if r["description"] else "") for r in resources]
    if values.get("feedback.form_url"):
        lines += ["", "Please tell us how it went - it takes two minutes:", f"  {values['feedback.form_url']}"]

    def body(greet):
        return "\n".join([compose.greeting(greet), "", *lines, "", values.get("organiser.name") or values["network"]]) + "\n"

    ids = outbox.message_ids(conn, row["id"], ("thanks",), meeting["sequence"])
    letters = _letters(people, "thanks", f"Thank you for coming: {meeting['title']}", body, values, meeting, ids)
    folder = folder or Path("thanks") / compose.folder_name(meeting)
    return meeting, outbox.write(conn, folder, row["id"], meeting["sequence"], None, letters, ("thanks",))
