"""The canonical clustering order: which mention the engine decides first.

Owns: `order_key` and the test whether new mentions can simply be appended.
Must not: depend on anything a run does not control from the content (mention ids, fetch
timing, the order sources are listed in, worker counts).

Why. Mentions are decided one at a time and each decision sees the mentions before it, so
the order decides the clusters. Mention ids follow the order in which fetches finish, which
varies from run to run (issue 8: five runs of the demo gave 166-171 claims). The order here
depends on the content only: the partner's publication date, then the site, the article URL
and the sentence position. Articles without a publication date come after all dated ones
(by site, URL, position): their first-seen time is fetch timing, not content.

Mentions that carry no article at all (no date, no URL: unit tests, synthetic corpora that
give none) keep their id order, after everything else.

An article discovered late whose publication date is older than stored mentions sorts
before them: appending it would give other clusters than a rebuild, so the caller re-clusters
from scratch instead (see `appends_in_order`, and docs/dedupe.md).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from ..types import MentionInput


def _timestamp(when: datetime) -> float:
    # the store gives naive datetimes on SQLite (stored as UTC) and aware ones on PostgreSQL
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def order_key(m: MentionInput) -> tuple:
    """Sort key of the canonical order (a total order: the mention id breaks last ties)."""
    if m.published is not None:
        return (0, _timestamp(m.published), m.site, m.url, m.position, m.mention_id)
    if m.url:
        return (1, 0.0, m.site, m.url, m.position, m.mention_id)
    return (2, 0.0, "", "", 0, m.mention_id)


def in_canonical_order(mentions: Iterable[MentionInput]) -> list[MentionInput]:
    return sorted(mentions, key=order_key)


def appends_in_order(existing: Iterable[MentionInput], new: Iterable[MentionInput]) -> bool:
    """True when every new mention sorts after every existing one, so that deciding the new
    ones after the stored ones is exactly what a rebuild would do."""
    new_keys = [order_key(m) for m in new]
    if not new_keys:
        return True
    last = max((order_key(m) for m in existing), default=None)
    return last is None or min(new_keys) > last
