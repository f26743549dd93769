"""Untrusted partners (issue 9, findings 1-4 and every registry feed of 7), end to end over
real HTTP on loopback into a real SQLite file: a partner on 127.0.0.1 (the hostile server
of tests/fixtures/ingest/hostile.py) and an "internal" host on 127.0.0.2 that no partner
may reach, whatever spelling of its address the partner uses.

Claim clustering is not under test here and loads a model, so it is stubbed out."""
from __future__ import annotations

import functools
import json
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from pipeline import clustering, orchestrator
from pipeline.cli import cli
from pipeline.errors import FetchError
from pipeline.fetch import Fetcher, FetchConfig
from pipeline.orchestrator import run_sources
from pipeline.types import Source

from fixtures.clock import FakeClock
from fixtures.ingest.hostile import HostileServer, redirect, slow_headers, static

FAST = FetchConfig(connect_timeout=1.0, read_timeout=0.5, total_timeout=2.0, max_bytes=2_000_000,
                   retries=1, backoff=0.05, max_retry_after=2.0)
RSS = "application/rss+xml"
SECRET = "Internal admin console: user records deleted"


@pytest.fixture(autouse=True)
def _no_clustering(monkeypatch):
    monkeypatch.setattr(clustering, "cluster_new_mentions", lambda store, now, **kw: 0)


@pytest.fixture()
def internal():
    """A host partners must never reach; every path answers with a page worth stealing."""
    with HostileServer(host="127.0.0.2") as s:
        page = static(article(SECRET, s.base, "/admin.html"), "text/html; charset=utf-8")
        for path in ("/admin.html", "/home/", "/p/", "/feed/"):
            s.route(path, page)
        s.route("/feed/", static(rss(s.base, ["/admin.html"]), RSS))
        s.route("/sitemap.xml", static(urlset([s.url("/admin.html")]), "application/xml"))
        yield s


def article(title: str, base: str, path: str) -> str:
    return (f'<!doctype html><html lang="en"><head><title>{title}</title>'
            f'<link rel="canonical" href="{base}{path}"></head><body>'
            f"<article><h1>{title}</h1><p>Sleep problems are common in early recovery from alcohol use "
            f"disorder. Most people notice better sleep after several weeks of abstinence.</p>"
            f"<p>Regular exercise can improve sleep quality in adults. {title} is what this page is "
            f"about.</p></article></body></html>")


