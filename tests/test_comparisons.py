"""A question that chooses between named things ("Which cost more, A or B?") is searched once per
thing, so the model is shown both: one search for both found the one that matched more of its
words, and the other article was never shown. Articles and questions written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import Assistant
from rag.decompose import comparison_options, split_question

from conftest import write_corpus


@pytest.mark.parametrize("question, options", [
    ("Which cost more: the Halden ring road or the Marsh Lane tunnel?",
     ["Which cost more: the Halden ring road?", "Which cost more: the Marsh Lane tunnel?"]),
    ("Which is older, the Corran Bridge or the Tay Hall, and when were they built?",
     ["Which is older, the Corran Bridge, and when were they built?",
      "Which is older, the Tay Hall, and when were they built?"]),
    ("Who polled more votes, Ana Ruiz or Tom Hale?", ["Who polled more votes, Ana Ruiz?", "Who polled more votes, Tom Hale?"]),
])
def test_the_options_a_question_chooses_between(question, options):
    assert comparison_options(question) == options
    assert split_question(question) == [question]  # answered whole: the model compares


@pytest.mark.parametrize("question", [
    "Which is cheaper, renting or buying?",  # no named thing
    "What did the council spend on roads or bridges?",  # no choice set off by a comma
    "Which firm, according to the filing, bought the mill or the quarry?",
    "How long was the Halden ring road?",
])
def test_no_options(question):
    assert comparison_options(question) == []


# the ring road's articles are long and say "cost", "more" and even "Marsh Lane" in every part: one
# search for the whole question fills every place with them, and the tunnel's short article is not shown
_ROAD_PARTS = [
    "The Halden ring road opened to traffic on Monday, eleven months late and costing more than planned.",
    "The Halden ring road cost £212 million in all, the county council said, more than its budget of £180 million.",
    "Councillors asked why the Halden ring road cost more: the council blamed steel prices and a wet winter.",
    "The cost of the Halden ring road's two bridges rose more than any other part of the scheme, by £14 million.",
    "Drivers on the Halden ring road will save about nine minutes at peak times between Marsh Lane and the port.",
    "The new Marsh Lane junction of the Halden ring road cost more than the council first said.",
    "The Halden ring road's cycle path, which cost £6 million more than first thought, opens in the spring.",
]
_ROAD = "Halden ring road opens at last\n\n" + "\n\n".join(" ".join([s] * 3) for s in _ROAD_PARTS) + "\n"
# more articles on the ring road's cost: letters, a council report, a traffic count
_ROAD_MORE = {f"road{i}.txt": f"{title}\n\n" + "\n\n".join(" ".join([s] * 2) for s in _ROAD_PARTS[i:] + _ROAD_PARTS[:i]) + "\n"
              for i, title in enumerate(["Letters: the ring road's cost", "Council report on the Halden ring road",
                                         "Ring road traffic counts", "Why the ring road cost more"], start=1)}
_TUNNEL = ("Boring finished under the river\n\nBoring of the Marsh Lane tunnel finished on Friday, the contractor said.\n\n"
           "Its price so far is £96 million; trains are due through it in 2027.\n")


def test_a_comparison_is_shown_both_articles(tmp_path: Path, embedder):
    files = {"road.txt": _ROAD, "tunnel.txt": _TUNNEL} | _ROAD_MORE
    corpus = write_corpus(tmp_path / "corpus", files)
    a = Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder)
    question = "Which cost more: the Halden ring road or the Marsh Lane tunnel?"
    shown = a.shown(question)
    sources = {p.source for p in shown}
    assert "tunnel.txt" in sources and any(s.startswith("road") for s in sources)
    assert len(shown) <= a.config.k and [p.rank for p in shown] == list(range(1, len(shown) + 1))
    assert len({p.chunk_id for p in shown}) == len(shown)
