"""Questions that name an article are searched in that article (rag.scope). Examples are written
for these tests, on made-up outlets and events."""

from __future__ import annotations

from rag import Assistant
from rag.scope import (document_references, pick_articles, reference_words, scoped_reference, with_conversation_scope,
                       without_reference)

from conftest import write_corpus

TITLES = {
    "harbour": "Harbour Daily: Dockworkers Strike Enters Second Week harbour.txt",
    "ledger": "Coastal Ledger: Port Strike Costs Mount for Exporters ledger.txt",
    "budget": "Budget Week: Council Approves Port Budget budget.txt",
}


def test_a_reference_is_the_words_right_before_the_document_noun():
    assert document_references("What did the union demand in the Harbour Daily piece?") == ["Harbour Daily"]
    assert document_references("Who chairs the board, according to the Coastal Ledger?") == ["Coastal Ledger"]
    # "the strike in the Harbour Daily article" names Harbour Daily, not "strike in the Harbour Daily"
    assert document_references("When did the strike in the Harbour Daily article begin?") == ["Harbour Daily"]
    # a capitalised noun belongs to the name
    assert document_references("What rose in the week covered by the Freight Report?") == ["Freight Report"]
    assert document_references("What did the union demand?") == []
    assert document_references("Who was crowned in 1066, according to the article?") == []


def test_hyphenated_words_and_abbreviations_match_by_their_parts():
    assert reference_words("the three-year-high") == reference_words("Three-Year High")
    assert reference_words("U.K.-Irish talks") == reference_words("UK Irish Talks")


def test_one_reference_scopes_two_or_a_comparison_do_not():
    assert scoped_reference("How many ships are idle, according to the Harbour Daily piece?") == "Harbour Daily"
    assert scoped_reference("What do the Harbour Daily piece and the Coastal Ledger report say about wages?") is None
    assert scoped_reference("How many ships are idle in the Harbour Daily piece, compared with the port's own count?") is None
    assert scoped_reference("Is the strike longer than the one in the Harbour Daily piece?") is None


def test_the_document_name_gives_way_to_the_plain_noun():
    assert without_reference("What does the Harbour Daily piece say about wages?", "Harbour Daily") == \
        "What does the piece say about wages?"
    assert without_reference("Who chairs the board, according to the Coastal Ledger?", "Coastal Ledger") == \
        "Who chairs the board, according to the article?"
    assert without_reference("What rose in the week covered by the Freight Report?", "Freight Report") == \
        "What rose in the week covered by the report?"
    # a reference that is not in the question leaves it as it is
    assert without_reference("What rose?", "Freight Report") == "What rose?"


def test_a_follow_up_stays_in_the_article_the_conversation_named():
    asked = [{"role": "user", "content": "In the Harbour Daily piece, how many ships were waiting?"},
             {"role": "assistant", "content": "40 ships were waiting."}]
    assert with_conversation_scope("How many trucks were waiting?", asked) == \
        "How many trucks were waiting in the Harbour Daily piece?"
    # the fallback form, the follow-up with the last answer beside it: the scope goes with the question
    assert with_conversation_scope("And trucks? (40 ships were waiting.)", asked) == \
        "And trucks in the Harbour Daily piece? (40 ships were waiting.)"
    according = [{"role": "user", "content": "Who chairs the board, according to the Coastal Ledger?"}]
    assert scoped_reference(with_conversation_scope("Who is her deputy?", according)) == "Coastal Ledger"
    outlet = [{"role": "user", "content": "What did rents do according to Harbour Daily and why?"}]
    assert with_conversation_scope("And wages?", outlet) == "And wages according to Harbour Daily?"
    # a follow-up that names its own document, or compares, keeps its own reach
    assert with_conversation_scope("How many in the Budget Week report?", asked) == "How many in the Budget Week report?"
    assert with_conversation_scope("Is that more than last year?", asked) == "Is that more than last year?"
    # a conversation about no article, or about two, gives no scope
    unscoped = [{"role": "user", "content": "How many ships were waiting?"}]
    assert with_conversation_scope("And trucks?", unscoped) == "And trucks?"
    two = [{"role": "user", "content": "What do the Harbour Daily piece and the Coastal Ledger report say?"}]
    assert with_conversation_scope("And trucks?", two) == "And trucks?"


def test_a_follow_up_is_answered_from_the_article_the_conversation_named(tmp_path, embedder):
    from rag.llm import ChatModel

    class ScriptedModel(ChatModel):
        """Rewrites the follow-up without its article, as small models do, then answers."""

        def __init__(self, replies: list[str]):
            self.replies = replies

        def stream(self, messages, *, max_tokens, temperature, seed, stop=None):
            yield self.replies.pop(0)

        def judge(self, messages, *, seed=42):
            return 0.9

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "harbour.txt").write_text("Harbour Daily: Dockworkers Strike\n\nThe union said 40 ships and 12 trucks were waiting.\n")
    (corpus / "ledger.txt").write_text("Coastal Ledger: Port Strike Drags On\n\nOfficials counted 90 trucks waiting at the gate.\n")
    model = ScriptedModel(["How many trucks were waiting?", "12 trucks were waiting [1]."])
    a = Assistant(corpus=corpus, index_dir=tmp_path / "i", llm=model, embedder=embedder, judge_threshold=0.5)
    history = [{"role": "user", "content": "How many ships were waiting, according to the Harbour Daily piece?"},
               {"role": "assistant", "content": "40 ships were waiting."}]
    answer = a.ask("And trucks?", history=history)
    assert answer.standalone_question == "How many trucks were waiting in the Harbour Daily piece?"
    assert answer.scope == ("Harbour Daily: Dockworkers Strike",)
    assert {p.source for p in answer.passages} == {"harbour.txt"}
    assert not answer.refused and answer.citations[0].passage.source == "harbour.txt"


