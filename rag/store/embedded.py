"""The embedded store: chunks and texts in SQLite, vectors in FAISS, keywords in tantivy, all
in the index folder, described by ``manifest.json``.

Generations. Every sync that changes something publishes generation G+1. SQLite rows carry
the generation that added them and the one that removed them, and a reader of G sees only
rows alive at G; the FAISS files are written per generation (rag.store.vectors); tantivy
may hold documents of an unpublished generation, which the reader filters out. The manifest
is the commit point: it names the generation and its FAISS files, and it is swapped in with
``os.replace`` after every data file and the folder are fsynced. Until then readers see G,
and a writer killed at any point leaves G as it was; the next writer purges what the dead
one left. The previous generation's files stay until the next sync, for readers that opened
it. Opening reads the manifest, maps the FAISS base and opens SQLite and tantivy: it does
not parse the corpus.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..errors import CorpusError, IndexMismatchError
from ..types import Chunk
from . import faults
from .base import DocumentInfo, FileState, Hit
from .keywords import ENGINE, KeywordIndex
from .vectors import VectorReader, VectorSettings

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
DB = "store.sqlite"
KEYWORDS = "keywords"
CACHE = "embed-cache.sqlite"
_COLUMNS = 'chunk_id, doc_id, source, title, date, text, "start", "end", n_tokens, content_hash'
_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (key INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id TEXT NOT NULL, doc_id TEXT,
  source TEXT NOT NULL, title TEXT, date TEXT, text TEXT, "start" INTEGER, "end" INTEGER, n_tokens INTEGER,
  content_hash TEXT, gen_added INTEGER NOT NULL, gen_removed INTEGER);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks (source, gen_removed);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks (content_hash);
CREATE INDEX IF NOT EXISTS chunks_added ON chunks (gen_added);
CREATE INDEX IF NOT EXISTS chunks_removed ON chunks (gen_removed);
CREATE TABLE IF NOT EXISTS files (fkey INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, sha256 TEXT,
  size INTEGER, mtime_ns INTEGER, title TEXT, date TEXT, articles TEXT, n_chunks INTEGER, skipped TEXT,
  n_chars INTEGER, gen_added INTEGER NOT NULL, gen_removed INTEGER);
CREATE TABLE IF NOT EXISTS texts (fkey INTEGER PRIMARY KEY, text TEXT);
CREATE INDEX IF NOT EXISTS files_source ON files (source, gen_removed);
CREATE INDEX IF NOT EXISTS files_added ON files (gen_added);
CREATE INDEX IF NOT EXISTS files_removed ON files (gen_removed);
CREATE TABLE IF NOT EXISTS tombstones (key INTEGER PRIMARY KEY, generation INTEGER NOT NULL);
"""
_ALIVE = "gen_added <= :g AND (gen_removed IS NULL OR gen_removed > :g)"


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        return _connect_readonly(path)
    con = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")  # a committed transaction survives a power cut
    con.execute("PRAGMA busy_timeout=30000")
    con.executescript(_SCHEMA)
    return con


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A reader's connection: it writes nothing, so it also opens a database on a read-only
    mount or in a folder of another user. The writer set WAL mode, which is kept in the file."""
    if not path.exists():  # sqlite would create an empty file, which reads as damage next time
        raise sqlite3.OperationalError(f"no such file: {path.name}")
    uri = path.resolve().as_uri()
    con = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
    try:
        con.execute("PRAGMA busy_timeout=30000")
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as err:
        con.close()
        wal = path.with_name(path.name + "-wal")
        # WAL needs its -shm file, which a reader cannot create in a folder it may not write; the
        # main file alone holds every published row when no WAL is left beside it (the writer
        # checkpoints before it publishes). Anything else (a locked database, rows left in a WAL)
        # is no case for reading the main file alone
        if os.access(path.parent, os.W_OK) or (wal.exists() and wal.stat().st_size) or \
                not re.search(r"unable to open|readonly|read-only", str(err), re.IGNORECASE):
            raise
        log.warning("reading %s without its WAL's shared memory (a read-only folder): it must not change "
                    "while it is read", path)
        con = sqlite3.connect(f"{uri}?immutable=1", uri=True, check_same_thread=False, isolation_level=None)
    con.execute("PRAGMA query_only=1")
    return con


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def file_lock(path: Path, shared: bool) -> Iterator[None]:
    """An flock on ``path``: shared for readers, exclusive for the writer. A reader creates no
    folder, and takes no lock in a folder it may not write when the lock file is not there:
    no writer can work in it either."""
    fh = None
    try:
        if not shared:
            path.parent.mkdir(parents=True, exist_ok=True)
        if not shared or path.parent.is_dir():  # no folder: nothing to read, the caller finds no manifest
            fh = open(path, "r" if shared and path.exists() else "a")
    except OSError as err:  # a folder that is a file, on a read-only or missing mount, not ours
        if not (shared and err.errno in (errno.EROFS, errno.EACCES, errno.EPERM)):
            raise IndexMismatchError(f"cannot use index folder {path.parent} ({err.strerror or err}); "
                                     "pass another with --index-dir or the index_dir setting") from None
    if fh is None:
        yield
        return
    with fh:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fh, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if not shared:  # a sync of hours in another process must not look like a hang
                log.warning("waiting for another process writing the index in %s (rag index, an upload) "
                            "to finish", path.parent)
            fcntl.flock(fh, mode)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_manifest(directory: Path, corpus: Path | None = None) -> dict | None:
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise IndexMismatchError(
            f"index manifest {path} is unreadable ({err}); rebuild it with: {rebuild_hint(directory, corpus)}") from err
    if not isinstance(manifest, dict):
        raise IndexMismatchError(f"index manifest {path} holds {type(manifest).__name__}, not the index's "
                                 f"settings; rebuild it with: {rebuild_hint(directory, corpus)}")
    return manifest


def rebuild_hint(directory: Path, corpus: Path | None = None) -> str:
    """The command that rebuilds the index in ``directory``: with its corpus, for without one
    ``rag index`` would index seeds/ into another corpus's folder."""
    return f"rag index --rebuild {corpus} --index-dir {directory}" if corpus else f"rag index --rebuild --index-dir {directory}"


