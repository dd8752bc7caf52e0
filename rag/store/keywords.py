"""The persistent keyword index of the embedded store: tantivy (BM25, on disk, incremental).

Each chunk is one tantivy document: its key (an indexed u64 fast field) and the tokens of
:func:`rag.store.text.tokenize` joined by spaces, split again by a whitespace analyzer, so
the index and the queries share one tokeniser. Scores are tantivy's BM25 (k1 = 1.2, b = 0.75).

tantivy commits on its own; the store decides which keys are visible (rag.store.embedded),
so a document of a generation that was never published is simply filtered out.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import IndexMismatchError
from .base import Hit
from .text import tokenize

log = logging.getLogger(__name__)

ENGINE = "tantivy"
_ANALYZER = "rag_ws"


def _schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("key", stored=False, indexed=True, fast=True)
    builder.add_text_field("body", stored=False, tokenizer_name=_ANALYZER, index_option="freq")
    return builder.build()


def _open(path: Path | None, create: bool):
    import tantivy

    if path is None:  # in RAM
        index = tantivy.Index(_schema())
        index.register_tokenizer(_ANALYZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
        return index
    if not create and not (path / "meta.json").is_file():
        raise FileNotFoundError(f"no keyword index in {path}")
    if create:  # a reader creates nothing: its folder may be read-only
        path.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(_schema(), path=str(path), reuse=True)
    index.register_tokenizer(_ANALYZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
    return index


class KeywordIndex:
    """Read side: BM25 search and document frequencies."""

    def __init__(self, path: Path | None, index=None):
        self.path = path
        self._index = index if index is not None else self._open_for_reading(path)
        self._schema = self._index.schema
        self._searcher = self._index.searcher()

    def _open_for_reading(self, path: Path | None):
        try:
            return _open(path, create=False)
        except ValueError as err:
            # tantivy takes a lock file even to read, which a read-only folder (a mount, another
            # user's index) refuses: nothing can write there, so a private copy reads the same
            if path is None or "Lockfile" not in str(err):
                raise
        copy = Path(tempfile.mkdtemp(prefix="rag-keywords-"))
        weakref.finalize(self, shutil.rmtree, copy, True)
        try:
            shutil.copytree(path, copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".tantivy-*.lock"))
        except OSError as err:  # a file that went while it was copied: the index is being written
            raise IndexMismatchError(f"keyword index {path} changed while it was copied for reading ({err}); "
                               "open it again") from None
        log.warning("keyword index %s cannot be locked for reading (read-only folder?): reading a copy in %s",
                    path, copy)
        return _open(copy, create=False)

    def reload(self) -> None:
        self._index.reload()
        self._searcher = self._index.searcher()

    def search(self, query: str, k: int) -> list[Hit]:
        import tantivy

        terms = list(dict.fromkeys(tokenize(query)))
        if not terms or k < 1:
            return []
        q = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "body", t, index_option="freq")) for t in terms])
        hits = self._searcher.search(q, limit=k, count=False).hits
        if not hits:
            return []
        keys = self._searcher.fast_field_values("key", [addr for _, addr in hits])
        return [(int(key), float(score)) for (score, _), key in zip(hits, keys) if key is not None]

    def doc_freq(self, terms: Sequence[str]) -> dict[str, int]:
        return {t: int(self._searcher.doc_freq("body", t)) for t in dict.fromkeys(terms)}

    @property
    def num_docs(self) -> int:
        return int(self._searcher.num_docs)


class KeywordWriter:
    """Write side: add and delete documents by key; ``commit`` makes them durable."""

    def __init__(self, path: Path | None, heap_bytes: int = 128_000_000, threads: int = 1, index=None):
        import tantivy

        self.path = path
        self._index = index if index is not None else _open(path, create=True)
        self._schema = self._index.schema
        self._writer = self._index.writer(heap_size=heap_bytes, num_threads=threads)
        self._tantivy = tantivy
        self.dirty = False

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        """Index ``(key, text)`` pairs (text: title + chunk text)."""
        for key, text in rows:
            doc = self._tantivy.Document()
            doc.add_unsigned("key", key)
            doc.add_text("body", " ".join(tokenize(text)))
            self._writer.add_document(doc)
            self.dirty = True

    def delete(self, keys: Sequence[int]) -> None:
        for i in range(0, len(keys), 10_000):
            part = [int(k) for k in keys[i:i + 10_000]]
            self._writer.delete_documents_by_query(self._tantivy.Query.term_set_query(self._schema, "key", part))
            self.dirty = True

    def clear(self) -> None:
        self._writer.delete_all_documents()
        self.dirty = True

    def commit(self) -> None:
        if self.dirty:
            self._writer.commit()
            self.dirty = False

    def close(self) -> None:
        try:
            if self.dirty:
                self._writer.rollback()
            self._writer.wait_merging_threads()
        except (ValueError, RuntimeError) as err:  # a writer already used up
            log.debug("keyword writer close: %s", err)


def memory_keywords(rows: Iterable[tuple[int, str]]) -> KeywordIndex:
    """A keyword index in RAM over ``(key, text)`` pairs (tests, small tools)."""
    index = _open(None, create=True)
    writer = KeywordWriter(None, heap_bytes=15_000_000, index=index)
    writer.add(rows)
    writer.dirty = True
    writer.commit()
    writer.close()
    index.reload()
    return KeywordIndex(None, index=index)
