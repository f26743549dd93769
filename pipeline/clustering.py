"""Clustering of the stored claim mentions and FAQ entries: the pure `dedupe` package wired
to the store. The one home of clustering: runs, `reprocess`, `claims rebuild`, editor
overrides and the review queue all come here.

Owns: placing new mentions (incrementally, or by a rebuild when one sorts before the stored
ones), the full rebuild, refreshing canonical texts and conflicts after any change of
membership, the editor decisions every clustering respects, the sentence-vector cache
(vectors are read from the store and only texts never encoded are encoded and saved back),
and the file that keeps the claim engine's state between runs (`engine_memo_path`).
Must not: take the run lock or decide when to cluster (the API, `pipeline.core`, does), talk
to the network or the terminal.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator, Sequence

from .dedupe import (Constraints, Embedder, EngineMemo, appends_in_order, choose_canonical, cluster_claims, cluster_questions,
                     conflicting_figures, default_embedder, embed_mentions, embedder_name, embedding_to_bytes,
                     rebuild)
from .store import Store
from .types import MentionInput


def cluster_new_mentions(store: Store, now: datetime, *, embedder: Embedder | None = None,
                         changed: bool = True) -> int:
    """Give every unclustered claim mention a claim (and every new FAQ entry a question),
    incrementally: stored claims are loaded, not recomputed; sentence vectors come from the
    store's cache and only new texts are encoded. Editor decisions (and the pair model fitted
    from editor answers) are constraints. When a new mention sorts before stored ones in the
    canonical order (an older article found late, a revised article), every mention is
    re-clustered instead, so that the claims are those of a rebuild (docs/dedupe.md).

    `changed=False` says that no article got a new current revision since the last
    clustering (a run where nothing changed): then, with no unclustered mention either,
    nothing is loaded and canonical texts are not refreshed, so a no-change run costs
    nothing here whatever the size of the database. Returns the number of new claims."""
    new = store.unclustered_mentions()
    created = 0
    if new:
        states = store.claim_states()
        old = [m for c in states for m in c.members]
        options = dict(next_claim_id=store.next_claim_id(), constraints=clustering_constraints(store),
                       pair_model=store.pair_model("claim"), embedder=embedder)
        with embedding_cache(store, old + new, embedder) as cache, engine_memo(store) as memo:
            # stored mentions without a vector of this encoder (the encoder changed, e.g.
            # torch -> ONNX): their claims were decided on other vectors, so re-cluster
            in_order = appends_in_order(old, new) and all(m.mention_id in cache for m in old)
            if in_order:
                memberships = cluster_claims(states, new, embeddings=cache, memo=memo, **options)
            else:
                memberships = rebuild(states, new=new, embeddings=cache, memo=memo, **options)
        if in_order:
            created = store.save_memberships(memberships, now)
        else:
            known = {c.claim_id for c in states}
            store.replace_memberships(memberships, now)
            created = len({m.claim_id for m in memberships} - known)
    if new or changed:
        refresh_claims(store, now)
    if not changed and not store.has_unclustered_faq():
        return created
    questions, new_entries, next_question = store.faq_states()
    if new_entries:
        with embedding_cache(store, [m for q in questions for m in q.members] + new_entries, embedder) as cache:
            store.save_faq_memberships(cluster_questions(
                questions, new_entries, next_id=next_question, embeddings=cache, embedder=embedder,
                constraints=Constraints.of(fixed=store.fixed_faq_memberships(),
                                           cannot_link_groups=store.faq_cannot_links())))
    return created


def rebuild_claims(store: Store, now: datetime, *, embedder: Embedder | None = None) -> int:
    """Re-cluster every current claim mention from scratch (after new mentions are placed).
    Claims that carry on keep their ids; editor decisions hold. Returns memberships moved."""
    cluster_new_mentions(store, now, embedder=embedder)
    states = store.claim_states()
    if not states:
        return 0
    with embedding_cache(store, [m for c in states for m in c.members], embedder) as cache, \
            engine_memo(store) as memo:
        memberships = rebuild(states, next_claim_id=store.next_claim_id(), embeddings=cache, embedder=embedder,
                              constraints=clustering_constraints(store), pair_model=store.pair_model("claim"),
                              memo=memo)
    moved = store.replace_memberships(memberships, now)
    refresh_claims(store, now)
    return moved


def refresh_claims(store: Store, now: datetime) -> None:
    """Canonical texts, first sources, conflicting figures and retirements after any change
    of membership (a clustering, or an editor's merge, split or pin)."""
    store.refresh_claims(choose_canonical, now,
                         lambda state: [c.as_dict() for c in conflicting_figures(state.members)])


def clustering_constraints(store: Store) -> Constraints:
    """The editor decisions every clustering run respects: fixed memberships (merge, split,
    pin) and the claims an editor kept apart."""
    return Constraints.of(fixed=store.fixed_memberships(), cannot_link_groups=store.cannot_links())


@contextmanager
def embedding_cache(store: Store, mentions: Sequence[MentionInput],
                    embedder: Embedder | None = None) -> Iterator[dict]:
    """{mention id: vector} from the store; whatever the clustering encodes into it is saved
    back (keyed by text) when the block ends. Each encoder's vectors are kept under its own
    name (`embedder_name`: torch and ONNX vectors are close, not equal), so a database never
    mixes them."""
    model = embedder_name(embedder if embedder is not None else default_embedder())
    cache: dict = dict(store.load_embeddings(mentions, model))
    known = set(cache)
    yield cache
    texts = {m.mention_id: m.text for m in mentions}
    fresh = {texts[mid]: embedding_to_bytes(vec) for mid, vec in cache.items()
             if mid not in known and mid in texts}
    if fresh:
        store.save_embeddings(fresh, model)


def engine_memo_path(store: Store) -> Path | None:
    """Where the claim engine's state is kept between runs (`dedupe.EngineMemo`): beside a
    SQLite file (`NAME.db.clustering-state`); for a server database, in the user's cache
    folder ($XDG_CACHE_HOME or ~/.cache, then syndicate/clustering) under a digest of its
    URL (the one process that clusters reads and writes it);
    $SYNDICATE_CLUSTERING_STATE names another folder. None for an in-memory database.

    Losing the file costs time only: a state that does not fit the stored mentions (deleted,
    stale, another database's) is ignored and the engine recomputes it."""
    url = store.engine.url
    folder = os.environ.get("SYNDICATE_CLUSTERING_STATE")
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        db = Path(url.database)
        return (Path(folder) if folder else db.parent) / f"{db.name}.clustering-state"
    if not folder:  # the XDG cache folder (platformdirs stays with the model's export)
        folder = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                     / "syndicate" / "clustering")
    key = hashlib.blake2b(url.render_as_string(hide_password=True).encode(), digest_size=10).hexdigest()
    return Path(folder) / f"{url.get_backend_name()}-{key}.clustering-state"


