"""Composing e-mail: headers, bodies, MIME parts and the names of the files they go in.

Every message tanet writes is built here: invitations, updates and cancellations (with
their calendar from tanet.meetings.ical), reminders, thanks, withdrawals and the
summary. The texts a meeting is described by (its agenda, when it is in words) are
written here too, once, for the e-mails and for the DESCRIPTION of its calendar.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from datetime import date, datetime, timezone

from tanet import dates
from tanet.errors import TanetError
from tanet.meetings import ical
from tanet.text import flattened

# Each of tanet.meetings.agenda.SESSION_KINDS as a message names it.
SESSION_NAMES = {"spotlight": "Spotlight", "reflective": "Reflective practice", "training": "Training",
                 "guest": "Guest speaker"}


# Words about a meeting ----------------------------------------------------------------

def session_line(session: dict) -> str:
    """`Training: Safeguarding update - Ann Lee`: one agenda item in words."""
    who = ""
    if session.get("guest"):
        who = f" - {session['guest']}" + (f" ({session['guest_org']})" if session.get("guest_org") else "")
    elif session.get("presenter"):
        who = f" - {session['presenter']}"
    return f"{SESSION_NAMES[session['kind']]}: {session['title']}{who}"


def agenda_text(meeting: dict, sessions: list[dict]) -> str:
    """The text of a meeting's calendar entry: its agenda, the link and the place."""
    lines = []
    if sessions:
        lines.append("Agenda:")
        lines += [f"- {session_line(s)}" for s in sessions]
        lines.append("")
    if meeting.get("facilitated_by") and meeting.get("status") != "cancelled":
        lines += [facilitated_by(meeting["facilitated_by"]), ""]
    if meeting.get("url"):
        lines.append(f"Join online: {meeting['url']}")
    if meeting.get("location"):
        lines.append(f"Place: {meeting['location']}")
    return "\n".join(lines).strip()


def facilitated_by(names: list[str]) -> str:
    return "Facilitated by " + " and ".join(names) + "."


def when_in_words(meeting: dict) -> str:
    day = date.fromisoformat(meeting["date"])
    zone = "UK time" if meeting["timezone"] in ("Europe/London", "GB", "Europe/Belfast") else meeting["timezone"]
    return f"{dates.in_words(day)}, {meeting['start']}–{meeting['end']} {zone}"


def greeting(known_as: str | None) -> str:
    return f"Dear {known_as}," if known_as else "Hello,"


def meeting_lines(meeting: dict, sessions: list[dict]) -> list[str]:
    """What, when, where, the link and the agenda, as the text of a message gives them."""
    lines = [f"What:  {meeting['title']}", f"When:  {when_in_words(meeting)}"]
    if meeting.get("location"):
        lines.append(f"Where: {meeting['location']}")
    if meeting.get("url"):
        lines.append(f"Join online: {meeting['url']}")
    if sessions:
        lines += ["", "Agenda:"] + [f"  - {session_line(s)}" for s in sessions]
    return lines


def what_changed(before: dict | None, meeting: dict) -> list[str]:
    """`Date: Tuesday 9 March 2027 -> Wednesday 10 March 2027`, for what differs from the
    version a member was last sent."""
    if not before:
        return []
    out = []
    if before.get("date") != meeting["date"]:
        out.append(f"Date: {dates.in_words(date.fromisoformat(before['date']))} -> "
                   f"{dates.in_words(date.fromisoformat(meeting['date']))}")
    if (before.get("start"), before.get("end")) != (meeting["start"], meeting["end"]):
        out.append(f"Time: {before.get('start')}–{before.get('end')} -> {meeting['start']}–{meeting['end']}")
    for key, label in (("location", "Place"), ("url", "Link"), ("title", "Title"), ("organiser", "Organiser")):
        if key == "organiser" and key not in before:
            continue
        if (before.get(key) or None) != (meeting.get(key) or None):
            out.append(f"{label}: {before.get(key) or '(none)'} -> {meeting.get(key) or '(none)'}")
    return out


