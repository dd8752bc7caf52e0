"""The support check: does a cited passage *state* the answer to the question asked?

Scope: pure functions that score a grounded answer (see :mod:`rag.grounding`, which finds
where each claim's facts are) against the question, and the prompts for the model's own
yes/no judgement. Three signals, combined by :func:`decide`:

* **Constraint coverage.** What the question pins down (its names, its numbers and years,
  its other content words) must be in the evidence: the sentences that hold the claim's
  facts, a sentence either side, and the article's title and date. A passage about the
  same topic that names another person, year or event leaves the question's own
  constraints uncovered.
* **The model's judgement.** After answering, the model is asked whether the passages
  state that answer for exactly what was asked; p(Yes) is read from its next-token
  logits. The judgement prompt continues the answer prompt, so llama.cpp reuses the
  cached passages and the check costs a few dozen tokens.
* **A focused judgement**: the question and the answer over the evidence alone.
* **The answerable judgement** (the default): the evidence and the question, without the
  model's answer: "does the passage state the answer to this exact question?". Shown no
  answer to agree with, the model separates what the passage states from what it only
  mentions far better than when asked to confirm its own answer (README, "The support check").

Before them, the answer must be of the kind the question asks for (:mod:`rag.answer_kind`).
An answer that fails the check becomes the refusal. Nothing here knows any topic's
vocabulary; thresholds were chosen on two corpora (README, "The support check").
"""

from __future__ import annotations

from dataclasses import dataclass

from .answer_kind import answers_kind
from .chunking import word_sentences
from .dating import days_named
from .grounding import SentenceCheck, date_forms
from .llm import ChatModel
from .safety import quote
from .types import Passage
from .numbers import Quantity, quantities
from .words import content_words, found_in, names, word_stems

JUDGE_QUESTION = (
    "Check your answer against the passages. Do they state it as the answer to exactly what the "
    "question asks (the same thing, person, place, time and event), without guessing? Reply Yes or No."
)
FOCUSED_SYSTEM = "You check whether a passage states the answer to a question. Reply Yes or No."

# words of how a question is asked ("how much", "what kind"), not what it asks about
_ASKING = content_words("much many kind type sort name happen happened give given called")


@dataclass(frozen=True)
class Coverage:
    """Shares (0..1) of the question's constraints found in the evidence; 1.0 when the
    question has none of that kind."""

    names: float
    numbers: float
    words: float

    @property
    def hard(self) -> float:
        """The lower of names and numbers: one missing name or year is a different question."""
        return min(self.names, self.numbers)


@dataclass(frozen=True)
class Support:
    coverage: Coverage  # in the evidence sentences (and their neighbours, title, date)
    passage_coverage: Coverage  # in the whole cited passages
    p_yes: float | None = None  # the model's judgement, continuing the answer prompt
    p_yes_focused: float | None = None  # the model's judgement over the evidence alone
    accepted: bool = True
    p_yes_answerable: float | None = None  # the model's judgement of the question alone over the evidence
    answers_kind: bool = True  # the answer is of the kind the question asks for (rag.answer_kind)

    def to_dict(self) -> dict:
        return {"coverage": vars(self.coverage), "passage_coverage": vars(self.passage_coverage),
                "p_yes": self.p_yes, "p_yes_focused": self.p_yes_focused,
                "p_yes_answerable": self.p_yes_answerable, "answers_kind": self.answers_kind,
                "accepted": self.accepted}


