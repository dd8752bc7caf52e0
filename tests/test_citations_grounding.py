"""Citation markers, refusals and the fact check, on examples written for these tests."""

from dataclasses import replace

from rag.citations import is_refusal, parse_citations
from rag.grounding import check_answer, ground
from rag.prompt import accept_rewrite, build_prompt, fit_passages
from rag.types import Passage


def P(text: str, source: str = "a.txt", n: int = 0, title: str = "Title", date: str | None = None) -> Passage:
    return Passage(f"{source}:{n}", source, title, date, text, 0, len(text), 0.5, n + 1)


PASSAGES = [
    P("Harbor freight volumes rose 4.2% to 31,000 containers in March, while rail volumes fell 1.5%.", "port.txt", 0),
    P("The city council approved a budget of 12 million euros for the new Kestrel Bridge.", "bridge.txt", 1),
]


def test_parse_citations_normalises_and_drops_bad_markers():
    text, cites = parse_citations("Budget is 12 million [2]. Volumes 31,000 [1, 2] and [7]. Also [Passage 1].", PASSAGES)
    assert text == "Budget is 12 million [2]. Volumes 31,000 [1][2] and. Also [1]."
    assert [c.marker for c in cites] == [2, 1]
    assert cites[0].passage is PASSAGES[1]


def test_refusal_detection():
    assert is_refusal("The articles do not say.")
    assert is_refusal("The passages don't mention the ferry timetable.")
    assert is_refusal("")
    assert not is_refusal("The statement did not specify which routes [1].")
    assert not is_refusal("Volumes rose 4.2% [1]. The articles do not say why.")


def test_refusals_in_the_models_own_words():
    assert is_refusal("The opening hour is not mentioned in any of the given passages.")
    assert is_refusal("Passage [2] does not provide the toll in pounds.")
    assert is_refusal("None of the passages mention the 1998 regatta.")
    assert is_refusal("The mayor's salary is not specified.")
    assert is_refusal("There is no information about the architect in the passages.")
    assert not is_refusal("The exact date was not given, but the bridge opens in 2031 [1].")
    assert not is_refusal("The council did not provide a cost for the tunnel, which will link two districts [2].")


def test_grounding_moves_a_wrong_citation_to_the_passage_with_the_fact():
    text, cites, ok = ground("The bridge budget is 12 million euros [1].", PASSAGES, "What is the bridge budget?")
    assert ok and text == "The bridge budget is 12 million euros [2]."
    assert [c.passage.source for c in cites] == ["bridge.txt"]


def test_grounding_adds_a_missing_citation():
    text, cites, ok = ground("Harbor volumes reached 31,000 containers.", PASSAGES, "How many containers did the harbor handle?")
    assert ok and text.endswith("[1].") and cites[0].marker == 1


def test_numbers_are_compared_with_their_units():
    question = "How did the harbor do in March?"
    assert not ground("Harbor volumes rose 31% [1].", PASSAGES, question)[2]  # 31,000 is no share
    assert not ground("Harbor volumes rose 1.5 containers [1].", PASSAGES, question)[2]  # 1.5 is a share
    assert not ground("Rail volumes fell $1.5 [1].", PASSAGES, question)[2]  # a share is no money
    assert not ground("The harbor moved 31,000 trucks [1].", PASSAGES, question)[2]  # another unit
    assert ground("The harbor moved 31,000 containers [1].", PASSAGES, question)[2]
    assert ground("Rail volumes fell 1.5 percent [1].", PASSAGES, question)[2]  # "percent" is "%"
    bridge = "What will the bridge cost?"
    assert not ground("The bridge will cost 12 billion euros [2].", PASSAGES, bridge)[2]  # the scale is part of the value
    assert ground("The bridge will cost 12 million euros [2].", PASSAGES, bridge)[2]


def test_a_currency_code_is_written_in_capitals():
    from rag.numbers import quantities
    # case-blind matching once read the word before a number ("got 4%") as a currency code
    [(share, _, _)] = quantities("The ferry line got 4% more riders.")
    assert share.percent and not share.money
    [(cost, _, _)] = quantities("The ferry cost EUR 40 million.")
    assert cost.money and cost.value == 40e6


