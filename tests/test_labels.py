"""What is a claim: structure and cue rules, the learned label model, and its held-out figures.

Fast tests use our own sentences and pages (no sentence model). Slow tests load
all-MiniLM-L6-v2: the leave-sites-out figures on ../shared (skipped without it, a failure
under CI=true), the model's stability under a small vector drift, run-time examples, the
training script's determinism, and the demo run's page furniture.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from fixtures.loaders import load_benchmark, require_shared
from pipeline.extract import (LabelModel, SentenceLabeller, extract_article, label_page_text, label_sentences,
                              shipped_model, split_sentences)
from pipeline.extract._label_model import shipped_encoders
from pipeline.extract._label_features import FEATURES, SentenceContext, sentence_features
from pipeline.extract._text import normalize_text
from pipeline.types import Kind

# --- structure and cues (no sentence model) ------------------------------------------------


def test_the_model_ships_in_the_package_and_matches_the_features():
    model = shipped_model()
    assert model.head.weights.shape == (3, len(FEATURES) + 384)
    assert 0 < model.threshold < 1
    assert model.about["fitted_on"], "the file says what it was fitted on"


def test_a_model_file_gives_the_head_of_the_encoders_name_and_the_reference_head_otherwise():
    from dataclasses import replace

    from pipeline.dedupe.embed import MiniLMEmbedder, OnnxMiniLMEmbedder, embedder_name
    from pipeline.extract._label_model import to_file_dict

    torch_name = embedder_name(MiniLMEmbedder())
    assert shipped_encoders()[0] == torch_name  # the reference (torch) first
    # the ONNX encoders (float32 default, int8 opt-in) read the reference head unless the
    # file has their own
    for recipe in ("fp32", "int8"):
        name = embedder_name(OnnxMiniLMEmbedder(recipe=recipe))
        assert shipped_model(name).encoder == (name if name in shipped_encoders() else torch_name)
    # a file with two heads: each name gets its own, any other name the reference's
    ref = shipped_model()
    other = replace(ref, head=replace(ref.head, weights=-ref.head.weights), encoder="encoder-b", threshold=0.4)
    data = json.loads(json.dumps(to_file_dict([ref, other], reference=ref.encoder, about={"what": "test"})))
    b = LabelModel.from_dict(data, "encoder-b")
    assert (b.encoder, b.threshold) == ("encoder-b", 0.4)
    assert np.array_equal(b.head.weights, np.asarray(other.head.weights))
    for name in (None, ref.encoder, "all-MiniLM-L6-v2+onnx-another-recipe"):
        m = LabelModel.from_dict(data, name)
        assert m.encoder == ref.encoder and np.array_equal(m.head.weights, np.asarray(ref.head.weights))


def test_a_breadcrumb_trail_is_not_a_quote_and_not_a_claim():
    assert normalize_text("Home \u00bb Blog \u00bb Why We Dream") == "Home \u00bb Blog \u00bb Why We Dream"
    assert normalize_text("She said \u00abnever\u00bb twice.") == 'She said "never" twice.'
    kinds = dict(label_page_text("Home \u00bb Guides \u00bb Saving for College\n\n"
                                 "Tuition has risen faster than inflation for decades.\n"))
    assert kinds["Home \u00bb Guides \u00bb Saving for College"] != Kind.CLAIM
    assert kinds["Tuition has risen faster than inflation for decades."] == Kind.CLAIM


def test_a_caption_glued_to_the_next_sentence_is_cut_off_not_lost():
    text = ("A woman ties her running shoes on a park bench before sunriseRegular running lowers resting "
            "heart rate over a few months. It also improves sleep.")
    assert split_sentences(text)[:2] == ["A woman ties her running shoes on a park bench before sunrise",
                                         "Regular running lowers resting heart rate over a few months."]
    kinds = label_page_text(text)
    assert [k for _, k in kinds] == [Kind.OTHER, Kind.CLAIM, Kind.CLAIM]
    # words that merely hold a capital stay whole
    assert split_sentences("Update your iPhone and your JavaScript runtime today.") == [
        "Update your iPhone and your JavaScript runtime today."]


PAGE = """<html><head><title>Why knees ache in winter</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
 {"@type": "BlogPosting", "headline": "Why knees ache in winter", "author": {"@type": "Person", "name": "Ines Carvalho"},
  "reviewedBy": {"@type": "Person", "name": "Aaron Feld"}},
 {"@type": "BreadcrumbList", "itemListElement": [
   {"@type": "ListItem", "position": 1, "name": "Home"}, {"@type": "ListItem", "position": 2, "name": "Joint Health"},
   {"@type": "ListItem", "position": 3, "name": "Why knees ache in winter"}]}]}</script></head>
