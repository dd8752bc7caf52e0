"""How the embedded store scales: build, open, retrieval latency, recall, memory, disk, one more article.

For each corpus size it writes a synthetic corpus (files of 10 chunks each) and its index,
then, in a fresh process, opens it as ``Assistant.open`` does and measures. Chunk texts are
sentences of seeds/ and the external SQuAD corpus recombined, each with a unique reference
code and company name. The first ``--real`` chunks get real embeddings (all-MiniLM-L6-v2,
cached under --cache); every further chunk is a **perturbed copy**: the text of chunk
``i mod real`` with a new code and name, and its vector plus Gaussian noise, renormalised
(cosine about 0.74 to the original). Builds above ``--real`` therefore time the store's writes,
not embedding; the embedder's own rate is measured on real chunks and printed beside it.

    nice -n 19 .venv/bin/python scripts/scale_benchmark.py [--sizes 10000 100000 1000000]

Prints a markdown table, writes benchmarks/scale.json and benchmarks/scale_latency.png.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHUNKS_PER_FILE = 10
NOISE = 0.9  # norm of the noise added to a copied unit vector: cosine ~0.74 to the original


def _sentences() -> list[str]:
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    ext = ROOT.parent / "shared" / "external" / "squad2" / "corpus"
    if not ext.is_dir():
        ext = Path("/work/shared/external/squad2/corpus")
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in sorted(ext.glob("*"))[:400] if p.is_file()]
    out = []
    for t in texts:
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", t) if 40 <= len(s.strip()) <= 300]
    return sorted(set(out))


def _code(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(3)) + str(rng.randint(100, 999)) + rng.choice("xyz")


def chunk_text(i: int, pool: list[str], rng: random.Random) -> tuple[str, str]:
    """(title, text) of synthetic chunk ``i``."""
    company = f"{rng.choice(['Astra', 'Borea', 'Cobalt', 'Delta', 'Ember', 'Fjord', 'Garnet', 'Helix'])} " \
              f"{rng.choice(['Mining', 'Metals', 'Energy', 'Shipping', 'Foods', 'Motors'])} {i % 997}"
    body = " ".join(rng.sample(pool, 3)) + f" {company} gave reference code {_code(rng)} for this report."
    return f"{company} report {i // CHUNKS_PER_FILE}", body


def real_vectors(n: int, cache: Path, pool: list[str]) -> tuple[list[tuple[str, str]], np.ndarray, float]:
    """The first ``n`` chunk texts and their real embeddings (cached), and the embedder's rate."""
    from rag.embedding import Embedder, embedding_text

    rng = random.Random(7)
    texts = [chunk_text(i, pool, rng) for i in range(n)]
    path = cache / f"real-{n}.npy"
    rate_path = cache / f"real-{n}.rate"
    if path.is_file():
        return texts, np.load(path), float(rate_path.read_text())
    cache.mkdir(parents=True, exist_ok=True)
    embedder = Embedder()
    embedder.encode(["warm up"])
    t = time.perf_counter()
    vecs = embedder.encode([embedding_text(a, b) for a, b in texts])
    rate = n / (time.perf_counter() - t)
    np.save(path, vecs)
    rate_path.write_text(str(rate))
    return texts, vecs, rate


def derived(i: int, texts: list[tuple[str, str]], vecs: np.ndarray, rng: np.random.Generator,
            trng: random.Random) -> tuple[tuple[str, str], np.ndarray]:
    j = i % len(texts)
    title, body = texts[j]
    body = re.sub(r"reference code \w+", f"reference code {_code(trng)}", body)
    v = vecs[j] + rng.normal(size=vecs.shape[1]).astype(np.float32) * (NOISE / np.sqrt(vecs.shape[1]))
    return (f"{title} copy {i}", body), v / np.linalg.norm(v)


