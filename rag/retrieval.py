"""Retrieval: dense (FAISS), lexical (BM25) and their reciprocal-rank fusion.

Every retriever implements one method, ``search(query, k) -> [(row, score)]`` over
the rows of an :class:`~rag.index.Index`; :func:`to_passages` turns rows into
:class:`~rag.types.Passage` objects carrying the dense cosine score, which is the
confidence signal whatever fused them.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod

import numpy as np

from .embedding import Embedder, embedding_text
from .index import Index
from .types import Passage

_STOP = set("""a an and are as at be by for from has have how in is it its of on or that the this to was were what
when where which who why will with did does do about according article articles say said says than much many""".split())


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens for BM25; numbers keep their digits ("2,902" -> "2902")."""
    words = re.findall(r"[a-z0-9][a-z0-9,.'’-]*[a-z0-9%]|[a-z0-9]", text.lower())
    return [w.replace(",", "") for w in words if w not in _STOP]


class Retriever(ABC):
    @abstractmethod
    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """The best ``k`` rows of the index for ``query``, best first."""


class DenseRetriever(Retriever):
    def __init__(self, index: Index, embedder: Embedder):
        self.index, self.embedder = index, embedder

    def query_vector(self, query: str) -> np.ndarray:
        return self.embedder.encode([query])[0]

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        return self.index.search(self.query_vector(query), k)


class BM25Retriever(Retriever):
    def __init__(self, index: Index):
        from rank_bm25 import BM25Okapi

        self.index = index
        corpus = [tokenize(embedding_text(c.title, c.text)) for c in index.chunks]
        self._bm25 = BM25Okapi(corpus) if corpus else None

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        terms = tokenize(query)
        if self._bm25 is None or not terms:
            return []
        scores = self._bm25.get_scores(terms)
        rows = np.argsort(-scores)[:k]
        return [(int(r), float(scores[r])) for r in rows if scores[r] > 0]


class FusionRetriever(Retriever):
    """Reciprocal rank fusion (Cormack et al., 2009): score = sum of weight / (60 + rank)."""

    def __init__(self, retrievers: list[Retriever], weights: list[float] | None = None, depth: int = 20, c: int = 60):
        self.retrievers = retrievers
        self.weights = weights or [1.0] * len(retrievers)
        self.depth, self.c = depth, c

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        fused: dict[int, float] = {}
        for retriever, weight in zip(self.retrievers, self.weights):
            for rank, (row, _) in enumerate(retriever.search(query, max(k, self.depth)), start=1):
                fused[row] = fused.get(row, 0.0) + weight / (self.c + rank)
        return sorted(fused.items(), key=lambda kv: -kv[1])[:k]


def to_passages(index: Index, hits: list[tuple[int, float]], query_vector: np.ndarray) -> list[Passage]:
    """Passages for ``hits`` in order, each scored by dense cosine similarity to the query."""
    out = []
    for rank, (row, _) in enumerate(hits, start=1):
        c = index.chunks[row]
        score = float(index.vectors[row] @ query_vector)
        out.append(Passage(chunk_id=c.chunk_id, source=c.source, title=c.title, date=c.date, text=c.text,
                           start=c.start, end=c.end, score=round(score, 4), rank=rank))
    return out
