"""Which date a cleaned article carries.

Scope: a pure function over :mod:`rag.ingest`'s line decisions. An article is dated by its
first date stamp, or by a meta line near its headline ("Finance | May 15, 2025 | By Ada
Moss", :func:`rag.line_kinds.meta_date`), whichever comes first, or by the dateline that opens
its lead ("NORTHMERE, 2 June 2026 - ..."); a published date before an updated one; only near
the headline, since below the lead a date belongs to something the story tells.
"""

from __future__ import annotations

import re
from datetime import datetime

from .line_decisions import DATE_STAMP, LineDecision
from .line_kinds import (_DATE, _MONTHS, _NUMERIC_DATE, _ORDINAL, _PLAIN, _UPDATED, _is_sentence, _words, meta_date,
                         numeric_day_first, parse_date)

# A wire or press dateline that opens the lead: a place in capitals or capitalised words, perhaps
# a region, then the date, perhaps the agency, then a dash: "NORTHMERE, 2 June 2026 - ...",
# "SAN JOSE, Calif., November 6, 2024 — ...", "**HALVERN, 19 May 2026** — ...", "KESTREL FALLS,
# Halmark Province, March 3 (Meridian Wire) - ..." (wire copy often gives no year).
_PLACE = r"[A-Z][\w.'’-]*(?:[ -][A-Z][\w.'’-]*){0,4}"
_MONTH_DAY = rf"(?P<md>{_MONTHS})\s*(?P<d1>\d{{1,2}}){_ORDINAL}|(?P<d2>\d{{1,2}}){_ORDINAL}\s+(?P<dm>{_MONTHS})"
_DATELINE = re.compile(
    rf"^[*_]*\s*{_PLACE}\s*,\s*(?:{_PLACE}\s*,\s*)?(?:(?P<full>{_DATE})|{_MONTH_DAY})"
    r"\s*(?:\([^()]{1,40}\))?\s*[*_]*\s*(?:[—–]|--?)\s")


def dateline_date(line: str, day_first: bool = False) -> str | None:
    """The date of a dateline that opens ``line``: YYYY-MM-DD, or --MM-DD (ISO 8601's date without
    a year) when the dateline gives none; None when the line opens with no dateline."""
    m = _DATELINE.match(line)
    if not m:
        return None
    if m["full"]:
        return parse_date(m["full"], day_first)
    day = _month_day(m)
    return f"--{day[0]:02d}-{day[1]:02d}" if day else None


def _month_day(m: re.Match[str]) -> tuple[int, int] | None:
    """(month, day) of a :data:`_MONTH_DAY` match; None for a day the month has not."""
    month, day = (m["md"], m["d1"]) if m["md"] else (m["dm"], m["d2"])
    try:
        when = datetime.strptime(f"{month[:3]} {int(day)} 2000", "%b %d %Y")  # 2000: a leap year lets 29 Feb be
    except ValueError:
        return None
    return when.month, when.day


_MONTH_DAY_RE = re.compile(rf"\b(?:{_MONTH_DAY})\b")


def days_named(text: str) -> set[tuple[int, int]]:
    """The (month, day) of each day ``text`` names with its month: "the 14 March report",
    "on March 3", "Sept. 22, 2025" (its year aside)."""
    return {day for m in _MONTH_DAY_RE.finditer(text) if (day := _month_day(m))}


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def numeric_dates_in_words(text: str, context: str = "") -> list[str]:
    """The dates ``text`` writes in figures, in words ("26/03/2026" -> "26 March 2026"), so that
    an answer that writes the date in words is read as the same date. ISO dates always; a
    day.month.year date when its order is known: a field over 12 says it, else the dates of
    ``context`` (the text around it) must (:func:`numeric_day_first`, by proof, never by default)."""
    out = []
    for m in _ISO_DATE.finditer(text):
        out.append(_in_words(int(m[1]), int(m[2]), int(m[3])))
    proven = None
    for m in _NUMERIC_DATE.finditer(text):
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        if a > 12 >= b or b > 12 >= a:
            day_first = a > 12
        else:
            if proven is None:
                whole = context or text
                # proven when no declared language would change it (without proof, "de" reads day first)
                first = numeric_day_first(whole)
                proven = first if first == numeric_day_first(whole, "de") else "?"
            if proven == "?":
                continue
            day_first = proven
        day, month = (a, b) if day_first else (b, a)
        out.append(_in_words(year, month, day))
    return [d for d in out if d]


