"""Cross-site clustering of claim mentions into canonical claims (and FAQ questions into
canonical questions).

Pure: takes mentions and the claims already stored, returns membership decisions. No
database, no network, no clock. The store persists what this decides; `pipeline/clustering.py`
wires the two.

Contract used by `pipeline/clustering.py` (keep it stable):
- `cluster_claims(existing, new, next_claim_id=...)` -> tuple[Membership, ...], one per new
  mention, each naming an existing claim id or a fresh one (>= next_claim_id).
- `choose_canonical(claim)` -> the mention id whose text is the claim's canonical text.
- `rebuild(existing, next_claim_id=...)` -> memberships for every mention, re-clustered from
  scratch, with old claim ids kept for the clusters that carry on.
- `cluster_questions(existing, new, next_id=...)`, `rebuild_questions(...)`: the same for FAQ
  questions (MentionInput.text is the question).

Optional keyword arguments of all of them:
- `embeddings`: {mention_id: vector or bytes} already computed (the store's cache). Missing
  vectors are encoded; when a dict is passed, the new ones are written into it so the
  caller can persist them (`embedding_to_bytes`).
- `embedder`: an `Embedder`; default: all-MiniLM-L6-v2 (through ONNX Runtime when it is
  installed, else torch: `embed.default_embedder`), loaded on first use.
- `constraints`: `Constraints` (editor pins, merges and splits) respected by every run.
- `settings`: `Settings`, the decision's knobs; for claims its `merge_model` (the calibrated
  `MergeModel` of settings.py, fitted on annotated golds by benchmarks/merge_model.py)
  decides paraphrase merges.
- `pair_model`: a `PairModel` (features.py) fitted from editor answers; when given it decides
  paraphrase merges instead.
- `memo` (claims): an `EngineMemo`, the engine's state after the last pass; an incremental
  run over exactly the stored mentions it was left for starts from it instead of
  recomputing that state, and every run leaves its own state in it.

Order: mentions are decided one at a time in the canonical order of `order.py` (publication
date, site, article URL, sentence position: never fetch timing or mention ids), each seeing
only the mentions before it (neighbour search included: see neighbours.py). An incremental
run whose new mentions all sort after the stored ones (`appends_in_order`) therefore gives
exactly the clusters a rebuild gives; when one sorts earlier (an older article found late,
a revised article), the caller rebuilds instead: `rebuild(claims, new=...)`.

For the review queue: `PairContext` (features.py) gives the evidence of any two mentions or
claims as a named feature vector; `Constraints.cannot_link_groups` records "these two
claims differ"; `conflicting_figures` (conflicts.py) flags members stating other figures.
"""
from __future__ import annotations

from .canonical import choose_canonical, readability
from .cluster import (ClaimState, EngineMemo, QuestionState, cluster_claims, cluster_questions, embed_mentions, rebuild,
                      rebuild_questions)
from .conflicts import Conflict, conflicting_figures
from .context import PairContext
from .embed import (Embedder, MiniLMEmbedder, OnnxMiniLMEmbedder, default_embedder, embedder_name,
                    embedding_from_bytes, embedding_to_bytes, make_embedder)
from .evidence import Figure, figures, mismatches, signature
from .features import FEATURE_NAMES, MergeModel, PairModel
from .normalize import content_terms, normalize_for_match
from .order import appends_in_order, in_canonical_order, order_key
from .settings import CLAIM_SETTINGS, MERGE_MODEL, QUESTION_SETTINGS, Constraints, Settings

__all__ = [
    "ClaimState", "EngineMemo", "QuestionState", "Constraints", "Embedder", "MiniLMEmbedder",
    "OnnxMiniLMEmbedder", "Settings", "default_embedder", "make_embedder", "embedder_name",
    "CLAIM_SETTINGS", "QUESTION_SETTINGS", "MERGE_MODEL", "MergeModel",
    "cluster_claims", "rebuild", "cluster_questions", "rebuild_questions",
    "choose_canonical", "embed_mentions", "embedding_to_bytes", "embedding_from_bytes",
    "normalize_for_match", "content_terms", "readability",
    "order_key", "in_canonical_order", "appends_in_order",
    "FEATURE_NAMES", "PairContext", "PairModel", "signature", "mismatches", "figures", "Figure",
    "Conflict", "conflicting_figures",
]
