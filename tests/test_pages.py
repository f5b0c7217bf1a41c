"""The papers people outside the terminal read: the summary page and the handover page
printed by headless Chromium to PDF (read back with pdfinfo and pdftotext), checked by
axe-core's WCAG 2.2 A/AA rules in that browser, and the summary e-mail's plain-text part
as a mail program shows it."""

import email
import html
import json
import os
import re
import subprocess
from datetime import date, timedelta
from email import policy

import pytest
from conftest import TANET, TODAY, add_member
from servers import use_server
from test_continuity import CHROMIUM, chromium

UPCOMING = 14  # more than the handover page used to show (8)
NETWORK = "Edinburgh & Lothians TIP Network"  # an ampersand, which Markdown escapes


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo network, renamed, with more meetings ahead than fit one page and a past
    meeting nobody took a register of."""
    folder = tmp_path_factory.mktemp("pages")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANET_")}
    env.update(TANET_DB=str(folder / "demo.db"), TANET_TODAY=TODAY, XDG_CONFIG_HOME=str(folder / "config"),
               LANG="C.UTF-8")

    def run(*args):
        return subprocess.run(TANET + [str(a) for a in args], env=env, check=True, capture_output=True, text=True)

    run("demo", "--db", folder / "demo.db", "--quiet")
    run("config", "set", "network", NETWORK)
    today = date.fromisoformat(TODAY)
    run("meeting", "add", (today - timedelta(days=2)).isoformat(), "--time", "18:30")  # no register taken
    ahead = len(json.loads(run("meeting", "list", "--upcoming", "--format", "json").stdout))
    last = max(m["date"] for m in json.loads(run("meeting", "list", "--format", "json").stdout))
    for i in range(UPCOMING - ahead):
        run("meeting", "add", (date.fromisoformat(last) + timedelta(weeks=4 * (i + 1))).isoformat())
    return folder, env, run


def pdf_pages(tmp_path, page) -> tuple[str, list[list[str]]]:
    """Print a page as Chromium does and read it back: pdfinfo's page size, and the text
    lines of each page."""
    if CHROMIUM is None:
        chromium(tmp_path)  # skips, or fails on CI
    pdf = tmp_path / (page.stem + ".pdf")
    chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    size = re.search(r"Page size:\s+(.*)", info).group(1)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = [[line.strip() for line in p.splitlines() if line.strip()] for p in text.split("\f")]
    return size, [p for p in pages if p]


def find(lines: list[tuple[int, str]], start: int, text: str) -> int:
    """The index of the first line at or after `start` that begins with `text`."""
    text = " ".join(text.split())[:24]
    for i in range(start, len(lines)):
        if " ".join(lines[i][1].split()).startswith(text):
            return i
    raise AssertionError(f"{text!r} is not in the printed page after line {start}")


def find_heading(lines: list[tuple[int, str]], start: int, title: str) -> int:
    """The index of the heading `title` (perhaps wrapped over two lines) at or after `start`."""
    title = " ".join(title.split())
    for i in range(start, len(lines)):
        line = " ".join(lines[i][1].split())
        if line == title or (len(line) >= 12 and title.startswith(line + " ")):
            return i
    raise AssertionError(f"the heading {title!r} is not in the printed page after line {start}")


def no_heading_alone(pages: list[list[str]], headings: list[str]) -> None:
    """No page ends with a heading: its first lines are printed with it."""
    for number, page in enumerate(pages, 1):
        for heading in headings:
            assert not page[-1].startswith(heading[:24]), f"'{heading}' is alone at the foot of page {number}"


@pytest.mark.parametrize("period", [["quarter", "2026Q3"], ["range", "--from", "2025-01-01", "--to", TODAY]],
                         ids=["a quarter", "two years"])
def test_the_summary_prints_on_a4_each_short_block_whole_and_long_tables_with_their_heading(demo, tmp_path, period):
    from tanet.summary.document import document, is_short

    folder, env, run = demo
    page = tmp_path / "summary.html"
    run("report", *period, "--format", "html", "-o", page)
    data = json.loads(run("report", *period, "--format", "json").stdout)
    size, pages = pdf_pages(tmp_path, page)
    assert size.startswith("594.96 x 841.92 pts (A4)")
    assert len(pages) >= 3
    lines = [(n, line) for n, p in enumerate(pages) for line in p]
    title, sections = document(data)
    position, tables_over_pages = 0, []
    for s in sections:
        position = find_heading(lines, position, s.title)
        first = s.facts[0][0] if s.facts else s.rows[0][0] if s.rows else s.note or "Nothing this period."
        start = find(lines, position + 1, first)
        assert lines[start][0] == lines[position][0], f"'{s.title}' is on one page and its first lines on the next"
        if is_short(s) and (s.facts or s.rows):  # a short block is never split
            last = s.rows[-1][0] if s.rows else s.facts[-1][0]
            end = find(lines, start, last)
            assert lines[end][0] == lines[position][0], f"'{s.title}' is split across pages"
        elif s.rows:  # a long table: its header row again at the top of every page it runs onto
            end = find(lines, start, s.rows[-1][0])
            for number in range(lines[start][0] + 1, lines[end][0] + 1):
                header = " ".join(pages[number][0].split())
                assert header.startswith(" ".join(s.columns[:2])), (s.title, number, header)
            tables_over_pages.append(lines[end][0] - lines[start][0])
    no_heading_alone(pages, [s.title for s in sections])
    words = " ".join(" ".join(p) for p in pages)
    assert "+0" not in words and "-0 " not in words
    assert ("no register" in words) == (period[0] == "range")  # the meeting two days ago has none
    if period[0] == "range":  # two years of meetings run over more than one page
        assert max(tables_over_pages) >= 1


def test_the_handover_page_prints_on_a4_with_every_meeting_ahead_and_commands_to_copy(demo, tmp_path, tanet):
    folder, env, run = demo
    pack = tmp_path / "pack"
    run("handover", "-o", pack)
    index = pack / "index.html"
    text = index.read_text(encoding="utf-8")
    upcoming = json.loads(run("meeting", "list", "--upcoming", "--format", "json").stdout)
    assert len(upcoming) == UPCOMING and f"{UPCOMING} meetings planned ahead" in text
    size, pages = pdf_pages(tmp_path, index)
    assert size.startswith("594.96 x 841.92 pts (A4)")
    words = " ".join(" ".join(p) for p in pages)
    for m in upcoming:
        assert m["date"] in words, m["date"]
    no_heading_alone(pages, [html.unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", text)])
    # Agenda kinds in plain words, not the labels stored in the database.
    assert not re.search(r"\b(reflective|spotlight|training|guest):", words + text)
    assert "(reflective practice)" in text
    # First steps: prose outside code; each command alone in its own block, copyable as written.
    steps = re.search(r'<section[^>]* id="next-steps".*?</section>', text, re.S).group(0)
    every = [html.unescape(c) for c in re.findall(r"<code>(.*?)</code>", steps, re.S)]
    assert len(re.findall(r"<pre><code>", steps)) == len(every)
    # Besides tanet's own commands, only the lines that tell it where the database is.
    codes = [c for c in every if not re.search(r"TANET_DB", c)]
    assert len(every) - len(codes) == 4
    assert len(codes) >= 10 and all(re.fullmatch(r"tanet [^;,\n]+", c) for c in codes), codes
    for command in codes:  # every one is a command tanet knows
        words_ = [w for w in command.split()[1:] if w != "--db" and w != "tanet.db"]
        head = [w for w in words_[:2] if re.fullmatch(r"[a-z]+", w)]
        assert tanet(*head, "--help").exit_code == 0, command


def test_the_pack_on_31_december_holds_the_quarter_just_ended(tanet, tmp_path, monkeypatch):
    tanet("init", "--network", NETWORK, "--organiser-name", "Alex Morgan", "--organiser-email",
          "alex@council.example", ok=True)
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2026-01-01")
    for day in ("2027-02-09", "2027-05-11", "2027-08-10", "2027-11-09"):
        tanet("meeting", "add", day, ok=True)
    monkeypatch.setenv("TANET_TODAY", "2027-12-31")
    tanet("handover", "-o", tmp_path / "pack", ok=True)
    names = sorted(p.name for p in (tmp_path / "pack" / "summaries").iterdir())
    assert names == ["2027Q1.html", "2027Q2.html", "2027Q3.html", "2027Q4.html"]


def test_a_meeting_with_no_register_is_marked_and_left_out_of_the_mean(tanet, monkeypatch):
    tanet("init", "--network", NETWORK, "--organiser-name", "Alex Morgan", "--organiser-email",
          "alex@council.example", ok=True)
    for name, address in (("Ann Able", "ann@example.org"), ("Ben Bold", "ben@example.org")):
        add_member(tanet, name, address, "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    for day in ("2026-07-14", "2026-08-11", "2026-09-08"):
        tanet("meeting", "add", day, ok=True)
    tanet("attendance", "mark", "1", "Ann", "Ben", ok=True)
    tanet("attendance", "mark", "2", "Ann", ok=True)
    d = tanet("report", "quarter", "2026Q3", "--format", "json", ok=True).json()
    assert [m["register"] for m in d["meetings"]] == [True, True, False]
    assert d["meetings_held"] == 3 and d["meetings_without_register"] == 1
    assert d["attendance"] == {"total": 3, "mean": 1.5, "min": 1, "max": 2, "target": d["attendance"]["target"],
                               "meetings_at_target": 0}
    for fmt in ("markdown", "html"):
        out = tanet("report", "quarter", "2026Q3", "--format", fmt, ok=True).stdout
        assert "no register" in out and "Target" in out and "reached at 0 of 2" in out
        assert "nobody joined or left" in out and "+0" not in out and "-0 " not in out


def test_the_summary_email_reads_as_a_letter_in_plain_text(tanet, tmp_path, smtp, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    tanet("init", "--network", NETWORK, "--organiser-name", "Alex Morgan", "--organiser-email",
          "alex@council.example", ok=True)
    people = [("Ann Able", "ann@example.org", "housing"), ("Ben Bold", "ben@example.org", "early years"),
              ("Cat Crane", "cat@example.org", "residential services")]
    for name, address, area in people:
        add_member(tanet, name, address, area, "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2026-08-11", "--title", "Power & choice: a reflective session", ok=True)
    tanet("attendance", "mark", "1", "Ann", "Ben", "Cat", ok=True)
    tanet("session", "add", "1", "--kind", "reflective", "--title", "Power *and* choice", ok=True)
    inbox, port = smtp()
    use_server(tanet, port)
    r = tanet("report", "quarter", "2026Q3", "--send-to", "head@council.example, chair@council.example", ok=True)
    assert "Wrote 2 summaries, one per address" in r.stdout
    assert len(inbox.messages) == 2
    msg = email.message_from_bytes(inbox.messages[0][1].as_bytes(), policy=policy.default)
    plain = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    for mark in ("**", "##", "\\"):
        assert mark not in plain, mark
    assert "|" not in plain and "Power &" in plain
    lines = plain.splitlines()
    underline = next(i for i, line in enumerate(lines) if line and set(line) == {"="})
    assert " ".join(lines[:underline]) == msg["Subject"]  # the title, underlined
    for heading in ("Headlines", "By service area", "Facilitation"):
        i = lines.index(heading)
        assert lines[i + 1] == "-" * len(heading), heading
    # The by-area table: each figure starts under its column's heading.
    head = next(i for i, line in enumerate(lines) if line.startswith("Service area"))
    columns = [lines[head].index(c) for c in ("Active members", "Came", "Attendances", "Rate")]
    assert set(lines[head + 1]) == {"-", " "}
    for line in lines[head + 2:head + 5]:
        assert all(line[c - 1] == " " and line[c] != " " for c in columns), line
    assert "residential services" in plain
    assert "Power *and*" in plain and "(reflective" in plain  # as written, in plain words


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page) -> list:
    """axe-core's WCAG 2.2 A/AA violations on a page, run in headless Chromium."""
    if CHROMIUM is None:
        chromium(page.parent)  # skips, or fails on CI
    try:
        from axe_playwright_python.sync_playwright import Axe
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright and axe-playwright-python are not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            tab.goto(page.as_uri())
            results = Axe().run(tab, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                              "resultTypes": ["violations"]})
            passes = tab.evaluate("axe.run(document, {runOnly: {type: 'tag', values: %s}})"
                                  ".then(r => r.passes.length)" % json.dumps(AXE_TAGS))
        finally:
            browser.close()
    assert passes > 10  # the rules did run
    return [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]


def structure(text: str) -> None:
    """What axe leaves to a reader: the language, one h1, headings in order, header scope."""
    assert '<html lang="en-GB">' in text
    levels = [int(n) for n in re.findall(r"<h([1-6])[ >]", text)]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), levels
    assert all("scope=" in th for th in re.findall(r"<th(?:\s[^>]*)?>", text))


def test_both_pages_pass_the_wcag_22_aa_rules_of_axe_core(demo, tmp_path):
    folder, env, run = demo
    summary = tmp_path / "summary.html"
    run("report", "range", "--from", "2025-01-01", "--to", TODAY, "--format", "html", "-o", summary)
    pack = tmp_path / "pack"
    run("handover", "-o", pack)
    for page in (summary, pack / "index.html"):
        text = page.read_text(encoding="utf-8")
        structure(text)
        for svg in re.findall(r"<svg[^>]*>", text):  # every chart says its figures in words
            assert 'role="img"' in svg and re.search(r'aria-label="[^"]*\d', svg), svg
        assert axe_violations(page) == [], page.name
