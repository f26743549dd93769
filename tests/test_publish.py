"""The digest templates: real Jinja2 rendering, escaping, safe links, ISO weeks."""
from datetime import datetime, timezone

import pytest

from pipeline.errors import ConfigError
from pipeline.publish import Week, render_digest


def data():
    hostile = '<script>alert("x")</script> Sleep <b>matters</b>'
    attributions = [dict(site="a", site_name="A <Center>", url="https://a.example/p/", title="T"),
                     dict(site="b", site_name="B", url="javascript:alert(1)", title=None)]
    return dict(articles=[dict(site="a", site_name="A", url="https://a.example/p/", title=hostile, author=None,
                               published=datetime(2026, 11, 17, tzinfo=timezone.utc))],
                claims=[dict(claim_id=7, text=hostile, attributions=attributions, sites=["a", "b"], mentions=2)],
                faq=[], changed=[])


def test_html_is_escaped_and_links_are_http_only():
    out = render_digest(data(), Week(2026, 47), generated_at=datetime(2026, 11, 21, tzinfo=timezone.utc))
    html = out["html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in html
    assert 'href="https://a.example/p/"' in html
    assert "A &lt;Center&gt;" in html
    md = out["md"]
    assert "javascript:" not in md and "\\<script\\>" in md


def test_weeks():
    w = Week.parse("2026-W47")
    assert w.start == datetime(2026, 11, 16, tzinfo=timezone.utc)
    assert w.end == datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert str(Week.containing(datetime(2026, 11, 21, tzinfo=timezone.utc))) == "2026-W47"
    with pytest.raises(ConfigError):
        Week.parse("2026-W60")


def test_all_formats_render_and_atom_is_well_formed(tmp_path):
    import xml.etree.ElementTree as ET
    from email import message_from_bytes
    from pipeline.publish import write_digest
    paths = write_digest(data(), Week(2026, 47), tmp_path, generated_at=datetime(2026, 11, 21, tzinfo=timezone.utc),
                         email=("digest@example.org", ["editor@example.org"]))
    assert sorted(p.suffix for p in paths) == [".atom", ".eml", ".html", ".md", ".txt"]
    feed = ET.parse(tmp_path / "digest-2026-W47.atom").getroot()
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 1
    assert "<script>" in entries[0].find("{http://www.w3.org/2005/Atom}title").text  # text, escaped in XML
    assert "javascript:" not in (tmp_path / "digest-2026-W47.atom").read_text()
    msg = message_from_bytes((tmp_path / "digest-2026-W47.eml").read_bytes())
    assert msg["To"] == "editor@example.org"
    assert {p.get_content_type() for p in msg.walk()} >= {"text/plain", "text/html"}
