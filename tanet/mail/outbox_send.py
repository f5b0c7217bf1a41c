"""Sending the outbox's rows: each message's attempt is committed just before its content
goes, and its outcome the moment the mail server answers, each in its own small commit
(without a disk sync each: see tanet.store.journal), so a run that is killed or fails
halfway resumes by sending only what has no `sent_at`, and a message whose content went
without an answer is *uncertain*, never sent again by itself."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from tanet.mail.outbox import now
from tanet.mail.wire import prepare, read_message
from tanet.store.db import transaction
from tanet.store.journal import LightCommits


@dataclass
class Plan:
    """What one run sends: `rows`, and the rows it leaves alone."""
    rows: list[sqlite3.Row]
    already_sent: list[sqlite3.Row]
    uncertain: list[sqlite3.Row]


def to_send(conn: sqlite3.Connection, row_ids: list[int], resend: bool, only: list[str] | None = None) -> Plan:
    """The rows of this run to send: those not sent and not uncertain (an earlier try whose
    content went, answer unknown), or all of them with `resend`; only to `only` when given."""
    rows = []
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start:start + 500]
        rows += conn.execute(f"SELECT * FROM outbox WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    rows.sort(key=lambda r: r["id"])
    if only is not None:
        wanted = {a.lower() for a in only}
        rows = [r for r in rows if r["email"].lower() in wanted]
    if resend:
        return Plan(rows, [], [])
    return Plan([r for r in rows if not r["sent_at"] and not r["attempted_at"]],
                [r for r in rows if r["sent_at"]],
                [r for r in rows if not r["sent_at"] and r["attempted_at"]])


def addresses_of(conn: sqlite3.Connection, row_ids: list[int]) -> set[str]:
    """The addresses (in lower case) that the outbox rows `row_ids` are for."""
    found = set()
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start:start + 500]
        found |= {r[0].lower() for r in conn.execute(
            f"SELECT email FROM outbox WHERE id IN ({','.join('?' * len(chunk))})", chunk)}
    return found


@dataclass
class Tally:
    """How a run of sending went, kept up to date as it goes (so a stop can say what went)."""
    total: int
    sent: int = 0
    failures: list[str] = field(default_factory=list)  # "address: why", certainly not sent
    uncertain: list[tuple[str, str]] = field(default_factory=list)  # (address, why): may have arrived
    not_tried: int = 0
    stopped: str = ""  # why sending stopped before the end
    in_flight: list[str] = field(default_factory=list)  # addresses whose content is going now


def send_rows(conn: sqlite3.Connection, rows: list[sqlite3.Row], values: dict, progress=None,
            tally: Tally | None = None) -> Tally:
    """Send each row's file over SMTP. The attempt is committed just before a message's
    content goes, its outcome the moment the answer comes: a row whose content went without
    an answer (or whose run was killed then) stays *uncertain* and is never sent again by
    itself. One refused message never stops the rest; a line that cannot be made again does."""
    from tanet.mail.smtp import LineLost, Session

    tally = tally or Tally(len(rows))
    if not rows:
        return tally
    by_file: dict[str, list[sqlite3.Row]] = {}
    for row in rows:
        by_file.setdefault(row["file"], []).append(row)
    session = Session(values)
    if progress:
        session.on_wait = lambda seconds: progress(None, len(by_file), seconds)
    groups, finished = list(by_file.items()), False
    try:
        with LightCommits(conn) as commits:
            for i, (file, group) in enumerate(groups):
                try:
                    _deliver_one(conn, session, file, group, tally)
                    done = i + 1
                except LineLost as e:  # this message did not go either
                    tally.stopped, done = str(e), i
                tally.stopped = tally.stopped or session.stopped
                if tally.stopped:
                    tally.not_tried = sum(len(g) for _, g in groups[done:])
                    break
                commits.now_and_then()
                if progress:
                    progress(done, len(groups), 0)
        finished = True
    finally:
        session.close(politely=finished)  # after Ctrl-C, no QUIT to wait on a server holding a message
    return tally


def _deliver_one(conn: sqlite3.Connection, session, file: str, group: list[sqlite3.Row], tally: Tally) -> None:
    """Send one file to its rows' addresses and commit what became of each."""
    addresses = [r["email"] for r in group]
    try:
        # The draft marker is for e-mail programs, not for the recipient.
        message = prepare(read_message(file), drop=(b"x-unsent",))
    except (OSError, TypeError) as e:
        why = f"its file cannot be read ({getattr(e, 'strerror', e)}); write it again without --send"
        _commit(conn, group, {a.lower(): why for a in addresses}, "", tally)
        return
    if any("".join((r["message_id"] or "").split()) != message.message_id for r in group):
        # Written again since this run chose it (another version, or another program's file):
        # what the file holds now is not the message these rows record, so it is not sent as them.
        why = "its file was written again meanwhile (a newer version); run the same command again to send that"
        _commit(conn, group, {a.lower(): why for a in addresses}, "", tally)
        return

    def attempt(accepted: list[str]) -> None:
        if len(group) == 1:  # the usual message, to one member (accepted: the one address)
            conn.execute(ATTEMPTED, (now(), group[0]["id"]))
        else:
            wanted, stamp = {a.lower() for a in accepted}, now()
            _apply(conn, [(ATTEMPTED, (stamp, row["id"])) for row in group if row["email"].lower() in wanted])
        tally.in_flight = accepted

    outcome = session.send(message, addresses, attempt)
    _commit(conn, group, outcome.refused, outcome.uncertain, tally)


