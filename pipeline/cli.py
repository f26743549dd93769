"""The `syndicate` command line: glue over the orchestrator, the store and the publisher.

Every verb takes `--db` (fallback SYNDICATE_DB, default the SQLite file under db/) and,
where it reads the registry, `--sources` (fallback SYNDICATE_SOURCES, default sources/).
Exit status: 0 when everything worked, 1 when a source failed, 2 for usage and
configuration errors.
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
import shutil
import sys
import threading
from datetime import datetime
from pathlib import Path

import click

from .cli_base import PROJECT_ROOT, _emit_jsonl, _Exit, _now, _open_store, _plain, db_option, sources_option
from .errors import ConfigError, LockHeld, ParseError, StoreError, SyndicateError


def _load_sources(folder: Path):
    from .registry import load_sources
    try:
        return load_sources(folder)
    except ConfigError as e:
        raise click.UsageError(str(e)) from e


def _load_registry(folder: Path, only: tuple[str, ...] = ()):
    """The good partner files (filtered by --source) and the bad ones. Exit 2 when no file
    is usable, or when a source asked for by --source is missing or bad."""
    from .registry import load_registry
    try:
        registry = load_registry(folder)
    except ConfigError as e:
        raise click.UsageError(str(e)) from e
    sources, problems = list(registry.sources), list(registry.problems)
    if only:
        bad = {Path(p.path).stem: p for p in problems if p.path}
        unknown = sorted(set(only) - {s.id for s in sources} - set(bad))
        if unknown:
            raise click.BadParameter(f"no such source(s) in {folder}: {', '.join(unknown)}", param_hint="--source")
        if set(only) & set(bad):
            raise click.UsageError("\n".join(str(bad[i]) for i in sorted(set(only) & set(bad))))
        sources = [s for s in sources if s.id in only]
        problems = []
    if not sources:
        raise click.UsageError("no usable partner file:\n" + "\n".join(str(p) for p in problems))
    return sources, problems


class _Progress:
    """A progress bar on a terminal, plain log lines otherwise."""

    def __init__(self, total: int, quiet: bool):
        self.quiet = quiet
        self.total = total
        self.done = 0
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="source", desc="ingesting", file=sys.stderr)

    def __call__(self, source_id: str, report) -> None:
        self.done += 1
        state = "ok" if report.ok else f"FAILED ({report.errors[0].kind}: {report.errors[0].message})"
        if report.interrupted:
            state = "interrupted"
        line = (f"[{self.done}/{self.total}] {source_id}: {state}; {report.articles_seen} article(s), "
                f"{report.new_articles} new, {report.new_revisions} revised")
        if self.bar is not None:
            self.bar.set_postfix_str(source_id)
            self.bar.update(1)
            if not report.ok:
                self.bar.write(line)
        elif not self.quiet:
            click.echo(line, err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="syndicate")
@click.option("-v", "--verbose", is_flag=True, help="Log every request and decision to stderr.")
def cli(verbose: bool) -> None:
    """Syndicate: ingest partner blogs, extract and deduplicate their claims, publish a digest.

    \b
    Quick start:
      syndicate demo                      # the whole pipeline on the bundled sample sites
      syndicate run --sources sources/    # ingest every partner once
      syndicate digest --week 2026-W47    # write the weekly digest
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR,
                        format="%(levelname)s %(name)s: %(message)s")


