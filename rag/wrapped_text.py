"""A text file whose writer wrapped its paragraphs at a fixed width, read as the paragraphs.

Scope: one pure function over a text or markdown file's decoded text. An email, a wire story
set at 69 columns or a markdown file wrapped at 80 breaks its sentences across lines, and a
line break ends a sentence for the splitter, the evidence trim and the citation. So where a
wrapped line runs on into the next, the line break becomes a space: one character for one,
so every offset into the text still points where it did. Markdown renders those breaks as
spaces too (a "soft line break"); its headings, list items, quotes, tables and code are
blocks of their own and are never joined.
"""

from __future__ import annotations

import re

from .reflow import ITEM, runs_on, wrap_width

__all__ = ["join_wrapped_lines"]

# a markdown line that is a block of its own, or starts one
# a header's field line ("To: Ana Ruiz <ana@example.org>", "Subject: ...", "Reply-To: ..."): one
# field a line, as a forwarded message's header block writes them, never a wrapped line's rest
_FIELD = re.compile(r"^[A-Z][A-Za-z]*(?:-[A-Z][A-Za-z]*)?: \S")
_BLOCK = re.compile(r"^\s{0,3}(?:#{1,6}\s|>|```|~~~|\||[-=_*]{3,}\s*$|<[a-zA-Z/!])")


def join_wrapped_lines(text: str, start: int = 0, min_runs: int = 8) -> str:
    """``text`` with each line break inside a wrapped paragraph (from offset ``start`` on: a
    markdown file's front matter is left as it is) turned into a space. Nothing changes unless
    the file is wrapped: a quarter or more of its lines of five words or more run on into the
    next line, and ``min_runs`` at least (eight: a file; a mail client's body, known to be
    wrapped at a width, needs fewer). A line runs on when it has no sentence end and is either
    long for the file (a heading, a byline, a date line and a paragraph's last line are short)
    or followed by a lower-case word; a line that ends in a hyphen or a hard break (two spaces,
    a backslash) does not, nor one followed by a blank line, a list item or a block."""
    lines = text[start:].split("\n")
    code = _in_code(lines)
    prose = [i for i, line in enumerate(lines) if not code[i] and len(line.split()) >= 5 and not _BLOCK.match(line)]
    width = wrap_width([lines[i].strip() for i in prose])
    joins = [i for i in range(len(lines) - 1) if not code[i] and not code[i + 1] and _runs_on(lines[i], lines[i + 1], width)]
    if len(joins) < min_runs or len(joins) < 0.25 * len(prose):
        return text
    chars = list(text)
    offset = start
    ends = []
    for line in lines:
        offset += len(line)
        ends.append(offset)  # where the line's "\n" is
        offset += 1
    for i in joins:
        chars[ends[i]] = " "
    return "".join(chars)


def _in_code(lines: list[str]) -> list[bool]:
    """Per line, whether it is inside a fenced code block (the fences included)."""
    out, inside = [], False
    for line in lines:
        fence = line.lstrip().startswith(("```", "~~~"))
        out.append(inside or fence)
        inside = inside != fence
    return out


def _runs_on(line: str, nxt: str, width: float) -> bool:
    if not line.strip() or not nxt.strip() or line.endswith(("  ", "\\")) or line.rstrip().endswith("-"):
        return False
    if _BLOCK.match(line) or _BLOCK.match(nxt) or ITEM.match(nxt.lstrip()) or _FIELD.match(nxt):
        return False
    # a block set in further (a quote) begins, unless it is a list item's own wrapped text (a
    # paragraph's first line may be indented: the next one, less so, runs on)
    if _indent(nxt) > _indent(line) and not ITEM.match(line.lstrip()):
        return False
    return runs_on(line.strip(), nxt.lstrip(), width)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
