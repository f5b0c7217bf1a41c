"""A light table renderer for lists of rows, drawn like Rich's default table.

Rich measures and wraps every cell through several layers of objects (about
0.1 ms a cell: 1.6 s for a register of 3,000 members). A list is plain text in
columns, so it is drawn here directly: the widths are measured once and text
wraps at spaces. What gives way on a narrow terminal, in order: the columns
ranked to be dropped, then an e-mail address after its `@`, then a compound
word after a hyphen between letters (a date, a time or an id has no such point),
and a word is cut only when it alone is still wider than its column.
"""

from __future__ import annotations

import re
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
    """What _wrap keeps whole while it can: text between spaces and line breaks (a no-break
    space joins), an e-mail address split after its `@`."""
    return [piece for line in s.split("\n") for w in line.split(" ") for piece in _split_after(w, "@")]


def _split_after(word: str, marks: str) -> list[str]:
    """`word` in pieces that end just after one of `marks` (the pieces join back to `word`)."""
    if not any(m in word for m in marks):
        return [word]
    return [p for p in re.split(f"(?<=[{re.escape(marks)}])", word) if p]


def _longest_word(s: str) -> int:
    return max((width(w) for w in _words(s)), default=0)


# A hyphen between two letters ("Featherstonehaugh-Cholmondeley", "trauma-informed"), never
# one in a date, a time or a number.
_COMPOUND_HYPHEN = re.compile(r"(?<=[^\W\d_]-)(?=[^\W\d_])")


def _parts(word: str) -> list[str]:
    """A word in the pieces it may break into: an e-mail address only after its `@`, any
    other word also after a hyphen between letters."""
    if "@" in word:
        return _split_after(word, "@")
    return _COMPOUND_HYPHEN.split(word) if "-" in word else [word]


def _longest_part(s: str) -> int:
    """The widest piece once compound words may break after their hyphens too."""
    return max((width(p) for line in s.split("\n") for w in line.split(" ") for p in _parts(w)), default=0)


def _cut(word: str, limit: int, last_resorts: bool = True) -> list[str]:
    """A word wider than `limit` in pieces: an e-mail after its `@`; with `last_resorts`, a
    compound after its hyphens too, and a piece that is still too wide is cut."""
    out: list[str] = []
    for piece in _parts(word) if last_resorts else _split_after(word, "@"):
        while last_resorts and width(piece) > limit:
            cut, n = "", 0
            for c in piece:
                cw = _char_width(c)
                if n + cw > limit and cut:
                    break
                cut, n = cut + c, n + cw
            out.append(cut)
            piece = piece[len(cut):]
        if piece:
            out.append(piece)
    return out


def _wrap(s: str, limit: int, last_resorts: bool = True) -> list[str]:
    """Lines of at most `limit` columns, broken at spaces; a longer word is broken after
    its `@` or hyphens (pieces are joined again while they fit), and only then cut."""
    out: list[str] = []
    for paragraph in s.split("\n"):
        if width(paragraph) <= limit:
            out.append(paragraph)
            continue
        line, used = "", 0
        for word in paragraph.split(" "):
            w = width(word)
            if w > limit:  # wider than the column: broken at its natural points
                if line:
                    out.append(line)
                line, used = "", 0
                for piece in _cut(word, limit, last_resorts):
                    pw = width(piece)
                    if line and used + pw > limit:
                        out.append(line)
                        line, used = "", 0
                    line, used = line + piece, used + pw
            elif not line:
                line, used = word, w
            elif used + 1 + w <= limit:
                line, used = f"{line} {word}", used + 1 + w
            else:
                out.append(line)
                line, used = word, w
        out.append(line)
    return out


