"""Follow-ups: tell a question that needs the conversation from one that stands alone, and
check that a follow-up's rewrite keeps all of the question.

Scope: pure string functions over English function words and sentence shapes, as
:mod:`rag.decompose`, whose word lists they share; no model and no topic's vocabulary.

    needs_context(q)            -> True when q cannot be searched as asked (pronoun, ellipsis)
    needs_conversation(q, h)    -> needs_context, or, in a conversation, a question that names nothing
    opens_a_whole_question(q)   -> True for "And where was X trading?": an opener, then a whole question
    keeps_question(q, rewrite)  -> False when a follow-up's rewrite dropped part of q
"""

from __future__ import annotations

import re

from .decompose import _AUX, _DEMONSTRATIVE, _NOW, _PERSONAL, _WH, _dummy_it, _is_name, _words, split_question
from .words import FUNCTION_WORDS, names
from .words import stem as _stem

_PREPS = frozenset("about of in on at for from with after before since to by like over under into during despite "
                   "against without through".split())
_POSSESSIVE = frozenset("his her hers its their theirs".split())
_ELLIPSIS = re.compile(r"^(?:(?:and|but|so)\s+)?(?:(?:what|how)\s+about|what\s+else|anything\s+else|then\s+what)\b",
                       re.I)
# where a first clause ends
_BOUNDARY = re.compile(r",\s*(?:and|but)\s|;|\s[—–-]\s|:\s|(?<=[.?!])\s"
                       r"|\s(?:and|but)\s+(?=(?:what|who|which|when|where|why|how)\b)")
_OPENER = frozenset("and but so also or then".split())


def needs_conversation(question: str, history: list[dict[str, str]]) -> bool:
    """Whether ``question``, asked after ``history``, is read in the conversation: it cannot be
    searched as asked (:func:`needs_context`), or it names nothing (no name, no figure) after a
    conversation that did, or it opens with a conjunction ("And what did the later report say?").
    "How much of the money came from central government?" after a question about a flood wall
    asks about the wall's money; a question that turns to another subject names it."""
    if not history:
        return False
    if needs_context(question):
        return True
    # "And what did the later report say?", "But how many were rescued?": an opening conjunction
    # adds to the conversation, whatever the question names
    first = question.split(maxsplit=1)[0].lower().strip(",") if question.split() else ""
    if first in _OPENER:
        return True
    said = " ".join(str(t.get("content", "")) for t in history)
    return not (names(question) or re.search(r"\d", question)) and bool(names(said) or re.search(r"\d", said))


def needs_context(question: str) -> bool:
    """True when ``question`` cannot be searched as asked and needs the conversation.

    The rule, in order:
      * elliptical: "What about X?", "How about X?", "What else?", or an opening "and"/"but"/"so"
        with at most 3 words after it ("And the ferry?", "And then?");
      * short: at most 4 words and no name or number ("Why?", "Who won it?"), or no content word;
      * a pronoun with nothing before it to point at: he/she/him/her/it/they/them unless a name
        (a capitalised word past the first) comes before it; its/their/his unless any content
        word comes before, other than those of a question word's object right before the
        auxiliary ("Which prize did his film win?"); "it" in "is it true that <clause>" or "did it take ... to <clause>"
        is a dummy subject and does not count;
      * a demonstrative standing for a thing: this/that/these/those at the start, after a
        question word, auxiliary or preposition, or at the end ("Why did that happen?",
        "What came after that?"), but not "said that ..." nor "this year";
      * "there" not in "is there"/"there are" ("What happened there?").
    Only the first clause is scanned for these when it has two content words of its own,
    since a later "it"/"that" can point back into it ("X is at a high - when was it last this high?").
    A full question with its own subject returns False.
    """
    text = " ".join(question.split())
    words = _words(text)
    if not words or _ELLIPSIS.match(text):
        return True
    if words[0].lower() in _OPENER:
        if len(words) <= 4:
            return True
        text = text.split(" ", 1)[1]
        words = _words(text)
    low = [w.lower() for w in words]
    content = [w for w in low if w not in FUNCTION_WORDS and len(w) > 2]
    named = any(_is_name(words, i) for i in range(len(words)))
    if not content or (len(words) <= 4 and not named):
        return True
    # past the first clause a pronoun may point back into it: "What did the council decide, and why was that?"
    head = _words(_BOUNDARY.split(text, maxsplit=1)[0])
    scan = len(head) if len(content_stems(" ".join(head))) >= 2 else len(low)
    for i, w in enumerate(low[:scan]):
        prev, nxt = (low[i - 1] if i else None), (low[i + 1] if i + 1 < len(low) else None)
        before = range(i)
        if w == "her" and nxt and nxt not in FUNCTION_WORDS:
            w = "his"  # "her company" is a possessive
        if w in _PERSONAL:
            if w == "it" and (prev is None or prev in _AUX | _WH) and _dummy_it(low, i):
                continue
            if not any(_is_name(words, j) for j in before):
                return True
        elif w in _POSSESSIVE:
            if not any(low[j] not in FUNCTION_WORDS and len(low[j]) > 2 for j in before) or _opens_subject(low, i):
                return True
        elif w in _DEMONSTRATIVE:
            if w in ("this", "these") and nxt in _NOW:
                continue
            if prev is None or nxt is None or prev in _AUX | _WH | _PREPS | _OPENER:
                return True
        elif w == "there" and not (prev in _AUX or nxt in _AUX):
            return True
    return False


def _opens_subject(low: list[str], i: int) -> bool:
    """The possessive at ``i`` opens the subject after the auxiliary of a question whose question
    word leads an object: "Which prize did his film win?". The words before it are the thing
    asked about, which a pronoun of the same clause cannot point at; "What did the mayor say
    about his plan?" has its subject, "the mayor", between the auxiliary and the pronoun."""
    if not low or low[0] not in _WH:
        return False
    aux = next((j for j in range(1, i) if low[j] in _AUX), None)
    return aux is not None and all(w in FUNCTION_WORDS or len(w) <= 2 for w in low[aux + 1:i])


def opens_a_whole_question(question: str) -> bool:
    """"And where was X trading?": an opening and/but/so before a question word or an auxiliary,
    and no pronoun, possessive or demonstrative to resolve; "And the ferry?" and "And where did
    they go?" are not."""
    low = [w.lower() for w in _words(question)]
    return (len(low) >= 4 and low[0] in ("and", "but", "so") and (low[1] in _WH or low[1] in _AUX)
            and not set(low[1:]) & (_PERSONAL | _POSSESSIVE | _DEMONSTRATIVE) and not _ELLIPSIS.match(question.strip()))


def content_stems(text: str) -> set[str]:
    """Stems of the words of ``text`` that are not stop words and longer than 2 letters."""
    return {_stem(w) for w in _words(text) if w.lower() not in FUNCTION_WORDS and len(w) > 2}


def keeps_question(question: str, rewrite: str) -> bool:
    """Whether ``rewrite`` keeps all of ``question``: every content word of the question is in
    the rewrite (pronouns and "what about" are stop words, so they may be replaced), and a
    multi-part question stays multi-part with at least as many parts."""
    if not rewrite.strip():
        return False
    if not content_stems(question) <= content_stems(rewrite):
        return False
    return len(split_question(rewrite)) >= len(split_question(question))
