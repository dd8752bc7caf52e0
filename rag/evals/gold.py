"""Gold files: the question set's format, validation and loading."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from rag.errors import RagError
from rag.words import DASHES

QUESTION_TYPES = ("fact", "number", "multi", "followup", "unanswerable")
ANSWERABLE_TYPES = frozenset({"fact", "number", "multi", "followup"})
# Good verdicts first.
VERDICTS = ("correct", "wrong", "false_refusal", "refused", "answered", "error", "skipped")
GOOD_VERDICTS = frozenset({"correct", "refused"})
EVIDENCE_MIN_OVERLAP = 0.5
SCHEMA_VERSION = 1

Pattern = re.Pattern[str]
Progress = Callable[[int, int, str], None]


class GoldError(RagError, ValueError):
    """A gold file that is missing or malformed; the message names file, line and field."""


# --------------------------------------------------------------------------- gold


@dataclass(frozen=True)
class GoldItem:
    id: str
    type: str
    question: str
    answer: str = ""
    must: tuple[tuple[Pattern, ...], ...] = ()  # compiled, case-insensitive
    sources: tuple[str, ...] = ()
    evidence: str = ""
    history: tuple[Mapping[str, str], ...] = ()

    @property
    def answerable(self) -> bool:
        return self.type in ANSWERABLE_TYPES

    @property
    def must_patterns(self) -> list[list[str]]:
        """The ``must`` regexes as written in the gold file."""
        return [[p.pattern for p in group] for group in self.must]


def _compile(pattern: str) -> Pattern:
    # dashes as hyphens, as scoring reads the answers (rag.evals.scoring)
    return re.compile(pattern.translate(DASHES), re.IGNORECASE)


def parse_gold_line(obj: Any, where: str = "gold") -> GoldItem:
    """Validate one decoded gold object; ``where`` prefixes error messages."""

    def bad(field_name: str, problem: str) -> GoldError:
        return GoldError(f"{where}: field {field_name!r} {problem}")

    if not isinstance(obj, dict):
        raise GoldError(f"{where}: expected a JSON object, got {type(obj).__name__}")

    def text(name: str, required: bool) -> str:
        value = obj.get(name)
        if value is None:
            if required:
                raise bad(name, "is missing")
            return ""
        if not isinstance(value, str):
            raise bad(name, f"must be a string, got {type(value).__name__}")
        if required and not value.strip():
            raise bad(name, "is empty")
        return value

    item_id = text("id", True).strip()
    qtype = text("type", True).strip()
    if qtype not in QUESTION_TYPES:
        raise bad("type", f"is {qtype!r}; expected one of {', '.join(QUESTION_TYPES)}")
    question = text("question", True)
    answer = text("answer", False)
    evidence = text("evidence", False).strip()

    must_raw = obj.get("must", [])
    if must_raw is None:
        must_raw = []
    if not isinstance(must_raw, list):
        raise bad("must", "must be a list of groups (lists of alternative regexes)")
    must: list[tuple[Pattern, ...]] = []
    for i, group in enumerate(must_raw):
        if not isinstance(group, list) or not group:
            raise bad(f"must[{i}]", "must be a non-empty list of alternative regexes")
        alternatives = []
        for j, pattern in enumerate(group):
            if not isinstance(pattern, str) or not pattern.strip():
                raise bad(f"must[{i}][{j}]", "must be a non-empty string")
            try:
                compiled = _compile(pattern)
            except (re.error, RecursionError, OverflowError) as err:
                raise bad(f"must[{i}][{j}]", f"is not a valid regular expression {pattern[:80]!r}: {err}") from None
            if compiled.search(""):  # "2,?902|" matches nothing at all, so every answer would pass
                raise bad(f"must[{i}][{j}]", f"{pattern[:80]!r} matches the empty string, so it would accept any answer")
            alternatives.append(compiled)
        must.append(tuple(alternatives))

    sources_raw = obj.get("sources", [])
    if sources_raw is None:
        sources_raw = []
    if not isinstance(sources_raw, list) or not all(isinstance(s, str) and s.strip() for s in sources_raw):
        raise bad("sources", "must be a list of file names")
    sources = tuple(dict.fromkeys(s.strip() for s in sources_raw))

    history_raw = obj.get("history") or []
    if not isinstance(history_raw, list):
        raise bad("history", "must be a list of {\"role\", \"content\"} turns")
    history = []
    for i, turn in enumerate(history_raw):
        if (not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant")
                or not isinstance(turn.get("content"), str)):
            raise bad(f"history[{i}]", 'must be {"role": "user"|"assistant", "content": "..."}')
        history.append({"role": turn["role"], "content": turn["content"]})

    if qtype == "unanswerable":
        if must:
            raise bad("must", "must be empty for an unanswerable question")
        if sources:
            raise bad("sources", "must be empty for an unanswerable question")
    elif not must:
        raise bad("must", f"is empty; a {qtype} question needs at least one key-fact group")

    return GoldItem(id=item_id, type=qtype, question=question, answer=answer, must=tuple(must),
                    sources=sources, evidence=evidence, history=tuple(history))


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read a gold JSONL file. Blank lines are skipped; errors name file, line and field."""
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8-sig")  # a byte-order mark from an editor is no error
    except FileNotFoundError:
        raise GoldError(f"gold file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise GoldError(f"gold file {path} cannot be read: {err}") from None
    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    # JSON lines end at "\n" only: str.splitlines would also cut at U+2028 inside a string
    for lineno, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise GoldError(f"{where}: not valid JSON: {err.msg} (column {err.colno})") from None
        except RecursionError:
            raise GoldError(f"{where}: not valid JSON: nested too deeply") from None
        item = parse_gold_line(obj, where)
        if item.id in seen:
            raise GoldError(f"{where}: field 'id' {item.id!r} repeats the id on line {seen[item.id]}")
        seen[item.id] = lineno
        items.append(item)
    if not items:
        raise GoldError(f"gold file {path} holds no questions")
    return items
