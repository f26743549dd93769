"""Finding a partner's articles: feed links, sitemaps, blog index pages.

Pure functions over bytes already fetched: which feeds a homepage advertises, which
article URLs a sitemap lists, which links on a blog index page look like posts. The
orchestrator decides the order (registry feeds, then discovered feeds, then sitemaps, then
the blog index) and does the fetching.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import defusedxml.ElementTree as DET
import lxml.html
from lxml import etree

from .errors import ParseError
from .feeds import refuse_xml_bombs, safe_url
from .types import SitemapEntry

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json",
              "application/rdf+xml", "application/xml", "text/xml")
# Where CMSs put feeds (WordPress feed/, Hugo index.xml, Jekyll feed.xml, Ghost rss/...),
# relative to the homepage. Probed only for sites that advertise no feed; a 404 here is
# remembered, so a site without any costs these requests once a month, not every run.
COMMON_FEED_PATHS = ("feed/", "rss/", "rss.xml", "feed.xml", "atom.xml", "index.xml", "blog/feed/",
                     "blog/rss.xml")
_SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


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


def parse_sitemap(body: bytes, url: str) -> tuple[list[SitemapEntry], list[str]]:
    """(page entries, child sitemaps) of a sitemap or sitemap index."""
    if not body.strip():
        raise ParseError("empty sitemap", url, kind="empty")
    refuse_xml_bombs(body, url)
    try:
        root = DET.fromstring(body)
    except ET.ParseError as e:
        raise ParseError(f"sitemap is not well-formed XML: {e}", url, kind="bad-sitemap") from e
    tag = root.tag.split("}")[-1]
    pages: list[SitemapEntry] = []
    children: list[str] = []
    for node in root:
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


def article_links(html: bytes, base_url: str, *, scope: str | None = None) -> list[str]:
    """Links on a blog index page that look like posts: same host, below `scope`, deeper
    than the index itself, not feeds, tags, pages of the listing, or files."""
    root = _html_root(html)
    base = urlsplit(base_url)
    scope_path = urlsplit(scope or base_url).path
    index_depth = len([p for p in base.path.split("/") if p])
    out: list[str] = []
    for a in root.iter("a") if root is not None else ():
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
        if clean not in out and clean.rstrip("/") != base_url.rstrip("/"):
            out.append(clean)
    return out


def likely_articles(urls: list[str], homepage: str) -> list[str]:
    """Sitemap URLs that look like articles: not the homepage, and not a listing page.
    A listing is recognised structurally: its path is a prefix of other listed URLs
    (CIVIQ's sitemap lists `/blog/` beside `/blog/<post>/`)."""
    home = urlsplit(homepage)
    paths = {u: urlsplit(u).path.rstrip("/") + "/" for u in urls}
    out = []
    for url, path in paths.items():
        parts = urlsplit(url)
        if parts.netloc != home.netloc or path == home.path.rstrip("/") + "/" or path == "/":
            continue
        if any(other != path and other.startswith(path) for other in paths.values()):
            continue
        if url not in out:
            out.append(url)
    return out


BLOG_WORDS = ("blog", "news", "articles", "posts", "insights", "resources", "stories")


def blog_index_link(html: bytes, base_url: str) -> str | None:
    """The homepage's link to its blog listing: a same-site link whose last path segment
    or text is a usual name for one (blog, news, articles...)."""
    root = _html_root(html)
    base = urlsplit(base_url)
    for a in root.iter("a") if root is not None else ():
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
