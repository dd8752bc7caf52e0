"""The support check, evidence selection and multi-part merging, on examples written for these tests."""

import dataclasses
import re
from pathlib import Path

import pytest

from rag.evidence import select_sentences, trim_passages
from rag.grounding import check_answer
from rag.llm import ChatModel
from rag.support import Coverage, Thresholds, coverage, decide, evidence_of, judge_messages
from rag.types import Answer, Citation, Passage, merge_answers


def P(text: str, source: str = "a.txt", n: int = 0, title: str = "Title", date: str | None = None) -> Passage:
    return Passage(f"{source}:{n}", source, title, date, text, 0, len(text), 0.5, n + 1)


HARLOW = P("Harlow Dynamics posted revenue of $3.1 billion in 2019. The firm moved offices twice. "
           "Its logo changed in spring. Vexa Corp hired 200 engineers in Ohio.", "h.txt")


def test_coverage_finds_the_questions_names_and_numbers_beside_the_evidence():
    checks = check_answer("Revenue was $3.1 billion [1].", [HARLOW], "What revenue did Harlow Dynamics post in 2019?")
    near, whole = evidence_of(checks, [HARLOW])
    cov = coverage("What revenue did Harlow Dynamics post in 2019?", near)
    assert cov.names == 1.0 and cov.numbers == 1.0 and cov.hard == 1.0
    # the same answer to a question about another company, or another year, leaves it uncovered
    assert coverage("What revenue did Vexa Corp post in 2019?", near).names == 0.0
    assert coverage("What revenue did Harlow Dynamics post in 2021?", near).numbers == 0.0
    # the whole passage does name Vexa Corp: only the evidence's neighbourhood counts
    assert coverage("What revenue did Vexa Corp post?", whole).names == 1.0


def test_coverage_counts_the_title_and_date():
    dated = P("Revenue rose to $4 million.", "d.txt", title="Quillon Farms annual report", date="2031-04-09")
    checks = check_answer("Revenue rose to $4 million [1].", [dated], "What was Quillon's revenue in April 2031?")
    near, _ = evidence_of(checks, [dated])
    cov = coverage("What was Quillon's revenue in April 2031?", near)
    assert cov.names == 1.0 and cov.numbers == 1.0


def test_coverage_matches_whole_words_and_adjective_endings():
    assert coverage("What did Norland export?", "Norlandian ports shipped grain.").names == 1.0
    assert coverage("What did Norland export?", "Norlandy ports shipped grain.").names == 0.0
    assert coverage("Who runs Paris?", "Parisian cafés reopened.").names == 0.0


def test_coverage_finds_a_hyphenated_name_by_its_parts():
    # "Kenya-Uganda" asks about both countries; evidence naming each of them covers it
    cov = coverage("When did the Kenya-Uganda rail talks end?", "Kenyan and Ugandan ministers ended the rail talks in May.")
    assert cov.names == 1.0
    assert coverage("When did the Kenya-Uganda rail talks end?", "Kenyan ministers ended the rail talks in May.").names == 0.0
    assert coverage("Which Kenyan ministers spoke?", "The Kenya-Uganda rail talks ended.").names == 1.0


def test_decide_combines_judgement_and_coverage():
    covered, uncovered = Coverage(1.0, 1.0, 0.8), Coverage(0.0, 1.0, 0.8)
    t = Thresholds(judge=0.8, judge_covered=0.4, words=0.5)
    assert decide(uncovered, 0.9, t)  # a confident judgement stands alone
    assert not decide(uncovered, 0.6, t)  # a middling one needs the question's names beside the evidence
    assert decide(covered, 0.6, t)
    assert not decide(covered, 0.3, t)
    assert not decide(Coverage(1.0, 1.0, 0.2), 0.6, t)  # too few of the question's words
    assert decide(covered, None, t) and not decide(uncovered, None, t)  # no judgement: coverage alone


