"""Claims golds and cross-validation: figures on sites that were not fitted on.

Owns: finding ../shared; loading a gold of the partner-gold format (`claims.json` with its
seed folder) into the benchmark's mentions; pair scoring with the gold scorer's own rules
(score_claims.py: `norm`, `same`, `match`, `load_gold`), on all sites or only on the pairs
that touch some sites; and two ways to report anything fitted (thresholds, pair models,
classifiers) on text it was not fitted on:

- `leave_sites_out(gold, fit, cluster, k=...)`: the gold's sites are split into k folds; for
  each fold, `fit` sees only the other folds' sites (plus any `extra` golds, whole), then
  `cluster` places every mention of the gold, and only the pairs that touch a held-out site
  are scored. A pair between two folds is held out in both folds' runs and counts half in
  each, so every pair counts once in the pooled precision and recall.
- `cross_gold(train, test, fit, cluster)`: fit on one gold (all of it), score on the other.

The harness knows nothing about what is fitted: `fit(parts) -> model` receives a list of
`Part(gold, sites)` (the sites it may learn from) and `cluster(gold, model) -> {mention_id:
claim_id}` places the gold's mentions. The claims-review and label benchmarks use the same
folds (`site_folds`) so that every figure of one gold is held out the same way.

    from benchmarks._cv import default_golds, leave_sites_out
    partner, dev = default_golds()
    result = leave_sites_out(dev, fit, cluster, k=5, extra=(partner,))
    print(result.precision, result.recall)

Mentions: every sentence the gold scorer's splitter yields from the seed folder (headings and
questions dropped), minus the sentences the gold marks promotional (promotion is filtered
upstream of clustering, by the claims stage); `not_claims` sentences of a gold that lists
them stay in unless `drop_not_claims=True` (the label classifier is another stage: with them
in, the figures are those of a pipeline whose labels let every such sentence through).
Mention ids follow the seed files' order and the reading order inside each file, or
`site_order` when given (the partner gold's publication order).
"""
from __future__ import annotations

import importlib.util
import itertools
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterable, Mapping, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def find_shared() -> Path:
    """$SYNDICATE_SHARED, else ../shared of the checkout (from a git worktree one level
    deeper, the nearest ancestor's shared/ that holds the gold)."""
    if os.environ.get("SYNDICATE_SHARED"):
        return Path(os.environ["SYNDICATE_SHARED"])
    for parent in ROOT.parents:
        if (parent / "shared" / "gold" / "claims.json").is_file():
            return parent / "shared"
    return ROOT.parent / "shared"


SHARED = find_shared()
PARTNER_GOLD = SHARED / "gold" / "claims.json"
PARTNER_SEEDS = SHARED / "seeds"
PARTNER_ORDER = ("archway", "omnia", "alana", "civiq")  # the articles' publication order
DEV_GOLD = SHARED / "claims-dev" / "claims.json"
DEV_SEEDS = SHARED / "claims-dev" / "pages"


def load_scorer(gold_path: Path | None = None) -> ModuleType:
    """score_claims.py from the gold file's folder when it has one, else ../shared/gold."""
    path = gold_path.parent / "score_claims.py" if gold_path else None
    if path is None or not path.is_file():
        path = SHARED / "gold" / "score_claims.py"
    spec = importlib.util.spec_from_file_location("score_claims", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@dataclass(frozen=True)
class Gold:
    """A gold file, its seed sentences as mentions, and where each matches the gold."""

    name: str
    path: Path
    seeds: Path
    scorer: ModuleType = field(repr=False)
    mentions: tuple = field(repr=False)  # MentionInput, ids 1..n in benchmark order
    # mention index -> (P clusters, S clusters) of the gold sentence it matches
    gold_of: Mapping[int, tuple[frozenset[str], frozenset[str]]] = field(repr=False)
    # every gold P pair as (site of one, site of the other), matched or not
    gold_pair_sites: tuple[tuple[str, str], ...] = field(repr=False)
    # the gold P pairs whose two sentences both matched a mention: (index, index), i < j
    matched_gold_pairs: frozenset[tuple[int, int]] = field(repr=False)
    # mention index -> the kind of the gold's `not_claims` entry it matches
    not_claims: Mapping[int, str] = field(repr=False, default_factory=dict)

    @property
    def sites(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.site for m in self.mentions))

    def clusters_of(self, index: int) -> frozenset[str]:
        """The gold clusters (any role) of mention `index` (empty: a claim of its own or
        not a claim)."""
        p, s = self.gold_of.get(index, (frozenset(), frozenset()))
        return p | s

    def same(self, i: int, j: int) -> bool:
        """The gold's precision rule: two mentions may share a claim (any role in common)."""
        return bool(self.clusters_of(i) & self.clusters_of(j))


