"""Finding 8 of issue 9: verbs that only read refuse a database that does not exist
(exit 2, "no Syndicate database at ...") instead of creating an empty one; `run`
still creates it."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from pipeline import clustering
from pipeline.cli import cli

from fixtures.ingest.hostile import HostileServer, static

READERS = [["digest", "--out", "{tmp}/digest"], ["export", "claims"], ["export", "articles"], ["sources"],
           ["claims", "show", "1"], ["claims", "rebuild"], ["reprocess"],
           ["export", "citations"], ["search", "tolerance"], ["claims", "list"], ["snapshot", "{tmp}/digest"],
           ["browse"]]


@pytest.fixture(autouse=True)
def _no_clustering(monkeypatch):
    monkeypatch.setattr(clustering, "cluster_new_mentions", lambda store, now, **kw: 0)


@pytest.mark.parametrize("argv", READERS, ids=lambda a: " ".join(a[:2]))
def test_reader_refuses_a_missing_database(tmp_path, argv):
    typo = tmp_path / "syndicat.sqlite"
    result = CliRunner().invoke(cli, [a.format(tmp=tmp_path) for a in argv] + ["--db", str(typo)])
    assert result.exit_code == 2, result.output
    assert f"no Syndicate database at {typo}" in result.output
    assert not typo.exists() and not (tmp_path / "digest").exists()


def test_reader_refuses_a_file_that_is_not_a_syndicate_database(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    result = CliRunner().invoke(cli, ["export", "articles", "--db", str(empty)])
    assert result.exit_code == 2 and "no Syndicate database at" in result.output


def test_run_creates_the_database_and_readers_then_work(tmp_path):
    db = tmp_path / "new" / "syndicate.sqlite"
    with HostileServer() as server:
        server.route("/", static("<html><head><title>H</title></head><body></body></html>", "text/html"))
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "harbor.toml").write_text(f'name = "Harbor"\nhomepage = "{server.url("/")}"\n')
        result = CliRunner().invoke(cli, ["run", "--sources", str(tmp_path / "src"), "--db", str(db), "-q"])
    assert db.is_file(), result.output
    listing = CliRunner().invoke(cli, ["sources", "--db", str(db)])
    assert listing.exit_code == 0 and "harbor" in listing.output


def test_missing_postgres_schema_is_refused(pg_url):
    result = CliRunner().invoke(cli, ["export", "claims", "--db", pg_url])
    assert result.exit_code == 2 and "no Syndicate database at" in result.output
    assert "password" not in result.output.lower()
