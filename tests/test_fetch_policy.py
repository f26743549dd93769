"""pipeline.fetch.policy: the fetcher's timing decisions as pure functions (issue 18,
item 4). No network, no clock: values in, decisions out."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.fetch.policy import (RetryPolicy, backoff_delay, decide_retry, fits_budget, host_delay,
                                   is_retryable_status, pacing_wait, retry_after_seconds, time_left)

POLICY = RetryPolicy(retries=2, backoff=0.5, max_retry_after=30.0)
NOW_UTC = datetime(2026, 11, 17, 12, 0, 0, tzinfo=timezone.utc)


def test_backoff_doubles_each_attempt():
    assert [backoff_delay(n, 0.5) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]


def test_retries_until_the_policy_says_no_more():
    decisions = [decide_retry(n, retryable=True, policy=POLICY, now=0.0) for n in (1, 2, 3)]
    assert [(d.retry, d.wait) for d in decisions[:2]] == [(True, 0.5), (True, 1.0)]
    assert not decisions[2].retry and decisions[2].reason == "no-retries-left"


def test_what_is_not_transient_is_not_retried():
    d = decide_retry(1, retryable=False, policy=POLICY, now=0.0)
    assert not d.retry and d.reason == "not-retryable"
    assert [s for s in (200, 301, 304, 404, 410, 429, 500, 502, 503, 504) if is_retryable_status(s)] == [
        429, 500, 502, 503, 504]


def test_retry_after_lengthens_the_wait_but_never_shortens_it():
    assert decide_retry(1, retryable=True, policy=POLICY, now=0.0, retry_after=7.0).wait == 7.0
    assert decide_retry(2, retryable=True, policy=POLICY, now=0.0, retry_after=0.0).wait == 1.0


def test_a_retry_after_longer_than_the_policy_waits_gives_up_at_once():
    d = decide_retry(1, retryable=True, policy=POLICY, now=0.0, retry_after=3600.0)
    assert not d.retry and d.reason == "retry-after-too-long"
    # even when no retry was left anyway: the reason given is the server's
    assert decide_retry(9, retryable=True, policy=POLICY, now=0.0, retry_after=31.0).reason == "retry-after-too-long"


def test_a_wait_past_the_deadline_is_not_taken():
    assert decide_retry(1, retryable=True, policy=POLICY, now=100.0, deadline=100.5).retry  # ends at 100.5
    d = decide_retry(2, retryable=True, policy=POLICY, now=100.0, deadline=100.5)
    assert not d.retry and d.reason == "budget" and d.wait == 1.0
    assert decide_retry(1, retryable=True, policy=POLICY, now=100.0, deadline=None, retry_after=30.0).retry


@pytest.mark.parametrize("value, seconds", [
    ("120", 120.0), (" 0 ", 0.0), (None, None), ("", None), ("soon", None), ("-5", None), ("1.5", None),
    ("Tue, 17 Nov 2026 12:00:30 GMT", 30.0),
    ("Tue, 17 Nov 2026 11:59:00 GMT", 0.0),  # a date in the past: go now
    ("Tuesday, 17-Nov-26 12:01:00 GMT", 60.0),  # RFC 850 form
])
def test_retry_after_header(value, seconds):
    assert retry_after_seconds(value, NOW_UTC) == seconds


def test_retry_after_date_is_read_against_the_given_now():
    later = NOW_UTC + timedelta(seconds=20)
    assert retry_after_seconds("Tue, 17 Nov 2026 12:00:30 GMT", later) == 10.0


@pytest.mark.parametrize("min_delay, crawl, cap, expected", [
    (0.0, None, 10.0, 0.0), (0.3, None, 10.0, 0.3), (0.0, 2, 10.0, 2.0), (0.5, 0.2, 10.0, 0.5),
    (0.0, 3600, 10.0, 10.0), (1.0, "4", 10.0, 4.0)])
def test_host_delay_is_the_longer_of_ours_and_the_crawl_delay_capped(min_delay, crawl, cap, expected):
    assert host_delay(min_delay, crawl, cap) == expected


def test_pacing_and_budget():
    assert pacing_wait(next_at=10.0, now=9.25) == 0.75
    assert pacing_wait(next_at=10.0, now=11.0) == 0.0
    assert fits_budget(now=10.0, wait=2.0, deadline=12.0) and not fits_budget(now=10.0, wait=2.1, deadline=12.0)
    assert fits_budget(now=10.0, wait=1e9, deadline=None)
    assert time_left(10.0, None) is None and time_left(10.0, 12.5) == 2.5 and time_left(13.0, 12.5) == -0.5
