"""The ``rag eval`` command: run the gold set, print a summary, write JSON / markdown.

Registered by rag/cli.py with ``cli.add_command(eval_command, name="eval")``.
The scoring itself lives in :mod:`rag.evals`; this layer owns the progress bar,
files and exit codes.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import click

from rag.errors import RagError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GOLD = PROJECT_ROOT / "evals" / "gold.jsonl"

# Figures printed on stdout: (summary key, column label).
_COLUMNS = (
    ("answer_accuracy", "acc"),
    ("false_refusal_rate", "false-ref"),
    ("refusal_rate", "refusal"),
    ("citation_precision", "cit-P"),
    ("citation_recall", "cit-R"),
    ("recall_at_k", "R@k"),
    ("mrr", "MRR"),
    ("evidence_recall_at_k", "evid-R@k"),
)


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if key.endswith("mrr") else f"{100 * value:.1f}%"


def _secs(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}s"


def _check_outputs(gold: Path, baseline: Path | None, json_out: Path | None, report_out: Path | None) -> None:
    """RagError, before the run, for an output file that could not be written or would overwrite
    an input or the other output."""
    inputs = {Path(p).resolve(): flag for p, flag in ((gold, "--gold"), (baseline, "--baseline")) if p}
    outputs: dict[Path, str] = {}
    for path, flag in ((json_out, "--json"), (report_out, "--report")):
        if path is None:
            continue
        where = Path(path).resolve()
        if where in inputs or where in outputs:
            raise RagError(f"{flag} {path} is the same file as {inputs.get(where) or outputs[where]}; "
                           "the run would overwrite it")
        if not where.parent.is_dir():
            raise RagError(f"{flag} {path}: folder {where.parent} does not exist")
        if not os.access(where.parent, os.W_OK) or (where.exists() and not os.access(where, os.W_OK)):
            raise RagError(f"{flag} {path}: cannot write there")
        outputs[where] = flag


def summary_table(summary: dict[str, Any], settings: dict[str, Any]) -> str:
    """Compact plain-text table of the main figures, overall and per type."""
    groups = [("overall", summary["overall"])] + list(summary.get("by_type", {}).items())
    cols = [(key, label) for key, label in _COLUMNS if any(g.get(key) is not None for _, g in groups)]
    header = ["type", "n"] + [label for _, label in cols]
    rows = [[name, str(g["n"])] + [_fmt(key, g.get(key)) for key, _ in cols] for name, g in groups]
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    lines = [f"model {settings.get('model')}  k={settings.get('k')}  temperature={settings.get('temperature')}"
             + ("  (retrieval only)" if settings.get("retrieval_only") else ""),
             fmt(header)] + [fmt(r) for r in rows]
    o = summary["overall"]
    latency = [f"retrieval p50 {_secs(o.get('retrieval_p50'))} p95 {_secs(o.get('retrieval_p95'))}"]
    if o.get("total_p50") is not None:
        latency.append(f"first token p50 {_secs(o.get('first_token_p50'))} p95 {_secs(o.get('first_token_p95'))}")
        latency.append(f"total p50 {_secs(o.get('total_p50'))} p95 {_secs(o.get('total_p95'))}")
        if o.get("check_p50") is not None:
            latency.append(f"checks p50 {_secs(o.get('check_p50'))} p95 {_secs(o.get('check_p95'))}")
        if o.get("tokens_per_second") is not None:
            latency.append(f"{o['tokens_per_second']:.1f} tokens/s")
    lines.append("latency: " + "; ".join(latency))
    for key, label in (("false_refusals_by_reason", "false refusals"), ("refusals_by_reason", "unanswerable refused")):
        if o.get(key):  # what refused them (rag.types.REFUSAL_REASONS)
            lines.append(f"{label} by reason: " + ", ".join(f"{why} {n}" for why, n in sorted(o[key].items())))
    if o.get("n_errors"):
        lines.append(f"errors: {o['n_errors']} of {o['n']} questions were rejected by the assistant (verdict "
                     "'error' in the JSON): counted as not answered, left out of retrieval and latency")
    return "\n".join(lines)


def _baseline_lines(diff: dict[str, Any]) -> list[str]:
    from rag.evals import FIGURES, PERCENT_FIGURES, RATIO_FIGURES

    from rag.evals.report import describe_code

    out = ["against baseline:"]
    changed = dict(diff.get("settings_changed", {}))
    code = changed.pop("code", None)  # other code is what a baseline is compared for, not a mismatch
    if code is not None:
        out.append(f"  code: {describe_code(code['baseline'])} -> {describe_code(code['current'])}")
    unlike = [f"{key} {v['baseline']!r} -> {v['current']!r}" for key, v in changed.items()]
    if diff.get("added") or diff.get("removed"):
        unlike.append(f"{len(diff.get('added') or [])} questions only in this run, "
                      f"{len(diff.get('removed') or [])} only in the baseline")
    if unlike:
        out.append("  not like for like: " + "; ".join(unlike))
    for name, label in FIGURES:
        d = diff["overall"][name]
        if name not in RATIO_FIGURES or d["delta"] is None:
            continue
        if name in PERCENT_FIGURES:
            out.append(f"  {label}: {100 * d['baseline']:.1f}% -> {100 * d['current']:.1f}% "
                       f"({100 * d['delta']:+.1f} pt)")
        else:
            out.append(f"  {label}: {d['baseline']:.3f} -> {d['current']:.3f} ({d['delta']:+.3f})")
    flipped = diff.get("flipped") or []
    fixed = sum(1 for f in flipped if f["change"] == "fixed")
    broke = sum(1 for f in flipped if f["change"] == "broke")
    out.append(f"  flipped: {len(flipped)} ({fixed} fixed, {broke} broke)")
    for f in flipped:
        out.append(f"    {f['id']}: {f['baseline']} -> {f['current']}")
    if diff.get("retrieval_flipped"):
        out.append(f"  retrieval flips: {len(diff['retrieval_flipped'])}")
    return out


@click.command("eval")
@click.option("--gold", "gold_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Gold JSONL file [default: {DEFAULT_GOLD.relative_to(PROJECT_ROOT)} in the project].")
@click.option("-k", "--k", "k", type=click.IntRange(min=1), default=None, help="Passages retrieved per question.")
@click.option("--model", default=None, help="Model name or GGUF path (default: configured model).")
@click.option("--retrieval-only", is_flag=True, help="Score retrieval only, without the LLM (fast, for CI).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the full run (settings, figures, per-question results) as JSON.")
@click.option("--report", "report_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a markdown report.")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A previous --json run to compare against.")
@click.option("--corpus", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Corpus folder (default: configured).")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Index folder (default: configured).")
def eval_command(gold_path: Path | None, k: int | None, model: str | None, retrieval_only: bool,
                 json_out: Path | None, report_out: Path | None, baseline_path: Path | None,
                 corpus: Path | None, index_dir: Path | None) -> None:
    """Score answers and retrieval against a gold question set."""
    from tqdm import tqdm

    from rag.evals import compare, load_gold, load_run, render_report, run_eval

    try:
        gold = load_gold(gold_path or DEFAULT_GOLD)
        baseline = load_run(baseline_path) if baseline_path else None
        _check_outputs(gold_path or DEFAULT_GOLD, baseline_path, json_out, report_out)  # before minutes of answering
        from rag.assistant import Assistant

        overrides = {name: value for name, value in
                     (("corpus", corpus), ("index_dir", index_dir), ("model", model), ("k", k))
                     if value is not None}
        assistant = Assistant(**overrides)
        with tqdm(total=len(gold), desc="retrieving" if retrieval_only else "answering",
                  unit="q", file=sys.stderr, dynamic_ncols=True) as bar:
            def progress(done: int, total: int, stage: str) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            run = run_eval(assistant, gold, k=k, retrieval_only=retrieval_only, progress=progress)
        run = dataclasses.replace(run, settings={**run.settings, "gold": str(gold_path or DEFAULT_GOLD)})
        if json_out:  # saved first: nothing after it may cost the run
            run.to_json(json_out)
        diff = compare(run, baseline) if baseline is not None else None
        if report_out:
            report_out.write_text(render_report(run.summary, run.results, diff, settings=run.settings),
                                  encoding="utf-8")
    except RagError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    except OSError as err:
        click.echo(f"error: {err.strerror or err}: {err.filename}" if err.filename else f"error: {err}", err=True)
        sys.exit(1)

    click.echo(summary_table(run.summary, run.settings))
    if diff is not None:
        click.echo("\n".join(_baseline_lines(diff)))
    for label, path in (("json", json_out), ("report", report_out)):
        if path:
            click.echo(f"{label}: {path}")
