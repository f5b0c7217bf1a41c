"""E-mail addresses as a person types them: checked, and an international domain written
the way mail carries it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tanet.errors import TanetError
from tanet.store.settings import valid_email


@pytest.mark.parametrize("typed, kept", [(" zoe@example.org ", "zoe@example.org"),
                                         ("Zoe.OBrien+tip@Example.ORG", "Zoe.OBrien+tip@Example.ORG"),
                                         ("zoe@bücher.example", "zoe@xn--bcher-kva.example")])
def test_good_addresses_are_kept(typed, kept):
    assert valid_email(typed) == kept


@pytest.mark.parametrize("typed, says", [
    ("zoe", "is not a valid e-mail address"), ("zoe@example", "is not a valid e-mail address"),
    ("zoe@@example.org", "is not a valid e-mail address"), ("zo..e@example.org", "is not a valid e-mail address"),
    ("Zoë <zoe@example.org>", "is not a valid e-mail address"), ("zoë@example.org", "before the @"),
    ("zoe@example.org\n", None), ("a,b@example.org", "is not a valid e-mail address"),
    # mail programs refuse these (the email package among them: a letter to one could not be written)
    (".ann@example.org", "a dot cannot start or end"), ("ann.@example.org", "a dot cannot start or end"),
    ("ann@.example.org", "a dot cannot start or end"),
])
def test_bad_addresses_say_why(typed, says):
    if says is None:  # a trailing line break is stripped like any space
        assert valid_email(typed) == "zoe@example.org"
        return
    with pytest.raises(TanetError, match=says):
        valid_email(typed)


LOCAL = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789._+-"), min_size=1, max_size=20)
LABEL = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-"), min_size=1, max_size=12)


@given(LOCAL, st.lists(LABEL, min_size=1, max_size=3), st.sampled_from(["org", "uk", "example", "scot"]))
def test_an_accepted_address_is_accepted_again_unchanged(local, labels, top):
    address = f"{local}@{'.'.join(labels)}.{top}"
    try:
        kept = valid_email(address)
    except TanetError as e:
        assert "is not a valid e-mail address" in str(e)
        return
    assert kept == address and valid_email(kept) == kept


def test_a_one_line_field_refuses_invisible_marks_and_endless_text():
    import pytest

    from tanet import text
    from tanet.errors import TanetError

    for mark in ("\u200f", "\u200e", "\u061c", "\u200b", "\u2060", "\ufeff"):
        with pytest.raises(TanetError, match="U\\+"):
            text.one_line(f"Test{mark}Person", "name")
    assert text.one_line("Mehr\u200cnaz", "name") == "Mehr\u200cnaz"  # the Persian non-joiner is part of a name
    assert text.one_line("A" * text.MAX_LINE, "name") == "A" * text.MAX_LINE
    with pytest.raises(TanetError, match="100,000 characters long"):
        text.one_line("A" * 100_000, "name")
