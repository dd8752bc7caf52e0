"""Pure rendering helpers for the chat UI: answer markdown with clickable citation
markers, the sources panel, the document list and the article viewer.

Everything here is a function of its arguments (no Gradio, no models), so it is unit
tested with hand-built ``rag.types`` values. All text that comes from articles or from
the model is ``html.escape``d before it is put into markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rag.dating import show_date
from rag.safety import strip_links
from rag.types import Answer, Passage

# How much article text to show on each side of a cited span in the sources panel.
CONTEXT_CHARS = 280
UNCITED_CONTEXT_CHARS = 100
_MARKER = re.compile(r"\[(\d+)\]")
_EXAMPLE_TITLE_CHARS = 90


def esc(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def source_id(turn: int, marker: int) -> str:
    """DOM id of the sources-panel card for passage ``marker`` of answer ``turn``."""
    return f"src-{turn}-{marker}"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def tooltip(passage: Passage) -> str:
    """Plain text for the hover tooltip of a citation marker (escaped by the caller)."""
    head = passage.title or passage.source
    meta = " · ".join(x for x in (show_date(passage.date), passage.source) if x)
    return f"{head} ({meta}) — “{_short(passage.text, 220)}”"


def _escape_markdown_text(text: str) -> str:
    """Escape HTML in model output (it is shown as markdown, never as raw HTML)."""
    return html.escape(text, quote=False)


def render_question(text: str) -> str:
    """The user's question in the chat: shown as typed, never rendered. HTML is escaped, and
    markdown's own syntax too, so "![x](http://...)" in a question is text, not an image the
    browser fetches from outside."""
    return re.sub(r"([\\`*_\[\]()!#|~<>])", r"\\\1", html.escape(text, quote=False))


def render_streaming(text: str) -> str:
    """A partial answer while tokens arrive: escaped, markers styled but not linked yet, and no
    image or link (the draft is not checked yet; the final answer keeps those the passages have)."""
    body = _escape_markdown_text(strip_links(text))
    body = _MARKER.sub(lambda m: f'<span class="cite-pending">[{m.group(1)}]</span>', body)
    return body + ' <span class="rag-cursor">▍</span>'


def link_markers(text: str, passages: Sequence[Passage], turn: int) -> str:
    """Escape ``text`` and turn each valid ``[n]`` into an anchor to its source card with
    the passage's title, date, file and a snippet as tooltip. Invalid markers stay text."""
    body = _escape_markdown_text(text)

    def repl(m: re.Match) -> str:
        n = int(m.group(1))
        if not 1 <= n <= len(passages):
            return m.group(0)
        return (
            f'<a class="cite" href="#{source_id(turn, n)}" title="{esc(tooltip(passages[n - 1]))}">[{n}]</a>'
        )

    return _MARKER.sub(repl, body)


def _timing_line(answer: Answer) -> str:
    parts = []
    if answer.model:
        parts.append(esc(answer.model))
    t = answer.timings
    if t.total:
        parts.append(f"{t.total:.1f} s")
    if t.tokens_per_second:
        parts.append(f"{t.tokens_per_second:.0f} tok/s")
    return " · ".join(parts)


