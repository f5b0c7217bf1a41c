"""The .xlsx check, rule by rule, read in this process: what reading a workbook would take is
judged from its XML written any way XML allows, and a large ordinary workbook still passes."""

import zipfile
from collections.abc import Sequence

import pytest
from test_hostile_input import write_xlsx

from tanet.errors import TanetError
from tanet.sheets.workbook_check import CELL_COST, EMPTY_CELL_COST, MAX_READER_MEMORY, check_workbook


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
    # A vertical tab or form feed is no character XML allows: refused as not plain XML first.
    assert ("not plain XML" if "\x0b" in written or "\x0c" in written else "column XFD") in refusal(book)


@pytest.mark.parametrize("written", ["r='A1048576'", 'r\t=\n"A1048576"', 'r\x0b="A1048576"', "\nr='a1048576'"])
def test_a_far_row_is_found_however_its_position_is_written(tmp_path, written):
    book = write_xlsx(tmp_path / "far.xlsx", [HEADER, f'<row><c {written} t="inlineStr"><is><t>x</t></is></c></row>'])
    assert ("not plain XML" if "\x0b" in written else "row 1,048,576") in refusal(book)


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
    store_unpacked(book, "xl/sharedStrings.xml")
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
    store_unpacked(book, "xl/sharedStrings.xml")
    check_workbook(book)


def test_shared_strings_written_with_a_prefix_and_white_space_are_counted(tmp_path):
    text = "x" * (1024 * 1024)
    rows = [HEADER] + [f'<row r="{i}"><x:c\tr="A{i}"\nt="s" s="1">\r\n<x:v> 0 </x:v></x:c></row>' for i in range(2, 82)]
    book = write_xlsx(tmp_path / "shared.xlsx", rows, shared=[text])
    store_unpacked(book, "xl/sharedStrings.xml")
    assert "memory" in refusal(book)


def store_unpacked(book, name: str) -> None:
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


def rewritten(book, rename=lambda name: name, edit=lambda name, content: content) -> None:
    """Rewrite the workbook with its parts renamed and edited (the shared strings stored
    unpacked, as in store_unpacked)."""
    with zipfile.ZipFile(book) as z:
        parts = [(item.filename, z.read(item)) for item in z.infolist()]
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts:
            z.writestr(rename(name), edit(name, content),
                       zipfile.ZIP_STORED if name.endswith("sharedStrings.xml") else zipfile.ZIP_DEFLATED)


def one_long_text_used(tmp_path, cell: str, uses: int = 100):
    """A 1 MB shared string and `uses` cells written as `cell` (with {n} for the row)."""
    rows = [HEADER] + [f'<row r="{n}">' + cell.format(n=n) + "</row>" for n in range(2, 2 + uses)]
    book = write_xlsx(tmp_path / "shared.xlsx", rows, shared=["x" * (1024 * 1024)])
    store_unpacked(book, "xl/sharedStrings.xml")
    return book


def test_a_shared_string_hidden_in_cdata_is_refused(tmp_path):
    # The CDATA section was taken for a tag and its megabyte counted as nothing: 100 MB read.
    book = one_long_text_used(tmp_path, '<c r="A{n}" t="s"><v>0</v></c>')
    rewritten(book, edit=lambda name, content: content.replace(b"<t>x", b"<t><![CDATA[x").replace(b"x</t>", b"x]]></t>")
               if name == "xl/sharedStrings.xml" else content)
    assert "CDATA" in refusal(book) and "save it again" in refusal(book).lower()


def test_text_in_cdata_in_a_sheet_is_refused(tmp_path):
    book = write_xlsx(tmp_path / "cdata.xlsx", [HEADER, '<row r="2"><c r="A2" t="inlineStr"><is><t><![CDATA[x]]>'
                                                       "</t></is></c></row>"])
    assert "CDATA" in refusal(book)


@pytest.mark.parametrize("first, rest", [("<c>", "<c>"), ('<c r="A1">', "<c>"), ('<c r="A1">', "<c t='n'>"),
                                         ('<c r="A1">', "<c x=' r=\"B1\"'>"), ('<x:c r="A1">', "<x:c>")])
def test_cells_that_do_not_say_where_they_are_are_refused(tmp_path, first, rest):
    # The reader places them by counting: 300 columns in row 1 and one cell in row 100,001
    # made a rectangle of 30 million cells from a 2 KB file. A position in another
    # attribute's value is no position.
    end = "</x:c>" if first.startswith("<x:") else "</c>"
    rows = ["<row>" + first + "<v>1</v>" + end + (rest + "<v>1</v>" + end) * 299 + "</row>",
            '<row r="100001"><c r="A100001"><v>1</v></c></row>']
    book = write_xlsx(tmp_path / "placed.xlsx", rows)
    assert "leaves out where some of its cells are" in refusal(book)


