"""Would a rerank step show the model the answer more often? Fused order against a rerank, no LLM.

Prints figures, asserts nothing:
  python scripts/rerank_compare.py [--gold evals/gold.jsonl] [--corpus seeds] [--candidates 12]
      [--weights 0.25 0.5 0.75 1.0]

The rerank measured: the retriever's best ``--candidates`` chunks, reordered by a convex mix of
their fused score and their best sentence's cosine similarity to the question (both min-max
scaled over the candidates; weight 0 is the retriever's own order). The first ``k`` then go
through ``rag.passages.near_the_best`` as in answering. Over the answerable gold questions:
the share whose ``must`` patterns all hold in the shown text ("answer shown"), the share whose
evidence sentence is shown and is in the first k, the share with a gold source in the first
k, and the mean number of passages shown. The embedder is the index's own: no other model
ships with the project, so a cross-encoder could not be measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _scaled(x: np.ndarray) -> np.ndarray:
    spread = x.max() - x.min()
    return (x - x.min()) / spread if spread > 0 else np.zeros_like(x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", default=str(ROOT / "evals" / "gold.jsonl"))
    ap.add_argument("--corpus", default=None, help="the gold's corpus (default: the configured one)")
    ap.add_argument("--candidates", type=int, default=12, help="chunks the rerank reorders")
    ap.add_argument("--weights", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0],
                    help="the best sentence's share of the rerank score")
    args = ap.parse_args()
    if args.candidates < 1:
        ap.error(f"--candidates must be 1 or more, not {args.candidates}")

    from rag import Assistant
    from rag.chunking import split_sentences
    from rag.evals import load_gold
    from rag.evals.scoring import evidence_found, holds_facts
    from rag.passages import near_the_best

    items = [g for g in load_gold(args.gold) if g.answerable]
    assistant = Assistant(corpus=args.corpus)
    cfg, k = assistant.config, assistant.config.k
    candidates = {}
    for g in items:
        passages = assistant.retrieve(g.question, args.candidates)
        qv = assistant._state.dense.query_vector(g.question)
        best = [float((assistant.embedder.encode([p.text[s:e] for s, e in split_sentences(p.text)] or [p.text]) @ qv).max())
                for p in passages]
        candidates[g.id] = (passages, np.array([p.fused for p in passages], dtype=float), np.array(best))
    with_evidence = [g for g in items if g.evidence]
    print(f"{args.gold}: {len(items)} answerable questions, k={k}, {args.candidates} candidates")
    print(f"{'best-sentence weight':>21} {'answer shown':>13} {'evidence shown':>15} {'evidence in k':>14} "
          f"{'source in k':>12} {'passages':>9}")
    for weight in [0.0, *args.weights]:
        answer = evidence = in_k = source = 0
        shown_counts = []
        for g in items:
            passages, fused, best = candidates[g.id]
            order = np.argsort(-((1 - weight) * _scaled(fused) + weight * _scaled(best)), kind="stable")
            top = [dataclasses.replace(passages[i], rank=r) for r, i in enumerate(order[:k], start=1)]
            shown = near_the_best(top, cfg.passage_cosine_gap, cfg.passage_fused_gap)
            shown_counts.append(len(shown))
            answer += holds_facts("\n".join(p.text for p in shown), g.must)
            source += bool(set(g.sources) & {p.source for p in top})
            if g.evidence:
                evidence += any(evidence_found(g.evidence, p.text) for p in shown)
                in_k += any(evidence_found(g.evidence, p.text) for p in top)
        share = (lambda n: f"{n / len(with_evidence):.1%}") if with_evidence else (lambda n: "-")
        print(f"{weight:>21.2f} {answer / len(items):>13.1%} {share(evidence):>15} {share(in_k):>14} "
              f"{source / len(items):>12.1%} {statistics.mean(shown_counts):>9.2f}")


if __name__ == "__main__":
    from rag.errors import RagError

    try:
        main()
    except RagError as err:  # a bad gold file: its line, not a traceback
        sys.exit(f"error: {err}")
