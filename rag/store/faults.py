"""Test-only fault injection: stop a process at a named point so a test can SIGKILL it there.

When ``RAG_TEST_FAULT`` names a point, :func:`point` writes ``RAG_TEST_FAULT_FILE`` (so the
test knows the process got there) and sleeps until it is killed. Unset, it costs one dict look-up.
"""

from __future__ import annotations

import os
import time

POINTS = ("embedding", "between-data-files", "before-manifest", "after-manifest")


def point(name: str) -> None:
    if os.environ.get("RAG_TEST_FAULT") != name:
        return
    marker = os.environ.get("RAG_TEST_FAULT_FILE")
    if marker:
        with open(marker, "w") as fh:
            fh.write(name)
    while True:  # the test kills us here
        time.sleep(1)
