"""`tanet feedback import` and `tanet feedback show`."""

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from tanet.cli.common import MeetingArg, TreeFormatOpt, connection, new_app, today
from tanet.errors import TanetError
from tanet.output import render
from tanet.store.db import transaction

feedback_app = new_app("Feedback forms after meetings: import them, see what members said.", name="feedback")


@feedback_app.command("import")
def feedback_import(
    meeting: MeetingArg,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Microsoft Forms export (.xlsx) or Google Forms CSV.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file; save nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Import a file already imported for another meeting.")] = False,
    questions: Annotated[Optional[List[str]], typer.Option("--question", metavar="KEY=HEADER", help=(
            "Say which column answers a question when its wording is not recognised, e.g. "
            "--question next_topic='What should we cover?' (KEY: usefulness, will_use, "
            "take_back, next_topic, service_area; repeat for more)."
        ))] = None,
    fmt: TreeFormatOpt = "table",
) -> None:
    """Add a meeting's feedback responses (importing the same file again changes nothing)."""
    from tanet.summary import feedback

    try:
        table = feedback.start_reading(file)  # checked; a workbook is then read while the database is opened
    except TanetError as e:
        table = e  # said once the meeting is found and held: a wrong meeting is still named first
    from tanet.meetings import schedule

    conn = connection()
    m = schedule.find_meeting(conn, meeting, today())
    with transaction(conn, dry_run=dry_run) as work:
        result = feedback.import_file(work, m, file, force, today(), questions or [], table)
    if fmt == "json":
        render.print_json(result)
        return
    render.say(f"Read from {file}:")
    for key, header in result["questions"].items():
        render.say(f"  {key.ljust(12)}  <- '{header}'")
    if result["columns_not_used"]:
        render.say("  not used: " + ", ".join(f"'{h}'" for h in result["columns_not_used"]))
    render.say(f"{'Dry run: would add' if dry_run else 'Added'} {render.count(result['added'], 'response')} to "
               f"meeting #{m['id']} on {m['date']}; {result['unchanged']} already there.")
    for address in result["not_members"]:
        render.note(f"  {address} answered but is not a member: kept as a response, without a name.")


@feedback_app.command("remove")
def feedback_remove(meeting: MeetingArg,
                    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the responses are deleted.")] = False) -> None:
    """Remove a meeting's feedback (imported to the wrong meeting, say), to import it again."""
    from tanet.meetings import schedule
    from tanet.summary import feedback

    conn = connection()
    m = schedule.find_meeting(conn, meeting, today(), allow_cancelled=True)
    with transaction(conn):
        removed = feedback.remove(conn, m, yes)
    render.say(f"Removed {render.count(removed, 'feedback response')} from meeting #{m['id']} on {m['date']}. "
               "Import the file for the right meeting with: tanet feedback import MEETING FILE")


@feedback_app.command("show")
def feedback_show(meeting: MeetingArg, fmt: TreeFormatOpt = "table") -> None:
    """What members said about a meeting (no names)."""
    from tanet.meetings import schedule
    from tanet.summary import feedback

    conn = connection()
    m = schedule.find_meeting(conn, meeting, today(), allow_cancelled=True)
    data = feedback.show(conn, m["id"])
    if fmt == "json":
        render.print_json(data)
        return
    w = data["will_use"]
    render.key_values([("Meeting", f"#{m['id']} on {m['date']}"), ("Responses", f"{data['responses']} "
                   f"({data['anonymous']} anonymous)"), ("How useful (1-5)", data["usefulness_mean"]),
                   ("Will use something", f"yes {w['yes']}, maybe {w['maybe']}, no {w['no']}")], title="Feedback")
    for title, items in (("What they will take back", data["take_back"]), ("What to cover next", data["next_topics"])):
        render.heading(title)
        for item in items or ["(nothing yet)"]:
            render.say(f"  - {' '.join(str(item).split())}")  # one bullet, however it was typed
