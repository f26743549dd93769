"""pipeline.fetch over real HTTP on loopback, against tests/fixtures/ingest/hostile.py:
timeouts, retries and Retry-After, redirects, content decoding, size caps and bombs,
robots.txt (rules, Crawl-delay, caching, size), per-host serialisation, conditional GET.

What the fetcher waits (backoff, Retry-After, pacing) is read from a fake clock
(tests/fixtures/clock.py): no test here measures the real one."""
from __future__ import annotations

import threading

import pytest

from pipeline.errors import FetchError, RobotsDisallowed, TooLarge
from pipeline.fetch import ROBOTS_MAX_BYTES, Fetcher, FetchConfig

from fixtures.clock import FakeClock
from fixtures.ingest.hostile import (HostileServer, gzip_bomb, gzipped, hang, html_page, huge, redirect,
                                     send, sequence, static, status, trickle)

# Small limits keep every test well under a second or two.
FAST = FetchConfig(connect_timeout=1.0, read_timeout=0.5, total_timeout=2.0, max_bytes=1_000_000,
                   retries=2, backoff=0.05, max_retry_after=2.0, user_agent_contact="https://ops.example/bot")


@pytest.fixture()
def fetcher():
    with Fetcher(FAST) as f:
        yield f


def test_user_agent_names_the_contact_and_gzip_is_accepted(server, fetcher):
    server.route("/p/", html_page("<p>Hello</p>"))
    resp = fetcher.get(server.url("/p/"))
    assert resp.status == 200 and b"Hello" in resp.body
    _, headers = server.hits[-1]
    assert headers["user-agent"].startswith("Syndicate/") and "https://ops.example/bot" in headers["user-agent"]
    assert "gzip" in headers["accept-encoding"]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_bodies_are_decoded(server, fetcher, encoding):
    body = b"<p>" + "caf\u00e9 ".encode() * 5000 + b"</p>"
    server.route("/z/", gzipped(body, "text/html; charset=utf-8", encoding))
    assert fetcher.get(server.url("/z/")).body == body


