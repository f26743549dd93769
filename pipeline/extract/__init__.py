"""Extraction: the article, its FAQ and footnotes, and its claims apart from the sales pitch.

Public surface (the harvester, the orchestrator and the library API code against these only):
- `extract_article(html, url, *, source=None, feed_entry=None, labeller=None) -> ExtractedArticle`
- `label_sentences(texts, partner_names=(), *, contexts=None, vectors=None, embedder=None,
  model=None, encoder=None) -> list[Kind]`: labels for sentences that come without markup (seed text);
  `label_page_text(text, partner_names=())` for a whole plain text page (docs/labels.md)
- `SentenceLabeller(model=None, embedder=None)`: how extraction labels sentences (with an
  encoder, the model also reads the sentence vectors); `LabelModel`, `shipped_model(encoder)`:
  the learned label model (the head fitted on that encoder's vectors, by its name; the
  reference torch head otherwise), and `LabelModel.with_examples(...)` for editors' answers
- `article_to_dict(article) -> dict` (JSON-ready)
- `extract_or_error(...)`: the same, its failure returned (what an extraction process runs; `_process`)
- `split_sentences(text) -> list[str]`
- `read_page_input(stream, limit)`, `not_html_reason(bytes)`: a page read from a file
  or standard input with a size cap, refused when it is not HTML (`_input`)

Pure: no network, no database, no clock. The modules behind it are private:
`_html` (decode, parse, page facts), `_chrome` (what is not the article), `_root` (the
element that holds it), `_input` (what counts as an HTML page), `_meta` (metadata),
`_structure` (blocks, FAQ, footnotes, selectors), `_text` (normalize, split),
`_labels` (claim / promo / question / heading / other: structure first, then the learned
model of `_label_model` over `_label_features`), `_cues` (the cue words of a pitch or a
teaser), `_plain` (plain text pages into sentences), `_notes` (credit, copyright, ad and
date lines), `_second` (trafilatura's second opinion where ours found little), `_article`
(the steps in order).
"""
from ._article import article_to_dict, extract_article
from ._input import not_html_reason, read_page_input
from ._label_features import SentenceContext
from ._label_model import LabelModel, shipped_model
from ._labels import SentenceLabeller, label_page_text, label_sentences
from ._process import extract_or_error
from ._text import split_sentences

__all__ = ["extract_article", "article_to_dict", "split_sentences", "not_html_reason", "read_page_input",
           "label_sentences", "label_page_text", "SentenceLabeller", "SentenceContext", "LabelModel",
           "shipped_model", "extract_or_error"]
