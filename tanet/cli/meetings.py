"""`tanet meeting ...`, `tanet session ...` and `tanet theme ...`."""


from pathlib import Path
from typing import Annotated, List, Optional

import typer

from tanet.cli.common import Format, FormatOpt, MeetingArg, TreeFormatOpt, connection, day, new_app, optional_day, today
from tanet.errors import TanetError
from tanet.meetings import agenda, facilitation, planning, schedule
from tanet.output import render
from tanet.store.db import transaction

meeting_app = new_app("Plan, move and cancel meetings; facilitators and the rota.", name="meeting")
session_app = new_app("The agenda: spotlights, reflective practice, trainings and guest speakers.", name="session")
theme_app = new_app("Pain points, solutions and policy asks: the network's collective voice.", name="theme")

# A third item ranks the columns left out on a narrow terminal (1 goes first).
MEETING_COLUMNS = [("id", "Id"), ("date", "Date"), ("start", "Start"), ("end", "End", 3), ("title", "Title"),
                   ("location", "Location", 1), ("status", "Status"), ("present", "Present", 2)]


Time = Annotated[Optional[str], typer.Option("--time", help="Start time, HH:MM (24-hour).")]
Duration = Annotated[Optional[int], typer.Option(help="Length in minutes (default: meeting.duration).")]
Title = Annotated[Optional[str], typer.Option(help="Title (default: meeting.title).")]
Location = Annotated[Optional[str], typer.Option(help="Place (default: meeting.location).")]
Url = Annotated[Optional[str], typer.Option(help="Online meeting link (default: meeting.url).")]


def _weekday_times(times: Optional[str], time: Optional[str], conn, first=None) -> list[str]:
    from tanet.dates import parse_time

    if times and time:
        raise TanetError("Give either --time or --times, not both.")
    if times and times.strip().lower().startswith("best"):
        from tanet.register.availability import best_times

        return best_times(conn, times, first or today(), today())
    if times:
        return [parse_time(t) for t in times.split(",") if t.strip()]
    return [parse_time(time)] if time else []


