"""Generate the command reference (docs/commands.md) from the commands themselves,
and the picture of the quarterly summary (docs/summary.svg).

    python -m tanet.output.docs > docs/commands.md
    python -m tanet.output.docs --summary-svg docs/summary.svg
"""

import sys

import typer

from tanet.cli import COMMANDS, app


def walk():
    """(full name, click command) for every command, in the order of `tanet --help`."""
    root = typer.main.get_command(app)
    ctx = typer.Context(root, info_name="tanet")
    for name in COMMANDS:
        cmd = root.get_command(ctx, name)
        subs = getattr(cmd, "commands", None)
        if subs:
            for sub_name, sub in subs.items():
                yield f"tanet {name} {sub_name}", sub, cmd
        else:
            yield f"tanet {name}", cmd, None


def _usage(full: str, cmd) -> str:
    ctx = typer.Context(cmd, info_name=full)
    return " ".join(cmd.collect_usage_pieces(ctx))


def reference() -> str:
    lines = ["# Command reference", "",
             "Generated from the commands themselves (`make docs`); a test fails when it is out of date.", "",
             "Every command takes the top-level option `--db PATH` before the command name "
             "(default: `$TANET_DB`, else the per-user data folder).", ""]
    group_seen = set()
    for full, cmd, group in walk():
        top = full.split()[1]
        if group is not None and top not in group_seen:
            group_seen.add(top)
            lines += [f"## tanet {top}", "", (group.help or "").strip(), ""]
        elif group is None:
            lines += [f"## {full}", ""]
        lines += [f"### `{full} {_usage(full, cmd)}`" if group is not None else f"`{full} {_usage(full, cmd)}`", "",
                  (cmd.help or "").strip(), ""]
        opts = []
        for p in cmd.params:
            if p.param_type_name == "option" and p.help:
                opts.append(f"- `{', '.join(p.opts)}`: {p.help}")
            elif p.param_type_name == "argument":
                help_text = getattr(p, "help", None) or ""
                opts.append(f"- `{(p.metavar or p.name).upper()}`: {help_text}")
        if opts:
            lines += opts + [""]
    return "\n".join(lines).rstrip() + "\n"


def summary_svg(path: str) -> None:
    """Build the demo network in a temporary file and save its quarterly summary as SVG."""
    import tempfile
    from datetime import date
    from pathlib import Path

    from rich.console import Console

    from tanet import dates
    from tanet.demo.build import build
    from tanet.store.db import open_db
    from tanet.summary import report, terminal

    today = date.today()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "demo.db"
        build(db, members=140, years=2, seed=7, today=today)
        conn = open_db(db)
        year, q = dates.previous_quarter(*dates.quarter_of(today, False, 4))
        data = report.summary(conn, report.period_of_quarter(f"{year}Q{q}", False, 4, today), today)
        conn.close()
    console = Console(record=True, width=110, file=open(__import__("os").devnull, "w"))
    terminal.to_rich(data, console)
    console.save_svg(path, title="tanet report quarter")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--summary-svg":
        summary_svg(sys.argv[2])
    else:
        sys.stdout.write(reference())
