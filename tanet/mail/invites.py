"""Invitations, updates and cancellations for one meeting, written through the outbox.

Who gets them: the members invited now (active on the meeting's day, with an e-mail,
optionally from some areas) and everyone sent or written an earlier version of the
meeting, even if they have left since or were outside a later --area, so an update or
a cancellation reaches every calendar that holds the meeting.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from tanet.meetings import ical
from tanet.meetings import schedule
from tanet.meetings import agenda
from tanet.meetings import facilitation
from tanet.register import members
from tanet.register import vocabulary
from tanet.register import membership
from tanet.mail import compose
from tanet.mail import outbox
from tanet.store import settings
from tanet.errors import TanetError


def invitees(conn: sqlite3.Connection, meeting: sqlite3.Row, areas: list[str]) -> list[sqlite3.Row]:
    """Members active on the meeting's day with an e-mail address, optionally from some areas only."""
    names = [vocabulary.find_area(conn, a) for a in areas]
    sql = f"SELECT * FROM members WHERE email IS NOT NULL AND {membership.active_sql(':d')}"
    params = {"d": meeting["date"]}
    if names:
        sql += " AND service_area IN (" + ",".join(f":a{i}" for i in range(len(names))) + ")"
        params.update({f"a{i}": n for i, n in enumerate(names)})
    return conn.execute(sql + " ORDER BY name COLLATE NOCASE, id", params).fetchall()


def recipients(conn: sqlite3.Connection, row: sqlite3.Row, areas: list[str],
               only_earlier: bool = False) -> tuple[list[sqlite3.Row], dict]:
    """Everyone this version goes to, and the earlier version each of them was sent. A
    cancellation goes only to those who had the meeting (or, if nobody had, to everyone
    who would have been invited), members who have left included; an update to those who
    had it and are still members that day (a leaver was sent a withdrawal instead), and
    to members newly eligible. With `only_earlier`, nobody new (an organiser's change)."""
    earlier = outbox.earlier_versions(conn, row["id"], row["sequence"])
    cancelled = row["status"] == "cancelled"
    if (cancelled and earlier) or (only_earlier and earlier):
        people = {}
    else:
        people = {m["id"]: m for m in invitees(conn, row, areas)}
    missing = [mid for mid in earlier if mid not in people]
    if missing:
        marks = ",".join("?" * len(missing))
        for m in conn.execute(f"SELECT * FROM members WHERE id IN ({marks}) AND email IS NOT NULL", missing):
            if cancelled or membership.is_active(m, row["date"]):
                people[m["id"]] = m
    ordered = sorted(people.values(), key=lambda m: (m["name"].casefold(), m["id"]))
    return ordered, earlier


def snapshot(meeting: dict, values: dict | None = None) -> dict:
    shot = {k: meeting.get(k) for k in ("date", "start", "end", "location", "url", "title")}
    if values:
        shot["organiser"] = f"{values.get('organiser.name') or ''} <{values.get('organiser.email')}>".strip()
    return shot


def meeting_for_messages(conn: sqlite3.Connection, ref: str, today: date, force: bool) -> tuple[sqlite3.Row, dict]:
    row = schedule.find_meeting(conn, ref, today, allow_cancelled=True)
    meeting = schedule.objects(conn, [row])[0]
    meeting["cancel_reason"] = row["cancel_reason"]
    if row["date"] < today.isoformat() and not force:
        raise TanetError(f"Meeting #{row['id']} was on {row['date']}, in the past. "
                         "Add --force if you really mean to write to members about it.")
    return row, meeting