<body><main><article><h1>Why knees ache in winter</h1>
<div class="trail"><a href="/">Home</a> <a href="/joints/">Joint Health</a> <span>Why knees ache in winter</span></div>
<p>Reviewed for accuracy by Aaron Feld, PT, DPT.</p>
<p>Cold weather makes the fluid inside joints thicker, which can leave knees feeling stiff.
Muscles around the knee also tighten in the cold, so they absorb less of each step.</p>
<figure><img src="k.jpg" alt="A man stretching his leg on a snowy path"><figcaption>Stretching before a winter walk.</figcaption></figure>
<table><caption>Average morning stiffness by season</caption><tr><th>Season</th><th>Minutes</th></tr>
<tr><td>Winter</td><td>About 25 minutes for most people we surveyed</td></tr></table>
<p>Ines Carvalho writes about joint care and has coached runners for a decade. <a rel="author" href="/ines/">More from Ines Carvalho</a></p>
<p>Staying active through the winter keeps the muscles around the knee strong.</p>
</article></main></body></html>"""


def test_page_structure_keeps_furniture_out_of_claims():
    article = extract_article(PAGE, "https://knees.example/winter/")
    kinds = {s.text: s.kind for s in article.sentences}
    for furniture in ("Home Joint Health Why knees ache in winter", "Reviewed for accuracy by Aaron Feld, PT, DPT.",
                      "Stretching before a winter walk.", "Average morning stiffness by season", "Winter",
                      "About 25 minutes for most people we surveyed",
                      "Ines Carvalho writes about joint care and has coached runners for a decade."):
        assert kinds.get(furniture, Kind.OTHER) != Kind.CLAIM, furniture
    assert kinds["Staying active through the winter keeps the muscles around the knee strong."] == Kind.CLAIM
    assert kinds["Cold weather makes the fluid inside joints thicker, which can leave knees feeling stiff."] == Kind.CLAIM
    assert "Home Joint Health" not in article.text and "A man stretching" not in article.text


def test_plain_text_reading_gives_headings_list_items_and_leads():
    text = ("Winter Knee Care\n\nCommon triggers include:\n\u2022 Cold mornings\n\u2022 Long drives without a break\n\n"
            "Warming up for five minutes loosens stiff joints.\n")
    labelled = label_page_text(text)
    assert labelled[0] == ("Winter Knee Care", Kind.HEADING)
    kinds = dict(labelled)
    assert kinds["Cold mornings"] != Kind.CLAIM and kinds["Long drives without a break"] != Kind.CLAIM
    assert kinds["Warming up for five minutes loosens stiff joints."] == Kind.CLAIM


def test_label_sentences_without_vectors_uses_structure_and_cues_only():
    texts = ["Warming up for five minutes loosens stiff joints.", "Call our clinic today at (555) 301-2211.",
             "Keep reading to learn more.", "Knee Health Partners offers evening physiotherapy.", "Yes."]
    assert label_sentences(texts, ["Knee Health Partners"]) == [Kind.CLAIM, Kind.PROMO, Kind.OTHER, Kind.PROMO,
                                                                 Kind.OTHER]


def test_run_time_examples_override_their_exact_texts_without_vectors():
    notice = "Online booking will be unavailable on Sunday morning."
    assert label_sentences([notice]) == [Kind.CLAIM]  # rules alone do not know it
    model = shipped_model().with_examples([(notice, "other", sentence_features(notice))])
    assert label_sentences([notice, "Warming up loosens stiff joints."], model=model) == [Kind.OTHER, Kind.CLAIM]
    with pytest.raises(ValueError):
        shipped_model().with_examples([(notice, "maybe", sentence_features(notice))])


# --- the learned model (loads all-MiniLM-L6-v2) ------------------------------------------


@pytest.fixture(scope="module")
def embedder():
    from pipeline.dedupe.embed import default_embedder
    return default_embedder()


@pytest.fixture(scope="module")
def labels_benchmark():
    require_shared("gold/claims.json", "seeds", "claims-dev/claims.json", "claims-dev/pages")
    return load_benchmark("claim_labels")


@pytest.fixture(scope="module")
def cv_report(labels_benchmark):
    data = load_benchmark("_label_data")
    pages = {"partner": data.load_gold_pages(*data.PARTNER_GOLD, "partner"),
             "claims-dev": data.load_gold_pages(*data.DEV_GOLD, "claims-dev")}
    return labels_benchmark.evaluate(pages, data.load_own(), k=5, misses=False)


@pytest.mark.slow
def test_labels_on_sites_not_fitted_on(cv_report):
    """Leave-sites-out: each fold of claims-dev's 20 sites (and each of the partner gold's 4
    sites) is labelled by a model refitted without that fold's sentences, on our own
    sentences (benchmarks/data), the other gold and the gold's other folds, its C and claim
    threshold chosen inside those training sentences, all with the default encoder's
    vectors. The floors sit at or under the figures measured on 2026-12-07 (docs/labels.md):
    partner promotional 0.95 (20/21), gold claims kept 0.91-0.92 (105-106/115). Issue 16's floors on claims-dev: the next test."""
    partner = cv_report["partner"]["cv"]
    assert partner["promo_out"] >= 0.9, partner
    assert partner["gold_claims_kept"] >= 0.88, partner
    # without vectors (structure and cues alone) nothing is fitted: no gold claim is lost
    assert cv_report["claims-dev"]["rules"]["gold_claims_kept"] == 1.0
    assert cv_report["partner"]["rules"]["gold_claims_kept"] == 1.0


