"""Unit tests of the UI: rendering helpers and event handlers against a fake Assistant
built from ``rag.types`` (no models, no index). One test serves the app on a free port
and calls the ``ask`` API with gradio_client."""

from __future__ import annotations

import json
import re
import socket
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from rag.config import Config
from rag.errors import CorpusError, QuestionError, RagError
from rag.types import Answer, Citation, Passage, Timings

from ui import render
from ui.app import Handlers, check_upload, create_app, launch_options

ALU = (
    "Aluminum Hits Three-Year High\n\n"
    "Aluminum prices surged to their highest level since May 2022. In October alone, aluminum "
    "climbed more than 7%, marking its strongest monthly performance in over a year. "
    "Analysts said <tight> supply & demand drove the move."
)
COPPER = "Copper Soars\n\nCopper hit a record $11,200 a tonne on supply disruptions at big mines."


def _passage(source: str, text: str, needle: str, rank: int, score: float = 0.6, title: str = "T") -> Passage:
    start = text.index(needle)
    return Passage(chunk_id=f"{source}:{rank}", source=source, title=title, date="2025-11-01",
                   text=needle, start=start, end=start + len(needle), score=score, rank=rank)


P1 = _passage("000_alu.txt", ALU, "In October alone, aluminum climbed more than 7%", 1, title="Aluminum Hits Three-Year High")
P2 = _passage("001_cu.txt", COPPER, "Copper hit a record $11,200 a tonne", 2, 0.41, title="Copper Soars")
P3 = _passage("000_alu.txt", ALU, "Analysts said <tight> supply & demand drove the move.", 3, 0.35,
              title="Aluminum Hits Three-Year High")


def make_answer(text="Aluminum climbed more than 7% in October [1].", cited=(1,), passages=(P1, P2, P3), **kw) -> Answer:
    passages = list(passages)
    return Answer(question=kw.pop("question", "How much did aluminum climb?"), text=text,
                  citations=[Citation(m, passages[m - 1]) for m in cited], passages=passages,
                  refused=kw.pop("refused", False), timings=Timings(0.05, 0.4, 1.5, 300, 20),
                  model="fake-model", **kw)


class FakeIndexReport:
    def __init__(self, **kw):
        self.files, self.added, self.updated, self.removed, self.unchanged = 0, 0, 0, 0, 0
        self.embedded, self.n_chunks, self.skipped = 0, 0, []
        self.__dict__.update(kw)


class FakeDoc:
    def __init__(self, source, title, date, n_chunks, n_chars):
        self.source, self.title, self.date, self.n_chunks, self.n_chars = source, title, date, n_chunks, n_chars


class FakeAssistant:
    """The Assistant API surface the UI uses, with canned answers."""

    def __init__(self, tmp: Path):
        self.config = Config(corpus=tmp / "corpus", index_dir=tmp / "index", model="fake-model",
                             max_question_chars=200, max_file_bytes=10_000)
        self.texts = {"000_alu.txt": ALU, "001_cu.txt": COPPER}
        self.calls: list[dict] = []

    def stream(self, question, *, history=None, k=None, temperature=None, model=None):
        q = " ".join((question or "").split())
        if not q:
            raise QuestionError("the question is empty; ask something about the articles")
        if len(q) > self.config.max_question_chars:
            raise QuestionError(f"the question is {len(q):,} characters long; the limit is 200")
        self.calls.append({"question": q, "history": history, "k": k, "temperature": temperature, "model": model})
        if "explode" in q:
            raise CorpusError("the index is broken <b>badly</b>")
        if "zorblax" in q.lower():
            yield "The articles do not say."
            yield Answer(question=q, text="The articles do not say.", citations=[], passages=[P2], refused=True,
                         low_confidence=True, model="fake-model")
            return
        text = "Aluminum climbed more than 7% in October [1]."
        for piece in ("Aluminum ", "climbed more than 7% ", "in October [1]."):
            yield piece
        yield make_answer(text, question=q, standalone_question=("How much did aluminum climb?" if history else None))

    def ask(self, question, **kw):
        final = None
        for ev in self.stream(question, **kw):
            if isinstance(ev, Answer):
                final = ev
        return final

    def document_text(self, source):
        try:
            return self.texts[source]
        except KeyError:
            raise CorpusError(f"no document {source!r} in the index") from None

    def documents(self):
        return [FakeDoc(s, t.split("\n", 1)[0], "2025-11-01", 2, len(t)) for s, t in sorted(self.texts.items())]

    def add_files(self, paths, progress=None):
        for i, p in enumerate(paths):
            if progress:
                progress(i, len(paths), "embedding")
            self.texts[Path(p).name] = Path(p).read_text(encoding="utf-8")
        return FakeIndexReport(files=len(self.texts), added=len(paths), embedded=3, n_chunks=7)

    def remove_document(self, source):
        if source not in self.texts:
            raise CorpusError(f"no document {source!r}")
        del self.texts[source]
        return FakeIndexReport(files=len(self.texts), removed=1, n_chunks=4)


@pytest.fixture
def fake(tmp_path):
    return FakeAssistant(tmp_path)


