"""Claims and FAQ questions across sites: clustering state in and out, memberships,
canonical texts, and the editor's overrides (merge, split, pin)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Sequence

from sqlalchemy import func, select, update

from ..errors import StoreError
from ..types import (ClaimDetail, ClaimMemberDetail, FigureConflict, Kind, Membership, MentionInput,
                     OverrideRecord)
from ._base import StoreBase, _text_hash, _utc, insert_ignoring
from .models import (
    ArticleRow,
    ClaimMember,
    ClaimRow,
    EmbeddingRow,
    FaqRow,
    MentionRow,
    Override,
    PairModelRow,
    RevisionRow,
)

if TYPE_CHECKING:
    from ..dedupe import ClaimState


class ClaimsMixin(StoreBase):
    # --- FAQ questions across sites --------------------------------------------------------------

    def _current_faq(self):
        return (select(FaqRow.id, ArticleRow.source_id, FaqRow.question, ArticleRow.published,
                       ArticleRow.first_seen_at, FaqRow.question_id, ArticleRow.url, FaqRow.position)
                .join(RevisionRow, RevisionRow.id == FaqRow.revision_id)
                .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id))

    def faq_states(self) -> tuple[list[ClaimState], list[MentionInput], int]:
        """(questions with their current entries, entries without a question, next id)."""
        from ..dedupe import ClaimState  # imported when used: read commands never need the dedupe package
        groups: dict[int, list[MentionInput]] = {}
        new: list[MentionInput] = []
        with self.session() as s:
            for fid, site, question, pub, seen, qid, url, pos in s.execute(self._current_faq().order_by(FaqRow.id)):
                m = MentionInput(fid, site, question, pub or seen, pub, url, pos)
                (new.append(m) if qid is None else groups.setdefault(qid, []).append(m))
            next_id = (s.scalar(select(func.max(FaqRow.question_id))) or 0) + 1
        return [ClaimState(q, tuple(ms)) for q, ms in sorted(groups.items())], new, next_id

    def save_faq_memberships(self, memberships: Sequence[Membership]) -> None:
        with self.session() as s:
            for m in memberships:
                s.execute(update(FaqRow).where(FaqRow.id == m.mention_id)
                          .values(question_id=m.claim_id, method=m.method, score=float(m.score)))

    # --- claims -------------------------------------------------------------------------------

    def _current_claim_mentions(self):
        return (select(MentionRow.id, ArticleRow.source_id, MentionRow.text, ArticleRow.published,
                       ArticleRow.first_seen_at, ArticleRow.url, MentionRow.position)
                .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                .where(MentionRow.kind == Kind.CLAIM.value))

    def unclustered_mentions(self) -> list[MentionInput]:
        with self.session() as s:
            q = self._current_claim_mentions().outerjoin(ClaimMember, ClaimMember.mention_id == MentionRow.id) \
                .where(ClaimMember.mention_id.is_(None)).order_by(MentionRow.id)
            return [MentionInput(mid, site, text, pub or seen, pub, url, pos)
                    for mid, site, text, pub, seen, url, pos in s.execute(q)]

    def claim_mentions_of_revisions(self, revision_ids: Sequence[int]) -> list[MentionInput]:
        """The claim mentions of these revisions that are current (what a worker encodes
        after storing a source)."""
        ids = sorted(set(revision_ids))
        out: list[MentionInput] = []
        with self.session() as s:
            for i in range(0, len(ids), 500):
                q = self._current_claim_mentions().where(MentionRow.revision_id.in_(ids[i:i + 500]))
                out += [MentionInput(mid, site, text, pub or seen, pub, url, pos)
                        for mid, site, text, pub, seen, url, pos in s.execute(q.order_by(MentionRow.id))]
        return out

    def claim_states(self) -> list[ClaimState]:
        """Every active claim with its current members."""
        from ..dedupe import ClaimState
        with self.session() as s:
            q = self._current_claim_mentions().add_columns(ClaimMember.claim_id) \
                .join(ClaimMember, ClaimMember.mention_id == MentionRow.id).order_by(MentionRow.id)
            members: dict[int, list[MentionInput]] = {}
            for mid, site, text, pub, seen, url, pos, claim_id in s.execute(q):
                members.setdefault(claim_id, []).append(MentionInput(mid, site, text, pub or seen, pub, url, pos))
            pins = dict(s.execute(select(ClaimRow.id, ClaimRow.pinned_mention_id)
                                  .where(ClaimRow.status == "active")).all())
            return [ClaimState(cid, tuple(ms), pins.get(cid)) for cid, ms in sorted(members.items())
                    if cid in pins]

    def load_embeddings(self, mentions: Sequence[MentionInput], model: str) -> dict[int, bytes]:
        """Cached sentence vectors of these mentions, by mention id (looked up by text hash)."""
        by_hash: dict[str, list[int]] = {}
        for m in mentions:
            by_hash.setdefault(_text_hash(m.text), []).append(m.mention_id)
        out: dict[int, bytes] = {}
        hashes = list(by_hash)
        with self.session() as s:
            for i in range(0, len(hashes), 500):
                for h, vec in s.execute(select(EmbeddingRow.text_sha256, EmbeddingRow.vector)
                                        .where(EmbeddingRow.model == model,
                                               EmbeddingRow.text_sha256.in_(hashes[i:i + 500]))):
                    for mid in by_hash[h]:
                        out[mid] = vec
        return out

    def save_embeddings(self, vectors: dict[str, bytes], model: str) -> None:
        """Store vectors by text: {text: vector bytes}."""
        with self.session() as s:
            known = set()
            hashes = {_text_hash(t): v for t, v in vectors.items()}
            keys = list(hashes)
            for i in range(0, len(keys), 500):
                known.update(s.scalars(select(EmbeddingRow.text_sha256).where(
                    EmbeddingRow.model == model, EmbeddingRow.text_sha256.in_(keys[i:i + 500]))))
            rows = [dict(text_sha256=h, model=model, vector=v) for h, v in hashes.items() if h not in known]
            if rows:  # workers of a task queue may encode the same sentence at the same moment
                s.execute(insert_ignoring(s, EmbeddingRow), rows)

    def fixed_memberships(self) -> dict[int, int]:
        """Memberships an editor decided (merge, split, pin): no clustering may move them."""
        with self.session() as s:
            return dict(s.execute(select(ClaimMember.mention_id, ClaimMember.claim_id)
                                  .where(ClaimMember.method.like("editor%"))).all())

    def replace_memberships(self, memberships: Sequence[Membership], now: datetime) -> int:
        """After a rebuild: store the memberships that changed (editor ones never do).
        Returns how many moved."""
        moved = 0
        with self.session() as s:
            current = {m.mention_id: (m.claim_id, m.method) for m in s.scalars(select(ClaimMember))}
            known = set(s.scalars(select(ClaimRow.id)))
            for m in memberships:
                old = current.get(m.mention_id)
                if old is not None and (old[1].startswith("editor") or old[0] == m.claim_id):
                    continue
                if m.claim_id not in known:
                    s.add(ClaimRow(id=m.claim_id, status="active", canonical_text="", created_at=now, updated_at=now))
                    known.add(m.claim_id)
                s.merge(ClaimMember(mention_id=m.mention_id, claim_id=m.claim_id, method=m.method,
                                    score=float(m.score), decided_at=now))
                moved += 1
        return moved

    def next_claim_id(self) -> int:
        with self.session() as s:
            return (s.scalar(select(func.max(ClaimRow.id))) or 0) + 1

    def save_memberships(self, memberships: Sequence[Membership], now: datetime) -> int:
        """Store clustering decisions; creates the claims they name. Returns new claims."""
        created = 0
        with self.session() as s:
            known = set(s.scalars(select(ClaimRow.id)))
            for m in memberships:
                if m.claim_id not in known:
                    s.add(ClaimRow(id=m.claim_id, status="active", canonical_text="", created_at=now, updated_at=now))
                    known.add(m.claim_id)
                    created += 1
                s.merge(ClaimMember(mention_id=m.mention_id, claim_id=m.claim_id, method=m.method,
                                    score=float(m.score), decided_at=now))
        return created

    def refresh_claims(self, canonical_of, now: datetime, conflicts_of=None) -> None:
        """Recompute canonical text, first source and (with `conflicts_of(state)` -> list of
        dicts) conflicting figures; retire claims with no current member."""
        from ..dedupe import order_key
        states = {c.claim_id: c for c in self.claim_states()}
        with self.session() as s:
            for row in s.scalars(select(ClaimRow).where(ClaimRow.status == "active")):
                state = states.get(row.id)
                if state is None:
                    row.status, row.updated_at = "retired", now
                    continue
                mention_id = canonical_of(state)
                text = next(m.text for m in state.members if m.mention_id == mention_id)
                first = min(state.members, key=order_key)  # the earliest published, ties canonical
                if (row.canonical_mention_id, row.canonical_text, row.first_source_id) != (mention_id, text, first.site):
                    row.canonical_mention_id, row.canonical_text = mention_id, text
                    row.first_source_id, row.first_seen_at, row.updated_at = first.site, first.seen_at, now
                if conflicts_of is not None:
                    found = list(conflicts_of(state)) or None
                    if row.conflicts != found:
                        row.conflicts, row.updated_at = found, now
            s.flush()
            self._date_claims(s)  # first_seen_at: first stored; first_stated_at: the partner's date

    def claim_detail(self, claim_id: int) -> ClaimDetail | None:
        """A claim with every current member and how each was decided."""
        with self.session() as s:
            row = s.get(ClaimRow, claim_id)
            if row is None:
                return None
            q = (select(MentionRow, ClaimMember, ArticleRow.source_id, ArticleRow.url, RevisionRow.number)
                 .join(ClaimMember, ClaimMember.mention_id == MentionRow.id)
                 .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                 .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                 .where(ClaimMember.claim_id == claim_id).order_by(ArticleRow.source_id, MentionRow.position))
            members = tuple(ClaimMemberDetail(mention_id=m.id, site=site, article_url=url, revision=rev,
                                              position=m.position, section=m.section, text=m.text,
                                              method=cm.method, score=round(cm.score, 4))
                            for m, cm, site, url, rev in s.execute(q))
            overrides = tuple(OverrideRecord(action=o.action, claim_id=o.claim_id, other_claim_id=o.other_claim_id,
                                             mention_ids=tuple(o.mention_ids or ()), created_at=_utc(o.created_at))
                              for o in s.scalars(select(Override).where(
                                  (Override.claim_id == claim_id) | (Override.other_claim_id == claim_id))
                                  .order_by(Override.id)))
            canonical_site = next((m.site for m in members if m.mention_id == row.canonical_mention_id), None)
            return ClaimDetail(claim_id=row.id, status=row.status, merged_into=row.merged_into,
                               text=row.canonical_text, canonical_site=canonical_site,
                               canonical_mention_id=row.canonical_mention_id,
                               conflicts=FigureConflict.from_stored(row.conflicts),
                               pinned_mention_id=row.pinned_mention_id, first_site=row.first_source_id,
                               first_seen=_utc(row.first_seen_at), sites=tuple(sorted({m.site for m in members})),
                               members=members, overrides=overrides)

    # --- what the review queue feeds back into clustering ---------------------------------------

    def add_cannot_link(self, claim_a: int, claim_b: int, now: datetime) -> None:
        """Editor decision "these two claims differ": no later run or rebuild merges a current
        member of one with a current member of the other (stored as an override)."""
        if claim_a == claim_b:
            raise StoreError("a claim cannot be kept apart from itself")
        with self.session() as s:
            groups = []
            for cid in (claim_a, claim_b):
                row = s.get(ClaimRow, cid)
                if row is None or row.status != "active":
                    raise StoreError(f"claim {cid} does not exist or is not active")
                groups.append(sorted(s.scalars(select(ClaimMember.mention_id).where(ClaimMember.claim_id == cid))))
            s.add(Override(action="cannot-link", claim_id=claim_a, other_claim_id=claim_b,
                           mention_ids=groups, created_at=now))

    def cannot_links(self) -> list[tuple[frozenset[int], frozenset[int]]]:
        """Every "these differ" decision as two groups of mention ids (Constraints.cannot_link_groups)."""
        with self.session() as s:
            return [(frozenset(o.mention_ids[0]), frozenset(o.mention_ids[1]))
                    for o in s.scalars(select(Override).where(Override.action == "cannot-link").order_by(Override.id))]

    def save_pair_model(self, kind: str, model: dict, answers: int, now: datetime) -> int:
        """Store a fitted pair model ({names, weights, bias[, threshold]}); it becomes the one
        clustering of this kind (claim, question) uses. Returns its id."""
        with self.session() as s:
            row = PairModelRow(kind=kind, model=dict(model), answers=int(answers), created_at=now)
            s.add(row)
            s.flush()
            return row.id

    def pair_model(self, kind: str = "claim") -> dict | None:
        """The latest pair model of a kind, as stored (None when no editor answer fitted one)."""
        with self.session() as s:
            row = s.scalars(select(PairModelRow).where(PairModelRow.kind == kind)
                            .order_by(PairModelRow.id.desc()).limit(1)).first()
            return None if row is None else dict(row.model)

    def merge_claims(self, keep: int, other: int, now: datetime) -> None:
        """Editor override: every member of `other` joins `keep`; `other` is closed as merged."""
        if keep == other:
            raise StoreError("cannot merge a claim with itself")
        with self.session() as s:
            a, b = s.get(ClaimRow, keep), s.get(ClaimRow, other)
            for cid, row in ((keep, a), (other, b)):
                if row is None or row.status != "active":
                    raise StoreError(f"claim {cid} does not exist or is not active")
            s.execute(update(ClaimMember).where(ClaimMember.claim_id == other)
                      .values(claim_id=keep, method="editor-merge", score=1.0, decided_at=now))
            # KEEP's own members are part of the decision too: a rebuild must not move them
            # away from the sentences just merged with them
            s.execute(update(ClaimMember).where(ClaimMember.claim_id == keep,
                                                ClaimMember.method.not_like("editor%"))
                      .values(method="editor-merge", decided_at=now))
            b.status, b.merged_into, b.updated_at = "merged", keep, now
            s.add(Override(action="merge", claim_id=keep, other_claim_id=other, mention_ids=[], created_at=now))

    def split_claim(self, claim_id: int, mention_ids: Sequence[int], now: datetime) -> int:
        """Editor override: the given members leave `claim_id` for a new claim; returns its id."""
        with self.session() as s:
            row = s.get(ClaimRow, claim_id)
            if row is None or row.status != "active":
                raise StoreError(f"claim {claim_id} does not exist or is not active")
            members = set(s.scalars(select(ClaimMember.mention_id).where(ClaimMember.claim_id == claim_id)))
            missing = sorted(set(mention_ids) - members)
            if missing:
                raise StoreError(f"mention(s) {', '.join(map(str, missing))} are not members of claim {claim_id}")
            if set(mention_ids) == members:
                raise StoreError("a split must leave at least one mention in the claim")
            new_id = (s.scalar(select(func.max(ClaimRow.id))) or 0) + 1
            s.add(ClaimRow(id=new_id, status="active", canonical_text="", created_at=now, updated_at=now))
            s.flush()
            s.execute(update(ClaimMember).where(ClaimMember.mention_id.in_(list(mention_ids)))
                      .values(claim_id=new_id, method="editor-split", score=1.0, decided_at=now))
            s.add(Override(action="split", claim_id=claim_id, other_claim_id=new_id,
                           mention_ids=sorted(mention_ids), created_at=now))
            return new_id

    def pin_claim(self, claim_id: int, mention_id: int | None, now: datetime) -> int:
        """Editor override: fix the claim's canonical text to a member mention's text, and
        fix every current member in the claim (no later run moves them)."""
        with self.session() as s:
            row = s.get(ClaimRow, claim_id)
            if row is None or row.status != "active":
                raise StoreError(f"claim {claim_id} does not exist or is not active")
            members = set(s.scalars(select(ClaimMember.mention_id).where(ClaimMember.claim_id == claim_id)))
            mention_id = mention_id if mention_id is not None else row.canonical_mention_id
            if mention_id not in members:
                raise StoreError(f"mention {mention_id} is not a member of claim {claim_id}")
            row.pinned_mention_id, row.updated_at = mention_id, now
            s.execute(update(ClaimMember).where(ClaimMember.claim_id == claim_id,
                                                ClaimMember.method.not_like("editor%"))
                      .values(method="editor-pin", decided_at=now))
            s.add(Override(action="pin", claim_id=claim_id, other_claim_id=None, mention_ids=[mention_id],
                           created_at=now))
            return mention_id
