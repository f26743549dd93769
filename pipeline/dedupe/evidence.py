"""What a sentence asserts beyond its topic: negation, direction words, figures, qualifiers.

Owns: the small general-English lexicons (negation cues, antonym groups, scope qualifiers,
number words, time units) and `signature(text)`, the compact summary the engine compares
between two sentences to see that they cannot say the same thing.
Must not: know any partner, site or annotated sentence; every list here is ordinary English
written from grammar books and thesauri, not from the gold file or the synthetic generator.

Why. Embeddings and word overlap see two sentences about the same subject as close even when
one says the opposite ("exercise raises blood pressure" / "exercise lowers blood pressure",
"heroin is addictive" / "heroin is not addictive"), gives another figure ("three days" /
"two weeks") or narrows the claim to another group ("in teenagers" / "in older adults").
Issue 8 measured such merges as the main cause of the 0.03 pair precision at 100k synthetic
mentions. These signals are cheap and language-general; the engine uses them to veto or
penalize a merge, and the learned pair model (features.py) weighs them from editor answers.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

NEGATION_CUES = frozenset({
    "not", "no", "never", "none", "nothing", "neither", "nor", "without", "cannot", "nobody",
    "nowhere", "hardly", "barely", "seldom", "rarely", "isn't", "aren't", "wasn't", "weren't",
    "don't", "doesn't", "didn't", "won't", "wouldn't", "can't", "couldn't", "shouldn't",
    "hasn't", "haven't", "hadn't", "mustn't", "unable",
})


def _forms(*bases: str) -> frozenset[str]:
    """A word and its regular inflections (raise -> raises, raised, raising)."""
    out = set()
    for b in bases:
        out.add(b)
        if " " in b:
            continue
        stem = b[:-1] if b.endswith("e") else b
        out |= {b + "s", b + "es", stem + "ed", stem + "ing", b + "d"}
        if b.endswith("y") and len(b) > 3:
            out |= {b[:-1] + "ies", b[:-1] + "ied"}
    return frozenset(out)


# Antonym groups: (one direction, the other). Two sentences whose words fall only on opposite
# sides of one group say opposite things about it.
ANTONYM_GROUPS: tuple[tuple[frozenset[str], frozenset[str]], ...] = (
    (_forms("increase", "raise", "rise", "boost", "elevate", "heighten", "grow", "amplify",
            "intensify", "expand", "multiply", "double", "triple", "more", "higher", "greater",
            "larger", "bigger", "rose", "risen", "grew", "grown", "up"),
     _forms("decrease", "lower", "reduce", "cut", "drop", "decline", "diminish", "fall", "shrink",
            "lessen", "minimize", "halve", "less", "fewer", "smaller", "lower", "fell", "fallen",
            "down", "reduction", "decrement")),
    (_forms("improve", "better", "strengthen", "enhance", "benefit", "protect", "safeguard",
            "heal", "restore", "repair", "help", "aid", "support", "best", "improvement"),
     _forms("worsen", "worse", "weaken", "impair", "harm", "hurt", "damage", "disrupt",
            "interfere", "undermine", "injure", "destroy", "worst", "deteriorate", "degrade")),
    (_forms("cause", "trigger", "produce", "create", "start", "begin", "promote", "encourage",
            "induce", "enable", "allow", "permit"),
     _forms("prevent", "stop", "block", "inhibit", "avoid", "discourage", "halt", "suppress",
            "forbid", "prohibit", "end")),
    (_forms("safe", "harmless", "safer", "benign"),
     _forms("unsafe", "dangerous", "harmful", "risky", "deadly", "toxic", "hazardous")),
    (_forms("easy", "easier", "simple", "simpler"), _forms("hard", "harder", "difficult")),
    (_forms("fast", "faster", "quick", "quickly", "rapid", "rapidly", "sudden", "suddenly"),
     _forms("slow", "slower", "slowly", "gradual", "gradually")),
    (frozenset({"before", "prior"}), frozenset({"after", "following"})),
    (frozenset({"early", "earlier", "earliest"}), frozenset({"late", "later", "latest"})),
    (frozenset({"short", "shorter", "brief", "temporary"}),
     frozenset({"long", "longer", "lasting", "permanent", "lifelong", "chronic"})),
    (frozenset({"positive", "true", "correct", "right"}),
     frozenset({"negative", "false", "incorrect", "wrong"})),
    (frozenset({"common", "frequent", "frequently", "usual", "often"}),
     frozenset({"rare", "rarely", "uncommon", "infrequent", "unusual", "seldom"})),
    (frozenset({"possible", "likely", "probable"}), frozenset({"impossible", "unlikely", "improbable"})),
    (_forms("succeed", "success", "successful", "successfully", "win"),
     _forms("fail", "failure", "unsuccessful", "lose", "lost")),
    (_forms("accept", "include", "legal", "voluntary"), _forms("reject", "exclude", "illegal", "involuntary")),
    (frozenset({"physical", "physically", "body", "bodily"}),
     frozenset({"mental", "mentally", "psychological", "psychologically", "emotional", "emotionally"})),
)

# Scope qualifiers: who, when, how long, where a statement holds. A statement narrowed to one
# group or setting is not the same as the unqualified one or one narrowed to another
# (SCOPE_WORDS). Time words are looser: "symptoms begin within hours" and "symptoms begin
# hours after the last drink" say the same, so only two sentences that both name a time and
# name different ones ("within hours" / "for weeks") are told apart by them (TIME_WORDS).
SCOPE_WORDS = frozenset({
    # people
    "adult", "adults", "older", "elderly", "senior", "seniors", "child", "children", "kid",
    "kids", "teen", "teens", "teenager", "teenagers", "adolescent", "adolescents", "youth",
    "young", "infant", "infants", "baby", "babies", "newborn", "newborns", "student",
    "students", "worker", "workers", "employee", "employees", "women", "woman", "men", "man",
    "male", "males", "female", "females", "mother", "mothers", "father", "fathers", "pregnant",
    "pregnancy", "veteran", "veterans", "athlete", "athletes", "parent", "parents", "girls",
    "boys", "girl", "boy", "retirees", "beginners", "smokers", "nonsmokers",
    # settings
    "workplace", "school", "schools", "college", "university", "home",
    "hospital", "surgery", "prison", "office", "clinic", "shift", "shifts", "rural", "urban",
    "at work",
})
TIME_WORDS = frozenset({
    "hour", "hours", "day", "days", "week", "weeks", "month", "months", "year", "years",
    "decade", "decades", "minute", "minutes", "lifetime", "overnight", "term", "night",
    "nights", "morning", "mornings", "evening", "evenings", "winter", "summer", "spring",
    "autumn", "weekend", "weekends",
})
QUALIFIERS = SCOPE_WORDS | TIME_WORDS

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
    "million": 1_000_000, "billion": 1_000_000_000, "half": 0.5, "dozen": 12,
    "once": 1, "twice": 2,
}
# "one" is a pronoun as often as a number ("one of the most..."): counted only before a unit
_WEAK_NUMBER_WORDS = frozenset({"one", "once", "half"})
# time units in hours, so that "three days" and "72 hours" state the same figure
TIME_UNITS = {"minute": 1 / 60, "hour": 1, "day": 24, "night": 24, "week": 168, "month": 730,
              "year": 8766, "decade": 87660}
_SCALE = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}

_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?%?|[a-z][a-z']*")


_RANGE_DASH = re.compile(r"(?<=\d)\s*[-\u2010-\u2015]\s*(?=\d)")


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers ("14,000", "2.5", "40%" kept whole; a dash between two
    figures is a range: "6-12 hours" reads "6 to 12 hours")."""
    s = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    s = _RANGE_DASH.sub(" to ", s).replace("-", " ")
    return [t.rstrip(",") for t in _TOKEN.findall(s)]