def _is_skip(value) -> bool:
    return isinstance(value, dict) and value.get("__type__") == "update" and len(value) == 1


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


# --- upload checks ------------------------------------------------------------------------

def test_check_upload(tmp_path):
    ok = tmp_path / "a.md"
    ok.write_text("# Title\n\nSome text about nickel.", encoding="utf-8")
    assert check_upload(ok, 1000) is None
    html_file = tmp_path / "b.HTML"
    html_file.write_text("<html><body><p>caf\u00e9</p></body></html>", encoding="utf-8")
    assert check_upload(html_file, 1000) is None
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    assert "unsupported type" in check_upload(pdf, 1000)
    big = tmp_path / "d.txt"
    big.write_text("x" * 2000)
    assert "over the 1,000-byte limit" in check_upload(big, 1000)
    binary = tmp_path / "e.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "binary" in check_upload(binary, 1000)
    noisy = tmp_path / "f.txt"
    noisy.write_bytes(bytes([0xFF, 0x01, 0x02, 0x03]) * 50)
    assert "does not look like text" in check_upload(noisy, 1000)
    empty = tmp_path / "g.txt"
    empty.write_bytes(b"")
    assert "empty" in check_upload(empty, 1000)
    utf16 = tmp_path / "h.txt"  # NUL bytes, but text by its byte-order mark: the library reads it
    utf16.write_bytes("Nickel rose 2%.".encode("utf-16"))
    assert check_upload(utf16, 1000) is None


# --- handlers -----------------------------------------------------------------------------

def test_accept_rejects_empty_and_huge_questions(fake):
    h = Handlers(fake)
    with pytest.warns(UserWarning, match="question is empty; type a question"):
        out = h.accept("   ", [], [])
    assert _is_skip(out[1]) and out[2] == ""
    with pytest.warns(UserWarning, match="limit is 200"):
        out = h.accept("x " * 150, [], [])
    assert _is_skip(out[1]) and out[2] == ""
    _, chat, pending, _ = h.accept("  Why <did> aluminum rise? ", [], [])
    assert pending == "Why <did> aluminum rise?"
    assert chat[0] == {"role": "user", "content": "Why &lt;did&gt; aluminum rise?"}
    assert chat[1]["role"] == "assistant" and "Searching" in chat[1]["content"]
    assert "Rewriting" in h.accept("and copper?", chat, [{"role": "user", "content": "q"}])[1][-1]["content"]
    # markdown in a question is shown as typed: no image the browser would fetch from outside
    _, chat, _, _ = h.accept("Why? ![p](http://127.0.0.1:9/track.png)", [], [])
    assert "![" not in chat[0]["content"] and "](" not in chat[0]["content"] and "track.png" in chat[0]["content"]


def test_answer_streams_then_renders_citations_and_sources(fake):
    h = Handlers(fake)
    _, chat, pending, _ = h.accept("How much did aluminum climb?", [], [])
    outs = list(h.answer(pending, chat, [], [], k=4, model="fake-model", temperature=0.0))
    partial = [o[0][-1]["content"] for o in outs[:-1]]
    assert len(partial) == 3 and "Aluminum" in partial[0] and "rag-cursor" in partial[0]
    chat, history, turns, sources, pending_after = outs[-1][:5]
    assert 'href="#src-0-1"' in chat[-1]["content"]
    assert history == [{"role": "user", "content": "How much did aluminum climb?"},
                       {"role": "assistant", "content": "Aluminum climbed more than 7% in October [1]."}]
    assert len(turns) == 1 and pending_after == ""
    assert '<mark class="cited-span">In October alone, aluminum climbed more than 7%</mark>' in sources
    # settings equal to the configured ones are not passed on; history empty -> None
    assert fake.calls[-1] == {"question": "How much did aluminum climb?", "history": None, "k": None,
                              "temperature": None, "model": None}


def test_follow_up_passes_history_and_settings(fake):
    h = Handlers(fake)
    first = list(h.answer("How much did aluminum climb?", [{"role": "user", "content": "q"}], [], []))[-1]
    chat, history, turns = first[0], first[1], first[2]
    _, chat, pending, _ = h.accept("and copper?", chat, history)
    last = list(h.answer(pending, chat, history, turns, k=6, model="qwen2.5-0.5b", temperature=0.3))[-1]
    call = fake.calls[-1]
    assert call["history"] == history and call["k"] == 6 and call["model"] == "qwen2.5-0.5b"
    assert call["temperature"] == 0.3
    assert "Searched for" in last[0][-1]["content"]
    assert len(last[2]) == 2 and 'id="src-1-1"' in last[3] and 'id="src-0-1"' in last[3]


def test_refusal_is_rendered_differently(fake):
    h = Handlers(fake)
    last = list(h.answer("Who owns Zorblax?", [{"role": "assistant", "content": ""}], [], []))[-1]
    assert "rag-refusal" in last[0][-1]["content"] and "rag-lowconf" in last[0][-1]["content"]


