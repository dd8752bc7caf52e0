"""The OpenAI-compatible backend (rag.server_llm): a real ``python -m llama_cpp.server`` with the
smallest shipped GGUF on loopback, and tiny stub servers for a closed port, a slow reply and HTTP 500."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag import Answer, Assistant, ModelError, RagError
from rag.config import Config, load_config
from rag.server_llm import ServerModel

MODEL = "smollm2-135m"
QUESTION = "What did Goldman Sachs forecast for copper?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _model_path() -> Path:
    from rag.models import resolve_model

    return resolve_model(MODEL, Config().model_cache)


# --- a real llama.cpp server ---------------------------------------------------------------

@pytest.fixture(scope="module")
def llm_server(tmp_path_factory):
    port = _free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(_model_path()), "--model_alias", MODEL,
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", str(os.cpu_count() or 1)],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {Path(log.name).read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not become ready in 90 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def served(llm_server, tmp_path_factory, embedder):
    import shutil

    from conftest import SEEDS

    base = tmp_path_factory.mktemp("served")
    shutil.copytree(SEEDS, base / "corpus")
    return Assistant(corpus=base / "corpus", index_dir=base / "index", embedder=embedder, llm_url=llm_server)


@pytest.mark.integration
def test_assistant_streams_a_checked_answer_from_the_server(served):
    events = list(served.stream(QUESTION))
    answer = events[-1]
    assert isinstance(answer, Answer) and len(events) > 2 and all(isinstance(e, str) for e in events[:-1])
    assert answer.model == MODEL and answer.passages
    assert answer.timings.completion_tokens > 0 and answer.timings.prompt_tokens > 0
    assert answer.refused or answer.citations
    for c in answer.citations:  # every citation points at a shown passage that is a real span of its file
        assert f"[{c.marker}]" in answer.text and c.passage is answer.passages[c.marker - 1]
        source = (served.config.corpus / c.passage.source).read_text(encoding="utf-8")
        assert source[c.passage.start:c.passage.end] == c.passage.text


@pytest.mark.integration
def test_server_counts_tokens_and_judges_like_the_in_process_model(served):
    from rag.llm import load_model

    remote = served.llm
    assert isinstance(remote, ServerModel) and remote.n_ctx == 2048
    local = load_model(_model_path(), n_ctx=2048, n_threads=None, seed=42)
    text = served.retrieve(QUESTION)[0].text
    assert remote.count_tokens(text) == local.count_tokens(text)  # the server's tokenizer, not an estimate
    messages = [{"role": "user", "content": "Is copper a metal? Answer Yes or No."}]
    p_remote, p_local = remote.judge(messages), local.judge(messages)
    assert 0.0 < p_remote < 1.0  # a probability from logprobs, not the 0/1 of a read reply
    assert abs(p_remote - p_local) < 0.05


@pytest.mark.integration
def test_the_server_backend_defuses_the_remote_models_own_control_tokens(served):
    """The server backend defuses what the in-process model defuses: every tag-shaped control
    token of the served model's vocabulary, most of which no common template names."""
    from rag.llm import load_model
    from rag.safety import neutralise_messages
    from rag.server_llm import _TAG

    local = load_model(_model_path(), n_ctx=2048, n_threads=None, seed=42)
    tags = [t for t in local.control_tokens if _TAG.fullmatch(t)]
    messages = [{"role": "user", "content": "Prices rose. " + " x ".join(tags) + " <b>Note</b> [sic]"}]
    remote = served.llm.guard(messages)
    assert remote == local.guard(messages)
    assert remote != neutralise_messages(messages)  # the common templates' list alone misses some
    assert "<b>Note</b> [sic]" in remote[0]["content"]


# --- stub servers: down, slow, failing -------------------------------------------------------

def _chunk(text: str) -> dict:
    return {"id": "1", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}}]}


class _Stub(BaseHTTPRequestHandler):
    # path (with "#stream" for streamed requests) -> (status, JSON body or a list of SSE chunks,
    # seconds to sleep first, seconds to stall after the chunks instead of ending the stream)
    routes: dict = {}

    def log_message(self, *args):  # keep pytest's output clean
        pass

    def _reply(self):
        request = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        key = self.path + ("#stream" if request.get("stream") else "")
        status, body, delay, stall = self.routes.get(key, self.routes.get(self.path, (404, {"detail": "Not Found"}, 0, 0)))
        time.sleep(delay)
        if callable(body):  # a reply that depends on the request
            status, body = body(request)
        if isinstance(body, list):
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            for event in body:
                self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                self.wfile.flush()
            time.sleep(stall)
            if not stall:
                self.wfile.write(b"data: [DONE]\n\n")
            return
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _serve(self):
        try:
            self._reply()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up first, as it should
            pass

    do_GET = do_POST = _serve