def synthetic_files(size: int, texts: list[tuple[str, str]], vecs: np.ndarray, corpus: Path,
                    all_vecs: np.ndarray) -> Iterator[tuple]:
    """Write the corpus files of ``size`` chunks (``CHUNKS_PER_FILE`` a file) and yield, per file,
    what a store writer's ``put_file`` takes; every chunk's vector also goes into ``all_vecs``."""
    from rag.chunking import content_hash
    from rag.store.base import FileState
    from rag.types import Chunk

    rng, trng = np.random.default_rng(11), random.Random(13)
    for f in range(0, size, CHUNKS_PER_FILE):
        rows, chunks, parts, pos = [], [], [], 0
        source = f"a{f // CHUNKS_PER_FILE:07d}.txt"
        for i in range(f, min(f + CHUNKS_PER_FILE, size)):
            (title, body), v = ((texts[i], vecs[i]) if i < len(texts) else derived(i, texts, vecs, rng, trng))
            all_vecs[i] = v
            chunks.append(Chunk(f"{source}:{i - f}", source, source, title, None, body, pos, pos + len(body),
                                len(body) // 4, content_hash(title, body)))
            rows.append(v)
            parts.append(body)
            pos += len(body) + 2
        text = "\n\n".join(parts)
        path = corpus / source
        path.write_text(text, encoding="utf-8")
        st = path.stat()
        state = FileState(source, "synthetic", st.st_size, st.st_mtime_ns, chunks[0].title, None, (chunks[0].title,), len(chunks))
        yield state, text, chunks, np.stack(rows)


def build(size: int, work: Path, cache: Path, real: int) -> dict:
    """Write the corpus files and the index of ``size`` chunks through the store's writer."""
    from rag.config import Config
    from rag.store.embedded import EmbeddedBackend
    from rag.store.sync import chunking_settings

    pool = _sentences()
    texts, vecs, embed_rate = real_vectors(real, cache, pool)
    texts, vecs = texts[:size], vecs[:size]
    corpus, idx = work / f"corpus-{size}", work / f"index-{size}"
    corpus.mkdir(parents=True, exist_ok=True)
    config = Config().replace(corpus=corpus, index_dir=idx)
    settings = {"embedder": {"name": config.embedder, "dim": int(vecs.shape[1]), "normalized": True},
                "chunking": chunking_settings(config)}
    all_vecs = np.lib.format.open_memmap(work / f"vectors-{size}.npy", mode="w+", dtype=np.float32, shape=(size, vecs.shape[1]))
    t0 = time.perf_counter()
    with EmbeddedBackend().writer(config) as w:
        for state, text, chunks, rows in synthetic_files(size, texts, vecs, corpus, all_vecs):
            w.put_file(state, text, chunks, rows)
        w.commit(settings)
    all_vecs.flush()
    seconds = time.perf_counter() - t0
    return {"size": size, "write_rate": size / seconds, "build_s": seconds, "embed_rate": embed_rate,
            "build_peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def _pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.array(xs) * 1000, p))


def _queries(n: int) -> list[str]:
    pool = _sentences()
    qrng = random.Random(5)
    return [" ".join(qrng.choice(pool).split()[:10]) for _ in range(n)]


def truth(size: int, work: Path, cache: Path, n_queries: int) -> dict:
    """Embed the queries and find their exact top 10 by brute force (its own process: the
    vectors it reads do not count towards the measured process's memory)."""
    from rag.embedding import Embedder

    qvecs = Embedder().encode(_queries(n_queries))
    vectors = np.load(work / f"vectors-{size}.npy", mmap_mode="r")
    scores = np.concatenate([np.asarray(vectors[j:j + 100_000]) @ qvecs.T for j in range(0, size, 100_000)])
    exact = np.argsort(-scores, axis=0)[:10].T + 1  # keys are row + 1
    np.savez(work / f"truth-{size}.npz", qvecs=qvecs, exact=exact)
    return {}


def measure(size: int, work: Path, cache: Path, n_queries: int) -> dict:
    """Open, query, add one article; in a fresh process so RSS is this phase's alone."""
    from rag.assistant import Assistant
    from rag.embedding import Embedder
    from rag.passages import to_passages
    from rag.store.embedded import EmbeddedStore

    embedder = Embedder()
    embedder.encode(["warm up"])
    corpus, idx = work / f"corpus-{size}", work / f"index-{size}"
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    EmbeddedStore.load(idx, embedder.name).close()
    store_open_s = time.perf_counter() - t
    t = time.perf_counter()
    assistant = Assistant.open(corpus=corpus, index_dir=idx, embedder=embedder)
    open_s = time.perf_counter() - t
    store = assistant.index
    queries = _queries(n_queries)
    saved = np.load(work / f"truth-{size}.npz")
    qvecs, exact = saved["qvecs"], saved["exact"]
    times: dict[str, list[float]] = {"dense": [], "keyword": [], "hybrid": [], "retrieve": []}
    recall = []
    for q, qv, ex in zip(queries, qvecs, exact):
        assistant._state.dense._last = (q, qv)  # the hybrid figure is retrieval, not query embedding
        t = time.perf_counter()
        got = store.dense_search(qv, 10)
        times["dense"].append(time.perf_counter() - t)
        recall.append(len({k for k, _ in got} & set(ex.tolist())) / 10)
        t = time.perf_counter()
        store.keyword_search(q, 10)
        times["keyword"].append(time.perf_counter() - t)
        t = time.perf_counter()
        to_passages(store, assistant._state.retriever.search(q, 4), qv)
        times["hybrid"].append(time.perf_counter() - t)
        assistant._state.dense._last = None
        t = time.perf_counter()
        assistant.retrieve(q)  # what a question costs: embedding, hybrid search, passages
        times["retrieve"].append(time.perf_counter() - t)
    article = corpus / "zz_added_article.txt"
    article.write_text("Quarry Output Rises at Northfield\n\n" + " ".join(random.Random(9).sample(_sentences(), 30)),
                       encoding="utf-8")
    t = time.perf_counter()
    report = assistant.reindex()
    add_s = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    article.unlink()
    assistant.reindex()  # leave the index as built
    disk = sum(p.stat().st_size for p in idx.rglob("*") if p.is_file())
    out = {"size": size, "store_open_s": store_open_s, "open_s": open_s, "vector_index": store.vector_kind,
           "recall_at_10": float(np.mean(recall)), "add_article_s": add_s, "add_article_chunks": report.embedded,
           "peak_rss_gb": peak / 1e6, "rss_before_open_gb": rss0 / 1e6, "disk_gb": disk / 1e9}
    for name, ts in times.items():
        out[f"{name}_p50_ms"], out[f"{name}_p95_ms"] = _pct(ts, 50), _pct(ts, 95)
    return out


def table(rows: list[dict]) -> str:
    head = ["chunks", "index", "write chunks/s", "embed chunks/s", "store open s", "Assistant.open s", "dense p50/p95 ms", "keyword p50/p95 ms",
            "hybrid p50/p95 ms", "retrieve p50 ms", "recall@10", "peak RSS GB", "disk GB", "add article s"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        out.append("| " + " | ".join([
            f"{r['size']:,}", r["vector_index"], f"{r['write_rate']:,.0f}", f"{r['embed_rate']:.0f}",
            f"{r['store_open_s']:.2f}", f"{r['open_s']:.2f}",
            f"{r['dense_p50_ms']:.1f} / {r['dense_p95_ms']:.1f}", f"{r['keyword_p50_ms']:.1f} / {r['keyword_p95_ms']:.1f}",
            f"{r['hybrid_p50_ms']:.1f} / {r['hybrid_p95_ms']:.1f}", f"{r['retrieve_p50_ms']:.1f}",
            f"{r['recall_at_10']:.3f}", f"{r['peak_rss_gb']:.2f}", f"{r['disk_gb']:.2f}", f"{r['add_article_s']:.2f}"]) + " |")
    return "\n".join(out)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["size"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for name in ("dense", "keyword", "hybrid"):  # "retrieve" adds query embedding: the machine's load, not the store
        ax.plot(sizes, [r[f"{name}_p50_ms"] for r in rows], marker="o", label=f"{name} p50")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("ms per query")
    ax.set_title("Embedded store: retrieval latency vs corpus size (2 cores)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--real", type=int, default=20_000, help="chunks with real embeddings")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-scale"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/rag-scale-cache"))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    parser.add_argument("--phase", choices=["build", "truth", "measure"], default=None, help=argparse.SUPPRESS)
    parser.add_argument("--skip-build", action="store_true", help="measure indexes built by an earlier run")
    args = parser.parse_args()
    if args.phase:  # a child: one phase of one size, JSON on stdout
        fn = {"build": build, "truth": truth, "measure": measure}[args.phase]
        extra = args.real if args.phase == "build" else args.queries
        print(json.dumps(fn(args.sizes[0], args.work, args.cache, extra)))
        return 0
    rows = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for size in args.sizes:
        row: dict = {}
        old = json.loads((args.out / "scale.json").read_text()) if args.skip_build and (args.out / "scale.json").is_file() else []
        built = next((r for r in old if r["size"] == size), None)
        if args.skip_build and built is None:
            print(f"--skip-build: no earlier figures for {size:,} chunks in {args.out / 'scale.json'}", file=sys.stderr)
            return 1
        row.update(built or {})
        phases = ("truth", "measure") if args.skip_build else ("build", "truth", "measure")
        if args.skip_build and (args.work / f"truth-{size}.npz").is_file():
            phases = ("measure",)  # same corpus, same queries: the exact neighbours are known
        for phase in phases:
            cmd = [sys.executable, __file__, "--phase", phase, "--sizes", str(size), "--real", str(args.real),
                   "--queries", str(args.queries), "--work", str(args.work), "--cache", str(args.cache)]
            if phase == "build":
                import shutil

                shutil.rmtree(args.work / f"index-{size}", ignore_errors=True)
                shutil.rmtree(args.work / f"corpus-{size}", ignore_errors=True)
            done = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if done.returncode:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            row.update(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"{size:,} {phase}: {json.dumps(row)}", file=sys.stderr, flush=True)
        merged = {r["size"]: r for r in old}  # earlier figures of sizes not measured (yet) stay
        merged.update({r["size"]: r for r in rows + [row]})
        rows = [merged[k] for k in sorted(merged)]
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "scale.json").write_text(json.dumps(rows, indent=1) + "\n")
        plot(rows, args.out / "scale_latency.png")
        print(table(rows) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