def body_text(meeting: dict, sessions: list[dict], values: dict, greet: str | None,
              changes: list[str] = (), single: bool = False, first: bool | None = None) -> str:
    """The plain-text part: an invitation, an update saying what changed, or a
    cancellation giving the reason."""
    network = values["network"]
    hello = "Dear colleagues," if single else greeting(greet)
    if meeting["status"] == "cancelled":
        lines = [hello, "", f"The {network} meeting on {when_in_words(meeting)} is cancelled."]
        if meeting.get("cancel_reason"):
            lines += ["", f"Why: {meeting['cancel_reason']}"]
        lines += ["", "Your calendar will remove it when you open the attached update.", "",
                  values.get("organiser.name") or network]
        return "\n".join(lines) + "\n"
    if changes:
        intro = ["The meeting below has changed:"] + [f"  {c}" for c in changes] + [
            "The attached invitation updates your calendar."]
    elif not (first if first is not None else meeting["sequence"] == 0):
        intro = ["The details of the meeting below have been updated; the attached invitation updates "
                 "your calendar."]
    else:
        intro = [f"You are invited to the next {network} meeting."]
    lines = [hello, ""] + intro + [""] + meeting_lines(meeting, sessions)
    if meeting.get("facilitated_by"):  # as reminders name them
        lines += ["", facilitated_by(meeting["facilitated_by"])]
    organiser_name, organiser_email = values.get("organiser.name"), values.get("organiser.email")
    answer = ("add it to your calendar with the attached file" if single else
              "please accept or decline with your calendar's buttons")
    lines += ["", f"To reply, {answer}. If you cannot come, reply to {organiser_email} to send your apologies.",
              "", organiser_name or network]
    return "\n".join(lines) + "\n"


# Names of files ------------------------------------------------------------------------

def slug(text: str) -> str:
    if not text.isascii():  # (ASCII is its own NFKD form)
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")  # accents dropped
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "meeting"


def folder_name(meeting: dict) -> str:
    """A meeting's own folder name: its date, time and title for a person to recognise,
    and its id, so that no other meeting (same day, a title that slugs alike, or both
    with the default title) ever shares it, and re-runs of this meeting find it again."""
    return f"{meeting['date']}-{meeting['start'].replace(':', '')}-{slug(meeting['title'])}-{meeting['id']}"


def member_file_name(member: dict) -> str:
    """`00042-ann-lee.eml`: one member's message in a folder of many."""
    return file_name(member["id"], member["name"])


def file_name(member_id: int, name: str) -> str:
    """member_file_name of a member's id and name."""
    return f"{member_id:05d}-{slug(name)}.eml"


# Calendars with their texts ------------------------------------------------------------

def calendar_feed(conn: sqlite3.Connection, meetings: list[dict], values: dict) -> bytes:
    """One METHOD:PUBLISH calendar of these meetings, each with its agenda."""
    from tanet.meetings.agenda import list_sessions

    return ical.publish(meetings, [agenda_text(m, list_sessions(conn, m["id"])) for m in meetings], values)


def invitation(meeting: dict, sessions: list[dict], values: dict, people: list[tuple[str, str]],
               stamp: datetime | None = None) -> tuple[str, bytes]:
    """The meeting's calendar for these attendees (see ical.invitation), with its agenda."""
    return ical.invitation(meeting, agenda_text(meeting, sessions), values, people, stamp)


def withdrawal(meeting: dict, values: dict, name: str, email: str, sequence: int) -> bytes:
    """The calendar that takes one attendee off a meeting that goes ahead (ical.withdrawal)."""
    return ical.withdrawal(meeting, agenda_text(meeting, []), values, name, email, sequence)


# Messages ------------------------------------------------------------------------------

