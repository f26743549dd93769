"""The library API: `Syndicate`, one object opened on a database and a partner registry.

Every face of Syndicate is a thin layer over it: the `syndicate` command line, the editor's
web desk, task-queue workers and users' scripts (docs/library.md). It owns the rules that
keep the database safe whoever calls:

- the run lock: every call that writes takes the database's run lock for its duration (a
  second writer gets `LockHeld` naming the holder, or waits with `run(wait=True)`);
- interruption: `stop()` (from a signal handler, another thread, a web request) asks the
  call in progress to stop; a run then stores what was fetched and is recorded
  `interrupted`, and its unclustered mentions are clustered by the next run or digest;
- the order of steps: the registry is read and checked before anything is fetched; a run
  clusters what an interrupted run left before it fetches; a digest clusters pending
  mentions first (or says it could not, when a run holds the lock); an editor's override
  refreshes canonical texts; the review's answers refit the pair model and re-cluster; an
  editor's acceptance of a partner's held pages stores them, then clusters; the scheduled
  job (`scheduled`) writes the week's digest after the run whatever its partners did.

Results are frozen dataclasses (`pipeline.types`: `RunResult`, `SourceHealth`,
`ClaimDetail`, `DigestWeek` ...; here: `DigestResult`, `ReviewQuestion` ...). Errors are
`SyndicateError`s (`pipeline.errors`).

Must not: print, read argv or the environment's terminal, install signal handlers, or
exit (the CLI does); decide what a stage decides (extraction, clustering, the digest's
content). The run's phases are `orchestrator`'s, clustering is `clustering`'s.
"""
from __future__ import annotations

import dataclasses
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from .errors import (AlreadySent, ClaimNotFound, ConfigError, Interrupted, LockHeld, OutputError, ParseError,
                     StoreError, SyndicateError)
from .registry import Registry, load_registry
from .schedule import systemd_units, write_units
from .store import DEFAULT_DB_URL, SNIPPET_END, SNIPPET_START, SqliteReader, normalize_db_url
from .types import (ClaimDetail, ClaimSummary, Counts, DigestWeek, EditorDecision, ExtractedArticle, HealthReason,
                    HealthState, HeldPage, RunRecord, RunResult, SearchHit, SendRecord, Source, SourceHealth,
                    SourceOutcome, SourceResult)

# The stages are imported where a method needs them, so that a read command (`sources`,
# `claims list`, `search`) loads neither the extractor, the HTTP client, the publisher nor
# the sentence model's stack, nor SQLAlchemy when the database is an SQLite file whose schema
# is current (`_reads()`): `python -X importtime -m pipeline.cli sources` shows it.
if TYPE_CHECKING:
    from .dedupe import Embedder
    from .fetch import FetchConfig
    from .publish import Budget, Digest, Week
    from .store import LockHolder, ReadQueries, Store

RECHECK_AFTER = timedelta(days=6)  # harvest.RECHECK_AFTER (tests/test_read_speed.py checks they agree)
_LAZY = {"Week": ("publish.week", "Week"), "DeliveryError": ("publish.mail", "DeliveryError"),
         "EXPORT_COLUMNS": ("store", "EXPORT_COLUMNS"),
         "ALLOW_PRIVATE_VAR": ("fetch", "ALLOW_PRIVATE_VAR"), "article_to_dict": ("extract", "article_to_dict")}


def __getattr__(name: str):
    """The names re-exported from the stages, imported on first use."""
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __package__), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["Syndicate", "RunEvents", "DigestResult", "EmailOutcome", "EmailPreview", "Review", "ReviewQuestion",
           "ReviewSide", "ReviewSentence", "ReviewCandidate", "ReviewAnswer", "ReviewProgress", "ExtractResult",
           "AcceptResult", "ScheduledResult", "extract_pages", "article_to_dict", "EXPORT_COLUMNS", "DEFAULT_SENDER",
           "Week", "SNIPPET_START", "SNIPPET_END", "DeliveryError", "ALLOW_PRIVATE_VAR", "systemd_units",
           "write_units", "EditorDecision", "SendRecord", "default_editor"]

DEFAULT_SENDER = "digest@syndicate.invalid"
TOPIC_LABEL_CHARS = 80
NOTE_CHARS = 4000


def default_editor() -> str:
    """Who takes a decision when nobody says: the operating-system user (the CLI's case)."""
    import getpass
    try:
        return getpass.getuser() or "editor"
    except (KeyError, OSError):
        return "editor"


def utcnow() -> datetime:
    """The default clock of every `Syndicate` (tests of the command line replace it)."""
    return datetime.now(timezone.utc)


class RunEvents:
    """What a long call tells while it works. Subclass and override what you need (the CLI
    prints them; a web desk may push them to a browser); every method here does nothing."""

    def registry_problem(self, problem: ConfigError) -> None:
        """A partner file could not be read; its partner is not run (told before any fetch)."""

    def waiting_for_lock(self, holder: LockHolder) -> None:
        """`run(wait=True)` found the lock held and waits (told once)."""

    def run_started(self, sources: int) -> None:
        """The lock is held and the run starts with this many sources."""

    def source_done(self, result: SourceResult) -> None:
        """One source is harvested and stored (in the order they finish)."""

    def note(self, message: str) -> None:
        """Anything else worth telling an operator (e.g. clustering left by an interrupted run)."""


# --- results the API adds to pipeline.types --------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EmailOutcome:
    """What became of the digest's email: delivered to the SMTP server, or written as an
    .eml (no server, a dry run, or a delivery that failed: `error` says why)."""

    recipients: tuple[str, ...]
    sent: bool
    eml_path: Path | None = None
    error: str | None = None
    message_id: str | None = None
    send: SendRecord | None = None  # the send as recorded (a delivery attempt over SMTP)


@dataclass(frozen=True, slots=True)
class EmailPreview:
    """The email a week's digest would be sent as: subject, its plain-text and HTML parts
    (exactly what `digest(email_to=...)` sends), and the digest behind them."""

    week: Week
    subject: str
    text: str
    html: str
    digest: Digest
    full: Digest
    sends: tuple[SendRecord, ...] = ()  # earlier sends of the week, newest first

    @property
    def sent(self) -> SendRecord | None:
        """The week's last successful send, if any."""
        return next((s for s in self.sends if s.status == "sent"), None)


@dataclass(frozen=True, slots=True)
class DigestResult:
    """A week's digest: `digest` as sent (within the length budget), `full` uncut; `paths`
    written (empty without `out`); `texts` per format (html, md, txt, json) when written;
    `notes` for the operator (clustering done first, or a digest that may be incomplete)."""

    week: Week
    digest: Digest
    full: Digest
    paths: tuple[Path, ...] = ()
    texts: dict = dataclasses.field(default_factory=dict)
    notes: tuple[str, ...] = ()
    email: EmailOutcome | None = None

    @property
    def refused(self) -> tuple[str, ...]:
        """Items left out because they could not be attributed (each says why)."""
        return self.digest.refused


@dataclass(frozen=True, slots=True)
class ReviewSentence:
    mention_id: int
    site: str
    partner: str  # the partner's name
    text: str
    url: str | None = None  # the partner's article


@dataclass(frozen=True, slots=True)
class ReviewSide:
    id: int  # a claim id (or FAQ question id)
    sentences: tuple[ReviewSentence, ...]


