"""Held-out trial 8's general findings (a running story, a press release, a transcript): wire and
press datelines never dated their stories, a second label above a release's headline titled it,
a contact line and a caption credited "Agency/Name" started second articles. Examples written
for these tests."""

from __future__ import annotations

import pytest

from rag.dating import dateline_date, show_date
from rag.grounding import date_forms
from rag.ingest import clean
from rag.prompt import format_passage
from rag.types import Passage

_LEAD = "the harbour board said on Tuesday, after a vote of its members that ended a year of talks."


@pytest.mark.parametrize("lead, date", [
    (f"PORT ELLAN, 4 June 2026 - The ferry terminal will close for repairs, {_LEAD}", "2026-06-04"),
    (f"ASHBY, Ore., September 12, 2025 — The ferry terminal will close, {_LEAD}", "2025-09-12"),
    (f"**PORT ELLAN, 4 June 2026** — The ferry terminal will close, {_LEAD}", "2026-06-04"),
    (f"PORT ELLAN, Orla County, June 4 (Coast Wire) - The ferry terminal will close, {_LEAD}", "--06-04"),
    (f"PORT ELLAN, 4 June (Coast Wire) -- The ferry terminal will close, {_LEAD}", "--06-04"),
])
def test_a_dateline_dates_its_story(lead, date):
    text = f"Ferry Terminal To Close For Repairs\n\n{lead}\n\nWork starts in the autumn and lasts six weeks.\n"
    (doc,) = clean(text, "ferry.txt")
    assert doc.date == date
    assert dateline_date(lead) == date


@pytest.mark.parametrize("line", [
    "Voting closes Friday, June 4, 2026 - the clerk said the count starts at ten.",  # a sentence's date
    "PORT ELLAN (Coast Wire) - The ferry terminal will close.",  # a dateline without a date
    "The ferry, June 4 - a note.",
])
def test_no_dateline(line):
    assert dateline_date(line) is None


def test_a_full_date_line_outranks_a_datelines_day_without_its_year():
    text = ("Ferry Terminal To Close For Repairs\n\nPublished June 5, 2026\n\n"
            f"PORT ELLAN, June 4 (Coast Wire) - The ferry terminal will close, {_LEAD}\n")
    (doc,) = clean(text, "ferry.txt")
    assert doc.date == "2026-06-05"


def test_a_day_without_its_year_reads_as_a_day():
    assert show_date("--06-04") == "June 4" and show_date("2026-06-04") == "2026-06-04" and show_date(None) == ""
    assert "June 4" in date_forms("--06-04")
    p = Passage("f:0", "f.txt", "Ferry Terminal To Close", "--06-04", "The terminal will close.", 0, 24, 0.5, 1)
    assert "(Ferry Terminal To Close, June 4)" in format_passage(1, p) and "--06" not in format_passage(1, p)


def test_two_labels_above_a_release_are_passed_to_its_headline():
    text = ("PRESS RELEASE\nFOR IMMEDIATE RELEASE\n\nOrla Ferries orders two electric ships for its island routes\n\n"
            f"PORT ELLAN, 4 June 2026 - Orla Ferries today ordered two electric ships, {_LEAD}\n")
    (doc,) = clean(text, "release.txt")
    assert doc.title == "Orla Ferries orders two electric ships for its island routes"
    assert doc.date == "2026-06-04"


def test_a_contact_line_or_a_credited_caption_starts_no_article():
    body = "\n\n".join(f"Paragraph {i} of the story says the terminal closes for repairs in the autumn, the board said, "
                       "and that passengers will use the north quay while the work goes on for six weeks." for i in range(8))
    for tail in ("Media contact: Jo Roe, Head of Communications, press@orlaferries.example, +44 20 5550 1234",
                 "Cars Queue For The Last Ferry Before The Works Begin In October. Photo: Coast Wire/Ann Lee"):
        docs = clean(f"Ferry Terminal To Close For Repairs\n\n{body}\n\n{tail}\n", "ferry.txt")
        assert len(docs) == 1, tail
        assert tail in "".join(docs[0].text[a:b] for a, b in docs[0].spans)  # kept as the story's text


