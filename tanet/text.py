"""Text in, text out: what a field may hold, and how data is shown safely.

Single-line fields (names, e-mails, titles, places, links...) refuse control
characters; multi-line fields (notes, descriptions, reasons) accept line
breaks only. On the way out, data is shown literally: never as terminal
escape sequences, never as a spreadsheet formula, never as Markdown or HTML.
"""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# On screen also: bidirectional overrides, which can make text read backwards.
_UNSAFE_ON_SCREEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _name_of(char: str) -> str:
    if _BIDI.match(char):
        return f"the text-direction character U+{ord(char):04X}"
    return {"\n": "a line break", "\r": "a line break", "\t": "a tab", "\x1b": "an escape character",
            "\x7f": "a delete character"}.get(char, f"the control character U+{ord(char):04X}")


def line(value: str | None, field: str) -> str | None:
    """A single-line field, stripped; control characters (and bidirectional overrides,
    which make a name read backwards) refused. Empty gives None."""
    if value is None:
        return None
    value = str(value).strip()
    bad = _CONTROL.search(value) or _BIDI.search(value)
    if bad:
        from tanet.errors import TanetError

        raise TanetError(f"The {field} holds {_name_of(bad.group())}; it must be one line of plain text. "
                         "Type it again without it.")
    return value or None


def lines(value: str | None, field: str) -> str | None:
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


def flat(value: str) -> str:
    """One line for a header or a parameter: control characters become spaces, runs of
    spaces one (a file from before 0.2 may hold line breaks in single-line fields)."""
    return " ".join(_CONTROL.sub(" ", value).split())


def screen(value: str) -> str:
    """Text safe for a terminal: control characters shown as \\xNN, never obeyed."""
    if not _UNSAFE_ON_SCREEN.search(value):
        return value
    return _UNSAFE_ON_SCREEN.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256
                                 else f"\\u{ord(m.group()):04x}", value)


# Spreadsheets run a cell that starts with one of these as a formula (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_out(value: str) -> str:
    """A CSV cell that a spreadsheet shows as text, not as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_in(value: str) -> str:
    """Undo `csv_out`: a leading quote before a formula character goes again."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


# Mid-line Markdown and HTML: enough to stop emphasis, links, images, tags, entities and
# table cells; `#`, `-`, `+` and `.` only matter at the start of a line, where data never is.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~&!])")


def markdown(value: str) -> str:
    """Data in Markdown: every Markdown or HTML character escaped, one line."""
    return _MD_SPECIAL.sub(r"\\\1", value).replace("\n", " ")
