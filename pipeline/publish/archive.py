"""The output folder as an archive of weekly digests: `archive.json` (what each week's
digest said, by content hash, and when that last changed), `feed.atom` with one entry per
week (the digest page's content in it), and `index.html` listing every week.

An entry's `updated` is the time its digest's content last changed, not the time it was
written: re-publishing an unchanged week leaves the feed byte-identical, so a reader
subscribed to it sees nothing new.

The archive is never silently shortened: every file is replaced atomically (a crash cannot
tear `archive.json`), and when `archive.json` is unreadable (damaged, edited by hand) or
lacks a week whose page is in the folder, those weeks are rebuilt from the database
(`rows_for`, the store's rows of a week) and the caller is told (`ArchiveUpdate.notes`). A
rebuilt entry is dated by its page file's modification time, the last time it was written.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from ..errors import ConfigError
from ..outfiles import atomic_write
from ..types import DigestWeek
from ..safetext import clean_text
from .model import Digest, build_digest
from .render import render_feed, render_index
from .sanitize import clean_fragment
from .week import Week

ARCHIVE = "archive.json"
FEED_WEEKS = 26  # the feed carries the last half year; index.html lists every week
_MAIN = re.compile(r"<main>(.*)</main>", re.S)
_PAGE = re.compile(r"^digest-(\d{4}-W\d{2})\.html$")
_FIELDS = ("hash", "updated", "page", "title", "summary", "start", "end")
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def page_name(week: Week | str, fmt: str, *, full: bool = False) -> str:
    return f"digest-{week}{'-full' if full else ''}.{fmt}"


@dataclass(frozen=True, slots=True)
class ArchiveUpdate:
    paths: tuple[Path, ...]  # written: archive.json, feed.atom, index.html
    weeks: int  # weeks in the archive
    notes: tuple[str, ...] = ()  # what was rebuilt, and why


def entry_id(week: Week | str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'syndicate:digest:{week}')}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def summary(d: Digest) -> str:
    def n(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"
    questions = len(d.questions)
    articles = sum(p.total for p in d.partners)
    return (f"{n(len(d.merged), 'claim', 'claims')} stated by several partners, "
            f"{n(len(d.topics), 'topic', 'topics')}, {n(len(d.changed), 'revised article', 'revised articles')}, "
            f"{n(questions, 'question', 'questions')} answered, {n(articles, 'new article', 'new articles')}.")


def record(digest: Digest, week: Week, updated: str) -> dict:
    """What archive.json keeps of one week's digest."""
    return dict(hash=digest.content_hash(), updated=updated, page=page_name(week, "html"),
                title=f"Partner digest, week {week}", summary=summary(digest),
                start=digest.start.date().isoformat(), end=(digest.end - timedelta(days=1)).date().isoformat())


def _valid(week: str, entry: object) -> bool:
    try:
        Week.parse(week)
    except ConfigError:
        return False
    return (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in _FIELDS)
            and entry["page"] == page_name(week, "html") and bool(_STAMP.match(entry["updated"])))


def read_archive(out_dir: Path) -> tuple[dict[str, dict], str | None]:
    """({week: record}, None), or ({the valid records}, why the file is not usable as it is)."""
    path = out_dir / ARCHIVE
    if not path.exists():
        return {}, None
    try:
        weeks = json.loads(path.read_bytes())["weeks"]
        if not isinstance(weeks, dict):
            raise TypeError("'weeks' is not an object")
    except (OSError, ValueError, KeyError, TypeError) as e:
        return {}, f"{ARCHIVE} is unreadable ({type(e).__name__}: {e})"
    good = {w: e for w, e in weeks.items() if _valid(w, e)}
    if len(good) < len(weeks):
        return good, f"{ARCHIVE} has {len(weeks) - len(good)} damaged entr{'y' if len(weeks) - len(good) == 1 else 'ies'}"
    return good, None


def published_weeks(out_dir: Path) -> list[str]:
    """The weeks whose digest page is in the folder."""
    try:
        names = [p.name for p in out_dir.iterdir()]
    except OSError:
        return []
    return sorted(m.group(1) for n in names if (m := _PAGE.match(n)))


def update_archive(out_dir: Path, digest: Digest, week: Week, *, generated_at: datetime,
                   base_url: str | None, rows_for: Callable[[Week], DigestWeek] | None = None,
                   rebuild: bool = False) -> ArchiveUpdate:
    """Record `digest` (the full one) as `week`'s entry and rewrite archive.json, feed.atom
    and index.html. `rebuild`: every other week whose page is in the folder is rebuilt from
    `rows_for`; without it, only the weeks archive.json lost are."""
    weeks, problem = read_archive(out_dir)
    notes = []
    others = [w for w in published_weeks(out_dir) if w != str(week)]
    missing = others if rebuild else [w for w in others if w not in weeks]
    if missing:
        why = "asked to (--rebuild-archive)" if rebuild else (problem or f"{ARCHIVE} lacked them")
        if rows_for is None:
            notes.append(f"{len(missing)} week(s) with a page in {out_dir} are not in {ARCHIVE} ({why}); "
                         "no database to rebuild them from")
        else:
            for w in missing:
                wk = Week.parse(w)
                page = out_dir / page_name(wk, "html")
                written = datetime.fromtimestamp(page.stat().st_mtime, timezone.utc)
                weeks[w] = record(build_digest(rows_for(wk), wk), wk, _stamp(written))
            notes.append(f"rebuilt {len(missing)} week(s) of the archive from the database: {why}")
    elif problem:
        notes.append(f"{problem}; it is rewritten from this week's digest")

    old = weeks.get(str(week))
    if old is None or old.get("hash") != digest.content_hash():
        weeks[str(week)] = record(digest, week, _stamp(generated_at))
    path = atomic_write(out_dir / ARCHIVE, json.dumps(dict(weeks=weeks), indent=2, sort_keys=True))

    link = (lambda name: f"{base_url}/{name}") if base_url else (lambda name: name)
    entries = [dict(week=w, entry_id=entry_id(w), href=link(e["page"]), **e)
               for w, e in sorted(weeks.items(), reverse=True) if (out_dir / e["page"]).is_file()]
    for e in entries[:FEED_WEEKS]:
        e["content"] = _page_content(out_dir / e["page"])
    feed_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, (base_url or 'syndicate') + '/feed.atom')}"
    feed = atomic_write(out_dir / "feed.atom", render_feed(
        entries[:FEED_WEEKS], feed_id=feed_id, self_href=link("feed.atom") if base_url else None,
        index_href=link("index.html")))
    index = atomic_write(out_dir / "index.html", render_index(entries, feed_href=link("feed.atom")))
    return ArchiveUpdate((path, feed, index), len(weeks), tuple(notes))


def _page_content(page: Path) -> str:
    """The digest page's main part, sanitized again, as the entry's HTML content: a feed
    reader shows every section (claims, topics, changes, answers) without leaving it. (A page
    written by an older version may hold control characters: cleaned here too.)"""
    m = _MAIN.search(page.read_bytes().decode("utf-8", errors="replace"))
    return clean_fragment(clean_text(m.group(1))) if m else ""
