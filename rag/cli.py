"""``rag`` command line: a thin layer over :class:`rag.Assistant`."""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
import textwrap
from pathlib import Path

import click

from .dating import show_date
from .errors import RagError

log = logging.getLogger(__name__)


def _fail_cleanly(fn):
    """Bad input ends in one line on stderr and exit code 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RagError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


class _Bar:
    """tqdm progress bar fed by the library's ``progress(done, total, stage)`` callback: files
    while reading, then chunks while embedding (with rate and ETA), then vectors while writing."""

    _KINDS = {"files": ("reading files", "file"), "embedding": ("embedding chunks", "chunk"),
              "writing": ("writing vectors", "vector")}

    def __init__(self):
        self.bar = None
        self.stage = None

    def __call__(self, done: int, total: int, stage: str) -> None:
        from tqdm import tqdm

        kind = "embedding" if stage == "embedding" else "writing" if stage.startswith("writing") else "files"
        if self.bar is None or self.stage != kind:
            self.close()
            desc, unit = self._KINDS[kind]
            self.bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, smoothing=0.1)
            self.stage = kind
        self.bar.total = total
        if kind == "files" and stage.startswith("reading "):
            self.bar.set_postfix_str(stage.removeprefix("reading "), refresh=False)
        if done >= self.bar.n:
            self.bar.update(done - self.bar.n)  # update() keeps tqdm's rate and ETA right
        else:
            self.bar.n = done
            self.bar.refresh()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _assistant(corpus, index_dir, model=None, k=None, **extra):
    """The Assistant for ``ask``, ``chat`` and ``ui``. Building or updating the index on the way
    (a new folder, files changed since) shows the same progress bar as ``rag index``, on stderr,
    then one line saying what changed."""
    from .assistant import Assistant

    bar = _Bar()
    try:
        assistant = Assistant(corpus=corpus, index_dir=index_dir, model=model, k=k, progress=bar, **extra)
    finally:
        bar.close()
    report = assistant.last_report
    if report.added or report.updated or report.removed:
        click.echo(_safe(f"updated the index of {assistant.config.corpus}: {report.summary()}"), err=True)
    return assistant


corpus_option = click.option("--corpus", type=click.Path(path_type=Path), default=None, help="Folder of articles (default: seeds/).")
def _index_dir(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Path | None:
    if value is not None and not value.strip():  # Path("") would spread an index over the current folder
        raise click.BadParameter("'' names no folder; give a path, or leave the option out")
    return None if value is None else Path(value)


index_option = click.option("--index-dir", default=None, callback=_index_dir, help="Index folder (default: index/).")
model_option = click.option("--model", default=None, help="Model name (qwen2.5-1.5b, qwen2.5-0.5b, smollm2-135m, gemma3-270m) or a .gguf path.")


@click.group()
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug).")
@click.version_option(package_name="rag-news", message="%(version)s")
def cli(verbose: int) -> None:
    """Ask questions about a folder of news articles; answers cite the passages they use."""
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _safe(text: str) -> str:
    """Article text as it may be shown on a terminal: a control character (an escape sequence
    that retitles the window or moves the cursor) is data, shown as "\ufffd", never obeyed."""
    return _CONTROL.sub("\ufffd", text)


def _explain_cleaning(path: Path) -> None:
    """Print the lines cleaning removes from ``path``, with reasons; index nothing."""
    from .ingest import FALLBACK, explain_file

    if path.is_dir():
        raise RagError(f"{path} is a folder; --explain takes one file (index a folder with: rag index {path})")
    decisions = explain_file(path)
    removed = [d for d in decisions if not d.kept]
    if path.suffix.lower() in (".html", ".htm"):  # what extraction dropped before cleaning saw any line
        from .reading import decode, html_parts

        blocks = html_parts(decode(path, path.read_bytes()))[1]
        for tag, text in blocks:
            text = text if len(text) <= 100 else text[:99] + "…"
            click.echo(f"{'html':>6}  {'<' + tag + '>':<16}  {_safe(text)}")
        note_html = f"; {len(blocks)} HTML blocks dropped before cleaning (page header, footer, sidebars, navigation)"
    elif path.suffix.lower() == ".pdf":  # the running header, footer and page numbers set aside
        from .pdf_text import pdf_parts

        furniture = pdf_parts(path.read_bytes()).furniture
        for page, text in furniture:
            click.echo(f"{'pdf':>6}  {page + ' furniture':<16}  {_safe(text)}")
        note_html = f"; {len(furniture)} lines of page furniture set aside before cleaning (running header, footer, page number)"
    elif path.suffix.lower() == ".docx":  # reviewers' comments: notes on the document, not its text
        from .docx_text import docx_parts

        notes = docx_parts(path.read_bytes()).set_aside
        for kind, text in notes:
            text = text if len(text) <= 100 else text[:99] + "…"
            click.echo(f"{'docx':>6}  {kind + ' set aside':<16}  {_safe(text)}")
        note_html = f"; {len(notes)} reviewer comments set aside (notes on the document, not its text)"
    else:
        note_html = ""
    for d in removed:
        text = d.text if len(d.text) <= 100 else d.text[:99] + "…"
        click.echo(f"{d.number:>6}  {d.reason:<16}  {_safe(text)}")
    note = " (every line matched a rule, so the lines are kept)" if any(d.reason == FALLBACK for d in decisions) else ""
    click.echo(f"{path}: {len(decisions) - len(removed)} kept, {len(removed)} removed of {len(decisions)} "
               f"non-blank lines{note}{note_html}")
    # what the kept lines become: the articles the file is split into, each with its title and date
    from .ingest import load_file

    text, docs = load_file(path, path.name)
    for n, doc in enumerate(docs, start=1):
        first = text.count("\n", 0, doc.spans[0][0]) + 1 if doc.spans else 1
        click.echo(_safe(f"article {n}: {doc.title!r}, dated {show_date(doc.date) or 'unknown'}; its text from line {first}"))


@cli.command()
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True, help="Re-embed everything (after changing the embedder).")
@click.option("--explain", "explain", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="Print the lines cleaning removes from FILE and why; indexes nothing.")
@_fail_cleanly
def index(folder, index_dir, rebuild, explain):
    """Index FOLDER (default: seeds/); only new or changed chunks are embedded."""
    if explain is not None:
        if folder is not None:
            raise RagError("--explain takes one file and indexes nothing; leave out FOLDER")
        _explain_cleaning(explain)
        return
    from .assistant import Assistant

    bar = _Bar()
    try:
        assistant = Assistant(corpus=folder, index_dir=index_dir, progress=bar, rebuild=rebuild)
        report = assistant.last_report
    finally:
        bar.close()
    for source, reason in report.skipped:
        click.echo(_safe(f"warning: skipped {source}: {reason}"), err=True)
    where = getattr(assistant.index, "location", assistant.config.index_dir)  # a server store names its database
    click.echo(f"indexed {assistant.config.corpus} into {where}: {report.summary()}")
    if not (report.added or report.updated or report.removed):  # a removal, or a file embedded before, embeds 0
        click.echo("nothing changed: 0 chunks embedded")


def _checked_answer(events):
    """The final Answer of a stream. On a terminal the unchecked draft is shown as it is
    generated, dimmed under a "draft" label, and erased when the checked answer arrives; off a
    terminal nothing is shown until then. Either way one answer is printed, never two."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from .types import Answer

    answer, draft = None, ""
    with Live(console=Console(), transient=True, auto_refresh=False) as live:
        for event in events:
            if isinstance(event, Answer):
                answer = event
            else:
                draft += event
                live.update(Text.assemble(("draft, being checked: ", "italic"), (draft, "dim")), refresh=True)
    if answer is None:
        raise RagError("the assistant finished without an answer")
    return answer


