"""`tanet export ics` and `tanet invite`."""


from pathlib import Path
from typing import Annotated, List, Optional

import typer

from tanet import meetings as MT
from tanet import render
from tanet import settings as S
from tanet.cli.common import MeetingArg, connection, new_app, optional_day, today
from tanet.errors import TanetError

export_app = new_app("Export data for other programs.", name="export")
invite_app = new_app("Write (and send) the invitation for one meeting.", name="invite")


@export_app.callback()
def export_group() -> None:
    """Export data for other programs."""


@export_app.command("ics")
def export_ics(
    meeting: Annotated[Optional[List[str]], typer.Option("--meeting", help="A meeting to include (repeat for more).")] = None,
    upcoming: Annotated[bool, typer.Option("--upcoming", help="Only meetings from today on.")] = False,
    from_: Annotated[Optional[str], typer.Option("--from", help="Only meetings on or after this date.")] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Only meetings on or before this date.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default: the screen).")] = None,
) -> None:
    """One calendar (.ics) of meetings to import or publish as a feed; same UIDs every time."""
    from tanet import ical

    conn = connection()
    start, end = optional_day(from_), optional_day(to)
    if start and end and start > end:
        raise TanetError(f"--from {start} is after --to {end}.")
    if meeting:
        rows = [MT.find_meeting(conn, ref, today()) for ref in meeting]
        rows = list({r["id"]: r for r in rows}.values())
    else:
        rows = conn.execute(MT.SELECT + " ORDER BY m.date, m.start").fetchall()
    if upcoming:
        rows = [r for r in rows if r["date"] >= today().isoformat()]
    if start:
        rows = [r for r in rows if r["date"] >= start.isoformat()]
    if end:
        rows = [r for r in rows if r["date"] <= end.isoformat()]
    data = ical.publish(conn, MT.objects(conn, rows), S.get_all(conn))
    if render.deliver(data, output):
        render.say(f"Wrote {len(rows)} meeting(s) to {output}.")


@invite_app.command("invite")
def invite(
    meeting: MeetingArg,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", metavar="DIR", help="Folder for the messages (default: ./invites/DATE-TITLE/).")] = None,
    area: Annotated[Optional[List[str]], typer.Option("--area", help="Only members of this service area (repeat for more).")] = None,
    single: Annotated[bool, typer.Option("--single", help="One message to yourself with everyone in Bcc.")] = False,
    send: Annotated[bool, typer.Option("--send", help="Send them now over SMTP (see tanet config show).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Allow a meeting in the past.")] = False,
) -> None:
    """Write the invitation (or update, or cancellation) for one meeting, one .eml per member."""
    from tanet.invites import send as send_all
    from tanet.invites import write_invites

    conn = connection()
    if single:
        render.note("Warning: --single puts every address in one message (in Bcc) and names every member as an "
                    "attendee, so some calendar programs show each member the others' addresses.")
    m, box = write_invites(conn, meeting, folder=output, areas=area or [], single=single, force=force, today=today())
    what = {"REQUEST": "invitation" if m["sequence"] == 0 else "update", "CANCEL": "cancellation"}[box.method]
    if single:
        render.say(f"Wrote 1 {what} ({box.method}) for {len(box.files[0][1])} members to {box.folder}.")
    else:
        render.say(f"Wrote {len(box.files)} {what}s ({box.method}), one per member, to {box.folder}.")
    if send:
        sent, failures = send_all(box, S.get_all(conn))
        render.say(f"Sent to {sent} member(s).")
        for f in failures:
            render.note(f"Not sent: {f}")
        if failures:
            raise TanetError(f"{len(failures)} message(s) could not be sent (listed above); the others went. "
                             f"The files are in {box.folder}.")
    elif not single:
        render.say("Send them from your e-mail program, or with --send.")
