"""Defects found by a second blind trial on a corpus the project had never seen (an election, a
wildfire, an air safety report, admissions, a museum, a port strike, a data breach, a rate
decision, a film festival, a research press release): each case here was a right answer refused
or a wrong one shown. Passages and questions are written for these tests, not taken from the
trial's gold set. Imports sit inside the tests so that each one fails alone without its fix."""

from rag.grounding import check_answer
from rag.types import Passage

SYSTEM = [{"role": "system", "content": "Answer from the passages."}]


def P(text: str, title: str = "", date: str | None = None, n: int = 0) -> Passage:
    return Passage(f"x{n}.txt:0", f"x{n}.txt", title, date, text, 0, len(text), 0.5, 1)


def supported(answer: str, passages: list[Passage], question: str) -> list[bool]:
    return [c.supported for c in check_answer(answer, passages, question)]


def decided(question: str, answer: str, passages: list[Passage], pinned: str | None = None) -> bool:
    """The support check's decision without a judgement (``thresholds=None``): the question's
    numbers must be beside the evidence, and the answer of the kind asked."""
    from rag.support import check_support

    checks = check_answer(answer, passages, question)
    assert any(c.supported for c in checks)
    kwargs = {} if pinned is None else {"pinned": pinned}
    return check_support(question, checks, passages, SYSTEM, answer, None, thresholds=None, **kwargs).accepted


# ---------------------------------------------------------------- a comparison word is no unit


def test_a_comparison_word_after_a_figure_is_not_its_unit():
    """"5.1% compared to 4.8%" read "compared" as the unit of 5.1%, so the passage's "rose to
    5.1% ... from 4.8%" never backed the sentence and a right answer was refused. A word that
    opens a comparison ends a number's phrase, as a preposition does; a real unit stays."""
    from rag.numbers import quantities

    assert [q.unit for q, _, _ in quantities("sales were 5.1% compared to 4.8%")] == ["", ""]
    assert [q.unit for q, _, _ in quantities("12 goals versus 9 goals")] == ["goal", "goal"]
    assert [q.unit for q, _, _ in quantities("a loss of 40 versus 31")] == ["", ""]
    shop = P("Footfall at the centre rose to 5.1% above its target in spring from 4.8% a year earlier.",
             "Shopping centre footfall", "2025-05-02")
    assert supported("Footfall was 5.1% above target in spring compared to 4.8% a year earlier [1].", [shop],
                     "How far above target was footfall in spring?") == [True]
    # a unit is still checked: "5.1 points" is not the passage's "5.1%"
    assert supported("Footfall was 5.1 points above target compared to 4.8 points a year earlier [1].", [shop],
                     "How far above target was footfall in spring?") == [False]


# ------------------------------------------- the last answer beside a follow-up is no constraint


def test_the_last_answer_beside_a_follow_up_pins_nothing():
    """A follow-up the model could not rewrite is searched with the last answer beside it,
    "How much of that came from donors? (The school paid $8 million for the site.)"; the
    support check then required the last answer's $8 million beside the evidence for the new
    answer, and refused "Donors gave $1.4 million". The aside is context, not a constraint."""
    from rag.prompt import accept_rewrite, pinned_question

    history = [{"role": "user", "content": "What did the school pay for the site?"},
               {"role": "assistant", "content": "The school paid $8 million for the site."}]
    asked = accept_rewrite("How much of that came from donors?", "Donors gave a lot.", history)
    assert asked == "How much of that came from donors? (The school paid $8 million for the site.)"
    assert pinned_question(asked, rewritten=True) == "How much of that came from donors?"
    site = P("Work on the new wing starts in June. Donors gave $1.4 million of the cost, and the city paid the "
             "rest. The wing opens in 2027.", "School buys riverside site", "2025-02-11")
    assert decided(asked, "Donors gave $1.4 million of the cost [1].", [site], pinned_question(asked, True))


