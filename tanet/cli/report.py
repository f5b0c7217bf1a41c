"""`tanet report ...` and `tanet resource ...`."""


from enum import Enum
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from tanet.cli.common import Format, FormatOpt, TreeFormatOpt, connection, day, new_app, optional_day, today
from tanet.output import render
from tanet.store.db import transaction

report_app = new_app("The summary for management: a quarter, or any span of dates.", name="report")
resource_app = new_app("Resources the network produced and the organisations that adopted them.", name="resource")


class ReportFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"
    html = "html"
    docx = "docx"


ReportFormatOpt = Annotated[ReportFormat, typer.Option("--format", "-f", help="table, markdown, json, html or docx.")]
OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default: the screen).")]


SendTo = Annotated[Optional[List[str]], typer.Option("--send-to", metavar="ADDRESS", help=(
        "Send the summary (HTML and plain text) to this address through the outbox "
        "(repeat, or separate with commas, for more)."
    ))]


def send_summary(data: dict, addresses: list[str]) -> None:
    """The summary as one e-mail per address (HTML with a plain-text alternative), written to
    ./summaries/LABEL/ and sent through the outbox, holding the one sender lock throughout."""
    from tanet.cli.sending import write_then_send

    conn = connection()
    # Each address named is sent this summary every time: the outbox keeps one row per address
    # for all summaries, so "already sent" would skip every quarter after the first.
    write_then_send(conn, lambda: _write_summary(conn, data, addresses), send=True, what="report --send-to",
                    resend=True, who="recipient",
                    again="the same command with --send-to ADDRESS, once you know it did not arrive")


def _pasted(values: list[str]) -> list[str]:
    """The addresses in --send-to values as pasted from a mail program: several in one value,
    separated by commas or semicolons, each bare or as `Name <address>`."""
    import re
    from email.utils import getaddresses

    found = []
    for value in values:
        if "<" in value:
            found += [address for _, address in getaddresses([value.replace(";", ",")]) if address]
        else:
            found += [a for a in re.split(r"[,;\s]+", value) if a]
    return found


def _write_summary(conn, data: dict, addresses: list[str]):
    """One message per address (each once, however often named) in ./summaries/LABEL/."""
    from tanet.mail import compose, outbox
    from tanet.store import settings
    from tanet.store.settings import valid_email
    from tanet.summary import document as report_render
    from tanet.summary import plaintext

    values = settings.get_all(conn)
    title, _ = report_render.document(data)
    text, html = plaintext.to_plain(data), report_render.to_html(data)
    letters, seen = [], set()
    # One flag may carry several, as copied from a mail program: "a@x.org; b@y.org".
    for address in _pasted(addresses):
        address = valid_email(address)
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        msg = compose.summary_message(values, address, title, text, html)
        letters.append(outbox.Letter(f"summary-{compose.slug(address)}.eml", msg, "summary", [(None, address)]))
    folder = Path("summaries") / compose.slug(data["period"]["label"])
    return outbox.write(conn, folder, None, None, None, letters, ("summary",))


def emit_summary(data: dict, fmt: ReportFormat, output: Optional[Path]) -> None:
    from tanet.summary import document as report_render
    from tanet.summary import terminal

    if fmt == ReportFormat.table and output is None:
        terminal.to_rich(data, render.console())
        return
    if fmt == ReportFormat.json:

        text = render.to_json(data) + "\n"
    elif fmt == ReportFormat.markdown:
        text = report_render.to_markdown(data)
    elif fmt == ReportFormat.html:
        text = report_render.to_html(data)
    elif fmt == ReportFormat.docx:
        if output is None:
            from tanet.errors import TanetError

            raise TanetError("A Word document cannot go to the screen; give a file: -o summary.docx")
        from tanet.store import settings
        from tanet.summary import word

        text = word.to_docx(data, settings.get_all(connection()))
    else:
        import io

        from rich.console import Console

        c = Console(record=True, width=110, file=io.StringIO())
        terminal.to_rich(data, c)
        text = c.export_text()
    if render.write_out(text, output):
        render.say(f"Wrote the {data['period']['label']} summary to {output}.")


@report_app.command("quarter")
def quarter(period: Annotated[Optional[str], typer.Argument(metavar="[PERIOD]", help=(
        "e.g. 2027Q1 or 2027-Q1 (default: this quarter)."
    ))] = None,
            fiscal: Annotated[bool, typer.Option("--fiscal", help="Financial-year quarters (report.fiscal_year_start).")] = False,
            fmt: ReportFormatOpt = ReportFormat.table, output: OutputOpt = None, send_to: SendTo = None) -> None:
    """The quarterly summary."""
    from tanet.store import settings
    from tanet.summary import report

    conn = connection()
    p = report.period_of_quarter(period, fiscal, int(settings.get(conn, "report.fiscal_year_start")), today())
    _say_if_not_started(p)
    data = report.summary(conn, p, today())
    if send_to:
        send_summary(data, send_to)
        return
    emit_summary(data, fmt, output)


def _say_if_not_started(period: dict) -> None:
    """A period still to come has nothing to count: say so, rather than let a page of zeros
    pass for a quiet quarter (an easy slip with --fiscal, whose Q4 is January to March)."""
    if period["start"] > today().isoformat():
        render.note(f"{period['label']} has not started yet (it runs {period['start']} to {period['end']}), "
                    "so every figure is zero. Choose an earlier period, e.g. last.")


