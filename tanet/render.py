"""The only module that knows Rich: tables, key/value panels, JSON and CSV output."""

from __future__ import annotations

import csv
import json
import os
import sys
from typing import Any, Iterable, Sequence

_consoles: dict[bool, Any] = {}


def console(stderr: bool = False):
    """A Rich console; colour follows the terminal and NO_COLOR."""
    if stderr not in _consoles:
        from rich.console import Console

        stream = sys.stderr if stderr else sys.stdout
        tty = stream.isatty()
        _consoles[stderr] = Console(
            file=stream,
            width=None if tty else int(os.environ.get("COLUMNS", 120)),
            no_color=bool(os.environ.get("NO_COLOR")) or not tty,
            highlight=False,
            soft_wrap=False,
        )
    # CliRunner swaps sys.stdout between invocations: follow it.
    c = _consoles[stderr]
    c.file = sys.stderr if stderr else sys.stdout
    return c


def reset() -> None:
    _consoles.clear()


def text(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def print_csv(rows: Iterable[dict], columns: Sequence[str]) -> None:
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([text(r.get(c)) for c in columns])


def table(rows: Sequence[dict], columns: Sequence[tuple[str, str]], title: str | None = None,
          caption: str | None = None, empty: str = "Nothing to show.") -> None:
    from rich.table import Table

    if not rows:
        console().print(empty)
        return
    t = Table(title=title, caption=caption, show_lines=False, header_style="bold")
    for key, header in columns:
        t.add_column(header, overflow="fold")
    for r in rows:
        t.add_row(*[text(r.get(k)) for k, _ in columns])
    console().print(t)


def emit(rows: list[dict], fmt: str, columns: Sequence[tuple[str, str]], *, title: str | None = None,
         json_data: Any = None, csv_columns: Sequence[str] | None = None, empty: str = "Nothing to show.",
         caption: str | None = None) -> None:
    """Print a list in the chosen format: table (default), json or csv."""
    if fmt == "json":
        print_json(rows if json_data is None else json_data)
    elif fmt == "csv":
        print_csv(rows, csv_columns or [k for k, _ in columns])
    else:
        table(rows, columns, title=title, empty=empty, caption=caption)


def record(pairs: Sequence[tuple[str, Any]], title: str | None = None) -> None:
    """One thing's details as a two-column table."""
    from rich.table import Table

    t = Table(title=title, show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    for k, v in pairs:
        t.add_row(k, text(v))
    console().print(t)


def heading(s: str) -> None:
    console().print(f"\n[bold]{s}[/bold]")


def deliver(data, output=None, encoding: str = "utf-8") -> bool:
    """Write text or bytes to the file `output`, or to stdout when there is none.

    Returns True when a file was written (so the caller can say where)."""
    if output is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        sys.stdout.flush()
        return False
    from tanet.errors import TanetError

    try:
        with open(output, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode(encoding))
    except OSError as e:
        raise TanetError(f"Cannot write {output}: {e.strerror}. Choose a folder you can write to.") from None
    return True


def say(message: str) -> None:
    """A confirmation for the coordinator, on stdout."""
    sys.stdout.write(message + "\n")


def note(message: str) -> None:
    """A side remark (warnings, where a file went) on stderr, so stdout stays clean."""
    sys.stderr.write(message + "\n")