@dataclass(frozen=True, slots=True)
class ReviewCandidate:
    id: int  # a claim id (or FAQ question id)
    sentences: tuple[ReviewSentence, ...]
    p_same: float  # the pair model's P(same as the anchor), calibrated
    pairs: int  # sentence pairs a yes would join


@dataclass(frozen=True, slots=True)
class ReviewQuestion:
    """"Do these two claims say the same thing?" (one candidate) or "which of these say the
    same as A?" (several: `items` is how many the editor judges). `id` names it for
    `Review.answer`; it goes stale when any side changes. `left`/`right`, `p_same` and
    `pairs` are the anchor and the first candidate; `gain`: the expected gain that ranked it."""

    id: str
    kind: str  # claim or faq
    question: str
    p_same: float
    pairs: int
    left: ReviewSide
    right: ReviewSide
    items: int = 1
    gain: float = 0.0
    anchor: ReviewSide | None = None
    candidates: tuple[ReviewCandidate, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewProgress:
    """Where a review stands: answers given (in this session, and ever), questions left to
    ask (up to the count asked for), and the expected gain of the next one."""

    answered: int
    answered_total: int
    left: int
    next_gain: float | None


@dataclass(frozen=True, slots=True)
class ReviewAnswer:
    id: str
    verdict: str  # yes (at least one candidate merged), no, skip, not-claim
    merged_into: int | None  # the id the anchor and the merged candidates now share
    merged: tuple[int, ...] = ()  # candidates merged with the anchor
    kept_apart: tuple[int, ...] = ()  # candidates kept apart from it in every later run
    hidden: tuple[int, ...] = ()  # mentions hidden as not a claim
    items: int = 1
    decision_id: int | None = None  # the editor decision recorded for it (`Syndicate.undo` reverses it)


@dataclass(frozen=True, slots=True)
class AcceptResult:
    """An editor's acceptance of a partner's held pages (`Syndicate.accept_source`): the
    pages whose held version is now the article's current one, those whose held version
    could not be stored (`skipped`: url and why; they are released and read again next
    run), and the partner's health afterwards."""

    source_id: str
    accepted: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    health: SourceHealth


@dataclass(frozen=True, slots=True)
class ScheduledResult:
    """The scheduled job (`Syndicate.scheduled`): the run, and the week's digest written
    after it (None when the run was interrupted), or why the digest failed."""

    run: RunResult
    digest: DigestResult | None
    digest_error: str | None = None

    @property
    def outcome(self) -> str:
        """interrupted, failed (a partner failed, or the digest could not be written or
        sent), degraded, or ok."""
        if self.run.interrupted:
            return "interrupted"
        if self.digest_error or (self.digest is not None and self.digest.email is not None
                                 and self.digest.email.error):
            return "failed"
        return self.run.outcome


@dataclass(frozen=True, slots=True)
class ExtractResult:
    """One input of `extract_pages`: the article, or why there is none."""

    input: str
    article: ExtractedArticle | None
    error: str | None = None


# --- the API ----------------------------------------------------------------------------------------

class Syndicate:
    """A Syndicate database and its partner registry.

    `db`: a database URL (sqlite:///..., postgresql://...) or an SQLite file path; default
    `db/syndicate.sqlite` under the current folder. `sources`: the registry folder (one TOML
    file per partner), needed by `run` and `reprocess` only. The database is opened on first
    use: `run` creates (and migrates) it; every other call refuses a missing one with
    `MissingDatabase`, so that a mistyped path never yields an empty digest.

    `embedder` replaces the sentence model (tests use a small hashing one); `fetch_config`
    the fetcher's settings; `now` the clock (UTC). Use it as a context manager, or call
    `close()`.
    """

    def __init__(self, db: str | Path | None = None, sources: str | Path | None = None, *,
                 embedder: Embedder | None = None, fetch_config: FetchConfig | None = None,
                 now: Callable[[], datetime] | None = None):
        self.db_url = normalize_db_url(str(db) if db is not None else DEFAULT_DB_URL)
        self.sources_dir = Path(sources) if sources is not None else None
        self.embedder = embedder
        self._fetch_config_given = fetch_config
        self.now = now or (lambda: utcnow())  # looked up at each call
        self._store: Store | None = None
        self._reader: SqliteReader | None = None
        self._stops: tuple[threading.Event, ...] = ()  # of the calls in progress; replaced, never mutated
        self._stops_guard = threading.Lock()
        self._open_guard = threading.Lock()

    # --- lifetime -----------------------------------------------------------------------------

    def store(self, *, create: bool = False) -> Store:
        """The open `Store` (for what the API does not cover yet; prefer the methods)."""
        with self._open_guard:  # one Syndicate may serve several threads (a web desk)
            if self._store is None:
                from .store import Store
                self._store = Store.open(self.db_url, create=create)
            return self._store

    def check_database(self) -> None:
        """Refuse a missing database, or one without Syndicate's schema, with
        `MissingDatabase` (and migrate an older schema), as opening the store does; a
        current SQLite file is only looked at, without SQLAlchemy."""
        self._reads()

    def _reads(self) -> ReadQueries:
        """What the read methods (`source_health`, `list_claims`, `search` ...) query: the
        open `Store`; before one is open, an SQLite file whose schema is current is read
        through `sqlite3` (`SqliteReader`: the same SQL, and the command starts without
        importing SQLAlchemy); anything else opens the store (which migrates an older schema
        and refuses a missing database)."""
        with self._open_guard:
            if self._store is None and self._reader is None:
                self._reader = SqliteReader.open(self.sqlite_path())
            if self._store is None and self._reader is not None:
                return self._reader
        return self.store()

    def close(self) -> None:
        self._reader = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> "Syndicate":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def stop(self) -> None:
        """Ask the calls in progress to stop (thread-safe, and safe from a signal handler): a
        run stops starting requests, stores what it fetched and is recorded `interrupted`;
        a call still waiting for the lock raises `Interrupted`. Takes no lock itself."""
        for event in self._stops:
            event.set()

    @contextmanager
    def _stoppable(self, stop: threading.Event | None) -> Iterator[threading.Event]:
        event = stop if stop is not None else threading.Event()
        with self._stops_guard:
            self._stops = (*self._stops, event)
        try:
            yield event
        finally:
            with self._stops_guard:
                self._stops = tuple(e for e in self._stops if e is not event)

    @contextmanager
    def _writing(self, purpose: str, *, create: bool = False, wait: bool = False,
                 stop: threading.Event | None = None, events: RunEvents | None = None) -> Iterator[Store]:
        """The store, with the run lock held for the block. `LockHeld` when another process
        has it (with `wait`, wait for it instead); `Interrupted` when `stop` is set while
        waiting."""
        store = self.store(create=create)
        try:
            lock = store.acquire_lock(purpose, wait=wait, stop=stop,
                                      on_wait=events.waiting_for_lock if events else None)
        except LockHeld as e:
            if stop is not None and stop.is_set():
                raise Interrupted("interrupted while waiting for the run lock") from e
            raise
        try:
            yield store
        finally:
            lock.release()

    # --- the registry and runs ---------------------------------------------------------------------

    def registry(self, only: Sequence[str] = ()) -> Registry:
        """The usable partner files (only those named in `only`, when given) and the bad ones.
        `ConfigError` when the folder is missing, no file is usable, or a source asked for is
        missing or bad."""
        if self.sources_dir is None:
            raise ConfigError("no partner registry folder given (Syndicate(sources=...))")
        registry = load_registry(self.sources_dir)
        sources, problems = list(registry.sources), list(registry.problems)
        if only:
            bad = {Path(p.path).stem: p for p in problems if p.path}
            unknown = sorted(set(only) - {s.id for s in sources} - set(bad))
            if unknown:
                raise ConfigError(f"no such source(s) in {self.sources_dir}: {', '.join(unknown)}")
            if set(only) & set(bad):
                raise ConfigError("\n".join(str(bad[i]) for i in sorted(set(only) & set(bad))))
            sources, problems = [s for s in sources if s.id in only], []
        if not sources:
            raise ConfigError("no usable partner file:\n" + "\n".join(str(p) for p in problems))
        return Registry(tuple(sources), tuple(problems))

    def run(self, *, only: Sequence[str] = (), workers: int | None = None,
            recheck_after: timedelta = RECHECK_AFTER, min_delay: float | None = None, contact: str | None = None,
            source_budget: float | None = None, wait: bool = False, stop: threading.Event | None = None,
            events: RunEvents | None = None, force: bool = False,
            metrics_file: str | Path | None = None, queue: str | None = None, encode: bool = True,
            extract_processes: int | None = None) -> RunResult:
        """Ingest every partner of the registry once (or those in `only`): discover, fetch,
        extract, judge, store, cluster. Never raises for a partner's fault: each source's
        outcome is in the result (`result.failed`: some source failed or some partner file
        was bad; `result.degraded`: some partner served pages that looked wrong, held
        aside; `result.outcome` says which).

        A partner whose interval has not passed since its last harvest (its registry
        `interval`, its feed's <ttl> or sy:updatePeriod, its listings' Cache-Control or
        Expires) is skipped without a request (`SourceResult.skipped_until`); `force` runs
        every partner. `metrics_file`: the run's figures in the Prometheus text format,
        replaced atomically (for node_exporter's textfile collector).

        `queue` (a `redis://` URL): the sources are harvested by `work()` processes (the
        `syndicate worker` command, on this machine or others) instead of this one, one task
        per source; this call submits them, reports each as it finishes, and clusters alone
        once all are done. It needs a PostgreSQL database every worker writes. `encode`:
        the workers also encode the new sentences of their source, so that clustering here
        finds the vectors ready. `extract_processes` (without a queue): pages are extracted
        in that many other processes (0: in this one; default: one per core for a run of
        8 sources or more, started once 40 pages were extracted here; none when this API
        was given an `embedder` other than the default encoder, which the processes label with).

        Raises `ConfigError` (no usable registry, an unreachable queue), `LockHeld` (another
        run holds the database; `wait=True` waits), `Interrupted` (stopped while waiting),
        `OutputError` (the metrics file cannot be written; the run is stored). A stop during
        the run returns a result with `interrupted` set (a queued run's tasks not started
        yet are dropped). `min_delay`, `contact` and `source_budget` override the fetch
        settings for this run."""
        from . import orchestrator
        events = events or RunEvents()
        if queue is not None:
            self._check_shared("a queued run")
        with self._stoppable(stop) as stop_event:
            registry = self.registry(only)
            for problem in registry.problems:  # told first, so they are not lost in a long run
                events.registry_problem(problem)
            config = self._fetch_config(min_delay=min_delay, contact=contact, source_budget=source_budget)
            dispatcher = None
            if queue is not None:
                from .taskqueue import Dispatcher
                dispatcher = Dispatcher(queue, self.store(create=True).display_url, encode=encode,
                                        on_wait=events.note)
            with self._writing("syndicate run", create=True, wait=wait, stop=stop_event, events=events) as store:
                events.run_started(len(registry.sources))
                if dispatcher is not None:
                    result = orchestrator.run_queued(registry.sources, store, dispatcher, fetch_config=config,
                                                     now=self.now, progress=events.source_done,
                                                     recheck_after=recheck_after, stop=stop_event,
                                                     embedder=self.embedder, force=force)
                else:
                    result = orchestrator.run_sources(registry.sources, store, fetch_config=config, now=self.now,
                                                      workers=workers, progress=events.source_done,
                                                      recheck_after=recheck_after, stop=stop_event,
                                                      embedder=self.embedder, force=force,
                                                      extract_processes=extract_processes)
        result = dataclasses.replace(result, registry_problems=registry.problems)
        if metrics_file is not None:
            self.write_metrics(result, metrics_file)
        return result

    def write_metrics(self, result: RunResult, path: str | Path) -> Path:
        """A run's figures in the Prometheus text exposition format (sources ok, failed,
        degraded and skipped; requests, bytes, articles, mentions, claims, durations; each
        source's state), written atomically to `path` (name it `*.prom` in node_exporter's
        textfile folder). `OutputError` when it cannot be written."""
        from .metrics import render_metrics
        from .outfiles import atomic_write
        return atomic_write(Path(path), render_metrics(result, self.now()))

    def scheduled(self, *, week: str | Week = "last", out: str | Path, base_url: str | None = None,
                  email_to: Sequence[str] = (), email_from: str = DEFAULT_SENDER, smtp_url: str | None = None,
                  dry_run: bool = False, wait: bool = True, stop: threading.Event | None = None,
                  events: RunEvents | None = None, metrics_file: str | Path | None = None,
                  **run_options) -> ScheduledResult:
        """The job a scheduler runs: `run` (waiting for the run lock by default), then the
        week's `digest` into `out` (and its email), written whatever the partners did: a
        partner that failed or was degraded costs only its own items, and the digest names
        it in its partner note. The digest is not written when the run was interrupted (the
        next job writes it). Raises what `run` raises before the run starts (`ConfigError`,
        `LockHeld` with `wait=False`, `Interrupted`); a digest that cannot be written is in
        `result.digest_error`. `run_options`: those of `run` (only, workers, force, ...)."""
        wk = self.week(week)
        if base_url and not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"--base-url must be an http(s) URL: {base_url!r}")
        result = self.run(wait=wait, stop=stop, events=events, metrics_file=metrics_file, **run_options)
        if result.interrupted:
            return ScheduledResult(result, None)
        try:
            try:
                digest = self.digest(wk, out=out, base_url=base_url, email_to=email_to, email_from=email_from,
                                     smtp_url=smtp_url, dry_run=dry_run, events=events)
            except AlreadySent as e:  # a second job on the same week writes the digest, never mails it twice
                if events is not None:
                    events.note(f"warning: not emailed: {e}")
                digest = self.digest(wk, out=out, base_url=base_url, events=events)
        except (OutputError, ConfigError) as e:
            return ScheduledResult(result, None, str(e))
        return ScheduledResult(result, digest)

    def work(self, queue: str, *, threads: int = 8, requeue_after: float | None = None,
             stop: threading.Event | None = None, events: RunEvents | None = None, one_thread: bool = True) -> None:
        """Serve the task queue at `queue` (a `redis://` URL) until `stop()`: take the
        tasks of queued runs (`run(queue=...)`) one source each, fetch, extract and store
        it into this database, encode its new sentences. `threads` tasks at once (run one
        process per core). Politeness holds across workers: one task per host at a time,
        the host's delay between them, robots.txt obeyed. A worker killed mid-task loses
        nothing: after `requeue_after` seconds without its heartbeat (default 30) its
        tasks go back on the queue and run again, and storing them again adds nothing.
        `one_thread`: the sentence encoder of this process uses one thread (start one
        worker process per core).

        Needs a PostgreSQL database (created and migrated when new); raises `ConfigError`
        for an SQLite one or an unreachable queue."""
        from . import clustering, orchestrator
        from .taskqueue import REQUEUE_AFTER, serve
        self._check_shared("a worker")
        if one_thread:
            orchestrator.one_encoder_thread()
        events = events or RunEvents()
        store = self.store(create=True)
        encoding = threading.Lock()  # one sentence model per process, one batch at a time

        def one_source(source: Source, *, run_id: int, started: datetime, fetch_config, recheck_after: timedelta,
                       encode: bool) -> SourceOutcome:
            outcome = orchestrator.harvest_source(source, store, run_id=run_id, started=started,
                                                  fetch_config=fetch_config, recheck_after=recheck_after,
                                                  embedder=self.embedder)
            if encode and outcome.revisions:
                with encoding:
                    clustering.encode_revisions(store, outcome.revisions, embedder=self.embedder)
            return outcome

        with self._stoppable(stop) as stop_event:
            serve(store, queue, one_source, threads=threads, requeue_after=requeue_after or REQUEUE_AFTER,
                  stop=stop_event, ready=events.note)

    def _check_shared(self, what: str) -> None:
        if self.db_url.startswith("sqlite"):
            raise ConfigError(f"{what} needs a PostgreSQL database (--db postgresql://...) that every worker "
                              f"writes; {self.db_url} is an SQLite file, which one process at a time writes")

    @property
    def fetch_config(self) -> FetchConfig:
        """The fetcher's settings (`fetch_config` given, or the defaults)."""
        if self._fetch_config_given is None:
            from .fetch import FetchConfig
            self._fetch_config_given = FetchConfig()
        return self._fetch_config_given

    def _fetch_config(self, **overrides) -> FetchConfig:
        changes = {"min_delay": overrides.get("min_delay"), "user_agent_contact": overrides.get("contact"),
                   "source_budget": overrides.get("source_budget")}
        return dataclasses.replace(self.fetch_config, **{k: v for k, v in changes.items() if v is not None})

    def reprocess(self) -> RunResult:
        """Extract again from the stored snapshots, without fetching: a new revision only
        where the extraction result changed; then cluster. Partners missing from the registry
        (or without one) are extracted with their stored id."""
        from . import orchestrator
        try:
            sources: Sequence[Source] = self.registry().sources if self.sources_dir else ()
        except ConfigError:
            sources = ()
        with self._writing("syndicate reprocess") as store:
            return orchestrator.reprocess(store, sources, now=self.now(), embedder=self.embedder)

    # --- what the operator reads ------------------------------------------------------------------

    def source_health(self) -> list[SourceHealth]:
        """Each source's health: its state (`HealthState`: healthy, degraded, failed,
        unknown) since when and why (`reasons`), its pages held aside, articles stored, last
        success, last error, failures in a row, and `next_due`, when a run fetches it again
        (None: at every run; from its registry interval when the registry folder is known,
        and the pace its listings asked for)."""
        from . import plan
        rows = self._reads().source_health()
        intervals = self._intervals()
        out = []
        for h in rows:
            due = plan.source_due(now=self.now(), last_harvest=h.last_harvest, registry=intervals.get(h.id),
                                  hint=h.refresh, last_state=h.state)
            out.append(dataclasses.replace(h, next_due=due.next_at, refresh=due.interval))
        return out

    def _intervals(self) -> dict[str, timedelta]:
        if self.sources_dir is None:
            return {}
        try:
            return {s.id: s.interval for s in load_registry(self.sources_dir).sources if s.interval}
        except ConfigError:
            return {}

    def held_pages(self, source_id: str | None = None) -> list[HeldPage]:
        """Pages held aside (of one partner, or all): their new version looked wrong, its raw
        body is kept, and the article's last good version stays current until the same
        version is seen on a later run or `accept_source` stores it."""
        return self._reads().held_pages(source_id)

    def accept_source(self, source_id: str, *, urls: Sequence[str] = ()) -> AcceptResult:
        """An editor accepts what a partner serves now: its held pages (all, or those in
        `urls`) are extracted again from their kept snapshots and stored as their articles'
        current versions, the new sentences are clustered, and the partner is healthy
        again (until a later run finds otherwise). Under the run lock. `ConfigError` for an
        unknown partner or a URL that is not held."""
        from . import clustering
        from .extract import extract_article
        with self._writing("syndicate sources accept") as store:
            known = {h.id: h for h in store.source_health()}
            if source_id not in known:
                raise ConfigError(f"no source {source_id!r} in the database")
            held = store.held_for_accept(source_id)
            if urls:
                unknown = sorted(set(urls) - {u for u, *_ in held})
                if unknown:
                    raise ConfigError(f"not held for {source_id}: {', '.join(unknown)}")
                held = [h for h in held if h[0] in set(urls)]
            source = self._source(source_id, known[source_id])
            now = self.now()
            accepted: list[str] = []
            skipped: list[tuple[str, str]] = []
            for url, article_url, guid, sha in held:
                body = store.snapshot_body(sha) if sha else None
                if body is None:
                    skipped.append((url, "its held version came from the feed's content, which is not kept; "
                                         "the next run reads the page again"))
                    continue
                try:
                    article = extract_article(body, article_url or url, source=source)
                    store.save_article(source_id, article_url or url, article, guid=guid, snapshot_sha256=sha,
                                       fetched_at=now)
                except (ParseError, SyndicateError) as e:
                    skipped.append((url, str(e)))
                    continue
                accepted.append(url)
            store.release_held(source_id, [u for u, *_ in held])
            if not store.held_versions(source_id):
                store.set_source_state(source_id, HealthState.HEALTHY.value,
                                       [HealthReason("accepted", f"{len(accepted)} held page(s) accepted by an "
                                                                 f"editor")], now)
            if accepted:
                clustering.cluster_new_mentions(store, now, embedder=self.embedder)
        health = next(h for h in self.source_health() if h.id == source_id)
        return AcceptResult(source_id, tuple(accepted), tuple(skipped), health)

    def _source(self, source_id: str, known: SourceHealth) -> Source:
        """The partner as its registry file says (its selectors), else as the database knows it."""
        if self.sources_dir is not None:
            try:
                for src in load_registry(self.sources_dir).sources:
                    if src.id == source_id:
                        return src
            except ConfigError:
                pass
        return Source(id=source_id, name=known.name, homepage=known.homepage)

    def runs(self, limit: int = 10) -> list[RunRecord]:
        """The latest runs, newest first."""
        return self.store().last_runs(limit)

    def counts(self) -> Counts:
        return self.store().counts()

    # --- the digest --------------------------------------------------------------------------------

    def week(self, spec: str | Week = "last") -> Week:
        """'last' (the last complete ISO week), 'this', or '2026-W47'; `ConfigError` otherwise."""
        from .publish.week import Week
        return spec if isinstance(spec, Week) else Week.parse(spec, now=self.now())

    def digest_week(self, week: str | Week = "last", *, events: RunEvents | None = None) -> DigestWeek:
        """The rows of a week's digest, after clustering the mentions an interrupted run left
        (when a run holds the lock instead, `events.note` says the digest may be incomplete)."""
        wk = self.week(week)
        store = self.store()
        self._cluster_pending(store, events or RunEvents())
        return store.digest_week(wk.start, wk.end)

    def digest(self, week: str | Week = "last", *, out: str | Path | None = None, base_url: str | None = None,
               email_to: Sequence[str] = (), email_from: str = DEFAULT_SENDER, smtp_url: str | None = None,
               dry_run: bool = False, link: Callable[[str], str] | None = None,
               budget: Budget | None = None, rebuild_archive: bool = False,
               events: RunEvents | None = None, resend: bool = False, sent_by: str | None = None) -> DigestResult:
        """A week's digest. With `out`, written there as HTML, Markdown, text and JSON, its
        full page, and the archive (`index.html`, `feed.atom`); `base_url` is where `out` is
        published (absolute links in the feed and the email). With `email_to`, also sent
        through `smtp_url` (STARTTLS), or written as an .eml in `out` (no server, or
        `dry_run`); a delivery that fails is in `result.email.error` (the files are written,
        and the message is kept as an .eml). `link` maps every partner URL (a mirror of the
        partners' pages).

        Every file is replaced atomically; one that cannot be written (full disk, no
        permission) raises `OutputError` and leaves the earlier one in place. The archive's
        earlier weeks are rebuilt from the database when `archive.json` is damaged or lost
        some (said in `result.notes`), or all of them with `rebuild_archive`.

        Every delivery attempt over SMTP is recorded for the week (`sends`, by `sent_by`); a
        week already sent raises `AlreadySent` before anything is written, unless `resend`.

        Pending clustering comes first (see `digest_week`). Raises `ConfigError` for a bad
        week or base URL."""
        from .publish import Budget, build_digest, write_digest
        wk = self.week(week)
        if base_url and not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"--base-url must be an http(s) URL: {base_url!r}")
        if email_to and out is None:
            raise ConfigError("emailing a digest needs an output folder (out=...)")
        delivering = bool(email_to) and bool(smtp_url) and not dry_run
        if delivering and not resend:
            self._refuse_resend(wk)
        notes = _Notes(events)
        rows = self.digest_week(wk, events=notes)
        if link is not None:
            rows = rows.with_urls(link)
        if out is None:
            full = build_digest(rows, wk)
            return DigestResult(wk, full.within(budget or Budget()), full, notes=tuple(notes.said))
        out_dir = Path(out)
        store = self.store()

        def rows_for(other: Week) -> DigestWeek:
            week_rows = store.digest_week(other.start, other.end)
            return week_rows if link is None else week_rows.with_urls(link)

        published = write_digest(rows, wk, out_dir, generated_at=self.now(), base_url=base_url, budget=budget,
                                 rows_for=rows_for, rebuild_archive=rebuild_archive)
        for note in published.notes:
            notes.note(f"warning: {note}")
        email = None
        if email_to:
            email = _email(published.texts, wk, out_dir, tuple(email_to), email_from, smtp_url, dry_run)
        if delivering and email is not None:
            send_id = self.store().record_send(
                str(wk), email.recipients, status="sent" if email.sent else "failed", error=email.error,
                by=sent_by or default_editor(), now=self.now(), smtp_host=_smtp_host(smtp_url),
                message_id=email.message_id, content_hash=published.digest.content_hash(), override=resend)
            email = dataclasses.replace(email, send=next(r for r in self.sends(wk) if r.id == send_id))
        return DigestResult(wk, published.digest, published.full, published.paths, published.texts,
                            tuple(notes.said), email)

    def _refuse_resend(self, wk: Week) -> None:
        sent = next((r for r in self.store().sends(str(wk)) if r.status == "sent"), None)
        if sent is not None:
            raise AlreadySent(f"the digest of {wk} was already sent on {sent.created_at:%Y-%m-%d %H:%M} UTC to "
                              f"{', '.join(sent.recipients)} (by {sent.sent_by}); sending it again needs an "
                              "explicit override (--resend)", sent)

    def sends(self, week: str | Week | None = None) -> list[SendRecord]:
        """Every attempt to email a digest (of one week), newest first: sent or failed (why)."""
        return self.store().sends(str(self.week(week)) if week is not None else None)

    def email_preview(self, week: str | Week = "last", *, email_to: Sequence[str] = (),
                      email_from: str = DEFAULT_SENDER, base_url: str | None = None,
                      link: Callable[[str], str] | None = None, budget: Budget | None = None) -> EmailPreview:
        """The email `digest(week, email_to=...)` would send, without writing or sending
        anything: subject, plain-text and HTML parts (the same model and templates), and
        the week's earlier sends."""
        from .publish import render_digest
        from .publish.mail import build_message
        wk = self.week(week)
        rows = self.digest_week(wk)
        if link is not None:
            rows = rows.with_urls(link)
        rendered = render_digest(rows, wk, generated_at=self.now(), base_url=base_url, budget=budget)
        msg = build_message(rendered.texts, str(wk), sender=email_from, recipients=list(email_to))
        return EmailPreview(wk, str(msg["Subject"]), rendered.texts["txt"], rendered.texts["html"], rendered.digest,
                            rendered.full, tuple(self.store().sends(str(wk))))

    # --- editor decisions (the desk, and the CLI's overrides) -------------------------------------------

    def decisions(self, *, week: str | Week | None = None, limit: int = 100) -> list[EditorDecision]:
        """The editors' decisions, newest first (undone ones too, marked so), of one week
        when given: each says whether it can be undone now."""
        return self.store().decisions(limit=limit, week=str(self.week(week)) if week is not None else None)

    def topic_labels(self, week: str | Week = "last") -> list[str]:
        """The labels of the week's topics in its full digest, as shown (renames applied)."""
        from .publish import build_digest
        wk = self.week(week)
        return [t.label for t in build_digest(self.digest_week(wk), wk).topics]

    def rename_topic(self, week: str | Week, label: str, shown_as: str, *, by: str | None = None) -> EditorDecision:
        """Show the week's topic `label` as `shown_as`, in this week and every later one
        where the grouping finds that label; naming another topic of the week merges the
        two. `ConfigError` when the week has no such topic or the new label is empty."""
        wk = self.week(week)
        labels = self.topic_labels(wk)
        found = next((x for x in labels if x.lower() == " ".join(label.split()).lower()), None)
        if found is None:
            raise ConfigError(f"the digest of {wk} has no topic {label!r} (its topics: {', '.join(labels) or 'none'})")
        new = _one_line(shown_as, TOPIC_LABEL_CHARS, "a topic label")
        if new.lower() == found.lower():
            raise ConfigError(f"the topic is already called {found!r}")
        from .publish.topics import OTHER
        if found.lower() == OTHER.lower():
            raise ConfigError(f"{OTHER!r} gathers what no topic took: merge topics into it rather than rename it")
        merge = any(x.lower() == new.lower() for x in labels) or new.lower() == OTHER.lower()
        action = "topic-merge" if merge else "topic-rename"
        did = self.store().record_decision(action, subject=f"topic {found}", week=str(wk), by=by or default_editor(),
                                           now=self.now(), details={"label": found, "shown_as": new})
        return self.store().decision(did)[0]

    def merge_topics(self, week: str | Week, label: str, into: str, *, by: str | None = None) -> EditorDecision:
        """Fold the week's topic `label` into its topic `into` (kept for later weeks)."""
        wk = self.week(week)
        if not any(x.lower() == " ".join(into.split()).lower() for x in self.topic_labels(wk)):
            raise ConfigError(f"the digest of {wk} has no topic {into!r} to merge into")
        return self.rename_topic(wk, label, into, by=by)

    def set_week_note(self, week: str | Week, text: str, *, by: str | None = None) -> EditorDecision:
        """The week's note from the editor, shown first in its digest (every format and the
        email); an empty text removes it. Each version is a decision (undo restores the last)."""
        wk = self.week(week)
        from .safetext import clean_text
        body = "\n\n".join(" ".join(p.split()) for p in clean_text(text or "").replace("\r\n", "\n").split("\n\n")
                            if p.strip())
        if len(body) > NOTE_CHARS:
            raise ConfigError(f"the editor's note is {len(body)} characters long; at most {NOTE_CHARS}")
        did = self.store().record_decision("note", subject=f"note of {wk}", week=str(wk), by=by or default_editor(),
                                           now=self.now(), details={"text": body})
        return self.store().decision(did)[0]

    def undo(self, decision_id: int, *, by: str | None = None) -> EditorDecision:
        """Undo an editor decision: a topic rename or the week's note stops applying; a claims
        decision (merge, split, pin, review answer, sentences hidden as not a claim) puts the
        claims back as they were, makes its hidden sentences claims again and removes the rows
        it added (its answers, its cannot-links). A claims decision that a later one built on
        is undone after that one (`StoreError` names it). The decision stays in the history,
        marked undone (who, when)."""
        store = self.store()
        decision, undo = store.decision(decision_id)
        if decision.undone_at is not None:
            raise StoreError(f"decision {decision_id} was already undone")
        blocker = store.blocking_decision(decision_id)
        if blocker is not None:
            raise StoreError(f"undo decision {blocker} first: it changed the same claims after decision {decision_id}")
        who = by or default_editor()
        from . import clustering
        if undo.get("claims") is not None or undo.get("faq") is not None or undo.get("hidden"):
            with self._writing("syndicate desk (undo)") as store:
                now = self.now()
                with store.transaction():
                    still = store.still_hidden(undo.get("hidden") or ())
                    if still:
                        store.unhide_mentions(still, by=who, now=now)
                    store.restore_claims(undo, now)
                    clustering.refresh_claims(store, now)
                    store.mark_undone(decision_id, by=who, now=now)
                if still:  # a copy of a hidden sentence that was in no claim before joins one now
                    clustering.cluster_new_mentions(store, now, embedder=self.embedder)
        else:
            store.mark_undone(decision_id, by=who, now=self.now())
        return store.decision(decision_id)[0]

    def _claims_decision(self, action: str, claim_ids: Iterable[int], apply: Callable[[Store, datetime], object], *,
                         by: str | None, week: str | Week | None, subject: str,
                         details: Callable[[object], dict]) -> tuple[object, int]:
        """Apply a claims override under the run lock, refresh canonical texts, and record it
        as an editor decision with what undoing it restores. Returns (its result, decision id)."""
        from . import clustering
        wk = str(self.week(week)) if week is not None else None
        with self._writing("syndicate claims (editor override)") as store, store.transaction():
            now = self.now()
            before = store.claims_snapshot(claim_ids)
            result = apply(store, now)
            clustering.refresh_claims(store, now)
            undo = {**before, "added": store.claims_added_since(before)}
            did = store.record_decision(action, subject=subject, details=details(result), by=by or default_editor(),
                                        now=now, week=wk, undo=undo)
        return result, did

    def _cluster_pending(self, store: Store, events: RunEvents) -> None:
        """An interrupted run leaves claim mentions (and FAQ entries) unclustered: cluster
        them before a digest reports on them, or, when a run holds the lock (and will
        cluster them itself), say that this digest may be incomplete."""
        pending = store.count_unclustered()
        if not pending:
            return
        lock, holder = store.try_lock("syndicate digest (clustering)")
        if lock is None:
            events.note(f"warning: {pending} claim mention(s) and FAQ entries are not clustered yet and a run is "
                        f"in progress ({holder.describe()}); this digest may miss or split claims")
            return
        from . import clustering
        with lock:
            events.note(f"clustering {pending} claim mention(s) and FAQ entries an interrupted run left")
            clustering.cluster_new_mentions(store, self.now(), embedder=self.embedder)

    # --- claims ------------------------------------------------------------------------------------

    def list_claims(self, *, min_partners: int | None = None, sites: Sequence[str] = (),
                    since: datetime | None = None) -> list[ClaimSummary]:
        """Active claims with the partners stating each, most partners first. `sites`: stated
        by one of these; `since`: first seen by Syndicate on or after it."""
        rows = self._reads().claims_list(min_partners=min_partners, since=since)
        return [r for r in rows if set(r.sites) & set(sites)] if sites else rows

    def get_claim(self, claim_id: int) -> ClaimDetail:
        """A claim with every current member (its own sentence, site, article, revision) and
        how each was decided; `ClaimNotFound` when there is none."""
        detail = self.store().claim_detail(claim_id)
        if detail is None:
            raise ClaimNotFound(f"no claim {claim_id}")
        return detail

    def merge_claims(self, keep: int, other: int, *, by: str | None = None,
                     week: str | Week | None = None) -> ClaimDetail:
        """Editor override: claim `other` joins `keep` (whose id stays); every later run
        respects it. Recorded as a decision of `by` (default: the system user), on `week`
        when given, that `undo` reverses. Returns `keep` as it now stands."""
        self._claims_decision("merge", (keep, other), lambda store, now: store.merge_claims(keep, other, now), by=by,
                              week=week, subject=f"claims {keep} and {other}",
                              details=lambda _: {"keep": keep, "other": other})
        return self.get_claim(keep)

    def split_claim(self, claim_id: int, mention_ids: Iterable[int], *, by: str | None = None,
                    week: str | Week | None = None) -> ClaimDetail:
        """Editor override: these member mentions leave `claim_id` for a new claim, which is
        returned (recorded as a decision, like `merge_claims`)."""
        ids = tuple(mention_ids)
        new_id, _ = self._claims_decision("split", (claim_id,),
                                          lambda store, now: store.split_claim(claim_id, ids, now), by=by, week=week,
                                          subject=f"claim {claim_id}",
                                          details=lambda new: {"claim_id": claim_id, "mention_ids": list(ids),
                                                               "new_claim_id": new})
        return self.get_claim(new_id)

    def pin_claim(self, claim_id: int, mention_id: int | None = None, *, by: str | None = None,
                  week: str | Week | None = None) -> ClaimDetail:
        """Editor override: the claim's text becomes `mention_id`'s (default: the current
        one), its wording leads the claim in the digest, and its current members are fixed.
        Returns the claim (`pinned_mention_id`); recorded as a decision, like `merge_claims`."""
        self._claims_decision("pin", (claim_id,), lambda store, now: store.pin_claim(claim_id, mention_id, now),
                              by=by, week=week, subject=f"claim {claim_id}",
                              details=lambda pinned: {"claim_id": claim_id, "mention_id": pinned})
        return self.get_claim(claim_id)

    def rebuild_claims(self) -> int:
        """Re-cluster every current claim mention from scratch: claims that carry on keep
        their ids, editor overrides hold, ids of claims that vanish are never reused.
        Returns the number of memberships that changed."""
        from . import clustering
        with self._writing("syndicate claims rebuild") as store:
            return clustering.rebuild_claims(store, self.now(), embedder=self.embedder)

    # --- the review queue ----------------------------------------------------------------------------

    def review(self, kinds: Iterable[str] = ("claim", "faq"), *, editor: str = "editor",
               groups: bool = False) -> "Review":
        """An editor's review session over claims and/or FAQ questions ("claim", "faq"): the
        most useful question first; each answer is applied under the run lock. `editor`:
        who answers (recorded with every sentence hidden as not a claim). `groups`: also ask
        "which of these say the same as A?" questions (default: pair questions only, which
        gave more recall per item judged, docs/dedupe.md)."""
        return Review(self, kinds, editor=editor, groups=groups)

    def hide_mentions(self, ids: Iterable[int], *, mentions: bool = False, by: str = "editor",
                      week: str | Week | None = None) -> list[int]:
        """"Not a claim": the sentences leave the claims, the digest and `claim_summary` for
        good (a decision stored with who and when, respected by every run and rebuild, and
        an editor decision on `week` when given, that `undo` reverses). `ids` are claim ids
        (every current member of each) or, with `mentions`, mention ids. Returns the mention
        ids hidden."""
        from . import clustering
        wk = str(self.week(week)) if week is not None else None
        with self._writing("syndicate claims hide") as store:
            now = self.now()
            with store.transaction():
                targets = self._mentions_of(store, ids, mentions, hidden=False)
                before = store.claims_snapshot(store.claims_of_mentions(targets))
                hidden = store.hide_mentions(targets, by=by, origin="command", now=now)
                clustering.refresh_claims(store, now)
                store.record_decision("hide", subject=f"mention{'s' if len(targets) > 1 else ''} "
                                      f"{', '.join(map(str, sorted(targets)))}",
                                      details={"mention_ids": sorted(targets), "hidden": list(hidden)}, by=by,
                                      now=now, week=wk,
                                      undo={**before, "added": store.claims_added_since(before),
                                            "hidden": list(hidden)})
        return list(hidden)

    def unhide_mentions(self, ids: Iterable[int], *, mentions: bool = False, by: str = "editor") -> list[int]:
        """Undo "not a claim": the sentences are claims again and join a claim now. `ids`:
        claim ids (the sentences hidden out of each) or, with `mentions`, mention ids. A
        `claims hide` decision none of whose sentences is hidden any more is marked undone
        (who, when), as the desk's undo would have: the history shows it no longer holds."""
        from . import clustering
        with self._writing("syndicate claims unhide") as store:
            now = self.now()
            with store.transaction():
                restored = store.unhide_mentions(self._mentions_of(store, ids, mentions, hidden=True),
                                                 by=by, now=now)
                for decision_id in store.hide_decisions_undone_by(restored):
                    store.mark_undone(decision_id, by=by, now=now)
            clustering.cluster_new_mentions(store, now, embedder=self.embedder)
        return list(restored)

    def hidden_mentions(self) -> list:
        """Every sentence an editor hid as not a claim (and not undone), with who and when:
        training data for the sentence labeller."""
        return self.store().hidden_mentions()

    @staticmethod
    def _mentions_of(store: Store, ids: Iterable[int], as_mentions: bool, *, hidden: bool) -> list[int]:
        if as_mentions:
            return list(ids)
        out: list[int] = []
        for cid in ids:
            if hidden:
                got = store.hidden_of_claim(cid)
                if not got:
                    raise ClaimNotFound(f"no mention of claim {cid} is hidden (give mention ids)")
            else:
                detail = store.claim_detail(cid)
                if detail is None or detail.status != "active":
                    raise ClaimNotFound(f"no active claim {cid} (give mention ids)")
                got = [m.mention_id for m in detail.members]
            out.extend(got)
        return out

    # --- researchers' reads ----------------------------------------------------------------------------

    def export(self, what: str, *, since: datetime | None = None, sites: Sequence[str] = (),
               min_partners: int | None = None, kind: str | None = None) -> Iterator[dict]:
        """Rows of one export (mentions, claims, faq, articles, citations), each a dict of
        `EXPORT_COLUMNS[what]` with its provenance: rows of named columns, for CSV, JSON
        Lines and Parquet (docs/schema.md)."""
        from .store import ExportFilter
        return self.store().export(what, ExportFilter(since=since, sites=tuple(sites), min_partners=min_partners,
                                                      kind=kind))

    def write_export(self, what: str, out: IO[bytes] | str | Path, fmt: str = "jsonl", **filters) -> int:
        """One export written as jsonl, csv or parquet to a binary stream, or to a file path
        (replaced atomically: a full disk leaves the earlier file whole and raises
        `OutputError`); returns the number of rows."""
        from .dataset import write_rows
        from .outfiles import atomic_output, output_error
        from .store import EXPORT_COLUMNS
        rows = self.export(what, **filters)
        if isinstance(out, (str, Path)):
            with atomic_output(Path(out)) as stream:
                return write_rows(rows, EXPORT_COLUMNS[what], fmt, stream)
        try:
            return write_rows(rows, EXPORT_COLUMNS[what], fmt, out)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise output_error(e, getattr(out, "name", "the output stream")) from e

    def partner_ids(self) -> list[str]:
        """The ids of the partners the database knows."""
        return [s["id"] for s in self._reads().source_attribution()]

    def search(self, query: str, *, sites: Sequence[str] = (), kind: str | None = None,
               since: datetime | None = None, min_partners: int | None = None, limit: int = 50) -> list[SearchHit]:
        """Full-text search over current sentences and FAQ pairs, best first: each hit has a
        snippet, the partner and article, and its claim (or question) with its partners."""
        store = self._reads()
        rows: list[dict] = []
        for site in sites or (None,):
            rows += store.search(query, site=site, kind=kind, since=since, min_partners=min_partners, limit=limit)
        return [SearchHit.from_row(r) for r in sorted(rows, key=lambda r: r["rank"])[:limit]]

    def snapshot(self, out_dir: str | Path, *, replace: bool = False) -> dict:
        """A dataset release in `out_dir` (every export as CSV and Parquet, schema, manifest,
        data card); returns the manifest. `out_dir` must be new or empty (`replace` swaps an
        earlier snapshot for the new one in one step); `OutputError` when it cannot be
        written."""
        from .dataset import write_snapshot
        return write_snapshot(self.store(), Path(out_dir), replace=replace)

    def sqlite_path(self) -> Path | None:
        """The database file, for an SQLite database (None otherwise)."""
        return Path(self.db_url[len("sqlite:///"):]) if self.db_url.startswith("sqlite:///") else None

    def browse(self, *, host: str = "127.0.0.1", port: int = 8001) -> None:
        """Serve the SQLite database read-only in Datasette until interrupted."""
        from .browse import serve
        path = self.sqlite_path()
        if path is None:
            raise ConfigError("browse serves SQLite databases (Datasette); on PostgreSQL use psql: the views "
                              "claim_summary, claim_sources, faq_answers, article_changes are there")
        sources = self.store().source_attribution()  # migrated, so the views and search tables exist
        self.close()
        serve(path, sources, host=host, port=port)


