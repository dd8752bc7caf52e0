"""Question decomposition: split multi-part questions, and tell follow-ups from standalone ones.

Scope: pure string functions, no model and no vocabulary of any topic; only English function
words and sentence shapes. Each rule is conservative, since a wrong split or a needless
rewrite costs more than a missed one.

    split_question(q)          -> standalone sub-questions, [q] when q asks one thing
    is_multi_part(q)           -> len(split_question(q)) > 1
    comparison_options(q)      -> one search per named thing "which ..., A or B?" chooses between

Follow-ups (a question that needs the conversation, a rewrite that keeps all of it) are
:mod:`rag.followups`.
"""

from __future__ import annotations

import re

from .errors import QuestionError
from .words import FUNCTION_WORDS, names  # function words only: a rewrite may not drop "say"


def check_question(question: object, max_chars: int) -> str:
    """``question`` with its whitespace collapsed, or QuestionError naming what is wrong: the
    one check every entry point (library, CLI, UI) applies."""
    if question is not None and not isinstance(question, str):
        raise QuestionError(f"the question must be text (str), not {type(question).__name__}")
    if not question or not question.strip():
        raise QuestionError("the question is empty; type a question about the articles")
    q = " ".join(question.split())
    try:
        q.encode("utf-8")
    except UnicodeEncodeError as err:  # a lone surrogate: bytes the terminal or a client could not decode
        raise QuestionError(f"the question holds {q[err.start]!r} at character {err.start + 1}, which is not text; "
                            "retype it in UTF-8") from None
    if not re.search(r"[^\W_]", q):
        raise QuestionError(f"the question {q[:40]!r} has no word in it; type a question about the articles")
    if len(q) > max_chars:
        raise QuestionError(f"the question is {len(q):,} characters long; the limit is {max_chars:,} (max_question_chars)")
    return q


def check_history(history: object) -> list[dict[str, str]]:
    """``history`` as a list of ``{"role": "user"|"assistant", "content": str}`` turns, or
    QuestionError naming the first bad turn; None is no history."""
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise QuestionError(f"history must be a list of {{'role', 'content'}} turns, not {type(history).__name__}")
    for i, turn in enumerate(history):
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant") \
                or not isinstance(turn.get("content"), str):
            raise QuestionError(f"history[{i}] = {str(turn)[:80]!r} is not a turn: "
                                "{'role': 'user' or 'assistant', 'content': '...'}")
    return [{"role": t["role"], "content": t["content"]} for t in history]


_AUX = frozenset("is are was were be been do does did has have had will would shall should can could may might must"
                 .split())
_WH = frozenset("what who whom whose which when where why how".split())
_PERSONAL = frozenset("he she him her it they them".split())
_DEMONSTRATIVE = frozenset("this that these those".split())
_NOW = frozenset("year years month months week weeks season quarter time morning weekend".split())  # "this year"
_SINGULAR = {"do": "does", "are": "is", "were": "was", "have": "has"}  # the verb when "both A and B" becomes "A"

_POSSESSIVE_END = re.compile(r"['’]s?$")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.,-][A-Za-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=\?)\s+|(?<=[a-z0-9)]\.)\s+(?=[A-Z])")
# a clause boundary: "and"/";"/", and" before a question word; ", and"/";" before an auxiliary
_CLAUSE_SEP = re.compile(
    r"\s*(?:;\s*and|,\s*and|,\s*but|;|,?\s+and)\s+(?=(?:what|who|whom|whose|which|when|where|why|how)\b)"
    r"|\s*(?:,\s*and|;)\s+(?=(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)\b)", re.I)
_SUBJECT_START = frozenset("the a an this that these those its their his her it they he she we you i".split())
_DEGREE = frozenset("much many long often far soon big large old fast high low deep tall quickly well likely".split())
_PREP = r"according to|in|from|by"
# "at A and at B", "on Monday and on Tuesday": two places or times, only when the preposition repeats
_PLACE_PREP = ("at", "on", "for", "during")
# "... in A and in B?", "... according to A and B?", "... in A compared with B?", "... in both A and B?"
_SOURCES_END = re.compile(
    rf"^(?P<ask>.+\S)\s+(?P<prep>{_PREP}|{'|'.join(_PLACE_PREP)})\s+(?P<both>both\s+)?(?P<a>[^;?]+?)(?:,\s*|\s+)"
    rf"(?:and\s+(?:(?P<rep>(?P=prep))\s+)?"
    rf"|(?P<cmp>compared (?:with|to)|versus|vs\.?|as opposed to)\s+(?:(?:{_PREP})\s+)?)"
    r"(?P<b>[^,;?]+?)\s*[?.]?$", re.I)
