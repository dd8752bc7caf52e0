"""The writer of the PostgreSQL store: one sync is one transaction.

Every change (files, chunks, keyword statistics, the ``meta`` row with the new generation and
settings) is made in one transaction on the writer's connection, so readers see nothing before
``commit`` and a writer that dies (its connection closes, the server rolls back) leaves the
published index as it was. Freshly embedded vectors go to ``embed_cache`` on a second
connection, committed per batch, so a killed sync resumes from them; a sync that commits
empties it.

A rebuild (``reset``: the first sync, ``--rebuild``, another embedder) fills a new chunk table,
builds its GIN and HNSW indexes once at the end (faster than growing them row by row) and swaps
it in for ``chunks`` in the same transaction; readers keep using the old table meanwhile. An
incremental sync replaces the rows of changed files in place and keeps each token's document
frequency (``terms``) and the chunk and token counts up to date.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.types.json import Jsonb

from ..types import Chunk
from . import faults
from .base import FileState, Progress
from .pgsql import chunk_table_ddl, ddl, field_norm, search_index_ddl, tsvector_literal
from .postgres import FORMAT_VERSION, as_array, StoreUnavailable, _exists, _one_line, connect, file_state, mask_dsn
from .text import index_text, tokenize

log = logging.getLogger(__name__)

HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64  # pgvector's defaults
BUILD_MEMORY = "512MB"  # maintenance_work_mem while building the HNSW index (a graph that fits builds fast)


class PostgresWriter:
    def __init__(self, dsn: str, schema: str, embedder_name: str):
        self.dsn, self.schema, self.embedder_name = dsn, schema, embedder_name
        self._s = sql.Identifier(schema)
        self.conn = connect(dsn)
        self.cache: psycopg.Connection | None = None
        self.table: str | None = "chunks"  # where chunks go; None: a new table not made yet
        self.fresh = False  # reset: the chunks go to a new table, swapped in at commit
        self.changed = False
        try:
            # one writer per index at a time; readers never wait for it
            self.conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"rag-news:{schema}",))
            self._setup()
            self.cache = connect(dsn)
            self.meta = self._meta()
            self.published = int(self.meta[1]) if self.meta else 0
            self.n_chunks, self.total_terms = (int(self.meta[3]), int(self.meta[4])) if self.meta else (0, 0)
        except psycopg.Error as err:
            self.close()
            raise StoreUnavailable(f"PostgreSQL at {mask_dsn(dsn)}: {_one_line(err)}") from None
        except BaseException:
            self.close()
            raise
        self.conn.autocommit = False  # from here on, everything is one transaction

    def _setup(self) -> None:
        if not self.conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
            try:
                self.conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except psycopg.Error as err:
                raise StoreUnavailable(
                    f"PostgreSQL at {mask_dsn(self.dsn)} has no pgvector extension and we may not create it "
                    f"({_one_line(err)}); as a superuser run: CREATE EXTENSION vector") from None
            register_vector(self.conn)
        self.conn.execute(ddl(self.schema))

    def _meta(self) -> tuple | None:
        if not _exists(self.conn, self.schema):
            return None
        row = self.conn.execute(self._q("SELECT format_version, generation, settings, n_chunks, total_terms "
                                        "FROM {s}.meta")).fetchone()
        return row if row and row[0] == FORMAT_VERSION else None

    def _q(self, text: str, table: str | None = None) -> sql.Composed:
        return sql.SQL(text).format(s=self._s, t=sql.Identifier(table or self.table or "chunks"))

    def _x(self, text: str, params: Sequence | dict | None = None, table: str | None = None) -> psycopg.Cursor:
        return self.conn.execute(self._q(text, table), params)

    # --- the StoreWriter protocol --------------------------------------------------------

    def settings(self) -> dict | None:
        return {k: v for k, v in self.meta[2].items() if k in ("embedder", "chunking")} if self.meta else None

    def files(self) -> dict[str, FileState]:
        rows = self._x("SELECT source, sha256, size, mtime_ns, title, date, articles, n_chunks, skipped FROM {s}.files")
        return {r[0]: file_state(r) for r in rows}

    def reset(self) -> None:
        self._x("DELETE FROM {s}.files")
        self._x("DELETE FROM {s}.terms")
        self.table, self.fresh, self.changed = None, True, True
        self.n_chunks = self.total_terms = 0

    def cached_vectors(self, content_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        hashes = list(dict.fromkeys(content_hashes))
        out: dict[str, np.ndarray] = {}
        if not hashes:
            return out
        if not self.fresh and self.meta:
            rows = self._x("SELECT DISTINCT ON (content_hash) content_hash, embedding FROM {s}.chunks "
                           "WHERE content_hash = ANY(%s)", (hashes,))
            out.update((h, as_array(v)) for h, v in rows)
        rest = [h for h in hashes if h not in out]
        if rest and self.cache is not None:
            rows = self.cache.execute(self._q("SELECT hash, vector FROM {s}.embed_cache WHERE embedder = %s AND hash = ANY(%s)"),
                                      (self.embedder_name, rest))
            out.update((h, as_array(v)) for h, v in rows)
        return out

    def cache_vectors(self, content_hashes: Sequence[str], vectors: np.ndarray) -> None:
        assert self.cache is not None
        with self.cache.cursor() as cur:
            cur.executemany(self._q("INSERT INTO {s}.embed_cache VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"),
                            [(self.embedder_name, h, np.asarray(v, np.float32)) for h, v in zip(content_hashes, vectors)])
        faults.point("embedding")

    def _unlink(self, source: str) -> None:
        if self.table is None:  # a new table: nothing of this file in it yet
            self._x("DELETE FROM {s}.files WHERE source = %s", (source,))
            return
        if not self.fresh:
            self._x("UPDATE {s}.terms t SET df = t.df - x.n FROM (SELECT u.lexeme, count(*) AS n FROM {s}.{t} c, "
                    "unnest(c.tsv) u WHERE c.source = %s GROUP BY u.lexeme) x WHERE t.term = x.lexeme", (source,))
        n, total = self._x("WITH gone AS (DELETE FROM {s}.{t} WHERE source = %s RETURNING n_terms) "
                           "SELECT count(*), coalesce(sum(n_terms), 0) FROM gone", (source,)).fetchone()
        self.n_chunks -= int(n)
        self.total_terms -= int(total)
        self._x("DELETE FROM {s}.files WHERE source = %s", (source,))

    def _insert_file(self, state: FileState, text: str) -> None:
        self._x("INSERT INTO {s}.files (source, sha256, size, mtime_ns, title, date, articles, n_chunks, skipped, text) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (state.source, state.sha256, state.size, state.mtime_ns, state.title, state.date,
                 Jsonb(list(state.articles)), state.n_chunks, state.skipped, text))

    def put_file(self, state: FileState, text: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{state.source}: {len(chunks)} chunks but {len(vectors)} vectors")
        self._unlink(state.source)
        self._insert_file(state, text)
        if not len(chunks):
            self.changed = True
            return
        if self.table is None:
            self.table = f"chunks_g{self.published + 1}"
            self._x("DROP TABLE IF EXISTS {s}.{t}")  # one a dead writer made is rolled back; be sure
            self.conn.execute(chunk_table_ddl(self.schema, self.table, int(np.shape(vectors)[1])))
        rows = []
        for c, v in zip(chunks, vectors):
            tokens = tokenize(index_text(c.title, c.text))
            rows.append((c.chunk_id, c.doc_id, c.source, c.title, c.date, c.text, c.start, c.end, c.n_tokens,
                         c.content_hash, field_norm(len(tokens)), len(tokens), np.asarray(v, np.float32),
                         tsvector_literal(tokens)))
            self.total_terms += len(tokens)
        with self.conn.cursor() as cur:
            cur.executemany(self._q('INSERT INTO {s}.{t} (chunk_id, doc_id, source, title, date, text, "start", "end", '
                                    "n_tokens, content_hash, norm, n_terms, embedding, tsv) VALUES "
                                    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::tsvector)"), rows)
        self.n_chunks += len(rows)
        if not self.fresh:
            self._x("INSERT INTO {s}.terms (term, df) SELECT u.lexeme, count(*) FROM {s}.{t} c, unnest(c.tsv) u "
                    "WHERE c.source = %s GROUP BY u.lexeme ON CONFLICT (term) DO UPDATE SET df = terms.df + EXCLUDED.df",
                    (state.source,))
        self.changed = True

    def touch_file(self, state: FileState) -> None:
        cur = self._x("UPDATE {s}.files SET sha256 = %s, size = %s, mtime_ns = %s, skipped = %s WHERE source = %s",
                      (state.sha256, state.size, state.mtime_ns, state.skipped, state.source))
        if cur.rowcount == 0:
            self._insert_file(state, "")
            self.changed = True

    def remove_file(self, source: str) -> None:
        self._unlink(source)
        self.changed = True

    def count_files(self) -> int:
        (n,) = self._x("SELECT count(*) FROM {s}.files WHERE skipped = ''").fetchone()
        return int(n)

    def count_chunks(self) -> int:
        return self.n_chunks

    def commit(self, settings: dict, progress: Progress | None = None) -> None:
        if not self.changed and settings == self.settings():
            self._x("DELETE FROM {s}.embed_cache WHERE embedder = %s", (self.embedder_name,))
            self.conn.commit()  # size/mtime updates only: nothing to publish
            return
        if self.fresh:
            self._swap_in(int(settings["embedder"]["dim"]), progress)
        else:
            self._x("DELETE FROM {s}.terms WHERE df <= 0")
        n_files = self.count_files()
        generation = self.published + 1
        self._x("INSERT INTO {s}.meta (id, format_version, generation, settings, n_chunks, n_files, total_terms, updated) "
                "VALUES (1, %s, %s, %s, %s, %s, %s, now()) ON CONFLICT (id) DO UPDATE SET "
                "format_version = EXCLUDED.format_version, generation = EXCLUDED.generation, settings = EXCLUDED.settings, "
                "n_chunks = EXCLUDED.n_chunks, n_files = EXCLUDED.n_files, total_terms = EXCLUDED.total_terms, updated = now()",
                (FORMAT_VERSION, generation, Jsonb({**settings, "store": "postgres"}), self.n_chunks, n_files,
                 self.total_terms))
        self._x("DELETE FROM {s}.embed_cache WHERE embedder = %s", (self.embedder_name,))
        faults.point("before-manifest")
        self.conn.commit()  # the commit point
        faults.point("after-manifest")
        self.published, self.changed, self.fresh = generation, False, False
        self.table = "chunks"
        self.meta = (FORMAT_VERSION, generation, settings, self.n_chunks, self.total_terms)
        log.info("published generation %d of %s: %d chunks", generation, self.schema, self.n_chunks)

    def _swap_in(self, dim: int, progress: Progress | None) -> None:
        """Index the new chunk table and put it in the place of ``chunks`` (readers switch at commit)."""
        if self.table is None:  # no chunk at all (the sync refuses that before; be safe)
            self.table = f"chunks_g{self.published + 1}"
            self.conn.execute(chunk_table_ddl(self.schema, self.table, dim))
        if progress:
            progress(0, self.n_chunks, "writing vectors")
        self.conn.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(BUILD_MEMORY)))
        self.conn.execute(search_index_ddl(self.schema, self.table, HNSW_M, HNSW_EF_CONSTRUCTION))
        self._x("INSERT INTO {s}.terms (term, df) SELECT u.lexeme, count(*) FROM {s}.{t} c, unnest(c.tsv) u "
                "GROUP BY u.lexeme")
        self._x("DROP TABLE IF EXISTS {s}.chunks")
        self._x("ALTER TABLE {s}.{t} RENAME TO chunks")
        if progress:
            progress(self.n_chunks, self.n_chunks, "writing vectors")

    def close(self) -> None:
        for conn in (self.conn, self.cache):
            if conn is None or conn.closed:
                continue
            try:
                if not conn.autocommit:
                    conn.rollback()
            except psycopg.Error as err:
                log.debug("rollback on close: %s", err)
            conn.close()  # also releases the advisory lock


__all__ = ["PostgresWriter"]
