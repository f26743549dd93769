"""The digest as an email: one multipart/alternative message (plain text first, HTML
second, the same items in both), written as an .eml file or sent over SMTP.

`--smtp smtp://host:587` sends with STARTTLS, which is required: a server that does not
offer it gets nothing, so the digest and any login never travel in clear text.
`smtps://host:465` uses TLS from the first byte. The login comes from the environment
(`SYNDICATE_SMTP_USER`, `SYNDICATE_SMTP_PASSWORD`), never from the command line, where
other users of the machine could read it; `SYNDICATE_SMTP_CAFILE` names extra trusted
certificates (a private relay's own CA). When sending fails, the message is kept as an .eml
file (`send_or_keep`), so the week's digest is not lost with the connection.
"""
from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Mapping, Sequence
from urllib.parse import urlsplit

from ..errors import ConfigError, OutputError, SyndicateError
from ..outfiles import atomic_write

USER_VAR, PASSWORD_VAR, CAFILE_VAR = "SYNDICATE_SMTP_USER", "SYNDICATE_SMTP_PASSWORD", "SYNDICATE_SMTP_CAFILE"


class DeliveryError(SyndicateError):
    """The SMTP server could not be reached or refused the message."""


def build_message(texts: Mapping[str, str], week: str, *, sender: str,
                  recipients: Sequence[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"Partner digest, week {week}"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "syndicate.invalid")
    msg.set_content(texts["txt"])
    msg.add_alternative(texts["html"], subtype="html")
    return msg


def write_eml(msg: EmailMessage, path: Path) -> Path:
    """The message as an .eml file (replaced atomically; `OutputError` when it cannot be)."""
    return atomic_write(path, bytes(msg))


def send_or_keep(msg: EmailMessage, smtp_url: str, eml_path: Path, *, env: Mapping[str, str] | None = None,
                 timeout: float = 30.0) -> None:
    """Send `msg`; when that fails, keep it as `eml_path` (to send by hand or later) and raise
    `DeliveryError` (or `ConfigError`) saying where it is."""
    try:
        send(msg, smtp_url, env=env, timeout=timeout)
    except (ConfigError, DeliveryError) as e:
        try:
            kept = write_eml(msg, eml_path)
        except OutputError as e2:
            raise type(e)(f"{e}; and the message could not be kept: {e2}") from e
        raise type(e)(f"{e}; the message is kept in {kept}") from e


def send(msg: EmailMessage, smtp_url: str, *, env: Mapping[str, str] | None = None, timeout: float = 30.0) -> None:
    env = os.environ if env is None else env
    parts = urlsplit(smtp_url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"--smtp must look like smtp://host:587 or smtps://host:465, not {smtp_url!r}")
    if parts.username or parts.password:
        raise ConfigError(f"put the SMTP login in {USER_VAR} and {PASSWORD_VAR}, not in the URL")
    context = ssl.create_default_context(cafile=env.get(CAFILE_VAR) or None)
    user, password = env.get(USER_VAR), env.get(PASSWORD_VAR)
    try:
        if parts.scheme == "smtps":
            client = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(parts.hostname, parts.port or 587, timeout=timeout)
        with client:
            client.ehlo()
            if parts.scheme == "smtp":
                if not client.has_extn("starttls"):
                    raise DeliveryError(f"{parts.hostname} does not offer STARTTLS; not sending in clear text")
                client.starttls(context=context)
                client.ehlo()
            if user:
                _login(client, user, password or "")
            refused = client.send_message(msg)
    except (smtplib.SMTPException, OSError) as e:
        raise DeliveryError(f"sending to {parts.hostname}: {e}") from e
    if refused:
        raise DeliveryError(f"recipients refused: {', '.join(sorted(refused))}")


def _login(client: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH PLAIN when offered (inside TLS by then), else smtplib's choice. smtplib's own
    `login` retries a refused password with every other mechanism the server lists, which
    counts against lockouts and, with some servers, waits for a timeout per mechanism."""
    if "plain" in client.esmtp_features.get("auth", "").lower().split():
        client.user, client.password = user, password
        client.auth("PLAIN", client.auth_plain)
    else:
        client.login(user, password)