@dataclass(frozen=True, slots=True)
class Figure:
    """A number a sentence states, with what it counts: a time span in hours ("duration"), a
    year ("year"), a share ("percent"), or the next word ("deaths", "people")."""

    value: float
    unit: str
    said: str = field(default="", compare=False)  # the words of the sentence ("three days")

    def __str__(self) -> str:
        if self.said:
            return self.said
        v = int(self.value) if float(self.value).is_integer() else self.value
        return f"{v} {self.unit}"


def _unit_of(word: str) -> str | None:
    w = word.rstrip("s") if word.endswith("s") and len(word) > 3 else word
    return w if w in TIME_UNITS else None


def figures(text: str) -> tuple[Figure, ...]:
    """The figures a sentence states, in order (years, durations, percentages, counts)."""
    toks = tokens(text)
    out: list[Figure] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        value = None
        if t[0].isdigit():
            pct = t.endswith("%")
            try:
                value = float(t.rstrip("%").replace(",", ""))
            except ValueError:
                value = None
            if value is not None and pct:
                out.append(Figure(value, "percent", t))
                i += 1
                continue
        elif t in NUMBER_WORDS:
            value = float(NUMBER_WORDS[t])
        elif t in ("a", "an") and i + 1 < len(toks) and _unit_of(toks[i + 1]):
            value = 1.0  # "a week"
        if value is None:
            i += 1
            continue
        j = i + 1
        while j < len(toks) and toks[j] in _SCALE:  # "two million", "10 thousand"
            value *= _SCALE[toks[j]]
            j += 1
        nxt = toks[j] if j < len(toks) else ""
        if nxt in ("to", "or", "and") and j + 1 < len(toks) and (toks[j + 1][0].isdigit()
                                                                   or toks[j + 1] in NUMBER_WORDS):
            # a range "3 to 5 days": the unit is after the second number
            k = j + 2
            unit = _unit_of(toks[k]) if k < len(toks) else None
            if unit:
                out.append(Figure(value * TIME_UNITS[unit], "duration", " ".join(toks[i:k + 1])))
                i = j + 1
                continue
        unit = _unit_of(nxt) if nxt else None
        if unit:
            out.append(Figure(round(value * TIME_UNITS[unit], 6), "duration", " ".join(toks[i:j + 1])))
            i = j + 1
            continue
        if nxt == "percent":
            out.append(Figure(value, "percent", " ".join(toks[i:j + 1])))
            i = j + 1
            continue
        if t[0].isdigit() and "." not in t and "," not in t and 1800 <= value <= 2100 and j == i + 1:
            out.append(Figure(value, "year", t))
            i = j
            continue
        if t in _WEAK_NUMBER_WORDS:
            i = j
            continue
        if nxt and nxt[0].isalpha() and nxt not in ("of", "to", "or", "and", "in", "the", "a"):
            out.append(Figure(value, nxt[:6], " ".join(toks[i:j + 1])))
        else:
            out.append(Figure(value, "number", " ".join(toks[i:j])))
        i = j
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Signature:
    """What the engine compares between two sentences besides their similarity."""

    negated: bool  # an odd number of negation cues
    polarity: tuple[int, ...]  # per antonym group: +1, -1 or 0 (none or both sides)
    figures: frozenset[tuple[str, float]]
    qualifiers: frozenset[str]
    lead_in: bool = False  # ends with a colon: it announces a list, the items say the rest
    scope: frozenset[str] = frozenset()  # the qualifiers among SCOPE_WORDS
    times: frozenset[str] = frozenset()  # the qualifiers among TIME_WORDS