class _Notes(RunEvents):
    """Keeps the notes of a call for its result, and passes them on."""

    def __init__(self, events: RunEvents | None):
        self.events = events
        self.said: list[str] = []

    def note(self, message: str) -> None:
        self.said.append(message)
        if self.events is not None:
            self.events.note(message)


class Review:
    """An editor's review session (`Syndicate.review`): wraps `review_session.ReviewSession`
    (the queue wired to the store) with typed questions and the run lock per answer."""

    def __init__(self, syndicate: Syndicate, kinds: Iterable[str], *, editor: str | None = None,
                 groups: bool = False):
        self._syn = syndicate
        self._kinds = tuple(kinds)
        self._groups = groups
        self._editor = editor or default_editor()
        self.answered = 0  # answers given in this session
        self.reload()

    def reload(self) -> None:
        """Read the claims and answers again (after an undo, or another editor's answers)."""
        from .review_session import ReviewSession
        self._session = ReviewSession(self._syn.store(), self._syn.now, kinds=self._kinds,
                                      embedder=self._syn.embedder, editor=self._editor,
                                      groups=self._groups)

    def questions(self, limit: int = 1) -> list[ReviewQuestion]:
        """The next questions, best first; no claim is in two of them (answer in any order)."""
        return [_review_question(self._session.as_dict(q)) for q in self._session.questions(limit)]

    def progress(self, limit: int = 100) -> ReviewProgress:
        """Answers given, questions left (counted up to `limit`), the next one's expected gain."""
        left = self._session.questions(limit)
        return ReviewProgress(self.answered, len(self._syn.store().review_answers()), len(left),
                              round(float(left[0].gain), 4) if left else None)

    def answer(self, question_id: str, verdict: str | None = None, *, same: Iterable[int] | None = None,
               hidden: Iterable[int] = (), by: str | None = None) -> ReviewAnswer:
        """Apply an answer under the run lock, in one transaction with its effect: "yes"
        (every candidate merges with the anchor), "no" (kept apart in every later run),
        "skip"; or `same` (the candidate ids that say the same; the others differ); with
        `hidden`, mention ids that are not claims at all (verdict "not-claim" or alongside).
        The answer is recorded as an editor decision of `by` (default: the session's editor)
        that `Syndicate.undo` reverses. `StaleQuestion` when its claims changed since it was
        asked; `RefusedAnswer` (nothing recorded) when the reply does not fit the question."""
        from .review_session import RefusedAnswer, Reply
        hidden = frozenset(hidden)
        who = by or self._editor
        # never beside a run's clustering; the answer, its effect and its record in one transaction
        with self._syn._writing("syndicate claims review") as store, store.transaction():
            q = self._session.find(question_id)
            if same is not None:
                if verdict is not None:
                    raise RefusedAnswer('give a verdict or "same", not both')
                reply = Reply(frozenset(same), hidden)
            elif verdict == "not-claim":
                if not hidden:
                    raise RefusedAnswer("not-claim needs the mention ids that are no claim")
                reply = Reply(hidden=hidden)
            else:
                base = Reply.verdict(q, verdict or "")
                reply = Reply(base.same, hidden, base.skip)
            sides = (q.anchor.claim_id, *(c.claim.claim_id for c in q.candidates))
            before = store.claims_snapshot(sides) if q.kind == "claim" else store.faq_snapshot(sides)
            self._session.editor = who
            done = self._session.apply(q, reply)
            undo = {**before, "added": store.claims_added_since(before), "hidden": list(done.hidden)}
            what = "claims" if q.kind == "claim" else "FAQ questions"
            did = store.record_decision("review", subject=f"{what} {', '.join(map(str, sides))}", by=who,
                                        now=self._syn.now(), undo=undo,
                                        details={"question": done.key, "kind": q.kind, "verdict": done.verdict,
                                                 "anchor": sides[0], "candidates": list(sides[1:]),
                                                 "merged_into": done.merged_into, "merged": list(done.merged),
                                                 "kept_apart": list(done.kept_apart), "hidden": list(done.hidden)})
        self.answered += 1
        return ReviewAnswer(done.key, done.verdict, done.merged_into, tuple(done.merged), tuple(done.kept_apart),
                            tuple(done.hidden), done.items, did)

    def finish(self) -> bool:
        """End the session: store the pair model refitted from every answer and, when it
        changed, re-cluster the claims with it. Returns whether it did."""
        with self._syn._writing("syndicate claims review"):
            return self._session.finish()


