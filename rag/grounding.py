"""Check an answer against the passages it was written from. Pure functions.

Small models cite the wrong passage, or none, and fill gaps from memory. Each answer
sentence is checked for its hard facts (numbers with their unit, proper names):
a sentence whose facts appear in no passage is unsupported and dropped; a citation
is kept only when its passage holds the sentence's facts, and is moved to the passage
that does hold them otherwise. An answer left with no supported sentence is a refusal.

Three near misses are caught as well, because they are how small models answer a question
the articles do not: a figure in another currency than the one asked for ("the price in
yuan" answered in dollars), a figure that the passage gives for another commodity
than the one asked about ("the zinc price" answered with the aluminum price beside it), and
a fact from another article than the one the question names ("according to the AInvest piece").
A sentence is also dropped when neither it nor the passage it rests on shares a word with the
question: a true fact about something else ("Tin prices fell 4%" under a question about a
nickel mine) is padding, and its citation would send the reader to the wrong article.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from .chunking import split_sentences
from .types import Citation, Passage

_NUM = re.compile(r"(\$|US\$|USD\s?|C\$|€|£)?\s?(\d[\d,]*(?:\.\d+)?)\s?(%|percent\b|per\s?cent\b)?", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z’'-]+")
_POSSESSIVE = re.compile(r"[’']s$")
_COMMON = set("""the a an and or but of in on at to for from by with as is are was were be been it its this that these
those there their they he she his her we our you your which who whom what when where why how not no yes also than then
such into about over under after before during while up down more most less least very so if according article articles
passage passages said says say per do does did
state states stated mention mentions mentioned note notes noted key point important highlight highlights
provide provides provided information detail details""".split())  # the last two lines: words of filler
# sentences ("This is a key point in the passage") that talk about the text instead of answering


_CURRENCIES = {
    "yuan": re.compile(r"\byuan\b|\brmb\b|\bcny\b|renminbi", re.IGNORECASE),
    "dollar": re.compile(r"\$|\busd\b|\bdollars?\b", re.IGNORECASE),
    "euro": re.compile(r"€|\beur\b|\beuros?\b", re.IGNORECASE),
    "pound": re.compile(r"£|\bgbp\b|\bpounds? sterling\b", re.IGNORECASE),
}
# commodities news articles quote prices and volumes for; "lead" is left out (a common verb)
_COMMODITY = re.compile(
    r"\b(alumin(?:i)?um|copper|zinc|nickel|lithium|cobalt|gold|silver|platinum|palladium|iron ore|steel|tin|"
    r"uranium|gallium|germanium|antimony|graphite|tungsten|molybdenum|manganese|rare earths?|oil|gas|coal)\b",
    re.IGNORECASE)


def currencies(text: str) -> set[str]:
    return {name for name, pattern in _CURRENCIES.items() if pattern.search(text)}


def commodities(text: str) -> set[str]:
    return {_commodity_key(m.group(1)) for m in _COMMODITY.finditer(text)}


def _commodity_key(word: str) -> str:
    w = word.lower()
    return "aluminum" if w.startswith("alumin") else "rare earth" if w.startswith("rare earth") else w


def figure_currencies(text: str) -> set[str]:
    """Currencies written right beside a figure ("USD 16,500", "122,000 yuan", "$2,902")."""
    found: set[str] = set()
    for m in _NUM.finditer(text):
        if m.group(2):
            found |= currencies(text[max(0, m.start() - 5):m.end() + 9])
    return found


def currency_conflict(sentence: str, question: str) -> bool:
    """The question asks for money in one currency and the sentence gives figures only in others."""
    asked = currencies(question)
    if not asked:
        return False
    given = figure_currencies(sentence)
    return bool(given) and not (given & asked)


def commodity_conflict(sentence: str, passages: list[Passage], question: str) -> bool:
    """Each figure of the sentence is, wherever a passage gives it, nearest to a commodity
    other than the ones the question asks about."""
    asked = commodities(question)
    if not asked:
        return False
    figures = [m for m in _NUM.finditer(sentence) if m.group(2).strip()]
    if not figures:
        return False
    for m in figures:
        value = _norm_number(m.group(2))
        attributions = []
        for p in passages:
            for start, end in split_sentences(p.text):
                part = p.text[start:end]
                for pm in _NUM.finditer(part):
                    if _norm_number(pm.group(2)) != value:
                        continue
                    # a figure belongs to the commodity named last before it ("copper down 0.3%
                    # and zinc up 1.5%"), else to the first one after it
                    before = [cm for cm in _COMMODITY.finditer(part) if cm.start() < pm.start()]
                    after = [cm for cm in _COMMODITY.finditer(part) if cm.start() >= pm.start()]
                    owner = before[-1] if before else after[0] if after else None
                    attributions.append(_commodity_key(owner.group(1)) if owner else None)
        if not attributions or any(a is None or a in asked for a in attributions):
            return False  # some occurrence is (or may be) about what was asked
    return True


def _norm_number(raw: str) -> str:
    n = raw.replace(",", "")
    if "." in n:
        n = n.rstrip("0").rstrip(".")
    return n


def numbers(text: str) -> set[tuple[str, str]]:
    """(value, unit) pairs; unit is "$", "%" or ""."""
    out = set()
    for m in _NUM.finditer(text):
        unit = "$" if m.group(1) else "%" if m.group(3) else ""
        out.add((_norm_number(m.group(2)), unit))
    return out


def names(sentence: str) -> set[str]:
    """Capitalised words that are not the sentence's first word."""
    words = [_POSSESSIVE.sub("", w) for w in _WORD.findall(sentence)]  # "China's" is "China"
    return {w.lower() for w in words[1:] if w[0].isupper() and w.lower() not in _COMMON and len(w) > 2}


