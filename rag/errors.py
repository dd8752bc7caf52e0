"""Errors the library raises. Every message names the bad value and what to do."""


class RagError(Exception):
    """Base class: the CLI and UI print ``str(err)`` as one line."""


class QuestionError(RagError, ValueError):
    """Empty or oversized question."""


class CorpusError(RagError):
    """Missing folder, no readable articles."""


class IndexMismatchError(RagError):
    """The index on disk was built with another embedder or format."""


class ModelError(RagError):
    """Missing, corrupt or unloadable model file."""
