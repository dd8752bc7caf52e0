"""The eval harness given bad input: gold files, output paths and baselines are checked before
minutes of answering, and a question the assistant rejects never skews the retrieval figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.errors import QuestionError, RagError
from rag.evals import GoldError, compare, load_gold, load_run, run_eval

from eval_cases import GOOD, FakeAssistant, fake_gold_lines, write


def test_gold_lines_with_a_line_separator_inside_a_string_and_a_bom_load(tmp_path: Path):
    item = {**GOOD, "answer": "2,902\u2028(per tonne)"}
    path = tmp_path / "g.jsonl"
    path.write_text("\ufeff" + json.dumps(item, ensure_ascii=False) + "\n", encoding="utf-8")
    (loaded,) = load_gold(path)
    assert loaded.answer == "2,902\u2028(per tonne)"


@pytest.mark.parametrize("line, message", [
    ("[" * 100_000, "g.jsonl:1: not valid JSON: nested too deeply"),
    (json.dumps({**GOOD, "must": [["(" * 1200 + "x" + ")" * 1200]]}), "must\\[0\\]\\[0\\].* not a valid regular expression"),
    (json.dumps({**GOOD, "must": [["a{4294967296}"]]}), "must\\[0\\]\\[0\\].* not a valid regular expression"),
    (json.dumps({**GOOD, "must": [["2,?902|"]]}), "matches the empty string, so it would accept any answer"),
])
def test_gold_lines_that_would_crash_or_accept_anything_are_errors_naming_the_line(tmp_path: Path, line, message):
    path = tmp_path / "g.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(GoldError, match=message):
        load_gold(path)


@pytest.mark.parametrize("flag", ["--json", "--report"])
def test_an_output_that_cannot_be_written_fails_before_the_run(tmp_path: Path, monkeypatch, flag):
    import rag.assistant

    from rag.cli import cli

    monkeypatch.setattr(rag.assistant, "Assistant", lambda **kw: pytest.fail("the run started"))
    gold = write(tmp_path, [GOOD])
    result = CliRunner().invoke(cli, ["eval", "--gold", str(gold), flag, str(tmp_path / "nodir" / "out")])
    assert result.exit_code == 1 and "nodir does not exist" in result.output
    result = CliRunner().invoke(cli, ["eval", "--gold", str(gold), flag, str(gold)])
    assert result.exit_code == 1 and "is the same file as --gold" in result.output
    assert gold.read_text(encoding="utf-8").startswith("{")  # the gold file is untouched


def test_a_baseline_that_is_not_figures_by_type_fails_before_the_run(tmp_path: Path):
    path = tmp_path / "base.json"
    path.write_text(json.dumps({"results": [], "summary": {"overall": [1]}}))
    with pytest.raises(RagError, match="'summary' is not figures by type"):
        load_run(path)
    path.write_text(json.dumps({"results": ["a", 1], "summary": {}}))
    with pytest.raises(RagError, match="each must be an object"):
        load_run(path)


def test_a_rejected_question_in_a_retrieval_only_run_is_recorded_and_the_run_goes_on(tmp_path: Path):
    class Rejects(FakeAssistant):
        def retrieve(self, question, k=None):
            if question == "too long?":
                raise QuestionError("question too long")
            return super().retrieve(question, k)

    run = run_eval(Rejects(), load_gold(write(tmp_path, fake_gold_lines())), retrieval_only=True)
    assert [r.verdict for r in run.results] == ["skipped", "skipped", "skipped", "error"]
    o = run.summary["overall"]
    assert o["n_errors"] == 1 and o["mrr"] == pytest.approx((0.5 + 0.5) / 2)  # the error is no retrieval miss


def test_the_printed_comparison_says_when_runs_are_not_like_for_like(tmp_path: Path):
    from rag.eval_cli import _baseline_lines

    gold = load_gold(write(tmp_path, fake_gold_lines()))
    full = run_eval(FakeAssistant(), gold)
    part = run_eval(FakeAssistant(), gold[:2], retrieval_only=True)
    lines = _baseline_lines(compare(part, full))
    assert any("not like for like" in line and "retrieval_only False -> True" in line
               and "2 only in the baseline" in line for line in lines)
    assert not any("not like for like" in line for line in _baseline_lines(compare(full, full)))


def test_gold_sources_the_corpus_does_not_hold_are_named_in_a_warning(tmp_path: Path, caplog):
    from types import SimpleNamespace

    class Lists(FakeAssistant):
        def documents(self):
            return [SimpleNamespace(source="000_alu.txt"), SimpleNamespace(source="001_other.txt")]

    with caplog.at_level("WARNING", logger="rag.evals.runs"):
        run_eval(Lists(), load_gold(write(tmp_path, fake_gold_lines())), retrieval_only=True)
    assert "1 gold source(s) are not in the corpus" in caplog.text and "002_third.txt" in caplog.text


def test_the_printed_comparison_names_the_code_of_each_run_and_is_not_a_mismatch(tmp_path: Path):
    import dataclasses

    from rag.eval_cli import _baseline_lines

    gold = load_gold(write(tmp_path, fake_gold_lines()))
    old = run_eval(FakeAssistant(), gold)
    old = dataclasses.replace(old, settings={**old.settings, "code": {"commit": "a" * 40, "dirty": False}})
    new = dataclasses.replace(old, settings={**old.settings, "code": {"commit": "b" * 40, "dirty": True,
                                                                      "diff_sha256": "0123456789ab"}})
    lines = _baseline_lines(compare(new, old))
    assert "  code: aaaaaaaaaa -> bbbbbbbbbb + uncommitted changes 0123456789ab" in lines
    assert not any("not like for like" in line for line in lines)
