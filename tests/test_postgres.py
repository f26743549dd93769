"""The same pipeline on a real PostgreSQL database (skipped without SYNDICATE_TEST_PG_URL)."""
from pipeline.orchestrator import run_sources
from pipeline.registry import load_sources
from pipeline.store import Store


def test_run_twice_on_postgres(pg_url, demo_server):
    from pipeline.demo import DEMO_SOURCES
    sources = load_sources(DEMO_SOURCES)
    store = Store.open(pg_url)
    assert store.engine.dialect.name == "postgresql"
    report = run_sources(sources, store)
    assert report.ok, report
    counts = store.table_counts()
    assert counts["articles"] >= len(sources) and counts["mentions"] > 0
    assert any(len(c["sites"]) > 1 for c in store.export_claims())
    run_sources(sources, store)
    assert store.table_counts() == counts
    store.close()
