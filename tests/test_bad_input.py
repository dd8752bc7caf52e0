"""Bad or unusual input: a clear error or a warning, and no fact lost.

Every example is written for these tests: encodings, PDFs, HTML layouts, folder trees, questions,
and lines that look like page furniture but state a fact.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pytest

from rag.decompose import check_question
from rag.errors import CorpusError, QuestionError
from rag.ingest import DATE_STAMP, LINK_LIST, REPEATED, TEXT, WIDGET, clean, explain, holds_figure
from rag.reading import decode, read_source
from rag.store.sync import corpus_entries

from pdfs import one_page_pdf


def _reasons(text: str) -> dict[str, str]:
    return {d.text: d.reason for d in explain(text)}


def _story(*lines: str) -> str:
    return "\n\n".join(["Ferry Line Expands Its Winter Timetable",
                        "The ferry line added three evening sailings on Tuesday, its operator said.", *lines,
                        "Tickets for the new sailings go on sale next week at the harbour office."]) + "\n"


# --- lines that look like furniture but state a fact --------------------------------------------

@pytest.mark.parametrize("line", [
    "© 2030 Gullwing Ferries reported a profit of $3.2 million",
    "Copyright 2029 dispute ends with the operator paying damages",
    "Follow us on the new route as the captain visits 5 islands",
    "Click here to read the 1,200-page safety review that found 14 faults",
    "Share this story: the operator expects 6% more passengers",
])
def test_a_line_that_states_a_fact_is_never_widget_text(line: str):
    text = _story(line)
    assert _reasons(text)[line] == TEXT
    assert line in clean(text, "f.txt")[0].clean_text


@pytest.mark.parametrize("line", ["© 2030 Gullwing Ferries. All rights reserved.", "Follow us on Bluesky and Threads",
                                  "12 comments | Share", "Click here to subscribe"])
def test_labels_with_a_name_or_a_count_are_still_widget_text(line: str):
    assert _reasons(_story(line))[line] == WIDGET


def test_figures_are_amounts_shares_and_counts_not_years_or_dates():
    assert holds_figure("Fares $4") and holds_figure("up 3.5%") and holds_figure("1,200 cars") and holds_figure("40 crew")
    assert not holds_figure("© 2030") and not holds_figure("March 3, 2031") and not holds_figure("Page 2")


def test_a_repeated_figure_under_another_label_is_kept_and_a_true_copy_is_not():
    text = _story("Route A fare", "$12", "Route B fare", "$12", "Route A fare", "$12")
    decisions = [(d.text, d.reason) for d in explain(text)]
    assert decisions[2:8] == [("Route A fare", TEXT), ("$12", TEXT), ("Route B fare", TEXT), ("$12", TEXT),
                              ("Route A fare", REPEATED), ("$12", REPEATED)]


def test_a_short_value_repeated_for_another_question_or_place_is_kept():
    lines = ["Q: Will the pier reopen in May?", "A: Yes.", "Q: Will fares rise?", "A: No.",
             "Q: Will the night sailing return?", "A: Yes.", "Q: Will crews strike?", "A: No."]
    decisions = [(d.text, d.reason) for d in explain(_story(*lines))]
    assert [r for t, r in decisions if t in ("A: Yes.", "A: No.")] == [TEXT] * 4
    wards = ["Ashby", "Liberal gain from Green", "Brook", "Liberal gain from Green", "Castle", "Green hold"]
    decisions = [(d.text, d.reason) for d in explain(_story(*wards))]
    assert [r for t, r in decisions if t == "Liberal gain from Green"] == [TEXT, TEXT]


def test_the_second_article_of_a_file_keeps_its_own_byline_date_and_quote():
    def article(headline: str, date: str, lead: str) -> str:
        body = " ".join([lead, "The operator said the change follows a year of talks with the crews and the port.",
                         "Passenger numbers have grown every month since the spring, the harbour office said.",
                         "The new timetable will be reviewed again at the end of the season by the council.",
                         "Local businesses on the islands had asked for later services for several years.",
                         "Fares will not change this winter, and season tickets bought before March stay valid.",
                         "The operator will publish the full list of times on its website next week."])
        return (f"{headline}\n\nBy Ada Moss\n{date}\n\n{body}\n"
                "\"We want every island to have a daily sailing,\" the harbour master said on the quay.\n")
    text = (article("Ferry Line Adds Three Evening Sailings to the Winter Timetable", "March 1, 2025",
                    "The ferry line added three evening sailings on Tuesday, its operator said.") + "\n"
            + article("Island Bus Service Extends Its Hours Through the Winter Season", "March 2, 2025",
                      "The island bus service will run until midnight from Monday, the council said."))
    first, second = clean(text, "two.txt")
    assert second.date == "2025-03-02" and first.date == "2025-03-01"
    assert "By Ada Moss" in second.clean_text and "daily sailing" in second.clean_text


def test_a_figure_framing_the_page_keeps_its_first_copy():
    line = "passengers this year: 1.2 million"  # neither a headline nor a sentence
    text = "\n\n".join([line, _story(), line])
    assert [d.reason for d in explain(text) if d.text == line] == [TEXT, REPEATED]


def test_timeline_dates_are_kept_and_do_not_date_the_article():
    text = _story("March 1, 2031", "The contract was signed.", "June 30, 2031", "Work on the new pier began.")
    reasons = _reasons(text)
    assert reasons["March 1, 2031"] == reasons["June 30, 2031"] == TEXT
    assert clean(text, "t.txt")[0].date is None
    stamped = "\n\n".join(["Ferry Line Expands Its Winter Timetable", "May 5, 2031", *_story().split("\n\n")[1:]])
    assert _reasons(stamped)["May 5, 2031"] == DATE_STAMP and clean(stamped, "s.txt")[0].date == "2031-05-05"


def test_a_figure_with_a_bare_web_address_as_its_source_is_kept_but_link_lists_go():
    facts = ["Population 52,000 in 2030, stats.example.org/ferrytown", "Vehicles 9,400 a day, stats.example.org/traffic"]
    assert [_reasons(_story(*facts))[f] for f in facts] == [TEXT, TEXT]
    links = ["- Winter timetable https://example.org/winter", "- Summer timetable https://example.org/summer"]
    assert [_reasons(_story(*links))[f] for f in links] == [LINK_LIST, LINK_LIST]


def test_figures_whose_source_is_a_link_are_kept():
    facts = ["- Ridership: [41,000 a week](https://ferry.example/stats), up 6%",
             "- Fares rose 4.5% in May (https://ferry.example/fares)"]
    assert [_reasons(_story(*facts))[f] for f in facts] == [TEXT, TEXT]
    # a dated list of other stories' headlines is still a link list, figures or not
    news = ["• May 2, 2025 – Harbour fees rise 12% (Source)", "• May 1, 2025 – New pier opens (Source)",
            "• April 30, 2025 – Crew talks resume (Source)"]
    assert [_reasons(_story(*news))[f] for f in news] == [LINK_LIST] * 3


def test_results_ending_in_the_same_word_are_not_a_link_list():
    wards = ["Ashby: Ruth Cole (Liberal)", "Brookfield: Tom Hale (Liberal)", "Castleton: Ina Park (Liberal)",
             "Women's 10,000m: Ada Moss (Liberal)"]
    assert [_reasons(_story(*wards))[w] for w in wards] == [TEXT] * 4


def test_a_line_that_states_a_figure_is_no_link_lists_heading():
    lines = ["Ferry shares fell 3.1%, dragged down by:", "- [Fuel costs](https://ferry.example/fuel)",
             "- [Crew pay](https://ferry.example/pay)"]
    reasons = _reasons(_story(*lines))
    assert reasons[lines[0]] == TEXT and reasons[lines[1]] == LINK_LIST


@pytest.mark.parametrize("line", [
    "The council approved the timetable on Friday; for the full list of sailings click here.",
    "The harbour master called the plan overdue. Click here",
])
def test_a_statement_beside_click_here_is_kept(line: str):
    assert _reasons(_story(line))[line] == TEXT


def test_click_here_prompts_alone_still_go():
    for line in ("Click here to subscribe", "For more information, click here."):
        assert _reasons(_story(line))[line] == WIDGET


def test_html_inline_elements_stay_in_their_line(tmp_path: Path):
    page = ("<html><body><article><h1>Ferry Operator Charged</h1>"
            "<p><a href='/p/ada'>Ada Moss</a> denied the charges at a hearing on Monday, her lawyer said.</p>"
            "<p>The trial is set to begin on <time>June 12, 2025</time>, the judge said.</p>"
            "<dl><dt>Crew members</dt><dd>640</dd></dl>"
            "<table><tr><th>Route</th><th>Sailings</th></tr><tr><td>Ashby</td><td>2</td></tr>"
            "<tr><td>Brook</td><td>2</td></tr></table>"
            "<p>Her lawyer said <a href='/p/ada'>Ada Moss</a> would fight the charges.</p></article></body></html>")
    path = tmp_path / "p.html"
    path.write_text(page, encoding="utf-8")
    (doc,) = clean(read_source(path), "p.html")
    body = doc.clean_text
    assert "Ada Moss denied the charges" in body and "said Ada Moss would fight" in body
    assert "begin on June 12, 2025, the judge" in body and doc.date is None  # a date in a sentence dates nothing
    # a cell stays on its row's line, after its column's header (rag.tables)
    assert "Crew members: 640" in body and "Ashby | Sailings: 2" in body and "Brook | Sailings: 2" in body


# --- HTML, encodings, PDFs ---------------------------------------------------------------------

def test_html_keeps_the_articles_own_header_aside_and_footer(tmp_path: Path):
    page = ("<html><head><title>Site Name</title></head><body><header>Site Name | Home</header><article>"
            "<header><h1>Ferry Crews Win New Contract</h1><p>By Ada Moss</p></header>"
            "<p>Ferry crews won a pay rise of 9% over three years.</p>"
            "<aside><p>By the numbers: 640 crew members voted.</p></aside>"
            "<footer><p>Correction: an earlier version gave the rise as 8%.</p></footer></article>"
            "<aside>Most read: other stories</aside><footer>© Site Name</footer></body></html>")
    path = tmp_path / "p.html"
    path.write_text(page, encoding="utf-8")
    text = read_source(path)
    for kept in ("Ferry Crews Win New Contract", "By Ada Moss", "640 crew members", "earlier version gave the rise"):
        assert kept in text
    assert "Most read" not in text and "Home" not in text and "© Site Name" not in text


def test_html_without_an_article_element_keeps_the_storys_own_header_aside_and_footer(tmp_path: Path):
    page = ("<html><head><title>Harbour Herald</title></head><body><header>Harbour Herald | Home</header>"
            "<div class='story'><header><h1>Ferry Crews Win New Contract</h1><p>By Ada Moss</p></header>"
            "<p>Ferry crews won a pay rise of 9% over three years, the union said.</p>"
            "<aside><p>By the numbers: 640 crew members voted.</p></aside>"
            "<p>The contract starts in June and covers every route.</p>"
            "<footer><p>Correction: an earlier version gave the rise as 8%.</p></footer></div>"
            "<aside>Most read: other stories</aside><footer>© Harbour Herald</footer></body></html>")
    path = tmp_path / "p.html"
    path.write_text(page, encoding="utf-8")
    text = read_source(path)
    for kept in ("Ferry Crews Win New Contract", "By Ada Moss", "640 crew members", "earlier version gave the rise"):
        assert kept in text
    assert "Most read" not in text and "Home" not in text and "© Harbour Herald" not in text


def test_utf16_with_a_byte_order_mark_is_read(tmp_path: Path):
    path = tmp_path / "u16.txt"
    path.write_bytes("Fähre fährt um 7 Uhr.\n".encode("utf-16"))
    assert read_source(path) == "Fähre fährt um 7 Uhr.\n"


def test_utf8_with_a_stray_byte_stays_utf8_with_a_warning(caplog):
    data = "Captain José Núñez sailed 40 miles – a record.".encode() + b"\xff"
    with caplog.at_level(logging.WARNING, logger="rag.reading"):
        text = decode(Path("stray.txt"), data)
    assert text.startswith("Captain José Núñez sailed 40 miles – a record.") and text.endswith("\ufffd")
    assert "not UTF-8" in caplog.text


def test_windows_1252_and_latin1_text_is_read_not_skipped(caplog):
    assert decode(Path("w.txt"), "Café – €5".encode("cp1252")) == "Café – €5"
    with caplog.at_level(logging.WARNING, logger="rag.reading"):
        assert decode(Path("l.txt"), b"Caf\xe9 \x81") == "Café \x81"  # 0x81 has no Windows-1252 meaning
    assert "Latin-1" in caplog.text
    with pytest.raises(CorpusError, match="binary"):
        decode(Path("b.txt"), b"\x00\x01\x02text")


def test_an_aes_encrypted_pdf_with_no_user_password_is_read(tmp_path: Path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(one_page_pdf("The pier cost 4.2 million euros."))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as f:
        writer.write(f)
    assert "The pier cost 4.2 million euros." in read_source(path)


def test_a_pdf_the_reader_cannot_open_is_a_clear_error(tmp_path: Path, monkeypatch):
    import pypdf
    from pypdf.errors import DependencyError

    def needs_a_package(*_a, **_k):
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(pypdf, "PdfReader", needs_a_package)
    path = tmp_path / "x.pdf"
    path.write_bytes(one_page_pdf("Text."))
    with pytest.raises(CorpusError, match="x.pdf: cannot decrypt"):
        read_source(path)


# --- folder trees ------------------------------------------------------------------------------

def test_a_symlink_loop_is_read_once(tmp_path: Path, caplog):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("The ferry sails at noon.")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path)
    with caplog.at_level(logging.WARNING):
        entries = corpus_entries(tmp_path)
    assert [source for source, _, _ in entries] == ["sub/a.txt"]
    assert "already read" in caplog.text


def test_an_unreadable_subfolder_is_skipped_with_a_warning(tmp_path: Path, monkeypatch, caplog):
    (tmp_path / "ok.txt").write_text("The ferry sails at noon.")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "b.txt").write_text("Hidden.")
    real = os.scandir

    def scandir(path):  # a permission error whatever the user (tests may run as root)
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with caplog.at_level(logging.WARNING):
        entries = corpus_entries(tmp_path)
    assert [source for source, _, _ in entries] == ["ok.txt"]
    assert "locked: cannot read folder (Permission denied)" in caplog.text
    monkeypatch.setattr(os, "scandir", lambda p: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    with pytest.raises(CorpusError, match="cannot read corpus folder"):
        corpus_entries(tmp_path)


# --- questions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("question, message", [
    ("caf\udce9?", "not text"),  # a byte the terminal could not decode
    ("?!", "no word"),
    ("\U0001f642\U0001f642", "no word"),
])
def test_questions_that_are_not_text_or_have_no_word_are_clear_errors(question: str, message: str):
    with pytest.raises(QuestionError, match=message):
        check_question(question, 2000)


def test_questions_in_other_scripts_and_with_figures_pass():
    for q in ("¿Cuándo zarpa el ferry?", "Wann fährt die Fähre?", "Was it 5%?"):
        assert check_question(q, 2000) == q


# --- Markdown titles; the scripts given bad input ----------------------------------------------

def test_a_markdown_headings_marks_are_not_part_of_the_title():
    (doc,) = clean("## Ferry Line Adds Winter Sailings\n\nThe ferry line added three sailings on Tuesday.\n", "f.md")
    assert doc.title == "Ferry Line Adds Winter Sailings"


def test_every_script_prints_its_help():
    import subprocess
    import sys

    scripts = sorted((Path(__file__).resolve().parent.parent / "scripts").glob("*.py"))
    assert len(scripts) >= 10
    for script in scripts:
        done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "usage" in done.stdout.lower(), f"{script.name}: {done.stderr[-300:]}"


def test_scripts_name_a_bad_gold_line_and_a_run_with_nothing_to_score(tmp_path):
    """A bad gold file is one error line naming it, not a traceback; a retrieval-only run is
    refused by the scripts that score answers, instead of printing nan%."""
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent / "scripts"
    bad = tmp_path / "gold.jsonl"
    bad.write_text('{"id": "a", "question": "Where is the ferry?", "type": "fact", "answer": "x"}\n{not json\n')
    for script, extra in (("evidence_budget.py", ["--gold", str(bad)]), ("rerank_compare.py", ["--gold", str(bad)]),
                          ("json_grammar_screen.py", [str(bad), "1", str(tmp_path / "o.json")]),
                          ("latency_ab.py", ["--gold", str(bad)])):
        done = subprocess.run([sys.executable, str(root / script), *extra], capture_output=True, text=True, timeout=300)
        assert done.returncode != 0, script
        assert "Traceback" not in done.stderr and "gold" in done.stderr.lower(), f"{script}: {done.stderr[-400:]}"
    run = tmp_path / "retrieval.json"
    run.write_text(json.dumps({"settings": {"retrieval_only": True, "config": {}}, "summary": {},
                               "results": [{"id": "a", "type": "fact", "verdict": None, "refused": False,
                                            "support": None}]}))
    done = subprocess.run([sys.executable, str(root / "support_curve.py"), str(run)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0 and "nothing to score" in done.stderr and "nan" not in done.stdout


# --- share buttons and cookie notices (trial 6): known widget text, whatever the site ------------


@pytest.mark.parametrize("line", [
    "Share: Facebook X Pinterest WhatsApp", "Share Tweet WhatsApp Email", "Facebook  Twitter  WhatsApp  Email",
    "Share · Tweet · Email", "Copy link",
    "We value your privacy. We and our partners use cookies to store information on a device. AGREE MORE OPTIONS",
    "This site uses cookies. Some are essential, others help us show you relevant ads. Accept Reject non-essential",
])
def test_share_buttons_and_a_cookie_notice_ending_in_its_buttons_go(line: str):
    assert _reasons(_story(line))[line] == WIDGET


@pytest.mark.parametrize("line", [
    "The regulator fined the ferry line for setting cookies without consent.",
    "Facebook and X were fined in 2024 for the same practice, the regulator said.",
    "The regulator said cookies must be opt-in. Some sites still do not ask.",
    "X marks the spot where the new pier will stand.",
    "Telegram",  # review 6: a platform alone on its line may be an item of the story's own list
])
def test_a_sentence_about_cookies_or_a_network_stays(line: str):
    assert _reasons(_story(line))[line] == TEXT
