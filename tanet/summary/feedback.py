"""Feedback after meetings: Microsoft Forms (.xlsx) and Google Forms (.csv) exports.

Questions are found by their wording, loosely; respondents who answered as
"anonymous" stay anonymous, and named ones are matched to members by e-mail.
Importing the same file twice changes nothing.
"""

from __future__ import annotations

import operator
import sqlite3
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from tanet.errors import TanetError
from tanet.sheets.textfiles import squash
from tanet.sheets.workbook import TooManyRows, read_numbered_table

# What each question is about, found by words in its heading (squashed: letters and digits only).
QUESTIONS = {
    "usefulness": (("useful",), ("rate", "meeting"), ("rating",)),
    "will_use": (("willyouuse",), ("use", "practice"), ("use", "work"), ("useanything",), ("usesomething",)),
    "take_back": (("takeback",), ("takeaway",), ("takeaways",)),
    "next_topic": (("covernext",), ("next",), ("future",), ("cover",), ("topic",), ("suggest",)),
    "service_area": (("servicearea",), ("areaofwork",), ("workin",)),
}
LABELS = {"usefulness": "how useful (1-5)", "will_use": "will you use something (yes/no/maybe)",
          "take_back": "what will you take back", "next_topic": "what to cover next",
          "service_area": "your service area"}
META = {"id": ("id", "responseid"), "started": ("starttime",), "completed": ("completiontime", "timestamp"),
        "email": ("email", "emailaddress"), "name": ("name", "fullname"), "modified": ("lastmodifiedtime",)}
ANSWER_META = ("email", "id", "completed")  # Forms' own columns kept with each response
# A response as parse() gives it: the key it is stored under, the key it was stored under
# before IDs were kept apart ("ID|time", None without an ID column), its ID, then its answers.
RESPONSE = ("key", "old_key", "id", "email", "usefulness", "will_use", "take_back", "next_topic", "service_area",
            "submitted_at")
MAX_FILE = 20 * 1024 * 1024
MAX_RESPONSES = 10_000
YES_NO = {"yes": "yes", "y": "yes", "no": "no", "n": "no", "maybe": "maybe", "notsure": "maybe",
          "possibly": "maybe", "unsure": "maybe", "perhaps": "maybe"}

if TYPE_CHECKING:
    from tanet.summary.period_pass import PeriodPass


def _find(header: list[str], choices) -> int | None:
    for i, h in enumerate(header):
        s = squash(h)
        if any(all(word in s for word in words) for words in choices):
            return i
    return None


def start_reading(path: Path):
    """The file's rows, each with its number in the file (blank rows counted, as the
    coordinator sees it), once it is checked; an .xlsx is read in the background meanwhile,
    so the caller can open the database while it is (see parse)."""
    if path.is_file() and path.stat().st_size > MAX_FILE:
        raise TanetError(f"{path} is too large for one meeting's feedback (over {MAX_FILE // 2**20} MB). Check it "
                         "is the meeting's Forms export, not something else.")
    try:
        return read_numbered_table(path, MAX_RESPONSES + 1)  # a header and the responses
    except TooManyRows:
        raise _too_many(path) from None


def _filled_rows(table):
    """The rows that are not all blank, with their numbers and their cells joined by tabs
    (the line the file's fingerprint is made of)."""
    for number, row in table:
        line = "\t".join(row)
        if line and not line.isspace():  # a cell that is more than white space
            yield number, line, row


