"""Word files (.docx): the document's text as a reader of the page sees it.

Scope: from a .docx's bytes to one text with a line per paragraph, for :mod:`rag.reading`.
Headings become markdown headings, list paragraphs "- " items and tables markdown rows (labelled
later, as a markdown file's are). Tracked changes read as accepted: inserted text is in, deleted
text out. A text box's paragraphs follow the paragraph that anchors it. Footnotes and endnotes
follow the body, each after its mark ("²"), and the page header and footer text follows them once:
it is the document's, but page furniture, so it must not open the text or title it. Reviewers'
comments are notes on the document, not its text: they are set aside (:attr:`DocxText.set_aside`),
and ``rag index --explain`` lists them. XML is walked directly (python-docx opens the package and
names the styles), since python-docx's ``Paragraph.text`` leaves out text inside tracked insertions
and content controls.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from .tables import pipe_rows

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"

# containers whose text is the paragraph's own (a link, a tracked insertion, a content control, a
# simple field's shown result, a moved-in run)
_INLINE = {f"{W}{t}" for t in ("hyperlink", "ins", "smartTag", "sdt", "sdtContent", "customXml", "fldSimple",
                               "moveTo", "dir", "bdo")}
# never text: deleted or moved-out runs, a field's code ("PAGE \\* MERGEFORMAT"), properties
_NOT_TEXT = {f"{W}{t}" for t in ("del", "moveFrom", "instrText", "delText", "rPr", "pPr", "commentReference",
                                 "sdtPr", "sdtEndPr")}
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_HEADING = re.compile(r"^(?:heading\s*(\d)|title)$", re.IGNORECASE)


@dataclass(frozen=True)
class DocxText:
    """A .docx read: its ``text``; ``headline``, the offset of the line its title comes from (its
    Title or first heading near the top), else None; ``title``, the document's properties' title
    when it names it (not a template's placeholder); ``set_aside``, the (kind, text) of what is not
    the document's text (reviewers' comments)."""

    text: str
    headline: int | None
    title: str | None
    set_aside: tuple[tuple[str, str], ...]


def docx_parts(data: bytes) -> DocxText:
    """Read a .docx from its bytes. Raises what python-docx raises for a file that is not one."""
    import docx

    document = docx.Document(io.BytesIO(data))
    styles = {s.style_id: s.name or "" for s in document.styles}
    notes = _notes(document)
    lines: list[str] = []
    headline: int | None = None
    marks: list[str] = []  # the footnotes and endnotes the body refers to, in order of their marks

    def note_mark(kind: str, el) -> str:
        key = (kind, el.get(f"{W}id"))
        if key not in notes:
            return ""
        marks.append(f"{str(len(marks) + 1).translate(_SUPERSCRIPT)} {notes[key]}")
        return str(len(marks)).translate(_SUPERSCRIPT)

    def paragraph(p) -> list[str]:
        boxes: list[str] = []
        text = _runs_text(p, note_mark, boxes).strip()
        style = styles.get(_val(p, "pStyle") or "", "")
        out: list[str] = []
        if text:
            heading = _HEADING.match(style.strip())
            level = _val(p, "outlineLvl")
            if heading or (level is not None and level.isdigit() and int(level) < 6):
                depth = int(heading.group(1)) if heading and heading.group(1) else (1 if heading else int(level) + 1)
                out.append("#" * max(depth, 1) + " " + " ".join(text.split()))
            elif p.find(f"{W}pPr/{W}numPr") is not None or style.lower().startswith("list"):
                out.append("- " + text)
            else:
                out.append(text)
        return out + boxes

    def body(element) -> None:
        nonlocal headline
        for child in element:
            if child.tag == f"{W}p":
                for line in paragraph(child):
                    # a Title or first-level heading near the top, not a section's ("## 1. Scope")
                    if headline is None and line.startswith("# ") and len(lines) < 8:
                        headline = sum(len(x) + 1 for x in lines)
                    lines.append(line)
            elif child.tag == f"{W}tbl":
                lines.extend(_table(child, note_mark))
                lines.append("")
            elif child.tag in (f"{W}sdt", f"{W}customXml", f"{W}sdtContent", f"{W}ins", f"{W}moveTo"):
                body(child)

    body(document.element.body)
    if marks:
        lines += ["", *marks]
    furniture = _header_footer(document, note_mark)
    if furniture:
        lines += ["", *furniture]
    title = _core_title(document)
    if headline is None and title:
        # no heading opens it (a memo's "To:" / "From:" block does): the title its author gave it
        # in its properties opens the text and titles it, as an e-mail's subject does
        lines.insert(0, f"# {title}")
        headline = 0
    text = "\n".join(_blank_runs(lines)).strip("\n")
    comments = tuple(("comment", " ".join(c.text.split())) for c in _comments(document))
    return DocxText(text, headline, title, comments)


def _runs_text(p, note_mark, boxes: list[str]) -> str:
    """The shown text of paragraph ``p``; text boxes inside it go to ``boxes``, a line each."""
    out: list[str] = []

    def walk(el) -> None:
        for child in el:
            tag = child.tag
            if tag in _NOT_TEXT:
                continue
            if tag == f"{W}t":
                out.append(child.text or "")
            elif tag in (f"{W}tab", f"{W}ptab"):
                out.append("\t")
            elif tag in (f"{W}br", f"{W}cr"):
                out.append("\n")
            elif tag == f"{W}noBreakHyphen":
                out.append("-")
            elif tag in (f"{W}footnoteReference", f"{W}endnoteReference"):
                out.append(note_mark(tag[len(W):-len("Reference")], child))
            elif tag == f"{MC}AlternateContent":
                choice = child.find(f"{MC}Choice")  # the fallback repeats the choice's text box
                if choice is not None:
                    walk(choice)
            elif tag == f"{W}txbxContent":
                for q in child.iter(f"{W}p"):
                    text = _runs_text(q, note_mark, boxes).strip()
                    if text:
                        boxes.append(text)
            elif tag == f"{W}p":  # a paragraph nested in a drawing outside a text box: its own line
                text = _runs_text(child, note_mark, boxes).strip()
                if text:
                    boxes.append(text)
            else:
                walk(child)

    walk(p)
    text = "".join(out)
    # a tab separates a label from its value or two columns: a space reads the same
    return "\n".join(" ".join(part.replace("\t", " ").split()) for part in text.split("\n"))


def _table(tbl, note_mark) -> list[str]:
    """A table's rows as :func:`rag.tables.pipe_rows` writes them (a memo's "To:" / "From:" block
    as label lines, else markdown rows); a cell merged down from the one above repeats its text,
    so each row reads whole; a table nested in a cell is read into it."""
    rows: list[list[str]] = []
    above: dict[int, str] = {}
    for tr in tbl.iterchildren(f"{W}tr"):
        row: list[str] = []
        column = 0
        for tc in tr.iterchildren(f"{W}tc"):
            span = int(_val(tc, "gridSpan", f"{W}tcPr") or 1)
            merge = tc.find(f"{W}tcPr/{W}vMerge")
            parts: list[str] = []
            for p in tc.iter(f"{W}p"):
                boxes: list[str] = []
                text = _runs_text(p, note_mark, boxes)
                parts += [t for t in (text, *boxes) if t.strip()]
            text = " ".join(" ".join(parts).split())
            if merge is not None and merge.get(f"{W}val") in (None, "continue") and not text:
                text = above.get(column, "")
            above[column] = text
            row.append(text)
            column += span
        if any(row):
            rows.append(row)
    return pipe_rows(rows)


def _val(el, name: str, props: str = f"{W}pPr") -> str | None:
    found = el.find(f"{props}/{W}{name}")
    return found.get(f"{W}val") if found is not None else None


def _notes(document) -> dict[tuple[str, str], str]:
    """(footnote or endnote, id) -> its text, from the package's notes parts."""
    from lxml import etree

    out: dict[tuple[str, str], str] = {}
    for rel in document.part.rels.values():
        kind = rel.reltype.rsplit("/", 1)[-1]
        if kind not in ("footnotes", "endnotes") or rel.is_external:
            continue
        root = etree.fromstring(rel.target_part.blob)
        for note in root.iterchildren(f"{W}{kind[:-1]}"):
            if note.get(f"{W}type") in ("separator", "continuationSeparator", "continuationNotice"):
                continue
            text = " ".join(_runs_text(p, lambda *_: "", []) for p in note.iter(f"{W}p"))
            if text.strip():
                out[(kind[:-1], note.get(f"{W}id"))] = " ".join(text.split())
    return out


