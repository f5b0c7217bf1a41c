"""What a reviewer found reading the papers (the Word summary, the printed pages, the e-mail):
each finding, checked on the document as the reader gets it."""

import email
import re
from email import policy

from conftest import add_member
from servers import use_server

NETWORK = "Lothian Trauma-Informed Practice Network"
OVER_FULL = "Above 100%: members who came and have since left count as attendees but not as members at the end."


def network(tanet, *members):
    tanet("init", "--network", NETWORK, "--organiser-name", "Alex Morgan", "--organiser-email",
          "alex@council.example", ok=True)
    for name, address in members:
        add_member(tanet, name, address, "housing", "public", "frontline", "Org", "--joined", "2025-01-01")


def docx_text(tanet, tmp_path, *args) -> str:
    from docx import Document

    path = tmp_path / "summary.docx"
    tanet("report", *args, "--format", "docx", "-o", path, ok=True)
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def plain_text(tanet, *args) -> str:
    from tanet.summary import plaintext

    return plaintext.to_plain(tanet("report", *args, "--format", "json", ok=True).json())


def test_a_rate_above_100_percent_is_kept_and_explained_under_its_table_in_every_format(tanet, tmp_path, monkeypatch):
    monkeypatch.setenv("TANET_TODAY", "2026-10-20")
    network(tanet, ("Ann Able", "ann@example.org"), ("Ben Bold", "ben@example.org"))
    tanet("meeting", "add", "2026-08-11", ok=True)
    tanet("attendance", "mark", "1", "Ann", "Ben", ok=True)
    tanet("member", "leave", "Ben", "--on", "2026-09-01", ok=True)
    d = tanet("report", "quarter", "2026Q3", "--format", "json", ok=True).json()
    assert d["participation_rate"] == 2.0  # unique attendees / active members at the end, as always
    shown = {"markdown": tanet("report", "quarter", "2026Q3", "--format", "markdown", ok=True).stdout,
             "html": tanet("report", "quarter", "2026Q3", "--format", "html", ok=True).stdout,
             "plain": " ".join(plain_text(tanet, "quarter", "2026Q3").split()),
             "docx": docx_text(tanet, tmp_path, "quarter", "2026Q3")}
    for fmt, text in shown.items():
        assert "200%" in text, fmt
        assert OVER_FULL in text, fmt
    assert f"<p>{OVER_FULL}</p>" in shown["html"]


def test_no_note_when_every_rate_is_100_percent_or_less(tanet, monkeypatch):
    monkeypatch.setenv("TANET_TODAY", "2026-10-20")
    network(tanet, ("Ann Able", "ann@example.org"), ("Ben Bold", "ben@example.org"))
    tanet("meeting", "add", "2026-08-11", ok=True)
    tanet("attendance", "mark", "1", "Ann", "Ben", ok=True)
    assert "Above 100%" not in tanet("report", "quarter", "2026Q3", "--format", "markdown", ok=True).stdout


def test_plain_text_tables_break_at_spaces_and_never_inside_a_word():
    from tanet.summary import plaintext

    columns = ["Date", "Start", "Title", "Present", "Apologies", "Checked in", "Agenda"]
    rows = [["2026-10-06", "10:00", "Lothian Trauma-Informed Practice Network meeting", "30", "13", "28",
             "Extraordinary general meeting (reflective practice)"],
            ["2026-11-03", "15:45", "Housing", "12", "4", "10", "Holding hope (spotlight)"]]
    lines = plaintext.table(columns, rows)
    assert all(len(line) <= plaintext.WIDTH for line in lines)
    words = " ".join(lines).split()
    for cell in columns + [c for row in rows for c in row]:
        for word in cell.split():
            assert word in words, word  # every word whole, on one line
    # A word longer than the whole line is the one thing split.
    long = "x" * (plaintext.WIDTH + 10)
    lines = plaintext.table(["Link"], [[long]])
    assert "".join(line.strip() for line in lines[2:]) == long


