"""What a big sitemap and a big blog index cost: discovery's parsing at partner scale.

    python benchmarks/discover_scale.py [--sizes 20000,50000,190000] [--links 100000] [--json]

The sitemap protocol allows 50,000 URLs per file (large WordPress sites list that many);
issue 17 saw a 20,000-URL sitemap take 64 s, 50,000 take 252 s and 190,000 still running
after 600 s, and a blog index of 100,000 links take 75 s, because each URL was compared
with every other one. Prints, for generated inputs (a WordPress-like sitemap: posts under
yearly listings; a blog index with a post link and a tag link per item):

- sitemap N: `discover.parse_sitemap` + `discover.likely_articles` on an N-URL urlset;
- index N links: `discover.article_links` on a page of N links (N/2 posts);
- the same two end to end over loopback, as a harvest reads them (`Harvester.sitemap_pages`,
  `Harvester.blog_index_pages`: HTTP fetch, decoding, size cap, parse, filtering), for
  the largest sitemap that fits the 10 MB body cap and for the index page.

CPU-bound and single-threaded: figures vary with the machine and its load.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

HOME = "http://127.0.0.1/"


def sitemap_xml(n: int, base: str) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
    for y in range(2015, 2027):
        parts.append(f"<url><loc>{base}blog/{y}/</loc></url>\n")
    for i in range(n - 12):
        parts.append(f"<url><loc>{base}blog/{2015 + i % 12}/a-post-about-recovery-{i}/</loc>"
                     f"<lastmod>2026-11-{1 + i % 28:02d}</lastmod></url>\n")
    parts.append("</urlset>\n")
    return "".join(parts).encode()


def index_html(n_links: int) -> bytes:
    items = "".join(f'<li><a href="/blog/a-post-about-recovery-{i}/">Post {i}</a> '
                    f'<a href="/tag/topic-{i % 40}/">topic</a></li>\n' for i in range(n_links // 2))
    return f"<!doctype html><html><head><title>Blog</title></head><body><ul>{items}</ul></body></html>".encode()


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="20000,50000,190000", help="sitemap sizes, comma-separated")
    ap.add_argument("--links", type=int, default=100_000, help="links on the blog index page")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from pipeline import discover

    results: dict[str, dict] = {}
    for n in [int(x) for x in args.sizes.split(",") if x]:
        body = sitemap_xml(n, HOME)
        t_parse, (entries, _) = timed(discover.parse_sitemap, body, HOME + "sitemap.xml")
        t_filter, articles = timed(discover.likely_articles, [e.url for e in entries], HOME)
        results[f"sitemap {n}"] = dict(urls=len(entries), articles=len(articles), bytes=len(body),
                                       parse_s=round(t_parse, 2), filter_s=round(t_filter, 2),
                                       total_s=round(t_parse + t_filter, 2))
    html = index_html(args.links)
    t_links, links = timed(discover.article_links, html, HOME + "blog/")
    results[f"index {args.links} links"] = dict(links=args.links, articles=len(links), bytes=len(html),
                                                total_s=round(t_links, 2))
    results.update(end_to_end(max((int(x) for x in args.sizes.split(",") if x), default=50_000), html))

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("discovery at partner scale (wall time, one thread; noisy on a shared machine)")
    for name, r in results.items():
        detail = ", ".join(f"{k} {v}" for k, v in r.items() if k != "total_s")
        print(f"  {name:<34} {r['total_s']:>7.2f} s   ({detail})")
    return 0


def end_to_end(largest: int, html: bytes) -> dict[str, dict]:
    """The biggest sitemap under the body cap, and the index page, fetched over loopback
    and read by a Harvester as in a run."""
    from fixtures.ingest.hostile import HostileServer, static
    from pipeline.fetch import Fetcher, FetchConfig
    from pipeline.harvest import Harvester
    from pipeline.types import Source

    config = FetchConfig()
    out: dict[str, dict] = {}
    with HostileServer() as server:
        base = server.url("/")
        n = largest
        body = sitemap_xml(n, base)
        while len(body) > config.max_bytes and n > 1000:
            n = n * 9 // 10
            body = sitemap_xml(n, base)
        server.route("/sitemap.xml", static(body, "application/xml"))
        server.route("/blog/", static(html, "text/html; charset=utf-8"))
        source = Source(id="big", name="Big", homepage=base, sitemap=server.url("/sitemap.xml"),
                        blog_index=server.url("/blog/"), allow_private=True)  # served on loopback
        with Fetcher(config) as fetcher:
            harvester = Harvester(source, fetcher, _NoStore(), {}, datetime.now(timezone.utc))
            t, (pages, _) = timed(harvester.sitemap_pages, b"")
            out[f"harvest: sitemap {n} over HTTP"] = dict(urls=n, articles=len(pages), bytes=len(body),
                                                          total_s=round(t, 2))
            t, (pages, _) = timed(harvester.blog_index_pages, b"")
            out["harvest: index page over HTTP"] = dict(articles=len(pages), bytes=len(html), total_s=round(t, 2))
    return out


class _NoStore:
    """The harvester reads snapshots only for 304s; nothing here was stored before."""

    @staticmethod
    def prepare_snapshot(body: bytes):
        return None

    def snapshot_body(self, sha256: str):
        return None


if __name__ == "__main__":
    sys.exit(main())
