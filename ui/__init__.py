"""Gradio chat UI over the ``rag`` library: ``create_app(assistant)`` and ``launch()``.

The UI holds no retrieval or prompting logic; it renders what ``rag.Assistant`` returns.
"""

import os

# No telemetry or version check: the app must work with the network cut off.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from .app import create_app, launch  # noqa: E402

__all__ = ["create_app", "launch"]
