"""Candidate support-check signals, measured on the answers of a recorded eval run.

For every answer a run accepted (not refused, no error, not a merged multi-part answer), this
rebuilds the passages the model was shown (same retrieval and prompt settings as the run),
re-checks the answer to find its evidence, and asks the local model several yes/no
questions about it, reading p(Yes) from the first reply token's logits:

* ``focused``: the check in rag.support (evidence, question, proposed answer);
* ``answerable``: evidence and question only (no proposed answer to agree with);
* ``statement``: evidence and the answer's claim only ("is this statement true?");
* ``none``: "copy the words that answer it, or reply NONE": 1 - p(NONE);
* ``fewshot``: ``focused`` after five worked examples written for this script;
* ``match``: question and answer only, no passage ("does it answer what was asked?");
* ``missing``: evidence and question, "does it ask about something the passage does not
  mention, or mentions differently?" (p(Yes) as it comes: it rises with the topic's match too);
* ``same_thing``: evidence, question and answer, "is the answer about the same thing the question
  names?";
* ``answerable_sentences`` / ``answerable_wide`` / ``answerable_passage``: ``answerable`` over the
  evidence sentences alone, with two sentences either side, or over the whole cited passage.

Then it prints, per signal and threshold, what the run would score with that signal
refusing the answers below the threshold. Prints only; asserts nothing::

    python scripts/judge_signals.py RUN.json --out signals.json
    python scripts/judge_signals.py RUN.json --load signals.json   # curves only
    python scripts/judge_signals.py RUN.json --signals answerable,answerable_sentences
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag import Assistant  # noqa: E402
from rag.citations import parse_citations  # noqa: E402
from rag.grounding import check_answer  # noqa: E402
from rag.prompt import SYSTEM_PROMPT, fit_passages, group_by_article  # noqa: E402
from rag.safety import quote  # noqa: E402
from rag.support import answerable_messages, coverage, evidence_context, evidence_of, focused_messages  # noqa: E402
from rag.words import content_words, found_in, word_stems  # noqa: E402

ANSWERABLE = {"fact", "number", "multi", "followup"}

FEWSHOT = [
    ("The bridge over the Tarn opened in 2004 and was designed by the engineer Michel Virlogeux.",
     "Who designed the bridge over the Tarn?", "Michel Virlogeux designed it.", "Yes"),
    ("Maria Lopez hired Tom Becker as her assistant in 2019.",
     "Who hired Maria Lopez?", "Tom Becker hired her.", "No"),
    ("The library closed for repairs in March 2021 and reopened a year later.",
     "When did the library close for repairs in 2019?", "It closed in March 2021.", "No"),
    ("The council approved the budget but rejected the new parking tax.",
     "Which tax did the council approve?", "The council approved the new parking tax.", "No"),
    ("Heavy rain flooded the farms of the valley, and the river rose by two metres in one night.",
     "How much did the river rise?", "The river rose by two metres.", "Yes"),
]
FEWSHOT_SYSTEM = ("You check whether a passage states the answer to a question: the same thing, person, place, "
                  "time and event, in the same role. Reply Yes or No.")


def _user(evidence: str, question: str, answer: str) -> str:
    return focused_messages(question, answer, evidence)[1]["content"]


def evidence_with(checks, passages, neighbours: int) -> str:
    """The supported sentences' evidence with ``neighbours`` sentences either side (rag.support)."""
    out = [evidence_context(passages[c.supporting[0] - 1], c.evidence[c.supporting[0]].start,
                            c.evidence[c.supporting[0]].end, neighbours) for c in checks if c.supported]
    return "\n".join(dict.fromkeys(out))


