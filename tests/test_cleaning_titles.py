"""A document's title and where a file's articles split: captions and bylines inside a story,
markdown heading marks, a page's cookie banner, a press release's label.

Every example is written for these tests, across several domains (sport, science, courts,
transport, culture, business). Each failed before its fix (see the cleaning report).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest import clean, load_file
from rag.line_kinds import is_byline, is_caption, is_headline

_BODY = [  # about 700 characters of a story's prose, so a long line standing alone may split
    "The county council approved the new cycle lanes on Tuesday after a three-hour debate, the clerk said.",
    "Work on the first section, along the river road between the bridge and the station, begins in March.",
    "Shop owners on the high street had asked for more loading bays, and the plan now adds six of them.",
    "The council's transport chair said the lanes would be finished before the summer holidays next year.",
    "Residents can comment on the second section until the end of January, on paper or at the town hall.",
    "A survey last spring found that four in ten households owned a bicycle but few rode it to work.",
    "Cycling groups welcomed the vote but said the lanes should be separated from traffic by kerbs.",
]
_AFTER = ["Opponents said the lanes would slow buses on the river road at peak times, and asked for a review.",
          "The council will publish traffic counts every three months once the first section opens."]


def _story(middle: str, head: str = "River Road Gets Protected Cycle Lanes After Council Vote") -> str:
    return "\n\n".join([head, *_BODY, middle, *_AFTER]) + "\n"


@pytest.mark.parametrize("caption", [
    "*Image: Cyclists Ride Along the River Road Near the Old Stone Bridge at Dawn (Archive)*",  # italic, markdown
    "[Photo: Volunteers Paint the First Cycle Lane Markings on the River Road in Kingsford]",
    "Photo: Dr. Ana Ruiz (left) and Professor Tom Hale at the Kingsford Transport Lab. Credit: City Archive",
    "Photo caption: Councillor Maria Olsen Speaks to Residents Outside the Town Hall on Tuesday",
    "Picture: The Kingsford Rowing Club Crew Celebrates Its Third Regatta Win in a Row",
    "[The New Kestrel Field Terminal Seen From the Control Tower on Its Opening Day]",
])
def test_a_caption_inside_a_story_starts_no_article_and_stays_text(caption: str):
    docs = clean(_story(caption), "story.md")
    assert len(docs) == 1 and docs[0].title == "River Road Gets Protected Cycle Lanes After Council Vote"
    assert caption in docs[0].clean_text  # a caption is text: it stays in the story
    assert is_caption(caption) and not is_headline(caption)


def test_a_byline_with_a_date_under_it_starts_no_article():
    # a court story: the kicker above the byline is body text, so a byline with a date under it
    # used to look like a second article's headline
    text = ("Courts\n\nBy Rosa Castellano, Legal Affairs Correspondent\nMarch 6, 2025\n\n"
            "The appeals court upheld the fine of $1.2 million against the ferry operator on Thursday.\n\n"
            "The operator said it would take the case to the supreme court.\n")
    (doc,) = clean(text, "court.txt")
    assert doc.date == "2025-03-06" and "By Rosa Castellano, Legal Affairs Correspondent" in doc.clean_text
    for line in ("By Rosa Castellano, Aviation Correspondent", "Written by Priyanka Sethi", "By Jan van Hoorn | Staff",
                 "Von Anna Schmidt, Berlin"):
        assert is_byline(line) and not is_headline(line)
    for line in ("By the Numbers: How the City Spends Its Budget", "Bypass Road Opens to Traffic Two Years Late"):
        assert not is_byline(line)


def test_a_byline_in_a_page_starts_no_article(tmp_path: Path):
    page = ("<html><body><div class='cookie'>We use cookies to improve your experience.</div><main><article>"
            "<p>Transport</p><h1>Rail regulator fines Northline over late trains</h1>"
            "<p>By <a href='/a/rc'>Rosa Castellano</a>, Transport Correspondent</p><p><time>March 6, 2025</time></p>"
            "<p>The rail regulator fined Northline 4 million pounds on Thursday for running late trains.</p>"
            "<p>Northline said it would not appeal and had hired 40 more drivers this year.</p></article></main></body></html>")
    path = tmp_path / "rail.html"
    path.write_text(page, encoding="utf-8")
    (doc,) = load_file(path, "rail.html")[1]
    assert doc.date == "2025-03-06" and "Rosa Castellano, Transport Correspondent" in doc.clean_text


@pytest.mark.parametrize("heading, title", [
    ("# Orchestra names a new conductor after a two-year search", "Orchestra names a new conductor after a two-year search"),
    ("## Rivers rise across the north after a week of rain ##", "Rivers rise across the north after a week of rain"),
    ("### Biotech startup raises $40 million for its malaria vaccine", "Biotech startup raises $40 million for its malaria vaccine"),
    ("**Ferry line adds two winter sailings to the islands**", "Ferry line adds two winter sailings to the islands"),
])
def test_a_markdown_headings_marks_and_emphasis_are_not_in_a_sentence_case_title(heading: str, title: str):
    text = f"{heading}\n\nThe news was announced on Monday, the organisation said in a statement.\n"
    (doc,) = clean(text, "news.md")
    assert doc.title == title
    assert text[doc.spans[0][0]:doc.spans[-1][1]].startswith(heading)  # the text itself keeps its offsets


_BANNER = ("<div class='cookie-banner'>We use cookies to improve your experience. By continuing you agree."
           " <button>Accept all</button></div>")


@pytest.mark.parametrize("story, title", [
    ("<main><article><p class='kicker'>Science</p><h1>Chemists turn carbon dioxide into fuel at lower heat</h1>"
     "<p>Chemists at Ridgeway University have found a catalyst that works at 150 degrees Celsius.</p></article></main>",
     "Chemists turn carbon dioxide into fuel at lower heat"),
    # no <h1>: the story's own first heading, not the <title> line or the banner
    ("<article><h2>Harbour ferry adds a night sailing for the summer</h2>"
     "<p>The harbour ferry will run a sailing at 11 pm every night from June to August, the operator said.</p>"
     "<h2>Fares</h2><p>Night fares will cost the same as day fares, the operator said in a statement.</p></article>",
     "Harbour ferry adds a night sailing for the summer"),
    # the page's <h1> is its site name outside the story: the story's first line titles it
    ("<h1>Valley Gazette</h1><main><p>The valley's only cinema will close in May after 62 years, its owners said.</p>"
     "<p>A community group hopes to buy the building.</p></main>",
     "The valley's only cinema will close in May after 62 years, its owners said."),
])
def test_a_pages_cookie_banner_outside_its_story_is_never_the_title(tmp_path: Path, story: str, title: str):
    path = tmp_path / "page.html"
    path.write_text(f"<html><head><title>Site | Section</title></head><body>{_BANNER}{story}</body></html>",
                    encoding="utf-8")
    text, docs = load_file(path, "page.html")
    assert [d.title for d in docs] == [title]
    assert "We use cookies" in text  # nothing is dropped: the banner is only not the title


@pytest.mark.parametrize("label", ["NEWS RELEASE", "PRESS RELEASE", "FOR IMMEDIATE RELEASE", "MEDIA ADVISORY"])
def test_a_press_releases_label_is_not_its_title_but_stays_text(label: str):
    text = (f"{label}\nEmbargoed until 9:00 a.m., Monday, June 9, 2025\n\n"
            "Ridgeway University chemists turn carbon dioxide into methanol at lower temperature\n\n"
            "RIDGEWAY - Chemists at Ridgeway University have developed a catalyst that converts carbon dioxide "
            "into methanol at 150 degrees Celsius.\n\nThe work is published today in the journal Chemical Frontiers.\n")
    (doc,) = clean(text, "release.txt")
    assert doc.title == "Ridgeway University chemists turn carbon dioxide into methanol at lower temperature"
    assert label in doc.clean_text and "Embargoed until" in doc.clean_text


def test_a_caption_above_the_headline_is_not_the_title():
    # a markdown file that opens with its picture's caption, then its heading
    text = ("*Photo: The Kingsford Rowing Club crew on the river at dawn. Credit: Club archive*\n\n"
            "# Kingsford crew wins its third regatta in a row\n\nThe crew beat six boats on Saturday.\n")
    (doc,) = clean(text, "rowing.md")
    assert doc.title == "Kingsford crew wins its third regatta in a row" and "Club archive" in doc.clean_text


def test_a_short_capitals_line_without_a_headline_below_stays_the_title():
    # a sports results list: "RESULTS" then prose; and a capitalised headline of five words or more
    (doc,) = clean("RESULTS\n\nThe home side won 3-1 in front of a crowd of 12,000 on Saturday.\n", "r.txt")
    assert doc.title == "RESULTS"
    (doc,) = clean("CITY COUNCIL VOTES TO CLOSE OLD BRIDGE\n\nThe vote was 7-2, the clerk said.\n", "b.txt")
    assert doc.title == "CITY COUNCIL VOTES TO CLOSE OLD BRIDGE"


@pytest.mark.parametrize("headline", ["By Train Across Europe", "By Any Means Necessary", "By The Numbers",
                                      "By Land And Sea, Families Keep Coming"])
def test_a_headline_that_opens_with_by_is_no_byline(headline: str):
    """A byline's name holds no function word; a title-cased headline does ("The", "Any", "Across")."""
    assert not is_byline(headline)
    text = (f"Night Trains Return\n\nMay 3, 2026\n\nRail travel rose 5% in 2025 as night trains returned. "
            f"Operators added 12 routes.\n\n{headline}\n\nMay 4, 2026\n\nThe central bank kept its rate at 4% "
            f"on Wednesday, citing inflation. Officials met twice.")
    docs = clean(text, "x.txt")
    assert [(d.title, d.date) for d in docs] == [("Night Trains Return", "2026-05-03"), (headline, "2026-05-04")]


