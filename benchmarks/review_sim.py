"""The editor's effort: the review queue answered by a simulated editor who knows a gold file.

    python benchmarks/review_sim.py                      # the partner gold and claims-dev, side by side
    python benchmarks/review_sim.py --gold FILE --seeds DIR [--items N] [--every K] [--json]
    python benchmarks/review_sim.py --fit-prior --gold FILE --seeds DIR   # print a prior fitted on FILE
    python benchmarks/review_sim.py --reach [--gold FILE --seeds DIR]     # gold pairs the candidates reach
    python benchmarks/review_sim.py --oracle [--gold FILE --seeds DIR]    # the headroom of ranking
    python benchmarks/review_sim.py --neighbours 18                       # another path (path noise)

Mentions: every sentence of the seeds (split with the gold scorer's own splitter, headings
and questions dropped), ids in the seed files' order, labelled by the label stage
(`label_sentence`, the one adapter to the sentence labeller). Those it labels `claim` are
clustered by the engine as a run would; the others are kept out of the claims, as a run
keeps them out. Then the queue (pipeline.review) asks its questions one at a time.

The simulated editor:
- answers "not a claim" (one item) for a sentence its gold lists as promotional or in
  `not_claims`: it leaves the claims for good;
- otherwise, for each candidate of a question, in order, answers "yes" when merging it into
  the anchor (with the candidates already accepted) creates no pair of mentions that the
  gold's precision rule counts as wrong (the two share no gold cluster, any role), "no"
  otherwise. It never skips. A pair question is one item, a group question with k
  candidates k items.
Each answer is applied as the CLI applies it ("yes": the claims become one; "no": a
cannot-link between the merged groups), the queue's model is refitted from the answers so
far, and every `--every` items is a session's end: the engine's pair model is refitted and,
once there is one, the claims are re-clustered with it under the editor's decisions.

Printed: items judged, screens, pair precision and recall (the gold scorer's own
`evaluate`), where the items went (per 50 items: screens, candidates per screen, the
anchor's size, yes / no / "not a claim"), and a reliability table: the P(same) shown for each judged candidate, in
bins, against how often the editor said yes, with the expected calibration error (ECE).

What is fitted on what: the queue's prior (pipeline/review/model.py PRIOR) is fitted on the
partner gold. Scoring a gold with a prior fitted on it would be in-sample, so by default a
gold is scored with a prior fitted on the other gold (`--prior-gold`): claims-dev with the
shipped prior (the partner gold's), the partner gold with one fitted here on claims-dev.
The queue's knobs (neighbours, group size, the prior's strength) were chosen on the partner
gold; how P(same) of two claims combines their sentence pairs (pipeline/review/queue.py)
was chosen on claims-dev and checked on the partner gold. Nothing here is keyed to one gold: any file of the same format (clusters of
site/text/role mentions, promotional sentences, optional not_claims) with its seed folder
works. The gold's scorer module is taken from the gold file's folder when it has one,
otherwise from ../shared/gold.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "benchmarks"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from _cv import SHARED, load_scorer  # noqa: E402

GOLD = SHARED / "gold" / "claims.json"
SEEDS = SHARED / "seeds"
DEV_GOLD = SHARED / "claims-dev" / "claims.json"
DEV_SEEDS = SHARED / "claims-dev" / "pages"
CHECKPOINTS = (0, 50, 100, 150, 200, 250, 300)
BINS = 10


# --- the one adapter to the sentence labeller ------------------------------------------------

def label_sentence(text: str, *, site_names: Sequence[str]) -> str:
    """The label stage's kind for one sentence given as plain text ("claim", "promo",
    "other", ...), with the names its site goes by (for self-promotion). Switch to the
    label classifier's text-only entry point here, and only here."""
    from pipeline.extract._labels import Partner, classify

    return str(classify(text, block="p", partner=Partner.from_names(list(site_names))))


def site_names(seeds: Path) -> dict[str, list[str]]:
    """The names each site goes by: from a manifest.json beside the seed folder (its
    `center` and `site_name`) when there is one; otherwise the site id, capitalised."""
    manifest = seeds.parent / "manifest.json"
    if not manifest.is_file():
        return {}
    pages = json.loads(manifest.read_text("utf-8")).get("pages", [])
    return {p["slug"]: [n for n in (p.get("center"), p.get("site_name")) if n] for p in pages if "slug" in p}


