"""The summary as plain text that reads like a letter: the text/plain part of the summary
e-mail, for mail programs that show no HTML. Headings underlined, facts and tables in
aligned columns, long cells wrapped within their column; no Markdown marks or escapes."""

from __future__ import annotations

import textwrap

from tanet.summary.document import Section, document

WIDTH = 78  # what every mail program shows without wrapping a line of its own
GAP = "  "


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width`, broken at spaces only: a word longer than the
    column stays whole on its own line, and only one longer than a whole line is split."""
    out = []
    for line in textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False):
        out += [line[i:i + WIDTH] for i in range(0, len(line), WIDTH)] if len(line) > WIDTH else [line]
    return out


def underline(text: str, mark: str) -> list[str]:
    lines = wrap(text, WIDTH) or [""]
    return lines + [mark * max(len(line) for line in lines)]


def facts(pairs: list[tuple[str, str]]) -> list[str]:
    """`Key:   value`, the values lined up and wrapped under themselves."""
    key_w = min(max(len(k) for k, _ in pairs) + 1, 32)
    out = []
    for key, value in pairs:
        head = f"{key}:".ljust(key_w)
        body = wrap(value, max(WIDTH - key_w - len(GAP), 20)) or [""]
        if len(head) > key_w:  # a very long key: its value starts on the next line
            out.append(head)
            head = ""
        out.append(f"{head.ljust(key_w)}{GAP}{body[0]}".rstrip())
        out += [f"{'':{key_w}}{GAP}{line}" for line in body[1:]]
    return out


def column_widths(columns: list[str], rows: list[list[str]]) -> list[int]:
    """Each column as wide as its longest cell; when the table is wider than a line, the
    widest columns give way, but never below their longest word (so text wraps at spaces,
    never inside a word); only a word longer than the whole line is ever split."""
    cells = [[title, *(row[i] for row in rows)] for i, title in enumerate(columns)]
    widths = [max(len(c) for c in column) for column in cells]
    least = [min(max(len(w) for c in column for w in c.split() or [""]), WIDTH) for column in cells]
    while sum(widths) + len(GAP) * (len(widths) - 1) > WIDTH:
        can_give = [i for i in range(len(widths)) if widths[i] > least[i]]
        if not can_give:
            break  # every column down to its longest word: the line runs long rather than split one
        widest = max(can_give, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def table(columns: list[str], rows: list[list[str]]) -> list[str]:
    widths = column_widths(columns, rows)
    out = []

    def line(cells: list[str]) -> None:
        wrapped = [wrap(c, w) or [""] for c, w in zip(cells, widths)]
        for n in range(max(len(w) for w in wrapped)):
            out.append(GAP.join((w[n] if n < len(w) else "").ljust(width)
                                for w, width in zip(wrapped, widths)).rstrip())

    line(columns)
    out.append(GAP.join("-" * w for w in widths))
    for row in rows:
        line(row)
    return out


def section(s: Section) -> list[str]:
    out = underline(s.title, "-") + [""]
    if s.facts:
        out += facts(s.facts) + [""]
    if s.rows:
        out += table(s.columns, s.rows) + [""]
    elif s.bars:  # a chart with no table beside it: its figures, in columns
        out += facts([(label, shown) for label, _, shown in s.bars]) + [""]
    for line in (s.note or "").splitlines():
        out += wrap(line, WIDTH) + [""]
    if not (s.facts or s.rows or s.bars or s.note):
        out += ["Nothing this period.", ""]
    return out


def to_plain(d: dict) -> str:
    title, sections = document(d)
    out = underline(title, "=") + [""]
    for s in sections:
        out += section(s)
    out += textwrap.wrap(f"Made by tanet on {d['generated_on']}. Check-in notes and follow-up details are "
                         "never included.", WIDTH)
    return "\n".join(out) + "\n"
