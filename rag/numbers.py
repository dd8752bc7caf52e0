"""Numbers of English text with their units: the one place that says what a figure is.

Scope: :class:`Quantity` (a number's value, share, money, currency, unit word, range end and
bound) and :func:`quantities`, which finds them in text with where each is, written in digits
or, for the fact check, in words ("seven members", "doubled"); :func:`readings` tells which
separators a text writes its numbers with. Pure functions; no topic's vocabulary, only
English's words for scale, movement and bounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .words import DASHES, STOP_WORDS, stem

_WORD = re.compile(r"[A-Za-z][A-Za-z’'-]*[A-Za-z]|[A-Za-z]")

# verbs that move a figure up or down (stems): "exports rose 5%" is not backed by "exports fell 5%"
# (verbs only: "higher", "lower" and "loss" compare or name a figure as often as they move it, and
# "raised $5m" is as often money found; "Acme had the higher revenue" is no rise)
UP = frozenset(map(stem, "rise rose risen rising increase gain grew grow grown climb jump surge soar".split()))
DOWN = frozenset(map(stem, "fall fell fallen drop decline decrease shrink shrank plunge tumble slump sank sink "
                           "slid slide lose lost".split()))
# verbs that change a figure someone sets: "raised its forecast of $3m to $5m" is no range
_SETS = frozenset(map(stem, "raise lift boost hike cut lower reduce trim slash revise".split()))
# plain verbs of motion, with no direction: "went 3% to 5%", "moved 3 to 5 places" is a move, no range
_MOVES = frozenset(map(stem, "go goes went gone move shift swing edge inch".split()))

_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "mln": 1e6, "billion": 1e9,
          "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12}
_NUMBER = re.compile(
    # currency codes are capitals even though the rest is case-blind: "got 4%" is no money
    r"(?P<pre>(?:\b(?-i:[A-Z]{1,3})\s?)?[$€£¥₹₩₽]|\b(?-i:[A-Z]{3})\s(?=\d))?\s?"
    r"(?<![\w.])(?P<val>\d(?:[\d,]*\d)?(?:\.\d+)?)(?![\d])"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion|mln|mn|bn|tn|[kmb])\b)?"
    r"(?:\s?(?P<pct>%|percent\b|per\s?cent\b))?"
    r"(?P<rest>(?:[\s-]+[A-Za-z’'-]+){0,3})",
    re.IGNORECASE)
_UNIT_SKIP = STOP_WORDS | {"metric", "per", "cent", "percent", "about", "around", "roughly", "nearly", "almost"}
# "between 3 and 5%", "3-5%", "3 to 5 million": the two ends of a range share a scale and a percent sign
_RANGE = re.compile(r"\s*(?:-|to|and)\s*")
# numbers written as words, for the fact check (:func:`quantities` with ``spelled``); not "one",
# which is as often a pronoun ("one of the", "no one")
_UNITS = "two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_SPELLED_VALUE = {w: float(i) for i, w in enumerate(["one", *_UNITS, *_TEENS], start=1)}
_SPELLED_VALUE.update({w: 20.0 + 10 * i for i, w in enumerate(_TENS)})
_SPELLED = re.compile(
    rf"(?<![\w-])(?P<val>(?:{'|'.join(_TENS)})(?:[\s-](?:one|{'|'.join(_UNITS)}))?|{'|'.join(_UNITS + _TEENS)})(?![\w-])"
    r"(?:\s(?P<scale>hundred|thousand|million|billion|trillion)\b)?"
    r"(?:\s?(?P<pct>percent\b|per\s?cent\b))?"
    r"(?=(?P<rest>(?:[\s-]+[A-Za-z’'-]+){0,3}))", re.IGNORECASE)  # the rest may hold the next number: "six to eight weeks"


@dataclass(frozen=True)
class Quantity:
    """A number as written: its value (scale words applied, a minus sign kept), whether it is a
    share ("5%"), whether money (a currency sign or three-letter code before it), which sign or
    code, and the unit word after it."""

    value: float
    percent: bool = False
    money: bool = False
    unit: str = ""  # stem of the first content word after the number ("tonnes" -> "tonn"), or ""
    currency: str = ""  # the sign ("$" for "$" and "US$", "€") or the code ("EUR"); "" when not money
    spelled: bool = False  # written in words ("seven members")
    # the value read with the other separators, where the text allows it ("12.500" is 12,500 in a
    # text that never writes a decimal point): :func:`readings`
    alt: float | None = None
    # an end of a range ("between $3m and $5m"): "low" or "high", and the other end's value
    end: str = ""
    other: float | None = None
    bound: str = ""  # "high" after "up to", "as much as"; "low" after "at least", "as few as"

    @property
    def is_year(self) -> bool:
        """A bare number a year is written as (:data:`_YEAR`): no sign, percent or unit."""
        return not (self.percent or self.money or self.unit) and self.value.is_integer() and 1000 <= self.value <= 2099

    def backed_by(self, other: "Quantity", nearby: set[str], way: str = "") -> bool:
        """Whether ``other`` (a number of a passage, with the stems of the words near it) states
        this number: the same value, a share only by a share, money only by money in the same
        currency, and the unit word, when this number has one, near the passage's number. A
        fall the claim states (``way`` "down") is stated by a negative share of its size ("fell
        9.6%" by a table's "-9.6%"); a level ("inflation was 2%") never is ("-2%" is deflation)."""
        values = [v for v in (other.value, other.alt) if v is not None]
        if way == "down" and self.percent and other.percent and self.value >= 0:
            values += [-v for v in values if v < 0]
        if not any(abs(self.value - v) <= 1e-9 * max(1.0, abs(self.value)) for v in values):
            return False
        if self.percent != other.percent or (self.money and not other.money):
            return False
        if self.currency and other.currency and self.currency != other.currency \
                and self.currency.isalpha() == other.currency.isalpha():
            return False  # "$12 million" is not "€12 million"; which sign a code means, no rule here knows
        unit = _UNIT_NAME.get(self.unit, self.unit)
        return not self.unit or unit in {_UNIT_NAME.get(w, w) for w in nearby} or unit == _UNIT_NAME.get(other.unit, other.unit)


# a unit's symbol and its name (as word stems) are one unit: "250 m" states "250 metres"
_UNIT_NAME = {"m": "meter", "km": "kilomet", "cm": "centimet", "mm": "millimet", "l": "liter", "ml": "millilit",
              "kg": "kilogram", "g": "gram", "t": "tonn", "ha": "hectar", "kw": "kilowatt", "mw": "megawatt",
              "gw": "gigawatt", "ft": "feet", "foot": "feet", "mi": "mile"}


def _value(raw: str, scale: str | None) -> float | None:
    try:
        v = float(raw.replace(",", ""))
    except ValueError:
        return None
    return v * _SCALE.get((scale or "").lower(), 1.0)


def _spelled_value(raw: str, scale: str | None) -> float:
    value = sum(_SPELLED_VALUE[w] for w in re.split(r"[\s-]+", raw.lower()))
    return value * {"hundred": 1e2}.get((scale or "").lower(), _SCALE.get((scale or "").lower(), 1.0))


def _in_a_name(text: str, m: re.Match) -> bool:
    """A number word capitalised inside a sentence, or before a capitalised word, is part of a
    name ("Seven Days to the River Rhine", "the Big Ten"), not a count."""
    if not m.group("val")[0].isupper():
        return False
    opens = re.search(r"(?:^|[.!?:;\n\"“(])\s*$", text[:m.start("val")])
    return not opens or bool(re.match(r"[\s-]+[A-Z]", text[m.end("val"):]))


# a preposition or conjunction ends a number's phrase: "$61.4 million in the new budget" has no
# unit, "5 tonnes of ore" has "tonnes"; so does a word that opens a comparison or a list, as a
# preposition does: "5.1% compared to 4.8%", "12 versus 9", "40 including 3 ..." have no unit
_UNIT_END = frozenset("in on at for from to by with during since after before into over under through across "
                      "against between than as and or but while until within compared versus vs whereas unlike "
                      "including excluding".split())


def _unit(rest: str) -> str:
    if re.match(r"[\s-]+years?[\s-]+old\b", rest or "", re.I):
        return ""  # an age: "87 years old" is the article's "She was 87" or "aged 87"
    for w in _WORD.findall(rest or ""):
        # a verb's "-ing" ends the phrase too: "34% of it coming from solar" counts nothing "coming"
        if w.lower() in _UNIT_END or (len(w) > 5 and w.lower().endswith("ing")):
            break
        if w.lower() not in _UNIT_SKIP and w.lower() not in _SPELLED_VALUE:
            return stem(w)
    return ""


# a verb or "-fold" that multiplies a figure: a number too ("doubled" is not "tripled"); its unit is
# "fold", as in "2-fold"
_MULTIPLIER = re.compile(r"(?<![\w-])(?:(?P<n>two|three|four|five|ten)[\s-]?fold"
                         r"|(?P<verb>doubl|tripl|trebl|quadrupl|halv)(?:ed|ing))(?![\w-])", re.I)
_TIMES = {"doubl": 2.0, "tripl": 3.0, "trebl": 3.0, "quadrupl": 4.0, "halv": 0.5}
# words before a number that make it a bound: "up to $5m" is the high end of "between $3m and $5m"
_HIGH = re.compile(r"\b(?:up\s+to|as\s+(?:much|many|high|long|far)\s+as|at\s+most|no\s+more\s+than"
                   r"|(?:a\s+)?maximum\s+of)\s*$", re.I)
_LOW = re.compile(r"\b(?:at\s+least|as\s+(?:little|few|low)\s+as|no\s+(?:less|fewer)\s+than"
                  r"|(?:a\s+)?minimum\s+of)\s*$", re.I)
_SIGN_BEFORE = re.compile(r"(?:\b[A-Z]{1,3}\s?)?[$€£¥₹₩₽]\s?$|\b[A-Z]{3}\s$")
_YEAR = re.compile(r"1\d{3}|20\d{2}")
# a capitalised word joined to the digits by a hyphen: the digits are part of a name ("Apollo-11",
# "F-35"), unless the word is a month ("Mar-2025" is a date)
_NAMED = re.compile(r"(?<![\w-])(?!(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*-)"
                    r"[A-Z][A-Za-z0-9]*[-‐‑]$")
# digits as a thousands separator groups them: by threes, or the Indian lakh's twos ("1,20,000"); a
# comma before one or two digits ("3,5") is a decimal comma or a list
_THOUSANDS = re.compile(r"\d+(?:(?:,\d{2})*(?:,\d{3})+)?(?:\.\d+)?")


def readings(text: str) -> frozenset[str]:
    """The other separators ``text`` writes its numbers with: {"dot-thousands", "comma-decimal"}
    when it proves it (a decimal comma, "3,5%" or "1.234,5", or dots grouping twice, "1.234.567")
    and never writes a decimal point ("3.5"); else none. One "12.500" proves nothing: English
    writes coordinates, verses and prices with three decimals ("47.650°N", "$1.375bn")."""
    english = re.search(r"\d\.\d{1,2}(?!\d)|\d\.\d{4,}|\d,\d{3}\.\d|\d,\d{3},\d{3}(?!\d)", text)
    continental = re.search(r"\d,\d{1,2}(?!\d)(?!,\d)|\d\.\d{3}\.\d{3}(?!\d)|\d\.\d{3},\d", text)
    return frozenset({"dot-thousands", "comma-decimal"}) if continental and not english else frozenset()


def _alt(text: str, m: re.Match, ways: frozenset[str]) -> float | None:
    """The value of ``m``'s number read with the other separators ``ways`` allows, or None."""
    scale = _SCALE.get((m.group("scale") or "").lower(), 1.0)
    if "comma-decimal" in ways and (c := re.compile(r"\d{1,3}(?:\.\d{3})*,\d+(?!\d)").match(text, m.start("val"))):
        return float(c.group().replace(".", "").replace(",", ".")) * scale
    if "dot-thousands" in ways and (d := re.compile(r"\d{1,3}(?:\.\d{3})+(?!\d)(?!,\d)").match(text, m.start("val"))):
        return float(d.group().replace(".", "")) * scale
    return None


def _is_range(text: str, a: tuple[re.Match, Quantity], b: tuple[re.Match, Quantity]) -> bool:
    """Two neighbouring numbers are the ends of one range: "between 3 and 5", "3-5%", "six to eight
    weeks", never "from 3 to 5" (a figure that moved), a score ("2-1"), years ("2019-2021": a
    period, and what happened in it happened in each year) or numbers that measure nothing."""
    (ma, qa), (mb, qb) = a, b
    ends = [g for g in ("val", "scale", "pct") if g in ma.re.groupindex and ma.group(g)]
    gap = _SIGN_BEFORE.sub("", text[max(ma.end(g) for g in ends):mb.start("val")]).translate(DASHES)
    joined = re.fullmatch(r"\s*(-|to|and)\s*", gap, re.I)
    if not joined or not qa.value < qb.value or (qa.percent, qa.money) != (qb.percent, qb.money):
        return False
    if any(_YEAR.fullmatch(m.group("val")) and not q.percent and not q.money for m, q in (a, b)):
        return False
    if not (qb.money or qb.percent or qb.unit or mb.group("scale")):
        return False  # no amount: a date ("May 13-14"), ages, pages, room numbers
    before = _SIGN_BEFORE.sub("", text[max(0, ma.start("val") - 200):ma.start("val")])  # the clause it opens
    word = joined.group(1).lower()
    if word == "and":
        return bool(re.search(r"\bbetween\s*$", before, re.I))
    # "from 3 to 5", "rose 3% to 5%", "raised its target of 3% to 5%": the figure may have moved
    clause = re.split(r"[,;:]", before)[-1]
    return word != "to" or not (re.search(r"\bfrom\s*$", before, re.I)
                                or {stem(w) for w in _WORD.findall(clause)} & (UP | DOWN | _SETS | _MOVES))


def quantities(text: str, spelled: bool = False,
               ways: frozenset[str] = frozenset()) -> list[tuple[Quantity, int, int]]:
    """Numbers of ``text`` with their units, and where each is: (quantity, start, end); with
    ``spelled``, numbers written as words too ("seven members", "forty-two percent") and the
    words that multiply a figure ("doubled", "threefold"); with ``ways`` (:func:`readings`), each
    number's value read with the other separators as well."""
    found = []  # (match, value, spelled)
    for m in _NUMBER.finditer(text):
        value = _value(m.group("val"), m.group("scale"))
        if value is not None and not _THOUSANDS.fullmatch(m.group("val")):
            # "3,5" groups no thousands: three and a half where the text writes decimal commas, else no number
            value = _alt(text, m, ways) if "comma-decimal" in ways else None
        if value is not None and _NAMED.search(text, max(0, m.start("val") - 40), m.start("val")):
            value = None  # a name's number: "Apollo-11", "F-35", "COVID-19" count nothing
        if value is not None:
            found.append((m, value, False))
    if spelled:
        found += [(m, _spelled_value(m.group("val"), m.group("scale")), True) for m in _SPELLED.finditer(text)
                  if not _in_a_name(text, m)]
        found.sort(key=lambda f: f[0].start("val"))
    out: list[tuple[Quantity, int, int]] = []
    carried = ""  # the currency of the range's first end: "$3-5 million" is $5 million too
    for i, (m, value, in_words) in enumerate(found):
        unit = _unit(m.group("rest"))
        pre = (m.groupdict().get("pre") or "").strip()
        currency = pre if pre.isalpha() else pre[-1:]  # "US$" is "$": a sign is the currency as written
        # what comes before a number is read back a short way only: over the whole text before it,
        # every number of a long passage would rescan it (quadratic)
        before = text[max(0, m.start("val") - 80):m.start("val")]
        sign = -1.0 if re.search(r"(?:(?:^|(?<![\d%\s])\s+|[(\[])[-−]|\bminus\s)$", before) else 1.0
        value *= sign  # "-5 degrees", "minus 5": not 5 degrees
        if _YEAR.fullmatch(m.group("val")) and not (pre or m.group("pct")):
            unit = ""  # a year: "in 2019 the ..." has no unit
        percent, currency, carried = bool(m.group("pct")), currency or carried, ""
        nxt = found[i + 1][0] if i + 1 < len(found) else None
        if nxt and _RANGE.fullmatch(text[max(m.end(g) for g in ("val", "scale", "pct")):nxt.start("val")].translate(DASHES)):
            carried = currency
            if not (m.group("scale") or percent):
                percent = bool(nxt.group("pct"))  # "between 3 and 5%": 3%
                scale = (nxt.group("scale") or "").lower()
                value *= {"hundred": 1e2}.get(scale, _SCALE.get(scale, 1.0))
        other = None if in_words or not ways or not _THOUSANDS.fullmatch(m.group("val")) else _alt(text, m, ways)
        if not in_words and m.group("scale") == "m" and not currency and not percent \
                and text[m.end("val"):m.start("scale")].isspace():
            # "250 m", set apart as SI sets a unit, is 250 metres; "£4.75m", glued, is millions
            value, other, unit = value / 1e6, value * sign, "m"
        bare = _SIGN_BEFORE.sub("", before)
        bound = "high" if _HIGH.search(bare) else "low" if _LOW.search(bare) else ""
        out.append((Quantity(value, percent, bool(currency), unit, currency, in_words,
                             alt=None if other is None else sign * other, bound=bound), m.start("val"), m.end()))
    for i in range(len(out) - 1):  # the ends of a range know each other
        if _is_range(text, (found[i][0], out[i][0]), (found[i + 1][0], out[i + 1][0])):
            (lo, a, b), (hi, c, d) = out[i], out[i + 1]
            out[i] = (replace(lo, end="low", other=hi.value), a, b)
            out[i + 1] = (replace(hi, end="high", other=lo.value), c, d)
    if spelled:
        out += [(Quantity(_SPELLED_VALUE[m["n"].lower()] if m["n"] else _TIMES[m["verb"].lower()], unit="fold",
                          spelled=True), m.start(), m.end()) for m in _MULTIPLIER.finditer(text)]
        out.sort(key=lambda f: f[1])
    return out
