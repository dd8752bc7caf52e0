"""Configuration: one frozen dataclass, read from defaults, an optional TOML file and
``RAG_*`` environment variables (in that order of precedence, lowest first)."""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import RagError

MAX_K = 100  # passages a question may ask for: more overflow any context, and a huge k exhausts memory
JUDGES = ("answerable", "focused", "continue", "both", "off")  # how the support check asks the model (rag.support)
JUDGE_CONTEXTS = ("neighbours", "own")  # what the judgement reads around the evidence (rag.support.evidence_of)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = "rag.toml"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Config:
    corpus: Path = PROJECT_ROOT / "seeds"
    index_dir: Path = PROJECT_ROOT / "index"
    # A name from rag.models.MODELS or a path to any GGUF file.
    model: str = "qwen2.5-1.5b"
    embedder: str = "all-MiniLM-L6-v2"
    chunk_tokens: int = 150  # cl100k tokens per chunk (upper bound, sentences are kept whole)
    chunk_overlap: int = 30  # tokens of trailing sentences repeated at the next chunk's start
    k: int = 4  # passages shown to the model
    # show each article's title once above its passages: fewer tokens, but 3.4 points fewer right
    # on the seeds and 1 on SQuAD than a title and date on every passage (README), so off
    group_titles: bool = False
    # show the k passages' best sentences within this many tokens in all (rag.evidence; 0: whole passages).
    # 250 halves the prompt and answers 2 s sooner, but cost 5 points of SQuAD accuracy (README), so off
    evidence_tokens: int = 0
    # cut each shown passage to the stretch from its first to its last sentence scoring at least
    # this against the question (share of its content words + embedding similarity; rag.evidence
    # .trim_passages, with the next sentence when it refers back); 0 shows the passages whole. 0.4
    # brought the seeds' median prompt from 600 to 435 tokens at the same seeds accuracy and 2 more
    # right SQuAD answers (README, stop 25); the next sentence: 447.5 tokens, 85.2% (stop 28)
    trim_below: float = 0.4
    # of the k passages, show only those near the best one (rag.passages.near_the_best): dense
    # similarity within this of the first passage's, or retrieval score within passage_fused_gap
    # (z-units for zscore fusion); inf shows all k. Both measured on both gold sets (README)
    passage_cosine_gap: float = 0.07
    passage_fused_gap: float = 1.0
    # a question that names one article ("in the Harbour Report") is searched in that article
    # only (rag.scope), chosen among the articles of the candidate pool by their titles
    scope_articles: bool = True
    candidates: int = 20  # passages each retriever returns before fusion
    hybrid: bool = True  # fuse BM25 with dense retrieval (reciprocal rank fusion)
    n_ctx: int = 2048
    max_tokens: int = 160  # answer length cap
    temperature: float = 0.0
    seed: int = 42
    n_threads: int | None = None  # None: all cores
    system_prompt: str | None = None  # None: rag.prompt.SYSTEM_PROMPT (measured on the gold set)
    verify_citations: bool = True  # re-check each answer sentence against the passages (rag.grounding)
    split_questions: bool = True  # answer each part of a multi-part question with its own retrieval
    support_check: bool = True  # refuse answers the cited passages do not state (rag.support)
    # the model's yes/no judgement: answerable (the evidence and the question), focused (the evidence, the
    # question and the answer), continue (in the answer's conversation), both (continue and focused), off
    judge: str = "answerable"
    # p(Yes) at which an answer stands on the judgement alone, and the p(Yes) enough when the
    # question's names and numbers are beside the evidence; None: the model's measured values
    # (rag.models), or no refusal by judgement for a model that was not measured
    judge_threshold: float | None = None
    judge_covered_threshold: float | None = None
    coverage_words: float = 0.0  # share of the question's other words the evidence needs for the lower threshold
    # what the judgement reads around the sentences that hold the answer's facts: "neighbours" (one
    # sentence either side), or "own" (those sentences, and the one before when the first opens
    # with a pronoun: a neighbour may hold another fact that answers the question instead)
    judge_context: str = "neighbours"
    # best dense score under this, and no passage holds the question's names: refuse without the model
    refuse_below: float = 0.20
    min_score: float = 0.30  # best dense score under this flags the answer low-confidence
    max_question_chars: int = 2000
    max_file_bytes: int = 5_000_000
    max_upload_files: int = 20  # files one upload in the UI may add
    model_wait: float = 300.0  # seconds a question waits for the model while another is answered
    model_cache: Path = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rag-news"
    fusion: str = "zscore"  # how hybrid retrieval fuses BM25 and dense: zscore, minmax or rrf (rag.retrieval)
    lexical_weight: float = 0.5  # BM25's share of the fusion; 0.5 weighs both alike
    rare_boost: float = 1.0  # bonus for holding the query's rare terms, as a share of the fused score spread
    rare_df: float = 0.005  # a query term is rare when at most this share of chunks holds it
    rare_digit_df: float = 0.1  # ... and a term with a digit (a year, a code) when at most this share does
    # An OpenAI-compatible server (its base URL, ending in /v1) answers instead of the local model
    # (rag.server_llm); its model name (None: the first it lists), API key and reply timeout in seconds
    llm_url: str | None = None
    llm_model_name: str | None = None
    llm_api_key: str | None = dataclasses.field(default=None, repr=False)
    llm_timeout: float = 60.0
    fusion_pool: int = 200  # each retriever's best chunks whose scores set the zscore/minmax normalisation
    vector_index: str = "auto"  # embedded store: flat (exact), hnsw, or auto (flat below hnsw_threshold chunks)
    hnsw_threshold: int = 200_000
    hnsw_ef_search: int = 4096  # HNSW search breadth: recall@10 0.956 at 1M synthetic chunks (scripts/scale_benchmark.py)
    store: str = "embedded"  # where the index lives: "embedded" (SQLite + FAISS + tantivy in index_dir), or a registered backend (rag.store)
    dsn: str = ""  # store = "postgres": the database, e.g. postgresql://rag@localhost/rag (RAG_DSN)

    def __post_init__(self) -> None:
        if self.judge not in JUDGES:
            raise RagError(f"config setting judge={self.judge!r} is not one of {', '.join(JUDGES)}")
        if self.judge_context not in JUDGE_CONTEXTS:
            raise RagError(f"config setting judge_context={self.judge_context!r} is not one of {', '.join(JUDGE_CONTEXTS)}")
        if self.llm_url:
            try:
                host = urlsplit(self.llm_url).hostname
            except ValueError:  # "http://[::1/v1": an unclosed IPv6 bracket
                host = None
            if not self.llm_url.startswith(("http://", "https://")) or not host:
                raise RagError(f"config setting llm_url={self.llm_url!r} is not an http:// or https:// URL with a host")
        if not self.trim_below >= 0:  # NaN too
            raise RagError(f"config setting trim_below={self.trim_below!r} must be 0 or more (0 shows passages whole)")
        for name in ("passage_cosine_gap", "passage_fused_gap"):
            if not getattr(self, name) >= 0:  # NaN too
                raise RagError(f"config setting {name}={getattr(self, name)!r} must be 0 or more (inf shows all k passages)")
        for name, low, high, what in _RANGES:
            value = getattr(self, name)
            if value is not None and not low <= value <= high:  # NaN fails both
                raise RagError(f"config setting {name}={value!r} must be {what}")
        if not self.chunk_overlap < self.chunk_tokens:
            raise RagError(f"config setting chunk_overlap={self.chunk_overlap!r} must be less than "
                           f"chunk_tokens={self.chunk_tokens!r}")

    def replace(self, **changes: Any) -> "Config":
        return dataclasses.replace(self, **_coerce(changes))


