"""Words, stems and names of English text: the one place that says what a word is.

Scope: tokens, the stop-word list, stems (Snowball English), content words and proper
names; numbers with their units are :mod:`rag.numbers`. Pure functions, shared by retrieval, the citation check and
question splitting, so that "what counts as a word of the question" means the same thing
everywhere. Nothing here knows any topic's vocabulary.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# general English function words: articles, pronouns, auxiliaries, prepositions, conjunctions,
# question words and a few quantifiers and adverbs
FUNCTION_WORDS = frozenset("""
a an the and or but nor so yet if then than else also too very just only even still again ever once further
i me my mine we us our ours you your yours he him his she her hers it its they them their theirs
this that these those there here who whom whose which what when where why how whether
is are was were be been being am do does did doing done has have had having
will would shall should can could may might must
of in on at to for from by with as into onto about over under after before during while until since
up down out off per via upon within without between among through across against toward towards
around near like despite except beyond behind above below
not no yes any some each every all both either neither other another such own same
more most less least much many few one ones
""".split())
# the stop words: function words, plus words that talk about the text rather than its content
# ("the article says", "a key point of the passage")
STOP_WORDS = FUNCTION_WORDS | frozenset("""
according article articles passage passages text texts said says say tell told state states stated mention mentions
mentioned note notes noted key point important highlight highlights provide provides provided information detail details
""".split())

# words that open a sentence without naming anything ("However, ..."): not checked as names
_OPENERS = frozenset("""however also yes no based overall therefore thus additionally furthermore moreover meanwhile
instead currently today here there first second finally in on at as according while although though because since
unfortunately sure certainly
besides apart aside excluding including outside amongst unlike regarding concerning considering following given
give list name describe explain compare summarise summarize show identify please""".split())  # "Besides X, ...", "Name the ..."

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9’'.\-‐‑‒–—―−]*[A-Za-z0-9]|[A-Za-z0-9]")
DASHES = str.maketrans("‐‑‒–—―−", "-------")  # typographic dashes as hyphens: "11–13th" is "11-13th"
_WORD = re.compile(r"[A-Za-z][A-Za-z’'-]*[A-Za-z]|[A-Za-z]")
_POSSESSIVE = re.compile(r"[’']s?$")
_CONTRACTION = re.compile(r"[’'](?:s|m|re|ve|d|ll)$")  # "What's", "I'm", "they're": a function word and its verb


def fold(text: str) -> str:
    """``text`` without accents: a model writes "Jose" or "Erdogan" for the article's "José" and
    "Erdoğan", and a word cut at "é" is no word at all. Letters keep their places (no offsets here)."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


# British spellings written the American way, so that either matches the other: "metres" is
# "meters", "behaviour" "behavior", "organised" "organized". The word is rewritten, then its stem
# too, so that related forms stay together ("colourful" with "colour", "revision" with "revise").
# Only endings whose other spelling is no other English word ("hour", "four", "flour", "hatred" stay)
_WORD_SPELLINGS = (
    (re.compile(r"^(\w{2,}[tb])re(s?)$"), r"\1er\2"),  # metre(s), kilometre, fibre -> meter(s), kilometer, fiber
)
_STEM_SPELLINGS = (
    (re.compile(r"^(\w{2,}[^aeiou\W]|\w{2,}i)our(it)?$"), r"\1or\2"),  # colour(ful), behaviour, favourit(e)
    (re.compile(r"^(\w{3,}[iy])s$"), r"\1z"),  # organis(ed), analys(e), revis(ion), televis(ion), advertis(ement)
)


