"""The .xlsx check on cells and shared strings written as Excel never writes them but the
reader still reads them: any prefix, a second value or position, long columns and rows."""

import pytest
from test_hostile_input import write_xlsx
from test_workbook_check import (
    HEADER,
    long_sheet_with,
    one_long_text_used,
    refusal,
    rewritten,
    store_unpacked,
    text_cell,
)

from tanet.sheets.workbook_check import check_workbook


@pytest.mark.parametrize("cell", ['<c r="A{n}" t="s"><v>0</v><v>1</v></c>', '<c r="A{n}" t="s"><v>0</v><f/><v>1</v></c>',
                                  '<x:c r="A{n}" t="s"><x:v>0</x:v><a-b:v>1</a-b:v></x:c>'])
def test_a_cell_with_two_values_is_refused(tmp_path, cell):
    # The reader keeps the last value (the 1 MB string, in 100 cells); the first was weighed.
    rows = [HEADER] + [f'<row r="{n}">' + cell.format(n=n) + "</row>" for n in range(2, 102)]
    book = write_xlsx(tmp_path / "two.xlsx", rows, shared=["a", "x" * (1024 * 1024)])
    store_unpacked(book, "xl/sharedStrings.xml")
    assert "two values" in refusal(book)


@pytest.mark.parametrize("prefix", ["a-b:", "a.b:", "x1:", "\u00e9:"])
def test_shared_strings_written_with_any_prefix_are_counted(tmp_path, prefix):
    # The reader reads <a-b:si> as a shared string: its megabyte was weighed as nothing.
    book = one_long_text_used(tmp_path, '<c r="A{n}" t="s"><v>0</v></c>')
    tag = prefix.encode()
    rewritten(book, edit=lambda name, content: content.replace(b"<si>", b"<" + tag + b"si>").replace(
        b"</si>", b"</" + tag + b"si>").replace(b"<sst ", b"<" + tag + b"sst ").replace(b"</sst>", b"</" + tag + b"sst>")
        if name.endswith("Strings.xml") else content)
    assert "memory" in refusal(book)


def test_cells_written_with_any_prefix_must_say_where_they_are(tmp_path):
    # 16,384 <a-b:c> without positions: the reader places them by counting, out to column XFD.
    book = write_xlsx(tmp_path / "prefixed.xlsx", [HEADER, '<row r="3000">' + "<a-b:c></a-b:c>" * 300 + "</row>"])
    assert "leaves out where some of its cells are" in refusal(book)


@pytest.mark.parametrize("written", ['r="A2"r="XFD2"', "r='A2'r='XFD2'", 'r="A2" r="XFD2"', 'r="A2" t="n"r="XFD2"'])
def test_a_cell_with_two_positions_is_refused(tmp_path, written):
    # The reader keeps the last; a second one straight after a quote was not seen at all. XML
    # allows neither (an attribute twice, none without a space before it): refused as not XML.
    book = write_xlsx(tmp_path / "two.xlsx", [HEADER, f'<row r="2"><c {written}><v>1</v></c></row>'])
    assert "not plain XML" in refusal(book)


@pytest.mark.parametrize("column, said", [("AAAA", "column AAAA"), ("aaaa", "column aaaa"), ("A" * 500, "column AAAAAAAA (")])
def test_a_column_of_any_number_of_letters_is_read(tmp_path, column, said):
    book = write_xlsx(tmp_path / "far.xlsx", [HEADER, f'<row r="3000"><c r="{column}3000"><v>1</v></c></row>'])
    assert said in refusal(book)
    book = write_xlsx(tmp_path / "middle.xlsx", long_sheet_with(f'<c r="{column}1502"><v>1</v></c>'))
    assert said in refusal(book)


def test_a_row_of_thousands_of_digits_is_refused_in_plain_words(tmp_path):
    # Python's int refuses over 4,300 digits in its own words ("Exceeds the limit").
    row = "9" * 5000
    book = write_xlsx(tmp_path / "long.xlsx", [f'<row r="{row}">' + text_cell(f"A{row}", "x") + "</row>", HEADER])
    assert "too large" in refusal(book) and "limit" not in refusal(book)
    zeros = "0" * 5000 + "2"  # row 2, however many zeros it is written with
    check_workbook(write_xlsx(tmp_path / "zeros.xlsx", [HEADER, f'<row r="{zeros}">' + text_cell(f"A{zeros}", "x")
                                                        + "</row>"]))


@pytest.mark.parametrize("hidden", [b"<!--<si>-->", b"<?x <si>?>"])
def test_a_comment_or_instruction_among_the_shared_strings_is_refused(tmp_path, hidden):
    # The reader skips it whole; counted as a string it shifted every later one's index.
    book = write_xlsx(tmp_path / "comment.xlsx", [HEADER] + [f'<row r="{n}"><c r="A{n}" t="s"><v>1</v></c></row>'
                                                            for n in range(2, 102)], shared=["a", "x" * (1024 * 1024)])
    rewritten(book, edit=lambda name, content: content.replace(b"</si>", b"</si>" + hidden, 1)
               if name == "xl/sharedStrings.xml" else content)
    assert "comment" in refusal(book)


@pytest.mark.parametrize("dimension", ['<dimension ref="A1:XFD5"/>', '<dimension x="1" ref="A1:XFD5"/>',
                                       '<dimension x="1"ref="A1:XFD5"/>', '<a-b:dimension ref="A1:XFD5"/>',
                                       '<dimension ref="a1:xfd5"/>'])
