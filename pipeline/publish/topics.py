"""Topics: the week's other claims grouped under labels a person would write. Pure.

A general method, keyed on no site, subject or word list of a development set. The only
lists here are closed classes of English (determiners, pronouns, prepositions, auxiliaries,
conjunctions, a few adverbs) and words that never name a subject (quantities and
evaluations such as "main", "first", "same"; light nouns such as "thing", "way", "people";
calendar names). Everything else is learned from the week's own claims.

1. Noun phrases. Each claim is cut into runs of open-class words at function words and
   punctuation (as RAKE does). A word is taken for a verb where the week's text uses it as
   one at least as often as as a noun: as a verb right after a subject pronoun, a modal or
   an auxiliary ("you may notice", "can feel"), after "to" before an object ("to notice the
   water"), or before an object ("Bring it up", "Meet the team", "alcohol robs you"); as a
   noun last in a run right after an article, possessive, preposition or number, or before
   "of" or an auxiliary ("the night", "at night", "sleep is"); a word never shown as a noun
   is not taken for one. Verbs, -ly adverbs, numbers and the
   words that never name a subject cut runs too. A phrase is a run's head (its last word,
   which must have been used as a noun) with up to two words before it: "REM sleep",
   "visitor entrance", "sleep aids". So a bare verb ("Bring", "Feel", "Notice") or an
   adjective ("Main") is never a phrase.
2. Topics, greedily: the phrase with the highest TF-IDF over the claims not yet grouped
   (claims it is in, times log(all claims / claims it is in); a longer phrase counts half
   again per extra word: class-based TF-IDF's preference for the specific), while it is in at
   least `min_size` of them. A word in more than `theme_share` of the week's claims (and
   more than `theme_floor` of them) is the week's theme, not a topic: on a week about sleep,
   "sleep" alone tells nothing apart, while "REM sleep" does. A phrase that shares a word
   with a label already chosen is not a new topic ("Sleeping" after "Sleep", "Nights" and
   "Night sweats"), so no two labels overlap.
3. The label is the phrase as the partners wrote it most often (its case kept: "REM sleep"),
   its first letter capitalised. What no phrase groups goes to "Other claims", so a section
   never has fewer than `min_size` items.

Editors' renames and merges (`apply_renames`) are applied afterwards, by label, in every
later week: a topic labelled "Nights" is shown as "Sleep" once an editor merged it so.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Hashable, Iterable, Sequence

OTHER = "Other claims"

_DET = frozenset("""a an the this that these those my your our their his her its some any no every each another
such what whose either neither both all several many few more most much less least enough 's""".split())
# before a noun (or its adjectives) and nothing else: the evidence that a word is a noun
_ARTICLE = frozenset("a an the this these those my your our their his her its 's no every each another".split())
_PREP = frozenset("""of in on at by for with about against between into through during before after above below
to from up down over under across along around behind beyond near off onto out outside within without upon
toward towards via per like than since until among inside throughout despite except""".split())
_NOUN_PREP = _PREP - {"to", "up", "down", "out", "off", "on", "over", "back", "like", "than"}  # not particles
_SUBJ = frozenset("i you he she we they it who".split())
_OBJ = frozenset("me him us them it you her yourself yourselves themselves itself myself ourselves".split())
_AUX = frozenset("""am is are was were be been being has have had having do does did can could may might must
shall should will would don't doesn't didn't can't cannot won't isn't aren't wasn't weren't couldn't shouldn't
wouldn't haven't hasn't hadn't it's that's there's what's here's let's i'm you're we're they're i've you've we've
they've i'll you'll we'll they'll it'll he's she's i'd you'd we'd they'd""".split())
_CONJ = frozenset("""and or but nor so yet if when while because although though whether unless as once where
how why then that which who whom whose what there""".split())
_ADV = frozenset("""not never also very just often usually still even only really always sometimes already too
quite rather almost again now here soon later ever perhaps maybe especially generally mostly simply instead
away back else fully far""".split())
_FUNCTION = _DET | _PREP | _SUBJ | _OBJ | _AUX | _CONJ | _ADV
# never the subject of a topic: quantities, order and evaluations ("main", "first", "same"),
# light nouns ("thing", "way", "people"), indefinite pronouns ("none", "nobody"), units of
# time ("minutes", "hours") and calendar names (a date is not a topic)
_FILLER = frozenset("""first second third last next same other others own new old main whole few many much
several certain various different good bad great little big small long short real right best better worse
worst able likely possible important common usual normal sure free extra full
thing things way ways part parts lot lots kind kinds sort sorts bit bits time times day days week weeks
year years month months minute minutes hour hours moment moments people person someone anyone everyone somebody
anybody everybody nobody none something anything everything nothing somewhere anywhere everywhere nowhere one ones
fact case point number amount example reason
january february march april may june july august september october november december
one two three four five six seven eight nine ten twelve hundred dozen half
monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday tonight""".split())

