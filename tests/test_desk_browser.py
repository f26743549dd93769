"""The editor's desk driven like an editor drives it: real headless Chromium (Debian's
chromium, over the DevTools pipe, tests/chromium.py) against the desk served by uvicorn on
127.0.0.1, on a database built from the demo sites over real HTTP, with a real SMTP server
(aiosmtpd, STARTTLS) on 127.0.0.1.

The editor answers review questions with the keyboard, one pair at a time (one of them
"not a claim", and undoes one), hides a sentence of the week as not a claim, renames a topic,
writes the week's note, lets another partner's wording lead a claim, previews the email
and sends it after the confirmation step; a second send is refused without the override.
Then the database, the next `syndicate digest` and the delivered email must all say what
the editor did. Every desk page at 375 and 1280 px: no sideways scroll, no script error;
screenshots are saved in the test's folder (and in $SYNDICATE_SCREENSHOTS when set).
Last, the desk with group questions (`syndicate desk --groups`): the editor ticks two
candidates of "which of these say the same as A?" and both merge.
"""
from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
from email import message_from_bytes, policy

import pytest
from click.testing import CliRunner

from chromium import Tab
from fixtures.demo_db import NOW, WEEK, build_demo_db
from fixtures.desk_server import DeskServer, free_port
from fixtures.embedders import HashEmbedder
from pipeline import Syndicate
from pipeline.cli import cli
from pipeline.desk import DeskSettings
from pipeline.publish.mail import CAFILE_VAR

pytestmark = pytest.mark.slow  # a browser, an SMTP server, the demo's partners over HTTP

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd is in the test extra: pip install -e '.[test]'")
from aiosmtpd.controller import Controller  # noqa: E402

PAGES = ("/week/" + WEEK, "/week/" + WEEK + "?full=1", "/review", "/send/" + WEEK, "/history", "/health")


class Inbox:
    def __init__(self):
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture()
def smtp(tmp_path, monkeypatch):
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed for the SMTP server's test certificate")
        pytest.skip("openssl is absent")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True)
    controller.start()
    monkeypatch.setenv(CAFILE_VAR, str(cert))
    yield inbox, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


# where the claims sections of a digest end (a sentence hidden as not a claim may still be
# part of an FAQ answer, or of a revision's changes: only claims leave)
_AFTER_CLAIMS = ('<section id="changed">', '<section id="questions">', '<section id="partners">', "WHAT CHANGED",
                 "QUESTIONS ANSWERED", "NEW ARTICLES", "## What changed", "## Questions answered", "## New articles")


def _claims_part(text: str) -> str:
    return text[:min([text.index(m) for m in _AFTER_CLAIMS if m in text] or [len(text)])]


def _flash(tab: Tab) -> str:
    return tab.js("[...document.querySelectorAll('.flash')].map(e => e.innerText).join(' | ')") or ""


