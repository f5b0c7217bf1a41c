"""A light table renderer for lists of rows, drawn like Rich's default table.

Rich measures and wraps every cell through several layers of objects (about
0.1 ms a cell: 1.6 s for a register of 3,000 members). A list is plain text in
columns, so it is drawn here directly: the widths are measured once, only
spaces are used to wrap, and a word (an e-mail, a date, an id) is never broken
unless it alone is wider than the whole terminal.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

MIN_WIDTH = 6


@lru_cache(maxsize=4096)
def _char_width(c: str) -> int:
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def width(s: str) -> int:
    """Columns a string takes on a terminal."""
    if s.isascii():
        return len(s)
    return sum(_char_width(c) for c in s)


def _words(s: str) -> list[str]:
    """What _wrap keeps whole: text between spaces and line breaks (a no-break space joins)."""
    return [w for line in s.split("\n") for w in line.split(" ")]


def _longest_word(s: str) -> int:
    return max((width(w) for w in _words(s)), default=0)


def _wrap(s: str, limit: int) -> list[str]:
    """Lines of at most `limit` columns, broken at spaces; a longer word is cut."""
    out: list[str] = []
    for paragraph in s.split("\n"):
        if width(paragraph) <= limit:
            out.append(paragraph)
            continue
        line, used = "", 0
        for word in paragraph.split(" "):
            w = width(word)
            while w > limit:  # a word wider than the column: cut it
                if line:
                    out.append(line)
                    line, used = "", 0
                cut, n = "", 0
                for c in word:
                    cw = _char_width(c)
                    if n + cw > limit and cut:
                        break
                    cut, n = cut + c, n + cw
                out.append(cut)
                word = word[len(cut):]
                w = width(word)
            if not line:
                line, used = word, w
            elif used + 1 + w <= limit:
                line, used = f"{line} {word}", used + 1 + w
            else:
                out.append(line)
                line, used = word, w
        out.append(line)
    return out


def _pad(s: str, n: int) -> str:
    return s + " " * (n - width(s))


def _centre(s: str, n: int) -> str:
    gap = max(0, n - width(s))
    return " " * (gap // 2) + s + " " * (gap - gap // 2)


def fit(natural: list[int], floors: list[int], limit: int) -> list[int]:
    """Column widths within `limit` (the room left for cell text): the widest columns give
    way first, none below its floor (its longest word, so words stay whole)."""
    widths = list(natural)
    excess = sum(widths) - limit
    while excess > 0:
        shrinkable = [i for i, w in enumerate(widths) if w > floors[i]]
        if not shrinkable:
            break
        widest = max(widths[i] for i in shrinkable)
        tops = [i for i in shrinkable if widths[i] == widest]
        others = [widths[i] for i in shrinkable if widths[i] < widest]
        target = max(max(others, default=0), max(floors[i] for i in tops))
        step = min(widest - target, -(-excess // len(tops))) or 1
        for i in tops:
            cut = min(step, widths[i] - floors[i], excess)
            widths[i] -= cut
            excess -= cut
            if excess <= 0:
                break
    return widths


def _measure(headers: list[str], rows: list[list[str]]) -> tuple[list[int], list[int], list[bool], list[int]]:
    """Each column's natural width, its longest word, whether it has spaces to wrap at,
    and the width of its widest cell (without the header)."""
    natural = [0] * len(headers)
    floors = [min(max(_longest_word(h), MIN_WIDTH), width(h)) for h in headers]
    spaced = [False] * len(headers)
    for row in rows:
        for i, cell in enumerate(row):
            if cell.isascii() and "\n" not in cell:
                w = len(cell)
                word = max(map(len, cell.split(" "))) if " " in cell else w
            else:
                w = max(width(part) for part in cell.split("\n"))
                word = _longest_word(cell)
            if w > natural[i]:
                natural[i] = w
            if word > floors[i]:
                floors[i] = word
            if word < w:
                spaced[i] = True
    data = list(natural)
    natural = [max(d, width(h)) for d, h in zip(data, headers)]
    return natural, floors, spaced, data


def render(headers: list[str], rows: list[list[str]], *, total_width: int, title: str | None = None,
           caption: str | None = None, bold: bool = False, drop: list[int] | None = None) -> str:
    """The table as text; `rows` are already strings safe for a terminal. Where the words
    do not fit, columns with a `drop` rank are left out (rank 1 first) before any word is cut."""
    natural, floors, spaced, data = _measure(headers, rows)
    keep = list(range(len(headers)))
    drop = drop or [0] * len(headers)
    while sum(floors[i] for i in keep) + 3 * len(keep) + 1 > total_width:
        droppable = sorted((drop[i], i) for i in keep if drop[i])
        if not droppable:
            break
        keep.remove(droppable[0][1])
    if len(keep) < len(headers):
        headers = [headers[i] for i in keep]
        rows = [[row[i] for i in keep] for row in rows]
        natural, floors, spaced, data = ([xs[i] for i in keep] for xs in (natural, floors, spaced, data))
    n = len(headers)
    room = max(n, total_width - (3 * n + 1))
    if sum(floors) > room:  # last resort: text with spaces may have its words cut
        floors = [MIN_WIDTH if spaced[i] else f for i, f in enumerate(floors)]
    floors = [min(f, room) for f in floors]
    # Wrap headers before data: first shrink no column below its widest cell.
    widths = fit(fit(natural, [max(f, d) for f, d in zip(floors, data)], room), floors, room)
    b, unb = ("\x1b[1m", "\x1b[0m") if bold else ("", "")

    def line(left, fill, mid, right):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def cells(values, edge, sep, style=("", "")):
        wrapped = [_wrap(v, widths[i]) if width(v) > widths[i] or "\n" in v else [v] for i, v in enumerate(values)]
        height = max(len(w) for w in wrapped)
        out = []
        for k in range(height):
            parts = [style[0] + _pad(w[k] if k < len(w) else "", widths[i]) + style[1] for i, w in enumerate(wrapped)]
            out.append(f"{edge} " + f" {sep} ".join(parts) + f" {edge}")
        return out

    table_width = sum(widths) + 3 * n + 1
    out = []
    if title:
        out += [_centre(t, table_width) for t in _wrap(title, table_width)]
    out.append(line("┏", "━", "┳", "┓"))
    out += cells(headers, "┃", "┃", (b, unb))
    out.append(line("┡", "━", "╇", "┩"))
    for row in rows:
        out += cells(row, "│", "│")
    out.append(line("└", "─", "┴", "┘"))
    if caption:
        out += [_centre(t, table_width) for t in _wrap(caption, table_width)]
    return "\n".join(out) + "\n"
