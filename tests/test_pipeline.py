"""End to end with the real parts: MiniLM embedder, FAISS, llama.cpp (smallest shipped GGUFs)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag import Answer, Assistant, ModelError, QuestionError
from rag.chunking import count_tokens
from rag.cli import cli
from rag.llm import ChatModel

from conftest import write_corpus

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    import shutil

    from conftest import SEEDS

    base = tmp_path_factory.mktemp("pipeline")
    shutil.copytree(SEEDS, base / "corpus")
    return base


@pytest.fixture(scope="module")
def smol(workdir, embedder):
    return Assistant(corpus=workdir / "corpus", index_dir=workdir / "index", model="smollm2-135m", embedder=embedder)


@pytest.fixture(scope="module")
def qwen(workdir, embedder):
    return Assistant(corpus=workdir / "corpus", index_dir=workdir / "index", model="qwen2.5-0.5b", embedder=embedder)


def _check_citations(assistant: Assistant, answer: Answer) -> None:
    shown = {p.chunk_id for p in answer.passages}
    for c in answer.citations:
        assert f"[{c.marker}]" in answer.text
        assert c.passage is answer.passages[c.marker - 1] and c.passage.chunk_id in shown
        # the cited span is a real span of the source file
        source_text = (assistant.config.corpus / c.passage.source).read_text(encoding="utf-8")
        assert source_text[c.passage.start:c.passage.end] == c.passage.text
        # and the sentences that state the claim are a real span inside it
        assert c.spans or not assistant.config.verify_citations
        for start, end in c.spans:
            assert c.passage.start <= start < end <= c.passage.end and source_text[start:end].strip()
    for n in map(int, __import__("re").findall(r"\[(\d+)\]", answer.text)):
        assert 1 <= n <= len(answer.passages)


def test_smallest_model_answers_with_valid_structure(smol):
    events = list(smol.stream("What is China's aluminum production ceiling?"))
    answer = events[-1]
    assert isinstance(answer, Answer) and all(isinstance(e, str) for e in events[:-1]) and len(events) > 1
    assert answer.model == "smollm2-135m" and answer.passages
    assert answer.timings.total >= answer.timings.first_token > 0 and answer.timings.completion_tokens > 0
    # the checks after generation are timed apart from decoding
    assert 0 < answer.timings.check <= answer.timings.total - answer.timings.first_token
    assert any(p.source == "001_c4c25ce7ac6cce87.txt" for p in answer.passages)
    _check_citations(smol, answer)
    json.dumps(answer.to_dict())


def test_off_topic_question_is_refused(smol):
    answer = smol.ask("How long should I rest after a marathon before running again?")
    assert answer.refused and answer.citations == [] and "do not say" in answer.text


def test_qwen_cites_the_right_article(qwen):
    answer = qwen.ask("What is China's aluminum production ceiling?")
    assert not answer.refused
    assert "45 million" in answer.text
    assert answer.citations and {c.passage.source for c in answer.citations} == {"001_c4c25ce7ac6cce87.txt"}
    _check_citations(qwen, answer)


def test_retrieve_returns_spans_of_the_source(smol):
    passages = smol.retrieve("How much did Goldman Sachs forecast for copper?", k=3)
    assert len(passages) == 3 and passages[0].source == "003_e8b2ba90174cba1f.txt"
    for p in passages:
        assert smol.document_text(p.source)[p.start:p.end] == p.text


def test_select_evidence_cuts_the_retrieved_chunks_to_exact_slices_within_the_budget(smol):
    question = "How much did Goldman Sachs forecast for copper?"
    chunks = smol.retrieve(question, k=4)
    base = smol.config
    try:
        smol.config = base.replace(evidence_tokens=0, trim_below=0, passage_cosine_gap=float("inf"))
        assert smol.select_evidence(question, chunks) == chunks  # 0: the chunks whole; inf: all of them
        smol.config = base.replace(evidence_tokens=0, trim_below=0.4, passage_cosine_gap=float("inf"))
        trimmed = smol.select_evidence(question, chunks)
        smol.config = base.replace(evidence_tokens=120)
        pieces = smol.select_evidence(question, chunks)
    finally:
        smol.config = base
    # each chunk cut to its stretch on the question: one slice per chunk, inside it, shorter in all
    assert [p.chunk_id for p in trimmed] == [c.chunk_id for c in chunks]
    for p, c in zip(trimmed, chunks):
        assert c.start <= p.start < p.end <= c.end and smol.document_text(p.source)[p.start:p.end] == p.text
    assert sum(len(p.text) for p in trimmed) < sum(len(c.text) for c in chunks)
    assert pieces and sum(count_tokens(p.text) for p in pieces) <= 120
    assert {p.chunk_id for p in pieces} <= {c.chunk_id for c in chunks}
    order = [c.chunk_id for c in chunks]
    assert [order.index(p.chunk_id) for p in pieces] == sorted(order.index(p.chunk_id) for p in pieces)
    for p in pieces:
        assert smol.document_text(p.source)[p.start:p.end] == p.text


def test_select_evidence_shows_the_first_chunk_and_those_near_it_in_rank_order(smol):
    question = "How much did Goldman Sachs forecast for copper?"
    chunks = smol.retrieve(question, k=4)
    base = smol.config
    try:
        # whole passages (trim_below=0): which of them are shown is what this test is about
        smol.config = base.replace(passage_cosine_gap=0.0, passage_fused_gap=0.0, trim_below=0)
        alone = smol.select_evidence(question, chunks)
        smol.config = base.replace(passage_cosine_gap=2.0, trim_below=0)  # every cosine is within 2 of the first's
        every = smol.select_evidence(question, chunks)
    finally:
        smol.config = base
    assert every == chunks
    assert alone[0] == chunks[0]
    assert all(p.score >= chunks[0].score or p.fused >= chunks[0].fused for p in alone[1:])
    assert [chunks.index(p) for p in alone] == sorted(chunks.index(p) for p in alone)


def test_own_folder_of_articles(tmp_path, embedder):
    corpus = write_corpus(tmp_path / "mine", {
        "zorblax.md": "# Zorblax Metals Opens Nickel Mine in Nevada\n\n"
                      "Zorblax Metals opened its Blue Ridge nickel mine in Nevada on Monday. "
                      "The mine will produce 14,500 tonnes of nickel a year, the company said.\n",
        "tin.txt": "Tin Prices Slide as Indonesian Exports Recover\n\n"
                   "Tin prices fell 4% this week after Indonesia approved new export quotas for smelters.\n"})
    a = Assistant(corpus=corpus, index_dir=tmp_path / "idx", model="qwen2.5-0.5b", embedder=embedder)
    answer = a.ask("How much nickel will the Blue Ridge mine produce each year?")
    assert "14,500" in answer.text and not answer.refused
    assert [c.passage.source for c in answer.citations] == ["zorblax.md"]
    _check_citations(a, answer)
    assert {d.source for d in a.documents()} == {"zorblax.md", "tin.txt"}


class _Says(ChatModel):
    """Replies with one scripted text and counts how often it was asked."""

    def __init__(self, reply: str):
        self.reply, self.calls = reply, 0

    def stream(self, messages, *, max_tokens, temperature, seed, stop=None):
        self.calls += 1
        yield self.reply


def test_a_question_about_a_named_person_reaches_the_model_though_it_scores_low(tmp_path, embedder):
    # MiniLM scores "Where does <name> work?" far under refuse_below against the passage that
    # quotes her, which is about a dam; the name found there must still bring the model in
    corpus = write_corpus(tmp_path / "dam", {
        "dam.txt": "Delmar Dam Spillway Reopens After Repairs\n\nThe spillway of the Delmar Dam reopened on Thursday "
                   "after eight months of concrete repairs.\n\n\"The river will run at its usual level by the end "
                   "of the month,\" said Dr. Ines Okafor, a hydrologist at the Northgate Water Institute.\n",
        "bakery.txt": "Harbour Bakery Opens Second Shop\n\nThe Harbour Bakery opened a second shop on Quay Street "
                      "on Saturday, selling rye loaves.\n"})
    says = _Says("Dr. Ines Okafor works at the Northgate Water Institute [1].")
    a = Assistant(corpus=corpus, index_dir=tmp_path / "idx", llm=says, embedder=embedder, support_check=False)
    question = "Where does Dr. Ines Okafor work?"
    assert max(p.score for p in a.retrieve(question)) < a.config.refuse_below
    answer = a.ask(question)
    assert says.calls == 1 and not answer.refused
    assert [c.passage.source for c in answer.citations] == ["dam.txt"]
    # a question of nothing the corpus names is still refused without the model
    off = a.ask("Who won the 2022 FIFA World Cup?")
    assert off.refused and says.calls == 1


def test_bad_questions_and_models(smol, tmp_path):
    with pytest.raises(QuestionError, match="empty"):
        smol.ask("   ")
    with pytest.raises(QuestionError, match="limit is 2,000"):
        smol.ask("copper " * 1000)
    with pytest.raises(ModelError, match="neither a known model name"):
        smol.ask("What is the copper forecast?", model=str(tmp_path / "missing.gguf"))
    bad = tmp_path / "corrupt.gguf"
    bad.write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match="not a GGUF file"):
        smol.ask("What is the copper forecast?", model=str(bad))


def test_a_model_loaded_in_the_background_hands_over_its_result_or_its_error():
    from rag.llm import in_background

    model = object()
    assert in_background(lambda: model)() is model

    def broken():
        raise ModelError("cannot load model /nowhere.gguf")

    with pytest.raises(ModelError, match="/nowhere.gguf"):
        in_background(broken)()


def test_a_first_question_reports_a_model_that_cannot_load(workdir, embedder, tmp_path):
    # no model is loaded yet, so it loads beside retrieval; its error still reaches the caller
    fresh = Assistant(corpus=workdir / "corpus", index_dir=workdir / "index", embedder=embedder,
                      model=str(tmp_path / "missing.gguf"))
    with pytest.raises(ModelError, match=r"missing\.gguf.*neither a known model name"):
        fresh.ask("What is the copper forecast?")


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory):
    """A seeds copy indexed by ``rag index`` into an index of its own: (folder, first run's output)."""
    import shutil

    from conftest import SEEDS

    base = tmp_path_factory.mktemp("cli")
    shutil.copytree(SEEDS, base / "corpus")
    first = CliRunner().invoke(cli, ["index", str(base / "corpus"), "--index-dir", str(base / "index")])
    assert first.exit_code == 0, first.output
    return base, first.output


def test_cli_index_twice_embeds_nothing_and_errors_are_one_line(cli_index, tmp_path):
    base, first = cli_index
    assert "nothing changed" not in first and "5 added" in first
    runner = CliRunner()
    args = ["--index-dir", str(base / "index")]
    again = runner.invoke(cli, ["index", str(base / "corpus"), *args])
    assert again.exit_code == 0, again.output
    assert "0 chunks embedded" in again.output and "nothing changed" in again.output
    empty = runner.invoke(cli, ["ask", "  ", "--corpus", str(base / "corpus"), *args])
    assert empty.exit_code == 1 and empty.output.strip().startswith("error:") and "Traceback" not in empty.output
    missing = runner.invoke(cli, ["index", str(tmp_path / "nope"), *args])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    (tmp_path / "emptydir").mkdir()
    empty_corpus = runner.invoke(cli, ["index", str(tmp_path / "emptydir"), "--index-dir", str(tmp_path / "idx2")])
    assert empty_corpus.exit_code == 1 and "no articles to index" in empty_corpus.output


def test_cli_ask_json(cli_index):
    base, _ = cli_index
    result = CliRunner().invoke(cli, ["ask", "What did Goldman Sachs forecast for copper?", "--json", "--model", "smollm2-135m",
                                      "--corpus", str(base / "corpus"), "--index-dir", str(base / "index")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"text", "citations", "passages", "refused", "timings"}


def test_cli_refuses_index_of_another_embedder_then_rebuilds(cli_index, tmp_path):
    import shutil

    base, _ = cli_index
    idx = tmp_path / "idx"
    shutil.copytree(base / "index", idx)
    manifest = json.loads((idx / "manifest.json").read_text())
    manifest["embedder"]["name"] = "another-embedder"
    (idx / "manifest.json").write_text(json.dumps(manifest))
    runner = CliRunner()
    refused = runner.invoke(cli, ["ask", "What is the copper forecast?", "--corpus", str(base / "corpus"), "--index-dir", str(idx)])
    assert refused.exit_code == 1 and "another-embedder" in refused.output and "rag index --rebuild" in refused.output
    rebuilt = runner.invoke(cli, ["index", str(base / "corpus"), "--index-dir", str(idx), "--rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert json.loads((idx / "manifest.json").read_text())["embedder"]["name"] == "all-MiniLM-L6-v2"
