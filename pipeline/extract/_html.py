"""From bytes to a parsed page, and the facts metadata needs.

Owns: decoding, parsing (lxml, for speed), the element vocabulary, removing what is never
text (scripts, styles, media), hidden elements, and reading the page facts (title, h1s,
byline, dates, JSON-LD). Must not: decide what is chrome or where the article is (that is
`_chrome` and `_root`), classify sentences or build the data contract.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from ._meta import JsonLd, PageFacts, load_jsonld
from ._text import collapse_space

# --- decoding -------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")


def decode_html(data: bytes | str) -> str:
    """Bytes to text: BOM, then the declared charset, then UTF-8, then a detector.

    A declared UTF-8 that does not decode (a CMS that stores cp1252) falls back to the
    detector instead of filling the text with U+FFFD.
    """
    if isinstance(data, str):
        return data
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace")
    head = data[:4096]
    m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    declared = m.group(1).decode("ascii", "ignore").lower() if m else None
    if declared:
        try:
            codecs.lookup(declared)
        except LookupError:
            declared = None
    if declared and declared not in ("utf-8", "utf8"):
        if declared in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
            declared = "cp1252"  # what browsers do, per the WHATWG encoding standard
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared in ("utf-8", "utf8"):
        # A page of UTF-8 with a stray byte or two: what a browser shows (a few U+FFFD),
        # not a whole page guessed into another encoding.
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") <= max(2, len(text) // 5000):
            return text
    try:
        from charset_normalizer import from_bytes
        best = from_bytes(data).best()
        if best is not None:
            return str(best)
    except ImportError:  # pragma: no cover - charset-normalizer ships with our deps
        pass
    return data.decode("cp1252", errors="replace")


class TooDeep(ValueError):
    """The page nests elements deeper than the parser goes: what lies below is lost."""


MAX_DEPTH = 2048  # libxml2's limit with huge_tree (256 without it: real pages pass 256)


def parse_html(text: str) -> lxml.html.HtmlElement | None:
    """A whole document (<html><body>) even for a fragment; None when there is nothing.
    Raises TooDeep when the parser stopped at its depth limit (the rest of the page would
    be silently missing). A parser per call: its error log is per parse, and threads
    extract at the same time."""
    if not text or not text.strip():
        return None
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True,
                                  no_network=True, recover=True, huge_tree=True)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError):
        return None
    for entry in parser.error_log:
        if entry.type_name == "ERR_RESOURCE_LIMIT" and "depth" in entry.message.lower():
            raise TooDeep(f"elements nested more than {MAX_DEPTH} levels deep")
    return root


# --- element vocabulary ---------------------------------------------------------------------

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
PARA_TAGS = {"p", "li", "dd", "dt", "td", "th", "pre", "blockquote", "figcaption", "caption", "summary"}
BLOCK_TAGS = PARA_TAGS | HEADINGS | {
    "div", "section", "article", "main", "header", "footer", "aside", "nav", "ul", "ol", "dl",
    "table", "thead", "tbody", "tfoot", "tr", "figure", "form", "fieldset", "details", "hr",
    "address", "center", "hgroup", "body", "html", "caption", "legend", "menu", "dialog",
    "noscript", "iframe", "video", "audio", "canvas", "picture", "svg", "object", "embed",
}
# Never text: code, media and form controls. Dropped without looking.
_ALWAYS_DROP = {"script", "style", "noscript", "template", "svg", "math", "iframe", "object",
                "embed", "canvas", "video", "audio", "select", "option", "textarea", "input",
                "button", "link", "meta", "map", "area", "head", "title", "base", "source",
                "track", "picture", "img", "datalist", "output", "progress", "meter"}
_STRIP_TAGS = tuple(sorted(_ALWAYS_DROP - {"head", "title", "base", "meta", "link"}))


def strip_code(doc) -> None:
    """Remove what is never text (scripts, styles, templates, media, form controls) in
    place, keeping the text that follows each. Before any weighing: a cookie banner's
    template inside a <script> once outweighed the article (its markup counted as prose)."""
    etree.strip_elements(doc, *_STRIP_TAGS, with_tail=False)


# Chrome by tag, unless it holds a large share of the page's prose (some themes wrap the
# whole page in a <form>, or the article in an <aside>).

_HIDDEN_CLASSES = {"hidden", "sr-only", "screen-reader-text", "screen-reader-only", "visually-hidden",
                   "visuallyhidden", "elementor-screen-only", "assistive-text", "element-invisible",
                   "offscreen", "hide", "is-hidden", "u-hidden", "show-for-sr", "a11y-hidden"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _tokens(el) -> list[str]:
    cls = el.get("class")
    ident = el.get("id")
    out = cls.split() if cls else []
    if ident:
        out.append(ident)
    return out


def is_hidden(el) -> bool:
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    cls = el.get("class")
    if cls and not _HIDDEN_CLASSES.isdisjoint(cls.lower().split()):
        return True
    return False



def _space_len(text: str) -> int:
    """Length of `text` with white-space runs counted as one character."""
    return len(_SPACE_RUN.sub(" ", text).strip())


_SPACE_RUN = re.compile(r"\s+")


# --- facts for metadata ---------------------------------------------------------------------

_BY = re.compile(r"^\s*(?:(?:written|posted|published|reviewed|authored)\s+)?by[:\s]+", re.IGNORECASE)
_AUTHOR_HINT = re.compile(r"(?:^|[-_])(?:author|byline|posted-by|by-author|writer|vcard)(?:$|[-_])", re.I)
_DATE_HINT = re.compile(r"(?:^|[-_])(?:published|post-date|entry-date|date|posted-on|pubdate|dt-published|time)(?:$|[-_])", re.I)


_CHROME_AREA = re.compile(r"(?:^|[-_])(?:sidebar|widget-area|widgets|recent|related|summary-item|footer|menu|nav|navbar|"
                          r"navigation|breadcrumbs?|popup|modal|cookie)(?:$|[-_])", re.I)


def _in_chrome(el) -> bool:
    """Inside a sidebar, footer, menu or post list (whose dates and names are other posts')."""
    node = el.getparent()
    while node is not None and node.tag not in ("body", "html"):
        if node.tag in ("nav", "aside", "footer") or (node.get("role") or "").lower() in (
                "navigation", "complementary", "contentinfo"):
            return True
        for token in _tokens(node):
            if token == "widget" or token.startswith("widget_") or _CHROME_AREA.search(token):
                return True
        node = node.getparent()
    return False


@dataclass
class Page:
    doc: object  # the <html> element
    facts: PageFacts
    h1s: list  # (document order, element, text) of visible h1 outside chrome


def doc_order(el) -> int:
    """Position of `el` in document order (counted by libxml2, not in Python)."""
    return int(el.xpath("count(preceding::*) + count(ancestor::*)"))


_FACT_XPATH = etree.XPath(
    "//meta | //title | //link[@rel] | //script[@type] | //h1 | //time | //*[@itemprop]"
    " | //*[@rel='author'] | //*[contains(@class, 'author') or contains(@class, 'byline')"
    " or contains(@class, 'vcard') or contains(@class, 'writer')]"
    " | //*[contains(@class, 'date') or contains(@class, 'published') or contains(@class, 'posted-on')]")


def read_page(doc) -> Page:
    facts = PageFacts()
    scripts: list[str] = []
    h1s = []
    time_candidates = []
    author_candidates = []
    if doc.get("lang"):
        facts.html_lang = doc.get("lang").strip()
    for el in _FACT_XPATH(doc):
        tag = el.tag
        if tag == "meta":
            key = (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "").strip().lower()
            content = el.get("content")
            if key and content is not None and key not in facts.metas:
                facts.metas[key] = content.strip()
            ip = el.get("itemprop")
            if ip and content and ip not in facts.itemprops:
                facts.itemprops[ip] = content.strip()
            continue
        if tag == "title":
            if facts.title_tag is None:
                facts.title_tag = collapse_space(el.text_content()) or None
            continue
        if tag == "link":
            rel = (el.get("rel") or "").lower().split()
            if "canonical" in rel and facts.canonical is None and el.get("href"):
                facts.canonical = el.get("href").strip()
            if "author" not in rel:
                continue
        if tag == "script":
            if (el.get("type") or "").strip().lower() == "application/ld+json" and el.text:
                scripts.append(el.text)
            continue
        if tag == "h1":
            text = collapse_space(el.text_content())
            if text and not is_hidden(el):
                h1s.append(el)
            continue
        ip = el.get("itemprop")
        if tag == "time" or ip in ("datePublished", "dateModified"):
            time_candidates.append(el)
            continue
        if ip == "author" and "author" not in facts.itemprops:
            name = el.find('.//*[@itemprop="name"]')
            text = collapse_space((name if name is not None else el).text_content())
            if text:
                facts.itemprops["author"] = _BY.sub("", text)
        if (el.get("rel") or "").lower() == "author":
            text = collapse_space(el.text_content())
            if text:
                facts.rel_authors.append(re.sub(r"^.*?\bby\s+", "", text, flags=re.I))  # "View all posts by X"
        if el.get("rel") == "author" or any(_AUTHOR_HINT.search(t) for t in _tokens(el)):
            author_candidates.append(el)
        elif any(_DATE_HINT.search(t) for t in _tokens(el)) and len(el) <= 2:
            time_candidates.append(el)
    if scripts:
        facts.jsonld = JsonLd(load_jsonld(scripts))
    visible_h1 = []
    for el in h1s:
        if not _in_chrome(el):
            visible_h1.append((doc_order(el), el, collapse_space(el.text_content())))
    if visible_h1:
        facts.h1 = visible_h1[0][2]
    first_h1 = visible_h1[0][0] if visible_h1 else 0

    # Visible byline: the first author-ish and date-ish elements after the title, outside
    # sidebars and post lists (which carry other posts' dates).
    for el in author_candidates:
        if _in_chrome(el) or doc_order(el) < first_h1:
            continue
        text = _BY.sub("", collapse_space(el.text_content()))
        text = re.split(r"\s[|/\u00b7\u2022]\s", text)[0].strip()
        if text and len(text) <= 80 and not re.search(r"\d{4}", text):
            facts.byline_author = text
            break
    for el in time_candidates:
        if _in_chrome(el) or doc_order(el) < first_h1:
            continue
        value = el.get("datetime") or el.get("content") or collapse_space(el.text_content())
        if el.get("itemprop") == "dateModified":
            facts.itemprops.setdefault("dateModified", value)
            continue
        if el.get("itemprop") == "datePublished":
            facts.itemprops.setdefault("datePublished", value)
        if value and facts.byline_date is None:
            facts.byline_date = value
    return Page(doc=doc, facts=facts, h1s=visible_h1)