_CLAUSE = re.compile(r"[.!?;:,()\[\]\"\u201c\u201d\u2014\u2013]+|\s[-\u2010-\u2015]\s")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]|\d[\d.,:]*")
_TIME = re.compile(r"\b[ap]\.\s?m\.", re.I)


def _fold(word: str) -> str:
    """A word without its plural (or third-person) ending: "nights" -> "night"."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")) and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "'s")) and len(word) > 3:
        return word[:-1]
    return word


def _stem(word: str) -> str:
    """For telling labels apart: "sleeping" and "sleep" are one word."""
    word = _fold(word)
    if word.endswith("ing") and len(word) > 5:
        return word[:-3]
    return word


def _tokens(text: str) -> list[list[str]]:
    """Clauses of surface tokens; "tomorrow's" becomes "tomorrow" + "'s"."""
    text = _TIME.sub(" ", text.replace("\u2019", "'").replace("\u2018", "'"))
    out = []
    for clause in _CLAUSE.split(text):
        tokens: list[str] = []
        for tok in _TOKEN.findall(clause):
            low = tok.lower()
            if low.endswith("'s") and low not in _AUX and len(low) > 2:
                tokens += [tok[:-2], "'s"]
            else:
                tokens.append(tok)
        if tokens:
            out.append(tokens)
    return out


def _is_boundary(low: str) -> bool:
    return low in _FUNCTION or low[0].isdigit() or low.endswith("ly") or "'" in low


def _before_noun(low: str) -> bool:
    return low in _ARTICLE or low in _NOUN_PREP or low[0].isdigit()


class _Evidence:
    """How the week's text uses each word: as a noun, or as a verb (or predicate)."""

    def __init__(self, texts: Iterable[str]):
        self.noun: Counter = Counter()
        self.verb: Counter = Counter()
        for text in texts:
            for clause in _tokens(text):
                self._read([t.lower() for t in clause])

    def _read(self, low: list[str]) -> None:
        n = len(low)
        for i, w in enumerate(low):
            if _is_boundary(w):
                continue
            j = i - 1
            while j >= 0 and (low[j] in _ADV or low[j].endswith("ly")):
                j -= 1
            prev = low[j] if j >= 0 else None
            nxt = low[i + 1] if i + 1 < n else None
            key = _fold(w)
            if prev in _SUBJ or prev in _AUX:
                self.verb[key] += 1
            elif prev == "to" and nxt is not None and (nxt in _DET or nxt in _OBJ):
                self.verb[key] += 1
            elif nxt is not None and (nxt in _ARTICLE or nxt in _OBJ) and nxt != "'s":
                self.verb[key] += 1  # before its object: "Bring it up", "Meet the team", "alcohol robs you"
            if nxt == "than":
                self.verb[key] += 1  # a comparative: "longer than that"
            elif nxt is None or _is_boundary(nxt):
                # the last word of a run is a noun after an article, a preposition or a number,
                # with at most one word between ("at night", "the east entrance"), or before
                # "of" or an auxiliary ("sleep is")
                if i >= 1 and _before_noun(low[i - 1]) or nxt is not None and (nxt in _AUX or nxt == "of"):
                    self.noun[key] += 1
                elif i >= 2 and _before_noun(low[i - 2]) and not _is_boundary(low[i - 1]):
                    self.noun[key] += 0.5  # one word between: "the east entrance", "the building open"

    def verbish(self, key: str) -> bool:
        """Used as a verb at least as often as as a noun ("We need volunteers" and "no
        need to register": too ambiguous to name a topic)."""
        return self.verb[key] > 0 and self.verb[key] >= self.noun[key]

    def nounish(self, key: str) -> bool:
        """Used as a noun, and not as a verb. (A word the text never shows either way is not
        taken: "sleep becomes lighter" reads like "vivid dreams fade" to a word counter.)"""
        return self.noun[key] >= 1 and not self.verbish(key)


