"""`syndicate claims review`: the review queue in the terminal, or in JSON for scripts.

Glue only: questions come from the library API's review session (`Syndicate.review`,
which wraps `review_session.ReviewSession` and takes the run lock per answer); this module
prints them and reads answers. Partner text is printed with control characters removed (a
sentence must not be able to move the cursor or recolour the terminal).
"""
from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import click

from .cli_base import _api, _jsonable, _open

ANSWERS = {"y": "yes", "yes": "yes", "n": "no", "no": "no", "s": "skip", "skip": "skip"}


def _clean(text: str) -> str:
    return "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text).strip()


def _print_question(number: int, q) -> None:
    d = _jsonable(q)
    click.echo("")
    click.echo(f"Question {number}: {d['question']}  "
               f"(P(same) {d['p_same']:.2f}; a yes joins {d['pairs']} pair(s) of sentences)")
    for label, side in (("A", d["left"]), ("B", d["right"])):
        what = "claim" if d["kind"] == "claim" else "FAQ question"
        click.echo(f"  {label}: {what} {side['id']}")
        for s in side["sentences"]:
            click.echo(f"    {_clean(s['partner'])} ({s['site']}):")
            click.echo(f"      \u201c{_clean(s['text'])}\u201d")


def _read_answers(path: str) -> list[dict]:
    """A JSON array, a JSON object with "answers", or JSON Lines; each item has "id" and
    "answer" (yes, no or skip; y/n/s accepted)."""
    raw = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
    raw = raw.strip()
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        try:
            data = [json.loads(line) for line in raw.splitlines() if line.strip()]
        except json.JSONDecodeError as e:
            raise click.UsageError(f"answers are not JSON or JSON Lines: {e}") from e
    if isinstance(data, dict):
        data = data.get("answers", [data])
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise click.UsageError('answers must be objects like {"id": "claim:3:7:…", "answer": "yes"}')
    return data


@click.command("review")
@click.option("--db", envvar="SYNDICATE_DB", metavar="URL",
              help="Database URL or SQLite file path [env SYNDICATE_DB; default db/syndicate.sqlite].")
@click.option("--kind", type=click.Choice(["claims", "faq", "all"]), default="all", show_default=True,
              help="Review claims, FAQ questions, or both.")
@click.option("--limit", type=int, default=None,
              help="Interactive: stop after this many answers. --json: print this many questions (default 10).")
@click.option("--json", "as_json", is_flag=True, help="Batch mode: print the next questions as JSON.")
@click.option("--answers", "answers_path", metavar="FILE",
              help="With --json: apply these answers first (a file, or - for standard input).")
def claims_review(db: str | None, kind: str, limit: int | None, as_json: bool, answers_path: str | None) -> None:
    """Ask whether two claims say the same thing, most useful question first.

    Each answer is recorded as an editor decision: yes merges the two claims, no keeps
    them apart in every later run; skip asks something else. The pair model that
    orders the questions is refitted from the answers and stored. FAQ questions go
    through the same queue.

    \b
    Examples:
      syndicate claims review                       # y / n / s / q at each question
      syndicate claims review --json --limit 20 > questions.json
      syndicate claims review --json --answers answers.json
      echo '{"id": "claim:3:7:0a1b2c3d4e", "answer": "yes"}' | syndicate claims review --json --answers -
    """
    if answers_path and not as_json:
        raise click.UsageError("--answers needs --json")
    kinds = {"claims": ("claim",), "faq": ("faq",), "all": ("claim", "faq")}[kind]
    with _api():
        session = _open(db).review(kinds)
    if as_json:
        applied, errors = [], []
        for item in _read_answers(answers_path) if answers_path else []:
            key, verdict = str(item.get("id", "")), ANSWERS.get(str(item.get("answer", "")).lower())
            if verdict is None:
                errors.append({"id": key, "error": f"unknown answer {item.get('answer')!r} (yes, no or skip)"})
                continue
            try:
                with _api():
                    done = session.answer(key, verdict)
            except click.ClickException as e:
                if getattr(e, "exit_code", 1) != 1:
                    raise  # the run lock held (75), interrupted (130)
                errors.append({"id": key, "error": e.message})
                continue
            applied.append({"id": done.id, "answer": done.verdict, "merged_into": done.merged_into})
        with _api():
            session.finish()
        questions = [_jsonable(q) for q in session.questions(limit or 10)]
        click.echo(json.dumps({"applied": applied, "errors": errors, "questions": questions},
                              indent=2, ensure_ascii=False))
        if errors:
            sys.exit(1)
        return
    counts = {"yes": 0, "no": 0, "skip": 0}
    number = 0
    while limit is None or number < limit:
        qs = session.questions(1)
        if not qs:
            click.echo("\nNo more questions.")
            break
        number += 1
        _print_question(number, qs[0])
        verdict = None
        while verdict is None:
            click.echo("  [y]es / [n]o / [s]kip / [q]uit > ", nl=False)
            line = sys.stdin.readline()
            if not line or line.strip().lower() in ("q", "quit"):
                click.echo("")
                verdict = "quit"
                break
            verdict = ANSWERS.get(line.strip().lower())
            if verdict is None:
                click.echo("  please answer y, n, s or q")
        if verdict == "quit":
            break
        with _api():  # the lock is taken per answer: a session may last long
            done = session.answer(qs[0].id, verdict)
        counts[verdict] += 1
        if done.merged_into is not None:
            click.echo(f"  merged into {'claim' if qs[0].kind == 'claim' else 'FAQ question'} {done.merged_into}")
    click.echo(f"{sum(counts.values())} answer(s): {counts['yes']} merged, {counts['no']} kept apart, "
               f"{counts['skip']} skipped")
    with _api():
        refitted = session.finish()
    if refitted:
        click.echo("pair model refitted from the answers; claims re-clustered with it")
