"""Defects an analyst hit using the README's commands on a small folder of their own (the UX
review): each test failed before its fix. No model is loaded; one test uses the embedder."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import rag.cli as c
from rag.store.base import IndexReport
from rag.types import Answer, Citation, Passage, merge_answers


class _Indexed:
    """Stands for rag.Assistant in the CLI: reports ``report`` and, given a progress
    callback, feeds it as a real index build does."""

    report = IndexReport()
    seen: dict = {}

    def __init__(self, corpus=None, index_dir=None, progress=None, **kw):
        _Indexed.seen = {"corpus": corpus, "index_dir": index_dir, "progress": progress, **kw}
        if progress is not None:
            progress(0, 3, "embedding")
            progress(3, 3, "embedding")
        self.last_report = _Indexed.report
        self.config = SimpleNamespace(corpus=Path(corpus or "c"), index_dir=Path(index_dir or "i"), k=kw.get("k") or 4)
        self.index = SimpleNamespace()


@pytest.fixture
def fake_assistant(monkeypatch):
    import rag.assistant

    monkeypatch.setattr(rag.assistant, "Assistant", _Indexed)
    return _Indexed


# --- rag index ------------------------------------------------------------------------

@pytest.mark.parametrize("report", [
    IndexReport(files=6, removed=1, unchanged=6, n_chunks=8),  # a file deleted: nothing to embed
    IndexReport(files=7, added=1, unchanged=6, n_chunks=9),  # a file whose chunks were embedded before
])
def test_index_never_says_nothing_changed_when_a_file_was_added_or_removed(fake_assistant, report):
    fake_assistant.report = report
    out = CliRunner().invoke(c.cli, ["index", "corpus", "--index-dir", "idx"])
    assert out.exit_code == 0, out.output
    assert "0 chunks embedded" in out.output and "nothing changed" not in out.output


def test_index_says_nothing_changed_when_nothing_did(fake_assistant):
    fake_assistant.report = IndexReport(files=7, unchanged=7, n_chunks=9)
    out = CliRunner().invoke(c.cli, ["index", "corpus", "--index-dir", "idx"])
    assert "nothing changed" in out.output


def test_explain_given_a_folder_says_it_takes_a_file(tmp_path):
    out = CliRunner().invoke(c.cli, ["index", "--explain", str(tmp_path)])
    assert out.exit_code == 1
    assert "unsupported file type" not in out.output
    assert str(tmp_path) in out.output and "folder" in out.output


# --- ask / chat / ui build the index with a progress bar ---------------------------------

def test_chat_shows_progress_while_it_builds_the_index(fake_assistant):
    fake_assistant.report = IndexReport(files=3, added=3, embedded=3, n_chunks=3)
    out = CliRunner().invoke(c.cli, ["chat", "--corpus", "corpus", "--index-dir", "idx"], input="\n")
    assert out.exit_code == 0, out.output
    assert callable(fake_assistant.seen["progress"])
    assert "embedding chunks" in out.stderr
    assert "3 added" in out.stderr  # what the update did, once the bar is gone


# --- -k works on ui and eval (README: "-k N work on ask, chat, ui and eval") -----------

def test_ui_takes_k(fake_assistant, monkeypatch):
    import ui.app

    launched = {}
    monkeypatch.setattr(ui.app, "launch", lambda **kw: launched.update(kw))
    monkeypatch.setattr(c, "_check_port_free", lambda host, port: None)
    out = CliRunner().invoke(c.cli, ["ui", "-k", "3", "--corpus", "corpus", "--index-dir", "idx"])
    assert out.exit_code == 0, out.output
    assert fake_assistant.seen["k"] == 3 and launched["assistant"].config.k == 3


def test_eval_takes_short_k():
    out = CliRunner().invoke(c.cli, ["eval", "-k", "3", "--help"])
    assert out.exit_code == 0, out.output


# --- markdown dates -------------------------------------------------------------------

@pytest.mark.parametrize("line", ["*February 12, 2026*", "**February 12, 2026**", "_February 12, 2026_",
                                  "__12 February 2026__"])
def test_an_emphasised_date_line_in_markdown_dates_the_article(line):
    from rag.ingest import clean

    text = f"# Council Passes 2026 City Budget\n\n{line}\n\nGreenfield city council voted 7-2 on Monday to pass a budget.\n"
    doc, = clean(text, "budget.md")
    assert doc.date == "2026-02-12"
    assert "February" not in doc.clean_text  # a date stamp, like "February 12, 2026" in a .txt file


def test_emphasis_around_a_sentence_is_not_a_date_stamp():
    from rag.ingest import clean

    text = "# Council Passes Budget\n\n*The vote on February 12, 2026 was close.*\n\nThe council voted 7-2 on Monday.\n"
    doc, = clean(text, "budget.md")
    assert "The vote on February 12, 2026 was close." in doc.clean_text


# --- multi-part answers ---------------------------------------------------------------

def _p(chunk: str, text: str, start: int, source: str = "a.txt") -> Passage:
    return Passage(chunk, source, "T", None, text, start, start + len(text), 0.5, 1)


def _answer(question: str, text: str, passages: list[Passage], refused: bool = False) -> Answer:
    import re

    cites = [Citation(int(m), passages[int(m) - 1]) for m in re.findall(r"\[(\d+)\]", text)]
    return Answer(question=question, text=text, citations=cites, passages=passages, refused=refused)


def test_a_refused_part_ends_with_one_mark_of_punctuation():
    a = _answer("Why did Lumen delay its plant?", "Demand was weak [1].", [_p("a:0", "Demand was weak.", 0)])
    no = _answer("Who is its chief financial officer?", "The articles do not say.", [_p("b:0", "x", 0, "b.txt")],
                 refused=True)
    merged = merge_answers("q", None, [a, no], 1.0)
    assert merged.text == "Demand was weak [1]. The articles do not answer “Who is its chief financial officer?”"
    first = merge_answers("q", None, [no, a], 1.0)
    assert first.text == "The articles do not answer “Who is its chief financial officer?” Demand was weak [2]."


def test_a_part_citing_a_stretch_of_a_listed_passage_reuses_its_number():
    whole = "Skyward ordered 60 jets. Deliveries begin in 2027. Fuel burn falls 18 percent."
    a = _answer("How many jets?", "Skyward ordered 60 jets [1].", [_p("air:0", whole, 52)])
    cut = _p("air:0", "Deliveries begin in 2027.", 52 + whole.index("Deliveries"))
    b = _answer("When do deliveries begin?", "Deliveries begin in 2027 [1].", [cut])
    merged = merge_answers("How many jets, and when do deliveries begin?", None, [a, b], 1.0)
    assert merged.text == "Skyward ordered 60 jets [1]. Deliveries begin in 2027 [1]."
    assert len(merged.passages) == 1 and [c.marker for c in merged.citations] == [1]
    # another chunk, or a stretch reaching outside the listed one, keeps a number of its own
    other = _answer("When?", "In 2027 [1].", [_p("air:1", "Deliveries begin in 2027.", 52 + whole.index("Deliveries"))])
    assert len(merge_answers("q", None, [a, other], 1.0).passages) == 2


# --- timings --------------------------------------------------------------------------

@pytest.mark.integration
def test_a_follow_ups_retrieval_time_leaves_out_its_rewrite(tmp_path, embedder):
    from rag import Assistant
    from rag.llm import ChatModel

    class SlowRewriter(ChatModel):
        def stream(self, messages, *, max_tokens, temperature, seed, stop=None):
            if stop == ["\n"]:  # the follow-up's rewrite
                time.sleep(1.5)
                yield "How much revenue did Harlow Dynamics post in 2019?"
            else:
                yield "Harlow Dynamics posted revenue of $3.1 billion [1]."

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "harlow.txt").write_text(
        "Harlow Dynamics Posts Record Year\n\nHarlow Dynamics posted revenue of $3.1 billion in 2019, "
        "the company said on Tuesday.\n")
    a = Assistant(corpus=corpus, index_dir=tmp_path / "i", llm=SlowRewriter(), embedder=embedder, support_check=False)
    a.retrieve("warm up the embedder")
    history = [{"role": "user", "content": "Tell me about Harlow Dynamics."},
               {"role": "assistant", "content": "Harlow Dynamics posted a record year [1]."}]
    answer = a.ask("How much did it post?", history=history)
    assert answer.standalone_question and answer.timings.total >= 1.5
    assert answer.timings.retrieval < 1.0, answer.timings


def test_a_refused_parts_weak_match_does_not_flag_the_answered_part():
    import dataclasses

    a = _answer("Why did Lumen delay its plant?", "Demand was weak [1].", [_p("a:0", "Demand was weak.", 0)])
    no = dataclasses.replace(_answer("Who is its chief financial officer?", "The articles do not say.",
                                     [_p("b:0", "x", 0, "b.txt")], refused=True), low_confidence=True)
    assert not merge_answers("q", None, [a, no], 1.0).low_confidence
    weak = dataclasses.replace(a, low_confidence=True)
    assert merge_answers("q", None, [weak, no], 1.0).low_confidence  # the answer itself rests on a weak match
    assert merge_answers("q", None, [no, no], 1.0).low_confidence  # all refused: as one refused question


@pytest.mark.integration
def test_a_first_questions_retrieval_time_leaves_out_loading_the_embedder(tmp_path, embedder):
    from rag import Assistant
    from rag.llm import ChatModel

    class Replier(ChatModel):
        def stream(self, messages, *, max_tokens, temperature, seed, stop=None):
            yield "Harlow Dynamics posted revenue of $3.1 billion [1]."

    class ColdEmbedder:  # the real embedder, with a load that takes a while the first time
        name, dim = embedder.name, embedder.dim

        def __init__(self):
            self.loaded = False

        def load(self) -> float:
            if self.loaded:
                return 0.0
            time.sleep(1.5)
            self.loaded = True
            return 1.5

        def encode(self, texts, progress=None):
            return embedder.encode(texts, progress)

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "harlow.txt").write_text(
        "Harlow Dynamics Posts Record Year\n\nHarlow Dynamics posted revenue of $3.1 billion in 2019.\n")
    a = Assistant(corpus=corpus, index_dir=tmp_path / "i", llm=Replier(), embedder=ColdEmbedder(), support_check=False)
    first = a.ask("How much revenue did Harlow Dynamics post?")
    assert first.timings.load >= 1.5 and first.timings.retrieval < 1.0, first.timings
    assert first.timings.total >= 1.5  # the answer did wait for it
    assert a.ask("How much revenue did Harlow Dynamics post?").timings.load == 0.0


def test_the_cli_says_when_a_question_waited_for_the_embedder_to_load(monkeypatch):
    import dataclasses

    from click.testing import CliRunner

    import rag.cli as c
    from rag.types import Timings

    answer = dataclasses.replace(_answer("Why?", "Demand was weak [1].", [_p("a:0", "Demand was weak.", 0)]),
                                 timings=Timings(retrieval=0.05, first_token=9.5, total=10.2, load=8.91))

    class Fake:
        def stream(self, question, history=None):
            yield answer

    monkeypatch.setattr(c, "_assistant", lambda *a, **k: Fake())
    out = CliRunner().invoke(c.cli, ["ask", "Why?"]).output
    assert "retrieval 0.05s after 8.91s loading the embedder" in out
