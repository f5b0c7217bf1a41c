"""The .xlsx check, rule by rule, read in this process: what reading a workbook would take is
judged from its XML written any way XML allows, and a large ordinary workbook still passes."""

import zipfile

import pytest
from test_hostile_input import write_xlsx

from tanet.errors import TanetError
from tanet.sheets.workbook import CELL_COST, EMPTY_CELL_COST, MAX_READER_MEMORY, check_workbook


def text_cell(ref: str, text: str, extra: str = "") -> str:
    return f'<c r="{ref}" t="inlineStr"{extra}><is><t>{text}</t></is></c>'


def refusal(path) -> str:
    with pytest.raises(TanetError) as e:
        check_workbook(path)
    return str(e.value)


HEADER = '<row r="1">' + text_cell("A1", "Name") + text_cell("B1", "Email") + "</row>"


@pytest.mark.parametrize("written", ["r='XFD1'", 'r = "XFD1"', "r\t=\t'XFD1'", 'r\r\n="XFD1"', 'r\x0b=\x0c"XFD1"',
                                     '\x0br="XFD1"', '\x0cr="XFD1"', '\tr="XFD1"', '\r\nr="XFD1"'])
def test_a_far_column_is_found_however_its_position_is_written(tmp_path, written):
    book = write_xlsx(tmp_path / "far.xlsx", [HEADER, f'<row r="2"><c {written} t="inlineStr"><is><t>x</t></is></c>'
                                                      "</row>"])
    assert "column XFD" in refusal(book)


@pytest.mark.parametrize("written", ["r='A1048576'", 'r\t=\n"A1048576"', 'r\x0b="A1048576"', "\nr='a1048576'"])
def test_a_far_row_is_found_however_its_position_is_written(tmp_path, written):
    book = write_xlsx(tmp_path / "far.xlsx", [HEADER, f'<row><c {written} t="inlineStr"><is><t>x</t></is></c></row>'])
    assert "row 1,048,576" in refusal(book)


@pytest.mark.parametrize("column, refused", [("GR", False), ("GS", True), ("gs", True), ("ABC", True), ("abc", True)])
def test_columns_of_up_to_three_letters_are_counted_in_either_case(tmp_path, column, refused):
    book = write_xlsx(tmp_path / "wide.xlsx", [HEADER, '<row r="2">' + text_cell(f"{column}2", "x") + "</row>"])
    if refused:
        assert f"column {column}" in refusal(book)
    else:
        check_workbook(book)


def test_the_furthest_column_is_found_among_letters_of_both_cases(tmp_path):
    # "ZZ" is column 702 and "aa" column 27: comparing the letters as written put "aa" first.
    book = write_xlsx(tmp_path / "mixed.xlsx", [HEADER, '<row r="2">' + text_cell("ZZ2", "x") + text_cell("aa2", "y")
                                                + "</row>", '<row r="3">' + text_cell("A3", "z") + "</row>"])
    assert "column ZZ" in refusal(book)


@pytest.mark.parametrize("row, refused", [("100001", False), ("0000100001", False), ("100002", True),
                                          ("1000000", True), ("0001000000", True), ("9999999", True)])
def test_rows_of_seven_digits_and_leading_zeros_are_counted_by_their_number(tmp_path, row, refused):
    book = write_xlsx(tmp_path / "long.xlsx", [HEADER, f'<row r="{int(row)}">' + text_cell(f"A{row}", "x") + "</row>"])
    if refused:
        assert f"row {int(row):,}" in refusal(book)
    else:
        check_workbook(book)


def test_a_row_is_not_read_from_a_position_that_does_not_end(tmp_path):
    # r="A5x" is no position: neither a row to count nor one to refuse, as before.
    book = write_xlsx(tmp_path / "odd.xlsx", [HEADER, '<row r="2">' + text_cell("A2", "x") + "</row>",
                                              '<row><c r="A1048576x" t="inlineStr"><is><t>y</t></is></c></row>'])
    check_workbook(book)


@pytest.mark.parametrize("uses, refused", [(40, False), (80, True)])
def test_shared_strings_are_counted_once_for_every_cell_that_uses_them(tmp_path, uses, refused):
    # One 1 MB text used by `uses` cells: the reader holds a copy in each.
    text = "x" * (1024 * 1024)
    rows = [HEADER] + [f'<row r="{i}"><c r="A{i}" t="s"><v>0</v></c></row>' for i in range(2, 2 + uses)]
    book = write_xlsx(tmp_path / "shared.xlsx", rows, shared=[text])
    _store_unpacked(book, "xl/sharedStrings.xml")
    if refused:
        assert "memory" in refusal(book)
    else:
        check_workbook(book)


