"""What the clustering engine is told: the knobs of its decision (`Settings`), the calibrated
automatic merge decision (`MERGE_MODEL`) and the editor decisions it must respect
(`Constraints`). Plain values, no behaviour.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from .features import MergeModel

# The automatic paraphrase decision for claims: a logistic pair probability over the
# topic-removed cosine, the IDF word overlap (a leading "Label:" left out) and "same partner",
# and the probability a newcomer needs on average over a claim's checked members.
# Fitted by `python benchmarks/merge_model.py` on BOTH golds in ../shared (the four partner
# articles and claims-dev, all sites): weights by L2 logistic regression on the engine's own
# candidate pairs, threshold the lowest at which clustering keeps pair precision >= 0.95 on
# the two golds pooled (0.9 is asked; the rest is the margin for unseen sites). Its figures on
# these golds are therefore in-sample; held-out figures (leave-sites-out, across golds) are
# printed by that script and in docs/dedupe.md. `--check` tells whether this equals the fit.
MERGE_MODEL = MergeModel(names=("cos", "lex", "same_site"), weights=(2.397, 6.7851, -0.3624),
                         bias=-3.669, threshold=0.82, floor=0.41)
# What vetoes a merge (evidence.py): opposite meaning (negation, antonyms), another group or
# setting (scope), another time span named by both, a list lead-in. Another figure for the
# same thing is no veto: it is one claim with conflicting figures (conflicts.py flags them).
CLAIM_VETOES = ("negation_mismatch", "antonym_mismatch", "scope_mismatch", "time_conflict",
                "lead_in")


@dataclass(frozen=True, slots=True)
class Settings:
    """Knobs of the decision. The hand thresholds (join, floor, lexical_weight,
    same_site_penalty) decide when `merge_model` is None (FAQ questions; claims before the
    merge model); see docs/dedupe.md for how each was chosen."""

    neighbours: int = 24  # nearest earlier mentions (raw cosine) whose claims are candidates
    candidate_floor: float = 0.30  # raw cosine below which a neighbour is not a candidate
    members_checked: int = 16  # members of a candidate claim scored against the newcomer
    near_copy: float = 0.95  # rapidfuzz ratio (0..1) of normalized texts for a near-copy
    near_copy_min_cosine: float = 0.80  # embedding neighbours worth a near-copy check
    # A near-copy keeps every content word of the shorter text: a copy adds a tail, changes
    # punctuation or a small word. Two texts within `near_copy` that swap one content word
    # for another ("Eating sugar predicts the risk of depression in shift workers." /
    # "... protects the risk ...", ratio 0.97) state two things: such a pair is left to the
    # paraphrase decision, which weighs the whole claim. (Without this check the generator
    # of benchmarks/dedup_scale.py had more such look-alikes to "copy" the larger it grew.)
    near_copy_keeps_words: bool = True
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
    # with a merge model: its threshold rises by this much on the logit scale per unit of
    # density above the center
    density_logit_weight: float = 20.0
    top_directions: int = 2  # principal directions removed besides the mean
    exact_search_limit: int = 16384  # corpus size from which neighbours come from an inverted file
    search_list_size: int = 128  # mentions per inverted list when the lists are trained
    search_probes: int = 16  # inverted lists scanned per mention
    # mismatch flags (evidence.py) that forbid an automatic near-copy or paraphrase merge
    vetoes: tuple[str, ...] = ("negation_mismatch", "antonym_mismatch", "number_mismatch",
                               "qualifier_mismatch", "lead_in")
    # the vetoes when a pair model fitted from editor answers decides (`pair_model=`): such a
    # model has seen few pairs that differ in a figure or a qualifier, and on claims-dev,
    # without these two vetoes, its re-clustering after 20 answers merged pairs at
    # precision 0.41-0.57 (benchmarks/review_sim.py); with them, 1.000
    model_vetoes: tuple[str, ...] = ("negation_mismatch", "antonym_mismatch", "number_mismatch",
                                     "qualifier_mismatch", "lead_in")
    # the calibrated automatic decision for paraphrases (features.MergeModel); None: the hand
    # `join`/`floor` over the mixed score `lexical_weight`, `same_site_penalty`
    merge_model: MergeModel | None = None


CLAIM_SETTINGS = Settings(vetoes=CLAIM_VETOES, merge_model=MERGE_MODEL)
# Questions are short and formulaic ("How does X affect Y?"): the hand thresholds, a little
# stricter.
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
