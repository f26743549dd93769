"""A small research database built through the real store (our own words, no model, no
network): three partners, one claim stated by all three, one by two, FAQ answers to one
question from two partners, citations of every kind, and an article revised once.

`build(url)` fills the database at `url` (SQLite or PostgreSQL) and returns the Store."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.dedupe import choose_canonical
from pipeline.store import Store
from pipeline.types import (ArticleMeta, Citation, ExtractedArticle, FaqPair, Kind, Membership, Sentence,
                            Source)

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=timezone.utc)
WEEK2 = T0 + timedelta(days=7)
SOURCES = [
    Source(id="birch", name="Birch Clinic", homepage="https://birch.example/"),
    Source(id="cedar", name="Cedar & Sons <Recovery>", homepage="https://www.cedar.example/"),
    Source(id="dune", name="Dune Health", homepage="https://dune.example/"),
]
WALK = {  # one claim, three partners, three wordings
    "birch": "Walking every day lowers resting blood pressure.",
    "cedar": "A daily walk brings resting blood pressure down.",
    "dune": "Daily walking reduces resting blood pressure in adults.",
}
SLEEP = {"birch": "Regular exercise improves sleep quality.",
         "cedar": "People who exercise regularly sleep better."}


def _article(site: str, url: str, sentences: list[tuple], faq=(), published=T0) -> ExtractedArticle:
    sents = tuple(Sentence(position=i, text=t, display=t, kind=k, section=None, citations=tuple(c))
                  for i, (t, k, c) in enumerate(sentences))
    return ExtractedArticle(url=url, meta=ArticleMeta(title=f"{site.title()} on walking", published=published),
                            text=" ".join(s.text for s in sents), sentences=sents,
                            faq=tuple(FaqPair(q, a, i, "json-ld") for i, (q, a) in enumerate(faq)))


def articles() -> dict[str, ExtractedArticle]:
    out = {}
    for site in WALK:
        home = next(s.homepage for s in SOURCES if s.id == site)
        sentences = [(f"{site.title()} on walking", Kind.HEADING, []),
                     (WALK[site], Kind.CLAIM, [])]
        if site in SLEEP:
            sentences.append((SLEEP[site], Kind.CLAIM, []))
        if site == "birch":
            sentences += [("Tolerance to exercise grows with practice.", Kind.CLAIM,
                           [Citation("Journal of Walking, 2024", "https://doi.org/10.0000/walk", "1")]),
                          ("The national guidelines recommend 150 minutes a week.", Kind.CLAIM,
                           [Citation("guidelines", "https://health.example.org/guidelines")]),
                          ("Book a walking assessment with our team today.", Kind.PROMO,
                           [Citation("Book now", "https://booking.example.net/birch")])]
        if site == "cedar":
            sentences.append(("Our programme explains why pacing matters.", Kind.CLAIM,
                              [Citation("programme", home + "programme/")]))
        faq = [("How often should I walk?", f"{site.title()} says: most days of the week.")] \
            if site in ("birch", "dune") else []
        out[site] = _article(site, f"{home}blog/walking/", sentences, faq)
    return out


def build(url: str) -> Store:
    store = Store.open(url)
    store.sync_sources(SOURCES)
    arts = articles()
    saved = {site: store.save_article(site, a.url, a, guid=None, snapshot_sha256=None, fetched_at=T0)
             for site, a in arts.items()}
    mentions = {m["text"]: m["mention_id"] for m in store.export_mentions()}
    memberships = [Membership(mentions[WALK["birch"]], 1, "new"), Membership(mentions[WALK["cedar"]], 1, "paraphrase", 0.8),
                   Membership(mentions[WALK["dune"]], 1, "paraphrase", 0.7),
                   Membership(mentions[SLEEP["birch"]], 2, "new"), Membership(mentions[SLEEP["cedar"]], 2, "paraphrase", 0.75)]
    next_id = 3
    for m in store.export_mentions():
        if m["kind"] == "claim" and m["mention_id"] not in {x.mention_id for x in memberships}:
            memberships.append(Membership(m["mention_id"], next_id, "new"))
            next_id += 1
    store.save_memberships(memberships, T0)
    store.refresh_claims(choose_canonical, T0)
    states, new, next_q = store.faq_states()
    store.save_faq_memberships([Membership(m.mention_id, 1, "new" if i == 0 else "paraphrase", 0.9)
                                for i, m in enumerate(new)])
    # week 2: dune revises its article: one sentence changed, one added
    dune = arts["dune"]
    revised = _article("dune", dune.url, [(s.text, s.kind, s.citations) for s in dune.sentences][:1]
                       + [("Daily walking reduces resting blood pressure in most adults.", Kind.CLAIM, []),
                          ("Short walks after meals also help blood sugar.", Kind.CLAIM, [])],
                       faq=[(f.question, f.answer) for f in dune.faq])
    store.save_article("dune", dune.url, revised, guid=None, snapshot_sha256=None, fetched_at=WEEK2)
    new_mentions = [m for m in store.export_mentions() if m["kind"] == "claim" and m["claim_id"] is None]
    store.save_memberships([Membership(m["mention_id"], 1 if "walking reduces" in m["text"] else next_id + i,
                                       "paraphrase" if "walking reduces" in m["text"] else "new", 0.9)
                            for i, m in enumerate(new_mentions)], WEEK2)
    store.refresh_claims(choose_canonical, WEEK2)
    assert saved
    return store