def test_the_article_whose_title_holds_the_reference_is_picked():
    assert pick_articles("Harbour Daily", TITLES) == {"harbour"}
    assert pick_articles("Coastal Ledger", TITLES) == {"ledger"}
    # "port" is in two titles: both are searched, the third is not
    assert pick_articles("port", TITLES) == {"ledger", "budget"}
    # a word in no title at all: not scoped
    assert pick_articles("legend", TITLES) == set()


def test_a_word_of_the_body_breaks_a_tie_between_titles():
    texts = {"harbour": "The dockworkers' union said 40 ships sat idle.", "ledger": "Exporters lost money.",
             "budget": "The council approved the budget."}
    # "strike" is in two titles; "dockworkers" is only in one, and in its body: the Harbour article wins
    assert pick_articles("dockworkers strike", TITLES, texts) == {"harbour"}
    # without any article standing out nothing is scoped, whatever the bodies say
    assert pick_articles("Port", {"a": "Port News a.txt", "b": "Port Times b.txt"}, {}) == set()


def test_retrieval_searches_only_the_article_the_question_names(tmp_path, embedder):
    corpus = write_corpus(tmp_path / "ports", {
        "harbour.txt": "Harbour Daily: Dockworkers Strike Enters Second Week\n\n"
                       "The dockworkers' strike at Port Elsa entered its second week on Monday. The union said 40 "
                       "ships were waiting at anchor. Talks with the port authority resume on Friday.\n",
        "ledger.txt": "Coastal Ledger: Ships Idle as Port Elsa Strike Drags On\n\n"
                      "How many ships has the Port Elsa strike left idle? Port officials counted 55 ships idle at "
                      "anchor on Monday as the strike at Port Elsa dragged on, and exporters said the idle ships "
                      "cost them dearly.\n",
        "budget.txt": "Budget Week: Council Approves Harbour Road Budget\n\n"
                      "The council approved a budget of 12 million for the harbour road on Tuesday.\n"})
    a = Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder)
    question = "How many ships has the Port Elsa strike left idle, according to the Harbour Daily piece?"
    scoped = a.retrieve(question, k=3)
    assert scoped and {p.source for p in scoped} == {"harbour.txt"}
    a.config = a.config.replace(scope_articles=False)
    unscoped = a.retrieve(question, k=3)
    assert unscoped[0].source == "ledger.txt"  # without the scope the other outlet's story ranks first
    a.config = a.config.replace(scope_articles=True)
    # no article named: every article is searched
    assert {p.source for p in a.retrieve("How many ships has the Port Elsa strike left idle?", k=3)} >= {
        "harbour.txt", "ledger.txt"}


def test_an_answer_says_which_article_it_was_confined_to(tmp_path, embedder):
    from rag.llm import ChatModel
    from ui.render import render_answer, trim_answer

    class ScriptedModel(ChatModel):
        def __init__(self, reply: str, p_yes: float):
            self.reply, self.p_yes = reply, p_yes

        def stream(self, messages, *, max_tokens, temperature, seed, stop=None):
            yield self.reply

        def judge(self, messages, *, seed=42):
            return self.p_yes

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "harbour.txt").write_text("Harbour Daily: Dockworkers Strike\n\nThe union said 40 ships were waiting.\n")
    (corpus / "ledger.txt").write_text("Coastal Ledger: Port Strike Drags On\n\nOfficials counted 55 idle ships.\n")
    model = ScriptedModel("The union said 40 ships were waiting [1].", p_yes=0.9)
    a = Assistant(corpus=corpus, index_dir=tmp_path / "i", llm=model, embedder=embedder, judge_threshold=0.5)
    answer = a.ask("How many ships were waiting, according to the Harbour Daily piece?")
    assert answer.scope == ("Harbour Daily: Dockworkers Strike",)
    assert {p.source for p in answer.passages} == {"harbour.txt"}
    assert "Searched only in" in render_answer(answer, 0) and trim_answer(answer)["scope"] == list(answer.scope)
    assert a.ask("How many ships were waiting?").scope == ()


def test_within_the_named_article_its_name_does_not_rank_the_passages(tmp_path, embedder):
    # the outlet's name fills its sign-off, never the sentence with the fact
    sign_off = ("Do you read the Harbour Daily? The Harbour Daily is the port's weekly digest, sent to every "
                "Harbour Daily member.")
    piers = lambda ns: " ".join(f"Pier {n} was repainted in {1990 + n} by a crew of {n + 3} workers." for n in ns)
    corpus = write_corpus(tmp_path / "news", {
        "harbour.txt": f"Harbour Daily: Notes From the Waterfront\n\n{sign_off}\n\n{piers(range(8))}\n\n"
                       f"The ferry was called the slowest in the region by its own captain. {piers(range(8, 16))}"
                       f"\n\n{sign_off}\n",
        "ledger.txt": "Coastal Ledger: Exporters Count the Cost\n\nExporters said the ferry raised freight rates.\n"})
    a = Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder)
    question = "How is the ferry described, according to the Harbour Daily?"
    first = a.retrieve(question, k=2)[0]
    assert first.source == "harbour.txt" and "slowest" in first.text
    # asking for more passages than the article has ranks them the same way
    every = a.retrieve(question, k=8)
    assert len(every) < 8 and {p.source for p in every} == {"harbour.txt"} and "slowest" in every[0].text
    assert "slowest" in " ".join(p.text for p in a.shown(question, k=2))
