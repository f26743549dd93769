"""Page chrome: what is not the article, by tag, role, class word, and by shape.

Owns: the class/id vocabulary of chrome (matched as whole tokens or whole hyphen,
underscore and camelCase parts, never as substrings), `find_chrome` (the regions to drop
before the content root is chosen, with protection for regions that hold the prose), and
the shapes found inside the chosen root: teaser cards (linked headlines), boxes titled over
a list of links, link-dense containers. Must not: choose the root or read text into blocks.
"""
from __future__ import annotations

import re

from ._html import _ALWAYS_DROP, HEADINGS, _space_len, is_hidden

_CHROME_TAGS = {"nav", "aside", "footer", "form", "figure", "dialog", "menu", "label", "fieldset", "legend"}
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "dialog", "alertdialog",
                 "search", "menu", "menubar", "toolbar", "alert", "tablist", "form"}


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
    r"recommendations"
    r")(?:$|[-_])",
    re.IGNORECASE,
)
_CHROME_EXACT = {"widget", "widget_text", "widget_block", "secondary", "tns", "ad", "sd-block",
                 "addtoany", "a2a_kit", "feedback", "post-date", "entry-date", "posted-on",
                 "updated", "wp-block-latest-posts", "wp-block-buttons", "wp-block-button",
                 "sqs-block-button", "sqs-block-newsletter", "sqs-block-summary-v2"}

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


def _is_article_container(el) -> bool:
    if el.tag in ("article", "main") or el.get("itemprop") == "articleBody" or (el.get("role") or "") == "main":
        return True
    tokens = (el.get("class") or "").split() + ([el.get("id")] if el.get("id") else [])
    return any(_names_content(t) for t in tokens)


