"""Extraction on layouts nobody tuned for (issue 10), on small pages written for this test:
link lists that must not win, text outside <p>, class words as whole tokens, hidden and
duplicate copies, teaser boxes, the title apart from the text; and the labels of sentences
that cannot stand alone as claims."""
from __future__ import annotations

import pytest

from pipeline.extract import extract_article
from pipeline.extract._labels import Partner, classify, leans_on_previous
from pipeline.types import Kind

PROSE = [
    "Walking after meals lowers blood sugar, according to several small trials in adults.",
    "The effect is strongest when the walk starts within half an hour of eating, the studies found.",
    "Ten minutes at an easy pace was enough for most people, even without other changes.",
    "Longer walks helped more, but the gain from each extra minute became smaller over time.",
]


def page(body: str, head: str = "") -> str:
    return f"<html><head><title>Walking after meals</title>{head}</head><body>{body}</body></html>"


def menu(n: int = 40) -> str:
    items = "".join(f'<li><a href="/topic/{i}/">Topic number {i} with a long descriptive name</a></li>' for i in range(n))
    return f'<div class="top"><ul>{items}</ul></div>'


def text_of(html: str) -> str:
    return extract_article(html, "https://e.example/post/").text


def test_a_long_menu_does_not_outweigh_a_short_article():
    html = page(menu(60) + "<div class='post'>" + "".join(f"<p>{p}</p>" for p in PROSE[:2]) + "</div>")
    text = text_of(html)
    assert PROSE[0] in text and PROSE[1] in text
    assert "Topic number" not in text


def test_text_between_line_breaks_and_bare_div_text_counts():
    html = page(menu(20) + "<div class='x'>" + "<br><br>".join(PROSE) + "</div>"
                + "<div class='y'>" + PROSE[0].replace("Walking", "Cycling") + "<p>Short line.</p></div>")
    text = text_of(html)
    for p in PROSE:
        assert p in text


@pytest.mark.parametrize("wrapper", ["modal-enabled", "layout-right-sidebar", "has-sidebar", "page--with-nav"])
def test_class_words_are_whole_tokens_not_substrings(wrapper):
    html = page(f"<div class='{wrapper}'><article>" + "".join(f"<p>{p}</p>" for p in PROSE) + "</article>"
                "<div class='sidebar'><p>Sidebar text about something else entirely, with commas, and more.</p></div></div>")
    text = text_of(html)
    assert PROSE[0] in text and PROSE[3] in text
    assert "Sidebar text" not in text


def test_hidden_and_duplicate_copies_are_not_added():
    ld = '<script type="application/ld+json">{"@type": "Article", "articleBody": "%s"}</script>' % " ".join(PROSE)
    html = page("<article>" + "".join(f"<p>{p}</p>" for p in PROSE) + "</article>"
                + "<div style='display:none'><p>" + PROSE[0] + "</p></div><noscript><p>" + PROSE[1] + "</p></noscript>",
                head=ld)
    text = text_of(html)
    assert text.count(PROSE[0]) == 1 and text.count(PROSE[1]) == 1


def test_title_is_metadata_not_the_first_line():
    html = page("<article><h1>Walking after meals</h1>" + "".join(f"<p>{p}</p>" for p in PROSE) + "</article>")
    article = extract_article(html, "https://e.example/post/")
    assert article.meta.title == "Walking after meals"
    assert not article.text.startswith("Walking after meals\n")
    assert article.text.startswith(PROSE[0])


def test_teasers_and_read_also_boxes_are_dropped():
    teasers = "".join(f'<div class="card"><h3><a href="/other-{i}/">Another story number {i}</a></h3>'
                      f"<p>A short teaser line for story {i}.</p></div>" for i in range(4))
    box = ('<div class="box"><h4>Read also</h4><ul>'
           + "".join(f'<li><a href="/p{i}/">Post title {i} here</a></li>' for i in range(5)) + "</ul></div>")
    html = page("<article>" + "".join(f"<p>{p}</p>" for p in PROSE[:2]) + box + "".join(f"<p>{p}</p>" for p in PROSE[2:])
                + "<div class='more'><h2>More stories</h2>" + teasers + "</div></article>")
    text = text_of(html)
    assert all(p in text for p in PROSE)
    for leak in ("Read also", "Post title", "Another story", "short teaser", "More stories"):
        assert leak not in text


