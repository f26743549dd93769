"""The researchers' verbs: `export`, `search`, `browse`, `snapshot` and `claims list`.

Glue only: the library API (`pipeline.core.Syndicate`) answers (views, search, exports),
writes the files and runs Datasette. Registered on the `syndicate` group by pipeline/cli.py.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from .cli_base import _emit_jsonl, _open, _plain, db_option
from .errors import ConfigError, OutputError, StoreError


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


def _check_sites(syn, sites: tuple[str, ...]) -> None:
    """An unknown --site is a mistake to point out (exit 2), not a filter that matches nothing."""
    if not sites:
        return
    known = syn.partner_ids()
    unknown = sorted(set(sites) - set(known))
    if unknown:
        raise click.BadParameter(f"no partner {', '.join(map(repr, unknown))} in the database "
                                 f"(partners: {', '.join(known) or 'none yet'})", param_hint="--site")


def _nothing_matched(what: str) -> None:
    click.echo(f"{what}: nothing matches", err=True)


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
    and fetched dates. In CSV, a text cell a spreadsheet would evaluate (starting with =, +,
    -, @, a tab or a carriage return) gets a leading ' ; JSON Lines and Parquet keep it as
    stored. -o FILE is replaced whole or not at all. When nothing matches, a note on stderr
    says so (exit 0); an unknown --site exits 2; a file that cannot be written exits 1.

    \b
    Examples:
      syndicate export claims --min-partners 2 --format csv > claims.csv
      syndicate export mentions --site alana --kind claim --since 2026-11-01
      syndicate export citations --kind footnote --format parquet -o citations.parquet
    """
    syn = _open(db)
    _check_sites(syn, sites)
    filters = dict(since=since, sites=sites, min_partners=min_partners, kind=kind)
    try:
        if out_path is not None:
            n = syn.write_export(what, out_path, fmt, **filters)
        else:
            if fmt == "parquet" and sys.stdout.isatty():
                raise click.UsageError("Parquet is binary: give -o FILE or redirect standard output")
            try:
                n = syn.write_export(what, sys.stdout.buffer, fmt, **filters)
                sys.stdout.buffer.flush()
            except BrokenPipeError:  # `| head`: the reader has all it wants
                _quiet_stdout()
                sys.exit(0)
    except (StoreError, ConfigError) as e:
        raise click.UsageError(str(e)) from e
    except OutputError as e:
        raise click.ClickException(str(e)) from e
    if n == 0:
        _nothing_matched(f"export {what}")


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so that Python's exit flush is silent."""
    import os
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _highlight(snippet: str) -> str:
    """Matched words in bold on a terminal; elsewhere the snippet keeps its ** markers."""
    from .core import SNIPPET_END, SNIPPET_START
    if not sys.stdout.isatty() or SNIPPET_START != SNIPPET_END:
        return snippet
    parts = snippet.split(SNIPPET_START)
    return "".join(click.style(p, bold=True) if i % 2 else p for i, p in enumerate(parts))


