"""Check that an answer's facts are in the passages it cites, sentence by sentence. Pure functions.

Small models cite the wrong passage, or none, and fill gaps from memory. Each answer
sentence is a claim; its hard facts are its numbers (with their units: "5%" is not
backed by a bare 5, "$5" not by "5 tonnes" or "€5", "seven" is 7, "-5" is not 5) and its names (capitalised words, matched as
whole words, the first word of the sentence included). A claim is backed by a passage
when one stretch of it, a sentence and its neighbours, holds all of those facts and does
not say the figure moved the other way ("rose 5%" is not backed by "fell 5%"), deny it, or
give it as one end of a range (:mod:`rag.figures`); a
citation is kept only when its passage backs the claim, and moves to the passage that
does otherwise. An aside no passage backs ("Lyon, France", "(founded 1870)") is cut before
the claim is given up. A claim no passage backs is dropped, and so is one that only restates
the question, that talks about the text instead of answering ("This is a key point"),
or that shares no word with the question while its passage shares none either (a true
fact about something else). An answer with no claim left is a refusal.

Whether the backing passage *says* what the claim says, for the person, time and event
the question asks about, is the support check's job (:mod:`rag.support`); this module
only finds where each claim's facts are.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from functools import lru_cache

from .chunking import split_sentences, word_sentences
from .citations import strip_markers
from .dating import numeric_dates_in_words, show_date
from .figures import Number, against, denied_spans, is_denied, moves, negates, stated
from .types import Citation, Passage, union_spans
from .numbers import Quantity, quantities, readings
from .words import abbreviations, content_words, found_in, names, spelled_out, stem, word_stems

# words that say how a question is asked, not what it is about
_QUESTION_FILLER = content_words("much many give given know kind happen happened happens")


@dataclass(frozen=True)
class Claim:
    """The hard facts of one answer sentence that the question does not already give."""

    text: str
    numbers: tuple[Quantity, ...]
    names: frozenset[str]
    words: frozenset[str]  # content-word stems beyond the question's
    # names written out ("United States": initials -> stems) and abbreviated ("U.S.": stem -> letters):
    # a passage may write either form of the same name
    spelled: tuple[tuple[str, frozenset[str]], ...] = ()
    abbreviated: tuple[tuple[str, str], ...] = ()
    moves: str = ""  # "up" or "down" when the sentence says its figure rose or fell (:func:`moves`)
    number_words: frozenset[str] = frozenset()  # stems of its numbers written in words ("seven")
    # it, or its question, reports a denial ("denied that it cost $5m", "What did the mayor deny?")
    negates: bool = False


_ACRONYM = re.compile(r"((?:[A-Z][\w&’'-]*\s+(?:(?:of|and|for|the|&)\s+)?){2,8})\(([A-Z]{2,10})\)")


def defined_acronyms(sentence: str) -> set[str]:
    """Stems of acronyms that ``sentence`` itself spells out: "Critical Minerals Report (CMR)"
    makes "CMR" no new name; the words before it are the name to check."""
    out = set()
    for m in _ACRONYM.finditer(sentence):
        initials = "".join(w[0] for w in m.group(1).split() if w[0].isupper())
        if initials.endswith(m.group(2)):
            out.add(stem(m.group(2)))
    return out


def claim_of(sentence: str, question: str) -> Claim:
    asked_numbers = [q for q, _, _ in quantities(question, spelled=True)]
    asked = content_words(question) | names(question) | defined_acronyms(sentence)
    # the question's "U.S." asks about the answer's "United States", and the other way round
    asked_abbr, asked_spelled = set(abbreviations(question).values()), spelled_out(question)
    spelled = spelled_out(sentence)
    for initials, stems in spelled.items():
        if initials in asked_abbr:
            asked |= stems
    abbreviated = abbreviations(sentence)
    asked |= {st for st, letters in abbreviated.items() if letters in asked_spelled}
    found = quantities(sentence, spelled=True)  # "seven members" is a number to check
    nums = tuple(q for q, _, _ in found if not any(q.value == a.value and q.percent == a.percent for a in asked_numbers))
    in_words = content_words(" ".join(sentence[a:b] for q, a, b in found if q.spelled and q in nums))
    own = frozenset(names(sentence) - asked)
    said, denied = moves(sentence)
    return Claim(sentence, nums, own, frozenset(content_words(sentence) - asked),
                 spelled=tuple((i, st) for i, st in spelled.items() if st & own),
                 abbreviated=tuple((st, letters) for st, letters in abbreviated.items() if st in own),
                 moves=next(iter(said)) if len(said) == 1 and not denied else "",
                 number_words=frozenset(in_words & content_words(sentence) - asked), negates=negates(sentence) or negates(question))


def _names_backed(claim: Claim, stems: set[str], abbrs: set[str], spelled: set[str]) -> bool:
    """Every name of ``claim`` is in a run of a passage whose word stems are ``stems``, whose
    abbreviations' letters are ``abbrs`` and whose written-out names' initials are ``spelled``:
    "United States" is backed by "U.S." and "U.S." by "United States"."""
    missing = {n for n in claim.names if not found_in(n, stems)}
    for initials, run in claim.spelled:
        if initials in abbrs:
            missing -= run
    # "U.N." is "UN" written another way
    missing -= {st for st, letters in claim.abbreviated if letters in spelled or letters in abbrs}
    return not missing


def date_forms(date: str | None) -> str:
    """An ISO date as the prompt shows it and as a model may restate it ("January 13, 2026")."""
    if not date:
        return ""
    if date.startswith("--"):  # a dateline's day without its year: "--03-03" reads "March 3"
        return show_date(date)
    try:
        d = datetime.date.fromisoformat(date)
    except ValueError:
        return date
    return f"{date} {d.strftime('%B')} {d.day}, {d.year}"


@dataclass(frozen=True)
class Evidence:
    """Where in a passage a claim's facts are: ``passage.text[start:end]`` (whole sentences)."""

    start: int
    end: int
    overlap: float  # share of the claim's content words found there


