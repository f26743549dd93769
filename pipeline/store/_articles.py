"""Fetch records (HTTP validators, raw snapshots) and articles with their revisions and
mentions: one transaction per article, a revision only when the extracted content changed.
Partner text is cleaned on the way in (`_clean`), the same way on both engines."""
from __future__ import annotations

import hashlib
import zlib
from datetime import datetime
from typing import Collection, Iterator, Sequence

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from ..safetext import clean_json, clean_optional
from ..types import ExtractedArticle, Kind, Response
from ._digest import revision_date
from ._base import SNAPSHOT_HEADERS, KnownUrl, SavedArticle, StoreBase, _content_hash, insert_ignoring, url_host
from ._clean import CONTENT_TYPE_CHARS, clean_article, fit, storable_url, url_fits
from ._research import save_citations
from .models import (
    ArticleRow,
    ClaimMember,
    FaqRow,
    HiddenSentence,
    HttpValidator,
    MentionRow,
    RevisionRow,
    Snapshot,
)


_SNAPSHOT_BODY = select(Snapshot.body).where(Snapshot.sha256 == bindparam("sha"))


class ArticlesMixin(StoreBase):
    # --- HTTP validators and snapshots ----------------------------------------------------

    def validators(self, url: str) -> tuple[str | None, str | None]:
        with self.session() as s:
            row = s.get(HttpValidator, url)
            return (row.etag, row.last_modified) if row else (None, None)

    def known_urls_on_hosts(self, hosts: Collection[str], suffixes: Collection[str] = ()) -> dict[str, "KnownUrl"]:
        """{url: KnownUrl} of the URLs on these hosts (and on subdomains of `suffixes`, each
        like ".example.org"): what one source's harvest needs, without reading every URL ever
        fetched (a queued worker's task)."""
        hosts = sorted({h.lower() for h in hosts})
        cond = [HttpValidator.host.in_(hosts)] if hosts else []
        cond += [HttpValidator.host.like("%" + s.lower().replace("%", "").replace("_", "")) for s in suffixes]
        if not cond:
            return {}
        with self.session() as s:
            rows = s.execute(select(HttpValidator.url, HttpValidator.etag, HttpValidator.last_modified,
                                    HttpValidator.snapshot_sha256, HttpValidator.status,
                                    HttpValidator.checked_at).where(or_(*cond))).all()
            return {r[0]: KnownUrl(*r[1:]) for r in rows}

    def all_validators(self) -> dict[str, "KnownUrl"]:
        """{url: KnownUrl} for every URL fetched (or found missing) before: one query, so a
        run of hundreds of sources reads its validators once."""
        with self.session() as s:
            rows = s.execute(select(HttpValidator.url, HttpValidator.etag, HttpValidator.last_modified,
                                    HttpValidator.snapshot_sha256, HttpValidator.status,
                                    HttpValidator.checked_at)).all()
            return {r[0]: KnownUrl(*r[1:]) for r in rows}

    @staticmethod
    def prepare_snapshot(body: bytes) -> tuple[str, bytes]:
        """(sha256, compressed body): CPU work a fetching thread can do (zlib and hashlib
        release the GIL) before handing the snapshot to `save_fetch_results`."""
        return hashlib.sha256(body).hexdigest(), zlib.compress(body, 6)

    def save_fetch_results(self, fetched: Sequence[tuple[Response, bool]],
                           failures: Sequence[tuple[str, int, datetime]] = (),
                           *, snapshots: bool = True,
                           prepared: dict[str, tuple[str, bytes]] | None = None,
                           defer: Collection[str] = ()) -> dict[str, str]:
        """Store the snapshots and validators of one source's fetches in one transaction;
        returns {requested url: snapshot sha}.

        `fetched` is (response, keep): keep=False forgets the URL's validators (the work
        the body was for failed), so the next run fetches it in full. `failures` are
        (url, HTTP status, when) of 4xx/5xx answers, remembered so that discovery does
        not probe a missing feed path every run. snapshots=False saves validators only
        (their snapshots were saved by an earlier call). `defer`: URLs whose snapshot is
        saved now but whose validators are not: they are saved (snapshots=False) once the
        article made from the body is stored, so that a run killed in between never leaves
        a page that looks stored without its article (the next run fetches it again)."""
        shas: dict[str, str] = {}
        with self.session() as s:
            if snapshots:
                new_shas: set[str] = set()
                for resp, keep in fetched:
                    if resp.status != 200 or not keep:
                        continue
                    ready = (prepared or {}).get(resp.url)
                    digest = ready[0] if ready else hashlib.sha256(resp.body).hexdigest()
                    shas[resp.url] = digest
                    if digest in new_shas or s.get(Snapshot, digest) is not None:
                        continue
                    new_shas.add(digest)
                    # INSERT ... ON CONFLICT DO NOTHING: workers of a task queue may store the
                    # same body (a robots.txt many hosts share) at the same moment
                    s.execute(insert_ignoring(s, Snapshot).values(
                        sha256=digest, url=clean_optional(resp.final_url), status=resp.status,
                        content_type=fit(resp.header("content-type"), CONTENT_TYPE_CHARS),
                        headers=clean_json({k: v for k, v in resp.headers if k in SNAPSHOT_HEADERS}),
                        fetched_at=resp.fetched_at, size=len(resp.body),
                        body=ready[1] if ready else zlib.compress(resp.body, 6)))
            else:
                shas = {resp.url: hashlib.sha256(resp.body).hexdigest()
                        for resp, keep in fetched if resp.status == 200 and keep}
            # a URL too long to be a key is not remembered, on either engine (nothing to revalidate)
            fetched = [(resp, keep) for resp, keep in fetched if url_fits(resp.url)]
            failures = [f for f in failures if url_fits(f[0])]
            changes: dict[str, dict] = {}  # url -> the columns to set, in the order the fetches came
            for resp, keep in fetched:
                if resp.url in defer:
                    continue
                row = changes.setdefault(resp.url, {})
                if resp.status == 200 or not keep:
                    row["etag"] = clean_optional(resp.header("etag")) if keep else None
                    row["last_modified"] = clean_optional(resp.header("last-modified")) if keep else None
                    row["snapshot_sha256"] = shas.get(resp.url) if keep else None
                row.update(final_url=clean_optional(resp.final_url), status=resp.status, checked_at=resp.fetched_at)
            for url, status, when in failures:
                changes.setdefault(url, {}).update(etag=None, last_modified=None, snapshot_sha256=None,
                                                   final_url=url, status=status, checked_at=when)
            _write_validators(s, changes)
        return shas

    def mark_articles_checked(self, source_id: str, urls: Sequence[str], when: datetime) -> None:
        """Articles whose page answered 304: fetched (conditionally) at `when`, unchanged."""
        if not urls:
            return
        with self.session() as s:
            s.execute(update(ArticleRow).where(ArticleRow.source_id == source_id, ArticleRow.url.in_(list(urls)))
                      .values(last_fetched_at=when))

    def snapshot_body(self, sha256: str) -> bytes | None:
        """The body of a stored snapshot. A plain query on a pooled connection, without an
        ORM session: a no-change run reads three of these per source from its fetching
        threads, and the session's bookkeeping was the larger part of their cost."""
        with self.engine.connect() as conn:
            body = conn.execute(_SNAPSHOT_BODY, {"sha": sha256}).scalar()
        return zlib.decompress(body) if body is not None else None

    def snapshots_for_reprocess(self) -> Iterator[tuple[str, str, str, str | None, bytes]]:
        """(source_id, article url, guid, snapshot sha, body) of every article's newest
        snapshot, one body in memory at a time (a corpus of years does not fit at once)."""
        with self.session() as s:
            rows = s.execute(
                select(ArticleRow.source_id, ArticleRow.url, ArticleRow.guid, RevisionRow.snapshot_sha256)
                .join(RevisionRow, RevisionRow.id == ArticleRow.current_revision_id)
                .where(RevisionRow.snapshot_sha256.is_not(None))
                .order_by(ArticleRow.id)).all()
        for source_id, url, guid, sha in rows:
            body = self.snapshot_body(sha)
            if body is not None:
                yield source_id, url, guid, sha, body

    # --- articles, revisions, mentions ------------------------------------------------------

    def save_article(self, source_id: str, url: str, article: ExtractedArticle, *, guid: str | None,
                     snapshot_sha256: str | None, fetched_at: datetime,
                     previous_url: str | None = None) -> SavedArticle:
        """Store an extracted article in one transaction. A new revision only when the
        extracted content changed; claim mentions whose text the previous revision had
        keep their claim (method "carried"). Partner text is cleaned first (`_clean`); a URL
        too long to be a key is refused with `StoreError`, on either engine."""
        url = storable_url(url)
        previous_url = storable_url(previous_url) if previous_url else None
        guid = clean_optional(guid)
        article = clean_article(article)
        content_hash = _content_hash(article)
        meta = article.meta
        with self.session() as s:
            row = s.scalar(select(ArticleRow).where(ArticleRow.source_id == source_id, ArticleRow.url == url))
            if row is None and previous_url and previous_url != url:
                # a permanent redirect: the article moved, it is not a new one
                row = s.scalar(select(ArticleRow).where(ArticleRow.source_id == source_id,
                                                        ArticleRow.url == previous_url))
                if row is not None:
                    row.url = url
            new_article = row is None
            if row is None:
                row = ArticleRow(source_id=source_id, url=url, first_seen_at=fetched_at, last_fetched_at=fetched_at)
                s.add(row)
            row.guid = guid or row.guid
            row.canonical_url = meta.canonical_url or row.canonical_url
            row.title = meta.title or row.title
            row.author = meta.author or row.author
            row.published = meta.published or row.published
            row.updated = meta.updated or row.updated
            row.language = meta.language or row.language
            row.last_fetched_at = fetched_at
            s.flush()
            existing = s.scalar(select(RevisionRow).where(RevisionRow.article_id == row.id,
                                                          RevisionRow.content_hash == content_hash))
            if existing is not None:
                reverted = row.current_revision_id != existing.id
                if reverted:  # content went back to an older version
                    row.current_revision_id = existing.id
                return SavedArticle(row.id, existing.id, new_article, False, reverted)
            previous_id = row.current_revision_id
            number = (s.scalar(select(func.max(RevisionRow.number)).where(RevisionRow.article_id == row.id)) or 0) + 1
            previous_date = s.scalar(select(RevisionRow.partner_date).where(RevisionRow.id == previous_id)) \
                if previous_id is not None else None
            partner_date, date_source = revision_date(number, meta.published, meta.updated, previous_date, fetched_at)
            rev = RevisionRow(article_id=row.id, number=number, content_hash=content_hash,
                              snapshot_sha256=snapshot_sha256, fetched_at=fetched_at,
                              title=meta.title, text=article.text,
                              partner_date=partner_date, date_source=date_source)
            s.add(rev)
            s.flush()
            # Core bulk inserts on the tables (not the ORM's bulk path, which handles each row
            # in Python): one statement per table instead of an ORM round trip per sentence (an
            # article has ~50; the ORM path made storing slower than extracting).
            if article.sentences:
                hidden = _hidden_texts(s, source_id)
                s.execute(insert(MentionRow.__table__), [
                    dict(revision_id=rev.id, position=sent.position, text=sent.text, display=sent.display,
                         kind=_kind_on_arrival(sent, hidden), section=sent.section, label=sent.label,
                         block=sent.block,
                         citations=[{"text": c.text, "url": c.url, "footnote": c.footnote}
                                    for c in sent.citations],
                         article_id=row.id, source_id=source_id)
                    for sent in article.sentences])
                save_citations(s, rev.id, row.id, source_id, url, article.sentences)
            if article.faq:
                s.execute(insert(FaqRow.__table__), [
                    dict(revision_id=rev.id, position=i, question=pair.question, answer=pair.answer,
                         origin=pair.origin)
                    for i, pair in enumerate(article.faq)])
            if previous_id is not None:
                mentions = s.execute(select(MentionRow.id, MentionRow.kind, MentionRow.text)
                                     .where(MentionRow.revision_id == rev.id)).all()
                self._carry_memberships(s, previous_id, mentions, fetched_at)
                self._carry_questions(s, previous_id, rev.id)
            row.current_revision_id = rev.id
            return SavedArticle(row.id, rev.id, new_article, True, True)

    @staticmethod
    def _carry_memberships(s: Session, previous_revision: int, mentions: Sequence,
                           now: datetime) -> None:
        """`mentions`: the new revision's (id, kind, text) rows."""
        from ..dedupe.normalize import normalize_for_match  # where used: read commands never need dedupe
        old = s.execute(select(MentionRow.text, ClaimMember.claim_id)
                        .join(ClaimMember, ClaimMember.mention_id == MentionRow.id)
                        .where(MentionRow.revision_id == previous_revision)).all()
        by_text = {normalize_for_match(t): c for t, c in old}
        for m in mentions:
            if m.kind == Kind.CLAIM and (claim := by_text.get(normalize_for_match(m.text))) is not None:
                s.add(ClaimMember(mention_id=m.id, claim_id=claim, method="carried", score=1.0, decided_at=now))

    @staticmethod
    def _carry_questions(s: Session, previous_revision: int, revision: int) -> None:
        from ..dedupe.normalize import normalize_for_match
        old = {normalize_for_match(q): (qid, method, score) for q, qid, method, score in s.execute(
            select(FaqRow.question, FaqRow.question_id, FaqRow.method, FaqRow.score)
            .where(FaqRow.revision_id == previous_revision, FaqRow.question_id.is_not(None)))}
        for row in s.scalars(select(FaqRow).where(FaqRow.revision_id == revision)):
            if (hit := old.get(normalize_for_match(row.question))) is not None:
                row.question_id, row.method, row.score = hit[0], "carried", 1.0