def match_questions(header: list[str], meta: dict, chosen: list[str], path) -> dict[str, int]:
    """Which column answers which question: the coordinator's `--question KEY=HEADER`
    first, then the questions' wording. Forms' own columns (meta) are never questions."""
    used = {i for i in meta.values() if i is not None}
    questions = [i for i, h in enumerate(header) if i not in used and h.strip()]
    cols = _chosen_questions(header, questions, chosen, path)
    used |= set(cols.values())
    for key, choices in QUESTIONS.items():
        if key in cols:
            continue
        rest = [h if i not in used else "" for i, h in enumerate(header)]
        cols[key] = _find(rest, choices)
        if cols[key] is not None:
            used.add(cols[key])
    missing = [k for k, i in cols.items() if i is None]
    if missing:
        left = [header[i].strip() for i in questions if i not in used] or [header[i].strip() for i in questions]
        raise TanetError(
            f"{path}: no question found for {', '.join(LABELS[k] for k in missing)}. The file's questions"
            + (" not matched yet" if any(i not in used for i in questions) else "") + ": "
            + "; ".join(f"'{q}'" for q in left)[:600] + ". If one of them is it, say so with --question, e.g. "
            + f"--question {missing[0]}={_shell(left[0] if left else 'HEADER')}; "
            + "otherwise check it is the meeting's feedback form. Nothing was imported.")
    return {k: cols[k] for k in QUESTIONS}


