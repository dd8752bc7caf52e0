"""Benchmark the pipeline against raw llama.cpp and the machine's memory-bandwidth limit.

Prints figures, asserts nothing:
  python scripts/benchmark.py [--model qwen2.5-1.5b] [--questions 12]
  python scripts/benchmark.py --raw-only [--model smollm2-135m]   # raw llama.cpp and the limit only

- pipeline: p50/p95 of retrieval, first-token and total seconds over gold questions; prompt and
  generated tokens per second; peak RSS of the process
- raw llama.cpp: the same GGUF, same threads, a prompt of the same size (no retrieval, no
  grounding), prompt-processing and decoding tokens per second
- limit: decoding reads the weights once per token, so tokens/s <= read bandwidth / weight bytes
  read per token. The bytes come from the GGUF's tensors: all of them, except that a model with
  a separate output matrix reads one row of its token-embedding table, not the table. The read
  bandwidth is measured the way decoding reads: every core (one process each) reading its share
  of a buffer of that size, so it meets the same caches. The earlier figure, a one-thread numpy
  copy over the file size, is still printed for comparison; decoding ran above it, so it was no
  bound.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def copy_bandwidth_gbs(size_mb: int = 512, repeats: int = 5) -> float:
    """Best of ``repeats`` one-thread copies of a large array (read + write counted): the old figure."""
    a = np.ones(size_mb * 1024 * 1024 // 8)
    b = np.empty_like(a)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t)
    return 2 * a.nbytes / best / 1e9


# SIMD reductions that read a large array at 15-19 GB/s a core here, far below their in-cache
# rates (80+ GB/s): the reads set the pace. Passes take turns, and the fastest counts.
READ_KERNELS = (np.max, np.sum, lambda a: np.bitwise_or.reduce(a.view(np.uint64)))


def _reader(i: int, workers: int, nbytes: int, repeats: int, start, done, times) -> None:
    part = np.ones(nbytes // 8)  # each process touches its own pages first
    for r in range(repeats):
        start.wait()
        t = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes
        READ_KERNELS[r % len(READ_KERNELS)](part)
        slot = 2 * (r * workers + i)
        times[slot], times[slot + 1] = t, time.perf_counter()
        done.wait()


def read_bandwidth_gbs(nbytes: int, workers: int, repeats: int = 9) -> float:
    """Best rate at which ``workers`` processes, one a core, read ``nbytes`` between them.

    Processes, not threads, so no lock can serialise them. They start each pass together at a
    barrier; a pass lasts from the first one's start to the last one's end, as each of them
    clocks it (a late-scheduled parent does not shorten it)."""
    ctx = multiprocessing.get_context("fork")
    start, done = ctx.Barrier(workers + 1), ctx.Barrier(workers + 1)
    times = ctx.Array("d", 2 * workers * repeats, lock=False)
    share = max(nbytes, 1 << 20) // workers
    procs = [ctx.Process(target=_reader, args=(i, workers, share, repeats, start, done, times)) for i in range(workers)]
    for p in procs:
        p.start()
    try:
        for _ in range(repeats):
            start.wait()
            done.wait()
    finally:
        for p in procs:
            p.join(timeout=60)
    spans = [times[2 * workers * r: 2 * workers * (r + 1)] for r in range(repeats)]
    best = min(max(span[1::2]) - min(span[0::2]) for span in spans)
    return share * workers / best / 1e9


def weight_bytes_per_token(path: str | Path) -> tuple[int, int]:
    """(bytes of weights one decoded token reads, bytes of all tensors) of a GGUF.

    A model whose output matrix is its token-embedding table (tied) reads every tensor; one with
    a separate ``output.weight`` reads a single row of ``token_embd.weight`` per token."""
    try:
        from gguf import GGUFReader
    except ImportError as err:
        raise SystemExit("the gguf package is needed to size the weights: pip install 'rag-news[bench]'") from err
    tensors = {t.name: t for t in GGUFReader(str(path)).tensors}
    total = sum(int(t.n_bytes) for t in tensors.values())
    embd = tensors.get("token_embd.weight")
    if embd is None or "output.weight" not in tensors:
        return total, total
    rows = int(embd.shape[-1])  # GGUF lists dimensions innermost first: (n_embd, n_vocab)
    return total - int(embd.n_bytes) + int(embd.n_bytes) // rows, total


def bench_pipeline(model: str, n: int, index_dir: Path | None) -> dict:
    from rag import Assistant
    from rag.evals import load_gold

    gold = [g for g in load_gold(ROOT / "evals" / "gold.jsonl") if not g.history][:n]
    t = time.perf_counter()
    assistant = Assistant(model=model, index_dir=index_dir)
    assistant.llm  # load the model now, outside the per-question timings
    load_s = time.perf_counter() - t
    assistant.ask(gold[0].question)  # warm-up: caches the fixed prompt prefix, as in a running app
    answers = [assistant.ask(g.question) for g in gold]
    asked = [a for a in answers if a.timings.completion_tokens]
    gen_s = sum(a.timings.total - a.timings.first_token for a in asked)
    return {
        "questions": len(answers),
        "startup_s": round(load_s, 2),
        "retrieval_p50": pct([a.timings.retrieval for a in answers], 50),
        "retrieval_p95": pct([a.timings.retrieval for a in answers], 95),
        "first_token_p50": pct([a.timings.first_token for a in answers], 50),
        "first_token_p95": pct([a.timings.first_token for a in answers], 95),
        "total_p50": pct([a.timings.total for a in answers], 50),
        "total_p95": pct([a.timings.total for a in answers], 95),
        "prompt_tokens_mean": statistics.mean(a.timings.prompt_tokens for a in asked) if asked else 0,
        "prompt_tok_s": sum(a.timings.prompt_tokens for a in asked) / max(1e-9, sum(a.timings.first_token - a.timings.retrieval for a in asked)),
        "gen_tok_s": sum(a.timings.completion_tokens for a in asked) / max(1e-9, gen_s),
        "peak_rss_mb": round(peak_rss_mb()),
        "model_path": str(assistant.llm.path),
        "threads": assistant.config.n_threads or os.cpu_count(),
    }


def bench_raw(path: str, prompt_tokens: int, threads: int, n_gen: int = 64) -> dict:
    from llama_cpp import Llama

    llm = Llama(model_path=path, n_ctx=2048, n_threads=threads, n_threads_batch=threads, n_batch=512, verbose=False)
    words = ("The aluminum market tightened as China capped output and inventories fell. " * 200).split()
    prompt = " ".join(words)
    toks = llm.tokenize(prompt.encode())[:prompt_tokens]
    text = llm.detokenize(toks).decode(errors="ignore")
    llm.reset()
    t = time.perf_counter()
    llm.create_completion(text, max_tokens=1, temperature=0.0)
    pp = time.perf_counter() - t
    llm.reset()
    t = time.perf_counter()
    out = llm.create_completion(text, max_tokens=n_gen, temperature=0.0, top_k=1)
    total = time.perf_counter() - t
    gen = out["usage"]["completion_tokens"]
    return {"prompt_tokens": len(toks), "prompt_tok_s": len(toks) / pp, "gen_tok_s": (gen - 1) / max(1e-9, total - pp)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model name or GGUF path (default: configured)")
    ap.add_argument("--questions", type=int, default=12)
    ap.add_argument("--index-dir", type=Path, default=None)
    ap.add_argument("--raw-only", action="store_true", help="skip the pipeline: raw llama.cpp and the limit only")
    ap.add_argument("--prompt-tokens", type=int, default=667, help="raw llama.cpp's prompt size with --raw-only")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = ap.parse_args()
    from rag.config import load_config
    from rag.models import resolve_model

    cfg = load_config()
    model = args.model or cfg.model
    pipe = None if args.raw_only else bench_pipeline(model, args.questions, args.index_dir)
    threads = pipe["threads"] if pipe else cfg.n_threads or os.cpu_count() or 1
    path = pipe["model_path"] if pipe else str(resolve_model(model, cfg.model_cache))
    raw = bench_raw(path, int(pipe["prompt_tokens_mean"]) if pipe else args.prompt_tokens, threads)
    per_token, tensors = weight_bytes_per_token(path)
    read_bw = read_bandwidth_gbs(per_token, threads)
    copy_bw = copy_bandwidth_gbs()
    limit = read_bw * 1e9 / per_token
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}")
    print(f"model: {model} ({Path(path).stat().st_size / 1e9:.2f} GB file, {tensors / 1e9:.2f} GB of tensors, "
          f"{per_token / 1e9:.2f} GB read per token), {threads} threads")
    if pipe:
        print(f"pipeline over {pipe['questions']} questions (startup {pipe['startup_s']}s):")
        for key in ("retrieval", "first_token", "total"):
            print(f"  {key:12} p50 {pipe[key + '_p50']:6.2f}s   p95 {pipe[key + '_p95']:6.2f}s")
        print(f"  prompt: {pipe['prompt_tokens_mean']:.0f} tokens on average, {pipe['prompt_tok_s']:.0f} tokens/s "
              f"(the cached system prompt counted as processed)")
        print(f"  generation: {pipe['gen_tok_s']:.1f} tokens/s")
        print(f"  peak RSS: {pipe['peak_rss_mb']} MB")
    print(f"raw llama.cpp, same model and threads: prompt {raw['prompt_tokens']} tokens at {raw['prompt_tok_s']:.0f} tokens/s, "
          f"decoding {raw['gen_tok_s']:.1f} tokens/s")
    reached = f"pipeline reaches {pipe['gen_tok_s'] / limit:.0%} of it, " if pipe else ""
    print(f"read bandwidth, {threads} processes over {per_token / 1e9:.2f} GB: {read_bw:.1f} GB/s -> decoding limit "
          f"{limit:.1f} tokens/s ({reached}raw llama.cpp {raw['gen_tok_s'] / limit:.0%})")
    print(f"(one-thread numpy copy, the old figure: {copy_bw:.1f} GB/s, {copy_bw * 1e9 / per_token:.1f} tokens/s; no bound)")
    if args.json:
        args.json.write_text(json.dumps({"pipeline": pipe, "raw": raw, "read_bandwidth_gbs": read_bw, "copy_bandwidth_gbs": copy_bw,
                                         "weight_bytes_per_token": per_token, "limit_tok_s": limit}, indent=1))


if __name__ == "__main__":
    main()
