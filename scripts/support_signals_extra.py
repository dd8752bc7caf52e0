"""Three more candidate support-check signals, measured on the answers of a recorded eval run.

For every answer the run judged (the answerable judgement's p(Yes) is recorded), this rebuilds
the passages the model was shown, re-checks the recorded draft to find its evidence (as
``scripts/judge_signals.py`` does), and scores:

* ``phrase``: the share of the question's word pairs (``q2``) and triples (``q3``), and of the
  answer's (``c2``, ``c3``), found in the evidence. No model.
* ``likelihood`` (``--likelihood``): how much likelier the question's tokens are after the
  evidence than with no passage, by the run's model: their mean, minimum and summed pointwise
  mutual information. An unanswerable question that changes one word of what the passage says
  should be less expected after it.
* ``second judge`` (``--judge-model NAME``): another model's answerable judgement over the
  same evidence, alone and mixed with the recorded p(Yes);
* ``prior`` (``--prior``): the run's model's answerable judgement with no passage ("(no text)"):
  how readily it says Yes to the question whatever it is shown, subtracted from p(Yes).
* ``fewshot`` (``--fewshot``): the answerable judgement after six worked examples written for
  this script (a passage, a question it answers, a near miss it does not), as earlier turns.
* ``nli3`` (``--nli3``): the claim as a statement, "True, False, or Not stated?"; p(True) among
  the three first tokens.
* ``choice`` (``--choice``): the evidence as numbered sentences plus "0. None of these"; "which
  sentence states the answer?"; 1 - p(0) among the digits.
* ``missing`` (``--missing``): the answerable judgement told which of the question's words the
  evidence lacks ("The passage does not have these words of the question: ..."); the recorded
  p(Yes) where it lacks none.
* ``reverse`` (``--reverse``): the same judgement asked the other way round, "is the answer
  missing from the passage?"; 1 - p(Yes). A small model's lean towards Yes pulls the two apart.
* ``qfirst`` (``--qfirst``): the answerable judgement with the question before the passage.

Prints each signal's area under the ROC curve (right answers above wrong answers and answers to
unanswerable questions), alone and added to the recorded p(Yes). Prints only; asserts nothing::

    python scripts/support_signals_extra.py RUN.json
    python scripts/support_signals_extra.py RUN.json --likelihood --prior --judge-model qwen2.5-0.5b
    python scripts/support_signals_extra.py RUN.json --fewshot --nli3 --choice --save rows.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag import Assistant  # noqa: E402
from rag.citations import parse_citations  # noqa: E402
from rag.grounding import check_answer  # noqa: E402
from rag.llm import LlamaCppModel  # noqa: E402
from rag.models import resolve_model  # noqa: E402
from rag.prompt import SYSTEM_PROMPT, fit_passages, group_by_article  # noqa: E402
from rag.chunking import word_sentences  # noqa: E402
from rag.support import _one_line, answerable_messages, evidence_of  # noqa: E402
from rag.words import content_words, found_in, stem, word_stems  # noqa: E402

_WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*")


def auc(pos: list[float], neg: list[float]) -> float:
    if not pos or not neg:
        return float("nan")
    return sum((p > q) + 0.5 * (p == q) for p in pos for q in neg) / (len(pos) * len(neg))


def grams(text: str, n: int) -> set[tuple[str, ...]]:
    words = [stem(w.rstrip(".")) for w in _WORD.findall(text)]
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def share(part: set, whole: set) -> float:
    return len(part & whole) / len(part) if part else 1.0


def shown_passages(assistant, cfg: dict, asked: str) -> list:
    """The passages the run's model was shown for ``asked``, rebuilt as the run built them."""
    llm = assistant.llm
    retrieved, _, searched = assistant._retrieve(asked, None)
    shown = assistant.select_evidence(searched, retrieved)
    passages = fit_passages(asked, shown, llm.count_tokens, llm.n_ctx, cfg["max_tokens"], system=SYSTEM_PROMPT)
    return group_by_article(passages) if cfg["group_titles"] else passages


