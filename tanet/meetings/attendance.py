"""Check-ins, attendance and follow-ups."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timezone

from tanet import text
from tanet.errors import TanetError
from tanet.meetings import schedule
from tanet.register import members, membership

STATUSES = ("present", "apologies", "absent")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_can_record(meeting: sqlite3.Row, status: str, today: date) -> None:
    """A cancelled meeting takes nothing; a future one takes only apologies."""
    if meeting["status"] == "cancelled":
        raise TanetError(f"Meeting #{meeting['id']} on {meeting['date']} was cancelled; it takes no attendance.")
    if meeting["date"] > today.isoformat() and status != "apologies":
        raise TanetError(f"Meeting #{meeting['id']} is on {meeting['date']}, in the future: only apologies can be "
                         f"recorded before the day, with: tanet attendance mark {meeting['id']} MEMBER --status "
                         "apologies")


def check_round_day(meeting: sqlite3.Row, today: date) -> None:
    """The round marks people present, so it runs on the meeting's day or after; before it, a
    call ahead is a check-in on its own and apologies are marked."""
    if meeting["status"] != "cancelled" and meeting["date"] > today.isoformat():
        raise TanetError(f"Meeting #{meeting['id']} is on {meeting['date']}; the round marks people present, so it "
                         f"runs on the day. For a call ahead: tanet checkin record {meeting['id']} MEMBER --note "
                         f"'...'; for apologies: tanet attendance mark {meeting['id']} MEMBER --status apologies")
    check_can_record(meeting, "present", today)


def check_member_on(member: sqlite3.Row, meeting: sqlite3.Row) -> None:
    if not membership.is_active(member, meeting["date"]):
        if membership.has_left(member, meeting["date"]):
            raise TanetError(f"{member['name']} left the network on {member['left_on']}, so was not a member on "
                             f"{meeting['date']} (meeting #{meeting['id']}).")
        raise TanetError(f"{member['name']} joined on {member['joined_on']}, so was not a member on {meeting['date']} "
                         f"(meeting #{meeting['id']}). If they were, correct the date first: "
                         f"tanet member edit {member['id']} --joined {meeting['date']}")


def set_status(conn, meeting_id: int, member_id: int, status: str, source: str) -> str:
    """Upsert one attendance row; returns what changed: 'new', 'changed' or 'same'."""
    old = conn.execute("SELECT status FROM attendance WHERE meeting_id = ? AND member_id = ?",
                       [meeting_id, member_id]).fetchone()
    if old and old[0] == status:
        return "same"
    conn.execute(
        """INSERT INTO attendance(meeting_id, member_id, status, source, recorded_at) VALUES (?,?,?,?,?)
           ON CONFLICT(meeting_id, member_id) DO UPDATE SET status = excluded.status,
               source = excluded.source, recorded_at = excluded.recorded_at""",
        [meeting_id, member_id, status, source, _now()])
    return "changed" if old else "new"


def mark(conn, meeting_ref: str, member_refs: list[str], status: str, today: date) -> tuple[sqlite3.Row, list[tuple]]:
    if status not in STATUSES:
        raise TanetError(f"'{status}' is not an attendance status. Use one of: {', '.join(STATUSES)}.")
    meeting = schedule.find_meeting(conn, meeting_ref, today)
    check_can_record(meeting, status, today)
    done = []
    for ref in member_refs:
        member = members.find_member(conn, ref)
        check_member_on(member, meeting)
        done.append((member, set_status(conn, meeting["id"], member["id"], status, "mark")))
    return meeting, done


def record_checkin(conn, meeting: sqlite3.Row, member: sqlite3.Row, note: str | None, follow_up: bool,
                   today: date) -> dict:
    """The facilitator's check-in: saves the note, marks present, opens a follow-up if asked.
    Before the meeting's day it is a call-ahead (by phone, say): recorded, nobody marked present."""
    ahead = meeting["status"] != "cancelled" and meeting["date"] > today.isoformat()
    if not ahead:
        check_can_record(meeting, "present", today)
    check_member_on(member, meeting)
    note = text.some_lines(note, "check-in note")
    conn.execute(
        """INSERT INTO checkins(meeting_id, member_id, note, recorded_at) VALUES (?,?,?,?)
           ON CONFLICT(meeting_id, member_id) DO UPDATE SET note = coalesce(excluded.note, note),
               recorded_at = excluded.recorded_at""",
        [meeting["id"], member["id"], note, _now()])
    if not ahead:
        set_status(conn, meeting["id"], member["id"], "present", "checkin")
    followup_id = None
    if follow_up:
        existing = conn.execute("SELECT id FROM followups WHERE meeting_id = ? AND member_id = ? AND closed_on IS NULL",
                                [meeting["id"], member["id"]]).fetchone()
        followup_id = existing[0] if existing else conn.execute(
            "INSERT INTO followups(meeting_id, member_id, raised_on) VALUES (?,?,?)",
            [meeting["id"], member["id"], today.isoformat()]).lastrowid
    return {"meeting_id": meeting["id"], "member_id": member["id"], "name": member["name"], "note": note,
            "follow_up": followup_id, "present": not ahead}