def _run(sources_dir: Path, db: str | None, *, workers: int | None, min_delay: float, contact: str | None,
         quiet: bool, as_json: bool, only: tuple[str, ...] = (), recheck_days: float = 6.0,
         source_budget: float | None = None, wait: bool = False) -> int:
    from datetime import timedelta

    from .control import EXIT_INTERRUPTED, StopOnSignal
    from .fetch import FetchConfig
    from .orchestrator import run_sources, summarize

    def stopping(_signum: int) -> None:
        click.echo("syndicate: interrupted; storing what was fetched (again to quit at once)", err=True)

    with StopOnSignal(stopping) as signals:
        sources, registry_problems = _load_registry(sources_dir, only)
        for problem in registry_problems:  # reported first, so they are not lost in a long run
            click.echo(_plain(f"error: registry: {problem}"), err=True)
        store = _open_store(db, create=True)
        config = FetchConfig(min_delay=min_delay, **({"user_agent_contact": contact} if contact else {}),
                             **({"source_budget": source_budget} if source_budget else {}))
        with _writer(store, "syndicate run", wait=wait, stop=signals.event):
            progress = _Progress(len(sources), quiet or as_json)
            try:
                report = run_sources(sources, store, fetch_config=config, workers=workers, progress=progress,
                                     recheck_after=timedelta(days=recheck_days), stop=signals.event)
            finally:
                progress.close()
    summary = summarize(report)
    summary["registry_errors"] = [dict(path=p.path, message=str(p)) for p in registry_problems]
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not quiet:
        click.echo(f"sources: {summary['sources_ok']} ok, {summary['sources_failed']} failed; "
                   f"requests: {summary['requests']} ({summary['not_modified']} not modified); "
                   f"articles: {summary['articles_seen']} seen, {summary['new_articles']} new, "
                   f"{summary['new_revisions']} revised; new claims: {summary['new_claims']}"
                   + (f"; retries: {summary['retries']}" if summary.get("retries") else "")
                   + (f"; blocked by robots.txt: {summary['robots_blocked']}" if summary.get("robots_blocked") else "")
                   + (f"; bad registry files: {len(registry_problems)}" if registry_problems else "")
                   + (f"; off-scope URLs not fetched: {summary['off_scope']}" if summary.get("off_scope") else "")
                   + (f"; sources with warnings: {summary['sources_warned']}" if summary.get("sources_warned") else ""))
        for err in summary["errors"]:
            click.echo(_plain(f"error: {err['source']}: {err['kind']}: {err['message']}"
                              + (f" ({err['url']})" if err["url"] else "")), err=True)
    if report.interrupted:
        done = sum(not r.interrupted for r in report.sources)
        click.echo(f"syndicate: run interrupted: {done} of {len(sources)} source(s) complete, "
                   f"{len(report.sources) - done} in part; what was fetched is stored, the rest is for the next "
                   "run, which also clusters the claims (or `syndicate digest` does)", err=True)
        return EXIT_INTERRUPTED
    store.close()
    return 0 if report.ok and not registry_problems else 1


@cli.command()
@sources_option
@db_option
@click.option("--workers", type=int, default=None, help="Sources fetched at once (one request per host at a time) [default: 32].")
@click.option("--recheck-days", type=float, default=6.0, show_default=True, metavar="DAYS",
              help="Stored pages listed by an unchanged feed or sitemap are re-validated once their last "
                   "check is older than this (a changed listing always re-validates them).")
@click.option("--min-delay", default=0.0, show_default=True, metavar="SECONDS",
              help="Pause between two requests to one host (a robots.txt Crawl-delay may ask for more).")
@click.option("--source-budget", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="Time one source may take in a run, retries and crawl delays included; what is left "
                   "is fetched next run [default: 300].")
@click.option("--contact", envvar="SYNDICATE_CONTACT", metavar="URL",
              help="Contact URL sent in the User-Agent [env SYNDICATE_CONTACT].")
@click.option("--source", "only", multiple=True, metavar="ID",
              help="Only this source (repeatable); default: every file in the registry.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option("--wait", is_flag=True, help="If another run holds the database's run lock, wait for it "
                                           "instead of exiting (status 75).")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
def run(sources_dir: Path, db: str | None, workers: int | None, recheck_days: float, min_delay: float,
        source_budget: float | None, contact: str | None, only: tuple[str, ...], as_json: bool, wait: bool,
        quiet: bool) -> None:
    """Ingest every source once: discover, fetch, extract, store, cluster claims.

    Exits 1 when any source failed or a registry file is bad (the other sources still run
    and are stored), 2 when no registry file is usable, 75 when another run holds the
    database (it is named; --wait waits instead), 130 when interrupted (Ctrl-C or SIGTERM:
    what was fetched is stored and the run is recorded as interrupted).

    \b
    Example:
      syndicate run --sources sources/ --db db/syndicate.sqlite
      syndicate run --wait --quiet    # from cron: queue behind a run still going
    """
    code = _run(sources_dir, db, workers=workers, min_delay=min_delay, contact=contact, source_budget=source_budget,
                quiet=quiet, as_json=as_json, only=only, recheck_days=recheck_days, wait=wait)
    if code == 130 and threading.active_count() > 1:
        from .control import exit_now
        exit_now(code)  # fetches still blocked on a socket must not hold the exit
    sys.exit(code)


