"""Sources, their health, and runs: what `syndicate sources` reads (its queries, and
`held_pages`, are `_reads.ReadQueries`', which the command also runs without SQLAlchemy).

Health (the decisions are `pipeline.health`'s; this module keeps what they need): each
source's state since when and why, its part of every run with what its pages yielded
(`source_runs`, the baseline's material), the pages held aside (`held_pages`), and when its
last harvest started with the pace its listings asked for (the due check, `plan.source_due`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..safetext import clean_json, clean_optional, clean_text
from ..types import (Counts, ExtractedArticle, HealthReason, HealthState, Kind, Refresh, RunRecord, Source,
                     SourceResult, Yields)
from ._base import StoreBase, _content_hash, _utc
from ._clean import clean_article, fit, storable_url, url_fits
from .models import (
    ArticleRow,
    ClaimMember,
    ClaimRow,
    FaqRow,
    HeldPageRow,
    MentionRow,
    RevisionRow,
    RunRow,
    Snapshot,
    SourceRow,
    SourceRunRow,
)

_STATES = {"ok": HealthState.HEALTHY.value, "degraded": HealthState.DEGRADED.value,
           "failed": HealthState.FAILED.value}
BASELINE_ROWS = 20  # healthy rows read for a baseline (health.Rules.baseline_runs of them with pages are used)


def _reasons(report: SourceResult) -> list[dict]:
    """What `state_reasons` and `source_runs.reasons` keep: the errors of a failed source
    (first), then its health reasons."""
    return [dict(kind=fit(e.kind, 60), message=clean_text(e.message), url=clean_optional(e.url))
            for e in report.errors] + \
        [dict(kind=fit(h.kind, 60), message=clean_text(h.message), url=clean_optional(h.url)) for h in report.health]


def _key(url: str) -> str | None:
    """A URL as it is stored as a key, or None when it cannot be one."""
    cleaned = clean_text(url)
    return cleaned if url_fits(cleaned) else None


class RunsMixin(StoreBase):
    def _attach_run(self, s: Session, run_id: int) -> None:  # the lock mixin records it
        pass

    # --- sources and health -------------------------------------------------------------

    def sync_sources(self, sources: Sequence[Source]) -> None:
        with self.session() as s:
            for src in sources:
                row = s.get(SourceRow, src.id)
                name, homepage = fit(src.name, 300), clean_text(src.homepage)  # the same on both engines
                if row is None:
                    s.add(SourceRow(id=src.id, name=name, homepage=homepage, consecutive_failures=0))
                else:
                    row.name, row.homepage = name, homepage

    def record_source_result(self, report: SourceResult, now: datetime, *, run_id: int | None = None,
                             started: datetime | None = None) -> None:
        self.record_source_results([report], now, run_id=run_id, started=started)

    def record_source_results(self, reports: Sequence[SourceResult], now: datetime, *, run_id: int | None = None,
                              started: datetime | None = None) -> None:
        """Health of several sources in one transaction (their rows read in one query). With
        `run_id`, each source's part of the run is recorded too (`source_runs`), and `started`
        is kept as its last harvest. A source skipped (not due) or interrupted changes nothing."""
        with self.session() as s:
            ids = sorted({r.source_id for r in reports})
            rows = {}
            for i in range(0, len(ids), 500):
                rows.update((r.id, r) for r in s.scalars(select(SourceRow).where(SourceRow.id.in_(ids[i:i + 500]))))
            recorded: dict[str, SourceRunRow] = {}
            if run_id is not None:  # a task run again after its worker died once it had recorded
                for i in range(0, len(ids), 500):
                    recorded.update((r.source_id, r) for r in s.scalars(select(SourceRunRow).where(
                        SourceRunRow.run_id == run_id, SourceRunRow.source_id.in_(ids[i:i + 500]))))
            for report in reports:
                if report.skipped or report.interrupted:
                    continue
                self._record_source_result(rows.get(report.source_id), report, now)
                if run_id is not None:
                    self._record_source_run(s, rows.get(report.source_id), report, run_id, started or now,
                                            recorded.get(report.source_id))

    @staticmethod
    def _record_source_run(s: Session, row: SourceRow | None, report: SourceResult, run_id: int,
                           started: datetime, recorded: SourceRunRow | None = None) -> None:
        """The source's part of run `run_id`; recorded again (a queued task that ran twice),
        its row is updated, not doubled."""
        if row is None:
            return
        row.harvested_at = started
        row.hint_seconds = report.hint.seconds if report.hint else None
        row.hint_origin = fit(report.hint.origin, 40) if report.hint else None
        y = report.yields or Yields()
        values = dict(started_at=started, state=_STATES.get(report.state, report.state), reasons=_reasons(report),
                      pages=y.pages, extracted=y.extracted, structured=y.structured, sentences=y.sentences,
                      claims=y.claims, words=y.words, held=report.held, duration=report.duration)
        if recorded is None:
            s.add(SourceRunRow(run_id=run_id, source_id=report.source_id, **values))
        else:
            for k, v in values.items():
                setattr(recorded, k, v)

    @staticmethod
    def _record_source_result(row: SourceRow | None, report: SourceResult, now: datetime) -> None:
        if row is None:
            return
        state = _STATES.get(report.state, report.state)
        if row.state != state:
            row.state, row.state_since = state, now
        row.state_reasons = _reasons(report)
        row.last_run_at = now
        row.last_warning_count = len(report.warnings)
        row.last_warning = clean_text(report.warnings[0]) if report.warnings else None
        row.last_off_scope = report.off_scope
        if report.ok:
            row.last_success_at = now
            row.consecutive_failures = 0
        else:
            err = report.errors[0]
            row.last_error_at = now
            row.last_error_kind, row.last_error_message, row.last_error_url = \
                fit(err.kind, 60), clean_text(err.message), clean_optional(err.url)
            row.consecutive_failures = (row.consecutive_failures or 0) + 1

    def set_source_state(self, source_id: str, state: str, reasons: Sequence[HealthReason], now: datetime) -> None:
        """An editor's decision on a source's state (after accepting its held pages)."""
        with self.session() as s:
            row = s.get(SourceRow, source_id)
            if row is None:
                return
            if row.state != state:
                row.state, row.state_since = state, now
            row.state_reasons = [dict(kind=fit(r.kind, 60), message=clean_text(r.message), url=clean_optional(r.url))
                                 for r in reasons]

    # --- what health compares with ---------------------------------------------------------------

    def due_state(self) -> dict[str, tuple[datetime | None, Refresh | None, str | None]]:
        """{source id: (last harvest, the pace its listings asked for, its state)}."""
        with self.session() as s:
            return {r.id: (_utc(r.harvested_at),
                           Refresh(r.hint_seconds, r.hint_origin or "?") if r.hint_seconds is not None else None,
                           r.state)
                    for r in s.scalars(select(SourceRow))}

    def good_yields(self, source_id: str, limit: int = BASELINE_ROWS) -> list[Yields]:
        """What the source's pages yielded in its latest healthy runs, newest first."""
        with self.session() as s:
            rows = s.scalars(select(SourceRunRow).where(SourceRunRow.source_id == source_id,
                                                        SourceRunRow.state == HealthState.HEALTHY.value,
                                                        SourceRunRow.pages > 0)
                             .order_by(SourceRunRow.id.desc()).limit(limit))
            return [Yields(r.pages, r.extracted, r.structured, r.sentences, r.claims, r.words) for r in rows]

    def article_yields(self, source_id: str, limit: int = 50) -> list[tuple[int, int, int]]:
        """(sentences, claims, words) of the source's newest stored articles' current
        versions (headings aside): a baseline before any healthy run was recorded."""
        with self.session() as s:
            revs = s.execute(select(RevisionRow.id, RevisionRow.text)
                             .join(ArticleRow, ArticleRow.current_revision_id == RevisionRow.id)
                             .where(ArticleRow.source_id == source_id)
                             .order_by(ArticleRow.first_seen_at.desc()).limit(limit)).all()
            if not revs:
                return []
            counts: dict[int, list[int]] = {rid: [0, 0] for rid, _ in revs}
            for rid, kind in s.execute(select(MentionRow.revision_id, MentionRow.kind)
                                       .where(MentionRow.revision_id.in_(list(counts)),
                                              MentionRow.kind != Kind.HEADING.value)):
                counts[rid][0] += 1
                counts[rid][1] += kind == Kind.CLAIM.value
            return [(counts[rid][0], counts[rid][1], len((text or "").split())) for rid, text in revs]

    def current_versions(self, source_id: str, urls: Sequence[str]) -> dict[str, tuple[str, tuple[str, ...], int]]:
        """{article url: (content hash, sentence texts without headings, words)} of the
        current versions of these articles of the source (those stored)."""
        urls = [u for u in {_key(u) for u in urls} if u]
        if not urls:
            return {}
        with self.session() as s:
            revs = s.execute(select(ArticleRow.url, RevisionRow.id, RevisionRow.content_hash, RevisionRow.text)
                             .join(RevisionRow, RevisionRow.id == ArticleRow.current_revision_id)
                             .where(ArticleRow.source_id == source_id, ArticleRow.url.in_(urls))).all()
            texts: dict[int, list[str]] = {r.id: [] for r in revs}
            if texts:
                for rid, text in s.execute(select(MentionRow.revision_id, MentionRow.text)
                                           .where(MentionRow.revision_id.in_(list(texts)),
                                                  MentionRow.kind != Kind.HEADING.value)
                                           .order_by(MentionRow.revision_id, MentionRow.position)):
                    texts[rid].append(text)
            return {r.url: (r.content_hash, tuple(texts[r.id]), len((r.text or "").split())) for r in revs}

    @staticmethod
    def version_hash(article: ExtractedArticle) -> str:
        """The hash a revision of this extraction would have (after cleaning, as stored)."""
        return _content_hash(clean_article(article))

    # --- pages held aside ------------------------------------------------------------------------

    def held_source_ids(self) -> set[str]:
        """The sources with pages held aside."""
        with self.session() as s:
            return set(s.scalars(select(HeldPageRow.source_id).distinct()))

    def held_versions(self, source_id: str) -> dict[str, tuple[str, int | None, int]]:
        """{url: (content hash, first run id, sightings)} of the source's held pages."""
        with self.session() as s:
            return {r.url: (r.content_hash, r.first_run_id, r.sightings or 1)
                    for r in s.scalars(select(HeldPageRow).where(HeldPageRow.source_id == source_id))}

    def hold_page(self, source_id: str, url: str, *, article_url: str | None, guid: str | None,
                  snapshot_sha256: str | None, content_hash: str, reasons: Sequence[HealthReason],
                  run_id: int | None, now: datetime) -> int:
        """Keep a suspicious version aside (or see it again): returns how many runs have seen
        this version. A different version of the page replaces the one held."""
        url = storable_url(url)
        stored_reasons = [dict(kind=fit(r.kind, 60), message=clean_text(r.message), url=clean_optional(r.url))
                          for r in reasons]
        with self.session() as s:
            row = s.scalar(select(HeldPageRow).where(HeldPageRow.source_id == source_id, HeldPageRow.url == url))
            if row is None:
                row = HeldPageRow(source_id=source_id, url=url, first_seen_at=now, first_run_id=run_id, sightings=0)
                s.add(row)
            if row.content_hash != content_hash:
                row.content_hash, row.first_seen_at, row.first_run_id, row.sightings = content_hash, now, run_id, 0
            if row.sightings == 0 or row.last_seen_at is None or _utc(row.last_seen_at) < now:
                row.sightings = (row.sightings or 0) + 1
            row.article_url, row.guid = clean_optional(article_url), clean_optional(guid)
            row.snapshot_sha256, row.reasons, row.last_seen_at = snapshot_sha256, stored_reasons, now
            return row.sightings

    def release_held(self, source_id: str, urls: Sequence[str] | None = None) -> int:
        """Forget held pages of a source (all, or those of `urls`): recovered, confirmed,
        accepted, or no longer listed. Returns how many."""
        with self.session() as s:
            q = delete(HeldPageRow).where(HeldPageRow.source_id == source_id)
            if urls is not None:
                wanted = [u for u in {_key(u) for u in urls} if u]
                if not wanted:
                    return 0
                q = q.where(HeldPageRow.url.in_(wanted))
            return s.execute(q).rowcount or 0

    def held_for_accept(self, source_id: str) -> list[tuple[str, str | None, str | None, str | None]]:
        """(url, article url, guid, snapshot sha) of the source's held pages."""
        with self.session() as s:
            return [(r.url, r.article_url, r.guid, r.snapshot_sha256)
                    for r in s.scalars(select(HeldPageRow).where(HeldPageRow.source_id == source_id)
                                       .order_by(HeldPageRow.url))]

    # --- runs ---------------------------------------------------------------------------------------

    def record_run(self, started: datetime, finished: datetime, ok: bool, summary: dict) -> None:
        with self.session() as s:
            s.add(RunRow(started_at=started, finished_at=finished, ok=ok, summary=clean_json(summary),
                         status="ok" if ok else "failed"))

    def start_run(self, started: datetime) -> int:
        """A `running` row, so that a run that never finishes is still on record (and
        marked `abandoned` by the run that recovers its lock)."""
        with self.session() as s:
            row = RunRow(started_at=started, summary={}, status="running")
            s.add(row)
            s.flush()
            self._attach_run(s, row.id)
            return row.id

    def finish_run(self, run_id: int, finished: datetime, ok: bool, summary: dict, *,
                   status: str | None = None) -> None:
        with self.session() as s:
            row = s.get(RunRow, run_id)
            row.finished_at, row.ok, row.summary = finished, ok, clean_json(summary)
            row.status = status or ("ok" if ok else "failed")

    def count_unclustered(self) -> int:
        """Current claim mentions without a claim plus FAQ entries without a question: what
        an interrupted run leaves for the next run (or `digest`) to cluster first."""
        with self.session() as s:
            mentions = s.scalar(select(func.count()).select_from(
                self._current_claim_mentions().outerjoin(ClaimMember, ClaimMember.mention_id == MentionRow.id)
                .where(ClaimMember.mention_id.is_(None)).subquery()))
            faq = s.scalar(select(func.count()).select_from(
                self._current_faq().where(FaqRow.question_id.is_(None)).subquery()))
        return (mentions or 0) + (faq or 0)

    def has_unclustered(self) -> bool:
        """Whether `count_unclustered` would be above 0 (stops at the first one found)."""
        with self.session() as s:
            unclustered = self._current_claim_mentions().outerjoin(
                ClaimMember, ClaimMember.mention_id == MentionRow.id).where(ClaimMember.mention_id.is_(None))
            return bool(s.scalar(select(unclustered.exists()))) or self.has_unclustered_faq(s)

    def has_unclustered_faq(self, s: Session | None = None) -> bool:
        """Whether a current FAQ entry has no question yet."""
        if s is None:
            with self.session() as s:
                return self.has_unclustered_faq(s)
        return bool(s.scalar(select(self._current_faq().where(FaqRow.question_id.is_(None)).exists())))

    def last_runs(self, limit: int = 10) -> list[RunRecord]:
        """The latest runs, newest first."""
        with self.session() as s:
            return [RunRecord(id=r.id, started=_utc(r.started_at), finished=_utc(r.finished_at), ok=r.ok,
                              status=r.status, summary=dict(r.summary or {}))
                    for r in s.scalars(select(RunRow).order_by(RunRow.id.desc()).limit(limit))]

    def counts(self) -> Counts:
        with self.session() as s:
            return Counts(
                sources=s.scalar(select(func.count()).select_from(SourceRow)),
                articles=s.scalar(select(func.count()).select_from(ArticleRow)),
                revisions=s.scalar(select(func.count()).select_from(RevisionRow)),
                mentions=s.scalar(select(func.count()).select_from(MentionRow)),
                claims=s.scalar(select(func.count()).select_from(ClaimRow).where(ClaimRow.status == "active")),
                faq=s.scalar(select(func.count()).select_from(FaqRow)),
                snapshots=s.scalar(select(func.count()).select_from(Snapshot)),
            )

    def table_counts(self) -> dict[str, int]:
        """Rows in every table but the run records (`runs`, `source_runs`): what a re-run must
        leave unchanged."""
        from .models import Base
        with self.session() as s:
            return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
                    if t.name not in ("runs", "source_runs")}
