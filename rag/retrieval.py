"""Retrieval: dense (FAISS), lexical (BM25) and their fusion.

Scope: every retriever implements one method, ``search(query, k) -> [(row, score)]``
over the rows of an :class:`~rag.index.Index`; :func:`to_passages` turns rows into
:class:`~rag.types.Passage` objects carrying the dense cosine score, which is the
confidence signal whatever fused them.

:class:`FusionRetriever` combines retrievers by one of :data:`FUSION_METHODS`
(``Config.fusion``; ``Config.lexical_weight`` is BM25's share, 0.5 weighs both alike):

- ``zscore`` (default): each retriever's scores are z-scored over every row of the
  index, then combined convexly. A row's fused score says how far it stands out of the
  whole index for each retriever.
- ``minmax``: the same with min-max normalisation.
- ``rrf``: weighted reciprocal rank fusion.

Any method can add a boost for covering the query's rare terms (``Config.rare_boost``,
off by default): terms few chunks hold, and terms with digits (numbers, years, identifiers).

Why score fusion by default: rank fusion sees only positions, so a chunk that one
retriever puts far ahead of every other (an exact match on a term almost no chunk holds)
counts no more than one that leads by a hair, and chunks ranked fairly well by both
retrievers outrank it. A normalised score keeps the size of the lead, and ordinary
queries, where no retriever's lead stands out, still fuse both.
scripts/retrieval_compare.py measures the methods.
"""

from __future__ import annotations

import dataclasses
import math
import re
from abc import ABC
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .config import Config, load_config
from .embedding import Embedder, embedding_text
from .errors import RagError
from .index import Index
from .types import Passage

# Question words and function words. The embedder has no stop list (it weighs every
# word by context); BM25 needs one so "what", "did", "say" don't count as matches.
_STOP = set("""a an and are as at be by for from has have how in is it its of on or that the this to was were what
when where which who why will with did does do about according article articles say said says than much many""".split())

