"""How sure the model was of its own answer, measured on the answers of a recorded eval run.

For every answer the run judged (the answerable judgement's p(Yes) is recorded), this rebuilds
the answer prompt the model was given, reads the recorded draft back through the same model
with every token's log-probability read (no generation), and scores:

* ``lp_mean`` / ``lp_min``: the mean and lowest log-probability of the draft's tokens, citation
  markers left out;
* ``new_mean`` / ``new_min``: the same over the tokens of words the question does not have (what
  the answer adds: the name, the figure, the place);
* ``first_new``: the log-probability of the first such token, where the model commits to an
  answer.

A model that reads an answer off a passage should be surer of it than one that fills a gap the
passages leave. Prints each signal's area under the ROC curve (right answers above wrong answers
and answers to unanswerable questions), alone and added to the recorded p(Yes). Prints only;
asserts nothing::

    python scripts/draft_confidence.py RUN.json [--save rows.json]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag import Assistant  # noqa: E402
from rag.prompt import SYSTEM_PROMPT, build_prompt  # noqa: E402
from rag.words import STOP_WORDS, stem  # noqa: E402
from support_signals_extra import auc, judged, shown_passages  # noqa: E402  (this folder)

_MARKER = re.compile(r"\[\d+\]")
_LETTERS = re.compile(r"[A-Za-z0-9]+")


def draft_logprobs(raw, render, messages: list[dict[str, str]], draft: str) -> list[tuple[str, float, int]]:
    """(token text, log-probability, offset in the draft) of each of ``draft``'s tokens after the
    prompt. The prompt is read in one batch; the draft one token at a time, reading the logits of
    the position before each token (only the last row of logits is kept, so memory stays small)."""
    prompt = render(messages=messages).prompt
    head = raw.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
    toks = raw.tokenize(draft.encode("utf-8"), add_bos=False, special=False)
    raw.reset()
    raw.eval(head)
    rows, offset = [], 0
    for token in toks:
        logits = np.array(np.ctypeslib.as_array(raw._ctx.get_logits(), shape=(raw._n_vocab,)), dtype=np.float64)
        logits -= logits.max()
        piece = raw.detokenize([token]).decode("utf-8", "replace")
        rows.append((piece, float(logits[token] - np.log(np.exp(logits).sum())), offset))
        offset += len(piece)
        raw.eval([token])
    return rows


def signals(question: str, draft: str, toks: list[tuple[str, float, int]]) -> dict[str, float]:
    in_markers = [m.span() for m in _MARKER.finditer(draft)]
    asked = {stem(w.lower()) for w in _LETTERS.findall(question)}
    kept, new = [], []
    for tok, p, off in toks:
        if any(a <= off < b for a, b in in_markers) or not tok.strip():
            continue
        kept.append(p)
        # the word this token belongs to
        at = off + len(tok) - len(tok.lstrip())  # a piece's leading space is not part of its word
        m = next((m for m in _LETTERS.finditer(draft) if m.start() <= at < m.end()), None)
        if m and m.group().lower() not in STOP_WORDS and stem(m.group().lower()) not in asked:
            new.append(p)
    kept = kept or [0.0]
    new_or = new or [0.0]
    return {"lp_mean": sum(kept) / len(kept), "lp_min": min(kept), "new_mean": sum(new_or) / len(new_or),
            "new_min": min(new_or), "first_new": new_or[0], "p_first_new": math.exp(new_or[0])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--save", type=Path, help="write every row's signals to this JSON file")
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    run = json.loads(args.run.read_text())
    cfg = run["settings"]["config"]
    assistant = Assistant.open(cfg["corpus"], cfg["index_dir"], group_titles=cfg["group_titles"])
    llm = assistant.llm
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    raw = llm._llm  # the run's model, as loaded for answering
    model = raw._model
    render = Jinja2ChatFormatter(template=raw.metadata["tokenizer.chat_template"],
                                 eos_token=model.token_get_text(model.token_eos()),
                                 bos_token=model.token_get_text(model.token_bos()))
    rows = []
    for r, p_yes, asked in judged(run):
        passages = shown_passages(assistant, cfg, asked)
        messages = llm.guard(build_prompt(asked, passages, SYSTEM_PROMPT, grouped=cfg["group_titles"]))
        draft = r["draft"] or r["answer"]
        toks = draft_logprobs(raw, render, messages, draft)
        rows.append({"id": r["id"], "q": asked, "draft": draft, "good": r["verdict"] == "correct", "p": p_yes,
                     **signals(asked, draft, toks)})
        if args.limit and len(rows) >= args.limit:
            break
    if args.save:
        args.save.write_text(json.dumps(rows, indent=1))
    good, bad = [r for r in rows if r["good"]], [r for r in rows if not r["good"]]
    print(f"{args.run}: {len(good)} right answers, {len(bad)} wrong or to unanswerable questions")
    print(f"recorded p(Yes): AUC {auc([r['p'] for r in good], [r['p'] for r in bad]):.3f}")
    for name in ("lp_mean", "lp_min", "new_mean", "new_min", "first_new", "p_first_new"):
        line = f"{name}: AUC {auc([r[name] for r in good], [r[name] for r in bad]):.3f}"
        for w in (0.01, 0.02, 0.05, 0.1):
            line += f"; +{w}: {auc([r['p'] + w * r[name] for r in good], [r['p'] + w * r[name] for r in bad]):.3f}"
        print(line)


if __name__ == "__main__":
    main()
