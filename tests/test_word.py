"""The summary as a Word document, opened as the people who file it open it: converted to
PDF by LibreOffice (headless) and read back with pdfinfo and pdftotext, and read as Word
reads it (core properties, styles and the table XML, through python-docx)."""

import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import TANET, TODAY

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
ORGANISER = "Alex Morgan"


def soffice_pdf(docx_path):
    """The .docx as LibreOffice prints it (its own profile, so runs side by side do not meet)."""
    if SOFFICE is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is not installed; .ci/system-deps installs it")
        pytest.skip("LibreOffice is not installed (Debian: libreoffice-writer-nogui)")
    out = docx_path.parent / "pdf"
    profile = docx_path.parent / "lo-profile"
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out), str(docx_path)], check=True, capture_output=True, timeout=240)
    return out / (docx_path.stem + ".pdf")


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    """The demo network's last-quarter summary as .docx (once for this file's tests), its
    figures as JSON, and the environment that made it."""
    import json

    folder = tmp_path_factory.mktemp("word")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANET_")}
    env.update(TANET_DB=str(folder / "demo.db"), TANET_TODAY=TODAY, LANG="C.UTF-8")
    run = lambda *args: subprocess.run(TANET + list(args), env=env, check=True, capture_output=True, text=True)  # noqa: E731
    run("demo", "--db", str(folder / "demo.db"), "--quiet")
    run("config", "set", "organiser.name", ORGANISER)
    data = json.loads(run("report", "quarter", "last", "--format", "json").stdout)
    path = folder / "summary.docx"
    run("report", "quarter", "last", "--format", "docx", "-o", str(path))
    return path, data, env


@pytest.fixture(scope="module")
def printed(summary):
    """The summary as LibreOffice prints it: pdfinfo's report and pdftotext -layout's text."""
    pdf = soffice_pdf(summary[0])
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return info, text


def cell_texts(table):
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_libreoffice_prints_it_on_a4_with_every_figure_a_header_and_page_numbers(summary, printed):
    _, data, _ = summary
    info, text = printed
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    words = " ".join(text.split())
    for n in range(1, pages + 1):
        assert f"Page {n} of {pages}" in words
    assert words.count(data["network"]) >= pages  # the header on every page (and the title)
    assert f"{data['meetings_held']} (cancelled: {data['meetings_cancelled']})" in words
    for m in data["meetings"]:
        assert m["date"] in words
    for t in data["trend"]:
        assert t["label"] in words


def test_no_table_cell_breaks_a_word_or_a_date_on_the_page(summary, printed):
    # A word split across two lines of its cell ("Apologie/s", "2027-01-/12") is not on any
    # line of the printed page whole; every word of every cell must be.
    import docx

    path, _, _ = summary
    text = printed[1]
    on_the_page = {word for line in text.splitlines() for word in line.split()}
    in_cells = {word for table in docx.Document(str(path)).tables for row in cell_texts(table)
                for value in row for word in value.split()}
    assert any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", w) for w in in_cells)  # there are dates to break
    assert len(in_cells) > 100
    assert sorted(in_cells - on_the_page) == []


def test_it_says_who_wrote_it_when_what_it_is_and_in_which_language(summary):
    import docx

    from tanet.summary.document import document

    path, data, _ = summary
    props = docx.Document(str(path)).core_properties
    assert props.title == document(data)[0]
    assert props.author == props.last_modified_by == ORGANISER
    assert props.created.date().isoformat() == props.modified.date().isoformat() == TODAY
    assert props.language == "en-GB" and props.comments == ""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        styles, settings = z.read("word/styles.xml").decode(), z.read("word/settings.xml").decode()
        document_xml = z.read("word/document.xml").decode()
        core = z.read("docProps/core.xml").decode()
    assert "python-docx" not in core and "2013" not in core
    assert not any("thumbnail" in n for n in names)  # the template's picture of an empty page
    languages = re.findall(r'<w:lang [^>]*w:val="([^"]+)"', styles)
    assert languages and set(languages) == {"en-GB"}
    assert re.search(r'<w:themeFontLang [^>]*w:val="en-GB"', settings)
    size = re.search(r"<w:pgSz [^>]*>", document_xml).group(0)
    assert 'w:w="11906"' in size and 'w:h="16838"' in size  # 210 x 297 mm
    margins = re.search(r"<w:pgMar [^>]*>", document_xml).group(0)
    for side in ("top", "bottom", "left", "right"):
        assert f'w:{side}="1134"' in margins  # 2 cm


