"""A refusal says why: the model found nothing, the answer's facts are not in the passages, the
answer is not of the kind asked, the question's figure is not where the facts are, or the
passages do not state the answer (the judgement). The reader also gets the passages to read.
Passages and questions written for these tests."""

from __future__ import annotations

from click.testing import CliRunner

from rag.checking import check_draft
from rag.config import Config
from rag.llm import ChatModel
from rag.types import REFUSAL_REASONS, Answer, Passage, merge_answers

DOCK = Passage("dock.txt:0", "dock.txt", "Orla Dock Reopens", "2024-05-02",
               "The Orla dock was first built about 300 years ago. Repairs to its sea wall began in 2019 "
               "and ended in 2023, costing $4 million.", 0, 120, 0.8, 1)


class Judge(ChatModel):
    """A model whose judgement is a fixed p(Yes); it never writes (the draft is given)."""

    name = spec_name = "qwen2.5-1.5b"  # a model whose judgement thresholds are measured

    def __init__(self, p_yes: float):
        self.p_yes = p_yes

    def stream(self, messages, *, max_tokens, temperature, seed, stop=None):
        yield ""

    def judge(self, messages, *, seed=42):
        return self.p_yes


def reason(draft: str, question: str, p_yes: float = 0.95) -> str:
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": question}]
    checked = check_draft(draft, [DOCK], question, messages, Judge(p_yes), Config())
    assert checked.refused == bool(checked.refusal), checked
    return checked.refusal


def test_each_way_an_answer_is_refused_names_its_reason():
    q = "What did the repairs to the Orla dock cost?"
    assert reason("The repairs to the Orla dock cost $4 million [1].", q) == ""  # an answer: no reason
    assert reason("The articles do not say.", q) == "model"
    assert reason("The repairs to the Orla dock cost $9 million [1].", q) == "unbacked"
    assert reason("The repairs to the Orla dock cost $4 million [1].", q, p_yes=0.05) == "judgement"
    # a question's year that is not where the answer's facts are
    assert reason("The repairs to the Orla dock cost $4 million [1].",
                  "What did the 2017 repairs to the Orla dock cost?") == "figures"
    # "how many years" answered with how long ago
    assert reason("The Orla dock was built about 300 years ago [1].",
                  "How many years did the repairs to the Orla dock take?") == "kind"
    assert set(REFUSAL_REASONS) >= {"model", "unbacked", "judgement", "figures", "kind", "nothing close"}


def test_the_reason_reaches_the_answer_its_dict_and_a_merged_answer():
    refused = Answer("q1", "The articles do not say.", [], [DOCK], refused=True, refusal="judgement")
    assert refused.why_refused == REFUSAL_REASONS["judgement"]
    assert refused.to_dict()["refusal"] == "judgement" and refused.to_dict()["why_refused"]
    answered = Answer("q2", "It cost $4 million [1].", [], [DOCK], refused=False)
    assert answered.why_refused == "" and answered.to_dict()["refusal"] == ""
    assert merge_answers("q1 and q2", None, [refused, refused], 1.0).refusal == "judgement"
    assert merge_answers("q1 and q2", None, [refused, answered], 1.0).refusal == ""  # one part answered


def test_the_terminal_and_the_chat_say_why_and_where_to_look(monkeypatch):
    import rag.cli as c
    from ui.render import render_answer

    refused = Answer("When was the dock built?", "The articles do not say.", [], [DOCK], refused=True,
                     refusal="judgement")

    class Fake:
        def stream(self, question, history=None):
            yield refused

    monkeypatch.setattr(c, "_assistant", lambda *a, **k: Fake())
    out = CliRunner().invoke(c.cli, ["ask", "When was the dock built?"]).output
    assert REFUSAL_REASONS["judgement"] in out
    assert "Orla Dock Reopens, 2024-05-02 — dock.txt" in out  # the passage shown, to read for oneself
    html = render_answer(refused, 1)
    assert "Why:" in html and "exact question" in html


def test_an_eval_run_counts_refusals_by_reason():
    from rag.eval_cli import summary_table
    from rag.evals.gold import GoldItem
    from rag.evals.scoring import score_answer, summarize

    answerable = GoldItem(id="a", type="fact", question="What did the repairs cost?", answer="$4 million",
                          must=(("4 million",),), sources=("dock.txt",))
    unanswerable = GoldItem(id="u", type="unanswerable", question="Who repaired it?", answer="", must=(), sources=())
    results = [score_answer(answerable, Answer("q", "The articles do not say.", [], [DOCK], True, refusal="judgement")),
               score_answer(unanswerable, Answer("q", "The articles do not say.", [], [DOCK], True, refusal="model"))]
    assert results[0].refusal == "judgement" and results[0].verdict == "false_refusal"
    overall = summarize(results)["overall"]
    assert overall["false_refusals_by_reason"] == {"judgement": 1} and overall["refusals_by_reason"] == {"model": 1}
    table = summary_table(summarize(results), {"model": "m", "k": 4})
    assert "false refusals by reason: judgement 1" in table and "unanswerable refused by reason: model 1" in table


def test_without_a_judgement_the_coverage_is_named():
    """Review 5: with the judgement off, a refusal by the question's names was said to be "the
    model's own reading"."""
    q = "What did the Corran repairs to the Orla dock cost?"  # a name the passage does not hold
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": q}]
    checked = check_draft("The repairs to the Orla dock cost $4 million [1].", [DOCK], q, messages, Judge(0.95),
                          Config(judge="off"))
    assert checked.refused and checked.refusal == "coverage"


def _checked(draft: str, question: str, p_yes: float = 0.95):
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": question}]
    return check_draft(draft, [DOCK], question, messages, Judge(p_yes), Config())


def test_a_reply_that_refuses_one_part_keeps_the_part_it_answers_once_checked():
    q = "Who designed the Orla dock, and what did the repairs to its sea wall cost?"
    checked = _checked("The articles do not say who designed the Orla dock. The repairs to the sea wall cost $4 million.", q)
    assert not checked.refused and checked.refusal == ""
    assert checked.text.startswith("The articles do not say who designed the Orla dock.")
    assert "$4 million" in checked.text and [c.marker for c in checked.citations] == [1]


def test_what_follows_a_refusal_is_never_shown_unchecked():
    q = "Who designed the Orla dock, and what did the repairs to its sea wall cost?"
    for draft in ("The articles do not say who designed the Orla dock. The repairs cost $9 million.",  # unbacked
                  "The articles do not say who designed it. The passages only mention the repairs [1]."):  # about the articles
        checked = _checked(draft, q)
        assert checked.refused and checked.refusal == "model" and checked.citations == []
        assert checked.text in ("The articles do not say who designed the Orla dock.", "The articles do not say who designed it.")
    rejected = _checked("The articles do not say who designed the Orla dock. The repairs cost $4 million.", q, p_yes=0.05)
    assert rejected.refused and "$4 million" not in rejected.text
