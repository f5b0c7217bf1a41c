"""What every command shares: the database, today's date, and option types."""


import os
import sqlite3
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from tanet.dates import parse_date
from tanet.store import db as dbmod


class State:
    db_option: Optional[Path] = None
    conn: Optional[sqlite3.Connection] = None
    argv: list[str] = []  # the command line as given, for a crash report


state = State()


def db_path() -> Path:
    return dbmod.resolve_path(state.db_option)


def connection(create: bool = False) -> sqlite3.Connection:
    """The command's connection, opened (and upgraded) on first use; only `init`
    creates a missing file, so a mistyped --db never makes a new empty one."""
    if state.conn is None:
        state.conn = dbmod.open_db(db_path(), create=create)
    return state.conn


def close() -> None:
    if state.conn is not None:
        state.conn.close()
        state.conn = None


def today() -> date:
    """Today; TANET_TODAY (YYYY-MM-DD) pretends it is another day, for rehearsals and tests."""
    fake = os.environ.get("TANET_TODAY")
    if not fake:
        return date.today()
    try:
        return date.fromisoformat(fake.strip())
    except ValueError:
        from tanet.errors import TanetError
        from tanet.text import for_screen

        raise TanetError(f"TANET_TODAY is '{for_screen(fake)}', which is not a date. Give it as YYYY-MM-DD "
                         "(e.g. 2027-01-31), or unset it to use today's date.") from None


def day(text: str) -> date:
    return parse_date(text, today())


def optional_day(text: Optional[str]) -> Optional[date]:
    return parse_date(text, today()) if text else None


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class TreeFormat(str, Enum):
    """For things that are not flat rows: no CSV."""
    table = "table"
    json = "json"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, json or csv.")]
TreeFormatOpt = Annotated[TreeFormat, typer.Option("--format", "-f", help="table or json.")]
MemberArg = Annotated[str, typer.Argument(metavar="MEMBER", help="Id, e-mail address, or a unique part of the name.")]
MeetingArg = Annotated[str, typer.Argument(metavar="MEETING", help="Id, date (YYYY-MM-DD), next or last.")]


class WrappingGroup(TyperGroup):
    """A command group whose list of commands gives each one's whole first sentence, wrapped
    to the terminal rather than cut off with '...' (Click's default cuts at the width)."""

    def format_commands(self, ctx, formatter):
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            rows.append((name, " ".join((command.short_help or (command.help or "").split("\n\n")[0]).split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def new_app(help: str, **kw) -> typer.Typer:
    """One small Typer app per command group."""
    kw.setdefault("cls", WrappingGroup)
    return typer.Typer(
        help=help,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        no_args_is_help=True,
        add_completion=False,
        **kw,
    )