def render_answer(answer: Answer, turn: int) -> str:
    """The final chat message for ``answer``: rewritten question (for follow-ups),
    a refusal or low-confidence flag, the text with linked markers, and a footer."""
    out: list[str] = []
    if answer.standalone_question and answer.standalone_question.strip() != answer.question.strip():
        out.append(
            f'<div class="rag-rewritten">↳ Searched for: <em>{esc(answer.standalone_question)}</em></div>\n'
        )
    if answer.scope:
        out.append(f'<div class="rag-rewritten">↳ Searched only in: <em>{esc("; ".join(answer.scope))}</em></div>\n')
    if answer.low_confidence:
        best = max((p.score for p in answer.passages), default=None)
        score = f" (best match score {best:.2f})" if best is not None else ""
        out.append(
            f'<div class="rag-flag rag-lowconf">⚠ Low-confidence retrieval: no passage matched the question '
            f"closely{score}, so check the sources before trusting this answer.</div>\n"
        )
    if answer.refused:
        out.append(
            '<div class="rag-refusal"><strong>⊘ Not in the articles.</strong> '
            f"{link_markers(answer.text, answer.passages, turn)}"
            + (f'<div class="rag-why">Why: {esc(answer.why_refused)}.</div>' if answer.why_refused else "")
            + "</div>"
        )
    else:
        out.append(link_markers(answer.text, answer.passages, turn))
        if not answer.citations:
            out.append('\n\n<div class="rag-flag rag-nocite">⚠ This answer cites no passage.</div>')
    footer = _timing_line(answer)
    n_cited = len({c.marker for c in answer.citations})
    n_src = len(answer.passages)
    src_note = f"{n_cited} of {n_src} retrieved passages cited" if n_src else "no passages retrieved"
    out.append(f'\n\n<span class="rag-footer">{src_note}{" · " + footer if footer else ""}</span>')
    return "".join(out)


def render_error(message: str) -> str:
    return f'<div class="rag-flag rag-error">⚠ {esc(message)}</div>'


def context_window(doc_text: str, start: int, end: int, chars: int = CONTEXT_CHARS) -> tuple[str, str, str, bool, bool]:
    """(before, span, after, cut_before, cut_after): ``doc_text[start:end]`` with up to
    ``chars`` characters of context each side, trimmed to whole words."""
    start = max(0, min(start, len(doc_text)))
    end = max(start, min(end, len(doc_text)))
    b0 = max(0, start - chars)
    a1 = min(len(doc_text), end + chars)
    before = doc_text[b0:start]
    after = doc_text[end:a1]
    if b0 > 0 and " " in before:
        before = before.split(" ", 1)[1]
    if a1 < len(doc_text) and " " in after:
        after = after.rsplit(" ", 1)[0]
    return before, doc_text[start:end], after, b0 > 0, a1 < len(doc_text)


def _marked(doc_text: str, start: int, end: int, claims: Sequence[tuple[int, int]]) -> str:
    """``doc_text[start:end]`` escaped, with the sentences that state the answer's claims (offsets
    into ``doc_text``, inside the span) in a second, stronger mark."""
    out, at = [], start
    for a, b in sorted((max(a, start), min(b, end)) for a, b in claims):
        if a < at or a >= b:  # overlapping or outside the span: never mark text twice
            continue
        out += [esc(doc_text[at:a]), f'<mark class="claim-span">{esc(doc_text[a:b])}</mark>']
        at = b
    out.append(esc(doc_text[at:end]))
    return f'<mark class="cited-span">{"".join(out)}</mark>'


def _span_html(doc_text: str | None, passage: Passage, chars: int = CONTEXT_CHARS,
               claims: Sequence[tuple[int, int]] = ()) -> tuple[str, str]:
    """(context html with the span in <mark>, whole-article html with the span in <mark>); the
    ``claims`` spans (the sentences that state what the answer says) marked again inside it."""
    ok = doc_text is not None and doc_text[passage.start:passage.end] == passage.text
    if not ok:  # file changed or removed since retrieval: show the passage alone
        shifted = [(a - passage.start, b - passage.start) for a, b in claims]
        return _marked(passage.text, 0, len(passage.text), shifted), ""
    before, _, after, cut_b, cut_a = context_window(doc_text, passage.start, passage.end, chars)
    span = _marked(doc_text, passage.start, passage.end, claims)
    ctx = ("…" if cut_b else "") + esc(before) + span + esc(after) + ("…" if cut_a else "")
    whole = esc(doc_text[: passage.start]) + span + esc(doc_text[passage.end:])
    return ctx, whole