def judged(run: dict):
    """(result, its recorded p(Yes), the question searched) of every answer the run judged."""
    for r in run["results"]:
        p_yes = (r.get("support") or {}).get("p_yes_answerable")
        if p_yes is not None:
            yield r, p_yes, r["standalone_question"] or r["question"]


def evidence_rows(run: dict) -> list[dict]:
    """(question, claim, evidence, verdict, recorded p(Yes)) of every judged answer."""
    cfg = run["settings"]["config"]
    assistant = Assistant.open(cfg["corpus"], cfg["index_dir"], group_titles=cfg["group_titles"])
    llm = assistant.llm
    rows = []
    for r, p_yes, asked in judged(run):
        passages = shown_passages(assistant, cfg, asked)
        text, _ = parse_citations(r["draft"] or r["answer"], passages)
        checks = check_answer(text, passages, asked)
        if not any(c.supported for c in checks):
            continue
        near, _ = evidence_of(checks, passages)
        rows.append({"id": r["id"], "q": asked, "claim": " ".join(c.text for c in checks if c.supported),
                     "near": near, "good": r["verdict"] == "correct", "p": p_yes})
    return rows, llm


def question_logprobs(llm, prefix: str, question: str) -> list[float]:
    """Log-probabilities of ``question``'s tokens after ``prefix``, one token at a time (no
    logits for the whole prompt are kept, so memory stays that of one row)."""
    raw = llm._llm
    head = raw.tokenize(prefix.encode(), add_bos=False, special=True)
    full = raw.tokenize((prefix + question).encode(), add_bos=False, special=True)
    raw.reset()
    raw.eval(head)
    out = []
    for token in full[len(head):]:
        logits = np.array(np.ctypeslib.as_array(raw._ctx.get_logits(), shape=(raw._n_vocab,)), dtype=np.float64)
        logits -= logits.max()
        out.append(float(logits[token] - np.log(np.exp(logits).sum())))
        raw.eval([token])
    return out


# worked examples for --fewshot, written for this script: each passage with a question it answers
# and a near miss (another part, another act, another direction) it does not
EXAMPLES = [
    ("The museum opened in 1932 and its east wing was added in 1968.", "When was the east wing added?", "Yes"),
    ("The museum opened in 1932 and its east wing was added in 1968.", "When was the west wing added?", "No"),
    ("Ana Ruiz founded the bakery in Leon; her brother later opened a second shop in Vigo.",
     "Who opened the bakery's second shop?", "Yes"),
    ("Ana Ruiz founded the bakery in Leon; her brother later opened a second shop in Vigo.",
     "Who closed the bakery in Vigo?", "No"),
    ("Exports rose 5% in March, while imports were flat.", "How much did exports fall in March?", "No"),
    ("Exports rose 5% in March, while imports were flat.", "By how much did exports rise in March?", "Yes"),
]


def first_token_probs(llm, messages: list[dict[str, str]], options: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """Each option's share of the probability of the reply's first token, among ``options``
    (name -> words whose first token stands for it), read from the logits as ``llm.judge`` does."""
    from llama_cpp import LogitsProcessorList

    seen: dict[str, np.ndarray] = {}

    def grab(_ids, scores):
        seen.setdefault("scores", np.array(scores, dtype=np.float64, copy=True))
        return scores

    messages = llm.guard(messages)
    llm._from_system_prefix(messages)
    llm._llm.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, top_k=1, seed=42,
                                    logits_processor=LogitsProcessorList([grab]))
    scores = seen["scores"]
    mass = {k: float(np.exp(scores[llm._first_token_ids(*words)] - scores.max()).sum()) for k, words in options.items()}
    total = sum(mass.values()) or 1.0
    return {k: m / total for k, m in mass.items()}


