"""Task-queue workers: a run's sources harvested by `syndicate worker` processes, on this
machine or on others, all storing into one PostgreSQL database.

Owns: the broker (Dramatiq over Redis, `redis://host:6379/0`), the tasks (one per source),
the per-host locks that keep one host's requests on one worker at a time, the run's progress
(each task's outcome in Redis) and dropping the tasks of a stopped run. `syndicate run
--queue URL` submits (`Dispatcher`, handed to `orchestrator.run_queued` by the API);
`syndicate worker` serves (`serve`, handed by the API the work of one source: fetch,
extract, store with the same code as a one-process run, encode its new sentences).
Must not: decide what to fetch or how to store it, cluster (the submitter does, alone,
behind the run lock), or take the run lock.

Delivery is at least once, acknowledged late: a message is acknowledged when its task has
returned. A worker killed mid-task (SIGKILL, a lost machine) stops heartbeating; after
`requeue_after` seconds another worker's broker maintenance puts its unacknowledged
messages back on the queue, and the task runs again from the start. That is safe because
the store is idempotent: pages stored by the first attempt answer 304 from their snapshots
and add no revision, an article is one transaction, a page's validators are written only
after its article. A task that raises is retried with backoff (`MAX_RETRIES`); after the
last attempt its source is reported failed (kind "internal"), so a run always ends.

Politeness across workers: a task holds a lock for each host of its source's fetch scope
(redis-py `Lock`, with a time-to-live renewed while the task runs, so the lock of a dead
worker lapses); a task whose host is held elsewhere goes back to the delay queue and is
tried again `HOST_BUSY_DELAY` later, without counting as a failure. The next task on a host
waits the host's delay (`min_delay`, its robots.txt Crawl-delay) after the last one; robots.txt
is read (conditionally) and obeyed by every task.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Callable, Iterator, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage, Retries, TimeLimit

from .errors import ConfigError
from .fetch import FetchConfig
from .fetch.scope import InvalidHost, Scope
from .store import Store
from .types import HealthReason, Refresh, Source, SourceError, SourceOutcome, SourceResult, Yields

log = logging.getLogger("syndicate")

QUEUE = "sources"  # one task per source
ACTOR = "syndicate.harvest_source"
DEFAULT_NAMESPACE = "syndicate"
REQUEUE_AFTER = 30.0  # seconds without a worker's heartbeat before its tasks are put back on the queue
MAINTENANCE_CHANCE = 50_000  # per million broker commands: an idle worker polls about once a second
HOST_BUSY_DELAY = 1.0  # seconds before a task whose host is held by another task is tried again
MAX_HOST_WAIT = 5.0  # a host's delay up to this is waited in the task; a longer one goes back to the queue
MAX_RETRIES = 4  # a task that raises is tried this many more times (backoff 2 s .. 60 s)
TIME_LIMIT = timedelta(hours=2)  # a task still running after this is stopped and retried
RESULTS_TTL = timedelta(days=7)  # how long a run's outcomes stay in Redis
POLL = 0.25  # seconds between two looks at a run's outcomes


# --- the broker -----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class QueueUrl:
    """`redis://[:password@]host[:port][/db][?namespace=NAME]`: the Redis server, and the
    namespace of Syndicate's keys on it (default "syndicate"; one per database served)."""

    redis_url: str
    namespace: str

    @classmethod
    def parse(cls, url: str) -> "QueueUrl":
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ConfigError(f"--queue must be a redis:// URL (Dramatiq's Redis broker): {url!r}")
        query = dict(parse_qsl(parts.query))
        namespace = query.pop("namespace", DEFAULT_NAMESPACE)
        if not namespace or any(c in namespace for c in ":{} "):
            raise ConfigError(f"bad namespace in the queue URL: {namespace!r}")
        return cls(urlunsplit(parts._replace(query=urlencode(query))), namespace)

    def display(self) -> str:
        parts = urlsplit(self.redis_url)
        host = parts.hostname or "localhost"
        return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def _broker(url: QueueUrl, *, requeue_after: float = REQUEUE_AFTER, retry_when=None) -> RedisBroker:
    try:
        client = redis.Redis.from_url(url.redis_url)
        client.ping()
    except (redis.RedisError, ValueError) as e:
        raise ConfigError(f"cannot reach the task queue at {url.display()}: {e}") from e
    middleware = [TimeLimit(time_limit=int(TIME_LIMIT.total_seconds() * 1000)), CurrentMessage(),
                  Retries(max_retries=MAX_RETRIES, min_backoff=2000, max_backoff=60_000, retry_when=retry_when)]
    broker = RedisBroker(client=client, namespace=url.namespace, middleware=middleware,
                         heartbeat_timeout=int(requeue_after * 1000), maintenance_chance=MAINTENANCE_CHANCE)
    broker.declare_queue(QUEUE)
    return broker