@dataclass
class Corpus:
    """The seed sentences of one gold, labelled, with what the gold says of each."""

    mentions: list  # MentionInput of every seed sentence, ids in seed order
    labels: dict[int, str]  # mention id -> the label stage's kind
    editor: "GoldEditor"


def load_corpus(gold: Path, seeds: Path, scorer=None) -> Corpus:
    from pipeline.types import MentionInput

    scorer = scorer or load_scorer(gold)
    names = site_names(seeds)
    rows = scorer.seed_sentences(str(seeds))
    mentions = [MentionInput(i + 1, r["site"], r["text"]) for i, r in enumerate(rows)]
    labels = {m.mention_id: label_sentence(m.text, site_names=names.get(m.site, [m.site.title()]))
              for m in mentions}
    return Corpus(mentions, labels, GoldEditor(scorer, gold, mentions))


class GoldEditor:
    """Answers from the gold: the scorer's matching and precision rule, and its promotional
    and not_claims lists, nothing else."""

    def __init__(self, scorer, gold: Path, mentions) -> None:
        sents, promo = scorer.load_gold(str(gold))
        data = json.loads(Path(gold).read_text("utf-8"))
        not_claims = {(m["site"], scorer.norm(m["text"])) for m in data.get("not_claims", [])}
        by_site: dict[str, list] = {}
        for i, m in enumerate(mentions):
            by_site.setdefault(m.site, []).append((i, scorer.norm(m.text)))
        self.clusters: dict[int, set[str]] = {}  # mention id -> gold clusters (any role)
        self.main: dict[int, set[str]] = {}  # mention id -> gold clusters it is P in
        for key, d in sents.items():
            i = scorer.match(key, by_site)
            if i is not None:
                self.clusters[mentions[i].mention_id] = d["P"] | d["S"]
                self.main[mentions[i].mention_id] = set(d["P"])
        self.not_claims: set[int] = set()
        for key in promo | not_claims:
            i = scorer.match(key, by_site)
            if i is not None and mentions[i].mention_id not in self.clusters:
                self.not_claims.add(mentions[i].mention_id)

    def right_pair(self, a: int, b: int) -> bool:
        return bool(self.clusters.get(a, set()) & self.clusters.get(b, set()))

    def same(self, left: Sequence[int], right: Sequence[int]) -> bool:
        return all(self.right_pair(x, y) for x in left for y in right)


@dataclass
class Run:
    """One simulation: the curve (a point every K items) and every judged candidate's
    shown P(same) with the editor's verdict."""

    gold: str
    curve: list[dict] = field(default_factory=list)
    judged: list[tuple[float, bool]] = field(default_factory=list)
    # one row per screen: the anchor's size, the candidates shown, and what the editor said
    screens: list[dict] = field(default_factory=list)

    def reliability(self, bins: int = BINS) -> list[dict]:
        return reliability(self.judged, bins)

    def ece(self) -> float:
        return expected_calibration_error(self.judged)


def reliability(judged: Sequence[tuple[float, bool]], bins: int = BINS) -> list[dict]:
    """Bins of shown P(same) with how many candidates fell in each, their mean P and the
    share the editor said yes to."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        got = [(p, y) for p, y in judged if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        out.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(got),
                    "mean_p": round(sum(p for p, _ in got) / len(got), 3) if got else None,
                    "yes_rate": round(sum(y for _, y in got) / len(got), 3) if got else None})
    return out


def expected_calibration_error(judged: Sequence[tuple[float, bool]], bins: int = BINS) -> float:
    n = len(judged)
    if not n:
        return 0.0
    return round(sum(r["n"] / n * abs(r["mean_p"] - r["yes_rate"]) for r in reliability(judged, bins) if r["n"]), 4)


def labelled_pairs(corpus: Corpus, embedder=None, vectors=None):
    """(evidence, same) of every candidate pair of single sentences the queue would
    consider among the gold's claim sentences: the data a prior is fitted on."""
    from pipeline.dedupe import embed_mentions
    from pipeline.review import ReviewQueue

    pool = [m for m in corpus.mentions if m.mention_id in corpus.editor.clusters
            or (corpus.labels[m.mention_id] == "claim" and m.mention_id not in corpus.editor.not_claims)]
    vectors = vectors or embed_mentions(pool, embedder=embedder)
    queue = ReviewQueue("claim", pool, vectors)
    ids = [m.mention_id for m in queue.corpus.mentions]
    evidence, labels = [], []
    for i, j in queue._mention_candidates():
        evidence.append(queue.corpus.mean_evidence([i], [j]))
        labels.append(corpus.editor.right_pair(ids[i], ids[j]))
    return evidence, labels


