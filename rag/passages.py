"""Passages: what the model is shown of a search's results, and whether it is asked at all.

Scope: pure functions over a store's hits (:mod:`rag.retrieval`): :func:`distinct` drops
copies, :func:`latest_versions` drops what a newer version of the same document among the
hits supersedes, :func:`to_passages` resolves keys to :class:`~rag.types.Passage` objects scored by
dense cosine similarity (the confidence signal whatever fused them), :func:`near_the_best`
keeps the passages close to the first, :func:`nothing_close` says when nothing retrieved
is worth the model's time, and :func:`interleave` joins several searches' passages (a
comparison's), the best of each in turn.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from .store import Store
from .types import Passage
from .words import found_in, names, word_stems

__all__ = ["distinct", "interleave", "latest_versions", "merged_searches", "near_the_best", "nothing_close", "to_passages"]


def distinct(store: Store, hits: list[tuple[int, float]], k: int) -> list[tuple[int, float]]:
    """The first ``k`` of ``hits`` whose text no better hit has (case and spacing aside): a story
    syndicated to several sites, or a file copied twice, fills one of the ``k`` places, not several."""
    chunks = store.chunks([key for key, _ in hits])
    seen: set[str] = set()
    out = []
    for key, score in hits:
        c = chunks.get(key)
        text = " ".join(c.text.lower().split()) if c is not None else None
        if text is not None and text in seen:
            continue
        seen.add(text)
        out.append((key, score))
        if len(out) == k:
            break
    return out


# two files the shorter of which shares this share of its word 5-grams with the other are versions
# of one document (a draft and its final, which adds a paragraph and changes figures; an update of a
# wire story); two stories on one subject share a few phrases
VERSION_OVERLAP = 0.5


def latest_versions(store: Store, hits: list[tuple[int, float]], question: str) -> list[tuple[int, float]]:
    """``hits`` without those of a document that a newer version of it, also among ``hits``,
    supersedes: shown a draft's figures beside its final's, a model mixes them. Two files are
    versions of one document when they share most of their text (:data:`VERSION_OVERLAP`), and
    the one dated later supersedes the other; undated or same-day versions both stay. The older
    stays too when the question names what sets it apart: a word of its title or file name the
    newer one's lack ("the draft", "UPDATE 1")."""
    chunks = store.chunks([key for key, _ in hits])
    dated: dict[str, tuple[str, str]] = {}  # source -> (date, title)
    for c in chunks.values():
        if c.date:
            dated.setdefault(c.source, (c.date, c.title))
    if len({d for d, _ in dated.values()}) < 2:
        return hits
    asked = set(_tokens(question))
    shingles = {source: _shingles(store.document_text(source)) for source in dated}
    superseded: set[str] = set()
    for old, new in itertools.permutations(dated, 2):
        if dated[old][0] >= dated[new][0] or old in superseded:
            continue
        a, b = shingles[old], shingles[new]
        if not a or not b or len(a & b) < VERSION_OVERLAP * min(len(a), len(b)):
            continue
        own = set(_tokens(f"{dated[old][1]} {old}")) - set(_tokens(f"{dated[new][1]} {new}"))
        if not own & asked:
            superseded.add(old)
    return [(key, score) for key, score in hits if key in chunks and chunks[key].source not in superseded] \
        if superseded else hits


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _shingles(text: str, n: int = 5) -> set[int]:
    words = _tokens(text)
    return {hash(tuple(words[i:i + n])) for i in range(max(len(words) - n + 1, 0))}


def to_passages(store: Store, hits: list[tuple[int, float]], query_vector: np.ndarray) -> list[Passage]:
    """Passages for ``hits`` in order, each scored by dense cosine similarity to the query.
    A key the store no longer holds (removed since the search) is left out."""
    chunks = store.chunks([key for key, _ in hits])
    keys = [key for key, _ in hits if key in chunks]
    out = []
    scored = dict(hits)
    for key, v in zip(keys, store.vectors(keys)):
        c = chunks[key]
        out.append(Passage(chunk_id=c.chunk_id, source=c.source, title=c.title, date=c.date, text=c.text,
                           start=c.start, end=c.end, score=round(float(v @ query_vector), 4), rank=len(out) + 1,
                           fused=round(scored[key], 4)))
    return out


def near_the_best(passages: Sequence[Passage], cosine_gap: float | None, fused_gap: float | None) -> list[Passage]:
    """The passages that stand close to the first (best ranked), which is always kept: another is
    kept when its dense similarity is within ``cosine_gap`` of the first's, or its retrieval score
    (``Passage.fused``; z-units for zscore fusion) within ``fused_gap`` of the first's. A gap of
    None drops that test; both None keep every passage.

    A passage far behind the best rarely holds the answer and costs the model reading time and
    attention (scripts/evidence_budget.py --gaps measures how often a dropped one held it)."""
    if not passages or (cosine_gap is None and fused_gap is None):
        return list(passages)
    first = passages[0]

    def close(p: Passage) -> bool:
        if cosine_gap is not None and p.score >= first.score - cosine_gap:
            return True
        return (fused_gap is not None and p.fused is not None and first.fused is not None
                and p.fused >= first.fused - fused_gap)

    return [first, *(p for p in passages[1:] if close(p))]


def nothing_close(question: str, passages: Sequence[Passage], refuse_below: float) -> bool:
    """Whether nothing retrieved is close enough to be worth the model's time: the best dense
    similarity is under ``refuse_below`` and no passage holds every name the question gives.

    A short question about a named person or thing ("Where does Dr. Ines Okafor work?") can
    score low against the one passage that names her, whose other words are about something
    else; the name itself is the evidence that the corpus speaks of it."""
    if max((p.score for p in passages), default=0.0) >= refuse_below:
        return False
    asked = names(question)
    if not asked:
        return True
    return not any(all(found_in(n, word_stems(f"{p.title} {p.text}")) for n in asked) for p in passages)


def interleave(groups: list[list[Passage]], k: int) -> list[Passage]:
    """The first of each group, then the second of each, ..., at most ``k`` and each chunk once,
    ranked anew in that order."""
    out: list[Passage] = []
    seen: set[str] = set()
    for row in itertools.zip_longest(*groups):
        for p in row:
            if p is not None and p.chunk_id not in seen and len(out) < k:
                seen.add(p.chunk_id)
                out.append(replace(p, rank=len(out) + 1))
    return out


def merged_searches(searches: list[tuple[list[Passage], tuple[str, ...], str]],
                    k: int) -> tuple[list[Passage], tuple[str, ...]]:
    """The passages and scope of one search, or of several (a comparison's), the best of each in turn."""
    if len(searches) == 1:
        return searches[0][0], searches[0][1]
    return interleave([r for r, _, _ in searches], k), tuple(sorted({t for _, sc, _ in searches for t in sc}))