# "... of A and of B?": two owners of the same thing, only when "of" repeats ("the harvests of A and of B")
_OF_BOTH = re.compile(r"^(?P<ask>.+\S)\s+of\s+(?P<a>[^,;?]+?),?\s+and\s+of\s+(?P<b>[^,;?]+?)\s*[?.]?$", re.I)
# "According to A and B, what ...?", "In both A and B, how ...?"
_SOURCES_LEAD = re.compile(
    rf"^(?P<prep>{_PREP})\s+(?P<both>both\s+)?(?P<a>[^,;?]+?)\s+and\s+(?P<rep>(?P=prep)\s+)?"
    r"(?P<b>[^,;?]+?),\s*(?P<ask>.+)$", re.I)
# "... in A, and is that consistent with B?": the same ask, put to B
_CONSISTENT = re.compile(
    rf"^(?P<ask>.+\S)\s+(?P<prep>{_PREP})\s+(?P<a>[^,;?]+?)\s*(?:,\s*and|;|,)\s+"
    r"(?:is|are|was|were|does|do|did|has|have)\s+(?:that|this|it|these|those|they)\b[^?]*?"
    rf"\b(?:with|in|by|from|to|as)\s+(?:(?:{_PREP})\s+)?(?P<b>[^,;?]+?)\s*\?$", re.I)
# a named thing: "the Harlow Gazette", "the Bank of England" (capitalised words, "of" and "the" between)
_NAME = r"(?:the\s+)?[A-Z][\w'’&.-]*(?:\s+(?:(?:of|for|the)\s+)*[A-Z][\w'’&.-]*)*"
_LIST_SEP = re.compile(rf",\s*(?:and\s+)?(?:(?:{_PREP})\s+)?", re.I)  # "A, B and C", "A, in B"
_COPULA_NAME = re.compile(rf"^(?i:what|who)\s+(?P<be>(?i:is|was|are|were))\s+(?P<np>{_NAME})\?$")  # "What is X?"
_PRONOUN = {p: re.compile(rf"\b{p}\b", re.I) for p in ("it", "they")}
# "(do) both A and B": A may end in common nouns ("the Harlow Gazette weekly"), B is cut at its name
_BOTH_NAMES = re.compile(rf"\b(?P<aux>(?i:do|are|were|have)\s+)?[Bb]oth\s+"
                         rf"(?P<a>{_NAME}(?:\s+[a-z][\w'’-]*){{0,3}}?)\s+and\s+(?P<b>{_NAME})\b")
# after B, " weekly column" + " list?": common nouns, then the verb
_NOUNS_THEN_VERB = re.compile(r"^(?P<nouns>(?:\s+[a-z][\w'’-]*)+?)\s+[a-z][\w'’-]*\s*\?$")
_BOTH_END = re.compile(rf"\b(?:{_PREP})\s+(?P<x>both\s+(?P<a>[^,;]+?)\s+and\s+(?P<b>[^,;]+?))\s*[.!]?$", re.I)
# what stands for each source in the question after "X appears in both A and B."
_EACH = re.compile(rf"\b(?:(?P<prep>{_PREP})\s+)?(?:each|both)(?:\s+of\s+(?:them|the\s+two))?\b"
                   r"|\b(?P<aux>do|did|are|were|have)\s+they\b", re.I)


_words = _WORD.findall


def _question(text: str) -> str:
    """``text`` as a sentence of its own: stripped, capitalised, ending with "?"."""
    text = text.strip().strip(",;:-— ").rstrip("?.!").strip()
    return text[:1].upper() + text[1:] + "?" if text else ""


def _short(text: str, most: int = 8) -> bool:
    return 0 < len(_words(text)) <= most


