from rag.citations import is_refusal, parse_citations
from rag.grounding import ground
from rag.prompt import build_prompt, fit_passages
from rag.types import Passage


def P(text: str, source: str = "a.txt", n: int = 0) -> Passage:
    return Passage(f"{source}:{n}", source, "Title", None, text, 0, len(text), 0.5, n + 1)


PASSAGES = [
    P("Aluminum futures rose 0.6% to settle at $2,902 per metric ton, while zinc rose 1.5%.", "a.txt", 0),
    P("China's government-mandated production ceiling of 45 million tonnes has locked in supply.", "b.txt", 1),
]


def test_parse_citations_normalises_and_drops_bad_markers():
    text, cites = parse_citations("Ceiling is 45 million [2]. Price $2,902 [1, 2] and [7]. Also [Passage 1].", PASSAGES)
    assert text == "Ceiling is 45 million [2]. Price $2,902 [1][2] and. Also [1]."
    assert [c.marker for c in cites] == [2, 1]
    assert cites[0].passage is PASSAGES[1]


def test_refusal_detection():
    assert is_refusal("The articles do not say.")
    assert is_refusal("The passages don't mention the zinc price.")
    assert is_refusal("")
    assert not is_refusal("The announcement did not specify which exports [1].")
    assert not is_refusal("Aluminum rose 7% [1]. The articles do not say why.")


def test_refusals_in_the_models_own_words():
    # phrasings Qwen2.5 and SmolLM2 use when told to say that the articles do not say
    assert is_refusal("The price of zinc is not mentioned in any of the given passages.")
    assert is_refusal("Passage [2] does not provide the nickel price in yuan.")
    assert is_refusal("None of the passages mention the 2022 FIFA World Cup.")
    assert is_refusal("The Federal Reserve's interest rate is not specified.")
    assert is_refusal("There is no information about Alcoa's CEO in the passages.")
    assert not is_refusal("The exact date was not given, but exports resume in 2026 [1].")
    assert not is_refusal("Lynas did not provide a cost for the plant, which will process heavy rare earths [2].")


def test_grounding_moves_a_wrong_citation_to_the_passage_with_the_fact():
    text, cites, ok = ground("China's ceiling is 45 million tonnes [1].", PASSAGES, "What is the ceiling?")
    assert ok and text == "China's ceiling is 45 million tonnes [2]."
    assert [c.passage.source for c in cites] == ["b.txt"]


def test_grounding_adds_a_missing_citation():
    text, cites, ok = ground("Aluminum settled at $2,902 per metric ton.", PASSAGES, "Where did aluminum settle?")
    assert ok and text.endswith("[1].") and cites[0].marker == 1


def test_grounding_rejects_unsupported_numbers_and_names():
    assert ground("Zinc costs $1.50 per ton [1].", PASSAGES, "zinc price?")[2] is False  # 1.5 is a %, not $
    assert ground("The capital of France is Paris [2].", PASSAGES, "capital of France?")[2] is False


def test_grounding_drops_unsupported_sentence_but_keeps_supported():
    text, cites, ok = ground("Aluminum settled at $2,902 [1]. Silver was $31 [1].", PASSAGES, "What were aluminum prices?")
    assert ok and text == "Aluminum settled at $2,902 [1]." and len(cites) == 1


NICKEL = P("Nickel prices remained volatile, trading around USD $16,500 per tonne, while copper hit records "
           "above USD $12,000 per tonne. Lithium carbonate rose to 122,000 yuan per tonne.", "c.txt", 2)


def test_grounding_refuses_a_figure_in_another_currency_than_asked():
    # the question asks for yuan; the passage gives nickel only in dollars
    assert ground("The nickel price in yuan was USD 16,500 [1].", [NICKEL], "What was the nickel price in yuan?")[2] is False
    assert ground("Lithium was 122,000 yuan [1].", [NICKEL], "Lithium price in U.S. dollars per tonne?")[2] is False
    # the same figures answer the question in the currency asked
    assert ground("Nickel traded around USD $16,500 per tonne [1].", [NICKEL], "Nickel price in dollars?")[2] is True
    assert ground("Lithium was 122,000 yuan per tonne [1].", [NICKEL], "Lithium price in yuan?")[2] is True


def test_grounding_refuses_the_figure_of_a_neighbouring_commodity():
    # $2,902 is aluminum's price; zinc only rose 1.5% in the same sentence
    assert ground("Zinc was $2,902 per metric ton [1].", PASSAGES, "What was the zinc price in dollars per ton?")[2] is False
    assert ground("Zinc rose 1.5% [1].", PASSAGES, "How did zinc move?")[2] is True
    assert ground("Aluminum settled at $2,902 [1].", PASSAGES, "What was the aluminum price?")[2] is True
    # a figure named before the commodity it belongs to; copper comes after it in the sentence
    assert ground("Nickel traded near $16,500 [1].", [NICKEL], "Where was nickel trading?")[2] is True
    assert ground("Copper was above USD $12,000 [1].", [NICKEL], "Where was copper?")[2] is True
    assert ground("Cobalt was USD $16,500 [1].", [NICKEL], "What was the cobalt price?")[2] is False