def render_passage_card(passage: Passage, marker: int, turn: int, cited: bool, doc_text: str | None,
                        claims: Sequence[tuple[int, int]] = ()) -> str:
    ctx, whole = _span_html(doc_text, passage, CONTEXT_CHARS if cited else UNCITED_CONTEXT_CHARS, claims)
    meta = " · ".join(
        x for x in (
            esc(show_date(passage.date)) if passage.date else "no date",
            f'<code class="src-file">{esc(passage.source)}</code>',
            f"score {passage.score:.2f}",
        )
    )
    cls = "src-card cited" if cited else "src-card uncited"
    badge = "" if cited else ' <span class="src-badge">not cited</span>'
    full = (
        f'<details class="src-full"><summary>Open the whole article</summary>'
        f'<div class="src-article">{whole}</div></details>'
        if whole else '<div class="src-missing">The article text is no longer available.</div>'
    )
    return (
        f'<article class="{cls}" id="{source_id(turn, marker)}">'
        f'<header><span class="src-marker">[{marker}]</span> '
        f'<strong class="src-title">{esc(passage.title or passage.source)}</strong>{badge}'
        f'<div class="src-meta">{meta}</div></header>'
        f'<div class="src-context">{ctx}</div>{full}</article>'
    )


def render_turn_sources(answer: Answer, turn: int, document_text: Callable[[str], str | None]) -> str:
    cited_markers = {c.marker for c in answer.citations}
    texts: dict[str, str | None] = {}

    def text_of(source: str) -> str | None:
        if source not in texts:
            try:
                texts[source] = document_text(source)
            except Exception:  # removed document, unreadable file: fall back to the passage
                texts[source] = None
        return texts[source]

    cited = [(i, p) for i, p in enumerate(answer.passages, 1) if i in cited_markers]
    uncited = [(i, p) for i, p in enumerate(answer.passages, 1) if i not in cited_markers]
    flags = []
    if answer.refused:
        flags.append('<span class="rag-flag rag-refusal-badge">refused: the articles do not answer this</span>')
    if answer.low_confidence:
        flags.append('<span class="rag-flag rag-lowconf">low-confidence retrieval</span>')
    head = (
        f'<div class="src-turn-head">Answer {turn + 1}: <em>{esc(_short(answer.question, 120))}</em>'
        + (f'<div class="src-rewritten">↳ searched for: {esc(answer.standalone_question)}</div>'
           if answer.standalone_question and answer.standalone_question.strip() != answer.question.strip() else "")
        + (f'<div class="src-rewritten">↳ searched only in: {esc("; ".join(answer.scope))}</div>'
           if answer.scope else "")
        + (" " + " ".join(flags) if flags else "") + "</div>"
    )
    parts = [head]
    if cited:
        parts.append(f'<h4 class="src-section">Cited passages ({len(cited)})</h4>')
        claims = {c.marker: c.spans for c in answer.citations}
        parts += [render_passage_card(p, i, turn, True, text_of(p.source), claims.get(i, ())) for i, p in cited]
    else:
        parts.append('<p class="src-none">No passage was cited.</p>')
    if uncited:
        parts.append(
            f'<div class="src-uncited-group"><h4 class="src-section">Retrieved but not cited ({len(uncited)})</h4>'
            + "".join(render_passage_card(p, i, turn, False, text_of(p.source)) for i, p in uncited)
            + "</div>"
        )
    return "".join(parts)


def render_sources(turns: Sequence[tuple[int, Answer]], document_text: Callable[[str], str | None]) -> str:
    """The sources panel: the latest answer's passages open, earlier answers collapsed
    (so a marker in any answer has its card in the page)."""
    if not turns:
        return (
            '<div class="rag-sources empty"><p>Sources appear here after an answer: each cited '
            "passage with its article, date and file, the cited span highlighted.</p></div>"
        )
    latest_turn, latest = turns[-1]
    parts = ['<div class="rag-sources">', render_turn_sources(latest, latest_turn, document_text)]
    for turn, answer in reversed(turns[:-1]):
        parts.append(
            f'<details class="src-earlier"><summary>Sources of answer {turn + 1}: {esc(_short(answer.question, 80))}</summary>'
            + render_turn_sources(answer, turn, document_text) + "</details>"
        )
    parts.append("</div>")
    return "".join(parts)