class _Whole(set):
    """A percent's own sentence, which names its whole (\"54% of the patients\")."""


def _sentence_facts(text: str) -> list[tuple[int, int, set[str], list[Number], set[str], set[str]]]:
    """Per sentence: start, end, word stems, numbers (with whether the sentence denies each),
    abbreviations' letters, written-out names' initials."""
    out = []
    ways = readings(text)  # the whole passage tells which separators its numbers use
    for s, e in word_sentences(text):  # a stray "." must not push a neighbour out of the window
        # a date in figures states the same date in words: "26/03/2026" backs "26 March 2026"
        part = "; ".join([text[s:e], *numeric_dates_in_words(text[s:e], text)])
        stems, spans = word_stems(part), denied_spans(part)
        numbers = [(q, _Whole(stems) if q.percent and re.match(r"\S*\s+of\b", part[at:]) else stems,
                    is_denied(part, spans, at)) for q, at, _ in quantities(part, spelled=True, ways=ways)]
        out.append((s, e, stems, numbers, set(abbreviations(part).values()), set(spelled_out(part))))
    return out


# words that date what a stretch says by its article's date line: "announced on Tuesday", "today"
_RELATIVE_DAY = re.compile(r"\b(?:today|tonight|yesterday|this\s+(?:morning|afternoon|evening|week|month|year)"
                           r"|last\s+night|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b", re.I)
# a claim about the article itself: "The article is dated ...", "the report was published on ..."
_ABOUT_THE_TEXT = re.compile(r"\b(?:article|story|report|piece|release|dated|published|date\s+line|dateline)\b", re.I)


