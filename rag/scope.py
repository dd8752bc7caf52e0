"""Questions that name an article: "in the budget article", "according to the Harbour Report".

Scope: pure functions that find where a question names the document it asks about, and
pick, among candidate articles, those whose title (or file name) that reference names.
Retrieval then searches only those articles (:meth:`rag.Assistant.retrieve`), so a passage
of another article on the same topic cannot answer for the one the user named, and ranks
their passages by the question without the article's name (:func:`without_reference`).

Only English words for documents ("article", "report", "piece", ...) and function words are
known here, never a topic's vocabulary. Every rule holds back when in doubt, since searching
the wrong article loses the answer while searching all of them only risks a distraction:

* a question that names two documents, or compares ("compared with", "versus", "than"),
  reaches beyond one article and is not scoped;
* the articles kept are those whose title holds the largest share of the reference's words,
  at least half of them, and only when that share tells articles apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .words import FUNCTION_WORDS, STOP_WORDS, stem, word_stems

# what users call a document, in English; none of it names a topic
DOCUMENT_NOUNS = frozenset("""
article articles piece pieces report reports story stories analysis analyses column columns post posts
newsletter newsletters paper papers release releases briefing briefings interview interviews editorial
editorials op-ed blog blogs memo memos summary summaries brief briefs feature features commentary
commentaries update updates document documents file files writeup write-up item items
""".split())

_NOUN = "|".join(sorted((re.escape(n) for n in DOCUMENT_NOUNS), key=len, reverse=True))
# "the <up to 7 words> article": the words before the noun name it ("the Harbour budget piece")
_NAMED_DOC = re.compile(rf"\b(?:the|this|that)\s+(?P<name>(?:[^\s,;?!]+\s+){{1,7}}?)(?P<noun>{_NOUN})\b", re.I)
# "according to <name>", up to a comma, "and", or the end
_ACCORDING = re.compile(r"\baccording\s+to\s+(?:the\s+)?(?P<name>[^,;?!]+?)\s*(?:[,;?!]|\band\b|$)", re.I)
_COMPARES = re.compile(r"\b(?:compared?\s+(?:with|to)|in\s+comparison|versus|vs\.?|as\s+opposed\s+to|than)\b",
                       re.I)
_ASIDE_AFTER = re.compile(r"^(?P<ask>[^()]*\?)\s*(?P<aside>\(.*\))$", re.S)
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*\.?")


def reference_words(text: str) -> frozenset[str]:
    """Stems of the words of ``text`` that can name a document: hyphenated words by their parts
    ("three-year-high" is three, year, high), "U.S." as "us", function words left out."""
    out = set()
    for token in _TOKEN.findall(text.replace("’", "'")):
        word = token.replace(".", "").lower()
        if word and word not in FUNCTION_WORDS:
            out.add(stem(word))
    return frozenset(out)


def document_references(question: str) -> list[str]:
    """The phrases of ``question`` that name a document, in order: "the X article" gives "X"
    (with the noun when it is capitalised, as in "the Harbour Report"), "according to X" gives X."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for m in _NAMED_DOC.finditer(question):
        words = m["name"].split()
        # the name is what stands right before the noun: "the thesis in the Harbour piece" names "Harbour"
        cut = max((i + 1 for i, w in enumerate(words) if w.lower().strip("'’") in STOP_WORDS), default=0)
        noun = m["noun"]
        name = " ".join(words[cut:]) + (" " + noun if noun[:1].isupper() else "")
        found.append((m.start(), name.strip()))
        taken.append(m.span())
    for m in _ACCORDING.finditer(question):
        if any(a <= m.start("name") < b for a, b in taken):
            continue  # "according to the X report": already found
        found.append((m.start(), m["name"].strip()))
    # "according to the article" names no article in particular
    return [name for _, name in sorted(found) if reference_words(name) - reference_words(" ".join(DOCUMENT_NOUNS))]


def scoped_reference(question: str) -> str | None:
    """The one document ``question`` asks about, or None: no reference, two references, or a
    comparison, which reaches beyond the article it names."""
    refs = document_references(question)
    if len({reference_words(r) for r in refs}) != 1 or _COMPARES.search(question):
        return None
    return refs[0]


def without_reference(question: str, reference: str) -> str:
    """``question`` with the name of its document replaced by the plain noun: "What does the
    Harbour budget piece say?" becomes "What does the piece say?". Once the search is confined
    to that document, its name tells none of its passages apart and draws those that repeat it
    (a masthead, a sign-off), so the rest of the question ranks them."""
    phrase = re.compile(rf"(?:\b(?:the|this|that)\s+)?{re.escape(reference)}(?:\s+(?P<noun>{_NOUN})\b)?", re.I)
    m = phrase.search(question)
    if m is None:
        return question
    last = reference.split()[-1].lower()
    noun = (m["noun"] or (last if last in DOCUMENT_NOUNS else "article")).lower()
    return f"{question[:m.start()]}the {noun}{question[m.end():]}"


def with_conversation_scope(follow_up: str, history: Sequence[Mapping[str, object]]) -> str:
    """A follow-up's standalone form, kept on the article the conversation is about.

    "In the Harbour budget article, what did rents do?" then "And wages?": the rewrite "What did
    wages do?" asks the whole corpus, and another article's wages answer it. A follow-up that
    names no document of its own stays on the one document the last user question named, when
    that question named exactly one: "What did wages do in the Harbour budget article?"."""
    if document_references(follow_up) or _COMPARES.search(follow_up):
        return follow_up
    last = next((str(t.get("content", "")) for t in reversed(history) if t.get("role") == "user"), "")
    if scoped_reference(last) is None:
        return follow_up
    m = _NAMED_DOC.search(last)
    phrase = f"in {m.group()}" if m else f"according to {_ACCORDING.search(last)['name'].strip()}"
    # "And wages? (Rents rose 3%.)", the follow-up with the last answer beside it: the question part
    m = _ASIDE_AFTER.match(follow_up.strip())
    ask, aside = (m["ask"], " " + m["aside"]) if m else (follow_up.strip(), "")
    return f"{ask.rstrip('?.! ')} {phrase}?{aside}"


def pick_articles(reference: str, titles: Mapping[object, str], texts: Mapping[object, str] | None = None,
                  min_share: float = 0.5) -> set:
    """The keys of ``titles`` (article -> its title and file name) that ``reference`` names.

    An article scores the share of the reference's words in its title, plus half the share of
    them anywhere in its title and ``texts`` (what is known of its body), over 1.5: "the Harbour
    budget piece" names the "Harbour Daily" article about a budget before the "Budget Week"
    one that never mentions Harbour. The best scorers are kept when their score is at least
    ``min_share``, their title holds a word of the reference, and not every article ties.
    An empty set means: do not scope."""
    wanted = reference_words(reference)
    if not wanted or not titles:
        return set()
    texts = texts or {}
    scores, in_title = {}, {}
    for key, title in titles.items():
        title_words = reference_words(title)
        body = title_words | word_stems(texts.get(key, "")) | reference_words(texts.get(key, ""))
        in_title[key] = len(wanted & title_words)
        scores[key] = (in_title[key] + 0.5 * len(wanted & body)) / (1.5 * len(wanted))
    best = max(scores.values())
    chosen = {key for key, score in scores.items() if score == best and in_title[key]}
    if best < min_share or not chosen or len(chosen) == len(titles):
        return set()
    return chosen


__all__ = ["DOCUMENT_NOUNS", "document_references", "pick_articles", "reference_words", "scoped_reference",
           "with_conversation_scope", "without_reference"]
