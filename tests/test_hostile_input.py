"""Input made to hurt: spreadsheets that attack the reader, arguments that are not text,
characters XML cannot hold, and erasure that must reach everything tanet holds."""

import os
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


_SHARED_RELATION = ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    'relationships/sharedStrings" Target="sharedStrings.xml"/>')


def write_xlsx(path, sheet_parts, dimension=None, shared=()):
    """A minimal workbook whose first sheet is the concatenation of `sheet_parts` (strings,
    or an iterator of them for a sheet too large to hold in memory), with `shared` as its
    shared strings (cells use them as <c t="s"><v>index</v></c>)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        if shared:
            z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.replace("</Relationships>",
                                                                            _SHARED_RELATION + "</Relationships>"))
            z.writestr("xl/sharedStrings.xml", '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                       f'spreadsheetml/2006/main" count="{len(shared)}" uniqueCount="{len(shared)}">'
                       + "".join(f"<si><t>{text}</t></si>" for text in shared) + "</sst>")
        else:
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
    there, not on this machine): exit code, stdout, stderr and its peak resident memory.
    The child is started by a small Python process, not by pytest: a child forked from this
    large test process would count the test process's own pages as its peak."""
    probe = ("import resource, subprocess, sys\n"
             "limit = int(sys.argv[1])\n"
             "cap = lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
             "p = subprocess.run(sys.argv[2:], capture_output=True, preexec_fn=cap, timeout=120)\n"
             "sys.stdout.buffer.write(b'%d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss + p.stdout)\n"
             "sys.stderr.buffer.write(p.stderr); sys.exit(p.returncode)\n")
    r = subprocess.run([sys.executable, "-c", probe, str(limit), *TANET, *map(str, args)], capture_output=True,
                       env=env, timeout=180)
    peak, _, stdout = r.stdout.partition(b"\n")
    return (r.returncode, stdout.decode(errors="replace"), r.stderr.decode(errors="replace"), int(peak) * 1024)


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
        assert_refused_in_one_line(run_limited(args, meeting_env), "row 1,048,576", "CSV")


@pytest.mark.parametrize("cell", ["<c r='XFD1048576' t='inlineStr'><is><t>x</t></is></c>",
                                  '<c r = "XFD1048576" t="inlineStr"><is><t>x</t></is></c>',
                                  '<c\n\tr="xfd1048576" t="inlineStr"><is><t>x</t></is></c>'])
def test_the_last_cell_written_another_way_is_refused_too(tmp_path, meeting_env, cell):
    # Found by an adversary: single quotes, spaces around '=' or a line break got past the check.
    rows = ['<row r="1">' + _cell("A1", "Name") + _cell("B1", "Email") + '</row>', f"<row>{cell}</row>"]
    book = write_xlsx(tmp_path / "last-cell.xlsx", rows)
    assert_refused_in_one_line(run_limited(["member", "import", book], meeting_env), "row 1,048,576")


def test_a_cell_position_behind_a_character_reference_is_refused(tmp_path, meeting_env):
    rows = ['<row r="1">' + _cell("A1", "Name") + '</row>',
            '<row><c r="&#88;FD1048576" t="inlineStr"><is><t>x</t></is></c></row>']
    book = write_xlsx(tmp_path / "ref.xlsx", rows)
    assert_refused_in_one_line(run_limited(["member", "import", book], meeting_env), "character reference")


def test_a_workbook_declaring_a_vast_sheet_is_refused(tmp_path, meeting_env):
    # No cell beyond A2, but the sheet declares 16384 columns: some readers size it by that.
    rows = ['<row r="1">' + _cell("A1", "Name") + '</row>', '<row r="2">' + _cell("A2", "Ann") + '</row>']
    book = write_xlsx(tmp_path / "wide.xlsx", rows, dimension="A1:XFD2")
    assert_refused_in_one_line(run_limited(["member", "import", book], meeting_env), "column XFD")


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


def test_a_sheet_spread_thin_over_its_whole_area_is_refused(tmp_path, meeting_env):
    # Within 100,000 rows and 200 columns, but two cells at opposite corners make the reader
    # hold the whole rectangle: 20 million cells.
    rows = ['<row r="1">' + _cell("A1", "Name") + _cell("B1", "Email") + '</row>',
            '<row r="100001">' + _cell("GR100001", "x") + '</row>']
    book = write_xlsx(tmp_path / "thin.xlsx", rows)
    assert_refused_in_one_line(run_limited(["member", "import", book], meeting_env), "memory")


