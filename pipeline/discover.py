"""Finding a partner's articles: feed links, sitemaps, blog index pages.

Pure functions over bytes already fetched: which feeds a homepage advertises, which
article URLs a sitemap lists, which links on a blog index page look like posts. The
orchestrator decides the order (registry feeds, then discovered feeds, then sitemaps, then
the blog index) and does the fetching.

Cost: every function here is linear in its input (or n log n: a sort), since partner
content is untrusted in size too: the sitemap protocol allows 50,000 URLs per file, and a
blog index may carry 100,000 links. Seen: checking each sitemap URL against every other
one made a 50,000-URL sitemap cost 252 s. `benchmarks/discover_scale.py` prints the times;
tests/test_discover.py counts the work. The long loops also call `check`, when given, every
CHECK_EVERY items: the harvester passes its time-budget check, which raises to stop.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urljoin, urlsplit

import defusedxml
import defusedxml.ElementTree as DET
import lxml.html
from lxml import etree

from .errors import ParseError
from .feeds import safe_url
from .types import SitemapEntry

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json",
              "application/rdf+xml", "application/xml", "text/xml")
# Where CMSs put feeds (WordPress feed/, Hugo index.xml, Jekyll feed.xml, Ghost rss/...),
# relative to the homepage. Probed only for sites that advertise no feed; a 404 here is
# remembered, so a site without any costs these requests once a month, not every run.
COMMON_FEED_PATHS = ("feed/", "rss/", "rss.xml", "feed.xml", "atom.xml", "index.xml", "blog/feed/",
                     "blog/rss.xml")
_SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
CHECK_EVERY = 1000  # items between two calls of a long loop's `check`
Check = Callable[[], None]


def _every(items, check: Check | None):
    """`items`, calling `check` every CHECK_EVERY of them (and once before the first)."""
    if check is None:
        yield from items
        return
    for i, item in enumerate(items):
        if i % CHECK_EVERY == 0:
            check()
        yield item


def _html_root(html: bytes):
    """The parsed page, or None for an empty or unparseable one. lxml rather than
    BeautifulSoup: discovery runs on every homepage every run, and lxml is ~10x faster."""
    if not html or not html.strip():
        return None
    try:
        return lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _rels(node) -> list[str]:
    return (node.get("rel") or "").lower().split()


def feed_links(html: bytes, base_url: str) -> list[str]:
    """Feeds a page advertises with <link rel="alternate">, comment feeds last."""
    root = _html_root(html)
    found: list[tuple[bool, str]] = []
    for link in root.iter("link") if root is not None else ():
        if not link.get("href"):
            continue
        rels = _rels(link)
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" not in rels or kind not in FEED_TYPES[:4]:
            continue
        url = safe_url(link.get("href"), base_url)
        if url is None:
            continue
        # WordPress advertises a "Comments Feed" beside the posts feed; it holds comments,
        # not articles, so it is only worth trying after the others.
        is_comments = "comment" in (link.get("title") or "").lower() or "/comments/" in url
        found.append((is_comments, url))
    seen: set[str] = set()
    ordered = []
    for _, url in sorted(found, key=lambda x: x[0]):
        if url not in seen:
            seen.add(url)
            ordered.append(url)
    return ordered


def sitemap_links(html: bytes, base_url: str) -> list[str]:
    """Sitemaps a page links to with <link rel="sitemap">."""
    root = _html_root(html)
    out = []
    for link in root.iter("link") if root is not None else ():
        if link.get("href") and "sitemap" in _rels(link):
            url = safe_url(link.get("href"), base_url)
            if url:
                out.append(url)
    return out


def parse_sitemap(body: bytes, url: str, *, check: Check | None = None) -> tuple[list[SitemapEntry], list[str]]:
    """(page entries, child sitemaps) of a sitemap or sitemap index."""
    if not body.strip():
        raise ParseError("empty sitemap", url, kind="empty")
    try:
        # one parse: defusedxml refuses entity declarations and external references
        root = DET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden) as e:
        raise ParseError(f"refused XML with entity declarations ({type(e).__name__})", url,
                         kind="xml-entities") from e
    except (ET.ParseError, ValueError, LookupError) as e:
        raise ParseError(f"sitemap is not well-formed XML: {e}", url, kind="bad-sitemap") from e
    tag = root.tag.split("}")[-1]
    pages: list[SitemapEntry] = []
    children: list[str] = []
    for node in _every(root, check):
        loc = _child_text(node, "loc")
        target = safe_url(loc, url) if loc else None
        if target is None:
            continue
        if tag == "sitemapindex":
            children.append(target)
        elif tag == "urlset":
            pages.append(SitemapEntry(target, _parse_lastmod(_child_text(node, "lastmod"))))
    if tag not in ("sitemapindex", "urlset"):
        raise ParseError(f"not a sitemap (root element <{tag}>)", url, kind="bad-sitemap")
    return pages, children


def article_links(html: bytes, base_url: str, *, scope: str | None = None, check: Check | None = None) -> list[str]:
    """Links on a blog index page that look like posts: same host, below `scope`, deeper
    than the index itself, not feeds, tags, pages of the listing, or files."""
    root = _html_root(html)
    base = urlsplit(base_url)
    scope_path = urlsplit(scope or base_url).path
    index_depth = len([p for p in base.path.split("/") if p])
    index = base_url.rstrip("/")
    out: dict[str, None] = {}  # insertion-ordered set: a list's `in` made 100k links quadratic
    for a in _every(root.iter("a") if root is not None else (), check):
        url = safe_url(a.get("href"), base_url)
        if not url:
            continue
        parts = urlsplit(url)
        segments = [p for p in parts.path.split("/") if p]
        if (parts.netloc != base.netloc or not parts.path.startswith(scope_path)
                or len(segments) <= index_depth or parts.query
                or any(s in ("tag", "tags", "category", "page", "author", "feed") for s in segments)
                or "." in segments[-1]):
            continue
        clean = parts._replace(fragment="").geturl()
        if clean.rstrip("/") != index:
            out.setdefault(clean)
    return list(out)


def likely_articles(urls: list[str], homepage: str, *, check: Check | None = None) -> list[str]:
    """Sitemap URLs that look like articles: not the homepage, and not a listing page.
    A listing is recognised structurally: its path is a prefix of other listed URLs
    (CIVIQ's sitemap lists `/blog/` beside `/blog/<post>/`).

    n log n: in the sorted distinct paths, the paths a path P is a proper prefix of come
    right after P (anything sorting between P and such a path starts with P too), so P
    is a listing exactly when the next path starts with P."""
    home = urlsplit(homepage)
    home_path = home.path.rstrip("/") + "/"
    candidates: dict[str, str] = {}  # url -> path, first occurrence, in the sitemap's order
    paths: set[str] = set()
    for url in _every(urls, check):
        if url in candidates:
            continue
        parts = urlsplit(url)
        path = parts.path.rstrip("/") + "/"
        paths.add(path)  # every listed URL counts in making a listing, whatever its host
        if parts.netloc == home.netloc and path != home_path and path != "/":
            candidates[url] = path
    ordered = sorted(paths)
    listings = {p for p, following in zip(ordered, ordered[1:]) if following.startswith(p)}
    return [url for url, path in candidates.items() if path not in listings]


BLOG_WORDS = ("blog", "news", "articles", "posts", "insights", "resources", "stories")


def blog_index_link(html: bytes, base_url: str, *, check: Check | None = None) -> str | None:
    """The homepage's link to its blog listing: a same-site link whose last path segment
    or text is a usual name for one (blog, news, articles...)."""
    root = _html_root(html)
    base = urlsplit(base_url)
    for a in _every(root.iter("a") if root is not None else (), check):
        url = safe_url(a.get("href"), base_url)
        if not url or urlsplit(url).netloc != base.netloc:
            continue
        segments = [p for p in urlsplit(url).path.split("/") if p]
        label = " ".join(a.text_content().split()).lower()
        if (segments and segments[-1].lower() in BLOG_WORDS) or label in BLOG_WORDS:
            return url
    return None


def common_feed_urls(homepage: str) -> list[str]:
    """Where feeds usually live, relative to the homepage, for sites that advertise none."""
    return [urljoin(homepage, p) for p in COMMON_FEED_PATHS]


def _child_text(node: ET.Element, name: str) -> str | None:
    for child in node:
        if child.tag.split("}")[-1] == name and child.text:
            return child.text.strip()
    return None


def _parse_lastmod(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)
