"""Concurrency with the real pipeline (smollm2-135m, the smallest shipped model): a stream that is
closed or abandoned gives the model back, a busy model makes a caller wait with a time limit and
a clear error, and eight users at once (library threads, and API clients of the served app) all get
well-formed answers while the index changes under them. No browser needed."""

from __future__ import annotations

import shutil
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import free_port
from rag.errors import ModelError

pytestmark = pytest.mark.integration

MODEL = "smollm2-135m"
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Count from one to fifty."}]


@pytest.fixture(scope="module")
def model():
    from rag.config import load_config
    from rag.llm import load_model
    from rag.models import resolve_model

    cfg = load_config()
    return load_model(resolve_model(MODEL, cfg.model_cache), n_ctx=cfg.n_ctx, n_threads=cfg.n_threads, seed=cfg.seed)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, embedder):
    from conftest import SEEDS
    from rag import Assistant

    base = tmp_path_factory.mktemp("concurrency")
    shutil.copytree(SEEDS, base / "corpus")
    # short answers: the test is about who holds the model, not what it says
    return Assistant(corpus=base / "corpus", index_dir=base / "index", model=MODEL, embedder=embedder,
                     max_tokens=24, split_questions=False, k=2)


def _answer_in_thread(model, timeout: float) -> tuple[threading.Thread, list]:
    out: list = []

    def run():
        try:
            out.append("".join(model.stream(MESSAGES, max_tokens=8, temperature=0.0, seed=1)))
        except Exception as err:  # recorded for the assertion
            out.append(err)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    return t, out


def test_an_abandoned_stream_gives_the_model_back(model):
    model.lock_timeout = 60
    abandoned = model.stream(MESSAGES, max_tokens=32, temperature=0.0, seed=1)
    assert next(abandoned)  # generation started; the consumer then goes away without closing it
    worker, out = _answer_in_thread(model, timeout=90)
    assert not worker.is_alive(), "the model lock is still held by the abandoned stream"
    assert out and isinstance(out[0], str) and out[0], out
    del abandoned


def test_a_closed_stream_stops_and_gives_the_model_back(model):
    stream = model.stream(MESSAGES, max_tokens=512, temperature=0.0, seed=1)
    assert next(stream)
    stream.close()
    assert model.lock.acquire(timeout=10), "a closed stream kept the model lock"
    model.lock.release()


def test_waiting_for_a_busy_model_ends_with_a_clear_error(model):
    model.lock_timeout = 0.3
    assert model.lock.acquire(timeout=30)
    try:
        with pytest.raises(ModelError, match=r"is busy: waited 0.3 s .*model_wait"):
            list(model.stream(MESSAGES, max_tokens=4, temperature=0.0, seed=1))
        with pytest.raises(ModelError, match="is busy"):
            model.judge(MESSAGES)
    finally:
        model.lock.release()
        model.lock_timeout = 300


def _check(answer: dict, question: str, corpus) -> None:
    assert answer["question"] == question
    assert isinstance(answer["text"], str) and answer["text"].strip() and isinstance(answer["refused"], bool)
    for c in answer["citations"]:
        doc = (corpus / c["source"]).read_text(encoding="utf-8")
        assert doc[c["start"]:c["end"]] == c["text"]


QUESTIONS = [
    "Why did aluminum prices hit a three-year high?",
    "When will China resume metal exports to the United States?",
    "What did Goldman Sachs forecast for copper?",
    "What is China's aluminum production ceiling?",
    "What happened to copper prices?",
    "What did the Trump-Xi deal mean for rare earths?",
    "Which metals did China restrict?",
    "How did the stock market react?",
]


def test_eight_library_threads_while_the_index_changes(assistant):
    corpus = assistant.config.corpus
    stop = threading.Event()

    def reindex_repeatedly():
        extra = corpus / "zz_extra.txt"
        for _ in range(3):  # bounded: each round embeds the extra article again
            if stop.is_set():
                break
            extra.write_text("Tin Prices Slide\n\nTin prices fell 4% this week after Indonesia approved exports.\n")
            assistant.reindex()
            extra.unlink()
            assistant.reindex()

    changer = threading.Thread(target=reindex_repeatedly, daemon=True)
    changer.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda q: assistant.ask(q).to_dict(), QUESTIONS))
    finally:
        stop.set()
        changer.join(120)
    for q, a in zip(QUESTIONS, answers):
        for c in a["citations"]:
            assert c["passage"]["text"] and c["marker"] >= 1
        assert a["question"] == q and a["text"].strip()


def test_eight_api_clients_at_once_are_queued_not_crashed(assistant):
    from gradio_client import Client

    from ui.app import launch

    port = free_port()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo = launch("127.0.0.1", port, assistant=assistant, block=False, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda q: Client(url, verbose=False).predict(q, api_name="/ask"), QUESTIONS))
        for q, result in zip(QUESTIONS, results):
            _check(result, q, assistant.config.corpus)
        api = Client(url, verbose=False).view_api(print_info=False, return_format="dict")
        assert list(api["named_endpoints"]) == ["/ask"]
    finally:
        demo.close()
