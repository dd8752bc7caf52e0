"""Tests of the evaluation harness on small hand-made cases with known answers: facts and
verdicts, retrieval figures, the summary, and the comparison and report. Loading gold files is
in test_eval_gold.py, running the harness and its CLI in test_eval_run.py."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from rag.evals import (
    EvalRun,
    compare,
    evidence_found,
    holds_facts,
    parse_gold_line,
    render_report,
    score_answer,
    score_retrieval,
    summarize,
)
from rag.types import Answer, Timings

from eval_cases import (
    ALU,
    EVIDENCE,
    OTHER,
    P_ALU,
    P_OTHER,
    P_OTHER_WITH_FACT,
    P_THIRD,
    THIRD,
    answer,
    gold,
    passage,
    unanswerable,
)


# --------------------------------------------------------------------------- facts and verdicts


def test_holds_facts_every_group_needs_one_alternative_case_insensitive():
    must = [["2,?902", "two thousand"], ["ALUMINUM|aluminium"]]
    assert holds_facts("Aluminum settled at $2902.", must)
    assert holds_facts("aluminium: TWO THOUSAND", must)
    assert not holds_facts("Aluminum settled at $3,100.", must)
    assert not holds_facts("It settled at $2,902.", must)
    assert holds_facts("anything", [])


def test_a_hyphen_and_a_typographic_dash_score_alike():
    # the gold copies the source's "1990–1995"; a model writes "1990-1995": the same answer
    item = parse_gold_line({"id": "d1", "type": "fact", "question": "When did the survey run?",
                            "answer": "1990–1995", "must": [["1990–1995 survey"]], "sources": ["s.txt"]})
    assert holds_facts("It ran 1990-1995 survey years.", item.must)
    assert holds_facts("It ran 1990—1995 survey years.", [["1990-1995 survey"]])
    assert not holds_facts("It ran 1990 to 1995.", item.must)


def test_correct_cited_answer():
    item = gold("q1")
    r = score_answer(item, answer("Aluminum settled at $2,902 [1].", cited=[P_ALU], passages=[P_ALU, P_OTHER]))
    assert r.verdict == "correct"
    assert (r.n_citations, r.n_supporting) == (1, 1)
    assert r.cited_sources == (ALU,)
    assert (r.source_rank, r.source_recall, r.evidence_rank) == (1, 1.0, 1)
    assert r.retrieved_sources == (ALU, OTHER)


def test_wrong_answer_citing_gold_source_still_supporting_citation():
    r = score_answer(gold("q1"), answer("It settled at $3,100 [1].", cited=[P_ALU]))
    assert r.verdict == "wrong"
    assert (r.n_citations, r.n_supporting) == (1, 1)


def test_citation_markers_do_not_create_facts():
    # "[1]" must not satisfy a regex looking for the number 1.
    item = gold("q1", must=(("\\b1\\b",),))
    assert score_answer(item, answer("No such number [1].", cited=[P_ALU])).verdict == "wrong"


def test_refusal_and_answered_on_unanswerable():
    item = unanswerable("u1")
    refused = score_answer(item, answer("The articles do not say.", refused=True))
    answered = score_answer(item, answer("Zinc was $3,000 [1].", cited=[P_OTHER]))
    assert refused.verdict == "refused"
    assert answered.verdict == "answered"
    assert (answered.n_citations, answered.n_supporting) == (1, 0)
    assert (answered.source_rank, answered.source_recall, answered.evidence_rank) == (None, None, None)


def test_false_refusal_even_if_text_holds_fact():
    r = score_answer(gold("q1"), answer("I can't tell if $2,902 is right.", passages=[P_ALU], refused=True))
    assert r.verdict == "false_refusal"
    assert r.refused is True


def test_a_refusal_of_the_check_records_whether_the_models_draft_was_right():
    def refused(draft: str) -> Answer:
        return replace(answer("The articles do not say.", passages=[P_ALU], refused=True), draft=draft)

    right = score_answer(gold("q1"), refused("Aluminum settled at $2,902 [1]."))
    wrong = score_answer(gold("q1"), refused("Aluminum settled at $3,100 [1]."))
    by_model = score_answer(gold("q1"), refused("The articles do not say."))
    assert [r.verdict for r in (right, wrong, by_model)] == ["false_refusal"] * 3
    assert (right.refused_right_draft, wrong.refused_right_draft, by_model.refused_right_draft) == (True, False, None)
    summary = summarize([right, wrong, by_model])["overall"]
    assert summary["false_refusal_rate"] == 1.0 and summary["refused_right_draft_rate"] == pytest.approx(1 / 3)


def test_citation_to_the_wrong_article_does_not_support():
    r = score_answer(gold("q1"), answer("Aluminum settled at $2,902 [1].", cited=[P_OTHER]))
    assert r.verdict == "correct"
    assert (r.n_citations, r.n_supporting) == (1, 0)
    assert r.cited_sources == (OTHER,)
    assert r.source_rank is None


def test_citation_to_other_article_holding_a_key_fact_supports():
    r = score_answer(gold("q1"), answer("It was $2,902 [1].", cited=[P_OTHER_WITH_FACT]))
    assert (r.n_citations, r.n_supporting) == (1, 1)


def test_repeated_marker_counts_once_and_no_citation_counts_zero():
    a = answer("$2,902 [1]. Again $2,902 [1]. And [2].", passages=[P_ALU, P_OTHER], markers=[1, 1, 2])
    r = score_answer(gold("q1"), a)
    assert (r.n_citations, r.n_supporting, r.cited_sources) == (2, 1, (ALU, OTHER))
    uncited = score_answer(gold("q1"), answer("Aluminum settled at $2,902.", passages=[P_ALU]))
    assert (uncited.verdict, uncited.n_citations, uncited.cited_sources) == ("correct", 0, ())


# --------------------------------------------------------------------------- retrieval


def test_recall_at_k_and_rank_known_position():
    item = gold("q1")
    ranked = [P_OTHER, P_THIRD, P_ALU]
    r3 = score_retrieval(item, ranked, k=3)
    assert (r3.source_rank, r3.source_recall, r3.evidence_rank) == (3, 1.0, 3)
    r2 = score_retrieval(item, ranked, k=2)
    assert (r2.source_rank, r2.source_recall, r2.evidence_rank) == (None, 0.0, None)
    assert r2.retrieved_sources == (OTHER, THIRD)
    multi = gold("m1", "multi", sources=(ALU, THIRD))
    r = score_retrieval(multi, [P_OTHER, P_ALU, P_OTHER_WITH_FACT], k=3)
    assert (r.source_rank, r.source_recall) == (2, 0.5)


def test_pieces_of_one_chunk_share_its_place():
    # the evidence selection shows two pieces of the first chunk: they count as one place of k
    first, second = EVIDENCE.split(" to settle")
    alu = P_ALU.text
    pieces = [
        replace(P_OTHER, text="Copper fell 3%", end=14),
        replace(P_OTHER, text="resume metal exports.", start=42, end=63),
        replace(P_ALU, text=alu[:alu.index(second)], end=alu.index(second)),
    ]
    r = score_retrieval(gold("q1", evidence=first), pieces, k=2)
    assert (r.source_rank, r.evidence_rank, r.retrieved_sources) == (2, 2, (OTHER, OTHER, ALU))
    assert score_retrieval(gold("q1"), pieces, k=1).source_rank is None
    assert score_retrieval(gold("q1"), pieces).k == 2


def test_evidence_matching_rule():
    assert evidence_found("aluminum  FUTURES rose\n0.6%", P_ALU.text)  # whitespace and case folded
    half = "Aluminum futures rose 0.6% to settle. Something else."
    assert evidence_found(half, P_ALU.text.replace("to settle at", "to settle."))
    assert not evidence_found("aluminum futures rose " + "x" * 40, P_ALU.text)
    assert not evidence_found("", P_ALU.text)


def test_mrr_and_recall_in_summary():
    items = [gold("a"), gold("b"), gold("c"), gold("d", evidence="")]
    passages = {"a": [P_ALU, P_OTHER], "b": [P_OTHER, P_ALU], "c": [P_OTHER, P_THIRD], "d": [P_THIRD, P_ALU]}
    results = [score_answer(it, answer("$2,902", passages=passages[it.id])) for it in items]
    o = summarize(results)["overall"]
    assert o["mrr"] == pytest.approx((1 + 0.5 + 0 + 0.5) / 4)
    assert o["recall_at_k"] == pytest.approx(3 / 4)
    assert o["hit_at_k"] == pytest.approx(3 / 4)
    assert o["evidence_recall_at_k"] == pytest.approx(2 / 3)
    assert o["evidence_mrr"] == pytest.approx((1 + 0.5) / 3)


def test_every_passage_a_multi_part_answer_showed_counts_for_retrieval():
    # each part of a two-part question shows its own k passages, one part after the other: the
    # second part's article is shown although it comes after the first k passages
    first = [passage(OTHER, f"Copper note {n}.", n) for n in range(4)]
    item = gold("m1", "multi", sources=(OTHER, ALU))
    r = score_answer(item, answer("Copper fell [1]. Aluminum settled at $2,902 [5].", cited=[first[0], P_ALU],
                                  passages=[*first, P_ALU]), k=4)
    assert r.source_recall == 1.0 and r.evidence_rank == 5
    # a single-part answer never shows more than k: "top k" is unchanged for it
    single = score_answer(gold("q9"), answer("Aluminum settled at $2,902 [1].", cited=[P_ALU], passages=[P_ALU]), k=4)
    assert single.k == 4 and single.source_rank == 1


# --------------------------------------------------------------------------- summary


def _mixed_results():
    fact = (("construction",),)
    t = lambda total, first=0.5, tokens=10: Timings(retrieval=total / 10, first_token=first,  # noqa: E731
                                                    total=total, completion_tokens=tokens)
    cases = [
        (gold("q1"), answer("$2,902 [1]", cited=[P_ALU], timings=t(1.0))),                       # correct, supported
        (gold("q2", "fact", must=fact), answer("Mining [1]", cited=[P_OTHER], timings=t(2.0))),  # wrong
        (gold("q3", "fact", must=fact), answer("Not in the articles.", refused=True,
                                               timings=Timings(retrieval=0.3, total=3.0))),     # false refusal
        (gold("q4"), answer("$2,902 [1]", cited=[P_OTHER], timings=t(4.0))),                    # wrong article
        (gold("q5", "fact", must=fact), answer("Construction.", timings=t(5.0))),               # no citation
        (unanswerable("q6"), answer("Not covered.", refused=True, timings=Timings(total=0.5))),
        (unanswerable("q7"), answer("It was $5 [1].", cited=[P_OTHER], timings=t(1.5))),
    ]
    return [score_answer(item, a) for item, a in cases]


def test_summary_overall_and_per_type_exact_values():
    results = _mixed_results()
    assert [r.verdict for r in results] == ["correct", "wrong", "false_refusal", "correct", "correct",
                                            "refused", "answered"]
    s = summarize(results)
    o = s["overall"]
    assert (o["n"], o["n_answerable"], o["n_unanswerable"]) == (7, 5, 2)
    assert o["answer_accuracy"] == pytest.approx(3 / 5)
    assert o["false_refusal_rate"] == pytest.approx(1 / 5)
    assert o["refusal_rate"] == pytest.approx(1 / 2)
    assert (o["n_citations"], o["n_supporting_citations"]) == (3, 1)  # q7's citation not counted
    assert o["citation_precision"] == pytest.approx(1 / 3)
    assert o["citation_recall"] == pytest.approx(1 / 3)  # of q1, q4, q5 only q1 is supported
    assert o["uncited_rate"] == pytest.approx(1 / 4)
    assert o["verdicts"]["correct"] == 3 and o["verdicts"]["answered"] == 1

    assert list(s["by_type"]) == ["fact", "number", "unanswerable"]
    num, fact, un = s["by_type"]["number"], s["by_type"]["fact"], s["by_type"]["unanswerable"]
    assert (num["answer_accuracy"], num["citation_precision"], num["citation_recall"]) == (1.0, 0.5, 0.5)
    assert fact["answer_accuracy"] == pytest.approx(1 / 3)
    assert fact["false_refusal_rate"] == pytest.approx(1 / 3)
    assert (fact["citation_precision"], fact["citation_recall"], fact["uncited_rate"]) == (0.0, 0.0, 0.5)
    assert (un["answer_accuracy"], un["refusal_rate"], un["citation_precision"]) == (None, 0.5, None)


def test_summary_latency_percentiles_and_tokens_per_second():
    o = summarize(_mixed_results())["overall"]
    # totals 1, 2, 3, 4, 5, 0.5, 1.5 -> sorted 0.5 1 1.5 2 3 4 5
    assert o["total_p50"] == pytest.approx(2.0)
    assert o["total_p95"] == pytest.approx(4 + 0.7 * 1)  # position 0.95 * 6 = 5.7
    # first token only over answers that generated tokens (q1, q2, q4, q5, q7): all 0.5
    assert (o["first_token_p50"], o["first_token_p95"]) == (0.5, 0.5)
    # 50 tokens over (0.5 + 1.5 + 3.5 + 4.5 + 1.0) generation seconds
    assert o["tokens_per_second"] == pytest.approx(50 / 11.0)
    assert o["retrieval_p50"] == pytest.approx(0.2)


def test_tokens_per_second_counts_decoding_only_not_the_checks_after_it():
    # 2 s after the first token, 1.5 of them spent on the checks: 10 tokens in 0.5 s of decoding
    t = Timings(retrieval=0.1, first_token=1.0, total=3.0, completion_tokens=10, check=1.5)
    assert t.tokens_per_second == pytest.approx(20.0)
    fact = (("construction",),)
    results = [score_answer(gold("q1", "fact", must=fact), answer("Construction [1]", cited=[P_ALU], timings=t)),
               score_answer(gold("q2", "fact", must=fact), answer("Construction [1]", cited=[P_ALU], timings=Timings(
                   first_token=1.0, total=2.0, completion_tokens=10, check=0.5)))]
    o = summarize(results)["overall"]
    assert o["tokens_per_second"] == pytest.approx(20 / 1.0)  # 20 tokens over 0.5 + 0.5 s of decoding
    assert o["check_p50"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- compare and report


def _run(results) -> EvalRun:
    return EvalRun(settings={"model": "m", "k": 4}, results=tuple(results), summary=summarize(results))


def test_compare_deltas_and_flipped_questions():
    g1, g2, g6 = gold("q1"), gold("q2"), unanswerable("q6")
    before = _run([score_answer(g1, answer("$2,902 [1]", cited=[P_ALU])),
                   score_answer(g2, answer("$3,000 [1]", cited=[P_OTHER])),
                   score_answer(g6, answer("No.", refused=True))])
    after = _run([score_answer(g1, answer("$3,000 [1]", cited=[P_ALU])),
                  score_answer(g2, answer("$2,902 [1]", cited=[P_ALU])),
                  score_answer(g6, answer("No.", refused=True)),
                  score_answer(gold("q9"), answer("no idea", refused=True))])
    diff = compare(after, before)
    assert diff["flipped"] == [
        {"id": "q1", "type": "number", "question": "question q1?", "baseline": "correct", "current": "wrong",
         "change": "broke"},
        {"id": "q2", "type": "number", "question": "question q2?", "baseline": "wrong", "current": "correct",
         "change": "fixed"},
    ]
    assert diff["added"] == ["q9"] and diff["removed"] == []
    acc = diff["overall"]["answer_accuracy"]
    assert (acc["baseline"], acc["current"]) == (0.5, pytest.approx(1 / 3))
    assert acc["delta"] == pytest.approx(1 / 3 - 0.5)
    prec = diff["overall"]["citation_precision"]
    assert (prec["baseline"], prec["current"], prec["delta"]) == (0.5, 1.0, 0.5)
    assert diff["by_type"]["unanswerable"]["refusal_rate"]["delta"] == 0.0
    assert [f["id"] for f in diff["retrieval_flipped"]] == ["q2"]  # gold source now retrieved
    assert diff["retrieval_flipped"][0]["change"] == "found"
    assert diff["settings_changed"] == {}


def test_render_report_has_figures_and_per_question_table_with_escaping():
    results = _mixed_results()
    weird = score_answer(gold("q8", question="A | B?"), answer("x | y\nz [1]", cited=[P_ALU]))
    results.append(weird)
    base = _run(results[:3])
    report = render_report(summarize(results), results, compare(_run(results), base),
                           settings={"model": "qwen", "k": 4, "temperature": 0.0, "retrieval_only": False,
                                     "config": {"chunk_tokens": 120, "chunk_overlap": 25}})
    assert "- model: `qwen`" in report and "chunk_tokens=120, chunk_overlap=25" in report
    # overall, then fact, number, unanswerable
    assert "| figure | overall | fact | number | unanswerable |" in report
    assert "| answer accuracy | 50.0% | 33.3% | 66.7% | – |" in report
    assert "| id | type | question | verdict | answer | cited sources | source rank | evidence rank |" in report
    assert f"| q1 | number | question q1? | correct | $2,902 [1] | {ALU} | 1 | 1 |" in report
    assert f"| q4 | number | question q4? | correct | $2,902 [1] | {OTHER} | – | – |" in report
    assert "| q3 | fact | question q3? | false_refusal | Not in the articles. | – | – | – |" in report
    assert r"| q8 | number | A \| B? | wrong | x \| y z [1] |" in report
    assert "## Change against baseline" in report and "### Flipped questions (0)" in report
    assert "Questions added: q4, q5, q6, q7, q8" in report


def test_report_shows_the_models_draft_when_the_citation_check_changed_it():
    from dataclasses import replace
    dropped = replace(answer("The articles do not say.", passages=[P_ALU], refused=True),
                      draft="Aluminum settled at $3,100 [1].")
    kept = replace(answer("$2,902 [1]", cited=[P_ALU]), draft="$2,902[1]")
    r_dropped, r_kept = score_answer(gold("q1"), dropped), score_answer(gold("q2"), kept)
    assert r_dropped.draft == "Aluminum settled at $3,100 [1]." and r_kept.draft == ""
    report = render_report(summarize([r_dropped, r_kept]), [r_dropped, r_kept])
    assert "*model's draft, before the citation check:* Aluminum settled at $3,100 [1]." in report
    saved = json.loads(EvalRun({}, (r_dropped,)).to_json())
    assert EvalRun.from_dict(saved).results[0].draft == r_dropped.draft
