"""RSS/Atom parsing: the only module that imports feedparser.

Takes the raw bytes and response headers of a feed and returns a `Feed` of plain values.
Refuses what must never reach the rest of the pipeline: empty bodies, HTML soft-404s, XML
entity bombs, non-http(s) links. Pure: no network, no database.

The body is decoded here, before feedparser sees it (`decode_feed`), and handed on as
UTF-8: feedparser took a UTF-16 feed with a byte-order mark for "not a feed", and an
unknown declared encoding (`encoding="bogus"`) made the XML parser raise LookupError.

The feed's own pace is read too (RSS 2.0 <ttl>, the syndication module's sy:updatePeriod and
sy:updateFrequency): `plan.feed_hint` turns it into an interval a run may wait before
reading the feed again.

Broken XML that the parser recovers from (an undefined `&hellip;` in a title, a feed cut
short) keeps every item recovered, with a warning: only an item still open where the
document ends is dropped, since its text may be cut short.

RSS 1.1 (http://inamidst.com/rss1.1/, namespace `http://purl.org/net/rss1.1#`) is not a
format feedparser knows: a prefixed RSS 1.1 feed came out with no items and an empty one
as "not a feed", and the item payload (`p:payload`, the full text) was lost. It is
rewritten here into the RSS 1.0 it was derived from (`rss11_as_rss10`: the same
elements in the RSS 1.0 namespace, items beside the channel, the payload as
`content:encoded`), which feedparser reads with its usual sanitising, dates and links.
"""
from __future__ import annotations

import calendar
import codecs
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
_TAB_NEWLINE = re.compile(r"[\t\n\r]")


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None) -> Feed:
    """Parse an RSS 0.9x/1.0/2.0 or Atom feed. Raises ParseError with a `kind` tag, and
    nothing else: whatever the bytes, the answer is a Feed or a ParseError."""
    try:
        return _parse_feed(body, url, headers or {})
    except ParseError:
        raise
    except Exception as e:  # feedparser, the XML or HTML parsers on bytes nobody foresaw
        raise ParseError(f"the feed could not be parsed: {type(e).__name__}: {e}", url, kind="bad-feed") from e


def _parse_feed(body: bytes, url: str, headers: dict[str, str]) -> Feed:
    if not body.strip():
        raise ParseError("empty response where a feed was expected", url, kind="empty")
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    body, warnings = decode_feed(body, ctype)
    if not body.strip():
        raise ParseError("empty response where a feed was expected", url, kind="empty")
    refuse_xml_bombs(body, url)
    rss10 = rss11_as_rss10(body)
    if rss10 is not None:
        body = rss10
    response_headers = {k: v for k, v in headers.items()
                        if k.lower() in ("content-location", "content-language")}
    response_headers["content-type"] = _with_utf8_charset(ctype)
    response_headers.setdefault("content-location", url)
    parsed = feedparser.parse(body, response_headers=response_headers, sanitize_html=True,
                              resolve_relative_uris=True)
    if not parsed.get("version") and not parsed.entries:
        what = "an HTML page" if "html" in ctype or b"<html" in body[:2048].lower() else "unrecognised content"
        raise ParseError(f"not a feed ({what})", url, kind="not-a-feed")
    entries = list(parsed.entries)
    if parsed.get("bozo") and isinstance(parsed.get("bozo_exception"), xml.sax.SAXException):
        # The XML is broken and feedparser's forgiving parser recovered what it could.
        # An item still open where the document ends may be cut short (seen: an RSS file
        # truncated inside an item's CDATA): those are dropped, every other item is kept.
        unclosed = max(0, len(entries) - len(_ITEM_END.findall(body)))
        if unclosed:
            entries = entries[:len(entries) - unclosed]
        warnings.append(f"{PARTIAL_FEED} ({parsed['bozo_exception']}); kept the {len(entries)} item(s) "
                        f"recovered" + (f", dropped {unclosed} left open at the end" if unclosed else ""))
    items = []
    for e in entries:
        try:
            items.append(_entry(e, url))
        except Exception as exc:  # one odd item (a date out of range...) must not lose the others
            warnings.append(f"item {str(e.get('link') or e.get('id') or '?')[:200]!r} skipped: "
                            f"{type(exc).__name__}: {exc}")
    return Feed(
        url=url,
        title=plain_text(parsed.feed.get("title")),
        entries=tuple(items),
        warning="; ".join(warnings) or None,
        ttl_minutes=_small_int(parsed.feed.get("ttl")),
        update_period=(plain_text(parsed.feed.get("sy_updateperiod")) or None),
        update_frequency=_small_int(parsed.feed.get("sy_updatefrequency")),
    )


