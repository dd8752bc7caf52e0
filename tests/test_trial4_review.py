"""Blind trial 4's general findings outside cleaning (tests/test_cleaning_pages.py has those):
"how many" answered by a year or a share, two places asked about with a repeated "at", and a
later part whose "each" points back. Questions and answers written for these tests."""

from __future__ import annotations

from rag.answer_kind import COUNT, answers_kind, asked_kind
from rag.decompose import split_question


def test_how_many_asks_for_a_count_not_a_year_or_a_share():
    q = "How many vans did Corvel recall?"
    assert asked_kind(q) == COUNT
    assert answers_kind(q, "Corvel recalled 12,400 vans [1].")
    assert answers_kind(q, "Corvel recalled about twelve thousand vans [1].")
    assert not answers_kind(q, "Corvel recalled vans built from 2019 to 2022 [1].")  # years count no vans
    assert not answers_kind("How many gannets nest on Holm?", "Gannet numbers on Holm fell 14% [1].")
    assert not answers_kind("How many staff does the clinic employ?", "The clinic employs a third of the town [1].")
    # review 5: money answers "how many dollars", and a count with a comma is no year
    assert answers_kind("How many dollars did the clinic raise?", "The clinic raised $3 million [1].")
    assert answers_kind("How many people watched the final?", "The final drew a crowd of 1,850 [1].")
    # a count in a year, and a span, still answer
    assert answers_kind("How many fires were reported in 2021?", "In 2021, 48 fires were reported [1].")
    assert answers_kind("How many years did the works take?", "The works took three years [1].")


def test_a_repeated_at_on_or_for_asks_about_two_places_or_times():
    assert split_question("What was the attendance at the Lowfield match and at the Brack Road match?") == [
        "What was the attendance at the Lowfield match?", "What was the attendance at the Brack Road match?"]
    assert split_question("What did the ministry say on Monday and on Thursday?") == [
        "What did the ministry say on Monday?", "What did the ministry say on Thursday?"]
    # one place named with "and" stays one question
    q = "What was the attendance at the Lowfield and Brack Road match?"
    assert split_question(q) == [q]


def test_a_later_part_whose_each_points_back_keeps_the_question_whole():
    q = "Who led each team in the relay final, and how many laps did each complete?"
    assert split_question(q) == [q]
    q2 = "Which two firms bid for the tunnel contract, and what did either offer?"
    assert split_question(q2) == [q2]


def test_a_share_takes_its_whole_from_the_sentence_before():
    """"Only 54% of patients finished" was refused against "The trial enrolled 900 patients. Only
    54% were still taking it": a share's whole is often named a sentence earlier. Any other
    number still needs its unit in its own sentence, and the whole must be in the run."""
    from test_grounding_review import backed

    passage = "The Tamsin trial enrolled 900 patients. Only 54% were still taking the pill after a year."
    q = "What share of patients in the Tamsin trial kept taking the pill?"
    assert backed("Only 54% of patients in the Tamsin trial kept taking the pill [1].", passage, q)
    assert not backed("Only 54% of doctors in the Tamsin trial kept taking the pill [1].", passage, q)
    # a percent whose own sentence names its whole keeps that whole (review 5)
    both = "The Tamsin trial enrolled 900 patients and 40 doctors. Only 54% of the patients kept taking the pill."
    assert not backed("Only 54% of the doctors in the Tamsin trial kept taking the pill [1].", both, q)
    tonnes = "The Ardo mine shipped ore by rail. It moved 40 wagons a day, the company said; its ore was 5% iron."
    assert not backed("The Ardo mine moved 40 tonnes of ore a day [1].", tonnes, "How much ore did the Ardo mine move?")


def test_at_on_for_split_only_when_repeated():
    """Review 5: the wider prepositions reached the "is that consistent with" form and cut its ask."""
    q = "What did Reyes say on the harbour budget, and is that consistent with the treasury forecast?"
    assert split_question(q) == [q]
    q2 = "What was the attendance at Lowfield compared with Brack Road?"
    assert split_question(q2) == [q2]
