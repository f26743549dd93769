"""What a harvest requests, decided from what earlier runs stored. Pure: values in,
values out; no network, no database, no clock (`now` is passed in).

The harvester (`harvest.Harvester`) asks these questions and does the fetching, so
that the decisions are tested apart from any HTTP (tests/test_plan.py), the way reader's
`_update` keeps its decider apart from its updater. Whether a URL may be fetched at all
is not decided here: that is the fetch scope, inside the fetcher (`fetch/scope.py`).

`Known` is what the store remembers of a URL's last fetch (`store.KnownUrl` has these
attributes); None means never fetched.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol


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