def write_invites(conn: sqlite3.Connection, ref: str, *, folder: Path | None, areas: list[str], single: bool,
                  force: bool, today: date, only_earlier: bool = False) -> tuple[dict, outbox.Written]:
    """Write this meeting's current message for every recipient (inside the caller's transaction)."""
    values = settings.get_all(conn)
    org_name, org_email = ical.organiser_of(values)
    row, meeting = meeting_for_messages(conn, ref, today, force)
    if meeting["status"] == "scheduled" and not meeting["location"] and not meeting["url"]:
        raise TanetError(f"Meeting #{row['id']} has neither a place nor a link. Add one with: "
                         f"tanet meeting edit {row['id']} --location '...' or --url https://...")
    people, earlier = recipients(conn, row, areas, only_earlier)
    if not people:
        raise TanetError("Nobody to invite: no active member with an e-mail address"
                         + (" in those service areas." if areas else ". Add members first."))
    sessions = agenda.list_sessions(conn, row["id"])
    meeting["facilitated_by"] = [f["name"] for f in facilitation.facilitators(conn, row["id"])]
    folder = folder or Path("invites") / compose.folder_name(meeting)
    cancelled = meeting["status"] == "cancelled"

    def kind_of(member_id: int) -> str:
        return "cancellation" if cancelled else "update" if member_id in earlier else "invitation"

    known_ids = outbox.message_ids(conn, row["id"], outbox.CALENDAR_KINDS, meeting["sequence"])
    letters = []
    if single:
        # One message for everyone: a PUBLISH calendar names nobody, and the Bcc list is
        # never shown to the recipients. The organiser it is addressed to gets it too.
        method, ics = compose.invitation(meeting, sessions, values, [])
        kind = "cancellation" if cancelled else "update" if earlier else "invitation"
        msg = compose.message(meeting=meeting, sessions=sessions, values=values, method=method, ics=ics,
                              to=[(org_name, org_email)], bcc=[(p["name"], p["email"]) for p in people],
                              message_id=next(iter(known_ids.values()), None), first=not earlier)
        letters.append(outbox.Letter("invite-all.eml", msg, kind, [(p["id"], p["email"]) for p in people],
                                     snapshot(meeting, values), copy_to=(org_email,)))
    else:
        from tanet.mail.letters import Template

        method = "CANCEL" if cancelled else "REQUEST"
        templates: dict = {}  # members who had the same earlier version get the same message
        for p in people:
            changes = compose.what_changed(earlier.get(p["id"]), {**meeting, **snapshot(meeting, values)}) \
                if not cancelled else []
            first = p["id"] not in earlier
            key = (first, tuple(changes))
            if key not in templates:
                templates[key] = Template(meeting, sessions, values, method, changes, first)
            data, message_id = templates[key].letter(p["name"], p["email"], members.known_as(p), known_ids.get(p["id"]))
            letters.append(outbox.Letter(compose.member_file_name(p), data, kind_of(p["id"]),
                                         [(p["id"], p["email"])], snapshot(meeting, values), message_id))
    written = outbox.write(conn, folder, row["id"], meeting["sequence"], method, letters, outbox.CALENDAR_KINDS)
    return meeting, written


def sent_single(conn: sqlite3.Connection, meeting_id: int) -> bool:
    """Whether the meeting's latest invitation went as one message to everyone (--single):
    a PUBLISH calendar rather than a request per member."""
    row = conn.execute(
        f"""SELECT method FROM outbox WHERE meeting_id = ? AND {outbox.kind_in(outbox.INVITING_KINDS)}
           ORDER BY sequence DESC, id DESC LIMIT 1""", [meeting_id]).fetchone()
    return bool(row) and row["method"] == "PUBLISH"


def change_organiser(conn: sqlite3.Connection, name: str, email: str, today: date) -> list[tuple[dict, outbox.Written]]:
    """New organiser settings, and an update (raised SEQUENCE, new ORGANIZER) to everyone
    invited to each upcoming meeting, in the way the meeting was first sent: one message
    with everyone in Bcc for a --single meeting (inside the caller's transaction)."""
    settings.set_value(conn, "organiser.name", name)
    settings.set_value(conn, "organiser.email", email)
    upcoming = conn.execute(
        f"""SELECT id FROM meetings WHERE status = 'scheduled' AND date >= ? AND id IN
           (SELECT meeting_id FROM outbox WHERE {outbox.kind_in(outbox.INVITING_KINDS)}) ORDER BY date, start""",
        [today.isoformat()]).fetchall()
    out = []
    for row in upcoming:
        single = sent_single(conn, row["id"])
        conn.execute("UPDATE meetings SET sequence = sequence + 1 WHERE id = ?", [row["id"]])
        if not recipients(conn, schedule.get(conn, row["id"]), [], only_earlier=True)[0]:  # all its invitees left
            conn.execute("UPDATE meetings SET sequence = sequence - 1 WHERE id = ?", [row["id"]])
            continue
        out.append(write_invites(conn, str(row["id"]), folder=None, areas=[], single=single, force=False,
                                 today=today, only_earlier=True))
    return out
