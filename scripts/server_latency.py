"""Whole-answer latency of the in-process model against the same GGUF behind `python -m
llama_cpp.server` (the OpenAI-compatible backend, rag.server_llm). Prints figures, asserts nothing:

  python scripts/server_latency.py [--model smollm2-135m] [--questions 5]

The server is started on a free loopback port with the same context and threads, and stopped at
the end. Both backends answer the same gold questions (those without history) after one warm-up
question each, taking turns so that drift in the machine's load hits both alike.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_server(path: Path, name: str, n_ctx: int, threads: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", name,
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
                             "--n_threads", str(threads), "--n_threads_batch", str(threads)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"llama_cpp.server did not start (exit code {proc.poll()})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m", help="a model name of rag.models")
    ap.add_argument("--questions", type=int, default=5)
    args = ap.parse_args()
    from rag import Assistant
    from rag.config import load_config
    from rag.evals import load_gold
    from rag.models import resolve_model

    cfg = load_config(model=args.model)
    threads = cfg.n_threads or os.cpu_count() or 1
    questions = [g.question for g in load_gold(ROOT / "evals" / "gold.jsonl") if not g.history][: args.questions + 1]
    proc, url = start_server(resolve_model(args.model, cfg.model_cache), args.model, cfg.n_ctx, threads)
    try:
        local = Assistant(config=cfg)
        remote = Assistant(config=cfg, embedder=local.embedder, llm_url=url)
        backends = {"in-process": local, "server": remote}
        timings: dict[str, list] = {name: [] for name in backends}
        for i, q in enumerate(questions):
            order = list(backends) if i % 2 == 0 else list(backends)[::-1]
            for name in order:
                answer = backends[name].ask(q)
                if i:  # the first question warms both up (model load, cached system prompt)
                    timings[name].append(answer)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"model {args.model}, {threads} threads, {len(questions) - 1} gold questions (whole answer, first token, seconds)")
    for name, answers in timings.items():
        total = statistics.median(a.timings.total for a in answers)
        first = statistics.median(a.timings.first_token for a in answers)
        tokens = sum(a.timings.completion_tokens for a in answers)
        gen = sum(a.timings.total - a.timings.first_token for a in answers)
        refused = sum(a.refused for a in answers)
        print(f"  {name:10}  whole answer p50 {total:5.2f}  first token p50 {first:5.2f}  "
              f"{tokens / max(gen, 1e-9):5.1f} tokens/s after the first  {refused} refused")


if __name__ == "__main__":
    main()
