"""Front matter: the metadata block a markdown or plain-text file may open with (YAML between
``---`` lines, as static-site generators and note apps write it, or TOML between ``+++``).

Scope: find the block and read the document's title and publication date from it. The block's
lines stay in the file's text (offsets index into it); its other fields (author, tags) stay text
of the document. Pure functions.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tomllib
from dataclasses import dataclass

import yaml

from .line_kinds import parse_date

log = logging.getLogger(__name__)

__all__ = ["FrontMatter", "read_front_matter"]

# keys that name the piece's publication date, in the order they are trusted ("updated" is not one)
_DATE_KEYS = ("date", "published", "published_at", "publishdate", "pubdate", "date_published")
_MAX_LINES = 60  # a block longer than this is no metadata header


@dataclass(frozen=True)
class FrontMatter:
    end: int  # offset just past the closing fence's line
    title: str | None
    date: str | None  # YYYY-MM-DD


def read_front_matter(text: str) -> FrontMatter | None:
    """The front matter ``text`` opens with, or None: a first line ``---`` (YAML) or ``+++``
    (TOML), a closing fence of the same kind (YAML may close with ``...``) within
    ``_MAX_LINES`` lines, and between them a mapping the parser reads. A block that does not
    parse is none: its lines are read as text like any other."""
    lines = text.split("\n")
    fence = lines[0].strip() if lines else ""
    if fence not in ("---", "+++"):
        return None
    closers = ("---", "...") if fence == "---" else ("+++",)
    close = next((i for i in range(1, min(len(lines), _MAX_LINES + 2)) if lines[i].strip() in closers), None)
    if close is None or close == 1:
        return None
    body = "\n".join(lines[1:close])
    try:
        data = yaml.safe_load(body) if fence == "---" else tomllib.loads(body)
    except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError) as err:
        log.debug("front matter does not parse (%s); read as text", err)
        return None
    if not isinstance(data, dict) or not data:
        return None
    fields = {str(k).lower().replace("-", "_"): v for k, v in data.items()}
    title = fields.get("title")
    title = " ".join(title.split()) if isinstance(title, str) and title.strip() else None
    date = next((d for d in (_as_date(fields.get(k)) for k in _DATE_KEYS) if d), None)
    end = sum(len(line) + 1 for line in lines[:close + 1])
    return FrontMatter(end=min(end, len(text)), title=title, date=date)


def _as_date(value: object) -> str | None:
    """A front-matter date value as YYYY-MM-DD: YAML and TOML give dates and date-times as
    objects, other writers give strings ("2026-03-14T09:30:00Z", "March 14, 2026")."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return parse_date(re.sub(r"T\d.*$", "", value.strip()))
    return None