def test_a_byline_with_a_particle_or_two_authors_is_still_one():
    assert is_byline("By Jan van der Berg") and is_byline("By Ada Moss and Ben Li, Staff Writers")


_GAZETTE = """# The Harlow Gazette

[Home](/) | [News](/news) | [Sport](/sport) | [Contact](/contact)

## Harlow council approves £2.1m library refit after a three-hour debate

*By Ada Moss | 3 May 2026*

Harlow District Council approved a £2.1 million refit of the central library on Tuesday, after a debate in which six councillors spoke against it.

The library will close for eight months from June while a children's floor is added.
"""


def test_a_sites_name_as_a_markdown_heading_above_its_menu_is_not_the_title():
    (doc,) = clean(_GAZETTE, "library.md")
    assert doc.title == "Harlow council approves £2.1m library refit after a three-hour debate"
    assert doc.date == "2026-05-03"  # the byline's date, now near the headline
    assert "The Harlow Gazette" in doc.clean_text  # the site's name stays text


def test_a_short_markdown_title_above_its_sections_stays_the_title():
    """No menu between them: "# Annual Review" heads a report whose sections are "##" headings."""
    text = ("# Annual Review\n\nThe trust cared for 41 historic buildings this year and opened three to the public.\n\n"
            "## Visitor numbers rose across all our sites\n\nVisits rose 12% to 318,000, led by the mill museum.\n")
    (doc,) = clean(text, "review.md")
    assert doc.title == "Annual Review"


