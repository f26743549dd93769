"""Read-only queries: the exports, filtered, with provenance on every row (the digest's rows
are in `_digest`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from sqlalchemy import func, select

from ..errors import StoreError
from ..types import Kind
from ._base import StoreBase, _iso
from ._research import CITATION_KINDS, faq_answers
from .models import (
    ArticleRow,
    CitationRow,
    ClaimMember,
    ClaimRow,
    MentionRow,
    RevisionRow,
    SourceRow,
)


@dataclass(frozen=True, slots=True)
class ExportFilter:
    """What a researcher narrows an export to. `since`: the article was published (or, without
    a partner date, first stored) on or after it; for claims, first seen by Syndicate on or
    after it. `sites`: only these partners (claims: stated by one of them). `min_partners`:
    claims (and claim mentions) stated by, or FAQ questions answered by, at least N partners.
    `kind`: a mention's label, or a citation's kind."""

    since: datetime | None = None
    sites: tuple[str, ...] = ()
    min_partners: int | None = None
    kind: str | None = None


NO_FILTER = ExportFilter()
PROVENANCE = ("site", "site_name", "article_url", "article_title", "revision", "published", "fetched")
# The columns of each export, in order (CSV headers, Parquet schemas, docs/cli.md).
EXPORT_COLUMNS = {
    "mentions": PROVENANCE + ("mention_id", "position", "kind", "section", "label", "block", "text", "display",
                              "citations", "claim_id", "claim_partners"),
    "claims": ("claim_id", "text", "canonical_site", "sites", "partners", "mentions", "first_site", "first_seen")
    + PROVENANCE + ("canonical_mention_id", "conflicts"),
    "faq": PROVENANCE + ("faq_id", "question_id", "canonical_question", "question", "answer", "origin",
                         "faq_entry_id"),
    "articles": ("site", "site_name", "url", "title", "author", "published", "updated", "revisions", "revision",
                 "fetched", "first_seen", "last_fetched", "article_url", "article_title"),
    "citations": PROVENANCE + ("mention_id", "sentence", "sentence_kind", "position", "text", "url", "host",
                               "footnote", "kind"),
}
EXPORT_KINDS = {"mentions": tuple(k.value for k in Kind), "citations": CITATION_KINDS}


def _when(article: ArticleRow):
    return func.coalesce(article.published, article.first_seen_at)


class QueriesMixin(StoreBase):
    # --- exports ------------------------------------------------------------------------------------

    def export(self, what: str, flt: ExportFilter = NO_FILTER) -> Iterator[dict]:
        """Rows of one export (`EXPORT_COLUMNS`), each with its provenance."""
        if flt.kind and what not in EXPORT_KINDS:
            raise StoreError(f"--kind applies to mentions and citations, not {what}")
        if flt.kind and flt.kind not in EXPORT_KINDS[what]:
            raise StoreError(f"unknown {what} kind {flt.kind!r}: one of {', '.join(EXPORT_KINDS[what])}")
        return getattr(self, f"export_{what}")(flt)

    def _current(self, q, flt: ExportFilter, site_column=ArticleRow.source_id):
        if flt.since:
            q = q.where(_when(ArticleRow) >= flt.since)
        if flt.sites:
            q = q.where(site_column.in_(flt.sites))
        return q

    def export_mentions(self, flt: ExportFilter = NO_FILTER) -> Iterator[dict]:
        partners = self.claim_partners()
        with self.session() as s:
            cites: dict[int, list[dict]] = {}
            cq = self._current(select(CitationRow)
                               .join(MentionRow, MentionRow.id == CitationRow.mention_id)
                               .join(ArticleRow, ArticleRow.current_revision_id == MentionRow.revision_id), flt)
            for c in s.scalars(cq.order_by(CitationRow.mention_id, CitationRow.position)):
                cites.setdefault(c.mention_id, []).append(
                    dict(text=c.text, url=c.url, footnote=c.footnote, kind=c.kind))
            q = (select(MentionRow, ArticleRow, RevisionRow.number, RevisionRow.fetched_at, SourceRow.name,
                        ClaimMember.claim_id)
                 .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                 .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                 .join(SourceRow, SourceRow.id == ArticleRow.source_id)
                 .outerjoin(ClaimMember, ClaimMember.mention_id == MentionRow.id)
                 .order_by(ArticleRow.source_id, ArticleRow.url, MentionRow.position))
            if flt.kind:
                q = q.where(MentionRow.kind == flt.kind)
            for m, a, rev, fetched, name, claim_id in s.execute(self._current(q, flt)):
                claim_id = claim_id if m.kind == Kind.CLAIM.value else None
                n = len(partners.get(claim_id, ())) if claim_id is not None else 0
                if flt.min_partners and n < flt.min_partners:
                    continue
                yield dict(site=a.source_id, site_name=name, article_url=a.url, article_title=a.title,
                           revision=rev, published=_iso(a.published), fetched=_iso(fetched),
                           mention_id=m.id, position=m.position, kind=m.kind, section=m.section, label=m.label,
                           block=m.block, text=m.text, display=m.display, citations=cites.get(m.id, []),
                           claim_id=claim_id, claim_partners=n if claim_id is not None else None)

    def export_claims(self, flt: ExportFilter = NO_FILTER) -> Iterator[dict]:
        states = {c.claim_id: c for c in self.claim_states()}
        first_seen = {r["claim_id"]: r["first_seen"] for r in self.view_rows("claim_summary")}
        with self.session() as s:
            q = (select(ClaimRow, MentionRow.id, ArticleRow, RevisionRow.number, RevisionRow.fetched_at,
                        SourceRow.name)
                 .outerjoin(MentionRow, MentionRow.id == ClaimRow.canonical_mention_id)
                 .outerjoin(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                 .outerjoin(ArticleRow, ArticleRow.id == RevisionRow.article_id)
                 .outerjoin(SourceRow, SourceRow.id == ArticleRow.source_id)
                 .where(ClaimRow.status == "active").order_by(ClaimRow.id))
            for row, mention_id, a, rev, fetched, name in s.execute(q):
                state = states.get(row.id)
                if state is None:
                    continue
                sites = sorted({m.site for m in state.members})
                if flt.min_partners and len(sites) < flt.min_partners:
                    continue
                if flt.sites and not set(sites) & set(flt.sites):
                    continue
                seen = first_seen.get(row.id)
                if flt.since and (seen is None or seen < flt.since):
                    continue
                yield dict(claim_id=row.id, text=row.canonical_text, canonical_site=a.source_id if a else None,
                           sites=sites, partners=len(sites),
                           mentions=len(state.members), first_site=row.first_source_id,
                           first_seen=_iso(row.first_seen_at),
                           site=a.source_id if a else None, site_name=name, article_url=a.url if a else None,
                           article_title=a.title if a else None, revision=rev,
                           published=_iso(a.published) if a else None, fetched=_iso(fetched),
                           canonical_mention_id=mention_id, conflicts=row.conflicts or [])

    def export_faq(self, flt: ExportFilter = NO_FILTER) -> Iterator[dict]:
        v = faq_answers
        with self.session() as s:
            answered: dict[int, set[str]] = {}
            for qid, site in s.execute(select(v.c.question_id, v.c.site).where(v.c.question_id.is_not(None))):
                answered.setdefault(qid, set()).add(site)
            q = select(v).order_by(v.c.site, v.c.article_url, v.c.position)
            if flt.since:
                q = q.where(func.coalesce(v.c.published, v.c.fetched_at) >= flt.since)
            if flt.sites:
                q = q.where(v.c.site.in_(flt.sites))
            for r in s.execute(q):
                if flt.min_partners and len(answered.get(r.question_id, ())) < flt.min_partners:
                    continue
                yield dict(site=r.site, site_name=r.site_name, article_url=r.article_url,
                           article_title=r.article_title, revision=r.revision, published=_iso(r.published),
                           fetched=_iso(r.fetched_at),
                           faq_id=r.question_id if r.question_id is not None else r.faq_entry_id,
                           question_id=r.question_id, canonical_question=r.canonical_question,
                           question=r.question, answer=r.answer, origin=r.origin, faq_entry_id=r.faq_entry_id)

    def export_articles(self, flt: ExportFilter = NO_FILTER) -> Iterator[dict]:
        if flt.min_partners:
            raise StoreError("--min-partners applies to claims, mentions and faq, not articles")
        with self.session() as s:
            counts = dict(s.execute(select(RevisionRow.article_id, func.count()).group_by(RevisionRow.article_id)).all())
            q = (select(ArticleRow, SourceRow.name, RevisionRow.number, RevisionRow.fetched_at)
                 .join(SourceRow, SourceRow.id == ArticleRow.source_id)
                 .outerjoin(RevisionRow, RevisionRow.id == ArticleRow.current_revision_id)
                 .order_by(ArticleRow.source_id, ArticleRow.url))
            for a, name, rev, fetched in s.execute(self._current(q, flt)):
                yield dict(site=a.source_id, site_name=name, url=a.url, title=a.title, author=a.author,
                           published=_iso(a.published), updated=_iso(a.updated), revisions=counts.get(a.id, 0),
                           revision=rev, fetched=_iso(fetched), first_seen=_iso(a.first_seen_at),
                           last_fetched=_iso(a.last_fetched_at), article_url=a.url, article_title=a.title)

    def export_citations(self, flt: ExportFilter = NO_FILTER) -> Iterator[dict]:
        if flt.min_partners:
            raise StoreError("--min-partners applies to claims, mentions and faq, not citations")
        with self.session() as s:
            q = (select(CitationRow, MentionRow.display, MentionRow.kind, ArticleRow, RevisionRow.number,
                        RevisionRow.fetched_at, SourceRow.name)
                 .join(MentionRow, MentionRow.id == CitationRow.mention_id)
                 .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                 .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                 .join(SourceRow, SourceRow.id == ArticleRow.source_id)
                 .order_by(ArticleRow.source_id, ArticleRow.url, MentionRow.position, CitationRow.position))
            if flt.kind:
                q = q.where(CitationRow.kind == flt.kind)
            for c, sentence, sentence_kind, a, rev, fetched, name in s.execute(self._current(q, flt)):
                yield dict(site=a.source_id, site_name=name, article_url=a.url, article_title=a.title,
                           revision=rev, published=_iso(a.published), fetched=_iso(fetched),
                           mention_id=c.mention_id, sentence=sentence, sentence_kind=sentence_kind,
                           position=c.position, text=c.text, url=c.url, host=c.host, footnote=c.footnote,
                           kind=c.kind)
