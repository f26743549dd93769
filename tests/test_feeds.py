"""Feed parsing on the hostile inputs of ../shared/partners/bad and on small feeds of our own."""
from pathlib import Path

import pytest

from pipeline.errors import ParseError
from pipeline.feeds import parse_feed, plain_text, safe_url

BASE = "http://127.0.0.6:8000"


def bad(shared_dir, name):
    return (shared_dir / "partners" / "bad" / name).read_bytes().replace(b"{{base}}", BASE.encode())


@pytest.mark.parametrize("name, kind", [
    ("empty.xml", "empty"),
    ("not-a-feed.html", "not-a-feed"),
    ("billion-laughs.xml", "xml-entities"),
])
def test_refused_inputs(shared_dir, name, kind):
    with pytest.raises(ParseError) as e:
        parse_feed(bad(shared_dir, name), f"{BASE}/bad/{name}", {"content-type": "application/xml"})
    assert e.value.kind == kind
    assert name in e.value.url


def test_truncated_feed_keeps_only_complete_items(shared_dir):
    feed = parse_feed(bad(shared_dir, "truncated.xml"), f"{BASE}/bad/truncated.xml")
    assert feed.warning and "malformed" in feed.warning
    assert len(feed.entries) == 1
    assert feed.entries[0].content_html or feed.entries[0].summary_html


def test_wrong_encoding_is_decoded_without_mojibake(shared_dir):
    feed = parse_feed(bad(shared_dir, "wrong-encoding.xml"), f"{BASE}/bad/wrong-encoding.xml")
    assert "windows-1252" in feed.warning
    text = " ".join((e.title or "") + (e.summary_html or "") for e in feed.entries)
    assert "\ufffd" not in text and "â€" not in text
    assert "“Open Doors”" in text and "Café" in text


def test_script_injection_titles_are_text_and_links_http_only(shared_dir):
    feed = parse_feed(bad(shared_dir, "script-injection.xml"), f"{BASE}/bad/script-injection.xml")
    for e in feed.entries:
        assert e.title and "<" not in e.title and "alert" not in e.title
        assert e.url is None or e.url.startswith("http")
    assert [e.url for e in feed.entries].count(None) == 1  # the javascript: item has no link


def test_atom_and_rss_of_our_own():
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
<entry><id>urn:uuid:1</id><title>Post</title><link href="/p/1/"/>
<published>2026-11-17T02:30:00-08:00</published><updated>2026-11-17T02:30:00-08:00</updated>
<author><name>Dana</name></author><content type="html">&lt;p&gt;Body text.&lt;/p&gt;</content></entry></feed>"""
    feed = parse_feed(atom, "https://x.example/blog/feed.atom", {"content-type": "application/atom+xml"})
    e = feed.entries[0]
    assert e.url == "https://x.example/p/1/"
    assert e.published.isoformat() == "2026-11-17T10:30:00+00:00"
    assert e.author == "Dana" and "Body text." in e.content_html


def test_helpers():
    assert safe_url(" JavaScript:alert(1)", "https://a.example/") is None
    assert safe_url("data:text/html,x", "https://a.example/") is None
    assert safe_url("/x", "https://a.example/y/") == "https://a.example/x"
    assert plain_text("<b>Hi</b> <script>alert(1)</script>there") == "Hi there"


# --- RSS 1.1 (issue 17, finding 10): tests/fixtures/feeds/rss11_*.xml, our own files ----------------

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
RSS11 = {  # file -> (titles of the items, in order); each file's header comment says what it covers
    "rss11_payload.xml": ["Sleep in early recovery", "Family week returns"],
    "rss11_prefixed.xml": ["Naloxone at every front desk", "Volunteer evenings"],
    "rss11_empty.xml": [],
    "rss11_image_lang.xml": ["Café evenings for families"],
    "rss11_modules.xml": ["New group times", "Holiday hours"],
}


def rss11(name: str, base: str = BASE) -> bytes:
    return (FEEDS / name).read_bytes().replace(b"{{base}}", base.encode())


@pytest.mark.parametrize("name", sorted(RSS11))
def test_rss11_feeds_are_read(name):
    feed = parse_feed(rss11(name), f"{BASE}/rss11/feed.xml", {"content-type": "application/rss+xml"})
    assert feed.title == "Harborlight Recovery notes" and feed.warning is None
    assert [e.title for e in feed.entries] == RSS11[name]
    for e in feed.entries:
        assert e.url and e.url.startswith(f"{BASE}/rss11/") and e.guid == e.url


def test_rss11_payload_dates_authors_and_modules():
    first = parse_feed(rss11("rss11_payload.xml"), f"{BASE}/rss11/feed.xml").entries[0]
    assert first.author == "Dana Whitfield"
    assert first.updated.isoformat() == "2026-11-17T10:30:00+00:00"
    assert "<p>Sleep problems are common" in first.content_html and "<li>Walk in daylight.</li>" in first.content_html
    assert first.summary_html == "Why the first weeks are hard, and what helps."
    group, holiday = parse_feed(rss11("rss11_modules.xml"), f"{BASE}/rss11/feed.xml").entries
    assert group.content_html == "<p>Group sessions now start at six.</p>"
    assert group.categories == ("groups", "schedule") and group.updated.isoformat() == "2026-11-03T17:00:00+00:00"
    assert holiday.content_html is None and holiday.summary_html == "Open every day but the 25th."
    (cafe,) = parse_feed(rss11("rss11_image_lang.xml"), f"{BASE}/rss11/feed.xml").entries
    assert cafe.url == f"{BASE}/rss11/cafe-evenings/"  # relative, against xml:base


def test_rss11_payload_is_sanitised_like_any_feed_content():
    body = rss11("rss11_payload.xml").replace(
        b"<p>Sleep problems", b'<script>alert(1)</script><p onclick="alert(2)">Sleep problems')
    first = parse_feed(body, f"{BASE}/rss11/feed.xml").entries[0]
    assert "script" not in first.content_html and "onclick" not in first.content_html
    assert "Sleep problems" in first.content_html


def test_other_rdf_and_xml_is_not_taken_for_rss11():
    from pipeline.feeds import rss11_as_rss10

    rss10 = (b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
             b'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>T</title></channel></rdf:RDF>')
    assert rss11_as_rss10(rss10) is None
    # the namespace named, but not on a Channel root
    assert rss11_as_rss10(b'<x xmlns:r="http://purl.org/net/rss1.1#"><r:item/></x>') is None
    assert rss11_as_rss10(b'<Channel xmlns="http://purl.org/net/rss1.1#"><title>cut') is None


def test_rss11_with_a_payload_nested_thousands_deep_keeps_its_items():
    deep = b"<div>" * 5000 + b"deep" + b"</div>" * 5000
    body = rss11("rss11_prefixed.xml").replace(
        b"</r:description>\n    </r:item>",
        b'</r:description><p:payload xmlns:p="http://purl.org/net/rss1.1/payload#" rdf:parseType="Literal">'
        + deep + b"</p:payload></r:item>", 1)
    assert b"p:payload" in body
    feed = parse_feed(body, f"{BASE}/rss11/feed.xml")
    assert [e.title for e in feed.entries] == RSS11["rss11_prefixed.xml"]
    assert feed.entries[0].content_html is None  # the payload, too deep to copy, is dropped
    shallow = parse_feed(body.replace(deep, b"<div><p>ok</p></div>"), f"{BASE}/rss11/feed.xml")
    assert shallow.entries[0].content_html == "<div><p>ok</p></div>"
