"""The database as a research dataset, on a small database of our own words
(tests/research_data.py) in a real SQLite file and a real PostgreSQL database: the views,
the citations table, mention provenance, full-text search, filtered exports in every
format (identical across engines), claims list, and byte-identical snapshots.
(Datasette: test_browse.py; the partner gold on both engines: test_research_partners.py.)"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text

from pipeline.cli import cli
from pipeline.dataset import write_rows
from pipeline.store import EXPORT_COLUMNS, ExportFilter
from pipeline.store._research import VIEW_TABLES

import research_data as rd


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    s = rd.build(url)
    yield s
    s.close()


@pytest.fixture()
def sqlite_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    rd.build(url).close()
    return url


def test_views_exist_with_the_documented_columns(store):
    insp = inspect(store.engine)
    for name, view in VIEW_TABLES.items():
        assert name in insp.get_view_names()
        assert [c["name"] for c in insp.get_columns(name)] == [c.name for c in view.columns], name


def test_claim_views_count_partners_and_keep_each_partners_sentence(store):
    summary = {r["claim_id"]: r for r in store.view_rows("claim_summary")}
    walk = next(r for r in summary.values() if r["partners"] == 3)
    assert walk["mentions"] == 3
    # first seen in week 1 (old revisions count), last seen when dune was revised
    assert walk["first_seen"] == rd.T0 and walk["last_seen"] == rd.WEEK2
    sources = [r for r in store.view_rows("claim_sources") if r["claim_id"] == walk["claim_id"]]
    assert {r["site"]: r["sentence"] for r in sources if r["site"] != "dune"} == \
        {k: v for k, v in rd.WALK.items() if k != "dune"}
    assert {r["site_name"] for r in sources} == {s.name for s in rd.SOURCES}
    new_this_week = [r for r in summary.values() if r["first_seen"] >= rd.WEEK2]
    assert [r["canonical_text"] for r in new_this_week] == ["Short walks after meals also help blood sugar."]


def test_faq_answers_and_article_changes(store):
    answers = store.view_rows("faq_answers", ["site"])
    assert [(a["site"], a["question_id"], a["canonical_question"]) for a in answers] == \
        [("birch", 1, "How often should I walk?"), ("dune", 1, "How often should I walk?")]
    changes = {(c["change"], c["sentence"]) for c in store.view_rows("article_changes")}
    assert changes == {("added", "Daily walking reduces resting blood pressure in most adults."),
                       ("added", "Short walks after meals also help blood sugar."),
                       ("removed", rd.WALK["dune"])}


def test_citations_table_kinds_and_mention_provenance(store):
    rows = {r["text"]: r for r in store.export("citations")}
    assert rows["Journal of Walking, 2024"]["kind"] == "footnote" and rows["Journal of Walking, 2024"]["footnote"] == "1"
    assert rows["guidelines"]["kind"] == "inline" and rows["guidelines"]["host"] == "health.example.org"
    assert rows["Book now"]["kind"] == "promotional"  # a promo sentence, whatever the host
    assert rows["programme"]["kind"] == "promotional"  # cedar's own site (www. ignored)
    assert [r["text"] for r in store.export("citations", ExportFilter(kind="footnote"))] == ["Journal of Walking, 2024"]
    with store.engine.connect() as c:
        missing = c.execute(text("SELECT COUNT(*) FROM mentions WHERE article_id IS NULL OR source_id IS NULL")).scalar()
        wrong = c.execute(text("SELECT COUNT(*) FROM mentions m JOIN revisions r ON r.id = m.revision_id "
                               "JOIN articles a ON a.id = r.article_id "
                               "WHERE m.article_id <> a.id OR m.source_id <> a.source_id")).scalar()
    assert (missing, wrong) == (0, 0)


def test_search_highlights_stems_and_filters(store):
    hits = store.search("walks")
    texts = {h["text"] for h in hits if h["type"] == "mention"}
    assert rd.WALK["birch"] in texts and rd.WALK["cedar"] in texts  # "walking", "walk": same stem
    assert all("**" in h["snippet"] for h in hits)
    claim_hit = next(h for h in hits if h["text"] == rd.WALK["birch"])
    assert claim_hit["claim_partners"] == ["birch", "cedar", "dune"] and claim_hit["claim_text"]
    assert {h["site"] for h in store.search("walking", site="cedar")} == {"cedar"}
    assert {h["kind"] for h in store.search("walking", kind="claim")} == {"claim"}
    faq = store.search("often", kind="faq")
    assert {h["type"] for h in faq} == {"faq"} and {h["site"] for h in faq} == {"birch", "dune"}
    assert all(h["question_partners"] == ["birch", "dune"] for h in faq)
    assert len(store.search("often", kind="faq", min_partners=2)) == 2
    assert store.search("often", kind="faq", min_partners=3) == []
    assert {h["claim_id"] for h in store.search("walking", min_partners=3)} == {claim_hit["claim_id"]}
    assert store.search("walking", since=datetime(2027, 1, 1, tzinfo=timezone.utc)) == []
    assert store.search("tolerance")[0]["text"] == "Tolerance to exercise grows with practice."
    assert store.search("nonexistentword") == []


def _canonical(rows):
    return sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rows)


def test_exports_identical_on_sqlite_and_postgres(tmp_path, pg_url):
    lite = rd.build(f"sqlite:///{tmp_path / 'a.sqlite'}")
    pg = rd.build(pg_url)
    filters = [ExportFilter(), ExportFilter(min_partners=2), ExportFilter(sites=("dune",)),
               ExportFilter(since=rd.WEEK2)]
    for what in EXPORT_COLUMNS:
        for flt in filters:
            if flt.min_partners and what in ("articles", "citations"):
                continue
            a, b = list(lite.export(what, flt)), list(pg.export(what, flt))
            assert a or flt != ExportFilter(), what
            assert _canonical(a) == _canonical(b), (what, flt)
    pg.close()
    lite.close()


def test_export_rows_carry_provenance_and_filters_narrow(store):
    for what, columns in EXPORT_COLUMNS.items():
        rows = list(store.export(what))
        assert rows and all(list(r) == list(columns) for r in rows), what
        assert all(r["site"] and r["site_name"] for r in rows)
    claims = list(store.export("claims", ExportFilter(min_partners=3)))
    assert [c["partners"] for c in claims] == [3] and claims[0]["article_url"].startswith("https://")
    assert {m["site"] for m in store.export("mentions", ExportFilter(sites=("birch",)))} == {"birch"}
    assert {m["kind"] for m in store.export("mentions", ExportFilter(kind="promo"))} == {"promo"}
    new = list(store.export("claims", ExportFilter(since=rd.WEEK2)))
    assert [c["text"] for c in new] == ["Short walks after meals also help blood sugar."]
    assert [f["site"] for f in store.export("faq", ExportFilter(min_partners=2))] == ["birch", "dune"]


def test_export_formats_csv_and_parquet_round_trip(sqlite_db, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    runner = CliRunner()
    out = runner.invoke(cli, ["export", "mentions", "--db", sqlite_db, "--format", "csv", "--kind", "claim"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert rows and list(rows[0]) == list(EXPORT_COLUMNS["mentions"]) and {r["kind"] for r in rows} == {"claim"}
    cited = next(r for r in rows if r["citations"] != "[]")
    assert json.loads(cited["citations"])[0]["kind"] in ("footnote", "inline", "promotional")
    target = tmp_path / "claims.parquet"
    out = runner.invoke(cli, ["export", "claims", "--db", sqlite_db, "--format", "parquet", "-o", str(target),
                              "--min-partners", "2"])
    assert out.exit_code == 0, out.output
    table = pq.read_table(target).to_pylist()
    assert sorted(r["partners"] for r in table) == [2, 3] and table[0]["sites"]
    bad = runner.invoke(cli, ["export", "articles", "--db", sqlite_db, "--kind", "claim"])
    assert bad.exit_code == 2 and "--kind" in bad.output


def test_claims_list_and_search_commands(sqlite_db):
    runner = CliRunner()
    out = runner.invoke(cli, ["claims", "list", "--db", sqlite_db, "--min-partners", "2", "--json"])
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert [(r["partners"], r["sites"]) for r in rows] == [(3, ["birch", "cedar", "dune"]), (2, ["birch", "cedar"])]
    out = runner.invoke(cli, ["claims", "list", "--db", sqlite_db, "--since", rd.WEEK2.date().isoformat()])
    assert "Short walks after meals" in out.output and "sleep" not in out.output
    out = runner.invoke(cli, ["search", "walking", "--db", sqlite_db, "--kind", "claim"])
    assert out.exit_code == 0 and "**walking**" in out.output.lower() and "3 partner(s)" in out.output
    missing = runner.invoke(cli, ["search", "walking", "--db", str(sqlite_db.replace("r.sqlite", "none.sqlite"))])
    assert missing.exit_code == 2 and "no Syndicate database" in missing.output


def test_snapshot_is_complete_and_byte_identical(sqlite_db, tmp_path):
    pytest.importorskip("pyarrow")
    runner = CliRunner()
    for out in ("one", "two"):
        result = runner.invoke(cli, ["snapshot", str(tmp_path / out), "--db", sqlite_db])
        assert result.exit_code == 0, result.output
    one = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    two = {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir()}
    assert one == two
    manifest = json.loads(one["manifest.json"])
    for what in EXPORT_COLUMNS:
        for fmt in ("csv", "parquet"):
            info = manifest["files"][f"{what}.{fmt}"]
            assert info["sha256"] == hashlib.sha256(one[f"{what}.{fmt}"]).hexdigest()
            assert info["rows"] == manifest["tables"][what] > 0
    card = one["README.md"].decode()
    assert all(s.homepage in card for s in rd.SOURCES)
    assert "Birch Clinic" in card and "Cedar & Sons \\<Recovery\\>" in card and "<Recovery>" not in card
    assert "2026-11-16" in card and "pair precision" in card
    assert "## Views" in one["schema.md"].decode()


def test_write_rows_csv_has_header_even_when_empty():
    buf = io.BytesIO()
    assert write_rows([], ("a", "b"), "csv", buf) == 0
    assert buf.getvalue() == b"a,b\n"


# --- issue 17, finding 10: one search syntax on both engines, limits, filters that match nothing ---

SEARCHES = {  # query -> the sentences of current revisions it finds (FAQ pairs left out)
    '"blood pressure"': {rd.WALK["birch"], rd.WALK["cedar"], "Daily walking reduces resting blood pressure in most adults."},
    '"pressure blood"': set(),  # a phrase is its words in order
    '"resting blood pressure" -daily': {rd.WALK["birch"]},  # cedar and dune say "daily"
    "sleep OR sugar": set(rd.SLEEP.values()) | {"Short walks after meals also help blood sugar."},
    'exercise -"sleep quality"': {"Tolerance to exercise grows with practice.", rd.SLEEP["cedar"]},
    '"walk every day"': {rd.WALK["birch"]},  # stemmed inside a phrase too
    "the": {"The national guidelines recommend 150 minutes a week."},  # no word is dropped as a stop word
    '"minutes a week"': {"The national guidelines recommend 150 minutes a week."},
    "walks OR": {m for m in (rd.WALK["birch"], rd.WALK["cedar"], "Daily walking reduces resting blood pressure in "
                             "most adults.", "Short walks after meals also help blood sugar.", "Birch on walking",
                             "Cedar on walking", "Dune on walking", "Book a walking assessment with our team today.")},
}


def test_search_syntax_means_the_same_on_both_engines(store):
    for query, expected in SEARCHES.items():
        found = {h["text"] for h in store.search(query) if h["type"] == "mention"}
        assert found == expected, (store.engine.dialect.name, query)


def test_search_refuses_queries_over_the_limits_or_with_nothing_to_find(store):
    from pipeline.errors import StoreError
    for query, message in (("walk " * 40, "at most 32"), ("x" * 600, "at most 500"), ("-walking", "nothing to look for"),
                           ("walking OR -sleep", "nothing to look for"), ('"" OR', "nothing to search for")):
        with pytest.raises(StoreError, match=message):
            store.search(query)


def test_a_search_over_its_time_limit_is_stopped(store):
    """30,000 sentences sharing a word: ranking them all takes far longer than 1 ms on either
    engine, so a 1 ms limit stops the search (PostgreSQL statement_timeout, SQLite's progress
    handler) with a clear error, and the next search works."""
    from pipeline.errors import StoreError
    with store.engine.begin() as c:
        rev, art, site = c.execute(text("SELECT r.id, a.id, a.source_id FROM articles a JOIN revisions r "
                                        "ON r.id = a.current_revision_id WHERE a.source_id = 'birch'")).one()
        c.execute(text("INSERT INTO mentions (revision_id, position, text, display, kind, section, label, block, "
                       "citations, article_id, source_id) VALUES (:r, :p, :t, :t, 'other', NULL, NULL, 'p', '[]', :a, :s)"),
                  [dict(r=rev, p=1000 + i, t=f"Stretching routine number {i} helps walking.", a=art, s=site)
                   for i in range(30_000)])
    with pytest.raises(StoreError, match="took longer than 0.001 s"):
        store.search("walking", timeout=0.001)
    assert len(store.search("stretching", limit=5)) == 5


def test_search_command_takes_a_leading_minus_after_double_dash(sqlite_db):
    runner = CliRunner()
    out = runner.invoke(cli, ["search", "--db", sqlite_db, "--kind", "claim", "--", "-daily", '"blood pressure"'])
    assert out.exit_code == 0, out.output
    assert "Walking every day" in out.output and "aily" not in out.output.replace("**", "")
    bad = runner.invoke(cli, ["search", "-daily", "--db", sqlite_db])
    assert bad.exit_code == 2 and "after '--'" in bad.output
    long = runner.invoke(cli, ["search", "walk " * 40, "--db", sqlite_db])
    assert long.exit_code == 2 and "at most 32" in long.output


def test_filters_that_match_nothing_say_so(sqlite_db):
    runner = CliRunner()
    for args in (["export", "mentions", "--site", "nosuch"], ["search", "walking", "--site", "nosuch"],
                 ["claims", "list", "--site", "nosuch"]):
        out = runner.invoke(cli, args + ["--db", sqlite_db])
        assert out.exit_code == 2 and "no partner 'nosuch'" in out.output and "birch, cedar, dune" in out.output, args
    for args in (["export", "mentions", "--since", "2030-01-01"], ["search", "nonexistentword"],
                 ["claims", "list", "--min-partners", "9"]):
        out = runner.invoke(cli, args + ["--db", sqlite_db])
        assert out.exit_code == 0 and out.stdout.count("\n") <= 1, args  # at most a CSV header
        assert "nothing matches" in out.stderr, args
