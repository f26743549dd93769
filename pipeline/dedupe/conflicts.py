"""Conflicting figures inside a merged claim: members that state another number or year for
the same thing (two partners giving different durations for one symptom, different death
counts for one year).

Owns: `conflicting_figures(members)`, pure. Must not: decide merges (the engine's mismatch
evidence already keeps most such sentences apart; what is merged anyway, by a paraphrase the
evidence let through or by an editor, is what this flags for a reader to check first).

"The same thing" is judged from the figure's kind: durations (converted to hours, so "three
days" and "72 hours" agree), years, percentages, or counts of the same noun ("deaths",
"people"). Bare numbers with no noun are left out: nothing says what they count.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..types import MentionInput
from .evidence import figures


@dataclass(frozen=True, slots=True)
class Conflict:
    """One kind of figure on which the members disagree, and what each member says."""

    kind: str  # duration, year, percent, or the counted noun (its first six letters)
    statements: tuple[tuple[int, str, str], ...]  # (mention id, site, the figure as written)

    def describe(self) -> str:
        return f"{self.kind}: " + "; ".join(f"{site} says {said}" for _, site, said in self.statements)

    def as_dict(self) -> dict:
        return dict(kind=self.kind, statements=[dict(mention_id=m, site=site, figure=said)
                                                for m, site, said in self.statements])


def conflicting_figures(members: Sequence[MentionInput]) -> tuple[Conflict, ...]:
    """The conflicts among a claim's members (empty when they agree or state no figures)."""
    by_kind: dict[str, list[tuple[MentionInput, frozenset[float], str]]] = {}
    for m in sorted(members, key=lambda m: (m.site, m.mention_id)):
        per_kind: dict[str, list] = {}
        for f in figures(m.text):
            if f.unit != "number":
                per_kind.setdefault(f.unit, []).append(f)
        for kind, fs in per_kind.items():
            by_kind.setdefault(kind, []).append(
                (m, frozenset(f.value for f in fs), ", ".join(str(f) for f in fs)))
    out = []
    for kind in sorted(by_kind):
        stated = by_kind[kind]
        if len(stated) > 1 and len({values for _, values, _ in stated}) > 1:
            out.append(Conflict(kind, tuple((m.mention_id, m.site, said) for m, _, said in stated)))
    return tuple(out)
