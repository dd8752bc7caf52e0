"""Local chat models through llama-cpp-python.

``ChatModel`` is the interface (one abstract method, ``stream``); ``LlamaCppModel``
is the real one. Models are loaded once per process and shared (see ``load_model``).
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

from .errors import ModelError
from .safety import neutralise_messages, special_pattern

log = logging.getLogger(__name__)


class ChatModel(ABC):
    name: str = "model"
    n_ctx: int = 2048
    last_usage: tuple[int, int] = (0, 0)  # (prompt tokens, completion tokens) of the last call
    special: re.Pattern | None = None  # the model's own control-token strings, when its vocabulary is known

    @abstractmethod
    def stream(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float,
               seed: int, stop: list[str] | None = None) -> Iterator[str]:
        """Yield the reply to ``messages`` piece by piece."""

    def guard(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        """``messages`` with no text that the chat template's tokenizer would read as a control
        token; every backend calls it on what it sends (see rag.safety)."""
        return neutralise_messages(messages, self.special)

    def count_tokens(self, text: str) -> int:
        # a conservative estimate for models without a tokenizer at hand
        return max(1, len(text) // 3)

    def judge(self, messages: list[dict[str, str]], *, seed: int = 42) -> float:
        """p(Yes) of a yes/no question. This default reads the first word of a short greedy
        reply (0 or 1); models with logits at hand override it with the probability."""
        reply = "".join(self.stream(messages, max_tokens=3, temperature=0.0, seed=seed)).strip().lower()
        return 1.0 if reply.startswith("yes") else 0.0


def _control_tokens(llm) -> list[str]:
    """The text of every token llama.cpp's tokenizer reads as a special token (with special
    tokens on), from the model's vocabulary: <|im_end|>, <start_of_turn>, <unused0>, and the
    user-defined ones (<tool_call>, Gemma's [multimodal]), which it parses from text as well."""
    import llama_cpp as C

    vocab = C.llama_model_get_vocab(llm.model)
    flags = C.LLAMA_TOKEN_ATTR_CONTROL | C.LLAMA_TOKEN_ATTR_UNKNOWN | C.LLAMA_TOKEN_ATTR_USER_DEFINED
    return [C.llama_vocab_get_text(vocab, i).decode("utf-8", "replace")
            for i in range(C.llama_vocab_n_tokens(vocab)) if C.llama_vocab_get_attr(vocab, i) & flags]


class LlamaCppModel(ChatModel):
    """``vocab_only`` loads the tokenizer and chat template without the weights (for checks
    on the rendered prompt; nothing can be generated)."""

    lock_timeout: float = 300.0  # seconds a call waits for the model while another generates

    def __init__(self, path: Path, *, n_ctx: int = 2048, n_threads: int | None = None, seed: int = 42,
                 name: str | None = None, vocab_only: bool = False):
        try:
            from llama_cpp import Llama
        except ImportError as err:
            raise ModelError("llama-cpp-python is not installed: pip install llama-cpp-python") from err
        self.path = Path(path)
        self.name = name or self.path.name
        threads = n_threads or max(1, os.cpu_count() or 1)
        log.info("loading %s (n_ctx=%d, %d threads)", self.path, n_ctx, threads)
        try:
            self._llm = Llama(model_path=str(self.path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                              n_batch=512, seed=seed, verbose=False, vocab_only=vocab_only)
        except (ValueError, RuntimeError, OSError) as err:
            raise ModelError(f"cannot load model {self.path}: {err}; is it a complete GGUF file?") from err
        self.n_ctx = self._llm.n_ctx()
        self.lock = threading.Lock()  # llama.cpp contexts are not thread-safe
        self._system_prefix: dict[str, int] = {}  # system message -> tokens every prompt with it shares
        # message text can never become a control token of this model (see rag.safety)
        self.control_tokens = tuple(_control_tokens(self._llm))
        self.special = special_pattern(self.control_tokens)

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _from_system_prefix(self, messages: list[dict[str, str]]) -> None:
        """Keep llama.cpp's cache only up to the end of the system message, so that every prompt
        is read from the same point. llama.cpp reuses whatever prefix the new prompt shares with
        the last one; read from another point, the same prompt gives logits that differ in the
        last bits, and greedy decoding turns that into another answer, so the answer to a
        question depended on the question asked before it (README, "Answers on any corpus")."""
        if not messages or messages[0].get("role") != "system":
            return
        system = messages[0]["content"]
        if system not in self._system_prefix:
            try:
                self._system_prefix[system] = self._shared_prefix(messages[0])
            except Exception as err:  # a template that cannot render this pair: llama.cpp's own prefix reuse
                log.warning("cannot find where the system message ends in %s's chat template (%s); "
                            "answers may depend on the question before them", self.name, err)
                self._system_prefix[system] = self._llm.n_ctx()
        self._llm.n_tokens = min(self._llm.n_tokens, self._system_prefix[system])

    def _shared_prefix(self, system: dict[str, str]) -> int:
        """How many tokens every prompt that opens with ``system`` shares: the common prefix of two
        prompts that differ only in their user message, rendered by the model's chat template."""
        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            return self._llm.n_ctx()  # no template to render: llama.cpp's own prefix reuse, as before
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        model = self._llm._model
        render = Jinja2ChatFormatter(template=template, eos_token=model.token_get_text(model.token_eos()),
                                     bos_token=model.token_get_text(model.token_bos()))
        a, b = (self._llm.tokenize(render(messages=[system, {"role": "user", "content": text}]).prompt.encode("utf-8"),
                                   add_bos=False, special=True) for text in ("a", "b"))
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        return n

    def _first_token_ids(self, *words: str) -> list[int]:
        ids = set()
        for w in words:
            toks = self._llm.tokenize(w.encode("utf-8"), add_bos=False, special=False)
            if toks:
                ids.add(toks[0])
        return sorted(ids)

    def judge(self, messages, *, seed=42):
        """p(Yes) against p(No) from the logits of the reply's first token. Continuing a
        prompt that was just answered reuses llama.cpp's cached tokens for the shared prefix."""
        import numpy as np
        from llama_cpp import LogitsProcessorList

        yes = self._first_token_ids("Yes", " Yes", "yes", "YES")
        no = self._first_token_ids("No", " No", "no", "NO")
        seen: dict[str, np.ndarray] = {}

        def grab(input_ids, scores):
            seen.setdefault("scores", np.array(scores, dtype=np.float64, copy=True))
            return scores

        messages = self.guard(messages)
        self._acquire()
        try:
            self._from_system_prefix(messages)
            self._llm.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, top_k=1, seed=seed,
                                             logits_processor=LogitsProcessorList([grab]))
        finally:
            self.lock.release()
        scores = seen["scores"]
        top = scores.max()
        p_yes = float(np.exp(scores[yes] - top).sum())
        p_no = float(np.exp(scores[no] - top).sum())
        return p_yes / (p_yes + p_no) if p_yes + p_no > 0 else 0.5

    def _acquire(self) -> None:
        if not self.lock.acquire(timeout=self.lock_timeout):
            raise ModelError(f"the model {self.name} is busy: waited {self.lock_timeout:g} s for another answer to "
                             "finish (setting model_wait); try again")

    def stream(self, messages, *, max_tokens, temperature, seed, stop=None):
        """Generation runs in a worker thread that holds the model lock, never across a ``yield``:
        a stream that is closed stops at the next token, and one that is abandoned (a closed tab)
        runs to ``max_tokens`` at most; either way the lock is released without the consumer."""
        messages = self.guard(messages)
        self._acquire()
        try:
            self._from_system_prefix(messages)
        except BaseException:
            self.lock.release()
            raise
        pieces: queue.SimpleQueue = queue.SimpleQueue()
        cancelled = threading.Event()

        def generate() -> None:
            try:
                completion = 0
                chunks = self._llm.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=temperature, seed=seed,
                    top_k=1 if temperature == 0 else 40, top_p=1.0 if temperature == 0 else 0.95,
                    repeat_penalty=1.05, stop=stop, stream=True,
                )
                for part in chunks:
                    if cancelled.is_set():
                        chunks.close()
                        break
                    piece = part["choices"][0].get("delta", {}).get("content")
                    if piece:
                        completion += 1
                        pieces.put(piece)
                prompt_tokens = self._llm.n_tokens - completion  # n_tokens = prompt + generated after the call
                self.last_usage = (max(0, prompt_tokens), completion)
            except BaseException as err:  # handed to the consumer
                pieces.put(err)
            finally:
                self.lock.release()
                pieces.put(_DONE)

        threading.Thread(target=generate, name=f"generate-{self.name}", daemon=True).start()
        try:
            while (item := pieces.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancelled.set()


_DONE = object()
_LOADED: dict[tuple, ChatModel] = {}
_LOAD_LOCK = threading.Lock()


def in_background(load: Callable[[], ChatModel]) -> Callable[[], ChatModel]:
    """Run ``load`` in a thread; the call returned waits for its model, or raises its error.

    A process's first question imports the embedder (seconds of Python imports) for retrieval;
    llama.cpp loads the model's weights outside the GIL, so both can run at once."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(load())
        except BaseException as err:  # handed to whoever waits for the model
            future.set_exception(err)

    threading.Thread(target=run, name="load-model", daemon=True).start()
    return future.result


def load_model(path: Path, *, n_ctx: int, n_threads: int | None, seed: int, name: str | None = None) -> ChatModel:
    """Load a GGUF once per process; later calls with the same settings share it.
    Only one model stays loaded, to bound memory."""
    key = (str(Path(path).resolve()), n_ctx, n_threads)
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED.clear()
            _LOADED[key] = LlamaCppModel(path, n_ctx=n_ctx, n_threads=n_threads, seed=seed, name=name)
        return _LOADED[key]
