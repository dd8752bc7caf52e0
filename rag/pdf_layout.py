"""A PDF page's drawn strings as lines and rows: the first step of :mod:`rag.pdf_text`.

Scope: pure functions over the positioned text runs pypdf reports for a page (``Run``). Runs on
one baseline make one line, a run far from the end of the text before it starts a cell, rows
whose cells line up make a table (written as a markdown pipe table, which :mod:`rag.tables`
labels like any other), and long cells that line up are columns of prose.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from .tables import pipe_rows

__all__ = ["Cell", "Line", "Run", "page_lines", "table_text"]


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
            elif positioned and run.x is not None and _opens_with_mark(lines, run, end):
                x, mark = lines[-1].cells[0]  # a footnote's number set raised before its text: "³ Includes ..."
                lines[-1] = Line([(x, f"{mark.translate(_SUPERSCRIPT)} {part}")], run.size, run.y)
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


def _opens_with_mark(lines: list[Line], run: Run, end: float) -> bool:
    """Whether the line before ``run`` is only a mark (a footnote's number, "*", "†") set smaller
    and a little raised just before it: the mark opens the run's line."""
    if not lines or len(lines[-1].cells) != 1 or lines[-1].y is None or run.y is None or run.x is None:
        return False
    mark = lines[-1]
    return bool(re.fullmatch(r"[\d*†‡]{1,3}", mark.cells[0][1])) and mark.size < 0.85 * run.size \
        and abs(run.y - mark.y) <= 0.45 * run.size and run.x - end <= 0.8 * run.size


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
            rows = pipe_rows([[t for _, t in line.cells] for line in block])
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