def render_documents(docs: Iterable[Any]) -> str:
    """HTML table of indexed documents (DocumentInfo: source, title, date, n_chunks, n_chars)."""
    docs = list(docs)
    if not docs:
        return '<p class="doc-empty">No documents are indexed. Upload .txt, .md or .html articles.</p>'
    total_chunks = sum(int(getattr(d, "n_chunks", 0) or 0) for d in docs)
    total_chars = sum(int(getattr(d, "n_chars", 0) or 0) for d in docs)
    def titles(d: Any) -> str:
        # a file that glues several articles lists each of them
        return "<br>".join(esc(t) for t in (getattr(d, "articles", ()) or (d.title,)))

    rows = "".join(
        f"<tr><td><code>{esc(d.source)}</code></td><td>{titles(d)}</td><td>{esc(show_date(d.date) or '—')}</td>"
        f'<td class="num">{int(d.n_chunks)}</td><td class="num">{int(d.n_chars):,}</td></tr>'
        for d in docs
    )
    return (
        f'<p class="doc-summary">{len(docs)} documents · {total_chunks} passages · {total_chars:,} characters</p>'
        '<table class="doc-table"><thead><tr><th>File</th><th>Title</th><th>Date</th>'
        '<th class="num">Passages</th><th class="num">Characters</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def render_article(source: str, text: str, title: str | None = None, date: str | None = None) -> str:
    head = f"<h3>{esc(title or source)}</h3>"
    meta = " · ".join(x for x in (esc(date) if date else "", f"<code>{esc(source)}</code>") if x)
    return f'<div class="article-view">{head}<div class="src-meta">{meta}</div><div class="src-article">{esc(text)}</div></div>'


def render_index_report(report: Any, verb: str = "Indexed") -> str:
    """One-paragraph summary of an IndexReport (files added/updated/removed, skipped files)."""
    bits = []
    for name in ("added", "updated", "removed", "unchanged"):
        v = getattr(report, name, None)
        n = len(v) if isinstance(v, (list, tuple, set)) else v
        if n:
            bits.append(f"{n} {name}")
    emb = getattr(report, "embedded", None)
    if emb:
        bits.append(f"{emb} passages embedded")
    n_chunks = getattr(report, "n_chunks", None)
    if n_chunks is not None:
        bits.append(f"{n_chunks} passages in the index")
    text = f"✓ {verb}: " + (", ".join(bits) if bits else "nothing changed") + "."
    skipped = list(getattr(report, "skipped", None) or [])
    if skipped:
        text += "<br>⚠ Skipped: " + "; ".join(f"<code>{esc(f)}</code>: {esc(r)}" for f, r in skipped)
    return text


def trim_answer(answer: Answer) -> dict[str, Any]:
    """The JSON the ``ask`` API returns: the answer and its citations, without the
    full passage list."""
    return {
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "text": answer.text,
        "refused": answer.refused,
        "low_confidence": answer.low_confidence,
        "scope": list(answer.scope),
        "model": answer.model,
        "citations": [
            {
                "marker": c.marker,
                "source": c.passage.source,
                "title": c.passage.title,
                "date": c.passage.date,
                "start": c.passage.start,
                "end": c.passage.end,
                "text": c.passage.text,
                # the sentences that state the claims citing it: offsets like start/end, and their text
                "spans": [{"start": a, "end": b, "text": q} for (a, b), q in zip(c.spans, c.quotes)],
            }
            for c in answer.citations
        ],
        "retrieved": [
            {"marker": i, "source": p.source, "title": p.title, "score": round(p.score, 4)}
            for i, p in enumerate(answer.passages, 1)
        ],
        "timings": {"total": round(answer.timings.total, 3), "first_token": round(answer.timings.first_token, 3)},
    }
