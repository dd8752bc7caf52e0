"""Held-out trial 7's general findings: a contracted question word read as a name, and a page
without <article> or <main> whose lists of links below the story were indexed. Examples written
for these tests."""

from __future__ import annotations

from rag.words import names


def test_a_question_word_with_its_verb_is_no_name():
    """"Where's its central bakery?" named "where": the judgement was held to the stricter
    threshold for a name the evidence could never hold."""
    for q in ("Where's the Tarrow depot?", "What's the new fare?", "Who's in charge?", "How's the harvest?",
              "It's cold in Orla."):
        assert not names(q) - {"tarrow", "orla"}, q
    assert names("Where's Brannock's dairy?") == {"brannock"}


def test_a_question_opener_or_an_asking_verb_is_no_name():
    """"Besides viniculture, what ...?" named "besides", and "Give both figures." named "give": the
    evidence could never hold them, so a right answer was held to the stricter threshold."""
    for q in ("Besides the ferry, what links the islands?", "Apart from tolls, what did the bridge cost?",
              "Aside from wages, what rose?", "Name the two mayors.", "List the firms that bid.",
              "Give both figures.", "Excluding fuel, how much did costs rise?", "I'm asking about the ferry.",
              "They're closing which schools?"):
        assert names(q) == set(), q
    assert names("Besides Orla, which towns flooded?") == {"orla"}
    assert names("I'm on Veratensin.") == {"veratensin"}
    assert names("Rollo ruled.") == {"rollo"}  # a first word that is a name stays one


_STORY = ["The council said the attack had encrypted its payroll and planning systems on 3 March.",
          "Officers restored payroll within a week, but planning applications were delayed for a month.",
          "The council said it had not paid the ransom and had reported the attack to the regulator.",
          "An independent review of its backups will report to councillors in the summer, the leader said.",
          "Residents were told to watch for emails that claim to come from the council and ask for bank details."]


def test_lists_of_links_below_the_story_of_a_page_of_divs_are_chrome():
    from rag.reading import html_parts

    body = "".join(f"<p>{line}</p>" for line in _STORY)
    page = ("<html><body><div class='wrap'><div class='post'><h1>Council systems back after ransomware attack</h1>"
            f"{body}</div><div class='popular'><h3>Popular posts</h3><ul><li><a href='#'>Five councils share a chief "
            "executive</a></li><li><a href='#'>The rise of the four-day week</a></li></ul></div>"
            "<div class='box'><h3>Key dates</h3><p>Attack: 3 March. Payroll restored: 10 March.</p></div></div></body></html>")
    text, dropped = html_parts(page)
    assert _STORY[-1] in text and "Five councils share" not in text
    assert "Payroll restored: 10 March" in text  # a box of facts in words stays


def test_a_page_with_no_date_line_is_dated_by_its_metadata(tmp_path):
    """Trial 7: three saved pages had no date line the cleaning could read near the headline, but
    their metadata gave one. A date line near the headline still comes first."""
    from rag.ingest import load_file

    body = "".join(f"<p>{line}</p>" for line in _STORY)
    heads = {
        "meta": "<meta property='article:published_time' content='2025-02-11T08:00:00+00:00'>",
        "ld": "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"datePublished\": \"2025-02-11\"}</script>",
        "time": "",
    }
    for kind, head in heads.items():
        time = "<time datetime='2025-02-11T08:00'>Tuesday</time>" if kind == "time" else ""
        page = f"<html><head>{head}</head><body><article><h1>Council systems back after attack</h1>{time}{body}</article></body></html>"
        path = tmp_path / f"{kind}.html"
        path.write_text(page, encoding="utf-8")
        assert load_file(path, path.name)[1][0].date == "2025-02-11", kind
    dated = page.replace("<h1>Council systems back after attack</h1>",
                         "<h1>Council systems back after attack</h1><p>By Ada Moss | 12 February 2025</p>")
    path = tmp_path / "line.html"
    path.write_text(dated, encoding="utf-8")
    assert load_file(path, path.name)[1][0].date == "2025-02-12"