def fitted_prior(gold: Path, seeds: Path, embedder=None) -> dict:
    from pipeline.review import fit_prior

    evidence, labels = labelled_pairs(load_corpus(gold, seeds), embedder)
    return fit_prior(evidence, labels)


def other_gold(gold: Path) -> tuple[Path, Path] | None:
    """The gold a prior for GOLD is fitted on: the other of the two shared golds. None: the
    shipped prior (fitted on the partner gold) serves."""
    if gold.resolve() == GOLD.resolve():
        return DEV_GOLD, DEV_SEEDS
    return None


def simulate(gold: Path = GOLD, seeds: Path = SEEDS, *, items: int = 300, every: int = 10,
             embedder=None, on_point=None, engine_model_used: bool = True, prior: dict | None = None,
             groups: bool = False, queue_options: dict | None = None,
             prior_answers: float | None = None, singletons: bool = False,
             pool_from_gold: bool = False, oracle: bool = False) -> Run:
    """Run the loop until `items` items are judged; a point every `every` items.

    `prior`: the queue's prior ({weights, bias, scale}); default the shipped one.
    `prior_answers`: its weight in answers (default the queue's). `queue_options`: the
    queue's knobs (neighbours, group_max, lookahead). For comparisons only:
    `singletons=True` starts from every sentence its own claim (no automatic merges);
    `pool_from_gold=True` clusters every seed sentence but the gold's promotional and
    not_claims ones instead of what the label stage keeps (the pool of the old simulator);
    `oracle=True` asks, instead of the queue's choice, the open candidate pair the gold says
    yes to that joins the most gold pairs at once (the headroom of ranking: `--oracle`)."""
    from pipeline.dedupe import ClaimState, Constraints, PairContext, cluster_claims, embed_mentions, rebuild
    from pipeline.review import Answer, ReviewQueue, engine_model, prior_model, refit

    scorer = load_scorer(gold)
    corpus = load_corpus(gold, seeds, scorer)
    editor = corpus.editor
    if pool_from_gold:  # the old way: every seed sentence but the gold's promotional ones
        pool = [m for m in corpus.mentions if m.mention_id not in editor.not_claims]
    else:
        pool = [m for m in corpus.mentions if corpus.labels[m.mention_id] == "claim"]
    by_id = {m.mention_id: m for m in pool}
    vectors = embed_mentions(pool, embedder=embedder)
    if singletons:
        claim_of = {m.mention_id: k + 1 for k, m in enumerate(pool)}
    else:
        memberships = cluster_claims([], pool, next_claim_id=1, embeddings=dict(vectors), embedder=embedder)
        claim_of = {m.mention_id: m.claim_id for m in memberships}
    hidden: set[int] = set()
    run = Run(str(gold))
    counts = {"items": 0, "answers": 0, "yes": 0, "no": 0, "hidden": 0, "engine_models": 0}

    def states():
        groups_: dict[int, list] = {}
        for mid, cid in sorted(claim_of.items()):
            groups_.setdefault(cid, []).append(by_id[mid])
        return [ClaimState(cid, tuple(ms)) for cid, ms in sorted(groups_.items())]

    def score():
        rows = [{"site": m.site, "text": m.text,
                 "kind": "claim" if m.mention_id in claim_of else "other",
                 "claim_id": claim_of.get(m.mention_id)} for m in corpus.mentions]
        r = scorer.evaluate(rows, str(gold))
        point = {**counts, "pair_precision": r["pair_precision"], "pair_recall": r["pair_recall"],
                 "pred_pairs": r["pred_pairs"], "gold_pairs": r["gold_pairs"]}
        run.curve.append(point)
        if on_point:
            on_point(point)

    context = PairContext.build(pool, embeddings=dict(vectors)) if engine_model_used else None
    queue = ReviewQueue("claim", pool, vectors, context=context, **(queue_options or {}))
    base = prior_model(prior, **({"answers_worth": prior_answers} if prior_answers else {}))
    model = base
    given: list[Answer] = []
    fixed: dict[int, int] = {}
    apart: list[tuple[frozenset[int], frozenset[int]]] = []
    stored_model = None
    score()

    def end_of_session():
        nonlocal claim_of, stored_model
        fitted = engine_model(given, "claim") if engine_model_used else None
        if fitted is None or fitted == stored_model:
            return
        stored_model = fitted
        counts["engine_models"] += 1
        ms = rebuild(states(), next_claim_id=max(claim_of.values()) + 1, embeddings=dict(vectors),
                     embedder=embedder, pair_model=fitted,
                     constraints=Constraints.of(fixed=fixed, cannot_link_groups=apart))
        claim_of = {m.mention_id: m.claim_id for m in ms}

    def hide(mids) -> None:
        for mid in mids:
            hidden.add(mid)
            claim_of.pop(mid, None)
            fixed.pop(mid, None)
        given.append(Answer("claim", tuple(sorted(mids)), (), "not-claim"))
        counts["items"] += 1
        counts["hidden"] += len(mids)

    next_point = every
    while counts["items"] < items:
        qs = (oracle_question(queue, states(), given, model, apart, editor) if oracle
              else queue.ask(states(), given, model, limit=1, apart=apart, groups=groups))
        if not qs:
            break
        q = qs[0]
        counts["answers"] += 1
        anchor = [m.mention_id for m in q.anchor.members]
        bad = [m for m in anchor if m in editor.not_claims]
        screen = {"anchor": len(anchor), "shown": len(q.candidates), "yes": 0, "no": 0, "hidden": 0,
                  "p": [c.p_same for c in q.candidates]}
        run.screens.append(screen)
        if bad:  # the anchor is no claim: nothing else on the screen is judged
            hide(bad)
            screen["hidden"] += 1
        else:
            group = list(anchor)
            keep = q.anchor.claim_id
            noes = []
            for c in q.candidates:
                if counts["items"] >= items:
                    break
                right = [m.mention_id for m in c.claim.members]
                bad = [m for m in right if m in editor.not_claims]
                if bad:
                    hide(bad)
                    screen["hidden"] += 1
                    continue
                yes = editor.same(group, right)
                given.append(Answer("claim", tuple(anchor), tuple(right), "yes" if yes else "no", c.evidence))
                run.judged.append((c.p_same, yes))
                counts["items"] += 1
                counts["yes" if yes else "no"] += 1
                screen["yes" if yes else "no"] += 1
                if yes:
                    group.extend(right)
                    keep = min(keep, c.claim.claim_id)
                else:
                    noes.append(right)
            for mid in group:
                claim_of[mid] = keep
                fixed[mid] = keep
            for right in noes:  # "no" to the anchor is "no" to every claim merged with it
                apart.append((frozenset(group), frozenset(right)))
        model = refit(given, "claim", base)
        while counts["items"] >= next_point:
            end_of_session()
            score()
            next_point += every
    if run.curve[-1]["items"] != counts["items"]:
        score()
    return run


