"""Invitations, updates and cancellations for one meeting, written through the outbox.

Who gets them: the members invited now (active on the meeting's day, with an e-mail,
optionally from some areas) and everyone sent or written an earlier version of the
meeting, even if they have left since or were outside a later --area, so an update or
a cancellation reaches every calendar that holds the meeting.
"""

from __future__ import annotations

import itertools
import sqlite3
from datetime import date
from pathlib import Path

from tanet.errors import TanetError
from tanet.mail import compose, outbox
from tanet.meetings import agenda, facilitation, ical, schedule
from tanet.register import members, membership, vocabulary
from tanet.store import settings

_CALENDAR = outbox.kind_in(outbox.CALENDAR_KINDS)
_ACTIVE = membership.active_sql(":d", "m")
# The member's copy of row `o` was withdrawn after it (they left): their calendar no longer holds it.
_WITHDRAWN_SINCE = ("EXISTS (SELECT 1 FROM outbox w WHERE w.meeting_id = o.meeting_id AND w.member_id = o.member_id "
                    "AND w.kind = 'cancellation' AND w.id > o.id)")


def anyone_earlier(conn: sqlite3.Connection, row: sqlite3.Row) -> bool:
    """Whether any member was sent (or written) an earlier version of the meeting."""
    return conn.execute(f"""SELECT 1 FROM outbox WHERE meeting_id = ? AND sequence < ? AND member_id IS NOT NULL
                            AND {_CALENDAR} LIMIT 1""", [row["id"], row["sequence"]]).fetchone() is not None


def recipients(conn: sqlite3.Connection, row: sqlite3.Row, areas: list[str], only_earlier: bool = False):
    """Everyone this version goes to, one member at a time in name order (their id, name,
    email and known_as: what a message to them needs), each with `had_earlier` (sent an
    earlier version), `earlier_snapshot` (the latest such version's details) and
    `known_message_id` (this version's Message-ID if written before). A
    cancellation goes only to those who had the meeting (or, if nobody had, to everyone
    who would have been invited), members who have left included; an update to those who
    had it and are still members that day (a leaver was sent a withdrawal instead), and
    to members newly eligible. With `only_earlier`, nobody new (an organiser's change)."""
    cancelled = row["status"] == "cancelled"
    new_ones = not ((cancelled or only_earlier) and anyone_earlier(conn, row))
    params = {"mid": row["id"], "seq": row["sequence"], "d": row["date"]}
    had = f"o.meeting_id = :mid AND o.member_id = m.id AND o.sequence < :seq AND o.{_CALENDAR}"
    if not cancelled:  # in their calendar now: not since withdrawn (a rejoiner) nor cancelled (reinstated)
        had += f" AND o.{outbox.kind_in(outbox.INVITING_KINDS)} AND NOT {_WITHDRAWN_SINCE}"
    wanted = [f"(EXISTS (SELECT 1 FROM outbox o WHERE {had}){'' if cancelled else ' AND ' + _ACTIVE})"]
    if new_ones:
        names = [vocabulary.find_area(conn, a) for a in areas]
        params.update({f"a{i}": n for i, n in enumerate(names)})
        wanted.append(f"({_ACTIVE}" + (" AND m.service_area IN (" + ",".join(f":a{i}" for i in range(len(names)))
                                       + "))" if names else ")"))
    conn.create_function("tanet_casefold", 1, str.casefold, deterministic=True)
    return conn.execute(
        f"""SELECT m.id, m.name, m.email, m.known_as, EXISTS (SELECT 1 FROM outbox o WHERE {had}) AS had_earlier,
                   (SELECT o.snapshot FROM outbox o WHERE {had} ORDER BY o.sequence DESC, o.id DESC LIMIT 1)
                       AS earlier_snapshot,
                   (SELECT o.message_id FROM outbox o WHERE o.meeting_id = :mid AND o.member_id = m.id
                      AND o.sequence = :seq AND o.{_CALENDAR} AND NOT {_WITHDRAWN_SINCE}
                    ORDER BY o.id DESC LIMIT 1) AS known_message_id
            FROM members m WHERE m.email IS NOT NULL AND ({' OR '.join(wanted)})
            ORDER BY tanet_casefold(m.name), m.id""", params)