def test_a_long_shared_string_used_once_among_many_short_ones_is_accepted(tmp_path):
    # Counted at most first (the longest string in every cell that may use one: 100 MB), then
    # exactly, as the reader would hold them: 1 MB once, and a letter a hundred times.
    rows = [HEADER, '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>7</v></c></row>'] + [
        f'<row r="{i}"><c r="A{i}" t="s"><v>1</v></c></row>' for i in range(3, 103)]
    book = write_xlsx(tmp_path / "shared.xlsx", rows, shared=["x" * (1024 * 1024), "a"])
    _store_unpacked(book, "xl/sharedStrings.xml")
    check_workbook(book)


def test_shared_strings_written_with_a_prefix_and_white_space_are_counted(tmp_path):
    text = "x" * (1024 * 1024)
    rows = [HEADER] + [f'<row r="{i}"><x:c\tr="A{i}"\nt="s" s="1">\r\n<x:v> 0 </x:v></x:c></row>' for i in range(2, 82)]
    book = write_xlsx(tmp_path / "shared.xlsx", rows, shared=[text])
    _store_unpacked(book, "xl/sharedStrings.xml")
    assert "memory" in refusal(book)


def _store_unpacked(book, name: str) -> None:
    """Rewrite the workbook with `name` stored unpacked (a long run of one letter would
    otherwise be refused as a zip bomb before its size is weighed)."""
    with zipfile.ZipFile(book) as z:
        parts = [(item, z.read(item)) for item in z.infolist()]
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for item, content in parts:
            z.writestr(item.filename, content,
                       zipfile.ZIP_STORED if item.filename == name else zipfile.ZIP_DEFLATED)


def _near_the_limit(tmp_path, spare: int):
    """A sheet whose rectangle takes all but a few KB of the reader's memory, with text that
    leaves `spare` bytes over (negative: short of it), and tags longer than that text: only
    the text itself, not the XML around it, decides."""
    columns = 200
    rows = MAX_READER_MEMORY // (columns * EMPTY_CELL_COST)  # a rectangle that all but fills it
    cells = 2
    left = MAX_READER_MEMORY - cells * CELL_COST - (rows * columns - cells) * EMPTY_CELL_COST
    assert 0 < left < 100_000
    padding = ' x="' + "p" * (3 * left) + '"'  # a long attribute: XML, not text
    text = "t" * (left - spare)
    assert columns == 200 and rows <= 100_001  # GR
    sheet = ['<row r="1">' + text_cell("A1", text[:len(text) // 2], padding) + "</row>",
             f'<row r="{rows}">' + text_cell(f"GR{rows}", text[len(text) // 2:]) + "</row>"]
    book = tmp_path / f"near-{spare}.xlsx"
    write_xlsx(book, sheet)
    return book


def test_text_just_within_the_limit_is_accepted_though_its_xml_is_longer(tmp_path):
    check_workbook(_near_the_limit(tmp_path, 0))


def test_text_just_over_the_limit_is_refused(tmp_path):
    assert "memory" in refusal(_near_the_limit(tmp_path, -1))


def test_a_hundred_thousand_members_of_six_columns_are_accepted(tmp_path):
    # What the limits are made for: a region's register, as Excel writes it (shared strings).
    shared = ["Name", "Email", "Organisation", "Service area", "Sector", "Role", "City Council", "housing", "public",
              "frontline"]

    def rows():
        yield '<row r="1">' + "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDEF")) + "</row>"
        for n in range(2, 100_002):
            yield (f'<row r="{n}">' + text_cell(f"A{n}", f"Person {n}") + text_cell(f"B{n}", f"p{n}@example.org")
                   + "".join(f'<c r="{c}{n}" t="s"><v>{i}</v></c>' for c, i in zip("CDEF", range(6, 10))) + "</row>")

    check_workbook(write_xlsx(tmp_path / "register.xlsx", rows(), shared=shared))


def test_a_sheet_whose_cells_crowd_in_after_its_first_part_is_still_judged_on_its_text(tmp_path):
    # Its first megabyte is one cell's long attribute, so it looks light; 700,000 empty cells
    # follow. Counted at most (as long as its XML) it would be over the limit; its text is
    # nothing, and counted exactly, as a second look does, it is within it.
    def rows():
        yield '<row r="1">' + text_cell("A1", "Name", ' x="' + "p" * 900_000 + '"') + "</row>"
        for n in range(2, 100_002):
            yield f'<row r="{n}">' + "".join(f'<c r="{c}{n}"/>' for c in "ABCDEFG") + "</row>"

    book = write_xlsx(tmp_path / "crowded.xlsx", rows())
    check_workbook(book)
