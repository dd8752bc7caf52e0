"""The Gradio app: chat with streamed, cited answers; a sources panel; your documents.

``create_app(assistant)`` builds the Blocks around one ``rag.Assistant`` (so the index
and the model load once per process); ``launch()`` builds the Assistant if needed and
serves the app. The event handlers it wires in (``Handlers``, in ``ui/handlers.py``) make
every call into the library that may raise, and turn ``RagError`` into a visible message
(``gr.Warning`` plus an inline note).
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from . import render  # noqa: E402
from .handlers import REWRITING, SEARCHING, Handlers, _model_choices  # noqa: E402,F401  (re-exported)
from .serving import check_serving  # noqa: E402
from .uploads import UPLOAD_SUFFIXES, check_upload  # noqa: E402,F401  (check_upload re-exported)

DEFAULT_EXAMPLES = (
    "Why did aluminum prices hit a three-year high?",
    "When will China resume metal exports to the United States?",
    "What did the Trump-Xi deal mean for rare earths?",
    "What happened to copper prices?",
)

# Generation (and index changes) go through one queue slot: the llama.cpp model is not
# thread-safe and the index is rebuilt in place. Other tabs wait their turn.
ASSISTANT_QUEUE = "assistant"

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
