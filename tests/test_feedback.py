"""Feedback forms (Microsoft Forms .xlsx, Google Forms CSV) and the summary's
feedback figures."""

import os
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES, add_member
from python_calamine import CalamineWorkbook

FORM = FIXTURES / "feedback-forms-2027-01-19.xlsx"


def _rows():
    return CalamineWorkbook.from_path(str(FORM)).get_sheet_by_index(0).to_python()


def setup(tanet, monkeypatch):
    monkeypatch.setenv("TANET_TODAY", "2027-01-25")
    tanet("init", ok=True)
    add_member(tanet, "Zoë Fraser", "zoe.fraser@pentlandprimary.example", "education", "public", "frontline",
               "Pentland Primary", "--joined", "2025-01-01")
    tanet("meeting", "add", "2027-01-19", "--location", "x", ok=True)
    tanet("meeting", "add", "2027-01-20", "--location", "x", ok=True)
    tanet("attendance", "mark", "1", "Zoë", ok=True)


def test_a_forms_export_is_read_counted_and_kept_anonymous(tanet, monkeypatch, own_database):
    setup(tanet, monkeypatch)
    r = tanet("feedback", "import", "1", FORM, "--format", "json", ok=True).json()
    rows = _rows()[1:]
    assert r["responses"] == r["added"] == len(rows) == 24
    assert "zoe.fraser@pentlandprimary.example" not in r["not_members"]
    shown = tanet("feedback", "show", "1", "--format", "json", ok=True).json()
    ratings = [int(row[6]) for row in rows if row[6] != ""]
    assert shown["responses"] == 24 and shown["anonymous"] == sum(row[3] == "anonymous" for row in rows)
    assert shown["usefulness_mean"] == round(sum(ratings) / len(ratings), 2)
    answers = [str(row[7]).lower() for row in rows]
    assert shown["will_use"] == {k: answers.count(k) for k in ("yes", "no", "maybe")}
    assert shown["take_back"] == [row[8] for row in rows if row[8]]
    assert shown["next_topics"] == [row[9] for row in rows if row[9]]
    assert sum(a["responses"] for a in shown["by_service_area"]) == sum(1 for row in rows if row[10])
    assert all("@" not in t for t in shown["take_back"] + shown["next_topics"])
    again = tanet("feedback", "import", "1", FORM, "--format", "json", ok=True).json()
    assert (again["added"], again["unchanged"]) == (0, 24)
    assert "already imported for meeting #1" in tanet("feedback", "import", "2", FORM, ok=False).stderr
    tanet("feedback", "import", "2", FORM, "--force", ok=True)
    empty = tanet("feedback", "show", "1", "--format", "json", ok=True).json()
    assert empty["responses"] == 24
    summary = tanet("report", "quarter", "2027Q1", "--format", "json", ok=True).json()["feedback"]
    assert summary["responses"] == 48 and summary["meetings_with_feedback"] == 2
    assert "Feedback from members" in tanet("report", "quarter", "2027Q1", "--format", "markdown", ok=True).stdout
    assert "No feedback form was imported" in tanet("report", "quarter", "2026Q4", "--format", "markdown", ok=True).stdout


def test_no_feedback_gives_zeros(tanet, monkeypatch):
    setup(tanet, monkeypatch)
    assert tanet("feedback", "show", "1", "--format", "json", ok=True).json() == {
        "meeting_id": 1, "responses": 0, "anonymous": 0, "usefulness_mean": None,
        "will_use": {"yes": 0, "no": 0, "maybe": 0}, "by_service_area": [], "take_back": [], "next_topics": []}


def test_google_forms_csv(tanet, monkeypatch, tmp_path):
    setup(tanet, monkeypatch)
    csv = tmp_path / "google.csv"
    csv.write_text("Timestamp,Email address,How useful was the meeting? (1-5),Will you use anything in your practice?,"
                   "What will you take back?,What should we cover next?,Your service area\n"
                   "19/01/2027 12:01:02,zoe.fraser@pentlandprimary.example,4,Yes,Grounding,Supervision,Education\n"
                   "19/01/2027 12:05:00,,5,Maybe,,,Housing\n", encoding="utf-8")
    r = tanet("feedback", "import", "1", csv, "--format", "json", ok=True).json()
    assert (r["added"], r["not_members"]) == (2, [])
    shown = tanet("feedback", "show", "1", "--format", "json", ok=True).json()
    assert shown["usefulness_mean"] == 4.5 and shown["anonymous"] == 1 and shown["take_back"] == ["Grounding"]


