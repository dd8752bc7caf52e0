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
from collections.abc import Iterable, Sequence

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
# a whole fake turn, from its opening marker to its closing one (or the end of the text): in an
# article that is an attack, never news, and quoted it still reads as an instruction to small models
_FAKE_TURN = re.compile(
    r"(?:<\|im_start\|>|<start_of_turn>|<\|start_header_id\|>|\[INST\]|<<SYS>>)"
    r".*?(?:<\|im_end\|>|<end_of_turn>|<\|eot_id\|>|\[/INST\]|<</SYS>>|$)",
    re.IGNORECASE | re.DOTALL,
)
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
    text = neutralise(join_lines(_FAKE_TURN.sub(" ", text)))
    text = _FENCE.sub(lambda m: m.group(0).translate(_LOOKALIKE), text)
    return MARKER.sub(lambda m: f"({m.group(0)[1:-1].strip()})", text)  # [7], [Passage 7], 【7】 -> (7)...


# ![alt](url "title"), [text](url), [text][ref], <http://...>, bare http(s) URLs
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'(][^)\n]*)?\)")
_LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'(][^)\n]*)?\)")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*\S+.*$", re.MULTILINE)
_REF_LINK = re.compile(r"!?\[([^\]\n]+)\]\[[^\]\n]*\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto|data|javascript):[^>\s]*)>", re.IGNORECASE)
_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>()\[\]]+|\b(?:data|javascript):[^\s<>()\[\]]+", re.IGNORECASE)


def strip_links(text: str, passages: Sequence[Passage] = ()) -> str:
    """``text`` without markdown images, links or URLs that no passage contains: an image
    becomes its alt text, a link its anchor text, a URL "(link removed)". (A rendered image is
    fetched without a click, so an injected one could carry the conversation away.)"""
    sources = " ".join(p.text for p in passages)

    def known(url: str) -> bool:
        return bool(url) and url in sources

    text = _IMAGE.sub(lambda m: m.group(0) if known(m.group(2)) else m.group(1), text)
    text = _LINK.sub(lambda m: m.group(0) if known(m.group(2)) else m.group(1), text)
    text = _REF_DEF.sub("", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(lambda m: m.group(0) if known(m.group(1)) else "(link removed)", text)

    def bare(m: re.Match) -> str:
        start = m.start()
        if text[max(0, start - 2):start] == "](" or text[max(0, start - 1):start] == "<":
            return m.group(0)  # inside a link kept above
        return m.group(0) if known(m.group(0).rstrip(".,;:!?")) else "(link removed)"

    return _URL.sub(bare, text)