def _shell(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _chosen_questions(header: list[str], questions: list[int], chosen: list[str], path) -> dict[str, int]:
    cols: dict[str, int] = {}
    names = ", ".join(QUESTIONS)
    for item in chosen:
        word, eq, text = item.partition("=")
        key = next((k for k in QUESTIONS if squash(k) == squash(word)), None)
        if key is None or not eq:
            raise TanetError(f"'{item}' does not say which question a column answers; write it as KEY=HEADER "
                             f"with KEY one of: {names} (e.g. --question next_topic='What should we cover?').")
        found = next((i for i in questions if header[i].strip() == text.strip()), None)
        if found is None:
            found = next((i for i in questions if squash(header[i]) == squash(text)), None)
        if found is None:
            raise TanetError(f"{path} has no question headed '{text}'. Its questions are: "
                             + "; ".join(f"'{header[i].strip()}'" for i in questions)[:600] + ".")
        cols[key] = found
    return cols


def parse(path: Path, chosen: list[str] | None = None, table=None) -> tuple[list[tuple], str, dict]:
    """The responses in the file (checked; each a tuple in RESPONSE's order), a fingerprint
    of the file's content, and which column answered which question. The rows are read one
    at a time: only the answers are kept. `chosen` are `--question KEY=HEADER` options;
    `table` the file's rows if start_reading was called already (or what it refused)."""
    import hashlib  # here, as tanet.text below: imported while a workbook is read in the background

    if isinstance(table, TanetError):
        raise table
    table = _filled_rows(start_reading(path) if table is None else table)
    _, line, header = next(table, (None, None, None))
    if header is None:
        raise TanetError(f"{path} has no rows.")
    meta = {k: next((i for i, h in enumerate(header) if squash(h) in names), None) for k, names in META.items()}
    cols = match_questions(header, meta, chosen or [], path)
    digest = hashlib.sha256(line.encode())  # the whole table's, joined by tabs and lines
    numbers: list[int] = []
    columns = _answers(table, path, [cols[k] for k in QUESTIONS] + [meta[k] for k in ANSWER_META], len(header), digest,
                       numbers)
    responses = _responses(columns, meta)
    if responses is None:  # something to refuse: looked at row by row, to say where
        _refuse(path, columns, numbers)
    used = set(cols.values())
    understood = {"questions": {k: header[i].strip() for k, i in cols.items()},
                  "columns_not_used": [h.strip() for i, h in enumerate(header) if i not in used and h.strip()]}
    return responses, digest.hexdigest(), understood


def _answers(table, path: Path, wanted: list[int | None], width: int, digest, numbers: list[int]) -> list[list[str]]:
    """The wanted columns' cells (stripped), column by column, a column the file does not
    have (None) read as empty; each row's line is added to the digest on the way, and its
    number in the file to `numbers`."""
    lines, picked = [], []
    there = [i for i in wanted if i is not None]
    pick = operator.itemgetter(*there)  # the questions' columns at least: always more than one
    for n, (number, line, row) in enumerate(table, start=2):
        if n > MAX_RESPONSES + 1:
            raise _too_many(path)
        lines.append(line)
        if len(lines) == 1000:  # hashed a thousand rows at a time: the rows themselves are not kept
            digest.update(("\n" + "\n".join(lines)).encode())
            lines.clear()
        picked.append(pick(row if len(row) >= width else row + [""] * (width - len(row))))
        numbers.append(number)
    if lines:
        digest.update(("\n" + "\n".join(lines)).encode())
    found = iter([list(map(str.strip, column)) for column in zip(*picked)] if picked else [[] for _ in there])
    return [next(found) if i is not None else [""] * len(picked) for i in wanted]


def _too_many(path: Path) -> TanetError:
    return TanetError(f"{path} has more than {MAX_RESPONSES:,} responses, more than one meeting gets. Check "
                      "it is the meeting's Forms export.")


def _responses(columns: list[list[str]], meta: dict) -> list[tuple] | None:
    """The rows' answers, checked column by column, each response a tuple in RESPONSE's
    order; None when one of them cannot be read."""
    from tanet import text as text_rules

    ratings, uses, take_back, next_topic, areas, emails, ids, completed = columns
    usefulness = {rating: _rating(rating) for rating in set(ratings)}
    will_use = {use: _yes_no(use) for use in set(uses)}
    if any(u is not None and not 1 <= u <= 5 for u in usefulness.values()) or any(v[1] for v in will_use.values()):
        return None
    try:
        take_back, next_topic = text_rules.some_lines_each(take_back, "answer"), text_rules.some_lines_each(
            next_topic, "answer")
        areas = text_rules.one_line_each(areas, "service area")
    except TanetError:
        return None
    keyed = meta["id"] is not None
    keys = ids if keyed else [str(n) for n in range(2, len(ids) + 2)]
    submitted = completed if meta["completed"] is not None else [None] * len(ids)
    named = {email: None if not email or email.casefold() == "anonymous" else email for email in set(emails)}
    return [(f"id {key}|{done}" if keyed else f"{key}|{done}", f"{key}|{done}" if keyed else None,
             key if keyed else None, named[email], usefulness[rating], will_use[use][0], back, topic, area, at)
            for key, done, email, rating, use, back, topic, area, at
            in zip(keys, completed, emails, ratings, uses, take_back, next_topic, areas, submitted)]


def _rating(rating: str) -> int | None:
    """The rating's number (-1 when it is not one), None when there is none."""
    if not rating:
        return None
    try:
        return int(float(rating.split()[0]))
    except (ValueError, OverflowError):  # not a number, or infinite
        return -1


def _yes_no(use: str) -> tuple[str | None, bool]:
    """What a yes/no/maybe answer means, and whether it is none of them."""
    answer = squash(use)
    return YES_NO.get(answer) if answer else None, bool(answer) and answer not in YES_NO


def _refuse(path: Path, columns: list[list[str]], numbers: list[int]) -> None:
    """Say which rows cannot be read and why (the first five, each without its own full
    stop), under their numbers in the file, and import nothing."""
    problems = [problem.removesuffix(".") for n, cells in zip(numbers, zip(*columns)) for problem in _problems(cells, n)]
    raise TanetError(f"{path}: " + "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5
                                                                else "") + ". Nothing was imported.")


def _problems(cells: tuple[str, ...], n: int) -> list[str]:
    """What is wrong with row n's answers (the questions' cells in QUESTIONS' order)."""
    from tanet import text as text_rules

    rating, use, take_back, next_topic, area = cells[:len(QUESTIONS)]
    problems = []
    usefulness = _rating(rating)
    if usefulness is not None and not 1 <= usefulness <= 5:
        problems.append(f"row {n}: the rating '{rating}' is not from 1 to 5")
    if _yes_no(use)[1]:
        problems.append(f"row {n}: '{use}' is not yes, no or maybe")
    try:
        text_rules.some_lines(take_back, "answer")
        text_rules.some_lines(next_topic, "answer")
        text_rules.one_line(area, "service area")
    except TanetError as e:
        problems.append(f"row {n}: {e}")
    return problems


