"""The desk is safe by default (issue 19), checked over real HTTP on 127.0.0.1:

- a state-changing request without the session's CSRF token (or with another site's
  Origin) is refused and changes nothing; a request naming another Host is refused;
- a non-loopback address without SYNDICATE_DESK_PASSWORD does not start (non-zero exit);
  with a password, nothing but the sign-in page answers until the right one is given;
- a partner whose feed is ../shared/partners/bad/script-injection.xml (scripts, event
  handlers, javascript: and data: links, iframes, forms in its titles, author and body),
  with markup in its name too, renders inert in every desk page: no element, attribute or
  link but the desk's own, the markup shown as text."""
from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner

from fixtures.demo_db import NOW, WEEK, build_demo_db
from fixtures.desk_server import DeskServer, free_port
from fixtures.embedders import HashEmbedder
from fixtures.loaders import require_shared
from pipeline import Syndicate
from pipeline.cli import cli
from pipeline.demo import StaticSiteServer
from pipeline.desk import DeskSettings, settings_for
from pipeline.errors import ConfigError
from pipeline.publish.sanitize import DESK_TAGS, TAGS

HEAD_TAGS = {"html", "head", "meta", "title", "link", "script", "body"}
MARKUP_NAME = "Lakeside <script>alert('name')</script><img src=x onerror=alert('name')>"


def _session(client: httpx.Client, base: str, path: str = "/history") -> tuple[str, str]:
    """(cookie header, CSRF token) of a new session: the cookie is Secure, which a browser
    keeps for loopback over http; httpx's jar would not send it, so it is passed by hand."""
    page = client.get(base + path)
    assert page.status_code == 200, page.text
    cookie = page.headers["set-cookie"]
    assert "secure" in cookie.lower() and "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return cookie.split(";", 1)[0], token


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("desk-sec") / "built.sqlite"
    return build_demo_db(path)


@pytest.fixture()
def desk(demo_url, tmp_path):
    db = tmp_path / "s.sqlite"
    shutil.copy(demo_url[len("sqlite:///"):], db)
    syn = Syndicate(f"sqlite:///{db}", embedder=HashEmbedder(), now=lambda: NOW)
    with DeskServer(syn, DeskSettings(port=free_port(), editor="Ada")) as server:
        yield server, syn
    syn.close()


def test_a_change_without_the_csrf_token_is_refused(desk):
    server, syn = desk
    with httpx.Client(follow_redirects=False) as client:
        cookie, token = _session(client, server.base)
        url = f"{server.base}/week/{WEEK}/note"
        for data in ({"text": "forged"}, {"text": "forged", "csrf": "not-the-token"}):
            r = client.post(url, data=data, headers={"Cookie": cookie})
            assert r.status_code == 403 and "CSRF" in r.text
        r = client.post(url, data={"text": "forged"})  # no session at all
        assert r.status_code == 403
        r = client.post(url, data={"text": "forged", "csrf": token},
                        headers={"Cookie": cookie, "Origin": "http://evil.example"})
        assert r.status_code == 403 and "another site" in r.text
        assert syn.decisions() == []  # nothing was recorded
        r = client.post(url, data={"text": "The real note.", "csrf": token}, headers={"Cookie": cookie})
        assert r.status_code == 303 and syn.store().week_note(WEEK) == "The real note."
        # DNS rebinding: a page on another name cannot reach the desk
        r = client.get(server.base + "/history", headers={"Host": f"evil.example:{server.settings.port}"})
        assert r.status_code == 400
        assert client.get(server.base + "/history").headers["content-security-policy"].startswith("default-src 'none'")


