"""What a meeting is about: its agenda sessions, and the themes the network raises."""

from __future__ import annotations

from datetime import date

from tanet import text as text_rules
from tanet.errors import TanetError
from tanet.meetings import schedule
from tanet.register import members, membership

SESSION_KINDS = ("spotlight", "reflective", "training", "guest")


SESSION_SELECT = """SELECT s.id, s.meeting_id, s.kind, s.title, mb.name AS presenter, s.presenter_id,
                           s.guest, s.guest_org
                    FROM sessions s LEFT JOIN members mb ON mb.id = s.presenter_id"""


def _kind(value: str, allowed, what: str) -> str:
    v = value.strip().lower().replace(" ", "-").replace("_", "-")
    exact = [k for k in allowed if k == v]
    matches = exact or ([k for k in allowed if k.startswith(v)] if v else [])
    if len(matches) == 1:
        return matches[0]
    raise TanetError(f"'{value}' is not a {what}. Use one of: {', '.join(allowed)}.")


def add_session(conn, ref: str, kind: str, title: str, presenter: str | None, guest: str | None,
                guest_org: str | None, today: date) -> dict:
    meeting = schedule.find_meeting(conn, ref, today)
    kind = _kind(kind, SESSION_KINDS, "session kind")
    title = " ".join((text_rules.one_line(title, "session title") or "").split())
    guest, guest_org = text_rules.one_line(guest, "guest's name"), text_rules.one_line(guest_org, "guest's organisation")
    if not title:
        raise TanetError("A session needs a --title.")
    if presenter and guest:
        raise TanetError("Give either --presenter (a member) or --guest (someone from outside), not both.")
    if guest_org and not guest:
        raise TanetError("--guest-org goes with --guest NAME.")
    presenter_id = None
    if presenter:
        m = members.find_member(conn, presenter)
        if not membership.is_active(m, meeting["date"]):
            raise TanetError(f"{m['name']} is not a member on {meeting['date']}"
                             + (f" (left {m['left_on']})" if m["left_on"] else "") + "; choose another presenter.")
        presenter_id = m["id"]
    if kind == "guest" and not guest:
        raise TanetError("A guest session needs --guest NAME (and --guest-org ORG).")
    cur = conn.execute("INSERT INTO sessions(meeting_id, kind, title, presenter_id, guest, guest_org) VALUES (?,?,?,?,?,?)",
                       [meeting["id"], kind, title, presenter_id, guest, guest_org])
    return session_object(conn.execute(SESSION_SELECT + " WHERE s.id = ?", [cur.lastrowid]).fetchone())


def session_object(r) -> dict:
    return {k: r[k] for k in ("id", "meeting_id", "kind", "title", "presenter", "guest", "guest_org")}


def list_sessions(conn, meeting_id: int | None) -> list[dict]:
    if meeting_id is None:
        rows = conn.execute(SESSION_SELECT + " JOIN meetings mt ON mt.id = s.meeting_id ORDER BY mt.date, s.id")
    else:
        rows = conn.execute(SESSION_SELECT + " WHERE s.meeting_id = ? ORDER BY s.id", [meeting_id])
    return [session_object(r) for r in rows]


def remove_session(conn, session_id: int) -> dict:
    row = conn.execute(SESSION_SELECT + " WHERE s.id = ?", [session_id]).fetchone()
    if row is None:
        raise TanetError(f"There is no session #{session_id}. See them with: tanet session list")
    conn.execute("DELETE FROM sessions WHERE id = ?", [session_id])
    return session_object(row)


THEME_KINDS = ("pain-point", "solution", "policy")


THEME_STATUSES = ("open", "raised", "resolved")


def theme_object(r) -> dict:
    return {k: r[k] for k in ("id", "text", "kind", "status", "meeting_id", "note")}


def add_theme(conn, text: str, kind: str, meeting_ref: str | None, today: date) -> dict:
    text = text_rules.some_lines(text, "theme") or ""
    if not text:
        raise TanetError("Say what the theme is, e.g. tanet theme add \"Waiting lists for CAMHS\" --kind pain-point")
    kind = _kind(kind, THEME_KINDS, "theme kind")
    meeting_id = schedule.find_meeting(conn, meeting_ref, today)["id"] if meeting_ref else None
    cur = conn.execute("INSERT INTO themes(text, kind, meeting_id, created_on) VALUES (?,?,?,?)",
                       [text, kind, meeting_id, today.isoformat()])
    return theme_object(conn.execute("SELECT * FROM themes WHERE id = ?", [cur.lastrowid]).fetchone())


def list_themes(conn, kind: str | None, status: str | None) -> list[dict]:
    where, params = [], []
    if kind:
        where.append("kind = ?")
        params.append(_kind(kind, THEME_KINDS, "theme kind"))
    if status:
        where.append("status = ?")
        params.append(_kind(status, THEME_STATUSES, "theme status"))
    sql = "SELECT * FROM themes" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    return [theme_object(r) for r in conn.execute(sql, params)]


def set_theme_status(conn, theme_id: int, status: str, note: str | None, today: date) -> dict:
    row = conn.execute("SELECT * FROM themes WHERE id = ?", [theme_id]).fetchone()
    if row is None:
        raise TanetError(f"There is no theme #{theme_id}. See them with: tanet theme list")
    status = _kind(status, THEME_STATUSES, "theme status")
    d = today.isoformat()
    conn.execute(
        """UPDATE themes SET status = :s, note = coalesce(:note, note),
               raised_on = CASE WHEN :s = 'raised' THEN coalesce(raised_on, :d) ELSE raised_on END,
               resolved_on = CASE WHEN :s = 'resolved' THEN :d ELSE NULL END
           WHERE id = :id""",
        {"s": status, "note": text_rules.some_lines(note, "note"), "d": d, "id": theme_id})
    return theme_object(conn.execute("SELECT * FROM themes WHERE id = ?", [theme_id]).fetchone())