def test_gzip_bomb_is_cut_off_without_inflating_it(server, fetcher):
    import tracemalloc
    server.route("/bomb/", gzip_bomb(200 * 1024 * 1024))
    tracemalloc.start()
    with pytest.raises(TooLarge) as e:
        fetcher.get(server.url("/bomb/"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert e.value.kind == "too-large" and e.value.url == server.url("/bomb/")
    assert "decoded body" in e.value.message
    assert peak < 20 * FAST.max_bytes  # 1 MB limit: far from the 200 MB the bomb holds


@pytest.mark.parametrize("declare_length", [True, False])
def test_body_over_the_limit_is_refused(server, fetcher, declare_length):
    server.route("/huge/", huge(50 * 1024 * 1024, declare_length=declare_length))
    with pytest.raises(TooLarge) as e:
        fetcher.get(server.url("/huge/"))
    assert e.value.kind == "too-large" and not e.value.retryable
    assert ("52,428,800" in e.value.message) == declare_length  # the declared size is quoted when known
    assert server.paths().count("/huge/") == 1  # not retried


@pytest.mark.parametrize("code", [404, 410])
def test_client_errors_are_not_retried(server, fetcher, code):
    server.route("/gone/", status(code))
    with pytest.raises(FetchError) as e:
        fetcher.get(server.url("/gone/"))
    assert e.value.kind == f"http-{code}" and e.value.url == server.url("/gone/") and not e.value.retryable
    assert server.paths().count("/gone/") == 1


def test_server_errors_are_retried_with_backoff_then_reported(server):
    server.route("/err/", status(500))
    clock = FakeClock()
    with Fetcher(FAST, **clock.fetcher_kwargs()) as fetcher, pytest.raises(FetchError) as e:
        fetcher.get(server.url("/err/"))
    assert e.value.kind == "http-500" and e.value.retryable
    assert server.paths().count("/err/") == 1 + FAST.retries
    assert fetcher.stats["retries"] == FAST.retries
    assert clock.sleeps == pytest.approx([FAST.backoff, 2 * FAST.backoff])  # doubled each attempt


def test_503_then_success(server, fetcher):
    server.route("/flaky/", sequence(status(503), html_page("<p>ok</p>")))
    assert fetcher.get(server.url("/flaky/")).status == 200
    assert server.paths().count("/flaky/") == 2


def test_429_retry_after_is_honoured(server):
    server.route("/busy/", sequence(status(429, {"Retry-After": "1"}), html_page("<p>ok</p>")))
    clock = FakeClock()
    with Fetcher(FAST, **clock.fetcher_kwargs()) as fetcher:
        resp = fetcher.get(server.url("/busy/"))
    assert resp.status == 200 and server.paths().count("/busy/") == 2
    assert clock.sleeps == pytest.approx([1.0])  # what the server asked for, not the 0.05 s backoff


def test_429_asking_for_too_long_gives_up_at_once(server):
    server.route("/busy/", status(429, {"Retry-After": "3600"}))
    clock = FakeClock()
    with Fetcher(FAST, **clock.fetcher_kwargs()) as fetcher, pytest.raises(FetchError) as e:
        fetcher.get(server.url("/busy/"))
    assert e.value.kind == "http-429" and "3600" in e.value.message
    assert clock.sleeps == []
    assert server.paths().count("/busy/") == 1


def test_a_retry_that_would_pass_the_budget_is_not_waited_for(server):
    from pipeline.errors import BudgetExceeded

    server.route("/busy/", status(503, {"Retry-After": "2"}))
    clock = FakeClock()
    with Fetcher(FAST, **clock.fetcher_kwargs()) as fetcher, pytest.raises(BudgetExceeded):
        fetcher.get(server.url("/busy/"), deadline=clock.monotonic() + 1.5)
    assert clock.sleeps == [] and server.paths().count("/busy/") == 1


def test_server_that_never_answers_times_out_and_the_host_is_skipped_after(server):
    server.route("/hang/", hang())
    server.route("/other/", html_page("<p>x</p>"))
    config = FetchConfig(read_timeout=0.3, retries=1, backoff=0.05, obey_robots=False)
    with Fetcher(config) as fetcher:
        with pytest.raises(FetchError) as e:
            fetcher.get(server.url("/hang/"))
        assert e.value.kind == "timeout" and e.value.url == server.url("/hang/")
        assert server.paths().count("/hang/") == 2  # retried once, then given up
        # the host failed hard (retries included): its other URLs are not tried this run
        with pytest.raises(FetchError) as e2:
            fetcher.get(server.url("/other/"))
        assert e2.value.kind == "timeout" and "earlier in this run" in e2.value.message
    assert server.paths().count("/other/") == 0


def test_body_trickling_past_the_total_timeout_is_cut_off(server):
    server.route("/trickle/", trickle(total=100_000, every=0.05))
    config = FetchConfig(read_timeout=1.0, total_timeout=0.5, retries=0, obey_robots=False)
    with Fetcher(config) as fetcher, pytest.raises(FetchError) as e:
        fetcher.get(server.url("/trickle/"))
    assert e.value.kind == "timeout" and "not complete" in e.value.message


def test_connection_refused():
    with HostileServer() as s:
        url = s.url("/x/")
    with Fetcher(FetchConfig(retries=0)) as fetcher, pytest.raises(FetchError) as e:
        fetcher.get(url)
    assert e.value.kind == "connection"


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "http:///nohost", "http://bad host/", "http://[::1/",
                                 "javascript:alert(1)", "http://example.org:99999/"])
def test_invalid_urls(fetcher, url):
    with pytest.raises(FetchError) as e:
        fetcher.get(url)
    assert e.value.kind == "bad-url"