def test_one_long_shared_text_used_by_many_cells_is_refused(tmp_path, meeting_env):
    # 1 MB of text that does not pack, stored once and used by 1,000 cells: the reader
    # copies it into each, 1 GB.
    import random

    text = "".join(random.Random(21).choices("abcdefghijklmnopqrstuvwxyz ", k=MiB))
    rows = ['<row r="1">' + _cell("A1", "Name") + _cell("B1", "Email") + '</row>'] + [
        f'<row r="{i}"><c r="A{i}" t="s"><v>0</v></c></row>' for i in range(2, 1002)]
    book = write_xlsx(tmp_path / "shared.xlsx", rows, shared=[text])
    for args in (["member", "import", book], ["feedback", "import", "1", book]):
        assert_refused_in_one_line(run_limited(args, meeting_env), "memory")


def test_a_large_honest_workbook_imports_under_100_mib(tmp_path, cli_env):
    # 20,000 members, shared strings as Excel writes them: read in a stream, well under the limit.
    header = ["Name", "Email", "Organisation", "Service area", "Sector", "Role"]
    shared = header + ["City Council", "housing", "public", "frontline"]
    def rows():
        yield '<row r="1">' + "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDEF")) + '</row>'
        for n in range(2, 20_002):
            yield (f'<row r="{n}">' + _cell(f"A{n}", f"Person {n}") + _cell(f"B{n}", f"p{n}@example.org")
                   + "".join(f'<c r="{c}{n}" t="s"><v>{i}</v></c>' for c, i in zip("CDEF", range(6, 10))) + '</row>')
    book = write_xlsx(tmp_path / "members.xlsx", rows(), shared=shared)
    code, out, err, peak = run_limited(["member", "import", book], cli_env)
    assert (code, err) == (0, ""), err
    assert "20000 new" in out
    assert peak < 100 * MiB


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


def test_a_database_path_that_is_not_utf8_is_one_line(cli_env, tmp_path):
    env = {**cli_env, "TANET_DB": os.fsdecode(os.fsencode(str(tmp_path)) + b"/\xff.db")}
    assert_one_line(run_bytes(env, b"member", b"list"), "TANET_DB", "not UTF-8")


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


# Erasure reaches everything tanet holds -------------------------------------------------------

PEADAR = "peadar.osuilleabhain@edinburghyouthjustice.example"
PEADAR_SECRETS = (PEADAR.encode(), PEADAR.upper().encode(), "Ó Súilleabháin".encode(), b"Sheriff Court",
                  b"Grounding with Peadar")


class Refuser:
    """An aiosmtpd handler that refuses one address, quoting it (as real servers do)."""

    def __init__(self, refused):
        self.refused, self.accepted = refused, []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() == self.refused:
            return f"550 5.1.1 <{address.upper()}>: Recipient address rejected: Peadar Ó Súilleabháin has left"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.accepted += envelope.rcpt_tos
        return "250 OK"


@pytest.fixture
def peadar_everywhere(tanet, tmp_path):
    """A network where Peadar has an outbox row refused by the server quoting his address,
    a reply with a private comment, and named feedback."""
    from aiosmtpd.controller import Controller
    from servers import free_port
    from test_replies import REPLIES, network

    network(tanet, tmp_path)
    tanet("rsvp", "import", REPLIES, ok=True)  # his reply: declined, "Sheriff Court"
    forms = tmp_path / "forms.csv"
    forms.write_text("Timestamp,Email address,How useful was the meeting? (1-5),Will you use anything in your "
                     "practice?,What will you take back?,What should we cover next?,Your service area\n"
                     f"19/01/2027 12:01:02,{PEADAR},4,Yes,Grounding with Peadar,Supervision,Justice\n"
                     "19/01/2027 12:05:00,,5,Maybe,,,Housing\n", encoding="utf-8")
    tanet("feedback", "import", "1", forms, ok=True, env={"TANET_TODAY": "2027-01-25"})  # after the meeting
    handler, port = Refuser(PEADAR), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for key, value in (("smtp.host", "127.0.0.1"), ("smtp.port", port), ("smtp.security", "none")):
            tanet("config", "set", key, value, ok=True)
        tanet("invite", "1", "--send", "-o", tmp_path / "invites", ok=False)
    finally:
        controller.stop()
    assert len(handler.accepted) == 8
    [refused] = tanet("outbox", "list", "--unsent", "--format", "json", ok=True).json()
    assert PEADAR.upper() in refused["error"]
    return tmp_path


