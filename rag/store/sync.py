"""Bring a store in line with a corpus folder, embedding only what is new; for every backend.

A file whose size and mtime match what the store recorded is unchanged without being read;
any other is hashed, and only a file whose SHA-256 changed is cleaned, chunked and handed to
the writer. Chunks whose content hash the store already knows reuse their vectors; the rest
are embedded in batches, and each batch is kept by the writer (``cache_vectors``) before the
next, so a sync that is killed resumes where it stopped. Nothing is visible until ``commit``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import ingest
from ..chunking import TOKENIZER, chunk_documents
from ..embedding import embedding_text
from ..errors import CorpusError
from ..types import Chunk
from . import backend_for
from .base import FileState, IndexReport, Progress, Store, StoreWriter

log = logging.getLogger(__name__)

EMBED_BATCH = int(os.environ.get("RAG_EMBED_BATCH") or 256)  # chunks per embedding call; each is kept before the next


def chunking_settings(config) -> dict:
    return {"max_tokens": config.chunk_tokens, "overlap": config.chunk_overlap, "tokenizer": TOKENIZER,
            "cleaner_version": ingest.CLEANER_VERSION}


def settings_for(config, embedder) -> dict:
    return {"embedder": {"name": embedder.name, "dim": embedder.dim, "normalized": True},
            "chunking": chunking_settings(config)}


def _sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _suffix(name: str) -> str:
    """``os.path.splitext(name)[1].lower()`` for a name not starting with a dot, at a third of
    the cost (it runs once per file)."""
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _utf8(name: str) -> bool:
    """Whether a file name (as ``os`` gives it, undecodable bytes as surrogates) is UTF-8 text."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _fits_now(prev_sha: str, prev_skipped: str, size: int, config) -> bool:
    """A file skipped for its size (no hash was taken) that the ``max_file_bytes`` now allows."""
    return bool(prev_skipped) and not prev_sha and size <= config.max_file_bytes


def corpus_entries(corpus: Path, ordered: bool = True,
                   not_read: dict[str, int] | None = None) -> list[tuple[str, str, os.stat_result | None]]:
    """(source, path, stat or None when unreadable) of the files :func:`rag.reading.corpus_files`
    lists, in its order, found with ``os.scandir`` (one stat per file). Paths stay strings: at
    100k files, building and sorting ``Path`` objects cost more than the stats. ``not_read``, when
    given, counts the files of other types by suffix."""
    if not corpus.exists():
        raise CorpusError(f"corpus folder {corpus} does not exist")
    if not corpus.is_dir():
        raise CorpusError(f"corpus path {corpus} is not a folder")
    out: list[tuple[str, str, os.stat_result | None]] = []
    suffixes = ingest.SUPPORTED_SUFFIXES
    stack = [(str(corpus), "")]
    seen_dirs: set[tuple[int, int]] = set()  # (device, inode): a symlink back up the tree is read once
    while stack:
        folder, prefix = stack.pop()
        try:
            st_dir = os.stat(folder)
            if (st_dir.st_dev, st_dir.st_ino) in seen_dirs:
                log.warning("%s: a folder already read (a symlink loop or a second link to it); skipped", folder)
                continue
            seen_dirs.add((st_dir.st_dev, st_dir.st_ino))
            it = os.scandir(folder)
        except OSError as err:
            if folder == str(corpus):
                raise CorpusError(f"cannot read corpus folder {corpus} ({err.strerror or err})") from err
            log.warning("%s: cannot read folder (%s); its files are not indexed", folder, err.strerror or err)
            continue
        with it:
            for entry in it:
                if entry.name.startswith("."):
                    continue
                if not _utf8(entry.name):  # a name the stores cannot hold: it failed the whole sync
                    log.warning("%s: the name is not valid UTF-8; rename it to index it",
                                os.fsencode(entry.path).decode("utf-8", "replace"))
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    stack.append((entry.path, f"{prefix}{entry.name}/"))
                elif _suffix(entry.name) in suffixes and entry.is_file():
                    try:
                        st: os.stat_result | None = entry.stat()
                    except OSError:
                        st = None
                    out.append((prefix + entry.name, entry.path, st))
                elif _suffix(entry.name) in suffixes and entry.is_symlink():
                    log.warning("%s: a link to a file that does not exist; skipped", entry.path)
                elif not_read is not None and _suffix(entry.name) not in suffixes:
                    not_read[_suffix(entry.name)] = not_read.get(_suffix(entry.name), 0) + 1
    if ordered:
        out.sort(key=lambda e: e[0].split("/"))  # Path order (part by part): that of reading.corpus_files
    return out


