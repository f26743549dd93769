"""What a harvest requests, decided from what earlier runs stored. Pure: values in,
values out; no network, no database, no clock (`now` is passed in).

Two kinds of question: which URLs of a source to request (`page_unchanged`,
`worth_probing`, `validators`), and whether to harvest the source at all in this run
(`source_due`, from its registry `interval`, its feed's <ttl> or sy:updatePeriod, and the
Cache-Control / Expires of its listings).

The harvester (`harvest.Harvester`) asks these questions and does the fetching, so
that the decisions are tested apart from any HTTP (tests/test_plan.py), the way reader's
`_update` keeps its decider apart from its updater. Whether a URL may be fetched at all
is not decided here: that is the fetch scope, inside the fetcher (`fetch/scope.py`).

`Known` is what the store remembers of a URL's last fetch (`store.KnownUrl` has these
attributes); None means never fetched.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from .types import Refresh


class Known(Protocol):
    etag: str | None
    last_modified: str | None
    snapshot_sha256: str | None  # the body kept from the last fetch, if any
    status: int | None
    checked_at: datetime | None


def is_stored(known: Known | None) -> bool:
    """The last fetch's body is kept (so a 304 can be answered from it)."""
    return known is not None and known.snapshot_sha256 is not None


def validators(known: Known | None) -> tuple[str | None, str | None]:
    """(ETag, Last-Modified) to send: only when the body they validate is kept, since a
    304 must be answered from it."""
    if not is_stored(known):
        return None, None
    return known.etag, known.last_modified


def page_unchanged(known: Known | None, *, now: datetime, recheck_after: timedelta,
                   listing_unchanged: bool, lastmod: datetime | None = None) -> bool:
    """A stored article page needs no request at all: it was checked within
    `recheck_after`, and the listing naming it is unchanged (a 304), or its sitemap
    <lastmod> is not later than that check. Pages never stored are always requested, so
    a failure is retried next run."""
    if not is_stored(known) or known.checked_at is None or now - known.checked_at >= recheck_after:
        return False
    return listing_unchanged or (lastmod is not None and lastmod <= known.checked_at)


def worth_probing(known: Known | None, *, now: datetime, reprobe_after: timedelta) -> bool:
    """A common feed path (/feed/, /rss.xml...) is skipped while its last probe (a 404, or
    a body that was not a feed) is recent; a server error or a stored feed is always
    tried again."""
    if known is None or known.snapshot_sha256 is not None or known.status is None or known.status >= 500:
        return True
    return known.checked_at is None or now - known.checked_at >= reprobe_after


# --- when a source is due (per-source intervals) ---------------------------------------------
# A source is fetched again once its interval has passed since its last harvest. The interval
# is the longer of the registry's `interval` (the operator's choice) and what the partner
# says of its own pace: its feed's <ttl> or sy:updatePeriod/sy:updateFrequency, the
# Cache-Control max-age (or Expires) of its listing. The partner's hints are believed up to
# MAX_HINT, so that a feed cached for a year by a misconfigured CDN is still read weekly.
# A source that failed or was degraded is due at every run (it is watched until it is well).

MAX_HINT = timedelta(days=7)
# Runs start a little earlier or later each time (cron, a lock wait): a source is due from
# this much before its time, so that a weekly run of a weekly source never skips a week.
DUE_SLACK = timedelta(hours=1)
DUE_SLACK_SHARE = 0.1  # at most this share of the interval
_PERIODS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1),
            "monthly": timedelta(days=30), "yearly": timedelta(days=365)}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)", re.I)
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


@dataclass(frozen=True, slots=True)
class Due:
    """Whether a source is due now; when not, when it will be and by which interval."""

    due: bool
    next_at: datetime | None = None
    interval: Refresh | None = None


def parse_interval(text: str) -> timedelta:
    """"90m", "12h", "1d", "2w", "1d12h" as a timedelta; ValueError for anything else or a
    duration under a minute."""
    text = text.strip()
    pos, seconds = 0, 0.0
    for m in _DURATION.finditer(text):
        if text[pos:m.start()].strip():
            break
        seconds += float(m.group(1)) * _UNITS[m.group(2).lower()]
        pos = m.end()
    if not text or pos != len(text) or text[pos:].strip():
        raise ValueError(f"not a duration like 12h, 1d or 2w: {text!r}")
    if seconds < 60:
        raise ValueError(f"an interval under a minute: {text!r}")
    return timedelta(seconds=seconds)


def feed_hint(ttl_minutes: int | None, update_period: str | None, update_frequency: int | None) -> Refresh | None:
    """The feed's own pace: RSS 2.0 <ttl> (minutes), else the syndication module's period
    divided by its frequency (default 1). None when it says nothing usable."""
    if ttl_minutes is not None and ttl_minutes > 0:
        return Refresh(ttl_minutes * 60.0, "ttl")
    period = _PERIODS.get((update_period or "").strip().lower())
    if period is not None:
        frequency = update_frequency if update_frequency and update_frequency > 0 else 1
        return Refresh(period.total_seconds() / frequency, "sy:updatePeriod")
    return None


def http_hint(cache_control: str | None, expires: str | None, date: str | None,
              fetched_at: datetime) -> Refresh | None:
    """How long a response says it stays fresh: Cache-Control max-age (no-cache, no-store
    or max-age=0: not at all), else Expires against the response's Date (or the fetch
    time). None when it says nothing."""
    directives = {}
    for part in (cache_control or "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            directives[name.lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return Refresh(0.0, "cache-control")
    if "max-age" in directives:
        try:
            return Refresh(max(0.0, float(int(directives["max-age"]))), "cache-control")
        except ValueError:
            pass
    if expires:
        when = _http_date(expires)
        if when is None:  # "0", "-1" or garbage: already expired (RFC 9111 5.3)
            return Refresh(0.0, "expires")
        base = _http_date(date) or fetched_at
        return Refresh(max(0.0, (when - base).total_seconds()), "expires")
    return None


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    import email.utils  # here: the read commands import this module and never parse an HTTP date
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def publisher_hint(hints: "list[Refresh]") -> Refresh | None:
    """The partner's pace from all its listings read in a run: the shortest (a source with
    two feeds is due when either is), capped at MAX_HINT."""
    if not hints:
        return None
    best = min(hints, key=lambda h: h.seconds)
    return Refresh(min(best.seconds, MAX_HINT.total_seconds()), best.origin)


def interval_of(registry: timedelta | None, hint: Refresh | None) -> Refresh | None:
    """The interval that decides: the longer of the registry's and the partner's hint."""
    options = ([Refresh(registry.total_seconds(), "registry")] if registry else []) + \
        ([hint] if hint is not None and hint.seconds > 0 else [])
    return max(options, key=lambda h: h.seconds) if options else None


def source_due(*, now: datetime, last_harvest: datetime | None, registry: timedelta | None,
               hint: Refresh | None, last_state: str | None) -> Due:
    """Whether a source is due at `now`: never harvested, failed or degraded last time, no
    interval, or its interval (less DUE_SLACK) passed since `last_harvest`."""
    interval = interval_of(registry, hint)
    if last_harvest is None or interval is None or last_state in ("failed", "degraded"):
        return Due(True, interval=interval)
    span = timedelta(seconds=interval.seconds)
    next_at = last_harvest + span
    slack = min(DUE_SLACK, span * DUE_SLACK_SHARE)
    return Due(now >= next_at - slack, next_at, interval)
