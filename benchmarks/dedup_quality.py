"""Dedup quality on the four partner articles, scored against the shared gold annotation.

Mentions: every sentence of the seeds (../shared/seeds, split with the gold scorer's own
splitter, headings and questions dropped), minus the sentences the gold marks promotional
(promotion is filtered upstream of clustering, by the claims stage). Gold claim sentences and
unlabelled sentences alike go in: nothing here tells the clusterer which sentences matter.
Mention ids follow the articles' publication order (archway, omnia, alana, civiq) and the
reading order inside each, as the store would assign them.

    python benchmarks/dedup_quality.py [--out mentions.jsonl] [--json] [--pipeline]

Prints pair precision/recall/F1 and the P-pair recall of every gold cluster.

With --pipeline it measures the whole product instead: ../shared/partners served on loopback
(serve.py), `run_sources` into a fresh SQLite file (our own discovery, extraction, labels and
clustering: no gold information at all), `export mentions` scored by the gold's
score_claims.py, plus the number of promotional sentences that ended up inside a claim.

How the default thresholds were chosen: see the reports of issues 5 and 8 and docs/dedupe.md;
in short the pair-score weights, join/floor thresholds, the same-partner penalty and the
density raise were swept on this gold file (the density raise also on the 10k synthetic
corpus of dedup_scale.py; there is no other annotated data), so these figures are optimistic
for unseen partners. The mentions here carry no dates or URLs, so the engine's canonical
order falls back to their ids, which are given in publication order.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
GOLD = SHARED / "gold" / "claims.json"
SEEDS = SHARED / "seeds"
SITE_ORDER = ("archway", "omnia", "alana", "civiq")  # publication order
KEY_CLUSTERS = ("tolerance", "withdrawal-symptoms", "dopamine-release", "recovery-possible")

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def load_scorer():
    spec = importlib.util.spec_from_file_location("score_claims", SHARED / "gold" / "score_claims.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def gold_mentions(scorer=None):
    """The benchmark's MentionInputs (ids in publication/reading order)."""
    from pipeline.types import MentionInput

    scorer = scorer or load_scorer()
    _, promo = scorer.load_gold(str(GOLD))
    rows = scorer.seed_sentences(str(SEEDS))
    rows = [r for r in rows
            if not any(site == r["site"] and scorer.same(t, scorer.norm(r["text"]))
                       for site, t in promo)]
    rows.sort(key=lambda r: SITE_ORDER.index(r["site"]) if r["site"] in SITE_ORDER else 99)
    return [MentionInput(i + 1, r["site"], r["text"]) for i, r in enumerate(rows)]


def evaluate(memberships, mentions, scorer=None) -> dict:
    scorer = scorer or load_scorer()
    claim_of = {m.mention_id: m.claim_id for m in memberships}
    rows = [{"site": m.site, "text": m.text, "kind": "claim", "claim_id": claim_of[m.mention_id]}
            for m in mentions]
    return scorer.evaluate(rows, str(GOLD)), rows


def run(settings=None, embedder=None, embeddings=None):
    from pipeline.dedupe import CLAIM_SETTINGS, cluster_claims

    scorer = load_scorer()
    mentions = gold_mentions(scorer)
    ms = cluster_claims([], mentions, next_claim_id=1, settings=settings or CLAIM_SETTINGS,
                        embedder=embedder, embeddings=embeddings)
    result, rows = evaluate(ms, mentions, scorer)
    return result, rows, ms


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="write the clustered mentions as JSONL here")
    ap.add_argument("--json", action="store_true", help="print the scorer's JSON only")
    ap.add_argument("--show", action="store_true", help="print the multi-member claims")
    ap.add_argument("--pipeline", action="store_true",
                    help="score the whole pipeline on the served partner sites instead")
    a = ap.parse_args(argv)
    if not GOLD.exists():
        print(f"no gold annotation at {GOLD}", file=sys.stderr)
        return 2
    if a.pipeline:
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
    result, rows, ms = run()
    if a.out:
        with open(a.out, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    if a.json:
        print(json.dumps(result))
        return 0
    print(f"mentions {len(rows)}  claims {len({m.claim_id for m in ms})}  "
          f"predicted pairs {result['pred_pairs']}  gold pairs {result['gold_pairs']}")
    print(f"pair precision {result['pair_precision']:.3f}  recall {result['pair_recall']:.3f}  "
          f"F1 {result['pair_f1']:.3f}")
    cr = result["cluster_recall"]
    for c in KEY_CLUSTERS:
        print(f"  {c:22s} P-pair recall {cr.get(c, 0.0):.2f}")
    others = {c: v for c, v in cr.items() if c not in KEY_CLUSTERS}
    print("  other clusters: " + ", ".join(f"{c} {v:.2f}" for c, v in others.items()))
    if a.show:
        by = {}
        for r, m in zip(rows, ms):
            by.setdefault(r["claim_id"], []).append((r["site"], r["text"][:90], m.method, m.score))
        for cid, mem in by.items():
            if len(mem) > 1:
                print(f"claim {cid}")
                for x in mem:
                    print("   ", x)
    return 0


if __name__ == "__main__":
    sys.exit(main())