def test_word_a_very_long_word_wraps_in_its_own_column_and_dates_times_headers_stay_whole():
    from tanet.summary import word

    url = "https://www.example.org/" + "trauma-informed-practice-network-resources"  # 63 characters, no space
    table = [["Date", "Start", "Title", "Present"], ["2026-10-06", "10:00", url, "30"]]
    available = 481.9
    widths = word.column_widths(table, available, True, False)
    assert abs(sum(widths) - available) < 0.5
    for c in (0, 1, 3):
        needed = max(word.text_width(row[c], bold=(r == 0)) for r, row in enumerate(table)) + word.CELL_PADDING_PT
        assert widths[c] >= needed - 0.01, (c, widths[c], needed)
    assert widths[2] < word.text_width(url) + word.CELL_PADDING_PT  # only this one wraps


def test_word_charts_draw_accented_letters_and_the_en_dash_with_a_truetype_font():
    from PIL import ImageFont

    from tanet.summary import word

    font = word.chart_font(36)
    assert isinstance(font, ImageFont.FreeTypeFont)
    missing = font.getmask("\U000E0FFF").getbbox()  # a character no font has: the box
    for text in ("à", "–", "ì"):
        assert font.getmask(text).getbbox() != missing, text


def test_the_summary_title_keeps_each_date_on_one_line_in_print(tanet, monkeypatch):
    monkeypatch.setenv("TANET_TODAY", "2026-10-20")
    network(tanet, ("Ann Able", "ann@example.org"))
    page = tanet("report", "quarter", "2026Q3", "--format", "html", ok=True).stdout
    h1 = re.search(r"<h1>(.*?)</h1>", page).group(1)
    assert '<span class="date">2026-07-01</span>' in h1 and '<span class="date">2026-09-30</span>' in h1
    assert re.search(r"\.date\{white-space:nowrap\}", page)