def test_judge_continues_the_answer_prompt():
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "passages and question"}]
    judged = judge_messages(messages, "Revenue was $3.1 billion [1].")
    assert judged[:2] == messages and judged[2] == {"role": "assistant", "content": "Revenue was $3.1 billion [1]."}
    assert judged[3]["role"] == "user" and "Yes or No" in judged[3]["content"]


def test_select_sentences_keeps_the_best_sentences_of_all_passages_within_one_budget():
    text = ("The weather was mild. Crowds were thin on Monday. The Kestrel Bridge toll will be 3 euros from May. "
            "Officials expect 9,000 crossings a day. The mayor attended a parade.")
    long = Passage("b:0", "b.txt", "Bridge", None, text, 100, 100 + len(text), 0.6, 1)
    other = Passage("c:0", "c.txt", "Ferry", None, "Ferries sail hourly. The ferry toll is 2 euros.", 0, 47, 0.4, 2)
    count = lambda s: len(s.split())  # noqa: E731
    cut = select_sentences("What will the Kestrel Bridge toll be?", [long, other], count, budget=10)
    assert [p.text for p in cut] == ["The Kestrel Bridge toll will be 3 euros from May."]
    # with room to spare, the next best sentences of every passage fill it
    cut = select_sentences("What will the Kestrel Bridge toll be?", [long, other], count, budget=30,
                           similarity=lambda ss: [0.5 if "toll" in s else 0.0 for s in ss])
    assert sum(count(p.text) for p in cut) <= 30
    assert any("Crowds were thin on Monday. The Kestrel Bridge toll will be 3 euros" in p.text for p in cut)
    assert any(p.text == "The ferry toll is 2 euros." for p in cut)
    for p in cut:  # every cut passage is an exact slice of its source, in retrieval order
        source = text if p.source == "b.txt" else other.text
        offset = 100 if p.source == "b.txt" else 0
        assert source[p.start - offset:p.end - offset] == p.text
    assert [p.source for p in cut] == sorted(p.source for p in cut)
    assert select_sentences("toll?", [long], count, budget=0) == [long]


def test_trim_passages_keeps_the_stretch_from_the_first_to_the_last_sentence_on_the_question():
    text = ("Crowds were thin on Monday. The Kestrel Bridge toll will be 3 euros. It opens in May. "
            "Officials expect the Kestrel Bridge to carry 9,000 cars. The mayor attended a parade.")
    bridge = Passage("b:0", "b.txt", "Bridge", None, text, 100, 100 + len(text), 0.6, 1)
    ferry = Passage("c:0", "c.txt", "Ferry", None, "Ferries sail hourly. Tickets are sold aboard.", 0, 45, 0.4, 2)
    cut = trim_passages("How many cars will the Kestrel Bridge carry, and what is its toll?", [bridge, ferry], 0.3)
    # "It opens in May" shares no word with the question but sits between two sentences that do
    # the sentence after the stretch opens with "The", which may point back, so it comes too: the
    # rule cannot tell "The mayor" (new) from "The bridge" (named before), and errs on showing more
    assert cut[0].text == ("The Kestrel Bridge toll will be 3 euros. It opens in May. "
                           "Officials expect the Kestrel Bridge to carry 9,000 cars. The mayor attended a parade.")
    assert text[cut[0].start - 100:cut[0].end - 100] == cut[0].text  # an exact slice of its source
    # a passage with no sentence on the question keeps its best one (here the first of two ties)
    assert cut[1].text == "Ferries sail hourly." and cut[1].start == 0 and cut[1].end == 20
    # the embedding similarity counts beside the shared words
    near = trim_passages("What does a crossing cost?", [bridge], 0.5,
                         similarity=lambda ss: [0.6 if "euros" in s else 0.0 for s in ss])
    # ... and the sentence after the stretch comes with it when it refers back to it ("It ...")
    assert near[0].text == "The Kestrel Bridge toll will be 3 euros. It opens in May."
    assert trim_passages("toll?", [bridge, ferry], 0) == [bridge, ferry]
    # two overlapping chunks of one article cut to the same sentence: it is shown once
    later = Passage("b:1", "b.txt", "Bridge", None, text[28:], 128, 100 + len(text), 0.5, 2)
    twice = trim_passages("What will the toll be?", [bridge, later], 0.5)
    assert [p.chunk_id for p in twice] == ["b:0"]
    assert twice[0].text == "The Kestrel Bridge toll will be 3 euros. It opens in May."