def test_bad_forms_import_nothing(tanet, monkeypatch, tmp_path):
    setup(tanet, monkeypatch)
    missing = tmp_path / "missing.csv"
    missing.write_text("Timestamp,Email address,How useful was it?\n19/01/2027,,4\n")
    r = tanet("feedback", "import", "1", missing, ok=False)
    assert "no question found for" in r.stderr and "will you use something" in r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("Timestamp,Email address,How useful?,Will you use something?,Take back?,Cover next?,Service area\n"
                   "19/01/2027,,9,Yes,,,\n19/01/2027,,3,Often,,,\n")
    r = tanet("feedback", "import", "1", bad, ok=False)
    assert "'9' is not from 1 to 5" in r.stderr and "'Often' is not yes, no or maybe" in r.stderr
    fake = tmp_path / "export.xlsx"
    fake.write_text("Timestamp,Email\n1,2\n")
    assert "not an Excel workbook" in tanet("feedback", "import", "1", fake, ok=False).stderr
    other = tmp_path / "other.xlsx"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    assert "is a zip file but not an Excel workbook" in tanet("feedback", "import", "1", other, ok=False).stderr
    assert tanet("feedback", "show", "1", "--format", "json", ok=True).json()["responses"] == 0


def write_xlsx(path, rows, dimension=""):
    """A minimal workbook as Excel writes it: the parts a reader needs, strings inline."""
    from xml.sax.saxutils import escape

    def cell(ref, value):
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'

    sheet = "".join(
        f'<row r="{i}">' + "".join(cell(f"{chr(65 + j)}{i}", v) for j, v in enumerate(row)) + "</row>"
        for i, row in enumerate(rows, start=1))
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                   'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
                   'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
                   '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet '
                   'name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
                   'Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0"?><worksheet {ns}>{dimension}<sheetData>{sheet}'
                   '</sheetData></worksheet>')


def test_member_import_reads_xlsx(tanet, tmp_path):
    sheet = tmp_path / "signups.xlsx"
    write_xlsx(sheet, [["Full name", "E-mail address", "Service area", "Sector", "Role"],
                       ["Zoë O'Brien", "zoe@example.org", "Schools", "Public", "Teacher"],
                       ["Ann Able", "ann@example.org", "housing", "third", "manager"]])
    tanet("member", "import", sheet, ok=True)
    got = {m["name"]: m["service_area"] for m in tanet("member", "list", "--format", "json", ok=True).json()}
    assert got == {"Zoë O'Brien": "education", "Ann Able": "housing"}


GOOGLE_HEADER = ("Timestamp,Email address,How useful was the meeting? (1-5),Will you use anything in your practice?,"
                 "What will you take back?,What should we cover next?,Your service area")


def test_the_fingerprint_of_the_forms_export_is_the_one_recorded_when_it_was_first_imported():
    # It decides whether a file was "already imported": files imported before must still be known.
    from tanet.summary.feedback import parse

    assert parse(FORM)[1] == "71aed117cc00049ecf7e602ac857c63a3e1687b8aff46e485fb24a09d772ea65"


def test_the_fingerprint_of_a_long_csv_is_its_filled_rows_joined(tmp_path):
    # Over a thousand rows (hashed a thousand at a time), with blank and white-space rows
    # (left out), short rows, quoted line breaks and tabs in cells.
    import csv
    import hashlib

    from tanet.summary.feedback import parse

    rows = [GOOGLE_HEADER.split(",")]
    for n in range(2600):
        rows.append([f"19/01/2027\t12:{n % 60:02d}:00", "", str(1 + n % 5), "Yes", f"line\nbreak {n}", "", "Housing"])
        if n % 700 == 0:
            rows += [[], ["", " ", "\t"], ["19/01/2027", "", "4"]]
    path = tmp_path / "long.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    filled = [r for r in rows if any(c.strip() for c in r)]
    assert parse(path)[1] == hashlib.sha256("\n".join("\t".join(r) for r in filled).encode()).hexdigest()


