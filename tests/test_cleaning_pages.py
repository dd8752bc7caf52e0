"""Saved web pages as text: a site's menu or breadcrumb trail above the headline, a newsletter
promotion or a footer inside the story, a credit line, an ordinal date. Each had become a title
or the start of an article of its own (blind trial 4: 7 of its 10 files were titled by a menu).

Every page is written for these tests."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from rag.ingest import TEXT, clean, explain
from rag.line_kinds import is_byline, is_headline, is_menu, parse_date

_BODY = [
    "The regional ferry operator said on Monday that it would add two crossings a day from June.",
    "The new timetable follows a year in which passenger numbers rose by almost a fifth, it said.",
    "Harbour officials said the extra sailings would use the second berth, which reopened in April.",
    "Local businesses on the island welcomed the plan but asked for later evening departures in summer.",
    "The operator said fares would not change before the end of the year, despite higher fuel costs.",
    "A consultation on the winter timetable will open in September and run for six weeks, it added.",
    "Island councillors said they would press for a direct service to the mainland's main rail station.",
]
_HEAD = "Ferry Operator Adds Two Daily Crossings to Island Route"


def _titles(text: str) -> list[tuple[str, str | None]]:
    return [(d.title, d.date) for d in clean(text, "page.txt")]


def test_a_menu_or_breadcrumb_is_no_headline():
    for menu in ("Home > News > Travel", "News | Sport | Business | Culture | Opinion",
                 "Markets  Companies  Transport  Energy  Tech  Log in",
                 "[Home](/) · [Travel](/travel) · [Ferries](/travel/ferries) · [Timetables](/timetables)",
                 "**HARBOUR TIMES** | [Ports](/ports) | [Shipping](/shipping) | [Newsletter](/newsletter)"):
        assert is_menu(menu) and not is_headline(menu), menu
    # a headline with one bar or a figure, and a table's row of figures, are no menu
    for line in ("Budget 2026 | What It Means for Island Ferries", "Ferry Fares Rise 5% | Route Changes | Winter",
                 "Route | 2024 | 2025 | Change"):
        assert not is_menu(line), line


def test_a_saved_page_is_titled_by_its_headline_under_a_masthead_menu_and_cookie_notice():
    page = "\n\n".join([
        "ISLAND HERALD",
        "Home  News  Travel  Business  Sport  Opinion  Sign in",
        "We use cookies to improve your experience. By continuing you accept our cookie policy. [Accept]",
        "TRAVEL / FERRIES",
        _HEAD,
        "By Nora Quist, Transport Reporter",
        "Tuesday, May 5th 2026",
        *_BODY,
    ])
    assert _titles(page) == [(_HEAD, "2026-05-05")]


def test_a_promotion_a_credit_line_or_a_footer_starts_no_article():
    page = "\n\n".join([
        "Home > News > Travel",
        _HEAD,
        "Words: Nora Quist · Transport Editor",
        "May 5, 2026",
        *_BODY[:4],
        "NEWSLETTER: The Island Briefing, every Friday morning. Sign up free",
        *_BODY[4:],
        "Report an error | Contact the newsroom | (c) Island Herald Media 2026",
    ])
    assert _titles(page) == [(_HEAD, "2026-05-05")]
    assert is_byline("Words: Nora Quist · Transport Editor") and not is_byline("Words: The Language of the Sea")


def test_a_tables_header_of_words_stays_text():
    """A menu is no title, but it is not removed: a table's header of words looks like one."""
    text = "\n\n".join([_HEAD, *_BODY[:3], "Route | Operator | Berth | Season", "Kell to Arran | Isla Lines | 2 | Summer"])
    assert {d.text: d.reason for d in explain(text)}["Route | Operator | Berth | Season"] == TEXT


def test_an_ordinal_date_is_a_date():
    assert parse_date("Wednesday, April 15th 2026") == "2026-04-15" and parse_date("3rd May 2026") == "2026-05-03"


def test_explain_names_the_articles_a_file_makes(tmp_path: Path):
    from rag.cli import cli

    page = tmp_path / "ferry.txt"
    page.write_text("\n\n".join(["Home > News > Travel", _HEAD, "May 5, 2026", *_BODY]) + "\n")
    out = CliRunner().invoke(cli, ["index", "--explain", str(page)]).output
    assert f"article 1: {_HEAD!r}, dated 2026-05-05; its text from line 1" in out  # the menu is kept text


def test_a_sidebar_beside_the_article_inside_main_is_chrome():
    """A page's <main> that holds its <article> also holds the "More stories" and newsletter
    boxes beside it; those went into the index and outranked the story's own chunks. An <aside>
    inside the <article> (a fact box) stays."""
    from rag.reading import html_parts

    page = ("<html><body><main><article><h1>Ferry Operator Adds Two Daily Crossings</h1>"
            f"<p>{_BODY[0]}</p><aside><p>Fact box: the route opened in 1968 and carries 400,000 people a year.</p></aside>"
            f"<p>{_BODY[1]}</p></article>"
            "<aside class='related'><h3>More travel</h3><ul><li><a href='#'>Rail fares to rise in spring</a></li>"
            "<li><a href='#'>Airport adds a third runway</a></li></ul></aside></main></body></html>")
    text, dropped = html_parts(page)
    assert "Fact box: the route opened in 1968" in text
    assert "Rail fares to rise" not in text and any(tag == "aside" and "More travel" in t for tag, t in dropped)