def _one_spelling(word: str, patterns: tuple = _WORD_SPELLINGS) -> str:
    for pattern, american in patterns:
        if pattern.match(word):
            return pattern.sub(american, word)
    return word


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Lower-cased Snowball stem without possessive, British spellings as American ones:
    "China's" -> "china", "surged" -> "surg", "metres" -> "meter"."""
    w = _POSSESSIVE.sub("", word.lower().replace("’", "'").translate(DASHES))
    return _one_spelling(_stemmer().stemWord(_one_spelling(w)), _STEM_SPELLINGS) if w.isalpha() else w


def words(text: str) -> list[str]:
    """Alphabetic words of ``text`` in order, as written."""
    return _WORD.findall(fold(text))


_GLUED = re.compile(r"(?<=[a-z])(?=[A-Z])")


def word_stems(text: str) -> set[str]:
    """Stems of every word of ``text``, stop words included: the haystack for whole-word matching.
    Tokens with dots, hyphens or digits count whole as well ("U.S.", "G-7", "A320"), so that
    the names :func:`names` finds can be found. A word with a capital after a small letter also
    counts by its parts: scraped pages glue neighbouring elements ("Written byJane Doe"), and
    "byJane" must not hide the name; "iPhone" still counts whole."""
    text = fold(text)
    found = _WORD.findall(text)
    glued = [part for w in found if _GLUED.search(w) for part in _GLUED.split(w)]
    tokens = _TOKEN.findall(text)
    # "U.S.-China talks" holds "U.S." as well: a hyphenated token counts by its parts too
    parts = [part for t in tokens if "-" in t for part in t.split("-") if part]
    return ({stem(w) for w in found} | {stem(w) for w in glued}
            | {stem(t.rstrip(".")) for t in tokens + parts})


_ADJECTIVE_ENDINGS = ("ese", "es", "ian", "ean", "an", "n", "s")  # of stems: "Chinese" stems to "chines"
_PLACE_ENDINGS = ("", "a", "ia", "e", "y")


def same_name(a: str, b: str) -> bool:
    """Two word stems that name one thing: equal, or a name and the adjective or plural made
    from it ("China"/"Chinese", "Canada"/"Canadian", "Malaysia"/"Malaysian", "Europe"/"European"),
    sharing at least four letters. ("Paris"/"Parisian" stay apart: the stem of "Paris" is "pari".)"""
    if a == b:
        return True
    for word, other in ((a, b), (b, a)):
        for end in _ADJECTIVE_ENDINGS:
            root = word[: -len(end)]
            if word.endswith(end) and len(root) >= 4 and any(other == root + tail for tail in _PLACE_ENDINGS):
                return True
    return False


def found_in(word_stem: str, haystack: set[str]) -> bool:
    """``word_stem`` is one of ``haystack``'s stems, or :func:`same_name` as one; a hyphenated
    name ("u.s.-china", "trump-xi") also when each of its parts is ("U.S. and Chinese talks")."""
    if "-" in word_stem and word_stem not in haystack:
        parts = [stem(p.rstrip(".")) for p in word_stem.split("-") if p.rstrip(".")]
        if len(parts) > 1 and all(_found_whole(p, haystack) for p in parts):
            return True
    return _found_whole(word_stem, haystack)


def _found_whole(word_stem: str, haystack: set[str]) -> bool:
    return word_stem in haystack or (len(word_stem) >= 4 and any(same_name(word_stem, h) for h in haystack))


def content_words(text: str) -> set[str]:
    """Stems of the words that carry meaning (no stop words, at least 3 letters)."""
    return {stem(w) for w in _WORD.findall(fold(text)) if len(w) > 2 and w.lower() not in STOP_WORDS}


def names(sentence: str, *, first_word: bool = True) -> set[str]:
    """Stems of the capitalised words and of words with inner capitals or digits ("iPhone",
    "A320"). The first word counts too, unless it is a stop word or a sentence opener:
    "Rollo ruled" names Rollo; "However, ..." names nothing."""
    out = set()
    for i, w in enumerate(_TOKEN.findall(fold(sentence))):
        low = w.lower().rstrip(".")
        # "Where's", "What's", "It's": a function word with its verb, no name ("China's" is one)
        if _POSSESSIVE.sub("", low.replace("’", "'")) in STOP_WORDS or _CONTRACTION.sub("", low) in STOP_WORDS or (i == 0 and (not first_word or low in _OPENERS)):
            continue
        if re.fullmatch(r"[\d.,]+(?:[a-z]+|(?i:k|m|bn|mn|mln|tn))?", w):
            continue  # numbers are checked with their units ("$1.2bn", "10km"), not as names
        if w[0].isupper() or re.search(r"[a-z][A-Z]|[A-Za-z]\d|\d[A-Za-z]", w):
            out.add(stem(w.rstrip(".")))
    return out


_ABBREVIATION = re.compile(r"(?<![\w.])(?:[A-Z]\.){2,6}(?!\w)|(?<![\w.])[A-Z]{2,6}(?!\w)(?!\.\w)")
# two or more capitalised words in a row, "of"/"for"/"the"/"and" allowed between ("Bank of England",
# "National Aeronautics and Space Administration": NASA)
_NAME_RUN = re.compile(r"[A-Z][a-z][\w’'-]*(?:\s+(?:(?:of|for|the|and|&)\s+)?[A-Z][a-z][\w’'-]*)+")


def abbreviations(text: str) -> dict[str, str]:
    """The abbreviations written in ``text``, stem (as :func:`names` makes it) -> letters:
    "U.S." gives {"u.s": "US"}, "UK" gives {"uk": "UK"}."""
    return {stem(m.group().rstrip(".")): m.group().replace(".", "") for m in _ABBREVIATION.finditer(fold(text))}


def spelled_out(text: str) -> dict[str, frozenset[str]]:
    """Initials -> stems of the names of ``text`` made of several capitalised words: "United
    States" gives {"US": {"unit", "state"}}, "Bank of England" gives {"BE": ...}. One name
    written in full in one text and abbreviated in another is the same name (:func:`abbreviations`)."""
    out: dict[str, frozenset[str]] = {}
    for m in _NAME_RUN.finditer(fold(text)):
        capitals = [w for w in m.group().split() if w[:1].isupper()]
        while capitals and capitals[0].lower() in STOP_WORDS:  # "The United States": "The" opens a sentence
            capitals.pop(0)
        if len(capitals) >= 2:
            out.setdefault("".join(w[0] for w in capitals), frozenset(stem(w) for w in capitals))
    return out