@contextmanager
def engine_memo(store: Store) -> Iterator[EngineMemo | None]:
    """The engine's kept state, read from `engine_memo_path`; the state the clustering
    leaves is written back when the block ends without an error (to a temporary file, then
    renamed: a reader never sees half a file)."""
    path = engine_memo_path(store)
    if path is None:
        yield None
        return
    try:
        memo = EngineMemo(path.read_bytes())
    except OSError:
        memo = EngineMemo()
    before = memo.data
    yield memo
    if memo.data is None or memo.data is before:
        return
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(memo.data)
        os.replace(tmp, path)
    except OSError:  # a read-only folder, a full disk: the next run recomputes the state
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def mention_vectors(store: Store, mentions: Sequence[MentionInput], *, embedder: Embedder | None = None) -> dict:
    """{mention id: vector} of `mentions` (the review queue's evidence): from the store's
    cache, the others encoded and saved to it."""
    with embedding_cache(store, mentions, embedder) as cache:
        vectors = embed_mentions(mentions, embedder=embedder, known=cache)
        cache.update({k: v for k, v in vectors.items() if k not in cache})
    return vectors


def encode_revisions(store: Store, revision_ids: Sequence[int], *, embedder: Embedder | None = None) -> int:
    """Encode the claim mentions of these (just stored) revisions into the store's vector
    cache, ahead of clustering: what a task-queue worker does after storing a source, so
    that the single writer that clusters finds the vectors ready. Texts already in the cache
    are not encoded again. Returns how many mentions needed a vector."""
    mentions = store.claim_mentions_of_revisions(revision_ids)
    if mentions:
        mention_vectors(store, mentions, embedder=embedder)
    return len(mentions)
