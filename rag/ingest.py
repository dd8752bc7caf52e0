"""Clean web noise out of article text, keeping offsets into the source text.

Scope: the text :mod:`rag.reading` gives of a file. What a single line looks like (a widget
label, a link list's item, a date, a figure) is :mod:`rag.line_kinds`. Cleaning is line based:
:func:`explain` labels every non-blank line kept or removed with a reason, and :func:`clean`
builds documents from exactly those labels. A line goes only by a rule that holds across
sites, never by one site's vocabulary: ``repeated line`` (a copy of an earlier line, or a
non-sentence line framing the page above the first sentence and below the last), ``widget
text`` (a short line made entirely of widget labels such as "Share" or "All rights reserved",
or a "click here" prompt), ``link list`` (only links, or list items that are a link's anchor
text), ``date stamp``, ``author bio`` (the block under an avatar line that ends the page) and
``punctuation only``. A word like "subscribe" or a URL inside a sentence never removes it,
and no rule removes a line that states a figure (:func:`holds_figure`) for looking like furniture.

A file with text is never skipped whole: when every line would go, its lines are kept and a
warning is logged. Kept lines form spans of the untouched source text, so any chunk of a
span slices back exactly. A file that holds several articles is split at headline-like lines
(never a caption or a byline), and a page at the <article> elements that hold a story of their
own (:class:`rag.reading.Layout`). Which line titles a document is :mod:`rag.titles`. A document
is dated by its first date stamp or by a meta line near its headline (:mod:`rag.dating`: "Finance | May 15, 2025 |
By Ada Moss", :func:`rag.line_kinds.meta_date`), which stays text.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import CorpusError
from .reading import SUPPORTED_SUFFIXES, Layout, corpus_files, read_source, read_with_layout  # noqa: F401 (corpus_files, SUPPORTED_SUFFIXES, read_source: also read from here)
from .types import Document
from .dating import article_date
from .line_decisions import (AUTHOR_BIO, DATE_STAMP, FALLBACK, KEPT, LINK_LIST, NO_WORDS, REMOVED, REPEATED, TEXT,
                             WIDGET, LineDecision)
from .line_kinds import (_ANCHOR, _AVATAR, _DATE_LINE, _URL, _headline_shape, _is_sentence, _is_widget, _link_item,
                         _strip_links, _words, holds_figure, is_headline, numeric_day_first, parse_date)
from .titles import fallback_title, masthead, past_label, title_text

log = logging.getLogger(__name__)

CLEANER_VERSION = 14  # bump when cleaning changes, so indexes re-chunk


@dataclass(frozen=True)
class _Line:
    number: int
    start: int
    end: int
    text: str  # stripped


def explain_file(path: Path) -> list[LineDecision]:
    """:func:`explain` for a file; CorpusError if it is unreadable, binary or empty."""
    text, layout = read_with_layout(path)
    if not text.strip():
        raise CorpusError(f"{path}: empty file (no text)")
    return explain(text, layout)


def _lines(text: str) -> list[_Line]:
    """The non-blank lines of ``text`` with their offsets."""
    out, pos = [], 0
    for number, raw in enumerate(text.split("\n"), 1):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            out.append(_Line(number, pos + lead, pos + lead + len(stripped), stripped))
        pos += len(raw) + 1
    return out


def _new_value(text: str, below: str, first_below: str) -> bool:
    """A short line (five words or fewer) whose next line differs from its first copy's: a
    value in a list of results or answers, not a copy."""
    return len(_words(text)) <= 5 and below != first_below


def explain(text: str, layout: Layout | None = None) -> list[LineDecision]:
    """Label each non-blank line of ``text`` kept or removed, with the reason; in a file of
    several articles, each article's lines on their own. ``layout``: what the file's markup
    says (:func:`rag.reading.read_with_layout`), such as where each <article> starts. Pure."""
    return _decide(text, layout or Layout())[0]


def _decide(text: str, layout: Layout) -> tuple[list[LineDecision], list[list[int]], list[int]]:
    """(every line's decision, each article's decision indexes in file order, the index of
    each article's first line of its own: its headline, if it has one)."""
    decisions = _explain_lines(text)
    if any(d.reason == FALLBACK for d in decisions):
        return decisions, [list(range(len(decisions)))], [next(i for i, d in enumerate(decisions) if d.kept)]
    articles: list[list[int]] = []
    heads: list[int] = []
    for story, own_from in _stories(decisions, layout):
        starts = _split_articles([decisions[i] for i in story], own_from)
        heads.extend(story[a] for a in starts)
        starts[0] = 0  # the lines above the first article's head are its header
        articles.extend(story[a:b] for a, b in zip(starts, starts[1:] + [len(story)]))
    return _each_article_alone(decisions, articles), articles, heads


def _stories(decisions: list[LineDecision], layout: Layout) -> list[tuple[list[int], int]]:
    """Each story the markup marks (each <article> of a page of several), in file order, as
    (its decision indexes, where in them its own lines start); all lines as one when it marks
    none. Text outside the stories that is no story (a list's label) frames the story before
    it, or heads the first. A story with no kept line is none: it joins the story before.
    A page of one story whose markup names its headline (:attr:`Layout.headline`) has its own
    lines from that headline on: a cookie banner above it is frame, never the title."""
    if not layout.stories or not decisions:
        if not decisions:
            return []
        own_from = 0
        if layout.headline is not None:
            own_from = next((i for i, d in enumerate(decisions) if d.start >= layout.headline and d.kept), 0)
        return [(list(range(len(decisions))), own_from)]
    offsets = [at for at, _ in layout.stories]
    own = [layout.stories[max(bisect_right(offsets, d.start) - 1, 0)][1] for d in decisions]
    joins = list(own)
    if not layout.outside_is_story:
        for i, story in enumerate(own):
            joins[i] = story or (joins[i - 1] if i else next((s for s in own if s), 0))
    by_story: dict[int, list[int]] = {}
    for i, story in enumerate(joins):
        by_story.setdefault(story, []).append(i)

    def has_text(group: list[int]) -> bool:
        return any(decisions[i].kept for i in group)

    out: list[tuple[list[int], int]] = []
    for story, group in by_story.items():
        if out and not (has_text(group) and has_text(out[-1][0])):
            out[-1] = (sorted(out[-1][0] + group), out[-1][1])
        else:
            out.append((group, next(k for k, i in enumerate(group) if own[i] == story)))
    return out


def _explain_lines(text: str) -> list[LineDecision]:
    """Label each non-blank line of ``text``, the whole text as one page."""
    lines = _lines(text)
    reasons: list[str | None] = []
    before: dict[str, str] = {}  # a line -> the line above its first copy
    keys = [" ".join(ln.text.lower().split()) for ln in lines]
    first_below: dict[str, str] = {}  # a line -> the line below its first copy
    for i, (ln, key) in enumerate(zip(lines, keys)):
        above = keys[i - 1] if i else ""
        below = keys[i + 1] if i + 1 < len(keys) else ""
        if not re.search(r"[^\W_]", ln.text):
            reasons.append(NO_WORDS)
        elif _DATE_LINE.match(ln.text):
            reasons.append(DATE_STAMP)
        elif _is_widget(ln.text):
            reasons.append(WIDGET)
        elif key in before and (before[key] == above or _is_sentence(ln.text) and len(_words(ln.text)) > 5
                                or not (holds_figure(ln.text) or _new_value(ln.text, below, first_below[key]))):
            # a copy goes; but under another label a figure ("$4 million" under "Q2 revenue") is a
            # new fact, and so is a short value between other lines ("A: Yes." for another
            # question, "Labour hold" for another ward). A longer line repeated (a headline, a
            # tagline) is the page's furniture, and a label with its value repeated is a copy.
            reasons.append(REPEATED)
        else:
            reasons.append(None)
        before.setdefault(key, above)
        first_below.setdefault(key, below)
    _keep_timeline(lines, reasons)
    _mark_link_lists(lines, reasons)
    _mark_page_frame(lines, reasons)
    _mark_author_block(lines, reasons)
    fallback = bool(lines) and all(reasons)
    if fallback:  # never lose a file: keep its lines, except bare URLs when anything else is left
        bare = [not _words(_strip_links(ln.text, set())[1]) and bool(_URL.search(ln.text)) for ln in lines]
        reasons = [r if b and not all(bare) else None for b, r in zip(bare, reasons)]
    return [LineDecision(ln.number, ln.start, ln.end, ln.text, REMOVED if r else KEPT, r or (FALLBACK if fallback else TEXT))
            for ln, r in zip(lines, reasons)]


def _mark_link_lists(lines: list[_Line], reasons: list[str | None]) -> None:
    """Remove bare link lines, runs of two or more link list items, and the short
    heading ("More coverage:") that introduces such a list."""
    # a parenthesised word ending many lines, like "(Source)", is a link's label
    endings = Counter(m.group(1).lower() for ln in lines if (m := _ANCHOR.search(ln.text)))
    anchors = {w for w, n in endings.items() if n >= 3}
    kinds = [_link_item(ln.text, anchors) if reasons[i] is None else None for i, ln in enumerate(lines)]
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and kinds[j]:
            j += 1
        if j - i >= 2 or (j > i and kinds[i] == "pure"):
            for k in range(i, j):
                reasons[k] = LINK_LIST
            head = lines[i - 1].text if i > 0 else ""
            # "More coverage:" introduces the list; "The Nasdaq fell 3.1%, dragged down by:" states a figure
            if i > 0 and reasons[i - 1] is None and head.endswith(":") and len(_words(head)) <= 12 \
                    and not holds_figure(head):
                reasons[i - 1] = LINK_LIST
        i = max(j, i + 1)


def _mark_page_frame(lines: list[_Line], reasons: list[str | None]) -> None:
    """Remove every copy of a non-sentence line that occurs both above the first sentence
    and below the last one: page chrome (a tagline, a banner) frames the article. A
    headline keeps its first copy: a title repeated in the footer is still the title."""
    prose = [i for i, ln in enumerate(lines) if reasons[i] is None and len(_words(ln.text)) >= 6 and _is_sentence(ln.text)]
    if not prose:
        return
    where: dict[str, list[int]] = {}
    for i, ln in enumerate(lines):
        where.setdefault(" ".join(ln.text.lower().split()), []).append(i)
    for key, idx in where.items():
        if len(idx) < 2 or idx[0] > prose[0] or idx[-1] < prose[-1] or _is_sentence(lines[idx[0]].text):
            continue
        first = lines[idx[0]].text
        # a figure framing the page ("Unemployment 3.9%" above and below) keeps its first copy
        for i in idx[1:] if _headline_shape(first) or holds_figure(first) else idx:
            reasons[i] = reasons[i] or REPEATED


def _keep_timeline(lines: list[_Line], reasons: list[str | None]) -> None:
    """Date lines between the article's sentences, two or more of them, are a timeline's dates,
    not the page's date stamps: keep them (a date stamp sits above the first sentence or below
    the last, or stands alone as a dateline)."""
    prose = [i for i, ln in enumerate(lines) if len(_words(ln.text)) >= 6 and _is_sentence(ln.text)]
    if len(prose) < 2:
        return
    inside = [i for i in range(prose[0] + 1, prose[-1]) if reasons[i] == DATE_STAMP]
    if len(inside) >= 2:
        for i in inside:
            reasons[i] = None


def _mark_author_block(lines: list[_Line], reasons: list[str | None]) -> None:
    """Remove the author's name and bio paragraph under an avatar line when nothing kept
    follows them: an author block that closes the page is about the author, not the news."""
    for i, ln in enumerate(lines):
        if reasons[i] != WIDGET or not _AVATAR.fullmatch(ln.text.strip(" .:")):
            continue
        block = [i + 1] if i + 1 < len(lines) and reasons[i + 1] is None and len(_words(lines[i + 1].text)) <= 4 else []
        nxt = (block[-1] if block else i) + 1  # the bio paragraph, after the name if there is one
        if nxt < len(lines) and reasons[nxt] is None:
            block.append(nxt)
        if block and all(r is not None for r in reasons[block[-1] + 1:]):
            for k in block:
                reasons[k] = reasons[k] or AUTHOR_BIO


def _split_articles(decisions: list[LineDecision], own_from: int = 0) -> list[int]:
    """Indexes of decisions that start an article: the first kept line (from ``own_from`` on:
    the lines above are the page's frame; past a label such as "NEWS RELEASE" above the
    headline, :func:`rag.titles.past_label`), then any headline after a blank or removed line with
    a date line under it (a byline may sit between), or a long one standing alone after enough
    body text. A subheading within a story has no date line of its own, and is seldom long
    after a short paragraph."""
    def joined(a: int, b: int) -> bool:  # adjacent source lines, both kept
        return decisions[a].kept and decisions[b].kept and decisions[b].number == decisions[a].number + 1

    def dated(i: int) -> bool:  # a date line under line i, or under a short line under it
        below = [d.text for d in decisions[i + 1:i + 3]]
        return bool(below) and (bool(_DATE_LINE.match(below[0])) or len(below) == 2 and bool(_DATE_LINE.match(below[1]))
                                and len(_words(below[0])) <= 5 and not _is_sentence(below[0]))

    first = next((i for i, d in enumerate(decisions) if d.kept and i >= own_from), None)
    if first is None:  # the story's own lines all go: its frame's first kept line heads it
        return _split_articles(decisions) if own_from else []
    # a first line that only files the piece ("NEWS RELEASE") is no headline: the one below is
    starts = [past_label(decisions, first)]
    body_since = 0
    for i in range(starts[0] + 1, len(decisions)):
        d = decisions[i]
        if not d.kept:
            continue
        after_blank = not joined(i - 1, i)
        alone = after_blank and (i + 1 >= len(decisions) or not joined(i, i + 1))
        if is_headline(d.text) and (after_blank and body_since and dated(i)
                                    or alone and body_since >= 600 and len(_words(d.text)) >= 9):
            starts.append(i)
            body_since = 0
        else:
            body_since += len(d.text)
    return starts


def _each_article_alone(decisions: list[LineDecision], articles: list[list[int]]) -> list[LineDecision]:
    """``decisions`` with each article of a file of several decided on its own text: a byline,
    a date line or a quote the second article shares with the first is its own, not a copy of
    the first's. The articles and their lines stay where the whole file's pass found them."""
    if len(articles) < 2:
        return decisions
    out = list(decisions)
    for article in articles:
        alone = _explain_lines("\n".join(decisions[i].text for i in article))
        if len(alone) != len(article) or any(d.reason == FALLBACK for d in alone):
            continue  # (not expected) keep the whole file's decisions for this article
        for i, d in zip(article, alone):
            out[i] = replace(decisions[i], label=d.label, reason=d.reason)
    return out


def clean(text: str, source: str, layout: Layout | None = None) -> list[Document]:
    """Split ``text`` (the source text of file ``source``) into cleaned documents, keeping
    the lines :func:`explain` keeps. ``layout``: what the file's markup says (where each
    <article> starts, the page's language). Empty only when ``text`` has no non-blank line."""
    layout = layout or Layout()
    decisions, articles, heads = _decide(text, layout)
    if any(d.reason == FALLBACK for d in decisions):
        log.warning("%s: every line looked like boilerplate; kept its lines as one document", source)
    day_first = numeric_day_first(text, layout.lang)  # one file writes its dates one way
    docs: list[Document] = []
    for n, (article, first) in enumerate(zip(articles, heads)):
        head = decisions[first]
        # a markdown heading's "#" marks are markup, not part of the title
        # the line the markup names the headline (a page's <h1>, a Word file's Title or heading
        # style) titles it in any case: "Terminal expansion: full business case" is one (cut
        # short as a first line is, when it runs long)
        marked = n == 0 and layout.headline is not None and head.start == layout.headline
        shaped = is_headline(head.text)
        title_line = title_text(head.text) if shaped else fallback_title(head.text) if marked else None
        # a headline-shaped line is the title, not text; a marked one stays text as it was
        body = [i for i in article if decisions[i].kept and not (shaped and i == first)] or [first]
        spans: list[tuple[int, int]] = []
        for k, i in enumerate(body):
            # a run of kept lines separated only by blank lines is one span
            if k and body[k - 1] == i - 1:
                spans[-1] = (spans[-1][0], decisions[i].end)
            else:
                spans.append((decisions[i].start, decisions[i].end))
        # a masthead names a headline-less piece by its site; kept lines above the head (a page's
        # frame above its <h1>, a "NEWS RELEASE" label) say the head is the headline already
        named = n == 0 and (bool(layout.stories) or layout.headline is None and not any(d.kept for d in decisions[:first]))
        # the file's metadata may name the document in full where its headline is short ("Hollin
        # Water plc | Annual Report 2025" in a PDF's running header over "Annual Report 2025")
        if n == 0 and title_line and layout.title and title_line.lower() in layout.title.lower():
            title_line = layout.title
        title = title_line or (layout.title if n == 0 else None) \
            or fallback_title(text[decisions[first].start:decisions[first].end], masthead(decisions[:first]) if named else None)
        date = parse_date(title_line or "", day_first) or article_date(decisions, article, first, day_first) \
            or (layout.published if n == 0 else None)  # the page's metadata, when no line near the headline dates it
        doc_id = source if n == 0 else f"{source}#{n + 1}"
        docs.append(Document(source=source, doc_id=doc_id, title=title, date=date, text=text, spans=tuple(spans)))
    return docs


def load_file(path: Path, source: str) -> tuple[str, list[Document]]:
    """Read and clean one file: (source text, documents). Only an unreadable, binary or
    empty (whitespace-only) file is an error: cleaning never drops a file with text."""
    text, layout = read_with_layout(path)
    docs = clean(text, source, layout)
    if not docs:
        raise CorpusError(f"{path}: empty file (no text); skipped")
    return text, docs
