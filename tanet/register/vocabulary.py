"""The register's vocabulary: service areas, sectors and roles, and the words people use for them."""

from __future__ import annotations

import difflib
import re
import sqlite3
from datetime import date

from tanet import text as text_rules
from tanet.errors import TanetError
from tanet.register import membership

SECTORS = ("public", "third", "private", "other")


ROLES = ("frontline", "supervisor", "manager", "senior-leader", "other")


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
    alias = " ".join((text_rules.one_line(alias, "alias") or "").split())
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
    name = " ".join((text_rules.one_line(name, "service area") or "").split())
    if not name:
        raise TanetError("A service area needs a name.")
    if any(n.casefold() == name.casefold() for n in area_names(conn)):
        raise TanetError(f"The service area '{name}' is already on the list.")
    conn.execute("INSERT INTO service_areas(name) VALUES (?)", [name])
    return name


def rename_area(conn: sqlite3.Connection, old: str, new: str) -> tuple[str, str, int]:
    current = find_area(conn, old)
    new = " ".join((text_rules.one_line(new, "service area") or "").split())
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
            f"""SELECT a.name AS service_area,
                      count(m.id) AS active_members
               FROM service_areas a
               LEFT JOIN members m ON m.service_area = a.name
                    AND {membership.active_sql(":d", "m")}
               GROUP BY a.name ORDER BY a.name COLLATE NOCASE""",
            {"d": today.isoformat()},
        )
    ]
