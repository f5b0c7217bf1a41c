"""`tanet checkin ...`, `tanet followup ...` and `tanet attendance ...`."""


import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from tanet.cli.common import (
    Format,
    FormatOpt,
    MeetingArg,
    MemberArg,
    TreeFormatOpt,
    connection,
    new_app,
    optional_day,
    today,
)
from tanet.errors import TanetError
from tanet.meetings import attendance, schedule
from tanet.output import render
from tanet.register import members as member_register
from tanet.register import vocabulary
from tanet.store.db import transaction

checkin_app = new_app("The facilitator's check-ins, by phone before a meeting or on the day (notes stay private).", name="checkin")
followup_app = new_app("Follow-ups for members who need someone to get back to them.", name="followup")
attendance_app = new_app("Who came: mark attendance, import Teams reports, registers.", name="attendance")


class Status(str, Enum):
    present = "present"
    apologies = "apologies"
    absent = "absent"


@checkin_app.command("record")
def checkin_record(meeting: MeetingArg, member: MemberArg,
                   note: Annotated[Optional[str], typer.Option(help="A short private note.")] = None,
                   follow_up: Annotated[bool, typer.Option("--follow-up", help="Someone should get back to them.")] = False) -> None:
    """Record a check-in (and mark the member present); before the day, a call-ahead check-in."""
    conn = connection()
    with transaction(conn):
        m = schedule.find_meeting(conn, meeting, today())
        r = attendance.record_checkin(conn, m, member_register.find_member(conn, member), note, follow_up, today())
    extra = f"; follow-up #{r['follow_up']} open" if r["follow_up"] else ""
    if not r["present"]:
        render.say(f"Recorded a call-ahead check-in with {r['name']} for meeting #{r['meeting_id']} on {m['date']} "
                   f"(not marked present: that happens on the day){extra}.")
        return
    render.say(f"Checked in {r['name']} at meeting #{r['meeting_id']} (present){extra}.")


@checkin_app.command("round")
def checkin_round(meeting: MeetingArg) -> None:
    """Go round the expected members one by one; each answer is saved as it is given."""
    conn = connection()
    m = schedule.find_meeting(conn, meeting, today())
    attendance.check_round_day(m, today())  # before the terminal check: the more useful answer
    if not sys.stdin.isatty():
        raise TanetError("checkin round asks questions, so it needs a terminal. "
                         "To record check-ins from a script, use: tanet checkin record MEETING MEMBER [--note ...]")
    from rich.prompt import Prompt

    people = attendance.expected(conn, m)
    out = render.console()
    render.line(f"Check-in round for meeting #{m['id']} on {m['date']}: {len(people)} to go"
                + ", those who accepted the invitation first. "
                "Answer y (here), n (absent), a (apologies), s or Enter (skip), q (stop), or type part of a "
                "name to go to that person.", "bold")
    counts = {"present": 0, "absent": 0, "apologies": 0, "follow-ups": 0}
    queue, done = list(people), 0
    try:
        while queue:
            p = queue[0]
            org = f", {p['organisation']}" if p["organisation"] else ""
            answer = Prompt.ask(render.question(f"[{done + 1}/{len(people)}] {p['name']} ({p['service_area']}{org}) "
                                                "here? [y/n/a/s/q or a name] (s)"), default="s", show_default=False,
                                console=out).strip()
            if answer.lower() not in ("y", "n", "a", "s", "q", ""):
                _bring_forward(queue, answer)
                continue
            answer = answer.lower() or "s"
            if answer == "q":
                break
            queue.pop(0)
            done += 1
            if answer == "s":  # the safe answer: nothing recorded
                continue
            if answer == "y":
                counts["present"] += 1
                counts["follow-ups"] += _check_in(conn, m, p, out)
            else:
                status = "absent" if answer == "n" else "apologies"
                with transaction(conn):
                    attendance.set_status(conn, m["id"], p["id"], status, "round")
                counts[status] += 1
    except (KeyboardInterrupt, EOFError):
        out.print("\nStopped. Everything answered so far is saved; run the round again to carry on.")
        out.print(", ".join(f"{k}: {v}" for k, v in counts.items()))
        raise typer.Exit(130)
    out.print("Round finished. " + ", ".join(f"{k}: {v}" for k, v in counts.items()))


def _bring_forward(queue: list, answer: str) -> None:
    """Part of a name typed: that person is asked next, when exactly one still to ask matches."""
    wanted = vocabulary.fold(answer)
    found = [x for x in queue if wanted in vocabulary.fold(x["name"])]
    if len(found) == 1:
        queue.remove(found[0])
        queue.insert(0, found[0])
    else:
        render.line(f"  {len(found) or 'Nobody'} still to ask match '{answer}'"
                    + (": " + ", ".join(x["name"] for x in found[:5]) if found else "") + ".")


