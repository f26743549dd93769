"""Partner health end to end, over real HTTP on loopback into a real SQLite file: the demo
partners' sites (a copy in the test's folder, served by pipeline.demo.StaticSiteServer)
and pages turned into what issue 18 found going unnoticed: an article that renders with
JavaScript only, a page turned into a maintenance notice, a revision that drops most of
an article. Each degrades the partner without losing its last good version; the same
version seen on a later run (or accepted by an editor) replaces it; recovering makes the
partner healthy again; the degraded partner is named in the run's result and summary, in
`syndicate sources`, in the digest; exit statuses tell degraded (3) from failed (1) and
from success (0), and --quiet never hides them.

The sentence model is replaced by a small hashing embedder (tests/fixtures/embedders.py)
in the API tests, and clustering is stubbed out in the command-line ones: health does not
depend on either."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import Syndicate, clustering
from pipeline.cli import cli
from pipeline.demo import DEMO_SITES, DEMO_SOURCES, StaticSiteServer
from pipeline.publish import Week

from fixtures.embedders import HashEmbedder

FIXTURES = Path(__file__).parent / "fixtures" / "health"
ARTICLE = "alderbrook/blog/alcohol-and-sleep-early-recovery/index.html"
OPEN_HOUSE = "alderbrook/blog/fall-open-house/index.html"
TIDEWELL = "tidewell/blog/why-sleep-feels-broken-after-you-quit-drinking/index.html"
MAINTENANCE_LINE = "Our website is undergoing scheduled maintenance."


class Sites:
    """A copy of the demo sites, served on loopback; pages can be swapped under the server."""

    def __init__(self, root: Path, server: StaticSiteServer):
        self.root, self.server = root, server

    def url(self, page: str) -> str:
        return f"{self.server.base}/{page.removesuffix('index.html')}"

    def replace(self, page: str, body: bytes) -> None:
        (self.root / page).write_bytes(body)

    def restore(self, page: str) -> None:
        shutil.copyfile(DEMO_SITES / page, self.root / page)

    def served(self, page: str) -> bytes:
        return (self.root / page).read_bytes().replace(b"{{base}}", self.server.base.encode())


@pytest.fixture()
def sites(tmp_path, monkeypatch):
    root = tmp_path / "sites"
    shutil.copytree(DEMO_SITES, root)
    with StaticSiteServer(root) as server:
        monkeypatch.setenv("SYNDICATE_DEMO_BASE", server.base)  # sources/*.toml point there
        yield Sites(root, server)


class Clock:
    """The API's clock: a day apart between runs (the demo's WordPress feeds ask for an
    hour between reads), starting after the real time (pages' check times are real)."""

    def __init__(self) -> None:
        self.t = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)

    def __call__(self) -> datetime:
        return self.t

    def next_day(self) -> None:
        self.t += timedelta(days=1)


@pytest.fixture()
def syn(tmp_path, sites):
    clock = Clock()
    with Syndicate(tmp_path / "s.sqlite", DEMO_SOURCES, embedder=HashEmbedder(), now=clock) as s:
        s.clock = clock
        yield s


def sentences(syn: Syndicate, url: str) -> list[str]:
    return [m["text"] for m in syn.export("mentions") if m["article_url"] == url]


def by_id(result):
    return {r.source_id: r for r in result.sources}


def health_of(syn: Syndicate, source_id: str):
    return next(h for h in syn.source_health() if h.id == source_id)


