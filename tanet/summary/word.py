"""The summary as a Word document, laid out as Word itself lays one out for a committee
paper: A4 (or US Letter) with 2 cm margins, British English, the title, author and dates
filled in, the network's name in the header and "Page N of M" in the footer, tables whose
columns are as wide as their content needs and whose header rows repeat on every page,
and the charts as pictures with their figures in the alt text.

python-docx and Pillow are imported here, inside the functions, so that only a command
that writes a .docx pays for them."""

from __future__ import annotations

import functools
import io
from datetime import date, datetime, timezone

from tanet.summary.document import Section, document
from tanet.text import xml_text

LANGUAGE = "en-GB"
MARGIN_CM = 2.0
PAPER_MM = {"a4": (210, 297), "letter": (215.9, 279.4)}
FONT = "Calibri"  # Word's own; LibreOffice shows it in Carlito, which has the same widths
FONT_PT = 10
CELL_PADDING_PT = 2 * 5.4 + 3  # Word's default cell margins (0.19 cm a side) and a little room
BOLD_WIDER = 1.1  # a bold word is at most this much wider than the same word in regular
SHORT_TABLE_ROWS = 25  # a table this short is kept on one page
CHART_COLOUR = (43, 122, 153)  # the HTML page's bars: 4.9:1 on white
TEXT_COLOUR = (29, 43, 54)


def to_docx(d: dict, values: dict[str, str]) -> bytes:
    """The summary `d` as the bytes of a .docx file; `values` are the network's settings
    (report.paper, organiser.name)."""
    from docx import Document
    from docx.shared import Pt

    title, sections = document(d)
    doc = Document()
    doc.styles["Normal"].font.size = Pt(FONT_PT)
    set_font(doc, FONT)
    text_width_pt = page_setup(doc, values.get("report.paper") or "a4")
    set_language(doc, LANGUAGE)
    set_properties(doc, title, d, values.get("organiser.name") or d["network"])
    header_and_footer(doc, d["network"])
    add_unbroken(doc.add_heading(level=0), title)
    for s in sections:
        add_section(doc, s, text_width_pt)
    made = doc.add_paragraph(f"Made by tanet on {d['generated_on']}. Check-in notes and follow-up details are "
                             "never included.")
    made.paragraph_format.space_before = Pt(18)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def add_section(doc, s: Section, text_width_pt: float) -> None:
    from docx.shared import Pt

    add_unbroken(doc.add_heading(level=1), s.title)
    if s.facts:
        key_value_table(doc, s.facts, text_width_pt, bool(s.rows or s.bars), s.title)
    if s.facts and s.rows:  # two tables with nothing between them would be one table in Word
        gap = doc.add_paragraph().paragraph_format
        gap.keep_with_next, gap.space_after, gap.line_spacing = True, Pt(0), Pt(8)
    if s.rows:
        data_table(doc, s.columns, s.rows, text_width_pt, bool(s.bars), s.title + (" in detail" if s.facts else ""))
    if s.bars:
        add_chart(doc, s, text_width_pt)
    for line in (s.note or "").splitlines():
        doc.add_paragraph(xml_text(line))
    if not (s.facts or s.rows or s.note or s.bars):
        doc.add_paragraph("Nothing this period.")


# The page, the language and the document's properties --------------------------------------

def page_setup(doc, paper: str) -> float:
    """Paper size and margins of every section; returns the width between the margins in points."""
    from docx.shared import Cm, Mm

    width_mm, height_mm = PAPER_MM[paper]
    for section in doc.sections:
        section.page_width, section.page_height = Mm(width_mm), Mm(height_mm)
        section.left_margin = section.right_margin = Cm(MARGIN_CM)
        section.top_margin = section.bottom_margin = Cm(MARGIN_CM)
        section.header_distance = section.footer_distance = Cm(MARGIN_CM / 2)
    return (width_mm - 20 * MARGIN_CM) / 25.4 * 72


