"""The PostgreSQL store (``store = "postgres"``, ``dsn``): chunks, texts, vectors (pgvector HNSW,
inner product of normalised vectors) and keywords (full-text search ranked by BM25) in one database.

Each index lives in a schema of its own, named after the index folder's name (``index`` ->
``rag_index``; another corpus's folder ``index/corpora/<name>-<hash>`` -> ``rag_<name>_<hash>``),
so one database holds several corpora as the embedded store's folders do. A sync is one
transaction (rag.store.postgres_writer): readers see the last committed generation until the
writer commits, and a writer that dies leaves it as it was. The ``meta`` row holds the published
settings and generation. Readers and the writer never share a lock: the writer serialises with
other writers through ``pg_advisory_lock``.

Connection failures become one :class:`StoreUnavailable` line naming the DSN with its password
masked; connecting gives up after ``connect_timeout`` (5 s unless the DSN says otherwise).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql

from ..config import Config
from ..errors import CorpusError, IndexMismatchError, RagError
from ..types import Chunk
from . import register_backend
from .base import DocumentInfo, FileState, Hit
from .dsn import mask_dsn
from .pgsql import dense_sql, hybrid_sql, keyword_sql, tsquery_literal
from .text import tokenize

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CONNECT_TIMEOUT = 5  # seconds, unless the DSN sets connect_timeout
_COLUMNS = 'chunk_id, doc_id, source, title, date, text, "start", "end", n_tokens, content_hash'
T = TypeVar("T")


class StoreUnavailable(RagError):
    """The database cannot be reached, refused us, or failed a query."""


def _one_line(err: BaseException) -> str:
    """psycopg's message on one line, with any password in it masked: psycopg quotes a DSN it
    cannot parse whole, password included."""
    return mask_dsn("; ".join(part.strip() for part in str(err).splitlines() if part.strip()) or type(err).__name__)


def schema_for(config) -> str:
    """The schema of ``config``'s index: ``rag_`` and the index folder's name, as an identifier;
    for any folder but ``index/`` itself and a corpus's own ``index/corpora/<name>-<hash>``
    (named uniquely already), a hash of its path too: two folders both named "index" are two
    indexes."""
    folder = Path(config.index_dir).expanduser().resolve()
    name = re.sub(r"[^a-z0-9_]+", "_", folder.name.lower()).strip("_") or "index"
    home = Config.index_dir.resolve()
    if folder != home and folder.parent != home / "corpora":  # a corpus's own folder is named uniquely
        name = f"{name[:45]}_{hashlib.sha256(str(folder).encode('utf-8')).hexdigest()[:8]}"
    return f"rag_{name}"[:63]


def require_dsn(config) -> str:
    dsn = (getattr(config, "dsn", "") or "").strip()
    if not dsn:
        raise RagError("store='postgres' needs a database: set dsn in rag.toml or RAG_DSN=postgresql://user@host/db")
    return dsn


def connect(dsn: str, *, autocommit: bool = True) -> psycopg.Connection:
    """A connection to ``dsn`` with the ``vector`` type registered when the extension exists."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.Error as err:
        raise StoreUnavailable(f"bad PostgreSQL DSN {mask_dsn(dsn)!r}: {_one_line(err)}") from None
    params.setdefault("connect_timeout", CONNECT_TIMEOUT)
    params.setdefault("application_name", "rag-news")
    try:
        conn = psycopg.connect(psycopg.conninfo.make_conninfo(**params), autocommit=autocommit, prepare_threshold=None)
    except psycopg.Error as err:
        raise StoreUnavailable(f"cannot connect to PostgreSQL at {mask_dsn(dsn)}: {_one_line(err)}") from None
    try:
        if conn.execute("SELECT 1 FROM pg_type WHERE typname = 'vector'").fetchone():
            register_vector(conn)
        if not autocommit:
            conn.rollback()
    except psycopg.Error as err:
        conn.close()
        raise StoreUnavailable(f"PostgreSQL at {mask_dsn(dsn)}: {_one_line(err)}") from None
    return conn


def as_array(value) -> np.ndarray:
    """A pgvector value (a ``Vector``) as float32 numpy."""
    return np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value, dtype=np.float32)


def _exists(conn: psycopg.Connection, schema: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
                       (f'"{schema}".meta', f'"{schema}".chunks')).fetchone()
    return bool(row and row[0])


def file_state(row: Sequence) -> FileState:
    source, sha, size, mtime, title, date, articles, n_chunks, skipped = row
    return FileState(source, sha or "", size or 0, mtime or 0, title or "", date, tuple(articles or ()),
                     n_chunks or 0, skipped or "")


