"""`feeds.listed_links`, the quick read of an unchanged feed's items, agrees with
`parse_feed` wherever it answers (and answers None where it cannot be sure)."""
from __future__ import annotations

from fixtures.loaders import require_shared
from pipeline.feeds import listed_links, parse_feed

RSS = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>
<item><title>A</title><link>/a</link><guid>urn:a</guid></item>
<item><title>B</title><link>https://ex.org/b</link></item></channel></rss>"""


def test_links_and_guids_of_a_plain_rss_feed():
    assert listed_links(RSS, "https://ex.org/feed") == [("https://ex.org/a", "urn:a"), ("https://ex.org/b", "https://ex.org/b")]
    assert [(e.url, e.guid) for e in parse_feed(RSS, "https://ex.org/feed").entries] == \
        listed_links(RSS, "https://ex.org/feed")


def test_none_where_it_cannot_be_sure():
    assert listed_links(RSS.replace(b"<link>/a</link>", b""), "https://ex.org/feed") is None  # an item without link
    assert listed_links(RSS.replace(b"</channel>", b""), "https://ex.org/feed") is None  # malformed
    assert listed_links(RSS.replace(b'version="2.0"', b'version="0.91"'), "https://ex.org/feed") is None
    assert listed_links(b"<html><body>no feed</body></html>", "https://ex.org/feed") is None
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss version="2.0"><channel>&a;</channel></rss>'
    assert listed_links(bomb, "https://ex.org/feed") is None


def test_agrees_with_parse_feed_on_the_feedparser_corpus():
    corpus = require_shared("feeds-corpus/feedparser-tests")
    answered = 0
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        body, url = path.read_bytes(), f"http://example.org/{path.name}"
        quick = listed_links(body, url)
        if quick is None:
            continue
        answered += 1
        assert [u for u, _ in quick] == [e.url for e in parse_feed(body, url).entries], path
    assert answered > 100  # it answers for the plain feeds, which most are
