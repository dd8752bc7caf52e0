"""Safe serving: no login, no network; with a login, no request without it; uploads that
replace a document keep the old one; hidden files and too many files are refused."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import free_port
from rag.cli import cli


def _never(*a, **k):
    raise AssertionError("the index and model must not load before the serving check")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_serving_beyond_loopback_without_a_login_is_refused_in_one_line(monkeypatch, host):
    import rag.cli as c

    monkeypatch.setattr(c, "_assistant", _never)
    monkeypatch.delenv("RAG_UI_AUTH", raising=False)
    result = CliRunner().invoke(cli, ["ui", "--host", host])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: refusing to serve on {host} without a login")
    assert "--auth" in lines[0] and "RAG_UI_AUTH" in lines[0]


def test_a_malformed_login_is_refused(monkeypatch):
    import rag.cli as c

    monkeypatch.setattr(c, "_assistant", _never)
    monkeypatch.setenv("RAG_UI_AUTH", "just-a-user")
    result = CliRunner().invoke(cli, ["ui", "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "must be user:password" in result.output


def test_loopback_and_login_pass_the_check():
    from ui.serving import check_serving, is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "localhost", "::1", "[::1]"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "::", "my-host"))
    check_serving("127.0.0.1", None)
    check_serving("0.0.0.0", ("ada", "secret"))
    from rag.errors import RagError

    with pytest.raises(RagError, match="refusing to serve on 0.0.0.0"):
        check_serving("0.0.0.0", None)


def _status(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str, dict]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace"), dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace"), dict(err.headers)


def test_with_a_login_a_request_without_credentials_is_rejected(tmp_path):
    from test_ui_unit import FakeAssistant

    from ui.app import launch

    port = free_port()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo = launch("127.0.0.1", port, assistant=FakeAssistant(tmp_path), block=False, quiet=True,
                      auth=("ada", "s3cret"))
    base = f"http://127.0.0.1:{port}"
    try:
        for path in ("/config", "/gradio_api/info"):
            code, body, _ = _status(base + path)
            assert code == 401 and "Not authenticated" in body, (path, code, body[:200])
        call = json.dumps({"data": ["How much did aluminum climb?"]}).encode()
        code, _, _ = _status(base + "/gradio_api/call/ask", call, {"Content-Type": "application/json"})
        assert code == 401
        bad = urllib.parse.urlencode({"username": "ada", "password": "wrong"}).encode()
        assert _status(base + "/login", bad)[0] == 400
        good = urllib.parse.urlencode({"username": "ada", "password": "s3cret"}).encode()
        code, _, headers = _status(base + "/login", good)
        assert code == 200
        cookie = "; ".join(c.split(";", 1)[0] for k, c in headers.items() if k.lower() == "set-cookie")
        assert _status(base + "/config", headers={"Cookie": cookie})[0] == 200
    finally:
        demo.close()


# --- uploads, with the real Assistant ------------------------------------------------------------

@pytest.fixture
def handlers(tmp_path, embedder):
    from rag import Assistant
    from ui.app import Handlers

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tin.txt").write_text("Tin Prices Slide\n\nTin prices fell 4% this week after Indonesia approved exports.\n")
    a = Assistant(corpus=corpus, index_dir=tmp_path / "idx", embedder=embedder, max_upload_files=2, max_file_bytes=2000)
    return Handlers(a)


def _file(folder: Path, name: str, text: str) -> str:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return str(folder / name)


@pytest.mark.integration
def test_upload_of_an_existing_name_replaces_it_and_keeps_the_old_one(handlers, tmp_path):
    corpus = handlers.assistant.config.corpus
    new = _file(tmp_path / "up", "tin.txt", "Tin Prices Rebound\n\nTin prices rose 6% this week on strong demand.\n")
    status, *_ = handlers.add_files([new])
    assert "Replaced tin.txt" in status and ".removed/" in status
    assert "fell 4%" in (corpus / ".removed" / "tin.txt").read_text()
    assert "rose 6%" in handlers.assistant.document_text("tin.txt")
    again = _file(tmp_path / "up2", "tin.txt", "Tin Prices Steady\n\nTin prices held at $30,000 a tonne this week.\n")
    handlers.add_files([again])
    assert "rose 6%" in (corpus / ".removed" / "tin.2.txt").read_text()  # an earlier kept version is not overwritten


@pytest.mark.integration
def test_hidden_oversized_and_too_many_files_are_refused_with_a_message(handlers, tmp_path):
    corpus = handlers.assistant.config.corpus
    hidden = _file(tmp_path / "up", ".secret.txt", "Hidden Article\n\nThis should never be indexed at all.\n")
    with pytest.warns(UserWarning, match="hidden files"):
        status, *_ = handlers.add_files([hidden])
    assert "hidden files" in status and not (corpus / ".secret.txt").exists()
    big = _file(tmp_path / "up", "big.txt", "Big Article\n\n" + "Copper rose again today. " * 200)
    with pytest.warns(UserWarning, match="byte limit"):
        handlers.add_files([big])
    assert not (corpus / "big.txt").exists()
    many = [_file(tmp_path / "up", f"a{i}.txt", f"Article {i}\n\nNickel output rose {i}% this year.\n") for i in range(3)]
    with pytest.warns(UserWarning, match="3 files at once is over the limit of 2"):
        status, *_ = handlers.add_files(many)
    assert "max_upload_files" in status and not any((corpus / f"a{i}.txt").exists() for i in range(3))
    from rag.errors import CorpusError

    with pytest.raises(CorpusError, match="hidden files"):
        handlers.assistant.add_files([hidden])