def oracle_question(queue, claims, answers, model, apart, editor) -> list:
    """The question an editor who knew the gold would want next: among the queue's open
    candidate pairs, one the gold says yes to, joining the most gold P pairs at once (ties:
    the queue's order). [] when no candidate pair is right. An upper bound on what ranking
    alone can give, within the queue's candidates (greedy, so not the exact optimum)."""
    from pipeline.review import Candidate, Question

    by_id = {c.claim_id: c for c in claims}
    best, best_pairs = None, 0
    for row in queue.scored_pairs(claims, answers, model, apart):
        _, x, y, p, e = row
        left = [m.mention_id for m in by_id[x].members]
        right = [m.mention_id for m in by_id[y].members]
        if not editor.same(left, right):
            continue
        pairs = sum(bool(editor.main.get(a, set()) & editor.main.get(b, set())) for a in left for b in right)
        if best is None or pairs > best_pairs:
            best, best_pairs = row, pairs
    if best is None:
        return []
    gain, x, y, p, e = best
    anchor, other = by_id[x], by_id[y]
    return [Question(queue.kind, anchor, (Candidate(other, p, len(anchor.members) * len(other.members), gain, e),))]


def reach(gold: Path, seeds: Path, *, neighbours: Sequence[int] = (10, 20, 30), embedder=None) -> list[dict]:
    """Candidate generation: of the gold P pairs whose two sentences the label stage keeps,
    how many are candidate pairs of the queue at once (`direct`), and how many a chain of
    "yes" answers to candidate pairs can join (`reachable`: the candidate pairs the gold
    allows, closed under transitivity). The gold's P pairs in all: `gold_pairs`."""
    import itertools

    from pipeline.dedupe import embed_mentions
    from pipeline.review import ReviewQueue

    corpus = load_corpus(gold, seeds)
    editor = corpus.editor
    pool = [m for m in corpus.mentions if corpus.labels[m.mention_id] == "claim"]
    kept = {m.mention_id for m in pool}
    main = editor.main
    gold_pairs = [(a, b) for a, b in itertools.combinations(sorted(main), 2) if main[a] & main[b]]
    in_pool = [(a, b) for a, b in gold_pairs if a in kept and b in kept]
    vectors = embed_mentions(pool, embedder=embedder)
    out = []
    for k in neighbours:
        queue = ReviewQueue("claim", pool, vectors, neighbours=k)
        ids = [m.mention_id for m in queue.corpus.mentions]
        cands = {(ids[i], ids[j]) for i, j in queue._mention_candidates()}
        cands |= {(b, a) for a, b in cands}
        parent: dict[int, int] = {}

        def root(x: int) -> int:
            while parent.get(x, x) != x:
                x = parent[x]
            return x
        for a, b in sorted(cands):
            if editor.right_pair(a, b):
                parent[root(a)] = root(b)
        out.append({"neighbours": k, "candidate_pairs": len(cands) // 2,
                    "gold_pairs_matched": len(gold_pairs), "gold_pairs_kept": len(in_pool),
                    "direct": sum((a, b) in cands for a, b in in_pool),
                    "reachable": sum(root(a) == root(b) for a, b in in_pool)})
    return out


