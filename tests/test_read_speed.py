"""What keeps the read commands fast (their speed is printed by benchmarks/read_commands.py):
a database whose schema is current is opened with one SELECT, without Alembic; the command
line imports no stage a read does not need; on an SQLite file whose schema is current,
`sources`, `claims list` and `search` run the store's read queries through `sqlite3`
(`store/_reads.py`, `SqliteReader`) and import neither SQLAlchemy nor the models, and
those queries give the same values through both paths."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from datetime import datetime, timedelta, timezone

from pipeline.core import Syndicate
from pipeline.store import MIGRATIONS, SqliteReader, Store
from pipeline.types import HealthReason

import research_data as rd

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sklearn", "faiss", "trafilatura", "lxml", "numpy", "sentence_transformers", "httpx", "jinja2",
         "feedparser", "alembic", "dramatiq", "redis", "sqlalchemy", "pipeline.store.models", "pipeline.store._base")


def _loaded_by(code: str) -> list[str]:
    probe = code + f"\nimport sys\nprint('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("LOADED:"))
    return [m for m in line[len("LOADED:"):].split(",") if m]


def test_head_revision_is_alembics():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from pipeline.store._reads import head_revision
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()


def test_recheck_default_is_harvests():
    from pipeline.core import RECHECK_AFTER
    from pipeline.harvest import RECHECK_AFTER as HARVEST_RECHECK_AFTER
    assert RECHECK_AFTER == HARVEST_RECHECK_AFTER


def _research_db(path: Path) -> Path:
    """The research database of tests/research_data.py, plus a degraded partner with a page held aside."""
    store = rd.build(str(path))
    now = rd.T0 + timedelta(days=9)
    why = (HealthReason("login-wall", "the page asks to sign in", "https://cedar.example/held"),)
    store.hold_page("cedar", "https://cedar.example/held", article_url=None, guid=None, snapshot_sha256=None,
                    content_hash="0" * 64, reasons=why, run_id=None, now=now)
    store.set_source_state("cedar", "degraded", why, now)
    store.close()
    return path


def test_read_commands_load_no_stage_they_do_not_need(tmp_path):
    db = _research_db(tmp_path / "syndicate.sqlite")
    for argv in (["sources"], ["claims", "list"], ["search", "walking"], ["search", "often", "--kind", "faq"],
                 ["claims", "list", "--site", "cedar", "--min-partners", "2"]):
        loaded = _loaded_by(f"from pipeline.cli import cli\ntry:\n    cli({argv + ['--db', str(db)]!r})\n"
                            "except SystemExit as e:\n    assert not e.code, e.code")
        assert loaded == [], (argv, loaded)


def test_the_read_queries_give_the_same_values_through_sqlite3_and_sqlalchemy(tmp_path):
    db = _research_db(tmp_path / "r.sqlite")
    reader, store = SqliteReader.open(db), Store.open(str(db), create=False)
    assert reader is not None
    since = datetime(2026, 11, 20, tzinfo=timezone.utc)
    try:
        health = reader.source_health()
        assert [h.state for h in health if h.id == "cedar"] == ["degraded"]
        assert [len(h.held) for h in health if h.id == "cedar"] == [1]
        assert health == store.source_health()
        assert reader.held_pages("cedar") == store.held_pages("cedar") != []
        assert reader.source_attribution() == store.source_attribution()
        for kwargs in ({}, {"min_partners": 2}, {"since": since}, {"site": "dune"}):
            assert reader.claims_list(**kwargs) == store.claims_list(**kwargs), kwargs
        assert len(reader.claims_list()) > len(reader.claims_list(min_partners=2)) > 0
        for query, kwargs in (("walking", {}), ("walks OR sleep", {"kind": "claim"}), ("often", {"kind": "faq"}),
                              ('"blood pressure" -daily', {"site": "dune"}), ("walking", {"since": since}),
                              ("walking", {"min_partners": 3, "limit": 1}), ("nonexistentword", {})):
            hits = reader.search(query, **kwargs)
            assert hits == store.search(query, **kwargs), (query, kwargs)
        assert reader.search("walking") and reader.search("often", kind="faq")
    finally:
        store.close()


def test_only_a_current_sqlite_schema_is_read_without_the_store(tmp_path, monkeypatch):
    """Anything else opens the Store, which migrates an older schema or refuses (and says why) as before."""
    from pipeline.store import _reads
    db = tmp_path / "s.sqlite"
    assert SqliteReader.open(db) is None  # missing
    db.write_bytes(b"not a database")
    assert SqliteReader.open(db) is None
    db.unlink()
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    assert SqliteReader.open(db) is None  # no schema
    db.unlink()
    Store.open(str(db)).close()
    assert SqliteReader.open(db) is not None
    syn = Syndicate(db)
    syn.check_database()
    assert syn.list_claims() == [] and syn._store is None  # read without opening the Store
    monkeypatch.setattr(_reads, "_HEAD", ["a-newer-revision"])
    assert SqliteReader.open(db) is None
    migrated = []
    monkeypatch.setattr(Store, "migrate", lambda self: migrated.append(1))
    other = Syndicate(db)
    assert other.list_claims() == [] and other._store is not None and migrated == [1]
    other.close()


def test_a_schema_that_is_not_the_newest_is_migrated_on_open(tmp_path, monkeypatch):
    from pipeline.store import _base
    db = str(tmp_path / "s.sqlite")
    Store.open(db).close()
    calls = []
    monkeypatch.setattr(_base.StoreBase, "migrate", lambda self: calls.append(1))
    Store.open(db, create=False).close()
    assert calls == []  # current: one SELECT, no migration check
    monkeypatch.setattr(_base, "head_revision", lambda: "a-newer-revision")
    Store.open(db, create=False).close()
    assert calls == [1]