@report_app.command("note")
def note(period: Annotated[str, typer.Argument(metavar="PERIOD", help="e.g. 2027Q1, last or this.")],
         text: Annotated[Optional[str], typer.Argument(metavar="[TEXT]", help="Your commentary (empty to remove it).")] = None,
         file: Annotated[Optional[Path], typer.Option("--file", metavar="FILE", help="Read the commentary from a text file.")] = None,
         fiscal: Annotated[bool, typer.Option("--fiscal", help="Financial-year quarters (report.fiscal_year_start).")] = False) -> None:
    """Your commentary for a period, shown at the top of its summary."""
    from tanet.errors import TanetError
    from tanet.sheets.textfiles import read_text
    from tanet.store import settings
    from tanet.summary import report

    if (text is None) == (file is None):
        raise TanetError("Give the commentary as TEXT or with --file FILE (one of them).")
    conn = connection()
    p = report.period_of_quarter(period, fiscal, int(settings.get(conn, "report.fiscal_year_start")), today())
    with transaction(conn):
        report.set_commentary(conn, p["label"], read_text(file) if file else text)
    render.say(f"Commentary for {p['label']} saved; it opens that period's summary.")


@report_app.command("range")
def range_(from_: Annotated[str, typer.Option("--from", help="First day.")],
           to: Annotated[str, typer.Option("--to", help="Last day.")],
           fmt: ReportFormatOpt = ReportFormat.table, output: OutputOpt = None, send_to: SendTo = None) -> None:
    """The same summary for any span of dates."""
    from tanet.summary import report

    conn = connection()
    data = report.summary(conn, report.range_period(day(from_), day(to)), today())
    if send_to:
        send_summary(data, send_to)
        return
    emit_summary(data, fmt, output)


RESOURCE_COLUMNS = [("id", "Id"), ("title", "Title"), ("kind", "Kind"), ("created_on", "Shared"), ("adoptions", "Adoptions")]


@resource_app.command("add")
def resource_add(title: Annotated[str, typer.Argument(metavar="TITLE", help="The resource's title.")],
                 kind: Annotated[Optional[str], typer.Option(help="e.g. model, guide, template, training.")] = None,
                 description: Annotated[Optional[str], typer.Option(help="What it is.")] = None,
                 meeting: Annotated[Optional[str], typer.Option(help="The meeting it came from.")] = None,
                 by: Annotated[Optional[List[str]], typer.Option("--by", help="A member who made it (repeat for more).")] = None,
                 on: Annotated[Optional[str], typer.Option("--on", help="When it was shared (default today).")] = None,
                 fmt: TreeFormatOpt = "table") -> None:
    """Record a resource the network produced."""
    from tanet.meetings import schedule
    from tanet.register import resources

    conn = connection()
    with transaction(conn):
        meeting_id = schedule.find_meeting(conn, meeting, today())["id"] if meeting else None
        r = resources.add(conn, title, kind=kind, description=description, meeting_id=meeting_id, authors=by or [],
                          on=optional_day(on), today=today())
    if fmt == "json":
        render.print_json(r)
    else:
        render.say(f"Added resource #{r['id']}: {r['title']}.")


@resource_app.command("adopt")
def resource_adopt(resource: Annotated[str, typer.Argument(metavar="RESOURCE", help="Id or part of the title.")],
                   org: Annotated[str, typer.Option("--org", help="The organisation that adopted it.")],
                   on: Annotated[Optional[str], typer.Option("--on", help="When (default today).")] = None) -> None:
    """Record that an organisation adopted a resource."""
    from tanet.register import resources

    conn = connection()
    with transaction(conn):
        known, differs = resources.known_organisation(conn, org)
        r = resources.adopt(conn, resource, known, optional_day(on) or today(), today())
    if differs:
        render.say(f"'{org}' taken as {known}, the name already known.")
    render.say(f"'{r['title']}' is now adopted by {render.count(r['adoptions'], 'organisation')}.")


@resource_app.command("unadopt")
def resource_unadopt(resource: Annotated[str, typer.Argument(metavar="RESOURCE", help="Id or part of the title.")],
                     org: Annotated[str, typer.Option("--org", help="The organisation whose adoption to take back.")]) -> None:
    """Take back an adoption recorded by mistake."""
    from tanet.register import resources

    conn = connection()
    with transaction(conn):
        r, recorded = resources.unadopt(conn, resource, org)
    render.say(f"Removed {recorded}'s adoption of '{r['title']}'; "
               f"it is now adopted by {render.count(r['adoptions'], 'organisation')}.")


@resource_app.command("list")
def resource_list(fmt: FormatOpt = Format.table) -> None:
    """List resources and how many organisations adopted each."""
    from tanet.register import resources

    render.emit(resources.list_resources(connection()), fmt.value, RESOURCE_COLUMNS, title="Resources",
                empty="No resources yet. Add one with: tanet resource add TITLE")


@resource_app.command("show")
def resource_show(resource: Annotated[str, typer.Argument(metavar="RESOURCE", help="Id or part of the title.")],
                  fmt: TreeFormatOpt = "table") -> None:
    """One resource and who adopted it."""
    from tanet.register import resources

    data = resources.show(connection(), resource)
    if fmt == "json":
        render.print_json(data)
        return
    render.key_values([("Id", data["id"]), ("Title", data["title"]), ("Kind", data["kind"]),
                   ("Description", data["description"]), ("Shared", data["created_on"]),
                   ("Made by", ", ".join(data["authors"])), ("Adoptions", data["adoptions"])], title=data["title"])
    render.table(data["adopted_by"], [("organisation", "Organisation"), ("adopted_on", "Adopted on")],
                 empty="Not adopted yet.")