def test_no_password_no_start_off_loopback(demo_url, monkeypatch):
    monkeypatch.delenv("SYNDICATE_DESK_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="SYNDICATE_DESK_PASSWORD"):
        settings_for("0.0.0.0", 8002, env={})
    for host in ("0.0.0.0", "192.0.2.10", "::"):
        result = CliRunner().invoke(cli, ["desk", "--db", demo_url, "--host", host])
        assert result.exit_code != 0 and "SYNDICATE_DESK_PASSWORD" in result.output, result.output
    assert settings_for("127.0.0.1", 8002, env={}).password is None
    assert settings_for("0.0.0.0", 8002, env={"SYNDICATE_DESK_PASSWORD": "long enough"}).password


def test_with_a_password_only_the_sign_in_answers(demo_url, tmp_path):
    db = tmp_path / "s.sqlite"
    shutil.copy(demo_url[len("sqlite:///"):], db)
    syn = Syndicate(f"sqlite:///{db}", embedder=HashEmbedder(), now=lambda: NOW)
    settings = DeskSettings(port=free_port(), password="correct horse")
    with DeskServer(syn, settings) as server, httpx.Client(follow_redirects=False) as client:
        r = client.get(server.base + "/history")
        assert r.status_code == 303 and r.headers["location"] == "/login"
        cookie, token = _session(client, server.base, "/login")
        r = client.post(server.base + "/login", data={"name": "Bo", "password": "wrong", "csrf": token},
                        headers={"Cookie": cookie})
        assert r.status_code == 303 and r.headers["location"] == "/login"
        r = client.post(server.base + "/login", data={"name": "Bo", "password": "correct horse", "csrf": token},
                        headers={"Cookie": cookie})
        assert r.status_code == 303 and r.headers["location"] == "/"
        signed_in = r.headers["set-cookie"].split(";", 1)[0]
        assert client.get(server.base + "/history", headers={"Cookie": signed_in}).status_code == 200
    syn.close()


class _Tags(HTMLParser):
    """Every element, attribute and link of a page that is not the page's own kind."""

    def __init__(self, allowed: set[str]):
        super().__init__()
        self.allowed = allowed
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.allowed:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.problems.append(f"{tag} {name}={value!r}")
            if name in ("href", "src", "action") and value is not None:
                if urlsplit(value).scheme not in ("", "http", "https"):
                    self.problems.append(f"{tag} {name}={value!r}")
        if tag == "script" and dict(attrs).get("src") != "/static/desk.js":
            self.problems.append(f"script {attrs!r}")


def test_partner_markup_is_inert_in_every_desk_page(tmp_path):
    shared = require_shared("partners/bad/script-injection.xml")
    root = tmp_path / "sites"
    shutil.copytree(shared / "partners" / "bad", root / "bad")
    sources = tmp_path / "sources"
    sources.mkdir()
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    with StaticSiteServer(root) as site:
        (sources / "lakeside.toml").write_text(
            f'name = "{MARKUP_NAME}"\nhomepage = "{site.base}/bad/"\n'
            f'feeds = ["{site.base}/bad/script-injection.xml"]\nallow_private = true\n', "utf-8")
        with Syndicate(db, sources, embedder=HashEmbedder(), now=lambda: NOW) as syn:
            syn.run()
            assert syn.counts().articles >= 1
    syn = Syndicate(db, embedder=HashEmbedder(), now=lambda: NOW)
    syn.set_week_note(WEEK, "<script>alert('note')</script> <a href=javascript:alert(1)>x</a>", by="<b>ed</b>")
    labels = [x for x in syn.topic_labels(WEEK) if x != "Other claims"]
    if labels:
        syn.rename_topic(WEEK, labels[0], "<img src=x onerror=alert('topic')>", by="<i>ed</i>")
    pages = [f"/week/{WEEK}", f"/week/{WEEK}?full=1", f"/week/{WEEK}/email.html", f"/send/{WEEK}", "/review",
             "/history", "/health"]
    seen_escaped = set()
    with DeskServer(syn, DeskSettings(port=free_port(), editor="<b>Ada</b>", week=WEEK)) as server, \
            httpx.Client(follow_redirects=False) as client:
        for path in pages:
            r = client.get(server.base + path)
            assert r.status_code == 200, (path, r.text[:300])
            # the email's HTML is the digest as sent (its own style, links relative to its folder)
            parser = _Tags(TAGS | HEAD_TAGS | {"style"} if path.endswith("email.html") else DESK_TAGS | HEAD_TAGS)
            parser.feed(r.text)
            assert parser.problems == [], (path, parser.problems)
            seen_escaped |= {m for m in ("&lt;script&gt;", "&lt;img", "&lt;b&gt;") if m in r.text}
    syn.close()
    assert {"&lt;script&gt;", "&lt;b&gt;"} <= seen_escaped  # the partner's and editors' markup shown as text
