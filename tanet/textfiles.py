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
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")  # Excel's "CSV" on Windows
        except UnicodeDecodeError:
            text = None
    if text is None or "\x00" in text or _mostly_binary(text):
        raise TanetError(f"{p} is not a text file (CSV or tab-separated). Save it from the spreadsheet as CSV and try again.")
    return text


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
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if sep_line:  # keep the row count, so line numbers stay those of the file
        for i, row in enumerate(table):
            if any(c.strip() for c in row):
                table[i] = []
                break
    return table


def squash(header: str) -> str:
    return "".join(c for c in header.casefold() if c.isalnum())