def where_items_went(run: Run, window: int = 50) -> list[dict]:
    """The screens in windows of `window` items: screens, candidates shown per screen, the
    anchor's size, and the items answered yes, no and "not a claim"."""
    out: dict[int, dict] = {}
    done = 0
    for sc in run.screens:
        w = out.setdefault(done // window, {"items": f"{done // window * window}-{done // window * window + window - 1}",
                                            "screens": 0, "shown": 0, "anchor": 0, "yes": 0, "no": 0, "hidden": 0})
        done += sc["yes"] + sc["no"] + sc["hidden"]
        w["screens"] += 1
        for k in ("shown", "anchor", "yes", "no", "hidden"):
            w[k] += sc[k]
    for w in out.values():
        w["shown"] = round(w["shown"] / w["screens"], 2)
        w["anchor"] = round(w["anchor"] / w["screens"], 2)
    return [out[k] for k in sorted(out)]


def _best(curve: Sequence[dict], budget: int, precision: float = 0.95) -> float:
    return max((p["pair_recall"] for p in curve if p["items"] <= budget and p["pair_precision"] >= precision),
               default=0.0)


def _at(curve: Sequence[dict], items: int) -> dict:
    """The last point at or before `items` items."""
    return [p for p in curve if p["items"] <= items][-1]


