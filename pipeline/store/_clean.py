"""What partner text becomes before it is stored, so that both engines keep the same data.

SQLite stores almost anything; PostgreSQL refuses a NUL character ("text fields cannot
contain NUL"), a string longer than a `varchar(n)` column, and builds its search index
only from texts whose tsvector fits in 1 MB ("string is too long for tsvector"). Whatever a
partner sends, an article is either stored the same way on both engines or refused the
same way on both, with a clear error, never lost on one and kept on the other:

- every partner string goes through `safetext.clean_text` (escape sequences and control
  characters removed, NUL included);
- a value longer than its bounded column (a page's `lang`, a Content-Type, a footnote
  marker, a host) is cut to the column's length on both engines;
- a URL longer than `MAX_URL_BYTES` cannot be a key (PostgreSQL's b-tree indexes take at
  most 2704 bytes per entry): the article is refused on both engines (`StoreError`);
- sentences are stored whole, however long; the search index is built on their first
  `SEARCH_CHARS` characters on both engines (migration 0006).

Pure: no database here, only values.
"""
from __future__ import annotations

from dataclasses import replace

from ..errors import StoreError
from ..safetext import clean_optional, clean_text
from ..types import Citation, ExtractedArticle

MAX_URL_BYTES = 2000  # articles.url and http_validators.url are varchar(2000) keys
SEARCH_CHARS = 100_000  # of a sentence (or FAQ pair) indexed for search: far under 1 MB of tsvector
LANGUAGE_CHARS = 20  # articles.language
CONTENT_TYPE_CHARS = 200  # snapshots.content_type
HOST_CHARS = 300  # citations.host
FOOTNOTE_CHARS = 20  # citations.footnote


def fit(value: str | None, chars: int) -> str | None:
    """A bounded column's value: cleaned, and cut to `chars` characters."""
    if value is None:
        return None
    return clean_text(value)[:chars]


def storable_url(url: str) -> str:
    """A URL fit to be a key, cleaned; `StoreError` when it is too long to be one."""
    url = clean_text(url)
    if len(url.encode("utf-8")) > MAX_URL_BYTES:
        raise StoreError(f"URL of {len(url.encode('utf-8')):,} bytes is over the {MAX_URL_BYTES:,}-byte "
                         f"limit for a stored URL: {url[:120]}…")
    return url


def url_fits(url: str) -> bool:
    """Whether `url` can be a key as it is (no control character, not too long)."""
    return clean_text(url) == url and len(url.encode("utf-8")) <= MAX_URL_BYTES


def _citation(c: Citation) -> Citation:
    return replace(c, text=clean_text(c.text), url=clean_optional(c.url), footnote=fit(c.footnote, FOOTNOTE_CHARS))


def clean_article(article: ExtractedArticle) -> ExtractedArticle:
    """The article as it is stored: every string cleaned, bounded ones cut. (`replace`, so
    that a field added to these types later keeps its value.)"""
    m = article.meta
    meta = replace(m, title=clean_optional(m.title), author=clean_optional(m.author),
                   canonical_url=clean_optional(m.canonical_url), language=fit(m.language, LANGUAGE_CHARS) or None,
                   description=clean_optional(m.description))
    sentences = tuple(replace(s, text=clean_text(s.text), display=clean_text(s.display),
                              section=clean_optional(s.section), label=clean_optional(s.label),
                              block=fit(s.block, 20) or "p", citations=tuple(_citation(c) for c in s.citations))
                      for s in article.sentences)
    faq = tuple(replace(f, question=clean_text(f.question), answer=clean_text(f.answer),
                        origin=fit(f.origin, 30) or "markup") for f in article.faq)
    footnotes = tuple(replace(f, marker=clean_text(f.marker), text=clean_text(f.text), url=clean_optional(f.url))
                      for f in article.footnotes)
    return replace(article, url=clean_text(article.url), meta=meta, text=clean_text(article.text),
                   sentences=sentences, faq=faq, footnotes=footnotes)