@lru_cache(maxsize=65536)
def signature(text: str) -> Signature:
    toks = tokens(text)
    words = set(toks)
    # "at work" is a setting; "work"/"works" alone is mostly the verb ("how heroin works")
    words |= {f"{x} {y}" for x, y in zip(toks, toks[1:]) if x == "at" and y == "work"}
    neg = sum(1 for t in toks if t in NEGATION_CUES or t.endswith("n't")) % 2 == 1
    pol = []
    for up, down in ANTONYM_GROUPS:
        a, b = bool(words & up), bool(words & down)
        pol.append(1 if a and not b else -1 if b and not a else 0)
    found = figures(text)
    figs = frozenset((f.unit, f.value) for f in found)
    # a time unit inside a figure ("three days") is compared as the figure, not as a qualifier
    in_figures = {w for f in found if f.unit == "duration" for w in f.said.split()}
    quals = frozenset(w[:-1] if w.endswith("s") and len(w) > 3 else w
                      for w in (words & QUALIFIERS) - in_figures)
    scope = frozenset(q for q in quals if q in SCOPE_WORDS or q + "s" in SCOPE_WORDS)
    return Signature(neg, tuple(pol), figs, quals, text.rstrip().endswith(":"), scope, quals - scope)


def mismatches(a: Signature, b: Signature) -> dict[str, bool]:
    """The mismatch flags of two sentences (names as in features.FEATURE_NAMES)."""
    return {
        "negation_mismatch": a.negated != b.negated,
        "antonym_mismatch": any(x * y < 0 for x, y in zip(a.polarity, b.polarity)),
        "number_mismatch": bool(a.figures) and bool(b.figures) and a.figures != b.figures,
        "number_missing": bool(a.figures) != bool(b.figures),
        "qualifier_mismatch": a.qualifiers != b.qualifiers,
        "lead_in": a.lead_in or b.lead_in,
        "scope_mismatch": a.scope != b.scope,
        "time_conflict": bool(a.times) and bool(b.times) and not (a.times & b.times),
    }


