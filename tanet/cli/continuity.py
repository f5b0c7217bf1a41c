"""Continuity and reach: handover, a new organiser, outreach, keeping only what is needed."""

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from tanet.cli.common import Format, FormatOpt, TreeFormatOpt, connection, db_path, new_app, optional_day, today
from tanet.errors import TanetError
from tanet.output import render
from tanet.store.db import require_writable, transaction

handover_app = new_app("Write the pack the next coordinator needs.", name="handover")
organiser_app = new_app("Change who sends the invitations.", name="organiser")
outreach_app = new_app("Contacts with under-engaged services, and what came of them.", name="outreach")
privacy_app = new_app("Keep only what is needed: forget members long gone, erase old notes.", name="privacy")


@handover_app.command("handover")
def handover(output: Annotated[Path, typer.Option("--output", "-o", metavar="DIR", help="A new folder for the pack.")]) -> None:
    """A private folder with the database, the register, the calendar, the last four summaries and index.html."""
    from tanet.summary.handover import write_pack

    path = write_pack(connection(), db_path(), output, today())
    render.say(f"Wrote the handover pack to {path.absolute()}. Open {path.absolute() / 'index.html'} first.")
    render.say("It holds everything, private notes included (in tanet.db): hand it over as you would the file itself.")


@organiser_app.callback()
def organiser_group() -> None:
    """Change who sends the invitations."""


@organiser_app.command("change")
def organiser_change(
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="The new organiser's name.")],
    email: Annotated[str, typer.Option("--email", metavar="ADDRESS", help="The new organiser's e-mail address.")],
    send: Annotated[bool, typer.Option("--send", help="Send the updates now over SMTP.")] = False,
) -> None:
    """New organiser settings, and an update to everyone invited to each upcoming meeting."""
    from tanet.cli.sending import again_command, say_written, send_written, sending
    from tanet.mail.invites import change_organiser
    from tanet.store import settings

    conn = connection()
    with sending(send, "organiser change --send"):
        with transaction(conn):
            changed = change_organiser(conn, name, email, today())
        render.say(f"The organiser is now {name} <{email}>.")
        if not changed:
            render.say("No upcoming meeting had invitations out, so there were no updates to write.")
        for meeting, written in changed:
            render.say(f"Meeting #{meeting['id']} on {meeting['date']}:")
            say_written(written, single=written.method == "PUBLISH")
        if send:
            for meeting, written in changed:
                send_written(conn, written, resend=False, again=again_command("invite", written))
        elif changed:  # written, not sent: say how, without raising the version again
            render.say("Not sent yet. Open them in your e-mail program, or send them with: "
                       + "; ".join(f"tanet invite {m['id']}{' --single' if w.method == 'PUBLISH' else ''} --send"
                                   for m, w in changed))
        if changed:
            render.say(f"Mail still goes through your mail settings (smtp.user = "
                       f"{settings.get(conn, 'smtp.user') or 'none'}): if {name} sends from their own account, "
                       "change them with: tanet config set smtp.user ADDRESS")


@outreach_app.command("add")
def outreach_add(
    organisation: Annotated[str, typer.Argument(metavar="ORGANISATION", help="The organisation contacted, e.g. a school.")],
    area: Annotated[str, typer.Option("--area", help="Its service area, e.g. education.")],
    contact: Annotated[Optional[str], typer.Option("--contact", metavar="NAME", help="Who you spoke to.")] = None,
    on: Annotated[Optional[str], typer.Option("--on", metavar="DATE", help="When (default today).")] = None,
    how: Annotated[str, typer.Option("--how", help="email, visit, talk, event or other.")] = "email",
    outcome: Annotated[Optional[str], typer.Option("--outcome", metavar="TEXT", help="What came of it.")] = None,
) -> None:
    """Record a contact with an organisation."""
    from tanet.register import outreach

    conn = connection()
    with transaction(conn):
        r = outreach.add(conn, organisation, area, contact, optional_day(on) or today(), how, outcome, today())
    render.say(f"Recorded outreach #{r['id']}: {r['organisation']} ({r['service_area']}), {r['how']} on {r['on']}.")


@outreach_app.command("list")
def outreach_list(area: Annotated[Optional[str], typer.Option("--area", help="Only this service area.")] = None,
                  fmt: FormatOpt = Format.table) -> None:
    """Every contact recorded, oldest first."""
    from tanet.register import outreach

    rows = outreach.list_contacts(connection(), area)
    render.emit(rows, fmt.value, [("id", "Id"), ("on", "On"), ("organisation", "Organisation"),
                                  ("service_area", "Area"), ("contact", "Contact", 2), ("how", "How", 3),
                                  ("outcome", "Outcome", 1)],
                title=lambda n: f"Outreach ({n})", empty="No outreach recorded yet: tanet outreach add ORGANISATION --area AREA")


@privacy_app.callback()
def privacy_group() -> None:
    """Keep only what is needed."""


@privacy_app.command("review")
def privacy_review(
    apply: Annotated[bool, typer.Option("--apply", help="Forget those members and erase those notes now.")] = False,
    send: Annotated[bool, typer.Option("--send", help="With --apply: first send those members the cancellations "
                                                      "of meetings still in their calendar.")] = False,
    fmt: TreeFormatOpt = "table",
) -> None:
    """List members who left long ago and old private notes; with --apply, forget and erase them."""
    from tanet import privacy
    from tanet.store.journal import clear_old_copies

    conn = connection()
    if apply:  # the meetings ahead are cancelled for them while their address is still known
        from tanet.cli.members import take_off_what_is_ahead
        from tanet.register import members

        require_writable(conn)  # said before anything is written or sent

        with contextlib.redirect_stdout(sys.stderr if fmt == "json" else sys.stdout):  # stdout: one JSON document
            leaving = privacy.review(conn, today())["members_due"]
            for member_id in privacy.with_something_ahead(conn, leaving, today()):
                take_off_what_is_ahead(conn, members.find_member(conn, str(member_id)), today(), send, forgetting=True)
    # Applied, the freed bytes are overwritten, not just unlinked; without --apply, a preview.
    with transaction(conn, dry_run=not apply, erasing=apply) as work:
        due = privacy.review(work, today())
        done = privacy.apply(work, due, today()) if apply else None
    if apply and not clear_old_copies(conn):  # the old copies must leave the journal too
        raise TanetError("The erasure is saved, but another program (perhaps another tanet window) has the "
                         "database open, so old copies of the erased details are still in the database file. "
                         "Close the other program, then run: tanet privacy review --apply")
    public = {k: v for k, v in due.items() if not k.startswith("_")}
    if fmt == "json":
        render.print_json(public if not apply else {**public, **done})
        return
    render.say(f"Members who left more than {due['retain_months']} months ago: "
               + privacy.named(due["members"]) + ".")
    render.say(f"Check-in notes, reply comments and follow-up notes older than {due['notes_months']} months: "
               f"{due['notes_due']}.")
    if apply:
        render.say(f"Forgot {render.count(done['members_forgotten'], 'member')} and erased "
                   f"{render.count(done['notes_erased'], 'note')}. Older backups and handover packs still hold them: delete those too.")
    elif due["members_due"] or due["notes_due"]:
        render.say("To do it: tanet privacy review --apply")
