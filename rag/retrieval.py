"""Retrieval: dense (FAISS), lexical (BM25) and their fusion.

Scope: every retriever implements one method, ``search(query, k) -> [(key, score)]``
over the chunk keys of a store (:mod:`rag.store`); :func:`to_passages` resolves keys to
:class:`~rag.types.Passage` objects carrying the dense cosine score, which is the
confidence signal whatever fused them.

:class:`FusionRetriever` combines retrievers by one of :data:`FUSION_METHODS`
(``Config.fusion``; ``Config.lexical_weight`` is BM25's share, 0.5 weighs both alike):

- ``zscore`` (default): each retriever's scores are z-scored over its deep candidate list
  (its best ``Config.fusion_pool`` chunks; a chunk off the list counts as the list's last),
  then combined convexly. A chunk's fused score says how far it stands out for each retriever.
- ``minmax``: the same with min-max normalisation.
- ``rrf``: weighted reciprocal rank fusion.

Any method can add a boost for covering the query's rare terms (``Config.rare_boost``,
1 by default, 0 turns it off): terms few chunks hold, and terms with digits (numbers, years,
identifiers).

Why score fusion by default: rank fusion sees only positions, so a chunk that one
retriever puts far ahead of every other (an exact match on a term almost no chunk holds)
counts no more than one that leads by a hair, and chunks ranked fairly well by both
retrievers outrank it. A normalised score keeps the size of the lead, and ordinary
queries, where no retriever's lead stands out, still fuse both.
scripts/retrieval_compare.py measures the methods.

What the model is shown of the results, and whether it is asked at all, is :mod:`rag.passages`.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .config import Config, load_config
from .embedding import Embedder
from .errors import RagError
from .store import Store
from .dating import days_named
from .store.text import index_text, tokenize

FUSION_METHODS = ("rrf", "minmax", "zscore")
__all__ = ["BM25Retriever", "DenseRetriever", "FUSION_METHODS", "FusionRetriever", "FusionSettings", "Lexicon",
           "Retriever", "StoreLexicon", "minmax", "rrf", "tokenize", "top_rows", "zscore"]


class Retriever(ABC):
    @abstractmethod
    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """The best ``k`` chunk keys of the store for ``query`` with their scores, best first."""


def top_rows(scores: np.ndarray, k: int, positive: bool = False) -> list[tuple[int, float]]:
    """The ``k`` best (position, score) pairs of ``scores``, best first; ties keep their order."""
    rows = np.argsort(-scores, kind="stable")[:k]
    return [(int(r), float(scores[r])) for r in rows if not positive or scores[r] > 0]


class DenseRetriever(Retriever):
    def __init__(self, store: Store, embedder: Embedder):
        self.store, self.embedder = store, embedder
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
        return self.store.dense_search(self.query_vector(query), k)

    def population(self) -> int:
        return len(self.store)


@dataclass(frozen=True)
class Lexicon:
    """Document frequencies of the BM25 terms of chunks held in memory, for telling rare query
    terms from common ones (:class:`StoreLexicon` asks a store instead)."""

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

    def rare_terms(self, terms: Sequence[str], max_share: float, digit_share: float = 1.0) -> dict[str, float]:
        """The query terms held by at most ``max_share`` of the rows, or, holding a digit, by at
        most ``digit_share``, with their IDF. Terms no row holds are left out: nothing can cover them."""
        out = {}
        for t in dict.fromkeys(terms):
            df = self.df.get(t, 0)
            if df and _rare(t, df, self.n_docs, max_share, digit_share):
                out[t] = self.idf(t)
        return out

    def coverage(self, rows: Sequence[int], weights: Mapping[str, float]) -> np.ndarray:
        """Share of the ``weights`` (term -> weight) each row holds, 0..1."""
        total = sum(weights.values())
        if not total:
            return np.zeros(len(rows))
        return np.array([sum(w for t, w in weights.items() if t in self.doc_terms[r]) / total for r in rows])


def _rare(term: str, df: int, n_rows: int, max_share: float, digit_share: float) -> bool:
    """Whether the rare-term boost counts ``term``: few rows hold it, or it holds a digit (a year,
    a code, a quarter) and not many do (``digit_share`` of the rows, or two). A year that a third
    of a small corpus's chunks hold ("2026" in a results call's every header) identifies nothing:
    counted, it alone decided, and lifted every chunk holding it over the one that answers."""
    if df <= max_share * n_rows:
        return True
    return any(ch.isdigit() for ch in term) and df <= max(digit_share * n_rows, 2)  # one or two chunks: rare in any corpus


def _days_named(query: str) -> set[str]:
    """The day numbers of the days ``query`` names with their month ("the 14 March report", "on
    March 3"): the date of a report is its metadata, seldom in its text, and a chunk holding "14"
    ("14 percent") is no closer for it."""
    return {str(day) for _, day in days_named(query)}


class StoreLexicon:
    """:class:`Lexicon` for a store: document frequencies from its keyword index, the terms
    of the (few) candidate chunks from their text."""

    def __init__(self, store: Store):
        self.store = store

    @property
    def n_docs(self) -> int:
        return len(self.store)

    def idf(self, term: str, df: int | None = None) -> float:
        df = self.store.doc_freq([term]).get(term, 0) if df is None else df
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def rare_terms(self, terms: Sequence[str], max_share: float, digit_share: float = 1.0) -> dict[str, float]:
        dfs = self.store.doc_freq(list(dict.fromkeys(terms)))
        return {t: self.idf(t, df) for t, df in dfs.items() if df and _rare(t, df, self.n_docs, max_share, digit_share)}

    def coverage(self, keys: Sequence[int], weights: Mapping[str, float]) -> np.ndarray:
        total = sum(weights.values())
        if not total:
            return np.zeros(len(keys))
        terms = {key: set(tokenize(index_text(c.title, c.text))) for key, c in self.store.chunks(keys).items()}
        return np.array([sum(w for t, w in weights.items() if t in terms.get(k, ())) / total for k in keys])


class BM25Retriever(Retriever):
    """Keyword retrieval: the store's BM25 index (tantivy in the embedded store)."""

    def __init__(self, store: Store):
        self.store = store
        self.lexicon = StoreLexicon(store)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        return self.store.keyword_search(query, k)  # only chunks sharing a term

    def population(self) -> int:
        return len(self.store)


# --------------------------------------------------------------------------- fusion


@dataclass(frozen=True)
class FusionSettings:
    """How :class:`FusionRetriever` fuses; the defaults are :class:`~rag.config.Config`'s."""

    method: str = Config.fusion  # one of FUSION_METHODS
    lexical_weight: float = Config.lexical_weight  # share of the lexical retrievers; the others share the rest
    rare_boost: float = Config.rare_boost  # full coverage of the rare query terms is worth this share of the fused spread
    rare_df: float = Config.rare_df  # a term is rare when at most this share of rows holds it
    rare_digit_df: float = Config.rare_digit_df  # ... a term with a digit, when at most this share does
    depth: int = Config.candidates  # chunks each retriever contributes as candidates
    pool: int = Config.fusion_pool  # chunks of each retriever whose scores set the normalisation
    c: int = 60  # RRF rank offset (Cormack et al., 2009)

    def __post_init__(self) -> None:
        if self.method not in FUSION_METHODS:
            raise RagError(f"fusion={self.method!r} is not one of {', '.join(FUSION_METHODS)}")
        if not 0.0 <= self.lexical_weight <= 1.0:
            raise RagError(f"lexical_weight={self.lexical_weight} must be between 0 and 1")
        if self.rare_boost < 0:
            raise RagError(f"rare_boost={self.rare_boost} must not be negative")
        if self.pool < 1:
            raise RagError(f"fusion_pool={self.pool} must be at least 1")
        for name in ("rare_df", "rare_digit_df"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise RagError(f"{name}={getattr(self, name)} must be above 0 and at most 1")

    @classmethod
    def from_config(cls, config: Config, **changes: object) -> "FusionSettings":
        return cls(method=config.fusion, lexical_weight=config.lexical_weight, rare_boost=config.rare_boost,
                   rare_df=config.rare_df, rare_digit_df=config.rare_digit_df, depth=config.candidates,
                   pool=config.fusion_pool,
                   **changes)  # type: ignore[arg-type]


def rrf(rankings: Sequence[Sequence[int]], weights: Sequence[float], c: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion: row -> sum of weight / (c + rank)."""
    fused: dict[int, float] = {}
    for rows, weight in zip(rankings, weights):
        for rank, row in enumerate(rows, start=1):
            fused[row] = fused.get(row, 0.0) + weight / (c + rank)
    return fused


def _scale(method: str, x: np.ndarray, rest: int = 0, fill: float = 0.0) -> tuple[float, float]:
    """(offset, spread) normalising scores ``x`` in a population of ``x`` plus ``rest``
    values equal to ``fill``: z-score (mean, std) or min-max (min, max - min)."""
    if not len(x):
        return 0.0, 0.0
    if method == "minmax":
        lo, hi = float(x.min()), float(x.max())
        if rest:
            lo, hi = min(lo, fill), max(hi, fill)
        return lo, hi - lo
    n = len(x) + rest
    mean = (float(x.sum()) + rest * fill) / n
    var = (float((x * x).sum()) + rest * fill * fill) / n - mean * mean
    return mean, (var ** 0.5 if var > 1e-18 else 0.0)


def _apply(x: np.ndarray | float, offset: float, spread: float) -> np.ndarray:
    return (np.asarray(x, dtype=float) - offset) / spread if spread > 0 else np.zeros_like(np.asarray(x, dtype=float))


def minmax(x: np.ndarray, rest: int = 0, fill: float = 0.0) -> np.ndarray:
    """Min-max scaling of ``x``; ``rest`` more values equal to ``fill`` count towards the range."""
    return _apply(x, *_scale("minmax", x, rest, fill))


def zscore(x: np.ndarray, rest: int = 0, fill: float = 0.0) -> np.ndarray:
    """Z-scores of ``x`` in a population of ``x`` plus ``rest`` values equal to ``fill``."""
    return _apply(x, *_scale("zscore", x, rest, fill))


def _normalised(retriever: Retriever, query: str, depth: int, pool: int,
                method: str) -> tuple[list[int], Callable[[int], float]]:
    """(candidate keys, normalised score of any key) for one retriever.

    Scores are normalised in the population of every chunk of the store without scoring
    every chunk: the retriever's best ``pool`` are known, and every other chunk counts as the
    list's last when the list was cut at ``pool``, or as 0 when the retriever returned all it
    matched (BM25: the rest share no term). A decisive lead keeps its size, which rank
    fusion loses, and a query costs two searches of depth ``pool`` whatever the store's size."""
    hits = retriever.search(query, max(depth, pool))
    scores = np.array([s for _, s in hits], dtype=float)
    population = getattr(retriever, "population", None)
    rest = max(0, population() - len(hits)) if population is not None else 0
    fill = float(scores.min()) if len(hits) >= pool else 0.0
    if not rest:  # nothing off the list: it is the population, and off-list keys count as its last
        fill = float(scores.min()) if len(hits) else 0.0
    offset, spread = _scale(method, scores, rest, fill)
    table = {key: float(v) for (key, _), v in zip(hits, _apply(scores, offset, spread))}
    off_list = float(_apply(fill, offset, spread))
    return [key for key, _ in hits[:depth]], lambda key: table.get(key, off_list)


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
        """Candidate key -> fused score, before any rare-term boost."""
        s, depth = self.settings, max(k, self.settings.depth)
        in_store = self._store_fusion()
        if in_store is not None:  # the store fuses both lists in one query (PostgreSQL), by the same formulas
            return in_store(query, depth)
        if s.method == "rrf":
            rankings = [[row for row, _ in r.search(query, depth)] for r in self.retrievers]
            return rrf(rankings, self.weights, s.c)
        parts = [_normalised(r, query, depth, max(s.pool, depth), s.method) for r in self.retrievers]
        candidates = dict.fromkeys(row for rows, _ in parts for row in rows)
        return {row: sum(w * score(row) for (_, score), w in zip(parts, self.weights)) for row in candidates}

    def _store_fusion(self) -> Callable[[str, int], dict[int, float]] | None:
        """The store's ``hybrid_search`` when the retrievers are its dense and keyword search."""
        if len(self.retrievers) != 2:
            return None
        dense, keyword = self.retrievers
        if not (type(dense) is DenseRetriever and type(keyword) is BM25Retriever and dense.store is keyword.store):
            return None
        hybrid = getattr(dense.store, "hybrid_search", None)
        if hybrid is None:
            return None
        return lambda query, depth: hybrid(dense.query_vector(query), query, depth, self.settings, self.weights)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        fused = self.fuse(query, k)
        if self.settings.rare_boost > 0 and self.lexicon is not None and fused:
            fused = self._boost(query, fused)
        return sorted(fused.items(), key=lambda kv: -kv[1])[:k]

    def _boost(self, query: str, fused: dict[int, float]) -> dict[int, float]:
        days = _days_named(query)
        terms = [t for t in tokenize(query) if t not in days]
        rare = self.lexicon.rare_terms(terms, self.settings.rare_df, self.settings.rare_digit_df)
        if not rare:
            return fused
        rows = list(fused)
        # on the 0..1 scale of the candidates' fused scores, so one boost suits every method
        base = minmax(np.array([fused[r] for r in rows]))
        boosted = base + self.settings.rare_boost * self.lexicon.coverage(rows, rare)
        return {r: float(b) for r, b in zip(rows, boosted)}
