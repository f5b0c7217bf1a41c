"""`tanet availability ...`: when members usually cannot come, and the slots that suit most."""


from typing import Annotated, List, Optional

import typer

from tanet.cli.common import Format, FormatOpt, MemberArg, TreeFormatOpt, connection, new_app, today
from tanet.output import render
from tanet.store.db import transaction

availability_app = new_app("When members usually cannot come, and which meeting slots suit the most.",
                           name="availability")


@availability_app.command("set")
def set_(member: MemberArg,
         busy: Annotated[List[str], typer.Option("--busy", help=(
                 "A weekly pattern, e.g. 'mon-fri 08:45-15:30' (repeat for more)."
             ))]) -> None:
    """Record when a member usually cannot attend (replaces what was there)."""
    from tanet.register import availability

    conn = connection()
    with transaction(conn):
        m, patterns = availability.set_busy(conn, member, busy, today())
    render.say(f"{m['name']} is usually busy: " + "; ".join(patterns) + ".")


@availability_app.command("show")
def show(member: MemberArg, fmt: TreeFormatOpt = "table") -> None:
    """When a member usually cannot attend."""
    from tanet.register import availability

    m, patterns = availability.show(connection(), member)
    if fmt == "json":
        render.print_json({"member_id": m["id"], "name": m["name"], "busy": patterns})
    elif patterns:
        render.say(f"{m['name']} is usually busy: " + "; ".join(patterns) + ".")
    else:
        render.say(f"Nothing recorded for {m['name']}: counted as unknown in suggestions.")


@availability_app.command("clear")
def clear(member: MemberArg) -> None:
    """Forget a member's busy times."""
    from tanet.register import availability

    conn = connection()
    with transaction(conn):
        m = availability.clear(conn, member)
    render.say(f"Cleared the busy times of {m['name']}.")


@availability_app.command("suggest")
def suggest(weekdays: Annotated[str, typer.Option(help="Candidate days, e.g. tue,wed,thu or mon-fri.")] = "tue,wed,thu",
            times: Annotated[str, typer.Option(help="Candidate start times, e.g. 09:30,13:00,15:45.")] = "09:30,13:00,15:45",
            duration: Annotated[Optional[int], typer.Option(help="Meeting length in minutes (default: meeting.duration).")] = None,
            explain: Annotated[bool, typer.Option("--explain", help="Say which under-represented areas the top slots bring in.")] = False,
            area: Annotated[Optional[List[str]], typer.Option("--area", help=(
                    "Only members of this service area (repeat for more)."
                ))] = None,
            fmt: FormatOpt = Format.table) -> None:
    """Rank candidate slots by how many active members can attend."""
    from tanet.dates import parse_time
    from tanet.register import availability
    from tanet.store import settings

    conn = connection()
    days = availability.parse_days(weekdays) if weekdays.strip() else []
    slot_times = [parse_time(t) for t in times.split(",") if t.strip()]
    result = availability.suggest(conn, weekdays=days, times=slot_times,
                        duration=duration if duration is not None else int(settings.get(conn, "meeting.duration")), today=today(),
                        areas=area or [])
    slots = result["slots"]
    if fmt == Format.json:
        render.print_json(slots)
        return
    low = result["low_participation"]
    rows = []
    for sl in slots:
        cover = [f"{x['service_area']}{'*' if x['low_participation'] else ''} {x['available']}/{x['members']}"
                 for x in sl["by_service_area"] if x["low_participation"]]
        rows.append({**sl, "slot": f"{sl['weekday'].capitalize()} {sl['start']}",
                     "low": ", ".join(cover)})
    if fmt == Format.csv:
        render.print_csv(rows, ["weekday", "start", "available", "busy", "unknown"])
        return
    render.table(rows, [("slot", "Slot"), ("available", "Can come"), ("busy", "Busy"), ("unknown", "Unknown"),
                        ("low", "Low-participation areas (can come/members)")],
                 title="Meeting slots, best first",
                 caption="* participation below report.gap_threshold over the last four quarters" if low else None)
    if slots and slots[0]["unknown"]:
        unknown = slots[0]["unknown"]
        render.say(f"{render.count(unknown, 'active member')} {'has' if unknown == 1 else 'have'} no busy times "
                   "recorded and " + ("is" if unknown == 1 else "are") + " counted as unknown.")
    if explain:
        render.heading("Who the top slots bring in")
        for line in availability.explain(result):
            render.say(line)