def test_problems_deep_in_a_long_file_are_named_by_their_rows_in_order(tmp_path):
    from tanet.errors import TanetError
    from tanet.summary.feedback import parse

    lines = [GOOGLE_HEADER] + ["19/01/2027 12:00:00,,4,Yes,Grounding,Supervision,Housing"] * 3000
    lines[1200] = "19/01/2027 12:00:00,,4,Yes,Grounding,Supervision,Hous\x01ing"
    lines[2501] = "19/01/2027 12:00:00,,7,Often,Grounding,Supervision,Housing"
    lines[2600] = "19/01/2027 12:00:00,,4,Yes,\"Ground\r\ning\",Supervision,Housing"  # a line break: fine
    path = tmp_path / "long.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode())
    with pytest.raises(TanetError) as e:
        parse(path)
    assert str(e.value) == (
        f"{path}: row 1201: The service area holds the control character U+0001; it must be one line of plain "
        "text. Type it again without it; row 2502: the rating '7' is not from 1 to 5; row 2502: 'Often' is not "
        "yes, no or maybe. Nothing was imported.")


@pytest.mark.parametrize("rating", ["inf", "1e400", "-Infinity", "nan"])
def test_a_rating_that_is_no_finite_number_is_refused_in_one_line(tanet, monkeypatch, tmp_path, rating):
    setup(tanet, monkeypatch)
    path = tmp_path / "odd.csv"
    path.write_text(GOOGLE_HEADER + f"\n19/01/2027 12:01:02,,{rating},Yes,,,Housing\n")
    r = tanet("feedback", "import", "1", path, ok=False)
    assert r.stderr.strip() == f"Error: {path}: row 2: the rating '{rating}' is not from 1 to 5. Nothing was imported."


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_problem_after_blank_rows_is_named_by_its_row_in_the_file(tmp_path, kind):
    # The rows were numbered after the blank ones were left out: row 3 was named for row 5.
    from tanet.errors import TanetError
    from tanet.summary.feedback import parse

    rows = [GOOGLE_HEADER.split(","), ["19/01/2027 12:00:00", "", "4", "Yes", "Grounding", "", "Housing"],
            [""] * 7, [""] * 7, ["19/01/2027 12:01:00", "", "4", "Yes", "Grounding", "", "Hous\x01ing"]]
    path = tmp_path / f"blank.{kind}"
    if kind == "csv":
        path.write_text("\n".join(",".join(row) for row in rows) + "\n")
    else:  # Excel writes a control character as _x0001_ (XML may not hold it as it is)
        write_xlsx(path, [[cell.replace("\x01", "_x0001_") for cell in row] for row in rows])
    with pytest.raises(TanetError) as e:
        parse(path)
    assert str(e.value) == (
        f"{path}: row 5: The service area holds the control character U+0001; it must be one line of plain text. "
        "Type it again without it. Nothing was imported.")


def test_feedback_for_a_cancelled_meeting_or_one_not_held_yet_is_refused(tanet, monkeypatch):
    setup(tanet, monkeypatch)
    tanet("meeting", "add", "2027-02-10", "--location", "x", ok=True)
    tanet("meeting", "cancel", "2", ok=True)
    r = tanet("feedback", "import", "2", FORM, ok=False)
    assert "Meeting #2 on 2027-01-20 was cancelled, so it has no feedback" in r.stderr
    assert "tanet meeting list" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = tanet("feedback", "import", "next", FORM, ok=False)
    assert "Meeting #3 is not held yet (2027-02-10)" in r.stderr
    for meeting in ("2", "3"):
        assert tanet("feedback", "show", meeting, "--format", "json", ok=True).json()["responses"] == 0
    tanet("feedback", "import", "1", FORM, ok=True)  # the held one still takes it


