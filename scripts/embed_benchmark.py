"""Ingestion speed: chunks/s of raw sentence-transformers, of rag's Embedder, and of a whole
``rag index`` of a folder (read, clean, chunk, embed, write), on the same machine and chunks.

The three take turns for ``--rounds`` rounds, so that load from other processes falls on all
of them alike; the best round of each is printed. The same rounds time an int8 copy of the
model (torch dynamic quantisation of its Linear layers, the CPU int8 backend that needs no
extra package), and its dense retrieval on the seeds gold is set against the float model's:
recall@4 of a gold source among the top 4 seeds chunks. Asserts nothing.

    nice -n 19 .venv/bin/python scripts/embed_benchmark.py [--chunks 512] [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def quantized(model):
    """A copy of ``model`` whose Linear layers run in int8 (torch dynamic quantisation)."""
    import copy

    import torch

    return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


def gold_recall(model) -> float:
    """Share of answerable seeds gold questions with a gold source among the 4 seeds chunks
    nearest by ``model`` (dense retrieval alone, exact search)."""
    import json

    import numpy as np

    from rag.chunking import chunk_documents
    from rag.config import Config
    from rag.embedding import embedding_text
    from rag.ingest import load_file
    from rag.reading import corpus_files

    chunks = []
    for path in corpus_files(ROOT / "seeds"):
        _, docs = load_file(path, path.name)
        chunks += chunk_documents(docs, Config.chunk_tokens, Config.chunk_overlap)
    gold = [json.loads(line) for line in (ROOT / "evals" / "gold.jsonl").read_text().splitlines() if line.strip()]
    gold = [g for g in gold if g.get("sources")]
    enc = lambda xs: model.encode(xs, batch_size=32, normalize_embeddings=True, show_progress_bar=False)  # noqa: E731
    vecs = enc([embedding_text(c.title, c.text) for c in chunks])
    qvecs = enc([g["question"] for g in gold])
    top = np.argsort(-(qvecs @ vecs.T), axis=1)[:, :4]
    hits = [bool({chunks[i].source for i in row} & set(g["sources"])) for row, g in zip(top, gold)]
    return sum(hits) / len(hits)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/external/squad2/corpus"),
                        help="a folder to index for the whole-build figure")
    args = parser.parse_args()
    from rag.chunking import chunk_documents
    from rag.config import Config
    from rag.embedding import Embedder, embedding_text
    from rag.ingest import load_file
    from rag.reading import corpus_files
    from rag.store.sync import sync

    chunks = []
    for path in corpus_files(args.corpus):
        _, docs = load_file(path, path.name)
        chunks += chunk_documents(docs, Config.chunk_tokens, Config.chunk_overlap)
    texts = [embedding_text(c.title, c.text) for c in chunks]
    texts = (texts * (args.chunks // max(len(texts), 1) + 1))[:args.chunks]
    embedder = Embedder()
    model = embedder._load()
    model.encode(texts[:32])
    best: dict[str, float] = {}
    int8 = quantized(model)
    int8.encode(texts[:32])

    def run(name: str, fn, n: int) -> None:
        t = time.perf_counter()
        fn()
        best[name] = max(best.get(name, 0.0), n / (time.perf_counter() - t))

    for _ in range(args.rounds):
        run("raw sentence-transformers (encode, batch 32)", lambda: model.encode(
            texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False), len(texts))
        run("rag Embedder.encode", lambda: embedder.encode(texts), len(texts))
        with tempfile.TemporaryDirectory() as tmp:
            config = Config().replace(corpus=args.corpus, index_dir=Path(tmp) / "idx")
            run(f"whole build (rag.store.sync of {args.corpus.name}, {len(chunks)} chunks)",
                lambda: sync(config, embedder), len(chunks))
            shutil.rmtree(Path(tmp) / "idx", ignore_errors=True)
        run("int8 sentence-transformers (dynamic quantisation, batch 32)", lambda: int8.encode(
            texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False), len(texts))
    for name, m in (("float32", model), ("int8", int8)):
        print(f"seeds gold, dense recall@4 with the {name} model: {gold_recall(m):.3f}")
    print("| what | chunks/s (best of %d) |" % args.rounds)
    print("|---|---|")
    for name, rate in best.items():
        print(f"| {name} | {rate:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
