"""`member import` and `member export`: the sign-up sheet in, the register out."""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tanet import text as text_rules
from tanet.dates import parse_date
from tanet.errors import TanetError
from tanet.register import members, membership, vocabulary
from tanet.register.member_columns import EMPTY_AMBASSADOR, pick
from tanet.sheets.textfiles import check_unique_headers, open_binary, open_rows, read_text
from tanet.store.settings import valid_email


def map_headers(header: list[str]) -> dict[str, int]:
    """Field -> column, as tanet would guess it with no --column options."""
    return pick(header, [], "the file")


@dataclass
class ImportPlan:
    """What an import found. `new` and `updates` are kept only when asked (the demo, tests);
    a streaming import writes them as it goes and keeps counts."""
    new: list[dict] = field(default_factory=list)
    updates: list[tuple[int, dict]] = field(default_factory=list)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # the first few: (line, email, who)
    errors: list[str] = field(default_factory=list)  # the first few
    defaulted: int = 0
    new_count: int = 0
    update_count: int = 0
    skipped_count: int = 0
    error_count: int = 0
    header: list[str] = field(default_factory=list)
    columns: dict[str, int] = field(default_factory=dict)  # field -> column read
    defaults: dict[str, int] = field(default_factory=dict)  # field -> rows given the default value
    # (kind, folded value) -> [the value as written, rows, the first few line numbers]
    unknown: dict[tuple[str, str], list] = field(default_factory=dict)
    known: dict[tuple[str, str], str | None] = field(default_factory=dict)  # values already looked up


KEPT = 50  # errors and skips listed; the rest are counted
MAX_JSON = 16 * 1024 * 1024  # about 40,000 members: a whole import stays under 100 MiB


def _date_or_none(value: str, today: date, line: int, what: str, errors: list[str]):
    value = value.strip()
    if not value:
        return None
    value = value.split(" ")[0].split("T")[0]  # Excel sometimes adds a time
    try:
        return parse_date(value, today)
    except TanetError as e:
        errors.append(f"line {line}: {what}: {e}")
        return None


def _json_table(text: str, path) -> list[list[str]]:
    """`member export --format json` read back as a table (header row first)."""
    import json

    try:
        records = json.loads(text)
    except json.JSONDecodeError as e:
        raise TanetError(f"{path} looks like JSON but cannot be read ({e.msg}, line {e.lineno}).") from None
    except RecursionError:
        raise TanetError(f"{path} is nested too deeply to be a member list; it was not written by "
                         "tanet member export.") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise TanetError(f"{path} should hold a list of members, as written by tanet member export --format json.")
    keys: list[str] = []
    for r in records:
        keys += [k for k in r if k not in keys]

    def cell(v):
        return "" if v is None else ("yes" if v is True else "no" if v is False else str(v))

    return [keys] + [[cell(r.get(k)) for k in keys] for r in records]


def _table(path):
    """(line number, cells) of the file, header first: a stream for CSV, a list for JSON."""
    with open_binary(Path(path)) as f:
        head = f.read(256)
    if head.startswith(b"PK") or Path(path).suffix.lower() == ".xlsx":  # an Excel workbook
        from tanet.sheets.workbook import read_table

        return enumerate(read_table(Path(path)), start=1)
    is_json = head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")
    if is_json:
        if Path(path).stat().st_size > MAX_JSON:
            # JSON is read whole, about four times its size in memory; CSV is read as a stream.
            raise TanetError(f"{path} is too large to read as JSON (over {MAX_JSON // 2**20} MB). Export the "
                             "members as CSV instead (tanet member export --format csv -o members.csv) and "
                             "import that.")
        return enumerate(_json_table(read_text(path), path), start=1)
    return open_rows(path)[1]


def plan_import(conn: sqlite3.Connection, path, today: date, update: bool, *, write: bool = False,
                progress=None, columns: list[str] | None = None, on_columns=None) -> ImportPlan:
    """Read and validate every row. With `write`, valid rows are written as they are read
    (inside the caller's transaction, which must roll back when `errors` is not empty) and
    only counts are kept, so a file of any size imports in little memory; without it,
    nothing is written and the rows are kept in the plan. `columns` are the coordinator's
    `--column FIELD=HEADER` choices; `on_columns(plan)` hears which column gives which
    field before any row is read."""
    rows = _table(path)
    header, cols = _header_and_columns(rows, path, columns or [])
    plan = ImportPlan(header=header, columns=cols)
    if on_columns:
        on_columns(plan)
    areas = vocabulary.area_names(conn)
    seen: dict[str, int] = {}
    batch: list[dict] = []

    def flush():
        if batch and not plan.error_count:
            conn.executemany(_INSERT, batch)
            if progress:
                progress(plan.new_count)
        batch.clear()

    present = set(cols) | ({"name"} if "first_name" in cols else set())
    for line, row in rows:
        if not any(c.strip() for c in row):
            continue
        errs, rec, unknown = _validate(conn, row, cols, line, today, areas, plan)
        if rec.get("email"):
            key = rec["email"].casefold()
            if key in seen:
                errs.append(f"line {line}: {rec['email']} is also on line {seen[key]}")
            else:
                seen[key] = line
        filled = rec.pop("_filled")
        if errs or unknown:
            _count_defaults(plan, filled)
            plan.error_count += len(errs) + unknown
            plan.errors.extend(errs[:max(0, KEPT - len(plan.errors))])
            continue
        existing = members.email_taken(conn, rec["email"])
        if existing is None:
            _count_defaults(plan, filled)
            plan.new_count += 1
            if write:
                batch.append(rec)
                if len(batch) >= 1000:
                    flush()
            else:
                plan.new.append(rec)
        else:
            _already_there(conn, plan, existing, rec, line, present, update=update, write=write)
    if write:
        flush()
    if plan.new_count + plan.update_count + plan.skipped_count + plan.error_count == 0:
        raise TanetError(f"{path} has a header row but no members in it.")
    return plan