def test_a_number_before_a_comma_takes_no_unit_from_the_next_clause():
    from rag.numbers import quantities
    [(year, _, _)] = quantities("The port may reopen in 2027, which would lift trade.")
    assert year.value == 2027 and year.unit == ""
    [(count, _, _)] = quantities("The crew counted 1,200, and the rest left.")
    assert count.value == 1200 and count.unit == ""
    # the same fact, said with another clause after the number, is backed
    ferry = [P("If the council agrees, the ferry could restart in 2027, it said, and fares would fall.", "ferry.txt")]
    assert ground("The ferry could restart in 2027, which could make fares fall [1].", ferry,
                  "When could the ferry restart?")[2]


def test_a_share_is_not_backed_by_a_bare_number():
    games = [P("The Otters won 5 games in the spring season.", "otters.txt")]
    assert not ground("The Otters' share of wins rose 5% [1].", games, "How did the Otters do?")[2]
    assert ground("The Otters won 5 games [1].", games, "How did the Otters do?")[2]


def test_names_are_whole_words_and_the_first_word_counts():
    cafes = [P("Parisian cafés reopened on Monday, and Madrid hosted the summit.", "c.txt")]
    assert not ground("Paris reopened its cafés [1].", cafes, "Which cafés reopened?")[2]
    assert not ground("Lisbon hosted the summit [1].", cafes, "Which city hosted the summit?")[2]
    assert ground("Madrid hosted the summit [1].", cafes, "Which city hosted the summit?")[2]
    # a sentence opener names nothing
    assert ground("However, Madrid hosted the summit [1].", cafes, "Which city hosted the summit?")[2]


def test_facts_must_sit_together_not_anywhere_in_the_passage():
    long = [P("Harlow Dynamics posted revenue of $3.1 billion in 2019. The firm moved offices twice. "
              "Its logo changed in spring. Vexa Corp hired 200 engineers in Ohio.", "h.txt")]
    question = "Which company did best?"
    assert not ground("Vexa Corp posted revenue of $3.1 billion [1].", long, question)[2]
    checks = check_answer("Harlow Dynamics posted revenue of $3.1 billion [1].", long, "What revenue did Harlow post?")
    ev = checks[0].evidence[1]
    assert long[0].text[ev.start:ev.end] == "Harlow Dynamics posted revenue of $3.1 billion in 2019."


def test_grounding_rejects_unsupported_numbers_and_names():
    assert ground("Rail costs $1.50 per ton [1].", PASSAGES, "rail price?")[2] is False
    assert ground("The capital of Peru is Lima [2].", PASSAGES, "capital of Peru?")[2] is False


def test_grounding_drops_unsupported_sentence_but_keeps_supported():
    text, cites, ok = ground("Harbor volumes rose 4.2% [1]. Air cargo rose 9% [1].", PASSAGES, "How did harbor volumes move?")
    assert ok and text == "Harbor volumes rose 4.2% [1]." and len(cites) == 1


def test_prompt_numbers_passages_in_order():
    msgs = build_prompt("q?", PASSAGES)
    user = msgs[-1]["content"]
    assert msgs[0]["role"] == "system" and msgs[-1]["role"] == "user" and user.endswith("Question: q?")
    assert "[1] (Title)\nHarbor freight" in user and "[2] (Title)\nThe city council" in user
    assert user.index("[1]") < user.index("[2]")


def test_grouped_prompt_shows_each_articles_title_and_date_once():
    from rag.prompt import group_by_article
    shown = group_by_article([P("Ferries resumed.", "f.txt", 0, "Harbour news", "2031-04-02"),
                              P("Tolls rose.", "t.txt", 1, "Road news"),
                              P("Crews returned.", "f.txt", 2, "Harbour news", "2031-04-02")])
    user = build_prompt("q?", shown, grouped=True)[-1]["content"]
    assert user.count("Article: Harbour news\nDate: 2031-04-02\n[1] Ferries resumed.\n[2] Crews returned.") == 1
    assert "Article: Road news\n[3] Tolls rose." in user and user.count("Harbour news") == 1


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
    gap = [P("The museum's new wing focuses on , drawing crowds all summer.")]
    _, _, ok = ground("The museum's new wing focuses on [1].", gap, "What does the museum's new wing focus on?")
    assert not ok


