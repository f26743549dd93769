"""From bytes to the element that holds the article.

Owns: decoding, parsing (lxml, for speed), reading the page facts that metadata needs,
removing page chrome (menus, banners, cookie notices, share bars, sidebars, forms, hidden
text), and choosing the content root on layouts never seen before.
Must not: classify sentences or build the data contract; that is `_blocks` and `_labels`.

Why our own root finder rather than trafilatura's: the stages after this one need the
elements themselves (headings, list items, <sup> markers, FAQ markup, links), and
trafilatura returns text or its own XML without them; running it as well would double the
cost. The finder below is the readability idea (score paragraphs, favour their parents)
plus one addition for block-based builders (Squarespace, Elementor, Gutenberg groups):
climb while the parent adds a real share of article text, so an article split over
sibling blocks is taken whole.
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
PARA_TAGS = {"p", "li", "dd", "dt", "td", "th", "pre", "blockquote", "figcaption", "summary"}
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
_CHROME_TAGS = {"nav", "aside", "footer", "form", "figure", "dialog", "menu", "label", "fieldset", "legend"}
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "dialog", "alertdialog",
                 "search", "menu", "menubar", "toolbar", "alert", "tablist", "form"}
_HIDDEN_CLASSES = {"hidden", "sr-only", "screen-reader-text", "screen-reader-only", "visually-hidden",
                   "visuallyhidden", "elementor-screen-only", "assistive-text", "element-invisible",
                   "offscreen", "hide", "is-hidden", "u-hidden", "show-for-sr", "a11y-hidden"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

# Class/id words that name page chrome in the themes and builders of the web at large
# (WordPress, Astra, Elementor, Squarespace, Bootstrap, Jetpack, Yoast, Complianz...).
# Matched against whole hyphen/underscore-separated parts of each class or id token, so
# "share" hits "elementor-share-buttons" but "widget" does not hit
# "elementor-widget-container" (listed only as exact tokens below).
_CHROME_PARTS = re.compile(
    r"(?:^|[-_])(?:"
    r"share|shares|sharing|sharedaddy|social|socials|newsletter|subscribe|subscription|signup|"
    r"mc4wp|mailchimp|optin|cookie|cookies|consent|cmplz|gdpr|ccpa|banner|announcement|"
    r"alert|notice|popup|pop-up|popups|modal|overlay|lightbox|offcanvas|off-canvas|drawer|"
    r"cta|call-to-action|calltoaction|related|relatedposts|recent|recommended|"
    r"sidebar|widget-area|widgets|comments?|respond|disqus|breadcrumbs?|breadcrumb_last|"
    r"toc|table-of-contents|author|byline|meta|post-info|postinfo|entry-footer|"
    r"navigation|navbar|nav|menu|menus|pagination|pager|paging|tags|tagcloud|categories|"
    r"skip|skip-link|promo|promotion|advert|advertisement|ads|adsense|sponsor|sponsored|"
    r"print|login|search|hero|jp|masthead|topbar|top-bar|toolbar|footer|header|"
    r"rating|ratings|likes?|avatar|profile|bio|badge|chat|livechat|helpline|sticky|"
    r"floating|cart|prev|next|post-nav|nav-links|screen-reader|visually-hidden|"
    r"exit-intent|slide-in|subscribe-box|callout-contact|contact-form|insurance-form|"
    r"caption|captions|credit|credits|copyright|dateline|taglist|"
    r"recommendations|readmore|read-more"
    r")(?:$|[-_])",
    re.IGNORECASE,
)
_CHROME_EXACT = {"widget", "widget_text", "widget_block", "secondary", "tns", "ad", "sd-block",
                 "addtoany", "a2a_kit", "feedback", "post-date", "entry-date", "posted-on",
                 "updated", "wp-block-latest-posts", "wp-block-buttons", "wp-block-button",
                 "sqs-block-button", "sqs-block-newsletter", "sqs-block-summary-v2"}
# Content-ish words that must not be mistaken for chrome even inside a matching token.
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


# Parts that make a class token describe a state or a layout rather than name a region:
# "layout-right-sidebar", "has-sidebar", "modal-enabled" sit on the page's main wrapper.
_MODIFIER_PARTS = frozenset("layout has with without no is enabled disabled active position template mode "
                            "show shows".split())
_PART_SPLIT = re.compile(r"[-_]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])")


def _chrome_token(token: str) -> str | None:
    """The chrome word a class or id token names, matched as a whole token or as whole
    hyphen/underscore parts of it, never as a substring ("modal-enabled" is a state of the
    page, "TestReport__Section--Ads" is a section whose BEM modifier mentions ads)."""
    t = _CAMEL.sub("-", token).lower()  # "relatedNews" names the same as "related-news"
    if "--" in t and not t.startswith("--"):
        t = t.split("--", 1)[0]  # a BEM modifier says how a block looks, not what it is
    if t in _CHROME_EXACT or t.startswith("widget_"):
        return t
    parts = _PART_SPLIT.split(t)
    if not _MODIFIER_PARTS.isdisjoint(parts):
        return None
    m = _CHROME_PARTS.search(t)
    return m.group(0).strip("-_") if m else None


_CONTENT_PARTS = frozenset("content body article entry story text main post blog single".split())
_CONTENT_CORE = frozenset("content body article entry story text".split())


def _names_content(token: str) -> bool:
    """A token that names the article itself and nothing else: "entry-content",
    "article_body", "post-text"."""
    parts = [p for p in _PART_SPLIT.split(_CAMEL.sub("-", token).lower()) if p]
    return bool(parts) and set(parts) <= _CONTENT_PARTS and not _CONTENT_CORE.isdisjoint(parts)


def chrome_reason(el) -> str | None:
    """Why this element looks like page chrome, or None. A class naming the article
    outweighs a chrome word in another token (class "content_body", id "TOC_TITLE_3")."""
    tag = el.tag
    if tag in _CHROME_TAGS:
        return f"tag {tag}"
    role = el.get("role")
    if role and role.lower() in _CHROME_ROLES:
        return f"role {role}"
    cls = el.get("class")
    ident = el.get("id")
    if not cls and not ident:
        return None
    tokens = (cls.split() if cls else []) + ([ident] if ident else [])
    for token in tokens:
        word = _chrome_token(token)
        if word:
            if len(tokens) > 1 and any(_names_content(t) for t in tokens):
                return None
            return f"class {word}"
    return None


# --- prose weights --------------------------------------------------------------------------

def _is_inline_only(el) -> bool:
    for child in el:
        if isinstance(child.tag, str) and child.tag in BLOCK_TAGS:
            return False
    return True


def _is_block(el) -> bool:
    tag = el.tag
    if tag in BLOCK_TAGS:
        return True
    # a <span> or <font> wrapping block elements acts as a container (seen in old CMS output)
    return tag in _INLINE_CONTAINERS and not _is_inline_only(el)


_INLINE_CONTAINERS = {"span", "font", "a", "b", "strong", "em", "i", "small"}
_NOT_WEIGHED = HEADINGS | {"html", "ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "tr", "hr",
                           "hgroup", "picture", "figure"}


def _space_len(text: str) -> int:
    """Length of `text` with white-space runs counted as one character."""
    return len(_SPACE_RUN.sub(" ", text).strip())


_SPACE_RUN = re.compile(r"\s+")


def loose_text(el) -> tuple[str, int]:
    """The text of `el` that is not inside a block child (a <p> holds all its text; a <div>
    holding text between <br>s and some <p>s holds the text between them), and how much
    of it is link text."""
    parts = [el.text or ""]
    linked = 0
    for child in el:
        if isinstance(child.tag, str) and not _is_block(child):
            t = child.text_content()
            parts.append(t)
            if child.tag == "a":
                linked += _space_len(t)
            else:
                for a in child.iter("a"):
                    linked += _space_len(a.text_content())
        parts.append(child.tail or "")
    return "".join(parts), linked


def paragraph_weights(root) -> dict:
    """block element -> weight of its own readable prose (characters, discounted by links).

    Each block counts the text that is not inside a block child: all of a <p>, the text of
    a <div> between its <br>s and child blocks, a list item's text without its nested list.
    Link-heavy text (menus, tag clouds, post lists) weighs nothing and is left out.
    """
    direct: dict = {}
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str) or tag in _NOT_WEIGHED:
            continue
        if tag not in BLOCK_TAGS and not (tag in _INLINE_CONTAINERS and not _is_inline_only(el)):
            continue
        text, linked = loose_text(el)
        n = _space_len(text)
        if n < 25:
            continue
        density = min(1.0, linked / n)
        if density > 0.5:
            continue
        # commas mark sentences of prose rather than labels and buttons
        direct[el] = n * (1.0 - density) + 10 * text.count(",")
    return direct


def subtree_weights(root, direct: dict, dropped: set | frozenset = frozenset()) -> dict:
    """element -> total weight of the paragraphs beneath it, leaving out those inside an
    element marked for dropping."""
    weights: dict = {}
    for el in root.iter():
        w = direct.get(el)
        if w is None:
            continue
        chain = []
        node = el
        while node is not None:
            if node in dropped:
                chain = None
                break
            chain.append(node)
            node = node.getparent()
        if chain:
            for node in chain:
                weights[node] = weights.get(node, 0.0) + w
    return weights


# --- pruning --------------------------------------------------------------------------------

def _drop(el) -> None:
    """Remove an element but keep its tail text in place."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


