"""The vector index of the embedded store: FAISS files, memory-mapped, updated incrementally.

A generation's vectors are a **base** file (exact ``IndexFlatIP`` below ``hnsw_threshold``
vectors, HNSW above it, each in an ``IndexIDMap2`` keyed by chunk key) plus a small exact
**delta** file holding the vectors added since the base was written, and **tombstones**:
keys removed from the base since, left out of every search with an ID selector.

Adding or removing a file writes a new delta (its size is that of the changes, not of the
index) and tombstones. When the delta outgrows ``delta_max`` vectors, the kind the size asks
for changes, or tombstones exceed a tenth of the base, the delta is merged into a new base:
a flat base drops its tombstones and takes the delta; an HNSW base takes the delta (HNSW
adds incrementally) and is rebuilt only when tombstones pile up, because HNSW cannot drop
vectors. The base is opened with ``IO_FLAG_MMAP_IFC``: its vectors stay in the page cache,
not in the process, and opening does not read them.

Queries run with one FAISS (OpenMP) thread, so that a query never fights the LLM for cores.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import Hit

log = logging.getLogger(__name__)

KINDS = ("auto", "flat", "hnsw")


@dataclass(frozen=True)
class VectorSettings:
    kind: str = "auto"  # auto: flat below hnsw_threshold vectors, HNSW from there
    hnsw_threshold: int = 200_000
    hnsw_m: int = 32
    ef_construction: int = 64
    ef_search: int = 4096
    delta_max: int = 20_000  # vectors the delta may hold before it is merged into the base

    def __post_init__(self) -> None:
        from ..errors import RagError

        if self.kind not in KINDS:
            raise RagError(f"vector_index={self.kind!r} is not one of {', '.join(KINDS)}")

    def kind_for(self, n: int) -> str:
        if self.kind != "auto":
            return self.kind
        return "hnsw" if n >= self.hnsw_threshold else "flat"


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _fsync_write(index, path: Path) -> None:
    import faiss

    tmp = path.with_name(f".{path.name}.tmp")
    faiss.write_index(index, str(tmp))
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _empty(dim: int):
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def _new_base(kind: str, dim: int, settings: VectorSettings):
    import faiss

    if kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = settings.ef_construction
        inner.hnsw.efSearch = settings.ef_search
    else:
        inner = faiss.IndexFlatIP(dim)
    return faiss.IndexIDMap2(inner)


def _ids(index) -> np.ndarray:
    import faiss

    return faiss.vector_to_array(index.id_map).astype(np.int64) if index.ntotal else np.zeros(0, np.int64)


def _all_vectors(index) -> np.ndarray:
    return index.index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), np.float32)


_bases: "weakref.WeakValueDictionary[tuple, object]" = weakref.WeakValueDictionary()
_bases_lock = threading.Lock()


def _read_ahead(path: Path, nbytes: int) -> None:
    """Read the first ``nbytes`` of ``path`` in large sequential reads, into the page cache only.

    An HNSW file starts with its graph (about 0.27 GB at 1M vectors), which ``read_index`` pages
    in by small faults even when it maps the vectors: 5.7 s from a cold cache here, against 0.9 s
    after one sequential read of that head."""
    buf = bytearray(16 << 20)
    with open(path, "rb", buffering=0) as fh:
        left = nbytes
        while left > 0:
            got = fh.readinto(memoryview(buf)[:min(len(buf), left)])
            if not got:
                break
            left -= got


def open_base(path: Path, graph_bytes: int = 0):
    """The base index in ``path``, memory-mapped, shared by every reader in this process.

    A base file is written once under a new name and never changed, so the reader of the next
    generation (and the writer of a sync) can share the one already open: reopening would read
    the HNSW graph again (seconds cold, and as much memory again while both are alive).
    ``graph_bytes``: how much of the file's head to read ahead first (what is not vectors)."""
    import faiss

    st = path.stat()
    key = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
    with _bases_lock:
        index = _bases.get(key)
        if index is None:
            if graph_bytes > 0:
                _read_ahead(path, min(graph_bytes, st.st_size))
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
            _bases[key] = index
        return index


def _graph_bytes(path: Path, data: dict, dim: int) -> int:
    """The head of an HNSW base file that is not its vectors (``data["n"]`` approximates its count)."""
    if data.get("kind") != "hnsw":
        return 0  # a flat base is all vectors: nothing to read ahead
    return max(0, path.stat().st_size - int(data.get("n", 0)) * dim * 4)


