"""Input made to hurt: spreadsheets that attack the reader, arguments that are not text,
characters XML cannot hold, and erasure that must reach everything tanet holds."""

import os
import resource
import subprocess
import sys
import zipfile

import pytest

from conftest import TANET

MiB = 1024 * 1024

_CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
             '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = ('<?xml version="1.0"?><Relationships '
                  'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                  'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                  'Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET_HEAD = '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def write_xlsx(path, sheet_parts, dimension=None):
    """A minimal workbook whose first sheet is the concatenation of `sheet_parts` (strings,
    or an iterator of them for a sheet too large to hold in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_HEAD.encode())
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>")
            for part in sheet_parts:
                sheet.write(part.encode())
            sheet.write(b"</sheetData></worksheet>")
    return path


def run_limited(args, env, limit=512 * MiB):
    """tanet in a child process whose address space is capped (a runaway allocation fails
    there, not on this machine): exit code, stdout, stderr and its peak resident memory."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    p = subprocess.Popen([*TANET, *map(str, args)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=cap)
    out, err = p.stdout.read(), p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), usage.ru_maxrss * 1024


def assert_refused_in_one_line(result, *words):
    code, out, err, peak = result
    assert code == 1, result
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("Error: ")
    for word in words:
        assert word in err
    assert peak < 100 * MiB, f"peak memory {peak // MiB} MiB"


@pytest.fixture
def meeting_env(tanet, cli_env):
    tanet("meeting", "add", "2026-11-10", ok=True)
    return cli_env


def test_a_tiny_workbook_naming_the_last_cell_is_refused_before_it_is_read(tmp_path, meeting_env):
    rows = ['<row r="1">' + _cell("A1", "Name") + _cell("B1", "Email") + '</row>',
            '<row r="1048576">' + _cell("XFD1048576", "x") + '</row>']
    book = write_xlsx(tmp_path / "last-cell.xlsx", rows, dimension="A1:XFD1048576")
    assert book.stat().st_size < 2048
    for args in (["member", "import", book], ["feedback", "import", "1", book]):
        assert_refused_in_one_line(run_limited(args, meeting_env), "XFD1048576", "CSV")


def test_a_workbook_declaring_a_vast_sheet_is_refused(tmp_path, meeting_env):
    # No cell beyond A2, but the sheet declares 16384 columns: some readers size it by that.
    rows = ['<row r="1">' + _cell("A1", "Name") + '</row>', '<row r="2">' + _cell("A2", "Ann") + '</row>']
    book = write_xlsx(tmp_path / "wide.xlsx", rows, dimension="A1:XFD2")
    assert_refused_in_one_line(run_limited(["member", "import", book], meeting_env), "XFD2")


def test_a_zip_bomb_is_refused_in_little_memory(tmp_path, meeting_env):
    # 150 MB of one cell packed into a few hundred KB: under the size limit, over the ratio.
    def bomb():
        yield '<row r="1">' + _cell("A1", "Name") + _cell("B1", "Email") + '</row><row r="2"><c r="A2" t="inlineStr"><is><t>'
        block = "A" * MiB
        for _ in range(150):
            yield block
        yield '</t></is></c></row>'

    book = write_xlsx(tmp_path / "bomb.xlsx", bomb())
    assert book.stat().st_size < 2 * MiB
    for args in (["member", "import", book], ["feedback", "import", "1", book]):
        assert_refused_in_one_line(run_limited(args, meeting_env), "zip bomb")


def run_bytes(env, *args: bytes):
    """tanet with raw bytes as its arguments, as a shell passes $'\\xff'."""
    p = subprocess.run([*map(os.fsencode, TANET), *args], env=env, capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def assert_one_line(result, *words):
    code, out, err = result
    assert code == 1, result
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("Error: ")
    for word in words:
        assert word in err, err


@pytest.mark.parametrize("args, named", [
    ((b"member", b"add", b"Bad\xffName", b"--email", b"b@example.org"), "'Bad\\xffName'"),
    ((b"member", b"add", b"Ann", b"--email", b"a@example.org", b"--title", b"T\xfeitle"), "--title"),
    ((b"member", b"add", b"Ann", b"--email=\xe9@example.org"), "--email"),
    ((b"config", b"set", b"network", b"\xff"), "'\\xff'"),
    ((b"member", b"list", b"--area", b"\xff"), "--area"),
])
def test_arguments_that_are_not_utf8_are_refused_naming_them(cli_env, own_database, args, named):
    before = own_database.read_bytes()
    assert_one_line(run_bytes(cli_env, *args), named, "not UTF-8")
    assert own_database.read_bytes() == before


def test_a_bad_pretend_today_is_one_line(cli_env):
    assert_one_line(run_bytes({**cli_env, "TANET_TODAY": "2027-13-01"}, b"member", b"list"),
                    "TANET_TODAY", "YYYY-MM-DD")


@pytest.mark.parametrize("char", ["\ufffe", "\uffff", "\ufdd0", "\U0010ffff"])
def test_characters_xml_cannot_hold_are_refused_at_input(cli_env, own_database, char):
    bad = f"a{char}b".encode()
    add = (b"member", b"add", b"Ann", b"--email", b"a@example.org", b"--area", b"housing", b"--sector", b"public",
           b"--role", b"frontline")
    assert_one_line(run_bytes(cli_env, *add, b"--org", bad), f"U+{ord(char):04X}")
    assert_one_line(run_bytes(cli_env, *add, b"--org", b"Org", b"--notes", b"line one\n" + bad), f"U+{ord(char):04X}")
    assert_one_line(run_bytes(cli_env, b"report", b"note", b"2026Q4", bad), "commentary", f"U+{ord(char):04X}")
    import sqlite3

    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM report_notes").fetchone()[0] == 0


def test_a_word_summary_is_written_from_a_file_that_holds_what_xml_cannot(tanet, own_database, tmp_path):
    # A file written before these characters were refused: the summary still comes out.
    import sqlite3

    from conftest import add_member

    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2026-10-01")
    tanet("meeting", "add", "2026-11-10", ok=True)
    with sqlite3.connect(own_database) as c:
        c.execute("INSERT INTO report_notes(label, text) VALUES ('2026Q4', ?)", ["Good \ufffe quarter\x01."])
    out = tmp_path / "summary.docx"
    tanet("report", "quarter", "2026Q4", "--format", "docx", "-o", out, ok=True)
    with zipfile.ZipFile(out) as z:
        body = z.read("word/document.xml").decode()
    assert "Good \ufffd quarter\ufffd." in body