def stamps_of(store: Store) -> dict[str, tuple[int, int, str, str]]:
    """source -> (size, mtime_ns, sha256, skip reason) of every file ``store`` knows."""
    stamps = getattr(store, "stamps", None)  # a store may list them faster than files()
    if stamps is not None:
        return stamps()
    return {s: (f.size, f.mtime_ns, f.sha256, f.skipped) for s, f in store.files().items()}


def needs_sync(config, store: Store, known: dict[str, tuple[int, int, str, str]] | None = None) -> bool:
    """Whether the corpus differs from what ``store`` indexed (``known``: its :func:`stamps_of`).
    Reads only files whose size or mtime changed, and hashes them to tell a touched file from an
    edited one."""
    return out_of_date(config, store, known) is not None


def out_of_date(config, store: Store, known: dict[str, tuple[int, int, str, str]] | None = None) -> str | None:
    """Why ``store`` no longer matches the corpus, in words (the first reason found), or None."""
    indexed_with, now = store.settings.get("chunking") or {}, chunking_settings(config)
    if indexed_with != now:
        changed = [f"{key} {indexed_with.get(key)} -> {now.get(key)}" for key in sorted(set(indexed_with) | set(now))
                   if indexed_with.get(key) != now.get(key)]
        return "it was chunked with other settings (" + ", ".join(changed) + ")"
    known = stamps_of(store) if known is None else known
    seen = set()
    for source, path, st in corpus_entries(Path(config.corpus), ordered=False):
        seen.add(source)
        prev = known.get(source)
        if prev is None:
            return f"{source} is new"
        if st is None:
            return f"{source} cannot be read now"
        try:
            if st.st_size == prev[0] and st.st_mtime_ns == prev[1]:
                if _fits_now(prev[2], prev[3], st.st_size, config):
                    return f"{source} is within max_file_bytes now"
                continue
            if prev[3] and st.st_size > config.max_file_bytes:
                continue
            if _sha256(Path(path)) != prev[2]:
                return f"{source} changed"
        except OSError:
            return f"{source} cannot be read now"
    gone = sorted(set(known) - seen)
    if gone:
        return f"{gone[0]} was removed" + (f" (and {len(gone) - 1} more)" if len(gone) > 1 else "")
    return None


@dataclasses.dataclass
class _Plan:
    state: FileState
    text: str
    chunks: list[Chunk]
    kind: str  # "added" or "updated"


