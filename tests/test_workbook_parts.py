"""The .xlsx check at the level of the zip: parts found by name as the reader finds them
(ignoring case, '\\' for '/'), and parts it cannot read refused in one line."""

import struct
import zipfile

import pytest
from test_hostile_input import write_xlsx
from test_workbook_check import HEADER, refusal, text_cell

from tanet.errors import TanetError
from tanet.sheets.workbook_check import check_workbook


def _renamed(book, names: dict[str, str], edit=lambda name, content: content):
    """The workbook with its parts renamed (`names`: old name to new) and edited."""
    with zipfile.ZipFile(book) as z:
        parts = [(item.filename, z.read(item)) for item in z.infolist()]
    with zipfile.ZipFile(book, "w", zipfile.ZIP_STORED) as z:
        for name, content in parts:
            z.writestr(names.get(name, name), edit(name, content))
    return book


def _far_sheet(tmp_path):
    return write_xlsx(tmp_path / "far.xlsx", [HEADER, '<row r="3000">' + text_cell("XFD3000", "x") + "</row>"])


@pytest.mark.parametrize("sheet, target, rels", [
    ("xl/worksheets/SHEET1.bin", b"worksheets/sheet1.bin", "xl/_rels/workbook.xml.rels"),
    ("xl\\worksheets\\sheet1.bin", b"worksheets/sheet1.bin", "xl/_rels/workbook.xml.rels"),
    ("xl/worksheets/sheet1.bin", b"worksheets/sheet1.bin", "xl/_rels/Workbook.xml.rels"),
    ("xl/worksheets/sheet1.bin", b"Worksheets\\Sheet1.BIN", "xl/_rels/workbook.xml.rels"),
])
def test_a_sheet_named_in_other_capitals_or_with_backslashes_is_weighed(tmp_path, sheet, target, rels):
    # The reader finds it all the same: a far cell there went unseen (gigabytes from 2 KB).
    book = _renamed(_far_sheet(tmp_path), {"xl/worksheets/sheet1.xml": sheet, "xl/_rels/workbook.xml.rels": rels},
                    edit=lambda name, content: content.replace(b"worksheets/sheet1.xml", target))
    assert "column XFD" in refusal(book)


@pytest.mark.parametrize("name", ["xl/SharedStrings.xml", "XL\\SHAREDSTRINGS.XML"])
def test_shared_strings_named_in_other_capitals_are_weighed(tmp_path, name):
    rows = [HEADER] + [f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c></row>' for n in range(2, 102)]
    book = _renamed(write_xlsx(tmp_path / "shared.xlsx", rows, shared=["x" * (1024 * 1024)]),
                    {"xl/sharedStrings.xml": name})
    assert "memory" in refusal(book)


def test_two_parts_of_the_same_name_but_for_capitals_are_refused(tmp_path):
    book = _far_sheet(tmp_path)
    with zipfile.ZipFile(book, "a") as z:
        z.writestr("XL/Worksheets/Sheet1.xml", "<worksheet/>")
    assert "two parts of the same name" in refusal(book)


def test_a_part_protected_with_a_password_is_refused_in_one_line(tmp_path):
    # zipfile said "is encrypted, password required" as a RuntimeError: a crash report.
    book = write_xlsx(tmp_path / "locked.xlsx", [HEADER])
    data = bytearray(book.read_bytes())
    with zipfile.ZipFile(book) as z:
        data[z.getinfo("xl/worksheets/sheet1.xml").header_offset + 6] |= 1  # the local header's flag
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # and the central directory's
        length = struct.unpack("<H", data[at + 28:at + 30])[0]
        if data[at + 46:at + 46 + length] == b"xl/worksheets/sheet1.xml":
            data[at + 8] |= 1
        at = data.find(b"PK\x01\x02", at + 4)
    book.write_bytes(bytes(data))
    with pytest.raises(TanetError) as e:
        check_workbook(book)
    assert "protected with a password" in str(e.value) and "\n" not in str(e.value)
