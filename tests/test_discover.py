"""pipeline.discover: what a sitemap or a blog index lists, and what it costs (issue 17,
finding 2: sitemap and blog-index parsing were quadratic; 50,000 sitemap URLs took 252 s).

Cost is checked by counting, not timing: the lines of Python that Syndicate's own code
executes (sys.settrace) for an input and for one twice its size. Linear work doubles; the
old quadratic checks quadrupled. The times themselves are printed by
benchmarks/discover_scale.py."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

import pipeline
from pipeline import discover
from pipeline.errors import ParseError

HOME = "https://www.partner.example/"
PACKAGE = str(Path(pipeline.__file__).parent)


def lines_run(fn, *args, **kwargs) -> int:
    """How many lines of pipeline/ code `fn(*args)` executes."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(PACKAGE) else None

    sys.settrace(calls)
    try:
        fn(*args, **kwargs)
    finally:
        sys.settrace(None)
    return count


def sitemap_urls(n: int) -> list[str]:
    """n URLs as a WordPress sitemap lists them: posts, a few listings above them."""
    urls = [f"{HOME}blog/", f"{HOME}news/"]
    urls += [f"{HOME}blog/{2020 + i % 5}/post-{i}/" for i in range(n)]
    urls += [f"{HOME}blog/{2020 + y}/" for y in range(5)]
    return urls


def sitemap_xml(urls: list[str]) -> bytes:
    locs = "".join(f"<url><loc>{u}</loc><lastmod>2026-11-17</lastmod></url>" for u in urls)
    return (f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{locs}</urlset>").encode()


def index_page(n: int) -> bytes:
    links = "".join(f'<li><a href="/blog/post-{i}/">Post {i}</a> <a href="/tag/t{i % 50}/">tag</a></li>'
                    for i in range(n))
    return f"<!doctype html><html><body><ul>{links}</ul></body></html>".encode()


def test_likely_articles_keeps_posts_and_drops_listings_home_and_other_hosts():
    urls = [HOME, f"{HOME}blog/", f"{HOME}blog/a/", f"{HOME}blog/b", f"{HOME}blog/b/", f"{HOME}about/",
            f"{HOME}blog/2026/", f"{HOME}blog/2026/c/", "https://cdn.partner.example/blog/d/", f"{HOME}blog/a/"]
    assert discover.likely_articles(urls, HOME) == [f"{HOME}blog/a/", f"{HOME}blog/b", f"{HOME}blog/b/",
                                                    f"{HOME}about/", f"{HOME}blog/2026/c/"]
    # a path that only another host lists under still makes a listing (as before)
    assert discover.likely_articles([f"{HOME}x/", "https://other.example/x/y/"], HOME) == []


def test_likely_articles_work_grows_linearly():
    small = lines_run(discover.likely_articles, sitemap_urls(1000), HOME)
    large = lines_run(discover.likely_articles, sitemap_urls(2000), HOME)
    assert large / small < 2.5, (small, large)  # linear: 2; the old check of every pair: 4


def test_article_links_work_grows_linearly():
    assert len(discover.article_links(index_page(300), f"{HOME}blog/")) == 300
    small = lines_run(discover.article_links, index_page(1000), f"{HOME}blog/")
    large = lines_run(discover.article_links, index_page(2000), f"{HOME}blog/")
    assert large / small < 2.5, (small, large)


def test_article_links_keep_the_page_order_once_each():
    html = (b'<a href="/blog/b/">b</a><a href="/blog/a/#top">a</a><a href="/blog/b/">again</a>'
            b'<a href="/blog/">the index</a><a href="/blog/page/2/">next</a><a href="/blog/x.pdf">file</a>')
    assert discover.article_links(html, f"{HOME}blog/") == [f"{HOME}blog/b/", f"{HOME}blog/a/"]


def test_parse_sitemap_work_grows_linearly_and_reads_every_entry():
    pages, children = discover.parse_sitemap(sitemap_xml(sitemap_urls(10)), f"{HOME}sitemap.xml")
    assert len(pages) == 17 and not children and pages[2].lastmod.isoformat() == "2026-11-17T00:00:00+00:00"
    small = lines_run(discover.parse_sitemap, sitemap_xml(sitemap_urls(1000)), f"{HOME}sitemap.xml")
    large = lines_run(discover.parse_sitemap, sitemap_xml(sitemap_urls(2000)), f"{HOME}sitemap.xml")
    assert large / small < 2.5, (small, large)


def test_long_loops_call_the_check_and_stop_when_it_raises():
    calls = []

    class Stop(Exception):
        pass

    def check():
        calls.append(1)
        if len(calls) == 3:
            raise Stop

    with pytest.raises(Stop):
        discover.likely_articles(sitemap_urls(50_000), HOME, check=check)
    assert len(calls) == 3  # stopped in the third thousand, not at the end
    calls.clear()
    discover.article_links(index_page(2500), f"{HOME}blog/", check=lambda: calls.append(1))
    assert len(calls) == 5  # every 1,000 links (two per item)


def test_a_sitemap_with_entity_declarations_is_refused():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&b;</loc></url></urlset>')
    with pytest.raises(ParseError) as e:
        discover.parse_sitemap(bomb, f"{HOME}sitemap.xml")
    assert e.value.kind == "xml-entities"
    with pytest.raises(ParseError) as e:
        discover.parse_sitemap(b"<urlset><url><loc>x</loc>", f"{HOME}sitemap.xml")
    assert e.value.kind == "bad-sitemap"
