"""A second opinion on pages where our own extraction found little: trafilatura's.

Owns: the one call into trafilatura (the only module that imports it).
Must not: fetch, store, or read the clock; trafilatura only parses the bytes it is given.

Why: when our content root yields only a few lines (a page whose article sits in markup
our block scoring did not pick, a video page with one teaser), another extractor's view
is usually better than ours; asking it only then keeps the CPU cost to the few pages
that need it (measured in benchmarks/extract_dev.py). Its output is HTML, so our own
walker still makes the sentences, headings and links the later stages need.
"""
from __future__ import annotations

# Our text shorter than this asks for a second opinion (about 4% of the development set's pages).
SHORT_TEXT = 500
# Its view replaces ours only when it holds clearly more: over twice our length plus this.
SECOND_GAIN = 2.0
SECOND_MIN = 200


def second_opinion(html: str, url: str) -> str | None:
    """trafilatura's main content of the page as HTML, or None (not installed, nothing
    found, or it failed on this page)."""
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - a main dependency; an install without it extracts alone
        return None
    try:
        out = trafilatura.extract(html, url=url or None, output_format="html", include_links=True,
                                  include_formatting=True, include_tables=True)
    except Exception:  # noqa: BLE001 - a second opinion that fails is no opinion
        return None
    return out or None