MISMATCH_NAMES = ("negation_mismatch", "antonym_mismatch", "number_mismatch", "number_missing",
                  "qualifier_mismatch", "lead_in", "scope_mismatch", "time_conflict")


class SignatureTable:
    """Signatures of a growing list of sentences, compared many at a time (numpy): the
    engine's per-mention evidence without a Python loop per candidate pair."""

    def __init__(self) -> None:
        self.neg = np.zeros(1024, dtype=bool)
        self.pol = np.zeros((1024, len(ANTONYM_GROUPS)), dtype=np.int8)
        self.fig = np.zeros(1024, dtype=np.int32)  # 0: no figure, else an interned set
        self.qual = np.zeros(1024, dtype=np.int32)  # interned qualifier set (0: none)
        self.lead = np.zeros(1024, dtype=bool)
        self.scope = np.zeros(1024, dtype=np.int32)  # interned scope-word set (0: none)
        # time words as bits (0: none): two sentences' sets are disjoint when AND is 0
        self.times = np.zeros(1024, dtype=np.int64)
        self._time_bit: dict[str, int] = {}
        self._figs: dict[frozenset, int] = {frozenset(): 0}
        self._quals: dict[frozenset, int] = {frozenset(): 0}
        self.n = 0

    COLUMNS = ("neg", "pol", "fig", "qual", "lead", "scope", "times")

    def restore(self, state: dict, n: int) -> None:
        """The table as a snapshot of its first n rows left it (Engine.snapshot)."""
        self.n = 0
        self._grow(n)
        for name in self.COLUMNS:
            getattr(self, name)[:n] = state[name]
        self._time_bit, self._figs, self._quals = state["time_bit"], state["figs"], state["quals"]
        self.n = n

    def _grow(self, need: int) -> None:
        if need <= len(self.neg):
            return
        size = max(need, 2 * len(self.neg))
        for name in self.COLUMNS:
            old = getattr(self, name)
            new = np.zeros((size,) + old.shape[1:], dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def append(self, text: str) -> int:
        s = signature(text)
        t = self.n
        self._grow(t + 1)
        self.neg[t] = s.negated
        self.pol[t] = s.polarity
        self.fig[t] = self._figs.setdefault(s.figures, len(self._figs))
        self.qual[t] = self._quals.setdefault(s.qualifiers, len(self._quals))
        self.lead[t] = s.lead_in
        self.scope[t] = self._quals.setdefault(s.scope, len(self._quals))
        bits = 0
        for w in s.times:
            bits |= 1 << self._time_bit.setdefault(w, len(self._time_bit) % 63)
        self.times[t] = bits
        self.n += 1
        return t

    def flags(self, t: int, others: np.ndarray) -> np.ndarray:
        """(len(others), len(MISMATCH_NAMES)) booleans: mention t against each of others."""
        out = np.zeros((len(others), len(MISMATCH_NAMES)), dtype=bool)
        out[:, 0] = self.neg[others] != self.neg[t]
        out[:, 1] = (self.pol[others] * self.pol[t] < 0).any(axis=1)
        fo, ft = self.fig[others], self.fig[t]
        out[:, 2] = (fo != ft) & (fo != 0) & (ft != 0)
        out[:, 3] = (fo == 0) != (ft == 0)
        out[:, 4] = self.qual[others] != self.qual[t]
        out[:, 5] = self.lead[others] | self.lead[t]
        out[:, 6] = self.scope[others] != self.scope[t]
        to, tt = self.times[others], self.times[t]
        out[:, 7] = (to != 0) & (tt != 0) & ((to & tt) == 0)
        return out