def wrap_text(s: str, limit: int) -> str:
    """A message wrapped to `limit` columns at spaces (e-mails after `@`); a line that starts
    with an indent or a "- " bullet keeps its continuation lines under its text. A longer
    word (a path, a link) is left whole for the terminal to fold, so it can be copied."""
    out: list[str] = []
    for paragraph in s.split("\n"):
        bullet = re.match(r" *(?:- )?", paragraph).group()
        if width(paragraph) <= limit or len(bullet) > limit // 2:
            out.append(paragraph)
            continue
        lines = _wrap(paragraph[len(bullet):], limit - len(bullet), last_resorts=False)
        out += [bullet + lines[0]] + [" " * len(bullet) + line for line in lines[1:]]
    return "\n".join(out)


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


def _measure(headers: list[str], rows: list[list[str]]) -> tuple[list[int], list[int], list[int], list[int]]:
    """Each column's natural width, its longest word, its longest word once e-mails may break
    after their `@`, and the width of its widest cell (without the header)."""
    natural = [0] * len(headers)
    floors = [min(max(_longest_word(h), MIN_WIDTH), width(h)) for h in headers]
    at_floors = list(floors)
    for row in rows:
        for i, cell in enumerate(row):
            if cell.isascii() and "\n" not in cell:
                w = len(cell)
                word = max(map(len, cell.split(" "))) if " " in cell else w
            else:
                w = max(width(part) for part in cell.split("\n"))
                word = max(width(x) for x in cell.replace("\n", " ").split(" "))
            at_word = _longest_word(cell) if "@" in cell else word
            if w > natural[i]:
                natural[i] = w
            if word > floors[i]:
                floors[i] = word
            if at_word > at_floors[i]:
                at_floors[i] = at_word
    data = list(natural)
    natural = [max(d, width(h)) for d, h in zip(data, headers)]
    return natural, floors, at_floors, data


def _hyphen_floors(headers: list[str], rows: list[list[str]]) -> list[int]:
    """Each column's longest piece once words may also break after a hyphen."""
    floors = [min(max(_longest_part(h), MIN_WIDTH), width(h)) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            floors[i] = max(floors[i], _longest_part(cell))
    return floors


def _fits(floors: list[int], keep: list[int], total_width: int) -> bool:
    return sum(floors[i] for i in keep) + 3 * len(keep) + 1 <= total_width


def _columns_that_fit(floors: list[int], drop: list[int], total_width: int) -> list[int]:
    """The columns kept: those with a `drop` rank go (rank 1 first) while the words do not fit."""
    keep = list(range(len(floors)))
    while not _fits(floors, keep, total_width):
        droppable = sorted((drop[i], i) for i in keep if drop[i])
        if not droppable:
            break
        keep.remove(droppable[0][1])
    return keep


def render(headers: list[str], rows: list[list[str]], *, total_width: int, title: str | None = None,
           caption: str | None = None, bold: bool = False, drop: list[int] | None = None) -> str:
    """The table as text; `rows` are already strings safe for a terminal. Text wraps at spaces;
    where whole words do not fit, columns with a `drop` rank are left out (rank 1 first), then
    e-mail addresses wrap after their `@`, then compound words after a hyphen, and last of all
    the widest words are cut."""
    natural, floors, at_floors, data = _measure(headers, rows)
    drop = drop or [0] * len(headers)
    # The first way that fits wins: whole words, then e-mails broken after `@`, then compound
    # words after a hyphen; each time dropping the least needed columns first.
    keep = _columns_that_fit(floors, drop, total_width)
    if not _fits(floors, keep, total_width):
        keep, floors = _columns_that_fit(at_floors, drop, total_width), at_floors
        if not _fits(floors, keep, total_width):
            floors = _hyphen_floors(headers, rows)
            keep = _columns_that_fit(floors, drop, total_width)
    if len(keep) < len(headers):
        headers = [headers[i] for i in keep]
        rows = [[row[i] for i in keep] for row in rows]
        natural, floors, data = ([xs[i] for i in keep] for xs in (natural, floors, data))
    n = len(headers)
    room = max(n, total_width - (3 * n + 1))
    if sum(floors) > room:  # last resort: the widest words are cut, as little as needed
        floors = fit(floors, [min(f, MIN_WIDTH) for f in floors], room)
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
