"""The corpus folder's files: copying articles in and setting them aside, never deleting one.

Scope: file operations on ``<corpus>/`` and ``<corpus>/.removed/`` for
:meth:`rag.Assistant.add_files` and :meth:`rag.Assistant.remove_document`, which hold a lock around
them and re-index after. Indexing itself is :mod:`rag.store.sync`.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from .errors import CorpusError
from .ingest import load_file
from .reading import SUPPORTED_SUFFIXES

log = logging.getLogger(__name__)


def copy_in(corpus: Path, paths: list[str | Path], max_file_bytes: int) -> None:
    """Copy ``paths`` into ``corpus``. Every file is read and cleaned first, so a bad one is
    refused (CorpusError naming it) before anything is copied; a file with the name of a document
    replaces it, and the old file is kept under ``<corpus>/.removed/``."""
    if isinstance(paths, (str, Path)):
        raise CorpusError(f"add_files takes a list of paths, not the single path {str(paths)!r}; pass [{str(paths)!r}]")
    for p in map(Path, paths):
        if p.name.startswith("."):
            raise CorpusError(f"{p.name}: hidden files (names starting with a dot) are never indexed")
        if p.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise CorpusError(f"{p.name}: unsupported file type {p.suffix!r} (use {', '.join(SUPPORTED_SUFFIXES)})")
        if not p.is_file():
            raise CorpusError(f"{p}: no such file")
        if p.stat().st_size > max_file_bytes:
            raise CorpusError(f"{p.name}: {p.stat().st_size:,} bytes is over the {max_file_bytes:,}-byte limit")
        load_file(p, p.name)  # raises CorpusError for binary, unreadable or empty files
    corpus.mkdir(parents=True, exist_ok=True)
    for p in map(Path, paths):
        target = corpus / p.name
        if target.is_file() and target.resolve() == p.resolve():
            continue  # the corpus's own file: it is there already, and setting it aside would lose it
        if target.is_file():
            log.info("%s replaces the document of that name; the old one is kept as %s", p.name,
                     set_aside(corpus, target))
        shutil.copyfile(p, target)


def set_aside_document(corpus: Path, source: str) -> Path:
    """Move document ``source`` (its path under ``corpus``) into ``<corpus>/.removed/``;
    CorpusError when ``corpus`` holds no such file."""
    if not isinstance(source, str) or not source:
        raise CorpusError(f"remove_document takes a document's source name, such as 'a.txt', not {source!r}")
    # the document's own entry, a link included: resolving it would move what a link points to
    # (another document of the corpus, or a file outside it) and leave the link behind
    path = corpus / source
    inside = not Path(source).is_absolute() and ".." not in Path(source).parts
    if not inside or not (path.is_file() or path.is_symlink()):
        raise CorpusError(f"no document {source!r} in {corpus}")
    return set_aside(corpus, path)


def set_aside(corpus: Path, path: Path) -> Path:
    """Move a corpus file into ``<corpus>/.removed/``, never over an earlier one kept there."""
    trash = corpus / ".removed"
    trash.mkdir(exist_ok=True)
    target, n = trash / path.name, 1
    while target.exists():
        n += 1
        target = trash / f"{path.stem}.{n}{path.suffix}"
    shutil.move(str(path), target)
    return target


__all__ = ["copy_in", "set_aside", "set_aside_document"]
