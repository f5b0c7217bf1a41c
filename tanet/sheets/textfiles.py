"""Reading the spreadsheets people actually have: UTF-8 with or without BOM,
Excel's "Unicode text" (UTF-16, tab separated), Windows-1252 CSV, `,` `;` or tab."""

from __future__ import annotations

import codecs
import csv
import os
import re
from pathlib import Path

from tanet.errors import TanetError


def open_binary(p: Path):
    try:
        return open(p, "rb")
    except FileNotFoundError:
        raise TanetError(f"There is no file {p}. Check the name and folder.") from None
    except IsADirectoryError:
        raise TanetError(f"{p} is a folder; give the file inside it.") from None
    except OSError as e:
        raise TanetError(f"Cannot read {p}: {e.strerror}.") from None


def detect_encoding(path: str | Path) -> str:
    """UTF-16 by its BOM, else UTF-8 (with or without BOM), else - only when no line of the
    file is UTF-8 beyond plain ASCII - cp1252. Reads the file line by line, in little memory."""
    p = Path(path)
    with open_binary(p) as f:
        head = f.read(4096)
        if not head.strip():
            raise TanetError(f"{p} is empty.")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if len(head) > 1 and head[1:2] == b"\x00" and head[0:1] != b"\x00":
            return "utf-16-le"  # UTF-16 saved without its BOM
        f.seek(0)
        good = first_bad = 0
        for n, line in enumerate(bounded_lines(f, p), 1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                good = good or n
            except UnicodeDecodeError:
                first_bad = first_bad or n
                if UTF8_LETTER.search(line):  # UTF-8 letters and other bytes on one line: mixed too
                    good = good or n
            if good and first_bad:
                # Pasted together from two sources: reading it all as cp1252 would garble
                # every accented name in the UTF-8 part.
                raise TanetError(f"{p} is mostly UTF-8, but line {first_bad} is in another encoding. Save the "
                                 "whole file from the spreadsheet as 'CSV UTF-8' and try again.")
    if first_bad:
        return "cp1252"  # Excel's "CSV" on Windows
    return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"


# A letter beyond ASCII as UTF-8 writes it (2 to 4 bytes); in cp1252 these pairs read as
# "Ã«" and the like, which no name in a register holds.
UTF8_LETTER = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xef][\x80-\xbf]{2}"
                         rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}")

MAX_LINE = 1024 * 1024  # a row of a list; without a limit, a file with no line breaks is read whole


def bounded_lines(f, p: Path):
    """The lines of an open file, refusing one longer than MAX_LINE before it is read whole."""
    n = 0
    while line := f.readline(MAX_LINE + 1):
        n += 1
        if len(line) > MAX_LINE:
            raise TanetError(f"Line {n} of {p} is longer than {MAX_LINE // 2**20} MB, so it is not a list tanet can "
                             "read. Save it from the spreadsheet as CSV and try again.")
        yield line


def _not_text(p: Path) -> TanetError:
    return TanetError(f"{p} is not a text file (CSV or tab-separated). Save it from the spreadsheet as CSV "
                      "and try again.")


MAX_TEXT = 16 * 1024 * 1024  # read whole: an attendance report or a commentary is far smaller


def read_text(path: str | Path) -> str:
    """The whole file as text, in the encoding `detect_encoding` finds."""
    p = Path(path)
    with open_binary(p) as f:
        if os.fstat(f.fileno()).st_size > MAX_TEXT:
            raise TanetError(f"{p} is over {MAX_TEXT // 2**20} MB, far larger than what it should hold. Check it is "
                             "the right file.")
    encoding = detect_encoding(p)
    with open_binary(p) as f:
        try:
            text = f.read(MAX_TEXT + 1).decode(encoding)
        except UnicodeDecodeError:
            raise _not_text(p) from None
    if "\x00" in text or _mostly_binary(text):
        raise _not_text(p)
    return text


def open_rows(path: str | Path):
    """The rows of a delimited text file as (line number, cells), read as a stream; the
    delimiter is taken from the first non-empty line (or Excel's `sep=;` line, skipped).
    Returns (the first non-empty line's text, the row iterator)."""
    p = Path(path)
    encoding = detect_encoding(p)
    try:
        f = open(p, encoding=encoding, newline="")
        sample = f.read(4096)
        f.seek(0)
    except UnicodeDecodeError:
        raise _not_text(p) from None
    except OSError as e:
        raise TanetError(f"Cannot read {p}: {e.strerror}.") from None
    if "\x00" in sample or _mostly_binary(sample):
        f.close()
        raise _not_text(p)
    first = next((ln for ln in sample.splitlines() if ln.strip()), "")
    sep_line = first.strip().lower().startswith("sep=") and len(first.strip()) == 5
    delimiter = first.strip()[4] if sep_line else sniff_delimiter(first)

    def rows():
        skipped_sep = not sep_line
        with f:
            reader = csv.reader(bounded_lines(f, p), delimiter=delimiter)
            start = 1
            try:
                for row in reader:
                    line, start = start, reader.line_num + 1
                    if not skipped_sep and any(c.strip() for c in row):
                        skipped_sep = True
                        continue
                    yield line, row
            except csv.Error as e:
                raise TanetError(f"{p} cannot be read as CSV near line {start} ({e}); a cell may be far too "
                                 "long or a quote not closed. Check the file in a spreadsheet and save it "
                                 "again.") from None
            except UnicodeDecodeError:
                raise _not_text(p) from None

    return first, rows()


def check_unique_headers(header: list[str], path) -> None:
    """Two columns with the same heading would silently lose one of them."""
    seen: dict[str, str] = {}
    for h in header:
        key = squash(h)
        if not key:
            continue
        if key in seen:
            raise TanetError(f"{path} has two columns headed '{h.strip()}'. Rename or remove one and try again.")
        seen[key] = h


def _mostly_binary(text: str) -> bool:
    sample = text[:4096]
    odd = sum(1 for c in sample if (ord(c) < 32 and c not in "\r\n\t") or c == "\ufffd")
    return odd > max(2, len(sample) // 50)


def sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def squash(header: str) -> str:
    return "".join(c for c in header.casefold() if c.isalnum())
