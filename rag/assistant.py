"""The facade: index a corpus, retrieve passages and answer questions with citations."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import evidence
from .chunking import count_tokens
from .checking import check_draft, uncalibrated_judge
from .citations import is_refusal, strip_markers
from .config import MAX_K, Config, index_dir_of, load_config
from .corpus_files import copy_in, set_aside_document
from .decompose import check_history, check_question, comparison_options, split_question, subject_of
from .followups import needs_context, needs_conversation
from .embedding import Embedder
from .errors import CorpusError, QuestionError
from .llm import ChatModel, in_background, load_model
from .models import resolve_model
from .prompt import (REFUSAL, SYSTEM_PROMPT, accept_rewrite, build_condense_prompt, build_prompt, fit_passages,
                     group_by_article, pinned_question)
from .passages import distinct, interleave, latest_versions, merged_searches, near_the_best, nothing_close, to_passages
from .retrieval import BM25Retriever, DenseRetriever, FusionRetriever, FusionSettings, Retriever
from .scope import pick_articles, scoped_reference, with_conversation_scope, without_reference
from .server_llm import connect
from .store import DocumentInfo, IndexReport, Store, backend_for
from .store.sync import needs_sync, out_of_date, stamps_of, sync
from .types import Answer, Passage, Timings, merge_answers

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class _IndexState:
    """What retrieval reads, swapped as one object when the index changes."""

    index: Store
    dense: DenseRetriever
    retriever: Retriever


class Assistant:
    """Question answering over a folder of articles.

    >>> assistant = Assistant()                        # seeds/ corpus, index/ store, default model
    >>> answer = assistant.ask("What did the central bank decide?")
    """

    def __init__(self, corpus: str | Path | None = None, index_dir: str | Path | None = None, *,
                 config: Config | None = None, llm: ChatModel | None = None, embedder: Embedder | None = None,
                 progress: Progress | None = None, rebuild: bool = False, _write: bool = True, **overrides: Any):
        base = config or load_config()
        self.config = base.replace(corpus=corpus, index_dir=index_dir_of(base, corpus, index_dir), **overrides)
        self.embedder = embedder or Embedder(self.config.embedder)
        self._llm = llm
        self._sync_lock = threading.Lock()
        self._files_lock = threading.Lock()  # the corpus folder's files, while add_files/remove_document move them
        if uncalibrated_judge(self.config):
            log.warning("system_prompt is set: the support check's judgement is asked under it, and its p(Yes) "
                        "thresholds were measured under the default system prompt; measure yours on a gold set "
                        "and set judge_threshold (README, Configuration)")
        self.last_report = self._open(progress=progress, rebuild=rebuild, write=_write)

    @classmethod
    def open(cls, corpus: str | Path | None = None, index_dir: str | Path | None = None, **kwargs: Any) -> "Assistant":
        """An Assistant over the index as it is: never writes it, never takes the write lock.
        Raises CorpusError when there is no index yet (build it with ``Assistant()`` or ``rag index``)."""
        return cls(corpus, index_dir, _write=False, **kwargs)

    # --- indexing ----------------------------------------------------------------

    def _open(self, progress: Progress | None, rebuild: bool, write: bool) -> IndexReport:
        """Open the published index; sync first (write lock) only when the corpus changed."""
        cfg = self.config
        store = None if rebuild and write else backend_for(cfg).open(cfg, self.embedder.name)
        known = stamps_of(store) if store is not None else {}
        if write and (store is None or needs_sync(cfg, store, known)):
            return self.reindex(progress=progress, rebuild=rebuild)
        if store is None:
            where = cfg.index_dir if cfg.store == "embedded" else f"the {cfg.store} store (index {cfg.index_dir.name})"
            raise CorpusError(f"no index in {where}; build it with: rag index {cfg.corpus} --index-dir {cfg.index_dir}")
        if not write and (why := out_of_date(cfg, store, known)) is not None:
            log.warning("index %s is out of date for %s: %s; run: rag index", cfg.index_dir, cfg.corpus, why)
        self._use(store)
        skipped = [(source, stamp[3]) for source, stamp in known.items() if stamp[3]]
        indexed = len(known) - len(skipped)
        return IndexReport(files=indexed, unchanged=indexed, n_chunks=len(store), skipped=skipped)

    def _use(self, store: Store) -> None:
        cfg = self.config
        dense = DenseRetriever(store, self.embedder)
        fused: Retriever = (FusionRetriever([dense, BM25Retriever(store)], settings=FusionSettings.from_config(cfg))
                            if cfg.hybrid else dense)
        self._state = _IndexState(store, dense, fused)  # one assignment: a reader sees all old or all new

    def reindex(self, progress: Progress | None = None, rebuild: bool = False) -> IndexReport:
        """Sync the index with the corpus folder; embeds only new or changed chunks."""
        cfg = self.config
        with self._sync_lock:  # one sync at a time writes the index folder
            report = sync(cfg, self.embedder, rebuild=rebuild, progress=progress)
            store = backend_for(cfg).open(cfg, self.embedder.name)
            if store is None:
                raise CorpusError(f"the index in {cfg.index_dir} was not written")
            self._use(store)
        log.info("index %s: %s", cfg.index_dir, report.summary())
        return report

    def _current(self) -> _IndexState:
        """The index state, reopened first when another process (``rag index``, another UI) has
        published a newer generation since it was opened: the one opened goes stale at once, and
        its rows of changed files are purged two syncs later. A sync under way in this process
        (``_sync_lock`` held) reopens it itself, so it is not waited for."""
        state = self._state
        current = getattr(state.index, "is_current", None)
        if current is None or current() or not self._sync_lock.acquire(blocking=False):
            return state
        try:
            if self._state is state:
                store = backend_for(self.config).open(self.config, self.embedder.name)
                if store is not None:
                    log.info("index %s changed on disk: reopened", self.config.index_dir)
                    self._use(store)
            return self._state
        finally:
            self._sync_lock.release()

    @property
    def index(self) -> Store:
        return self._current().index

    def add_files(self, paths: list[str | Path], progress: Progress | None = None) -> IndexReport:
        """Copy article files into the corpus folder and index them incrementally
        (:func:`rag.corpus_files.copy_in`: every file is read first, a bad one refuses them all;
        a file with the name of a document replaces it, the old one kept in ``<corpus>/.removed/``)."""
        with self._files_lock:
            copy_in(self.config.corpus, paths, self.config.max_file_bytes)
        return self.reindex(progress=progress)

    def remove_document(self, source: str) -> IndexReport:
        """Take a file out of the index. The file is moved to ``<corpus>/.removed/``, not deleted."""
        with self._files_lock:  # checked and moved as one step: two removals of one file never both move it
            set_aside_document(self.config.corpus, source)
        return self.reindex()

    def documents(self) -> list[DocumentInfo]:
        return self._current().index.documents()

    def document_text(self, source: str) -> str:
        """The text that ``Passage.start/end`` index into (the file as read, or text extracted from HTML/PDF)."""
        return self.index.document_text(source)

    # --- retrieval -----------------------------------------------------------------

    def _check_question(self, question: str) -> str:
        return check_question(question, self.config.max_question_chars)

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The best ``k`` passages for ``question``; only from the article it names, when it names
        one that matches a title (rag.scope)."""
        return self._retrieve(question, k)[0]

    def shown(self, question: str, k: int | None = None) -> list[Passage]:
        """What the model is shown for ``question``: :meth:`retrieve`, then :meth:`select_evidence`
        for the question as searched (for each thing a comparison names, in turn)."""
        return self._shown(self._searches(question, k), k)

    def _searches(self, question: str, k: int | None) -> list[tuple[list[Passage], tuple[str, ...], str]]:
        """:meth:`_retrieve`'s (passages, scope, question as searched) for ``question``, or for each
        named thing it chooses between ("Which cost more, A or B?"): one search for both finds
        whichever matches more of its words, and the other may not be shown at all."""
        options = comparison_options(question) if self.config.split_questions else []
        return [self._retrieve(q, k) for q in options or [question]]

    def _shown(self, searches: list[tuple[list[Passage], tuple[str, ...], str]], k: int | None) -> list[Passage]:
        """What the model is shown of :meth:`_searches`: each search's evidence, the best of each in turn."""
        shown = [self.select_evidence(searched, retrieved) for retrieved, _, searched in searches]
        return shown[0] if len(shown) == 1 else interleave(shown, self.config.k if k is None else k)

    def _retrieve(self, question: str, k: int | None) -> tuple[list[Passage], tuple[str, ...], str]:
        """(passages, titles of the articles the search was confined to or (), the question as
        searched: without the name of the document it was confined to)."""
        q = self._check_question(question)
        k = self.config.k if k is None else k
        if isinstance(k, bool) or not isinstance(k, int):
            raise QuestionError(f"k={k!r}: a whole number of passages")
        if not 1 <= k <= MAX_K:
            raise QuestionError(f"k={k}: ask for 1 to {MAX_K} passages")
        state = self._current()  # read once: a reindex in another thread swaps it whole
        reference = scoped_reference(q) if self.config.scope_articles else None
        searched = q
        if reference is None:
            # twice k, so that copies of one text (rag.passages.distinct) leave room for others
            hits, scope = state.retriever.search(q, 2 * k), ()
        else:
            hits, scope, searched = self._scoped_search(state, q, reference, k)
        # a draft's passages are not shown beside its final's; nor copies of one text
        hits = distinct(state.index, latest_versions(state.index, hits, q), k)
        qv = state.dense.query_vector(searched)
        return to_passages(state.index, hits, qv), scope, searched

    def _scoped_search(self, state: _IndexState, q: str, reference: str,
                       k: int) -> tuple[list[tuple[int, float]], tuple[str, ...], str]:
        """The hits of the articles ``reference`` names (rag.scope), best first (the caller keeps
        ``k`` distinct ones), chosen among the articles of the retrievers' candidate pool, ranked by
        the question without the document's name; the plain search when it names none of them."""
        pool_size = max(k, self.config.fusion_pool)
        pool = state.retriever.search(q, pool_size)
        chunks = state.index.chunks([key for key, _ in pool])
        article = {key: (c.source, c.title) for key, c in chunks.items()}
        titles = {a: f"{a[1]} {a[0]}" for a in article.values()}
        texts: dict[tuple[str, str], list[str]] = {}
        for key, c in chunks.items():
            texts.setdefault(article[key], []).append(c.text)
        chosen = pick_articles(reference, titles, {a: " ".join(t) for a, t in texts.items()})
        if not chosen:  # the same search as an unscoped question, rare-term boost and all
            return state.retriever.search(q, 2 * k), (), q
        titles_searched = tuple(sorted(title for _, title in chosen))
        log.info("question names %r: searching %s", reference, titles_searched)
        inside = {key for key, a in article.items() if a in chosen}
        rest = without_reference(q, reference)
        ranked = [(key, score) for key, score in state.retriever.search(rest, pool_size) if key in inside]
        if len(ranked) < min(k, len(inside)):  # the rest of the question alone misses some of the article's chunks
            return [(key, score) for key, score in pool if key in inside], titles_searched, q
        return ranked, titles_searched, rest

    def select_evidence(self, question: str, passages: list[Passage]) -> list[Passage]:
        """What the model is shown of ``passages``: those near the best one (``passage_cosine_gap``,
        ``passage_fused_gap``), each cut to its stretch on the question (``config.trim_below``),
        then their best sentences within ``config.evidence_tokens`` (rag.evidence); 0 turns
        either cut off."""
        cfg = self.config
        passages = near_the_best(passages, cfg.passage_cosine_gap, cfg.passage_fused_gap)
        if (cfg.evidence_tokens <= 0 and cfg.trim_below <= 0) or not passages:
            return passages
        qv = self._state.dense.query_vector(question)

        # a shorter prompt is read faster and distracts a small model less
        def similarity(sentences: list[str]) -> list[float]:
            return [float(v @ qv) for v in self.embedder.encode(sentences)]

        passages = evidence.trim_passages(question, passages, cfg.trim_below, similarity)
        return evidence.select_sentences(question, passages, count_tokens, cfg.evidence_tokens, similarity)

    # --- generation ------------------------------------------------------------------

    @property
    def llm(self) -> ChatModel:
        return self._model(None)

    def _model(self, name: str | None) -> ChatModel:
        wanted = name or self.config.model
        if self._llm is not None and (name is None or getattr(self._llm, "spec_name", None) == wanted):
            return self._llm
        cfg = self.config
        if cfg.llm_url:  # an OpenAI-compatible server answers instead of a local GGUF
            model: ChatModel = connect(cfg.llm_url, model=name or cfg.llm_model_name, api_key=cfg.llm_api_key,
                                       timeout=cfg.llm_timeout, n_ctx=cfg.n_ctx)
        else:
            path = resolve_model(wanted, cfg.model_cache)
            model = load_model(path, n_ctx=cfg.n_ctx, n_threads=cfg.n_threads, seed=cfg.seed, name=wanted)
            model.spec_name = wanted
            model.lock_timeout = cfg.model_wait
        if name is None or self._llm is None:
            self._llm = model
        return model

    def condense(self, question: str, history: list[dict[str, str]] | None, model: str | None = None) -> str:
        """Rewrite a follow-up into a standalone question using the conversation."""
        q = self._check_question(question)
        turns = [t for t in check_history(history) if t["content"].strip()]
        if not turns:
            return q
        llm = self._model(model)
        cleaned = [{"role": t["role"], "content": strip_markers(str(t["content"]))} for t in turns]
        out = "".join(llm.stream(build_condense_prompt(q, cleaned), max_tokens=48, temperature=0.0,
                                 seed=self.config.seed, stop=["\n"]))
        return accept_rewrite(q, out, cleaned)

    def ask(self, question: str, **kwargs: Any) -> Answer:
        answer = None
        for event in self.stream(question, **kwargs):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(self, question: str, *, history: list[dict[str, str]] | None = None, k: int | None = None,
               temperature: float | None = None, model: str | None = None) -> Iterator[str | Answer]:
        """Yield answer text pieces as they are generated, then the final :class:`Answer`."""
        q = self._check_question(question)
        # a refusal says nothing a follow-up could refer to: the search must not see "The articles do not say."
        history = [t for t in check_history(history) if not (t["role"] == "assistant" and is_refusal(t["content"]))]
        t0 = time.perf_counter()
        rewrite = needs_conversation(q, history)
        if self._llm is None and not rewrite:  # the first question: load the model while retrieving
            get_llm = in_background(lambda: self._model(model))
        else:
            loaded = self._model(model)
            get_llm = lambda: loaded  # noqa: E731
        # a question that stands on its own is searched as asked, never rewritten
        standalone = self.condense(q, history, model) if rewrite else None
        # a question that only names nothing, and that the model could not rewrite from the
        # conversation, may turn to a new subject ("How many homes lost power in the storm?"): the
        # last answer beside it leans the search to the conversation, but no article binds it
        bound = standalone is not None and (needs_context(q) or not (standalone == q or standalone.startswith(q + " (")))
        if bound and self.config.scope_articles:
            standalone = with_conversation_scope(standalone, history or [])  # "And copper?" stays in that article
        asked = standalone or q
        # a follow-up searched with the last answer beside it is split without that aside: its
        # sentences are context, never parts of the question, and each part carries it
        base = pinned_question(asked, standalone is not None)
        aside = asked[len(base):]
        parts = split_question(base) if self.config.split_questions else [base]
        if len(parts) == 1:
            yield from self._answer(q, standalone, get_llm, t0, k=k, temperature=temperature)
            return
        # each part gets its own retrieval and answer; the answers are merged with their citations
        answers: list[Answer] = []
        for i, part in enumerate(parts):
            if i:
                yield " "
            # a later part that names nothing ("What was the final fine?") is searched with the
            # names of the parts before it beside it, as context, never as a constraint
            about = subject_of(parts, part)
            beside = aside or (f" ({about})" if about else "")
            for event in self._answer(part, part + beside if beside else None, get_llm,
                                      t0 if i == 0 else time.perf_counter(), k=k, temperature=temperature):
                if isinstance(event, Answer):
                    answers.append(event)
                else:
                    yield event
        yield merge_answers(q, standalone, answers, time.perf_counter() - t0)

    def _answer(self, q: str, standalone: str | None, get_llm: Callable[[], ChatModel], t0: float, *,
                k: int | None, temperature: float | None) -> Iterator[str | Answer]:
        """Retrieve for one question, generate, check; the pieces, then the Answer."""
        cfg = self.config
        asked = standalone or q
        loading = getattr(self.embedder, "load", None)  # a first question loads the embedder: not retrieval either
        t_load = loading() if loading is not None else 0.0
        t_search = time.perf_counter()  # a follow-up's rewrite, before it, is not retrieval
        searches = self._searches(asked, k)
        t_retrieval = time.perf_counter() - t_search
        retrieved, scope = merged_searches(searches, cfg.k if k is None else k)
        llm = get_llm()  # after retrieval: on a first question the model loads meanwhile
        best = max((p.score for p in retrieved), default=0.0)
        low_conf = best < cfg.min_score
        model_name = getattr(llm, "spec_name", None) or llm.name
        if nothing_close(asked, retrieved, cfg.refuse_below):
            # nothing in the corpus is even close: say so without spending seconds on the model
            yield REFUSAL
            total = round(time.perf_counter() - t0, 4)
            yield Answer(question=q, text=REFUSAL, citations=[], passages=retrieved, refused=True,
                         timings=Timings(retrieval=round(t_retrieval, 4), first_token=total, total=total,
                                         load=round(t_load, 4)),
                         model=model_name, standalone_question=standalone, low_confidence=True, scope=scope,
                         refusal="nothing close")
            return
        system = cfg.system_prompt or SYSTEM_PROMPT
        shown = self._shown(searches, k)
        passages = fit_passages(asked, shown, llm.count_tokens, llm.n_ctx, cfg.max_tokens, system=system)
        if cfg.group_titles:
            passages = group_by_article(passages)
        messages = build_prompt(asked, passages, system, grouped=cfg.group_titles)
        pieces: list[str] = []
        t_first = 0.0
        for piece in llm.stream(messages, max_tokens=cfg.max_tokens,
                                temperature=cfg.temperature if temperature is None else temperature, seed=cfg.seed):
            if not pieces:
                t_first = time.perf_counter() - t0
            pieces.append(piece)
            yield piece
        t_generated = time.perf_counter()
        raw = "".join(pieces).strip()
        prompt_tokens, completion_tokens = llm.last_usage
        checked = check_draft(raw, passages, asked, messages, llm, cfg, pinned_question(asked, standalone is not None))
        t_end = time.perf_counter()
        total = t_end - t0
        yield Answer(
            question=q, text=checked.text, citations=checked.citations, passages=passages, refused=checked.refused,
            timings=Timings(retrieval=round(t_retrieval, 4), first_token=round(t_first or total, 4), total=round(total, 4),
                            load=round(t_load, 4),
                            prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                            check=round(t_end - t_generated, 4)),
            model=model_name, standalone_question=standalone, low_confidence=low_conf, draft=raw,
            support=checked.support, refusal=checked.refusal,
            scope=scope,
        )
