"""The answer to a prompt does not depend on what the model was asked before it (real model,
qwen2.5-0.5b): llama.cpp's cache is kept only up to the end of the system message, so every
prompt is read from the same point (rag.llm.LlamaCppModel._from_system_prefix)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

MODEL = "qwen2.5-0.5b"  # with smollm2-135m this test passes even without the fix: it must be able to fail
SYSTEM = "You answer questions about the passage. Reply Yes or No."
PASSAGE = " ".join(f"Line {i}: the Orrin Valley mill weighed {i * 7} sacks of barley on day {i}." for i in range(1, 40))


def _ask(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Passage: {PASSAGE}\n\nQuestion: {question}"}]


@pytest.fixture(scope="module")
def model():
    from rag.config import load_config
    from rag.llm import load_model
    from rag.models import resolve_model

    cfg = load_config()
    return load_model(resolve_model(MODEL, cfg.model_cache), n_ctx=cfg.n_ctx, n_threads=cfg.n_threads, seed=cfg.seed)


def test_a_prompt_gets_the_same_logits_whatever_was_asked_before_it(model):
    first = _ask("Did the mill weigh 14 sacks on day 2?")
    other = _ask("Did the mill weigh 15 sacks on day 3?")  # the same long passage: a long shared prefix
    alone = model.judge(first)
    reply = "".join(model.stream(first, max_tokens=12, temperature=0.0, seed=42))
    for _ in range(2):
        list(model.stream(other, max_tokens=12, temperature=0.0, seed=42))
        assert model.judge(first) == alone  # exactly: the same float, not merely close
        assert "".join(model.stream(first, max_tokens=12, temperature=0.0, seed=42)) == reply
