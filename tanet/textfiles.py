"""Reading the spreadsheets people actually have: UTF-8 with or without BOM,
Excel's "Unicode text" (UTF-16, tab separated), Windows-1252 CSV, `,` `;` or tab."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from tanet.errors import TanetError


def read_text(path: str | Path) -> str:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise TanetError(f"There is no file {p}. Check the name and folder.") from None
    except IsADirectoryError:
        raise TanetError(f"{p} is a folder; give the file inside it.") from None
    except OSError as e:
        raise TanetError(f"Cannot read {p}: {e.strerror}.") from None
    if not data.strip():
        raise TanetError(f"{p} is empty.")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif len(data) > 1 and data[1:2] == b"\x00" and data[0:1] != b"\x00":
        encoding = "utf-16-le"  # UTF-16 saved without its BOM
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        text = None
        if encoding == "utf-8":
            _refuse_mixed(p, data, e)
            try:
                text = data.decode("cp1252")  # Excel's "CSV" on Windows
            except UnicodeDecodeError:
                text = None
    if text is None or "\x00" in text or _mostly_binary(text):
        raise TanetError(f"{p} is not a text file (CSV or tab-separated). Save it from the spreadsheet as CSV and try again.")
    return text


def _refuse_mixed(p: Path, data: bytes, error: UnicodeDecodeError) -> None:
    """A file that is UTF-8 except for some lines was pasted together from two sources:
    reading all of it as cp1252 would garble every accented name in the UTF-8 part."""
    good = sum(1 for line in data.split(b"\n") if not line.isascii() and _is_utf8(line))
    if good:
        line_no = data.count(b"\n", 0, error.start) + 1
        raise TanetError(f"{p} is mostly UTF-8, but line {line_no} is in another encoding. Save the whole file "
                         "from the spreadsheet as 'CSV UTF-8' and try again.")


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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


def rows(text: str) -> list[list[str]]:
    """All rows of a delimited text, delimiter taken from its first non-empty line
    (or from Excel's `sep=;` line, which is then skipped)."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    sep_line = first.strip().lower().startswith("sep=") and len(first.strip()) == 5
    delimiter = first.strip()[4] if sep_line else sniff_delimiter(first)
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as e:
        raise TanetError(f"The file cannot be read as CSV ({e}); a cell may be far too long or a quote not "
                         "closed. Check the file in a spreadsheet and save it again.") from None
    if sep_line:  # keep the row count, so line numbers stay those of the file
        for i, row in enumerate(table):
            if any(c.strip() for c in row):
                table[i] = []
                break
    return table


def squash(header: str) -> str:
    return "".join(c for c in header.casefold() if c.isalnum())
