"""Text in, text out: what a field may hold, and how data is shown safely.

Single-line fields (names, e-mails, titles, places, links...) refuse control
characters; multi-line fields (notes, descriptions, reasons) accept line
breaks only. On the way out, data is shown literally: never as terminal
escape sequences, never as a spreadsheet formula, never as Markdown or HTML.
"""

from __future__ import annotations

import functools
import re

# Characters that are not text: lone surrogates (bytes that were not UTF-8) and the
# noncharacters (U+FDD0-U+FDEF and the last two of every plane, U+FFFE, U+FFFF...); XML
# cannot hold the surrogates, U+FFFE or U+FFFF, so a Word summary with one failed.
_NOT_TEXT = "\ud800-\udfff\ufdd0-\ufdef" + "".join(chr(p + 0xFFFE) + chr(p + 0xFFFF) for p in range(0, 0x110000, 0x10000))
# C0 controls, DEL and C1 controls, and the characters above.
_CONTROL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_NOT_TEXT}]")
_CONTROL_BUT_NEWLINE = re.compile(f"[\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f{_NOT_TEXT}]")
_C0_C1 = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # what `flattened` turns into spaces
# What XML 1.0 cannot hold at all.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Invisible marks a name has no use for, which make two names look alike or reorder text:
# the direction marks (LRM, RLM, ALM), the zero-width space, the word joiner and a byte-order
# mark inside text. The zero-width joiner and non-joiner stay: some scripts (Persian, Indic)
# and emoji need them.
_INVISIBLE = re.compile(r"[\u200b\u200e\u200f\u061c\u2060\ufeff]")
MAX_LINE = 1000  # characters in a one-line field (a name, a title, a place; a Teams link can take 500)
# On screen also: bidirectional overrides, which can make text read backwards.
_UNSAFE_ON_SCREEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _name_of(char: str) -> str:
    if _BIDI.match(char) or char in "\u200e\u200f\u061c":
        return f"the text-direction character U+{ord(char):04X}"
    if _INVISIBLE.match(char):
        return f"the invisible character U+{ord(char):04X}"
    if "\ud800" <= char <= "\udfff":
        return "bytes that are not UTF-8 text"
    if ord(char) >= 0xFDD0:
        return f"the character U+{ord(char):04X}, which is not text"
    return {"\n": "a line break", "\r": "a line break", "\t": "a tab", "\x1b": "an escape character",
            "\x7f": "a delete character"}.get(char, f"the control character U+{ord(char):04X}")


def one_line(value: str | None, field: str) -> str | None:
    """A single-line field, stripped; control characters, bidirectional overrides and
    direction marks (which make a name read backwards) and other invisible marks refused, and
    anything over MAX_LINE characters (a name of 100,000 made an unsendable message). Empty
    gives None."""
    if value is None:
        return None
    value = str(value).strip()
    bad = _CONTROL.search(value) or _BIDI.search(value) or _INVISIBLE.search(value)
    if bad:
        from tanet.errors import TanetError

        raise TanetError(f"The {field} holds {_name_of(bad.group())}; it must be one line of plain text. "
                         "Type it again without it.")
    if len(value) > MAX_LINE:
        from tanet.errors import TanetError

        raise TanetError(f"The {field} is {len(value):,} characters long; at most {MAX_LINE} fit. "
                         "Shorten it (a long note belongs in notes).")
    return value or None


def some_lines(value: str | None, field: str) -> str | None:
    """A multi-line field: line breaks kept (as \\n), other control characters refused."""
    if value is None:
        return None
    value = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    bad = _CONTROL_BUT_NEWLINE.search(value)
    if bad:
        from tanet.errors import TanetError

        raise TanetError(f"The {field} holds {_name_of(bad.group())}; only plain text and line breaks "
                         "are allowed. Type it again without it.")
    return value or None


# A column of a file (feedback answers) is checked with one look over all its values, joined:
# every character the checks refuse is unprintable, and isprintable is many times faster than
# a search, so the search is only made for a column that holds something unprintable.
def one_line_each(values: list[str], field: str) -> list[str | None]:
    """`one_line` of each value, the same answers and refusals, with no call for each value
    when the column is plain."""
    joined = " ".join(values)  # a space: never refused
    if (not joined.isprintable() and _not_one_line().search(joined)) or max(map(len, values), default=0) > MAX_LINE:
        return [one_line(value, field) for value in values]
    return [value.strip() or None for value in values]


def some_lines_each(values: list[str], field: str) -> list[str | None]:
    """`some_lines` of each value, the same answers and refusals, with no call for each value
    when the column is plain. A carriage return (which `some_lines` makes a line break) is
    among what the search finds: values holding one are looked at one by one."""
    joined = " ".join(values).replace("\n", " ")  # line breaks kept, never refused
    if not joined.isprintable() and _CONTROL_BUT_NEWLINE.search(joined):
        return [some_lines(value, field) for value in values]
    return [value.strip() or None for value in values]


@functools.cache
def _not_one_line() -> re.Pattern:
    """All that `one_line` refuses in one class (_CONTROL, _BIDI and _INVISIBLE), made when
    first needed."""
    return re.compile(_CONTROL.pattern[:-1] + _BIDI.pattern[1:-1] + _INVISIBLE.pattern[1:-1] + "]")


def flattened(value: str) -> str:
    """One line for a header or a parameter: control characters become spaces, runs of
    spaces one (a file from before 0.2 may hold line breaks in single-line fields), and
    "=?" becomes "= ?": mail programs (and the email package, folding) read "=?...?=" as
    an encoded word, so a name written as one could show as other text, even another
    header (`=?utf-8?b?QmNjOiB4QGV2aWwub3Jn?=` is "Bcc: x@evil.org")."""
    return " ".join(_C0_C1.sub(" ", value).split()).replace("=?", "= ?")


def xml_text(value: str) -> str:
    """Text an XML document can hold: what it cannot (left in a file from before these
    characters were refused) becomes U+FFFD, the replacement character."""
    return _NOT_XML.sub("\ufffd", value)


def for_screen(value: str) -> str:
    """Text safe for a terminal: control characters shown as \\xNN, never obeyed."""
    if not _UNSAFE_ON_SCREEN.search(value):
        return value
    return _UNSAFE_ON_SCREEN.sub(_escaped, value)


def _escaped(match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as Python keeps it
        code -= 0xDC00
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


# Spreadsheets run a cell that starts with one of these as a formula (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_out(value: str) -> str:
    """A CSV cell that a spreadsheet shows as text, not as a formula. A cell that already
    starts with quotes before a formula character gets one more, so `csv_in` gives it back."""
    return "'" + value if value.lstrip("'").startswith(_FORMULA_START) else value


def csv_in(value: str) -> str:
    """Undo `csv_out`: a leading quote before a formula character goes again."""
    if value.startswith("'") and value[1:].lstrip("'").startswith(_FORMULA_START):
        return value[1:]
    return value


# Mid-line Markdown and HTML: enough to stop emphasis, links, images, tags, entities and
# table cells; `#`, `-`, `+` and `.` only matter at the start of a line, where data never is.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~&!])")


def markdown(value: str) -> str:
    """Data in Markdown: every Markdown or HTML character escaped, one line."""
    return _MD_SPECIAL.sub(r"\\\1", value).replace("\n", " ")
