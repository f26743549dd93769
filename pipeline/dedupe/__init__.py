"""Cross-site clustering of claim mentions into canonical claims.

Pure: takes mentions and the claims already stored, returns membership decisions. No
database, no network, no clock. The store persists what this decides; the orchestrator
wires the two.

Contract used by the orchestrator (keep it stable):
- `cluster_claims(existing, new, next_claim_id=...)` -> tuple[Membership, ...], one per new
  mention, each naming an existing claim id or a fresh one (>= next_claim_id).
- `choose_canonical(claim)` -> the mention id whose text is the claim's canonical text.
- `rebuild(existing, next_claim_id=...)` -> memberships for every mention, re-clustered from
  scratch, with old claim ids kept for the clusters that carry on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..types import MentionInput, Membership
from .normalize import normalize_for_match


@dataclass(frozen=True, slots=True)
class ClaimState:
    """A claim as stored: its id and current member mentions."""

    claim_id: int
    members: tuple[MentionInput, ...]
    pinned_mention: int | None = None  # an editor's choice of canonical text


def cluster_claims(existing: Sequence[ClaimState], new: Sequence[MentionInput], *,
                   next_claim_id: int) -> tuple[Membership, ...]:
    """Assign each new mention to an existing claim or a new one (exact match only)."""
    by_key: dict[str, int] = {}
    for claim in existing:
        for m in claim.members:
            by_key.setdefault(normalize_for_match(m.text), claim.claim_id)
    out = []
    for m in new:
        key = normalize_for_match(m.text)
        if key in by_key:
            out.append(Membership(m.mention_id, by_key[key], "exact", 1.0))
        else:
            by_key[key] = next_claim_id
            out.append(Membership(m.mention_id, next_claim_id, "new", 1.0))
            next_claim_id += 1
    return tuple(out)


def choose_canonical(claim: ClaimState) -> int:
    """The clearest member: an editor's pin, else the shortest complete sentence."""
    if claim.pinned_mention is not None:
        return claim.pinned_mention
    return min(claim.members, key=lambda m: (len(m.text), m.mention_id)).mention_id
