"""Keeping only what is needed (UK GDPR's storage limitation): members long gone are
forgotten, and private notes are erased once they are old; a member asking is forgotten
at once, or shown everything held about them.

Forgetting reaches every table that can hold a person's details (the register, the
outbox and its files, replies, check-ins and feedback), so it sits above all of them."""

from __future__ import annotations

import re
import sqlite3
from datetime import date

from dateutil.relativedelta import relativedelta

from tanet.errors import TanetError
from tanet.mail import outbox_files
from tanet.register import members, vocabulary
from tanet.store import settings

# Private notes and the date each belongs to: the meeting's.
NOTES = (
    ("checkins", "note", "SELECT c.rowid FROM checkins c JOIN meetings m ON m.id = c.meeting_id "
                         "WHERE c.note IS NOT NULL AND m.date < ?"),
    ("responses", "comment", "SELECT r.rowid FROM responses r JOIN meetings m ON m.id = r.meeting_id "
                             "WHERE r.comment IS NOT NULL AND m.date < ?"),
    ("followups", "note", "SELECT f.rowid FROM followups f LEFT JOIN meetings m ON m.id = f.meeting_id "
                          "WHERE f.note IS NOT NULL AND coalesce(m.date, f.raised_on) < ?"),
    ("followups", "about", "SELECT f.rowid FROM followups f LEFT JOIN meetings m ON m.id = f.meeting_id "
                           "WHERE f.about IS NOT NULL AND coalesce(m.date, f.raised_on) < ?"),
)


def review(conn: sqlite3.Connection, today: date) -> dict:
    """What is due: members who left more than retain_months ago, and the number of notes
    older than notes_months."""
    retain = int(settings.get(conn, "privacy.retain_months"))
    notes = int(settings.get(conn, "privacy.notes_months"))
    left_before = (today - relativedelta(months=retain)).isoformat()
    notes_before = (today - relativedelta(months=notes)).isoformat()
    gone = [dict(r) for r in conn.execute(
        "SELECT id, name, left_on FROM members WHERE forgotten_on IS NULL AND left_on IS NOT NULL AND left_on < ? "
        "ORDER BY id", [left_before])]
    notes_due = sum(conn.execute(f"SELECT count(*) FROM ({sql})", [notes_before]).fetchone()[0]
                    for _, _, sql in NOTES)
    return {"retain_months": retain, "notes_months": notes, "members_due": [m["id"] for m in gone],
            "members": gone, "notes_due": notes_due, "_notes_before": notes_before}


def named(members_due: list[dict]) -> str:
    """'Ann Lee (#17, left 2024-03-01), ...': who they are, not bare ids."""
    return ", ".join(f"{m['name']} (#{m['id']}, left {m['left_on']})" for m in members_due) or "none"


def apply(conn: sqlite3.Connection, due: dict, today: date) -> dict:
    """Forget the members and erase the notes that are due (inside the caller's transaction)."""
    forget_members(conn, due["members_due"], today)
    erased = 0
    for table, column, sql in NOTES:
        erased += conn.execute(f"UPDATE {table} SET {column} = NULL WHERE rowid IN ({sql})",
                               [due["_notes_before"]]).rowcount
    return {"members_forgotten": len(due["members_due"]), "notes_erased": erased}


def forget(conn: sqlite3.Connection, ref: str, today: date) -> int:
    """Erase a member's personal data; their anonymous attendance stays counted."""
    row = members.find_member(conn, ref)
    if row["forgotten_on"]:
        raise TanetError(f"Member #{row['id']} has already been forgotten.")
    forget_members(conn, [row["id"]], today)
    return row["id"]


def with_something_ahead(conn: sqlite3.Connection, member_ids: list[int], today: date) -> list[int]:
    """Those of these members on a rota of, or sent a message about, a meeting on or after
    `today`: the only ones a leaver's taking off what is ahead has work for. One query for
    all, instead of a transaction per member who long ago left."""
    day = today.isoformat()
    ahead = {r[0] for r in conn.execute(
        """SELECT f.member_id FROM facilitators f JOIN meetings m ON m.id = f.meeting_id WHERE m.date >= :day
           UNION SELECT o.member_id FROM outbox o JOIN meetings m ON m.id = o.meeting_id WHERE m.date >= :day""",
        {"day": day})}
    return [member_id for member_id in member_ids if member_id in ahead]


