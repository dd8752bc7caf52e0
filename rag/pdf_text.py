"""A PDF's text as its reader sees it: rows kept whole, page furniture set aside, wrapped lines
joined back into their sentences.

Scope: pure functions over the positioned text runs pypdf reports for each page (``Run``), and
:func:`pdf_parts`, which reads those runs with pypdf. A PDF stores no sentences, only strings
drawn at positions, and plain extraction shows what that costs downstream:

- a line of a paragraph is a line of text, so "The differ-" / "ence was largest" are two
  sentences to the splitter, the check and the citation, and "difference" is no word at all;
- each cell of a table drawn cell by cell is a line of its own, so a row ("Harnby 8.5 2027")
  falls apart into three lines that say nothing alone;
- the running header, the footer and the page number sit inside the text, between the halves
  of a sentence that crosses a page.

So runs on one baseline make one line (cells far apart make a row), rows whose cells line up
make a table (written as a markdown pipe table, which :mod:`rag.tables` labels like any other),
a line that recurs at the top or bottom of the pages is furniture, and a line that runs on
(long, with no sentence end, or followed by a lower-case word) is joined to the next.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

__all__ = ["ITEM", "SENTENCE_END", "Line", "Run", "page_lines", "pdf_parts", "reflow", "running_lines", "runs_on",
           "table_text", "wrap_width"]


@dataclass(frozen=True)
class Run:
    """A string drawn at (x, y), in points from the page's lower left, in a font of ``size``;
    ``x``/``y`` are None for a string that only continues the run before it on a new line."""

    x: float | None
    y: float | None
    size: float
    text: str
    width: float | None = None  # how wide the text is drawn, when the font says
    rotated: bool = False  # drawn at an angle (a watermark, a margin's label): outside the reading flow


# a cell's text with the x where it starts
Cell = tuple[float, str]


@dataclass
class Line:
    """A drawn line: its cells, its font size and its baseline (None when not known)."""

    cells: list[Cell]
    size: float
    y: float | None
    gaps: list[float] = field(default_factory=list)  # per cell after the first: how far from the one before
    ends: list[float] = field(default_factory=list)  # per cell: where its text ends

    @property
    def text(self) -> str:
        return "  ".join(t for _, t in self.cells)
# ligatures a PDF font may map its glyphs to, as the letters they join
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
# a glyph no text font maps to a letter (a control or private-use code: a bullet of a symbol font)
_GLYPH = re.compile(r"^[\x00-\x08\x0b-\x1f\x7f\ue000-\uf8ff]+\s*")


def page_lines(runs: list[Run]) -> list[Line]:
    """The page's lines in the order the page draws them: a run on the baseline of the line
    before continues it (as a new cell when far from where that line's text ends)."""
    lines: list[Line] = []
    base: float | None = None  # the current line's baseline
    end = 0.0  # where the current line's last run ends, estimated from its length
    for run in runs:
        if run.rotated:
            continue
        for k, part in enumerate(run.text.split("\n")):
            if not part.strip():
                continue
            part = _GLYPH.sub("• ", part.strip().translate(_LIGATURES))
            positioned = k == 0 and run.y is not None
            # a smaller run raised or lowered on the line (a footnote's mark) is still on it
            small = bool(lines) and run.size < 0.85 * lines[-1].size
            reach = 0.45 * lines[-1].size if small else 0.3 * run.size
            same = positioned and base is not None and lines and abs(run.y - base) <= reach
            if same and run.x is not None and run.x - end > 0.8 * run.size:
                lines[-1].cells.append((run.x, part))  # far from the text before it: a cell
                lines[-1].gaps.append(run.x - end)
            elif same:
                x, text = lines[-1].cells[-1]
                # a footnote's mark, smaller than its line, sits on the word it marks
                mark = small and len(part) <= 3 and re.fullmatch(r"[\d*†‡]+", part)
                glue = "" if mark or re.match(r"[,.;:!?)\]’”]", part) else " "
                if mark:  # "2025,1" would read as a number: the mark is written raised, "2025,¹"
                    part = part.translate(_SUPERSCRIPT)
                lines[-1].cells[-1] = (x, text + glue + part)
                lines[-1].size = max(lines[-1].size, run.size)
            else:
                lines.append(Line([(run.x if positioned and run.x is not None else -1.0, part)], run.size,
                                  run.y if positioned else None))
            if not (same and small):  # the line's baseline stays where its text is
                base = run.y if positioned else None
            start = run.x if (positioned and run.x is not None) else end
            # without the font's widths, letters average about half an em
            end = start + (run.width if run.width is not None and k == 0 else 0.5 * run.size * len(part))
            lines[-1].ends[len(lines[-1].cells) - 1:] = [end]
    for line in lines:
        line.cells = [(x, " ".join(t.split())) for x, t in line.cells]
    return lines


# a figure that is data, not a column's label ("1,980", "4.5", "12%", "$3"); a year is a label
_DATA = re.compile(r"\d[,.]\d|\d\s*%|[$€£¥]\s*\d")


def table_text(lines: list[Line]) -> list[Line]:
    """``lines`` with their cells resolved. Rows whose cells line up (two rows or more, of short
    cells: under five words each on average) are a table: each row one line of markdown pipe
    cells, with a "|---|" rule under a first row that holds no data figure. Three rows or more of
    long cells that line up are columns of prose: the left one's lines, then the next one's. A
    row of labels ("Date:") and values reads "Date: 12 March 2026"; any other cell far from its
    neighbours (a masthead's date, section and price) is a line of its own."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        j = i + 1
        while j < len(lines) and _aligned(lines[j - 1], lines[j]):
            j += 1
        block = lines[i:j]
        words = statistics.mean(len(t.split()) for line in block for _, t in line.cells)
        if all(len(line.cells) == 2 and line.cells[0][1].endswith(":") for line in block):
            out.extend(Line([(line.cells[0][0], " ".join(t for _, t in line.cells))], line.size, line.y) for line in block)
        elif len(block) >= 3 and words >= 5:
            for col in range(len(block[0].cells)):
                out.extend(Line([line.cells[col]], line.size, line.y) for line in block)
        elif len(block) >= 2:
            head = [t for _, t in block[0].cells]
            rows = ["| " + " | ".join(head) + " |"]
            if not any(_DATA.search(t) for t in head[1:]):
                rows.append("|" + "---|" * len(head))
            rows.extend("| " + " | ".join(t for _, t in line.cells) + " |" for line in block[1:])
            out.extend(Line([(-1.0, row)], block[0].size, None) for row in rows)
        else:
            out.extend(Line([cell], line.size, line.y) for line in block for cell in _apart(line))
        i = j
    return out


def _apart(line: Line) -> list[Cell]:
    """A lone row's cells that stand well apart (a masthead's date and price); cells closer
    than two and a half ems are words of one line that justification spread, joined back."""
    out = [line.cells[0]]
    for (x, text), gap in zip(line.cells[1:], line.gaps):
        if gap < 2.5 * line.size:
            out[-1] = (out[-1][0], f"{out[-1][1]} {text}")
        else:
            out.append((x, text))
    return out


def _aligned(a: Line, b: Line) -> bool:
    """Rows of the same number (two or more) of cells, each starting, ending or centred where the
    one above does (a column of figures is set flush right under a label set flush left)."""
    if not len(a.cells) == len(b.cells) >= 2:
        return False
    a_ends, b_ends = a.ends or [x for x, _ in a.cells], b.ends or [x for x, _ in b.cells]
    return all(min(abs(xa - xb), abs(ea - eb), abs((xa + ea) - (xb + eb)) / 2) <= 3 * a.size
               for (xa, _), (xb, _), ea, eb in zip(a.cells, b.cells, a_ends, b_ends))


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.lower().split()))


# "Page 3", "Page 3 of 12", "3 of 12", "3 / 12", "- 3 -": a page number on its own line (a bare
# number is one only when it recurs at the same end of the pages)
_PAGE_NUMBER = re.compile(r"^(?:page\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|\d{1,4}\s*(?:of|/)\s*\d{1,4}|[-–—]\s*\d{1,4}\s*[-–—])$",
                          re.IGNORECASE)


def running_lines(pages: list[list[str]], zone: int = 3) -> list[set[int]]:
    """Per page, the indexes of its furniture: a line among the first or last ``zone`` lines of
    a page whose text, numbers aside, recurs there on half the pages or more (two at least),
    and a page number on its own line at the top or bottom of a page, or anywhere on it when
    it is that page's number ("Page 1" on the first page, under a letterhead)."""
    def ends(lines: list[str]) -> list[int]:
        return sorted(set(range(min(zone, len(lines)))) | set(range(max(0, len(lines) - zone), len(lines))))

    seen: dict[str, int] = {}
    for lines in pages:
        for key in {_key(lines[i]) for i in ends(lines)}:
            seen[key] = seen.get(key, 0) + 1
    needed = max(2, (len(pages) + 1) // 2)
    def own_number(line: str, page: int) -> bool:
        return bool(_PAGE_NUMBER.match(line.strip())) and re.search(r"\d+", line).group() == str(page)

    return [{i for i in ends(lines) if seen[_key(lines[i])] >= needed or _PAGE_NUMBER.match(lines[i].strip())}
            | {i for i, line in enumerate(lines) if own_number(line, n)} for n, lines in enumerate(pages, start=1)]


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
        body = _text_size(lines)
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


def _text_size(lines: list[Line]) -> float:
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


def _page_runs(page) -> list[Run]:
    runs: list[Run] = []
    fonts: dict[int, object] = {}

    def visit(text, cm, tm, font, size) -> None:
        if not text:
            return
        # the text matrix's origin, through the current transformation matrix
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = (abs(tm[3] * cm[3]) or 1.0) * (size or 10.0)
        # the direction the text runs in: the text matrix's x axis through the transformation
        dx, dy = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
        rotated = dx <= 0 or abs(dy) > 0.1 * abs(dx)
        runs.append(Run(x, y, scale, text, _width(fonts, font, text.split("\n")[0].strip(), scale), rotated))

    page.extract_text(visitor_text=visit)
    return runs


def _width(fonts: dict[int, object], font, text: str, size: float) -> float | None:
    """How wide ``text`` is drawn in ``font`` (a PDF font dictionary) at ``size``; None when
    this pypdf has no font metrics (before 6) or the font gives none."""
    if font is None:
        return None
    if id(font) not in fonts:
        try:
            from pypdf.generic._font import Font

            fonts[id(font)] = Font.from_font_resource(font)
        except Exception:  # noqa: BLE001 - metrics only sharpen a guess; any failure leaves the guess
            fonts[id(font)] = None
    metrics = fonts[id(font)]
    return metrics.get_text_width(text) * size / 1000 if metrics is not None else None


def pdf_parts(data: bytes) -> tuple[str, list[tuple[str, str]], int | None]:
    """(a PDF's text, the lines set aside as page furniture as (page, text), the offset of its
    title's line in the text or None: :func:`_title_at`). The first copy of
    a running line that holds words (a report's name, not "Page 3") is kept: a header where it
    stands, a footer after the text (where it stands it would cut a sentence that runs on to the
    next page in two). Raises what pypdf raises for a file it cannot read."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    runs = [_page_runs(page) for page in reader.pages]
    pages = [table_text(page_lines(page)) for page in runs]
    furniture = running_lines([[line.text for line in lines] for lines in pages])
    dropped = [(f"page {n} (rotated)", run.text.strip()) for n, page in enumerate(runs, start=1)
               for run in page if run.rotated and run.text.strip()]
    trailer: list[Line] = []
    body: list[list[Line]] = []
    for n, (lines, out) in enumerate(zip(pages, furniture), start=1):
        keep = []
        for i, line in enumerate(lines):
            if i not in out:
                keep.append(line)
            elif n == 1 and not _PAGE_NUMBER.match(line.text) and re.search(r"[^\W\d]{2}", line.text):
                (keep if i < len(lines) / 2 else trailer).append(line)
            else:
                dropped.append((f"page {n}", line.text))
        body.append(keep)
    text = "\n".join(reflow(body + [trailer]))
    return text, dropped, _title_at(text, body[0] if body else [])


def _title_at(text: str, first_page: list[Line]) -> int | None:
    """Where in ``text`` the first page's title starts: its line in the largest font, set at a
    fifth larger than the page's text or more, of two to 25 words (a report's name above a
    letterhead, a journal's masthead or a "PRESS RELEASE" label is set smaller). None when no
    line stands out."""
    if not first_page:
        return None
    body = _text_size(first_page)
    top = max(first_page, key=lambda line: line.size)
    if top.size < 1.2 * body or not 2 <= len(top.text.split()) <= 25:
        return None
    # a name of three words or fewer set largest over a headline (a paper's masthead, a company's
    # name above its press release) is not the title: the first big line of four words or more
    # below it is, unless it is a numbered section's heading
    if len(top.text.split()) <= 3:
        below = first_page[first_page.index(top) + 1:]
        top = next((line for line in below if line.size >= max(1.2 * body, 0.6 * top.size)
                    and len(line.text.split()) >= 4 and not re.match(r"\d+(?:\.\d+)*\.?\s", line.text)), top)
    at = text.find(top.text)
    return at if at >= 0 else None
