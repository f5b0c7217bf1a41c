"""`tanet member ...` and `tanet area ...`."""


import sys
from datetime import date
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from tanet.cli.common import (
    Format,
    FormatOpt,
    MemberArg,
    TreeFormatOpt,
    connection,
    db_path,
    new_app,
    optional_day,
    today,
)
from tanet.errors import TanetError
from tanet.output import render
from tanet.register import members, membership, vocabulary
from tanet.store.db import discard, require_writable, transaction

member_app = new_app("Add, find, change and export the network's members.", name="member")

# A third item ranks the columns left out on a narrow terminal (1 goes first), so that
# names, e-mails and dates are never broken; `member show` has everything.
MEMBER_COLUMNS = [("id", "Id"), ("name", "Name"), ("email", "E-mail"), ("organisation", "Organisation", 5),
                  ("service_area", "Service area", 6), ("sector", "Sector", 3), ("role", "Role", 2),
                  ("ambassador", "Ambassador", 1), ("joined_on", "Joined", 4), ("left_on", "Left")]


Org = Annotated[Optional[str], typer.Option("--org", "--organisation", help="Organisation or employer.")]
Area = Annotated[Optional[str], typer.Option("--area", help="Service area, e.g. housing (see: tanet area list).")]
Sector = Annotated[Optional[str], typer.Option(help="public, third, private or other.")]
Role = Annotated[Optional[str], typer.Option(help="frontline, supervisor, manager, senior-leader or other.")]


def _require_all(given: dict[str, Optional[str]]) -> None:
    """One error naming every required option left out, not one at a time."""
    missing = [option for option, value in given.items() if value is None or not str(value).strip()]
    if missing:
        named = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
        raise TanetError(f"Give {named}: a member needs all of --email, --org, --area, --sector and --role, "
                         "e.g. tanet member add \"Ann Lee\" --email ann@example.org --org \"City Council\" "
                         "--area housing --sector public --role frontline")


def _required(option: typer.models.OptionInfo) -> typer.models.OptionInfo:
    option.help = f"{option.help} [required]"
    return option


@member_app.command("add")
def add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Full name, in quotes if it has spaces.")],
    email: Annotated[Optional[str], _required(typer.Option(help="E-mail address (unique)."))] = None,
    org: Annotated[Optional[str], _required(typer.Option("--org", "--organisation", help="Organisation or employer."))] = None,
    area: Annotated[Optional[str], _required(typer.Option("--area", help="Service area, e.g. housing (see: tanet area list)."))] = None,
    sector: Annotated[Optional[str], _required(typer.Option(help="public, third, private or other."))] = None,
    role: Annotated[Optional[str], _required(typer.Option(help="frontline, supervisor, manager, senior-leader or other."))] = None,
    phone: Annotated[Optional[str], typer.Option(help="Phone number.")] = None,
    joined: Annotated[Optional[str], typer.Option(help="Date joined (default today).")] = None,
    no_ambassador: Annotated[bool, typer.Option("--no-ambassador", help="Not a self-nominated ambassador.")] = False,
    notes: Annotated[Optional[str], typer.Option(help="Notes for the coordinator.")] = None,
    known_as: Annotated[Optional[str], typer.Option("--known-as", metavar="NAME", help=(
            "The name to greet them by (default: their first given name)."
        ))] = None,
) -> None:
    """Add one member."""
    _require_all({"--email": email, "--org": org, "--area": area, "--sector": sector, "--role": role})
    conn = connection()
    with transaction(conn):
        mid = members.add_member(
            conn, name=name, email=email, organisation=org, service_area=area, sector=sector, role=role, phone=phone,
            joined_on=optional_day(joined),
            ambassador=not no_ambassador, notes=notes, known_as=known_as, today=today())
    row = members.find_member(conn, str(mid))
    render.say(f"Added member #{mid}: {row['name']} ({row['organisation']}, {row['service_area']}, {row['sector']} sector).")


