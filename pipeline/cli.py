"""The `syndicate` command line: thin glue over the library API (`pipeline.core.Syndicate`).

Each verb opens the API on `--db` (fallback SYNDICATE_DB, default db/syndicate.sqlite)
and, where it reads the registry, `--sources` (fallback SYNDICATE_SOURCES, default
sources/), calls one of its methods and formats the result. The run lock, interruption and
the order of steps are the API's; this module only turns signals into `stop` and errors
into exit statuses: 0 when everything worked, 1 when a source failed, 3 when a source was
degraded (and none failed), 2 for usage and configuration errors, 75 when another process
holds the run lock, 130 when interrupted. Errors always reach stderr (`--quiet` hides
progress only); `--log-format json` makes every line on stderr a JSON object.
"""
from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import click

from .cli_base import (EXIT_DEGRADED, _api, _emit_jsonl, _json, _jsonable, _open, _plain, db_option,
                       exit_status, sources_option)
from .control import EXIT_INTERRUPTED, StopOnSignal, exit_now
from .core import RunEvents, Syndicate, extract_pages, systemd_units
from .errors import AlreadySent, ConfigError, SyndicateError
from .logs import EVENTS, FORMATS, configure_logging
from .types import RunResult, SourceResult

events_log = logging.getLogger(EVENTS)


class _Progress(RunEvents):
    """What a run tells, on stderr: registry problems first, a progress bar on a terminal
    (plain lines otherwise, JSON objects with --log-format json), whom a --wait waits for.
    `quiet` hides progress, never an error or a degraded partner."""

    def __init__(self, quiet: bool, log_format: str | None = None):
        self.quiet = quiet
        self.json = (log_format or _log_format()) == "json"
        self.total = 0
        self.done = 0
        self.bar = None

    def say(self, level: int, event: str, text: str, **fields) -> None:
        """One line on stderr: always from WARNING up, progress (INFO) unless quiet."""
        if level < logging.WARNING and (self.quiet or self.bar is not None):
            return  # progress: hidden by --quiet, shown by the bar on a terminal
        if self.json:
            events_log.log(level, text, extra={"event": event, "fields": fields})
        elif self.bar is not None:
            self.bar.write(_plain(text), file=sys.stderr)
        else:
            click.echo(_plain(text), err=True)

    def registry_problem(self, problem) -> None:
        self.say(logging.ERROR, "registry_error", f"error: registry: {problem}", path=getattr(problem, "path", None))

    def waiting_for_lock(self, holder) -> None:
        self.say(logging.WARNING, "waiting_for_lock", f"syndicate: waiting for the run lock, held by "
                                                      f"{holder.describe()}")

    def run_started(self, sources: int) -> None:
        self.total = sources
        if not self.quiet and not self.json and sys.stderr.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=sources, unit="source", desc="ingesting", file=sys.stderr)
        if self.json:
            self.say(logging.INFO, "run_started", f"run started with {sources} source(s)", sources=sources)

    def source_done(self, result: SourceResult) -> None:
        self.done += 1
        state = result.state
        if result.errors:
            what = f"FAILED ({result.errors[0].kind}: {result.errors[0].message})"
        elif result.skipped:
            what = f"skipped, not due until {_when(result.skipped_until)}"
        elif result.health:
            what = f"DEGRADED ({result.health[0].kind}: {result.health[0].message})"
        else:
            what = state
        line = (f"[{self.done}/{self.total}] {result.source_id}: {what}; {result.articles_seen} article(s), "
                f"{result.new_articles} new, {result.new_revisions} revised" + (f", {result.held} held" if result.held
                                                                                 else ""))
        if self.bar is not None:
            self.bar.set_postfix_str(result.source_id)
            self.bar.update(1)
        # failures and degraded partners are told in full after the summary (never hidden)
        self.say(logging.INFO, "source_done", line, source=result.source_id, state=state,
                 articles_seen=result.articles_seen, new_articles=result.new_articles,
                 new_revisions=result.new_revisions, held=result.held, duration=round(result.duration, 3))

    def note(self, message: str) -> None:
        self.say(logging.WARNING if message.startswith("warning") else logging.INFO, "note", message)

    def problems(self, result: RunResult) -> None:
        """Every error and health reason of the run, on stderr, whatever --quiet says."""
        for r in result.sources:
            for e in r.errors:
                self.say(logging.ERROR, "source_error",
                         f"error: {r.source_id}: {e.kind}: {e.message}" + (f" ({e.url})" if e.url else ""),
                         source=r.source_id, kind=e.kind, detail=e.message, url=e.url)
            if not r.errors:
                for h in r.health:
                    self.say(logging.WARNING, "source_degraded",
                             f"degraded: {r.source_id}: {h.kind}: {h.message}" + (f" ({h.url})" if h.url else ""),
                             source=r.source_id, kind=h.kind, detail=h.message, url=h.url)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _log_format() -> str:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    return (root.obj or {}).get("log_format", "text") if root is not None else "text"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="syndicate")
