"""pipeline.plan: what a harvest requests, decided from what earlier runs stored (pure)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pipeline import plan

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
WEEK = timedelta(days=6)


@dataclass
class Known:
    etag: str | None = '"v1"'
    last_modified: str | None = "Tue, 14 Nov 2023 22:13:20 GMT"
    snapshot_sha256: str | None = "ab" * 32
    status: int | None = 200
    checked_at: datetime | None = NOW - timedelta(days=1)


def test_validators_only_with_the_body_they_validate():
    assert plan.validators(Known()) == ('"v1"', "Tue, 14 Nov 2023 22:13:20 GMT")
    assert plan.validators(Known(snapshot_sha256=None)) == (None, None)
    assert plan.validators(None) == (None, None)


def test_a_stored_page_under_an_unchanged_listing_is_not_requested():
    assert plan.page_unchanged(Known(), now=NOW, recheck_after=WEEK, listing_unchanged=True)
    # a changed listing, a page never stored, or a check too old: requested
    assert not plan.page_unchanged(Known(), now=NOW, recheck_after=WEEK, listing_unchanged=False)
    assert not plan.page_unchanged(Known(snapshot_sha256=None), now=NOW, recheck_after=WEEK, listing_unchanged=True)
    assert not plan.page_unchanged(None, now=NOW, recheck_after=WEEK, listing_unchanged=True)
    old = Known(checked_at=NOW - timedelta(days=7))
    assert not plan.page_unchanged(old, now=NOW, recheck_after=WEEK, listing_unchanged=True)


def test_sitemap_lastmod_against_the_last_check():
    k = Known(checked_at=NOW - timedelta(days=2))
    assert plan.page_unchanged(k, now=NOW, recheck_after=WEEK, listing_unchanged=False,
                               lastmod=NOW - timedelta(days=3))
    assert not plan.page_unchanged(k, now=NOW, recheck_after=WEEK, listing_unchanged=False,
                                   lastmod=NOW - timedelta(days=1))


def test_common_feed_paths_are_probed_again_only_after_a_while():
    month = timedelta(days=28)
    missing = Known(snapshot_sha256=None, status=404, checked_at=NOW - timedelta(days=7))
    assert not plan.worth_probing(missing, now=NOW, reprobe_after=month)
    assert plan.worth_probing(Known(snapshot_sha256=None, status=404, checked_at=NOW - timedelta(days=30)),
                              now=NOW, reprobe_after=month)
    assert plan.worth_probing(Known(snapshot_sha256=None, status=503), now=NOW, reprobe_after=month)
    assert plan.worth_probing(Known(), now=NOW, reprobe_after=month)
    assert plan.worth_probing(None, now=NOW, reprobe_after=month)
