"""What each sentence is: claim, promo, question, heading or other (not a claim).

Owns: the label decision, in two steps.
1. What the page's structure or a certain cue says: a heading or a question; a figure
   caption; a breadcrumb trail ("Home » Blog » ...", or the page's JSON-LD BreadcrumbList);
   a sentence naming the partner, a phone number or an e-mail address (promo); a byline or
   bio (it names a person the page credits as author or reviewer); a short table cell; a
   piece without a final stop that runs into the next sentence (a caption glued to it and
   cut off) or that has no verb (a label, a list entry of nouns); an answer particle ("Yes.",
   "Short answer: yes."); a call to the reader or a first-person offer (`_cues`: "Call us
   today", "we offer", "Our team is committed"); a teaser ("keep reading"), a link to
   "this post", or the page's own text as the sentence's subject ("This guide explains...",
   "In this article, we...") (other).
2. Everything else, with the sentence's vector: the learned model (`_label_model`, weights
   shipped in the package) over general features (`_label_features`) and the vector: the
   head fitted on the vectors of the encoder that made them (its `name`). Without a vector
   (no encoder given), step 1 alone decides and the rest are claims.

Public (through `pipeline.extract`): `label_sentences(texts, partner_names=())` for
sentences without markup, `label_page_text(text, partner_names=())` for a plain text page,
`SentenceLabeller` for extraction. `classify` labels one sentence (step 1 and, given a
vector, step 2).
Must not: look at HTML (it gets text, the context `_article` read from the page, and
link facts), or load the sentence model itself (vectors or an encoder come from the caller).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from pipeline.types import Kind

from ._cues import (_CONTACT_US, _EMAIL, _IMPERATIVE, _LABELLED_PARTICLE, _OUR_SUBJECT, _POINTER_ANCHORS,
                    _WE_SERVICE, PHONE, LinkFact, Partner, _words, about_itself, is_teaser, leans_on_previous)
from ._label_features import FEATURES, SentenceContext, has_verb, sentence_features
from ._label_model import LabelModel, shipped_model
from ._plain import page_sentences
from ._text import normalize_text

__all__ = ["Candidate", "LinkFact", "Partner", "PHONE", "SentenceContext", "SentenceLabeller", "classify",
           "label_candidates", "label_page_text", "label_sentences", "is_teaser", "leans_on_previous",
           "structural_kind", "candidate_features", "names_someone", "is_breadcrumb", "is_trail"]

_DIGIT_RUN = re.compile(r"\d{3}")
_TRAIL_SEPARATOR = re.compile(r"\s(\u00bb|\u203a|>|/|\|)\s")


def is_trail(text: str) -> bool:
    """A breadcrumb trail written out: short capitalized parts between separators, "Home »
    Blog » Sleep" (two parts are enough with » or ›), "Home / Services / Detox" (three with
    /, > or |, so that "alcohol / drug use" in a sentence is not one)."""
    parts = _TRAIL_SEPARATOR.split(text.strip())
    names, seps = parts[0::2], set(parts[1::2])
    if len(names) < 2 or len(seps) != 1 or (len(names) < 3 and not seps & {"\u00bb", "\u203a"}):
        return False
    if not all(n and (n[0].isupper() or n[0].isdigit()) for n in names):
        return False
    return all(len(n.split()) <= 6 for n in names[:-1]) and len(names[-1].split()) <= 14
_CELL_WORDS = 6  # a table cell this short is a value, not a statement
_TERMINAL = re.compile(r"[.!?:;\u2026][\"'\u201d\u2019)\]]*\d{0,2}$")
_FINITE_HINT = re.compile(r"\b(?:is|are|was|were|can|may|will|has|have|had|does|do|did)\b")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence to label and what the page says about it."""

    text: str  # normalized
    context: SentenceContext = SentenceContext()
    is_heading: bool = False
    is_question: bool = False
    is_lead: bool = False  # the bold lead-in of its paragraph or list item
    links: tuple[LinkFact, ...] = ()