def load_gold(path: Path, seeds: Path, *, name: str | None = None,
              site_order: Sequence[str] = (), drop_not_claims: bool = False) -> Gold:
    """The gold at `path` with the sentences of its seed folder `seeds` as mentions."""
    from pipeline.types import MentionInput

    path, seeds = Path(path), Path(seeds)
    if not path.is_file() or not seeds.is_dir():
        raise FileNotFoundError(f"no gold file at {path} or no seed folder at {seeds}")
    scorer = load_scorer(path)
    sents, promo = scorer.load_gold(str(path))
    raw = json.loads(path.read_text("utf-8"))
    rows = [r for r in scorer.seed_sentences(str(seeds))
            if not any(site == r["site"] and scorer.same(t, scorer.norm(r["text"])) for site, t in promo)]
    nc_keys = [((x["site"], scorer.norm(x["text"])), x.get("kind", "other"))
               for x in raw.get("not_claims", [])]
    if drop_not_claims:
        rows = [r for r in rows if not any(site == r["site"] and scorer.same(t, scorer.norm(r["text"]))
                                           for (site, t), _ in nc_keys)]
    if site_order:
        rows.sort(key=lambda r: site_order.index(r["site"]) if r["site"] in site_order else len(site_order))
    mentions = tuple(MentionInput(i + 1, r["site"], r["text"]) for i, r in enumerate(rows))
    by_site: dict[str, list] = {}
    for i, m in enumerate(mentions):
        by_site.setdefault(m.site, []).append((i, scorer.norm(m.text)))
    # the scorer's own matching (first match wins, as in score_claims.evaluate)
    gold_of: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
    index_of_key: dict[tuple[str, str], int] = {}
    for key, d in sents.items():
        i = scorer.match(key, by_site)
        if i is not None:
            gold_of[i] = (frozenset(d["P"]), frozenset(d["S"]))
            index_of_key[key] = i
    keys = list(sents)
    pair_sites = tuple((a[0], b[0]) for a, b in itertools.combinations(keys, 2)
                       if sents[a]["P"] & sents[b]["P"])
    matched = frozenset((i, j) for i, j in itertools.combinations(sorted(gold_of), 2)
                        if gold_of[i][0] & gold_of[j][0])
    not_claims = {}
    for key, kind in nc_keys:
        i = scorer.match(key, by_site)
        if i is not None:
            not_claims[i] = kind
    return Gold(name or path.parent.name, path, seeds, scorer, mentions, gold_of, pair_sites,
                matched, not_claims)


def partner_gold(**kw) -> Gold:
    """The four partner articles (../shared/gold), mentions in publication order."""
    return load_gold(PARTNER_GOLD, PARTNER_SEEDS, name="partner", site_order=PARTNER_ORDER, **kw)


def claims_dev(**kw) -> Gold:
    """20 pages of other centers (../shared/claims-dev), mentions in seed-file order."""
    return load_gold(DEV_GOLD, DEV_SEEDS, name="claims-dev", **kw)


def default_golds(**kw) -> tuple[Gold, Gold]:
    """(partner gold, claims-dev): what every claims benchmark prints side by side."""
    return partner_gold(**kw), claims_dev(**kw)


# --- scoring ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PairScore:
    """Pair precision and recall, with their weighted counts (held-out pairs of two folds
    count half in each)."""

    correct: float  # predicted pairs the gold allows
    predicted: float
    hit: float  # gold P pairs placed in one claim
    gold: float  # gold P pairs (matched or not)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.hit / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: "PairScore") -> "PairScore":
        return PairScore(self.correct + other.correct, self.predicted + other.predicted,
                         self.hit + other.hit, self.gold + other.gold)

    def as_dict(self) -> dict:
        return {"pair_precision": round(self.precision, 3), "pair_recall": round(self.recall, 3),
                "pair_f1": round(self.f1, 3), "pred_pairs": round(self.predicted, 1),
                "correct_pairs": round(self.correct, 1), "gold_pairs": round(self.gold, 1),
                "hit_pairs": round(self.hit, 1)}