def test_grounding_drops_a_true_fact_about_something_else():
    passages = [
        P("Quillon Farms opened its Red Mesa orchard. It will yield 9,800 crates of pears a year.", "q.md", 0),
        P("Ferry fares fell 6% this week after the port authority cut landing fees.", "ferry.txt", 1),
    ]
    question = "How many crates of pears will the Red Mesa orchard yield each year?"
    text, cites, ok = ground("The orchard will yield 9,800 crates a year [1]. Ferry fares fell 6% [2].", passages, question)
    assert ok and text == "The orchard will yield 9,800 crates a year [1]."
    assert [c.passage.source for c in cites] == ["q.md"]
    assert not ground("Ferry fares fell 6% [2].", passages, question)[2]


def test_grounding_accepts_the_article_date_shown_with_the_passage():
    dated = P("Pear prices climbed.", "d.txt", title="Orchard notes", date="2031-04-09")
    text, cites, ok = ground("The article is dated April 9, 2031 [1].", [dated], "What date does the article carry?")
    assert ok and [c.marker for c in cites] == [1]
    assert not ground("The article is dated March 2, 2024 [1].", [dated], "What date does the article carry?")[2]


def test_grounding_matches_names_across_apostrophes_and_drops_filler():
    quay = P("Norland’s Halvard Shipyard, one of the region’s largest yards, warned that rising steel costs "
             "could delay two ferries.", "q.txt")
    question = "Which shipyard warned that costs could delay ferries?"
    text, _, ok = ground("The article states that Norland's Halvard Shipyard warned of delays [1]. "
                         "This is a key point in the passage [1].", [quay], question)
    assert ok and text == "The article states that Norland's Halvard Shipyard warned of delays [1]."
    assert not ground("This is a key point in the passage [1].", [quay], question)[2]


def test_the_day_of_the_article_date_backs_no_amount():
    dated = P("Quillon Farms is expanding its orchards.", "l.txt", title="Orchards", date="2031-11-01")
    assert not ground("Quillon is investing $1 billion in the orchards [1].", [dated], "How much is Quillon investing?")[2]


def test_a_rewrite_that_answers_instead_of_asking_is_not_the_query():
    history = [{"role": "user", "content": "Which curator was quoted about the museum reopening?"},
               {"role": "assistant", "content": "Ms. Ada Vell, who called it a fresh start."}]
    assert accept_rewrite("And the library?", "Rewritten question: When does the library reopen?", history) == \
        "When does the library reopen?"
    fallback = accept_rewrite("Where is she based?", "Ada Vell is based at a university.", history)
    assert fallback == "Where is she based? (Ms. Ada Vell, who called it a fresh start.)"
    assert accept_rewrite("Where?", "", []) == "Where?"


def test_names_of_another_article_are_not_backed_by_its_title_alone():
    titled = replace(P("Tickets sold out within an hour.", "t.txt"), title="Harbor Jazz Festival Returns")
    assert ground("Harbor Jazz Festival tickets sold out [1].", [titled], "What happened to tickets?")[2]
    assert not ground("Summit Jazz Festival tickets sold out [1].", [titled], "What happened to tickets?")[2]


def test_names_with_dots_hyphens_and_digits_are_found():
    text = "The pact, led by the U.K., Peru and Chile, covers the A-9 corridor and the Z3 line."
    p = [P(text, "pact.txt")]
    assert ground("The U.K., Peru and Chile lead the pact [1].", p, "Who leads the pact?")[2]
    assert ground("It covers the A-9 corridor [1].", p, "What does the pact cover?")[2]
    assert not ground("It covers the B-9 corridor [1].", p, "What does the pact cover?")[2]


