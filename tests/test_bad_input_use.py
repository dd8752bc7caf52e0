"""Bad or unusual use: a clear error or a warning, never a traceback.

The terminal (an article's escape sequences, a run with no space), settings that point at the
wrong place (index folder, manifest, model cache, UI port, an index that lost a file), and the
Python API given arguments of the wrong kind. Bad files, folders and questions are in
test_bad_input.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest


# --- the terminal ------------------------------------------------------------------------------

def test_escape_sequences_in_an_article_are_shown_not_obeyed(tmp_path: Path, monkeypatch):
    from click.testing import CliRunner

    import rag.cli as cli_module
    from rag.types import Answer, Citation, Passage

    retitle = "\x1b]0;PWNED\x07"
    path = tmp_path / "esc.txt"
    line = f"The ferry sails at noon.{retitle}"
    path.write_text(f"Ferry Line Expands Its Winter Timetable\n\n{line}\n\nTickets are on sale.\n\n{line}\n")  # a copy: removed
    explained = CliRunner().invoke(cli_module.cli, ["index", "--explain", str(path)])
    assert explained.exit_code == 0 and "PWNED" in explained.output and "\x1b" not in explained.output

    p = Passage("e.txt:0", "e.txt", f"Ferry{retitle}", None, f"The ferry sails at noon.{retitle}", 0, 30, 0.9)
    answer = Answer(question="q", text=f"It sails at noon{retitle} [1].", citations=[Citation(1, p)], passages=[p],
                    refused=False)

    class Fake:
        def stream(self, question, history=None):
            yield answer

    monkeypatch.setattr(cli_module, "_assistant", lambda *a, **k: Fake())
    asked = CliRunner().invoke(cli_module.cli, ["ask", "When does the ferry sail?"])
    assert asked.exit_code == 0 and asked.output.count("PWNED") == 3
    assert "\x1b" not in asked.output and "\x07" not in asked.output


def test_a_run_with_no_space_is_cut_to_the_chunk_budget():
    from rag.chunking import chunk
    from rag.types import Document

    run = "".join("a7é€🙂xq"[(i * 5) % 7] for i in range(6000))  # a flattened table or a hash dump
    text = f"The ferry sails at noon. {run} Tickets are on sale."
    chunks = chunk(Document("r.txt", "r.txt", "T", None, text, ((0, len(text)),)), 120, 25)
    assert len(chunks) > 10 and max(c.n_tokens for c in chunks) <= 120
    assert all(text[c.start:c.end] == c.text for c in chunks)
    covered = {i for c in chunks for i in range(c.start, c.end)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())  # nothing of the run lost


def test_explain_shows_the_html_blocks_extraction_dropped(tmp_path: Path):
    from click.testing import CliRunner

    from rag.cli import cli

    page = tmp_path / "p.html"
    page.write_text("<html><body><nav>Home | Ferries</nav><article><header><h1>Ferry Crews Win A New Contract</h1>"
                    "</header><p>Crews won a rise of 9%.</p></article><footer>Site footer text</footer></body></html>")
    result = CliRunner().invoke(cli, ["index", "--explain", str(page)])
    assert result.exit_code == 0
    assert "<nav>" in result.output and "Home | Ferries" in result.output and "Site footer text" in result.output
    # the kept headline is named only as the article's title, never listed as dropped
    listed = [line for line in result.output.splitlines() if not line.startswith("article ")]
    assert "2 HTML blocks dropped" in result.output and not any("Ferry Crews Win" in line for line in listed)
    assert "article 1: 'Ferry Crews Win A New Contract', dated unknown; its text from line 3" in result.output


# --- settings that point at the wrong place ----------------------------------------------------

def test_an_index_folder_that_cannot_be_used_is_a_clear_error(tmp_path: Path):
    from click.testing import CliRunner

    from rag.cli import cli

    taken = tmp_path / "taken"
    taken.write_text("a file where the index folder should be")
    result = CliRunner().invoke(cli, ["index", str(tmp_path), "--index-dir", str(taken)])
    assert result.exit_code == 1 and f"cannot use index folder {taken}" in result.output
    assert not isinstance(result.exception, OSError)


def test_a_manifest_that_is_not_the_index_settings_is_a_clear_error(tmp_path: Path):
    from rag.errors import IndexMismatchError
    from rag.store.embedded import read_manifest

    (tmp_path / "manifest.json").write_text("[1, 2]")
    with pytest.raises(IndexMismatchError, match="holds list, not the index's settings; rebuild"):
        read_manifest(tmp_path)


def test_a_model_cache_that_is_a_file_is_a_clear_error(tmp_path: Path):
    from rag.errors import ModelError
    from rag.models import MODELS, ensure_model

    cache = tmp_path / "cache"
    cache.write_text("not a folder")
    with pytest.raises(ModelError, match="cannot use model cache folder .*set model_cache"):
        ensure_model(MODELS["qwen2.5-1.5b"], cache)


def test_a_ui_port_that_is_taken_or_out_of_range_fails_before_anything_loads(monkeypatch):
    import socket

    from click.testing import CliRunner

    import rag.cli as cli_module

    monkeypatch.setattr(cli_module, "_assistant", lambda *a, **k: pytest.fail("loaded the index first"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli_module.cli, ["ui", "--port", str(port)])
    assert result.exit_code == 1 and f"cannot serve on 127.0.0.1:{port}" in result.output
    result = CliRunner().invoke(cli_module.cli, ["ui", "--port", "99999"])
    assert result.exit_code == 2 and "99999" in result.output


def test_an_index_without_its_manifest_is_rebuilt_with_a_warning(tmp_path: Path, embedder, caplog):
    from rag import Assistant
    from rag.store.embedded import EmbeddedStore

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Ferry Line Adds Sailings\n\nThe ferry line added three sailings on Tuesday.\n")
    Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder)
    (tmp_path / "idx" / "manifest.json").unlink()
    with caplog.at_level(logging.WARNING):
        assert EmbeddedStore.load(tmp_path / "idx", embedder.name) is None
    assert "has data files but no manifest.json" in caplog.text


def test_an_index_that_lost_its_database_is_built_again_once_and_whole(tmp_path: Path, embedder, caplog):
    from rag import Assistant
    from rag.errors import CorpusError

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Ferry Line Adds Sailings\n\nThe ferry line added three sailings on Tuesday.\n")
    first = Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder).last_report.n_chunks
    for f in (tmp_path / "idx").glob("store.sqlite*"):
        f.unlink()
    with pytest.raises(CorpusError, match="rag index"):  # read-only: says how to build it, creates no empty file
        Assistant.open(corpus, tmp_path / "idx", embedder=embedder)
    assert not (tmp_path / "idx" / "store.sqlite").exists()
    with caplog.at_level(logging.WARNING):
        again = Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder)
    assert "lost store.sqlite" in caplog.text
    # the old vectors are not kept beside the new ones: every chunk once
    assert again.last_report.n_chunks == first and len(again.retrieve("ferry sailings")) == first


def test_a_manifest_whose_vector_size_disagrees_with_the_vectors_is_damage(tmp_path: Path, embedder):
    import json

    from rag import Assistant
    from rag.errors import IndexMismatchError
    from rag.store.embedded import EmbeddedStore

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Ferry Line Adds Sailings\n\nThe ferry line added three sailings on Tuesday.\n")
    Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder)
    path = tmp_path / "idx" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["embedder"]["dim"] = 768  # edited by hand: the vectors hold 384
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="damaged .*384-dimensional vectors, the manifest says 768"):
        EmbeddedStore.load(tmp_path / "idx", embedder.name)


# --- the Python API ----------------------------------------------------------------------------

def _ferry_assistant(tmp_path: Path, embedder, llm=None):
    from rag import Assistant

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Ferry Line Adds Sailings\n\nThe ferry line added three sailings on Tuesday.\n")
    (corpus / "b.txt").write_text("Pier Repairs Begin\n\nRepairs to the old pier began on Monday at a cost of $2 million.\n")
    return Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder, llm=llm, support_check=False)


def test_adding_a_file_that_is_already_the_corpus_file_loses_nothing(tmp_path: Path, embedder):
    a = _ferry_assistant(tmp_path, embedder)
    a.add_files([tmp_path / "c" / "a.txt"])  # the corpus's own file, picked again
    assert (tmp_path / "c" / "a.txt").is_file() and not (tmp_path / "c" / ".removed").exists()
    assert {d.source for d in a.documents()} == {"a.txt", "b.txt"}


def test_api_arguments_of_the_wrong_kind_are_clear_errors(tmp_path: Path, embedder):
    from rag.errors import CorpusError, QuestionError

    a = _ferry_assistant(tmp_path, embedder)
    with pytest.raises(CorpusError, match="takes a list of paths"):
        a.add_files(str(tmp_path / "c" / "a.txt"))
    with pytest.raises(CorpusError, match="source name"):
        a.remove_document(None)
    for history, bad in ([("hi")], "history\\[0\\]"), ([{"content": "x"}], "history\\[0\\]"), \
            ([{"role": "system", "content": "x"}], "history\\[0\\]"), (5, "not int"):
        with pytest.raises(QuestionError, match=bad):
            a.ask("And what about it?", history=history)


def test_two_threads_removing_one_document_move_it_once(tmp_path: Path, embedder):
    import threading

    from rag.errors import CorpusError

    a = _ferry_assistant(tmp_path, embedder)
    outcomes: list[str] = []

    def remove() -> None:
        try:
            a.remove_document("a.txt")
            outcomes.append("removed")
        except CorpusError:
            outcomes.append("no such document")

    threads = [threading.Thread(target=remove) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["no such document"] * 5 + ["removed"]
    assert [p.name for p in (tmp_path / "c" / ".removed").iterdir()] == ["a.txt"]


def test_a_refusal_in_the_conversation_is_not_searched_with(tmp_path: Path, embedder, monkeypatch):
    from rag import Assistant
    from rag.llm import ChatModel

    class Rewrites(ChatModel):
        def stream(self, messages, *, max_tokens, temperature, seed, stop=None):
            yield "The articles do not say."

    a = _ferry_assistant(tmp_path, embedder, llm=Rewrites())
    seen = {}
    real = Assistant.condense

    def condense(self, question, history, model=None):
        seen["history"] = history
        return real(self, question, history, model)

    monkeypatch.setattr(Assistant, "condense", condense)
    history = [{"role": "user", "content": "What did the ferry line add?"},
               {"role": "assistant", "content": "The ferry line added three sailings [1]."},
               {"role": "user", "content": "What is the price of bananas on Mars?"},
               {"role": "assistant", "content": "The articles do not say."}]
    answer = a.ask("And when did it add them?", history=history)
    assert seen["history"] == history[:3]
    assert "do not say" not in (answer.standalone_question or "")


def test_k_and_questions_of_the_wrong_type_are_clear_errors_and_k_zero_is_not_the_default(tmp_path: Path, embedder):
    from rag.errors import QuestionError

    a = _ferry_assistant(tmp_path, embedder)
    for k in ("3", 2.5, True, 0):
        with pytest.raises(QuestionError, match=f"k={k!r}"):
            a.retrieve("How many sailings?", k=k)
    with pytest.raises(QuestionError, match="must be text \\(str\\), not bytes"):
        a.retrieve(b"sailings")