# (setting, lowest, highest, what the error says it must be): values that would fail later with a
# traceback, or silently do something else (a negative temperature, a threshold above 1)
_RANGES = (
    ("k", 1, MAX_K, f"a number of passages from 1 to {MAX_K}"),
    ("chunk_tokens", 16, 8192, "a number of tokens from 16 to 8192"),
    ("chunk_overlap", 0, 8192, "0 or more tokens"),
    ("candidates", 1, 10_000, "1 or more passages"),
    ("n_ctx", 256, 1_048_576, "a context of at least 256 tokens"),
    ("max_tokens", 1, 1_048_576, "1 or more tokens"),
    ("temperature", 0.0, 5.0, "from 0 to 5"),
    ("n_threads", 1, 4096, "1 or more threads (or unset: all cores)"),
    ("judge_threshold", 0.0, 1.0, "a probability from 0 to 1"),
    ("judge_covered_threshold", 0.0, 1.0, "a probability from 0 to 1"),
    ("coverage_words", 0.0, 1.0, "a share from 0 to 1"),
    ("refuse_below", -1.0, 1.0, "a cosine similarity from -1 to 1"),
    ("min_score", -1.0, 1.0, "a cosine similarity from -1 to 1"),
    ("max_question_chars", 1, 10_000_000, "1 or more characters"),
    ("max_file_bytes", 1, 1 << 40, "1 or more bytes"),
    ("max_upload_files", 1, 100_000, "1 or more files"),
    ("model_wait", 0.0, 1e9, "0 or more seconds"),
    ("llm_timeout", 1e-3, 1e9, "a positive number of seconds"),
)

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_FIELDS = {f.name: f for f in dataclasses.fields(Config)}


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in _FIELDS:
            raise RagError(f"unknown config setting {name!r}; known: {', '.join(sorted(_FIELDS))}")
        if value is None and name != "n_threads":
            continue
        default = getattr(Config, name, None)
        try:
            if isinstance(default, Path) or name in ("corpus", "index_dir", "model_cache"):
                value = Path(value).expanduser()
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    word = str(value).strip().lower()
                    if word not in _TRUE + _FALSE:
                        raise ValueError(word)  # "ture" is a typo, not false
                    value = word in _TRUE
            elif (isinstance(default, int) or name == "n_threads") and value not in (None, ""):
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError(value)  # k = true, k = 4.7: not a count
                value = int(value)
            elif isinstance(default, float) or "float" in str(_FIELDS[name].type):
                if isinstance(value, bool):
                    raise ValueError(value)
                value = float(value)
            elif "str" in str(_FIELDS[name].type) and not isinstance(value, str):
                raise ValueError(value)  # model = 5, llm_url = 5
        except (TypeError, ValueError) as err:
            raise RagError(f"config setting {name}={value!r} is not a valid {_kind(name)}") from err
        out[name] = value
    return out