_HEAVY_CHROME = {"class comment", "class comments", "class respond", "class disqus"}


def _inside_article(el) -> bool:
    for node in el.iterancestors():
        if node.tag in ("body", "html"):
            return False
        if _is_article_container(node):
            return True
    return False


def find_chrome(root, weights: dict, protect_share: float = 0.3, extra_drop=None) -> list:
    """The elements to remove as chrome, outermost only. Elements holding more than
    `protect_share` of the prose are kept (their chrome-looking children are still
    examined). Nothing is removed yet: the caller still needs document order."""
    total = weights.get(root, 0.0) or 1.0
    limit = total * protect_share
    found = []
    stack = [root]
    while stack:
        el = stack.pop()
        candidates = []
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in _ALWAYS_DROP:
                found.append(child)
                continue
            if extra_drop and child in extra_drop:
                found.append(child)
                continue
            heavy = weights.get(child, 0.0) > limit
            reason = chrome_reason(child)
            if heavy and reason in _HEAVY_CHROME and weights.get(child, 0.0) <= total * 0.7:
                heavy = False  # a long comment thread is still not the article
            if heavy:
                reason = None
            if reason == "class header" and _inside_article(child):
                reason = None  # the article's own header: its lead or summary is text
            if not heavy and (reason or is_hidden(child) or tag == "header"
                              or child.get("itemprop") in _META_ITEMPROPS or child.get("rel") == "author"):
                # a site <header>; an article's own header (title, byline) is read before pruning
                candidates.append(child)
                continue
            stack.append(child)
        if len(candidates) > 1:
            # Sibling blocks of one kind that together hold the article (a test report in
            # sections whose class mentions ads, numbered steps, accordion panels) stay.
            groups: dict = {}
            for child in candidates:
                key = (child.tag, child.get("class"))
                groups[key] = groups.get(key, 0.0) + weights.get(child, 0.0)
            kept = [c for c in candidates if groups[(c.tag, c.get("class"))] > limit and c.get("class")]
            if kept:
                stack.extend(kept)
                candidates = [c for c in candidates if c not in kept]
        found.extend(candidates)
    return found