@cli.command()
@db_option
@click.option("--week", default="last", show_default=True, metavar="last|this|YYYY-Www",
              help="ISO week: 'last' (the last complete week), 'this', or e.g. 2026-W47.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("digest"),
              show_default=True, help="Folder the digest, its archive (index.html) and feed.atom are written to.")
@click.option("--base-url", envvar="SYNDICATE_BASE_URL", metavar="URL",
              help="Where --out is published on the web: absolute links in the feed (self link) and email "
                   "[env SYNDICATE_BASE_URL].")
@click.option("--email-to", "email_to", multiple=True, metavar="ADDRESS",
              help="Email the digest to these recipients (repeatable): sent with --smtp, else written as .eml.")
@click.option("--email-from", default="digest@syndicate.invalid", show_default=True, metavar="ADDRESS",
              help="Sender of the email.")
@click.option("--smtp", "smtp_url", envvar="SYNDICATE_SMTP", metavar="URL",
              help="SMTP server, smtp://host:587 (STARTTLS required) or smtps://host:465; login from "
                   "SYNDICATE_SMTP_USER and SYNDICATE_SMTP_PASSWORD [env SYNDICATE_SMTP].")
@click.option("--dry-run", is_flag=True, help="Write the .eml message instead of sending it.")
def digest(db: str | None, week: str, out_dir: Path, base_url: str | None, email_to: tuple[str, ...],
           email_from: str, smtp_url: str | None, dry_run: bool) -> None:
    """Write the digest of an ISO week (default: the last complete one) as HTML, Markdown,
    plain text and JSON, its full version, the archive index and feed.atom; optionally email
    it. Prints the paths written.

    \b
    Examples:
      syndicate digest --out /srv/www/digest --base-url https://example.org/digest
      syndicate digest --week 2026-W47 --email-to editor@example.org --smtp smtp://mail.example.org:587
      syndicate digest --week this --email-to editor@example.org --dry-run
    """
    from .publish import Week, write_digest
    from .publish.mail import DeliveryError, build_message, send, write_eml
    try:
        wk = Week.parse(week, now=_now())
    except ConfigError as e:
        raise click.BadParameter(str(e), param_hint="--week") from e
    if base_url and not base_url.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http(s) URL", param_hint="--base-url")
    store = _open_store(db)
    from .control import cluster_pending
    cluster_pending(store, _now(), lambda message: click.echo(message, err=True))
    published = write_digest(store.digest_week(wk.start, wk.end), wk, out_dir, generated_at=_now(),
                             base_url=base_url)
    for path in published.paths:
        click.echo(str(path))
    for reason in published.digest.refused:
        click.echo(f"warning: left out an unattributed item: {reason}", err=True)
    if email_to:
        if not base_url:
            click.echo("warning: no --base-url: the email's links to the full version are relative "
                       "and will not open from a mail client", err=True)
        msg = build_message(published.texts, str(wk), sender=email_from, recipients=list(email_to))
        if smtp_url and not dry_run:
            try:
                send(msg, smtp_url)
            except (ConfigError, DeliveryError) as e:
                raise click.ClickException(str(e)) from e
            click.echo(f"sent to {', '.join(email_to)}")
        else:
            click.echo(str(write_eml(msg, out_dir / f"digest-{wk}.eml")))