def test_a_javascript_shell_and_a_maintenance_page_degrade_the_partner_and_keep_its_last_good_version(syn, sites):
    assert syn.run().outcome == "ok"
    article, open_house = sentences(syn, sites.url(ARTICLE)), sentences(syn, sites.url(OPEN_HOUSE))
    assert len(article) > 40 and len(open_house) > 5
    syn.clock.next_day()
    week = Week.containing(syn.clock())
    digest_before, w47_before = syn.digest(week).full, syn.digest("2026-W47").full

    sites.replace(ARTICLE, (FIXTURES / "js-shell.html").read_bytes())
    sites.replace(OPEN_HOUSE, (FIXTURES / "maintenance.html").read_bytes())
    result = syn.run(recheck_after=timedelta(0))

    assert (result.outcome, result.failed, result.degraded) == ("degraded", False, True)
    alderbrook = by_id(result)["alderbrook"]
    assert alderbrook.state == "degraded" and alderbrook.held == 2 and alderbrook.new_revisions == 0
    kinds = {(h.kind, h.url) for h in alderbrook.health}
    assert {("js-shell", sites.url(ARTICLE)), ("maintenance", sites.url(OPEN_HOUSE)),
            ("revision-drop", sites.url(ARTICLE)), ("revision-drop", sites.url(OPEN_HOUSE))} <= kinds
    assert all(r.state == "ok" for r in result.sources if r.source_id != "alderbrook")
    summary = result.summary()
    assert summary["sources_degraded"] == 1 and summary["pages_held"] == 2 and summary["outcome"] == "degraded"
    assert {d["source"] for d in summary["degraded"]} == {"alderbrook"}

    # the last good versions stay current; the notice never becomes a claim
    assert sentences(syn, sites.url(ARTICLE)) == article
    assert sentences(syn, sites.url(OPEN_HOUSE)) == open_house
    assert not [m for m in syn.export("mentions") if m["text"] == MAINTENANCE_LINE]
    # the suspicious versions are kept as raw snapshots
    held = {p.url: p for p in syn.held_pages("alderbrook")}
    assert set(held) == {sites.url(ARTICLE), sites.url(OPEN_HOUSE)}
    store = syn.store()
    assert store.snapshot_body(held[sites.url(ARTICLE)].snapshot_sha256) == sites.served(ARTICLE)
    assert store.snapshot_body(held[sites.url(OPEN_HOUSE)].snapshot_sha256) == sites.served(OPEN_HOUSE)

    state = health_of(syn, "alderbrook")
    assert (state.state, state.since) == ("degraded", syn.clock())
    assert {"js-shell", "maintenance"} <= {r.kind for r in state.reasons} and len(state.held) == 2
    assert state.next_due is None  # a degraded partner is read at every run

    # the digest: unchanged but for the editor's note naming the partner
    after = syn.digest(week).full
    assert dataclasses.replace(after, partner_notes=()) == dataclasses.replace(digest_before, partner_notes=())
    (note,) = after.partner_notes
    assert (note.site, note.site_name, note.state) == ("alderbrook", "Alderbrook Recovery Center", "degraded")
    assert "JavaScript" in note.text and "maintenance" in note.text
    assert syn.digest("2026-W47").full == w47_before  # a week its runs did not harvest is untouched

    # recovery: the pages come back, the partner is healthy, nothing is held
    sites.restore(ARTICLE)
    sites.restore(OPEN_HOUSE)
    syn.clock.next_day()
    recovered = syn.run(recheck_after=timedelta(0))
    assert recovered.outcome == "ok" and by_id(recovered)["alderbrook"].state == "ok"
    state = health_of(syn, "alderbrook")
    assert (state.state, state.since, state.held, state.reasons) == ("healthy", syn.clock(), (), ())
    assert sentences(syn, sites.url(ARTICLE)) == article and not syn.held_pages()


def _cut_to_first_paragraph(html: bytes) -> bytes:
    """The article with every content block after its first paragraph removed."""
    lines, out, first = html.decode().splitlines(keepends=True), [], None
    for line in lines:
        block = line.lstrip().startswith(("<p>", "<h2", "<h3", "<ul", "</ul", "<li", "<blockquote", "</blockquote"))
        if block and first is None and line.lstrip().startswith("<p>Ask anyone"):
            first = line
        elif block and first is not None and "</article>" not in line:
            continue
        out.append(line)
    return "".join(out).encode()