def test_headings_go_title_then_sections_without_skipping_a_level(summary):
    import docx

    path, _, _ = summary
    levels = []
    for paragraph in docx.Document(str(path)).paragraphs:
        name = paragraph.style.name
        if name == "Title":
            levels.append(0)
        elif name.startswith("Heading "):
            levels.append(int(name.split()[1]))
    assert levels[0] == 0 and levels.count(0) == 1 and len(levels) > 8
    for before, after in zip(levels, levels[1:]):
        assert after <= before + 1


def test_data_tables_have_header_rows_that_repeat_and_fact_tables_have_none(summary):
    import docx

    path, data, _ = summary
    tables = docx.Document(str(path)).tables
    fact_tables = [t for t in tables if cell_texts(t)[0][0] in ("Meetings held", "Meetings with facilitators",
                                                               "Shared this period")]
    data_tables = [t for t in tables if cell_texts(t)[0][:2] in (["Service area", "Active members"],
                                                                 ["Period", "Meetings held"], ["Date", "Start"])]
    assert len(fact_tables) == 3 and len(data_tables) == 3
    for table in fact_tables + data_tables:
        rows = table._tbl.findall(f"{W}tr")
        assert all(row.find(f"{W}trPr/{W}cantSplit") is not None for row in rows)
        header = table in data_tables
        look = table._tbl.find(f"{W}tblPr/{W}tblLook")
        assert look.get(f"{W}firstRow") == ("1" if header else "0")
        assert (rows[0].find(f"{W}trPr/{W}tblHeader") is not None) == header
        assert all(row.find(f"{W}trPr/{W}tblHeader") is None for row in rows[1:])
        # A short table is kept on one page: every row but the last keeps with the next.
        for row in rows[:-1]:
            assert row.find(f"{W}tc/{W}p/{W}pPr/{W}keepNext") is not None
        if not header:
            assert table.style.name == "Table Grid"
        assert table._tbl.find(f"{W}tblPr/{W}tblCaption").get(f"{W}val")  # a title for screen readers


def test_column_widths_follow_the_content_and_fill_the_text_width(summary):
    import docx

    path, _, _ = summary
    text_width = 11906 - 2 * 1134  # A4 less two 2 cm margins, in twentieths of a point
    for table in docx.Document(str(path)).tables:
        grid = [int(c.get(f"{W}w")) for c in table._tbl.findall(f"{W}tblGrid/{W}gridCol")]
        assert abs(sum(grid) - text_width) <= len(grid)
        assert table._tbl.find(f"{W}tblPr/{W}tblLayout").get(f"{W}type") == "fixed"
        for row in table._tbl.findall(f"{W}tr"):
            assert [int(tc.find(f"{W}tcPr/{W}tcW").get(f"{W}w")) for tc in row.findall(f"{W}tc")] == grid
        texts = cell_texts(table)
        if texts[0][:2] == ["Date", "Start"]:  # short dates and times beside a long agenda
            assert grid[0] < grid[-1] / 2 and grid[1] < grid[0]
            assert len(set(grid)) > 2


