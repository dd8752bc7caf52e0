"""rag.decompose: splitting multi-part questions and spotting follow-ups (invented topics only)."""

import pytest

from rag.decompose import FUNCTION_WORDS, is_multi_part, split_question
from rag.followups import keeps_question, needs_context


@pytest.mark.parametrize("question, parts", [
    # two question clauses
    ("What did Kestrel Rail order from Dunmore Works and when does the first train arrive?",
     ["What did Kestrel Rail order from Dunmore Works?", "When does the first train arrive?"]),
    ("What is the Lumen Tunnel, and when will it open?",
     ["What is the Lumen Tunnel?", "When will the Lumen Tunnel open?"]),  # "it" is the plain name before
    # one ask about named sources
    ("Who paid for the new stadium in the Harlow Gazette piece and in the Tidewater Post interview?",
     ["Who paid for the new stadium in the Harlow Gazette piece?",
      "Who paid for the new stadium in the Tidewater Post interview?"]),
    ("What did the harbour master in Brill say in the Quill Review column and in the Dunmore Herald?",
     ["What did the harbour master in Brill say in the Quill Review column?",
      "What did the harbour master in Brill say in the Dunmore Herald?"]),
    ("What is the outlook for barley harvests according to the Farm Bureau and the Grain Council?",
     ["What is the outlook for barley harvests according to the Farm Bureau?",
      "What is the outlook for barley harvests according to the Grain Council?"]),
    ("How warm will the summer be according to Rowland and Okafor?",
     ["How warm will the summer be according to Rowland?", "How warm will the summer be according to Okafor?"]),
    ("How many homes lost power in the Morning Ledger's account compared with the Evening Star?",
     ["How many homes lost power in the Morning Ledger's account?", "How many homes lost power in the Evening Star?"]),
    ("How many seats does the arena have according to the Harlow Gazette; is this the same as in the Tidewater Post?",
     ["How many seats does the arena have according to the Harlow Gazette?",
      "How many seats does the arena have according to the Tidewater Post?"]),
    ("According to the Harlow Gazette and the Tidewater Post, when will the ferry resume?",
     ["According to the Harlow Gazette, when will the ferry resume?",
      "According to the Tidewater Post, when will the ferry resume?"]),
    ("What do both the Harlow Gazette and the Tidewater Post say about the Orla bridge?",
     ["What does the Harlow Gazette say about the Orla bridge?",
      "What does the Tidewater Post say about the Orla bridge?"]),
    ("Which ferry routes do both the Harlow Gazette weekly and the Tidewater Post harbour column list?",
     ["Which ferry routes does the Harlow Gazette weekly list?",
      "Which ferry routes does the Tidewater Post harbour column list?"]),
    ("Do both Marta Ruiz and Ola Berg expect lower fares?",
     ["Does Marta Ruiz expect lower fares?", "Does Ola Berg expect lower fares?"]),
    ("Which fares do both Marta Ruiz and Ola Berg expect to rise?",
     ["Which fares does Marta Ruiz expect to rise?", "Which fares does Ola Berg expect to rise?"]),
    ("The glacier survey is covered by both the Quill Review and the Dunmore Herald. "
     "Which findings are reported in each?",
     ["The glacier survey is covered by the Quill Review. Which findings are reported in the Quill Review?",
      "The glacier survey is covered by the Dunmore Herald. Which findings are reported in the Dunmore Herald?"]),
    # (the statement's verb keeps its plural form)
    ("Both the Harlow Gazette and the Tidewater Post cover the ferry strike. What do they say about the pay offer?",
     ["The Harlow Gazette cover the ferry strike. What does the Harlow Gazette say about the pay offer?",
      "The Tidewater Post cover the ferry strike. What does the Tidewater Post say about the pay offer?"]),
    # "of" repeated: the same thing of two owners (trial 8: one search filled every place with one firm)
    ("What were the 2024 wheat harvests of Orland and of Brask?",
     ["What were the 2024 wheat harvests of Orland?", "What were the 2024 wheat harvests of Brask?"]),
    ("What is the yearly capacity of Kell Paper's Orla mill and of Dunmore Board's planned Tay Marsh mill?",
     ["What is the yearly capacity of Kell Paper's Orla mill?",
      "What is the yearly capacity of Dunmore Board's planned Tay Marsh mill?"]),
    # an "of" inside the first part leaves "in A, and in B" as it was
    ("How much did Kell Paper raise in the first round of its offer, and in total?",
     ["How much did Kell Paper raise in the first round of its offer?", "How much did Kell Paper raise in total?"]),
])
def test_splits(question, parts):
    assert split_question(question) == parts
    assert is_multi_part(question)


