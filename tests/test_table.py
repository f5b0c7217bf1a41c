"""The light table renderer: words (e-mails, dates, ids) are never broken, tables fit the
terminal, and less important columns go first."""

from conftest import FIXTURES
from hypothesis import given
from hypothesis import strategies as st

from tanet.output.table import _words, render, width


def test_member_list_fits_100_columns_without_breaking_emails_or_dates(tanet, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    tanet("member", "import", FIXTURES.parent.parent / "examples" / "members.csv", ok=True)
    members = tanet("member", "list", "--format", "json", ok=True).json()
    out = tanet("member", "list", ok=True).stdout
    assert max(width(line) for line in out.splitlines()) <= 100
    for m in members:
        assert m["email"] in out
    assert "Ambassador" not in out  # the least needed column gave way first


def test_wide_terminal_keeps_every_column_and_wraps_nothing():
    rows = [["1", "Niamh Bell", "niamh.bell@nhs.example", "2025-04-03"]]
    out = render(["Id", "Name", "E-mail", "Joined"], rows, total_width=120)
    assert out.splitlines()[3] == "│ 1  │ Niamh Bell │ niamh.bell@nhs.example │ 2025-04-03 │"


def test_a_no_break_space_keeps_its_words_together():
    rows = [["0000\u0e5c", "0000\u0e5c", "00\xa0\u0e5c\u0e5c\u0e5c"]]  # found by hypothesis
    for total in (31, 40):  # 31: just wide enough for the three words whole
        assert "00\xa0\u0e5c\u0e5c\u0e5c" in render(["A", "Bee", "Sea"], rows, total_width=total)


def test_headers_wrap_before_data():
    rows = [["1", "Niamh Bell", "housing"]]
    out = render(["Id", "Name", "Service area"], rows, total_width=29)
    assert "│ 1  │ Niamh Bell │ housing │" in out.splitlines()


@given(st.lists(st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=25),
                         min_size=3, max_size=3), min_size=1, max_size=5),
       st.integers(min_value=30, max_value=200))
def test_every_line_fits_and_every_word_that_can_fit_survives(rows, total):
    out = render(["A", "Bee", "Sea"], rows, total_width=total)
    lines = out.splitlines()
    # A word is what the renderer keeps whole: a no-break space joins, as it should.
    widest_word = max((width(w) for row in rows for cell in row for w in _words(cell)), default=0)
    if widest_word <= (total - 10) // 3:
        assert max(width(line) for line in lines) <= total
        for row in rows:
            for cell in row:
                for word in _words(cell):
                    assert word in out