_BARLEY = ("*Farming* · *Eastmoor*\n\n# Dry autumn leaves Eastmoor's barley harvest a fifth down\n\n"
           "Barley growers in Eastmoor harvested 21% less grain than last year after the driest autumn since 1995.\n")
_TRAM = ("Westmere Evening Post\nMenu\nNews\nSport\nWhat's On\nJobs\nSign in\nSubscribe for £2\n\nHome > News > Transport\n\n"
         "Westmere tram extension opens to passengers three months early\n\nBy Lena Ortiz\n\n"
         "The 4.2 km tram extension to Westmere Park opened on Sunday, three months ahead of schedule, the operator said.\n")
_KEEPER = ("# The Kestrel Courier\n\n## Kestrel Rangers sign goalkeeper Ana Brisco on a three-year deal\n\n"
           "*Published 3 July 2026 | By Tom Reyes*\n\nKestrel Rangers have signed goalkeeper Ana Brisco from Porto Azul "
           "for an undisclosed fee.\n\n*Follow The Kestrel Courier on X for every transfer.*\n")


@pytest.mark.parametrize("text, name, title, date", [
    (_BARLEY, "barley.md", "Dry autumn leaves Eastmoor's barley harvest a fifth down", None),  # section · place
    (_TRAM, "tram.txt", "Westmere tram extension opens to passengers three months early", None),  # a menu, one per line
    # a site's name as "#", right above a "##" headline signed under it
    (_KEEPER, "keeper.md", "Kestrel Rangers sign goalkeeper Ana Brisco on a three-year deal", "2026-07-03"),
])
def test_a_label_a_menu_or_a_sites_name_above_the_headline_is_no_title(text: str, name: str, title: str,
                                                                      date: str | None):
    (doc,) = clean(text, name)
    assert doc.title == title and doc.date == date


def test_a_short_headline_over_its_subtitle_and_byline_stays_the_title():
    """Review 6: "# Rates Rise Again" over "## What it means for your mortgage" and a byline: the
    short heading is the headline, not a site's name, which a page names again further down."""
    text = ("# Rates Rise Again\n\n## What it means for your mortgage this winter\n\n*By Ada Moss | 3 May 2026*\n\n"
            "The central bank raised its main rate to 4.5% on Thursday, the third rise this year.\n")
    (doc,) = clean(text, "rates.md")
    assert doc.title == "Rates Rise Again"
    # an author and a role under a short headline are no menu set one entry per line
    (doc,) = clean("Tram Fares Frozen\nAda Moss\nTransport Editor\n\nFares on the city's trams will stay at £2 "
                   "until April, the operator said on Monday.\n", "fares.txt")
    assert doc.title == "Tram Fares Frozen"
