"""Extraction in another process: `extract_or_error`, the function a pool of extraction
processes runs (the orchestrator's, so that a run uses more than one core). It lives here,
beside the extractor, so that such a process imports only the extraction package.
Must not: do anything but call `extract_article`.
"""
from __future__ import annotations

import logging

from ..errors import ResourceError
from ..types import ExtractedArticle, FeedEntry, Source
from ._article import extract_article
from ._labels import SentenceLabeller

log = logging.getLogger("syndicate")


def extract_or_error(body: bytes, url: str, source: Source | None, entry: FeedEntry | None, *,
                     labeller: SentenceLabeller | None = None
                     ) -> tuple[ExtractedArticle | None, tuple[str, str] | None]:
    """`extract_article`, its failure given back as (kind, message) instead of raised: an
    exception with keyword arguments does not cross a process boundary whole."""
    try:
        return extract_article(body, url, source=source, feed_entry=entry, labeller=labeller), None
    except ResourceError as e:
        return None, (e.kind, e.message)
    except Exception as e:  # an extraction bug on one page must not lose the others
        log.exception("%s: extraction failed for %s", source.id if source else "-", url)
        return None, ("extract", f"extraction failed: {type(e).__name__}: {e}")

