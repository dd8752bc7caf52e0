"""What kind of answer a question asks for, and whether an answer gives that kind.

Scope: pure functions over English question shapes. Some questions fix the kind of their
answer before any passage is read:

* an **amount**: "how many ships", "how much", "how high", "what is the length of", "what share
  of", "at what temperature", "what interest rate": the answer
  needs a number ("40", "forty", "a dozen", "doubled"). "How big a role" and "how much of a
  threat" ask for a degree, not an amount;
* a **count**: "how many ships": a number that is no year and no share ("in 2024" and "fell 12%"
  count no ships; "how many dollars" is answered in money);
* a **span of time or length**: "how long", "how many years": the answer needs a number with a
  unit of time or length ("three weeks", "1,230 km"), and a date ("22,000 years ago") is not
  one, unless the question asks "how long ago";
* a **name**: "what was the name of", "what are the names of": the answer must name someone or
  something the question does not ("a 71-year-old man" names no one).

A small model that finds no such thing in the passages still answers with what is there: a
date for "how many years did it take", a count of something else for "how long" ("80
avulsions"), a sentence with no number for "how high". Such an answer does not answer, however
well its passage backs it, so it becomes the refusal. Only question words, number words and
units of time and length are known here, never a topic's vocabulary; a question of any other
shape asks for no particular kind, and every answer passes.
"""

from __future__ import annotations

import re

from .numbers import quantities
from .words import names

AMOUNT, COUNT, SPAN, NAME = "amount", "count", "span", "name"

_NUMBER_WORDS = frozenset("""
zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds
thousand thousands million millions billion billions trillion dozen dozens half quarter third
none no single both once twice thrice double doubled triple tripled halved
""".split())
# the words of "3 million" or "a third of": a scale or a share, no count on their own
_SCALE_AND_SHARE = frozenset("hundred thousand million billion trillion half quarter third".split())
_TIME_UNITS = frozenset("""
second seconds minute minutes hour hours day days week weeks fortnight fortnights month months year years
decade decades century centuries millennium millennia generation generations season seasons
""".split())
_LENGTH_UNITS = frozenset("""
km kilometre kilometres kilometer kilometers mi mile miles m metre metres meter meters cm centimetre
centimetres centimeter centimeters mm ft foot feet yard yards inch inches nautical
""".split())
_SPAN_UNITS = _TIME_UNITS | _LENGTH_UNITS
# an amount, by the question's opening words or by the measure it names
# (not "how big a role" or "how much of a threat": a degree, not an amount; not "how big" or
# "how fast", which are as often answered in words)
_ASKS_AMOUNT = re.compile(
    r"\bhow\s+(?:many|much|high|far|deep|tall|old|wide|heavy)\b(?!\s+(?:a|an|of\s+an?)\s)"
    r"|\b(?:what|which)\s+(?:is|was|are|were)\s+the\s+(?:length|height|depth|width|area|size|population|number"
    r"|percentage|rate|amount|total|cost|price|value|distance|elevation|temperature|speed)\s+of\b"
    # "what share of the vote", "at what temperature does", "what interest rate did": the measure
    # ends the wh-phrase; "which budget airline" and "which prices rose" ask for a thing, not an amount
    r"|\b(?:what|which)\s+(?:[a-z]+\s+)?(?:prices?|percentage|proportion|share|fraction|rates?|sum|amount"
    r"|temperature|speed|distance|salary|fee|fine|budget)\s+"
    r"(?:of|is|was|are|were|do|does|did|has|have|had|will|would|can|could|should|must)\b", re.I)
# a name: "what was the name of the man who ...", "what are the names of": the answer must name someone
_ASKS_NAME = re.compile(r"\b(?:what|which)\s+(?:is|was|are|were)\s+(?:the\s+)?names?\s+of\b", re.I)
_ASKS_SPAN = re.compile(r"\bhow\s+long\b|\bhow\s+many\s+(?P<unit>[a-z]+)\b", re.I)
_TOKEN = re.compile(r"[a-z]+|\d[\d,.]*", re.I)
_MARKER = re.compile(r"\s*\[\d+\]")


def asked_kind(question: str) -> str | None:
    """:data:`SPAN`, :data:`NAME`, :data:`COUNT`, :data:`AMOUNT` or None (the question fixes no kind of answer)."""
    m = _ASKS_SPAN.search(question)
    if m and (m["unit"] is None or m["unit"].lower() in _TIME_UNITS):
        return SPAN
    if _ASKS_NAME.search(question):
        return NAME
    if m and m["unit"] is not None:
        return COUNT  # "how many ships"
    return AMOUNT if _ASKS_AMOUNT.search(question) else None


def _is_number(token: str) -> bool:
    return token[:1].isdigit() or token in _NUMBER_WORDS


def _gives_span(tokens: list[str], ago_asked: bool) -> bool:
    """A number followed, within three words, by a unit of time or length, and not by "ago";
    or a bare "decades", "centuries", "years" ("for decades")."""
    for i, token in enumerate(tokens):
        if not _is_number(token):
            continue
        for j in range(i + 1, min(i + 4, len(tokens))):
            if tokens[j] in _SPAN_UNITS:
                if tokens[j + 1:j + 2] == ["ago"] and not ago_asked:
                    break  # a date, not a span
                return True
    return any(t in _TIME_UNITS and t.endswith("s") and (i == 0 or not _is_number(tokens[i - 1]))
               and tokens[i + 1:i + 2] != ["ago"] for i, t in enumerate(tokens))


def gives_kind(kind: str | None, answer: str, *, ago_asked: bool = False) -> bool:
    """Whether ``answer`` (markers are ignored) gives an answer of ``kind``."""
    if kind is None:
        return True
    text = _MARKER.sub("", answer)
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    if kind == SPAN:
        return _gives_span(tokens, ago_asked)
    if kind == COUNT:  # a year or a share counts nothing ("1,850" is no year); a number in words does
        return (any(not (q.percent or q.is_year and "," not in text[start:end])
                    for q, start, end in quantities(text))
                or any(t in _NUMBER_WORDS - _SCALE_AND_SHARE for t in tokens))
    return bool(quantities(text)) or any(_is_number(t) for t in tokens)


def answers_kind(question: str, answer: str) -> bool:
    """Whether ``answer`` is of the kind ``question`` asks for (always, for most questions)."""
    if asked_kind(question) == NAME:  # a name the question does not already give ("a 71-year-old man" is none)
        return bool(names(_MARKER.sub("", answer)) - names(question))
    return gives_kind(asked_kind(question), answer, ago_asked=bool(re.search(r"\bago\b", question, re.I)))


__all__ = ["AMOUNT", "COUNT", "NAME", "SPAN", "answers_kind", "asked_kind", "gives_kind"]