@click.option("-v", "--verbose", is_flag=True, help="Log every request and decision to stderr.")
@click.option("--log-format", type=click.Choice(FORMATS), default="text", show_default=True,
              envvar="SYNDICATE_LOG_FORMAT",
              help="stderr as plain lines, or one JSON object per line (ts, level, event, message, fields) "
                   "for a log collector [env SYNDICATE_LOG_FORMAT].")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, log_format: str) -> None:
    """Syndicate: ingest partner blogs, extract and deduplicate their claims, publish a digest.

    \b
    Quick start:
      syndicate demo                      # the whole pipeline on the bundled sample sites
      syndicate run --sources sources/    # ingest every partner once
      syndicate digest --week 2026-W47    # write the weekly digest
      syndicate scheduled --out digest/   # what cron or a systemd timer runs: run, then digest
    """
    ctx.obj = {"log_format": log_format}
    configure_logging(log_format, verbose=verbose)


def _run_options(f):
    """The options of a run, shared by `run` and `scheduled`."""
    for option in reversed((
        sources_option, db_option,
        click.option("--workers", type=int, default=None,
                     help="Sources fetched at once (one request per host at a time) [default: 32]."),
        click.option("--recheck-days", type=float, default=6.0, show_default=True, metavar="DAYS",
                     help="Stored pages listed by an unchanged feed or sitemap are re-validated once their last "
                          "check is older than this (a changed listing always re-validates them)."),
        click.option("--min-delay", default=0.0, show_default=True, metavar="SECONDS",
                     help="Pause between two requests to one host (a robots.txt Crawl-delay may ask for more)."),
        click.option("--source-budget", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
                     help="Time one source may take in a run, retries, crawl delays and parsing included; what is "
                          "left is fetched next run [default: 300]."),
        click.option("--contact", envvar="SYNDICATE_CONTACT", metavar="URL",
                     help="Contact URL sent in the User-Agent [env SYNDICATE_CONTACT]."),
        click.option("--source", "only", multiple=True, metavar="ID",
                     help="Only this source (repeatable); default: every file in the registry."),
        click.option("--force", is_flag=True,
                     help="Fetch every source, due or not (per-source intervals: the registry's `interval`, "
                          "the feed's <ttl>/sy:updatePeriod, Cache-Control max-age/Expires)."),
        click.option("--metrics", "metrics_file", type=click.Path(dir_okay=False, path_type=Path),
                     envvar="SYNDICATE_METRICS", metavar="FILE",
                     help="Write the run's metrics in the Prometheus text format to FILE, atomically (name it "
                          "*.prom in node_exporter's textfile folder) [env SYNDICATE_METRICS]."),
        click.option("--queue", envvar="SYNDICATE_QUEUE", metavar="URL",
                     help="Hand the sources to `syndicate worker` processes through this task queue "
                          "(redis://host:6379/0) instead of fetching here; needs a PostgreSQL --db "
                          "[env SYNDICATE_QUEUE]."),
        click.option("--extract-processes", type=click.IntRange(min=0), default=None, metavar="N",
                     help="Extract pages in N other processes (0: in this one) [default: one per core when 8 "
                          "sources or more are due]."),
        click.option("-q", "--quiet", is_flag=True, help="No progress; errors and degraded partners still go to "
                                                         "stderr."),
    )):
        f = option(f)
    return f