FUSION_METHODS = ("rrf", "minmax", "zscore")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens for BM25; numbers keep their digits ("2,902" -> "2902")."""
    words = re.findall(r"[a-z0-9][a-z0-9,.'’-]*[a-z0-9%]|[a-z0-9]", text.lower())
    return [w.replace(",", "") for w in words if w not in _STOP]


class Retriever(ABC):
    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """The best ``k`` rows of the index for ``query``, best first."""
        scores = self.score_all(query)
        if scores is None:
            raise NotImplementedError(f"{type(self).__name__} implements neither search nor score_all")
        return top_rows(scores, k)

    def score_all(self, query: str) -> np.ndarray | None:
        """A score for every row of the index, or None when the retriever only ranks.

        Score fusion normalises over these; a retriever without them is normalised
        over its own top rows."""
        return None


def top_rows(scores: np.ndarray, k: int, positive: bool = False) -> list[tuple[int, float]]:
    """The ``k`` best (row, score) pairs, best first; ties keep row order."""
    rows = np.argsort(-scores, kind="stable")[:k]
    return [(int(r), float(scores[r])) for r in rows if not positive or scores[r] > 0]


class DenseRetriever(Retriever):
    def __init__(self, index: Index, embedder: Embedder):
        self.index, self.embedder = index, embedder
        self._last: tuple[str, np.ndarray] | None = None

    def query_vector(self, query: str) -> np.ndarray:
        # the caller embeds the same query again to score passages: keep the last one
        last = self._last
        if last is not None and last[0] == query:
            return last[1]
        vector = self.embedder.encode([query])[0]
        self._last = (query, vector)
        return vector

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        return self.index.search(self.query_vector(query), k)

    def score_all(self, query: str) -> np.ndarray:
        if not len(self.index):
            return np.zeros(0, dtype=np.float32)
        return self.index.vectors @ self.query_vector(query)


@dataclass(frozen=True)
class Lexicon:
    """Document frequencies of the BM25 terms, for telling rare query terms from common ones."""

    n_docs: int
    df: Mapping[str, int]
    doc_terms: Sequence[Mapping[str, int]]  # per row: term -> count

    @classmethod
    def build(cls, docs: Sequence[Sequence[str]]) -> "Lexicon":
        counts = [Counter(d) for d in docs]
        return cls(len(docs), Counter(t for c in counts for t in c), counts)

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def rare_terms(self, terms: Sequence[str], max_share: float) -> dict[str, float]:
        """The query terms held by at most ``max_share`` of the rows, or holding a digit,
        with their IDF. Terms no row holds are left out: nothing can cover them."""
        out = {}
        for t in dict.fromkeys(terms):
            df = self.df.get(t, 0)
            if df and (df <= max_share * self.n_docs or any(ch.isdigit() for ch in t)):
                out[t] = self.idf(t)
        return out

    def coverage(self, rows: Sequence[int], weights: Mapping[str, float]) -> np.ndarray:
        """Share of the ``weights`` (term -> weight) each row holds, 0..1."""
        total = sum(weights.values())
        if not total:
            return np.zeros(len(rows))
        return np.array([sum(w for t, w in weights.items() if t in self.doc_terms[r]) / total for r in rows])


class BM25Retriever(Retriever):
    def __init__(self, index: Index):
        from rank_bm25 import BM25Okapi

        self.index = index
        corpus = [tokenize(embedding_text(c.title, c.text)) for c in index.chunks]
        self._bm25 = BM25Okapi(corpus) if corpus else None
        self.lexicon = Lexicon.build(corpus)
        self._last: tuple[str, np.ndarray] | None = None

    def score_all(self, query: str) -> np.ndarray:
        # fusion asks for the ranking and the scores of one query: score it once
        last = self._last
        if last is not None and last[0] == query:
            return last[1]
        terms = tokenize(query)
        if self._bm25 is None or not terms:
            scores = np.zeros(len(self.index.chunks))
        else:
            scores = np.asarray(self._bm25.get_scores(terms), dtype=float)
        self._last = (query, scores)
        return scores

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        return top_rows(self.score_all(query), k, positive=True)  # a row sharing no term is no match


# --------------------------------------------------------------------------- fusion


@dataclass(frozen=True)
class FusionSettings:
    """How :class:`FusionRetriever` fuses; the defaults are :class:`~rag.config.Config`'s."""

    method: str = Config.fusion  # one of FUSION_METHODS
    lexical_weight: float = Config.lexical_weight  # share of the lexical retrievers; the others share the rest
    rare_boost: float = Config.rare_boost  # full coverage of the rare query terms is worth this share of the fused spread
    rare_df: float = Config.rare_df  # a term is rare when at most this share of rows holds it
    depth: int = Config.candidates  # rows each retriever contributes as candidates
    c: int = 60  # RRF rank offset (Cormack et al., 2009)

    def __post_init__(self) -> None:
        if self.method not in FUSION_METHODS:
            raise RagError(f"fusion={self.method!r} is not one of {', '.join(FUSION_METHODS)}")
        if not 0.0 <= self.lexical_weight <= 1.0:
            raise RagError(f"lexical_weight={self.lexical_weight} must be between 0 and 1")
        if self.rare_boost < 0:
            raise RagError(f"rare_boost={self.rare_boost} must not be negative")
        if not 0.0 < self.rare_df <= 1.0:
            raise RagError(f"rare_df={self.rare_df} must be above 0 and at most 1")

    @classmethod
    def from_config(cls, config: Config, **changes: object) -> "FusionSettings":
        return cls(method=config.fusion, lexical_weight=config.lexical_weight, rare_boost=config.rare_boost,
                   rare_df=config.rare_df, depth=config.candidates, **changes)  # type: ignore[arg-type]


