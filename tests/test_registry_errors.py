"""Finding 7 (second half) of issue 9: a bad registry file is reported with its path and
reason while the good partners still run over loopback (exit 1); URL syntax, IDNA hosts
and ports are checked at load time; a UTF-8 BOM is accepted; nothing usable is exit 2."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipeline import clustering
from pipeline.cli import cli
from pipeline.errors import ConfigError
from pipeline.registry import load_registry, load_source

from fixtures.ingest.hostile import HostileServer, static

BAD = {  # file name -> (content, what the message must say)
    "broken.toml": ('name = "B"\nhomepage = ', "not valid TOML"),
    "ipv6.toml": ('name = "I"\nhomepage = "http://[::1/"\n', "Invalid IPv6 URL"),
    "idna.toml": ('name = "D"\nhomepage = "http://a..b/"\n', "not a valid IDNA name"),
    "hyphen.toml": ('name = "H"\nhomepage = "http://-x-.example/"\n', "invalid label"),
    "punycode.toml": ('name = "P"\nhomepage = "http://xn--zz.example/"\n', "invalid IDNA label"),
    "port.toml": ('name = "O"\nhomepage = "http://127.0.0.1:99999/"\n', "Port out of range"),
    "feedport.toml": ('name = "F"\nhomepage = "http://127.0.0.1/"\nfeeds = ["http://127.0.0.1:0/f"]\n', "port 0"),
}


@pytest.fixture(autouse=True)
def _no_clustering(monkeypatch):
    monkeypatch.setattr(clustering, "cluster_new_mentions", lambda store, now, **kw: 0)


def article(title: str) -> str:
    return (f'<!doctype html><html lang="en"><head><title>{title}</title></head><body><article><h1>{title}</h1>'
            f"<p>Sleep problems are common in early recovery from alcohol use disorder. Most people notice "
            f"better sleep after several weeks of abstinence.</p></article></body></html>")


def partner(server: HostileServer, prefix: str) -> str:
    feed = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{prefix}</title>'
            f'<item><title>T</title><link>{server.url(f"/{prefix}/post")}</link></item></channel></rss>')
    server.route(f"/{prefix}/post", static(article(f"{prefix} post"), "text/html; charset=utf-8"))
    server.route(f"/{prefix}/feed.xml", static(feed, "application/rss+xml"))
    return f'name = "{prefix}"\nhomepage = "{server.url(f"/{prefix}/")}"\nfeeds = ["{server.url(f"/{prefix}/feed.xml")}"]\n'


def test_bad_files_are_reported_and_good_partners_still_run(tmp_path):
    folder = tmp_path / "sources"
    folder.mkdir()
    for name, (text, _) in BAD.items():
        (folder / name).write_text(text, "utf-8")
    db = str(tmp_path / "s.sqlite")
    with HostileServer() as server:
        (folder / "good.toml").write_text(partner(server, "good"), "utf-8")
        (folder / "bom.toml").write_bytes(b"\xef\xbb\xbf" + partner(server, "bom").encode("utf-8"))
        result = CliRunner().invoke(cli, ["run", "--sources", str(folder), "--db", db, "--json"])
    assert result.exit_code == 1, result.output
    for name, (_, reason) in BAD.items():
        line = next((ln for ln in result.stderr.splitlines() if f"{folder / name}:" in ln), "")
        assert str(folder / name) in line and reason in line, (name, result.stderr)
    assert "Traceback" not in result.output
    summary = json.loads(result.stdout)
    assert sorted(e["path"].rsplit("/", 1)[1] for e in summary["registry_errors"]) == sorted(BAD)
    assert summary["sources_ok"] == 2 and summary["sources_failed"] == 0
    urls = [json.loads(line)["url"] for line in CliRunner().invoke(cli, ["export", "articles", "--db", db]).stdout.splitlines()]
    assert sorted(u.rsplit("/", 2)[1] for u in urls) == ["bom", "good"]


def test_no_usable_file_is_exit_2_listing_every_problem(tmp_path):
    for name, (text, _) in list(BAD.items())[:3]:
        (tmp_path / name).write_text(text, "utf-8")
    result = CliRunner().invoke(cli, ["run", "--sources", str(tmp_path), "--db", str(tmp_path / "x.sqlite")])
    assert result.exit_code == 2
    assert all(name in result.output for name in list(BAD)[:3]) and "Traceback" not in result.output
    assert not (tmp_path / "x.sqlite").exists()


def test_source_filter_naming_a_bad_file_says_why(tmp_path):
    (tmp_path / "ipv6.toml").write_text(BAD["ipv6.toml"][0])
    (tmp_path / "ok.toml").write_text('name = "A"\nhomepage = "http://127.0.0.1:9/a/"\n')
    result = CliRunner().invoke(cli, ["run", "--sources", str(tmp_path), "--db", str(tmp_path / "x.sqlite"),
                                      "--source", "ipv6"])
    assert result.exit_code == 2 and "Invalid IPv6 URL" in result.output


@pytest.mark.parametrize("host", ["bücher.example", "xn--bcher-kva.example", "a_b.example", "[::1]:8080",
                                  "127.0.0.1:65535", "localhost"])
def test_valid_hosts_load(tmp_path, host):
    path = tmp_path / "x.toml"
    path.write_text(f'name = "X"\nhomepage = "http://{host}/"\n', "utf-8")
    assert load_source(path).homepage == f"http://{host}/"


def test_registry_keeps_good_files(tmp_path):
    (tmp_path / "a.toml").write_text('name = "A"\nhomepage = "http://a.example/"\n')
    (tmp_path / "b.toml").write_text(BAD["port.toml"][0])
    registry = load_registry(tmp_path)
    assert [s.id for s in registry.sources] == ["a"]
    assert len(registry.problems) == 1 and isinstance(registry.problems[0], ConfigError)
    assert registry.problems[0].path == str(tmp_path / "b.toml")