def envelope(values: dict, to: list[tuple[str | None, str]], subject: str, bcc: list[tuple[str, str]] = (),
             message_id: str | None = None):
    """A message with every header tanet writes and no body yet: From the organiser,
    marked `X-Unsent: 1` so that Outlook opens the file as a draft."""
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    def addresses(pairs):
        return [Address(display_name=flattened(n or ""), addr_spec=e) for n, e in pairs]

    org_name, org_email = ical.organiser_of(values)
    msg = EmailMessage()
    msg.set_raw("Subject", folded_subject(flattened(subject)))
    msg["From"] = addresses([(org_name, org_email)])
    msg["To"] = addresses(to)
    if bcc:
        # Bare addresses: long Bcc lists with encoded names fold badly, swallowing an
        # address into the name before it; the names are of no use to anyone here.
        msg["Bcc"] = ", ".join(e for _, e in bcc)
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = message_id or make_msgid(domain=org_email.split("@")[-1])
    msg["X-Unsent"] = "1"
    return msg


def folded_subject(subject: str) -> str:
    """The Subject folded as the email package folds it, less the space it leaves at the end of a
    line before an encoded word: unfolded, that space and the next line's made two ("2027,  15:45")."""
    import re
    from email import policy

    folded = policy.SMTP.fold("Subject", policy.SMTP.header_factory("Subject", subject))
    folded = re.sub(r"[ \t]+\r\n", "\r\n", folded)
    if folded.startswith("Subject:\r\n "):  # moved whole to a line of its own: start it on the first
        value = folded[len("Subject:\r\n "):].rstrip("\r\n")
        cut = value.split("\r\n", 1)[0].rfind(" ", 0, 78 - len("Subject: "))
        return value[:cut] + "\r\n" + value[cut:] if cut > 0 else value
    return folded[len("Subject: "):].rstrip("\r\n")


def meeting_subject(meeting: dict, first: bool | None = None) -> str:
    first = first if first is not None else meeting["sequence"] == 0
    prefix = ("Cancelled" if meeting["status"] == "cancelled" else "Invitation" if first else "Updated")
    return f"{prefix}: {meeting['title']}, {when_in_words(meeting)}"


def message(*, meeting: dict, sessions: list[dict], values: dict, method: str, ics: bytes | None,
            to: list[tuple[str, str]], bcc: list[tuple[str, str]] = (), greet: str | None = None,
            changes: list[str] = (), subject: str | None = None, text: str | None = None,
            message_id: str | None = None, first: bool | None = None):
    """A message about a meeting, ready to send: multipart/mixed(alternative(text/plain,
    text/calendar), .ics attachment), or plain text alone when there is no calendar
    (reminders, thanks)."""
    msg = envelope(values, to, subject if subject is not None else meeting_subject(meeting, first), bcc, message_id)
    # Quoted-printable: readable in the file, safe through any mail server, and the same
    # for every member but the greeting line (see tanet.mail.letters).
    msg.set_content(text if text is not None else
                    body_text(meeting, sessions, values, greet, changes, single=bool(bcc), first=first),
                    cte="quoted-printable")
    if ics is None:
        return msg
    # Added as bytes so the calendar keeps its CRLF line ends exactly.
    msg.add_alternative(ics, maintype="text", subtype="calendar", cte="base64",
                        params={"charset": "UTF-8", "method": method})
    msg.make_mixed()
    msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    return msg


def summary_message(values: dict, address: str, title: str, text: str, html: str):
    """The summary for one address: its Markdown text with the HTML as the alternative."""
    msg = envelope(values, [(None, address)], title)
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg


def message_bytes(msg) -> bytes:
    """A message as it goes into a file and over SMTP (CRLF line ends)."""
    from email import policy

    try:
        return msg.as_bytes(policy=policy.SMTP)
    except (ValueError, UnicodeError) as e:
        raise TanetError(f"A message could not be written ({e}). Check the names and e-mail addresses "
                         "with: tanet member list; nothing was written.") from None
