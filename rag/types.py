"""Value types shared by every pipeline stage: documents, chunks, passages, answers.

All are frozen dataclasses so results can be cached, compared and serialised safely.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One article. ``text`` is the source text offsets refer to (the file as read,
    or the text extracted from HTML/PDF); ``spans`` are the (start, end) ranges of
    ``text`` kept after cleaning, in order."""

    source: str  # file name relative to the corpus folder, e.g. "000_ddcf69316a5a77b7.txt"
    doc_id: str  # "source" or "source#2" for the second article in a file
    title: str
    date: str | None
    text: str
    spans: tuple[tuple[int, int], ...]

    @property
    def clean_text(self) -> str:
        return "\n\n".join(self.text[s:e] for s, e in self.spans)


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one document. ``text == document.text[start:end]``."""

    chunk_id: str  # "source:n", stable for an unchanged file
    doc_id: str
    source: str
    title: str
    date: str | None
    text: str
    start: int
    end: int
    n_tokens: int
    content_hash: str  # sha256 of the text: the embedding cache key


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, as shown to the model. ``text`` equals the slice
    ``[start:end]`` of the document's source text (see ``Document.text``)."""

    chunk_id: str
    source: str
    title: str
    date: str | None
    text: str
    start: int
    end: int
    score: float  # cosine similarity of the dense embedding (0..1 for normalised vectors)
    rank: int = 0  # 1-based rank after fusion
    fused: float | None = None  # the retriever's score that ranked it (fused, or dense alone)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def union_spans(spans) -> tuple[tuple[int, int], ...]:
    """(start, end) spans in order, overlapping ones joined: one claim backed by sentence 1 and
    another by sentences 1 and 2 mark sentences 1 and 2 once."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


@dataclass(frozen=True)
class Citation:
    marker: int  # the n of "[n]" in the answer text, 1-based index into Answer.passages
    passage: Passage
    # the sentences of the passage that state the claims citing it, as (start, end) offsets into the
    # same text as passage.start/end; empty when the citation check did not run
    spans: tuple[tuple[int, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"marker": self.marker, "passage": self.passage.to_dict(), "spans": [list(s) for s in self.spans]}

    @property
    def quotes(self) -> list[str]:
        """The text of each span: the sentences that state what the answer says."""
        p = self.passage
        return [p.text[start - p.start:end - p.start] for start, end in self.spans]


@dataclass(frozen=True)
class Timings:
    retrieval: float = 0.0
    first_token: float = 0.0
    total: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    check: float = 0.0  # seconds of the checks after the answer was generated (rag.grounding, rag.support)
    load: float = 0.0  # seconds of loading the embedder before retrieval (a process's first question), in total only

    @property
    def tokens_per_second(self) -> float:
        gen = self.total - self.first_token - self.check  # decoding alone
        return self.completion_tokens / gen if gen > 0 and self.completion_tokens else 0.0


# why an answer is a refusal (``Answer.refusal``), as a reader is told it: "" when it is not one
REFUSAL_REASONS = {
    "nothing close": "nothing in the articles is close to the question, so the model was not asked",
    "model": "the model found no answer in the passages it was shown",
    "unbacked": "the model's answer states facts the passages it was shown do not hold",
    "kind": "the model's answer is not the kind of answer asked for (a figure, a date, a name)",
    "figures": "a figure or year the question gives is not where the answer's facts are",
    "judgement": "the passages do not state the answer to this exact question (the model's own reading of them)",
    "coverage": "a name or word the question gives is not where the answer's facts are (no judgement was asked)",
}


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # with inline [n] markers; markers pointing at no passage removed
    citations: list[Citation]
    passages: list[Passage]  # shown to the model, in prompt order; [n] -> passages[n-1]
    refused: bool
    timings: Timings = field(default_factory=Timings)
    model: str = ""
    standalone_question: str | None = None  # the rewritten question for a follow-up
    low_confidence: bool = False  # best retrieval score under the configured threshold
    draft: str = ""  # the model's text as generated, before citation checks (shows what grounding removed)
    support: Any = None  # rag.support.Support: the support check's signals and verdict, when it ran
    scope: tuple[str, ...] = ()  # titles of the articles the question named and was searched in (rag.scope)
    parts: tuple["Answer", ...] = ()  # a multi-part question's answer to each part, with its own support check
    refusal: str = ""  # why it is a refusal: a key of REFUSAL_REASONS; "" when it is not one

    @property
    def why_refused(self) -> str:
        """The reason for a refusal, as a reader is told it; "" for an answer."""
        return REFUSAL_REASONS.get(self.refusal, "") if self.refused else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "text": self.text,
            "refused": self.refused,
            "low_confidence": self.low_confidence,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings": {**dataclasses.asdict(self.timings),
                        "tokens_per_second": self.timings.tokens_per_second},
            "model": self.model,
            "draft": self.draft,
            "support": self.support.to_dict() if self.support is not None else None,
            "scope": list(self.scope),
            "parts": [p.to_dict() for p in self.parts],
            "refusal": self.refusal,
            "why_refused": self.why_refused,
        }


def merge_answers(question: str, standalone: str | None, parts: list[Answer], total: float) -> Answer:
    """One answer from the answers to the parts of a question: the answered parts' texts in
    order, their passages numbered one after another and markers renumbered to match. A passage
    shown for two parts (the same stretch of the same article) is listed once, under one number.
    A part the articles do not answer says so; the whole is a refusal only when every part is.
    ``parts`` keeps each part's own answer, with its support check."""
    import re

    passages: list[Passage] = []
    number: dict[tuple[str, int, int], int] = {}  # a passage's stretch -> its marker in the whole
    spans: dict[int, tuple[tuple[int, int], ...]] = {}  # cited marker in the whole -> its claims' spans
    texts: list[str] = []
    for a in parts:
        renumber: dict[int, int] = {}
        for i, p in enumerate(a.passages, start=1):
            key = (p.chunk_id, p.start, p.end)
            if key not in number:
                # a stretch inside one already listed (a part's passage cut to its sentences) is that one
                within = next((n for (chunk, start, end), n in number.items()
                               if chunk == p.chunk_id and start <= p.start and p.end <= end), None)
                # one already listed inside this one: this wider stretch takes its place and number
                holds = next((n for (chunk, start, end), n in number.items()
                              if chunk == p.chunk_id and p.start <= start and end <= p.end), None)
                if within is None and holds is not None:
                    passages[holds - 1] = p
                    within = holds
                if within is None:
                    passages.append(p)
                    within = len(passages)
                number[key] = within
            renumber[i] = number[key]
        if a.refused:
            texts.append(f"The articles do not answer “{a.question}”")
            continue
        texts.append(re.sub(r"\[(\d+)\]", lambda m: f"[{renumber.get(int(m.group(1)), int(m.group(1)))}]", a.text))
        for c in a.citations:
            marker = renumber[c.marker]
            spans[marker] = union_spans(spans.get(marker, ()) + c.spans)  # two parts may cite it
    citations = [Citation(m, passages[m - 1], s) for m, s in spans.items()]
    refused = all(a.refused for a in parts)
    # "... do not answer “Who is its CFO?”" already ends with the question's own mark
    text = parts[0].text if refused else " ".join(
        t if t.rstrip("”\"").endswith((".", "?", "!")) else t + "." for t in texts)
    first = parts[0].timings
    return Answer(
        question=question, text=text, citations=citations, passages=passages, refused=refused,
        timings=Timings(retrieval=round(sum(a.timings.retrieval for a in parts), 4), first_token=first.first_token,
                        total=round(total, 4), prompt_tokens=sum(a.timings.prompt_tokens for a in parts),
                        completion_tokens=sum(a.timings.completion_tokens for a in parts),
                        check=round(sum(a.timings.check for a in parts), 4),
                        load=round(sum(a.timings.load for a in parts), 4)),
        model=parts[0].model, standalone_question=standalone, low_confidence=any(a.low_confidence for a in parts if refused or not a.refused),  # a refused part says so itself
        draft="\n".join(a.draft for a in parts),
        scope=tuple(dict.fromkeys(t for a in parts for t in a.scope)),
        parts=tuple(parts),
        refusal=parts[0].refusal if refused else "",
    )
