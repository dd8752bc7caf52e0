"""Read article files as text: the decoded file, or the text extracted from HTML or PDF; a
table's rows carry their columns' headers (:mod:`rag.tables`).

Scope: which files a corpus folder holds and what text each one gives. Offsets of chunks and
citations index into exactly this text; cleaning (:mod:`rag.ingest`) only labels its lines.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError
from .front_matter import read_front_matter
from .page import HEADINGS, after_the_story, furniture, lead_article, links_mostly, published_date, story_block
from .tables import label_html_table, label_markdown_tables
from .wrapped_text import join_wrapped_lines

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".eml")


@dataclass(frozen=True)
class Layout:
    """What a file's markup says beyond its text: where each story of a page of several
    (<article> elements) starts, and the page's declared language. Empty for plain text."""

    stories: tuple[tuple[int, int], ...] = ()  # (offset, story): the text from offset on belongs to that story
    outside_is_story: bool = False  # story 0, the text outside the <article>s, is a story too (else their frame)
    lang: str | None = None  # <html lang="...">
    # a page of one story: offset of the line its title comes from (its headline, else its story
    # element's first line when the page's <h1> is outside it); None when the markup names none
    headline: int | None = None
    # the date the page's metadata gives for its story (<meta property="article:published_time">,
    # JSON-LD "datePublished", a <time datetime> in its <article>), as YYYY-MM-DD; for a page of one story
    published: str | None = None
    # the title a file's metadata gives (a markdown file's front matter), for a story whose
    # own first line is no headline
    title: str | None = None


def read_source(path: Path) -> str:
    """Return the text that offsets refer to: the decoded file, or the text
    extracted from HTML/PDF. Raises CorpusError for unreadable or binary files."""
    return read_with_layout(path)[0]