def _run_kwargs(params: dict) -> dict:
    from datetime import timedelta
    return dict(only=params["only"], workers=params["workers"],
                recheck_after=timedelta(days=params["recheck_days"]), min_delay=params["min_delay"],
                contact=params["contact"], source_budget=params["source_budget"], force=params["force"],
                metrics_file=params["metrics_file"], queue=params["queue"],
                extract_processes=params["extract_processes"])


def _stopping(_signum: int) -> None:
    click.echo("syndicate: interrupted; storing what was fetched (again to quit at once)", err=True)


def _summary_line(result: RunResult) -> str:
    summary = result.summary()
    return (f"sources: {summary['sources_ok']} ok, {summary['sources_failed']} failed"
            + (f", {summary['sources_degraded']} degraded" if summary["sources_degraded"] else "")
            + (f", {summary['sources_skipped']} not due (--force fetches them)" if summary["sources_skipped"] else "")
            + f"; requests: {summary['requests']} ({summary['not_modified']} not modified); "
            f"articles: {summary['articles_seen']} seen, {summary['new_articles']} new, "
            f"{summary['new_revisions']} revised; new claims: {summary['new_claims']}"
            + (f"; pages held aside: {summary['pages_held']}" if summary["pages_held"] else "")
            + (f"; retries: {result.retries}" if result.retries else "")
            + (f"; blocked by robots.txt: {result.robots_blocked}" if result.robots_blocked else "")
            + (f"; bad registry files: {len(result.registry_problems)}" if result.registry_problems else "")
            + (f"; off-scope URLs not fetched: {result.off_scope}" if result.off_scope else "")
            + (f"; sources with warnings: {summary['sources_warned']}" if summary["sources_warned"] else ""))


def _interrupted_note(result: RunResult) -> None:
    ran = [r for r in result.sources if not r.skipped]
    done = sum(not r.interrupted for r in ran)
    total = len(ran) + result.sources_not_run
    click.echo(f"syndicate: run interrupted: {done} of {total} source(s) complete, "
               f"{len(ran) - done} in part; what was fetched is stored, the rest is for the next "
               "run, which also clusters the claims (or `syndicate digest` does)", err=True)


@cli.command()
@_run_options
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option("--wait", is_flag=True, help="If another run holds the database's run lock, wait for it "
                                           "instead of exiting (status 75).")
def run(as_json: bool, wait: bool, quiet: bool, **params) -> None:
    """Ingest every source due: discover, fetch, extract, judge, store, cluster claims.

    Exits 0 when every source succeeded, 1 when any source failed or a registry file is bad
    (the other sources still run and are stored), 3 when some source was degraded (pages
    that look like a JavaScript shell, a login wall, a maintenance or not-found page, or a
    revision dropping most of an article: held aside, the last good version kept) and none
    failed, 2 when no registry file is usable, 75 when another run holds the database (it is
    named; --wait waits instead), 130 when interrupted (what was fetched is stored). Errors
    and degraded partners are printed on stderr even with --quiet. A source whose interval
    has not passed is skipped (--json lists it under "skipped"); --force fetches it.

    With --queue, `syndicate worker` processes (on this machine or others) fetch, extract
    and store the sources; this command submits them, reports each as it is done, and
    clusters the claims once all are (docs/scale.md).

    \b
    Examples:
      syndicate run --sources sources/ --db db/syndicate.sqlite
      syndicate run --wait --quiet --metrics /var/lib/node_exporter/textfile/syndicate.prom
      syndicate --log-format json run --force --source alderbrook
      syndicate run --db postgresql://syndicate@db/syndicate --queue redis://127.0.0.1:6379/0
    """
    syn = _open(params["db"], params["sources_dir"], create=True)
    progress = _Progress(quiet or as_json)
    with StopOnSignal(_stopping) as signals, _api("pass --wait to wait for it"):
        try:
            result = syn.run(wait=wait, stop=signals.event, events=progress, **_run_kwargs(params))
        finally:
            progress.close()
    if as_json:
        click.echo(_json(result.summary(), indent=2))
    elif not quiet:
        click.echo(_summary_line(result))
    _Progress(quiet=True).problems(result)
    if result.interrupted:
        _interrupted_note(result)
    else:
        syn.close()
    code = exit_status(result.outcome)
    if code == EXIT_INTERRUPTED and threading.active_count() > 1:
        exit_now(code)  # fetches still blocked on a socket must not hold the exit
    sys.exit(code)


