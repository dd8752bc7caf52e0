"""Probe: does retrieval find a chunk by a unique code word among many look-alike chunks?

Builds a synthetic corpus of similar quarterly reports of fictional companies, each
written from templated, varied sentences, and each ending with a paragraph that holds a
unique code word ("zq120x"). It indexes the corpus with the real ``Assistant`` in a
temporary folder (retrieval only, no LLM) and asks "What is the code word zq120x?" for a
sample of reports. A question hits when a passage in the top k that the model is shown holds
its code word.

    .venv/bin/python scripts/codeword_probe.py [--reports 300] [--questions 20] [--variants rrf zscore]

Prints the hits for each fusion variant of :data:`VARIANTS`; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import re
import string
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("codeword_probe")

# Fusion settings compared by this probe and by retrieval_compare.py (rag.config.Config fields).
VARIANTS: dict[str, dict[str, Any]] = {
    "rrf": {"fusion": "rrf", "lexical_weight": 0.5, "rare_boost": 0.0},
    "rrf lex=0.7": {"fusion": "rrf", "lexical_weight": 0.7, "rare_boost": 0.0},
    "rrf lex=0.9": {"fusion": "rrf", "lexical_weight": 0.9, "rare_boost": 0.0},
    "minmax": {"fusion": "minmax", "lexical_weight": 0.5, "rare_boost": 0.0},
    "minmax lex=0.4": {"fusion": "minmax", "lexical_weight": 0.4, "rare_boost": 0.0},
    "zscore": {"fusion": "zscore", "lexical_weight": 0.5, "rare_boost": 0.0},
    "zscore lex=0.4": {"fusion": "zscore", "lexical_weight": 0.4, "rare_boost": 0.0},
    "rrf+rare": {"fusion": "rrf", "lexical_weight": 0.5, "rare_boost": 1.0, "rare_df": 0.005},
    "rrf+rare df=2%": {"fusion": "rrf", "lexical_weight": 0.5, "rare_boost": 1.0, "rare_df": 0.02},
    "rrf lex=0.6+rare": {"fusion": "rrf", "lexical_weight": 0.6, "rare_boost": 1.0, "rare_df": 0.005},
    "zscore+rare": {"fusion": "zscore", "lexical_weight": 0.5, "rare_boost": 1.0, "rare_df": 0.005},
    # every query term counts as rare: an IDF-weighted term-coverage rerank of the fused candidates
    "rrf+coverage": {"fusion": "rrf", "lexical_weight": 0.5, "rare_boost": 0.3, "rare_df": 1.0},
}

_SECTORS = ["logistics", "software", "packaging", "medical devices", "specialty chemicals", "retail",
            "semiconductor equipment", "renewable energy", "insurance", "consumer electronics", "industrial tools",
            "food processing", "telecommunications", "payments", "building materials"]
_CITIES = ["Aldergrove", "Brenmouth", "Castlereach", "Dunmere", "Elsworth", "Fairhaven", "Glenport", "Harrowgate",
           "Ivybridge", "Kestrel Bay", "Lowmoor", "Marlow Falls", "Northwick", "Oakhurst", "Pennridge"]
_HEADS = ["Vel", "Tor", "Quin", "Mar", "Bel", "Cor", "Dal", "Fen", "Gal", "Hal", "Jor", "Kel", "Lum", "Nor", "Pax",
          "Ren", "Sol", "Tav", "Ul", "Vor", "Wex", "Zan", "Ard", "Bram"]
_TAILS = ["ora", "ex", "ian", "tek", "wave", "line", "stone", "field", "mark", "vale", "gate", "crest", "bridge"]
_KINDS = ["Systems", "Holdings", "Industries", "Labs", "Group", "Partners", "Works", "Technologies"]
_QUARTERS = ["first", "second", "third", "fourth"]
_REGIONS_LIST = ["Europe", "North America", "Southeast Asia", "Latin America", "the Middle East", "Japan"]
_BANKS = ["Harbourline Securities", "Crestmoor Capital", "Ashby & Venn", "Northgate Research", "Polaris Brokerage"]
_PEOPLE = ["Dana Whitlow", "Marcus Oyelaran", "Priya Castell", "Tomas Reinholt", "Aiko Brandt", "Lena Okafor",
           "Rafael Dunmore", "Sofia Lindqvist", "Owen Harcourt", "Mei Tanaka-Ross"]

_INTRO = [
    "{name}, a {sector} company based in {city}, reported {q}-quarter revenue of ${rev} million, {dir} {pct}% from a year earlier.",
    "Revenue at {name} reached ${rev} million in the {q} quarter, {dir} {pct}% on the same period last year, the {sector} firm said.",
    "The {city}-based {sector} group {name} posted {q}-quarter sales of ${rev} million, {dir} {pct}% year on year.",
]
_PROFIT = [
    "Operating margin came in at {margin}%, compared with {margin2}% a year ago, as input costs {cost}.",
    "Net income was ${ni} million, and the operating margin moved to {margin}% from {margin2}% as costs {cost}.",
    "Profit for the period was ${ni} million; margins of {margin}% compared with {margin2}% last year after costs {cost}.",
]
_SEGMENT = [
    "Its largest division grew {seg}% while the smaller services arm was broadly flat.",
    "Sales in the core segment rose {seg}%, offsetting weaker demand in international markets.",
    "The main business unit expanded {seg}%, helped by new contracts signed earlier in the year.",
]
_QUOTE = [
    "\"We kept our discipline on pricing and delivered for customers,\" chief executive {person} said in a statement.",
    "Chief executive {person} told analysts the quarter showed \"steady progress on the plan we set out.\"",
    "\"Demand held up better than we expected,\" said {person}, who has led the company since {since}.",
]
_OUTLOOK = [
    "For the full year the company now expects revenue between ${lo} million and ${hi} million.",
    "Management kept its annual guidance of ${lo} million to ${hi} million in revenue.",
    "The company raised its full-year outlook to a range of ${lo} million to ${hi} million.",
]
_MARKET = [
    "Shares rose {move}% in early trading after the results were published.",
    "The stock closed {move}% higher as investors welcomed the update.",
    "Its shares ended the session {move}% lower despite the stronger margins.",
]
_REGIONS = [
    "Sales in {region} rose {seg2}%, while revenue from the home market was little changed.",
    "Demand in {region} improved, lifting sales there by {seg2}% compared with the prior year.",
    "The company said orders from {region} grew {seg2}% and made up a larger share of the total.",
]
_COSTS = [
    "Spending on research and development rose to ${rd} million as the company hired more engineers.",
    "Capital expenditure for the quarter was ${rd} million, mostly on upgrading existing sites.",
    "Selling and administrative costs increased to ${rd} million, reflecting higher wages and travel.",
]
_CASH = [
    "Free cash flow was ${fcf} million, and the board approved a dividend of {div} cents per share.",
    "The company ended the quarter with ${fcf} million in cash and repurchased shares worth ${buy} million.",
    "Net debt fell to ${fcf} million, and the board announced a buyback of up to ${buy} million.",
]
_ANALYSTS = [
    "Analysts at {bank} said the results were in line with expectations and kept their rating unchanged.",
    "{bank} analysts called the quarter solid but flagged the risk of slower orders later in the year.",
    "A note from {bank} described the margin trend as encouraging and raised its price target.",
]
_OPERATIONS = [
    "The company said supply chain delays had eased and that delivery times were back to normal.",
    "Headcount rose to {staff} employees after the opening of a new site near {city}.",
    "Factory utilisation averaged {util}% during the quarter, up from the previous period.",
    "Inventory levels fell as the company worked through stock built up earlier in the year.",
]
_STRATEGY = [
    "It completed the purchase of a smaller rival for ${deal} million, adding new customers in {region}.",
    "The company launched {n_new} new products and said early orders were ahead of plan.",
    "Management said it would keep investing in automation to lift margins over the next two years.",
    "The board confirmed a review of the smaller services arm, which could lead to a sale.",
]
_CLOSING = [
    "The report was prepared by the investor relations team and reviewed by the audit committee.",
    "The filing was compiled by the finance department and checked by external auditors.",
    "The document was assembled by the corporate reporting office ahead of the analyst call.",
]
_CODEWORD = [
    "The code word for this report is {code}.",
    "Readers requesting the full filing should quote the code word {code}.",
    "Internal distribution of the report uses the code word {code}.",
]
_AFTER = [
    "Questions about the figures can be sent to the investor relations office.",
    "A recording of the analyst call will be available on the company website for thirty days.",
    "The next quarterly update is scheduled for release in about three months.",
    "Each quarterly filing is given a new code word.",
    "Staff should not share the code word outside the company.",
    "A code word is valid for one filing only, and the old code word lapses when the next report appears.",
]


@dataclass(frozen=True)
class Report:
    source: str  # file name
    title: str
    text: str
    code: str  # the unique code word its last paragraph holds


def _code_words(n: int, rng: random.Random) -> list[str]:
    """``n`` distinct code words shaped like "zq120x"."""
    out: dict[str, None] = {}
    while len(out) < n:
        out["".join(rng.choices(string.ascii_lowercase, k=2)) + f"{rng.randrange(100, 1000)}"
            + rng.choice(string.ascii_lowercase)] = None
    return list(out)


def _company_names(n: int, rng: random.Random) -> list[str]:
    names = [f"{h}{t} {k}" for h in _HEADS for t in _TAILS for k in _KINDS]
    return rng.sample(names, n)


def make_reports(n: int = 300, seed: int = 7) -> list[Report]:
    """``n`` look-alike quarterly reports; the same ``seed`` gives the same corpus."""
    rng = random.Random(seed)
    codes, names = _code_words(n, rng), _company_names(n, rng)
    reports = []
    for i, (name, code) in enumerate(zip(names, codes)):
        year, q = rng.randrange(2019, 2025), rng.choice(_QUARTERS)
        rev = rng.randrange(80, 2400)
        v = dict(name=name, code=code, q=q, sector=rng.choice(_SECTORS), city=rng.choice(_CITIES), rev=rev,
                 dir=rng.choice(["up", "down"]), pct=rng.randrange(1, 30), margin=rng.randrange(4, 30),
                 margin2=rng.randrange(4, 30), cost=rng.choice(["eased", "rose", "stabilised"]),
                 ni=rng.randrange(2, max(3, rev // 8)), seg=rng.randrange(1, 25), person=rng.choice(_PEOPLE),
                 since=rng.randrange(2008, 2019), lo=int(rev * 3.6), hi=int(rev * 4.2),
                 move=f"{rng.randrange(1, 12)}.{rng.randrange(10)}", region=rng.choice(_REGIONS_LIST),
                 seg2=rng.randrange(1, 20), rd=rng.randrange(5, max(6, rev // 5)), fcf=rng.randrange(5, max(6, rev // 4)),
                 staff=rng.randrange(300, 9000), util=rng.randrange(60, 95), deal=rng.randrange(20, 600),
                 n_new=rng.randrange(2, 9), div=rng.randrange(5, 90), buy=rng.randrange(10, 300), bank=rng.choice(_BANKS))
        pick = lambda pool: rng.choice(pool).format(**v)  # noqa: E731
        paragraphs = [
            f"{pick(_INTRO)} {pick(_PROFIT)} {pick(_SEGMENT)}",
            f"{pick(_REGIONS)} {pick(_COSTS)} {pick(_QUOTE)}",
            f"{pick(_CASH)} {pick(_ANALYSTS)} {pick(_MARKET)}",
            f"{pick(_OPERATIONS)} {pick(_STRATEGY)} {pick(_OPERATIONS)}",
            f"{pick(_STRATEGY)} {pick(_OUTLOOK)} {pick(_COSTS)}",
            # closings of varied length, some naming the code word twice, as real filings differ
            " ".join([pick(_CLOSING)] * rng.randrange(2) + [pick(_CODEWORD)]
                     + rng.sample(_AFTER, rng.randrange(4))),
        ]
        title = f"{name} Reports {q.title()}-Quarter {year} Results"
        reports.append(Report(source=f"report_{i:03d}.txt", title=title, code=code,
                              text=title + "\n\n" + "\n\n".join(paragraphs) + "\n"))
    return reports


def write_corpus(reports: Sequence[Report], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for r in reports:
        (folder / r.source).write_text(r.text, encoding="utf-8")
    return folder


def questions(reports: Sequence[Report], n: int = 20, seed: int = 11) -> list[tuple[str, Report]]:
    """(question, report) for ``n`` reports drawn with ``seed``."""
    return [(f"What is the code word {r.code}?", r) for r in random.Random(seed).sample(list(reports), n)]


def holds(text: str, code: str) -> bool:
    return re.search(rf"\b{re.escape(code)}\b", text, re.IGNORECASE) is not None


def run_probe(assistant: Any, asked: Sequence[tuple[str, Report]], k: int = 4) -> tuple[int, list[str]]:
    """(hits, code words missed): a hit is a top-``k`` passage holding the code word that the
    model would be shown (``select_evidence``: only the passages near the best one)."""

    def shown(q: str) -> list[Any]:
        return assistant.select_evidence(q, assistant.retrieve(q, k=k))

    missed = [r.code for q, r in asked if not any(holds(p.text, r.code) for p in shown(q))]
    return len(asked) - len(missed), missed


class QueryCache:
    """Wraps an Embedder and remembers single-text encodings (queries), so comparing fusion
    variants embeds each question once. Not for latency figures."""

    def __init__(self, embedder: Any):
        self.embedder, self.name, self._memo = embedder, embedder.name, {}

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def encode(self, texts: Sequence[str], progress: Any = None) -> Any:
        if len(texts) != 1:
            return self.embedder.encode(texts, progress)
        if texts[0] not in self._memo:
            self._memo[texts[0]] = self.embedder.encode(texts)
        return self._memo[texts[0]]


@contextlib.contextmanager
def settings_env(settings: Mapping[str, Any]) -> Iterator[None]:
    """Apply Config settings as RAG_* variables (the documented way to set them) for a while."""
    saved = {name: os.environ.get(f"RAG_{name.upper()}") for name in settings}
    os.environ.update({f"RAG_{name.upper()}": str(value) for name, value in settings.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(f"RAG_{name.upper()}", None)
            else:
                os.environ[f"RAG_{name.upper()}"] = value


def label(name: str) -> str:
    """The variant's name, marked when its settings are the configured defaults."""
    from rag.config import Config

    default = Config()
    return f"{name} (default)" if all(getattr(default, k) == v for k, v in VARIANTS[name].items()) else name