def test_a_quarter_in_progress_says_so_in_every_title_and_the_subject(tanet, tmp_path, smtp, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TANET_TODAY", "2026-11-12")
    network(tanet, ("Ann Able", "ann@example.org"))
    tanet("meeting", "add", "2026-10-13", ok=True)
    tanet("attendance", "mark", "1", "Ann", ok=True)
    so_far = f"{NETWORK}: summary for 2026Q4 (the quarter so far, to 2026-11-12)"
    d = tanet("report", "quarter", "this", "--format", "json", ok=True).json()
    assert d["period"]["in_progress"] is True and d["period"]["end"] == "2026-12-31"
    assert f"# {so_far}" in tanet("report", "quarter", "this", "--format", "markdown", ok=True).stdout
    assert f"<title>{so_far}</title>" in tanet("report", "quarter", "this", "--format", "html", ok=True).stdout
    assert " ".join(plain_text(tanet, "quarter", "this").split()).startswith(so_far)
    assert docx_text(tanet, tmp_path, "quarter", "this").startswith(so_far)
    inbox, port = smtp()
    use_server(tanet, port)
    tanet("report", "quarter", "this", "--send-to", "head@council.example", ok=True)
    msg = email.message_from_bytes(inbox.messages[0][1].as_bytes(), policy=policy.default)
    assert msg["Subject"] == so_far
    # Written with the title on the Subject line itself, not moved whole to a line of its own.
    [raw] = [p.read_bytes() for p in (tmp_path / "summaries").rglob("*.eml")]
    assert re.search(rb"(^|\r\n)Subject: " + NETWORK.encode(), raw) and not re.search(rb"Subject: ?\r\n", raw)
    assert email.message_from_bytes(raw)["Subject"].replace("\r\n", "") == so_far
    ended = tanet("report", "quarter", "2026Q3", "--format", "json", ok=True).json()
    assert "in_progress" not in ended["period"]


def test_a_quarter_without_meetings_says_so_once_instead_of_tables_of_zeros(tanet, tmp_path, monkeypatch):
    monkeypatch.setenv("TANET_TODAY", "2026-10-20")
    network(tanet, ("Ann Able", "ann@example.org"))
    tanet("meeting", "add", "2026-05-12", ok=True)  # the quarter before had one
    tanet("attendance", "mark", "1", "Ann", ok=True)
    md = tanet("report", "quarter", "2026Q3", "--format", "markdown", ok=True).stdout
    assert md.count("No meeting was held in this period.") == 1
    assert not re.search(r"(?<!\d)0%", md) and "(– of active members)" in md and "reached at 0 of 0" not in md
    assert "pts" not in md  # no change in a rate that had nothing to be counted over
    for absent in ("## By service area", "## By start time", "## Facilitation", "| Date | Start"):
        assert absent not in md, absent
    from docx import Document

    path = tmp_path / "empty.docx"
    tanet("report", "quarter", "2026Q3", "--format", "docx", "-o", path, ok=True)
    # No all-zero chart: only the trend, where the quarter before had a meeting.
    [trend] = [shape._inline.docPr.get("descr") for shape in Document(str(path)).inline_shapes]
    assert trend.startswith("Trend") and "2026Q3 no meetings" in trend
    assert tanet("report", "quarter", "2026Q3", "--format", "html", ok=True).stdout.count("<svg") == 1
    assert tanet("report", "quarter", "2025Q3", "--format", "html", ok=True).stdout.count("<svg") == 0


def test_the_trend_chart_says_it_shows_mean_attendance_a_meeting(tanet, tmp_path, monkeypatch):
    monkeypatch.setenv("TANET_TODAY", "2026-10-20")
    network(tanet, ("Ann Able", "ann@example.org"))
    tanet("meeting", "add", "2026-08-11", ok=True)
    tanet("attendance", "mark", "1", "Ann", ok=True)
    from docx import Document

    path = tmp_path / "s.docx"
    tanet("report", "quarter", "2026Q3", "--format", "docx", "-o", path, ok=True)
    doc = Document(str(path))
    alts = [shape._inline.docPr.get("descr") for shape in doc.inline_shapes]
    # Each picture's paragraph keeps clear of the table just above it.
    holders = [p for p in doc.paragraphs if p._p.xpath(".//w:drawing")]
    assert len(holders) == len(alts) and all(p.paragraph_format.space_before.pt >= 6 for p in holders)
    trend = next(a for a in alts if a.startswith("Trend"))
    assert "mean attendance" in trend.lower() and "no meetings" in trend  # the earlier, empty quarters
    assert "Chart: mean attendance a meeting." in [p.text for p in doc.paragraphs]  # under the picture too
    page = tanet("report", "quarter", "2026Q3", "--format", "html", ok=True).stdout
    assert re.search(r"Trend[^<]*mean attendance a meeting", page)


def test_a_range_of_whole_months_compares_with_as_many_whole_months_before(tanet, monkeypatch):
    monkeypatch.setenv("TANET_TODAY", "2027-01-20")
    network(tanet, ("Ann Able", "ann@example.org"))
    tanet("meeting", "add", "2024-03-12", ok=True)
    tanet("meeting", "add", "2025-03-11", ok=True)

    def previous(start, end):
        d = tanet("report", "range", "--from", start, "--to", end, "--format", "json", ok=True).json()
        return d["previous"]["period"]["start"], d["previous"]["period"]["end"]

    assert previous("2025-01-01", "2026-12-31") == ("2023-01-01", "2024-12-31")  # two years, a leap day among them
    assert previous("2025-03-01", "2025-04-30") == ("2025-01-01", "2025-02-28")  # two months, not 61 days
    assert previous("2025-03-10", "2025-03-16") == ("2025-03-03", "2025-03-09")  # not whole months: days


def test_the_handover_first_steps_work_as_written_in_a_new_terminal(tanet, tmp_path, monkeypatch):
    import html
    import os
    import shutil
    import subprocess
    import sys

    monkeypatch.setenv("TANET_TODAY", "2026-10-20")
    network(tanet, ("Ann Able", "ann@example.org"))
    tanet("meeting", "add", "2026-08-11", ok=True)
    tanet("attendance", "mark", "1", "Ann", ok=True)
    tanet("handover", "-o", tmp_path / "pack", ok=True)
    page = (tmp_path / "pack" / "index.html").read_text(encoding="utf-8")
    steps = re.search(r'<section[^>]* id="next-steps".*?</section>', page, re.S).group(0)
    commands = [html.unescape(c) for c in re.findall(r"<pre><code>(.*?)</code></pre>", steps, re.S)]
    assert any(c.startswith("setx TANET_DB ") for c in commands)  # Windows, kept for new windows
    assert any(c.startswith("$env:TANET_DB = ") for c in commands)  # Windows, this window
    unix = [c for c in commands if c.startswith(("export ", "echo "))]
    assert len(unix) == 2
    # What can run without sending, changing or filling anything in, exactly as printed.
    plain = [c for c in commands if c.startswith("tanet ")
             and not re.search(r"--send|--apply|imaps|[A-Z]{4}|organiser|checkin round", c)]
    assert "tanet info" in plain and "tanet member list" in plain and len(plain) >= 6
    mine = tmp_path / "my computer"
    mine.mkdir()
    shutil.copy(tmp_path / "pack" / "tanet.db", mine / "tanet.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANET_")}
    env.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"), TANET_TODAY="2026-10-20", LANG="C.UTF-8")
    os.mkdir(tmp_path / "home")
    as_typed = f'tanet() {{ "{sys.executable}" -m tanet "$@"; }}\nset -e\n'
    first = subprocess.run(["bash", "-c", as_typed + "\n".join(unix + plain)], cwd=mine, env=env,
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "Ann Able" in first.stdout and "There is no tanet database" not in first.stderr
    # A new terminal, elsewhere, the next day: ~/.profile still points at the copy.
    later = subprocess.run(["bash", "-c", as_typed + ". ~/.profile\ntanet member list"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert later.returncode == 0 and "Ann Able" in later.stdout, later.stderr


def test_the_handover_page_lists_past_meetings_with_no_register_and_cancelled_ones_ahead(tanet, tmp_path, smtp,
                                                                                          monkeypatch):
    import html

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TANET_TODAY", "2026-10-20")
    network(tanet, ("Ann Able", "ann@example.org"), ("Ben Bold", "ben@example.org"))
    tanet("config", "set", "meeting.url", "https://meet.example.org/tip", ok=True)
    for day in ("2026-08-11", "2026-09-08", "2026-11-10", "2026-12-08"):
        tanet("meeting", "add", day, ok=True)
    tanet("attendance", "mark", "1", "Ann", ok=True)  # 2026-09-08 has no register
    inbox, port = smtp()
    use_server(tanet, port)
    tanet("invite", "3", "--send", ok=True)
    tanet("meeting", "cancel", "3", "--reason", "venue closed", ok=True)  # nobody told yet
    tanet("meeting", "cancel", "4", ok=True)  # never invited

    def page(name):
        tanet("handover", "-o", tmp_path / name, ok=True)
        text = html.unescape((tmp_path / name / "index.html").read_text(encoding="utf-8"))
        return " ".join(re.sub(r"<[^>]+>", " ", text).split())

    text = page("pack")
    assert re.search(r"Past meetings with no register yet .* #2 2026-09-08 \d\d:\d\d", text)
    assert "no register yet" in text and "#1 2026-08-11" not in text
    assert "#3 2026-11-10" in text and "cancelled (venue closed) cancellation sent to 0 of 2 invited" in text
    assert "tanet invite 3 --send" in text
    assert "#4 2026-12-08" in text and "nobody had been sent an invitation" in text
    tanet("invite", "3", "--send", ok=True)
    assert "cancellation sent to all 2 invited" in page("pack2")


def test_word_a_long_link_in_a_title_leaves_dates_times_and_headers_whole_in_libreoffice(tanet, tmp_path,
                                                                                           monkeypatch):
    import subprocess

    from test_word import soffice_pdf

    monkeypatch.setenv("TANET_TODAY", "2026-12-20")
    network(tanet, ("Ann Able", "ann@example.org"))
    link = "https://www.example.org/trauma-informed-practice-network-resources"
    tanet("meeting", "add", "2026-10-06", "--title", f"Resources {link}", ok=True)
    tanet("meeting", "add", "2026-11-03", "--title", "Holding hope", ok=True)
    tanet("attendance", "mark", "1", "Ann", ok=True)
    path = tmp_path / "summary.docx"
    tanet("report", "quarter", "2026Q4", "--format", "docx", "-o", path, ok=True)
    pdf = soffice_pdf(path)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    words = set(text.split())
    for whole in ("2026-10-06", "2026-11-03", "Start", "Present", "Apologies", "Checked", "Agenda"):
        assert whole in words, whole