def _is_clause(piece: str, semicolon: bool = False) -> bool:
    """Whether a piece after "and" is a question of its own, not "when demand rises" or "why"."""
    low = [w.lower() for w in _words(piece)]
    if len(low) < 3 or "," in piece:  # a comma after "and who ..." means a relative clause closed
        return False
    if semicolon and low[0] in _WH:  # a semicolon already ends the first clause
        return True
    if low[0] in ("when", "where", "why"):
        return low[1] in _AUX  # "when did" asks; "when demand rises" qualifies
    if low[0] == "how":
        return low[1] in _AUX or (low[1] in _DEGREE and any(w in _AUX for w in low[2:5]))
    if low[0] in _AUX:  # ", and is it free?" leans on the first clause: not split
        return low[1] not in _PERSONAL | _DEMONSTRATIVE | {"there"}
    return low[1] not in _SUBJECT_START  # "what the council did next" is reported, not asked


def _split_clauses(question: str) -> list[str]:
    cuts, start = [], 0
    for m in _CLAUSE_SEP.finditer(question):
        nxt = _CLAUSE_SEP.search(question, m.end())
        piece = question[m.end(): nxt.start() if nxt else len(question)]
        if len(_words(question[start:m.start()])) >= 3 and _is_clause(piece, ";" in m.group()):
            cuts.append((start, m.start()))
            start = m.end()
    if not cuts:
        return [question]
    parts = [question[a:b] for a, b in cuts] + [question[start:]]
    return _resolve_it([_question(p) for p in parts])


def _resolve_it(parts: list[str]) -> list[str]:
    """Put the first clause's subject for a lone "it"/"they" when it is obvious:
    "What is the Orla Line, and when will it open?" -> "When will the Orla Line open?"."""
    m = _COPULA_NAME.match(parts[0])
    if not m:
        return parts
    pronoun = "it" if m["be"].lower() in ("is", "was") else "they"
    out = [parts[0]]
    for p in parts[1:]:
        hits = _PRONOUN[pronoun].findall(p)
        out.append(_PRONOUN[pronoun].sub(m["np"], p, count=1) if len(hits) == 1 else p)
    return out


def _split_sources(question: str) -> list[str]:
    """One question per named source, each with the same ask."""
    m = _CONSISTENT.match(question)
    if m and _short(m["a"]) and _short(m["b"]):
        return [_question(f"{m['ask']} {m['prep']} {src}") for src in (m["a"], m["b"])]
    m = _OF_BOTH.match(question)
    if m and _short(m["a"]) and _short(m["b"]) and len(_words(m["ask"])) >= 3:
        return [_question(f"{m['ask']} of {src}") for src in (m["a"], m["b"])]
    m = _SOURCES_END.match(question)
    # "in A and B" is one noun phrase; a repeated preposition, "according to", "both" or "compared with": two sources
    if m and m["prep"].lower() in _PLACE_PREP and not m["rep"]:
        m = None  # "at A compared with B", "for both A and B": the ask may hold A and B together
    if m and (m["rep"] or m["both"] or m["cmp"] or m["prep"].lower() == "according to"):
        srcs = [s.strip() for s in _LIST_SEP.split(m["a"]) + [m["b"]] if s.strip()]  # "A, B and C", "A, in B and in C"
        # sources are parallel: a long B ("the U.S. and in Canada change in May") runs on into the ask
        parallel = len(_words(srcs[-1])) <= max(len(_words(s)) for s in srcs[:-1]) + 2
        if len(_words(m["ask"])) >= 3 and all(_short(s) for s in srcs) and parallel:
            return [_question(f"{m['ask']} {m['prep']} {s}") for s in srcs]
    m = _SOURCES_LEAD.match(question)
    if m and (m["rep"] or m["both"] or m["prep"].lower() == "according to") and _short(m["a"]) and _short(m["b"]):
        return [_question(f"{m['prep']} {s}, {m['ask']}") for s in (m["a"], m["b"])]
    m = _BOTH_NAMES.search(question)  # "What do both A and B say about X?": named things only
    if m:
        aux = _SINGULAR.get((m["aux"] or "").strip().lower(), (m["aux"] or "").strip())
        b, end = m["b"], m.end()
        # "What N do both A and B x y verb?": with a wh-object first the last word is the verb, x y end B's name
        tail = _NOUNS_THEN_VERB.match(question[end:]) if m["aux"] and m.start() > 0 else None
        if tail and not any(w.lower() in FUNCTION_WORDS for w in _words(tail["nouns"])):
            b, end = b + tail["nouns"], end + len(tail["nouns"])
        head = question[:m.start()] + (aux + " " if aux else "")
        return [_question(head + src + question[end:]) for src in (m["a"], b)]
    return [question]


