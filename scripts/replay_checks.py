"""Replay the fact check and the support check's decision on the answers of recorded eval runs,
with the code as it is now: what a change to rag/grounding.py, rag/words.py or rag/support.py's
lexical part does to every recorded answer, without running the model again.

For each result with a draft (and, with --all, the shown answer of every other result that was
not refused), the passages the model was shown are rebuilt from the run's settings, the draft is
checked again (rag.grounding.check_answer), and the support check decides again with the
recorded p(Yes) (the kind of answer asked for, rag.answer_kind, then rag.support.decide at the
model's thresholds). Save one version's replay with
--out, then compare two with --compare.

    python scripts/replay_checks.py --run evals/runs/seeds-09c72ba-amd-epyc.json seeds \\
        --run RUN.json ../shared/external/squad2/corpus --all --out /tmp/after.json
    python scripts/replay_checks.py --compare /tmp/before.json /tmp/after.json

The passages depend on retrieval and evidence selection, not on the check under test; they are
built once per run and index and cached beside --index-root (delete the cache after a change to
retrieval or cleaning).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from rag.errors import RagError  # noqa: E402

# the settings that shape the passages a question is shown
KEYS = ("chunk_tokens", "chunk_overlap", "k", "group_titles", "evidence_tokens", "trim_below",
        "passage_cosine_gap", "passage_fused_gap", "scope_articles", "candidates", "hybrid", "n_ctx", "max_tokens",
        "fusion", "lexical_weight", "rare_boost", "rare_df", "fusion_pool", "model")


def answers_of(run: dict, everything: bool):
    """(result, the text the check read) of every answer worth replaying."""
    for r in run["results"]:
        if r.get("draft"):
            yield r, r["draft"]
        elif everything and not r.get("refused") and r.get("answer"):
            yield r, r["answer"]


def shown(run_path: Path, run: dict, corpus: Path, index_root: Path, everything: bool) -> dict:
    """result id -> (question asked, passages shown), cached per run file."""
    from rag import Assistant
    from support_signals_extra import shown_passages

    key = hashlib.sha1(f"{run_path.resolve()}|{corpus.resolve()}".encode()).hexdigest()[:12]
    cache_file = index_root / f"passages-{key}.pkl"
    cache = pickle.loads(cache_file.read_bytes()) if cache_file.exists() else {}
    todo = [r for r, _ in answers_of(run, everything) if r["id"] not in cache]
    if todo:
        cfg = run["settings"]["config"]
        assistant = Assistant(str(corpus), str(index_root / f"index-{key}"), **{k: cfg[k] for k in KEYS if k in cfg})
        assistant.reindex()
        for r in todo:
            asked = r["standalone_question"] or r["question"]
            cache[r["id"]] = (asked, shown_passages(assistant, cfg, asked))
        cache_file.write_bytes(pickle.dumps(cache))
    return cache


def replay(runs: list[tuple[Path, Path]], index_root: Path, everything: bool) -> dict:
    from rag.answer_kind import answers_kind
    from rag.citations import parse_citations
    from rag.grounding import check_answer
    from rag.models import MODELS
    from rag.prompt import pinned_question
    from rag.support import Thresholds, coverage, decide, evidence_of

    out = {}
    for run_path, corpus in runs:
        run = json.loads(run_path.read_text())
        if not isinstance(run, dict) or "results" not in run or "settings" not in run:
            raise RagError(f"{run_path} is not a run file written by `rag eval --json`")
        cfg = run["settings"]["config"]
        spec = MODELS.get(cfg.get("model") or "")
        t = Thresholds(*spec.judge, cfg.get("coverage_words") or 0.0) if spec is not None and spec.judge else None
        passages = shown(run_path, run, corpus, index_root, everything)
        for r, text in answers_of(run, everything):
            asked, ps = passages[r["id"]]
            checks = check_answer(parse_citations(text, ps)[0], ps, asked)
            near, _ = evidence_of(checks, ps)
            pinned = pinned_question(asked, bool(r["standalone_question"]))  # as Assistant._answer
            cov = coverage(pinned, near, years_in=evidence_of(checks, ps, neighbours=0)[0])
            p_yes = (r.get("support") or {}).get("p_yes_answerable")
            grounded = any(c.supported for c in checks)
            kind = answers_kind(pinned, " ".join(c.text for c in checks if c.supported))
            out[f"{run_path.name}:{r['id']}"] = {
                "verdict": r["verdict"], "question": asked,
                "sentences": [[c.text, c.supported, list(c.supporting)] for c in checks],
                "grounded": grounded, "answers_kind": kind, "coverage": vars(cov),
                # the support check's decision again, where the run recorded its judgement
                "accepted": grounded and kind and (decide(cov, p_yes, t) if t is not None and p_yes is not None else None)}
    return out


def compare(before: dict, after: dict) -> int:
    changed = 0
    for key, x in before.items():
        y = after.get(key)
        fields = ("sentences", "grounded", "accepted")
        if y is None or any(x[f] != y[f] for f in fields):
            changed += 1
            print(f"CHANGED {key} [{x['verdict']}] {x['question']}")
            for label, row in (("before", x), ("after", y or {})):
                print(f"  {label}: grounded={row.get('grounded')} accepted={row.get('accepted')} {row.get('sentences')}")
    print(f"{len(before)} replayed, {changed} changed" + ("" if len(after) == len(before) else
                                                          f" ({len(after)} in the second replay)"))
    return changed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", nargs=2, action="append", metavar=("RUN_JSON", "CORPUS"), default=[],
                    help="a run file of `rag eval --json` and the corpus it ran on (repeatable)")
    ap.add_argument("--all", action="store_true", help="also the shown answers of results without a draft")
    ap.add_argument("--index-root", type=Path, default=Path(tempfile.gettempdir()) / "rag-replay",
                    help="where the rebuilt indexes and the passage cache go (default: %(default)s)")
    ap.add_argument("--out", type=Path, help="write the replay as JSON here")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"), help="compare two saved replays")
    args = ap.parse_args()
    if args.compare:
        before, after = (json.loads(p.read_text()) for p in args.compare)
        sys.exit(1 if compare(before, after) else 0)
    if not args.run:
        ap.error("give --run RUN_JSON CORPUS at least once, or --compare BEFORE AFTER")
    args.index_root.mkdir(parents=True, exist_ok=True)
    try:
        out = replay([(Path(a), Path(b)) for a, b in args.run], args.index_root, args.all)
    except (RagError, OSError, json.JSONDecodeError) as err:
        sys.exit(f"error: {err}")
    for key, row in out.items():
        flags = " ".join("Y" if s[1] else "n" for s in row["sentences"])
        print(f"{key:40} {row['verdict']:14} grounded={row['grounded']!s:5} accepted={row['accepted']!s:5} [{flags}]")
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
