"""Sources, their health, and runs: what the operator reads with `syndicate sources`."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..safetext import clean_json, clean_optional, clean_text
from ..types import Counts, RunRecord, Source, SourceHealth, SourceResult
from ._base import StoreBase, _utc
from ._clean import fit
from .models import (
    ArticleRow,
    ClaimMember,
    ClaimRow,
    FaqRow,
    MentionRow,
    RevisionRow,
    RunRow,
    Snapshot,
    SourceRow,
)


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

    def record_source_result(self, report: SourceResult, now: datetime) -> None:
        self.record_source_results([report], now)

    def record_source_results(self, reports: Sequence[SourceResult], now: datetime) -> None:
        """Health of several sources in one transaction."""
        with self.session() as s:
            for report in reports:
                self._record_source_result(s, report, now)

    @staticmethod
    def _record_source_result(s: Session, report: SourceResult, now: datetime) -> None:
        row = s.get(SourceRow, report.source_id)
        if row is None:
            return
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

    def source_health(self) -> list[SourceHealth]:
        with self.session() as s:
            counts = dict(s.execute(select(ArticleRow.source_id, func.count()).group_by(ArticleRow.source_id)).all())
            return [SourceHealth(id=r.id, name=r.name, homepage=r.homepage, articles=counts.get(r.id, 0),
                                 last_run=_utc(r.last_run_at), last_success=_utc(r.last_success_at),
                                 last_error_kind=r.last_error_kind, last_error_message=r.last_error_message,
                                 last_error_url=r.last_error_url, last_error_at=_utc(r.last_error_at),
                                 consecutive_failures=r.consecutive_failures or 0,
                                 warnings=r.last_warning_count or 0, last_warning=r.last_warning,
                                 off_scope=r.last_off_scope or 0)
                    for r in s.scalars(select(SourceRow).order_by(SourceRow.id))]

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
        return self.count_unclustered() > 0

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
        """Rows in every table: what a re-run must leave unchanged."""
        from .models import Base
        with self.session() as s:
            return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
                    if t.name != "runs"}