@cli.command()
@db_option
@click.option("--queue", envvar="SYNDICATE_QUEUE", metavar="URL", required=True,
              help="The task queue runs are submitted to: redis://host:6379/0 [env SYNDICATE_QUEUE].")
@click.option("--threads", type=click.IntRange(min=1), default=8, show_default=True,
              help="Sources worked on at once by this process (fetching waits on the network; start one "
                   "process per core for extraction).")
@click.option("--requeue-after", type=click.FloatRange(min=1), default=30.0, show_default=True, metavar="SECONDS",
              help="A worker silent this long is taken for dead and its tasks are put back on the queue.")
def worker(db: str | None, queue: str, threads: int, requeue_after: float) -> None:
    """Work on the sources of queued runs (`syndicate run --queue URL`) until stopped:
    fetch, extract, judge and store each into the PostgreSQL --db, and encode its new
    sentences. One host is fetched by one worker at a time; a worker killed mid-task loses
    nothing (its tasks go back on the queue after --requeue-after and are stored once).
    Ctrl-C or SIGTERM: no new task starts, those running get 30 s to finish. Exits 2 for
    an SQLite --db or an unreachable queue.

    \b
    Example:
      syndicate worker --db postgresql://syndicate@db/syndicate --queue redis://127.0.0.1:6379/0
    """
    class _Said(RunEvents):
        def note(self, message: str) -> None:
            click.echo(f"syndicate worker: {message}", err=True)

    syn = Syndicate(db)
    with StopOnSignal(lambda _signum: click.echo("syndicate worker: stopping; tasks running get 30 s to finish",
                                                 err=True)) as signals, _api():
        syn.work(queue, threads=threads, requeue_after=requeue_after, stop=signals.event, events=_Said())
    syn.close()


_DIGEST_HELP = dict(
    week="ISO week: 'last' (the last complete week), 'this', or e.g. 2026-W47.",
    base_url="Where --out is published on the web: absolute links in the feed (self link) and email "
             "[env SYNDICATE_BASE_URL].",
    email_to="Email the digest to these recipients (repeatable): sent with --smtp, else written as .eml.",
    smtp="SMTP server, smtp://host:587 (STARTTLS required) or smtps://host:465; login from "
         "SYNDICATE_SMTP_USER and SYNDICATE_SMTP_PASSWORD [env SYNDICATE_SMTP].",
)


@cli.command()
@_run_options
@click.option("--week", default="last", show_default=True, metavar="last|this|YYYY-Www", help=_DIGEST_HELP["week"])
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder the digest, its archive (index.html) and feed.atom are written to.")
@click.option("--base-url", envvar="SYNDICATE_BASE_URL", metavar="URL", help=_DIGEST_HELP["base_url"])
@click.option("--email-to", "email_to", multiple=True, metavar="ADDRESS", help=_DIGEST_HELP["email_to"])
@click.option("--email-from", default="digest@syndicate.invalid", show_default=True, metavar="ADDRESS",
              help="Sender of the email.")
