"""Front matter: a markdown or text file's opening metadata block gives the document's title and
date, never its title line "---: title: ..."; its other fields stay text; a block that is no
metadata (a rule above prose) is read as text. Examples written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.front_matter import read_front_matter
from rag.ingest import load_file

_BODY = ("Grain shipments through Port Halvard rose 12% in the first quarter, the port authority said on Friday.\n\n"
         "The authority handled 2.4 million tonnes of wheat and barley, up from 2.1 million a year earlier.\n")


def _load(tmp_path: Path, text: str, name: str = "note.md"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_file(path, name)


def test_yaml_front_matter_gives_title_and_date_and_keeps_other_fields(tmp_path):
    text = ('---\ntitle: "Quarterly grain shipments rise at Port Halvard"\ndate: 2026-03-14\n'
            "author: Mira Olsen\ntags: [shipping, grain]\n---\n\n" + _BODY)
    source, (doc,) = _load(tmp_path, text)
    assert doc.title == "Quarterly grain shipments rise at Port Halvard"
    assert doc.date == "2026-03-14"
    kept = "".join(source[a:b] for a, b in doc.spans)
    assert "Mira Olsen" in kept  # the author is a fact of the file: not thrown away
    assert "2.4 million tonnes" in kept


def test_a_headline_below_front_matter_stays_the_title(tmp_path):
    text = "---\ntitle: Grain note\ndate: '14 March 2026'\n---\n\n# Port Halvard Grain Shipments Rise\n\n" + _BODY
    _, (doc,) = _load(tmp_path, text)
    assert doc.title == "Port Halvard Grain Shipments Rise"
    assert doc.date == "2026-03-14"


def test_a_heading_that_is_no_headline_stays_text_under_the_declared_title(tmp_path):
    text = "---\ntitle: Grain note\n---\n\n# Port Halvard grain shipments up 12%\n\n" + _BODY
    source, (doc,) = _load(tmp_path, text)
    assert doc.title == "Grain note"
    assert "shipments up 12%" in "".join(source[a:b] for a, b in doc.spans)


def test_toml_front_matter_and_a_date_time_string(tmp_path):
    text = '+++\ntitle = "Ferry fares frozen for 2027"\npublished = "2026-11-02T08:15:00Z"\n+++\n\n' + _BODY
    _, (doc,) = _load(tmp_path, text, "fares.txt")
    assert (doc.title, doc.date) == ("Ferry fares frozen for 2027", "2026-11-02")


@pytest.mark.parametrize("text", [
    "---\n\nThe river rose two metres overnight, the agency said.\n\n---\n\n" + _BODY,  # rules around prose
    "---\ntitle: [unclosed\n---\n\n" + _BODY,  # does not parse
    "---\ntitle: Never closed\n\n" + _BODY,  # no closing fence
])
def test_a_block_that_is_no_metadata_is_none(text):
    assert read_front_matter(text) is None


def test_the_block_ends_past_its_closing_fence():
    text = "---\ntitle: A\n...\nBody line.\n"
    meta = read_front_matter(text)
    assert meta is not None and text[meta.end:] == "Body line.\n"