def test_the_charts_are_pictures_whose_alt_text_gives_every_figure(summary):
    import docx
    from docx.oxml.ns import qn

    path, data, _ = summary
    document = docx.Document(str(path))
    pictures = document.inline_shapes
    described = [shape._inline.find(qn("wp:docPr")).get("descr") for shape in pictures]
    assert len(pictures) >= 2 and all(described)
    by_area = next(d for d in described if d.startswith("By service area, bar chart of rate: "))
    for g in data["by_service_area"]:
        if g["members"] or g["attendees"]:
            assert f"{g['service_area']} {round(g['rate'] * 100)}%" in by_area
    trend = next(d for d in described if d.startswith("Trend, bar chart of mean attendance a meeting: "))
    for t in data["trend"]:
        assert t["label"] in trend
    with zipfile.ZipFile(path) as z:
        images = [z.read(n) for n in z.namelist() if n.startswith("word/media/")]
    assert len(images) == len(pictures) and all(i.startswith(b"\x89PNG\r\n\x1a\n") for i in images)


def test_letter_paper_when_the_setting_asks_for_it_and_a_clear_error_for_other_sizes(summary, tmp_path):
    _, _, env = summary
    env = {**env, "TANET_DB": str(tmp_path / "copy.db")}
    shutil.copy(summary[2]["TANET_DB"], tmp_path / "copy.db")
    subprocess.run(TANET + ["config", "set", "report.paper", "Letter"], env=env, check=True, capture_output=True)
    out = tmp_path / "letter.docx"
    subprocess.run(TANET + ["report", "quarter", "last", "--format", "docx", "-o", str(out)], env=env, check=True,
                   capture_output=True)
    with zipfile.ZipFile(out) as z:
        body = z.read("word/document.xml").decode()
    size = re.search(r"<w:pgSz [^>]*>", body).group(0)
    assert 'w:w="12240"' in size and 'w:h="15840"' in size
    bad = subprocess.run(TANET + ["config", "set", "report.paper", "A3"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == ["Error: 'A3' is not one of: a4, letter."]


def test_word_and_pillow_are_loaded_only_when_a_word_document_is_written():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, tanet.cli, tanet.summary.document, tanet.summary.word; "
                               "print(sorted(m for m in ('docx', 'PIL') if m in sys.modules))"],
        capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_a_long_table_repeats_its_header_on_every_page_and_still_breaks_no_word(summary, tmp_path, tanet,
                                                                                  monkeypatch):
    # Two years of meetings under three titles: seven columns, more rows than a page holds.
    import docx

    shutil.copy(summary[2]["TANET_DB"], tmp_path / "copy.db")
    monkeypatch.setenv("TANET_DB", str(tmp_path / "copy.db"))
    titles = ("Multidisciplinary safeguarding conversations", "Trauma-informed supervision workshop")
    for week in range(36):
        day = f"2025-{1 + week // 4:02d}-{[7, 14, 21, 28][week % 4]:02d}"
        tanet("meeting", "add", day, "--time", "13:30", "--title", titles[week % 2], ok=True)
    out = tmp_path / "two-years.docx"
    tanet("report", "range", "--from", "2024-11-01", "--to", TODAY, "--format", "docx", "-o", out, ok=True)
    meetings = next(t for t in docx.Document(str(out)).tables if cell_texts(t)[0][:3] == ["Date", "Start", "Title"])
    assert len(meetings.rows) > 45
    pdf = soffice_pdf(out)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    header = re.compile(r"^\s*Date\s+Start\s+Title\s+Present\s+Apologies\s+Checked in\s+Agenda\s*$", re.M)
    with_rows = [p for p in pages if re.search(r"^\s*2025-\d\d-\d\d\s+13:30\s", p, re.M)]
    assert len(with_rows) >= 2
    assert all(header.search(p) for p in with_rows)  # each page of the table starts with its header
    on_the_page = {word for line in text.splitlines() for word in line.split()}
    in_cells = {word for row in cell_texts(meetings) for value in row for word in value.split()}
    assert "Multidisciplinary" in in_cells and sorted(in_cells - on_the_page) == []
