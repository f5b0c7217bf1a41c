"""The summary as plain text that reads like a letter: the text/plain part of the summary
e-mail, for mail programs that show no HTML. Headings underlined, facts and tables in
aligned columns, long cells wrapped within their column; no Markdown marks or escapes."""

from __future__ import annotations

import textwrap

from tanet.summary.document import Section, document

WIDTH = 78  # what every mail program shows without wrapping a line of its own
GAP = "  "


def underline(text: str, mark: str) -> list[str]:
    lines = textwrap.wrap(text, WIDTH) or [""]
    return lines + [mark * max(len(line) for line in lines)]


def facts(pairs: list[tuple[str, str]]) -> list[str]:
    """`Key:   value`, the values lined up and wrapped under themselves."""
    key_w = min(max(len(k) for k, _ in pairs) + 1, 32)
    out = []
    for key, value in pairs:
        head = f"{key}:".ljust(key_w)
        body = textwrap.wrap(value, max(WIDTH - key_w - len(GAP), 20)) or [""]
        if len(head) > key_w:  # a very long key: its value starts on the next line
            out.append(head)
            head = ""
        out.append(f"{head.ljust(key_w)}{GAP}{body[0]}".rstrip())
        out += [f"{'':{key_w}}{GAP}{line}" for line in body[1:]]
    return out


def column_widths(columns: list[str], rows: list[list[str]]) -> list[int]:
    """Each column as wide as its longest cell; when the table is wider than a line, the
    widest columns give way (down to 12 characters), so long text wraps inside its column."""
    widths = [max(len(c) for c in [title, *(row[i] for row in rows)]) for i, title in enumerate(columns)]
    while sum(widths) + len(GAP) * (len(widths) - 1) > WIDTH:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= 12:
            break
        widths[widest] -= 1
    return widths


def table(columns: list[str], rows: list[list[str]]) -> list[str]:
    widths = column_widths(columns, rows)
    out = []

    def line(cells: list[str]) -> None:
        wrapped = [textwrap.wrap(c, w, break_on_hyphens=False) or [""] for c, w in zip(cells, widths)]
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
    if s.note:
        out += textwrap.wrap(s.note, WIDTH) + [""]
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