def test_a_csv_excel_saved_of_a_forms_export_already_imported_adds_nothing(tanet, monkeypatch, tmp_path):
    import csv
    from datetime import datetime

    setup(tanet, monkeypatch)
    google = tmp_path / "google.csv"  # no ID column: its row numbers are never taken for Forms IDs
    google.write_text("Timestamp,How useful was the meeting? (1-5),Will you use anything in your practice?,"
                      "What will you take back?,What should we cover next?,Your service area\n"
                      "19/01/2027 12:01:02,4,Yes,,,\n19/01/2027 12:05:00,5,Maybe,,,\n", encoding="utf-8")
    assert tanet("feedback", "import", "1", google, "--format", "json", ok=True).json()["added"] == 2
    first = tanet("feedback", "import", "1", FORM, "--format", "json", ok=True).json()
    assert (first["added"], first["unchanged"]) == (24, 0)
    rows = _rows()
    saved = tmp_path / "saved-from-excel.csv"
    with saved.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([[c.strftime("%d/%m/%Y %H:%M") if isinstance(c, datetime)
                                  else int(c) if isinstance(c, float) and c.is_integer() else c for c in row]
                                 for row in rows])  # as Excel writes them
    assert "/2027 " in saved.read_text(encoding="utf-8-sig")
    again = tanet("feedback", "import", "1", saved, "--format", "json", ok=True).json()
    assert (again["added"], again["unchanged"]) == (0, 24)
    assert tanet("feedback", "show", "1", "--format", "json", ok=True).json()["responses"] == 26


def test_a_forms_workbook_of_more_rows_than_responses_is_refused_before_it_is_read(tanet, monkeypatch, tmp_path):
    from tanet.sheets.workbook import TooManyRows, check_workbook

    setup(tanet, monkeypatch)
    header = [str(c) for c in _rows()[0]]
    book = tmp_path / "forms.xlsx"  # says it reaches row 90,001, as a 90,000-response export does
    write_xlsx(book, [header, ["1"] + [""] * (len(header) - 1)], '<dimension ref="A1:K90001"/>')
    check_workbook(book)  # within what a workbook may be
    with pytest.raises(TooManyRows):
        check_workbook(book, max_rows=10_001)
    r = tanet("feedback", "import", "1", book, ok=False)
    assert "has more than 10,000 responses, more than one meeting gets" in r.stderr and "CSV" not in r.stderr
    assert tanet("feedback", "show", "1", "--format", "json", ok=True).json()["responses"] == 0


@pytest.mark.parametrize("start, kind", [(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF"),
                                         (bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504), "an old Excel .xls file")])
def test_a_pdf_or_an_old_xls_is_named_for_what_it_is(tanet, monkeypatch, tmp_path, start, kind):
    setup(tanet, monkeypatch)
    for name in ("feedback.xlsx", "feedback.csv", "feedback.xls"):
        path = tmp_path / name
        path.write_bytes(start)
        r = tanet("feedback", "import", "1", path, ok=False)
        assert f"is {kind}, not a spreadsheet tanet reads" in r.stderr and "CSV UTF-8" in r.stderr
        assert "--question" not in r.stderr and "encoding" not in r.stderr


def test_a_zip_that_is_no_workbook_is_named_so(tanet, tmp_path):
    other = tmp_path / "signups.xlsx"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("xl/_rels/nothing.txt", "a zip renamed .xlsx")
    r = tanet("member", "import", other, ok=False)
    assert "is a zip file but not an Excel workbook" in r.stderr and "File not found" not in r.stderr


def test_member_import_help_says_it_reads_xlsx(tanet):
    assert ".xlsx, CSV, or Excel 'Unicode text'" in " ".join(tanet("member", "import", "--help", ok=True).stdout.split())


