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
from .model import ENGINE_THRESHOLD, PRIOR, PairModel, engine_prior, fit, fit_prior, prior_model
from .queue import (KINDS, VERDICTS, Answer, Candidate, Question, ReviewQueue, apart_groups, cannot_links,
                    parse_key, question_key)

__all__ = ["FEATURES", "KINDS", "PRIOR", "VERDICTS", "Answer", "Candidate", "Corpus", "PairModel", "Question",
           "ReviewQueue", "apart_groups", "cannot_links", "engine_model", "fit", "fit_prior", "parse_key",
           "prior_model", "question_key", "refit"]

ENGINE_MIN_ANSWERS = 20  # yes/no answers (of both kinds of verdict) before runs use a model


def _fit_on(answers: Iterable[Answer], kind: str, prior: PairModel) -> PairModel:
    used = [a for a in answers if a.kind == kind and a.verdict in ("yes", "no")
            and all(n in a.evidence for n in prior.names)]
    return fit([a.evidence for a in used], [a.verdict == "yes" for a in used], prior=prior)


def refit(answers: Iterable[Answer], kind: str = "claim", prior: PairModel | None = None) -> PairModel:
    """The queue's pair model fitted on every yes/no answer of this kind (skips and "not a
    claim" teach it nothing), from `prior` (default: the shipped prior)."""
    return _fit_on(answers, kind, prior or prior_model())


def engine_model(answers: Iterable[Answer], kind: str = "claim") -> dict | None:
    """The pair model the clustering engine uses in later runs (over its own features,
    `dedupe.FEATURE_NAMES`, merging at P >= 0.95), as the store keeps it; None until there
    are ENGINE_MIN_ANSWERS yes/no answers with both verdicts among them."""
    answers = list(answers)
    verdicts = [a.verdict for a in answers if a.kind == kind and a.verdict in ("yes", "no")]
    if len(verdicts) < ENGINE_MIN_ANSWERS or len(set(verdicts)) < 2:
        return None
    m = _fit_on(answers, kind, engine_prior())
    return {**m.to_dict(), "threshold": ENGINE_THRESHOLD}
