"""Fusion of dense and lexical retrieval: a decisive rare-term match wins, ordinary queries fuse.

Unit tests use the real BM25 retriever (tantivy, in RAM) over an in-memory store and a fake
dense retriever with fixed scores (no model). The integration test runs a small code-word probe
(scripts/codeword_probe.py) with the real embedder.
"""

from __future__ import annotations

import importlib.util
import sys
import numpy as np
import pytest

from rag.config import Config
from rag.errors import RagError
from rag.passages import near_the_best, nothing_close
from rag.retrieval import (BM25Retriever, FusionRetriever, FusionSettings, Lexicon, Retriever, minmax, rrf, tokenize,
                           top_rows, zscore)
from rag.store.memory import MemoryStore
from rag.types import Chunk, Passage

from conftest import ROOT

DEFAULT = FusionSettings.from_config(Config())


def store_of(texts: list[str]) -> MemoryStore:
    """Chunks titled alike in an in-memory store: key i + 1 is ``texts[i]``."""
    return MemoryStore([Chunk(f"r.txt:{i}", "r.txt", "r.txt", "Quarterly report", None, t, 0, len(t), 0, str(i))
                        for i, t in enumerate(texts)])


def FakeIndex(texts: list[str]) -> MemoryStore:  # noqa: N802 (the tests' old name)
    return store_of(texts)


class FixedDense(Retriever):
    """A dense retriever whose cosine scores are given, whatever the query; keys are positions + 1."""

    def __init__(self, scores: list[float]):
        self.scores = np.array(scores, dtype=float)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        return [(r + 1, s) for r, s in top_rows(self.scores, k)]


def lookalike_corpus(n: int = 40) -> tuple[list[str], list[float], int]:
    """Chunks that all mention a "code word"; some twice. Row ``target`` alone holds "zq120x",
    and the dense scores rank the chunks naming the code word twice first, the target mid-field."""
    texts, dense = [], []
    for i in range(n):
        twice = i % 5 == 0
        extra = " A new code word is issued with every code word change." if twice else ""
        texts.append(f"Revenue rose {i}% in the quarter. The code word for this report is "
                     f"ab{100 + i}c.{extra} Questions go to investor relations.")
        dense.append(0.60 - 0.002 * i + (0.08 if twice else 0.0))
    target = 17
    texts[target] = texts[target].replace(f"ab{100 + target}c", "zq120x")
    dense[target] = 0.50  # the embedder barely tells identifiers apart
    return texts, dense, target


def fusion(texts: list[str], dense: list[float], settings: FusionSettings = DEFAULT) -> FusionRetriever:
    return FusionRetriever([FixedDense(dense), BM25Retriever(FakeIndex(texts))], settings=settings)


def rows(hits: list[tuple[int, float]]) -> list[int]:
    """Positions in the texts of the hits' keys."""
    return [key - 1 for key, _ in hits]


def test_decisive_rare_term_match_wins_under_the_default():
    texts, dense, target = lookalike_corpus()
    lexical = BM25Retriever(FakeIndex(texts)).search("What is the code word zq120x?", 5)
    assert rows(lexical)[0] == target and lexical[0][1] > 2 * lexical[1][1]  # BM25's lead is decisive
    assert rows(fusion(texts, dense).search("What is the code word zq120x?", 4))[0] == target
    # plain RRF sees only ranks: chunks ranked well by both retrievers push the target out
    plain = fusion(texts, dense, FusionSettings(method="rrf", lexical_weight=0.5, rare_boost=0.0))
    assert target not in rows(plain.search("What is the code word zq120x?", 4))


def test_ordinary_queries_still_fuse():
    texts = ["Copper prices rose as smelters cut output in the third quarter.",
             "Aluminium output fell after power shortages at smelters.",
             "The central bank left interest rates unchanged on Tuesday.",
             "Smelters cut copper output as ore grades declined.",
             "Shipping rates climbed on strong demand for grain.",
             "Refiners of the red metal reduced production as ore quality fell.",
             "Glossary: smelters, output, cut-off grade."]
    dense = [0.60, 0.45, 0.10, 0.58, 0.12, 0.66, 0.20]
    got = rows(fusion(texts, dense).search("Why did smelters cut copper output?", 4))
    assert set(got[:2]) == {0, 3}  # good for both beats the favourite of either alone
    assert 5 in got  # the embedder's favourite shares no word with the query and still makes the cut


def test_rrf_is_still_available_and_weighted():
    fused = rrf([[1, 2, 3], [3, 1]], [1.0, 1.0], c=60)
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62) and fused[2] == pytest.approx(1 / 62)
    weighted = rrf([[1, 2, 3], [3, 1]], [0.2, 0.8], c=60)
    assert max(weighted, key=weighted.get) == 3
    texts, dense, _ = lookalike_corpus()
    plain = fusion(texts, dense, FusionSettings(method="rrf"))
    assert plain.weights == [0.5, 0.5] and len(plain.search("code word", 4)) == 4


