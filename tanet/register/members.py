"""The member register: adding, finding, changing, leaving and forgetting members."""

from __future__ import annotations

import difflib
import sqlite3
from datetime import date

from tanet import text as text_rules
from tanet.errors import TanetError
from tanet.register import membership, vocabulary
from tanet.store.settings import valid_email

MEMBER_KEYS = ("id", "name", "email", "phone", "organisation", "service_area",
               "sector", "role", "ambassador", "joined_on", "left_on", "known_as")
# Everything `member export` writes, so that it round-trips through `member import`.
EXPORT_KEYS = MEMBER_KEYS + ("consent_on", "notes")


# Service areas ---------------------------------------------------------------


# Members ---------------------------------------------------------------------

def member_object(row: sqlite3.Row, keys=MEMBER_KEYS) -> dict:
    d = {k: row[k] for k in keys}
    d["ambassador"] = bool(d["ambassador"])
    if "known_as" in d:
        d["known_as"] = known_as(row)
    return d


TITLES = {"dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "rev", "revd", "reverend",
          "sir", "dame", "lady", "lord", "cllr", "councillor", "fr", "father", "sister", "dame"}


def default_known_as(name: str | None) -> str | None:
    """How to greet someone: the first given name, never a title (Dr, Mrs, ...), and never
    the surname of a 'Surname, Given' name."""
    if not name or name.startswith("Former member #"):
        return None
    if "," in name:
        surname, _, given = name.partition(",")
        name = given.strip() or surname
    words = [w for w in name.split() if w.strip(".").casefold() not in TITLES]
    return words[0].strip(",") if words else None


def known_as(row) -> str | None:
    """The stored `known_as`, else the default from the name."""
    stored = row["known_as"] if "known_as" in row.keys() else None
    return stored or default_known_as(row["name"])


def clean_name(name: str) -> str:
    name = " ".join((text_rules.one_line(name, "name") or "").split())
    if not name:
        raise TanetError("A member needs a name.")
    return name


def email_taken(conn: sqlite3.Connection, email: str, except_id: int | None = None) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT id, name FROM members WHERE email = ? COLLATE NOCASE AND id IS NOT ?",
        [email, except_id],
    ).fetchone()