@pytest.mark.slow
def test_issue_16_floors_on_claims_dev(cv_report):
    """Issue 16's targets, held out (leave-sites-out) with the default encoder: promotional
    and not-claim sentences kept out of claims >= 0.9 each, gold claim sentences kept >=
    0.95. Measured 2026-12-07 (docs/labels.md) with torch and the float32 ONNX default (the
    same vectors): 0.90 (9/10), 0.95 (37/39), 0.965 (195/202). One promotional sentence is a
    tenth of that figure: the promotional floor is met with none to spare."""
    dev = cv_report["claims-dev"]["cv"]
    assert dev["promo_out"] >= 0.9 and dev["not_claims_out"] >= 0.9 and dev["gold_claims_kept"] >= 0.95, dev


@pytest.mark.slow
def test_labels_fitted_on_the_other_gold(cv_report):
    """Fitted without any sentence of claims-dev (our sentences and the partner gold),
    scored on claims-dev: weaker than leave-sites-out (issue 16's floors are not met this
    way). Floors under the figures measured on 2026-12-07 (docs/labels.md): ONNX
    promotional 0.70 (7/10), not-claims 0.82 (32/39), gold claims kept 0.975 (197/202);
    torch 0.80, 0.79 (31/39), 0.985."""
    dev = cv_report["claims-dev"]["xgold"]
    assert dev["promo_out"] >= 0.6 and dev["not_claims_out"] >= 0.7 and dev["gold_claims_kept"] >= 0.95, dev


@pytest.mark.slow
def test_a_small_vector_drift_changes_few_labels(labels_benchmark, embedder):
    """A drift of about 0.5% in the vectors (float noise, another CPU) changes few labels."""
    data = load_benchmark("_label_data")
    examples = [e for e in data.load_gold_pages(*data.DEV_GOLD, "claims-dev").examples if e.structural is None]
    vectors = data.vectors_of(examples, embedder)
    rng = np.random.default_rng(7)
    noise = rng.normal(size=vectors.shape).astype(np.float32)
    noise *= 0.005 * np.linalg.norm(vectors, axis=1, keepdims=True) / np.linalg.norm(noise, axis=1, keepdims=True)
    drifted = vectors + noise
    drifted /= np.linalg.norm(drifted, axis=1, keepdims=True)
    model = shipped_model(embedder.name)
    before = labels_benchmark.predict(model, examples, vectors)
    after = labels_benchmark.predict(model, examples, drifted)
    changed = sum(a != b for a, b in zip(before, after))
    assert changed <= max(2, 0.02 * len(examples)), f"{changed} of {len(examples)} labels changed"


# our own furniture, absent from the training data: what an editor would answer "not a claim" for
EDITOR_HIDDEN = ["Registration for the spring workshop series closes on March 3.",
                 "The front desk is staffed from 7 a.m. until 9 p.m. on weekdays."]
NEAR = ["Registration for the autumn workshop series closes on October 3."]
CLAIMS = ["Cold weather makes the fluid inside joints thicker, which can leave knees feeling stiff.",
          "Staying active through the winter keeps the muscles around the knee strong.",
          "Regular strength training lowers the risk of falls in older adults."]


@pytest.mark.slow
def test_editor_examples_teach_the_model_at_run_time(embedder):
    base = shipped_model(embedder.name)
    feats = [sentence_features(t) for t in EDITOR_HIDDEN]
    model = base.with_examples([(t, "other", f) for t, f in zip(EDITOR_HIDDEN, feats)],
                               vectors=embedder.encode(EDITOR_HIDDEN))
    assert isinstance(model, LabelModel) and model is not base
    assert label_sentences(EDITOR_HIDDEN + NEAR, embedder=embedder, model=model) == [Kind.OTHER] * 3
    assert label_sentences(CLAIMS, embedder=embedder, model=model) == [Kind.CLAIM] * len(CLAIMS)
    labeller = SentenceLabeller(model=model, embedder=embedder)
    article = extract_article(f"<html><body><article><p>{NEAR[0]} {CLAIMS[2]}</p></article></body></html>",
                              "https://knees.example/news/", labeller=labeller)
    assert [s.kind for s in article.sentences] == [Kind.OTHER, Kind.CLAIM]


