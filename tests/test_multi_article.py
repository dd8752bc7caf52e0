"""Files that hold several stories, and numeric dates whose order the file itself decides.

Every example is written for these tests.
"""

from __future__ import annotations

from pathlib import Path

from rag.ingest import DATE_STAMP, clean, explain, load_file


def _page(tmp_path: Path, body: str, lang: str = "en") -> Path:
    path = tmp_path / "page.html"
    path.write_text(f"<html lang='{lang}'><head><title>Valley Gazette</title></head><body>{body}</body></html>",
                    encoding="utf-8")
    return path


_ORCHARD = ("<h2>Orchard Growers Report a Record Apple Harvest</h2><time>May 6, 2025</time>"
            "<p>Growers in the valley picked 41,000 tonnes of apples this season, the growers' union said.</p>"
            "<p>A warm spring and few frosts helped the crop, the union's chair told reporters.</p>")
_LIBRARY = ("<h2>Town Library Extends Its Opening Hours</h2><time>May 7, 2025</time>"
            "<p>The town library will open until 9 pm on weekdays from June, the council said.</p>"
            "<p>Volunteers will staff the reading room on Sunday afternoons.</p>")


def test_two_article_elements_of_a_page_are_two_stories_with_their_own_title_and_date(tmp_path: Path):
    path = _page(tmp_path, f"<h1>Latest News</h1><article>{_ORCHARD}</article><article>{_LIBRARY}</article>")
    orchard, library = load_file(path, "page.html")[1]
    assert (orchard.title, orchard.date) == ("Orchard Growers Report a Record Apple Harvest", "2025-05-06")
    assert (library.title, library.date) == ("Town Library Extends Its Opening Hours", "2025-05-07")
    assert "41,000 tonnes" in orchard.clean_text and "library" not in orchard.clean_text
    assert "until 9 pm" in library.clean_text and "apples" not in library.clean_text
    # an <article> without a paragraph of its own (a list of links) is no story of its own
    path = _page(tmp_path, f"<article>{_ORCHARD}</article><article><h3>More from the valley</h3>"
                           "<ul><li>Fair dates set</li><li>School roof fixed</li></ul></article>")
    assert len(load_file(path, "page.html")[1]) == 1


def test_a_related_story_in_an_article_element_is_its_own_story(tmp_path: Path):
    main = ("<h1>Bridge Repairs Close the Valley Road for Two Weeks</h1><p>By Ada Moss, 3 May 2025</p>"
            "<p>The valley road will close for two weeks from Monday while crews repair the bridge.</p>")
    # the related story sits inside the main one, whose correction follows it
    path = _page(tmp_path, f"<main><article>{main}<section><article>{_LIBRARY}</article></section>"
                           "<footer><p>Correction: an earlier version gave the closure as ten days.</p></footer>"
                           "</article></main>")
    bridge, library = load_file(path, "page.html")[1]
    # dated by its own byline's date (a meta line, CLEANER_VERSION 8), never by the related story's
    assert bridge.title == "Bridge Repairs Close the Valley Road for Two Weeks" and bridge.date == "2025-05-03"
    assert "earlier version gave the closure" in bridge.clean_text and "library" not in bridge.clean_text
    assert (library.title, library.date) == ("Town Library Extends Its Opening Hours", "2025-05-07")
    assert "earlier version" not in library.clean_text
    # the same with the main story outside any <article>
    path = _page(tmp_path, f"<main>{main}<p>Detours are signposted through the village.</p>"
                           f"<article>{_LIBRARY}</article></main>")
    bridge, library = load_file(path, "page.html")[1]
    assert bridge.title.startswith("Bridge Repairs") and "Detours" in bridge.clean_text
    assert library.title.startswith("Town Library") and "Detours" not in library.clean_text


def _short(headline: str, date: str, *sentences: str) -> str:
    return f"{headline}\n{date}\n\n" + "\n\n".join(sentences) + "\n"


def test_two_short_dated_stories_in_a_text_file_are_two_articles():
    text = (_short("Orchard Growers Report a Record Apple Harvest", "May 6, 2025",
                   "Growers in the valley picked 41,000 tonnes of apples this season, the union said.",
                   "A warm spring and few frosts helped the crop.")
            + "\n\n" + _short("Town Library Extends Its Opening Hours", "May 7, 2025",
                              "The town library will open until 9 pm on weekdays from June, the council said."))
    orchard, library = clean(text, "news.txt")
    assert (orchard.title, orchard.date, library.title, library.date) == (
        "Orchard Growers Report a Record Apple Harvest", "2025-05-06", "Town Library Extends Its Opening Hours",
        "2025-05-07")
    assert "library" not in orchard.clean_text and "until 9 pm" in library.clean_text
    # a byline between the headline and the date line
    bylined = text.replace("Town Library Extends Its Opening Hours\n", "Town Library Extends Its Opening Hours\nBy Ada Moss\n")
    assert [d.title for d in clean(bylined, "news.txt")][1] == "Town Library Extends Its Opening Hours"
    # a subheading has no date line of its own: a short story stays whole
    one = _short("Orchard Growers Report a Record Apple Harvest", "May 6, 2025",
                 "Growers in the valley picked 41,000 tonnes of apples this season, the union said.",
                 "What the Warm Spring Meant for the Valley's Orchards",
                 "A warm spring and few frosts helped the crop, the union's chair said.")
    (doc,) = clean(one, "news.txt")
    assert "What the Warm Spring Meant" in doc.clean_text


def test_a_files_own_dates_decide_the_order_of_its_numeric_dates():
    def dated(evidence: str) -> str | None:
        text = _short("Orchard Growers Report a Record Apple Harvest", "04.03.2025",
                      "Growers in the valley picked 41,000 tonnes of apples this season, the union said.", evidence)
        assert next(d.reason for d in explain(text) if d.text == "04.03.2025") == DATE_STAMP
        return clean(text, "a.txt")[0].date

    assert dated("The fair ran from 28.04.2025 to 03.05.2025.") == "2025-03-04"  # 28 can only be a day
    assert dated("The fair ran from 04.28.2025 to 05.03.2025.") == "2025-04-03"  # here 28 is the day, second
    assert dated("The fair opened on 03.05.2025.") == "2025-04-03"  # nothing decides: month first, as before
    # a date line only a day-first reading makes a date dates the article too
    text = _short("Orchard Growers Report a Record Apple Harvest", "28.04.2025",
                  "Growers in the valley picked 41,000 tonnes of apples this season, the union said.")
    assert clean(text, "a.txt")[0].date == "2025-04-28"


def test_a_pages_declared_language_decides_when_its_dates_do_not(tmp_path: Path):
    def dated(lang: str) -> str | None:
        path = _page(tmp_path, "<article><h1>Obstbauern melden eine Rekordernte bei Äpfeln</h1><p>04.03.2025</p>"
                               "<p>Die Obstbauern im Tal ernteten in dieser Saison 41.000 Tonnen Äpfel.</p></article>", lang)
        return load_file(path, "page.html")[1][0].date

    assert [dated(lang) for lang in ("de", "fr-CA", "en-GB", "en-US", "en")] == ["2025-03-04"] * 3 + ["2025-04-03"] * 2
    # the file's own evidence outweighs its declared language
    path = _page(tmp_path, "<article><h1>Orchard Growers Report a Record Apple Harvest</h1><p>04.03.2025</p>"
                           "<p>The fair ran from 04.28.2025 to 05.03.2025, the union said.</p></article>", "en-GB")
    assert load_file(path, "page.html")[1][0].date == "2025-04-03"
