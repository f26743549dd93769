"""The researchers' verbs: `export`, `search`, `browse`, `snapshot` and `claims list`.

Glue only: the store answers (views, search, exports), `dataset` writes files, `browse`
runs Datasette. Registered on the `syndicate` group by pipeline/cli.py.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from .cli_base import _emit_jsonl, _open_store, db_option
from .errors import ConfigError, StoreError


class _Date(click.ParamType):
    """YYYY-MM-DD or an ISO date-time; UTC unless an offset is given."""

    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM])", param, ctx)
        return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


DATE = _Date()
since_option = click.option("--since", type=DATE, help="Only rows from this date on (UTC), e.g. 2026-11-23.")
site_option = click.option("--site", "sites", multiple=True, metavar="ID", help="Only this partner (repeatable).")
min_partners_option = click.option("--min-partners", type=click.IntRange(1), metavar="N",
                                   help="Only claims stated by (questions answered by) at least N partners.")


@click.command()
@click.argument("what", type=click.Choice(("mentions", "claims", "faq", "articles", "citations")))
@db_option
@click.option("--format", "fmt", type=click.Choice(("jsonl", "csv", "parquet")), default="jsonl",
              show_default=True, help="Output format (parquet needs the research extra).")
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@since_option
@site_option
@min_partners_option
@click.option("--kind", metavar="KIND", help="mentions: claim, promo, question, heading, other, hidden; "
                                             "citations: footnote, inline, promotional.")
def export(what: str, db: str | None, fmt: str, out_path: Path | None, since: datetime | None,
           sites: tuple[str, ...], min_partners: int | None, kind: str | None) -> None:
    """Export MENTIONS, CLAIMS, FAQ, ARTICLES or CITATIONS as JSON Lines, CSV or Parquet.

    Every row carries its provenance: partner, article URL and title, revision, published
    and fetched dates.

    \b
    Examples:
      syndicate export claims --min-partners 2 --format csv > claims.csv
      syndicate export mentions --site alana --kind claim --since 2026-11-01
      syndicate export citations --kind footnote --format parquet -o citations.parquet
    """
    from .dataset import write_rows
    from .store import EXPORT_COLUMNS, ExportFilter

    store = _open_store(db)
    flt = ExportFilter(since=since, sites=sites, min_partners=min_partners, kind=kind)
    try:
        rows = store.export(what, flt)
        if out_path is not None:
            with out_path.open("wb") as out:
                write_rows(rows, EXPORT_COLUMNS[what], fmt, out)
        else:
            if fmt == "parquet" and sys.stdout.isatty():
                raise click.UsageError("Parquet is binary: give -o FILE or redirect standard output")
            write_rows(rows, EXPORT_COLUMNS[what], fmt, sys.stdout.buffer)
            sys.stdout.buffer.flush()
    except (StoreError, ConfigError) as e:
        raise click.UsageError(str(e)) from e


def _highlight(snippet: str) -> str:
    """Matched words in bold on a terminal; elsewhere the snippet keeps its ** markers."""
    from .store._research import SNIPPET_END, SNIPPET_START
    if not sys.stdout.isatty() or SNIPPET_START != SNIPPET_END:
        return snippet
    parts = snippet.split(SNIPPET_START)
    return "".join(click.style(p, bold=True) if i % 2 else p for i, p in enumerate(parts))


@click.command()
@click.argument("query")
@db_option
@site_option
@click.option("--kind", type=click.Choice(("claim", "promo", "question", "heading", "other", "faq")),
              help="Only sentences with this label, or FAQ pairs (faq).")
@since_option
@min_partners_option
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="At most this many results.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: snippet, sentence, article, claim, partners.")
def search(query: str, db: str | None, sites: tuple[str, ...], kind: str | None, since: datetime | None,
           min_partners: int | None, limit: int, as_json: bool) -> None:
    """Full-text search over every partner's sentences and FAQ pairs (current revisions).

    Every word must appear (stemmed: "tolerance" also finds "tolerances"). Each result shows
    a snippet with the words highlighted, the partner and article, and for a claim sentence
    the claim and the partners stating it. SQLite FTS5 or PostgreSQL full-text search.

    \b
    Examples:
      syndicate search tolerance
      syndicate search "withdrawal symptoms" --kind claim --min-partners 2 --json
    """
    store = _open_store(db)
    try:
        results = []
        for site in sites or (None,):
            results += store.search(query, site=site, kind=kind, since=since, min_partners=min_partners,
                                    limit=limit)
    except StoreError as e:
        raise click.UsageError(str(e)) from e
    results = sorted(results, key=lambda r: r["rank"])[:limit]
    if as_json:
        return _emit_jsonl(results)
    if not results:
        click.echo(f"no match for {query!r}")
        return
    for r in results:
        claim = (f"  claim {r['claim_id']} ({len(r['claim_partners'])} partner(s): "
                 f"{', '.join(r['claim_partners'])})" if r["claim_id"] is not None else "")
        if r.get("question_id") is not None:
            claim = (f"  question {r['question_id']} ({len(r['question_partners'])} partner(s) answer: "
                     f"{', '.join(r['question_partners'])})")
        click.echo(f"[{r['site']}] {r['kind']}{claim}")
        click.echo(f"  {_highlight(r['snippet'])}")
        click.echo(f"  {r['article_title'] or ''} <{r['article_url']}>")


@click.command("list")
@db_option
@min_partners_option
@site_option
@click.option("--since", type=DATE, help="Only claims Syndicate first saw on or after this date (UTC).")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of text.")
def claims_list(db: str | None, min_partners: int | None, sites: tuple[str, ...], since: datetime | None,
                as_json: bool) -> None:
    """List active claims with the partners stating each, most partners first.

    \b
    Examples:
      syndicate claims list --min-partners 2
      syndicate claims list --site alana --since 2026-11-23
    """
    store = _open_store(db)
    rows = store.claims_list(min_partners=min_partners, since=since)
    if sites:
        rows = [r for r in rows if set(r["sites"]) & set(sites)]
    if as_json:
        return _emit_jsonl(rows)
    if not rows:
        click.echo("no claims match")
        return
    for r in rows:
        click.echo(f"{r['claim_id']:>6}  {r['partners']} partner(s): {', '.join(r['sites'])}")
        click.echo(f"        {r['text']}")


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8001, show_default=True, help="Port to listen on.")
def browse(db: str | None, host: str, port: int) -> None:
    """Open the database read-only in Datasette: tables and views with their descriptions,
    facets, full-text search on sentences, canned queries, a JSON API. SQLite only; on
    PostgreSQL, query the same views with psql.

    \b
    Example:
      syndicate browse --db db/syndicate.sqlite --port 8001   # then open http://127.0.0.1:8001/
    """
    from .browse import serve
    from .store import DEFAULT_DB_URL, normalize_db_url

    url = normalize_db_url(db or DEFAULT_DB_URL)
    if not url.startswith("sqlite:///"):
        raise click.UsageError("browse serves SQLite databases (Datasette); on PostgreSQL use psql: "
                               "the views claim_summary, claim_sources, faq_answers, article_changes are there")
    store = _open_store(db)  # migrated, so the views and search tables exist
    sources = store.source_attribution()
    store.close()
    click.echo(f"serving {url[len('sqlite:///'):]} read-only at http://{host}:{port}/", err=True)
    try:
        serve(Path(url[len("sqlite:///"):]), sources, host=host, port=port)
    except ConfigError as e:
        raise click.ClickException(str(e)) from e


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@db_option
def snapshot(out_dir: Path, db: str | None) -> None:
    """Write a dataset release into OUT_DIR: every export as CSV and Parquet, the schema, a
    manifest (row counts, SHA-256 of each file) and a README data card (tables, how claims
    were merged and how well, each partner's name and homepage, the time span). Two
    snapshots of an unchanged database are byte-identical.

    \b
    Example:
      syndicate snapshot releases/2026-11-30/
    """
    from .dataset import write_snapshot
    try:
        manifest = write_snapshot(_open_store(db), out_dir)
    except ConfigError as e:
        raise click.ClickException(str(e)) from e
    click.echo(json.dumps({"out": str(out_dir), "tables": manifest["tables"]}, sort_keys=True))


def register(cli: click.Group, claims: click.Group) -> None:
    for command in (export, search, browse, snapshot):
        cli.add_command(command)
    claims.add_command(claims_list)
