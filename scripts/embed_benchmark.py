"""Ingestion speed: chunks/s of raw sentence-transformers, of rag's Embedder, and of a whole
``rag index`` of a folder (read, clean, chunk, embed, write), on the same machine and chunks.

The three take turns for ``--rounds`` rounds, so that load from other processes falls on all
of them alike; the best round of each is printed. Asserts nothing.

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
    from rag.ingest import corpus_files, load_file
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
    print("| what | chunks/s (best of %d) |" % args.rounds)
    print("|---|---|")
    for name, rate in best.items():
        print(f"| {name} | {rate:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
