"""Dates and the data behind the weekly digest.

Owns how a revision is dated (the partner's date when it gives one, the fetch time when
not, and which of the two it was), the claim dates (`first_seen_at`: when Syndicate first
stored a mention; `first_stated_at`: the partner's date of the earliest statement), and
`digest_week`, the plain rows one ISO week's digest is built from. It decides nothing
about what a digest shows: that is `pipeline.publish.model`.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..types import (DigestWeek, FigureConflict, Kind, StatedCitation, WeekArticle, WeekChange, WeekClaim,
                     WeekFaq, WeekPartnerStatus, WeekStatement)
from ._base import StoreBase
from .models import ArticleRow, ClaimMember, ClaimRow, FaqRow, MentionRow, RevisionRow, RunRow, SourceRow, SourceRunRow

# A partner date later than the fetch that saw it (plus a day of clock and time-zone slack)
# is not believed: a CMS that stamps "modified" with a future scheduled date would otherwise
# put today's change into a week that has not come yet.
FUTURE_SLACK = timedelta(days=1)


def revision_date(number: int, published: datetime | None, updated: datetime | None,
                  previous: datetime | None, fetched_at: datetime) -> tuple[datetime, str]:
    """(date, source) of a new revision: the first is dated by `published` (else
    `updated`), a later one by `updated` when the partner moved it past the previous
    revision's date; otherwise by the fetch time, source "fetched"."""
    def believable(d: datetime | None) -> bool:
        return d is not None and d <= fetched_at + FUTURE_SLACK
    if number == 1:
        for value, source in ((published, "published"), (updated, "updated")):
            if believable(value):
                return value, source
    elif believable(updated) and (previous is None or updated > previous):
        return updated, "updated"
    return fetched_at, "fetched"


def _revision_day(rev=RevisionRow):
    return func.coalesce(rev.partner_date, rev.fetched_at)