def fewshot_messages(question: str, evidence: str) -> list[dict[str, str]]:
    turns = [{"role": "system", "content": SYSTEM_PROMPT}]
    for passage, q, reply in EXAMPLES:
        turns += [answerable_messages(q, passage, SYSTEM_PROMPT)[1], {"role": "assistant", "content": reply}]
    return [*turns, answerable_messages(question, evidence, SYSTEM_PROMPT)[1]]


def nli3_messages(claim: str, evidence: str) -> list[dict[str, str]]:
    user = (f"Passage:\n<<<\n{_one_line(evidence)}\n>>>\n\nStatement: {claim}\n\nAccording to the passage, is the "
            "statement True, False, or Not stated? Reply with one of: True, False, Not stated.")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def choice_messages(question: str, evidence: str) -> tuple[list[dict[str, str]], int]:
    """The evidence (title, date line, sentences) as up to 8 numbered sentences and "0. None"."""
    title, _, body = (evidence.split("\n", 2) + ["", ""])[:3]
    sentences = [" ".join(body[a:b].split()) for a, b in word_sentences(body)][:8]
    listed = "\n".join(f"{i}. {s}" for i, s in enumerate(sentences, start=1))
    user = (f"Article: {title}\n{listed}\n0. None of these sentences.\n\nQuestion: {question}\n\nWhich sentence "
            "states the answer to this exact question? Reply with its number only, or 0 if none does.")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}], len(sentences)


def missing_words(question: str, evidence: str) -> list[str]:
    """The question's content words (as written) that the evidence lacks."""
    stems = word_stems(evidence)
    seen, out = set(), []
    for w in _WORD.findall(question):
        st = stem(w.rstrip("."))
        if len(w) > 2 and st in content_words(w) and not found_in(st, stems) and st not in seen:
            seen.add(st)
            out.append(w.rstrip(".?"))
    return out


