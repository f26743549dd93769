"""HTTP fetching, politely: the only module that talks to the network.

Owns the HTTP client (httpx), robots.txt (protego), per-host pacing, retries, redirects,
size caps and conditional GET headers. Returns `Response` values or raises `FetchError`
subclasses that name the URL. It knows nothing of feeds, articles or the database: the
caller passes stored validators in and stores the new ones it gets back.

Thread-safe: the orchestrator fetches different hosts from different threads; requests to
one host are serialised here, spaced by max(min_delay, the host's Crawl-delay).
"""
from __future__ import annotations

import email.utils
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from .errors import FetchError, RobotsDisallowed, TooLarge
from .types import Response

KEPT_HEADERS = ("content-type", "etag", "last-modified", "content-encoding", "retry-after",
                "location", "content-length", "date", "cache-control")
RETRY_STATUSES = {429, 500, 502, 503, 504}


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
    max_retry_after: float = 30.0  # never wait longer than this for a Retry-After
    min_delay: float = 0.0  # seconds between two requests to one host
    max_crawl_delay: float = 10.0  # a robots.txt Crawl-delay above this is capped
    obey_robots: bool = True

    @property
    def user_agent(self) -> str:
        from . import __version__
        return f"Syndicate/{__version__} (+{self.user_agent_contact})"


class _Host:
    """Per-host state: one request at a time, and when the next may start."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_at = 0.0
        self.robots: Protego | None = None
        self.robots_loaded = False


class Fetcher:
    """A polite HTTP client. Use as a context manager; `stats` counts what it did."""

    def __init__(self, config: FetchConfig | None = None, *, transport: httpx.BaseTransport | None = None):
        self.config = config or FetchConfig()
        c = self.config
        self._client = httpx.Client(
            headers={"User-Agent": c.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(c.read_timeout, connect=c.connect_timeout),
            follow_redirects=False, transport=transport,
        )
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.stats = {"requests": 0, "not_modified": 0, "retries": 0, "robots_blocked": 0}

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
        seen = [url]
        current = url
        permanent = False
        for _ in range(self.config.max_redirects + 1):
            self._check_robots(current)
            status, resp_headers, body = self._exchange(current, headers)
            if status in (301, 302, 303, 307, 308):
                location = resp_headers.get("location")
                if not location:
                    raise FetchError(f"HTTP {status} without a Location header", current, kind=f"http-{status}")
                target = urljoin(current, location)
                _check_url(target)
                if target in seen:
                    raise FetchError("redirect loop: " + " -> ".join(seen + [target]), url, kind="redirect-loop")
                permanent = permanent or (status in (301, 308) and len(seen) == 1)
                seen.append(target)
                current = target
                continue
            if status == 304:
                with self._stats_lock:
                    self.stats["not_modified"] += 1
            elif status >= 400:
                raise FetchError(f"HTTP {status}", current, kind=f"http-{status}",
                                 retryable=status in RETRY_STATUSES)
            return Response(url=url, final_url=current, status=status,
                            headers=tuple((k, v) for k, v in resp_headers.items()),
                            body=body, fetched_at=datetime.now(timezone.utc),
                            permanent_redirect=permanent)
        raise FetchError(f"more than {self.config.max_redirects} redirects", url, kind="redirect-loop")

    def robots_sitemaps(self, url: str) -> list[str]:
        """The Sitemap: lines of the host's robots.txt (fetched once per host)."""
        try:
            self._check_robots(url)
        except FetchError:
            pass
        robots = self._host(url).robots
        return list(robots.sitemaps) if robots is not None else []

    # --- internals --------------------------------------------------------------------

    def _host(self, url: str) -> _Host:
        key = urlsplit(url).netloc.lower()
        with self._hosts_lock:
            return self._hosts.setdefault(key, _Host())

    def _check_robots(self, url: str) -> None:
        if not self.config.obey_robots:
            return
        host = self._host(url)
        if not host.robots_loaded:
            robots_url = urljoin(url, "/robots.txt")
            try:
                status, _, body = self._exchange(robots_url, {"Accept": "text/plain"}, count_robots=True)
            except FetchError:
                status, body = 599, b""
            # RFC 9309: 4xx means no rules; 5xx or unreachable means "assume disallow all"
            # for a while. We are gentler for a missing file but strict for a server error.
            if 200 <= status < 300:
                host.robots = Protego.parse(body.decode("utf-8", "replace"))
            elif 500 <= status < 600:
                host.robots = Protego.parse("User-agent: *\nDisallow: /")
            host.robots_loaded = True
        if host.robots is not None and not host.robots.can_fetch(url, "Syndicate"):
            with self._stats_lock:
                self.stats["robots_blocked"] += 1
            raise RobotsDisallowed("robots.txt disallows this URL", url)

    def _delay_for(self, host: _Host) -> float:
        delay = self.config.min_delay
        if host.robots is not None:
            crawl = host.robots.crawl_delay("Syndicate")
            if crawl:
                delay = max(delay, min(float(crawl), self.config.max_crawl_delay))
        return delay

    def _exchange(self, url: str, headers: dict[str, str], *, count_robots: bool = False
                  ) -> tuple[int, dict[str, str], bytes]:
        """One request with retries, paced per host. Returns (status, headers, body)."""
        host = self._host(url)
        attempt = 0
        while True:
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
            retry_after = None
            if result is not None:
                status = result[0]
                if status not in RETRY_STATUSES:
                    return result
                retry_after = _retry_after(result[1].get("retry-after"))
                error = FetchError(f"HTTP {status}", url, kind=f"http-{status}", retryable=True)
            if not error.retryable or attempt >= self.config.retries:
                if result is not None:
                    return result
                raise error
            attempt += 1
            with self._stats_lock:
                self.stats["retries"] += 1
            pause = self.config.backoff * (2 ** (attempt - 1))
            if retry_after is not None:
                pause = max(pause, min(retry_after, self.config.max_retry_after))
            time.sleep(pause)

    def _once(self, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        c = self.config
        deadline = time.monotonic() + c.total_timeout
        try:
            with self._client.stream("GET", url, headers=headers) as r:
                declared = r.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > c.max_bytes and r.status_code < 300:
                    raise TooLarge(f"body of {int(declared):,} bytes is over the {c.max_bytes:,}-byte limit", url)
                chunks: list[bytes] = []
                size = 0
                for chunk in r.iter_bytes():  # decoded: a gzip bomb is counted as it inflates
                    size += len(chunk)
                    if size > c.max_bytes:
                        raise TooLarge(f"body over the {c.max_bytes:,}-byte limit (cut off)", url)
                    if time.monotonic() > deadline:
                        raise FetchError(f"body not complete after {c.total_timeout:.0f} s", url,
                                         kind="timeout", retryable=True)
                    chunks.append(chunk)
                kept = {k: r.headers[k] for k in KEPT_HEADERS if k in r.headers}
                return r.status_code, kept, b"".join(chunks)
        except httpx.TimeoutException as e:
            raise FetchError(f"timed out ({type(e).__name__})", url, kind="timeout", retryable=True) from e
        except httpx.DecodingError as e:
            raise FetchError(f"could not decode the body: {e}", url, kind="bad-encoding") from e
        except httpx.TransportError as e:
            raise FetchError(f"connection failed: {e or type(e).__name__}", url, kind="connection",
                             retryable=True) from e


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"not an http(s) URL: {url!r}", url, kind="bad-url")


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
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