def _split_each(statement: str, question: str) -> list[str] | None:
    """"X appears in both A and B. What did X announce in each?" -> one question per source."""
    m = _BOTH_END.search(statement) or _BOTH_NAMES.search(statement)
    each = _EACH.search(question)
    if not (m and each and _short(m["a"]) and _short(m["b"])):
        return None
    out = []
    for src in (m["a"], m["b"]):
        start, end = m.span("x") if "x" in m.groupdict() else m.span()
        said = statement[:start] + src + statement[end:]
        if each["aux"]:
            asked = _SINGULAR.get(each["aux"].lower(), each["aux"]) + " " + src
        else:
            asked = (each["prep"] + " " if each["prep"] else "") + src
        asked = _question(question[:each.start()] + asked + question[each.end():])
        out.append(f"{said[:1].upper()}{said[1:].rstrip('.!')}. {asked}")
    return out


def split_question(question: str) -> list[str]:
    """Standalone sub-questions of ``question``, at most 3; ``[question]`` when it asks one thing.

    Splits (1) separate question sentences, (2) question clauses joined by "and", ", and" or
    ";" ("What is X, and where is Y?"), (3) one ask about named sources: "in A and in B", "of A and of B",
    "according to A and B", "in A compared with B", "in A, and is that consistent with B",
    "both A and B", and "... both A and B. What ... in each?". A conjunction inside a noun
    phrase ("prices and volumes", "Smith and Jones") never splits, nor does a question of
    fewer than 6 words.
    """
    q = " ".join(question.split())
    if len(_words(q)) < 6:
        return [question]
    sentences = [s for s in _SENTENCE_END.split(q if "?" in q else q.rstrip(".!") + "?") if s.strip()]
    parts: list[str] = []
    lead = ""  # statements leading into the next question
    for s in sentences:
        if not s.endswith("?"):
            lead = f"{lead} {s}".strip()
        elif lead:  # a statement with its question stays whole, unless it names both sources
            parts.extend(_split_each(lead, s) or [f"{lead} {s}"])
            lead = ""
        else:
            for clause in ([s] if _CONSISTENT.match(s) else _split_clauses(s)):
                parts.extend(_split_sources(clause))
    if lead:  # a trailing remark belongs to the last question
        parts[-1:] = [f"{parts[-1]} {lead}" if parts else lead]
    parts = _counted_noun(parts)
    unique: dict[str, str] = {}
    for p in parts:
        unique.setdefault(p.lower(), p)  # drop repeats, keep order
    parts = list(unique.values())
    if any(_refers_back(p) for p in parts[1:]):
        return [question]  # "..., and what would breaking each one signal?": one ask about one thing
    if len(parts) > 3:
        parts = parts[:2] + [" ".join(parts[2:])]
    return parts if len(parts) > 1 else [question]


# "How many weekly slots were requested": what a count asks about, up to its verb
_COUNT_OF = re.compile(r"\bhow (?P<q>many|much) (?P<np>(?:[\w'’-]+ ){0,3}?[\w'’-]+) (?P<aux>" + "|".join(sorted(_AUX)) + r")\b", re.I)
# "how many were allocated": a count whose noun the part before it gave
_BARE_COUNT = re.compile(r"^how (?P<q>many|much) (?=(?:" + "|".join(sorted(_AUX)) + r")\b)", re.I)


def _counted_noun(parts: list[str]) -> list[str]:
    """A later part that counts without a noun ("How many were allocated?") counts what the part
    before it counted: "How many weekly slots were requested, and how many were allocated?" asks
    "How many weekly slots were allocated?" second; alone, "how many were allocated" asks of nothing."""
    out = list(parts)
    for i in range(1, len(out)):
        bare = _BARE_COUNT.match(out[i])
        counted = _COUNT_OF.search(out[i - 1])
        if bare and counted and counted["q"].lower() == bare["q"].lower() \
                and not any(w.lower() in _AUX | _WH for w in counted["np"].split()):
            out[i] = f"{out[i][:bare.end()]}{counted['np']} {out[i][bare.end():]}"
    return out


# "each one", "either of them", "each" alone or "each side": a later part's each points at what an
# earlier part names ("Who top-scored for each side, and how many runs did each make?")
_EACH_ONE = re.compile(r"\b(?:each|either|neither)\b", re.I)


