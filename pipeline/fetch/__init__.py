"""HTTP fetching, politely: the only module that talks to the network.

Owns the HTTP client (httpx), robots.txt (protego), per-host pacing, retries, redirects,
content decoding, size caps and conditional GET headers. Returns `Response` values or
raises `FetchError` subclasses that name the URL. It knows nothing of feeds, articles or
the database: the caller passes stored validators in and stores the new ones it gets
back; robots.txt files are remembered through an optional `RobotsCache` the caller owns.

Scope: `get(url, scope=...)` checks the URL and every redirect target against the source's
`Scope` (scope.py) before any request; an off-scope URL raises `OffScope` unrequested.

Addresses: every connection goes to an address vetted where the name is resolved
(_address.py): a private, loopback, link-local or otherwise non-public one raises
`PrivateAddress` with nothing sent, unless the source's scope allows private addresses
(`allow_private` in its registry entry) or the run does (`SYNDICATE_ALLOW_PRIVATE=1`,
`FetchConfig.allow_private`). DNS rebinding gains nothing: the address checked is the one
connected to, on every redirect hop.

Deadlines: one per exchange (`total_timeout`) covers connect, headers and body
(_deadline.py); `get(url, deadline=...)` adds the source's budget, which also bounds
retries, backoff and crawl delays: what would pass it raises `BudgetExceeded`.

Time: retry, backoff, Retry-After and pacing are decided by the pure functions of
`policy.py`; the fetcher reads its injected `clock` and waits with its injected `sleep`.

robots.txt: read up to ROBOTS_MAX_BYTES (RFC 9309's 500 KiB); a larger file is cut at its
last complete line and applied, and `robots_note` says so for the run's warnings.

Every failure of one URL, whatever its cause (bad URL syntax, IDNA, the HTTP client), is a
`FetchError` naming that URL: nothing else escapes `get`.

Thread-safe: the orchestrator fetches different hosts from different threads; requests to
one host are serialised here, spaced by max(min_delay, the host's Crawl-delay).

Why the body is decoded here rather than by httpx: httpx inflates a gzip chunk in one
call, so 64 KB of a gzip bomb becomes ~64 MB before any limit can look at it. Decoding
with zlib's `max_length` keeps memory bounded by `max_bytes` whatever the ratio.
"""
from __future__ import annotations

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Protocol
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from protego import Protego

from ..errors import BudgetExceeded, FetchError, OffScope, PrivateAddress, RobotsDisallowed, TooLarge
from ..types import Response
from . import _address, policy
from ._address import ALLOW_PRIVATE_VAR, AddressCheckingBackend, private_allowed_by_environment
from ._deadline import deadline_transport, exchange_deadline
from ._decode import Decoder
from .scope import InvalidHost, Scope, host_of, normalize_host

log = logging.getLogger("syndicate")
KEPT_HEADERS = ("content-type", "etag", "last-modified", "content-encoding", "retry-after",
                "location", "content-length", "date", "cache-control", "expires")
RETRY_STATUSES = policy.RETRY_STATUSES
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Idle connections kept open. httpcore's pool looks at every connection it holds, for each
# idle one, on every request: with one kept per host of a run's 64 in flight, that scan cost
# more than the connections saved. (Answers left unread, 304s among them, close theirs:
# reading them to keep their connection made a no-change run slower, for the same reason.)
KEEPALIVE_CONNECTIONS = 16
ROBOTS_AGENT = "Syndicate"
IN_FLIGHT_GRACE = 1.0  # seconds a body being read may still take once the run is stopping
# RFC 9309 2.5: parsers must read at least 500 KiB of a robots.txt. A larger file is read up
# to this and its complete lines applied (never ignored: an 11 MB file whose first line is
# "Disallow: /" blocks the site), with a warning on the source.
ROBOTS_MAX_BYTES = 500 * 1024