def test_library_errors_become_messages_not_tracebacks(fake):
    h = Handlers(fake)
    with pytest.warns(UserWarning, match="index is broken"):
        last = list(h.answer("please explode", [{"role": "assistant", "content": ""}], [], []))[-1]
    content = last[0][-1]["content"]
    assert "rag-error" in content and "&lt;b&gt;badly&lt;/b&gt;" in content and "Traceback" not in content
    assert last[4] == ""  # pending cleared; textbox re-enabled
    assert all(_is_skip(v) for v in list(h.answer("", [], [], []))[-1])  # no pending question: no change

    class Crashing(FakeAssistant):
        def stream(self, *a, **kw):
            raise ZeroDivisionError("boom")
            yield  # pragma: no cover

    h2 = Handlers(Crashing(Path(fake.config.corpus).parent))
    with pytest.warns(UserWarning, match="ZeroDivisionError"):
        last = list(h2.answer("q", [{"role": "assistant", "content": ""}], [], []))[-1]
    assert "Something went wrong" in last[0][-1]["content"]


def test_ask_api_handler(fake):
    import gradio as gr

    h = Handlers(fake)
    d = h.ask("How much did aluminum climb?")
    assert d["citations"][0]["title"] == "Aluminum Hits Three-Year High"
    with pytest.raises(gr.Error, match="empty"):
        h.ask(" ")


def test_upload_add_list_and_remove(fake, tmp_path):
    h = Handlers(fake)
    good = tmp_path / "zorblax.txt"
    good.write_text("Zorblax Metals\n\nThe mine produced 48,700 tonnes of nickel.", encoding="utf-8")
    bad = tmp_path / "photo.txt"
    bad.write_bytes(b"\x89PNG\x00\x00")
    wrong = tmp_path / "slides.pptx"
    wrong.write_bytes(b"PK\x03\x04")
    seen = []

    def progress(value, desc=None, **kw):
        seen.append((value, desc))

    with pytest.warns(UserWarning, match="photo.txt: it is a binary file"):
        status, docs_html, dropdown, reset = h.add_files([str(good), str(bad), str(wrong)], progress)
    assert "Added zorblax.txt" in status and "1 added" in status and "slides.pptx" in status
    assert "zorblax.txt" in docs_html and "3 documents" in docs_html
    assert reset is None and ("zorblax.txt" in str(dropdown.choices))
    assert any(desc == "embedding" for _, desc in seen)
    assert "photo.txt" not in fake.texts
    # a file the library cannot read once loaded (whitespace only) is named; the good one beside it is added
    blank, other = tmp_path / "blank.txt", tmp_path / "other.txt"
    blank.write_text("   \n\n  ")
    other.write_text("Other Metals\n\nThe smelter cast 1,200 tonnes of tin.", encoding="utf-8")
    with pytest.warns(UserWarning, match="blank.txt: empty file"):
        status, *_ = h.add_files([str(other), str(blank)], progress)
    assert "Added other.txt" in status and str(tmp_path) not in status
    h.remove("other.txt")
    twin = tmp_path / "twin"
    twin.mkdir()
    (twin / "other.txt").write_text("Other Metals\n\nA second text of the same name.", encoding="utf-8")
    with pytest.warns(UserWarning, match="another file of this name is in the same upload"):
        status, *_ = h.add_files([str(other), str(twin / "other.txt")], progress)
    assert "Added other.txt" in status and "other.txt, other.txt" not in status
    h.remove("other.txt")

    assert "48,700" in h.open_article("zorblax.txt")
    status, docs_html, _, article = h.remove("zorblax.txt")
    assert "Removed zorblax.txt" in status and "zorblax.txt" not in docs_html and article == ""
    with pytest.warns(UserWarning, match="no document"):
        status, *_ = h.remove("zorblax.txt")
    assert "rag-error" in status
    with pytest.warns(UserWarning, match="Pick a document"):
        h.remove(None)


def test_theme_uses_no_web_fonts(fake):
    opts = launch_options(fake)
    theme = opts["theme"]
    assert theme._stylesheets == [] and not any("googleapis" in str(s) for s in theme._stylesheets)
    assert "system-ui" in theme.font
    assert opts["max_file_size"] > fake.config.max_file_bytes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_app_serves_ask_api_with_gradio_client(fake):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    demo = create_app(fake)
    port = _free_port()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                    **launch_options(fake))
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        result = client.predict("How much did aluminum climb?", api_name="/ask")
        assert result["text"] == "Aluminum climbed more than 7% in October [1]."
        assert result["citations"][0]["marker"] == 1 and result["citations"][0]["source"] == "000_alu.txt"
        with pytest.raises(AppError, match="empty"):
            client.predict("", api_name="/ask")
        api = client.view_api(print_info=False, return_format="dict")
        assert list(api["named_endpoints"]) == ["/ask"]  # the UI events are not part of the API
    finally:
        demo.close()


def test_a_model_not_offered_is_refused_not_loaded(fake):
    h = Handlers(fake)
    with pytest.warns(UserWarning, match="not one of the models offered"):
        last = list(h.answer("How much did aluminum climb?", [], [], [], model="/srv/index/store.sqlite"))[-1]
    assert "not one of the models offered" in last[0][-1]["content"] and not fake.calls