def set_language(doc, tag: str) -> None:
    """The language of every style (so a spelling checker reads British English) and of the
    theme's fonts."""
    from docx.oxml.ns import qn

    for element in (doc.styles.element, doc.settings.element):
        for lang in element.iter(qn("w:lang"), qn("w:themeFontLang")):
            lang.set(qn("w:val"), tag)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    if run_defaults.find(qn("w:lang")) is None:
        from docx.oxml import OxmlElement

        lang = OxmlElement("w:lang")
        lang.set(qn("w:val"), tag)
        run_defaults.append(lang)


def set_font(doc, name: str) -> None:
    """One font for the text, named rather than taken from the template's theme (whose body
    font is Cambria, a serif)."""
    from docx.oxml.ns import qn

    fonts = doc.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
    for script in ("ascii", "hAnsi", "cs"):
        fonts.attrib.pop(qn(f"w:{script}Theme" if script != "cs" else "w:cstheme"), None)
        fonts.set(qn(f"w:{script}"), name)


def add_unbroken(paragraph, text: str, bold: bool = False):
    """`text` as a run of `paragraph` whose hyphens inside words (dates, "self-care") do not
    break, so that a line never ends inside a date or a word; returns the run."""
    import re

    from docx.oxml import OxmlElement

    run = paragraph.add_run()
    run.bold = bold or None
    for i, part in enumerate(re.split(r"(?<=\w)-(?=\w)", xml_text(text))):
        if i:
            run._r.append(OxmlElement("w:noBreakHyphen"))
        if part:
            run._r.add_t(part)
    return run


def set_properties(doc, title: str, d: dict, author: str) -> None:
    """Title, author and dates as File > Info shows them; the template's own are cleared, and so
    is its thumbnail (a picture of an empty page)."""
    from docx.opc.constants import RELATIONSHIP_TYPE

    now = datetime.now(timezone.utc)
    day = date.fromisoformat(d["generated_on"])  # today, or the day tanet is told it is
    when = datetime.combine(day, now.time().replace(microsecond=0))
    props = doc.core_properties
    props.title = xml_text(title)
    props.subject = xml_text(f"Summary for {d['period']['label']}")
    props.author = props.last_modified_by = xml_text(author)
    props.created = props.modified = when
    props.comments = props.keywords = props.category = ""
    props.language = LANGUAGE
    props.revision = 1
    package_rels = doc.part.package.rels
    for rel_id, rel in list(package_rels.items()):
        if rel.reltype == RELATIONSHIP_TYPE.THUMBNAIL:
            del package_rels[rel_id]


def header_and_footer(doc, network: str) -> None:
    """The network's name at the top of every page; "Page N of M" at the foot."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    for section in doc.sections:
        top = section.header.paragraphs[0]
        top.text = xml_text(network)
        top.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        for run in top.runs:
            run.font.size = Pt(9)
        foot = section.footer.paragraphs[0]
        foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
        foot.add_run("Page ")
        add_field(foot, "PAGE", "1")
        foot.add_run(" of ")
        add_field(foot, "NUMPAGES", "1")
        for run in foot.runs:
            run.font.size = Pt(9)


def add_field(paragraph, instruction: str, shown: str) -> None:
    """A field Word (and LibreOffice) fills in when it lays the pages out, e.g. PAGE."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind: str):
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        return element

    paragraph.add_run()._r.append(char("begin"))
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    paragraph.add_run()._r.append(code)
    paragraph.add_run()._r.append(char("separate"))
    paragraph.add_run(shown)
    paragraph.add_run()._r.append(char("end"))


# Tables ---------------------------------------------------------------------------------------

def text_width(text: str, bold: bool = False) -> float:
    """How wide `text` is at the body size, in points, measured with Pillow's own sans-serif
    font: about as wide as Arial and a tenth wider than Calibri, the document's font."""
    return measuring_font().getlength(text) / 100 * FONT_PT * (BOLD_WIDER if bold else 1)


@functools.cache
def measuring_font():
    from PIL import ImageFont

    return ImageFont.load_default(size=100)