def predicted_pairs(gold: Gold, claim_of: Mapping[int, int]) -> set[tuple[int, int]]:
    """Mention-index pairs (i < j) that share a claim."""
    groups: dict[int, list[int]] = {}
    for i, m in enumerate(gold.mentions):
        cid = claim_of.get(m.mention_id)
        if cid is not None:
            groups.setdefault(cid, []).append(i)
    out: set[tuple[int, int]] = set()
    for members in groups.values():
        out.update(itertools.combinations(sorted(members), 2))
    return out


def score(gold: Gold, claim_of: Mapping[int, int], *,
          weight: Callable[[str, str], float] | None = None) -> PairScore:
    """Pair precision/recall of a placement {mention_id: claim_id}, by the gold scorer's
    rules. `weight(site_a, site_b)` weighs each pair (0 leaves it out); all pairs weigh 1
    by default, and the figures then equal score_claims.evaluate's."""
    w = weight or (lambda a, b: 1.0)
    ms = gold.mentions
    pred = predicted_pairs(gold, claim_of)
    correct = predicted = hit = 0.0
    for i, j in pred:
        x = w(ms[i].site, ms[j].site)
        predicted += x
        if gold.same(i, j):
            correct += x
    for i, j in gold.matched_gold_pairs:
        if (i, j) in pred:
            hit += w(ms[i].site, ms[j].site)
    total = sum(w(a, b) for a, b in gold.gold_pair_sites)
    return PairScore(correct, predicted, hit, total)


def wrong_pairs(gold: Gold, claim_of: Mapping[int, int]) -> list[tuple[int, int]]:
    """The predicted pairs the gold counts as wrong (mention indices), for inspection."""
    return sorted((i, j) for i, j in predicted_pairs(gold, claim_of) if not gold.same(i, j))


# --- cross-validation ---------------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """What a fit may learn from: the mentions of `sites` of `gold` (all sites when None)."""

    gold: Gold
    sites: frozenset[str] | None = None

    def indices(self) -> list[int]:
        return [i for i, m in enumerate(self.gold.mentions) if self.sites is None or m.site in self.sites]


def site_folds(sites: Iterable[str], k: int) -> list[frozenset[str]]:
    """k folds of sites, deterministic: sorted names dealt round-robin (k is capped at the
    number of sites, so k >= len(sites) is leave-one-site-out)."""
    names = sorted(set(sites))
    k = max(1, min(k, len(names)))
    return [frozenset(names[f::k]) for f in range(k)]


@dataclass(frozen=True)
class CVResult:
    """Pooled held-out figures and each fold's own."""

    pooled: PairScore
    folds: tuple[tuple[frozenset[str], PairScore], ...]

    @property
    def precision(self) -> float:
        return self.pooled.precision

    @property
    def recall(self) -> float:
        return self.pooled.recall


def held_out_weight(fold: frozenset[str], folds: Sequence[frozenset[str]]) -> Callable[[str, str], float]:
    """Pairs touching `fold` weigh 1/(number of folds they touch); others 0."""
    where = {s: f for f, sites in enumerate(folds) for s in sites}

    def weight(a: str, b: str) -> float:
        if a not in fold and b not in fold:
            return 0.0
        return 1.0 if where.get(a) == where.get(b) else 0.5
    return weight


def leave_sites_out(gold: Gold, fit: Callable[[list[Part]], object],
                    cluster: Callable[[Gold, object], Mapping[int, int]], *, k: int = 5,
                    extra: Sequence[Gold] = ()) -> CVResult:
    """k-fold cross-validation over the gold's sites (see the module docstring); `extra`
    golds are added whole to every fold's training parts."""
    folds = site_folds(gold.sites, k)
    total = PairScore(0, 0, 0, 0)
    per = []
    for fold in folds:
        parts = [Part(gold, frozenset(gold.sites) - fold)] + [Part(g) for g in extra]
        model = fit(parts)
        s = score(gold, cluster(gold, model), weight=held_out_weight(fold, folds))
        per.append((fold, s))
        total = total + s
    return CVResult(total, tuple(per))


def cross_gold(train: Gold, test: Gold, fit: Callable[[list[Part]], object],
               cluster: Callable[[Gold, object], Mapping[int, int]]) -> PairScore:
    """Fit on all of `train`, score on all of `test`."""
    return score(test, cluster(test, fit([Part(train)])))


def in_sample(gold: Gold, fit: Callable[[list[Part]], object],
              cluster: Callable[[Gold, object], Mapping[int, int]], *,
              extra: Sequence[Gold] = ()) -> PairScore:
    """Fit on all of `gold` (and `extra`), score on `gold`: the optimistic figure."""
    return score(gold, cluster(gold, fit([Part(gold)] + [Part(g) for g in extra])))
