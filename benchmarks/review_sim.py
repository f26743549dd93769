"""The editor's effort: the review queue answered by a simulated editor who knows a gold file.

    python benchmarks/review_sim.py [--gold FILE] [--seeds DIR] [--answers N] [--every K] [--json]

Mentions: every sentence of the seeds (split with the gold scorer's own splitter, headings
and questions dropped) minus the sentences the gold marks promotional, as in
dedup_quality.py; ids follow the seed files' order. They are clustered by the engine as
a run would, then the queue (pipeline.review) asks its questions one at a time.

The simulated editor answers "yes" when merging the two claims creates no pair of mentions
that the gold's precision rule counts as wrong (the two do not share a gold cluster, any
role), "no" otherwise; it never skips. Each answer is applied as the CLI applies it
("yes": the two claims become one; "no": a cannot-link), and the pair model is refitted
from the answers so far. Pair precision and recall (the gold scorer's own `evaluate`)
are printed after every K answers.

Nothing here is keyed to one gold: any file of the same format (clusters of site/text/role
mentions, promotional sentences) with its seed folder works. The gold's scorer module is
taken from the gold file's folder when it has one, otherwise from ../shared/gold.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p / "shared" for p in ROOT.parents if (p / "shared" / "gold").is_dir()),
              ROOT.parent / "shared")  # ../shared (from a git worktree: the nearest ancestor's)
GOLD = SHARED / "gold" / "claims.json"
SEEDS = SHARED / "seeds"
CHECKPOINTS = (10, 50, 100, 150, 200, 300)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def load_scorer(gold: Path):
    path = gold.parent / "score_claims.py"
    if not path.is_file():
        path = SHARED / "gold" / "score_claims.py"
    spec = importlib.util.spec_from_file_location("score_claims", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def gold_mentions(scorer, gold: Path, seeds: Path):
    """MentionInputs of the seed sentences (promotional ones removed), ids in seed order."""
    from pipeline.types import MentionInput

    _, promo = scorer.load_gold(str(gold))
    rows = [r for r in scorer.seed_sentences(str(seeds))
            if not any(site == r["site"] and scorer.same(t, scorer.norm(r["text"])) for site, t in promo)]
    return [MentionInput(i + 1, r["site"], r["text"]) for i, r in enumerate(rows)]


class GoldEditor:
    """Answers from the gold: the scorer's matching and precision rule, nothing else."""

    def __init__(self, scorer, gold: Path, mentions) -> None:
        sents, _ = scorer.load_gold(str(gold))
        by_site: dict[str, list] = {}
        for i, m in enumerate(mentions):
            by_site.setdefault(m.site, []).append((i, scorer.norm(m.text)))
        self.clusters: dict[int, set[str]] = {}  # mention id -> gold clusters (any role)
        for key, d in sents.items():
            i = scorer.match(key, by_site)
            if i is not None:
                self.clusters[mentions[i].mention_id] = d["P"] | d["S"]

    def right_pair(self, a: int, b: int) -> bool:
        return bool(self.clusters.get(a, set()) & self.clusters.get(b, set()))

    def answer(self, left, right) -> str:
        ok = all(self.right_pair(x.mention_id, y.mention_id) for x in left.members for y in right.members)
        return "yes" if ok else "no"


