"""Does a prompt get the same logits from an LLM server whatever was asked before it? Prints, asserts nothing.

  python scripts/server_determinism.py [--model qwen2.5-0.5b]

Starts ``python -m llama_cpp.server`` with the model's GGUF on a free loopback port, then asks it
through rag's server backend (rag.server_llm) the prompt of tests/test_determinism.py: its p(Yes)
and reply in a fresh server, then twice more, each time after another prompt that shares a long
prefix with it. In process, rag keeps llama.cpp's cache only to the end of the system message, so
the three agree exactly (tests/test_determinism.py); a server keeps its own cache, which a client
cannot set.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-0.5b")
    args = ap.parse_args()

    import test_determinism as probe

    from rag.config import Config
    from rag.models import resolve_model
    from rag.server_llm import connect

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.NamedTemporaryFile("w", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model",
                             str(resolve_model(args.model, Config().model_cache)), "--model_alias", args.model,
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    sys.exit(f"llama_cpp.server exited; its log: {log.name}")
                time.sleep(0.3)
        model = connect(url, model=args.model, api_key=None, timeout=120, n_ctx=4096)
        first = probe._ask("Did the mill weigh 14 sacks on day 2?")
        other = probe._ask("Did the mill weigh 15 sacks on day 3?")
        p_alone = model.judge(first)
        reply = "".join(model.stream(first, max_tokens=12, temperature=0.0, seed=42))
        print(f"{args.model} through llama_cpp.server: p(Yes) {p_alone!r}, reply {reply!r} in a fresh server")
        for n in (1, 2):
            list(model.stream(other, max_tokens=12, temperature=0.0, seed=42))
            p = model.judge(first)
            again = "".join(model.stream(first, max_tokens=12, temperature=0.0, seed=42))
            print(f"after another prompt ({n}): p(Yes) {p!r} ({'the same' if p == p_alone else f'{p - p_alone:+.4f}'}), "
                  f"reply {'the same' if again == reply else repr(again)}")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