@contextmanager
def _writer(store, purpose: str, *, wait: bool = False, stop=None):
    """The run lock for a verb that writes: exit 75 naming the holder when another process
    has it (with `wait`, wait for it instead), 130 when interrupted while waiting."""
    from .control import EXIT_INTERRUPTED, EXIT_LOCKED, Interrupted, run_lock

    def waiting(holder) -> None:
        click.echo(f"syndicate: waiting for the run lock, held by {holder.describe()}", err=True)

    try:
        with run_lock(store, purpose, wait=wait, stop=stop, on_wait=waiting) as lock:
            yield lock
    except LockHeld as e:
        hint = "pass --wait to wait for it" if purpose == "syndicate run" else "try again when it has finished"
        raise _Exit(f"{e}; {hint}", EXIT_LOCKED) from e
    except Interrupted as e:
        raise _Exit(str(e), EXIT_INTERRUPTED) from e


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of a table.")
def sources(db: str | None, as_json: bool) -> None:
    """List sources with their health: last success, last error, consecutive failures.

    \b
    Example:
      syndicate sources
    """
    rows = _open_store(db).source_health()
    if as_json:
        return _emit_jsonl(rows)
    if not rows:
        click.echo("no sources yet: run `syndicate run` first")
        return
    click.echo(f"{'source':<16} {'articles':>8} {'last success':<21} {'fails':>5} {'warns':>5} "
               f"{'off-scope':>9}  last error")
    for r in rows:
        err = f"{r['last_error_kind']}: {r['last_error_message']} ({r['last_error_url']})" if r["last_error_kind"] else "-"
        click.echo(f"{r['id']:<16} {r['articles']:>8} {r['last_success'] or 'never':<21} "
                   f"{r['consecutive_failures']:>5} {r['warnings']:>5} {r['off_scope']:>9}  {_plain(err)}")
        if r["last_warning"]:
            click.echo(f"{'':<16} warning: {_plain(r['last_warning'])}")


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="PATH_OR_URL...")
@click.option("--json", "as_json", is_flag=True,
              help="JSON with metadata, sentences, FAQ and footnotes (JSON Lines for several inputs).")
@click.option("--name", metavar="NAME", help="The partner's name, to recognise its self-promotion.")
def extract(inputs: tuple[str, ...], as_json: bool, name: str | None) -> None:
    """Extract the article from HTML files, URLs, or - for standard input.

    Input that is not an HTML page (a PDF, an image, an executable, plain text) is refused
    with an error, as is a file over the size cap of fetched pages; the exit status is 1
    when any input failed.

    \b
    Examples:
      syndicate extract page.html
      curl -s https://example.org/post/ | syndicate extract - --json
      syndicate extract a.html b.html --json > articles.jsonl
    """
    from .extract import article_to_dict, extract_article, read_page_input
    from .fetch import Fetcher, FetchConfig
    from .types import Source

    failed = False
    fetcher = None
    limit = FetchConfig().max_bytes  # the same cap as a fetched page
    for item in inputs:
        try:
            if item == "-":
                html, url = read_page_input(sys.stdin.buffer, limit), "stdin:"
            elif item.startswith(("http://", "https://")):
                fetcher = fetcher or Fetcher()
                resp = fetcher.get(item, accept="text/html")
                html, url = resp.body, resp.final_url
                read_page_input(None, limit, data=html)
            else:
                path = Path(item)
                with path.open("rb") as f:
                    html = read_page_input(f, limit)
                url = path.resolve().as_uri()
            source = Source(id="cli", name=name, homepage=url) if name else None
            article = extract_article(html, url, source=source)
            if not article.text.strip() and not article.sentences:
                raise ParseError("no article text found in the page", url, kind="empty")
        except (OSError, SyndicateError) as e:
            click.echo(f"error: {item}: {e}", err=True)
            failed = True
            continue
        if as_json:
            row = article_to_dict(article)
            if len(inputs) > 1:
                row = {"path": item, **row}
                click.echo(json.dumps(row, ensure_ascii=False, default=str))
            else:
                click.echo(json.dumps(row, ensure_ascii=False, indent=2, default=str))
        else:
            if len(inputs) > 1:
                click.echo(f"==> {item} <==")
            click.echo(article.text)
    if fetcher is not None:
        fetcher.close()
    sys.exit(1 if failed else 0)