def _print_answer(answer) -> None:
    if answer.scope:
        click.secho(_safe(f"(searched only in: {'; '.join(answer.scope)})"), dim=True)
    click.echo(_safe(answer.text))
    click.echo()
    if answer.refused:
        why = f": {answer.why_refused}" if answer.why_refused else ""
        click.secho(f"(refused: the articles do not answer this{why})", fg="yellow")
        if answer.passages:  # where a reader can look for themselves: the passages the model was shown
            click.echo("Closest passages, to read for yourself:")
            for p in list(dict.fromkeys((p.title, show_date(p.date), p.source) for p in answer.passages))[:3]:
                click.echo(_safe(f"  - {p[0]}{f', {p[1]}' if p[1] else ''} — {p[2]}"))
    if answer.low_confidence:
        click.secho("(low confidence: no passage matches the question closely)", fg="yellow")
    if answer.citations:
        click.echo("Sources:")
        for c in answer.citations:
            p = c.passage
            when = f", {show_date(p.date)}" if p.date else ""
            where = ", ".join(f"{start}-{end}" for start, end in c.spans) or f"{p.start}-{p.end}"
            click.echo(_safe(f"  [{c.marker}] {p.title}{when} — {p.source} chars {where}"))
            # the sentences that state what the answer says, else (no check ran) the whole passage
            said = " … ".join(" ".join(q.split()) for q in c.quotes) or " ".join(p.text.split())
            click.echo(_safe(textwrap.indent(textwrap.fill(said, 96), "      ")))
    t = answer.timings
    load = f" after {t.load:.2f}s loading the embedder" if t.load >= 0.01 else ""
    click.secho(f"({answer.model}; retrieval {t.retrieval:.2f}s{load}, first token {t.first_token:.2f}s, "
                f"total {t.total:.2f}s)", dim=True)


