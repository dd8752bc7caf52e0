"""A date the passage writes in figures backs the same date written in words, and only that
date: "26/03/2026" states 26 March 2026, not 27 March, nor 3 April unless the document reads
its dates month first. A unit's symbol states the unit written out: "250 m" is 250 metres."""

from __future__ import annotations

from rag.dating import numeric_dates_in_words
from rag.grounding import check_sentence
from rag.types import Passage

QUESTION = "When will the drainage board meet next?"


def _passage(text: str) -> Passage:
    return Passage("c1", "minutes.pdf", "Drainage board minutes", "2026-02-12", text, 0, len(text), 1.0, 1)


def test_a_date_in_figures_backs_the_same_date_in_words_and_no_other():
    passage = _passage("There was no other business. The next meeting will be held on 26/03/2026 at the pump house.")
    assert check_sentence("The board will next meet on 26 March 2026 at the pump house [1].", [passage], QUESTION).supported
    assert check_sentence("The board will next meet on March 26, 2026 at the pump house [1].", [passage], QUESTION).supported
    assert not check_sentence("The board will next meet on 27 March 2026 at the pump house [1].", [passage], QUESTION).supported
    iso = _passage("The next meeting will be held on 2026-03-26 at the pump house.")
    assert check_sentence("The board will next meet on 26 March 2026 at the pump house [1].", [iso], QUESTION).supported


def test_an_ambiguous_date_is_read_only_in_the_order_its_text_proves():
    assert numeric_dates_in_words("held on 04/03/2026") == []  # 4 March or 3 April: nothing proves which
    assert numeric_dates_in_words("held on 04/03/2026", "the minutes of 26/02/2026") == ["4 March 2026"]
    assert numeric_dates_in_words("held on 04/03/2026", "the minutes of 02/26/2026") == ["3 April 2026"]
    ambiguous = _passage("The next meeting will be held on 04/03/2026 at the pump house.")
    assert not check_sentence("The board will next meet on 4 March 2026 at the pump house [1].", [ambiguous], QUESTION).supported
    proven = _passage("The minutes of 26/02/2026 were approved. The next meeting will be held on 04/03/2026 at the pump house.")
    assert check_sentence("The board will next meet on 4 March 2026 at the pump house [1].", [proven], QUESTION).supported
    assert not check_sentence("The board will next meet on 3 April 2026 at the pump house [1].", [proven], QUESTION).supported


def test_a_unit_symbol_states_the_unit_written_out_and_a_spaced_m_is_metres():
    passage = _passage("Loggers were set 250 m apart on iron mains, a 12 km stretch, in a scheme that cost "
                       "£4.75m and served 12m people.")
    question = "How far apart were the loggers set?"
    assert check_sentence("The loggers were set 250 metres apart [1].", [passage], question).supported
    assert check_sentence("The loggers were set 250 meters apart [1].", [passage], question).supported
    assert not check_sentence("The loggers were set 250 feet apart [1].", [passage], question).supported
    assert check_sentence("The stretch was 12 kilometres long [1].", [passage], question).supported
    assert not check_sentence("The stretch was 12 miles long [1].", [passage], question).supported
    assert check_sentence("The scheme cost £4.75 million [1].", [passage], question).supported  # glued: millions
    assert check_sentence("It served 12 million people [1].", [passage], question).supported


def test_a_verb_after_a_share_is_no_unit_of_it():
    passage = _passage("We consumed 187 GWh of electricity, 34% of it from our own solar panels.")
    claim = "The board consumed 187 GWh of electricity, with 34% of it coming from its own solar panels [1]."
    assert check_sentence(claim, [passage], "What share of its electricity came from its own solar panels?").supported
