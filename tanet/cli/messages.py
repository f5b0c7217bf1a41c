"""Messages to members: invitations, reminders, thanks, and the outbox that records them."""

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from tanet.cli.common import Format, FormatOpt, MeetingArg, connection, new_app, today
from tanet.cli.sending import again_command, unknown_outcome, write_then_send
from tanet.output import render

invite_app = new_app("Write (and send) the invitation for one meeting.", name="invite")
remind_app = new_app("Write (and send) a reminder of a meeting.", name="remind")
thanks_app = new_app("Write (and send) thanks after a meeting.", name="thanks")
outbox_app = new_app("What tanet has written and sent to members.", name="outbox")

Send = Annotated[bool, typer.Option("--send", help="Send them now over SMTP (see tanet config show).")]
Resend = Annotated[bool, typer.Option("--resend", help="With --send: send again to members already sent this version.")]
Only = Annotated[Optional[List[str]], typer.Option("--only", metavar="ADDRESS", help=(
        "With --send: send only to this member (their e-mail address; repeat for more), "
        "e.g. with --resend for one message that may not have arrived."
    ))]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", metavar="DIR", help="Folder for the messages.")]


@invite_app.command("invite")
def invite(
    meeting: MeetingArg,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="DIR", help=(
            "Folder for the messages (default: ./invites/DATE-TITLE/)."
        ))] = None,
    area: Annotated[Optional[List[str]], typer.Option("--area", help="Only members of this service area (repeat for more).")] = None,
    single: Annotated[bool, typer.Option("--single", help="One message to yourself with everyone in Bcc.")] = False,
    send: Send = False, resend: Resend = False, only: Only = None,
    force: Annotated[bool, typer.Option("--force", help="Allow a meeting in the past.")] = False,
) -> None:
    """Write the invitation (or update, or cancellation) for one meeting, one .eml per member."""
    from tanet.mail.invites import write_invites

    conn = connection()
    if single:
        render.note("Warning: --single writes one message with every address in Bcc. Its calendar names no "
                    "member, so members add it to their calendars but cannot accept or decline with its buttons.")
    command = "invite --single" if single else "invite"
    write_then_send(conn, lambda: write_invites(conn, meeting, folder=output, areas=area or [], single=single,
                                                force=force, today=today())[1],
                    send=send, what="invite --send", resend=resend, only=only, single=single,
                    again=lambda written: again_command(command, written))
    if not send:
        render.say("Open them in your e-mail program to send (each opens as a draft), or use --send.")


@remind_app.command("remind")
def remind(meeting: MeetingArg, output: Output = None, send: Send = False, resend: Resend = False,
           only: Only = None) -> None:
    """Remind everyone invited who has not declined or sent apologies (default folder: ./reminders/)."""
    from tanet.mail.notices import write_reminders

    _notices(write_reminders, "remind", meeting, output, send, resend, only)


@thanks_app.command("thanks")
def thanks(meeting: MeetingArg, output: Output = None, send: Send = False, resend: Resend = False,
           only: Only = None) -> None:
    """Thank everyone who came, with the sessions, resources and feedback form (default folder: ./thanks/)."""
    from tanet.mail.notices import write_thanks

    _notices(write_thanks, "thanks", meeting, output, send, resend, only)


def _notices(write, command: str, meeting: str, output: Optional[Path], send: bool, resend: bool,
             only: Optional[List[str]]) -> None:
    """Write a meeting's reminders or thanks in one transaction, then send them if asked."""
    conn = connection()
    write_then_send(conn, lambda: write(conn, meeting, output, today())[1], send=send, what=f"{command} --send",
                    resend=resend, only=only, again=lambda written: again_command(command, written))


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
    from tanet.mail import outbox
    from tanet.meetings import schedule

    conn = connection()
    meeting_id = schedule.find_meeting(conn, meeting, today(), allow_cancelled=True)["id"] if meeting else None
    rows = outbox.list_rows(conn, meeting_id, unsent)
    shown = [{**r, "state": _state_text(r)} for r in rows]
    render.emit(shown, fmt.value, [("id", "Id"), ("meeting_id", "Meeting"), ("email", "To"), ("kind", "Kind"),
                                   ("sequence", "Version", 1), ("written_at", "Written", 2), ("state", "State")],
                json_data=rows, csv_columns=[*outbox.OUTBOX_KEYS, "state"], title=lambda n: f"Outbox ({n})",
                empty=("Nothing waiting: everything written has been sent." if unsent and outbox.list_rows(conn, meeting_id, False)
                       else "Nothing written yet. Invitations go with: tanet invite MEETING"))
    unsure = [r for r in rows if r["state"] == "uncertain"]
    if unsure and fmt == Format.table:
        render.note(f"{render.count(len(unsure), 'message')} may or may not have arrived: the line dropped (or tanet "
                    "was stopped) after it went. tanet never sends these again by itself. Ask the member, or send "
                    "it again with the same command and --resend --only ADDRESS.")


def _state_text(row: dict) -> str:
    if row["state"] == "failed":
        return f"failed: {row['error']}"
    if row["state"] == "uncertain":
        return f"uncertain: {unknown_outcome(row['error'])} Send again: --resend --only {row['email']}"
    return row["state"]
