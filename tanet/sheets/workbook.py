"""Rows of a spreadsheet, an .xlsx (checked first: workbook_check) or a CSV, as text."""

from __future__ import annotations

from pathlib import Path

from tanet.errors import TanetError
from tanet.sheets.workbook_check import MAX_ROWS, TooManyRows, check_workbook

__all__ = ["TooManyRows", "check_workbook", "read_numbered_table", "read_table"]  # the checks are workbook_check's
OLD_XLS = bytes.fromhex("D0CF11E0")  # how a binary .xls (and any old Office file) starts


def read_table(path: Path):
    """Rows of an .xlsx (first sheet) or a CSV, as text, one at a time."""
    return (row for _, row in read_numbered_table(path))


def read_numbered_table(path: Path, max_rows: int = MAX_ROWS):
    """Rows of an .xlsx (first sheet) or a CSV, as text, one at a time, each with the number
    the file shows it under (a sheet's row number, the line a CSV row starts on), blank rows
    counted. A sheet reaching past row `max_rows` is refused before it is read."""
    from tanet.sheets.textfiles import open_binary, open_rows

    with open_binary(path) as f:
        head = f.read(8)
    kind = "a PDF" if head.startswith(b"%PDF") else "an old Excel .xls file" if head.startswith(OLD_XLS) else None
    if kind:
        raise TanetError(f"{path} is {kind}, not a spreadsheet tanet reads: open it in Excel and save it as .xlsx "
                         "(Excel Workbook) or CSV UTF-8.")
    if head.startswith(b"PK"):
        check_workbook(path, max_rows)
        return _workbook_rows(path)
    if path.suffix.lower() == ".xlsx":
        raise TanetError(f"{path} is called .xlsx but is not an Excel workbook. If it is a CSV, rename it .csv.")
    return open_rows(path)[1]


def _workbook_rows(path: Path):
    """The first sheet's rows with their numbers, made into text one at a time (a whole
    sheet of Python strings at once would double the memory a large workbook takes). The
    reader starts at once, in a thread: it lets go of Python while it reads, so the
    caller's own work (opening the database, say) goes on meanwhile. It only reads, so it
    is a daemon thread: a Ctrl-C, or an error found meanwhile (a meeting that does not
    exist), ends tanet at once, with no read going on after it."""
    import threading

    from python_calamine import CalamineWorkbook

    read: list = []  # the sheet, or what stopped the reader

    def load() -> None:
        try:
            read.append(CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0))
        except BaseException as e:  # handed to whoever asks for the rows
            read.append(e)

    reader = threading.Thread(target=load, name="workbook reader", daemon=True)
    reader.start()
    return _rows_once_read(path, reader, read)


def _rows_once_read(path: Path, reader, read: list):
    from python_calamine import CalamineError

    reader.join()
    try:
        sheet = read.pop()
        if isinstance(sheet, BaseException):
            raise sheet
        for number, row in enumerate(sheet.iter_rows(), start=(sheet.start or (0, 0))[0] + 1):
            # Each cell as text: a whole number without ".0", a time as 2027-01-19 12:05:46 (a
            # datetime's str), an empty one ""; written in line, as a call for each cell costs more.
            yield number, [c if c.__class__ is str else (str(int(c)) if c.is_integer() else str(c))
                           if c.__class__ is float else str(c) if c is not None else "" for c in row]
    except (CalamineError, ValueError, OSError) as e:
        raise _unreadable(path, e) from None
    except BaseException as e:  # the reader's own failure (pyo3's PanicException, not importable)
        if type(e).__name__ == "PanicException":
            raise _unreadable(path, e) from None
        raise


def _unreadable(path: Path, e: BaseException) -> TanetError:
    return TanetError(f"{path} is not a spreadsheet tanet can read ({e}). Download it again from Forms "
                      "('Open results in Excel') or save it as .xlsx or CSV.")