def earlier_of(person: sqlite3.Row) -> dict | None:
    """The details of the earlier version this member was sent, or None if none was."""
    import json

    if not person["had_earlier"]:
        return None
    return json.loads(person["earlier_snapshot"]) if person["earlier_snapshot"] else {}


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
    """Write this meeting's current message for every recipient (inside the caller's transaction),
    one member at a time: each message is made, written and let go before the next."""
    values = settings.get_all(conn)
    ical.organiser_of(values)  # refused here when there is none
    row, meeting = meeting_for_messages(conn, ref, today, force)
    if meeting["status"] == "scheduled" and not meeting["location"] and not meeting["url"]:
        raise TanetError(f"Meeting #{row['id']} has neither a place nor a link. Add one with: "
                         f"tanet meeting edit {row['id']} --location '...' or --url https://...")
    if meeting["status"] == "cancelled" and not anyone_earlier(conn, row):
        raise TanetError(f"Nobody was sent meeting #{row['id']}, so there is no cancellation to send.")
    people = recipients(conn, row, areas, only_earlier)
    first = people.fetchone()
    if first is None:
        raise TanetError("Nobody to invite: no active member with an e-mail address"
                         + (" in those service areas." if areas else ". Add members first."))
    people = itertools.chain([first], people)
    sessions = agenda.list_sessions(conn, row["id"])
    meeting["facilitated_by"] = [f["name"] for f in facilitation.facilitators(conn, row["id"])]
    folder = folder or Path("invites") / compose.folder_name(meeting)
    if single:
        method, letters = _one_for_everyone(conn, meeting, sessions, values, list(people))
    else:
        method = "CANCEL" if meeting["status"] == "cancelled" else "REQUEST"
        letters = _one_each(meeting, sessions, values, method, people)
    written = outbox.write(conn, folder, row["id"], meeting["sequence"], method, letters, outbox.CALENDAR_KINDS)
    return meeting, written


def _one_for_everyone(conn: sqlite3.Connection, meeting: dict, sessions: list[dict], values: dict,
                      people: list[sqlite3.Row]) -> tuple[str, list[outbox.Letter]]:
    """One message for everyone: a PUBLISH calendar names nobody, and the Bcc list is never
    shown to the recipients. The organiser it is addressed to gets it too."""
    org_name, org_email = ical.organiser_of(values)
    known_ids = outbox.message_ids(conn, meeting["id"], outbox.CALENDAR_KINDS, meeting["sequence"])
    earlier = anyone_earlier(conn, meeting)
    method, ics = compose.invitation(meeting, sessions, values, [])
    kind = "cancellation" if meeting["status"] == "cancelled" else "update" if earlier else "invitation"
    msg = compose.message(meeting=meeting, sessions=sessions, values=values, method=method, ics=ics,
                       to=[(org_name, org_email)], bcc=[(p["name"], p["email"]) for p in people],
                       message_id=next(iter(known_ids.values()), None), first=not earlier)
    return method, [outbox.Letter("invite-all.eml", msg, kind, [(p["id"], p["email"]) for p in people],
                                  snapshot(meeting, values), copy_to=(org_email,))]


def _one_each(meeting: dict, sessions: list[dict], values: dict, method: str, people):
    """Each member's own message, made from a template per earlier version (members who had
    the same earlier version get the same message but for their name and address)."""
    from tanet.mail.letters import Template

    cancelled = meeting["status"] == "cancelled"
    shot = snapshot(meeting, values)
    now = {**meeting, **shot}
    templates: dict = {}
    for p in people:
        earlier = earlier_of(p)
        changes = compose.what_changed(earlier, now) if earlier and not cancelled else []
        key = (earlier is None, tuple(changes))
        template = templates.get(key)
        if template is None:
            template = templates[key] = Template(meeting, sessions, values, method, changes, earlier is None)
        member_id, name, email = p["id"], p["name"], p["email"]
        data, message_id = template.letter(name, email, p["known_as"] or members.default_known_as(name),
                                           p["known_message_id"])  # members.known_as, without its look at the keys
        kind = "cancellation" if cancelled else "invitation" if earlier is None else "update"
        yield outbox.Letter(compose.file_name(member_id, name), data, kind, [(member_id, email)], shot, message_id)


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
        if recipients(conn, schedule.get(conn, row["id"]), [], only_earlier=True).fetchone() is None:  # all left
            conn.execute("UPDATE meetings SET sequence = sequence - 1 WHERE id = ?", [row["id"]])
            continue
        out.append(write_invites(conn, str(row["id"]), folder=None, areas=[], single=single, force=False,
                                 today=today, only_earlier=True))
    return out