@dataclass(frozen=True, slots=True)
class FetchConfig:
    user_agent_contact: str = "https://github.com/syndicate-pipeline/syndicate"
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 60.0  # one exchange (connect, headers, body) is cut off after this
    source_budget: float = 300.0  # seconds one source may take in a run: retries, delays and parsing included
    max_bytes: int = 10 * 1024 * 1024  # decoded bytes: also stops gzip bombs
    max_redirects: int = 5
    retries: int = 2  # extra attempts on transient errors
    backoff: float = 0.5  # seconds, doubled each attempt
    max_retry_after: float = 30.0  # a Retry-After asking for longer gives up instead of waiting
    min_delay: float = 0.0  # seconds between two requests to one host
    max_crawl_delay: float = 10.0  # a robots.txt Crawl-delay above this is capped
    obey_robots: bool = True
    allow_private: bool = False  # connect to non-public addresses for every source (else: per source)
    max_connections: int = 64  # pooled connections over all hosts

    @property
    def user_agent(self) -> str:
        from .. import __version__
        return f"Syndicate/{__version__} (+{self.user_agent_contact})"


class RobotsCache(Protocol):
    """Where the caller keeps robots.txt files between runs, so that re-reading one is a
    conditional GET. `lookup` returns (etag, last_modified, body) or None; `store` gets
    every robots.txt response (200, or 304 with an empty body)."""

    def lookup(self, url: str) -> tuple[str | None, str | None, bytes] | None: ...

    def store(self, response: Response) -> None: ...


class _Host:
    """Per-host state: one request at a time, when the next may start, its robots.txt,
    and why it is being skipped when it failed hard earlier in the run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.robots_lock = threading.Lock()
        self.next_at = 0.0
        self.robots: Protego | None = None
        self.robots_loaded = False
        self.robots_error: FetchError | None = None
        self.down: FetchError | None = None
        self.robots_note: str | None = None  # said on the sources of this host (robots.txt truncated)


@dataclass(frozen=True, slots=True)
class _Answer:
    """One exchange as the fetcher keeps it: status, the headers that matter, the body
    (empty for redirects, 304 and errors), and whether the body was cut at a read limit."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    truncated: bool = False


