"""The validators `Store.save_fetch_results` keeps for conditional GETs (written with a few
Core statements): a 200 stores its snapshot and validators, a 304 only refreshes when the URL
was checked, keep=False forgets the validators, a failure is remembered without them, and
a URL answered twice in one call keeps what each answer set."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.store import Store
from pipeline.types import Response

T0 = datetime(2026, 11, 16, 14, 0, tzinfo=timezone.utc)
URL = "https://example.org/feed/"


def _resp(status: int, when: datetime, *, etag: str | None = '"v1"', body: bytes = b"<rss>one</rss>",
          url: str = URL) -> Response:
    headers = (("etag", etag),) if etag else ()
    return Response(url=url, final_url=url, status=status, headers=headers + (("last-modified", "Mon, 16 Nov 2026"),),
                    body=body if status == 200 else b"", fetched_at=when)


@pytest.fixture
def store(tmp_path):
    s = Store.open(str(tmp_path / "v.sqlite"))
    yield s
    s.close()


def test_a_200_then_a_304_keep_the_validators_and_refresh_the_check(store):
    shas = store.save_fetch_results([(_resp(200, T0), True)])
    k = store.all_validators()[URL]
    assert (k.etag, k.status, k.snapshot_sha256, k.checked_at) == ('"v1"', 200, shas[URL], T0)
    assert store.snapshot_body(shas[URL]) == b"<rss>one</rss>"
    later = T0 + timedelta(days=1)
    store.save_fetch_results([(_resp(304, later, etag=None), True)], snapshots=False)
    k = store.all_validators()[URL]
    assert (k.etag, k.status, k.snapshot_sha256, k.checked_at) == ('"v1"', 304, shas[URL], later)


def test_keep_false_forgets_and_a_failure_is_remembered_without_validators(store):
    other = "https://example.org/missing/"
    store.save_fetch_results([(_resp(200, T0), True)])
    store.save_fetch_results([(_resp(200, T0 + timedelta(hours=1)), False)], [(other, 404, T0)], snapshots=False)
    known = store.all_validators()
    assert (known[URL].etag, known[URL].last_modified, known[URL].snapshot_sha256) == (None, None, None)
    assert known[URL].checked_at == T0 + timedelta(hours=1)
    assert (known[other].status, known[other].etag, known[other].checked_at) == (404, None, T0)
    store.save_fetch_results([], [(URL, 500, T0 + timedelta(hours=2))])  # a known URL failing now
    assert store.all_validators()[URL].status == 500


def test_one_url_answered_twice_in_one_call_keeps_both_answers(store):
    """A 200 then a 304 for the same URL (asked again in the same harvest): the validators
    and snapshot of the 200, the status and time of the 304, as when rows were updated in turn."""
    later = T0 + timedelta(minutes=5)
    shas = store.save_fetch_results([(_resp(200, T0), True), (_resp(304, later, etag=None), True)])
    k = store.all_validators()[URL]
    assert (k.etag, k.snapshot_sha256, k.status, k.checked_at) == ('"v1"', shas[URL], 304, later)


def test_deferred_urls_get_their_snapshot_now_and_their_validators_later(store):
    shas = store.save_fetch_results([(_resp(200, T0), True)], defer={URL})
    assert URL not in store.all_validators() and store.snapshot_body(shas[URL]) == b"<rss>one</rss>"
    store.save_fetch_results([(_resp(200, T0), True)], snapshots=False)
    assert store.all_validators()[URL].snapshot_sha256 == shas[URL]