class VectorReader:
    """Search and reconstruct the vectors of one generation."""

    def __init__(self, directory: Path, data: dict, dim: int, tombstones: Sequence[int], settings: VectorSettings):
        import faiss

        self.dim, self.settings, self.kind = dim, settings, data.get("kind", "flat")
        base = directory / data["base"] if data.get("base") else None
        self.base = open_base(base, _graph_bytes(base, data, dim)) if base is not None else None
        self.delta = faiss.read_index(str(directory / data["delta"])) if data.get("delta") else None
        for index in (self.base, self.delta):
            if index is not None and getattr(index, "d", dim) != dim:  # the EmbeddedStore calls this damage
                raise ValueError(f"vector file holds {index.d}-dimensional vectors, the manifest says {dim}")
        self._tombstones = np.asarray(sorted(tombstones), dtype=np.int64)
        self._params = self._search_params()

    def __len__(self) -> int:
        n = (self.base.ntotal if self.base is not None else 0) - len(self._tombstones)
        return n + (self.delta.ntotal if self.delta is not None else 0)

    def _search_params(self):
        import faiss

        sel = faiss.IDSelectorNot(faiss.IDSelectorBatch(self._tombstones)) if len(self._tombstones) else None
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=self.settings.ef_search)
            if sel is not None:
                params.sel = sel
        elif sel is not None:
            params = faiss.SearchParameters(sel=sel)
        else:
            return None
        params._keep = sel  # the selector must live as long as the parameters
        return params

    def search(self, vector: np.ndarray, k: int) -> list[Hit]:
        q = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1)
        hits: list[Hit] = []
        with one_thread():
            for index, params in ((self.base, self._params), (self.delta, None)):
                if index is None or not index.ntotal:
                    continue
                scores, keys = index.search(q, min(k, index.ntotal), params=params)
                hits.extend((int(key), float(s)) for key, s in zip(keys[0], scores[0]) if key >= 0)
        hits.sort(key=lambda h: -h[1])
        return hits[:k]

    def reconstruct(self, keys: Sequence[int]) -> np.ndarray:
        out = np.zeros((len(keys), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            for index in (self.delta, self.base):
                if index is None:
                    continue
                try:
                    out[i] = index.reconstruct(int(key))
                    break
                except RuntimeError:  # not in this file
                    continue
        return out


@dataclass(frozen=True)
class VectorChange:
    """What the writer hands over at commit: keys gone, keys (and vectors) new."""

    removed: Sequence[int]
    added: Sequence[int]
    vectors: np.ndarray


def write_generation(directory: Path, data: dict | None, tombstones: Sequence[int], change: VectorChange,
                     dim: int, generation: int, settings: VectorSettings,
                     progress: Callable[[int, int], None] | None = None) -> tuple[dict, list[int], bool]:
    """Write the vector files of ``generation``; return (manifest "vectors" section, keys
    tombstoned now, whether a new base was written — then every tombstone is obsolete)."""
    import faiss

    data = data or {}
    base_path = directory / data["base"] if data.get("base") else None
    if base_path is None and not data.get("delta"):  # a first build: straight into a base, no copies
        kind = settings.kind_for(len(change.added))
        new = _new_base(kind, dim, settings)
        _add(new, change.vectors, np.asarray(change.added, dtype=np.int64), progress, 0)
        name = f"vectors-{generation}.faiss"
        _fsync_write(new, directory / name)
        return {"kind": kind, "base": name, "base_generation": generation, "delta": None, "n": new.ntotal}, [], True
    base_n = open_base(base_path).ntotal if base_path else 0
    delta = faiss.read_index(str(directory / data["delta"])) if data.get("delta") else _empty(dim)
    removed = np.asarray(sorted(set(int(k) for k in change.removed)), dtype=np.int64)
    in_delta = np.intersect1d(removed, _ids(delta))
    if len(in_delta):
        delta.remove_ids(faiss.IDSelectorBatch(in_delta))
    new_tombstones = sorted(set(removed.tolist()) - set(in_delta.tolist()))
    if len(change.added):
        delta.add_with_ids(np.ascontiguousarray(change.vectors, dtype=np.float32), np.asarray(change.added, dtype=np.int64))
    dead = len(tombstones) + len(new_tombstones)
    live = base_n - dead + delta.ntotal
    kind = settings.kind_for(live)
    merge = (base_path is None or delta.ntotal > settings.delta_max or kind != data.get("kind")
             or dead > 0.1 * max(base_n, 1))
    if not merge:
        name = f"delta-{generation}.faiss"
        _fsync_write(delta, directory / name)
        return {**data, "delta": name, "n": live}, new_tombstones, False

    if base_path is not None:
        base = faiss.read_index(str(base_path))
        dead_keys = np.asarray(sorted(set(tombstones) | set(new_tombstones)), dtype=np.int64)
    else:
        base, dead_keys = _new_base(kind, dim, settings), np.zeros(0, np.int64)
    if kind == data.get("kind") and kind == "hnsw" and dead <= 0.1 * max(base_n, 1):
        new = base  # HNSW takes the delta; its tombstones carry over
        keep_tombstones = True
    elif kind == data.get("kind") and kind == "flat":
        if len(dead_keys):
            base.remove_ids(faiss.IDSelectorBatch(dead_keys))
        new, keep_tombstones = base, False
    else:  # first base, another kind, or too many tombstones: build from the live vectors
        new, keep_tombstones = _new_base(kind, dim, settings), False
        if base.ntotal:
            ids, vecs = _ids(base), _all_vectors(base)
            live_rows = ~np.isin(ids, dead_keys)
            _add(new, vecs[live_rows], ids[live_rows], progress, delta.ntotal)
            del vecs
    _add(new, _all_vectors(delta), _ids(delta), progress, 0)
    name = f"vectors-{generation}.faiss"
    _fsync_write(new, directory / name)
    out = {"kind": kind, "base": name, "base_generation": generation if not keep_tombstones else data.get("base_generation", 0),
           "delta": None, "n": live}
    log.info("vector base %s written: %s, %d vectors", name, kind, new.ntotal)
    return out, new_tombstones, not keep_tombstones


def _add(index, vectors: np.ndarray, ids: np.ndarray, progress: Callable[[int, int], None] | None, extra: int) -> None:
    step = 50_000
    total = len(ids) + extra
    for i in range(0, len(ids), step):
        index.add_with_ids(np.ascontiguousarray(vectors[i:i + step], dtype=np.float32), ids[i:i + step])
        if progress:
            progress(min(i + step, len(ids)), total)
