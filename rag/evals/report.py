"""The markdown report of a run (and of its comparison with a baseline)."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

from .scoring import FIGURES, PERCENT_FIGURES, QuestionResult

# --------------------------------------------------------------------------- report


def _fmt(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if name in PERCENT_FIGURES:
        return f"{100 * value:.1f}%"
    if name == "tokens_per_second":
        return f"{value:.1f}"
    return f"{value:.3f}"


def _fmt_delta(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if name in PERCENT_FIGURES:
        return f"{100 * value:+.1f} pt"
    return f"{value:+.1f}" if name == "tokens_per_second" else f"{value:+.3f}"


def _cell(text: Any) -> str:
    s = "" if text is None else str(text)
    return re.sub(r"\s+", " ", s).replace("|", "\\|").strip()


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def describe_code(code: Mapping[str, Any] | None) -> str:
    """A run's code in a few words: the commit, and a digest of uncommitted changes if any."""
    if not code:
        return "not recorded"
    commit = (code.get("commit") or "")[:10] or "no git commit"
    if code.get("dirty"):
        commit += f" + uncommitted changes {code.get('diff_sha256')}"
    return commit + (f" (rag-news {code['version']})" if code.get("version") else "")


def render_report(summary: Mapping[str, Any], results: Sequence[QuestionResult],
                  baseline_diff: Mapping[str, Any] | None = None, *,
                  settings: Mapping[str, Any] | None = None) -> str:
    """Markdown: settings, figures overall and per type, baseline changes, per-question table."""
    lines = ["# RAG evaluation report", ""]
    if settings:
        machine = settings.get("machine") or {}
        config = settings.get("config") or {}
        lines += [
            f"- model: `{settings.get('model')}`" + (f" (answers report {', '.join(settings['answer_models'])})"
                                                    if settings.get("answer_models")
                                                    and settings["answer_models"] != [settings.get("model")]
                                                    else ""),
            f"- k: {settings.get('k')}, temperature: {settings.get('temperature')}, "
            f"retrieval only: {settings.get('retrieval_only')}",
        ]
        chunking = {k: config[k] for k in ("embedder", "chunk_tokens", "chunk_overlap", "hybrid", "candidates",
                                           "trim_below", "evidence_tokens", "seed", "max_tokens", "n_ctx")
                    if k in config}
        if chunking:
            lines.append("- settings: " + ", ".join(f"{k}={v}" for k, v in chunking.items()))
        lines += [
            f"- gold: {settings.get('gold') or '(in memory)'} — {settings.get('gold_questions')} questions, "
            f"fingerprint {settings.get('gold_fingerprint')}",
            f"- date: {settings.get('date')}; machine: {machine.get('platform')}, "
            f"{machine.get('cpu_count')} CPUs ({machine.get('cpu') or 'model unknown'}), Python {machine.get('python')}, "
            f"llama-cpp-python {machine.get('llama_cpp_python') or '-'}",
            f"- code: {describe_code(settings.get('code'))}"
            + (f"; changed during the run to {describe_code(settings['code_at_end'])}"
               if settings.get("code_at_end") else ""),
            "",
        ]
    overall = summary.get("overall", {})
    by_type = summary.get("by_type", {})
    types = list(by_type)
    lines += ["## Figures", ""]
    header = ["figure", "overall"] + types
    rows = [["questions", overall.get("n")] + [by_type[t].get("n") for t in types]]
    for name, label in FIGURES:
        values = [overall.get(name)] + [by_type[t].get(name) for t in types]
        if all(v is None for v in values):
            continue
        rows.append([label] + [_fmt(name, v) for v in values])
    lines += _table(header, rows)
    verdicts = overall.get("verdicts") or {}
    if any(verdicts.values()):
        lines += ["", "Verdicts: " + ", ".join(f"{v} {n}" for v, n in verdicts.items() if n)]
    lines.append("")

    if baseline_diff:
        lines += ["## Change against baseline", ""]
        changed = baseline_diff.get("settings_changed") or {}
        if changed:
            lines += ["Settings changed: " + "; ".join(
                f"{k}: {describe_code(v['baseline'])} → {describe_code(v['current'])}" if k == "code"
                else f"{k}: {v['baseline']} → {v['current']}" for k, v in changed.items()), ""]
        rows = [[label, _fmt(name, d["baseline"]), _fmt(name, d["current"]), _fmt_delta(name, d["delta"])]
                for name, label in FIGURES
                if (d := baseline_diff["overall"][name])["current"] is not None or d["baseline"] is not None]
        lines += _table(["figure", "baseline", "current", "change"], rows) + [""]
        flipped = baseline_diff.get("flipped") or []
        lines += [f"### Flipped questions ({len(flipped)})", ""]
        if flipped:
            lines += _table(["id", "type", "question", "baseline", "current", "change"],
                            [[f["id"], f["type"], f["question"], f["baseline"], f["current"], f["change"]]
                             for f in flipped])
        else:
            lines.append("None.")
        rflipped = baseline_diff.get("retrieval_flipped") or []
        if rflipped:
            lines += ["", f"### Retrieval flips ({len(rflipped)})", ""]
            lines += _table(["id", "question", "baseline rank", "current rank", "change"],
                            [[f["id"], f["question"], f["baseline_rank"] or "–", f["current_rank"] or "–",
                              f["change"]] for f in rflipped])
        for key in ("added", "removed"):
            if baseline_diff.get(key):
                lines += ["", f"Questions {key}: " + ", ".join(baseline_diff[key])]
        lines.append("")

    lines += ["## Questions", ""]
    lines += _table(
        ["id", "type", "question", "verdict", "answer", "cited sources", "source rank", "evidence rank"],
        [[r.id, r.type, r.question, r.verdict,
          r.error or r.answer + (f" <br>*model's draft, before the citation check:* {r.draft}" if r.draft else ""),
          ", ".join(r.cited_sources) or "–",
          r.source_rank if r.source_rank is not None else ("–" if r.gold_sources else ""),
          r.evidence_rank if r.evidence_rank is not None else ("–" if r.has_evidence else "")]
         for r in results])
    return "\n".join(lines) + "\n"
