"""End-to-end test of the chat UI in a real (headless) Chromium with the real pipeline:
the Assistant runs on a temporary copy of the seeds corpus with a temporary index, the
smallest model that reliably cites (qwen2.5-0.5b). Requests that leave the loopback
interface are blocked, so the page is also shown to work with the network cut off.

Run: ``pytest -q tests/test_ui_browser.py`` (needs /usr/bin/chromium:
``apt-get install -y chromium chromium-driver``). Saves ``ui-screenshot.png`` at the repo root.
"""

from __future__ import annotations

import re
import shutil
import socket
import warnings
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
SCREENSHOT = REPO / "ui-screenshot.png"
MODEL = "qwen2.5-0.5b"
SEED_QUESTION = "Why did aluminum prices hit a three-year high?"
FOLLOW_UP = "and copper?"
ZORBLAX_QUESTION = "How many tonnes of nickel did the Quillon Ridge mine of Zorblax Metals produce?"
ZORBLAX_ARTICLE = """Zorblax Metals Opens Quillon Ridge Nickel Mine

November 3, 2025

Zorblax Metals said on Monday that its new Quillon Ridge nickel mine produced 48,700 tonnes of nickel in its first \
year of operation. Chief executive Mara Vell said the mine would supply battery makers in Europe and that a second \
shaft would open in 2027.
"""

