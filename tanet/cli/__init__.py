"""The command line: each module wires one group of commands to the core.

Only light modules are imported here; Rich, sqlite_utils, icalendar and
holidays are imported inside the commands that use them.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from tanet import __version__
from tanet.cli import common
from tanet.errors import TanetError


class TanetGroup(TyperGroup):
    """Turns a TanetError into one line on stderr and exit code 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TanetError as e:
            common.close()
            sys.stderr.write(f"Error: {e}\n")
            raise typer.Exit(1) from None
        except sqlite3.OperationalError as e:
            common.close()
            sys.stderr.write(f"Error: the database could not be used ({e}). "
                             f"Check the file {common.db_path()} (try: tanet check).\n")
            raise typer.Exit(1) from None
        finally:
            common.close()


app = typer.Typer(
    name="tanet",
    cls=TanetGroup,
    help="Run a trauma-informed practice network: members, meetings, check-ins, "
    "attendance, invitations and quarterly reports, in one SQLite file.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tanet {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    db: Annotated[Optional[Path], typer.Option(
        "--db", metavar="PATH",
        help="The database file (default: $TANET_DB, else your user data folder).")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    common.close()
    common.state.db_option = db


from tanet.cli import (  # noqa: E402  (registering the command groups)
    admin, members, meetings, attendance, calendar, report, availability,
)

for module in (admin, members, meetings, attendance, calendar, report, availability):
    module.register(app)


def main() -> None:
    app(prog_name="tanet")