def _awkward_forms_workbook(path):
    """A Forms export with every kind of cell a reader hands back: whole numbers and not,
    a number too large to be exact, times, a date, true/false, blanks, non-ASCII text,
    line breaks, padding, a blank and a white-space row, a short row, duplicate responses."""
    from xml.sax.saxutils import escape

    strings: dict[str, int] = {}

    def cell(ref, value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, tuple):  # (serial day, style): 1 a date and time, 2 a date
            return f'<c r="{ref}" s="{value[1]}"><v>{value[0]}</v></c>'
        if isinstance(value, (int, float)):
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        if value.startswith("inline:"):
            return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value[7:])}</t></is></c>'
        return f'<c r="{ref}" t="s"><v>{strings.setdefault(value, len(strings))}</v></c>'

    day = 46406.5  # 2027-01-19 12:00
    rows = [
        ["ID", "Start time", "Completion time", "Email", "Name", "How useful was today's meeting?",
         "Will you use something from today in your work?", "What will you take back to your service?",
         "What would you like the network to cover next?", "Which service area do you work in?"],
        [1, (day, 1), (day + 0.00401, 1), "anonymous", "", 5, "Yes", "Café ☕ — grounding", "Supervision", "Housing"],
        [2.0, (day + 0.01, 1), (day + 0.0123456, 1), "Zoe.Fraser@PentlandPrimary.example", "Zoë Fraser", "4 - useful",
         "maybe", "Two lines\nof text", "", "Education "],
        [7.5, (day + 0.02, 1), "19/01/2027 12:40", "stranger@example.org", None, 2.0, "N", 42, None, 1.0],
        [12345678901234567, (day, 2), (day + 0.5, 1), "ANONYMOUS", "", "3.0", "Not sure", True, "inline:  padded  ",
         "inline:Social work"],
        [None, None, None, None, None, None, None, None, None, None],
        ["inline: ", "inline:\t", None, None, None, None, None, None, None, None],
        [1, (day, 1), (day + 0.00401, 1), "anonymous", "", 5, "Yes", "Café ☕ — grounding", "Supervision", "Housing"],
        [9, (day + 0.03, 1), (day + 0.04, 1), "", "", None, "yes"],
        [10, (day + 0.05, 1), (day + 0.06, 1), "zoe.fraser@pentlandprimary.example", "Zoë", 4.5, "Yes", "Ünïcödé",
         False, "Housing"],
    ]
    sheet = "".join(f'<row r="{n}">' + "".join(cell(f"{chr(65 + i)}{n}", v) for i, v in enumerate(row)) + "</row>"
                    for n, row in enumerate(rows, start=1))
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    shared = "".join(f'<si><t xml:space="preserve">{escape(t)}</t></si>' for t in strings)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                   'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook {ns} xmlns:r="{rel}"><sheets><sheet '
                   'name="Form1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
                   f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{rel}/sharedStrings" '
                   f'Target="sharedStrings.xml"/><Relationship Id="rId3" Type="{rel}/styles" '
                   'Target="styles.xml"/></Relationships>')
        z.writestr("xl/styles.xml", f'<?xml version="1.0"?><styleSheet {ns}><cellXfs count="3"><xf numFmtId="0"/>'
                   '<xf numFmtId="22" applyNumberFormat="1"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs>'
                   '</styleSheet>')
        z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0"?><sst {ns} count="{len(strings)}" '
                   f'uniqueCount="{len(strings)}">{shared}</sst>')
        z.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0"?><worksheet {ns}><sheetData>{sheet}'
                   '</sheetData></worksheet>')
    return path


def test_a_forms_export_of_awkward_cells_is_stored_as_it_always_was(tanet, monkeypatch, tmp_path):
    # What is stored and said for each kind of cell, as recorded before the import was made
    # faster: a file imported again must be known, and its answers read the same.
    import sqlite3

    setup(tanet, monkeypatch)
    book = _awkward_forms_workbook(tmp_path / "awkward.xlsx")
    said = tanet("feedback", "import", "1", book, "--format", "json", ok=True).json()
    again = tanet("feedback", "import", "1", book, "--format", "json", ok=True).json()
    with sqlite3.connect(os.environ["TANET_DB"]) as conn:
        stored = [list(row) for row in conn.execute("SELECT * FROM feedback ORDER BY id")]
        files = [list(row) for row in conn.execute("SELECT * FROM feedback_files")]
    questions = {"usefulness": "How useful was today's meeting?",
                 "will_use": "Will you use something from today in your work?",
                 "take_back": "What will you take back to your service?",
                 "next_topic": "What would you like the network to cover next?",
                 "service_area": "Which service area do you work in?"}
    understood = {"meeting_id": 1, "responses": 7, "questions": questions,
                  "columns_not_used": ["ID", "Start time", "Completion time", "Email", "Name"]}
    assert said == {**understood, "added": 6, "unchanged": 1, "not_members": ["stranger@example.org"]}
    assert again == {**understood, "added": 0, "unchanged": 7, "not_members": []}
    assert stored == [
        [1, 1, "id 1|2027-01-19 12:05:46.464000", None, 1, 5, "yes", "Café ☕ — grounding", "Supervision", "Housing",
         "2027-01-19 12:05:46.464000"],
        [2, 1, "id 2|2027-01-19 12:17:46.660000", 1, 0, 4, "maybe", "Two lines\nof text", None, "Education",
         "2027-01-19 12:17:46.660000"],
        [3, 1, "id 7.5|19/01/2027 12:40", None, 0, 2, "no", "42", None, "1", "19/01/2027 12:40"],
        [4, 1, "id 12345678901234568|2027-01-20", None, 1, 3, "maybe", "True", "padded", "Social work", "2027-01-20"],
        [5, 1, "id 9|2027-01-19 12:57:36", None, 1, None, "yes", None, None, None, "2027-01-19 12:57:36"],
        [6, 1, "id 10|2027-01-19 13:26:24", 1, 0, 4, "yes", "Ünïcödé", "False", "Housing", "2027-01-19 13:26:24"]]
    assert files == [["120ee4952c2f016181c9ee34cc67e19b62beb70bec2eb5dd81aed850dc51e7c1", 1, "2027-01-25"]]


