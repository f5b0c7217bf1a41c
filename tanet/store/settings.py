"""The network's settings: known keys, their defaults and validation."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Callable

from tanet.errors import TanetError

EMAIL_RE = re.compile(r"^[^@\s,;:<>()\[\]\"']+@[^@\s,;:<>()\[\]\"']+\.[^@\s,;:<>()\[\]\"'.]{2,}$")


def valid_email(value: str) -> str:
    from tanet.text import one_line

    value = one_line(value, "e-mail address") or ""
    if not EMAIL_RE.fullmatch(value) or ".." in value:
        raise TanetError(f"'{value}' is not a valid e-mail address. Write it like name@example.org.")
    local, domain = value.rsplit("@", 1)
    if local.startswith(".") or local.endswith(".") or domain.startswith("."):
        raise TanetError(f"'{value}' is not a valid e-mail address: a dot cannot start or end the part before "
                         "the @, nor start the part after it. Check it with the member.")
    if not local.isascii():
        raise TanetError(f"'{value}' has letters outside plain English before the @, which most mail systems "
                         "cannot deliver to. Ask the member for an address in plain letters.")
    if not domain.isascii():
        try:  # an international domain travels in its xn-- form
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise TanetError(f"'{value}' is not a valid e-mail address: its domain cannot be written for mail. "
                             "Check it with the member.") from None
        value = f"{local}@{domain}"
    return value


def _int_between(lo: int, hi: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            n = int(value)
        except ValueError:
            raise TanetError(f"'{value}' is not a whole number; give a number from {lo} to {hi}.") from None
        if not lo <= n <= hi:
            raise TanetError(f"{n} is out of range; give a number from {lo} to {hi}.")
        return str(n)

    return check


def _fraction(value: str) -> str:
    try:
        x = float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
    except ValueError:
        raise TanetError(f"'{value}' is not a number; give a fraction such as 0.25 (or 25%).") from None
    if not 0 <= x <= 1:
        raise TanetError(f"'{value}' is out of range; give a fraction from 0 to 1, such as 0.25.")
    return str(x)


def _timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise TanetError(f"'{value}' is not a known time zone; use a name such as Europe/London.") from None
    return value


def _time(value: str) -> str:
    from tanet.dates import parse_time

    return parse_time(value)


def _url(value: str) -> str:
    from tanet.text import one_line

    value = one_line(value, "link") or ""
    if value and not re.fullmatch(r"https?://[^\s\x00-\x1f\x7f-\x9f]+", value):
        raise TanetError(f"'{value}' is not a web link; it should start with https://.")
    return value


def _choice(*allowed: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        v = value.strip().lower()
        if v not in allowed:
            raise TanetError(f"'{value}' is not one of: {', '.join(allowed)}.")
        return v

    return check


def _optional_int(lo: int, hi: int) -> Callable[[str], str]:
    whole = _int_between(lo, hi)
    return lambda value: whole(value) if value.strip() else ""


def _bool(value: str) -> str:
    v = value.strip().lower()
    if v in ("true", "yes", "y", "1", "on"):
        return "true"
    if v in ("false", "no", "n", "0", "off"):
        return "false"
    raise TanetError(f"'{value}' is not yes or no; use true or false.")


def _text(value: str) -> str:
    from tanet.text import one_line

    return one_line(value, "setting") or ""


def _optional_email(value: str) -> str:
    return valid_email(value) if value.strip() else ""


@dataclass(frozen=True)
class Setting:
    key: str
    default: str
    check: Callable[[str], str]
    help: str


SETTINGS = {
    s.key: s
    for s in (
        Setting("network", "Trauma-Informed Practice Network", _text, "the network's name"),
        Setting("organiser.name", "", _text, "who sends the invitations"),
        Setting("organiser.email", "", _optional_email, "the organiser's e-mail address"),
        Setting("timezone", "Europe/London", _timezone, "the network's time zone"),
        Setting("meeting.duration", "120", _int_between(5, 720), "meeting length in minutes"),
        Setting("meeting.time", "10:00", _time, "default start time"),
        Setting("meeting.title", "", _text, "default meeting title (empty: '<network> meeting')"),
        Setting("meeting.location", "", _text, "default place"),
        Setting("meeting.url", "", _url, "default online meeting link"),
        Setting("meeting.cadence_weeks", "8", _int_between(1, 52), "weeks between meetings"),
        Setting("attendance.target", "30", _int_between(1, 100000), "hoped-for attendance per meeting"),
        Setting("report.fiscal_year_start", "4", _int_between(1, 12), "first month of the financial year"),
        Setting("report.paper", "a4", _choice("a4", "letter"), "page size of the Word summary: a4 or letter"),
        Setting("report.gap_threshold", "0.25", _fraction, "participation rate below which an area is a gap"),
        Setting("smtp.host", "", _text, "mail server for --send"),
        Setting("smtp.security", "starttls", _choice("starttls", "tls", "none"),
                "starttls (port 587), tls (465) or none (25; no password except to this computer)"),
        Setting("smtp.port", "", _optional_int(1, 65535), "mail server port (empty: by smtp.security)"),
        Setting("smtp.user", "", _text, "mail server login"),
        Setting("smtp.auth", "password", _choice("password", "xoauth2"),
                "password (from TANET_SMTP_PASSWORD) or xoauth2 (smtp.oauth2_token_command)"),
        Setting("smtp.oauth2_token_command", "", _text, "a command that prints an OAuth2 access token"),
        Setting("imap.timeout_seconds", "60", _int_between(1, 3600),
                "seconds to wait for the mailbox server (rsvp import) at each step"),
        Setting("smtp.ca_file", "", _text, "a CA certificate file to trust as well as the system's"),
        Setting("smtp.per_minute", "30", _int_between(1, 10000), "at most this many messages a minute"),
        Setting("smtp.deadline_seconds", "300", _int_between(1, 86400),
                "give up on a mail server that takes longer than this to take one message"),
        Setting("invite.alarm_minutes", "1440", _int_between(0, 40320),
                "calendar reminder this many minutes before (0: none)"),
        Setting("feedback.form_url", "", _url, "the feedback form linked from tanet thanks"),
        Setting("privacy.retain_months", "24", _int_between(1, 1200),
                "months after leaving before a member's details are due to be forgotten"),
        Setting("privacy.notes_months", "12", _int_between(1, 1200),
                "months before check-in notes, reply comments and follow-up notes are due to be erased"),
    )
}


def check_key(key: str) -> Setting:
    try:
        return SETTINGS[key]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(key, SETTINGS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise TanetError(f"'{key}' is not a setting.{hint} See them all with: tanet config show") from None


def get_all(conn: sqlite3.Connection) -> dict[str, str]:
    values = {k: s.default for k, s in SETTINGS.items()}
    values.update({r[0]: r[1] for r in conn.execute("SELECT key, value FROM settings")})
    return values


def get(conn: sqlite3.Connection, key: str) -> str:
    setting = check_key(key)
    row = conn.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else setting.default


def set_value(conn: sqlite3.Connection, key: str, value: str) -> str:
    """Validate and store one setting (inside the caller's transaction)."""
    setting = check_key(key)
    clean = setting.check(value)
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, clean],
    )
    return clean


def meeting_title(values: dict[str, str]) -> str:
    return values["meeting.title"] or f"{values['network']} meeting"