def held_bytes(folder):
    """Every byte tanet keeps in the folder: the database, its -wal, the outbox files."""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".csv")


def test_subject_access_includes_feedback_and_outbox(tanet, peadar_everywhere):
    doc = tanet("member", "data", PEADAR, ok=True).json()
    assert [f["take_back"] for f in doc["feedback"]] == ["Grounding with Peadar"]
    assert [(o["kind"], o["email"], o["sent_at"]) for o in doc["outbox"]] == [("invitation", PEADAR, None)]
    assert doc["outbox"][0]["error"].startswith("refused (550")


def test_forget_leaves_nothing_in_the_database_its_log_or_the_outbox_folder(tanet, peadar_everywhere, cli_env,
                                                                            own_database):
    folder = peadar_everywhere
    import sqlite3

    with sqlite3.connect(own_database) as c:  # a server that wrote his name without its accents
        c.execute("UPDATE outbox SET error = 'refused (552 mailbox of Peadar O Suilleabhain is full)' "
                  "WHERE id = (SELECT min(id) FROM outbox WHERE error IS NULL)")
    # His files' names carry his name; tanet's list of the folder's files must lose it too.
    assert b"suilleabhain" in b"".join(p.read_bytes() for p in folder.rglob(".tanet-files"))
    assert all(s in held_bytes(folder) for s in PEADAR_SECRETS[:1])
    p = subprocess.run([*TANET, "member", "forget", PEADAR, "--yes"], env=cli_env, capture_output=True, text=True,
                       timeout=60, cwd=folder)
    assert p.returncode == 0, p.stderr
    assert not (folder / "cancellations").exists()  # written and erased with the rest: no empty folder left
    held = held_bytes(folder)
    for secret in (*PEADAR_SECRETS, b"Suilleabhain", b"suilleabhain"):
        assert secret not in held, secret
    assert "backups and handover packs" in p.stdout
    errors = [r["error"] for r in tanet("outbox", "list", "--format", "json", ok=True).json()
              if r["kind"] == "invitation" and r["error"]]
    assert "refused (552 mailbox of [erased] is full)" in errors
    [refused] = [{"error": e} for e in errors if "550" in e]
    assert refused["error"] == "refused (550 5.1.1 <[erased]>: Recipient address rejected: [erased] has left)"
    shown = tanet("feedback", "show", "1", "--format", "json", ok=True).json()
    assert shown["anonymous"] == 2 and shown["take_back"] == ["Grounding with [erased]"]  # still counted, as no one's


