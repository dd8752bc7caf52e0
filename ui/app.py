"""The Gradio app: chat with streamed, cited answers; a sources panel; your documents.

``create_app(assistant)`` builds the Blocks around one ``rag.Assistant`` (so the index
and the model load once per process); ``launch()`` builds the Assistant if needed and
serves the app. Every call into the library that may raise does so inside a handler that
turns ``RagError`` into a visible message (``gr.Warning`` plus an inline note).
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag.decompose import check_question  # noqa: E402
from rag.errors import QuestionError, RagError  # noqa: E402
from rag.types import Answer  # noqa: E402

from . import render  # noqa: E402
from .serving import check_serving  # noqa: E402
from .uploads import UPLOAD_SUFFIXES, check_upload, unreadable, upload_paths  # noqa: E402

log = logging.getLogger(__name__)

DEFAULT_EXAMPLES = (
    "Why did aluminum prices hit a three-year high?",
    "When will China resume metal exports to the United States?",
    "What did the Trump-Xi deal mean for rare earths?",
    "What happened to copper prices?",
)

# Generation (and index changes) go through one queue slot: the llama.cpp model is not
# thread-safe and the index is rebuilt in place. Other tabs wait their turn.
ASSISTANT_QUEUE = "assistant"

SEARCHING = "*Searching the articles…*"
REWRITING = "*Rewriting the follow-up into a standalone question, then searching the articles…*"

SYSTEM_FONTS = [
    "system-ui", "-apple-system", "'Segoe UI'", "Roboto", "'Helvetica Neue'", "Arial",
    "'Noto Sans'", "'Liberation Sans'", "sans-serif",
]
SYSTEM_MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "'Liberation Mono'", "monospace"]

# the page's style and script live in files beside this one (package data)
ASSETS = Path(__file__).resolve().parent / "assets"
CSS = (ASSETS / "app.css").read_text(encoding="utf-8")
HEAD = f"<script>\n{(ASSETS / 'cite.js').read_text(encoding='utf-8')}</script>"


def theme() -> gr.themes.Base:
    """System fonts only: nothing is fetched from Google Fonts or any CDN."""
    return gr.themes.Default(font=SYSTEM_FONTS, font_mono=SYSTEM_MONO)


def launch_options(assistant: Any | None = None) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` (Gradio 6 takes theme/css/head there)."""
    opts: dict[str, Any] = {
        "theme": theme(),
        "css": CSS,
        "head": HEAD,
        "footer_links": ["api", "settings"],
        "ssr_mode": False,
        "show_error": False,
    }
    if assistant is not None:
        # Gradio refuses far bigger uploads itself; the handler gives the precise message.
        opts["max_file_size"] = 2 * int(assistant.config.max_file_bytes) + 65536
    return opts


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


