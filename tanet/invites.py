"""Choosing who is invited, writing the .eml files, and sending them over SMTP."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tanet import ical
from tanet import meetings as MT
from tanet import members as M
from tanet import settings as S
from tanet.errors import TanetError
from tanet.files import NewFolder


@dataclass
class Outbox:
    folder: Path
    method: str
    files: list[tuple[Path, list[str]]] = field(default_factory=list)  # (file, envelope recipients)


def invitees(conn: sqlite3.Connection, meeting: sqlite3.Row, areas: list[str]) -> list[sqlite3.Row]:
    """Members active on the meeting's day with an e-mail address, optionally from some areas only."""
    names = [M.find_area(conn, a) for a in areas]
    sql = """SELECT * FROM members WHERE email IS NOT NULL
             AND joined_on <= :d AND (left_on IS NULL OR left_on > :d)"""
    params = {"d": meeting["date"]}
    if names:
        sql += " AND service_area IN (" + ",".join(f":a{i}" for i in range(len(names))) + ")"
        params.update({f"a{i}": n for i, n in enumerate(names)})
    return conn.execute(sql + " ORDER BY name COLLATE NOCASE, id", params).fetchall()


def write_invites(conn: sqlite3.Connection, ref: str, *, folder: Path | None, areas: list[str], single: bool,
                  force: bool, today: date) -> tuple[dict, Outbox]:
    values = S.get_all(conn)
    org_name, org_email = ical.organiser_of(values)
    row = MT.find_meeting(conn, ref, today)
    meeting = MT.objects(conn, [row])[0]
    if row["date"] < today.isoformat() and not force:
        raise TanetError(f"Meeting #{row['id']} was on {row['date']}, in the past. "
                         "Add --force if you really mean to send invitations for it.")
    if meeting["status"] == "scheduled" and not meeting["location"] and not meeting["url"]:
        raise TanetError(f"Meeting #{row['id']} has neither a place nor a link. Add one with: "
                         f"tanet meeting edit {row['id']} --location '...' or --url https://...")
    people = invitees(conn, row, areas)
    if not people:
        raise TanetError("Nobody to invite: no active member with an e-mail address"
                         + (" in those service areas." if areas else ". Add members first."))
    sessions = MT.list_sessions(conn, row["id"])
    folder = folder or Path("invites") / f"{meeting['date']}-{ical.slug(meeting['title'])}"
    # The folder appears whole, owner-only, holding exactly this run's messages.
    with NewFolder(folder, owned=lambda name: name.endswith((".eml", ".ics")), what="invitations") as out:
        box = Outbox(folder, "")
        if single:
            pairs = [(p["name"], p["email"]) for p in people]
            method, ics = ical.invitation(meeting, sessions, values, pairs)
            msg = ical.message(meeting=meeting, sessions=sessions, values=values, method=method, ics=ics,
                               to=[(org_name, org_email)], bcc=pairs)
            box.files.append((out.write("invite-all.eml", _bytes(msg)), [e for _, e in pairs]))
            out.write("invite.ics", ics)
            box.method = method
        else:
            for p in people:
                method, ics = ical.invitation(meeting, sessions, values, [(p["name"], p["email"])])
                msg = ical.message(meeting=meeting, sessions=sessions, values=values, method=method, ics=ics,
                                   to=[(p["name"], p["email"])])
                box.files.append((out.write(f"{p['id']:05d}-{ical.slug(p['name'])}.eml", _bytes(msg)),
                                  [p["email"]]))
                box.method = method
        out.commit()
    return meeting, box


def _bytes(msg) -> bytes:
    from email import policy

    try:
        return msg.as_bytes(policy=policy.SMTP)
    except (ValueError, UnicodeError) as e:
        raise TanetError(f"A message could not be written ({e}). Check the names and e-mail addresses "
                         "with: tanet member list; nothing was written.") from None


def send(box: Outbox, values: dict) -> tuple[int, list[str]]:
    """Deliver every file over SMTP; one failure is reported and the rest still go."""
    import smtplib
    from email import message_from_bytes, policy

    host = values.get("smtp.host")
    if not host:
        raise TanetError(f"No mail server is set, so nothing was sent (the invitations are in {box.folder}). "
                         "Set one with: tanet config set smtp.host smtp.example.org")
    port = int(values.get("smtp.port") or 587)
    user = values.get("smtp.user") or ""
    password = os.environ.get("TANET_SMTP_PASSWORD", "")
    if user and not password:
        raise TanetError("Set the mail password in the environment variable TANET_SMTP_PASSWORD (it is never stored). "
                         f"The invitations are in {box.folder}.")
    try:
        server = smtplib.SMTP(host, port, timeout=30)
    except (OSError, smtplib.SMTPException) as e:
        raise TanetError(f"Cannot reach the mail server {host}:{port} ({e}). The invitations are in {box.folder}.") from None
    failures, sent = [], 0
    try:
        server.ehlo()
        if values.get("smtp.starttls", "true") == "true":
            try:
                server.starttls()
                server.ehlo()
            except smtplib.SMTPException as e:
                raise TanetError(f"The mail server {host} would not start a secure connection ({e}). "
                                 "If it does not offer STARTTLS: tanet config set smtp.starttls false") from None
        if user:
            try:
                server.login(user, password)
            except smtplib.SMTPException as e:
                raise TanetError(f"The mail server refused the login for {user} ({_smtp_reason(e)}). "
                                 f"Check smtp.user and TANET_SMTP_PASSWORD. The invitations are in {box.folder}.") from None
        for path, recipients in box.files:
            msg = message_from_bytes(path.read_bytes(), policy=policy.SMTP)
            try:
                refused = server.send_message(msg, to_addrs=recipients)
                for addr, (code, reason) in (refused or {}).items():
                    failures.append(f"{addr}: refused ({code} {reason.decode(errors='replace')})")
                sent += len(recipients) - len(refused or {})
            except smtplib.SMTPRecipientsRefused as e:
                for addr, (code, reason) in e.recipients.items():
                    failures.append(f"{addr}: refused ({code} {reason.decode(errors='replace')})")
            except smtplib.SMTPException as e:
                failures.append(f"{', '.join(recipients)[:80]}: {_smtp_reason(e)}")
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            pass
    return sent, failures


def _smtp_reason(e: Exception) -> str:
    code = getattr(e, "smtp_code", None)
    err = getattr(e, "smtp_error", b"")
    if isinstance(err, bytes):
        err = err.decode(errors="replace")
    return f"{code} {err}".strip() if code else str(e)
