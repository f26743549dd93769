"""Unit tests for pipeline.extract on small fixtures written for this project.

Fixtures live in tests/fixtures/extract/ and say in a header comment what they cover.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from fixtures.loaders import load_benchmark

from pipeline.extract import article_to_dict, extract_article, split_sentences
from pipeline.extract._labels import Partner, classify
from pipeline.extract._meta import parse_date
from pipeline.types import FeedEntry, Kind, Source

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "extract"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def texts(article, kind=None):
    return [s.text for s in article.sentences if kind is None or s.kind == kind]


# --- sentence splitting -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Dr. Lee saw the results. They were clear.", ["Dr. Lee saw the results.", "They were clear."]),
    ("Some foods, e.g. oats, help. Others do not.", ["Some foods, e.g. oats, help.", "Others do not."]),
    ("Use i.e. and etc. carefully. Fine.", ["Use i.e. and etc. carefully.", "Fine."]),
    ("The dose fell to 3.5 mg. It held.", ["The dose fell to 3.5 mg.", "It held."]),
    ("Call 770.555.0142 today. We answer.", ["Call 770.555.0142 today.", "We answer."]),
    ("Call (888) 555-0199. Lines are open.", ["Call (888) 555-0199.", "Lines are open."]),
    ("One point.\u00a0 Two points.  Three.", ["One point.", "Two points.", "Three."]),
    ("\u00a0Leading space. Then more.", ["Leading space.", "Then more."]),
    ("He said \u201cstop.\u201d Then left.", ["He said \u201cstop.\u201d", "Then left."]),
    ("Is it safe? Mostly! Yes.", ["Is it safe?", "Mostly!", "Yes."]),
    ("In the U.S. rates rose. Then fell.", ["In the U.S. rates rose.", "Then fell."]),
    ("First line\nSecond line", ["First line", "Second line"]),
    ("lowercase after stop. continues here", ["lowercase after stop. continues here"]),
])
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


# --- labels -----------------------------------------------------------------------------------

PARTNER = Partner.from_names(["Lakeside Care"])


@pytest.mark.parametrize("text, kind", [
    ("Sleep loss raises blood pressure over time.", Kind.CLAIM),
    ("At Lakeside Care, we tailor every plan.", Kind.PROMO),  # names the partner
    ("Lakeside offers evening groups.", Kind.PROMO),  # the distinctive part of the name
    ("Call us at (555) 201-3344.", Kind.PROMO),  # phone, contact verb
    ("Reach out today to learn how a plan can help.", Kind.PROMO),  # imperative call to action
    ("If this sounds familiar, contact our admissions team.", Kind.PROMO),
    ("We offer day and evening programs for adults.", Kind.PROMO),  # first-person plural offer
    ("If stress has taken over, we're here to support you.", Kind.PROMO),
    ("Our team of nurses is committed to your comfort.", Kind.PROMO),
    ("Support groups, like the ones we offer, help people stay sober.", Kind.CLAIM),  # "we" in a subclause
    ("If you or someone you love is struggling, know that help is available.", Kind.CLAIM),
    ("We know that poor sleep is common.", Kind.CLAIM),  # "we" without an offer
    ("To see how this works, keep reading.", Kind.OTHER),  # teaser
    ("Let's take a closer look at the evidence:", Kind.OTHER),
    ("For more about sleep see our previous post here.", Kind.OTHER),
    ("What happens during deep sleep?", Kind.QUESTION),
    ("Read More", Kind.OTHER),  # a fragment without a verb or final stop
    ("Yes.", Kind.OTHER),  # an answer particle states nothing on its own
    ("Not always.", Kind.OTHER),
    ("Naps can help.", Kind.CLAIM),  # three words can be a statement
])
def test_classify(text, kind):
    assert classify(text, block="p", partner=PARTNER) == kind


def test_classify_internal_service_links_make_a_pitch():
    from pipeline.extract._labels import LinkFact
    links = (LinkFact("day program", True, False), LinkFact("evening groups", True, False))
    assert classify("Options include a day program and evening groups.", block="p", partner=PARTNER,
                    links=links) == Kind.PROMO
    assert classify("Options include a day program and evening groups.", block="p", partner=PARTNER) == Kind.CLAIM


# --- dates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2026-11-17T02:30:00-0800", datetime(2026, 11, 17, 10, 30, tzinfo=timezone.utc)),  # no colon
    ("2026-11-16T09:00:00-05:00", datetime(2026, 11, 16, 14, 0, tzinfo=timezone.utc)),
    ("2026-11-18T14:00:00Z", datetime(2026, 11, 18, 14, 0, tzinfo=timezone.utc)),
    ("Wed, 18 Nov 2026 14:00:00 +0000", datetime(2026, 11, 18, 14, 0, tzinfo=timezone.utc)),
    ("November 19, 2026", datetime(2026, 11, 19, tzinfo=timezone.utc)),
    ("2026-11-19", datetime(2026, 11, 19, tzinfo=timezone.utc)),
    ("19 Nov 2026", datetime(2026, 11, 19, tzinfo=timezone.utc)),
    ("soon", None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


# --- a whole page: JSON-LD graph, FAQ twice, chrome -----------------------------------------------

URL = "https://lakeside.example/blog/why-sleep-matters/"


@pytest.fixture(scope="module")
def graph_page():
    return extract_article(load("graph_faq.html"), URL)


def test_metadata_from_jsonld_graph_with_id_references(graph_page):
    m = graph_page.meta
    assert m.title == "Why Sleep Matters After Exercise"
    assert m.author == "Pat Rivera"
    assert m.published == datetime(2025, 3, 4, 18, 15, tzinfo=timezone.utc)  # "-0800"
    assert m.updated == datetime(2025, 3, 5, 9, 0, tzinfo=timezone.utc)  # og article:modified_time
    assert m.canonical_url == URL  # relative canonical resolved
    assert m.language == "en-GB"


def test_faq_found_in_markup_and_jsonld_is_stored_once(graph_page):
    assert [(f.question, f.origin) for f in graph_page.faq] == [
        ("How long should I sleep after a hard workout?", "yoast"),
        ("Is a nap a good substitute?", "yoast"),
    ]
    assert graph_page.faq[0].answer.startswith("Most adults do well")
    # questions are questions, answers stay as sentences for the claim stage
    assert "Is a nap a good substitute?" in texts(graph_page, Kind.QUESTION)
    assert "A short nap helps, but it does not replace a full night." in texts(graph_page, Kind.CLAIM)


def test_chrome_is_left_out(graph_page):
    joined = " ".join(texts(graph_page))
    for chrome in ("Programs", "small files", "Ready for a plan", "Our coaches", "Book a call", "Share this",
                   "older post", "monthly letter", "Shore Road", "Pat Rivera"):
        assert chrome not in joined, chrome


def test_structure_headings_sections_labels(graph_page):
    s = {x.text: x for x in graph_page.sentences}
    assert graph_page.sentences[0].text == "Why Sleep Matters After Exercise"
    assert graph_page.sentences[0].kind == Kind.HEADING
    assert s["What the research says"].kind == Kind.HEADING
    timing = s["Timing: Going to bed at a regular hour keeps the body clock steady."]
    assert (timing.label, timing.block, timing.section) == ("Timing", "li", "What the research says")
    assert s["It also makes falling asleep easier."].label == "Timing"
    light = s["Light - Bright screens late in the evening delay the release of melatonin."]
    assert light.label == "Light"
    assert light.display == "Light \u2013 Bright screens late in the evening delay the release of melatonin."
    assert [x.position for x in graph_page.sentences] == list(range(len(graph_page.sentences)))


def test_site_name_from_page_marks_promo_without_a_source():
    html = load("graph_faq.html").replace(b"Extra rest helps after long sessions.</p></div>",
                                          b"Extra rest helps after long sessions. Lakeside Care offers sleep coaching.</p></div>")
    article = extract_article(html, URL)
    assert "Lakeside Care offers sleep coaching." in texts(article, Kind.PROMO)


# --- footnotes and citations --------------------------------------------------------------------

@pytest.fixture(scope="module")
def notes_page():
    return extract_article(load("footnotes.html"), "https://fieldnotes.example/blog/steps/")


def test_footnote_markers_resolved_and_removed(notes_page):
    s = {x.text: x for x in notes_page.sentences}
    first = s["Walking seven thousand steps a day was linked to lower mortality in a large cohort."]
    assert [(c.footnote, c.url, c.text) for c in first.citations] == [
        ("1", "https://example.org/cohort-study", "Cohort study of daily steps and mortality")]
    glued = s["The benefit levelled off above ten thousand steps in 2021."]  # typed "2021.2"
    assert [(c.footnote, c.url) for c in glued.citations] == [("2", "https://example.org/plateau-analysis")]
    assert s["Pace mattered less than the total count."].citations == ()
    assert [f.marker for f in notes_page.footnotes] == ["1", "2"]
    assert notes_page.footnotes[0].text == "Cohort study of daily steps and mortality"  # back-link dropped


def test_reference_list_is_not_sentences_and_inline_links_are_citations(notes_page):
    joined = " ".join(texts(notes_page))
    assert "Cohort study" not in joined and "References" not in joined
    assert "clinic hours" not in joined  # the alert banner
    guide = [x for x in notes_page.sentences if x.text.startswith("A public walking guide")][0]
    assert [(c.text, c.url, c.footnote) for c in guide.citations] == [
        ("public walking guide", "https://example.org/walking-guide", None)]


def test_visible_byline(notes_page):
    assert notes_page.meta.author == "Sam Okafor"
    assert notes_page.meta.published == datetime(2024, 5, 2, tzinfo=timezone.utc)
    assert notes_page.meta.title == "Counting Steps: What the Numbers Say"


# --- other FAQ markups ----------------------------------------------------------------------------

def test_faq_from_microdata_details_and_question_headings():
    article = extract_article(load("accordion_faq.html"), "https://knees.example/basics/")
    assert [(f.question, f.origin) for f in article.faq] == [
        ("Should I ice a sore knee?", "microdata"),
        ("Can running damage knees?", "details"),
        ("Do knee braces help?", "heading"),
        ("When should I see a doctor?", "heading"),
    ]
    assert article.faq[2].answer == "A brace can help some people feel steadier. It does not strengthen the muscles."
    assert "Why do knees ache?" not in [f.question for f in article.faq]
    assert article.meta.author == "Ana Lopes"
    assert "Ana Lopes" not in texts(article)


# --- fragments, feeds, selectors, encodings -----------------------------------------------------

def test_fragment_from_a_feed_with_feed_metadata():
    entry = FeedEntry(url="https://x.example/p/", guid="1", title="Walking and Mood", author="Kim Ye",
                      published=datetime(2025, 1, 2, 3, 4, tzinfo=timezone.utc), updated=None,
                      summary_html=None, content_html=None)
    fragment = ('<p>Walking outdoors lifts mood within minutes. The effect lasts for hours.</p>'
                '<img src="a.jpg" alt="A person walking"><h2>How much</h2><ul><li>Ten minutes is enough for most.</li></ul>'
                '<p><a class="btn" href="https://x.example/contact/">Talk to our team</a></p>')
    article = extract_article(fragment, "https://x.example/p/", feed_entry=entry)
    assert texts(article) == ["Walking outdoors lifts mood within minutes.", "The effect lasts for hours.",
                              "How much", "Ten minutes is enough for most."]
    assert (article.meta.title, article.meta.author) == ("Walking and Mood", "Kim Ye")
    assert article.meta.published == entry.published
    assert article.text.split("\n\n")[0] == "Walking outdoors lifts mood within minutes. The effect lasts for hours."


def test_source_selector_overrides_detection():
    html = ("<html><body><div class='big'><p>" + "Filler text about something else entirely, long. " * 20 +
            "</p></div><div id='real'><p>The short real article says one thing.</p></div></body></html>")
    detected = extract_article(html, "https://s.example/a/")
    assert "Filler text about something else entirely, long." in texts(detected)  # detection alone
    source = Source(id="s", name="S Health", homepage="https://s.example/", selectors=(("content", "div#real"),))
    chosen = extract_article(html, "https://s.example/a/", source=source)
    assert texts(chosen) == ["The short real article says one thing."]


def test_bytes_in_declared_and_undeclared_encodings():
    body = "<p>Caf\u00e9 visits \u2013 twice a week \u2014 help.</p>"
    latin = f"<html><head><meta charset='windows-1252'></head><body>{body}</body></html>".encode("cp1252")
    assert texts(extract_article(latin, "https://e.example/")) == ["Caf\u00e9 visits - twice a week - help."]
    wrong = f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>".encode("cp1252")
    out = texts(extract_article(wrong, "https://e.example/"))
    assert out and "\ufffd" not in out[0]
    bom = b"\xef\xbb\xbf" + f"<html><body>{body}</body></html>".encode()
    assert texts(extract_article(bom, "https://e.example/")) == ["Caf\u00e9 visits - twice a week - help."]


def test_empty_and_broken_input_do_not_raise():
    assert extract_article(b"", "https://e.example/").sentences == ()
    assert extract_article("<html><body><div><p>Unclosed", "https://e.example/").sentences[0].text == "Unclosed"


def test_article_to_dict_is_json_ready(graph_page):
    import json
    d = article_to_dict(graph_page)
    json.dumps(d)
    assert d["meta"]["published"] == "2025-03-04T18:15:00+00:00"
    s = d["sentences"][0]
    assert set(s) == {"position", "text", "display", "kind", "section", "label", "block", "citations"}
    assert d["faq"][0] == {"question": "How long should I sleep after a hard workout?",
                           "answer": "Most adults do well with seven to nine hours. Extra rest helps after long sessions.",
                           "position": 0, "origin": "yoast"}


@pytest.mark.parametrize("text, expected", [
    ("See No. 5 for details. Done.", ["See No. 5 for details.", "Done."]),
    ("The answer was no. Then we left.", ["The answer was no.", "Then we left."]),
    ("Prof. Ali and Mrs. Ng agreed. Good.", ["Prof. Ali and Mrs. Ng agreed.", "Good."]),
])
def test_split_sentences_abbreviation_context(text, expected):
    assert split_sentences(text) == expected


# --- generated chrome-heavy pages (the speed benchmark's corpus) ----------------------------------

def test_generated_layouts_extract_cleanly():
    """Four builder-style layouts (benchmarks/_pages.py): the article, its FAQ and footnotes
    come out; menus, sidebars, banners, CTA boxes, share bars and cookie notices do not."""
    pages = load_benchmark("_pages")
    chrome = ("Recent Posts", "cookies", "Subscribe", "Monthly tips", "Ready to Start", "is here for you",
              "Call now", "admissions team can help", "Call our team any time", "Talk to us", "Now enrolling",
              "All rights reserved", "Skip to content", "Staff Writer", "Facebook", "Get started", "Questions?")
    for url, html, facts in pages.make_pages(12, seed=3):
        article = extract_article(html, url)
        joined = " | ".join(texts(article))
        for c in chrome:
            assert c not in joined, (facts["layout"], c)
        assert article.sentences[0].text == facts["title"] and article.sentences[0].kind == Kind.HEADING
        assert len(article.faq) == facts["faq"]
        assert len(article.footnotes) == facts["footnotes"]
        assert sum(1 for s in article.sentences for c in s.citations if c.footnote) == facts["footnotes"]
        assert article.meta.author == "Staff Writer"
        assert [s.kind for s in article.sentences[-2:]] == [Kind.PROMO, Kind.PROMO] or facts["faq"]
        assert not any(s.text.startswith("Study ") for s in article.sentences)


def test_source_selectors_for_metadata():
    html = ("<html><body><div class='hdr'><span class='who'>Lee Park</span><span class='when'>3 March 2025</span></div>"
            "<article><p>Stretching daily keeps joints mobile, most studies find.</p></article></body></html>")
    source = Source(id="s", name="S Clinic", homepage="https://s.example/",
                    selectors=(("author", ".who"), ("published", ".when")))
    article = extract_article(html, "https://s.example/a/", source=source)
    assert article.meta.author == "Lee Park"
    assert article.meta.published == datetime(2025, 3, 3, tzinfo=timezone.utc)


def test_partner_name_parts_match_as_proper_nouns():
    partner = Partner.from_names(["The Harbor Village"])
    assert classify("Harbor Village offers a day program.", block="p", partner=partner) == Kind.PROMO
    assert classify("It takes a village to help a person recover.", block="p", partner=partner) == Kind.CLAIM
