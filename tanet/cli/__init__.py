"""The command line: each module wires one group of commands to the core.

Only light modules are imported here; Rich, sqlite_utils, icalendar and
holidays are imported inside the commands that use them.
"""


import importlib
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from tanet import __version__
from tanet.cli import common
from tanet.errors import TanetError

# Every command group, loaded only when used: Typer builds a command's options from
# its signature on every run, so building all of them would cost each command ~50 ms.
COMMANDS = {
    "init": ("admin", "init_app"), "config": ("admin", "config_app"), "info": ("admin", "info_app"),
    "member": ("members", "member_app"), "area": ("areas", "area_app"),
    "meeting": ("meetings", "meeting_app"), "session": ("meetings", "session_app"),
    "theme": ("meetings", "theme_app"),
    "checkin": ("attendance", "checkin_app"), "attendance": ("attendance", "attendance_app"),
    "followup": ("attendance", "followup_app"),
    "invite": ("messages", "invite_app"), "remind": ("messages", "remind_app"),
    "thanks": ("messages", "thanks_app"), "outbox": ("messages", "outbox_app"),
    "rsvp": ("replies", "rsvp_app"), "feedback": ("feedback", "feedback_app"),
    "handover": ("continuity", "handover_app"), "organiser": ("continuity", "organiser_app"),
    "outreach": ("continuity", "outreach_app"), "privacy": ("continuity", "privacy_app"),
    "export": ("calendar", "export_app"),
    "availability": ("availability", "availability_app"),
    "report": ("report", "report_app"), "resource": ("report", "resource_app"),
    "backup": ("admin", "backup_app"), "restore": ("admin", "restore_app"), "check": ("admin", "check_app"), "demo": ("admin", "demo_app"),
}


# What an option's value is, in the words of the help (Typer would print `<str>`).
METAVARS = {
    "email": "ADDRESS", "org": "ORGANISATION", "area": "AREA", "sector": "SECTOR", "role": "ROLE",
    "phone": "PHONE", "joined": "DATE", "consent": "DATE", "on": "DATE", "start": "DATE", "until": "DATE",
    "from": "DATE", "to": "DATE", "time": "HH:MM", "times": "HH:MM,...", "duration": "MINUTES",
    "count": "N", "every": "WEEKS", "title": "TEXT", "location": "PLACE", "url": "LINK", "notes": "TEXT",
    "note": "TEXT", "reason": "TEXT", "kind": "KIND", "status": "STATUS", "presenter": "MEMBER",
    "guest": "NAME", "guest-org": "ORGANISATION", "network": "NAME", "organiser-name": "NAME",
    "organiser-email": "ADDRESS", "timezone": "ZONE", "meeting": "MEETING", "by": "MEMBER",
    "description": "TEXT", "busy": "PATTERN", "weekdays": "DAYS", "avoid": "FILE.ics", "members": "N",
    "years": "N", "seed": "N", "output": "FILE", "db": "PATH", "how": "HOW",
    "contact": "NAME", "outcome": "TEXT", "name": "NAME", "uid": "UID",
}


def _tidy_help(command) -> None:
    """Help in people's words: `--email ADDRESS`, `--joined DATE` and `NAME`, not Typer's
    `<str>` and `{NAME}`."""
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)
    for param in command.params:
        if param.param_type_name == "argument" and param.metavar:
            plain = param.metavar if param.required or param.metavar.startswith("[") else f"[{param.metavar}]"
            param.make_metavar = lambda ctx=None, usage=False, plain=plain: plain
        elif param.param_type_name == "option" and not param.is_flag and param.metavar is None:
            long = next((o[2:] for o in param.opts if o.startswith("--")), param.name or "")
            kind = getattr(param.type, "name", "")
            param.metavar = METAVARS.get(long) or {"integer": "N", "path": "FILE"}.get(kind) or (
                None if kind == "choice" else "TEXT")


def load_app(name: str) -> typer.Typer:
    module, attribute = COMMANDS[name]
    return getattr(importlib.import_module(f"tanet.cli.{module}"), attribute)


