"""Reading Microsoft Teams attendance reports (both layouts) and plain name/e-mail CSVs."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tanet.errors import TanetError
from tanet.meetings import attendance
from tanet.register import members as member_register
from tanet.register import membership, vocabulary
from tanet.sheets.textfiles import read_text, sniff_delimiter, squash

NAME_HEADERS = {"name", "fullname", "participantname", "displayname", "participant", "attendee", "membername"}
EMAIL_HEADERS = {"email", "emailaddress", "mail", "participantidupn", "upn", "userprincipalname"}
JOIN_HEADERS = {"firstjoin", "jointime", "firstjointime", "joined", "timejoined"}
DURATION_HEADERS = {"inmeetingduration", "duration", "attendanceduration", "timeinmeeting", "totalduration",
                    "attendedduration"}
LAYOUTS = {"teams": "a Teams attendance report", "teams-legacy": "a Teams attendance report (the older layout)",
           "csv": "a list of attendees"}
START_KEYS = {"starttime", "meetingstarttime", "meetingstart", "start"}
COUNT_KEYS = {"attendedparticipants", "totalnumberofparticipants", "totalparticipants", "participants"}
_DATE = re.compile(r"(\d{1,4})[/.-](\d{1,2})[/.-](\d{2,4})")
_AMPM = re.compile(r"\d\s*[ap]\.?m\b", re.I)
_SECTION = re.compile(r"^\d+\.\s+\S")
_GUEST = re.compile(r"\s*\((guest|external|unverified)\)\s*$", re.I)


@dataclass
class Participant:
    name: str
    email: str | None
    role: str
    joined: str
    duration: str = ""


@dataclass
class Report:
    layout: str
    start: date | None
    participants: list[Participant]
    expected: int | None = None  # the count the report's own summary gives
    columns: dict[str, str] = field(default_factory=dict)  # field -> the header it was read from
    unused: list[str] = field(default_factory=list)  # headers of the participants' table not read


def _is_header(cells: list[str]) -> dict[str, int] | None:
    s = [squash(c) for c in cells]
    name = next((i for i, c in enumerate(s) if c in NAME_HEADERS), None)
    if name is None:
        return None
    cols = {"name": name}
    for key, names in (("email", EMAIL_HEADERS), ("join", JOIN_HEADERS), ("role", {"role"}),
                       ("duration", DURATION_HEADERS)):
        found = [i for i, c in enumerate(s) if c in names]
        if found:
            cols[key] = found[0]
            if key == "email" and len(found) > 1:
                cols["upn"] = found[1]
    return cols if ("email" in cols or "join" in cols) else None


def _dates(raw: list[str], meeting_day: date) -> list[date | None]:
    """Read d/m/y or m/d/y: whichever every date in the file allows; if both do,
    month-first for 12-hour (US) clocks, else the order giving the meeting's own
    date, else UK order."""
    parts = []
    for text in raw:
        m = _DATE.search(text or "")
        twelve_hour = bool(_AMPM.search(text or ""))
        parts.append((int(m[1]), int(m[2]), int(m[3]), twelve_hour) if m else None)
    found = [p for p in parts if p]

    def build(p, order):
        a, b, c, _ = p
        try:
            if a > 31:
                return date(a, b, c)  # ISO year first
            y = c + 2000 if c < 100 else c
            return date(y, b, a) if order == "dmy" else date(y, a, b)
        except ValueError:
            return None

    orders = [o for o in ("dmy", "mdy") if all(build(p, o) for p in found)]
    if len(orders) > 1 and found:
        matching = [o for o in orders if build(found[0], o) == meeting_day]
        if any(p[3] for p in found):
            orders = ["mdy"]  # Teams writes 12-hour clocks only in US order
        elif len(matching) == 1:
            orders = matching
    order = orders[0] if orders else "dmy"
    return [build(p, order) if p else None for p in parts]


def parse_report(path: Path, meeting_day: date) -> Report:
    text = read_text(path)
    delimiter = "\t" if "\t" in text else sniff_delimiter(next((ln for ln in text.splitlines() if ln.strip()), ""))
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as e:
        raise TanetError(f"{path} cannot be read as an attendance report ({e}). Download it again from Teams.") from None
    start_raw, expected = None, None
    header_at, cols = None, None
    for i, cells in enumerate(rows):
        cells = [c.strip() for c in cells]
        if len(cells) >= 2 and squash(cells[0]) in START_KEYS and start_raw is None:
            start_raw = cells[1]
        if len(cells) >= 2 and squash(cells[0]) in COUNT_KEYS and cells[1].isdigit() and expected is None:
            expected = int(cells[1])
        if header_at is None and (cols := _is_header(cells)):
            header_at = i
            break
    if header_at is None:
        raise TanetError(
            f"{path} is not a Teams attendance report or a list of attendees: no header row with a name column "
            "and an e-mail or join-time column was found. Expected Teams' own download (Name, First join, ..., "
            "Email) or a CSV with Name and Email columns.")
    first_line = next((r for r in rows if any(c.strip() for c in r)), [""])
    layout = ("teams" if squash(first_line[0]) in ("1summary", "summary") else
              "teams-legacy" if squash(first_line[0]) == "meetingsummary" else "csv")
    people: list[tuple[list[str], str]] = []
    for cells in rows[header_at + 1:]:
        if not any(c.strip() for c in cells) or (len(cells) == 1 and _SECTION.match(cells[0].strip())):
            break
        people.append((cells, cells[cols["join"]] if "join" in cols and cols["join"] < len(cells) else ""))
    joined = _dates([start_raw or ""] + [j for _, j in people], meeting_day)
    report_start = joined[0] or min((d for d in joined[1:] if d), default=None)
    participants: dict[str, Participant] = {}
    for cells, raw_join in people:
        get = lambda k: cells[cols[k]].strip() if k in cols and cols[k] < len(cells) else ""  # noqa: E731
        name = " ".join(get("name").split())
        email = get("email") or get("upn") or None
        if not name and not email:
            continue
        key = (email or name).casefold()
        if key not in participants:  # people who left and rejoined appear more than once
            participants[key] = Participant(name, email, get("role"), raw_join, get("duration"))
    if not participants:
        raise TanetError(f"{path} lists no participants.")
    header = [c.strip() for c in rows[header_at]]
    columns = {key: header[i] for key, i in cols.items() if i < len(header)}
    unused = [h for i, h in enumerate(header) if h and i not in cols.values()]
    return Report(layout, report_start if layout != "csv" or start_raw else None, list(participants.values()),
                  expected, columns, unused)


@dataclass
class ImportResult:
    layout: str
    report_date: date | None
    columns: dict[str, str] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)
    matched: list[dict] = field(default_factory=list)
    organisers: list[dict] = field(default_factory=list)
    not_members: list[dict] = field(default_factory=list)
    guests: list[dict] = field(default_factory=list)  # the agenda's guest speakers
    not_active: list[dict] = field(default_factory=list)
    backdated: list[dict] = field(default_factory=list)
    added: list[dict] = field(default_factory=list)
    changed: int = 0


def _why_not_matched(email: str | None, same_name: int) -> str:
    said = f"no member has the e-mail {email}" if email else "the report gives no e-mail"
    if same_name > 1:
        return f"{said}, and {same_name} members have this name (mark the right one with: tanet attendance mark)"
    return f"{said}, and no member has this name"


def _checked_report(path: Path, meeting: sqlite3.Row, day: date, force: bool):
    """The report, refused (unless --force) when it is of another day or looks cut short."""
    report = parse_report(path, day)
    if report.start and report.start != day and not force:
        raise TanetError(f"{path.name} is the report of a meeting on {report.start}, but meeting #{meeting['id']} "
                         f"is on {day}. Choose the right meeting, or add --force if the report is right.")
    if report.expected is not None and len(report.participants) < report.expected and not force:
        raise TanetError(f"{path.name} looks cut short: its summary counts {report.expected} participants but it "
                         f"lists {len(report.participants)}. Download the report again from Teams, or add --force "
                         "to import the people it does list.")
    return report


def import_report(conn: sqlite3.Connection, meeting: sqlite3.Row, path: Path, *, today: date,
                  force: bool, add_unknown: bool) -> ImportResult:
    """Mark present everyone in the report who is a member; report everyone else.

    A member whose joining date is after the meeting is counted and their joining
    date moved back to the meeting (the report is the evidence); one who had left
    before the meeting is listed, not counted."""
    attendance.check_can_record(meeting, "present", today)
    day = date.fromisoformat(meeting["date"])
    report = _checked_report(path, meeting, day, force)
    result = ImportResult(report.layout, report.start, report.columns, report.unused)
    members = conn.execute("SELECT * FROM members WHERE forgotten_on IS NULL").fetchall()
    by_email = {m["email"].casefold(): m for m in members if m["email"]}
    by_name: dict[str, list] = {}
    for m in members:
        by_name.setdefault(m["name"].casefold(), []).append(m)
    guest_names = {vocabulary.fold(r[0]) for r in conn.execute(
        "SELECT guest FROM sessions WHERE meeting_id = ? AND guest IS NOT NULL", [meeting["id"]])}
    for p in report.participants:
        clean = _GUEST.sub("", p.name).strip()
        who = {"name": clean or p.name, "email": p.email}
        if squash(p.role) in ("organizer", "organiser"):
            result.organisers.append(who)
            continue
        member, how = None, None
        if p.email and p.email.casefold() in by_email:
            member, how = by_email[p.email.casefold()], "e-mail"
        elif len(by_name.get(clean.casefold(), [])) == 1:
            member, how = by_name[clean.casefold()][0], "name"
        if member is None:
            if vocabulary.fold(clean) in guest_names:
                result.guests.append(who)
            else:
                result.not_members.append({**who, "why": _why_not_matched(p.email, len(by_name.get(clean.casefold(), [])))})
            continue
        if membership.has_left(member, day):
            result.not_active.append({**who, "member_id": member["id"], "joined_on": member["joined_on"],
                                      "left_on": member["left_on"]})
            continue
        if member["joined_on"] > day.isoformat():
            # The report shows they took part before the date on their sign-up form:
            # their membership starts at this meeting (consent_on is left as it was).
            conn.execute("UPDATE members SET joined_on = ? WHERE id = ?", [day.isoformat(), member["id"]])
            result.backdated.append({"member_id": member["id"], "name": member["name"],
                                     "joined_on_was": member["joined_on"], "joined_on": day.isoformat()})
        change = attendance.set_status(conn, meeting["id"], member["id"], "present", "teams")
        result.changed += change != "same"
        result.matched.append({"member_id": member["id"], "name": member["name"], "matched_by": how,
                               "change": change, "duration": p.duration or None})
    if add_unknown:
        _add_unknown(conn, meeting, result, day, today)
    return result


def _add_unknown(conn: sqlite3.Connection, meeting: sqlite3.Row, result: ImportResult, day: date,
                 today: date) -> None:
    """--add-unknown: each person with an e-mail who is not a member joins (area, sector and role
    'other', to be edited) and is marked present; the rest stay listed."""
    keep = []
    for who in result.not_members:
        if not who["email"]:
            keep.append(who)
            continue
        try:
            mid = member_register.add_member(conn, name=who["name"], email=who["email"], organisation=None,
                                             service_area="other", sector="other", role="other", today=today,
                                             joined_on=day,
                                             notes=f"Added from the attendance report of meeting #{meeting['id']}.")
        except TanetError:
            keep.append(who)
            continue
        attendance.set_status(conn, meeting["id"], mid, "present", "teams")
        result.changed += 1
        result.added.append({"member_id": mid, "name": who["name"], "email": who["email"]})
    result.not_members = keep