def assistant_for(corpus: Path, index_dir: Path, settings: Mapping[str, Any], embedder: Any) -> Any:
    """An Assistant over an (already indexed) corpus with fusion ``settings``."""
    from rag import Assistant

    with settings_env(settings):
        assistant = Assistant(corpus=corpus, index_dir=index_dir, embedder=embedder, hybrid=True)
    got = {name: getattr(assistant.config, name) for name in settings}
    if got != dict(settings):
        raise RuntimeError(f"settings {dict(settings)} did not reach the assistant: {got}")
    return assistant


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("-k", type=int, default=4)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS),
                        help=f"any of: {', '.join(VARIANTS)}".replace("%", "%%"))  # argparse formats help with %
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the corpus and its index here and reuse them (default: a temporary folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from rag.embedding import Embedder

    embedder = QueryCache(Embedder())
    reports = make_reports(args.reports, args.seed)
    asked = questions(reports, args.questions)
    with contextlib.ExitStack() as stack:
        work = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="codeword-probe-")))
        corpus = write_corpus(reports, work / f"corpus-{args.reports}-{args.seed}")
        t = time.perf_counter()
        assistant = assistant_for(corpus, work / f"index-{args.reports}-{args.seed}", {}, embedder)
        print(f"{args.reports} reports, {len(assistant.index)} chunks, indexed in {time.perf_counter() - t:.0f}s")
        print(f"{'variant':<28} hits@{args.k}")
        for name in args.variants:
            assistant = assistant_for(corpus, work / f"index-{args.reports}-{args.seed}", VARIANTS[name], embedder)
            hits, missed = run_probe(assistant, asked, args.k)
            print(f"{label(name):<28} {hits}/{len(asked)}" + (f"   missed: {' '.join(missed)}" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