def test_rare_terms_are_rare_or_hold_digits():
    lex = Lexicon.build([tokenize(t) for t in ("copper output fell 3%", "copper output rose in 2024",
                                               "copper price steady", "nickel output rose")])
    rare = lex.rare_terms(tokenize("Did copper output in 2024 beat nickel and zinc?"), max_share=0.25)
    assert set(rare) == {"2024", "nickel"}  # copper/output are common; zinc is in no chunk
    assert lex.rare_terms(["copper"], max_share=1.0)  # any term counts when every share does
    cover = lex.coverage([0, 1, 3], rare)
    assert cover[0] == 0 and 0 < cover[1] < 1 and 0 < cover[2] < 1


def test_rare_boost_lifts_the_chunk_holding_the_rare_terms():
    texts = ["Copper demand rose in 2023 as demand for cables grew.", "Copper prices rose in 2024 on strong demand.",
             "Copper demand was strong as cable makers restocked.", "Shipping rates climbed on grain exports.",
             "The central bank left rates unchanged.", "Oil prices fell on rising supply.",
             "Wheat harvests improved in the north.", "A new port opened in the south."]
    dense = [0.70, 0.50, 0.66, 0.10, 0.05, 0.60, 0.10, 0.05]  # the other year's chunk reads closest
    question = "How strong was copper demand in 2024?"
    plain = fusion(texts, dense, FusionSettings(method="rrf", rare_boost=0.0))
    boosted = fusion(texts, dense, FusionSettings(method="rrf", rare_boost=1.0, rare_df=0.005))
    assert rows(plain.search(question, 1)) == [0]
    assert rows(boosted.search(question, 3)) == [1, 0, 2]  # the year decides; the rest keep their order
    assert rows(fusion(texts, dense).search(question, 1)) == [1]  # the default gets there on the size of BM25's lead


def test_a_year_many_chunks_hold_or_a_reports_day_does_not_decide():
    """A results call's every header says "2026": counted as rare, the year alone lifted every
    chunk holding it over the one that answers; so did the "14" of "the 14 March report" for a
    chunk about "14 percent" (held-out trial 8)."""
    texts = [f"Harbour Lines results call, 2026, part {i}." for i in range(6)]
    texts += ["ANALYST Ruth Ames: a question on the Orrin bridge.", "Fares rose 14 percent, the report said.",
              "The Orrin bridge opens in 2029.", "Wheat harvests improved in the north."]
    dense = [0.50] * 6 + [0.45, 0.40, 0.30, 0.05]
    question = "Which analyst asked about the Orrin bridge on the 2026 call?"
    every_year = FusionSettings(rare_digit_df=1.0)  # as before: any year is rare
    assert rows(fusion(texts, dense, every_year).search(question, 1)) != [6]
    settings = FusionSettings()  # the default: z-scores, the rare-term boost on
    assert rows(fusion(texts, dense, settings).search(question, 1)) == [6]
    lex = Lexicon.build([tokenize(t) for t in texts])
    assert "2026" not in lex.rare_terms(tokenize(question), 0.005, 0.1)  # 6 of 10 chunks
    assert "2029" in lex.rare_terms(["2029"], 0.005, 0.1)  # one chunk: rare in any corpus
    day = "What did the 14 March report say about the Orrin bridge question?"
    assert rows(fusion(texts, dense, settings).search(day, 1)) == [6]


def test_normalisers_and_settings_errors(monkeypatch):
    assert minmax(np.array([2.0, 2.0])).tolist() == [0.0, 0.0]
    assert zscore(np.array([1.0, 1.0, 1.0])).tolist() == [0.0, 0.0, 0.0]
    assert minmax(np.array([1.0, 3.0])).tolist() == [0.0, 1.0]
    with pytest.raises(RagError, match="fusion='borda'"):
        FusionSettings(method="borda")
    with pytest.raises(RagError, match="lexical_weight=1.5"):
        FusionSettings(lexical_weight=1.5)
    monkeypatch.setenv("RAG_FUSION", "minmax")  # without settings, the retriever reads the config
    monkeypatch.setenv("RAG_CANDIDATES", "7")
    retriever = FusionRetriever([FixedDense([0.1, 0.2])])
    assert retriever.settings.method == "minmax" and retriever.depth == 7


