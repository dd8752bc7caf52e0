"""The worked example in the system prompt shows only what the answer check accepts."""

from rag.citations import is_refusal, parse_citations
from rag.grounding import check_answer, render
from rag.prompt import EXAMPLE_ANSWERS, EXAMPLE_PASSAGES, SYSTEM_PROMPT
from rag.types import Passage


def _passages() -> list[Passage]:
    return [Passage(chunk_id=f"ex{n}", source=f"ex{n}.txt", title=title, date=date, text=text, start=0,
                    end=len(text), score=1.0) for n, (title, date, text) in enumerate(EXAMPLE_PASSAGES, 1)]


def test_the_example_answer_cites_each_fact_to_the_passage_that_states_it():
    passages = _passages()
    answered = [(q, a) for q, a in EXAMPLE_ANSWERS if not is_refusal(a)]
    assert answered, "the example shows an answer"
    for question, answer in answered:
        text, _ = parse_citations(answer, passages)
        checks = check_answer(text, passages, question)
        assert checks and all(c.supported for c in checks), checks
        for c in checks:  # every marker the example writes is one the check keeps
            assert c.markers and set(c.markers) <= set(c.supporting), c
        rendered, citations = render(checks, passages)
        assert {c.marker for c in citations} == {1, 2}  # a two-part answer cites both passages


def test_the_example_refusal_reads_as_a_refusal_and_the_prompt_shows_both():
    refusals = [a for _, a in EXAMPLE_ANSWERS if is_refusal(a)]
    assert refusals, "the example shows a question the passages leave open"
    for question, answer in EXAMPLE_ANSWERS:
        assert question in SYSTEM_PROMPT and answer in SYSTEM_PROMPT
    for title, date, text in EXAMPLE_PASSAGES:
        assert f"({title}, {date}) {text}" in SYSTEM_PROMPT