def _write_validators(s: Session, changes: dict[str, dict]) -> None:
    """Validators in a few statements (Core, no ORM objects): the URLs' existing rows are
    updated with the columns in `changes` (one executemany per set of columns), the others
    inserted. A no-change run writes one per URL it asked (all 304s): through the ORM,
    loading and flushing those rows was most of what its main thread did."""
    if not changes:
        return
    urls = list(changes)
    existing: set[str] = set()
    for i in range(0, len(urls), 500):
        existing.update(s.scalars(select(HttpValidator.url).where(HttpValidator.url.in_(urls[i:i + 500]))))
    updates: dict[tuple[str, ...], list[dict]] = {}
    inserts = []
    for url, values in changes.items():
        if url in existing:
            updates.setdefault(tuple(sorted(values)), []).append({"key": url, **values})
        else:
            inserts.append({"etag": None, "last_modified": None, "snapshot_sha256": None, "final_url": None,
                            "status": None, "checked_at": None, **values, "url": url, "host": url_host(url)})
    table = HttpValidator.__table__
    for columns, params in updates.items():
        s.execute(update(table).where(table.c.url == bindparam("key"))
                  .values({c: bindparam(c) for c in columns}), params)
    if inserts:
        s.execute(insert(table), inserts)


_HIDDEN_TEXTS = select(HiddenSentence.text).where(HiddenSentence.source_id == bindparam("source_id"),
                                                   HiddenSentence.undone_at.is_(None))


def _hidden_texts(s: Session, source_id: str) -> set[str]:
    """The texts of the partner's sentences an editor hid ("not a claim",
    `hidden_sentences`, not undone): usually none, read in one indexed query."""
    return set(s.scalars(_HIDDEN_TEXTS, {"source_id": source_id}))


def _kind_on_arrival(sentence, hidden: set[str]) -> str:
    """A new revision's claim sentence that an editor hid is labelled `hidden` on arrival:
    the decision holds for good (the exact text, as stored)."""
    kind = str(sentence.kind)
    return Kind.HIDDEN.value if kind == Kind.CLAIM.value and sentence.text in hidden else kind