class DigestMixin(StoreBase):
    # --- dates ---------------------------------------------------------------------------------------

    @staticmethod
    def _first_appearances(s: Session, article_ids=None) -> dict[tuple[int, str], tuple[datetime, str, datetime]]:
        """{(article, sentence text): (partner date, its source, fetch time)} of the first
        revision of each article holding that claim sentence. Keyed on the text, not on claim
        membership: a sentence ALANA kept in its 25 November revision was still stated on the
        18th, even after `claims rebuild` gave the current sentence a new claim."""
        q = (select(RevisionRow.article_id, MentionRow.text, _revision_day(), RevisionRow.date_source,
                    RevisionRow.fetched_at)
             .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
             .where(MentionRow.kind == Kind.CLAIM.value))
        if article_ids is not None:
            q = q.where(RevisionRow.article_id.in_(list(article_ids)))
        first: dict[tuple[int, str], tuple[datetime, str, datetime]] = {}
        for article_id, text, day, source, fetched in s.execute(q):
            key = (article_id, text)
            old = first.get(key)
            if old is None:
                first[key] = (day, source or "fetched", fetched)
            else:
                best = (day, source or "fetched") if day < old[0] else old[:2]
                first[key] = (*best, min(fetched, old[2]))
        return first

    @staticmethod
    def _current_claim_rows(s: Session, claim_ids=None):
        """(claim id, site, article id, text) of every current claim sentence."""
        q = (select(ClaimMember.claim_id, ArticleRow.source_id, ArticleRow.id, MentionRow.text)
             .join(MentionRow, MentionRow.id == ClaimMember.mention_id)
             .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
             .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
             .join(ClaimRow, ClaimRow.id == ClaimMember.claim_id)
             .where(ClaimRow.status == "active", MentionRow.kind == Kind.CLAIM.value))
        if claim_ids is not None:
            q = q.where(ClaimMember.claim_id.in_(list(claim_ids)))
        return s.execute(q).all()

    @classmethod
    def _date_claims(cls, s: Session) -> None:
        """Every active claim's first_seen_at (when Syndicate first stored one of its
        sentences) and first_stated_at (the partner's date of the earliest)."""
        first = cls._first_appearances(s)
        dates: dict[int, tuple[datetime, datetime]] = {}
        for cid, _site, article_id, text in cls._current_claim_rows(s):
            stated, _, seen = first[(article_id, text)]
            old = dates.get(cid)
            dates[cid] = (seen, stated) if old is None else (min(old[0], seen), min(old[1], stated))
        for row in s.scalars(select(ClaimRow).where(ClaimRow.status == "active")):
            if row.id in dates and (row.first_seen_at, row.first_stated_at) != dates[row.id]:
                row.first_seen_at, row.first_stated_at = dates[row.id]

    def date_claims(self) -> None:
        with self.session() as s:
            self._date_claims(s)

    # --- one week ------------------------------------------------------------------------------------

    def digest_week(self, start: datetime, end: datetime) -> DigestWeek:
        """The rows of the digest of [start, end), every date the partner's where it gave one:

        - `sources`: {id: name}
        - `articles`: articles dated in the week (published, else first seen), with `date_source`
        - `claims`: claims some partner stated in the week (its earliest mention of it dated
          in the week), each with every current statement (`statements`: site, article, the
          partner's own sentence, its date, citations), `first_seen_at` / `first_stated_at`,
          and `conflicts` (figures its partners state differently, from the claims engine)
        - `changed`: revisions after the first dated in the week, with the claim sentences
          added and removed and how many other sentences changed
        - `faq`: FAQ entries of the week's articles, with their canonical question id
        - `partner_status`: partners that failed or were degraded in a run that harvested
          the week (see `_partner_status`)
        - `editor_note`, `topic_renames`: what editors decided for the digest (`_editor`)
        """
        with self.session() as s:
            sources = {r.id: r.name for r in s.scalars(select(SourceRow))}
            day = func.coalesce(ArticleRow.published, ArticleRow.first_seen_at)
            articles = s.scalars(select(ArticleRow).where(day >= start, day < end)
                                 .order_by(ArticleRow.source_id, day, ArticleRow.id)).all()
            week_articles = tuple(WeekArticle(article_id=a.id, site=a.source_id, url=a.url, title=a.title,
                                              author=a.author, date=a.published or a.first_seen_at,
                                              date_source="published" if a.published else "fetched")
                                  for a in articles)
            result = DigestWeek(start=start, end=end, sources=sources, articles=week_articles,
                                claims=self._week_claims(s, start, end),
                                changed=self._week_changes(s, start, end),
                                faq=self._week_faq(s, [a.id for a in articles]),
                                partner_status=self._partner_status(s, start, end))
        # the editors' decisions the digest respects (issue 19): the week's note, topic renames
        year, week, _ = start.isocalendar()
        return replace(result, editor_note=self.week_note(f"{year}-W{week:02d}"),  # type: ignore[attr-defined]
                       topic_renames=self.topic_renames())  # type: ignore[attr-defined]

    @staticmethod
    def _partner_status(s: Session, start: datetime, end: datetime) -> tuple[WeekPartnerStatus, ...]:
        """Partners failed or degraded in a run that harvested the week: every run started
        in [start, end), and the first run started after it (on a Monday-morning schedule,
        the run whose articles the digest of the week just ended reports). For each: its
        worst state in those runs, the reasons of the last bad one, and whether the last of
        those runs found it healthy again."""
        run_ids = list(s.scalars(select(RunRow.id).where(RunRow.started_at >= start, RunRow.started_at < end)))
        after = s.scalar(select(RunRow.id).where(RunRow.started_at >= end).order_by(RunRow.started_at, RunRow.id)
                         .limit(1))
        if after is not None:
            run_ids.append(after)
        if not run_ids:
            return ()
        rows = s.scalars(select(SourceRunRow).where(SourceRunRow.run_id.in_(run_ids))
                         .order_by(SourceRunRow.source_id, SourceRunRow.started_at, SourceRunRow.id)).all()
        by_site: dict[str, list[SourceRunRow]] = {}
        for row in rows:
            by_site.setdefault(row.source_id, []).append(row)
        out = []
        for site, runs in sorted(by_site.items()):
            bad = [r for r in runs if r.state in ("failed", "degraded")]
            if not bad:
                continue
            state = "failed" if any(r.state == "failed" for r in bad) else "degraded"
            last = [x for x in (bad[-1].reasons or ()) if isinstance(x, dict)]
            out.append(WeekPartnerStatus(site, state, tuple(str(x.get("message", "")) for x in last[:3]), len(bad),
                                         recovered=runs[-1].state == "healthy",
                                         kinds=tuple(dict.fromkeys(str(x.get("kind", "")) for x in last))))
        return tuple(out)

    @staticmethod
    def _week_claims(s: Session, start: datetime, end: datetime) -> tuple[WeekClaim, ...]:
        # (claim, site) -> (the partner's date, its source) of that site's earliest statement
        first = DigestMixin._first_appearances(s)
        by_claim: dict[int, dict[str, tuple[datetime, str]]] = {}
        for cid, site, article_id, text in DigestMixin._current_claim_rows(s):
            day, source, _ = first[(article_id, text)]
            sites = by_claim.setdefault(cid, {})
            if site not in sites or day < sites[site][0]:
                sites[site] = (day, source)
        week_ids = [cid for cid, sites in by_claim.items() if any(start <= d < end for d, _ in sites.values())]
        if not week_ids:
            return ()
        claims = {r.id: r for r in s.scalars(select(ClaimRow).where(ClaimRow.id.in_(week_ids)))}
        current = s.execute(select(ClaimMember.claim_id, MentionRow, ArticleRow, RevisionRow)
                            .join(MentionRow, MentionRow.id == ClaimMember.mention_id)
                            .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                            .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                            .where(ClaimMember.claim_id.in_(week_ids), MentionRow.kind == Kind.CLAIM.value)
                            .order_by(ClaimMember.claim_id, ArticleRow.source_id, MentionRow.id)).all()
        statements: dict[int, list[WeekStatement]] = {}
        for cid, m, a, rev in current:
            statements.setdefault(cid, []).append(WeekStatement(
                mention_id=m.id, site=a.source_id, url=a.url, title=a.title, text=m.display or m.text,
                section=m.section, label=m.label,
                citations=tuple(StatedCitation(c.get("text"), c.get("url"), c.get("footnote"))
                                for c in m.citations or ()),
                stated_at=by_claim[cid][a.source_id][0], date_source=by_claim[cid][a.source_id][1]))
        return tuple(WeekClaim(claim_id=cid, text=claims[cid].canonical_text, first_seen_at=claims[cid].first_seen_at,
                               first_stated_at=claims[cid].first_stated_at, statements=tuple(statements[cid]),
                               # issue 8: whose sentence the text is, and members stating other figures
                               canonical_mention_id=claims[cid].canonical_mention_id,
                               conflicts=FigureConflict.from_stored(claims[cid].conflicts),
                               pinned_mention_id=claims[cid].pinned_mention_id)
                     for cid in sorted(statements))

    @staticmethod
    def _week_changes(s: Session, start: datetime, end: datetime) -> tuple[WeekChange, ...]:
        revs = s.execute(select(RevisionRow, ArticleRow).join(ArticleRow, ArticleRow.id == RevisionRow.article_id)
                         .where(RevisionRow.number > 1, _revision_day() >= start, _revision_day() < end)
                         .order_by(ArticleRow.source_id, RevisionRow.id)).all()
        changed = []
        for rev, art in revs:
            def sentences(number: int) -> list[tuple[str, str]]:
                return [(t, k) for t, k in s.execute(
                    select(MentionRow.display, MentionRow.kind)
                    .join(RevisionRow, RevisionRow.id == MentionRow.revision_id)
                    .where(RevisionRow.article_id == art.id, RevisionRow.number == number)
                    .order_by(MentionRow.position))]
            old, new = sentences(rev.number - 1), sentences(rev.number)
            old_texts, new_texts = {t for t, _ in old}, {t for t, _ in new}
            added = [(t, k) for t, k in new if t not in old_texts]
            removed = [(t, k) for t, k in old if t not in new_texts]
            claim = Kind.CLAIM.value
            changed.append(WeekChange(
                site=art.source_id, url=art.url, title=art.title, revision=rev.number,
                date=rev.partner_date or rev.fetched_at, date_source=rev.date_source or "fetched",
                added=tuple(t for t, k in added if k == claim), removed=tuple(t for t, k in removed if k == claim),
                other_changes=sum(k != claim for _, k in added + removed)))
        return tuple(changed)

    @staticmethod
    def _week_faq(s: Session, article_ids: list[int]) -> tuple[WeekFaq, ...]:
        if not article_ids:
            return ()
        rows = s.execute(select(ArticleRow.source_id, ArticleRow.url, ArticleRow.title, FaqRow)
                         .join(RevisionRow, RevisionRow.id == FaqRow.revision_id)
                         .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                         .where(ArticleRow.id.in_(article_ids))
                         .order_by(FaqRow.question_id, ArticleRow.source_id, FaqRow.position)).all()
        return tuple(WeekFaq(question_id=f.question_id, question=f.question, answer=f.answer, site=site, url=url,
                             title=title) for site, url, title, f in rows)