def test_redirect_loop_is_detected(server, fetcher):
    server.route("/a/", redirect("/b/", 302)).route("/b/", redirect("/a/", 302))
    with pytest.raises(FetchError) as e:
        fetcher.get(server.url("/a/"))
    assert e.value.kind == "redirect-loop" and "/a/ ->" in e.value.message


def test_too_many_redirects(server, fetcher):
    for i in range(10):
        server.route(f"/r{i}/", redirect(f"/r{i + 1}/", 302))
    with pytest.raises(FetchError) as e:
        fetcher.get(server.url("/r0/"))
    assert e.value.kind == "redirect-loop"
    assert server.paths().count("/r6/") == 0  # max_redirects = 5


def test_permanent_redirect_is_reported_only_when_every_hop_is_permanent(server, fetcher):
    server.route("/old/", redirect("/new/", 301)).route("/new/", html_page("<p>moved</p>"))
    server.route("/tmp/", redirect("/old/", 302))
    resp = fetcher.get(server.url("/old/"))
    assert resp.permanent_redirect and resp.final_url == server.url("/new/") and resp.url == server.url("/old/")
    resp = fetcher.get(server.url("/tmp/"))
    assert not resp.permanent_redirect and resp.final_url == server.url("/new/")
    assert not fetcher.get(server.url("/new/")).permanent_redirect


def test_conditional_get_gets_304_with_an_empty_body(server, fetcher):
    server.route("/feed/", static("<rss version='2.0'><channel/></rss>", "application/rss+xml"))
    first = fetcher.get(server.url("/feed/"))
    again = fetcher.get(server.url("/feed/"), etag=first.header("etag"), last_modified=first.header("last-modified"))
    assert again.not_modified and again.body == b""
    assert server.hits[-1][1]["if-none-match"] == first.header("etag")
    by_date = fetcher.get(server.url("/feed/"), last_modified=first.header("last-modified"))
    assert by_date.not_modified
    assert fetcher.stats["not_modified"] == 2 and fetcher.stats["conditional"] == 2


# --- robots.txt -------------------------------------------------------------------------------

def test_robots_disallow_all_means_nothing_but_robots_is_fetched(server, fetcher):
    server.route("/robots.txt", static("User-agent: *\nDisallow: /\n", "text/plain"))
    server.route("/p/", html_page("<p>x</p>"))
    for path in ("/p/", "/feed/", "/sitemap.xml"):
        with pytest.raises(RobotsDisallowed) as e:
            fetcher.get(server.url(path))
        assert e.value.kind == "robots" and e.value.url == server.url(path)
    assert server.paths() == ["/robots.txt"]
    assert fetcher.robots_sitemaps(server.url("/")) == []


def test_robots_rules_apply_to_redirect_targets(server, fetcher):
    server.route("/robots.txt", static("User-agent: *\nDisallow: /private/\n", "text/plain"))
    server.route("/open/", redirect("/private/x/", 302))
    with pytest.raises(RobotsDisallowed):
        fetcher.get(server.url("/open/"))
    assert "/private/x/" not in server.paths()


def test_robots_for_our_agent_and_sitemaps(server, fetcher):
    server.route("/robots.txt", static("User-agent: Syndicate\nDisallow: /no/\n\nUser-agent: *\nDisallow: /\n\n"
                                       f"Sitemap: {server.base}/sm.xml\n", "text/plain"))
    server.route("/yes/", html_page("<p>x</p>"))
    assert fetcher.get(server.url("/yes/")).status == 200
    with pytest.raises(RobotsDisallowed):
        fetcher.get(server.url("/no/"))
    assert fetcher.robots_sitemaps(server.url("/")) == [server.url("/sm.xml")]


def test_robots_server_error_means_disallow_and_missing_means_allow(fetcher):
    with HostileServer() as down, HostileServer() as missing:
        down.route("/robots.txt", status(503)).route("/p/", html_page("x"))
        missing.route("/p/", html_page("x"))
        with pytest.raises(RobotsDisallowed):
            fetcher.get(down.url("/p/"))
        assert fetcher.get(missing.url("/p/")).status == 200
        assert "/p/" not in down.paths()


