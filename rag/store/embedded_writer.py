"""The writer of the embedded store: one sync, published at once by swapping the manifest.

See rag/store/embedded.py for the generations. A writer starts by purging what a killed
writer left (rows of a generation never published, and rows removed two generations ago),
adds and removes rows for generation G+1 (committed to SQLite in batches: they stay
invisible), keeps freshly embedded vectors in ``embed-cache.sqlite`` so a killed sync
resumes, and at :meth:`commit` writes tantivy, SQLite, the FAISS files, fsyncs them and
the folder, and swaps the manifest in.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..errors import IndexMismatchError
from ..types import Chunk
from . import faults
from .base import FileState, Progress
from .embedded import (CACHE, DB, ENGINE, FORMAT_VERSION, KEYWORDS, MANIFEST, connect, file_lock, file_state,
                       fsync_dir, read_manifest)
from .keywords import KeywordWriter
from .text import index_text
from .vectors import VectorChange, VectorReader, VectorSettings, write_generation

log = logging.getLogger(__name__)

_BATCH_ROWS = 20_000  # rows per SQLite transaction while writing
_IN = 900  # SQLite variables per IN (...)
_KEEP = {MANIFEST, DB, f"{DB}-wal", f"{DB}-shm", KEYWORDS, ".lock", ".swap.lock", "README.md", ".gitignore", ".gitkeep"}


class EmbeddedWriter:
    def __init__(self, directory: Path, embedder_name: str, vsettings: VectorSettings):
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.embedder_name, self.vsettings = directory, embedder_name, vsettings
        try:
            manifest = read_manifest(directory)
        except IndexMismatchError as err:  # what `rag index --rebuild` is for: start afresh from the corpus
            log.warning("%s; building the index again from the corpus", err)
            manifest = None
        self.manifest = manifest if manifest and manifest.get("format_version") == FORMAT_VERSION else None
        if self.manifest and not (directory / DB).exists():
            self.manifest = None  # the chunks' rows are lost: the vectors match nothing, so start afresh
        self.published = int(self.manifest["generation"]) if self.manifest else 0
        self.gen = self.published + 1
        self.db = connect(directory / DB)
        self.keywords = KeywordWriter(directory / KEYWORDS)
        if self.manifest is None:
            # nothing is published: keyword documents left from an index whose rows are lost (a lost
            # store.sqlite, an unreadable manifest) would match the keys this build hands out again
            self.keywords.clear()
            self.keywords.commit()
        self.cache = connect(directory / CACHE)
        self.cache.execute("CREATE TABLE IF NOT EXISTS vectors (embedder TEXT, hash TEXT, vector BLOB, PRIMARY KEY (embedder, hash))")
        self.cache.execute("PRAGMA synchronous=NORMAL")  # a cache: losing its last batch costs a re-embedding
        self._vectors = None
        if self.manifest:
            data = self.manifest["vectors"]
            tomb = self._tombstones()
            self._vectors = VectorReader(directory, data, self.manifest["embedder"]["dim"], tomb, vsettings)
        self._purge()
        (self.next_key,) = self.db.execute("SELECT COALESCE(MAX(key), 0) + 1 FROM chunks").fetchone()
        seq = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'chunks'").fetchone()
        self.next_key = max(self.next_key, (seq[0] + 1) if seq else 1)  # keys are never reused
        self.added_keys: list[int] = []
        self.added_vectors: list[np.ndarray] = []
        self.removed_keys: list[int] = []
        self.changed = False
        self._reset = False
        self._pending_rows = 0

    # --- housekeeping ------------------------------------------------------------------

    def _tombstones(self) -> list[int]:
        base_gen = self.manifest["vectors"].get("base_generation", 0) if self.manifest else 0
        return [k for (k,) in self.db.execute("SELECT key FROM tombstones WHERE generation > ? AND generation <= ?",
                                              (base_gen, self.published))]

    def _purge(self) -> None:
        p = self.published
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        dead = [k for (k,) in db.execute("SELECT key FROM chunks WHERE gen_added > ? OR gen_removed < ?", (p, p))]
        db.execute("DELETE FROM chunks WHERE gen_added > ? OR gen_removed < ?", (p, p))
        db.execute("UPDATE chunks SET gen_removed = NULL WHERE gen_removed > ?", (p,))
        db.execute("DELETE FROM texts WHERE fkey IN (SELECT fkey FROM files WHERE gen_added > ? OR gen_removed < ?)", (p, p))
        db.execute("DELETE FROM files WHERE gen_added > ? OR gen_removed < ?", (p, p))
        db.execute("UPDATE files SET gen_removed = NULL WHERE gen_removed > ?", (p,))
        base_gen = self.manifest["vectors"].get("base_generation", 0) if self.manifest else p
        db.execute("DELETE FROM tombstones WHERE generation > ? OR generation <= ?", (p, base_gen))
        db.execute("COMMIT")
        if dead:
            log.info("purged %d rows of unpublished or old generations", len(dead))
            self.keywords.delete(dead)
            self.keywords.commit()  # the rows are gone for good: so are their documents

    def _begin(self) -> None:
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")

    def _maybe_commit_rows(self, n: int) -> None:
        self._pending_rows += n
        if self._pending_rows >= _BATCH_ROWS:  # rows of an unpublished generation: invisible, safe to commit
            self.db.execute("COMMIT")
            self._pending_rows = 0

    # --- the StoreWriter protocol --------------------------------------------------------

    def settings(self) -> dict | None:
        return {k: self.manifest[k] for k in ("embedder", "chunking")} if self.manifest else None

    def files(self) -> dict[str, FileState]:
        rows = self.db.execute("SELECT source, sha256, size, mtime_ns, title, date, articles, n_chunks, skipped "
                               "FROM files WHERE gen_removed IS NULL AND gen_added <= ?", (self.published,))
        return {r[0]: file_state(r) for r in rows}

    def reset(self) -> None:
        self._begin()
        self.removed_keys.extend(k for (k,) in self.db.execute("SELECT key FROM chunks WHERE gen_removed IS NULL"))
        self.db.execute("UPDATE chunks SET gen_removed = ? WHERE gen_removed IS NULL", (self.gen,))
        self.db.execute("UPDATE files SET gen_removed = ? WHERE gen_removed IS NULL", (self.gen,))
        self.changed = self._reset = True

    def cached_vectors(self, content_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        hashes = list(dict.fromkeys(content_hashes))
        for i in range(0, len(hashes), _IN):
            part = hashes[i:i + _IN]
            marks = ",".join("?" * len(part))
            if self._vectors is not None and not self._reset:
                rows = self.db.execute(
                    f"SELECT content_hash, MIN(key) FROM chunks WHERE content_hash IN ({marks}) AND gen_added <= ? "
                    f"AND (gen_removed IS NULL OR gen_removed > ?) GROUP BY content_hash", [*part, self.published, self.published]).fetchall()
                if rows:
                    vecs = self._vectors.reconstruct([k for _, k in rows])
                    out.update({h: v for (h, _), v in zip(rows, vecs) if v.any()})
            rest = [h for h in part if h not in out]
            if rest:
                marks = ",".join("?" * len(rest))
                for h, blob in self.cache.execute(f"SELECT hash, vector FROM vectors WHERE embedder = ? AND hash IN ({marks})",
                                                  [self.embedder_name, *rest]):
                    out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def cache_vectors(self, content_hashes: Sequence[str], vectors: np.ndarray) -> None:
        rows = [(self.embedder_name, h, np.ascontiguousarray(v, dtype=np.float32).tobytes())
                for h, v in zip(content_hashes, vectors)]
        with self.cache:
            self.cache.execute("BEGIN")
            self.cache.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
        faults.point("embedding")

    def _unlink(self, source: str) -> None:
        keys = [k for (k,) in self.db.execute("SELECT key FROM chunks WHERE source = ? AND gen_removed IS NULL", (source,))]
        self.removed_keys.extend(keys)
        self.db.execute("UPDATE chunks SET gen_removed = ? WHERE source = ? AND gen_removed IS NULL", (self.gen, source))
        self.db.execute("UPDATE files SET gen_removed = ? WHERE source = ? AND gen_removed IS NULL", (self.gen, source))

    def _insert_file(self, state: FileState, text: str) -> None:
        cur = self.db.execute(
            "INSERT INTO files (source, sha256, size, mtime_ns, title, date, articles, n_chunks, skipped, n_chars, gen_added) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (state.source, state.sha256, state.size, state.mtime_ns, state.title, state.date,
             json.dumps(list(state.articles), ensure_ascii=False), state.n_chunks, state.skipped, len(text), self.gen))
        if text:  # texts apart: the file rows stay small, so scanning them for the stale check is fast
            self.db.execute("INSERT INTO texts (fkey, text) VALUES (?, ?)", (cur.lastrowid, text))

    def put_file(self, state: FileState, text: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        if len(chunks) != len(vectors):
            raise ValueError(f"{state.source}: {len(chunks)} chunks but {len(vectors)} vectors")
        self._begin()
        self._unlink(state.source)
        self._insert_file(state, text)
        keys = list(range(self.next_key, self.next_key + len(chunks)))
        self.next_key += len(chunks)
        self.db.executemany(
            f'INSERT INTO chunks (key, chunk_id, doc_id, source, title, date, text, "start", "end", n_tokens, content_hash, gen_added) '
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(k, c.chunk_id, c.doc_id, c.source, c.title, c.date, c.text, c.start, c.end, c.n_tokens, c.content_hash, self.gen)
             for k, c in zip(keys, chunks)])
        self.keywords.add((k, index_text(c.title, c.text)) for k, c in zip(keys, chunks))
        self.added_keys.extend(keys)
        if len(chunks):
            self.added_vectors.append(np.ascontiguousarray(vectors, dtype=np.float32))
        self.changed = True
        self._maybe_commit_rows(len(chunks) + 1)

    def touch_file(self, state: FileState) -> None:
        self._begin()
        cur = self.db.execute("UPDATE files SET sha256 = ?, size = ?, mtime_ns = ?, skipped = ? "
                              "WHERE source = ? AND gen_removed IS NULL",
                              (state.sha256, state.size, state.mtime_ns, state.skipped, state.source))
        if cur.rowcount == 0:
            self._insert_file(state, "")
            self.changed = True

    def remove_file(self, source: str) -> None:
        self._begin()
        self._unlink(source)
        self.changed = True

    def count_files(self) -> int:
        (n,) = self.db.execute("SELECT COUNT(*) FROM files WHERE gen_removed IS NULL AND skipped = ''").fetchone()
        return int(n)

    def count_chunks(self) -> int:
        """Chunks the generation being written holds (counted from the changes, not the table)."""
        if self.manifest is None:
            (n,) = self.db.execute("SELECT COUNT(*) FROM chunks WHERE gen_removed IS NULL").fetchone()
            return int(n)
        return int(self.manifest["n_chunks"]) - len(self.removed_keys) + len(self.added_keys)

    def _other_kind_wanted(self) -> bool:
        """Whether the settings ask for another vector index than the published one (vector_index,
        hnsw_threshold): the next sync rebuilds it, not one some later change happens to trigger."""
        if not self.manifest:
            return False
        return self.vsettings.kind_for(int(self.manifest["n_chunks"])) != self.manifest["vectors"].get("kind", "flat")

    def commit(self, settings: dict, progress: Progress | None = None) -> None:
        rekind = self._other_kind_wanted()
        if not self.changed and not rekind and settings == self.settings():
            if self.db.in_transaction:
                self.db.execute("COMMIT")  # size/mtime updates only: nothing to publish
            self._drop_cache()
            return
        self.keywords.commit()
        if self.db.in_transaction:
            self.db.execute("COMMIT")
        faults.point("between-data-files")
        dim = int(settings["embedder"]["dim"])
        change = VectorChange(self.removed_keys, self.added_keys,
                              np.vstack(self.added_vectors) if self.added_vectors else np.zeros((0, dim), np.float32))
        old = self.manifest["vectors"] if self.manifest else None
        if old is not None and not change.removed and not change.added and not rekind:
            data, new_tomb = old, []
        else:
            data, new_tomb, _ = write_generation(
                self.directory, old, self._tombstones(), change, dim, self.gen, self.vsettings,
                (lambda d, t: progress(d, t, "writing vectors")) if progress else None)
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT OR REPLACE INTO tombstones VALUES (?, ?)", [(k, self.gen) for k in new_tomb])
        # the published rows into the main file, as far as readers allow without waiting: a reader on
        # a read-only mount without the WAL's shared memory reads the main file alone
        self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        n_chunks = self.count_chunks()
        n_files = self.count_files()
        import tantivy

        manifest = {
            "format_version": FORMAT_VERSION, "store": "embedded", **settings,
            "generation": self.gen, "n_chunks": int(n_chunks), "n_files": int(n_files),
            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "db": DB, "vectors": data,
            "keywords": {"engine": ENGINE, "path": KEYWORDS, "version": str(getattr(tantivy, "__version__", ""))},
            "previous": {"generation": self.published, "vectors": old} if old else None,
        }
        fsync_dir(self.directory / KEYWORDS)
        fsync_dir(self.directory)
        faults.point("before-manifest")
        tmp = self.directory / f".{MANIFEST}.tmp"
        with file_lock(self.directory / ".swap.lock", shared=False):
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(manifest, fh, indent=1, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.directory / MANIFEST)  # the commit point
            fsync_dir(self.directory)
        faults.point("after-manifest")
        self.manifest, self.published, self.changed = manifest, self.gen, False
        self._cleanup(data, old)

    def _drop_cache(self) -> None:
        """A sync that completed leaves nothing to resume."""
        self.cache.close()
        for suffix in ("", "-wal", "-shm"):
            (self.directory / f"{CACHE}{suffix}").unlink(missing_ok=True)

    def _cleanup(self, data: dict, previous: dict | None) -> None:
        """Delete files no manifest needs: the current and the previous generation stay."""
        self._drop_cache()
        keep = set(_KEEP)
        for d in (data, previous or {}):
            keep.update(v for k, v in d.items() if k in ("base", "delta") and v)
        for entry in self.directory.iterdir():
            if entry.name in keep or not entry.is_file():
                continue
            # only files this store writes: a dot-file of the folder's own (.env) is not ours
            ours = entry.name.startswith(("vectors-", "delta-", "chunks-", "texts-", CACHE)) or (
                entry.name.endswith(".tmp") and entry.name.startswith((".vectors-", ".delta-", f".{MANIFEST}")))
            if ours:
                entry.unlink(missing_ok=True)

    def close(self) -> None:
        self.keywords.close()
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.db.close()
        self.cache.close()