@cli.command()
@click.argument("question")
@corpus_option
@index_option
@model_option
@click.option("-k", "--k", type=int, default=None, help="Passages to show the model.")
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as JSON.")
@_fail_cleanly
def ask(question, corpus, index_dir, model, k, as_json):
    """Answer QUESTION from the articles, with numbered sources."""
    from .config import load_config
    from .decompose import check_question

    check_question(question, load_config().max_question_chars)  # before the index and model load
    assistant = _assistant(corpus, index_dir, model, k)
    if as_json:
        click.echo(json.dumps(assistant.ask(question).to_dict(), indent=2, ensure_ascii=False))
        return
    _print_answer(_checked_answer(assistant.stream(question)))


@cli.command()
@corpus_option
@index_option
@model_option
@click.option("-k", "--k", type=int, default=None)
@_fail_cleanly
def chat(corpus, index_dir, model, k):
    """Multi-turn chat in the terminal (empty line or Ctrl-D to quit)."""
    assistant = _assistant(corpus, index_dir, model, k)
    history: list[dict[str, str]] = []
    click.echo("Ask about the articles. Empty line to quit.")
    while True:
        try:
            question = click.prompt("you", default="", show_default=False, prompt_suffix="> ")
        except (EOFError, click.Abort):
            break
        if not question.strip():
            break
        try:
            answer = _checked_answer(assistant.stream(question, history=history or None))
        except RagError as err:  # a bad question, a server or store that failed: this turn only, the chat goes on
            click.echo(f"error: {err}", err=True)
            continue
        if answer.standalone_question and answer.standalone_question != question:
            click.secho(_safe(f"(understood as: {answer.standalone_question})"), dim=True)
        _print_answer(answer)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]


def _check_port_free(host: str, port: int) -> None:
    """One error line, before the index and model load, when ``port`` is taken."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as err:
        raise RagError(f"cannot serve on {host}:{port} ({err.strerror or err}); pass another --port") from None


def _parse_auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise RagError("--auth (or RAG_UI_AUTH) must be user:password, both parts non-empty")
    return user, password


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to serve on; anything but loopback needs --auth.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535))
@click.option("--auth", envvar="RAG_UI_AUTH", default=None, metavar="USER:PASSWORD",
              help="Require this login (also RAG_UI_AUTH); needed to serve beyond this machine.")
@corpus_option
@index_option
@model_option
@click.option("-k", "--k", type=int, default=None, help="Passages to show the model (the Settings slider's start).")
@_fail_cleanly
def ui(host, port, auth, corpus, index_dir, model, k):
    """Start the Gradio chat UI."""
    from ui.app import check_serving, launch

    login = _parse_auth(auth)
    check_serving(host, login)  # before the index and model load
    _check_port_free(host, port)
    assistant = _assistant(corpus, index_dir, model, k)
    launch(host=host, port=port, assistant=assistant, auth=login)


@cli.command()
@_fail_cleanly
def models():
    """List the known models and whether their packages are installed."""
    from .config import load_config
    from .errors import ModelError
    from .models import MODELS, resolve_model

    cfg = load_config()
    for name, spec in MODELS.items():
        try:
            path = resolve_model(name, cfg.model_cache)
            state = f"ready: {path}"
        except ModelError as err:
            state = f"missing: {err}"
        mark = "*" if name == cfg.model else " "
        click.echo(f"{mark} {name:14} {spec.description}\n    {state}")


def _register_eval() -> None:
    from .eval_cli import eval_command

    cli.add_command(eval_command, name="eval")


_register_eval()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