def test_a_title_tags_site_name_is_not_the_headlines():
    from rag.reading import html_parts

    paras = "".join(f"<div class='para'>Paragraph {i}: the ferry terminal will close for repairs, {_LEAD}</div>"
                    for i in range(4))
    page = ("<html><head><title>Ferry terminal to close for repairs | Coast Daily News</title></head><body>"
            f"<div class='logo'>Coast Daily News</div><div class='story'>{paras}</div></body></html>")
    text, _ = html_parts(page)
    assert text.startswith("Ferry terminal to close for repairs\n")
    # a bar inside a headline, and a site the page does not name again, stay
    kept = page.replace("<div class='logo'>Coast Daily News</div>", "")
    assert html_parts(kept)[0].startswith("Ferry terminal to close for repairs | Coast Daily News\n")


def test_a_day_the_question_names_is_stated_only_as_that_day():
    """"Who led the rescue according to the report on March 3?" was answered from the 14 March
    report, whose "3 men" stood for the question's "3"."""
    from rag.dating import days_named
    from rag.support import coverage

    assert days_named("the 14 March report, and Sept. 22, 2025") == {(3, 14), (9, 22)}
    assert days_named("within 18 weeks in May 2026") == set()
    q = "According to the first report on March 3, who led the rescue?"
    assert coverage(q, "Ferry Rescue Ends\n2026-03-14 March 14, 2026\nDury led the rescue of the 3 men.").numbers == 0
    assert coverage(q, "Ferry Rescue Begins\nMarch 3\nOkonjo led the rescue.").numbers == 1
    assert coverage(q, "Ferry Rescue\n\nOn March 3 Okonjo led the rescue.").numbers == 1
    # the day's number still counts as itself where it is no day ("the 14 percent rise")
    assert coverage("What did the 14 March report say of the 14 percent rise?",
                    "Fares\n2026-03-14 March 14, 2026\nFares rose 14 percent.").numbers == 1


def test_a_page_of_divs_drops_the_blocks_its_classes_mark_as_furniture():
    """A page without <article>, <main> or <p> kept its cookie banner, menu, share bars, related
    stories and footer as story text, and was dated by nothing but its own date line, which sat
    too far below them."""
    from rag.reading import html_parts

    paras = "".join(f"<div class='para'>Paragraph {i}: the ferry terminal will close for repairs, {_LEAD}</div>"
                    for i in range(4))
    page = ("<html><head><title>Ferry terminal to close</title></head><body>"
            "<div id='cookie-consent' class='cookie-banner'><div>We use cookies to measure traffic.</div>"
            "<div class='btn'>Accept all</div></div>"
            "<div class='site-nav'><div>Home</div><div>Ferries</div><div>Opinion</div></div>"
            "<div class='article'><div class='headline'>Ferry terminal to close for six weeks</div>"
            "<div class='dateline'>Published June 4, 2026</div>"
            "<div class='share-bar'><div>Share on Facebook</div><div>Copy link</div></div>"
            f"<div class='body'>{paras}</div></div>"
            "<div class='related'><div>Related stories</div><div>Bridge tolls rise again</div></div>"
            "<div class='footer-links'><div>About us</div><div>Contact</div></div>"
            "<div class='social-hero'><h2>Orla Ferries wins regional award</h2></div>"  # a heading stays
            "</body></html>")
    text, dropped = html_parts(page)
    for gone in ("We use cookies", "Opinion", "Copy link", "Bridge tolls rise again", "About us"):
        assert gone not in text, gone
    for kept in ("Ferry terminal to close for six weeks", "Published June 4, 2026", "Paragraph 3:",
                 "Orla Ferries wins regional award"):
        assert kept in text, kept
    assert len(dropped) == 5
    # a page that marks its story with <article> keeps its own rules: nothing goes by class
    marked = page.replace("<div class='article'>", "<article>").replace("</div></div><div class='related'>",
                                                                        "</div></article><div class='related'>")
    from bs4 import BeautifulSoup

    from rag.page import furniture

    soup = BeautifulSoup(marked, "html.parser")
    assert furniture(soup, soup.find("article")) == []
    soup = BeautifulSoup(page, "html.parser")
    assert len(furniture(soup, None)) == 5