@click.option("--smtp", "smtp_url", envvar="SYNDICATE_SMTP", metavar="URL", help=_DIGEST_HELP["smtp"])
@click.option("--dry-run", is_flag=True, help="Write the .eml message instead of sending it.")
@click.option("--no-wait", is_flag=True, help="Exit 75 if another run holds the run lock, instead of waiting.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary and the digest's paths as JSON.")
def scheduled(week: str, out_dir: Path, base_url: str | None, email_to: tuple[str, ...], email_from: str,
              smtp_url: str | None, dry_run: bool, no_wait: bool, as_json: bool, quiet: bool, **params) -> None:
    """The job a scheduler runs: `run`, then the week's `digest`, whatever the partners did.

    A partner that fails or is degraded costs only its own items: the digest is written
    and names it in its partner note; every error goes to stderr (--quiet hides progress
    only). Waits for a run holding the lock (--no-wait: exit 75). Exit status: 0 all well,
    1 some partner failed or the digest could not be written or sent, 3 some partner was
    degraded (none failed), 2 usage or no usable registry file, 75 lock held with
    --no-wait, 130 interrupted (then no digest is written; the next job writes it).

    \b
    Examples (crontab, then a systemd unit's ExecStart; docs/operations.md):
      0 6 * * 1  cd /srv/syndicate && .venv/bin/syndicate scheduled --quiet --out /srv/www/digest
      syndicate scheduled --quiet --out /srv/www/digest --email-to editors@example.org --metrics syndicate.prom
    """
    if base_url and not base_url.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http(s) URL", param_hint="--base-url")
    syn = _open(params["db"], params["sources_dir"], create=True)
    try:
        wk = syn.week(week)
    except ConfigError as e:
        raise click.BadParameter(str(e), param_hint="--week") from e
    progress = _Progress(quiet or as_json)
    with StopOnSignal(_stopping) as signals, _api("pass --wait to wait for it"):
        try:
            done = syn.scheduled(week=wk, out=out_dir, base_url=base_url, email_to=email_to, email_from=email_from,
                                 smtp_url=smtp_url, dry_run=dry_run, wait=not no_wait, stop=signals.event,
                                 events=progress, **_run_kwargs(params))
        finally:
            progress.close()
    result = done.run
    paths = list(done.digest.paths) if done.digest else []
    if as_json:
        click.echo(_json(dict(run=result.summary(), outcome=done.outcome, digest=paths,
                              digest_error=done.digest_error,
                              email=done.digest.email if done.digest else None), indent=2))
    elif not quiet:
        click.echo(_summary_line(result))
        for path in paths:
            click.echo(str(path))
    reporter = _Progress(quiet=True)
    reporter.problems(result)
    if done.digest_error:
        reporter.say(logging.ERROR, "digest_error", f"error: digest: {done.digest_error}")
    if done.digest is not None:
        for reason in done.digest.refused:
            reporter.say(logging.WARNING, "digest_refused", f"warning: left out an unattributed item: {reason}")
        email = done.digest.email
        if email is not None and email.error:
            kept = f" (the message is kept in {email.eml_path})" if email.eml_path else ""
            reporter.say(logging.ERROR, "email_error", f"error: email: {email.error}{kept}")
    if result.interrupted:
        _interrupted_note(result)
    else:
        syn.close()
    code = exit_status(done.outcome)
    if code == EXIT_INTERRUPTED and threading.active_count() > 1:
        exit_now(code)
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
@click.option("--resend", is_flag=True,
              help="Send the week again although it was already sent (every send is recorded per week).")
@click.option("--rebuild-archive", is_flag=True,
              help="Rebuild archive.json (and feed.atom, index.html) from the database for every week "
                   "whose page is in --out.")
def digest(db: str | None, week: str, out_dir: Path, base_url: str | None, email_to: tuple[str, ...],
           email_from: str, smtp_url: str | None, dry_run: bool, resend: bool, rebuild_archive: bool) -> None:
    """Write the digest of an ISO week (default: the last complete one) as HTML, Markdown,
    plain text and JSON, its full version, the archive index and feed.atom; optionally email
    it. Prints the paths written. Exits 1 when a file cannot be written (full disk, no
    permission; the earlier files stay whole) or the email cannot be sent (it is kept as .eml).
    Every send is recorded for its week: a week already sent is refused (exit 1, nothing
    written) unless --resend.

    \b
    Examples:
      syndicate digest --out /srv/www/digest --base-url https://example.org/digest
      syndicate digest --week 2026-W47 --email-to editor@example.org --smtp smtp://mail.example.org:587
      syndicate digest --week this --email-to editor@example.org --dry-run
    """
    try:
        wk = Syndicate(db).week(week)
    except ConfigError as e:
        raise click.BadParameter(str(e), param_hint="--week") from e
    if base_url and not base_url.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http(s) URL", param_hint="--base-url")
    if email_to and not base_url:
        click.echo("warning: no --base-url: the email's links to the full version are relative "
                   "and will not open from a mail client", err=True)
    syn = _open(db)
    try:
        with _api():
            result = syn.digest(wk, out=out_dir, base_url=base_url, email_to=email_to, email_from=email_from,
                                smtp_url=smtp_url, dry_run=dry_run, rebuild_archive=rebuild_archive,
                                events=_Progress(quiet=False), resend=resend)
    except AlreadySent as e:
        raise click.ClickException(str(e)) from e
    for path in result.paths:
        click.echo(str(path))
    for reason in result.refused:
        click.echo(_plain(f"warning: left out an unattributed item: {reason}"), err=True)
    if result.email is not None:
        if result.email.error:
            kept = f" (the message is kept in {result.email.eml_path})" if result.email.eml_path else ""
            raise click.ClickException(_plain(result.email.error) + kept)
        if result.email.sent:
            click.echo(f"sent to {', '.join(result.email.recipients)}")
        else:
            click.echo(str(result.email.eml_path))


