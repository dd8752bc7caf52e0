"""What one line of an article looks like: a sentence, a headline, a date, widget labels, a
link list's item, a figure; and which order a file writes its numeric dates in.

Scope: pure predicates on a single line of text, and the patterns behind them, for
:mod:`rag.ingest`, which decides what to remove by looking at the lines together. Nothing here
names a site's or a topic's vocabulary beyond the labels every site's widgets share.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from .words import FUNCTION_WORDS
from .widgets import is_consent_notice, is_share_bar

# Widget labels, matched against a whole segment of a short line, never searched inside prose.
_WIDGET = re.compile(
    r"""(?:
        share(?:\ this(?:\ \w+)?|\ on\ \w+)?|tweet|print|e-?mail|\d*\ ?comments?|no\ comments(?:\ yet)?
      | add\ a\ (?:public\ )?comment|leave\ a\ (?:reply|comment)|(?:view|show|load)\ (?:all\ |more\ )?comments
      | subscribe(?:\ now|\ today|\ free|\ here)?|sign\ up(?:\ now|\ today|\ free|\ here)?|(?:subscribe\ to|sign\ up\ for)\ (?:our|the)\ newsletter
      | (?:\S+\ ){0,2}newsletter|read\ more|continue\ reading|see\ also|related(?:\ articles|\ stories|\ posts)?
      | advertisement|sponsored(?:\ content)?|follow\ us(?:\ on\ .{1,60})?|all\ rights\ reserved
      | (?:copyright\ )?©\ ?.{0,80}|copyright\ \d{4}.{0,80}
      | your\ email\ address\ will\ not\ be\ published|required\ fields\ are\ marked
      | (?:author\ )?(?:avatar|photo|headshot)|speaker\ \d+|about\ the\ author|click\ here
      | skip\ to\ (?:the\ )?(?:main\ )?(?:content|navigation|search)
      | copy\ link
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_AVATAR = re.compile(r"(?:author\ )?avatar|author\ (?:photo|headshot)", re.IGNORECASE)  # not any photo
_SEGMENT = re.compile(r"(?<=[.!?])\s+|\s+[|·•]\s+")
_CLICK_HERE = re.compile(r"^click\s+here\b|click\s*here\W*$", re.IGNORECASE)  # a link's anchor text
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/\S*", re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\]]*)\]\(\s*[^)\s]+\s*\)")
_EXPLICIT_LINK = re.compile(r"https?://|www\.|\]\(", re.IGNORECASE)  # a URL or a markdown link, not a bare domain
_ANCHOR = re.compile(r"\(\s*([A-Za-z]+)\s*\)\s*$")  # "(Source)" ending a link list item
_BULLET = re.compile(r"^\s*(?:[•·▪‣◦*-]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_INNER_SENTENCE = re.compile(r"\b[a-z]{2,}[.!?][\"'”’)\]]*\s+[\"'“‘(]?[A-Z]")

_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_ORDINAL = r"(?:st|nd|rd|th)?"  # "April 15th 2026", "3rd May 2026"
_DATE = rf"(?:{_MONTHS}\s*\d{{1,2}}{_ORDINAL},?\s+\d{{4}}|\d{{1,2}}{_ORDINAL}\s+{_MONTHS}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[./]\d{{1,2}}[./]\d{{4}})"
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")
_DATE_PATTERNS = [
    (re.compile(rf"\b({_MONTHS})\s*(\d{{1,2}}){_ORDINAL},?\s+(\d{{4}})\b"), "mdy_name"),
    (re.compile(rf"\b(\d{{1,2}}){_ORDINAL}\s+({_MONTHS})\s+(\d{{4}})\b"), "dmy_name"),
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:\b|(?=T\d))"), "iso"),
    (_NUMERIC_DATE, "numeric"),
]
# a markdown file sets its date line in emphasis ("*May 3, 2026*", "**May 3, 2026**", "_May 3, 2026_")
_DATE_LINE = re.compile(
    rf"^(?P<em>[*_]{{0,3}})(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s*)?{_DATE}"
    r"(?:[\s,]+\d{1,2}:\d{2}\s*(?:am|pm)?(?:\s*[A-Z]{2,4})?)?(?:\s*\d+\s*min\s*read)?(?P=em)\s*$",
    re.IGNORECASE,
)
_LEAD_DATE = re.compile(rf"^{_DATE}\s*[-–—:|]?\s*", re.IGNORECASE)