@meeting_app.command("plan")
def plan(
    start: Annotated[str, typer.Option(help="Date of the first meeting.")],
    count: Annotated[Optional[int], typer.Option(help="How many meetings (default 6).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Plan up to this date instead of --count.")] = None,
    every: Annotated[Optional[int], typer.Option(help="Weeks between meetings (default: meeting.cadence_weeks).")] = None,
    time: Time = None,
    times: Annotated[Optional[str], typer.Option(help=(
            "Start times taken in turn, e.g. 10:00,15:45; or best:2 for the two best slots."
        ))] = None,
    duration: Duration = None, title: Title = None, location: Location = None, url: Url = None,
    avoid: Annotated[Optional[List[Path]], typer.Option(help="An .ics calendar (e.g. school holidays) whose days to avoid.")] = None,
    no_holidays: Annotated[bool, typer.Option("--no-holidays", help="Do not avoid Scotland's public holidays.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; save nothing.")] = False,
    skip_blocked: Annotated[bool, typer.Option("--skip-blocked", help=(
            "Leave out a date with no free working day within 31 days after it (instead of "
            "moving it to the nearest free day before)."
        ))] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Plan a series of meetings on the cadence, dodging holidays and school calendars."""
    conn = connection()
    first = day(start)
    last = optional_day(until)
    slots = _weekday_times(times, time, conn, first)
    defaults = schedule.MeetingDefaults.from_settings(conn, time=None, duration=duration, title=title,
                                                location=location, url=url)
    with transaction(conn, dry_run=dry_run) as work:
        planned, skipped, existing = planning.plan(work, start=first, count=count, until=last, every=every, times=slots,
                                   defaults=defaults, holidays=not no_holidays, avoid_files=avoid or [],
                                   dry_run=dry_run, today=today(), skip_blocked=skip_blocked)
    moved = [p for p in planned if p["moved"]]
    title_text = ("Plan (dry run, nothing saved)" if dry_run else "Planned meetings") + f": {len(planned)}"
    render.emit(planned, fmt.value, [("id", "Id"), ("date", "Date"), ("weekday", "Day"), ("start", "Start"),
                                     ("end", "End"), ("original_date", "On cadence"), ("reason", "Moved because")],
                title=title_text, csv_columns=["id", "date", "weekday", "start", "end", "original_date", "moved", "reason"])
    if fmt == Format.table:
        render.say(f"{render.count(len(moved), 'date')} moved off holidays; the cadence continues from the original dates."
                   if moved else "No date needed moving.")
    if existing and fmt == Format.table:
        render.say("Already in this span: " + ", ".join(f"meeting #{m['id']} on {m['date']}" for m in existing) + ".")
    for p in skipped:  # on stderr, so JSON and CSV stay clean
        if p.near:
            render.note(f"Skipped {p.date:%a %d %b %Y}: {p.near}, less than {planning.NEAR_DAYS // 7} weeks away.")
            continue
        render.note(f"Skipped {p.original:%a %d %b %Y} (on the cadence): no free working day within "
                    f"{planning.MAX_MOVE_DAYS} days ({p.reason}). Add one by hand with: tanet meeting add DATE")
    if fmt == Format.table and dry_run:
        render.say("Dry run: nothing was saved. Run again without --dry-run to save.")


@meeting_app.command("add")
def add(date_: Annotated[str, typer.Argument(metavar="DATE", help="The meeting's date.")],
        time: Time = None, duration: Duration = None, title: Title = None, location: Location = None,
        url: Url = None,
        uid: Annotated[Optional[str], typer.Option("--uid", metavar="UID", help=(
                "Keep the UID of an event first sent from another program (e.g. Outlook), so "
                "tanet's updates replace it and replies match."
            ))] = None) -> None:
    """Add one meeting."""
    conn = connection()
    when = day(date_)
    d = schedule.MeetingDefaults.from_settings(conn, time=time, duration=duration, title=title, location=location, url=url)
    with transaction(conn):
        mid = schedule.insert_meeting(conn, when, d.start, d, uid=uid)
    m = schedule.objects(conn, [schedule.get(conn, mid)])[0]
    render.say(f"Added meeting #{mid}: {m['title']}, {m['date']} {m['start']}-{m['end']}.")
    if name := schedule.holiday_name(when):
        render.note(f"Warning: {when} is a public holiday in Scotland ({name}).")


def _status_word(m: dict) -> str:
    """`held` for a meeting that is not cancelled and whose day has come (a held meeting)."""
    return "held" if m["status"] == "scheduled" and m["date"] <= today().isoformat() else m["status"]


@meeting_app.command("list")
def list_(
    upcoming: Annotated[bool, typer.Option("--upcoming", help="Only scheduled meetings from today on.")] = False,
    past: Annotated[bool, typer.Option("--past", help="Only meetings before today, newest first.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Every meeting, cancelled ones included (the default).")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """List meetings (all of them unless --upcoming or --past)."""
    if upcoming + past + all_ > 1:
        raise TanetError("Choose one of --upcoming, --past or --all.")
    when = "upcoming" if upcoming else "past" if past else "all"
    rows = schedule.list_meetings(connection(), when, today())
    if fmt == Format.table:  # in the table a past meeting reads as held (JSON keeps scheduled/cancelled)
        rows = [{**r, "status": _status_word(r)} for r in rows]
    columns, shared = MEETING_COLUMNS, []
    if fmt == Format.table and len(rows) > 1:
        # What every meeting shares is said once, above the table, instead of in every row.
        for key, label in (("title", "Title"), ("location", "Place")):
            if len({r[key] for r in rows}) == 1 and rows[0][key]:
                columns = [c for c in columns if c[0] != key]
                shared.append(f"{label}: {rows[0][key]}")
    for line in shared:
        render.say(f"Every meeting's {line[0].lower()}{line[1:]}")
    render.emit(rows, fmt.value, columns, title=f"Meetings ({len(rows)})",
                csv_columns=list(schedule.MEETING_KEYS), empty="No meetings. Plan some with: tanet meeting plan --start DATE")


@meeting_app.command("show")
def show(meeting: MeetingArg, fmt: TreeFormatOpt = "table") -> None:
    """A meeting's details, facilitators, agenda and attendance counts."""
    conn = connection()
    row = schedule.find_meeting(conn, meeting, today(), allow_cancelled=True)
    data = schedule.objects(conn, [row])[0]
    data["cancel_reason"] = row["cancel_reason"]
    data["facilitators"] = facilitation.facilitators(conn, row["id"])
    data["sessions"] = agenda.list_sessions(conn, row["id"])
    data["attendance"] = schedule.attendance_counts(conn, row["id"])
    from tanet.mail.responses import response_counts

    data["rsvp"] = response_counts(conn, row["id"])
    if fmt == "json":
        render.print_json(data)
        return
    counts = data["attendance"]
    render.key_values([("Id", data["id"]), ("Date", data["date"]), ("Time", f"{data['start']}-{data['end']} ({data['timezone']})"),
                   ("Title", data["title"]), ("Location", data["location"]), ("Link", data["url"]),
                   ("Status", _status_word(data) + (f" ({row['cancel_reason']})" if row["cancel_reason"] else "")),
                   ("Facilitators", ", ".join((
                           f"{f['name']} ({f['sector']}, {f['service_area']})"
                       ) for f in data["facilitators"]) or "none yet"),
                   ("Present", counts["present"]), ("Apologies", counts["apologies"]), ("Absent", counts["absent"]),
                   ("Checked in", counts["checked_in"]),
                   ("Replies", "{accepted} accepted, {tentative} tentative, {declined} declined, {none} not yet".format(**data["rsvp"])),
                   ("UID", data["uid"]), ("Sequence", data["sequence"])],
                  title=f"Meeting #{data['id']}")
    render.heading("Agenda")
    render.table(data["sessions"], [("id", "Id"), ("kind", "Kind", 2), ("title", "Title"), ("presenter", "Presenter"),
                                    ("guest", "Guest", 3), ("guest_org", "Organisation", 1)], empty="No sessions yet.")


@meeting_app.command("move")
def move(meeting: MeetingArg, to: Annotated[str, typer.Option("--to", help="The new date.")], time: Time = None) -> None:
    """Move a meeting to another date (and time); invitations update in place."""
    conn = connection()
    with transaction(conn):
        m, warnings = schedule.move(conn, meeting, day(to), time, today())
    for w in warnings:
        render.note(w)
    render.say(f"Moved meeting #{m['id']} to {m['date']} {m['start']}-{m['end']} (sequence {m['sequence']}). "
               f"Send the update: tanet invite {m['id']}")


@meeting_app.command("edit")
def edit(meeting: MeetingArg, title: Annotated[Optional[str], typer.Option(help="New title.")] = None,
         location: Annotated[Optional[str], typer.Option(help="New place ('' to clear).")] = None,
         url: Annotated[Optional[str], typer.Option(help="New online link ('' to clear).")] = None,
         duration: Annotated[Optional[int], typer.Option(help="New length in minutes.")] = None) -> None:
    """Change a meeting's title, place, link or length (to move it, use meeting move)."""
    conn = connection()
    with transaction(conn):
        m = schedule.edit(conn, meeting, title=title, location=location, url=url, duration=duration, today=today())
    render.say(f"Updated meeting #{m['id']} (sequence {m['sequence']}). Send the update: tanet invite {m['id']}")


@meeting_app.command("cancel")
def cancel(meeting: MeetingArg, reason: Annotated[Optional[str], typer.Option(help=(
        "Why, for the record and the cancellation notice."
    ))] = None) -> None:
    """Cancel a meeting (it is kept, with status cancelled)."""
    conn = connection()
    with transaction(conn):
        m = schedule.cancel(conn, meeting, reason, today())
    render.say(f"Cancelled meeting #{m['id']} on {m['date']}. Tell everyone: tanet invite {m['id']}")


@meeting_app.command("reinstate")
def reinstate(meeting: MeetingArg) -> None:
    """Undo a cancellation: the meeting is scheduled again (same calendar entry)."""
    conn = connection()
    with transaction(conn):
        m = schedule.reinstate(conn, meeting, today())
    render.say(f"Meeting #{m['id']} on {m['date']} is scheduled again. Invitations go out again with: "
               f"tanet invite {m['id']}")


@meeting_app.command("delete")
def delete(meeting: MeetingArg,
           yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False) -> None:
    """Delete a meeting added by mistake (only if nobody was ever sent it)."""
    from tanet.mail import outbox_files

    conn = connection()
    with transaction(conn):
        m = schedule.delete(conn, meeting, today(), yes, drop_drafts=lambda mid: outbox_files.drop_meeting_drafts(conn, mid))
    render.say(f"Deleted meeting #{m['id']} on {m['date']} ({m['title']}).")


@meeting_app.command("facilitate")
def facilitate(meeting: MeetingArg,
               members: Annotated[List[str], typer.Argument(metavar="MEMBER...", help="The facilitators.")]) -> None:
    """Set a meeting's facilitators."""
    conn = connection()
    with transaction(conn):
        m, people = facilitation.set_facilitators(conn, meeting, members, today())
    sectors = sorted({p["sector"] for p in people})
    render.say(f"Meeting #{m['id']} on {m['date']}: " + ", ".join(p["name"] for p in people)
               + f" ({' and '.join(sectors)} sector{'s' if len(sectors) > 1 else ''}).")


@meeting_app.command("rota")
def rota(count: Annotated[int, typer.Option(help="How many upcoming meetings.")] = 6,
         apply: Annotated[bool, typer.Option("--apply", help="Save the proposed facilitators.")] = False,
         fmt: TreeFormatOpt = "table") -> None:
    """Propose cross-sector facilitator pairs for upcoming meetings, least-used first."""
    conn = connection()
    with transaction(conn, dry_run=not apply) as work:
        proposals = facilitation.rota(work, count, today(), apply)
    if fmt == "json":
        render.print_json(proposals)
        return
    rows = [{"id": p["meeting"]["id"], "date": p["meeting"]["date"], "start": p["meeting"]["start"],
             "first": f"{p['facilitators'][0]['name']} ({p['facilitators'][0]['sector']}, {p['facilitators'][0]['service_area']})",
             "second": f"{p['facilitators'][1]['name']} ({p['facilitators'][1]['sector']}, {p['facilitators'][1]['service_area']})"}
            for p in proposals]
    render.table(rows, [("id", "Id"), ("date", "Date"), ("start", "Start"), ("first", "Facilitator"),
                        ("second", "Facilitator")], title="Facilitator rota" + ("" if apply else " (proposal)"))
    render.say("Saved." if apply else "Nothing saved: run again with --apply to keep this rota.")




@session_app.command("add")
def session_add(
    meeting: MeetingArg,
    kind: Annotated[str, typer.Option(help="spotlight, reflective, training or guest.")],
    title: Annotated[str, typer.Option(help="What the session is about.")],
    presenter: Annotated[Optional[str], typer.Option(help="A member who presents.")] = None,
    guest: Annotated[Optional[str], typer.Option(help="A guest speaker from outside the network.")] = None,
    guest_org: Annotated[Optional[str], typer.Option(help="The guest speaker's organisation.")] = None,
    fmt: TreeFormatOpt = "table",
) -> None:
    """Add a session to a meeting's agenda."""
    conn = connection()
    with transaction(conn):
        s = agenda.add_session(conn, meeting, kind, title, presenter, guest, guest_org, today())
    if fmt == "json":
        render.print_json(s)
    else:
        render.say(f"Added session #{s['id']} ({s['kind']}) to meeting #{s['meeting_id']}: {s['title']}.")


@session_app.command("list")
def session_list(meeting: Annotated[Optional[str], typer.Argument(metavar="[MEETING]", help="Only this meeting.")] = None,
                 fmt: FormatOpt = Format.table) -> None:
    """List sessions, of one meeting or of all."""
    conn = connection()
    meeting_id = schedule.find_meeting(conn, meeting, today())["id"] if meeting else None
    rows = agenda.list_sessions(conn, meeting_id)
    render.emit(rows, fmt.value, [("id", "Id"), ("meeting_id", "Meeting"), ("kind", "Kind", 2), ("title", "Title"),
                                  ("presenter", "Presenter"), ("guest", "Guest", 3), ("guest_org", "Organisation", 1)],
                title="Sessions", empty="No sessions yet. Add one with: tanet session add MEETING --kind ... --title ...")


@session_app.command("remove")
def session_remove(session_id: Annotated[int, typer.Argument(metavar="ID", help="The session's id.")]) -> None:
    """Take a session off the agenda."""
    conn = connection()
    with transaction(conn):
        s = agenda.remove_session(conn, session_id)
    render.say(f"Removed session #{s['id']} ({s['title']}) from meeting #{s['meeting_id']}.")


THEME_COLUMNS = [("id", "Id"), ("kind", "Kind"), ("status", "Status"), ("text", "Theme"), ("meeting_id", "Meeting"),
                 ("note", "Note")]


@theme_app.command("add")
def theme_add(text: Annotated[str, typer.Argument(metavar="TEXT", help="The pain point, solution or policy ask.")],
              kind: Annotated[str, typer.Option(help="pain-point, solution or policy.")],
              meeting: Annotated[Optional[str], typer.Option(help="The meeting where it came up.")] = None,
              fmt: TreeFormatOpt = "table") -> None:
    """Record a theme the network raised."""
    conn = connection()
    with transaction(conn):
        t = agenda.add_theme(conn, text, kind, meeting, today())
    if fmt == "json":
        render.print_json(t)
    else:
        render.say(f"Recorded theme #{t['id']} ({t['kind']}).")


@theme_app.command("list")
def theme_list(kind: Annotated[Optional[str], typer.Option(help="pain-point, solution or policy.")] = None,
               status: Annotated[Optional[str], typer.Option(help="open, raised or resolved.")] = None,
               fmt: FormatOpt = Format.table) -> None:
    """List themes."""
    rows = agenda.list_themes(connection(), kind, status)
    render.emit(rows, fmt.value, THEME_COLUMNS, title="Themes", empty="No themes yet.")


@theme_app.command("status")
def theme_status(theme_id: Annotated[int, typer.Argument(metavar="ID", help="The theme's id.")],
                 status: Annotated[str, typer.Argument(metavar="STATUS", help="open, raised or resolved.")],
                 note: Annotated[Optional[str], typer.Option(help="What happened.")] = None,
                 fmt: TreeFormatOpt = "table") -> None:
    """Move a theme along: open → raised → resolved."""
    conn = connection()
    with transaction(conn):
        t = agenda.set_theme_status(conn, theme_id, status, note, today())
    if fmt == "json":
        render.print_json(t)
    else:
        render.say(f"Theme #{t['id']} is now {t['status']}.")