def _stem(word: str) -> str:
    """Crude suffix stripping, enough that "focuses" restates "focus", "prices" "price"
    and "surged" "surge" (a final e is dropped too)."""
    w = _POSSESSIVE.sub("", word.lower())
    if len(w) < 5:
        return w
    if re.search(r"(?:s|x|z|ch|sh)es$", w):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    elif w.endswith("ing") and len(w) >= 7:
        w = w[:-3]
    elif w.endswith("ed") and len(w) >= 6:
        w = w[:-2]
    return w[:-1] if w.endswith("e") and len(w) >= 5 else w


def content_words(text: str) -> set[str]:
    """Stemmed words that carry meaning."""
    return {_stem(w) for w in _WORD.findall(text) if w.lower() not in _COMMON and len(w) > 2}


_ARTICLE_REF = re.compile(r"\b(?:piece|article|report|analysis|story|newsletter|column)\b", re.IGNORECASE)


def named_article(question: str, passages: list[Passage]) -> set[int] | None:
    """The passages (1-based) from the one article the question names ("according to the
    AInvest piece", "in the Critical Minerals Report"), or None when it names none, several,
    or one whose name is in no passage title."""
    refs = list(_ARTICLE_REF.finditer(question))
    if len(refs) != 1:
        return None
    ref = refs[0]
    m = re.search(r"\bthe\s+((?:[^\s,;?]+\s+){0,5})$", question[: ref.start()])
    phrase = (m.group(1) if m else "") + ref.group(0)
    wanted = [w.lower() for w in re.findall(r"[^\s,;?]+", phrase) if w[0].isupper()]
    if not wanted:
        return None
    chosen = {i for i, p in enumerate(passages, start=1) if all(w in p.title.lower() for w in wanted)}
    return chosen or None


# words that say how a question is asked, not what it is about
_QUESTION_FILLER = {_stem(w) for w in """much many will would could should can has have had any some each every
other give given tell know main kind happen happened""".split()}


def on_topic(sentence: str, passage: Passage, question: str) -> bool:
    """The sentence or its passage shares a meaningful word with the question."""
    asked = content_words(question) - _QUESTION_FILLER
    if not asked:
        return True  # nothing to judge by
    dated = "date dated" if passage.date else ""  # the prompt shows the passage's date
    return bool(asked & content_words(f"{sentence}\n{passage.title}\n{dated}\n{passage.text}"))


def _date_forms(date: str | None) -> str:
    """An ISO date as written in the prompt and as a model may restate it ("January 13, 2026")."""
    if not date:
        return ""
    try:
        d = datetime.date.fromisoformat(date)
    except ValueError:
        return date
    return f"{date} {d.strftime('%B')} {d.day}, {d.year}"