@cli.group(invoke_without_command=True)
@db_option
@sources_option
@click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of a table.")
@click.pass_context
def sources(ctx: click.Context, db: str | None, sources_dir: Path, as_json: bool) -> None:
    """List sources with their health: state (healthy, degraded, failed) since when and
    why, pages held aside, last success, last error, failures in a row, when next due.

    A degraded source served pages that looked wrong (a JavaScript shell, a login wall or
    paywall, a maintenance or not-found page, a revision dropping most of an article, a
    sharp drop in what its pages yield): their new versions are held aside and the last
    good ones stay current until seen again on a later run or accepted.

    \b
    Examples:
      syndicate sources
      syndicate sources --json
      syndicate sources accept alderbrook
    """
    if ctx.invoked_subcommand is not None:  # `sources --db X accept ID` means that database too
        ctx.ensure_object(dict).update(sources_db=db, sources_dir=sources_dir)
        return
    rows = _open(db, sources_dir).source_health()
    if as_json:
        return _emit_jsonl(rows)
    if not rows:
        click.echo("no sources yet: run `syndicate run` first")
        return
    click.echo(f"{'source':<16} {'articles':>8} {'last success':<21} {'fails':>5} {'warns':>5} "
               f"{'off-scope':>9}  {'state':<9} last error")
    for r in rows:
        err = f"{r.last_error_kind}: {r.last_error_message} ({r.last_error_url})" if r.last_error_kind else "-"
        click.echo(f"{r.id:<16} {r.articles:>8} {_when(r.last_success):<21} "
                   f"{r.consecutive_failures:>5} {r.warnings:>5} {r.off_scope:>9}  {r.state:<9} {_plain(err)}")
        if r.state in ("degraded", "failed") or r.held:
            click.echo(f"{'':<16} {r.state} since {_when(r.since)}"
                       + (f"; {len(r.held)} page(s) held aside (syndicate sources accept {r.id})" if r.held else ""))
        for reason in r.reasons if r.state == "degraded" else ():
            click.echo(f"{'':<16} why: {reason.kind}: {_plain(reason.message)}"
                       + (f" ({_plain(reason.url)})" if reason.url else ""))
        if r.next_due is not None:
            click.echo(f"{'':<16} next due {_when(r.next_due)}"
                       + (f" (every {_duration(r.refresh.seconds)}, from {r.refresh.origin})" if r.refresh else ""))
        if r.last_warning:
            click.echo(f"{'':<16} warning: {_plain(r.last_warning)}")


@sources.command("accept")
@click.argument("source_id", metavar="ID")
@click.option("--url", "urls", multiple=True, metavar="URL", help="Only this held page (repeatable).")
@db_option
@sources_option
@click.pass_context
def sources_accept(ctx: click.Context, source_id: str, urls: tuple[str, ...], db: str | None,
                   sources_dir: Path) -> None:
    """Accept what a degraded partner serves now: its held pages become their articles'
    current versions (extracted again from the kept snapshots), their sentences are
    clustered, and the partner is healthy again. Takes the run lock.

    \b
    Examples:
      syndicate sources accept alderbrook
      syndicate sources accept alderbrook --url https://alderbrook.example/blog/post/
    """
    given = ctx.obj or {}
    db = db or given.get("sources_db")
    if ctx.get_parameter_source("sources_dir") == click.core.ParameterSource.DEFAULT:
        sources_dir = given.get("sources_dir") or sources_dir
    with _api():
        done = _open(db, sources_dir).accept_source(source_id, urls=urls)
    for url in done.accepted:
        click.echo(_plain(f"accepted {url}"))
    for url, why in done.skipped:
        click.echo(_plain(f"warning: {url} not stored: {why}"), err=True)
    click.echo(f"{source_id}: {done.health.state}"
               + (f"; {len(done.health.held)} page(s) still held" if done.health.held else ""))


