"""HTTP fetching, politely: the only module that talks to the network.

Owns the HTTP client (httpx), robots.txt (protego), per-host pacing, retries, redirects,
content decoding, size caps and conditional GET headers. Returns `Response` values or
raises `FetchError` subclasses that name the URL. It knows nothing of feeds, articles or
the database: the caller passes stored validators in and stores the new ones it gets
back; robots.txt files are remembered through an optional `RobotsCache` the caller owns.

Thread-safe: the orchestrator fetches different hosts from different threads; requests to
one host are serialised here, spaced by max(min_delay, the host's Crawl-delay).

Why the body is decoded here rather than by httpx: httpx inflates a gzip chunk in one
call, so 64 KB of a gzip bomb becomes ~64 MB before any limit can look at it. Decoding
with zlib's `max_length` keeps memory bounded by `max_bytes` whatever the ratio.
"""
from __future__ import annotations

import email.utils
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from .errors import FetchError, RobotsDisallowed, TooLarge
from .types import Response

KEPT_HEADERS = ("content-type", "etag", "last-modified", "content-encoding", "retry-after",
                "location", "content-length", "date", "cache-control")
RETRY_STATUSES = {429, 500, 502, 503, 504}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
ROBOTS_AGENT = "Syndicate"


@dataclass(frozen=True, slots=True)
class FetchConfig:
    user_agent_contact: str = "https://github.com/syndicate-pipeline/syndicate"
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 60.0  # a body trickling in slower than this is cut off
    max_bytes: int = 10 * 1024 * 1024  # decoded bytes: also stops gzip bombs
    max_redirects: int = 5
    retries: int = 2  # extra attempts on transient errors
    backoff: float = 0.5  # seconds, doubled each attempt
    max_retry_after: float = 30.0  # a Retry-After asking for longer gives up instead of waiting
    min_delay: float = 0.0  # seconds between two requests to one host
    max_crawl_delay: float = 10.0  # a robots.txt Crawl-delay above this is capped
    obey_robots: bool = True
    max_connections: int = 64  # pooled connections over all hosts

    @property
    def user_agent(self) -> str:
        from . import __version__
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


