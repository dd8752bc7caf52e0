"""A fake Assistant and hand-made answers for the UI's unit tests (test_ui_unit, test_ui_render):
built from ``rag.types``, no models, no index."""

from __future__ import annotations

from pathlib import Path

from rag.config import Config
from rag.errors import CorpusError, QuestionError
from rag.types import Answer, Citation, Passage, Timings

ALU = (
    "Aluminum Hits Three-Year High\n\n"
    "Aluminum prices surged to their highest level since May 2022. In October alone, aluminum "
    "climbed more than 7%, marking its strongest monthly performance in over a year. "
    "Analysts said <tight> supply & demand drove the move."
)
COPPER = "Copper Soars\n\nCopper hit a record $11,200 a tonne on supply disruptions at big mines."


def _passage(source: str, text: str, needle: str, rank: int, score: float = 0.6, title: str = "T") -> Passage:
    start = text.index(needle)
    return Passage(chunk_id=f"{source}:{rank}", source=source, title=title, date="2025-11-01",
                   text=needle, start=start, end=start + len(needle), score=score, rank=rank)


P1 = _passage("000_alu.txt", ALU, "In October alone, aluminum climbed more than 7%", 1, title="Aluminum Hits Three-Year High")
P2 = _passage("001_cu.txt", COPPER, "Copper hit a record $11,200 a tonne", 2, 0.41, title="Copper Soars")
P3 = _passage("000_alu.txt", ALU, "Analysts said <tight> supply & demand drove the move.", 3, 0.35,
              title="Aluminum Hits Three-Year High")


def make_answer(text="Aluminum climbed more than 7% in October [1].", cited=(1,), passages=(P1, P2, P3), **kw) -> Answer:
    passages = list(passages)
    return Answer(question=kw.pop("question", "How much did aluminum climb?"), text=text,
                  citations=[Citation(m, passages[m - 1]) for m in cited], passages=passages,
                  refused=kw.pop("refused", False), timings=Timings(0.05, 0.4, 1.5, 300, 20),
                  model="fake-model", **kw)


class FakeIndexReport:
    def __init__(self, **kw):
        self.files, self.added, self.updated, self.removed, self.unchanged = 0, 0, 0, 0, 0
        self.embedded, self.n_chunks, self.skipped = 0, 0, []
        self.__dict__.update(kw)


class FakeDoc:
    def __init__(self, source, title, date, n_chunks, n_chars):
        self.source, self.title, self.date, self.n_chunks, self.n_chars = source, title, date, n_chunks, n_chars


class FakeAssistant:
    """The Assistant API surface the UI uses, with canned answers."""

    def __init__(self, tmp: Path):
        self.config = Config(corpus=tmp / "corpus", index_dir=tmp / "index", model="fake-model",
                             max_question_chars=200, max_file_bytes=10_000)
        self.texts = {"000_alu.txt": ALU, "001_cu.txt": COPPER}
        self.calls: list[dict] = []

    def stream(self, question, *, history=None, k=None, temperature=None, model=None):
        q = " ".join((question or "").split())
        if not q:
            raise QuestionError("the question is empty; ask something about the articles")
        if len(q) > self.config.max_question_chars:
            raise QuestionError(f"the question is {len(q):,} characters long; the limit is 200")
        self.calls.append({"question": q, "history": history, "k": k, "temperature": temperature, "model": model})
        if "explode" in q:
            raise CorpusError("the index is broken <b>badly</b>")
        if "zorblax" in q.lower():
            yield "The articles do not say."
            yield Answer(question=q, text="The articles do not say.", citations=[], passages=[P2], refused=True,
                         low_confidence=True, model="fake-model")
            return
        text = "Aluminum climbed more than 7% in October [1]."
        for piece in ("Aluminum ", "climbed more than 7% ", "in October [1]."):
            yield piece
        yield make_answer(text, question=q, standalone_question=("How much did aluminum climb?" if history else None))

    def ask(self, question, **kw):
        final = None
        for ev in self.stream(question, **kw):
            if isinstance(ev, Answer):
                final = ev
        return final

    def document_text(self, source):
        try:
            return self.texts[source]
        except KeyError:
            raise CorpusError(f"no document {source!r} in the index") from None

    def documents(self):
        return [FakeDoc(s, t.split("\n", 1)[0], "2025-11-01", 2, len(t)) for s, t in sorted(self.texts.items())]

    def add_files(self, paths, progress=None):
        for i, p in enumerate(paths):
            if progress:
                progress(i, len(paths), "embedding")
            self.texts[Path(p).name] = Path(p).read_text(encoding="utf-8")
        return FakeIndexReport(files=len(self.texts), added=len(paths), embedded=3, n_chunks=7)

    def remove_document(self, source):
        if source not in self.texts:
            raise CorpusError(f"no document {source!r}")
        del self.texts[source]
        return FakeIndexReport(files=len(self.texts), removed=1, n_chunks=4)
