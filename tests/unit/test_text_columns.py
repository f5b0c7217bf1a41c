"""A column of values checked at once gives what checking each value gives, refusals included."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tanet import text
from tanet.errors import TanetError

# Plain text, and text with one of what the checks look for: controls, line breaks, direction
# and invisible marks, surrogates and noncharacters, white space they strip.
SPECIALS = ["\x00", "\x01", "\t", "\n", "\r", "\r\n", "\x0b", "\x1c", "\x7f", "\x85", "\u202e", "\u2066",
            "\u200b", "\u200e", "\ufeff", "\ud800", "\ufdd0", "\ufffe", "\U0001ffff", "\u00a0", "\u200d"]
SPECIAL = st.sampled_from(SPECIALS)
PLAIN = st.text(st.sampled_from(list("ab é")), max_size=4) | st.sampled_from(["", "  ", "Housing", " Social work "])
VALUES = st.lists(PLAIN | st.tuples(PLAIN, SPECIAL, PLAIN).map("".join), max_size=6)


def each(check, values, field):
    try:
        return [check(value, field) for value in values]
    except TanetError as e:
        return str(e)


def column(check, values, field):
    try:
        return check(values, field)
    except TanetError as e:
        return str(e)


@given(VALUES)
def test_one_line_each_is_one_line_of_each(values):
    assert column(text.one_line_each, values, "service area") == each(text.one_line, values, "service area")


@given(VALUES)
def test_some_lines_each_is_some_lines_of_each(values):
    assert column(text.some_lines_each, values, "answer") == each(text.some_lines, values, "answer")


@pytest.mark.parametrize("values", [["a" * 1000, "b"], ["a" * 1001], [" " + "a" * 1000 + " "]])
def test_one_line_each_keeps_the_length_limit(values):
    assert column(text.one_line_each, values, "service area") == each(text.one_line, values, "service area")


@pytest.mark.parametrize("char", SPECIALS)
def test_each_character_the_checks_look_for_is_judged_alike_in_a_column(char):
    values = ["Housing", f" a{char}b ", f"{char}", ""]
    assert column(text.one_line_each, values, "service area") == each(text.one_line, values, "service area")
    assert column(text.some_lines_each, values, "answer") == each(text.some_lines, values, "answer")
