"""Forgetting many members looks for their names and addresses in every text by each text's
own words (privacy.Needles), not with every member's pattern over every text: it must erase
exactly what one pattern of all of them erases."""

from hypothesis import given, settings
from hypothesis import strategies as st

from tanet import privacy

NAMES = ["Strauß", "Åsa", "Ann", "Ann Lee", "Zoë O'Brien", "Jo-Ann Smith", "İlker Aydın", "Sam", "Kim", "ann.lee@example.org",
         "O'Neill", "de la Cruz", "--", "Łukasz", "Peadar", "Mary-Kate", "x.y"]
WORDS = st.sampled_from(NAMES + ["ilker", "ſam", "\u212aim", "ANN", "ann", "Anna", "Peadarson", "lee", "o'brien",
                                 "Zoe", "smith", "JO-ANN", "e", "42", "(Ann)", "Ann,", "—", "ñ", "ZOË", "zoë O'BRIEN",
                                 "İLKER", "ılker", "ILKER AYDIN", "aydın", "ŁUKASZ", "łukasz", "Strauß", "STRAUSS",
                                 "Zoe\u0308", "MARY-KATE", "ÅSA", "Åsa", "\u212bsa"])


@settings(max_examples=500, deadline=None)
@given(needles=st.lists(st.sampled_from(NAMES), min_size=1, max_size=8),
       text=st.lists(st.one_of(WORDS, st.text(max_size=6)), max_size=12).map(" ".join))
def test_the_words_found_are_those_one_pattern_of_all_of_them_finds(needles, text):
    one_pattern = privacy._pattern(needles)
    assert privacy.Needles(needles).erased(text) == privacy._erased(one_pattern, text)


def test_a_long_list_finds_a_name_in_passing_and_leaves_the_rest():
    many = [f"Person{i} Surname{i}" for i in range(5000)] + ["Ann Lee", "ann.lee@example.org"]
    needles = privacy.Needles(many)
    assert needles.erased("Call Ann Lee (ann.lee@example.org) about Person4999 Surname4999.") == \
        "Call [erased] ([erased]) about [erased]."
    assert needles.erased("Nothing about anyone here, Annabel.") == "Nothing about anyone here, Annabel."
    assert needles.erased("ſurname12 and PERſON12 ſurname12 and Zoë") == "ſurname12 and [erased] and Zoë"