def find_evidence(claim: Claim, passage: Passage, window: int = 2, said: frozenset[str] = frozenset()) -> Evidence | None:
    """The shortest run of at most ``window`` consecutive sentences of ``passage`` (its title
    and date count as part of every run) holding all the claim's numbers and names; among
    equals, the one sharing most of the claim's words, then most of the ``said`` stems (every
    word of the answer sentence, those it shares with the question too: a name met in two
    sentences is backed by the one that says what the answer says). None when no run holds
    them all."""
    head = passage.title
    head_stems = word_stems(head)
    head_numbers: list[Number] = [(q, head_stems, False) for q, _, _ in quantities(head, spelled=True)]
    head_abbrs, head_spelled = set(abbreviations(head).values()), set(spelled_out(head))
    # the date line dates what a stretch says happened "today" or "on Tuesday", and the article
    # itself; it is no evidence of when anything else happened ("the court agreed on <date line>")
    dateline = date_forms(passage.date)
    date_stems = word_stems(dateline)
    date_numbers: list[Number] = [(q, head_stems | date_stems, False) for q, _, _ in quantities(dateline, spelled=True)]
    values = {q.value for q in claim.numbers}
    about_text = bool(_ABOUT_THE_TEXT.search(claim.text))
    sentences = _sentence_facts(passage.text)
    best: tuple[float, int, int, int] | None = None
    for size in range(1, window + 1):
        for i in range(0, max(0, len(sentences) - size + 1)):
            run = sentences[i:i + size]
            dated = about_text or bool(_RELATIVE_DAY.search(passage.text[run[0][0]:run[-1][1]]))
            stems = head_stems.union(date_stems if dated else set(), *(r[2] for r in run))
            # a share's whole may be named a sentence earlier ("Of the 900 patients ... only 54% were"):
            # a percent takes its unit from the run; any other number from its own sentence
            numbers = head_numbers + (date_numbers if dated else []) + [
                (q, stems if q.percent and not isinstance(near, _Whole) else near, d) for r in run for q, near, d in r[3]]
            # "Chinese" is backed by "China", "United States" by "U.S."
            if not _names_backed(claim, stems, head_abbrs.union(*(r[4] for r in run)),
                                 head_spelled.union(*(r[5] for r in run))):
                continue
            if not all(stated(q, numbers, values, claim.negates, claim.moves) for q in claim.numbers):
                continue
            if against(claim.moves, passage.text[run[0][0]:run[-1][1]]):
                continue  # the facts are there, moving the other way
            # "seven" is said by the passage's "7"
            said_as_digits = all(any(q.backed_by(p, near) for p, near, _ in numbers) for q in claim.numbers if q.spelled)
            matched = claim.words & (stems | (claim.number_words if said_as_digits else frozenset()))
            overlap = len(matched) / len(claim.words) if claim.words else 1.0
            as_said = sum(found_in(w, stems) for w in said)
            if best is None or (overlap, as_said) > (best[0], best[3]):
                best = (overlap, run[0][0], run[-1][1], as_said)
        if best is not None:
            break  # a single sentence that holds the facts beats a longer run
    if best is None:
        return None
    return Evidence(best[1], best[2], best[0])


def on_topic(claim: Claim, sentence: str, passage: Passage, question: str) -> bool:
    """The sentence or its passage shares a meaningful word with the question."""
    asked = content_words(question) - _QUESTION_FILLER
    if not asked:
        return True  # nothing to judge by
    return bool(asked & content_words(f"{sentence}\n{passage.title}\n{date_forms(passage.date)}\n{passage.text}"))


@dataclass(frozen=True)
class SentenceCheck:
    text: str  # without markers
    markers: tuple[int, ...]  # as written by the model
    supporting: tuple[int, ...]  # 1-based passages that hold all the sentence's facts, best first
    supported: bool
    evidence: dict[int, Evidence]  # passage number -> where its facts are


_QUOTED = re.compile(r'"([^"]{20,})"|“([^”]{20,})”')


def _flat(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower().replace("’", "'")))


def misquotes(sentence: str, passages: list[Passage]) -> bool:
    """The sentence quotes (20 or more characters between quotation marks) words that no passage
    holds as written: a small model "quotes" a sentence with a name or a figure swapped, and a
    quotation is a claim about the exact words."""
    texts = [_flat(f"{p.title} {p.text}") for p in passages]
    for m in _QUOTED.finditer(sentence):
        quoted = _flat(m.group(1) or m.group(2))
        if quoted and not any(quoted in t for t in texts):
            return True
    return False


