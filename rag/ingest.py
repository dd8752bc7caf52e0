"""Read article files and clean web noise, keeping offsets into the source text.

Scope: ``.txt``, ``.md``, ``.html``/``.htm`` and ``.pdf`` files. Cleaning is line based:
each line of the source text is kept or dropped (banners, comment widgets, author bios,
date stamps, subscription prompts, link lists, repeated lines). Kept lines form spans
of the untouched source text, so any chunk of a span slices back exactly. A file that
holds several articles is split at headline-like lines.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import CorpusError
from .types import Document

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
CLEANER_VERSION = 1  # bump when cleaning changes, so indexes re-chunk

_BOILERPLATE = re.compile(
    r"""^(?:
        comments?|no\ comments(?:\ yet)?|add\ a\ public\ comment.*|leave\ a\ reply|share|print|email
      | .*\bnewsletter\b.{0,40}|.*free\ to\ your\ inbox.*|.*\bsubscribe\b.*|.*\bsign\ up\b.*
      | .*delivered\ straight\ to\ your\ inbox.*|.*click\s*here\b.*|do\ you\ enjoy\ the\ .*\?
      | your\ email\ address\ will\ not\ be\ published.*|required\ fields\ are\ marked.*
      | disclaimer:.*|all\ rights\ reserved.*|©.*|copyright\ .*
      | speaker\ \d+|ai\ podcast:.*|author\ avatar|aime\ robot.*
      | .*\bwriting\ agent\b.*|about\ the\ author.*|related\ (?:articles|stories|posts):?
      | advertisement|read\ more|see\ also:?|follow\ us.*|[\W_]*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_LINK_LINE = re.compile(r"(https?://|www\.|\(Source\)\s*$)", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[•·▪‣◦*-]|\d+[.)])\s+")

