"""`syndicate claims review`, `claims hide` and `claims unhide`: the review queue in the
terminal (or in JSON for scripts), and the editor's "not a claim" outside the queue.

Glue only: questions come from the library API's review session (`Syndicate.review`, which
takes the run lock per answer and applies each answer in one transaction with its effect);
this module prints them and reads answers. Partner text is printed with control characters removed (a sentence must
not be able to move the cursor or recolour the terminal). A malformed answers file (not
UTF-8, not JSON, nested too deeply, missing, a folder) is a clear error, never a traceback.
"""
from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import click

from .cli_base import _api, _jsonable, _open, db_option
from .core import default_editor

ANSWERS = {"y": "yes", "yes": "yes", "n": "no", "no": "no", "none": "no", "s": "skip", "skip": "skip",
           "x": "not-claim", "not-claim": "not-claim", "not_claim": "not-claim"}
MAX_ANSWERS_BYTES = 16 * 1024 * 1024  # a batch of answers is kilobytes; refuse anything absurd


def _clean(text: str) -> str:
    return "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text).strip()


def _editor(by: str | None) -> str:
    """Who answers: --by, else $SYNDICATE_EDITOR, else the login name."""
    return by or default_editor()


def _print_question(number: int, d: dict) -> None:
    click.echo("")
    what = "claim" if d["kind"] == "claim" else "FAQ question"
    if d["items"] == 1:
        click.echo(f"Question {number}: {d['question']}  "
                   f"(P(same) {d['p_same']:.2f}; a yes joins {d['pairs']} pair(s) of sentences)")
        sides = (("A", d["left"], None), ("B", d["right"], None))
    else:
        click.echo(f"Question {number}: {d['question']}  ({d['items']} candidates)")
        sides = (("A", d["anchor"], None),
                 *((str(k), c, c["p_same"]) for k, c in enumerate(d["candidates"], 1)))
    for label, side, p in sides:
        click.echo(f"  {label}: {what} {side['id']}" + (f"  (P(same) {p:.2f})" if p is not None else ""))
        for s in side["sentences"]:
            click.echo(f"    {_clean(s['partner'])} ({s['site']}):")
            click.echo(f"      \u201c{_clean(s['text'])}\u201d")


class _Malformed(click.UsageError):
    pass


