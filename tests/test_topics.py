"""Topic labels a person would write (issue 19): noun phrases from the week's claims,
never a bare verb or a filler word, no two labels sharing a word, no section under two
items; on unit sentences and on the demo's weeks (a database built from the demo sites)."""
from __future__ import annotations

import pytest

from fixtures.demo_db import build_demo_db
from fixtures.embedders import HashEmbedder
from pipeline import Syndicate
from pipeline.publish import build_digest
from pipeline.publish.topics import OTHER, _Evidence, _fold, _stem, group_topics, noun_phrases

# the labels the issue reported (verbs, an adjective, two overlapping ones): never again
REPORTED = {"Bring", "Feel", "Notice", "Main", "Bed, head", "Sleep", "Nights"}


def test_verbs_adjectives_and_filler_are_never_phrases():
    texts = ["You may notice vivid dreams.", "Bring it up with your doctor.", "The first weeks can feel worse.",
             "Our main lobby is closed.", "Bring a dish to the potluck.", "The dreams are vivid.", "Ask your doctor.",
             "None of the aids is safe.", "Give it twenty minutes at the lobby."]
    ev = _Evidence(texts)
    phrases = set()
    for t in texts:
        phrases |= set(noun_phrases(t, ev))
    assert {("notice",), ("bring",), ("feel",), ("main",), ("first",), ("none",), ("minute",)}.isdisjoint(phrases)
    assert {("doctor",), ("lobby",), ("dream",), ("potluck",), ("dish",)} <= phrases


def test_labels_share_no_word_and_small_topics_fold():
    claims = [(1, "Sleep aids carry risks."), (2, "Sleep aids are habit-forming."), (3, "The sleep stage matters."),
              (4, "A sleep stage is short."), (5, "The doctor can help."), (6, "Ask the doctor first.")]
    groups = group_topics(claims)
    words = [{_stem(_fold(w.lower())) for w in label.split()} for label, _ in groups if label != OTHER]
    assert all(not (a & b) for i, a in enumerate(words) for b in words[i + 1:])
    assert all(len(keys) >= 2 for label, keys in groups if label != OTHER)
    assert sorted(k for _, keys in groups for k in keys) == [1, 2, 3, 4, 5, 6]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    url = build_demo_db(tmp_path_factory.mktemp("topics") / "demo.sqlite")
    with Syndicate(url, embedder=HashEmbedder()) as syn:
        yield syn


@pytest.mark.parametrize("week", ["2026-W45", "2026-W46", "2026-W47"])
def test_demo_weeks_have_labels_a_person_would_write(demo, week):
    wk = demo.week(week)
    rows = demo.digest_week(wk)
    digest = build_digest(rows, wk)
    labels = [t.label for t in digest.topics if t.label != OTHER]
    print(week, labels)
    assert not REPORTED & set(labels)
    texts = [" ".join(s.text for s in c.statements) for c in rows.claims]
    evidence = _Evidence(texts)
    for t in digest.topics:
        if t.label == OTHER:
            continue
        assert t.total >= 2 and len(t.label.split()) <= 3
        head = _fold(t.label.split()[-1].lower())
        assert evidence.nounish(head), f"{t.label!r}: its head is not used as a noun in the week"
    words = [{_stem(_fold(w.lower())) for w in label.split()} for label in labels]
    assert all(not (a & b) for i, a in enumerate(words) for b in words[i + 1:]), labels