def expected(conn, meeting: sqlite3.Row) -> list[sqlite3.Row]:
    """Members the round walks through: active that day, no apologies, not yet checked in on
    the day (a call-ahead check-in before the day still needs them marked present);
    those who accepted the invitation first, then tentative, then the rest."""
    return conn.execute(
        f"""SELECT mb.* FROM members mb
           LEFT JOIN responses r ON r.meeting_id = :m AND r.member_id = mb.id
           WHERE {membership.active_sql(":d", "mb")}
             AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.meeting_id = :m AND a.member_id = mb.id
                             AND a.status = 'apologies')
             AND NOT EXISTS (SELECT 1 FROM checkins c JOIN attendance a USING (meeting_id, member_id)
                             WHERE c.meeting_id = :m AND c.member_id = mb.id AND a.status = 'present')
           ORDER BY CASE r.response WHEN 'accepted' THEN 0 WHEN 'tentative' THEN 1 ELSE 2 END,
                    mb.name COLLATE NOCASE""", {"d": meeting["date"], "m": meeting["id"]}).fetchall()


def list_checkins(conn, meeting_id: int) -> list[dict]:
    return [dict(r) for r in conn.execute(
        """SELECT c.member_id, mb.name, mb.service_area, c.note,
                  EXISTS(SELECT 1 FROM followups f WHERE f.meeting_id = c.meeting_id AND f.member_id = c.member_id)
                    AS follow_up, c.recorded_at
           FROM checkins c JOIN members mb ON mb.id = c.member_id
           WHERE c.meeting_id = ? ORDER BY mb.name COLLATE NOCASE""", [meeting_id])]


FOLLOWUP_KEYS = ("id", "meeting_id", "member_id", "name", "raised_on", "closed_on", "note", "about", "owner",
                 "due_on")


def add_followup(conn, member_ref: str, about: str, owner_ref: str | None, due: date | None, today: date) -> dict:
    """A follow-up raised outside a check-in: about what, who will do it, by when."""
    member = members.find_member(conn, member_ref)
    about = text.some_lines(about, "reason")
    if not about:
        raise TanetError("Say what the follow-up is about, e.g. --about 'Call about the referral'")
    owner = members.find_member(conn, owner_ref)["id"] if owner_ref else None
    if due is not None and due < today:
        raise TanetError(f"The due date {due} has already passed; give a date from today on.")
    cur = conn.execute("INSERT INTO followups(member_id, raised_on, about, owner_id, due_on) VALUES (?,?,?,?,?)",
                       [member["id"], today.isoformat(), about, owner, due.isoformat() if due else None])
    return next(f for f in list_followups(conn, False) if f["id"] == cur.lastrowid)


def list_followups(conn, only_open: bool) -> list[dict]:
    sql = """SELECT f.id, f.meeting_id, f.member_id, mb.name, f.raised_on, f.closed_on, f.note, f.about,
                    ow.name AS owner, f.due_on
             FROM followups f JOIN members mb ON mb.id = f.member_id LEFT JOIN members ow ON ow.id = f.owner_id"""
    if only_open:
        sql += " WHERE f.closed_on IS NULL"
    return [dict(r) for r in conn.execute(sql + " ORDER BY f.raised_on, f.id")]


