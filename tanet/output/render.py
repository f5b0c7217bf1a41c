"""The only module that knows Rich: tables, key/value panels, JSON and CSV output.

Data is never markup: consoles are made with markup and emoji off, and every
cell is handed to Rich as a literal `Text` with control characters made visible."""

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
            markup=False,
            emoji=False,
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


def cell(value: Any, style: str = ""):
    """A table cell: the value shown literally, whatever characters it holds."""
    from rich.text import Text

    from tanet.text import for_screen

    return Text(for_screen(text(value)), style=style)


_encoder = json.JSONEncoder(indent=2, ensure_ascii=False, default=str)


def to_json(data: Any) -> str:
    """JSON with readable accents; DEL and C1 controls written as \\u escapes (json already
    escapes the C0 ones), so no terminal ever receives them raw."""
    text = _encoder.encode(data)
    if text.isascii() and "\x7f" not in text:
        return text
    import re

    return re.sub(r"[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(data: Any) -> None:
    if not isinstance(data, (list, dict)) and hasattr(data, "__next__"):
        return print_json_stream(data)
    sys.stdout.write(to_json(data) + "\n")


def print_json_stream(items) -> None:
    """A JSON list written item by item (the same text as print_json of the whole list),
    so a register of any size prints in little memory."""
    out = sys.stdout.write
    first = True
    for item in items:
        out(("[\n  " if first else ",\n  ") + to_json(item).replace("\n", "\n  "))
        first = False
    out("[]\n" if first else "\n]\n")


def print_csv(rows: Iterable[dict], columns: Sequence[str]) -> None:
    from tanet.text import csv_out, for_screen

    shown = for_screen if sys.stdout.isatty() else (lambda v: v)  # a file gets the data exactly
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([shown(csv_out(text(r.get(c)))) for c in columns])




def terminal_width() -> int:
    if sys.stdout.isatty():
        import shutil

        return shutil.get_terminal_size().columns
    try:
        return max(20, int(os.environ.get("COLUMNS", 120)))
    except ValueError:
        return 120


def colour() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def grid(headers: Sequence[str], rows: Sequence[Sequence[Any]], total_width: int) -> str:
    """Rows of values as a table's text, `total_width` wide at most (tanet.output.table draws it)."""
    from tanet.output.table import render
    from tanet.text import for_screen

    return render([for_screen(h) for h in headers], [[for_screen(text(v)) for v in row] for row in rows],
                  total_width=total_width, bold=colour())


def table(rows: Sequence[dict], columns: Sequence[tuple[str, str]], title: str | None = None,
          caption: str | None = None, empty: str = "Nothing to show.") -> None:
    """A list as a table (tanet.table draws it: Rich is far too slow for thousands of rows)."""
    from tanet.output.table import render
    from tanet.text import for_screen

    if not rows:
        say(empty)
        return
    body = [[for_screen(text(r.get(c[0]))) for c in columns] for r in rows]
    sys.stdout.write(render([c[1] for c in columns], body, total_width=terminal_width(),
                            title=for_screen(title) if title else None, caption=for_screen(caption) if caption else None,
                            bold=colour(), drop=[c[2] if len(c) > 2 else 0 for c in columns]))


def emit(rows, fmt: str, columns: Sequence[tuple[str, str]], *, title: str | None = None,
         json_data: Any = None, csv_columns: Sequence[str] | None = None, empty: str = "Nothing to show.",
         caption: str | None = None) -> None:
    """Print a list (or, for json and csv, a stream of rows) in the chosen format:
    table (default), json or csv. `title` may be a function of the number of rows."""
    if fmt == "json":
        print_json(rows if json_data is None else json_data)
    elif fmt == "csv":
        print_csv(rows, csv_columns or [c[0] for c in columns])
    else:
        rows = rows if isinstance(rows, list) else list(rows)
        table(rows, columns, title=title(len(rows)) if callable(title) else title, empty=empty, caption=caption)


def key_values(pairs: Sequence[tuple[str, Any]], title: str | None = None) -> None:
    """One thing's details as two columns, the values wrapped to the terminal at spaces
    (an e-mail address after its `@`), never in the middle of a word."""
    from tanet.output.table import width, wrap_text
    from tanet.text import for_screen

    labels = [for_screen(text(k)) for k, _ in pairs]
    label_width = max((width(k) for k in labels), default=0)
    room = max(10, terminal_width() - label_width - 2)
    b, unb = ("\x1b[1m", "\x1b[0m") if colour() else ("", "")
    lines, widest = [], label_width
    for label, (_, value) in zip(labels, pairs):
        shown = wrap_text(for_screen(text(value)), room).split("\n")
        widest = max(widest, label_width + 2 + max(width(v) for v in shown))
        lines.append(f"{b}{label}{unb}{' ' * (label_width - width(label))}  {shown[0]}".rstrip())
        lines += [(" " * (label_width + 2) + more).rstrip() for more in shown[1:]]
    if title:  # centred over the details, as a table's title is
        head = wrap_text(for_screen(title), terminal_width()).split("\n")
        lines[:0] = [" " * max(0, (widest - width(t)) // 2) + t for t in head]
    sys.stdout.write("\n".join(lines) + "\n")


def question(text: str):
    """A question for Rich's Prompt, wrapped at spaces to the terminal with its choices (from
    its last `[`) kept on one line, so the answers offered are never split."""
    from rich.text import Text

    from tanet.output.table import wrap_text
    from tanet.text import for_screen

    shown = for_screen(text)
    start = shown.rfind("[")
    joiner = "\ue000"  # holds the choices together while wrapping; a space again after
    if start > 0:
        shown = shown[:start] + shown[start:].replace(" ", joiner)
    return Text(wrap_text(shown, console().width - 1).replace(joiner, " "))  # a column for the cursor


def heading(s: str) -> None:
    console().print()
    console().print(cell(s, "bold"))


def line(s: str, style: str = "") -> None:
    """One line of text through Rich (so it follows the colour rules), shown literally."""
    console().print(cell(s, style))


def write_out(data, output=None, encoding: str = "utf-8") -> bool:
    """Write text or bytes to the file `output`, or to stdout when there is none.

    Returns True when a file was written (so the caller can say where)."""
    if output is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        sys.stdout.flush()
        return False
    from tanet.store.files import write_file

    write_file(output, data if isinstance(data, bytes) else data.encode(encoding))
    return True


def count(n: int, word: str, plural: str | None = None) -> str:
    """`1 member`, `3 members`: English, not `member(s)`."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def wrapped(message: str, stream) -> str:
    """`message` wrapped at spaces to a terminal's width (an e-mail address after its `@`);
    into a pipe or a file, when no width was given in COLUMNS, lines are left whole."""
    from tanet.output.table import wrap_text

    if stream.isatty():
        import shutil

        return wrap_text(message, shutil.get_terminal_size().columns)
    try:
        return wrap_text(message, max(20, int(os.environ["COLUMNS"])))
    except (KeyError, ValueError):
        return message


def say(message: str) -> None:
    """A confirmation for the coordinator, on stdout (data in it shown literally)."""
    from tanet.text import for_screen

    sys.stdout.write(wrapped(for_screen(message), sys.stdout) + "\n")


def note(message: str) -> None:
    """A side remark (warnings, where a file went) on stderr, so stdout stays clean."""
    from tanet.text import for_screen

    sys.stderr.write(wrapped(for_screen(message), sys.stderr) + "\n")
