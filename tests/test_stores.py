"""Store behaviour every backend must have, run on the embedded store and on PostgreSQL
(a real server the tests start, tests/pgserver.py): sync, incremental updates, keys, mismatch
errors, a writer that dies, read-only opening. Real embedder; no LLM."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import pytest

from rag import Assistant
from rag.config import Config
from rag.errors import CorpusError, IndexMismatchError
from rag.store import backend_for
from rag.store import sync as sync_mod
from rag.store.sync import needs_sync, sync

BACKENDS = ["embedded", "postgres"]


class Env:
    """One backend's configuration for a test: an index folder, or a database of its own."""

    def __init__(self, kind: str, tmp_path: Path, dsn: str = ""):
        self.kind, self.tmp_path, self.dsn = kind, tmp_path, dsn

    def config(self, corpus: Path, **changes) -> Config:
        base = dict(corpus=corpus, index_dir=self.tmp_path / "idx", store=self.kind, dsn=self.dsn,
                    chunk_tokens=120, chunk_overlap=25)
        return Config().replace(**{**base, **changes})

    def sync(self, corpus: Path, embedder, **kw):
        rebuild = kw.pop("rebuild", False)
        cfg = self.config(corpus, **kw)
        report = sync(cfg, embedder, rebuild=rebuild)
        return backend_for(cfg).open(cfg, embedder.name), report

    @contextlib.contextmanager
    def write_lock(self, corpus: Path):
        """Hold the store's write lock, as a long sync would."""
        if self.kind == "embedded":
            import fcntl

            idx = self.tmp_path / "idx"
            with open(idx / ".lock", "a") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                yield
        else:
            import psycopg

            from rag.store.postgres import schema_for

            with psycopg.connect(self.dsn, autocommit=True) as conn:
                conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"rag-news:{schema_for(self.config(corpus))}",))
                yield


class MemoEmbedder:
    """The real embedder, remembering what it embedded: these tests sync the seeds many times,
    and a sync decides what to embed by itself (what it asks for is counted in its report)."""

    def __init__(self, inner):
        self.inner, self.name, self.dim, self.memo = inner, inner.name, inner.dim, {}

    def encode(self, texts, progress=None):
        todo = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if todo:
            self.memo.update(zip(todo, self.inner.encode(todo)))
        return np.stack([self.memo[t] for t in texts]) if texts else self.inner.encode(texts)


@pytest.fixture(scope="module")
def embedder(embedder):  # noqa: F811 - the session's real embedder, memoised for this module
    return MemoEmbedder(embedder)


@pytest.fixture(params=BACKENDS)
def env(request, tmp_path) -> Env:
    dsn = request.getfixturevalue("pg_dsn") if request.param == "postgres" else ""
    return Env(request.param, tmp_path, dsn)


def test_build_records_settings_files_and_documents(env, seeds_copy, embedder):
    store, report = env.sync(seeds_copy, embedder)
    assert store.settings["embedder"] == {"name": "all-MiniLM-L6-v2", "dim": 384, "normalized": True}
    assert store.settings["chunking"]["max_tokens"] == 120 and store.generation == 1
    files = store.files()
    assert set(files) == {p.name for p in seeds_copy.iterdir()}
    assert all(len(f.sha256) == 64 and not f.skipped for f in files.values())
    assert report.added == 5 and report.embedded == report.n_chunks == len(store) == len(store.all_chunks())
    docs = {d.source: d for d in store.documents()}
    assert len(docs["000_ddcf69316a5a77b7.txt"].articles) == 2  # the first seed glues two articles
    assert sum(d.n_chunks for d in docs.values()) == len(store)
    chunk = store.all_chunks()[3]
    assert store.document_text(chunk.source)[chunk.start:chunk.end] == chunk.text
    with pytest.raises(CorpusError, match="no document"):
        store.document_text("missing.txt")
    vector = embedder.encode(["aluminum production ceiling in China"])[0]
    dense = store.dense_search(vector, 5)
    assert len(dense) == 5 and [s for _, s in dense] == sorted((s for _, s in dense), reverse=True)
    got = store.vectors([dense[0][0]])
    assert got.shape == (1, 384) and abs(float(got[0] @ vector) - dense[0][1]) < 1e-4
    keyword = store.chunks([k for k, _ in store.keyword_search("aluminum ceiling", 3)])
    assert keyword and all("alumin" in (c.title + c.text).lower() for c in keyword.values())
    assert store.keyword_search("zzzunknownword", 3) == [] and store.keyword_search("the of", 3) == []
    df = store.doc_freq(["aluminum", "zzzunknownword"])
    assert df["zzzunknownword"] == 0 and 0 < df["aluminum"] < len(store)
    store.close()