@pytest.fixture
def stub():
    servers = []

    def start(routes: dict) -> str:
        handler = type("Handler", (_Stub,), {"routes": routes})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


MODELS_OK = (200, {"object": "list", "data": [{"id": "m", "object": "model", "max_model_len": 1024}]}, 0, 0)
MESSAGES = [{"role": "user", "content": "hi"}]


def test_a_closed_port_is_one_clear_error():
    url = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(ModelError, match=rf"^LLM server {url}: connection failed \(.*refused.*\); is the server running\?$"):
        ServerModel(url, timeout=5)


def test_the_cli_prints_one_line_when_the_server_is_down(monkeypatch, tmp_path):
    import shutil

    from conftest import SEEDS

    from rag.cli import cli

    (tmp_path / "corpus").mkdir()
    shutil.copy(sorted(SEEDS.iterdir())[0], tmp_path / "corpus")  # one article: a quick index
    url = f"http://127.0.0.1:{_free_port()}/v1"
    monkeypatch.setenv("RAG_LLM_URL", url)
    result = CliRunner().invoke(cli, ["ask", QUESTION, "--corpus", str(tmp_path / "corpus"),
                                      "--index-dir", str(tmp_path / "index")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith(f"error: LLM server {url}: connection failed")


def test_a_slow_server_times_out_instead_of_hanging(stub):
    url = stub({"/v1/models": (200, {"data": []}, 3, 0)})
    t0 = time.monotonic()
    with pytest.raises(ModelError, match=rf"^LLM server {url}: no reply within 0.5 s \(llm_timeout\)$"):
        ServerModel(url, model="m", timeout=0.5)
    assert time.monotonic() - t0 < 2.5


def test_a_stream_that_stalls_midway_times_out(stub):
    url = stub({"/v1/models": MODELS_OK, "/v1/chat/completions": (200, [_chunk("Copper")], 0, 3)})
    model = ServerModel(url, timeout=0.5)
    pieces = []
    with pytest.raises(ModelError, match="no reply within 0.5 s"):
        for piece in model.stream(MESSAGES, max_tokens=8, temperature=0.0, seed=1):
            pieces.append(piece)
    assert pieces == ["Copper"]


def test_http_500_is_one_clear_error(stub):
    broken = (500, {"error": {"message": "model crashed\n  at line 3"}}, 0, 0)
    url = stub({"/v1/models": broken})
    with pytest.raises(ModelError, match=rf"^LLM server {url}: HTTP 500: model crashed at line 3$"):
        ServerModel(url)
    url = stub({"/v1/models": MODELS_OK, "/v1/chat/completions": broken})
    model = ServerModel(url)
    with pytest.raises(ModelError, match="HTTP 500: model crashed"):
        list(model.stream(MESSAGES, max_tokens=8, temperature=0.0, seed=1))
    with pytest.raises(ModelError, match="HTTP 500"):
        model.judge(MESSAGES)


def test_a_server_that_is_not_openai_compatible_is_named_as_such(stub):
    # HTTP 200 but no event stream: never an empty answer (which would read as a refusal)
    url = stub({"/v1/models": MODELS_OK, "/v1/chat/completions#stream": (200, {"page": "<html>hello</html>"}, 0, 0)})
    with pytest.raises(ModelError, match="held no events; is it an OpenAI-compatible server"):
        list(ServerModel(url).stream(MESSAGES, max_tokens=8, temperature=0.0, seed=1))
    url = stub({"/v1/models": MODELS_OK, "/v1/chat/completions": (501, {"detail": "Unsupported method"}, 0, 0)})
    with pytest.raises(ModelError, match="HTTP 501: .*is it an OpenAI-compatible server, and does llm_url end in /v1"):
        list(ServerModel(url).stream(MESSAGES, max_tokens=8, temperature=0.0, seed=1))


def test_a_server_that_hangs_up_on_a_request_points_at_its_context():
    class HangsUp(_Stub):  # as llama.cpp's server does with a prompt longer than its context
        routes = {"/v1/models": MODELS_OK}

        def do_POST(self):
            self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), HangsUp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        model = ServerModel(f"http://127.0.0.1:{server.server_address[1]}/v1", n_ctx=512)
        with pytest.raises(ModelError, match="hung up: is its context at least n_ctx=512"):
            list(model.stream(MESSAGES, max_tokens=8, temperature=0.0, seed=1))
    finally:
        server.shutdown()
        server.server_close()


def test_judge_falls_back_to_the_first_word_without_logprobs(stub):
    """A server that ignores logprobs, or refuses them (HTTP 400): the judgement reads the reply."""
    plain = (200, {"id": "1", "object": "chat.completion", "created": 0, "model": "m",
                   "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Yes"}}]}, 0, 0)
    refused = (400, {"error": {"message": "logprobs are not supported"}}, 0, 0)
    for reply in (plain, refused):
        url = stub({"/v1/models": MODELS_OK, "/v1/chat/completions": reply,
                    "/v1/chat/completions#stream": (200, [_chunk("Yes"), _chunk(", it is.")], 0, 0)})
        assert ServerModel(url).judge(MESSAGES) == 1.0


