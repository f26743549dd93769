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


# The editor's desk (pipeline/desk): the same wall, with the elements its pages are made of
# (forms, buttons, inputs, the digest preview's frame). Links stay http(s) or relative.
DESK_TAGS = TAGS | {"form", "input", "button", "textarea", "select", "option", "label", "fieldset", "legend",
                    "iframe", "pre", "kbd", "table", "thead", "tbody", "tr", "th", "td", "code", "aside", "b"}
DESK_ATTRIBUTES = {**ATTRIBUTES,
                   "form": {"method", "action"},
                   "input": {"type", "name", "value", "checked", "maxlength", "placeholder", "required",
                             "autocomplete", "autofocus", "size"},
                   "button": {"type", "name", "value", "disabled"},
                   "textarea": {"name", "rows", "cols", "maxlength", "placeholder"},
                   "select": {"name", "required"}, "option": {"value", "selected"},
                   "label": {"for"}, "iframe": {"src", "title", "sandbox", "loading"},
                   "th": {"scope"}, "td": {"colspan"}}


def clean_desk_page(page: str) -> str:
    """A desk page: head as the template wrote it (no partner text there), body sanitized
    with the desk's allowlist (`data-*` attributes kept for its keyboard script)."""
    m = _BODY.search(page)
    body = page if m is None else m.group(2)
    clean = nh3.clean(body, tags=DESK_TAGS, attributes=DESK_ATTRIBUTES, url_schemes=SCHEMES, strip_comments=True,
                      link_rel="noopener noreferrer", generic_attribute_prefixes={"data-"})
    return clean if m is None else page[:m.start(2)] + clean + page[m.end(2):]