def test_prompt_numbers_passages_in_order():
    msgs = build_prompt("q?", PASSAGES)
    user = msgs[-1]["content"]
    assert msgs[0]["role"] == "system" and msgs[-1]["role"] == "user" and user.endswith("Question: q?")
    assert "[1] (Title)\nAluminum futures" in user and "[2] (Title)\nChina's" in user
    assert user.index("[1]") < user.index("[2]")


def test_fit_passages_respects_context():
    count = lambda s: len(s.split())  # noqa: E731
    many = [P("word " * 100, n=i) for i in range(10)]
    kept = fit_passages("q?", many, count, n_ctx=600, max_tokens=100)
    assert 1 <= len(kept) < 10
    total = sum(count(p.text) + 8 for p in kept)
    assert total <= 600 - 100
    tiny = fit_passages("q?", many, count, n_ctx=300, max_tokens=100)
    assert len(tiny) == 1 and len(tiny[0].text) < len(many[0].text)


def test_grounding_refuses_an_answer_that_restates_the_question():
    # seed 001 drops the words after "focuses on"; the model copies the gap
    gap = [P("Rio Tinto's broader strategy focuses on , positioning it for the long run.")]
    _, _, ok = ground("Rio Tinto's broader strategy focuses on [1].", gap,
                      "What does Rio Tinto's broader strategy focus on?")
    assert not ok


def test_grounding_keeps_a_question_about_one_named_article_to_that_article():
    from dataclasses import replace
    passages = [
        replace(P("Aluminum prices have surged to , a 22.6% year-over-year increase.", "ainvest.txt"),
                title="AInvest: The market is in a state of physical tightness"),
        replace(P("Aluminum futures settled at $2,902 per metric ton, up 22.6% on the year.", "lme.txt"),
                title="Aluminum Hits Three-Year High"),
    ]
    named = "In the AInvest aluminum piece, what price did aluminum surge to when it rose 22.6%?"
    _, _, ok = ground("Aluminum surged to $2,902 per metric ton [2].", passages, named)
    assert not ok
    text, _, ok = ground("Aluminum surged to $2,902 per metric ton [2].", passages,
                         "What price did aluminum surge to when it rose 22.6%?")
    assert ok and text.endswith("[2].")


def test_grounding_drops_a_true_fact_about_something_else():
    passages = [
        P("Zorblax Metals opened its Blue Ridge nickel mine. It will produce 14,500 tonnes of nickel a year.", "z.md", 0),
        P("Tin prices fell 4% this week after Indonesia approved new export quotas for smelters.", "tin.txt", 1),
    ]
    question = "How much nickel will the Blue Ridge mine produce each year?"
    text, cites, ok = ground("The mine will produce 14,500 tonnes a year [1]. Tin prices fell 4% [2].", passages, question)
    assert ok and text == "The mine will produce 14,500 tonnes a year [1]."
    assert [c.passage.source for c in cites] == ["z.md"]
    # an answer made only of such padding is no answer
    assert not ground("Tin prices fell 4% [2].", passages, question)[2]


def test_grounding_accepts_the_article_date_shown_with_the_passage():
    dated = Passage("d:0", "d.txt", "AInvest: aluminum", "2026-01-13", "Aluminum prices surged.", 0, 23, 0.5, 1)
    text, cites, ok = ground("The article is dated January 13, 2026 [1].", [dated], "What date does the article carry?")
    assert ok and [c.marker for c in cites] == [1]
    assert not ground("The article is dated March 2, 2024 [1].", [dated], "What date does the article carry?")[2]


def test_grounding_matches_names_across_apostrophes_and_drops_filler():
    tomago = P("Australia’s Tomago Aluminium Company, one of the world’s largest smelters, warned that rising "
               "electricity costs could force temporary curtailments.", "t.txt", 0)
    question = "Which Australian aluminium smelter warned that power costs could force curtailments?"
    text, cites, ok = ground("The article states that Australia's Tomago Aluminium Company warned of curtailments [1]. "
                             "This is a key point in the passage [1].", [tomago], question)
    assert ok and text == "The article states that Australia's Tomago Aluminium Company warned of curtailments [1]."
    assert not ground("This is a key point in the passage [1].", [tomago], question)[2]


def test_the_day_of_the_article_date_backs_no_amount():
    dated = Passage("l:0", "l.txt", "Rare earths", "2025-11-01", "Lynas Rare Earths is expanding operations.", 0, 42, 0.5, 1)
    question = "How much is Lynas investing in its new Malaysian facility?"
    assert not ground("Lynas is investing $1 billion in the facility [1].", [dated], question)[2]


def test_a_rewrite_that_answers_instead_of_asking_is_not_the_query():
    from rag.prompt import accept_rewrite
    history = [{"role": "user", "content": "Which analyst was quoted about China resuming metal exports?"},
               {"role": "assistant", "content": "Dr. Laura Jenkins, who called it a mutually beneficial step."}]
    assert accept_rewrite("And copper?", "Rewritten question: What did copper settle at?", history) == "What did copper settle at?"
    fallback = accept_rewrite("Where does she work?", "Dr. Laura Jenkins works at a university.", history)
    assert fallback == "Where does she work? (Dr. Laura Jenkins, who called it a mutually beneficial step.)"
    assert accept_rewrite("Where?", "", []) == "Where?"
