"""A table's rows stand alone: each cell after the first carries its column's header, so a
chunk that holds rows without the header row still says what each figure is.

Every example is written for these tests.
"""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup

from rag.chunking import chunk
from rag.ingest import load_file
from rag.tables import label_html_table, label_markdown_tables

_ROWS = [("Northgate", "41", "38"), ("Southmere", "27", "33"), ("Eastholm", "19", "22"), ("Westbury", "55", "49"),
         ("Kingsmoor", "12", "17"), ("Fairlow", "64", "60"), ("Ashby Vale", "30", "35"), ("Brookfield", "8", "11")]


def _page(head: str) -> str:
    rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in _ROWS)
    return (f"<html><body><article><h1>Fewer pupils in most district schools this autumn</h1>"
            f"<p>The district counted its pupils in the first week of term, the education office said on Monday.</p>"
            f"<table>{head}<tbody>{rows}</tbody></table>"
            f"<p>The office said two new housing estates explained the rise in Kingsmoor and Brookfield.</p>"
            f"</article></body></html>")


def _text(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    (doc,) = load_file(path, name)[1]
    return doc.text


def test_each_row_of_an_html_table_names_its_columns(tmp_path: Path):
    text = _text(tmp_path, "schools.html", _page("<thead><tr><th>School</th><th>2025</th><th>2026</th></tr></thead>"))
    assert "Southmere | 2025: 27 | 2026: 33" in text
    assert "School | 2025 | 2026" in text  # the header row itself stays as it was


def test_a_first_row_of_header_cells_labels_the_rows_below(tmp_path: Path):
    text = _text(tmp_path, "schools.html", _page("<tr><th>School</th><th>Pupils in 2025</th><th>Pupils in 2026</th></tr>"))
    assert "Westbury | Pupils in 2025: 55 | Pupils in 2026: 49" in text


def test_a_table_without_a_header_row_is_left_as_it_is(tmp_path: Path):
    text = _text(tmp_path, "schools.html", _page(""))
    assert "Westbury | 55 | 49" in text and ":" not in text.split("Westbury", 1)[1].split("\n", 1)[0]


def test_a_row_that_spans_columns_and_a_nested_table_keep_their_cells():
    soup = BeautifulSoup("<table><thead><tr><th>Line</th><th>Stops</th><th>Minutes</th></tr></thead>"
                         "<tr><td colspan='3'>Weekend service</td></tr>"
                         "<tr><td>Red</td><td><table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>"
                         "</td><td>14</td></tr></table>", "html.parser")
    for table in soup.find_all("table"):  # as the reader does: the outer table, then the nested one
        label_html_table(table)
    cells = [c.get_text("|", strip=True) for c in soup.find_all("td")]
    assert cells[0] == "Weekend service"  # one cell under three headers: labelled by none
    assert cells[-1] == "Minutes:|14"
    assert "B:|2" in cells  # the nested table is labelled by its own header, not the outer one


def test_markdown_table_rows_name_their_columns():
    text = ("Pupils by school:\n\n| School | 2025 | 2026 |\n|---|:---:|---:|\n| Northgate | 41 | 38 |\n"
            "| Southmere | 27 | |\n\nThe office said numbers would be checked again in January.\n")
    out = label_markdown_tables(text)
    assert "| Northgate | 2025: 41 | 2026: 38 |" in out
    assert "| Southmere | 2025: 27 |  |" in out  # an empty cell stays empty
    assert out.endswith("The office said numbers would be checked again in January.\n")
    assert label_markdown_tables("Scores: 3 | 4 | 5\nno rule below\n") == "Scores: 3 | 4 | 5\nno rule below\n"


def test_a_chunk_of_rows_without_the_header_still_says_what_each_figure_is(tmp_path: Path):
    path = tmp_path / "schools.html"
    path.write_text(_page("<thead><tr><th>School</th><th>2025</th><th>2026</th></tr></thead>"), encoding="utf-8")
    (doc,) = load_file(path, "schools.html")[1]
    chunks = chunk(doc, max_tokens=40, overlap=0)
    later = [c for c in chunks if "Fairlow" in c.text]
    assert later and "School | 2025" not in later[0].text
    assert "Fairlow | 2025: 64 | 2026: 60" in later[0].text


def test_a_unit_the_header_gives_in_brackets_goes_with_each_figure():
    soup = BeautifulSoup("<table><thead><tr><th>Service</th><th>2026 (€m)</th><th>Change (%)</th><th>Route (km)</th>"
                         "<th>Name (first)</th></tr></thead><tr><td>Buses</td><td>18.9</td><td>-7.4</td><td>1,230</td>"
                         "<td>12</td></tr></table>", "html.parser")
    label_html_table(soup.table)
    row = " | ".join(c.get_text().strip() for c in soup.find_all("td"))
    assert row == "Buses | 2026 (€m): €18.9m | Change (%): -7.4% | Route (km): 1,230 km | Name (first): 12"
    md = label_markdown_tables("| Service | 2026 ($bn) |\n|---|---|\n| Rail | -0.4 |\n")
    assert "| Rail | 2026 ($bn): -$0.4bn |" in md


def test_a_figure_with_its_headers_unit_backs_the_answer_in_that_unit():
    from test_grounding_review import backed

    soup = BeautifulSoup("<table><thead><tr><th>Service</th><th>2026 (€m)</th></tr></thead>"
                         "<tr><td>Buses</td><td>18.9</td></tr></table>", "html.parser")
    label_html_table(soup.table)
    row = " | ".join(c.get_text().strip() for c in soup.find_all("td"))
    assert backed("The buses budget is €18.9 million in 2026 [1].", row, "What is the buses budget for 2026?")


def test_a_column_of_dates_under_a_meta_label_stays_bare_and_dates_nothing():
    """Review 6: a column headed "Updated" made its first cell read "Updated: 2026-03-01", a meta
    line that dated the article; "(m)" may be metres or millions and "(SNP)" a party: no unit."""
    soup = BeautifulSoup("<table><thead><tr><th>Dataset</th><th>Updated</th><th>Height (m)</th><th>Seats (SNP)</th>"
                         "</tr></thead><tr><td>Tides</td><td>2026-03-01</td><td>330</td><td>12</td></tr></table>",
                         "html.parser")
    label_html_table(soup.table)
    row = " | ".join(c.get_text().strip() for c in soup.find_all("td"))
    assert row == "Tides | 2026-03-01 | Height (m): 330 | Seats (SNP): 12"