def _header_footer(document, note_mark) -> list[str]:
    """Each distinct line of the sections' page headers and footers, once."""
    seen: list[str] = []
    for section in document.sections:
        for part in (section.header, section.first_page_header, section.even_page_header,
                     section.footer, section.first_page_footer, section.even_page_footer):
            if part.is_linked_to_previous:
                continue
            for p in part._element.iter(f"{W}p"):
                boxes: list[str] = []
                for line in (_runs_text(p, note_mark, boxes), *boxes):
                    line = " ".join(line.split())
                    if line and line not in seen:
                        seen.append(line)
    return seen


def _comments(document) -> list:
    try:
        return list(document.comments)
    except (AttributeError, KeyError, ValueError):  # python-docx before 1.2, or no comments part
        return []


def _core_title(document) -> str | None:
    """The properties' title when it reads as one: at least two words, not a file name or a
    template's name, and not a word processor's default ("Document1")."""
    title = " ".join((document.core_properties.title or "").split())
    if len(title.split()) < 2 or re.search(r"\.(docx?|dotx?|rtf)$|^microsoft word\b|^document\s*\d*$", title, re.I):
        return None
    return title


def _blank_runs(lines: list[str]) -> list[str]:
    """``lines`` with runs of blank lines cut to one."""
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return out


__all__ = ["DocxText", "docx_parts"]