@member_app.command("list")
def list_(
    area: Area = None, sector: Sector = None, role: Role = None,
    org: Annotated[Optional[str], typer.Option("--org", help="Part of the organisation's name.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include members who have left.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """List members (those who have not left, unless --all)."""
    rows = members.list_members(connection(), today(), area=area, sector=sector, role=role, org=org, include_left=all_)
    columns = MEMBER_COLUMNS if all_ else [c for c in MEMBER_COLUMNS if c[0] != "left_on"]
    render.emit(rows, fmt.value, columns, title=lambda n: f"Members ({n})",
                csv_columns=list(members.MEMBER_KEYS), empty="No members match. Add some with: tanet member add or tanet member import")


@member_app.command("show")
def show(member: MemberArg, fmt: TreeFormatOpt = "table") -> None:
    """One member's details, meetings attended, check-ins, facilitation and resources."""
    conn = connection()
    row = members.find_member(conn, member)
    data = members.member_object(row, members.EXPORT_KEYS)
    data.update(members.activity(conn, row["id"]))
    data["active"] = membership.is_active(row, today())
    if fmt == "json":
        render.print_json(data)
        return
    render.key_values([(k.replace("_", " ").capitalize(), data[k]) for k in members.EXPORT_KEYS] + [("Active", data["active"])],
                  title=data["name"])
    att = data["attendance"]
    present = sum(1 for a in att if a["status"] == "present")
    render.heading(f"Meetings: present at {present}, apologies {sum(a['status'] == 'apologies' for a in att)}")
    render.table(att, [("date", "Date"), ("title", "Meeting"), ("status", "Status")], empty="No attendance recorded.")
    render.heading("Check-ins (private)")
    render.table(data["checkins"], [("date", "Date"), ("note", "Note"), ("follow_up", "Follow-up")],
                 empty="No check-ins recorded.")
    if data["facilitated"]:
        render.heading("Facilitated")
        render.table(data["facilitated"], [("date", "Date"), ("title", "Meeting")])
    if data["sessions"]:
        render.heading("Sessions presented")
        render.table(data["sessions"], [("meeting_id", "Meeting"), ("kind", "Kind"), ("title", "Title")])
    if data["resources"]:
        render.heading("Resources")
        render.table(data["resources"], [("id", "Id"), ("title", "Title"), ("created_on", "Shared")])
    if data["availability"]:
        render.heading("Usually busy")
        render.say("; ".join(a["pattern"] for a in data["availability"]))


@member_app.command("edit")
def edit(
    member: MemberArg,
    name: Annotated[Optional[str], typer.Option(help="New name.")] = None,
    email: Annotated[Optional[str], typer.Option(help="New e-mail address.")] = None,
    org: Org = None, area: Area = None, sector: Sector = None, role: Role = None,
    phone: Annotated[Optional[str], typer.Option(help="Phone number.")] = None,
    joined: Annotated[Optional[str], typer.Option(help="Date joined.")] = None,
    consent: Annotated[Optional[str], typer.Option(help="Date the member agreed to their details being held.")] = None,
    ambassador: Annotated[Optional[bool], typer.Option("--ambassador/--no-ambassador", help="Self-nominated ambassador.")] = None,
    notes: Annotated[Optional[str], typer.Option(help="Notes for the coordinator.")] = None,
    known_as: Annotated[Optional[str], typer.Option("--known-as", metavar="NAME", help="The name to greet them by.")] = None,
    fmt: TreeFormatOpt = "table",
) -> None:
    """Change a member's details."""
    conn = connection()
    changes = {"name": name, "email": email, "organisation": org, "service_area": area, "sector": sector,
               "role": role, "phone": phone, "joined_on": optional_day(joined),
               "consent_on": optional_day(consent), "ambassador": ambassador, "notes": notes,
               "known_as": known_as}
    with transaction(conn):
        after = members.edit_member(conn, member, changes, today())
    if fmt == "json":
        render.print_json(after)
    else:
        render.say(f"Updated member #{after['id']}: {after['name']}.")


Send = Annotated[bool, typer.Option("--send", help="Send the cancellations of the meetings ahead now over SMTP.")]


@member_app.command("leave")
def leave(member: MemberArg,
          on: Annotated[Optional[str], typer.Option("--on", help="Leaving date (default today).")] = None,
          send: Send = False) -> None:
    """Record that a member has left (their history stays); the meetings ahead they were
    sent are cancelled for them alone, and they come off future rotas."""
    from tanet.mail.withdrawals import meetings_ahead

    conn = connection()
    row = members.find_member(conn, member)
    if row["left_on"] and row["email"]:  # already left: the same command sends what did not go
        left = date.fromisoformat(row["left_on"])
        if meetings_ahead(conn, row["id"], max(left, today()), written_counts=False):
            take_off_what_is_ahead(conn, row, left, send)
            return
    when = optional_day(on) or today()
    with transaction(conn):  # leaving, the rotas and the cancellations: all or nothing
        row = members.leave(conn, member, when)
        rotas, written = _take_off(conn, row, when)
    render.say(f"{row['name']} left the network on {when.isoformat()}.")
    _tell(conn, row, rotas, written, send)


def _take_off(conn, row, from_day: date):
    """Off the rotas of the meetings ahead, and a cancellation of each they were sent
    (inside the caller's transaction)."""
    from tanet.mail import withdrawals
    from tanet.meetings import facilitation

    from_day = max(from_day, today())
    rotas = facilitation.off_rotas(conn, row["id"], from_day)
    withdrawn = withdrawals.withdraw(conn, row, withdrawals.meetings_ahead(conn, row["id"], from_day, written_counts=False))
    withdrawals.remove_drafts(conn, row["id"], from_day)
    return rotas, withdrawn


def take_off_what_is_ahead(conn, row, from_day: date, send: bool, forgetting: bool = False) -> None:
    """A leaver comes off the rotas of meetings still to come and is sent (or written) a
    cancellation of each such meeting they were sent, naming them alone."""
    with transaction(conn):
        rotas, written = _take_off(conn, row, from_day)
    _tell(conn, row, rotas, written, send, forgetting)


def _tell(conn, row, rotas: list, written, send: bool, forgetting: bool = False) -> None:
    say = render.note if forgetting else render.say  # stdout stays clean for privacy review's JSON
    if rotas:
        say(f"Taken off the rota; now needing a facilitator in place of {row['name']}: "
            + ", ".join(f"meeting #{m['id']} on {m['date']}" for m in rotas)
            + ". Choose one with: tanet meeting facilitate MEETING MEMBER...")
    if written is None:
        return
    say(f"Wrote {render.count(len(written.letters), 'cancellation')} (CANCEL) of the meetings ahead, "
        f"to {row['name']} alone, to {written.folder}.")
    if send:
        from tanet.cli.sending import send_before_erasing, send_written, sending

        if forgetting:
            send_before_erasing(conn, row, written)
            return
        with sending(True, "sending a leaver's cancellations"):  # the one sender lock, as every sender
            send_written(conn, written, resend=False, who="=cancellation")
    elif forgetting:
        say("Not sent: they are deleted with the rest of their details (with --send they go first).")
    else:
        render.say("Open them in your e-mail program to send them, or run the same command with --send.")


@member_app.command("rejoin")
def rejoin(member: MemberArg) -> None:
    """Bring back a member who had left."""
    conn = connection()
    from tanet.mail import withdrawals

    with transaction(conn):
        row, removed, again = withdrawals.rejoin(conn, member, today())
    render.say(f"{row['name']} is a member again.")
    if removed:
        render.say(f"{render.count(removed, 'cancellation')} never sent were removed, so nothing takes "
                   "meetings out of their calendar.")
    for meeting_id in again:
        render.say(f"Meeting #{meeting_id} was taken out of their calendar when they left. Invite them again with: "
                   f"tanet invite {meeting_id} --send --only {row['email']}")


@member_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(metavar="FILE", help=(
            ".xlsx, CSV, or Excel 'Unicode text' file with a header row (or tanet's JSON export)."
        ))],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file and show what would happen; save nothing.")] = False,
    update: Annotated[bool, typer.Option("--update", help="Update members whose e-mail is already known.")] = False,
    mapping: Annotated[Optional[List[str]], typer.Option("--map", metavar="KIND:WORD=VALUE", help=(
            "Say what a word in the file means, e.g. role:Teacher=frontline or "
            "area:Schools=education (saved for next time, except in a dry run; repeat for "
            "more)."
        ))] = None,
    columns: Annotated[Optional[List[str]], typer.Option("--column", metavar="FIELD=HEADER", help=(
            "Read a field from this column, e.g. --column role='Job title' (repeat for more)."
        ))] = None,
) -> None:
    """Import members from a sign-up sheet; any bad row means nothing is imported."""
    from tanet.register.member_columns import report, say_columns
    from tanet.register.member_files import plan_import

    conn = connection()
    progress, bar = None, None
    if sys.stderr.isatty() and file.is_file() and file.stat().st_size > 500_000:
        from rich.progress import Progress

        bar = Progress(console=render.console(stderr=True), transient=True)
        task = bar.add_task("Importing", total=None)
        bar.start()
        progress = lambda n: bar.update(task, completed=n)  # noqa: E731

    try:
        # Checked and written under one write lock, so a member added meanwhile cannot collide;
        # rows are written as they are read, and all of it is rolled back on any problem (and
        # in a dry run, which also forgets its --map options: the command it prints keeps them).
        with transaction(conn, dry_run=dry_run) as work:
            for item in mapping or []:
                kind, _, rest = item.partition(":")
                word, _, value = rest.partition("=")
                if not (kind and word and value):
                    raise TanetError(f"'{item}' is not a mapping; write it as KIND:WORD=VALUE, e.g. role:Teacher=frontline")
                vocabulary.add_alias(work, kind.strip().lower(), word, value)
            plan = plan_import(work, file, today(), update, write=True, progress=progress, columns=columns,
                               on_columns=lambda plan: say_columns(file, plan))
            if plan.error_count:
                discard(work)
    finally:
        if bar:
            bar.stop()
    report(conn, file, plan, today(), dry_run=dry_run, update=update, columns=columns or [], maps=mapping or [])


@member_app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="csv|json|addresses", help=(
            "csv, json, or addresses (Name <e-mail>; ... to paste into Bcc)."
        ))] = "csv",
    area: Annotated[Optional[List[str]], typer.Option("--area", help=(
            "With --format addresses: only this service area (repeat for more)."
        ))] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default: the screen).")] = None,
) -> None:
    """Export every member (not check-in notes); the CSV imports back with member import."""
    from tanet.register.member_files import addresses, export_rows, to_csv

    fmt = fmt.strip().lower()
    if fmt not in ("csv", "json", "addresses"):
        raise TanetError(f"member export writes csv, json or addresses, not '{fmt}'; use member list for a table.")
    conn = connection()
    if fmt == "addresses":
        text, count = addresses(conn, area or [], today())
        render.note("These addresses are for the Bcc line: in To or Cc every member would see all the others.")
    else:
        if area:
            raise TanetError("--area goes with --format addresses; member export writes every member.")
        records = export_rows(conn)
        count = len(records)
        text = render.to_json(records) + "\n" if fmt == "json" else to_csv(records)
    # A file gets a BOM so that Excel opens the CSV as UTF-8.
    if render.write_out(text, output, encoding="utf-8-sig" if fmt == "csv" else "utf-8"):
        render.say(f"Exported {render.count(count, 'member')} to {output}.")


