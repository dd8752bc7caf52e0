"""Which line heads a document and what its title reads: the title is shown to the model with
every passage and counts as evidence, so it must be the story's headline, not a label above it.

Scope: pure functions on lines :mod:`rag.ingest` has already decided on. A title is a separate
string: stripping a heading's markup from it never moves an offset of the document's text.
"""

from __future__ import annotations

import re
from typing import Protocol, Sequence

from .line_decisions import DATE_STAMP
from .line_kinds import _DATE, _is_sentence, _words, is_byline, is_caption, is_headline, is_menu, meta_date


class _Line(Protocol):  # a rag.ingest.LineDecision
    @property
    def text(self) -> str: ...
    @property
    def kept(self) -> bool: ...
    @property
    def reason(self) -> str: ...


# a markdown heading's "#" marks (and optional closing ones) and a whole line set in emphasis
_HEADING_MARKS = re.compile(r"^#{1,6}\s+(.*?)(?:\s+#+)?$")
_WRAPPED = re.compile(r"^(\*{1,3}|_{1,3})([^*_].*?)\1$")


def title_text(line: str) -> str:
    """``line`` without its markup: "# Rivers Rise" and "**Rivers Rise**" read "Rivers Rise"."""
    line = line.strip()
    if m := _HEADING_MARKS.match(line):
        line = m.group(1).strip()
    if m := _WRAPPED.match(line):
        line = m.group(2).strip()
    return line


def _label(line: str) -> bool:
    """An all-capitals label of one to four words and no figure: "NEWS RELEASE", "FOR IMMEDIATE
    RELEASE", "ANALYSIS"; it files the piece, a headline names what happened."""
    words = line.split()
    return 1 <= len(words) <= 4 and not re.search(r"[a-z0-9]", line) and bool(re.search(r"[A-Z]{2}", line))


def headline_like(line: str) -> bool:
    """A title-cased headline, or one in sentence case ("Chemists turn carbon dioxide into
    methanol"): five or more words, not a sentence, no date, no caption, byline or menu."""
    text = title_text(line)
    if re.search(_DATE, text, re.IGNORECASE) or is_caption(line) or is_byline(line) or is_menu(line):
        return False  # an embargo or dateline ("Embargoed until June 9, 2025") is title-cased too
    return is_headline(line) or (5 <= len(_words(text)) <= 30 and not _is_sentence(text)
                                 and not text.endswith((":", ",", ";")) and text[:1].isupper())


# short labels between bars or dots: "Real Estate · Alder Bay", "Opinion | Politics" (a section, a place)
_LABEL_SEP = re.compile(r"\s[|·•]\s")


def _labels(line: str) -> bool:
    items = [i.strip() for i in _LABEL_SEP.split(re.sub(r"[*_]+", "", line))]
    return len(items) >= 2 and all(1 <= len(i.split()) <= 3 and not re.search(r"\d|[.!?:]$", i) for i in items)


def _heading_level(line: str) -> int:
    """How many "#" mark ``line`` as a markdown heading (0: none)."""
    m = re.match(r"^(#{1,6})\s", line.strip())
    return len(m.group(1)) if m else 0


def _entry(line: str) -> bool:
    """One entry of a menu set one per line: one to three words, no figure, no punctuation at
    its end ("Home", "Sign in", "What's On")."""
    text = title_text(line)
    return 1 <= len(_words(text)) <= 3 and not re.search(r"\d|[.!?:;,]\s*$", text)


def _signed(line: str) -> bool:
    text = title_text(line)
    return is_byline(text) or (meta_date(text) is not None and meta_date(text).signed)


def past_label(lines: Sequence[_Line], first: int, reach: int = 5) -> int:
    """The line that heads an article whose first kept line is ``first``: ``first`` itself,
    unless it is an all-capitals label, short labels between separators ("Real Estate · Alder
    Bay"), a picture's caption, a dated meta line ("Finance | May 15, 2025 | By Ada Moss") or a
    site's menu, and a headline-like line follows within ``reach`` kept lines, before any
    paragraph of more than 40 words (a press release's "NEWS RELEASE", then an embargo line,
    then the headline; a masthead, a menu and a cookie notice above a saved page's headline).
    A short markdown heading ("# Northern Vale Post") is a site's name when a deeper heading
    that reads as a headline follows it after a menu, or with a byline or signed date under it
    when the page names the site again further down;
    a menu set one entry per line does not count against the reach. The label stays in the
    text; it only is not the title."""
    text = lines[first].text
    site_name = 0 < _heading_level(text) and len(_words(title_text(text))) <= 4
    kept = [i for i in range(first + 1, len(lines)) if lines[i].kept]
    # a menu set one entry per line ("Home", "News", "Sign in"), perhaps under the site's name
    # (four entries at least: a short headline may have an author and a role under it)
    vertical = _entry(text) and len(kept) >= 3 and all(_entry(lines[i].text) for i in kept[:3])
    if not (_label(text) or _labels(text) or is_caption(text) or meta_date(text) or is_menu(text) or site_name
            or vertical):
        return first
    menu_seen, counted = False, 0
    for n, i in enumerate(kept):
        below = lines[i].text
        # a menu's entries, one per line, do not count against the reach
        counted += not (vertical and _entry(below))
        if counted > reach:
            break
        if vertical and len(_words(title_text(below))) <= 3:
            continue  # under a menu of one entry per line, a short line is one more ("Subscribe for £1")
        if _label(below):
            continue  # a second label ("PRESS RELEASE", then "FOR IMMEDIATE RELEASE") files the piece too
        # a byline or dated meta line under it, and the short heading's words again further down
        # the page ("Follow The Kestrel Courier on X"): a site names itself, a headline is not repeated
        signed = n + 1 < len(kept) and _signed(lines[kept[n + 1]].text) and site_name and \
            any(title_text(text).lower() in lines[j].text.lower() for j in kept[n + 2:])
        if headline_like(below) and (not site_name or (menu_seen or signed)
                                     and _heading_level(below) > _heading_level(text)):
            return i
        menu_seen = menu_seen or is_menu(below)
        if len(_words(below)) > 40:
            break  # a paragraph of the story: the headline is not below it
    return first


def masthead(header: Sequence[_Line]) -> str | None:
    """The page's first line when it is a short label above the article (a site's name):
    readers refer to a headline-less piece by where it appeared."""
    first = next((d for d in header if d.text.strip()), None)
    if first is None or first.reason == DATE_STAMP or _is_sentence(first.text) or len(_words(first.text)) > 4:
        return None
    return first.text.strip()


def fallback_title(first_text: str, masthead_text: str | None = None) -> str:
    """A headline-less article is titled by its first line's first sentence, without its
    heading marks, after the page's masthead when it has one."""
    line = title_text(first_text.strip().split("\n", 1)[0])
    sentence = re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0]
    sentence = f"{masthead_text}: {sentence}" if masthead_text else sentence
    return sentence if len(sentence) <= 90 else sentence[:87].rsplit(" ", 1)[0] + "…"


__all__ = ["fallback_title", "headline_like", "masthead", "past_label", "title_text"]
