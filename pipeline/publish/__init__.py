"""The weekly digest: a model apart from its renderers, and the files it is published as.

- `week`: which ISO week (`--week last|this|2026-W47`).
- `model`: the digest as frozen dataclasses, built from `Store.digest_week`'s `DigestWeek`; what it
  says and what the length budget keeps. Pure.
- `topics`: grouping the week's other claims by what they are about. Pure.
- `render`: HTML, Markdown, text, JSON, the Atom feed and the archive index (Jinja2).
- `sanitize`: the allowlist HTML sanitizer every page goes through (nh3).
- `archive`: the output folder as an archive of weeks (`feed.atom`, `index.html`).
- `mail`: the email message, written as .eml or sent over SMTP.

This package reads the store's rows (`pipeline.types.DigestWeek`) and never imports the store.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..types import DigestWeek
from .archive import update_archive
from .model import Budget, Digest, UnattributedItem, build_digest
from .render import md_href, render_formats, render_full_page, safe_href
from .week import Week

__all__ = ["Budget", "Digest", "Published", "UnattributedItem", "Week", "build_digest", "md_href", "safe_href",
           "write_digest"]


@dataclass(frozen=True, slots=True)
class Published:
    digest: Digest  # as sent (within the budget)
    full: Digest
    texts: dict  # format -> text of the digest as sent
    paths: tuple[Path, ...]


def page_name(week: Week, fmt: str, *, full: bool = False) -> str:
    return f"digest-{week}{'-full' if full else ''}.{fmt}"


def write_digest(data: DigestWeek, week: Week, out_dir: Path, *, generated_at: datetime, base_url: str | None = None,
                 budget: Budget | None = None) -> Published:
    """Build the week's digest from `Store.digest_week` rows and write it: HTML, Markdown, text
    and JSON within the budget, the full HTML page, and the archive (feed.atom, index.html)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    full = build_digest(data, week)
    sent = full.within(budget or Budget())
    base = (base_url or "").rstrip("/")
    link = (lambda name: f"{base}/{name}") if base else (lambda name: name)
    texts = render_formats(sent, generated_at=generated_at, full_href=link(page_name(week, "html", full=True)),
                           feed_href=link("feed.atom"))
    paths = []
    for fmt, text in texts.items():
        path = out_dir / page_name(week, fmt)
        path.write_text(text, "utf-8")
        paths.append(path)
    full_path = out_dir / page_name(week, "html", full=True)
    full_path.write_text(render_full_page(full, generated_at=generated_at, feed_href=link("feed.atom")), "utf-8")
    paths.append(full_path)
    paths.extend(update_archive(out_dir, full, week, generated_at=generated_at, base_url=base or None,
                                page=page_name(week, "html")))
    return Published(sent, full, texts, tuple(paths))