def test_forget_says_so_when_another_reader_keeps_the_old_copies(tanet, peadar_everywhere, cli_env, own_database):
    import sqlite3

    folder = peadar_everywhere
    # Another program in the middle of reading; read-only, so its closing does not finish the job.
    other = sqlite3.connect(f"file:{own_database}?mode=ro", uri=True)
    other.execute("BEGIN")
    other.execute("SELECT count(*) FROM members").fetchone()
    try:
        p = subprocess.run([*TANET, "member", "forget", PEADAR, "--yes"], env=cli_env, capture_output=True,
                           text=True, timeout=60, cwd=folder)
        assert p.returncode == 1 and "Traceback" not in p.stderr, p
        assert p.stderr.splitlines()[-1].startswith("Error: Member #"), p  # after the cancellation's notes
        assert "another program" in p.stderr and "tanet member forget 2 --yes" in p.stderr
        assert PEADAR.encode() in own_database.read_bytes()  # the old copy, still in the file
    finally:
        other.close()
    p = subprocess.run([*TANET, "member", "forget", "2", "--yes"], env=cli_env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and "now gone too" in p.stdout, p
    held = held_bytes(folder)
    for secret in (*PEADAR_SECRETS, b"Suilleabhain", b"suilleabhain"):
        assert secret not in held, secret
    # Nothing left to finish: running it again is the usual refusal.
    p = subprocess.run([*TANET, "member", "forget", "2", "--yes"], env=cli_env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1 and "already been forgotten; no copy of their details is left" in p.stderr


def test_a_sheet_hidden_under_another_name_is_checked_too(tmp_path, meeting_env):
    # The workbook may name any part as its sheet: it is checked wherever it is.
    plain = write_xlsx(tmp_path / "plain.xlsx", ['<row r="1">' + _cell("A1", "Name") + '</row>',
                                                 '<row r="1048576">' + _cell("XFD1048576", "x") + '</row>'])
    book = tmp_path / "hidden.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"worksheets/sheet1.xml", b"media/image1.bin")
            out.writestr("xl/media/image1.bin" if item.filename == "xl/worksheets/sheet1.xml" else item.filename, data)
    assert_refused_in_one_line(run_limited(["member", "import", book], meeting_env), "row 1,048,576")


def test_a_huge_json_member_list_is_refused_in_little_memory(tmp_path, cli_env):
    # JSON is read whole; past the limit it is refused, pointing to CSV (read as a stream).
    record = ('{"name": "Person %d", "email": "p%d@example.org", "organisation": "City Council", '
              '"service_area": "housing", "sector": "public", "role": "frontline", "notes": "' + "n" * 200 + '"}')
    path = tmp_path / "members.json"
    with open(path, "w") as f:
        f.write("[" + ",\n".join(record % (i, i) for i in range(150_000)) + "]")
    assert path.stat().st_size > 40 * MiB
    assert_refused_in_one_line(run_limited(["member", "import", path], cli_env), "too large", "CSV")


def test_a_huge_feedback_file_is_refused_in_little_memory(tmp_path, meeting_env):
    header = ("Timestamp,Email address,How useful was the meeting? (1-5),Will you use anything in your practice?,"
              "What will you take back?,What should we cover next?,Your service area")
    path = tmp_path / "feedback.csv"
    with open(path, "w") as f:
        f.write(header + "\n")
        row = "19/01/2027 12:01:02,,4,Yes,Grounding,Supervision,Housing," + ",".join("x" for _ in range(200)) + "\n"
        for _ in range(30 * MiB // len(row)):
            f.write(row)
    assert_refused_in_one_line(run_limited(["feedback", "import", "1", path], meeting_env), "too large")


def test_the_fingerprint_of_a_feedback_file_is_unchanged_by_reading_it_row_by_row(tmp_path):
    # Files imported before must still be recognised by their fingerprint.
    import hashlib

    from tanet.summary.feedback import parse

    text = ("Timestamp,Email address,How useful was the meeting? (1-5),Will you use anything in your practice?,"
            "What will you take back?,What should we cover next?,Your service area\n"
            "19/01/2027 12:01:02,,4,Yes,Grounding,Supervision,Education\n\n"
            "19/01/2027 12:05:00,,5,Maybe,,,Housing\n")
    path = tmp_path / "f.csv"
    path.write_text(text)
    table = [line.split(",") for line in text.splitlines() if line]
    assert parse(path)[1] == hashlib.sha256("\n".join("\t".join(r) for r in table).encode()).hexdigest()


def test_a_huge_text_file_is_refused_before_it_is_read(tmp_path, cli_env, own_database):
    path = tmp_path / "commentary.txt"
    with open(path, "w") as f:
        for _ in range(20):
            f.write("A quiet quarter. " * (MiB // 17) + "\n")
    assert_refused_in_one_line(run_limited(["report", "note", "2026Q4", "--file", path], cli_env), "over 16 MB")
    import sqlite3

    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT count(*) FROM report_notes").fetchone()[0] == 0


def test_a_list_without_line_breaks_is_refused_in_little_memory(tmp_path, meeting_env):
    path = tmp_path / "one-line.csv"
    with open(path, "w") as f:
        f.write("Name,Email,")
        for i in range(18 * MiB // 8):  # 18 MB with no line break, in short cells
            f.write(f"é{i:05x},")
    for args in (["member", "import", path], ["feedback", "import", "1", path]):
        assert_refused_in_one_line(run_limited(args, meeting_env), "Line 1", "longer than 1 MB")