def rss(base: str, links: list[str], *, title: str = "Harbor", encoding: str = "UTF-8") -> str:
    items = "".join(
        f"<item><title>Post {i}</title><link>{link if '//' in link else base + link}</link>"
        f"<guid>item-{i}-{link}</guid><description>An excerpt.</description></item>"
        for i, link in enumerate(links))
    return (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>{base}/</link>{items}</channel></rss>")


def urlset(urls: list[str]) -> str:
    locs = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'


def sitemap_index(urls: list[str]) -> str:
    locs = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return (f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{locs}</sitemapindex>")


def pages(server: HostileServer, *paths: str) -> None:
    for p in paths:
        server.route(p, static(article(f"Article {p.strip('/')}", server.base, p), "text/html; charset=utf-8"))


# --- 1. fetch scope ---------------------------------------------------------------------------

def test_nothing_outside_the_partners_hosts_is_fetched_or_stored(server, internal, store):
    port = internal.server_port
    hex_host = f"http://0x7f000002:{port}"  # 127.0.0.2 in the notation the issue saw used
    pages(server, "/a/p1/", "/c/p1/", "/d/p1/")
    # a: registry feed whose items link to the internal host (dotted, hex, decimal, short)
    server.route("/a/feed/", static(rss(server.base, [
        "/a/p1/", internal.url("/admin.html?action=delete"), f"{hex_host}/admin.html",
        f"http://2130706434:{port}/p/", f"http://127.2:{port}/home/"]), RSS))
    # b: a homepage that redirects to the internal host, written in hex
    server.route("/b/", redirect(f"{hex_host}/home/", 302))
    # c: a homepage advertising a feed on the internal host; its own sitemap is fine
    server.route("/c/", static(f'<html><head><link rel="alternate" type="application/rss+xml" '
                             f'href="{internal.url("/feed/")}"></head><body></body></html>', "text/html"))
    # d: a sitemap index with a child on the internal host; a page that redirects there
    server.route("/d/sitemap.xml", static(sitemap_index([server.url("/d/posts.xml"), internal.url("/sitemap.xml")]),
                                        "application/xml"))
    server.route("/d/posts.xml", static(urlset([server.url("/d/p1/"), server.url("/d/moved/"),
                                              internal.url("/p/")]), "application/xml"))
    server.route("/d/", static("<!doctype html><html><head><title>D</title></head><body></body></html>", "text/html"))
    server.route("/d/moved/", redirect(f"http://0x7f.0.0.2:{port}/admin.html"))
    sources = [Source(id="a", name="A", homepage=server.url("/a/"), feeds=(server.url("/a/feed/"),)),
               Source(id="b", name="B", homepage=server.url("/b/")),
               Source(id="c", name="C", homepage=server.url("/c/")),
               Source(id="d", name="D", homepage=server.url("/d/"), sitemap=server.url("/d/sitemap.xml"))]

    report = run_sources(sources, store, fetch_config=FAST)

    assert internal.hits == [], "a partner's URL reached the internal host"
    by_id = {r.source_id: r for r in report.sources}
    assert by_id["a"].off_scope == 4 and by_id["a"].ok and by_id["a"].new_articles == 1
    assert by_id["b"].off_scope == 1 and [e.kind for e in by_id["b"].errors] == ["off-scope"]
    assert by_id["c"].off_scope == 1
    assert by_id["d"].off_scope == 2 and by_id["d"].new_articles == 1  # the child sitemap, the redirect
    assert report.summary()["off_scope"] == 8 == report.off_scope
    articles = list(store.export_articles())
    assert {urlsplit(a["url"]).hostname for a in articles} == {"127.0.0.1"}
    assert not any(SECRET in m["text"] for m in store.export_mentions())
    assert any("outside the fetch scope" in w for w in by_id["a"].warnings)

    out = CliRunner().invoke(cli, ["sources", "--db", store.engine.url.render_as_string(False)])
    assert out.exit_code == 0, out.output
    row = next(line for line in out.output.splitlines() if line.startswith("a "))
    assert row.split()[5] == "4"  # the off-scope column
    assert any(h.id == "d" and h.off_scope == 2 for h in store.source_health())


def test_allowed_hosts_widen_the_scope(server, internal, store):
    pages(server, "/p1/")
    server.route("/feed/", static(rss(server.base, ["/p1/", internal.url("/p/")]), RSS))
    src = Source(id="a", name="A", homepage=server.url("/"), feeds=(server.url("/feed/"),),
                 allowed_hosts=("0x7f000002",))
    (r,) = run_sources([src], store, fetch_config=FAST).sources
    assert r.ok and r.off_scope == 0 and r.new_articles == 2
    assert "/p/" in internal.paths()


# --- 2. one bad URL is that URL's problem ----------------------------------------------------------

def test_a_bad_link_costs_only_itself(server, store):
    pages(server, "/p1/", "/p3/")
    server.route("/feed/", static(rss(server.base, ["/p1/", "http://a..b/x", "/p3/", "http://[::1/x",
                                                "http://\u2488bad.example/x", "http://x.example:99999/"]), RSS))
    src = Source(id="a", name="A", homepage=server.url("/"), feeds=(server.url("/feed/"),))
    (r,) = run_sources([src], store, fetch_config=FAST).sources
    assert r.new_articles == 2
    assert {a["url"] for a in store.export_articles()} == {server.url("/p1/"), server.url("/p3/")}
    kinds = {e.url: e.kind for e in r.errors}
    assert kinds["http://a..b/x"] == "bad-url"
    assert "internal" not in kinds.values()


def test_the_fetcher_raises_only_fetch_errors_for_bad_urls():
    with Fetcher(FAST) as fetcher:
        for url in ("http://a..b/x", "http://\u2488bad.example/", "http://[::1/", "http://x:99999/",
                    "http://" + "a" * 64 + ".example/", "http://1.2.3.4.5/"):
            with pytest.raises(FetchError) as e:
                fetcher.get(url)
            assert e.value.kind == "bad-url" and e.value.url == url


# --- 3. deadlines --------------------------------------------------------------------------------

def test_slow_headers_are_cut_off_at_the_exchange_deadline(server):
    server.route("/slow/", slow_headers(every=0.2))  # ~130 header bytes: 26 s if nobody cuts it off
    config = FetchConfig(connect_timeout=1.0, read_timeout=1.0, total_timeout=1.5, retries=0, obey_robots=False)
    with Fetcher(config) as fetcher, pytest.raises(FetchError) as e:
        fetcher.get(server.url("/slow/"))
    # every byte came within the 1 s read timeout: only the exchange's deadline cuts it off
    assert e.value.kind == "timeout" and "not complete after 1.5 s" in e.value.message


def test_a_slow_partner_delays_the_run_by_at_most_its_budget(server, store):
    with HostileServer(host="127.0.0.3") as slow:
        slow.route("/", slow_headers(every=0.2))
        slow.route("/robots.txt", slow_headers(every=0.2))
        pages(server, "/p1/")
        server.route("/feed/", static(rss(server.base, ["/p1/"]), RSS))
        config = FetchConfig(connect_timeout=1.0, read_timeout=1.0, total_timeout=1.5, retries=2, backoff=0.05,
                             source_budget=2.5)
        sources = [Source(id="slow", name="Slow", homepage=slow.url("/")),
                   Source(id="fine", name="Fine", homepage=server.url("/"), feeds=(server.url("/feed/"),))]
        report = run_sources(sources, store, fetch_config=config)
    by_id = {r.source_id: r for r in report.sources}
    assert by_id["fine"].ok and by_id["fine"].new_articles == 1
    # Three attempts of 1.5 s are allowed by `retries`; the 2.5 s budget leaves room for
    # two, the second cut short; the homepage is never asked for.
    assert 1 <= slow.paths().count("/robots.txt") <= 2 and "/" not in slow.paths(), slow.paths()
    # nothing came of the slow source: a failure (its time budget ran out retrying), not a note
    assert [e.kind for e in by_id["slow"].errors] in (["budget"], ["timeout"]), by_id["slow"].errors


def test_crawl_delays_are_bounded_by_the_budget_and_the_rest_waits_for_the_next_run(server, store, monkeypatch):
    paths = [f"/p{i}/" for i in range(6)]
    pages(server, *paths)
    server.route("/robots.txt", static("User-agent: *\nCrawl-delay: 1\n", "text/plain"))
    server.route("/feed/", static(rss(server.base, paths), RSS))
    config = FetchConfig(connect_timeout=1.0, read_timeout=1.0, total_timeout=2.0, retries=0, source_budget=2.5)
    src = Source(id="a", name="A", homepage=server.url("/"), feeds=(server.url("/feed/"),))
    clock = FakeClock()
    monkeypatch.setattr(orchestrator, "Fetcher", functools.partial(Fetcher, **clock.fetcher_kwargs()))
    (r,) = run_sources([src], store, fetch_config=config).sources
    # robots.txt and the feed at once, p0 after 1 s, p1 after 2 s; p2 would start at 3 s,
    # past the 2.5 s budget: neither waited for nor requested
    assert clock.sleeps == pytest.approx([1.0, 1.0])
    assert r.ok and r.new_articles == 2 and "/p2/" not in server.paths()
    assert any("time budget" in w and "4 URL(s) left for the next run" in w for w in r.warnings), r.warnings
    (r2,) = run_sources([src], store, fetch_config=config).sources
    assert r2.new_articles == 2  # the next run carries on where this one stopped


def test_parsing_counts_against_the_budget_and_an_over_budget_source_stops(server, store, monkeypatch):
    """Issue 17 (finding 2): the budget bounds CPU time too. The test's clock makes each
    thousand sitemap entries "take" 50 s, so the 5,000-URL sitemap of source `big` passes
    its 120 s budget in its third thousand: the parse stops there, none of its pages is
    requested, the source is reported over budget; `fine`, harvested next, is unaffected."""
    from pipeline import discover

    clock = FakeClock()
    monkeypatch.setattr(orchestrator, "Fetcher", functools.partial(Fetcher, **clock.fetcher_kwargs()))
    real_parse = discover.parse_sitemap
    checks = []

    def slow_parse(body, url, *, check=None):
        def slow_check():
            checks.append(url)
            clock.advance(50.0)
            check()
        return real_parse(body, url, check=slow_check)

    monkeypatch.setattr(discover, "parse_sitemap", slow_parse)
    posts = [f"/big/post-{i}/" for i in range(5000)]
    pages(server, *posts[:3], "/fine/p1/")
    server.route("/big/", static("<!doctype html><html><head><title>Big</title></head><body></body></html>",
                                 "text/html"))
    server.route("/big/sitemap.xml", static(urlset([server.url(p) for p in posts]), "application/xml"))
    server.route("/fine/feed/", static(rss(server.base, ["/fine/p1/"]), RSS))
    config = FetchConfig(connect_timeout=1.0, read_timeout=1.0, total_timeout=2.0, retries=0, source_budget=120)
    sources = [Source(id="big", name="Big", homepage=server.url("/big/"), sitemap=server.url("/big/sitemap.xml")),
               Source(id="fine", name="Fine", homepage=server.url("/fine/"), feeds=(server.url("/fine/feed/"),))]
    report = run_sources(sources, store, fetch_config=config, workers=1)
    by_id = {r.source_id: r for r in report.sources}
    assert len(checks) == 3  # entries 0, 1,000 and 2,000: stopped there, not at 5,000
    assert not any(p.startswith("/big/post-") for p in server.paths())
    assert [e.kind for e in by_id["big"].errors] == ["budget"] and "120 s" in by_id["big"].errors[0].message
    assert by_id["fine"].ok and by_id["fine"].new_articles == 1
    assert report.summary()["sources_failed"] == 1


# --- 4. feeds that are valid or nearly so -------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-16-le-bom", "utf-32-be-bom", "bogus"])
def test_feeds_in_any_encoding_are_read(server, store, encoding):
    pages(server, "/p1/", "/p2/")
    declared = {"bogus": "bogus"}.get(encoding, encoding.replace("-bom", "").upper())
    text = rss(server.base, ["/p1/", "/p2/"], title="Caf\u00e9 \u201cHarbor\u201d", encoding=declared)
    if encoding == "bogus":
        body = text.encode("utf-8")
    elif encoding.endswith("-bom"):
        codec = encoding[:-4]
        body = (b"\xff\xfe" if codec == "utf-16-le" else b"\x00\x00\xfe\xff") + text.encode(codec)
    else:
        body = text.encode(encoding)  # Python writes the byte-order mark
    server.route("/feed/", static(body, "application/xml"))
    src = Source(id="a", name="A", homepage=server.url("/"), feeds=(server.url("/feed/"),))
    (r,) = run_sources([src], store, fetch_config=FAST).sources
    assert r.ok, r.errors
    assert r.new_articles == 2
    if encoding == "bogus":
        assert any("bogus" in w for w in r.warnings)


RSS11_FEEDS = {"rss11_payload.xml": 2, "rss11_prefixed.xml": 2, "rss11_empty.xml": 0, "rss11_image_lang.xml": 1,
               "rss11_modules.xml": 2}  # file of tests/fixtures/feeds -> its items


@pytest.mark.parametrize("name", sorted(RSS11_FEEDS))
def test_rss11_feeds_are_read_and_their_articles_stored(server, store, name):
    """Issue 17 (finding 10): valid RSS 1.1 feeds were refused as "not a feed" or read
    with no items."""
    from pathlib import Path

    body = (Path(__file__).parent / "fixtures" / "feeds" / name).read_bytes().replace(b"{{base}}",
                                                                                       server.base.encode())
    server.route("/rss11/feed.xml", static(body, "application/rss+xml"))
    for slug in ("sleep-in-early-recovery", "family-week", "naloxone", "volunteers", "cafe-evenings",
                 "group-times", "holiday-hours"):
        pages(server, f"/rss11/{slug}/")
    src = Source(id="h", name="Harborlight", homepage=server.url("/rss11/"), feeds=(server.url("/rss11/feed.xml"),))
    (r,) = run_sources([src], store, fetch_config=FAST).sources
    assert r.ok, r.errors
    assert r.new_articles == RSS11_FEEDS[name]
    assert not any("malformed" in w or "not a feed" in w for w in r.warnings), r.warnings
    if not RSS11_FEEDS[name]:
        assert any("have no items" in w for w in r.warnings)


def registry(folder, src: Source):
    folder = folder / "sources"
    folder.mkdir(exist_ok=True)
    feeds = ", ".join(f'"{f}"' for f in src.feeds)
    (folder / f"{src.id}.toml").write_text(f'name = "{src.name}"\nhomepage = "{src.homepage}"\nfeeds = [{feeds}]\n')
    return folder


def test_a_recoverable_xml_error_keeps_every_item_and_is_a_warning(server, store, tmp_path):
    pages(server, "/p1/", "/p2/")
    feed = rss(server.base, ["/p1/", "/p2/"], title="Harbor &hellip; news")  # undefined in XML
    server.route("/feed/", static(feed, RSS))
    src = Source(id="a", name="A", homepage=server.url("/"), feeds=(server.url("/feed/"),))
    (r,) = run_sources([src], store, fetch_config=FAST).sources
    assert r.ok and r.new_articles == 2
    assert any("malformed feed" in w for w in r.warnings)
    out = CliRunner().invoke(cli, ["run", "--sources", str(registry(tmp_path, src)), "--json",
                                   "--db", store.engine.url.render_as_string(False)])
    assert out.exit_code == 0, out.output  # a warning is not a failure
    summary = json.loads(out.output)
    assert summary["sources_warned"] == 1 and summary["sources_failed"] == 0
    assert any("malformed feed" in w["message"] for w in summary["warnings"])
    (health,) = store.source_health()
    assert health.consecutive_failures == 0 and health.warnings >= 1
    assert "malformed feed" in health.last_warning


# --- 7. every feed the registry lists ----------------------------------------------------------------

def test_every_registry_feed_is_read(server, store):
    pages(server, "/news/1/", "/blog/1/", "/blog/2/")
    server.route("/news/feed/", static(rss(server.base, ["/news/1/", "/blog/1/"]), RSS))
    server.route("/blog/feed/", static(rss(server.base, ["/blog/1/", "/blog/2/"]), RSS))
    src = Source(id="a", name="A", homepage=server.url("/"),
                 feeds=(server.url("/news/feed/"), server.url("/blog/feed/")))
    (r,) = run_sources([src], store, fetch_config=FAST).sources
    assert r.ok and r.new_articles == 3
    assert sorted(urlsplit(a["url"]).path for a in store.export_articles()) == ["/blog/1/", "/blog/2/", "/news/1/"]
    assert server.paths().count("/blog/1/") == 1  # an item in both feeds is fetched once