def _header_and_columns(rows, path, columns: list[str]) -> tuple[list[str], dict]:
    """The header row (blank lines before it are passed over, keeping line numbers) and which
    column gives which field; refused without a name or an e-mail column."""
    header = None
    for _, row in rows:
        if any(c.strip() for c in row):
            header = row
            break
    if header is None:
        raise TanetError(f"{path} has no rows.")
    check_unique_headers(header, path)
    cols = pick(header, columns, path)
    found = ", ".join(f"'{h.strip()}'" for h in header[:12] if h.strip())
    if "name" not in cols and not ("first_name" in cols and "last_name" in cols):
        raise TanetError(
            f"{path} has no name column. Its first row should name the columns, e.g. Name, Email, Organisation, "
            f"Service area, Sector, Role; or say which column holds the name with --column name=HEADER "
            f"(its columns: {found}).")
    if "email" not in cols:
        raise TanetError(f"{path} has no e-mail column. Add one headed 'Email', or say which column holds the "
                         f"e-mail address with --column email=HEADER (its columns: {found}).")
    return header, cols


def _already_there(conn: sqlite3.Connection, plan: ImportPlan, existing, rec: dict, line: int, present: set,
                   *, update: bool, write: bool) -> None:
    """A row whose e-mail is already a member's: updated with --update, else skipped and said."""
    if update:
        changes = {k: v for k, v in rec.items() if k in present and k != "email"}
        if "joined_on" in changes and "consent_on" not in present:
            changes.pop("consent_on", None)
        plan.update_count += 1
        if write and not plan.error_count:
            _update(conn, existing["id"], changes)
        elif not write:
            plan.updates.append((existing["id"], changes))
    else:
        plan.skipped_count += 1
        if len(plan.skipped) < KEPT:
            plan.skipped.append((line, rec["email"], f"#{existing['id']} {existing['name']}"))


KINDS = {"service_area": "area", "sector": "sector", "role": "role"}  # field -> the --map kind
KEPT_GROUPS = 1000  # distinct unknown values listed; the rest are counted
SHOWN_LINES = 6


def _resolve(conn, key: str, value: str, areas: list[str], plan: ImportPlan, line: int) -> str | None:
    """The area, sector or role a cell means, or None (remembered, once per distinct value,
    with the lines it is on) when tanet does not know the word."""
    folded = (KINDS[key], " ".join(value.split()).casefold())
    if folded not in plan.known:
        finder = {"service_area": lambda v: vocabulary.find_area(conn, v, areas), "sector": lambda v: vocabulary.normalise_sector(v, conn),
                  "role": lambda v: vocabulary.normalise_role(v, conn)}[key]
        try:
            meaning = finder(value)
        except TanetError:
            meaning = None
        if len(plan.known) < 10 * KEPT_GROUPS:
            plan.known[folded] = meaning
    else:
        meaning = plan.known[folded]
    if meaning is None:
        _group(plan, folded, value, line)
    return meaning


def _group(plan: ImportPlan, key: tuple[str, str], value: str, line: int) -> None:
    """Count one more row with a word tanet does not know (listed once, with its first lines)."""
    group = plan.unknown.get(key)
    if group is None and len(plan.unknown) < KEPT_GROUPS:
        group = plan.unknown[key] = [" ".join(value.split()), 0, []]
    if group is not None:
        group[1] += 1
        if len(group[2]) < SHOWN_LINES:
            group[2].append(line)


def _count_defaults(plan: ImportPlan, filled: list[str]) -> None:
    """Count the values tanet filled in for a member it adds (an update leaves them alone)."""
    for key in filled:
        plan.defaults[key] = plan.defaults.get(key, 0) + 1
        plan.defaulted += key in KINDS  # empty area, sector and role cells, as before


