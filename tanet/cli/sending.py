"""Write, then send: what every command that writes messages to members says and does.

A command writes its messages (one transaction, recorded in the outbox), says what it
wrote, and with --send sends them under the database's one sender lock, each outcome
saved as it comes. write_then_send is that whole path; its parts are public for a
command that writes several batches (organiser change) or sends what another wrote.
"""

import sys
from typing import TYPE_CHECKING, Callable, List, Optional

import typer

from tanet.cli.common import connection
from tanet.errors import TanetError
from tanet.output import render
from tanet.store.db import transaction

if TYPE_CHECKING:  # for the annotations only: the outbox is imported when something is sent
    from tanet.mail import outbox

NAMES = {"invitation": ("invitation",), "update": ("update",), "cancellation": ("cancellation",),
         "reminder": ("reminder",), "thanks": ("thank-you message",), "summary": ("summary", "summaries")}


def say_written(written, single: bool = False) -> None:
    counts = [render.count(written.count(kind), *NAMES[kind]) for kind in NAMES if written.count(kind)]
    method = f" ({written.method})" if written.method else ""
    if single:
        render.say(f"Wrote 1 message{method} for {render.count(sum(written.recipients.values()), 'member')} "
                   f"to {written.folder}: {', '.join(counts)}.")
    else:
        # The readers of a summary are whoever was named (managers, a committee), not members.
        each = "address" if set(written.recipients) == {"summary"} else "member"
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


def send_written(conn, written, resend: bool, who: str = "member", only: Optional[List[str]] = None,
          again: str = "the same command with --resend --only ADDRESS") -> None:
    """Send what this run wrote and has not gone yet; each outcome is saved as it comes.
    `again` is the command that sends one message again, ADDRESS standing for its address."""
    from tanet.mail import outbox_send
    from tanet.store import settings

    plan = outbox_send.to_send(conn, written.row_ids, resend, _addresses(only, conn, written) if only else None)
    if only:
        render.say(f"Only {', '.join(only)} {'is' if len(only) == 1 else 'are'} sent (--only); "
                   "the rest stay written, unsent.")
    if plan.already_sent:
        render.say(f"{render.count(len(plan.already_sent), who.lstrip('='))} already had this message; not sent again "
                   "(add --resend to send it anyway).")
    for row in plan.uncertain:
        render.note(f"Not known: {row['email']}: {unknown_outcome(row['error'])} {_again(again, row['email'])}")
    values = settings.get_all(conn)
    tally = outbox_send.Tally(len(plan.rows))
    if plan.rows:
        from tanet.mail.smtp import check_settings

        check_settings(values)  # refused before any estimate of how long sending takes
        _estimate(len({r["file"] for r in plan.rows}), int(values["smtp.per_minute"]))
        with _progress_bar(len({r["file"] for r in plan.rows})) as progress:
            try:
                outbox_send.send_rows(conn, plan.rows, values, progress, tally)
            except KeyboardInterrupt:
                progress.stop()
                _say_stopped(tally, who)
                raise typer.Exit(130) from None
        own = outbox_send.own_copies_sent(conn, plan.rows) if who == "member" else 0  # --single: the organiser's copy
        render.say(f"Sent {render.count(tally.sent, who[1:])}." if who.startswith("=") else
                   f"Sent to {render.count(tally.sent - own, who)}{', and your own copy' if own else ''}.")
    _say_problems(tally, plan.uncertain, again)


def _addresses(only: List[str], conn, written) -> list[str]:
    """The --only addresses, each one this run has a message for."""
    from tanet.mail import outbox_send
    from tanet.store.settings import valid_email

    have = outbox_send.addresses_of(conn, written.row_ids)
    wanted = [valid_email(a) for value in only for a in value.replace(";", ",").split(",") if a.strip()]
    for address in wanted:
        if address.lower() not in have:
            raise TanetError(f"{address} has no message in this run, so nothing was sent. "
                             "See who has with: tanet outbox list MEETING")
    return wanted


def unknown_outcome(error: Optional[str]) -> str:
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
        render.note(f"Not known: {address}: {unknown_outcome(why)} {_again(again, address)}")
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


def again_command(command: str, written) -> str:
    """The command that sends one of a meeting's messages again, to ADDRESS, from the same folder."""
    import shlex

    return (f"tanet {command} {written.meeting_id} -o {shlex.quote(str(written.folder))} "
            "--send --resend --only ADDRESS")


def write_then_send(conn, write: Callable[[], "outbox.Written"], *, send: bool, what: str,
                    again: Callable[["outbox.Written"], str] | str, resend: bool = False,
                    only: Optional[List[str]] = None, who: str = "member", single: bool = False):
    """Write the messages (`write`, in one transaction), say what was written and, with
    `send`, send them holding the sender lock from before they are chosen to the last.
    `what` names the command in the lock; `again` says how to send one again."""
    with sending(send, what, only):
        with transaction(conn):
            written = write()
        say_written(written, single)
        if send:
            send_written(conn, written, resend, who=who, only=only,
                         again=again(written) if callable(again) else again)
    return written


def send_before_erasing(conn, row, written) -> None:
    """Send a leaver who is being forgotten the cancellations written for them. An address
    that refuses mail for good (5xx) cannot block the erasure: that is said and it goes on.
    Anything that may pass later (a busy or unreachable server) stops it, saying so and how
    to go on."""
    from tanet.mail import outbox_send

    with sending(True, "sending a leaver's cancellations"):  # the one sender lock, as every sender
        try:
            send_written(conn, written, resend=False, who="=cancellation")
        except TanetError as problem:
            refused, waiting = outbox_send.refused_for_good(conn, written.row_ids)
            if waiting:
                raise TanetError(f"Member #{row['id']} was NOT forgotten: {problem} Run the same command again "
                                 "when the mail server answers, or without --send to erase now (the cancellations "
                                 "are then written, not sent).") from None
            if refused:
                render.note(f"The cancellations could not be delivered: the mail server refused {row['name']}'s "
                            "address for good (it no longer takes mail). They are erased now with the rest of "
                            "their details.")