def test_link_only_lines_and_trailing_labels_go():
    html = page("<article>" + "".join(f"<p>{p}</p>" for p in PROSE)
                + '<p>Tags: <a href="/t/a">walking</a>, <a href="/t/b">sugar</a>, <a href="/t/c">health</a></p>'
                + "<div>Most read</div></article>")
    text = text_of(html)
    assert text.rstrip().endswith(PROSE[-1])


def test_quotes_and_dashes_stay_as_the_page_wrote_them():
    html = page("<article><p>\u201eZehn Minuten reichen\u201c \u2014 sagt die Studie, und \u00abdas\u00bb zeigt es deutlich.</p>"
                + "".join(f"<p>{p}</p>" for p in PROSE) + "</article>")
    assert "\u201eZehn Minuten reichen\u201c \u2014 sagt" in text_of(html)


# --- labels -----------------------------------------------------------------------------------

NOBODY = Partner.from_names([])


@pytest.mark.parametrize("sentence", [
    "That is why a night of drinking can leave you worn out the next day.",
    "It is usually delivered over four to eight weekly sessions.",
    "They can be unsettling, but they are a normal part of the process.",
])
def test_sentences_that_lean_on_their_predecessor_stay_claims(sentence):
    """Both golds count such sentences as claims ("They are responsible for...", "It is
    characterized by..." are gold claim sentences in ../shared/claims-dev): leaning on the
    sentence before is no reason to leave a statement out. Rhetorical fragments ("None of
    these are magic.") are the learned model's to judge (tests/test_labels.py)."""
    assert leans_on_previous(sentence.lower())
    assert classify(sentence, block="p", partner=NOBODY) == Kind.CLAIM


@pytest.mark.parametrize("sentence", [
    "It travels quickly through the bloodstream, leaving a warm and drowsy feeling.",
    "These proteins are part of the body's stress response.",
    "This pattern keeps the heart rate up for most of the night.",
    "But while the number of smokers is falling, vaping is now common among teenagers.",
    "There are three stages of sleep that repeat through the night.",
])
def test_sentences_that_name_their_subject_stay_claims(sentence):
    assert classify(sentence, block="p", partner=NOBODY) == Kind.CLAIM


def test_answer_particles_behind_a_label_are_other():
    assert classify("Short answer: yes.", block="p", partner=NOBODY) == Kind.OTHER
    assert classify("Longer answer: it takes a little time to settle.", block="p", partner=NOBODY) == Kind.CLAIM


def test_a_bold_lead_in_is_a_heading_not_a_claim():
    html = page("<article>" + "".join(f"<p>{p}</p>" for p in PROSE)
                + "<ul><li><strong>Make your room a cave.</strong> A cool, dark, quiet bedroom makes it easier to stay asleep.</li>"
                + "<li><strong>Move early.</strong> Exercise earlier in the day can help you fall asleep at night.</li></ul>"
                + "<p><b>Anchor your mornings.</b> Getting up at the same time every day steadies the body clock.</p></article>")
    kinds = {s.text: s.kind for s in extract_article(html, "https://e.example/post/").sentences}
    assert kinds["Make your room a cave."] == Kind.HEADING
    assert kinds["Move early."] == Kind.HEADING
    assert kinds["Anchor your mornings."] == Kind.HEADING
    assert kinds["A cool, dark, quiet bedroom makes it easier to stay asleep."] == Kind.CLAIM


def test_a_repeated_paragraph_is_read_once():
    html = page("<article>" + "".join(f"<p>{p}</p>" for p in PROSE) + f"<div class='mobile'><p>{PROSE[1]}</p></div></article>")
    article = extract_article(html, "https://e.example/post/")
    assert article.text.count(PROSE[1]) == 1
    assert sum(1 for s in article.sentences if s.text == PROSE[1]) == 1


def test_declared_utf8_with_a_stray_byte_stays_utf8():
    body = "<article>" + "".join(f"<p>{p} Gr\u00fc\u00dfe aus K\u00f6ln.</p>" for p in PROSE) + "</article>"
    data = page(body, head='<meta charset="utf-8">').encode("utf-8").replace(b"</article>", b"\xff</article>")
    text = extract_article(data, "https://e.example/post/").text
    assert "Gr\u00fc\u00dfe aus K\u00f6ln." in text


def test_an_h1_before_any_paragraph_is_the_title_not_text():
    html = page("<article><h1><span>Topic</span> A headline unlike the title tag</h1>"
                + "".join(f"<p>{p}</p>" for p in PROSE) + "</article>")
    assert extract_article(html, "https://e.example/post/").text.startswith(PROSE[0])