pytestmark = pytest.mark.integration

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium chromium-driver` "
                "to run the browser test", allow_module_level=True)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _norm(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The real app on a free loopback port: (url, corpus folder)."""
    from rag import Assistant
    from ui.app import launch

    tmp = tmp_path_factory.mktemp("ui")
    corpus = tmp / "corpus"
    shutil.copytree(REPO / "seeds", corpus)
    assistant = Assistant(corpus=corpus, index_dir=tmp / "index", model=MODEL)
    port = _free_port()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo = launch("127.0.0.1", port, assistant=assistant, block=False, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", corpus
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _offline_page(browser, blocked: list[str]):
    """A page whose requests to anything but loopback are aborted (and recorded)."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})

    def route(r):
        url = r.request.url
        host = urlparse(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host in LOOPBACK:
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def _ask(page, question: str, *, check_streaming: bool = True, timeout_ms: int = 150_000):
    """Type a question, (optionally) check that tokens stream in, wait for the final
    answer; returns the locator of the last bot message."""
    n_before = page.locator("#chat .rag-footer").count()
    page.fill("#question textarea", question)
    page.click("#ask-btn")
    if check_streaming:
        # the blinking cursor is only there while tokens are arriving, before the final render
        page.wait_for_selector("#chat .rag-cursor", timeout=timeout_ms)
        partial = _norm(page.locator("#chat [data-testid='bot']").last.inner_text().replace("▍", ""))
        assert partial and "Searching the articles" not in partial
    page.wait_for_function(
        f"document.querySelectorAll('#chat .rag-footer').length > {n_before}", timeout=timeout_ms)
    assert page.locator("#chat .rag-cursor").count() == 0
    return page.locator("#chat [data-testid='bot']").last


def _toasts(page) -> str:
    return " ".join(page.locator("[data-testid='toast-body']").all_inner_texts())


def test_chat_citations_sources_and_upload(app, browser, tmp_path):
    url, corpus = app
    blocked: list[str] = []
    page = _offline_page(browser, blocked)
    page.goto(url)
    page.wait_for_selector("#question textarea")

    # bad input gets a visible message, no traceback
    page.click("#ask-btn")
    page.wait_for_selector("[data-testid='toast-body']:has-text('Type a question')")
    page.fill("#question textarea", "nickel " * 400)
    page.click("#ask-btn")
    page.wait_for_selector("[data-testid='toast-body']:has-text('the limit is')")
    assert "Traceback" not in page.content()

    # a question from the seeds: streamed answer with at least one citation marker
    answer = _ask(page, SEED_QUESTION)
    markers = answer.locator("a.cite")
    assert markers.count() >= 1, answer.inner_text()
    assert re.search(r"\[\d+\]", answer.inner_text())
    assert markers.first.get_attribute("title")  # hover tooltip: title, date, file, snippet

    # clicking a marker highlights its card in the sources panel
    href = markers.first.get_attribute("href")
    markers.first.click()
    card = page.locator(f"#sources article{href}")
    page.wait_for_selector(f"#sources article{href}.active")
    assert "cited" in card.get_attribute("class").split()
    source = card.locator(".src-file").inner_text().strip()
    article_text = (corpus / source).read_text(encoding="utf-8")
    span = card.locator(".src-context mark.cited-span").inner_text()
    assert len(_norm(span)) > 20 and _norm(span) in _norm(article_text)
    # the sentence that states the answer is marked again, inside the cited span
    claim = card.locator(".src-context mark.cited-span mark.claim-span").first.inner_text()
    assert len(_norm(claim)) > 10 and _norm(claim) in _norm(span)
    assert card.locator(".src-title").inner_text().strip()  # article title
    assert re.search(r"\d{4}-\d{2}-\d{2}|no date", card.locator(".src-meta").inner_text())  # date
    # surrounding context around the span, and the whole article on demand
    context = _norm(card.locator(".src-context").inner_text())
    assert len(context) > len(_norm(span))
    card.locator(".src-full summary").click()
    whole = card.locator(".src-full .src-article")
    whole.wait_for(state="visible")
    assert _norm(whole.inner_text()) == _norm(article_text)
    assert _norm(whole.locator("mark.cited-span").inner_text()) == _norm(span)
    card.locator(".src-full summary").click()  # fold it again
    # retrieved but uncited passages are listed apart (if the answer did not cite all)
    n_cited = page.locator("#sources .src-card.cited").count()
    n_uncited = page.locator("#sources .src-card.uncited").count()
    assert n_cited >= 1 and n_cited + n_uncited >= 2

    # a follow-up is rewritten into a standalone question (from the history) and shown
    follow = _ask(page, FOLLOW_UP, check_streaming=False)
    rewritten = follow.locator(".rag-rewritten")
    assert rewritten.count() == 1, follow.inner_text()
    assert _norm(rewritten.inner_text()).lower() != f"searched for: {FOLLOW_UP}"
    assert "copper" in rewritten.inner_text().lower()
    assert page.locator("#sources .src-turn-head").first.inner_text().startswith("Answer 2")
    assert page.locator("#sources details.src-earlier").count() == 1  # answer 1's sources kept
    # the warnings from the bad input above would cover the sources in the screenshot: hide them
    # (clicking their close buttons is flaky: a collapsed group of toasts is inert)
    page.evaluate("""() => { const s = document.createElement('style'); s.id = 'hide-toasts';
        s.textContent = ".toast-wrap { display: none !important; }"; document.head.appendChild(s); }""")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.evaluate("() => document.getElementById('hide-toasts').remove()")  # later steps check toasts

    # your documents: a non-text file is refused with a message, a new article is indexed
    page.get_by_role("tab", name="Your documents").click()
    page.wait_for_selector("#documents .doc-table")
    assert page.locator("#documents tbody tr").count() == len(list(corpus.glob("*.txt")))
    bogus = tmp_path / "scan.txt"
    bogus.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" * 20)
    page.set_input_files("#upload input[type=file]", str(bogus))
    page.wait_for_selector("[data-testid='toast-body']:has-text('binary')")
    article = tmp_path / "zorblax_metals.txt"
    article.write_text(ZORBLAX_ARTICLE, encoding="utf-8")
    page.set_input_files("#upload input[type=file]", str(article))
    page.wait_for_selector("#upload-status:has-text('Added zorblax_metals.txt')", timeout=90_000)
    page.wait_for_selector("#documents td:has-text('zorblax_metals.txt')")
    assert (corpus / "zorblax_metals.txt").is_file() and not (corpus / "scan.txt").exists()

    # ... and answers a question only it can answer
    page.get_by_role("tab", name="Chat").click()
    page.click("#clear-btn")
    page.wait_for_function("document.querySelectorAll('#chat .rag-footer').length === 0")
    answer = _ask(page, ZORBLAX_QUESTION, check_streaming=False)
    text = answer.inner_text()
    assert re.search(r"48,?700", text), text
    assert page.locator("#sources .src-card.cited .src-file", has_text="zorblax_metals.txt").count() >= 1

    assert "Traceback" not in page.content()
    assert blocked == [], f"the page tried to reach the network: {blocked}"