def column_widths(table: list[list[str]], available_pt: float, bold_first_row: bool,
                  bold_first_column: bool, spare_to_last: bool = False) -> list[float]:
    """Widths (points) from content, as a browser lays out a table: each column at least as
    wide as its longest word (so no word or date breaks), the room left shared in proportion
    to how much more each column's longest cell needs to sit on one line. Room to spare when
    every cell fits on one line goes to all columns alike, or to the last (`spare_to_last`)."""
    columns = len(table[0])
    least, most = [0.0] * columns, [0.0] * columns
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            bold = (r == 0 and bold_first_row) or (c == 0 and bold_first_column)
            words = value.split() or [""]
            least[c] = max(least[c], max(text_width(w, bold) for w in words) + CELL_PADDING_PT)
            most[c] = max(most[c], text_width(" ".join(words), bold) + CELL_PADDING_PT)
    if sum(most) <= available_pt:  # everything fits on one line: the spare room goes round
        spare = available_pt - sum(most)
        if spare_to_last:
            return most[:-1] + [most[-1] + spare]
        return [m + spare * m / sum(most) for m in most]
    if sum(least) <= available_pt:
        share = (available_pt - sum(least)) / (sum(most) - sum(least))
        return [lo + (hi - lo) * share for lo, hi in zip(least, most)]
    return squeeze_longest(least, available_pt)


def squeeze_longest(least: list[float], available_pt: float) -> list[float]:
    """When the longest words alone are wider than the page: only the columns holding the
    widest words give way, all to one width (the most that fits), so a long word or link wraps
    inside its own cell while dates, times, numbers and headers keep their whole width."""
    remaining, cap = available_pt, 0.0
    for i, lo in enumerate(sorted(least)):
        cap = remaining / (len(least) - i)  # an equal share of what is left, for this and the wider ones
        if lo > cap:
            break
        remaining -= lo
    if cap <= 0:  # nothing left for the wide columns: all shrink alike
        return [available_pt * lo / sum(least) for lo in least]
    return [min(lo, cap) for lo in least]


def fill_table(doc, table_rows: list[list[str]], widths_pt: list[float], style: str, header: bool,
               keep_with_next: bool, caption: str):
    """A table with fixed column widths, rows that never split across pages, the first row a
    header row repeated at the top of every page (`header`), and a short table kept whole
    (and with what follows it, when `keep_with_next`); `caption` is its title for a screen reader."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    table = doc.add_table(rows=len(table_rows), cols=len(widths_pt))
    table.style = style
    table.autofit = False
    look = table._tbl.tblPr.find(qn("w:tblLook"))
    if look is None:
        look = OxmlElement("w:tblLook")
        table._tbl.tblPr.append(look)
    for flag, on in (("firstRow", header), ("lastRow", False), ("firstColumn", not header), ("lastColumn", False),
                     ("noHBand", True), ("noVBand", True)):
        look.set(qn(f"w:{flag}"), "1" if on else "0")
    look.set(qn("w:val"), "0620" if header else "0680")
    title = OxmlElement("w:tblCaption")
    title.set(qn("w:val"), xml_text(caption))
    table._tbl.tblPr.append(title)
    for column, width in zip(table.columns, widths_pt):
        column.width = Pt(width)
    keep_whole = len(table_rows) <= SHORT_TABLE_ROWS
    for r, (row, values) in enumerate(zip(table.rows, table_rows)):
        row_properties = row._tr.get_or_add_trPr()
        row_properties.append(OxmlElement("w:cantSplit"))
        if r == 0 and header:
            row_properties.append(OxmlElement("w:tblHeader"))
        for c, (cell, value) in enumerate(zip(row.cells, values)):
            cell.width = Pt(widths_pt[c])
            paragraph = cell.paragraphs[0]
            add_unbroken(paragraph, value, bold=(r == 0) if header else (c == 0))
            paragraph.paragraph_format.space_after = Pt(0)
            paragraph.paragraph_format.keep_with_next = keep_whole and (r < len(table_rows) - 1 or keep_with_next)
    return table


def key_value_table(doc, facts: list[tuple[str, str]], available_pt: float, keep_with_next: bool, caption: str):
    """Facts as two columns, the names in bold; no header row, since the first fact is no heading."""
    rows = [[k, v] for k, v in facts]
    widths = column_widths(rows, available_pt, False, True, spare_to_last=True)
    return fill_table(doc, rows, widths, "Table Grid", header=False, keep_with_next=keep_with_next, caption=caption)


def data_table(doc, columns: list[str], rows: list[list[str]], available_pt: float, keep_with_next: bool,
               caption: str):
    table_rows = [columns] + rows
    widths = column_widths(table_rows, available_pt, True, False)
    return fill_table(doc, table_rows, widths, "Light Grid Accent 1", header=True, keep_with_next=keep_with_next,
                      caption=caption)


# Charts ---------------------------------------------------------------------------------------

def chart_description(s: Section) -> str:
    """What a chart shows, with every figure, for a reader who cannot see it: the measure is
    the table column whose cells are the bars' figures."""
    shown = [b[2] for b in s.bars]
    measure = s.chart or next((name for c, name in enumerate(s.columns)
                               if name and [row[c] for row in s.rows] == shown), "value")
    return (f"{s.title}, bar chart of {measure.lower()}: "
            + "; ".join(f"{label} {figure}" for label, _, figure in s.bars) + ".")


