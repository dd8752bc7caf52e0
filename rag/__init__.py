"""Local, private question answering over a folder of news articles, with citations.

    from rag import Assistant
    answer = Assistant().ask("What did the central bank decide?")
"""

from .assistant import Assistant
from .config import Config, load_config
from .errors import CorpusError, IndexMismatchError, ModelError, QuestionError, RagError
from .index import DocumentInfo, IndexReport
from .types import Answer, Citation, Passage, Timings

__all__ = [
    "Answer", "Assistant", "Citation", "Config", "CorpusError", "DocumentInfo", "IndexMismatchError",
    "IndexReport", "ModelError", "Passage", "QuestionError", "RagError", "Timings", "load_config",
]