class _SearchCommand(click.Command):
    """`syndicate search -word` reads -word as an option: say how to search for it."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as e:
            e.message = (f"{e.message} (a query that starts with '-' goes after '--': "
                         f"syndicate search -- {e.option_name} ...)")
            raise


@click.command(cls=_SearchCommand)
@click.argument("query", nargs=-1, required=True)
@db_option
@site_option
@click.option("--kind", type=click.Choice(("claim", "promo", "question", "heading", "other", "faq")),
              help="Only sentences with this label, or FAQ pairs (faq).")
@since_option
@min_partners_option
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="At most this many results.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: snippet, sentence, article, claim, partners.")
def search(query: tuple[str, ...], db: str | None, sites: tuple[str, ...], kind: str | None,
           since: datetime | None, min_partners: int | None, limit: int, as_json: bool) -> None:
    """Full-text search over every partner's sentences and FAQ pairs (current revisions).

    The same syntax on SQLite and PostgreSQL: words (each must appear, stemmed: "tolerance"
    also finds "tolerances"), "quoted phrases" (the words adjacent, in that order), OR between
    alternatives, -word or -"a phrase" to exclude. A query that starts with - goes after --.
    At most 32 words and 500 characters; a search is stopped after 10 s. Each result shows a
    snippet with the words highlighted, the partner and article, and for a claim sentence the
    claim and the partners stating it. When nothing matches, a note on stderr says so (exit 0).

    \b
    Examples:
      syndicate search tolerance
      syndicate search '"withdrawal symptoms"' --kind claim --min-partners 2 --json
      syndicate search 'sleep OR insomnia -caffeine'
      syndicate search -- -caffeine sleep
    """
    syn = _open(db)
    _check_sites(syn, sites)
    try:
        results = syn.search(" ".join(query), sites=sites, kind=kind, since=since, min_partners=min_partners,
                             limit=limit)
    except StoreError as e:
        raise click.UsageError(str(e)) from e
    if not results:
        _nothing_matched(f"search {' '.join(query)!r}")
    if as_json:
        return _emit_jsonl(results)
    for r in results:
        claim = (f"  claim {r.claim_id} ({len(r.claim_partners)} partner(s): "
                 f"{', '.join(r.claim_partners)})" if r.claim_id is not None else "")
        if r.question_id is not None:
            claim = (f"  question {r.question_id} ({len(r.question_partners)} partner(s) answer: "
                     f"{', '.join(r.question_partners)})")
        click.echo(_plain(f"[{r.site}] {r.kind}{claim}"))
        click.echo(f"  {_highlight(_plain(r.snippet))}")
        click.echo(_plain(f"  {r.article_title or ''} <{r.article_url}>"))


@click.command("list")
@db_option
@min_partners_option
@site_option
@click.option("--since", type=DATE, help="Only claims Syndicate first saw on or after this date (UTC).")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines instead of text.")
def claims_list(db: str | None, min_partners: int | None, sites: tuple[str, ...], since: datetime | None,
                as_json: bool) -> None:
    """List active claims with the partners stating each, most partners first. When
    nothing matches, a note on stderr says so (exit 0); an unknown --site exits 2.

    \b
    Examples:
      syndicate claims list --min-partners 2
      syndicate claims list --site alana --since 2026-11-23
    """
    syn = _open(db)
    _check_sites(syn, sites)
    rows = syn.list_claims(min_partners=min_partners, sites=sites, since=since)
    if not rows:
        _nothing_matched("claims list")
    if as_json:
        return _emit_jsonl(rows)
    for r in rows:
        click.echo(f"{r.claim_id:>6}  {r.partners} partner(s): {', '.join(r.sites)}")
        click.echo(f"        {_plain(r.text)}")


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; requests must name it (or, on loopback, localhost) as their Host.")
@click.option("--port", type=int, default=8001, show_default=True, help="Port to listen on.")
def browse(db: str | None, host: str, port: int) -> None:
    """Open the database read-only in Datasette: tables and views with their descriptions,
    facets, full-text search on sentences, canned queries, a JSON API. SQLite only; on
    PostgreSQL, query the same views with psql.

    Safe to leave running: every SQL query has a 1 s time limit and bounded memory,
    randomblob, zeroblob, fts3_tokenizer and load_extension are refused, a request whose
    Host header is not the address served gets 400 (no DNS rebinding), and only GET and
    HEAD are answered (a write gets 403).

    \b
    Example:
      syndicate browse --db db/syndicate.sqlite --port 8001   # then open http://127.0.0.1:8001/
    """
    from .core import Syndicate

    syn = Syndicate(db)
    if syn.sqlite_path() is None:
        raise click.UsageError("browse serves SQLite databases (Datasette); on PostgreSQL use psql: "
                               "the views claim_summary, claim_sources, faq_answers, article_changes are there")
    syn = _open(db)  # migrated, so the views and search tables exist
    click.echo(f"serving {syn.sqlite_path()} read-only at http://{host}:{port}/", err=True)
    try:
        syn.browse(host=host, port=port)
    except ConfigError as e:
        raise click.ClickException(str(e)) from e


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@db_option
@click.option("--replace", is_flag=True, help="OUT_DIR holds an earlier snapshot: replace it (atomically).")
def snapshot(out_dir: Path, db: str | None, replace: bool) -> None:
    """Write a dataset release into OUT_DIR: every export as CSV and Parquet, the schema, a
    manifest (row counts, SHA-256 of each file) and a README data card (tables, how claims
    were merged and how well, each partner's name and homepage, the time span). Two
    snapshots of an unchanged database are byte-identical.

    OUT_DIR must be new or empty (--replace swaps an earlier snapshot for the new one in one
    step); the snapshot is built beside it and appears whole or not at all. Exits 1 when it
    cannot be written (full disk, no permission, a folder that is not empty).

    \b
    Examples:
      syndicate snapshot releases/2026-11-30/
      syndicate snapshot releases/latest/ --replace
    """
    try:
        manifest = _open(db).snapshot(out_dir, replace=replace)
    except (ConfigError, OutputError) as e:
        raise click.ClickException(str(e)) from e
    click.echo(json.dumps({"out": str(out_dir), "tables": manifest["tables"]}, sort_keys=True))


def register(cli: click.Group, claims: click.Group) -> None:
    for command in (export, search, browse, snapshot):
        cli.add_command(command)
    claims.add_command(claims_list)