def test_a_sheet_declaring_a_far_area_is_refused_however_it_is_written(tmp_path, dimension):
    # The reader makes room for the area a sheet declares first.
    book = write_xlsx(tmp_path / "area.xlsx", [HEADER])
    rewritten(book, edit=lambda name, content: content.replace(b"<sheetData>", dimension.encode() + b"<sheetData>")
              if name.endswith("sheet1.xml") else content)
    assert ("not plain xml" if '"ref' in dimension else "reaches column xfd") in refusal(book).lower()


@pytest.mark.parametrize("hidden", ["<!--x-->", "<?x?>"])
def test_a_comment_or_instruction_in_a_sheet_is_refused(tmp_path, hidden):
    # A cell's values around it are not all seen by a check that reads on inside it.
    book = write_xlsx(tmp_path / "comment.xlsx", [HEADER, f'<row r="2"><c r="A2" t="s"><v>0</v>{hidden}<v>1</v></c></row>'],
                      shared=["a", "b"])
    assert "comment" in refusal(book)


def test_an_answer_quoting_two_positions_is_only_text(tmp_path):
    # Looked for in tags only: an answer may say anything.
    check_workbook(write_xlsx(tmp_path / "quoted.xlsx", [HEADER, '<row r="2">' + text_cell("A2", 'I typed r="A1" r="B2"')
                                                         + "</row>"]))


def test_parts_that_start_with_a_byte_order_mark_are_read(tmp_path):
    # Some programs write one before the XML declaration; it hides nothing.
    book = write_xlsx(tmp_path / "bom.xlsx", [HEADER, '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'], shared=["a"])
    rewritten(book, edit=lambda name, content: b"\xef\xbb\xbf" + content if name.endswith(".xml") else content)
    check_workbook(book)


def test_cells_written_with_a_prefix_are_read_as_any_other(tmp_path):
    rows = [f'<x:row r="{n}"><x:c r="A{n}"><x:v>{n}</x:v></x:c><x:c r="B{n}"><x:v>1</x:v></x:c></x:row>'
            for n in range(1, 3001)]
    check_workbook(write_xlsx(tmp_path / "prefixed.xlsx", rows))
    rows[1500] = '<x:row r="1501"><x:c r="A1501"r="XFD1501"><x:v>1</x:v></x:c></x:row>'
    assert "not plain XML" in refusal(write_xlsx(tmp_path / "prefixed.xlsx", rows))


# Each part must be well-formed XML: the reader reads leniently what XML forbids, so the
# patterns could read a broken part otherwise than the reader does.
@pytest.mark.parametrize("part, old, new", [
    # a string ended by another tag name: the reader runs it on into the next ones (1 MB)
    ("Strings.xml", b"</t></si>", b"</t></s>"),
    # no space before an attribute: the reader still reads it
    ("Strings.xml", b'count="1" uniqueCount="1"', b'count="1"uniqueCount="4000000000"'),
    ("_rels/.rels", b'Id="rId1" Type=', b'Id="rId1"Type='),
    # a document type, which could declare entities to expand
    ("sheet1.xml", b"<worksheet", b"<!DOCTYPE x [<!ENTITY a 'b'>]><worksheet"),
])
def test_a_part_that_is_not_well_formed_xml_is_refused(tmp_path, part, old, new):
    book = one_long_text_used(tmp_path, '<c r="A{n}" t="s"><v>0</v></c>', uses=2)
    changed = []

    def edit(name, content):
        if name.endswith(part) and old in content:
            changed.append(name)
            return content.replace(old, new, 1)
        return content

    rewritten(book, edit=edit)
    assert changed
    assert "not plain XML" in refusal(book)


def test_text_holding_a_quote_never_hides_a_far_cell(tmp_path):
    # "='" in an answer is text, never the start of a single-quoted value running on to the
    # next ' inside a later tag (z='v' there is an attribute: the XML is well-formed).
    book = write_xlsx(tmp_path / "quote.xlsx", [HEADER, '<row r="3000">' + text_cell("A3000", "='")
                                                + "<c r=\"XFD3000\" z='v'><v>1</v></c></row>"])
    assert "column XFD" in refusal(book)


def test_an_answer_with_an_apostrophe_after_an_equals_sign_is_read(tmp_path):
    # An ordinary answer (Forms writes text inline) was refused as leaving out cell positions.
    rows = [HEADER] + [f'<row r="{n}">' + text_cell(f"A{n}", "useful = 'a bit" if n == 2 else "today's")
                       + text_cell(f"B{n}", "'no surprises'") + "</row>" for n in range(2, 40)]
    check_workbook(write_xlsx(tmp_path / "answers.xlsx", rows))


def test_a_long_list_of_parts_is_read_to_its_end(tmp_path):
    # Only its first megabyte was read: a sheet named after 20,000 others went unweighed.
    book = write_xlsx(tmp_path / "long.xlsx", [HEADER, '<row r="2">' + text_cell("A2", "x") + "</row>"])
    padding = "".join(f'<Relationship Id="p{i}" Type="http://example.org/x" Target="n{i:06d}.xml"/>'
                      for i in range(20_000)).encode()
    far = b'<?xml version="1.0"?><worksheet><sheetData><row r="3"><c r="XFD3"><v>1</v></c></row></sheetData></worksheet>'

    def edit(name, content):
        return content.replace(b"<Relationship ", padding + b"<Relationship ", 1) \
            .replace(b'Target="worksheets/sheet1.xml"', b'Target="worksheets/sheet1.bin"') \
            if name == "xl/_rels/workbook.xml.rels" else content

    rewritten(book, rename=lambda name: name.replace("sheet1.xml", "sheet1.bin"), edit=edit)
    rewritten(book, edit=lambda name, content: far if name.endswith("sheet1.bin") else content)
    assert "column XFD" in refusal(book)
