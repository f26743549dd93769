"""What every group of `syndicate` verbs shares (pipeline/cli.py, cli_research.py,
cli_review.py): the --db and --sources options, opening the library API for a verb, the
exit statuses, turning the API's errors into messages, JSON output of its typed results and
terminal-safe partner text. Glue only, no decisions: every verb calls `pipeline.core`.
"""
from __future__ import annotations

import dataclasses
import json
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import click

from .control import EXIT_INTERRUPTED
from .core import Syndicate
from .errors import ConfigError, Interrupted, LockHeld, MissingDatabase, OutputError, StoreError
from .safetext import terminal_text

DEFAULT_SOURCES = Path("sources")  # relative to the current folder
EXIT_FAILED = 1  # some partner failed (or a registry file is bad, or the digest could not be written)
EXIT_DEGRADED = 3  # some partner was degraded, none failed
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later
_OUTCOME_STATUS = {"ok": 0, "failed": EXIT_FAILED, "degraded": EXIT_DEGRADED, "interrupted": EXIT_INTERRUPTED}


def exit_status(outcome: str) -> int:
    """The exit status of a run's (or scheduled job's) outcome: ok 0, failed 1, degraded 3,
    interrupted 130."""
    return _OUTCOME_STATUS[outcome]

db_option = click.option("--db", envvar="SYNDICATE_DB", metavar="URL",
                         help="Database URL or SQLite file path [env SYNDICATE_DB; default db/syndicate.sqlite].")
sources_option = click.option("--sources", "sources_dir", envvar="SYNDICATE_SOURCES", metavar="DIR",
                              type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_SOURCES,
                              show_default="sources/", help="Partner registry folder [env SYNDICATE_SOURCES].")


class _Exit(click.ClickException):
    """Printed as `Error: ...` with its own exit status (2: configuration; 75: the run
    lock is held; 130: interrupted)."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def _open(db: str | None, sources: Path | None = None, *, create: bool = False) -> Syndicate:
    """The library API on --db (and --sources). Only `run` and `demo` create a database;
    every other verb refuses a missing one at once (a mistyped --db must not produce an
    empty database and an empty digest)."""
    syn = Syndicate(db, sources)
    if not create:
        with _api():
            syn.check_database()
    return syn


@contextmanager
def _api(lock_hint: str = "try again when it has finished") -> Iterator[None]:
    """The API's errors as the CLI reports them: a missing database or a configuration
    error exit 2, the run lock held 75 (naming the holder), interrupted 130, any other
    store error 1."""
    try:
        yield
    except MissingDatabase as e:
        raise _Exit(str(e)) from e
    except LockHeld as e:
        raise _Exit(f"{e}; {lock_hint}", EXIT_LOCKED) from e
    except Interrupted as e:
        raise _Exit(str(e), EXIT_INTERRUPTED) from e
    except ConfigError as e:
        raise click.UsageError(str(e)) from e
    except (StoreError, OutputError) as e:
        raise click.ClickException(str(e)) from e


def _plain(text: object) -> str:
    """Partner-derived text for a terminal: control and format characters (ANSI escape
    sequences, bidi overrides, line breaks) shown escaped instead of acting on the terminal."""
    return terminal_text(text)


def _jsonable(value):
    """A typed result as JSON values: dataclasses as objects, datetimes as ISO 8601 UTC."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, Path):
        return str(value)
    return value


def _json(value, **kwargs) -> str:
    return json.dumps(_jsonable(value), ensure_ascii=False, default=str, **kwargs)


def _emit_jsonl(rows) -> None:
    out = sys.stdout
    for row in rows:
        out.write(_json(row) + "\n")