class Fetcher:
    """A polite HTTP client. Use as a context manager; `stats` counts what it did:
    requests (every exchange, robots.txt and retries included), conditional (requests that
    carried validators), not_modified, retries, robots_blocked."""

    def __init__(self, config: FetchConfig | None = None, *, transport: httpx.BaseTransport | None = None,
                 robots_cache: RobotsCache | None = None):
        self.config = config or FetchConfig()
        c = self.config
        self._client = httpx.Client(
            headers={"User-Agent": c.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(c.read_timeout, connect=c.connect_timeout),
            limits=httpx.Limits(max_connections=c.max_connections, max_keepalive_connections=c.max_connections),
            follow_redirects=False, transport=transport, trust_env=False,
        )
        self.robots_cache = robots_cache
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.stats = {"requests": 0, "conditional": 0, "not_modified": 0, "retries": 0, "robots_blocked": 0}

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # --- public ---------------------------------------------------------------------

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            accept: str = "*/*") -> Response:
        """GET `url` following redirects; 304 when the validators still hold.

        Raises FetchError (kind http-404, timeout, too-large, redirect-loop, robots...)."""
        _check_url(url)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        status, resp_headers, body, final, permanent = self._follow(url, headers, check_robots=True)
        if status == 304:
            with self._stats_lock:
                self.stats["not_modified"] += 1
        elif status >= 400 or status < 200:
            raise FetchError(f"HTTP {status}", final, kind=f"http-{status}",
                             retryable=status in RETRY_STATUSES)
        return Response(url=url, final_url=final, status=status,
                        headers=tuple(resp_headers.items()), body=body,
                        fetched_at=datetime.now(timezone.utc), permanent_redirect=permanent)

    def robots_sitemaps(self, url: str) -> list[str]:
        """The Sitemap: lines of the host's robots.txt (fetched once per host)."""
        try:
            self._load_robots(url)
        except FetchError:
            return []
        robots = self._host(url).robots
        return list(robots.sitemaps) if robots is not None else []

    # --- internals --------------------------------------------------------------------

    def _follow(self, url: str, headers: dict[str, str], *, check_robots: bool
                ) -> tuple[int, dict[str, str], bytes, str, bool]:
        """Exchange, following redirects. Returns (status, headers, body, final URL,
        permanent): `permanent` only when every hop was a 301/308, so that the final URL
        may replace the stored one."""
        seen = [url]
        current = url
        permanent = True
        for _ in range(self.config.max_redirects + 1):
            if check_robots:
                self._check_robots(current)
            status, resp_headers, body = self._exchange(current, headers)
            if status not in REDIRECT_STATUSES:
                return status, resp_headers, body, current, permanent and len(seen) > 1
            location = resp_headers.get("location")
            if not location:
                raise FetchError(f"HTTP {status} without a Location header", current, kind=f"http-{status}")
            target = urljoin(current, location.strip())
            _check_url(target)
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

    def _check_robots(self, url: str) -> None:
        if not self.config.obey_robots:
            return
        host = self._load_robots(url)
        if host.robots is not None and not host.robots.can_fetch(url, ROBOTS_AGENT):
            with self._stats_lock:
                self.stats["robots_blocked"] += 1
            raise RobotsDisallowed("robots.txt disallows this URL", url)

    def _load_robots(self, url: str) -> _Host:
        """Fetch the host's robots.txt once per run (conditionally, when the cache has it).

        RFC 9309: 4xx means no rules; 5xx means "assume disallow all" for now. An
        unreachable host is reported as what it is (connection, timeout), not as robots."""
        host = self._host(url)
        with host.robots_lock:
            if not host.robots_loaded:
                self._fetch_robots(url, host)
                host.robots_loaded = True
        if host.robots_error is not None:
            e = host.robots_error
            raise FetchError(f"{e.message} (while reading robots.txt)", url, kind=e.kind, retryable=e.retryable)
        return host

    def _fetch_robots(self, url: str, host: _Host) -> None:
        robots_url = urljoin(url, "/robots.txt")
        cached = self.robots_cache.lookup(robots_url) if self.robots_cache is not None else None
        headers = {"Accept": "text/plain"}
        if cached is not None:
            if cached[0]:
                headers["If-None-Match"] = cached[0]
            if cached[1]:
                headers["If-Modified-Since"] = cached[1]
        try:
            status, resp_headers, body, final, _ = self._follow(robots_url, headers, check_robots=False)
        except TooLarge:
            status, resp_headers, body, final = 404, {}, b"", robots_url  # RFC 9309: parse at least 500 KiB; we give up
        except FetchError as e:
            if e.kind == "redirect-loop" or e.kind.startswith("http-"):
                status, resp_headers, body, final = 404, {}, b"", robots_url
            else:
                host.robots_error = e
                return
        if status == 304 and cached is not None:
            with self._stats_lock:
                self.stats["not_modified"] += 1
            body = cached[2]
        if self.robots_cache is not None and status in (200, 304):
            self.robots_cache.store(Response(url=robots_url, final_url=final, status=status,
                                             headers=tuple(resp_headers.items()),
                                             body=body if status == 200 else b"",
                                             fetched_at=datetime.now(timezone.utc)))
        if status in (200, 304):
            host.robots = Protego.parse(body.decode("utf-8", "replace"))
        elif status >= 500:
            host.robots = Protego.parse("User-agent: *\nDisallow: /")

    def _delay_for(self, host: _Host) -> float:
        delay = self.config.min_delay
        if host.robots is not None:
            crawl = host.robots.crawl_delay(ROBOTS_AGENT)
            if crawl:
                delay = max(delay, min(float(crawl), self.config.max_crawl_delay))
        return delay

    def _exchange(self, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """One request with retries, paced per host. Returns (status, headers, body)."""
        host = self._host(url)
        attempt = 0
        while True:
            if host.down is not None:
                # The host timed out or refused earlier in this run, retries included:
                # hammering it again for every page helps nobody.
                e = host.down
                raise FetchError(f"skipped: host failed earlier in this run ({e.message})", url,
                                 kind=e.kind, retryable=True)
            with host.lock:
                wait = host.next_at - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                try:
                    result = self._once(url, headers)
                    error = None
                except FetchError as e:
                    result, error = None, e
                finally:
                    host.next_at = time.monotonic() + self._delay_for(host)
                with self._stats_lock:
                    self.stats["requests"] += 1
                    if "If-None-Match" in headers or "If-Modified-Since" in headers:
                        self.stats["conditional"] += 1
            retry_after = None
            if result is not None:
                status = result[0]
                if status not in RETRY_STATUSES:
                    return result
                retry_after = _retry_after(result[1].get("retry-after"))
                if retry_after is not None and retry_after > self.config.max_retry_after:
                    raise FetchError(f"HTTP {status}; the server asks to wait {retry_after:.0f} s, more than "
                                     f"the {self.config.max_retry_after:.0f} s we wait", url,
                                     kind=f"http-{status}", retryable=True)
                error = FetchError(f"HTTP {status}", url, kind=f"http-{status}", retryable=True)
            if not error.retryable or attempt >= self.config.retries:
                if result is not None:
                    return result
                if error.kind in ("connection", "timeout"):
                    host.down = error
                raise error
            attempt += 1
            with self._stats_lock:
                self.stats["retries"] += 1
            pause = self.config.backoff * (2 ** (attempt - 1))
            if retry_after is not None:
                pause = max(pause, retry_after)
            # a 429/503 speaks for the whole host: other threads wait too
            host.next_at = max(host.next_at, time.monotonic() + pause)

    def _once(self, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        c = self.config
        deadline = time.monotonic() + c.total_timeout
        try:
            with self._client.stream("GET", url, headers=headers) as r:
                status = r.status_code
                kept = {k: r.headers[k] for k in KEPT_HEADERS if k in r.headers}
                if status in REDIRECT_STATUSES or status == 304 or status >= 400:
                    return status, kept, b""  # bodies of these are never used: don't read them
                declared = r.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > c.max_bytes:
                    raise TooLarge(f"body of {int(declared):,} bytes is over the {c.max_bytes:,}-byte limit", url)
                decoder = _Decoder(r.headers.get("content-encoding", ""), c.max_bytes, url)
                for raw in r.iter_raw():
                    decoder.feed(raw)
                    if time.monotonic() > deadline:
                        raise FetchError(f"body not complete after {c.total_timeout:g} s", url,
                                         kind="timeout", retryable=True)
                return status, kept, decoder.finish()
        except httpx.TimeoutException as e:
            raise FetchError(f"timed out ({type(e).__name__})", url, kind="timeout", retryable=True) from e
        except httpx.InvalidURL as e:
            raise FetchError(f"invalid URL: {e}", url, kind="bad-url") from e
        except httpx.UnsupportedProtocol as e:
            raise FetchError(f"invalid URL: {e}", url, kind="bad-url") from e
        except httpx.TransportError as e:
            raise FetchError(f"connection failed: {e or type(e).__name__}", url, kind="connection",
                             retryable=True) from e


class _Decoder:
    """Content-Encoding identity, gzip or deflate, with the decoded size capped as it
    inflates (max_length), so a bomb never takes more than `limit` bytes of memory."""

    def __init__(self, encoding: str, limit: int, url: str):
        self.encodings = [e.strip().lower() for e in encoding.split(",") if e.strip() and e.strip() != "identity"]
        if len(self.encodings) > 1 or any(e not in ("gzip", "x-gzip", "deflate") for e in self.encodings):
            raise FetchError(f"unsupported Content-Encoding {encoding!r}", url, kind="bad-encoding")
        self.kind = self.encodings[0] if self.encodings else None
        self.limit = limit
        self.url = url
        self.parts: list[bytes] = []
        self.size = 0
        self.raw_size = 0
        self.z = self._new()

    def _new(self):
        if self.kind in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.kind == "deflate":
            return None  # zlib-wrapped or raw: decided on the first bytes
        return None

    def _add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            what = "decoded body" if self.kind else "body"
            raise TooLarge(f"{what} over the {self.limit:,}-byte limit (cut off)", self.url)
        self.parts.append(data)

    def feed(self, raw: bytes) -> None:
        self.raw_size += len(raw)
        if self.kind is None:
            self._add(raw)
            return
        if self.raw_size > self.limit:
            raise TooLarge(f"body over the {self.limit:,}-byte limit (cut off)", self.url)
        if self.z is None:  # deflate: RFC 9110 says zlib format, some servers send raw deflate
            wrapped = len(raw) >= 2 and (raw[0] & 0x0F) == 8 and ((raw[0] << 8) | raw[1]) % 31 == 0
            self.z = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        data = raw
        try:
            while data:
                out = self.z.decompress(data, self.limit - self.size + 1)
                self._add(out)
                data = self.z.unconsumed_tail
                if self.z.eof and self.z.unused_data:  # concatenated gzip members
                    data = self.z.unused_data
                    self.z = self._new()
        except zlib.error as e:
            raise FetchError(f"could not decode the {self.kind} body: {e}", self.url, kind="bad-encoding") from e

    def finish(self) -> bytes:
        if self.z is not None:
            try:
                self._add(self.z.flush())
            except zlib.error as e:
                raise FetchError(f"could not decode the {self.kind} body: {e}", self.url,
                                 kind="bad-encoding") from e
        return b"".join(self.parts)


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        ok = False
    if not ok or any(ch.isspace() for ch in url):
        raise FetchError(f"not a valid http(s) URL: {url!r}", url, kind="bad-url")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
