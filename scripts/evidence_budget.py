"""Is the answer still in what the model is shown? Evidence budgets and passage gaps compared, no LLM.

Prints figures, asserts nothing:
  python scripts/evidence_budget.py [--gold evals/gold.jsonl] [--corpus seeds] [--every 1] [--k 4]
      [--budgets 0 250] [--trims 0 0.4] [--gaps inf:inf 0.07:1 0.05:1] [--split] [--misses]

For each budget (``evidence_tokens``; 0 shows the chunks whole) and each pair of passage gaps
(``passage_cosine_gap:passage_fused_gap``; inf:inf shows all k chunks, rag.passages.near_the_best),
and each trim threshold (``trim_below``; 0 keeps each passage whole, rag.evidence.trim_passages),
over the answerable gold questions: the share whose ``must`` patterns all hold in the shown text
("answer shown"), the share whose evidence sentence is shown, the mean number of passages shown
and the median of the shown text's tokens (cl100k, the unit of the budget; the prompt adds the
system message, a title line per passage and the question). What is shown is what answering shows
(``Assistant.shown``: a question that names an article is searched in it, without its name);
with ``--split`` each part of a multi-part question is searched on its own, as answering does,
and the parts' shown text is read together. Follow-ups are searched as asked, without their
conversation.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", default=str(ROOT / "evals" / "gold.jsonl"))
    ap.add_argument("--corpus", default=None, help="the gold's corpus (default: the configured one)")
    ap.add_argument("--every", type=int, default=1, help="take every n-th answerable question")
    ap.add_argument("--k", type=int, default=None, help="chunks retrieved (default: configured)")
    ap.add_argument("--budgets", type=int, nargs="+", default=[0, 250])
    ap.add_argument("--trims", type=float, nargs="+", default=None,
                    help="trim_below thresholds (default: the configured one)")
    ap.add_argument("--gaps", nargs="+", default=None,
                    help="passage_cosine_gap:passage_fused_gap pairs (default: the configured pair)")
    ap.add_argument("--split", action="store_true", help="search each part of a multi-part question on its own")
    ap.add_argument("--misses", action="store_true", help="list the questions whose answer is not shown")
    args = ap.parse_args()
    if args.every < 1 or (args.k is not None and args.k < 1):
        ap.error(f"--every and --k must be 1 or more (got --every {args.every}, --k {args.k})")

    from rag import Assistant
    from rag.chunking import count_tokens
    from rag.decompose import split_question
    from rag.evals import load_gold
    from rag.evals.scoring import evidence_found, holds_facts

    items = [g for g in load_gold(args.gold) if g.answerable][:: args.every]
    assistant = Assistant(corpus=args.corpus)
    k = args.k if args.k is not None else assistant.config.k
    parts = {g.id: split_question(g.question) if args.split else [g.question] for g in items}
    with_evidence = [g for g in items if g.evidence]
    print(f"{args.gold}: {len(items)} answerable questions, k={k}")
    base = assistant.config
    gaps = args.gaps or [f"{base.passage_cosine_gap}:{base.passage_fused_gap}"]
    trims = args.trims if args.trims is not None else [base.trim_below]
    print(f"{'budget':>8} {'trim':>5} {'gaps':>9} {'answer shown':>13} {'evidence shown':>15} {'passages':>9} {'median shown tokens':>20}")
    for budget in args.budgets:
        for trim in trims:
            for pair in gaps:
                cosine_gap, fused_gap = (float(x) for x in pair.split(":"))
                assistant.config = base.replace(evidence_tokens=budget, trim_below=trim,
                                                passage_cosine_gap=cosine_gap, passage_fused_gap=fused_gap)
                shown = {g.id: [p for part in parts[g.id] for p in assistant.shown(part, k)] for g in items}
                missed = [g.id for g in items if not holds_facts("\n".join(p.text for p in shown[g.id]), g.must)]
                answer = 1 - len(missed) / len(items)
                evidence = (f"{sum(any(evidence_found(g.evidence, p.text) for p in shown[g.id]) for g in with_evidence) / len(with_evidence):.1%}"
                            if with_evidence else "-")  # a gold set without evidence sentences
                passages = statistics.mean(len({p.chunk_id for p in shown[g.id]}) for g in items)
                tokens = statistics.median(sum(count_tokens(p.text) for p in shown[g.id]) for g in items)
                label = "whole" if budget <= 0 else str(budget)
                print(f"{label:>8} {trim:>5g} {pair:>9} {answer:>13.1%} {evidence:>15} {passages:>9.2f} {tokens:>20.0f}")
                if args.misses:
                    print(f"{'':>8} answer not shown: {' '.join(missed)}")


if __name__ == "__main__":
    from rag.errors import RagError

    try:
        main()
    except RagError as err:  # a bad gold file: its line, not a traceback
        sys.exit(f"error: {err}")
