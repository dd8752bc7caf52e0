"""Which date a cleaned article carries.

Scope: a pure function over :mod:`rag.ingest`'s line decisions. An article is dated by its
first date stamp, or by a meta line near its headline ("Finance | May 15, 2025 | By Ada
Moss", :func:`rag.line_kinds.meta_date`), whichever comes first; a published date before an
updated one; only near the headline, since below the lead a date belongs to something the
story tells.
"""

from __future__ import annotations

from .line_decisions import DATE_STAMP, LineDecision
from .line_kinds import _PLAIN, _UPDATED, _is_sentence, _words, meta_date, parse_date


def _prose(text: str) -> bool:
    """A sentence of the story ("Updated 6:42 a.m." ends like one, but is a meta line's field)."""
    return len(_words(text)) >= 6 and _is_sentence(text) and not meta_date(text)


def article_date(decisions: list[LineDecision], article: list[int], head: int, day_first: bool) -> str | None:
    """An article's first date stamp, or meta line's date ("Finance | May 15, 2025 | By Ada Moss")
    just above or below its headline, whichever comes first; a published date before an updated
    one. Only near the headline: below the lead a date belongs to something the story tells."""
    h = article.index(head)
    near = {h: False}  # a line near the headline -> whether a sentence stands between them
    # outwards from the headline up to a sentence of the story; below it, past one sentence (a
    # standfirst: "The $1.4 billion crossing replaces a 1961 span.") to a signed meta line
    for step, reach, sentences in ((-1, 3, 1), (1, 4, 2)):
        for k in range(h + step, h + step * (reach + 1), step):
            if not 0 <= k < len(article):
                break
            if _prose(decisions[article[k]].text):
                sentences -= 1
                if not sentences:
                    break
            else:
                near[k] = step > 0 and sentences < 2
    dated: list[tuple[int, str]] = []  # (rank, date) in line order
    for k, i in enumerate(article):
        d = decisions[i]
        if d.reason == DATE_STAMP:
            if found := parse_date(d.text, day_first):
                dated.append((_PLAIN, found))
        elif d.kept and k in near and (meta := meta_date(d.text, day_first)):
            # below a sentence, a line that names no author nor labels its date may be a
            # timeline's entry ("March 1, 2031 — Contract signed"), not the story's date
            if meta.signed or not near[k]:
                dated.append((meta.rank, meta.iso))
    # an "Updated ..." date dates the article only when nothing else does
    return next((iso for rank, iso in dated if rank != _UPDATED), None) or next((iso for _, iso in dated), None)