def coverage(question: str, evidence: str, years_in: str | None = None) -> Coverage:
    """How much of what ``question`` pins down appears in ``evidence``; its years are looked
    for in ``years_in`` when given (:func:`evidence_of`'s sentences without neighbours)."""
    q_names = names(question)
    # a day named with its month ("the 14 March report") is a date: stated only as that day of
    # that month, in the evidence or as its passage's date, never by a bare "14" ("14 percent")
    q_days = days_named(question)
    days = {day for _, day in q_days}
    q_numbers = [q for q, _, _ in quantities(question) if q.is_year or q.percent or q.money or q.value not in days]
    q_words = content_words(question) - _ASKING - q_names
    stems = word_stems(evidence)
    ev_numbers = [q for q, _, _ in quantities(evidence)]
    ev_years = ev_numbers if years_in is None else [q for q, _, _ in quantities(years_in)]

    def share(found: int, total: int) -> float:
        return found / total if total else 1.0

    def stated(q: Quantity) -> bool:
        return any(q.value == e.value for e in (ev_years if q.is_year else ev_numbers))

    return Coverage(
        names=share(sum(found_in(n, stems) for n in q_names), len(q_names)),
        numbers=share(sum(stated(q) for q in q_numbers) + len(q_days & days_named(evidence)), len(q_numbers) + len(q_days)),
        words=share(sum(found_in(w, stems) for w in q_words), len(q_words)),
    )


# a sentence that opens by pointing back: its subject is in the sentence before
_POINTS_BACK = frozenset("it its they their them he his she her this that these those such".split())


def evidence_context(passage: Passage, start: int, end: int, neighbours: int | str = 1) -> str:
    """The evidence sentences with ``neighbours`` sentences either side, under the title and date;
    ``neighbours="own"``: the sentence before only when the first opens with a pronoun."""
    spans = word_sentences(passage.text)
    idx = [i for i, (s, e) in enumerate(spans) if e > start and s < end]
    if not idx:
        body = passage.text[start:end]
    else:
        if neighbours == "own":
            opening = passage.text[spans[idx[0]][0]:spans[idx[0]][1]].split(maxsplit=1)[:1]
            lo = max(0, idx[0] - (opening and opening[0].lower().strip("\"'“‘(") in _POINTS_BACK))
            hi = idx[-1]
        else:
            lo, hi = max(0, idx[0] - int(neighbours)), min(len(spans) - 1, idx[-1] + int(neighbours))
        body = passage.text[spans[lo][0]:spans[hi][1]]
    return f"{passage.title}\n{date_forms(passage.date)}\n{body}"


def evidence_of(checks: list[SentenceCheck], passages: list[Passage],
                neighbours: int | str = 1) -> tuple[str, str]:
    """(evidence contexts, whole cited passages) of the supported sentences, as text; each
    context with ``neighbours`` sentences either side (:func:`evidence_context`)."""
    near, whole = [], []
    for check in checks:
        if not check.supported:
            continue
        n = check.supporting[0]
        ev = check.evidence[n]
        p = passages[n - 1]
        near.append(evidence_context(p, ev.start, ev.end, neighbours))
        whole.append(f"{p.title}\n{date_forms(p.date)}\n{p.text}")
    return "\n".join(dict.fromkeys(near)), "\n".join(dict.fromkeys(whole))


def judge_messages(answer_messages: list[dict[str, str]], draft: str) -> list[dict[str, str]]:
    """The answer prompt, the model's own answer, then the yes/no question: a continuation,
    so the cached prompt is reused."""
    return [*answer_messages, {"role": "assistant", "content": draft}, {"role": "user", "content": JUDGE_QUESTION}]


def _one_line(evidence: str) -> str:
    """The evidence quoted as the judge's thresholds were measured on it: title, date and
    sentences run together, without :func:`rag.safety.join_lines`' full stops after headings
    (with them p(Yes) moved by up to 0.06 either way, which crosses a threshold at random)."""
    return quote(" ".join(evidence.split()))


def focused_messages(question: str, answer: str, evidence: str, system: str = FOCUSED_SYSTEM) -> list[dict[str, str]]:
    """The yes/no question over the evidence alone. Pass the answer prompt's ``system`` message
    to keep llama.cpp's cached system prompt for the next question."""
    user = (f"Passage:\n<<<\n{_one_line(evidence)}\n>>>\n\nQuestion: {question}\nProposed answer: {answer}\n\n"
            "Does the passage itself state this answer to this exact question? Reply Yes or No.")
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def answerable_messages(question: str, evidence: str, system: str = FOCUSED_SYSTEM) -> list[dict[str, str]]:
    """The yes/no question "does the evidence answer this question?", with no proposed answer.
    Pass the answer prompt's ``system`` message, as for :func:`focused_messages`."""
    user = (f"Passage:\n<<<\n{_one_line(evidence)}\n>>>\n\nQuestion: {question}\n\n"
            "Does the passage state the answer to this exact question? Reply Yes or No.")
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class Thresholds:
    """An answer stands when p(Yes) reaches ``judge``, or reaches ``judge_covered`` with every
    name and number of the question found beside the evidence; below ``words`` of the
    question's other words found there, it needs ``judge`` whatever else."""

    judge: float = 0.5
    judge_covered: float = 0.5
    words: float = 0.0


