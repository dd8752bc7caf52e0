"""What an upload may add: the checks on each file, made before anything is copied. Pure functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.reading import SUPPORTED_SUFFIXES

# File types the upload accepts: every type the library reads.
UPLOAD_SUFFIXES = SUPPORTED_SUFFIXES


def check_upload(path: str | Path, max_bytes: int) -> str | None:
    """Why the file can't be added (hidden, type, size, not text), or None when it looks fine."""
    p = Path(path)
    if p.name.startswith("."):
        return "hidden files (names starting with a dot) are never indexed; rename it"
    if p.suffix.lower() not in UPLOAD_SUFFIXES:
        return f"unsupported type {p.suffix or '(none)'!r}; upload {', '.join(UPLOAD_SUFFIXES)} files"
    try:
        size = p.stat().st_size
    except OSError as err:
        return f"cannot read it ({err.strerror or err})"
    if size == 0:
        return "the file is empty"
    if size > max_bytes:
        return f"{size:,} bytes is over the {max_bytes:,}-byte limit (max_file_bytes)"
    with p.open("rb") as fh:
        head = fh.read(65536)
    if p.suffix.lower() == ".pdf":  # whether it holds text is for the reader to say (:func:`unreadable`)
        return None if head.startswith(b"%PDF-") else "it is not a PDF (no %PDF- header)"
    if p.suffix.lower() == ".docx":  # a Word file is a zip package; what it holds is for the reader to say
        return None if head.startswith(b"PK\x03\x04") else "it is not a Word file (.docx files are zip packages)"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 by its byte-order mark: the library reads it (rag.reading.decode)
    if b"\x00" in head:
        return "it is a binary file, not text"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # not merely a character cut at the read boundary
            controls = sum(1 for b in head if b < 9 or 13 < b < 32)
            if controls > len(head) * 0.02:
                return "it does not look like text (not UTF-8, many control bytes)"
    return None


def upload_paths(files: Any) -> list[str]:
    if not files:
        return []
    if not isinstance(files, (list, tuple)):
        files = [files]
    out = []
    for f in files:
        if isinstance(f, (str, Path)):
            out.append(str(f))
        elif isinstance(f, dict) and f.get("path"):
            out.append(str(f["path"]))
        elif getattr(f, "path", None) or getattr(f, "name", None):
            out.append(str(getattr(f, "path", None) or f.name))
    return out


def unreadable(path: str | Path) -> str | None:
    """Why the library cannot index the file (binary, empty, not text once read), or None: asked
    of each file before an upload adds any, so one bad file never costs the others."""
    from rag.errors import CorpusError
    from rag.ingest import load_file

    try:
        load_file(Path(path), Path(path).name)
    except CorpusError as err:
        return str(err).split(": ", 1)[-1]  # the reason, without the server's temporary path
    return None
