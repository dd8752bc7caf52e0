"""Index stores behind one protocol (:mod:`rag.store.base`).

``BACKENDS`` maps a ``Config.store`` name to a factory of a :class:`~rag.store.base.Backend`;
the embedded store (SQLite + FAISS + tantivy in the index folder) is ``"embedded"``. Another
backend registers itself with :func:`register_backend`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import RagError
from .base import Backend, DocumentInfo, FileState, Hit, IndexReport, Progress, Store, StoreWriter

if TYPE_CHECKING:
    from ..config import Config

__all__ = ["BACKENDS", "Backend", "DocumentInfo", "FileState", "Hit", "IndexReport", "Progress", "Store",
           "StoreWriter", "backend_for", "register_backend"]


def _embedded() -> Backend:
    from .embedded import EmbeddedBackend

    return EmbeddedBackend()


BACKENDS: dict[str, Callable[[], Backend]] = {"embedded": _embedded}


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make ``Config.store = name`` open stores through ``factory()``."""
    BACKENDS[name] = factory


def backend_for(config: "Config") -> Backend:
    name = getattr(config, "store", "embedded")
    if name not in BACKENDS and name == "postgres":
        try:  # the PostgreSQL backend registers itself on import
            import importlib

            importlib.import_module("rag.store.postgres")
        except ImportError as err:
            raise RagError(f"store={name!r} needs its optional dependencies: {err}") from err
    try:
        return BACKENDS[name]()
    except KeyError:
        raise RagError(f"store={name!r} is not one of {', '.join(sorted(set(BACKENDS) | {'postgres'}))}") from None
