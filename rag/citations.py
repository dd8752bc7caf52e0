"""Parse inline citation markers and recognise refusals in model output. Pure functions."""

from __future__ import annotations

import re

from .types import Citation, Passage

# [1], [1, 2], [1][2], [Passage 1], 【1】, (1)? no: parentheses are too often plain text
MARKER = re.compile(r"[\[【]\s*(?:passages?|source|ref)?\s*(\d+(?:\s*(?:,|;|and|-|–)\s*\d+)*)\s*[\]】]", re.IGNORECASE)
_SPACED_MARKER = re.compile(r"\s*" + MARKER.pattern, re.IGNORECASE)

_SOURCE = r"(?:articles?|passages?|sources?|texts?|context|documents?|information provided|information given)"
_REFUSAL = re.compile(
    # "the passages do not say", "Passage [2] does not provide", "none of the articles mention"
    rf"\b{_SOURCE}\s*(?:\[?\d+\]?\s*)?(?:do|does|did)\s*(?:not|n[’']t)\s+"
    r"(?:say|state|mention|specify|provide|contain|include|give|indicate|discuss|address|answer|report|list)"
    rf"|\bnone of the (?:given |provided )?{_SOURCE}"
    # "not mentioned in any of the given passages", "is not specified"
    r"|\bnot\s+(?:explicitly\s+)?(?:mentioned|stated|given|provided|specified|found|included|discussed|reported|available)"
    rf"(?:\s+in\s+(?:any\s+of\s+)?the\s+(?:given\s+|provided\s+)?{_SOURCE})?\s*(?:\.|$)"
    r"|\bno\s+(?:information|mention|data|details?)\s+(?:about|on|of|regarding|is|are|was|were)\b"
    r"|\bthere\s+is\s+no\s+(?:information|mention|data|figure|answer)\b"
    r"|\b(?:cannot|can[’']t|unable to)\s+(?:answer|determine|find|provide|be determined)"
    r"|^(?:i\s+)?(?:do not|don[’']t)\s+know\b",
    re.IGNORECASE,
)


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", group):
        if re.fullmatch(r"\d+\s*[-–]\s*\d+", part):
            a, b = (int(x) for x in re.split(r"\s*[-–]\s*", part))
            out.extend(range(a, b + 1) if 0 < b - a < 10 else [a, b])
        elif part.strip().isdigit():
            out.append(int(part))
    return out


def parse_citations(text: str, passages: list[Passage]) -> tuple[str, list[Citation]]:
    """Normalise markers to ``[n]``, drop those that point at no passage, and list the
    citations in order of first use. Returns (clean text, citations)."""
    cited: list[int] = []

    def repl(m: re.Match) -> str:
        valid = [n for n in _numbers(m.group(1)) if 1 <= n <= len(passages)]
        for n in valid:
            if n not in cited:
                cited.append(n)
        return "".join(f"[{n}]" for n in dict.fromkeys(valid))

    clean = MARKER.sub(repl, text)
    clean = re.sub(r"[ \t]+([.,;:!?])", r"\1", clean)  # "fact [9]." -> "fact." when [9] was dropped
    clean = re.sub(r"[ \t]{2,}", " ", clean).strip()
    return clean, [Citation(marker=n, passage=passages[n - 1]) for n in cited]


# what makes a refusal say so of the articles, or of the speaker: "the passages do not say", "I do not know"
# ("documents" and "sources" are left out: "the documents do not contain evidence of fraud [1]" is news)
_ABOUT_SOURCES = re.compile(r"\b(?:articles?|passages?|context|(?:given|provided) texts?|information (?:provided|given))\b"
                            r"|\b(?:I|we)\b|^(?:do not|don[’']t)\s+know\b", re.IGNORECASE)


def is_refusal(text: str) -> bool:
    """True when the answer says the passages do not answer the question.

    Its first sentence must say so. A sentence that only *sounds* like one ("Investigators were
    unable to determine the cause", "no data were released") is news when the model cites a
    passage for it: it is a refusal only when it names the articles or the speaker ("the passages
    do not say", "I cannot determine"), or cites nothing."""
    head = text.strip()
    if not head:
        return True
    first, *rest = re.split(r"(?<=[.!?])\s", head, maxsplit=1)  # a refusal leads; a caveat later is not one
    first, rest = first[:300], (rest[0] if rest else "")
    if not _REFUSAL.search(first):
        return False
    cited = MARKER.search(first) or MARKER.match(rest.lstrip())  # "... on Friday. [1]": the marker after the stop
    return not cited or bool(_ABOUT_SOURCES.search(first))


def strip_markers(text: str | None) -> str:
    """``text`` without citation markers in any form :data:`MARKER` reads ([1], [1, 2], [Passage 3])."""
    return _SPACED_MARKER.sub("", text or "").strip()


def refusal_sentence(text: str | None) -> str:
    """The first sentence of a refusal, on one line and without markers: the rest of a reply
    that opens by refusing is checked against no passage, so it is never shown."""
    head = " ".join(strip_markers(text).split())
    return re.split(r"(?<=[.!?])\s", head, maxsplit=1)[0] if head else ""


def partial_rest(text: str | None) -> str:
    """What a reply that opens by refusing says after that sentence, when it goes on to answer
    ("The articles do not say what the closure saves. The petition gathered 6,200 signatures."):
    "" when nothing follows, when what follows refuses too, or when it talks about the articles
    rather than the news ("The passages only mention the budget.")."""
    head = (text or "").strip()
    parts = re.split(r"(?<=[.!?])\s", head, maxsplit=1)
    rest = parts[1].strip() if len(parts) == 2 else ""
    if len(re.findall(r"[^\W_]+", rest)) < 3 or _REFUSAL.search(rest) or _ABOUT_SOURCES.search(strip_markers(rest)):
        return ""
    return rest