def sync(config, embedder, *, rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
    """Sync the store of ``config`` (``config.store`` in ``config.index_dir``/DSN) with ``config.corpus``."""
    corpus = Path(config.corpus)
    not_read: dict[str, int] = {}
    files = corpus_entries(corpus, not_read=not_read)
    if not_read:
        log.info("%s: %d files of a type not read (%s)", corpus, sum(not_read.values()), ", ".join(sorted(not_read)))
    wanted = settings_for(config, embedder)
    with backend_for(config).writer(config) as w:
        prev = w.settings()
        reset = rebuild or prev is None or prev.get("embedder") != wanted["embedder"]
        if reset:
            w.reset()
        same_chunking = not reset and prev.get("chunking") == wanted["chunking"]
        known = {} if reset else w.files()
        counts = dict(added=0, updated=0, removed=0, unchanged=0)
        skipped: list[tuple[str, str]] = []
        plans: list[_Plan] = []
        seen: set[str] = set()
        for n, (source, path, st) in enumerate(files):
            seen.add(source)
            if progress and (n % 100 == 0 or n + 1 == len(files)):
                progress(n, len(files), f"reading {source}")
            plan = _plan_file(w, path, source, st, known.get(source), same_chunking, config, skipped, counts)
            if plan is not None:
                plans.append(plan)
        if progress and files:
            progress(len(files), len(files), "reading done")
        removed = [s for s in known if s not in seen]
        vectors = _embed(w, embedder, [c for p in plans for c in p.chunks], progress)
        for p in plans:
            dim = wanted["embedder"]["dim"]
            rows = np.stack([vectors[c.content_hash] for c in p.chunks]) if p.chunks else np.zeros((0, dim), np.float32)
            w.put_file(p.state, p.text, p.chunks, rows)
            counts[p.kind] += 1
        for source in removed:
            w.remove_file(source)
        counts["removed"] = len(removed)
        n_chunks = w.count_chunks()
        if not n_chunks:
            detail = f" ({len(skipped)} files skipped: {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
            if not_read:
                detail += f" (it holds {sum(not_read.values())} files of other types: {', '.join(sorted(not_read))})"
            raise CorpusError(f"no articles to index in {corpus}: it holds no readable "
                              f"{', '.join(ingest.SUPPORTED_SUFFIXES)} files{detail}")
        w.commit(wanted, progress)
        n_files = w.count_files()
    return IndexReport(files=n_files, n_chunks=n_chunks, embedded=vectors.embedded, skipped=skipped, not_read=not_read, **counts)


def _plan_file(w: StoreWriter, path: str | Path, source: str, st: os.stat_result | None, prev: FileState | None,
               same_chunking: bool, config,
               skipped: list[tuple[str, str]], counts: dict[str, int]) -> _Plan | None:
    """What to do with one file: None when it is unchanged or skipped (recorded on the way)."""
    indexed_before = prev is not None and not prev.skipped

    def skip(reason: str, state: FileState) -> None:
        if not indexed_before:
            skipped.append((source, reason))
            w.touch_file(state)
            return
        # a file indexed before keeps its earlier text in the index (losing nothing); its stamps
        # move on, so the index is not "out of date" for a file that no later sync can read
        skipped.append((source, f"{reason}; the index keeps its earlier version"))
        w.touch_file(dataclasses.replace(prev, size=state.size, mtime_ns=state.mtime_ns))

    if st is None:
        skipped.append((source, "cannot read (stat failed)"))
        return None
    if prev is not None and same_chunking and (st.st_size, st.st_mtime_ns) == (prev.size, prev.mtime_ns) \
            and not _fits_now(prev.sha256, prev.skipped, st.st_size, config):
        if prev.skipped:
            skipped.append((source, prev.skipped))
        else:
            counts["unchanged"] += 1
        return None
    path = Path(path)  # only files whose size or mtime changed get here: few
    if st.st_size > config.max_file_bytes:
        reason = f"{source}: {st.st_size:,} bytes is over the {config.max_file_bytes:,}-byte limit; skipped"
        skip(reason, FileState(source, "", st.st_size, st.st_mtime_ns, skipped=reason))
        return None
    try:
        digest = _sha256(path)
    except OSError as err:
        skipped.append((source, f"cannot read ({err.strerror or err})"))
        return None
    if prev is not None and same_chunking and digest == prev.sha256:
        w.touch_file(dataclasses.replace(prev, size=st.st_size, mtime_ns=st.st_mtime_ns))
        if prev.skipped:
            skipped.append((source, prev.skipped))
        else:
            counts["unchanged"] += 1
        return None
    try:
        text, docs = ingest.load_file(path, source)
    except CorpusError as err:
        log.warning("%s", err)
        reason = str(err).split(": ", 1)[-1]
        skip(reason, FileState(source, digest, st.st_size, st.st_mtime_ns, skipped=reason))
        return None
    chunks = chunk_documents(docs, config.chunk_tokens, config.chunk_overlap)
    state = FileState(source, digest, st.st_size, st.st_mtime_ns, docs[0].title, docs[0].date,
                      tuple(d.title for d in docs), len(chunks))
    return _Plan(state, text, chunks, "updated" if indexed_before else "added")


class _Vectors(dict):
    embedded = 0


def _embed(w: StoreWriter, embedder, chunks: Sequence[Chunk], progress: Progress | None) -> _Vectors:
    """content hash -> vector for ``chunks``: known ones from the writer, the rest embedded in
    batches, each kept by the writer before the next (so a killed sync resumes)."""
    out = _Vectors()
    by_hash = {c.content_hash: c for c in chunks}
    hashes = list(by_hash)
    for i in range(0, len(hashes), 10_000):
        out.update(w.cached_vectors(hashes[i:i + 10_000]))
    todo = [h for h in hashes if h not in out]
    if progress:
        progress(0, len(todo), "embedding")
    for i in range(0, len(todo), EMBED_BATCH):
        batch = todo[i:i + EMBED_BATCH]
        vecs = embedder.encode([embedding_text(by_hash[h].title, by_hash[h].text) for h in batch])
        w.cache_vectors(batch, vecs)
        out.update(zip(batch, vecs))
        if progress:
            progress(min(i + EMBED_BATCH, len(todo)), len(todo), "embedding")
    out.embedded = len(todo)
    if todo:
        log.info("embedded %d chunks (%d reused)", len(todo), len(hashes) - len(todo))
    return out