def check_sentence(sentence: str, passages: list[Passage], question: str) -> SentenceCheck:
    markers = tuple(int(n) for n in re.findall(r"\[(\d+)\]", sentence))
    bare = strip_markers(sentence)
    if misquotes(bare, passages):
        return SentenceCheck(bare, markers, (), False, {})
    claim = claim_of(bare, question)
    # a number in words may be the model's own count (:func:`_stated`): no fact that spares the words
    has_facts = bool(claim.names or any(not q.spelled for q in claim.numbers))
    if not (has_facts or claim.words):
        # restates the question (or only talks about the text) and adds nothing: not an answer
        return SentenceCheck(bare, markers, (), False, {})
    found: dict[int, Evidence] = {}
    said = frozenset(content_words(bare) | names(bare))
    for i, p in enumerate(passages, start=1):
        ev = find_evidence(claim, p, said=said)
        if ev is None or not on_topic(claim, bare, p, question):
            continue
        if not has_facts and ev.overlap < 0.5:
            continue  # a claim of plain words needs most of them in the passage
        found[i] = ev
    # the passage the model cited first, when it backs the claim, then by overlap
    ranked = sorted(found, key=lambda i: (i not in markers, -found[i].overlap, i))
    return SentenceCheck(bare, markers, tuple(ranked), bool(ranked), found)


_JOINERS = r"while|whereas|but|and|compared\s+(?:with|to)|against|versus|vs\.?"
_JOINER = re.compile(rf"^(?:{_JOINERS})\s+")


def _normalise_markers(answer: str) -> str:
    answer = re.sub(r"(\[\d+\])\s*\.", r"\1.", answer.strip())  # "fact [1] ." -> "fact [1]."
    # a marker after the full stop belongs to the sentence before it: "fact. [1]" -> "fact [1]."
    return re.sub(r"([.!?])((?:\s*\[\d+\])+)(?=\s|$)", lambda m: m.group(2) + m.group(1), answer)


# where one sentence joins two claims: a semicolon, a comma before a clause-joining word ("...,
# compared with B's $2m [2]"), or a citation marker the sentence goes on after (the model's own cut)
_CLAUSE = re.compile(rf";\s+|,\s+(?=(?:{_JOINERS})\s)|(?<=\])\s*,?\s+(?=[a-z])")


def _depth0(sentence: str, at: int) -> bool:
    """Whether position ``at`` is outside brackets and quotes ("Acme (NYSE: AC; TSX: A)")."""
    before = sentence[:at]
    return (before.count("(") == before.count(")") and before.count("[") == before.count("]")
            and before.count('"') % 2 == 0 and before.count("“") == before.count("”"))


def clauses(sentence: str) -> list[str]:
    """``sentence`` cut where it joins two claims ("X rose 3% [1], while Y fell 2% [2]."),
    each part keeping its own punctuation; never inside brackets or quotes."""
    cuts = [m.end() for m in _CLAUSE.finditer(sentence) if _depth0(sentence, m.start())]
    return [sentence[a:b] for a, b in zip([0, *cuts], [*cuts, len(sentence)]) if sentence[a:b].strip()]


# an aside: words in brackets, or a name set off by a comma after a name ("Lyon, France on ...")
_CAPITALISED = r"[A-Z](?:[\w’'-]|\.(?=\w))*"
_ASIDE = re.compile(r"(?P<bracket>\s*\((?![^()]*\[\d+\])[^()]*\))"
                    rf"|(?P<name>\b{_CAPITALISED})(?P<apposed>,\s+{_CAPITALISED}(?:\s+{_CAPITALISED}){{0,2}})"
                    r"(?=\s+(?:on|in|at|from|for|by|with|to|during|since)\s|\s*(?:\[\d+\]\s*)*[.;!?]?$)")


@lru_cache(maxsize=16)
def _what_passages_hold(text: str) -> tuple[frozenset[str], tuple[Quantity, ...]]:
    """The word stems and numbers of the passages' joined text: the same for every sentence of
    an answer, so read once."""
    return frozenset(word_stems(text)), tuple(q for q, _, _ in quantities(text, spelled=True))