# Sans-serif TrueType fonts with accented letters and the en dash, where Linux, Windows and
# macOS keep them; Pillow's own font (FreeType, when Pillow has it) is the last resort.
CHART_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
    "C:/Windows/Fonts/arial.ttf", "C:/Windows/Fonts/calibri.ttf", "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf", "/System/Library/Fonts/Helvetica.ttc",
)


def chart_font(size: int):
    """The first of CHART_FONTS this computer has, at `size` pixels."""
    import os

    from PIL import ImageFont

    windows = os.environ.get("WINDIR")
    candidates = CHART_FONTS + ((os.path.join(windows, "Fonts", "arial.ttf"),) if windows else ())
    for path in candidates:
        if os.path.exists(path):
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                continue
    return ImageFont.load_default(size=size)


def chart_png(bars: list[tuple[str, float, str]]) -> bytes:
    """A horizontal bar chart as a PNG: a label, a bar scaled to the largest value, and the
    figure, one row a bar; drawn at print resolution (about 250 dots an inch at 16 cm)."""
    from PIL import Image, ImageDraw

    width, row, size = 1600, 60, 36
    font = chart_font(size)
    label_w = min(max(font.getlength(label) for label, _, _ in bars) + 36, width * 0.4)
    figure_w = max(font.getlength(figure) for _, _, figure in bars) + 24
    bar_w = width - label_w - figure_w
    top = max(b[1] for b in bars) or 1
    image = Image.new("RGB", (width, row * len(bars) + 16), "white")
    draw = ImageDraw.Draw(image)
    for i, (label, value, figure) in enumerate(bars):
        y = 8 + i * row
        middle = y + row / 2
        while font.getlength(label) > label_w - 36 and len(label) > 4:
            label = label[:-2] + "…"
        draw.text((label_w - 12, middle), label, font=font, fill=TEXT_COLOUR, anchor="rm")
        length = max(0.0, bar_w * value / top)
        if length >= 1:
            draw.rectangle((label_w, y + 8, label_w + length, y + row - 8), fill=CHART_COLOUR)
        draw.text((label_w + length + 10, middle), figure, font=font, fill=TEXT_COLOUR, anchor="lm")
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(250, 250))
    return out.getvalue()


def add_chart(doc, s: Section, text_width_pt: float) -> None:
    from docx.shared import Pt

    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(10)  # clear of the table above it
    picture = paragraph.add_run().add_picture(io.BytesIO(chart_png(s.bars)),
                                              width=Pt(min(text_width_pt, 16 / 2.54 * 72)))
    properties = picture._inline.docPr
    properties.set("descr", xml_text(chart_description(s)))
    properties.set("title", xml_text(f"Chart: {s.title}"))
    if s.chart:  # what the bars measure, when no column of the table above says it
        paragraph.paragraph_format.keep_with_next = True
        doc.add_paragraph(xml_text(f"Chart: {s.chart}."))
