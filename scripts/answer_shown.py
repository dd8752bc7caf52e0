"""Is the answer in what the model is shown? Retrieval only, no LLM; prints figures, asserts nothing.

    python scripts/answer_shown.py [--gold evals/gold.jsonl] [--corpus seeds] [--misses]

Each answerable gold question is split into its parts as answering splits it
(``decompose.split_question``), each part goes through ``Assistant.shown`` (retrieval, the
article a question names, the passages near the best one, evidence selection when set), and the
question counts as shown when every group of its gold ``must`` patterns holds somewhere in the
text shown for its parts. Follow-ups are searched as asked, without their conversation.
Prints that share and the median number of cl100k tokens shown.
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
    ap.add_argument("--misses", action="store_true", help="list the questions whose answer is not shown")
    args = ap.parse_args()

    from rag import Assistant
    from rag.chunking import count_tokens
    from rag.decompose import split_question
    from rag.evals import load_gold
    from rag.evals.scoring import holds_facts

    items = [g for g in load_gold(args.gold) if g.answerable]
    assistant = Assistant(corpus=args.corpus)
    shown, tokens, misses = 0, [], []
    for g in items:
        text = "\n".join(p.text for part in split_question(g.question) for p in assistant.shown(part))
        tokens.append(count_tokens(text))
        if holds_facts(text, g.must):
            shown += 1
        else:
            misses.append(g.id)
    print(f"{args.gold}: {len(items)} answerable questions, k={assistant.config.k}")
    print(f"answer shown: {shown} ({shown / len(items):.1%}); shown tokens, median: {statistics.median(tokens)}")
    if args.misses:
        print("not shown:", " ".join(misses))


if __name__ == "__main__":
    main()
