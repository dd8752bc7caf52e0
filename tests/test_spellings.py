"""British and American spellings match each other: a model trained mostly on American text
writes "meters" for the article's "metres", and a question may say "harbour" of an article's
"harbor". Examples written for these tests."""

import pytest

from rag.words import stem

from test_grounding_review import backed


@pytest.mark.parametrize("british, american", [
    ("metres", "meters"), ("kilometre", "kilometer"), ("litres", "liters"), ("centre", "center"),
    ("theatres", "theaters"), ("fibre", "fiber"), ("colour", "color"), ("Labour", "labor"),
    ("harbours", "harbors"), ("favourite", "favorite"), ("honoured", "honored"), ("organised", "organized"),
    ("analysing", "analyzing"), ("realisation", "realization"), ("behaviour", "behavior"),
])
def test_a_british_spelling_has_the_american_ones_stem(british: str, american: str):
    assert stem(british) == stem(american)


def test_related_british_forms_still_share_a_stem():
    """Review 6: rewriting the word before stemming split "colour" from "colourful" and
    "revise" from "revision"; the stem is rewritten as well."""
    for a, b in (("colour", "colourful"), ("revise", "revision"), ("television", "televised"),
                 ("advertise", "advertisement"), ("centre", "centres")):
        assert stem(a) == stem(b), (a, b)


def test_words_that_only_look_british_keep_their_own_stems():
    assert stem("hour") != stem("hor") and stem("four") == "four" and stem("flour") == "flour"
    assert stem("hatred") != stem("haters")
    assert len({stem(w) for w in ("raise", "rise", "noise")}) == 3


def test_an_answer_in_meters_is_backed_by_a_passage_in_metres():
    q = "How long is the new Tarrow footbridge?"
    passage = "The new Tarrow footbridge is 182 metres long and opens to walkers in May."
    assert backed("The Tarrow footbridge is 182 meters long [1].", passage, q)
    assert not backed("The Tarrow footbridge is 182 feet long [1].", passage, q)  # another unit still fails