def structural_kind(c: Candidate, partner: Partner) -> Kind | None:
    """The label the page's structure (or a certain cue) gives, else None."""
    text = c.text
    stripped = text.strip()
    if c.context.breadcrumb or is_trail(stripped):
        return Kind.OTHER  # a breadcrumb trail ("Home » Blog » ...")
    if c.is_heading:
        return Kind.HEADING
    if c.is_lead and _words(stripped) <= 10 and not stripped.endswith("?"):
        return Kind.HEADING
    if c.is_question or stripped.rstrip("\"')]").endswith("?"):
        return Kind.QUESTION
    block = c.context.block
    if block in ("figcaption", "caption"):
        return Kind.OTHER  # a figure's or a table's caption
    if partner.named_in(stripped):
        return Kind.PROMO
    if c.context.names_person and (_words(stripped) <= 25 or not stripped.endswith((".", "!"))):
        return Kind.OTHER  # "Written by Dana Whitfield, MS, RD", a bio: a person the page credits
    if _DIGIT_RUN.search(stripped) and PHONE.search(stripped):
        return Kind.PROMO
    if "@" in stripped and _EMAIL.search(stripped):
        return Kind.PROMO
    if block in ("td", "th") and (_words(stripped) < _CELL_WORDS or not _TERMINAL.search(stripped)):
        return Kind.OTHER  # a value in a table ("Days 1-7", "Vivid dreams; longer stretches of sleep")
    if not _TERMINAL.search(stripped):
        if not c.context.last_in_block:
            # a piece that runs into the next sentence without a stop: a caption glued to
            # it and cut off by the splitter ("...struggles with a headache" | "Alcohol...")
            return Kind.OTHER
        if not _FINITE_HINT.search(stripped.lower()) and not has_verb(stripped):
            return Kind.OTHER  # a label, a list entry of nouns ("Sensitivity to stress")
        if block in ("li", "dd", "dt") and _words(stripped) <= _CELL_WORDS:
            return Kind.OTHER  # a short list entry without a stop ("Long drives without a break")
    # "Yes." or "Not always." opening an answer states nothing on its own: merged across
    # sites it would become a canonical "claim" of one word (seen in FAQ answers).
    if _words(stripped) < 3:
        return Kind.OTHER
    m = _LABELLED_PARTICLE.match(stripped)
    if m and _words(m.group(1)) < 3:
        return Kind.OTHER
    return cue_kind(stripped, c.links)


def cue_kind(stripped: str, links: Sequence[LinkFact] = ()) -> Kind | None:
    """A call to action, a first-person offer or a teaser: the cue rules of `_cues`, precise
    on both golds (no gold claim sentence fires them)."""
    low = stripped.lower()
    if is_teaser(low) or about_itself(stripped):
        return Kind.OTHER
    if links and any(l.internal and l.text.strip().lower().strip(".:!") in _POINTER_ANCHORS for l in links):
        return Kind.OTHER
    if _IMPERATIVE.search(stripped):
        return Kind.PROMO
    has_we, has_our = "we" in low, "our" in low
    if (has_our or " us" in low) and _CONTACT_US.search(stripped):
        return Kind.PROMO
    if (has_we and _WE_SERVICE.search(stripped)) or (has_our and _OUR_SUBJECT.search(stripped)):
        return Kind.PROMO
    if links and sum(1 for l in links if l.internal and not l.article_like) >= 2:
        return Kind.PROMO  # it links two or more of the partner's own service pages
    return None


def candidate_features(c: Candidate) -> list[float]:
    """The model's features of one candidate (its link facts folded into the context)."""
    ctx = c.context
    if c.links:
        internal = sum(1 for l in c.links if l.internal and not l.article_like)
        pointer = any(l.internal and l.text.strip().lower().strip(".:!") in _POINTER_ANCHORS for l in c.links)
        ctx = replace(ctx, internal_links=internal, pointer_link=pointer)
    return sentence_features(c.text, ctx)


_KIND = {"claim": Kind.CLAIM, "promo": Kind.PROMO, "other": Kind.OTHER}


def names_someone(text: str, people: Sequence[str]) -> bool:
    """Does the sentence name one of `people` (whole words, any case)?"""
    low = text.lower()
    return any(p.lower() in low and re.search(r"(?<!\w)" + re.escape(p.lower()) + r"(?!\w)", low) for p in people)


_SEPARATOR_CHARS = re.compile(r"[\u00bb\u203a>|/\u2022\u00b7\\\-]+")


def is_breadcrumb(text: str, names: Sequence[str]) -> bool:
    """Is the sentence the page's breadcrumb trail: two or more of its JSON-LD
    BreadcrumbList names in order, and nothing else but separators?"""
    if len(names) < 2:
        return False
    rest = _SEPARATOR_CHARS.sub(" ", text.lower())
    found = 0
    for name in names:
        key = name.lower()
        at = rest.find(key)
        if at >= 0:
            rest = rest[:at] + " " + rest[at + len(key):]
            found += 1
    return found >= 2 and not rest.strip(" \"'.:")


@dataclass(frozen=True)
class SentenceLabeller:
    """How extraction labels sentences: a model (the shipped one, or one given run-time
    examples with `LabelModel.with_examples`) and a sentence encoder (anything with
    `encode(texts) -> unit rows`, such as `pipeline.dedupe.embed.default_embedder()`). With
    the encoder the learned model decides what structure and cues leave open (one encoding
    per such sentence); without it (the default, and `syndicate extract`), structure and
    cues alone decide and the rest are claims."""

    model: LabelModel | None = None
    embedder: object | None = None

    def label(self, candidates: Sequence[Candidate], partner: Partner) -> list[Kind]:
        return label_candidates(candidates, partner, model=self.model, embedder=self.embedder)


