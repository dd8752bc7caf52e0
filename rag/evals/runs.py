"""Runs: asking the gold questions, saving and loading a run, comparing two runs."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import logging
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from rag.errors import QuestionError, RagError

from .gold import GOOD_VERDICTS, QUESTION_TYPES, SCHEMA_VERSION, GoldItem, Progress, load_gold
from .report import describe_code, render_report
from .scoring import FIGURES, QuestionResult, _retrieval_fields, score_answer, summarize

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class EvalRun:
    settings: dict[str, Any]
    results: tuple[QuestionResult, ...]
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": SCHEMA_VERSION, "settings": self.settings, "summary": self.summary,
                "results": [r.to_dict() for r in self.results]}

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "EvalRun":
        results = tuple(QuestionResult.from_dict(r) for r in data.get("results", []))
        return cls(settings=dict(data.get("settings", {})), results=results,
                   summary=dict(data.get("summary") or summarize(results)))

    def report(self, baseline: "EvalRun | Mapping[str, Any] | None" = None) -> str:
        diff = compare(self, baseline) if baseline is not None else None
        return render_report(self.summary, self.results, diff, settings=self.settings)


def load_run(path: str | Path) -> EvalRun:
    """Read a run written by :meth:`EvalRun.to_json` (e.g. a ``--baseline`` file)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RagError(f"baseline file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RagError(f"baseline file {path} is not a readable eval JSON file: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise RagError(f"baseline file {path} is not an eval run (no 'results' list)")
    summary = data.get("summary", {})
    by_type = summary.get("by_type", {}) if isinstance(summary, dict) else None
    if (not isinstance(summary, dict) or not isinstance(summary.get("overall", {}), dict)
            or not isinstance(by_type, dict) or not all(isinstance(v, dict) for v in by_type.values())):
        raise RagError(f"baseline file {path} is not an eval run ('summary' is not figures by type)")
    if not all(isinstance(r, dict) for r in data["results"]):
        raise RagError(f"baseline file {path} has malformed results: each must be an object")
    try:
        return EvalRun.from_dict(data)
    except (TypeError, ValueError) as err:
        raise RagError(f"baseline file {path} has malformed results: {err}") from None


def _config_settings(assistant: Any) -> dict[str, Any]:
    config = getattr(assistant, "config", None)
    if config is None:
        return {}
    if dataclasses.is_dataclass(config):
        values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    else:
        values = {k: v for k, v in vars(config).items() if not k.startswith("_")}
    values.pop("model_cache", None)
    values.pop("llm_api_key", None)  # a secret: never written into a results file
    if values.get("dsn"):  # a database's password stays out of reports
        from ..store.dsn import mask_dsn

        values["dsn"] = mask_dsn(str(values["dsn"]))
    return {k: (v if isinstance(v, (str, int, float, bool)) or v is None else str(v)) for k, v in values.items()}


def _gold_fingerprint(gold: Sequence[GoldItem]) -> str:
    h = hashlib.sha256()
    for item in gold:
        h.update(json.dumps([item.id, item.type, item.question, item.must_patterns, list(item.sources),
                             item.evidence, list(map(dict, item.history))], ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def _warn_unknown_sources(assistant: Any, gold: Sequence[GoldItem]) -> None:
    """Log the gold sources the corpus does not hold: their questions would score a retrieval
    miss whatever the retriever does (a renamed file, a gold set meant for another corpus)."""
    try:
        held = {d.source for d in assistant.documents()}
    except (AttributeError, RagError):  # a stand-in assistant, or no index to list
        return
    missing = sorted({s for item in gold for s in item.sources if s not in held})
    if missing and held:
        log.warning("%d gold source(s) are not in the corpus, so their questions cannot be retrieved: %s",
                    len(missing), ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""))


def run_eval(assistant: Any, gold: Sequence[GoldItem] | str | Path, *, k: int | None = None,
             retrieval_only: bool = False, progress: Progress | None = None) -> EvalRun:
    """Ask (or, with ``retrieval_only``, only retrieve for) every gold question, in file order.

    ``assistant`` needs ``ask(question, history=..., k=...)`` and
    ``retrieve(question, k=...)``; ``assistant.config`` is recorded when present.
    ``progress(done, total, stage)`` is called after each question.
    """
    if isinstance(gold, (str, Path)):
        gold_path: str | None = str(gold)
        gold = load_gold(gold)
    else:
        gold_path = None
    config = _config_settings(assistant)
    code_at_start = code_version()
    _warn_unknown_sources(assistant, gold)
    k_used = k if k is not None else config.get("k")
    stage = "retrieving" if retrieval_only else "answering"
    results: list[QuestionResult] = []
    total = len(gold)
    if progress:
        progress(0, total, stage)
    for done, item in enumerate(gold, start=1):
        if retrieval_only:
            started = time.perf_counter()
            try:
                if hasattr(assistant, "shown"):  # score what the model would be shown
                    passages = assistant.shown(item.question, k=k_used)
                else:
                    passages = assistant.retrieve(item.question, k=k_used)
            except QuestionError as err:  # recorded, as a full run records it; the run goes on
                results.append(QuestionResult(
                    id=item.id, type=item.type, question=item.question, verdict="error",
                    gold_sources=item.sources, has_evidence=bool(item.evidence), error=str(err)))
            else:
                elapsed = time.perf_counter() - started
                results.append(QuestionResult(
                    id=item.id, type=item.type, question=item.question, verdict="skipped",
                    gold_sources=item.sources, has_evidence=bool(item.evidence), retrieval_s=elapsed,
                    **_retrieval_fields(item, passages, k_used)))
        else:
            try:
                answer = assistant.ask(item.question, history=[dict(t) for t in item.history] or None, k=k_used)
            except QuestionError as err:
                results.append(QuestionResult(
                    id=item.id, type=item.type, question=item.question, verdict="error",
                    gold_sources=item.sources, has_evidence=bool(item.evidence), error=str(err)))
            else:
                results.append(score_answer(item, answer, k_used))
        if progress:
            progress(done, total, stage)

    models = sorted({r.model for r in results if r.model})
    settings = {
        "model": config.get("model"),
        "answer_models": models,
        "k": k_used,
        "retrieval_only": retrieval_only,
        "temperature": config.get("temperature"),
        "config": config,
        "gold": gold_path,
        "gold_questions": len(gold),
        "gold_fingerprint": _gold_fingerprint(gold),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(),
        "code": code_at_start,
    }
    code_at_end = code_version()
    if code_at_end != code_at_start:  # the files under test changed while the questions were asked
        settings["code_at_end"] = code_at_end
        log.warning("the code changed during the eval run (%s -> %s): its answers may come from both",
                    describe_code(code_at_start), describe_code(code_at_end))
    results_t = tuple(results)
    return EvalRun(settings=settings, results=results_t, summary=summarize(results_t))


def code_version(root: str | Path | None = None) -> dict[str, Any]:
    """Which code answered: the package's version and, in a git checkout, the commit and whether
    the tracked files differ from it (with a digest of the difference, so two runs made on the
    same commit with different uncommitted edits can be told apart). Never fails a run: any part
    that cannot be read is None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("rag-news")
    except PackageNotFoundError:
        package = None
    root = Path(root) if root is not None else Path(__file__).resolve().parents[2]  # the checkout of rag/
    commit = diff = None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=False)
        if head.returncode == 0:
            commit = head.stdout.strip() or None
            changes = subprocess.run(["git", "-C", str(root), "diff", "HEAD", "--", "rag", "evals"],
                                     capture_output=True, timeout=30, check=False)
            # a new module not yet added answers too
            new = subprocess.run(["git", "-C", str(root), "ls-files", "--others", "--exclude-standard", "-z",
                                  "--", "rag", "evals"], capture_output=True, timeout=30, check=False)
            if changes.returncode == 0 and new.returncode == 0:
                seen = changes.stdout + b"".join(name + b"\0" + (root / name.decode()).read_bytes()
                                                 for name in new.stdout.split(b"\0") if name)
                diff = hashlib.sha256(seen).hexdigest()[:12] if seen else ""
    except (OSError, subprocess.SubprocessError):  # no git, or not a checkout
        pass
    return {"version": package, "commit": commit,
            "dirty": None if diff is None else bool(diff), "diff_sha256": diff or None}


def _machine() -> dict[str, Any]:
    """Where a run was made. The same code and GGUF gave 12 of 102 seeds answers in other words
    on another CPU with llama.cpp built there (README, stop 29), so the CPU's model and the
    llama-cpp-python version are part of a run's record."""
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:  # not Linux
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        llama = version("llama-cpp-python")
    except PackageNotFoundError:  # not installed: a retrieval-only run
        llama = None
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu": cpu or None, "cpu_count": os.cpu_count(), "python": platform.python_version(),
            "llama_cpp_python": llama}


# --------------------------------------------------------------------------- comparison


def _run_parts(run: EvalRun | Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[QuestionResult]]:
    if isinstance(run, EvalRun):
        return run.settings, run.summary, list(run.results)
    parsed = EvalRun.from_dict(run)
    return parsed.settings, parsed.summary, list(parsed.results)


def _delta_table(cur: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, _ in FIGURES:
        c, b = cur.get(name), base.get(name)
        out[name] = {"current": c, "baseline": b,
                     "delta": (c - b) if isinstance(c, (int, float)) and isinstance(b, (int, float)) else None}
    return out


def _source_hit(r: QuestionResult) -> bool:
    return r.source_rank is not None


def compare(current: EvalRun | Mapping[str, Any], baseline: EvalRun | Mapping[str, Any]) -> dict[str, Any]:
    """Change of each figure (current - baseline), overall and per type, and the flipped questions.

    ``flipped``: questions answered in both runs whose verdict changed, with ``change``
    ``fixed`` (bad -> good), ``broke`` (good -> bad) or ``changed`` (bad -> another bad).
    ``retrieval_flipped``: questions with gold sources where a gold source was in the
    top k in one run but not the other (``found`` / ``lost``).
    """
    cur_settings, cur_summary, cur_results = _run_parts(current)
    base_settings, base_summary, base_results = _run_parts(baseline)
    base_by_id = {r.id: r for r in base_results}
    cur_ids = {r.id for r in cur_results}
    flipped, retrieval_flipped = [], []
    for r in cur_results:
        b = base_by_id.get(r.id)
        if b is None:
            continue
        if "skipped" not in (r.verdict, b.verdict) and r.verdict != b.verdict:
            good_now, good_before = r.verdict in GOOD_VERDICTS, b.verdict in GOOD_VERDICTS
            change = "fixed" if good_now and not good_before else "broke" if good_before and not good_now else "changed"
            flipped.append({"id": r.id, "type": r.type, "question": r.question, "baseline": b.verdict,
                            "current": r.verdict, "change": change})
        if r.gold_sources and _source_hit(r) != _source_hit(b):
            retrieval_flipped.append({"id": r.id, "type": r.type, "question": r.question,
                                      "baseline_rank": b.source_rank, "current_rank": r.source_rank,
                                      "change": "found" if _source_hit(r) else "lost"})
    cur_by_type = cur_summary.get("by_type", {})
    base_by_type = base_summary.get("by_type", {})
    setting_keys = ("model", "k", "retrieval_only", "temperature", "gold_fingerprint", "code")
    return {
        "overall": _delta_table(cur_summary.get("overall", {}), base_summary.get("overall", {})),
        "by_type": {t: _delta_table(cur_by_type.get(t, {}), base_by_type.get(t, {}))
                    for t in QUESTION_TYPES if t in cur_by_type or t in base_by_type},
        "flipped": flipped,
        "retrieval_flipped": retrieval_flipped,
        "added": [r.id for r in cur_results if r.id not in base_by_id],
        "removed": [r.id for r in base_results if r.id not in cur_ids],
        "settings_changed": {key: {"baseline": base_settings.get(key), "current": cur_settings.get(key)}
                             for key in setting_keys if cur_settings.get(key) != base_settings.get(key)},
    }