def without_unbacked_asides(sentence: str, passages: list[Passage]) -> str | None:
    """``sentence`` without its asides whose names or numbers no passage has, or None when it
    has none: a small model adds what it knows ("Lyon, France", "(founded 1870)"), and one such
    aside should not cost the claim the passages do back."""
    if not passages:
        return None
    stems, known = _what_passages_hold("\n".join(f"{p.title}\n{date_forms(p.date)}\n{p.text}" for p in passages))

    def unbacked(aside: str) -> bool:
        return (any(not found_in(n, stems) for n in names(aside))
                or any(not any(q.value == k.value for k in known) for q, _, _ in quantities(aside, spelled=True)))

    def cut_aside(m: re.Match) -> str:
        if m.group("bracket"):
            return "" if unbacked(m.group("bracket")) else m.group(0)
        return m.group("name") if unbacked(m.group("apposed")) else m.group(0)  # the name it follows stays

    cut = _ASIDE.sub(cut_aside, sentence)
    return cut if cut != sentence else None


def check_answer(answer: str, passages: list[Passage], question: str) -> list[SentenceCheck]:
    """One check per sentence of ``answer``, in order. A sentence that no passage backs whole
    is checked clause by clause: one sentence often joins facts of two passages; then without
    the asides no passage backs (:func:`without_unbacked_asides`)."""
    answer = _normalise_markers(answer)
    out: list[SentenceCheck] = []
    for a, b in split_sentences(answer):
        whole = check_sentence(answer[a:b], passages, question)
        parts = clauses(answer[a:b]) if not whole.supported else []
        checks = [check_sentence(part, passages, question) for part in parts] if len(parts) > 1 else []
        if not whole.supported and not any(c.supported for c in checks):
            cut = without_unbacked_asides(answer[a:b], passages)
            checks = [check_sentence(cut, passages, question)] if cut else []
        out.extend(checks if any(c.supported for c in checks) else [whole])
    return out


def render(checks: list[SentenceCheck], passages: list[Passage]) -> tuple[str, list[Citation]]:
    """The supported sentences, each citing the passages that back it (the model's own
    markers where they back it, else the best backing passage)."""
    out: list[str] = []
    spans: dict[int, list[tuple[int, int]]] = {}  # cited passage -> the sentences that back its claims
    for check in checks:
        if not check.supported:
            continue
        keep = [m for m in dict.fromkeys(check.markers) if m in check.supporting] or [check.supporting[0]]
        body = check.text.strip()
        if not out or out[-1].endswith((".", "!", "?")):  # a clause that now starts a sentence
            body = _JOINER.sub("", body)
            body = body[:1].upper() + body[1:]
        end = len(body.rstrip(".!?,;"))
        out.append(body[:end] + " " + "".join(f"[{m}]" for m in keep) + body[end:])
        for m in keep:
            p, ev = passages[m - 1], check.evidence.get(m)
            span = (p.start + ev.start, p.start + ev.end) if ev is not None else None
            spans.setdefault(m, [])
            if span is not None and span not in spans[m]:
                spans[m].append(span)
    if out and out[-1].endswith((",", ";")):  # the sentence's last clause was dropped
        out[-1] = out[-1][:-1] + "."
    return " ".join(out), [Citation(marker=m, passage=passages[m - 1], spans=union_spans(s)) for m, s in spans.items()]


def ground(answer: str, passages: list[Passage], question: str) -> tuple[str, list[Citation], bool]:
    """Re-cite ``answer`` sentence by sentence. Returns (text with [n] markers, citations,
    supported). ``supported`` is False when no sentence of the answer is backed by a passage."""
    checks = check_answer(answer, passages, question)
    text, citations = render(checks, passages)
    return text, citations, any(c.supported for c in checks)


__all__ = ["Claim", "Evidence", "SentenceCheck", "check_answer", "check_sentence", "claim_of", "find_evidence",
           "ground", "render", "stem"]
