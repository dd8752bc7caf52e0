"""Read article files as text: the decoded file, or the text extracted from HTML or PDF.

Scope: which files a corpus folder holds and what text each one gives. Offsets of chunks and
citations index into exactly this text; cleaning (:mod:`rag.ingest`) only labels its lines.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import CorpusError

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


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


__all__ = ["SUPPORTED_SUFFIXES", "corpus_files", "read_source"]
