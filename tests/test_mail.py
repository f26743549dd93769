"""Email delivery against a real SMTP server (aiosmtpd) on 127.0.0.1: STARTTLS with a
certificate the test makes, login from the environment, the received message parsed and
its text and HTML parts checked for the same items. A server without STARTTLS gets nothing."""
from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
from email import message_from_bytes, policy

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.publish.mail import CAFILE_VAR, PASSWORD_VAR, USER_VAR, DeliveryError, build_message, send

from test_publish import W47, at, publish

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd is in the test extra: pip install -e '.[test]'")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402


class Inbox:
    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.logins: list[tuple[bytes, bytes, bool]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            tls = session.ssl is not None
            self.logins.append((auth_data.login, auth_data.password, tls))
            ok = auth_data.login == b"editor" and auth_data.password == b"s3cret"
            return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535
        return AuthResult(success=False, handled=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed to make the SMTP server's test certificate")
        pytest.skip("openssl is absent: cannot make a certificate for the STARTTLS test")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


@pytest.fixture()
def smtp_server(certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), tls_context=context,
                            require_starttls=True, authenticator=inbox.authenticate, auth_require_tls=True)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{controller.port}", {USER_VAR: "editor", PASSWORD_VAR: "s3cret",
                                                          CAFILE_VAR: str(cert)}
    controller.stop()


def test_digest_is_sent_as_multipart_text_and_html_over_starttls(tmp_path, smtp_server):
    inbox, url, env = smtp_server
    out = publish(tmp_path)
    msg = build_message(out.texts, str(W47), sender="digest@example.org", recipients=["ed@example.org", "b@example.org"])
    send(msg, url, env=env)
    assert inbox.logins == [(b"editor", b"s3cret", True)]  # logged in, and only after STARTTLS
    ((rcpts, raw),) = inbox.messages
    assert rcpts == ["ed@example.org", "b@example.org"]
    received = message_from_bytes(raw, policy=policy.default)
    assert received["Subject"] == "Partner digest, week 2026-W47" and received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    items = list(out.digest.items())
    assert len(re.findall(r'data-item="', html)) == len(items)
    for item in items:
        assert item.url in text and item.url in html, item


def test_wrong_login_and_missing_starttls_send_nothing(tmp_path, smtp_server):
    inbox, url, env = smtp_server
    msg = build_message(publish(tmp_path).texts, "2026-W47", sender="d@example.org", recipients=["e@example.org"])
    with pytest.raises(DeliveryError):
        send(msg, url, env={**env, PASSWORD_VAR: "wrong"})
    plain = Controller(Inbox(), hostname="127.0.0.1", port=_free_port())  # no TLS offered
    plain.start()
    try:
        with pytest.raises(DeliveryError, match="STARTTLS"):
            send(msg, f"smtp://127.0.0.1:{plain.port}", env={})
        assert plain.handler.messages == []
    finally:
        plain.stop()
    assert inbox.messages == []


def test_cli_sends_or_writes_the_eml(tmp_path, db_url, smtp_server, monkeypatch):
    from pipeline.store import Store
    Store.open(db_url, create=True).close()
    inbox, url, env = smtp_server
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    args = ["digest", "--db", db_url, "--week", "2026-W47", "--out", str(tmp_path / "out"),
            "--email-to", "ed@example.org", "--smtp", url]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "sent to ed@example.org" in result.output and len(inbox.messages) == 1
    result = CliRunner().invoke(cli, args + ["--dry-run"])
    assert result.exit_code == 0 and len(inbox.messages) == 1
    eml = message_from_bytes((tmp_path / "out" / "digest-2026-W47.eml").read_bytes(), policy=policy.default)
    assert {p.get_content_type() for p in eml.walk()} >= {"text/plain", "text/html"}
    result = CliRunner().invoke(cli, args)  # the week was sent: a second send needs --resend
    assert result.exit_code == 1 and "already sent" in result.output and "--resend" in result.output
    assert len(inbox.messages) == 1
    monkeypatch.setenv(PASSWORD_VAR, "wrong")
    result = CliRunner().invoke(cli, args + ["--resend"])
    assert result.exit_code == 1 and "sending to 127.0.0.1" in result.output
    sends = Store.open(db_url).sends("2026-W47")  # every attempt recorded, the failure with its reason
    assert [(s.status, s.override) for s in sends] == [("failed", True), ("sent", False)]
    assert "sending to 127.0.0.1" in sends[0].error
    assert at(23)  # the rows' clock is the same as test_publish's