def _check_in(conn, meeting, person, out) -> bool:
    """Here: the note, whether a follow-up is needed and what about, saved at once. Returns
    whether a follow-up was raised."""
    from rich.prompt import Confirm, Prompt

    note = Prompt.ask("  Note (Enter for none)", default="", show_default=False, console=out)
    follow = Confirm.ask("  Follow-up needed?", default=False, console=out)
    about = Prompt.ask("  What about? (Enter to add it later)", default="", show_default=False,
                       console=out) if follow else ""
    with transaction(conn):
        r = attendance.record_checkin(conn, meeting, person, note, follow, today())
        if about.strip() and r["follow_up"]:
            attendance.set_followup_about(conn, r["follow_up"], about)
    return follow


@checkin_app.command("list")
def checkin_list(meeting: MeetingArg, fmt: FormatOpt = Format.table) -> None:
    """The check-ins of one meeting, with their private notes."""
    conn = connection()
    m = schedule.find_meeting(conn, meeting, today())
    rows = attendance.list_checkins(conn, m["id"])
    for r in rows:
        r["follow_up"] = bool(r["follow_up"])
    render.emit(rows, fmt.value, [("member_id", "Id"), ("name", "Name"), ("service_area", "Service area"),
                                  ("note", "Note"), ("follow_up", "Follow-up")],
                title=f"Check-ins, meeting #{m['id']} on {m['date']} (private)", empty="No check-ins recorded.")


@followup_app.command("list")
def followup_list(open_: Annotated[bool, typer.Option("--open", help="Only those not closed yet.")] = False,
                  fmt: FormatOpt = Format.table) -> None:
    """List follow-ups."""
    rows = attendance.list_followups(connection(), open_)
    render.emit(rows, fmt.value, [("id", "Id"), ("name", "Member"), ("raised_on", "Raised"), ("due_on", "Due", 4),
                                  ("owner", "With", 3), ("about", "About"), ("closed_on", "Closed", 2),
                                  ("note", "Note", 1)],
                title="Follow-ups (private)", csv_columns=list(attendance.FOLLOWUP_KEYS), empty="No follow-ups.")


@followup_app.command("add")
def followup_add(
    member: MemberArg,
    about: Annotated[str, typer.Option("--about", metavar="TEXT", help="What to follow up (private, like a check-in note).")],
    owner: Annotated[Optional[str], typer.Option("--owner", metavar="MEMBER", help="Who will do it.")] = None,
    due: Annotated[Optional[str], typer.Option("--due", metavar="DATE", help="By when.")] = None,
) -> None:
    """Raise a follow-up outside a check-in."""
    conn = connection()
    with transaction(conn):
        f = attendance.add_followup(conn, member, about, owner, optional_day(due), today())
    render.say(f"Follow-up #{f['id']} for {f['name']}" + (f", with {f['owner']}" if f["owner"] else "")
               + (f", due {f['due_on']}" if f["due_on"] else "") + ".")


@followup_app.command("close")
def followup_close(followup_id: Annotated[int, typer.Argument(metavar="ID", help="The follow-up's id.")],
                   note: Annotated[Optional[str], typer.Option(help="What was done.")] = None) -> None:
    """Close a follow-up."""
    conn = connection()
    with transaction(conn):
        f = attendance.close_followup(conn, followup_id, note, today())
    render.say(f"Closed follow-up #{f['id']} for {f['name']}.")


@followup_app.command("edit")
def followup_edit(
    followup_id: Annotated[int, typer.Argument(metavar="ID", help="The follow-up's id.")],
    about: Annotated[Optional[str], typer.Option("--about", metavar="TEXT", help="What to follow up.")] = None,
    owner: Annotated[Optional[str], typer.Option("--owner", metavar="MEMBER", help="Who will do it ('' for nobody).")] = None,
    due: Annotated[Optional[str], typer.Option("--due", metavar="DATE", help="By when.")] = None,
    note: Annotated[Optional[str], typer.Option("--note", metavar="TEXT", help="A private note.")] = None,
    reopen: Annotated[bool, typer.Option("--reopen", help="Open a follow-up closed by mistake again.")] = False,
) -> None:
    """Change a follow-up: what it is about, who has it, when it is due, its note; or reopen it."""
    conn = connection()
    with transaction(conn):
        f = attendance.edit_followup(conn, followup_id, about=about, owner_ref=owner, due=optional_day(due), note=note,
                                     today=today(), reopen=reopen)
    render.say(f"Follow-up #{f['id']} for {f['name']}{' is open again' if reopen else ''}: " + "; ".join(
        f"{label} {f[key]}" for key, label in (("about", "about"), ("owner", "with"), ("due_on", "due"))
        if f[key]) + ".")


@attendance_app.command("mark")
def mark(meeting: MeetingArg,
         members: Annotated[List[str], typer.Argument(metavar="MEMBER...", help="Members to mark.")],
         status: Annotated[Status, typer.Option(help="present, apologies or absent.")] = Status.present) -> None:
    """Mark members present, absent, or as having sent apologies."""
    conn = connection()
    with transaction(conn):
        m, done = attendance.mark(conn, meeting, members, status.value, today())
    render.say(f"Meeting #{m['id']} on {m['date']}: {status.value} - " + ", ".join(p["name"] for p, _ in done) + ".")


