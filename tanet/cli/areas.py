"""`tanet area`: the list of service areas members belong to, and the words that stand for them."""

from typing import Annotated

import typer

from tanet.cli.common import Format, FormatOpt, connection, new_app, today
from tanet.output import render
from tanet.register import vocabulary
from tanet.store.db import transaction

area_app = new_app("The list of service areas members belong to.", name="area")


@area_app.command("list")
def area_list(fmt: FormatOpt = Format.table) -> None:
    """The service areas and how many active members each has."""
    rows = vocabulary.area_counts(connection(), today())
    render.emit(rows, fmt.value, [("service_area", "Service area"), ("active_members", "Active members")],
                title="Service areas")


@area_app.command("add")
def area_add(name: Annotated[str, typer.Argument(metavar="NAME", help="The new service area.")]) -> None:
    """Add a service area to the list."""
    conn = connection()
    with transaction(conn):
        added = vocabulary.add_area(conn, name)
    render.say(f"Added service area '{added}'.")


@area_app.command("rename")
def area_rename(old: Annotated[str, typer.Argument(metavar="OLD", help="Current name.")],
                new: Annotated[str, typer.Argument(metavar="NEW", help="New name.")]) -> None:
    """Rename a service area; its members follow."""
    conn = connection()
    with transaction(conn):
        before, after, count = vocabulary.rename_area(conn, old, new)
    render.say(f"Renamed '{before}' to '{after}' ({count} members).")


@area_app.command("alias")
def area_alias(alias: Annotated[str, typer.Argument(metavar="WORD", help="The word a sign-up sheet uses, e.g. Schools.")],
               area: Annotated[str, typer.Argument(metavar="AREA", help="The service area it means, e.g. education.")]) -> None:
    """Let a word stand for a service area from now on (in imports and commands)."""
    conn = connection()
    with transaction(conn):
        word, target = vocabulary.add_alias(conn, "area", alias, area)
    render.say(f"'{word}' now means the service area '{target}'.")
