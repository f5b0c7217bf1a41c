"""The member register: adding, finding, changing, leaving and forgetting members."""

from __future__ import annotations

import difflib
import re
import sqlite3
from datetime import date

from tanet.errors import TanetError
from tanet import text as text_rules
from tanet.store.settings import valid_email

SECTORS = ("public", "third", "private", "other")
ROLES = ("frontline", "supervisor", "manager", "senior-leader", "other")
MEMBER_KEYS = ("id", "name", "email", "phone", "organisation", "service_area",
               "sector", "role", "ambassador", "joined_on", "left_on", "known_as")
# Everything `member export` writes, so that it round-trips through `member import`.
EXPORT_KEYS = MEMBER_KEYS + ("consent_on", "notes")

_SECTOR_WORDS = {
    "public": "public", "publicsector": "public", "statutory": "public", "nhs": "public",
    "localauthority": "public", "council": "public",
    "third": "third", "thirdsector": "third", "voluntary": "third", "voluntarysector": "third",
    "charity": "third", "community": "third", "communityandvoluntary": "third",
    "private": "private", "privatesector": "private", "independent": "private",
    "other": "other",
}
_ROLE_WORDS = {
    "frontline": "frontline", "practitioner": "frontline", "frontlinepractitioner": "frontline",
    "frontlinestaff": "frontline", "supervisor": "supervisor", "teamleader": "supervisor",
    "seniorpractitioner": "supervisor", "manager": "manager", "servicemanager": "manager",
    "middlemanager": "manager", "seniorleader": "senior-leader", "seniorleadership": "senior-leader",
    "senior": "senior-leader", "director": "senior-leader", "headofservice": "senior-leader",
    "other": "other",
}


_LETTERS = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ß": "ss", "æ": "ae",
                          "Æ": "ae", "œ": "oe", "Œ": "oe", "ı": "i", "ð": "d", "þ": "th", "’": "'", "‘": "'"})


