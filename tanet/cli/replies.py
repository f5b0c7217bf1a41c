"""Replies to invitations: `tanet rsvp import` and `tanet rsvp list`."""

from typing import Annotated, List

import typer

from tanet.cli.common import Format, FormatOpt, MeetingArg, TreeFormatOpt, connection, new_app, today
from tanet.output import render
from tanet.store.db import transaction

rsvp_app = new_app("Read calendar replies to invitations, and see who answered what.", name="rsvp")


@rsvp_app.command("import")
def rsvp_import(
    sources: Annotated[List[str], typer.Argument(metavar="SOURCE...", help=(
            ".eml files, folders of them, an mbox, a Maildir, or "
            "imaps://USER@HOST[:PORT]/FOLDER (read-only; password from TANET_IMAP_PASSWORD)."
        ))],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; save nothing.")] = False,
    fmt: TreeFormatOpt = "table",
) -> None:
    """Read Accept / Tentative / Decline replies: declines become apologies; every message not applied is listed."""
    from tanet.mail import replies
    from tanet.store import settings

    conn = connection()
    values = settings.get_all(conn)
    with transaction(conn, dry_run=dry_run) as work:  # all of it, or none of it
        result = replies.import_replies(work, sources, values)
    if fmt == "json":
        _print_json(result)
        return
    prefix = "Dry run: would apply" if dry_run else "Applied"
    render.say(f"{prefix} {render.count(result.applied, 'reply', 'replies')}; "
               f"{result.unchanged} changed nothing (already read, or older than an answer already read); "
               f"{len(result.not_applied)} not applied.")
    if result.not_applied:
        render.table(result.not_applied, [("source", "Message"), ("from", "From"), ("subject", "Subject", 2),
                                          ("reason", "Why it was not applied")], title="Not applied")


def _print_json(result) -> None:
    """The result as render.print_json prints it, the listing written one line at a time."""
    import sys

    out = sys.stdout.write
    out(f'{{\n  "applied": {result.applied},\n  "unchanged": {result.unchanged},\n  "not_applied": ')
    first = True
    for line in result.not_applied:
        out(("[\n    " if first else ",\n    ") + render.to_json(line).replace("\n", "\n    "))
        first = False
    out("[]\n}\n" if first else "\n  ]\n}\n")


@rsvp_app.command("list")
def rsvp_list(meeting: MeetingArg, fmt: FormatOpt = Format.table) -> None:
    """Every member invited to a meeting, with their answer (accepted first)."""
    from tanet.mail import responses
    from tanet.meetings import schedule

    conn = connection()
    row = schedule.find_meeting(conn, meeting, today(), allow_cancelled=True)
    rows = responses.rsvp_list(conn, row["id"])
    render.emit(rows, fmt.value, [("member_id", "Id"), ("name", "Name"), ("email", "E-mail", 2),
                                  ("response", "Answer"), ("responded_at", "Answered", 1)],
                title=lambda n: f"Replies, meeting #{row['id']} on {row['date']} ({n} invited)",
                empty=f"Nobody has been invited to meeting #{row['id']} yet: tanet invite {row['id']}")
