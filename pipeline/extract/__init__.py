"""Extraction: the article, its FAQ and footnotes, and its claims apart from the sales pitch.

Public surface (the harvester, the orchestrator and the library API code against these only):
- `extract_article(html, url, *, source=None, feed_entry=None) -> ExtractedArticle`
- `article_to_dict(article) -> dict` (JSON-ready)
- `split_sentences(text) -> list[str]`
- `read_page_input(stream, limit)`, `not_html_reason(bytes)`: a page read from a file
  or standard input with a size cap, refused when it is not HTML (`_input`)

Pure: no network, no database, no clock. The modules behind it are private:
`_html` (decode, parse, page facts), `_chrome` (what is not the article), `_root` (the
element that holds it), `_input` (what counts as an HTML page), `_meta` (metadata),
`_structure` (blocks, FAQ, footnotes, selectors), `_text` (normalize, split),
`_labels` (claim / promo / question / heading / other), `_notes` (credit, copyright, ad and
date lines), `_second` (trafilatura's second opinion where ours found little), `_article`
(the steps in order).
"""
from ._article import article_to_dict, extract_article
from ._input import not_html_reason, read_page_input
from ._text import split_sentences

__all__ = ["extract_article", "article_to_dict", "split_sentences", "not_html_reason", "read_page_input"]