def test_teaser_cards_marked_up_as_articles_leave_main_whole():
    """Review 5: a <main> whose story sits in paragraphs of its own, with "more stories" teaser
    cards marked up as <article>, lost its header (headline, byline) and its fact box."""
    from rag.reading import html_parts

    body = "".join(f"<p>{line}</p>" for line in _BODY)
    page = ("<html><body><main><header><h1>Ferry Operator Adds Two Daily Crossings</h1>"
            "<p>By Nora Quist, May 5, 2026</p></header>" + body +
            "<aside><p>Fact box: the route opened in 1968 and carries 400,000 people a year.</p></aside>"
            "<article><h3>Rail fares to rise in spring</h3></article>"
            "<article><h3>Airport adds a third runway</h3></article></main></body></html>")
    text, _ = html_parts(page)
    assert "Ferry Operator Adds Two Daily Crossings" in text and "By Nora Quist" in text
    assert "Fact box: the route opened in 1968" in text


def test_a_justified_headline_is_no_menu():
    """Review 5: a headline with wide spaces between its words (justified or PDF text) was read as
    a menu; wide spaces alone make a menu only at six labels or more."""
    assert not is_menu("Council  Approves  Harbour  Road  Closure") and is_headline("Council  Approves  Harbour  Road  Closure")
    assert is_menu("Home  News  Travel  Business  Sport  Opinion  Sign in")


def test_labelled_trails_slashes_buttons_reviews_and_credits_are_no_headlines():
    """Held-out trial 5 (after its run): a breadcrumb after "You are here:", a trail of slashes, a
    share bar of buttons, a "Reviewed by" byline and a caption ending in its photo's credit had
    titled a page or started an article."""
    for menu in ("You are here: Home > News > Local > Travel", "Home / Travel / Ferries", "Share: [f] [x] [in] [mail]"):
        assert is_menu(menu), menu
    assert not is_menu("TRAVEL / FERRIES")  # a section label of two, which past_label skips as a label
    assert is_byline("Reviewed by Nora Quist, Theatre Critic")
    from rag.line_kinds import is_caption
    assert is_caption("The ferry Isla Rose leaves Kell harbour at dawn. Photo: Tom Hale")
    page = "\n\n".join(["ISLAND HERALD", "You are here: Home > News > Travel", "Share: [f] [x] [in] [mail]",
                        _HEAD, "Reviewed by Nora Quist, Transport Critic", "May 5, 2026", *_BODY[:4],
                        "The ferry Isla Rose Leaves Kell Harbour at Dawn. Photo: Tom Hale", *_BODY[4:]])
    assert _titles(page) == [(_HEAD, "2026-05-05")]


def test_lists_of_links_below_a_pages_one_article_are_chrome():
    """Trial 6: a related-posts list below the page's one <article>, in a plain <div>, was
    indexed and outranked the story's own chunks. Review 6: only a block that is mostly links
    goes; a fact box or a notice in words below the article stays, as does a block above it (it
    may hold the headline or the date), and a story whose text continues outside its <article>."""
    from rag.reading import html_parts

    story = "".join(f"<p>{line}</p>" for line in _BODY)
    page = ("<html><body><div class='top'>Home &gt; Transport</div><div id='main'><article>"
            f"<h1>Ferry Operator Adds Two Daily Crossings</h1>{story}</article>"
            "<div class='related'><h4>Related Posts</h4><ul><li><a href='#'>Rail fares to rise in spring</a></li></ul></div>"
            "<div class='facts'><h4>At a glance</h4><ul><li>Crossings a day: 14</li><li>Opened: 1968</li></ul></div>"
            "<div class='newsletter'><p>Sign up to our weekly travel letter.</p></div></div></body></html>")
    text, dropped = html_parts(page)
    assert _BODY[-1] in text and "Home > Transport" in text
    assert "Rail fares to rise" not in text
    assert "Crossings a day: 14" in text and "weekly travel letter" in text  # words, not links: they stay
    assert any("Related Posts" in t for _, t in dropped)
    # half the story in a <div> after its <article>: the <article> is not the whole story
    split = page.replace(f"{story}</article>", "".join(f"<p>{x}</p>" for x in _BODY[:3]) + "</article><div>" +
                         "".join(f"<p>{x}</p>" for x in _BODY[3:]) + "</div>")
    text, _ = html_parts(split)
    assert _BODY[-1] in text and "Rail fares to rise" in text


def test_a_sidebar_beside_the_post_block_inside_main_is_chrome():
    """Trial 6: a <main> with no <article>, its story in a "post" <div>, and a widget sidebar
    (<aside>) beside that <div>: the sidebar's "You may also like" list was indexed. A fact box
    (<aside>) inside the post stays."""
    from rag.reading import html_parts

    story = "".join(f"<p>{line}</p>" for line in _BODY)
    page = ("<html><body><main><div class='post'><h1>Ferry Operator Adds Two Daily Crossings</h1>" + story +
            "<aside><p>Fact box: the route opened in 1968 and carries 400,000 people a year.</p></aside></div>"
            "<aside class='widget-area'><h3>You may also like</h3><ul><li><a href='#'>Rail fares to rise in spring</a>"
            "</li></ul></aside><aside><h3>At a glance</h3><p>Crossings a day: 14. Fares: £4.</p></aside></main></body></html>")
    text, dropped = html_parts(page)
    assert "Fact box: the route opened in 1968" in text and _BODY[-1] in text
    assert "Crossings a day: 14" in text  # a fact box beside the post, in words, stays (review 6)
    assert "Rail fares to rise" not in text and any("You may also like" in t for _, t in dropped)