# What forgetting clears beyond the member's row, each one statement over all the members
# being forgotten (the ids in temp.forgetting): a pass over each table, not one per member.
FORGETTING = "(SELECT id FROM temp.forgetting)"
CLEARED = (
    f"UPDATE outbox SET email = NULL WHERE member_id IN {FORGETTING} AND email IS NOT NULL",
    f"UPDATE checkins SET note = NULL WHERE member_id IN {FORGETTING} AND note IS NOT NULL",
    f"""UPDATE responses SET comment = NULL, message_id = NULL WHERE member_id IN {FORGETTING}
          AND (comment IS NOT NULL OR message_id IS NOT NULL)""",
    f"""UPDATE followups SET note = NULL, about = NULL WHERE member_id IN {FORGETTING}
          AND (note IS NOT NULL OR about IS NOT NULL)""",
    f"DELETE FROM availability WHERE member_id IN {FORGETTING}",
    # No one can follow up a person who is forgotten: what is still open is closed that day.
    f"UPDATE followups SET closed_on = :today WHERE member_id IN {FORGETTING} AND closed_on IS NULL",
)


def forget_members(conn: sqlite3.Connection, member_ids: list[int], today: date) -> None:
    """Erase these members' personal data (inside the caller's transaction); their anonymous
    attendance stays counted. One statement per table for all of them, so forgetting
    thousands costs a few passes over the file, not a pass per member."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS forgetting (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.forgetting")
    conn.executemany("INSERT OR IGNORE INTO temp.forgetting (id) VALUES (?)", ((i,) for i in member_ids))
    try:
        erased = erase_traces(conn)  # in every text that can quote them, while their addresses are known
        conn.execute(
            f"""UPDATE members SET name = 'Former member #' || id, email = NULL, phone = NULL,
                      notes = NULL, known_as = NULL, forgotten_on = :today,
                      left_on = CASE WHEN left_on IS NOT NULL AND left_on <= :today THEN left_on
                                     WHEN joined_on < :today THEN :today ELSE joined_on END
               WHERE id IN {FORGETTING}""", {"today": today.isoformat()})
        # Their messages: the files go, and the outbox keeps only that something was sent.
        outbox_files.forget_files(conn, f"member_id IN {FORGETTING}", [])
        for sql in CLEARED:
            conn.execute(sql, {"today": today.isoformat()} if ":today" in sql else {})
        from tanet.output import diagnostics

        diagnostics.scrub_crash_reports(erased)  # a command line typed with their name or address
    finally:
        conn.execute("DELETE FROM temp.forgetting")


def erase_traces(conn: sqlite3.Connection):
    """What forgetting erases beyond the members' own rows, for the members in
    temp.forgetting (inside the caller's transaction). Their names and addresses are taken
    out of whatever text can quote them: everyone's feedback, outreach contacts and outcomes,
    sessions' titles and guests, themes, others' follow-ups and the outbox's errors ("550
    <zoe@...>: unknown"). Their own feedback also loses their first name and surname as
    separate words, then becomes anonymous (the answers still count, as no one's). Returns
    what erases their names and addresses from any text, for the crash reports."""
    people = conn.execute(f"SELECT id, name, email, known_as FROM members WHERE id IN {FORGETTING} ORDER BY id"
                          ).fetchall()
    if not people:
        return lambda text: text
    needles = Needles([word for member in people for word in _seen(member)])
    for table, columns, where in SCRUBBED:
        _scrub(conn, table, columns, where, needles)
    _scrub_own_feedback(conn, {row["id"]: row for row in people})
    conn.execute(f"UPDATE feedback SET member_id = NULL, anonymous = 1 WHERE member_id IN {FORGETTING}")
    return needles.erased


# Text that can name anyone: each (table, columns, which rows).
SCRUBBED = (
    ("feedback", ("take_back", "next_topic"), ""),
    ("outreach", ("contact", "outcome"), ""),
    ("sessions", ("title", "guest"), ""),
    ("themes", ("text", "note"), ""),
    ("followups", ("about", "note"), f"member_id NOT IN {FORGETTING}"),  # their own are cleared
    ("outbox", ("error",), ""),
)


def _scrub(conn: sqlite3.Connection, table: str, columns: tuple, where: str, needles: Needles) -> None:
    """Replace the needles found in these columns with [erased], in one pass over the table."""
    filled = " OR ".join(f"{c} IS NOT NULL" for c in columns)
    rows = conn.execute(f"SELECT id, {', '.join(columns)} FROM {table} WHERE ({filled})"
                        + (f" AND {where}" if where else "")).fetchall()
    changed = []
    for row in rows:
        texts = tuple(needles.erased(text) for text in row[1:])
        if texts != tuple(row[1:]):
            changed.append((*texts, row[0]))
    conn.executemany(f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?", changed)


def _scrub_own_feedback(conn: sqlite3.Connection, people: dict) -> None:
    """Each member's own named feedback also loses their first name and surname as
    separate words (too common to take out of anyone else's)."""
    own = {}  # each member's pattern, compiled only for those with named feedback (each costs ~0.2 ms)
    changed = []
    for row in conn.execute(f"""SELECT id, member_id, take_back, next_topic FROM feedback
                                WHERE member_id IN {FORGETTING} AND (take_back IS NOT NULL OR next_topic IS NOT NULL)
                                ORDER BY id"""):
        member = people[row["member_id"]]
        if member["id"] not in own:
            own[member["id"]] = _pattern([*_seen(member), members.known_as(member), *_name_words(member["name"])])
        pattern = own[member["id"]]
        scrubbed = (_erased(pattern, row["take_back"]), _erased(pattern, row["next_topic"]))
        if scrubbed != (row["take_back"], row["next_topic"]):
            changed.append((*scrubbed, row["id"]))
    conn.executemany("UPDATE feedback SET take_back = ?, next_topic = ? WHERE id = ?", changed)


def _name_words(name: str | None) -> list[str]:
    """A name's words (first name, surname), as written and without accents."""
    words = [w.strip(",.()") for w in (name or "").split()]
    return [*words, *(vocabulary.fold(w) for w in words)]


def _seen(member: sqlite3.Row) -> list:
    """A member's address and names as written, and as a server may write them: without
    accents, the address's name part; the name they go by, when they chose one."""
    local = (member["email"] or "").partition("@")[0]
    return [member["email"], member["name"], vocabulary.fold(member["name"] or ""), local if len(local) > 3 else None,
            member["known_as"]]


def _pattern(words: list):
    import re

    # Whole words only: a first name is taken out of "Grounding with Peadar", not "Peadarson".
    words = sorted({w for w in words if w and len(w) > 1}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)


def _erased(pattern, text: str | None) -> str | None:
    return pattern.sub("[erased]", text) if pattern and text else text


_WORD_RUN = re.compile(r"\w+")
# Dotted capital I and dotless i: a case-blind pattern takes either for "i", which casefold
# alone does not give ("İ" folds to "i" and a combining dot).
_DOTTED_I = str.maketrans({"\u0130": "i", "\u0131": "i"})


def _run_key(run: str) -> str:
    """A run of letters and digits as a case-blind pattern sees it (ſ is s, K is k, İ is i)."""
    return run.translate(_DOTTED_I).casefold()


class Needles:
    """Names and addresses to erase from many texts, in time that grows with the texts, not
    with texts x members. A text can only hold a word (as a whole word, case-blind) if it
    holds that word's first run of letters and digits as one of its own runs, so each text's
    runs are looked up, and only the words whose first run it holds are sought in it, in one
    pattern, longest first (as `_pattern` does): what one pattern of all the words erases."""

    def __init__(self, words: list):
        words = sorted({w for w in words if w and len(w) > 1}, key=len, reverse=True)
        self.by_run: dict[str, list[str]] = {}
        self.always: list[str] = []  # words without a letter or digit: sought in every text
        for word in words:
            run = _WORD_RUN.search(word)
            if run:
                self.by_run.setdefault(_run_key(run.group()), []).append(word)
            else:
                self.always.append(word)
        self._found: dict[frozenset, object] = {}

    def erased(self, text: str | None) -> str | None:
        if not text:
            return text
        runs = frozenset(key for key in map(_run_key, _WORD_RUN.findall(text)) if key in self.by_run)
        if not runs and not self.always:
            return text
        if runs not in self._found:
            self._found[runs] = _pattern([word for run in runs for word in self.by_run[run]] + self.always)
        return _erased(self._found[runs], text)


def subject_access(conn: sqlite3.Connection, ref: str) -> dict:
    """Everything held about one member (a subject access request): their details and
    activity, their named feedback, and their messages in the outbox."""
    row = members.find_member(conn, ref)
    member = members.member_object(row, members.EXPORT_KEYS)
    member["forgotten_on"] = row["forgotten_on"]
    q = lambda sql: [dict(r) for r in conn.execute(sql, [row["id"]])]  # noqa: E731
    return {"member": member, **members.activity(conn, row["id"]),
            "feedback": q("""SELECT f.meeting_id, m.date, f.usefulness, f.will_use, f.take_back, f.next_topic,
                                    f.service_area, f.submitted_at FROM feedback f
                             JOIN meetings m ON m.id = f.meeting_id WHERE f.member_id = ? ORDER BY m.date, f.id"""),
            "outbox": q("""SELECT id, meeting_id, kind, email, method, sequence, written_at, sent_at, error
                           FROM outbox WHERE member_id = ? ORDER BY id""")}
