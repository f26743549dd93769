"""What the clustering engine is told: the knobs of its decision (`Settings`) and the editor
decisions it must respect (`Constraints`). Plain values, no behaviour.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping




@dataclass(frozen=True, slots=True)
class Settings:
    """Knobs of the decision. Defaults were chosen as described in benchmarks/dedup_quality.py."""

    neighbours: int = 24  # nearest earlier mentions (raw cosine) whose claims are candidates
    candidate_floor: float = 0.30  # raw cosine below which a neighbour is not a candidate
    members_checked: int = 16  # members of a candidate claim scored against the newcomer
    near_copy: float = 0.95  # rapidfuzz ratio (0..1) of normalized texts for a near-copy
    near_copy_min_cosine: float = 0.80  # embedding neighbours worth a near-copy check
    lexical_weight: float = 0.50  # share of IDF-weighted word overlap in the pair score
    same_site_penalty: float = 0.15  # one article rarely says the same thing twice
    join: float = 0.45  # mean pair score to the claim's members needed to join it
    floor: float = 0.25  # no checked member may score below this
    # Crowded neighbourhoods ask for more: `join` rises by density_weight x (density -
    # density_center) when the newcomer's density (mean raw cosine of its nearest earlier
    # non-identical mentions) is above the center; it never falls below `join`.
    density_weight: float = 2.5
    density_center: float = 0.65
    density_neighbours: int = 10
    density_from: int = 512  # corpus size (engine position) from which the raise applies
    top_directions: int = 2  # principal directions removed besides the mean
    exact_search_limit: int = 16384  # corpus size from which neighbours come from an inverted file
    search_list_size: int = 128  # mentions per inverted list when the lists are trained
    search_probes: int = 16  # inverted lists scanned per mention
    # mismatch flags (evidence.py) that forbid an automatic near-copy or paraphrase merge
    vetoes: tuple[str, ...] = ("negation_mismatch", "antonym_mismatch", "number_mismatch",
                               "qualifier_mismatch", "lead_in")


CLAIM_SETTINGS = Settings()
# Questions are short and formulaic ("How does X affect Y?"): a little stricter.
QUESTION_SETTINGS = Settings(join=0.55, floor=0.40, same_site_penalty=0.15)


@dataclass(frozen=True, slots=True)
class Constraints:
    """Editor decisions the engine must respect, strongest first.

    fixed: (mention_id, claim_id) memberships that never move (an editor's pin or split).
    must_link: groups of mention ids that share one claim (an editor's merge).
    cannot_link: pairs of mention ids that never share a claim (an editor's split).
    cannot_link_groups: pairs of mention-id groups (A, B): no mention of A ever shares a claim
        with a mention of B (an editor's "no, these two claims differ": A and B are the two
        claims' members when the answer was given). The engine only refuses merges; it
        never moves a mention out of a claim because of this.
    """

    fixed: tuple[tuple[int, int], ...] = ()
    must_link: tuple[frozenset[int], ...] = ()
    cannot_link: tuple[tuple[int, int], ...] = ()
    cannot_link_groups: tuple[tuple[frozenset[int], frozenset[int]], ...] = ()

    @staticmethod
    def of(fixed: Mapping[int, int] | Iterable[tuple[int, int]] = (),
           must_link: Iterable[Iterable[int]] = (),
           cannot_link: Iterable[tuple[int, int]] = (),
           cannot_link_groups: Iterable[tuple[Iterable[int], Iterable[int]]] = ()) -> "Constraints":
        items = fixed.items() if isinstance(fixed, Mapping) else fixed
        return Constraints(tuple((int(m), int(c)) for m, c in items),
                           tuple(frozenset(int(x) for x in g) for g in must_link),
                           tuple((int(a), int(b)) for a, b in cannot_link),
                           tuple((frozenset(int(x) for x in a), frozenset(int(x) for x in b))
                                 for a, b in cannot_link_groups))
