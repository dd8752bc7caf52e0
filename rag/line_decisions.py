"""What cleaning decides for each line: kept or removed, and the rule's name.

Scope: the labels and reasons of :mod:`rag.ingest`'s line rules and :class:`LineDecision`,
apart so that the modules cleaning leans on (:mod:`rag.titles`, :mod:`rag.dating`) read
them without importing cleaning itself.
"""

from __future__ import annotations

from dataclasses import dataclass

KEPT, REMOVED = "kept", "removed"
TEXT, FALLBACK = "article text", "kept: every line matched a rule"
REPEATED, WIDGET, LINK_LIST = "repeated line", "widget text", "link list"
DATE_STAMP, AUTHOR_BIO, NO_WORDS = "date stamp", "author bio", "punctuation only"


@dataclass(frozen=True)
class LineDecision:
    """What cleaning does with one non-blank line of the source text."""

    number: int  # 1-based line number in the source text
    start: int  # offsets of the stripped line in the source text
    end: int
    text: str  # the stripped line
    label: str  # KEPT or REMOVED
    reason: str  # TEXT or FALLBACK when kept; the rule's name when removed

    @property
    def kept(self) -> bool:
        return self.label == KEPT