_META_ITEMPROPS = {"author", "datePublished", "dateModified", "publisher", "creator", "dateCreated"}


def drop_all(elements) -> None:
    for el in elements:
        _drop(el)


def prune(root, weights: dict, protect_share: float = 0.3, extra_drop=None) -> None:
    """Remove chrome in place (see find_chrome)."""
    drop_all(find_chrome(root, weights, protect_share, extra_drop))


# --- teasers ---------------------------------------------------------------------------------

def _linked_heading(h) -> bool:
    """A heading that is a link to another page (a teaser's headline), not an anchor."""
    text = _space_len(h.text_content())
    if not text:
        return False
    node = h.getparent()
    for _ in range(3):  # <a href><h3>...</h3></a>
        if node is None:
            break
        if node.tag == "a":
            return not (node.get("href") or "#").startswith("#")
        node = node.getparent()
    linked = 0
    for a in h.iter("a"):
        if not (a.get("href") or "#").startswith("#"):
            linked += _space_len(a.text_content())
    return linked >= 0.9 * text


def find_teasers(root, max_card: int = 400) -> list:
    """Cards of a teaser list inside the content root ("More on this", "You may also like",
    a news ticker): each holds one headline that links to another page and little else.
    With two or more such headlines, each card (the largest element holding only its own
    headline) is dropped when its text is short."""
    linked = [h for h in root.iter(*HEADINGS) if _linked_heading(h)]
    if len(linked) < 2:
        return []
    counts: dict = {}
    for h in linked:
        node = h
        while node is not None and node is not root:
            counts[node] = counts.get(node, 0) + 1
            node = node.getparent()
    cards = []
    for h in linked:
        card = h
        node = h.getparent()
        while node is not None and node is not root and counts.get(node) == 1:
            card = node
            node = node.getparent()
        if _space_len(card.text_content()) <= max_card:
            cards.append(card)
    return cards


_TITLE_PARTS = frozenset("h1 h2 h3 h4 h5 h6 title headline heading".split())


def _titles_box(el) -> bool:
    """A <div class="h3"> or <span class="box-title">: a heading in all but its tag."""
    cls = el.get("class")
    if not cls or el.tag not in ("div", "span", "p", "strong", "b"):
        return False
    if not any(not _TITLE_PARTS.isdisjoint(_PART_SPLIT.split(_CAMEL.sub("-", t).lower())) for t in cls.split()):
        return False
    return _space_len(el.text_content()) <= 80