def _small_int(value) -> int | None:
    """A feed's <ttl> or sy:updateFrequency as a positive integer, None when it is not one."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 10_000_000 else None


# closing tags of an RSS item or an Atom entry, with or without a namespace prefix
_ITEM_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?(?:item|entry)\s*>")
_XML_DECL = re.compile(r"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])([^\"']*)\2")
_DECL_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})[\"']")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]{1,40})", re.I)
# Byte-order marks, UTF-32 before UTF-16 (the UTF-32LE mark starts with the UTF-16LE one),
# then the first bytes of "<?" in UTF-16/32 without a mark (XML 1.0, appendix F).
_MARKS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
          (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_UNMARKED = ((b"<\0\0\0", "utf-32-le"), (b"\0\0\0<", "utf-32-be"), (b"<\0?\0", "utf-16-le"),
             (b"\0<\0?", "utf-16-be"))


def decode_feed(body: bytes, content_type: str = "") -> tuple[bytes, list[str]]:
    """The feed as UTF-8 bytes (its XML declaration saying so), and warnings.

    Order: a byte-order mark; UTF-16/32 recognised from "<?" without one; UTF-8 when the
    bytes are valid UTF-8; the HTTP charset and then the declared encoding, each when
    Python knows it and the bytes decode with it; else windows-1252. The common real-world case of that last one is an old
    CMS that declares UTF-8 and sends windows-1252: “curly quotes” survive instead of
    becoming U+FFFD. An unknown declared encoding is a warning, not an error."""
    warnings: list[str] = []
    text = None
    for mark, codec in _MARKS:
        if body.startswith(mark):
            text = body[len(mark):].decode(codec, "replace")
            break
    if text is None:
        for start, codec in _UNMARKED:
            if body.startswith(start):
                text = body.decode(codec, "replace")
                break
    if text is None:
        m = _DECL_ENCODING.match(body[:512])
        declared = m.group(1).decode("ascii").lower() if m else None
        http = _CHARSET.search(content_type or "")
        labels = [(label, what, _codec(label)) for label, what in
                  ((http.group(1).lower() if http else None, "HTTP charset"), (declared, "declared")) if label]
        warnings += [f"unknown {what} encoding {label!r}; detected instead" for label, what, codec in labels
                     if codec is None]
        try:
            # Valid UTF-8 with any non-ASCII byte is UTF-8 whatever the labels say (a
            # server's default "charset=iso-8859-1" is the usual wrong label), and pure
            # ASCII reads the same in every encoding a feed really uses.
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        for label, what, codec in labels:
            if text is not None:
                break
            if codec is None or codec == "utf-8":
                continue
            try:
                text = body.decode(codec)
            except UnicodeDecodeError:
                warnings.append(f"not valid {label} as its {what} encoding says; detected instead")
        if text is None:
            text = body.decode("cp1252", "replace")
            if declared in (None, "utf-8", "utf8"):
                warnings.append("declared UTF-8 but is not; decoded as windows-1252")
            else:
                warnings.append("decoded as windows-1252")
    text = text.lstrip("\ufeff")
    text = _XML_DECL.sub(lambda m: f"{m.group(1)}{m.group(2)}utf-8{m.group(2)}", text, count=1)
    return text.encode("utf-8", "replace"), warnings


def _codec(label: str) -> str | None:
    """Python's codec for an encoding label; latin-1 and ASCII read as windows-1252, as
    browsers do (WHATWG Encoding): what such feeds really hold."""
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"
    if name in ("utf-16", "utf-32"):  # no mark (checked above): the big-endian default
        return name + "-be"
    return name


def _with_utf8_charset(ctype: str) -> str:
    media = (ctype or "").split(";")[0].strip() or "application/xml"
    return f"{media}; charset=utf-8"


def refuse_xml_bombs(body: bytes, url: str) -> None:
    """Raise ParseError for XML that declares entities or external references."""
    try:
        DET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden,
            defusedxml.DTDForbidden) as e:
        raise ParseError(f"refused XML with entity declarations ({type(e).__name__})", url,
                         kind="xml-entities") from e
    except (ET.ParseError, ValueError, LookupError):
        pass  # malformed XML is feedparser's to salvage or reject


RSS11 = "http://purl.org/net/rss1.1#"
_RSS11_PAYLOAD = "http://purl.org/net/rss1.1/payload#"
_RSS10 = "http://purl.org/rss/1.0/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_CONTENT = "http://purl.org/rss/1.0/modules/content/"


def rss11_as_rss10(body: bytes) -> bytes | None:
    """An RSS 1.1 document rewritten as RSS 1.0 (see the module docstring); None for
    anything else. `body` is UTF-8 and already free of entity declarations."""
    if RSS11.encode() not in body[:8192]:  # the namespace is declared on the root element
        return None
    try:
        root = DET.fromstring(body)
    except (ET.ParseError, ValueError, LookupError, defusedxml.DefusedXmlException):
        return None  # broken XML: feedparser's forgiving parser does what it can
    if root.tag != f"{{{RSS11}}}Channel":
        return None
    # Copying and writing out are recursive: a payload nested thousands deep is dropped
    # (the items are kept); anything deeper elsewhere is left to feedparser as it is.
    for payloads in (True, False):
        try:
            return _rss10_document(root, payloads)
        except RecursionError:
            continue
    return None


def _rss10_document(root: ET.Element, payloads: bool) -> bytes:
    rdf = ET.Element(f"{{{_RDF}}}RDF")
    channel = ET.SubElement(rdf, f"{{{_RSS10}}}channel", _rdf_attrs(root))
    for child in root:
        if child.tag == f"{{{RSS11}}}items":
            for item in child:
                if item.tag == f"{{{RSS11}}}item":
                    rdf.append(_rss10_element(item, top=True, payloads=payloads))
        elif child.tag == f"{{{RSS11}}}image":
            continue  # a resource of its own in RSS 1.0; nothing Syndicate reads
        else:
            copied = _rss10_element(child, payloads=payloads)
            if copied is not None:
                channel.append(copied)
    for name in ("{http://www.w3.org/XML/1998/namespace}lang", "{http://www.w3.org/XML/1998/namespace}base"):
        if name in root.attrib:
            rdf.set(name, root.attrib[name])
    return ET.tostring(rdf, encoding="utf-8", xml_declaration=True)


def _rdf_attrs(node: ET.Element) -> dict[str, str]:
    return {k: v for k, v in node.attrib.items() if k != f"{{{_RDF}}}parseType"}


def _rss10_element(node: ET.Element, *, top: bool = False, payloads: bool = True) -> ET.Element | None:
    """`node` with RSS 1.1 names moved to RSS 1.0 and its payload as content:encoded
    (None when `payloads` is false); other namespaces (Dublin Core, content...) are kept
    as they are."""
    if node.tag == f"{{{_RSS11_PAYLOAD}}}payload":
        if not payloads:
            return None
        encoded = ET.Element(f"{{{_CONTENT}}}encoded")
        # the payload is XML (XHTML, usually): written out as HTML, namespaces dropped,
        # so that <xhtml:p> stays a paragraph for feedparser's sanitiser
        encoded.text = (node.text or "") + "".join(ET.tostring(_local_names(c), encoding="unicode") for c in node)
        return encoded
    tag = node.tag
    if tag.startswith(f"{{{RSS11}}}"):
        tag = f"{{{_RSS10}}}" + tag[len(RSS11) + 2:]
    out = ET.Element(tag, _rdf_attrs(node))
    out.text, out.tail = node.text, None if top else node.tail
    for child in node:
        copied = _rss10_element(child, payloads=payloads)
        if copied is not None:
            out.append(copied)
    return out


def _local_names(node: ET.Element) -> ET.Element:
    out = ET.Element(node.tag.rsplit("}", 1)[-1], {k.rsplit("}", 1)[-1]: v for k, v in node.attrib.items()})
    out.text, out.tail = node.text, node.tail
    out.extend([_local_names(c) for c in node])
    return out


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


_ATOM = "{http://www.w3.org/2005/Atom}"


def listed_links(body: bytes, url: str, headers: dict[str, str] | None = None) -> list[tuple[str, str]] | None:
    """(link, guid) of every item of a well-formed RSS 2.0 or Atom feed, read with the
    standard XML parser (about a twentieth of feedparser's time). For a feed that answered
    304, whose body `parse_feed` read in full when it was fetched: the harvest only needs to
    know whether some item's page wants a request. None for anything else (another format,
    malformed XML, an item without an http(s) link, a note `parse_feed` would make about the
    encoding): then the feed is parsed in full."""
    try:
        ctype = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), "")
        body, warnings = decode_feed(body, ctype)
        if warnings:
            return None
        root = DET.fromstring(body)  # entities, DTDs and external references refused
    except Exception:  # noqa: BLE001 - anything odd is parse_feed's to judge
        return None
    if root.tag == "rss" and root.get("version", "").startswith("2."):
        pairs = [(item.findtext("link"), item.findtext("guid")) for item in root.iterfind("channel/item")]
    elif root.tag == _ATOM + "feed":
        entries = list(root.iterfind(_ATOM + "entry"))
        if any(link.get("href") is None for entry in entries for link in entry.iterfind(_ATOM + "link")):
            return None  # feedparser reads such entries its own way
        pairs = [(next((link.get("href") for link in entry.iterfind(_ATOM + "link")
                        if link.get("rel", "alternate") == "alternate"), None), entry.findtext(_ATOM + "id"))
                 for entry in entries]
    else:
        return None
    if len(pairs) != len(_ITEM_END.findall(body)):
        return None  # items in another namespace, or nested: feedparser may see them otherwise
    out = []
    for link, guid in pairs:
        absolute = safe_url(link, url)
        if absolute is None:
            return None
        out.append((absolute, (guid or "").strip() or absolute))
    return out


def safe_url(value: str | None, base: str) -> str | None:
    """An absolute http(s) URL, or None for javascript:, data: and other schemes."""
    if not value:
        return None
    # as browsers do (WHATWG URL): tabs and newlines dropped, inner spaces percent-encoded
    # (seen in feeds: a relative link "Correct Value")
    value = _TAB_NEWLINE.sub("", value.strip()).replace(" ", "%20")
    try:
        absolute = urljoin(base, value)
        parts = urlsplit(absolute)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:  # "http://[::1/", "http://x:99999/": not a URL anything can fetch
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


