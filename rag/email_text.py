"""E-mail files (.eml): a message as its reader sees it.

Scope: from a saved message's bytes (RFC 5322, as a mail client saves it) to one text, for
:mod:`rag.reading`. The subject opens the text (the message's headline), then who sent it, to whom
and when; then the body: the plain-text part of a message sent in two forms, unless it is a stub
of the HTML one, and the HTML part read as a page otherwise. Transfer encodings and charsets are
undone by the standard library. Quoted replies keep their text without the ">" marks, each level
a block of its own under its "On ... wrote:" line, and hard-wrapped lines are joined into their
paragraphs. A forwarded message attached whole is read the same way, below a "Forwarded message"
line. Attachments follow the body: those of a readable kind (text, CSV, or a file type the corpus
reads) are read through ``read_attachment``; any other is named, so that nothing is lost silently.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from .tables import pipe_rows
from .wrapped_text import join_wrapped_lines

log = logging.getLogger(__name__)

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_QUOTE = re.compile(r"^((?:[ \t]?>)+)[ \t]?")
_TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".csv", ".tsv")


@dataclass(frozen=True)
class EmailText:
    """A message read: its ``text`` (the subject on its first line), its ``subject`` (the title),
    and the day its Date header gives, as YYYY-MM-DD (None when it has none that parses)."""

    text: str
    subject: str | None
    published: str | None


def email_parts(data: bytes, html_text: Callable[[str], str],
                read_attachment: Callable[[str, bytes], str | None]) -> EmailText:
    """Read the message in ``data``. ``html_text`` turns an HTML body into text; ``read_attachment``
    reads an attached file of a type the corpus reads, by its name and bytes (None: not readable)."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    subject = _header(message, "subject")
    published = _day(message)
    lines = [subject] if subject else []
    lines += _head_lines(message)
    body, attachments = _body(message, html_text, read_attachment)
    text = "\n".join(lines) + "\n\n" + body.strip("\n")
    if attachments:
        text += "\n\n" + "\n\n".join(attachments)
    return EmailText(text.strip("\n") + "\n", subject or None, published)


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError) as err:  # a malformed header must not lose the message
        log.warning("unreadable %s header (%s)", name, err)
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _head_lines(message: EmailMessage) -> list[str]:
    """"From: ...", "To: ...", "Cc: ..." and "Date: 3 March 2026, 09:14" lines, those it has."""
    out: list[str] = []
    for name in ("From", "To", "Cc"):
        value = _header(message, name)
        if value:
            people = [f"{n} <{a}>" if n and a else n or a for n, a in getaddresses([value])]
            out.append(f"{name}: {', '.join(p for p in people if p) or value}")
    when = _when(message)
    if when is not None:
        out.append(f"Date: {when.day} {_MONTHS[when.month - 1]} {when.year}, {when:%H:%M}")
    elif _header(message, "date"):
        out.append(f"Date: {_header(message, 'date')}")
    return out


def _when(message: EmailMessage):
    raw = _header(message, "date")
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None


def _day(message: EmailMessage) -> str | None:
    when = _when(message)
    return f"{when:%Y-%m-%d}" if when is not None else None


def _body(message: EmailMessage, html_text: Callable[[str], str],
          read_attachment: Callable[[str, bytes], str | None]) -> tuple[str, list[str]]:
    """(the message's body text, its attachments' blocks)."""
    attachments: list[str] = []
    parts: list[str] = []

    def walk(part: EmailMessage) -> None:
        kind = part.get_content_type()
        name = part.get_filename()
        if part.get_content_maintype() == "multipart":
            children = list(part.iter_parts())
            if kind == "multipart/alternative" and children:
                walk(_preferred(children, html_text))
                return
            for child in children:
                walk(child)
            return
        if kind == "message/rfc822":
            inner = part.get_content()
            forwarded = "\n".join(["Forwarded message:", *_forwarded_head(inner)])
            body, more = _body(inner, html_text, read_attachment)
            parts.append(forwarded + "\n" + body)
            attachments.extend(more)
            return
        attached = name is not None or part.get_content_disposition() == "attachment"
        if not attached and kind in ("text/plain", "text/html"):
            parts.append(_text_of(part, html_text))
            return
        if not attached and part.get_content_maintype() != "text":
            return  # an image shown inside the message (a logo, a tracking pixel): no text to lose
        attachments.append(_attachment(part, name or "(unnamed)", html_text, read_attachment))

    walk(message)
    return "\n\n".join(p.strip("\n") for p in parts if p.strip()), attachments