def _in_words(year: int, month: int, day: int) -> str:
    try:
        return datetime(year, month, day).strftime(f"{day} %B %Y")
    except ValueError:
        return ""


def show_date(date: str | None) -> str:
    """A document's date as a reader (and the model) is shown it: "2026-03-14" stays as it is;
    "--03-03" (a dateline's day without its year) reads "March 3"."""
    if date and date.startswith("--"):
        try:
            when = datetime.strptime(f"2000{date[1:]}", "%Y-%m-%d")
        except ValueError:
            return date
        return f"{when.strftime('%B')} {when.day}"
    return date or ""


def _prose(text: str) -> bool:
    """A sentence of the story ("Updated 6:42 a.m." ends like one, but is a meta line's field)."""
    return len(_words(text)) >= 6 and _is_sentence(text) and not meta_date(text)


# a time of day or a span of them ("10:00", "14:00–16:30"): no words of a line
_TIME_OF_DAY = re.compile(r"\b\d{1,2}[:.]\d{2}(?:\s*[–-]\s*\d{1,2}[:.]\d{2})?\b")


def article_date(decisions: list[LineDecision], article: list[int], head: int, day_first: bool) -> str | None:
    """An article's first date stamp, or meta line's date ("Finance | May 15, 2025 | By Ada Moss")
    just above or below its headline, whichever comes first; a published date before an updated
    one. Only near the headline: below the lead a date belongs to something the story tells."""
    h = article.index(head)
    near = {h: False}  # a line near the headline -> whether a sentence stands between them
    # outwards from the headline up to a sentence of the story; below it, past one sentence (a
    # standfirst: "The $1.4 billion crossing replaces a 1961 span.") to a signed meta line
    for step, reach, sentences in ((-1, 3, 1), (1, 4, 2)):
        for k in range(h + step, h + step * (reach + 1), step):
            if not 0 <= k < len(article):
                break
            if _prose(decisions[article[k]].text):
                sentences -= 1
                if not sentences:
                    break
            else:
                near[k] = step > 0 and sentences < 2
    dated: list[tuple[int, str]] = []  # (rank, date) in line order
    for k, i in enumerate(article):
        d = decisions[i]
        if d.reason == DATE_STAMP:
            if found := parse_date(d.text, day_first):
                dated.append((_PLAIN, found))
        elif d.kept and k in near and (meta := meta_date(d.text, day_first)):
            # below a sentence, a line that names no author nor labels its date may be a
            # timeline's entry ("March 1, 2031 — Contract signed"), not the story's date
            if meta.signed or not near[k]:
                dated.append((meta.rank, meta.iso))
        elif d.kept and k in near and not near[k] and len(_words(_TIME_OF_DAY.sub(" ", d.text))) <= 5 \
                and not _is_sentence(d.text) \
                and (found := parse_date(d.text, day_first)):
            # a short line by the headline that holds a date: "Meeting of 12/02/2026"; a time of
            # day is no words ("Thursday 12 February 2026, 10:00–12:30" is short)
            dated.append((_PLAIN, found))
    # the lead's dateline (the first kept lines below the headline) dates a story that has no
    # date line of its own: wire copy and press releases date themselves only there
    lead = next((found for i in article[h + 1:h + 4] if decisions[i].kept
                 and (found := dateline_date(decisions[i].text, day_first))), None)
    # an "Updated ..." date dates the article only when nothing else does; a dateline without its
    # year only when no full date does
    full = next((iso for rank, iso in dated if rank != _UPDATED), None)
    if full or (lead and not lead.startswith("--")):
        return full or lead
    return next((iso for _, iso in dated), None) or lead