def missing_messages(question: str, evidence: str, lacking: list[str]) -> list[dict[str, str]]:
    listed = ", ".join(f'"{w}"' for w in lacking)
    user = (f"Passage:\n<<<\n{_one_line(evidence)}\n>>>\n\nQuestion: {question}\n\nThe passage does not have "
            f"these words of the question: {listed}. Does the passage still state the answer to this exact "
            "question? Reply Yes or No.")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def reverse_messages(question: str, evidence: str) -> list[dict[str, str]]:
    user = (f"Passage:\n<<<\n{_one_line(evidence)}\n>>>\n\nQuestion: {question}\n\n"
            "Is the answer to this exact question missing from the passage? Reply Yes or No.")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def qfirst_messages(question: str, evidence: str) -> list[dict[str, str]]:
    user = (f"Question: {question}\n\nPassage:\n<<<\n{_one_line(evidence)}\n>>>\n\n"
            "Does the passage state the answer to this exact question? Reply Yes or No.")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--likelihood", action="store_true", help="question likelihood given the evidence (slow)")
    ap.add_argument("--judge-model", help="a second model's answerable judgement, e.g. qwen2.5-0.5b")
    ap.add_argument("--prior", action="store_true", help="the judgement with no passage, subtracted from p(Yes)")
    ap.add_argument("--fewshot", action="store_true", help="the judgement after worked examples (slow: uncached)")
    ap.add_argument("--nli3", action="store_true", help="the claim as a statement: True, False or Not stated")
    ap.add_argument("--choice", action="store_true", help="which numbered evidence sentence answers, or none")
    ap.add_argument("--missing", action="store_true", help="the judgement told the question's words the passage lacks")
    ap.add_argument("--reverse", action="store_true", help="the judgement asked the other way round")
    ap.add_argument("--qfirst", action="store_true", help="the judgement with the question before the passage")
    ap.add_argument("--save", type=Path, help="write every row's signals to this JSON file")
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    rows, llm = evidence_rows(json.loads(args.run.read_text()))
    rows = rows[:args.limit]
    for row in rows:
        row["q2"], row["q3"] = share(grams(row["q"], 2), grams(row["near"], 2)), share(grams(row["q"], 3), grams(row["near"], 3))
        row["c2"], row["c3"] = share(grams(row["claim"], 2), grams(row["near"], 2)), share(grams(row["claim"], 3), grams(row["near"], 3))
    signals = ["q2", "q3", "c2", "c3"]
    if args.likelihood:
        # the chat template's opening as the answer prompt has it (Qwen2.5's ChatML)
        head = f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n"
        for row in rows:
            after = question_logprobs(llm, head + f"Passage:\n<<<\n{_one_line(row['near'])}\n>>>\n\nQuestion:", " " + row["q"])
            alone = question_logprobs(llm, head + "Question:", " " + row["q"])
            pmi = np.array(after) - np.array(alone)
            row["pmi_mean"], row["pmi_min"], row["pmi_sum"] = float(pmi.mean()), float(pmi.min()), float(pmi.sum())
        signals += ["pmi_mean", "pmi_min", "pmi_sum"]
    if args.prior:
        for row in rows:
            row["prior"] = llm.judge(answerable_messages(row["q"], "(no text)", SYSTEM_PROMPT))
        signals += ["prior"]
    if args.judge_model:
        second = LlamaCppModel(resolve_model(args.judge_model, Assistant.open().config.model_cache), n_ctx=2048)
        for row in rows:
            row["judge2"] = second.judge(answerable_messages(row["q"], row["near"], SYSTEM_PROMPT))
        signals += ["judge2"]
    yes_no = {"yes": ("Yes", " Yes", "yes"), "no": ("No", " No", "no")}
    if args.fewshot:
        for row in rows:
            row["fewshot"] = first_token_probs(llm, fewshot_messages(row["q"], row["near"]), yes_no)["yes"]
        signals += ["fewshot"]
    if args.nli3:
        three = {"true": ("True", " True", "true"), "false": ("False", " False", "false"), "not": ("Not", " Not", "not")}
        for row in rows:
            row["nli3"] = first_token_probs(llm, nli3_messages(row["claim"], row["near"]), three)["true"]
        signals += ["nli3"]
    if args.choice:
        for row in rows:
            messages, n = choice_messages(row["q"], row["near"])
            row["choice"] = 1 - first_token_probs(llm, messages, {str(d): (str(d),) for d in range(n + 1)})["0"]
        signals += ["choice"]
    if args.missing:
        for row in rows:
            lacking = missing_words(row["q"], row["near"])
            row["n_missing"] = len(lacking)
            row["missing"] = llm.judge(missing_messages(row["q"], row["near"], lacking)) if lacking else row["p"]
        signals += ["missing"]
    if args.reverse:
        for row in rows:
            row["reverse"] = 1 - llm.judge(reverse_messages(row["q"], row["near"]))
        signals += ["reverse"]
    if args.qfirst:
        for row in rows:
            row["qfirst"] = llm.judge(qfirst_messages(row["q"], row["near"]))
        signals += ["qfirst"]
    if args.save:
        args.save.write_text(json.dumps(rows, indent=1))
    good, bad = [r for r in rows if r["good"]], [r for r in rows if not r["good"]]
    print(f"{args.run}: {len(good)} right answers, {len(bad)} wrong or to unanswerable questions")
    print(f"recorded p(Yes): AUC {auc([r['p'] for r in good], [r['p'] for r in bad]):.3f}")
    for name in signals:
        line = f"{name}: AUC {auc([r[name] for r in good], [r[name] for r in bad]):.3f}"
        for w in (0.02, 0.05, 0.1, 0.25):
            if name == "judge2":
                mixed = lambda r, w=w: (1 - w) * r["p"] + w * r[name]  # noqa: E731
            else:  # the prior is subtracted; every other signal is added
                sign = -1 if name == "prior" else 1
                mixed = lambda r, w=w, sign=sign: r["p"] + sign * w * r[name]  # noqa: E731
            line += f"; with p(Yes), w={w}: {auc([mixed(r) for r in good], [mixed(r) for r in bad]):.3f}"
        print(line)


if __name__ == "__main__":
    main()
