"""Messages to members: invitations, reminders, thanks, and the outbox that records them."""

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from tanet.output import render
from tanet.cli.common import FormatOpt, Format, MeetingArg, connection, new_app, today
from tanet.store.db import transaction
from tanet.errors import TanetError

invite_app = new_app("Write (and send) the invitation for one meeting.", name="invite")
remind_app = new_app("Write (and send) a reminder of a meeting.", name="remind")
thanks_app = new_app("Write (and send) thanks after a meeting.", name="thanks")
outbox_app = new_app("What tanet has written and sent to members.", name="outbox")

Send = Annotated[bool, typer.Option("--send", help="Send them now over SMTP (see tanet config show).")]
Resend = Annotated[bool, typer.Option("--resend", help="With --send: send again to members already sent this version.")]
Only = Annotated[Optional[List[str]], typer.Option("--only", metavar="ADDRESS", help="With --send: send only to this member (their e-mail address; repeat for more), e.g. with --resend for one message that may not have arrived.")]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", metavar="DIR", help="Folder for the messages.")]

NAMES = {"invitation": "invitation", "update": "update", "cancellation": "cancellation",
         "reminder": "reminder", "thanks": "thank-you message", "summary": "summary"}


def _say_written(written, single: bool = False) -> None:
    counts = [render.count(written.count(kind), NAMES[kind]) for kind in NAMES if written.count(kind)]
    method = f" ({written.method})" if written.method else ""
    if single:
        render.say(f"Wrote 1 message{method} for {render.count(sum(written.recipients.values()), 'member')} "
                   f"to {written.folder}: {', '.join(counts)}.")
    else:
        each = "recipient" if set(written.recipients) == {"summary"} else "member"
        render.say(f"Wrote {' and '.join(counts)}{method}, one per {each}, to {written.folder}.")


def sending(send: bool, what: str, only: Optional[List[str]] = None):
    """Hold the one sender lock of the database while a command that sends runs, from before
    it chooses what to send to its last message (nothing to hold when it only writes)."""
    from contextlib import nullcontext

    if only and not send:
        raise TanetError("--only says whom to send to, so it needs --send; nothing was written or sent.")
    if not send:
        return nullcontext()
    from tanet.cli.common import db_path
    from tanet.store.sendlock import sender_lock

    connection()  # a missing file is refused before a lock file is made beside it
    return sender_lock(db_path(), what)


def _send(conn, written, resend: bool, who: str = "member", only: Optional[List[str]] = None,
          again: str = "the same command with --resend --only ADDRESS") -> None:
    """Send what this run wrote and has not gone yet; each outcome is saved as it comes."""
    from tanet.mail import outbox
    from tanet.store import settings

    plan = outbox.to_send(conn, written.row_ids, resend, _addresses(only, conn, written) if only else None)
    if plan.already_sent:
        render.say(f"{render.count(len(plan.already_sent), who)} already had this message; not sent again "
                   "(add --resend to send it anyway).")
    for row in plan.uncertain:
        render.note(f"Not known: {row['email']}: {_unknown(row['error'])} {_again(again, row['email'])}")
    values = settings.get_all(conn)
    tally = outbox.Tally(len(plan.rows))
    if plan.rows:
        _estimate(len({r["file"] for r in plan.rows}), int(values["smtp.per_minute"]))
        with _progress_bar(len({r["file"] for r in plan.rows})) as progress:
            try:
                outbox.deliver(conn, plan.rows, values, progress, tally)
            except KeyboardInterrupt:
                progress.stop()
                _say_stopped(tally, who)
                raise typer.Exit(130) from None
        render.say(f"Sent {render.count(tally.sent, who[1:])}." if who.startswith("=") else
                   f"Sent to {render.count(tally.sent, who)}.")
    _say_problems(tally, plan.uncertain, again)


def _addresses(only: List[str], conn, written) -> list[str]:
    """The --only addresses, each one this run has a message for."""
    from tanet.store.settings import valid_email

    have = {r["email"].lower() for r in conn.execute(
        f"SELECT email FROM outbox WHERE id IN ({','.join('?' * len(written.row_ids))})", written.row_ids)}
    wanted = [valid_email(a) for value in only for a in value.replace(";", ",").split(",") if a.strip()]
    for address in wanted:
        if address.lower() not in have:
            raise TanetError(f"{address} has no message in this run, so nothing was sent. "
                             "See who has with: tanet outbox list MEETING")
    return wanted


def _unknown(error: Optional[str]) -> str:
    why = error or "tanet was stopped while the message was going"
    return f"{why}; it may have arrived, so it is not sent again by itself."