def prompts(system: str, question: str, claim: str, near: str, sentences: str = "", wide: str = "",
            whole: str = "") -> dict[str, list[dict[str, str]]]:
    head = f"Passage:\n<<<\n{quote(near)}\n>>>\n\n"
    sys_msg = {"role": "system", "content": system}
    shots = []
    for passage, q, a, verdict in FEWSHOT:
        shots += [{"role": "user", "content": _user(passage, q, a)}, {"role": "assistant", "content": verdict}]
    return {
        "focused": focused_messages(question, claim, near, system),
        "answerable": answerable_messages(question, near, system),
        "statement": [sys_msg, {"role": "user", "content": head + f"Statement: {claim}\n\n"
                                "Is this statement true according to the passage? Reply Yes or No."}],
        "none": [sys_msg, {"role": "user", "content": head + f"Question: {question}\n\n"
                           "Copy the words of the passage that answer this exact question. "
                           "If the passage does not answer it, reply NONE."}],
        "match": [sys_msg, {"role": "user", "content": f"Question: {question}\nAnswer: {claim}\n\n"
                            "Does this answer respond to exactly what the question asks (not a different "
                            "person, time, place or event)? Reply Yes or No."}],
        "fewshot": [{"role": "system", "content": FEWSHOT_SYSTEM}, *shots,
                    {"role": "user", "content": _user(near, question, claim)}],
        "missing": [sys_msg, {"role": "user", "content": head + f"Question: {question}\n\nDoes the question ask about "
                              "something the passage does not mention, or mentions differently? Reply Yes or No."}],
        "same_thing": [sys_msg, {"role": "user", "content": head + f"Question: {question}\nProposed answer: {claim}\n\n"
                                 "Is the proposed answer about the same thing the question names (the same person, "
                                 "place, time and event) as the passage? Reply Yes or No."}],
        "answerable_sentences": answerable_messages(question, sentences or near, system),
        "answerable_wide": answerable_messages(question, wide or near, system),
        "answerable_passage": answerable_messages(question, whole or near, system),
    }


def first_token_scores(llm, messages):
    import numpy as np
    from llama_cpp import LogitsProcessorList

    seen = {}

    def grab(input_ids, scores):
        seen.setdefault("s", np.array(scores, dtype=np.float64, copy=True))
        return scores

    llm._llm.create_chat_completion(messages=llm.guard(messages), max_tokens=1, temperature=0.0, top_k=1, seed=42,
                                    logits_processor=LogitsProcessorList([grab]))
    s = seen["s"]
    p = np.exp(s - s.max())
    return p / p.sum()


def signals_for(llm, msgs: dict) -> dict[str, float]:
    yes = llm._first_token_ids("Yes", " Yes", "yes", "YES")
    no = llm._first_token_ids("No", " No", "no", "NO")
    none = llm._first_token_ids("NONE", " NONE", "None", "none")
    out = {}
    for name, m in msgs.items():
        p = first_token_scores(llm, m)
        if name == "none":
            out[name] = round(1.0 - float(p[none].sum()), 4)
        else:
            y, n = float(p[yes].sum()), float(p[no].sum())
            out[name] = round(y / (y + n), 4) if y + n > 0 else 0.5
    return out


def lexical_signals(question: str, claim: str, near: str, whole: str) -> dict[str, float]:
    """Shares of words found: the question's words the answer repeats ("echo"), and all the
    question's content words, in the evidence sentences (near) and the whole cited passages."""
    echoed = content_words(claim) & content_words(question)
    out = {}
    for where, text in (("near", near), ("whole", whole)):
        stems = word_stems(text)
        out[f"echo_{where}"] = round(sum(found_in(w, stems) for w in echoed) / len(echoed), 4) if echoed else 1.0
        out[f"qwords_{where}"] = round(coverage(question, text).words, 4)
    return out


def collect(run_path: Path, limit: int | None, lexical_only: bool = False, only: set[str] | None = None) -> dict:
    run = json.loads(run_path.read_text())
    cfg = run["settings"]["config"]
    assistant = Assistant(cfg["corpus"], cfg["index_dir"], group_titles=cfg["group_titles"],
                          evidence_tokens=cfg.get("evidence_tokens", 0))
    llm = assistant.llm
    out = {}
    todo = [r for r in run["results"] if r["refused"] in (False, "False") and r.get("error") in (None, "None")
            and r["type"] != "multi"]
    t0 = time.time()
    for i, r in enumerate(todo[:limit]):
        asked = r["standalone_question"] if r["standalone_question"] not in (None, "None") else r["question"]
        retrieved = assistant.retrieve(asked)
        shown = assistant.select_evidence(asked, retrieved)
        passages = fit_passages(asked, shown, llm.count_tokens, llm.n_ctx, cfg["max_tokens"], system=SYSTEM_PROMPT)
        if cfg["group_titles"]:
            passages = group_by_article(passages)
        raw = r["draft"] or r["answer"]
        text, _ = parse_citations(raw, passages)
        checks = check_answer(text, passages, asked)
        if not any(c.supported for c in checks):
            continue
        near, whole = evidence_of(checks, passages)
        claim = " ".join(c.text for c in checks if c.supported)
        signals = lexical_signals(asked, claim, near, whole)
        if not lexical_only:
            msgs = prompts(SYSTEM_PROMPT, asked, claim, near, evidence_with(checks, passages, 0),
                           evidence_with(checks, passages, 2), whole)
            signals |= signals_for(llm, {k: m for k, m in msgs.items() if not only or k in only})
        out[r["id"]] = {"type": r["type"], "verdict": r["verdict"], "signals": signals}
        print(f"{i + 1}/{len(todo)} {time.time() - t0:.0f}s {r['id']} {r['verdict']} {out[r['id']]['signals']}",
              file=sys.stderr, flush=True)
    return {"run": str(run_path), "results": run["results"], "signals": out}