def test_a_users_own_figure_still_pins_the_answer():
    """The user's own words are never cut, even when they end in brackets: a figure the user
    gives must still be beside the evidence."""
    from rag.prompt import pinned_question

    q = "How much did donors give? (of the $9 million)"
    assert pinned_question(q, rewritten=False) == q
    site = P("The site cost the school $8 million in all. Donors gave $1.4 million of the cost.", "School buys site")
    assert not decided(q, "Donors gave $1.4 million of the cost [1].", [site], pinned_question(q, False))


# ------------------------------------------- a possessive after the asked-about thing points back


def test_a_possessive_opening_the_subject_needs_the_conversation():
    """"Which other prize did his film win?" has a content word ("prize") before "his", so it
    was taken to stand alone and searched as asked: another film's prize answered it. The
    words before the auxiliary are what is asked about; a pronoun in the subject right after
    the auxiliary cannot point at them."""
    from rag.followups import needs_context

    assert needs_context("Which other prize did his film win?")
    assert needs_context("How many seats did her party win?")
    assert needs_context("What share of the vote did their candidate get?")
    # the subject is there: the possessive points at it
    assert not needs_context("What did the mayor say about his budget?")
    assert not needs_context("Which company raised its prices?")
    assert not needs_context("How many seats did the Green Party win in its best year?")


# ------------------------------------------------- a rewrite must resolve what pointed back


def test_a_rewrite_that_only_drops_the_pointing_word_is_not_used():
    """"Which of those villages had its order lifted?" came back from the model as "Which
    village had its order lifted?": every content word kept, nothing of the conversation
    added, so the search lost which villages, and the answer named the wrong ones. Such a
    rewrite falls back to the follow-up with the last answer beside it."""
    from rag.prompt import accept_rewrite

    history = [{"role": "user", "content": "Which villages were told to leave because of the flood?"},
               {"role": "assistant", "content": "Residents of Amberley, Coldwell and Eastry were told to leave."}]
    q = "Which of those villages had its order lifted?"
    assert accept_rewrite(q, "Which village had its order lifted?", history) == (
        f"{q} (Residents of Amberley, Coldwell and Eastry were told to leave.)")
    # a rewrite that says what "those" stood for is used
    good = "Which of the villages told to leave because of the flood had its order lifted?"
    assert accept_rewrite(q, good, history) == good


# ------------------------------------- a year the question gives must date the answer's sentence


def test_a_year_in_the_sentence_beside_the_evidence_dates_another_event():
    """"Which film won the prize in 2019?" was answered with this year's winner: the evidence
    sentence names it, and the sentence after it ("... whose first film won a prize in 2019")
    held the year, so the question's year counted as covered. A year dates the event it sits
    with; it must be in the sentences that hold the answer's facts (or the title or date)."""
    fest = P("The Quiet Field won the jury prize at the festival on Saturday. Its director's first film "
             "won the audience award in 2019.", "Festival prizes announced", "2025-09-28")
    assert not decided("Which film won the jury prize in 2019?", "The Quiet Field won the jury prize in 2019 [1].",
                       [fest])
    # the year in the evidence sentence itself: covered
    past = P("The Quiet Field won the jury prize at the festival in 2019. It was the director's first film.",
             "Festival history", "2025-09-28")
    assert decided("Which film won the jury prize in 2019?", "The Quiet Field won the jury prize in 2019 [1].",
                   [past])
    # a number that is not a year may still stand beside the evidence, as before
    club = P("The G-20 summit opened on Monday. Leaders agreed a new fund for ports.", "Summit opens")
    assert decided("What did the G-20 leaders agree?", "Leaders agreed a new fund for ports [1].", [club])


def test_a_follow_up_with_brackets_of_its_own_still_loses_only_the_aside():
    from rag.prompt import accept_rewrite, pinned_question

    history = [{"role": "user", "content": "What did the school pay for the site?"},
               {"role": "assistant", "content": "The school paid $8 million (in cash) for the site."}]
    asked = accept_rewrite("How much of that (the new wing) came from donors?", "Donors gave a lot.", history)
    assert pinned_question(asked, rewritten=True) == "How much of that (the new wing) came from donors?"


