"""A story's date read from a meta line near its headline: a short line of fields ("Finance |
May 15, 2025 | By Henrietta Blom", "Published March 10, 2025 | Updated 6:42 a.m.") one of which
is a full date. The date is shown with every passage and backs "today" or "on Tuesday".

Every example is written for these tests, across domains (finance, politics, sport, farming,
culture, wildfire, technology, transport, science) and layouts (text, markdown, HTML). Each
test of a meta line failed before CLEANER_VERSION 8 (see the cleaning report); the guards
pin what must not date a story.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest import DATE_STAMP, clean, explain, load_file
from rag.reading import Layout

_LEAD = "The Central Bank of Valdoria cut its main policy rate by 25 basis points to 3.75% on Thursday."
_BODY = "The monetary policy committee voted 5-2 for the cut, the minutes showed."


def _story(*top: str, lead: str = _LEAD, head: str = "Valdorian Central Bank Cuts Rates for a Second Time") -> str:
    return "\n".join([head, *top]) + f"\n\n{lead}\n\n{_BODY}\n"


@pytest.mark.parametrize("meta, date", [
    ("Finance | May 15, 2025 | By Henrietta Blom", "2025-05-15"),  # section, date, byline
    ("Published March 10, 2025 | Updated 6:42 a.m.", "2025-03-10"),  # a labelled date and a time
    ("Culture | Lakeshore, 28 September 2025 | Noa Fischer", "2025-09-28"),  # place and date in one field
    ("Match report | Saturday, October 19, 2024", "2024-10-19"),  # weekday
    ("By Karen Lindqvist | March 13, 2025", "2025-03-13"),
    ("Science · 2025-03-10 · 4 min read", "2025-03-10"),  # ISO date, reading time
    ("By Kevin Osei, Senior Business Reporter · October 15, 2025 · 5 min read", "2025-10-15"),
    ("Posted on: Tue, Jan. 14, 2026 at 9:05 a.m. ET", "2026-01-14"),
    ("Transport — Date: 3 June 2025 — Kestrel Field", "2025-06-03"),
    ("Posted on 5th November 2026 by Jane Roe", "2026-11-05"),  # who posted it, after the date
    ("Published: 2026-11-21T14:32:05+01:00", "2026-11-21"),  # ISO 8601 with a time of day
    # many fields: longer than a sentence-free line of one field may be
    ("Words by Ines Navarro · Published: 2026-05-18 09:47 CEST · Updated: 2026-05-18 13:20 CEST · 5 min read",
     "2026-05-18"),
])
def test_a_meta_line_under_the_headline_dates_the_story_and_stays_text(meta: str, date: str):
    (doc,) = clean(_story("By Ada Moss", meta) if not meta.startswith("By") else _story(meta), "rates.txt")
    assert doc.date == date
    assert meta in doc.clean_text  # a byline, a section, an update time are facts: the line stays


def test_a_dateline_under_a_byline_dates_a_farm_report():
    text = ("PRAIRIE COUNTY CROP REPORT: Dry summer cuts wheat harvest\nFiled by Owen Mercer, Farm Desk\n"
            "HALVERSON, Sept. 22, 2025\n\nWinter wheat yields averaged 41 bushels per acre, down from 52 last year.\n")
    (doc,) = clean(text, "crops.txt")
    assert doc.date == "2025-09-22" and "HALVERSON, Sept. 22, 2025" in doc.clean_text


def test_markdown_meta_lines_in_emphasis_date_the_story():
    fire = ("# Cedar Ridge Fire Grows to 12,400 Acres\n\n*By Owen Tate | Mountain Valley News | August 17, 2024*\n\n"
            "The fire had burned 12,400 acres by Saturday morning and was 35% contained, officials said.\n")
    museum = ("# Ashcombe Museum Buys a Lost Harbour Scene\n**Arts desk** — Published 4 April 2025\n\n"
              "The museum paid €8.2 million for the painting, its most expensive purchase.\n")
    assert [clean(t, "a.md")[0].date for t in (fire, museum)] == ["2024-08-17", "2025-04-04"]
    assert "Mountain Valley News" in clean(fire, "a.md")[0].clean_text


def test_a_pages_meta_spans_date_the_story(tmp_path: Path):
    # a page's <span>s make one line without separators: a byline, then the date
    page = ("<html lang='en'><body><article><h1>Quillfield Health Says Hackers Stole Customer Data</h1>"
            "<div class='meta'><span>Written by Priyanka Sethi</span>\n<span>November 7, 2024</span>\n"
            "<span>4 min read</span></div>"
            "<p>Quillfield Health said on Wednesday that hackers stole data on about 2.7 million customers.</p>"
            "</article></body></html>")
    path = tmp_path / "breach.html"
    path.write_text(page, encoding="utf-8")
    (doc,) = load_file(path, "breach.html")[1]
    assert doc.date == "2024-11-07" and "Written by Priyanka Sethi" in doc.clean_text


def test_a_signed_meta_line_under_a_standfirst_dates_the_story(tmp_path: Path):
    page = ("<html><body><article><h1>Harlow Narrows Bridge Opens to Traffic</h1>"
            "<p>The $1.42 billion crossing replaces a 1961 span that engineers had rated deficient.</p>"
            "<p>By Grace Lindholm | Sept. 14, 2025</p>"
            "<p>Cars began crossing the new bridge just after 5 a.m. on Saturday, hours after the ribbon was cut.</p>"
            "</article></body></html>")
    path = tmp_path / "bridge.html"
    path.write_text(page, encoding="utf-8")
    assert load_file(path, "bridge.html")[1][0].date == "2025-09-14"


def test_a_meta_line_above_the_headline_dates_the_story_but_does_not_title_it():
    text = "Finance | May 15, 2025 | By Henrietta Blom\n" + _story()
    (doc,) = clean(text, "rates.txt")
    assert (doc.title, doc.date) == ("Valdorian Central Bank Cuts Rates for a Second Time", "2025-05-15")
    assert "By Henrietta Blom" in doc.clean_text


def test_numeric_meta_dates_are_read_the_way_the_file_writes_its_dates(tmp_path: Path):
    # "28.04.2025" elsewhere in the file proves day first (rag.line_kinds.numeric_day_first)
    text = _story("Sport · 04.03.2025 · By Ana Ruiz", lead="The season ran from 28.04.2025 to 30.09.2025, the league said.")
    assert clean(text, "a.txt")[0].date == "2025-03-04"
    assert clean(_story("Sport · 04.03.2025 · By Ana Ruiz"), "a.txt")[0].date == "2025-04-03"  # undecided: month first
    path = tmp_path / "p.html"
    path.write_text("<html lang='de'><body><article><h1>Obstbauern melden eine Rekordernte</h1>"
                    "<p>Wirtschaft | 04.03.2025 | Von Anna Schmidt</p>"
                    "<p>Die Obstbauern im Tal ernteten in dieser Saison 41.000 Tonnen Äpfel.</p></article></body></html>",
                    encoding="utf-8")
    assert load_file(path, "p.html")[1][0].date == "2025-03-04"


# --- guards ------------------------------------------------------------------------------


def test_a_date_in_the_lead_sentence_does_not_date_a_story_a_meta_line_dates():
    lead = "On May 12, 2025, the Central Bank of Valdoria said it would cut its main rate by 25 basis points."
    (doc,) = clean(_story("Finance | May 15, 2025 | By Henrietta Blom", lead=lead), "rates.txt")
    assert doc.date == "2025-05-15"
    (doc,) = clean(_story("By Henrietta Blom", lead=lead), "rates.txt")
    assert doc.date is None  # a sentence that mentions a date is no date line


@pytest.mark.parametrize("top", [
    ["Politics | Updated May 3, 2025 | Published May 1, 2025"],
    ["By Caroline Deveraux", "Updated: June 2, 2025 9:10 a.m.", "Published: May 1, 2025"],
    ["Updated May 3, 2025", "By Caroline Deveraux · May 1, 2025"],
])
def test_a_story_with_two_meta_dates_takes_the_published_one(top: list[str]):
    assert clean(_story(*top), "vote.txt")[0].date == "2025-05-01"


def test_an_updated_date_alone_still_dates_the_story():
    assert clean(_story("By Caroline Deveraux | Updated June 2, 2025"), "vote.txt")[0].date == "2025-06-02"


@pytest.mark.parametrize("line", [
    "Voting closes Friday, March 7, 2025",  # a standfirst that mentions a date: prose, not fields
    "Deadline extended to March 3, 2025",
    "The council met on March 3, 2025.",
    "• October 31, 2025 – Ferry line adds winter sailings (Source)",  # another story's headline in a list
])
def test_a_line_that_mentions_a_date_is_no_meta_line(line: str):
    (doc,) = clean(_story("By Ada Moss", line), "a.txt")
    assert doc.date is None and line in doc.clean_text


def test_a_timeline_entry_after_the_lead_does_not_date_the_story():
    text = _story(lead=f"{_LEAD}\nMarch 1, 2031 — Consultation opens\nJune 30, 2031 — Decision due")
    assert clean(text, "a.txt")[0].date is None


def test_a_pure_date_line_is_still_a_date_stamp_and_the_first_dates_the_story():
    text = _story("May 14, 2025", "Finance | May 15, 2025 | By Henrietta Blom")
    assert next(d.reason for d in explain(text) if d.text == "May 14, 2025") == DATE_STAMP
    assert clean(text, "a.txt")[0].date == "2025-05-14"


def test_a_numeric_date_reads_the_way_the_same_date_with_its_months_name_does():
    """"09.02.2026" on a page that also says "9 February 2026" is the 9th of February, though
    the page declares bare English (no region), which decides nothing."""
    lead = "The new tariff took effect at midnight on {}, the ministry said in a statement."
    story = _story("First published 09.02.2026 - 08:30 | By Ada Moss", lead=lead.format("9 February 2026"))
    (doc,) = clean(story, "rates.txt", Layout(lang="en"))
    assert doc.date == "2026-02-09"
    (american,) = clean(_story("First published 09.02.2026 - 08:30 | By Ada Moss", lead=lead.format("September 2, 2026")),
                        "rates.txt", Layout(lang="en"))
    assert american.date == "2026-09-02"


def test_a_short_date_line_with_a_time_range_dates_the_document():
    # a meeting's date line: its times are figures, not words, so the line is short
    text = ("Harbour Users Group: Minutes\nTuesday 10 March 2026, 14:00–16:30\nPresent:\n"
            "The group agreed to move the winter berth rota to a four-week cycle from April.\n")
    assert clean(text, "minutes.txt")[0].date == "2026-03-10"