def _read_answers(path: str) -> list[dict]:
    """A JSON array, a JSON object with "answers", or JSON Lines; each item is an object
    with "id" (see `claims review --help` for the rest)."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_ANSWERS_BYTES + 1)
        else:
            p = Path(path)
            if p.is_dir():
                raise _Malformed(f"answers: {path} is a directory, not a file")
            if not p.exists():
                raise _Malformed(f"answers: no file at {path}")
            with p.open("rb") as f:
                data = f.read(MAX_ANSWERS_BYTES + 1)
    except OSError as e:
        raise _Malformed(f"answers: cannot read {path}: {e.strerror or e}") from None
    if len(data) > MAX_ANSWERS_BYTES:
        raise _Malformed(f"answers: {path} is larger than {MAX_ANSWERS_BYTES // (1024 * 1024)} MB")
    try:
        raw = data.decode("utf-8-sig").strip()
    except UnicodeDecodeError as e:
        raise _Malformed(f"answers: {path} is not UTF-8 text (byte {e.start}: {e.reason})") from None
    if not raw:
        return []
    try:
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            try:
                parsed = [json.loads(line) for line in raw.splitlines() if line.strip()]
            except json.JSONDecodeError as e:
                raise _Malformed(f"answers are not JSON or JSON Lines: {e}") from None
    except RecursionError:
        raise _Malformed("answers are nested too deeply to be answers") from None
    if isinstance(parsed, dict):
        parsed = parsed.get("answers", [parsed])
    if not isinstance(parsed, list) or not all(isinstance(x, dict) for x in parsed):
        raise _Malformed('answers must be objects like {"id": "claim:3:7:…", "answer": "yes"}')
    return parsed


def _ids(value, what: str) -> frozenset[int]:
    if value is None:
        return frozenset()
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValueError(f'"{what}" must be a list of ids')
    return frozenset(value)


def _reply_of(item: dict) -> dict:
    """The keyword arguments of `Review.answer` a JSON answer item gives (ValueError when it
    does not parse)."""
    hidden = _ids(item.get("not_claim"), "not_claim")
    same = item.get("same")
    answer = item.get("answer")
    if answer is not None:
        verdict = ANSWERS.get(str(answer).lower())
        if verdict is None:
            raise ValueError(f"unknown answer {answer!r} (yes, no, skip or not-claim)")
        if verdict == "not-claim" and not hidden:
            raise ValueError('"answer": "not-claim" needs "not_claim": [the mention ids that are no claim]')
        if same is not None:
            raise ValueError('give "answer" or "same", not both')
        return dict(verdict=verdict, hidden=hidden)
    if same is None and not hidden:
        raise ValueError('an answer needs "answer" (yes, no, skip, not-claim) or "same" (the candidate claim ids)')
    return dict(same=_ids(same, "same"), hidden=hidden)


def _parse_line(line: str, d: dict):
    """An interactive answer: (reply, quit). Pair questions: y, n, s, "x a" / "x b" (that
    side is not a claim). Group questions: the numbers of the candidates that say the same
    ("1 3"), n or none, y (all), s, "x a" / "x 2" (not a claim). q quits. The reply is the
    keyword arguments of `Review.answer`."""
    words = line.replace(",", " ").lower().split()
    if not words:
        return None, False
    if words[0] in ("q", "quit"):
        return None, True
    if len(words) == 1 and words[0] in ("y", "yes", "n", "no", "none", "s", "skip"):
        verdict = ANSWERS[words[0]]
        return dict(verdict=verdict), False
    sides = {"a": d["anchor"]}
    if d["items"] == 1:
        sides["b"] = d["candidates"][0]
    else:
        sides.update({str(k): c for k, c in enumerate(d["candidates"], 1)})
    same, hidden = set(), set()
    k = 0
    while k < len(words):
        w = words[k]
        if w.startswith("x"):
            target = w[1:] or (words[k + 1] if k + 1 < len(words) else "")
            k += 1 if w[1:] else 2
            if target not in sides:
                return None, False
            hidden.update(s["mention_id"] for s in sides[target]["sentences"])
            continue
        if d["items"] > 1 and w in sides and w != "a":
            same.add(sides[w]["id"])
            k += 1
            continue
        return None, False
    if d["items"] == 1 and not same:
        return (dict(verdict="not-claim", hidden=frozenset(hidden)) if hidden else None), False
    return dict(same=frozenset(same), hidden=frozenset(hidden)), False


@click.command("review")
@db_option
@click.option("--kind", type=click.Choice(["claims", "faq", "all"]), default="all", show_default=True,
              help="Review claims, FAQ questions, or both.")
@click.option("--limit", type=int, default=None,
              help="Interactive: stop after this many questions. --json: print this many questions (default 10).")
@click.option("--json", "as_json", is_flag=True, help="Batch mode: print the next questions as JSON.")
@click.option("--answers", "answers_path", metavar="FILE",
              help="With --json: apply these answers first (a file, or - for standard input).")
@click.option("--by", envvar="SYNDICATE_EDITOR", metavar="NAME",
              help="Who answers, recorded with each sentence hidden [env SYNDICATE_EDITOR; default: login name].")
@click.option("--groups", is_flag=True,
              help="Also ask group questions (\"which of these say the same as A?\"): fewer screens, but less "
                   "recall per item judged than one pair at a time (the default).")
def claims_review(db: str | None, kind: str, limit: int | None, as_json: bool, answers_path: str | None,
                  by: str | None, groups: bool) -> None:
    """Ask whether claims say the same thing, most useful question first.

    A question shows one claim (A) and one candidate: "do these two say the same?". With
    --groups a question may show several candidates ("which of these say the same as
    A?"): fewer screens, but the model learns once per screen instead of once per
    candidate, and one pair at a time gave more recall per item judged (docs/dedupe.md).
    Each answer is an editor decision:
    the candidates that say the same merge with A; the others are kept apart from it in
    every later run; "not a claim" (x) hides a sentence from the claims, the digest and
    the claim_summary view for good (undo with `syndicate claims unhide`). Questions come
    in order of expected gain (sentence pairs a yes would join, times P(same), per item
    judged); P(same) is the pair model's, refitted from the answers. FAQ questions go
    through the same queue.

    Interactive answers: y / n / s / q; "x a" or "x b": that side is not a claim; in a
    group question (--groups) the numbers of the candidates that say the same ("1 3"),
    or none.

    JSON answers (--answers): {"id": ..., "answer": "yes" | "no" | "skip"}, or
    {"id": ..., "same": [candidate claim ids]} (the others differ), with
    "not_claim": [mention ids] for sentences that are not claims.

    \b
    Examples:
      syndicate claims review                       # interactive
      syndicate claims review --json --limit 20 > questions.json
      syndicate claims review --json --answers answers.json
      syndicate claims review --groups              # with group questions
      echo '{"id": "claim:3:7:0a1b2c3d4e", "answer": "yes"}' | syndicate claims review --json --answers -
      echo '{"id": "claim:3:7+9:0a1b2c3d4e", "same": [9], "not_claim": [140]}' | syndicate claims review --json --groups --answers -
    """
    if answers_path and not as_json:
        raise click.UsageError("--answers needs --json")
    items = _read_answers(answers_path) if answers_path else []  # a bad file fails before any work
    kinds = {"claims": ("claim",), "faq": ("faq",), "all": ("claim", "faq")}[kind]
    with _api():
        session = _open(db).review(kinds, editor=_editor(by), groups=groups)
    if as_json:
        applied, errors = [], []
        for item in items:
            key = str(item.get("id", ""))
            try:
                with _api():
                    done = session.answer(key, **_reply_of(item))
            except ValueError as e:
                errors.append({"id": key, "error": str(e)})
                continue
            except click.ClickException as e:
                if getattr(e, "exit_code", 1) != 1:
                    raise  # the run lock held (75), interrupted (130)
                errors.append({"id": key, "error": e.message})
                continue
            applied.append({"id": done.id, "answer": done.verdict, "merged_into": done.merged_into,
                            "merged": list(done.merged), "kept_apart": list(done.kept_apart),
                            "hidden": list(done.hidden), "items": done.items})
        with _api():
            session.finish()
            questions = [_jsonable(q) for q in session.questions(limit or 10)]
        click.echo(json.dumps({"applied": applied, "errors": errors, "questions": questions},
                              indent=2, ensure_ascii=False))
        if errors:
            sys.exit(1)
        return
    counts = {"questions": 0, "merged": 0, "apart": 0, "hidden": 0, "skipped": 0}
    number = 0
    while limit is None or number < limit:
        with _api():
            qs = session.questions(1)
        if not qs:
            click.echo("\nNo more questions.")
            break
        number += 1
        d = _jsonable(qs[0])
        _print_question(number, d)
        prompt = ("  [y]es / [n]o / [s]kip / x a, x b: not a claim / [q]uit > " if d["items"] == 1 else
                  "  numbers that say the same (e.g. 1 3) / [n]one / [s]kip / x a, x 2: not a claim / [q]uit > ")
        reply, stop = None, False
        while reply is None:
            click.echo(prompt, nl=False)
            line = sys.stdin.readline()
            if not line:
                stop = True
                click.echo("")
                break
            reply, stop = _parse_line(line, d)
            if stop:
                click.echo("")
                break
            if reply is None:
                click.echo("  please answer as shown, or q to quit")
        if stop:
            break
        try:
            with _api():  # the lock is taken per answer: a session may last long
                done = session.answer(qs[0].id, **reply)
        except click.ClickException as e:
            if getattr(e, "exit_code", 1) != 1:
                raise
            click.echo(f"  not applied: {e.message}")
            continue
        counts["questions"] += 1
        counts["merged"] += len(done.merged)
        counts["apart"] += len(done.kept_apart)
        counts["hidden"] += len(done.hidden)
        counts["skipped"] += done.verdict == "skip"
        what = "claim" if qs[0].kind == "claim" else "FAQ question"
        if done.merged_into is not None:
            click.echo(f"  merged into {what} {done.merged_into}")
        if done.hidden:
            click.echo(f"  hidden as not a claim: mention(s) {', '.join(map(str, done.hidden))}")
    click.echo(f"{counts['questions']} answer(s): {counts['merged']} merged, {counts['apart']} kept apart, "
               f"{counts['hidden']} hidden, {counts['skipped']} skipped")
    with _api():
        refitted = session.finish()
    if refitted:
        click.echo("pair model refitted from the answers; claims re-clustered with it")


@click.command("hide")
@click.argument("ids", type=int, nargs=-1, required=True)
@click.option("--mention", "as_mentions", is_flag=True,
              help="IDS are mention ids (default: claim ids, every current member of each is hidden).")
@click.option("--by", envvar="SYNDICATE_EDITOR", metavar="NAME",
              help="Who decides [env SYNDICATE_EDITOR; default: login name].")
@db_option
def claims_hide(ids: tuple[int, ...], as_mentions: bool, by: str | None, db: str | None) -> None:
    """Not a claim: hide sentences from the claims, the digest and claim_summary, for good.

    The decision is stored (who, when) and every run and rebuild respects it: the
    partner's sentence with that text, in this and later revisions, is labelled `hidden`
    and joins no claim. Undo with `syndicate claims unhide`. Hidden sentences are kept
    as training data for the sentence labeller (`Store.hidden_mentions()`).

    \b
    Examples:
      syndicate claims hide 12                  # every sentence of claim 12
      syndicate claims hide --mention 140 141   # two sentences
    """
    with _api():
        hidden = _open(db).hide_mentions(ids, mentions=as_mentions, by=_editor(by))
    click.echo(f"hidden as not a claim: {len(hidden)} mention(s) ({', '.join(map(str, hidden))})")


@click.command("unhide")
@click.argument("ids", type=int, nargs=-1, required=True)
@click.option("--mention", "as_mentions", is_flag=True,
              help="IDS are mention ids (default: claim ids, the sentences hidden out of each).")
@click.option("--by", envvar="SYNDICATE_EDITOR", metavar="NAME",
              help="Who decides [env SYNDICATE_EDITOR; default: login name].")
@db_option
def claims_unhide(ids: tuple[int, ...], as_mentions: bool, by: str | None, db: str | None) -> None:
    """Undo "not a claim": the sentences are claims again and join a claim now.

    The hide decision is kept, marked undone (who, when); so is the `claims hide`
    entry of the desk's history once none of its sentences is still hidden.

    \b
    Examples:
      syndicate claims unhide 12                # what was hidden out of claim 12
      syndicate claims unhide --mention 140
    """
    with _api():
        restored = _open(db).unhide_mentions(ids, mentions=as_mentions, by=_editor(by))
    click.echo(f"claims again: {len(restored)} mention(s) ({', '.join(map(str, restored))})")


# `syndicate claims ...` registers these (cli.py)
COMMANDS = (claims_review, claims_hide, claims_unhide)