def rrf(rankings: Sequence[Sequence[int]], weights: Sequence[float], c: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion: row -> sum of weight / (c + rank)."""
    fused: dict[int, float] = {}
    for rows, weight in zip(rankings, weights):
        for rank, row in enumerate(rows, start=1):
            fused[row] = fused.get(row, 0.0) + weight / (c + rank)
    return fused


def minmax(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min()) if len(x) else 0.0
    return (x - x.min()) / span if span > 0 else np.zeros_like(x, dtype=float)


def zscore(x: np.ndarray) -> np.ndarray:
    std = float(x.std()) if len(x) else 0.0
    return (x - x.mean()) / std if std > 0 else np.zeros_like(x, dtype=float)


_NORMALISE: dict[str, Callable[[np.ndarray], np.ndarray]] = {"minmax": minmax, "zscore": zscore}


def _normalised(retriever: Retriever, query: str, depth: int,
                norm: Callable[[np.ndarray], np.ndarray]) -> tuple[list[int], Callable[[int], float]]:
    """(candidate rows, normalised score of any row) for one retriever."""
    hits = retriever.search(query, depth)
    full = retriever.score_all(query)
    if full is not None:
        scaled = norm(np.asarray(full, dtype=float))
        return [r for r, _ in hits], lambda row: float(scaled[row])
    values = norm(np.array([s for _, s in hits], dtype=float))
    table = {row: float(v) for (row, _), v in zip(hits, values)}
    floor = float(values.min()) if len(values) else 0.0  # unranked rows: no better than its last
    return [r for r, _ in hits], lambda row: table.get(row, floor)


class FusionRetriever(Retriever):
    """Fuse retrievers by ``settings.method``, then boost rows covering rare query terms.

    Without ``settings`` they come from :func:`~rag.config.load_config` (``rag.toml``,
    ``RAG_FUSION`` and the like). ``weights`` overrides the per-retriever weights that
    ``settings.lexical_weight`` implies; ``lexicon`` defaults to the first retriever's."""

    def __init__(self, retrievers: list[Retriever], weights: list[float] | None = None, depth: int | None = None,
                 c: int | None = None, *, settings: FusionSettings | None = None, lexicon: Lexicon | None = None):
        base = settings or FusionSettings.from_config(load_config())
        changes = {name: v for name, v in (("depth", depth), ("c", c)) if v is not None}
        self.settings = dataclasses.replace(base, **changes)
        self.retrievers = retrievers
        lexical = [hasattr(r, "lexicon") for r in retrievers]
        w = self.settings.lexical_weight
        if weights is None:
            n_lex = sum(lexical)
            n_other = len(retrievers) - n_lex
            weights = [(w / n_lex if is_lex else (1 - w) / n_other) if n_lex and n_other else 1.0 / len(retrievers)
                       for is_lex in lexical]
        self.weights = weights
        self.lexicon = lexicon or next((r.lexicon for r in retrievers if hasattr(r, "lexicon")), None)

    @property
    def depth(self) -> int:
        return self.settings.depth

    def fuse(self, query: str, k: int) -> dict[int, float]:
        """Candidate row -> fused score, before any rare-term boost."""
        s, depth = self.settings, max(k, self.settings.depth)
        if s.method == "rrf":
            rankings = [[row for row, _ in r.search(query, depth)] for r in self.retrievers]
            return rrf(rankings, self.weights, s.c)
        parts = [_normalised(r, query, depth, _NORMALISE[s.method]) for r in self.retrievers]
        candidates = dict.fromkeys(row for rows, _ in parts for row in rows)
        return {row: sum(w * score(row) for (_, score), w in zip(parts, self.weights)) for row in candidates}

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        fused = self.fuse(query, k)
        if self.settings.rare_boost > 0 and self.lexicon is not None and fused:
            fused = self._boost(query, fused)
        return sorted(fused.items(), key=lambda kv: -kv[1])[:k]

    def _boost(self, query: str, fused: dict[int, float]) -> dict[int, float]:
        rare = self.lexicon.rare_terms(tokenize(query), self.settings.rare_df)
        if not rare:
            return fused
        rows = list(fused)
        # on the 0..1 scale of the candidates' fused scores, so one boost suits every method
        base = minmax(np.array([fused[r] for r in rows]))
        boosted = base + self.settings.rare_boost * self.lexicon.coverage(rows, rare)
        return {r: float(b) for r, b in zip(rows, boosted)}


def to_passages(index: Index, hits: list[tuple[int, float]], query_vector: np.ndarray) -> list[Passage]:
    """Passages for ``hits`` in order, each scored by dense cosine similarity to the query."""
    out = []
    for rank, (row, _) in enumerate(hits, start=1):
        c = index.chunks[row]
        score = float(index.vectors[row] @ query_vector)
        out.append(Passage(chunk_id=c.chunk_id, source=c.source, title=c.title, date=c.date, text=c.text,
                           start=c.start, end=c.end, score=round(score, 4), rank=rank))
    return out