def label_candidates(candidates: Sequence[Candidate], partner: Partner, *, model: LabelModel | None = None,
                     vectors: np.ndarray | None = None, embedder=None, encoder: str | None = None) -> list[Kind]:
    """A label per candidate: structure and cues first, then the learned model for the rest.
    The model reads `vectors` (one unit row per candidate, all-MiniLM-L6-v2) or asks the
    `embedder` for the open candidates only; with neither (or vectors of another length than
    the model reads), the open candidates are claims (a model's run-time examples still
    apply to their exact texts). Without a `model`, the shipped head for the encoder named
    `encoder` (by default the `embedder`'s `name`; the reference encoder's head when the
    name is unknown or missing)."""
    if model is None:
        model = shipped_model(encoder or getattr(embedder, "name", None))
    kinds: list[Kind | None] = [structural_kind(c, partner) for c in candidates]
    rest = [i for i, k in enumerate(kinds) if k is None]
    if not rest:
        return kinds  # type: ignore[return-value]
    texts = [candidates[i].text for i in rest]
    if vectors is not None:
        vecs = np.asarray(vectors)[rest]
    elif embedder is not None:
        vecs = np.asarray(embedder.encode(texts), dtype=np.float32)
    else:
        vecs = None
    if vecs is not None and (vecs.ndim != 2 or vecs.shape[1] != model.vector_dim):
        vecs = None  # another encoder's vectors (a test's hashing embedder): the model cannot read them
    if vecs is None:
        classes = model.overrides(texts, ["claim"] * len(rest))
    else:
        feats = np.asarray([candidate_features(candidates[i]) for i in rest], dtype=np.float64)
        classes = model.decide(model.probabilities(feats, vecs), texts, vecs)
    for i, cls in zip(rest, classes):
        kinds[i] = _KIND[cls]
    return kinds  # type: ignore[return-value]


def classify(text: str, *, block: str, partner: Partner, links: tuple[LinkFact, ...] = (),
             is_heading: bool = False, is_question: bool = False, is_lead: bool = False,
             context: SentenceContext | None = None, vector: np.ndarray | None = None) -> Kind:
    """The label of one sentence (normalized text). `is_lead`: the sentence is the bold
    lead-in of its paragraph or list item ("Make your room a cave." before the advice).
    `vector`: its all-MiniLM-L6-v2 vector (the learned model decides what the rules leave)."""
    ctx = context or SentenceContext(block=block)
    vectors = None if vector is None else np.asarray(vector, dtype=np.float32).reshape(1, -1)
    return label_candidates([Candidate(text, ctx, is_heading, is_question, is_lead, links)], partner,
                            vectors=vectors)[0]


def label_sentences(texts: Sequence[str], partner_names: Sequence[str] = (), *,
                    contexts: Sequence[SentenceContext] | None = None, vectors: np.ndarray | None = None,
                    embedder=None, model: LabelModel | None = None, encoder: str | None = None) -> list[Kind]:
    """Labels for sentences that come without markup (seed text, a feed's plain summary).

    `texts`: the sentences of one article in reading order (their place counts: bylines and
    lead-ins sit near the top). `partner_names`: the names the publishing site goes by (a
    sentence naming it is promo). `contexts`: where each sits, when known (block, list
    lead...); by default each is a paragraph sentence at its index. `vectors` (one unit row
    per text) or an `embedder` (anything with `encode(texts)`, e.g.
    `pipeline.dedupe.embed.default_embedder()`) let the model read the sentence vectors;
    without either step 1 alone decides. `model`: a model with run-time examples
    (`LabelModel.with_examples`), else the shipped head for the encoder named `encoder`
    (by default the embedder's `name`, e.g. `embedder_name(default_embedder())`; the
    reference encoder's, torch, when unknown)."""
    texts = [normalize_text(t) for t in texts]
    if contexts is None:
        contexts = [SentenceContext(index=i, first_in_block=True, last_in_block=True) for i in range(len(texts))]
    partner = Partner.from_names(list(partner_names))
    return label_candidates([Candidate(t, c) for t, c in zip(texts, contexts)], partner, model=model,
                            vectors=vectors, embedder=embedder, encoder=encoder)


def label_page_text(text: str, partner_names: Sequence[str] = (), *, embedder=None,
                    model: LabelModel | None = None) -> list[tuple[str, Kind]]:
    """(sentence, label) for every sentence of a plain text page, in order: lines without
    final punctuation are headings, bulleted lines list items (`_plain`). `embedder`, `model`:
    as for `label_sentences`."""
    sentences = page_sentences(text)
    partner = Partner.from_names(list(partner_names))
    cands = [Candidate(s.text, s.context, is_heading=s.heading, is_question=s.question) for s in sentences]
    kinds = label_candidates(cands, partner, model=model, embedder=embedder)
    return [(s.display, k) for s, k in zip(sentences, kinds)]


assert len(FEATURES) == len(sentence_features("A sentence."))