def test_an_editor_reviews_curates_and_sends_the_week(chromium, smtp, tmp_path):
    inbox, smtp_url = smtp
    db = tmp_path / "syndicate.sqlite"
    url = build_demo_db(db)
    out = tmp_path / "out"
    syn = Syndicate(url, embedder=HashEmbedder(), now=lambda: NOW)
    settings = DeskSettings(port=free_port(), editor="Ada Editor", out=out, email_to=("editors@example.org",),
                            email_from="digest@example.org", smtp_url=smtp_url)
    shots = tmp_path / "shots"
    shots.mkdir()
    with DeskServer(syn, settings) as desk:
        tab = Tab(chromium, 1280)
        # --- review: five answers by keyboard, one pair at a time (one "not a claim"), one undone ------------
        tab.goto(desk.base + "/review")
        assert "answered here" in tab.text and "left" in tab.text and "expected gain" in tab.text
        given, hidden_text = [], None
        for number, key in enumerate(("y", "y", "u", "x", "s", "n", "n")):
            question = tab.js("(document.querySelector('[data-question]') || {}).dataset?.question")
            if key != "u":  # pair questions by default: one candidate, "do these two say the same?"
                assert tab.js("document.querySelector('[data-question]').dataset.items") == "1"
                assert "Which of these" not in tab.text
            if key == "x":  # side A is not a claim: tick it (key a), then x
                hidden_text = tab.js("document.querySelector('.side h2 + ul q').textContent")
                tab.press("a", loads=False)
                assert tab.js("document.querySelector('input[data-key=\"a\"]').checked")
            tab.press(key)
            assert tab.url == desk.base + "/review", tab.text[:300]
            if key == "y" and number == 0:
                assert "Merged into claim" in _flash(tab), _flash(tab)
            if key == "n":
                assert "Kept apart" in _flash(tab), _flash(tab)
            if key != "u":
                assert question, "no question to answer"
                given.append((question, {"n": "no", "y": "yes", "s": "skip", "x": "not-claim"}[key]))
            else:
                assert "Undone" in _flash(tab)
                given.pop()
        assert len(given) == 5
        assert tab.js("document.querySelector('[data-progress=answered]').textContent") == str(len(given))
        # --- this week: rename a topic, write the note, choose the leading wording ------------------------
        tab.goto(desk.base + "/week/" + WEEK)
        label = tab.js("document.querySelector('#topics h3').firstChild.textContent.trim()")
        tab.fill("#topics input[name=new_label]", "Editor's chosen topic")
        tab.click("#topics form.inline button")
        assert "is now" in _flash(tab), _flash(tab)
        tab.fill("#note-text", "A quiet week: read the sleep pieces first.")
        tab.click("#note button")
        assert "note is saved" in _flash(tab)
        # "not a claim" on a topic's sentence
        gone = tab.js("document.querySelector('#topics li[data-item] form[action$=\"/hide\"]')"
                      ".closest('li').firstChild.textContent.replace(/\\s*\u2014\\s*$/, '').trim()")
        tab.click("#topics li[data-item] form[action$='/hide'] button")
        assert "Hidden" in _flash(tab), _flash(tab)
        lead = tab.js("(() => { const f = document.querySelector('#merged li:nth-child(2) form[action$=\"/pin\"]');"
                      " return [f.claim_id.value, f.mention_id.value]; })()")
        tab.click("#merged li:nth-child(2) form[action$='/pin'] button")
        assert "leads with that wording" in _flash(tab)
        # --- send: preview, confirm, send; a second send is refused without the override ------------------
        tab.goto(desk.base + "/send/" + WEEK)
        assert "Editor's chosen topic" in tab.js("document.querySelector('pre.email-text').innerText")
        tab.click("#send")
        assert "Send the digest of" in tab.text and inbox.messages == []  # the confirmation step
        tab.click("#send-now")
        assert "Sent the digest" in _flash(tab), _flash(tab)
        assert len(inbox.messages) == 1
        tab.click("#send")
        tab.click("#send-now")  # without ticking "send it again"
        assert "already sent" in _flash(tab) and len(inbox.messages) == 1
        # --- every page at 375 and 1280 px ---------------------------------------------------------
        for width in (375, 1280):
            tab.resize(width)
            for path in PAGES:
                tab.goto(desk.base + path)
                assert tab.scroll_width() <= width, f"{path} scrolls sideways at {width} px"
                name = re.sub(r"\W+", "-", path.strip("/")) or "home"
                tab.screenshot(shots / f"desk-{name}-{width}.png")
        assert tab.errors == [], tab.errors
        tab.close()
    syn.close()
    if os.environ.get("SYNDICATE_SCREENSHOTS"):
        for shot in shots.iterdir():
            shutil.copy(shot, os.path.join(os.environ["SYNDICATE_SCREENSHOTS"], shot.name))

    # --- the database says what the editor did ------------------------------------------------------
    with Syndicate(url, now=lambda: NOW) as check:
        store = check.store()
        answers = store.review_answers()
        decisions = check.decisions(limit=50)
        kept = [d for d in reversed(decisions) if d.action == "review" and d.undone_at is None]
        assert [(d.details["question"], d.details["verdict"]) for d in kept] == given  # the undone "yes" is gone
        assert [a.verdict for a in answers].count("yes") == 1  # the second "yes" was undone
        assert "not-claim" in {a.verdict for a in answers}
        hidden = {h.text for h in check.hidden_mentions()}
        assert hidden_text in hidden and gone in hidden
        assert {d.action for d in decisions} >= {"review", "topic-rename", "note", "pin", "hide"}
        assert all(d.decided_by == "Ada Editor" for d in decisions)
        assert sum(1 for d in decisions if d.undone_at is not None) == 1
        assert check.get_claim(int(lead[0])).pinned_mention_id == int(lead[1])
        (sent,) = check.sends(WEEK)
        assert sent.status == "sent" and sent.sent_by == "Ada Editor" and sent.recipients == ("editors@example.org",)

    # --- the next `syndicate digest` and the delivered email say it too ---------------------------------
    result = CliRunner().invoke(cli, ["digest", "--db", url, "--week", WEEK, "--out", str(tmp_path / "next")])
    assert result.exit_code == 0, result.output
    for fmt in ("html", "txt", "md"):
        text = (tmp_path / "next" / f"digest-{WEEK}.{fmt}").read_text("utf-8")
        assert "Editor" in text and "chosen topic" in text and "A quiet week" in text, fmt
        assert f">{label} <" not in text
        assert gone not in _claims_part(text) and hidden_text not in _claims_part(text), fmt
    email = message_from_bytes(inbox.messages[0], policy=policy.default)
    html, txt = email.get_body(("html",)).get_content(), email.get_body(("plain",)).get_content()
    assert "Editor&#39;s chosen topic" in html or "Editor's chosen topic" in html
    assert "A quiet week: read the sleep pieces first." in txt and "FROM THE EDITOR" in txt
    assert "Editor's chosen topic" in txt
    assert gone not in _claims_part(txt) and hidden_text not in _claims_part(txt)

    # --- the desk with group questions (`syndicate desk --groups`), on a fresh demo database, whose
    # first question is then a group one: tick two candidates ---------------------------------------------
    fresh = build_demo_db(tmp_path / "groups.sqlite")
    with Syndicate(fresh, embedder=HashEmbedder(), now=lambda: NOW) as syn:
        before = [a.verdict for a in syn.store().review_answers()].count("yes")
        with DeskServer(syn, DeskSettings(port=free_port(), editor="Ada Editor", groups=True)) as desk:
            tab = Tab(chromium, 1280)
            tab.goto(desk.base + "/review")
            assert int(tab.js("document.querySelector('[data-question]').dataset.items")) > 2, tab.text[:300]
            assert "Which of these" in tab.text
            for tick in ("1", "2"):
                tab.press(tick, loads=False)
            assert tab.js("[...document.querySelectorAll('input[name=same]')].filter(b => b.checked).length") == 2
            tab.press("c")
            assert "Merged into claim" in _flash(tab) and "Kept apart" in _flash(tab), _flash(tab)
            assert tab.errors == [], tab.errors
            tab.close()
        assert [a.verdict for a in syn.store().review_answers()].count("yes") == before + 2
