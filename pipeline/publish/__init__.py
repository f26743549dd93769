"""The weekly digest: a model apart from its renderers, and the files it is published as.

- `week`: which ISO week (`--week last|this|2026-W47`).
- `model`: the digest as frozen dataclasses, built from `Store.digest_week`'s `DigestWeek`; what it
  says and what the length budget keeps. Pure.
- `topics`: grouping the week's other claims by what they are about. Pure.
- `render`: HTML, Markdown, text, JSON, the Atom feed and the archive index (Jinja2).
- `sanitize`: the allowlist HTML sanitizer every page goes through (nh3).
- `archive`: the output folder as an archive of weeks (`feed.atom`, `index.html`), rebuilt
  from the database when `archive.json` is damaged; every file replaced atomically
  (`pipeline.outfiles`).
- `mail`: the email message, written as .eml or sent over SMTP.

This package reads the store's rows (`pipeline.types.DigestWeek`) and never imports the store.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from ..outfiles import atomic_write, make_folder
from ..types import DigestWeek
from .archive import page_name, update_archive
from .model import Budget, Digest, UnattributedItem, build_digest
from .render import md_href, render_formats, render_full_page, safe_href
from .week import Week

__all__ = ["Budget", "Digest", "Published", "Rendered", "UnattributedItem", "Week", "build_digest", "md_href",
           "page_name", "render_digest", "safe_href", "write_digest"]


@dataclass(frozen=True, slots=True)
class Published:
    digest: Digest  # as sent (within the budget)
    full: Digest
    texts: dict  # format -> text of the digest as sent
    paths: tuple[Path, ...]
    notes: tuple[str, ...] = ()  # what the archive had to rebuild, and why


@dataclass(frozen=True, slots=True)
class Rendered:
    digest: Digest  # as sent (within the budget)
    full: Digest
    texts: dict  # format -> text of the digest as sent
    link: Callable[[str], str]  # a file of the output folder -> its link (under base_url)


def render_digest(data: DigestWeek, week: Week, *, generated_at: datetime, base_url: str | None = None,
                  budget: Budget | None = None) -> Rendered:
    """The week's digest as sent (cut to the budget) and in full, and the texts of the one
    sent (html, md, txt, json): what `write_digest` writes and the email carries."""
    full = build_digest(data, week)
    sent = full.within(budget or Budget())
    base = (base_url or "").rstrip("/")
    link = (lambda name: f"{base}/{name}") if base else (lambda name: name)
    texts = render_formats(sent, generated_at=generated_at, full_href=link(page_name(week, "html", full=True)),
                           feed_href=link("feed.atom"))
    return Rendered(sent, full, texts, link)


def write_digest(data: DigestWeek, week: Week, out_dir: Path, *, generated_at: datetime, base_url: str | None = None,
                 budget: Budget | None = None, rows_for: Callable[[Week], DigestWeek] | None = None,
                 rebuild_archive: bool = False) -> Published:
    """Build the week's digest from `Store.digest_week` rows and write it: HTML, Markdown, text
    and JSON within the budget, the full HTML page, and the archive (feed.atom, index.html).
    Every file is replaced atomically; a file that cannot be written (full disk, no
    permission) raises `OutputError` and leaves the earlier one in place. `rows_for(week)`
    gives another week's rows, for rebuilding archive entries (`rebuild_archive`, or when
    archive.json lost them)."""
    make_folder(out_dir)
    rendered = render_digest(data, week, generated_at=generated_at, base_url=base_url, budget=budget)
    full, sent, texts, link = rendered.full, rendered.digest, rendered.texts, rendered.link
    base = (base_url or "").rstrip("/")
    paths = [atomic_write(out_dir / page_name(week, fmt), text) for fmt, text in texts.items()]
    paths.append(atomic_write(out_dir / page_name(week, "html", full=True),
                              render_full_page(full, generated_at=generated_at, feed_href=link("feed.atom"))))
    archive = update_archive(out_dir, full, week, generated_at=generated_at, base_url=base or None,
                             rows_for=rows_for, rebuild=rebuild_archive)
    return Published(sent, full, texts, tuple(paths) + archive.paths, archive.notes)