def test_trim_passages_keeps_the_next_sentence_only_when_it_refers_back():
    # the answer to "who leads the pact" is in the sentence after the one that names the pact
    text = ("Rain fell all week. The towns announced the Harbour Water Pact on Friday. "
            "The pact, led by Orwen and Tasly, pools three reservoirs. Orwen also opened a library.")
    p = Passage("w:0", "w.txt", "Water", None, text, 0, len(text), 0.7, 1)
    cut = trim_passages("Which towns lead the Harbour Water Pact?", [p], 0.5)
    assert cut[0].text == ("The towns announced the Harbour Water Pact on Friday. "
                           "The pact, led by Orwen and Tasly, pools three reservoirs.")
    # a next sentence that opens with a name starts a new subject: not kept
    other = text.replace("The pact, led by Orwen and Tasly, pools", "Orwen and Tasly pool")
    q = Passage("w:0", "w.txt", "Water", None, other, 0, len(other), 0.7, 1)
    assert trim_passages("Which towns announced the Harbour Water Pact?", [q], 0.5)[0].text == (
        "The towns announced the Harbour Water Pact on Friday.")


def test_select_sentences_shows_a_sentence_once_when_chunks_overlap():
    first = Passage("d:0", "d.txt", "T", None, "Rates rose in June. Banks lent less.", 0, 36, 0.5, 1)
    second = Passage("d:1", "d.txt", "T", None, "Banks lent less. Savers gained.", 20, 51, 0.5, 2)
    count = lambda s: len(s.split())  # noqa: E731
    cut = select_sentences("Did banks lend less as rates rose?", [first, second], count, budget=100)
    assert " ".join(p.text for p in cut).count("Banks lent less.") == 1


def _answer(question: str, text: str, passages: list[Passage], refused: bool = False) -> Answer:
    cites = [Citation(int(m), passages[int(m) - 1]) for m in __import__("re").findall(r"\[(\d+)\]", text)]
    return Answer(question=question, text=text, citations=cites, passages=passages, refused=refused)


def test_merge_answers_renumbers_citations_and_keeps_refused_parts_visible():
    a = _answer("What is the toll?", "The toll is 3 euros [2].", [P("x", "x.txt"), P("The toll is 3 euros.", "t.txt")])
    b = _answer("When does it open?", "It opens in May [1].", [P("It opens in May.", "o.txt")])
    merged = merge_answers("What is the toll, and when does it open?", None, [a, b], 1.0)
    assert merged.text == "The toll is 3 euros [2]. It opens in May [3]."
    assert [c.marker for c in merged.citations] == [2, 3]
    assert merged.citations[1].passage.source == "o.txt" and merged.passages[2].source == "o.txt"
    assert not merged.refused
    no = _answer("When does it open?", "The articles do not say.", [P("Other.", "o.txt")], refused=True)
    half = merge_answers("q", None, [a, no], 1.0)
    assert not half.refused and "do not answer “When does it open?”" in half.text
    assert merge_answers("q", None, [no, no], 1.0).refused


