"""Feed parsing on the hostile inputs of ../shared/partners/bad and on small feeds of our own."""
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
