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
* Retrieval, over questions with gold sources, the passages the model is shown
  (``Answer.passages`` in a full run; ``shown(question, k)``
  in a retrieval-only run, which uses the question as asked, without rewriting
  follow-ups). A passage is placed by its chunk, so the sentences shown of one chunk
  share that chunk's place:
  source_rank = 1-based place of the first passage from a gold source;
  recall_at_k = mean share of a question's gold sources found in the top k;
  hit_at_k = share of questions with at least one gold source in the top k;
  mrr = mean of 1/source_rank (0 when none found).
  Evidence, over questions with an evidence sentence: the evidence is found in a
  passage when the longest common substring of the two (whitespace-collapsed,
  case-folded) texts covers at least half the evidence's characters — so a whole
  containment counts, and so does an evidence sentence split across two chunks.
  evidence_recall_at_k and evidence_mrr are defined like hit_at_k and mrr.
* Latency: p50 / p95 (numpy linear-interpolated percentiles) of the retrieval,
  first-token and total seconds of each answer, and of the checks after generation
  (first token and checks over answers that generated tokens); tokens_per_second =
  all completion tokens / all decoding seconds (total - first_token - checks) over
  those answers.
"""

from .gold import ANSWERABLE_TYPES, QUESTION_TYPES, VERDICTS, GoldError, GoldItem, load_gold, parse_gold_line
from .report import render_report
from .runs import EvalRun, compare, load_run, run_eval
from .scoring import (FIGURES, PERCENT_FIGURES, RATIO_FIGURES, QuestionResult, evidence_found, holds_facts,
                      score_answer, score_retrieval, summarize)

__all__ = [
    "ANSWERABLE_TYPES",
    "QUESTION_TYPES",
    "VERDICTS",
    "FIGURES",
    "PERCENT_FIGURES",
    "RATIO_FIGURES",
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
