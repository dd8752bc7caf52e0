"""Each citation carries the sentences of its passage that state the claim citing it: the span a
reader checks the answer against, shown by the CLI and marked in the UI (examples written for
these tests)."""

from __future__ import annotations

from click.testing import CliRunner

from rag.grounding import ground
from rag.types import Answer, Passage, merge_answers

ARTICLE = ("Ferry News\n\nThe Orla ferry carried 41,000 riders in May. Fares stayed at 3 euros. "
           "A second boat, the Tern, joins the route in June. The harbour board meets monthly.")


def _passage(text: str = ARTICLE, source: str = "ferry.txt") -> Passage:
    start = text.index("The Orla ferry")
    body = text[start:]
    return Passage(f"{source}:0", source, "Ferry News", None, body, start, start + len(body), 0.8, 1)


def test_a_citation_spans_the_sentence_that_states_the_claim_in_the_source_text():
    p = _passage()
    text, citations, ok = ground("The Tern joins the route in June [1].", [p], "When does the Tern join the route?")
    assert ok and [c.marker for c in citations] == [1]
    (start, end), = citations[0].spans
    assert ARTICLE[start:end] == "A second boat, the Tern, joins the route in June."  # offsets into the file
    assert citations[0].quotes == ["A second boat, the Tern, joins the route in June."]
    assert citations[0].to_dict()["spans"] == [[start, end]]


def test_two_claims_citing_one_passage_give_it_two_spans_in_order():
    p = _passage()
    _, citations, ok = ground("The ferry carried 41,000 riders in May [1]. Fares stayed at 3 euros [1].",
                              [p], "How many riders did the ferry carry, and what were fares?")
    assert ok
    assert citations[0].quotes == ["The Orla ferry carried 41,000 riders in May.", "Fares stayed at 3 euros."]


def test_a_merged_answer_keeps_each_parts_spans_under_the_shared_number():
    p = _passage()
    parts = []
    for q, a in (("How many riders?", "The ferry carried 41,000 riders in May [1]."),
                 ("What were fares?", "Fares stayed at 3 euros [1].")):
        text, cites, _ = ground(a, [p], q)
        parts.append(Answer(question=q, text=text, citations=cites, passages=[p], refused=False))
    merged = merge_answers("How many riders, and what were fares?", None, parts, 1.0)
    assert len(merged.passages) == 1 and len(merged.citations) == 1
    assert merged.citations[0].quotes == ["The Orla ferry carried 41,000 riders in May.", "Fares stayed at 3 euros."]


def test_the_cli_shows_the_stating_sentence_not_the_whole_passage(monkeypatch):
    import rag.cli as c

    p = _passage()
    text, cites, _ = ground("The Tern joins the route in June [1].", [p], "When does the Tern join?")
    answer = Answer(question="When does the Tern join?", text=text, citations=cites, passages=[p], refused=False)

    class Fake:
        def stream(self, question, history=None):
            yield answer

    monkeypatch.setattr(c, "_assistant", lambda *a, **k: Fake())
    out = CliRunner().invoke(c.cli, ["ask", "When does the Tern join?"]).output
    (start, end), = cites[0].spans
    assert f"ferry.txt chars {start}-{end}" in out
    assert "A second boat, the Tern, joins the route in June." in out
    assert "41,000" not in out and "harbour board" not in out  # the rest of the passage is not the evidence


def test_the_ui_marks_the_stating_sentence_inside_the_cited_passage():
    from ui.render import render_turn_sources

    p = _passage()
    text, cites, _ = ground("The Tern joins the route in June [1].", [p], "When does the Tern join?")
    answer = Answer(question="When does the Tern join?", text=text, citations=cites, passages=[p], refused=False)
    html = render_turn_sources(answer, 0, lambda source: ARTICLE)
    assert '<mark class="claim-span">A second boat, the Tern, joins the route in June.</mark>' in html
    assert html.count('class="claim-span"') == 2  # in the context window and in the whole article
    gone = render_turn_sources(answer, 0, lambda source: None)  # the file changed: the passage alone
    assert '<mark class="claim-span">A second boat, the Tern, joins the route in June.</mark>' in gone


def test_the_ui_api_returns_the_stating_sentences():
    from ui.render import trim_answer

    p = _passage()
    text, cites, _ = ground("The Tern joins the route in June [1].", [p], "When does the Tern join?")
    answer = Answer(question="When does the Tern join?", text=text, citations=cites, passages=[p], refused=False)
    (span,) = trim_answer(answer)["citations"][0]["spans"]
    assert ARTICLE[span["start"]:span["end"]] == span["text"] == "A second boat, the Tern, joins the route in June."


def test_overlapping_spans_of_one_passage_are_joined():
    from rag.types import union_spans

    assert union_spans([(30, 60), (0, 40), (70, 80)]) == ((0, 60), (70, 80))
    p = _passage()
    # one claim is backed by the first sentence, the next by the first two: the first is marked once
    _, cites, ok = ground("The ferry carried 41,000 riders in May [1]. The ferry carried 41,000 riders in May "
                          "and fares stayed at 3 euros [1].", [p], "How many riders, and what fares?")
    assert ok and len(cites[0].quotes) == len(set(cites[0].quotes))
    spans = cites[0].spans
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))  # in order, none overlapping


def test_a_merged_answer_lists_a_passage_once_when_its_narrow_stretch_came_first():
    p = _passage()
    narrow_start = ARTICLE.index("Fares stayed")
    narrow = Passage("ferry.txt:0", "ferry.txt", "Ferry News", None, "Fares stayed at 3 euros.", narrow_start,
                     narrow_start + len("Fares stayed at 3 euros."), 0.8, 1)
    first = Answer(question="What were fares?", text="Fares stayed at 3 euros [1].", passages=[narrow],
                   citations=ground("Fares stayed at 3 euros [1].", [narrow], "What were fares?")[1], refused=False)
    text, cites, _ = ground("The Tern joins the route in June [1].", [p], "When does the Tern join?")
    second = Answer(question="When does the Tern join?", text=text, citations=cites, passages=[p], refused=False)
    merged = merge_answers("What were fares, and when does the Tern join?", None, [first, second], 1.0)
    assert len(merged.passages) == 1 and merged.passages[0] == p  # the wider stretch, once
    assert merged.text == "Fares stayed at 3 euros [1]. The Tern joins the route in June [1]."
    assert merged.citations[0].quotes == ["Fares stayed at 3 euros.", "A second boat, the Tern, joins the route in June."]
