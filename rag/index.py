"""The index: kept by a store (:mod:`rag.store`; the embedded store by default).

This module keeps the names older code imports: :class:`Index` is the embedded store,
:func:`sync` brings an index folder in line with a corpus folder.
"""

from __future__ import annotations

from pathlib import Path

from .config import Config
from .embedding import Embedder
from .store import DocumentInfo, IndexReport, Progress
from .store.embedded import FORMAT_VERSION, MANIFEST, EmbeddedStore as Index
from .store.sync import needs_sync, sync as sync_store

__all__ = ["DocumentInfo", "FORMAT_VERSION", "Index", "IndexReport", "MANIFEST", "needs_sync", "sync"]


def sync(corpus: Path, directory: Path, embedder: Embedder, *, chunk_tokens: int, chunk_overlap: int,
         rebuild: bool = False, max_file_bytes: int = 5_000_000, progress: Progress | None = None,
         config: Config | None = None) -> tuple[Index, IndexReport]:
    """Bring the embedded index in ``directory`` in line with the files under ``corpus``."""
    cfg = (config or Config()).replace(corpus=corpus, index_dir=directory, chunk_tokens=chunk_tokens,
                                       chunk_overlap=chunk_overlap, max_file_bytes=max_file_bytes,
                                       embedder=embedder.name, store="embedded")
    report = sync_store(cfg, embedder, rebuild=rebuild, progress=progress)
    index = Index.load(Path(directory), embedder.name)
    assert index is not None  # a sync that returns has published an index
    return index, report
