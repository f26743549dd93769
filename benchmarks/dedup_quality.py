"""Dedup quality (automatic merges only) on claims golds: the partner gold and claims-dev side
by side, or any gold of the same format.

    python benchmarks/dedup_quality.py [--gold FILE --seeds DIR] [--cv] [--json] [--show]
                                       [--wrong] [--out mentions.jsonl] [--drop-not-claims]
    python benchmarks/dedup_quality.py --pipeline [--json]

Mentions (benchmarks/_cv.py): every sentence of the gold's seed folder (split with the gold
scorer's own splitter, headings and questions dropped), minus the sentences the gold marks
promotional (promotion is filtered upstream of clustering, by the claims stage). Gold claim
sentences, unlabelled sentences and the gold's `not_claims` alike go in (with
--drop-not-claims the latter stay out, as after a perfect label classifier): nothing here
tells the clusterer which sentences matter. Partner mentions follow the articles'
publication order (archway, omnia, alana, civiq); other golds the seed files' order. The
mentions carry no dates or URLs, so the engine's canonical order falls back to their ids.

Prints, per gold, pair precision/recall/F1 of the shipped engine and of the hand thresholds
it replaced (issues 5 and 8), and says which figures are in-sample: the shipped merge model
(settings.MERGE_MODEL) was fitted on both default golds (benchmarks/merge_model.py), so its
figures on them are in-sample. With --cv it also refits the model the same way on part of
the data and scores what was left out: leave-sites-out (5 folds of sites, the other gold in
the training data) and across golds (fitted on one, scored on the other). That takes a few
minutes.

With --pipeline it measures the whole product on the partner gold instead: ../shared/partners
served on loopback (serve.py), `run_sources` into a fresh SQLite file (our own discovery,
extraction, labels and clustering: no gold information at all), `export mentions` scored by
the gold's score_claims.py, plus the number of promotional sentences that ended up inside a
claim.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "benchmarks"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import _cv  # noqa: E402

SHARED = _cv.SHARED
GOLD = _cv.PARTNER_GOLD
SEEDS = _cv.PARTNER_SEEDS
KEY_CLUSTERS = ("tolerance", "withdrawal-symptoms", "dopamine-release", "recovery-possible")
FITTED_ON = ("partner", "claims-dev")  # the golds settings.MERGE_MODEL was fitted on


def load_scorer():
    return _cv.load_scorer(GOLD)


def evaluate(memberships, mentions, scorer=None, gold: Path = GOLD) -> tuple[dict, list[dict]]:
    """The gold scorer's own figures (score_claims.evaluate) of a clustering."""
    scorer = scorer or _cv.load_scorer(gold)
    claim_of = {m.mention_id: m.claim_id for m in memberships}
    rows = [{"site": m.site, "text": m.text, "kind": "claim", "claim_id": claim_of[m.mention_id]}
            for m in mentions]
    return scorer.evaluate(rows, str(gold)), rows


def cluster(gold: _cv.Gold, settings=None, embedder=None, embeddings=None):
    """The engine's memberships over the gold's mentions."""
    from pipeline.dedupe import CLAIM_SETTINGS, cluster_claims

    return cluster_claims([], list(gold.mentions), next_claim_id=1,
                          settings=settings or CLAIM_SETTINGS, embedder=embedder,
                          embeddings=embeddings)


def run(settings=None, embedder=None, embeddings=None, gold: _cv.Gold | None = None):
    """(scorer result, mention rows, memberships) of the engine on `gold` (default: the
    partner gold)."""
    gold = gold or _cv.partner_gold()
    ms = cluster(gold, settings, embedder, embeddings)
    result, rows = evaluate(ms, gold.mentions, gold.scorer, gold.path)
    return result, rows, ms


def hand_settings():
    """The decision before the merge model: hand thresholds and the issue-8 vetoes."""
    from pipeline.dedupe import CLAIM_SETTINGS

    return dataclasses.replace(CLAIM_SETTINGS, merge_model=None, vetoes=(
        "negation_mismatch", "antonym_mismatch", "number_mismatch", "qualifier_mismatch", "lead_in"))


def held_out(golds, *, k: int = 5) -> dict:
    """The merge model refitted without the scored sites (benchmarks/merge_model.py)."""
    import merge_model

    return merge_model.report(golds, k=k)


def run_pipeline() -> dict:
    """The end-to-end figure: partner sites -> syndicate run -> export mentions -> score."""
    import tempfile
    import threading

    from pipeline.orchestrator import run_sources
    from pipeline.store import Store
    from pipeline.types import Source

    spec = importlib.util.spec_from_file_location("partner_serve", SHARED / "partners" / "serve.py")
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    names = {"archway": "Archway Behavioral Health", "omnia": "Omnia Recovery", "alana": "ALANA Recovery",
             "civiq": "CIVIQ Health"}
    servers = serve.make_servers(0, week=1, quiet=True)
    for srv in servers.values():
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(f"sqlite:///{tmp}/q.sqlite")
            sources = [Source(id=s, name=n, homepage=f"{servers[s].base}/{s}/", allow_private=True)  # loopback
                       for s, n in names.items()]
            report = run_sources(sources, store)
            rows = list(store.export_mentions())
            store.close()
    finally:
        for srv in servers.values():
            srv.shutdown()
            srv.server_close()
    scorer = load_scorer()
    result = scorer.evaluate(rows, str(GOLD))
    _, promo = scorer.load_gold(str(GOLD))
    claims = [r for r in rows if r["kind"] == "claim"]
    result["promo_in_claims"] = sum(
        1 for r in claims if any(site == r["site"] and scorer.same(t, scorer.norm(r["text"])) for site, t in promo))
    result["run_ok"] = report.ok
    result["claim_mentions"] = len(claims)
    return result


