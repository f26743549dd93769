"""`syndicate desk`: the editor's web app (pipeline/desk), started from the command line.

Glue only: the options become `desk.DeskSettings` (which refuses a non-loopback address
without a password) and `desk.serve` runs it over the library API.
"""
from __future__ import annotations

from pathlib import Path

import click

from .cli_base import _Exit, _api, _open, db_option
from .core import DEFAULT_SENDER
from .errors import ConfigError


@click.command("desk")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs SYNDICATE_DESK_PASSWORD (and HTTPS).")
@click.option("--port", type=int, default=8002, show_default=True, help="Port to listen on.")
@click.option("--week", default="last", show_default=True, help="The week the desk opens on (last, this, 2026-W47).")
@click.option("--editor", metavar="NAME", help="Your name in the decision history on loopback "
                                                "[default: the system user; with a password, asked at sign-in].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where a sent digest is written (as `syndicate digest --out`); needed to send.")
@click.option("--base-url", metavar="URL", help="Where --out is published (links in the email).")
@click.option("--email-to", multiple=True, metavar="ADDR", help="Recipient of the digest (repeatable); needed to send.")
@click.option("--email-from", default=DEFAULT_SENDER, show_default=True, metavar="ADDR", help="Sender address.")
@click.option("--smtp", "smtp_url", envvar="SYNDICATE_SMTP", metavar="URL",
              help="SMTP server, smtp://host:587 (STARTTLS) or smtps://host:465; login from SYNDICATE_SMTP_USER "
                   "and SYNDICATE_SMTP_PASSWORD [env SYNDICATE_SMTP]; needed to send.")
@click.option("--groups", is_flag=True,
              help="The review also asks group questions (\"which of these say the same as A?\", checkboxes); "
                   "default: one pair at a time, which gave more recall per item judged.")
@click.option("--ssl-certfile", type=click.Path(dir_okay=False, exists=True), help="Serve HTTPS with this certificate.")
@click.option("--ssl-keyfile", type=click.Path(dir_okay=False, exists=True), help="The certificate's private key.")
def desk(db: str | None, host: str, port: int, week: str, editor: str | None, out_dir: Path | None,
         base_url: str | None, email_to: tuple[str, ...], email_from: str, smtp_url: str | None,
         groups: bool, ssl_certfile: str | None, ssl_keyfile: str | None) -> None:
    """The editor's desk in the browser: this week's digest as it will be sent, with
    actions on each item (lead with a partner's wording, split a member off, rename or
    merge a topic, the week's note, not a claim), the review queue one question at a time
    (one pair at a time, keys y / n / s, x for not a claim, u to undo; with --groups also
    "which of these say the same?" with checkboxes), the
    email's preview and its sending (recorded per week; a second send needs an override),
    partner health (failed and degraded partners, and why), and every decision with its undo.

    Serves 127.0.0.1 unless told otherwise; another --host needs a password in
    SYNDICATE_DESK_PASSWORD and refuses to start without one. Sessions use Secure cookies,
    so off loopback serve it over HTTPS (--ssl-certfile/--ssl-keyfile, or a proxy).

    \b
    Examples:
      syndicate desk --db db/syndicate.sqlite            # then open http://127.0.0.1:8002/
      syndicate desk --out /srv/www/digest --base-url https://example.org/digest \\
          --email-to editors@example.org --smtp smtp://mail.example.org:587
      SYNDICATE_DESK_PASSWORD=... syndicate desk --host 0.0.0.0 --ssl-certfile cert.pem --ssl-keyfile key.pem
    """
    try:
        from .desk import serve, settings_for
    except ImportError as e:
        raise click.ClickException(f"the desk needs its extra: pip install 'syndicate[desk]' ({e})") from e
    if base_url and not base_url.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http(s) URL", param_hint="--base-url")
    try:
        settings = settings_for(host, port, editor=editor, out=out_dir, base_url=base_url, email_to=email_to,
                                email_from=email_from, smtp_url=smtp_url, week=week, groups=groups)
    except ConfigError as e:
        raise _Exit(str(e)) from e
    syn = _open(db)
    with _api():
        syn.week(week)
    scheme = "https" if ssl_certfile else "http"
    click.echo(f"the editor's desk: {scheme}://{host if ':' not in host else f'[{host}]'}:{port}/ (Ctrl-C stops it)")
    serve(syn, settings, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
