"""Messages to members: invitations, reminders, thanks, and the outbox that records them."""

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from tanet import render
from tanet.cli.common import FormatOpt, Format, MeetingArg, connection, new_app, today
from tanet.db import transaction
from tanet.errors import TanetError

invite_app = new_app("Write (and send) the invitation for one meeting.", name="invite")
remind_app = new_app("Write (and send) a reminder of a meeting.", name="remind")
thanks_app = new_app("Write (and send) thanks after a meeting.", name="thanks")
outbox_app = new_app("What tanet has written and sent to members.", name="outbox")

Send = Annotated[bool, typer.Option("--send", help="Send them now over SMTP (see tanet config show).")]
Resend = Annotated[bool, typer.Option("--resend", help="With --send: send again to members already sent this version.")]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", metavar="DIR", help="Folder for the messages.")]

NAMES = {"invitation": "invitation", "update": "update", "cancellation": "cancellation",
         "reminder": "reminder", "thanks": "thank-you message", "summary": "summary"}


def _say_written(written, single: bool = False) -> None:
    counts = [render.count(written.count(kind), NAMES[kind]) for kind in NAMES if written.count(kind)]
    method = f" ({written.method})" if written.method else ""
    if single:
        render.say(f"Wrote 1 message{method} for {render.count(len(written.letters[0].recipients), 'member')} "
                   f"to {written.folder}: {', '.join(counts)}.")
    else:
        render.say(f"Wrote {' and '.join(counts)}{method}, one per member, to {written.folder}.")


def _send(conn, written, resend: bool, who: str = "member") -> None:
    """Send what this run wrote and has not gone yet; each outcome is saved as it comes."""
    from tanet import outbox
    from tanet import settings as S

    rows = outbox.to_send(conn, written.row_ids, resend)
    already = len(written.row_ids) - len(rows)
    if already:
        render.say(f"{render.count(already, who)} already had this message; not sent again "
                   "(add --resend to send it anyway).")
    if not rows:
        return
    progress, bar = None, None
    if sys.stderr.isatty() and len(rows) > 3:
        from rich.progress import Progress

        bar = Progress(console=render.console(stderr=True), transient=True)
        task = bar.add_task("Sending", total=len({r["file"] for r in rows}))
        bar.start()
        progress = lambda i, n: bar.update(task, completed=i)  # noqa: E731
    try:
        sent, failures = outbox.deliver(conn, rows, S.get_all(conn), progress)
    finally:
        if bar:
            bar.stop()
    render.say(f"Sent to {render.count(sent, who)}.")
    for f in failures:
        render.note(f"Not sent: {f}")
    if failures:
        raise TanetError(f"{render.count(len(failures), 'message')} could not be sent (listed above); "
                         f"the rest went. Run the same command again to try those again.")


@invite_app.command("invite")
def invite(
    meeting: MeetingArg,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="DIR", help="Folder for the messages (default: ./invites/DATE-TITLE/).")] = None,
    area: Annotated[Optional[List[str]], typer.Option("--area", help="Only members of this service area (repeat for more).")] = None,
    single: Annotated[bool, typer.Option("--single", help="One message to yourself with everyone in Bcc.")] = False,
    send: Send = False, resend: Resend = False,
    force: Annotated[bool, typer.Option("--force", help="Allow a meeting in the past.")] = False,
) -> None:
    """Write the invitation (or update, or cancellation) for one meeting, one .eml per member."""
    from tanet.invites import write_invites

    conn = connection()
    if single:
        render.note("Warning: --single writes one message with every address in Bcc. Its calendar names no "
                    "member, so members add it to their calendars but cannot accept or decline with its buttons.")
    with transaction(conn):
        _, written = write_invites(conn, meeting, folder=output, areas=area or [], single=single, force=force,
                                   today=today())
    _say_written(written, single)
    if send:
        _send(conn, written, resend)
    else:
        render.say("Open them in your e-mail program to send (each opens as a draft), or use --send.")


@remind_app.command("remind")
def remind(meeting: MeetingArg, output: Output = None, send: Send = False, resend: Resend = False) -> None:
    """Remind everyone invited who has not declined or sent apologies (default folder: ./reminders/)."""
    from tanet.notices import write_reminders

    _notices(write_reminders, meeting, output, send, resend)


@thanks_app.command("thanks")
def thanks(meeting: MeetingArg, output: Output = None, send: Send = False, resend: Resend = False) -> None:
    """Thank everyone who came, with the sessions, resources and feedback form (default folder: ./thanks/)."""
    from tanet.notices import write_thanks

    _notices(write_thanks, meeting, output, send, resend)


def _notices(write, meeting: str, output: Optional[Path], send: bool, resend: bool) -> None:
    """Write a meeting's reminders or thanks in one transaction, then send them if asked."""
    conn = connection()
    with transaction(conn):
        _, written = write(conn, meeting, output, today())
    _say_written(written)
    if send:
        _send(conn, written, resend)


@outbox_app.callback()
def outbox_group() -> None:
    """What tanet has written and sent to members, one row per recipient."""


@outbox_app.command("list")
def outbox_list(
    meeting: Annotated[Optional[str], typer.Argument(metavar="MEETING", help="Only this meeting (id, date, next or last).")] = None,
    unsent: Annotated[bool, typer.Option("--unsent", help="Only messages not sent yet.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Every message written or sent, one row per recipient."""
    from tanet import meetings as MT
    from tanet import outbox

    conn = connection()
    meeting_id = MT.find_meeting(conn, meeting, today(), allow_cancelled=True)["id"] if meeting else None
    rows = outbox.list_rows(conn, meeting_id, unsent)
    for r in rows:
        r["state"] = "sent" if r["sent_at"] else ("failed: " + r["error"]) if r["error"] else "written"
    render.emit(rows, fmt.value, [("id", "Id"), ("meeting_id", "Meeting"), ("email", "To"), ("kind", "Kind"),
                                  ("sequence", "Version"), ("written_at", "Written", 2), ("state", "Sent")],
                json_data=[{k: r[k] for k in outbox.OUTBOX_KEYS} for r in rows],
                csv_columns=list(outbox.OUTBOX_KEYS), title=lambda n: f"Outbox ({n})",
                empty="Nothing written yet. Invitations go with: tanet invite MEETING")
