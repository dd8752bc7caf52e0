"""Untrusted text: article passages are data, never instructions, and answers carry no markup
the articles did not. Pure functions.

llama.cpp (and OpenAI-compatible servers) render the chat template and tokenise the whole
prompt with special tokens on, so an article containing ``<|im_end|><|im_start|>system`` would
open a real system turn. :func:`neutralise` turns every such string into look-alike text
before it enters a prompt: the common templates' forms (ChatML, Llama 2/3, Gemma, Mistral,
DeepSeek) always, and a model's own control tokens when its vocabulary is at hand
(:func:`special_pattern`, fed by ``LlamaCppModel``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from .citations import MARKER
from .types import Passage

# every common chat template's turn and control markers, whatever the model
_TEMPLATE_TOKENS = re.compile(
    r"<\|[^<>|\n]{1,64}\|>"  # ChatML, Llama 3, Phi: <|im_start|>, <|eot_id|>, <|endoftext|>
    r"|<｜[^<>｜\n]{1,64}｜>"  # DeepSeek: <｜begin▁of▁sentence｜>
    r"|</?(?:start_of_turn|end_of_turn|start_of_image|end_of_image|bos|eos|pad|unk|mask|s|sep|cls)>"  # Gemma, SentencePiece
    r"|\[/?INST\]|<</?SYS>>|\[/?(?:SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS)\]",  # Llama 2, Mistral
    re.IGNORECASE,
)
# Markers as an attacker may write them so that no tokenizer reads them as control tokens yet a
# small model still reads them as a turn: look-alike brackets and bars (fullwidth, the ‹› this
# module itself writes), spaces, and invisible characters (zero-width, soft hyphen) anywhere inside.
_INVISIBLE = "[\\s\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]*"
_OPEN = "[<‹＜«〈⟨]"
_CLOSE = "[>›＞»〉⟩]"
_BAR = "[|｜¦│]"
_SQ_OPEN = "[\\[⟦［【]"
_SQ_CLOSE = "[\\]⟧］】]"


def _spelt(word: str) -> str:
    """``word`` as a pattern that allows invisible characters between its letters."""
    return _INVISIBLE.join(re.escape(c) for c in word)


def _marker(word: str, bars: bool = True, square: bool = False) -> str:
    if square:
        return f"{_SQ_OPEN}{_INVISIBLE}{_spelt(word)}{_INVISIBLE}{_SQ_CLOSE}"
    bar = f"{_INVISIBLE}{_BAR}{_INVISIBLE}" if bars else _INVISIBLE
    return f"{_OPEN}{bar}{_spelt(word)}{bar}{_CLOSE}"


# a whole fake turn, from its opening marker to its closing one, a blank line or the end of the
# text: in an article that is an attack, never news, and quoted it still reads as an instruction
# to small models
_FAKE_TURN = re.compile(
    "(?:" + "|".join([_marker("im_start"), _marker("start_of_turn", bars=False), _marker("start_header_id"),
                      _marker("INST", square=True), f"{_OPEN}{_INVISIBLE}{_OPEN}{_INVISIBLE}{_spelt('SYS')}"
                      f"{_INVISIBLE}{_CLOSE}{_INVISIBLE}{_CLOSE}"]) + ")"
    + ".*?(?:" + "|".join([_marker("im_end"), _marker("end_of_turn", bars=False), _marker("eot_id"),
                           _marker("/INST", square=True), f"{_OPEN}{_INVISIBLE}{_OPEN}{_INVISIBLE}/{_spelt('SYS')}"
                           f"{_INVISIBLE}{_CLOSE}{_INVISIBLE}{_CLOSE}", r"(?=\n[ \t]*\n)", r"$"]) + ")",
    re.IGNORECASE | re.DOTALL,
)


def fake_turns(text: str) -> list[tuple[int, int]]:
    """(start, end) of every fake chat turn in ``text``: what :func:`quote` leaves out of the
    prompt, and so what no answer may be backed by."""
    return [m.span() for m in _FAKE_TURN.finditer(text)]


def mask_fake_turns(text: str) -> str:
    """``text`` with its fake chat turns blanked out, character for character (offsets hold)."""
    for start, end in fake_turns(text):
        text = text[:start] + " " * (end - start) + text[end:]
    return text
_LOOKALIKE = str.maketrans({"<": "‹", ">": "›", "[": "⟦", "]": "⟧", "｜": "¦"})
_WORD_JOINER = "\u2060"

# the prompt's own structure, which a passage must not be able to close or imitate
_FENCE = re.compile(r"</?\s*passages?\b[^>\n]{0,40}>|<<<|>>>", re.IGNORECASE)


def _defuse(match: re.Match) -> str:
    s = match.group(0)
    t = s.translate(_LOOKALIKE)
    return t if t != s else s[0] + _WORD_JOINER + s[1:]


def special_pattern(tokens: Iterable[str]) -> re.Pattern | None:
    """A pattern matching any of a vocabulary's control-token strings (longest first), or None.
    Whitespace-only strings are left alone: they tokenise the same either way."""
    strings = sorted({t for t in tokens if len(t) > 1 and t.strip()}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, strings))) if strings else None


def neutralise(text: str, special: re.Pattern | None = None) -> str:
    """``text`` with every chat-template control string (and, with ``special``, every one of a
    model's vocabulary) made into look-alike text that no tokenizer reads as a control token:
    ``<|im_end|>`` becomes ``‹|im_end|›``."""
    text = _TEMPLATE_TOKENS.sub(_defuse, text)
    return special.sub(_defuse, text) if special is not None else text


def neutralise_messages(messages: Sequence[dict[str, str]], special: re.Pattern | None = None) -> list[dict[str, str]]:
    return [{**m, "content": neutralise(str(m.get("content", "")), special)} for m in messages]


# a line that ends without a sentence end while the next starts a sentence: a heading, a
# title line, a date or a list item. Joined bare it runs into the next sentence ("A New Era
# in Trade The truce, brokered ...") and small models copy the heading as part of the answer.
_OPEN_LINE_END = re.compile(r"(?<![.!?:;,…\"'”’)\]»—–-])[ \t]*\n\s*(?=[\"'“‘(•·]?[A-Z0-9•·])")


def join_lines(text: str) -> str:
    """``text`` on one line: a line that ends without punctuation before a line that starts
    a sentence ends with a full stop; other line breaks become spaces (scraped text breaks
    lines mid-sentence where links were removed, "surged to\n, a 22.6% rise")."""
    return " ".join(_OPEN_LINE_END.sub(". ", text.strip()).split())


def quote(text: str) -> str:
    """Article text as the prompt quotes it: one line (see :func:`join_lines`), no fake chat
    turns, no control tokens, no ``[n]`` markers (those are the prompt's passage numbers) and
    no tags that close the passages."""
    text, dropped = _FAKE_TURN.subn(" ", text)
    if dropped:  # no blank line or hanging space left where a turn was, which join_lines would read as a sentence end
        text = re.sub(r"[ \t]*\n\s*", "\n", text)
    text = neutralise(join_lines(text))
    text = _FENCE.sub(lambda m: m.group(0).translate(_LOOKALIKE), text)
    return MARKER.sub(lambda m: f"({m.group(0)[1:-1].strip()})", text)  # [7], [Passage 7], 【7】 -> (7)...


# [text][ref] and its definition, <http://...>, bare http(s) URLs
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*\S+.*$", re.MULTILINE)
_REF_LINK = re.compile(r"!?\[(?!\d+\])([^\]\n]+)\]\[(?!\d+\])[^\]\n]*\]")  # not citation markers: "[1][2]"
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto|data|javascript):[^>\s]*)>", re.IGNORECASE)
_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>()\[\]]+|\b(?:data|javascript):[^\s<>()\[\]]+", re.IGNORECASE)
_TOKEN_EDGES = "<>()[]{}\"'“”‘’.,;:!?"


def _escaped(text: str, i: int) -> bool:
    """Whether ``text[i]`` is escaped by an odd run of backslashes before it."""
    n = 0
    while i - n - 1 >= 0 and text[i - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def _inline_link(text: str, i: int) -> tuple[int, str, str] | None:
    """At ``text[i] == "["``: (end, label, destination) of a CommonMark inline link or image
    body ``[label](destination "title")``, brackets nested or escaped in the label; None if none."""
    depth, j = 0, i
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                break
        j += 1
    if j >= len(text) or not text.startswith("(", j + 1):
        return None
    label, k = text[i + 1:j], j + 2
    while k < len(text) and text[k] in " \t\n":
        k += 1
    if text.startswith("<", k):  # <destination with spaces>
        close = text.find(">", k)
        if close < 0 or "\n" in text[k:close]:
            return None
        dest, k = text[k + 1:close], close + 1
    else:
        start, parens = k, 0
        while k < len(text) and not text[k].isspace():
            if text[k] == "\\":
                k += 2
                continue
            if text[k] == "(":
                parens += 1
            elif text[k] == ")":
                if parens == 0:
                    break
                parens -= 1
            k += 1
        dest = text[start:k]
    close = text.find(")", k)  # past an optional "title"
    if close < 0 or (text[k:close].strip() and text[k:close].strip()[0] not in "\"'("):
        return None
    return close + 1, label, dest


def _links_replaced(text: str, keep: Callable[[str], bool]) -> str:
    """``text`` with every inline image made its alt text and every inline link its label,
    unless ``keep(destination)`` for a link."""
    out, i = [], 0
    while i < len(text):
        image = text.startswith("![", i) and not _escaped(text, i)
        at = i + 1 if image else i
        found = _inline_link(text, at) if text.startswith("[", at) and not _escaped(text, at) else None
        if found is None:
            out.append(text[i])
            i += 1
            continue
        end, label, dest = found
        out.append(text[i:end] if not image and keep(dest) else _links_replaced(label, keep))
        i = end
    return "".join(out)


def _markdown_links(text: str) -> list[tuple[str, str]]:
    """(kind, url) of every image and link a CommonMark renderer finds in ``text``."""
    from markdown_it import MarkdownIt

    found = []
    for block in MarkdownIt("commonmark").parse(text):
        for tok in block.children or []:
            if tok.type == "image":
                found.append(("image", str(tok.attrs.get("src", ""))))
            elif tok.type == "link_open":
                found.append(("link", str(tok.attrs.get("href", ""))))
    return found


def strip_links(text: str, passages: Sequence[Passage] = ()) -> str:
    """``text`` without markdown images, and without links or URLs that no passage holds: an
    image becomes its alt text (always: a rendered image is fetched without a click, so one
    copied from an article or injected could carry the conversation away), a link its anchor
    text unless its URL is a whole word of a passage, a bare URL "(link removed)". What a
    CommonMark renderer still finds after that (a form the rules missed) has every bracket
    escaped, so it shows as text."""
    tokens = {w.strip(_TOKEN_EDGES) for p in passages for w in p.text.split()}

    def known(url: str) -> bool:
        url = url.strip().strip("<>")
        return bool(url) and url.strip(_TOKEN_EDGES) in tokens

    text = _links_replaced(text, known)
    text = _REF_DEF.sub("", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(lambda m: m.group(0) if known(m.group(1)) else "(link removed)", text)

    def bare(m: re.Match) -> str:
        start = m.start()
        if text[max(0, start - 2):start] == "](" or text[max(0, start - 1):start] == "<":
            return m.group(0)  # inside a link kept above
        return m.group(0) if known(m.group(0).rstrip(".,;:!?")) else "(link removed)"

    text = _URL.sub(bare, text)
    if any(kind == "image" or not known(url) for kind, url in _markdown_links(text)):
        text = re.sub(r"(?<!\\)([\[\]])", r"\\\1", text)  # nothing left to read as a link or image
    return text
