"""The review queue that learns: asks an editor whether two claims (or two FAQ questions)
say the same thing, most useful question first, and refits the pair model from the answers.

Pure: takes the claims as they are, the mentions' sentence vectors, the answers so far and
the current model; returns questions, evidence and refitted models. No database, no
terminal, no clock: the store records answers and models, the CLI asks the questions.

- `ReviewQueue(kind, mentions, vectors).ask(claims, answers, model, limit)` -> `Question`s.
- `refit(answers, kind)` -> the `PairModel` those answers give (a pure function of them:
  the same answers give the same model, so a rebuild and incremental runs agree).
- `cannot_links(answers, kind)` -> mention pairs an editor kept apart.
"""
from __future__ import annotations

from typing import Iterable

from .evidence import FEATURES, Corpus
from .model import PairModel, fit, prior_model
from .queue import KINDS, VERDICTS, Answer, Question, ReviewQueue, cannot_links, question_key

__all__ = ["FEATURES", "KINDS", "VERDICTS", "Answer", "Corpus", "PairModel", "Question",
           "ReviewQueue", "cannot_links", "fit", "prior_model", "question_key", "refit"]


def refit(answers: Iterable[Answer], kind: str = "claim") -> PairModel:
    """The pair model fitted on every yes/no answer of this kind (skips teach nothing)."""
    used = [a for a in answers if a.kind == kind and a.verdict in ("yes", "no") and len(a.evidence) == len(FEATURES)]
    return fit([a.evidence for a in used], [a.verdict == "yes" for a in used])
