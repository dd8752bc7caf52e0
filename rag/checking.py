"""Checking a draft: from the model's text to what the user is shown.

Scope: the stage between generation and the :class:`~rag.types.Answer`. A refusal keeps only
its refusing sentence, and what follows it only when that is an answer the checks pass; any other
draft has its markers normalised, each sentence's facts found in the passages
(:mod:`rag.grounding`), the answer judged (:mod:`rag.support`) at the
thresholds measured for the model, and links the articles do not have removed. An answer no
passage backs, or one the judgement rejects, becomes the refusal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from .citations import is_refusal, parse_citations, partial_rest, refusal_sentence
from .config import Config
from .grounding import check_answer, render
from .llm import ChatModel
from .models import MODELS
from .prompt import REFUSAL, SYSTEM_PROMPT
from .safety import mask_fake_turns, strip_links
from .support import Support, Thresholds, check_support, numbers_stated
from .types import Citation, Passage

log = logging.getLogger(__name__)

__all__ = ["Checked", "check_draft", "thresholds_for", "uncalibrated_judge"]


@dataclass(frozen=True)
class Checked:
    """What a draft becomes: the text shown, its citations, whether it is a refusal, and the
    support check's verdict (None when the check did not run)."""

    text: str
    citations: list[Citation]
    refused: bool
    support: Support | None = None
    refusal: str = ""  # why it is a refusal (a key of rag.types.REFUSAL_REASONS); "" when it is not one


def check_draft(raw: str, passages: list[Passage], question: str, messages: list[dict[str, str]],
                llm: ChatModel, cfg: Config, pinned: str | None = None) -> Checked:
    """Check the model's draft ``raw``, written from ``messages`` over ``passages`` for
    ``question`` (the searched form: a follow-up's rewrite), by ``cfg``'s checks."""
    if is_refusal(raw):
        said = refusal_sentence(raw)
        rest = partial_rest(raw)
        if rest and cfg.verify_citations:
            # "The articles do not say what it saves. The petition gathered 6,200 signatures.": one
            # part refused, the other answered; the answered part is shown only as checked
            checked = check_draft(rest, passages, question, messages, llm, cfg, pinned)
            if not checked.refused:
                return replace(checked, text=f"{strip_links(said, passages)} {checked.text}")
        # only the sentence that refuses: the rest is shown only when it passes the checks above
        return Checked(strip_links(said or REFUSAL, passages), [], True, refusal="model")
    if not cfg.verify_citations:
        text, citations = parse_citations(raw, passages)
        return Checked(strip_links(text, passages), citations, False)
    text, _ = parse_citations(raw, passages)  # normalise markers, drop those that point nowhere
    # no answer is backed by a fake chat turn, which the prompt never showed the model
    seen = [replace(p, text=mask_fake_turns(p.text)) for p in passages]
    checks = check_answer(text, seen, question)
    text, citations = render(checks, passages)
    if not any(c.supported for c in checks):
        log.info("answer %r is not backed by any passage: refused", raw)
        return Checked(REFUSAL, [], True, refusal="unbacked")
    support = None
    if cfg.support_check:
        support = check_support(question, checks, seen, messages, raw, llm, judge=cfg.judge,
                                thresholds=thresholds_for(cfg, llm), seed=cfg.seed, pinned=pinned,
                                context=cfg.judge_context)
        if not support.accepted:
            log.info("answer %r fails the support check (%s): refused", raw, support)
            return Checked(REFUSAL, [], True, support, refusal=_why(support))
    return Checked(strip_links(text, passages), citations, False, support)  # no image or link the articles lack


def _why(support: Support) -> str:
    """Which part of the support check refused: the answer's kind, the question's figures, the
    judgement, or (no judgement asked: judge "off", a model without logits) the coverage."""
    if not support.answers_kind:
        return "kind"
    if not numbers_stated(support.coverage):
        return "figures"
    judged = (support.p_yes, support.p_yes_focused, support.p_yes_answerable) != (None, None, None)
    return "judgement" if judged else "coverage"


def thresholds_for(cfg: Config, llm: ChatModel) -> Thresholds | None:
    """The judgement's thresholds: ``cfg``'s where set, else those measured for ``llm``; None for
    a model whose judgement was never measured, which is then not asked (:func:`check_support`)."""
    spec = MODELS.get(getattr(llm, "spec_name", None) or "")
    measured = spec.judge if spec is not None else None
    if cfg.judge_threshold is None and cfg.judge_covered_threshold is None and measured is None:
        return None
    given = cfg.judge_threshold if cfg.judge_threshold is not None else cfg.judge_covered_threshold
    measured = measured or (given, given)
    return Thresholds(cfg.judge_threshold if cfg.judge_threshold is not None else measured[0],
                      cfg.judge_covered_threshold if cfg.judge_covered_threshold is not None else measured[1],
                      cfg.coverage_words)


def uncalibrated_judge(cfg: Config) -> bool:
    """Whether the support check will judge with thresholds measured under another system message:
    the judgement is asked under the answer's system message (so llama.cpp keeps it cached), and
    p(Yes) moves with it (by up to 0.26 for one prompt measured, README)."""
    judged = cfg.support_check and cfg.verify_citations and cfg.judge != "off"
    return bool(cfg.system_prompt) and cfg.system_prompt != SYSTEM_PROMPT and judged and cfg.judge_threshold is None