@cli.command()
@sources_option
@db_option
def reprocess(sources_dir: Path, db: str | None) -> None:
    """Extract again from the stored snapshots, without fetching anything.

    A new revision is stored only where the extraction result changed.

    \b
    Example:
      syndicate reprocess --db db/syndicate.sqlite
    """
    from .orchestrator import reprocess as do_reprocess
    from .registry import load_registry
    try:
        srcs = list(load_registry(sources_dir).sources)
    except ConfigError:
        srcs = []
    store = _open_store(db)
    with _writer(store, "syndicate reprocess"):
        report = do_reprocess(store, srcs)
    for r in report.sources:
        click.echo(f"{r.source_id}: {r.articles_seen} article(s), {r.new_revisions} new revision(s)"
                   + "".join(f"; error {e.kind}: {e.message}" for e in r.errors))
    sys.exit(0 if report.ok else 1)


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=PROJECT_ROOT / "out" / "demo", show_default="out/demo",
              help="Folder for the demo database and digest (emptied first).")
def demo(out_dir: Path) -> None:
    """Serve the bundled sample partner sites on 127.0.0.1, run the whole pipeline into a
    fresh database, write the digest and print a summary.

    \b
    Example:
      syndicate demo --out /tmp/syndicate-demo
    """
    from .demo import DEMO_SITES, DEMO_SOURCES, StaticSiteServer, demo_environment
    from .fetch import FetchConfig
    from .orchestrator import run_sources
    from .publish import Week, write_digest

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    db = f"sqlite:///{(out_dir / 'syndicate.sqlite').resolve()}"
    with StaticSiteServer(DEMO_SITES) as server:
        demo_environment(server.base)
        click.echo(f"serving the sample partner sites at {server.base}/", err=True)
        srcs = _load_sources(DEMO_SOURCES)
        store = _open_store(db, create=True)
        progress = _Progress(len(srcs), quiet=False)
        report = run_sources(srcs, store, fetch_config=FetchConfig(), progress=progress)
        progress.close()
    articles = list(store.export_articles())
    claims = list(store.export_claims())
    merged = [c for c in claims if len(c["sites"]) > 1]
    newest = max((a["published"] for a in articles if a["published"]), default=None)
    week = Week.containing(datetime.fromisoformat(newest.replace("Z", "+00:00")) if newest else _now())
    paths = write_digest(store.digest_week(week.start, week.end), week, out_dir, generated_at=_now()).paths
    click.echo(f"sources:       {len(report.sources)} ({sum(r.ok for r in report.sources)} ok)")
    click.echo(f"articles:      {len(articles)}")
    click.echo(f"claims:        {len(claims)}")
    click.echo(f"merged claims: {len(merged)} (stated by two or more partners)")
    click.echo(f"database:      {out_dir / 'syndicate.sqlite'}")
    for p in paths:
        click.echo(f"digest:        {p}")
    for r in report.sources:
        for e in r.errors:
            click.echo(f"error: {r.source_id}: {e.kind}: {e.message} ({e.url})", err=True)
    sys.exit(0 if report.ok else 1)


@cli.group()
def claims() -> None:
    """Inspect canonical claims and record editor overrides.

    Overrides are stored and respected by every later run.

    \b
    Examples:
      syndicate claims show 12
      syndicate claims merge 12 31
      syndicate claims split 12 140 141
      syndicate claims pin 12 140
      syndicate claims review
      syndicate claims hide --mention 140
    """


