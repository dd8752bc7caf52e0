"""Evidence selection: show the model the sentences of the retrieved passages that matter.

Scope: pure functions that cut the retrieved passages down to the sentences that matter:
either each passage to its stretch of sentences on the question (:func:`trim_passages`), or
all of them to their best sentences within one token budget (:func:`select_sentences`). A
shorter prompt is read faster and distracts a small model less. Every cut passage is still an
exact slice of its source text (``start``/``end`` move with it), so citations keep pointing at
real spans.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .chunking import split_sentences
from .types import Passage
from .words import content_words


# English words that open a sentence about something already named: pronouns, demonstratives,
# and "the" before a noun phrase ("The deal", "The initiative")
_REFERS_BACK = re.compile(r"(?:it|its|this|that|these|those|they|their|he|his|she|her|such|both)\b|the\s", re.I)


def refers_back(sentence: str) -> bool:
    """True when ``sentence`` opens with a word that refers to something said before it."""
    return _REFERS_BACK.match(sentence) is not None


def lexical_scores(question: str, sentences: Sequence[str]) -> list[float]:
    """Share of the question's content words in each sentence."""
    asked = content_words(question)
    if not asked:
        return [0.0] * len(sentences)
    return [len(asked & content_words(s)) / len(asked) for s in sentences]


@dataclass(frozen=True)
class _Sentence:
    passage: int  # index into the passages
    position: int  # sentence number within its passage
    start: int  # offsets within the passage's text
    end: int
    text: str


def _sentences(passages: Sequence[Passage]) -> list[_Sentence]:
    """Every sentence of the passages once: overlapping chunks of one article repeat
    sentences, and the first (best-ranked) passage keeps them."""
    seen: set[tuple[str, int]] = set()
    out: list[_Sentence] = []
    for i, p in enumerate(passages):
        for j, (s, e) in enumerate(split_sentences(p.text)):
            if (p.source, p.start + s) not in seen:
                seen.add((p.source, p.start + s))
                out.append(_Sentence(i, j, s, e, p.text[s:e]))
    return out


def _relevance(question: str, texts: list[str], similarity: Callable[[list[str]], list[float]] | None) -> list[float]:
    """A sentence's share of the question's content words plus its embedding similarity to it."""
    dense = similarity(texts) if similarity else [0.0] * len(texts)
    return [lx + sm for lx, sm in zip(lexical_scores(question, texts), dense)]


def trim_passages(question: str, passages: Sequence[Passage], threshold: float,
                  similarity: Callable[[list[str]], list[float]] | None = None) -> list[Passage]:
    """Each passage cut to the stretch from its first to its last sentence on the question.

    A sentence is on the question when its share of the question's content words plus its
    embedding ``similarity`` to the question reaches ``threshold``; a passage with none keeps
    its best sentence. What lies between two such sentences is kept, so the stretch reads as
    written (a "she" or "the river" keeps what it refers to when that is inside it), unlike
    :func:`select_sentences`, which keeps sentences apart. The sentence after the stretch comes
    with it when it opens by referring back (:func:`refers_back`). A stretch inside one already cut
    from an earlier passage (overlapping chunks of one article) is not shown again.
    ``threshold <= 0`` keeps the passages whole."""
    if threshold <= 0:
        return list(passages)
    out: list[Passage] = []
    for p in passages:
        spans = split_sentences(p.text)
        if len(spans) < 2:
            out.append(p)
            continue
        scores = _relevance(question, [p.text[s:e] for s, e in spans], similarity)
        on = [j for j, x in enumerate(scores) if x >= threshold] or [scores.index(max(scores))]
        first, last = on[0], on[-1]
        # the sentence after the stretch, when it refers back ("It opens in May", "The initiative,
        # led by ..."), says more about what the stretch's last sentence names
        if last + 1 < len(spans) and refers_back(p.text[spans[last + 1][0]:spans[last + 1][1]]):
            last += 1
        s, e = spans[first][0], spans[last][1]
        cut = replace(p, text=p.text[s:e], start=p.start + s, end=p.start + e)
        # overlapping chunks of one article can cut to the same sentences: show them once
        if not any(o.source == cut.source and o.start <= cut.start and cut.end <= o.end for o in out):
            out.append(cut)
    return out


def _passage_prior(passages: Sequence[Passage]) -> list[float]:
    """Each passage's retrieval score scaled to 0..1 among the passages."""
    scores = [p.score for p in passages]
    hi, lo = max(scores), min(scores)
    return [(s - lo) / (hi - lo) if hi > lo else 1.0 for s in scores]


def select_sentences(question: str, passages: Sequence[Passage], count_tokens: Callable[[str], int],
                     budget: int, similarity: Callable[[list[str]], list[float]] | None = None,
                     passage_weight: float = 0.5) -> list[Passage]:
    """The passages cut to their best sentences, within ``budget`` tokens in all.

    A sentence scores its share of the question's content words, plus its embedding
    ``similarity`` to the question when given, plus ``passage_weight`` times its passage's
    retrieval score scaled to 0..1 (a sentence of the best passage is likelier to matter than
    an equally worded one further down). Every sentence that still fits is taken, best first,
    so the budget is spent on the best of what is there. Consecutive chosen sentences form one
    passage; passages keep their retrieval order. ``budget <= 0`` keeps the passages whole.
    """
    if budget <= 0 or not passages:
        return list(passages)
    units = _sentences(passages)
    if not units:
        return list(passages)
    texts = [u.text for u in units]
    prior = _passage_prior(passages)
    scores = [r + passage_weight * prior[u.passage] for u, r in zip(units, _relevance(question, texts, similarity))]
    costs = [count_tokens(t) for t in texts]
    best_first = sorted(range(len(units)), key=lambda x: -scores[x])
    chosen: set[int] = set()
    used = 0
    for x in best_first:
        if used + costs[x] <= budget:
            chosen.add(x)
            used += costs[x]
    if not chosen:  # one sentence longer than the budget: show it rather than nothing
        chosen.add(best_first[0])
    runs: list[list[int]] = []
    for x in sorted(chosen, key=lambda x: (units[x].passage, units[x].position)):
        last = units[runs[-1][-1]] if runs else None
        if last and last.passage == units[x].passage and last.position + 1 == units[x].position:
            runs[-1].append(x)
        else:
            runs.append([x])
    cut: list[Passage] = []
    for run in runs:
        p, s, e = passages[units[run[0]].passage], units[run[0]].start, units[run[-1]].end
        cut.append(replace(p, text=p.text[s:e], start=p.start + s, end=p.start + e))
    return cut