def _keys(ns: str, token: str) -> dict[str, str]:
    return {"results": f"{ns}:run:{token}:results", "done": f"{ns}:run:{token}:done",
            "cancelled": f"{ns}:run:{token}:cancelled"}


# --- what travels: a task's payload and its outcome -------------------------------------------------

def _payload(token: str, run_id: int, db: str, source: Source, config: FetchConfig, recheck_after: timedelta,
             started: datetime, encode: bool) -> dict:
    return {"run": token, "run_id": run_id, "db": db, "source": _source_json(source),
            "fetch": dataclasses.asdict(config), "recheck_after": recheck_after.total_seconds(),
            "started": started.isoformat(), "encode": encode}


def _source_json(source: Source) -> dict:
    d = dataclasses.asdict(source)
    d["interval"] = source.interval.total_seconds() if source.interval is not None else None
    return d


def _source(d: dict) -> Source:
    d = dict(d)
    for k in ("feeds", "aliases", "allowed_hosts"):
        d[k] = tuple(d.get(k) or ())
    d["selectors"] = tuple(tuple(x) for x in d.get("selectors") or ())
    if d.get("interval") is not None:
        d["interval"] = timedelta(seconds=d["interval"])
    return Source(**d)


def _outcome_json(o: SourceOutcome) -> str:
    r = dataclasses.asdict(o.result)  # nested dataclasses become dicts, tuples lists
    r["skipped_until"] = o.result.skipped_until.isoformat() if o.result.skipped_until else None
    return json.dumps({"result": r, "changed": o.changed, "revisions": list(o.revisions),
                       "stats": o.stats or {}, "pause": o.pause})


def _outcome(data: bytes | str) -> SourceOutcome:
    d = json.loads(data)
    r = dict(d["result"])
    r["errors"] = tuple(SourceError(**e) for e in r.get("errors") or ())
    r["warnings"] = tuple(r.get("warnings") or ())
    r["health"] = tuple(HealthReason(**h) for h in r.get("health") or ())
    r["yields"] = Yields(**r["yields"]) if r.get("yields") else None
    r["skipped_until"] = datetime.fromisoformat(r["skipped_until"]) if r.get("skipped_until") else None
    for k in ("refresh", "hint"):
        r[k] = Refresh(**r[k]) if r.get(k) else None
    return SourceOutcome(SourceResult(**r), d.get("changed", False), tuple(d.get("revisions") or ()),
                         d.get("stats") or {}, d.get("pause", 0.0))


def _failed(source_id: str, kind: str, message: str) -> SourceOutcome:
    return SourceOutcome(SourceResult(source_id, errors=(SourceError(kind, message),)), stats={})


# --- the submitting side ----------------------------------------------------------------------------

class Dispatcher:
    """Submits a run's sources as tasks (`orchestrator.Dispatcher`). `db` names the
    database the run writes (a worker serving another one refuses its tasks); `encode`:
    workers encode the new sentences of their source for clustering; `on_wait` is told when
    no worker has been seen for a while."""

    def __init__(self, url: str, db: str, *, encode: bool = True, on_wait: Callable[[str], None] | None = None):
        self.url = QueueUrl.parse(url)
        self.db, self.encode, self.on_wait = db, encode, on_wait
        self.broker = _broker(self.url)

    def submit(self, run_id: int, sources: Sequence[Source], *, fetch_config: FetchConfig | None,
               recheck_after: timedelta, started: datetime) -> "_Submission":
        token = uuid.uuid4().hex
        config = fetch_config or FetchConfig()
        keys = _keys(self.url.namespace, token)
        r = self.broker.client
        for key in keys.values():
            r.delete(key)
        for source in sources:
            payload = _payload(token, run_id, self.db, source, config, recheck_after, started, self.encode)
            self.broker.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name=ACTOR, args=(payload,), kwargs={},
                                                 options={}))
        return _Submission(self, token, [s.id for s in sources])