@member_app.command("forget")
def forget(member: MemberArg,
           yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
           send: Send = False) -> None:
    """Erase a member's personal data for good; anonymous attendance is kept."""
    from tanet.mail import withdrawals

    conn = connection()
    row = members.find_member(conn, member)
    ahead = [] if row["forgotten_on"] or not row["email"] else \
        withdrawals.meetings_ahead(conn, row["id"], today(), written_counts=False)
    if not yes:
        raise TanetError(f"This erases {row['name']}'s name, e-mail, phone, notes and check-in notes for good. "
                         f"To go ahead: tanet member forget {row['id']} --yes"
                         + (f" --send (--send first sends them the cancellations of {render.count(len(ahead), 'meeting')}"
                            " still in their calendar, which cannot be sent once their address is erased)"
                            if ahead else ""))
    if row["forgotten_on"]:
        # Run again after another program kept the old copies: this finishes the erasure.
        require_writable(conn)
        left = _old_copies_left()
        _finish_erasure(conn, row["id"])
        if not left:
            raise TanetError(f"Member #{row['id']} has already been forgotten; no copy of their details is left "
                             "in the database file.")
        render.say(f"Member #{row['id']} was forgotten; the old copies of their details are now gone too.")
        return
    if not row["forgotten_on"]:  # while their address is still known
        take_off_what_is_ahead(conn, row, today(), send, forgetting=True)
    # The freed bytes are overwritten; the checkpoint clears the old copies from the WAL.
    from tanet import privacy

    with transaction(conn, erasing=True):
        mid = privacy.forget(conn, str(row["id"]), today())
    _finish_erasure(conn, mid)
    render.say(f"Member #{mid} has been forgotten. Their attendance is kept anonymously. "
               "Older backups and handover packs still hold their details: delete those too.")


def _old_copies_left() -> bool:
    wal = Path(f"{db_path()}-wal")
    return wal.is_file() and wal.stat().st_size > 0


def _finish_erasure(conn, member_id: int) -> None:
    """Erasure is done only once the write-ahead log is copied into the file (over the old
    pages) and emptied; say so when another reader holds it back."""
    from tanet.store.journal import clear_old_copies

    if not clear_old_copies(conn):
        raise TanetError(f"Member #{member_id} is forgotten, but another program (perhaps another tanet window) "
                         "has the database open, so an old copy of their details is still in the database file. "
                         f"Close the other program, then run: tanet member forget {member_id} --yes")


@member_app.command("data")
def data(member: MemberArg,
         output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default: the screen).")] = None) -> None:
    """Everything held about one member, as JSON (a subject access request)."""
    from tanet.privacy import subject_access

    doc = subject_access(connection(), member)
    text = render.to_json(doc) + "\n"
    if render.write_out(text, output):
        render.say(f"Wrote everything held about {doc['member']['name']} to {output}.")