def check_manifest(manifest: dict, directory: Path, embedder_name: str, corpus: Path | None = None) -> None:
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index {directory} has format version {version!r}, this program reads {FORMAT_VERSION}; "
            f"rebuild it with: {rebuild_hint(directory, corpus)}")
    built = manifest.get("embedder", {}).get("name")
    if built != embedder_name:
        raise IndexMismatchError(
            f"index {directory} was built with embedder {built!r}, but the configured embedder is "
            f"{embedder_name!r}; rebuild it with: {rebuild_hint(directory, corpus)}")


def vector_settings(config) -> VectorSettings:
    return VectorSettings(kind=getattr(config, "vector_index", "auto"),
                          hnsw_threshold=getattr(config, "hnsw_threshold", VectorSettings.hnsw_threshold),
                          ef_search=getattr(config, "hnsw_ef_search", VectorSettings.ef_search))


def file_state(row: sqlite3.Row | tuple) -> FileState:
    source, sha, size, mtime, title, date, articles, n_chunks, skipped = row
    return FileState(source, sha or "", size or 0, mtime or 0, title or "", date, tuple(json.loads(articles or "[]")),
                     n_chunks or 0, skipped or "")


class EmbeddedStore:
    """A reader of one published generation (see the module doc)."""

    def __init__(self, directory: Path, manifest: dict, vectors: VectorSettings | None = None):
        self.directory = directory
        self.manifest = manifest
        self.settings = {k: manifest[k] for k in ("embedder", "chunking") if k in manifest}
        self.generation = int(manifest["generation"])
        self._lock = threading.Lock()
        self._stamp: tuple | None = None  # the manifest file this reader opened (EmbeddedStore.load)
        self._db = connect(directory / manifest["db"], readonly=True)
        # closed when the reader is dropped (a reindex swaps in a new one): left to the connection's
        # own dealloc, each reindex kept the old database's files open
        self._closer = weakref.finalize(self, self._db.close)
        data = manifest["vectors"]
        tomb = [k for (k,) in self._db.execute(
            "SELECT key FROM tombstones WHERE generation > ? AND generation <= ?",
            (data.get("base_generation", 0), self.generation))]
        self._vectors = VectorReader(directory, data, manifest["embedder"]["dim"], tomb, vectors or VectorSettings())
        self._keywords = KeywordIndex(directory / manifest["keywords"]["path"])
        self._n = int(manifest["n_chunks"])

    @classmethod
    def load(cls, directory: Path, embedder_name: str, vectors: VectorSettings | None = None,
             corpus: Path | None = None) -> "EmbeddedStore | None":
        """The published index in ``directory``, or None when there is none (or one of format 1).
        ``corpus``: named in the rebuild command an error advises."""
        with file_lock(directory / ".swap.lock", shared=True):
            stamp = _manifest_stamp(directory)
            manifest = read_manifest(directory, corpus)
            if manifest is None:
                if any(directory.glob("vectors-*.faiss")) or (directory / "store.sqlite").exists():
                    log.warning("index %s has data files but no %s: it will be built again from the corpus",
                                directory, MANIFEST)
                return None
            if manifest.get("format_version") == 1:
                log.info("index %s has the old format 1: it will be rebuilt", directory)
                return None
            check_manifest(manifest, directory, embedder_name, corpus)
            db = directory / str(manifest.get("db", ""))
            if manifest.get("db") and not db.exists():
                # the chunks' database is derived from the corpus, as the manifest is: build it again
                log.warning("index %s lost %s: it will be built again from the corpus", directory, db.name)
                return None
            try:
                store = cls(directory, manifest, vectors)
            except (OSError, KeyError, TypeError, ValueError, RuntimeError, sqlite3.Error) as err:
                raise IndexMismatchError(
                    f"index {directory} is damaged ({err}); rebuild it with: {rebuild_hint(directory, corpus)}") from err
            store._stamp = stamp
            return store

    def is_current(self) -> bool:
        """Whether this reader's generation is still the published one: a sync by another process
        (rag index, another UI) swaps the manifest, and two syncs later this generation's rows are
        purged. One stat; the Assistant reopens when it is False."""
        return self._stamp is None or _manifest_stamp(self.directory) == self._stamp

    def __len__(self) -> int:
        return self._n

    @property
    def vector_kind(self) -> str:
        return self._vectors.kind

    def _query(self, sql: str, params: dict | Sequence = ()) -> list:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # --- retrieval -------------------------------------------------------------------

    def dense_search(self, vector: np.ndarray, k: int) -> list[Hit]:
        return self._vectors.search(vector, k) if k > 0 else []

    def keyword_search(self, query: str, k: int) -> list[Hit]:
        if k < 1:
            return []
        want = k + 16
        while True:
            hits = self._keywords.search(query, want)
            alive = self._alive([key for key, _ in hits])
            out = [h for h in hits if h[0] in alive]
            if len(out) >= k or len(hits) < want:  # enough, or tantivy has no more
                return out[:k]
            want *= 4

    def _rows_in(self, columns: str, column: str, values: Sequence) -> list:
        """``columns`` of the chunks of this generation whose ``column`` is one of ``values``."""
        if not values:
            return []
        marks = ",".join("?" * len(values))
        return self._query(f"SELECT {columns} FROM chunks WHERE {column} IN ({marks}) AND gen_added <= ? "
                           f"AND (gen_removed IS NULL OR gen_removed > ?)", [*values, self.generation, self.generation])

    def _alive(self, keys: Sequence[int]) -> set[int]:
        return {k for (k,) in self._rows_in("key", "key", keys)}

    def chunks(self, keys: Sequence[int]) -> dict[int, Chunk]:
        return {r[0]: Chunk(*r[1:]) for r in self._rows_in(f"key, {_COLUMNS}", "key", keys)}

    def keys_of(self, chunk_ids: Sequence[str]) -> dict[str, int]:
        """Keys of the given ``Chunk.chunk_id`` values (for tests and tools)."""
        return dict(self._rows_in("chunk_id, key", "chunk_id", chunk_ids))

    def vectors(self, keys: Sequence[int]) -> np.ndarray:
        return self._vectors.reconstruct(keys)

    def doc_freq(self, terms: Sequence[str]) -> dict[str, int]:
        return self._keywords.doc_freq(terms)

    # --- documents -------------------------------------------------------------------

    def all_chunks(self) -> list[Chunk]:
        """Every chunk, in file and chunk order (for tests and tools; reads the whole table)."""
        rows = self._query(f"SELECT {_COLUMNS} FROM chunks WHERE {_ALIVE} ORDER BY source, key", {"g": self.generation})
        return [Chunk(*r) for r in rows]

    def document_text(self, source: str) -> str:
        rows = self._query("SELECT t.text FROM files f JOIN texts t ON t.fkey = f.fkey WHERE f.source = :s "
                           "AND f.skipped = '' AND f.gen_added <= :g AND (f.gen_removed IS NULL OR f.gen_removed > :g)",
                           {"s": source, "g": self.generation})
        if not rows:
            raise CorpusError(f"no document {source!r} in the index")
        return rows[0][0]

    def documents(self) -> list[DocumentInfo]:
        rows = self._query(f"SELECT source, title, date, n_chunks, n_chars, articles FROM files "
                           f"WHERE skipped = '' AND {_ALIVE} ORDER BY source", {"g": self.generation})
        return [DocumentInfo(s, t, d, n or 0, c or 0, tuple(json.loads(a or "[]")) or (t,)) for s, t, d, n, c, a in rows]

    def files(self) -> dict[str, FileState]:
        rows = self._query("SELECT source, sha256, size, mtime_ns, title, date, articles, n_chunks, skipped "
                           f"FROM files WHERE {_ALIVE}", {"g": self.generation})
        return {r[0]: file_state(r) for r in rows}

    def stamps(self) -> dict[str, tuple[int, int, str, str]]:
        """source -> (size, mtime_ns, sha256, skip reason) of every known file: the stale check."""
        rows = self._query(f"SELECT source, size, mtime_ns, sha256, skipped FROM files WHERE {_ALIVE}", {"g": self.generation})
        return {r[0]: r[1:] for r in rows}

    def close(self) -> None:
        with self._lock:
            self._closer()


def _manifest_stamp(directory: Path) -> tuple | None:
    try:
        st = os.stat(directory / MANIFEST)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


class EmbeddedBackend:
    """``store = "embedded"``: the index folder ``config.index_dir``."""

    def open(self, config, embedder_name: str) -> EmbeddedStore | None:
        return EmbeddedStore.load(Path(config.index_dir), embedder_name, vector_settings(config),
                                  corpus=getattr(config, "corpus", None))

    @contextlib.contextmanager
    def writer(self, config) -> Iterator["EmbeddedWriter"]:
        from .embedded_writer import EmbeddedWriter

        directory = Path(config.index_dir)
        with file_lock(directory / ".lock", shared=False):
            writer = EmbeddedWriter(directory, config.embedder, vector_settings(config))
            try:
                yield writer
            finally:
                writer.close()


__all__ = ["CACHE", "DB", "ENGINE", "EmbeddedBackend", "EmbeddedStore", "FORMAT_VERSION", "KEYWORDS", "MANIFEST",
           "faults"]