class _Submission:
    def __init__(self, dispatcher: Dispatcher, token: str, source_ids: list[str]):
        self.d, self.token, self.source_ids = dispatcher, token, source_ids
        self.keys = _keys(dispatcher.url.namespace, token)

    def outcomes(self, stop: threading.Event) -> Iterator[SourceOutcome]:
        r = self.d.broker.client
        wanted, seen = set(self.source_ids), set()
        offset = 0
        quiet_since = time.monotonic()
        told = False
        while seen != wanted and not stop.is_set():
            ids = [x.decode() for x in r.lrange(self.keys["done"], offset, -1)]
            offset += len(ids)
            fresh = [i for i in dict.fromkeys(ids) if i in wanted and i not in seen]
            for sid, data in zip(fresh, r.hmget(self.keys["results"], fresh) if fresh else ()):
                seen.add(sid)
                yield _outcome(data) if data is not None else _failed(sid, "internal", "the task's outcome was lost")
            if fresh:
                quiet_since, told = time.monotonic(), False
            elif not told and time.monotonic() - quiet_since > 2 * REQUEUE_AFTER and self.d.on_wait:
                told = True
                self.d.on_wait(f"waiting for workers: {len(seen)} of {len(wanted)} source(s) done, none for "
                               f"{2 * REQUEUE_AFTER:.0f} s (is `syndicate worker --queue {self.d.url.display()}` "
                               "running?)")
            stop.wait(POLL)
        for key in self.keys.values():
            r.expire(key, RESULTS_TTL)

    def cancel(self) -> None:
        """Tasks that have not started are dropped by the workers; those running finish."""
        self.d.broker.client.set(self.keys["cancelled"], "1", ex=RESULTS_TTL)


# --- the working side --------------------------------------------------------------------------------

class HostBusy(dramatiq.Retry):
    """Another task holds one of the source's hosts (or the host's delay is not over): try
    again later, without counting a failure."""


class _HostLocks:
    """One lock per host of a source's scope, renewed while held."""

    def __init__(self, client: redis.Redis, ns: str, keys: Sequence[str], ttl: float):
        self.client, self.ns, self.ttl = client, ns, ttl
        self.locks = [client.lock(f"{ns}:host:{k}", timeout=ttl, blocking=False, thread_local=False)
                      for k in sorted(set(keys))]
        self.keys = sorted(set(keys))
        self._held: list = []
        self._done = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> bool:
        for lock in self.locks:
            if not lock.acquire(blocking=False):
                self.release()
                return False
            self._held.append(lock)
        self._renewer = threading.Thread(target=self._renew, daemon=True, name="syndicate-host-locks")
        self._renewer.start()
        return True

    def _renew(self) -> None:
        while not self._done.wait(self.ttl / 3):
            for lock in self._held:
                try:
                    lock.reacquire()
                except redis.exceptions.LockError:
                    log.warning("the lock of %s lapsed while its task ran", lock.name)
                except redis.RedisError as e:
                    log.warning("could not renew the lock of %s: %s", lock.name, e)

    def wait_needed(self) -> float:
        """Seconds until the hosts' delays since the last task on them are over."""
        values = self.client.mget([f"{self.ns}:host-next:{k}" for k in self.keys]) if self.keys else []
        until = max([float(v) for v in values if v is not None], default=0.0)
        return max(0.0, until - time.time())

    def pause_after(self, seconds: float) -> None:
        if seconds > 0:
            until = time.time() + seconds
            for k in self.keys:
                self.client.set(f"{self.ns}:host-next:{k}", repr(until), px=int(seconds * 1000) + 1000)

    def release(self) -> None:
        self._done.set()
        for lock in self._held:
            try:
                lock.release()
            except redis.exceptions.LockError:
                pass  # it lapsed (and may be someone else's now)
        self._held.clear()


def host_keys(source: Source) -> list[str]:
    """What a task locks: every host of the source's fetch scope (and "*.domain" for a
    wildcard), so two sources sharing a host are never fetched at once."""
    try:
        scope = Scope.of([source.homepage, *source.feeds, source.sitemap, source.blog_index], source.allowed_hosts,
                         allow_private=source.allow_private)
    except InvalidHost:
        return [urlsplit(source.homepage).hostname or source.homepage]
    return sorted(scope.hosts) + ["*" + s for s in sorted(scope.suffixes)]


SourceWork = Callable[..., SourceOutcome]  # (source, *, run_id, started, fetch_config, recheck_after, encode)