def test_a_revision_dropping_most_sentences_is_held_until_seen_again_on_a_later_run(syn, sites):
    syn.run()
    good = sentences(syn, sites.url(TIDEWELL))
    cut = _cut_to_first_paragraph((DEMO_SITES / TIDEWELL).read_bytes())
    sites.replace(TIDEWELL, cut)
    syn.clock.next_day()
    result = syn.run(recheck_after=timedelta(0))
    tidewell = by_id(result)["tidewell"]
    assert tidewell.state == "degraded" and tidewell.held == 1
    assert [h.kind for h in tidewell.health] == ["revision-drop"]
    assert sentences(syn, sites.url(TIDEWELL)) == good

    syn.clock.next_day()  # the same version again, a day later: believed
    confirmed = by_id(syn.run(recheck_after=timedelta(0)))["tidewell"]
    assert confirmed.held == 0 and confirmed.new_revisions == 1
    assert "confirmed" in [h.kind for h in confirmed.health]
    now = sentences(syn, sites.url(TIDEWELL))
    assert 0 < len(now) < len(good) / 4 and now[0] == good[0]
    assert not syn.held_pages()

    syn.clock.next_day()  # nothing new: healthy again
    assert by_id(syn.run())["tidewell"].state == "ok"
    assert health_of(syn, "tidewell").state == "healthy"


def test_an_editor_accepts_what_a_partner_serves_now(syn, sites):
    syn.run()
    sites.replace(ARTICLE, (FIXTURES / "js-shell.html").read_bytes())
    syn.clock.next_day()
    assert syn.run(recheck_after=timedelta(0)).degraded
    done = syn.accept_source("alderbrook")
    assert done.accepted == (sites.url(ARTICLE),) and done.skipped == ()
    assert done.health.state == "healthy" and done.health.held == ()
    assert len(sentences(syn, sites.url(ARTICLE))) == 2  # the shell's own two sentences, as the editor chose
    assert syn.store().count_unclustered() == 0  # clustered as part of the acceptance
    with pytest.raises(Exception, match="no source"):
        syn.accept_source("nosuch")


@pytest.mark.postgres
def test_health_on_postgresql(pg_url, sites):
    """The schema change on the other engine: held pages, the source's state and its runs."""
    clock = Clock()
    with Syndicate(pg_url, DEMO_SOURCES, embedder=HashEmbedder(), now=clock) as syn:
        syn.run(only=["alderbrook"])
        good = sentences(syn, sites.url(ARTICLE))
        sites.replace(ARTICLE, (FIXTURES / "js-shell.html").read_bytes())
        clock.next_day()
        result = syn.run(only=["alderbrook"], recheck_after=timedelta(0))
        assert result.outcome == "degraded" and by_id(result)["alderbrook"].held == 1
        assert sentences(syn, sites.url(ARTICLE)) == good
        state = health_of(syn, "alderbrook")
        assert state.state == "degraded" and state.since == clock() and len(state.held) == 1
        (status,) = syn.digest_week(Week.containing(clock())).partner_status
        assert (status.site, status.state) == ("alderbrook", "degraded") and "js-shell" in status.kinds
        sites.restore(ARTICLE)
        clock.next_day()
        assert syn.run(only=["alderbrook"], recheck_after=timedelta(0)).outcome == "ok"
        assert health_of(syn, "alderbrook").state == "healthy" and not syn.held_pages()


# --- the command line ------------------------------------------------------------------------

@pytest.fixture()
def no_clustering(monkeypatch):
    monkeypatch.setattr(clustering, "cluster_new_mentions", lambda store, now, **kw: 0)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_exit_statuses_tell_degraded_from_failed_and_quiet_never_hides_them(sites, tmp_path, no_clustering):
    db = str(tmp_path / "cli.sqlite")
    folder = tmp_path / "sources"
    shutil.copytree(DEMO_SOURCES, folder)
    first = invoke("run", "--sources", str(folder), "--db", db, "--quiet")
    assert (first.exit_code, first.stdout, first.stderr) == (0, "", "")

    sites.replace(ARTICLE, (FIXTURES / "js-shell.html").read_bytes())
    degraded = invoke("run", "--sources", str(folder), "--db", db, "--quiet", "--force", "--recheck-days", "0")
    assert degraded.exit_code == 3 and degraded.stdout == ""
    assert f"degraded: alderbrook: js-shell: " in degraded.stderr and sites.url(ARTICLE) in degraded.stderr

    listing = invoke("sources", "--db", db).stdout
    row = next(line for line in listing.splitlines() if line.startswith("alderbrook "))
    assert "degraded" in row
    assert "why: js-shell:" in listing and "1 page(s) held aside (syndicate sources accept alderbrook)" in listing
    rows = [json.loads(line) for line in invoke("sources", "--db", db, "--json").stdout.splitlines()]
    alderbrook = next(r for r in rows if r["id"] == "alderbrook")
    assert alderbrook["state"] == "degraded" and alderbrook["since"] and alderbrook["held"][0]["url"] == \
        sites.url(ARTICLE)

    (folder / "gone.toml").write_text(f'name = "Gone Partner"\nhomepage = "{sites.server.base}/gone/"\n')
    failed = invoke("run", "--sources", str(folder), "--db", db, "--quiet", "--force", "--recheck-days", "0",
                    "--json")
    assert failed.exit_code == 1
    summary = json.loads(failed.stdout)
    assert summary["outcome"] == "failed" and summary["sources_failed"] == 1 and summary["sources_degraded"] == 1
    assert "error: gone: http-404" in failed.stderr and "degraded: alderbrook" in failed.stderr

    accepted = invoke("sources", "--db", db, "accept", "alderbrook")
    assert accepted.exit_code == 0 and "alderbrook: healthy" in accepted.stdout
    assert invoke("sources", "--db", db, "accept", "nosuch").exit_code == 2


