"""The UI's event handlers: plain methods around one ``rag.Assistant``, testable without a browser.

``Handlers`` validates input, calls the library, and turns what it returns (or the
``RagError`` it raises) into Gradio updates and the HTML that ``render`` builds. Every call
into the library that may raise does so inside a handler that turns ``RagError`` into a
visible message (``gr.Warning`` plus an inline note). ``ui.app`` wires these into the page.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag.decompose import check_question  # noqa: E402
from rag.errors import QuestionError, RagError  # noqa: E402
from rag.types import Answer  # noqa: E402

from . import render  # noqa: E402
from .uploads import check_upload, unreadable, upload_paths  # noqa: E402

# the same logger as before the handlers left ui/app.py, so log configuration keeps working
log = logging.getLogger(__name__)

SEARCHING = "*Searching the articles…*"
REWRITING = "*Rewriting the follow-up into a standalone question, then searching the articles…*"


def _warn(message: str) -> None:
    gr.Warning(html.escape(message))


class Handlers:
    """Event handlers around one Assistant. Plain methods so they can be tested
    without a browser."""

    def __init__(self, assistant: Any):
        self.assistant = assistant

    # --- chat ------------------------------------------------------------------------

    def accept(self, message: str | None, chat: list | None, history: list | None):
        """Validate the question and show it at once (with a placeholder answer).
        Returns (textbox, chat, pending question, send button)."""
        text = (message or "").strip()
        try:
            check_question(text, int(self.assistant.config.max_question_chars))
        except QuestionError as err:
            _warn(f"{str(err)[:1].upper()}{str(err)[1:]}.")
            return gr.skip(), gr.skip(), "", gr.skip()
        chat = list(chat or []) + [
            {"role": "user", "content": render.render_question(text)},
            {"role": "assistant", "content": REWRITING if history else SEARCHING},
        ]
        return gr.Textbox(value="", interactive=False), chat, text, gr.Button(interactive=False)

    def _settings(self, k: Any, model: Any, temperature: Any) -> dict[str, Any]:
        cfg = self.assistant.config
        out: dict[str, Any] = {}
        if k not in (None, "") and int(k) != int(cfg.k):
            out["k"] = int(k)
        if temperature not in (None, "") and float(temperature) != float(cfg.temperature):
            out["temperature"] = float(temperature)
        if model and model != cfg.model:
            if str(model) not in _model_choices(self.assistant):  # never a path on the server typed into the page
                raise QuestionError(f"model {str(model)[:60]!r} is not one of the models offered")
            out["model"] = str(model)
        return out

    def answer(self, pending: str | None, chat: list | None, history: list | None, turns: list | None,
               k: Any = None, model: Any = None, temperature: Any = None) -> Iterator[tuple]:
        """Stream the answer to ``pending`` into the last chat message, then render the
        final cited answer and the sources panel.
        Yields (chat, history, turns, sources html, pending, textbox, send button)."""
        if not pending:
            yield (gr.skip(),) * 7
            return
        chat = list(chat or [])
        history = list(history or [])
        turns = list(turns or [])
        if not chat or chat[-1].get("role") != "assistant":
            chat.append({"role": "assistant", "content": SEARCHING})
        unlock = (gr.Textbox(interactive=True), gr.Button(interactive=True))
        text = ""
        final: Answer | None = None
        try:
            kwargs = self._settings(k, model, temperature)
            for event in self.assistant.stream(pending, history=history or None, **kwargs):
                if isinstance(event, Answer):
                    final = event
                elif isinstance(event, str):
                    text += event
                    chat[-1] = {"role": "assistant", "content": render.render_streaming(text)}
                    yield list(chat), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            if final is None:
                raise RagError("the assistant finished without an answer")
        except RagError as err:
            _warn(str(err))
            chat[-1] = {"role": "assistant", "content": render.render_error(str(err))}
            yield (chat, history, turns, gr.skip(), "", *unlock)
            return
        except Exception as err:  # never a stack trace in the page; the log has it
            log.exception("answering %r failed", pending)
            msg = f"Something went wrong while answering ({type(err).__name__}: {err})."
            _warn(msg)
            chat[-1] = {"role": "assistant", "content": render.render_error(msg)}
            yield (chat, history, turns, gr.skip(), "", *unlock)
            return
        turn = len(turns)
        turns.append(final)
        chat[-1] = {"role": "assistant", "content": render.render_answer(final, turn)}
        history = history + [{"role": "user", "content": pending}, {"role": "assistant", "content": final.text}]
        sources = render.render_sources(list(enumerate(turns)), self._document_text)
        yield (chat, history, turns, sources, "", *unlock)

    def _document_text(self, source: str) -> str | None:
        try:
            return self.assistant.document_text(source)
        except RagError:
            return None

    @staticmethod
    def clear():
        return [], [], [], render.render_sources([], lambda s: None), "", gr.Textbox(value="", interactive=True), \
            gr.Button(interactive=True)

    @staticmethod
    def pick_example(evt: gr.SelectData) -> str:
        value = evt.value
        if isinstance(value, dict):
            return str(value.get("text") or value.get("display_text") or "")
        return str(value or "")

    # --- API ---------------------------------------------------------------------------

    def ask(self, question: str) -> dict:
        try:
            answer = self.assistant.ask(question)
        except RagError as err:
            raise gr.Error(str(err)) from None
        return render.trim_answer(answer)

    # --- documents ------------------------------------------------------------------

    def documents_view(self):
        """(documents table html, document dropdown)."""
        try:
            docs = list(self.assistant.documents())
        except RagError as err:
            return render.render_error(str(err)), gr.Dropdown(choices=[], value=None)
        choices = [(f"{d.title or d.source} — {d.source}", d.source) for d in docs]
        return render.render_documents(docs), gr.Dropdown(choices=choices, value=None)

    def add_files(self, files: Any, progress: Any = None):
        """Validate uploads, index the good ones incrementally with a progress bar.
        Returns (status html, documents html, dropdown, file input reset)."""
        paths = upload_paths(files)
        if not paths:
            docs_html, dropdown = self.documents_view()
            return "", docs_html, dropdown, None
        cfg = self.assistant.config
        limit = int(cfg.max_upload_files)
        if len(paths) > limit:
            msg = f"Not added: {len(paths)} files at once is over the limit of {limit} (max_upload_files); add fewer at a time."
            _warn(msg)
            docs_html, dropdown = self.documents_view()
            return render.render_error(msg), docs_html, dropdown, None
        max_bytes = int(cfg.max_file_bytes)
        good, bad = [], []
        names: set[str] = set()
        for p in paths:
            reason = check_upload(p, max_bytes) or unreadable(p)
            if not reason and Path(p).name in names:
                reason = "another file of this name is in the same upload; add it on its own to replace the first"
            names.add(Path(p).name)
            (bad if reason else good).append((p, reason))
        lines = []
        if bad:
            msg = "Not added: " + "; ".join(f"{Path(p).name}: {r}" for p, r in bad)
            _warn(msg)
            lines.append(render.render_error(msg))
        if good:
            def on_progress(done: int, total: int, stage: str = "") -> None:
                if progress is not None:
                    progress((int(done), int(total) if total else None), desc=stage or "indexing")
            try:
                if progress is not None:
                    progress(0, desc=f"adding {len(good)} file(s)")
                replaced = [Path(p).name for p, _ in good if (Path(cfg.corpus) / Path(p).name).is_file()]
                report = self.assistant.add_files([p for p, _ in good], progress=on_progress)
                names = ", ".join(html.escape(Path(p).name) for p, _ in good)
                lines.insert(0, f"<p>{render.render_index_report(report, 'Added ' + names)}</p>")
                if replaced:
                    note = (f"Replaced {', '.join(replaced)}: a document of that name was already indexed; "
                            "the previous version is kept in .removed/ in the corpus folder.")
                    gr.Info(html.escape(note))
                    lines.insert(1, f"<p>{html.escape(note)}</p>")
                for f, r in getattr(report, "skipped", []) or []:
                    if Path(f).name in {Path(p).name for p, _ in good}:
                        _warn(f"{f} was not indexed: {r}")
            except RagError as err:
                _warn(str(err))
                lines.append(render.render_error(str(err)))
        docs_html, dropdown = self.documents_view()
        return "".join(lines), docs_html, dropdown, None

    def remove(self, source: str | None):
        """Returns (status html, documents html, dropdown, article html)."""
        if not source:
            _warn("Pick a document to remove first.")
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            report = self.assistant.remove_document(source)
            status = f"<p>{render.render_index_report(report, 'Removed ' + html.escape(source))}</p>"
        except RagError as err:
            _warn(str(err))
            status = render.render_error(str(err))
        docs_html, dropdown = self.documents_view()
        return status, docs_html, dropdown, ""

    def open_article(self, source: str | None) -> str:
        if not source:
            return ""
        try:
            text = self.assistant.document_text(source)
        except RagError as err:
            return render.render_error(str(err))
        info = next((d for d in self.assistant.documents() if d.source == source), None)
        return render.render_article(source, text, getattr(info, "title", None), getattr(info, "date", None))


def _model_choices(assistant: Any) -> list[str]:
    try:
        from rag.models import model_names
        names = list(model_names())
    except Exception:  # the model registry is optional for the UI
        names = []
    configured = str(assistant.config.model)
    if configured not in names:
        names.insert(0, configured)
    return names