def noun_phrases(text: str, evidence: _Evidence, max_words: int = 3) -> dict[tuple[str, ...], str]:
    """{folded phrase: its surface form} of a text's noun phrases (see the module docstring)."""
    out: dict[tuple[str, ...], str] = {}
    for clause in _tokens(text):
        run: list[str] = []
        for tok in [*clause, "."]:
            low = tok.lower()
            key = _fold(low)
            if tok == "." or _is_boundary(low) or low in _FILLER or key in _FILLER or evidence.verbish(key):
                _phrases_of(run, evidence, max_words, out)
                run = []
            else:
                run.append(tok)
    return out


def _phrases_of(run: list[str], evidence: _Evidence, max_words: int, out: dict) -> None:
    while run and not evidence.nounish(_fold(run[-1].lower())):
        run = run[:-1]  # a run ends on its head noun: "tours last" -> "tours"
    for size in range(1, min(max_words, len(run)) + 1):
        words = run[-size:]
        if any(len(w) < 2 for w in words):
            break
        out.setdefault(tuple(_fold(w.lower()) for w in words), " ".join(words))


def group_topics(claims: Sequence[tuple[Hashable, str]], *, theme_share: float = 0.15, theme_floor: int = 6,
                 min_size: int = 2) -> list[tuple[str, list]]:
    """[(label, [key, ...]), ...] biggest topic first, "Other claims" last; every key once."""
    evidence = _Evidence(text for _, text in claims)
    phrases = {key: noun_phrases(text, evidence) for key, text in claims}
    order = [key for key, _ in claims]
    n = len(order)
    df = Counter(p for ps in phrases.values() for p in ps)
    theme = {p for p, c in df.items() if len(p) == 1 and c > max(theme_share * n, theme_floor)}
    surfaces: dict[tuple[str, ...], Counter] = {}
    for ps in phrases.values():
        for p, form in ps.items():
            surfaces.setdefault(p, Counter())[form] += 1
    left = list(order)
    topics: list[tuple[str, list]] = []
    used_words: set[str] = set()
    refused: set[tuple[str, ...]] = set(theme)
    while left:
        counts = Counter(p for key in left for p in phrases[key] if p not in refused)
        best = None
        for p, c in counts.items():
            if c < min_size:
                continue
            if {_stem(w) for w in p} & used_words:
                refused.add(p)
                continue
            score = (round(c * math.log(n / df[p]) * (1 + 0.5 * (len(p) - 1)), 9), len(p), c)
            if best is None or score > best[0] or score == best[0] and p < best[1]:
                best = (score, p)
        if best is None:
            break
        phrase = best[1]
        members = [key for key in left if phrase in phrases[key]]
        inner = Counter(p for key in members for p in phrases[key])
        # most central first: the claims sharing most phrases with the rest of the topic, so a
        # capped topic shows its substance before its asides
        members.sort(key=lambda key: -sum(inner[p] - 1 for p in phrases[key]))
        topics.append((_label(surfaces[phrase]), members))
        used_words |= {_stem(w) for w in phrase}
        refused.add(phrase)
        left = [key for key in left if phrase not in phrases[key]]
    topics.sort(key=lambda t: -len(t[1]))
    if left:
        topics.append((OTHER, left))
    return topics


def _label(forms: Counter) -> str:
    """The form partners wrote most often, preferring one not capitalised only because it
    began a sentence; its first letter capitalised."""
    def rank(item):
        form, count = item
        return (-count, form[:1].isupper() and not form.split()[0].isupper(), form)
    form = min(forms.items(), key=rank)[0]
    return form[:1].upper() + form[1:]


def apply_renames(topics: Sequence[tuple[str, list]], renames: Iterable[tuple[str, str]]) -> list[tuple[str, list]]:
    """Topics after editors' renames and merges: each `(label, shown_as)` in order (later
    ones win; chains followed), labels compared without case; topics that end up with the
    same label are one topic. Biggest first, "Other claims" last."""
    mapping: dict[str, str] = {}
    for label, shown_as in renames:
        mapping[label.strip().lower()] = shown_as.strip()
    merged: dict[str, tuple[str, list]] = {}
    for label, keys in topics:
        final, seen = label, set()
        while final.strip().lower() in mapping and final.strip().lower() not in seen:
            seen.add(final.strip().lower())
            final = mapping[final.strip().lower()]
        slot = merged.setdefault(final.lower(), (final, []))
        slot[1].extend(keys)
    out = [t for t in merged.values() if t[0].lower() != OTHER.lower()]
    out.sort(key=lambda t: -len(t[1]))
    other = merged.get(OTHER.lower())
    return out + ([(OTHER, other[1])] if other else [])