def test_resync_embeds_only_changes_and_keeps_untouched_keys(env, seeds_copy, embedder, monkeypatch):
    first, _ = env.sync(seeds_copy, embedder)
    keys_before = first.keys_of([c.chunk_id for c in first.all_chunks()])
    hashed = []
    real_sha = sync_mod._sha256
    monkeypatch.setattr(sync_mod, "_sha256", lambda p: hashed.append(p.name) or real_sha(p))
    again_store, again = env.sync(seeds_copy, embedder)
    assert again.embedded == 0 and again.unchanged == 5 and hashed == [] and again_store.generation == 1

    f = seeds_copy / "002_d3007cdac10de3ef.txt"
    f.write_text(f.read_text() + "\nCobalt output in Zambia rose 12% in December, officials said.\n")
    (seeds_copy / "004_30c1cd99ef1f7840.txt").unlink()
    store, changed = env.sync(seeds_copy, embedder)
    assert hashed == ["002_d3007cdac10de3ef.txt"]
    assert changed.updated == 1 and changed.removed == 1 and changed.unchanged == 3 and store.generation == 2
    chunks = store.all_chunks()
    assert 1 <= changed.embedded <= 2 < len([c for c in chunks if c.source == f.name])
    assert not any(c.source == "004_30c1cd99ef1f7840.txt" for c in chunks) and len(store) == len(chunks)
    untouched = {cid: k for cid, k in keys_before.items() if not cid.startswith(("002_", "004_"))}
    assert store.keys_of(list(untouched)) == untouched
    assert not set(store.keys_of([c.chunk_id for c in chunks if c.source == f.name]).values()) & set(keys_before.values())
    top = store.chunks([k for k, _ in store.keyword_search("cobalt Zambia", 1)])
    assert "Zambia" in next(iter(top.values())).text
    assert store.doc_freq(["zambia"])["zambia"] >= 1
    assert first.chunks(list(keys_before.values())).keys() <= set(keys_before.values())  # an old reader still works


def test_touched_file_is_recorded_without_republishing(env, seeds_copy, embedder):
    env.sync(seeds_copy, embedder)
    f = seeds_copy / "001_c4c25ce7ac6cce87.txt"
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 5_000_000_000))
    store, report = env.sync(seeds_copy, embedder)
    assert report.unchanged == 5 and report.embedded == 0 and store.generation == 1
    assert store.files()[f.name].mtime_ns == f.stat().st_mtime_ns
    assert not needs_sync(env.config(seeds_copy), store)


def test_other_embedder_is_refused_then_rebuilt(env, seeds_copy, embedder):
    env.sync(seeds_copy, embedder)
    cfg = env.config(seeds_copy)
    with pytest.raises(IndexMismatchError, match="rag index --rebuild"):
        backend_for(cfg).open(cfg, "some-other-embedder")
    store, report = env.sync(seeds_copy, embedder, rebuild=True)
    assert report.embedded == len(store) and store.generation == 2


def test_skipped_file_is_remembered_and_empty_corpus_is_an_error(env, seeds_copy, tmp_path, embedder):
    (seeds_copy / "broken.txt").write_bytes(b"\x00\xff\x00 binary junk")
    store, report = env.sync(seeds_copy, embedder)
    assert [f for f, _ in report.skipped] == ["broken.txt"] and report.added == 5
    assert store.files()["broken.txt"].skipped and "broken.txt" not in {d.source for d in store.documents()}
    assert not needs_sync(env.config(seeds_copy), store)
    (tmp_path / "empty").mkdir()
    empty = Env(env.kind, tmp_path / "other", env.dsn)
    with pytest.raises(CorpusError, match="no articles to index"):
        empty.sync(tmp_path / "empty", embedder)


def test_chunking_change_rechunks_without_reembedding_unchanged_text(env, seeds_copy, embedder):
    env.sync(seeds_copy, embedder)
    store, report = env.sync(seeds_copy, embedder, chunk_tokens=200)
    assert report.updated == 5 and 0 < report.embedded < len(store)
    assert store.settings["chunking"]["max_tokens"] == 200 and len(store) == len(store.all_chunks())


def test_a_sync_that_dies_publishes_nothing_and_the_next_resumes(env, seeds_copy, embedder, monkeypatch):
    env.sync(seeds_copy, embedder)
    new = seeds_copy / "zz_new.txt"
    new.write_text("Zorblax Mining Expands\n\n" + " ".join(
        f"In quarter {i} zorblax platinum output at the Ravensworth mine rose {i + 3}% as shafts opened." for i in range(30)))
    monkeypatch.setattr(sync_mod, "EMBED_BATCH", 2)
    calls = []

    class Dying:
        name, dim = embedder.name, embedder.dim

        def encode(self, texts):
            calls.append(len(texts))
            if len(calls) == 2:
                raise RuntimeError("killed while embedding")
            return embedder.encode(texts)

    with pytest.raises(RuntimeError, match="killed while embedding"):
        sync(env.config(seeds_copy), Dying())
    cfg = env.config(seeds_copy)
    store = backend_for(cfg).open(cfg, embedder.name)
    assert "zz_new.txt" not in store.files() and store.generation == 1
    assert store.keyword_search("zorblax Ravensworth", 5) == []
    resumed, report = env.sync(seeds_copy, embedder)
    n_new = resumed.files()["zz_new.txt"].n_chunks
    assert report.added == 1 and 0 < report.embedded == n_new - 2  # the first batch (2 chunks) was kept
    assert len(resumed.keyword_search("zorblax Ravensworth", 50)) == n_new


def test_open_never_writes_nor_waits_for_the_write_lock(env, seeds_copy, embedder):
    cfg = env.config(seeds_copy)
    kw = dict(config=cfg, embedder=embedder)
    with pytest.raises(CorpusError, match="no index"):
        Assistant.open(**kw)
    Assistant(**kw)  # builds
    with env.write_lock(seeds_copy):  # a writer holds the lock; reading an unchanged index goes on
        a = Assistant(**kw)
        assert a.last_report.embedded == 0 and a.last_report.unchanged == 5
        assert len(a.retrieve("What is China's aluminum production ceiling?")) == 4
        assert Assistant.open(**kw).retrieve("aluminum ceiling")
    (seeds_copy / "new.txt").write_text("Platinum Demand Jumps\n\nPlatinum demand rose 9% in Europe in March.\n")
    assert "new.txt" not in Assistant.open(**kw).index.files()
    synced = Assistant(**kw)
    assert synced.last_report.added == 1 and "new.txt" in synced.index.files()