def test_names_with_an_en_dash_or_a_hyphen_are_one_name():
    # passages use typographic dashes, models write hyphens: "Lyon–Turin" and "Lyon-Turin" are one name
    tunnel = [P("Work on the Lyon–Turin tunnel ran through the 14–15th century chapel grounds.", "rail.txt", 0)]
    assert ground("The Lyon-Turin tunnel ran through the chapel grounds [1].", tunnel, "Which tunnel crossed the grounds?")[2]
    assert ground("They date from the 14-15th century [1].", tunnel, "How old are the chapel grounds?")[2]
    assert not ground("The Lyon-Geneva tunnel ran through them [1].", tunnel, "Which tunnel crossed the grounds?")[2]
    hyphen = [P("The Lyon-Turin line opened in 2032.", "rail.txt", 1)]
    assert ground("The Lyon–Turin line opened in 2032 [1].", hyphen, "When did the line open?")[2]


def test_a_name_written_out_is_backed_by_its_abbreviation_and_the_other_way_round():
    treaty = [P("Fishing quotas for U.K. boats were raised under the Nordic Fisheries Council plan.", "fish.txt", 0)]
    assert ground("The United Kingdom had its quotas raised [1].", treaty, "Whose fishing quotas were raised?")[2]
    assert not ground("The United States had its quotas raised [1].", treaty, "Whose fishing quotas were raised?")[2]
    # the question's abbreviation asks about the answer's full name
    assert ground("The United Kingdom's boats [1].", treaty, "Which U.K. fleet had its quotas raised?")[2]
    spelled = [P("The European Union approved the Nordic Fisheries Council plan on Monday.", "fish.txt", 1)]
    assert ground("The EU approved the NFC plan [1].", spelled, "Who approved the plan?")[2]
    assert not ground("The UN approved the plan [1].", spelled, "Who approved the plan?")[2]


def test_names_glued_to_a_neighbouring_word_by_scraping_are_found():
    byline = [P("Market wrap Written byMarta KowalReviewed byNewsdesk Staff. Grain prices slipped.", "g.txt")]
    assert ground("The wrap was written by Marta Kowal [1].", byline, "Who wrote the market wrap?")[2]
    assert not ground("The wrap was written by Marta Nowak [1].", byline, "Who wrote the market wrap?")[2]


def test_a_name_is_backed_by_its_adjective_form_and_no_other_name():
    quota = [P("Veldora's fisheries ministry set a catch quota of 40 tonnes for Ostrana.", "q.txt")]
    question = "What catch quota was set?"
    assert ground("The Veldoran fisheries ministry set a quota of 40 tonnes [1].", quota, question)[2]
    assert ground("The Ostranese quota is 40 tonnes [1].", quota, question)[2]
    assert not ground("The Veldish ministry set a quota of 40 tonnes [1].", quota, question)[2]
    assert not ground("The Tarnese ministry set a quota of 40 tonnes [1].", quota, question)[2]


def test_a_sentence_joining_two_passages_facts_is_checked_clause_by_clause():
    metals = [P("Tin futures rose 4% to settle at $31,000 a tonne on Tuesday.", "tin.txt", 0),
              P("Nickel fell 2% after Indonesia raised its export quota.", "ni.txt", 1)]
    q = "How did tin and nickel trade?"
    text, cites, ok = ground("Tin rose 4% to $31,000 a tonne, while nickel fell 2% [1].", metals, q)
    assert ok and text == "Tin rose 4% to $31,000 a tonne [1], while nickel fell 2% [2]."
    assert [c.passage.source for c in cites] == ["tin.txt", "ni.txt"]
    # a clause no passage backs is dropped, the rest stands as a sentence of its own
    assert ground("Tin rose 4% to $31,000 a tonne, while nickel fell 9% [1].", metals, q)[0] == \
        "Tin rose 4% to $31,000 a tonne [1]."
    assert ground("Tin rose 7%, while nickel fell 2% [2].", metals, q)[0] == "Nickel fell 2% [2]."
    # when no clause is backed, nothing is
    assert not ground("Tin rose 9%, and nickel fell 5%.", metals, q)[2]