def _review_question(d: dict) -> ReviewQuestion:
    def sentences(s: dict) -> tuple[ReviewSentence, ...]:
        return tuple(ReviewSentence(x["mention_id"], x["site"], x["partner"], x["text"], x.get("url"))
                     for x in s["sentences"])

    def side(s: dict) -> ReviewSide:
        return ReviewSide(s["id"], sentences(s))
    candidates = tuple(ReviewCandidate(c["id"], sentences(c), c["p_same"], c["pairs"]) for c in d["candidates"])
    first = d["candidates"][0]
    return ReviewQuestion(d["id"], d["kind"], d["question"], d.get("p_same", first["p_same"]),
                          d.get("pairs", first["pairs"]), side(d["anchor"]), side(d.get("right", first)),
                          d["items"], float(d["gain"]), side(d["anchor"]), candidates)


def _one_line(text: str, limit: int, what: str) -> str:
    from .safetext import clean_text
    value = " ".join(clean_text(text or "").split())
    if not value:
        raise ConfigError(f"{what} cannot be empty")
    if len(value) > limit:
        raise ConfigError(f"{what} is at most {limit} characters long")
    return value


def _smtp_host(smtp_url: str | None) -> str | None:
    from urllib.parse import urlsplit
    try:
        return urlsplit(smtp_url or "").hostname
    except ValueError:
        return None


