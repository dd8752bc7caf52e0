"""The store protocol: what retrieval and the Assistant need from an index, whatever holds it.

A store keeps chunks (text + metadata), one normalised vector per chunk, a keyword (BM25)
index over the chunks and each file's source text. Chunks are addressed by **keys**: stable
positive integers the store assigns (SQLite rowid and FAISS id in the embedded store, a
``bigint`` in PostgreSQL). A key is never reused for other content, so retrievers return
keys, fusion combines keys, and only the handful of winners are resolved to chunks.

Reading (:class:`Store`) and writing (:class:`StoreWriter`) are apart: a reader never
takes the write lock; :func:`rag.store.sync.sync` drives a writer (scan the corpus, chunk,
embed what is new, hand each changed file to the writer), and ``commit`` publishes the
changes at once. A backend (:class:`Backend`) opens readers and writers for a
:class:`~rag.config.Config`; backends are registered by name in ``rag.store.BACKENDS``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from ..types import Chunk

if TYPE_CHECKING:
    from ..config import Config

Hit = tuple[int, float]  # (chunk key, score), best first
Progress = Callable[[int, int, str], None]  # (done, total, stage): "reading <file>", "embedding", "writing"


@dataclass(frozen=True)
class FileState:
    """What the store knows of one corpus file: enough to tell, without reading it, whether it changed."""

    source: str  # path relative to the corpus folder, posix
    sha256: str
    size: int
    mtime_ns: int
    title: str = ""
    date: str | None = None
    articles: tuple[str, ...] = ()  # titles of the articles the file holds (a file may glue several)
    n_chunks: int = 0
    skipped: str = ""  # why the file is not indexed ("" when it is); a skipped file is remembered, not retried


@dataclass(frozen=True)
class IndexReport:
    files: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0  # chunks embedded this run (0 when nothing changed)
    n_chunks: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    # files of a type the corpus does not read (a spreadsheet, a picture): suffix -> how many,
    # so that a folder's files are never passed over without a word
    not_read: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [f"{self.files} files", f"{self.n_chunks} chunks",
                 f"{self.added} added", f"{self.updated} updated", f"{self.removed} removed",
                 f"{self.unchanged} unchanged", f"{self.embedded} chunks embedded"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        if self.not_read:
            kinds = ", ".join(f"{n} {suffix or 'without a suffix'}" for suffix, n in sorted(self.not_read.items()))
            parts.append(f"{sum(self.not_read.values())} of a type not read ({kinds})")
        return ", ".join(parts)


@dataclass(frozen=True)
class DocumentInfo:
    source: str
    title: str
    date: str | None
    n_chunks: int
    n_chars: int
    articles: tuple[str, ...] = ()  # titles of the articles the file holds (a file may glue several)


@runtime_checkable
class Store(Protocol):
    """A read-only view of one published generation of an index."""

    settings: dict  # what the index was built with: {"embedder": {...}, "chunking": {...}, ...}

    def __len__(self) -> int:
        """Number of chunks."""

    def dense_search(self, vector: np.ndarray, k: int) -> list[Hit]:
        """The ``k`` chunks whose vectors have the highest inner product with ``vector``
        (a normalised query embedding, so the score is the cosine), best first."""

    def keyword_search(self, query: str, k: int) -> list[Hit]:
        """The ``k`` best BM25 matches of ``query`` (raw text; the store tokenises it with
        :func:`rag.store.text.tokenize`), best first; only chunks sharing a term."""

    def chunks(self, keys: Sequence[int]) -> dict[int, Chunk]:
        """The chunks of ``keys`` by key; keys not in this generation are left out."""

    def vectors(self, keys: Sequence[int]) -> np.ndarray:
        """The vectors of ``keys`` (len(keys) x dim float32), in that order."""

    def doc_freq(self, terms: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each term (already tokenised), for telling rare terms apart."""

    def document_text(self, source: str) -> str:
        """The text ``Chunk.start/end`` index into; raises CorpusError for an unknown source."""

    def documents(self) -> list[DocumentInfo]:
        """Every indexed file, sorted by source."""

    def files(self) -> dict[str, FileState]:
        """Every file the index knows (indexed or skipped), by source."""

    def close(self) -> None:
        ...


class StoreWriter(Protocol):
    """One sync. Nothing a writer does is visible to readers before :meth:`commit`;
    a writer that dies before it leaves the published generation as it was."""

    def settings(self) -> dict | None:
        """The published generation's settings, or None when there is no index yet."""

    def files(self) -> dict[str, FileState]:
        ...

    def reset(self) -> None:
        """Drop every chunk (a rebuild, or settings that changed)."""

    def cached_vectors(self, content_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors already known for these chunk content hashes: chunks in the index, and
        those an interrupted sync embedded (see :meth:`cache_vectors`)."""

    def cache_vectors(self, content_hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Keep freshly embedded vectors durably, so a sync that is killed resumes from them."""

    def put_file(self, state: FileState, text: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Add or replace one file: its old chunks go, ``chunks`` (rows aligned with ``vectors``) come."""

    def touch_file(self, state: FileState) -> None:
        """Record a new size/mtime (or skip reason) for a file whose indexed content is unchanged."""

    def remove_file(self, source: str) -> None:
        ...

    def count_chunks(self) -> int:
        """Chunks the generation being written holds (after the changes made so far)."""

    def count_files(self) -> int:
        """Files with chunks (not skipped) in the generation being written."""

    def commit(self, settings: dict, progress: Progress | None = None) -> None:
        """Publish every change made through this writer at once."""


class Backend(Protocol):
    """Opens readers and writers of one kind of store for a configuration."""

    def open(self, config: "Config", embedder_name: str) -> Store | None:
        """The published index, or None when there is none yet. Raises IndexMismatchError
        for an index built by another embedder or format, or a damaged one."""

    def writer(self, config: "Config") -> contextlib.AbstractContextManager[StoreWriter]:
        """A writer holding the store's write lock for the duration of the ``with`` block."""


def iter_batches(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
