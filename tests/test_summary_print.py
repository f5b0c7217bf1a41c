"""The summary as a print-ready page (headless Chromium prints it to an A4 PDF,
read back with pdftotext) and as a Word document (read back with python-docx)."""

import json
import re
import subprocess

from test_continuity import chromium


def demo(tmp_path, cli_env):
    from conftest import TANET

    db = tmp_path / "demo.db"
    subprocess.run(TANET + ["demo", "--db", str(db), "--quiet"], env=cli_env, check=True, capture_output=True)
    env = {**cli_env, "TANET_DB": str(db)}
    data = json.loads(subprocess.run(TANET + ["report", "quarter", "last", "--format", "json"], env=env,
                                     check=True, capture_output=True, text=True).stdout)
    return env, data


def test_the_html_summary_prints_on_a4_with_nothing_clipped_and_no_network(tmp_path, cli_env):
    from conftest import TANET

    env, data = demo(tmp_path, cli_env)
    page = tmp_path / "summary.html"
    subprocess.run(TANET + ["report", "quarter", "last", "--format", "html", "-o", str(page)], env=env, check=True)
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "<link" not in text and not re.search(r"src=|url\(|@import", text)
    assert text.count("<svg") >= 2  # the meetings and the by-area rates (and the trend) as inline charts
    pdf = tmp_path / "summary.pdf"
    chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info
    words = " ".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                    check=True).stdout.split())
    assert f"{data['meetings_held']} (cancelled: {data['meetings_cancelled']})" in words
    assert f"{data['attendance']['total']} in all" in words
    for area in data["by_service_area"]:
        if area["members"]:
            # the last column of every row is on the page: nothing ran off its right edge
            assert f"{area['service_area']} " in words and f"{round(area['rate'] * 100)}%" in words
    for m in data["meetings"]:
        assert m["date"] in words
    shot = tmp_path / "summary.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=900,1400", page.as_uri())
    assert shot.stat().st_size > 10_000


def test_the_word_summary_has_the_same_sections_and_figures(tmp_path, cli_env):
    import docx
    from conftest import TANET

    env, data = demo(tmp_path, cli_env)
    out = tmp_path / "summary.docx"
    subprocess.run(TANET + ["report", "quarter", "last", "--format", "docx", "-o", str(out)], env=env, check=True)
    document = docx.Document(str(out))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    for section in ("Headlines", "By service area", "By sector", "By role", "Facilitation", "Resources",
                    "Replies to invitations", "Trend"):
        assert section in headings, section
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    area_table = next(t for t in tables if t[0][:2] == ["Service area", "Active members"])
    by_area = {g["service_area"]: g for g in data["by_service_area"] if g["members"] or g["attendees"]}
    assert len(area_table) - 1 == len(by_area)
    for row in area_table[1:]:
        g = by_area[row[0].replace(" (gap)", "")]
        assert row[1:4] == [str(g["members"]), str(g["attendees"]), str(g["attendances"])]
    headlines = dict(next(t for t in tables if t and t[0][0] == "Meetings held"))
    assert headlines["Meetings held"] == f"{data['meetings_held']} (cancelled: {data['meetings_cancelled']})"
    r = subprocess.run(TANET + ["report", "quarter", "last", "--format", "docx"], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "-o summary.docx" in r.stderr