def _duration(seconds: float) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _when(moment) -> str:
    """A stored time as the table prints it (ISO 8601, UTC, to the second), or never."""
    return _jsonable(moment.replace(microsecond=0)) if moment else "never"


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="PATH_OR_URL...")
@click.option("--json", "as_json", is_flag=True,
              help="JSON with metadata, sentences, FAQ and footnotes (JSON Lines for several inputs).")
@click.option("--name", metavar="NAME", help="The partner's name, to recognise its self-promotion.")
def extract(inputs: tuple[str, ...], as_json: bool, name: str | None) -> None:
    """Extract the article from HTML files, URLs, or - for standard input.

    Input that is not an HTML page (a PDF, an image, an executable, plain text) is refused
    with an error, as is a file over the size cap of fetched pages; the exit status is 1
    when any input failed. A URL (and any redirect) is never fetched from a private,
    loopback or link-local address unless SYNDICATE_ALLOW_PRIVATE=1.

    \b
    Examples:
      syndicate extract page.html
      curl -s https://example.org/post/ | syndicate extract - --json
      syndicate extract a.html b.html --json > articles.jsonl
    """
    from .core import article_to_dict

    failed = False
    for done in extract_pages(inputs, name=name, stdin=sys.stdin.buffer):
        if done.article is None:
            click.echo(f"error: {done.input}: {done.error}", err=True)
            failed = True
            continue
        if as_json:
            row = article_to_dict(done.article)
            if len(inputs) > 1:
                click.echo(_json({"path": done.input, **row}))
            else:
                click.echo(_json(row, indent=2))
        else:
            if len(inputs) > 1:
                click.echo(f"==> {done.input} <==")
            click.echo(done.article.text)
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
    with _api():
        result = _open(db, sources_dir).reprocess()
    for r in result.sources:
        click.echo(f"{r.source_id}: {r.articles_seen} article(s), {r.new_revisions} new revision(s)"
                   + "".join(f"; error {e.kind}: {e.message}" for e in r.errors))
    sys.exit(0 if result.ok else 1)


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out/demo"),
              show_default=True,
              help="Folder for the demo database, digest and partner pages: a new or empty folder, or one an "
                   "earlier demo made (what that demo wrote is replaced; nothing else is touched).")
@click.option("--base-url", metavar="URL", default="http://127.0.0.1:8000", show_default=True,
              help="Where --out will be served: the digest's links to the partner pages (copies kept in "
                   "OUT/partners/) and its feed point there.")
