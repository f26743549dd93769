"""RSS/Atom parsing: the only module that imports feedparser.

Takes the raw bytes and response headers of a feed (so feedparser can detect the
encoding itself) and returns a `Feed` of plain values. Refuses what must never reach the
rest of the pipeline: empty bodies, HTML soft-404s, XML entity bombs, non-http(s) links.
Pure: no network, no database.
"""
from __future__ import annotations

import calendar
import re
import xml.etree.ElementTree as ET
import xml.sax
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import defusedxml
import defusedxml.ElementTree as DET
import feedparser
from bs4 import BeautifulSoup

from .errors import ParseError
from .types import Feed, FeedEntry

# Feed.warning starts with this when the XML broke and only the complete items were kept.
PARTIAL_FEED = "malformed feed"
_ACTIVE = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "form")
_SPACE = re.compile(r"\s+")


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None) -> Feed:
    """Parse an RSS 0.9x/1.0/2.0 or Atom feed. Raises ParseError with a `kind` tag."""
    if not body.strip():
        raise ParseError("empty response where a feed was expected", url, kind="empty")
    refuse_xml_bombs(body, url)
    warning = None
    if not _is_utf8(body) and _declares_utf8(body):
        # A feed that says UTF-8 but is not: the common real-world case is windows-1252
        # from an old CMS. Decoding it as cp1252 keeps “curly quotes” instead of U+FFFD.
        body = body.decode("cp1252", "replace").encode("utf-8")
        warning = "declared UTF-8 but is not; decoded as windows-1252"
    response_headers = {k: v for k, v in (headers or {}).items()
                        if k.lower() in ("content-type", "content-location", "content-language")}
    response_headers.setdefault("content-location", url)
    parsed = feedparser.parse(body, response_headers=response_headers, sanitize_html=True,
                              resolve_relative_uris=True)
    if not parsed.get("version") and not parsed.entries:
        ctype = (headers or {}).get("content-type", "")
        what = "an HTML page" if "html" in ctype or b"<html" in body[:2048].lower() else "unrecognised content"
        raise ParseError(f"not a feed ({what})", url, kind="not-a-feed")
    entries = list(parsed.entries)
    if parsed.get("bozo") and isinstance(parsed.get("bozo_exception"), Exception):
        exc = parsed["bozo_exception"]
        if isinstance(exc, xml.sax.SAXException):
            # The XML is broken; the last entry feedparser salvaged may be cut short
            # (seen: an RSS file truncated inside an item's CDATA). Publish only the
            # entries that closed before the break.
            if entries:
                entries = entries[:-1]
            warning = f"{PARTIAL_FEED} ({exc}); kept {len(entries)} complete item(s)"
    return Feed(
        url=url,
        title=plain_text(parsed.feed.get("title")),
        entries=tuple(_entry(e, url) for e in entries),
        warning=warning,
    )


def refuse_xml_bombs(body: bytes, url: str) -> None:
    """Raise ParseError for XML that declares entities or external references."""
    try:
        DET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden,
            defusedxml.DTDForbidden) as e:
        raise ParseError(f"refused XML with entity declarations ({type(e).__name__})", url,
                         kind="xml-entities") from e
    except (ET.ParseError, ValueError):
        pass  # malformed XML is feedparser's to salvage or reject


def _entry(e: dict, feed_url: str) -> FeedEntry:
    link = safe_url(e.get("link"), feed_url)
    content = None
    for c in e.get("content") or ():
        if c.get("value"):
            content = c["value"]
            break
    summary = e.get("summary") or None
    if content is not None and summary == content:
        summary = None
    return FeedEntry(
        url=link,
        guid=e.get("id") or link,
        title=plain_text(e.get("title")),
        author=plain_text(e.get("author")),
        published=_date(e.get("published_parsed")),
        updated=_date(e["updated_parsed"]) if "updated" in e else None,
        summary_html=summary,
        content_html=content,
        categories=tuple(t["term"] for t in e.get("tags") or () if t.get("term")),
    )


def safe_url(value: str | None, base: str) -> str | None:
    """An absolute http(s) URL, or None for javascript:, data: and other schemes."""
    if not value:
        return None
    value = value.strip()
    absolute = urljoin(base, value)
    parts = urlsplit(absolute)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def plain_text(value: str | None) -> str | None:
    """Tags and the content of active elements dropped, white space folded: titles and
    names are text, never markup (a title may carry `<script>alert(1)</script>`)."""
    if not value:
        return None
    if "<" in value:
        soup = BeautifulSoup(value, "lxml")
        for node in soup.find_all(_ACTIVE):
            node.decompose()
        value = soup.get_text(" ")
    text = _SPACE.sub(" ", value).strip()
    return text or None


def _date(struct) -> datetime | None:
    if not struct:
        return None
    return datetime.fromtimestamp(calendar.timegm(struct), tz=timezone.utc)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _declares_utf8(body: bytes) -> bool:
    head = body[:200].lower()
    return b"encoding=" not in head or b"utf-8" in head or b"utf8" in head
