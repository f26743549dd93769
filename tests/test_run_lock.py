"""Finding 5 of issue 9: one run at a time, on SQLite and PostgreSQL.

Real `syndicate run` processes against slow partners on loopback: a second run exits 75
naming the holder (or waits with --wait), a killed holder's lock is recovered at once, a
stale heartbeat from another host is taken over, readers never need the lock, and
processes opening a fresh database together migrate it one after the other."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from pipeline.cli import cli
from pipeline.errors import LockHeld
from pipeline.store import Store
from pipeline.store.models import RunLockRow

from fixtures.ops.slow_partners import ROOT, SlowPartners, finish, runs_of, syndicate, wait_until


def _second_run_is_refused_naming_the_holder(server, tmp_path, db):
    partners = SlowPartners(server, tmp_path / "sources", n_sources=2, pages=5, delay=0.01)
    partners.hold()  # the first run stays in the middle of its fetches until released
    first = syndicate("run", "--sources", str(partners.folder), "--quiet", db=db)
    wait_until(lambda: partners.pages_requested() >= 1, 60, "the first run to fetch pages")
    code, out, err = finish(syndicate("run", "--sources", str(partners.folder), db=db))
    assert code == 75, (out, err)
    assert f"pid {first.pid}" in err and "syndicate run" in err and "--wait" in err
    assert "Traceback" not in err and "IntegrityError" not in err
    partners.release()
    code, out, err = finish(first)
    assert code == 0, err
    waited = syndicate("run", "--sources", str(partners.folder), "--wait", "--json", db=db)
    code, out, err = finish(waited)
    assert code == 0 and json.loads(out)["sources_ok"] == 2, err
    assert [r.status for r in runs_of(db)] == ["ok", "ok"]  # the refused run never started


def test_second_run_is_refused_naming_the_holder_sqlite(server, tmp_path):
    _second_run_is_refused_naming_the_holder(server, tmp_path, str(tmp_path / "s.sqlite"))


@pytest.mark.slow  # several syndicate processes
def test_second_run_is_refused_naming_the_holder_postgres(server, tmp_path, pg_url):
    _second_run_is_refused_naming_the_holder(server, tmp_path, pg_url)


@pytest.mark.slow  # several syndicate processes
def test_concurrent_runs_with_wait_take_turns_without_errors(server, tmp_path):
    partners = SlowPartners(server, tmp_path / "sources", n_sources=2, pages=5, delay=0.01)
    db = str(tmp_path / "s.sqlite")
    Store.open(db).close()  # (the migration race has its own test)
    partners.hold()
    procs = [syndicate("run", "--sources", str(partners.folder), "--wait", "--json", db=db) for _ in range(3)]
    wait_until(lambda: partners.pages_requested() >= 1, 60, "a first run to fetch pages")
    store = Store.open(db, create=False)
    holder = store.lock_holder().pid
    store.close()
    for p in procs:
        if p.pid != holder:  # the others say whom they wait for, then wait
            assert f"waiting for the run lock, held by syndicate run (pid {holder}" in p.stderr.readline()
    partners.release()
    results = [finish(p, 120) for p in procs]
    for code, out, err in results:
        assert code == 0, err
        assert "Traceback" not in err and "IntegrityError" not in err
    runs = runs_of(db)
    assert [r.status for r in runs] == ["ok"] * 3
    spans = sorted((r.started, r.finished) for r in runs)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), spans  # one at a time
    con = sqlite3.connect(db)
    assert con.execute("select count(*), count(distinct url) from articles").fetchone() == (10, 10)


@pytest.mark.slow  # several syndicate processes
def test_lock_of_a_killed_run_is_recovered_and_its_run_marked_abandoned(server, tmp_path):
    partners = SlowPartners(server, tmp_path / "sources", n_sources=1, pages=5, delay=0.01)
    db = str(tmp_path / "s.sqlite")
    partners.hold()
    victim = syndicate("run", "--sources", str(partners.folder), db=db)
    wait_until(lambda: partners.pages_requested() >= 1, 60, "the run to fetch pages")
    victim.kill()
    victim.wait()
    partners.release()
    code, out, err = finish(syndicate("run", "--sources", str(partners.folder), "-q", db=db))
    assert code == 0, err
    assert [r.status for r in runs_of(db)] == ["abandoned", "ok"]


def test_stale_lock_from_another_host_is_taken_over_a_fresh_one_is_not(tmp_path):
    db = str(tmp_path / "s.sqlite")
    holder = Store.open(db)
    lock, _ = holder.try_lock("syndicate run")
    lock._done.set()  # no more heartbeats, as if its host had gone away
    with holder.session() as s:
        s.execute(update(RunLockRow).values(host="elsewhere", pid=1,
                                            heartbeat_at=datetime.now(timezone.utc) - timedelta(seconds=30)))
    other = Store.open(db)
    with pytest.raises(LockHeld, match="pid 1 on elsewhere"):
        other.acquire_lock("test")
    with holder.session() as s:
        s.execute(update(RunLockRow).values(heartbeat_at=datetime.now(timezone.utc) - timedelta(minutes=5)))
    taken = other.acquire_lock("test")
    assert other.lock_holder().pid == os.getpid()
    taken.release()
    assert other.lock_holder() is None
    holder.close()
    other.close()


def test_readers_do_not_need_the_lock(tmp_path):
    db = str(tmp_path / "s.sqlite")
    store = Store.open(db)
    with store.acquire_lock("syndicate run"):
        for argv in (["export", "articles"], ["sources"], ["digest", "--out", str(tmp_path / "d")]):
            result = CliRunner().invoke(cli, [*argv, "--db", db])
            assert result.exit_code == 0, (argv, result.output)
        for writer in (["claims", "rebuild"], ["claims", "review", "--json"], ["reprocess"]):
            result = CliRunner().invoke(cli, [*writer, "--db", db])
            assert result.exit_code == 75 and "holds the run lock" in result.output, (writer, result.output)
    store.close()


RACE = """
import sys, time
from pipeline.store import Store
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
store = Store.open(sys.argv[1])
print(store.counts().sources)
"""


def _migrate_at_once(url: str, n: int = 4) -> None:
    start = time.time() + 4.0  # every process imported and waiting, then all open at once
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", RACE, url, str(start)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(n)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "0", err[-2000:]
    store = Store.open(url, create=False)
    with store.engine.connect() as conn:
        versions = [r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]
    store.close()
    from alembic.script import ScriptDirectory
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    assert versions == [ScriptDirectory.from_config(cfg).get_current_head()]


def test_fresh_sqlite_database_migrated_by_several_processes_at_once(tmp_path):
    _migrate_at_once(str(tmp_path / "fresh.sqlite"))


@pytest.mark.slow  # several syndicate processes
def test_fresh_postgres_database_migrated_by_several_processes_at_once(pg_url):
    _migrate_at_once(pg_url)


def test_a_live_holder_on_this_host_is_not_taken_over_for_a_late_heartbeat(tmp_path):
    """A run suspended with Ctrl-Z keeps its lock: its pid is alive."""
    db = str(tmp_path / "s.sqlite")
    holder = Store.open(db)
    lock, _ = holder.try_lock("syndicate run")
    lock._done.set()
    with holder.session() as s:
        s.execute(update(RunLockRow).values(heartbeat_at=datetime.now(timezone.utc) - timedelta(minutes=5)))
    other = Store.open(db)
    with pytest.raises(LockHeld, match=f"pid {os.getpid()}"):
        other.acquire_lock("test")
    holder.close()
    other.close()