def read_with_layout(path: Path) -> tuple[str, Layout]:
    """:func:`read_source`'s text and what the file's markup says about it (:class:`Layout`)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise CorpusError(f"{path}: unsupported file type {suffix!r} (use {', '.join(SUPPORTED_SUFFIXES)})")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CorpusError(f"{path}: cannot read file ({err.strerror or err})") from err
    if suffix == ".pdf":
        return _pdf_text(path, data)
    if suffix == ".docx":
        return _docx_text(path, data)
    if suffix == ".eml":
        return _email_text(path, data)
    text = decode(path, data).replace("\r\n", "\n").replace("\r", "\n")
    if suffix in (".html", ".htm"):
        text, _, layout = _html_read(text)
        return text, layout
    meta = read_front_matter(text)
    text = label_markdown_tables(join_wrapped_lines(text, meta.end if meta else 0))
    if meta is None:
        return text, Layout()
    # the story's own lines start below its front matter; the block's other fields stay its text
    return text, Layout(headline=meta.end, published=meta.date, title=meta.title)


def decode(path: Path, data: bytes) -> str:
    """The text of a file's bytes: UTF-16 by its byte-order mark, else UTF-8; UTF-8 with a few
    stray bytes stays UTF-8 (each stray byte becomes U+FFFD, with a warning) rather than turning
    every accented letter into two wrong ones; else Windows-1252, else Latin-1 (with a warning:
    a file with text is never skipped). NUL bytes in a file without a UTF-16 mark mean binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise CorpusError(f"{path}: marked as UTF-16 but not valid UTF-16 ({err.reason}); skipped") from err
    if b"\x00" in data[:8192]:
        raise CorpusError(f"{path}: looks like a binary file, not text; skipped")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        first_bad = err.start
    loose = data.decode("utf-8-sig", errors="replace")
    stray = loose.count("\ufffd") - data.decode("utf-8-sig", errors="ignore").count("\ufffd")
    multibyte = sum(1 for ch in loose if ord(ch) > 127 and ch != "\ufffd")
    if multibyte and stray <= max(2, multibyte // 20):  # mostly valid UTF-8 with accents: a few stray bytes
        log.warning("%s: %d byte(s) that are not UTF-8 (the first at byte %d) read as \ufffd", path, stray, first_bad)
        return loose
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        log.warning("%s: neither UTF-8 nor Windows-1252; read as Latin-1, some characters may be wrong", path)
        return data.decode("latin-1")


# elements that start a line of their own; every other element (a link, bold, <time>, <span>)
# is part of the line it sits in, as a browser shows it
_BLOCKS = frozenset("""address article aside blockquote body caption dd details dialog div dl dt fieldset figcaption
figure footer h1 h2 h3 h4 h5 h6 header hgroup hr li main ol p pre section summary table tbody td tfoot th thead tr
ul""".split())


def _block_text(soup) -> str:
    """The page's text with a line per block: a paragraph is one line however many links and
    dates it holds, and a table row one line with its cells between " | " (as a markdown row).
    Splitting at every tag instead made "Maria Lopez" of a linked name, or the "2" of a score
    cell, a line of its own, which the line rules then removed as a frame or a copy."""
    from bs4 import NavigableString

    for text in soup.find_all(string=True):
        if text.find_parent("pre") is None and type(text) is NavigableString:
            text.replace_with(re.sub(r"\s+", " ", str(text)))  # HTML whitespace, a line break included, is a space
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for table in soup.find_all("table"):
        label_html_table(table)
    for row in soup.find_all("tr"):
        for cell in row.find_all(["td", "th"], recursive=False)[1:]:
            cell.insert_before(" | ")
    joined: set[int] = set()  # a <dt> and the <dd> after it share a line: "Polling day: May 4, 2025"
    for dd in soup.find_all("dd"):
        term = dd.find_previous_sibling()
        if term is not None and term.name == "dt":
            dd.insert_before(": ")
            joined |= {id(term), id(dd)}
    return _lines_of_blocks(soup, joined)


def _lines_of_blocks(soup, joined: set[int]) -> str:
    """``soup.get_text("")`` with a line break before and after each block (a cell stays on its
    row's line; a joined <dt> and <dd> share one), read in one pass: inserting the breaks into
    the tree walked each block's subtree again, quadratic on a deeply nested page."""
    from bs4 import CData, NavigableString

    types = soup.interesting_string_types or {NavigableString, CData}
    wanted = (lambda t: t is types) if isinstance(types, type) else (lambda t: t in types)
    out: list[str] = []
    stack: list = [soup]
    while stack:
        node = stack.pop()
        if isinstance(node, NavigableString):
            if wanted(type(node)):
                out.append(str(node))
            continue
        if isinstance(node, str):  # a break queued to follow a block's text
            out.append(node)
            continue
        block = node.name in _BLOCKS and node.name not in ("td", "th")
        if block and (node.name != "dd" or id(node) not in joined):
            out.append("\n")
        if block and (node.name != "dt" or id(node) not in joined):
            stack.append("\n")
        stack.extend(reversed(node.contents))
    return "".join(out)


def html_parts(html: str) -> tuple[str, list[tuple[str, str]]]:
    """(the text of an HTML page, the blocks extraction dropped as (tag, their text)): scripts,
    navigation, forms, and headers, footers and sidebars outside the article."""
    text, dropped, _ = _html_read(html)
    return text, dropped


def _html_read(html: str) -> tuple[str, list[tuple[str, str]], Layout]:
    """:func:`html_parts` and the page's :class:`Layout`."""
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(html, "html.parser")
    dropped: list[tuple[str, str]] = []

    def drop(tag) -> None:
        text = " ".join(tag.get_text(" ").split())
        if text and tag.name not in ("script", "style"):
            dropped.append((tag.name, text))
        tag.decompose()

    published = published_date(soup)  # before the scripts go: JSON-LD is one
    for tag in soup(["script", "style", "noscript", "nav", "form", "iframe"]):
        if not tag.decomposed:
            drop(tag)
    # a page's header, footer and sidebars are chrome; inside the article they hold its headline,
    # byline, standfirst, fact boxes and corrections
    story = soup.find(["article", "main"]) or story_block(soup)
    # a <main> whose story is one <article> in it: the sidebars beside that article ("More
    # cricket", a newsletter box) are chrome as much as the page's; teaser cards marked up as
    # <article> are no such story, and leave <main> whole
    lead = lead_article(soup.find("main"))
    for tag in after_the_story(soup, story) + furniture(soup, story):
        if not tag.decomposed:
            drop(tag)
    for tag in soup(["footer", "header", "aside"]):
        if tag.decomposed:
            continue
        inside = tag.find_parent(["article", "main"]) is not None or (story is not None and story in tag.parents)
        if tag.name == "aside" and lead is not None and lead not in tag.parents and tag.find_parent("article") is None \
                and (lead.name == "article" or links_mostly(tag)):
            inside = False  # beside a "post" <div>, only a list of links: a fact box may sit there too
        if not inside:
            drop(tag)
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
        title = _without_site_name(title, soup.get_text("\n"))
    lang = soup.html.get("lang") if soup.html else None
    outside_is_story = _mark_stories(soup)
    head_el = _headline(soup, story) if outside_is_story is None else None
    if head_el is not None:
        head_el.insert(0, NavigableString(_HEAD_MARK))
    headline: int | None = None
    story_now = 0
    has_h1 = soup.find("h1") is not None
    head = f"{title}\n\n" if title and not has_h1 else ""
    lines: list[str] = []
    stories: list[tuple[int, int]] = [(0, 0)]  # the page's <title> line is outside every story
    at = len(head)
    for raw in _block_text(soup).split("\n"):
        if _HEAD_MARK in raw:  # the headline's line: the first line with text from the mark on
            raw, headline = raw.replace(_HEAD_MARK, ""), -1
        parts = _STORY_MARK.split(raw)  # text, story, text, story, text ...
        texts, marks = parts[0::2], [int(m) for m in parts[1::2]]
        # a story is a block: its mark ends the text before it or starts the text after it
        first_text = next((k for k, t in enumerate(texts) if t.strip()), 0)
        line_story = marks[first_text - 1] if first_text else story_now
        story_now = marks[-1] if marks else story_now
        line = re.sub(r"[ \t\xa0]+", " ", "".join(texts)).strip()
        if not line:
            continue
        if stories[-1][1] != line_story:
            start = at + 2 * bool(lines)
            if stories[-1][0] == start:
                stories.pop()  # it holds no text
            stories.append((start, line_story))
        at += len(line) + 2 * bool(lines)
        if headline == -1:
            headline = at - len(line)
        lines.append(line)
    layout = Layout(tuple(stories) if outside_is_story is not None else (), bool(outside_is_story),
                    (str(lang).strip() or None) if lang else None, headline if headline != -1 else None,
                    published if outside_is_story is None else None)
    return head + "\n\n".join(lines), dropped, layout


_STORY_MARK = re.compile("\ue000(\\d+)\ue001")  # private-use characters: no page's text holds them
_HEAD_MARK = "\ue002"  # marks the headline element's text, as _STORY_MARK marks a story


_TITLE_PARTS = re.compile(r"\s+[|–—-]\s+")


def _without_site_name(title: str, page: str) -> str:
    """A <title>'s headline without the site's name after a bar or dash ("Mine evacuated after fan
    failure | Northern Resources Daily"), when the page names the site again (its logo, its
    footer): a name repeated on the page is the site's, not part of the headline."""
    parts = _TITLE_PARTS.split(title)
    if len(parts) < 2 or len(parts[-1].split()) > 5 or len(" ".join(parts[:-1]).split()) < 3:
        return title
    named = re.search(rf"(?<!\w){re.escape(parts[-1])}(?!\w)", page, re.IGNORECASE)
    return title[:title.rindex(parts[-1])].rstrip(" |–—-") if named else title


def _headline(soup, story):
    """The element a page of one story takes its title from: the <h1> of its <article> or
    <main> (else the page's <h1> when it has neither), else the story's first heading when it
    comes before the story's first paragraph (a subheading comes after one), else the
    <article> or <main> itself when the page's <h1> sits outside it. Text outside the story
    (a cookie banner, a site's name) is never the title; None when the markup names nothing."""
    marked = soup.find(["article", "main"])
    h1 = (marked or soup).find("h1")
    if h1 is not None:
        return h1
    for el in (story.find_all([*HEADINGS, "p"]) if story is not None else ()):
        if el.name != "p":
            return el
        if len(el.get_text(" ").split()) >= 6:
            break
    return marked if marked is not None and soup.find("h1") is not None else None


def _mark_stories(soup) -> bool | None:
    """Mark where each story of a page of several starts and ends (story 0: the text outside
    them), and return whether that outside text is a story too; None for a page of one story.
    Each <article> with a headline and a paragraph of its own is a story; so is the page's text
    outside them when it has an <h1> above a paragraph (a main story beside a related one)."""
    from bs4 import NavigableString

    def holds_story(tag, headings: tuple[str, ...]) -> bool:
        """A headline of its own above a paragraph of its own: a body whose first heading
        comes after a paragraph is one story's text under subheadings, not a story."""
        headline = False
        for el in tag.find_all([*headings, "p"]):  # in page order
            if any(id(p) in number for p in el.parents if p is not tag):
                continue  # a story's within tag
            if el.name != "p":
                headline = True
            elif not el.find_parent(HEADINGS) and len(el.get_text(" ").split()) >= 6:
                return headline
        return False

    number: dict[int, int] = {}  # id of a story's element -> its number
    for tag in reversed(soup.find_all("article")):  # inner before outer: an inner story is not its outer one's
        if holds_story(tag, HEADINGS):
            number[id(tag)] = 0
    stories = [t for t in soup.find_all("article") if id(t) in number]
    number.update({id(t): n for n, t in enumerate(stories, 1)})
    rest_is_story = holds_story(soup, ("h1",))
    if len(stories) + rest_is_story < 2:
        return None
    for tag in stories:
        outer = next((number[id(p)] for p in tag.parents if id(p) in number), 0)
        tag.insert_before(NavigableString(f"\ue000{number[id(tag)]}\ue001"))
        tag.insert_after(NavigableString(f"\ue000{outer}\ue001"))  # after an inner story, its outer one's text goes on
    return rest_is_story


def _pdf_text(path: Path, data: bytes) -> tuple[str, Layout]:
    """The text of a PDF as :func:`rag.pdf_text.pdf_parts` reads it, its tables labelled, and
    where its title is (the line set largest on its first page)."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    from .pdf_text import pdf_parts

    try:
        read = pdf_parts(data)
        text, title_at = read.text, read.title_at
        pages = len(PdfReader(io.BytesIO(data)).pages) if not text.strip() else 0
    except DependencyError as err:  # AES encryption needs the cryptography package
        raise CorpusError(f"{path}: cannot decrypt this PDF ({err}); skipped") from err
    except Exception as err:  # noqa: BLE001 - any failure of the parser on one file (NotImplementedError for
        # a security handler or filter pypdf lacks, among others) must skip that file, not stop the index
        raise CorpusError(f"{path}: unreadable PDF ({type(err).__name__}: {err}); skipped") from err
    if pages:  # a scan: its pages are pictures of text, and reading those (OCR) is not done here
        raise CorpusError(f"{path}: no text on its {pages} page{'s' * (pages > 1)} (scanned images? "
                          "text recognition is not done here); skipped")
    # labelling rows lengthens them, and a table may stand above the title: find the title again
    title = text[title_at:].split("\n", 1)[0] if title_at is not None else None
    text = label_markdown_tables(text)
    at = text.find(title) if title else -1
    return text, Layout(headline=at if at >= 0 else None, title=read.full_title)


def _docx_text(path: Path, data: bytes) -> tuple[str, Layout]:
    """The text of a Word file (:func:`rag.docx_text.docx_parts`), its tables labelled."""
    from .docx_text import docx_parts

    try:
        read = docx_parts(data)
    except Exception as err:  # noqa: BLE001 - a damaged or mislabelled file skips that file, not the index
        raise CorpusError(f"{path}: unreadable Word file ({type(err).__name__}: {err}); skipped") from err
    title = read.text[read.headline:].split("\n", 1)[0] if read.headline is not None else None
    text = label_markdown_tables(read.text)
    at = text.find(title) if title else -1
    return text, Layout(headline=at if at >= 0 else None, title=read.title)


def _email_text(path: Path, data: bytes) -> tuple[str, Layout]:
    """The text of a saved e-mail (:func:`rag.email_text.email_parts`): its subject first, its
    HTML read as a page's, its attachments of a kind the corpus reads read as those files are."""
    from .email_text import email_parts

    def attachment(name: str, content: bytes) -> str | None:
        suffix = Path(name).suffix.lower()
        if suffix not in (".pdf", ".docx", ".eml", ".html", ".htm"):
            return None
        if suffix in (".html", ".htm"):
            return html_parts(decode(path, content))[0]
        return read_bytes(path.parent / name, content)

    try:
        read = email_parts(data, lambda html: html_parts(html)[0], attachment)
    except Exception as err:  # noqa: BLE001 - a malformed message skips that file, not the index
        raise CorpusError(f"{path}: unreadable e-mail ({type(err).__name__}: {err}); skipped") from err
    return label_markdown_tables(read.text), Layout(headline=0 if read.subject else None, published=read.published)


def read_bytes(path: Path, data: bytes) -> str:
    """The text of a PDF, Word or e-mail file given as bytes (an e-mail's attachment)."""
    suffix = path.suffix.lower()
    reader = {".pdf": _pdf_text, ".docx": _docx_text, ".eml": _email_text}[suffix]
    return reader(path, data)[0]


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


__all__ = ["SUPPORTED_SUFFIXES", "Layout", "corpus_files", "decode", "html_parts", "read_source", "read_with_layout"]
