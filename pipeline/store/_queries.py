"""Read-only queries: the JSON Lines exports and the data behind the weekly digest."""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..types import Kind
from ._base import StoreBase, _iso
from .models import (
    ArticleRow,
    ClaimMember,
    ClaimRow,
    FaqRow,
    MentionRow,
    RevisionRow,
    SourceRow,
)


class QueriesMixin(StoreBase):
    # --- exports ------------------------------------------------------------------------------------

    def export_mentions(self) -> Iterator[dict]:
        with self.session() as s:
            q = (select(ArticleRow.source_id, ArticleRow.url, RevisionRow.number, MentionRow, ClaimMember.claim_id)
                 .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                 .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                 .outerjoin(ClaimMember, ClaimMember.mention_id == MentionRow.id)
                 .order_by(ArticleRow.source_id, ArticleRow.url, MentionRow.position))
            for site, url, rev, m, claim_id in s.execute(q):
                yield dict(site=site, article_url=url, revision=rev, position=m.position, text=m.text,
                           display=m.display, kind=m.kind, section=m.section, label=m.label,
                           citations=[{"text": c["text"], "url": c.get("url")} for c in m.citations or []],
                           claim_id=claim_id if m.kind == Kind.CLAIM.value else None, mention_id=m.id)

    def export_claims(self) -> Iterator[dict]:
        states = {c.claim_id: c for c in self.claim_states()}
        with self.session() as s:
            for row in s.scalars(select(ClaimRow).where(ClaimRow.status == "active").order_by(ClaimRow.id)):
                state = states.get(row.id)
                if state is None:
                    continue
                sites = sorted({m.site for m in state.members})
                yield dict(claim_id=row.id, text=row.canonical_text, sites=sites,
                           mentions=len(state.members), first_site=row.first_source_id,
                           first_seen=_iso(row.first_seen_at))

    def export_faq(self) -> Iterator[dict]:
        with self.session() as s:
            q = (select(ArticleRow.source_id, ArticleRow.url, FaqRow)
                 .join(RevisionRow, RevisionRow.id == FaqRow.revision_id)
                 .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                 .order_by(ArticleRow.source_id, ArticleRow.url, FaqRow.position))
            for site, url, f in s.execute(q):
                yield dict(site=site, article_url=url, question=f.question, answer=f.answer,
                           faq_id=f.question_id if f.question_id is not None else f.id)

    def export_articles(self) -> Iterator[dict]:
        with self.session() as s:
            counts = dict(s.execute(select(RevisionRow.article_id, func.count()).group_by(RevisionRow.article_id)).all())
            for a in s.scalars(select(ArticleRow).order_by(ArticleRow.source_id, ArticleRow.url)):
                yield dict(site=a.source_id, url=a.url, title=a.title, author=a.author,
                           published=_iso(a.published), updated=_iso(a.updated),
                           revisions=counts.get(a.id, 0), last_fetched=_iso(a.last_fetched_at))

    # --- the digest -----------------------------------------------------------------------------

    def digest_data(self, start: datetime, end: datetime) -> dict:
        """Articles first seen or published in [start, end), their claims (with every site
        stating each, also outside the week), their FAQ, and revisions made in the week."""
        states = {c.claim_id: c for c in self.claim_states()}
        with self.session() as s:
            sources = {r.id: r.name for r in s.scalars(select(SourceRow))}
            articles = list(s.scalars(select(ArticleRow).where(
                func.coalesce(ArticleRow.published, ArticleRow.first_seen_at) >= start,
                func.coalesce(ArticleRow.published, ArticleRow.first_seen_at) < end)
                .order_by(ArticleRow.published, ArticleRow.id)))
            art_by_id = {a.id: a for a in s.scalars(select(ArticleRow))}
            mention_article = dict(s.execute(
                select(MentionRow.id, RevisionRow.article_id)
                .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                .where(MentionRow.kind == Kind.CLAIM.value)).all())
            week_ids = {a.id for a in articles}
            claims = []
            for row in s.scalars(select(ClaimRow).where(ClaimRow.status == "active").order_by(ClaimRow.id)):
                state = states.get(row.id)
                if state is None:
                    continue
                arts = {mention_article[m.mention_id] for m in state.members if m.mention_id in mention_article}
                if not arts & week_ids:
                    continue
                attributions = []
                for aid in sorted(arts, key=lambda i: (art_by_id[i].source_id, i)):
                    a = art_by_id[aid]
                    attributions.append(dict(site=a.source_id, site_name=sources.get(a.source_id, a.source_id),
                                             url=a.url, title=a.title))
                claims.append(dict(claim_id=row.id, text=row.canonical_text, attributions=attributions,
                                   sites=sorted({x["site"] for x in attributions}), mentions=len(state.members)))
            claims.sort(key=lambda c: (-len(c["sites"]), -c["mentions"], c["claim_id"]))
            faq_rows = s.execute(select(ArticleRow.source_id, ArticleRow.url, FaqRow)
                                 .join(RevisionRow, RevisionRow.id == FaqRow.revision_id)
                                 .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                                 .where(ArticleRow.id.in_(week_ids) if week_ids else False)
                                 .order_by(FaqRow.question_id, FaqRow.id)).all()
            faq: dict[int, dict] = {}
            for site, url, f in faq_rows:
                key = f.question_id if f.question_id is not None else -f.id
                entry = faq.setdefault(key, dict(question=f.question, answers=[]))
                entry["answers"].append(dict(site=site, site_name=sources.get(site, site), url=url, answer=f.answer))
            changed = []
            revs = s.execute(select(RevisionRow, ArticleRow).join(ArticleRow, ArticleRow.id == RevisionRow.article_id)
                             .where(RevisionRow.number > 1, RevisionRow.fetched_at >= start,
                                    RevisionRow.fetched_at < end)).all()
            for rev, art in revs:
                changed.append(dict(site=art.source_id, site_name=sources.get(art.source_id), url=art.url,
                                    title=art.title, revision=rev.number,
                                    **self._revision_diff(s, art.id, rev.number)))
            return dict(
                articles=[dict(site=a.source_id, site_name=sources.get(a.source_id, a.source_id), url=a.url,
                               title=a.title, author=a.author, published=a.published) for a in articles],
                claims=claims, faq=list(faq.values()), changed=changed)

    def _revision_diff(self, s: Session, article_id: int, number: int) -> dict:
        def sentences(n: int) -> list[str]:
            return list(s.scalars(select(MentionRow.text).join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                                  .where(RevisionRow.article_id == article_id, RevisionRow.number == n)
                                  .order_by(MentionRow.position)))
        old, new = sentences(number - 1), sentences(number)
        return dict(added=[t for t in new if t not in old], removed=[t for t in old if t not in new])