@pytest.mark.parametrize("question", [
    # a later part that points back into an earlier one cannot be searched alone
    # ("How fast is it shrinking?"): the question is answered whole, with one retrieval
    "When did the Orla comet pass Earth; how bright was it at its peak?",
    "What is the depth of Lake Orla and how fast is it shrinking?",
    "What is Velora building in Hanford, and when will it open?",
    "Where did the Brindle rowing crew train? Who coached them that season?",
    "Which routes does the Harlow ferry plan add, and what would cancelling each one cost?",
    "What is Dunmore Works building, and what does the Quill Review say this will mean for Brill?",
    "Which bridges did the council close, and why were those closed?",
    "Who designed the Orla observatory, and what will this let its astronomers see?",
    # whose: "Who was their top scorer?" alone is anyone's top scorer
    "How many goals did Kestrel United score in May and who was their top scorer?",
    "Why did Lumen delay its Ohio plant, and who is its finance chief?",
    "Which novel did Ada Brell publish in 2019, and what was his review of it?",
])
def test_a_part_that_points_back_keeps_the_question_whole(question):
    assert split_question(question) == [question]
    assert not is_multi_part(question)


@pytest.mark.parametrize("question", [
    "What are the risks and opportunities for exporters?",
    "How did prices and volumes change?",
    "Who are Smith and Jones?",
    "What did the Bank of England and the ECB decide about rates?",  # a pair, not two sources
    "Why did the Bank of England act sooner compared with the ECB?",
    "Did rainfall rise in Norland and Vesk last spring?",  # "in A and B" is one place phrase
    "What happens to ticket prices when demand falls and when supply rises?",
    "What did the coach, who joined in 2019 and who once played for Dunmore, say?",
    "Which drivers crashed and why?",
    "Explain why the Lumen Tunnel flooded and what the engineers did next.",
    "When does the Orla festival open, and is it free?",  # "is it free?" cannot stand alone
    "How did ridership in the north and in the Vesk valley change after the fare cut?",  # B runs on into the ask
    "Who won? Who lost?",  # under 6 words
    "Did both prices and volumes rise at Velora?",  # "both" over common nouns, not sources
    "What was the share of men and women in the Orla survey?",  # "of" once: one phrase
])
def test_does_not_split(question):
    assert split_question(question) == [question]
    assert not is_multi_part(question)


def test_at_most_three_parts():
    q = ("What did Velora build, and where did Brindle invest, and who did Kestrel hire, "
         "and when did Dunmore open its plant?")
    assert len(split_question(q)) == 3
    assert split_question("How deep is Lake Orla according to the Quill, the Herald and the Ledger?") == [
        "How deep is Lake Orla according to the Quill?", "How deep is Lake Orla according to the Herald?",
        "How deep is Lake Orla according to the Ledger?"]


@pytest.mark.parametrize("question", [
    "What did she say about the merger?",
    "Why did they close the plant?",
    "And the silver medal?",
    "What about the Rivermoor dam?",
    "How about next season?",
    "Why?",
    "And then?",
    "When did it open?",
    "What happened there?",
    "What are its main exports?",
    "Why did that happen?",
    "What did the minister say about it?",
    "What does this mean for Velora's suppliers?",
    "Which of them grew faster?",
    "Tell me more.",
    "But the Dunmore Herald?",
    "What did Marta Ruiz find there?",
])
def test_needs_context(question):
    assert needs_context(question)


@pytest.mark.parametrize("question", [
    "Is it true that Brindle Foods closed its Hanford bakery?",
    "How long did it take to build the Orla bridge?",
    "Are there plans for a second terminal at Kestrel Airport?",
    "How did Brindle Foods change its prices in 2022?",
    "How much did ticket sales rise this year in Harlow?",
    "Who announced that the Hanford plant would close?",
    "When did Marta Ruiz join Fennick, and what did she change?",
    "How many goals did Kestrel United score in May, and who was their top scorer?",
    "And how much did Dextra Mining pay for the Kallo quarry in 2021?",
    "How did the council justify their decision on the tram line?",
    "Why did Marta Ruiz say she would resign from Fennick?",
    "Why did the festival director sell her stake in the Orla festival?",
    "What is planned for this year at Kestrel Airport?",
    "What did the harbour board decide in May, and why was that delayed?",
    "Who said that fares would rise and what evidence did they give?",
    "The Kestrel ferry fleet grew to forty boats in 2023; how many of them run on batteries?",
])
def test_stands_alone(question):
    assert not needs_context(question)


def test_keeps_question_rejects_a_rewrite_that_drops_half():
    q = "How many visitors did the Orla museum get in June, and what was the ticket price?"
    assert not keeps_question(q, "What was the ticket price in June?")
    assert not keeps_question(q, "How many visitors did the Orla museum get in June and what was the price?")
    assert keeps_question(q, q)


