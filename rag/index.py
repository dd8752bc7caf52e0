"""The on-disk index: chunks, source texts and a FAISS inner-product index of their
normalised embeddings, described by ``manifest.json``.

Scope: open an index and refuse one built by another embedder or format; bring it
in sync with a corpus folder, embedding only chunks whose content hash is new;
write atomically (data files under fresh names, then the manifest swapped in with
``os.replace``), so a crash mid-index leaves the previous index usable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import ingest
from .chunking import TOKENIZER, chunk_documents
from .embedding import Embedder, embedding_text
from .errors import CorpusError, IndexMismatchError
from .types import Chunk

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"

Progress = Callable[[int, int, str], None]


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

    def summary(self) -> str:
        parts = [f"{self.files} files", f"{self.n_chunks} chunks",
                 f"{self.added} added", f"{self.updated} updated", f"{self.removed} removed",
                 f"{self.unchanged} unchanged", f"{self.embedded} chunks embedded"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return ", ".join(parts)


@dataclass(frozen=True)
class DocumentInfo:
    source: str
    title: str
    date: str | None
    n_chunks: int
    n_chars: int
    articles: tuple[str, ...] = ()  # titles of the articles the file holds (a file may glue several)


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One writer at a time (CLI and UI may index the same folder)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Index:
    """Chunks + vectors in memory; rows of ``vectors`` align with ``chunks``."""

    def __init__(self, directory: Path, manifest: dict, chunks: list[Chunk], texts: dict[str, str], vectors: np.ndarray):
        import faiss

        self.directory = directory
        self.manifest = manifest
        self.chunks = chunks
        self.texts = texts
        self.vectors = vectors
        self.faiss = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            self.faiss.add(vectors)

    def __len__(self) -> int:
        return len(self.chunks)

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not self.chunks:
            return []
        scores, rows = self.faiss.search(query_vector.reshape(1, -1).astype(np.float32), min(k, len(self.chunks)))
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]

    def documents(self) -> list[DocumentInfo]:
        counts: dict[str, int] = {}
        articles: dict[str, dict[str, str]] = {}
        for c in self.chunks:
            counts[c.source] = counts.get(c.source, 0) + 1
            articles.setdefault(c.source, {}).setdefault(c.doc_id, c.title)
        out = []
        for source, meta in sorted(self.manifest["files"].items()):
            titles = tuple(articles.get(source, {}).values()) or (meta["title"],)
            out.append(DocumentInfo(source, meta["title"], meta.get("date"), counts.get(source, 0),
                                    len(self.texts.get(source, "")), titles))
        return out

    # --- loading -----------------------------------------------------------------

    @staticmethod
    def read_manifest(directory: Path) -> dict | None:
        path = directory / MANIFEST
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise IndexMismatchError(
                f"index manifest {path} is unreadable ({err}); rebuild it with: rag index --rebuild") from err

    @staticmethod
    def check_manifest(manifest: dict, directory: Path, embedder_name: str) -> None:
        version = manifest.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"index {directory} has format version {version!r}, this program reads {FORMAT_VERSION}; "
                f"rebuild it with: rag index --rebuild --index-dir {directory}")
        built = manifest.get("embedder", {}).get("name")
        if built != embedder_name:
            raise IndexMismatchError(
                f"index {directory} was built with embedder {built!r}, but the configured embedder is "
                f"{embedder_name!r}; rebuild it with: rag index --rebuild --index-dir {directory}")

    @classmethod
    def load(cls, directory: Path, embedder_name: str) -> "Index | None":
        """The index in ``directory``, or None when there is none yet."""
        import faiss

        manifest = cls.read_manifest(directory)
        if manifest is None:
            return None
        cls.check_manifest(manifest, directory, embedder_name)
        data = manifest["data"]
        try:
            with open(directory / data["chunks"], encoding="utf-8") as fh:
                chunks = [Chunk(**json.loads(line)) for line in fh if line.strip()]
            texts = json.loads((directory / data["texts"]).read_text(encoding="utf-8"))
            fidx = faiss.read_index(str(directory / data["vectors"]))
            vectors = fidx.reconstruct_n(0, fidx.ntotal) if fidx.ntotal else np.zeros((0, manifest["embedder"]["dim"]), np.float32)
        except (OSError, KeyError, TypeError, ValueError, RuntimeError) as err:
            raise IndexMismatchError(
                f"index {directory} is damaged ({err}); rebuild it with: rag index --rebuild --index-dir {directory}") from err
        if len(chunks) != len(vectors):
            raise IndexMismatchError(f"index {directory} has {len(chunks)} chunks but {len(vectors)} vectors; rebuild it with: rag index --rebuild")
        return cls(directory, manifest, chunks, texts, np.ascontiguousarray(vectors, dtype=np.float32))


def _settings(embedder: Embedder, chunk_tokens: int, chunk_overlap: int) -> dict:
    return {
        "embedder": {"name": embedder.name, "dim": embedder.dim, "normalized": True},
        "chunking": {"max_tokens": chunk_tokens, "overlap": chunk_overlap, "tokenizer": TOKENIZER,
                     "cleaner_version": ingest.CLEANER_VERSION},
    }


def sync(corpus: Path, directory: Path, embedder: Embedder, *, chunk_tokens: int, chunk_overlap: int,
         rebuild: bool = False, max_file_bytes: int = 5_000_000, progress: Progress | None = None) -> tuple[Index, IndexReport]:
    """Bring the index in ``directory`` in line with the files under ``corpus``."""
    with _locked(directory):
        return _sync(corpus, directory, embedder, chunk_tokens, chunk_overlap, rebuild, max_file_bytes, progress)


def _sync(corpus, directory, embedder, chunk_tokens, chunk_overlap, rebuild, max_file_bytes, progress):
    files = ingest.corpus_files(corpus)
    old = None if rebuild else Index.load(directory, embedder.name)
    old_files = old.manifest["files"] if old else {}
    settings = _settings(embedder, chunk_tokens, chunk_overlap)
    same_chunking = bool(old) and old.manifest.get("chunking") == settings["chunking"]
    old_by_source: dict[str, list[int]] = {}
    if old:
        for row, c in enumerate(old.chunks):
            old_by_source.setdefault(c.source, []).append(row)
    vector_cache = {c.content_hash: old.vectors[row] for row, c in enumerate(old.chunks)} if old else {}

    report = dict(added=0, updated=0, removed=0, unchanged=0)
    skipped: list[tuple[str, str]] = []
    new_files: dict[str, dict] = {}
    chunks: list[Chunk] = []
    texts: dict[str, str] = {}
    kept_vectors: dict[int, np.ndarray] = {}  # position in ``chunks`` -> reused vector
    for n, path in enumerate(files):
        source = path.relative_to(corpus).as_posix()
        if progress:
            progress(n, len(files), f"reading {source}")
        try:
            size = path.stat().st_size
            if size > max_file_bytes:
                raise CorpusError(f"{source}: {size:,} bytes is over the {max_file_bytes:,}-byte limit; skipped")
            digest = _sha256(path.read_bytes())
        except OSError as err:
            skipped.append((source, f"cannot read ({err.strerror or err})"))
            continue
        except CorpusError as err:
            skipped.append((source, str(err)))
            continue
        prev = old_files.get(source)
        if prev and prev["sha256"] == digest and same_chunking:
            for row in old_by_source.get(source, []):
                kept_vectors[len(chunks)] = old.vectors[row]
                chunks.append(old.chunks[row])
            texts[source] = old.texts[source]
            new_files[source] = prev
            report["unchanged"] += 1
            continue
        try:
            text, docs = ingest.load_file(path, source)
        except CorpusError as err:
            log.warning("%s", err)
            skipped.append((source, str(err).split(": ", 1)[-1]))
            continue
        file_chunks = chunk_documents(docs, chunk_tokens, chunk_overlap)
        for c in file_chunks:
            if c.content_hash in vector_cache:
                kept_vectors[len(chunks)] = vector_cache[c.content_hash]
            chunks.append(c)
        texts[source] = text
        new_files[source] = {"sha256": digest, "size": size, "title": docs[0].title, "date": docs[0].date,
                             "articles": [d.title for d in docs], "n_chunks": len(file_chunks)}
        report["updated" if prev else "added"] += 1
    report["removed"] = sum(1 for s in old_files if s not in new_files and s not in {f for f, _ in skipped})
    if not chunks:
        detail = f" ({len(skipped)} files skipped: {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        raise CorpusError(f"no articles to index in {corpus}: it holds no readable {', '.join(ingest.SUPPORTED_SUFFIXES)} files{detail}")

    # files skipped now but indexed before stay in the index as they were: losing nothing
    for source in old_files:
        if source not in new_files and any(source == f for f, _ in skipped):
            for row in old_by_source.get(source, []):
                kept_vectors[len(chunks)] = old.vectors[row]
                chunks.append(old.chunks[row])
            texts[source] = old.texts[source]
            new_files[source] = old_files[source]

    todo = [i for i in range(len(chunks)) if i not in kept_vectors]
    changed = bool(todo) or rebuild or old is None or any(report[k] for k in ("added", "updated", "removed")) \
        or [c.chunk_id for c in chunks] != [c.chunk_id for c in old.chunks]
    if not changed:
        return old, IndexReport(files=len(new_files), n_chunks=len(chunks), skipped=skipped, **report)

    dim = embedder.dim
    vectors = np.zeros((len(chunks), dim), dtype=np.float32)
    for i, v in kept_vectors.items():
        vectors[i] = v
    if todo:
        if progress:
            progress(0, len(todo), "embedding")
        fresh = embedder.encode([embedding_text(chunks[i].title, chunks[i].text) for i in todo],
                                progress=(lambda d, t: progress(d, t, "embedding")) if progress else None)
        vectors[todo] = fresh
    manifest = {
        "format_version": FORMAT_VERSION,
        **settings,
        "corpus": str(corpus.resolve()),
        "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n_chunks": len(chunks),
        "files": new_files,
        "skipped": dict(skipped),
    }
    index = Index(directory, manifest, chunks, texts, vectors)
    _commit(directory, index, old)
    return index, IndexReport(files=len(new_files), n_chunks=len(chunks), embedded=len(todo), skipped=skipped, **report)


def _commit(directory: Path, index: Index, old: Index | None) -> None:
    import faiss

    token = uuid.uuid4().hex[:12]
    data = {"chunks": f"chunks-{token}.jsonl", "texts": f"texts-{token}.json", "vectors": f"vectors-{token}.faiss"}
    lines = "".join(json.dumps(dataclasses.asdict(c), ensure_ascii=False) + "\n" for c in index.chunks)
    _write_atomic(directory / data["chunks"], lines.encode("utf-8"))
    _write_atomic(directory / data["texts"], json.dumps(index.texts, ensure_ascii=False).encode("utf-8"))
    tmp = directory / f".{data['vectors']}.tmp"
    faiss.write_index(index.faiss, str(tmp))
    os.replace(tmp, directory / data["vectors"])
    index.manifest["data"] = data
    # the manifest is the commit point: until it is replaced, readers see the old index
    _write_atomic(directory / MANIFEST, json.dumps(index.manifest, indent=1, ensure_ascii=False).encode("utf-8"))
    keep = set(data.values()) | {MANIFEST, ".lock", "README.md", ".gitignore", ".gitkeep"}
    for entry in directory.iterdir():
        if entry.is_file() and entry.name not in keep and (entry.name.startswith(("chunks-", "texts-", "vectors-")) or entry.name.endswith(".tmp")):
            entry.unlink(missing_ok=True)