def _refers_back(part: str) -> bool:
    """A later part that points back into an earlier one ("what will it cost?", "what does the
    report say this will do?", "what would breaking each one signal?") is not a question of its
    own: answered alone it loses what "it" is, so the question is kept whole."""
    if len([s for s in _SENTENCE_END.split(part) if s.strip()]) > 1:
        return False  # "X appears in both. What did it announce in A?": "it" points into its own lead
    if _EACH_ONE.search(part):
        return True
    words = _words(part)
    low = [w.lower() for w in words]
    for i, w in enumerate(low):
        prev, nxt = (low[i - 1] if i else None), (low[i + 1] if i + 1 < len(low) else None)
        # a person too: "Where did X die, and how old was she?" split loses who "she" is
        if w in ("it", "they", "them", "he", "she", "him", "her") and not (w == "it" and _dummy_it(low, i)):
            return True
        # and whose a thing is: "..., and who is its finance chief?" searched alone finds anyone's;
        # not when the part names its owner first ("when did Dunmore open its plant?")
        if w in ("its", "their", "his") and not any(_is_name(words, j) for j in range(i)):
            return True
        # a demonstrative standing for a thing: "this will", "why were those closed", "after
        # that?"; not "this year", nor a relative "that" after a noun ("the plant that will close")
        if (w in _DEMONSTRATIVE and (nxt is None or nxt in _AUX or prev in _AUX | _WH)
                and not (w in ("this", "these") and nxt in _NOW)):
            if w != "that" or prev is None or prev in FUNCTION_WORDS:
                return True
    return False


_CAPITALISED = re.compile(r"[A-Z][\w'’.&-]*(?:\s+(?:(?:of|for|the|and|de|van|von)\s+)?[A-Z][\w'’.&-]*)*")


def subject_of(parts: list[str], part: str) -> str:
    """What a later ``part`` of a split question is about when it names nothing itself: the
    names of the parts before it ("What was the final fine?" after "What fine did the ICO
    propose for Meridian?" is about "ICO, Meridian"); "" when it names something, or they do not."""
    if names(part) or re.search(r"\d", part):
        return ""
    found: list[str] = []
    for earlier in parts[:parts.index(part)]:
        body = earlier.split(" ", 1)[1] if " " in earlier else ""  # the first word is capitalised anyway
        for m in _CAPITALISED.finditer(body):
            if m.group().lower() not in FUNCTION_WORDS and m.group() not in found:
                found.append(m.group())
    return ", ".join(found)


# "Which cost more: the A mission or the B scheme?", "Which is older, A or B, and when ...?"
_OPTIONS = re.compile(r"^(?P<ask>(?:which|who|what)\b[^,:;?]*?)\s*[,:]\s*(?P<a>[^,;:?]+?)\s+or\s+(?P<b>[^,;:?]+?)"
                      r"\s*(?=\?|,\s*(?:and|or)\b|$)", re.I)


def comparison_options(question: str) -> list[str]:
    """One search per thing a question asks to choose between, each the question with that
    option alone in the place of the pair: "Which cost more: the A mission or the B scheme?" ->
    ["Which cost more: the A mission?", "Which cost more: the B scheme?"]; [] when it sets no such
    pair. Each option is short and names something (a capitalised word or a figure): "Which is
    cheaper, renting or buying?" chooses between no named things. The question is answered whole,
    over what both searches found: each option is read in its own article."""
    m = _OPTIONS.match(" ".join(question.split()))
    if not m:
        return []
    options = [m["a"], m["b"]]
    if not all(_short(o) and (names(o) or re.search(r"\d", o)) for o in options):
        return []
    q = " ".join(question.split())
    return [q[:m.start("a")] + o + q[m.end("b"):] for o in options]


def is_multi_part(question: str) -> bool:
    return len(split_question(question)) > 1


def _is_name(words: list[str], i: int) -> bool:
    w = words[i]
    return (i > 0 and w[:1].isupper() and w.lower() not in FUNCTION_WORDS) or any(c.isdigit() for c in w)


def _dummy_it(low: list[str], i: int) -> bool:
    """"Is it true that the plant closed?": "it" holds the place of a clause that follows."""
    for j in range(i + 1, min(i + 5, len(low))):
        if low[j] in ("that", "to", "whether", "for"):
            rest = [w for w in low[j + 1:] if w not in FUNCTION_WORDS and len(w) > 2]
            return len(rest) >= 2
    return False