def test_merge_answers_lists_a_passage_shared_by_two_parts_once_and_keeps_each_parts_check():
    from types import SimpleNamespace

    from rag.evals.gold import GoldItem
    from rag.evals.scoring import score_answer

    shared = P("The toll is 3 euros. The bridge opens in May.", "b.txt")
    other = P("Tolls rose across the region.", "r.txt")
    a = _answer("What is the toll?", "The toll is 3 euros [2].", [other, shared])
    b = _answer("When does it open?", "It opens in May [1].", [shared])
    checked = SimpleNamespace(to_dict=lambda: {"accepted": True, "p_yes_answerable": 0.9})
    a = dataclasses.replace(a, support=checked)
    merged = merge_answers("What is the toll, and when does it open?", None, [a, b], 1.0)
    assert [p.source for p in merged.passages] == ["r.txt", "b.txt"]  # b.txt once, not twice
    assert merged.text == "The toll is 3 euros [2]. It opens in May [2]."
    assert [(c.marker, c.passage.source) for c in merged.citations] == [(2, "b.txt")]
    assert merged.parts == (a, b) and [p["question"] for p in merged.to_dict()["parts"]] == [a.question, b.question]
    item = GoldItem(id="m1", type="multi", question=merged.question, answer="3 euros; May",
                    must=((re.compile("3 euros", re.I),), (re.compile("May", re.I),)), sources=("b.txt",))
    result = score_answer(item, merged, 4)
    assert result.part_supports == ({"accepted": True, "p_yes_answerable": 0.9}, None)
    assert result.support is None and result.n_citations == 1


class ScriptedModel(ChatModel):
    """Answers every question with one scripted reply and judges it with a fixed p(Yes)."""

    def __init__(self, reply: str, p_yes: float):
        self.reply, self.p_yes, self.judged = reply, p_yes, []

    def stream(self, messages, *, max_tokens, temperature, seed, stop=None):
        yield self.reply

    def judge(self, messages, *, seed=42):
        self.judged.append(messages)
        return self.p_yes


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "harlow.txt").write_text(
        "Harlow Dynamics Posts Record Year\n\nHarlow Dynamics posted revenue of $3.1 billion in 2019, "
        "the company said on Tuesday. Its chief executive, Mara Quint, called the year a turning point.\n")
    (corpus / "vexa.txt").write_text(
        "Vexa Corp Expands in Ohio\n\nVexa Corp hired 200 engineers in Ohio this spring and plans a second plant.\n")
    return corpus


@pytest.mark.integration
def test_an_answer_the_model_judges_unsupported_becomes_the_refusal(tiny_corpus, tmp_path, embedder):
    from rag import Assistant

    question = "What revenue did Vexa Corp post in 2019?"  # the corpus gives Harlow's revenue, not Vexa's
    wrong = ScriptedModel("Vexa Corp posted revenue of $3.1 billion [1].", p_yes=0.3)
    a = Assistant(corpus=tiny_corpus, index_dir=tmp_path / "i", llm=wrong, embedder=embedder,
                  judge_threshold=0.8, judge_covered_threshold=0.2)
    answer = a.ask(question)
    assert answer.refused and answer.citations == [] and wrong.judged
    assert answer.support is not None and not answer.support.accepted and answer.support.coverage.names < 1.0
    # the same judgement over an answer whose question is covered by its evidence stands
    right = ScriptedModel("Harlow Dynamics posted revenue of $3.1 billion [1].", p_yes=0.3)
    b = Assistant(corpus=tiny_corpus, index_dir=tmp_path / "i", llm=right, embedder=embedder,
                  judge_threshold=0.8, judge_covered_threshold=0.2)
    ok = b.ask("What revenue did Harlow Dynamics post in 2019?")
    assert not ok.refused and ok.citations and ok.citations[0].passage.source == "harlow.txt"
    assert ok.support.accepted and ok.support.coverage.hard == 1.0


def test_decide_refuses_evidence_without_the_questions_numbers_whatever_the_judgement():
    no_year = Coverage(names=1.0, numbers=0.0, words=1.0)
    assert not decide(no_year, 0.99, Thresholds(judge=0.5, judge_covered=0.5))
    assert not decide(no_year, None)
    assert decide(Coverage(1.0, 1.0, 1.0), 0.99, Thresholds(judge=0.5, judge_covered=0.5))