def demo(out_dir: Path, base_url: str) -> None:
    """Serve the bundled sample partner sites on 127.0.0.1, run the whole pipeline into a
    fresh database, write the digest and print a summary.

    The digest links to copies of the partner pages kept beside it, so its links still
    open after the demo: serve the folder at --base-url (the command is printed).
    A non-empty --out that an earlier demo did not make is refused (exit 2).

    \b
    Examples:
      syndicate demo --out /tmp/syndicate-demo
      python3 -m http.server 8000 --bind 127.0.0.1 --directory /tmp/syndicate-demo   # then open the digest
    """
    from .demo import run_demo

    progress = _Progress(quiet=False)
    try:
        with _api():
            done = run_demo(out_dir, base_url=base_url, events=progress)
    finally:
        progress.close()
    click.echo(f"sources:       {len(done.run.sources)} ({sum(r.ok for r in done.run.sources)} ok)")
    click.echo(f"articles:      {done.articles}")
    click.echo(f"claims:        {done.claims}")
    click.echo(f"merged claims: {done.merged_claims} (stated by two or more partners)")
    click.echo(f"database:      {done.database}")
    for p in done.digest.paths:
        click.echo(f"digest:        {p}")
    port = urlsplit(done.base_url).port
    if urlsplit(done.base_url).hostname == "127.0.0.1" and port:
        click.echo(f"browse it:     python3 -m http.server {port} --bind 127.0.0.1 --directory {done.out_dir} "
                   f"# then open {done.base_url}/{done.digest.paths[0].name}")
    else:
        click.echo(f"publish {done.out_dir} at {done.base_url}/ for the digest's links to open")
    for r in done.run.sources:
        for e in r.errors:
            click.echo(f"error: {r.source_id}: {e.kind}: {e.message} ({e.url})", err=True)
    sys.exit(0 if done.run.ok else 1)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write syndicate.service and syndicate.timer into this folder (default: print them).")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="The folder the job runs in (its db/ and sources/ unless the job's options say otherwise).")
@click.option("--user", default=None, metavar="NAME", help="The user the job runs as (a system unit).")
@click.option("--on-calendar", default="Mon *-*-* 06:00:00", show_default=True, metavar="SPEC",
              help="When the timer fires (systemd.time(7) calendar event).")
@click.option("--exe", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The syndicate program to run [default: this one].")
@click.argument("job_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- SCHEDULED OPTIONS...]")
def systemd(out_dir: Path | None, workdir: Path, user: str | None, on_calendar: str, exe: Path | None,
            job_args: tuple[str, ...]) -> None:
    """Print (or write) a systemd service and timer that run `syndicate scheduled` on a
    calendar: the options after -- are the job's. The service fails (for OnFailure=
    alerting) when a partner failed (1) or was degraded (3); errors go to the journal.

    \b
    Examples:
      syndicate systemd --workdir /srv/syndicate --user syndicate -- --quiet --out /srv/www/digest
      syndicate systemd --out /etc/systemd/system --workdir /srv/syndicate -- --out /srv/www/digest
      systemctl enable --now syndicate.timer
    """
    program = exe or Path(sys.argv[0]).resolve()
    with _api():
        units = systemd_units(program, workdir.resolve(), list(job_args), user=user, on_calendar=on_calendar)
    if out_dir is None:
        for name, text in units.items():
            click.echo(f"# {name}\n{text}")
        return
    from .core import write_units
    with _api():
        for path in write_units(units, out_dir):
            click.echo(str(path))


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
    with _api():
        detail = _open(db).get_claim(claim_id)
    if as_json:
        click.echo(_json(detail, indent=2))
        return
    click.echo(f"claim {detail.claim_id} ({detail.status}"
               + (f", merged into {detail.merged_into}" if detail.merged_into else "") + ")")
    click.echo(_plain(f"  [{detail.canonical_site or '-'}] {detail.text}"))
    click.echo(f"  sites: {', '.join(detail.sites) or '-'}; first stated by {detail.first_site or '-'}"
               f" ({_jsonable(detail.first_seen) or '?'})")
    for c in detail.conflicts:
        click.echo(_plain(f"  CONFLICT ({c.kind}): " + "; ".join(f"{x.site} says {x.figure}" for x in c.statements)))
    for m in detail.members:  # each partner's own sentence
        click.echo(_plain(f"  - mention {m.mention_id} [{m.site}] {m.method} {m.score:.2f}: {m.text}"))
        click.echo(_plain(f"      {m.article_url} (revision {m.revision}, position {m.position})"))
    for o in detail.overrides:
        click.echo(f"  override: {o.action} {o.claim_id} {o.other_claim_id or ''} "
                   f"{_jsonable(o.mention_ids) or ''} at {_jsonable(o.created_at)}")


@claims.command("rebuild")
@db_option
def claims_rebuild(db: str | None) -> None:
    """Re-cluster every current claim mention from scratch. Claims that carry on keep their
    ids, editor overrides hold, ids of claims that vanish are retired, never reused.

    \b
    Example:
      syndicate claims rebuild --db db/syndicate.sqlite
    """
    with _api():
        moved = _open(db).rebuild_claims()
    click.echo(f"rebuilt: {moved} membership(s) changed")


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
    with _api():
        _open(db).merge_claims(keep, other)
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
    with _api():
        new = _open(db).split_claim(claim_id, mention_ids)
    click.echo(f"mentions {', '.join(map(str, mention_ids))} now form claim {new.claim_id}")


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
    with _api():
        pinned = _open(db).pin_claim(claim_id, mention_id)
    click.echo(f"claim {claim_id} pinned to mention {pinned.pinned_mention_id}")


# The researchers' verbs (export, search, browse, snapshot, claims list) live in cli_research.
from .cli_research import register as _register_research  # noqa: E402

_register_research(cli, claims)

from .cli_review import COMMANDS as _review_commands  # noqa: E402

for _command in _review_commands:  # claims review, hide, unhide
    claims.add_command(_command)

from .cli_desk import desk as _desk  # noqa: E402

cli.add_command(_desk)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except SyndicateError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
