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

So runs on one baseline make one line and rows whose cells line up make a table
(:mod:`rag.pdf_layout`), a line that recurs at the top or bottom of the pages is furniture
(here), and a line that runs on is joined to the next (:mod:`rag.reflow`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .pdf_layout import Line, Run, page_lines, table_text
from .reflow import reflow, text_size

__all__ = ["PdfText", "pdf_parts", "running_lines"]


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


@dataclass(frozen=True)
class PdfText:
    """A PDF read: its text; the lines set aside as page furniture, as (page, text); where its
    title's line starts in the text (None: no line stands out, :func:`_title_at`); and the
    document's fuller name when a running line holds the title and more."""

    text: str
    furniture: list[tuple[str, str]]
    title_at: int | None
    full_title: str | None = None


def pdf_parts(data: bytes) -> PdfText:
    """A PDF's text, its furniture and its title (:class:`PdfText`). The first copy of
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
    running: list[str] = []  # the running lines kept once (the others are in ``dropped``)
    for n, (lines, out) in enumerate(zip(pages, furniture), start=1):
        keep = []
        for i, line in enumerate(lines):
            if i not in out:
                keep.append(line)
            elif n == 1 and not _PAGE_NUMBER.match(line.text) and re.search(r"[^\W\d]{2}", line.text):
                (keep if i < len(lines) / 2 else trailer).append(line)
                running.append(line.text)
            else:
                dropped.append((f"page {n}", line.text))
        body.append(keep)
    text = "\n".join(reflow(body + [trailer]))
    at = _title_at(text, body[0] if body else [])
    fuller = None
    if at is not None:
        # a running line that holds the title and more ("Hollin Water plc | Annual Report 2025"
        # over "Annual Report 2025") names the document in full: two companies' reports differ there
        title = text[at:].split("\n", 1)[0].lower()
        # a table row's cells each stand alone; a plain line's "|" is the line's own
        cells = [c.strip() for r in running + [t for _, t in dropped]
                 for c in (r.strip("| ").split("|") if r.startswith("|") else [r])]
        fuller = next((c for c in cells if title in c.lower() and len(c) > len(title)), None)
    return PdfText(text, dropped, at, fuller)


def _title_at(text: str, first_page: list[Line]) -> int | None:
    """Where in ``text`` the first page's title starts: its line in the largest font, set at a
    fifth larger than the page's text or more, of two to 25 words (a report's name above a
    letterhead, a journal's masthead or a "PRESS RELEASE" label is set smaller). None when no
    line stands out."""
    if not first_page:
        return None
    body = text_size(first_page)
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
