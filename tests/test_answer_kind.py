"""A question that fixes the kind of its answer (rag.answer_kind), on examples written for these tests."""

from pathlib import Path

import pytest

from rag.answer_kind import AMOUNT, COUNT, SPAN, answers_kind, asked_kind
from rag.llm import ChatModel


def test_the_questions_shape_fixes_the_kind_of_answer():
    assert asked_kind("How many ferries cross the strait each day?") == COUNT  # an amount that is a count
    assert asked_kind("How much did the toll rise?") == AMOUNT
    assert asked_kind("How deep is the harbour at low tide?") == AMOUNT
    assert asked_kind("What is the length of the Orla tunnel?") == AMOUNT
    assert asked_kind("How long did the strike last?") == SPAN
    assert asked_kind("How many weeks did the repairs take?") == SPAN
    # a question of any other shape asks for no particular kind
    assert asked_kind("How many times did the mayor visit?") == COUNT
    assert asked_kind("Who opened the tunnel?") is None
    assert asked_kind("What is the tunnel called?") is None
    assert asked_kind("When did the strike end?") is None
    # a degree, not an amount: "how big a role", "how much of a threat"
    assert asked_kind("How big a role did the union play?") is None
    assert asked_kind("How much of a threat is the strike to exports?") is None


def test_an_amount_needs_a_number_in_digits_or_words():
    assert answers_kind("How many ferries cross each day?", "Twelve ferries cross each day [1].")
    assert answers_kind("How many ferries cross each day?", "About 1,200 a week [2].")
    assert answers_kind("How much did the toll rise?", "The toll doubled [1].")
    # the citation marker is no number
    assert not answers_kind("How many ferries cross each day?", "Ferries cross the strait daily [1].")
    assert not answers_kind("How deep is the harbour?", "The harbour was dredged so it can take larger ships [3].")


def test_a_span_needs_a_number_with_a_unit_of_time_or_length_and_a_date_is_none():
    assert answers_kind("How long did the strike last?", "The strike lasted three weeks [1].")
    assert answers_kind("How long is the Orla tunnel?", "It runs for 14.5 km under the bay [1].")
    assert answers_kind("How long have ferries crossed here?", "Ferries have crossed here for centuries [2].")
    assert answers_kind("How many years did the repairs take?", "The repairs took 4 years [1].")
    # a date answers "when", a count of something else answers "how many", neither answers "how long"
    assert not answers_kind("How many years did the repairs take?", "The repairs ended about 300 years ago [1].")
    assert not answers_kind("How long have ferries crossed here?", "Ferries have made some 80 crossings here [1].")
    assert not answers_kind("How long did the strike last?", "The strike ended in 1998 [1].")
    # unless the question asks how long ago
    assert answers_kind("How long ago did the strike end?", "It ended about 30 years ago [1].")


def test_a_wh_word_before_a_measure_asks_for_an_amount():
    """"what share of", "at what temperature", "what interest rate": a measure after the wh-word."""
    for q in ("What share of the vote did Ana Ruiz win?", "At what temperature does the Lunde kiln fire?",
              "What interest rate did the Harrow Building Society set?", "What price did the Lunde kiln fetch?",
              "What fine did the regulator propose for the Tessel dairy?"):
        assert asked_kind(q) == AMOUNT, q
    assert answers_kind("What share of the vote did Ana Ruiz win?", "Ana Ruiz won 54% of the vote [1].")
    assert answers_kind("What share of the estate went to her son?", "Half of it went to her son [1].")
    assert not answers_kind("What share of the vote did Ana Ruiz win?", "Ana Ruiz won a clear majority [1].")
    assert not answers_kind("What price did the Lunde kiln fetch?", "The kiln fetched a record price at the sale [2].")
    # a measure that is not what is asked for: "what" asks about something else
    assert asked_kind("What did the shareholders vote for?") is None
    assert asked_kind("Which firm lowered its prices first?") is None
    # review 6: the measure names a thing ("budget airline", "share class") or "which" picks among them
    for q in ("Which budget airline cut its fares?", "Which share class did the fund launch?", "Which prices rose most?"):
        assert asked_kind(q) is None, q


def test_other_questions_pass_whatever_the_answer():
    assert answers_kind("Who opened the tunnel?", "Mayor Dupont opened it [1].")
    assert answers_kind("When did the strike end?", "It ended in spring [1].")


class ScriptedModel(ChatModel):
    def __init__(self, reply: str):
        self.reply, self.judged = reply, []

    def stream(self, messages, *, max_tokens, temperature, seed, stop=None):
        yield self.reply

    def judge(self, messages, *, seed=42):
        self.judged.append(messages)
        return 0.95


@pytest.mark.integration
def test_an_answer_of_the_wrong_kind_is_refused_however_well_its_passage_backs_it(tmp_path: Path, embedder):
    from rag import Assistant

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "dock.txt").write_text("Orla Dock Reopens\n\nThe Orla dock was first built about 300 years ago. "
                                     "Repairs to its sea wall began in 2019 and ended in 2023.\n")
    dated = ScriptedModel("The Orla dock was built about 300 years ago [1].")
    a = Assistant(corpus=corpus, index_dir=tmp_path / "i", llm=dated, embedder=embedder, judge_threshold=0.5)
    answer = a.ask("How many years did the repairs to the Orla dock take?")
    assert answer.refused and answer.citations == []
    assert answer.support is not None and not answer.support.answers_kind and dated.judged == []
    # the same passage, the same judgement, an answer of the asked kind: it stands
    span = ScriptedModel("Repairs to the Orla dock's sea wall took four years, from 2019 to 2023 [1].")
    b = Assistant(corpus=corpus, index_dir=tmp_path / "i", llm=span, embedder=embedder, judge_threshold=0.5)
    ok = b.ask("How many years did the repairs to the Orla dock take?")
    assert not ok.refused and ok.citations and ok.support.answers_kind
