"""The support check's trade-off as a curve, from eval runs that recorded its signals.

Run the eval once with the check recording but accepting everything, for example::

    RAG_JUDGE=answerable RAG_JUDGE_THRESHOLD=0 RAG_JUDGE_COVERED_THRESHOLD=0 \\
        .venv/bin/rag eval --json seeds.json
    (same) .venv/bin/rag eval --gold ../shared/external/squad2/gold-200.jsonl \\
        --corpus ../shared/external/squad2/corpus --json squad.json

then ``python scripts/support_curve.py seeds.json squad.json`` prints, for each signal and
threshold, the answerable accuracy and the share of unanswerable questions refused on
each set, as they would be with the check deciding. Prints only; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.support import Coverage, Thresholds, decide  # noqa: E402

ANSWERABLE = {"fact", "number", "multi", "followup"}


def outcome(results: list[dict], accept) -> dict[str, float]:
    """Accuracy, false refusals and refusals if ``accept(result)`` decided each non-refused answer."""
    answerable = [r for r in results if r["type"] in ANSWERABLE]
    unanswerable = [r for r in results if r["type"] not in ANSWERABLE]

    def stands(r: dict) -> bool:
        return not r["refused"] and (r.get("support") is None or accept(r))

    correct = sum(1 for r in answerable if r["verdict"] == "correct" and stands(r))
    refused_ok = sum(1 for r in answerable if not stands(r))
    refused = sum(1 for r in unanswerable if not stands(r))
    return {"accuracy": correct / len(answerable) if answerable else float("nan"),
            "false_refusals": refused_ok / len(answerable) if answerable else float("nan"),
            "refused": refused / len(unanswerable) if unanswerable else float("nan")}


def _cov(d: dict) -> Coverage:
    return Coverage(**d)


def rule(signal: str, t: Thresholds, where: str = "coverage"):
    def accept(r: dict) -> bool:
        s = r["support"]
        return decide(_cov(s[where]), s.get(signal), t)
    return accept


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path, help="eval --json files recorded with the check accepting all")
    ap.add_argument("--grid", default="0,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9", help="p(Yes) thresholds")
    args = ap.parse_args()
    try:
        runs = {p.stem: json.loads(p.read_text())["results"] for p in args.runs}
    except (OSError, ValueError, KeyError, TypeError) as err:
        ap.error(f"each run must be an `rag eval --json` file ({type(err).__name__}: {err})")
    for name, results in runs.items():
        if not any(r.get("support") for r in results):
            ap.error(f"{name}: no answer in it was checked (a --retrieval-only run, or the check was off): "
                     "nothing to score")
    grid = [float(x) for x in args.grid.split(",")]
    names = list(runs)
    head = "signal | rule | " + " | ".join(f"{n} acc | {n} FR | {n} refused" for n in names)
    print(head)
    print("|".join(["---"] * (2 + 3 * len(names))))

    def row(label: str, rule_text: str, accept) -> None:
        cells = []
        for n in names:
            o = outcome(runs[n], accept)
            cells += [f"{o['accuracy']:.1%}", f"{o['false_refusals']:.1%}", f"{o['refused']:.1%}"]
        print(f"{label} | {rule_text} | " + " | ".join(cells))

    row("none", "accept all", lambda r: True)
    for where in ("coverage", "passage_coverage"):
        for words in (0.0, 0.5, 0.75):
            row(f"{where}", f"names+numbers all, words>={words}",
                lambda r, w=where, x=words: decide(_cov(r["support"][w]), None, Thresholds(words=x)))
    for signal in ("p_yes", "p_yes_focused", "p_yes_answerable"):
        for t in grid:
            row(signal, f"p>={t}", rule(signal, Thresholds(t, t, 0.0)))
        for hi in grid:
            for lo in grid:
                if lo >= hi:
                    continue
                for words in (0.0, 0.5):
                    row(signal, f"p>={hi}, or p>={lo} with names+numbers covered, words>={words}",
                        rule(signal, Thresholds(hi, lo, words)))

    def mean_both(r: dict) -> float | None:
        s = r["support"]
        if s.get("p_yes") is None or s.get("p_yes_focused") is None:
            return None
        return (s["p_yes"] + s["p_yes_focused"]) / 2

    for t in grid:
        row("mean of both", f"p>={t}",
            lambda r, t=t: decide(_cov(r["support"]["coverage"]), mean_both(r), Thresholds(t, t, 0.0)))


if __name__ == "__main__":
    main()
