"""Evaluation harness: score the assistant against a gold question set.

Scope: reading and validating a gold file (``evals/gold.jsonl``), scoring answers
(key facts, refusals, citations), scoring retrieval (recall@k, MRR of gold sources
and of the evidence sentence), latency figures, summaries overall and per question
type, comparison with a previous run, and a markdown report.  Everything here is a
pure function over :mod:`rag.types` values and :class:`GoldItem` objects except
:func:`run_eval`, which drives any object with the assistant's ``ask`` / ``retrieve``
methods (duck-typed, so tests pass a fake).  The command line (progress bar, files)
lives in :mod:`rag.eval_cli`.

Gold format, one JSON object per line (unknown keys are ignored)::

    {"id": "q001", "type": "number", "question": "...", "answer": "...",
     "must": [["2,902", "2902"]], "sources": ["000_ddcf69316a5a77b7.txt"],
     "evidence": "verbatim sentence", "history": [{"role": "user", "content": "..."}]}

Definitions (all shares are in 0..1; ``None`` when the denominator is zero):

* Text matching.  Before matching, texts are NFKC-normalised; answer texts also
  lose their inline citation markers (``[1]``, ``[1, 2]``).  Every ``must`` regex is
  compiled case-insensitive.
* Key facts: an answer *holds the key facts* when every ``must`` group has at least
  one alternative that ``re.search`` finds in it.
* Verdicts.  Answerable questions (fact, number, multi, followup): ``correct``
  (not refused and holds the key facts), ``wrong`` (not refused, a fact missing),
  ``false_refusal`` (``Answer.refused`` is true).  Unanswerable questions:
  ``refused`` (good) or ``answered`` (bad).  ``error`` when the assistant rejected
  the question (QuestionError; counts as not correct / not refused), ``skipped``
  in a retrieval-only run.
* answer_accuracy = correct / answerable questions.
  false_refusal_rate = false_refusal / answerable questions.
  refusal_rate = refused / unanswerable questions.
* Citations are counted once per distinct ``[n]`` marker of an answer.  A citation
  *supports* when its passage comes from a gold source, or its passage text holds at
  least one alternative of at least one ``must`` group.
  citation_precision = supporting citations / all citations, pooled over the answers
  to answerable questions (citations in answers to unanswerable questions are not
  counted: there is nothing they could support; the refusal metric covers them).
  citation_recall = correct answers with at least one supporting citation / correct
  answers (an uncited correct answer counts as unsupported).
  uncited_rate = non-refused answers to answerable questions with no citation /
  non-refused answers to answerable questions.
* Retrieval, over questions with gold sources, ``passages`` in retrieved order
  (``Answer.passages`` in a full run, ``retrieve(question, k)`` in a retrieval-only
  run, which uses the question as asked, without rewriting follow-ups):
  source_rank = 1-based position of the first passage from a gold source;
  recall_at_k = mean share of a question's gold sources found in the top k;
  hit_at_k = share of questions with at least one gold source in the top k;
  mrr = mean of 1/source_rank (0 when none found).
  Evidence, over questions with an evidence sentence: the evidence is found in a
  passage when the longest common substring of the two (whitespace-collapsed,
  case-folded) texts covers at least half the evidence's characters — so a whole
  containment counts, and so does an evidence sentence split across two chunks.
  evidence_recall_at_k and evidence_mrr are defined like hit_at_k and mrr.
* Latency: p50 / p95 (numpy linear-interpolated percentiles) of the retrieval,
  first-token and total seconds of each answer (first token over answers that
  generated tokens); tokens_per_second = all completion tokens / all generation
  seconds (total - first_token) over those answers.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import platform
import re
import time
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from rag.errors import QuestionError, RagError
from rag.types import Answer, Passage

__all__ = [
    "ANSWERABLE_TYPES",
    "QUESTION_TYPES",
    "VERDICTS",
    "EvalRun",
    "GoldError",
    "GoldItem",
    "QuestionResult",
    "compare",
    "evidence_found",
    "holds_facts",
    "load_gold",
    "load_run",
    "parse_gold_line",
    "render_report",
    "run_eval",
    "score_answer",
    "score_retrieval",
    "summarize",
]

QUESTION_TYPES = ("fact", "number", "multi", "followup", "unanswerable")
ANSWERABLE_TYPES = frozenset({"fact", "number", "multi", "followup"})
# Good verdicts first.
VERDICTS = ("correct", "wrong", "false_refusal", "refused", "answered", "error", "skipped")
GOOD_VERDICTS = frozenset({"correct", "refused"})
EVIDENCE_MIN_OVERLAP = 0.5
SCHEMA_VERSION = 1

Pattern = re.Pattern[str]
Progress = Callable[[int, int, str], None]


class GoldError(RagError, ValueError):
    """A gold file that is missing or malformed; the message names file, line and field."""


# --------------------------------------------------------------------------- gold


@dataclass(frozen=True)
class GoldItem:
    id: str
    type: str
    question: str
    answer: str = ""
    must: tuple[tuple[Pattern, ...], ...] = ()  # compiled, case-insensitive
    sources: tuple[str, ...] = ()
    evidence: str = ""
    history: tuple[Mapping[str, str], ...] = ()

    @property
    def answerable(self) -> bool:
        return self.type in ANSWERABLE_TYPES

    @property
    def must_patterns(self) -> list[list[str]]:
        """The ``must`` regexes as written in the gold file."""
        return [[p.pattern for p in group] for group in self.must]


def _compile(pattern: str) -> Pattern:
    return re.compile(pattern, re.IGNORECASE)


def parse_gold_line(obj: Any, where: str = "gold") -> GoldItem:
    """Validate one decoded gold object; ``where`` prefixes error messages."""

    def bad(field_name: str, problem: str) -> GoldError:
        return GoldError(f"{where}: field {field_name!r} {problem}")

    if not isinstance(obj, dict):
        raise GoldError(f"{where}: expected a JSON object, got {type(obj).__name__}")

    def text(name: str, required: bool) -> str:
        value = obj.get(name)
        if value is None:
            if required:
                raise bad(name, "is missing")
            return ""
        if not isinstance(value, str):
            raise bad(name, f"must be a string, got {type(value).__name__}")
        if required and not value.strip():
            raise bad(name, "is empty")
        return value

    item_id = text("id", True).strip()
    qtype = text("type", True).strip()
    if qtype not in QUESTION_TYPES:
        raise bad("type", f"is {qtype!r}; expected one of {', '.join(QUESTION_TYPES)}")
    question = text("question", True)
    answer = text("answer", False)
    evidence = text("evidence", False).strip()

    must_raw = obj.get("must", [])
    if must_raw is None:
        must_raw = []
    if not isinstance(must_raw, list):
        raise bad("must", "must be a list of groups (lists of alternative regexes)")
    must: list[tuple[Pattern, ...]] = []
    for i, group in enumerate(must_raw):
        if not isinstance(group, list) or not group:
            raise bad(f"must[{i}]", "must be a non-empty list of alternative regexes")
        alternatives = []
        for j, pattern in enumerate(group):
            if not isinstance(pattern, str) or not pattern.strip():
                raise bad(f"must[{i}][{j}]", "must be a non-empty string")
            try:
                alternatives.append(_compile(pattern))
            except re.error as err:
                raise bad(f"must[{i}][{j}]", f"is not a valid regular expression {pattern!r}: {err}") from None
        must.append(tuple(alternatives))

    sources_raw = obj.get("sources", [])
    if sources_raw is None:
        sources_raw = []
    if not isinstance(sources_raw, list) or not all(isinstance(s, str) and s.strip() for s in sources_raw):
        raise bad("sources", "must be a list of file names")
    sources = tuple(dict.fromkeys(s.strip() for s in sources_raw))

    history_raw = obj.get("history") or []
    if not isinstance(history_raw, list):
        raise bad("history", "must be a list of {\"role\", \"content\"} turns")
    history = []
    for i, turn in enumerate(history_raw):
        if (not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant")
                or not isinstance(turn.get("content"), str)):
            raise bad(f"history[{i}]", 'must be {"role": "user"|"assistant", "content": "..."}')
        history.append({"role": turn["role"], "content": turn["content"]})

    if qtype == "unanswerable":
        if must:
            raise bad("must", "must be empty for an unanswerable question")
        if sources:
            raise bad("sources", "must be empty for an unanswerable question")
    elif not must:
        raise bad("must", f"is empty; a {qtype} question needs at least one key-fact group")

    return GoldItem(id=item_id, type=qtype, question=question, answer=answer, must=tuple(must),
                    sources=sources, evidence=evidence, history=tuple(history))


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read a gold JSONL file. Blank lines are skipped; errors name file, line and field."""
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GoldError(f"gold file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise GoldError(f"gold file {path} cannot be read: {err}") from None
    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise GoldError(f"{where}: not valid JSON: {err.msg} (column {err.colno})") from None
        item = parse_gold_line(obj, where)
        if item.id in seen:
            raise GoldError(f"{where}: field 'id' {item.id!r} repeats the id on line {seen[item.id]}")
        seen[item.id] = lineno
        items.append(item)
    if not items:
        raise GoldError(f"gold file {path} holds no questions")
    return items


# --------------------------------------------------------------------------- matching

_MARKER_RE = re.compile(r"\s?\[\d+(?:\s*,\s*\d+)*\]")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def _strip_markers(text: str) -> str:
    return _MARKER_RE.sub("", text or "")


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
    """Ranks of the first gold-source passage and of the evidence among ``passages[:k]``."""
    k = len(passages) if k is None else k
    top = list(passages)[:k]
    sources = tuple(p.source for p in top)
    gold = set(item.sources)
    source_rank = next((i for i, s in enumerate(sources, 1) if s in gold), None)
    recall = len(gold & set(sources)) / len(gold) if gold else None
    evidence_rank = None
    if item.evidence:
        evidence_rank = next((i for i, p in enumerate(top, 1) if evidence_found(item.evidence, p.text)), None)
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
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    standalone_question: str | None = None
    low_confidence: bool = False
    error: str | None = None
    draft: str = ""  # the model's own text when the citation check changed it
    support: dict | None = None  # the support check's signals (rag.support.Support.to_dict())

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
    return draft if _strip_markers(draft) != _strip_markers(answer.text) else ""


def score_answer(item: GoldItem, answer: Answer, k: int | None = None) -> QuestionResult:
    """Verdict, citation counts and retrieval ranks (over ``answer.passages``) of one answer."""
    text = _strip_markers(answer.text)
    if item.answerable:
        if answer.refused:
            verdict = "false_refusal"
        else:
            verdict = "correct" if holds_facts(text, item.must) else "wrong"
    else:
        verdict = "refused" if answer.refused else "answered"

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
        prompt_tokens=int(t.prompt_tokens), completion_tokens=int(t.completion_tokens),
        model=answer.model, standalone_question=answer.standalone_question,
        low_confidence=bool(answer.low_confidence),
        draft=_changed_draft(answer),
        support=answer.support.to_dict() if getattr(answer, "support", None) is not None else None,
        **_retrieval_fields(item, answer.passages, k),
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

    with_sources = [r for r in results if r.gold_sources]
    with_evidence = [r for r in results if r.has_evidence]
    generated = [r for r in scored if r.completion_tokens > 0]
    gen_seconds = sum(max(r.total_s - r.first_token_s, 0.0) for r in generated)
    ret50, ret95 = _percentiles([r.retrieval_s for r in results])
    ft50, ft95 = _percentiles([r.first_token_s for r in generated])
    tot50, tot95 = _percentiles([r.total_s for r in scored])
    return {
        "n": len(results),
        "n_answerable": sum(1 for r in results if r.answerable),
        "n_unanswerable": sum(1 for r in results if not r.answerable),
        "verdicts": count,
        "answer_accuracy": _share(count["correct"], len(answerable)),
        "false_refusal_rate": _share(count["false_refusal"], len(answerable)),
        "refusal_rate": _share(count["refused"], len(unanswerable)),
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
    ("tokens_per_second", "tokens/s"),
)
RATIO_FIGURES = frozenset(name for name, _ in FIGURES[:11])  # 0..1 figures
PERCENT_FIGURES = RATIO_FIGURES - {"mrr", "evidence_mrr"}  # shown as percentages


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class EvalRun:
    settings: dict[str, Any]
    results: tuple[QuestionResult, ...]
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": SCHEMA_VERSION, "settings": self.settings, "summary": self.summary,
                "results": [r.to_dict() for r in self.results]}

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "EvalRun":
        results = tuple(QuestionResult.from_dict(r) for r in data.get("results", []))
        return cls(settings=dict(data.get("settings", {})), results=results,
                   summary=dict(data.get("summary") or summarize(results)))

    def report(self, baseline: "EvalRun | Mapping[str, Any] | None" = None) -> str:
        diff = compare(self, baseline) if baseline is not None else None
        return render_report(self.summary, self.results, diff, settings=self.settings)


