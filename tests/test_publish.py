"""The digest model and its renderers on hand-made store rows: sections, attribution (an
unattributed item is refused), the same items in every format, escaping and sanitizing,
the length budget, ISO weeks, and the archive's Atom feed (stable, valid)."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from html import unescape

import feedparser
import pytest

from pipeline.errors import ConfigError
from pipeline.publish import Budget, Week
from pipeline.publish import build_digest as _build_digest
from pipeline.publish import write_digest as _write_digest
from pipeline.publish.model import Attribution, UnattributedItem
from pipeline.publish.topics import OTHER, group_topics

from fixtures.digest_rows import week_rows

UTC = timezone.utc
W47 = Week(2026, 47)
HOSTILE = '<script>alert("x")</script> Sleep <b>matters</b> [x](javascript:alert(1))'


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def statement(site, url, text, day, cites=()):
    return dict(mention_id=hash((site, text)) % 10_000, site=site, url=url, title=f"{site} post", text=text,
                section=None, label=None, citations=list(cites), stated_at=at(day), date_source="published")


def rows(**extra) -> dict:
    a, b, c = "https://a.example/p/", "https://b.example/q/", "https://c.example/r/"
    claims = [
        # stated by two partners this week, each in its own words
        dict(claim_id=1, text="Sleep improves within weeks.", first_seen_at=at(20), first_stated_at=at(17),
             statements=[statement("a", a, "Sleep improves within two to four weeks.", 17,
                                   [dict(text="Smith 2024. https://doi.example/1", url="https://doi.example/1")]),
                         statement("b", b, "Most people sleep better after a few weeks.", 18)]),
        # stated by one partner before the week and one in it: new for the second only
        dict(claim_id=2, text="Caffeine late harms sleep.", first_seen_at=at(20), first_stated_at=at(3),
             statements=[statement("a", a, "Late caffeine harms sleep.", 3),
                         statement("c", c, "Caffeine after noon makes insomnia worse.", 19)]),
        # stated before the week only: not in this digest
        dict(claim_id=3, text="Old news.", first_seen_at=at(3), first_stated_at=at(3),
             statements=[statement("a", a, "An old claim about naps.", 3)]),
    ]
    for n, text in enumerate(["Insomnia is common in early recovery.", "Insomnia often lasts months.",
                              "Insomnia responds to therapy.", "Insomnia worsens with screens.",
                              "Dreams become vivid after quitting.", "Vivid dreams fade with time.",
                              HOSTILE], start=10):
        claims.append(dict(claim_id=n, text=text, first_seen_at=at(20), first_stated_at=at(18),
                           statements=[statement("b", b, text, 18)]))
    data = dict(
        sources={"a": "Alpha <Care>", "b": "Beta", "c": "Gamma"},
        articles=[dict(article_id=1, site="a", url=a, title=HOSTILE, author="Ann", date=at(17), date_source="published"),
                  dict(article_id=2, site="b", url=b, title="Beta post", author=None, date=at(18),
                       date_source="fetched")],
        claims=claims,
        changed=[dict(site="c", url=c, title="Gamma post", revision=2, date=at(19), date_source="updated",
                      added=["Now 2023."], removed=["Then 2022."], other_changes=1)],
        faq=[dict(question_id=5, question="Is it normal?", answer="Yes, for a while.", site="a", url=a, title="t"),
             dict(question_id=5, question="Is this normal?", answer="Usually.", site="b", url=b, title="t"),
             dict(question_id=5, question="Is it normal?", answer="A second answer, same partner.", site="b",
                  url=b, title="t")],
    )
    data.update(extra)
    return data


# The rows below are dicts, edited in place by the tests; the publisher gets them as the
# store gives them, a `DigestWeek`.
def build_digest(data, week):
    return _build_digest(week_rows(data), week)


def write_digest(data, week, out_dir, **kwargs):
    return _write_digest(week_rows(data), week, out_dir, **kwargs)


def publish(tmp_path, data=None, *, when=at(23), budget=None, base_url=None):
    return write_digest(data or rows(), W47, tmp_path, generated_at=when, budget=budget, base_url=base_url)


# --- the model -----------------------------------------------------------------------------------------

def test_sections_each_partner_in_its_own_words():
    d = build_digest(rows(), W47)
    merged = {c.claim_id: c for c in d.merged}
    assert set(merged) == {1, 2}
    assert [(s.source.site, s.text) for s in merged[1].statements] == [
        ("a", "Sleep improves within two to four weeks."), ("b", "Most people sleep better after a few weeks.")]
    assert {s.source.site_name for s in merged[2].statements} == {"Alpha <Care>", "Gamma"}
    topic_claims = {line.claim_id for t in d.topics for line in t.lines}
    assert 3 not in topic_claims and 1 not in topic_claims and topic_claims == set(range(10, 17))
    assert [c.added for c in d.changed] == [("Now 2023.",)]
    (q,) = d.questions
    assert [a.source.site for a in q.answers] == ["a", "b"]  # one answer per partner
    assert [(p.site, len(p.articles)) for p in d.partners] == [("a", 1), ("b", 1)]
    (cite,) = d.citations
    assert (cite.url, cite.text, [a.site for a in cite.cited_by]) == ("https://doi.example/1", "Smith 2024.", ["a"])


def test_an_item_without_site_or_article_link_is_refused(tmp_path):
    with pytest.raises(UnattributedItem):
        Attribution("", "Nobody", "https://x.example/")
    with pytest.raises(UnattributedItem):
        Attribution("a", "Alpha", "javascript:alert(1)")
    with pytest.raises(UnattributedItem):
        Attribution("a", "Alpha", None)
    data = rows()
    data["claims"][0]["statements"][1]["url"] = "javascript:alert(1)"  # b's statement of claim 1
    data["faq"][0]["site"] = ""
    out = publish(tmp_path, data)
    assert len(out.digest.refused) == 2 and all("b" in r or "source site" in r for r in out.digest.refused)
    assert 1 not in {c.claim_id for c in out.digest.merged}  # one partner left: not "several"
    for text in out.texts.values():
        assert "javascript:alert(1) " not in text and "<javascript:" not in text
        assert "Yes, for a while." not in text
    assert all(i.url.startswith("https://") for i in out.full.items())


def test_topics_group_by_shared_words_and_keep_every_claim_once():
    # a topic is a noun phrase: "dreams" is shown as one ("Dreams are"), "helps" is not
    claims = [(1, "Insomnia is common."), (2, "Insomnia can last months."), (3, "Dreams are vivid."),
              (4, "Vivid dreams fade."), (5, "Exercise helps mood.")]
    groups = group_topics(claims)
    assert groups[-1] == (OTHER, [5])
    labels = {label.split(",")[0]: keys for label, keys in groups}
    assert sorted(labels["Dream"] if "Dream" in labels else labels["Dreams"]) == [3, 4]
    assert sorted(labels["Insomnia"]) == [1, 2]
    assert sorted(k for _, keys in groups for k in keys) == [1, 2, 3, 4, 5]


def test_weeks():
    w = Week.parse("2026-W47")
    assert (w.start, w.end) == (datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC))
    monday = datetime(2026, 11, 30, 6, tzinfo=UTC)  # the README's Monday cron
    assert str(Week.parse("last", now=monday)) == "2026-W48"
    assert str(Week.parse("this", now=monday)) == "2026-W49"
    assert str(Week.parse("last", now=datetime(2027, 1, 4, tzinfo=UTC))) == "2026-W53"
    for bad in ("2026-W60", "next", "47"):
        with pytest.raises(ConfigError):
            Week.parse(bad, now=monday)


# --- the formats ------------------------------------------------------------------------------------

def _md_or_txt_items(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("- ")]


def test_every_format_carries_the_same_items(tmp_path):
    out = publish(tmp_path, budget=Budget(lines_per_topic=1))
    items = list(out.digest.items())
    ids = [i.id for i in items]
    assert len(ids) == len(set(ids)) and len(ids) >= 10
    as_json = json.loads(out.texts["json"])
    assert [i["id"] for i in as_json["items"]] == ids
    html_ids = re.findall(r'data-item="([^"]+)"', out.texts["html"])
    assert html_ids == ids
    for fmt in ("md", "txt"):
        lines = _md_or_txt_items(out.texts[fmt])
        assert len(lines) == len(items), fmt
    md_lines = _md_or_txt_items(out.texts["md"])
    txt = out.texts["txt"].split("\n- ")[1:]
    for item, md_line, txt_block in zip(items, md_lines, txt):
        assert f"(<{item.url}>)" in md_line
        assert f"<{item.url}>" in txt_block.split("\n- ")[0]
    # the cut digest says how much more there is, and links the full page
    topic = next(t for t in out.digest.topics if t.more)
    for fmt in ("html", "md", "txt"):
        assert f"digest-2026-W47-full.html#{topic.id}" in out.texts[fmt], fmt
    full = (tmp_path / "digest-2026-W47-full.html").read_text()
    assert len(re.findall(r"data-item=", full)) == len(list(out.full.items())) > len(items)


def test_html_is_escaped_sanitized_and_links_are_http_only(tmp_path):
    out = publish(tmp_path)
    html, md, txt = out.texts["html"], out.texts["md"], out.texts["txt"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html and 'href="javascript' not in html
    assert not re.search(r"(?<!\\)\]\(javascript", md)
    assert 'href="https://a.example/p/"' in html and "Alpha &lt;Care&gt;" in html
    hrefs = re.findall(r'href="([^"]*)"', html.split("<body>", 1)[1])
    assert hrefs and all(h.startswith(("https://", "digest-", "feed.atom", "#")) for h in hrefs), hrefs
    assert "\\<script\\>" in md and "\\[x\\](javascript" in md  # no Markdown link can be made of partner text
    assert "<script>" in txt  # plain text is plain text
    assert json.loads(out.texts["json"])["week"] == "2026-W47"


def test_dates_say_where_they_come_from(tmp_path):
    html = re.sub(r"<[^>]+>", "", publish(tmp_path).texts["html"])  # as read: a date is in a <time>
    assert "published 2026-11-17" in html  # the partner's date
    assert "first seen 2026-11-18 (no date from the partner)" in html  # the fallback, said as such
    assert "revision 2, updated 2026-11-19" in html


def test_empty_week_has_no_empty_headings(tmp_path):
    out = publish(tmp_path, rows(articles=[], claims=[], changed=[], faq=[]))
    assert "<h2>" not in out.texts["html"] and "Nothing new from the partners this week." in out.texts["html"]
    assert "##" not in out.texts["md"].split("\n", 1)[1]


# --- the archive and its feed -----------------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def assert_valid_atom(path, base_url: str | None) -> ET.Element:
    """feedparser without bozo, and the W3C Feed Validator's Atom rules that apply here:
    feed id/title/updated/author, a self link equal to the feed's address, each entry with a
    unique absolute-IRI id, a title, an RFC 3339 updated and an alternate link."""
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    root = ET.parse(path).getroot()
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert (root.find(f"{ATOM}{tag}").text or "").strip(), tag
    assert root.find(f"{ATOM}author/{ATOM}name").text
    assert RFC3339.match(root.find(f"{ATOM}updated").text)
    if base_url:
        (self_link,) = [link for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
        assert self_link.get("href") == f"{base_url}/feed.atom"
    ids = []
    for entry in root.findall(f"{ATOM}entry"):
        ids.append(entry.find(f"{ATOM}id").text)
        assert re.match(r"^urn:uuid:[0-9a-f-]{36}$", ids[-1])
        assert entry.find(f"{ATOM}title").text
        assert RFC3339.match(entry.find(f"{ATOM}updated").text)
        alternates = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "alternate"]
        assert len(alternates) == 1 and alternates[0].get("type") == "text/html"
        if base_url:
            assert alternates[0].get("href").startswith(base_url + "/digest-")
    assert len(ids) == len(set(ids))
    return root


def test_feed_has_one_stable_entry_per_week_and_is_valid(tmp_path):
    base = "https://digest.example.org/partners"
    publish(tmp_path, when=at(23), base_url=base)
    feed = tmp_path / "feed.atom"
    first = feed.read_bytes()
    root = assert_valid_atom(feed, base)
    (entry,) = root.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}updated").text == "2026-11-23T12:00:00Z"
    content = feedparser.parse(first).entries[0].content[0].value  # the digest itself, for feed readers
    assert "Questions answered" in content and "What changed" in content
    assert "https://b.example/q/" in content and "<script" not in content
    # the same week again, nothing changed: the feed is byte-identical
    publish(tmp_path, when=at(24), base_url=base)
    assert feed.read_bytes() == first
    # another week, then the first week changes: one entry each, only the changed one moves
    write_digest(rows(claims=[]), Week(2026, 48), tmp_path, generated_at=at(30), base_url=base)
    changed = rows()
    changed["claims"][0]["statements"][0]["text"] = "Sleep improves within three weeks."
    write_digest(changed, W47, tmp_path, generated_at=datetime(2026, 12, 1, tzinfo=UTC), base_url=base)
    root = assert_valid_atom(feed, base)
    entries = {e.find(f"{ATOM}title").text: e for e in root.findall(f"{ATOM}entry")}
    assert set(entries) == {"Partner digest, week 2026-W47", "Partner digest, week 2026-W48"}
    assert entries["Partner digest, week 2026-W47"].find(f"{ATOM}updated").text == "2026-12-01T00:00:00Z"
    assert entries["Partner digest, week 2026-W48"].find(f"{ATOM}updated").text == "2026-11-30T12:00:00Z"
    assert entries["Partner digest, week 2026-W47"].find(f"{ATOM}id").text == entry.find(f"{ATOM}id").text
    index = (tmp_path / "index.html").read_text()
    assert index.index("2026-W48") < index.index("2026-W47")
    assert f'href="{base}/digest-2026-W47.html"' in index and "<script" not in index
    # without --base-url: relative links, still valid
    other = tmp_path / "relative"
    publish(other)
    assert_valid_atom(other / "feed.atom", None)
    assert unescape((other / "feed.atom").read_text()).count('href="digest-2026-W47.html"') == 1


def test_cli_digest_defaults_to_the_last_complete_week(tmp_path, db_url, monkeypatch):
    from click.testing import CliRunner
    from pipeline import cli as cli_module
    from pipeline import core
    from pipeline.store import Store
    Store.open(db_url, create=True).close()
    monkeypatch.setattr(core, "utcnow", lambda: datetime(2026, 11, 23, 6, tzinfo=UTC) + timedelta(hours=1))
    result = CliRunner().invoke(cli_module.cli, ["digest", "--db", db_url, "--out", str(tmp_path / "d"),
                                                 "--email-to", "ed@example.org", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "digest-2026-W47.html").is_file()
    assert str(tmp_path / "d" / "digest-2026-W47.eml") in result.output
    bad = CliRunner().invoke(cli_module.cli, ["digest", "--db", db_url, "--week", "2026-W99"])
    assert bad.exit_code == 2 and "--week" in bad.output


def test_a_sentence_added_in_a_revision_is_shown_once():
    data = rows()
    c = "https://c.example/r/"
    data["claims"].append(dict(claim_id=40, text="Now 2023.", first_seen_at=at(20), first_stated_at=at(19),
                               statements=[statement("c", c, "Now 2023.", 19)]))
    d = build_digest(data, W47)
    assert [ch.added for ch in d.changed] == [("Now 2023.",)]
    assert 40 not in {line.claim_id for t in d.topics for line in t.lines}
    data["changed"] = []  # without the revision it is a claim of the week like any other
    assert 40 in {line.claim_id for t in build_digest(data, W47).topics for line in t.lines}


def test_conflicting_figures_flagged_by_the_claims_engine_are_shown(tmp_path):
    data = rows()
    data["claims"][0]["conflicts"] = [dict(kind="duration", statements=[
        dict(mention_id=1, site="a", figure="2-4 weeks"), dict(mention_id=2, site="b", figure="a few weeks"),
        dict(mention_id=3, site="z", figure="9 weeks")])]  # z is not among the partners shown
    out = publish(tmp_path, data)
    (claim,) = [c for c in out.digest.merged if c.claim_id == 1]
    assert claim.conflict == "figures differ (duration): Alpha <Care> says 2-4 weeks; Beta says a few weeks"
    assert "figures differ (duration): Alpha &lt;Care&gt; says 2-4 weeks" in out.texts["html"]
    assert "figures differ (duration)" in out.texts["md"] and "figures differ (duration)" in out.texts["txt"]
    assert [c.conflict for c in out.digest.merged if c.claim_id == 2] == [None]