class TanetGroup(common.WrappingGroup):
    """Loads command groups lazily; turns a TanetError into one line on stderr and exit 1."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        command = typer.main.get_command(load_app(name))
        command.name = name
        _tidy_help(command)
        return command

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if name and name not in COMMANDS and not name.startswith("-"):
            import difflib

            close = difflib.get_close_matches(name, COMMANDS, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            ctx.fail(f"No such command '{name}'.{hint} See: tanet --help")
        return super().resolve_command(ctx, args)

    def main(self, args=None, *rest, **kw):
        common.state.argv = sys.argv[1:] if args is None else [str(a) for a in args]
        # Before Click reads them: a refusal here names the argument, and nothing runs.
        _refuse_bytes_that_are_not_text(common.state.argv)
        return super().main(args, *rest, **kw)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TanetError as e:
            common.close()
            _error(str(e))
        except sqlite3.DatabaseError as e:
            common.close()
            from tanet.store.db import explain

            _error(str(explain(e, common.db_path())))
        except OverflowError:
            common.close()
            _error("A number given is far too large (ids, counts and years are much smaller). "
                   "Check it and try again; nothing was changed.")
        except RecursionError:
            common.close()
            _error("The input is nested too deeply to read (a file of that shape is not one tanet wrote). "
                   "Nothing was changed.")
        except KeyboardInterrupt:
            # The command's transaction has been rolled back by now.
            common.close()
            sys.stderr.write("\nStopped: this command changed nothing.\n")
            raise typer.Exit(130) from None
        except (typer.TyperException, typer.Exit, typer.Abort, BrokenPipeError):
            raise  # usage errors (exit 2), a command's own exit, output piped to `head`: Click's to handle
        except Exception as e:
            common.close()
            from tanet.output import diagnostics

            diagnostics.crash(e, common.state.argv)
            raise typer.Exit(1) from None
        finally:
            common.close()
            if "tanet.output.diagnostics" in sys.modules:  # the log ends with the command (a test runs many)
                sys.modules["tanet.output.diagnostics"].stop()


def _refuse_bytes_that_are_not_text(args: list[str]) -> None:
    """Bytes in an argument (or in TANET_DB) that are not UTF-8 reach Python as lone
    surrogates, which would fail far away (in SQLite, in a file name, on the screen); they
    are refused once, here, naming where they are."""
    import os

    places = [(f"The {name} setting in the environment", os.environ.get(name, ""))
              for name in ("TANET_DB", "TANET_TODAY")]
    for i, arg in enumerate(args):
        if arg.startswith("--") and "=" in arg:
            places.append((f"The value of {arg.split('=', 1)[0]}", arg))
        elif i and args[i - 1].startswith("-") and args[i - 1] != "-" and "=" not in args[i - 1]:
            places.append((f"The value of {args[i - 1]}", arg))
        else:
            places.append((f"The argument '{arg}'", arg))
    for where, value in places:
        if any("\udc80" <= c <= "\udcff" for c in value):
            sys.stderr.write(f"Error: {_screen(where)} holds bytes that are not UTF-8 text. Type it again (if it "
                             "names a file, rename the file); if the terminal shows odd characters, set it to "
                             "UTF-8 first.\n")
            sys.exit(1)


def _screen(text: str) -> str:
    from tanet.text import for_screen

    return for_screen(text)


def _error(message: str):
    from tanet.text import for_screen

    if "tanet.output.diagnostics" in sys.modules:
        from tanet.output import diagnostics

        if diagnostics.SHOWN["debug"]:
            diagnostics.show_traceback()

    sys.stderr.write("Error: " + for_screen(" ".join(message.split("\n"))) + "\n")
    raise typer.Exit(1) from None


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
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Say on stderr what tanet does: the database and files it opens, reads "
        "and writes, and its talk with the mail servers (never a password).")] = False,
    debug: Annotated[bool, typer.Option(
        "--debug", help="As --verbose, and show the traceback of any error.")] = False,
) -> None:
    common.close()
    common.state.db_option = db
    if verbose or debug or "tanet.output.diagnostics" in sys.modules:  # off again after a verbose run in-process
        from tanet.output import diagnostics

        diagnostics.start(verbose, debug)


def main() -> None:
    """`tanet` itself (tests run `app` in their own process instead)."""
    import gc

    # What is made so far (Typer's and tanet's modules, the app) lives until tanet ends: frozen,
    # the cycle collector no longer goes over it again at each full collection. Sending 1,000
    # invitations takes some 10% less CPU; nothing frozen is ever garbage.
    gc.freeze()
    app(prog_name="tanet")
