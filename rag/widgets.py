"""Known widget text that holds across sites: a row of share buttons and a cookie notice that
ends in its buttons.

Scope: pure predicates over one line, used by :mod:`rag.line_kinds`. Each matches the whole
line's shape (button labels only, or a notice whose last words are its buttons), never a word
inside prose: "The regulator fined the site for setting cookies" stays text.
"""

from __future__ import annotations

import re

__all__ = ["is_consent_notice", "is_share_bar"]

# a row of share buttons, their labels between spaces: "Share: Facebook X Pinterest WhatsApp"
# (a label between spaces, dots, bars or commas; a platform named alone on its line may be an item
# of a story's own list, and stays)
_SHARE_BAR = re.compile(r"^(?:share(?:\ this(?:\ \w+)?)?:?\s+)?(?:(?:facebook|twitter|x|linkedin|whatsapp|pinterest"
                        r"|reddit|telegram|messenger|bluesky|threads|e-?mail|print|tweet|share|copy\ link|f|in|✉)"
                        r"(?:\s*[·|,•]\s*|\s+|$)){2,}$", re.IGNORECASE)
# a consent notice's buttons after its last sentence: "... process personal data. AGREE MORE OPTIONS"
_CONSENT_BUTTONS = re.compile(
    r"[.!?]\s+(?:(?:accept|agree|reject|decline|allow|deny|ok|okay|got\ it|i\ agree|consent|manage|more|options?"
    r"|settings|preferences|cookie|cookies|all|essential|only|non-essential|necessary|customi[sz]e)\W*){1,8}$", re.IGNORECASE)


def is_consent_notice(t: str) -> bool:
    """A cookie or privacy notice with its buttons at its end (no sentence of a story ends in
    button labels)."""
    return bool(re.search(r"\bcookies?\b", t, re.IGNORECASE)) and bool(_CONSENT_BUTTONS.search(t)) \
        and len(t.split()) <= 80


def is_share_bar(t: str) -> bool:
    """A row of share buttons: "Share: Facebook X Pinterest WhatsApp", "Share · Tweet · Email"."""
    return bool(_SHARE_BAR.match(t.strip()))
