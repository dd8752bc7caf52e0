"""The retrieval-only eval on the project's gold set, with the real embedder and FAISS (no LLM)."""

import pytest

from rag import Assistant
from rag.evals import load_gold, run_eval

from conftest import ROOT

pytestmark = pytest.mark.integration


def test_retrieval_only_eval_on_gold(seeds_copy, tmp_path, embedder):
    gold = load_gold(ROOT / "evals" / "gold.jsonl")
    assistant = Assistant(corpus=seeds_copy, index_dir=tmp_path / "idx", embedder=embedder)
    run = run_eval(assistant, gold, retrieval_only=True)
    overall = run.summary["overall"]
    assert overall["n"] == len(gold) >= 60
    # a regression guard on retrieval quality, measured 96.6% / 0.947 when set
    assert overall["recall_at_k"] >= 0.92
    assert overall["mrr"] >= 0.88
