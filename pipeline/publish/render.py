"""Renderers: a `Digest` as HTML, Markdown, plain text and JSON, and the archive's Atom feed
and index page. The only module that imports Jinja2; templates live in `templates/`.

Every format is rendered from the same `Digest` (already cut to its budget), so they carry
the same items. HTML is autoescaped and then passed through the allowlist sanitizer
(`sanitize.clean_page`), so even a template mistake cannot let partner markup or a
non-http(s) link through; Markdown escapes partner text (`md_escape`).
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..package_data import folder
from ..safetext import clean_text
from .model import Digest
from .sanitize import clean_page

TEMPLATES = folder("templates")  # templates/ in the repository, inside the package once installed
FORMATS = {"html": "digest.html.j2", "md": "digest.md.j2", "txt": "digest.txt.j2"}
DATE_WORDS = {"published": "published", "updated": "updated", "fetched": "first seen"}


def safe_href(url: str | None) -> str:
    """`url` when it is an http(s) URL that parses, else `#`."""
    try:
        if url and urlsplit(url).scheme.lower() in ("http", "https"):
            return url
    except ValueError:  # e.g. a malformed [IPv6] host
        pass
    return "#"


# Kept as-is in a Markdown link target: unreserved and reserved URL characters, and `%` so
# that existing escapes are not escaped twice. Everything else (`<`, `>`, `(`, `)`, `[`,
# `]`, `\\`, backquote, quotes, spaces, control and non-ASCII characters) is percent-encoded,
# so no partner string can close the link: `http://h/p#a>)[x](javascript:alert(1))` stays one
# target instead of becoming a second link a renderer turns into `<a href="javascript:...">`.
_MD_HREF_SAFE = "!#$%&*+,-./:;=?@_~"


def md_href(url: str | None) -> str:
    """A link target for Markdown's `[text](<target>)`: http(s) only (else `#`), and
    percent-encoded so that it cannot end the link."""
    href = safe_href(url)
    if href == "#":
        return href
    parts = urlsplit(href)
    # the host keeps [ and ] (IPv6 literals); they cannot end a link without a ")" or ">"
    rest = href[len(parts.scheme) + 3 + len(parts.netloc):]
    return f"{parts.scheme}://{quote(parts.netloc, safe=_MD_HREF_SAFE + '[]')}{quote(rest, safe=_MD_HREF_SAFE)}"


def _md_escape(text: str | None) -> str:
    """Markdown-inert text: markup characters backslash-escaped, and line breaks folded to
    spaces so that a partner string cannot start a block (a heading, a list, an HTML
    block) of its own."""
    if not text:
        return ""
    out = " ".join(text.split())
    for ch in "\\`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out


def _day(d: datetime | None) -> str:
    return d.strftime("%Y-%m-%d") if d else ""


def _dated(d: datetime | None, source: str) -> str:
    """'published 2026-11-16', 'updated 2026-11-25', or 'first seen 2026-12-02 (no date from the partner)'."""
    if d is None:
        return ""
    text = f"{DATE_WORDS.get(source, source)} {_day(d)}"
    return text + " (no date from the partner)" if source == "fetched" else text


def _date_word(source: str) -> str:
    return DATE_WORDS.get(source, source)


def _cut(text: str | None, chars: int) -> str:
    text = " ".join((text or "").split())
    if not chars or len(text) <= chars:
        return text
    cut = text[:chars].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "\u2026"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "html.j2", "xml", "atom.j2"]),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(safe_href=safe_href, md_href=md_href, day=_day, md_escape=_md_escape, dated=_dated, cut=_cut,
                       plural=_plural, date_word=_date_word)
    return env


def render_formats(digest: Digest, *, generated_at: datetime, full_href: str, feed_href: str) -> dict[str, str]:
    """{'html', 'md', 'txt', 'json'} of one digest. `full_href`: where its full version is."""
    env = environment()
    context = dict(d=digest, generated_at=generated_at, full_href=full_href, feed_href=feed_href)
    out = {fmt: env.get_template(name).render(**context) for fmt, name in FORMATS.items()}
    out["html"] = clean_page(out["html"])
    out["json"] = digest.to_json()
    return out


def render_full_page(digest: Digest, *, generated_at: datetime, feed_href: str) -> str:
    page = environment().get_template("digest.html.j2").render(
        d=digest, generated_at=generated_at, full_href="", feed_href=feed_href)
    return clean_page(page)


def _xml_safe(entries: list[dict]) -> list[dict]:
    """Archive records with every string free of the characters XML 1.0 forbids (controls,
    U+FFFE/U+FFFF): a feed reader rejects a whole feed over one of them."""
    return [{k: clean_text(v) if isinstance(v, str) else v for k, v in e.items()} for e in entries]


def render_feed(entries: list[dict], *, feed_id: str, self_href: str | None, index_href: str) -> str:
    """Atom 1.0: `entries` are archive records (week, entry_id, updated, href, title, summary)."""
    entries = _xml_safe(entries)
    updated = max((e["updated"] for e in entries), default="1970-01-01T00:00:00Z")
    return environment().get_template("feed.atom.j2").render(
        entries=entries, feed_id=feed_id, self_href=self_href, index_href=index_href, updated=updated)


def render_index(entries: list[dict], *, feed_href: str) -> str:
    return clean_page(environment().get_template("index.html.j2").render(entries=_xml_safe(entries),
                                                                         feed_href=feed_href))