@claims.command("show")
@click.argument("claim_id", type=int)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def claims_show(claim_id: int, db: str | None, as_json: bool) -> None:
    """Show a claim: canonical text with the site it comes from, conflicting figures among
    its members, every member (its own sentence) with its site, article and revision, and
    how each membership was decided (method and score).

    \b
    Example:
      syndicate claims show 12
    """
    detail = _open_store(db).claim_detail(claim_id)
    if detail is None:
        raise click.ClickException(f"no claim {claim_id}")
    if as_json:
        click.echo(json.dumps(detail, indent=2, ensure_ascii=False))
        return
    click.echo(f"claim {detail['claim_id']} ({detail['status']}"
               + (f", merged into {detail['merged_into']}" if detail["merged_into"] else "") + ")")
    click.echo(f"  [{detail['canonical_site'] or '-'}] {detail['text']}")
    click.echo(f"  sites: {', '.join(detail['sites']) or '-'}; first stated by {detail['first_site'] or '-'}"
               f" ({detail['first_seen'] or '?'})")
    for c in detail["conflicts"]:
        click.echo(f"  CONFLICT ({c['kind']}): "
                   + "; ".join(f"{x['site']} says {x['figure']}" for x in c["statements"]))
    for m in detail["members"]:  # each partner's own sentence
        click.echo(f"  - mention {m['mention_id']} [{m['site']}] {m['method']} {m['score']:.2f}: {m['text']}")
        click.echo(f"      {m['article_url']} (revision {m['revision']}, position {m['position']})")
    for o in detail["overrides"]:
        click.echo(f"  override: {o['action']} {o['claim_id']} {o['other_claim_id'] or ''} "
                   f"{o['mention_ids'] or ''} at {o['created_at']}")


@claims.command("rebuild")
@db_option
def claims_rebuild(db: str | None) -> None:
    """Re-cluster every current claim mention from scratch. Claims that carry on keep their
    ids, editor overrides hold, ids of claims that vanish are retired, never reused.

    \b
    Example:
      syndicate claims rebuild --db db/syndicate.sqlite
    """
    from .orchestrator import rebuild_claims
    store = _open_store(db)
    with _writer(store, "syndicate claims rebuild"):
        moved = rebuild_claims(store, _now())
    click.echo(f"rebuilt: {moved} membership(s) changed")


def _override(action, *args) -> None:
    from .orchestrator import refresh_claims
    store = _open_store(args[-1])
    with _writer(store, "syndicate claims (editor override)"):
        try:
            result = action(store, *args[:-1])
        except StoreError as e:
            raise click.ClickException(str(e)) from e
        refresh_claims(store, _now())
    return result


@claims.command("merge")
@click.argument("keep", type=int)
@click.argument("other", type=int)
@db_option
def claims_merge(keep: int, other: int, db: str | None) -> None:
    """Merge claim OTHER into claim KEEP (KEEP's id stays).

    \b
    Example:
      syndicate claims merge 12 31
    """
    _override(lambda st, a, b: st.merge_claims(a, b, _now()), keep, other, db)
    click.echo(f"claim {other} merged into {keep}")


@claims.command("split")
@click.argument("claim_id", type=int)
@click.argument("mention_ids", type=int, nargs=-1, required=True)
@db_option
def claims_split(claim_id: int, mention_ids: tuple[int, ...], db: str | None) -> None:
    """Move the given member mentions of CLAIM_ID into a new claim.

    \b
    Example:
      syndicate claims split 12 140 141
    """
    new_id = _override(lambda st, c, ms: st.split_claim(c, ms, _now()), claim_id, mention_ids, db)
    click.echo(f"mentions {', '.join(map(str, mention_ids))} now form claim {new_id}")


@claims.command("pin")
@click.argument("claim_id", type=int)
@click.argument("mention_id", type=int, required=False)
@db_option
def claims_pin(claim_id: int, mention_id: int | None, db: str | None) -> None:
    """Pin a claim: its canonical text becomes MENTION_ID's (default: the current one) and
    its current members are fixed, so no later run moves them.

    \b
    Example:
      syndicate claims pin 12 140
    """
    pinned = _override(lambda st, c, m: st.pin_claim(c, m, _now()), claim_id, mention_id, db)
    click.echo(f"claim {claim_id} pinned to mention {pinned}")


# The researchers' verbs (export, search, browse, snapshot, claims list) live in cli_research.
from .cli_research import register as _register_research  # noqa: E402

_register_research(cli, claims)

from .cli_review import COMMANDS as _review_commands  # noqa: E402

for _command in _review_commands:  # claims review, hide, unhide
    claims.add_command(_command)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except SyndicateError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
