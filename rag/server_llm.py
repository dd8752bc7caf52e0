"""Chat models behind an OpenAI-compatible server (llama.cpp's server, llama-cpp-python's
``python -m llama_cpp.server``, vLLM, Ollama, a hosted API), through the ``openai`` client.

``ServerModel`` is a ``ChatModel`` like the in-process one, so the prompt, the citation check,
the support check and the eval run on it unchanged. What a server offers beyond the OpenAI
API is probed once when connecting: a tokenizer endpoint (llama.cpp), a context size
(vLLM's ``max_model_len``, llama.cpp's ``/props``). Every failure becomes one ``ModelError``
line naming the URL and the problem.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterator
from typing import Any

from .errors import ModelError
from .llm import ChatModel
from .safety import neutralise_messages, special_pattern

log = logging.getLogger(__name__)

# the most top_logprobs the OpenAI API allows; Yes/No are among them whenever they matter
TOP_LOGPROBS = 20
# Without the server's tokenizer, prompt sizes are cl100k counts with a margin: on the seeds and
# gold questions SmolLM2's and Qwen2.5's tokenizers gave at most 1.2x cl100k on passages (README).
ESTIMATE_FACTOR, ESTIMATE_SLACK = 1.3, 4
# the shapes a vocabulary's special tokens take (<tool_call>, <repo_name>, [multimodal]); a
# bracketed number is a citation marker, which rag.safety.quote already rewrote
_TAG = re.compile(r"<[^<>\s]{1,48}>|\[(?!\d+\])[^\[\]\s]{2,48}\]")
_MOST_TAGS = 4096  # tags remembered per server, so a long-running UI's memory stays bounded


def _one_line(text: Any, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


class ServerModel(ChatModel):
    """Chat completions, streamed, from an OpenAI-compatible server at ``url`` (…/v1)."""

    def __init__(self, url: str, *, model: str | None = None, api_key: str | None = None,
                 timeout: float = 60.0, n_ctx: int = 2048):
        try:
            import openai
        except ImportError as err:
            raise ModelError("the openai package is not installed: pip install 'rag-news[server]'") from err
        self._openai = openai
        self.url = url.rstrip("/")
        self.timeout = timeout
        # never the caller's OPENAI_API_KEY: it must not leak to whatever server llm_url names
        self._client = openai.OpenAI(base_url=self.url, api_key=api_key or "none", timeout=timeout, max_retries=0)
        self._root = self.url.removesuffix("/v1")
        listed = self._probe_models()
        if model is None and not listed:
            raise ModelError(f"LLM server {self.url}: it lists no models; set llm_model_name (RAG_LLM_MODEL_NAME)")
        self.name = model or str(listed[0]["id"])
        self.spec_name = self.name  # rag.models' measured judge thresholds apply when the names match
        entry = next((m for m in listed if m.get("id") == self.name), {})
        server_ctx = entry.get("max_model_len") or self._llamacpp_ctx()  # vLLM, else llama.cpp's server
        # the prompt budget is the smaller of the setting and what the server says it holds
        self.n_ctx = min(n_ctx, int(server_ctx)) if server_ctx else n_ctx
        self._tokenize = self._find_tokenizer()
        # llama.cpp servers take llama.cpp's sampling settings, so their answers match the in-process model's
        self._llamacpp = self._tokenize is not None
        self._usage = threading.local()
        self._tags: dict[str, bool] = {}  # tag -> whether the server's tokenizer reads it as one token
        self._tags_lock = threading.Lock()
        self._floor: int | None = None
        log.info("LLM server %s: model %s, n_ctx %d, tokenizer %s", self.url, self.name, self.n_ctx,
                 "server" if self._tokenize else "estimate")

    # --- errors and probes -----------------------------------------------------------

    def _error(self, err: Exception) -> ModelError:
        o = self._openai
        if isinstance(err, o.APITimeoutError):
            problem = f"no reply within {self.timeout:g} s (llm_timeout)"
        elif isinstance(err, o.APIConnectionError):
            cause = err.__cause__ or err
            while cause.__cause__ is not None:  # the socket error under the HTTP library's wrappers
                cause = cause.__cause__
            problem = f"connection failed ({_one_line(cause) or type(cause).__name__}); is the server running?"
            if isinstance(cause, ConnectionResetError) or "disconnect" in str(cause).lower():
                # llama.cpp's server drops a request longer than its context instead of answering 400
                problem += f" It took the request and hung up: is its context at least n_ctx={self.n_ctx}?"
        elif isinstance(err, o.APIStatusError):
            detail = re.sub(r"^Error code: \d+ - ", "", str(err.message))  # the client's prefix repeats the code
            problem = f"HTTP {err.status_code}: {_one_line(detail)}"
            if err.status_code in (404, 405, 501):
                problem += "; is it an OpenAI-compatible server, and does llm_url end in /v1?"
        else:
            problem = _one_line(err) or type(err).__name__
        return ModelError(f"LLM server {self.url}: {problem}")

    def _get(self, path: str) -> Any:
        """GET a JSON endpoint; None when the server does not offer it (HTTP 4xx)."""
        try:
            return self._client.get(path, cast_to=object)
        except self._openai.APIStatusError as err:
            if err.status_code < 500:
                return None
            raise self._error(err) from None
        except self._openai.OpenAIError as err:
            raise self._error(err) from None

    def _probe_models(self) -> list[dict[str, Any]]:
        listed = self._get("/models")
        data = listed.get("data") if isinstance(listed, dict) else None
        return [m for m in data if isinstance(m, dict) and "id" in m] if isinstance(data, list) else []

    def _llamacpp_ctx(self) -> int | None:
        props = self._get(f"{self._root}/props")
        settings = props.get("default_generation_settings") if isinstance(props, dict) else None
        n = settings.get("n_ctx") if isinstance(settings, dict) else None
        return int(n) if isinstance(n, (int, float)) and n > 0 else None

    def _find_tokenizer(self):
        """Token counting by the server: llama-cpp-python's ``/extras/tokenize/count``, else
        llama.cpp's ``/tokenize``; None when the server has neither."""
        endpoints = (
            (f"{self._root}/extras/tokenize/count", lambda text: {"input": text, "model": self.name},
             lambda reply: reply.get("count")),
            (f"{self._root}/tokenize", lambda text: {"content": text},
             lambda reply: len(reply["tokens"]) if isinstance(reply.get("tokens"), list) else None),
        )
        for url, body, read in endpoints:
            try:
                reply = self._client.post(url, body=body("a b"), cast_to=object)
            except self._openai.OpenAIError:
                continue
            if isinstance(reply, dict) and isinstance(read(reply), int):
                return lambda text, url=url, body=body, read=read: int(read(self._client.post(url, body=body(text), cast_to=object)))
        return None

    def _is_one_token(self, tag: str, floor: int) -> bool:
        try:
            return self._tokenize(tag) - floor == 1
        except (self._openai.OpenAIError, TypeError, ValueError) as err:
            log.warning("LLM server %s: cannot tokenize %r (%s); treating it as a control token", self.url, tag, err)
            return True  # when in doubt, defuse: look-alike text costs the answer nothing

    def _special_tags(self, messages: list[dict[str, str]]) -> re.Pattern | None:
        """The tags in ``messages`` that the server's tokenizer reads as one token, with special
        tokens parsed: the remote model's own control and user-defined tokens, which no fixed
        list knows. Each tag is asked about once; without a tokenizer endpoint, none."""
        if self._tokenize is None:
            return None
        found = {m.group(0) for msg in messages for m in _TAG.finditer(str(msg.get("content", "")))}
        with self._tags_lock:
            unknown = sorted(found - self._tags.keys())
            if unknown:
                if self._floor is None:
                    self._floor = self._tokenize_floor()
                if len(self._tags) + len(unknown) > _MOST_TAGS:
                    self._tags = {}
                for tag in unknown:
                    self._tags[tag] = self._is_one_token(tag, self._floor)
            return special_pattern(t for t in found if self._tags.get(t))

    def _tokenize_floor(self) -> int:
        """Tokens in an empty text: llama-cpp-python's count includes BOS for models that add one."""
        try:
            return int(self._tokenize(""))
        except (self._openai.OpenAIError, TypeError, ValueError):
            return 0

    # --- ChatModel -------------------------------------------------------------------

    def guard(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        """The base class's neutralising, plus the tags the server's own tokenizer would read as
        control tokens (``ChatModel.special`` is known only for a model loaded in process)."""
        return neutralise_messages(messages, self._special_tags(messages))

    def count_tokens(self, text: str) -> int:
        if self._tokenize is not None:
            try:
                return self._tokenize(text)
            except self._openai.OpenAIError as err:
                raise self._error(err) from None
        from .chunking import count_tokens

        return math.ceil(ESTIMATE_FACTOR * count_tokens(text)) + ESTIMATE_SLACK

    @property
    def last_usage(self) -> tuple[int, int]:  # per thread: the UI answers several people at once
        return getattr(self._usage, "value", (0, 0))

    @last_usage.setter
    def last_usage(self, value: tuple[int, int]) -> None:
        self._usage.value = value

    def _request(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float, seed: int,
                 stop: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        # passages are data: no control-token text reaches the server's chat template (rag.safety)
        args: dict[str, Any] = dict(model=self.name, messages=self.guard(messages), max_tokens=max_tokens,
                                    temperature=temperature, top_p=1.0 if temperature == 0 else 0.95, seed=seed, **extra)
        if stop:
            args["stop"] = stop
        if self._llamacpp:  # the in-process model's sampling (rag.llm.LlamaCppModel.stream)
            args["extra_body"] = {"top_k": 1 if temperature == 0 else 40, "repeat_penalty": 1.05}
        return args

    def stream(self, messages, *, max_tokens, temperature, seed, stop=None):
        args = self._request(messages, max_tokens=max_tokens, temperature=temperature, seed=seed, stop=stop)
        pieces, usage, events = 0, None, 0
        try:
            with self._client.chat.completions.create(
                    stream=True, stream_options={"include_usage": True}, **args) as chunks:
                for chunk in chunks:
                    events += 1
                    usage = chunk.usage or usage
                    piece = chunk.choices[0].delta.content if chunk.choices else None
                    if piece:
                        pieces += 1
                        yield piece
        except self._openai.OpenAIError as err:
            raise self._error(err) from None
        if not events:  # an HTTP 200 with no event stream: not an answer, and never to be shown as a refusal
            raise ModelError(f"LLM server {self.url}: the reply to a streamed chat completion held no events; "
                             "is it an OpenAI-compatible server?")
        if usage is not None:
            self.last_usage = (usage.prompt_tokens or 0, usage.completion_tokens or 0)
        else:  # servers that send no usage: llama.cpp's streams one token a piece
            self.last_usage = (sum(self.count_tokens(m["content"]) for m in messages), pieces)

    def judge(self, messages, *, seed=42):
        """p(Yes) against p(No) from the first token's top logprobs, when the server gives
        them; else the base class's reading of a short greedy reply."""
        try:
            reply = self._client.chat.completions.create(
                **self._request(messages, max_tokens=1, temperature=0.0, seed=seed, logprobs=True, top_logprobs=TOP_LOGPROBS))
        except self._openai.BadRequestError:  # a server that refuses logprobs
            log.info("LLM server %s gives no logprobs; judging by the reply's first word", self.url)
            return super().judge(messages, seed=seed)
        except self._openai.OpenAIError as err:
            raise self._error(err) from None
        content = reply.choices[0].logprobs.content if reply.choices and reply.choices[0].logprobs else None
        if not content or not content[0].top_logprobs:
            return super().judge(messages, seed=seed)
        p = {"yes": 0.0, "no": 0.0}
        for alt in content[0].top_logprobs:
            word = alt.token.strip().lower()
            if word in p:
                p[word] += math.exp(alt.logprob)
        return p["yes"] / (p["yes"] + p["no"]) if p["yes"] + p["no"] > 0 else 0.5


_CONNECTED: dict[tuple, ServerModel] = {}
_CONNECT_LOCK = threading.Lock()


def connect(url: str, *, model: str | None = None, api_key: str | None = None, timeout: float = 60.0,
            n_ctx: int = 2048) -> ServerModel:
    """A ``ServerModel`` for these settings, probed once per process and shared."""
    key = (url, model, api_key, timeout, n_ctx)
    with _CONNECT_LOCK:
        if key not in _CONNECTED:
            _CONNECTED[key] = ServerModel(url, model=model, api_key=api_key, timeout=timeout, n_ctx=n_ctx)
        return _CONNECTED[key]