class Fetcher:
    """A polite HTTP client. Use as a context manager; `stats` counts what it did:
    requests (every exchange, robots.txt and retries included), conditional (requests that
    carried validators), not_modified, retries, robots_blocked, off_scope, private_refused,
    bytes (decoded body bytes received).

    `clock` (seconds, monotonic) and `sleep` are the time the fetcher decides by: pacing,
    backoff, Retry-After and the source's budget (`deadline` values are on this clock).
    Tests pass a fake pair; by default they are `time.monotonic` and a sleep that `stop()`
    ends early. Socket timeouts and the exchange deadline are real time, since the network
    waits in real time."""

    def __init__(self, config: FetchConfig | None = None, *, robots_cache: RobotsCache | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], object] | None = None):
        self.config = config or FetchConfig()
        # SYNDICATE_ALLOW_PRIVATE=1 allows non-public addresses for every source of the run
        self.allow_private = self.config.allow_private or private_allowed_by_environment()
        self.clock = clock
        self._sleep = sleep
        self._clients: dict[bool, httpx.Client] = {}
        self._clients_lock = threading.Lock()
        self.robots_cache = robots_cache
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.stats = {"requests": 0, "conditional": 0, "not_modified": 0, "retries": 0, "robots_blocked": 0,
                      "off_scope": 0, "private_refused": 0, "bytes": 0}
        self.stopping = threading.Event()  # set by stop(): no request starts any more
        self._stopped_at = 0.0

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._clients_lock:
            for client in self._clients.values():
                client.close()

    def _client(self, allow_private: bool) -> httpx.Client:
        """One connection pool per address policy: a connection opened for a source
        allowed to reach private addresses is never reused for one that is not."""
        with self._clients_lock:
            client = self._clients.get(allow_private)
            if client is None:
                c = self.config
                limits = httpx.Limits(max_connections=c.max_connections,
                                      max_keepalive_connections=min(KEEPALIVE_CONNECTIONS, c.max_connections))
                client = httpx.Client(
                    headers={"User-Agent": c.user_agent, "Accept-Encoding": "gzip, deflate"},
                    timeout=httpx.Timeout(c.read_timeout, connect=c.connect_timeout),
                    limits=limits, follow_redirects=False, trust_env=False,
                    transport=deadline_transport(
                        limits, wrap=lambda backend: AddressCheckingBackend(backend, allow_private=allow_private)),
                )
                self._clients[allow_private] = client
            return client

    def stop(self) -> None:
        """The run is interrupted: every request not yet started (retries, redirects and
        robots.txt included) fails at once with kind "interrupted", pacing and backoff
        waits end, and a body being read is abandoned unless it ends within
        IN_FLIGHT_GRACE (an answer arriving as the signal comes is kept)."""
        self._stopped_at = time.monotonic()
        self.stopping.set()

    def _check_stopping(self, url: str) -> None:
        if self.stopping.is_set():
            raise FetchError("not fetched: the run was interrupted", url, kind="interrupted")

    def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._sleep is None:
            self.stopping.wait(seconds)  # stop() ends the wait
        else:
            self._sleep(seconds)

    def _left(self, deadline: float | None, url: str, doing: str) -> float:
        """Seconds left before `deadline` (-1: wait forever, as Lock.acquire takes it)."""
        left = policy.time_left(self.clock(), deadline)
        if left is None:
            return -1
        if left <= 0:
            raise BudgetExceeded(f"the source's time budget ran out before {doing}", url)
        return left

    # --- public ---------------------------------------------------------------------

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            accept: str = "*/*", scope: Scope | None = None, deadline: float | None = None) -> Response:
        """GET `url` following redirects; 304 when the validators still hold. With a
        `scope`, `url` and every redirect target must be in it (else `OffScope`, nothing
        requested); `deadline` (on the fetcher's clock) is the caller's budget. Every
        connection goes to a public address unless the scope or the run allows private
        ones (else `PrivateAddress`, nothing sent).

        Raises FetchError (kind http-404, timeout, too-large, redirect-loop, robots,
        off-scope, private-address, budget, bad-url...) and nothing else."""
        try:
            return self._get(url, etag, last_modified, accept, scope, deadline)
        except FetchError:
            raise
        except (UnicodeError, ValueError) as e:  # an URL httpx or the resolver cannot take
            raise FetchError(f"invalid URL: {type(e).__name__}: {e}", url, kind="bad-url") from e
        except (httpx.HTTPError, httpcore.NetworkError, OSError) as e:
            raise FetchError(f"connection failed: {type(e).__name__}: {e}", url, kind="connection",
                             retryable=True) from e

    def check_scope(self, url: str, scope: Scope) -> None:
        """Raise OffScope (or FetchError bad-url, PrivateAddress for a non-public IP
        literal) unless `url` may be fetched for `scope`."""
        _check_url(url, scope)
        _check_literal_address(url, self._private_ok(scope))

    def _private_ok(self, scope: Scope | None) -> bool:
        return self.allow_private or (scope is not None and scope.allow_private)

    def _get(self, url: str, etag: str | None, last_modified: str | None, accept: str,
             scope: Scope | None, deadline: float | None) -> Response:
        self._in_scope(url, scope)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        answer, final, permanent = self._follow(url, headers, check_robots=True, scope=scope, deadline=deadline)
        status = answer.status
        if status == 304:
            with self._stats_lock:
                self.stats["not_modified"] += 1
        elif status >= 400 or status < 200:
            raise FetchError(f"HTTP {status}", final, kind=f"http-{status}",
                             retryable=policy.is_retryable_status(status))
        return Response(url=url, final_url=final, status=status,
                        headers=tuple(answer.headers.items()), body=answer.body,
                        fetched_at=datetime.now(timezone.utc), permanent_redirect=permanent)

    def robots_sitemaps(self, url: str, *, deadline: float | None = None, scope: Scope | None = None) -> list[str]:
        """The Sitemap: lines of the host's robots.txt (fetched once per host)."""
        try:
            self._load_robots(url, deadline, self._private_ok(scope))
        except (FetchError, ValueError):
            return []
        robots = self._host(url).robots
        return list(robots.sitemaps) if robots is not None else []

    def host_delay(self, url: str) -> float:
        """Seconds between two requests to `url`'s host: max(min_delay, its robots.txt
        Crawl-delay, capped), as this fetcher knows it (a task-queue worker hands it on to
        the next task on the host)."""
        return self._delay_for(self._host(url))

    def robots_note(self, url: str) -> str | None:
        """What the run should be told about the robots.txt of `url`'s host (it was over
        the size limit and only its beginning applies), or None."""
        return self._host(url).robots_note

    # --- internals --------------------------------------------------------------------

    def _in_scope(self, url: str, scope: Scope | None) -> None:
        try:
            _check_url(url, scope)
        except OffScope:
            with self._stats_lock:
                self.stats["off_scope"] += 1
            raise
        try:
            _check_literal_address(url, self._private_ok(scope))
        except PrivateAddress:
            with self._stats_lock:
                self.stats["private_refused"] += 1
            raise

    def _follow(self, url: str, headers: dict[str, str], *, check_robots: bool, scope: Scope | None = None,
                deadline: float | None = None, read_limit: int | None = None) -> tuple[_Answer, str, bool]:
        """Exchange, following redirects. Returns (answer, final URL, permanent):
        `permanent` only when every hop was a 301/308, so that the final URL may replace
        the stored one."""
        seen = [url]
        current = url
        permanent = True
        allow_private = self._private_ok(scope)
        for _ in range(self.config.max_redirects + 1):
            if check_robots:
                self._check_robots(current, deadline, allow_private)
            answer = self._exchange(current, headers, deadline, allow_private, read_limit)
            status = answer.status
            if status not in REDIRECT_STATUSES:
                return answer, current, permanent and len(seen) > 1
            location = answer.headers.get("location")
            if not location:
                raise FetchError(f"HTTP {status} without a Location header", current, kind=f"http-{status}")
            try:
                target = urljoin(current, location.strip())
            except ValueError as e:
                raise FetchError(f"HTTP {status} to an invalid Location {location[:200]!r}", current,
                                 kind="bad-url") from e
            self._in_scope(target, scope)
            if target in seen:
                raise FetchError("redirect loop: " + " -> ".join(seen + [target]), url, kind="redirect-loop")
            permanent = permanent and status in (301, 308)
            if urlsplit(target).netloc != urlsplit(current).netloc:
                # validators belong to the first host's resource; never send them elsewhere
                headers = {k: v for k, v in headers.items() if not k.startswith("If-")}
            seen.append(target)
            current = target
        raise FetchError(f"more than {self.config.max_redirects} redirects: " + " -> ".join(seen), url,
                         kind="redirect-loop")

    def _host(self, url: str) -> _Host:
        key = urlsplit(url).netloc.lower()
        with self._hosts_lock:
            return self._hosts.setdefault(key, _Host())

    def _check_robots(self, url: str, deadline: float | None, allow_private: bool) -> None:
        if not self.config.obey_robots:
            return
        host = self._load_robots(url, deadline, allow_private)
        if host.robots is not None and not host.robots.can_fetch(url, ROBOTS_AGENT):
            with self._stats_lock:
                self.stats["robots_blocked"] += 1
            raise RobotsDisallowed("robots.txt disallows this URL", url)

    def _load_robots(self, url: str, deadline: float | None, allow_private: bool) -> _Host:
        """Fetch the host's robots.txt once per run (conditionally, when the cache has it).

        RFC 9309: 4xx means no rules; 5xx means "assume disallow all" for now. An
        unreachable host is reported as what it is (connection, timeout), not as robots."""
        host = self._host(url)
        with host.robots_lock:
            if not host.robots_loaded:
                # BudgetExceeded, PrivateAddress: not this host's answer; the next caller tries again
                self._fetch_robots(url, host, deadline, allow_private)
                host.robots_loaded = True
        if host.robots_error is not None:
            e = host.robots_error
            raise FetchError(f"{e.message} (while reading robots.txt)", url, kind=e.kind, retryable=e.retryable)
        return host

    def _fetch_robots(self, url: str, host: _Host, deadline: float | None, allow_private: bool) -> None:
        robots_url = urljoin(url, "/robots.txt")
        cached = self.robots_cache.lookup(robots_url) if self.robots_cache is not None else None
        headers = {"Accept": "text/plain"}
        if cached is not None:
            if cached[0]:
                headers["If-None-Match"] = cached[0]
            if cached[1]:
                headers["If-Modified-Since"] = cached[1]
        # robots.txt may redirect, but only within its own site (RFC 9309 follows redirects;
        # a redirect elsewhere is treated as "no robots.txt", never followed)
        own_site = Scope.of([robots_url], allow_private=allow_private)
        truncated = False
        try:
            answer, final, _ = self._follow(robots_url, headers, check_robots=False, scope=own_site,
                                            deadline=deadline, read_limit=ROBOTS_MAX_BYTES)
            status, resp_headers, body, truncated = answer.status, answer.headers, answer.body, answer.truncated
        except (BudgetExceeded, PrivateAddress):
            raise
        except FetchError as e:
            if e.kind in ("redirect-loop", "off-scope", "bad-url") or e.kind.startswith("http-"):
                status, resp_headers, body, final = 404, {}, b"", robots_url
            else:
                host.robots_error = e
                return
        if status == 304 and cached is not None:
            with self._stats_lock:
                self.stats["not_modified"] += 1
            body = cached[2]
        if truncated:
            body = robots_prefix(body)
            host.robots_note = (f"robots.txt of {urlsplit(robots_url).netloc} is over {ROBOTS_MAX_BYTES // 1024} "
                                f"KiB; its first {len(body):,} bytes were read and applied (RFC 9309)")
            log.warning("%s", host.robots_note)
        # A cut file is not kept for a conditional GET next run: read again, it is said again.
        if self.robots_cache is not None and status in (200, 304) and not truncated:
            self.robots_cache.store(Response(url=robots_url, final_url=final, status=status,
                                             headers=tuple(resp_headers.items()),
                                             body=body if status == 200 else b"",
                                             fetched_at=datetime.now(timezone.utc)))
        if status in (200, 304):
            host.robots = Protego.parse(body.decode("utf-8", "replace"))
        elif status >= 500:
            host.robots = Protego.parse("User-agent: *\nDisallow: /")

    def _delay_for(self, host: _Host) -> float:
        crawl = host.robots.crawl_delay(ROBOTS_AGENT) if host.robots is not None else None
        return policy.host_delay(self.config.min_delay, crawl, self.config.max_crawl_delay)

    def _exchange(self, url: str, headers: dict[str, str], deadline: float | None, allow_private: bool,
                  read_limit: int | None = None) -> _Answer:
        """One request with retries, paced per host. What to wait and whether to try again
        is decided by `policy`; this does the waiting (on the injected clock) and the I/O."""
        host = self._host(url)
        retry = policy.RetryPolicy(self.config.retries, self.config.backoff, self.config.max_retry_after)
        attempts = 0
        while True:
            self._check_stopping(url)
            if host.down is not None:
                # The host timed out or refused earlier in this run, retries included:
                # hammering it again for every page helps nobody.
                e = host.down
                raise FetchError(f"skipped: host failed earlier in this run ({e.message})", url,
                                 kind=e.kind, retryable=True)
            if not host.lock.acquire(timeout=self._left(deadline, url, "waiting for the host")):
                raise BudgetExceeded("the source's time budget ran out waiting for the host", url)
            try:
                wait = policy.pacing_wait(host.next_at, self.clock())
                if wait > 0:
                    if not policy.fits_budget(self.clock(), wait, deadline):
                        raise BudgetExceeded(f"the host's pacing ({wait:.1f} s) would pass the source's "
                                             f"time budget", url)
                    self._wait(wait)
                self._check_stopping(url)
                try:
                    answer, error = self._once(url, headers, deadline, allow_private, read_limit), None
                except (BudgetExceeded, PrivateAddress):
                    raise
                except FetchError as e:
                    answer, error = None, e
                finally:
                    host.next_at = self.clock() + self._delay_for(host)
                with self._stats_lock:
                    self.stats["requests"] += 1
                    self.stats["bytes"] += len(answer.body) if answer is not None else 0
                    if "If-None-Match" in headers or "If-Modified-Since" in headers:
                        self.stats["conditional"] += 1
            finally:
                host.lock.release()
            attempts += 1
            retry_after = None
            if answer is not None:
                if not policy.is_retryable_status(answer.status):
                    return answer
                retry_after = policy.retry_after_seconds(answer.headers.get("retry-after"),
                                                         datetime.now(timezone.utc))
                error = FetchError(f"HTTP {answer.status}", url, kind=f"http-{answer.status}", retryable=True)
            decision = policy.decide_retry(attempts, retryable=error.retryable, policy=retry, now=self.clock(),
                                           deadline=deadline, retry_after=retry_after)
            if decision.reason == "retry-after-too-long":
                raise FetchError(f"HTTP {answer.status}; the server asks to wait {retry_after:.0f} s, more than "
                                 f"the {retry.max_retry_after:.0f} s we wait", url,
                                 kind=f"http-{answer.status}", retryable=True)
            if decision.reason == "budget":
                raise BudgetExceeded(f"{error.message}; no time left in the source's budget to retry", url)
            if not decision.retry:
                if answer is not None:
                    return answer
                if error.kind in ("connection", "timeout"):
                    host.down = error
                raise error
            with self._stats_lock:
                self.stats["retries"] += 1
            # a 429/503 speaks for the whole host: other threads wait too
            host.next_at = max(host.next_at, self.clock() + decision.wait)

    def _once(self, url: str, headers: dict[str, str], budget: float | None, allow_private: bool,
              read_limit: int | None = None) -> _Answer:
        """One HTTP exchange. `read_limit`: read at most that many decoded bytes and mark
        the answer truncated, instead of refusing a larger body (robots.txt)."""
        c = self.config
        left = policy.time_left(self.clock(), budget)
        if left is not None and left <= 0:
            raise BudgetExceeded("the source's time budget ran out before the request", url)
        by_budget = left is not None and left < c.total_timeout
        # real time: the socket operations below wait in real time (_deadline.py)
        deadline = time.monotonic() + (left if by_budget else c.total_timeout)
        limit = read_limit or c.max_bytes
        try:
            with exchange_deadline(deadline), \
                    self._client(allow_private).stream("GET", url, headers=headers) as r:
                status = r.status_code
                kept = {k: r.headers[k] for k in KEPT_HEADERS if k in r.headers}
                if status in REDIRECT_STATUSES or status == 304 or status >= 400:
                    return _Answer(status, kept)  # bodies of these are never used: don't read them
                declared = r.headers.get("content-length", "")
                if read_limit is None and declared.isdigit() and int(declared) > c.max_bytes:
                    raise TooLarge(f"body of {int(declared):,} bytes is over the {c.max_bytes:,}-byte limit", url)
                decoder = Decoder(r.headers.get("content-encoding", ""), limit, url, truncate=read_limit is not None)
                for raw in r.iter_raw():
                    # A body already on its way is given a moment: the one whose last bytes
                    # are arriving as the signal comes is kept, a slow one is abandoned.
                    if self.stopping.is_set() and time.monotonic() - self._stopped_at > IN_FLIGHT_GRACE:
                        self._check_stopping(url)
                    decoder.feed(raw)
                    if decoder.full:
                        break
                    if time.monotonic() > deadline:
                        if by_budget:
                            raise BudgetExceeded("the source's time budget ran out reading the body", url)
                        raise FetchError(f"body not complete after {c.total_timeout:g} s", url,
                                         kind="timeout", retryable=True)
                return _Answer(status, kept, decoder.finish(), decoder.full)
        except httpx.TimeoutException as e:
            if by_budget and time.monotonic() >= deadline - 0.05:
                raise BudgetExceeded(f"the source's time budget ran out ({type(e).__name__})", url) from e
            if time.monotonic() >= deadline - 0.05:
                raise FetchError(f"answer not complete after {c.total_timeout:g} s ({type(e).__name__})", url,
                                 kind="timeout", retryable=True) from e
            raise FetchError(f"timed out ({type(e).__name__})", url, kind="timeout", retryable=True) from e
        except PrivateAddress as e:
            with self._stats_lock:
                self.stats["private_refused"] += 1
            raise PrivateAddress(e.message, url) from None
        except httpx.InvalidURL as e:
            raise FetchError(f"invalid URL: {e}", url, kind="bad-url") from e
        except httpx.RemoteProtocolError as e:
            if "location header" in str(e).lower():  # httpx parses Location before we see the answer
                raise FetchError(f"redirect to an invalid URL: {e}", url, kind="bad-url") from e
            raise FetchError(f"connection failed: {e or type(e).__name__}", url, kind="connection",
                             retryable=True) from e
        except httpx.UnsupportedProtocol as e:
            raise FetchError(f"invalid URL: {e}", url, kind="bad-url") from e
        except httpx.TransportError as e:
            raise FetchError(f"connection failed: {e or type(e).__name__}", url, kind="connection",
                             retryable=True) from e


