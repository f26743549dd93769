"""Dedup at scale: synthetic corpora of 10k, 100k and 1M claim mentions.

The sentences are generated (no partner text): propositions built from a small grammar of
subjects, verbs, objects and qualifiers; each is stated several times with paraphrase-like
variation (synonyms, reordered clauses, hedges), and many statements are near-copies of an
earlier one (syndication: a word changed, a tail added, punctuation). Sites are random.

For each size, in a process of its own, it prints the full-build time (encoding every
distinct text, then clustering with the vectors at hand, timed apart), peak memory of the
process (ru_maxrss) and mentions/s, and the pair precision/recall of the clusters against the
generator's propositions and against what they say (a sanity check that speed did not buy
bad clusters; the hash embedder cannot tell paraphrases apart, so its figures are low). The
generator draws a new proposition's parts from 23,040 combinations, so the larger the
corpus the more of its propositions say the same thing, often in the same words: against
the propositions, a clustering by exactly what each sentence says (subject, verb, object,
qualifier) scores a pair precision of 0.96 at 10k, 0.67 at 100k, 0.40 at 300k and 0.16 at
1M; against what they say it scores 1.0 at any size, so that is the precision to compare
across sizes. For the largest, the time
to add 1% new mentions incrementally (encoding the new ones, reading the engine state the
build left from a file, deciding, writing the new state; not the store's own reads); and the
growth exponents between consecutive sizes.

    python benchmarks/dedup_scale.py [--sizes 10000 100000 1000000]
                                     [--embedder minilm|onnx|torch|hash] [--overlapped]

--embedder minilm (the default) is what a run uses: ONNX Runtime when it is installed, else
torch ($SYNDICATE_ENCODER chooses); onnx and torch force one. With --embedder hash, a
character-trigram hashing embedder replaces MiniLM (to time the clustering alone quickly).
With --overlapped each size also times the build as a run does it: clustering from an empty
vector cache, the encoder working ahead of the engine in a background thread.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
SUBJECTS = [("regular exercise", "physical activity"), ("a balanced diet", "healthy eating"),
            ("chronic stress", "long-term stress"), ("poor sleep", "sleep deprivation"),
            ("social isolation", "loneliness"), ("alcohol use", "drinking"),
            ("daily meditation", "mindfulness practice"), ("screen time", "time on devices"),
            ("air pollution", "polluted air"), ("sugar intake", "eating sugar"),
            ("group therapy", "peer support groups"), ("early treatment", "early intervention"),
            ("caffeine", "coffee"), ("smoking", "tobacco use"), ("volunteering", "helping others"),
            ("outdoor walks", "time in nature"), ("music lessons", "learning an instrument"),
            ("a strong routine", "a daily structure"), ("financial worry", "money stress"),
            ("hydration", "drinking enough water")]
VERBS = [("raises", "increases"), ("lowers", "reduces"), ("improves", "strengthens"),
         ("disrupts", "interferes with"), ("protects", "safeguards"), ("predicts", "signals")]
OBJECTS = [("blood pressure", "arterial pressure"), ("memory", "recall"),
           ("mood", "emotional wellbeing"), ("the risk of relapse", "relapse risk"),
           ("heart health", "cardiovascular health"), ("focus", "concentration"),
           ("sleep quality", "how well people sleep"), ("immune function", "the immune system"),
           ("recovery outcomes", "the chances of recovery"), ("anxiety", "feelings of worry"),
           ("weight gain", "gaining weight"), ("energy levels", "daily energy"),
           ("bone density", "bone strength"), ("motivation", "drive"),
           ("the risk of depression", "depression risk"), ("inflammation", "inflammatory markers")]
QUALIFIERS = ["in older adults", "in teenagers", "over several months", "within weeks",
              "for most people", "in people in recovery", "during pregnancy", "at work",
              "in the long term", "after surgery", "in shift workers", "in students"]
HEDGES = ["", "Research suggests that ", "Studies show that ", "Over time, ", "Experts agree that ",
          "It is well known that ", "Evidence indicates that "]
TAILS = ["", " according to recent studies", " for many people", " in most cases",
         " as several trials found"]


def synthetic_corpus(n: int, seed: int = 7, *, truth: list[int] | None = None,
                     content: list[tuple[int, int, int, int]] | None = None):
    """n MentionInputs; when `truth` is given, the proposition of each is appended to it;
    when `content` is, what that proposition says: its (subject, verb, object, qualifier).

    A new proposition draws its four parts at random from 20 x 6 x 16 x 12 = 23,040
    combinations, so two propositions of the generator may say the same thing in the same
    words (a third of the mentions found a proposition: at 100k about 30,000 draws, at 1M
    about 300,000). `truth` counts them as different claims; no reader could."""
    from pipeline.types import MentionInput

    rng = np.random.default_rng(seed)
    props = []
    out = []
    said: list[int] = []
    for i in range(n):
        r = rng.random()
        if out and r < 0.30:  # near-copy of an earlier statement
            j = int(rng.integers(len(out)))
            base = out[j].text
            said.append(said[j])
            edit = int(rng.integers(3))
            if edit == 0:
                text = base.rstrip(".") + TAILS[int(rng.integers(1, len(TAILS)))] + "."
            elif edit == 1:
                text = base.replace(" the ", " this ", 1) if " the " in base else base.upper()[0] + base[1:]
            else:
                text = base.replace(",", "").replace(".", "!")
        else:
            if props and r < 0.70:  # a paraphrase of an earlier proposition
                p = int(rng.integers(len(props)))
                s, v, o, q = props[p]
            else:
                s, v, o, q = (int(rng.integers(len(SUBJECTS))), int(rng.integers(len(VERBS))),
                              int(rng.integers(len(OBJECTS))), int(rng.integers(len(QUALIFIERS))))
                p = len(props)
                props.append((s, v, o, q))
            said.append(p)
            subj = SUBJECTS[s][int(rng.integers(2))]
            verb = VERBS[v][int(rng.integers(2))]
            obj = OBJECTS[o][int(rng.integers(2))]
            hedge = HEDGES[int(rng.integers(len(HEDGES)))]
            if rng.random() < 0.5:
                core = f"{subj} {verb} {obj} {QUALIFIERS[q]}"
            else:
                core = f"{QUALIFIERS[q]}, {subj} {verb} {obj}"
            text = hedge + core
            text = text[0].upper() + text[1:] + "."
        site = f"site{int(rng.integers(40))}"
        # one sentence per synthetic article, published a minute after the one before: the
        # canonical clustering order (publication date first) is the generation order
        out.append(MentionInput(i + 1, site, text, published=EPOCH + timedelta(minutes=i),
                                url=f"https://{site}.example/article-{i + 1}"))
    if truth is not None:
        truth.extend(said)
    if content is not None:
        content.extend(props[p] for p in said)
    return out


def pair_agreement(predicted: list[int], truth: list[int]) -> tuple[float, float]:
    """Pair precision and recall of a clustering against the generator's propositions (two
    mentions of one proposition belong together; counted without listing the pairs)."""
    from collections import Counter

    def pairs(counts) -> int:
        return sum(c * (c - 1) // 2 for c in counts.values())

    both = pairs(Counter(zip(predicted, truth)))
    pred, true = pairs(Counter(predicted)), pairs(Counter(truth))
    return (both / pred if pred else 1.0), (both / true if true else 1.0)


class HashEmbedder:
    """Character-trigram hashing into 384 dimensions (clustering-only timing)."""

    def encode(self, texts):
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i, t in enumerate(texts):
            t = f"  {t.lower()}  "
            for k in range(len(t) - 2):
                h = int.from_bytes(hashlib.blake2b(t[k:k + 3].encode(), digest_size=4).digest(), "little")
                out[i, h % 384] += 1.0
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


def one_size(n: int, embedder_name: str, incremental: bool, overlapped: bool = False) -> dict:
    import tempfile

    from pipeline.dedupe import ClaimState, cluster_claims, embed_mentions
    from pipeline.dedupe.cluster import EngineMemo
    from pipeline.dedupe.embed import embedder_name as name_of, make_embedder

    if embedder_name == "hash":
        embedder = HashEmbedder()
    else:
        embedder = make_embedder(None if embedder_name == "minilm" else embedder_name)
    total = n + (n // 100 if incremental else 0)
    truth: list[int] = []
    content: list[tuple[int, int, int, int]] = []
    corpus = synthetic_corpus(total, truth=truth, content=content)
    base, extra = corpus[:n], corpus[n:]
    t0, c0 = time.perf_counter(), time.process_time()
    cache = embed_mentions(base, embedder=embedder)
    t1, c1 = time.perf_counter(), time.process_time()
    memo = EngineMemo()
    ms = cluster_claims([], base, next_claim_id=1, embedder=embedder, embeddings=cache, memo=memo)
    t2, c2 = time.perf_counter(), time.process_time()
    # the state the build left, written where the next run finds it (a file here; the
    # store keeps it beside the database): part of a build's cost, timed apart
    with tempfile.NamedTemporaryFile(prefix="dedup_scale_memo_", delete=False) as f:
        f.write(memo.data)
    memo_path = Path(f.name)
    t2b, c2b = time.perf_counter(), time.process_time()
    res = {"mentions": n, "embedder": name_of(embedder), "encode_s": round(t1 - t0, 2),
           "distinct_texts": len({m.text for m in base}),
           "cluster_s": round(t2 - t1, 2), "full_build_s": round(t2 - t0, 2),
           "memo_mb": round(len(memo.data) / 2**20, 1), "memo_write_s": round(t2b - t2, 2),
           "memo_write_cpu_s": round(c2b - c2, 2),
           # CPU seconds of the process (all its threads): on a loaded machine the wall
           # clock says more about the other work than about this one
           "encode_cpu_s": round(c1 - c0, 2), "cluster_cpu_s": round(c2 - c1, 2),
           "mentions_per_s": round(n / (t2 - t0), 1), "claims": len({m.claim_id for m in ms}),
           "methods": {k: sum(1 for m in ms if m.method == k) for k in
                       ("new", "exact", "near-copy", "paraphrase")}}
    precision, recall = pair_agreement([m.claim_id for m in ms], truth[:n])
    res.update(truth_pair_precision=round(precision, 4), truth_pair_recall=round(recall, 4))
    # the same against what the propositions say: two propositions drawn with the same
    # subject, verb, object and qualifier are one claim to any reader (see synthetic_corpus)
    said = {c: k for k, c in enumerate(dict.fromkeys(content[:n]))}
    precision, recall = pair_agreement([m.claim_id for m in ms], [said[c] for c in content[:n]])
    res.update(content_pair_precision=round(precision, 4), content_pair_recall=round(recall, 4),
               propositions=len(set(truth[:n])), distinct_propositions=len(said))
    if incremental:
        groups: dict[int, list] = {}
        by = {m.mention_id: m for m in base}
        for m in ms:
            groups.setdefault(m.claim_id, []).append(by[m.mention_id])
        claims = [ClaimState(c, tuple(v)) for c, v in groups.items()]
        t3, c3 = time.perf_counter(), time.process_time()
        memo = EngineMemo(memo_path.read_bytes())  # as a later run finds it
        inc = cluster_claims(claims, extra, next_claim_id=max(groups) + 1, embedder=embedder,
                             embeddings=cache, memo=memo)
        memo_path.write_bytes(memo.data)  # the state for the run after
        t4, c4 = time.perf_counter(), time.process_time()
        res.update(incremental_mentions=len(extra), incremental_s=round(t4 - t3, 2),
                   incremental_cpu_s=round(c4 - c3, 2),
                   incremental_cpu_share_of_full=round((c4 - c3) / (c2 - c0), 4),
                   incremental_share_of_full=round((t4 - t3) / (t2 - t0), 4),
                   incremental_share_of_cluster=round((t4 - t3) / (t2 - t1), 4),
                   incremental_joined=sum(1 for m in inc if m.method != "new"),
                   incremental_from_memo=memo.used)
    memo_path.unlink()
    del memo
    import os

    torch = sys.modules.get("torch")  # loaded by the torch encoder only
    res["cores"] = len(os.sched_getaffinity(0))
    res["torch_threads"] = torch.get_num_threads() if torch else None
    res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if overlapped:  # as a run does it: nothing cached, encoding beside the clustering
        del cache, ms
        t5 = time.perf_counter()
        cluster_claims([], base, next_claim_id=1, embedder=embedder, embeddings={})
        res["overlapped_build_s"] = round(time.perf_counter() - t5, 2)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--embedder", choices=("minilm", "onnx", "torch", "hash"), default="minilm")
    ap.add_argument("--overlapped", action="store_true",
                    help="also time each build with encoding overlapped with clustering")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--incremental", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one:
        print(json.dumps(one_size(a.one, a.embedder, a.incremental, a.overlapped)))
        return 0
    results = []
    for i, n in enumerate(a.sizes):  # one process per size: a clean peak-memory figure
        cmd = [sys.executable, __file__, "--one", str(n), "--embedder", a.embedder]
        if i == len(a.sizes) - 1:
            cmd.append("--incremental")
        if a.overlapped:
            cmd.append("--overlapped")
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        print(json.dumps(r), file=sys.stderr, flush=True)  # the raw figures
        print(f"{n:>7} mentions ({r['embedder']}): full build {r['full_build_s']:.1f}s "
              f"(encode {r['encode_s']:.1f}s + cluster {r['cluster_s']:.1f}s; CPU seconds "
              f"{r['encode_cpu_s']:.1f} + {r['cluster_cpu_s']:.1f}), "
              f"{r['mentions_per_s']:.0f} mentions/s, peak RSS {r['peak_rss_mb']:.0f} MB, "
              f"{r['claims']} claims {r['methods']}, {r['distinct_texts']} distinct texts; pair precision "
              f"{r['truth_pair_precision']:.3f} recall {r['truth_pair_recall']:.3f} against the "
              f"generator's {r['propositions']} propositions, {r['content_pair_precision']:.3f} / "
              f"{r['content_pair_recall']:.3f} against the {r['distinct_propositions']} "
              f"different things they say", flush=True)
        if "overlapped_build_s" in r:
            print(f"        overlapped build (encoding beside clustering, empty cache): "
                  f"{r['overlapped_build_s']:.1f}s")
        if "incremental_s" in r:
            print(f"        +{r['incremental_mentions']} mentions incrementally: "
                  f"{r['incremental_s']:.2f}s = {100 * r['incremental_share_of_full']:.2f}% "
                  f"of the full build (CPU {r['incremental_cpu_s']:.1f}s = "
                  f"{100 * r['incremental_cpu_share_of_full']:.2f}%), "
                  f"{100 * r['incremental_share_of_cluster']:.1f}% of its "
                  f"clustering ({r['incremental_joined']} joined existing claims; includes "
                  f"encoding the new mentions, reading the kept engine state from a file "
                  f"({r['memo_mb']:.0f} MB, used: {r['incremental_from_memo']}) and writing "
                  f"the next one)")
    if results:
        print(f"({results[-1]['cores']} cores, torch threads {results[-1]['torch_threads']}; "
              f"wall-clock figures move with the machine's load)")
    for a0, a1 in zip(results, results[1:]):
        k = math.log(a1["mentions"] / a0["mentions"])
        parts = [f"{key} {math.log(a1[key] / a0[key]) / k:.2f}"
                 for key in ("full_build_s", "cluster_s", "encode_s", "cluster_cpu_s", "encode_cpu_s")
                 if a0[key] > 0 and a1[key] > 0]
        print(f"growth exponent {a0['mentions']} -> {a1['mentions']}: " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
