"""What every group of `syndicate` verbs shares (pipeline/cli.py, cli_research.py,
cli_review.py): the --db and --sources options, opening the database for a verb, the exit
statuses, JSON Lines output and terminal-safe partner text. Glue only, no decisions."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from .errors import MissingDatabase, StoreError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCES = PROJECT_ROOT / "sources"

db_option = click.option("--db", envvar="SYNDICATE_DB", metavar="URL",
                         help="Database URL or SQLite file path [env SYNDICATE_DB; default db/syndicate.sqlite].")
sources_option = click.option("--sources", "sources_dir", envvar="SYNDICATE_SOURCES", metavar="DIR",
                              type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_SOURCES,
                              show_default="sources/", help="Partner registry folder [env SYNDICATE_SOURCES].")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class _Exit(click.ClickException):
    """Printed as `Error: ...` with its own exit status (2: configuration; 75: the run
    lock is held; 130: interrupted)."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def _open_store(db: str | None, *, create: bool = False):
    """Only `run` and `demo` create a database; every other verb refuses a missing one
    (a mistyped --db must not produce an empty database and an empty digest)."""
    from .store import Store
    try:
        return Store.open(db, create=create)
    except MissingDatabase as e:
        raise _Exit(str(e)) from e
    except StoreError as e:
        raise click.ClickException(str(e)) from e


def _plain(text: object) -> str:
    """Partner-derived text for a terminal: control and format characters (ANSI escape
    sequences, bidi overrides, line breaks) shown escaped instead of acting on the terminal."""
    import unicodedata
    return "".join(ch if unicodedata.category(ch)[0] != "C" else ch.encode("unicode_escape").decode("ascii")
                   for ch in str(text))


def _emit_jsonl(rows) -> None:
    out = sys.stdout
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