def _kind(name: str) -> str:
    """What a setting's value must be, in words: its type without the None."""
    kind = str(_FIELDS[name].type).replace(" | None", "")
    return {"str": "string", "bool": "boolean (true or false)", "int": "whole number", "float": "number",
            "Path": "path"}.get(kind, kind)


def index_dir_for(corpus: Path) -> Path:
    """The default index folder of a corpus: ``index/`` for the seeds, else a folder of its own
    under ``index/corpora/``, named after the corpus and a hash of its absolute path."""
    import hashlib

    corpus = Path(corpus).expanduser().resolve()
    if corpus == Config.corpus.resolve():
        return Config.index_dir
    digest = hashlib.sha256(str(corpus).encode("utf-8")).hexdigest()[:8]
    return Config.index_dir / "corpora" / f"{corpus.name or 'corpus'}-{digest}"


def index_dir_of(config: Config, corpus: str | Path | None = None, index_dir: str | Path | None = None) -> Path:
    """The index folder for ``corpus`` (else ``config.corpus``): ``index_dir`` when given, or
    ``config.index_dir`` when set to another than the default; else :func:`index_dir_for` the
    corpus, so that a corpus named by an argument, ``RAG_CORPUS`` or ``rag.toml`` alike gets one
    folder, and never overwrites the seeds' index."""
    if index_dir is not None:
        if not str(index_dir).strip():  # Path("") is the current folder: an index spread over it
            raise RagError("index_dir='' names no folder; give a path, or leave it out for the corpus's own")
        return Path(index_dir)
    if Path(config.index_dir) != Config.index_dir:
        return Path(config.index_dir)
    return index_dir_for(Path(corpus if corpus is not None else config.corpus))


def load_config(path: str | Path | None = None, **overrides: Any) -> Config:
    """Defaults < TOML file (``path``, ``$RAG_CONFIG`` or ./rag.toml) < ``RAG_<NAME>`` env < overrides.

    ``RAG_LLM_MODEL`` is accepted as an alias of ``RAG_MODEL``.
    """
    values: dict[str, Any] = {}
    named = path or os.environ.get("RAG_CONFIG")  # a file asked for by name must exist
    file = Path(named or DEFAULT_CONFIG_FILE)
    if file.is_file():
        try:
            from_file = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise RagError(f"config file {file} is not valid TOML: {err}") from err
        except (UnicodeDecodeError, OSError) as err:
            raise RagError(f"config file {file} cannot be read as UTF-8 text: {err}") from err
        for name, value in from_file.items():  # a ./rag.toml is read without being named: say which file
            try:
                _coerce({name: value})
            except RagError as err:
                close = difflib.get_close_matches(name, list(_FIELDS), n=1, cutoff=0.8) if name not in _FIELDS else []
                hint = f"unknown setting {name!r}; did you mean {close[0]!r}?" if close else str(err)
                raise RagError(f"config file {file.resolve()}: {hint}") from None
        values.update(from_file)
    elif named:
        where = "" if path else " (RAG_CONFIG)"
        raise RagError(f"config file {file}{where} does not exist" + (" (it is a folder)" if file.is_dir() else ""))
    for name in _FIELDS:
        env = os.environ.get(f"RAG_{name.upper()}")
        if env is not None and env != "":
            try:
                _coerce({name: env})
            except RagError as err:
                raise RagError(f"environment variable RAG_{name.upper()}: {err}") from None
            values[name] = env
    if os.environ.get("RAG_LLM_MODEL"):
        values["model"] = os.environ["RAG_LLM_MODEL"]
    _warn_misspelt_env()
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Config(**_coerce(values))


_WARNED: set[str] = set()


def _warn_misspelt_env() -> None:
    """Log a ``RAG_*`` variable that is no setting but is spelt like one (``RAG_CHUNK_TOKEN``):
    it would otherwise be ignored without a word. Variables of other parts (``RAG_UI_AUTH``)
    are not close to any setting and pass silently."""
    known = [f"RAG_{name.upper()}" for name in _FIELDS] + ["RAG_CONFIG", "RAG_LLM_MODEL"]
    for var in sorted(os.environ):
        if var.startswith("RAG_") and var not in known and var not in _WARNED:
            _WARNED.add(var)  # once a process: the config is read more than once a question
            close = difflib.get_close_matches(var, known, n=1, cutoff=0.85)
            if close:
                log.warning("environment variable %s is not a setting and is ignored; did you mean %s?",
                            var, close[0])
