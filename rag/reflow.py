"""Lines joined back into the paragraphs they were wrapped from: a PDF's lines, or a text file's.

Scope: pure functions over lines (:class:`rag.pdf_layout.Line`, or plain strings for
:func:`runs_on`). A line runs on into the next when it ends in a hyphen, or has no sentence end
and is long for its page or followed by a lower-case word; a word a line end split loses its
hyphen, a compound keeps it.
"""

from __future__ import annotations

import re

from .pdf_layout import Line

__all__ = ["ITEM", "SENTENCE_END", "reflow", "runs_on", "text_size", "wrap_width"]


SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*$")
# a line that starts an item of its own: a bullet, "1.", "(a)", "a)", a table row
ITEM = re.compile(r"^(?:[•▪◦‣●○■□–—*-]\s|\(?\d{1,3}[.)]\s|\(?[a-z][.)]\s|\|)")


def reflow(pages: list[list[Line]]) -> list[str]:
    """The pages' lines (furniture already out) as paragraphs. A line runs on into the next one
    in the same font, not a paragraph's gap below it, nor an item of its own, when it ends in a
    hyphen, or has no sentence end and is either long for its page (a heading, a table row and
    a paragraph's last line are short) or followed by a lower-case word. A word hyphenated at
    the line end loses its hyphen unless the document writes it with one elsewhere. A page's
    footnotes (its last lines, in a smaller font than its text) follow the paragraph that runs
    on past them to the next page."""
    whole = "\n".join(line.text for lines in pages for line in lines)
    out: list[str] = []
    last: Line | None = None
    notes: list[Line] = []  # footnotes waiting for the paragraph they interrupt to end
    width = before = float("inf")  # this page's line width, the page before's
    for lines in pages:
        before, width = width, wrap_width([line.text for line in lines])
        body = text_size(lines)
        end = len(lines)
        while end > 1 and lines[end - 1].size < 0.9 * body:
            end -= 1
        for k, line in enumerate(lines[:end]):
            if last is not None and (_runs_on(last, line, before if k == 0 else width, first_on_page=k == 0)
                                     or _heading_runs_on(last, line, body)):
                out[-1] = _join(out[-1], line.text, whole)
            else:
                out.extend(reflow([notes]) if notes else [])
                notes = []
                out.append(line.text)
            last = line
        notes += lines[end:]
    return out + (reflow([notes]) if notes else [])


def _heading_runs_on(a: Line, b: Line, body: float) -> bool:
    """A heading set larger than the text runs on into the next line in its font, unless it ends
    a sentence or a paragraph's gap parts them (a headline wrapped over two lines)."""
    return a.size >= 1.2 * body and abs(a.size - b.size) <= 0.5 and not SENTENCE_END.search(a.text) \
        and (a.y is None or b.y is None or 0 < a.y - b.y <= 1.6 * a.size)


def text_size(lines: list[Line]) -> float:
    """The font size most of a page's text is set in."""
    chars: dict[float, int] = {}
    for line in lines:
        chars[round(line.size, 1)] = chars.get(round(line.size, 1), 0) + len(line.text)
    return max(chars, key=chars.__getitem__) if chars else 0.0


def wrap_width(lines: list[str]) -> float:
    """A page's (or a file's) full line length: the 80th percentile length of its lines of five
    words or more (infinite when it has fewer than three)."""
    lengths = sorted(len(t) for t in lines if len(t.split()) >= 5 and not t.startswith("|"))
    return lengths[int(0.8 * (len(lengths) - 1))] if len(lengths) >= 3 else float("inf")


def _runs_on(a: Line, b: Line, width: float, first_on_page: bool) -> bool:
    """Whether line ``a`` runs on into line ``b``, the next one drawn."""
    text, nxt = a.text, b.text
    if text.startswith("|") or ITEM.match(nxt) or abs(a.size - b.size) > 0.5:
        return False
    # a gap below ``a`` wider than a line's is a paragraph's end (a line above ``a``: a new column)
    if not first_on_page and a.y is not None and b.y is not None and a.y - b.y > 1.6 * a.size:
        return False
    if re.search(r"[A-Za-z]-$|\u00ad$", text):
        return True
    return runs_on(text, nxt, width)


def runs_on(line: str, nxt: str, width: float) -> bool:
    """Whether a line set in a paragraph ``width`` characters wide runs on into the next: it has
    no sentence end, and either the next starts in lower case or it is long for the paragraph
    and ends in a word or a comma (a closing bracket or quote may end a line of its own)."""
    if SENTENCE_END.search(line):
        return False
    return nxt[:1].islower() or (len(line) >= 0.7 * width and len(line.split()) >= 4 and bool(re.search(r"[\w,]$", line)))


def _join(text: str, line: str, whole: str) -> str:
    """``text`` with the line after it joined on: a soft hyphen goes, and so does a line-end
    hyphen before a lower-case letter unless the document hyphenates that word elsewhere."""
    if text.endswith("\u00ad"):
        return text[:-1] + line
    m = re.search(r"(\w+)-$", text)
    if m and line[:1].islower():
        head, tail = m.group(1), (re.match(r"\w+", line) or m).group(0)
        return text + line if _compound(head, tail, whole) else text[:-1] + line
    if m:
        return text + line  # "Rolls-" / "Royce": the hyphen is the name's
    return text + " " + line


def _compound(head: str, tail: str, whole: str) -> bool:
    """Whether "head-" at a line end and "tail" after it are a hyphenated compound ("cast-iron",
    "re-election") rather than one word the line end split ("differ-ence"): the document writes
    it with its hyphen elsewhere, or else not without; failing both, the two halves are English
    words and the whole is not."""
    if re.search(rf"\b{re.escape(head)}-{re.escape(tail)}\b", whole):
        return True
    if re.search(rf"\b{re.escape(head + tail)}\b", whole):
        return False
    from .embedding import english_words

    words = english_words()
    joined = (head + tail).lower()
    return joined not in words and head.lower() in words and tail.lower() in words