@pytest.mark.parametrize("cell", ['<c r="A{n}" t="s"><v>x</v></c>', '<c r="A{n}" t="s"><f/><v>0</v></c>',
                                  '<c r="A{n}" t="s"><v >0</v ></c>', '<c r="A{n}" t="s"><v>7</v></c>',
                                  '<c r="A{n}" t="s"><v>0000000000000000000000</v></c>'])
def test_a_shared_string_used_in_a_way_not_read_exactly_is_taken_as_the_longest(tmp_path, cell):
    # The reader still copies a string into each of these cells (a bad index as the first).
    assert "memory" in refusal(one_long_text_used(tmp_path, cell))


@pytest.mark.parametrize("where", ["book", "workbook elsewhere", "texts elsewhere", "texts absolute elsewhere"])
def test_a_workbook_whose_parts_are_not_where_spreadsheet_programs_put_them_is_refused(tmp_path, where):
    # The reader follows the relationships: shared strings in book/ were never weighed.
    book = one_long_text_used(tmp_path, '<c r="A{n}" t="s"><v>0</v></c>', uses=2)
    if where == "book":
        rewritten(book, rename=lambda name: name.replace("xl/", "book/"),
                   edit=lambda name, content: content.replace(b'Target="xl/', b'Target="book/'))
    elif where == "workbook elsewhere":
        rewritten(book, edit=lambda name, content: content.replace(b'Target="xl/workbook.xml"',
                                                                    b"Target = '/xl/../xl/workbook.xml'"))
    else:
        target = b'"/xl/strings/one.xml"' if "absolute" in where else b'"strings/one.xml"'
        rewritten(book, rename=lambda name: name.replace("xl/sharedStrings.xml", "xl/strings/one.xml"),
                   edit=lambda name, content: content.replace(b'"sharedStrings.xml"', target))
    assert "under other names than spreadsheet programs give them" in refusal(book)


@pytest.mark.parametrize("written", ['uniqueCount="18446744073709551615"', "uniqueCount = '1000001'",
                                     'count="99999999999999999999999"', "x:uniqueCount='+2000000'",
                                     'x="' + "p" * 5000 + '" uniqueCount="2000000"'])
def test_a_workbook_claiming_vast_numbers_of_texts_is_refused(tmp_path, written):
    # The reader makes room for that many first: a panic, or the process aborted.
    book = write_xlsx(tmp_path / "count.xlsx", [HEADER, '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'],
                      shared=["a"])
    rewritten(book, edit=lambda name, content: content.replace(b'count="1" uniqueCount="1"', written.encode())
               if name == "xl/sharedStrings.xml" else content)
    assert "different texts" in refusal(book)


def test_a_reader_panic_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    # Should a workbook the check lets through still make the reader panic, the coordinator
    # is told it cannot be read.
    from tanet.sheets import workbook

    book = write_xlsx(tmp_path / "count.xlsx", [HEADER, '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'],
                      shared=["a"])
    rewritten(book, edit=lambda name, content: content.replace(b'uniqueCount="1"', b'uniqueCount="18446744073709551615"'))
    monkeypatch.setattr(workbook, "check_workbook", lambda path, max_rows=None: None)
    with pytest.raises(TanetError) as e:
        list(workbook.read_table(book))
    assert "not a spreadsheet tanet can read" in str(e.value)


class _RegisterTexts(Sequence):
    """A register's shared strings, made when asked for (held at once, they would swell the
    test process, which the tests measuring their children's memory would then count): the
    header, 500 organisations, three service areas and a role, then each member's name and
    address, all different."""

    HEADER = ["Full name", "E-mail address", "Phone", "Organisation", "Service area", "Role"]
    AREAS = ["health", "housing", "education"]

    def __len__(self):
        return 510 + 2 * 100_000

    def __getitem__(self, i):
        if not 0 <= i < len(self):
            raise IndexError(i)
        if i < 6:
            return self.HEADER[i]
        if i < 506:
            return f"Organisation number {i - 6}"
        if i < 510:
            return (self.AREAS + ["frontline"])[i - 506]
        n, email = divmod(i - 510, 2)
        return f"member{n}@org{n % 500}.example.org" if email else f"Member Person{n} Surname{n % 977}"


