"""Cleaning figures per corpus folder: files, files skipped, lines, lines removed by reason.

Usage: python scripts/cleaning_report.py [--show] [FOLDER ...]   (default: seeds/)

Reads and cleans the files exactly as indexing does (``rag.ingest``) and indexes nothing.
"Lines" are non-blank lines of the source text. ``--show`` also prints every removed line.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.errors import CorpusError  # noqa: E402
from rag.ingest import FALLBACK, explain_file  # noqa: E402
from rag.reading import corpus_files  # noqa: E402


@dataclass
class FolderReport:
    folder: Path
    files: int = 0
    skipped: list[str] = field(default_factory=list)  # "name: reason"
    kept_whole: int = 0  # files where every line matched a rule, so all were kept
    lines: int = 0
    removed: Counter = field(default_factory=Counter)  # reason -> lines
    shown: list[str] = field(default_factory=list)


def report(folder: Path, show: bool = False) -> FolderReport:
    out = FolderReport(folder)
    for path in corpus_files(folder):
        out.files += 1
        try:
            decisions = explain_file(path)
        except CorpusError as err:
            out.skipped.append(str(err))
            continue
        out.lines += len(decisions)
        out.kept_whole += any(d.reason == FALLBACK for d in decisions)
        for d in decisions:
            if not d.kept:
                out.removed[d.reason] += 1
                if show:
                    out.shown.append(f"    {path.relative_to(folder)}:{d.number}  [{d.reason}]  {d.text[:100]}")
    return out


def render(r: FolderReport) -> str:
    total = sum(r.removed.values())
    share = f" ({total / r.lines:.1%})" if r.lines else ""
    rows = [f"{r.folder}: {r.files} files, {len(r.skipped)} skipped, {r.kept_whole} kept whole (all lines matched a rule), "
            f"{r.lines} lines, {total} removed{share}"]
    rows += [f"  {reason:<18} {n:>6}" for reason, n in r.removed.most_common()]
    rows += [f"  skipped: {s}" for s in r.skipped]
    return "\n".join(rows + r.shown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[ROOT / "seeds"])
    parser.add_argument("--show", action="store_true", help="print every removed line with its reason")
    args = parser.parse_args(argv)
    try:
        for folder in args.folders:
            print(render(report(folder, args.show)))
    except CorpusError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