def add_member(conn: sqlite3.Connection, *, name: str, email: str, organisation: str | None,
               service_area: str, sector: str, role: str, today: date, phone: str | None = None,
               joined_on: date | None = None, ambassador: bool = True, notes: str | None = None,
               consent_on: date | None = None, known_as: str | None = None) -> int:
    """Validate and insert one member; returns the new id."""
    name = clean_name(name)
    email = valid_email(email)
    if other := email_taken(conn, email):
        raise TanetError(
            f"{email} already belongs to member #{other['id']} {other['name']}. "
            f"Use tanet member edit {other['id']} to change that member."
        )
    joined = joined_on or today
    cur = conn.execute(
        """INSERT INTO members(name, email, phone, organisation, service_area, sector, role,
                               ambassador, joined_on, consent_on, notes, known_as)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
        [name, email, text_rules.one_line(phone, "phone number"), text_rules.one_line(organisation, "organisation"),
         vocabulary.find_area(conn, service_area), vocabulary.normalise_sector(sector, conn), vocabulary.normalise_role(role, conn),
         int(ambassador), joined.isoformat(), (consent_on or joined).isoformat(),
         text_rules.some_lines(notes, "notes"), text_rules.one_line(known_as, "name to greet them by")],
    )
    return cur.lastrowid


def _describe(row) -> str:
    org = f", {row['organisation']}" if row["organisation"] else ""
    return f"#{row['id']} {row['name']}{org}"


def find_member(conn: sqlite3.Connection, ref: str) -> sqlite3.Row:
    """A member by id, e-mail (any case) or a part of the name matching exactly one."""
    text = " ".join(str(ref).split())
    if not text:
        raise TanetError("Name a member: an id, an e-mail address or part of the name.")
    if text.lstrip("#").isdigit():
        row = conn.execute("SELECT * FROM members WHERE id = ?", [int(text.lstrip("#"))]).fetchone()
        if not row:
            raise TanetError(f"There is no member #{text.lstrip('#')}. Find ids with: tanet member list --all")
        return row
    if "@" in text:
        row = conn.execute("SELECT * FROM members WHERE email = ? COLLATE NOCASE", [text]).fetchone()
        if not row:
            raise TanetError(f"No member has the e-mail address {text}. Find members with: tanet member list --all")
        return row
    wanted = vocabulary.fold(text)
    rows = conn.execute("SELECT * FROM members WHERE forgotten_on IS NULL").fetchall()
    folded = {r["id"]: vocabulary.fold(r["name"]) for r in rows}
    exact = [r for r in rows if r["name"].casefold() == text.casefold()] or [r for r in rows if folded[r["id"]] == wanted]
    if len(exact) == 1:
        return exact[0]
    matches = exact or [r for r in rows if wanted in folded[r["id"]]]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        close = difflib.get_close_matches(wanted, list(folded.values()), n=3, cutoff=0.6)
        names = {folded[r["id"]]: r["name"] for r in rows}
        hint = (" Did you mean " + " or ".join(names[c] for c in close) + "?") if close else ""
        raise TanetError(f"No member's name contains '{text}'.{hint} Find members with: tanet member list --all")
    listed = "; ".join(_describe(r) for r in matches[:10])
    more = f" and {len(matches) - 10} more" if len(matches) > 10 else ""
    raise TanetError(
        f"'{text}' matches {len(matches)} members: {listed}{more}. Use the id or e-mail address instead."
    )


def list_members(conn: sqlite3.Connection, today: date, *, area: str | None = None,
                 sector: str | None = None, role: str | None = None, org: str | None = None,
                 include_left: bool = False):
    """Members as a stream of member objects, in name order."""
    where, params = [], {"today": today.isoformat()}
    if not include_left:
        where.append(membership.not_left_sql(":today"))
    if area:
        where.append("service_area = :area")
        params["area"] = vocabulary.find_area(conn, area)
    if sector:
        where.append("sector = :sector")
        params["sector"] = vocabulary.normalise_sector(sector)
    if role:
        where.append("role = :role")
        params["role"] = vocabulary.normalise_role(role)
    if org:
        where.append("organisation LIKE :org")
        params["org"] = f"%{org.strip()}%"
    sql = "SELECT * FROM members" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY name COLLATE NOCASE, id"
    return (member_object(r) for r in conn.execute(sql, params))


EDITABLE = ("name", "email", "phone", "organisation", "service_area", "sector", "role",
            "ambassador", "joined_on", "consent_on", "notes", "known_as")


def edit_member(conn: sqlite3.Connection, ref: str, changes: dict, today: date) -> dict:
    """Change some fields of one member; returns the member after the change."""
    row = find_member(conn, ref)
    if row["forgotten_on"]:
        raise TanetError(f"Member #{row['id']} has been forgotten; their details cannot be filled in again.")
    clean = {}
    for key, value in changes.items():
        if value is None:
            continue
        if key == "name":
            clean[key] = clean_name(value)
        elif key == "email":
            clean[key] = valid_email(value)
            if other := email_taken(conn, clean[key], row["id"]):
                raise TanetError(f"{clean[key]} already belongs to member #{other['id']} {other['name']}.")
        elif key == "service_area":
            clean[key] = vocabulary.find_area(conn, value)
        elif key == "sector":
            clean[key] = vocabulary.normalise_sector(value, conn)
        elif key == "role":
            clean[key] = vocabulary.normalise_role(value, conn)
        elif key == "ambassador":
            clean[key] = int(vocabulary.parse_bool(value))
        elif key in ("joined_on", "consent_on"):
            clean[key] = value.isoformat()
        elif key == "notes":
            clean[key] = text_rules.some_lines(str(value), "notes")
        elif key == "known_as":
            clean[key] = text_rules.one_line(str(value), "name to greet them by")
        else:
            clean[key] = text_rules.one_line(str(value), key.replace("_", " "))
    if not clean:
        raise TanetError("Nothing to change: give at least one option, e.g. --org or --email.")
    joined = clean.get("joined_on", row["joined_on"])
    if row["left_on"] and joined >= row["left_on"]:
        raise TanetError(f"The joining date {joined} must be before the leaving date {row['left_on']}.")
    sets = ", ".join(f"{k} = :{k}" for k in clean)
    conn.execute(f"UPDATE members SET {sets} WHERE id = :id", {**clean, "id": row["id"]})
    return member_object(conn.execute("SELECT * FROM members WHERE id = ?", [row["id"]]).fetchone())


def leave(conn: sqlite3.Connection, ref: str, on: date) -> sqlite3.Row:
    row = find_member(conn, ref)
    if row["left_on"]:
        raise TanetError(f"{row['name']} already left on {row['left_on']}. To bring them back: tanet member rejoin {row['id']}")
    if on.isoformat() <= row["joined_on"]:
        raise TanetError(f"{row['name']} joined on {row['joined_on']}; the leaving date must be later.")
    last = last_seen(conn, row["id"])
    if last and on.isoformat() < last["day"]:
        raise TanetError(f"{row['name']} was {last['what']} at meeting #{last['meeting_id']} on {last['day']}, so they "
                         f"cannot have left on {on.isoformat()}. Give the day they left with --on (on or after "
                         f"{last['day']}).")
    conn.execute("UPDATE members SET left_on = ? WHERE id = ?", [on.isoformat(), row["id"]])
    return row


def last_seen(conn: sqlite3.Connection, member_id: int) -> sqlite3.Row | None:
    """The member's latest recorded attendance (present) or check-in: `day`, `meeting_id` and
    `what` ('recorded present' or 'checked in'). A check-in by phone ahead counts on the day
    of the call."""
    return conn.execute(
        """SELECT * FROM (
             SELECT m.date AS day, m.id AS meeting_id, 'recorded present' AS what FROM attendance a
               JOIN meetings m ON m.id = a.meeting_id WHERE a.member_id = :mid AND a.status = 'present'
             UNION ALL
             SELECT min(m.date, substr(c.recorded_at, 1, 10)), m.id, 'checked in' FROM checkins c
               JOIN meetings m ON m.id = c.meeting_id WHERE c.member_id = :mid)
           ORDER BY day DESC LIMIT 1""", {"mid": member_id}).fetchone()


def rejoin(conn: sqlite3.Connection, ref: str) -> sqlite3.Row:
    """Bring a leaver back (what is ahead of them: tanet.mail.withdrawals.rejoin)."""
    row = find_member(conn, ref)
    if row["forgotten_on"]:
        raise TanetError(f"Member #{row['id']} has been forgotten; add them again as a new member.")
    if not row["left_on"]:
        raise TanetError(f"{row['name']} has not left the network.")
    conn.execute("UPDATE members SET left_on = NULL WHERE id = ?", [row["id"]])
    return row


def activity(conn: sqlite3.Connection, member_id: int) -> dict:
    """Meetings attended, check-ins (with notes), facilitation and resources of one member."""
    q = lambda sql: [dict(r) for r in conn.execute(sql, [member_id])]  # noqa: E731
    return {
        "attendance": q("""SELECT a.meeting_id, m.date, m.title, a.status FROM attendance a
                           JOIN meetings m ON m.id = a.meeting_id WHERE a.member_id = ?
                           ORDER BY m.date, m.start"""),
        "checkins": q("""SELECT c.meeting_id, m.date, c.note,
                           EXISTS(SELECT 1 FROM followups f WHERE f.meeting_id = c.meeting_id
                                  AND f.member_id = c.member_id) AS follow_up
                         FROM checkins c JOIN meetings m ON m.id = c.meeting_id
                         WHERE c.member_id = ? ORDER BY m.date"""),
        "follow_ups": q("""SELECT f.id, f.meeting_id, f.raised_on, f.closed_on, f.note, f.about, f.due_on FROM followups f
                           WHERE f.member_id = ? ORDER BY f.raised_on, f.id"""),
        "facilitated": q("""SELECT f.meeting_id, m.date, m.title FROM facilitators f
                            JOIN meetings m ON m.id = f.meeting_id WHERE f.member_id = ?
                            ORDER BY m.date"""),
        "sessions": q("""SELECT s.id, s.meeting_id, s.kind, s.title FROM sessions s
                         WHERE s.presenter_id = ? ORDER BY s.meeting_id"""),
        "resources": q("""SELECT r.id, r.title, r.created_on FROM resources r
                          JOIN resource_authors ra ON ra.resource_id = r.id
                          WHERE ra.member_id = ? ORDER BY r.created_on"""),
        "availability": q("SELECT pattern FROM availability WHERE member_id = ? ORDER BY id"),
        "replies": q("""SELECT r.meeting_id, m.date, r.response, r.responded_at, r.comment FROM responses r
                        JOIN meetings m ON m.id = r.meeting_id WHERE r.member_id = ? ORDER BY m.date"""),
    }