def robots_prefix(body: bytes) -> bytes:
    """The complete lines of a robots.txt cut at the read limit: a rule cut in the middle
    (`Disallow: /priv` of `/private/`) would say something the file does not."""
    cut = body.rfind(b"\n")
    return body[:cut + 1] if cut >= 0 else b""


def _check_url(url: str, scope: Scope | None = None) -> None:
    """A valid http(s) URL whose host httpx reads as we do, in `scope` when one is given."""
    if any(ch.isspace() for ch in url):
        raise FetchError(f"not a valid http(s) URL: {url!r}", url, kind="bad-url")
    try:
        host = host_of(url)
        # The URL parser of the HTTP client must see the same host as ours, or the check
        # would be about another host than the one connected to.
        theirs = normalize_host(httpx.URL(url).host)
    except (InvalidHost, httpx.InvalidURL, UnicodeError, ValueError) as e:
        raise FetchError(f"not a valid http(s) URL: {url[:300]!r} ({e})", url, kind="bad-url") from e
    if theirs != host:
        raise FetchError(f"ambiguous host in {url[:300]!r} ({host} or {theirs})", url, kind="bad-url")
    if scope is not None and not scope.allows_host(host):
        raise OffScope(f"{host} is outside the source's fetch scope ({scope.describe()}); not fetched", url)


def _check_literal_address(url: str, allow_private: bool) -> None:
    """An URL whose host is a non-public IP address is refused before anything is sent,
    robots.txt included (names are checked where they are resolved: _address.py)."""
    if allow_private:
        return
    try:
        host = host_of(url).strip("[]")
        ipaddress.ip_address(host)
    except (InvalidHost, ValueError):
        return  # a name, or not an URL at all (_check_url says so)
    if not _address.is_public_address(host):
        raise PrivateAddress(f"{host} is not a public address; not fetched (allow_private in the source's "
                             f"registry entry, or {ALLOW_PRIVATE_VAR}=1, allows it)", url)