@pytest.mark.slow
def test_the_training_script_regenerates_the_shipped_model():
    require_shared("gold/claims.json", "seeds", "claims-dev/claims.json")
    train = load_benchmark("train_labels")
    shipped = json.loads(train.TARGET.read_text("utf-8"))
    rebuilt = train.build()
    assert rebuilt["about"] == shipped["about"] and rebuilt["reference"] == shipped["reference"]
    assert set(rebuilt["encoders"]) == set(shipped["encoders"]) == set(shipped_encoders())
    for name, entry in rebuilt["encoders"].items():
        same = shipped["encoders"][name]
        assert (entry["C"], entry["threshold"]) == (same["C"], same["threshold"]), name
    assert train.max_weight_difference(rebuilt, shipped) <= 1e-3


# the page furniture of the demo's sample sites (demo/sites, our own fictional centers)
DEMO_FURNITURE = [
    "Medically reviewed by Priya Okonkwo, MD, on November 16, 2026.",
    "Home » Journal » Why Your Sleep Feels Broken After You Quit Drinking",
    "Home Blog Can You Actually Sleep Without a Drink",
    "Written by Rowan Pell · Reviewed by Lena Marsh, LCSW",
    "Medically reviewed by Owen Tadros, PsyD, on November 21, 2026",
    "Dana Whitcomb, RN, has worked on our detox unit since 2014 and writes for the Health Library.",
    "Our website is moving to a new booking system this week, so some pages may be slow to load until Friday.",
    "What many patients notice after their last drink (individual experiences vary)",
    "Difficulty falling asleep, night sweats, frequent waking",
    "Parking: Free parking is available in the upper lot after 6 p.m.",
    "Parking: Use the east lot.",
    "We hope to see you there!",
    "Where: Use the visitor entrance on Millrace Road and follow the signs to the Birch Room.",
    "When: Saturdays at 8:30 a.m., November 14 through February 27 (no walk on December 26)",
    "Check-in: A temporary reception desk is set up just inside the east doors.",
    "Please arrive a few minutes early to sign in at the front desk.",
    "“The first two weeks I got maybe four hours a night.",
    "Call us today at (555) 014-2231.",
]
DEMO_MAIN_POINT = (  # each partner's statement of its article's main point, as it begins
    "Alcohol can help you fall asleep faster", "Alcohol shortens the time it takes to fall asleep",
    "A drink or two might help you fall asleep sooner", "A nightcap may help you fall asleep quickly")


@pytest.mark.slow
def test_demo_furniture_never_becomes_a_claim(tmp_path):
    """The demo's own pages carry bylines and reviewer lines (JSON-LD, rel=author, plain
    text), breadcrumbs (text and JSON-LD), a table with its caption, a site notice, event
    logistics and a patient's quoted words. A real run (`syndicate demo`) keeps all of them
    out of the claims, and the four partners' statements of the main point stay claims."""
    from pipeline.cli import cli
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = CliRunner().invoke(cli, ["export", "mentions", "--db", str(out / "syndicate.sqlite")]).output
    mentions = [json.loads(line) for line in rows.splitlines()]
    by_display = {}
    for m in mentions:
        by_display.setdefault(m["display"], set()).add(m["kind"])
    for text in DEMO_FURNITURE:
        assert text in by_display, f"the demo no longer has: {text}"
        assert "claim" not in by_display[text], text
    main = [m for m in mentions if m["text"].startswith(DEMO_MAIN_POINT)]
    # Three of the four statements stay claims. Tidewell's ("A drink or two might help you
    # fall asleep sooner, but once it wears off ... you wake up and toss and turn.") is
    # labelled promotional by the shipped model with either encoder (the second person
    # throughout reads as a sales line): a known miss of the classifier, kept visible here
    # rather than rewritten out of the demo.
    kept = {m["site"] for m in main if m["kind"] == "claim"}
    assert kept >= {"alderbrook", "northmeadow", "quarrypine"}, kept
    digest = json.loads(next(out.glob("digest-*-W??.json")).read_text("utf-8"))
    shown = json.dumps(digest)
    for text in DEMO_FURNITURE:
        assert text not in shown, text


def test_sentence_context_defaults_describe_a_sentence_alone():
    ctx = SentenceContext()
    assert ctx.block == "p" and not ctx.next_list and not ctx.names_person
