"""Page notes inside the article (credits, copyright, ad labels, date lines) and the
second opinion asked where our own extraction finds little."""
from __future__ import annotations

import pytest

from pipeline.extract import _article, extract_article
from pipeline.extract._notes import is_page_note
from pipeline.extract._second import SHORT_TEXT

PROSE = ("The river rose through the night and by morning the lower streets of the town were under water, "
         "so the council opened the school hall to the families who had to leave their homes. ")


@pytest.mark.parametrize("line", [
    "Foto: Jane Doe / Agency", "(Credit: Someone Else / Outlet)", "A harbour at dusk. | © Picture Desk",
    "Copyright 2020 by example.org", "Advertisement", "Anzeige", "23.10.2018", "opublikowano: 7 kwietnia 2021",
    "January 13, 2020 at 08:45 AM", "Abbildung 4: the layer under the snow",
])
def test_short_credit_ad_and_date_lines_are_page_notes(line):
    assert is_page_note(line)


@pytest.mark.parametrize("line", [
    PROSE.strip(),
    "The source of the leak was found on 12 March 2021, two weeks after the first complaint was filed.",
    "Advertising budgets fell sharply last year, as most firms cut spending on print and on television alike.",
    "Mixed results",
])
def test_prose_and_plain_labels_are_not_page_notes(line):
    assert not is_page_note(line)


def test_a_credit_line_between_paragraphs_is_dropped_but_a_list_of_dates_stays():
    paras = [f"<p>Part {i}. {PROSE * 2}</p>" for i in range(4)]
    html = (f"<html><body><article><h1>Flood</h1>{paras[0]}<p>Foto: Jane Doe / Agency</p>{paras[1]}"
            f"<p>Advertisement</p>{paras[2]}<ul><li>12.03.2021</li><li>19.03.2021</li></ul>{paras[3]}"
            "</article></body></html>")
    text = extract_article(html.encode(), "https://example.org/flood").text
    assert "Foto:" not in text and "Advertisement" not in text
    assert "12.03.2021" in text and all(f"Part {i}." in text for i in range(4))


def _page(body: str) -> bytes:
    return f"<html><head><title>The page title</title></head><body>{body}</body></html>".encode()


def test_a_short_extraction_asks_for_a_second_opinion_and_keeps_our_metadata(monkeypatch):
    calls = []

    def fake(html, url):
        calls.append(url)
        return f"<html><body><h2>Found elsewhere</h2><p>{PROSE * 3}</p></body></html>"
    monkeypatch.setattr(_article, "second_opinion", fake)
    article = extract_article(_page("<div><p>Only a teaser line here.</p></div>"), "https://example.org/a")
    assert calls == ["https://example.org/a"]
    assert article.text.count("The river rose") == 3 and "teaser" not in article.text
    assert article.meta.title == "The page title"
    assert any(s.kind.value == "heading" and s.text == "Found elsewhere" for s in article.sentences)


def test_a_long_extraction_is_not_second_guessed(monkeypatch):
    monkeypatch.setattr(_article, "second_opinion", lambda html, url: pytest.fail("asked for a second opinion"))
    article = extract_article(_page(f"<article><p>{PROSE * 5}</p></article>"), "https://example.org/b")
    assert len(article.text) >= SHORT_TEXT


def test_an_empty_second_opinion_keeps_our_own_short_text(monkeypatch):
    monkeypatch.setattr(_article, "second_opinion", lambda html, url: None)
    article = extract_article(_page("<div><p>Only a teaser line here, but it is ours.</p></div>"), "https://example.org/c")
    assert "it is ours" in article.text


def test_the_real_second_opinion_runs_on_a_short_page():
    article = extract_article(_page(f"<main><p>{PROSE}</p></main>"), "https://example.org/d")
    assert "The river rose" in article.text and article.meta.title == "The page title"


def test_a_second_opinion_not_much_longer_than_ours_is_not_taken(monkeypatch):
    ours = "Our own short text about the river, kept as it is."
    monkeypatch.setattr(_article, "second_opinion",
                        lambda html, url: f"<html><body><p>{ours} And a few more words.</p></body></html>")
    article = extract_article(_page(f"<main><p>{ours}</p></main>"), "https://example.org/e")
    assert article.text == ours


def test_a_closing_call_to_subscribe_or_log_in_is_dropped_but_not_in_the_body():
    paras = [f"<p>Part {i}. {PROSE * 2}</p>" for i in range(4)]
    middle = "<p>Readers who subscribe to the town's newsletter got the warning a day earlier than the others.</p>"
    html = (f"<html><body><article><h1>Flood</h1>{paras[0]}{middle}{paras[1]}{paras[2]}{paras[3]}"
            "<p>Subscribe to our newsletter and never miss a story!</p>"
            "<p>You must log in to post a comment.</p></article></body></html>")
    text = extract_article(html.encode(), "https://example.org/flood").text
    assert "Subscribe to our newsletter" not in text and "log in" not in text
    assert "got the warning a day earlier" in text and all(f"Part {i}." in text for i in range(4))


def test_a_cookie_or_affiliate_notice_at_the_ends_is_dropped():
    paras = [f"<p>Part {i}. {PROSE * 2}</p>" for i in range(5)]
    html = ("<html><body><article><h1>Flood</h1><p>This post contains affiliate links; we may earn a commission.</p>"
            + "".join(paras) + "<p>We use cookies to improve your experience.</p></article></body></html>")
    text = extract_article(html.encode(), "https://example.org/flood").text
    assert "affiliate" not in text and "cookies" not in text
    assert all(f"Part {i}." in text for i in range(5))