def find_link_boxes(root, max_box: int = 1500) -> list:
    """Boxes titled by a heading whose other text is links ("Read also" over a list of
    posts, "Topics" over tags): the title would otherwise stay alone in the text, or
    "introduce" the paragraph that follows the box."""
    boxes = []
    for h in root.iter():
        if not isinstance(h.tag, str) or not (h.tag in HEADINGS or _titles_box(h)):
            continue
        box = h.getparent()
        inner = h
        while box is not None and box is not root and len(box) == 1 and not (box.text or "").strip():
            inner, box = box, box.getparent()
        if box is None or box is root:
            continue
        total = _space_len(box.text_content())
        rest = total - _space_len(inner.text_content())
        if rest <= 0 or total > max_box:
            continue
        linked = sum(_space_len(a.text_content()) for a in box.iter("a")) - sum(
            _space_len(a.text_content()) for a in inner.iter("a"))
        if linked >= 0.7 * rest:
            boxes.append(box)
    outer = []
    for box in boxes:  # outermost only
        if not any(other is not box and box in set(other.iterancestors()) for other in boxes):
            outer.append(box)
    return outer


_BOX_TAGS = {"div", "section", "ul", "ol", "dl", "table", "aside", "nav", "header", "footer", "span", "p",
             "article", "li", "center", "font", "form"}


def find_link_lists(root, share: float = 0.6, min_links: int = 3, max_chars: int = 2000) -> list:
    """Containers inside the content root whose text is mostly link text (a list of other
    posts with its title, a tag cloud, a "most read" box, a row of category links), outermost
    first. Lengths are summed bottom-up in one pass over the tree."""
    order = [el for el in root.iter() if isinstance(el.tag, str)]
    chars: dict = {}
    linked: dict = {}
    links: dict = {}
    for el in reversed(order):
        own = len((el.text or "").strip())
        c, l, n = own, 0, 0
        for child in el:
            if isinstance(child.tag, str):
                c += chars.get(child, 0)
                l += linked.get(child, 0)
                n += links.get(child, 0)
            c += len((child.tail or "").strip())
        if el.tag == "a" and (el.get("href") or "#")[:1] != "#":
            l, n = c, n + 1
        chars[el], linked[el], links[el] = c, l, n
    found = []
    stack = [root]
    while stack:
        el = stack.pop()
        for child in el:
            if not isinstance(child.tag, str):
                continue
            c = chars.get(child, 0)
            if (child.tag in _BOX_TAGS and links.get(child, 0) >= min_links and c
                    and c <= max_chars and linked.get(child, 0) >= share * c):
                found.append(child)
            else:
                stack.append(child)
    return found


# --- the content root -----------------------------------------------------------------------

def _is_article_container(el) -> bool:
    if el.tag in ("article", "main") or el.get("itemprop") == "articleBody" or (el.get("role") or "") == "main":
        return True
    tokens = (el.get("class") or "").split() + ([el.get("id")] if el.get("id") else [])
    return any(_names_content(t) for t in tokens)


_SKIP_SHARE = 0.10


def choose_root(body, direct: dict, dropped: set | frozenset = frozenset()):
    """The element holding the article: best-scored paragraph parent, widened to take in
    sibling blocks that add a real share of prose."""
    weights = subtree_weights(body, direct, dropped)
    scores: dict = {}
    for el, w in direct.items():
        if el not in weights:
            continue  # pruned
        parent = el.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + w
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + w / 2
    if not scores:
        return body
    seed = max(scores, key=scores.get)
    committed = seed
    below = seed
    node = seed.getparent()
    while node is not None:
        extra = weights.get(node, 0.0) - weights.get(committed, 0.0)
        # Siblings of the same kind as the block on our path (the article's other sections,
        # a builder's next text block) belong to the article even when each is small.
        key = (below.tag, below.get("class"))
        same_kind = sum(weights.get(sib, 0.0) for sib in node
                        if sib is not below and isinstance(sib.tag, str) and (sib.tag, sib.get("class")) == key)
        if extra >= 0.15 * weights.get(committed, 1.0) or (extra > 0.5 and same_kind >= 0.6 * extra):
            committed = node
        elif extra > 0.5 and _is_article_container(node) and weights.get(node, 0.0) <= 1.5 * weights.get(committed, 1.0):
            # the article's own container (its lead, a subtitle, an intro box before the
            # body): taken whole, its chrome is pruned anyway
            committed = node
        elif extra > _SKIP_SHARE * weights.get(committed, 1.0):
            break
        # a wrapper adding next to nothing (a date line, a caption): look further up
        if node is body:
            break
        below = node
        node = node.getparent()
    return committed


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
