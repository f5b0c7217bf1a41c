"""`tanet export ics` and `tanet invite`."""


from pathlib import Path
from typing import Annotated, List, Optional

import typer

from tanet.cli.common import connection, new_app, optional_day, today
from tanet.errors import TanetError
from tanet.meetings import schedule
from tanet.output import render
from tanet.store import settings

export_app = new_app("Export data for other programs.", name="export")


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
    from tanet.mail import compose

    conn = connection()
    start, end = optional_day(from_), optional_day(to)
    if start and end and start > end:
        raise TanetError(f"--from {start} is after --to {end}.")
    if meeting:
        rows = [schedule.find_meeting(conn, ref, today()) for ref in meeting]
        rows = list({r["id"]: r for r in rows}.values())
    else:
        rows = schedule.every_meeting(conn)
    if upcoming:
        rows = [r for r in rows if r["date"] >= today().isoformat()]
    if start:
        rows = [r for r in rows if r["date"] >= start.isoformat()]
    if end:
        rows = [r for r in rows if r["date"] <= end.isoformat()]
    data = compose.calendar_feed(conn, schedule.objects(conn, rows), settings.get_all(conn))
    if render.write_out(data, output):
        render.say(f"Wrote {render.count(len(rows), 'meeting')} to {output}.")
