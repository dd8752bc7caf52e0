"""A PDF read as its reader sees it: wrapped lines joined into sentences, a word hyphenated at a
line end rejoined, page furniture set aside, a table's cells kept in their rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pdfs import pdf, wrapped

from rag.chunking import split_sentences
from rag.cli import cli
from rag.errors import CorpusError
from rag.ingest import load_file
from rag.pdf_text import pdf_parts
from rag.reading import read_source

def _load(path: Path, pages: list) -> tuple:
    """(source text, documents) of a PDF of ``pages`` written to ``path`` and indexed as a file."""
    path.write_bytes(pdf(pages))
    return load_file(path, path.name)


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_a_wrapped_paragraph_reads_as_its_sentences_and_a_hyphenated_word_is_rejoined():
    lines = [
        "The Kestrel Fen drainage board approved a new pumping station at its meeting on",
        "Tuesday, replacing two diesel pumps that date from 1962. The station will cost 2.8",
        "million pounds and should cut the board's fuel bill by about a third. Its new infra-",
        "structure will be built by a well-",
        "known local firm, which the board called a well-known name in the fens. The old cast-",
        "iron pumps, a differ-",
        "ent design, go to a museum.",
    ]
    read = pdf_parts(pdf([wrapped(lines)]))
    text, dropped = read.text, read.furniture
    assert dropped == []
    sentences = _sentences(text)
    assert "The station will cost 2.8 million pounds and should cut the board's fuel bill by about a third." in sentences
    assert "infrastructure will be built" in text  # a line-end hyphen inside a word goes
    assert "by a well-known local firm" in text  # the document writes "well-known" so elsewhere: kept
    assert "The old cast-iron pumps, a different design" in text  # two words and no one word: a compound


def test_a_sentence_across_a_page_break_is_whole_and_the_page_furniture_is_set_aside():
    def page(n: int, body: list[str]) -> list:
        return [(60, 800, 8, "Kestrel Fen Drainage Board - Annual Report 2026")] + wrapped(body) \
            + [(280, 30, 8, f"Page {n} of 2")]

    first = page(1, ["The board spent 412,000 pounds on bank repairs in the year, most of it after",
                     "the February floods, when the river topped its banks at three places and the",
                     "board's engineers worked through the night to close the breach at"])
    second = page(2, ["Marsh End before the tide turned. A review of the night will report in May, and",
                      "the chair thanked the volunteers who filled sandbags until dawn on Sunday."])
    read = pdf_parts(pdf([first, second]))
    text, dropped = read.text, read.furniture
    assert "to close the breach at Marsh End before the tide turned." in " ".join(_sentences(text))
    assert text.startswith("Kestrel Fen Drainage Board - Annual Report 2026\n")  # the first copy: the report's name
    assert text.count("Annual Report 2026") == 1
    assert "Page 1" not in text and "Page 2" not in text
    assert ("page 2", "Kestrel Fen Drainage Board - Annual Report 2026") in dropped
    assert ("page 1", "Page 1 of 2") in dropped and ("page 2", "Page 2 of 2") in dropped


def test_a_table_drawn_cell_by_cell_keeps_its_rows(tmp_path: Path):
    cells = [(60, 600, 10, "Pump"), (200, 600, 10, "Output (l/s)"), (320, 600, 10, "Installed"),
             (60, 586, 10, "Marsh End"), (200, 586, 10, "1,450"), (320, 586, 10, "1962"),
             (60, 572, 10, "Holt Drove"), (200, 572, 10, "980"), (320, 572, 10, "2011")]
    path = tmp_path / "pumps.pdf"
    path.write_bytes(pdf([wrapped(["Pumping stations of the board, with their output and the year each was built."])
                          + cells]))
    text = read_source(path)
    # a row reads whole, each cell with its column's header (rag.tables)
    assert "| Holt Drove | Output (l/s): 980 | Installed: 2011 |" in text.split("\n")
    assert "| Marsh End | Output (l/s): 1,450 | Installed: 1962 |" in text.split("\n")


def test_a_heading_a_paragraph_end_and_list_items_stay_lines_of_their_own():
    drawn = [(60, 800, 16, "Pumping and drainage across the Kestrel Fen district"),
             (60, 780, 10, "By the board's engineers Jane Marsh and Peter Holt of the Kestrel Fen office")]
    drawn += wrapped(["The board looked after 212 kilometres of drains in the year and cleared weed",
                      "from most of them by hand.",
                      "Three items were agreed at the meeting:"], top=750)
    drawn += wrapped(["• a new pumping station at Marsh End, to open in the spring of", "next year",
                      "• a review of the flood response", "• higher rates for the larger farms"], top=700, x=70)
    text = pdf_parts(pdf([drawn])).text
    lines = text.split("\n")
    assert lines[0] == "Pumping and drainage across the Kestrel Fen district"  # a bigger font: never run on
    # a line the same size as the text, but a paragraph's gap above it
    assert lines[1] == "By the board's engineers Jane Marsh and Peter Holt of the Kestrel Fen office"
    assert "from most of them by hand." in lines[2] and "Three items" not in lines[2]
    assert "• a new pumping station at Marsh End, to open in the spring of next year" in lines
    assert "• a review of the flood response" in lines and "• higher rates for the larger farms" in lines


def test_two_columns_drawn_line_by_line_read_column_by_column():
    left = ["Water levels in the main drain fell by", "forty centimetres over the summer, the",
            "lowest the board has recorded since", "the dry year of 1976."]
    right = ["Farmers asked the board to hold more", "water back in the autumn so that the", "peat does not shrink further, which",
             "the board agreed to study."]
    drawn = []
    for k, (a, b) in enumerate(zip(left, right)):
        drawn += [(60, 700 - 12 * k, 10, a), (310, 700 - 12 * k, 10, b)]
    text = pdf_parts(pdf([drawn])).text
    sentences = _sentences(text)
    assert ("Water levels in the main drain fell by forty centimetres over the summer, the lowest the board "
            "has recorded since the dry year of 1976.") in sentences
    assert "the board agreed to study." in text


def test_a_pdf_is_indexed_with_whole_sentences_and_explain_lists_its_furniture(tmp_path: Path):
    def page(n: int, body: list[str]) -> list:
        return wrapped(body) + [(280, 30, 8, f"- {n} -")]

    path = tmp_path / "minutes.pdf"
    path.write_bytes(pdf([page(1, ["Minutes of the Kestrel Fen Drainage Board, 3 March 2026.",
                                   "The board agreed to raise the drainage rate by 4 per cent from April, the first",
                                   "rise in three years, after the clerk reported that pumping costs had doubled."]),
                          page(2, ["The next meeting will be held on 2 June 2026 at the Marsh End pumping station."])]))
    text, docs = load_file(path, path.name)
    body = text[docs[0].spans[0][0]:docs[0].spans[-1][1]]
    assert ("The board agreed to raise the drainage rate by 4 per cent from April, the first rise in three years, "
            "after the clerk reported that pumping costs had doubled.") in _sentences(body)
    assert "- 1 -" not in text and "- 2 -" not in text
    result = CliRunner().invoke(cli, ["index", "--explain", str(path)])
    assert result.exit_code == 0, result.output
    assert "page 1 furniture" in result.output and "- 1 -" in result.output
    assert "2 lines of page furniture set aside" in result.output


def test_a_pdf_of_pictures_only_is_skipped_with_an_error_that_says_why(tmp_path: Path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf([[], []]))  # two pages that draw no text: what a scanner writes, less the images
    with pytest.raises(CorpusError, match=r"scan\.pdf: no text on its 2 pages \(scanned images\?"):
        read_source(path)


def test_a_footnote_follows_the_sentence_it_interrupts_and_its_mark_stays_on_its_word():
    # "drains" ends at x = 250.1 in 10-point Helvetica: the mark is drawn there, smaller and raised
    first = [(60, 760, 10, "The board cleared 212 kilometres of drains"), (250.5, 763, 6, "2"),
             (253.8, 760, 10, " in the year.")]
    first += wrapped(["The board's survey found that the banks of the main drain had settled by up to",
                      "thirty centimetres since 2019, and the engineers asked for the worst stretch near"], top=730)
    # the footnote's number set smaller and raised, just before its text
    first += [(60, 83, 5, "1"), (63, 80, 7, "Measured by the board's own survey team each October.")]
    first.insert(4, (200, 400, 60, "DRAFT", 45))  # a watermark, drawn across the page between two lines
    second = wrapped(["Marsh End to be rebuilt first, before the autumn tides."])
    read = pdf_parts(pdf([first, second]))
    text, dropped = read.text, read.furniture
    sentences = _sentences(text)
    assert "DRAFT" not in text and ("page 1 (rotated)", "DRAFT") in dropped
    assert ("thirty centimetres since 2019, and the engineers asked for the worst stretch near Marsh End to be "
            "rebuilt first, before the autumn tides.") in " ".join(sentences)
    assert "¹ Measured by the board's own survey team each October." in sentences
    assert "The board cleared 212 kilometres of drains² in the year." in sentences  # raised: not "drains2"


def test_a_letter_reads_its_labels_with_their_values_and_its_title_is_the_line_set_largest(tmp_path: Path):
    page1 = [(60, 800, 10, "Fenland Water Authority"), (60, 788, 10, "Station Road, Holt"),
             (60, 740, 10, "Our ref:"), (160, 740, 10, "FWA/2026/118"),
             (60, 726, 10, "Date:"), (160, 726, 10, "4 March 2026"), (480, 712, 10, "Page 1"),
             (60, 690, 16, "Decision on the Marsh End Abstraction Licence"),
             (60, 670, 16, "Renewal for the 2026 Season"),
             (60, 640, 10, "Dear Ms Holt,")]
    page1 += wrapped(["The authority has decided to renew the licence for one year at 2.1 million litres a day,",
                      "subject to the conditions below, which take effect on 1 April 2026."], top=620)
    text, docs = _load(tmp_path / "letter.pdf", [page1])
    lines = text.split("\n")
    assert "Our ref: FWA/2026/118" in lines and "Date: 4 March 2026" in lines  # no table with an invented header
    assert "Page 1" not in lines  # the page's own number, under the letterhead
    assert docs[0].title == "Decision on the Marsh End Abstraction Licence Renewal for the 2026 Season"  # wrapped
    assert docs[0].date == "2026-03-04"


def test_a_masthead_row_of_cells_far_apart_gives_each_its_line_and_a_short_date_line_dates_it(tmp_path: Path):
    page = [(60, 810, 20, "The Fenland Gazette"),
            (60, 790, 9, "Edition of 17 March 2026"), (260, 790, 9, "NEWS"), (480, 790, 9, "£1.20"),
            (60, 760, 14, "Pumping station approved after a two-year wait")]
    page += wrapped(["The drainage board approved the new pumping station at Marsh End on Monday, two years",
                     "after the first plans were drawn up, at a cost of 2.8 million pounds."], top=730)
    text, docs = _load(tmp_path / "gazette.pdf", [page])
    assert "Edition of 17 March 2026" in text.split("\n")
    assert docs[0].date == "2026-03-17"
    assert docs[0].title == "Pumping station approved after a two-year wait"  # the masthead is set larger


def test_a_justified_line_drawn_word_by_word_stays_one_line():
    # each piece drawn 15 points (a justified line's spread space) after where the one before ends
    drawn = wrapped(["The drainage board's annual meeting heard from residents of the village of Marsh End,"])
    drawn += [(60, 748, 10, "Residents said they were still waiting, and one of them,"), (318.4, 748, 10, "Priya"),
              (356.2, 748, 10, "Holt, told the meeting that the pumps had failed twice in March.")]
    text = pdf_parts(pdf([drawn])).text
    assert "one of them, Priya Holt, told the meeting" in text


def test_figures_set_flush_right_under_labels_set_flush_left_are_one_table():
    # each figure ends where its column's label ends (x = 324.5 and 431.1 in 10-point Helvetica)
    cells = [(60, 600, 10, "District"), (200, 600, 10, "Households supplied (2026)"), (400, 600, 10, "Pumps"),
             (60, 586, 10, "Marsh End"), (293.9, 586, 10, "12,480"), (425.6, 586, 10, "7"),
             (60, 572, 10, "Holt Drove"), (299.5, 572, 10, "3,115"), (420.0, 572, 10, "12")]
    text = pdf_parts(pdf([wrapped(["The districts the board supplies, with their households and pumps."]) + cells])).text
    assert "| District | Households supplied (2026) | Pumps |" in text.split("\n")
    assert "| Holt Drove | 3,115 | 12 |" in text.split("\n")


def test_a_running_header_that_holds_the_title_and_more_names_the_document(tmp_path: Path):
    cover = [(60, 760, 24, "Annual Report 2025")] + wrapped(
        ["The board presents its report for the year, in which it pumped more water than in any year",
         "since the drainage scheme was finished, and kept every village dry through the winter floods."], top=720)
    inside = [(60, 810, 8, "Fenland Drainage plc | Annual Report 2025")] + wrapped(
        ["Pumping costs rose by a fifth, to 1.2 million pounds, because the pumps ran for longer than in",
         "any year since 2012 and the price of electricity stayed high for the whole of the year."])
    _, docs = _load(tmp_path / "report.pdf", [cover, inside, inside])  # the cover has no running header
    assert docs[0].title == "Fenland Drainage plc | Annual Report 2025"
