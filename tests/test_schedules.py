"""Schedules an operator can trust: per-source fetch intervals (the registry's `interval`,
the feed's <ttl> and sy:updatePeriod, Cache-Control max-age) skip a source that is not due
with no request at all, counted at its own loopback server, and `--force` fetches it; the
README's crontab line, run as it stands, writes the digest when a partner fails and says
the failure on stderr; the systemd units parse (`systemd-analyze verify`)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import clustering
from pipeline.cli import cli
from pipeline.demo import DEMO_SOURCES, StaticSiteServer, DEMO_SITES

from fixtures.ingest.hostile import HostileServer, send, static

ROOT = Path(__file__).resolve().parents[1]
RSS = "application/rss+xml"


def partner(server: HostileServer, *, channel_extra: str = "", feed_headers: dict | None = None) -> None:
    """A one-article partner: homepage -> feed -> article."""
    b = server.base
    feed = (f'<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
            f"<channel><title>P</title><link>{b}/</link>{channel_extra}<item><title>Post</title>"
            f"<link>{b}/post/</link><guid>{b}/post/</guid></item></channel></rss>")
    article = ("<!doctype html><html><head><title>Post</title></head><body><article><h1>Post</h1>"
               "<p>Regular exercise can improve sleep quality in adults recovering from alcohol use.</p>"
               "<p>Most people notice better sleep after several weeks without alcohol.</p></article></body></html>")
    server.route("/", static(f'<html><head><link rel="alternate" type="{RSS}" href="/feed/"></head></html>',
                             "text/html"))
    if feed_headers:
        server.route("/feed/", lambda h: send(h, 200, feed.encode(), RSS, feed_headers))
    else:
        server.route("/feed/", static(feed, RSS))
    server.route("/post/", static(article, "text/html; charset=utf-8"))


def test_sources_not_due_get_no_request_and_force_fetches_them(tmp_path, monkeypatch):
    monkeypatch.setattr(clustering, "cluster_new_mentions", lambda store, now, **kw: 0)
    folder, db = tmp_path / "sources", str(tmp_path / "due.sqlite")
    folder.mkdir()
    with HostileServer() as weekly, HostileServer() as ttl, HostileServer() as sy, HostileServer() as cached, \
            HostileServer() as plain:
        partner(weekly)
        partner(ttl, channel_extra="<ttl>1440</ttl>")  # a day, in minutes
        partner(sy, channel_extra="<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>")
        partner(cached, feed_headers={"Cache-Control": "public, max-age=43200"})  # half a day
        partner(plain)  # says nothing of its pace: due at every run
        servers = {"weekly": weekly, "ttl": ttl, "sy": sy, "cached": cached, "plain": plain}
        for sid, server in servers.items():
            extra = 'interval = "7d"\n' if sid == "weekly" else ""
            (folder / f"{sid}.toml").write_text(f'name = "{sid}"\nhomepage = "{server.url("/")}"\n{extra}')

        def run(*flags: str) -> tuple[dict, dict[str, int]]:
            before = {sid: len(s.hits) for sid, s in servers.items()}
            done = CliRunner().invoke(cli, ["run", "--sources", str(folder), "--db", db, "--json", *flags])
            assert done.exit_code == 0, done.output
            return json.loads(done.stdout), {sid: len(s.hits) - before[sid] for sid, s in servers.items()}

        first, hits = run()
        assert first["sources_ok"] == 5 and all(n > 0 for n in hits.values()), hits
        second, hits = run()
        # not due: not one request (robots.txt included) reached their servers
        assert hits["weekly"] == hits["ttl"] == hits["sy"] == hits["cached"] == 0 and hits["plain"] > 0, hits
        skipped = {s["source"]: s for s in second["skipped"]}
        assert second["sources_skipped"] == 4 and second["sources_ok"] == 1
        assert (skipped["weekly"]["origin"], skipped["weekly"]["interval"]) == ("registry", 7 * 86400)
        assert (skipped["ttl"]["origin"], skipped["ttl"]["interval"]) == ("ttl", 86400)
        assert (skipped["sy"]["origin"], skipped["sy"]["interval"]) == ("sy:updatePeriod", 43200)
        assert (skipped["cached"]["origin"], skipped["cached"]["interval"]) == ("cache-control", 43200)
        assert all(s["next_due"] for s in skipped.values())

        third, hits = run("--force")
        assert third["sources_skipped"] == 0 and third["sources_ok"] == 5 and all(n > 0 for n in hits.values()), hits

        listing = CliRunner().invoke(cli, ["sources", "--db", db, "--sources", str(folder)]).stdout
        assert re.search(r"next due \S+ \(every 1w, from registry\)", listing)


def test_a_source_no_longer_due_is_fetched_once_its_interval_has_passed(tmp_path, monkeypatch):
    """The API's clock moves a day: the half-day Cache-Control source is due again, the
    weekly one is not."""
    from datetime import datetime, timedelta, timezone

    from pipeline import Syndicate

    monkeypatch.setattr(clustering, "cluster_new_mentions", lambda store, now, **kw: 0)
    folder = tmp_path / "sources"
    folder.mkdir()
    moment = [datetime.now(timezone.utc) + timedelta(minutes=5)]
    with HostileServer() as weekly, HostileServer() as cached:
        partner(weekly)
        partner(cached, feed_headers={"Cache-Control": "max-age=43200"})
        (folder / "weekly.toml").write_text(f'name = "W"\nhomepage = "{weekly.url("/")}"\ninterval = "1w"\n')
        (folder / "cached.toml").write_text(f'name = "C"\nhomepage = "{cached.url("/")}"\n')
        with Syndicate(tmp_path / "s.sqlite", folder, now=lambda: moment[0]) as syn:
            syn.run()
            moment[0] += timedelta(days=1)
            before = len(weekly.hits), len(cached.hits)
            result = syn.run()
            states = {r.source_id: r.state for r in result.sources}
            assert states == {"weekly": "skipped", "cached": "ok"}
            assert len(weekly.hits) == before[0] and len(cached.hits) > before[1]


# --- the README's scheduled job ------------------------------------------------------------

def readme_crontab() -> tuple[dict[str, str], str]:
    """The environment lines and the job line of the README's crontab block."""
    text = (ROOT / "README.md").read_text("utf-8")
    block = re.search(r"```crontab\n(.*?)```", text, re.S).group(1)
    env, job = {}, None
    for line in block.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):
            key, _, value = line.partition("=")
            env[key] = value
        else:
            job = line
    fields = job.split(None, 5)
    assert len(fields) == 6, job
    return env, fields[5]


