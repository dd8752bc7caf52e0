"""Kill -9 a real ``rag index`` subprocess at each named point of a sync; the previous index
must still open and answer retrieval, and the next sync must complete.

The subprocess stops at a point named by ``RAG_TEST_FAULT`` (rag/store/faults.py), writes a
marker file and sleeps; the test then sends SIGKILL. Retrieval only: no LLM.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.config import Config
from rag.store.embedded import EmbeddedStore
from rag.store.sync import sync

from conftest import ROOT

NEW = ("Zorblax Mining Expands Platinum Output\n\n" + " ".join(
    f"In quarter {i} zorblax platinum output at the Ravensworth mine rose {i + 3}% as new shafts opened and "
    f"refiners in district {i} added capacity, the company said on Tuesday." for i in range(40)) + "\n")


@pytest.fixture(scope="module")
def base_index(tmp_path_factory, embedder):
    """The seeds indexed once; each test works on a copy."""
    root = tmp_path_factory.mktemp("crash-base")
    corpus = root / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    config = Config().replace(corpus=corpus, index_dir=root / "idx")
    sync(config, embedder)
    return root


def _copy(base: Path, tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(base / "corpus", tmp_path / "corpus")
    shutil.copytree(base / "idx", tmp_path / "idx")
    (tmp_path / "corpus" / "zz_new.txt").write_text(NEW)
    return tmp_path / "corpus", tmp_path / "idx"


def _kill_at(point: str, corpus: Path, idx: Path, tmp_path: Path) -> None:
    marker = tmp_path / "reached"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_TEST_FAULT=point, RAG_TEST_FAULT_FILE=str(marker), RAG_EMBED_BATCH="4",
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(corpus), "--index-dir", str(idx)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"rag index ended before {point}: {proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"rag index never reached {point}")
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _answers(idx: Path, embedder) -> tuple[EmbeddedStore, bool]:
    """Open the index as a reader would and retrieve; whether the new file is in it."""
    store = EmbeddedStore.load(idx, embedder.name)
    assert store is not None
    qv = embedder.encode(["What is China's aluminum production ceiling?"])[0]
    dense = store.chunks([k for k, _ in store.dense_search(qv, 4)])
    assert len(dense) == 4 and any("alumin" in c.text.lower() for c in dense.values())
    keyword = store.chunks([k for k, _ in store.keyword_search("aluminum production ceiling", 4)])
    assert keyword and all("alumin" in (c.title + c.text).lower() for c in keyword.values())
    assert len(store.documents()) in (5, 6) and store.document_text("001_c4c25ce7ac6cce87.txt")
    new = store.chunks([k for k, _ in store.keyword_search("zorblax Ravensworth", 50)])
    indexed = store.files().get("zz_new.txt")
    assert len(new) == (indexed.n_chunks if indexed else 0)  # all of the new file, or none of it
    return store, bool(new)


@pytest.mark.integration
@pytest.mark.parametrize("point, published", [("embedding", False), ("between-data-files", False),
                                              ("before-manifest", False), ("after-manifest", True)])
def test_kill_9_during_sync_leaves_a_usable_index(point, published, base_index, tmp_path, embedder):
    corpus, idx = _copy(base_index, tmp_path)
    before = json.loads((idx / "manifest.json").read_text())
    _kill_at(point, corpus, idx, tmp_path)
    store, has_new = _answers(idx, embedder)
    manifest = json.loads((idx / "manifest.json").read_text())
    assert has_new is published and manifest["generation"] == before["generation"] + int(published)
    assert len(store) == before["n_chunks"] + (store.files()["zz_new.txt"].n_chunks if published else 0)
    store.close()

    config = Config().replace(corpus=corpus, index_dir=idx)
    report = sync(config, embedder)
    if published:
        assert report.embedded == 0 and report.unchanged == 6
    else:
        assert report.added == 1
        if point != "embedding":  # every vector of the new file was kept by the killed run
            assert report.embedded == 0
        else:  # the killed run kept its first batch: the rest is embedded, not all of it
            assert 0 < report.embedded < report.n_chunks - before["n_chunks"]
    store, has_new = _answers(idx, embedder)
    assert has_new and len(store) == report.n_chunks
    # what the killed run left behind is gone; the previous generation's files stay for its readers
    manifest = json.loads((idx / "manifest.json").read_text())
    wanted = {v for d in (manifest["vectors"], (manifest.get("previous") or {}).get("vectors") or {})
              for k, v in d.items() if k in ("base", "delta") and v}
    assert {p.name for p in idx.iterdir() if p.name.endswith(".faiss")} == wanted
    assert not list(idx.glob(".*.tmp")) and not (idx / "embed-cache.sqlite").exists()
