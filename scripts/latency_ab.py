"""Same-hour latency of two or more revisions of this project, question by question.

This machine's speed drifts by 20% or more from one hour to the next, and by 10% between two
runs of a few minutes (README, "Speed and memory"), so p50s from separate runs cannot say
whether a change made answers slower. This script checks each revision out into a git
worktree, starts one process per revision that holds its assistant (its index, built first,
and its model, loaded once), then asks every gold question of each process in turn, rotating
who goes first. Every revision meets the machine in the same minute for each question, so the
paired difference per question is what the change costs. It prints each revision's percentiles
and the paired differences; it asserts nothing.

    .venv/bin/python scripts/latency_ab.py --rev 7193f38 --rev HEAD --questions 30 --rounds 2

``--rev .`` is the working tree as it is. Each revision runs with its own defaults and its own
``rag`` package (PYTHONPATH), on this project's virtualenv. Worktrees go under /tmp and stay
for the next run (``--clean`` removes them).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"


def checkout(rev: str, base: Path) -> Path:
    """A worktree of ``rev`` under ``base`` (the project itself for ".")."""
    if rev == ".":
        return ROOT
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev], check=True,
                         capture_output=True, text=True).stdout.strip()
    tree = base / f"rag-ab-{sha}"
    if not tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), sha], check=True,
                       capture_output=True)
    return tree


def rag(tree: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([str(PYTHON), "-m", "rag.cli", *args], cwd=tree, env=env, text=True, capture_output=True, **kw)
    if done.returncode:  # an old revision may need a package this virtualenv lacks (rank_bm25, in early ones)
        sys.exit(f"rag {' '.join(args)} failed in {tree}:\n{done.stderr[-2000:]}")
    return done


WORKER = """
import json, sys
from rag.assistant import Assistant
corpus = sys.argv[1] or None
assistant = Assistant.open(corpus) if hasattr(Assistant, "open") else Assistant(corpus)
print("ready", flush=True)
for line in sys.stdin:
    q = json.loads(line)
    a = assistant.ask(q["question"], **({"history": q["history"]} if q.get("history") else {}))
    t = a.timings
    print(json.dumps({"first": t.first_token, "total": t.total, "prompt": t.prompt_tokens,
                      "completion": t.completion_tokens, "refused": a.refused}), flush=True)
"""


def start_worker(tree: Path, corpus: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.Popen([str(PYTHON), "-c", WORKER, corpus], cwd=tree, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if proc.stdout.readline().strip() != "ready":
        sys.exit(f"the assistant of {tree} did not start")
    return proc


def ask(proc: subprocess.Popen, question: dict) -> dict:
    proc.stdin.write(json.dumps(question) + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def summary(rows: list[dict]) -> str:
    model = [r for r in rows if r["prompt"]]  # refusals without the model take no model time
    return (f"n {len(rows)}, prompt p50 {statistics.median(r['prompt'] for r in model):.0f}, first token p50 "
            f"{statistics.median(r['first'] for r in rows):.2f} s, whole answer p50 "
            f"{statistics.median(r['total'] for r in rows):.2f} s / p95 {percentile([r['total'] for r in rows], 0.95):.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", action="append", required=True, help="a git revision, or . for the working tree")
    ap.add_argument("--gold", type=Path, default=ROOT / "evals" / "gold.jsonl")
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--questions", type=int, default=30, help="how many gold questions, spread evenly")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--clean", action="store_true", help="remove the worktrees afterwards")
    ap.add_argument("--json", type=Path, default=None, help="write every answer's timings here")
    args = ap.parse_args()
    try:
        gold = [json.loads(ln) for ln in args.gold.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except (OSError, ValueError) as err:
        ap.error(f"--gold {args.gold}: {err}")
    picked = gold[::max(1, len(gold) // args.questions)][:args.questions]
    corpus = str(args.corpus.resolve()) if args.corpus else ""
    work = Path(tempfile.gettempdir())
    trees = {rev: checkout(rev, work) for rev in args.rev}
    for rev, tree in trees.items():  # build each index once, untimed
        print(f"indexing for {rev} in {tree}", file=sys.stderr)
        rag(tree, "index", *([corpus] if corpus else []))
    workers = {rev: start_worker(tree, corpus) for rev, tree in trees.items()}
    for proc in workers.values():  # warm up: the first answer loads the model
        ask(proc, {"question": picked[0]["question"]})
    rows: dict[str, list[dict]] = {rev: [] for rev in trees}
    revs = list(trees)
    for round_no in range(args.rounds):
        for i, q in enumerate(picked):
            shift = (i + round_no) % len(revs)  # who goes first rotates
            for rev in revs[shift:] + revs[:shift]:
                rows[rev].append({**ask(workers[rev], q), "id": q.get("id", i), "round": round_no})
        print(f"round {round_no + 1} done", file=sys.stderr, flush=True)
    for proc in workers.values():
        proc.stdin.close()
        proc.wait()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    for rev in revs:
        print(f"{rev:>10}: {summary(rows[rev])}")
    for i, base in enumerate(revs):
        for rev in revs[i + 1:]:
            diff = [b["total"] - a["total"] for a, b in zip(rows[base], rows[rev])]
            first = [b["first"] - a["first"] for a, b in zip(rows[base], rows[rev])]
            print(f"{rev} minus {base}, paired per question: whole answer median {statistics.median(diff):+.2f} s, "
                  f"mean {statistics.mean(diff):+.2f} s; first token median {statistics.median(first):+.2f} s; "
                  f"faster in {sum(d < 0 for d in diff)} of {len(diff)}")
    if args.clean:
        for tree in trees.values():
            if tree != ROOT:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


if __name__ == "__main__":
    main()