def _has_number(passage_numbers: set[tuple[str, str]], value: str, unit: str) -> bool:
    # a bare passage number backs "$5" or "5%" (the unit may sit a word away), but a number
    # of the article's date backs only a bare number: the day "1" is no "$1 billion"
    return any(v == value and (not unit or not u or u == unit) and (u != "date" or not unit)
               for v, u in passage_numbers)


@dataclass(frozen=True)
class SentenceCheck:
    text: str  # without markers
    markers: tuple[int, ...]  # as written by the model
    supporting: tuple[int, ...]  # 1-based passages that hold all the sentence's facts, best first
    supported: bool


def check_sentence(sentence: str, passages: list[Passage], question: str) -> SentenceCheck:
    markers = tuple(int(n) for n in re.findall(r"\[(\d+)\]", sentence))
    bare = re.sub(r"\s*\[\d+\]", "", sentence).strip()
    if currency_conflict(bare, question) or commodity_conflict(bare, passages, question):
        return SentenceCheck(bare, markers, (), False)
    nums = numbers(bare) - {(v, u) for v, u in numbers(question)}
    # a figure from the question needs no support; names from the question neither
    asked_words = content_words(question)
    proper = {n for n in names(bare) if _stem(n) not in asked_words}
    words = content_words(bare) - asked_words
    allowed = named_article(question, passages)
    ranked = []
    for i, p in enumerate(passages, start=1):
        if allowed is not None and i not in allowed:
            continue  # the question asks what one article says; another article's figure is no answer
        dates = _date_forms(p.date)  # the prompt shows title and date too
        hay = f"{p.title}\n{dates}\n{p.text}"
        hay_lower = hay.lower().replace("’", "'")
        pnums = numbers(f"{p.title}\n{p.text}") | {(v, "date") for v, _ in numbers(dates)}
        if not all(_has_number(pnums, v, u) for v, u in nums):
            continue
        if not all(name in hay_lower for name in proper):
            continue
        if not on_topic(bare, p, question):
            continue
        overlap = len(words & content_words(hay)) / len(words) if words else 1.0
        ranked.append((overlap, i))
    ranked.sort(key=lambda t: (-t[0], t[1]))
    has_facts = bool(nums or proper)
    if not (has_facts or words):
        # restates the question and adds nothing: not an answer
        return SentenceCheck(bare, markers, (), False)
    supporting = tuple(i for ov, i in ranked if has_facts or ov >= 0.5)
    return SentenceCheck(bare, markers, supporting, bool(supporting))


def ground(answer: str, passages: list[Passage], question: str) -> tuple[str, list[Citation], bool]:
    """Re-cite ``answer`` sentence by sentence. Returns (text with [n] markers, citations,
    supported). ``supported`` is False when no sentence of the answer is backed by a passage."""
    answer = re.sub(r"(\[\d+\])\s*\.", r"\1.", answer.strip())  # "fact [1] ." -> "fact [1]."
    # a marker after the full stop belongs to the sentence before it: "fact. [1]" -> "fact [1]."
    answer = re.sub(r"([.!?])((?:\s*\[\d+\])+)(?=\s|$)", lambda m: m.group(2) + m.group(1), answer)
    sentences = [answer[a:b] for a, b in split_sentences(answer)]
    out: list[str] = []
    cited: list[int] = []
    any_supported = False
    for s in sentences:
        check = check_sentence(s, passages, question)
        if not check.supported:
            continue  # drop a claim no passage backs
        keep = [m for m in dict.fromkeys(check.markers) if m in check.supporting]
        if not keep and check.supporting:
            keep = [check.supporting[0]]
        if check.supporting:
            any_supported = True
        body = check.text
        if keep:
            end = len(body.rstrip(".!?"))
            body = body[:end] + " " + "".join(f"[{m}]" for m in keep) + body[end:]
        out.append(body)
        cited.extend(m for m in keep if m not in cited)
    text = " ".join(out)
    return text, [Citation(marker=m, passage=passages[m - 1]) for m in cited], any_supported