def create_app(assistant: Any, *, examples: Sequence[str] | None = None,
               title: str = "News Q&A — answers from your articles, with citations") -> gr.Blocks:
    """Build the UI around ``assistant`` (a ``rag.Assistant`` or anything with its API)."""
    h = Handlers(assistant)
    cfg = assistant.config
    examples = list(DEFAULT_EXAMPLES if examples is None else examples)

    with gr.Blocks(title="News Q&A", analytics_enabled=False) as demo:
        gr.Markdown(
            f"## {html.escape(title)}\n"
            "Answers come only from the indexed articles; every claim carries a numbered citation you can "
            "click to see the passage. Model runs locally."
        )
        history = gr.State([])  # [{"role", "content"}] clean turns for the library
        turns = gr.State([])  # [Answer] one per answered question
        pending = gr.State("")  # the question waiting for its answer

        with gr.Tabs():
            with gr.Tab("Chat", id="chat-tab", elem_id="chat-tab"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        chatbot = gr.Chatbot(
                            elem_id="chat", show_label=False, height=560, layout="bubble",
                            examples=[{"text": q} for q in examples] or None,
                            placeholder="Ask a question about the news articles, or click an example.",
                            latex_delimiters=[], buttons=["copy"], feedback_options=None,
                            group_consecutive_messages=False,
                        )
                        with gr.Row():
                            msg = gr.Textbox(
                                elem_id="question", show_label=False, scale=6, lines=1, max_lines=6,
                                placeholder="Ask about the articles… (a follow-up like “and copper?” works too)",
                            )
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-btn")
                            clear = gr.Button("New chat", scale=1, elem_id="clear-btn")
                        with gr.Accordion("Settings", open=False, elem_id="settings"):
                            with gr.Row():
                                k = gr.Slider(1, max(10, int(cfg.k)), value=int(cfg.k), step=1,
                                              label="Passages to retrieve (k)", elem_id="k")
                                temperature = gr.Slider(0.0, 1.5, value=float(cfg.temperature), step=0.05,
                                                        label="Temperature", elem_id="temperature")
                                model = gr.Dropdown(_model_choices(assistant), value=str(cfg.model),
                                                    label="Model", elem_id="model")
                    with gr.Column(scale=2, min_width=340):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(render.render_sources([], lambda s: None), elem_id="sources")

            with gr.Tab("Your documents", id="docs-tab", elem_id="docs-tab"):
                gr.Markdown(
                    f"Upload articles as **{', '.join(UPLOAD_SUFFIXES)}** files (up to "
                    f"{int(cfg.max_file_bytes):,} bytes each). They are added to the index incrementally "
                    "and can be asked about right away."
                )
                upload = gr.File(label="Add articles", file_count="multiple", file_types=list(UPLOAD_SUFFIXES),
                                 type="filepath", elem_id="upload")
                upload_status = gr.HTML(elem_id="upload-status")
                docs_html = gr.HTML(elem_id="documents")
                with gr.Row():
                    doc_pick = gr.Dropdown(choices=[], label="Document", scale=4, elem_id="doc-pick")
                    open_btn = gr.Button("Open article", scale=1, elem_id="open-btn")
                    remove_btn = gr.Button("Remove from index", variant="stop", scale=1, elem_id="remove-btn")
                article = gr.HTML(elem_id="article-view")

        # --- chat events: accept at once (no queue slot), answer one at a time ---------
        accept_io = dict(fn=h.accept, inputs=[msg, chatbot, history], outputs=[msg, chatbot, pending, send],
                         concurrency_limit=None, api_visibility="private")
        answer_io = dict(fn=h.answer, inputs=[pending, chatbot, history, turns, k, model, temperature],
                         outputs=[chatbot, history, turns, sources, pending, msg, send],
                         concurrency_limit=1, concurrency_id=ASSISTANT_QUEUE, show_progress="minimal",
                         api_visibility="private")
        answer_events = []
        for trigger in (msg.submit, send.click):
            answer_events.append(trigger(**accept_io).then(**answer_io))
        answer_events.append(
            chatbot.example_select(h.pick_example, None, msg, api_visibility="private")
            .then(**accept_io).then(**answer_io)
        )
        clear.click(h.clear, None, [chatbot, history, turns, sources, pending, msg, send],
                    cancels=answer_events, queue=False, api_visibility="private")

        # --- documents ------------------------------------------------------------------
        def add_files(files, progress=gr.Progress()):
            return h.add_files(files, progress)

        upload.upload(add_files, upload, [upload_status, docs_html, doc_pick, upload],
                      concurrency_limit=1, concurrency_id=ASSISTANT_QUEUE, api_visibility="private")
        remove_btn.click(h.remove, doc_pick, [upload_status, docs_html, doc_pick, article],
                         concurrency_limit=1, concurrency_id=ASSISTANT_QUEUE, api_visibility="private")
        open_btn.click(h.open_article, doc_pick, article, api_visibility="private")
        doc_pick.input(h.open_article, doc_pick, article, api_visibility="private")
        demo.load(h.documents_view, None, [docs_html, doc_pick], api_visibility="private")

        # --- API: Client(url).predict(question, api_name="/ask") ------------------------
        def ask(question: str) -> dict:
            """Answer a question from the articles. Returns the answer text, whether it is a
            refusal, and its citations (marker, source file, title, date, start/end offsets, text)."""
            return h.ask(question)

        gr.api(ask, api_name="ask", concurrency_limit=1, concurrency_id=ASSISTANT_QUEUE)

    demo.queue(default_concurrency_limit=1)
    return demo


def launch(host: str = "127.0.0.1", port: int = 7860, assistant: Any | None = None, *,
           block: bool = True, auth: Any = None, **launch_kwargs: Any) -> gr.Blocks:
    """Build the Assistant once (unless given) and serve the app. With ``block=False``
    the server runs in the background and the Blocks is returned (call ``.close()``).
    ``auth`` is Gradio's: a (user, password) pair, a list of them or a function."""
    check_serving(host, auth)
    if assistant is None:
        from rag import Assistant

        assistant = Assistant()
    demo = create_app(assistant)
    options = {**launch_options(assistant), **launch_kwargs}
    demo.launch(server_name=host, server_port=port, prevent_thread_lock=not block, auth=auth, **options)
    return demo
