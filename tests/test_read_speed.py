"""What keeps the read commands fast (their speed is printed by benchmarks/read_commands.py):
a database whose schema is current is opened with one SELECT, without Alembic; the command
line imports no stage a read does not need."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline.store import MIGRATIONS, Store

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sklearn", "faiss", "trafilatura", "lxml", "numpy", "sentence_transformers", "httpx", "jinja2",
         "feedparser", "alembic", "dramatiq", "redis")


def _loaded_by(code: str) -> list[str]:
    probe = code + f"\nimport sys\nprint('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("LOADED:"))
    return [m for m in line[len("LOADED:"):].split(",") if m]


def test_head_revision_is_alembics():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from pipeline.store._base import head_revision
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()


def test_recheck_default_is_harvests():
    from pipeline.core import RECHECK_AFTER
    from pipeline.harvest import RECHECK_AFTER as HARVEST_RECHECK_AFTER
    assert RECHECK_AFTER == HARVEST_RECHECK_AFTER


def test_read_commands_load_no_stage_they_do_not_need(tmp_path):
    db = tmp_path / "syndicate.sqlite"
    Store.open(str(db)).close()  # created and migrated here
    for argv in (["sources"], ["claims", "list"], ["search", "withdrawal"]):
        loaded = _loaded_by(f"from pipeline.cli import cli\ntry:\n    cli({argv + ['--db', str(db)]!r})\n"
                            "except SystemExit as e:\n    assert not e.code, e.code")
        assert loaded == [], (argv, loaded)


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
