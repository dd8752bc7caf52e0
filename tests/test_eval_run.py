"""Tests of running the evaluation harness with a fake assistant (end to end, retrieval only, the
saved run) and of the ``rag eval`` command."""

from __future__ import annotations

import json
import sys
import types

import pytest

from rag.errors import RagError
from rag.evals import compare, load_gold, load_run, render_report, run_eval

from eval_cases import GOOD, FakeAssistant, FakeConfig, fake_gold_lines, write


# --------------------------------------------------------------------------- run_eval with a fake assistant


def test_run_eval_end_to_end_json_round_trip_as_baseline(tmp_path):
    path = write(tmp_path, fake_gold_lines())
    fake = FakeAssistant()
    calls = []
    run = run_eval(fake, load_gold(path), progress=lambda d, t, s: calls.append((d, t, s)))
    assert calls == [(0, 4, "answering"), (1, 4, "answering"), (2, 4, "answering"), (3, 4, "answering"),
                     (4, 4, "answering")]
    assert fake.asked[0] == ("Price?", None, 2)
    assert fake.asked[1] == ("And copper?", [{"role": "user", "content": "Aluminum?"},
                                             {"role": "assistant", "content": "Up 0.6%."}], 2)
    assert [r.verdict for r in run.results] == ["correct", "correct", "refused", "error"]
    assert run.results[3].error == "question too long"
    assert run.results[1].standalone_question == "How did copper move?"
    o = run.summary["overall"]
    assert o["answer_accuracy"] == pytest.approx(2 / 3)
    assert o["refusal_rate"] == 1.0
    assert (o["citation_precision"], o["citation_recall"]) == (1.0, 1.0)
    # the rejected question counts against the answers but was never searched: not a retrieval miss
    assert o["mrr"] == pytest.approx((0.5 + 0.5) / 2) and o["n_errors"] == 1
    assert o["tokens_per_second"] == pytest.approx(20.0)
    s = run.settings
    assert (s["model"], s["k"], s["temperature"], s["retrieval_only"]) == ("fake-model", 2, 0.0, False)
    assert s["answer_models"] == ["fake-model"]
    assert s["config"]["chunk_tokens"] == 120 and s["config"]["corpus"] == "/corpus"
    assert s["machine"]["cpu_count"] >= 1 and s["gold_questions"] == 4
    # what decides the model's arithmetic is recorded: the CPU and the llama.cpp binding's version
    assert s["machine"]["cpu"] and s["machine"]["llama_cpp_python"]

    out = tmp_path / "run.json"
    run.to_json(out)
    loaded = load_run(out)
    assert loaded.results == run.results
    assert loaded.summary == json.loads(json.dumps(run.summary))
    diff = compare(run, json.loads(out.read_text()))
    assert diff["flipped"] == [] and diff["retrieval_flipped"] == []
    assert all(d["delta"] in (0, None) for d in diff["overall"].values())

    again = run_eval(FakeAssistant(), path)  # deterministic apart from date/latency
    assert [r.to_dict() for r in again.results] == [r.to_dict() for r in run.results]
    assert again.settings["gold_fingerprint"] == run.settings["gold_fingerprint"]


def test_run_eval_retrieval_only_never_asks(tmp_path):
    fake = FakeAssistant()
    run = run_eval(fake, load_gold(write(tmp_path, fake_gold_lines())), k=3, retrieval_only=True)
    assert fake.asked == []
    assert fake.retrieved == [("Price?", 3), ("And copper?", 3), ("What was zinc's price?", 3), ("too long?", 3)]
    assert {r.verdict for r in run.results} == {"skipped"}
    o = run.summary["overall"]
    assert o["answer_accuracy"] is None and o["refusal_rate"] is None and o["total_p50"] is None
    assert o["mrr"] == pytest.approx((0.5 + 0.5 + 1 / 3) / 3)
    assert o["recall_at_k"] == 1.0
    assert o["evidence_recall_at_k"] == 1.0 and o["evidence_mrr"] == 0.5
    assert o["retrieval_p50"] is not None
    assert "| q1 | number | Price? | skipped |" in render_report(run.summary, run.results)