def test_a_rewrite_that_only_drops_an_opening_and_before_a_whole_question_is_used():
    """Nothing pointed back in "And where was tin trading?" but its "and": the rewrite without it
    loses nothing and need take nothing from the conversation. One that has to resolve "its"
    still must."""
    from rag.prompt import accept_rewrite

    history = [{"role": "user", "content": "What zinc forecast does the Harbour Report give?"},
               {"role": "assistant", "content": "The Harbour Report sees zinc at $2,900."}]
    assert accept_rewrite("And where was tin trading?", "Where was tin trading?", history) == "Where was tin trading?"
    lifted = accept_rewrite("So which town had its order lifted?", "Which town had its order lifted?", history)
    assert lifted != "Which town had its order lifted?"


def _vell(tmp_path, embedder):
    from rag import Assistant
    from rag.llm import ChatModel

    class Scripted(ChatModel):  # rewrites nothing: its one reply is no question
        def stream(self, messages, *, max_tokens, temperature, seed, stop=None):
            yield "Ada Vell works at the Orla Institute [1]."

        def judge(self, messages, *, seed=42):
            return 0.95

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "vell.txt").write_text("Trade Desk Changes Hands\n\nAda Vell joined the Orla Institute in 2019. "
                                     "She leads its trade desk, the institute said on Monday.\n")
    return Assistant(corpus=corpus, index_dir=tmp_path / "i", llm=Scripted(), embedder=embedder)


def test_a_question_that_names_nothing_and_gets_no_rewrite_is_bound_to_no_article(tmp_path, embedder):
    """Review 6: in a conversation, "How many homes lost power in the storm?" names nothing, so
    it was rewritten; the model's rewrite failed, and the fallback, the last answer beside it,
    was also confined to the last article, so a new subject could not be found. It keeps the
    last answer beside it (a follow-up such as "How much of the money came from the
    government?" needs it), but no article binds it; a pronoun's follow-up stays bound."""
    a = _vell(tmp_path, embedder)
    history = [{"role": "user", "content": "In the Trade Desk Changes Hands article, who leads the desk?"},
               {"role": "assistant", "content": "Ada Vell leads it."}]
    storm = a.ask("How many homes lost power in the storm?", history=history)
    assert storm.standalone_question == "How many homes lost power in the storm? (Ada Vell leads it.)"
    she = a.ask("Where does she work?", history=history)
    assert she.standalone_question.startswith("Where does she work in the Trade Desk Changes Hands article?")


def test_the_answer_beside_a_follow_up_is_never_split_off_as_a_question(tmp_path, embedder):
    """A follow-up the model could not rewrite is searched with the last answer beside it; an
    answer that holds a question of its own ("Why does it matter? The desk sets trade policy.")
    was split off as a part of the question, and answered on its own."""
    a = _vell(tmp_path, embedder)
    history = [{"role": "user", "content": "Who leads the trade desk?"},
               {"role": "assistant", "content": "Ada Vell leads it. Why does it matter? The desk sets trade policy."}]
    answer = a.ask("Where does she work?", history=history)
    assert answer.standalone_question.startswith("Where does she work? (")  # the fallback, with the aside
    assert not answer.parts and not answer.text.startswith("The articles do not answer")


def test_a_split_part_that_names_nothing_is_searched_with_the_names_before_it(tmp_path, embedder):
    """Trials 5 and 7: the later part "Who is second?" of "How big is Tom Ashdown's lead, and who
    is second?" was searched and answered on its own; it now carries the first part's names as
    context beside it, and the check still reads the part alone."""
    a = _vell(tmp_path, embedder)
    answer = a.ask("Where did Ada Vell work before 2019, and what does the desk do?")
    assert [p.standalone_question for p in answer.parts] == [None, "What does the desk do? (Ada Vell)"]
