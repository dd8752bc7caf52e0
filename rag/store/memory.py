"""A store held in memory: exact vector search with numpy, BM25 by an in-RAM tantivy index.

For unit tests and small tools; the smallest complete example of the :class:`Store` protocol.
Keys are the positions of the chunks plus one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import CorpusError
from ..types import Chunk
from .base import DocumentInfo, FileState, Hit
from .keywords import KeywordIndex, memory_keywords
from .text import index_text


class MemoryStore:
    def __init__(self, chunks: Sequence[Chunk], vectors: np.ndarray | None = None, texts: dict[str, str] | None = None):
        self._chunks = list(chunks)
        self._vectors = vectors if vectors is not None else np.zeros((len(self._chunks), 1), np.float32)
        self._texts = dict(texts or {})
        self.settings: dict = {}
        self._keywords: KeywordIndex = memory_keywords((i + 1, index_text(c.title, c.text)) for i, c in enumerate(self._chunks))

    def __len__(self) -> int:
        return len(self._chunks)

    def dense_search(self, vector: np.ndarray, k: int) -> list[Hit]:
        if not self._chunks or k < 1:
            return []
        scores = self._vectors @ np.asarray(vector, dtype=np.float32)
        rows = np.argsort(-scores, kind="stable")[:k]
        return [(int(r) + 1, float(scores[r])) for r in rows]

    def keyword_search(self, query: str, k: int) -> list[Hit]:
        return self._keywords.search(query, k)

    def chunks(self, keys: Sequence[int]) -> dict[int, Chunk]:
        return {k: self._chunks[k - 1] for k in keys if 0 < k <= len(self._chunks)}

    def vectors(self, keys: Sequence[int]) -> np.ndarray:
        return self._vectors[[k - 1 for k in keys]]

    def doc_freq(self, terms: Sequence[str]) -> dict[str, int]:
        return self._keywords.doc_freq(terms)

    def document_text(self, source: str) -> str:
        try:
            return self._texts[source]
        except KeyError:
            raise CorpusError(f"no document {source!r} in the index") from None

    def documents(self) -> list[DocumentInfo]:
        out: dict[str, list[Chunk]] = {}
        for c in self._chunks:
            out.setdefault(c.source, []).append(c)
        return [DocumentInfo(s, cs[0].title, cs[0].date, len(cs), len(self._texts.get(s, "")), (cs[0].title,))
                for s, cs in sorted(out.items())]

    def files(self) -> dict[str, FileState]:
        return {d.source: FileState(d.source, "", 0, 0, d.title, d.date, d.articles, d.n_chunks) for d in self.documents()}

    def close(self) -> None:
        pass
