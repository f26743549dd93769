"""Finding 9 of issue 9: every digest format escapes partner strings for itself.

A real run over loopback stores a hostile partner article (a canonical URL built to end a
Markdown link early, markup in og:title and the author); the digest written from that
database is then read the way its readers read it: the Markdown through a CommonMark
renderer that, like many, links any scheme; the HTML and Atom as markup."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from pipeline import clustering
from pipeline.cli import cli
from pipeline.publish import md_href

from fixtures.ingest.hostile import HostileServer, static

INJECTION = "#a>)[x](javascript:alert(1))"
MARKUP_TITLE = '<img src=x onerror=alert(1)> Sleep <b>matters</b>'
RSS = "application/rss+xml"


@pytest.fixture(autouse=True)
def _no_clustering(monkeypatch):
    monkeypatch.setattr(clustering, "cluster_new_mentions", lambda store, now, **kw: 0)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.hrefs += [v for k, v in attrs if k in ("href", "src") and v is not None]


def _own_page(href: str) -> bool:
    """A relative link to one of the digest's own files (full version, feed, archive)."""
    return href.startswith("digest-") or href in ("feed.atom", "index.html")


def permissive_markdown(text: str) -> str:
    from markdown_it import MarkdownIt
    md = MarkdownIt("commonmark")
    md.validateLink = lambda url: True  # many renderers do not filter schemes
    return md.render(text)


def hostile_site(server: HostileServer) -> str:
    page = server.url("/p") + INJECTION
    html = (f'<!doctype html><html lang="en"><head><title>x</title>'
            f'<meta property="og:title" content="{MARKUP_TITLE.replace(chr(34), "&quot;")}">'
            f'<meta name="author" content="&lt;script&gt;alert(2)&lt;/script&gt; Ann">'
            f'<link rel="canonical" href="{page}"></head><body><article><h1>Sleep</h1>'
            f"<p>Sleep problems are common in early recovery from alcohol use disorder. Most people "
            f"notice better sleep after several weeks of abstinence.</p></article></body></html>")
    feed = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>H</title>'
            f'<link>{server.url("/")}</link><item><title>Sleep</title><link>{server.url("/p")}</link>'
            f'<guid>{server.url("/p")}</guid></item></channel></rss>')
    server.route("/p", static(html, "text/html; charset=utf-8"))
    server.route("/feed.xml", static(feed, RSS))
    server.route("/", static(f'<html><head><link rel="alternate" type="{RSS}" href="/feed.xml"></head></html>',
                             "text/html"))
    return page


def test_digest_outputs_resist_link_injection_and_stored_markup(tmp_path):
    db = str(tmp_path / "s.sqlite")
    with HostileServer() as server:
        page = hostile_site(server)
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "harbor.toml").write_text(f'name = "Harbor"\nhomepage = "{server.url("/")}"\n')
        result = CliRunner().invoke(cli, ["run", "--sources", str(tmp_path / "src"), "--db", db, "--quiet"])
        assert result.exit_code == 0, result.output
    exported = CliRunner().invoke(cli, ["export", "articles", "--db", db]).output
    assert INJECTION.split("#")[1] in exported and "<img" in exported  # stored as the partner sent it
    out = tmp_path / "digest"
    # the page gives no date, so it is dated by when it was fetched: this week
    result = CliRunner().invoke(cli, ["digest", "--db", db, "--out", str(out), "--week", "this"])
    assert result.exit_code == 0, result.output
    md = next(out.glob("*.md")).read_text()

    rendered = _Links()
    rendered.feed(permissive_markdown(md))
    rendered.hrefs = [h for h in rendered.hrefs if not _own_page(h)]
    assert rendered.hrefs, md
    assert all(h.startswith(server.url("/")) for h in rendered.hrefs), rendered.hrefs
    assert unquote(rendered.hrefs[0]) == page  # the whole URL stays one link target
    assert not {"img", "script", "b"} & rendered.tags  # og:title markup shown as text

    for page in out.glob("*.html"):  # the digest, its full version, the archive index
        html = _Links()
        html.feed(page.read_text())
        assert not {"img", "script", "b"} & html.tags
        assert all(h.startswith(("http://", "#")) or _own_page(h) for h in html.hrefs), page
        assert any(h.startswith("http://") for h in html.hrefs) or page.name == "index.html"
    atom = ET.parse(next(out.glob("*.atom"))).getroot()
    for el in atom.iter():
        assert not el.tag.endswith(("img", "script")) and not el.get("href", "").startswith("javascript")


@pytest.mark.parametrize("url", [
    "http://h/p#a>)[x](javascript:alert(1))", "http://h/p)](javascript:alert(1))", "http://h/<p>\n\n# x",
    "http://h/p\\>", "http://h/p`x` \"t\" 'u'", "http://[::1]:8/p?q=a b&r=%41",
])
def test_md_href_cannot_end_a_link(url):
    target = md_href(url)
    assert not set(target) & set("<>()\\`\"' \n")
    rendered = _Links()
    rendered.feed(permissive_markdown(f"[t](<{target}>) [u]({target})"))
    assert len(rendered.hrefs) == 2 and all(h.startswith("http://") for h in rendered.hrefs)
    assert unquote(rendered.hrefs[0]) == unquote(url)


def test_terminal_output_shows_control_characters_escaped(tmp_path):
    """`syndicate sources` prints partner-derived error text: an ANSI sequence or a bidi
    override in it must not act on the operator's terminal."""
    from datetime import datetime, timezone

    from pipeline.store import Store
    from pipeline.types import Source, SourceError, SourceResult

    db = str(tmp_path / "s.sqlite")
    store = Store.open(db)
    store.sync_sources([Source(id="evil", name="Evil", homepage="http://127.0.0.1:9/")])
    hostile = "bad page \x1b[2J\x1b]0;owned\x07 \u202egnp.exe"
    store.record_source_result(SourceResult("evil", errors=(SourceError("http-404", hostile, "http://h/\x1b[31m"),)),
                               datetime.now(timezone.utc))
    store.close()
    out = CliRunner().invoke(cli, ["sources", "--db", db]).output
    assert "evil" in out and "bad page" in out
    assert not any(ch in out for ch in "\x1b\x07\u202e")
    assert "\\x1b[2J" in out and "\\u202e" in out
