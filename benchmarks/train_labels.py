#!/usr/bin/env python3
"""Fit the sentence label model and compare it with the one shipped in the package.

    python benchmarks/train_labels.py            # refit, print what it was fitted on, diff with the file
    python benchmarks/train_labels.py --write    # refit and write pipeline/extract/label_model.json
    python benchmarks/train_labels.py --db URL --out FILE  # also learn the editors' "not a claim"

Fitted on (everything `benchmarks/_label_data.py` reads):
- our own sentences, `benchmarks/data/label_sentences.jsonl` (written for this project:
  claims on some 40 subjects, promotion, bylines, captions, breadcrumbs, navigation,
  fragments and list leads, lead-ins, quoted words, event logistics, site notices);
- the partner gold (../shared/gold, pages ../shared/seeds): promotional vs claim sentences;
- claims-dev (../shared/claims-dev): promotional, not_claims and claim sentences;
- with `--db URL` (repeatable), the sentences editors hid as "not a claim" in that Syndicate
  database (`Store.hidden_mentions()`: the review queue's third answer, `syndicate claims
  hide`), as not-claim examples. The shipped file is fitted without any database.
One head per encoder of all-MiniLM-L6-v2 (`ENCODERS`: the torch reference and the ONNX
export), each fitted on the same sentences with that encoder's vectors, its C and claim
threshold chosen inside them (`_label_data.choose_settings`); a run reads the head of the
encoder it runs (`shipped_model(name)`).
Sentences structure and cue rules decide (headings, questions, phone numbers, the partner's
name...) are left out of the fit. Deterministic: the same data gives the same file (weights
rounded to 5 decimals). The held-out figures are benchmarks/claim_labels.py's.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

# One BLAS thread: the fits are small, and on a shared machine threads only contend (and the
# sums come out in the same order on every run).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

from _label_data import (C_GRID, DEV_GOLD, INNER_FOLDS, OWN_DATA, PARTNER_GOLD,  # noqa: E402
                         fit_model, load_gold_pages, load_hidden, load_own, vectors_of)

from pipeline.extract._label_model import MODEL_FILE, to_file_dict  # noqa: E402

TARGET = ROOT / "pipeline" / "extract" / MODEL_FILE
# backends of make_embedder to fit a head for, the reference (torch) first. One: the default
# ONNX encoder (float32) gives torch's vectors to within 1e-7, and the opt-in int8 recipe's
# runs read the reference head (docs/labels.md measures that pairing); the file's layout
# keeps room for a head per encoder should one need its own.
ENCODERS = ("torch",)


def training_set():
    own = load_own()
    partner = load_gold_pages(*PARTNER_GOLD, "partner")
    dev = load_gold_pages(*DEV_GOLD, "claims-dev")
    return own, partner, dev


def build(db_urls: tuple[str, ...] = ()) -> dict:
    """The model file (as a dict) fitted on our sentences, both golds and the editors'
    hidden sentences of each database in `db_urls`: one head per encoder in ENCODERS."""
    from pipeline.dedupe.embed import embedder_name, make_embedder

    hidden = [e for url in db_urls for e in load_hidden(url)]
    own, partner, dev = training_set()
    examples = own + partner.examples + dev.examples + hidden
    fitted = [e for e in examples if e.structural is None and e.cls != "unknown"]
    sources = {"own sentences (benchmarks/data/label_sentences.jsonl)": "own",
               "partner gold (../shared/gold, seeds)": "partner",
               "claims-dev (../shared/claims-dev)": "claims-dev"}
    if db_urls:
        sources["editors' hidden sentences (--db)"] = "editor"
    about = {
        "what": "multinomial logistic regression over claim, promo, other; written by benchmarks/train_labels.py",
        "fitted_on": {where: dict(sorted(Counter(e.kind for e in fitted if e.source == src).items()))
                      for where, src in sources.items()},
        "inputs": "the general features (pipeline/extract/_label_features.py) and the all-MiniLM-L6-v2 "
                  "sentence vector, standardized over the training set; a head per encoder of "
                  "train_labels.ENCODERS, each fitted on that encoder's vectors of the same sentences "
                  "(the torch reference's head alone: the ONNX encoders read it)",
        "settings": {"C": f"chosen from {list(C_GRID)}", "class_weight": "balanced",
                     "claim_threshold": f"chosen with C by leave-sites-out inside the training data "
                                        f"({INNER_FOLDS} folds of sites): the best balanced accuracy, "
                                        "claim against the rest; ties to the lower C, then threshold"},
        "held_out_figures": "benchmarks/claim_labels.py (leave-sites-out and cross-gold)",
    }
    models = []
    for backend in ENCODERS:
        embedder = make_embedder(backend)
        name = embedder_name(embedder)
        models.append(fit_model(examples, vectors=vectors_of(examples, embedder), encoder=name))
    return to_file_dict(models, reference=models[0].encoder, about=about)


def max_weight_difference(a: dict, b: dict) -> float:
    """The largest difference between two model files' weights, over the encoders' heads."""
    return max(float(np.max(np.abs(np.asarray(a["encoders"][n]["head"]["weights"])
                                   - np.asarray(b["encoders"][n]["head"]["weights"])))) for n in a["encoders"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"write {TARGET.relative_to(ROOT)}")
    ap.add_argument("--db", action="append", default=[], metavar="URL",
                    help="also fit on the sentences editors hid as not a claim in this database (repeatable)")
    ap.add_argument("--out", type=Path, help="write the fitted model to this file instead")
    a = ap.parse_args()
    if not PARTNER_GOLD[0].is_file() or not DEV_GOLD[0].is_file():
        print("the golds in ../shared are needed to fit the model", file=sys.stderr)
        return 2
    try:
        data = build(tuple(a.db))
    except Exception as e:  # a database that is missing or not Syndicate's: say so, write nothing
        if not a.db or type(e).__module__.split(".")[0] not in ("pipeline", "sqlalchemy"):
            raise
        print(f"cannot read the hidden sentences: {e}", file=sys.stderr)
        return 2
    text = json.dumps(data, indent=1, sort_keys=False) + "\n"
    for where, counts in data["about"]["fitted_on"].items():
        print(f"fitted on {where}: {sum(counts.values())} {counts}")
    for name, entry in data["encoders"].items():
        ref = " (reference)" if name == data["reference"] else ""
        print(f"head for {name}{ref}: C {entry['C']}, claim threshold {entry['threshold']}")
    print(f"own data file: {OWN_DATA.relative_to(ROOT)}")
    if a.out:
        a.out.write_text(text, encoding="utf-8")
        print(f"wrote {a.out} ({len(text) // 1024} KB)")
        return 0
    if a.write:
        TARGET.write_text(text, encoding="utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)} ({len(text) // 1024} KB)")
        return 0
    if not TARGET.is_file():
        print(f"{TARGET.relative_to(ROOT)} missing: run with --write")
        return 1
    shipped = json.loads(TARGET.read_text("utf-8"))
    if set(shipped.get("encoders", {})) != set(data["encoders"]):
        print("the shipped file has another layout or other encoders: run with --write")
        return 1
    diff = max_weight_difference(data, shipped)
    same = diff <= 1e-3 and data["about"] == shipped["about"] and all(
        data["encoders"][n][k] == shipped["encoders"][n][k] for n in data["encoders"] for k in ("C", "threshold"))
    print(f"largest weight difference from the shipped file: {diff:.2e} ({'same model' if same else 'DIFFERENT'})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