def simulate(gold: Path = GOLD, seeds: Path = SEEDS, *, answers: int = 300, every: int = 10,
             embedder=None, on_point=None, engine_model_used: bool = True) -> list[dict]:
    """Run the loop; returns one dict per checkpoint (answers, yes, precision, recall).

    Every `every` answers is a session's end, as in `claims review`: the engine's pair model
    is refitted from the answers and, once there is one, every mention is re-clustered with
    it under the editor's decisions (merges fixed, "no" pairs kept apart), as a rebuild."""
    from pipeline.dedupe import ClaimState, Constraints, PairContext, cluster_claims, embed_mentions, rebuild
    from pipeline.review import Answer, ReviewQueue, engine_model, prior_model, refit

    scorer = load_scorer(gold)
    mentions = gold_mentions(scorer, gold, seeds)
    editor = GoldEditor(scorer, gold, mentions)
    vectors = embed_mentions(mentions, embedder=embedder)
    memberships = cluster_claims([], mentions, next_claim_id=1, embeddings=dict(vectors), embedder=embedder)
    claim_of = {m.mention_id: m.claim_id for m in memberships}
    by_id = {m.mention_id: m for m in mentions}

    def states():
        groups: dict[int, list] = {}
        for mid, cid in sorted(claim_of.items()):
            groups.setdefault(cid, []).append(by_id[mid])
        return [ClaimState(cid, tuple(ms)) for cid, ms in sorted(groups.items())]

    def score(n, yes):
        rows = [{"site": m.site, "text": m.text, "kind": "claim", "claim_id": claim_of[m.mention_id]}
                for m in mentions]
        r = scorer.evaluate(rows, str(gold))
        point = {"answers": n, "yes": yes, "pair_precision": r["pair_precision"],
                 "pair_recall": r["pair_recall"], "pred_pairs": r["pred_pairs"], "gold_pairs": r["gold_pairs"]}
        if on_point:
            on_point(point)
        return point

    context = PairContext.build(mentions, embeddings=dict(vectors)) if engine_model_used else None
    queue = ReviewQueue("claim", mentions, vectors, context=context)
    model = prior_model()
    given: list[Answer] = []
    fixed: dict[int, int] = {}
    apart: list[tuple[frozenset[int], frozenset[int]]] = []
    stored_model = None
    yes = 0
    curve = [score(0, 0)]

    def end_of_session():
        nonlocal claim_of, stored_model
        fitted = engine_model(given, "claim") if engine_model_used else None
        if fitted is None or fitted == stored_model:
            return
        stored_model = fitted
        ms = rebuild(states(), next_claim_id=max(claim_of.values()) + 1, embeddings=dict(vectors),
                     embedder=embedder, pair_model=fitted,
                     constraints=Constraints.of(fixed=fixed, cannot_link_groups=apart))
        claim_of = {m.mention_id: m.claim_id for m in ms}
    while len(given) < answers:
        qs = queue.ask(states(), given, model, limit=1)
        if not qs:
            break
        q = qs[0]
        verdict = editor.answer(q.left, q.right)
        given.append(Answer("claim", tuple(m.mention_id for m in q.left.members),
                            tuple(m.mention_id for m in q.right.members), verdict, q.evidence))
        if verdict == "yes":
            yes += 1
            keep, other = sorted((q.left.claim_id, q.right.claim_id))
            for m in q.right.members + q.left.members:
                claim_of[m.mention_id] = keep
                fixed[m.mention_id] = keep
        else:
            apart.append((frozenset(given[-1].left), frozenset(given[-1].right)))
        model = refit(given, "claim")
        if len(given) % every == 0:
            end_of_session()
            curve.append(score(len(given), yes))
    if len(given) % every:
        curve.append(score(len(given), yes))
    return curve


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gold", type=Path, default=GOLD, help="gold file (default: the partner gold)")
    ap.add_argument("--seeds", type=Path, default=SEEDS, help="the gold's seed folder")
    ap.add_argument("--answers", type=int, default=300, help="how many questions to answer")
    ap.add_argument("--every", type=int, default=10, help="print the scores every K answers")
    ap.add_argument("--json", action="store_true", help="print the curve as JSON only")
    ap.add_argument("--no-engine-model", action="store_true",
                    help="never re-cluster with the pair model fitted from the answers")
    a = ap.parse_args(argv)
    if not a.gold.is_file() or not a.seeds.is_dir():
        print(f"no gold file at {a.gold} or no seed folder at {a.seeds}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()

    def show(p):
        if not a.json:
            print(f"answers {p['answers']:4d}  yes {p['yes']:4d}  pair precision {p['pair_precision']:.3f}  "
                  f"recall {p['pair_recall']:.3f}  ({p['pred_pairs']} pairs merged, {p['gold_pairs']} gold)",
                  flush=True)

    curve = simulate(a.gold, a.seeds, answers=a.answers, every=a.every, on_point=show,
                     engine_model_used=not a.no_engine_model)
    if a.json:
        print(json.dumps(curve))
    else:
        print(f"{time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
