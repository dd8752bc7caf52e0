"""Compare the fusion variants of scripts/codeword_probe.py on every retrieval measure we have.

For each variant: recall@k, hit@k, MRR and evidence recall@k on the project's gold set
(seeds/ + evals/gold.jsonl) and on an external gold set (default: the SQuAD 2.0 set in
../shared/external/squad2), the code-word probe's hits, and the p50 latency of
``Assistant.retrieve``. Each corpus is indexed once, in its own folder under a temporary
directory (never the project's index/); retrieval only, no LLM.

    .venv/bin/python scripts/retrieval_compare.py [--variants rrf zscore] [--workdir DIR]

Prints a markdown table; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import codeword_probe as probe  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL = ROOT.parent / "shared" / "external" / "squad2"
METRICS = (("recall_at_k", "recall@k"), ("hit_at_k", "hit@k"), ("mrr", "MRR"), ("evidence_recall_at_k", "evidence@k"))


def gold_figures(assistant: Any, gold: Path, k: int) -> dict[str, Any]:
    from rag.evals import run_eval

    overall = run_eval(assistant, gold, k=k, retrieval_only=True).summary["overall"]
    return {name: overall.get(name) for name, _ in METRICS}


def p50_ms(assistants: dict[str, Any], queries: Sequence[str], k: int) -> dict[str, float]:
    """Median ``retrieve`` time per variant. Variants take turns on each query so that
    load from other processes falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in assistants}
    for q in queries:
        for name, assistant in assistants.items():
            t = time.perf_counter()
            assistant.retrieve(q, k=k)
            times[name].append(time.perf_counter() - t)
    return {name: 1000 * statistics.median(ts) for name, ts in times.items()}


def _cell(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def table(rows: dict[str, dict[str, Any]], corpora: Sequence[str], k: int) -> str:
    head = ["variant"] + [f"{c} {label}".replace("@k", f"@{k}") for c in corpora for _, label in METRICS]
    head += [f"probe hits@{k}"] + [f"p50 ms {c}" for c in (*corpora, "probe")]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, fig in rows.items():
        cells = [probe.label(name)] + [_cell(fig[c][m]) for c in corpora for m, _ in METRICS]
        ms = fig.get("ms", {})
        cells += [fig["probe"]] + [f"{ms[c]:.1f}" if c in ms else "..." for c in (*corpora, "probe")]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="*", default=list(probe.VARIANTS),
                        help=f"any of: {', '.join(probe.VARIANTS)}".replace("%", "%%"))
    parser.add_argument("-k", type=int, default=4)
    parser.add_argument("--external", type=Path, default=EXTERNAL,
                        help="a folder with corpus/ and gold.jsonl (default: ../shared/external/squad2)")
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--timed", type=int, default=40, help="questions per corpus timed for the p50")
    parser.add_argument("--workdir", type=Path, default=None, help="keep indexes here (default: temporary)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from rag.embedding import Embedder
    from rag.evals import load_gold

    embedder = Embedder()
    cached = probe.QueryCache(embedder)  # figures: each question embedded once for all variants
    reports = probe.make_reports(args.reports)
    asked = probe.questions(reports, args.questions)
    with contextlib.ExitStack() as stack:
        work = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="retrieval-compare-")))
        golds = {"gold": ROOT / "evals" / "gold.jsonl", "ext": args.external / "gold.jsonl"}
        corpora = {  # name -> (corpus folder, index folder)
            "gold": (ROOT / "seeds", work / "index-seeds"),
            "ext": (args.external / "corpus", work / "index-external"),
            "probe": (probe.write_corpus(reports, work / f"corpus-{args.reports}-7"), work / f"index-{args.reports}-7"),
        }
        timed = {name: [g.question for g in load_gold(path)][:args.timed] for name, path in golds.items()}
        timed["probe"] = [q for q, _ in asked]
        for name, (corpus, index_dir) in corpora.items():
            t = time.perf_counter()
            size = len(probe.assistant_for(corpus, index_dir, {}, embedder).index)
            print(f"{name}: {corpus} ({size} chunks) indexed in {time.perf_counter() - t:.0f}s", file=sys.stderr)
        rows: dict[str, dict[str, Any]] = {}
        for variant in args.variants:
            settings = probe.VARIANTS[variant]
            fig: dict[str, Any] = {}
            for name, (corpus, index_dir) in corpora.items():
                assistant = probe.assistant_for(corpus, index_dir, settings, cached)
                if name in golds:
                    fig[name] = gold_figures(assistant, golds[name], args.k)
                else:
                    fig[name] = f"{probe.run_probe(assistant, asked, args.k)[0]}/{len(asked)}"
            rows[variant] = fig
            print(f"scored: {variant}", file=sys.stderr)
        print(table(rows, ("gold", "ext"), args.k) + "\n", flush=True)  # the figures now; timings take longer
        for name, (corpus, index_dir) in corpora.items():
            assistants = {v: probe.assistant_for(corpus, index_dir, probe.VARIANTS[v], embedder) for v in args.variants}
            for variant, ms in p50_ms(assistants, timed[name], args.k).items():
                rows[variant].setdefault("ms", {})[name] = ms
    print(table(rows, ("gold", "ext"), args.k))
    return 0


if __name__ == "__main__":
    from rag.errors import RagError

    try:
        sys.exit(main())
    except RagError as err:  # a bad gold file: its line, not a traceback
        sys.exit(f"error: {err}")
