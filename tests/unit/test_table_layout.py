"""The table layout: columns give way widest first, never below a word, and a table fits."""

from hypothesis import given
from hypothesis import strategies as st

from tanet.output.table import fit, render, width


def test_the_widest_column_gives_way_first():
    assert fit([10, 30, 12], [2, 5, 4], 40) == [10, 18, 12]
    assert fit([10, 30, 30], [2, 5, 4], 40) == [10, 15, 15]


def test_no_column_goes_below_its_floor_even_when_that_overflows():
    assert fit([10, 30], [10, 25], 20) == [10, 25]


@given(st.lists(st.tuples(st.integers(1, 60), st.integers(1, 60)), min_size=1, max_size=8), st.integers(1, 300))
def test_fit_keeps_floors_and_the_limit_when_it_can(columns, limit):
    natural = [max(a, b) for a, b in columns]
    floors = [min(a, b) for a, b in columns]
    widths = fit(natural, floors, limit)
    assert all(f <= w <= n for f, w, n in zip(floors, widths, natural))
    assert sum(widths) <= max(limit, sum(floors))
    if sum(natural) <= limit:
        assert widths == natural


def test_wide_characters_take_two_columns():
    assert width("Zoë") == 3 and width("日本") == 4
    out = render(["Name"], [["日本語の名前"]], total_width=40)
    assert len({width(line) for line in out.splitlines()}) == 1  # every line the same width on screen


def test_a_column_ranked_to_drop_goes_before_any_word_is_cut():
    rows = [["1", "niamh.bell@nhs.example", "yes"]]
    out = render(["Id", "E-mail", "Ambassador"], rows, total_width=34, drop=[0, 0, 1])
    assert "Ambassador" not in out and "niamh.bell@nhs.example" in out
    assert max(width(line) for line in out.splitlines()) <= 34
