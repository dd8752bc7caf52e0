"""Word files and saved e-mails read as their reader sees them: nothing of the text lost,
nothing that is not the text (a reviewer's comment, a quote mark, markup) in it. Every file is
written here, with python-docx and the standard library's email package."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml

from rag.errors import CorpusError
from rag.ingest import load_file
from rag.reading import read_with_layout

WNS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _report(path: Path) -> Path:
    d = docx.Document()
    d.core_properties.title = "Osprey Ferries: Winter Timetable Review"
    d.sections[0].header.paragraphs[0].text = "Osprey Ferries plc, internal"
    d.sections[0].footer.paragraphs[0].text = "Timetable office, Pier 4"
    d.add_heading("Winter Timetable Review", level=0)
    d.add_heading("Crossings", level=1)
    p = d.add_paragraph("The Hallow Sound route ran 412 crossings in January.")
    d.add_paragraph("Two vessels were in refit", style="List Bullet")
    table = d.add_table(rows=3, cols=3)
    for i, row in enumerate([["Route", "Crossings", "Late"], ["Hallow Sound", "412", "9"], ["Brennock", "280", "14"]]):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    d.add_comment(p.runs[0], text="The refit list is out of date", author="A. Reviewer")
    d.save(path)
    return path


def test_docx_headings_lists_tables_and_furniture_in_reading_order(tmp_path):
    text, layout = read_with_layout(_report(tmp_path / "review.docx"))
    lines = text.split("\n")
    assert lines[0] == "# Winter Timetable Review" and layout.headline == 0
    assert "- Two vessels were in refit" in lines
    assert "| Brennock | Crossings: 280 | Late: 14 |" in lines  # a table row labelled with its header
    # the page header and footer: kept once, after the body, never opening it
    assert lines.index("Osprey Ferries plc, internal") > lines.index("| Brennock | Crossings: 280 | Late: 14 |")
    assert text.count("Timetable office, Pier 4") == 1
    assert "refit list" not in text  # a reviewer's comment is no part of the document's text
    _, docs = load_file(tmp_path / "review.docx", "review.docx")
    assert docs[0].title == "Osprey Ferries: Winter Timetable Review"  # the properties' fuller title


def test_docx_tracked_changes_read_as_accepted_and_text_boxes_and_merged_cells_kept(tmp_path):
    d = docx.Document()
    d.add_paragraph("Placeholder")
    body = d.element.body
    body.remove(body[0])
    # "The fare rises to" + inserted "£14.50" + deleted "£12.00"; a run inside a content control
    body.insert(0, parse_xml(
        f'<w:p {WNS}><w:r><w:t xml:space="preserve">The fare rises to </w:t></w:r>'
        '<w:ins w:id="1" w:author="x"><w:r><w:t>£14.50</w:t></w:r></w:ins>'
        '<w:del w:id="2" w:author="x"><w:r><w:delText>£12.00</w:delText></w:r></w:del>'
        '<w:sdt><w:sdtContent><w:r><w:t xml:space="preserve"> from May.</w:t></w:r></w:sdtContent></w:sdt></w:p>'))
    body.insert(1, parse_xml(
        f'<w:p {WNS}><w:r><w:t>Harbour notes.</w:t></w:r><w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml">'
        '<v:textbox><w:txbxContent><w:p><w:r><w:t>Berth 3 closes on 2 June.</w:t></w:r></w:p></w:txbxContent>'
        '</v:textbox></v:shape></w:pict></w:r></w:p>'))
    body.insert(2, parse_xml(
        f'<w:tbl {WNS}><w:tr><w:tc><w:p><w:r><w:t>Port</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Day</w:t></w:r></w:p></w:tc></w:tr>'
        '<w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>Kells</w:t></w:r></w:p></w:tc>'
        '<w:tc><w:p><w:r><w:t>Monday</w:t></w:r></w:p></w:tc></w:tr>'
        '<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc><w:p><w:r><w:t>Friday</w:t></w:r></w:p></w:tc></w:tr></w:tbl>'))
    d.save(tmp_path / "changes.docx")
    text, _ = read_with_layout(tmp_path / "changes.docx")
    assert "The fare rises to £14.50 from May." in text and "12.00" not in text
    assert "Harbour notes.\nBerth 3 closes on 2 June." in text  # the box's text after the paragraph, once
    assert "| Kells | Day: Friday |" in text  # the merged cell's text repeated into the row it spans


def test_docx_footnote_follows_the_body_after_its_mark(tmp_path):
    d = docx.Document()
    d.add_paragraph("Placeholder")
    body = d.element.body
    body.remove(body[0])
    body.insert(0, parse_xml(f'<w:p {WNS}><w:r><w:t>Tolls rose 8%</w:t></w:r>'
                             '<w:r><w:footnoteReference w:id="1"/></w:r><w:r><w:t xml:space="preserve"> in 2025.</w:t></w:r></w:p>'))
    notes = (f'<w:footnotes {WNS}><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
             '<w:footnote w:id="1"><w:p><w:r><w:t>Excluding the night crossings.</w:t></w:r></w:p></w:footnote></w:footnotes>')
    part = Part(PackURI("/word/footnotes.xml"),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
                notes.encode(), d.part.package)
    d.part.relate_to(part, RT.FOOTNOTES)
    d.save(tmp_path / "notes.docx")
    text, _ = read_with_layout(tmp_path / "notes.docx")
    assert text.startswith("Tolls rose 8%¹ in 2025.")
    assert text.rstrip().endswith("¹ Excluding the night crossings.")


def test_a_file_named_docx_that_is_not_one_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.docx"
    bad.write_bytes(b"plain text, not a Word file")
    with pytest.raises(CorpusError, match="notes.docx: unreadable Word file"):
        load_file(bad, "notes.docx")


def _reply() -> EmailMessage:
    m = EmailMessage()
    m["Subject"] = "=?utf-8?q?Re=3A_Crew_rota_for_Lo=C3=BCet?="
    m["From"] = "Iona Bryce <iona@example.org>"
    m["To"] = "rota@example.org"
    m["Date"] = format_datetime(dt.datetime(2026, 2, 9, 8, 30, tzinfo=dt.timezone.utc))
    m.set_content(
        "Fine by me: we keep six crews on the Loüet run until the end of March, and the\n"
        "relief skipper starts on the sixteenth as planned by the office.\n\n"
        "On Sun, 8 Feb 2026 at 19:12, Ned Hale <ned@example.org> wrote:\n"
        "> Can we cut the Loüet run to five crews from March? The winter sailings are\n"
        "> only a third full and the second vessel could go to the yard early.\n",
        cte="quoted-printable")
    m.add_alternative("<p>Fine by me: we keep six crews on the Loüet run.</p>", subtype="html")
    return m


def test_email_subject_header_quoted_reply_and_wrapping(tmp_path):
    path = tmp_path / "reply.eml"
    path.write_bytes(bytes(_reply()))
    text, layout = read_with_layout(path)
    lines = text.split("\n")
    assert lines[0] == "Re: Crew rota for Loüet"  # the encoded subject decoded, as the headline
    assert "From: Iona Bryce <iona@example.org>" in lines and "Date: 9 February 2026, 08:30" in lines
    assert layout.headline == 0 and layout.published == "2026-02-09"
    # the plain part, its wrapped lines joined; the quote without its marks, under its attribution
    assert ("Fine by me: we keep six crews on the Loüet run until the end of March, and the relief skipper "
            "starts on the sixteenth as planned by the office.") in lines
    assert "Can we cut the Loüet run to five crews from March? The winter sailings are only a third full and " \
           "the second vessel could go to the yard early." in lines
    assert not any(line.startswith(">") for line in lines) and "<p>" not in text
    _, docs = load_file(path, "reply.eml")
    assert docs[0].title == "Re: Crew rota for Loüet" and docs[0].date == "2026-02-09"


def test_email_html_only_latin1_base64_and_stub_plain_part():
    html_only = EmailMessage()
    html_only["Subject"] = "Harbour dues"
    html_only.set_content("<html><body><h2>Dues</h2><p>Dues at São Brás rise to 3.10 euros per metre.</p></body></html>",
                          subtype="html", charset="iso-8859-1", cte="base64")
    stub = EmailMessage()
    stub["Subject"] = "Weekly bulletin"
    stub.set_content("View this email in your browser.")
    stub.add_alternative("<p>The Kells ferry carried 9,400 passengers in week 6, a record for February, "
                         "and the new gangway at Pier 2 opened on Tuesday after a month of trials.</p>", subtype="html")
    for message, expected in ((html_only, "Dues at São Brás rise to 3.10 euros per metre."),
                              (stub, "The Kells ferry carried 9,400 passengers in week 6")):
        from rag.email_text import email_parts
        from rag.reading import html_parts

        read = email_parts(bytes(message), lambda h: html_parts(h)[0], lambda n, b: None)
        assert expected in read.text and "<" not in read.text


def test_email_attachments_read_or_named_and_a_forward_read_whole(tmp_path):
    message = _reply()
    message.add_attachment(b"vessel,crew\nKittiwake,6\nPetrel,5\n", maintype="text", subtype="csv", filename="crews.csv")
    message.add_attachment(_report(tmp_path / "review.docx").read_bytes(), maintype="application",
                           subtype="vnd.openxmlformats-officedocument.wordprocessingml.document", filename="review.docx")
    message.add_attachment(b"\x89PNG\r\n", maintype="image", subtype="png", filename="map.png")
    forward = EmailMessage()
    forward["Subject"] = "Fwd: the rota"
    forward["Date"] = format_datetime(dt.datetime(2026, 2, 10, 7, 0, tzinfo=dt.timezone.utc))
    forward.set_content("See below.")
    forward.add_attachment(message)  # forwarded as an attachment: a message/rfc822 part
    path = tmp_path / "forward.eml"
    path.write_bytes(bytes(forward))
    text, layout = read_with_layout(path)
    assert text.startswith("Fwd: the rota\n") and layout.published == "2026-02-10"
    assert "Forwarded message:\nSubject: Re: Crew rota for Loüet" in text
    assert "Can we cut the Loüet run to five crews from March?" in text
    assert "| Petrel | crew: 5 |" in text  # a CSV attachment read as a labelled table
    assert "| Brennock | Crossings: 280 | Late: 14 |" in text  # a Word attachment read as the file is
    assert "Attachment: map.png (image/png, not read)" in text  # named, so nothing is lost silently


@pytest.mark.parametrize("charset", [b"iso-8859-1", b"us-ascii", b"x-unknown-8bit"])
def test_email_windows_1252_bytes_under_another_label_read_as_written(charset):
    from rag.email_text import email_parts

    raw = (b"Subject: Fares\nContent-Type: text/plain; charset=" + charset +
           b"\nContent-Transfer-Encoding: 8bit\n\nThe caf\xe9 at Pier 2 calls it \x93the quiet season\x94 \x96 until May.\n")
    text = email_parts(raw, str, lambda n, b: None).text
    assert "The café at Pier 2 calls it “the quiet season” – until May." in text


def test_docx_memo_block_reads_as_label_lines_and_its_properties_title_it(tmp_path):
    d = docx.Document()
    d.core_properties.title = "Dredging contract award memo (DRAFT)"
    d.add_paragraph("MEMORANDUM")
    block = d.add_table(rows=3, cols=2)
    for i, (label, value) in enumerate([("To:", "Harbour Board"), ("Date:", "9 March 2026"), ("Re:", "Dredging award")]):
        block.cell(i, 0).text, block.cell(i, 1).text = label, value
    d.add_paragraph("The panel recommends Tidewater Marine at £2.3m.")
    d.add_heading("1. Background", level=2)  # a section's heading, no title
    d.add_paragraph("Three bids were received.")
    figures = d.add_table(rows=2, cols=2)  # no header row: its first row holds data
    for i, (name, value) in enumerate([("Tidewater Marine", "£2.3m"), ("Calder Dredging", "£2.6m")]):
        figures.cell(i, 0).text, figures.cell(i, 1).text = name, value
    d.save(tmp_path / "memo.docx")
    text, layout = read_with_layout(tmp_path / "memo.docx")
    lines = text.split("\n")
    assert "To: Harbour Board" in lines and "Date: 9 March 2026" in lines  # not a table with "To:" as a header
    assert "| Calder Dredging | £2.6m |" in lines and "|---|---|" not in lines
    _, docs = load_file(tmp_path / "memo.docx", "memo.docx")
    assert docs[0].title == "Dredging contract award memo (DRAFT)" and docs[0].date == "2026-03-09"


def test_docx_heading_in_sentence_case_titles_the_document(tmp_path):
    d = docx.Document()
    d.core_properties.title = "TX board note v2"  # the properties' shorthand gives way to the heading
    d.add_paragraph("BOARD NOTE")
    d.add_paragraph("Meeting: Harbour Board, 25 February 2026")
    d.add_heading("Terminal expansion: full business case and funding", level=1)
    d.add_paragraph("The board is asked to approve the business case for the new terminal.")
    d.save(tmp_path / "note.docx")
    _, docs = load_file(tmp_path / "note.docx", "note.docx")
    assert docs[0].title == "Terminal expansion: full business case and funding"