def _again(again: str, address: str) -> str:
    return f"Ask them, or send it again with: {again.replace('ADDRESS', address)}"


def _estimate(messages: int, per_minute: int) -> None:
    """How long the throttle makes this run take, when it makes any difference."""
    import math

    if messages > per_minute:
        render.say(f"{messages} messages at {per_minute} a minute: about {math.ceil(messages / per_minute)} minutes.")


class _progress_bar:
    """A progress bar on a terminal that moves with each message and says when it waits for
    the limit a minute; on anything else, nothing."""

    def __init__(self, messages: int):
        self.bar = None
        if sys.stderr.isatty() and messages > 3:
            from rich.progress import Progress

            self.bar = Progress(console=render.console(stderr=True), transient=True)
            self.task = self.bar.add_task("Sending", total=messages)

    def __enter__(self):
        if self.bar:
            self.bar.start()
        return self

    def __call__(self, done: Optional[int], total: int, waiting: float) -> None:
        if not self.bar:
            return
        label = f"Waiting {int(waiting)} s (limit a minute)" if waiting else "Sending"
        if done is None:
            self.bar.update(self.task, description=label)
        else:
            self.bar.update(self.task, completed=done, description=label)

    def stop(self) -> None:
        if self.bar:
            self.bar.stop()

    def __exit__(self, *exc):
        self.stop()


def _say_stopped(tally, who: str) -> None:
    """What went before Ctrl-C, exactly."""
    text = f"Stopped after sending {tally.sent} of {tally.total}; the same command sends the rest."
    if tally.in_flight:
        text += (f" The message to {', '.join(tally.in_flight)} was going as you stopped: it may have arrived, "
                 "so it is not sent again by itself (see: tanet outbox list --unsent).")
    sys.stderr.write("\n" + text + "\n")


def _say_problems(tally, earlier_uncertain, again: str) -> None:
    """Each message not known to have gone, one line each, then one error line when any."""
    for f in tally.failures:
        render.note(f"Not sent: {f}")
    for address, why in tally.uncertain:
        render.note(f"Not known: {address}: {_unknown(why)} {_again(again, address)}")
    if tally.stopped:
        render.note(f"Stopped: {tally.stopped}")
    problems = []
    if tally.failures:
        problems.append(f"{render.count(len(tally.failures), 'message')} could not be sent")
    unsure = len(tally.uncertain) + len(earlier_uncertain)
    if unsure:
        problems.append(f"{render.count(unsure, 'message')} may or may not have arrived")
    if tally.not_tried:
        problems.append(f"{render.count(tally.not_tried, 'message')} not tried")
    if problems:
        went = f"{tally.sent} went this time" if tally.sent else "none went this time"
        hint = " Run the same command again to send those not sent." if tally.failures or tally.not_tried else ""
        if unsure:
            hint += " One that may have arrived goes again only with --resend --only ADDRESS."
        raise TanetError(f"{', '.join(problems)} (listed above); {went}.{hint}")


@invite_app.command("invite")
def invite(
    meeting: MeetingArg,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="DIR", help="Folder for the messages (default: ./invites/DATE-TITLE/).")] = None,
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
    with sending(send, "invite --send", only):
        with transaction(conn):
            row, written = write_invites(conn, meeting, folder=output, areas=area or [], single=single, force=force,
                                         today=today())
        _say_written(written, single)
        if send:
            _send(conn, written, resend, only=only, again=_again_command("invite --single" if single else "invite", row, written))
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
    with sending(send, f"{command} --send", only):
        with transaction(conn):
            row, written = write(conn, meeting, output, today())
        _say_written(written)
        if send:
            _send(conn, written, resend, only=only, again=_again_command(command, row, written))


def _again_command(command: str, meeting: dict, written) -> str:
    """The command that sends one message again, to ADDRESS, from the same folder."""
    import shlex

    return f"tanet {command} {meeting['id']} -o {shlex.quote(str(written.folder))} --send --resend --only ADDRESS"


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
    from tanet.meetings import schedule
    from tanet.mail import outbox

    conn = connection()
    meeting_id = schedule.find_meeting(conn, meeting, today(), allow_cancelled=True)["id"] if meeting else None
    rows = outbox.list_rows(conn, meeting_id, unsent)
    shown = [{**r, "state": _state_text(r)} for r in rows]
    render.emit(shown, fmt.value, [("id", "Id"), ("meeting_id", "Meeting"), ("email", "To"), ("kind", "Kind"),
                                   ("sequence", "Version"), ("written_at", "Written", 2), ("state", "Sent")],
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
        return f"uncertain: {_unknown(row['error'])} Send again: --resend --only {row['email']}"
    return row["state"]
