"""Keyword tokens: what the BM25 index of every store holds for a chunk and for a query.

Lower-cased word tokens, numbers kept whole with their digits ("2,902" -> "2902"), stop
words of :mod:`rag.words` left out so that "what", "did" or "say" never count as a match.
No stemming: an identifier or a name matches only as written.
"""

from __future__ import annotations

import re

from ..words import STOP_WORDS

_TOKEN = re.compile(r"[a-z0-9][a-z0-9,.'’-]*[a-z0-9%]|[a-z0-9]")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens for BM25; numbers keep their digits ("2,902" -> "2902")."""
    words = _TOKEN.findall(text.lower())
    return [w.replace(",", "") for w in words if w not in STOP_WORDS]


def index_text(title: str, text: str) -> str:
    """What is keyword-indexed for a chunk: its title and text (as it is embedded)."""
    return f"{title}\n{text}"
