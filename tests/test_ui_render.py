"""Unit tests of the UI's rendering helpers (``ui.render``): citation links, answers, the sources
panel, documents and index reports, built from hand-made answers (no models, no index)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

from rag.errors import CorpusError

from ui import render

from ui_fakes import ALU, COPPER, P1, P2, P3, FakeDoc, FakeIndexReport, make_answer


# --- render -----------------------------------------------------------------------------

def test_markers_become_links_with_tooltips():
    out = render.link_markers("Prices rose [1] and fell [2]; see [9].", [P1, P2], turn=3)
    links = re.findall(r'<a class="cite" href="#(src-3-\d)" title="([^"]*)">\[(\d)\]</a>', out)
    assert [(a, n) for a, _, n in links] == [("src-3-1", "1"), ("src-3-2", "2")]
    assert "Aluminum Hits Three-Year High" in links[0][1] and "2025-11-01" in links[0][1]
    assert "000_alu.txt" in links[0][1]
    assert "[9]" in out and 'href="#src-3-9"' not in out  # no passage 9: left as text


def test_answer_text_is_escaped():
    out = render.link_markers('<script>alert("x")</script> fact [1]', [P1], 0)
    assert "<script>" not in out and "&lt;script&gt;" in out
    tip = render.link_markers("x [1]", [P3], 0)
    assert "&lt;tight&gt; supply &amp; demand" in tip  # tooltip snippet escaped inside the attribute


def test_render_answer_plain_refused_lowconf_and_rewritten():
    plain = render.render_answer(make_answer(), 0)
    assert "rag-refusal" not in plain and "rag-lowconf" not in plain
    assert 'href="#src-0-1"' in plain and "1 of 3 retrieved passages cited" in plain and "fake-model" in plain

    refused = render.render_answer(make_answer("The articles do not say who won.", cited=(), refused=True), 1)
    assert 'class="rag-refusal"' in refused and "Not in the articles" in refused

    low = render.render_answer(make_answer(low_confidence=True), 2)
    assert "rag-lowconf" in low and "Low-confidence" in low

    follow = render.render_answer(make_answer(question="and copper?", standalone_question="What happened to copper prices?"), 0)
    assert "Searched for" in follow and "What happened to copper prices?" in follow
    assert "Searched for" not in render.render_answer(make_answer(standalone_question="How much did aluminum climb?"), 0)


def test_uncited_answer_is_flagged():
    assert "cites no passage" in render.render_answer(make_answer("Something.", cited=()), 0)


def test_streaming_render_escapes_and_marks_cursor():
    out = render.render_streaming("a <b> [2]")
    assert "&lt;b&gt;" in out and 'cite-pending">[2]' in out and "rag-cursor" in out


def test_context_window_trims_to_words():
    text = "alpha beta gamma delta epsilon zeta eta theta"
    s = text.index("delta")
    before, span, after, cut_b, cut_a = render.context_window(text, s, s + 5, chars=9)
    assert span == "delta" and cut_b and cut_a
    assert before == "gamma " and after == " epsilon"
    assert render.context_window("abc", 0, 3) == ("", "abc", "", False, False)


def test_sources_panel_marks_cited_span_in_context():
    ans = make_answer()
    out = render.render_sources([(0, ans)], {"000_alu.txt": ALU, "001_cu.txt": COPPER}.get)
    cited_card = out.split('id="src-0-1"', 1)[1].split("</article>", 1)[0]
    assert '<mark class="cited-span">In October alone, aluminum climbed more than 7%</mark>' in cited_card
    assert "Aluminum prices surged" in cited_card  # surrounding text
    assert "2025-11-01" in cited_card and "000_alu.txt" in cited_card and "Aluminum Hits Three-Year High" in cited_card
    assert "Open the whole article" in cited_card
    # uncited passages are present but set apart
    assert "Retrieved but not cited (2)" in out
    assert 'class="src-card uncited" id="src-0-2"' in out and 'class="src-card uncited" id="src-0-3"' in out
    assert out.index("src-0-1") < out.index("Retrieved but not cited")
    # article text is escaped
    assert "&lt;tight&gt; supply &amp; demand" in out and "<tight>" not in out


def test_sources_panel_keeps_earlier_answers_and_survives_missing_documents():
    a0, a1 = make_answer(), make_answer(question="copper?", cited=(2,))
    out = render.render_sources([(0, a0), (1, a1)], lambda s: None)  # documents gone
    assert 'id="src-1-2"' in out and 'id="src-0-1"' in out
    assert out.index('id="src-1-2"') < out.index("Sources of answer 1")
    assert '<mark class="cited-span">Copper hit a record $11,200 a tonne</mark>' in out
    assert "no longer available" in out

    def broken(source):
        raise CorpusError("gone")
    assert 'id="src-0-1"' in render.render_sources([(0, a0)], broken)
    assert "Sources appear here" in render.render_sources([], broken)


def test_sources_panel_flags_refusal_and_low_confidence():
    ans = make_answer("The articles do not say.", cited=(), refused=True, low_confidence=True)
    out = render.render_sources([(0, ans)], lambda s: None)
    assert "No passage was cited" in out and "rag-refusal-badge" in out and "low-confidence" in out


def test_document_list_and_article():
    docs = [FakeDoc("a.txt", "<A>", None, 3, 1200), FakeDoc("b.md", "B", "2025-10-30", 2, 800)]
    out = render.render_documents(docs)
    assert "2 documents · 5 passages · 2,000 characters" in out
    assert "&lt;A&gt;" in out and "<code>b.md</code>" in out and "1,200" in out
    assert "No documents" in render.render_documents([])
    glued = SimpleNamespace(source="c.txt", title="First", date=None, n_chunks=1, n_chars=10, articles=("First", "Second"))
    assert "First<br>Second" in render.render_documents([glued])
    art = render.render_article("a.txt", "x < y", "Title", "2025-01-01")
    assert "x &lt; y" in art and "Title" in art and "2025-01-01" in art


def test_trim_answer_is_json():
    d = render.trim_answer(make_answer())
    json.dumps(d)
    assert d["text"].endswith("[1].") and d["refused"] is False
    c = d["citations"][0]
    assert c["marker"] == 1 and c["source"] == "000_alu.txt" and ALU[c["start"]:c["end"]] == c["text"]
    assert len(d["retrieved"]) == 3


def test_index_report_summary():
    out = render.render_index_report(FakeIndexReport(added=1, embedded=3, n_chunks=9, skipped=[("x.txt", "binary <b>")]))
    assert "1 added" in out and "3 passages embedded" in out and "9 passages in the index" in out
    assert "&lt;b&gt;" in out
