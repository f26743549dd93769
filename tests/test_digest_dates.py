"""Partner dates: how a revision is dated (pure), and migration 0004 on a database that
already holds articles, on SQLite and on PostgreSQL (first revisions dated by `published`,
later ones by their fetch time, each saying which)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from pipeline.store import MIGRATIONS, Store
from pipeline.store._digest import revision_date

UTC = timezone.utc
FETCHED = datetime(2026, 12, 2, 1, tzinfo=UTC)


def test_revision_dates_come_from_the_partner_when_believable():
    pub, upd = datetime(2026, 11, 18, 14, tzinfo=UTC), datetime(2026, 11, 25, 14, tzinfo=UTC)
    assert revision_date(1, pub, pub, None, FETCHED) == (pub, "published")
    assert revision_date(1, None, upd, None, FETCHED) == (upd, "updated")
    assert revision_date(1, None, None, None, FETCHED) == (FETCHED, "fetched")
    assert revision_date(2, pub, upd, pub, FETCHED) == (upd, "updated")
    # the partner did not move its date: the change is dated by when it was seen
    assert revision_date(2, pub, pub, pub, FETCHED) == (FETCHED, "fetched")
    # a date in the future is not believed
    assert revision_date(1, FETCHED + timedelta(days=30), None, None, FETCHED) == (FETCHED, "fetched")


def _migrate(engine, target: str) -> None:
    from alembic import command
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)


def _check_backfill(url: str) -> None:
    engine = sa.create_engine(url)
    _migrate(engine, "0003")
    t0, t1 = datetime(2026, 11, 20, 12), datetime(2026, 11, 27, 12)  # stored naive UTC on SQLite
    pub = datetime(2026, 11, 18, 14)
    if engine.dialect.name != "sqlite":
        t0, t1, pub = (d.replace(tzinfo=UTC) for d in (t0, t1, pub))
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO sources (id, name, homepage, consecutive_failures) VALUES "
                          "('a', 'A', 'https://a.example/', 0)"))
        c.execute(sa.text("INSERT INTO articles (id, source_id, url, published, first_seen_at, last_fetched_at) "
                          "VALUES (1, 'a', 'https://a.example/p', :pub, :t0, :t1), "
                          "(2, 'a', 'https://a.example/q', NULL, :t0, :t0)"), dict(pub=pub, t0=t0, t1=t1))
        c.execute(sa.text("INSERT INTO revisions (id, article_id, number, content_hash, fetched_at, text) VALUES "
                          "(1, 1, 1, 'h1', :t0, 'x'), (2, 1, 2, 'h2', :t1, 'y'), (3, 2, 1, 'h3', :t0, 'z')"),
                  dict(t0=t0, t1=t1))
    engine.dispose()
    store = Store.open(url)  # migrates to head
    with store.engine.connect() as c:
        rows = c.execute(sa.text("SELECT id, partner_date, date_source FROM revisions ORDER BY id")).all()
    got = {rid: (d if d is None or isinstance(d, datetime) else datetime.fromisoformat(str(d)), src)
           for rid, d, src in rows}
    strip = (lambda d: d.replace(tzinfo=None)) if store.engine.dialect.name == "sqlite" else (lambda d: d)
    assert (strip(got[1][0]), got[1][1]) == (strip(pub), "published")
    assert (strip(got[2][0]), got[2][1]) == (strip(t1), "fetched")
    assert (strip(got[3][0]), got[3][1]) == (strip(t0), "fetched")
    store.close()


def test_migration_0004_fills_existing_rows_on_sqlite(db_url):
    _check_backfill(db_url)


@pytest.mark.postgres
def test_migration_0004_fills_existing_rows_on_postgres(pg_url):
    _check_backfill(pg_url)