def _probe_module(monkeypatch):
    spec = importlib.util.spec_from_file_location("codeword_probe", ROOT / "scripts" / "codeword_probe.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "codeword_probe", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.integration
def test_code_word_probe_finds_every_chunk(tmp_path, embedder, monkeypatch):
    for name in ("fusion", "lexical_weight", "rare_boost", "rare_df", "candidates", "hybrid"):
        monkeypatch.delenv(f"RAG_{name.upper()}", raising=False)
    probe = _probe_module(monkeypatch)
    reports = probe.make_reports(60)
    corpus = probe.write_corpus(reports, tmp_path / "corpus")
    assistant = probe.assistant_for(corpus, tmp_path / "index", {}, embedder)
    assert assistant.config.fusion == Config().fusion
    hits, missed = probe.run_probe(assistant, probe.questions(reports, 5), k=4)
    assert hits == 5, f"code words not in the top 4: {missed}"


def _ranked(*scores: tuple[float, float]) -> list[Passage]:
    """Passages in rank order with the given (cosine, fused) scores."""
    return [Passage(f"a.txt:{i}", "a.txt", "T", None, f"text {i}", 0, 6, cos, i + 1, fused)
            for i, (cos, fused) in enumerate(scores)]


def test_near_the_best_keeps_the_first_and_those_close_to_it_by_either_score():
    ps = _ranked((0.60, 3.0), (0.55, 1.0), (0.40, 2.5), (0.40, 1.0))
    kept = near_the_best(ps, cosine_gap=0.07, fused_gap=1.0)
    # the second is close by cosine, the third by fused score, the fourth by neither
    assert [p.rank for p in kept] == [1, 2, 3]
    assert [p.rank for p in near_the_best(ps, cosine_gap=0.07, fused_gap=None)] == [1, 2]
    assert [p.rank for p in near_the_best(ps, cosine_gap=None, fused_gap=1.0)] == [1, 3]


def test_near_the_best_never_drops_the_first_even_when_a_later_one_scores_higher():
    # a decisive keyword match ranks first with a low cosine: it stays, and so do the ones above it
    ps = _ranked((0.30, 5.0), (0.65, 1.0), (0.20, 0.5))
    assert [p.rank for p in near_the_best(ps, cosine_gap=0.07, fused_gap=1.0)] == [1, 2]


def test_near_the_best_with_no_gap_or_an_infinite_one_keeps_every_passage():
    ps = _ranked((0.9, 4.0), (0.1, -1.0), (0.0, -2.0))
    assert near_the_best(ps, None, None) == ps
    assert near_the_best(ps, float("inf"), 0.0) == ps
    assert near_the_best([], 0.07, 1.0) == []


def test_passage_gaps_must_not_be_negative():
    with pytest.raises(RagError, match="passage_cosine_gap=-0.1"):
        Config().replace(passage_cosine_gap=-0.1)
    with pytest.raises(RagError, match="passage_fused_gap"):
        Config().replace(passage_fused_gap=float("nan"))
    with pytest.raises(RagError, match="trim_below=-0.4"):
        Config().replace(trim_below=-0.4)


def _scored(text: str, cosine: float, title: str = "Dam spillway reopens") -> Passage:
    return Passage("d.txt:0", "d.txt", title, None, text, 0, len(text), cosine, 1, cosine)


def test_a_question_whose_names_a_passage_holds_is_not_refused_for_a_low_similarity():
    # a question about a person scores low against the passage that names her, whose other
    # words are about a dam: the name is what says the corpus speaks of her
    said = _scored("The river will run at its usual level, said Dr. Ines Okafor, a hydrologist at the "
                   "Northgate Water Institute.", 0.07)
    assert not nothing_close("Where does Dr. Ines Okafor work?", [said], refuse_below=0.2)
    assert not nothing_close("Where does she work? (Ines Okafor)", [said], refuse_below=0.2)
    # every name must be there, in one passage: a namesake is not enough
    assert nothing_close("Where does Dr. Ines Baptiste work?", [said], refuse_below=0.2)
    # a question without names rests on the similarity alone
    assert nothing_close("Can you give me a recipe for sourdough bread?", [said], refuse_below=0.2)
    assert not nothing_close("How fast is the water released?", [_scored("Water flows at 40 m3/s.", 0.45)], 0.2)
    assert nothing_close("Who won the 2022 FIFA World Cup?", [], refuse_below=0.2)


def test_copies_of_one_text_take_one_of_the_k_places(tmp_path, embedder):
    from rag import Assistant

    wire = ("Ferry Operator Adds Winter Sailings\n\nThe ferry operator added three evening sailings to Holm Island "
            "on Tuesday. Fares stay at 12 euros.\n")
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name in ("site-a.txt", "site-b.txt", "site-c.txt"):  # one wire story syndicated to three sites
        (corpus / name).write_text(wire)
    (corpus / "other.txt").write_text("Harbour Council Votes On Pier\n\nThe harbour council voted on Monday to "
                                      "repair the old pier at Holm Island before the winter storms.\n")
    a = Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder)
    passages = a.retrieve("How many evening sailings were added to Holm Island?", k=2)
    assert len(passages) == 2 and len({" ".join(p.text.split()) for p in passages}) == 2
    assert passages[0].source.startswith("site-") and passages[1].source == "other.txt"
    # confined to the story's title, which all three copies carry: one passage, not three
    scoped = a.retrieve("What do fares cost, according to the Ferry Operator Adds Winter Sailings piece?", k=2)
    assert len(scoped) == 1 and scoped[0].source.startswith("site-")