def curves(data: dict, grid: list[float]) -> None:
    results, sig = data["results"], data["signals"]
    answerable = [r for r in results if r["type"] in ANSWERABLE]
    unanswerable = [r for r in results if r["type"] not in ANSWERABLE]
    names = sorted({k for v in sig.values() for k in v["signals"]})

    def score(accept):
        def stands(r):
            if r["refused"] in (True, "True"):
                return False
            s = sig.get(r["id"])
            return s is None or accept(s["signals"])
        acc = sum(r["verdict"] == "correct" and stands(r) for r in answerable) / max(1, len(answerable))
        fr = sum(not stands(r) for r in answerable) / max(1, len(answerable))
        ref = sum(not stands(r) for r in unanswerable) / max(1, len(unanswerable))
        return acc, fr, ref

    print(f"{data['run']}: {len(answerable)} answerable, {len(unanswerable)} unanswerable, {len(sig)} judged")
    print("signal | threshold | accuracy | false refusals | unanswerable refused")
    a, f, r = score(lambda s: True)
    print(f"none | - | {a:.1%} | {f:.1%} | {r:.1%}")
    for name in names:
        for t in grid:
            a, f, r = score(lambda s, n=name, t=t: s[n] >= t)
            print(f"{name} | {t:.2f} | {a:.1%} | {f:.1%} | {r:.1%}")
    # how well each signal ranks: AUC of correct answerable answers over answers to unanswerable questions
    for name in names:
        good = [v["signals"][name] for v in sig.values() if v["verdict"] == "correct"]
        bad = [v["signals"][name] for v in sig.values() if v["type"] not in ANSWERABLE]
        wrong = [v["signals"][name] for v in sig.values() if v["verdict"] == "wrong"]
        def auc(pos, neg):
            if not pos or not neg:
                return float("nan")
            return sum((p > q) + 0.5 * (p == q) for p in pos for q in neg) / (len(pos) * len(neg))
        print(f"AUC {name}: correct vs unanswerable {auc(good, bad):.3f} (n={len(good)}/{len(bad)}), "
              f"correct vs wrong {auc(good, wrong):.3f} (n={len(wrong)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--load", type=Path)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--grid", default="0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0")
    ap.add_argument("--lexical-only", action="store_true", help="the word-share signals only (no model calls)")
    ap.add_argument("--signals", help="comma-separated model signals to ask (default: all)")
    args = ap.parse_args()
    known = {"focused", "answerable", "statement", "none", "match", "fewshot", "missing", "same_thing",
             "answerable_sentences", "answerable_wide", "answerable_passage"}
    unknown = set(args.signals.split(",")) - known if args.signals else set()
    if unknown:
        ap.error(f"--signals {','.join(sorted(unknown))}: not a signal; choose from {', '.join(sorted(known))}")
    try:
        data = json.loads(args.load.read_text()) if args.load else collect(
            args.run, args.limit, args.lexical_only, set(args.signals.split(",")) if args.signals else None)
    except (OSError, ValueError, KeyError, TypeError) as err:
        ap.error(f"{args.load or args.run}: not an `rag eval --json` run of the full pipeline ({type(err).__name__}: {err})")
    if not data["signals"]:
        ap.error(f"{args.load or args.run}: no answer in it could be judged (a --retrieval-only run?): nothing to score")
    if args.out:
        args.out.write_text(json.dumps(data))
    curves(data, [float(x) for x in args.grid.split(",")])


if __name__ == "__main__":
    main()
