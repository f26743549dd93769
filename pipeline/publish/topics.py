"""Topics: the week's claims grouped by what they are about. Pure.

A general method, keyed on no site or word list of a development set: each claim is
reduced to its content words (a short stop list, crude plural folding); the word shared by
the most claims not yet grouped becomes a topic and takes those claims, and so on while a
word still joins two claims. Words in most claims say nothing about any of them (on a week
about one drug, its name is in every sentence), so a word in more than `max_share` of the
claims is not a topic. The label is the word, with a second one when most of its claims
share that too; its claims are listed most central first. What no shared word groups goes
to "Other claims".
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Hashable, Sequence

OTHER = "Other claims"
_WORD = re.compile(r"[a-z][a-z'-]{2,}")
_STOP = frozenset("""
about above after again against all also although among and another any are around because been before
being below between both but can cannot could did does doing down during each either even every few for
from further had has have having her here hers him his how however into its itself just less like made
make makes many may might more most much must near need needs not now off often once one only other our
out over own per rather same several she should since some such than that the their them then there these
they this those through thus too under until upon very was way ways were what when where whether which
while who whom whose why will with within without would yet you your yours able across already always
among another anything become becomes can't don't doesn't it's get gets got use used uses using well
first second new include includes including known likely people person someone something thing things
time times year years day days week weeks part parts lot lots kind kinds help helps called call
individual individuals important possible different common often various certain others
""".split())


def _fold(word: str) -> str:
    word = word.strip("'-")
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def content_words(text: str) -> dict[str, str]:
    """{folded word: its first surface form} of a text's content words."""
    out: dict[str, str] = {}
    for w in _WORD.findall(text.lower()):
        w = w.strip("'-")
        if len(w) < 3 or w in _STOP or w.endswith("'s") and w[:-2] in _STOP:
            continue
        out.setdefault(_fold(w), w)
    return out


def group_topics(claims: Sequence[tuple[Hashable, str]], *, max_share: float = 0.4,
                 min_size: int = 2) -> list[tuple[str, list]]:
    """[(label, [key, ...]), ...] biggest topic first, "Other claims" last; every key once."""
    words = {key: content_words(text) for key, text in claims}
    order = [key for key, _ in claims]
    n = len(order)
    df = Counter(w for ws in words.values() for w in ws)
    surface = {}
    for ws in words.values():
        for w, form in ws.items():
            surface.setdefault(w, form)
    too_common = {w for w, c in df.items() if n >= 8 and c > max_share * n}
    left = list(order)
    topics: list[tuple[str, list]] = []
    while left:
        counts = Counter(w for key in left for w in words[key] if w not in too_common)
        if not counts:
            break
        word, count = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < min_size:
            break
        members = [key for key in left if word in words[key]]
        inner = Counter(w for key in members for w in words[key] if w != word and w not in too_common)
        # most central first: the claims sharing most words with the rest of the topic, so a
        # capped topic shows its substance before its asides ("Some nights will be rough.")
        members.sort(key=lambda key: -sum(inner[w] for w in words[key] if w in inner))
        label = surface[word]
        if inner:
            second, c2 = min(inner.items(), key=lambda kv: (-kv[1], kv[0]))
            if c2 * 2 > len(members) and c2 >= min_size:
                label = f"{label}, {surface[second]}"
        topics.append((label.capitalize(), members))
        left = [key for key in left if word not in words[key]]
    topics.sort(key=lambda t: -len(t[1]))
    if left:
        topics.append((OTHER, left))
    return topics