@pytest.mark.integration
def test_an_answer_from_another_year_is_refused_even_by_an_unjudged_model(tiny_corpus, tmp_path, embedder):
    from rag import Assistant

    # no judge thresholds: the judgement refuses nothing, the question's numbers still must be stated
    model = ScriptedModel("Harlow Dynamics posted revenue of $3.1 billion [1].", p_yes=0.99)
    a = Assistant(corpus=tiny_corpus, index_dir=tmp_path / "i", llm=model, embedder=embedder)
    other_year = a.ask("What revenue did Harlow Dynamics post in 2021?")
    assert other_year.refused and other_year.citations == [] and other_year.support.coverage.numbers == 0.0
    asked_year = a.ask("What revenue did Harlow Dynamics post in 2019?")
    assert not asked_year.refused and asked_year.citations[0].passage.source == "harlow.txt"
    assert model.judged == []  # no measured thresholds: no judgement prompt either


def test_focused_judgement_keeps_the_answer_prompts_system_message():
    from rag.support import FOCUSED_SYSTEM, focused_messages

    msgs = focused_messages("Who won?", "Ada won [1].", "Ada won the race.", system="the answer prompt's system")
    assert msgs[0] == {"role": "system", "content": "the answer prompt's system"}
    assert "Ada won the race." in msgs[1]["content"] and "Who won?" in msgs[1]["content"]
    assert focused_messages("q", "a", "e")[0]["content"] == FOCUSED_SYSTEM


def test_an_unknown_judge_setting_is_an_error_naming_it():
    from rag.config import Config
    from rag.errors import RagError

    with pytest.raises(RagError, match="judge='maybe'"):
        Config(judge="maybe")


def test_answerable_judgement_shows_the_question_and_evidence_but_not_the_answer():
    from rag.support import FOCUSED_SYSTEM, answerable_messages

    msgs = answerable_messages("Who founded Kestrel Mills?", "Kestrel Mills was sold in 1990.", system="answer system")
    assert msgs[0] == {"role": "system", "content": "answer system"}
    user = msgs[1]["content"]
    assert "Kestrel Mills was sold in 1990." in user and "Question: Who founded Kestrel Mills?" in user
    assert "answer:" not in user.lower() and "Yes or No" in user
    assert answerable_messages("q", "e")[0]["content"] == FOCUSED_SYSTEM


@pytest.mark.integration
@pytest.mark.parametrize("p_yes, refused", [(0.2, True), (0.9, False)])
def test_the_default_model_refuses_what_its_answerable_judgement_rejects(tiny_corpus, tmp_path, embedder, p_yes, refused):
    from rag import Assistant
    from rag.config import Config

    assert Config().judge == "answerable"
    model = ScriptedModel("Harlow Dynamics posted revenue of $3.1 billion [1].", p_yes=p_yes)
    model.spec_name = Config().model  # the default model's measured thresholds apply
    a = Assistant(corpus=tiny_corpus, index_dir=tmp_path / "i", llm=model, embedder=embedder)
    answer = a.ask("What revenue did Harlow Dynamics post in 2019?")
    assert answer.refused is refused and bool(answer.citations) is not refused
    assert answer.support.p_yes_answerable == p_yes and answer.support.p_yes_focused is None
    judged = model.judged[-1][1]["content"]  # the evidence and the question, never the answer
    assert "Harlow Dynamics posted revenue" in judged and "Proposed answer" not in judged


def test_the_judgement_reads_its_evidence_run_together_as_its_thresholds_were_measured():
    from rag.support import answerable_messages, focused_messages

    evidence = "Mill Notes\n2031-04-02\nKestrel Mills reopened."
    for msgs in (answerable_messages("When did Kestrel Mills reopen?", evidence),
                 focused_messages("When did Kestrel Mills reopen?", "In April.", evidence)):
        assert "Mill Notes 2031-04-02 Kestrel Mills reopened." in msgs[1]["content"]  # no full stops added