def numbers_stated(cov: Coverage) -> bool:
    """Every number the question gives (a year, an amount, a share) is beside the evidence.

    A number in the question pins the answer to it; evidence without it is about another year
    or another figure, however close its topic. On every recorded eval run of both gold sets
    (README, "The support check") this refused only answers to unanswerable questions, so it
    holds for any model, judged or not."""
    return cov.numbers >= 1.0


def decide(cov: Coverage, p_yes: float | None, t: Thresholds = Thresholds()) -> bool:
    if not numbers_stated(cov):
        return False
    if p_yes is None:  # no judgement available (a model without logits): coverage alone
        return cov.hard >= 1.0 and cov.words >= t.words
    if p_yes >= t.judge:
        return True
    return cov.hard >= 1.0 and cov.words >= t.words and p_yes >= t.judge_covered


def check_support(question: str, checks: list[SentenceCheck], passages: list[Passage],
                  messages: list[dict[str, str]], draft: str, llm: ChatModel, *, judge: str = "answerable",
                  thresholds: Thresholds | None = None, seed: int = 42, pinned: str | None = None,
                  context: str = "neighbours") -> Support:
    """The support check of a grounded answer: its kind, its coverage, then ``llm``'s judgement.

    ``messages`` is the answer prompt and ``draft`` the model's answer to it; ``judge`` is the
    judgement asked (``Config.judge``). ``thresholds`` None means the model's judgement was never
    measured: its p(Yes) means nothing yet, and the question's names and words refuse too many
    right answers (README), so it is not asked and only the question's numbers refuse.
    ``pinned`` is what the question pins the answer to, when that is less than ``question``
    (a follow-up searched with the last answer beside it, :func:`rag.prompt.pinned_question`):
    coverage and the answer's kind are read from it, the judgement is asked ``question``.
    ``context``: what the judgement reads around the evidence (``Config.judge_context``)."""
    pinned = pinned or question
    near, whole = evidence_of(checks, passages)
    # a year the question gives dates the event it asks about: it must be where the answer's
    # facts are, not in the sentence beside them, which may date another event
    core = evidence_of(checks, passages, neighbours=0)[0]
    cov, whole_cov = coverage(pinned, near, years_in=core), coverage(pinned, whole)
    claim = " ".join(c.text for c in checks if c.supported)
    # "how long" answered by a date, "how many" by a sentence without a number: not an answer
    if not answers_kind(pinned, claim):
        return Support(cov, whole_cov, accepted=False, answers_kind=False)  # no judgement needed
    if thresholds is None:
        return Support(cov, whole_cov, accepted=numbers_stated(cov))
    p_yes = p_focused = p_answerable = None
    system = messages[0]["content"]  # the answer's system message: llama.cpp keeps it cached for the next question
    if judge in ("continue", "both"):
        p_yes = round(llm.judge(judge_messages(messages, draft), seed=seed), 4)
    read = near if context == "neighbours" else evidence_of(checks, passages, neighbours="own")[0]
    if judge in ("focused", "both"):
        p_focused = round(llm.judge(focused_messages(question, claim, read, system), seed=seed), 4)
    if judge == "answerable":
        p_answerable = round(llm.judge(answerable_messages(question, read, system), seed=seed), 4)
    score = {"focused": p_focused, "answerable": p_answerable}.get(judge, p_yes)
    return Support(cov, whole_cov, p_yes, p_focused, decide(cov, score, thresholds), p_answerable)


__all__ = ["Coverage", "Support", "Thresholds", "answerable_messages", "check_support", "coverage", "decide",
           "evidence_context", "evidence_of", "focused_messages", "judge_messages", "numbers_stated"]