def _line(label: str, s: dict) -> str:
    return (f"  {label:44s} precision {s['pair_precision']:.3f}  recall {s['pair_recall']:.3f}  "
            f"F1 {s['pair_f1']:.3f}  ({s['pred_pairs']:g} pairs merged, {s['gold_pairs']:g} gold)")


def measure(gold: _cv.Gold, *, with_hand: bool = True) -> dict:
    """Figures of one gold: the shipped engine, and the hand thresholds it replaced."""
    from pipeline.dedupe import embed_mentions

    vectors = embed_mentions(list(gold.mentions))
    claim_of = {m.mention_id: m.claim_id for m in cluster(gold, embeddings=dict(vectors))}
    out = {"gold": str(gold.path), "mentions": len(gold.mentions),
           "in_sample": gold.name in FITTED_ON,
           "shipped": _cv.score(gold, claim_of).as_dict(), "claim_of": claim_of}
    if with_hand:
        hand = {m.mention_id: m.claim_id
                for m in cluster(gold, hand_settings(), embeddings=dict(vectors))}
        out["hand_thresholds"] = _cv.score(gold, hand).as_dict()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gold", type=Path, help="a gold file (default: the partner gold and claims-dev)")
    ap.add_argument("--seeds", type=Path, help="the gold's seed folder (with --gold)")
    ap.add_argument("--cv", action="store_true",
                    help="also refit the merge model without the scored sites (minutes)")
    ap.add_argument("--drop-not-claims", action="store_true",
                    help="leave the gold's not_claims sentences out of the mentions")
    ap.add_argument("--out", help="write the clustered mentions as JSONL here (one gold only)")
    ap.add_argument("--json", action="store_true", help="print JSON only")
    ap.add_argument("--show", action="store_true", help="print the multi-member claims")
    ap.add_argument("--wrong", action="store_true", help="print the claims holding a wrong pair")
    ap.add_argument("--pipeline", action="store_true",
                    help="score the whole pipeline on the served partner sites instead")
    a = ap.parse_args(argv)
    if a.pipeline:
        if not GOLD.exists():
            print(f"no gold annotation at {GOLD}", file=sys.stderr)
            return 2
        r = run_pipeline()
        if a.json:
            print(json.dumps(r))
            return 0
        print(f"pipeline on ../shared/partners: run ok {r['run_ok']}, {r['claim_mentions']} claim mentions")
        print(f"coverage {r['coverage']:.3f}  promo recall {r['promo_recall']:.2f}  "
              f"promotional sentences inside a claim {r['promo_in_claims']}")
        print(f"pair precision {r['pair_precision']:.3f}  recall {r['pair_recall']:.3f}  F1 {r['pair_f1']:.3f}")
        for c in KEY_CLUSTERS:
            print(f"  {c:22s} P-pair recall {r['cluster_recall'].get(c, 0.0):.2f}")
        return 0
    try:
        if a.gold:
            if not a.seeds:
                ap.error("--gold needs --seeds")
            golds = [_cv.load_gold(a.gold, a.seeds, drop_not_claims=a.drop_not_claims)]
        else:
            golds = list(_cv.default_golds(drop_not_claims=a.drop_not_claims))
    except FileNotFoundError as e:
        print(e, file=sys.stderr)
        return 2
    results = {g.name: measure(g) for g in golds}
    if a.cv:
        if a.gold:
            print("--cv refits on both default golds; it ignores --gold", file=sys.stderr)
        else:
            for name, row in held_out(golds).items():
                results[name]["held_out"] = {k: v for k, v in row.items()
                                             if k not in ("shipped_in_sample", "hand_thresholds")}
    if a.out and len(golds) == 1:
        g = golds[0]
        claim_of = results[g.name]["claim_of"]
        with open(a.out, "w") as f:
            for m in g.mentions:
                f.write(json.dumps({"site": m.site, "text": m.text, "kind": "claim",
                                    "claim_id": claim_of[m.mention_id]}) + "\n")
    if a.json:
        print(json.dumps({n: {k: v for k, v in r.items() if k != "claim_of"} for n, r in results.items()}))
        return 0
    for g in golds:
        r = results[g.name]
        print(f"== {g.name}: {r['mentions']} mentions ({g.path})")
        where = "in-sample: the merge model was fitted on this gold" if r["in_sample"] else \
            "held out: the merge model was not fitted on this gold"
        print(_line(f"shipped engine ({where.split(':')[0]})", r["shipped"]))
        print(f"    ({where})")
        print(_line("hand thresholds before it", r["hand_thresholds"]))
        for what, s in r.get("held_out", {}).items():
            if what == "folds":
                continue
            print(_line(f"held out: {what.replace('_', ' ')}", s))
        if a.show or a.wrong:
            _print_claims(g, r["claim_of"], only_wrong=a.wrong and not a.show)
    return 0


def _print_claims(gold: _cv.Gold, claim_of: dict, *, only_wrong: bool) -> None:
    by: dict[int, list[int]] = {}
    for i, m in enumerate(gold.mentions):
        by.setdefault(claim_of[m.mention_id], []).append(i)
    for cid, idx in by.items():
        if len(idx) < 2:
            continue
        wrong = sum(1 for x in idx for y in idx if x < y and not gold.same(x, y))
        if only_wrong and not wrong:
            continue
        print(f"  claim {cid}: {len(idx)} members, {wrong} wrong pairs")
        for i in idx:
            tag = ",".join(sorted(gold.clusters_of(i))) or (
                f"not a claim: {gold.not_claims[i]}" if i in gold.not_claims else "a claim of its own")
            print(f"    {gold.mentions[i].site:18s} [{tag}] {gold.mentions[i].text[:110]}")


if __name__ == "__main__":
    sys.exit(main())
