"""The allowlist HTML sanitizer (nh3, the Ammonia binding): the only module that imports it.

Every HTML page Syndicate writes passes through `clean_page`: the body keeps only the
elements and attributes our templates use, and only http(s) (or relative, in-page) links.
Partner text reaches templates as plain text and is autoescaped there; this is the second
wall, so that no later template change can publish partner markup, a script, or a
`javascript:`/`data:` link.
"""
from __future__ import annotations

import re

import nh3

TAGS = {"a", "article", "blockquote", "br", "details", "div", "em", "footer", "h1", "h2", "h3", "h4",
        "header", "li", "main", "nav", "ol", "p", "q", "section", "small", "span", "strong", "summary",
        "time", "ul"}
ATTRIBUTES = {"*": {"class", "id", "data-item", "lang", "title"}, "a": {"href"}, "time": {"datetime"},
              "ol": {"start"}}
SCHEMES = {"http", "https"}
_BODY = re.compile(r"(<body[^>]*>)(.*)(</body>)", re.S | re.I)


def clean_fragment(html: str) -> str:
    """An HTML fragment with everything outside the allowlist removed."""
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES, strip_comments=True,
                     link_rel="noopener noreferrer")


def clean_page(page: str) -> str:
    """A whole page of ours: head as the template wrote it (no partner text there), body sanitized."""
    m = _BODY.search(page)
    if m is None:
        return clean_fragment(page)
    return page[:m.start(2)] + clean_fragment(m.group(2)) + page[m.end(2):]