def test_a_register_of_a_hundred_thousand_members_all_in_shared_strings_is_accepted(tmp_path):
    # As Excel writes it: every text in the shared strings (a 9 MB part, which was once
    # scanned as a sheet and refused), names and addresses all different.
    def row(n, indexes):
        return (f'<row r="{n}" spans="1:6">' + "".join(f'<c r="{c}{n}" t="s"><v>{i}</v></c>'
                                                       for c, i in zip("ABCDEF", indexes)) + "</row>")

    def rows():
        yield row(1, range(6))
        for m in range(100_000):
            yield row(m + 2, [510 + 2 * m, 511 + 2 * m, 6 + m % 500, 506 + m % 3, 509]).replace(
                "</row>", f'<c r="F{m + 2}"><v>{1314960000 + m}</v></c></row>')

    book = write_xlsx(tmp_path / "register.xlsx", rows(), dimension="A1:F100001", shared=_RegisterTexts())
    with zipfile.ZipFile(book) as z:
        assert z.getinfo("xl/sharedStrings.xml").file_size > 8 * 1024 * 1024
    check_workbook(book)


def test_a_tag_of_eighty_thousand_shared_markers_is_checked_at_once(tmp_path):
    # Every t="s" once looked through the whole rest of the tag: 58 s for 80,000 of them
    # (counted at most, 80 MB of text: so they are counted exactly).
    # Now about 0.1 s; the guard only fails the test should it take far too long, it never waits.
    import signal

    class TookTooLong(Exception):  # no OSError (TimeoutError is one): the check would catch it
        pass

    def too_long(*_):
        raise TookTooLong("the check took over 3 s of work")

    book = write_xlsx(tmp_path / "markers.xlsx", ['<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
                                                  '<row r="2"><c r="A2"' + ' t="s"' * 80_000 + "/></row>"],
                      shared=["a" * 1000])
    previous = signal.signal(signal.SIGPROF, too_long)
    signal.setitimer(signal.ITIMER_PROF, 3)  # CPU time: others' work does not count
    try:
        check_workbook(book)
    except TanetError:
        pass  # refused or accepted: either is fine, in time
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def long_sheet_with(middle: str, header_reach: str = "B1") -> list[str]:
    """An ordinary sheet of 3,000 rows (far more than the check's first look at each end
    takes in) with `middle`, a cell, written halfway down."""
    rows = [f'<row r="{n}">' + text_cell(f"A{n}", f"member {n}") + text_cell(f"B{n}", "x") + "</row>"
            for n in range(2, 3002)]
    rows[1500] = rows[1500].replace("</row>", middle + "</row>")
    return ['<row r="1">' + text_cell("A1", "Name") + text_cell(header_reach, "Email") + "</row>", *rows]


@pytest.mark.parametrize("middle, max_rows, header_reach, said", [
    (text_cell("A1048576", "far"), 100_001, "B1", "row 1,048,576"),  # more digits than the ends' rows
    (text_cell("A5001", "far"), 5_000, "B1", "row 5,001"),  # as many digits, a larger number
    (text_cell("A0005001", "far"), 5_000, "B1", "row 5,001"),
    (text_cell("XFD1502", "far"), 100_001, "B1", "column XFD"),  # more letters
    (text_cell("GS1502", "far"), 100_001, "GR1", "column GS"),  # as many letters, later
    (text_cell("gs1502", "far"), 100_001, "GR1", "column gs"),
    ('<c r="1502" t="inlineStr"><is><t>far</t></is></c>', 100_001, "B1", "leaves out where"),  # no letter
])
def test_a_position_far_out_in_the_middle_of_a_long_ordinary_sheet_is_found(tmp_path, middle, max_rows, header_reach,
                                                                             said):
    # The furthest positions are looked for at the sheet's two ends first; one cell further
    # out anywhere else must still be found.
    book = write_xlsx(tmp_path / "long.xlsx", long_sheet_with(middle, header_reach))
    with pytest.raises(TanetError) as e:
        check_workbook(book, max_rows)
    assert said in str(e.value)


def test_a_long_ordinary_sheet_is_accepted_with_its_furthest_cell_in_the_middle(tmp_path):
    # Found there, not only at the ends: within the limits it is read.
    check_workbook(write_xlsx(tmp_path / "long.xlsx", long_sheet_with(text_cell("GR3001", "far"))), 3_001)


def test_a_sheet_ending_on_a_row_of_over_a_thousand_digits_is_refused_at_once(tmp_path):
    # A 2 KB file whose last position is r="A777...": refused as too big, in no time (looking
    # for a row past it would be a pattern that grows with the square of its digits).
    import time

    row = "7" * 1500
    book = write_xlsx(tmp_path / "long.xlsx", [HEADER, f'<row r="{row}">' + text_cell(f"A{row}", "x") + "</row>"])
    started = time.process_time()
    assert "row 777,777,777,777" in refusal(book)
    assert time.process_time() - started < 5  # a failure guard: it takes milliseconds
