"""The fetcher's timing decisions, as small pure functions: whether to retry and after
how long (backoff, Retry-After), how far apart two requests to one host must be (pacing,
Crawl-delay), and whether a wait still fits the source's time budget.

Values in, values out: no network, no clock, no sleeping. The fetcher (`Fetcher`, this
package's __init__) reads its injected clock, asks these, and sleeps with its injected
sleep, so each decision is tested on its own (tests/test_fetch_policy.py) and the
fetcher's timing tests run on a fake clock, the way Scrapy's
`downloadermiddlewares/retry.py` keeps `get_retry_request` apart from the downloader.

Times are seconds on one monotonic clock (`now`, `deadline`, `next_at`); `deadline` None
means no budget. A Retry-After HTTP date is read against `now_utc`, a datetime.
"""
from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import datetime, timezone

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 2  # extra attempts on transient errors
    backoff: float = 0.5  # seconds, doubled each attempt
    max_retry_after: float = 30.0  # a Retry-After asking for longer gives up instead of waiting


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """`retry`: try again after `wait` seconds. Otherwise `reason` says why not:
    "not-retryable", "no-retries-left", "retry-after-too-long" (the server asks for more
    than the policy waits) or "budget" (the wait would pass the source's deadline)."""

    retry: bool
    wait: float = 0.0
    reason: str = ""


def backoff_delay(attempts: int, backoff: float) -> float:
    """The pause before attempt `attempts + 1`: backoff, 2 x backoff, 4 x backoff..."""
    return backoff * (2 ** max(0, attempts - 1))


def retry_after_seconds(value: str | None, now_utc: datetime) -> float | None:
    """Seconds a Retry-After header asks for (delay-seconds or an HTTP date), None when
    absent or unreadable. A date in the past is 0."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now_utc).total_seconds())


def decide_retry(attempts: int, *, retryable: bool, policy: RetryPolicy, now: float,
                 deadline: float | None = None, retry_after: float | None = None) -> RetryDecision:
    """After `attempts` attempts (1 after the first) ended in a transient-or-not failure
    (`retryable`), with the server's Retry-After if any: retry, after how long, or why not.
    The Retry-After check comes first: a server asking for an hour is answered at once."""
    if retry_after is not None and retry_after > policy.max_retry_after:
        return RetryDecision(False, reason="retry-after-too-long")
    if not retryable:
        return RetryDecision(False, reason="not-retryable")
    if attempts > policy.retries:
        return RetryDecision(False, reason="no-retries-left")
    wait = backoff_delay(attempts, policy.backoff)
    if retry_after is not None:
        wait = max(wait, retry_after)
    if not fits_budget(now, wait, deadline):
        return RetryDecision(False, wait=wait, reason="budget")
    return RetryDecision(True, wait=wait)


def is_retryable_status(status: int) -> bool:
    return status in RETRY_STATUSES


def host_delay(min_delay: float, crawl_delay: float | None, max_crawl_delay: float) -> float:
    """Seconds between two requests to one host: the configured minimum, or the host's
    robots.txt Crawl-delay when longer, capped at `max_crawl_delay`."""
    if crawl_delay:
        return max(min_delay, min(float(crawl_delay), max_crawl_delay))
    return min_delay


def pacing_wait(next_at: float, now: float) -> float:
    """How long a request to a host must wait for its turn (0: go now)."""
    return max(0.0, next_at - now)


def fits_budget(now: float, wait: float, deadline: float | None) -> bool:
    """A wait of `wait` seconds from `now` ends by `deadline`."""
    return deadline is None or now + wait <= deadline


def time_left(now: float, deadline: float | None) -> float | None:
    """Seconds left before `deadline` (None: no deadline; <= 0: spent)."""
    return None if deadline is None else deadline - now