def _print_runs(runs: Sequence[tuple[str, Run]]) -> None:
    head = f"{'items':>6}" + "".join(f" | {name[:28]:>28}" for name, _ in runs)
    print(head)
    print(f"{'':>6}" + "".join(f" | {'screens  yes  precision recall':>28}" for _ in runs))
    for n in CHECKPOINTS:
        line = f"{n:>6}"
        for _, run in runs:
            p = _at(run.curve, n)
            line += f" | {p['answers']:>7} {p['yes']:>4} {p['pair_precision']:>10.3f} {p['pair_recall']:>6.3f}"
        print(line)
    for name, run in runs:
        print(f"\n{name}: best recall at precision >= 0.95 within 150 items {_best(run.curve, 150):.3f}, "
              f"within 300 {_best(run.curve, 300):.3f}; {len(run.judged)} candidates judged yes/no, "
              f"{run.curve[-1]['hidden']} sentences hidden as not a claim, "
              f"{run.curve[-1]['engine_models']} engine models fitted from the answers re-clustered the claims")
        print("  where the items went (windows of 50 items; shown: candidates per screen; anchor: its sentences)")
        for w in where_items_went(run):
            print(f"  {w['items']:>9}: {w['screens']:>3} screens, shown {w['shown']:.2f}, anchor {w['anchor']:.2f}, "
                  f"yes {w['yes']:>3}, no {w['no']:>3}, not a claim {w['hidden']:>2}")
        print(f"  reliability (shown P(same) against the editor's yes rate), ECE {run.ece():.3f}")
        print(f"  {'bin':>9} {'n':>5} {'mean P':>7} {'yes rate':>9}")
        for r in run.reliability():
            if r["n"]:
                print(f"  {r['bin']:>9} {r['n']:>5} {r['mean_p']:>7.3f} {r['yes_rate']:>9.3f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gold", type=Path, help="gold file (default: the partner gold and claims-dev)")
    ap.add_argument("--seeds", type=Path, help="the gold's seed folder")
    ap.add_argument("--items", type=int, default=300, help="items the editor judges")
    ap.add_argument("--every", type=int, default=10, help="a point (and a session's end) every K items")
    ap.add_argument("--json", action="store_true", help="print the runs as JSON only")
    ap.add_argument("--no-engine-model", action="store_true",
                    help="never re-cluster with the pair model fitted from the answers")
    ap.add_argument("--groups", action="store_true",
                    help="also ask group questions (\"which of these say the same as A?\"); default pair questions "
                         "only, as the review asks them")
    ap.add_argument("--prior", choices=("cross", "shipped"), default="cross",
                    help="cross (default): a gold is scored with a prior fitted on the other gold; "
                         "shipped: the shipped prior (in-sample on the partner gold)")
    ap.add_argument("--neighbours", type=int, default=None,
                    help="the queue's candidate neighbours (default the queue's, 20): another value is another "
                         "path through the same method, to tell a change from path noise")
    ap.add_argument("--oracle", action="store_true",
                    help="ask what the gold says yes to, most gold pairs first: the headroom of ranking")
    ap.add_argument("--fit-prior", action="store_true", help="print the prior fitted on --gold and stop")
    ap.add_argument("--reach", action="store_true",
                    help="print how many gold pairs the queue's candidates can reach, and stop")
    a = ap.parse_args(argv)
    if (a.gold is None) != (a.seeds is None):
        print("give --gold and --seeds together", file=sys.stderr)
        return 2
    golds = [(a.gold, a.seeds)] if a.gold else [(GOLD, SEEDS), (DEV_GOLD, DEV_SEEDS)]
    for gold, seeds in golds:
        if not gold.is_file() or not seeds.is_dir():
            print(f"no gold file at {gold} or no seed folder at {seeds}", file=sys.stderr)
            return 2
    if a.fit_prior:
        print(json.dumps(fitted_prior(*golds[0]), indent=2))
        return 0
    if a.reach:
        for gold, seeds in golds:
            for row in reach(gold, seeds):
                print(gold.parent.name, json.dumps(row))
        return 0
    t0 = time.perf_counter()
    runs = []
    for gold, seeds in golds:
        other = other_gold(gold) if a.prior == "cross" else None
        prior = fitted_prior(*other) if other and other[0].is_file() else None
        name = gold.parent.name
        if not a.json:
            print(f"{name}: prior {'fitted on ' + other[0].parent.name if prior else 'shipped (partner gold)'}",
                  flush=True)
        runs.append((name, simulate(gold, seeds, items=a.items, every=a.every, prior=prior,
                                    engine_model_used=not a.no_engine_model, groups=a.groups,
                                    oracle=a.oracle,
                                    queue_options={"neighbours": a.neighbours} if a.neighbours else None)))
    if a.json:
        print(json.dumps([{"gold": name, "curve": run.curve, "reliability": run.reliability(), "ece": run.ece(),
                           "screens": where_items_went(run)}
                          for name, run in runs]))
        return 0
    _print_runs(runs)
    print(f"\n{time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