def fold(text: str) -> str:
    """A name as a person might type it: no accents, no case (Zoë = zoe, Łukasz = lukasz)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", (text or "").translate(_LETTERS))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def _choice(value: str, words: dict[str, str], allowed: tuple[str, ...], what: str, aliased=None) -> str:
    key = _squash(value)
    if key in words:
        return words[key]
    if aliased and (target := aliased()):
        return target
    close = difflib.get_close_matches(key, list(words), n=1, cutoff=0.6)
    hint = f" Did you mean '{words[close[0]]}'?" if close else ""
    raise TanetError(f"'{value}' is not a {what}.{hint} Use one of: {', '.join(allowed)} "
                     f"(or say which it means with: tanet member import FILE --map {what}:'{value}'=...).")


def normalise_sector(value: str, conn: sqlite3.Connection | None = None) -> str:
    """`Third sector`, `third` and `THIRD` are all `third` (and the coordinator's aliases)."""
    return _choice(value, _SECTOR_WORDS, SECTORS, "sector", lambda: lookup(conn, "sector", value))


def normalise_role(value: str, conn: sqlite3.Connection | None = None) -> str:
    """`Senior leader` is `senior-leader` (and `Teacher`, with the aliases, `frontline`)."""
    return _choice(value, _ROLE_WORDS, ROLES, "role", lambda: lookup(conn, "role", value))


ALIAS_KINDS = ("area", "sector", "role")


def lookup(conn: sqlite3.Connection | None, kind: str, value: str) -> str | None:
    """The value an alias stands for (`Schools` -> education), if the coordinator or tanet set one."""
    if conn is None or not value:
        return None
    row = conn.execute("SELECT value FROM aliases WHERE kind = ? AND alias = ?", [kind, " ".join(value.split())]).fetchone()
    return row[0] if row else None


def add_alias(conn: sqlite3.Connection, kind: str, alias: str, value: str) -> tuple[str, str]:
    """Save `alias` as another word for `value` (checked), e.g. area Schools = education."""
    if kind not in ALIAS_KINDS:
        raise TanetError(f"'{kind}' cannot have aliases; use one of: {', '.join(ALIAS_KINDS)}.")
    alias = " ".join((text_rules.line(alias, "alias") or "").split())
    if not alias:
        raise TanetError("Give the word to map, e.g. tanet area alias Schools education")
    target = {"area": lambda v: find_area(conn, v), "sector": normalise_sector, "role": normalise_role}[kind](value)
    conn.execute("INSERT INTO aliases(kind, alias, value) VALUES (?, ?, ?) ON CONFLICT(kind, alias) "
                 "DO UPDATE SET value = excluded.value", [kind, alias, target])
    return alias, target


def parse_bool(value: str | bool | None, what: str = "ambassador") -> bool:
    if isinstance(value, bool):
        return value
    v = (value or "").strip().casefold()
    if v in ("", "yes", "y", "true", "1", "x", "✓"):
        return True
    if v in ("no", "n", "false", "0"):
        return False
    raise TanetError(f"'{value}' is not yes or no for {what}.")


# Service areas ---------------------------------------------------------------

def area_names(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM service_areas ORDER BY name COLLATE NOCASE")]


def find_area(conn: sqlite3.Connection, value: str, names: list[str] | None = None) -> str:
    """The stored spelling of a service area, matched case-insensitively."""
    names = names if names is not None else area_names(conn)
    wanted = " ".join(value.split()).casefold()
    for name in names:
        if name.casefold() == wanted:
            return name
    if (target := lookup(conn, "area", value)) and target.casefold() != wanted:
        return find_area(conn, target, names)
    folded = {n.casefold(): n for n in names}
    close = difflib.get_close_matches(wanted, list(folded), n=3, cutoff=0.5)
    hint = (" Did you mean " + " or ".join(f"'{folded[c]}'" for c in close) + "?") if close else ""
    raise TanetError(
        f"'{value}' is not a service area.{hint} "
        f"See the list with: tanet area list (add one with: tanet area add NAME, or say which area it means "
        f"with: tanet area alias '{value}' AREA)"
    )


def add_area(conn: sqlite3.Connection, name: str) -> str:
    name = " ".join((text_rules.line(name, "service area") or "").split())
    if not name:
        raise TanetError("A service area needs a name.")
    if any(n.casefold() == name.casefold() for n in area_names(conn)):
        raise TanetError(f"The service area '{name}' is already on the list.")
    conn.execute("INSERT INTO service_areas(name) VALUES (?)", [name])
    return name


def rename_area(conn: sqlite3.Connection, old: str, new: str) -> tuple[str, str, int]:
    current = find_area(conn, old)
    new = " ".join((text_rules.line(new, "service area") or "").split())
    if not new:
        raise TanetError("Give the new name of the service area.")
    clash = [n for n in area_names(conn) if n.casefold() == new.casefold() and n != current]
    if clash:
        raise TanetError(f"There is already a service area called '{clash[0]}'.")
    count = conn.execute("SELECT count(*) FROM members WHERE service_area = ?", [current]).fetchone()[0]
    # Members follow through ON UPDATE CASCADE; aliases by hand.
    conn.execute("UPDATE service_areas SET name = ? WHERE name = ?", [new, current])
    conn.execute("UPDATE aliases SET value = ? WHERE kind = 'area' AND value = ?", [new, current])
    return current, new, count


def area_counts(conn: sqlite3.Connection, today: date) -> list[dict]:
    return [
        dict(r)
        for r in conn.execute(
            """SELECT a.name AS service_area,
                      count(m.id) AS active_members
               FROM service_areas a
               LEFT JOIN members m ON m.service_area = a.name
                    AND m.joined_on <= :d AND (m.left_on IS NULL OR m.left_on > :d)
               GROUP BY a.name ORDER BY a.name COLLATE NOCASE""",
            {"d": today.isoformat()},
        )
    ]


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
    name = " ".join((text_rules.line(name, "name") or "").split())
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
        [name, email, text_rules.line(phone, "phone number"), text_rules.line(organisation, "organisation"),
         find_area(conn, service_area), normalise_sector(sector, conn), normalise_role(role, conn),
         int(ambassador), joined.isoformat(), (consent_on or joined).isoformat(),
         text_rules.lines(notes, "notes"), text_rules.line(known_as, "name to greet them by")],
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
    wanted = fold(text)
    rows = conn.execute("SELECT * FROM members WHERE forgotten_on IS NULL").fetchall()
    folded = {r["id"]: fold(r["name"]) for r in rows}
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


def is_active(row, day: date | str) -> bool:
    d = day.isoformat() if isinstance(day, date) else day
    return row["joined_on"] <= d and (row["left_on"] is None or row["left_on"] > d)


def list_members(conn: sqlite3.Connection, today: date, *, area: str | None = None,
                 sector: str | None = None, role: str | None = None, org: str | None = None,
                 include_left: bool = False):
    """Members as a stream of member objects, in name order."""
    where, params = [], {"today": today.isoformat()}
    if not include_left:
        where.append("(left_on IS NULL OR left_on > :today)")
    if area:
        where.append("service_area = :area")
        params["area"] = find_area(conn, area)
    if sector:
        where.append("sector = :sector")
        params["sector"] = normalise_sector(sector)
    if role:
        where.append("role = :role")
        params["role"] = normalise_role(role)
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
            clean[key] = find_area(conn, value)
        elif key == "sector":
            clean[key] = normalise_sector(value, conn)
        elif key == "role":
            clean[key] = normalise_role(value, conn)
        elif key == "ambassador":
            clean[key] = int(parse_bool(value))
        elif key in ("joined_on", "consent_on"):
            clean[key] = value.isoformat()
        elif key == "notes":
            clean[key] = text_rules.lines(str(value), "notes")
        elif key == "known_as":
            clean[key] = text_rules.line(str(value), "name to greet them by")
        else:
            clean[key] = text_rules.line(str(value), key.replace("_", " "))
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
    conn.execute("UPDATE members SET left_on = ? WHERE id = ?", [on.isoformat(), row["id"]])
    return row


def rejoin(conn: sqlite3.Connection, ref: str) -> sqlite3.Row:
    row = find_member(conn, ref)
    if row["forgotten_on"]:
        raise TanetError(f"Member #{row['id']} has been forgotten; add them again as a new member.")
    if not row["left_on"]:
        raise TanetError(f"{row['name']} has not left the network.")
    conn.execute("UPDATE members SET left_on = NULL WHERE id = ?", [row["id"]])
    return row


def forget(conn: sqlite3.Connection, ref: str, today: date) -> int:
    """Erase a member's personal data; their anonymous attendance stays counted."""
    row = find_member(conn, ref)
    if row["forgotten_on"]:
        raise TanetError(f"Member #{row['id']} has already been forgotten.")
    from tanet.register.privacy import forget_members

    forget_members(conn, [row["id"]], today)
    return row["id"]


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

