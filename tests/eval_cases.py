"""Hand-made eval cases shared by the eval harness's tests (test_evals, test_eval_gold, test_eval_run,
test_eval_inputs): passages, gold items and answers with known scores, a gold file writer, and a
fake assistant that answers from a table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag.errors import QuestionError
from rag.evals import GoldItem, parse_gold_line
from rag.types import Answer, Citation, Passage, Timings

ALU = "000_alu.txt"
OTHER = "001_other.txt"
THIRD = "002_third.txt"
EVIDENCE = "On the London Metal Exchange, aluminum futures rose 0.6% to settle at $2,902 per metric ton."


def passage(source: str, text: str, n: int = 0) -> Passage:
    return Passage(chunk_id=f"{source}:{n}", source=source, title=source, date=None, text=text,
                   start=0, end=len(text), score=0.5, rank=n + 1)


P_ALU = passage(ALU, "Aluminum hit a three-year high. " + EVIDENCE + " Demand rebounds in construction.")
P_OTHER = passage(OTHER, "Copper fell 3% after China said it would resume metal exports.")
P_THIRD = passage(THIRD, "Nickel traded around $16,500 per tonne.")
P_OTHER_WITH_FACT = passage(OTHER, "A later note repeated the $2,902 settlement price.", 1)


def gold(id: str, type: str = "number", must=(("2,?902",),), sources=(ALU,), evidence=EVIDENCE,
         question: str | None = None, **extra) -> GoldItem:
    obj = {"id": id, "type": type, "question": question or f"question {id}?", "answer": "ref",
           "must": [list(g) for g in must], "sources": list(sources), "evidence": evidence, **extra}
    return parse_gold_line(obj, "test")


def unanswerable(id: str) -> GoldItem:
    return gold(id, "unanswerable", must=(), sources=(), evidence="")


def answer(text: str, cited: list[Passage] = (), passages: list[Passage] | None = None,
           refused: bool = False, timings: Timings = Timings(), markers: list[int] | None = None) -> Answer:
    passages = list(passages if passages is not None else cited)
    markers = markers or [passages.index(p) + 1 for p in cited]
    citations = [Citation(m, passages[m - 1]) for m in markers]
    return Answer(question="q", text=text, citations=citations, passages=passages, refused=refused,
                  timings=timings, model="fake-model")


def write(tmp_path: Path, lines: list) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "q1", "type": "number", "question": "Price?", "answer": "2,902.", "must": [["2,?902", "2902"]],
        "sources": [ALU], "evidence": EVIDENCE}


@dataclass(frozen=True)
class FakeConfig:
    model: str = "fake-model"
    k: int = 2
    temperature: float = 0.0
    chunk_tokens: int = 120
    chunk_overlap: int = 25
    corpus: Path = Path("/corpus")


class FakeAssistant:
    """Answers from a table; records every call."""

    def __init__(self, config=FakeConfig()):
        self.config = config
        self.asked: list[tuple] = []
        self.retrieved: list[tuple] = []

    def retrieve(self, question, k=None):
        self.retrieved.append((question, k))
        return [P_OTHER, P_ALU, P_THIRD][:k]

    def ask(self, question, *, history=None, k=None):
        self.asked.append((question, history, k))
        if question == "too long?":
            raise QuestionError("question too long")
        passages = self.retrieve(question, k)
        t = Timings(retrieval=0.1, first_token=0.4, total=1.4, prompt_tokens=50, completion_tokens=20)
        if "zinc" in question:
            return Answer(question, "Not in the articles.", [], passages, True, t, "fake-model")
        if question == "And copper?":
            return Answer(question, "Copper fell 0.3% [1].", [Citation(1, passages[1])], passages, False, t,
                          "fake-model", standalone_question="How did copper move?")
        return Answer(question, "It settled at $2,902 [2].", [Citation(2, passages[1])], passages, False, t,
                      "fake-model")


def fake_gold_lines():
    return [
        GOOD,
        {"id": "q2", "type": "followup", "question": "And copper?", "answer": "Down 0.3%.",
         "must": [["0\\.3"], ["fell|down"]], "sources": [ALU], "evidence": "",
         "history": [{"role": "user", "content": "Aluminum?"}, {"role": "assistant", "content": "Up 0.6%."}]},
        {"id": "q3", "type": "unanswerable", "question": "What was zinc's price?", "answer": "Not given.",
         "must": [], "sources": [], "evidence": ""},
        {"id": "q4", "type": "fact", "question": "too long?", "answer": "x", "must": [["x"]], "sources": [THIRD]},
    ]