def test_load_run_errors(tmp_path):
    with pytest.raises(RagError, match="does not exist"):
        load_run(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(RagError, match="not a readable eval JSON"):
        load_run(tmp_path / "bad.json")


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def fake_assistant_module(monkeypatch):
    made = []

    def factory(**overrides):
        made.append(overrides)
        return FakeAssistant(FakeConfig(**{k: v for k, v in overrides.items() if k in ("model", "k")}))

    module = types.ModuleType("rag.assistant")
    module.Assistant = factory
    monkeypatch.setitem(sys.modules, "rag.assistant", module)
    return made


def test_cli_eval_writes_json_report_and_compares(tmp_path, fake_assistant_module):
    from click.testing import CliRunner

    from rag.eval_cli import eval_command

    gold_path = write(tmp_path, fake_gold_lines())
    runner = CliRunner()
    out, report = tmp_path / "out.json", tmp_path / "report.md"
    res = runner.invoke(eval_command, ["--gold", str(gold_path), "--k", "2", "--model", "tiny",
                                       "--json", str(out), "--report", str(report)])
    assert res.exit_code == 0, res.output
    assert fake_assistant_module == [{"model": "tiny", "k": 2}]
    assert "overall" in res.stdout and "66.7%" in res.stdout
    data = json.loads(out.read_text())
    assert data["settings"]["model"] == "tiny" and data["settings"]["gold"] == str(gold_path)
    assert "| q1 | number | Price? | correct |" in report.read_text()

    res2 = runner.invoke(eval_command, ["--gold", str(gold_path), "--retrieval-only", "--baseline", str(out),
                                        "--report", str(report), "--corpus", str(tmp_path)])
    assert res2.exit_code == 0, res2.output
    assert fake_assistant_module[1] == {"corpus": tmp_path}
    assert "against baseline" in res2.stdout and "retrieval only" in res2.stdout
    assert "## Change against baseline" in report.read_text()


def test_cli_eval_errors_are_one_line(tmp_path, fake_assistant_module):
    from click.testing import CliRunner

    from rag.eval_cli import eval_command

    res = CliRunner().invoke(eval_command, ["--gold", str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 1
    assert res.stderr.strip().splitlines() == [f"error: gold file {tmp_path / 'missing.jsonl'} does not exist"]
    assert "Traceback" not in res.output
    bad = write(tmp_path, [{**GOOD, "must": [["(x"]]}])
    res = CliRunner().invoke(eval_command, ["--gold", str(bad)])
    assert res.exit_code == 1 and res.stderr.startswith(f"error: {bad}:1: field 'must[0][0]'")
    assert fake_assistant_module == []


# --------------------------------------------------------------------------- which code answered


def _git(repo, *args):
    import subprocess

    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


def test_code_version_tells_commits_and_uncommitted_edits_apart(tmp_path):
    from rag.evals.runs import code_version

    (tmp_path / "rag").mkdir()
    (tmp_path / "rag" / "check.py").write_text("THRESHOLD = 0.5\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "rag")
    _git(tmp_path, "commit", "-q", "-m", "one")
    clean = code_version(tmp_path)
    assert len(clean["commit"]) == 40 and clean["dirty"] is False and clean["diff_sha256"] is None
    (tmp_path / "rag" / "check.py").write_text("THRESHOLD = 0.6\n")
    edited = code_version(tmp_path)
    assert edited["commit"] == clean["commit"] and edited["dirty"] is True and edited["diff_sha256"]
    (tmp_path / "rag" / "check.py").write_text("THRESHOLD = 0.7\n")
    assert code_version(tmp_path)["diff_sha256"] != edited["diff_sha256"]  # another edit, another digest
    (tmp_path / "rag" / "check.py").write_text("THRESHOLD = 0.5\n")
    assert code_version(tmp_path)["dirty"] is False
    (tmp_path / "rag" / "extra.py").write_text("RULE = 1\n")  # a new module, not yet added
    assert code_version(tmp_path)["dirty"] is True
    assert code_version(tmp_path / "nowhere")["commit"] is None  # no checkout: recorded as unknown, no error


def test_run_records_its_code_and_a_baseline_of_other_code_shows(tmp_path, monkeypatch):
    import rag.evals.runs as runs

    path = write(tmp_path, fake_gold_lines())
    first = {"version": "0.1.0", "commit": "a" * 40, "dirty": False, "diff_sha256": None}
    second = {"version": "0.1.0", "commit": "a" * 40, "dirty": True, "diff_sha256": "123456abcdef"}
    versions = iter([first, second])
    monkeypatch.setattr(runs, "code_version", lambda root=None: next(versions))
    run = run_eval(FakeAssistant(), path)  # the code changes between the first and last question
    assert run.settings["code"] == first and run.settings["code_at_end"] == second
    report = render_report(run.summary, run.results, settings=run.settings)
    assert ("code: aaaaaaaaaa (rag-news 0.1.0); changed during the run to"
            " aaaaaaaaaa + uncommitted changes 123456abcdef") in report
    later = runs.EvalRun(settings={**run.settings, "code": second}, results=run.results, summary=run.summary)
    assert compare(later, run)["settings_changed"]["code"] == {"baseline": first, "current": second}


def test_a_real_run_records_this_checkout(tmp_path):
    import subprocess

    from rag.evals.runs import code_version

    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    run = run_eval(FakeAssistant(), write(tmp_path, fake_gold_lines()))
    assert run.settings["code"]["commit"] == head.stdout.strip() == code_version()["commit"]