def test_crawl_delay_and_min_delay_space_requests_to_one_host(server):
    server.route("/robots.txt", static("User-agent: *\nCrawl-delay: 0.4\n", "text/plain"))
    server.route("/p/", html_page("x"))
    clock = FakeClock()
    with Fetcher(FAST, **clock.fetcher_kwargs()) as fetcher:
        for _ in range(3):
            fetcher.get(server.url("/p/"))
    assert clock.sleeps == pytest.approx([0.4, 0.4])  # robots, p (at once), p +0.4, p +0.4
    with HostileServer() as plain:
        plain.route("/p/", html_page("x"))
        clock = FakeClock()
        with Fetcher(FetchConfig(min_delay=0.3), **clock.fetcher_kwargs()) as fetcher:
            fetcher.get(plain.url("/p/"))
            fetcher.get(plain.url("/p/"))
        assert clock.sleeps == pytest.approx([0.3, 0.3])  # (no robots.txt) p +0.3, p +0.3
        assert plain.paths() == ["/robots.txt", "/p/", "/p/"]


def test_crawl_delay_is_capped(server):
    server.route("/robots.txt", static("User-agent: *\nCrawl-delay: 3600\n", "text/plain"))
    server.route("/p/", html_page("x"))
    clock = FakeClock()
    with Fetcher(FetchConfig(max_crawl_delay=0.2), **clock.fetcher_kwargs()) as fetcher:
        fetcher.get(server.url("/p/"))
        fetcher.get(server.url("/p/"))
    assert clock.sleeps == pytest.approx([0.2])


class MemoryRobotsCache:
    def __init__(self):
        self.files: dict[str, tuple[str | None, str | None, bytes]] = {}
        self.stored = []

    def lookup(self, url):
        return self.files.get(url)

    def store(self, response):
        self.stored.append(response)
        if response.status == 200:
            self.files[response.url] = (response.header("etag"), response.header("last-modified"), response.body)


def test_robots_txt_is_revalidated_with_a_conditional_get(server):
    server.route("/robots.txt", static("User-agent: *\nDisallow: /private/\n", "text/plain"))
    server.route("/p/", html_page("x"))
    cache = MemoryRobotsCache()
    with Fetcher(FAST, robots_cache=cache) as fetcher:
        fetcher.get(server.url("/p/"))
    assert cache.stored[-1].status == 200
    with Fetcher(FAST, robots_cache=cache) as fetcher:  # the next run
        fetcher.get(server.url("/p/"))
        with pytest.raises(RobotsDisallowed):  # the cached rules still apply after the 304
            fetcher.get(server.url("/private/"))
        assert fetcher.stats["conditional"] == 1 and fetcher.stats["not_modified"] == 1
    robots_hits = [h for p, h in server.hits if p == "/robots.txt"]
    assert len(robots_hits) == 2 and "if-none-match" in robots_hits[1]
    assert cache.stored[-1].status == 304


