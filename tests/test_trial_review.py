"""Defects found by a blind trial on a corpus the project had never seen (a city budget, a football
report, two companies' results, an obituary, a court ruling): each case here was a right answer
refused or a wrong one shown. Passages and questions written for these tests."""

from rag.answer_kind import answers_kind
from rag.decompose import split_question
from rag.grounding import check_answer
from rag.types import Passage
from rag.numbers import quantities


def P(text: str, title: str = "", date: str | None = None, n: int = 0) -> Passage:
    return Passage(f"x{n}.txt:0", f"x{n}.txt", title, date, text, 0, len(text), 0.5, 1)


def supported(answer: str, passages: list[Passage], question: str) -> list[bool]:
    return [c.supported for c in check_answer(answer, passages, question)]


def test_a_phrase_after_a_figure_is_not_its_unit():
    """"$61.4 million in the new budget" took "new" as its unit, so the passage's "$61.4 million"
    never backed it; a preposition ends a number's phrase, and "5 tonnes of ore" keeps its unit."""
    assert [q.unit for q, _, _ in quantities("will receive $61.4 million in the new budget")] == [""]
    assert [q.unit for q, _, _ in quantities("5 tonnes of ore")] == ["tonn"]
    budget = P("The police will receive $88.2 million. The fire department's allocation rises to $61.4 million.",
               "Council passes budget", "2025-03-13")
    assert supported("The fire department will receive $61.4 million in the new budget [1].", [budget],
                     "How much will the fire department receive in the new budget?") == [True]


def test_an_age_in_years_is_backed_by_the_bare_number():
    obituary = P("Eleanor Voss died on January 14 at her home in Lisbon. She was 87.", "Eleanor Voss dies", "2025-01-16")
    assert supported("Eleanor Voss was 87 years old [1].", [obituary], "How old was Eleanor Voss?") == [True]


def test_a_quotation_must_be_the_passages_words():
    match = P("Four minutes later, Northgate defender Sam Adeyemi was shown a straight red card for a lunge on Okoro.",
              "Harbour City beat ten-man Northgate", "2024-10-19")
    q = "Which player was sent off in the Harbour City against Northgate match?"
    exact = 'The article states: "Northgate defender Sam Adeyemi was shown a straight red card for a lunge on Okoro." [1]'
    swapped = exact.replace('"Northgate defender', '"Harbour City defender')
    assert supported(exact, [match], q)[0] is True
    assert supported(swapped, [match], q)[0] is False


def test_a_part_that_points_back_at_a_person_keeps_the_question_whole():
    q = "Where did Eleanor Voss die, and how old was she?"
    assert split_question(q) == [q]
    assert len(split_question("Where did Eleanor Voss die, and how old was the house?")) == 2


def test_a_question_that_asks_for_a_name_needs_one_in_the_answer():
    q = "What was the name of the man who died near Cedar Creek?"
    assert not answers_kind(q, "The man who died near Cedar Creek was a 71-year-old man [1].")
    assert answers_kind(q, "The man who died near Cedar Creek was Walter Brandt [1].")
    assert answers_kind("What happened near Cedar Creek?", "A 71-year-old man died [1].")  # no name asked for


def test_the_date_line_dates_only_what_the_passage_says_happened_then():
    """The article's date backs "today" or "on Tuesday", and a claim about the article; not the
    date of an event the passage never dates."""
    ruling = P("Oakridge spokesperson Kevin Marsh said the company would ask the state Supreme Court to review the case. "
               "Under state rules, Oakridge has 30 days to file its petition.", "Court orders Oakridge to refund fees",
               "2024-06-19")
    assert supported("The state Supreme Court agreed to hear the Oakridge case on June 19, 2024 [1].", [ruling],
                     "On what date did the state Supreme Court agree to hear the Oakridge case?") == [False]
    assert supported("The article about Oakridge is dated June 19, 2024 [1].", [ruling],
                     "When was the Oakridge ruling article published?") == [True]
    today = P("The appeals court ruled today that Oakridge must refund the fees.", "Court orders Oakridge to refund fees",
              "2024-06-19")
    assert supported("The appeals court ruled on June 19, 2024 that Oakridge must refund the fees [1].", [today],
                     "When did the appeals court rule on the Oakridge fees?") == [True]


def test_a_comparison_of_two_articles_figures_is_checked_part_by_part():
    """One sentence comparing two passages' figures: each side is checked against its own
    passage, and "the higher revenue" is a comparison, not a rise the passage contradicts."""
    a = P("Revenue was $218.4 million, up 12% from a year earlier.", "Brightline Software reports results", "2024-11-06", 1)
    b = P("Corvane Foods said third-quarter revenue fell 3% to $341.7 million.", "Corvane Foods posts lower sales",
          "2024-10-30", 2)
    q = "Which company had the higher third-quarter revenue, Brightline Software or Corvane Foods?"
    answer = "Corvane Foods had the higher revenue, $341.7 million [2], compared with Brightline Software's $218.4 million [1]."
    assert supported(answer, [a, b], q) == [True, True]
    wrong = "Corvane Foods had the higher revenue, $341.7 million [2], compared with Brightline Software's $281.4 million [1]."
    assert supported(wrong, [a, b], q) == [True, False]