def test_a_workbook_is_read_in_the_background_while_the_database_is_opened(tanet, monkeypatch):
    # python-calamine lets go of Python while it reads, so the sheet is read in a thread,
    # begun once the file is checked, and the database is opened meanwhile.
    import threading

    import python_calamine

    from tanet.store import db

    setup(tanet, monkeypatch)
    reading, seen = threading.Event(), []
    real_reader, real_open = python_calamine.CalamineWorkbook, db.open_db

    class Workbook:
        @staticmethod
        def from_path(path):
            seen.append(threading.current_thread() is threading.main_thread())
            reading.set()
            return real_reader.from_path(path)

    def open_db(*args, **kwargs):
        assert reading.wait(10), "the database was opened before the workbook was being read"
        return real_open(*args, **kwargs)

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Workbook)
    monkeypatch.setattr(db, "open_db", open_db)
    r = tanet("feedback", "import", "1", FORM, "--format", "json", ok=True).json()
    assert seen == [False] and r["added"] == 24


def test_a_wrong_meeting_is_named_before_what_is_wrong_with_the_file(tanet, monkeypatch, tmp_path):
    # The file is checked (and read) before the database is opened, but its refusal waits
    # until the meeting is found and held, so the coordinator hears of the meeting first.
    setup(tanet, monkeypatch)
    tanet("meeting", "add", "2027-02-10", "--location", "x", ok=True)
    missing = tmp_path / "nowhere.xlsx"
    assert "There is no meeting #99" in tanet("feedback", "import", "99", missing, ok=False).stderr
    assert "Meeting #3 is not held yet" in tanet("feedback", "import", "3", missing, ok=False).stderr
    assert "There is no file" in tanet("feedback", "import", "1", missing, ok=False).stderr


def test_no_cycle_collection_runs_while_a_form_is_imported_and_it_is_back_on_after(tanet, monkeypatch, tmp_path):
    # Thousands of small lists and tuples, none in a cycle: collecting while they are read
    # finds nothing. The collector is on again afterwards, after a refusal too.
    import gc
    from datetime import date

    from tanet.errors import TanetError
    from tanet.meetings import schedule
    from tanet.store import db
    from tanet.summary import feedback

    setup(tanet, monkeypatch)
    header = GOOGLE_HEADER.split(",")
    good, bad = tmp_path / "good.xlsx", tmp_path / "bad.xlsx"
    write_xlsx(good, [header] + [[f"19/01/2027 12:{n % 60:02d}:00", "", str(1 + n % 5), "Yes", f"answer {n}", "",
                                  "Housing"] for n in range(3000)])
    write_xlsx(bad, [header, ["19/01/2027 12:00:00", "", "9", "Yes", "", "", ""]])
    conn = db.open_db(Path(os.environ["TANET_DB"]))
    meeting = schedule.find_meeting(conn, "1", date(2027, 1, 25))
    collections, reading, real_parse = [], [], feedback.parse

    def parse(*args):
        reading.append(True)
        try:
            return real_parse(*args)
        finally:
            reading.pop()

    def seen(phase, info):
        if phase == "start" and reading:
            collections.append(info["generation"])

    monkeypatch.setattr(feedback, "parse", parse)

    gc.callbacks.append(seen)
    try:
        with db.transaction(conn) as work:
            assert feedback.import_file(work, meeting, good, False, date(2027, 1, 25))["added"] == 3000
        assert collections == [] and gc.isenabled()
        with pytest.raises(TanetError), db.transaction(conn) as work:
            feedback.import_file(work, meeting, bad, False, date(2027, 1, 25))
        assert gc.isenabled()
    finally:
        gc.callbacks.remove(seen)
        conn.close()