def test_keeps_question_allows_resolving_pronouns_and_ellipsis():
    assert keeps_question("What did she say about it?", "What did Marta Ruiz say about the Orla bridge?")
    assert keeps_question("And the silver medal?", "Who won the silver medal in the Dunmore marathon?")
    assert keeps_question("What were its visitor numbers?", "What were the Orla museum's visitor numbers in June?")
    assert not keeps_question("Why did they close the plant?", "Why did Brindle Foods shut down?")
    assert not keeps_question("And the silver medal?", "")
    # words are compared by crude stems: tense, plural and possessive may change
    assert keeps_question("How much did the Velora fund gain on the Dunmore exchange?",
                          "What were the Velora fund's gains on the Dunmore exchanges?")


def test_keeps_question_multi_part_must_stay_multi_part():
    q = "What is the Lumen Tunnel, and when will it open?"
    assert keeps_question(q, "What is the Lumen Tunnel, and when will the Lumen Tunnel open?")
    assert not keeps_question(q, "When will the Lumen Tunnel open?")  # every word kept, one part lost


def test_stop_words_are_function_words():
    assert {"the", "and", "what", "it", "they", "about", "did"} <= FUNCTION_WORDS
    assert not {"price", "gain", "say", "october"} & FUNCTION_WORDS


def test_in_a_conversation_a_question_that_names_nothing_is_read_in_it():
    """Trial 6: "How much of the money came from central government?" after a question about a
    flood wall was searched across the whole corpus. A question that names its subject, or a
    first question, is searched as asked."""
    from rag.followups import needs_conversation

    wall = [{"role": "user", "content": "How many homes does the new Orla flood wall protect?"},
            {"role": "assistant", "content": "It protects 1,350 homes in Orla."}]
    assert needs_conversation("How much of the money came from central government?", wall)
    assert needs_conversation("Which household received the biggest share?", wall)
    assert needs_conversation("When did it open?", wall)  # a pronoun, as before
    assert not needs_conversation("How much did the Kestrel tram line cost?", wall)  # names its subject
    assert not needs_conversation("What did the council decide in 2021?", wall)  # a figure or a year counts as naming
    assert not needs_conversation("How much of the money came from central government?", [])


def test_in_a_conversation_a_question_that_opens_with_a_conjunction_continues_it():
    """Trial 8: "And what did the UPDATE 1 report later that day say?" names a report, so it was
    searched as asked, without what the conversation asked about (the number trapped)."""
    from rag.followups import needs_conversation

    asked = [{"role": "user", "content": "How many workers did the first Orla report say were evacuated?"},
             {"role": "assistant", "content": "It said 40 workers were evacuated."}]
    assert needs_conversation("And what did the Tay Herald's later report say?", asked)
    assert needs_conversation("But how many were in the Kestrel plant in 2024?", asked)
    assert not needs_conversation("And what did the Tay Herald's later report say?", [])  # a first question
    assert not needs_conversation("Andrew Moss chairs which board in Orla?", asked)  # a name, not "and"


def test_a_later_part_that_names_nothing_is_about_the_names_before_it():
    """Trials 5 and 7: "What was the final fine?" and "Who is second?", split off a question, were
    searched across the whole corpus and answered from another article."""
    from rag.decompose import subject_of

    parts = split_question("What fine did the ICO propose for Brannock Dairy, and what was the final fine?")
    assert parts == ["What fine did the ICO propose for Brannock Dairy?", "What was the final fine?"]
    assert subject_of(parts, parts[1]) == "ICO, Brannock Dairy"
    assert subject_of(parts, parts[0]) == ""  # the first part is searched as it is
    parts = split_question("Who won the Orla Cup in 2024, and where did Mira Voss finish?")
    assert subject_of(parts, parts[1]) == ""  # it names its own subject
    parts = split_question("Who funded the walking study, and how large was the grant?")
    assert subject_of(parts, parts[1]) == ""  # nothing to carry


@pytest.mark.parametrize("question, parts", [
    ("How many ferries were refitted and how many were sold in 2025?",
     ["How many ferries were refitted?", "How many ferries were sold in 2025?"]),
    ("How much barley did the cooperative store in March, and how much was shipped to Dunmore?",
     ["How much barley did the cooperative store in March?", "How much barley was shipped to Dunmore?"]),
    # no noun to carry: the part is left as it is
    ("How many did the club sign in June, and how many were loaned out?",
     ["How many did the club sign in June?", "How many were loaned out?"]),
])
def test_a_count_without_its_noun_counts_what_the_part_before_it_counted(question, parts):
    assert split_question(question) == parts