def test_scheduled_writes_the_digest_when_a_partner_fails_and_names_it(sites, tmp_path, no_clustering):
    db, out = str(tmp_path / "job.sqlite"), tmp_path / "digest"
    folder = tmp_path / "sources"
    shutil.copytree(DEMO_SOURCES, folder)
    (folder / "gone.toml").write_text(f'name = "Gone Partner"\nhomepage = "{sites.server.base}/gone/"\n')
    done = invoke("scheduled", "--sources", str(folder), "--db", db, "--quiet", "--week", "this", "--out", str(out))
    assert done.exit_code == 1, done.output
    assert done.stdout == "" and "error: gone: http-404" in done.stderr
    week = str(Week.parse("this", now=datetime.now(timezone.utc)))
    text = (out / f"digest-{week}.txt").read_text()
    assert "EDITOR'S NOTE" in text and "Gone Partner could not be read" in text
    assert json.loads((out / f"digest-{week}.json").read_text())["partner_notes"][0]["site"] == "gone"


def test_json_logs_and_a_metrics_file(sites, tmp_path, no_clustering):
    db, metrics = str(tmp_path / "m.sqlite"), tmp_path / "textfile" / "syndicate.prom"
    metrics.parent.mkdir()
    folder = tmp_path / "sources"
    shutil.copytree(DEMO_SOURCES, folder)
    (folder / "gone.toml").write_text(f'name = "Gone Partner"\nhomepage = "{sites.server.base}/gone/"\n')
    done = invoke("--log-format", "json", "run", "--sources", str(folder), "--db", db, "--metrics", str(metrics))
    assert done.exit_code == 1
    events = [json.loads(line) for line in done.stderr.splitlines()]  # every line on stderr is a JSON object
    assert all({"ts", "level", "event", "message"} <= set(e) for e in events)
    assert [e["source"] for e in events if e["event"] == "source_done"] and \
        {e["source"] for e in events if e["event"] == "source_done"} == {p.stem for p in folder.glob("*.toml")}
    error = next(e for e in events if e["event"] == "source_error")
    assert (error["level"], error["source"], error["kind"]) == ("error", "gone", "http-404")

    text = metrics.read_text()
    sample = re.compile(r'^[a-z_:][a-z0-9_:]*(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+$')
    for line in text.splitlines():
        assert line.startswith(("# HELP ", "# TYPE ")) or sample.match(line), line
    values = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if not line.startswith("#")}
    assert values['syndicate_run_sources{state="failed"}'] == 1
    assert values['syndicate_run_sources{state="ok"}'] == 4
    assert values['syndicate_run_outcome{outcome="failed"}'] == 1
    assert values["syndicate_run_requests"] > 0 and values["syndicate_run_bytes"] > 10_000
    assert values["syndicate_run_new_articles"] == 10 and values["syndicate_run_new_mentions"] > 100
    assert values['syndicate_source_state{source="gone",state="failed"}'] == 1
    assert not [p for p in metrics.parent.iterdir() if p != metrics]  # written atomically: no temp file left