@attendance_app.command("import")
def import_(meeting: MeetingArg,
            file: Annotated[Path, typer.Argument(metavar="FILE", help="Teams attendance report, or a CSV with name and e-mail columns.")],
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Show who would be marked; save nothing.")] = False,
            add_unknown: Annotated[bool, typer.Option("--add-unknown", help=(
                    "Add people not in the network (with an e-mail) as members."
                ))] = False,
            force: Annotated[bool, typer.Option("--force", help="Accept a report whose date is not the meeting's.")] = False,
            fmt: TreeFormatOpt = "table") -> None:
    """Import a Teams attendance report: members present, everyone else listed."""
    from tanet.meetings.teams import import_report

    conn = connection()
    m = schedule.find_meeting(conn, meeting, today())
    with transaction(conn, dry_run=dry_run) as work:
        result = import_report(work, m, file, today=today(), force=force, add_unknown=add_unknown)
        if fmt != "json":
            _say_understood(file, result)  # before anything is written
    if fmt == "json":
        render.print_json({"meeting_id": m["id"], "layout": result.layout,
                           "columns": result.columns, "unused_columns": result.unused,
                           "report_date": result.report_date.isoformat() if result.report_date else None,
                           "dry_run": dry_run, "matched": result.matched, "organisers": result.organisers,
                           "not_members": result.not_members, "guests": result.guests,
                           "not_active": result.not_active,
                           "backdated": result.backdated,
                           "added": result.added, "changed": 0 if dry_run else result.changed})
        return
    by = {"e-mail": 0, "name": 0}
    for x in result.matched:
        by[x["matched_by"]] += 1
    render.say(f"{file.name}: {len(result.matched)} members present at meeting #{m['id']} on {m['date']} "
               f"(matched by e-mail {by['e-mail']}, by name {by['name']}); "
               f"{'would change' if dry_run else 'changed'} {result.changed}.")
    for o in result.organisers:
        render.say(f"  organiser, not counted: {o['name']} <{o['email'] or 'no e-mail'}>")
    for o in result.not_active:
        render.say(f"  not counted, had left before {m['date']}: {o['name']} (member #{o['member_id']}, "
                   f"left {o['left_on']})")
    if result.backdated:
        render.say(f"  {render.count(len(result.backdated), 'member')} took part before the joining date on record; their joining "
                   f"date {'would move' if dry_run else 'moved'} back to {m['date']}: "
                   + ", ".join(f"{b['name']} (was {b['joined_on_was']})" for b in result.backdated[:8])
                   + (" ..." if len(result.backdated) > 8 else ""))
    for o in result.guests:
        render.say(f"  guest of the meeting's agenda, not counted: {o['name']}")
    for o in result.not_members:
        render.say(f"  not matched: {o['name']} <{o['email'] or 'no e-mail'}>: {o['why']}")
    for o in result.added:
        render.say(f"  added as member #{o['member_id']}: {o['name']} <{o['email']}> - complete their details with "
                   f"tanet member edit {o['member_id']} --org ... --area ... --sector ... --role ...")
    if result.not_members and not add_unknown:
        render.say("To add those with an e-mail address as members: run again with --add-unknown.")
    if dry_run:
        render.say("Dry run: nothing was saved.")


TEAMS_FIELDS = (("name", "name"), ("email", "e-mail"), ("upn", "e-mail, where that is empty"),
                ("join", "joined at"), ("duration", "time in the meeting"), ("role", "role (organiser or not)"))


def _say_understood(file: Path, result) -> None:
    """What the report was read as: its layout, date, and the column each field came from."""
    from tanet.meetings.teams import LAYOUTS

    dated = f", of a meeting on {result.report_date}" if result.report_date else ", with no date"
    render.say(f"Reading {file.name} as {LAYOUTS[result.layout]}{dated}:")
    for key, label in TEAMS_FIELDS:
        if key in result.columns:
            render.say(f"  {label:<28} <- '{result.columns[key]}'")
    if result.unused:
        render.say("  not used: " + ", ".join(f"'{h}'" for h in result.unused))


@attendance_app.command("show")
def show(meeting: MeetingArg,
         register: Annotated[bool, typer.Option("--register", help="Everyone active that day, 'none' where nothing is recorded.")] = False,
         fmt: FormatOpt = Format.table) -> None:
    """Who was present, sent apologies or was absent."""
    conn = connection()
    m = schedule.find_meeting(conn, meeting, today())
    rows = attendance.show(conn, m, register)
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    render.emit(rows, fmt.value, [("member_id", "Id"), ("name", "Name"), ("service_area", "Service area"),
                                  ("sector", "Sector"), ("status", "Status"), ("checked_in", "Checked in")],
                title=f"{'Register' if register else 'Attendance'}, meeting #{m['id']} on {m['date']}",
                caption=", ".join(f"{k}: {v}" for k, v in counts.items()), csv_columns=list(attendance.ATTENDANCE_KEYS),
                empty="No attendance recorded yet.")