def big_robots(head: str, size: int, tail: str = "") -> bytes:
    """A robots.txt of `size` bytes: `head`, comment lines, then `tail` past the limit."""
    line = b"# " + b"x" * 77 + b"\n"
    filler = line * ((size - len(head) - len(tail)) // len(line))
    return head.encode() + filler + tail.encode()


@pytest.mark.parametrize("compressed", [False, True])
def test_robots_over_the_size_cap_is_read_up_to_the_limit_and_applied(server, fetcher, compressed):
    """Issue 17 (finding 3): an 11 MB robots.txt whose first line is `Disallow: /` was taken
    for no robots.txt at all, and the site crawled."""
    body = big_robots("User-agent: *\nDisallow: /\n", 11 * 1024 * 1024)
    server.route("/robots.txt", gzipped(body, "text/plain", "gzip") if compressed else static(body, "text/plain"))
    server.route("/p/", html_page("<p>x</p>"))
    with pytest.raises(RobotsDisallowed):
        fetcher.get(server.url("/p/"))
    assert server.paths() == ["/robots.txt"]
    note = fetcher.robots_note(server.url("/"))
    assert note and "500 KiB" in note and "robots.txt" in note


def test_robots_rules_past_the_limit_and_a_cut_line_are_not_applied(server, fetcher):
    head = b"User-agent: *\nDisallow: /early/\n"
    cut = b"Disallow: /p"  # the limit falls here: "/private/" cut in two would read as "/p"
    pad = ROBOTS_MAX_BYTES - len(head) - len(cut)
    filler = (b"#" * 79 + b"\n") * (pad // 80) + (b"#" * (pad % 80 - 1) + b"\n" if pad % 80 else b"")
    body = head + filler + cut + b"rivate/\nDisallow: /late/\n"
    assert body[:ROBOTS_MAX_BYTES].endswith(cut)
    server.route("/robots.txt", static(body, "text/plain"))
    for path in ("/early/", "/page/", "/late/"):
        server.route(path, html_page("<p>x</p>"))
    with pytest.raises(RobotsDisallowed):
        fetcher.get(server.url("/early/"))
    assert fetcher.get(server.url("/page/")).status == 200  # not caught by a rule cut in two
    assert fetcher.get(server.url("/late/")).status == 200  # past the limit: never read
    assert fetcher.robots_note(server.url("/"))


def test_a_robots_txt_within_the_limit_says_nothing(server, fetcher):
    server.route("/robots.txt", static(big_robots("User-agent: *\nDisallow: /no/\n", 400 * 1024), "text/plain"))
    server.route("/p/", html_page("<p>x</p>"))
    assert fetcher.get(server.url("/p/")).status == 200
    assert fetcher.robots_note(server.url("/")) is None


def test_unreachable_host_is_reported_as_a_connection_error_not_robots():
    with HostileServer() as s:
        url = s.url("/p/")
    with Fetcher(FetchConfig(retries=0)) as fetcher, pytest.raises(FetchError) as e:
        fetcher.get(url)
    assert e.value.kind == "connection" and not isinstance(e.value, RobotsDisallowed)


# --- concurrency ----------------------------------------------------------------------------------

def test_one_request_at_a_time_per_host_but_hosts_in_parallel():
    """Each host's request waits, inside the server, until the other host has a request
    going too: they meet only if the two hosts are fetched side by side (one host's
    requests after the other's would each wait out the 10 s and say so)."""
    arrived = {"a": threading.Event(), "b": threading.Event()}
    met: list[bool] = []

    def meeting(me: str, other: str):
        def handler(h):
            arrived[me].set()
            met.append(arrived[other].wait(10))
            html_page("x")(h)
        return handler

    config = FetchConfig(connect_timeout=1.0, read_timeout=15.0, total_timeout=20.0, obey_robots=False)
    with HostileServer() as a, HostileServer() as b:
        a.route("/slow/", meeting("a", "b"))
        b.route("/slow/", meeting("b", "a"))
        with Fetcher(config) as fetcher:
            threads = [threading.Thread(target=fetcher.get, args=(s.url("/slow/"),)) for s in (a, a, a, b, b, b)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    assert a.max_active == 1 and b.max_active == 1  # one at a time per host
    assert len(met) == 6 and all(met)  # the hosts side by side


def test_a_bad_content_encoding_is_an_error(server, fetcher):
    server.route("/br/", lambda h: send(h, 200, b"\x8b\x00garbage", "text/html", {"Content-Encoding": "br"}))
    server.route("/badgz/", lambda h: send(h, 200, b"not gzip at all", "text/html", {"Content-Encoding": "gzip"}))
    for path in ("/br/", "/badgz/"):
        with pytest.raises(FetchError) as e:
            fetcher.get(server.url(path))
        assert e.value.kind == "bad-encoding"
