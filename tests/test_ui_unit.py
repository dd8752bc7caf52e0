"""Unit tests of the UI: upload checks and event handlers against a fake Assistant built from
``rag.types`` (no models, no index). One test serves the app on a free port and calls the ``ask``
API with gradio_client. The rendering helpers are tested in test_ui_render.py."""

from __future__ import annotations

import socket
import warnings
from pathlib import Path

import docx
import pytest

from ui.app import Handlers, check_upload, create_app, launch_options

from pdfs import one_page_pdf
from ui.uploads import unreadable
from ui_fakes import FakeAssistant


@pytest.fixture
def fake(tmp_path):
    return FakeAssistant(tmp_path)


def _is_skip(value) -> bool:
    return isinstance(value, dict) and value.get("__type__") == "update" and len(value) == 1


# --- upload checks ------------------------------------------------------------------------

def test_check_upload(tmp_path):
    ok = tmp_path / "a.md"
    ok.write_text("# Title\n\nSome text about nickel.", encoding="utf-8")
    assert check_upload(ok, 1000) is None
    html_file = tmp_path / "b.HTML"
    html_file.write_text("<html><body><p>caf\u00e9</p></body></html>", encoding="utf-8")
    assert check_upload(html_file, 1000) is None
    slides = tmp_path / "c.pptx"
    slides.write_bytes(b"PK\x03\x04")
    assert "unsupported type" in check_upload(slides, 1000)
    pdf = tmp_path / "c.pdf"  # the library reads PDFs, so the upload takes them
    pdf.write_bytes(one_page_pdf("The pier cost 4.2 million euros."))
    assert check_upload(pdf, 1000) is None and unreadable(pdf) is None
    renamed = tmp_path / "notes.pdf"
    renamed.write_text("just text, named .pdf", encoding="utf-8")
    assert "not a PDF" in check_upload(renamed, 1000)
    word = tmp_path / "memo.docx"  # a Word file: a zip package, binary, yet read
    document = docx.Document()
    document.add_paragraph("The pier cost 4.2 million euros.")
    document.save(word)
    assert check_upload(word, 100_000) is None and unreadable(word) is None
    fake_word = tmp_path / "fake.docx"
    fake_word.write_text("just text, named .docx", encoding="utf-8")
    assert "not a Word file" in check_upload(fake_word, 1000)
    mail = tmp_path / "note.eml"
    mail.write_text("Subject: Pier\nFrom: a@example.org\n\nThe pier cost 4.2 million euros.\n", encoding="utf-8")
    assert check_upload(mail, 1000) is None and unreadable(mail) is None
    broken = tmp_path / "broken.pdf"  # a PDF header and nothing the reader can use
    broken.write_bytes(b"%PDF-1.4\n%%EOF\n")
    assert check_upload(broken, 1000) is None and unreadable(broken)
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
