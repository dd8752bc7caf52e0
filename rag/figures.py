"""What a passage says about a figure besides its value: which way it moved, whether the passage
denies it, whether it is one end of a range. Pure functions for the fact check (:mod:`rag.grounding`).

A claim's number is found in a passage by value and unit (:meth:`rag.numbers.Quantity.backed_by`);
these rules say when a number found there still does not state the claim: "Exports rose 5%" is
not backed by "Exports fell 5%", "It cost $5 million" not by "Reports that it cost $5 million
are false", "It costs $5 million" not by "between $3 million and $5 million". Only general
English words are known here (verbs of direction, of denial), never a topic's vocabulary.
"""

from __future__ import annotations

import re

from .numbers import DOWN as _DOWN
from .numbers import UP as _UP
from .numbers import Quantity
from .words import stem


def moves(text: str) -> tuple[set[str], set[str]]:
    """(directions ``text`` states, directions it denies): "rose" states "up", "did not rise" denies
    it. Lower-case words only ("Rose Byrne" moves nothing)."""
    said, denied = set(), set()
    tokens = re.findall(r"[A-Za-z][A-Za-z’']*", text)
    for i, w in enumerate(tokens):
        way = "up" if w.islower() and stem(w) in _UP else "down" if w.islower() and stem(w) in _DOWN else ""
        if way:
            before = [t.lower() for t in tokens[max(0, i - 3):i]]
            negated = any(t in ("not", "never", "no") or t.endswith(("n't", "n’t")) for t in before)
            (denied if negated else said).add(way)
    return said, denied


def against(way: str, text: str) -> bool:
    """``text`` says the figure moved the other way, or denies that it moved ``way``, and never
    says it moved ``way``: "rose 5%" cited to "fell 5%" or to "did not rise 5%"."""
    if not way:
        return False
    said, denied = moves(text)
    return way not in said and bool(({"up", "down"} - {way}) & said or way in denied)


# a clause that denies what it holds: "denied that ...", "denied paying ...", "rejected reports
# that ...", "it is not true that ...", up to the clause's end (a comma, "but", a full stop; a
# decimal point or thousands comma is no end), and "reports that ... are false"
_CLAUSE = r"(?P<s>(?:[^.;:!?,]|(?<=\d)[.,](?=\d))*?)(?=\s+but\b|[.;:!?,]|$)"
_REPORTS = r"(?:reports?|claims?|suggestions?|allegations?|rumou?rs?|speculation)"
_FALSE = r"(?:false|untrue|wrong|inaccurate|incorrect|baseless|unfounded|not\s+true)"
_UNTRUE = r"(?:false|untrue|inaccurate|incorrect|baseless|unfounded|not\s+true)"  # "it is wrong that" judges
_DENIALS = (
    # "denied paying $2m": a verb's -ing form; not a noun in -thing ("denied wrongdoing over a $5m payment")
    re.compile(rf"\bden(?:y|ies|ied|ying)\s+(?:(?:having\s+)?(?=\w+ing\b)(?!\w*thing\b|wrongdoing\b)"
               rf"|(?:(?:the|any)\s+)?(?:{_REPORTS}\s+)?that\s+){_CLAUSE}", re.I),
    re.compile(rf"\b(?:reject|dismiss|disput|refut)\w*\s+(?:(?:the|any)\s+)?{_REPORTS}\s+that\s+{_CLAUSE}", re.I),
    re.compile(rf"\b(?:is|was|it's)\s+{_UNTRUE}\s+that\s+{_CLAUSE}", re.I),
    re.compile(rf"\b{_REPORTS}\s+that\s+(?P<s>[^.;:!?]*?)\s+(?:are|were|is|was|have\s+been|had\s+been)\s+"
               rf"(?:(?:completely|entirely|simply|totally|also)\s+)?{_FALSE}\b", re.I),
)
# a claim that itself reports a denial or a negation is backed by the denial as written
_NEGATES = re.compile(rf"\b(?:den(?:y|ies|ied|ying|ial)|reject\w*|dismiss\w*|disput\w*|refut\w*|{_FALSE}"
                      r"|not|never)\b|n[’']t\b", re.I)


# a denial denied: "there is no denying that ...", "nobody denied that ...", "did not dispute reports that ..."
_NEGATOR = re.compile(r"\b(?:no|not|never|nobody|none|cannot)\s+(?:\w+\s+){0,2}$|n[’']t\s+(?:\w+\s+){0,2}$", re.I)


def denied_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds words it denies: a number there is reported only to be denied."""
    return [m.span("s") for rx in _DENIALS for m in rx.finditer(text)
            if not _NEGATOR.search(text[max(0, m.start() - 40):m.start()])]


# a number after "the", "its" names a thing the denial takes as given: "denied approving the $5m payment"
# ("that" is not one: "denied that 300 workers were fired" is the clause's own "that")
_GIVEN = re.compile(r"\b(?:the|its|his|her|their|whose)\s+(?:(?-i:[A-Z]{1,3})\s?)?[$€£¥₹₩₽]?\s?$", re.I)


def is_denied(text: str, spans: list[tuple[int, int]], at: int) -> bool:
    """The number at ``at`` lies in a denied clause of ``text`` (:func:`denied_spans`) as what is
    denied, not as a thing the denial takes as given."""
    return any(a <= at < b for a, b in spans) and not _GIVEN.search(text[max(0, at - 40):at])


def negates(sentence: str) -> bool:
    """The sentence itself denies or negates something ("The mayor denied that ...")."""
    return bool(_NEGATES.search(sentence))


# a passage number: (quantity, stems of the words near it, whether its sentence denies it)
Number = tuple[Quantity, set[str], bool]


def backs(q: Quantity, p: Quantity, near: set[str], values: set[float], way: str = "") -> bool:
    """``p`` states the claim's number ``q`` (``values``: every number of the claim; ``way``: the
    direction the claim states, :func:`moves`): an end of a
    range backs only the same end of a range the claim states too ("$3m to $5m"), or a bound on
    that side ("up to $5m" by the high end); "costs $5m" is not "between $3m and $5m"."""
    if not q.backed_by(p, near, way):
        return False
    return not p.end or q.bound == p.end or any(abs(v - (p.other or 0.0)) <= 1e-9 * max(1.0, abs(v)) for v in values)


def stated(q: Quantity, numbers: list[Number], values: set[float], denials: bool = False, way: str = "") -> bool:
    """A passage number of the run states ``q`` (a number its sentence denies only when the claim
    reports a denial too: ``denials``); or ``q`` is written in words and the run counts nothing in
    its unit: a model writes its own sums in words ("took four years, from 2019 to 2023"), but
    "seven members" where the passage has "9 members" is another count."""
    if any(backs(q, p, near, values, way) for p, near, denied in numbers if denials or not denied):
        return True
    return q.spelled and not (q.unit and any(p.unit == q.unit for p, _, _ in numbers))


__all__ = ["Number", "against", "backs", "denied_spans", "is_denied", "moves", "negates", "stated"]
