"""The terminal shows one answer: the checked one. The unchecked draft is shown only on a
terminal, marked as a draft, and erased when the checked answer arrives (checked on a real
pseudo-terminal through the pyte terminal emulator)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.types import Answer, Citation, Passage

ROOT = Path(__file__).resolve().parent.parent
DRAFT = ["Copper ", "rose ", "5% ", "on Monday ", "[1] [9]. ", "UNCHECKED-TAIL ", "words " * 40]
CHECKED = "Copper rose 5% on Monday [1]."

# a stand-in Assistant for the CLI: streams a long draft, then the checked Answer
FAKE = f"""
import time
from rag.types import Answer, Citation, Passage
P = Passage("a.txt:0", "a.txt", "Copper Climbs", "2025-11-03", "Copper rose 5% on Monday.", 0, 25, 0.9)
class Fake:
    def stream(self, question, history=None):
        for piece in {DRAFT!r}:
            time.sleep(0.01)
            yield piece
        yield Answer(question=question, text={CHECKED!r}, citations=[Citation(1, P)], passages=[P], refused=False)
import rag.cli as c
c._assistant = lambda *a, **k: Fake()
c.cli(["ask", "What happened to copper?"])
"""


def _fake_answer() -> Answer:
    p = Passage("a.txt:0", "a.txt", "Copper Climbs", "2025-11-03", "Copper rose 5% on Monday.", 0, 25, 0.9)
    return Answer(question="q", text=CHECKED, citations=[Citation(1, p)], passages=[p], refused=False)


class _Fake:
    def stream(self, question, history=None):
        yield from DRAFT
        yield _fake_answer()


def test_off_a_terminal_only_the_checked_answer_is_printed(monkeypatch):
    import rag.cli as c

    monkeypatch.setattr(c, "_assistant", lambda *a, **k: _Fake())
    result = CliRunner().invoke(c.cli, ["ask", "What happened to copper?"])
    assert result.exit_code == 0, result.output
    assert result.output.count(CHECKED) == 1
    assert "UNCHECKED-TAIL" not in result.output and "[9]" not in result.output and "draft" not in result.output
    assert "Checked answer" not in result.output and "[1] Copper Climbs, 2025-11-03" in result.output


def test_chat_prints_one_answer_a_turn(monkeypatch):
    import rag.cli as c

    monkeypatch.setattr(c, "_assistant", lambda *a, **k: _Fake())
    result = CliRunner().invoke(c.cli, ["chat"], input="What happened to copper?\n\n")
    assert result.exit_code == 0, result.output
    assert result.output.count(CHECKED) == 1 and "UNCHECKED-TAIL" not in result.output


def _run_in_pty(code: str, cols: int = 60, rows: int = 40) -> tuple[bytes, int]:
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT)
    os.close(slave)
    out = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        code = proc.wait(timeout=60)
    return out, code


def test_on_a_terminal_the_draft_is_shown_then_replaced(tmp_path):
    pyte = pytest.importorskip("pyte")
    out, code = _run_in_pty(FAKE)
    assert code == 0, out.decode("utf-8", "replace")
    text = out.decode("utf-8", "replace")
    assert "draft, being checked" in text and "UNCHECKED-TAIL" in text  # the draft was streamed visibly
    screen = pyte.Screen(60, 40)
    stream = pyte.Stream(screen)
    stream.feed(text.replace("\n", "\r\n") if "\r\n" not in text else text)
    shown = " ".join(" ".join(line.split()) for line in screen.display)
    assert shown.count("Copper rose 5% on Monday [1].") == 1, screen.display
    assert "UNCHECKED-TAIL" not in shown and "draft" not in shown and "[9]" not in shown
    assert "Sources:" in shown


def test_chat_goes_on_after_a_turn_that_fails(monkeypatch):
    import rag.cli as c
    from rag.errors import ModelError

    class FailsOnce(_Fake):
        calls = 0

        def stream(self, question, history=None):
            FailsOnce.calls += 1
            if FailsOnce.calls == 1:
                raise ModelError("LLM server http://127.0.0.1:9/v1: connection refused")
            yield from super().stream(question, history)

    monkeypatch.setattr(c, "_assistant", lambda *a, **k: FailsOnce())
    result = CliRunner().invoke(c.cli, ["chat"], input="First?\nWhat happened to copper?\n\n")
    assert result.exit_code == 0, result.output
    assert "error: LLM server" in result.output and result.output.count(CHECKED) == 1
