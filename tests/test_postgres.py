"""The PostgreSQL store against a real server (tests/pgserver.py): the same retrieval as the
embedded store, hybrid fusion in one SQL query, the CLI on top of it, clear errors for a bad or
unreachable database, and a ``rag index`` killed with SIGKILL. Real embedder; the CLI test runs
the smallest shipped model."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag import Assistant
from rag.config import Config
from rag.evals import load_gold, run_eval
from rag.retrieval import BM25Retriever, DenseRetriever, FusionRetriever, FusionSettings
from rag.store import backend_for
from rag.store.pgsql import field_norm, tsvector_literal
from rag.store.postgres import mask_dsn, schema_for
from rag.store.sync import sync

from conftest import ROOT
from test_stores import MemoEmbedder

GOLD = ROOT / "evals" / "gold.jsonl"


@pytest.fixture(scope="module")
def embedder(embedder):  # noqa: F811 - the session's real embedder, memoised for this module
    return MemoEmbedder(embedder)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]), **extra)
    return env


def _cli(*args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], env=_env(**env), capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


# --- units -----------------------------------------------------------------------------------


def test_mask_dsn_hides_passwords_in_every_form():
    assert mask_dsn("postgresql://rag:s3cret@db.example:5432/news") == "postgresql://rag:***@db.example:5432/news"
    assert mask_dsn("host=db user=rag password=s3cret dbname=news") == "host=db user=rag password=*** dbname=news"
    assert mask_dsn("host=db password='s3 cret' dbname=news") == "host=db password=*** dbname=news"
    assert mask_dsn("postgresql://db/news?user=rag&password=s3cret") == "postgresql://db/news?user=rag&password=***"
    assert mask_dsn("postgresql://rag@db/news") == "postgresql://rag@db/news"


def test_a_dsn_psycopg_cannot_parse_is_quoted_without_its_password():
    from rag.store.postgres import StoreUnavailable, connect

    with pytest.raises(StoreUnavailable) as caught:  # psycopg's own message quotes the whole DSN
        connect("postgresql://rag:s3cret@[::1/news")
    assert "s3cret" not in str(caught.value) and "rag:***@" in str(caught.value)


def test_schema_is_named_after_the_index_folder():
    assert schema_for(Config()) == "rag_index"
    corpora = Config.index_dir / "corpora"  # another corpus's default folder: unique by its own name
    assert schema_for(Config().replace(index_dir=corpora / "My News-1a2b3c4d")) == "rag_my_news_1a2b3c4d"
    # two folders of the same name elsewhere are two indexes (review 4: one sync emptied the other)
    a, b = (schema_for(Config().replace(index_dir=f"/tmp/{x}/index")) for x in ("pa", "pb"))
    assert a != b and a.startswith("rag_index_") and b.startswith("rag_index_") and len(a) <= 63
    # and so are two of one name under the project's index/ (review 5)
    assert schema_for(Config().replace(index_dir=Config.index_dir / "a" / "run1")) != \
        schema_for(Config().replace(index_dir=Config.index_dir / "b" / "run1"))


def test_field_norm_and_tsvector_literal():
    assert [field_norm(n) for n in (0, 23, 40, 41, 42, 43, 100, 150)] == [0, 23, 40, 40, 42, 42, 96, 144]
    assert tsvector_literal(["it's", "a\\b", "x", "it's"]) == "'it''s':1,4 'a\\\\b':2 'x':3"


# --- the same retrieval as the embedded store --------------------------------------------------


@pytest.fixture(scope="module")
def both(tmp_path_factory, pg_server, embedder):
    """The seeds indexed into both stores with the default settings."""
    import psycopg

    root = tmp_path_factory.mktemp("both")
    corpus = root / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute('CREATE DATABASE "both"')
    stores = {}
    for kind, dsn in (("embedded", ""), ("postgres", pg_server.dsn_for("both"))):
        cfg = Config().replace(corpus=corpus, index_dir=root / "idx", store=kind, dsn=dsn)
        sync(cfg, embedder)
        stores[kind] = (cfg, backend_for(cfg).open(cfg, embedder.name))
    return stores


def _ids(store, hits):
    chunks = store.chunks([k for k, _ in hits])
    return [chunks[k].chunk_id for k, _ in hits]


def test_keyword_scores_equal_the_embedded_stores_bm25(both):
    (_, emb), (_, pg) = both["embedded"], both["postgres"]
    assert len(emb) == len(pg)
    questions = [g.question for g in load_gold(GOLD)]
    for q in questions:
        a, b = emb.keyword_search(q, 10), pg.keyword_search(q, 10)
        assert [round(s, 3) for _, s in a] == pytest.approx([round(s, 3) for _, s in b], abs=2e-3), q
        same = [x == y for x, y, (_, sa), (_, sb) in zip(_ids(emb, a), _ids(pg, b), a, b)]
        tied = [abs(sa - sb) < 1e-3 for (_, sa), (_, sb) in zip(a[1:], a)]  # equal scores may swap
        assert all(s or (i and tied[i - 1]) or (i + 1 < len(a) and tied[i]) for i, s in enumerate(same)), q
        terms = [t for t in q.lower().split() if t.isalpha()]
        assert emb.doc_freq(terms) == pg.doc_freq(terms)


def test_dense_search_equals_exact_search(both, embedder):
    (_, emb), (_, pg) = both["embedded"], both["postgres"]
    for q in [g.question for g in load_gold(GOLD)][:20]:
        v = embedder.encode([q])[0]
        a, b = emb.dense_search(v, 10), pg.dense_search(v, 10)
        assert [s for _, s in a] == pytest.approx([s for _, s in b], abs=1e-5)
        assert _ids(emb, a)[:5] == _ids(pg, b)[:5] or [s for _, s in a][:5] != sorted({s for _, s in a}, reverse=True)[:5]


@pytest.mark.parametrize("method", ["zscore", "rrf", "minmax"])
@pytest.mark.parametrize("depth, pool", [(20, 200), (5, 8)])  # lists that hold every match, and lists cut short
def test_sql_hybrid_fusion_equals_the_python_fusion(both, embedder, method, depth, pool):
    cfg, pg = both["postgres"]

    class Plain:  # the same store without hybrid_search: FusionRetriever fuses in Python
        def __init__(self, store):
            self._store = store

        def __getattr__(self, name):
            if name == "hybrid_search":
                raise AttributeError(name)
            return getattr(self._store, name)

        def __len__(self):
            return len(self._store)

    settings = FusionSettings.from_config(cfg.replace(fusion=method, candidates=depth, fusion_pool=pool))
    in_sql = FusionRetriever([DenseRetriever(pg, embedder), BM25Retriever(pg)], settings=settings)
    plain = Plain(pg)
    in_python = FusionRetriever([DenseRetriever(plain, embedder), BM25Retriever(plain)], settings=settings)
    assert in_sql._store_fusion() is not None and in_python._store_fusion() is None
    for q in [g.question for g in load_gold(GOLD)][:25] + ["zzzunknownword"]:
        a, b = in_sql.fuse(q, depth), in_python.fuse(q, depth)
        assert set(a) == set(b), q
        assert [a[key] for key in b] == pytest.approx([b[key] for key in b], abs=1e-6), q


def test_gold_retrieval_figures_match_the_embedded_store(both, embedder):
    gold = load_gold(GOLD)
    runs = {}
    for kind, (cfg, _) in both.items():
        assistant = Assistant.open(config=cfg, embedder=embedder)
        runs[kind] = run_eval(assistant, gold, retrieval_only=True)
    a, b = runs["embedded"].summary["overall"], runs["postgres"].summary["overall"]
    n = a["n"]
    print(json.dumps({k: {m: r.summary["overall"][m] for m in ("recall_at_k", "hit_at_k", "mrr")} for k, r in runs.items()}))
    for figure in ("recall_at_k", "hit_at_k", "mrr"):
        assert abs(a[figure] - b[figure]) <= 1 / n + 1e-9, figure  # within one question
    assert b["recall_at_k"] >= 0.92 and b["mrr"] >= 0.88


# --- errors ------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_down_or_bad_dsn_is_one_error_line_naming_the_dsn(tmp_path):
    down = f"postgresql://rag:s3cret@127.0.0.1:{_closed_port()}/news"
    for args in (["ask", "What is the copper forecast?"], ["index"]):
        out = _cli(*args, RAG_STORE="postgres", RAG_DSN=down, timeout=120)
        assert out.returncode == 1 and "Traceback" not in out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: cannot connect to PostgreSQL at "), out.stderr
        assert "rag:***@127.0.0.1" in lines[0] and "s3cret" not in out.stderr + out.stdout
    bad = _cli("ask", "What is the copper forecast?", RAG_STORE="postgres", RAG_DSN="host=127.0.0.1 port", timeout=120)
    assert bad.returncode == 1 and bad.stderr.startswith("error: bad PostgreSQL DSN 'host=127.0.0.1 port'")
    none = _cli("index", RAG_STORE="postgres", timeout=120)
    assert none.returncode == 1 and "RAG_DSN" in none.stderr and len(none.stderr.strip().splitlines()) == 1


def test_a_server_that_never_answers_times_out_with_one_line(tmp_path):
    with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        dsn = f"postgresql://rag@127.0.0.1:{silent.getsockname()[1]}/news?connect_timeout=2"
        t = time.monotonic()
        out = _cli("ask", "What is the copper forecast?", RAG_STORE="postgres", RAG_DSN=dsn, timeout=120)
    assert out.returncode == 1 and time.monotonic() - t < 60
    assert out.stderr.startswith("error: cannot connect to PostgreSQL at postgresql://rag@127.0.0.1")
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


# --- the CLI on top of it ----------------------------------------------------------------------


@pytest.mark.integration
def test_cli_index_ask_and_retrieval_eval_on_postgres(pg_dsn, seeds_copy, tmp_path):
    from click.testing import CliRunner

    from rag.cli import cli

    dsn = pg_dsn.replace("postgres@", "postgres:s3cret@")  # the test server trusts loopback: any password works
    env = dict(RAG_STORE="postgres", RAG_DSN=dsn, RAG_CORPUS=str(seeds_copy), RAG_INDEX_DIR=str(tmp_path / "index"))
    runner = CliRunner(env=env)
    first = runner.invoke(cli, ["index"])
    assert first.exit_code == 0, first.output
    # a folder named "index" outside the project's own: its schema carries a hash of its path
    assert "schema rag_index_" in first.stdout and " of postgresql://postgres:***@127.0.0.1" in first.stdout
    assert "5 added" in first.stdout
    ask = runner.invoke(cli, ["ask", "What did Goldman Sachs forecast for copper?", "--json", "--model", "smollm2-135m"])
    assert ask.exit_code == 0, ask.output
    answer = json.loads(ask.stdout)
    assert answer["passages"] and (answer["refused"] or answer["citations"])
    assert all(p["source"] in {f.name for f in seeds_copy.iterdir()} for p in answer["passages"])
    subset = tmp_path / "gold.jsonl"  # the whole gold set is scored in-process above; the CLI on a few
    subset.write_text("".join(GOLD.read_text(encoding="utf-8").splitlines(keepends=True)[:8]), encoding="utf-8")
    report = tmp_path / "eval.json"
    ev = runner.invoke(cli, ["eval", "--gold", str(subset), "--retrieval-only", "--json", str(report)])
    assert ev.exit_code == 0, ev.output
    run = json.loads(report.read_text())
    assert run["summary"]["overall"]["n"] == 8 and run["settings"]["config"]["store"] == "postgres"
    assert all(r["retrieved_sources"] for r in run["results"])
    assert "s3cret" not in first.output + ask.output + ev.output + report.read_text()
    assert run["settings"]["config"]["dsn"].startswith("postgresql://postgres:***@127.0.0.1")


@pytest.mark.integration
def test_ui_handlers_on_postgres_upload_ask_and_remove(pg_dsn, seeds_copy, tmp_path, embedder):
    from ui.app import Handlers, create_app

    cfg = Config().replace(corpus=seeds_copy, index_dir=tmp_path / "index", store="postgres", dsn=pg_dsn,
                           model="smollm2-135m")
    assistant = Assistant(config=cfg, embedder=embedder)
    assert create_app(assistant) is not None
    h = Handlers(assistant)
    article = tmp_path / "zorblax.txt"
    article.write_text("Zorblax Metals Expands\n\nThe Zorblax mine produced 48,700 tonnes of nickel in 2024.", encoding="utf-8")
    status, docs_html, dropdown, _ = h.add_files([str(article)], lambda *a, **kw: None)
    assert "1 added" in status and "zorblax.txt" in docs_html and "6 documents" in docs_html
    assert "48,700" in h.open_article("zorblax.txt")
    question = "How many tonnes of nickel did the Zorblax mine produce?"
    assert assistant.retrieve(question)[0].source == "zorblax.txt"
    reply = h.ask(question)  # the smallest model: check the structure, not its wording
    assert reply["refused"] or (reply["citations"] and all(c["source"] in {p.name for p in seeds_copy.iterdir()}
                                                           for c in reply["citations"]))
    status, docs_html, _, _ = h.remove("zorblax.txt")
    assert "Removed zorblax.txt" in status and "zorblax.txt" not in docs_html
    assert "zorblax.txt" not in assistant.index.files() and not assistant.index.keyword_search("zorblax", 5)


# --- a writer killed with SIGKILL --------------------------------------------------------------

NEW = ("Zorblax Mining Expands Platinum Output\n\n" + " ".join(
    f"In quarter {i} zorblax platinum output at the Ravensworth mine rose {i + 3}% as new shafts opened and "
    f"refiners in district {i} added capacity, the company said on Tuesday." for i in range(40)) + "\n")


@pytest.mark.integration
@pytest.mark.parametrize("point, published", [("embedding", False), ("before-manifest", False), ("after-manifest", True)])
def test_kill_9_during_sync_leaves_a_usable_index(point, published, pg_dsn, seeds_copy, tmp_path, embedder):
    cfg = Config().replace(corpus=seeds_copy, index_dir=tmp_path / "index", store="postgres", dsn=pg_dsn)
    before = sync(cfg, embedder)
    (seeds_copy / "zz_new.txt").write_text(NEW)
    marker = tmp_path / "reached"
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(seeds_copy), "--index-dir", str(cfg.index_dir)],
                            env=_env(RAG_STORE="postgres", RAG_DSN=pg_dsn, RAG_TEST_FAULT=point,
                                     RAG_TEST_FAULT_FILE=str(marker), RAG_EMBED_BATCH="4"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert proc.poll() is None, f"rag index ended before {point}: {proc.stderr.read().decode()[-2000:]}"
            assert time.monotonic() < deadline, f"rag index never reached {point}"
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 30  # the server rolls back once it sees the connection gone
    while True:
        store = backend_for(cfg).open(cfg, embedder.name)
        new = store.keyword_search("zorblax Ravensworth", 60)
        if not new or published or time.monotonic() > deadline:
            break
        store.close()
        time.sleep(0.2)
    assert store.generation == 1 + int(published) and bool(new) is published
    assert len(new) == (store.files()["zz_new.txt"].n_chunks if published else 0)  # all of the new file, or none
    assert store.dense_search(embedder.encode(["aluminum production ceiling"])[0], 4)
    report = sync(cfg, embedder)
    if published:
        assert report.embedded == 0 and report.unchanged == 6
    else:
        assert report.added == 1
        n_new = report.n_chunks - before.n_chunks
        assert report.embedded == 0 if point != "embedding" else 0 < report.embedded < n_new
    store = backend_for(cfg).open(cfg, embedder.name)
    assert len(store.keyword_search("zorblax Ravensworth", 60)) == store.files()["zz_new.txt"].n_chunks == len(store) - before.n_chunks