# --- helpers without a database -----------------------------------------------------------------

def _email(texts: dict, week: Week, out_dir: Path, recipients: tuple[str, ...], sender: str,
           smtp_url: str | None, dry_run: bool) -> EmailOutcome:
    from .publish.mail import DeliveryError, build_message, send, write_eml
    msg = build_message(texts, str(week), sender=sender, recipients=list(recipients))
    eml = out_dir / f"digest-{week}.eml"
    message_id = str(msg["Message-ID"])
    if smtp_url and not dry_run:
        try:
            send(msg, smtp_url)
        except (ConfigError, DeliveryError) as e:
            try:  # kept, to send by hand or later
                kept = write_eml(msg, eml)
            except OutputError as e2:
                return EmailOutcome(recipients, False, None, f"{e}; and the message could not be kept: {e2}",
                                    message_id)
            return EmailOutcome(recipients, False, kept, str(e), message_id)
        return EmailOutcome(recipients, True, message_id=message_id)
    return EmailOutcome(recipients, False, write_eml(msg, eml), message_id=message_id)


def extract_pages(inputs: Iterable[str], *, name: str | None = None, stdin: IO[bytes] | None = None,
                  fetch_config: FetchConfig | None = None) -> Iterator[ExtractResult]:
    """Extract the article of each input without storing anything: a file path, an http(s)
    URL, or "-" for `stdin`. Input that is not an HTML page, or over the fetched-page size
    cap, is an error for that input alone. `name`: the partner's name (to spot its
    self-promotion)."""
    from .extract import extract_article, read_page_input
    from .fetch import Fetcher, FetchConfig
    config = fetch_config or FetchConfig()
    fetcher = None
    try:
        for item in inputs:
            try:
                if item == "-":
                    if stdin is None:
                        raise ConfigError("'-' needs standard input")
                    html, url = read_page_input(stdin, config.max_bytes), "stdin:"
                elif item.startswith(("http://", "https://")):
                    fetcher = fetcher or Fetcher(config)
                    resp = fetcher.get(item, accept="text/html")
                    html, url = resp.body, resp.final_url
                    read_page_input(None, config.max_bytes, data=html)
                else:
                    path = Path(item)
                    with path.open("rb") as f:
                        html = read_page_input(f, config.max_bytes)
                    url = path.resolve().as_uri()
                source = Source(id="cli", name=name, homepage=url) if name else None
                article = extract_article(html, url, source=source)
                if not article.text.strip() and not article.sentences:
                    raise ParseError("no article text found in the page", url, kind="empty")
            except (OSError, SyndicateError) as e:
                yield ExtractResult(item, None, str(e))
                continue
            yield ExtractResult(item, article)
    finally:
        if fetcher is not None:
            fetcher.close()