def _words(s: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9][\w.'’&-]*", s)


_SMALL = {"a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "at", "by", "as", "with", "vs", "from", "after", "while", "into"}


def _caps_share(words: list[str]) -> float:
    content = [w for w in words if w.lower() not in _SMALL]
    return sum(1 for w in content if w[0].isupper() or w[0].isdigit()) / len(content) if content else 0.0


def _headline_shape(line: str) -> bool:
    """A short title-cased line without closing punctuation (a caption or a byline may be one),
    and one phrase: a line of three or more segments between bars or dots ("Report an error |
    Contact us | (c) Site 2026") is a page's furniture or a table's row."""
    words = _words(line)
    if not (3 <= len(words) <= 30) or len(line) > 220 or line.endswith((".", ":", "?", "!", ",", ";")):
        return False
    if len(_MENU_BAR.findall(line)) >= 2:
        return False
    return _caps_share(words) >= 0.6


# a navigation menu or breadcrumb trail: short labels between separators, links allowed ("Home >
# News > Health", "News | UK | Crime | Courts", "Markets  Companies  Transport  Energy  Log in")
_MENU_BAR = re.compile(r"\s[|·•]\s|\s\|(?=\S)|(?<=\S)\|\s")
_MENU_SEP = re.compile(r"\s*[|·•]\s*|\s*[>›»]\s+|\s+/\s+|\s{2,}")
_MENU_LABEL = re.compile(r"^[A-Za-z][A-Za-z ]{0,20}:\s+(?=\S)")  # a short label before the labels
_BUTTONS = re.compile(r"(?:\[[^\[\]]{1,20}\]\s*){3,}")  # "[f] [x] [in] [mail]", "[Accept] [Decline] [Settings]"


def is_menu(line: str) -> bool:
    """A line of three labels or more between separators (four between bars or dots, which a
    short headline may hold twice; six between wide spaces alone, which a justified headline
    holds between every word), each of at most three words with no figure and no sentence: a
    site's menu or breadcrumb, which names no story."""
    text = re.sub(r"[*_]{2,}", "", _MD_LINK.sub(r"\1", line)).strip()
    text = _MENU_LABEL.sub("", text)  # "You are here: Home > News", "Share: [f] [x] [in]"
    if _BUTTONS.fullmatch(text):
        return True  # a row of buttons
    items = [i.strip() for i in _MENU_SEP.split(text) if i.strip()]
    trail = bool(re.search(r"\s[>›»/]\s", text))
    spaced = not re.search(r"[|·•>›»]", text)  # wide spaces alone: a justified headline may hold five
    if len(items) < (3 if trail else 6 if spaced else 4):
        return False
    return all(len(i.split()) <= 3 and not re.search(r"\d|[.!?]$", i) for i in items)


def is_headline(line: str) -> bool:
    """A short title-cased line without closing punctuation that is no caption, byline or menu:
    those are title-cased too, but they sit inside a story, under a picture or its headline, or
    above the page."""
    return (_headline_shape(line) and not is_caption(line) and not is_byline(line) and not is_menu(line)
            and not _ends_in_a_prompt(line) and not _CONTACT.search(line))


# an e-mail address or a web address: a contact line ("Media contact: Jo Roe, press@firm.example"),
# never a headline
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|\bhttps?://|\bwww\.", re.IGNORECASE)


def _ends_in_a_prompt(line: str) -> bool:
    """A promotion that ends in a widget's prompt: "Newsletter: the week's news. Sign up free"."""
    segments = [s.strip(" .:!*…-–—|·•") for s in _SEGMENT.split(line)]
    return len(segments) > 1 and bool(segments[-1]) and _widget_segment(segments[-1])


# layout labels a picture's caption or credit opens with ("Photo: ...", "[Photo caption: ...]");
# a plural ("Photos: ...") heads a gallery, which may be a story of its own
_CAPTION_LABEL = re.compile(r"^[\[(*_]*\s*(?:image|photo(?:graph)?|picture|pictured|caption|credit|illustration)"
                            r"(?:\s+(?:caption|credit))?\s*:", re.IGNORECASE)
_BRACKETED = re.compile(r"^\[[^\[\]]+\]$")  # a whole line in brackets; a markdown link "[text](url)" is not
# a whole line in single-mark emphasis (italic); a bold line ("**...**") may be a markdown file's heading
_ITALIC = re.compile(r"^\*[^*]+\*$|^_[^_]+_$")


# a caption that ends with its picture's credit: "... at the Lyceum. Photo: Jon Aske" (or an agency's
# and a photographer's names: "Photo: Reuters/Jon Aske")
_CREDIT_END = re.compile(r"[.!?)]\s+(?:photo(?:graph)?|picture|image|credit)s?\s*:\s*[A-Z][\w.'’/-]*(?:\s+[A-Z][\w.'’/-]*){0,3}\s*\)?$",
                         re.IGNORECASE)


def is_caption(line: str) -> bool:
    """A picture's caption or credit: a line opening with a caption label and a colon, or ending
    with a picture's credit, or set wholly in brackets or in italics (as markdown sets captions
    and notes)."""
    t = line.strip()
    return bool(_CAPTION_LABEL.match(t) or _CREDIT_END.search(t) or _BRACKETED.match(t) or _ITALIC.match(t))


# "By Ada Moss, Science Editor", "Written by Ada Moss", "Von Anna Schmidt": the words after "by"
# up to a separator are a name (capitalised, or a particle such as "van" or "de")
_BYLINE = re.compile(r"^[*_]*(?:(?:(?:written|reported|reporting|reviewed|story|words|text)\s+)?(?:by|von|por)\s+"
                     r"|(?:words|text|story|reporting|author)\s*:\s*)(?P<name>[^,|;·•–—(]+)", re.IGNORECASE)
_NAME_PARTICLES = frozenset("van von de der den del della da di du la le al bin ibn y".split())


def is_byline(line: str) -> bool:
    """A short line naming who wrote the story: "By" (or a credit label: "Words:", "Text:"), then
    a name, then perhaps a role."""
    m = _BYLINE.match(line.strip())
    if not m or len(_words(line)) > 12:
        return False
    name = re.split(r"\s+(?:and|&|-)\s+", m.group("name").strip(" *_"))[0].split()  # "and", not a title's "And"
    # a name holds no function word: "By The Numbers", "By Train Across Europe" are headlines
    return 1 <= len(name) <= 5 and name[0][0].isupper() and all(
        (w[0].isupper() and w.lower() not in FUNCTION_WORDS) or w.lower() in _NAME_PARTICLES for w in name)


def _is_sentence(t: str) -> bool:
    """Prose: ends like a sentence or holds a sentence boundary."""
    return bool(_SENTENCE_END.search(t) or _INNER_SENTENCE.search(t))


def _named_dates(text: str) -> set[tuple[int, int, int]]:
    out = set()
    for pattern, kind in _DATE_PATTERNS[:2]:  # "February 9, 2026", "9 February 2026"
        for m in pattern.finditer(text):
            month, day = (m.group(1), m.group(2)) if kind == "mdy_name" else (m.group(2), m.group(1))
            try:
                out.add((int(m.group(3)), datetime.strptime(month[:3], "%b").month, int(day)))
            except ValueError:
                continue
    return out


def numeric_day_first(text: str, lang: str | None = None) -> bool:
    """Whether the numeric dates of one file ("04.03.2025") put the day first. The file's own
    dates decide: a first field over 12 ("25.03.2025") proves day first, a second over 12
    ("03.25.2025") month first, and so does the same date written with its month's name. When they do not (none, or both seen), the page's declared
    language does: English of the United States writes the month first, every other declared
    language and region the day ("de", "fr-CA", "en-GB"); bare "en" decides nothing. Else month
    first, as the seeds' American "11.01.2025"."""
    day_first = month_first = False
    named = _named_dates(text)  # (year, month, day) written with the month's name
    for m in _NUMERIC_DATE.finditer(text):
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        # the same date with its month named ("9 February 2026" above "09.02.2026") says which is which
        day_first |= a > 12 >= b or (a != b and (year, b, a) in named)
        month_first |= b > 12 >= a or (a != b and (year, a, b) in named)
    if day_first != month_first:
        return day_first
    language, _, region = (lang or "").strip().lower().replace("_", "-").partition("-")
    if language == "en":
        return bool(region) and not region.startswith("us")
    return bool(language)


# A meta line's date field: a full date (with a year), perhaps labelled ("Published", "Updated
# on:") and with its weekday and time of day ("Saturday, October 19, 2024 6:42 p.m. ET").
_PUBLISHED, _PLAIN, _UPDATED = 0, 1, 2  # which of a line's dates dates the article first
_DATE_LABEL = r"(?P<label>(?:first\s+)?published|posted|filed|dated?|(?:last\s+)?(?:updated|modified))"
_DATE_FIELD = re.compile(
    rf"(?:{_DATE_LABEL}(?:\s+on)?\s*:?\s*)?(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?,?\s*)?(?P<date>{_DATE})"
    r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}\s*(?:[ap]\.?\s?m\.?)?(?:\s*(?-i:[A-Z]{2,4}))?"
    r"|T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?:\s*\d+\s*min\s*read)?",  # ISO 8601: "2026-11-21T14:32Z"
    re.IGNORECASE,
)
# a meta line's fields: "Finance | May 15, 2025 | By Henrietta Blom", "Arts desk — Published 4 April 2025"
_FIELD_SEP = re.compile(r"\s*[|·•—;]\s*|\s+[–/-]\s+")


def _set_off_date(field: str) -> re.Match[str] | None:
    """The date in a field such as "HALVERSON, Sept. 22, 2025" or "By Ada Moss, 3 May 2025":
    set off by a comma from words that read as a name (a place, a paper), or following a byline
    (a page's <span>s: "Written by Ada Moss November 7, 2024 4 min read"); never inside prose
    ("Voting closes Friday, March 7, 2025")."""
    for m in _DATE_FIELD.finditer(field):
        before, after = field[:m.start()].rstrip(), field[m.end():].strip()
        named = before.endswith(",") and _name_like(before.rstrip(","))
        # after it: nothing, ", Place", or who posted it ("Posted on 5th November 2026 by Jane Roe")
        if (not before or named or is_byline(before.rstrip(","))) and \
                (not after or after.startswith(",") and _name_like(after.lstrip(", ")) or is_byline(after)):
            return m
    return None


class MetaDate(NamedTuple):
    rank: int  # _PUBLISHED, _PLAIN or _UPDATED
    iso: str  # YYYY-MM-DD
    signed: bool  # a field names the author ("By Ada Moss") or labels the date ("Published ...")


def meta_date(line: str, day_first: bool = False) -> MetaDate | None:
    """The date of ``line`` when it is a short meta line one of whose fields is a full date:
    "Finance | May 15, 2025 | By Henrietta Blom", "Published March 10, 2025 | Updated 6:42 a.m.",
    "PORT ELM, Oct. 19, 2025". Rank: a published date before a plain one before an updated one.
    A sentence that mentions a date, a list item, or a date inside a field is no meta line."""
    t = _MD_LINK.sub(r"\1", re.sub(r"[*_`]+", "", line)).strip()
    # a line of three fields or more ("Words by X · Published: ... · Updated: ... · 5 min read") may run longer
    if _BULLET.match(line) or len(_words(t)) > (24 if len(_FIELD_SEP.split(t)) >= 3 else 15):
        return None
    # "6:42 a.m." ends no sentence; a meta line has no sentence in it
    if _is_sentence(re.sub(r"\b([ap])\.\s?m\.", r"\1m", t, flags=re.IGNORECASE)):
        return None
    fields = [f.strip(" ,") for f in _FIELD_SEP.split(t)]
    found: list[tuple[int, str]] = []
    for field in fields:
        m = _DATE_FIELD.fullmatch(field) or _set_off_date(field)
        if not m or not (iso := parse_date(m.group("date"), day_first)):
            continue
        label = (m.group("label") or "").lower()
        rank = _UPDATED if label.endswith(("updated", "modified")) else _PLAIN if label in ("", "date", "dated") \
            else _PUBLISHED
        found.append((rank, iso))
    if not found:
        return None
    rank, iso = min(found, key=lambda f: f[0])
    return MetaDate(rank, iso, any(r != _PLAIN for r, _ in found) or any(_BYLINE.match(f) for f in fields))


def parse_date(text: str, day_first: bool = False) -> str | None:
    """First date in ``text`` as ISO ``YYYY-MM-DD``; a numeric date ("11.01.2025") is read
    month first unless ``day_first`` (see :func:`numeric_day_first`)."""
    text = text.replace("_", " ")  # markdown emphasis, "_May 3, 2026_": "_" is a word character to \b
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
                day, month = (g[0], g[1]) if day_first else (g[1], g[0])
                dt = datetime(int(g[2]), int(month), int(day))
        except ValueError:
            continue
        return dt.date().isoformat()
    return None


_NUMBER = re.compile(r"(?<![\w.,])\d[\d,]*(?:\.\d+)?(?:\s?(?:%|per\s?cent|percent))?")
_YEAR = re.compile(r"(?:1[5-9]|20)\d\d")
_COUNT_LABEL = re.compile(r"\d+\ ?(?:comments?|replies|shares|likes|views)", re.IGNORECASE)
_FREE_TAIL = re.compile(r"^(?:copyright\b\W*|©\W*)(?:\d{4}(?:\s*[-–]\s*\d{4})?\W*)?|^follow\s+us\s+on\s+", re.IGNORECASE)
# words that join the parts of an owner's or a network's name ("Smith & Sons", "the Post")
_NAME_GLUE = frozenset("and & of the all rights reserved inc ltd llc co corp plc gmbh media social group".split())


def holds_figure(t: str) -> bool:
    """Whether ``t`` states a figure: an amount, a share, or a number of two or more digits that
    is not a year, outside any date. Widget labels and link lists carry none (a comment count
    aside); a line that does states a fact, so no boilerplate rule may remove it."""
    t = re.sub(_DATE, " ", t, flags=re.IGNORECASE)
    for m in _NUMBER.finditer(t):
        number = m.group()
        if _YEAR.fullmatch(number):
            continue
        currency = m.start() > 0 and t[m.start() - 1] in "$€£¥"
        if currency or len(re.sub(r"\D", "", number)) >= 2 or not number.isdigit():  # "4.1", "5%", "1,000"
            return True
    return False


def _name_like(text: str) -> bool:
    """Every word capitalised, a number, a web address or a joining word: a name, not prose."""
    words = re.findall(r"[^\s,;:()]+", text)
    return all(w[0].isupper() or w[0].isdigit() or "." in w.strip(".") or w.lower().strip(".") in _NAME_GLUE
               for w in words)


def _widget_segment(s: str) -> bool:
    if _COUNT_LABEL.fullmatch(s):
        return True
    if holds_figure(s) or not _WIDGET.fullmatch(s):
        return False
    # "© 2025 Acme Corp" and "Follow us on Instagram" are labels; "Copyright 2024 lawsuit ends ..." is news
    tail = _FREE_TAIL.match(s)
    return tail is None or _name_like(s[tail.end():])


def _is_widget(t: str) -> bool:
    """A short line made entirely of widget labels, or a "click here" prompt, stating no figure;
    a row of share buttons; a cookie notice that ends in its buttons."""
    if is_share_bar(t) or is_consent_notice(t):
        return True
    n = len(_words(t))
    if n <= 25 and _CLICK_HERE.search(t):
        # a clause of its own beside the prompt ("The state certified the result on Friday; for the
        # breakdown click here") states something: the line stays
        clauses = [c for c in re.split(r"[;:,.!?]\s+|\s+[|·•–—-]\s+", t) if c.strip() and not _CLICK_HERE.search(c.strip(" .!"))]
        return not holds_figure(t) and len(_words(" ".join(clauses))) < 6
    if n > 12:
        return False
    segments = [s.strip(" .:!*…-–—|·•") for s in _SEGMENT.split(t)]
    return all(_widget_segment(s) for s in segments if s)


def _strip_links(t: str, anchors: set[str]) -> tuple[int, str]:
    """(number of links, the text left without links, bullet, leading date and separators)."""
    s, n = _MD_LINK.subn(r"\1", _BULLET.sub("", t))  # a markdown link counts; its anchor text stays
    s, k = _URL.subn(" ", s)
    n += k
    m = _ANCHOR.search(s)
    if m and m.group(1).lower() in anchors:
        s, n = s[:m.start()], n + 1
    s = _LEAD_DATE.sub("", s.strip())
    return n, s.strip(" \t-–—|:•·,;")


def _link_item(t: str, anchors: set[str]) -> str | None:
    """"pure" for a line of links only, "item" for a list entry that is a link's anchor
    text (title-like, not a sentence), None for anything else, such as prose with a URL."""
    n_links, rest = _strip_links(t, anchors)
    if not n_links or _is_sentence(rest):
        return None
    dated = _LEAD_DATE.match(_BULLET.sub("", t))
    # a figure is a fact, whether its source is a link, a bare web address or a label; a dated
    # entry ("Oct 28, 2025 – US strikes $80 billion deal (Source)") is another story's headline
    if holds_figure(rest) and not dated:
        return None
    listed = _BULLET.match(t) or dated
    # a "(Source)" ending is a link's label in a list of links, bulleted or dated; in "Ashby: Jane
    # Smith (Labour)" the repeated ending is what the line states
    labelled = (m := _ANCHOR.search(t)) is not None and m.group(1).lower() in anchors
    if labelled and n_links == 1 and not listed:
        return None
    words = _words(rest)
    if len(words) <= 3:  # a label's "(Source)" alone is no link: such a line counts only in a run
        return "pure" if _EXPLICIT_LINK.search(t) or _URL.search(t) else "item"
    return "item" if listed or _caps_share(words) >= 0.6 else None