def _forwarded_head(message: EmailMessage) -> list[str]:
    subject = _header(message, "subject")
    return ([f"Subject: {subject}"] if subject else []) + _head_lines(message)


def _preferred(children: list[EmailMessage], html_text: Callable[[str], str]) -> EmailMessage:
    """The part of a message sent in several forms to read: its plain text, unless that is a stub
    ("view this message in a browser") much shorter than the HTML form's text."""
    plain = next((c for c in children if c.get_content_type() == "text/plain"), None)
    rich = next((c for c in reversed(children) if c.get_content_type() == "text/html"), None)
    if plain is None or rich is None:
        return plain or rich or children[-1]
    plain_words = len(_text_of(plain, html_text).split())
    rich_words = len(_text_of(rich, html_text).split())
    return rich if plain_words < 0.5 * rich_words else plain


def _decoded(part: EmailMessage) -> str:
    """A text part's content. Bytes its charset label cannot read (8-bit text labelled ASCII, a
    charset the standard library does not know) read as UTF-8, else as Windows-1252; Windows-1252
    text labelled Latin-1 keeps its curly quotes and dashes."""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError, ValueError) as err:
        log.warning("a %s part in an unknown charset (%s): read as UTF-8 or Windows-1252", part.get_content_type(), err)
        content = None
    if isinstance(content, bytes):
        content = None
    raw = part.get_payload(decode=True) or b""
    if content is None or ("\ufffd" in content and "\ufffd".encode() not in raw):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", errors="replace")
    if re.search("[\x80-\x9f]", content):  # C1 controls: Windows-1252's quotes and dashes read as Latin-1
        try:
            return content.encode("latin-1").decode("cp1252")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return content
    return content


def _text_of(part: EmailMessage, html_text: Callable[[str], str]) -> str:
    text = _decoded(part).replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_type() == "text/html":
        return html_text(text)
    return plain_body(text)


def plain_body(text: str) -> str:
    """A plain-text body with its quoted replies' ">" marks taken off, a blank line where the
    quoting level changes (so a quote is never joined to the line above it), and lines
    hard-wrapped by the mail client joined into their paragraphs."""
    out: list[str] = []
    level = 0
    for line in text.split("\n"):
        marks = _QUOTE.match(line)
        depth = marks.group(1).count(">") if marks else 0
        line = line[marks.end():] if marks else line
        if depth != level and out and out[-1].strip():
            out.append("")
        level = depth
        out.append(line.rstrip())
    return join_wrapped_lines("\n".join(out), min_runs=2)


def _attachment(part: EmailMessage, name: str, html_text: Callable[[str], str],
                read_attachment: Callable[[str, bytes], str | None]) -> str:
    """An attachment's block: "Attachment: name" and its text, or the line saying it is not read."""
    kind = part.get_content_type()
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    text: str | None = None
    try:
        if suffix in (".csv", ".tsv") or kind in ("text/csv", "text/tab-separated-values"):
            text = _table_rows(_decoded(part), "\t" if suffix == ".tsv" or kind.endswith("separated-values") else ",")
        elif kind == "text/html":
            text = html_text(_decoded(part))
        elif part.get_content_maintype() == "text" or suffix in _TEXT_SUFFIXES:
            text = plain_body(_decoded(part))
        else:
            text = read_attachment(name, part.get_payload(decode=True) or b"")
    except Exception as err:  # noqa: BLE001 - one attachment the readers fail on must not lose the message
        log.warning("attachment %s not read (%s: %s)", name, type(err).__name__, err)
        text = None
    if text is None or not text.strip():
        return f"Attachment: {name} ({kind}, not read)"
    return f"Attachment: {name}\n{text.strip()}"


def _table_rows(text: str, delimiter: str) -> str:
    """CSV rows as markdown table rows (a rule under the header), which the corpus's table
    labelling then reads as "header: value" pairs."""
    rows = [[" ".join(c.split()) for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    return "\n".join(pipe_rows([r for r in rows if any(r)]))


__all__ = ["EmailText", "email_parts", "plain_body"]