def test_tags_the_servers_tokenizer_reads_as_one_token_are_defused(stub):
    """A remote model's own control tokens are unknown to any fixed list: each tag in the
    messages is asked of the server's tokenizer once, and a tag it reads as one token is sent
    as look-alike text. A failing tokenizer call defuses the tag too."""
    asked, sent = [], []
    special = {"<secret_turn>", "[ctrl]"}

    def count(request):
        text = request["input"]
        asked.append(text)
        if text == "<broken>":
            return 500, {"error": {"message": "boom"}}
        return 200, {"count": 1 + (1 if text in special else 0 if text == "" else 4)}  # this model adds a BOS

    def chat(request):
        sent.append(request["messages"])
        return 200, [_chunk("ok")]

    url = stub({"/v1/models": MODELS_OK, "/extras/tokenize/count": (200, count, 0, 0),
                "/v1/chat/completions#stream": (200, chat, 0, 0)})
    model = ServerModel(url)
    text = "Read <secret_turn> then [ctrl], <b>bold</b> [sic] [3] and <broken>."
    for _ in range(2):
        assert "".join(model.stream([{"role": "user", "content": text}], max_tokens=4, temperature=0, seed=1)) == "ok"
    content = sent[-1][0]["content"]
    assert "‹secret_turn›" in content and "⟦ctrl⟧" in content and "‹broken›" in content
    assert "<secret_turn>" not in content and "[ctrl]" not in content
    assert "<b>bold</b> [sic] [3]" in content  # ordinary tags, and the citation marker, untouched
    tags = [t for t in asked if t.startswith(("<", "["))]  # not the probe's "a b", nor the usage count
    assert sorted(tags) == sorted(set(tags))  # each tag asked about once, not once per request


def test_a_server_context_smaller_than_the_setting_bounds_the_prompt(stub):
    url = stub({"/v1/models": MODELS_OK})
    assert ServerModel(url, n_ctx=2048).n_ctx == 1024 and ServerModel(url, n_ctx=512).n_ctx == 512
    assert ServerModel(url).name == "m"  # no name set: the first model the server lists


def test_a_server_that_lists_no_models_needs_a_name(stub):
    url = stub({"/v1/models": (200, {"object": "list", "data": []}, 0, 0)})
    with pytest.raises(ModelError, match=rf"^LLM server {url}: it lists no models; set llm_model_name"):
        ServerModel(url)
    assert ServerModel(url, model="mine").name == "mine"


def test_without_a_tokenizer_the_estimate_never_undercounts(stub):
    """No tokenize endpoint: the prompt budget uses an estimate that must not fall below the
    real token count, or the prompt could overflow the server's context."""
    from llama_cpp import Llama

    from conftest import SEEDS

    from rag.chunking import chunk_documents
    from rag.ingest import load_file
    from rag.prompt import SYSTEM_PROMPT

    model = ServerModel(stub({"/v1/models": MODELS_OK}))
    assert model._tokenize is None
    vocab = Llama(model_path=str(_model_path()), vocab_only=True, verbose=False)
    docs = [d for f in sorted(SEEDS.iterdir()) for d in load_file(f, f.name)[1]]
    texts = [c.text for c in chunk_documents(docs, 150, 30)] + [SYSTEM_PROMPT]
    assert len(texts) > 20
    for text in texts:
        assert model.count_tokens(text) >= len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def test_settings_from_env_and_the_key_stays_secret(monkeypatch):
    from rag.evals.runs import _config_settings

    monkeypatch.setenv("RAG_LLM_URL", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("RAG_LLM_MODEL_NAME", "qwen")
    monkeypatch.setenv("RAG_LLM_API_KEY", "sk-secret")
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "7.5")
    cfg = load_config()
    assert (cfg.llm_url, cfg.llm_model_name, cfg.llm_api_key, cfg.llm_timeout) == ("http://127.0.0.1:8000/v1", "qwen", "sk-secret", 7.5)
    assert "sk-secret" not in repr(cfg)
    assert "sk-secret" not in json.dumps(_config_settings(type("A", (), {"config": cfg})()))
    with pytest.raises(RagError, match="llm_url='127.0.0.1:8000'"):
        Config().replace(llm_url="127.0.0.1:8000")
    with pytest.raises(RagError, match="llm_timeout=0.0"):
        Config().replace(llm_timeout=0)
