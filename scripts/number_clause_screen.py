"""Screen a candidate rule of the fact check on recorded runs, without the model: does an
answer's number sit, in its passage, in a clause that shares a word with the question (or with
the answer's own clause)? A number read from the clause beside the one the question asks about
("built in 1972, ... a bond issued in 1998") would fail it.

For every accepted answer of the given runs (the passages rebuilt and cached as
scripts/replay_checks.py does), prints how often the rule would refuse right answers and how
often wrong answers or answers to unanswerable questions, per set, for years and other numbers.

    python scripts/number_clause_screen.py --run evals/runs/seeds-b10685b-stop33.json seeds \\
        --run SQUAD_RUN.json ../shared/external/squad2/corpus --index-root /tmp/rag-replay [--min-words 3]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay_checks import answers_of, shown  # noqa: E402

from rag.citations import parse_citations  # noqa: E402
from rag.grounding import _QUESTION_FILLER, check_answer, claim_of  # noqa: E402
from rag.numbers import quantities, readings  # noqa: E402
from rag.words import content_words, found_in, word_stems  # noqa: E402

_SPLIT = re.compile(r",\s|;\s|\s[—–-]\s|\s(?:while|whereas|but|although|though)\s|\((?=\D)|\)")


def clause_spans(text: str, min_words: int) -> list[tuple[int, int]]:
    """Clauses of ``text``; one of fewer than ``min_words`` content words joins the one before."""
    cuts = [0] + [m.end() for m in _SPLIT.finditer(text)] + [len(text)]
    out: list[tuple[int, int]] = []
    for a, b in ((a, b) for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()):
        if out and len(content_words(text[a:b])) < min_words:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    if len(out) > 1 and len(content_words(text[out[0][0]:out[0][1]])) < min_words:
        out[1:2], out = [(out[0][0], out[1][1])], out[1:]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", nargs=2, action="append", metavar=("RUN_JSON", "CORPUS"), required=True)
    ap.add_argument("--index-root", type=Path, default=Path("/tmp/rag-replay"))
    ap.add_argument("--min-words", type=int, default=3)
    args = ap.parse_args()
    counts: collections.Counter = collections.Counter()
    for run_path, corpus in ((Path(a), Path(b)) for a, b in args.run):
        run = json.loads(run_path.read_text())
        passages = shown(run_path, run, corpus, args.index_root, True)
        for r, text in answers_of(run, True):
            if r.get("refused"):
                continue
            asked, ps = passages[r["id"]]
            asked_words = content_words(asked) - _QUESTION_FILLER
            outcome = "right" if r["verdict"] == "correct" else r["verdict"]
            for check in check_answer(parse_citations(text, ps)[0], ps, asked):
                if not check.supported:
                    continue
                n = check.supporting[0]
                ev, p = check.evidence[n], ps[n - 1]
                claim = claim_of(check.text, asked)
                span = p.text[ev.start:ev.end]
                found = quantities(span, spelled=True, ways=readings(p.text))
                for q in claim.numbers:
                    at = [a for x, a, _ in found if q.backed_by(x, set(word_stems(span)))]
                    clauses = [span[s:e] for a in at for s, e in clause_spans(span, args.min_words) if s <= a < e]
                    if not clauses:
                        continue
                    by_question = any(any(found_in(w, word_stems(c)) for w in asked_words) for c in clauses)
                    kind = "year" if q.is_year else "number"
                    counts[(run_path.name, kind, outcome, "kept" if by_question else "refused")] += 1
    for key in sorted(counts):
        print(*key, counts[key])


if __name__ == "__main__":
    main()