class _Worker:
    """What one worker process keeps between tasks: the database's name, the Redis client,
    and the work of one source (`Syndicate.work` hands it: harvest, store, encode)."""

    def __init__(self, db: str, broker: RedisBroker, ns: str, work: SourceWork, *, requeue_after: float):
        self.db, self.broker, self.ns, self.work = db, broker, ns, work
        self.requeue_after = requeue_after

    def task(self, payload: dict) -> None:
        r = self.broker.client
        keys = _keys(self.ns, payload["run"])
        source = _source(payload["source"])
        if r.exists(keys["cancelled"]):
            return  # the run was stopped: nothing to do
        if payload["db"] != self.db:
            return self._report(keys, source, _failed(
                source.id, "internal", f"the worker writes {self.db}, not the run's database {payload['db']}"))
        message = CurrentMessage.get_current_message()
        options = message.options if message is not None else {}
        attempt = options.get("failures", 0)  # attempts that raised (HostBusy is not one)
        locks = _HostLocks(r, self.ns, host_keys(source), ttl=self.requeue_after)
        if not locks.acquire():
            log.debug("%s: host busy (%s), tried again later", source.id, ", ".join(locks.keys))
            raise HostBusy("a host of this source is being fetched by another task", delay=int(HOST_BUSY_DELAY * 1000))
        log.debug("%s: holds host lock(s) %s (message %s)", source.id, ", ".join(locks.keys),
                  message.message_id if message is not None else None)
        try:
            wait = locks.wait_needed()
            if wait > MAX_HOST_WAIT:
                raise HostBusy("the host's delay since its last task is not over", delay=int(wait * 1000))
            time.sleep(wait)
            try:
                outcome = self.work(source, run_id=payload["run_id"], fetch_config=FetchConfig(**payload["fetch"]),
                                    started=datetime.fromisoformat(payload["started"]),
                                    recheck_after=timedelta(seconds=payload["recheck_after"]),
                                    encode=bool(payload.get("encode")))
            except Exception as e:
                if attempt < MAX_RETRIES:
                    options["failures"] = attempt + 1  # travels with the retried message
                    raise  # retried with backoff
                log.exception("%s: task failed %d times", source.id, attempt + 1)
                outcome = _failed(source.id, "internal", f"{type(e).__name__}: {e} (after {attempt + 1} attempts)")
            locks.pause_after(outcome.pause)
        finally:
            locks.release()
            log.debug("%s: released host lock(s) %s", source.id, ", ".join(locks.keys))
        self._report(keys, source, outcome)

    def _report(self, keys: dict, source: Source, outcome: SourceOutcome) -> None:
        pipe = self.broker.client.pipeline(transaction=True)
        pipe.hsetnx(keys["results"], source.id, _outcome_json(outcome))  # a task done twice: the first outcome
        pipe.rpush(keys["done"], source.id)
        pipe.expire(keys["results"], RESULTS_TTL)
        pipe.expire(keys["done"], RESULTS_TTL)
        pipe.execute()


def _retry_when(retries: int, exception: BaseException) -> bool:
    """The task itself stops raising after MAX_RETRIES failures (its source is reported
    failed instead); what escapes it otherwise (the time limit) is retried a few times."""
    return isinstance(exception, HostBusy) or retries < 3 * MAX_RETRIES


def serve(store: Store, url: str, work: SourceWork, *, threads: int = 8, requeue_after: float = REQUEUE_AFTER,
          stop: threading.Event, grace: float = 30.0, ready: Callable[[str], None] | None = None) -> None:
    """Work on the queue at `url` until `stop` is set: `threads` tasks at once in this
    process, each calling `work` for its source (fetching waits on the network; extraction
    and encoding share one interpreter, so run one process per core). On stop, no task
    starts any more; those running get `grace` seconds to finish, the others go back to the
    queue."""
    from dramatiq import Worker

    q = QueueUrl.parse(url)
    broker = _broker(q, requeue_after=requeue_after, retry_when=_retry_when)
    worker_state = _Worker(store.display_url, broker, q.namespace, work, requeue_after=requeue_after)
    dramatiq.actor(worker_state.task, broker=broker, actor_name=ACTOR, queue_name=QUEUE)
    worker = Worker(broker, worker_threads=max(1, threads), queues={QUEUE})
    worker.start()
    if ready is not None:
        ready(f"working on {q.display()} (namespace {q.namespace}) for {worker_state.db} with {threads} thread(s)")
    try:
        # Every broker command is a heartbeat; a worker whose threads are all busy sends none,
        # and would look dead after `requeue_after`: this keeps it alive.
        while not stop.wait(requeue_after / 4):
            try:
                broker.do_qsize(QUEUE)
            except redis.RedisError as e:
                log.warning("task queue unreachable: %s", e)
    finally:
        worker.stop(timeout=int(grace * 1000))
        broker.close()
