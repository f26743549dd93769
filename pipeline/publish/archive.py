"""The output folder as an archive of weekly digests: `archive.json` (what each week's
digest said, by content hash, and when that last changed), `feed.atom` with one entry per
week (the digest page's content in it), and `index.html` listing every week.

An entry's `updated` is the time its digest's content last changed, not the time it was
written: re-publishing an unchanged week leaves the feed byte-identical, so a reader
subscribed to it sees nothing new.
"""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from .model import Digest
from .render import render_feed, render_index
from .sanitize import clean_fragment
from .week import Week

ARCHIVE = "archive.json"
FEED_WEEKS = 26  # the feed carries the last half year; index.html lists every week
_MAIN = re.compile(r"<main>(.*)</main>", re.S)


def entry_id(week: Week | str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'syndicate:digest:{week}')}"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def summary(d: Digest) -> str:
    def n(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"
    questions = len(d.questions)
    articles = sum(p.total for p in d.partners)
    return (f"{n(len(d.merged), 'claim', 'claims')} stated by several partners, "
            f"{n(len(d.topics), 'topic', 'topics')}, {n(len(d.changed), 'revised article', 'revised articles')}, "
            f"{n(questions, 'question', 'questions')} answered, {n(articles, 'new article', 'new articles')}.")


def update_archive(out_dir: Path, digest: Digest, week: Week, *, generated_at: datetime,
                   base_url: str | None, page: str) -> list[Path]:
    path = out_dir / ARCHIVE
    try:
        weeks = json.loads(path.read_text("utf-8"))["weeks"] if path.is_file() else {}
    except (ValueError, KeyError):
        weeks = {}  # a damaged archive is rebuilt from this week on, not a reason to fail
    digest_hash = digest.content_hash()
    old = weeks.get(str(week))
    if old is None or old.get("hash") != digest_hash:
        weeks[str(week)] = dict(hash=digest_hash, updated=_stamp(generated_at), page=page,
                                title=f"Partner digest, week {week}", summary=summary(digest),
                                start=digest.start.date().isoformat(),
                                end=(digest.end - timedelta(days=1)).date().isoformat())
    path.write_text(json.dumps(dict(weeks=weeks), indent=2, sort_keys=True), "utf-8")

    link = (lambda name: f"{base_url}/{name}") if base_url else (lambda name: name)
    entries = [dict(week=w, entry_id=entry_id(w), href=link(e["page"]), **e)
               for w, e in sorted(weeks.items(), reverse=True) if (out_dir / e["page"]).is_file()]
    for e in entries[:FEED_WEEKS]:
        e["content"] = _page_content(out_dir / e["page"])
    feed_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, (base_url or 'syndicate') + '/feed.atom')}"
    feed = out_dir / "feed.atom"
    feed.write_text(render_feed(entries[:FEED_WEEKS], feed_id=feed_id, self_href=link("feed.atom") if base_url else None,
                                index_href=link("index.html")), "utf-8")
    index = out_dir / "index.html"
    index.write_text(render_index(entries, feed_href=link("feed.atom")), "utf-8")
    return [feed, index]


def _page_content(page: Path) -> str:
    """The digest page's main part, sanitized again, as the entry's HTML content: a feed
    reader shows every section (claims, topics, changes, answers) without leaving it."""
    m = _MAIN.search(page.read_text("utf-8"))
    return clean_fragment(m.group(1)) if m else ""
