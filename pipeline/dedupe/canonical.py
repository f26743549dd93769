"""Choosing a claim's canonical text: the clearest member, never a concatenation.

Clearest means: an editor's pin first; otherwise the member that best represents the others
(most content-word overlap with them) and reads on its own. Standing alone is judged from the
form of the sentence only: one that opens with a pronoun pointing back ("This means...",
"These symptoms...") needs the sentence before it; one with a list label ("Tolerance: ...")
or ending in a colon is a fragment of a list; very long or very short ones read worse.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .normalize import content_terms
from .order import in_canonical_order

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import ClaimState

# Openers that refer back to an earlier sentence (English grammar, not this corpus's words).
_ANAPHORIC = re.compile(r"^(it|this|these|that|those|they|such|he|she|its|their|then|also)\b",
                        re.IGNORECASE)
_LABEL = re.compile(r"^[^.!?:\u2013\u2014]{1,60}(?::|\s[\u2013\u2014-]\s)")


def readability(text: str) -> float:
    """Higher is better: penalties for needing context or being a list fragment."""
    s = text.strip()
    score = 0.0
    if _ANAPHORIC.match(s):
        score -= 0.3
    if _LABEL.match(s):
        score -= 0.2
    if s.endswith(":") or s.endswith("?"):
        score -= 0.3
    words = len(s.split())
    if words < 6:
        score -= 0.02 * (6 - words)
    elif words > 28:
        score -= 0.01 * (words - 28)
    return score


def choose_canonical(claim: "ClaimState") -> int:
    """The mention id whose text stands for the claim."""
    if claim.pinned_mention is not None:
        return claim.pinned_mention
    # canonical order, so that ties go to the earliest published member whatever the ids
    members = in_canonical_order(claim.members)
    if len(members) == 1:
        return members[0].mention_id
    terms = [content_terms(m.text) for m in members]

    def centrality(i: int) -> float:
        total = 0.0
        for j in range(len(members)):
            if j != i:
                union = terms[i] | terms[j]
                total += len(terms[i] & terms[j]) / len(union) if union else 0.0
        return total / (len(members) - 1)

    best = max(range(len(members)),  # max keeps the first of equal keys
               key=lambda i: (round(centrality(i) + readability(members[i].text), 6),
                              -len(members[i].text)))
    return members[best].mention_id