ATTEMPTED = "UPDATE outbox SET attempted_at = ? WHERE id = ?"
SENT = "UPDATE outbox SET sent_at = ?, error = NULL, attempted_at = NULL WHERE id = ?"


def _commit(conn: sqlite3.Connection, group: list[sqlite3.Row], refused: dict[str, str], uncertain: str,
            tally: Tally) -> None:
    if len(group) == 1 and not refused and not uncertain:  # the usual: one member's message went
        conn.execute(SENT, (now(), group[0]["id"]))
        tally.sent += 1
        tally.in_flight = []
        return
    stamp, sent, failures, unsure, changes = now(), 0, [], [], []
    for row in group:
        problem = refused.get(row["email"].lower())
        if problem:  # certainly not delivered: an earlier attempt is as uncertain as before
            changes.append(("UPDATE outbox SET error = ?, attempted_at = ? WHERE id = ?",
                            [problem, row["attempted_at"], row["id"]]))
            failures.append(f"{row['email']}: {problem}")
        elif uncertain:
            changes.append(("UPDATE outbox SET error = ? WHERE id = ?", [uncertain, row["id"]]))
            unsure.append(row["email"])
        else:
            changes.append((SENT, [stamp, row["id"]]))
            sent += 1
    _apply(conn, changes)
    tally.sent += sent
    tally.failures += failures
    tally.uncertain += [(address, uncertain) for address in unsure]
    tally.in_flight = []


def _apply(conn: sqlite3.Connection, changes: list[tuple[str, list]]) -> None:
    """Commit these statements together. One alone is its own transaction (the connection
    commits each statement outside BEGIN): the same outcome, without BEGIN and COMMIT."""
    if len(changes) == 1:
        conn.execute(*changes[0])
        return
    with transaction(conn):
        for sql, params in changes:
            conn.execute(sql, params)


def refused_for_good(conn: sqlite3.Connection, row_ids: list[int]) -> tuple[int, int]:
    """Of these rows not sent: how many the server refused permanently (a 5xx to the address),
    and how many failed for a reason that may pass (a busy or unreachable server). A row whose
    content went without an answer may have arrived, so it is neither."""
    refused = waiting = 0
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start:start + 500]
        for error, attempted in conn.execute(
                f"SELECT error, attempted_at FROM outbox WHERE sent_at IS NULL AND id IN ({','.join('?' * len(chunk))})",
                chunk):
            if attempted:
                continue
            if error and error.startswith("refused (5"):
                refused += 1
            else:
                waiting += 1
    return refused, waiting


def own_copies_sent(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> int:
    """How many of these rows that are the organiser's own copy (`--single`: no member) went."""
    own = [r["id"] for r in rows if r["member_id"] is None]
    return conn.execute(f"SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND id IN ({','.join('?' * len(own))})",
                        own).fetchone()[0] if own else 0
