"""Database connection strings in messages and reports: never with their password."""

from __future__ import annotations

import re


def mask_dsn(dsn: str) -> str:
    """``dsn`` with any password replaced by ``***`` (URL or key=value form)."""
    masked = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", dsn)
    masked = re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", masked, flags=re.I)
    return re.sub(r"([?&]password=)[^&\s]*", r"\1***", masked, flags=re.I)
