"""A table's rows made to stand alone: each cell after the first carries its column's header.

Scope: pure functions over an HTML ``<table>`` (BeautifulSoup) and over markdown pipe tables in
a text. A chunk may hold a table's rows without its header row, and "Razorbill | 1,980 | 2,140"
means nothing without "Species | 2019 | 2026", to the reader or to the model; so the row is
read as "Razorbill | 2019: 1,980 | 2026: 2,140". A unit the header gives in brackets goes with
the figure ("2026 (€m): €18.9m"). A table without a header row is left as it is.
"""

from __future__ import annotations

import re

__all__ = ["label_html_table", "label_markdown_tables", "pipe_rows"]

_CELLS = ("td", "th")
# a figure that is data, not a column's label ("1,980", "4.5", "12%", "$3"); a year is a label
DATA_FIGURE = re.compile(r"\d[,.]\d|\d\s*%|[$€£¥]\s*\d")


def pipe_rows(rows: list[list[str]]) -> list[str]:
    """A table's rows (lists of cell texts) as lines: rows of a label and its value ("Date:",
    "12 March 2026") as "Date: 12 March 2026", a memo's or a form's block; any other table as
    markdown pipe rows with a "|---|" rule under a first row that holds no data figure (a header
    row), which :func:`label_markdown_tables` then labels."""
    if all(len(r) == 2 and r[0].endswith(":") for r in rows):
        return [" ".join(c for c in r if c) for r in rows]
    out = ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
    if len(rows) > 1 and not any(DATA_FIGURE.search(c) for c in rows[0][1:]):
        out.insert(1, "|" + "---|" * len(rows[0]))
    return out


def _rows(table) -> list:
    """``table``'s own rows (not those of a table nested in one of its cells)."""
    return [r for r in table.find_all("tr") if r.find_parent("table") is table]


def label_html_table(table) -> None:
    """Put its column's header before each cell of each row of ``table`` (in place). The header
    row is the one in ``<thead>``, or a first row of ``<th>`` cells alone."""
    rows = _rows(table)
    head = next((r for r in rows if r.find_parent("thead") is not None), None)
    if head is None and rows and all(c.name == "th" for c in rows[0].find_all(_CELLS, recursive=False)):
        head = rows[0]
    if head is None:
        return
    labels = [c.get_text(" ", strip=True) for c in head.find_all(_CELLS, recursive=False)]
    if len(labels) < 2:
        return
    for row in rows:
        cells = row.find_all(_CELLS, recursive=False)
        if row is head or len(cells) != len(labels):
            continue  # a row that spans columns: which header a cell is under is not known
        for label, cell in list(zip(labels, cells))[1:]:
            value = cell.get_text(" ", strip=True)
            if not (label and value) or _DATE_COLUMN.match(label):
                continue
            if (with_unit := _with_unit(label, value)) != value:
                cell.clear()
                cell.append(with_unit)
            cell.insert(0, f"{label}: ")


# a header's unit in brackets: "2026 (€m)", "Length (km)", "Share (%)"
# (a word in brackets may be no unit, "Name (first)": only a currency sign, "%" or a symbol of
# one to three letters, "km", "kg", "MW", counts)
# (lower case, two or three letters: "(m)" may be metres or millions, "(SNP)" is a party)
_HEADER_UNIT = re.compile(r"\((?:(?P<sign>[$€£¥])\s*(?P<scale>[kmb]n?|bn)?|(?P<unit>%|[a-z]{2,3}))\)\s*$")
# a column of dates under a meta label ("Updated", "Published"): "Updated: 2026-03-01" in a row
# would read as the article's own meta line, so such a column keeps its cells bare
_DATE_COLUMN = re.compile(r"^(?:first\s+|last\s+)?(?:published|posted|filed|dated?|updated|modified)\b", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"^[+\-−]?\d[\d,]*(?:\.\d+)?$")


def _with_unit(label: str, value: str) -> str:
    """A bare number in a column whose header gives its unit, written with it: "18.9" under
    "2026 (€m)" reads "€18.9m", under "Length (km)" "18.9 km", under "Share (%)" "18.9%"."""
    m = _HEADER_UNIT.search(label)
    if not m or not _BARE_NUMBER.match(value):
        return value
    if m["sign"]:
        sign = "-" if value[0] in "-−" else ""
        return f"{sign}{m['sign']}{value.lstrip('+-−')}{m['scale'] or ''}"
    return f"{value}%" if m["unit"] == "%" else f"{value} {m['unit']}"


# "|---|:--:|" under a markdown table's header row
_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _cells(line: str) -> list[str] | None:
    """A pipe table row's cells, or None for a line that is no row."""
    body = line.strip()
    if "|" not in body:
        return None
    return [c.strip() for c in body.strip("|").split("|")]


def label_markdown_tables(text: str) -> str:
    """``text`` with each row of a markdown pipe table (a header row, then a "|---|---|" rule)
    written as ``| first | Header 2: cell | Header 3: cell |``; every other line unchanged."""
    if "|" not in text or "---" not in text:
        return text
    lines = text.split("\n")
    labels: list[str] | None = None
    for i, line in enumerate(lines):
        if i and _RULE.match(line) and (head := _cells(lines[i - 1])) and len(head) >= 2:
            labels = head
            continue
        cells = _cells(line) if labels else None
        if cells is None or len(cells) != len(labels or []):
            labels = None  # the table ended
            continue
        out = [cells[0]] + [f"{h}: {_with_unit(h, c)}" if h and c and not c.startswith(f"{h}:")
                            and not _DATE_COLUMN.match(h) else c for h, c in zip(labels[1:], cells[1:])]
        lines[i] = "| " + " | ".join(out) + " |"
    return "\n".join(lines)
