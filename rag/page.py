"""An HTML page's story among its blocks, and the date its metadata gives.

Scope: pure functions over a parsed page (BeautifulSoup), for :mod:`rag.reading`: which element
holds the story (an <article>, a <main>, or the block that holds most of the paragraphs), which
blocks beside or below it are the page's chrome (sidebars, lists of links to other stories), and
the publication date of its <meta> tags, JSON-LD or <time datetime>.
"""

from __future__ import annotations

import re

__all__ = ["CHROME", "HEADINGS", "after_the_story", "furniture", "lead_article", "links_mostly", "published_date",
           "story_block"]

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
CHROME = frozenset(("header", "footer", "aside", "nav"))


def story_block(soup):
    """On a page with no <article> or <main>: the innermost element that holds most (60%) of
    the page's paragraph text, which is where the story is, or None when the page has no
    paragraphs or they are spread over the page."""
    # each element's paragraph text, summed once from the paragraphs up: walking every subtree
    # again at each level of a deeply nested page took quadratic time (10,000 <div>s: 22 s)
    chars: dict[int, int] = {}
    for p in soup.find_all("p"):
        n = len(p.get_text(" ", strip=True))
        for parent in p.parents:
            chars[id(parent)] = chars.get(id(parent), 0) + n

    def paragraph_chars(tag) -> int:
        return chars.get(id(tag), 0)

    root = soup.body or soup
    total = paragraph_chars(root)
    if not total:
        return None
    block = root
    while True:
        inner = next((c for c in block.find_all(True, recursive=False)
                      if c.name not in CHROME and paragraph_chars(c) >= 0.6 * total), None)
        if inner is None:
            return None if block is root else block
        block = inner


def after_the_story(soup, story) -> list:
    """The blocks after a page's one story, when it is its only <article> (or its <main>, or the
    <div> that holds its paragraphs) and holds most (80%) of the page's paragraph text, that are mostly links: a
    related-posts list, a "more stories" box. Outside the story and below it, they are the
    page's, not the story's; a fact box, a table or a correction there stays, as does a block
    above the story (it may hold its headline or date)."""
    if story is None or len(soup.find_all("article")) > 1:  # (a page of <div>s: the block that holds its story)
        return []
    def chars(tag) -> int:
        return sum(len(p.get_text(" ", strip=True)) for p in tag.find_all("p"))
    total = chars(soup.body or soup)
    if not total or chars(story) < 0.8 * total:
        return []
    out, node = [], story
    while node is not None and node.name not in ("body", "html", "[document]"):
        out += [sib for sib in node.find_next_siblings() if sib.name not in ("script", "style") and links_mostly(sib)]
        node = node.parent
    return out


def links_mostly(tag) -> bool:
    """Half or more of ``tag``'s text, headings aside, is the text of links: a list of other
    stories, not a fact box, a table or a correction, which stay."""
    text = len(tag.get_text(" ", strip=True)) - sum(len(h.get_text(" ", strip=True)) for h in tag.find_all(HEADINGS))
    links = sum(len(a.get_text(" ", strip=True)) for a in tag.find_all("a"))
    return text > 0 and links >= 0.5 * text


_ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T\s]|$)")
_META_DATES = ("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
               "dc.date.issued", "dc.date", "date")
_JSON_LD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]+)"')


def published_date(soup) -> str | None:
    """The publication date the page's metadata states, as YYYY-MM-DD: a <meta> of the published
    time, JSON-LD's "datePublished", else the first <time datetime> of its one <article>."""
    def day(value: object) -> str | None:
        m = _ISO_DAY.match(str(value or ""))
        return "-".join(m.groups()) if m and 1 <= int(m[2]) <= 12 and 1 <= int(m[3]) <= 31 else None

    metas = {}
    for meta in soup.find_all("meta"):
        key = str(meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if key in _META_DATES and key not in metas:
            metas[key] = meta.get("content")
    for key in _META_DATES:
        if key in metas and (found := day(metas[key])):
            return found
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        if (m := _JSON_LD_DATE.search(script.get_text())) and (found := day(m.group(1))):
            return found
    articles = soup.find_all("article")
    time = articles[0].find("time", attrs={"datetime": True}) if len(articles) == 1 else None
    return day(time["datetime"]) if time is not None else None


def lead_article(main):
    """The <article> inside ``main`` that holds most (60%) of its paragraph text, else the
    block of ``main`` that does (a "post" <div> beside a sidebar), or None."""
    if main is None:
        return None

    def chars(tag) -> int:
        return sum(len(p.get_text(" ", strip=True)) for p in tag.find_all("p"))
    total = chars(main)
    if not total:
        return None
    for article in main.find_all("article"):
        if chars(article) >= 0.6 * total:
            return article
    return next((c for c in main.find_all(True, recursive=False) if c.name not in CHROME and chars(c) >= 0.6 * total),
                None)


# the words sites across the web put in the class or id of page furniture (the "unlikely
# candidates" of Mozilla's Readability, trimmed to what names furniture alone): a cookie banner,
# a share bar, a related-stories list, a newsletter box, an advert, a menu, a breadcrumb trail
_FURNITURE = re.compile(r"(?:^|[-_\s])(?:cookies?|consent|gdpr|breadcrumbs?|share|sharing|social|related|newsletter"
                        r"|subscribe|signup|sidebar|advert|adverts|advertisement|ads?|promo|comments?|footer|menu"
                        r"|nav|navbar|navigation)(?:$|[-_\s])", re.IGNORECASE)


def furniture(soup, story) -> list:
    """The elements a page marks as furniture by their class or id (:data:`_FURNITURE`), outermost
    first, on a page whose story is no <article> or <main> (their own markup says where the story
    is). Never the story nor what holds it, nor an element holding a heading, a <time>, a
    <table> or a fifth of the page's paragraph text: a "share" class on a block that holds the
    headline keeps it."""
    if soup.find(["article", "main"]) is not None:
        return []
    text = len(soup.get_text(" ", strip=True)) or 1
    out: list = []
    taken: set[int] = set()
    # by identity: a Tag compares equal by its whole subtree, which recurses as deep as the page
    holds_story = {id(story)} | {id(p) for p in story.parents} if story is not None else set()
    for tag in soup.find_all(True):
        if tag.name in ("html", "body") or any(id(t) in taken for t in tag.parents):
            continue
        marks = " ".join([str(tag.get("id") or ""), *(tag.get("class") or [])])
        if not marks.strip() or not _FURNITURE.search(marks):
            continue
        if id(tag) in holds_story:
            continue
        if tag.find([*HEADINGS, "time", "table"]) is not None or len(tag.get_text(" ", strip=True)) > 0.2 * text:
            continue
        out.append(tag)
        taken.add(id(tag))
    return out