def load_run(path: str | Path) -> EvalRun:
    """Read a run written by :meth:`EvalRun.to_json` (e.g. a ``--baseline`` file)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RagError(f"baseline file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RagError(f"baseline file {path} is not a readable eval JSON file: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise RagError(f"baseline file {path} is not an eval run (no 'results' list)")
    try:
        return EvalRun.from_dict(data)
    except (TypeError, ValueError) as err:
        raise RagError(f"baseline file {path} has malformed results: {err}") from None


def _config_settings(assistant: Any) -> dict[str, Any]:
    config = getattr(assistant, "config", None)
    if config is None:
        return {}
    if dataclasses.is_dataclass(config):
        values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    else:
        values = {k: v for k, v in vars(config).items() if not k.startswith("_")}
    values.pop("model_cache", None)
    if values.get("dsn"):  # a database's password stays out of reports
        from .store.dsn import mask_dsn

        values["dsn"] = mask_dsn(str(values["dsn"]))
    return {k: (v if isinstance(v, (str, int, float, bool)) or v is None else str(v)) for k, v in values.items()}


def _gold_fingerprint(gold: Sequence[GoldItem]) -> str:
    h = hashlib.sha256()
    for item in gold:
        h.update(json.dumps([item.id, item.type, item.question, item.must_patterns, list(item.sources),
                             item.evidence, list(map(dict, item.history))], ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def run_eval(assistant: Any, gold: Sequence[GoldItem] | str | Path, *, k: int | None = None,
             retrieval_only: bool = False, progress: Progress | None = None) -> EvalRun:
    """Ask (or, with ``retrieval_only``, only retrieve for) every gold question, in file order.

    ``assistant`` needs ``ask(question, history=..., k=...)`` and
    ``retrieve(question, k=...)``; ``assistant.config`` is recorded when present.
    ``progress(done, total, stage)`` is called after each question.
    """
    if isinstance(gold, (str, Path)):
        gold_path: str | None = str(gold)
        gold = load_gold(gold)
    else:
        gold_path = None
    config = _config_settings(assistant)
    k_used = k if k is not None else config.get("k")
    stage = "retrieving" if retrieval_only else "answering"
    results: list[QuestionResult] = []
    total = len(gold)
    if progress:
        progress(0, total, stage)
    for done, item in enumerate(gold, start=1):
        if retrieval_only:
            started = time.perf_counter()
            passages = assistant.retrieve(item.question, k=k_used)
            elapsed = time.perf_counter() - started
            results.append(QuestionResult(
                id=item.id, type=item.type, question=item.question, verdict="skipped",
                gold_sources=item.sources, has_evidence=bool(item.evidence), retrieval_s=elapsed,
                **_retrieval_fields(item, passages, k_used)))
        else:
            try:
                answer = assistant.ask(item.question, history=[dict(t) for t in item.history] or None, k=k_used)
            except QuestionError as err:
                results.append(QuestionResult(
                    id=item.id, type=item.type, question=item.question, verdict="error",
                    gold_sources=item.sources, has_evidence=bool(item.evidence), error=str(err)))
            else:
                results.append(score_answer(item, answer, k_used))
        if progress:
            progress(done, total, stage)

    models = sorted({r.model for r in results if r.model})
    settings = {
        "model": config.get("model"),
        "answer_models": models,
        "k": k_used,
        "retrieval_only": retrieval_only,
        "temperature": config.get("temperature"),
        "config": config,
        "gold": gold_path,
        "gold_questions": len(gold),
        "gold_fingerprint": _gold_fingerprint(gold),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "python": platform.python_version()},
    }
    results_t = tuple(results)
    return EvalRun(settings=settings, results=results_t, summary=summarize(results_t))


# --------------------------------------------------------------------------- comparison


def _run_parts(run: EvalRun | Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[QuestionResult]]:
    if isinstance(run, EvalRun):
        return run.settings, run.summary, list(run.results)
    parsed = EvalRun.from_dict(run)
    return parsed.settings, parsed.summary, list(parsed.results)


def _delta_table(cur: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, _ in FIGURES:
        c, b = cur.get(name), base.get(name)
        out[name] = {"current": c, "baseline": b,
                     "delta": (c - b) if isinstance(c, (int, float)) and isinstance(b, (int, float)) else None}
    return out


def _source_hit(r: QuestionResult) -> bool:
    return r.source_rank is not None


def compare(current: EvalRun | Mapping[str, Any], baseline: EvalRun | Mapping[str, Any]) -> dict[str, Any]:
    """Change of each figure (current - baseline), overall and per type, and the flipped questions.

    ``flipped``: questions answered in both runs whose verdict changed, with ``change``
    ``fixed`` (bad -> good), ``broke`` (good -> bad) or ``changed`` (bad -> another bad).
    ``retrieval_flipped``: questions with gold sources where a gold source was in the
    top k in one run but not the other (``found`` / ``lost``).
    """
    cur_settings, cur_summary, cur_results = _run_parts(current)
    base_settings, base_summary, base_results = _run_parts(baseline)
    base_by_id = {r.id: r for r in base_results}
    cur_ids = {r.id for r in cur_results}
    flipped, retrieval_flipped = [], []
    for r in cur_results:
        b = base_by_id.get(r.id)
        if b is None:
            continue
        if "skipped" not in (r.verdict, b.verdict) and r.verdict != b.verdict:
            good_now, good_before = r.verdict in GOOD_VERDICTS, b.verdict in GOOD_VERDICTS
            change = "fixed" if good_now and not good_before else "broke" if good_before and not good_now else "changed"
            flipped.append({"id": r.id, "type": r.type, "question": r.question, "baseline": b.verdict,
                            "current": r.verdict, "change": change})
        if r.gold_sources and _source_hit(r) != _source_hit(b):
            retrieval_flipped.append({"id": r.id, "type": r.type, "question": r.question,
                                      "baseline_rank": b.source_rank, "current_rank": r.source_rank,
                                      "change": "found" if _source_hit(r) else "lost"})
    cur_by_type = cur_summary.get("by_type", {})
    base_by_type = base_summary.get("by_type", {})
    setting_keys = ("model", "k", "retrieval_only", "temperature", "gold_fingerprint")
    return {
        "overall": _delta_table(cur_summary.get("overall", {}), base_summary.get("overall", {})),
        "by_type": {t: _delta_table(cur_by_type.get(t, {}), base_by_type.get(t, {}))
                    for t in QUESTION_TYPES if t in cur_by_type or t in base_by_type},
        "flipped": flipped,
        "retrieval_flipped": retrieval_flipped,
        "added": [r.id for r in cur_results if r.id not in base_by_id],
        "removed": [r.id for r in base_results if r.id not in cur_ids],
        "settings_changed": {key: {"baseline": base_settings.get(key), "current": cur_settings.get(key)}
                             for key in setting_keys if cur_settings.get(key) != base_settings.get(key)},
    }


# --------------------------------------------------------------------------- report


def _fmt(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if name in PERCENT_FIGURES:
        return f"{100 * value:.1f}%"
    if name == "tokens_per_second":
        return f"{value:.1f}"
    return f"{value:.3f}"


def _fmt_delta(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if name in PERCENT_FIGURES:
        return f"{100 * value:+.1f} pt"
    return f"{value:+.1f}" if name == "tokens_per_second" else f"{value:+.3f}"


def _cell(text: Any) -> str:
    s = "" if text is None else str(text)
    return re.sub(r"\s+", " ", s).replace("|", "\\|").strip()


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_report(summary: Mapping[str, Any], results: Sequence[QuestionResult],
                  baseline_diff: Mapping[str, Any] | None = None, *,
                  settings: Mapping[str, Any] | None = None) -> str:
    """Markdown: settings, figures overall and per type, baseline changes, per-question table."""
    lines = ["# RAG evaluation report", ""]
    if settings:
        machine = settings.get("machine") or {}
        config = settings.get("config") or {}
        lines += [
            f"- model: `{settings.get('model')}`" + (f" (answers report {', '.join(settings['answer_models'])})"
                                                    if settings.get("answer_models")
                                                    and settings["answer_models"] != [settings.get("model")]
                                                    else ""),
            f"- k: {settings.get('k')}, temperature: {settings.get('temperature')}, "
            f"retrieval only: {settings.get('retrieval_only')}",
        ]
        chunking = {k: config[k] for k in ("embedder", "chunk_tokens", "chunk_overlap", "hybrid", "candidates",
                                           "seed", "max_tokens", "n_ctx") if k in config}
        if chunking:
            lines.append("- settings: " + ", ".join(f"{k}={v}" for k, v in chunking.items()))
        lines += [
            f"- gold: {settings.get('gold') or '(in memory)'} — {settings.get('gold_questions')} questions, "
            f"fingerprint {settings.get('gold_fingerprint')}",
            f"- date: {settings.get('date')}; machine: {machine.get('platform')}, "
            f"{machine.get('cpu_count')} CPUs, Python {machine.get('python')}",
            "",
        ]
    overall = summary.get("overall", {})
    by_type = summary.get("by_type", {})
    types = list(by_type)
    lines += ["## Figures", ""]
    header = ["figure", "overall"] + types
    rows = [["questions", overall.get("n")] + [by_type[t].get("n") for t in types]]
    for name, label in FIGURES:
        values = [overall.get(name)] + [by_type[t].get(name) for t in types]
        if all(v is None for v in values):
            continue
        rows.append([label] + [_fmt(name, v) for v in values])
    lines += _table(header, rows)
    verdicts = overall.get("verdicts") or {}
    if any(verdicts.values()):
        lines += ["", "Verdicts: " + ", ".join(f"{v} {n}" for v, n in verdicts.items() if n)]
    lines.append("")

    if baseline_diff:
        lines += ["## Change against baseline", ""]
        changed = baseline_diff.get("settings_changed") or {}
        if changed:
            lines += ["Settings changed: " + "; ".join(f"{k}: {v['baseline']} → {v['current']}"
                                                      for k, v in changed.items()), ""]
        rows = [[label, _fmt(name, d["baseline"]), _fmt(name, d["current"]), _fmt_delta(name, d["delta"])]
                for name, label in FIGURES
                if (d := baseline_diff["overall"][name])["current"] is not None or d["baseline"] is not None]
        lines += _table(["figure", "baseline", "current", "change"], rows) + [""]
        flipped = baseline_diff.get("flipped") or []
        lines += [f"### Flipped questions ({len(flipped)})", ""]
        if flipped:
            lines += _table(["id", "type", "question", "baseline", "current", "change"],
                            [[f["id"], f["type"], f["question"], f["baseline"], f["current"], f["change"]]
                             for f in flipped])
        else:
            lines.append("None.")
        rflipped = baseline_diff.get("retrieval_flipped") or []
        if rflipped:
            lines += ["", f"### Retrieval flips ({len(rflipped)})", ""]
            lines += _table(["id", "question", "baseline rank", "current rank", "change"],
                            [[f["id"], f["question"], f["baseline_rank"] or "–", f["current_rank"] or "–",
                              f["change"]] for f in rflipped])
        for key in ("added", "removed"):
            if baseline_diff.get(key):
                lines += ["", f"Questions {key}: " + ", ".join(baseline_diff[key])]
        lines.append("")

    lines += ["## Questions", ""]
    lines += _table(
        ["id", "type", "question", "verdict", "answer", "cited sources", "source rank", "evidence rank"],
        [[r.id, r.type, r.question, r.verdict,
          r.error or r.answer + (f" <br>*model's draft, before the citation check:* {r.draft}" if r.draft else ""),
          ", ".join(r.cited_sources) or "–",
          r.source_rank if r.source_rank is not None else ("–" if r.gold_sources else ""),
          r.evidence_rank if r.evidence_rank is not None else ("–" if r.has_evidence else "")]
         for r in results])
    return "\n".join(lines) + "\n"