_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE_PATTERNS = [
    (re.compile(rf"\b({_MONTHS})\s*(\d{{1,2}}),?\s+(\d{{4}})\b"), "mdy_name"),
    (re.compile(rf"\b(\d{{1,2}})\s+({_MONTHS})\s+(\d{{4}})\b"), "dmy_name"),
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "iso"),
    (re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b"), "mdy_num"),
]
_DATE_LINE = re.compile(
    rf"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s*)?(?:{_MONTHS}\s*\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTHS}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[./]\d{{1,2}}[./]\d{{4}})"
    r"(?:[\s,]+\d{1,2}:\d{2}\s*(?:am|pm)?(?:\s*[A-Z]{2,4})?)?(?:\s*\d+\s*min\s*read)?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str  # stripped


def read_source(path: Path) -> str:
    """Return the text that offsets refer to: the decoded file, or the text
    extracted from HTML/PDF. Raises CorpusError for unreadable or binary files."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise CorpusError(f"{path}: unsupported file type {suffix!r} (use {', '.join(SUPPORTED_SUFFIXES)})")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CorpusError(f"{path}: cannot read file ({err.strerror or err})") from err
    if suffix == ".pdf":
        return _pdf_text(path, data)
    if b"\x00" in data[:8192]:
        raise CorpusError(f"{path}: looks like a binary file, not text; skipped")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as err:
            raise CorpusError(f"{path}: not UTF-8 or Windows-1252 text; skipped") from err
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if suffix in (".html", ".htm"):
        return _html_text(text)
    return text


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "aside", "form", "iframe"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    body = soup.get_text("\n")
    lines = [re.sub(r"[ \t\xa0]+", " ", ln).strip() for ln in body.split("\n")]
    text = "\n\n".join(ln for ln in lines if ln)
    has_h1 = soup.find("h1") is not None
    return f"{title}\n\n{text}" if title and not has_h1 else text


def _pdf_text(path: Path, data: bytes) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as err:
        raise CorpusError(f"{path}: unreadable PDF ({err}); skipped") from err
    return "\n\n".join(p.strip() for p in pages if p.strip())


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        lead = len(raw) - len(raw.lstrip())
        out.append(_Line(pos + lead, pos + lead + len(stripped), stripped))
        pos += len(raw) + 1
    return out


def _words(s: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9][\w.'’&-]*", s)


def is_headline(line: str) -> bool:
    """A short title-cased line without closing punctuation."""
    words = _words(line)
    if not (3 <= len(words) <= 30) or len(line) > 220 or line.endswith((".", ":", "?", "!", ",", ";")):
        return False
    small = {"a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "at", "by", "as", "with", "vs", "from", "after", "while", "into"}
    content = [w for w in words if w.lower() not in small]
    caps = sum(1 for w in content if w[0].isupper() or w[0].isdigit())
    return bool(content) and caps / len(content) >= 0.6


def parse_date(text: str) -> str | None:
    """First date in ``text`` as ISO ``YYYY-MM-DD`` (numeric dates read month first)."""
    for pattern, kind in _DATE_PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        g = m.groups()
        try:
            if kind == "mdy_name":
                dt = datetime.strptime(f"{g[0][:3]} {g[1]} {g[2]}", "%b %d %Y")
            elif kind == "dmy_name":
                dt = datetime.strptime(f"{g[1][:3]} {g[0]} {g[2]}", "%b %d %Y")
            elif kind == "iso":
                dt = datetime(int(g[0]), int(g[1]), int(g[2]))
            else:
                dt = datetime(int(g[2]), int(g[0]), int(g[1]))
        except ValueError:
            continue
        return dt.date().isoformat()
    return None


def _is_link_line(line: str) -> bool:
    return bool(_LINK_LINE.search(line)) and (bool(_BULLET.match(line)) or len(_words(line)) < 40)


def _classify(lines: list[_Line]) -> list[str]:
    """Label each line: 'text', 'blank', 'drop', 'date' or 'title'."""
    labels: list[str] = []
    seen: set[str] = set()
    after_avatar = False
    for i, ln in enumerate(lines):
        t = ln.text
        if not t:
            labels.append("blank")
            continue
        key = re.sub(r"\s+", " ", t.lower())
        if after_avatar and len(_words(t)) <= 4:
            labels.append("drop")  # the author name under an avatar
            after_avatar = False
            continue
        after_avatar = key == "author avatar"
        if _DATE_LINE.match(t):
            labels.append("date")
        elif _BOILERPLATE.match(t) or _is_link_line(t) or key in seen:
            labels.append("drop")
        else:
            labels.append("text")
        seen.add(key)
    # a short heading that introduces a link list ("Media Updates:") goes with it
    for i, ln in enumerate(lines):
        if labels[i] == "text" and ln.text.endswith(":") and len(_words(ln.text)) <= 12:
            nxt = next((j for j in range(i + 1, len(lines)) if labels[j] != "blank"), None)
            if nxt is not None and labels[nxt] == "drop" and _is_link_line(lines[nxt].text):
                labels[i] = "drop"
    return labels


def _split_articles(lines: list[_Line], labels: list[str]) -> list[int]:
    """Indexes of lines that start an article: the first text line, then any long
    headline standing alone between blank lines after enough body text."""
    starts: list[int] = []
    body_since = 0
    for i, ln in enumerate(lines):
        if labels[i] != "text":
            continue
        if not starts:
            starts.append(i)
            continue
        alone = (i == 0 or labels[i - 1] in ("blank", "drop", "date")) and (
            i + 1 >= len(lines) or labels[i + 1] in ("blank", "drop", "date"))
        if alone and body_since >= 600 and is_headline(ln.text) and len(_words(ln.text)) >= 9:
            starts.append(i)
            body_since = 0
        else:
            body_since += len(ln.text)
    return starts


def clean(text: str, source: str) -> list[Document]:
    """Split ``text`` (the source text of file ``source``) into cleaned documents."""
    lines = _lines(text)
    labels = _classify(lines)
    dates = [parse_date(lines[i].text) for i, lab in enumerate(labels) if lab == "date"]
    starts = _split_articles(lines, labels)
    docs: list[Document] = []
    for n, first in enumerate(starts):
        last = starts[n + 1] if n + 1 < len(starts) else len(lines)
        idx = range(first, last)
        title_line = lines[first].text if is_headline(lines[first].text) else None
        body = [i for i in idx if labels[i] == "text" and not (title_line and i == first)]
        spans: list[tuple[int, int]] = []
        for i in body:
            # join runs of text lines separated only by blank lines into one span
            if spans and all(labels[j] == "blank" for j in range(prev + 1, i)):
                spans[-1] = (spans[-1][0], lines[i].end)
            else:
                spans.append((lines[i].start, lines[i].end))
            prev = i
        if not spans:
            continue
        first_text = text[spans[0][0]:spans[0][1]]
        title = title_line or _fallback_title(first_text, _publisher(lines[:first]) if n == 0 else None)
        date = parse_date(title_line or "") or next((d for d in dates if d), None) if n == 0 else parse_date(title_line or "")
        doc_id = source if n == 0 else f"{source}#{n + 1}"
        docs.append(Document(source=source, doc_id=doc_id, title=title, date=date, text=text, spans=tuple(spans)))
    return docs


_PUBLISHER = re.compile(r"^([A-Z][\w&.'-]*(?: [A-Z][\w&.'-]*){0,3}) (?:Newsletter|Daily|Weekly)$")


def _publisher(header: list[_Line]) -> str | None:
    """The publisher named by a banner above the article ("AInvest Newsletter"), if any."""
    for ln in header:
        m = _PUBLISHER.match(ln.text)
        if m:
            return m.group(1)
    return None


def _fallback_title(first_text: str, publisher: str | None = None) -> str:
    """A headline-less article is titled by its first sentence, after its publisher's name
    when a banner gives one: readers refer to such a piece by where it appeared."""
    sentence = re.split(r"(?<=[.!?])\s", first_text.strip(), maxsplit=1)[0]
    title = f"{publisher}: {sentence}" if publisher else sentence
    return title if len(title) <= 90 else title[:87].rsplit(" ", 1)[0] + "…"


def corpus_files(folder: Path) -> list[Path]:
    """Supported files under ``folder`` (recursive, hidden entries skipped), sorted."""
    if not folder.exists():
        raise CorpusError(f"corpus folder {folder} does not exist")
    if not folder.is_dir():
        raise CorpusError(f"corpus path {folder} is not a folder")
    files = [
        p for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(files)


def load_file(path: Path, source: str) -> tuple[str, list[Document]]:
    """Read and clean one file: (source text, documents)."""
    text = read_source(path)
    docs = clean(text, source)
    if not docs:
        raise CorpusError(f"{path}: no article text left after cleaning; skipped")
    return text, docs
