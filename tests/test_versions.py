"""Two versions of one document (a draft and its final): the model is shown the newer one's
passages only, unless the question names what sets the older apart. Examples written for the test."""

from __future__ import annotations

from rag import Assistant

_BODY = ("The harbour board reviewed three bids for the dredging of the outer channel. Tidewater Marine, "
         "Calder Dredging and Northsea Works each submitted a priced proposal by the January deadline. "
         "The panel scored each bid on method, programme and price, with price weighted at forty per cent. "
         "Work is due to begin in the spring so that the channel is at full depth before the summer sailings. "
         "The board will publish the award notice once the standstill period has ended.")


def _corpus(tmp_path, draft_date: str = "3 February 2026"):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "dredging memo draft.txt").write_text(
        f"Dredging contract award memo (draft)\n{draft_date}\n\n{_BODY}\n"
        "The panel recommends Calder Dredging at a price of 2.9 million pounds.\n")
    (corpus / "dredging memo final.txt").write_text(
        f"Dredging contract award memo\n17 February 2026\n\n{_BODY}\n"
        "The panel recommends Tidewater Marine at a price of 2.3 million pounds after a corrected bid.\n")
    (corpus / "ferry timetable.txt").write_text(
        "Winter ferry timetable published\n10 February 2026\n\nThe harbour board published the winter ferry "
        "timetable, with four sailings a day to Skerry Point and a late boat on Fridays.\n")
    return corpus


def _sources(assistant: Assistant, question: str) -> set[str]:
    return {p.source for p in assistant.retrieve(question, k=4)}


def test_a_draft_gives_way_to_its_final(tmp_path, embedder):
    assistant = Assistant(corpus=_corpus(tmp_path), index_dir=tmp_path / "i", embedder=embedder)
    shown = _sources(assistant, "Which bidder does the panel recommend for the dredging contract?")
    assert "dredging memo final.txt" in shown and "dredging memo draft.txt" not in shown
    # the question names the draft: its passages are what it asks about (searched among all
    # articles, and when the question names it as an article, within it alone)
    assert "dredging memo draft.txt" in _sources(assistant, "What price did the draft give for the recommended dredging bid?")
    assert "dredging memo draft.txt" in _sources(assistant, "Which bidder did the draft memo recommend for the dredging?")


def test_versions_of_one_day_both_stay(tmp_path, embedder):
    corpus = _corpus(tmp_path, draft_date="17 February 2026")  # no telling which is newer
    assistant = Assistant(corpus=corpus, index_dir=tmp_path / "i", embedder=embedder)
    shown = _sources(assistant, "Which bidder does the panel recommend for the dredging contract?")
    assert {"dredging memo final.txt", "dredging memo draft.txt"} <= shown
