"""Scoring: key facts, verdicts, citations, retrieval ranks and the summaries of a run."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Iterable, Mapping, Sequence

from rag.citations import is_refusal, strip_markers
from rag.types import Answer, Passage
from rag.words import DASHES

from .gold import ANSWERABLE_TYPES, EVIDENCE_MIN_OVERLAP, QUESTION_TYPES, VERDICTS, GoldItem, Pattern, _compile

# --------------------------------------------------------------------------- matching

def _norm(text: str) -> str:
    # a model writes "11-13th" where the gold (and the article) has "11–13th": the same answer
    return unicodedata.normalize("NFKC", text or "").translate(DASHES)


def _as_patterns(must: Iterable[Iterable[Pattern | str]]) -> list[list[Pattern]]:
    return [[p if isinstance(p, re.Pattern) else _compile(p) for p in group] for group in must]


def holds_facts(text: str, must: Iterable[Iterable[Pattern | str]]) -> bool:
    """True when every group has an alternative found in ``text`` (vacuously true for no groups)."""
    text = _norm(text)
    return all(any(p.search(text) for p in group) for group in _as_patterns(must))


def holds_any_fact(text: str, must: Iterable[Iterable[Pattern | str]]) -> bool:
    """True when at least one alternative of at least one group is found in ``text``."""
    text = _norm(text)
    return any(p.search(text) for group in _as_patterns(must) for p in group)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", _norm(text)).strip().casefold()


def evidence_found(evidence: str, passage_text: str, min_overlap: float = EVIDENCE_MIN_OVERLAP) -> bool:
    """Longest common substring of the squashed texts covers ``min_overlap`` of the evidence."""
    ev, text = _squash(evidence), _squash(passage_text)
    if not ev or not text:
        return False
    if ev in text:
        return True
    match = SequenceMatcher(None, ev, text, autojunk=False).find_longest_match(0, len(ev), 0, len(text))
    return match.size >= min_overlap * len(ev)


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class RetrievalScore:
    k: int
    retrieved_sources: tuple[str, ...]  # source of each retrieved passage, in order
    source_rank: int | None  # first passage from a gold source, 1-based
    source_recall: float | None  # share of gold sources in the top k; None without gold sources
    evidence_rank: int | None  # first passage holding the evidence, 1-based


def score_retrieval(item: GoldItem, passages: Sequence[Passage], k: int | None = None) -> RetrievalScore:
    """Ranks of the first gold-source passage and of the evidence among the top ``k`` chunks.

    Passages are placed by chunk: the sentences shown of one retrieved chunk (rag.evidence)
    are cut into pieces that share its ``chunk_id``, and they share its place, so "top k"
    means "from the first k chunks" however many pieces they were cut into.
    """
    places: dict[str, int] = {}
    placed = [(places.setdefault(p.chunk_id, len(places) + 1), p) for p in passages]
    k = len(places) if k is None else k
    top = [(r, p) for r, p in placed if r <= k]
    sources = tuple(p.source for _, p in top)
    gold = set(item.sources)
    source_rank = next((r for r, p in top if p.source in gold), None)
    recall = len(gold & set(sources)) / len(gold) if gold else None
    evidence_rank = None
    if item.evidence:
        evidence_rank = next((r for r, p in top if evidence_found(item.evidence, p.text)), None)
    return RetrievalScore(k=k, retrieved_sources=sources, source_rank=source_rank,
                          source_recall=recall, evidence_rank=evidence_rank)


@dataclass(frozen=True)
class QuestionResult:
    id: str
    type: str
    question: str
    verdict: str  # one of VERDICTS
    answer: str = ""
    refused: bool = False
    gold_sources: tuple[str, ...] = ()
    cited_sources: tuple[str, ...] = ()  # distinct, in marker order
    n_citations: int = 0  # distinct markers
    n_supporting: int = 0  # of those, citations that support (see module doc)
    k: int = 0
    retrieved_sources: tuple[str, ...] = ()
    source_rank: int | None = None
    source_recall: float | None = None
    evidence_rank: int | None = None
    has_evidence: bool = False
    retrieval_s: float = 0.0
    first_token_s: float = 0.0
    total_s: float = 0.0
    check_s: float = 0.0  # of total_s, the citation and support checks after generation
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    standalone_question: str | None = None
    low_confidence: bool = False
    error: str | None = None
    draft: str = ""  # the model's own text when the citation check changed it
    support: dict | None = None  # the support check's signals (rag.support.Support.to_dict())
    # a multi-part answer: each part's support check (None for a part refused before the check)
    part_supports: tuple[dict | None, ...] = ()
    # refused by the check, not by the model: whether the model's own text held the gold facts
    refused_right_draft: bool | None = None
    refusal: str = ""  # why the answer is a refusal (rag.types.REFUSAL_REASONS); "" when it is not one

    @property
    def answerable(self) -> bool:
        return self.type in ANSWERABLE_TYPES

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "QuestionResult":
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names}
        return cls(**values)


def _retrieval_fields(item: GoldItem, passages: Sequence[Passage], k: int | None) -> dict[str, Any]:
    r = score_retrieval(item, passages, k)
    return {"k": r.k, "retrieved_sources": r.retrieved_sources, "source_rank": r.source_rank,
            "source_recall": r.source_recall, "evidence_rank": r.evidence_rank}


def _changed_draft(answer: Answer) -> str:
    draft = answer.draft
    return draft if strip_markers(draft) != strip_markers(answer.text) else ""


def score_answer(item: GoldItem, answer: Answer, k: int | None = None) -> QuestionResult:
    """Verdict, citation counts and retrieval ranks (over ``answer.passages``) of one answer."""
    text = strip_markers(answer.text)
    if item.answerable:
        if answer.refused:
            verdict = "false_refusal"
        else:
            verdict = "correct" if holds_facts(text, item.must) else "wrong"
    else:
        verdict = "refused" if answer.refused else "answered"
    refused_right_draft = None
    if item.answerable and answer.refused and answer.draft.strip() and not is_refusal(answer.draft):
        refused_right_draft = holds_facts(strip_markers(answer.draft), item.must)

    cited: dict[int, Passage] = {}
    for c in answer.citations:
        cited.setdefault(c.marker, c.passage)
    gold = set(item.sources)
    supporting = sum(1 for p in cited.values() if p.source in gold or holds_any_fact(p.text, item.must))
    t = answer.timings
    return QuestionResult(
        id=item.id, type=item.type, question=item.question, verdict=verdict,
        answer=answer.text, refused=bool(answer.refused), gold_sources=item.sources,
        cited_sources=tuple(dict.fromkeys(p.source for _, p in sorted(cited.items()))),
        n_citations=len(cited), n_supporting=supporting if item.answerable else 0,
        has_evidence=bool(item.evidence),
        retrieval_s=float(t.retrieval), first_token_s=float(t.first_token), total_s=float(t.total),
        check_s=float(t.check),
        prompt_tokens=int(t.prompt_tokens), completion_tokens=int(t.completion_tokens),
        model=answer.model, standalone_question=answer.standalone_question,
        low_confidence=bool(answer.low_confidence),
        draft=_changed_draft(answer),
        support=answer.support.to_dict() if getattr(answer, "support", None) is not None else None,
        part_supports=tuple(p.support.to_dict() if p.support is not None else None
                            for p in getattr(answer, "parts", ())),
        refused_right_draft=refused_right_draft,
        refusal=str(getattr(answer, "refusal", "") or "") if answer.refused else "",
        # every passage shown: a multi-part answer shows each part's own k, one after another
        **_retrieval_fields(item, answer.passages, max(k or 0, len({p.chunk_id for p in answer.passages})) or None),
    )


# --------------------------------------------------------------------------- summary


def _share(num: int | float, den: int | float) -> float | None:
    return num / den if den else None


def _percentiles(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    import numpy as np

    p50, p95 = np.percentile(np.asarray(values, dtype=float), [50, 95])
    return float(p50), float(p95)


def _group_summary(results: Sequence[QuestionResult]) -> dict[str, Any]:
    scored = [r for r in results if r.verdict != "skipped"]
    answerable = [r for r in scored if r.answerable]
    unanswerable = [r for r in scored if not r.answerable]
    count = {v: sum(1 for r in scored if r.verdict == v) for v in VERDICTS if v != "skipped"}
    answered = [r for r in answerable if not r.refused and r.verdict != "error"]
    correct = [r for r in answerable if r.verdict == "correct"]
    n_cit = sum(r.n_citations for r in answered)
    n_sup = sum(r.n_supporting for r in answered)

    # a question the assistant rejected (verdict "error") counts against the answers, but it was
    # never searched or timed: it stays out of the retrieval and latency figures
    ran = [r for r in results if r.verdict != "error"]
    with_sources = [r for r in ran if r.gold_sources]
    with_evidence = [r for r in ran if r.has_evidence]
    generated = [r for r in scored if r.completion_tokens > 0]
    gen_seconds = sum(max(r.total_s - r.first_token_s - r.check_s, 0.0) for r in generated)
    ret50, ret95 = _percentiles([r.retrieval_s for r in ran])
    ft50, ft95 = _percentiles([r.first_token_s for r in generated])
    tot50, tot95 = _percentiles([r.total_s for r in scored if r.verdict != "error"])
    chk50, chk95 = _percentiles([r.check_s for r in generated])
    return {
        "n": len(results),
        "n_answerable": sum(1 for r in results if r.answerable),
        "n_unanswerable": sum(1 for r in results if not r.answerable),
        "n_errors": len(results) - len(ran),
        "verdicts": count,
        "answer_accuracy": _share(count["correct"], len(answerable)),
        "false_refusal_rate": _share(count["false_refusal"], len(answerable)),
        # the check's own cost: answers it refused whose draft held the gold facts
        "refused_right_draft_rate": _share(sum(1 for r in answerable if r.refused_right_draft), len(answerable)),
        "refusal_rate": _share(count["refused"], len(unanswerable)),
        # what refused each false refusal and each refused unanswerable question (rag.types.REFUSAL_REASONS)
        "false_refusals_by_reason": dict(Counter(r.refusal or "?" for r in answerable if r.verdict == "false_refusal")),
        "refusals_by_reason": dict(Counter(r.refusal or "?" for r in unanswerable if r.verdict == "refused")),
        "citation_precision": _share(n_sup, n_cit),
        "citation_recall": _share(sum(1 for r in correct if r.n_supporting > 0), len(correct)),
        "uncited_rate": _share(sum(1 for r in answered if r.n_citations == 0), len(answered)),
        "n_citations": n_cit,
        "n_supporting_citations": n_sup,
        "recall_at_k": _share(sum(r.source_recall or 0.0 for r in with_sources), len(with_sources)),
        "hit_at_k": _share(sum(1 for r in with_sources if r.source_rank), len(with_sources)),
        "mrr": _share(sum(1 / r.source_rank for r in with_sources if r.source_rank), len(with_sources)),
        "evidence_recall_at_k": _share(sum(1 for r in with_evidence if r.evidence_rank), len(with_evidence)),
        "evidence_mrr": _share(sum(1 / r.evidence_rank for r in with_evidence if r.evidence_rank),
                               len(with_evidence)),
        "retrieval_p50": ret50, "retrieval_p95": ret95,
        "first_token_p50": ft50, "first_token_p95": ft95,
        "total_p50": tot50, "total_p95": tot95,
        "check_p50": chk50, "check_p95": chk95,
        "tokens_per_second": _share(sum(r.completion_tokens for r in generated), gen_seconds),
    }


def summarize(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """``{"overall": {...}, "by_type": {type: {...}}}`` with the figures of the module doc."""
    types = [t for t in QUESTION_TYPES if any(r.type == t for r in results)]
    return {"overall": _group_summary(results),
            "by_type": {t: _group_summary([r for r in results if r.type == t]) for t in types}}


# Figures compared against a baseline and shown in the report, with their labels.
FIGURES: tuple[tuple[str, str], ...] = (
    ("answer_accuracy", "answer accuracy"),
    ("false_refusal_rate", "false refusals"),
    ("refused_right_draft_rate", "right drafts refused"),
    ("refusal_rate", "refusal (unanswerable)"),
    ("citation_precision", "citation precision"),
    ("citation_recall", "citation recall"),
    ("uncited_rate", "uncited answers"),
    ("recall_at_k", "recall@k"),
    ("hit_at_k", "hit@k"),
    ("mrr", "MRR"),
    ("evidence_recall_at_k", "evidence recall@k"),
    ("evidence_mrr", "evidence MRR"),
    ("retrieval_p50", "retrieval p50 s"),
    ("retrieval_p95", "retrieval p95 s"),
    ("first_token_p50", "first token p50 s"),
    ("first_token_p95", "first token p95 s"),
    ("total_p50", "total p50 s"),
    ("total_p95", "total p95 s"),
    ("check_p50", "checks p50 s"),
    ("tokens_per_second", "tokens/s"),
)
RATIO_FIGURES = frozenset(name for name, _ in FIGURES[:12])  # 0..1 figures
PERCENT_FIGURES = RATIO_FIGURES - {"mrr", "evidence_mrr"}  # shown as percentages
