"""A Microsoft Forms results workbook of many responses, and the peer reading it.

    python benchmarks/forms_xlsx.py build PATH ROWS   # write the workbook
    python benchmarks/forms_xlsx.py read PATH         # python-calamine reading its sheet alone

The workbook is laid out as Forms' "Open results in Excel" writes it: the columns of
tests/fixtures/feedback-forms-2027-01-19.xlsx, numbers and times as numbers (times with a
date format), text in the shared-strings table. The answers repeat the fixture's, with
each response's own id and times.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HEADER = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time",
          "How useful was today's meeting for your practice?", "Will you use something from today in your work?",
          "What will you take back to your service?", "What would you like the network to cover next?",
          "Which service area do you work in?"]
ANSWERS = [  # rating, will use, take back, cover next, service area
    (5, "Yes", "Asking what happened, not what is wrong", "Vicarious trauma and supervision", "Social work"),
    (4, "Maybe", "", "Lived experience voices", "Housing"),
    (2, "No", "", "How to tell whether any of this makes a difference", "Early years"),
    (5, "Yes", "The window of tolerance picture for the team room", "", "Education"),
    (3, "Yes", "Slowing down the first appointment", "Working with interpreters", "Health"),
]
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DAY = 46406.5  # 2027-01-19 12:00 as Excel counts days


def column(i: int) -> str:
    return chr(65 + i)


def sheet_rows(rows: int, strings: dict):
    def s(text: str) -> int:
        return strings.setdefault(text, len(strings))

    def text(ref: str, value: str) -> str:
        return f'<c r="{ref}" t="s"><v>{s(value)}</v></c>' if value else ""

    yield '<row r="1">' + "".join(text(f"{column(j)}1", h) for j, h in enumerate(HEADER)) + "</row>"
    for n in range(1, rows + 1):
        r = n + 1
        rating, use, back, cover, area = ANSWERS[n % len(ANSWERS)]
        start = DAY + n / 100_000
        email = "anonymous" if n % 3 else f"person{n}@example.org"
        cells = [f'<c r="A{r}"><v>{n}</v></c>', f'<c r="B{r}" s="1"><v>{start:.6f}</v></c>',
                 f'<c r="C{r}" s="1"><v>{start + 0.004:.6f}</v></c>', text(f"D{r}", email),
                 text(f"E{r}", "" if n % 3 else f"Person {n}"), f'<c r="G{r}"><v>{rating}</v></c>',
                 text(f"H{r}", use), text(f"I{r}", back), text(f"J{r}", cover), text(f"K{r}", area)]
        yield f'<row r="{r}">' + "".join(cells) + "</row>"


def build(path: Path, rows: int) -> None:
    strings: dict[str, int] = {}
    sheet = "".join(sheet_rows(rows, strings))
    shared = "".join(f"<si><t>{escape(t)}</t></si>" for t in strings)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                   'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
                   'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
                   '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override '
                   'PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook {NS} xmlns:r="{REL}"><sheets><sheet '
                   'name="Form1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" '
                   f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" '
                   f'Target="sharedStrings.xml"/><Relationship Id="rId3" Type="{REL}/styles" '
                   'Target="styles.xml"/></Relationships>')
        z.writestr("xl/styles.xml", f'<?xml version="1.0"?><styleSheet {NS}><cellXfs count="2"><xf numFmtId="0"/>'
                   '<xf numFmtId="22" applyNumberFormat="1"/></cellXfs></styleSheet>')
        z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0"?><sst {NS} count="{len(strings)}" '
                   f'uniqueCount="{len(strings)}">{shared}</sst>')
        z.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0"?><worksheet {NS}><sheetData>{sheet}'
                   '</sheetData></worksheet>')


def read(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    rows = 0
    for _ in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows():
        rows += 1
    return rows


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        print(read(Path(sys.argv[2])))