def _validate(conn, row: list[str], cols: dict[str, int], line: int, today: date, areas: list[str],
              plan: ImportPlan) -> tuple[list[str], dict, int]:
    """One row checked: its problems (with the line number), the member it describes, and
    how many of its area, sector and role words tanet does not know (kept in the plan)."""
    get = lambda k: text_rules.csv_in(row[cols[k]].strip()) if k in cols and cols[k] < len(row) else ""  # noqa: E731
    errs: list[str] = []
    rec: dict = {}
    name = get("name") or " ".join(p for p in (get("first_name"), get("last_name")) if p)
    try:
        rec["name"] = members.clean_name(name)
    except TanetError as e:
        errs.append(f"line {line}: " + ("the name is empty" if not name.strip() else str(e)))
    unknown, filled = 0, []
    try:
        if get("email").casefold() == "anonymous":  # Forms' sign-in column, on a form without sign-in
            rec["email"] = _group(plan, ("email", "anonymous"), get("email"), line)
            unknown += 1
        else:
            rec["email"] = valid_email(get("email")) if get("email") else None
            if rec["email"] is None:
                errs.append(f"line {line}: the e-mail address is empty")
    except TanetError as e:
        errs.append(f"line {line}: {e}")
    rec["_filled"] = filled
    for key in KINDS:
        value = get(key)
        if not value:
            rec[key] = "other"
            filled.append(key)
            continue
        rec[key] = _resolve(conn, key, value, areas, plan, line)
        unknown += rec[key] is None
    try:
        if not get("ambassador"):
            filled.append("ambassador")
        # Only a column that says so makes an imported member an ambassador (the rota draws from them).
        rec["ambassador"] = int(vocabulary.parse_bool(get("ambassador")) if get("ambassador") else EMPTY_AMBASSADOR)
    except TanetError as e:
        errs.append(f"line {line}: {e}")
    for key, what, check in (("phone", "phone number", text_rules.one_line), ("organisation", "organisation", text_rules.one_line),
                             ("notes", "notes", text_rules.some_lines), ("known_as", "name to greet them by", text_rules.one_line)):
        try:
            rec[key] = check(get(key), what)
        except TanetError as e:
            errs.append(f"line {line}: {e}")
    joined = _date_or_none(get("joined_on"), today, line, "date joined", errs)
    left = _date_or_none(get("left_on"), today, line, "date left", errs)
    consent = _date_or_none(get("consent_on"), today, line, "consent date", errs)
    if not get("joined_on"):
        filled.append("joined_on")
    if not get("consent_on"):
        filled.append("consent_on")
    rec["joined_on"] = (joined or today).isoformat()
    rec["left_on"] = left.isoformat() if left else None
    if rec.get("known_as") and rec["known_as"] == members.default_known_as(rec.get("name")):
        rec["known_as"] = None  # the default: it follows the name if the name is corrected later
    rec["consent_on"] = (consent or joined or today).isoformat()
    if left and left.isoformat() <= rec["joined_on"]:
        errs.append(f"line {line}: the leaving date {left} is not after the joining date {rec['joined_on']}")
    return errs, rec, unknown


_INSERT = """INSERT INTO members(name, email, phone, organisation, service_area, sector, role,
             ambassador, joined_on, left_on, consent_on, notes, known_as)
             VALUES (:name, :email, :phone, :organisation, :service_area, :sector, :role,
             :ambassador, :joined_on, :left_on, :consent_on, :notes, :known_as)"""


def apply_import(conn: sqlite3.Connection, plan: ImportPlan, progress=None) -> None:
    """Write a validated plan (inside the caller's transaction)."""
    batch = 1000
    for i in range(0, len(plan.new), batch):
        conn.executemany(_INSERT, plan.new[i:i + batch])
        if progress:
            progress(min(i + batch, len(plan.new)))
    for member_id, changes in plan.updates:
        _update(conn, member_id, changes)


def _update(conn: sqlite3.Connection, member_id: int, changes: dict) -> None:
    if changes:
        sets = ", ".join(f"{k} = :{k}" for k in changes)
        conn.execute(f"UPDATE members SET {sets} WHERE id = :id", {**changes, "id": member_id})


def export_rows(conn: sqlite3.Connection) -> list[dict]:
    """Every member who has not been forgotten, with the fields import reads back."""
    return [members.member_object(r, members.EXPORT_KEYS)
            for r in conn.execute("SELECT * FROM members WHERE forgotten_on IS NULL ORDER BY id")]


def to_csv(records: list[dict]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(members.EXPORT_KEYS)
    for r in records:
        w.writerow(["" if r[k] is None else ("yes" if r[k] is True else "no" if r[k] is False else text_rules.csv_out(str(r[k])))
                    for k in members.EXPORT_KEYS])
    return out.getvalue()


def addresses(conn: sqlite3.Connection, areas: list[str], today: date) -> tuple[str, int]:
    """`Name <e-mail>; ...` of the active members (optionally some areas), to paste into Bcc."""
    from email.headerregistry import Address

    from tanet.text import flattened

    names = [vocabulary.find_area(conn, a) for a in areas]
    sql = f"SELECT name, email FROM members WHERE email IS NOT NULL AND {membership.active_sql(':d')}"
    params: dict = {"d": today.isoformat()}
    if names:
        sql += " AND service_area IN (" + ",".join(f":a{i}" for i in range(len(names))) + ")"
        params.update({f"a{i}": n for i, n in enumerate(names)})
    rows = conn.execute(sql + " ORDER BY name COLLATE NOCASE", params).fetchall()
    return "; ".join(str(Address(display_name=flattened(r["name"]), addr_spec=r["email"])) for r in rows) + "\n", len(rows)