@pytest.mark.slow  # the job clusters for real: loads the sentence model
def test_the_readme_crontab_line_writes_the_digest_when_a_partner_fails(tmp_path):
    env, command = readme_crontab()
    assert "syndicate scheduled" in command and "&&" not in command.split("syndicate scheduled", 1)[1]
    srv = tmp_path / "srv"
    home = srv / "syndicate"
    (home / ".venv" / "bin").mkdir(parents=True)
    (home / ".venv" / "bin" / "syndicate").symlink_to(ROOT / ".venv" / "bin" / "syndicate")
    sources = home / "sources"
    sources.mkdir()
    shutil.copyfile(DEMO_SOURCES / "tidewell.toml", sources / "tidewell.toml")
    with StaticSiteServer(DEMO_SITES) as server:
        (sources / "gone.toml").write_text(f'name = "Gone Partner"\nhomepage = "{server.base}/gone/"\n')
        run_env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
        run_env.update({k: v.replace("/srv/", f"{srv}/") for k, v in env.items() if k != "SYNDICATE_SMTP"})
        run_env.update(SYNDICATE_DEMO_BASE=server.base, SYNDICATE_ALLOW_PRIVATE="1")
        done = subprocess.run(["sh", "-c", command.replace("/srv/", f"{srv}/")], env=run_env, capture_output=True,
                              text=True, timeout=600)
    assert done.returncode == 1, done.stderr
    assert "error: gone: http-404" in done.stderr
    digests = sorted((srv / "www" / "digest").glob("digest-*.txt"))
    assert digests, done.stderr
    assert (home / "db" / "syndicate.sqlite").is_file()


# --- systemd -------------------------------------------------------------------------------------

def _systemd_analyze() -> str | None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        expected = any(Path(p).exists() for p in ("/lib/systemd/systemd", "/usr/lib/systemd/systemd"))
        if os.environ.get("CI") == "true" and expected:
            pytest.fail("systemd is installed but systemd-analyze is not, and CI=true")
        pytest.skip("systemd-analyze is not installed here (no systemd): the units cannot be verified")
    return tool


def test_the_systemd_units_parse(tmp_path):
    tool = _systemd_analyze()
    out = tmp_path / "units"
    out.mkdir()
    workdir = tmp_path / "srv syndicate"  # a space, to check the quoting
    workdir.mkdir()
    done = CliRunner().invoke(cli, ["systemd", "--out", str(out), "--workdir", str(workdir),
                                    "--exe", str(ROOT / ".venv" / "bin" / "syndicate"), "--",
                                    "--quiet", "--out", str(tmp_path / "www digest"), "--base-url",
                                    "https://example.org/digest%20x", "--metrics", str(tmp_path / "s.prom")])
    assert done.exit_code == 0, done.output
    service, timer = out / "syndicate.service", out / "syndicate.timer"
    assert "ExecStart=" in service.read_text() and "OnCalendar=Mon *-*-* 06:00:00" in timer.read_text()
    check = subprocess.run([tool, "verify", str(service), str(timer)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    assert "ignoring" not in check.stderr and "Unknown" not in check.stderr, check.stderr
    assert '"' + str(tmp_path / "www digest") + '"' in service.read_text()
    assert "digest%%20x" in service.read_text()  # a % is a specifier to systemd: doubled


def test_a_broken_unit_is_caught_by_the_check(tmp_path):
    """The check can fail: a calendar systemd cannot read is refused."""
    tool = _systemd_analyze()
    done = CliRunner().invoke(cli, ["systemd", "--out", str(tmp_path), "--on-calendar", "Mon *-*-* 99:00:00",
                                    "--exe", str(ROOT / ".venv" / "bin" / "syndicate"), "--", "--out", "digest"])
    assert done.exit_code == 0
    check = subprocess.run([tool, "verify", str(tmp_path / "syndicate.timer")], capture_output=True, text=True,
                           timeout=120)
    assert check.returncode != 0 and "calendar" in check.stderr.lower()