def import_file(conn: sqlite3.Connection, meeting: sqlite3.Row, path: Path, force: bool, today: date,
                chosen: list[str] | None = None, table=None) -> dict:
    """Add the file's responses to the meeting (inside the caller's transaction); only a
    held meeting (scheduled, on or before today) has feedback. `table`: as for parse."""
    _check_held(meeting, today)
    with _no_cycle_collection():
        return _import(conn, meeting, path, force, today, chosen, table)


@contextmanager
def _no_cycle_collection():
    """Python's cycle collector paused: the rows, answers and responses are many thousands of
    small lists and tuples, none in a cycle, which it would otherwise go over again and again
    while they are made (some eighty times for 10,000 responses, 0.02 s), to find nothing."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _import(conn: sqlite3.Connection, meeting: sqlite3.Row, path: Path, force: bool, today: date,
            chosen: list[str] | None, table) -> dict:
    responses, digest, understood = parse(path, chosen, table)
    other = conn.execute("SELECT meeting_id FROM feedback_files WHERE digest = ? AND meeting_id != ?",
                         [digest, meeting["id"]]).fetchone()
    if other and not force:
        raise TanetError(f"{path.name} was already imported for meeting #{other[0]}. If it really is this "
                         "meeting's feedback too, add --force.")
    conn.execute("INSERT OR IGNORE INTO feedback_files(digest, meeting_id, imported_on) VALUES (?, ?, ?)",
                 [digest, meeting["id"], today.isoformat()])
    meeting_id = meeting["id"]
    member_of = _members_by_email(conn, {r[3] for r in responses})
    fresh = _not_recorded(conn, meeting_id, responses)
    rows = [(meeting_id, r[0], member_of[r[3]], int(r[3] is None), *r[4:]) for r in fresh]
    strangers = [r[3] for r in fresh if r[3] and member_of[r[3]] is None]
    added = conn.executemany(  # one statement prepared once for every response
        """INSERT OR IGNORE INTO feedback(meeting_id, response_key, member_id, anonymous, usefulness, will_use,
                                         take_back, next_topic, service_area, submitted_at)
           VALUES (?,?,?,?,?,?,?,?,?,?)""", rows).rowcount  # summed over the rows: those added
    return {"meeting_id": meeting_id, "responses": len(responses), "added": added,
            "unchanged": len(responses) - added, "not_members": strangers, **understood}


def _members_by_email(conn: sqlite3.Connection, emails: set[str | None]) -> dict[str | None, int | None]:
    """Each address that answered (None for an anonymous answer) with the member whose it is
    (the case of its letters aside), None for none."""
    named = {email.casefold() for email in emails if email}
    members = {}  # only those who answered: a region's register holds many more
    for member_id, email in conn.execute("SELECT id, email FROM members WHERE email IS NOT NULL") if named else ():
        if (folded := email.casefold()) in named:
            members[folded] = member_id
    return {email: members.get(email.casefold()) if email else None for email in emails}


def _not_recorded(conn: sqlite3.Connection, meeting_id: int, responses: list[tuple]) -> list[tuple]:
    """The responses not recorded for the meeting yet. One from a file with Forms' ID column
    is recorded when its ID is (Excel rewrites the completion time when it saves a CSV): its
    key is written "id ID|time", so IDs are never matched with a file's row numbers; keys
    written "ID|time" before are still matched whole. Others are left to their keys."""
    if not any(r[2] is not None for r in responses):
        return responses
    keys = {k for (k,) in conn.execute("SELECT response_key FROM feedback WHERE meeting_id = ?", [meeting_id])}
    if not keys:
        return responses
    ids = {k[3:].partition("|")[0] for k in keys if k.startswith("id ")}
    return [r for r in responses if r[2] is None or not (r[2] in ids or r[1] in keys)]


def _check_held(meeting: sqlite3.Row, today: date) -> None:
    """Refuse feedback for a cancelled meeting or one still to come."""
    label = f"Meeting #{meeting['id']}"
    if meeting["status"] == "cancelled":
        raise TanetError(f"{label} on {meeting['date']} was cancelled, so it has no feedback; check the meeting "
                         "(tanet meeting list). Nothing was imported.")
    if meeting["date"] > today.isoformat():
        raise TanetError(f"{label} is not held yet ({meeting['date']}), so it has no feedback yet; check the "
                         "meeting (tanet meeting list). Nothing was imported.")


def show(conn: sqlite3.Connection, meeting_id: int) -> dict:
    rows = conn.execute("SELECT * FROM feedback WHERE meeting_id = ? ORDER BY id", [meeting_id]).fetchall()
    ratings = [r["usefulness"] for r in rows if r["usefulness"] is not None]
    areas: dict[str, int] = {}
    for r in rows:
        if r["service_area"]:
            areas[r["service_area"]] = areas.get(r["service_area"], 0) + 1
    return {
        "meeting_id": meeting_id, "responses": len(rows), "anonymous": sum(r["anonymous"] for r in rows),
        "usefulness_mean": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "will_use": {k: sum(r["will_use"] == k for r in rows) for k in ("yes", "no", "maybe")},
        "by_service_area": [{"service_area": a, "responses": n} for a, n in sorted(areas.items(),
                                                                                  key=lambda x: (-x[1], x[0]))],
        "take_back": [r["take_back"] for r in rows if r["take_back"]],
        "next_topics": [r["next_topic"] for r in rows if r["next_topic"]],
    }


def period_figures(shared: PeriodPass) -> dict:
    """Feedback for the period's held meetings (the summary's shared pass)."""
    row = shared.conn.execute(
        f"""SELECT count(*) AS responses, count(DISTINCT f.meeting_id) AS meetings_with_feedback,
                  avg(f.usefulness) AS mean, coalesce(sum(f.will_use = 'yes'), 0) AS yes,
                  coalesce(sum(f.will_use = 'no'), 0) AS no, coalesce(sum(f.will_use = 'maybe'), 0) AS maybe
           FROM feedback f JOIN {shared.held} h ON h.id = f.meeting_id""").fetchone()
    return {"responses": row["responses"], "meetings_with_feedback": row["meetings_with_feedback"],
            "usefulness_mean": round(row["mean"], 2) if row["mean"] is not None else None,
            "will_use": {"yes": row["yes"], "no": row["no"], "maybe": row["maybe"]}}



def remove(conn: sqlite3.Connection, meeting: sqlite3.Row, confirmed: bool) -> int:
    """Remove the feedback imported for a meeting (to the wrong one, say), and the record of
    its files, so the file can be imported for the right meeting (inside the caller's
    transaction). Returns how many responses went."""
    meeting_id = meeting["id"]
    count = conn.execute("SELECT count(*) FROM feedback WHERE meeting_id = ?", [meeting_id]).fetchone()[0]
    if not count:
        raise TanetError(f"Meeting #{meeting_id} on {meeting['date']} has no feedback; nothing was removed.")
    if not confirmed:
        raise TanetError(f"This deletes the {count} feedback response{'' if count == 1 else 's'} of meeting "
                         f"#{meeting_id} on {meeting['date']}. To go ahead: tanet feedback remove {meeting_id} --yes")
    conn.execute("DELETE FROM feedback_files WHERE meeting_id = ?", [meeting_id])
    return conn.execute("DELETE FROM feedback WHERE meeting_id = ?", [meeting_id]).rowcount
