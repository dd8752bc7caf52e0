"""Evidence selection: show the model the sentences of each passage that matter.

Scope: pure functions that cut a retrieved passage down to a run of consecutive
sentences within a token budget, chosen by how well each sentence matches the
question. A shorter prompt is read faster and distracts a small model less. The cut
passage is still an exact slice of its source text (``start``/``end`` move with it), so
citations keep pointing at real spans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from .chunking import split_sentences
from .types import Passage
from .words import content_words


def best_window(scores: Sequence[float], costs: Sequence[int], budget: int) -> tuple[int, int]:
    """The run ``[a, b)`` of consecutive items whose costs fit ``budget`` (at least one item)
    with the highest total score; ties go to the earlier run."""
    best = (float("-inf"), 0, 1)
    for a in range(len(scores)):
        total, cost = 0.0, 0
        for b in range(a, len(scores)):
            cost += costs[b]
            if cost > budget and b > a:
                break
            total += scores[b]
            if total > best[0] + 1e-12:
                best = (total, a, b + 1)
    return best[1], best[2]


def lexical_scores(question: str, sentences: Sequence[str]) -> list[float]:
    """Share of the question's content words in each sentence."""
    asked = content_words(question)
    if not asked:
        return [0.0] * len(sentences)
    return [len(asked & content_words(s)) / len(asked) for s in sentences]


def select(question: str, passages: Sequence[Passage], count_tokens: Callable[[str], int], budget: int,
           similarity: Callable[[list[str]], list[float]] | None = None) -> list[Passage]:
    """Each passage cut to its best run of sentences within ``budget`` tokens. A sentence's score
    is its share of the question's words plus, when ``similarity`` is given, its embedding
    similarity to the question; a run must score above zero to matter, so a sentence that
    shares nothing with the question adds nothing and the run stays short."""
    if budget <= 0:
        return list(passages)
    cut: list[Passage] = []
    spans_of = [split_sentences(p.text) for p in passages]
    texts = [[p.text[s:e] for s, e in spans] for p, spans in zip(passages, spans_of)]
    flat = [t for ts in texts for t in ts]
    dense = similarity(flat) if similarity and flat else [0.0] * len(flat)
    at = 0
    for p, spans, sentences in zip(passages, spans_of, texts):
        n = len(sentences)
        sims, at = dense[at:at + n], at + n
        if n <= 1 or count_tokens(p.text) <= budget:
            cut.append(p)
            continue
        lex = lexical_scores(question, sentences)
        # centre dense scores on the passage's mean, so only sentences better than their
        # neighbours pull the window; lexical overlap counts as is
        mean = sum(sims) / n
        scores = [lx + (sm - mean) for lx, sm in zip(lex, sims)]
        a, b = best_window(scores, [count_tokens(s) for s in sentences], budget)
        s, e = spans[a][0], spans[b - 1][1]
        cut.append(replace(p, text=p.text[s:e], start=p.start + s, end=p.start + e))
    return cut