def test_an_acronym_the_sentence_spells_out_is_no_new_name_and_brackets_are_never_cut():
    p = [P("Quarry output at the Northfield Stone Works rose 8% in May.", "q.txt", 0),
         P("Varn Mining (TSX: VRN; OTC: VRNF) will spend the loan on its Osk mill.", "v.txt", 1)]
    q = "How did quarry output change?"
    assert ground("Output at the Northfield Stone Works (NSW) rose 8% [1].", p, q)[2]
    # an acronym that spells out nothing is a name the passage must have: no passage has it, so it is cut
    text, _, ok = ground("Output at the Northfield Stone Works (NSX) rose 8% [1].", p, q)
    assert ok and text == "Output at the Northfield Stone Works rose 8% [1]."
    text, _, ok = ground("Varn Mining (TSX: VRN; OTC: VRNF) will spend the loan on its Osk mill [2].", p, "What will Varn do?")
    assert ok and text.startswith("Varn Mining (TSX: VRN; OTC: VRNF) will spend")
    assert not ground("Varn Mining (TSX: VRN; OTC: VRNF) will spend the loan on its Pell mill [2].", p, "What will Varn do?")[2]


def test_the_evidence_is_the_sentence_about_what_was_asked():
    # the answer's name is in two sentences; only the second says it is the lake's only ferry operator
    lake = P("Delta Freight cut its fleet in spring. Delta Freight, the only ferry operator on the lake, raised fares.")
    [check] = check_answer("Delta Freight is the only ferry operator on the lake [1].", [lake],
                           "Which firm is the only ferry operator on the lake?")
    ev = check.evidence[1]
    assert check.supported and lake.text[ev.start:ev.end].startswith("Delta Freight, the only ferry operator")


def test_an_aside_no_passage_backs_is_cut_and_the_rest_of_the_claim_stands():
    fair = [P("The spring fair opens on May 13-14, 2026 in Lyon, with 40 stalls.", "fair.txt", 0),
            P("Tickets cost $5 for adults (children go free).", "tickets.txt", 1)]
    q = "When and where does the spring fair open?"
    # a place, a bracketed figure or a bracketed name the model added from what it knows
    assert ground("The fair opens in Lyon, France on May 13-14, 2026 [1].", fair, q)[0] == \
        "The fair opens in Lyon on May 13-14, 2026 [1]."
    assert ground("The fair opens in Lyon (population 520,000) on May 13 [1].", fair, q)[0] == \
        "The fair opens in Lyon on May 13 [1]."
    assert ground("Tickets cost $5 for adults (Rhone Ticketing) [2].", fair, "What do tickets cost?")[0] == \
        "Tickets cost $5 for adults [2]."
    # an aside the passages back stays; so does a list, which is no aside
    assert ground("Tickets cost $5 for adults (children go free) [2].", fair, "What do tickets cost?")[0] == \
        "Tickets cost $5 for adults (children go free) [2]."
    assert not ground("The fair hosts stalls from Lyon, Geneva and Turin [1].", fair, "Who has stalls?")[2]
    # a name after a comma is an aside only when it follows a name: here it says who, and must be backed
    assert not ground("The fair opens in Lyon in spring, Mayor Dupont [1].", fair, q)[2]
    # the claim itself must still be backed: cutting the aside never saves a wrong fact
    assert not ground("The fair opens in Lyon, France on May 20 [1].", fair, q)[2]


def test_a_stray_full_stop_between_sentences_does_not_split_a_claims_facts():
    # cleaning can leave a "." on a line of its own; the name two lines down is still the next sentence
    p = [P("Ferries from Oban to Skye run twice a day,\n.\nThe operator, Caledonian Isles, added a third in June.")]
    text, _, ok = ground("Caledonian Isles runs the ferries from Oban [1].", p, "Who runs the ferries to Skye?")
    assert ok and text == "Caledonian Isles runs the ferries from Oban [1]."
