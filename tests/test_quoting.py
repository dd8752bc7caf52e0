"""Quote-then-answer output: split into quotes and answer, streamed, and quotes found in passages."""

from rag.citations import is_refusal
from rag.quoting import Quote, answer_pieces, cite_quoted, locate, split_output
from rag.types import Passage

HARBOUR = ("The harbour board met on Monday. Ferry fares will rise 4% in May, the board said, "
           "while cargo fees stay at $12 a tonne.")


def _passage(text: str = HARBOUR) -> Passage:
    return Passage(chunk_id="h.txt:0", source="h.txt", title="Harbour news", date=None, text=text,
                   start=0, end=len(text), score=0.5)


def test_the_answer_follows_its_label_and_the_quote_is_kept_with_its_passage():
    out = split_output('Quote [2]: "Ferry fares will rise 4% in May, the board said."\n'
                       "Answer: Ferry fares will rise 4% in May [2].")
    assert out.quotes == (Quote(2, "Ferry fares will rise 4% in May, the board said."),)
    assert out.answer == "Ferry fares will rise 4% in May [2]."


def test_output_without_an_answer_label_answers_with_what_is_not_a_quote():
    out = split_output("Quote 1: Cargo fees stay at $12 a tonne.\nCargo fees stay at $12 a tonne [1].")
    assert out.quotes[0].passage == 1
    assert out.answer == "Cargo fees stay at $12 a tonne [1]."


def test_a_quote_alone_is_the_answer_cited_to_its_passage():
    out = split_output('Quote [3]: "Cargo fees stay at $12 a tonne."')
    assert out.answer == "Cargo fees stay at $12 a tonne. [3]"


def test_an_answer_without_a_marker_takes_its_quotes_passages():
    quotes = (Quote(2, "a"), Quote(2, "b"), Quote(1, "c"))
    assert cite_quoted("Fares rise 4%.", quotes) == "Fares rise 4%. [2][1]"
    assert cite_quoted("Fares rise 4% [3].", quotes) == "Fares rise 4% [3]."
    assert cite_quoted("Fares rise 4%.", (Quote(None, "a"),)) == "Fares rise 4%."


def test_nothing_is_streamed_before_the_answer_label_and_every_piece_is_kept():
    pieces = ['Quote [1]: "Ferry', ' fares will rise."\nAns', "wer:", " Fares", " rise [1]."]
    seen: list[str] = []
    streamed = "".join(answer_pieces(iter(pieces), seen))
    assert streamed.strip() == "Fares rise [1]."
    assert seen == pieces


def test_a_quote_is_found_word_for_word_whatever_its_spacing_and_case():
    p = _passage()
    start, end = locate("ferry fares will rise 4%  in May", p)
    assert p.text[start:end] == "Ferry fares will rise 4% in May"
    assert locate("Ferry fares will rise 5% in May", p) is None
    assert locate('""', p) is None


def test_an_answer_of_markers_alone_is_its_quote_and_a_quote_of_none_is_no_quote():
    out = split_output('Quote [1]: "Cargo fees stay at $12 a tonne."\nAnswer: [1]')
    assert out.answer == "Cargo fees stay at $12 a tonne. [1]"
    out = split_output("Quote: none\nAnswer: The articles do not say.")
    assert out.quotes == () and out.answer == "The articles do not say."


def test_a_quote_of_none_without_an_answer_is_a_refusal():
    out = split_output("Quote: none, then say that the articles do not say.")
    assert out.quotes == () and is_refusal(out.answer)