class PostgresStore:
    """A reader of the published index in one schema. Queries see the last committed sync;
    ``settings`` and ``len()`` are those of the generation the store opened."""

    def __init__(self, dsn: str, schema: str, conn: psycopg.Connection, meta: tuple, ef_search: int = 128):
        self.dsn, self.schema, self._conn = dsn, schema, conn
        fmt, self.generation, settings, n_chunks, self.updated = meta
        self.settings = {k: v for k, v in settings.items() if k in ("embedder", "chunking")}
        self._n = int(n_chunks)
        self.ef_search = int(ef_search)
        self._ef = 0  # hnsw.ef_search as set on the connection
        self._lock = threading.Lock()
        self._s = sql.Identifier(schema)
        self._dense, self._keyword = dense_sql(schema), keyword_sql(schema)

    @classmethod
    def load(cls, dsn: str, schema: str, embedder_name: str, ef_search: int = 128) -> "PostgresStore | None":
        """The published index in ``schema``, or None when there is none yet."""
        conn = connect(dsn)
        try:
            if not _exists(conn, schema):
                conn.close()
                return None
            meta = conn.execute(sql.SQL("SELECT format_version, generation, settings, n_chunks, updated FROM {}.meta")
                                .format(sql.Identifier(schema))).fetchone()
        except psycopg.Error as err:
            conn.close()
            raise StoreUnavailable(f"PostgreSQL at {mask_dsn(dsn)}: {_one_line(err)}") from None
        if meta is None:
            conn.close()
            return None
        where = f"index {schema} in {mask_dsn(dsn)}"
        if meta[0] != FORMAT_VERSION:
            conn.close()
            raise IndexMismatchError(f"{where} has format version {meta[0]!r}, this program reads {FORMAT_VERSION}; "
                                     f"rebuild it with: rag index --rebuild")
        built = (meta[2] or {}).get("embedder", {}).get("name")
        if built != embedder_name:
            conn.close()
            raise IndexMismatchError(f"{where} was built with embedder {built!r}, but the configured embedder is "
                                     f"{embedder_name!r}; rebuild it with: rag index --rebuild")
        return cls(dsn, schema, conn, meta, ef_search)

    def __len__(self) -> int:
        return self._n

    @property
    def location(self) -> str:
        """Where the index is, for messages (password masked)."""
        return f"schema {self.schema} of {mask_dsn(self.dsn)}"

    def __repr__(self) -> str:
        return f"PostgresStore({mask_dsn(self.dsn)!r}, schema={self.schema!r}, generation={self.generation})"

    def _run(self, fn: Callable[[psycopg.Connection], T]) -> T:
        """Run ``fn(conn)`` under the lock; reconnect once when the connection was lost."""
        with self._lock:
            for attempt in (0, 1):
                try:
                    return fn(self._conn)
                except psycopg.OperationalError as err:
                    if attempt or not self._conn.closed and not self._conn.broken:
                        raise StoreUnavailable(f"PostgreSQL at {mask_dsn(self.dsn)}: {_one_line(err)}") from None
                    log.warning("connection to %s lost (%s); reconnecting", mask_dsn(self.dsn), _one_line(err))
                    self._conn, self._ef = connect(self.dsn), 0
                except psycopg.Error as err:
                    raise StoreUnavailable(f"PostgreSQL at {mask_dsn(self.dsn)}: {_one_line(err)}") from None
        raise AssertionError("unreachable")

    def _rows(self, query: sql.Composable | str, params: Any = None) -> list[tuple]:
        return self._run(lambda conn: conn.execute(query, params).fetchall())

    def _set_ef(self, conn: psycopg.Connection, k: int) -> None:
        ef = min(1000, max(k, self.ef_search))  # HNSW returns at most ef_search rows
        if ef != self._ef:
            conn.execute(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(ef)))
            self._ef = ef

    def _q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(s=self._s)

    # --- retrieval -------------------------------------------------------------------

    def dense_search(self, vector: np.ndarray, k: int) -> list[Hit]:
        if k < 1 or not self._n:
            return []
        v = np.asarray(vector, dtype=np.float32)

        def run(conn):
            self._set_ef(conn, k)
            return conn.execute(self._dense, {"v": v, "pool": k}).fetchall()

        return [(int(key), float(score)) for key, score in self._run(run)]

    def keyword_search(self, query: str, k: int) -> list[Hit]:
        terms = list(dict.fromkeys(tokenize(query)))
        if k < 1 or not terms:
            return []
        rows = self._rows(self._keyword, {"terms": terms, "tsq": tsquery_literal(terms), "pool": k})
        return [(int(key), float(score)) for key, score in rows]

    def hybrid_search(self, vector: np.ndarray, query: str, k: int, settings, weights: Sequence[float]) -> dict[int, float]:
        """Dense and keyword search fused in one SQL statement, as :class:`rag.retrieval.FusionRetriever`
        fuses them: candidate key -> fused score (the best ``k`` of each list are candidates)."""
        terms = list(dict.fromkeys(tokenize(query)))
        pool = max(settings.pool, k)
        params = {"v": np.asarray(vector, dtype=np.float32), "terms": terms, "tsq": tsquery_literal(terms),
                  "pool": pool, "depth": k, "population": self._n, "method": settings.method,
                  "w_dense": float(weights[0]), "w_kw": float(weights[1]), "c": int(settings.c)}

        def run(conn):
            self._set_ef(conn, pool)
            return conn.execute(hybrid_sql(self.schema, settings.method), params).fetchall()

        return {int(key): float(score) for key, score in self._run(run)}

    def chunks(self, keys: Sequence[int]) -> dict[int, Chunk]:
        if not keys:
            return {}
        rows = self._rows(self._q(f"SELECT key, {_COLUMNS} FROM {{s}}.chunks WHERE key = ANY(%s)"), ([int(k) for k in keys],))
        return {r[0]: Chunk(*r[1:]) for r in rows}

    def keys_of(self, chunk_ids: Sequence[str]) -> dict[str, int]:
        """Keys of the given ``Chunk.chunk_id`` values (for tests and tools)."""
        rows = self._rows(self._q("SELECT chunk_id, key FROM {s}.chunks WHERE chunk_id = ANY(%s)"), (list(chunk_ids),))
        return dict(rows)

    def all_chunks(self) -> list[Chunk]:
        """Every chunk, in file and chunk order (for tests and tools; reads the whole table)."""
        return [Chunk(*r) for r in self._rows(self._q(f"SELECT {_COLUMNS} FROM {{s}}.chunks ORDER BY source, key"))]

    def vectors(self, keys: Sequence[int]) -> np.ndarray:
        dim = int(self.settings["embedder"]["dim"])
        if not keys:
            return np.zeros((0, dim), np.float32)
        rows = dict(self._rows(self._q("SELECT key, embedding FROM {s}.chunks WHERE key = ANY(%s)"), ([int(k) for k in keys],)))
        return np.stack([as_array(rows[k]) if k in rows else np.zeros(dim, np.float32) for k in keys])

    def doc_freq(self, terms: Sequence[str]) -> dict[str, int]:
        terms = list(dict.fromkeys(terms))
        found = dict(self._rows(self._q("SELECT term, df FROM {s}.terms WHERE term = ANY(%s)"), (terms,))) if terms else {}
        return {t: int(found.get(t, 0)) for t in terms}

    # --- documents -------------------------------------------------------------------

    def document_text(self, source: str) -> str:
        rows = self._rows(self._q("SELECT text FROM {s}.files WHERE source = %s AND skipped = ''"), (source,))
        if not rows:
            raise CorpusError(f"no document {source!r} in the index")
        return rows[0][0]

    def documents(self) -> list[DocumentInfo]:
        rows = self._rows(self._q("SELECT source, title, date, n_chunks, length(text), articles FROM {s}.files "
                                  "WHERE skipped = '' ORDER BY source"))
        return [DocumentInfo(s, t or "", d, n or 0, c or 0, tuple(a or ()) or (t or "",)) for s, t, d, n, c, a in rows]

    def files(self) -> dict[str, FileState]:
        rows = self._rows(self._q("SELECT source, sha256, size, mtime_ns, title, date, articles, n_chunks, skipped FROM {s}.files"))
        return {r[0]: file_state(r) for r in rows}

    def stamps(self) -> dict[str, tuple[int, int, str, str]]:
        """source -> (size, mtime_ns, sha256, skipped) of every file: the stale check's one query."""
        rows = self._rows(self._q("SELECT source, size, mtime_ns, sha256, skipped FROM {s}.files"))
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresBackend:
    """``store = "postgres"``: the schema :func:`schema_for` of the database ``config.dsn``."""

    def open(self, config, embedder_name: str) -> PostgresStore | None:
        return PostgresStore.load(require_dsn(config), schema_for(config), embedder_name,
                                  getattr(config, "hnsw_ef_search", 128))

    @contextlib.contextmanager
    def writer(self, config) -> Iterator["PostgresWriter"]:
        from .postgres_writer import PostgresWriter

        writer = PostgresWriter(require_dsn(config), schema_for(config), config.embedder)
        try:
            yield writer
        finally:
            writer.close()


def describe(config) -> str:
    """Where ``config``'s index is, for messages: schema and masked DSN."""
    return f"schema {schema_for(config)} of {mask_dsn(require_dsn(config))}"


register_backend("postgres", PostgresBackend)

__all__ = ["FORMAT_VERSION", "PostgresBackend", "PostgresStore", "StoreUnavailable", "connect", "describe",
           "mask_dsn", "schema_for"]