def close_followup(conn, followup_id: int, note: str | None, today: date) -> dict:
    row = conn.execute("SELECT * FROM followups WHERE id = ?", [followup_id]).fetchone()
    if row is None:
        raise TanetError(f"There is no follow-up #{followup_id}. See the open ones with: tanet followup list --open")
    if row["closed_on"]:
        raise TanetError(f"Follow-up #{followup_id} was already closed on {row['closed_on']}.")
    conn.execute("UPDATE followups SET closed_on = ?, note = coalesce(?, note) WHERE id = ?",
                 [today.isoformat(), text.some_lines(note, "note"), followup_id])
    return next(f for f in list_followups(conn, False) if f["id"] == followup_id)


def edit_followup(conn, followup_id: int, *, about: str | None, owner_ref: str | None, due: date | None,
                  note: str | None, today: date, reopen: bool = False) -> dict:
    """Change what a follow-up is about, who has it, when it is due, or its note; `reopen`
    opens a closed one again (closed by mistake)."""
    row = conn.execute("SELECT * FROM followups WHERE id = ?", [followup_id]).fetchone()
    if row is None:
        raise TanetError(f"There is no follow-up #{followup_id}. See them with: tanet followup list")
    if about is None and owner_ref is None and due is None and note is None and not reopen:
        raise TanetError("Say what to change: --about TEXT, --owner MEMBER, --due DATE, --note TEXT or --reopen.")
    changes: dict[str, object] = {}
    if reopen:
        if not row["closed_on"]:
            raise TanetError(f"Follow-up #{followup_id} is open already; nothing was changed.")
        changes["closed_on"] = None
        row = {**dict(row), "closed_on": None}
    if about is not None:
        changes["about"] = text.some_lines(about, "about") or None
    if owner_ref is not None:
        changes["owner_id"] = members.find_member(conn, owner_ref)["id"] if owner_ref.strip() else None
    if due is not None:
        if due < today and not row["closed_on"]:
            raise TanetError(f"The due date {due} has already passed; give a date from today on.")
        changes["due_on"] = due.isoformat()
    if note is not None:
        changes["note"] = text.some_lines(note, "note") or None
    conn.execute(f"UPDATE followups SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
                 [*changes.values(), followup_id])
    return next(f for f in list_followups(conn, False) if f["id"] == followup_id)


def set_followup_about(conn, followup_id: int, about: str) -> None:
    """What a follow-up raised in the round is about (asked straight after)."""
    conn.execute("UPDATE followups SET about = ? WHERE id = ?", [text.some_lines(about, "about") or None, followup_id])


ATTENDANCE_KEYS = ("member_id", "name", "email", "service_area", "sector", "status", "checked_in")


def show(conn, meeting: sqlite3.Row, register: bool) -> list[dict]:
    """Who was present, sent apologies or was absent; the register adds everyone active ('none')."""
    params = {"m": meeting["id"], "d": meeting["date"]}
    checked = "EXISTS(SELECT 1 FROM checkins c WHERE c.meeting_id = :m AND c.member_id = mb.id)"
    if register:
        sql = f"""SELECT mb.id AS member_id, mb.name, mb.email, mb.service_area, mb.sector,
                         coalesce(a.status, 'none') AS status, {checked} AS checked_in
                  FROM members mb LEFT JOIN attendance a ON a.member_id = mb.id AND a.meeting_id = :m
                  WHERE {membership.active_sql(":d", "mb")} OR a.status IS NOT NULL"""
    else:
        sql = f"""SELECT mb.id AS member_id, mb.name, mb.email, mb.service_area, mb.sector, a.status,
                         {checked} AS checked_in
                  FROM attendance a JOIN members mb ON mb.id = a.member_id WHERE a.meeting_id = :m"""
    order = " ORDER BY CASE status WHEN 'present' THEN 0 WHEN 'apologies' THEN 1 WHEN 'absent' THEN 2 ELSE 3 END, name COLLATE NOCASE"
    rows = [dict(r) for r in conn.execute(f"SELECT * FROM ({sql})" + order, params)]
    for r in rows:
        r["checked_in"] = bool(r["checked_in"])
    return rows
